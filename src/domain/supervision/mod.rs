//! Acompanhamento: the live panels of supervisors (their teams) and
//! administrators (every team). [`agents`] reads who is working and how;
//! [`queues`] reads what waits and what is in service; the actions (end a
//! pause, set Não pronto, give a conversation to an agent, move it to another
//! queue) call the same domain functions the desk uses, checked against the
//! viewer's scope and audited in the same transaction.
//!
//! Scope: an administrator sees every active team; a supervisor the teams
//! they belong to; an agent nothing (404). Anything outside the scope — an
//! agent, a queue, a conversation of another team — does not exist for the
//! viewer: it answers NotFound and is never named.

pub mod agents;
pub mod queues;

use rusqlite::{Connection, OptionalExtension, params};

use super::Actor;
use super::audit;
use super::conversations as conv;
use super::users::{Role, User};
use crate::app::AppState;
use crate::error::{AppError, AppResult};

/// The teams a viewer watches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    /// None: every team (administrators).
    pub teams: Option<Vec<i64>>,
}

impl Scope {
    /// The scope of `user`; agents have none (NotFound).
    pub fn of(user: &User) -> AppResult<Scope> {
        match user.role {
            Role::Admin => Ok(Scope { teams: None }),
            Role::Supervisor => Ok(Scope { teams: Some(user.team_ids.clone()) }),
            Role::Agent => Err(AppError::NotFound),
        }
    }

    /// Whether `team` is watched.
    pub fn has_team(&self, team: i64) -> bool {
        self.teams.as_ref().is_none_or(|t| t.contains(&team))
    }

    /// The teams as a JSON array for `json_each` (NULL: all).
    pub(crate) fn json(&self) -> Option<String> {
        self.teams.as_ref().map(|t| serde_json::to_string(t).unwrap_or_else(|_| "[]".into()))
    }
}

/// Start of the business day containing `now` (unix seconds) and that day
/// as yyyymmdd (the rollups' day).
pub fn today(tz: &jiff::tz::TimeZone, now: i64) -> (i64, i64) {
    let day = super::metrics::business_day(tz, now);
    let start = jiff::Timestamp::from_second(now)
        .ok()
        .and_then(|t| t.to_zoned(tz.clone()).start_of_day().ok())
        .map(|z| z.timestamp().as_second())
        .unwrap_or(now - now.rem_euclid(86_400));
    (start, day)
}

/// Whether `agent_id` is someone the viewer watches: an active user (not an
/// administrator) in one of the scope's teams.
pub fn watched_agent(conn: &Connection, scope: &Scope, agent_id: i64) -> AppResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM users u JOIN user_teams t ON t.user_id = u.id
             WHERE u.id = ?1 AND u.active = 1 AND u.role <> 'admin'
               AND (?2 IS NULL OR t.team_id IN (SELECT value FROM json_each(?2))))",
        )?
        .query_row(params![agent_id, scope.json()], |r| r.get(0))?)
}

