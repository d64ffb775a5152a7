//! The fake Graph API of the WhatsApp bench: `POST /{version}/{phone}/messages`
//! answered as Meta does, each accepted body's `biz_opaque_callback_data`
//! recorded with the instant it came, and a signed `sent` status webhook
//! posted back to the server for each, asynchronously — retried every second
//! while the server does not answer 200 (Meta retries undelivered webhooks
//! for days), for at most [`CALLBACK_TRIES`] tries.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use warp::Filter;

use crate::common::{R, err};
use crate::{PHONE_ID, TOKEN, VERSION, envelope, sign};

/// Delay before a message's `sent` status is posted back.
const CALLBACK_DELAY: Duration = Duration::from_millis(100);
/// Tries of one status webhook, a second apart.
const CALLBACK_TRIES: u32 = 120;

/// What the fake received.
#[derive(Default)]
pub struct Record {
    /// Each accepted send: (unix ms, callback data).
    pub sends: Vec<(u64, String)>,
    /// Accepted sends per callback data.
    pub seen: HashMap<String, u32>,
    /// Calls to anything else (or with a bad token).
    pub other: u64,
}

/// The fake and what it saw.
pub struct Fake {
    pub addr: SocketAddr,
    pub rec: Arc<Mutex<Record>>,
    /// Where the status webhooks go: the server's port (0: none) and queue.
    pub port: Arc<AtomicU16>,
    pub queue: Arc<AtomicI64>,
    /// Status webhooks answered 200, refused tries, given up, in flight.
    pub cb_ok: Arc<AtomicU64>,
    pub cb_retries: Arc<AtomicU64>,
    pub cb_given_up: Arc<AtomicU64>,
    pub cb_in_flight: Arc<AtomicI64>,
    /// A process to SIGKILL on the next accepted send (0: none), and the
    /// sends accepted when it was killed.
    pub kill_on_send: Arc<AtomicU32>,
    pub killed_at_send: Arc<AtomicU64>,
}

pub fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn reply(status: u16, body: String) -> warp::http::Response<Vec<u8>> {
    let mut r = warp::http::Response::new(body.into_bytes());
    *r.status_mut() = warp::http::StatusCode::from_u16(status).unwrap_or(warp::http::StatusCode::BAD_REQUEST);
    r.headers_mut().insert("content-type", warp::http::HeaderValue::from_static("application/json"));
    r
}

