//! What the agent home lists: queues, waiting and assigned pages by keyset.

use rusqlite::{Connection, params};

use super::*;
use crate::domain::routing;
use crate::domain::users::User;
use crate::error::AppResult;

/// A queue as the agent's "puxar" list shows it.
#[derive(Clone, Debug)]
pub struct QueueInfo {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Channel code.
    pub channel: String,
    /// Whether I am connected to it.
    pub connected: bool,
    /// Conversations waiting.
    pub waiting: i64,
}

/// Everything the agent home shows.
pub struct Home {
    /// My presence code.
    pub presence: String,
    /// Offers waiting for my answer.
    pub offers: Vec<Conversation>,
    /// Na fila: the first page of queued conversations of my queues, oldest first.
    pub queued: Page,
    /// How many are queued in my queues in all.
    pub queued_total: i64,
    /// Minhas conversas: the first page of those assigned to me, newest activity first.
    pub mine: Page,
    /// How many are assigned to me in all.
    pub mine_total: i64,
    /// Unread conversations among all of mine.
    pub mine_unread: i64,
    /// My queues.
    pub queues: Vec<QueueInfo>,
}

/// Rows per page of a desk list.
pub const PAGE_SIZE: i64 = 25;

/// A keyset position in a list: the sort time and the id of the last row shown.
pub type Cursor = (i64, i64);

/// One page of a list, with where the next page starts.
#[derive(Default)]
pub struct Page {
    /// The rows.
    pub rows: Vec<Conversation>,
    /// Cursor of the next page, if there is one.
    pub next: Option<Cursor>,
}

/// Reads `cursor` as written by [`cursor_param`]: "time.id".
pub fn parse_cursor(s: &str) -> Option<Cursor> {
    let (a, b) = s.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The query-string form of a cursor.
pub fn cursor_param(c: Cursor) -> String {
    format!("{}.{}", c.0, c.1)
}

pub(super) fn page(
    conn: &Connection,
    sql: &str,
    p: &[&dyn rusqlite::ToSql],
    key: fn(&Conversation) -> i64,
) -> AppResult<Page> {
    let mut rows: Vec<Conversation> =
        conn.prepare_cached(sql)?.query_map(p, conv_from_row)?.collect::<Result<_, _>>()?;
    let next = if rows.len() as i64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|c| (key(c), c.id))
    } else {
        None
    };
    Ok(Page { rows, next })
}

/// Queued conversations of `user`'s queues (administrators: all), oldest
/// first, from after `after`. Costs the same on any page (keyset).
pub fn queued_page(conn: &Connection, user: &User, after: Option<Cursor>) -> AppResult<Page> {
    let (t, id) = after.unwrap_or((i64::MIN, i64::MIN));
    page(
        conn,
        &format!(
            "{CONV_SELECT} WHERE c.status = 'queued' AND (c.queued_at, c.id) > (?3, ?4)
               AND (?1 OR q.team_id IN (SELECT team_id FROM user_teams WHERE user_id = ?2))
             ORDER BY c.queued_at, c.id LIMIT {}",
            PAGE_SIZE + 1
        ),
        &[&user.is_admin(), &user.id, &t, &id],
        |c| c.queued_at,
    )
}

/// Conversations assigned to `user`, newest activity first, from after `after`.
pub fn mine_page(conn: &Connection, user: &User, after: Option<Cursor>) -> AppResult<Page> {
    let (t, id) = after.unwrap_or((i64::MAX, i64::MAX));
    page(
        conn,
        &format!(
            "{CONV_SELECT} WHERE c.agent_id = ?1 AND c.status = 'assigned' AND (c.last_activity_at, c.id) < (?2, ?3)
             ORDER BY c.last_activity_at DESC, c.id DESC LIMIT {}",
            PAGE_SIZE + 1
        ),
        &[&user.id, &t, &id],
        |c| c.last_activity_at,
    )
}

/// Loads the agent home.
pub fn home(conn: &Connection, user: &User) -> AppResult<Home> {
    let offers = conn
        .prepare_cached(&format!("{CONV_SELECT} WHERE c.agent_id = ?1 AND c.status = 'offered' ORDER BY c.queued_at"))?
        .query_map([user.id], conv_from_row)?
        .collect::<Result<_, _>>()?;
    let (mine_total, mine_unread): (i64, i64) = conn
        .prepare_cached(
            "SELECT count(*), coalesce(sum(EXISTS(SELECT 1 FROM messages m WHERE m.conversation_id = c.id
                AND m.kind = 'in' AND m.id > c.agent_read_id)), 0)
             FROM conversations c WHERE c.agent_id = ?1 AND c.status = 'assigned'",
        )?
        .query_row([user.id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let queued_total: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM conversations c JOIN queues q ON q.id = c.queue_id
             WHERE c.status = 'queued' AND (?1 OR q.team_id IN (SELECT team_id FROM user_teams WHERE user_id = ?2))",
        )?
        .query_row(params![user.is_admin(), user.id], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(
        "SELECT q.id, q.name, q.channel,
           EXISTS(SELECT 1 FROM queue_connections qc WHERE qc.user_id = ?1 AND qc.queue_id = q.id),
           (SELECT count(*) FROM conversations c WHERE c.queue_id = q.id AND c.status = 'queued')
         FROM queues q JOIN user_teams ut ON ut.team_id = q.team_id
         WHERE ut.user_id = ?1 AND q.active = 1 ORDER BY q.name COLLATE NOCASE",
    )?;
    let queues = stmt
        .query_map([user.id], |r| {
            Ok(QueueInfo {
                id: r.get(0)?,
                name: r.get(1)?,
                channel: r.get(2)?,
                connected: r.get(3)?,
                waiting: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Home {
        presence: routing::presence(conn, user.id)?,
        offers,
        queued: queued_page(conn, user, None)?,
        queued_total,
        mine: mine_page(conn, user, None)?,
        mine_total,
        mine_unread,
        queues,
    })
}

/// The queues whose events `user` may receive (administrators: all).
pub fn visible_queues(conn: &Connection, user: &User) -> AppResult<Option<Vec<i64>>> {
    if user.is_admin() {
        return Ok(None);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT q.id FROM queues q JOIN user_teams ut ON ut.team_id = q.team_id WHERE ut.user_id = ?1",
    )?;
    let v = stmt.query_map([user.id], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(Some(v))
}
