//! Supervision figures of Atende (issue 14, "Benchmark"), printed as plain
//! lines and a summary table.
//!
//! Run with `cargo bench --bench reports`. The release binary runs on a
//! temporary data folder and is asked over 127.0.0.1 only, with the
//! built-in keep-alive client, logged in as an administrator:
//!
//! 1. seed a year of a busy desk straight into SQLite (see
//!    `reports/seed.rs`): 1,000,000 conversations and about 5,000,000
//!    messages and timeline lines over the last 12 months (10 teams, 30
//!    queues over the three channels, 200 agents), their metric facts from
//!    the library's own step function and the rollups from
//!    `metrics::replay::rollup`, presence spans, pauses and scheduled
//!    reopenings; prints the time it took and the database size;
//! 2. `GET /indicadores` for 30 days, for 12 months, and for 12 months with
//!    a queue and with a team filter, 100 runs each from 1 and from 8
//!    connections (p50/p95/p99/max; target p99 < 100 ms). A 12-month page
//!    that misses has each of its queries timed through the library and the
//!    spread's plan printed;
//! 3. the Atendimentos report over 12 months: first, deep and last page,
//!    and with a queue and an agent filter (target p99 < 50 ms at any page);
//! 4. the Atendimentos CSV of the 12 months (1,000,000 rows) read as a
//!    stream and discarded (rows/s, target ≥ 100,000; the server's VmRSS and
//!    VmHWM before, sampled during and after: target flat), then the other
//!    four reports over 12 months.
//!
//! `ATENDE_BENCH_SECTIONS=2,3` (…) runs only those sections (the seed runs
//! whenever any does); `ATENDE_BENCH_CONVERSATIONS=N` seeds N conversations
//! instead (for trying the bench out); `ATENDE_BENCH_KEEP_DB=/path/file.db`
//! keeps a copy of the seeded database; `ATENDE_BENCH_BIN` runs another
//! server build.
//!
//! Every loop is bounded in count and in time. A missed target prints MISS;
//! a section that could not run prints FAILED and the bench exits 1. The
//! machine's cores and load average are printed with the figures: the
//! clients share the cores with the server.

mod common;
#[path = "reports/diagnose.rs"]
mod diagnose;
#[path = "reports/names.rs"]
mod names;
#[path = "reports/seed.rs"]
mod seed;
#[path = "reports/timing.rs"]
mod timing;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use atende::domain::metrics::query::{Filters, Period, day_of};
use atende::domain::reports::Cursor;
use common::http::login;
pub use common::loadavg;
use common::{POLL, R, READY_LIMIT, Server, Summary, err, mb, now_secs, verdict};
use timing::figure;

const SECTIONS_ENV: &str = "ATENDE_BENCH_SECTIONS";
const SIZE_ENV: &str = "ATENDE_BENCH_CONVERSATIONS";
const KEEP_ENV: &str = "ATENDE_BENCH_KEEP_DB";
/// Conversations seeded.
const CONVERSATIONS: i64 = 1_000_000;
/// Runs per page figure (after the warm-up).
const RUNS: usize = 100;
/// Runs of the other four reports.
const REPORT_RUNS: usize = 30;
/// Targets.
const IND_P99_MS: f64 = 100.0;
const PAGE_P99_MS: f64 = 50.0;
const CSV_ROWS_PER_S: f64 = 100_000.0;
/// "Flat memory": the streaming server's RSS stays within this of where it
/// started (a CSV of 1,000,000 rows held in memory would be ~200 MB).
const CSV_RSS_GROWTH_MB: f64 = 32.0;
const RSS_EVERY: Duration = Duration::from_millis(200);

struct Ctx {
    addr: SocketAddr,
    pid: u32,
    cookie: String,
    path: PathBuf,
    s: seed::Seeded,
    /// `periodo=personalizado&de=..&ate=..` for the 12 months.
    year: String,
    period: Period,
}

fn year_query(s: &seed::Seeded) -> String {
    format!("periodo=personalizado&de={}&ate={}", s.first_day, s.today)
}

// ---------------------------------------------------------------- 2. indicators

