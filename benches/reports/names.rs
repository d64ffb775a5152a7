//! Brazilian names, phones, e-mails and the texts of the seeded history, and
//! the small deterministic random generator the seed draws from.

pub const FIRST: [&str; 40] = [
    "Ana",
    "Beatriz",
    "Bruno",
    "Camila",
    "Carla",
    "Carlos",
    "Daniel",
    "Débora",
    "Eduardo",
    "Fernanda",
    "Felipe",
    "Gabriel",
    "Gabriela",
    "Gustavo",
    "Helena",
    "Igor",
    "Isabela",
    "João",
    "Juliana",
    "Larissa",
    "Leonardo",
    "Letícia",
    "Lucas",
    "Luana",
    "Marcelo",
    "Mariana",
    "Mateus",
    "Natália",
    "Paulo",
    "Patrícia",
    "Rafael",
    "Renata",
    "Ricardo",
    "Rodrigo",
    "Sabrina",
    "Thiago",
    "Vanessa",
    "Vinícius",
    "Wesley",
    "Yasmin",
];

pub const SURNAMES: [&str; 30] = [
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Rodrigues",
    "Ferreira",
    "Alves",
    "Pereira",
    "Lima",
    "Gomes",
    "Costa",
    "Ribeiro",
    "Martins",
    "Carvalho",
    "Almeida",
    "Lopes",
    "Soares",
    "Fernandes",
    "Vieira",
    "Barbosa",
    "Rocha",
    "Dias",
    "Nascimento",
    "Andrade",
    "Moreira",
    "Nunes",
    "Marques",
    "Machado",
    "Mendes",
    "Freitas",
];

/// Area codes (DDD) of the bigger Brazilian cities.
const DDD: [u32; 14] = [11, 21, 31, 41, 51, 61, 71, 81, 85, 19, 27, 48, 62, 92];

const DOMAINS: [&str; 5] = ["gmail.com", "hotmail.com", "outlook.com", "yahoo.com.br", "uol.com.br"];

pub const TEAMS: [&str; 10] = [
    "Atendimento Geral",
    "Financeiro",
    "Suporte Técnico",
    "Vendas",
    "Pós-venda",
    "Logística",
    "Cobrança",
    "Ouvidoria",
    "Varejo",
    "Empresas",
];

/// Share of the conversations each team receives.
pub const TEAM_WEIGHT: [f64; 10] = [0.22, 0.12, 0.14, 0.12, 0.09, 0.08, 0.07, 0.04, 0.07, 0.05];

/// The three channels and their share of the conversations.
pub const CHANNELS: [(&str, &str, f64); 3] =
    [("whatsapp", "WhatsApp", 0.50), ("webchat", "Chat", 0.33), ("email", "E-mail", 0.17)];

pub const CLOSING_REASONS: [&str; 8] = [
    "Dúvida esclarecida",
    "Problema resolvido",
    "Encaminhado ao financeiro",
    "Cliente não respondeu",
    "Troca ou devolução",
    "Reclamação registrada",
    "Venda realizada",
    "Segunda via enviada",
];

/// Pause reasons: name, limit in minutes.
pub const PAUSE_REASONS: [(&str, i64); 3] = [("Café", 15), ("Almoço", 60), ("Banheiro", 10)];

pub const TAGS: [&str; 6] = ["Reclamação", "Elogio", "Troca", "Entrega", "Segunda via", "Urgente"];

pub const CUSTOMER: [&str; 12] = [
    "Olá, meu pedido ainda não chegou, pode verificar por favor?",
    "Boa tarde! Preciso da segunda via do boleto.",
    "O código de rastreio não mostra nenhuma atualização desde segunda.",
    "Quero trocar o produto, veio no tamanho errado.",
    "Fui cobrado duas vezes no cartão, como resolvo?",
    "Vocês entregam em Campinas no sábado?",
    "Não consigo acessar minha conta, diz que a senha está errada.",
    "Obrigado, fico no aguardo então.",
    "Qual o prazo para o estorno cair na fatura?",
    "Bom dia, gostaria de cancelar a assinatura.",
    "O produto chegou com a caixa amassada.",
    "Perfeito, resolveu sim. Muito obrigada!",
];

