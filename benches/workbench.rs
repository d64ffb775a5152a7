//! Agent workbench figures of Atende (issue 5), printed as plain lines and a
//! summary table.
//!
//! Run with `cargo bench --bench workbench`. The release binary runs on a
//! temporary data folder seeded through the library's schema with 500,000
//! contacts (Brazilian names with accents, valid mobile numbers in E.164,
//! e-mails), 5,000 of them with a conversation in the measured agent's queue.
//! Over 127.0.0.1, one keep-alive connection, sequential requests rotating
//! over many different searches:
//!
//! - `GET /contatos?q=` a whole phone number typed the Brazilian way, the
//!   last 4 digits of a phone, a common name prefix ("mar"), two name words,
//!   a rare surname, an e-mail prefix — as an admin (sees every contact);
//! - the common name prefix and a phone as an agent who sees only the
//!   contacts of their queues (the visibility filter runs in the query).
//!
//! Every loop is bounded in count and in time; the folder is a `tempfile`
//! temporary directory. A missed target prints MISS; a section that could
//! not run prints FAILED and the bench exits 1.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use atende::db::{Db, DbOptions};
use atende::domain::auth;
use common::http::{HttpConn, get_req, login};
use common::seed::{insert_admin, seed_base};
use common::{POLL, PW, R, READY_LIMIT, Server, Summary, err, ms, now_secs, pct, status_kb, verdict};
use rusqlite::params;

/// Contacts seeded.
const CONTACTS: usize = 500_000;
/// Contacts with a conversation in the agent's queue.
const AGENT_CONTACTS: usize = 5_000;
/// Measured requests per case (after 20 unmeasured).
const REQUESTS: usize = 400;
/// Target p99 of a search request.
const P99_TARGET_MS: f64 = 10.0;

const FIRST: &[&str] = &[
    "Maria",
    "José",
    "Ana",
    "João",
    "Antônio",
    "Francisca",
    "Carlos",
    "Paulo",
    "Pedro",
    "Lucas",
    "Luíza",
    "Márcia",
    "Marcos",
    "Luís",
    "Gabriel",
    "Rafael",
    "Mariana",
    "Juliana",
    "Fernanda",
    "Patrícia",
    "Aline",
    "Sebastião",
    "Conceição",
    "Letícia",
    "Vitória",
    "Raimundo",
    "Thiago",
    "Bruna",
    "Camila",
    "Débora",
];
const LAST: &[&str] = &[
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
    "Araújo",
    "Melo",
    "Barbosa",
    "Cardoso",
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
    "Assunção",
    "Brandão",
];
const DDD: &[u32] = &[11, 21, 31, 41, 51, 61, 71, 81, 85, 91, 19, 27, 48, 62, 92];

/// A deterministic pseudo-random sequence (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() % v.len() as u64) as usize]
    }
}

/// (national number typed the Brazilian way, E.164) of contact `i`.
fn phone_of(i: usize) -> (String, String) {
    let ddd = DDD[i % DDD.len()];
    let sub = 90_000_000 + (i as u64 * 7_919) % 10_000_000;
    let (a, b) = (sub / 10_000, sub % 10_000);
    (format!("({ddd}) 9{a:04}-{b:04}"), format!("+55{ddd}9{sub:08}"))
}

struct Seeded {
    admin: String,
    agent: String,
    /// Contacts with a conversation in the agent's queue.
    agent_contacts: Vec<usize>,
}

