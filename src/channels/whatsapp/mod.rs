//! The WhatsApp Business Cloud API channel: Meta's webhook in (public, on
//! the agent listener and on `--public-addr`), the outbox's deliveries out
//! through the Graph API, and the connection check of a queue's number.

pub mod deliver;
pub mod graph;
pub mod sync;
pub mod webhook;

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::OptionalExtension;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};

use crate::app::AppState;
use crate::domain::conversations::{self as conv, Stored};
use crate::domain::{attachments, outbox, whatsapp};
use crate::error::{AppError, AppResult};
use crate::events::Change;
use graph::Failure;

fn plain(status: StatusCode, text: &str) -> Response {
    warp::reply::with_status(text.to_string(), status).into_response()
}

/// GET /webhooks/whatsapp/{queue}: Meta's verification handshake.
async fn verify(state: Arc<AppState>, queue_id: i64, q: HashMap<String, String>) -> Response {
    let token = match state.db.read(move |c| whatsapp::verify_token(c, queue_id)).await {
        Ok(Some(t)) => t,
        Ok(None) => return plain(StatusCode::NOT_FOUND, "not found"),
        Err(e) => {
            tracing::error!("whatsapp verify: {e}");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "error");
        }
    };
    let mode_ok = q.get("hub.mode").map(String::as_str) == Some("subscribe");
    let given = q.get("hub.verify_token").map(String::as_bytes).unwrap_or_default();
    let token_ok =
        given.len() == token.len() && given.iter().zip(token.as_bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0;
    match q.get("hub.challenge") {
        Some(ch) if mode_ok && token_ok && ch.len() <= 200 => plain(StatusCode::OK, ch),
        _ => plain(StatusCode::FORBIDDEN, "forbidden"),
    }
}

/// POST /webhooks/whatsapp/{queue}: verified, parsed, committed, then 200.
async fn receive(state: Arc<AppState>, queue_id: i64, sig: Option<String>, body: bytes::Bytes) -> Response {
    let creds = match whatsapp::webhook_credentials(&state, queue_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return plain(StatusCode::NOT_FOUND, "not found"),
        Err(e) => {
            tracing::error!("whatsapp webhook: {e}");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "error");
        }
    };
    if !webhook::signature_ok(&creds.app_secret, &body, sig.as_deref()) {
        tracing::warn!(queue_id, "whatsapp webhook with a missing or wrong signature refused");
        return plain(StatusCode::UNAUTHORIZED, "bad signature");
    }
    let batch = match webhook::parse(&body, &creds.phone_number_id, &creds.waba_id) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(queue_id, "whatsapp webhook body not understood: {e}");
            return plain(StatusCode::BAD_REQUEST, "bad body");
        }
    };
    let files = match download(&state, &creds, &batch).await {
        Ok(f) => f,
        Err(reason) => {
            // Meta keeps the media a few days and redelivers what we do not
            // acknowledge: nothing of this batch is stored, nothing is lost.
            tracing::warn!(queue_id, "whatsapp media not downloaded yet, asking for a redelivery: {reason}");
            return plain(StatusCode::SERVICE_UNAVAILABLE, "media not downloaded");
        }
    };
    match store(&state, queue_id, batch, files).await {
        Ok(()) => plain(StatusCode::OK, "ok"),
        Err(AppError::StorageFull) => {
            let mut r = plain(StatusCode::SERVICE_UNAVAILABLE, "storage full");
            r.headers_mut()
                .insert(warp::http::header::RETRY_AFTER, warp::http::HeaderValue::from(crate::error::RETRY_AFTER_SECS));
            r
        }
        Err(e) => {
            tracing::error!(queue_id, "whatsapp webhook not stored: {e}");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "error")
        }
    }
}

/// What became of a message's media file: stored, or why not (pt-BR).
pub type File = Option<Result<attachments::Upload, String>>;

