//! Reaberturas agendadas: per agent who scheduled them, the reopenings
//! scheduled in the period, done, skipped (the contact already had another
//! open conversation in the queue), canceled, and still pending now; then
//! each of those timeline lines, newest first, paged. Read from the
//! timeline lines through their own index, never a scan of the messages.

use std::collections::BTreeMap;

use rusqlite::{Connection, params};

use super::{Ask, Cell, Col, Cursor, Report, Table, bounds, page_of};
use crate::error::AppResult;

/// The timeline lines this report reads, in the partial index's terms.
const LINES: &str = "m.kind = 'system'
     AND m.body IN ('ev.reopen_scheduled', 'ev.reopen_canceled', 'ev.reopened_scheduled', 'ev.reopen_skipped')";

// ?1 start, ?2 end, ?3 team, ?4 queue, ?5 agent, ?6 channel, ?7 scope.
const WHERE: &str = "m.created_at >= ?1 AND m.created_at < ?2 AND (?3 IS NULL OR q.team_id = ?3)
     AND (?4 IS NULL OR c.queue_id = ?4) AND (?6 IS NULL OR c.channel = ?6)
     AND (?7 IS NULL OR q.team_id IN (SELECT value FROM json_each(?7)))";

/// Who scheduled the reopening a line is about: its author, or for the
/// scheduler's outcome the author of the latest schedule before it.
const WHO: &str = "CASE WHEN m.body IN ('ev.reopen_scheduled', 'ev.reopen_canceled') THEN m.author_id
       ELSE (SELECT s.author_id FROM messages s WHERE s.conversation_id = m.conversation_id AND s.kind = 'system'
         AND s.body = 'ev.reopen_scheduled' AND s.id < m.id ORDER BY s.id DESC LIMIT 1) END";

/// The report.
pub fn report(conn: &Connection, ask: &Ask) -> AppResult<Report> {
    let (v, tz, p, f, cursor) = (&ask.viewer, &ask.tz, ask.period, &ask.filters, ask.cursor);
    let (a, b) = bounds(tz, p)?;
    let scope = v.teams_json();
    let sql = format!(
        "SELECT who, coalesce(u.name, ''), body, n FROM (SELECT {WHO} AS who, m.body AS body, count(*) AS n
           FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN queues q ON q.id = c.queue_id
           WHERE {LINES} AND {WHERE} GROUP BY 1, 2) x LEFT JOIN users u ON u.id = x.who
         WHERE ?5 IS NULL OR x.who = ?5"
    );
    // agent → [scheduled, done, skipped, canceled, pending]
    let mut by: BTreeMap<(String, i64), [i64; 5]> = BTreeMap::new();
    let mut stmt = conn.prepare_cached(&sql)?;
    let got = stmt.query_map(params![a, b, f.team, f.queue, f.agent, f.channel, scope], |r| {
        Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
    })?;
    for g in got {
        let (who, name, body, n) = g?;
        let slot = match body.as_str() {
            "ev.reopen_scheduled" => 0,
            "ev.reopened_scheduled" => 1,
            "ev.reopen_skipped" => 2,
            _ => 3,
        };
        by.entry((name, who.unwrap_or(0))).or_insert([0; 5])[slot] += n;
    }
    let pending_sql = "SELECT c.reopen_agent_id, coalesce(u.name, ''), count(*) FROM conversations c
         JOIN queues q ON q.id = c.queue_id LEFT JOIN users u ON u.id = c.reopen_agent_id
         WHERE c.reopen_at IS NOT NULL AND (?1 IS NULL OR q.team_id = ?1) AND (?2 IS NULL OR c.queue_id = ?2)
           AND (?3 IS NULL OR c.reopen_agent_id = ?3) AND (?4 IS NULL OR c.channel = ?4)
           AND (?5 IS NULL OR q.team_id IN (SELECT value FROM json_each(?5)))
         GROUP BY c.reopen_agent_id";
    let mut stmt = conn.prepare_cached(pending_sql)?;
    let got = stmt.query_map(params![f.team, f.queue, f.agent, f.channel, v.teams_json()], |r| {
        Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
    })?;
    for g in got {
        let (who, name, n) = g?;
        by.entry((name, who.unwrap_or(0))).or_insert([0; 5])[4] += n;
    }
    let mut sum = [0i64; 5];
    let rows = by
        .iter()
        .map(|((name, _), counts)| {
            for (s, c) in sum.iter_mut().zip(counts) {
                *s += c;
            }
            std::iter::once(Cell::Text(name.clone())).chain(counts.iter().map(|c| Cell::Count(*c))).collect()
        })
        .collect();
    let totals = std::iter::once(Cell::Key("rep.total")).chain(sum.iter().map(|c| Cell::Count(*c))).collect();
    let columns = ["ind.agent", "rep.r.scheduled", "rep.r.done", "rep.r.skipped", "rep.r.canceled", "rep.r.pending"]
        .into_iter()
        .map(Col::Key)
        .collect();
    let sums = Table { caption: "rep.reaberturas", columns, rows, totals: Some(totals) };

    let (range, order, at) = match cursor {
        Cursor::First => ("1", "DESC", 0),
        Cursor::Before(id) => ("m.id < ?8", "DESC", id),
        Cursor::After(id) => ("m.id > ?8", "ASC", id),
    };
    let list_sql = format!(
        "SELECT m.id, m.conversation_id, coalesce(ct.name, ''), m.body, m.created_at, coalesce(u.name, '')
         FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN queues q ON q.id = c.queue_id
         JOIN contacts ct ON ct.id = c.contact_id LEFT JOIN users u ON u.id = {WHO}
         WHERE {LINES} AND {WHERE} AND (?5 IS NULL OR {WHO} = ?5) AND {range}
         ORDER BY m.id {order} LIMIT ?9"
    );
    type Line = (i64, i64, String, String, i64, String);
    let lines: Vec<Line> = conn
        .prepare_cached(&list_sql)?
        .query_map(
            params![a, b, f.team, f.queue, f.agent, f.channel, v.teams_json(), at, (super::PAGE + 1) as i64],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )?
        .collect::<Result<_, _>>()?;
    let (lines, paging) = page_of(lines, cursor, |l| l.0);
    let list = Table {
        caption: "rep.r.each",
        columns: ["rep.c.number", "rep.c.contact", "rep.r.what", "rep.r.when", "ind.agent"]
            .into_iter()
            .map(Col::Key)
            .collect(),
        rows: lines
            .into_iter()
            .map(|(_, conv, contact, body, at, agent)| {
                vec![
                    Cell::Link(format!("#{conv}"), format!("/atendimentos/{conv}")),
                    Cell::Text(contact),
                    Cell::Key(what_key(&body)),
                    Cell::Time(Some(at)),
                    Cell::Text(agent),
                ]
            })
            .collect(),
        totals: None,
    };
    Ok(Report { tables: vec![sums, list], paging, note: Some("rep.r.note") })
}

fn what_key(body: &str) -> &'static str {
    match body {
        "ev.reopen_scheduled" => "ev.reopen_scheduled",
        "ev.reopened_scheduled" => "ev.reopened_scheduled",
        "ev.reopen_skipped" => "ev.reopen_skipped",
        _ => "ev.reopen_canceled",
    }
}
