//! Pauses (pausas): an agent steps away for a reason from the admin's list.
//!
//! Presence becomes "paused" (no offers), a row in `pauses` records the pause
//! for the report, and the scheduler's `pauses.limits` job notices within a
//! second when one passes its limit: the agent is warned, the supervisors of
//! the agent's teams get a live alert, and the pause is marked exceeded (and
//! ended, when the reason says so).

use rusqlite::{Connection, OptionalExtension, params};

use super::notifications::{self, Note};
use super::routing;
use super::users::{Role, User};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::events::Change;

/// A pause reason an agent may pick.
#[derive(Clone, Debug)]
pub struct Reason {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Limit in minutes.
    pub limit_minutes: i64,
    /// Allowed from (HH:MM, business time), if restricted.
    pub allowed_from: Option<String>,
    /// Allowed until (HH:MM, business time), if restricted.
    pub allowed_to: Option<String>,
    /// `flag` or `end` when the limit passes.
    pub on_limit: String,
}

/// The pause an agent is in.
#[derive(Clone, Debug)]
pub struct Current {
    /// Pause id.
    pub id: i64,
    /// Reason name.
    pub reason: String,
    /// Start, unix seconds.
    pub started_at: i64,
    /// When the limit passes.
    pub limit_at: i64,
    /// Whether the scheduler flagged it as exceeded.
    pub exceeded: bool,
}

/// Active reasons, by name.
pub fn reasons(conn: &Connection) -> AppResult<Vec<Reason>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, limit_minutes, allowed_from, allowed_to, on_limit FROM pause_reasons
         WHERE active = 1 ORDER BY name COLLATE NOCASE",
    )?;
    let v = stmt
        .query_map([], |r| {
            Ok(Reason {
                id: r.get(0)?,
                name: r.get(1)?,
                limit_minutes: r.get(2)?,
                allowed_from: r.get(3)?,
                allowed_to: r.get(4)?,
                on_limit: r.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// The open pause of `user_id`, if any.
pub fn current(conn: &Connection, user_id: i64) -> AppResult<Option<Current>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, reason_name, started_at, limit_at, flagged_at IS NOT NULL FROM pauses
             WHERE user_id = ?1 AND ended_at IS NULL",
        )?
        .query_row([user_id], |r| {
            Ok(Current {
                id: r.get(0)?,
                reason: r.get(1)?,
                started_at: r.get(2)?,
                limit_at: r.get(3)?,
                exceeded: r.get(4)?,
            })
        })
        .optional()?)
}

/// Whether `hhmm` local time falls in the window [from, to) (which may cross midnight).
pub fn in_window(hhmm: &str, from: &str, to: &str) -> bool {
    if from <= to { from <= hhmm && hhmm < to } else { hhmm >= from || hhmm < to }
}

/// Starts (or switches to) a pause for `user`.
pub async fn start(state: &AppState, user: &User, reason_id: i64) -> AppResult<()> {
    let uid = user.id;
    let tz = state.settings().tz();
    let minute = state.config.pause_minute_secs;
    let now = state.now();
    let hhmm =
        jiff::Timestamp::from_second(now).map_err(AppError::internal)?.to_zoned(tz).strftime("%H:%M").to_string();
    let (_, changes) = state
        .db
        .write(move |conn| {
            let reason = reasons(conn)?.into_iter().find(|r| r.id == reason_id).ok_or(AppError::NotFound)?;
            if let (Some(from), Some(to)) = (&reason.allowed_from, &reason.allowed_to)
                && !in_window(&hhmm, from, to)
            {
                return Err(AppError::Rule("pause.outside_hours", vec![("from", from.clone()), ("to", to.clone())]));
            }
            let previous = match current(conn, uid)? {
                Some(p) => {
                    let prev: String = conn
                        .prepare_cached("SELECT previous FROM pauses WHERE id = ?1")?
                        .query_row([p.id], |r| r.get(0))?;
                    close(conn, p.id, now, None, "agent")?;
                    prev
                }
                None => routing::presence(conn, uid)?,
            };
            let previous = if previous == routing::READY { routing::READY } else { routing::NOT_READY };
            let limit = reason.limit_minutes * minute;
            conn.prepare_cached(
                "INSERT INTO pauses (user_id, reason_id, reason_name, previous, started_at, limit_secs, limit_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![uid, reason.id, reason.name, previous, now, limit, now + limit])?;
            routing::set_presence(conn, uid, "paused", now)?;
            Ok(((), vec![Change::user("presence", uid)]))
        })
        .await?;
    state.bus.publish(changes);
    Ok(())
}

fn close(conn: &Connection, pause_id: i64, now: i64, by: Option<i64>, why: &str) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE pauses SET ended_at = ?1, ended_by = ?2, end_reason = ?3,
           exceeded_by = CASE WHEN ?1 > limit_at THEN ?1 - limit_at ELSE exceeded_by END
         WHERE id = ?4 AND ended_at IS NULL",
    )?
    .execute(params![now, by, why, pause_id])?;
    Ok(())
}

