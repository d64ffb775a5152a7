//! Backups (CLI, admin download, daily job with retention) and restore.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use atende::db::backup;
use atende::db::{Db, DbOptions};
use common::TestApp;

fn atende(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_atende"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env("ATENDE_LOG", "warn")
        .output()
        .expect("run atende")
}

fn ids(path: &Path) -> Vec<i64> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn.prepare("SELECT id FROM closing_reasons ORDER BY id").unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_backup_under_writes_then_restore_on_a_fresh_folder() {
    let data = tempfile::tempdir().unwrap();
    let db = Db::open(&data.path().join("atende.db"), DbOptions::default()).unwrap();
    // A writer loop inserting ids 1, 2, 3… one after another.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (db2, stop2) = (db.clone(), stop.clone());
    let writer = tokio::spawn(async move {
        let mut i = 0i64;
        let started = Instant::now();
        while !stop2.load(std::sync::atomic::Ordering::Relaxed)
            && started.elapsed() < Duration::from_secs(30)
            && i < 1_000_000
        {
            i += 1;
            let name = format!("motivo {i} – cobrança");
            db2.write(move |c| {
                Ok(c.execute(
                    "INSERT INTO closing_reasons (id, name, created_at) VALUES (?1, ?2, 0)",
                    rusqlite::params![i, name],
                )?)
            })
            .await
            .unwrap();
        }
        i
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("copia.db");
    let data_path = data.path().to_path_buf();
    let file2 = file.clone();
    let out =
        tokio::task::spawn_blocking(move || atende(&data_path, &["backup", file2.to_str().unwrap()])).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("integrity ok"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let total = writer.await.unwrap();
    // The copy is one consistent snapshot: ids 1..=n with no gap, taken mid-stream.
    let copied = ids(&file);
    let n = copied.len() as i64;
    assert!(n > 0 && n < total, "snapshot {n} of {total}");
    assert_eq!(copied, (1..=n).collect::<Vec<_>>());
    // The refusal to overwrite an existing file.
    let out = atende(data.path(), &["backup", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    db.close();
    // Restore on a fresh data folder and compare content.
    let fresh = tempfile::tempdir().unwrap();
    let out = atende(fresh.path(), &["restore", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let restored = fresh.path().join("atende.db");
    assert_eq!(ids(&restored), copied);
    let conn = rusqlite::Connection::open(&restored).unwrap();
    let name: String = conn.query_row("SELECT name FROM closing_reasons WHERE id = 1", [], |r| r.get(0)).unwrap();
    assert_eq!(name, "motivo 1 – cobrança");
    // The restore itself is audited in the restored database.
    let audits: i64 =
        conn.query_row("SELECT count(*) FROM audit_log WHERE action = 'restore.cli'", [], |r| r.get(0)).unwrap();
    assert_eq!(audits, 1);
    // The source recorded the CLI backup.
    let src = rusqlite::Connection::open(data.path().join("atende.db")).unwrap();
    let audits: i64 =
        src.query_row("SELECT count(*) FROM audit_log WHERE action = 'backup.cli'", [], |r| r.get(0)).unwrap();
    assert_eq!(audits, 1);
}

#[test]
fn restore_verifies_before_replacing_and_keeps_the_old_file() {
    let data = tempfile::tempdir().unwrap();
    let db_path = data.path().join("atende.db");
    let db = Db::open(&db_path, DbOptions::default()).unwrap();
    db.close();
    rusqlite::Connection::open(&db_path)
        .unwrap()
        .execute("INSERT INTO teams (name, created_at) VALUES ('Antiga', 0)", [])
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A good backup with different content.
    let other = dir.path().join("other");
    let odb = Db::open(&other.join("atende.db"), DbOptions::default()).unwrap();
    odb.close();
    rusqlite::Connection::open(other.join("atende.db"))
        .unwrap()
        .execute("INSERT INTO teams (name, created_at) VALUES ('Nova', 0)", [])
        .unwrap();
    let good = dir.path().join("good.db");
    backup::backup_file(&other.join("atende.db"), &good).unwrap();
    // Garbage, a foreign SQLite file, a newer schema, a corrupt page: refused, nothing replaced.
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, b"definitely not sqlite").unwrap();
    let foreign = dir.path().join("foreign.db");
    rusqlite::Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE x (y);").unwrap();
    let newer = dir.path().join("newer.db");
    std::fs::copy(&good, &newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute_batch(&format!("PRAGMA user_version = {};", atende::db::migrate::VERSION + 5))
        .unwrap();
    let corrupt = dir.path().join("corrupt.db");
    let mut bytes = std::fs::read(&good).unwrap();
    let page = 4096;
    for b in bytes.iter_mut().skip(page * 2).take(page) {
        *b = 0x5a;
    }
    std::fs::write(&corrupt, bytes).unwrap();
    for (f, expect) in [
        (&garbage, "not a database"),
        (&foreign, "not an Atende database"),
        (&newer, "newer than this Atende supports"),
        (&corrupt, ""),
        (&dir.path().join("missing.db"), ""),
    ] {
        let out = atende(data.path(), &["restore", f.to_str().unwrap()]);
        assert!(!out.status.success(), "{} should be refused", f.display());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{}: {err}", f.display());
        let names: Vec<String> = {
            let c = rusqlite::Connection::open(&db_path).unwrap();
            let mut s = c.prepare("SELECT name FROM teams").unwrap();
            s.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
        };
        assert_eq!(names, vec!["Antiga".to_string()], "untouched after refusing {}", f.display());
    }
    // The good one replaces, and the old database is kept beside it.
    let out = atende(data.path(), &["restore", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let c = rusqlite::Connection::open(&db_path).unwrap();
    let name: String = c.query_row("SELECT name FROM teams", [], |r| r.get(0)).unwrap();
    assert_eq!(name, "Nova");
    let kept: Vec<_> = std::fs::read_dir(data.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("atende.db.replaced-"))
        .collect();
    assert_eq!(kept.len(), 1);
    let k = rusqlite::Connection::open(kept[0].path()).unwrap();
    let name: String = k.query_row("SELECT name FROM teams", [], |r| r.get(0)).unwrap();
    assert_eq!(name, "Antiga");
}

/// The server on its own data folder, on a free port.
fn spawn_server(data: &std::path::Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_atende"))
        .arg("--data")
        .arg(data)
        .args(["--addr", "127.0.0.1:0"])
        .env("ATENDE_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn restore_refuses_while_a_server_runs() {
    let data = tempfile::tempdir().unwrap();
    // Waits until the server listens: its database is created by then (a
    // fixed pause after the file appears raced the schema under load).
    let mut server = common::spawn_server(data.path(), common::browser::free_port());
    let copy = data.path().join("copy.db");
    let out = atende(data.path(), &["backup", copy.to_str().unwrap()]);
    assert!(out.status.success(), "backup works while the server runs: {}", String::from_utf8_lossy(&out.stderr));
    let out = atende(data.path(), &["restore", copy.to_str().unwrap()]);
    let _ = Command::new("kill").arg(server.0.id().to_string()).status();
    let status = server.0.wait().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("another Atende server"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(status.success(), "SIGTERM is a clean shutdown");
    // Once stopped, restore proceeds.
    let out = atende(data.path(), &["restore", copy.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A SIGTERM while the server is still starting (its database just
/// created) ends it cleanly once it is up, not by the signal.
#[test]
fn a_sigterm_during_the_start_is_a_clean_shutdown() {
    let data = tempfile::tempdir().unwrap();
    let mut server = spawn_server(data.path());
    let started = Instant::now();
    while !data.path().join("atende.db").exists() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let status = server.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn admin_downloads_a_consistent_copy() {
    let app = TestApp::new().await;
    let mut a = app.admin().await;
    a.get("/admin/backup").await.has(&["Baixar backup", "Nenhuma cópia diária ainda."]);
    let r = a.post("/admin/backup/baixar", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/vnd.sqlite3");
    let cd = r.headers["content-disposition"].to_str().unwrap();
    assert!(cd.starts_with("attachment; filename=\"atende-"), "{cd}");
    assert_eq!(&r.bytes[..16], b"SQLite format 3\0");
    let f = app.dir.path().join("downloaded.db");
    std::fs::write(&f, &r.bytes).unwrap();
    backup::verify(&f).unwrap();
    let login: String =
        rusqlite::Connection::open(&f).unwrap().query_row("SELECT login FROM users", [], |r| r.get(0)).unwrap();
    assert_eq!(login, "admin@empresa.com");
    assert_eq!(app.audits("backup.download").await, 1);
    // No temporary file is left behind in the data folder.
    let leftovers = std::fs::read_dir(app.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".download-"))
        .count();
    assert_eq!(leftovers, 0);
}

#[tokio::test]
async fn daily_backup_job_runs_once_a_day_and_keeps_retention() {
    let app = TestApp::with(|c| {
        c.backup_retention = 3;
        c.backup_time = (0, 0);
    })
    .await;
    let first = atende::jobs::backup_if_due(&app.state).await.unwrap();
    assert!(first.is_some());
    assert!(atende::jobs::backup_if_due(&app.state).await.unwrap().is_none(), "once per day");
    for _ in 0..4 {
        app.state.clock.advance(24 * 3600);
        assert!(atende::jobs::backup_if_due(&app.state).await.unwrap().is_some());
    }
    let mut files = backup::list_backups(&app.state.config.backup_dir());
    files.sort();
    assert_eq!(files.len(), 3, "{files:?}");
    for f in &files {
        backup::verify(&app.state.config.backup_dir().join(f)).unwrap();
    }
    assert_eq!(app.audits("backup.daily").await, 5);
    let mut a = app.admin().await;
    a.get("/admin/backup").await.has(&[files[2].as_str(), "as 3 mais recentes"]);
    // Before the configured time nothing is made.
    let late = TestApp::with(|c| c.backup_time = (23, 59)).await;
    let local = jiff::Timestamp::now().to_zoned(late.state.settings().tz());
    if (local.hour(), local.minute()) < (23, 59) {
        assert!(atende::jobs::backup_if_due(&late.state).await.unwrap().is_none());
    }
}
