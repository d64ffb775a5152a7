//! Task scheduler and Tarefas page figures of Atende (issue 4), printed as
//! plain lines and a summary table.
//!
//! Run with `cargo bench --bench tasks`. The release binary runs on a
//! temporary data folder seeded through the library with 100,000 open tasks
//! (5,000 of them falling due in one minute, 55,000 due later, 40,000 already
//! overdue and fired) plus 10,000 finished ones, for 50 agents of one team;
//! every 50th task waits for the team. The bench talks to it over 127.0.0.1
//! only:
//!
//! 1. due delivery: the 50 agents log in and hold `GET /eventos` open like
//!    the page script does; on every `notification`, `tasks` or `reload`
//!    event an agent fetches `GET /barra` and reads its unread count. Of the
//!    5,000 tasks, 2,500 fall due on the same second (everybody picked
//!    "amanhã 9:00") and 2,500 over the next 59 seconds. For each task: the
//!    time from its due instant to the first bar of its agent that counts its
//!    notification (notifications of an agent are numbered in firing order,
//!    so the k-th is counted once the bar shows k unread). Then the database
//!    must hold exactly one notification per task;
//! 2. the due job when nothing is due: the server's CPU over 20 idle seconds
//!    (every per-second job included) with 55,000 future tasks waiting, and,
//!    in process, the job's probe query: its plan (an index search, no scan)
//!    and its cost;
//! 3. the Tarefas page: sequential `GET /tarefas` on one keep-alive
//!    connection for an admin (sees all 100,000), an agent, a deep keyset
//!    page, and filters by type, assignee, team and state "finalizadas".
//!
//! Every loop is bounded in count and in time; the folder is a `tempfile`
//! temporary directory. A missed target prints MISS; a section that could
//! not run (or whose results are inconsistent) prints FAILED and the bench
//! exits 1.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use atende::db::{Db, DbOptions};
use atende::domain::auth;
use atende::domain::users::{self, Role, UserInput};
use common::http::{HttpConn, get_req, login, login_all, open_stream, seq_get};
use common::seed::seed_base;
use common::{POLL, PW, R, READY_LIMIT, Server, Summary, cpu_secs, err, now_secs, pct, status_kb, verdict};
use rusqlite::params;

/// Agents of the team; each holds a stream.
const AGENTS: usize = 50;
/// Tasks falling due in the measured minute, and those of them on its first second.
const DUE: i64 = 5_000;
const BURST: i64 = 2_500;
/// The measured minute.
const WINDOW: i64 = 60;
/// Open tasks due after the minute, and open tasks already overdue (fired).
const FUTURE: i64 = 55_000;
const OVERDUE: i64 = 40_000;
/// Finished tasks.
const DONE: i64 = 10_000;
/// Every this many tasks (outside the measured 5,000) waits for the team.
const TEAM_EVERY: i64 = 50;
/// Seconds from the end of seeding to the first due instant (start, logins, streams).
const LEAD: i64 = 30;
/// Longest wait for deliveries after the minute ends.
const SETTLE: Duration = Duration::from_secs(15);
/// Target: due instant to the notification on the agent's bar, p99.
const DUE_P99_TARGET_MS: f64 = 1_000.0;
/// Section 2: idle seconds measured, probes timed, and the CPU target (% of one core).
const IDLE_SECS: u64 = 20;
const PROBES: usize = 10_000;
const IDLE_CPU_TARGET_PCT: f64 = 1.0;
/// Section 3: measured requests per page, and the p99 target.
const PAGE_REQUESTS: usize = 300;
const PAGE_P99_TARGET_MS: f64 = 20.0;

/// The due job's probe (as in `tasks::fire_due`).
const PROBE: &str = "SELECT EXISTS(SELECT 1 FROM tasks WHERE fired_at IS NULL AND status <> 'done' AND due_at <= ?1)";

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

// ---------------------------------------------------------------- seeding

struct Seeded {
    agents: Vec<i64>,
    logins: Vec<String>,
    team: i64,
    admin_login: String,
    /// The first due instant of the measured minute.
    t0: i64,
    /// The database file.
    db: PathBuf,
}

