//! Atendimentos: one row per conversation started in the period (newest
//! first, paged by id), with its contact, channel, queue, team, agents,
//! times, status and closing script; the totals come from the rollups.
//! An agent's own report lists the conversations they hold or held last.

use rusqlite::{Connection, params};

use super::{Ask, Cell, Col, Cursor, Paging, Report, Table, bounds, page_of};
use crate::domain::metrics::query;
use crate::error::AppResult;

/// One conversation of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Conversation (its protocol number).
    pub id: i64,
    /// Contact id.
    pub contact_id: i64,
    /// Contact name.
    pub contact: String,
    /// Phone or e-mail.
    pub address: String,
    /// Channel code.
    pub channel: String,
    /// Queue name.
    pub queue: String,
    /// Team name.
    pub team: String,
    /// Agents who had it, the current or last one first.
    pub agents: String,
    /// Started.
    pub created_at: i64,
    /// Waited in the queue in all, over re-queues and reopens (and the
    /// wait going on now).
    pub wait_secs: i64,
    /// The conversation's first response (from the later of queue entry
    /// and reopen to the first agent message).
    pub first_response: Option<i64>,
    /// Start to close (or to now while open).
    pub duration: i64,
    /// Status code.
    pub status: String,
    /// Closing reason.
    pub reason: Option<String>,
    /// Resolved (closing script).
    pub resolved: Option<bool>,
    /// Tags, comma separated.
    pub tags: String,
}

const SELECT: &str = "SELECT c.id, c.contact_id, coalesce(ct.name, ''),
       coalesce(nullif(ct.phone, ''), coalesce(ct.email, '')), c.channel, q.name, t.name,
       trim(coalesce(u.name, '') || coalesce((SELECT ', ' || group_concat(x.name, ', ') FROM (SELECT DISTINCT a.name
         FROM metric_facts f JOIN users a ON a.id = f.agent_id WHERE f.conversation_id = c.id AND f.kind = 'assigned'
           AND f.agent_id IS NOT coalesce(c.agent_id, 0)) x), ''), ', '),
       c.created_at,
       coalesce((SELECT sum(f.secs) FROM metric_facts f WHERE f.conversation_id = c.id AND f.kind = 'wait'), 0)
         + CASE WHEN c.waiting_since IS NOT NULL THEN max(?9 - c.waiting_since, 0) ELSE 0 END,
       (SELECT f.secs FROM metric_facts f WHERE f.conversation_id = c.id AND f.kind = 'first_response'
         ORDER BY f.id LIMIT 1),
       coalesce(c.closed_at, ?9) - c.created_at, c.status,
       (SELECT name FROM closing_reasons WHERE id = c.closing_reason_id), c.resolved,
       coalesce((SELECT group_concat(g.name, ', ') FROM conversation_tags ct2 JOIN tags g ON g.id = ct2.tag_id
         WHERE ct2.conversation_id = c.id), '')
     FROM conversations c JOIN contacts ct ON ct.id = c.contact_id JOIN queues q ON q.id = c.queue_id
     JOIN teams t ON t.id = q.team_id LEFT JOIN users u ON u.id = c.agent_id";

// ?1 start, ?2 end, ?3 team, ?4 queue, ?5 agent, ?6 channel, ?7 scope,
// ?8 cursor id, ?9 now, ?10 limit. `+c.created_at` keeps the planner on
// the id order (the period is also an id range, see `ids`).
const WHERE: &str = "+c.created_at >= ?1 AND +c.created_at < ?2 AND (?3 IS NULL OR q.team_id = ?3)
       AND (?4 IS NULL OR c.queue_id = ?4) AND (?5 IS NULL OR c.agent_id = ?5) AND (?6 IS NULL OR c.channel = ?6)
       AND (?7 IS NULL OR q.team_id IN (SELECT value FROM json_each(?7)))";

fn row(r: &rusqlite::Row) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        contact_id: r.get(1)?,
        contact: r.get(2)?,
        address: r.get(3)?,
        channel: r.get(4)?,
        queue: r.get(5)?,
        team: r.get(6)?,
        agents: r.get(7)?,
        created_at: r.get(8)?,
        wait_secs: r.get(9)?,
        first_response: r.get(10)?,
        duration: r.get(11)?,
        status: r.get(12)?,
        reason: r.get(13)?,
        resolved: r.get::<_, Option<i64>>(14)?.map(|v| v != 0),
        tags: r.get(15)?,
    })
}

/// The id range of the conversations started in [start, end).
fn ids(conn: &Connection, start: i64, end: i64) -> AppResult<(i64, i64)> {
    let lo: Option<i64> = conn
        .prepare_cached("SELECT min(id) FROM conversations WHERE created_at >= ?1 AND created_at < ?2")?
        .query_row([start, end], |r| r.get(0))?;
    let hi: Option<i64> = conn
        .prepare_cached("SELECT max(id) FROM conversations WHERE created_at >= ?1 AND created_at < ?2")?
        .query_row([start, end], |r| r.get(0))?;
    Ok((lo.unwrap_or(1), hi.unwrap_or(0)))
}

