//! The backfill: the metrics of conversations that existed before they were
//! recorded, rebuilt from their timelines with the same [`step`] the live
//! path uses, when the server first opens an upgraded file (one
//! transaction, before it serves).
//!
//! A timeline does not hold everything the live path knows, so older
//! conversations count under their present queue, team and channel; the
//! closing script of a close that a reopen followed is not known before the
//! timeline kept it (only the last close's is); an expired offer names no agent; the agent a transfer
//! or an automatic reopen handed it to is the next agent who wrote in it
//! (else its present agent).

use rusqlite::{Connection, OptionalExtension, params};

use super::{Happened, Place, Track, business_tz, meaning, step, store};
use crate::error::AppResult;

struct Conv {
    id: i64,
    place: Place,
    agent: i64,
    scripted: bool,
    resolved: bool,
    /// The closing reason stored now (what an older scripted finish counts
    /// under: the timeline keeps only whether it was resolved).
    reason: Option<i64>,
}

struct Line {
    happened: Happened,
    key_manual_reopen: bool,
    key_plain_finish: bool,
    author: Option<i64>,
    at: i64,
}

/// Runs the backfill if the upgrade asked for it; returns how many
/// conversations it covered (None when none was due).
pub fn backfill_pending(conn: &Connection) -> AppResult<Option<usize>> {
    let due: Option<i64> =
        conn.prepare_cached("SELECT id FROM metric_backfill WHERE id = 1")?.query_row([], |r| r.get(0)).optional()?;
    if due.is_none() {
        return Ok(None);
    }
    let n = backfill(conn)?;
    conn.execute("DELETE FROM metric_backfill", [])?;
    Ok(Some(n))
}

