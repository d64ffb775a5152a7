//! Tasks (tarefas / atividades): follow-ups with a due time, for an agent or a
//! team, optionally tied to a contact and a conversation.
//!
//! na fila (queued: waiting to be taken — team tasks, or tasks an agent gave a
//! colleague) → pendente (pending: taken, or created for me / by a supervisor)
//! → finalizado (done: finished or archived). The scheduler's `tasks.due` job
//! fires each task once at its due time: a notification to whoever must act,
//! and the linked conversation reopened if it was closed.

use jiff::tz::TimeZone;
use rusqlite::{Connection, OptionalExtension, params};

mod due;
mod firing;
mod form;

pub use due::*;
pub use firing::*;
pub use form::*;

use super::conversations as conv;
use super::users::{Permission, Role, User};
use super::validate::FormErrors;
use crate::app::AppState;
use crate::domain::Actor;
use crate::error::{AppError, AppResult};
use crate::events::{self, Change};
use crate::i18n::{Locale, t};

/// Task types: e-mail, agendamento, ligar, personalizado.
pub const KINDS: &[&str] = &["email", "meeting", "call", "custom"];
/// Rows per page of the Tarefas list.
pub const PAGE_SIZE: i64 = 50;
/// Longest title.
pub const MAX_TITLE: usize = 120;
/// Longest description.
pub const MAX_DESCRIPTION: usize = 2000;

/// A task as lists and pages show it.
#[derive(Clone, Debug)]
pub struct Task {
    /// Id.
    pub id: i64,
    /// Type code.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Due, unix seconds.
    pub due_at: i64,
    /// Assignee.
    pub assignee_id: Option<i64>,
    /// Assignee name.
    pub assignee_name: Option<String>,
    /// Team.
    pub team_id: Option<i64>,
    /// Team name.
    pub team_name: Option<String>,
    /// Contact.
    pub contact_id: Option<i64>,
    /// Contact display name.
    pub contact_name: Option<String>,
    /// Conversation.
    pub conversation_id: Option<i64>,
    /// Browser notification at due time.
    pub notify: bool,
    /// queued / pending / done.
    pub status: String,
    /// finished / archived, once done.
    pub done_how: Option<String>,
    /// Creator.
    pub created_by: i64,
    /// An e-mail activity's template: (id, name).
    pub email_template: Option<(i64, String)>,
}

impl Task {
    /// Open and past its due time.
    pub fn overdue(&self, now: i64) -> bool {
        self.status != "done" && self.due_at <= now
    }
}

const SELECT: &str = "SELECT t.id, t.kind, t.title, t.description, t.due_at, t.assignee_id, a.name, t.team_id, tm.name,
    t.contact_id, coalesce(nullif(k.name, ''), nullif(k.email, ''), nullif(k.phone, '')), t.conversation_id, t.notify,
    t.status, t.done_how, t.created_by, t.email_template_id, et.name
    FROM tasks t LEFT JOIN users a ON a.id = t.assignee_id LEFT JOIN teams tm ON tm.id = t.team_id
    LEFT JOIN contacts k ON k.id = t.contact_id LEFT JOIN email_templates et ON et.id = t.email_template_id";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Task> {
    Ok(Task {
        id: r.get(0)?,
        kind: r.get(1)?,
        title: r.get(2)?,
        description: r.get(3)?,
        due_at: r.get(4)?,
        assignee_id: r.get(5)?,
        assignee_name: r.get(6)?,
        team_id: r.get(7)?,
        team_name: r.get(8)?,
        contact_id: r.get(9)?,
        contact_name: r.get(10)?,
        conversation_id: r.get(11)?,
        notify: r.get(12)?,
        status: r.get(13)?,
        done_how: r.get(14)?,
        created_by: r.get(15)?,
        email_template: match (r.get::<_, Option<i64>>(16)?, r.get::<_, Option<String>>(17)?) {
            (Some(id), Some(name)) => Some((id, name)),
            _ => None,
        },
    })
}

/// Whether `user` sees every task (administrators, "ver todas as tarefas").
pub fn sees_all(user: &User) -> bool {
    user.can(Permission::SeeAllTasks)
}

fn may_see(user: &User, t: &Task) -> bool {
    may_see_parts(user, t.assignee_id, t.team_id)
}

