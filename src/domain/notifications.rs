//! In-app notifications: the bell in the top bar. Stored, so an agent who was
//! away sees them on return; keyed, so nothing is ever notified twice.

use rusqlite::{Connection, params};

use crate::app::AppState;
use crate::error::AppResult;
use crate::events::Change;

/// A notification to store.
pub struct Note {
    /// Recipient.
    pub user_id: i64,
    /// `task_due`, `pause_exceeded`, `agent_pause_exceeded`, `offers_missed`,
    /// `agent_offers_missed`, `conv_waiting`.
    pub kind: &'static str,
    /// What it is about; a recipient gets one per key.
    pub key: String,
    /// Task, if about one (deleted with it).
    pub task_id: Option<i64>,
    /// Details (task title, pause reason…), shown as text.
    pub text: String,
    /// Where clicking it goes.
    pub link: String,
    /// Also show a browser notification.
    pub browser: bool,
}

/// A stored notification.
#[derive(Clone, Debug)]
pub struct Notification {
    /// Id (newest is highest).
    pub id: i64,
    /// Kind code (catalog key `notif.<kind>`).
    pub kind: String,
    /// Details.
    pub text: String,
    /// Link.
    pub link: String,
    /// Browser notification wanted.
    pub browser: bool,
    /// When.
    pub created_at: i64,
}

/// Stores `n` unless its key was already notified; returns the live change.
pub fn add(conn: &Connection, n: &Note, now: i64) -> AppResult<Vec<Change>> {
    let added = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO notifications (user_id, kind, key, task_id, text, link, browser, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![n.user_id, n.kind, n.key, n.task_id, n.text, n.link, n.browser, now])?;
    Ok(if added > 0 { vec![Change::user("notification", n.user_id)] } else { vec![] })
}

/// Who is told about a team's queues: the active administrators and the
/// team's active supervisors.
pub fn supervisors_of_team(conn: &Connection, team_id: i64) -> AppResult<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.id FROM users u WHERE u.active = 1 AND (u.role = 'admin' OR (u.role = 'supervisor'
           AND EXISTS (SELECT 1 FROM user_teams ut WHERE ut.user_id = u.id AND ut.team_id = ?1)))
         ORDER BY u.id",
    )?;
    let v = stmt.query_map([team_id], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(v)
}

/// Tells every active administrator (one notification per `key`), with
/// `text` shown after the kind's label and a link to the WhatsApp queue's page.
pub fn alert_admins(
    conn: &Connection,
    kind: &'static str,
    key: &str,
    queue_id: &i64,
    now: i64,
) -> AppResult<Vec<Change>> {
    let (admins, name): (Vec<i64>, String) = (
        conn.prepare_cached("SELECT id FROM users WHERE active = 1 AND role = 'admin' ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?,
        conn.prepare_cached("SELECT name FROM queues WHERE id = ?1")?.query_row([queue_id], |r| r.get(0))?,
    );
    let mut changes = Vec::new();
    for a in admins {
        let n = Note {
            user_id: a,
            kind,
            key: key.to_string(),
            task_id: None,
            text: name.clone(),
            link: format!("/admin/filas/{queue_id}/whatsapp"),
            browser: true,
        };
        changes.extend(add(conn, &n, now)?);
    }
    Ok(changes)
}

/// Unread notifications of a user, newest first.
pub fn unread(conn: &Connection, user_id: i64, limit: i64) -> AppResult<Vec<Notification>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, text, link, browser, created_at FROM notifications
         WHERE user_id = ?1 AND read_at IS NULL ORDER BY id DESC LIMIT ?2",
    )?;
    let v = stmt
        .query_map(params![user_id, limit], |r| {
            Ok(Notification {
                id: r.get(0)?,
                kind: r.get(1)?,
                text: r.get(2)?,
                link: r.get(3)?,
                browser: r.get(4)?,
                created_at: r.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// Marks all of a user's notifications up to `upto` read.
pub async fn mark_read(state: &AppState, user_id: i64, upto: i64) -> AppResult<()> {
    let now = state.now();
    state
        .db
        .write(move |c| {
            c.prepare_cached(
                "UPDATE notifications SET read_at = ?1 WHERE user_id = ?2 AND read_at IS NULL AND id <= ?3",
            )?
            .execute(params![now, user_id, upto])?;
            Ok(())
        })
        .await?;
    state.bus.publish(vec![Change::user("notification", user_id)]);
    Ok(())
}

/// What the top bar shows on every page: presence and pause, the pause
/// reasons to pick from, overdue tasks, unread notifications.
#[derive(Clone, Debug, Default)]
pub struct Bar {
    /// Presence code (not_ready, ready, paused).
    pub presence: String,
    /// The open pause.
    pub pause: Option<super::pauses::Current>,
    /// Active pause reasons (id, name).
    pub reasons: Vec<(i64, String)>,
    /// My open tasks past due.
    pub overdue: i64,
    /// Unread notifications.
    pub unread: i64,
    /// Newest unread notification id (0 if none).
    pub last_id: i64,
}

/// Loads the top bar of `user_id`.
pub fn bar(conn: &Connection, user_id: i64, now: i64) -> AppResult<Bar> {
    let (unread, last_id): (i64, i64) = conn
        .prepare_cached(
            "SELECT count(*), coalesce(max(id), 0) FROM notifications WHERE user_id = ?1 AND read_at IS NULL",
        )?
        .query_row([user_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Bar {
        presence: super::routing::presence(conn, user_id)?,
        pause: super::pauses::current(conn, user_id)?,
        reasons: super::pauses::reasons(conn)?.into_iter().map(|r| (r.id, r.name)).collect(),
        overdue: super::tasks::overdue_count(conn, user_id, now)?,
        unread,
        last_id,
    })
}
