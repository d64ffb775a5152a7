//! Faults an office machine meets: the data folder on a small filesystem (a
//! 24 MB tmpfs mounted for the test) that fills up. A write that finds no
//! room answers 503 with Retry-After and an honest message and stores
//! nothing; admins see a banner, the audit log has it once, `/healthz` says
//! so; when space comes back the next write succeeds, the banner goes and the
//! data acknowledged before is intact. A daily backup without room is refused
//! with an alert instead of filling the disk.
//!
//! These tests mount a tmpfs, so they need root (CI and this machine run the
//! suite as root). Without it they fail, saying so; they never skip.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use atende::db::space::free_bytes;
use common::TestApp;
use serde_json::Value;

/// A small tmpfs mounted on a temporary folder; unmounted on drop, always.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(megabytes: u32) -> Tmpfs {
        let uid = Command::new("id").arg("-u").output().expect("run id -u");
        let uid = String::from_utf8_lossy(&uid.stdout).trim().to_string();
        assert_eq!(
            uid, "0",
            "tests/faults.rs mounts a {megabytes} MB tmpfs to fill a real filesystem and must run as root \
             (CI runs the suite as root); run `cargo test --test faults` as root"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("run mount");
        assert!(out.status.success(), "mount -t tmpfs failed: {}", String::from_utf8_lossy(&out.stderr));
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount").arg(self.dir.path()).status().map(|s| s.success()).unwrap_or(false);
        if !ok {
            // Something still holds a file open: detach it now, freed when closed.
            let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
        }
    }
}

/// Fills the filesystem of `path` until at most `leave` bytes are free.
fn fill(path: &Path, leave: u64) -> PathBuf {
    let mut f = std::fs::File::create(path).expect("create filler");
    for chunk in [1usize << 20, 64 << 10, 4 << 10] {
        let buf = vec![0xA5u8; chunk];
        loop {
            let free = free_bytes(path).expect("statvfs");
            if free <= leave || free - leave < chunk as u64 {
                break;
            }
            match f.write(&buf) {
                Ok(n) if n == chunk => {}
                Ok(_) | Err(_) => break,
            }
        }
        if leave == 0 {
            // Take the last bytes too: write until the filesystem says no.
            while matches!(f.write(&buf), Ok(n) if n > 0) {}
        }
    }
    let _ = f.sync_all();
    let free = free_bytes(path).unwrap();
    assert!(free < leave + (8 << 10), "filler left {free} bytes free, {leave} wanted");
    path.to_path_buf()
}

async fn on_tmpfs(fs: &Tmpfs) -> TestApp {
    let data = fs.path().join("data");
    TestApp::with(|c| c.data_dir = data).await
}

async fn visitor(app: &TestApp, q: i64, text: &str) -> (u16, Value, warp::http::HeaderMap) {
    let body = serde_json::json!({ "text": text }).to_string();
    let r = warp::test::request()
        .method("POST")
        .path(&format!("/api/widget/{q}/messages"))
        .header("content-type", "text/plain")
        .body(body)
        .reply(&app.routes)
        .await;
    (r.status().as_u16(), serde_json::from_slice(r.body()).unwrap_or(Value::Null), r.headers().clone())
}

async fn health(app: &TestApp) -> (u16, Value, warp::http::HeaderMap) {
    let r = warp::test::request().path("/healthz").reply(&app.routes).await;
    (r.status().as_u16(), serde_json::from_slice(r.body()).unwrap_or(Value::Null), r.headers().clone())
}

async fn stored_texts(app: &TestApp) -> Vec<String> {
    app.state
        .db
        .read(|c| {
            let mut st = c.prepare("SELECT body FROM messages WHERE kind = 'in' ORDER BY id")?;
            let rows = st.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
            Ok(rows)
        })
        .await
        .unwrap()
}

fn retry_after(h: &warp::http::HeaderMap) -> &str {
    h.get("retry-after").and_then(|v| v.to_str().ok()).unwrap_or("")
}

const HONEST: &str = "O servidor está sem espaço em disco; sua mensagem não foi salva. Tente de novo em instantes.";

