//! PDF transcript rendering speed, size and memory.
//!
//! Run with `cargo bench --bench pdf`. Builds a 2,000-message transcript of
//! Portuguese sentences of varying length (with notes, timeline events and
//! attachments), renders it 20 times and prints one line:
//!
//! `pdf 2000 msgs: p50 X ms, max Y ms, size Z KB, VmHWM before A MB after B MB`
//!
//! VmHWM is the peak resident set size of this process, read from /proc.

use std::hint::black_box;
use std::time::Instant;

use atende::pdf::{Entry, Transcript, render};

const MESSAGES: usize = 2_000;
const RUNS: usize = 20;

const SENTENCES: &[&str] = &[
    "Olá, bom dia!",
    "Recebi a cobrança em duplicidade no cartão e gostaria de entender o que aconteceu.",
    "Claro, vou verificar a situação do seu pedido agora mesmo.",
    "A nota fiscal não chegou no meu e-mail, vocês podem reenviar?",
    "Conceição, a entrega está prevista para amanhã à tarde, entre 13h e 18h.",
    "Obrigado pela paciência; a ação de estorno já foi solicitada ao financeiro.",
    "O produto veio com a embalagem danificada e uma peça faltando. Segue a foto em anexo para conferência.",
    "Perfeito.",
    "Você pode confirmar o endereço de entrega? Rua das Acácias, 123, apartamento 45, São Paulo.",
    "Não consegui acessar a área do cliente depois da troca de senha; aparece uma mensagem de erro genérica.",
    "Entendo a frustração. Já abri um chamado com a equipe técnica e retorno assim que tiver novidades, tudo bem?",
    "Sim, pode ser.",
    "Gostaria de cancelar a assinatura mensal a partir do próximo mês, sem multa, conforme o contrato informa.",
    "A promoção é válida até sexta-feira e inclui frete grátis para todo o Brasil em compras acima de R$ 150,00.",
];

const NOTES: &[&str] = &[
    "Cliente já ligou duas vezes sobre o mesmo assunto.",
    "Verificar com o financeiro se o estorno foi processado antes de responder.",
    "Prioridade alta: cliente corporativo.",
];

/// A small deterministic generator, so every run renders the same document.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn transcript() -> Transcript {
    let mut rng = Lcg(7);
    let mut entries = Vec::with_capacity(MESSAGES);
    for i in 0..MESSAGES {
        let (h, m) = (8 + i / 60 % 10, i % 60);
        let who = if i % 3 == 0 { "Maria Conceição" } else { "Ana Souza" };
        let meta = format!("{who} · 21/11/2026 {h:02}:{m:02}");
        let e = if i % 97 == 0 {
            Entry { meta: format!("Conversa transferida · Ana · {h:02}:{m:02}"), system: true, ..Default::default() }
        } else if i % 23 == 0 {
            Entry { meta, body: NOTES[rng.next(NOTES.len())].to_string(), note: true, ..Default::default() }
        } else {
            let parts = 1 + rng.next(4);
            let body = (0..parts).map(|_| SENTENCES[rng.next(SENTENCES.len())]).collect::<Vec<_>>().join(" ");
            let body = if i % 11 == 0 { format!("{body}\n\n{}", SENTENCES[rng.next(SENTENCES.len())]) } else { body };
            let attachments =
                if i % 17 == 0 { vec![format!("comprovante-{i}.pdf"), "foto da embalagem.jpg".into()] } else { vec![] };
            Entry { meta, body, attachments, ..Default::default() }
        };
        entries.push(e);
    }
    Transcript {
        title: "Atendimento #12".into(),
        header: vec![
            ("Empresa".into(), "Loja Aurora".into()),
            ("Contato".into(), "Maria Conceição · +55 11 98765-4321".into()),
            ("Fila".into(), "Financeiro".into()),
            ("Atendentes".into(), "Ana Souza, João Pereira".into()),
            ("Início".into(), "21/11/2026 08:00".into()),
            ("Fim".into(), "21/11/2026 17:59".into()),
        ],
        note_label: "Nota interna".into(),
        attachment_label: "Anexo".into(),
        footer: "Página {page} de {pages}".into(),
        entries,
    }
}

/// Peak resident set size in MB, from /proc/self/status (0 if unreadable).
fn vm_hwm_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let t = transcript();
    let before = vm_hwm_mb();
    let mut times = Vec::with_capacity(RUNS);
    let mut size = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let pdf = match render(black_box(&t)) {
            Ok(pdf) => pdf,
            Err(e) => {
                eprintln!("pdf: render failed: {e}");
                std::process::exit(1);
            }
        };
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        size = pdf.len();
        black_box(pdf);
    }
    let after = vm_hwm_mb();
    times.sort_by(f64::total_cmp);
    let p50 = times[times.len() / 2];
    let max = times[times.len() - 1];
    println!(
        "pdf {MESSAGES} msgs: p50 {p50:.1} ms, max {max:.1} ms, size {} KB, VmHWM before {before:.1} MB after {after:.1} MB",
        size / 1024
    );
}
