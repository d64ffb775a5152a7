//! Audit log of sensitive actions: who, what, target, when, from where.

use rusqlite::{Connection, params};

use super::Actor;
use crate::error::AppResult;

/// One recorded action.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Row id (also the pagination key).
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// Who (name at the time).
    pub actor_name: String,
    /// Action code, e.g. `user.create` (labels in the catalog as `audit.<code>`).
    pub action: String,
    /// What was acted upon.
    pub target: String,
    /// Extra detail.
    pub detail: String,
    /// Client IP.
    pub ip: String,
}

/// Records an action inside the caller's write job, so the entry commits (or
/// not) together with the change it describes.
pub fn record(conn: &Connection, actor: &Actor, action: &str, target: &str, detail: &str) -> AppResult<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log (at, actor_id, actor_name, action, target, detail, ip)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![actor.now, actor.user_id, actor.name, action, target, detail, actor.ip])?;
    Ok(())
}

/// Filters of the audit page; empty fields do not filter.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Exact action code, or a prefix ending in `.` (e.g. `auth.`).
    pub action: String,
    /// Substring of the actor's name.
    pub actor: String,
    /// Substring of target or detail.
    pub text: String,
    /// From this instant (inclusive).
    pub from: Option<i64>,
    /// Before this instant (exclusive).
    pub to: Option<i64>,
    /// Only entries with an id below this (next page).
    pub before_id: Option<i64>,
}

/// Page size of the audit list.
pub const PAGE: usize = 50;

/// The newest entries matching `f`, at most [`PAGE`], and whether more follow.
pub fn query(conn: &Connection, f: &Filter) -> AppResult<(Vec<Entry>, bool)> {
    query_limit(conn, f, PAGE)
}

/// The newest `limit` entries matching `f`, and whether more follow.
pub fn query_limit(conn: &Connection, f: &Filter, limit: usize) -> AppResult<(Vec<Entry>, bool)> {
    let mut sql = String::from("SELECT id, at, actor_name, action, target, detail, ip FROM audit_log WHERE 1=1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if !f.action.is_empty() {
        if let Some(prefix) = f.action.strip_suffix('.') {
            sql.push_str(" AND action >= ? AND action < ?");
            args.push(format!("{prefix}.").into());
            args.push(format!("{prefix}/").into());
        } else {
            sql.push_str(" AND action = ?");
            args.push(f.action.clone().into());
        }
    }
    if !f.actor.is_empty() {
        sql.push_str(" AND instr(lower(actor_name), lower(?)) > 0");
        args.push(f.actor.clone().into());
    }
    if !f.text.is_empty() {
        sql.push_str(" AND (instr(lower(target), lower(?)) > 0 OR instr(lower(detail), lower(?)) > 0 OR ip = ?)");
        args.push(f.text.clone().into());
        args.push(f.text.clone().into());
        args.push(f.text.clone().into());
    }
    if let Some(from) = f.from {
        sql.push_str(" AND at >= ?");
        args.push(from.into());
    }
    if let Some(to) = f.to {
        sql.push_str(" AND at < ?");
        args.push(to.into());
    }
    if let Some(b) = f.before_id {
        sql.push_str(" AND id < ?");
        args.push(b.into());
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit + 1));
    let mut stmt = conn.prepare(&sql)?;
    let mut rows: Vec<Entry> = stmt
        .query_map(rusqlite::params_from_iter(args), |r| {
            Ok(Entry {
                id: r.get(0)?,
                at: r.get(1)?,
                actor_name: r.get(2)?,
                action: r.get(3)?,
                target: r.get(4)?,
                detail: r.get(5)?,
                ip: r.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    Ok((rows, more))
}

/// Every action code, for the filter select (labels: `audit.<code>`).
pub const ACTIONS: &[&str] = &[
    "auth.login",
    "auth.login_failed",
    "auth.logout",
    "auth.password_changed",
    "setup.admin_created",
    "user.create",
    "user.update",
    "user.password_reset",
    "user.deactivate",
    "user.activate",
    "register.create",
    "register.update",
    "register.deactivate",
    "register.activate",
    "settings.update",
    "backup.download",
    "backup.daily",
    "backup.cli",
    "backup.refused",
    "storage.full",
    "storage.recovered",
    "restore.cli",
    "export.audit",
    "export.metrics",
    "export.report",
    "task.delete",
    "contact.merge",
    "quick_reply.create",
    "quick_reply.delete",
    "pause.end_by_supervisor",
    "presence.set_not_ready_by_supervisor",
    "presence.set_not_ready_missed_offers",
    "whatsapp.number_saved",
    "email.mailbox_saved",
    "email.template_saved",
    "supervision.assign",
    "supervision.transfer",
];
