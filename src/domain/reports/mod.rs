//! Relatórios (issue 14, seed 004): five reports, each a [`Table`] the web
//! layer shows, pages and exports the same way. They read the rollups
//! (`metric_days`, `metric_hours`), the conversations' own metric columns,
//! the pauses, the presence spans and the scheduled-reopening timeline
//! lines — never a scan of all messages.
//!
//! Who sees what ([`Viewer`]): admins everything; supervisors their teams;
//! agents only the Atendimentos report, of their own conversations.

pub mod agents;
pub mod conversations;
pub mod pauses;
pub mod queues;
pub mod reopens;

use crate::domain::metrics::query::{Choices, Filters, Period, date_of};
use crate::domain::users::{Role, User};
use crate::error::{AppError, AppResult};

/// The reports, by their address (`/relatorios/<name>`).
pub const REPORTS: [&str; 5] = ["agentes", "atendimentos", "filas", "pausas", "reaberturas"];

/// Whose data a report covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// Everything (admins).
    All,
    /// These teams (a supervisor's).
    Teams(Vec<i64>),
    /// One agent's own conversations.
    Own(i64),
}

impl Viewer {
    /// Who `user` is for `report`; an unknown report, or one an agent may
    /// not read, does not exist for them.
    pub fn of(user: &User, report: &str) -> AppResult<Viewer> {
        if !REPORTS.contains(&report) {
            return Err(AppError::NotFound);
        }
        match user.role {
            Role::Admin => Ok(Viewer::All),
            Role::Supervisor => Ok(Viewer::Teams(user.team_ids.clone())),
            Role::Agent if report == "atendimentos" => Ok(Viewer::Own(user.id)),
            Role::Agent => Err(AppError::NotFound),
        }
    }

    /// The teams in scope as the metrics read them (None: all). An agent's
    /// own report is narrowed by agent instead.
    pub fn teams(&self) -> Option<Vec<i64>> {
        match self {
            Viewer::Teams(t) => Some(t.clone()),
            Viewer::All | Viewer::Own(_) => None,
        }
    }

    /// The teams as a JSON array for `json_each` (None: all).
    pub fn teams_json(&self) -> Option<String> {
        self.teams().map(|t| serde_json::to_string(&t).unwrap_or_else(|_| "[]".into()))
    }

    /// The agent whose own conversations these are.
    pub fn own(&self) -> Option<i64> {
        match self {
            Viewer::Own(id) => Some(*id),
            _ => None,
        }
    }

    /// The filters with an agent's own report pinned to them.
    pub fn pin(&self, f: &Filters) -> Filters {
        let mut f = f.clone();
        if let Some(me) = self.own() {
            f.agent = Some(me);
        }
        f
    }

    /// What the filters may name: an agent sees their own teams' queues
    /// and only themself.
    pub fn narrow(&self, mut c: Choices, me: &User) -> Choices {
        if let Viewer::Own(id) = self {
            c.teams.retain(|(t, _)| me.team_ids.contains(t));
            c.agents.retain(|(a, _)| a == id);
        }
        c
    }
}

/// A column heading: a catalog key, or text (an hour "08h").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Col {
    /// Catalog key.
    Key(&'static str),
    /// Literal text.
    Text(String),
}

/// One cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Text as is.
    Text(String),
    /// A catalog key to translate.
    Key(&'static str),
    /// A count.
    Count(i64),
    /// A duration in seconds (None: nothing to measure).
    Secs(Option<f64>),
    /// A share 0..1 (None: nothing to divide by).
    Share(Option<f64>),
    /// An instant (None: not yet).
    Time(Option<i64>),
    /// Text linking somewhere in the product.
    Link(String, String),
    /// Yes / no / nothing.
    YesNo(Option<bool>),
    /// Labelled durations ("Almoço: 1 h 02 min · Café: 12 min").
    Durations(Vec<(String, i64)>),
}

/// A report's table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// Caption key.
    pub caption: &'static str,
    /// Headings.
    pub columns: Vec<Col>,
    /// Rows.
    pub rows: Vec<Vec<Cell>>,
    /// The totals row, if the table has one.
    pub totals: Option<Vec<Cell>>,
}

