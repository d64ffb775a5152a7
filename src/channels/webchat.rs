//! The web chat widget's public endpoints: the script, the visitor API and the
//! visitor's live stream. They can be served on a separate listener
//! (`--public-addr`) so the agent UI never faces the internet.
//!
//! Visitors are identified by a random token the widget keeps in the
//! browser's localStorage (so reloads and tabs share one conversation); only
//! its hash is stored. Requests are limited per visitor, never per IP, so a
//! busy office on one address is never blocked.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use warp::reply::{Reply, Response};

use crate::app::AppState;
use crate::domain::conversations::{self as conv, VisitorMessage};
use crate::domain::webchat::{self, WidgetQueue};
use crate::domain::{attachments, auth};
use crate::error::AppError;
use crate::i18n::{Locale, t};

/// Largest visitor request body.
pub const BODY_LIMIT: u64 = 16 * 1024;

pub use super::visitor_limits::Limiter;

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    /// Pre-chat fields still to fill (422), or empty.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    fields: &'a [&'static str],
    /// The refused site (403 on the config), so its owner sees which address to allow.
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<&'a str>,
}

fn json_error(status: StatusCode, loc: Locale, key: &'static str) -> Response {
    let mut r = warp::reply::json(&ErrorBody { error: t(loc, key), fields: &[], origin: None }).into_response();
    *r.status_mut() = status;
    r
}

/// 503 when the disk is full: the visitor's message was not stored; the widget
/// keeps the text and retries after Retry-After (exposed to the page's script).
fn storage_full(loc: Locale) -> Response {
    let mut r = json_error(StatusCode::SERVICE_UNAVAILABLE, loc, "widget.storage_full");
    let secs = crate::error::RETRY_AFTER_SECS;
    r.headers_mut().insert(warp::http::header::RETRY_AFTER, HeaderValue::from(secs));
    r.headers_mut().insert("access-control-expose-headers", HeaderValue::from_static("Retry-After"));
    r
}

/// 429 with `Retry-After`: the widget keeps the text and retries by itself.
fn rate_limited(loc: Locale) -> Response {
    let mut r = json_error(StatusCode::TOO_MANY_REQUESTS, loc, "widget.rate_limited");
    r.headers_mut().insert("retry-after", HeaderValue::from_static(super::visitor_limits::RETRY_AFTER));
    r
}

fn valid_token(tok: &str) -> bool {
    tok.len() == 43 && tok.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Adds the CORS headers for an allowed origin (a refused origin answers 403
/// and gets none, except on the config: see [`config`]).
fn cors(r: Response, origin: Option<&str>) -> Response {
    if r.status() == StatusCode::FORBIDDEN {
        return r;
    }
    allow_origin(r, origin)
}

fn allow_origin(mut r: Response, origin: Option<&str>) -> Response {
    if let Some(o) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        let h = r.headers_mut();
        h.insert("access-control-allow-origin", o);
        h.insert("vary", HeaderValue::from_static("Origin"));
        h.insert("access-control-expose-headers", HeaderValue::from_static("retry-after"));
    }
    r
}

struct Req {
    state: Arc<AppState>,
    origin: Option<String>,
    loc: Locale,
}

/// Loads the queue and checks the Origin against its allowed sites; a
/// refused site is noted for the queue's admin page.
async fn queue_for(req: &Req, id: i64) -> Result<WidgetQueue, Response> {
    let q = req.state.db.read(move |c| webchat::queue(c, id)).await;
    match q {
        Ok(Some(q)) => match &req.origin {
            Some(o) if !q.allows(o) => {
                if let Err(e) = webchat::note_refused(&req.state, id, o).await {
                    tracing::warn!("noting a refused widget origin: {e}");
                }
                let body =
                    ErrorBody { error: t(req.loc, "widget.origin_denied"), fields: &[], origin: Some(o.as_str()) };
                let mut r = warp::reply::json(&body).into_response();
                *r.status_mut() = StatusCode::FORBIDDEN;
                Err(r)
            }
            _ => Ok(q),
        },
        Ok(None) => Err(json_error(StatusCode::NOT_FOUND, req.loc, "err.404.title")),
        Err(e) => {
            tracing::error!("widget queue lookup: {e}");
            Err(json_error(StatusCode::INTERNAL_SERVER_ERROR, req.loc, "err.500.text"))
        }
    }
}

/// The queue (allowed origin) and the visitor's token from `?token=`: the
/// token and its hash, or the error response.
async fn visitor(req: &Req, id: i64, q: &HashMap<String, String>) -> Result<(String, Vec<u8>), Response> {
    queue_for(req, id).await?;
    let token = q.get("token").cloned().unwrap_or_default();
    if !valid_token(&token) {
        return Err(json_error(StatusCode::BAD_REQUEST, req.loc, "widget.bad_request"));
    }
    let th = auth::token_hash(&token);
    Ok((token, th))
}

#[derive(Serialize)]
struct ConfigBody<'a> {
    queue: &'a str,
    title: &'a str,
    greeting: &'a str,
    color: &'a str,
    online: bool,
    offline_text: &'a str,
    end_text: &'a str,
    ask: AskBody,
    texts: HashMap<&'static str, &'static str>,
}

