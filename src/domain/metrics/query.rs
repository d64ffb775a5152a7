//! Reading the metrics: a period's figures and its series by day from the
//! rollups, the conversations behind a figure from the facts — always
//! within what the viewer may see (admins everything, supervisors their
//! teams).

use rusqlite::{Connection, params};

use super::KINDS;
use crate::domain::users::User;
use crate::error::{AppError, AppResult};

/// Business days, yyyymmdd, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    /// First day.
    pub from: i64,
    /// Last day.
    pub to: i64,
}

/// What the figures are narrowed to (None: everything in scope).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    /// Team.
    pub team: Option<i64>,
    /// Queue.
    pub queue: Option<i64>,
    /// Agent (facts of nobody — received, queued, lost in the queue — then
    /// do not count).
    pub agent: Option<i64>,
    /// Channel code.
    pub channel: Option<String>,
}

/// Who may read metrics, and of which teams (None: all).
pub fn scope(user: &User) -> AppResult<Option<Vec<i64>>> {
    use crate::domain::users::Role;
    match user.role {
        Role::Admin => Ok(None),
        Role::Supervisor => Ok(Some(user.team_ids.clone())),
        Role::Agent => Err(AppError::NotFound),
    }
}

/// Sums of every kind of fact: (how many, seconds), in [`KINDS`] order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    sums: Vec<(i64, i64)>,
}

impl Figures {
    fn get(&self, kind: &str) -> (i64, i64) {
        KINDS.iter().position(|k| *k == kind).and_then(|i| self.sums.get(i).copied()).unwrap_or((0, 0))
    }

    /// How many facts of `kind`.
    pub fn n(&self, kind: &str) -> i64 {
        self.get(kind).0
    }

    /// Mean seconds of the facts of `kind` (None: there were none).
    pub fn mean(&self, kind: &str) -> Option<f64> {
        let (n, s) = self.get(kind);
        (n > 0).then(|| s as f64 / n as f64)
    }

    /// TME: time waited in the queue per conversation taken (summed over
    /// re-queues).
    pub fn tme(&self) -> Option<f64> {
        let n = self.n("assigned");
        (n > 0).then(|| self.get("wait").1 as f64 / n as f64)
    }

    /// `num ÷ den` as a share, None when `den` is 0.
    pub fn rate(&self, num: &str, den: &str) -> Option<f64> {
        let d = self.n(den);
        (d > 0).then(|| self.n(num) as f64 / d as f64)
    }
}

const WHERE: &str = "day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR team_id = ?3) AND (?4 IS NULL OR queue_id = ?4)
     AND (?5 IS NULL OR agent_id = ?5) AND (?6 IS NULL OR channel = ?6)
     AND (?7 IS NULL OR team_id IN (SELECT value FROM json_each(?7)))";

// The same conditions on `metric_facts m`.
fn facts_where() -> String {
    WHERE
        .replace("day", "m.day")
        .replace("team_id", "m.team_id")
        .replace("queue_id", "m.queue_id")
        .replace("agent_id", "m.agent_id")
        .replace("channel", "m.channel")
}

fn sums_sql() -> String {
    KINDS.iter().map(|k| format!("coalesce(sum({k}_n), 0), coalesce(sum({k}_secs), 0)")).collect::<Vec<_>>().join(", ")
}

fn row_figures(r: &rusqlite::Row, from: usize) -> rusqlite::Result<Figures> {
    let sums = (0..KINDS.len())
        .map(|i| Ok((r.get(from + 2 * i)?, r.get(from + 2 * i + 1)?)))
        .collect::<rusqlite::Result<_>>()?;
    Ok(Figures { sums })
}

pub(crate) fn scope_json(teams: &Option<Vec<i64>>) -> Option<String> {
    teams.as_ref().map(|t| serde_json::to_string(t).unwrap_or_else(|_| "[]".into()))
}