#[tokio::test]
async fn a_full_disk_answers_503_alerts_the_admins_and_recovers_with_nothing_lost() {
    let fs = Tmpfs::mount(24);
    let app = on_tmpfs(&fs).await;
    let mut admin = app.admin().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let (s, _, _) = visitor(&app, q, "Primeira mensagem, antes do disco encher").await;
    assert_eq!(s, 200);
    let mut acked = vec!["Primeira mensagem, antes do disco encher".to_string()];
    let (s, h, _) = health(&app).await;
    assert_eq!((s, h["status"].as_str()), (200, Some("ok")), "{h}");
    admin.get("/").await.lacks(&["storage-alert"]);

    let filler = fill(&fs.path().join("filler"), 0);
    // New visitors keep writing until a commit finds no room; every 200 is
    // stored, the first refusal is honest and stores nothing.
    let mut refused = None;
    for i in 0..2000 {
        let text = format!("Mensagem {i} com o disco cheio");
        let (s, body, headers) = visitor(&app, q, &text).await;
        if s == 200 {
            acked.push(text);
            continue;
        }
        assert_eq!(s, 503, "{body}");
        assert_eq!(retry_after(&headers), "30");
        assert_eq!(body["error"], HONEST);
        refused = Some(text);
        break;
    }
    let refused = refused.expect("2000 messages fitted on a full filesystem: no write was ever refused");
    assert_eq!(stored_texts(&app).await, acked, "exactly the acknowledged messages are stored");
    let conversations = app.count("conversations").await;
    assert_eq!(conversations, acked.len() as i64, "the refused visitor left no conversation behind");

    // While it lasts every write answers the same way and stores nothing.
    let (s, body, headers) = visitor(&app, q, "Outra tentativa").await;
    assert_eq!((s, retry_after(&headers), body["error"].as_str()), (503, "30", Some(HONEST)));
    let teams = app.count("teams").await;
    let r = admin.post("/admin/equipes", &[("name", "Equipe nova")]).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(retry_after(&r.headers), "30");
    r.has(&["Sem espaço em disco", "não foi salvo"]).lacks(&["Nada foi perdido"]);
    assert_eq!(app.count("teams").await, teams);
    assert_eq!(app.count("conversations").await, conversations);

    // Admins see the banner on every page; the audit log has it once; /healthz says so.
    for page in ["/", "/admin", "/admin/auditoria", "/atendimentos"] {
        admin.get(page).await.has(&["id=\"storage-alert\"", "Disco cheio.", "gravações foram recusadas"]);
    }
    assert_eq!(app.audits("storage.full").await, 1);
    admin.get("/admin/auditoria").await.has(&["Disco cheio: gravações recusadas"]);
    let (s, h, headers) = health(&app).await;
    assert_eq!(s, 503, "{h}");
    assert_eq!(retry_after(&headers), "30");
    assert_eq!(h["status"], "storage_full");
    assert_eq!(h["storage"]["full"], true);
    assert!(h["storage"]["refused_writes"].as_u64().unwrap() >= 3, "{h}");

    // Space comes back: the next write succeeds and the episode ends.
    std::fs::remove_file(filler).unwrap();
    let (s, body, _) = visitor(&app, q, "Depois de liberar espaço").await;
    assert_eq!(s, 200, "{body}");
    acked.push("Depois de liberar espaço".into());
    admin.get("/").await.lacks(&["storage-alert", "Disco cheio."]);
    let (s, h, headers) = health(&app).await;
    assert_eq!((s, h["status"].as_str()), (200, Some("ok")), "{h}");
    assert!(headers.get("retry-after").is_none());
    assert_eq!(app.audits("storage.recovered").await, 1);
    assert_eq!(app.audits("storage.full").await, 1, "recorded once, not once per refusal");
    let stored = stored_texts(&app).await;
    assert_eq!(stored, acked);
    assert!(!stored.contains(&refused));
    let check: String =
        app.state.db.read(|c| Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)).await.unwrap();
    assert_eq!(check, "ok");
    let r = admin.post("/admin/equipes", &[("name", "Equipe nova")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    app.state.db.close();
}

#[tokio::test]
async fn a_daily_backup_without_room_is_refused_with_an_alert() {
    let fs = Tmpfs::mount(24);
    let app = on_tmpfs(&fs).await;
    let mut admin = app.admin().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    for i in 0..20 {
        let (s, _, _) = visitor(&app, q, &format!("Mensagem {i}")).await;
        assert_eq!(s, 200);
    }
    // Room for the database to go on, not for a copy and its headroom.
    let filler = fill(&fs.path().join("filler"), 3 << 20);
    let backups = app.state.config.backup_dir();
    for _ in 0..3 {
        let e = atende::jobs::run_daily_backup(&app.state).await.expect_err("a backup without room must be refused");
        assert!(e.to_string().contains("refused"), "{e}");
    }
    let left: Vec<_> = std::fs::read_dir(&backups).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap();
    assert!(left.is_empty(), "the refused backup wrote nothing: {left:?}");
    assert_eq!(app.audits("backup.refused").await, 1, "one alert, not one per attempt");
    // The database still takes writes: only the copy was refused.
    let (s, _, _) = visitor(&app, q, "Ainda gravando").await;
    assert_eq!(s, 200);
    admin.get("/").await.has(&["id=\"backup-alert\"", "Backup diário recusado."]).lacks(&["storage-alert"]);
    admin.get("/admin/backup").await.has(&["id=\"backup-refused\"", "foi recusado por falta de espaço"]);
    admin.get("/admin/auditoria").await.has(&["Backup recusado por falta de espaço"]);
    let (s, h, _) = health(&app).await;
    assert_eq!((s, h["status"].as_str(), h["backup"]["refused"].as_bool()), (200, Some("backup_refused"), Some(true)));
    // The one-click download says why instead of failing half-way.
    let r = admin.post("/admin/backup/baixar", &[]).await;
    assert_eq!(r.status, 409, "{}", r.body);
    r.has(&["Não há espaço em disco para a cópia"]);
    let stray: Vec<_> = std::fs::read_dir(&app.state.config.data_dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".download-"))
        .collect();
    assert!(stray.is_empty());

    // Space back: the backup is made and the alert goes away.
    std::fs::remove_file(filler).unwrap();
    let name = atende::jobs::run_daily_backup(&app.state).await.unwrap();
    atende::db::backup::verify(&backups.join(&name)).unwrap();
    admin.get("/").await.lacks(&["backup-alert"]);
    admin.get("/admin/backup").await.lacks(&["backup-refused"]).has(&[&name]);
    let (_, h, _) = health(&app).await;
    assert_eq!(h["status"], "ok");
    app.state.db.close();
}