/// [`may_see`] from a task's assignee and team.
pub fn may_see_parts(user: &User, assignee: Option<i64>, team: Option<i64>) -> bool {
    sees_all(user)
        || assignee == Some(user.id)
        || (assignee.is_none() && team.is_some_and(|tm| user.team_ids.contains(&tm)))
}

fn load(conn: &Connection, id: i64) -> AppResult<Option<Task>> {
    Ok(conn.prepare_cached(&format!("{SELECT} WHERE t.id = ?1"))?.query_row([id], from_row).optional()?)
}

/// A task `user` may see; anyone else's answers NotFound.
pub fn visible(conn: &Connection, user: &User, id: i64) -> AppResult<Task> {
    match load(conn, id)? {
        Some(t) if may_see(user, &t) => Ok(t),
        _ => Err(AppError::NotFound),
    }
}

/// Everyone who must act on a task now: its assignee, or every active member
/// of its team while nobody took it.
fn recipients(conn: &Connection, assignee: Option<i64>, team: Option<i64>) -> AppResult<Vec<i64>> {
    if let Some(a) = assignee {
        return Ok(vec![a]);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT u.id FROM users u JOIN user_teams ut ON ut.user_id = u.id WHERE ut.team_id = ?1 AND u.active = 1",
    )?;
    let v = stmt.query_map([team], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(v)
}

fn list_changes(conn: &Connection, assignee: Option<i64>, team: Option<i64>) -> AppResult<Vec<Change>> {
    Ok(recipients(conn, assignee, team)?.into_iter().map(|u| Change::user("tasks", u)).collect())
}

/// Resolves who the task goes to and in which state it starts.
fn resolve(conn: &Connection, user: &User, assign: &Assign) -> AppResult<(Option<i64>, Option<i64>, &'static str)> {
    Ok(match assign {
        Assign::Me => (Some(user.id), None, "pending"),
        Assign::Agent(login) => {
            let id: i64 = conn
                .prepare_cached("SELECT id FROM users WHERE login = ?1 COLLATE NOCASE AND active = 1")?
                .query_row([login], |r| r.get(0))
                .optional()?
                .ok_or_else(|| FormErrors::one("agent", "task.agent_unknown"))?;
            // Given by a supervisor (or to oneself) it is theirs at once;
            // from a colleague it waits for them to take it.
            let direct = id == user.id || user.is_admin() || user.role == Role::Supervisor;
            (Some(id), None, if direct { "pending" } else { "queued" })
        }
        Assign::Team(tid) => {
            let ok: bool = conn
                .prepare_cached("SELECT EXISTS(SELECT 1 FROM teams WHERE id = ?1 AND active = 1)")?
                .query_row([tid], |r| r.get(0))?;
            if !ok {
                return Err(FormErrors::one("team_id", "val.invalid_choice"));
            }
            (None, Some(*tid), "queued")
        }
    })
}

/// The name of whoever holds a task: the agent, else the team.
fn holder_name(conn: &Connection, assignee: Option<i64>, team: Option<i64>) -> AppResult<String> {
    let name: Option<String> = match (assignee, team) {
        (Some(a), _) => {
            conn.prepare_cached("SELECT name FROM users WHERE id = ?1")?.query_row([a], |r| r.get(0)).optional()?
        }
        (None, Some(tm)) => {
            conn.prepare_cached("SELECT name FROM teams WHERE id = ?1")?.query_row([tm], |r| r.get(0)).optional()?
        }
        (None, None) => None,
    };
    Ok(name.unwrap_or_default())
}

/// Creates a task; linked to a conversation, it leaves a system line there
/// (who holds it and when it is due, never its title).
pub async fn create(state: &AppState, user: &User, loc: Locale, f: Form) -> AppResult<i64> {
    let user = user.clone();
    let now = state.now();
    let tz = state.settings().tz();
    let (id, changes) = state
        .db
        .write(move |conn| {
            let (assignee, team, status) = resolve(conn, &user, &f.assign)?;
            let template = email_template(conn, &f)?;
            let c = match f.conversation_id {
                Some(cid) => Some(conv::visible(conn, &user, cid)?),
                None => None,
            };
            let contact = match (&c, f.contact_id) {
                (Some(c), _) => Some(c.contact_id),
                (None, Some(k)) => Some(super::contacts::visible(conn, &user, k)?.id),
                (None, None) => None,
            };
            conn.prepare_cached(
                "INSERT INTO tasks (kind, title, description, due_at, assignee_id, team_id, contact_id, conversation_id,
                   notify, status, created_by, created_at, updated_at, email_template_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13)",
            )?
            .execute(params![
                f.kind,
                f.title,
                f.description,
                f.due_at,
                assignee,
                team,
                contact,
                c.as_ref().map(|c| c.id),
                f.notify,
                status,
                user.id,
                now,
                template
            ])?;
            let id = conn.last_insert_rowid();
            let mut changes = list_changes(conn, assignee, team)?;
            if let Some(c) = &c {
                // Everyone who opens the conversation (and its PDF) reads this
                // line, but not everyone may open the task: so no title here.
                let due = due_text(f.due_at, &tz);
                let who = holder_name(conn, assignee, team)?;
                let text = format!(
                    "{} · {}: {who} · {} {due}",
                    t(loc, "task.note_created"),
                    t(loc, "task.assignee"),
                    t(loc, "task.due")
                );
                changes.extend(conv::system_note(conn, c, &text, &user, now)?);
            }
            Ok((id, changes))
        })
        .await?;
    state.bus.publish(changes);
    Ok(id)
}

