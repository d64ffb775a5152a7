//! Replies, read marks, finishing, archiving, reopening (by hand, by task, scheduled) and internal notes.

use rusqlite::{Connection, OptionalExtension, params};

use super::*;
use crate::app::AppState;
use crate::domain::email::outgoing::Extras;
use crate::domain::routing;
use crate::domain::users::User;
use crate::error::{AppError, AppResult};
use crate::events::Change;

/// An agent's reply.
pub async fn send(state: &AppState, user: &User, id: i64, text: &str) -> AppResult<i64> {
    send_with(state, user, id, text, Extras::default()).await
}

/// An agent's reply with what an e-mail may carry besides its text (people
/// in copy or blind copy, the template); other channels refuse those.
pub async fn send_with(state: &AppState, user: &User, id: i64, text: &str, extras: Extras) -> AppResult<i64> {
    let text = check_text(text)?;
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        if c.status != "assigned" || c.agent_id != Some(user.id) {
            return Err(AppError::Conflict("conv.not_yours"));
        }
        if c.channel != "email" && !extras.is_plain() {
            return Err(AppError::BadRequest("mail.extras_email_only"));
        }
        ensure_queue_connected(conn, c.queue_id)?;
        let mid = insert_message(conn, id, "out", Some(user.id), &user.name, &text, now)?;
        match c.channel.as_str() {
            "whatsapp" => crate::domain::outbox::enqueue_whatsapp_text(conn, id, c.queue_id, mid, &text, now)?,
            "email" => crate::domain::email::outgoing::enqueue_reply(conn, id, c.queue_id, mid, &text, &extras, now)?,
            _ => {}
        }
        conn.prepare_cached("UPDATE conversations SET agent_read_id = ?1 WHERE id = ?2")?.execute([mid, id])?;
        Ok((mid, vec![Change::message(c.queue_id, id, Some(user.id))]))
    })
    .await
}

/// Marks the conversation read by its agent up to the newest message.
pub async fn mark_read(state: &AppState, user: &User, id: i64) -> AppResult<()> {
    let uid = user.id;
    state
        .db
        .write(move |conn| {
            conn.prepare_cached(
                "UPDATE conversations SET agent_read_id = (SELECT coalesce(max(id), 0) FROM messages WHERE conversation_id = ?1)
                 WHERE id = ?1 AND agent_id = ?2 AND status = 'assigned'",
            )?
            .execute([id, uid])?;
            Ok(())
        })
        .await
}

pub(super) fn free_up(conn: &Connection, agent: i64, queue: i64, now: i64) -> AppResult<Vec<Change>> {
    routing::route_agent(conn, agent, queue, now)
}

/// The agent who held `c` lost it: their list changes and their capacity
/// frees up for waiting conversations.
pub(super) fn release_agent(conn: &Connection, c: &Conversation, now: i64) -> AppResult<Vec<Change>> {
    let Some(a) = c.agent_id else { return Ok(vec![]) };
    let mut changes = vec![Change::agent(a, c.id)];
    changes.extend(free_up(conn, a, c.queue_id, now)?);
    Ok(changes)
}

/// Whether `user` supervises the queue of `c`: an administrator, or a
/// supervisor of the queue's team (the live panels act through this).
pub fn supervises_queue(user: &User, c: &Conversation) -> bool {
    user.is_admin() || (user.role == crate::domain::users::Role::Supervisor && user.team_ids.contains(&c.team_id))
}

/// Only the agent holding a conversation hands it on; an administrator or a
/// supervisor of its queue's team may hand on one in service too.
pub(super) fn check_held(user: &User, c: &Conversation) -> AppResult<()> {
    if c.status != "assigned" || (c.agent_id != Some(user.id) && !supervises_queue(user, c)) {
        return Err(AppError::Conflict("conv.not_yours"));
    }
    Ok(())
}

/// Who may transfer a conversation or give it to an agent: whoever
/// [`check_held`] lets hand it on and, while it still waits (queued or
/// offered), its queue's supervisors and the administrators. An agent's rule
/// is unchanged: only the one holding it.
pub(super) fn check_movable(user: &User, c: &Conversation) -> AppResult<()> {
    if matches!(c.status.as_str(), "queued" | "offered") && supervises_queue(user, c) {
        return Ok(());
    }
    check_held(user, c)
}

/// The closing script's answers: the contact reason and whether it was resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Closing {
    /// An active closing reason.
    pub reason_id: i64,
    /// Resolvido? sim / não.
    pub resolved: bool,
}