pub const AGENT: [&str; 10] = [
    "Olá! Vou verificar para você, um momento por favor.",
    "Verifiquei aqui: a entrega está prevista para amanhã à tarde.",
    "Acabei de enviar a segunda via para o seu e-mail.",
    "Sinto muito pelo transtorno, já abri a solicitação de troca.",
    "O estorno foi solicitado e aparece em até duas faturas.",
    "Pode tentar novamente? Enviei um link para redefinir a senha.",
    "Precisa de mais alguma coisa? Estamos à disposição.",
    "Entregamos sim, de segunda a sábado, das 8h às 18h.",
    "Cancelamento feito. Você recebe a confirmação por e-mail.",
    "Obrigado pelo contato e tenha um ótimo dia!",
];

pub const SUBJECTS: [&str; 6] = [
    "Pedido não entregue",
    "Segunda via de boleto",
    "Cobrança em duplicidade",
    "Troca de produto",
    "Cancelamento de assinatura",
    "Acesso à conta",
];

/// splitmix64: small, fast, deterministic.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Uniform in [a, b].
    pub fn range(&mut self, a: i64, b: i64) -> i64 {
        a + (self.next() % ((b - a).max(0) as u64 + 1)) as i64
    }

    /// Exponential with this mean, capped at 12 means.
    pub fn exp(&mut self, mean: f64) -> i64 {
        let u = self.f().max(1e-12);
        (-mean * u.ln()).min(12.0 * mean).round() as i64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.f() < p
    }

    /// An index drawn by weight.
    pub fn weighted(&mut self, w: &[f64]) -> usize {
        let total: f64 = w.iter().sum();
        let mut x = self.f() * total;
        for (i, v) in w.iter().enumerate() {
            if x < *v {
                return i;
            }
            x -= v;
        }
        w.len() - 1
    }
}

/// A contact: name, E.164 phone, lower-case e-mail.
pub fn contact(rng: &mut Rng, n: usize) -> (String, String, String) {
    let (f, m, l) = (FIRST[rng.below(40)], SURNAMES[rng.below(30)], SURNAMES[rng.below(30)]);
    let name = format!("{f} {m} {l}");
    let phone = format!("+55{}9{:08}", DDD[rng.below(DDD.len())], rng.next() % 100_000_000);
    let email = format!("{}.{}{}@{}", plain(f), plain(l), n % 1000, DOMAINS[rng.below(DOMAINS.len())]);
    (name, phone, email)
}

/// Lower case without accents, for e-mail addresses.
fn plain(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'à' | 'ã' | 'â' => 'a',
            'é' | 'ê' => 'e',
            'í' => 'i',
            'ó' | 'õ' | 'ô' => 'o',
            'ú' => 'u',
            'ç' => 'c',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The name of agent `i` (0..200): unique first name and surname pairs.
pub fn agent_name(i: usize) -> String {
    let q = i / 40;
    format!("{} {}", FIRST[i % 40], SURNAMES[(q + 5 * ((4 * q + i % 40) % 6)) % 30])
}

/// Conversations per local hour (0–23), relative.
pub const HOURLY: [f64; 24] = [
    0.2, 0.1, 0.08, 0.06, 0.06, 0.1, 0.3, 0.8, 2.0, 3.2, 3.6, 3.4, 2.6, 2.8, 3.3, 3.4, 3.1, 2.7, 2.0, 1.6, 1.3, 1.0,
    0.7, 0.4,
];
/// Monday … Sunday, relative.
pub const WEEKDAY: [f64; 7] = [1.15, 1.1, 1.05, 1.0, 0.95, 0.55, 0.3];
/// January … December, relative (Black Friday in November).
pub const MONTHLY: [f64; 12] = [0.9, 0.85, 0.95, 0.95, 1.0, 0.95, 1.0, 1.0, 0.95, 1.0, 1.35, 1.2];
