//! Presence, queue connections and offer routing.
//!
//! A queued conversation is offered to one available agent: Pronto, connected
//! to the queue, member of the queue's team, under the queue's capacity, not
//! holding another offer, and not among those who declined it this round;
//! fewest active conversations first, then longest idle. Oldest waiting
//! conversation first.

use rusqlite::{Connection, OptionalExtension, params};

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

/// Gives declined conversations of these queues a new round (someone freed up).
pub fn new_round(conn: &Connection, queues: &[i64]) -> AppResult<()> {
    let mut stmt = conn.prepare_cached(
        "DELETE FROM offer_declines WHERE conversation_id IN
           (SELECT id FROM conversations WHERE queue_id = ?1 AND status = 'queued')",
    )?;
    for q in queues {
        stmt.execute([q])?;
    }
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

/// The agent to offer `conversation_id` of `queue_id` to, if any.
fn pick_agent(
    conn: &Connection,
    queue_id: i64,
    team_id: i64,
    capacity: i64,
    conversation_id: i64,
) -> AppResult<Option<i64>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT u.id {AVAILABLE}
               AND NOT EXISTS (SELECT 1 FROM offer_declines d WHERE d.conversation_id = ?4 AND d.agent_id = u.id)
             ORDER BY (SELECT count(*) FROM conversations c WHERE c.agent_id = u.id AND c.status IN ('offered', 'assigned')),
                      p.last_assigned_at, u.id
             LIMIT 1"
        ))?
        .query_row(params![queue_id, team_id, capacity, conversation_id], |r| r.get(0))
        .optional()?)
}

/// Offers the queue's waiting conversations, oldest first, to available agents.
pub fn route(conn: &Connection, queue_id: i64, now: i64) -> AppResult<Vec<Change>> {
    let q: Option<(i64, i64, i64, bool)> = conn
        .prepare_cached("SELECT team_id, agent_capacity, offer_timeout_secs, active FROM queues WHERE id = ?1")?
        .query_row([queue_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? == 1)))
        .optional()?;
    let Some((team_id, capacity, timeout, true)) = q else { return Ok(vec![]) };
    // Agents who could take an offer now, declines aside. Each takes at most
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
        let Some(agent) = pick_agent(conn, queue_id, team_id, capacity, conv)? else { continue };
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