/// Whether finishing a conversation of this queue asks the closing script.
pub fn script_required(conn: &Connection, queue_id: i64) -> AppResult<bool> {
    Ok(conn
        .prepare_cached("SELECT closing_script_required FROM queues WHERE id = ?1")?
        .query_row([queue_id], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

/// The active closing reasons (id, name), by name.
pub fn closing_reasons(conn: &Connection) -> AppResult<Vec<(i64, String)>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, name FROM closing_reasons WHERE active = 1 ORDER BY name COLLATE NOCASE")?;
    let v = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    Ok(v)
}

/// Finishes (`archive = false`) or archives a conversation held by `user`.
/// Finishing in a queue that requires the closing script needs `script`;
/// archiving never asks it.
pub async fn close(state: &AppState, user: &User, id: i64, archive: bool, script: Option<Closing>) -> AppResult<()> {
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        let mine = c.agent_id == Some(user.id) && c.status == "assigned";
        let admin_may = user.is_admin() && matches!(c.status.as_str(), "queued" | "assigned");
        if !(mine || admin_may) {
            return Err(AppError::Conflict("conv.not_yours"));
        }
        let script = if archive { None } else { script };
        if !archive && script.is_none() && script_required(conn, c.queue_id)? {
            return Err(AppError::BadRequest("conv.script_required"));
        }
        if let Some(s) = script {
            let ok: bool = conn
                .prepare_cached("SELECT EXISTS(SELECT 1 FROM closing_reasons WHERE id = ?1 AND active = 1)")?
                .query_row([s.reason_id], |r| r.get(0))?;
            if !ok {
                return Err(AppError::BadRequest("conv.script_reason"));
            }
        }
        let status = if archive { "archived" } else { "finished" };
        conn.prepare_cached(
            "UPDATE conversations SET status = ?1, closed_at = ?2, closing_reason_id = ?3, resolved = ?4 WHERE id = ?5",
        )?
        .execute(params![status, now, script.map(|s| s.reason_id), script.map(|s| s.resolved), id])?;
        // The timeline keeps the script's answer (the metrics' backfill
        // reads it there).
        let key = match (archive, script) {
            (true, _) => "ev.archived",
            (false, None) => "ev.finished",
            (false, Some(s)) if s.resolved => "ev.finished_resolved",
            (false, Some(_)) => "ev.finished_unresolved",
        };
        event(conn, id, key, Some(&user), now)?;
        let mut changes = vec![Change::queue(c.queue_id, id), Change::message(c.queue_id, id, c.agent_id)];
        changes.extend(release_agent(conn, &c, now)?);
        Ok(((), changes))
    })
    .await
}

/// Reopens a finished or archived conversation into `user`'s list.
pub async fn reopen(state: &AppState, user: &User, id: i64) -> AppResult<()> {
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        if !matches!(c.status.as_str(), "finished" | "archived") {
            return Err(AppError::Conflict("conv.not_closed"));
        }
        if has_other_open(conn, &c)? {
            return Err(AppError::Conflict("conv.contact_has_open"));
        }
        assign(conn, &c, user.id, now)?;
        event(conn, id, "ev.reopened", Some(&user), now)?;
        Ok(((), vec![Change::queue(c.queue_id, id), Change::agent(user.id, id)]))
    })
    .await
}

/// Whether the contact of `c` has another open conversation in its queue
/// (then `c` is not reopened: one open conversation per contact and queue).
pub(super) fn has_other_open(conn: &Connection, c: &Conversation) -> AppResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM conversations WHERE contact_id = ?1 AND queue_id = ?2 AND id <> ?3
             AND status IN ('queued', 'offered', 'assigned'))",
        )?
        .query_row([c.contact_id, c.queue_id, c.id], |r| r.get(0))?)
}

/// Adds a system line with free text (e.g. a task's details) to a
/// conversation's timeline; returns the live change.
pub fn system_note(conn: &Connection, c: &Conversation, text: &str, actor: &User, now: i64) -> AppResult<Vec<Change>> {
    insert_message(conn, c.id, "system", Some(actor.id), &actor.name, text, now)?;
    Ok(vec![Change::message(c.queue_id, c.id, c.agent_id)])
}

/// Reopens a finished conversation because a task on it fell due: into
/// `agent`'s list when that agent is active, else back into its queue. An
/// open conversation, or a contact with another open one there, is left alone.
pub fn reopen_for_task(conn: &Connection, id: i64, agent: Option<i64>, now: i64) -> AppResult<Vec<Change>> {
    reopen_auto(conn, id, agent, now, "ev.reopened_task")
}

/// Reopens, on its own, a closed conversation (see [`reopen_for_task`]),
/// leaving the timeline line `key`.
pub(super) fn reopen_auto(
    conn: &Connection,
    id: i64,
    agent: Option<i64>,
    now: i64,
    key: &str,
) -> AppResult<Vec<Change>> {
    reopen_closed(conn, id, agent, now, key, true)
}

