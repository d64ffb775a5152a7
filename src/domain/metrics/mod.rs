//! Metrics recorded when things happen (issue 14). The transaction that
//! changes a conversation records each fact in `metric_facts` and bumps the
//! day's rollup in `metric_days` (business day × queue × team × agent ×
//! channel); the conversation's own columns (`cycle`, `waiting_since`,
//! `first_assigned_at`, `first_response_at`, …) say where its current cycle
//! stands. Reports read rollups and those columns, never raw messages.
//!
//! Every message and timeline event goes through one place
//! (`conversations::insert_message`), which hands it here; [`step`] is the
//! one definition of what it means, used live and by the backfill
//! ([`replay`]) alike.
//!
//! Definitions (the README repeats them; pages show them as tooltips):
//! - **TME** (waiting): assignment − queue entry, summed over the re-queues
//!   of a cycle: `wait_secs ÷ assigned_n`.
//! - **First response**: the first agent message − the later of queue entry
//!   and reopen (`first_response`), and − the first assignment
//!   (`first_response_assign`). Notes and system lines are not responses; a
//!   cycle no agent answered credits nobody. A conversation an agent started
//!   has no first response (the agent spoke first).
//! - **Response**: each customer message no agent had answered yet − the
//!   agent message that answers it (`reply`).
//! - **TMA** (handling): close − first assignment of the cycle (`handle`).
//! - **Resolution rate**: resolved ÷ finished with a closing script
//!   (`resolved_n ÷ scripted_n`).
//! - **Abandonment**: `lost_queue` (closed before anyone was assigned:
//!   *perdido na fila*) and `abandoned` (assigned, closed with no agent
//!   message in the cycle: *abandonado*).
//! - **Reopens**: `reopened`, and `reopened_7d` for those within 7 days of
//!   the previous close.
//! - Days are business days in the business time zone at the moment of the
//!   fact.

pub mod query;
pub mod replay;

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::AppResult;

/// The kinds of fact, each a pair of rollup columns (`<kind>_n`, `<kind>_secs`).
pub const KINDS: [&str; 19] = [
    "received",
    "started_out",
    "queued",
    "wait",
    "assigned",
    "first_response",
    "first_response_assign",
    "reply",
    "transfer",
    "declined",
    "expired",
    "finished",
    "handle",
    "scripted",
    "resolved",
    "lost_queue",
    "abandoned",
    "reopened",
    "reopened_7d",
];

/// A reopen within this many seconds of the previous close counts in
/// `reopened_7d`.
pub const REOPEN_WINDOW: i64 = 7 * 86_400;

/// Where a conversation's current cycle stands (its metric columns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Track {
    /// 1, plus one per reopen.
    pub cycle: i64,
    /// When the cycle began (created or reopened).
    pub cycle_started_at: Option<i64>,
    /// In the queue since (None while someone has it or it is closed).
    pub waiting_since: Option<i64>,
    /// Waited in this cycle, summed over re-queues.
    pub wait_secs: i64,
    /// First assignment in this cycle.
    pub first_assigned_at: Option<i64>,
    /// First agent message in this cycle.
    pub first_response_at: Option<i64>,
    /// The oldest customer message not answered yet.
    pub awaiting_since: Option<i64>,
    /// The last close.
    pub last_closed_at: Option<i64>,
}

impl Default for Track {
    fn default() -> Self {
        Track {
            cycle: 1,
            cycle_started_at: None,
            waiting_since: None,
            wait_secs: 0,
            first_assigned_at: None,
            first_response_at: None,
            awaiting_since: None,
            last_closed_at: None,
        }
    }
}

/// What happened to a conversation, as the metrics see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Happened {
    /// A customer's contact created it, in the queue.
    Created,
    /// An agent started it (Iniciar conversa): theirs from the start.
    StartedOut,
    /// An agent took it (accepted the offer, took it from the queue).
    Assigned,
    /// The offered agent declined.
    Declined,
    /// The offer expired unanswered.
    Expired,
    /// Transferred to another team: back in a queue.
    Requeued,
    /// Transferred to another agent.
    TransferredAgent,
    /// Finished or archived.
    Closed {
        /// Closed with the closing script.
        scripted: bool,
        /// The script said resolved.
        resolved: bool,
    },
    /// Reopened, straight into an agent's list or back into the queue.
    Reopened {
        /// Into an agent's list.
        to_agent: bool,
    },
    /// A customer message.
    Customer,
    /// An agent message to the customer.
    Agent,
}

