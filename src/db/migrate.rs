//! Schema management. `schema.sql` is the whole current schema and creates a
//! fresh database; `STEPS` are append-only upgrades keyed by `PRAGMA
//! user_version`; a database newer than this binary is refused.

use rusqlite::Connection;

/// Marks a file as an Atende database ("ATND").
pub const APPLICATION_ID: i64 = 0x4154_4E44;

/// The whole current schema.
pub const SCHEMA: &str = include_str!("../../schema.sql");

/// Upgrade steps: `STEPS[i]` takes a database from version `i + 1` to `i + 2`.
/// Never edit or reorder a released step; append a new one and mirror its
/// effect in schema.sql.
pub const STEPS: &[&str] = &[
    include_str!("steps/0002_agent_desk.sql"),
    include_str!("steps/0003_tasks_pauses.sql"),
    include_str!("steps/0004_contacts.sql"),
    include_str!("steps/0005_workbench.sql"),
    include_str!("steps/0006_routing.sql"),
    include_str!("steps/0008_security.sql"),
    include_str!("steps/0011_workspace.sql"),
    include_str!("steps/0012_widget.sql"),
    include_str!("steps/0013_whatsapp.sql"),
    include_str!("steps/0014_whatsapp_templates.sql"),
    include_str!("steps/0015_template_headers.sql"),
    include_str!("steps/0016_email.sql"),
    include_str!("steps/0017_email_templates.sql"),
    include_str!("steps/0018_outbox_started.sql"),
    include_str!("steps/0019_metrics.sql"),
    include_str!("steps/0020_reports.sql"),
];

/// The schema version this binary writes.
pub const VERSION: i64 = 1 + STEPS.len() as i64;

/// What `migrate` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A new database was created at the current version.
    Created,
    /// The database was upgraded from the given version.
    Upgraded(i64),
    /// Nothing to do.
    Current,
}

/// Brings the database to [`VERSION`].
pub fn migrate(conn: &mut Connection) -> Result<Outcome, String> {
    migrate_with(conn, SCHEMA, STEPS)
}

/// Reads `(application_id, user_version)`.
pub fn read_version(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    let app: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let ver: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok((app, ver))
}

/// Checks that a database's version is one this binary can open.
pub fn check_version(app: i64, ver: i64, target: i64) -> Result<(), String> {
    if app != APPLICATION_ID {
        return Err("this file is not an Atende database".into());
    }
    if ver > target {
        return Err(format!(
            "the database has schema version {ver}, newer than this Atende supports ({target}); \
             install a newer Atende or restore an older backup"
        ));
    }
    if ver < 1 {
        return Err(format!("invalid schema version {ver}"));
    }
    Ok(())
}

/// The migration mechanism, with the schema and steps as parameters so tests
/// can exercise upgrades with their own steps.
pub fn migrate_with(conn: &mut Connection, schema: &str, steps: &[&str]) -> Result<Outcome, String> {
    let target = 1 + steps.len() as i64;
    let (app, ver) = read_version(conn).map_err(|e| e.to_string())?;
    let map = |e: rusqlite::Error| format!("migration failed: {e}");
    if ver == 0 && app == 0 {
        let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0)).map_err(map)?;
        if tables > 0 {
            return Err("this file is not an Atende database".into());
        }
        let tx = conn.transaction().map_err(map)?;
        tx.execute_batch(schema).map_err(map)?;
        tx.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {target};"))
            .map_err(map)?;
        tx.commit().map_err(map)?;
        return Ok(Outcome::Created);
    }
    check_version(app, ver, target)?;
    if ver == target {
        return Ok(Outcome::Current);
    }
    let tx = conn.transaction().map_err(map)?;
    for (i, step) in steps.iter().enumerate().skip((ver - 1) as usize) {
        tx.execute_batch(step).map_err(|e| format!("upgrade step {} -> {} failed: {e}", i + 1, i + 2))?;
    }
    tx.execute_batch(&format!("PRAGMA user_version = {target};")).map_err(map)?;
    tx.commit().map_err(map)?;
    Ok(Outcome::Upgraded(ver))
}
