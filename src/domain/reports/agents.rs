//! Agentes: per agent in scope the conversations they took, TME, first
//! response, TMA, resolution rate, offers declined and let expire (from the
//! rollups), and the time they spent Pronto, Não pronto and in pause by
//! reason in the period (from the presence spans and the pauses).

use std::collections::HashMap;

use rusqlite::{Connection, params};

use super::{Ask, Cell, Col, Report, Table, bounds};
use crate::domain::metrics::query::{self, By, Figures};
use crate::error::AppResult;

/// Seconds an agent spent in each presence within [a, b).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Presence {
    /// Pronto.
    pub ready: i64,
    /// Não pronto.
    pub not_ready: i64,
    /// In pause, per reason (reason, seconds), longest first.
    pub paused: Vec<(String, i64)>,
}

impl Presence {
    /// All pause time.
    pub fn paused_total(&self) -> i64 {
        self.paused.iter().map(|(_, s)| s).sum()
    }
}

/// The presence of `agent` over [a, b), counting the current stretch up
/// to `now`.
pub fn presence(conn: &Connection, agent: i64, a: i64, b: i64, now: i64) -> AppResult<Presence> {
    let mut by: HashMap<String, i64> = HashMap::new();
    let mut spans = conn.prepare_cached(
        "SELECT status, sum(min(ended_at, ?3) - max(started_at, ?2)) FROM presence_spans
         WHERE user_id = ?1 AND ended_at > ?2 AND started_at < ?3 GROUP BY status",
    )?;
    for r in spans.query_map(params![agent, a, b], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (s, secs) = r?;
        *by.entry(s).or_default() += secs;
    }
    let current: Option<(String, i64)> = conn
        .prepare_cached("SELECT status, since FROM agent_presence WHERE user_id = ?1")?
        .query_map([agent], |r| Ok((r.get(0)?, r.get(1)?)))?
        .next()
        .transpose()?;
    if let Some((s, since)) = current {
        let secs = now.min(b) - since.max(a);
        if secs > 0 {
            *by.entry(s).or_default() += secs;
        }
    }
    let mut paused: Vec<(String, i64)> = conn
        .prepare_cached(
            "SELECT reason_name, sum(min(coalesce(ended_at, ?4), ?3) - max(started_at, ?2)) FROM pauses
             WHERE user_id = ?1 AND coalesce(ended_at, ?4) > ?2 AND started_at < ?3
             GROUP BY reason_name HAVING sum(min(coalesce(ended_at, ?4), ?3) - max(started_at, ?2)) > 0",
        )?
        .query_map(params![agent, a, b, now], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    paused.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
    Ok(Presence {
        ready: by.get("ready").copied().unwrap_or(0),
        not_ready: by.get("not_ready").copied().unwrap_or(0),
        paused,
    })
}

/// The report: one row per agent in scope (narrowed by the filters), and
/// the totals.
pub fn report(conn: &Connection, ask: &Ask) -> AppResult<Report> {
    let (v, choices, tz, p, f, now) = (&ask.viewer, &ask.choices, &ask.tz, ask.period, &ask.filters, ask.now);
    let (a, b) = bounds(tz, p)?;
    let teams = v.teams();
    let figs: HashMap<i64, Figures> =
        query::grouped(conn, &teams, p, f, By::Agent)?.into_iter().map(|(id, fig, _)| (id, fig)).collect();
    let in_team: Vec<i64> = match f.team {
        Some(t) => conn
            .prepare_cached("SELECT user_id FROM user_teams WHERE team_id = ?1")?
            .query_map([t], |r| r.get(0))?
            .collect::<Result<_, _>>()?,
        None => choices.agents.iter().map(|(id, _)| *id).collect(),
    };
    let empty = Figures::default();
    let mut rows = Vec::new();
    let (mut ready, mut not_ready, mut paused) = (0, 0, 0);
    for (id, name) in &choices.agents {
        if f.agent.is_some_and(|x| x != *id) || !in_team.contains(id) {
            continue;
        }
        let fig = figs.get(id).unwrap_or(&empty);
        let pr = presence(conn, *id, a, b, now)?;
        ready += pr.ready;
        not_ready += pr.not_ready;
        paused += pr.paused_total();
        let reasons = pr.paused.clone();
        rows.push(cells(name.clone(), fig, Some(&pr), reasons));
    }
    let all = query::figures(conn, &teams, p, f)?;
    let mut totals = cells(String::new(), &all, None, Vec::new());
    totals[0] = Cell::Key("rep.total");
    totals[9] = Cell::Secs(Some(ready as f64));
    totals[10] = Cell::Secs(Some(not_ready as f64));
    totals[11] = Cell::Secs(Some(paused as f64));
    let table = Table { caption: "rep.agentes", columns: columns(), rows, totals: Some(totals) };
    Ok(Report { tables: vec![table], paging: Default::default(), note: Some("rep.a.note") })
}

fn cells(name: String, f: &Figures, pr: Option<&Presence>, reasons: Vec<(String, i64)>) -> Vec<Cell> {
    vec![
        Cell::Text(name),
        Cell::Count(f.n("assigned")),
        Cell::Count(f.n("finished")),
        Cell::Secs(f.tme()),
        Cell::Secs(f.mean("first_response")),
        Cell::Secs(f.mean("handle")),
        Cell::Share(f.rate("resolved", "scripted")),
        Cell::Count(f.n("declined")),
        Cell::Count(f.n("expired")),
        Cell::Secs(pr.map(|p| p.ready as f64)),
        Cell::Secs(pr.map(|p| p.not_ready as f64)),
        Cell::Secs(pr.map(|p| p.paused_total() as f64)),
        Cell::Durations(reasons),
    ]
}

/// Headings, in the order of the cells.
pub fn columns() -> Vec<Col> {
    [
        "ind.agent",
        "rep.a.taken",
        "ind.finished",
        "ind.tme",
        "ind.first_response",
        "ind.tma",
        "ind.resolution",
        "rep.a.declined",
        "rep.a.expired",
        "rep.a.ready",
        "rep.a.not_ready",
        "rep.a.paused",
        "rep.a.by_reason",
    ]
    .into_iter()
    .map(Col::Key)
    .collect()
}
