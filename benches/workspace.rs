//! Workspace performance figures of Atende (issue 11, "Benchmark"), printed
//! as plain lines and a summary table.
//!
//! Run with `cargo bench --bench workspace`. Each section spawns the release
//! binary on a temporary data folder and talks to it over 127.0.0.1 only,
//! with the built-in keep-alive client:
//!
//! 1. the three-pane workspace of an agent holding 30,000 conversations on a
//!    database of 100,000 (600,000 messages, seeded straight into SQLite):
//!    the home `GET /atendimentos`, the conversation swap
//!    `GET /atendimentos/{id}?painel=1` (the centre and right panes, cycling
//!    over all 30,000 of the agent's conversations, so the unread ones are
//!    marked read as they are opened) and the lists fragment the live
//!    refresh fetches (`GET /atendimentos/listas`), each from 16 connections;
//!    then, unloaded, the other fragments the page polls and page 1 against
//!    a deep page of "Minhas conversas", and the home of an agent holding
//!    few conversations next to the one holding 30,000;
//! 2. inbound visitor messages from 64 connections (see `workspace/inbound.rs`);
//! 3. the server's memory (VmRSS, VmHWM) on the database of section 1: idle,
//!    during and right after 15 s of sections 1 and 2 together (16 page
//!    clients mixing home, swaps and lists; 64 visitor connections each
//!    starting a new conversation per message), and after 5 s idle.
//!
//! `ATENDE_BENCH_BIN=/path/to/atende` runs another server build (e.g. an
//! unstripped one under `perf`); `ATENDE_BENCH_KEEP_DB=/path/file.db` keeps a
//! copy of the seeded database; `ATENDE_BENCH_SECTIONS=2` (or `1,3`, …) runs
//! only those sections.
//!
//! Every loop is bounded in count and in time. A missed target prints MISS;
//! a section that could not run prints FAILED and the bench exits 1. The
//! machine's cores and load average are printed with the figures: the
//! clients share the cores with the server.

mod common;
#[path = "workspace/history.rs"]
mod history;
#[path = "workspace/inbound.rs"]
mod inbound;
#[path = "workspace/load.rs"]
mod load;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use atende::db;
use common::http::{HttpConn, get_req, login};
use common::seed::seed_base;
use common::{POLL, R, READY_LIMIT, Server, Summary, cpu_secs, err, pct, status_kb, verdict};
pub use common::{loadavg, mb};
use load::{Load, VisitorRun, Visitors};

/// Section 1: queues and agents of the team (the first agent is measured).
const QUEUES: usize = 3;
const AGENTS: usize = 5;
/// Section 1: load connections and durations.
const PAGE_CONNS: usize = 16;
const HOME_SECS: u64 = 10;
const SWAP_SECS: u64 = 10;
const LISTS_SECS: u64 = 5;
/// Section 1: sequential requests of each unloaded figure.
const SEQ: usize = 200;
/// Section 1: targets (home and swap; the lists fragment is held to the same).
const RPS_TARGET: f64 = 2_000.0;
const P99_TARGET_MS: f64 = 15.0;
/// Section 1: the deep page of "Minhas conversas" starts after this row.
const DEEP_ROW: usize = 29_000;

/// Environment variable naming a file to copy the seeded database of
/// section 1 to (for looking at its query plans with `sqlite3`).
const KEEP_ENV: &str = "ATENDE_BENCH_KEEP_DB";

/// Environment variable listing the sections to run ("1,2,3" by default;
/// section 3 seeds the database of section 1 without measuring it).
const SECTIONS_ENV: &str = "ATENDE_BENCH_SECTIONS";

/// Section 3: mixed load duration, idle wait after it, RSS sampling interval.
const MIXED_SECS: u64 = 15;
const IDLE_AFTER: Duration = Duration::from_secs(5);
const SAMPLE_EVERY: Duration = Duration::from_millis(250);
/// Section 3: most visitor messages during the mixed load.
const MIXED_MSGS: u64 = 200_000;
/// Section 3: target.
const RSS_TARGET_MB: f64 = 32.0;

// ---------------------------------------------------------------- 1. pages

/// What section 1 leaves for section 3.
struct Seeded {
    data: std::path::PathBuf,
    queue: i64,
    login: String,
    mine_rows: Vec<(i64, i64, String)>,
}