impl Happened {
    /// What a timeline event key means, if it counts.
    pub fn of_event(key: &str) -> Option<Happened> {
        Some(match key {
            "ev.created" => Happened::Created,
            "ev.started_out" => Happened::StartedOut,
            "ev.accepted" | "ev.claimed" => Happened::Assigned,
            "ev.declined" => Happened::Declined,
            "ev.offer_expired" => Happened::Expired,
            "ev.transferred_team" => Happened::Requeued,
            "ev.transferred_agent" => Happened::TransferredAgent,
            "ev.finished" | "ev.archived" => Happened::Closed { scripted: false, resolved: false },
            "ev.finished_resolved" => Happened::Closed { scripted: true, resolved: true },
            "ev.finished_unresolved" => Happened::Closed { scripted: true, resolved: false },
            "ev.reopened" | "ev.reopened_task" | "ev.reopened_scheduled" | "mail.ev.reopened" => {
                Happened::Reopened { to_agent: false }
            }
            _ => return None,
        })
    }
}

/// A fact to record: its kind, the agent it counts for (0: none) and the
/// duration it measures (0 for a count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fact {
    /// One of [`KINDS`].
    pub kind: &'static str,
    /// Agent credited.
    pub agent: i64,
    /// Seconds.
    pub secs: i64,
}

fn fact(kind: &'static str, agent: i64, secs: i64) -> Fact {
    Fact { kind, agent, secs: secs.max(0) }
}

/// Moves `t` on by what happened at `at` and says which facts that makes.
/// `agent` is who holds the conversation after it (0: nobody), `actor` who
/// did it (the declining or transferring agent, the writer of a message).
pub fn step(t: &mut Track, h: Happened, at: i64, agent: i64, actor: i64) -> Vec<Fact> {
    let mut out = Vec::new();
    match h {
        Happened::Created => {
            *t = Track { cycle_started_at: Some(at), waiting_since: Some(at), ..Track::default() };
            out.push(fact("received", 0, 0));
            out.push(fact("queued", 0, 0));
        }
        Happened::StartedOut => {
            // The agent speaks first: nothing here is a response.
            *t = Track {
                cycle_started_at: Some(at),
                first_assigned_at: Some(at),
                first_response_at: Some(at),
                ..Track::default()
            };
            out.push(fact("started_out", agent, 0));
        }
        Happened::Assigned => assigned(t, at, agent, &mut out),
        Happened::Declined => out.push(fact("declined", actor, 0)),
        Happened::Expired => out.push(fact("expired", actor, 0)),
        Happened::Requeued => {
            out.push(fact("transfer", actor, 0));
            out.push(fact("queued", 0, 0));
            // One still waiting (a supervisor moved it) keeps waiting from
            // when it began: the wait is not cut in two.
            t.waiting_since = Some(t.waiting_since.unwrap_or(at));
        }
        Happened::TransferredAgent => {
            out.push(fact("transfer", actor, 0));
            assigned(t, at, agent, &mut out);
        }
        Happened::Closed { scripted, resolved } => {
            out.push(fact("finished", agent, 0));
            match t.first_assigned_at {
                Some(a) => {
                    out.push(fact("handle", agent, at - a));
                    if t.first_response_at.is_none() {
                        out.push(fact("abandoned", agent, 0));
                    }
                }
                None => out.push(fact("lost_queue", 0, 0)),
            }
            if scripted {
                out.push(fact("scripted", agent, 0));
                if resolved {
                    out.push(fact("resolved", agent, 0));
                }
            }
            t.waiting_since = None;
            t.awaiting_since = None;
            t.last_closed_at = Some(at);
        }
        Happened::Reopened { to_agent } => {
            out.push(fact("reopened", agent, 0));
            if t.last_closed_at.is_some_and(|c| at - c <= REOPEN_WINDOW) {
                out.push(fact("reopened_7d", agent, 0));
            }
            *t = Track {
                cycle: t.cycle + 1,
                cycle_started_at: Some(at),
                last_closed_at: t.last_closed_at,
                ..Track::default()
            };
            if to_agent {
                assigned(t, at, agent, &mut out);
            } else {
                t.waiting_since = Some(at);
                out.push(fact("queued", 0, 0));
            }
        }
        Happened::Customer => {
            if t.awaiting_since.is_none() {
                t.awaiting_since = Some(at);
            }
        }
        Happened::Agent => {
            if t.first_response_at.is_none()
                && let Some(start) = t.cycle_started_at
            {
                t.first_response_at = Some(at);
                out.push(fact("first_response", actor, at - start));
                if let Some(a) = t.first_assigned_at {
                    out.push(fact("first_response_assign", actor, at - a));
                }
            }
            if let Some(since) = t.awaiting_since.take() {
                out.push(fact("reply", actor, at - since));
            }
        }
    }
    out
}