/// Edits a task; a new due time re-arms its notification, withdraws the
/// unread ones about the old time and, when the task belongs to a
/// conversation, says so there.
pub async fn update(state: &AppState, user: &User, loc: Locale, id: i64, f: Form) -> AppResult<()> {
    let user = user.clone();
    let now = state.now();
    let tz = state.settings().tz();
    let changes = state
        .db
        .write(move |conn| {
            let old = visible(conn, &user, id)?;
            let (assignee, team, status) = resolve(conn, &user, &f.assign)?;
            let template = email_template(conn, &f)?;
            let status = if old.status == "done" { "done" } else { status };
            conn.prepare_cached(
                "UPDATE tasks SET kind = ?1, title = ?2, description = ?3, due_at = ?4, assignee_id = ?5, team_id = ?6,
                   notify = ?7, status = ?8, updated_at = ?9,
                   fired_at = CASE WHEN due_at = ?4 THEN fired_at ELSE NULL END, email_template_id = ?11
                 WHERE id = ?10",
            )?
            .execute(params![
                f.kind,
                f.title,
                f.description,
                f.due_at,
                assignee,
                team,
                f.notify,
                status,
                now,
                id,
                template
            ])?;
            let mut changes = list_changes(conn, old.assignee_id, old.team_id)?;
            changes.extend(list_changes(conn, assignee, team)?);
            if old.due_at != f.due_at {
                changes.extend(withdraw_notifications(conn, id)?);
                if let Some(cid) = old.conversation_id
                    && let Some(c) = conv::load(conn, cid)?
                {
                    let text = format!(
                        "{} · {} {}",
                        t(loc, "forms.task.note_due_changed"),
                        t(loc, "task.due"),
                        due_text(f.due_at, &tz)
                    );
                    changes.extend(conv::system_note(conn, &c, &text, &user, now)?);
                }
            }
            Ok(events::unique(changes))
        })
        .await?;
    state.bus.publish(changes);
    Ok(())
}

