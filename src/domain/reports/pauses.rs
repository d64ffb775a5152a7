//! Pausas: per agent and reason the pauses started in the period — how
//! many, total and average time, how many passed their limit and by how
//! much — then each pause, newest first, paged. Supervisors see their
//! teams' agents.

use rusqlite::{Connection, params};

use super::{Ask, Cell, Col, Cursor, Report, Table, bounds, page_of};
use crate::error::AppResult;

// ?1 start, ?2 end, ?3 team, ?4 agent, ?5 scope.
const WHERE: &str = "p.started_at >= ?1 AND p.started_at < ?2
     AND (?3 IS NULL OR p.user_id IN (SELECT user_id FROM user_teams WHERE team_id = ?3))
     AND (?4 IS NULL OR p.user_id = ?4)
     AND (?5 IS NULL OR p.user_id IN (SELECT user_id FROM user_teams WHERE team_id IN (SELECT value FROM json_each(?5))))";

/// The report.
pub fn report(conn: &Connection, ask: &Ask) -> AppResult<Report> {
    let (v, tz, p, f, cursor, now) = (&ask.viewer, &ask.tz, ask.period, &ask.filters, ask.cursor, ask.now);
    let (a, b) = bounds(tz, p)?;
    let scope = v.teams_json();
    let sum_sql = format!(
        "SELECT u.name, p.reason_name, count(*), sum(coalesce(p.ended_at, ?6) - p.started_at),
           sum(p.exceeded_by IS NOT NULL AND p.exceeded_by > 0), coalesce(sum(p.exceeded_by), 0)
         FROM pauses p JOIN users u ON u.id = p.user_id WHERE {WHERE}
         GROUP BY p.user_id, p.reason_name ORDER BY u.name, p.reason_name"
    );
    let mut rows = Vec::new();
    let (mut n, mut total, mut over, mut excess) = (0i64, 0i64, 0i64, 0i64);
    let mut stmt = conn.prepare_cached(&sum_sql)?;
    let got = stmt.query_map(params![a, b, f.team, f.agent, scope, now], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, i64>(5)?,
        ))
    })?;
    for g in got {
        let (agent, reason, count, secs, exceeded, by) = g?;
        n += count;
        total += secs;
        over += exceeded;
        excess += by;
        rows.push(summary(Cell::Text(agent), Cell::Text(reason), count, secs, exceeded, by));
    }
    let totals = summary(Cell::Key("rep.total"), Cell::Text(String::new()), n, total, over, excess);
    let sums = Table { caption: "rep.pausas", columns: summary_columns(), rows, totals: Some(totals) };

    let (range, order, at) = match cursor {
        Cursor::First => ("1", "DESC", 0),
        Cursor::Before(id) => ("p.id < ?7", "DESC", id),
        Cursor::After(id) => ("p.id > ?7", "ASC", id),
    };
    let list_sql = format!(
        "SELECT p.id, u.name, p.reason_name, p.started_at, p.ended_at, coalesce(p.ended_at, ?6) - p.started_at,
           p.limit_secs, p.exceeded_by, p.end_reason
         FROM pauses p JOIN users u ON u.id = p.user_id WHERE {WHERE} AND {range}
         ORDER BY p.id {order} LIMIT ?8"
    );
    type Line = (i64, String, String, i64, Option<i64>, i64, i64, Option<i64>, Option<String>);
    let lines: Vec<Line> = conn
        .prepare_cached(&list_sql)?
        .query_map(params![a, b, f.team, f.agent, v.teams_json(), now, at, (super::PAGE + 1) as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
        })?
        .collect::<Result<_, _>>()?;
    let (lines, paging) = page_of(lines, cursor, |l| l.0);
    let list = Table {
        caption: "rep.p.each",
        columns: [
            "ind.agent",
            "pause.reason",
            "pause.started",
            "pause.ended",
            "rep.p.duration",
            "pause.limit",
            "pause.exceeded_by",
            "pause.ended_how",
        ]
        .into_iter()
        .map(Col::Key)
        .collect(),
        rows: lines
            .into_iter()
            .map(|(_, agent, reason, start, end, secs, limit, by, how)| {
                vec![
                    Cell::Text(agent),
                    Cell::Text(reason),
                    Cell::Time(Some(start)),
                    Cell::Time(end),
                    Cell::Secs(Some(secs as f64)),
                    Cell::Secs(Some(limit as f64)),
                    Cell::Secs(by.filter(|b| *b > 0).map(|b| b as f64)),
                    Cell::Key(end_key(how.as_deref())),
                ]
            })
            .collect(),
        totals: None,
    };
    Ok(Report { tables: vec![sums, list], paging, note: None })
}

fn end_key(how: Option<&str>) -> &'static str {
    match how {
        Some("agent") => "pause.ended.agent",
        Some("supervisor") => "pause.ended.supervisor",
        Some("limit") => "pause.ended.limit",
        Some("logout") => "pause.ended.logout",
        _ => "pause.running",
    }
}

fn summary(agent: Cell, reason: Cell, n: i64, secs: i64, over: i64, by: i64) -> Vec<Cell> {
    vec![
        agent,
        reason,
        Cell::Count(n),
        Cell::Secs(Some(secs as f64)),
        Cell::Secs((n > 0).then(|| secs as f64 / n as f64)),
        Cell::Count(over),
        Cell::Secs((over > 0).then_some(by as f64)),
    ]
}

fn summary_columns() -> Vec<Col> {
    ["ind.agent", "pause.reason", "rep.p.count", "rep.p.total", "rep.p.mean", "rep.p.over", "rep.p.over_by"]
        .into_iter()
        .map(Col::Key)
        .collect()
}
