//! Section 1 of the e-mail bench: [`EMAILS`] customer e-mails put into a
//! private Dovecot's INBOX by IMAP APPEND before the server starts; then the
//! server, its mailbox polled every second, reads them all. Figures: e-mails
//! stored per second from the server's spawn, the server's RSS sampled every
//! second (target: under [`RSS_TARGET_MB`] throughout; the verdict also takes
//! the kernel's peak, VmHWM, so a spike between two samples counts), and the
//! database must hold each e-mail once, with the conversations and files it
//! should.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use atende::db;

use crate::common::seed::seed_base;
use crate::common::{POLL, R, READY_LIMIT, Server, Summary, cpu_secs, err, pct, verdict, writer_cpu};
use crate::dovecot::{self, Dovecot};
use crate::mail::{self, SENDERS};
use crate::{DESK, MAIL_PW, MailboxSetup, loadavg, log_problems, mb, seed_mailbox, tree_cpu};

/// E-mails delivered and read.
pub const EMAILS: usize = 10_000;
/// IMAP sessions appending at once (a sender's e-mails all go through the
/// same one, so they keep their order).
const APPEND_CONNS: usize = 4;
/// Longest APPEND phase, and longest wait for the server to store them all.
const APPEND_LIMIT: Duration = Duration::from_secs(600);
const INGEST_LIMIT: Duration = Duration::from_secs(300);
/// No new e-mail stored for this long: the read is stuck.
const STALL_LIMIT: Duration = Duration::from_secs(60);
/// How often the database is counted, and RSS sampled (every 4th count).
const COUNT_EVERY: Duration = Duration::from_millis(250);
/// Targets.
const RATE_TARGET: f64 = 300.0;
const RSS_TARGET_MB: f64 = 60.0;

/// What the APPEND phase put into the mailbox.
#[derive(Default)]
struct Delivered {
    bytes: u64,
    opens: usize,
    attachments: usize,
    /// Size buckets: < 20 KB, 20–60 KB, 60–200 KB, >= 200 KB.
    sizes: [usize; 4],
    secs: f64,
}

/// Appends every e-mail, `APPEND_CONNS` sessions at once.
async fn deliver(port: u16) -> R<Delivered> {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for j in 0..APPEND_CONNS {
        tasks.push(tokio::spawn(async move {
            let mut s = dovecot::session(port, DESK, MAIL_PW).await?;
            let mut d = Delivered::default();
            for i in (j..EMAILS).step_by(APPEND_CONNS) {
                if start.elapsed() > APPEND_LIMIT {
                    return Err(format!("APPEND phase over {APPEND_LIMIT:?}"));
                }
                let g = mail::generate(i);
                let n = g.raw.len();
                s.append("INBOX", None, None, &g.raw).await.map_err(|e| format!("APPEND {i}: {e}"))?;
                d.bytes += n as u64;
                d.opens += usize::from(g.opens);
                d.attachments += usize::from(g.attachment);
                d.sizes[[20, 60, 200].iter().filter(|k| n >= *k * 1024).count()] += 1;
            }
            let _ = s.logout().await;
            Ok::<_, String>(d)
        }));
    }
    let mut all = Delivered::default();
    for t in tasks {
        let d = t.await.map_err(err)??;
        all.bytes += d.bytes;
        all.opens += d.opens;
        all.attachments += d.attachments;
        for k in 0..4 {
            all.sizes[k] += d.sizes[k];
        }
    }
    all.secs = start.elapsed().as_secs_f64();
    Ok(all)
}

/// CPU seconds per thread name of a process.
fn thread_cpu(pid: u32) -> HashMap<String, f64> {
    let mut m = HashMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return m };
    for t in dir.flatten().take(10_000) {
        let tid = t.file_name().to_string_lossy().into_owned();
        let comm = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm")).unwrap_or_default();
        *m.entry(comm.trim().to_string()).or_default() += cpu_secs(&format!("{pid}/task/{tid}"));
    }
    m
}

/// The mailbox's state, last error and last UID stored.
fn mailbox_state(c: &rusqlite::Connection, queue: i64) -> String {
    c.query_row("SELECT state, last_error, last_uid FROM email_mailboxes WHERE queue_id = ?1", [queue], |r| {
        Ok(format!(
            "state={} last_uid={} last_error={:?}",
            r.get::<_, String>(0)?,
            r.get::<_, i64>(2)?,
            r.get::<_, String>(1)?
        ))
    })
    .unwrap_or_else(|e| format!("({e})"))
}

