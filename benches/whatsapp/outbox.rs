//! Section 2 of the WhatsApp bench: [`REPLIES`] agent replies waiting in the
//! outbox of a number sending at most [`RATE`] messages per second, the
//! server killed with SIGKILL [`KILL_AFTER`] after it started and restarted
//! on the same folder; everything must reach the fake Graph API once, at the
//! number's pace, with the server's memory flat.
//!
//! A row the kill leaves `sending` is only sent again after the outbox's
//! reconcile time unless its status webhook names it; the fake retries those
//! webhooks while the server is down, so a message that did go out is
//! recognised after the restart. Rows still `sending` at the end are printed
//! apart (with how long they would wait), neither duplicated nor lost.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use atende::db;
use atende::domain::outbox::{RECONCILE_SECS, whatsapp_text};
use rusqlite::params;

use crate::common::outbox::{sending, show, span, states};
use crate::common::seed::seed_base;
use crate::common::{POLL, R, READY_LIMIT, Server, Summary, err, now_secs, verdict};
use crate::fake::{Fake, unix_ms};
use crate::{loadavg, log_problems, mb, seed_number};

/// Replies waiting in the outbox.
pub const REPLIES: i64 = 10_000;
/// The number's `rate_per_sec`, and what a 1-second bucket may exceed it by.
pub const RATE: i64 = 80;
const RATE_TOLERANCE: u64 = 4;
/// When the first server is killed (after it answers).
pub const KILL_AFTER: Duration = Duration::from_secs(40);
/// Longest wait for the drain after the restart.
const DRAIN_LIMIT: Duration = Duration::from_secs(200);
/// RSS growth of the restarted server (its last 10 samples against its
/// samples 5 to 15 s after it started) that still counts as flat.
const FLAT_MB: f64 = 4.0;

/// Seeds the replies: per customer a contact, their WhatsApp identity, a
/// conversation held by the agent with the window open, the customer's
/// message, the agent's reply and its outbox row (payload as the domain
/// builds it). One transaction.
fn seed(path: &Path, queue: i64, agent: i64, graph: std::net::SocketAddr) -> R<()> {
    let now = now_secs();
    let mut c = db::open_rw(path).map_err(err)?;
    let tx = c.transaction().map_err(err)?;
    seed_number(&tx, queue, graph, RATE)?;
    {
        let mut contact = tx
            .prepare("INSERT INTO contacts (name, phone, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)")
            .map_err(err)?;
        let mut ident = tx
            .prepare(
                "INSERT INTO whatsapp_identities (wa_id, match_key, contact_id, profile_name, created_at)
                 VALUES (?1, ?1, ?2, ?3, ?4)",
            )
            .map_err(err)?;
        let mut conv = tx
            .prepare(
                "INSERT INTO conversations (queue_id, contact_id, channel, subject, status, agent_id, queued_at,
                   created_at, last_activity_at, wa_id, window_until)
                 VALUES (?1, ?2, 'whatsapp', ?3, 'assigned', ?4, ?5, ?5, ?6, ?7, ?8)",
            )
            .map_err(err)?;
        let mut msg = tx
            .prepare(
                "INSERT INTO messages (conversation_id, kind, author_id, author_name, body, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(err)?;
        let mut out = tx
            .prepare(
                "INSERT INTO outbox (message_id, channel, queue_id, recipient, payload, state, next_at, created_at,
                   updated_at)
                 VALUES (?1, 'whatsapp', ?2, ?3, '', 'pending', ?4, ?4, ?4)",
            )
            .map_err(err)?;
        let mut payload = tx.prepare("UPDATE outbox SET payload = ?2 WHERE id = ?1").map_err(err)?;
        for i in 0..REPLIES {
            let wa = format!("551197{:07}", 1_000_000 + i);
            let name = format!("Cliente {i}");
            let phone = format!("+55 11 97{:03}-{:04}", i / 10_000, i % 10_000);
            contact.execute(params![name, phone, now - 600]).map_err(err)?;
            let contact_id = tx.last_insert_rowid();
            ident.execute(params![wa, contact_id, name, now - 600]).map_err(err)?;
            let asked = format!("Oi, o pedido {} já foi enviado?", 50_000 + i);
            conv.execute(params![queue, contact_id, asked, agent, now - 600, now - 60, wa, now + 20 * 3600])
                .map_err(err)?;
            let cid = tx.last_insert_rowid();
            msg.execute(params![cid, "in", None::<i64>, name, asked, now - 600]).map_err(err)?;
            let reply = format!("Olá! O pedido {} saiu hoje e chega em 2 dias úteis.", 50_000 + i);
            msg.execute(params![cid, "out", agent, "Agente 000", reply, now - 60]).map_err(err)?;
            let mid = tx.last_insert_rowid();
            out.execute(params![mid, queue, wa, now - 60]).map_err(err)?;
            let oid = tx.last_insert_rowid();
            payload.execute(params![oid, whatsapp_text(&wa, &reply, oid)]).map_err(err)?;
        }
    }
    tx.commit().map_err(err)?;
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").map_err(err)?;
    Ok(())
}

