//! Section 2 of the workspace bench: inbound visitor messages through the
//! public widget API, on the paths a real site produces, side by side on one
//! server so they can be compared:
//!
//! a. a new visitor and a new conversation per request (what a load tool
//!    posting an empty token each time measures);
//! b. existing conversations: visitors created first, then each posts at
//!    most [`EXIST_PER`] more (the limiter's burst is 8: 1 + 7), in turn;
//! c. the desk bench's mix: a new visitor every 8 messages;
//! d. path (a) with `Connection: close` (a new TCP connection per request).
//!
//! Then the `in` messages in the database must equal the 200 answers and the
//! conversations the answers that started one. Last, the limiter itself:
//! the cost of one new visitor's check with few visitors remembered and just
//! past its 100,000-visitor cap.

use std::time::{Duration, Instant};

use atende::channels::webchat::Limiter;
use atende::db;

use crate::common::seed::seed_base;
use crate::common::{POLL, R, READY_LIMIT, Server, Summary, cpu_secs, err, verdict, writer_cpu};
use crate::load::{InStats, VisitorRun, Visitors, visitors};
use crate::loadavg;

/// Visitor connections.
pub const CONNS: usize = 64;
/// (a): most messages and longest run.
const NEW_TOTAL: u64 = 40_000;
const NEW_LIMIT: Duration = Duration::from_secs(10);
/// (b): visitors per connection created first, messages each afterwards.
const EXIST_VISITORS_PER_CONN: usize = 50;
const EXIST_PER: usize = 7;
const EXIST_LIMIT: Duration = Duration::from_secs(10);
/// (c): the desk bench's fresh visitor every `MIX_EVERY` messages.
const MIX_EVERY: u32 = 8;
const MIX_TOTAL: u64 = 30_000;
const MIX_LIMIT: Duration = Duration::from_secs(5);
/// (d): `Connection: close`.
const CLOSE_TOTAL: u64 = 10_000;
const CLOSE_LIMIT: Duration = Duration::from_secs(3);
/// Targets of path (a).
pub const RATE_TARGET: f64 = 5_000.0;
pub const P99_TARGET_MS: f64 = 25.0;
/// `webchat::LIMITER_MAX`: visitors the limiter remembers before it prunes.
const LIMITER_CAP: u64 = 100_000;

struct Phase {
    name: &'static str,
    what: &'static str,
    stats: InStats,
    server_cpu: f64,
    writer_cpu: f64,
}

async fn phase(
    server: &Server,
    name: &'static str,
    what: &'static str,
    run: VisitorRun,
    modes: Vec<Visitors>,
    total: u64,
    limit: Duration,
) -> R<Phase> {
    let spid = server.pid().to_string();
    let (cpu0, w0) = (cpu_secs(&spid), writer_cpu(server.pid()));
    let stats = visitors(server.addr(), run, modes, CONNS, total, limit).await?;
    let writer_cpu = writer_cpu(server.pid()) - w0;
    Ok(Phase { name, what, stats, server_cpu: cpu_secs(&spid) - cpu0, writer_cpu })
}

fn print_phase(p: &mut Phase) -> (f64, f64, f64) {
    let (rate, p50, p99) = p.stats.figures();
    let s = &p.stats;
    let max = s.lat.last().copied().unwrap_or(f64::NAN);
    println!(
        "inbound_{} msgs_per_s={rate:.0} p50_ms={p50:.2} p99_ms={p99:.2} max_ms={max:.1} ok={} new_conversations={} \
         secs={:.1} server_cpu={:.0}% ({:.3} ms cpu/msg) writer_thread_cpu={:.0}% request_bytes={} response_bytes={} load_avg=[{}] ({})",
        p.name,
        s.ok,
        s.new_conversations,
        s.secs,
        100.0 * p.server_cpu / s.secs.max(1e-9),
        1000.0 * p.server_cpu / (s.ok.max(1) as f64),
        100.0 * p.writer_cpu / s.secs.max(1e-9),
        s.req_bytes,
        s.resp_bytes,
        loadavg(),
        p.what
    );
    (rate, p50, p99)
}

/// The limiter's cost for one new visitor, in µs: with `LIMITER_CAP / 100`
/// visitors remembered, and with `LIMITER_CAP + 1` all seen in the last
/// minute (what a minute of new visitors at 1,700/s leaves).
fn limiter_cost() -> (f64, f64) {
    let key = |i: u64| {
        let mut k = [0u8; 32];
        for c in k.chunks_mut(8) {
            c.copy_from_slice(&i.to_le_bytes());
        }
        k
    };
    let l = Limiter::default();
    let time = |from: u64, n: u64| {
        let t = Instant::now();
        for i in from..from + n {
            std::hint::black_box(l.allow(&key(i), 0.0));
        }
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    };
    let few = LIMITER_CAP / 100;
    for i in 0..few {
        l.allow(&key(i), 0.0);
    }
    let small = time(few, 1_000);
    for i in few + 1_000..=LIMITER_CAP {
        l.allow(&key(i), 0.0);
    }
    let big = time(10 * LIMITER_CAP, 100);
    (small, big)
}