/// Where a paged table goes on: the oldest id shown (for the next, older
/// page) and the newest (for the previous one), when there is such a page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Paging {
    /// Older rows exist below this id.
    pub older: Option<i64>,
    /// Newer rows exist above this id.
    pub newer: Option<i64>,
}

/// Which page of a paged table (keyset on the row id, newest first).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Cursor {
    /// The newest rows.
    #[default]
    First,
    /// Rows older than this id.
    Before(i64),
    /// Rows newer than this id.
    After(i64),
}

/// Rows per page.
pub const PAGE: usize = 50;

/// What a report is asked: by whom, the period and filters, which page, and
/// the business time zone and instant it is read in.
#[derive(Clone, Debug)]
pub struct Ask {
    /// Whose data.
    pub viewer: Viewer,
    /// What the filters may name (the teams, queues and agents in scope).
    pub choices: Choices,
    /// The business time zone.
    pub tz: jiff::tz::TimeZone,
    /// Business days covered.
    pub period: Period,
    /// Filters (checked against `choices`).
    pub filters: Filters,
    /// Which page of a paged table.
    pub cursor: Cursor,
    /// Now (the current presence, pause or wait counts up to it).
    pub now: i64,
}

/// A report: its tables and, for a paged one, where it goes on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Tables in order.
    pub tables: Vec<Table>,
    /// Paging of the last table.
    pub paging: Paging,
    /// A note key under the tables, if any.
    pub note: Option<&'static str>,
}

/// The instants a period covers in the business time zone: [start, end).
pub fn bounds(tz: &jiff::tz::TimeZone, p: Period) -> AppResult<(i64, i64)> {
    let start = |day: i64| -> AppResult<i64> {
        let d = date_of(day).ok_or(AppError::BadRequest("ind.bad_date"))?;
        Ok(d.to_zoned(tz.clone()).map_err(AppError::internal)?.timestamp().as_second())
    };
    let end_day = date_of(p.to).and_then(|d| d.tomorrow().ok()).ok_or(AppError::BadRequest("ind.bad_date"))?;
    Ok((start(p.from)?, start(crate::domain::metrics::query::day_of(end_day))?))
}

/// Keeps at most [`PAGE`] rows of a keyset read that asked one more, in
/// newest-first order, and says where paging goes on. `id` reads a row's
/// id; rows read for [`Cursor::After`] come oldest first.
pub fn page_of<T>(mut rows: Vec<T>, cursor: Cursor, id: impl Fn(&T) -> i64) -> (Vec<T>, Paging) {
    let more = rows.len() > PAGE;
    rows.truncate(PAGE);
    if matches!(cursor, Cursor::After(_)) {
        rows.reverse();
    }
    let (first, last) = (rows.first().map(&id), rows.last().map(&id));
    let paging = match cursor {
        Cursor::First => Paging { older: if more { last } else { None }, newer: None },
        Cursor::Before(_) => Paging { older: if more { last } else { None }, newer: first },
        Cursor::After(_) => Paging { older: last, newer: if more { first } else { None } },
    };
    (rows, paging)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_go_on_both_ways() {
        let ids: Vec<i64> = (1..=51).rev().collect();
        let (rows, p) = page_of(ids, Cursor::First, |i| *i);
        assert_eq!((rows.len(), rows[0], p), (50, 51, Paging { older: Some(2), newer: None }));
        let (rows, p) = page_of(vec![1], Cursor::Before(2), |i| *i);
        assert_eq!((rows, p), (vec![1], Paging { older: None, newer: Some(1) }));
        let (rows, p) = page_of(vec![2, 3], Cursor::After(1), |i| *i);
        assert_eq!((rows, p), (vec![3, 2], Paging { older: Some(2), newer: None }));
    }

    #[test]
    fn a_period_covers_its_local_days() {
        let tz = jiff::tz::TimeZone::get("America/Sao_Paulo").unwrap();
        let (a, b) = bounds(&tz, Period { from: 20260301, to: 20260301 }).unwrap();
        assert_eq!((b - a, a % 86_400), (86_400, 3 * 3600));
    }
}
