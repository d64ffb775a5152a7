//! What the agent home lists: queues, waiting and assigned pages by keyset.

use rusqlite::{Connection, OptionalExtension, params};

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
    /// Finalizadas recentes: my conversations closed in the last [`RECENT_DAYS`] days.
    pub closed: Page,
    /// My queues.
    pub queues: Vec<QueueInfo>,
    /// What the lists are narrowed to.
    pub filter: Filter,
    /// Queues the filter offers (id, name): those I may see.
    pub filter_queues: Vec<(i64, String)>,
    /// Conversation tags the filter offers (id, name).
    pub filter_tags: Vec<(i64, String)>,
}

/// Rows per page of a desk list.
pub const PAGE_SIZE: i64 = 25;

/// Rows of "Na fila" and "Finalizadas recentes" on the home, under "Minhas
/// conversas" (their whole lists are a link away).
pub const HOME_ROWS: i64 = 10;

/// How far back "Finalizadas recentes" reaches on the home.
pub const RECENT_DAYS: i64 = 7;

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

/// What the workspace's lists are narrowed to (all `None`: everything).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this queue.
    pub queue: Option<i64>,
    /// Only this channel code (webchat, whatsapp, email).
    pub channel: Option<String>,
    /// Only conversations with this tag.
    pub tag: Option<i64>,
}

impl Filter {
    /// Whether anything narrows the lists.
    pub fn is_set(&self) -> bool {
        self.queue.is_some() || self.channel.is_some() || self.tag.is_some()
    }

    /// The query-string form (`fila=…&canal=…&etiqueta=…`), empty when unset.
    pub fn query(&self) -> String {
        let mut parts = vec![];
        if let Some(q) = self.queue {
            parts.push(format!("fila={q}"));
        }
        if let Some(c) = &self.channel {
            parts.push(format!("canal={c}"));
        }
        if let Some(t) = self.tag {
            parts.push(format!("etiqueta={t}"));
        }
        parts.join("&")
    }
}

/// The filter's SQL, bound at ?10, ?11, ?12 (see [`page`]).
const FILTER_SQL: &str = "AND (?10 IS NULL OR c.queue_id = ?10) AND (?11 IS NULL OR c.channel = ?11)
    AND (?12 IS NULL OR EXISTS(SELECT 1 FROM conversation_tags ct WHERE ct.conversation_id = c.id AND ct.tag_id = ?12))";

/// Reads `cursor` as written by [`cursor_param`]: "time.id".
pub fn parse_cursor(s: &str) -> Option<Cursor> {
    let (a, b) = s.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The query-string form of a cursor.
pub fn cursor_param(c: Cursor) -> String {
    format!("{}.{}", c.0, c.1)
}

/// Runs a list query whose own parameters are ?1..?5, whose filter is
/// ?10..?12 and whose LIMIT is ?9, and cuts a page of `size` rows.
pub(super) fn page(
    conn: &Connection,
    sql: &str,
    p: &[&dyn rusqlite::ToSql],
    f: &Filter,
    key: fn(&Conversation) -> i64,
    size: i64,
) -> AppResult<Page> {
    let mut stmt = conn.prepare_cached(sql)?;
    stmt.raw_bind_parameter(9, size + 1)?;
    for (i, v) in p.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, v)?;
    }
    stmt.raw_bind_parameter(10, f.queue)?;
    stmt.raw_bind_parameter(11, f.channel.as_deref())?;
    stmt.raw_bind_parameter(12, f.tag)?;
    let mut rows = vec![];
    let mut q = stmt.raw_query();
    while let Some(r) = q.next()? {
        rows.push(conv_from_row(r)?);
    }
    let next = if rows.len() as i64 > size {
        rows.truncate(size as usize);
        rows.last().map(|c| (key(c), c.id))
    } else {
        None
    };
    Ok(Page { rows, next })
}

/// Queued conversations of `user`'s queues (administrators: all), oldest
/// first, from after `after`. Costs the same on any page (keyset).
pub fn queued_page(conn: &Connection, user: &User, after: Option<Cursor>, f: &Filter, size: i64) -> AppResult<Page> {
    let (t, id) = after.unwrap_or((i64::MIN, i64::MIN));
    page(
        conn,
        &format!(
            "{CONV_SELECT} WHERE c.status = 'queued' AND (c.queued_at, c.id) > (?3, ?4)
               AND (?1 OR q.team_id IN (SELECT team_id FROM user_teams WHERE user_id = ?2)) {FILTER_SQL}
             ORDER BY c.queued_at, c.id LIMIT ?9"
        ),
        &[&user.is_admin(), &user.id, &t, &id],
        f,
        |c| c.queued_at,
        size,
    )
}