/// Removes the unread notifications of a task whose due time moved: they
/// speak of a time that is no longer the task's. The task fires again at
/// its new time.
fn withdraw_notifications(conn: &Connection, task_id: i64) -> AppResult<Vec<Change>> {
    let users: Vec<i64> = conn
        .prepare_cached("DELETE FROM notifications WHERE task_id = ?1 AND read_at IS NULL RETURNING user_id")?
        .query_map([task_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(users.into_iter().map(|u| Change::user("notification", u)).collect())
}

/// Takes a waiting task (">"): it becomes mine and pendente. Of two agents
/// taking it at once, exactly one wins.
pub async fn take(state: &AppState, user: &User, id: i64) -> AppResult<()> {
    let user = user.clone();
    let now = state.now();
    let changes = state
        .db
        .write(move |conn| {
            let t = visible(conn, &user, id)?;
            if t.status != "queued" {
                return Err(AppError::Conflict("task.already_taken"));
            }
            if t.assignee_id.is_some_and(|a| a != user.id) {
                return Err(AppError::Conflict("task.already_taken"));
            }
            let n = conn
                .prepare_cached(
                    "UPDATE tasks SET assignee_id = ?1, status = 'pending', updated_at = ?2 WHERE id = ?3 AND status = 'queued'",
                )?
                .execute(params![user.id, now, id])?;
            if n == 0 {
                return Err(AppError::Conflict("task.already_taken"));
            }
            let mut changes = list_changes(conn, t.assignee_id, t.team_id)?;
            changes.push(Change::user("tasks", user.id));
            Ok(changes)
        })
        .await?;
    state.bus.publish(changes);
    Ok(())
}

/// Finishes (`archived` false) or archives a task; it stays listed, greyed.
pub async fn complete(state: &AppState, user: &User, id: i64, archived: bool) -> AppResult<()> {
    let user = user.clone();
    let now = state.now();
    let changes = state
        .db
        .write(move |conn| {
            let t = visible(conn, &user, id)?;
            if t.status == "done" {
                return Ok(vec![]);
            }
            complete_in(conn, &t, archived, now)?;
            list_changes(conn, t.assignee_id, t.team_id)
        })
        .await?;
    state.bus.publish(changes);
    Ok(())
}

fn complete_in(conn: &Connection, t: &Task, archived: bool, now: i64) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE tasks SET status = 'done', done_how = ?1, done_at = ?2, updated_at = ?2 WHERE id = ?3 AND status <> 'done'",
    )?
    .execute(params![if archived { "archived" } else { "finished" }, now, t.id])?;
    Ok(())
}

/// Deletes a task (audited); its pending notification goes with it.
pub async fn delete(state: &AppState, actor: &Actor, user: &User, id: i64) -> AppResult<()> {
    let user = user.clone();
    let actor = actor.clone();
    let changes = state
        .db
        .write(move |conn| {
            let t = visible(conn, &user, id)?;
            conn.prepare_cached("DELETE FROM tasks WHERE id = ?1")?.execute([id])?;
            super::audit::record(conn, &actor, "task.delete", &t.title, &format!("#{id}"))?;
            list_changes(conn, t.assignee_id, t.team_id)
        })
        .await?;
    state.bus.publish(changes);
    Ok(())
}

/// Open tasks of a conversation `user` may see (the finishing dialog).
pub fn open_for_conversation(conn: &Connection, user: &User, conversation_id: i64) -> AppResult<Vec<Task>> {
    let mut stmt = conn
        .prepare_cached(&format!("{SELECT} WHERE t.conversation_id = ?1 AND t.status <> 'done' ORDER BY t.due_at"))?;
    let v: Vec<Task> = stmt.query_map([conversation_id], from_row)?.collect::<Result<_, _>>()?;
    Ok(v.into_iter().filter(|t| may_see(user, t)).collect())
}

/// Whether a contact has an open task (the bell beside the contact).
pub fn contact_has_open(conn: &Connection, contact_id: i64) -> AppResult<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM tasks WHERE contact_id = ?1 AND status <> 'done')")?
        .query_row([contact_id], |r| r.get(0))?)
}

/// Before finishing or archiving a conversation with open tasks: postpone
/// them to the same time tomorrow, or complete them.
pub async fn settle_for_conversation(
    state: &AppState,
    user: &User,
    conversation_id: i64,
    postpone: bool,
) -> AppResult<()> {
    let user = user.clone();
    let now = state.now();
    let tz = state.settings().tz();
    let changes = state
        .db
        .write(move |conn| {
            let mut changes = Vec::new();
            for t in open_for_conversation(conn, &user, conversation_id)? {
                if postpone {
                    changes.extend(postpone_in(conn, &t, &tz, now)?);
                } else {
                    complete_in(conn, &t, false, now)?;
                }
                changes.extend(list_changes(conn, t.assignee_id, t.team_id)?);
            }
            Ok(changes)
        })
        .await?;
    state.bus.publish(changes);
    Ok(())
}

/// Moves a task to the same time tomorrow and re-arms its notification.
fn postpone_in(conn: &Connection, t: &Task, tz: &TimeZone, now: i64) -> AppResult<Vec<Change>> {
    let due = same_time_tomorrow(t.due_at, tz)?;
    conn.prepare_cached("UPDATE tasks SET due_at = ?1, fired_at = NULL, updated_at = ?2 WHERE id = ?3")?
        .execute(params![due, now, t.id])?;
    withdraw_notifications(conn, t.id)
}

