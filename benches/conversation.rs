//! Inside-the-conversation figures of Atende (issue 5), printed as plain lines
//! and a summary table.
//!
//! Run with `cargo bench --bench conversation`. The release binary runs on a
//! temporary data folder seeded through the library's schema (so the FTS5
//! triggers index every message as in production):
//!
//! - **message search**: 1,000,000 messages in 20,000 conversations of 4
//!   queues; `GET /pesquisar?q=` for a rare word (20 messages), a very common
//!   word (every other message), a common word on a deep page, as an admin and
//!   as an agent who sees one queue in four, and inside one conversation;
//! - **PDF transcript**: `GET /atendimentos/{id}/pdf?notas=1` of a
//!   2,000-message conversation (notes and attachment names included): time,
//!   size, and the server's peak memory (VmHWM) before and after;
//! - **attachments**: a 16 MB file downloaded alone (throughput) and by 8
//!   clients at once, with the server's peak RSS before and after — streaming
//!   means it must not grow by the file's size per download; then 16 MB
//!   uploads through the multipart form.
//!
//! Every loop is bounded in count and in time; the folder is a `tempfile`
//! temporary directory. A missed target prints MISS; a section that could not
//! run prints FAILED and the bench exits 1.

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

const MESSAGES: usize = 1_000_000;
const CONVERSATIONS: usize = 20_000;
const QUEUES: usize = 4;
/// Every RARE_EVERY-th message carries the rare word.
const RARE_EVERY: usize = 50_000;
const SEARCH_REQUESTS: usize = 200;
const SEARCH_P99_MS: f64 = 30.0;
const PDF_MESSAGES: usize = 2_000;
const PDF_TARGET_MS: f64 = 300.0;
const FILE_MB: usize = 16;
const CONCURRENT_DOWNLOADS: usize = 8;