#[derive(Serialize)]
struct AskBody {
    name: bool,
    email: bool,
    phone: bool,
}

/// GET /api/widget/{id}/config. A refused site gets its 403 readable (with
/// CORS) so the widget can tell the visitor instead of showing nothing.
async fn config(req: Req, id: i64) -> Response {
    let q = match queue_for(&req, id).await {
        Ok(q) => q,
        Err(r) => return allow_origin(r, req.origin.as_deref()),
    };
    let settings = req.state.settings();
    let now = req.state.now();
    let online = req.state.db.read(move |c| webchat::online(c, id, &settings, now)).await.unwrap_or(false);
    let loc = req.loc;
    let texts: HashMap<&'static str, &'static str> = [
        "widget.title",
        "widget.placeholder",
        "widget.send",
        "widget.start",
        "widget.name",
        "widget.email",
        "widget.phone",
        "widget.ended",
        "widget.open",
        "widget.close",
        "widget.you",
        "widget.attach",
        "widget.file",
        "widget.typing",
        "widget.retrying",
        "widget.sending",
        "widget.offline_form",
        "widget.contact",
        "widget.leave",
        "widget.left",
        "widget.unread",
        "widget.network",
    ]
    .into_iter()
    .map(|k| (k, t(loc, k)))
    .collect();
    let offline = if q.offline_text.is_empty() { t(loc, "widget.offline_default") } else { q.offline_text.as_str() };
    let business = settings_name(&req.state);
    let body = ConfigBody {
        queue: &q.name,
        title: q.title_or(&business),
        greeting: &q.greeting,
        color: if webchat::valid_color(&q.color) { &q.color } else { "" },
        online,
        offline_text: offline,
        end_text: if q.end_text.is_empty() { t(loc, "widget.ended") } else { q.end_text.as_str() },
        ask: AskBody { name: q.ask.0, email: q.ask.1, phone: q.ask.2 },
        texts,
    };
    cors(warp::reply::json(&body).into_response(), req.origin.as_deref())
}

