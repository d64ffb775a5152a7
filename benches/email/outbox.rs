//! Section 3 of the e-mail bench: [`REPLIES`] agent replies waiting in the
//! e-mail outbox, delivered to the SMTP sink; the server killed with SIGKILL
//! [`KILL_AFTER`] after it started, in the middle of a delivery run, and
//! restarted on the same folder. Every reply must reach the sink once.
//!
//! What the kill leaves `sending` is settled when the server starts again:
//! a row taken by the run but not yet handed to the SMTP server is sent
//! normally; one whose SMTP transaction had begun is never sent again
//! blindly (SMTP gives no later sign that it went out) but marked
//! unconfirmed for the agent to check. Those are counted apart (those the
//! sink did take, and those it never saw); at most `PER_QUEUE` can exist.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use atende::channels::email::deliver::{PER_QUEUE, PER_RUN};
use atende::db;
use atende::domain::email::outgoing::{Extras, enqueue_reply};
use rusqlite::params;

use crate::common::outbox::{sending, show, span, states};
use crate::common::seed::seed_base;
use crate::common::{POLL, R, READY_LIMIT, Server, Summary, err, now_secs, verdict};
use crate::sink::{Sink, unix_ms};
use crate::{MailboxSetup, loadavg, log_problems, mb, seed_mailbox};

/// Replies waiting in the outbox.
pub const REPLIES: i64 = 5_000;
/// When the first server is killed (after it answers).
pub const KILL_AFTER: Duration = Duration::from_secs(30);
/// The message (counted from when the kill is armed) whose DATA command
/// kills the server.
const KILL_AT_MESSAGE: u64 = (PER_RUN / 2) as u64;
/// Longest wait for the drain after the restart.
const DRAIN_LIMIT: Duration = Duration::from_secs(300);
/// RSS growth of the restarted server (its last 10 samples against its
/// samples 5 to 15 s after it started) that still counts as flat.
const FLAT_MB: f64 = 4.0;

/// Seeds the replies: per customer a contact with their address, a
/// conversation held by the agent, the customer's e-mail (with its
/// Message-ID, participants and inbound id, as the sync stores it), the
/// agent's reply and its outbox row built by the library's `enqueue_reply`
/// (threaded on the customer's e-mail, one in ten with someone in copy).
/// One transaction.
fn seed(path: &Path, queue: i64, agent: i64, smtp_port: u16) -> R<()> {
    let now = now_secs();
    let mut c = db::open_rw(path).map_err(err)?;
    let tx = c.transaction().map_err(err)?;
    seed_mailbox(&tx, queue, &MailboxSetup { imap_port: 0, smtp_port, poll_secs: 60 })?;
    {
        let mut contact = tx
            .prepare("INSERT INTO contacts (name, email, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)")
            .map_err(err)?;
        let mut conv = tx
            .prepare(
                "INSERT INTO conversations (queue_id, contact_id, channel, subject, status, agent_id, queued_at,
                   created_at, last_activity_at)
                 VALUES (?1, ?2, 'email', ?3, 'assigned', ?4, ?5, ?5, ?6)",
            )
            .map_err(err)?;
        let mut msg = tx
            .prepare(
                "INSERT INTO messages (conversation_id, kind, author_id, author_name, body, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(err)?;
        let mut inbound = tx
            .prepare("INSERT INTO inbound_ids (channel, external_id, message_id) VALUES ('email', ?1, ?2)")
            .map_err(err)?;
        let mut email = tx
            .prepare(
                "INSERT INTO email_messages (message_id, rfc_id, subject, from_addr, to_addrs, cc_addrs)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(err)?;
        let mut part = tx
            .prepare("INSERT INTO email_participants (conversation_id, address, cc) VALUES (?1, ?2, ?3)")
            .map_err(err)?;
        let mut read = tx.prepare("UPDATE conversations SET agent_read_id = ?1 WHERE id = ?2").map_err(err)?;
        for i in 0..REPLIES {
            let name = format!("Cliente {i}");
            let addr = format!("cliente{i}@exemplo.com.br");
            contact.execute(params![name, addr, now - 600]).map_err(err)?;
            let contact_id = tx.last_insert_rowid();
            let subject = format!("Pedido {} não chegou", 50_000 + i);
            conv.execute(params![queue, contact_id, subject, agent, now - 600, now - 60]).map_err(err)?;
            let cid = tx.last_insert_rowid();
            let asked = format!("Olá, o pedido {} ainda não chegou. Podem verificar?", 50_000 + i);
            msg.execute(params![cid, "in", None::<i64>, name, asked, now - 600]).map_err(err)?;
            let in_id = tx.last_insert_rowid();
            let rfc = format!("m{i}.x7k2@exemplo.com.br");
            inbound.execute(params![format!("{queue}:{rfc}"), in_id]).map_err(err)?;
            let cc = if i % 10 == 0 { format!("financeiro{i}@exemplo.com.br") } else { String::new() };
            email.execute(params![in_id, rfc, subject, addr, crate::DESK, cc]).map_err(err)?;
            part.execute(params![cid, addr, false]).map_err(err)?;
            if !cc.is_empty() {
                part.execute(params![cid, cc, true]).map_err(err)?;
            }
            let reply = format!(
                "Olá, {name}!\n\nO pedido {} saiu hoje da transportadora e chega em até 2 dias úteis.\n\
                 Código de rastreamento: BR{:09}XX.\n\nQualquer dúvida, é só responder este e-mail.",
                50_000 + i,
                700_000_000 + i
            );
            msg.execute(params![cid, "out", agent, "Agente 000", reply, now - 60]).map_err(err)?;
            let mid = tx.last_insert_rowid();
            enqueue_reply(&tx, cid, queue, mid, &reply, &Extras::default(), now - 60)
                .map_err(|e| format!("enqueue_reply: {e}"))?;
            read.execute(params![mid, cid]).map_err(err)?;
        }
    }
    tx.commit().map_err(err)?;
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").map_err(err)?;
    Ok(())
}

/// Each outbox row's Message-ID (from its payload), by row id.
fn message_ids(path: &Path) -> R<HashMap<i64, String>> {
    let c = db::open_ro(path).map_err(err)?;
    let mut st = c.prepare("SELECT id, payload FROM outbox WHERE channel = 'email'").map_err(err)?;
    let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).map_err(err)?;
    let mut m = HashMap::new();
    for row in rows {
        let (id, payload) = row.map_err(err)?;
        let v: serde_json::Value = serde_json::from_str(&payload).map_err(err)?;
        m.insert(id, v["message_id"].as_str().unwrap_or("").to_string());
    }
    Ok(m)
}

