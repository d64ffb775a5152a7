//! The `tasks.due` job: each task fires once at its due time.

use jiff::tz::TimeZone;
use rusqlite::{Connection, params};

use super::{due_text, recipients};
use crate::app::AppState;
use crate::domain::conversations as conv;
use crate::domain::notifications::{self, Note};
use crate::error::AppResult;
use crate::events::{self, Change};

/// The `tasks.due` job: fires every task whose time came and that did not
/// fire yet (also those that fell due while the server was down): a
/// notification to whoever must act, the linked conversation reopened if it
/// was closed. Once per task and due time. When nothing is due this is one
/// index probe. Returns how many fired.
pub async fn fire_due(state: &AppState) -> AppResult<usize> {
    let now = state.now();
    let tz = state.settings().tz();
    let mut total = 0;
    // Bounded: at most 100 batches of 500 per run; the next run goes on.
    for _ in 0..100 {
        let due: bool = state
            .db
            .read(move |c| {
                Ok(c.prepare_cached(
                    "SELECT EXISTS(SELECT 1 FROM tasks WHERE fired_at IS NULL AND status <> 'done' AND due_at <= ?1)",
                )?
                .query_row([now], |r| r.get(0))?)
            })
            .await?;
        if !due {
            break;
        }
        let tz = tz.clone();
        let (n, changes) = state.db.write(move |conn| fire_batch(conn, now, &tz)).await?;
        state.bus.publish(changes);
        total += n;
        if n == 0 {
            break;
        }
    }
    Ok(total)
}

/// id, title, due_at, assignee, team, conversation, notify.
type DueRow = (i64, String, i64, Option<i64>, Option<i64>, Option<i64>, bool);

/// A task fired this long after its due time is notified as late ("Tarefa
/// atrasada"): it fell due while the server was down or was created with a
/// time already past. The job runs every second, so an on-time task is
/// notified well within this.
pub const LATE_AFTER_SECS: i64 = 120;

fn fire_batch(conn: &Connection, now: i64, tz: &TimeZone) -> AppResult<(usize, Vec<Change>)> {
    let rows: Vec<DueRow> = conn
        .prepare_cached(
            "SELECT id, title, due_at, assignee_id, team_id, conversation_id, notify FROM tasks
             WHERE fired_at IS NULL AND status <> 'done' AND due_at <= ?1 ORDER BY due_at LIMIT 500",
        )?
        .query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))?
        .collect::<Result<_, _>>()?;
    let mut changes = Vec::new();
    for (id, title, due_at, assignee, team, conversation, notify) in &rows {
        conn.prepare_cached("UPDATE tasks SET fired_at = ?1 WHERE id = ?2")?.execute(params![now, id])?;
        let kind = if now - due_at > LATE_AFTER_SECS { "task_overdue" } else { "task_due" };
        let text = format!("{title} · {}", due_text(*due_at, tz));
        for u in recipients(conn, *assignee, *team)? {
            changes.extend(notifications::add(
                conn,
                &Note {
                    user_id: u,
                    kind,
                    key: format!("task:{id}:{due_at}"),
                    task_id: Some(*id),
                    text: text.clone(),
                    link: format!("/tarefas/{id}"),
                    browser: *notify,
                },
                now,
            )?);
            changes.push(Change::user("tasks", u));
        }
        if let Some(c) = conversation {
            changes.extend(conv::reopen_for_task(conn, *c, *assignee, now)?);
        }
    }
    Ok((rows.len(), events::unique(changes)))
}