fn painel(id: i64) -> String {
    format!("/atendimentos/{id}?painel=1")
}

/// Prints and records one loaded figure; returns whether it met the targets.
fn report_load(sum: &mut Summary, name: &str, what: &str, l: &mut Load, cpu: f64, target: bool) {
    let (rps, p50, p99, bytes) = l.figures();
    let max = l.lat.last().copied().unwrap_or(f64::NAN);
    let (rps_ok, p99_ok) = (rps >= RPS_TARGET, p99 < P99_TARGET_MS);
    let v = if target { verdict(rps_ok && p99_ok) } else { "" };
    println!(
        "{name} rps={rps:.0} p50_ms={p50:.2} p99_ms={p99:.2} max_ms={max:.1} requests={} bytes={bytes} conns={PAGE_CONNS} \
         secs={:.1} server_cpu={:.0}% ({:.3} ms cpu/request) load_avg=[{}] {v} ({what})",
        l.ok,
        l.secs,
        100.0 * cpu / l.secs,
        1000.0 * cpu / l.ok.max(1) as f64,
        loadavg()
    );
    let target_text = if target { format!(">= {RPS_TARGET:.0}/s, p99 < {P99_TARGET_MS:.0}") } else { String::new() };
    sum.add(name, format!("{rps:.0}/s p50={p50:.2} p99={p99:.2}"), &target_text, v);
}

async fn loaded(server: &Server, reqs: Vec<Vec<u8>>, secs: u64) -> R<(Load, f64)> {
    let spid = server.pid().to_string();
    let cpu0 = cpu_secs(&spid);
    let l = load::pages(server.addr(), Arc::new(reqs), PAGE_CONNS, Duration::from_secs(secs)).await?;
    Ok((l, cpu_secs(&spid) - cpu0))
}