/// Rows the restart marked unconfirmed.
fn unconfirmed(path: &Path) -> R<Vec<i64>> {
    let c = db::open_ro(path).map_err(err)?;
    let mut st = c
        .prepare("SELECT id FROM outbox WHERE channel = 'email' AND state = 'failed' AND error = 'mail.unconfirmed'")
        .map_err(err)?;
    let rows = st.query_map([], |r| r.get(0)).map_err(err)?;
    rows.collect::<Result<_, _>>().map_err(err)
}

/// Section 3.
pub async fn bench(sum: &mut Summary, root: &Path) -> R<()> {
    let sink = Sink::start().await?;
    println!("mail_outbox_sink smtp://127.0.0.1:{}", sink.port);
    let data = root.join("outbox");
    let base = seed_base(&data, "eo", 1, 1).await?;
    let (queue, agent) = (base.queues[0], base.agents[0]);
    let path = data.join("atende.db");
    let t = Instant::now();
    let (p, port) = (path.clone(), sink.port);
    tokio::task::spawn_blocking(move || seed(&p, queue, agent, port)).await.map_err(err)??;
    let ids = message_ids(&path)?;
    println!("mail_outbox_seed replies={REPLIES} outbox_rows={} secs={:.1}", ids.len(), t.elapsed().as_secs_f64());
    if ids.len() as i64 != REPLIES || ids.values().any(String::is_empty) {
        return Err(format!("{} outbox rows with a Message-ID for {REPLIES} replies", ids.len()));
    }

    // First server: delivers for KILL_AFTER, then SIGKILL mid-run.
    let log1 = root.join("outbox1.log");
    let (mut server, t0) = Server::spawn(&data, &log1)?;
    server.wait_ready(t0, READY_LIMIT, POLL)?;
    let pid = server.pid();
    let mut rss1 = Vec::new();
    let started = Instant::now();
    while started.elapsed() < KILL_AFTER {
        rss1.push(mb(pid, "VmRSS:"));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // The sink kills the server as the middle message of the next run is
    // about to be sent (a plain kill -9 if none comes within 3 s).
    let armed = Instant::now();
    sink.kill_on(pid, KILL_AT_MESSAGE);
    while sink.kill_on_data.load(Ordering::Relaxed) != 0 && armed.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mid_run = sink.kill_on_data.swap(0, Ordering::Relaxed) == 0;
    if !mid_run {
        let _ =
            Command::new("kill").arg("-9").arg(pid.to_string()).stdout(Stdio::null()).stderr(Stdio::null()).status();
    }
    let killed_at = unix_ms();
    let _ = tokio::task::spawn_blocking(move || server.stop()).await.map_err(err)?;
    // Transactions the sink was in when the server died end with the socket.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let taken_before_kill = sink.rec.lock().map_err(err)?.taken.len();
    let at_take = sink.killed_at.load(Ordering::Relaxed);
    let run_size = PER_RUN;
    let at_kill = states(&path)?;
    let sending_at_kill: HashSet<i64> = sending(&path)?.into_iter().map(|(id, _)| id).collect();
    println!(
        "mail_outbox_killed after_s={:.1} {} taken_by_sink={taken_before_kill} (taken when the kill came: {at_take}; runs of {run_size}) \
         db_states=[{}] sink_in_flight={}",
        started.elapsed().as_secs_f64(),
        if mid_run { "mid-run (SIGKILL at the DATA of a run's middle message)" } else { "kill -9 (no message came)" },
        show(&at_kill),
        sink.in_flight.load(Ordering::Relaxed)
    );

    // Second server on the same folder: drains the rest.
    let log2 = root.join("outbox2.log");
    let (mut server, t0) = Server::spawn(&data, &log2)?;
    let restarted_at = unix_ms();
    let ready = server.wait_ready(t0, READY_LIMIT, POLL)?;
    let pid = server.pid();
    let mut rss2 = Vec::new();
    let mut stuck: Vec<(i64, i64)> = Vec::new();
    let mut settled = 0;
    let mut drained = false;
    let drain = Instant::now();
    while drain.elapsed() < DRAIN_LIMIT {
        rss2.push(mb(pid, "VmRSS:"));
        tokio::time::sleep(Duration::from_secs(1)).await;
        let st = states(&path)?;
        let left = sending(&path)?;
        let only_old = left.iter().all(|(id, _)| sending_at_kill.contains(id));
        let idle = sink.in_flight.load(Ordering::Relaxed) == 0;
        if st.get("pending").copied().unwrap_or(0) == 0 && only_old && idle {
            settled += 1;
            if settled >= 3 {
                stuck = left;
                drained = true;
                break;
            }
        } else {
            settled = 0;
        }
    }
    let drain_secs = drain.elapsed().as_secs_f64();
    let final_states = states(&path)?;
    let cpu2 = crate::common::cpu_secs(&pid.to_string());
    let tail = server.log_tail();
    tokio::task::spawn_blocking(move || server.stop()).await.map_err(err)??;

    // What the sink saw.
    let (taken, seen, bytes, bad) = {
        let r = sink.rec.lock().map_err(err)?;
        (r.taken.clone(), r.seen.clone(), r.bytes, r.bad)
    };
    let ours: HashSet<&str> = ids.values().map(String::as_str).collect();
    let delivered = ours.iter().filter(|id| seen.contains_key(**id)).count() as i64;
    let strangers = seen.keys().filter(|k| !ours.contains(k.as_str())).count();
    let duplicates: u64 = seen.values().map(|n| u64::from(n.saturating_sub(1))).sum();
    // Left sending after the drain (none expected), and marked unconfirmed.
    let mut open: Vec<i64> = stuck.iter().map(|(id, _)| *id).collect();
    open.extend(unconfirmed(&path)?);
    let open_unsent = open.iter().filter(|id| ids.get(id).is_none_or(|m| !seen.contains_key(m))).count() as i64;
    let missing = REPLIES - delivered - open_unsent;
    let failed = final_states.get("failed").copied().unwrap_or(0);

    let mut buckets: HashMap<u64, u64> = HashMap::new();
    for (at, _) in &taken {
        *buckets.entry(at / 1000).or_default() += 1;
    }
    let max_bucket = buckets.values().copied().max().unwrap_or(0);
    let mean_active = taken.len() as f64 / buckets.len().max(1) as f64;
    let (first, last) = (taken.first().map(|s| s.0).unwrap_or(0), taken.last().map(|s| s.0).unwrap_or(0));
    let span_s = (last.saturating_sub(first)) as f64 / 1000.0;
    let mean_all = taken.len() as f64 / span_s.max(1e-9);
    let after_restart: Vec<u64> = taken.iter().map(|s| s.0).filter(|t| *t >= restarted_at).collect();
    let first_after = after_restart.first().map(|t| (t - restarted_at) as f64 / 1000.0).unwrap_or(f64::NAN);
    let drain_to_last = after_restart.last().map(|t| (t - restarted_at) as f64 / 1000.0).unwrap_or(f64::NAN);
    let rate_after = after_restart.len() as f64
        / after_restart
            .last()
            .zip(after_restart.first())
            .map(|(l, f)| (l - f) as f64 / 1000.0)
            .unwrap_or(0.0)
            .max(1e-9);
    let downtime = (restarted_at.saturating_sub(killed_at)) as f64 / 1000.0;

    let (min1, max1, _, last1) = span(&rss1);
    let (min2, max2, first2, last2) = span(&rss2);
    let early = if rss2.len() > 15 { span(&rss2[5..15]).1 } else { f64::NAN };
    let late = if rss2.len() >= 10 { span(&rss2[rss2.len() - 10..]).1 } else { f64::NAN };
    let growth = late - early;
    let flat = growth <= FLAT_MB;

    let (w1, l1) = log_problems(&log1);
    let (w2, l2) = log_problems(&log2);
    println!(
        "mail_outbox_delivered delivered={delivered} of {REPLIES} duplicates={duplicates} {} missing={missing} {} \
         stuck_sending={} unconfirmed_after_restart={} (of which the sink took: {}; never sent: {open_unsent}; \
         at most PER_QUEUE={PER_QUEUE}) failed_rows={failed} \
         unknown_message_ids={strangers} bad_smtp_commands={bad} drained={}",
        verdict(duplicates == 0),
        verdict(missing == 0),
        stuck.len(),
        open.len() - stuck.len(),
        open.len() as i64 - open_unsent,
        if drained { "yes" } else { "NO (time limit)" }
    );
    println!(
        "mail_outbox_rate max_per_1s_bucket={max_bucket} mean_per_active_second={mean_active:.1} \
         after_restart_per_s={rate_after:.1} mean_first_to_last={mean_all:.1}/s (incl. {downtime:.2} s down) \
         active_seconds={} smtp_connections={} sink_mb={:.1}",
        buckets.len(),
        sink.connections.load(Ordering::Relaxed),
        bytes as f64 / 1048576.0
    );
    println!(
        "mail_outbox_timing taken_before_kill={taken_before_kill} downtime_s={downtime:.2} restart_ready_s={:.2} \
         first_send_after_restart_s={first_after:.2} drain_after_restart_s={drain_to_last:.1} \
         first_to_last_send_s={span_s:.1} drain_wait_s={drain_secs:.1} restarted_server_cpu_s={cpu2:.1}",
        ready.as_secs_f64()
    );
    println!(
        "mail_outbox_rss first_server_mb=[min {min1:.1} max {max1:.1} last {last1:.1}] \
         restarted_server_mb=[first {first2:.1} min {min2:.1} max {max2:.1} last {last2:.1}] \
         growth_late_vs_5_15s_mb={growth:.1} {} (flat: <= {FLAT_MB:.0}) samples={}+{}",
        if flat { "flat" } else { "GROWS" },
        rss1.len(),
        rss2.len()
    );
    println!("mail_outbox_db_final [{}] load_avg=[{}]", show(&final_states), loadavg());
    println!("mail_outbox_server_logs warn_error_lines first={w1} restarted={w2}");
    for l in l1.iter().chain(l2.iter()) {
        println!("  log: {l}");
    }
    if delivered == 0 {
        sum.fail("mail_outbox_duplicates", &format!("nothing delivered; log:\n{tail}"));
        return Ok(());
    }
    if !drained {
        sum.fail(
            "mail_outbox_drain",
            &format!("not drained in {DRAIN_LIMIT:?}: [{}]; log:\n{tail}", show(&final_states)),
        );
    }
    sum.add("mail_outbox_duplicates", duplicates.to_string(), "0", verdict(duplicates == 0));
    sum.add("mail_outbox_missing", missing.to_string(), "0", verdict(missing == 0));
    sum.add(
        "mail_outbox_unconfirmed",
        format!("{} ({} taken, {open_unsent} never sent)", open.len(), open.len() as i64 - open_unsent),
        &format!("<= {PER_QUEUE}"),
        verdict(open.len() <= PER_QUEUE),
    );
    sum.add("mail_outbox_rate_per_s", format!("max {max_bucket} (mean {mean_active:.1})"), "", "");
    sum.add("mail_outbox_drain_after_restart_s", format!("{drain_to_last:.1}"), "", "");
    sum.add(
        "mail_outbox_rss_mb",
        format!("{min2:.1}..{max2:.1} growth {growth:.1}"),
        &format!("growth <= {FLAT_MB:.0}"),
        verdict(flat),
    );
    Ok(())
}
