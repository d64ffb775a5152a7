//! Transfers to a team or an agent, and who can receive one.

use rusqlite::{Connection, OptionalExtension, params};

use super::*;
use crate::app::AppState;
use crate::domain::routing;
use crate::domain::users::User;
use crate::error::{AppError, AppResult};
use crate::events::Change;

/// Why an agent cannot receive a transfer right now (catalog key), if so.
pub fn unavailable_reason(conn: &Connection, agent: i64, queue: i64) -> AppResult<Option<&'static str>> {
    let active: bool =
        conn.prepare_cached("SELECT active FROM users WHERE id = ?1")?.query_row([agent], |r| r.get(0))?;
    if !active {
        return Ok(Some("status.inactive"));
    }
    if routing::presence(conn, agent)? != routing::READY {
        return Ok(Some("presence.not_ready"));
    }
    if active_in_queue(conn, agent, queue)? >= capacity(conn, queue)? {
        return Ok(Some("transfer.full"));
    }
    Ok(None)
}

/// Transfer targets for a conversation: teams with a queue of its channel, and
/// agents of those teams with the reason they cannot receive it, if any.
pub struct TransferOptions {
    /// (team id, team name).
    pub teams: Vec<(i64, String)>,
    /// (agent id, name, reason key when unavailable).
    pub agents: Vec<(i64, String, Option<&'static str>)>,
}

/// Lists transfer targets for `c`.
pub fn transfer_options(conn: &Connection, user: &User, c: &Conversation) -> AppResult<TransferOptions> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT t.id, t.name FROM teams t JOIN queues q ON q.team_id = t.id
         WHERE t.active = 1 AND q.active = 1 AND q.channel = ?1 ORDER BY t.name COLLATE NOCASE",
    )?;
    let teams: Vec<(i64, String)> =
        stmt.query_map([&c.channel], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT u.id, u.name FROM users u JOIN user_teams ut ON ut.user_id = u.id
         WHERE ut.team_id = ?1 AND u.id <> ?2 ORDER BY u.name COLLATE NOCASE",
    )?;
    let people: Vec<(i64, String)> =
        stmt.query_map([c.team_id, user.id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    let mut agents = Vec::new();
    for (id, name) in people {
        agents.push((id, name, unavailable_reason(conn, id, c.queue_id)?));
    }
    Ok(TransferOptions { teams, agents })
}

/// Transfers to a team: back into that team's queue of the same channel.
pub async fn transfer_to_team(state: &AppState, user: &User, id: i64, team_id: i64) -> AppResult<()> {
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        check_movable(&user, &c)?;
        let queue: i64 = conn
            .prepare_cached(
                "SELECT id FROM queues WHERE team_id = ?1 AND channel = ?2 AND active = 1 ORDER BY id LIMIT 1",
            )?
            .query_row(params![team_id, c.channel], |r| r.get(0))
            .optional()?
            .ok_or(AppError::BadRequest("transfer.no_queue"))?;
        Ok(((), requeue(conn, &user, &c, queue, now)?))
    })
    .await
}

/// Transfers to one queue (a supervisor's choice in Acompanhamento): it must
/// be active, of the conversation's channel and not its queue already. Runs
/// in the caller's write job; returns the live changes.
pub fn transfer_to_queue_in(
    conn: &Connection,
    user: &User,
    id: i64,
    queue_id: i64,
    now: i64,
) -> AppResult<Vec<Change>> {
    let c = load_for(conn, user, id)?;
    check_movable(user, &c)?;
    if queue_id == c.queue_id {
        return Err(AppError::BadRequest("transfer.same_queue"));
    }
    let ok: bool = conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM queues WHERE id = ?1 AND channel = ?2 AND active = 1)")?
        .query_row(params![queue_id, c.channel], |r| r.get(0))?;
    if !ok {
        return Err(AppError::BadRequest("transfer.no_queue"));
    }
    requeue(conn, user, &c, queue_id, now)
}

/// Puts `c` in `queue` to wait again, frees whoever had it (or its offer)
/// and routes the queue.
fn requeue(conn: &Connection, user: &User, c: &Conversation, queue: i64, now: i64) -> AppResult<Vec<Change>> {
    let id = c.id;
    conn.prepare_cached(
        "UPDATE conversations SET status = 'queued', agent_id = NULL, offer_expires_at = NULL, queue_id = ?1,
         queued_at = ?2 WHERE id = ?3",
    )?
    .execute(params![queue, now, id])?;
    event(conn, id, "ev.transferred_team", Some(user), now)?;
    let mut changes = vec![Change::queue(c.queue_id, id), Change::queue(queue, id)];
    changes.extend(release_agent(conn, c, now)?);
    changes.extend(routing::route(conn, queue, now)?);
    Ok(changes)
}

/// Transfers to a specific agent, who must be available.
pub async fn transfer_to_agent(state: &AppState, user: &User, id: i64, agent: i64) -> AppResult<()> {
    let user = user.clone();
    apply(state, move |conn, now| Ok(((), transfer_to_agent_in(conn, &user, id, agent, now)?))).await
}

/// [`transfer_to_agent`] in the caller's write job: the conversation held
/// (or, for its queue's supervisors, still waiting) goes straight to
/// `agent`, a member of its queue's team who is available; an offer it had
/// is withdrawn. Returns the live changes.
pub fn transfer_to_agent_in(conn: &Connection, user: &User, id: i64, agent: i64, now: i64) -> AppResult<Vec<Change>> {
    let c = load_for(conn, user, id)?;
    check_movable(user, &c)?;
    let in_team: bool = conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM user_teams WHERE user_id = ?1 AND team_id = ?2)")?
        .query_row([agent, c.team_id], |r| r.get(0))?;
    if !in_team || Some(agent) == c.agent_id {
        return Err(AppError::BadRequest("val.invalid_choice"));
    }
    if let Some(reason) = unavailable_reason(conn, agent, c.queue_id)? {
        return Err(AppError::Conflict(reason));
    }
    assign(conn, &c, agent, now)?;
    event(conn, id, "ev.transferred_agent", Some(user), now)?;
    let mut changes = vec![Change::queue(c.queue_id, id), Change::agent(agent, id)];
    changes.extend(release_agent(conn, &c, now)?);
    Ok(changes)
}