/// The business name, or the default widget title when it is not set.
fn settings_name(state: &AppState) -> String {
    let name = state.settings().business_name.trim().to_string();
    if name.is_empty() { t(state.settings().locale, "widget.title").to_string() } else { name }
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct PostBody {
    token: String,
    name: String,
    email: String,
    phone: String,
    page_url: String,
    text: String,
}

#[derive(Serialize)]
struct PostReply {
    token: String,
    conversation_id: i64,
    message_id: i64,
}

async fn post_message(req: Req, id: i64, body: bytes::Bytes) -> Response {
    let origin = req.origin.clone();
    let r = post_message_inner(&req, id, &body).await;
    cors(r, origin.as_deref())
}

async fn post_message_inner(req: &Req, id: i64, body: &[u8]) -> Response {
    let queue = match queue_for(req, id).await {
        Ok(q) => q,
        Err(r) => return r,
    };
    let Ok(b) = serde_json::from_slice::<PostBody>(body) else {
        return json_error(StatusCode::BAD_REQUEST, req.loc, "widget.bad_request");
    };
    let fields_ok = b.name.chars().count() <= 100
        && b.email.chars().count() <= 200
        && b.phone.chars().count() <= 40
        && b.page_url.chars().count() <= 500
        && [&b.name, &b.email, &b.phone, &b.page_url].iter().all(|s| !s.chars().any(char::is_control));
    if !fields_ok {
        return json_error(StatusCode::BAD_REQUEST, req.loc, "widget.bad_request");
    }
    let token = if b.token.is_empty() {
        auth::new_token()
    } else if valid_token(&b.token) {
        b.token.clone()
    } else {
        return json_error(StatusCode::BAD_REQUEST, req.loc, "widget.bad_request");
    };
    let th = auth::token_hash(&token);
    if !req.state.visitor_limits.allow(&th, req.state.now() as f64) {
        return rate_limited(req.loc);
    }
    let m = VisitorMessage {
        name: b.name.trim().to_string(),
        email: b.email.trim().to_string(),
        phone: b.phone.trim().to_string(),
        page_url: b.page_url.trim().to_string(),
        text: b.text,
    };
    // The pre-chat gate: a first message needs the queue's required fields.
    let th2 = th.clone();
    let known = match req.state.db.read(move |c| webchat::known(c, id, &th2)).await {
        Ok(k) => k,
        Err(e) => {
            tracing::error!("visitor lookup: {e}");
            return json_error(StatusCode::INTERNAL_SERVER_ERROR, req.loc, "err.500.text");
        }
    };
    if let Err(g) = webchat::gate(&queue, &known, &m) {
        let mut r =
            warp::reply::json(&ErrorBody { error: t(req.loc, g.key), fields: &g.fields, origin: None }).into_response();
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return r;
    }
    match conv::visitor_message(&req.state, id, th, m).await {
        Ok((conversation_id, message_id)) => {
            warp::reply::json(&PostReply { token, conversation_id, message_id }).into_response()
        }
        Err(AppError::BadRequest(k)) => json_error(StatusCode::BAD_REQUEST, req.loc, k),
        Err(AppError::NotFound) => json_error(StatusCode::NOT_FOUND, req.loc, "err.404.title"),
        Err(AppError::StorageFull) => storage_full(req.loc),
        Err(e) => {
            tracing::error!("visitor message: {e}");
            json_error(StatusCode::INTERNAL_SERVER_ERROR, req.loc, "err.500.text")
        }
    }
}

#[derive(Serialize)]
struct WidgetFile {
    id: i64,
    name: String,
    size: i64,
    preview: &'static str,
}

#[derive(Serialize)]
struct WidgetMessage {
    id: i64,
    from: &'static str,
    name: String,
    text: String,
    at: i64,
    files: Vec<WidgetFile>,
}

#[derive(Serialize)]
struct MessagesReply {
    conversation_id: Option<i64>,
    status: Option<String>,
    messages: Vec<WidgetMessage>,
}

async fn get_messages(req: Req, id: i64, q: HashMap<String, String>) -> Response {
    let origin = req.origin.clone();
    let r = async {
        let (_, th) = match visitor(&req, id, &q).await {
            Ok(v) => v,
            Err(r) => return r,
        };
        let after: i64 = q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
        match req.state.db.read(move |c| conv::visitor_view(c, id, &th, after)).await {
            Ok(view) => {
                let body = match view {
                    Some((cid, status, msgs)) => MessagesReply {
                        conversation_id: Some(cid),
                        status: Some(status),
                        messages: msgs
                            .into_iter()
                            .map(|m| WidgetMessage {
                                id: m.id,
                                from: if m.kind == "in" { "visitor" } else { "agent" },
                                name: m.author_name,
                                text: m.body,
                                at: m.created_at,
                                files: m
                                    .attachments
                                    .iter()
                                    .map(|a| WidgetFile {
                                        id: a.id,
                                        name: a.name.clone(),
                                        size: a.size,
                                        preview: a.preview(),
                                    })
                                    .collect(),
                            })
                            .collect(),
                    },
                    None => MessagesReply { conversation_id: None, status: None, messages: vec![] },
                };
                warp::reply::json(&body).into_response()
            }
            Err(e) => {
                tracing::error!("visitor messages: {e}");
                json_error(StatusCode::INTERNAL_SERVER_ERROR, req.loc, "err.500.text")
            }
        }
    }
    .await;
    cors(r, origin.as_deref())
}

async fn visitor_events(req: Req, id: i64, q: HashMap<String, String>) -> Response {
    let origin = req.origin.clone();
    let th = match visitor(&req, id, &q).await {
        Ok((_, th)) => th,
        Err(r) => return cors(r, origin.as_deref()),
    };
    let convs = req.state.db.read(move |c| webchat::visitor_conversations(c, id, &th)).await.unwrap_or_default();
    let (rx, _) = req.state.bus.subscribe(None);
    let live = tokio_stream::wrappers::BroadcastStream::new(rx).filter_map(move |r| {
        let out = match r {
            Ok(e) if e.kind == webchat::AGENT_TYPING && e.conversation_id.is_some_and(|c| convs.contains(&c)) => {
                Some(Ok::<_, Infallible>(warp::sse::Event::default().event("typing").data(e.seq.to_string())))
            }
            Ok(e)
                if e.conversation_id.is_some_and(|c| convs.contains(&c))
                    && matches!(e.kind, "message" | "queue" | "conversation") =>
            {
                Some(Ok(warp::sse::Event::default().event("message").data(e.seq.to_string())))
            }
            Ok(_) => None,
            Err(_) => Some(Ok(warp::sse::Event::default().event("message").data("0"))),
        };
        std::future::ready(out)
    });
    let keep = warp::sse::keep_alive().interval(Duration::from_secs(15)).stream(live);
    cors(warp::sse::reply(keep).into_response(), origin.as_deref())
}

async fn post_file(req: Req, id: i64, q: HashMap<String, String>, body: bytes::Bytes) -> Response {
    let origin = req.origin.clone();
    let r = async {
        let (token, th) = match visitor(&req, id, &q).await {
            Ok(v) => v,
            Err(r) => return r,
        };
        if !req.state.visitor_limits.allow(&th, req.state.now() as f64) {
            return rate_limited(req.loc);
        }
        let limit = match req.state.db.read(attachments::limits).await {
            Ok(l) => l.file,
            Err(_) => return json_error(StatusCode::INTERNAL_SERVER_ERROR, req.loc, "err.500.text"),
        };
        let name = q.get("name").map(String::as_str).unwrap_or("");
        let upload = match attachments::check(name, Vec::from(body), limit) {
            Ok(u) => u,
            Err(k) => return json_error(StatusCode::BAD_REQUEST, req.loc, k),
        };
        match attachments::send_visitor(&req.state, id, th, upload).await {
            Ok((conversation_id, message_id)) => {
                warp::reply::json(&PostReply { token, conversation_id, message_id }).into_response()
            }
            Err(AppError::BadRequest(k)) => json_error(StatusCode::BAD_REQUEST, req.loc, k),
            Err(AppError::StorageFull) => storage_full(req.loc),
            Err(e) => {
                tracing::error!("visitor file: {e}");
                json_error(StatusCode::INTERNAL_SERVER_ERROR, req.loc, "err.500.text")
            }
        }
    }
    .await;
    cors(r, origin.as_deref())
}

async fn get_file(req: Req, id: i64, file: i64, q: HashMap<String, String>) -> Response {
    let origin = req.origin.clone();
    let r = async {
        let (_, th) = match visitor(&req, id, &q).await {
            Ok(v) => v,
            Err(r) => return r,
        };
        match req.state.db.read(move |c| attachments::for_visitor(c, id, &th, file)).await {
            Ok(a) => {
                let body = warp::reply::stream(attachments::stream(req.state.db.path().to_path_buf(), a.id));
                attachments::response(&a, body.into_response())
            }
            Err(_) => json_error(StatusCode::NOT_FOUND, req.loc, "err.404.title"),
        }
    }
    .await;
    cors(r, origin.as_deref())
}

/// POST /api/widget/{id}/typing?token= — the visitor is typing (the widget
/// sends it at most every few seconds). Never stored: an event to the agents
/// who may see the conversation. 204, or 404 when no conversation is open.
async fn post_typing(req: Req, id: i64, q: HashMap<String, String>) -> Response {
    let origin = req.origin.clone();
    let r = async {
        let (_, th) = match visitor(&req, id, &q).await {
            Ok(v) => v,
            Err(r) => return r,
        };
        // Its own bucket, so typing never eats into the visitor's messages.
        let mut key = th.clone();
        key.extend_from_slice(b":typing");
        if !req.state.visitor_limits.allow(&key, req.state.now() as f64) {
            return rate_limited(req.loc);
        }
        match webchat::visitor_typing(&req.state, id, th).await {
            Ok(true) => StatusCode::NO_CONTENT.into_response(),
            Ok(false) => json_error(StatusCode::NOT_FOUND, req.loc, "err.404.title"),
            Err(e) => {
                tracing::error!("visitor typing: {e}");
                json_error(StatusCode::INTERNAL_SERVER_ERROR, req.loc, "err.500.text")
            }
        }
    }
    .await;
    cors(r, origin.as_deref())
}

fn preflight(origin: Option<String>) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert("access-control-allow-methods", HeaderValue::from_static("GET, POST"));
    h.insert("access-control-allow-headers", HeaderValue::from_static("content-type"));
    h.insert("access-control-max-age", HeaderValue::from_static("600"));
    cors(r, origin.as_deref())
}