/// The period's figures.
pub fn figures(conn: &Connection, teams: &Option<Vec<i64>>, p: Period, f: &Filters) -> AppResult<Figures> {
    let sql = format!("SELECT {} FROM metric_days WHERE {WHERE}", sums_sql());
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![p.from, p.to, f.team, f.queue, f.agent, f.channel, scope_json(teams)], |r| {
            row_figures(r, 0)
        })?)
}

/// The period's figures day by day (days with none are left out).
pub fn by_day(conn: &Connection, teams: &Option<Vec<i64>>, p: Period, f: &Filters) -> AppResult<Vec<(i64, Figures)>> {
    let sql = format!("SELECT day, {} FROM metric_days WHERE {WHERE} GROUP BY day ORDER BY day", sums_sql());
    let v = conn
        .prepare_cached(&sql)?
        .query_map(params![p.from, p.to, f.team, f.queue, f.agent, f.channel, scope_json(teams)], |r| {
            Ok((r.get(0)?, row_figures(r, 1)?))
        })?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// What [`grouped`] splits the figures by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// Per agent (0: facts of nobody).
    Agent,
    /// Per queue.
    Queue,
}

/// The period's figures per agent or per queue, with the longest single
/// wait of each.
pub fn grouped(
    conn: &Connection,
    teams: &Option<Vec<i64>>,
    p: Period,
    f: &Filters,
    by: By,
) -> AppResult<Vec<(i64, Figures, i64)>> {
    let col = match by {
        By::Agent => "agent_id",
        By::Queue => "queue_id",
    };
    let sql = format!(
        "SELECT {col}, coalesce(max(wait_max), 0), {} FROM metric_days WHERE {WHERE} GROUP BY {col}",
        sums_sql()
    );
    let v = conn
        .prepare_cached(&sql)?
        .query_map(params![p.from, p.to, f.team, f.queue, f.agent, f.channel, scope_json(teams)], |r| {
            Ok((r.get(0)?, row_figures(r, 2)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// One row of [`hours`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HourRow {
    /// The queue (0 when not split by queue).
    pub queue: i64,
    /// Business day, yyyymmdd.
    pub day: i64,
    /// Local hour, 0–23.
    pub hour: i64,
    /// Conversations received.
    pub received: i64,
    /// Lost in the queue.
    pub lost: i64,
}

/// Conversations received and lost in the queue per business day and
/// local hour (and queue with `per_queue`). The agent filter does not
/// apply (nobody has a conversation when it arrives).
pub fn hours(
    conn: &Connection,
    teams: &Option<Vec<i64>>,
    p: Period,
    f: &Filters,
    per_queue: bool,
) -> AppResult<Vec<HourRow>> {
    let key = if per_queue { "queue_id" } else { "0" };
    let sql = format!(
        "SELECT {key}, day, hour, sum(received_n), sum(lost_queue_n) FROM metric_hours
         WHERE day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR team_id = ?3) AND (?4 IS NULL OR queue_id = ?4)
           AND (?5 IS NULL OR ?5 IS NOT NULL) AND (?6 IS NULL OR channel = ?6)
           AND (?7 IS NULL OR team_id IN (SELECT value FROM json_each(?7)))
         GROUP BY 1, day, hour"
    );
    let v = conn
        .prepare_cached(&sql)?
        .query_map(params![p.from, p.to, f.team, f.queue, f.agent, f.channel, scope_json(teams)], |r| {
            Ok(HourRow { queue: r.get(0)?, day: r.get(1)?, hour: r.get(2)?, received: r.get(3)?, lost: r.get(4)? })
        })?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// Finished conversations per closing reason: (reason, how many), most first.
pub fn reasons(conn: &Connection, teams: &Option<Vec<i64>>, p: Period, f: &Filters) -> AppResult<Vec<(String, i64)>> {
    let sql = format!(
        "SELECT r.name, sum(m.n) FROM metric_reasons m JOIN closing_reasons r ON r.id = m.reason_id
         WHERE {} GROUP BY m.reason_id ORDER BY 2 DESC, r.name",
        facts_where()
    );
    let v = conn
        .prepare_cached(&sql)?
        .query_map(params![p.from, p.to, f.team, f.queue, f.agent, f.channel, scope_json(teams)], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// A conversation behind a figure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Behind {
    /// Conversation.
    pub id: i64,
    /// When the fact happened.
    pub at: i64,
    /// Contact's name.
    pub contact: String,
    /// Queue's name.
    pub queue: String,
    /// The agent credited ('' for none).
    pub agent: String,
    /// The fact's duration.
    pub secs: i64,
}

/// One cell of the heat map: a weekday (0 Monday … 6 Sunday) and local hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// 0 Monday … 6 Sunday.
    pub weekday: i8,
    /// 0–23.
    pub hour: i64,
}

/// At most this many conversations behind one figure are listed.
pub const BEHIND_LIMIT: i64 = 500;

/// The conversations behind the facts of `kind` in the period, newest
/// first. An unknown kind is a bad request.
pub fn behind(
    conn: &Connection,
    teams: &Option<Vec<i64>>,
    p: Period,
    f: &Filters,
    kind: &str,
    slot: Option<Slot>,
) -> AppResult<Vec<Behind>> {
    if !KINDS.contains(&kind) {
        return Err(AppError::BadRequest("ind.bad_kind"));
    }
    let (days, hour) = match &slot {
        Some(s) => {
            let days: Vec<i64> = p
                .days()
                .into_iter()
                .filter(|d| date_of(*d).is_some_and(|d| d.weekday().to_monday_zero_offset() == s.weekday))
                .collect();
            (Some(serde_json::to_string(&days).map_err(AppError::internal)?), Some(s.hour))
        }
        None => (None, None),
    };
    let v = conn
        .prepare_cached(&format!(
            "SELECT m.conversation_id, m.at, coalesce(ct.name, ''), q.name, coalesce(u.name, ''), m.secs
             FROM metric_facts m JOIN conversations c ON c.id = m.conversation_id
             JOIN contacts ct ON ct.id = c.contact_id JOIN queues q ON q.id = m.queue_id
             LEFT JOIN users u ON u.id = m.agent_id
             WHERE m.kind = ?8 AND {} AND (?10 IS NULL OR m.day IN (SELECT value FROM json_each(?10)))
               AND (?11 IS NULL OR m.hour = ?11)
             ORDER BY m.at DESC, m.id DESC LIMIT ?9",
            facts_where()
        ))?
        .query_map(
            params![
                p.from,
                p.to,
                f.team,
                f.queue,
                f.agent,
                f.channel,
                scope_json(teams),
                kind,
                BEHIND_LIMIT,
                days,
                hour
            ],
            |r| {
                Ok(Behind {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    contact: r.get(2)?,
                    queue: r.get(3)?,
                    agent: r.get(4)?,
                    secs: r.get(5)?,
                })
            },
        )?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// What the filters may name: the teams, queues and agents in scope.
#[derive(Clone, Debug, Default)]
pub struct Choices {
    /// (id, name).
    pub teams: Vec<(i64, String)>,
    /// (id, name).
    pub queues: Vec<(i64, String)>,
    /// (id, name).
    pub agents: Vec<(i64, String)>,
}

impl Choices {
    /// Whether every filter names something in scope (one that does not
    /// answers as if it did not exist).
    pub fn allow(&self, f: &Filters) -> AppResult<()> {
        let has = |v: &[(i64, String)], id: Option<i64>| id.is_none_or(|id| v.iter().any(|(i, _)| *i == id));
        let channel = f.channel.as_deref().is_none_or(|c| CHANNELS.contains(&c));
        if has(&self.teams, f.team) && has(&self.queues, f.queue) && has(&self.agents, f.agent) && channel {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}

/// Channel codes a filter may name.
pub const CHANNELS: [&str; 3] = ["webchat", "whatsapp", "email"];

/// The teams, queues and agents of `teams` (None: all).
pub fn choices(conn: &Connection, teams: &Option<Vec<i64>>) -> AppResult<Choices> {
    let scope = scope_json(teams);
    let list = |sql: &str| -> AppResult<Vec<(i64, String)>> {
        Ok(conn.prepare_cached(sql)?.query_map([&scope], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?)
    };
    Ok(Choices {
        teams: list(
            "SELECT id, name FROM teams WHERE ?1 IS NULL OR id IN (SELECT value FROM json_each(?1)) ORDER BY name",
        )?,
        queues: list(
            "SELECT id, name FROM queues WHERE ?1 IS NULL OR team_id IN (SELECT value FROM json_each(?1)) ORDER BY name",
        )?,
        agents: list(
            "SELECT u.id, u.name FROM users u WHERE u.role <> 'admin' AND (?1 IS NULL OR EXISTS (SELECT 1 FROM user_teams t
               WHERE t.user_id = u.id AND t.team_id IN (SELECT value FROM json_each(?1)))) ORDER BY u.name",
        )?,
    })
}

/// The median and 90th percentile of the durations of `kind` in the
/// period (None: there were none). The handling time without a queue,
/// agent or channel filter reads the daily histogram (`metric_spread`, two
/// significant digits); otherwise the facts themselves.
pub fn spread(
    conn: &Connection,
    teams: &Option<Vec<i64>>,
    p: Period,
    f: &Filters,
    kind: &str,
) -> AppResult<Option<(i64, i64)>> {
    if kind == "handle" && f.queue.is_none() && f.agent.is_none() && f.channel.is_none() {
        let buckets: Vec<(i64, i64)> = conn
            .prepare_cached(
                "SELECT bucket, sum(n) FROM metric_spread WHERE day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR team_id = ?3)
                   AND (?4 IS NULL OR team_id IN (SELECT value FROM json_each(?4)))
                 GROUP BY bucket ORDER BY bucket",
            )?
            .query_map(params![p.from, p.to, f.team, scope_json(teams)], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        return Ok(quantiles(&buckets));
    }
    let w = facts_where();
    let args = params![p.from, p.to, f.team, f.queue, f.agent, f.channel, scope_json(teams), kind];
    let n: i64 = conn
        .prepare_cached(&format!("SELECT count(*) FROM metric_facts m WHERE m.kind = ?8 AND {w}"))?
        .query_row(args, |r| r.get(0))?;
    if n == 0 {
        return Ok(None);
    }
    let at = |q: f64| -> AppResult<i64> {
        let off = (((n - 1) as f64) * q).round() as i64;
        Ok(conn
            .prepare_cached(&format!(
                "SELECT m.secs FROM metric_facts m WHERE m.kind = ?8 AND {w} ORDER BY m.secs LIMIT 1 OFFSET ?9"
            ))?
            .query_row(
                params![p.from, p.to, f.team, f.queue, f.agent, f.channel, scope_json(teams), kind, off],
                |r| r.get(0),
            )?)
    };
    Ok(Some((at(0.5)?, at(0.9)?)))
}

/// The median and p90 of a histogram of (value, how many) in value order,
/// at the same ranks as the exact reading: round((n − 1) × q).
fn quantiles(buckets: &[(i64, i64)]) -> Option<(i64, i64)> {
    let n: i64 = buckets.iter().map(|(_, c)| c).sum();
    if n == 0 {
        return None;
    }
    let at = |q: f64| {
        let rank = (((n - 1) as f64) * q).round() as i64;
        let mut seen = 0;
        for (v, c) in buckets {
            seen += c;
            if seen > rank {
                return *v;
            }
        }
        buckets.last().map(|(v, _)| *v).unwrap_or(0)
    };
    Some((at(0.5), at(0.9)))
}

/// yyyymmdd of a date.
pub fn day_of(d: jiff::civil::Date) -> i64 {
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

/// The date of a yyyymmdd.
pub fn date_of(day: i64) -> Option<jiff::civil::Date> {
    jiff::civil::Date::new((day / 10_000) as i16, ((day / 100) % 100) as i8, (day % 100) as i8).ok()
}

/// The longest period asked at once (days).
pub const MAX_DAYS: i64 = 400;

impl Period {
    /// The named period ending `today`: hoje, 7d, 30d, mes; None for
    /// another name.
    pub fn preset(name: &str, today: jiff::civil::Date) -> Option<Period> {
        let back = |n: i64| today.checked_sub(jiff::Span::new().days(n)).ok();
        let from = match name {
            "hoje" => today,
            "7d" => back(6)?,
            "30d" => back(29)?,
            "mes" => today.first_of_month(),
            _ => return None,
        };
        Some(Period { from: day_of(from), to: day_of(today) })
    }

    /// From two typed dates (YYYY-MM-DD): a clear refusal for a date that
    /// is not one, an end before the start, or more than [`MAX_DAYS`].
    pub fn typed(from: &str, to: &str) -> AppResult<Period> {
        let parse = |s: &str| s.trim().parse::<jiff::civil::Date>().map_err(|_| AppError::BadRequest("ind.bad_date"));
        let (a, b) = (parse(from)?, parse(to)?);
        if b < a {
            return Err(AppError::BadRequest("ind.end_before_start"));
        }
        if (b - a).get_days() as i64 + 1 > MAX_DAYS {
            return Err(AppError::BadRequest("ind.too_long"));
        }
        Ok(Period { from: day_of(a), to: day_of(b) })
    }

    /// How many days.
    pub fn len(&self) -> i64 {
        match (date_of(self.from), date_of(self.to)) {
            (Some(a), Some(b)) => (b - a).get_days() as i64 + 1,
            _ => 0,
        }
    }

    /// Whether it has no day.
    pub fn is_empty(&self) -> bool {
        self.len() <= 0
    }

    /// The period of the same length just before.
    pub fn previous(&self) -> Period {
        let n = self.len();
        let Some(a) = date_of(self.from) else { return *self };
        let end = a.checked_sub(jiff::Span::new().days(1)).unwrap_or(a);
        let start = end.checked_sub(jiff::Span::new().days((n - 1).max(0))).unwrap_or(end);
        Period { from: day_of(start), to: day_of(end) }
    }

    /// Every day of it, in order.
    pub fn days(&self) -> Vec<i64> {
        let Some(mut d) = date_of(self.from) else { return vec![] };
        let mut v = Vec::new();
        while day_of(d) <= self.to && (v.len() as i64) < MAX_DAYS {
            v.push(day_of(d));
            match d.tomorrow() {
                Ok(n) => d = n,
                Err(_) => break,
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_a_histogram() {
        assert_eq!(quantiles(&[]), None);
        assert_eq!(quantiles(&[(30, 1)]), Some((30, 30)));
        // 1..=10 once each: rank 5 (6) and rank 8 (9) as the exact reading.
        let v: Vec<(i64, i64)> = (1..=10).map(|i| (i, 1)).collect();
        assert_eq!(quantiles(&v), Some((6, 9)));
        assert_eq!(quantiles(&[(10, 9), (600, 1)]), Some((10, 10)));
        assert_eq!(quantiles(&[(10, 8), (600, 2)]), Some((10, 600)));
    }

    #[test]
    fn periods_and_the_one_before() {
        let today = jiff::civil::date(2026, 3, 2);
        let p = Period::preset("7d", today).unwrap();
        assert_eq!((p.from, p.to, p.len()), (20260224, 20260302, 7));
        assert_eq!(p.previous(), Period { from: 20260217, to: 20260223 });
        assert_eq!(Period::preset("mes", today).unwrap(), Period { from: 20260301, to: 20260302 });
        assert_eq!(Period::preset("hoje", today).unwrap().days(), vec![20260302]);
        assert_eq!(Period::typed("2026-02-27", "2026-03-01").unwrap().days(), vec![20260227, 20260228, 20260301]);
        assert!(matches!(Period::typed("2026-02-30", "2026-03-01"), Err(AppError::BadRequest("ind.bad_date"))));
        assert!(matches!(Period::typed("2026-03-02", "2026-03-01"), Err(AppError::BadRequest("ind.end_before_start"))));
        assert!(matches!(Period::typed("2024-01-01", "2026-03-01"), Err(AppError::BadRequest("ind.too_long"))));
        assert!(Period::preset("ontem", today).is_none());
    }
}