const WORDS: &[&str] = &[
    "boleto",
    "entrega",
    "prazo",
    "cartão",
    "nota",
    "fiscal",
    "troca",
    "produto",
    "cancelamento",
    "endereço",
    "atraso",
    "reembolso",
    "cobrança",
    "segunda",
    "via",
    "senha",
    "acesso",
    "aplicativo",
    "loja",
    "frete",
    "desconto",
    "cupom",
    "garantia",
    "defeito",
    "devolução",
    "pagamento",
    "parcela",
    "juros",
    "contrato",
    "plano",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A message text: 4–24 words, "pedido" in every other one, the rare word
/// "xilogravura" in every RARE_EVERY-th.
fn text(i: usize, rng: &mut Rng) -> String {
    let n = 4 + (rng.next() % 21) as usize;
    let mut w: Vec<&str> = (0..n).map(|_| WORDS[(rng.next() % WORDS.len() as u64) as usize]).collect();
    if i.is_multiple_of(2) {
        w.insert((rng.next() % n as u64) as usize, "pedido");
    }
    if i % RARE_EVERY == 7 {
        w.push("xilogravura");
    }
    let mut s = w.join(" ");
    if let Some(f) = s.get_mut(0..1) {
        f.make_ascii_uppercase();
    }
    s.push('.');
    s
}

struct Seeded {
    admin: String,
    agent: String,
    /// A conversation of the agent's queue, for the in-conversation search.
    agent_conversation: i64,
    pdf_conversation: i64,
    attachment: i64,
    file_conversation: i64,
}

async fn seed(data: &Path) -> R<Seeded> {
    let base = seed_base(data, "cv", QUEUES, 1).await?;
    let path = data.join("atende.db");
    let db =
        tokio::task::spawn_blocking(move || Db::open(&path, DbOptions::default())).await.map_err(err)?.map_err(err)?;
    let hash = tokio::task::spawn_blocking(|| auth::hash_password(PW)).await.map_err(err)?.map_err(err)?;
    let now = now_secs();
    let queues = base.queues.clone();
    let agent_id = base.agents[0];
    let r = db
        .write(move |c| {
            insert_admin(c, "admin-cv@bench.local", &hash, now)?;
            // The bench agent sees only the first queue: move the others to a
            // team of their own.
            c.execute("INSERT INTO teams (name, created_at) VALUES ('Outra equipe', 0)", [])?;
            let other = c.last_insert_rowid();
            for q in &queues[1..] {
                c.execute("UPDATE queues SET team_id = ?1 WHERE id = ?2", [other, *q])?;
            }
            let mut contact = c.prepare("INSERT INTO contacts (name, created_at, updated_at) VALUES (?1, ?2, ?2)")?;
            let mut conv = c.prepare(
                "INSERT INTO conversations (queue_id, contact_id, channel, status, agent_id, queued_at, created_at, last_activity_at, closed_at)
                 VALUES (?1, ?2, 'webchat', 'finished', ?3, ?4, ?4, ?4, ?4)",
            )?;
            let mut conv_ids = Vec::with_capacity(CONVERSATIONS + 2);
            for k in 0..CONVERSATIONS + 2 {
                contact.execute(params![format!("Cliente {k}"), now - 90 * 86_400])?;
                let kid = c.last_insert_rowid();
                let q = queues[k % QUEUES];
                let agent = if k % QUEUES == 0 { Some(agent_id) } else { None };
                conv.execute(params![q, kid, agent, now - 90 * 86_400 + k as i64])?;
                conv_ids.push(c.last_insert_rowid());
            }
            // Messages interleaved over the conversations, as they arrive in life.
            let mut msg = c.prepare(
                "INSERT INTO messages (conversation_id, kind, author_id, author_name, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut rng = Rng(0x2545_F491_4F6C_DD1D);
            for i in 0..MESSAGES {
                let cv = conv_ids[(rng.next() % CONVERSATIONS as u64) as usize];
                let out = i % 2 == 1;
                msg.execute(params![
                    cv,
                    if out { "out" } else { "in" },
                    if out { Some(agent_id) } else { None },
                    if out { "Agente" } else { "Cliente" },
                    text(i, &mut rng),
                    now - 60 * 86_400 + (i as i64) * 5
                ])?;
            }
            // The PDF conversation: 2,000 messages, a note every 25, an attachment name every 100.
            let pdf_conv = conv_ids[CONVERSATIONS];
            let mut att = c.prepare(
                "INSERT INTO attachments (message_id, conversation_id, name, mime, size, created_at) VALUES (?1, ?2, ?3, 'application/pdf', 1000, ?4)",
            )?;
            for i in 0..PDF_MESSAGES {
                let kind = if i % 25 == 24 { "note" } else if i % 2 == 1 { "out" } else { "in" };
                let body = format!("{} Conceição, ação e informação nº {i}.", text(i, &mut rng));
                msg.execute(params![pdf_conv, kind, None::<i64>, "Atendente Ágata", body, now - 3_600 + i as i64])?;
                if i % 100 == 50 {
                    att.execute(params![c.last_insert_rowid(), pdf_conv, format!("comprovante-{i}.pdf"), now])?;
                }
            }
            // A 16 MB attachment (deterministic bytes) in its own conversation.
            let file_conv = conv_ids[CONVERSATIONS + 1];
            msg.execute(params![file_conv, "note", None::<i64>, "Admin", "arquivo grande", now])?;
            let mid = c.last_insert_rowid();
            att.execute(params![mid, file_conv, "grande.pdf", now])?;
            let aid = c.last_insert_rowid();
            let size = FILE_MB << 20;
            c.execute("UPDATE attachments SET size = ?1 WHERE id = ?2", params![size as i64, aid])?;
            let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            c.execute("INSERT INTO attachment_data (attachment_id, data) VALUES (?1, ?2)", params![aid, data])?;
            Ok((conv_ids[0], pdf_conv, aid, file_conv))
        })
        .await;
    let d2 = db.clone();
    tokio::task::spawn_blocking(move || d2.close()).await.map_err(err)?;
    let (agent_conversation, pdf_conversation, attachment, file_conversation) = r.map_err(|e| format!("seed: {e}"))?;
    Ok(Seeded {
        admin: "admin-cv@bench.local".into(),
        agent: base.logins[0].clone(),
        agent_conversation,
        pdf_conversation,
        attachment,
        file_conversation,
    })
}

/// Sequential GETs of `path`; latencies (ms) and the last body.
async fn repeat(addr: SocketAddr, path: &str, cookie: &str, n: usize) -> R<(Vec<f64>, Vec<u8>)> {
    let mut c = HttpConn::connect(addr).await?;
    let mut lat = Vec::with_capacity(n);
    let mut last = Vec::new();
    let limit = Instant::now() + Duration::from_secs(60);
    for i in 0..n + 5 {
        if Instant::now() > limit {
            return Err(format!("{i} requests of {path} took over 60 s"));
        }
        let t = Instant::now();
        let r = c.request(&get_req(path, Some(cookie))).await?;
        let d = ms(t.elapsed());
        if r.status != 200 {
            return Err(format!("GET {path} answered {}", r.status));
        }
        if i >= 5 {
            lat.push(d);
        }
        last = r.body;
        if !r.keep {
            c = HttpConn::connect(addr).await?;
        }
    }
    Ok((lat, last))
}

fn hwm_mb(pid: u32) -> f64 {
    status_kb(pid, "VmHWM:").map(|kb| kb as f64 / 1024.0).unwrap_or(f64::NAN)
}

fn rss_mb(pid: u32) -> f64 {
    status_kb(pid, "VmRSS:").map(|kb| kb as f64 / 1024.0).unwrap_or(f64::NAN)
}

async fn search(sum: &mut Summary, addr: SocketAddr, s: &Seeded, admin: &str, agent: &str) -> R<()> {
    // A cursor in the middle of the common word's matches, for a deep page.
    let deep = MESSAGES as i64 / 2;
    let cases: Vec<(&str, String, &str)> = vec![
        ("admin_rare", "/pesquisar?q=xilogravura".into(), admin),
        ("admin_common", "/pesquisar?q=pedido".into(), admin),
        ("admin_common_deep_page", format!("/pesquisar?q=pedido&antes={deep}"), admin),
        ("admin_two_common_words", "/pesquisar?q=pedido+boleto".into(), admin),
        ("agent_rare", "/pesquisar?q=xilogravura".into(), agent),
        ("agent_common", "/pesquisar?q=pedido".into(), agent),
        ("agent_in_conversation_common", format!("/atendimentos/{}/pesquisar?q=pedido", s.agent_conversation), agent),
        ("admin_accents_folded", "/pesquisar?q=cobranca".into(), admin),
    ];
    let mut worst = (0.0f64, "");
    for (name, path, cookie) in &cases {
        let (mut lat, body) = repeat(addr, path, cookie, SEARCH_REQUESTS).await?;
        let hits = String::from_utf8_lossy(&body).matches("<li class=\"hit").count();
        let (p50, p99) = (pct(&mut lat, 50.0), pct(&mut lat, 99.0));
        println!("message_search case={name} hits_on_page={hits} p50_ms={p50:.2} p99_ms={p99:.2}");
        if hits == 0 {
            return Err(format!("{name}: found nothing"));
        }
        if p99 > worst.0 {
            worst = (p99, name);
        }
        if matches!(*name, "admin_rare" | "admin_common" | "agent_common") {
            sum.add(
                &format!("search_{name}_p99_ms"),
                format!("{p99:.2} (p50 {p50:.2})"),
                &format!("< {SEARCH_P99_MS:.0}"),
                verdict(p99 < SEARCH_P99_MS),
            );
        }
    }
    sum.add(
        "search_worst_case_p99_ms",
        format!("{:.2} ({})", worst.0, worst.1),
        &format!("< {SEARCH_P99_MS:.0}"),
        verdict(worst.0 < SEARCH_P99_MS),
    );
    Ok(())
}

async fn pdf(sum: &mut Summary, server: &Server, s: &Seeded, admin: &str) -> R<()> {
    let addr = server.addr();
    let before = hwm_mb(server.pid());
    let path = format!("/atendimentos/{}/pdf?notas=1", s.pdf_conversation);
    let (mut lat, body) = repeat(addr, &path, admin, 20).await?;
    if !body.starts_with(b"%PDF-") {
        return Err("the transcript is not a PDF".into());
    }
    let after = hwm_mb(server.pid());
    let (p50, max) = (pct(&mut lat, 50.0), pct(&mut lat, 100.0));
    println!(
        "pdf messages={PDF_MESSAGES} p50_ms={p50:.1} max_ms={max:.1} size_kb={} server_vmhwm_mb before={before:.1} after={after:.1}",
        body.len() / 1024
    );
    sum.add(
        "pdf_2000_msgs_p50_ms",
        format!("{p50:.1} (max {max:.1})"),
        &format!("< {PDF_TARGET_MS:.0}"),
        verdict(max < PDF_TARGET_MS),
    );
    sum.add("pdf_server_peak_mb", format!("{before:.1} -> {after:.1}"), "reported", "");
    Ok(())
}

/// Downloads the attachment; returns (bytes, ms).
async fn download(addr: SocketAddr, path: &str, cookie: &str) -> R<(usize, f64)> {
    let mut c = HttpConn::connect(addr).await?;
    c.timeout = Duration::from_secs(30);
    let t = Instant::now();
    tokio::io::AsyncWriteExt::write_all(&mut c.s, &get_req(path, Some(cookie))).await.map_err(err)?;
    let h = c.head().await?;
    if h.status != 200 {
        return Err(format!("GET {path} answered {}", h.status));
    }
    let want = h.len.ok_or("no content-length")?;
    let mut got = 0usize;
    let limit = Instant::now() + Duration::from_secs(60);
    while got < want {
        if Instant::now() > limit {
            return Err("download took over 60 s".into());
        }
        got += c.some().await?.len();
    }
    Ok((got, ms(t.elapsed())))
}

async fn files(sum: &mut Summary, server: &Server, s: &Seeded, admin: &str) -> R<()> {
    let addr = server.addr();
    let path = format!("/anexos/{}", s.attachment);
    let size = FILE_MB << 20;
    // One warm-up, then alone.
    download(addr, &path, admin).await?;
    let mut alone = Vec::new();
    for _ in 0..5 {
        let (n, d) = download(addr, &path, admin).await?;
        if n != size {
            return Err(format!("downloaded {n} bytes of {size}"));
        }
        alone.push(d);
    }
    let best = alone.iter().cloned().fold(f64::MAX, f64::min);
    let mbps = FILE_MB as f64 / (pct(&mut alone, 50.0) / 1000.0);
    println!(
        "attachment download size_mb={FILE_MB} p50_ms={:.1} best_ms={best:.1} mb_per_s={mbps:.0}",
        pct(&mut alone, 50.0)
    );
    let (rss0, hwm0) = (rss_mb(server.pid()), hwm_mb(server.pid()));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENT_DOWNLOADS {
        let (p, a) = (path.clone(), admin.to_string());
        tasks.push(tokio::spawn(async move { download(addr, &p, &a).await }));
    }
    for t in tasks {
        let (n, _) = t.await.map_err(err)??;
        if n != size {
            return Err(format!("downloaded {n} bytes of {size}"));
        }
    }
    let wall = ms(t.elapsed());
    let hwm1 = hwm_mb(server.pid());
    let total_mb = (FILE_MB * CONCURRENT_DOWNLOADS) as f64;
    println!(
        "attachment concurrent_downloads={CONCURRENT_DOWNLOADS} wall_ms={wall:.0} mb_per_s={:.0} server rss_before_mb={rss0:.1} vmhwm_before_mb={hwm0:.1} vmhwm_after_mb={hwm1:.1}",
        total_mb / (wall / 1000.0)
    );
    sum.add("download_16mb_mb_per_s", format!("{mbps:.0}"), "reported", "");
    let growth = hwm1 - hwm0.max(rss0);
    sum.add(
        "peak_growth_8_concurrent_16mb_downloads_mb",
        format!("{growth:.1} (peak {hwm0:.1} -> {hwm1:.1})"),
        &format!("< {FILE_MB} (one file)"),
        verdict(growth < FILE_MB as f64),
    );

    // Uploads through the multipart form (as an internal note).
    let mut c = HttpConn::connect(addr).await?;
    let page = c.request(&get_req(&format!("/atendimentos/{}", s.file_conversation), Some(admin))).await?;
    let html = page.text();
    let csrf = html
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .ok_or("no CSRF token on the conversation page")?
        .to_string();
    let boundary = "benchBoundary0123456789";
    let data: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
    let mut lat = Vec::new();
    for k in 0..3 {
        let mut body = Vec::with_capacity(size + 1024);
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"mode\"\r\n\r\nnote\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"envio-{k}.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-"
            )
            .as_bytes(),
        );
        body.extend_from_slice(&data[5..]);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let mut req = format!(
            "POST /atendimentos/{}/anexos HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {admin}\r\nX-Requested-With: fetch\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
            s.file_conversation,
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(&body);
        let t = Instant::now();
        c.timeout = Duration::from_secs(60);
        let r = c.request(&req).await?;
        if r.status != 204 {
            return Err(format!("upload answered {}: {}", r.status, r.snippet()));
        }
        lat.push(ms(t.elapsed()));
    }
    let up = pct(&mut lat, 50.0);
    let hwm2 = hwm_mb(server.pid());
    println!(
        "attachment upload size_mb={FILE_MB} p50_ms={up:.1} mb_per_s={:.0} server vmhwm_mb={hwm2:.1}",
        FILE_MB as f64 / (up / 1000.0)
    );
    sum.add("upload_16mb_p50_ms", format!("{up:.1}"), "reported", "");
    Ok(())
}

async fn run(sum: &mut Summary) -> R<()> {
    let tmp = tempfile::tempdir().map_err(err)?;
    let data = tmp.path().join("data");
    let t = Instant::now();
    let s = seed(&data).await?;
    let db_mb = std::fs::metadata(data.join("atende.db")).map(|m| m.len() as f64 / 1048576.0).unwrap_or(f64::NAN);
    println!(
        "seed messages={MESSAGES} conversations={CONVERSATIONS} db_mb={db_mb:.0} secs={:.1}",
        t.elapsed().as_secs_f64()
    );
    let (mut server, t0) = Server::spawn(&data, &tmp.path().join("server.log"))?;
    server.wait_ready(t0, READY_LIMIT, POLL)?;
    let addr = server.addr();
    let admin = format!("atende_sid={}", login(addr, &s.admin).await?);
    let agent = format!("atende_sid={}", login(addr, &s.agent).await?);
    println!("\n-- message search on {MESSAGES} messages, {SEARCH_REQUESTS} sequential requests per case");
    if let Err(e) = search(sum, addr, &s, &admin, &agent).await {
        sum.fail("message_search", &e);
    }
    println!("\n-- PDF transcript of {PDF_MESSAGES} messages");
    if let Err(e) = pdf(sum, &server, &s, &admin).await {
        sum.fail("pdf", &e);
    }
    println!("\n-- {FILE_MB} MB attachment");
    if let Err(e) = files(sum, &server, &s, &admin).await {
        sum.fail("attachments", &e);
    }
    println!("server rss_mb={:.1} at the end", rss_mb(server.pid()));
    server.stop()
}

fn main() {
    let Some((total, mut sum, rt)) = common::start("conversation") else { return };
    if let Err(e) = rt.block_on(run(&mut sum)) {
        sum.fail("conversation", &e);
    }
    common::finish(rt, total, sum, 420.0);
}