/// The widget script.
const WIDGET_JS: &str = include_str!("../../assets/widget/widget.js");

fn widget_js() -> Response {
    let mut r = WIDGET_JS.into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/javascript; charset=utf-8"));
    r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    r
}

/// The public routes (script, visitor API, visitor stream).
pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let req = {
        let state = state.clone();
        warp::header::optional::<String>("origin").map(move |origin: Option<String>| {
            let loc = state.settings().locale;
            Req { state: state.clone(), origin: origin.filter(|o| o != "null"), loc }
        })
    };
    let script = warp::path("widget.js").and(warp::path::end()).and(warp::get()).map(widget_js);
    let api = || warp::path("api").and(warp::path("widget")).and(warp::path::param::<i64>());
    let config = api()
        .and(warp::path("config"))
        .and(warp::path::end())
        .and(warp::get())
        .and(req.clone())
        .then(|id, r| config(r, id));
    let post = api()
        .and(warp::path("messages"))
        .and(warp::path::end())
        .and(warp::post())
        .and(req.clone())
        .and(warp::body::content_length_limit(BODY_LIMIT))
        .and(warp::body::bytes())
        .then(|id, r, b| post_message(r, id, b));
    let list = api()
        .and(warp::path("messages"))
        .and(warp::path::end())
        .and(warp::get())
        .and(req.clone())
        .and(warp::query::<HashMap<String, String>>())
        .then(|id, r, q| get_messages(r, id, q));
    let typing = api()
        .and(warp::path("typing"))
        .and(warp::path::end())
        .and(warp::post())
        .and(req.clone())
        .and(warp::query::<HashMap<String, String>>())
        .then(|id, r, q| post_typing(r, id, q));
    let events = api()
        .and(warp::path("events"))
        .and(warp::path::end())
        .and(warp::get())
        .and(req.clone())
        .and(warp::query::<HashMap<String, String>>())
        .then(|id, r, q| visitor_events(r, id, q));
    let file_up = api()
        .and(warp::path("files"))
        .and(warp::path::end())
        .and(warp::post())
        .and(req.clone())
        .and(warp::query::<HashMap<String, String>>())
        .and(warp::body::content_length_limit((attachments::MAX_FILE_MB as u64) << 20))
        .and(warp::body::bytes())
        .then(|id, r, q, b| post_file(r, id, q, b));
    let file_down = api()
        .and(warp::path("files"))
        .and(warp::path::param::<i64>())
        .and(warp::path::end())
        .and(warp::get())
        .and(req.clone())
        .and(warp::query::<HashMap<String, String>>())
        .then(|id, f, r, q| get_file(r, id, f, q));
    let options = warp::options()
        .and(warp::path("api"))
        .and(warp::path("widget"))
        .and(warp::path::tail())
        .and(warp::header::optional::<String>("origin"))
        .map(|_tail: warp::path::Tail, o: Option<String>| preflight(o));
    script
        .or(config)
        .unify()
        .or(post)
        .unify()
        .or(list)
        .unify()
        .or(events)
        .unify()
        .boxed()
        .or(file_up)
        .unify()
        .or(file_down)
        .unify()
        .or(options)
        .unify()
        .or(typing)
        .unify()
        .boxed()
}