/// The memory a mailbox's UID listing holds, as the sync asks for it
/// (`UID FETCH 1:* (UID RFC822.SIZE)`): growth of this process's anonymous
/// RSS while the responses are kept (the sync collects them before keeping
/// just UID and size), and while only (UID, size) is kept as they stream in.
/// Returns (kept MB, streamed MB, responses).
async fn listing_memory(port: u16) -> R<(f64, f64, usize)> {
    use futures_util::TryStreamExt;
    let me = std::process::id();
    let mut s = dovecot::session(port, DESK, MAIL_PW).await?;
    s.select("INBOX").await.map_err(err)?;
    let before = mb(me, "RssAnon:");
    let pairs: Vec<(u32, u32)> = s
        .uid_fetch("1:*", "(UID RFC822.SIZE)")
        .await
        .map_err(err)?
        .try_filter_map(|f| async move { Ok(f.uid.zip(f.size)) })
        .try_collect()
        .await
        .map_err(err)?;
    let streamed = mb(me, "RssAnon:") - before;
    let before = mb(me, "RssAnon:");
    let kept: Vec<_> =
        s.uid_fetch("1:*", "(UID RFC822.SIZE)").await.map_err(err)?.try_collect::<Vec<_>>().await.map_err(err)?;
    let held = mb(me, "RssAnon:") - before;
    let n = kept.len().max(pairs.len());
    drop(kept);
    let _ = s.logout().await;
    Ok((held, streamed, n))
}