/// Ends `agent_id`'s pause (by the agent, a supervisor, or the limit) and
/// returns to the presence before it, or to Não pronto when `not_ready`.
fn end_in(
    conn: &Connection,
    agent_id: i64,
    now: i64,
    by: Option<i64>,
    why: &str,
    not_ready: bool,
) -> AppResult<Vec<Change>> {
    let Some(p) = current(conn, agent_id)? else { return Ok(vec![]) };
    let prev: String =
        conn.prepare_cached("SELECT previous FROM pauses WHERE id = ?1")?.query_row([p.id], |r| r.get(0))?;
    close(conn, p.id, now, by, why)?;
    let back = if not_ready || prev != routing::READY { routing::NOT_READY } else { routing::READY };
    routing::set_presence(conn, agent_id, back, now)?;
    let mut changes = vec![Change::user("presence", agent_id)];
    if back == routing::READY {
        routing::fresh_start(conn, agent_id)?;
        for q in routing::member_queues(conn, agent_id)? {
            changes.extend(routing::route(conn, q, now)?);
        }
    }
    Ok(changes)
}

/// The agent ends their own pause.
pub async fn end(state: &AppState, user: &User) -> AppResult<()> {
    let uid = user.id;
    let now = state.now();
    let changes = state.db.write(move |conn| end_in(conn, uid, now, None, "agent", false)).await?;
    state.bus.publish(changes);
    Ok(())
}

/// Whether `sup` supervises `agent_id`: an administrator, or a supervisor
/// sharing a team with the agent.
pub fn supervises(conn: &Connection, sup: &User, agent_id: i64) -> AppResult<bool> {
    if sup.is_admin() {
        return Ok(true);
    }
    if sup.role != Role::Supervisor {
        return Ok(false);
    }
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM user_teams a JOIN user_teams b ON a.team_id = b.team_id
             WHERE a.user_id = ?1 AND b.user_id = ?2)",
        )?
        .query_row([sup.id, agent_id], |r| r.get(0))?)
}

/// A supervisor ends an agent's pause (`not_ready`: and sets Não pronto),
/// or sets a working agent Não pronto. Audited. Someone the supervisor does
/// not supervise answers NotFound.
pub async fn supervise(
    state: &AppState,
    actor: &crate::domain::Actor,
    sup: &User,
    agent_id: i64,
    not_ready: bool,
) -> AppResult<()> {
    let sup = sup.clone();
    let actor = actor.clone();
    let now = state.now();
    let changes = state
        .db
        .write(move |conn| {
            if agent_id == sup.id || !supervises(conn, &sup, agent_id)? {
                return Err(AppError::NotFound);
            }
            let name: String = conn
                .prepare_cached("SELECT name FROM users WHERE id = ?1")?
                .query_row([agent_id], |r| r.get(0))
                .optional()?
                .ok_or(AppError::NotFound)?;
            let paused = current(conn, agent_id)?.is_some();
            let changes = if paused {
                end_in(conn, agent_id, now, Some(sup.id), "supervisor", not_ready)?
            } else if not_ready {
                routing::set_presence(conn, agent_id, routing::NOT_READY, now)?;
                vec![Change::user("presence", agent_id)]
            } else {
                return Err(AppError::Conflict("pause.not_paused"));
            };
            let action =
                if paused && !not_ready { "pause.end_by_supervisor" } else { "presence.set_not_ready_by_supervisor" };
            super::audit::record(conn, &actor, action, &name, "")?;
            Ok(changes)
        })
        .await?;
    state.bus.publish(changes);
    Ok(())
}

