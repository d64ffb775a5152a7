//! Presence, queue connections and offer routing.
//!
//! A queued conversation is offered to one available agent: Pronto, connected
//! to the queue, member of the queue's team, under the queue's capacity, not
//! holding another offer (an agent answers one offer at a time), and not held
//! back from it: whoever declines an offer or lets it expire is not offered
//! that conversation again for the queue's `reoffer_secs` (10 s by default),
//! so it goes to someone else first and, if nobody else can take it, comes
//! back to them after that short pause (seed 001: "caso não tenha, o chamado
//! retorna para você"). Fewest active conversations first, then longest idle;
//! oldest waiting conversation first.
//!
//! Nobody waits while someone could take it: every change that frees an agent
//! routes the queues concerned, and the per-second tick ([`routable_queues`])
//! routes what the end of a pause or an admin's change made possible.

use rusqlite::{Connection, OptionalExtension, params};

use super::notifications::{self, Note};
use crate::error::AppResult;
use crate::events::Change;

/// Presence codes.
pub const READY: &str = "ready";
/// Not receiving.
pub const NOT_READY: &str = "not_ready";

/// Most queued conversations considered in one routing pass.
const PASS: i64 = 200;

/// An agent's presence code (`not_ready` when never set).
pub fn presence(conn: &Connection, user_id: i64) -> AppResult<String> {
    Ok(conn
        .prepare_cached("SELECT status FROM agent_presence WHERE user_id = ?1")?
        .query_row([user_id], |r| r.get(0))
        .optional()?
        .unwrap_or_else(|| NOT_READY.to_string()))
}

/// Sets an agent's presence.
pub fn set_presence(conn: &Connection, user_id: i64, status: &str, now: i64) -> AppResult<()> {
    conn.prepare_cached(
        "INSERT INTO agent_presence (user_id, status, since) VALUES (?1, ?2, ?3)
         ON CONFLICT(user_id) DO UPDATE SET status = ?2, since = ?3 WHERE status <> ?2",
    )?
    .execute(params![user_id, status, now])?;
    Ok(())
}

/// Agents with no session left (logged out, expired, deactivated) stop
/// receiving offers: their presence becomes Não pronto. Closing a browser tab
/// does not end a session, so it changes nothing.
pub fn not_ready_without_sessions(conn: &Connection, now: i64) -> AppResult<usize> {
    // A pause ends with the session too (kept for the report).
    conn.prepare_cached(
        "UPDATE pauses SET ended_at = ?1, end_reason = 'logout',
           exceeded_by = CASE WHEN ?1 > limit_at THEN ?1 - limit_at ELSE exceeded_by END
         WHERE ended_at IS NULL AND user_id NOT IN (SELECT user_id FROM sessions)",
    )?
    .execute([now])?;
    Ok(conn
        .prepare_cached(
            "UPDATE agent_presence SET status = 'not_ready', since = ?1
             WHERE status <> 'not_ready' AND user_id NOT IN (SELECT user_id FROM sessions)",
        )?
        .execute([now])?)
}

/// Queues an agent may work: active queues of the agent's teams.
pub fn member_queues(conn: &Connection, user_id: i64) -> AppResult<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT q.id FROM queues q JOIN user_teams ut ON ut.team_id = q.team_id
         WHERE ut.user_id = ?1 AND q.active = 1 ORDER BY q.id",
    )?;
    let v = stmt.query_map([user_id], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(v)
}

/// Connects (or disconnects) an agent to a queue.
pub fn set_connected(conn: &Connection, user_id: i64, queue_id: i64, on: bool) -> AppResult<()> {
    if on {
        conn.prepare_cached("INSERT OR IGNORE INTO queue_connections (user_id, queue_id) VALUES (?1, ?2)")?
            .execute([user_id, queue_id])?;
    } else {
        conn.prepare_cached("DELETE FROM queue_connections WHERE user_id = ?1 AND queue_id = ?2")?
            .execute([user_id, queue_id])?;
    }
    Ok(())
}