/// The base (team, queue, agents), an admin, and the 110,000 tasks.
async fn seed(data: &Path) -> R<Seeded> {
    let base = seed_base(data, "tk", 1, AGENTS).await?;
    let path = data.join("atende.db");
    let db =
        tokio::task::spawn_blocking(move || Db::open(&path, DbOptions::default())).await.map_err(err)?.map_err(err)?;
    let hash = tokio::task::spawn_blocking(|| auth::hash_password(PW)).await.map_err(err)?.map_err(err)?;
    let agents = base.agents.clone();
    let admin_login = "admin-tk@bench.local".to_string();
    let al = admin_login.clone();
    let now = now_secs();
    let t0 = now + LEAD;
    let r = db
        .write(move |c| {
            let team: i64 = c.query_row("SELECT team_id FROM user_teams LIMIT 1", [], |r| r.get(0))?;
            let admin = users::insert(
                c,
                &UserInput {
                    name: "Admin".into(),
                    login: al,
                    role: Role::Admin,
                    access_group_id: None,
                    team_ids: vec![],
                    password: None,
                },
                &hash,
                now,
            )?;
            let mut ins = c.prepare(
                "INSERT INTO tasks (kind, title, description, due_at, assignee_id, team_id, notify, status, done_how,
                                    created_by, created_at, updated_at, done_at, fired_at)
                 VALUES (?1, ?2, '', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12)",
            )?;
            let kinds = ["email", "meeting", "call", "custom"];
            let day = 86_400;
            // The measured 5,000: each for one agent, pendente.
            for i in 0..DUE {
                let due = if i < BURST { t0 } else { t0 + 1 + (i - BURST) * (WINDOW - 1) / (DUE - BURST) };
                let a = agents[i as usize % agents.len()];
                ins.execute(params![
                    kinds[i as usize % 4],
                    format!("Retornar cliente {i}"),
                    due,
                    a,
                    Option::<i64>::None,
                    i % 2,
                    "pending",
                    Option::<&str>::None,
                    admin,
                    now - day,
                    Option::<i64>::None,
                    Option::<i64>::None
                ])?;
            }
            // The rest: future, overdue (already fired), finished.
            let mut n = 0i64;
            for (count, what) in [(FUTURE, "future"), (OVERDUE, "overdue"), (DONE, "done")] {
                for j in 0..count {
                    n += 1;
                    let due = match what {
                        "future" => now + WINDOW + LEAD + 3_600 + (j * 47) % (30 * day),
                        _ => now - 120 - (j * 53) % (30 * day),
                    };
                    let for_team = n % TEAM_EVERY == 0;
                    let (assignee, team_id, status) = if for_team && what != "done" {
                        (None, Some(team), "queued")
                    } else {
                        (
                            Some(agents[(n as usize * 7) % agents.len()]),
                            None,
                            if what == "done" { "done" } else { "pending" },
                        )
                    };
                    let fired = (what != "future").then_some(due);
                    let (how, done_at) = if what == "done" { (Some("finished"), Some(due)) } else { (None, None) };
                    ins.execute(params![
                        kinds[n as usize % 4],
                        format!("Tarefa {what} {j}"),
                        due,
                        assignee,
                        team_id,
                        n % 3 == 0,
                        status,
                        how,
                        admin,
                        now - 31 * day,
                        done_at,
                        fired
                    ])?;
                }
            }
            Ok(team)
        })
        .await;
    let d2 = db.clone();
    tokio::task::spawn_blocking(move || d2.close()).await.map_err(err)?;
    let team = r.map_err(|e| format!("seed tasks: {e}"))?;
    Ok(Seeded { agents: base.agents, logins: base.logins, team, admin_login, t0, db: data.join("atende.db") })
}

// ---------------------------------------------------------------- 1. due delivery

/// The unread count a `/barra` fragment shows.
fn unread_of(html: &str) -> Option<i64> {
    let i = html.find("data-unread=\"")? + "data-unread=\"".len();
    html[i..].split('"').next()?.parse().ok()
}

/// Fetches the bar; records (unix time, unread) when the count grew.
async fn fetch_bar(
    bar: &mut HttpConn,
    req: &[u8],
    total: &AtomicI64,
    seen: &mut i64,
    out: &mut Vec<(f64, i64)>,
) -> R<()> {
    let r = bar.request(req).await?;
    if r.status != 200 {
        return Err(format!("GET /barra answered {}", r.status));
    }
    let at = unix_now();
    let n = unread_of(&r.text()).ok_or("no data-unread in /barra")?;
    if n > *seen {
        total.fetch_add(n - *seen, Ordering::Relaxed);
        *seen = n;
        out.push((at, n));
    }
    Ok(())
}