/// (assigned, unread) of an agent, read beside the running server.
fn counters(path: &Path, agent: i64) -> R<(i64, i64)> {
    let conn = db::open_ro(path).map_err(err)?;
    conn.query_row("SELECT assigned, unread FROM agent_counters WHERE agent_id = ?1", [agent], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .map_err(err)
}

/// Seeds the history and, when `measure`, measures the workspace on it.
async fn bench_pages(sum: &mut Summary, root: &Path, measure: bool) -> R<Seeded> {
    let data = root.join("data");
    let base = seed_base(&data, "ws", QUEUES, AGENTS).await?;
    let path = data.join("atende.db");
    let s = {
        let (p, b) = (
            path.clone(),
            common::seed::Base { queues: base.queues.clone(), agents: base.agents.clone(), logins: vec![] },
        );
        tokio::task::spawn_blocking(move || history::seed(&p, &b)).await.map_err(err)??
    };
    println!(
        "ws_seed conversations={} messages={} mine={} mine_unread={} mine_tasks={} queued={} size_mb={:.1} secs={:.1}",
        s.conversations,
        s.messages,
        s.mine,
        s.mine_unread,
        s.tasks,
        history::QUEUED,
        s.size_bytes as f64 / 1e6,
        s.secs
    );
    if let Some(keep) = std::env::var_os(KEEP_ENV) {
        std::fs::copy(&path, &keep).map_err(|e| format!("{KEEP_ENV}: {e}"))?;
        println!("ws_seed copied to {} ({KEEP_ENV})", Path::new(&keep).display());
    }
    if s.conversations != history::CONVERSATIONS || s.mine != history::MINE || s.mine_rows.len() as i64 != history::MINE
    {
        return Err(format!("seed incomplete: {} conversations, {} mine", s.conversations, s.mine));
    }
    if !measure {
        return Ok(Seeded { data, queue: base.queues[0], login: base.logins[0].clone(), mine_rows: s.mine_rows });
    }
    let (mut server, t0) = Server::spawn(&data, &root.join("pages.log"))?;
    server.wait_ready(t0, READY_LIMIT, POLL)?;
    let addr = server.addr();
    let cookie = format!("atende_sid={}", login(addr, &base.logins[0]).await?);
    let few_cookie = format!("atende_sid={}", login(addr, &base.logins[1]).await?);
    let few_held = counters(&path, base.agents[1])?.0;

    // Sanity: the pages show what was seeded.
    let mut c = HttpConn::connect(addr).await?;
    let home = c.request(&get_req("/atendimentos", Some(&cookie))).await?;
    let badge = format!("badge-info\">{}<", s.mine);
    if home.status != 200 || !home.text().contains(&badge) || !home.text().contains("Cliente ") {
        return Err(format!("GET /atendimentos: status {}, no {badge:?} badge or no rows", home.status));
    }
    let lists = c.request(&get_req("/atendimentos/listas", Some(&cookie))).await?;
    let unread_attr = format!("data-unread=\"{}\"", s.mine_unread);
    if lists.status != 200 || !lists.text().contains(&unread_attr) {
        return Err(format!("GET /atendimentos/listas: status {}, no {unread_attr}", lists.status));
    }
    let (id, _, name) = &s.mine_rows[1];
    let pane = c.request(&get_req(&painel(*id), Some(&cookie))).await?;
    if pane.status != 200 || !pane.text().contains("id=\"swap\"") || !pane.text().contains(name.as_str()) {
        return Err(format!("GET {}: status {}, not the panes of {name}", painel(*id), pane.status));
    }
    drop(c);

    // Unloaded, one connection.
    let (deep_id, deep_t) = (s.mine_rows[DEEP_ROW].0, s.mine_rows[DEEP_ROW].1);
    let (msg_id, _, _) = s.mine_rows[2];
    let seq: Vec<(&str, Vec<Vec<u8>>, String)> = vec![
        ("seq_home", vec![get_req("/atendimentos", Some(&cookie))], format!("{} held", s.mine)),
        ("seq_home_few", vec![get_req("/atendimentos", Some(&few_cookie))], format!("another agent, {few_held} held")),
        ("seq_lists", vec![get_req("/atendimentos/listas", Some(&cookie))], "the live refresh".into()),
        (
            "seq_swap",
            s.mine_rows[10_000..10_000 + SEQ + 20].iter().map(|m| get_req(&painel(m.0), Some(&cookie))).collect(),
            "distinct conversations".into(),
        ),
        (
            "seq_messages",
            vec![get_req(&format!("/atendimentos/{msg_id}/mensagens?after=0"), Some(&cookie))],
            "the open conversation's refresh".into(),
        ),
        ("seq_bar", vec![get_req("/barra", Some(&cookie))], "the top bar's refresh".into()),
        ("seq_mine_page1", vec![get_req("/atendimentos/minhas", Some(&cookie))], "Minhas conversas page 1".into()),
        (
            "seq_mine_deep",
            vec![get_req(&format!("/atendimentos/minhas?apos={deep_t}.{deep_id}"), Some(&cookie))],
            format!("the page after row {DEEP_ROW}"),
        ),
    ];
    let mut p50s = std::collections::HashMap::new();
    for (name, reqs, what) in &seq {
        let (mut lat, bytes) = load::sequential(addr, reqs, SEQ).await?;
        let (p50, p99) = (pct(&mut lat, 50.0), pct(&mut lat, 99.0));
        println!("{name}_ms p50={p50:.2} p99={p99:.2} requests={SEQ} bytes={bytes} ({what}; one connection, unloaded)");
        sum.add(&format!("{name}_ms"), format!("p50={p50:.2} p99={p99:.2}"), "", "");
        p50s.insert(*name, p50);
    }
    println!(
        "ws_cost_ratio home_30000_vs_few={:.2}x mine_deep_vs_page1={:.2}x (keyset pages and counters: ~1x)",
        p50s["seq_home"] / p50s["seq_home_few"],
        p50s["seq_mine_deep"] / p50s["seq_mine_page1"]
    );

    // Loaded, 16 connections.
    let (mut l, cpu) = loaded(&server, vec![get_req("/atendimentos", Some(&cookie))], HOME_SECS).await?;
    l.check("GET /atendimentos")?;
    report_load(sum, "home", "GET /atendimentos, the whole page", &mut l, cpu, true);

    let unread0 = counters(&path, base.agents[0])?.1;
    let swaps: Vec<Vec<u8>> = s.mine_rows.iter().map(|m| get_req(&painel(m.0), Some(&cookie))).collect();
    let (mut l, cpu) = loaded(&server, swaps, SWAP_SECS).await?;
    l.check("GET /atendimentos/{id}?painel=1")?;
    let unread1 = counters(&path, base.agents[0])?.1;
    report_load(
        sum,
        "swap",
        &format!(
            "GET /atendimentos/{{id}}?painel=1 over {} conversations; {} unread ones marked read on the way (a write each)",
            s.mine_rows.len(),
            unread0 - unread1
        ),
        &mut l,
        cpu,
        true,
    );

    let (mut l, cpu) = loaded(&server, vec![get_req("/atendimentos/listas", Some(&cookie))], LISTS_SECS).await?;
    l.check("GET /atendimentos/listas")?;
    report_load(sum, "lists", "GET /atendimentos/listas, the lists fragment", &mut l, cpu, true);

    let log = server.log_tail();
    let after = load::sequential(addr, &[get_req("/atendimentos", Some(&cookie))], 1).await;
    tokio::task::spawn_blocking(move || server.stop()).await.map_err(err)??;
    after.map_err(|e| format!("after the load: {e}; log:\n{log}"))?;
    Ok(Seeded { data, queue: base.queues[0], login: base.logins[0].clone(), mine_rows: s.mine_rows })
}

// ---------------------------------------------------------------- 3. memory

/// VmRSS and its parts, threads and glibc malloc arenas (64 MiB reserved
/// anonymous mappings) of a process.
fn memory(pid: u32) -> String {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    // An arena heap is an anonymous rw-p mapping followed at once by its
    // ---p remainder, together 64 MiB.
    let mut arenas = 0;
    let mut prev: Option<(u64, u64, bool)> = None;
    for l in maps.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        let Some((a, b)) = f.first().and_then(|r| r.split_once('-')) else { continue };
        let (Ok(a), Ok(b)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) else { continue };
        let anon = f.len() < 6;
        let perms = f.get(1).copied().unwrap_or("");
        if let Some((pa, pb, true)) = prev
            && anon
            && perms == "---p"
            && pb == a
            && b - pa == 64 << 20
        {
            arenas += 1;
        }
        prev = Some((a, b, anon && perms == "rw-p"));
    }
    format!(
        "rss_mb={:.1} anon_mb={:.1} file_mb={:.1} hwm_mb={:.1} threads={} malloc_arena_heaps={arenas}",
        mb(pid, "VmRSS:"),
        mb(pid, "RssAnon:"),
        mb(pid, "RssFile:"),
        mb(pid, "VmHWM:"),
        status_kb(pid, "Threads:").unwrap_or(0)
    )
}

