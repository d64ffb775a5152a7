//! The outbox job for WhatsApp: takes what is due (at most the number's
//! throughput per run), sends it through the Graph API and records each
//! outcome. A revoked token marks the number "desconectado" and alerts the
//! admins.

use std::sync::Arc;

use futures_util::future::join_all;

use super::graph::{self, Failure};
use crate::app::AppState;
use crate::domain::{outbox, whatsapp};
use crate::error::AppResult;
use crate::events::Change;

/// Messages sent per run (the job runs every second) over all numbers; each
/// number sends at most its own messages per second (Meta's default is 80).
pub const PER_RUN: usize = 1000;

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Run {
    /// Accepted by Meta.
    pub sent: usize,
    /// To be tried again later.
    pub retried: usize,
    /// Refused for good.
    pub failed: usize,
}

/// Uploads a message's file, then sends the message naming it. A crash
/// between the two leaves an unused upload at Meta (which expires it), never
/// a second message.
async fn send_file(
    state: &AppState,
    c: &whatsapp::Credentials,
    item: &outbox::Item,
    aid: i64,
) -> Result<String, Failure> {
    let file = state.db.read(move |conn| crate::domain::attachments::bytes(conn, aid)).await;
    let (data, mime, name) = file
        .map_err(|_| Failure::Fatal { reason: "o arquivo da mensagem não está mais guardado".into(), code: None })?;
    let media = graph::upload_media(c, data, &mime, &name).await?;
    let id = serde_json::Value::String(media).to_string();
    graph::send(c, &item.payload.replace(&format!("\"{}\"", outbox::MEDIA_ID), &id)).await
}

/// Delivers the WhatsApp messages due now.
pub async fn run(state: &Arc<AppState>) -> AppResult<Run> {
    let now = state.now();
    let items = state.db.write(move |c| outbox::take_due(c, "whatsapp", now, PER_RUN)).await?;
    if items.is_empty() {
        return Ok(Run::default());
    }
    let mut queues: Vec<i64> = items.iter().map(|i| i.queue_id).collect();
    queues.sort_unstable();
    queues.dedup();
    let creds = state
        .db
        .read(move |c| queues.into_iter().map(|q| Ok((q, whatsapp::credentials(c, q)?))).collect::<AppResult<Vec<_>>>())
        .await?;
    let sends = items.iter().map(|item| {
        let cred = creds.iter().find(|(q, _)| *q == item.queue_id).and_then(|(_, c)| c.clone());
        async move {
            match cred {
                Some(c) if item.channel == "whatsapp" => match item.attachment_id {
                    Some(aid) => send_file(state, &c, item, aid).await,
                    None => graph::send(&c, &item.payload).await,
                },
                _ => Err(Failure::Fatal { reason: "número de WhatsApp da fila não configurado".into(), code: None }),
            }
        }
    });
    let results = join_all(sends).await;
    let done = state.now();
    let outcomes: Vec<(outbox::Item, Result<String, Failure>)> = items.into_iter().zip(results).collect();
    let (run, changes, bad_token) = state
        .db
        .write(move |conn| {
            let mut run = Run::default();
            let mut changes: Vec<Change> = Vec::new();
            let mut bad_token: Vec<(i64, String)> = Vec::new();
            for (item, r) in &outcomes {
                match r {
                    Ok(wamid) => {
                        run.sent += 1;
                        changes.extend(outbox::sent(conn, item.id, wamid, done)?);
                    }
                    Err(Failure::Retry { reason, after }) => {
                        run.retried += 1;
                        changes.extend(outbox::retry(conn, item.id, reason, *after, done)?);
                    }
                    Err(Failure::Unknown { reason }) => {
                        // Maybe taken: left "sending" until a status callback
                        // names it, or the reconcile time passes.
                        run.retried += 1;
                        tracing::warn!(outbox = item.id, "whatsapp send not confirmed: {reason}");
                    }
                    Err(Failure::Fatal { reason, code }) => {
                        run.failed += 1;
                        changes.extend(outbox::failed(conn, item.id, reason, done)?);
                        if *code == Some(190) {
                            bad_token.push((item.queue_id, reason.clone()));
                        }
                    }
                }
            }
            for (q, reason) in &bad_token {
                changes.extend(whatsapp::token_refused(conn, *q, reason, done)?);
            }
            Ok((run, changes, !bad_token.is_empty()))
        })
        .await?;
    if bad_token {
        tracing::warn!("a WhatsApp number's token was refused by Meta; admins alerted");
    }
    state.bus.publish(crate::events::unique(changes));
    Ok(run)
}
