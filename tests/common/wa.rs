//! A fake Graph API on 127.0.0.1 for the WhatsApp tests, speaking Meta's
//! documented JSON and recording every call, with the helpers that set up a
//! number against it and post signed webhooks.
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use atende::domain::conversations as conv;
use atende::domain::users::{Role, User};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use warp::Filter;

use super::{Client, Resp, TestApp};

pub const TOKEN: &str = "EAAGtokensegredo123";
pub const SECRET: &str = "appsegredo456";
pub const PHONE_ID: &str = "106540352242922";

/// One call the fake received.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub auth: String,
    pub body: String,
}

#[derive(Default)]
pub struct Fake {
    pub calls: Vec<Call>,
    /// Scripted answers to POST …/messages: (status, body, Retry-After).
    pub answers: VecDeque<(u16, String, Option<&'static str>)>,
    pub sent: u64,
    /// What GET /{WABA}/message_templates lists, two a page.
    pub templates: Vec<Value>,
}

/// The account (WABA) id the numbers use.
pub const WABA: &str = "102290129340398";

/// A template as Meta lists it.
pub fn listed_template(name: &str, status: &str, body: &str) -> Value {
    json!({
        "name": name, "language": "pt_BR", "status": status, "category": "UTILITY",
        "id": format!("9{}", name.len()), "parameter_format": "POSITIONAL",
        "components": [{"type": "BODY", "text": body, "example": {"body_text": [["x"]]}},
                       {"type": "FOOTER", "text": "Loja da Ana"}]
    })
}

pub type Shared = Arc<Mutex<Fake>>;

pub fn graph_error(code: i64, message: &str) -> String {
    json!({"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}}).to_string()
}

/// A JPEG's first bytes and some more: what the fake serves as media.
pub const JPEG: &[u8] =
    &[0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xFF, 0xD9];

pub async fn fake_graph() -> (SocketAddr, Shared) {
    let shared: Shared = Arc::default();
    let s2 = shared.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let route = warp::method()
        .and(warp::path::full())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::body::bytes())
        .map(move |m: warp::http::Method, p: warp::path::FullPath, query: String, auth: Option<String>, body: bytes::Bytes| {
            let mut f = s2.lock().unwrap();
            let body = String::from_utf8_lossy(&body).into_owned();
            let auth = auth.unwrap_or_default();
            f.calls.push(Call {
                method: m.to_string(),
                path: if query.is_empty() { p.as_str().to_string() } else { format!("{}?{query}", p.as_str()) },
                auth: auth.clone(),
                body: body.clone(),
            });
            let reply = |status: u16, body: String, after: Option<&str>| {
                let mut r = warp::http::Response::builder().status(status).header("content-type", "application/json");
                if let Some(a) = after {
                    r = r.header("retry-after", a);
                }
                r.body(body.into_bytes()).unwrap()
            };
            if auth != format!("Bearer {TOKEN}") {
                return reply(401, graph_error(190, "Error validating access token: Session has expired."), None);
            }
            // Media: the id gives a URL (and the size), the URL the bytes.
            if m == warp::http::Method::GET && p.as_str().starts_with("/v23.0/media") {
                let id = &p.as_str()["/v23.0/".len()..];
                let size = if id == "media-big" { 500 << 20 } else { JPEG.len() };
                return reply(
                    200,
                    json!({"messaging_product": "whatsapp", "url": format!("http://{addr}/files/{id}"), "mime_type": "image/jpeg",
                           "sha256": "abc", "file_size": size, "id": id})
                    .to_string(),
                    None,
                );
            }
            if m == warp::http::Method::GET && p.as_str().starts_with("/files/") {
                return warp::http::Response::builder().status(200).header("content-type", "image/jpeg").body(JPEG.to_vec()).unwrap();
            }
            // Templates, two a page, with Meta's cursors and `next` link.
            if m == warp::http::Method::GET && p.as_str() == format!("/v23.0/{WABA}/message_templates") {
                let after = query.split('&').find_map(|kv| kv.strip_prefix("after=")).unwrap_or("");
                let start: usize = if after.is_empty() { 0 } else { after.trim_start_matches("cur").parse().unwrap_or(0) };
                let end = (start + 2).min(f.templates.len());
                let data: Vec<Value> = f.templates[start.min(end)..end].to_vec();
                let mut paging = json!({"cursors": {"before": format!("cur{start}"), "after": format!("cur{end}")}});
                if end < f.templates.len() {
                    paging["next"] = json!(format!(
                        "https://graph.facebook.com/v23.0/{WABA}/message_templates?limit=2&after=cur{end}"
                    ));
                }
                return reply(200, json!({"data": data, "paging": paging}).to_string(), None);
            }
            if m == warp::http::Method::GET && p.as_str() == format!("/v23.0/{PHONE_ID}") {
                return reply(
                    200,
                    json!({"display_phone_number": "+55 11 4000-1234", "verified_name": "Loja da Ana", "id": PHONE_ID})
                        .to_string(),
                    None,
                );
            }
            // Uploads for messages: a multipart form with the file.
            if m == warp::http::Method::POST && p.as_str() == format!("/v23.0/{PHONE_ID}/media") {
                if !body.contains("name=\"messaging_product\"") || !body.contains("name=\"file\"") {
                    return reply(400, graph_error(100, "Param file must be a file"), None);
                }
                f.sent += 1;
                return reply(200, json!({"id": format!("up-{}", f.sent)}).to_string(), None);
            }
            if m == warp::http::Method::POST && p.as_str() == format!("/v23.0/{PHONE_ID}/messages") {
                if let Some((st, b, after)) = f.answers.pop_front() {
                    return reply(st, b, after);
                }
                f.sent += 1;
                let to: Value = serde_json::from_str(&body).unwrap_or_default();
                let body = json!({
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": to["to"], "wa_id": to["to"]}],
                    "messages": [{"id": format!("wamid.OUT{}", f.sent)}]
                });
                return reply(200, body.to_string(), None);
            }
            reply(400, graph_error(100, "Unsupported request"), None)
        });
    tokio::spawn(warp::serve(route).incoming(listener).run());
    (addr, shared)
}

pub fn sign(body: &str, secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A webhook body as Meta sends it, for our number.
pub fn envelope(contacts: Value, messages: Value, statuses: Value) -> String {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "551140001234", "phone_number_id": PHONE_ID},
            "contacts": contacts, "messages": messages, "statuses": statuses
        }}]}]
    })
    .to_string()
}