/// Recomputes every conversation's metric columns, facts and rollups from
/// the timelines (what was recorded before is replaced). Part of the
/// caller's transaction.
pub fn backfill(conn: &Connection) -> AppResult<usize> {
    conn.execute_batch("DELETE FROM metric_facts; DELETE FROM metric_days;")?;
    let tz = business_tz(conn)?;
    let convs: Vec<Conv> = conn
        .prepare(
            "SELECT c.id, c.queue_id, q.team_id, c.channel, coalesce(c.agent_id, 0),
               c.closing_reason_id IS NOT NULL, coalesce(c.resolved, 0), c.closing_reason_id
             FROM conversations c JOIN queues q ON q.id = c.queue_id ORDER BY c.id",
        )?
        .query_map([], |r| {
            Ok(Conv {
                id: r.get(0)?,
                place: Place { queue_id: r.get(1)?, team_id: r.get(2)?, channel: r.get(3)? },
                agent: r.get(4)?,
                scripted: r.get(5)?,
                resolved: r.get::<_, i64>(6)? != 0,
                reason: r.get(7)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut lines = conn.prepare(
        "SELECT kind, author_id, body, created_at FROM messages
         WHERE conversation_id = ?1 AND kind IN ('in', 'out', 'system') ORDER BY id",
    )?;
    let mut ins = conn.prepare(
        "INSERT INTO metric_facts (conversation_id, kind, at, day, queue_id, team_id, agent_id, channel, secs, hour,
           reason_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for c in &convs {
        let timeline: Vec<Line> = lines
            .query_map([c.id], |r| {
                let (kind, author, body, at): (String, Option<i64>, String, i64) =
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                Ok(meaning(&kind, &body, author).map(|h| Line {
                    happened: h,
                    key_manual_reopen: body == "ev.reopened",
                    key_plain_finish: body == "ev.finished",
                    author,
                    at,
                }))
            })?
            .filter_map(Result::transpose)
            .collect::<Result<_, _>>()?;
        let last_close = timeline.iter().rposition(|l| matches!(l.happened, Happened::Closed { .. }));
        let mut track = Track::default();
        let mut agent = 0;
        for (i, l) in timeline.iter().enumerate() {
            let actor = l.author.unwrap_or(0);
            let mut h = l.happened;
            match &mut h {
                Happened::Assigned | Happened::StartedOut => agent = l.author.unwrap_or(c.agent),
                Happened::Declined | Happened::Expired | Happened::Requeued => agent = 0,
                Happened::TransferredAgent => agent = next_writer(&timeline[i + 1..]).unwrap_or(c.agent),
                Happened::Reopened { to_agent } => {
                    if l.key_manual_reopen {
                        *to_agent = true;
                        agent = actor;
                    } else {
                        // Straight to an agent when someone wrote before any
                        // assignment; else back into the queue.
                        let next = handed_to(&timeline[i + 1..]);
                        *to_agent = next.is_some();
                        agent = next.unwrap_or(0);
                    }
                }
                // Before the timeline kept the script's answer, only the
                // last close's is known (the conversation's own columns).
                Happened::Closed { scripted, resolved } => {
                    if Some(i) == last_close && !*scripted && l.key_plain_finish {
                        *scripted = c.scripted;
                        *resolved = c.resolved;
                    }
                }
                Happened::Customer | Happened::Agent | Happened::Created => {}
            }
            let facts = step(&mut track, h, l.at, agent, actor);
            let (day, hour) = super::business_hour(&tz, l.at);
            for f in &facts {
                ins.execute(params![
                    c.id,
                    f.kind,
                    l.at,
                    day,
                    c.place.queue_id,
                    c.place.team_id,
                    f.agent,
                    c.place.channel,
                    f.secs,
                    hour,
                    if f.kind == "scripted" { c.reason } else { None }
                ])?;
            }
        }
        store(conn, c.id, &track)?;
    }
    rollup(conn)?;
    Ok(convs.len())
}

/// The author of the next agent message.
fn next_writer(rest: &[Line]) -> Option<i64> {
    rest.iter().find(|l| l.happened == Happened::Agent).and_then(|l| l.author)
}

/// After an automatic reopen: the agent who wrote before any assignment or
/// close (then it went straight to them).
fn handed_to(rest: &[Line]) -> Option<i64> {
    for l in rest {
        match l.happened {
            Happened::Agent => return l.author,
            Happened::Assigned
            | Happened::TransferredAgent
            | Happened::Requeued
            | Happened::Closed { .. }
            | Happened::Reopened { .. } => return None,
            _ => {}
        }
    }
    None
}

/// Rebuilds `metric_days` from `metric_facts`.
pub fn rollup(conn: &Connection) -> AppResult<()> {
    conn.execute("DELETE FROM metric_days", [])?;
    rollup_hours(conn)?;
    let cols: Vec<String> = super::KINDS
        .iter()
        .map(|k| {
            format!(
                "coalesce(sum(CASE WHEN kind = '{k}' THEN 1 END), 0), coalesce(sum(CASE WHEN kind = '{k}' THEN secs END), 0)"
            )
        })
        .collect();
    let names: Vec<String> = super::KINDS.iter().map(|k| format!("{k}_n, {k}_secs")).collect();
    conn.execute(
        &format!(
            "INSERT INTO metric_days (day, queue_id, team_id, agent_id, channel, wait_max, {})
             SELECT day, queue_id, team_id, agent_id, channel,
               coalesce(max(CASE WHEN kind = 'wait' THEN secs END), 0), {} FROM metric_facts
             GROUP BY day, queue_id, team_id, agent_id, channel",
            names.join(", "),
            cols.join(", ")
        ),
        [],
    )?;
    Ok(())
}

/// Rebuilds `metric_spread`, `metric_hours` (from the facts' business day
/// and hour) and `metric_reasons` (from the reason each scripted finish
/// kept) from the facts.
fn rollup_hours(conn: &Connection) -> AppResult<()> {
    conn.execute_batch(&format!(
        "DELETE FROM metric_spread;
         INSERT INTO metric_spread (day, team_id, bucket, n)
         SELECT day, team_id, {}, count(*) FROM metric_facts WHERE kind = 'handle' GROUP BY 1, 2, 3;
         DELETE FROM metric_hours;
         INSERT INTO metric_hours (day, hour, queue_id, team_id, channel, received_n, lost_queue_n)
         SELECT day, hour, queue_id, team_id, channel, sum(kind = 'received'), sum(kind = 'lost_queue')
         FROM metric_facts WHERE kind IN ('received', 'lost_queue') GROUP BY day, hour, queue_id, team_id, channel;
         DELETE FROM metric_reasons;
         INSERT INTO metric_reasons (day, queue_id, team_id, agent_id, channel, reason_id, n)
         SELECT day, queue_id, team_id, agent_id, channel, reason_id, count(*) FROM metric_facts
         WHERE kind = 'scripted' AND reason_id IS NOT NULL
         GROUP BY day, queue_id, team_id, agent_id, channel, reason_id;",
        super::BUCKET_SQL
    ))?;
    Ok(())
}
