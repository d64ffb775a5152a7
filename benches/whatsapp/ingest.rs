//! Section 1 of the WhatsApp bench: signed webhook batches, exactly as Meta
//! sends them, from [`CONNS`] keep-alive connections; acknowledged messages
//! per second, the latency of each batch, and then the database must hold
//! one `inbound_ids` row (and one `in` message) per message acknowledged.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use atende::db;
use serde_json::json;

use crate::common::http::HttpConn;
use crate::common::seed::seed_base;
use crate::common::{POLL, R, READY_LIMIT, Server, Summary, cpu_secs, err, ms, now_secs, pct, verdict, writer_cpu};
use crate::fake::Fake;
use crate::{envelope, loadavg, log_problems, mb, seed_number, webhook_req};

/// Webhook connections.
pub const CONNS: usize = 64;
/// Distinct senders.
const SENDERS: u64 = 3_000;
/// Most messages and longest run.
const MAX_MSGS: u64 = 60_000;
const LIMIT: Duration = Duration::from_secs(12);
/// Every `SEVERAL_EVERY`-th batch carries two senders' two messages each and
/// two statuses; the others one text message.
const SEVERAL_EVERY: u64 = 4;
/// Targets.
const RATE_TARGET: f64 = 5_000.0;
const P99_TARGET_MS: f64 = 25.0;

const TEXTS: [&str; 5] = [
    "Oi, boa tarde! Meu pedido ainda não chegou.",
    "Vocês entregam no sábado?",
    "Qual o prazo para troca de um produto com defeito?",
    "Obrigado pelo retorno 😊",
    "Segue o número do pedido: 48213. Podem verificar?",
];

/// One prepared request and the messages it carries.
struct Batch {
    req: Vec<u8>,
    msgs: u64,
}

fn wa_id(s: u64) -> String {
    format!("551198{:07}", 1_000_000 + s)
}

/// The batches, in order, until they carry `MAX_MSGS` messages.
fn batches(queue: i64) -> Vec<Batch> {
    let now = now_secs().to_string();
    let mut out = Vec::new();
    let (mut msgs, mut b, mut st) = (0u64, 0u64, 0u64);
    while msgs < MAX_MSGS {
        let s1 = (b * 7919) % SENDERS;
        let message = |from: &str, k: u64| {
            json!({"from": from, "id": format!("wamid.HBgNNTUxMTk4QkVOQ0gV{b:07}{k}"), "timestamp": now,
                   "type": "text", "text": {"body": TEXTS[((b + k) % TEXTS.len() as u64) as usize]}})
        };
        let contact = |from: &str, s: u64| json!({"profile": {"name": format!("Cliente {s}")}, "wa_id": from});
        let (body, n) = if b % SEVERAL_EVERY == SEVERAL_EVERY - 1 {
            let s2 = (s1 + 1) % SENDERS;
            let (a, c) = (wa_id(s1), wa_id(s2));
            let mut statuses = Vec::new();
            for k in 0..2 {
                st += 1;
                statuses.push(json!({"id": format!("wamid.HBgNOUTGOING{st:08}"), "status": if k == 0 { "delivered" } else { "read" },
                    "timestamp": now, "recipient_id": a}));
            }
            let body = envelope(
                json!([contact(&a, s1), contact(&c, s2)]),
                json!([message(&a, 0), message(&a, 1), message(&c, 2), message(&c, 3)]),
                json!(statuses),
            );
            (body, 4)
        } else {
            let a = wa_id(s1);
            (envelope(json!([contact(&a, s1)]), json!([message(&a, 0)]), json!([])), 1)
        };
        out.push(Batch { req: webhook_req(queue, &body), msgs: n });
        msgs += n;
        b += 1;
    }
    out
}

#[derive(Default)]
struct Stats {
    ok_msgs: u64,
    ok_reqs: u64,
    other: u64,
    errors: u64,
    lat: Vec<f64>,
    /// (seconds since the start, latency ms) of each answer.
    timeline: Vec<(f64, f64)>,
    secs: f64,
    first_problem: Option<String>,
}