/// The agent just said they are ready (Pronto, back from a pause): what they
/// declined may be offered to them again at once, and their count of offers
/// let expire starts again.
pub fn fresh_start(conn: &Connection, agent: i64) -> AppResult<()> {
    conn.prepare_cached("DELETE FROM offer_declines WHERE agent_id = ?1")?.execute([agent])?;
    answered(conn, agent)
}

/// Holds `agent` back from `conversation_id` (of `queue_id`) for the queue's
/// re-offer pause, after they declined it or let the offer expire.
pub fn hold_back(conn: &Connection, conversation_id: i64, queue_id: i64, agent: i64, now: i64) -> AppResult<()> {
    conn.prepare_cached(
        "INSERT INTO offer_declines (conversation_id, agent_id, until_at)
         SELECT ?1, ?2, ?3 + reoffer_secs FROM queues WHERE id = ?4
         ON CONFLICT(conversation_id, agent_id) DO UPDATE SET until_at = excluded.until_at",
    )?
    .execute(params![conversation_id, agent, now, queue_id])?;
    Ok(())
}

/// Forgets holds whose pause is over. Returns how many.
pub fn clear_holds(conn: &Connection, now: i64) -> AppResult<usize> {
    Ok(conn.prepare_cached("DELETE FROM offer_declines WHERE until_at <= ?1")?.execute([now])?)
}

/// The agent answered an offer (accepted or declined): the count of offers
/// they let expire in a row starts again.
pub fn answered(conn: &Connection, agent: i64) -> AppResult<()> {
    conn.prepare_cached("UPDATE agent_presence SET missed_offers = 0 WHERE user_id = ?1 AND missed_offers <> 0")?
        .execute([agent])?;
    Ok(())
}

/// Agents who may get an offer from queue ?1 of team ?2 with capacity ?3:
/// active, Pronto, connected to it, no offer pending, under its capacity.
const AVAILABLE: &str = "FROM users u
    JOIN agent_presence p ON p.user_id = u.id AND p.status = 'ready'
    JOIN queue_connections qc ON qc.user_id = u.id AND qc.queue_id = ?1
    JOIN user_teams ut ON ut.user_id = u.id AND ut.team_id = ?2
    WHERE u.active = 1
      AND NOT EXISTS (SELECT 1 FROM conversations o WHERE o.agent_id = u.id AND o.status = 'offered')
      AND (SELECT count(*) FROM conversations c WHERE c.agent_id = u.id AND c.queue_id = ?1
           AND c.status IN ('offered', 'assigned')) < ?3";

/// Follows [`AVAILABLE`]: leaves out agents held back from conversation
/// `conv` at time `now` (SQL expressions).
fn not_held(conv: &str, now: &str) -> String {
    format!(
        "AND NOT EXISTS (SELECT 1 FROM offer_declines d
           WHERE d.conversation_id = {conv} AND d.agent_id = u.id AND d.until_at > {now})"
    )
}

/// The agent to offer `conversation_id` of `queue_id` to, if any.
fn pick_agent(
    conn: &Connection,
    (queue_id, team_id, capacity): (i64, i64, i64),
    conversation_id: i64,
    now: i64,
) -> AppResult<Option<i64>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT u.id {AVAILABLE} {}
             ORDER BY (SELECT count(*) FROM conversations c WHERE c.agent_id = u.id AND c.status IN ('offered', 'assigned')),
                      p.last_assigned_at, u.id
             LIMIT 1",
            not_held("?4", "?5")
        ))?
        .query_row(params![queue_id, team_id, capacity, conversation_id, now], |r| r.get(0))
        .optional()?)
}

/// Team, capacity and offer timeout of an active queue.
fn queue_rules(conn: &Connection, queue_id: i64) -> AppResult<Option<(i64, i64, i64)>> {
    let q: Option<(i64, i64, i64, bool)> = conn
        .prepare_cached("SELECT team_id, agent_capacity, offer_timeout_secs, active FROM queues WHERE id = ?1")?
        .query_row([queue_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? == 1)))
        .optional()?;
    Ok(q.filter(|q| q.3).map(|(team, capacity, timeout, _)| (team, capacity, timeout)))
}

