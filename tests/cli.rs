//! The binary's command line: help, config precedence, setup link, jobs.

mod common;

use std::process::Command;

fn atende(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_atende"));
    c.args(args).env("ATENDE_LOG", "warn");
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().expect("run atende")
}

#[test]
fn help_documents_flags_and_environment() {
    let out = atende(&["--help"], &[]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "serve",
        "backup",
        "restore",
        "setup-link",
        "ATENDE_DATA",
        "ATENDE_ADDR",
        "ATENDE_CONFIG",
        "0.0.0.0:8080",
        "./atende-data",
    ] {
        assert!(help.contains(needle), "{needle} missing from --help");
    }
}

#[test]
fn bad_config_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("a.toml");
    std::fs::write(&cfg, "backup_time = \"25:99\"\n").unwrap();
    let out = atende(&["--config", cfg.to_str().unwrap(), "setup-link"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("backup_time must be HH:MM"));
    std::fs::write(&cfg, "colour = \"blue\"\n").unwrap();
    let out = atende(&["--config", cfg.to_str().unwrap(), "setup-link"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field"));
}

#[test]
fn config_file_then_environment_then_flags() {
    use atende::config::{Config, GlobalArgs, ServeArgs};
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("a.toml");
    std::fs::write(&cfg, "addr = \"127.0.0.1:9000\"\nbackup_retention = 3\ndata = \"/srv/x\"\n").unwrap();
    let global = GlobalArgs { config: Some(cfg.clone()), ..Default::default() };
    let c = Config::resolve(&global, &ServeArgs::default()).unwrap();
    assert_eq!(c.addr.to_string(), "127.0.0.1:9000");
    assert_eq!(c.backup_retention, 3);
    assert_eq!(c.data_dir, std::path::PathBuf::from("/srv/x"));
    // Flags (clap has already folded env vars into them) win over the file.
    let serve = ServeArgs { addr: Some("127.0.0.1:9100".parse().unwrap()), ..Default::default() };
    let global = GlobalArgs { config: Some(cfg), data: Some("/srv/y".into()), ..Default::default() };
    let c = Config::resolve(&global, &serve).unwrap();
    assert_eq!(c.addr.to_string(), "127.0.0.1:9100");
    assert_eq!(c.data_dir, std::path::PathBuf::from("/srv/y"));
    assert_eq!(c.backup_retention, 3);
    let d = Config::resolve(&GlobalArgs::default(), &ServeArgs::default()).unwrap();
    assert_eq!(d.addr.to_string(), "0.0.0.0:8080");
    assert_eq!(d.db_path(), std::path::PathBuf::from("atende-data/atende.db"));
}

#[test]
fn setup_link_command_prints_a_working_link_until_an_admin_exists() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = atende(&["setup-link"], &[("ATENDE_DATA", data), ("ATENDE_ADDR", "127.0.0.1:8099")]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("http://127.0.0.1:8099/setup/"), "{text}");
    assert!(dir.path().join("atende.db").exists(), "data lives in ATENDE_DATA");
}

#[tokio::test]
async fn session_cleanup_job_removes_expired_rows_only() {
    let app = common::TestApp::with(|c| c.session_idle_secs = 600).await;
    app.admin().await;
    let _fresh = app.login("admin@empresa.com").await;
    assert_eq!(app.count("sessions").await, 2);
    assert_eq!(atende::jobs::cleanup_sessions(&app.state).await.unwrap(), 0);
    app.state.clock.advance(601);
    let _newer = app.login("admin@empresa.com").await;
    // The two idle sessions go; the new one stays.
    assert_eq!(atende::jobs::cleanup_sessions(&app.state).await.unwrap(), 2);
    assert_eq!(app.count("sessions").await, 1);
}

fn http_status(addr: std::net::SocketAddr, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.lines().next().unwrap_or("").to_string()
}

#[test]
fn the_public_listener_serves_only_the_widget() {
    let dir = tempfile::tempdir().unwrap();
    let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (lan, public) = (free(), free());
    let mut child = Command::new(env!("CARGO_BIN_EXE_atende"))
        .arg("--data")
        .arg(dir.path())
        .args(["--addr", &lan.to_string(), "--public-addr", &public.to_string()])
        .env("ATENDE_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(public).is_err() {
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "server did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let widget = http_status(public, "/widget.js");
    let login_public = http_status(public, "/entrar");
    let admin_public = http_status(public, "/admin");
    let login_lan = http_status(lan, "/entrar");
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    assert!(widget.contains("200"), "{widget}");
    assert!(
        login_public.contains("404") && admin_public.contains("404"),
        "agent UI must not be on the public listener"
    );
    assert!(login_lan.contains("200"), "{login_lan}");
}

/// Starts the binary with `log` as its filter, sends a request whose headers
/// never end (the client gives up mid-request, as a closing browser tab
/// does), then a normal one, stops it and returns what it logged.
fn log_after_a_client_gives_up(log: &str) -> String {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_atende"))
        .arg("--data")
        .arg(dir.path())
        .args(["--addr", &addr.to_string()])
        .env("ATENDE_LOG", log)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "server did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(s, "GET /entrar HTTP/1.1\r\nHost: x\r\n").unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(http_status(addr, "/entrar").contains("200"));
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    err
}

#[test]
fn a_client_that_goes_away_is_logged_at_debug_only() {
    let info = log_after_a_client_gives_up("info");
    assert!(info.contains("Atende listening"), "{info}");
    assert!(!info.contains("connection error") && !info.contains("ERROR"), "{info}");
    let debug = log_after_a_client_gives_up("info,warp::server=debug");
    assert!(debug.contains("server connection error"), "shown when asked for: {debug}");
}
