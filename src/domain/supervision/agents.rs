//! The Agentes panel: every agent the viewer watches, with presence (and its
//! duration), the pause and whether it is over its limit, the queues they
//! are connected to, what they hold against their capacity, offers pending,
//! the time of their last message and today's counts.
//!
//! Everything is counted within the viewer's scope: a queue of another team
//! an agent also works is neither named nor counted.

use std::collections::HashMap;

use rusqlite::{Connection, params};

use super::Scope;
use crate::error::AppResult;

/// The pause an agent is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pause {
    /// Reason's name.
    pub reason: String,
    /// Start (unix).
    pub started_at: i64,
    /// When its limit passes.
    pub limit_at: i64,
    /// Over its limit: the limit job flagged it, or its time passed.
    pub over: bool,
}

/// One agent on the panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agent {
    /// User id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// `ready`, `not_ready` or `paused`.
    pub presence: String,
    /// Since when (the pause's start when paused; 0: never set).
    pub since: i64,
    /// The open pause, if any.
    pub pause: Option<Pause>,
    /// Connected queues in scope: (id, name).
    pub queues: Vec<(i64, String)>,
    /// Conversations in service (assigned to them) in scope: (id, contact).
    pub holding: Vec<(i64, String)>,
    /// The largest capacity of their connected queues (None: connected to none).
    pub capacity: Option<i64>,
    /// Offers waiting for their answer.
    pub offers: i64,
    /// Their last message to a customer in a conversation they hold, or
    /// held and closed today.
    pub last_message_at: Option<i64>,
    /// Finished or archived today (business day).
    pub finished_today: i64,
    /// Taken today (first assignments of a cycle).
    pub taken_today: i64,
}

/// Most conversations per agent named on the panel (the count is exact).
pub const HOLDING_SHOWN: usize = 10;

/// The agents of the scope, by name, as of `now`.
pub fn list(conn: &Connection, scope: &Scope, now: i64, tz: &jiff::tz::TimeZone) -> AppResult<Vec<Agent>> {
    let teams = scope.json();
    let (day_start, day) = super::today(tz, now);
    let mut agents: Vec<Agent> = conn
        .prepare_cached(
            "SELECT u.id, u.name, coalesce(p.status, 'not_ready'), coalesce(p.since, 0),
                    ps.reason_name, ps.started_at, ps.limit_at, ps.flagged_at IS NOT NULL OR ps.limit_at <= ?2
             FROM users u LEFT JOIN agent_presence p ON p.user_id = u.id
             LEFT JOIN pauses ps ON ps.user_id = u.id AND ps.ended_at IS NULL
             WHERE u.active = 1 AND u.role <> 'admin' AND EXISTS (SELECT 1 FROM user_teams t
               WHERE t.user_id = u.id AND (?1 IS NULL OR t.team_id IN (SELECT value FROM json_each(?1))))
             ORDER BY u.name COLLATE NOCASE, u.id",
        )?
        .query_map(params![teams, now], |r| {
            let reason: Option<String> = r.get(4)?;
            let pause = match reason {
                Some(reason) => Some(Pause { reason, started_at: r.get(5)?, limit_at: r.get(6)?, over: r.get(7)? }),
                None => None,
            };
            let mut since: i64 = r.get(3)?;
            if let Some(p) = &pause {
                since = p.started_at;
            }
            Ok(Agent {
                id: r.get(0)?,
                name: r.get(1)?,
                presence: if pause.is_some() { "paused".into() } else { r.get(2)? },
                since,
                pause,
                queues: Vec::new(),
                holding: Vec::new(),
                capacity: None,
                offers: 0,
                last_message_at: None,
                finished_today: 0,
                taken_today: 0,
            })
        })?
        .collect::<Result<_, _>>()?;
    let at: HashMap<i64, usize> = agents.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
    // Connected queues and capacity.
    let mut stmt = conn.prepare_cached(
        "SELECT qc.user_id, q.id, q.name, q.agent_capacity FROM queue_connections qc JOIN queues q ON q.id = qc.queue_id
         WHERE q.active = 1 AND (?1 IS NULL OR q.team_id IN (SELECT value FROM json_each(?1)))
         ORDER BY q.name COLLATE NOCASE",
    )?;
    let rows =
        stmt.query_map(params![teams], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)?)))?;
    for row in rows {
        let (uid, qid, name, cap) = row?;
        if let Some(a) = at.get(&uid).map(|i| &mut agents[*i]) {
            a.queues.push((qid, name));
            a.capacity = Some(a.capacity.map_or(cap, |c| c.max(cap)));
        }
    }
    // Conversations in service and offers pending.
    let mut stmt = conn.prepare_cached(
        "SELECT c.agent_id, c.id, c.status, k.id, k.name, k.email, k.phone FROM conversations c
         JOIN queues q ON q.id = c.queue_id JOIN contacts k ON k.id = c.contact_id
         WHERE c.status IN ('offered', 'assigned') AND c.agent_id IS NOT NULL
           AND (?1 IS NULL OR q.team_id IN (SELECT value FROM json_each(?1)))
         ORDER BY c.last_activity_at DESC, c.id",
    )?;
    let rows = stmt.query_map(params![teams], |r| {
        let (kid, n, e, p): (i64, String, String, String) = (r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?);
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            crate::domain::contacts::label(kid, &n, &e, &p),
        ))
    })?;
    for row in rows {
        let (uid, cid, status, contact) = row?;
        if let Some(a) = at.get(&uid).map(|i| &mut agents[*i]) {
            if status == "offered" {
                a.offers += 1;
            } else {
                a.holding.push((cid, contact));
            }
        }
    }
    // Their last message: in what they hold, or held and closed today.
    let mut last = conn.prepare_cached(
        "SELECT max((SELECT m.created_at FROM messages m WHERE m.conversation_id = c.id AND m.kind = 'out'
                       AND m.author_id = ?1 ORDER BY m.id DESC LIMIT 1))
         FROM conversations c JOIN queues q ON q.id = c.queue_id
         WHERE c.agent_id = ?1 AND (c.status = 'assigned'
               OR (c.status IN ('finished', 'archived') AND c.last_activity_at >= ?2))
           AND (?3 IS NULL OR q.team_id IN (SELECT value FROM json_each(?3)))",
    )?;
    for a in agents.iter_mut() {
        a.last_message_at = last.query_row(params![a.id, day_start, teams], |r| r.get(0))?;
    }
    // Today's counts from the day's rollup.
    let mut stmt = conn.prepare_cached(
        "SELECT agent_id, sum(finished_n), sum(assigned_n) FROM metric_days
         WHERE day = ?1 AND agent_id <> 0 AND (?2 IS NULL OR team_id IN (SELECT value FROM json_each(?2)))
         GROUP BY agent_id",
    )?;
    let rows = stmt.query_map(params![day, teams], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?)))?;
    for row in rows {
        let (uid, finished, taken) = row?;
        if let Some(a) = at.get(&uid).map(|i| &mut agents[*i]) {
            a.finished_today = finished;
            a.taken_today = taken;
        }
    }
    Ok(agents)
}
