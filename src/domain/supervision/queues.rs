//! The Atendimentos panel: per watched queue what waits now and for how
//! long, what is in service, who is ready for it and today's abandonment and
//! threshold breaches; then the waiting and in-service conversations with
//! their age and what a supervisor may do with each (give it to an agent,
//! move it to another queue).
//!
//! Definitions (the page shows them as tooltips):
//! - *Aguardando*: queued or offered — nobody took it yet (an offer does not
//!   end the wait, as in the metrics).
//! - *Maior espera*: now − the oldest queue entry among those; yellow from
//!   the queue's `wait_alert_minutes`, red from twice that (no colour when
//!   the queue never alerts).
//! - *Em atendimento*: assigned to an agent.
//! - *Prontos*: active agents of the queue's team, Pronto and connected to it.
//! - *Abandonados hoje*: `lost_queue_n + abandoned_n` of today's rollup.
//! - *Alertas de espera hoje*: conversations whose wait passed the queue's
//!   alert today — those the supervisors were alerted about
//!   (`wait_alerted_for`, one per wait) whose threshold fell in today's
//!   business day; counted under the conversation's current queue.

use std::collections::HashMap;

use rusqlite::{Connection, params};

use super::Scope;
use crate::domain::conversations as conv;
use crate::error::{AppError, AppResult};

/// How a wait reads against its queue's alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Under the alert (or the queue never alerts).
    Calm,
    /// From the alert on.
    Warn,
    /// From twice the alert on.
    Over,
}

/// The level of a wait of `secs` in a queue alerting after `alert_minutes`.
pub fn level(secs: i64, alert_minutes: i64) -> Level {
    let alert = alert_minutes * 60;
    match alert {
        a if a <= 0 || secs < a => Level::Calm,
        a if secs < 2 * a => Level::Warn,
        _ => Level::Over,
    }
}

/// One queue's figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queue {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Its team's name.
    pub team: String,
    /// Channel code.
    pub channel: String,
    /// Minutes of waiting before the supervisors are alerted (0: never).
    pub alert_minutes: i64,
    /// Waiting now (queued or offered).
    pub waiting: i64,
    /// The oldest queue entry among those waiting.
    pub oldest_since: Option<i64>,
    /// In service.
    pub in_service: i64,
    /// Ready agents connected to it.
    pub ready: i64,
    /// Lost in the queue plus abandoned, today.
    pub abandoned_today: i64,
    /// Waits that passed the alert today.
    pub breaches_today: i64,
}

/// A waiting or in-service conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Conversation id.
    pub id: i64,
    /// Queue id.
    pub queue_id: i64,
    /// Queue name.
    pub queue: String,
    /// Channel code.
    pub channel: String,
    /// Contact's label.
    pub contact: String,
    /// queued, offered or assigned.
    pub status: String,
    /// Agent (holding it, or offered to).
    pub agent_id: Option<i64>,
    /// That agent's name.
    pub agent: Option<String>,
    /// Waiting since (queue entry), or in service since (first assignment of the cycle).
    pub since: i64,
    /// The queue's alert minutes (for the waiting colour).
    pub alert_minutes: i64,
}

/// An agent a conversation of a queue could be given to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// User id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Why not now (catalog key), if so.
    pub unavailable: Option<&'static str>,
}

/// The Atendimentos panel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Panel {
    /// Watched queues, by name (one, when filtered).
    pub queues: Vec<Queue>,
    /// Waiting conversations, oldest first (at most [`LIST_LIMIT`]).
    pub waiting: Vec<Row>,
    /// In-service conversations, longest first (at most [`LIST_LIMIT`]).
    pub in_service: Vec<Row>,
    /// Per queue id: agents connected to it who are watched.
    pub candidates: HashMap<i64, Vec<Candidate>>,
    /// Per channel: the watched active queues (id, name), transfer targets.
    pub targets: HashMap<String, Vec<(i64, String)>>,
    /// Every watched active queue (id, name), for the filter.
    pub all_queues: Vec<(i64, String)>,
}

/// Most conversations listed per section (the figures count them all).
pub const LIST_LIMIT: i64 = 100;