/// One agent's page: reads the stream; after each batch of bytes naming an
/// event for the bar, fetches `/barra`. Returns (unix time, unread) each time
/// the unread count grew.
async fn agent_page(
    addr: SocketAddr,
    sid: String,
    total: Arc<AtomicI64>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> R<Vec<(f64, i64)>> {
    let (mut stream, chunked) = open_stream(addr, sid.clone()).await?;
    let mut bar = HttpConn::connect(addr).await?;
    let req = get_req("/barra", Some(&format!("atende_sid={sid}")));
    let mut seen = 0i64;
    let mut out = Vec::new();
    fetch_bar(&mut bar, &req, &total, &mut seen, &mut out).await?;
    let mut pending: Vec<u8> = Vec::new();
    for _ in 0..1_000_000u64 {
        let data = tokio::select! {
            d = async { if chunked { stream.chunk().await.map(|c| c.unwrap_or_default()) } else { stream.some().await } } => d?,
            _ = stop.wait_for(|s| *s) => return Ok(out),
        };
        pending.extend_from_slice(&data);
        let mut wanted = false;
        while let Some(i) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=i).collect();
            if let Some(kind) = line.strip_prefix(b"event:") {
                wanted |= matches!(kind.trim_ascii(), b"notification" | b"tasks" | b"reload");
            }
        }
        if wanted {
            fetch_bar(&mut bar, &req, &total, &mut seen, &mut out).await?;
        }
    }
    Err("too many reads".into())
}

struct DueRun {
    lat_all: Vec<f64>,
    lat_burst: Vec<f64>,
    lat_spread: Vec<f64>,
    missing: usize,
}

async fn bench_due(sum: &mut Summary, s: &Seeded, server: &Server) -> R<()> {
    let addr = server.addr();
    let t = Instant::now();
    let sids = login_all(addr, &s.logins).await?;
    let total = Arc::new(AtomicI64::new(0));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut pages = Vec::new();
    for sid in sids {
        pages.push(tokio::spawn(agent_page(addr, sid, total.clone(), stop_rx.clone())));
    }
    let lead = s.t0 as f64 - unix_now();
    println!(
        "due_setup logins={} streams={} secs={:.1} first_due_in_s={lead:.1}",
        s.logins.len(),
        pages.len(),
        t.elapsed().as_secs_f64()
    );
    if lead < 2.0 {
        let _ = stop_tx.send(true);
        return Err(format!("setup too slow: the first task fell due {:.1} s before the streams were open", -lead));
    }
    // Wait for every delivery, up to the end of the minute plus SETTLE.
    let deadline = s.t0 as f64 + WINDOW as f64 + SETTLE.as_secs_f64();
    let max_polls = ((deadline - unix_now()).max(0.0) * 20.0) as usize + 1;
    for _ in 0..max_polls {
        if total.load(Ordering::Relaxed) >= DUE || unix_now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rss = status_kb(server.pid(), "VmRSS:").map(|kb| kb as f64 / 1024.0).unwrap_or(f64::NAN);
    let hwm = status_kb(server.pid(), "VmHWM:").map(|kb| kb as f64 / 1024.0).unwrap_or(f64::NAN);
    println!("due_server rss_mb={rss:.1} peak_mb={hwm:.1} (with {AGENTS} streams open)");
    let _ = stop_tx.send(true);
    let mut per_page = Vec::new();
    for p in pages {
        per_page.push(p.await.map_err(err)??);
    }

    // Each agent's notifications in firing order, with their task's due time.
    let path = s.db.clone();
    let agents = s.agents.clone();
    let (by_user, dup, unfired): (HashMap<i64, Vec<i64>>, i64, i64) = tokio::task::spawn_blocking(move || {
        let c =
            rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(err)?;
        let mut by_user: HashMap<i64, Vec<i64>> = HashMap::new();
        let mut st = c
            .prepare(
                "SELECT n.user_id, t.due_at FROM notifications n JOIN tasks t ON t.id = n.task_id
                 WHERE n.kind IN ('task_due', 'task_overdue') ORDER BY n.user_id, n.id",
            )
            .map_err(err)?;
        let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))).map_err(err)?;
        for row in rows {
            let (u, due) = row.map_err(err)?;
            by_user.entry(u).or_default().push(due);
        }
        let dup: i64 = c
            .query_row(
                "SELECT count(*) - count(DISTINCT task_id) FROM notifications WHERE kind IN ('task_due', 'task_overdue')",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        let unfired: i64 = c
            .query_row(
                "SELECT count(*) FROM tasks WHERE status <> 'done' AND due_at <= ?1 AND fired_at IS NULL",
                [now_secs()],
                |r| r.get(0),
            )
            .map_err(err)?;
        Ok::<_, String>((by_user, dup, unfired))
    })
    .await
    .map_err(err)??;
    let fired: usize = by_user.values().map(|v| v.len()).sum();
    let mut run = DueRun { lat_all: Vec::new(), lat_burst: Vec::new(), lat_spread: Vec::new(), missing: 0 };
    for (i, deliveries) in per_page.iter().enumerate() {
        let dues = by_user.get(&agents[i]).cloned().unwrap_or_default();
        for (k, due) in dues.iter().enumerate() {
            match deliveries.iter().find(|(_, n)| *n > k as i64) {
                Some((at, _)) => {
                    let l = (at - *due as f64) * 1000.0;
                    run.lat_all.push(l);
                    if *due == s.t0 { run.lat_burst.push(l) } else { run.lat_spread.push(l) }
                }
                None => run.missing += 1,
            }
        }
    }
    let delivered = run.lat_all.len();
    let (p50, p99, max) = (pct(&mut run.lat_all, 50.0), pct(&mut run.lat_all, 99.0), pct(&mut run.lat_all, 100.0));
    let (b50, b99) = (pct(&mut run.lat_burst, 50.0), pct(&mut run.lat_burst, 99.0));
    let (s50, s99) = (pct(&mut run.lat_spread, 50.0), pct(&mut run.lat_spread, 99.0));
    println!(
        "due_delivery fired={fired} delivered={delivered} missing={} duplicates={dup} unfired_due={unfired} \
         p50_ms={p50:.0} p99_ms={p99:.0} max_ms={max:.0} burst_p50_ms={b50:.0} burst_p99_ms={b99:.0} \
         spread_p50_ms={s50:.0} spread_p99_ms={s99:.0}",
        run.missing
    );
    if fired != DUE as usize || delivered != DUE as usize || dup != 0 || unfired != 0 {
        return Err(format!(
            "inconsistent: {fired} fired, {delivered} delivered, {dup} duplicates, {unfired} unfired of {DUE}"
        ));
    }
    sum.add(
        "due_to_bar_p99_ms",
        format!("{p99:.0} (p50 {p50:.0}, max {max:.0}; burst of {BURST} p99 {b99:.0})"),
        &format!("< {DUE_P99_TARGET_MS:.0}"),
        verdict(p99 < DUE_P99_TARGET_MS),
    );
    Ok(())
}

