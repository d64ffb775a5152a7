//! Filas: per queue in scope the volume, waiting now, abandonment (both
//! kinds), TME and longest wait of the period (rollups), and the
//! conversations received per local hour of the day.

use std::collections::HashMap;

use rusqlite::Connection;

use super::{Ask, Cell, Col, Report, Table};
use crate::domain::metrics::query::{self, By, Choices, Figures, Filters};
use crate::error::AppResult;

/// Conversations waiting now per queue (queued or offered).
fn waiting_now(conn: &Connection) -> AppResult<HashMap<i64, i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT queue_id, count(*) FROM conversations WHERE status IN ('queued', 'offered') GROUP BY queue_id",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?)
}

/// The queues in scope with their team and channel, narrowed by the filters.
fn queues(conn: &Connection, choices: &Choices, f: &Filters) -> AppResult<Vec<(i64, String)>> {
    let mut v = Vec::new();
    let mut q = conn.prepare_cached("SELECT team_id, channel FROM queues WHERE id = ?1")?;
    for (id, name) in &choices.queues {
        let (team, channel): (i64, String) = q.query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if f.queue.is_some_and(|x| x != *id)
            || f.team.is_some_and(|t| t != team)
            || f.channel.as_deref().is_some_and(|c| c != channel)
        {
            continue;
        }
        v.push((*id, name.clone()));
    }
    Ok(v)
}

/// The report: the queue table and the table by hour of the day.
pub fn report(conn: &Connection, ask: &Ask) -> AppResult<Report> {
    let (v, choices, p, f) = (&ask.viewer, &ask.choices, ask.period, &ask.filters);
    let teams = v.teams();
    let figs: HashMap<i64, (Figures, i64)> =
        query::grouped(conn, &teams, p, f, By::Queue)?.into_iter().map(|(id, fig, max)| (id, (fig, max))).collect();
    let waiting = waiting_now(conn)?;
    let list = queues(conn, choices, f)?;
    let empty = (Figures::default(), 0);
    let mut rows = Vec::new();
    let (mut now_total, mut max_total) = (0, 0);
    for (id, name) in &list {
        let (fig, max) = figs.get(id).unwrap_or(&empty);
        let w = waiting.get(id).copied().unwrap_or(0);
        now_total += w;
        max_total = max_total.max(*max);
        rows.push(cells(Cell::Text(name.clone()), fig, w, *max));
    }
    let all = query::figures(conn, &teams, p, f)?;
    let totals = cells(Cell::Key("rep.total"), &all, now_total, max_total);
    let main = Table { caption: "rep.filas", columns: columns(), rows, totals: Some(totals) };

    let mut by_hour: HashMap<i64, [i64; 24]> = HashMap::new();
    for h in query::hours(conn, &teams, p, f, true)? {
        if let Some(slot) = by_hour.entry(h.queue).or_insert([0; 24]).get_mut(h.hour.clamp(0, 23) as usize) {
            *slot += h.received;
        }
    }
    let mut hour_cols = vec![Col::Key("ind.queue")];
    hour_cols.extend((0..24).map(|h| Col::Text(format!("{h:02}h"))));
    let mut sum = [0i64; 24];
    let hour_rows = list
        .iter()
        .map(|(id, name)| {
            let hours = by_hour.get(id).copied().unwrap_or([0; 24]);
            for (s, h) in sum.iter_mut().zip(hours) {
                *s += h;
            }
            std::iter::once(Cell::Text(name.clone())).chain(hours.into_iter().map(Cell::Count)).collect()
        })
        .collect();
    let hour_totals = std::iter::once(Cell::Key("rep.total")).chain(sum.into_iter().map(Cell::Count)).collect();
    let hours = Table { caption: "rep.q.by_hour", columns: hour_cols, rows: hour_rows, totals: Some(hour_totals) };
    Ok(Report { tables: vec![main, hours], paging: Default::default(), note: Some("rep.q.note") })
}

fn cells(first: Cell, f: &Figures, waiting: i64, max: i64) -> Vec<Cell> {
    vec![
        first,
        Cell::Count(f.n("received")),
        Cell::Count(f.n("assigned")),
        Cell::Count(waiting),
        Cell::Count(f.n("lost_queue")),
        Cell::Count(f.n("abandoned")),
        Cell::Secs(f.tme()),
        Cell::Secs((f.n("wait") > 0).then_some(max as f64)),
        Cell::Secs(f.mean("handle")),
    ]
}

/// Headings, in the order of the cells.
pub fn columns() -> Vec<Col> {
    [
        "ind.queue",
        "ind.received",
        "rep.a.taken",
        "rep.q.waiting_now",
        "ind.lost_queue",
        "ind.abandoned",
        "ind.tme",
        "rep.q.longest",
        "ind.tma",
    ]
    .into_iter()
    .map(Col::Key)
    .collect()
}