fn assigned(t: &mut Track, at: i64, agent: i64, out: &mut Vec<Fact>) {
    if let Some(w) = t.waiting_since.take() {
        t.wait_secs += (at - w).max(0);
        out.push(fact("wait", agent, at - w));
    }
    if t.first_assigned_at.is_none() {
        t.first_assigned_at = Some(at);
        out.push(fact("assigned", agent, 0));
    }
}

/// Where a fact counts: besides its agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// Queue.
    pub queue_id: i64,
    /// The queue's team.
    pub team_id: i64,
    /// Channel code.
    pub channel: String,
}

/// The business day (yyyymmdd) of `at` in the time zone `tz`.
pub fn business_day(tz: &jiff::tz::TimeZone, at: i64) -> i64 {
    let d = jiff::Timestamp::from_second(at).unwrap_or(jiff::Timestamp::UNIX_EPOCH).to_zoned(tz.clone()).date();
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

/// The business day (yyyymmdd) and local hour (0–23) of `at` in `tz`.
pub fn business_hour(tz: &jiff::tz::TimeZone, at: i64) -> (i64, i64) {
    let z = jiff::Timestamp::from_second(at).unwrap_or(jiff::Timestamp::UNIX_EPOCH).to_zoned(tz.clone());
    let d = z.date();
    (i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day()), i64::from(z.hour()))
}

/// The histogram bucket of a duration: the seconds to two significant digits,
/// rounded down (45 → 45, 1_234 → 1_200), at most 10% under the duration.
pub fn bucket(secs: i64) -> i64 {
    let s = secs.max(0);
    let mut m = 1;
    while s / m >= 100 {
        m *= 10;
    }
    s / m * m
}

/// [`bucket`] in SQL, of the column `secs`.
pub const BUCKET_SQL: &str = "CASE WHEN secs < 100 THEN max(secs, 0) WHEN secs < 1000 THEN secs / 10 * 10
     WHEN secs < 10000 THEN secs / 100 * 100 WHEN secs < 100000 THEN secs / 1000 * 1000
     WHEN secs < 1000000 THEN secs / 10000 * 10000 WHEN secs < 10000000 THEN secs / 100000 * 100000
     ELSE secs / 1000000 * 1000000 END";

/// The kinds also counted by hour (`metric_hours`, the heat map).
pub const HOUR_KINDS: [&str; 2] = ["received", "lost_queue"];

/// Counts `n` facts of `kind` (one of [`HOUR_KINDS`]) in the hour rollup.
pub fn bump_hour(conn: &Connection, day: i64, hour: i64, place: &Place, kind: &str, n: i64) -> AppResult<()> {
    let Some(kind) = HOUR_KINDS.iter().find(|k| **k == kind) else { return Ok(()) };
    conn.prepare_cached(&format!(
        "INSERT INTO metric_hours (day, hour, queue_id, team_id, channel, {kind}_n) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (day, hour, queue_id, team_id, channel) DO UPDATE SET {kind}_n = {kind}_n + excluded.{kind}_n"
    ))?
    .execute(params![day, hour, place.queue_id, place.team_id, place.channel, n])?;
    Ok(())
}

