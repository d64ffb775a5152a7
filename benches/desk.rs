//! Agent desk performance figures of Atende (issue 3), printed as plain lines
//! and a summary table.
//!
//! Run with `cargo bench --bench desk`. Each section spawns the release binary
//! on its own temporary data folder and talks to it over 127.0.0.1 only:
//!
//! 1. inbound visitor messages through the public widget API
//!    (`POST /api/widget/{queue}/messages`) from 64 keep-alive connections,
//!    each switching to a fresh visitor every few messages (the per-visitor
//!    rate limit is never hit): messages per second and p50/p99 latency; then
//!    the `in` messages in the database must equal the 200 answers;
//! 2. SSE fan-out: 200 agents logged in over HTTP hold `GET /eventos` open;
//!    visitors post 50 messages 50 ms apart; for every (message, stream) pair
//!    the time from the POST's 200 answer to the stream's event naming that
//!    conversation, and the server's RSS with the 200 streams open;
//! 3. agent home on a database seeded with 100,000 conversations and
//!    1,000,000 messages: `GET /atendimentos` from 16 keep-alive connections
//!    for 10 s (wrk if installed), and `GET /atendimentos/listas`; then the
//!    home again (5 s) after removing the query planner's statistics, as in
//!    a database the server has not closed since the data arrived (plans
//!    differ). In both runs, the paginated "Na fila" list: its next-page
//!    links are followed from `GET /atendimentos/fila` to the last page (the
//!    2,000 queued conversations, 25 a page, each exactly once), then page 1
//!    and that deep page are requested alternately on one connection,
//!    unloaded: p50/p99 of each (keyset pages should all cost the same).
//!
//! `ATENDE_BENCH_BIN=/path/to/atende` runs another server build (e.g. an
//! unstripped one under `perf`); `ATENDE_BENCH_NO_WRK=1` uses the built-in
//! keep-alive client even when wrk is installed.
//!
//! Every loop is bounded in count and in time; every folder is a `tempfile`
//! temporary directory. A missed target prints MISS; a section that could
//! not run (or whose results are inconsistent) prints FAILED and the bench
//! exits 1.

mod common;

use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use atende::db;
use common::http::{HttpConn, LOGIN_TASKS, get_req, login, login_all, open_stream, post_req, seq_get};
use common::seed::{Base, seed_base};
use common::{POLL, R, READY_LIMIT, Server, Summary, cpu_secs, err, ms, now_secs, pct, status_kb, verdict};
use rusqlite::params;

/// Section 1: Concurrent visitor connections.
const IN_TASKS: usize = 64;
/// Section 1: Messages per run.
const IN_TOTAL: u64 = 30_000;
/// Section 1: Longest run.
const IN_LIMIT: Duration = Duration::from_secs(20);
/// Section 1: Messages per visitor token before a task starts a new visitor (the
/// limiter allows a burst of 8).
const PER_VISITOR: u32 = 8;
/// Section 1: Targets.
const IN_RATE_TARGET: f64 = 5_000.0;
const IN_P99_TARGET_MS: f64 = 25.0;

/// Section 2: Agents with an open stream.
const SSE_AGENTS: usize = 200;
/// Section 2: Visitor messages posted while the streams are open.
const SSE_MESSAGES: usize = 50;
/// Section 2: Interval between those messages.
const SSE_SPACING: Duration = Duration::from_millis(50);
/// Section 2: Longest wait for the last deliveries after the last post.
const SSE_WAIT: Duration = Duration::from_secs(10);
/// Section 2: Targets.
const SSE_P99_TARGET_MS: f64 = 100.0;
const SSE_RSS_TARGET_MB: f64 = 80.0;

/// Section 3: Seeded conversations.
const HIST_CONVERSATIONS: i64 = 100_000;
/// Section 3: Messages per seeded conversation (100,000 x 10 = 1,000,000).
const MSGS_PER_CONV: i64 = 10;
/// Section 3: Conversations waiting in the queues.
const HIST_QUEUED: i64 = 2_000;
/// Section 3: Conversations assigned to the measured agent.
const HIST_MINE: i64 = 50;
/// Section 3: Conversations assigned to the other agents.
const HIST_OTHERS: i64 = 100;
/// Section 3: Queues of the agent's team.
const HOME_QUEUES: usize = 3;
/// Section 3: Agents of the team (the first is measured).
const HOME_AGENTS: usize = 5;
/// Section 3: Load: connections and duration.
const HOME_CONNS: usize = 16;
const HOME_SECS: u64 = 10;
const LISTS_SECS: u64 = 5;
/// Section 3: Sequential requests of the unloaded latency figure.
const SEQ_REQUESTS: usize = 200;
/// Section 3: Targets.
const HOME_RPS_TARGET: f64 = 2_000.0;
const HOME_P99_TARGET_MS: f64 = 15.0;
/// Section 3: The paginated "Na fila" list.
const QUEUED_LIST: &str = "/atendimentos/fila";
/// Section 3: Rows per list page (the server's `conversations::PAGE_SIZE`).
const PAGE_ROWS: usize = 25;
/// Section 3: Measured requests of page 1 and of the deep page each.
const PAGE_REQUESTS: usize = 300;
/// Section 3: Most next-page links followed, and longest walk along them.
const PAGE_HOPS: usize = 200;
const PAGE_WALK_LIMIT: Duration = Duration::from_secs(60);
/// Section 3: Target: the deep page's p50 at most this multiple of page 1's.
const PAGE_RATIO_TARGET: f64 = 1.5;

// ---------------------------------------------------------------- processes

// ---------------------------------------------------------------- 1. inbound

#[derive(Default)]
struct InStats {
    ok: u64,
    limited: u64,
    other: u64,
    errors: u64,
    new_visitors: u64,
    lat: Vec<f64>,
    first_problem: Option<String>,
}

