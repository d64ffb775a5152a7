//! Immediate e-mail receiving (issue 13): where the server offers IMAP IDLE
//! (a real Dovecot on 127.0.0.1 does), new mail is read as it arrives,
//! without waiting for the mailbox's interval and without the frozen test
//! clock moving; a mailbox whose settings change gets a new watcher, one
//! that is deactivated loses it; a server that goes away is recorded on the
//! mailbox and watched again once it is back; and the real server stops
//! promptly while a mailbox idles.

mod common;

use std::future::Future;
use std::time::{Duration, Instant};

use atende::channels::email::Watching;
use common::mail::*;
use common::{Client, TestApp};

/// Waits (polling every 100 ms, at most `secs`) until `done` says so.
async fn until<F, Fut>(what: &str, secs: u64, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let t0 = Instant::now();
    while !done().await {
        assert!(t0.elapsed() < Duration::from_secs(secs), "{what}: not within {secs} s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The desk's mailbox on `dc`, read every hour only.
async fn hourly<'a>(app: &'a TestApp, dc: &Dovecot) -> (i64, Client<'a>) {
    let (q, mut admin) = mailbox(app, dc, 2525).await;
    save(&mut admin, q, dc.port, MAIL_PW).await;
    (q, admin)
}

async fn save(admin: &mut Client<'_>, q: i64, port: u16, password: &str) {
    let port = port.to_string();
    let mut f = form(&port, password, "2525");
    for (k, v) in f.iter_mut() {
        if *k == "poll_secs" {
            *v = "3600";
        }
    }
    let r = admin.post(&format!("/admin/filas/{q}/email"), &f).await;
    assert_eq!(r.status, 303, "{}", r.body);
}

async fn conversations(app: &TestApp, q: i64) -> i64 {
    scalar(app, format!("SELECT count(*) FROM conversations WHERE queue_id = {q}")).await
}

async fn state_of(app: &TestApp, q: i64) -> String {
    text(app, format!("SELECT state FROM email_mailboxes WHERE queue_id = {q}")).await
}

/// Idling, and the read its IDLE asked for is over: whatever comes next is
/// read only because the server announced it.
fn settled(app: &TestApp, q: i64) -> bool {
    app.state.email.is_idle(q) && app.state.email.quiet(q)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_mail_is_read_as_it_arrives_without_waiting_for_the_interval() {
    let dc = Dovecot::start();
    let app = TestApp::new().await;
    let (q, mut admin) = hourly(&app, &dc).await;
    let page = format!("/admin/filas/{q}/email");
    admin.get(&page).await.has(&["Chegada de e-mails", "Verificação a cada 3600 s"]);
    dc.deliver(DESK, &email(CUSTOMER, DESK, "Primeiro", "i1@exemplo.com.br", "", "Olá")).await;
    let clock = app.state.now();
    let mut sched = atende::jobs::start(&app.state).await.unwrap();
    let a = &app;
    until(
        "the first read and the watcher in IDLE",
        30,
        || async move { settled(a, q) && conversations(a, q).await == 1 },
    )
    .await;
    admin.get(&page).await.has(&["Recebimento imediato (IDLE)"]).lacks(&["Verificação a cada"]);
    // The queue's register page sums it up too.
    admin.get(&format!("/admin/filas/{q}")).await.has(&["Recebimento imediato (IDLE)", "conectada"]);
    // An hour's interval and a clock that does not move: only the server's
    // announcement can bring this one in.
    dc.deliver(DESK, &email(OTHER, DESK, "Segundo", "i2@exemplo.com.br", "", "Chegou?")).await;
    until("the announced e-mail read", 30, || async move { conversations(a, q).await == 2 }).await;
    assert_eq!(app.state.now(), clock, "the test clock never moved");
    assert_eq!(
        text(&app, format!("SELECT subject FROM conversations WHERE queue_id = {q} ORDER BY id DESC LIMIT 1")).await,
        "Segundo"
    );
    assert_eq!(state_of(&app, q).await, "ok");

    // A changed password gets a new watcher: the wrong one never idles…
    save(&mut admin, q, dc.port, "senha-errada").await;
    until("the watcher with the wrong password", 30, || async move {
        matches!(a.state.email.watching(q), Some(Watching::Connecting | Watching::Retrying))
    })
    .await;
    until("the refusal recorded", 30, || async move { state_of(a, q).await == "auth" }).await;
    assert!(!app.state.email.is_idle(q));
    // …the right one again does, at once (no wait left over from the refusal).
    save(&mut admin, q, dc.port, MAIL_PW).await;
    until("IDLE with the right password", 30, || async move { settled(a, q) }).await;
    dc.deliver(DESK, &email(CUSTOMER, DESK, "Terceiro", "i3@exemplo.com.br", "", "De novo")).await;
    until("the third e-mail read", 30, || async move { conversations(a, q).await == 3 }).await;

    // A deactivated queue's mailbox is watched no more.
    exec(&app, format!("UPDATE queues SET active = 0 WHERE id = {q}")).await;
    until("the watcher gone", 30, || async move { a.state.email.watching(q).is_none() }).await;

    app.state.email.stop();
    sched.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_goes_away_is_recorded_and_watched_again_once_back() {
    let mut dc = Dovecot::start();
    let app = TestApp::new().await;
    let (q, mut admin) = hourly(&app, &dc).await;
    let mut sched = atende::jobs::start(&app.state).await.unwrap();
    let a = &app;
    until("the watcher in IDLE", 30, || async move { settled(a, q) }).await;
    assert_eq!(state_of(&app, q).await, "ok");

    // The server stops: the broken session asks for a read, which records
    // the state the page shows.
    dc.stop();
    until("the break recorded", 30, || async move { state_of(a, q).await == "unreachable" }).await;
    assert!(matches!(app.state.email.watching(q), Some(Watching::Retrying | Watching::Connecting)));
    admin
        .get(&format!("/admin/filas/{q}/email"))
        .await
        .has(&["sem conexão com o servidor", "Verificação a cada 3600 s"]);
    admin.get(&format!("/admin/filas/{q}")).await.has(&["sem conexão com o servidor", "Verificação a cada 3600 s"]);

    // Back up: the watcher logs in again after its wait (5 s, then 10 s…).
    dc.restart();
    until("IDLE again", 60, || async move { settled(a, q) }).await;
    assert_eq!(state_of(&app, q).await, "ok", "the read after the reconnection found the server fine");
    dc.deliver(DESK, &email(CUSTOMER, DESK, "Depois da volta", "v1@exemplo.com.br", "", "Oi")).await;
    until("the e-mail after the restart", 30, || async move { conversations(a, q).await == 1 }).await;

    app.state.email.stop();
    assert!(app.state.email.watching(q).is_none());
    sched.shutdown().await.unwrap();
}

fn count_in(db: &std::path::Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    c.busy_timeout(Duration::from_secs(5)).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_stops_promptly_while_a_mailbox_idles() {
    let dc = Dovecot::start();
    let data = tempfile::tempdir().unwrap();
    // The mailbox is set up with the library; then the real binary runs on
    // the same folder.
    let q = {
        let config = atende::config::Config { data_dir: data.path().to_path_buf(), ..Default::default() };
        let state = atende::app::AppState::open(config, atende::clock::Clock::frozen_now()).await.unwrap();
        let app = TestApp { routes: atende::web::routes(state.clone()), state, dir: tempfile::tempdir().unwrap() };
        let (q, _admin) = hourly(&app, &dc).await;
        app.state.db.close();
        q
    };
    let db = data.path().join("atende.db");
    let port = common::browser::free_port();
    let log = data.path().join("server.log");
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_atende"))
        .arg("--data")
        .arg(data.path())
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .env("ATENDE_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let synced = format!("SELECT count(*) FROM email_mailboxes WHERE queue_id = {q} AND synced_at IS NOT NULL");
    until("the first read by the server", 60, || {
        let (db, sql) = (db.clone(), synced.clone());
        async move { db.exists() && count_in(&db, &sql) == 1 }
    })
    .await;
    // Mail comes in while the server runs with an hour's interval: read at
    // once, so its watcher idles on the folder.
    dc.deliver(DESK, &email(CUSTOMER, DESK, "Antes de parar", "s1@exemplo.com.br", "", "Oi")).await;
    let conv = format!("SELECT count(*) FROM conversations WHERE queue_id = {q}");
    until("the e-mail read by the running server", 30, || {
        let (db, sql) = (db.clone(), conv.clone());
        async move { count_in(&db, &sql) == 1 }
    })
    .await;
    // SIGTERM: the IDLE session is dropped, not waited for (the jobs' drain
    // would give up after 20 s and say so).
    let _ = std::process::Command::new("kill").arg(server.id().to_string()).status();
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = server.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(60) {
            let _ = server.kill();
            panic!("the server did not stop: {}", std::fs::read_to_string(&log).unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "{status:?}: {said}");
    assert!(!said.contains("still running at shutdown"), "{said}");
    assert!(!said.contains(MAIL_PW), "no secret in the log: {said}");
}
