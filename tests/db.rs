//! Database layer: fresh install, upgrade mechanism, refusal of newer
//! databases, group commit semantics, durability across kill -9.

mod common;

use atende::db::migrate::{self, APPLICATION_ID, Outcome, VERSION};
use atende::db::{Db, DbOptions};
use atende::error::AppError;

#[test]
fn fresh_install_creates_current_schema_with_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/atende.db");
    let db = Db::open(&path, DbOptions::default()).unwrap();
    db.close();
    let conn = atende::db::open_rw(&path).unwrap();
    let (app, ver) = migrate::read_version(&conn).unwrap();
    assert_eq!(app, APPLICATION_ID);
    assert_eq!(ver, VERSION);
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
    assert_eq!(fk, 1);
    let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
    assert_eq!(sync, 2, "synchronous=FULL");
    for table in ["users", "teams", "queues", "sessions", "audit_log", "settings", "business_hours"] {
        let n: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema WHERE type='table' AND name=?1", [table], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "{table}");
    }
    // Opening again is a no-op.
    let mut conn = conn;
    assert_eq!(migrate::migrate(&mut conn).unwrap(), Outcome::Current);
}

#[test]
fn upgrade_steps_run_in_order_from_the_stored_version() {
    let schema_v1 = "CREATE TABLE t (a INTEGER);";
    let steps = ["ALTER TABLE t ADD COLUMN b TEXT;", "CREATE INDEX t_b ON t(b); INSERT INTO t (a, b) VALUES (1, 'x');"];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.db");
    // A frozen version-1 database.
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(migrate::migrate_with(&mut conn, schema_v1, &[]).unwrap(), Outcome::Created);
    conn.execute("INSERT INTO t (a) VALUES (7)", []).unwrap();
    // Upgrading runs both steps, keeps data, and records version 3.
    assert_eq!(migrate::migrate_with(&mut conn, schema_v1, &steps).unwrap(), Outcome::Upgraded(1));
    let (_, ver) = migrate::read_version(&conn).unwrap();
    assert_eq!(ver, 3);
    let n: i64 = conn.query_row("SELECT count(*) FROM t WHERE a = 7 AND b IS NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
    // A failing step leaves the database as it was.
    let bad = ["ALTER TABLE t ADD COLUMN b TEXT;", "CREATE INDEX t_b ON t(b);", "THIS IS NOT SQL;"];
    let err = migrate::migrate_with(&mut conn, schema_v1, &bad).unwrap_err();
    assert!(err.contains("upgrade step 3 -> 4"), "{err}");
    let (_, ver) = migrate::read_version(&conn).unwrap();
    assert_eq!(ver, 3);
}

#[test]
fn newer_or_foreign_databases_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("atende.db");
    Db::open(&path, DbOptions::default()).unwrap().close();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(&format!("PRAGMA user_version = {};", VERSION + 1)).unwrap();
    drop(conn);
    let err = match Db::open(&path, DbOptions::default()) {
        Err(AppError::Internal(m)) => m,
        other => panic!("expected refusal, got {:?}", other.map(|_| ())),
    };
    assert!(err.contains("newer than this Atende supports"), "{err}");
    // Not an Atende database at all.
    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other).unwrap().execute_batch("CREATE TABLE x (y);").unwrap();
    let err = match Db::open(&other, DbOptions::default()) {
        Err(AppError::Internal(m)) => m,
        other => panic!("expected refusal, got {:?}", other.map(|_| ())),
    };
    assert!(err.contains("not an Atende database"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_isolates_failing_jobs_and_acknowledges_after_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("a.db"), DbOptions::default()).unwrap();
    let mut handles = Vec::new();
    for i in 0..200i64 {
        let db = db.clone();
        handles.push(tokio::spawn(async move {
            db.write(move |c| {
                c.execute("INSERT INTO teams (name, created_at) VALUES (?1, 0)", [format!("t{i}")])?;
                if i % 10 == 0 {
                    // This job inserted a row and then fails: only its own insert is undone.
                    return Err(AppError::BadRequest("val.invalid"));
                }
                Ok(i)
            })
            .await
        }));
    }
    let mut ok = 0;
    for h in handles {
        if h.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 180);
    let n: i64 = db.read(|c| Ok(c.query_row("SELECT count(*) FROM teams", [], |r| r.get(0))?)).await.unwrap();
    assert_eq!(n, 180);
    // A panicking job does not take the writer down.
    let r = db.write(|_c| -> Result<(), AppError> { panic!("boom") }).await;
    assert!(r.is_err());
    db.write(|c| Ok(c.execute("INSERT INTO teams (name, created_at) VALUES ('after', 0)", [])?)).await.unwrap();
}