/// The business time zone as stored in the settings.
pub fn business_tz(conn: &Connection) -> AppResult<jiff::tz::TimeZone> {
    let name: Option<String> =
        conn.prepare_cached("SELECT time_zone FROM settings WHERE id = 1")?.query_row([], |r| r.get(0)).optional()?;
    Ok(name.and_then(|n| jiff::tz::TimeZone::get(&n).ok()).unwrap_or(jiff::tz::TimeZone::UTC))
}

/// Stores `facts` of conversation `conv` at `at` and bumps their rollups.
pub fn record(conn: &Connection, conv: i64, place: &Place, at: i64, facts: &[Fact]) -> AppResult<()> {
    if facts.is_empty() {
        return Ok(());
    }
    let (day, hour) = business_hour(&business_tz(conn)?, at);
    let mut ins = conn.prepare_cached(
        "INSERT INTO metric_facts (conversation_id, kind, at, day, queue_id, team_id, agent_id, channel, secs, hour,
           reason_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for f in facts {
        // A finish with the script keeps its reason (stored just before).
        let reason: Option<i64> = if f.kind == "scripted" {
            conn.prepare_cached("SELECT closing_reason_id FROM conversations WHERE id = ?1")?
                .query_row([conv], |r| r.get(0))
                .optional()?
                .flatten()
        } else {
            None
        };
        ins.execute(params![
            conv,
            f.kind,
            at,
            day,
            place.queue_id,
            place.team_id,
            f.agent,
            place.channel,
            f.secs,
            hour,
            reason
        ])?;
        bump(conn, day, place, f.agent, f.kind, 1, f.secs)?;
        if HOUR_KINDS.contains(&f.kind) {
            bump_hour(conn, day, hour, place, f.kind, 1)?;
        }
        if f.kind == "handle" {
            conn.prepare_cached(
                "INSERT INTO metric_spread (day, team_id, bucket, n) VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT (day, team_id, bucket) DO UPDATE SET n = n + 1",
            )?
            .execute(params![day, place.team_id, bucket(f.secs)])?;
        }
        if let Some(reason) = reason {
            conn.prepare_cached(
                "INSERT INTO metric_reasons (day, queue_id, team_id, agent_id, channel, reason_id, n)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)
                 ON CONFLICT (day, queue_id, team_id, agent_id, channel, reason_id) DO UPDATE SET n = n + 1",
            )?
            .execute(params![day, place.queue_id, place.team_id, f.agent, place.channel, reason])?;
        }
    }
    Ok(())
}

/// Adds `n` facts of `kind` totalling `secs` to a day's rollup row.
pub fn bump(conn: &Connection, day: i64, place: &Place, agent: i64, kind: &str, n: i64, secs: i64) -> AppResult<()> {
    // Only the fixed kinds ever name a column.
    let Some(kind) = KINDS.iter().find(|k| **k == kind) else { return Ok(()) };
    conn.prepare_cached(&format!(
        "INSERT INTO metric_days (day, queue_id, team_id, agent_id, channel, {kind}_n, {kind}_secs, wait_max)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (day, queue_id, team_id, agent_id, channel)
         DO UPDATE SET {kind}_n = {kind}_n + excluded.{kind}_n, {kind}_secs = {kind}_secs + excluded.{kind}_secs,
           wait_max = max(wait_max, excluded.wait_max)"
    ))?
    .execute(params![
        day,
        place.queue_id,
        place.team_id,
        agent,
        place.channel,
        n,
        secs,
        if *kind == "wait" { secs } else { 0 }
    ])?;
    Ok(())
}

/// A conversation as the metrics read it.
struct Row {
    place: Place,
    agent: i64,
    status: String,
    track: Track,
}

fn load(conn: &Connection, conv: i64) -> AppResult<Option<Row>> {
    Ok(conn
        .prepare_cached(
            "SELECT c.queue_id, q.team_id, c.channel, coalesce(c.agent_id, 0), c.status,
               c.cycle, c.cycle_started_at, c.waiting_since,
               c.wait_secs, c.first_assigned_at, c.first_response_at, c.awaiting_since, c.last_closed_at
             FROM conversations c JOIN queues q ON q.id = c.queue_id WHERE c.id = ?1",
        )?
        .query_row([conv], |r| {
            Ok(Row {
                place: Place { queue_id: r.get(0)?, team_id: r.get(1)?, channel: r.get(2)? },
                agent: r.get(3)?,
                status: r.get(4)?,
                track: Track {
                    cycle: r.get(5)?,
                    cycle_started_at: r.get(6)?,
                    waiting_since: r.get(7)?,
                    wait_secs: r.get(8)?,
                    first_assigned_at: r.get(9)?,
                    first_response_at: r.get(10)?,
                    awaiting_since: r.get(11)?,
                    last_closed_at: r.get(12)?,
                },
            })
        })
        .optional()?)
}

/// Writes a conversation's metric columns.
pub fn store(conn: &Connection, conv: i64, t: &Track) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE conversations SET cycle = ?2, cycle_started_at = ?3, waiting_since = ?4, wait_secs = ?5,
           first_assigned_at = ?6, first_response_at = ?7, awaiting_since = ?8, last_closed_at = ?9 WHERE id = ?1",
    )?
    .execute(params![
        conv,
        t.cycle,
        t.cycle_started_at,
        t.waiting_since,
        t.wait_secs,
        t.first_assigned_at,
        t.first_response_at,
        t.awaiting_since,
        t.last_closed_at
    ])?;
    Ok(())
}

