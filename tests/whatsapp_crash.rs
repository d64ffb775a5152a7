//! The WhatsApp outbox across a real `kill -9` of the server (issue 12): the
//! real binary delivers agents' replies to a fake Graph API on 127.0.0.1
//! that holds the first sends unanswered; the server is killed while they
//! hang, Meta's status callbacks for them arrive at the restarted server,
//! and every reply reaches Meta exactly once.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atende::app::AppState;
use atende::clock::Clock;
use atende::config::Config;
use atende::domain::conversations as conv;
use common::browser::free_port;
use common::wa::{PHONE_ID, SECRET, WABA, sign};
use serde_json::{Value, json};
use warp::Filter;

const LIMIT: Duration = Duration::from_secs(60);

/// What the fake Meta received: each send's callback id, in order, and
/// whether it answers or holds sends unanswered.
#[derive(Default)]
struct Meta {
    sends: Mutex<Vec<String>>,
    hold: AtomicBool,
}

async fn fake_meta(meta: Arc<Meta>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let route = warp::post().and(warp::path!("v23.0" / String / "messages")).and(warp::body::json()).then(
        move |phone: String, body: Value| {
            let meta = meta.clone();
            async move {
                assert_eq!(phone, PHONE_ID);
                let cb = body["biz_opaque_callback_data"].as_str().unwrap_or_default().to_string();
                let n = {
                    let mut s = meta.sends.lock().unwrap();
                    s.push(cb);
                    s.len()
                };
                if meta.hold.load(Ordering::SeqCst) {
                    // Taken by Meta, answered too late: the server is gone by then.
                    tokio::time::sleep(LIMIT).await;
                }
                warp::reply::json(
                    &json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.C{n}")}]}),
                )
            }
        },
    );
    tokio::spawn(warp::serve(route).incoming(listener).run());
    addr
}

/// Meta's `sent` status for a message it took, naming our callback id.
fn sent_status(wamid: &str, callback: &str) -> String {
    json!({"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "551140001234", "phone_number_id": PHONE_ID},
        "statuses": [{"id": wamid, "status": "sent", "timestamp": "1", "recipient_id": "5511987654321",
                      "biz_opaque_callback_data": callback}]}}]}]})
    .to_string()
}

async fn post_signed(port: u16, queue: i64, body: String) -> u16 {
    let sig = sign(&body, SECRET);
    let url = format!("http://127.0.0.1:{port}/webhooks/whatsapp/{queue}");
    let r = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

fn states(data: &Path) -> HashMap<String, i64> {
    let c = rusqlite::Connection::open(data.join("atende.db")).unwrap();
    let mut st = c.prepare("SELECT state, count(*) FROM outbox GROUP BY state").unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

async fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < LIMIT, "{what}: not within {LIMIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_cut_off_by_kill_9_reach_meta_once_and_the_rest_after_the_restart() {
    let meta = Arc::new(Meta::default());
    meta.hold.store(true, Ordering::SeqCst);
    let graph = fake_meta(meta.clone()).await;
    let data = tempfile::tempdir().unwrap();
    // The business and five replies waiting in the outbox, prepared with the
    // library; then the real binary runs on the same folder.
    let queue = {
        let config = Config { data_dir: data.path().to_path_buf(), ..Config::default() };
        let state = AppState::open(config, Clock::frozen_now()).await.unwrap();
        let app =
            common::TestApp { routes: atende::web::routes(state.clone()), state, dir: tempfile::tempdir().unwrap() };
        let common::wa::Served { q, cid, ana, .. } = common::wa::maria_served_by_ana(&app, 0).await;
        let base = format!("http://{graph}");
        let slow = app
            .state
            .db
            .write(move |c| Ok(c.execute("UPDATE whatsapp_numbers SET graph_base = ?1, rate_per_sec = 2", [base])?));
        slow.await.unwrap();
        for i in 1..=5 {
            conv::send(&app.state, &ana, cid, &format!("resposta {i}")).await.unwrap();
        }
        app.state.db.close();
        q
    };
    let port = free_port();
    let server = common::spawn_server(data.path(), port);
    // The first sends hang at Meta; the server dies while they do.
    wait_for("a send reaches Meta", || !meta.sends.lock().unwrap().is_empty()).await;
    drop(server);
    let cut: Vec<String> = meta.sends.lock().unwrap().clone();
    assert!(!cut.is_empty() && cut.len() <= 4, "{cut:?}");
    assert!(states(data.path()).get("sending").copied().unwrap_or(0) >= cut.len() as i64);

    // Back up: Meta now answers, and its callbacks for the cut sends arrive.
    meta.hold.store(false, Ordering::SeqCst);
    let server = common::spawn_server(data.path(), port);
    for (i, cb) in cut.iter().enumerate() {
        assert_eq!(post_signed(port, queue, sent_status(&format!("wamid.CUT{i}"), cb)).await, 200);
    }
    wait_for("every reply delivered", || states(data.path()).get("sent").copied().unwrap_or(0) == 5).await;
    drop(server);
    let all = meta.sends.lock().unwrap().clone();
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(all.len(), 5, "each reply sent once: {all:?}");
    assert_eq!(unique.len(), 5, "{all:?}");
    assert_eq!(states(data.path()), HashMap::from([("sent".to_string(), 5)]));
}