/// Every outbox row's id.
fn outbox_ids(path: &Path) -> R<Vec<i64>> {
    let c = db::open_ro(path).map_err(err)?;
    let mut st = c.prepare("SELECT id FROM outbox").map_err(err)?;
    let rows = st.query_map([], |r| r.get(0)).map_err(err)?;
    rows.collect::<Result<_, _>>().map_err(err)
}

/// Section 2.
pub async fn bench(sum: &mut Summary, root: &Path, fake: &Fake) -> R<()> {
    let data = root.join("outbox");
    let base = seed_base(&data, "wo", 1, 1).await?;
    let (queue, agent) = (base.queues[0], base.agents[0]);
    let path = data.join("atende.db");
    let t = Instant::now();
    let (p, g) = (path.clone(), fake.addr);
    tokio::task::spawn_blocking(move || seed(&p, queue, agent, g)).await.map_err(err)??;
    println!("wa_outbox_seed replies={REPLIES} rate_per_sec={RATE} secs={:.1}", t.elapsed().as_secs_f64());
    let sends0 = fake.rec.lock().map_err(err)?.sends.len();

    // First server: sends for KILL_AFTER, then SIGKILL.
    let log1 = root.join("outbox1.log");
    let (mut server, t0) = Server::spawn(&data, &log1)?;
    server.wait_ready(t0, READY_LIMIT, POLL)?;
    fake.target(server.port, queue);
    let pid = server.pid();
    let mut rss1 = Vec::new();
    let started = Instant::now();
    while started.elapsed() < KILL_AFTER {
        rss1.push(mb(pid, "VmRSS:"));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // SIGKILL in the middle of a run: the fake kills the server as it
    // accepts the first message of the next run (a plain kill -9 if no
    // message comes within 3 s).
    let armed = Instant::now();
    fake.kill_on_send.store(pid, Ordering::Relaxed);
    while fake.kill_on_send.load(Ordering::Relaxed) != 0 && armed.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mid_run = fake.kill_on_send.swap(0, Ordering::Relaxed) == 0;
    if !mid_run {
        let _ =
            Command::new("kill").arg("-9").arg(pid.to_string()).stdout(Stdio::null()).stderr(Stdio::null()).status();
    }
    let killed_at = unix_ms();
    let _ = tokio::task::spawn_blocking(move || server.stop()).await.map_err(err)?;
    fake.target(0, queue);
    // Sends the fake was already handling when the server died.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent_before_kill = fake.rec.lock().map_err(err)?.sends.len() - sends0;
    let at_send = (fake.killed_at_send.load(Ordering::Relaxed) as usize).saturating_sub(sends0);
    let at_kill = states(&path)?;
    println!(
        "wa_outbox_killed after_s={:.1} {} accepted_by_fake={sent_before_kill} (the kill came with send {at_send}) \
         db_states=[{}] callbacks_in_flight={}",
        started.elapsed().as_secs_f64(),
        if mid_run { "mid-run (SIGKILL as the fake accepted a send)" } else { "kill -9 (no send came)" },
        show(&at_kill),
        fake.cb_in_flight.load(Ordering::Relaxed)
    );

    // Second server on the same folder: drains the rest.
    let log2 = root.join("outbox2.log");
    let (mut server, t0) = Server::spawn(&data, &log2)?;
    let restarted_at = unix_ms();
    let ready = server.wait_ready(t0, READY_LIMIT, POLL)?;
    fake.target(server.port, queue);
    let pid = server.pid();
    let mut rss2 = Vec::new();
    let mut stuck: Vec<(i64, i64)> = Vec::new();
    let mut settled = 0;
    let drain = Instant::now();
    while drain.elapsed() < DRAIN_LIMIT {
        rss2.push(mb(pid, "VmRSS:"));
        tokio::time::sleep(Duration::from_secs(1)).await;
        let st = states(&path)?;
        let accepted: HashSet<String> = fake.rec.lock().map_err(err)?.seen.keys().cloned().collect();
        let left = sending(&path)?;
        let unsent = left.iter().all(|(id, _)| !accepted.contains(&format!("atende:{id}")));
        let idle = fake.cb_in_flight.load(Ordering::Relaxed) == 0;
        if st.get("pending").copied().unwrap_or(0) == 0 && unsent && idle {
            settled += 1;
            if settled >= 3 {
                stuck = left;
                break;
            }
        } else {
            settled = 0;
        }
    }
    let drain_secs = drain.elapsed().as_secs_f64();
    let final_states = states(&path)?;
    let cpu_note = crate::common::cpu_secs(&pid.to_string());
    let tail = server.log_tail();
    tokio::task::spawn_blocking(move || server.stop()).await.map_err(err)??;
    fake.target(0, queue);

    // What the fake saw.
    let (sends, seen, other) = {
        let r = fake.rec.lock().map_err(err)?;
        (r.sends[sends0..].to_vec(), r.seen.clone(), r.other)
    };
    let ids: HashSet<String> = outbox_ids(&path)?.into_iter().map(|i| format!("atende:{i}")).collect();
    let delivered = seen.keys().filter(|k| ids.contains(*k)).count() as i64;
    let strangers = seen.keys().filter(|k| !ids.contains(*k)).count();
    let duplicates: u64 = seen.values().map(|n| u64::from(n.saturating_sub(1))).sum();
    let stuck_unsent = stuck.iter().filter(|(id, _)| !seen.contains_key(&format!("atende:{id}"))).count() as i64;
    let missing = REPLIES - delivered - stuck_unsent;
    let now = now_secs();
    let stuck_wait = stuck.iter().map(|(_, at)| at - now).max().unwrap_or(0);

    let mut buckets: HashMap<u64, u64> = HashMap::new();
    for (at, _) in &sends {
        *buckets.entry(at / 1000).or_default() += 1;
    }
    let max_bucket = buckets.values().copied().max().unwrap_or(0);
    let mean_active = sends.len() as f64 / buckets.len().max(1) as f64;
    let (first, last) = (sends.first().map(|s| s.0).unwrap_or(0), sends.last().map(|s| s.0).unwrap_or(0));
    let span_s = (last.saturating_sub(first)) as f64 / 1000.0;
    let mean_all = sends.len() as f64 / span_s.max(1e-9);
    // The most sends in any 1,000 ms window (the runs come a second apart,
    // each a burst, so a window across two bursts counts both).
    let (mut j, mut sliding) = (0usize, 0usize);
    for i in 0..sends.len() {
        while sends[i].0.saturating_sub(sends[j].0) >= 1000 {
            j += 1;
        }
        sliding = sliding.max(i - j + 1);
    }
    let after_restart: Vec<u64> = sends.iter().map(|s| s.0).filter(|t| *t >= restarted_at).collect();
    let first_after = after_restart.first().map(|t| (t - restarted_at) as f64 / 1000.0).unwrap_or(f64::NAN);
    let drain_to_last = after_restart.last().map(|t| (t - restarted_at) as f64 / 1000.0).unwrap_or(f64::NAN);
    let downtime = (restarted_at.saturating_sub(killed_at)) as f64 / 1000.0;

    let (min1, max1, _, last1) = span(&rss1);
    let (min2, max2, first2, last2) = span(&rss2);
    let early = if rss2.len() > 15 { span(&rss2[5..15]).1 } else { f64::NAN };
    let late = if rss2.len() >= 10 { span(&rss2[rss2.len() - 10..]).1 } else { f64::NAN };
    let growth = late - early;
    let flat = growth <= FLAT_MB;

    let (w1, l1) = log_problems(&log1);
    let (w2, l2) = log_problems(&log2);
    let rate_ok = max_bucket <= RATE as u64 + RATE_TOLERANCE;
    println!(
        "wa_outbox_delivered delivered={delivered} of {REPLIES} duplicates={duplicates} {} missing={missing} {} \
         stuck_sending={} (of which accepted by the fake but never confirmed: {}; never sent: {stuck_unsent}; \
         would be tried again in up to {stuck_wait} s, RECONCILE_SECS={RECONCILE_SECS}) unknown_callback_ids={strangers} \
         other_calls={other}",
        verdict(duplicates == 0),
        verdict(missing == 0),
        stuck.len(),
        stuck.len() as i64 - stuck_unsent,
    );
    println!(
        "wa_outbox_rate max_per_1s_bucket={max_bucket} {} (target <= {RATE} + {RATE_TOLERANCE}) mean_per_active_second={mean_active:.1} \
         mean_first_to_last_send={mean_all:.1}/s (incl. {downtime:.2} s down) max_in_any_1000ms_window={sliding} \
         active_seconds={}",
        verdict(rate_ok),
        buckets.len()
    );
    println!(
        "wa_outbox_timing accepted_before_kill={sent_before_kill} downtime_s={downtime:.2} restart_ready_s={:.2} \
         first_send_after_restart_s={first_after:.2} drain_after_restart_s={drain_to_last:.1} \
         first_to_last_send_s={span_s:.1} drain_wait_s={drain_secs:.1} restarted_server_cpu_s={cpu_note:.1}",
        ready.as_secs_f64()
    );
    println!(
        "wa_outbox_callbacks ok={} retries={} given_up={} in_flight={}",
        fake.cb_ok.load(Ordering::Relaxed),
        fake.cb_retries.load(Ordering::Relaxed),
        fake.cb_given_up.load(Ordering::Relaxed),
        fake.cb_in_flight.load(Ordering::Relaxed)
    );
    println!(
        "wa_outbox_rss first_server_mb=[min {min1:.1} max {max1:.1} last {last1:.1}] \
         restarted_server_mb=[first {first2:.1} min {min2:.1} max {max2:.1} last {last2:.1}] \
         growth_late_vs_5_15s_mb={growth:.1} {} (flat: <= {FLAT_MB:.0}) samples={}+{}",
        if flat { "flat" } else { "GROWS" },
        rss1.len(),
        rss2.len()
    );
    println!("wa_outbox_db_final [{}] load_avg=[{}]", show(&final_states), loadavg());
    println!("wa_outbox_server_logs warn_error_lines first={w1} restarted={w2}");
    for l in l1.iter().chain(l2.iter()) {
        println!("  log: {l}");
    }
    if delivered == 0 {
        sum.fail("wa_outbox_duplicates", &format!("nothing delivered; log:\n{tail}"));
        return Ok(());
    }
    sum.add("wa_outbox_duplicates", duplicates.to_string(), "0", verdict(duplicates == 0));
    sum.add("wa_outbox_missing", missing.to_string(), "0", verdict(missing == 0));
    sum.add("wa_outbox_stuck_sending", format!("{} (reconciled after {RECONCILE_SECS} s)", stuck.len()), "", "");
    sum.add(
        "wa_outbox_max_rate_per_s",
        format!("{max_bucket} (mean {mean_active:.1})"),
        &format!("<= {RATE} (+{RATE_TOLERANCE})"),
        verdict(rate_ok),
    );
    sum.add("wa_outbox_drain_after_restart_s", format!("{drain_to_last:.1}"), "", "");
    sum.add(
        "wa_outbox_rss_mb",
        format!("{min2:.1}..{max2:.1} growth {growth:.1}"),
        &format!("growth <= {FLAT_MB:.0}"),
        verdict(flat),
    );
    Ok(())
}