/// The watched active queues (all, or `only` when it is one of them; another
/// team's queue answers NotFound).
fn queues_of(conn: &Connection, scope: &Scope, only: Option<i64>) -> AppResult<Vec<Queue>> {
    let v: Vec<Queue> = conn
        .prepare_cached(
            "SELECT q.id, q.name, t.name, q.channel, q.wait_alert_minutes FROM queues q JOIN teams t ON t.id = q.team_id
             WHERE q.active = 1 AND (?1 IS NULL OR q.team_id IN (SELECT value FROM json_each(?1)))
               AND (?2 IS NULL OR q.id = ?2)
             ORDER BY q.name COLLATE NOCASE, q.id",
        )?
        .query_map(params![scope.json(), only], |r| {
            Ok(Queue {
                id: r.get(0)?,
                name: r.get(1)?,
                team: r.get(2)?,
                channel: r.get(3)?,
                alert_minutes: r.get(4)?,
                waiting: 0,
                oldest_since: None,
                in_service: 0,
                ready: 0,
                abandoned_today: 0,
                breaches_today: 0,
            })
        })?
        .collect::<Result<_, _>>()?;
    if only.is_some() && v.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(v)
}

/// The panel as of `now`, for every watched queue or only `only`.
pub fn panel(
    conn: &Connection,
    scope: &Scope,
    only: Option<i64>,
    now: i64,
    tz: &jiff::tz::TimeZone,
) -> AppResult<Panel> {
    let mut queues = queues_of(conn, scope, only)?;
    let (day_start, day) = super::today(tz, now);
    let at: HashMap<i64, usize> = queues.iter().enumerate().map(|(i, q)| (q.id, i)).collect();
    let mut stmt = conn.prepare_cached(
        "SELECT queue_id, sum(status IN ('queued', 'offered')),
                min(CASE WHEN status IN ('queued', 'offered') THEN queued_at END), sum(status = 'assigned')
         FROM conversations WHERE status IN ('queued', 'offered', 'assigned') GROUP BY queue_id",
    )?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))? {
        let (qid, waiting, oldest, in_service) = row?;
        if let Some(q) = at.get(&qid).map(|i| &mut queues[*i]) {
            (q.waiting, q.oldest_since, q.in_service) = (waiting, oldest, in_service);
        }
    }
    // Ready and connected: the agents routing could offer to, capacity aside.
    let mut stmt = conn.prepare_cached(
        "SELECT qc.queue_id, count(*) FROM queue_connections qc JOIN queues q ON q.id = qc.queue_id
         JOIN users u ON u.id = qc.user_id AND u.active = 1
         JOIN agent_presence p ON p.user_id = qc.user_id AND p.status = 'ready'
         JOIN user_teams ut ON ut.user_id = qc.user_id AND ut.team_id = q.team_id
         GROUP BY qc.queue_id",
    )?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?)))? {
        let (qid, n) = row?;
        if let Some(q) = at.get(&qid).map(|i| &mut queues[*i]) {
            q.ready = n;
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT queue_id, sum(lost_queue_n + abandoned_n) FROM metric_days WHERE day = ?1 GROUP BY queue_id",
    )?;
    for row in stmt.query_map([day], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?)))? {
        let (qid, n) = row?;
        if let Some(q) = at.get(&qid).map(|i| &mut queues[*i]) {
            q.abandoned_today = n;
        }
    }
    // A wait alerted today began at most one threshold before today, and
    // queue entries only move forward: the index range on queued_at holds
    // every candidate.
    let mut breaches = conn.prepare_cached(
        "SELECT count(*) FROM conversations WHERE queue_id = ?1
           AND status IN ('queued', 'offered', 'assigned', 'finished', 'archived') AND queued_at >= ?2 - ?3
           AND wait_alerted_for IS NOT NULL AND wait_alerted_for >= ?2 - ?3 AND wait_alerted_for <= ?4 - ?3",
    )?;
    for q in queues.iter_mut().filter(|q| q.alert_minutes > 0) {
        q.breaches_today = breaches.query_row(params![q.id, day_start, q.alert_minutes * 60, now], |r| r.get(0))?;
    }
    let alerts: HashMap<i64, i64> = queues.iter().map(|q| (q.id, q.alert_minutes)).collect();
    let waiting = rows(conn, scope, only, true, &alerts)?;
    let in_service = rows(conn, scope, only, false, &alerts)?;
    let mut candidates: HashMap<i64, Vec<Candidate>> = HashMap::new();
    for qid in waiting.iter().chain(in_service.iter()).map(|r| r.queue_id) {
        if let std::collections::hash_map::Entry::Vacant(e) = candidates.entry(qid) {
            e.insert(candidates_of(conn, scope, qid)?);
        }
    }
    let mut targets: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    let mut all_queues = Vec::new();
    for q in queues_of(conn, scope, None)? {
        all_queues.push((q.id, q.name.clone()));
        targets.entry(q.channel).or_default().push((q.id, q.name));
    }
    Ok(Panel { queues, waiting, in_service, candidates, targets, all_queues })
}