/// Up to `limit` rows of the period from `cursor` on (newest first, or
/// oldest first after an [`Cursor::After`]).
pub fn rows(conn: &Connection, ask: &Ask, cursor: Cursor, limit: usize) -> AppResult<Vec<Row>> {
    let (v, tz, p, f, now) = (&ask.viewer, &ask.tz, ask.period, &ask.filters, ask.now);
    let (start, end) = bounds(tz, p)?;
    let f = v.pin(f);
    let (lo, hi) = ids(conn, start, end)?;
    let (range, order, at) = match cursor {
        Cursor::First => ("c.id BETWEEN ?11 AND ?12", "DESC", 0),
        Cursor::Before(id) => ("c.id BETWEEN ?11 AND min(?12, ?8 - 1)", "DESC", id),
        Cursor::After(id) => ("c.id BETWEEN max(?11, ?8 + 1) AND ?12", "ASC", id),
    };
    let sql = format!("{SELECT} WHERE {range} AND {WHERE} ORDER BY c.id {order} LIMIT ?10");
    let v = conn
        .prepare_cached(&sql)?
        .query_map(
            params![start, end, f.team, f.queue, f.agent, f.channel, v.teams_json(), at, now, limit as i64, lo, hi],
            row,
        )?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// Headings, in the order of [`cells`].
pub fn columns() -> Vec<Col> {
    [
        "rep.c.number",
        "rep.c.contact",
        "rep.c.address",
        "ind.channel",
        "ind.queue",
        "ind.team",
        "rep.c.agents",
        "rep.c.start",
        "rep.c.waited",
        "ind.first_response",
        "rep.c.duration",
        "rep.c.status",
        "rep.c.reason",
        "rep.c.resolved",
        "rep.c.tags",
    ]
    .into_iter()
    .map(Col::Key)
    .collect()
}

/// A row's cells.
pub fn cells(r: &Row) -> Vec<Cell> {
    vec![
        Cell::Link(format!("#{}", r.id), format!("/atendimentos/{}", r.id)),
        Cell::Text(r.contact.clone()),
        Cell::Text(r.address.clone()),
        Cell::Key(channel_key(&r.channel)),
        Cell::Text(r.queue.clone()),
        Cell::Text(r.team.clone()),
        Cell::Text(r.agents.clone()),
        Cell::Time(Some(r.created_at)),
        Cell::Secs(Some(r.wait_secs as f64)),
        Cell::Secs(r.first_response.map(|s| s as f64)),
        Cell::Secs(Some(r.duration as f64)),
        Cell::Key(status_key(&r.status)),
        Cell::Text(r.reason.clone().unwrap_or_default()),
        Cell::YesNo(r.resolved),
    ]
    .into_iter()
    .chain([Cell::Text(r.tags.clone())])
    .collect()
}

/// The catalog key of a channel code.
pub fn channel_key(c: &str) -> &'static str {
    match c {
        "whatsapp" => "channel.whatsapp",
        "email" => "channel.email",
        _ => "channel.webchat",
    }
}

fn status_key(s: &str) -> &'static str {
    match s {
        "queued" => "status.conv.queued",
        "offered" => "status.conv.offered",
        "assigned" => "status.conv.assigned",
        "finished" => "status.conv.finished",
        _ => "status.conv.archived",
    }
}

/// The report page: a page of rows and the totals from the rollups
/// (conversations started; with an agent, those they took or started).
pub fn report(conn: &Connection, ask: &Ask) -> AppResult<(Report, Vec<Row>)> {
    let (v, p, f, cursor) = (&ask.viewer, ask.period, &ask.filters, ask.cursor);
    let rows = rows(conn, ask, cursor, super::PAGE + 1)?;
    let (rows, paging): (Vec<Row>, Paging) = page_of(rows, cursor, |r| r.id);
    let pinned = v.pin(f);
    let fig = query::figures(conn, &v.teams(), p, &pinned)?;
    let count = if pinned.agent.is_some() {
        fig.n("assigned") + fig.n("started_out")
    } else {
        fig.n("received") + fig.n("started_out")
    };
    let mut totals = vec![Cell::Key("rep.total"), Cell::Count(count)];
    totals.extend(std::iter::repeat_n(Cell::Text(String::new()), 6));
    totals.extend([
        Cell::Secs(fig.tme()),
        Cell::Secs(fig.mean("first_response")),
        Cell::Text(String::new()),
        Cell::Text(String::new()),
        Cell::Text(String::new()),
        Cell::Share(fig.rate("resolved", "scripted")),
        Cell::Text(String::new()),
    ]);
    let table = Table {
        caption: "rep.atendimentos",
        columns: columns(),
        rows: rows.iter().map(cells).collect(),
        totals: Some(totals),
    };
    Ok((Report { tables: vec![table], paging, note: Some("rep.c.note") }, rows))
}
