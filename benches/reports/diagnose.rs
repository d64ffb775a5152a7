//! When a page misses: each query it runs, timed straight through the
//! library on a read-only connection (as the server's readers run them),
//! with SQLite's plan of the slow ones.

use std::path::Path;
use std::time::Instant;

use atende::db;
use atende::domain::metrics::query::{self, Filters, Period};
use atende::domain::reports::{Ask, Cursor, Viewer, conversations};
use rusqlite::Connection;

use crate::common::{R, err, ms, pct};

/// Median of `n` runs of `f`, in ms.
fn time<T>(n: usize, mut f: impl FnMut() -> R<T>) -> R<f64> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f()?;
        v.push(ms(t.elapsed()));
    }
    Ok(pct(&mut v, 50.0))
}

/// SQLite's plan, one line per step.
pub fn plan(conn: &Connection, sql: &str, args: &[&dyn rusqlite::ToSql]) -> String {
    let Ok(mut st) = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")) else { return "(cannot explain)".into() };
    let rows = st.query_map(args, |r| r.get::<_, String>(3));
    match rows {
        Ok(rows) => rows.flatten().collect::<Vec<_>>().join(" | "),
        Err(e) => format!("({e})"),
    }
}

/// The spread query of `query::spread` (its text, for the plan).
pub const SPREAD_SQL: &str = "SELECT m.secs FROM metric_facts m WHERE m.kind = ?8 AND m.day BETWEEN ?1 AND ?2
     AND (?3 IS NULL OR m.team_id = ?3) AND (?4 IS NULL OR m.queue_id = ?4) AND (?5 IS NULL OR m.agent_id = ?5)
     AND (?6 IS NULL OR m.channel = ?6) AND (?7 IS NULL OR m.team_id IN (SELECT value FROM json_each(?7)))
     ORDER BY m.secs LIMIT 1 OFFSET ?9";

/// The queries of `GET /indicadores` for period `p` and filters `f`: each
/// one's median time, and the plan of the spread.
pub fn indicators(path: &Path, label: &str, p: Period, f: &Filters) -> R<Vec<(String, f64)>> {
    let c = db::open_ro(path).map_err(err)?;
    let none: Option<Vec<i64>> = None;
    let n = 3;
    let e = |x: atende::error::AppError| x.to_string();
    let out = vec![
        ("choices".to_string(), time(n, || query::choices(&c, &none).map_err(e))?),
        ("figures".to_string(), time(n, || query::figures(&c, &none, p, f).map_err(e))?),
        ("figures(previous)".to_string(), time(n, || query::figures(&c, &none, p.previous(), f).map_err(e))?),
        ("by_day".to_string(), time(n, || query::by_day(&c, &none, p, f).map_err(e))?),
        ("spread(handle)".to_string(), time(n, || query::spread(&c, &none, p, f, "handle").map_err(e))?),
        ("hours".to_string(), time(n, || query::hours(&c, &none, p, f, false).map_err(e))?),
        ("reasons".to_string(), time(n, || query::reasons(&c, &none, p, f).map_err(e))?),
    ];
    let total: f64 = out.iter().map(|x| x.1).sum();
    println!(
        "diag_{label} {} total_ms={total:.1} (each query of the page through the library, median of {n}, one reader)",
        out.iter().map(|(k, v)| format!("{k}={v:.1}")).collect::<Vec<_>>().join(" ")
    );
    let n_handle: i64 = c
        .query_row(
            "SELECT count(*) FROM metric_facts WHERE kind = 'handle' AND day BETWEEN ?1 AND ?2",
            [p.from, p.to],
            |r| r.get(0),
        )
        .map_err(err)?;
    let args: [&dyn rusqlite::ToSql; 9] =
        [&p.from, &p.to, &f.team, &f.queue, &f.agent, &f.channel, &None::<String>, &"handle", &(n_handle / 2)];
    println!("diag_{label} spread sorts {n_handle} handle facts twice; plan: {}", plan(&c, SPREAD_SQL, &args));
    Ok(out)
}

/// The Atendimentos page's own queries for a cursor: its rows and totals.
pub fn atendimentos(path: &Path, label: &str, p: Period, f: &Filters, cursor: Cursor, now: i64) -> R<()> {
    let c = db::open_ro(path).map_err(err)?;
    let tz = jiff::tz::TimeZone::get("America/Sao_Paulo").map_err(err)?;
    let e = |x: atende::error::AppError| x.to_string();
    let ask = Ask { viewer: Viewer::All, choices: Default::default(), tz, period: p, filters: f.clone(), cursor, now };
    let rows = time(3, || conversations::rows(&c, &ask, cursor, 51).map_err(e))?;
    let totals = time(3, || query::figures(&c, &None, p, f).map_err(e))?;
    println!("diag_{label} rows_ms={rows:.1} totals_ms={totals:.1} (through the library, median of 3)");
    Ok(())
}

/// The proposed fix for the spread, tried and taken back: with the index
/// `metric_facts(kind, day, secs)` the sort reads only the index (no table
/// row per fact). Built inside a transaction that is rolled back, so the
/// seeded file is left as the server made it. Returns (before, after) ms of
/// one `spread` (its count and both offsets).
pub fn spread_with_index(path: &Path, p: Period, f: &Filters) -> R<(f64, f64, f64)> {
    let c = db::open_rw(path).map_err(err)?;
    let none: Option<Vec<i64>> = None;
    let e = |x: atende::error::AppError| x.to_string();
    let before = time(3, || query::spread(&c, &none, p, f, "handle").map_err(e))?;
    c.execute_batch("BEGIN").map_err(err)?;
    let t = Instant::now();
    let built = c.execute_batch("CREATE INDEX bench_facts_kind_day_secs ON metric_facts(kind, day, secs)");
    let build_ms = ms(t.elapsed());
    let after = built.map_err(err).and_then(|_| time(3, || query::spread(&c, &none, p, f, "handle").map_err(e)));
    c.execute_batch("ROLLBACK").map_err(err)?;
    Ok((before, after?, build_ms))
}
