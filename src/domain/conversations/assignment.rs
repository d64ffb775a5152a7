//! Who has a conversation: offers, accept/decline, claim and pull, and freeing an agent.

use rusqlite::{Connection, OptionalExtension, params};

use super::*;
use crate::app::AppState;
use crate::domain::routing;
use crate::domain::users::User;
use crate::error::{AppError, AppResult};
use crate::events::Change;

pub(super) fn load_for(conn: &Connection, user: &User, id: i64) -> AppResult<Conversation> {
    visible(conn, user, id)
}

pub(super) fn active_in_queue(conn: &Connection, agent: i64, queue: i64) -> AppResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM conversations WHERE agent_id = ?1 AND queue_id = ?2 AND status IN ('offered', 'assigned')",
        )?
        .query_row([agent, queue], |r| r.get(0))?)
}

pub(super) fn capacity(conn: &Connection, queue: i64) -> AppResult<i64> {
    Ok(conn.prepare_cached("SELECT agent_capacity FROM queues WHERE id = ?1")?.query_row([queue], |r| r.get(0))?)
}

pub(super) fn assign(conn: &Connection, c: &Conversation, agent: i64, now: i64) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE conversations SET status = 'assigned', agent_id = ?1, offer_expires_at = NULL, closed_at = NULL,
         reopen_at = NULL, reopen_agent_id = NULL WHERE id = ?2",
    )?
    .execute(params![agent, c.id])?;
    conn.prepare_cached("DELETE FROM offer_declines WHERE conversation_id = ?1")?.execute([c.id])?;
    conn.prepare_cached(
        "INSERT INTO agent_presence (user_id, status, since, last_assigned_at) VALUES (?1, 'not_ready', ?2, ?2)
         ON CONFLICT(user_id) DO UPDATE SET last_assigned_at = ?2",
    )?
    .execute(params![agent, now])?;
    Ok(())
}

/// Accepts an offer made to `user`.
pub async fn accept(state: &AppState, user: &User, id: i64) -> AppResult<()> {
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        if c.status != "offered" || c.agent_id != Some(user.id) {
            return Err(AppError::Conflict("conv.offer_gone"));
        }
        assign(conn, &c, user.id, now)?;
        routing::answered(conn, user.id)?;
        event(conn, id, "ev.accepted", Some(&user), now)?;
        let mut changes = vec![Change::queue(c.queue_id, id), Change::agent(user.id, id)];
        // No longer holding an offer: with room left, the next one comes now.
        changes.extend(routing::route_agent(conn, user.id, c.queue_id, now)?);
        Ok(((), changes))
    })
    .await
}

/// Declines an offer: the next available agent gets it; if there is none, it
/// comes back to this agent after the queue's re-offer pause.
pub async fn decline(state: &AppState, user: &User, id: i64) -> AppResult<()> {
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        if c.status != "offered" || c.agent_id != Some(user.id) {
            return Err(AppError::Conflict("conv.offer_gone"));
        }
        routing::answered(conn, user.id)?;
        let mut changes = requeue_after_offer(conn, &c, now, "ev.declined", Some(&user))?;
        changes.push(Change::agent(user.id, id));
        Ok(((), changes))
    })
    .await
}

/// Puts a declined or expired offer back in the queue, holds its agent back
/// from it for the re-offer pause, and routes: the conversation to someone
/// else, and the agent (free of their offer) to what else waits for them.
pub(super) fn requeue_after_offer(
    conn: &Connection,
    c: &Conversation,
    now: i64,
    key: &str,
    actor: Option<&User>,
) -> AppResult<Vec<Change>> {
    let agent = c.agent_id.unwrap_or(0);
    routing::hold_back(conn, c.id, c.queue_id, agent, now)?;
    conn.prepare_cached(
        "UPDATE conversations SET status = 'queued', agent_id = NULL, offer_expires_at = NULL WHERE id = ?1",
    )?
    .execute([c.id])?;
    event(conn, c.id, key, actor, now)?;
    let mut changes = vec![Change::queue(c.queue_id, c.id), Change::agent(agent, c.id)];
    changes.extend(routing::route_agent(conn, agent, c.queue_id, now)?);
    Ok(changes)
}