// ---------------------------------------------------------------- 2. idle job

async fn bench_idle(sum: &mut Summary, s: &Seeded, server: &Server) -> R<()> {
    let pid = server.pid().to_string();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let c0 = cpu_secs(&pid);
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs(IDLE_SECS)).await;
    let cpu_pct = (cpu_secs(&pid) - c0) / t.elapsed().as_secs_f64() * 100.0;

    let path = s.db.clone();
    let (plan, per_probe_us, waiting) = tokio::task::spawn_blocking(move || {
        let c =
            rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(err)?;
        let now = now_secs();
        let mut plan = Vec::new();
        let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {PROBE}")).map_err(err)?;
        let rows = st.query_map([now], |r| r.get::<_, String>(3)).map_err(err)?;
        for r in rows {
            plan.push(r.map_err(err)?);
        }
        let mut probe = c.prepare(PROBE).map_err(err)?;
        let t = Instant::now();
        for _ in 0..PROBES {
            let due: bool = probe.query_row([now], |r| r.get(0)).map_err(err)?;
            if due {
                return Err("a task is due during the idle measure".to_string());
            }
        }
        let us = t.elapsed().as_secs_f64() * 1e6 / PROBES as f64;
        let waiting: i64 = c
            .query_row("SELECT count(*) FROM tasks WHERE fired_at IS NULL AND status <> 'done'", [], |r| r.get(0))
            .map_err(err)?;
        Ok::<_, String>((plan.join(" / "), us, waiting))
    })
    .await
    .map_err(err)??;
    let indexed = plan.contains("INDEX tasks_due") && !plan.contains("SCAN tasks");
    println!(
        "due_idle server_cpu_pct={cpu_pct:.2} over {IDLE_SECS} s (all per-second jobs) tasks_waiting={waiting} \
         probe_us={per_probe_us:.2} plan=\"{plan}\""
    );
    sum.add(
        "idle_server_cpu_pct",
        format!("{cpu_pct:.2}% of a core ({waiting} tasks waiting)"),
        &format!("< {IDLE_CPU_TARGET_PCT}"),
        verdict(cpu_pct < IDLE_CPU_TARGET_PCT),
    );
    sum.add("due_probe", format!("{per_probe_us:.2} us, {plan}"), "index search, no scan", verdict(indexed));
    Ok(())
}