pub fn text_from(wa_id: &str, name: &str, wamid: &str, text: &str, ts: i64) -> String {
    envelope(
        json!([{"profile": {"name": name}, "wa_id": wa_id}]),
        json!([{"from": wa_id, "id": wamid, "timestamp": ts.to_string(), "type": "text", "text": {"body": text}}]),
        json!([]),
    )
}

pub fn status(wamid: &str, st: &str, errors: Value) -> String {
    envelope(
        json!([]),
        json!([]),
        json!([{"id": wamid, "status": st, "timestamp": "1", "recipient_id": "5511987654321", "errors": errors}]),
    )
}

pub async fn post_hook(app: &TestApp, q: i64, body: &str, sig: Option<&str>) -> Resp {
    let mut c = app.client();
    let mut headers = vec![("content-type", "application/json")];
    let s;
    if let Some(secret) = sig {
        s = sign(body, secret);
        headers.push(("x-hub-signature-256", s.as_str()));
    }
    c.post_bytes(&format!("/webhooks/whatsapp/{q}"), "application/json", body.as_bytes().to_vec(), &headers).await
}

pub async fn user(app: &TestApp, id: i64) -> User {
    app.state.db.read(move |c| atende::domain::users::get(c, id)).await.unwrap().unwrap()
}

/// A WhatsApp queue whose number talks to the fake.
pub async fn wa_queue(app: &TestApp, admin: &mut Client<'_>, team: i64, graph: SocketAddr) -> i64 {
    let q = app.queue("WhatsApp", team, 5, 30).await;
    app.state
        .db
        .write(move |c| Ok(c.execute("UPDATE queues SET channel = 'whatsapp' WHERE id = ?1", [q])?))
        .await
        .unwrap();
    let r = admin
        .post(
            &format!("/admin/filas/{q}/whatsapp"),
            &[
                ("phone_number_id", PHONE_ID),
                ("waba_id", WABA),
                ("access_token", TOKEN),
                ("app_secret", SECRET),
                ("display_number", ""),
                ("graph_version", "v23.0"),
                ("graph_base", &format!("http://{graph}")),
                ("rate_per_sec", "80"),
                ("optout_words", "SAIR, PARAR"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    q
}

pub async fn scalar(app: &TestApp, sql: &'static str) -> i64 {
    app.state.db.read(move |c| Ok(c.query_row(sql, [], |r| r.get(0))?)).await.unwrap()
}

/// A WhatsApp queue talking to the fake, Maria's first message (sent `ago`
/// seconds before now) and Ana holding her conversation.
pub struct Served<'a> {
    pub fake: Shared,
    pub admin: Client<'a>,
    pub q: i64,
    pub a: i64,
    pub ana: User,
    pub cid: i64,
    pub now: i64,
}

pub async fn maria_served_by_ana(app: &TestApp, ago: i64) -> Served<'_> {
    let (graph, fake) = fake_graph().await;
    let t = app.team("Atendimento").await;
    let mut admin = app.admin().await;
    let q = wa_queue(app, &mut admin, t, graph).await;
    let a = app.user("ana@x.com", Role::Agent, &[t]).await;
    let ana = user(app, a).await;
    let now = app.state.now();
    let first = text_from("5511987654321", "Maria", "wamid.IN1", "Oi", now - ago);
    assert_eq!(post_hook(app, q, &first, Some(SECRET)).await.status, 200);
    let cid = scalar(app, "SELECT id FROM conversations").await;
    conv::claim(&app.state, &ana, cid).await.unwrap();
    Served { fake, admin, q, a, ana, cid, now }
}