/// Conversations assigned to `user`, newest activity first, from after `after`.
pub fn mine_page(conn: &Connection, user: &User, after: Option<Cursor>, f: &Filter, size: i64) -> AppResult<Page> {
    let (t, id) = after.unwrap_or((i64::MAX, i64::MAX));
    page(
        conn,
        &format!(
            "{CONV_SELECT} WHERE c.agent_id = ?1 AND c.status = 'assigned' AND (c.last_activity_at, c.id) < (?2, ?3)
             {FILTER_SQL} ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?9"
        ),
        &[&user.id, &t, &id],
        f,
        |c| c.last_activity_at,
        size,
    )
}

/// Conversations `user` held that are finished or archived, closed since
/// `since` (unix), newest first, from after `after`.
pub fn closed_page(
    conn: &Connection,
    user: &User,
    since: i64,
    after: Option<Cursor>,
    f: &Filter,
    size: i64,
) -> AppResult<Page> {
    let (t, id) = after.unwrap_or((i64::MAX, i64::MAX));
    page(
        conn,
        &format!(
            "{CONV_SELECT} WHERE c.agent_id = ?1 AND c.status IN ('finished', 'archived') AND c.closed_at >= ?4
               AND (c.closed_at, c.id) < (?2, ?3) {FILTER_SQL}
             ORDER BY c.closed_at DESC, c.id DESC LIMIT ?9"
        ),
        &[&user.id, &t, &id, &since],
        f,
        |c| c.closed_at.unwrap_or(0),
        size,
    )
}

/// (assigned, unread) conversations of an agent, from the counters kept at
/// write time.
pub fn agent_counts(conn: &Connection, agent: i64) -> AppResult<(i64, i64)> {
    Ok(conn
        .prepare_cached("SELECT assigned, unread FROM agent_counters WHERE agent_id = ?1")?
        .query_row([agent], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, 0)))
}

/// Loads the agent home (the workspace's lists), narrowed by `f`. Every part
/// costs the same however many conversations the agent holds: counters are
/// kept at write time and each list is one keyset page.
pub fn home(conn: &Connection, user: &User, now: i64, f: &Filter) -> AppResult<Home> {
    let offers = conn
        .prepare_cached(&format!("{CONV_SELECT} WHERE c.agent_id = ?1 AND c.status = 'offered' ORDER BY c.queued_at"))?
        .query_map([user.id], conv_from_row)?
        .collect::<Result<_, _>>()?;
    let (mine_total, mine_unread) = agent_counts(conn, user.id)?;
    let queued_total: i64 = conn
        .prepare_cached(
            "SELECT coalesce(sum(qc.queued), 0) FROM queue_counters qc JOIN queues q ON q.id = qc.queue_id
             WHERE (?1 OR q.team_id IN (SELECT team_id FROM user_teams WHERE user_id = ?2))",
        )?
        .query_row(params![user.is_admin(), user.id], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(
        "SELECT q.id, q.name, q.channel,
           EXISTS(SELECT 1 FROM queue_connections qc WHERE qc.user_id = ?1 AND qc.queue_id = q.id),
           coalesce((SELECT queued FROM queue_counters qc WHERE qc.queue_id = q.id), 0)
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
    let filter_queues = conn
        .prepare_cached(
            "SELECT q.id, q.name FROM queues q
             WHERE q.active = 1 AND (?1 OR q.team_id IN (SELECT team_id FROM user_teams WHERE user_id = ?2))
             ORDER BY q.name COLLATE NOCASE",
        )?
        .query_map(params![user.is_admin(), user.id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(Home {
        presence: routing::presence(conn, user.id)?,
        offers,
        queued: queued_page(conn, user, None, f, HOME_ROWS)?,
        queued_total,
        mine: mine_page(conn, user, None, f, PAGE_SIZE)?,
        mine_total,
        mine_unread,
        closed: closed_page(conn, user, now - RECENT_DAYS * 86_400, None, f, HOME_ROWS)?,
        queues,
        filter: f.clone(),
        filter_queues,
        filter_tags: crate::domain::contacts::tags(conn, "conversation")?,
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
