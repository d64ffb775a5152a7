//! What the outbox benches read back from a data folder's database while a
//! server runs (a read-only connection), and how they print it.
#![allow(dead_code)] // used by the whatsapp and email benches only

use std::collections::HashMap;
use std::path::Path;

use atende::db;

use super::{R, err};

/// Outbox rows per state.
pub fn states(path: &Path) -> R<HashMap<String, i64>> {
    let c = db::open_ro(path).map_err(err)?;
    let mut st = c.prepare("SELECT state, count(*) FROM outbox GROUP BY state").map_err(err)?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(err)?;
    rows.collect::<Result<_, _>>().map_err(err)
}

/// Rows left `sending`: (id, next_at).
pub fn sending(path: &Path) -> R<Vec<(i64, i64)>> {
    let c = db::open_ro(path).map_err(err)?;
    let mut st = c.prepare("SELECT id, next_at FROM outbox WHERE state = 'sending'").map_err(err)?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(err)?;
    rows.collect::<Result<_, _>>().map_err(err)
}

/// "state=n …", sorted.
pub fn show(m: &HashMap<String, i64>) -> String {
    let mut v: Vec<_> = m.iter().map(|(k, n)| format!("{k}={n}")).collect();
    v.sort();
    v.join(" ")
}

/// (min, max, first, last) of RSS samples.
pub fn span(v: &[f64]) -> (f64, f64, f64, f64) {
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max, v.first().copied().unwrap_or(f64::NAN), v.last().copied().unwrap_or(f64::NAN))
}