async fn indicators(sum: &mut Summary, c: &Ctx) -> R<()> {
    let queue = c.s.queues[0].id;
    let team = c.s.teams[0];
    let pages: Vec<(&str, String, Option<Filters>)> = vec![
        ("ind_30d", "/indicadores?periodo=30d".into(), None),
        ("ind_12m", format!("/indicadores?{}", c.year), Some(Filters::default())),
        (
            "ind_12m_queue",
            format!("/indicadores?{}&fila={queue}", c.year),
            Some(Filters { queue: Some(queue), ..Default::default() }),
        ),
        (
            "ind_12m_team",
            format!("/indicadores?{}&equipe={team}", c.year),
            Some(Filters { team: Some(team), ..Default::default() }),
        ),
    ];
    let mut p50s = Vec::new();
    for (name, path, f) in &pages {
        for conns in [1, 8] {
            let p50 = figure(
                sum,
                c.addr,
                &c.cookie,
                &format!("{name}_{conns}conn_ms"),
                path,
                "TMA mediana",
                conns,
                RUNS,
                Some(IND_P99_MS),
            )
            .await?
            .0;
            if conns == 1 {
                p50s.push((*name, f.clone(), p50));
            }
        }
    }
    // Where a 12-month page's time goes: each of its queries through the
    // library, and the rest (rendering, HTTP).
    for (name, f, page_p50) in p50s {
        if let Some(f) = f {
            let out = diagnose::indicators(&c.path, name, c.period, &f)?;
            let queries: f64 = out.iter().map(|x| x.1).sum();
            if let Some((q, ms)) = out.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
                println!(
                    "diag_{name} page_p50_ms={page_p50:.1} queries_ms={queries:.1} rest_ms={:.1} (rendering the page, HTTP); slowest: {q} {ms:.1} ms",
                    page_p50 - queries
                );
                sum.add(
                    &format!("diag_{name}"),
                    format!("queries {queries:.0} ms (slowest {q} {ms:.0}), rest {:.0} ms", page_p50 - queries),
                    "",
                    "",
                );
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- 3. Atendimentos

async fn atendimentos(sum: &mut Summary, c: &Ctx) -> R<()> {
    let base = format!("/relatorios/atendimentos?{}", c.year);
    let queue = c.s.queues[0].id;
    let agent = c.s.agents[0].id;
    let (mid, last) = (c.s.mid_id, c.s.first_id + 30);
    let pages: Vec<(&str, String, Filters, Cursor)> = vec![
        ("rep_conv_first", base.clone(), Filters::default(), Cursor::First),
        ("rep_conv_deep", format!("{base}&antes={mid}"), Filters::default(), Cursor::Before(mid)),
        ("rep_conv_last", format!("{base}&antes={last}"), Filters::default(), Cursor::Before(last)),
        (
            "rep_conv_queue_first",
            format!("{base}&fila={queue}"),
            Filters { queue: Some(queue), ..Default::default() },
            Cursor::First,
        ),
        (
            "rep_conv_queue_deep",
            format!("{base}&fila={queue}&antes={mid}"),
            Filters { queue: Some(queue), ..Default::default() },
            Cursor::Before(mid),
        ),
        (
            "rep_conv_agent_first",
            format!("{base}&agente={agent}"),
            Filters { agent: Some(agent), ..Default::default() },
            Cursor::First,
        ),
        (
            "rep_conv_agent_deep",
            format!("{base}&agente={agent}&antes={mid}"),
            Filters { agent: Some(agent), ..Default::default() },
            Cursor::Before(mid),
        ),
    ];
    for (name, path, f, cursor) in &pages {
        let (_, p99) =
            figure(sum, c.addr, &c.cookie, &format!("{name}_ms"), path, "Total", 1, RUNS, Some(PAGE_P99_MS)).await?;
        if p99 >= PAGE_P99_MS {
            diagnose::atendimentos(&c.path, name, c.period, f, *cursor, now_secs())?;
        }
    }
    figure(sum, c.addr, &c.cookie, "rep_conv_first_8conn_ms", &base, "Total", 8, RUNS, Some(PAGE_P99_MS)).await?;
    Ok(())
}

// ---------------------------------------------------------------- 4. CSV and the other reports

async fn csv(sum: &mut Summary, c: &Ctx) -> R<()> {
    let pid = c.pid;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss0, hwm0) = (mb(pid, "VmRSS:"), mb(pid, "VmHWM:"));
    println!("csv_before rss_mb={rss0:.1} hwm_mb={hwm0:.1}");
    let path = format!("/relatorios/atendimentos.csv?{}", c.year);
    let run = timing::stream_csv(c.addr, &c.cookie, &path, pid, RSS_EVERY).await?;
    let (rss1, hwm1) = (mb(pid, "VmRSS:"), mb(pid, "VmHWM:"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss2 = mb(pid, "VmRSS:");
    let rows = run.rows.saturating_sub(1);
    let rate = rows as f64 / run.secs;
    let peak = run.rss.iter().copied().fold(rss0, f64::max);
    let mean = run.rss.iter().sum::<f64>() / run.rss.len().max(1) as f64;
    let rate_ok = rate >= CSV_ROWS_PER_S;
    let flat_ok = peak - rss0 <= CSV_RSS_GROWTH_MB;
    println!(
        "csv_stream rows={rows} bytes={} secs={:.1} rows_per_s={rate:.0} first_byte_ms={:.0} target=rows/s>={CSV_ROWS_PER_S:.0} {} load_avg=[{}]",
        run.bytes,
        run.secs,
        run.first_byte_ms,
        verdict(rate_ok),
        loadavg()
    );
    println!(
        "csv_memory rss_before_mb={rss0:.1} rss_during_mean_mb={mean:.1} rss_during_peak_mb={peak:.1} samples={} \
         rss_after_mb={rss1:.1} rss_after_3s_mb={rss2:.1} hwm_before_mb={hwm0:.1} hwm_after_mb={hwm1:.1} \
         target=peak-before<={CSV_RSS_GROWTH_MB:.0} {}",
        run.rss.len(),
        verdict(flat_ok)
    );
    if rows as i64 != c.s.conversations {
        println!("csv_rows_check MISS: {rows} rows, {} conversations in the period", c.s.conversations);
    }
    sum.add("csv_rows_per_s", format!("{rate:.0} ({rows} rows, {:.1} s)", run.secs), ">= 100000", verdict(rate_ok));
    sum.add(
        "csv_rss_mb",
        format!("before={rss0:.1} peak={peak:.1} after={rss1:.1} hwm={hwm0:.1}->{hwm1:.1}"),
        &format!("peak-before <= {CSV_RSS_GROWTH_MB:.0}"),
        verdict(flat_ok),
    );
    Ok(())
}

async fn other_reports(sum: &mut Summary, c: &Ctx) -> R<()> {
    for (name, report) in
        [("rep_agents", "agentes"), ("rep_queues", "filas"), ("rep_pauses", "pausas"), ("rep_reopens", "reaberturas")]
    {
        let path = format!("/relatorios/{report}?{}", c.year);
        figure(sum, c.addr, &c.cookie, &format!("{name}_12m_ms"), &path, "Total", 1, REPORT_RUNS, None).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- main

async fn serve(root: &Path, s: seed::Seeded) -> R<(Server, Ctx)> {
    let data = root.join("data");
    let (mut server, t0) = Server::spawn(&data, &root.join("server.log"))?;
    let ready = server.wait_ready(t0, READY_LIMIT, POLL)?;
    let addr = server.addr();
    let cookie = format!("atende_sid={}", login(addr, seed::ADMIN).await?);
    println!(
        "server ready in {:.2} s on the seeded database; rss_mb={:.1}; logged in as {}",
        ready.as_secs_f64(),
        mb(server.pid(), "VmRSS:"),
        seed::ADMIN
    );
    let period = Period { from: day_of(s.first_day), to: day_of(s.today) };
    let year = year_query(&s);
    let pid = server.pid();
    Ok((server, Ctx { addr, pid, cookie, path: data.join("atende.db"), s, year, period }))
}

fn main() {
    let Some((total, mut sum, rt)) = common::start("reports") else { return };
    println!("load average at start: [{}]", loadavg());
    let root = common::temp_root();
    let want = common::sections(SECTIONS_ENV, "1,2,3,4");
    let n = std::env::var(SIZE_ENV).ok().and_then(|v| v.parse().ok()).unwrap_or(CONVERSATIONS);

    println!("\n-- 1. seed: {n} conversations over the last 12 months, straight into SQLite");
    let data = root.path().join("data");
    let seeded = match std::fs::create_dir_all(&data).map_err(err).and_then(|_| seed::seed(&data, n)) {
        Ok(s) => s,
        Err(e) => {
            sum.fail("seed", &e);
            drop(root);
            common::finish(rt, total, sum, 3600.0);
            return;
        }
    };
    let s = &seeded;
    println!(
        "seed conversations={} messages={} metric_facts={} metric_days_rows={} contacts={} presence_spans={} pauses={} \
         reopen_lines={} teams={} queues={} agents={} period={}..{} size_mb={:.0} secs={:.1} (rollup {:.1} s) load_avg=[{}]",
        s.conversations,
        s.messages,
        s.facts,
        s.day_rows,
        s.contacts,
        s.spans,
        s.pauses,
        s.reopen_lines,
        s.teams.len(),
        s.queues.len(),
        s.agents.len(),
        s.first_day,
        s.today,
        s.size_bytes as f64 / 1e6,
        s.secs,
        s.rollup_secs,
        loadavg()
    );
    let consistent = s.check.0 == s.check.1 && s.check.1 == s.check.2;
    println!(
        "seed_check received facts={} metric_days={} metric_hours={} {}",
        s.check.0,
        s.check.1,
        s.check.2,
        if consistent { "OK" } else { "MISS" }
    );
    if want("1") {
        sum.add("seed_secs", format!("{:.0} ({:.0} MB)", s.secs, s.size_bytes as f64 / 1e6), "", "");
        sum.add("seed_rollups_consistent", format!("{consistent}"), "true", verdict(consistent));
    }
    if let Some(keep) = std::env::var_os(KEEP_ENV) {
        match std::fs::copy(data.join("atende.db"), &keep) {
            Ok(_) => println!("seed copied to {} ({KEEP_ENV})", Path::new(&keep).display()),
            Err(e) => println!("{KEEP_ENV}: {e}"),
        }
    }

    let (server, c) = match rt.block_on(serve(root.path(), seeded)) {
        Ok(x) => x,
        Err(e) => {
            sum.fail("server", &e);
            drop(root);
            common::finish(rt, total, sum, 3600.0);
            return;
        }
    };
    if want("2") {
        println!("\n-- 2. Indicadores: 30 days and 12 months, {RUNS} runs from 1 and from 8 connections");
        if let Err(e) = rt.block_on(indicators(&mut sum, &c)) {
            sum.fail("ind", &e);
        }
    }
    if want("3") {
        println!("\n-- 3. Atendimentos report over 12 months: first, deep and last page, filters");
        if let Err(e) = rt.block_on(atendimentos(&mut sum, &c)) {
            sum.fail("rep_conv", &e);
        }
    }
    if want("4") {
        println!("\n-- 4. the Atendimentos CSV of 12 months, streamed; the other four reports");
        if let Err(e) = rt.block_on(csv(&mut sum, &c)) {
            sum.fail("csv_rows_per_s", &e);
        }
        if let Err(e) = rt.block_on(other_reports(&mut sum, &c)) {
            sum.fail("rep_other", &e);
        }
    }
    let log = server.log_tail();
    drop(server);
    if want("2") {
        // The spread's proposed index, tried on the stopped server's file
        // and rolled back.
        match diagnose::spread_with_index(&c.path, c.period, &Filters::default()) {
            Ok((before, after, build)) => {
                println!(
                    "diag_spread_index spread_12m_ms before={before:.1} with_index(kind,day,secs)={after:.1} \
                     index_build_ms={build:.0} (tried in a transaction, rolled back)"
                );
                sum.add("diag_spread_index_12m_ms", format!("{before:.0} -> {after:.0}"), "", "");
            }
            Err(e) => println!("diag_spread_index could not run: {e}"),
        }
    }
    if sum.failed {
        println!("server log tail:\n{log}");
    }
    println!("load average at end: [{}]", loadavg());
    drop(root);
    common::finish(rt, total, sum, 3600.0);
}