/// The agents and the active queues a scope holds (its live stream's
/// filter): (agent ids, queue ids).
pub fn watched_ids(conn: &Connection, scope: &Scope) -> AppResult<(Vec<i64>, Vec<i64>)> {
    let teams = scope.json();
    let agents = conn
        .prepare_cached(
            "SELECT DISTINCT u.id FROM users u JOIN user_teams t ON t.user_id = u.id
             WHERE u.active = 1 AND u.role <> 'admin' AND (?1 IS NULL OR t.team_id IN (SELECT value FROM json_each(?1)))",
        )?
        .query_map([&teams], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let queues = conn
        .prepare_cached("SELECT id FROM queues WHERE ?1 IS NULL OR team_id IN (SELECT value FROM json_each(?1))")?
        .query_map([&teams], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok((agents, queues))
}

/// The supervisor's read-only view of a conversation.
pub struct Watched {
    /// The conversation.
    pub c: conv::Conversation,
    /// Its messages, notes and timeline.
    pub msgs: Vec<conv::Message>,
    /// In service since (its cycle's first assignment), when assigned.
    pub serving_since: Option<i64>,
    /// Agents of its queue it could be given to.
    pub agents: Vec<queues::Candidate>,
    /// Queues of its channel it could move to.
    pub queues: Vec<(i64, String)>,
}

/// A conversation the viewer watches (its queue is of a scope team), with
/// its messages, notes and timeline and where it could go.
pub fn conversation(conn: &Connection, viewer: &User, id: i64) -> AppResult<Watched> {
    let c = watched_conversation(conn, viewer, id)?;
    let msgs = conv::messages(conn, id, 0, true)?;
    let serving_since = if c.status == "assigned" {
        conn.prepare_cached("SELECT first_assigned_at FROM conversations WHERE id = ?1")?
            .query_row([id], |r| r.get(0))?
    } else {
        None
    };
    let (agents, queues) = queues::choices_for(conn, &Scope::of(viewer)?, &c)?;
    Ok(Watched { c, msgs, serving_since, agents, queues })
}

/// A conversation of a watched queue, else NotFound.
pub fn watched_conversation(conn: &Connection, viewer: &User, id: i64) -> AppResult<conv::Conversation> {
    Scope::of(viewer)?;
    match conv::load(conn, id)? {
        Some(c) if conv::supervises_queue(viewer, &c) => Ok(c),
        _ => Err(AppError::NotFound),
    }
}

fn agent_name(conn: &Connection, id: i64) -> AppResult<String> {
    conn.prepare_cached("SELECT name FROM users WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .ok_or(AppError::NotFound)
}

/// Ends a watched agent's pause (back to what they were before it). Reuses
/// the supervisor's end of a pause (`pauses::supervise`), audited there as
/// `pause.end_by_supervisor`.
pub async fn end_pause(state: &AppState, actor: &Actor, viewer: &User, agent_id: i64) -> AppResult<()> {
    check_agent(state, viewer, agent_id).await?;
    super::pauses::supervise(state, actor, viewer, agent_id, false).await
}

/// Sets a watched agent Não pronto, as their own "Ficar não pronto" does:
/// presence only — an offer they hold stays theirs to answer until it
/// expires and moves on, as it would after their own click. A pause ends
/// first. Reuses `pauses::supervise` (audited there as
/// `presence.set_not_ready_by_supervisor`), which also publishes the
/// presence change every panel and the agent's own top bar follow.
pub async fn set_not_ready(state: &AppState, actor: &Actor, viewer: &User, agent_id: i64) -> AppResult<()> {
    check_agent(state, viewer, agent_id).await?;
    let already = state
        .db
        .read(move |c| {
            Ok(super::routing::presence(c, agent_id)? == super::routing::NOT_READY
                && super::pauses::current(c, agent_id)?.is_none())
        })
        .await?;
    if already {
        return Err(AppError::Conflict("sup.err.already_not_ready"));
    }
    super::pauses::supervise(state, actor, viewer, agent_id, true).await
}

async fn check_agent(state: &AppState, viewer: &User, agent_id: i64) -> AppResult<()> {
    let scope = Scope::of(viewer)?;
    if agent_id == viewer.id {
        return Err(AppError::NotFound);
    }
    if !state.db.read(move |c| watched_agent(c, &scope, agent_id)).await? {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Gives a watched conversation (waiting or in service) to `agent_id`, an
/// agent the viewer watches who is connected to its queue and available;
/// through `conversations::transfer_to_agent_in`, so routing, metrics and
/// the live events are the desk's. Audited (`supervision.assign`).
pub async fn assign(state: &AppState, actor: &Actor, viewer: &User, id: i64, agent_id: i64) -> AppResult<()> {
    let viewer = viewer.clone();
    let actor = actor.clone();
    let now = state.now();
    let changes = state
        .db
        .write(move |conn| {
            let scope = Scope::of(&viewer)?;
            let c = watched_conversation(conn, &viewer, id)?;
            if !watched_agent(conn, &scope, agent_id)? {
                return Err(AppError::NotFound);
            }
            if !matches!(c.status.as_str(), "queued" | "offered" | "assigned") {
                return Err(AppError::Conflict("sup.err.closed"));
            }
            let connected: bool = conn
                .prepare_cached("SELECT EXISTS(SELECT 1 FROM queue_connections WHERE user_id = ?1 AND queue_id = ?2)")?
                .query_row([agent_id, c.queue_id], |r| r.get(0))?;
            if !connected {
                return Err(AppError::Conflict("sup.err.not_connected"));
            }
            if c.agent_id == Some(agent_id) {
                return Err(AppError::Conflict("sup.err.same_agent"));
            }
            let changes = conv::transfer_to_agent_in(conn, &viewer, id, agent_id, now)?;
            let name = agent_name(conn, agent_id)?;
            let detail = format!("{} · {} → {name}", c.queue_name, c.agent_name.as_deref().unwrap_or("—"));
            audit::record(conn, &actor, "supervision.assign", &format!("#{id}"), &detail)?;
            Ok(changes)
        })
        .await?;
    state.bus.publish(changes);
    Ok(())
}

/// Moves a watched conversation (waiting or in service) to another watched
/// queue of its channel, where it waits again and is routed; through
/// `conversations::transfer_to_queue_in`. Audited (`supervision.transfer`).
pub async fn transfer(state: &AppState, actor: &Actor, viewer: &User, id: i64, queue_id: i64) -> AppResult<()> {
    let viewer = viewer.clone();
    let actor = actor.clone();
    let now = state.now();
    let changes = state
        .db
        .write(move |conn| {
            let scope = Scope::of(&viewer)?;
            let c = watched_conversation(conn, &viewer, id)?;
            let target: Option<(i64, String)> = conn
                .prepare_cached("SELECT team_id, name FROM queues WHERE id = ?1")?
                .query_row([queue_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((_, target_name)) = target.filter(|(team, _)| scope.has_team(*team)) else {
                return Err(AppError::NotFound);
            };
            if !matches!(c.status.as_str(), "queued" | "offered" | "assigned") {
                return Err(AppError::Conflict("sup.err.closed"));
            }
            let changes = conv::transfer_to_queue_in(conn, &viewer, id, queue_id, now)?;
            audit::record(
                conn,
                &actor,
                "supervision.transfer",
                &format!("#{id}"),
                &format!("{} → {target_name}", c.queue_name),
            )?;
            Ok(changes)
        })
        .await?;
    state.bus.publish(changes);
    Ok(())
}