/// The `pauses.limits` job: flags pauses past their limit (once), warns the
/// agent and alerts the supervisors, and ends those whose reason says so.
/// Returns how many were flagged. When nothing is due this is one index probe.
pub async fn check_limits(state: &AppState) -> AppResult<usize> {
    let now = state.now();
    let due: bool = state
        .db
        .read(move |c| {
            Ok(c.prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM pauses WHERE ended_at IS NULL AND flagged_at IS NULL AND limit_at <= ?1)",
            )?
            .query_row([now], |r| r.get(0))?)
        })
        .await?;
    if !due {
        return Ok(0);
    }
    let (n, changes) = state
        .db
        .write(move |conn| {
            let rows: Vec<(i64, i64, String, i64, String, String)> = conn
                .prepare_cached(
                    "SELECT p.id, p.user_id, p.reason_name, r.limit_minutes, r.on_limit, u.name FROM pauses p
                     JOIN pause_reasons r ON r.id = p.reason_id JOIN users u ON u.id = p.user_id
                     WHERE p.ended_at IS NULL AND p.flagged_at IS NULL AND p.limit_at <= ?1 LIMIT 500",
                )?
                .query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?
                .collect::<Result<_, _>>()?;
            let mut changes = Vec::new();
            for (id, agent, reason, limit, on_limit, agent_name) in &rows {
                conn.prepare_cached(
                    "UPDATE pauses SET flagged_at = ?1, exceeded_by = max(0, ?1 - limit_at) WHERE id = ?2",
                )?
                .execute(params![now, id])?;
                let mins = *limit;
                let ended = on_limit == "end";
                changes.extend(notifications::add(
                    conn,
                    &Note {
                        user_id: *agent,
                        kind: "pause_exceeded",
                        key: format!("pause:{id}"),
                        task_id: None,
                        text: format!("{reason} · {mins} min"),
                        link: String::new(),
                        browser: true,
                    },
                    now,
                )?);
                let sups: Vec<i64> = conn
                    .prepare_cached(
                        "SELECT DISTINCT u.id FROM users u
                         LEFT JOIN user_teams st ON st.user_id = u.id
                         LEFT JOIN user_teams at ON at.team_id = st.team_id AND at.user_id = ?1
                         WHERE u.active = 1 AND u.id <> ?1
                           AND (u.role = 'admin' OR (u.role = 'supervisor' AND at.user_id IS NOT NULL))",
                    )?
                    .query_map([agent], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                for s in sups {
                    changes.extend(notifications::add(
                        conn,
                        &Note {
                            user_id: s,
                            kind: "agent_pause_exceeded",
                            key: format!("pause:{id}"),
                            task_id: None,
                            text: format!("{agent_name} · {reason} · {mins} min"),
                            link: String::new(),
                            browser: true,
                        },
                        now,
                    )?);
                    changes.push(Change::user("presence", s));
                }
                if ended {
                    changes.extend(end_in(conn, *agent, now, None, "limit", true)?);
                } else {
                    changes.push(Change::user("presence", *agent));
                }
            }
            Ok((rows.len(), changes))
        })
        .await?;
    state.bus.publish(changes);
    Ok(n)
}