/// Moves every expired offer on to the next agent; an agent who let the
/// queue's limit of offers expire in a row becomes Não pronto first. Returns
/// how many expired.
pub async fn expire_offers(state: &AppState) -> AppResult<usize> {
    let now = state.now();
    let due: bool = state
        .db
        .read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM conversations WHERE status = 'offered' AND offer_expires_at <= ?1)",
                )?
                .query_row([now], |r| r.get(0))?)
        })
        .await?;
    if !due {
        return Ok(0);
    }
    apply(state, |conn, now| {
        let ids: Vec<i64> = conn
            .prepare_cached(
                "SELECT id FROM conversations WHERE status = 'offered' AND offer_expires_at <= ?1 LIMIT 500",
            )?
            .query_map([now], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut changes = Vec::new();
        for id in &ids {
            if let Some(c) = load(conn, *id)? {
                if let Some(agent) = c.agent_id {
                    changes.extend(routing::missed_offer(conn, agent, c.queue_id, now)?);
                }
                // The timeline names who let it expire (the missed offer
                // counts for them).
                let missed = match c.agent_id {
                    Some(a) => crate::domain::users::get(conn, a)?,
                    None => None,
                };
                changes.extend(requeue_after_offer(conn, &c, now, "ev.offer_expired", missed.as_ref())?);
            }
        }
        Ok((ids.len(), changes))
    })
    .await
}

/// Offers waiting conversations that can be taken now but were not: the
/// re-offer pause of those who declined them is over, or an admin's change
/// made room. Returns how many offers were made. When nothing is due this is
/// a few index probes on a reader.
pub async fn route_waiting(state: &AppState) -> AppResult<usize> {
    let now = state.now();
    let queues = state.db.read(move |conn| routing::routable_queues(conn, now)).await?;
    if queues.is_empty() {
        return Ok(0);
    }
    apply(state, |conn, now| {
        routing::clear_holds(conn, now)?;
        let mut changes = Vec::new();
        for q in routing::routable_queues(conn, now)? {
            changes.extend(routing::route(conn, q, now)?);
        }
        Ok((changes.iter().filter(|c| c.kind == "offer").count(), changes))
    })
    .await
}

/// Alerts supervisors about conversations waiting past their queue's
/// threshold (once per wait). Returns how many conversations alerted.
pub async fn alert_waiting(state: &AppState) -> AppResult<usize> {
    let now = state.now();
    if !state.db.read(move |conn| routing::wait_alert_due(conn, now)).await? {
        return Ok(0);
    }
    apply(state, routing::wait_alerts).await
}

/// What one run of the per-second routing job did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tick {
    /// Offers that expired and moved on.
    pub expired: usize,
    /// Offers made to waiting conversations nothing else had routed.
    pub offered: usize,
    /// Conversations whose wait alerted the supervisors.
    pub alerted: usize,
}

/// The per-second routing job: expired offers move on, waiting conversations
/// whose re-offer pause is over are offered again, long waits alert.
pub async fn routing_tick(state: &AppState) -> AppResult<Tick> {
    let expired = expire_offers(state).await?;
    let offered = route_waiting(state).await?;
    let alerted = alert_waiting(state).await?;
    Ok(Tick { expired, offered, alerted })
}

/// Takes a waiting conversation from the queue. Of two agents claiming at the
/// same time exactly one wins; the other is told it is gone.
pub async fn claim(state: &AppState, user: &User, id: i64) -> AppResult<()> {
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        if !user.is_admin() && !user.team_ids.contains(&c.team_id) {
            return Err(AppError::NotFound);
        }
        if c.status != "queued" {
            return Err(AppError::Conflict("conv.already_taken"));
        }
        if active_in_queue(conn, user.id, c.queue_id)? >= capacity(conn, c.queue_id)? {
            return Err(AppError::Conflict("conv.at_capacity"));
        }
        assign(conn, &c, user.id, now)?;
        event(conn, id, "ev.claimed", Some(&user), now)?;
        Ok(((), vec![Change::queue(c.queue_id, id), Change::agent(user.id, id)]))
    })
    .await
}

/// Takes the oldest waiting conversation of a queue ("puxar").
pub async fn pull(state: &AppState, user: &User, queue_id: i64) -> AppResult<i64> {
    let u = user.clone();
    let next: Option<i64> = state
        .db
        .read(move |conn| {
            if !routing::member_queues(conn, u.id)?.contains(&queue_id) {
                return Err(AppError::NotFound);
            }
            Ok(conn
                .prepare_cached("SELECT id FROM conversations WHERE queue_id = ?1 AND status = 'queued' ORDER BY queued_at, id LIMIT 1")?
                .query_row([queue_id], |r| r.get(0))
                .optional()?)
        })
        .await?;
    let id = next.ok_or(AppError::Conflict("conv.nothing_waiting"))?;
    claim(state, user, id).await?;
    Ok(id)
}