/// Child mode for the kill -9 test: writes until killed, printing each
/// acknowledged id.
#[test]
#[ignore = "helper process for acknowledged_writes_survive_kill_9"]
fn kill9_child() {
    use std::io::Write;
    let Ok(path) = std::env::var("ATENDE_KILL9_DB") else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = Db::open(std::path::Path::new(&path), DbOptions::default()).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<i64>();
        for w in 0..16i64 {
            let db = db.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                for i in 0..100_000i64 {
                    let id = w * 1_000_000 + i;
                    if db
                        .write(move |c| {
                            Ok(c.execute(
                                "INSERT INTO closing_reasons (id, name, created_at) VALUES (?1, ?1, 0)",
                                [id],
                            )?)
                        })
                        .await
                        .is_ok()
                    {
                        let _ = tx.send(id);
                    }
                }
            });
        }
        let mut out = std::io::stdout();
        while let Some(id) = rx.recv().await {
            let _ = writeln!(out, "{id}");
            let _ = out.flush();
        }
    });
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let exe = std::env::current_exe().unwrap();
    let mut child = std::process::Command::new(exe)
        .args(["--ignored", "--exact", "kill9_child", "--nocapture", "--test-threads=1"])
        .env("ATENDE_KILL9_DB", &path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = BufReader::new(stdout);
    let mut acked = Vec::new();
    let start = std::time::Instant::now();
    for line in reader.lines() {
        let Ok(line) = line else { break };
        if let Ok(id) = line.trim().parse::<i64>() {
            acked.push(id);
        }
        if acked.len() >= 3000 || start.elapsed() > std::time::Duration::from_secs(20) {
            break;
        }
    }
    // SIGKILL: no destructor, no checkpoint, no clean close.
    child.kill().unwrap();
    let _ = child.wait();
    assert!(acked.len() >= 100, "child acknowledged only {} writes", acked.len());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut stmt = conn.prepare("SELECT 1 FROM closing_reasons WHERE id = ?1").unwrap();
    let missing: Vec<i64> = acked.iter().copied().filter(|id| !stmt.exists([id]).unwrap()).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged writes lost, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}

fn schema_of(path: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn.prepare("SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_schema WHERE name NOT LIKE 'sqlite_stat%' ORDER BY name").unwrap();
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
    rows.map(|r| r.unwrap().split_whitespace().collect::<Vec<_>>().join(" ")).collect()
}

#[test]
fn a_frozen_version_1_database_upgrades_to_the_current_schema() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.db");
    {
        let mut conn = rusqlite::Connection::open(&old).unwrap();
        let v1 = include_str!("fixtures/schema_v1.sql");
        migrate::migrate_with(&mut conn, v1, &[]).unwrap();
        conn.execute("INSERT INTO teams (name, created_at) VALUES ('Vendas', 1)", []).unwrap();
    }
    Db::open(&old, DbOptions::default()).unwrap().close();
    let conn = rusqlite::Connection::open(&old).unwrap();
    let (_, ver) = migrate::read_version(&conn).unwrap();
    assert_eq!(ver, VERSION);
    let name: String = conn.query_row("SELECT name FROM teams", [], |r| r.get(0)).unwrap();
    assert_eq!(name, "Vendas");
    // schema.sql and the upgrade steps describe the same database.
    let fresh = dir.path().join("fresh.db");
    Db::open(&fresh, DbOptions::default()).unwrap().close();
    assert_eq!(schema_of(&old), schema_of(&fresh));
}

#[test]
fn upgrading_to_v4_normalizes_stored_phones_and_indexes_names() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v3.db");
    {
        let mut conn = rusqlite::Connection::open(&old).unwrap();
        let v1 = include_str!("fixtures/schema_v1.sql");
        migrate::migrate_with(&mut conn, v1, &[]).unwrap();
        migrate::migrate_with(&mut conn, v1, &migrate::STEPS[..2]).unwrap();
        assert_eq!(migrate::read_version(&conn).unwrap().1, 3);
        conn.execute(
            "INSERT INTO contacts (name, phone, email, created_at) VALUES ('Ana Conceição', '(11) 98765-4321', 'Ana@X.com', 1),
                                                                     ('Sem telefone', '', '', 2), ('Outro', '12', '', 3)",
            [],
        )
        .unwrap();
    }
    Db::open(&old, DbOptions::default()).unwrap().close();
    let conn = rusqlite::Connection::open(&old).unwrap();
    let rows: Vec<(String, String, String)> = conn
        .prepare("SELECT phone, phone_rev, email FROM contacts ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows[0], ("+5511987654321".into(), "1234567891155".into(), "ana@x.com".into()));
    assert_eq!(rows[1], (String::new(), String::new(), String::new()));
    assert_eq!(rows[2], ("12".into(), "21".into(), String::new()), "an invalid number is kept as typed");
    let found: i64 = conn
        .query_row("SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH 'conceicao*'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(found, 1);
}