/// `CONNS` connections taking the next batch in turn for `LIMIT`.
async fn load(addr: SocketAddr, batches: Arc<Vec<Batch>>) -> R<Stats> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(CONNS);
    for _ in 0..CONNS {
        let (batches, next) = (batches.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = Stats { lat: Vec::with_capacity(4096), ..Default::default() };
            let mut conn: Option<HttpConn> = None;
            for _ in 0..batches.len() {
                if start.elapsed() >= LIMIT {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(b) = batches.get(i) else { break };
                if conn.is_none() {
                    match HttpConn::connect(addr).await {
                        Ok(c) => conn = Some(c),
                        Err(e) => {
                            s.errors += 1;
                            s.first_problem.get_or_insert(format!("connect: {e}"));
                            continue;
                        }
                    }
                }
                let Some(c) = conn.as_mut() else { continue };
                let t = Instant::now();
                match c.request(&b.req).await {
                    Ok(r) => {
                        let l = ms(t.elapsed());
                        s.lat.push(l);
                        s.timeline.push((start.elapsed().as_secs_f64(), l));
                        if r.status == 200 {
                            s.ok_reqs += 1;
                            s.ok_msgs += b.msgs;
                        } else {
                            s.other += 1;
                            s.first_problem.get_or_insert(format!("status {} {}", r.status, r.snippet()));
                        }
                        if !r.keep {
                            conn = None;
                        }
                    }
                    Err(e) => {
                        s.errors += 1;
                        s.first_problem.get_or_insert(e);
                        conn = None;
                    }
                }
            }
            s
        }));
    }
    let mut all = Stats::default();
    for t in tasks {
        let s = t.await.map_err(err)?;
        all.ok_msgs += s.ok_msgs;
        all.ok_reqs += s.ok_reqs;
        all.other += s.other;
        all.errors += s.errors;
        all.lat.extend(s.lat);
        all.timeline.extend(s.timeline);
        if all.first_problem.is_none() {
            all.first_problem = s.first_problem;
        }
    }
    all.secs = start.elapsed().as_secs_f64();
    Ok(all)
}