fn graph_error(code: i64, message: &str) -> String {
    json!({"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}}).to_string()
}

struct Ctx {
    rec: Arc<Mutex<Record>>,
    n: AtomicU64,
    port: Arc<AtomicU16>,
    queue: Arc<AtomicI64>,
    cb_ok: Arc<AtomicU64>,
    cb_retries: Arc<AtomicU64>,
    cb_given_up: Arc<AtomicU64>,
    cb_in_flight: Arc<AtomicI64>,
    kill_on_send: Arc<AtomicU32>,
    killed_at_send: Arc<AtomicU64>,
    http: reqwest::Client,
}

/// Posts the `sent` status of `wamid` to the server until it answers 200.
async fn callback(cx: Arc<Ctx>, wamid: String, to: String, data: String) {
    tokio::time::sleep(CALLBACK_DELAY).await;
    let status = json!({
        "id": wamid, "status": "sent", "timestamp": (unix_ms() / 1000).to_string(), "recipient_id": to,
        "biz_opaque_callback_data": data,
        "conversation": {"id": format!("conv-{to}"), "expiration_timestamp": (unix_ms() / 1000 + 86_400).to_string(),
                         "origin": {"type": "service"}},
        "pricing": {"billable": true, "pricing_model": "PMP", "category": "service"}
    });
    let body = envelope(json!([]), json!([]), json!([status]));
    let sig = sign(body.as_bytes());
    for _ in 0..CALLBACK_TRIES {
        let port = cx.port.load(Ordering::Relaxed);
        let queue = cx.queue.load(Ordering::Relaxed);
        if port != 0 {
            let r = cx
                .http
                .post(format!("http://127.0.0.1:{port}/webhooks/whatsapp/{queue}"))
                .header("content-type", "application/json")
                .header("x-hub-signature-256", &sig)
                .body(body.clone())
                .send()
                .await;
            if matches!(&r, Ok(resp) if resp.status().as_u16() == 200) {
                cx.cb_ok.fetch_add(1, Ordering::Relaxed);
                cx.cb_in_flight.fetch_sub(1, Ordering::Relaxed);
                return;
            }
        }
        cx.cb_retries.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    cx.cb_given_up.fetch_add(1, Ordering::Relaxed);
    cx.cb_in_flight.fetch_sub(1, Ordering::Relaxed);
}

fn handle(
    cx: &Arc<Ctx>,
    method: &warp::http::Method,
    path: &str,
    auth: Option<String>,
    body: &[u8],
) -> warp::http::Response<Vec<u8>> {
    let Ok(mut rec) = cx.rec.lock() else { return reply(500, graph_error(1, "poisoned")) };
    if auth.as_deref() != Some(&format!("Bearer {TOKEN}")) {
        rec.other += 1;
        return reply(401, graph_error(190, "Error validating access token: Session has expired."));
    }
    if method != warp::http::Method::POST || path != format!("/{VERSION}/{PHONE_ID}/messages") {
        rec.other += 1;
        return reply(400, graph_error(100, "Unsupported request"));
    }
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        rec.other += 1;
        return reply(400, graph_error(100, "Invalid JSON"));
    };
    let to = v["to"].as_str().unwrap_or("").to_string();
    let data = v["biz_opaque_callback_data"].as_str().unwrap_or("").to_string();
    if to.is_empty() || v["messaging_product"] != "whatsapp" {
        rec.other += 1;
        return reply(400, graph_error(100, "Param to is required"));
    }
    let n = cx.n.fetch_add(1, Ordering::Relaxed) + 1;
    let wamid = format!("wamid.{n}");
    rec.sends.push((unix_ms(), data.clone()));
    *rec.seen.entry(data.clone()).or_default() += 1;
    let victim = cx.kill_on_send.swap(0, Ordering::Relaxed);
    if victim != 0 {
        // The server dies with this send accepted and its answer unread:
        // the rows of its run are left `sending`, some taken here, some not.
        // SAFETY: kill(2) on the pid of a child the bench spawned.
        unsafe { libc::kill(victim as libc::pid_t, libc::SIGKILL) };
        cx.killed_at_send.store(rec.sends.len() as u64, Ordering::Relaxed);
    }
    drop(rec);
    cx.cb_in_flight.fetch_add(1, Ordering::Relaxed);
    tokio::spawn(callback(cx.clone(), wamid.clone(), to.clone(), data));
    reply(
        200,
        json!({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": wamid}]})
            .to_string(),
    )
}

impl Fake {
    /// Starts the fake on a free 127.0.0.1 port (on the current runtime).
    pub async fn start() -> R<Fake> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(32)
            .build()
            .map_err(err)?;
        let cx = Arc::new(Ctx {
            rec: Arc::default(),
            n: AtomicU64::new(0),
            port: Arc::default(),
            queue: Arc::default(),
            cb_ok: Arc::default(),
            cb_retries: Arc::default(),
            cb_given_up: Arc::default(),
            cb_in_flight: Arc::default(),
            kill_on_send: Arc::default(),
            killed_at_send: Arc::default(),
            http,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(err)?;
        let addr = listener.local_addr().map_err(err)?;
        let c2 = cx.clone();
        let route = warp::method()
            .and(warp::path::full())
            .and(warp::header::optional::<String>("authorization"))
            .and(warp::body::bytes())
            .map(move |m: warp::http::Method, p: warp::path::FullPath, auth: Option<String>, body: bytes::Bytes| {
                handle(&c2, &m, p.as_str(), auth, &body)
            });
        tokio::spawn(warp::serve(route).incoming(listener).run());
        Ok(Fake {
            addr,
            rec: cx.rec.clone(),
            port: cx.port.clone(),
            queue: cx.queue.clone(),
            cb_ok: cx.cb_ok.clone(),
            cb_retries: cx.cb_retries.clone(),
            cb_given_up: cx.cb_given_up.clone(),
            cb_in_flight: cx.cb_in_flight.clone(),
            kill_on_send: cx.kill_on_send.clone(),
            killed_at_send: cx.killed_at_send.clone(),
        })
    }

    /// Sends status webhooks to the server on `port`, queue `queue`.
    pub fn target(&self, port: u16, queue: i64) {
        self.queue.store(queue, Ordering::Relaxed);
        self.port.store(port, Ordering::Relaxed);
    }
}