fn rows(
    conn: &Connection,
    scope: &Scope,
    only: Option<i64>,
    waiting: bool,
    alerts: &HashMap<i64, i64>,
) -> AppResult<Vec<Row>> {
    let (statuses, since, order) = if waiting {
        ("'queued', 'offered'", "c.queued_at", "c.queued_at, c.id")
    } else {
        ("'assigned'", "coalesce(c.first_assigned_at, c.queued_at)", "coalesce(c.first_assigned_at, c.queued_at), c.id")
    };
    let sql = format!(
        "SELECT c.id, c.queue_id, q.name, c.channel, k.id, k.name, k.email, k.phone, c.status, c.agent_id, u.name, {since}
         FROM conversations c JOIN queues q ON q.id = c.queue_id JOIN contacts k ON k.id = c.contact_id
         LEFT JOIN users u ON u.id = c.agent_id
         WHERE c.status IN ({statuses}) AND q.active = 1
           AND (?1 IS NULL OR q.team_id IN (SELECT value FROM json_each(?1))) AND (?2 IS NULL OR c.queue_id = ?2)
         ORDER BY {order} LIMIT ?3"
    );
    let v = conn
        .prepare_cached(&sql)?
        .query_map(params![scope.json(), only, LIST_LIMIT], |r| {
            let (kid, n, e, p): (i64, String, String, String) = (r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?);
            let queue_id: i64 = r.get(1)?;
            Ok(Row {
                id: r.get(0)?,
                queue_id,
                queue: r.get(2)?,
                channel: r.get(3)?,
                contact: crate::domain::contacts::label(kid, &n, &e, &p),
                status: r.get(8)?,
                agent_id: r.get(9)?,
                agent: r.get(10)?,
                since: r.get(11)?,
                alert_minutes: alerts.get(&queue_id).copied().unwrap_or(0),
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// The watched agents connected to `queue_id`, each with why they cannot
/// take a conversation now (not Pronto, full), if so.
pub fn candidates_of(conn: &Connection, scope: &Scope, queue_id: i64) -> AppResult<Vec<Candidate>> {
    let people: Vec<(i64, String)> = conn
        .prepare_cached(
            "SELECT u.id, u.name FROM queue_connections qc JOIN users u ON u.id = qc.user_id
             WHERE qc.queue_id = ?1 AND u.active = 1 AND u.role <> 'admin' AND EXISTS (SELECT 1 FROM user_teams t
               WHERE t.user_id = u.id AND (?2 IS NULL OR t.team_id IN (SELECT value FROM json_each(?2))))
             ORDER BY u.name COLLATE NOCASE, u.id",
        )?
        .query_map(params![queue_id, scope.json()], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut v = Vec::with_capacity(people.len());
    for (id, name) in people {
        v.push(Candidate { id, name, unavailable: conv::unavailable_reason(conn, id, queue_id)? });
    }
    Ok(v)
}

/// Where a conversation could go: agents of its queue, and queues (id, name).
pub type Choices = (Vec<Candidate>, Vec<(i64, String)>);

/// What the read-only view of one conversation offers its supervisor: the
/// agents of its queue and the queues of its channel.
pub fn choices_for(conn: &Connection, scope: &Scope, c: &conv::Conversation) -> AppResult<Choices> {
    let agents = candidates_of(conn, scope, c.queue_id)?;
    let queues =
        queues_of(conn, scope, None)?.into_iter().filter(|q| q.channel == c.channel).map(|q| (q.id, q.name)).collect();
    Ok((agents, queues))
}