/// Reopens a closed e-mail conversation that its customer answered (see
/// [`reopen_for_task`]). E-mail threads are conversations of their own, so
/// another open one of the same contact does not hold it back.
pub(super) fn reopen_thread(
    conn: &Connection,
    id: i64,
    agent: Option<i64>,
    now: i64,
    key: &str,
) -> AppResult<Vec<Change>> {
    reopen_closed(conn, id, agent, now, key, false)
}

fn reopen_closed(
    conn: &Connection,
    id: i64,
    agent: Option<i64>,
    now: i64,
    key: &str,
    one_open: bool,
) -> AppResult<Vec<Change>> {
    let Some(c) = load(conn, id)? else { return Ok(vec![]) };
    if !matches!(c.status.as_str(), "finished" | "archived") {
        return Ok(vec![]);
    }
    if one_open && has_other_open(conn, &c)? {
        return Ok(vec![]);
    }
    let agent = match agent {
        Some(a) => crate::domain::users::get(conn, a)?.filter(|u| u.active),
        None => None,
    };
    let mut changes = vec![Change::queue(c.queue_id, id)];
    match agent {
        Some(u) => {
            assign(conn, &c, u.id, now)?;
            event(conn, id, key, None, now)?;
            changes.push(Change::agent(u.id, id));
        }
        None => {
            conn.prepare_cached(
                "UPDATE conversations SET status = 'queued', agent_id = NULL, queued_at = ?1, closed_at = NULL,
                 reopen_at = NULL, reopen_agent_id = NULL WHERE id = ?2",
            )?
            .execute(params![now, id])?;
            event(conn, id, key, None, now)?;
            changes.extend(routing::route(conn, c.queue_id, now)?);
        }
    }
    Ok(changes)
}

/// Schedules (`at`) or cancels (`None`) the reopening of a finished or
/// archived conversation: at that time it returns to the list of the agent
/// who had it (or of `user`, if nobody had it), or to its queue if that agent
/// is no longer active.
pub async fn schedule_reopen(state: &AppState, user: &User, id: i64, at: Option<i64>) -> AppResult<()> {
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        if !matches!(c.status.as_str(), "finished" | "archived") {
            return Err(AppError::Conflict("conv.not_closed"));
        }
        if at.is_some_and(|t| t <= now) {
            return Err(AppError::BadRequest("conv.reopen_past"));
        }
        let agent = c.agent_id.unwrap_or(user.id);
        conn.prepare_cached("UPDATE conversations SET reopen_at = ?1, reopen_agent_id = ?2 WHERE id = ?3")?
            .execute(params![at, at.map(|_| agent), id])?;
        event(conn, id, if at.is_some() { "ev.reopen_scheduled" } else { "ev.reopen_canceled" }, Some(&user), now)?;
        Ok(((), vec![Change::message(c.queue_id, id, c.agent_id)]))
    })
    .await
}

/// Reopens the conversations whose scheduled time has come (the scheduler
/// runs this every second). Returns how many came due.
pub async fn reopen_due(state: &AppState) -> AppResult<usize> {
    let now = state.now();
    let any: bool = state
        .db
        .read(move |c| {
            Ok(c.prepare_cached("SELECT EXISTS(SELECT 1 FROM conversations WHERE reopen_at <= ?1)")?
                .query_row([now], |r| r.get(0))?)
        })
        .await?;
    if !any {
        return Ok(0);
    }
    apply(state, |conn, now| {
        let due: Vec<(i64, Option<i64>)> = conn
            .prepare_cached(
                "SELECT id, reopen_agent_id FROM conversations WHERE reopen_at <= ?1 ORDER BY reopen_at LIMIT 500",
            )?
            .query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut changes = Vec::new();
        for (id, agent) in &due {
            conn.prepare_cached("UPDATE conversations SET reopen_at = NULL, reopen_agent_id = NULL WHERE id = ?1")?
                .execute([id])?;
            let c = reopen_auto(conn, *id, *agent, now, "ev.reopened_scheduled")?;
            if c.is_empty() {
                // The contact already has another open conversation there.
                event(conn, *id, "ev.reopen_skipped", None, now)?;
            }
            changes.extend(c);
        }
        Ok((due.len(), crate::events::unique(changes)))
    })
    .await
}

/// Adds an internal note (nota interna): seen by agents only, never by the
/// customer on any channel.
pub async fn note(state: &AppState, user: &User, id: i64, text: &str) -> AppResult<i64> {
    let text = check_text(text)?;
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        let mid = insert_message(conn, id, "note", Some(user.id), &user.name, &text, now)?;
        Ok((mid, vec![Change::message(c.queue_id, id, c.agent_id)]))
    })
    .await
}
