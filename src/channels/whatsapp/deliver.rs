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

/// Messages sent per run (the job runs every second): Meta's default
/// throughput of a number is 80 messages per second.
pub const PER_RUN: usize = 80;

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

/// Delivers the WhatsApp messages due now.
pub async fn run(state: &Arc<AppState>) -> AppResult<Run> {
    let now = state.now();
    let items = state.db.write(move |c| outbox::take_due(c, now, PER_RUN)).await?;
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
                Some(c) if item.channel == "whatsapp" => graph::send(&c, &item.payload).await,
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