/// Offers the queue's waiting conversations, oldest first, to available agents.
pub fn route(conn: &Connection, queue_id: i64, now: i64) -> AppResult<Vec<Change>> {
    let Some((team_id, capacity, timeout)) = queue_rules(conn, queue_id)? else { return Ok(vec![]) };
    // Agents who could take an offer now, holds aside. Each takes at most
    // one offer at a time, so routing stops once they are used up instead of
    // trying every waiting conversation in turn.
    let mut free: i64 = conn
        .prepare_cached(&format!("SELECT count(*) {AVAILABLE}"))?
        .query_row(params![queue_id, team_id, capacity], |r| r.get(0))?;
    if free == 0 {
        return Ok(vec![]);
    }
    let waiting: Vec<i64> = conn
        .prepare_cached(
            "SELECT id FROM conversations WHERE queue_id = ?1 AND status = 'queued' ORDER BY queued_at, id LIMIT ?2",
        )?
        .query_map(params![queue_id, PASS], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut changes = Vec::new();
    for conv in waiting {
        let Some(agent) = pick_agent(conn, (queue_id, team_id, capacity), conv, now)? else { continue };
        conn.prepare_cached(
            "UPDATE conversations SET status = 'offered', agent_id = ?1, offer_expires_at = ?2 WHERE id = ?3 AND status = 'queued'",
        )?
        .execute(params![agent, now + timeout, conv])?;
        changes.push(Change::offer(queue_id, conv, agent));
        changes.push(Change::queue(queue_id, conv));
        free -= 1;
        if free == 0 {
            break;
        }
    }
    Ok(changes)
}

/// Routes every queue of `agent`'s teams, and `also` (the queue of the
/// conversation that just freed or occupied them).
pub fn route_agent(conn: &Connection, agent: i64, also: i64, now: i64) -> AppResult<Vec<Change>> {
    let mut queues = member_queues(conn, agent)?;
    if !queues.contains(&also) {
        queues.push(also);
    }
    let mut changes = Vec::new();
    for q in queues {
        changes.extend(route(conn, q, now)?);
    }
    Ok(changes)
}

/// Active queues where a waiting conversation could be offered right now:
/// someone is available and not held back from it. Every change routes what
/// it makes possible; what time alone makes possible (a re-offer pause
/// ending) and admin changes (capacity, teams) are found here by the tick.
pub fn routable_queues(conn: &Connection, now: i64) -> AppResult<Vec<i64>> {
    let queues: Vec<(i64, i64, i64)> = conn
        .prepare_cached(
            "SELECT q.id, q.team_id, q.agent_capacity FROM queues q WHERE q.active = 1
               AND EXISTS (SELECT 1 FROM conversations c WHERE c.queue_id = q.id AND c.status = 'queued')",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (q, team, capacity) in queues {
        let free: i64 = conn
            .prepare_cached(&format!("SELECT count(*) {AVAILABLE}"))?
            .query_row(params![q, team, capacity], |r| r.get(0))?;
        if free == 0 {
            continue;
        }
        let held = not_held("w.id", "?4");
        let any: bool = conn
            .prepare_cached(&format!(
                "SELECT EXISTS (SELECT 1 FROM (SELECT id FROM conversations WHERE queue_id = ?1 AND status = 'queued'
                   ORDER BY queued_at, id LIMIT {PASS}) w WHERE EXISTS (SELECT 1 {AVAILABLE} {held}))"
            ))?
            .query_row(params![q, team, capacity, now], |r| r.get(0))?;
        if any {
            out.push(q);
        }
    }
    Ok(out)
}