/// Section 1.
pub async fn bench(sum: &mut Summary, root: &Path) -> R<()> {
    let data = root.join("ingest");
    let base = seed_base(&data, "em", 1, 1).await?;
    let queue = base.queues[0];
    let path = data.join("atende.db");
    let dc = Dovecot::start(&[DESK], MAIL_PW)?;
    println!("mail_ingest_dovecot port={} pid={}", dc.port, dc.pid());

    let d = match deliver(dc.port).await {
        Ok(d) => d,
        Err(e) => return Err(format!("{e}; dovecot log:\n{}", dc.log())),
    };
    let exists = {
        let mut s = dovecot::session(dc.port, DESK, MAIL_PW).await?;
        let m = s.select("INBOX").await.map_err(err)?;
        let _ = s.logout().await;
        m.exists as usize
    };
    println!(
        "mail_ingest_delivered appended={EMAILS} inbox_exists={exists} bytes_mb={:.1} mean_kb={:.1} \
         under_20kb={} kb_20_60={} kb_60_200={} over_200kb={} with_pdf={} opening_conversations={} senders={SENDERS} \
         maildir_mb={:.1} append_s={:.1} ({:.0}/s over {APPEND_CONNS} sessions)",
        d.bytes as f64 / 1048576.0,
        d.bytes as f64 / 1024.0 / EMAILS as f64,
        d.sizes[0],
        d.sizes[1],
        d.sizes[2],
        d.sizes[3],
        d.attachments,
        d.opens,
        dc.mail_bytes() as f64 / 1048576.0,
        d.secs,
        EMAILS as f64 / d.secs.max(1e-9)
    );
    if exists != EMAILS {
        return Err(format!("the INBOX holds {exists} e-mails, {EMAILS} appended"));
    }
    {
        let c = db::open_rw(&path).map_err(err)?;
        seed_mailbox(&c, queue, &MailboxSetup { imap_port: dc.port, smtp_port: 0, poll_secs: 1 })?;
        c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").map_err(err)?;
    }

    let log = root.join("ingest.log");
    let dc_cpu0 = tree_cpu(dc.pid());
    let b0 = cpu_secs("self");
    let (mut server, t0) = Server::spawn(&data, &log)?;
    let ready = server.wait_ready(t0, READY_LIMIT, POLL)?;
    let pid = server.pid();
    let conn = db::open_ro(&path).map_err(err)?;
    let count = |c: &rusqlite::Connection| {
        c.query_row("SELECT count(*) FROM inbound_ids WHERE channel = 'email'", [], |r| r.get::<_, i64>(0)).map_err(err)
    };
    // Every second (the target's samples), and the most seen at any count.
    let mut rss: Vec<f64> = Vec::new();
    let mut fine_max = f64::NEG_INFINITY;
    let mut timeline: Vec<(f64, i64)> = Vec::new();
    let (mut stored, mut last_change) = (0i64, Instant::now());
    let mut problem: Option<String> = None;
    let max_ticks = (INGEST_LIMIT.as_millis() / COUNT_EVERY.as_millis()) as usize;
    for tick in 0..max_ticks {
        let r = mb(pid, "VmRSS:");
        if r.is_nan() {
            problem = Some(format!("the server died; log:\n{}", server.log_tail()));
            break;
        }
        fine_max = fine_max.max(r);
        if tick % 4 == 0 {
            rss.push(r);
        }
        let n = count(&conn)?;
        let at = t0.elapsed().as_secs_f64();
        if n != stored {
            stored = n;
            last_change = Instant::now();
            timeline.push((at, n));
        }
        if tick % 20 == 0 && tick > 0 {
            println!(
                "mail_ingest_progress t_s={at:.1} stored={n} rss_mb={:.1} {}",
                rss.last().copied().unwrap_or(f64::NAN),
                mailbox_state(&conn, queue)
            );
        }
        if n >= EMAILS as i64 {
            break;
        }
        if last_change.elapsed() > STALL_LIMIT {
            problem = Some(format!(
                "no e-mail stored for {STALL_LIMIT:?} ({n} of {EMAILS}); {}; log:\n{}",
                mailbox_state(&conn, queue),
                server.log_tail()
            ));
            break;
        }
        tokio::time::sleep(COUNT_EVERY).await;
    }
    let secs = t0.elapsed().as_secs_f64();
    let (cpu, wcpu, threads) = (cpu_secs(&pid.to_string()), writer_cpu(pid), thread_cpu(pid));
    let (rss_end, hwm) = (mb(pid, "VmRSS:"), mb(pid, "VmHWM:"));
    let dc_cpu = tree_cpu(dc.pid()) - dc_cpu0;
    let bcpu = cpu_secs("self") - b0;
    let state = mailbox_state(&conn, queue);
    drop(conn);
    let tail = server.log_tail();
    tokio::task::spawn_blocking(move || server.stop()).await.map_err(err)??;
    if let Some(p) = problem {
        return Err(p);
    }
    if stored < EMAILS as i64 {
        return Err(format!("{stored} of {EMAILS} stored in {INGEST_LIMIT:?}; {state}; log:\n{tail}"));
    }

    let rate = EMAILS as f64 / secs.max(1e-9);
    let (first_at, first_n) = timeline.first().copied().unwrap_or((f64::NAN, 0));
    let steady = (EMAILS as i64 - first_n) as f64 / (secs - first_at).max(1e-9);
    let max_rss = rss.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min_rss = rss.iter().copied().fold(f64::INFINITY, f64::min);
    let mut sorted = rss.clone();
    let p50_rss = pct(&mut sorted, 50.0);
    let rate_ok = rate >= RATE_TARGET;
    let rss_ok = max_rss < RSS_TARGET_MB && hwm < RSS_TARGET_MB;
    println!(
        "mail_ingest emails_per_s={rate:.0} (from spawn to the last stored: {secs:.1} s) {} target=>={RATE_TARGET:.0}/s \
         ready_s={:.2} first_stored_s={first_at:.2} ({first_n} in the first count) steady_per_s={steady:.0} \
         mb_per_s={:.1}",
        verdict(rate_ok),
        ready.as_secs_f64(),
        d.bytes as f64 / 1048576.0 / secs.max(1e-9)
    );
    println!(
        "mail_ingest_cpu server_cpu_s={cpu:.1} ({:.0}% of one core, {:.2} ms/e-mail) writer_thread_s={wcpu:.1} \
         dovecot_cpu_s={dc_cpu:.1} bench_cpu_s={bcpu:.1} load_avg=[{}]",
        100.0 * cpu / secs.max(1e-9),
        1000.0 * cpu / EMAILS as f64,
        loadavg()
    );
    let mut by_thread: Vec<(String, f64)> = threads.into_iter().collect();
    by_thread.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!(
        "mail_ingest_server_threads {}",
        by_thread.iter().take(6).map(|(n, s)| format!("{n}={s:.1}s")).collect::<Vec<_>>().join(" ")
    );
    println!(
        "mail_ingest_rss samples={} min_mb={min_rss:.1} median_mb={p50_rss:.1} max_mb={max_rss:.1} end_mb={rss_end:.1} \
         max_at_250ms_samples_mb={fine_max:.1} peak_hwm_mb={hwm:.1} {} target=<{RSS_TARGET_MB:.0}MB (samples and peak)",
        rss.len(),
        verdict(rss_ok)
    );
    let series: Vec<String> = rss.iter().step_by((rss.len() / 12).max(1)).map(|r| format!("{r:.0}")).collect();
    println!("mail_ingest_rss_series_mb [{}]", series.join(" "));

    let conn = db::open_ro(&path).map_err(err)?;
    let q = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map_err(err);
    let ids = q("SELECT count(*) FROM inbound_ids WHERE channel = 'email'")?;
    let ins = q("SELECT count(*) FROM messages WHERE kind = 'in'")?;
    let rows = q("SELECT count(*) FROM email_messages")?;
    let html = q("SELECT count(*) FROM email_messages WHERE html <> ''")?;
    let remote = q("SELECT count(*) FROM email_messages WHERE remote_images = 1")?;
    let convs = q("SELECT count(*) FROM conversations WHERE channel = 'email'")?;
    let files = q("SELECT count(*) FROM attachments")?;
    let file_mb = q("SELECT coalesce(sum(size), 0) FROM attachments")? as f64 / 1048576.0;
    let contacts = q("SELECT count(*) FROM contacts WHERE email <> ''")?;
    let scripts = q("SELECT count(*) FROM email_messages WHERE html LIKE '%<script%'")?;
    drop(conn);
    let db_mb = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1048576.0;
    let ok = ids == EMAILS as i64
        && ins == ids
        && rows == ids
        && convs == d.opens as i64
        && files == d.attachments as i64
        && scripts == 0;
    let (warns, first) = log_problems(&log);
    println!(
        "mail_ingest_db_check inbound_ids={ids} in_messages={ins} email_messages={rows} with_html={html} \
         with_remote_images={remote} conversations={convs} (expected {}) attachments={files} (expected {}) \
         attachment_mb={file_mb:.1} contacts={contacts} scripts_left={scripts} db_mb={db_mb:.1} match={} {state} \
         server_log_warn_error_lines={warns}",
        d.opens,
        d.attachments,
        if ok { "yes (each e-mail once, threads and files as sent)" } else { "NO" }
    );
    for l in &first {
        println!("  log: {l}");
    }
    // Where the peak comes from: the UID listing of the first read.
    match listing_memory(dc.port).await {
        Ok((held, streamed, n)) => println!(
            "mail_ingest_uid_listing responses={n} rss_anon_growth_mb_kept={held:.1} \
             rss_anon_growth_mb_uid_and_size_only={streamed:.1} (this process, async-imap as the server uses it)"
        ),
        Err(e) => println!("mail_ingest_uid_listing not measured: {e}"),
    }
    if !ok {
        sum.fail(
            "mail_ingest_db_check",
            &format!(
                "{ids} ids, {ins} in, {rows} rows, {convs}/{} conversations, {files}/{} files",
                d.opens, d.attachments
            ),
        );
        return Ok(());
    }
    sum.add(
        "mail_ingest_per_s",
        format!("{rate:.0}/s ({secs:.1} s for {EMAILS})"),
        &format!(">= {RATE_TARGET:.0}/s"),
        verdict(rate_ok),
    );
    sum.add("mail_ingest_steady_per_s", format!("{steady:.0}/s"), "", "");
    sum.add(
        "mail_ingest_rss_mb",
        format!("1-s max {max_rss:.1}, median {p50_rss:.1}, peak {hwm:.1}"),
        &format!("< {RSS_TARGET_MB:.0}"),
        verdict(rss_ok),
    );
    sum.add("mail_ingest_db_check", format!("{ids} once, {convs} conversations, {files} files"), "equal", "OK");
    Ok(())
}