async fn visitor_task(addr: SocketAddr, queue: i64, issued: Arc<AtomicU64>, deadline: Instant) -> InStats {
    let mut st = InStats { lat: Vec::with_capacity(1024), ..Default::default() };
    let path = format!("/api/widget/{queue}/messages");
    let mut conn: Option<HttpConn> = None;
    let mut token = String::new();
    let mut used = 0u32;
    for _ in 0..IN_TOTAL {
        if Instant::now() >= deadline {
            break;
        }
        let n = issued.fetch_add(1, Ordering::Relaxed);
        if n >= IN_TOTAL {
            break;
        }
        if conn.is_none() {
            match HttpConn::connect(addr).await {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    st.errors += 1;
                    st.first_problem.get_or_insert(format!("connect: {e}"));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        if used >= PER_VISITOR {
            token.clear();
            used = 0;
        }
        if token.is_empty() {
            st.new_visitors += 1;
        }
        let body = format!("{{\"token\":\"{token}\",\"text\":\"Olá, preciso de ajuda com o pedido {n}\"}}");
        let req = post_req(&path, "application/json", &body, None);
        let Some(c) = conn.as_mut() else { continue };
        let t = Instant::now();
        match c.request(&req).await {
            Ok(r) => {
                let d = ms(t.elapsed());
                match r.status {
                    200 => {
                        st.ok += 1;
                        st.lat.push(d);
                        used += 1;
                        if token.is_empty() {
                            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
                            match v.get("token").and_then(|t| t.as_str()) {
                                Some(t) => token = t.to_string(),
                                None => {
                                    st.first_problem.get_or_insert(format!("200 without token: {}", r.snippet()));
                                }
                            }
                        }
                    }
                    429 => {
                        st.limited += 1;
                        token.clear();
                        used = 0;
                    }
                    s => {
                        st.other += 1;
                        st.first_problem.get_or_insert(format!("status {s}: {}", r.snippet()));
                    }
                }
                if !r.keep {
                    conn = None;
                }
            }
            Err(e) => {
                st.errors += 1;
                st.first_problem.get_or_insert(format!("request: {e}"));
                conn = None;
            }
        }
    }
    st
}

async fn bench_inbound(sum: &mut Summary) -> R<()> {
    let tmp = tempfile::tempdir().map_err(err)?;
    let data = tmp.path().join("data");
    let base = seed_base(&data, "in", 1, 0).await?;
    let queue = base.queues[0];
    let (mut server, t0) = Server::spawn(&data, &tmp.path().join("inbound.log"))?;
    server.wait_ready(t0, READY_LIMIT, POLL)?;
    let addr = server.addr();

    let spid = server.pid().to_string();
    let (srv_cpu0, own_cpu0) = (cpu_secs(&spid), cpu_secs("self"));
    let issued = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + IN_LIMIT;
    let mut tasks = Vec::with_capacity(IN_TASKS);
    for _ in 0..IN_TASKS {
        tasks.push(tokio::spawn(visitor_task(addr, queue, issued.clone(), deadline)));
    }
    let mut all = InStats::default();
    for t in tasks {
        let s = t.await.map_err(err)?;
        all.ok += s.ok;
        all.limited += s.limited;
        all.other += s.other;
        all.errors += s.errors;
        all.new_visitors += s.new_visitors;
        all.lat.extend(s.lat);
        if all.first_problem.is_none() {
            all.first_problem = s.first_problem;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let (srv_cpu, own_cpu) = (cpu_secs(&spid) - srv_cpu0, cpu_secs("self") - own_cpu0);
    let pid = server.pid();
    let hwm = status_kb(pid, "VmHWM:").map(|k| k as f64 / 1024.0).unwrap_or(f64::NAN);
    let log = server.log_tail();
    tokio::task::spawn_blocking(move || server.stop()).await.map_err(err)??;

    let path = data.join("atende.db");
    let (in_rows, convs): (i64, i64) = {
        let conn = db::open_ro(&path).map_err(err)?;
        let a = conn.query_row("SELECT count(*) FROM messages WHERE kind = 'in'", [], |r| r.get(0)).map_err(err)?;
        let b = conn.query_row("SELECT count(*) FROM conversations", [], |r| r.get(0)).map_err(err)?;
        (a, b)
    };

    let rate = all.ok as f64 / secs;
    let p50 = pct(&mut all.lat, 50.0);
    let p99 = pct(&mut all.lat, 99.0);
    let max = all.lat.last().copied().unwrap_or(f64::NAN);
    let rows_ok = in_rows == all.ok as i64;
    let rate_ok = rate >= IN_RATE_TARGET;
    let p99_ok = p99 < IN_P99_TARGET_MS;
    println!(
        "inbound_msgs_per_s value={rate:.0} target=>={IN_RATE_TARGET:.0} {} ok={} secs={secs:.2} conns={IN_TASKS} \
         new_visitors={} (a fresh visitor every {PER_VISITOR} messages) rate_limited={} other_status={} errors={}",
        verdict(rate_ok),
        all.ok,
        all.new_visitors,
        all.limited,
        all.other,
        all.errors
    );
    println!(
        "inbound_latency_ms p50={p50:.2} p99={p99:.2} max={max:.2} target=p99<{IN_P99_TARGET_MS:.0} {}",
        verdict(p99_ok)
    );
    println!(
        "inbound_cpu server_cpu_s={srv_cpu:.1} bench_client_cpu_s={own_cpu:.1} wall_s={secs:.1} \
         (server {:.0}% of one core)",
        100.0 * srv_cpu / secs
    );
    println!(
        "inbound_db_check in_messages={in_rows} answers_200={} conversations={convs} match={} server_peak_rss_mb={hwm:.1}",
        all.ok,
        if rows_ok { "yes" } else { "NO" }
    );
    if !rows_ok {
        sum.fail(
            "inbound_msgs_per_s",
            &format!("'in' messages in db {in_rows} != 200 answers {}; server log:\n{log}", all.ok),
        );
        return Ok(());
    }
    if all.ok == 0 || all.other > 0 || all.errors > 0 || all.limited > 0 {
        let why = all.first_problem.clone().unwrap_or_default();
        sum.fail(
            "inbound_msgs_per_s",
            &format!(
                "{} ok, {} rate-limited, {} other status, {} errors (first: {why}); server log:\n{log}",
                all.ok, all.limited, all.other, all.errors
            ),
        );
        return Ok(());
    }
    sum.add(
        "inbound_msgs_per_s",
        format!("{rate:.0}/s ({} in {secs:.1}s, db rows ok)", all.ok),
        &format!(">= {IN_RATE_TARGET:.0}/s"),
        verdict(rate_ok),
    );
    sum.add(
        "inbound_latency_ms",
        format!("p50={p50:.2} p99={p99:.2}"),
        &format!("p99 < {IN_P99_TARGET_MS:.0}"),
        verdict(p99_ok),
    );
    Ok(())
}

// ---------------------------------------------------------------- 2. SSE fan-out

/// Reads a stream until told to stop; returns when each conversation was
/// first named by an event, and why it ended early, if it did.
async fn sse_reader(
    mut c: HttpConn,
    chunked: bool,
    delivered: Arc<AtomicU64>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> (HashMap<i64, Instant>, Option<String>) {
    let mut seen: HashMap<i64, Instant> = HashMap::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut ended = None;
    {
        let work = async {
            for _ in 0..10_000_000u64 {
                let data = if chunked {
                    match c.chunk().await {
                        Ok(Some(d)) => d,
                        Ok(None) => return Some("stream ended".to_string()),
                        Err(e) => return Some(e),
                    }
                } else {
                    match c.some().await {
                        Ok(d) => d,
                        Err(e) => return Some(e),
                    }
                };
                let at = Instant::now();
                pending.extend_from_slice(&data);
                while let Some(i) = pending.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=i).collect();
                    let Some(json) = line.strip_prefix(b"data:") else { continue };
                    let Ok(v) = serde_json::from_slice::<serde_json::Value>(json.trim_ascii()) else { continue };
                    if let Some(id) = v.get("conversation_id").and_then(|x| x.as_i64())
                        && !seen.contains_key(&id)
                    {
                        seen.insert(id, at);
                        delivered.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Some("too many reads".to_string())
        };
        tokio::select! {
            r = work => ended = r,
            _ = stop.wait_for(|s| *s) => {}
        }
    }
    (seen, ended)
}

async fn bench_sse(sum: &mut Summary) -> R<()> {
    let tmp = tempfile::tempdir().map_err(err)?;
    let data = tmp.path().join("data");
    let base = seed_base(&data, "sse", 1, SSE_AGENTS).await?;
    let queue = base.queues[0];
    let (mut server, t0) = Server::spawn(&data, &tmp.path().join("sse.log"))?;
    server.wait_ready(t0, READY_LIMIT, POLL)?;
    let addr = server.addr();
    let pid = server.pid();
    let rss_before = status_kb(pid, "VmRSS:")? as f64 / 1024.0;

    let t = Instant::now();
    let sids = login_all(addr, &base.logins).await?;
    let rss_logins = status_kb(pid, "VmRSS:")? as f64 / 1024.0;
    println!(
        "sse_setup logins={} via POST /entrar ({LOGIN_TASKS} at a time) secs={:.1} agents_in_team={} \
         server_rss_mb before_logins={rss_before:.1} after_logins={rss_logins:.1}",
        sids.len(),
        t.elapsed().as_secs_f64(),
        base.agents.len()
    );

    // Open every stream; the subscription exists once the headers arrived.
    let t = Instant::now();
    let mut opening = Vec::with_capacity(sids.len());
    for sid in sids {
        opening.push(tokio::spawn(open_stream(addr, sid)));
    }
    let mut streams = Vec::with_capacity(opening.len());
    for o in opening {
        streams.push(o.await.map_err(err)??);
    }
    let rss_open = status_kb(pid, "VmRSS:")? as f64 / 1024.0;
    println!(
        "sse_streams open={} secs={:.2} server_rss_mb with_streams={rss_open:.1} (change while opening the streams {:+.1})",
        streams.len(),
        t.elapsed().as_secs_f64(),
        rss_open - rss_logins
    );

    let delivered = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut readers = Vec::with_capacity(streams.len());
    for (c, chunked) in streams {
        readers.push(tokio::spawn(sse_reader(c, chunked, delivered.clone(), stop_rx.clone())));
    }
    let n_streams = readers.len();

    // Visitors post, each message from a new visitor (a new conversation).
    let mut visitor = HttpConn::connect(addr).await?;
    let path = format!("/api/widget/{queue}/messages");
    let mut posted: Vec<(i64, Instant, Instant)> = Vec::with_capacity(SSE_MESSAGES);
    let start = Instant::now();
    let mut post_err = None;
    for i in 0..SSE_MESSAGES {
        let body = format!("{{\"token\":\"\",\"text\":\"Bom dia, mensagem {i}\"}}");
        let req = post_req(&path, "application/json", &body, None);
        let sent = Instant::now();
        let r = visitor.request(&req).await;
        let acked = Instant::now();
        match r {
            Ok(r) if r.status == 200 => {
                let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
                match v.get("conversation_id").and_then(|x| x.as_i64()) {
                    Some(id) => posted.push((id, sent, acked)),
                    None => post_err = Some(format!("200 without conversation_id: {}", r.snippet())),
                }
                if !r.keep {
                    visitor = HttpConn::connect(addr).await?;
                }
            }
            Ok(r) => post_err = Some(format!("visitor POST answered {}: {}", r.status, r.snippet())),
            Err(e) => post_err = Some(format!("visitor POST: {e}")),
        }
        if post_err.is_some() {
            break;
        }
        let next = start + SSE_SPACING * (i as u32 + 1);
        tokio::time::sleep_until(next.into()).await;
    }
    let expected = (n_streams * posted.len()) as u64;
    let wait_from = Instant::now();
    while delivered.load(Ordering::Relaxed) < expected && wait_from.elapsed() < SSE_WAIT {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let rss = status_kb(pid, "VmRSS:")? as f64 / 1024.0;
    let hwm = status_kb(pid, "VmHWM:")? as f64 / 1024.0;
    let _ = stop_tx.send(true);
    let mut results = Vec::with_capacity(n_streams);
    for r in readers {
        results.push(r.await.map_err(err)?);
    }
    let log = server.log_tail();
    tokio::task::spawn_blocking(move || server.stop()).await.map_err(err)??;
    if let Some(e) = post_err {
        return Err(e);
    }

    let (mut from_ack, mut from_send) = (Vec::new(), Vec::new());
    let (mut missing, mut before_ack) = (0u64, 0u64);
    let mut ended_early = Vec::new();
    for (seen, ended) in &results {
        if let Some(e) = ended {
            ended_early.push(e.clone());
        }
        for (id, sent, acked) in &posted {
            match seen.get(id) {
                Some(at) => {
                    if at < acked {
                        before_ack += 1;
                    }
                    from_ack.push(ms(at.saturating_duration_since(*acked)));
                    from_send.push(ms(at.saturating_duration_since(*sent)));
                }
                None => missing += 1,
            }
        }
    }
    let total = from_ack.len() as u64;
    let p50 = pct(&mut from_ack, 50.0);
    let p99 = pct(&mut from_ack, 99.0);
    let max = from_ack.last().copied().unwrap_or(f64::NAN);
    let s50 = pct(&mut from_send, 50.0);
    let s99 = pct(&mut from_send, 99.0);
    let p99_ok = p99 < SSE_P99_TARGET_MS;
    let rss_ok = rss < SSE_RSS_TARGET_MB;
    println!(
        "sse_delivery_ms p50={p50:.2} p99={p99:.2} max={max:.2} target=p99<{SSE_P99_TARGET_MS:.0} {} \
         deliveries={total}/{expected} missing={missing} before_ack={before_ack} (counted as 0) streams={n_streams} messages={}",
        verdict(p99_ok),
        posted.len()
    );
    println!("sse_delivery_from_send_ms p50={s50:.2} p99={s99:.2} (from the POST being written, includes the commit)");
    println!(
        "sse_server_rss_mb value={rss:.1} peak={hwm:.1} target=<{SSE_RSS_TARGET_MB:.0} {} (release binary, {n_streams} streams open; \
         {rss_before:.1} before the {} logins, {rss_logins:.1} after them)",
        verdict(rss_ok),
        base.logins.len()
    );
    if missing > 0 || !ended_early.is_empty() || total == 0 {
        let first = ended_early.first().cloned().unwrap_or_default();
        sum.fail(
            "sse_delivery_ms",
            &format!(
                "{missing} of {expected} deliveries missing; {} streams ended early ({first}); server log:\n{log}",
                ended_early.len()
            ),
        );
    } else {
        sum.add(
            "sse_delivery_ms",
            format!("p50={p50:.2} p99={p99:.2} ({total} deliveries)"),
            &format!("p99 < {SSE_P99_TARGET_MS:.0}"),
            verdict(p99_ok),
        );
    }
    sum.add(
        "sse_server_rss_mb",
        format!("{rss:.1} MB ({n_streams} streams; peak {hwm:.1})"),
        &format!("< {SSE_RSS_TARGET_MB:.0} MB"),
        verdict(rss_ok),
    );
    Ok(())
}

// ---------------------------------------------------------------- 3. agent home

const BODIES: [&str; 6] = [
    "Olá, meu pedido ainda não chegou, pode verificar por favor?",
    "Claro! Vou consultar a transportadora e já retorno.",
    "O código de rastreio não mostra nenhuma atualização desde segunda.",
    "Verifiquei aqui: a entrega está prevista para amanhã à tarde.",
    "Obrigado, fico no aguardo então.",
    "Precisa de mais alguma coisa? Estamos à disposição.",
];

/// Seeds `HIST_CONVERSATIONS` conversations with `MSGS_PER_CONV` messages
/// each, in one transaction, straight into SQLite.
fn seed_history(path: &Path, base: &Base) -> R<(i64, i64, i64, f64)> {
    let t = Instant::now();
    let conn = db::open_rw(path).map_err(err)?;
    let now = now_secs();
    let n = HIST_CONVERSATIONS;
    let queued_from = n - HIST_QUEUED;
    let mine_from = queued_from - HIST_MINE;
    let others_from = mine_from - HIST_OTHERS;
    let measured = base.agents[0];
    let others = &base.agents[1..];
    let all_agents = &base.agents;
    conn.execute_batch("BEGIN IMMEDIATE").map_err(err)?;
    {
        let mut contact = conn
            .prepare("INSERT INTO contacts (name, phone, email, created_at) VALUES (?1, ?2, ?3, ?4)")
            .map_err(err)?;
        let mut conv = conn
            .prepare(
                "INSERT INTO conversations (queue_id, contact_id, channel, subject, status, agent_id, queued_at,
                   created_at, last_activity_at, closed_at, agent_read_id, page_url)
                 VALUES (?1, ?2, 'webchat', ?3, ?4, ?5, ?6, ?6, ?7, ?8, 0, ?9)",
            )
            .map_err(err)?;
        let mut msg = conn
            .prepare(
                "INSERT INTO messages (conversation_id, kind, author_id, author_name, body, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(err)?;
        let mut read = conn.prepare("UPDATE conversations SET agent_read_id = ?1 WHERE id = ?2").map_err(err)?;
        for i in 0..n {
            let created = now - (n - i) * 120 - 600;
            let (status, agent) = if i >= queued_from {
                ("queued", None)
            } else if i >= mine_from {
                ("assigned", Some(measured))
            } else if i >= others_from {
                ("assigned", Some(others[(i as usize) % others.len().max(1)]))
            } else if i % 10 == 0 {
                ("archived", Some(all_agents[(i as usize) % all_agents.len()]))
            } else {
                ("finished", Some(all_agents[(i as usize) % all_agents.len()]))
            };
            let closed = matches!(status, "finished" | "archived");
            let name = format!("Cliente {i}");
            contact
                .execute(params![
                    name,
                    format!("+55 11 9{:04}-{:04}", i / 10_000, i % 10_000),
                    format!("cliente{i}@example.com"),
                    created
                ])
                .map_err(err)?;
            let contact_id = conn.last_insert_rowid();
            let last = created + 60 * (MSGS_PER_CONV - 1);
            let queue = base.queues[(i as usize) % base.queues.len()];
            conv.execute(params![
                queue,
                contact_id,
                format!("Pedido {} não chegou", 100_000 + i),
                status,
                agent,
                created,
                last,
                closed.then_some(last),
                "https://loja.example.com/pedidos"
            ])
            .map_err(err)?;
            let cid = conn.last_insert_rowid();
            let agent_name = agent.map(|a| format!("Agente {:03}", a - base.agents[0])).unwrap_or_default();
            let (mut last_id, mut read_upto) = (0, 0);
            for k in 0..MSGS_PER_CONV {
                let at = created + 60 * k;
                let body = BODIES[((i + k) % BODIES.len() as i64) as usize];
                let (kind, author, author_name, text) = if k == 0 {
                    ("system", None, "", "ev.created")
                } else if closed && k == MSGS_PER_CONV - 1 {
                    (
                        "system",
                        agent,
                        agent_name.as_str(),
                        if status == "archived" { "ev.archived" } else { "ev.finished" },
                    )
                } else if agent.is_none() || k % 2 == 1 {
                    ("in", None, name.as_str(), body)
                } else {
                    ("out", agent, agent_name.as_str(), body)
                };
                msg.execute(params![cid, kind, author, author_name, text, at]).map_err(err)?;
                last_id = conn.last_insert_rowid();
                if k == MSGS_PER_CONV - 3 {
                    read_upto = last_id;
                }
            }
            if status == "assigned" {
                // Half of them have unread customer messages.
                read.execute(params![if i % 2 == 0 { last_id } else { read_upto }, cid]).map_err(err)?;
            }
        }
        let mut connect =
            conn.prepare("INSERT OR IGNORE INTO queue_connections (user_id, queue_id) VALUES (?1, ?2)").map_err(err)?;
        for q in &base.queues {
            connect.execute([measured, *q]).map_err(err)?;
        }
    }
    conn.execute_batch("COMMIT").map_err(err)?;
    let convs: i64 = conn.query_row("SELECT count(*) FROM conversations", [], |r| r.get(0)).map_err(err)?;
    let msgs: i64 = conn.query_row("SELECT count(*) FROM messages", [], |r| r.get(0)).map_err(err)?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").map_err(err)?;
    conn.close().map_err(|(_, e)| err(e))?;
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) as i64;
    Ok((convs, msgs, size, t.elapsed().as_secs_f64()))
}

struct LoadOut {
    ok: u64,
    other: u64,
    errors: u64,
    secs: f64,
    lat: Vec<f64>,
    first_problem: Option<String>,
}

/// `conns` keep-alive connections GETting `path` for `dur`.
async fn load_get(addr: SocketAddr, path: &str, cookie: &str, conns: usize, dur: Duration) -> R<LoadOut> {
    let req: Arc<Vec<u8>> = Arc::new(get_req(path, Some(cookie)));
    let start = Instant::now();
    let deadline = start + dur;
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let req = req.clone();
        tasks.push(tokio::spawn(async move {
            let mut o = LoadOut { ok: 0, other: 0, errors: 0, secs: 0.0, lat: Vec::new(), first_problem: None };
            let mut conn: Option<HttpConn> = None;
            for _ in 0..10_000_000u64 {
                if Instant::now() >= deadline {
                    break;
                }
                if conn.is_none() {
                    match HttpConn::connect(addr).await {
                        Ok(c) => conn = Some(c),
                        Err(e) => {
                            o.errors += 1;
                            o.first_problem.get_or_insert(e);
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    }
                }
                let Some(c) = conn.as_mut() else { continue };
                let t = Instant::now();
                match c.request(&req).await {
                    Ok(r) => {
                        if r.status == 200 {
                            o.ok += 1;
                            o.lat.push(ms(t.elapsed()));
                        } else {
                            o.other += 1;
                            o.first_problem.get_or_insert(format!("status {}", r.status));
                        }
                        if !r.keep {
                            conn = None;
                        }
                    }
                    Err(e) => {
                        o.errors += 1;
                        o.first_problem.get_or_insert(e);
                        conn = None;
                    }
                }
            }
            o
        }));
    }
    let mut all = LoadOut { ok: 0, other: 0, errors: 0, secs: 0.0, lat: Vec::new(), first_problem: None };
    for t in tasks {
        let o = t.await.map_err(err)?;
        all.ok += o.ok;
        all.other += o.other;
        all.errors += o.errors;
        all.lat.extend(o.lat);
        if all.first_problem.is_none() {
            all.first_problem = o.first_problem;
        }
    }
    all.secs = start.elapsed().as_secs_f64();
    Ok(all)
}

struct WrkOut {
    rps: f64,
    p50: f64,
    p99: f64,
    requests: u64,
    non2xx: u64,
    socket_errors: String,
}

/// A wrk duration ("850.00us", "1.23ms", "1.02s", "1.5m") in ms.
fn wrk_ms(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Some(v) = s.strip_suffix("us") {
        v.parse::<f64>().ok().map(|v| v / 1000.0)
    } else if let Some(v) = s.strip_suffix("ms") {
        v.parse().ok()
    } else if let Some(v) = s.strip_suffix('s') {
        v.parse::<f64>().ok().map(|v| v * 1000.0)
    } else if let Some(v) = s.strip_suffix('m') {
        v.parse::<f64>().ok().map(|v| v * 60_000.0)
    } else {
        None
    }
}

fn run_wrk(url: &str, cookie: &str, conns: usize, secs: u64) -> R<WrkOut> {
    let mut child = Command::new("/usr/bin/wrk")
        .arg("-t1")
        .arg(format!("-c{conns}"))
        .arg(format!("-d{secs}s"))
        .arg("--latency")
        .arg("-H")
        .arg(format!("Cookie: {cookie}"))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run wrk: {e}"))?;
    let t = Instant::now();
    let limit = Duration::from_secs(secs + 20);
    let status = loop {
        match child.try_wait().map_err(err)? {
            Some(s) => break s,
            None if t.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("wrk did not finish in time".into());
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    if !status.success() {
        let mut e = String::new();
        if let Some(mut o) = child.stderr.take() {
            let _ = o.read_to_string(&mut e);
        }
        return Err(format!("wrk failed ({status}): {e}{out}"));
    }
    let mut w =
        WrkOut { rps: f64::NAN, p50: f64::NAN, p99: f64::NAN, requests: 0, non2xx: 0, socket_errors: String::new() };
    for l in out.lines() {
        let l = l.trim();
        if let Some(v) = l.strip_prefix("Requests/sec:") {
            w.rps = v.trim().parse().map_err(err)?;
        } else if let Some(v) = l.strip_prefix("50%") {
            w.p50 = wrk_ms(v).unwrap_or(f64::NAN);
        } else if let Some(v) = l.strip_prefix("99%") {
            w.p99 = wrk_ms(v).unwrap_or(f64::NAN);
        } else if let Some(v) = l.strip_prefix("Non-2xx or 3xx responses:") {
            w.non2xx = v.trim().parse().unwrap_or(0);
        } else if let Some(v) = l.strip_prefix("Socket errors:") {
            w.socket_errors = v.trim().to_string();
        } else if l.contains(" requests in ") {
            w.requests = l.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
        }
    }
    if w.rps.is_nan() || w.p99.is_nan() {
        return Err(format!("no Requests/sec or 99% line in wrk output:\n{out}"));
    }
    Ok(w)
}

struct Rate {
    rps: f64,
    p50: f64,
    p99: f64,
    method: String,
}

/// Request rate of `path` under `conns` connections: wrk if installed, else
/// the keep-alive loop.
async fn rate(addr: SocketAddr, path: &str, cookie: &str, conns: usize, secs: u64) -> R<Rate> {
    let use_wrk = Path::new("/usr/bin/wrk").exists() && std::env::var_os("ATENDE_BENCH_NO_WRK").is_none();
    if use_wrk {
        let url = format!("http://{addr}{path}");
        let c = cookie.to_string();
        let w = tokio::task::spawn_blocking(move || run_wrk(&url, &c, conns, secs)).await.map_err(err)??;
        if w.non2xx > 0 || !w.socket_errors.is_empty() {
            return Err(format!("wrk: {} non-2xx/3xx, socket errors [{}]", w.non2xx, w.socket_errors));
        }
        Ok(Rate {
            rps: w.rps,
            p50: w.p50,
            p99: w.p99,
            method: format!("wrk -t1 -c{conns} -d{secs}s --latency, {} requests", w.requests),
        })
    } else {
        let mut o = load_get(addr, path, cookie, conns, Duration::from_secs(secs)).await?;
        if o.other > 0 || o.errors > 0 || o.ok == 0 {
            return Err(format!(
                "{} ok, {} non-200, {} errors (first: {})",
                o.ok,
                o.other,
                o.errors,
                o.first_problem.unwrap_or_default()
            ));
        }
        Ok(Rate {
            rps: o.ok as f64 / o.secs,
            p50: pct(&mut o.lat, 50.0),
            p99: pct(&mut o.lat, 99.0),
            method: format!("keep-alive loop, {conns} tokio tasks, {} requests", o.ok),
        })
    }
}

/// The path of the next-page link of a `list` page, if it has one.
fn next_page_link(body: &str, list: &str) -> Option<String> {
    let marker = format!("href=\"{list}?apos=");
    let start = body.find(&marker)? + "href=\"".len();
    let len = body[start..].find('"')?;
    Some(body[start..start + len].replace("&amp;", "&"))
}

/// Ids of the conversations a list page links to (`href="/atendimentos/{id}"`).
fn conversation_links(body: &str) -> Vec<i64> {
    let marker = "href=\"/atendimentos/";
    let mut ids = Vec::new();
    for part in body.split(marker).skip(1) {
        let digits: String = part.chars().take_while(|c| c.is_ascii_digit()).collect();
        if part[digits.len()..].starts_with('"')
            && let Ok(id) = digits.parse()
        {
            ids.push(id);
        }
    }
    ids
}

/// The "Na fila" list walked page by page.
struct PageWalk {
    /// Number of the last page (1-based) and its path.
    last_page: usize,
    last_path: String,
    /// Rows on page 1 and on the last page.
    first_rows: usize,
    last_rows: usize,
    /// Distinct conversations over all pages, and rows seen in all.
    distinct: usize,
    rows: usize,
    secs: f64,
}

/// Follows the next-page links of [`QUEUED_LIST`] from page 1 until a page
/// has none (at most `PAGE_HOPS` pages, `PAGE_WALK_LIMIT`).
async fn walk_queued(addr: SocketAddr, cookie: &str) -> R<PageWalk> {
    let mut c = HttpConn::connect(addr).await?;
    let mut path = QUEUED_LIST.to_string();
    let mut seen = std::collections::HashSet::new();
    let (mut rows, mut first_rows) = (0, 0);
    let t = Instant::now();
    for page in 1..=PAGE_HOPS {
        let r = c.request(&get_req(&path, Some(cookie))).await?;
        if r.status != 200 {
            return Err(format!(
                "GET {path} (page {page}) answered {} {}",
                r.status,
                r.header("location").unwrap_or("")
            ));
        }
        let body = r.text();
        let ids = conversation_links(&body);
        if page == 1 {
            first_rows = ids.len();
        }
        rows += ids.len();
        seen.extend(ids.iter().copied());
        if !r.keep {
            c = HttpConn::connect(addr).await?;
        }
        match next_page_link(&body, QUEUED_LIST) {
            None => {
                return Ok(PageWalk {
                    last_page: page,
                    last_path: path,
                    first_rows,
                    last_rows: ids.len(),
                    distinct: seen.len(),
                    rows,
                    secs: t.elapsed().as_secs_f64(),
                });
            }
            Some(_) if t.elapsed() > PAGE_WALK_LIMIT => {
                return Err(format!("walk along the next links took over {PAGE_WALK_LIMIT:?} (page {page})"));
            }
            Some(next) => path = next,
        }
    }
    Err(format!("{QUEUED_LIST} has more than {PAGE_HOPS} pages"))
}

/// Page 1 and the deep page of "Na fila", measured.
struct PagesRun {
    walk: PageWalk,
    /// p50, p99, bytes.
    first: (f64, f64, usize),
    deep: (f64, f64, usize),
}

/// Walks the list, checks it, then requests page 1 and the last page
/// alternately on one connection (`PAGE_REQUESTS` each after 20 unmeasured
/// of each), so a background load hits both alike.
async fn list_pages(addr: SocketAddr, cookie: &str) -> R<PagesRun> {
    let walk = walk_queued(addr, cookie).await?;
    let expected_pages = (HIST_QUEUED as usize).div_ceil(PAGE_ROWS);
    if walk.distinct != HIST_QUEUED as usize || walk.rows != walk.distinct || walk.last_page != expected_pages {
        return Err(format!(
            "{QUEUED_LIST}: {} pages, {} rows, {} distinct conversations; expected {expected_pages} pages of \
             {HIST_QUEUED} queued conversations, each once",
            walk.last_page, walk.rows, walk.distinct
        ));
    }
    let reqs = [get_req(QUEUED_LIST, Some(cookie)), get_req(&walk.last_path, Some(cookie))];
    let mut c = HttpConn::connect(addr).await?;
    let mut lat = [Vec::with_capacity(PAGE_REQUESTS), Vec::with_capacity(PAGE_REQUESTS)];
    let mut bytes = [0; 2];
    for i in 0..PAGE_REQUESTS + 20 {
        for k in 0..2 {
            let t = Instant::now();
            let r = c.request(&reqs[k]).await?;
            let d = ms(t.elapsed());
            if r.status != 200 {
                let path = if k == 0 { QUEUED_LIST } else { walk.last_path.as_str() };
                return Err(format!("GET {path} answered {} {}", r.status, r.header("location").unwrap_or("")));
            }
            bytes[k] = r.body.len();
            if i >= 20 {
                lat[k].push(d);
            }
            if !r.keep {
                c = HttpConn::connect(addr).await?;
            }
        }
    }
    let [mut a, mut b] = lat;
    Ok(PagesRun {
        walk,
        first: (pct(&mut a, 50.0), pct(&mut a, 99.0), bytes[0]),
        deep: (pct(&mut b, 50.0), pct(&mut b, 99.0), bytes[1]),
    })
}

/// Tables the query planner has statistics for (`sqlite_stat1`).
fn stat_tables(path: &Path) -> R<Vec<String>> {
    let conn = db::open_ro(path).map_err(err)?;
    let has: bool = conn
        .query_row("SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1')", [], |r| r.get(0))
        .map_err(err)?;
    if !has {
        return Ok(Vec::new());
    }
    let mut st = conn.prepare("SELECT DISTINCT tbl FROM sqlite_stat1 ORDER BY tbl").map_err(err)?;
    let v = st.query_map([], |r| r.get(0)).map_err(err)?.collect::<Result<_, _>>().map_err(err)?;
    Ok(v)
}

/// Forgets the planner statistics, as in a database the server never closed.
fn drop_stats(path: &Path) -> R<()> {
    let conn = db::open_rw(path).map_err(err)?;
    for t in ["sqlite_stat1", "sqlite_stat4"] {
        let has: bool = conn
            .query_row("SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE name = ?1)", [t], |r| r.get(0))
            .map_err(err)?;
        if has {
            conn.execute_batch(&format!("DELETE FROM {t}")).map_err(err)?;
        }
    }
    conn.close().map_err(|(_, e)| err(e))
}

/// What one server run on the seeded database measured.
struct HomeRun {
    seq: (f64, f64, usize),
    lists_seq: (f64, f64, usize),
    home: R<Rate>,
    lists: Option<R<Rate>>,
    pages: R<PagesRun>,
    cpu_s: f64,
    wall_s: f64,
    rss: f64,
    start_ms: f64,
    contact_rows: usize,
}

/// Starts the server on the seeded data, logs the measured agent in (once),
/// checks the page and measures it: sequential, then `HOME_CONNS` connections
/// for `secs` (and the lists fragment when `lists_secs` is set).
async fn home_run(
    data: &Path,
    log: &Path,
    login_name: &str,
    cookie: &mut Option<String>,
    secs: u64,
    lists_secs: Option<u64>,
) -> R<HomeRun> {
    let (mut server, t0) = Server::spawn(data, log)?;
    let ready = server.wait_ready(t0, READY_LIMIT, POLL)?;
    let addr = server.addr();
    if cookie.is_none() {
        *cookie = Some(format!("atende_sid={}", login(addr, login_name).await?));
    }
    let cookie = cookie.clone().unwrap_or_default();

    // Sanity: the measured agent's home renders its lists.
    let mut c = HttpConn::connect(addr).await?;
    let r = c.request(&get_req("/atendimentos", Some(&cookie))).await?;
    if r.status != 200 {
        return Err(format!("GET /atendimentos answered {} {}", r.status, r.header("location").unwrap_or("")));
    }
    let contact_rows = r.text().matches("Cliente ").count();
    if contact_rows == 0 {
        return Err("GET /atendimentos shows no conversations".into());
    }
    drop(c);

    let (mut seq, bytes) = seq_get(addr, "/atendimentos", &cookie, SEQ_REQUESTS).await?;
    let (mut lseq, lbytes) = seq_get(addr, "/atendimentos/listas", &cookie, SEQ_REQUESTS).await?;
    let pages = list_pages(addr, &cookie).await;
    let spid = server.pid().to_string();
    let (cpu0, t_load) = (cpu_secs(&spid), Instant::now());
    let home = rate(addr, "/atendimentos", &cookie, HOME_CONNS, secs).await;
    let (cpu_s, wall_s) = (cpu_secs(&spid) - cpu0, t_load.elapsed().as_secs_f64());
    let lists = match lists_secs {
        Some(s) => Some(rate(addr, "/atendimentos/listas", &cookie, HOME_CONNS, s).await),
        None => None,
    };
    // The session must still be valid: a redirect to the login page would
    // have counted as a fast 3xx under wrk.
    let after = seq_get(addr, "/atendimentos", &cookie, 1).await;
    let rss = status_kb(server.pid(), "VmRSS:").map(|k| k as f64 / 1024.0).unwrap_or(f64::NAN);
    let log = server.log_tail();
    tokio::task::spawn_blocking(move || server.stop()).await.map_err(err)??;
    if let Err(e) = after {
        return Err(format!("after the load: {e}; server log:\n{log}"));
    }
    let with_log = |r: R<Rate>| r.map_err(|e| format!("{e}; server log:\n{log}"));
    let pages = pages.map_err(|e| format!("{e}; server log:\n{log}"));
    Ok(HomeRun {
        seq: (pct(&mut seq, 50.0), pct(&mut seq, 99.0), bytes),
        lists_seq: (pct(&mut lseq, 50.0), pct(&mut lseq, 99.0), lbytes),
        home: with_log(home),
        lists: lists.map(with_log),
        pages,
        cpu_s,
        wall_s,
        rss,
        start_ms: ms(ready),
        contact_rows,
    })
}

/// Prints and records the home figures of one run under `prefix`.
fn report_home(sum: &mut Summary, prefix: &str, run: &HomeRun, note: &str) {
    let (s50, s99, bytes) = run.seq;
    println!(
        "{prefix}_sequential_ms p50={s50:.2} p99={s99:.2} requests={SEQ_REQUESTS} bytes={bytes} \
         contact_rows={} server_start_ms={:.0} (one connection, unloaded{note})",
        run.contact_rows, run.start_ms
    );
    match &run.home {
        Ok(h) => {
            let rps_ok = h.rps >= HOME_RPS_TARGET;
            let p99_ok = h.p99 < HOME_P99_TARGET_MS;
            println!(
                "{prefix}_rps value={:.0} target=>={HOME_RPS_TARGET:.0} {} method=[{}] server_rss_mb={:.1} \
                 server_cpu_s={:.1} wall_s={:.1} (server {:.0}% of one core, {:.2} ms cpu/request{note})",
                h.rps,
                verdict(rps_ok),
                h.method,
                run.rss,
                run.cpu_s,
                run.wall_s,
                100.0 * run.cpu_s / run.wall_s,
                1000.0 * run.cpu_s / (h.rps * run.wall_s)
            );
            println!(
                "{prefix}_latency_ms p50={:.2} p99={:.2} target=p99<{HOME_P99_TARGET_MS:.0} {}",
                h.p50,
                h.p99,
                verdict(p99_ok)
            );
            sum.add(
                &format!("{prefix}_rps"),
                format!("{:.0} req/s", h.rps),
                &format!(">= {HOME_RPS_TARGET:.0}/s"),
                verdict(rps_ok),
            );
            sum.add(
                &format!("{prefix}_latency_ms"),
                format!("p50={:.2} p99={:.2}", h.p50, h.p99),
                &format!("p99 < {HOME_P99_TARGET_MS:.0}"),
                verdict(p99_ok),
            );
        }
        Err(e) => sum.fail(&format!("{prefix}_rps"), e),
    }
    sum.add(&format!("{prefix}_sequential_ms"), format!("p50={s50:.2} p99={s99:.2}"), "", "");
    report_pages(sum, prefix, &run.pages, note);
}

/// Prints and records page 1 versus the deep page of "Na fila".
fn report_pages(sum: &mut Summary, prefix: &str, pages: &R<PagesRun>, note: &str) {
    let p = match pages {
        Ok(p) => p,
        Err(e) => return sum.fail(&format!("{prefix}_deep_page_ms"), e),
    };
    let w = &p.walk;
    let ((f50, f99, fbytes), (d50, d99, dbytes)) = (p.first, p.deep);
    let ratio = d50 / f50;
    let ok = ratio <= PAGE_RATIO_TARGET;
    println!(
        "{prefix}_page1_ms p50={f50:.2} p99={f99:.2} requests={PAGE_REQUESTS} rows={} bytes={fbytes} \
         (GET {QUEUED_LIST}, one connection, unloaded{note})",
        w.first_rows
    );
    println!(
        "{prefix}_deep_page_ms page={} p50={d50:.2} p99={d99:.2} requests={PAGE_REQUESTS} rows={} bytes={dbytes} \
         p50_vs_page1={ratio:.2}x target=<={PAGE_RATIO_TARGET}x {} (GET {}, alternating with page 1)",
        w.last_page,
        w.last_rows,
        verdict(ok),
        w.last_path
    );
    println!(
        "{prefix}_page_walk pages={} rows={} distinct={} secs={:.2} (next links followed from page 1)",
        w.last_page, w.rows, w.distinct, w.secs
    );
    sum.add(&format!("{prefix}_page1_ms"), format!("p50={f50:.2} p99={f99:.2}"), "", "");
    sum.add(
        &format!("{prefix}_deep_page_ms"),
        format!("page={} p50={d50:.2} p99={d99:.2} ({ratio:.2}x page 1)", w.last_page),
        &format!("p50 <= {PAGE_RATIO_TARGET}x page 1"),
        verdict(ok),
    );
}

async fn bench_home(sum: &mut Summary) -> R<()> {
    let tmp = tempfile::tempdir().map_err(err)?;
    let data = tmp.path().join("data");
    let base = seed_base(&data, "home", HOME_QUEUES, HOME_AGENTS).await?;
    let path = data.join("atende.db");
    let (convs, msgs, size, secs) = {
        let p = path.clone();
        let b = Base { queues: base.queues.clone(), agents: base.agents.clone(), logins: vec![] };
        tokio::task::spawn_blocking(move || seed_history(&p, &b)).await.map_err(err)??
    };
    println!(
        "home_seed conversations={convs} messages={msgs} queued={HIST_QUEUED} mine={HIST_MINE} \
         others_assigned={HIST_OTHERS} queues={HOME_QUEUES} size_mb={:.1} secs={secs:.1}",
        size as f64 / 1e6
    );
    if convs < HIST_CONVERSATIONS || msgs < HIST_CONVERSATIONS * MSGS_PER_CONV {
        return Err(format!("seed incomplete: {convs} conversations, {msgs} messages"));
    }
    // The setup went through the library, whose close ran `PRAGMA optimize`
    // (like any server restart): whatever statistics that left are kept.
    let stats = stat_tables(&path)?;
    println!("home_planner_stats sqlite_stat1=[{}] (left by the app's own PRAGMA optimize)", stats.join(", "));

    let mut cookie = None;
    let login_name = base.logins[0].clone();
    let run =
        home_run(&data, &tmp.path().join("home.log"), &login_name, &mut cookie, HOME_SECS, Some(LISTS_SECS)).await?;
    report_home(sum, "home", &run, "");
    let (l50, l99, lbytes) = run.lists_seq;
    println!(
        "lists_sequential_ms p50={l50:.2} p99={l99:.2} requests={SEQ_REQUESTS} bytes={lbytes} (one connection, unloaded)"
    );
    match &run.lists {
        Some(Ok(l)) => {
            println!("lists_rps value={:.0} p50={:.2} p99={:.2} method=[{}]", l.rps, l.p50, l.p99, l.method);
            sum.add("lists_rps", format!("{:.0} req/s (p50={:.2} p99={:.2})", l.rps, l.p50, l.p99), "", "");
        }
        Some(Err(e)) => sum.fail("lists_rps", e),
        None => {}
    }
    sum.add("lists_sequential_ms", format!("p50={l50:.2} p99={l99:.2}"), "", "");

    // The same database without planner statistics: a server that has not
    // been restarted since the data arrived.
    let dropped = stat_tables(&path)?;
    drop_stats(&path)?;
    println!("home_nostats: removed sqlite_stat1 rows for [{}], restarting", dropped.join(", "));
    let run = home_run(&data, &tmp.path().join("home-nostats.log"), &login_name, &mut cookie, LISTS_SECS, None).await?;
    report_home(sum, "home_nostats", &run, ", no planner statistics");
    Ok(())
}

// ---------------------------------------------------------------- main

fn main() {
    let Some((total, mut sum, rt)) = common::start("desk") else { return };

    println!(
        "\n-- 1. inbound visitor messages, POST /api/widget/{{queue}}/messages ({IN_TASKS} connections, {IN_TOTAL} messages, at most {IN_LIMIT:?})"
    );
    if let Err(e) = rt.block_on(bench_inbound(&mut sum)) {
        sum.fail("inbound_msgs_per_s", &e);
    }

    println!(
        "\n-- 2. SSE fan-out: {SSE_AGENTS} agents on GET /eventos, {SSE_MESSAGES} visitor messages {SSE_SPACING:?} apart"
    );
    if let Err(e) = rt.block_on(bench_sse(&mut sum)) {
        sum.fail("sse_delivery_ms", &e);
    }

    println!(
        "\n-- 3. agent home on {HIST_CONVERSATIONS} conversations / {} messages ({HOME_CONNS} connections, {HOME_SECS} s)",
        HIST_CONVERSATIONS * MSGS_PER_CONV
    );
    if let Err(e) = rt.block_on(bench_home(&mut sum)) {
        sum.fail("home_rps", &e);
    }
    common::finish(rt, total, sum, 240.0);
}