/// `agent` let an offer of `queue_id` expire. After the queue's limit of
/// offers in a row (`missed_offers_limit`, 0 = never) a Pronto agent becomes
/// Não pronto, so customers stop waiting on someone who is not there; they and
/// the queue's supervisors are told. Returns the live changes.
pub fn missed_offer(conn: &Connection, agent: i64, queue_id: i64, now: i64) -> AppResult<Vec<Change>> {
    let missed: i64 = conn
        .prepare_cached(
            "UPDATE agent_presence SET missed_offers = missed_offers + 1 WHERE user_id = ?1 RETURNING missed_offers",
        )?
        .query_row([agent], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let Some((limit, team, queue)) = conn
        .prepare_cached("SELECT missed_offers_limit, team_id, name FROM queues WHERE id = ?1")?
        .query_row([queue_id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?)))
        .optional()?
    else {
        return Ok(vec![]);
    };
    if limit == 0 || missed < limit || presence(conn, agent)? != READY {
        return Ok(vec![]);
    }
    set_presence(conn, agent, NOT_READY, now)?;
    answered(conn, agent)?;
    let name: String = conn.prepare_cached("SELECT name FROM users WHERE id = ?1")?.query_row([agent], |r| r.get(0))?;
    super::audit::record(
        conn,
        &super::Actor::system("sistema", now),
        "presence.set_not_ready_missed_offers",
        &name,
        &format!("{queue} · {missed}"),
    )?;
    let key = format!("missed:{agent}:{now}");
    let mut changes = vec![Change::user("presence", agent)];
    changes.extend(notifications::add(
        conn,
        &Note {
            user_id: agent,
            kind: "offers_missed",
            key: key.clone(),
            task_id: None,
            text: format!("{queue} · {missed}"),
            link: String::new(),
            browser: true,
        },
        now,
    )?);
    for s in notifications::supervisors_of_team(conn, team)? {
        if s == agent {
            continue;
        }
        changes.extend(notifications::add(
            conn,
            &Note {
                user_id: s,
                kind: "agent_offers_missed",
                key: key.clone(),
                task_id: None,
                text: format!("{name} · {queue} · {missed}"),
                link: format!("/equipes/{team}"),
                browser: true,
            },
            now,
        )?);
    }
    Ok(changes)
}

/// Conversations waiting (queued or offered, nobody took them) longer than
/// their queue's `wait_alert_minutes` (0 = never) alert the queue's
/// supervisors live, once per wait. Returns how many conversations alerted
/// and the live changes. Both queries walk the partial index of waits not
/// yet alerted, so waits already alerted cost nothing however many there are.
pub fn wait_alerts(conn: &Connection, now: i64) -> AppResult<(usize, Vec<Change>)> {
    let rows: Vec<(i64, i64, i64, String, i64)> = conn
        .prepare_cached(
            "SELECT c.id, c.queued_at, q.team_id, q.name, q.wait_alert_minutes
             FROM conversations c INDEXED BY conversations_wait_alert JOIN queues q ON q.id = c.queue_id
             WHERE c.status IN ('queued', 'offered') AND c.wait_alerted_for IS NOT c.queued_at
               AND q.wait_alert_minutes > 0 AND c.queued_at <= ?1 - q.wait_alert_minutes * 60
             ORDER BY c.queued_at LIMIT 500",
        )?
        .query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<Result<_, _>>()?;
    let mut changes = Vec::new();
    for (id, queued_at, team, queue, minutes) in &rows {
        conn.prepare_cached("UPDATE conversations SET wait_alerted_for = queued_at WHERE id = ?1")?.execute([id])?;
        for s in notifications::supervisors_of_team(conn, *team)? {
            changes.extend(notifications::add(
                conn,
                &Note {
                    user_id: s,
                    kind: "conv_waiting",
                    key: format!("wait:{id}:{queued_at}"),
                    task_id: None,
                    text: format!("{queue} · {minutes} min"),
                    link: format!("/atendimentos/{id}"),
                    browser: true,
                },
                now,
            )?);
        }
    }
    Ok((rows.len(), changes))
}

/// Whether [`wait_alerts`] has anything to do at `now` (one index probe).
pub fn wait_alert_due(conn: &Connection, now: i64) -> AppResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM conversations c INDEXED BY conversations_wait_alert
             JOIN queues q ON q.id = c.queue_id
             WHERE c.status IN ('queued', 'offered') AND c.wait_alerted_for IS NOT c.queued_at
               AND q.wait_alert_minutes > 0 AND c.queued_at <= ?1 - q.wait_alert_minutes * 60)",
        )?
        .query_row([now], |r| r.get(0))?)
}