/// Postpones one task to the same time tomorrow (business time zone).
pub async fn postpone(state: &AppState, user: &User, id: i64) -> AppResult<()> {
    let user = user.clone();
    let now = state.now();
    let tz = state.settings().tz();
    let changes = state
        .db
        .write(move |conn| {
            let t = visible(conn, &user, id)?;
            let mut changes = postpone_in(conn, &t, &tz, now)?;
            changes.extend(list_changes(conn, t.assignee_id, t.team_id)?);
            Ok(changes)
        })
        .await?;
    state.bus.publish(changes);
    Ok(())
}

/// Filters of the Tarefas page.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// `open` (default), `done` or `all`.
    pub status: String,
    /// Type.
    pub kind: Option<String>,
    /// Assignee.
    pub assignee: Option<i64>,
    /// Team.
    pub team: Option<i64>,
    /// Due from (unix).
    pub from: Option<i64>,
    /// Due before (unix).
    pub to: Option<i64>,
    /// Keyset cursor (due_at, id) of the last row shown.
    pub after: Option<(i64, i64)>,
}

/// A page of tasks and the cursor of the next one.
pub type TaskPage = (Vec<Task>, Option<(i64, i64)>);

/// One page of tasks for `user`, soonest due first. Keyset: every page costs
/// the same.
pub fn list(conn: &Connection, user: &User, f: &Filter) -> AppResult<TaskPage> {
    let scope = if sees_all(user) {
        "1"
    } else {
        "t.id IN (SELECT id FROM tasks WHERE assignee_id = ?1
                  UNION ALL SELECT id FROM tasks WHERE assignee_id IS NULL
                    AND team_id IN (SELECT team_id FROM user_teams WHERE user_id = ?1))"
    };
    let status = match f.status.as_str() {
        "done" => "t.status = 'done'",
        "all" => "1",
        _ => "t.status <> 'done'",
    };
    let sql = format!(
        "{SELECT} WHERE {scope} AND {status} AND (?2 IS NULL OR t.kind = ?2) AND (?3 IS NULL OR t.assignee_id = ?3)
           AND (?4 IS NULL OR t.team_id = ?4) AND t.due_at >= ?5 AND t.due_at < ?6 AND (t.due_at, t.id) > (?7, ?8)
         ORDER BY t.due_at, t.id LIMIT {}",
        PAGE_SIZE + 1
    );
    let (ca, ci) = f.after.unwrap_or((i64::MIN, i64::MIN));
    let mut rows: Vec<Task> = conn
        .prepare_cached(&sql)?
        .query_map(
            // The lower bound of the range carries the cursor's due time, so a
            // deep page starts its index range there instead of walking to it.
            params![
                user.id,
                f.kind,
                f.assignee,
                f.team,
                f.from.unwrap_or(i64::MIN).max(ca),
                f.to.unwrap_or(i64::MAX),
                ca,
                ci
            ],
            from_row,
        )?
        .collect::<Result<_, _>>()?;
    let next = if rows.len() as i64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|t| (t.due_at, t.id))
    } else {
        None
    };
    Ok((rows, next))
}

/// Open tasks of `user` (assigned, or waiting in their teams) already due.
pub fn overdue_count(conn: &Connection, user_id: i64, now: i64) -> AppResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT (SELECT count(*) FROM tasks WHERE assignee_id = ?1 AND status IN ('queued', 'pending') AND due_at <= ?2)
                  + (SELECT count(*) FROM tasks WHERE assignee_id IS NULL AND status = 'queued' AND due_at <= ?2
                       AND team_id IN (SELECT team_id FROM user_teams WHERE user_id = ?1))",
        )?
        .query_row(params![user_id, now], |r| r.get(0))?)
}

/// The panel beside a conversation: open tasks `user` may see that are on
/// this conversation or on its contact, soonest due first (at most 20).
pub fn open_for_panel(conn: &Connection, user: &User, conversation_id: i64, contact_id: i64) -> AppResult<Vec<Task>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE t.id IN (SELECT id FROM tasks WHERE conversation_id = ?1 AND status <> 'done'
             UNION SELECT id FROM tasks WHERE contact_id = ?2 AND status <> 'done')
           ORDER BY t.due_at, t.id LIMIT 200"
    ))?;
    let v: Vec<Task> = stmt.query_map([conversation_id, contact_id], from_row)?.collect::<Result<_, _>>()?;
    Ok(v.into_iter().filter(|t| may_see(user, t)).take(20).collect())
}