async fn seed(data: &Path) -> R<Seeded> {
    let base = seed_base(data, "wb", 1, 1).await?;
    let queue = base.queues[0];
    let path = data.join("atende.db");
    let db =
        tokio::task::spawn_blocking(move || Db::open(&path, DbOptions::default())).await.map_err(err)?.map_err(err)?;
    let hash = tokio::task::spawn_blocking(|| auth::hash_password(PW)).await.map_err(err)?.map_err(err)?;
    let now = now_secs();
    let agent_contacts: Vec<usize> = (0..AGENT_CONTACTS).map(|k| k * (CONTACTS / AGENT_CONTACTS) + 3).collect();
    let ac = agent_contacts.clone();
    let r = db
        .write(move |c| {
            insert_admin(c, "admin-wb@bench.local", &hash, now)?;
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
            let mut ins = c.prepare(
                "INSERT INTO contacts (id, name, phone, phone_rev, email, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            )?;
            for i in 0..CONTACTS {
                let name = format!("{} {} {}", rng.pick(FIRST), rng.pick(LAST), rng.pick(LAST));
                let (_, e164) = phone_of(i);
                let rev: String = e164.chars().filter(char::is_ascii_digit).rev().collect();
                let email = format!("cliente{i}@exemplo{}.com.br", i % 97);
                ins.execute(params![i as i64 + 1, name, e164, rev, email, now - 86_400 * 400 + i as i64 * 60])?;
            }
            let mut conv = c.prepare(
                "INSERT INTO conversations (queue_id, contact_id, channel, status, queued_at, created_at, last_activity_at, closed_at)
                 VALUES (?1, ?2, 'webchat', 'finished', ?3, ?3, ?3, ?3)",
            )?;
            for k in &ac {
                conv.execute(params![queue, *k as i64 + 1, now - 3_600])?;
            }
            Ok(())
        })
        .await;
    let d2 = db.clone();
    tokio::task::spawn_blocking(move || d2.close()).await.map_err(err)?;
    r.map_err(|e| format!("seed: {e}"))?;
    Ok(Seeded { admin: "admin-wb@bench.local".into(), agent: base.logins[0].clone(), agent_contacts })
}

/// Sequential GETs rotating over `paths`; latencies (ms), and the smallest
/// and largest number of result rows seen.
async fn rotate(addr: SocketAddr, paths: &[String], cookie: &str, n: usize) -> R<(Vec<f64>, usize, usize)> {
    let mut c = HttpConn::connect(addr).await?;
    let mut lat = Vec::with_capacity(n);
    let (mut min_rows, mut max_rows) = (usize::MAX, 0);
    let limit = Instant::now() + Duration::from_secs(60);
    for i in 0..n + 20 {
        if Instant::now() > limit {
            return Err(format!("{i} requests took over 60 s"));
        }
        let path = &paths[i % paths.len()];
        let t = Instant::now();
        let r = c.request(&get_req(path, Some(cookie))).await?;
        let d = ms(t.elapsed());
        if r.status != 200 {
            return Err(format!("GET {path} answered {}", r.status));
        }
        let rows = r.text().matches("<a href=\"/contatos/").count();
        min_rows = min_rows.min(rows);
        max_rows = max_rows.max(rows);
        if i >= 20 {
            lat.push(d);
        }
        if !r.keep {
            c = HttpConn::connect(addr).await?;
        }
    }
    Ok((lat, min_rows, max_rows))
}

fn enc(q: &str) -> String {
    form_urlencoded::Serializer::new(String::new()).append_pair("q", q).finish()
}

async fn run(sum: &mut Summary) -> R<()> {
    let tmp = tempfile::tempdir().map_err(err)?;
    let data = tmp.path().join("data");
    let t = Instant::now();
    let s = seed(&data).await?;
    println!("seed contacts={CONTACTS} agent_contacts={AGENT_CONTACTS} secs={:.1}", t.elapsed().as_secs_f64());
    let (mut server, t0) = Server::spawn(&data, &tmp.path().join("server.log"))?;
    server.wait_ready(t0, READY_LIMIT, POLL)?;
    let addr = server.addr();
    let admin = format!("atende_sid={}", login(addr, &s.admin).await?);
    let agent = format!("atende_sid={}", login(addr, &s.agent).await?);

    let mut rng = Rng(42);
    let some = |rng: &mut Rng, n: usize, f: &dyn Fn(usize) -> String| -> Vec<String> {
        (0..n).map(|_| format!("/contatos?{}", enc(&f((rng.next() % CONTACTS as u64) as usize)))).collect()
    };
    let whole_phone = some(&mut rng, 200, &|i| phone_of(i).0);
    let last4 = some(&mut rng, 200, &|i| phone_of(i).1[phone_of(i).1.len() - 4..].to_string());
    let email = some(&mut rng, 200, &|i| format!("cliente{i}@"));
    let prefix: Vec<String> = ["mar", "jo", "ana", "luc", "fer", "con", "seb", "pat"]
        .iter()
        .map(|p| format!("/contatos?{}", enc(p)))
        .collect();
    let words: Vec<String> = ["maria silva", "joão santos", "conceicao araujo", "paulo lima"]
        .iter()
        .map(|p| format!("/contatos?{}", enc(p)))
        .collect();
    let rare: Vec<String> = ["brandao assuncao debora", "sebastiao nascimento brandao"]
        .iter()
        .map(|p| format!("/contatos?{}", enc(p)))
        .collect();
    let agent_phone: Vec<String> =
        s.agent_contacts.iter().take(200).map(|i| format!("/contatos?{}", enc(&phone_of(*i).0))).collect();

    let cases: Vec<(&str, &Vec<String>, &str)> = vec![
        ("admin_whole_phone", &whole_phone, &admin),
        ("admin_last4", &last4, &admin),
        ("admin_name_prefix", &prefix, &admin),
        ("admin_two_words", &words, &admin),
        ("admin_rare_words", &rare, &admin),
        ("admin_email_prefix", &email, &admin),
        ("agent_name_prefix", &prefix, &agent),
        ("agent_whole_phone", &agent_phone, &agent),
    ];
    let mut worst = (0.0f64, "");
    for (name, paths, cookie) in cases {
        let (mut lat, lo, hi) = rotate(addr, paths, cookie, REQUESTS).await?;
        let (p50, p99) = (pct(&mut lat, 50.0), pct(&mut lat, 99.0));
        println!("contact_search case={name} queries={} rows={lo}..{hi} p50_ms={p50:.2} p99_ms={p99:.2}", paths.len());
        if hi == 0 {
            return Err(format!("{name}: no search found anything"));
        }
        if p99 > worst.0 {
            worst = (p99, name);
        }
        if matches!(name, "admin_whole_phone" | "admin_name_prefix") {
            sum.add(
                &format!("search_{name}_p99_ms"),
                format!("{p99:.2} (p50 {p50:.2})"),
                &format!("< {P99_TARGET_MS:.0}"),
                verdict(p99 < P99_TARGET_MS),
            );
        }
    }
    let rss = status_kb(server.pid(), "VmRSS:").map(|kb| kb as f64 / 1024.0).unwrap_or(f64::NAN);
    println!("server rss_mb={rss:.1} after the searches");
    sum.add(
        "search_worst_case_p99_ms",
        format!("{:.2} ({})", worst.0, worst.1),
        &format!("< {P99_TARGET_MS:.0}"),
        verdict(worst.0 < P99_TARGET_MS),
    );
    server.stop()
}

fn main() {
    let Some((total, mut sum, rt)) = common::start("workbench") else { return };
    println!("\n-- contact search on {CONTACTS} contacts, {REQUESTS} sequential requests per case");
    if let Err(e) = rt.block_on(run(&mut sum)) {
        sum.fail("contact_search", &e);
    }
    common::finish(rt, total, sum, 240.0);
}