/// Downloads the media of a batch, one file per message (None without
/// media). A file that cannot be had for good (too large, a type Atende does
/// not accept) becomes its reason; a temporary failure fails the batch.
async fn download(
    state: &AppState,
    creds: &whatsapp::Credentials,
    batch: &webhook::Batch,
) -> Result<Vec<File>, String> {
    if batch.messages.iter().all(|r| r.media.is_none()) {
        return Ok(batch.messages.iter().map(|_| None).collect());
    }
    let limit = state.db.read(attachments::limits).await.map_err(|e| e.to_string())?.file;
    let loc = state.settings().locale;
    let mut out = Vec::with_capacity(batch.messages.len());
    for r in &batch.messages {
        let Some(m) = &r.media else {
            out.push(None);
            continue;
        };
        let file = match graph::media(creds, &m.id, limit).await {
            Ok((data, mime)) => {
                let mime = if mime.is_empty() { m.mime.clone() } else { mime };
                let name = if m.filename.is_empty() {
                    let ext = attachments::ext_for_mime(&mime).unwrap_or("bin");
                    let short: String = r.inbound.external_id.chars().rev().take(8).collect();
                    format!("{}-{}.{ext}", m.kind, short.chars().rev().collect::<String>().replace(['=', '.'], ""))
                } else {
                    m.filename.clone()
                };
                Some(attachments::check(&name, data, limit).map_err(|k| crate::i18n::t(loc, k).to_string()))
            }
            Err(Failure::Fatal { reason, .. }) => Some(Err(reason)),
            Err(Failure::Retry { reason, .. } | Failure::Unknown { reason }) => return Err(reason),
        };
        out.push(file);
    }
    Ok(out)
}

/// The text of a reaction, naming the message it is on.
fn reaction_text(conn: &rusqlite::Connection, r: &webhook::Reaction) -> AppResult<String> {
    let quoted: Option<String> = conn
        .prepare_cached(
            "SELECT m.body FROM outbox o JOIN messages m ON m.id = o.message_id WHERE o.channel = 'whatsapp' AND o.external_id = ?1
             UNION ALL
             SELECT m.body FROM inbound_ids i JOIN messages m ON m.id = i.message_id WHERE i.channel = 'whatsapp' AND i.external_id = ?1
             LIMIT 1",
        )?
        .query_row([&r.to], |row| row.get(0))
        .optional()?;
    let on = match quoted {
        Some(b) => format!("«{}»", b.chars().take(80).collect::<String>()),
        None => "uma mensagem".to_string(),
    };
    Ok(if r.emoji.is_empty() { format!("Removeu a reação em {on}") } else { format!("Reagiu {} a {on}", r.emoji) })
}

/// Commits a webhook batch in one transaction and publishes its changes.
pub async fn store(state: &AppState, queue_id: i64, batch: webhook::Batch, files: Vec<File>) -> AppResult<()> {
    let now = state.now();
    let loc = state.settings().locale;
    let changes = state
        .db
        .write(move |conn| {
            let mut changes: Vec<Change> = Vec::new();
            for (r, file) in batch.messages.iter().zip(files.iter()) {
                let mut m = r.inbound.clone();
                if let Some(Err(why)) = file {
                    m.body = format!("{} ({}: {why})", m.body, crate::i18n::t(loc, "wa.media_not_stored"));
                }
                let (stored, ch) = conv::whatsapp_message(conn, queue_id, &m, now)?;
                match (stored, file) {
                    (Stored::New { conversation, message }, Some(Ok(upload))) => {
                        if let Some(k) = attachments::store_received(conn, conversation, message, upload, now)? {
                            let note = format!(
                                "{} ({}: {})",
                                m.body,
                                crate::i18n::t(loc, "wa.media_not_stored"),
                                crate::i18n::t(loc, k)
                            );
                            conv::rewrite_inbound(conn, message, &note)?;
                        }
                    }
                    (Stored::Duplicate, _) => tracing::debug!(queue_id, "whatsapp redelivery ignored"),
                    _ => {}
                }
                changes.extend(ch);
            }
            for r in &batch.reactions {
                let mut m = r.inbound.clone();
                m.body = reaction_text(conn, r)?;
                changes.extend(conv::whatsapp_message(conn, queue_id, &m, now)?.1);
            }
            for st in &batch.statuses {
                changes.extend(outbox::apply_status(
                    conn,
                    "whatsapp",
                    &st.wamid,
                    st.callback.as_deref(),
                    &st.status,
                    &st.reason,
                    now,
                )?);
            }
            for t in &batch.templates {
                whatsapp::templates::apply_status(conn, queue_id, t, now)?;
            }
            Ok(crate::events::unique(changes))
        })
        .await?;
    state.bus.publish(changes);
    Ok(())
}

/// The webhook routes (public).
pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let st = warp::any().map(move || state.clone());
    let base = || warp::path!("webhooks" / "whatsapp" / i64);
    let get = base()
        .and(warp::get())
        .and(st.clone())
        .and(warp::query::<HashMap<String, String>>())
        .then(|id, s, q| verify(s, id, q));
    let post = base()
        .and(warp::post())
        .and(st)
        .and(warp::header::optional::<String>("x-hub-signature-256"))
        .and(warp::body::content_length_limit(webhook::BODY_LIMIT))
        .and(warp::body::bytes())
        .then(|id, s, sig, body| receive(s, id, sig, body));
    get.or(post).unify().boxed()
}