/// Section 1.
pub async fn bench(sum: &mut Summary, root: &Path, fake: &Fake) -> R<()> {
    let data = root.join("ingest");
    let base = seed_base(&data, "wa", 1, 1).await?;
    let queue = base.queues[0];
    let path = data.join("atende.db");
    {
        let c = db::open_rw(&path).map_err(err)?;
        seed_number(&c, queue, fake.addr, 80)?;
    }
    let t = Instant::now();
    let batches = Arc::new(batches(queue));
    let (n_msgs, bytes): (u64, usize) = batches.iter().fold((0, 0), |(m, b), x| (m + x.msgs, b + x.req.len()));
    println!(
        "wa_ingest_prepared batches={} messages={n_msgs} senders={SENDERS} mean_request_bytes={} secs={:.1}",
        batches.len(),
        bytes / batches.len().max(1),
        t.elapsed().as_secs_f64()
    );
    let log = root.join("ingest.log");
    let (mut server, t0) = Server::spawn(&data, &log)?;
    server.wait_ready(t0, READY_LIMIT, POLL)?;
    let pid = server.pid();
    let spid = pid.to_string();
    let (cpu0, w0, b0) = (cpu_secs(&spid), writer_cpu(pid), cpu_secs("self"));
    let mut s = load(server.addr(), batches).await?;
    let (cpu, wcpu, bcpu) = (cpu_secs(&spid) - cpu0, writer_cpu(pid) - w0, cpu_secs("self") - b0);
    let (rss, hwm) = (mb(pid, "VmRSS:"), mb(pid, "VmHWM:"));
    let tail = server.log_tail();
    tokio::task::spawn_blocking(move || server.stop()).await.map_err(err)??;

    let rate = s.ok_msgs as f64 / s.secs.max(1e-9);
    let rps = s.ok_reqs as f64 / s.secs.max(1e-9);
    let (p50, p99) = (pct(&mut s.lat, 50.0), pct(&mut s.lat, 99.0));
    let max = s.lat.last().copied().unwrap_or(f64::NAN);
    let ok = rate >= RATE_TARGET && p99 < P99_TARGET_MS;
    println!(
        "wa_ingest msgs_per_s={rate:.0} batches_per_s={rps:.0} p50_ms={p50:.2} p99_ms={p99:.2} max_ms={max:.1} \
         acknowledged_msgs={} acknowledged_batches={} non_200={} errors={} secs={:.1} server_cpu={:.0}% \
         ({:.3} ms cpu/msg) writer_thread_cpu={:.0}% bench_process_cpu={:.0}% load_avg=[{}] target=>={RATE_TARGET:.0}/s,p99<{P99_TARGET_MS:.0}ms {}",
        s.ok_msgs,
        s.ok_reqs,
        s.other,
        s.errors,
        s.secs,
        100.0 * cpu / s.secs.max(1e-9),
        1000.0 * cpu / s.ok_msgs.max(1) as f64,
        100.0 * wcpu / s.secs.max(1e-9),
        100.0 * bcpu / s.secs.max(1e-9),
        loadavg(),
        verdict(ok)
    );
    // Second by second: the first are the new customers' (contact,
    // conversation and routing), the others known ones'.
    for sec in 0..LIMIT.as_secs() {
        let mut v: Vec<f64> =
            s.timeline.iter().filter(|(at, _)| *at >= sec as f64 && *at < (sec + 1) as f64).map(|(_, l)| *l).collect();
        if !v.is_empty() {
            let n = v.len();
            println!(
                "wa_ingest_second s={sec} batches={n} p50_ms={:.1} p99_ms={:.1}",
                pct(&mut v, 50.0),
                pct(&mut v, 99.0)
            );
        }
    }
    println!("wa_ingest_server_memory rss_mb={rss:.1} hwm_mb={hwm:.1} (right after the load)");

    let conn = db::open_ro(&path).map_err(err)?;
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map_err(err);
    let ids = count("SELECT count(*) FROM inbound_ids WHERE channel = 'whatsapp'")?;
    let ins = count("SELECT count(*) FROM messages WHERE kind = 'in'")?;
    let contacts = count("SELECT count(*) FROM whatsapp_identities")?;
    let convs = count("SELECT count(*) FROM conversations WHERE channel = 'whatsapp'")?;
    drop(conn);
    let rows_ok = ids == s.ok_msgs as i64 && ins == ids;
    let (warns, first) = log_problems(&log);
    println!(
        "wa_ingest_db_check inbound_ids={ids} in_messages={ins} acknowledged={} match={} senders_seen={contacts} \
         conversations={convs} server_log_warn_error_lines={warns}",
        s.ok_msgs,
        if rows_ok { "yes (no loss, no duplicate)" } else { "NO" }
    );
    for l in &first {
        println!("  log: {l}");
    }
    if s.ok_msgs == 0 || s.other > 0 || s.errors > 0 {
        sum.fail(
            "wa_ingest_msgs_per_s",
            &format!(
                "{} ok, {} non-200, {} errors (first: {}); log:\n{tail}",
                s.ok_reqs,
                s.other,
                s.errors,
                s.first_problem.unwrap_or_default()
            ),
        );
        return Ok(());
    }
    if !rows_ok {
        sum.fail("wa_ingest_db_check", &format!("{ids} inbound_ids, {ins} in messages for {} acknowledged", s.ok_msgs));
        return Ok(());
    }
    sum.add(
        "wa_ingest_msgs_per_s",
        format!("{rate:.0}/s p50={p50:.2} p99={p99:.2}"),
        &format!(">= {RATE_TARGET:.0}/s, p99 < {P99_TARGET_MS:.0}"),
        verdict(ok),
    );
    sum.add("wa_ingest_batches_per_s", format!("{rps:.0}/s"), "", "");
    sum.add("wa_ingest_inbound_ids", format!("{ids} = {} acknowledged", s.ok_msgs), "equal", verdict(rows_ok));
    sum.add("wa_ingest_rss_mb", format!("{rss:.1} (peak {hwm:.1})"), "", "");
    Ok(())
}