async fn bench_memory(sum: &mut Summary, root: &Path, s: &Seeded) -> R<()> {
    let (mut server, t0) = Server::spawn(&s.data, &root.join("memory.log"))?;
    server.wait_ready(t0, READY_LIMIT, POLL)?;
    let (addr, pid) = (server.addr(), server.pid());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = mb(pid, "VmRSS:");
    println!("mem_idle {} (started, nothing asked yet)", memory(pid));
    let cookie = format!("atende_sid={}", login(addr, &s.login).await?);
    println!("mem_after_login {} (one argon2 login)", memory(pid));

    // 16 page clients: home, swap, lists, swap, ... over the agent's conversations.
    let mut reqs = Vec::with_capacity(s.mine_rows.len() * 2);
    for (i, m) in s.mine_rows.iter().enumerate() {
        reqs.push(get_req(&painel(m.0), Some(&cookie)));
        reqs.push(get_req(if i % 2 == 0 { "/atendimentos" } else { "/atendimentos/listas" }, Some(&cookie)));
    }
    let dur = Duration::from_secs(MIXED_SECS);
    let spid = pid.to_string();
    let cpu0 = cpu_secs(&spid);
    let pages = tokio::spawn(load::pages(addr, Arc::new(reqs), PAGE_CONNS, dur));
    let run = VisitorRun { path: format!("/api/widget/{}/messages", s.queue), close: false, keep_tokens: false };
    let visitors = tokio::spawn(load::visitors(addr, run, vec![Visitors::NewEach], inbound::CONNS, MIXED_MSGS, dur));
    let (mut peak, start) = (0f64, Instant::now());
    while start.elapsed() < dur + Duration::from_secs(2) && !(pages.is_finished() && visitors.is_finished()) {
        peak = peak.max(mb(pid, "VmRSS:"));
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
    let mut pl = pages.await.map_err(err)??;
    let mut vl = visitors.await.map_err(err)??;
    let cpu = cpu_secs(&spid) - cpu0;
    let after = mb(pid, "VmRSS:");
    let after_text = memory(pid);
    tokio::time::sleep(IDLE_AFTER).await;
    let rested = mb(pid, "VmRSS:");
    let rested_text = memory(pid);
    let log = server.log_tail();
    tokio::task::spawn_blocking(move || server.stop()).await.map_err(err)??;
    pl.check("mixed pages").map_err(|e| format!("{e}; log:\n{log}"))?;
    vl.check("mixed visitors").map_err(|e| format!("{e}; log:\n{log}"))?;

    let (rps, p50, p99, _) = pl.figures();
    let (mps, v50, v99) = vl.figures();
    println!(
        "mem_mixed_load pages_rps={rps:.0} pages_p50_ms={p50:.2} pages_p99_ms={p99:.2} visitor_msgs_per_s={mps:.0} \
         visitor_p50_ms={v50:.2} visitor_p99_ms={v99:.2} new_conversations={} secs={:.1} server_cpu={:.0}% load_avg=[{}]",
        vl.new_conversations,
        pl.secs.max(vl.secs),
        100.0 * cpu / pl.secs.max(vl.secs),
        loadavg()
    );
    println!("mem_peak_during_load rss_mb={peak:.1} (sampled every {SAMPLE_EVERY:?})");
    let ok = after <= RSS_TARGET_MB;
    println!("mem_after_load {after_text} target=rss<={RSS_TARGET_MB:.0} {}", verdict(ok));
    println!("mem_after_idle {rested_text} ({IDLE_AFTER:?} after the load)");
    sum.add("mem_idle_rss_mb", format!("{idle:.1}"), "", "");
    sum.add("mem_peak_rss_mb", format!("{peak:.1}"), "", "");
    sum.add("mem_after_load_rss_mb", format!("{after:.1}"), &format!("<= {RSS_TARGET_MB:.0}"), verdict(ok));
    sum.add("mem_after_idle_rss_mb", format!("{rested:.1}"), "", "");
    sum.add("mem_mixed_pages_rps", format!("{rps:.0}/s p99={p99:.2}"), "", "");
    sum.add("mem_mixed_visitor_msgs_per_s", format!("{mps:.0}/s p99={v99:.2}"), "", "");
    Ok(())
}

// ---------------------------------------------------------------- main

fn main() {
    let Some((total, mut sum, rt)) = common::start("workspace") else { return };
    println!("load average at start: [{}]", loadavg());
    let root = common::temp_root();
    let want = common::sections(SECTIONS_ENV, "1,2,3");
    let seeded = if want("1") || want("3") {
        println!(
            "\n-- 1. workspace of an agent holding {} of {} conversations ({PAGE_CONNS} connections){}",
            history::MINE,
            history::CONVERSATIONS,
            if want("1") { "" } else { ": seed only" }
        );
        match rt.block_on(bench_pages(&mut sum, root.path(), want("1"))) {
            Ok(s) => Some(s),
            Err(e) => {
                sum.fail("home", &e);
                None
            }
        }
    } else {
        None
    };
    if want("2") {
        println!(
            "\n-- 2. inbound visitor messages, POST /api/widget/{{queue}}/messages ({} connections)",
            inbound::CONNS
        );
        if let Err(e) = rt.block_on(inbound::bench(&mut sum)) {
            sum.fail("inbound_new_msgs_per_s", &e);
        }
    }
    if want("3") {
        println!("\n-- 3. server memory: idle, {MIXED_SECS} s of sections 1 and 2 together, {IDLE_AFTER:?} idle");
        match &seeded {
            Some(s) => {
                if let Err(e) = rt.block_on(bench_memory(&mut sum, root.path(), s)) {
                    sum.fail("mem_after_load_rss_mb", &e);
                }
            }
            None => sum.fail("mem_after_load_rss_mb", "section 1 left no database"),
        }
    }
    drop(root);
    common::finish(rt, total, sum, 420.0);
}