/// Section 2.
pub async fn bench(sum: &mut Summary) -> R<()> {
    let tmp = tempfile::tempdir().map_err(err)?;
    let data = tmp.path().join("data");
    let base = seed_base(&data, "in", 1, 3).await?;
    let queue = base.queues[0];
    let (mut server, t0) = Server::spawn(&data, &tmp.path().join("inbound.log"))?;
    server.wait_ready(t0, READY_LIMIT, POLL)?;
    let path = format!("/api/widget/{queue}/messages");
    let run = |mode_close: bool, keep: bool| VisitorRun { path: path.clone(), close: mode_close, keep_tokens: keep };

    let mut phases = Vec::new();
    let a = phase(
        &server,
        "new",
        "a: empty token every request, a new visitor + conversation each",
        run(false, false),
        vec![Visitors::NewEach],
        NEW_TOTAL,
        NEW_LIMIT,
    )
    .await?;
    phases.push(a);
    let setup_total = (CONNS * EXIST_VISITORS_PER_CONN) as u64;
    let setup = phase(
        &server,
        "existing_setup",
        "b setup: one first message per visitor",
        run(false, true),
        vec![Visitors::NewEach],
        setup_total,
        Duration::from_secs(30),
    )
    .await?;
    if setup.stats.tokens.len() as u64 != setup_total {
        return Err(format!("setup made {} visitors of {setup_total}", setup.stats.tokens.len()));
    }
    let modes: Vec<Visitors> = setup
        .stats
        .tokens
        .chunks(EXIST_VISITORS_PER_CONN)
        .map(|c| Visitors::Existing { tokens: c.to_vec(), per: EXIST_PER })
        .collect();
    phases.push(setup);
    let b = phase(
        &server,
        "existing",
        "b: each connection's 50 visitors in turn, 7 more messages each, no new conversation",
        run(false, false),
        modes,
        setup_total * EXIST_PER as u64,
        EXIST_LIMIT,
    )
    .await?;
    phases.push(b);
    let c = phase(
        &server,
        "desk_mix",
        "c: a new visitor every 8 messages, as cargo bench --bench desk",
        run(false, false),
        vec![Visitors::NewEvery(MIX_EVERY)],
        MIX_TOTAL,
        MIX_LIMIT,
    )
    .await?;
    phases.push(c);
    let d = phase(
        &server,
        "new_close",
        "d: as a, with Connection: close (a TCP connect per request)",
        run(true, false),
        vec![Visitors::NewEach],
        CLOSE_TOTAL,
        CLOSE_LIMIT,
    )
    .await?;
    phases.push(d);
    let hwm = crate::mb(server.pid(), "VmHWM:");
    let log = server.log_tail();
    tokio::task::spawn_blocking(move || server.stop()).await.map_err(err)??;

    let mut figures = Vec::new();
    for p in &mut phases {
        figures.push(print_phase(p));
    }
    let (ok, new): (u64, u64) = phases.iter().fold((0, 0), |(o, n), p| (o + p.stats.ok, n + p.stats.new_conversations));
    let (in_rows, convs): (i64, i64) = {
        let conn = db::open_ro(&data.join("atende.db")).map_err(err)?;
        let a = conn.query_row("SELECT count(*) FROM messages WHERE kind = 'in'", [], |r| r.get(0)).map_err(err)?;
        let b = conn.query_row("SELECT count(*) FROM conversations", [], |r| r.get(0)).map_err(err)?;
        (a, b)
    };
    let rows_ok = in_rows == ok as i64 && convs == new as i64;
    println!(
        "inbound_db_check in_messages={in_rows} answers_200={ok} conversations={convs} new_conversation_answers={new} \
         match={} server_peak_rss_mb={hwm:.1}",
        if rows_ok { "yes" } else { "NO" }
    );
    let (small, big) = limiter_cost();
    println!(
        "inbound_limiter_us_per_new_visitor remembered_1000={small:.2} remembered_{}={big:.0} \
         (Limiter::allow in process: past its cap it scans every entry on every call, under one mutex)",
        LIMITER_CAP + 1
    );
    let (r_new, _, _) = figures[0];
    let (r_exist, _, _) = figures[2];
    let (r_mix, _, _) = figures[3];
    println!(
        "inbound_reconcile new_vs_existing={:.2}x new_vs_desk_mix={:.2}x (the same server, one after the other)",
        r_new / r_exist,
        r_new / r_mix
    );
    if !rows_ok {
        sum.fail("inbound_new_msgs_per_s", &format!("db has {in_rows} in / {convs} conversations; log:\n{log}"));
        return Ok(());
    }
    for p in &phases {
        if let Err(e) = p.stats.check(p.name) {
            sum.fail(&format!("inbound_{}", p.name), &format!("{e}; log:\n{log}"));
        }
    }
    let (rate, p50, p99) = figures[0];
    sum.add(
        "inbound_new_msgs_per_s",
        format!("{rate:.0}/s p50={p50:.2} p99={p99:.2}"),
        &format!(">= {RATE_TARGET:.0}/s, p99 < {P99_TARGET_MS:.0}"),
        verdict(rate >= RATE_TARGET && p99 < P99_TARGET_MS),
    );
    for (i, name) in
        [(2, "inbound_existing_msgs_per_s"), (3, "inbound_desk_mix_msgs_per_s"), (4, "inbound_new_close_msgs_per_s")]
    {
        let (rate, p50, p99) = figures[i];
        sum.add(name, format!("{rate:.0}/s p50={p50:.2} p99={p99:.2}"), "", "");
    }
    sum.add("inbound_limiter_us", format!("{small:.2} µs; past cap {big:.0} µs"), "", "");
    Ok(())
}