// ---------------------------------------------------------------- 3. Tarefas page

/// The keyset cursor of the open task at position `n` by due time (a deep page).
async fn deep_cursor(s: &Seeded, n: i64) -> R<String> {
    let path = s.db.clone();
    tokio::task::spawn_blocking(move || {
        let c =
            rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(err)?;
        c.query_row(
            "SELECT due_at || '.' || id FROM tasks WHERE status <> 'done' ORDER BY due_at, id LIMIT 1 OFFSET ?1",
            [n],
            |r| r.get(0),
        )
        .map_err(err)
    })
    .await
    .map_err(err)?
}

async fn bench_page(sum: &mut Summary, s: &Seeded, server: &Server) -> R<()> {
    let addr = server.addr();
    let admin = format!("atende_sid={}", login(addr, &s.admin_login).await?);
    let agent = format!("atende_sid={}", login(addr, &s.logins[0]).await?);
    let deep = deep_cursor(s, 80_000).await?;
    let cases: Vec<(&str, String, &str)> = vec![
        ("admin_open", "/tarefas".into(), &admin),
        ("agent_open", "/tarefas".into(), &agent),
        ("admin_deep", format!("/tarefas?apos={deep}"), &admin),
        ("admin_type", "/tarefas?kind=call".into(), &admin),
        ("admin_assignee", format!("/tarefas?assignee={}", s.agents[7]), &admin),
        ("admin_team", format!("/tarefas?team={}", s.team), &admin),
        ("admin_done", "/tarefas?status=done".into(), &admin),
        ("agent_all", "/tarefas?status=all".into(), &agent),
    ];
    let mut worst: f64 = 0.0;
    let mut worst_name = "";
    for (name, path, cookie) in &cases {
        let (mut lat, size) = seq_get(addr, path, cookie, PAGE_REQUESTS).await?;
        let (p50, p99) = (pct(&mut lat, 50.0), pct(&mut lat, 99.0));
        println!("tarefas_page case={name} path={path} bytes={size} p50_ms={p50:.2} p99_ms={p99:.2}");
        if p99 > worst {
            worst = p99;
            worst_name = name;
        }
        if *name == "admin_open" {
            sum.add(
                "tarefas_admin_p99_ms",
                format!("{p99:.2} (p50 {p50:.2})"),
                &format!("< {PAGE_P99_TARGET_MS:.0}"),
                verdict(p99 < PAGE_P99_TARGET_MS),
            );
        }
    }
    sum.add(
        "tarefas_worst_case_p99_ms",
        format!("{worst:.2} ({worst_name})"),
        &format!("< {PAGE_P99_TARGET_MS:.0}"),
        verdict(worst < PAGE_P99_TARGET_MS),
    );
    Ok(())
}

// ---------------------------------------------------------------- main

async fn run(sum: &mut Summary) -> R<()> {
    let tmp = tempfile::tempdir().map_err(err)?;
    let data = tmp.path().join("data");
    let t = Instant::now();
    let s = seed(&data).await?;
    println!("seed open={} done={DONE} agents={AGENTS} secs={:.1}", DUE + FUTURE + OVERDUE, t.elapsed().as_secs_f64());
    let (mut server, t0) = Server::spawn(&data, &tmp.path().join("server.log"))?;
    server.wait_ready(t0, READY_LIMIT, POLL)?;

    println!("\n-- 1. {DUE} tasks due in one minute ({BURST} on its first second), {AGENTS} agents with a live bar");
    if let Err(e) = bench_due(sum, &s, &server).await {
        sum.fail("due_to_bar_p99_ms", &e);
    }
    println!("\n-- 2. the due job with nothing due ({IDLE_SECS} s idle)");
    if let Err(e) = bench_idle(sum, &s, &server).await {
        sum.fail("idle_server_cpu_pct", &e);
    }
    println!("\n-- 3. Tarefas page, {PAGE_REQUESTS} sequential requests per case");
    if let Err(e) = bench_page(sum, &s, &server).await {
        sum.fail("tarefas_admin_p99_ms", &e);
    }
    server.stop()
}

fn main() {
    let Some((total, mut sum, rt)) = common::start("tasks") else { return };
    if let Err(e) = rt.block_on(run(&mut sum)) {
        sum.fail("tasks_bench", &e);
    }
    common::finish(rt, total, sum, 240.0);
}