/// What a message or timeline event means, if it counts: `kind` and `body`
/// as stored, `author` its writer.
pub fn meaning(kind: &str, body: &str, author: Option<i64>) -> Option<Happened> {
    match kind {
        "in" => Some(Happened::Customer),
        "out" if author.is_some() => Some(Happened::Agent),
        "system" => Happened::of_event(body),
        _ => None,
    }
}

/// Records what a message or timeline event just stored means, in the
/// caller's transaction (after the change it reports was written).
pub fn on_message(conn: &Connection, conv: i64, kind: &str, body: &str, author: Option<i64>, at: i64) -> AppResult<()> {
    let Some(mut h) = meaning(kind, body, author) else { return Ok(()) };
    let Some(row) = load(conn, conv)? else { return Ok(()) };
    if let Happened::Reopened { to_agent } = &mut h {
        *to_agent = row.status == "assigned";
    }
    let mut track = row.track.clone();
    let facts = step(&mut track, h, at, row.agent, author.unwrap_or(0));
    if track != row.track {
        store(conn, conv, &track)?;
    }
    record(conn, conv, &row.place, at, &facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(f: &[Fact]) -> Vec<(&'static str, i64, i64)> {
        f.iter().map(|f| (f.kind, f.agent, f.secs)).collect()
    }

    #[test]
    fn a_cycle_with_a_requeue_a_reply_and_a_reopen() {
        let mut t = Track::default();
        assert_eq!(kinds(&step(&mut t, Happened::Created, 100, 0, 0)), [("received", 0, 0), ("queued", 0, 0)]);
        step(&mut t, Happened::Customer, 100, 0, 0);
        assert!(step(&mut t, Happened::Declined, 130, 0, 7).contains(&fact("declined", 7, 0)));
        assert_eq!(kinds(&step(&mut t, Happened::Assigned, 160, 8, 8)), [("wait", 8, 60), ("assigned", 8, 0)]);
        assert_eq!(
            kinds(&step(&mut t, Happened::Agent, 190, 8, 8)),
            [("first_response", 8, 90), ("first_response_assign", 8, 30), ("reply", 8, 90)]
        );
        assert_eq!(kinds(&step(&mut t, Happened::Requeued, 200, 0, 8)), [("transfer", 8, 0), ("queued", 0, 0)]);
        assert_eq!(kinds(&step(&mut t, Happened::Assigned, 260, 9, 9)), [("wait", 9, 60)]);
        assert_eq!(t.wait_secs, 120, "summed over re-queues");
        // A note or a second agent message with nothing awaiting: no fact.
        assert!(step(&mut t, Happened::Agent, 270, 9, 9).is_empty());
        let closed = step(&mut t, Happened::Closed { scripted: true, resolved: true }, 400, 9, 9);
        assert_eq!(kinds(&closed), [("finished", 9, 0), ("handle", 9, 240), ("scripted", 9, 0), ("resolved", 9, 0)]);
        let again = step(&mut t, Happened::Reopened { to_agent: false }, 400 + 3 * 86_400, 0, 0);
        assert_eq!(kinds(&again), [("reopened", 0, 0), ("reopened_7d", 0, 0), ("queued", 0, 0)]);
        assert_eq!((t.cycle, t.wait_secs, t.first_response_at), (2, 0, None));
        let lost = step(&mut t, Happened::Closed { scripted: false, resolved: false }, 500 + 3 * 86_400, 0, 1);
        assert_eq!(kinds(&lost), [("finished", 0, 0), ("lost_queue", 0, 0)]);
    }

    #[test]
    fn an_assignment_nobody_answers_is_abandoned_and_an_agents_own_start_is_no_response() {
        let mut t = Track::default();
        step(&mut t, Happened::Created, 0, 0, 0);
        step(&mut t, Happened::Assigned, 10, 3, 3);
        let closed = step(&mut t, Happened::Closed { scripted: false, resolved: false }, 70, 3, 3);
        assert_eq!(kinds(&closed), [("finished", 3, 0), ("handle", 3, 60), ("abandoned", 3, 0)]);
        let mut t = Track::default();
        assert_eq!(kinds(&step(&mut t, Happened::StartedOut, 0, 4, 4)), [("started_out", 4, 0)]);
        assert!(step(&mut t, Happened::Agent, 5, 4, 4).is_empty());
        step(&mut t, Happened::Customer, 50, 4, 0);
        assert_eq!(kinds(&step(&mut t, Happened::Agent, 80, 4, 4)), [("reply", 4, 30)]);
        let late = step(&mut t, Happened::Reopened { to_agent: true }, 8 * 86_400 + 80, 4, 4);
        assert_eq!(kinds(&late), [("reopened", 4, 0), ("assigned", 4, 0)], "after 7 days no reopened_7d");
    }

    #[test]
    fn a_waiting_conversation_moved_to_another_queue_keeps_its_wait() {
        let mut t = Track::default();
        step(&mut t, Happened::Created, 100, 0, 0);
        step(&mut t, Happened::Requeued, 160, 0, 7);
        let got = step(&mut t, Happened::Assigned, 190, 3, 3);
        assert!(got.contains(&fact("wait", 3, 90)), "{got:?}");
    }

    #[test]
    fn buckets_keep_two_significant_digits() {
        for (s, b) in [(-3, 0), (0, 0), (45, 45), (99, 99), (100, 100), (109, 100), (1_234, 1_200), (86_399, 86_000)] {
            assert_eq!(bucket(s), b, "{s}");
        }
        let conn = Connection::open_in_memory().unwrap();
        for s in [-3i64, 7, 99, 100, 555, 9_999, 12_345, 999_999, 1_234_567, 98_765_432] {
            let sql: i64 =
                conn.query_row(&format!("SELECT {} FROM (SELECT ?1 AS secs)", BUCKET_SQL), [s], |r| r.get(0)).unwrap();
            assert_eq!(sql, bucket(s), "{s}");
        }
    }

    #[test]
    fn business_days_follow_the_time_zone() {
        let sp = jiff::tz::TimeZone::get("America/Sao_Paulo").unwrap();
        // 2026-12-02 02:30 UTC is still the 1st in São Paulo (UTC-3).
        assert_eq!(business_day(&sp, 1_796_178_600), 20261201);
        assert_eq!(business_day(&jiff::tz::TimeZone::UTC, 1_796_178_600), 20261202);
    }
}
