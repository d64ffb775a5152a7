//! The outbox job for e-mail: takes the replies due, sends each through its
//! queue's SMTP server and records the outcome (sent, to retry with backoff,
//! failed with the server's words). An e-mail found still "sending" after a
//! restart is not sent again blindly: the server may have taken it, so it
//! is marked failed with a reason the agent reads, never sent twice.

use std::sync::Arc;

use futures_util::future::join_all;

use super::smtp::{self, Failure};
use crate::app::AppState;
use crate::domain::email::outgoing::Outgoing;
use crate::domain::outbox;
use crate::error::AppResult;
use crate::events::Change;

/// E-mails sent per run (the job runs every second).
pub const PER_RUN: usize = 50;

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Run {
    /// Accepted by the SMTP server.
    pub sent: usize,
    /// To be tried again later.
    pub retried: usize,
    /// Refused for good, or not confirmed before a restart.
    pub failed: usize,
}

async fn deliver(state: &AppState, item: &outbox::Item) -> Result<(), Failure> {
    let (queue, mid) = (item.queue_id, item.message_id);
    let loaded = state
        .db
        .read(move |c| {
            let files: Vec<i64> = c
                .prepare_cached("SELECT id FROM attachments WHERE message_id = ?1 ORDER BY id")?
                .query_map([mid], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let files = files
                .into_iter()
                .map(|id| crate::domain::attachments::bytes(c, id))
                .collect::<crate::error::AppResult<Vec<_>>>()?;
            Ok((smtp::access(c, queue)?, files))
        })
        .await;
    let (access, files) = loaded.map_err(|e| Failure::Retry(e.to_string()))?;
    let access = access.ok_or_else(|| Failure::Fatal("a fila não tem servidor SMTP configurado".into()))?;
    let out: Outgoing =
        serde_json::from_str(&item.payload).map_err(|e| Failure::Fatal(format!("e-mail guardado ilegível: {e}")))?;
    let message = smtp::build(&out, files)?;
    smtp::send(&access, message).await
}

/// Delivers the e-mails due now.
pub async fn run(state: &Arc<AppState>) -> AppResult<Run> {
    let now = state.now();
    let (items, stale, stale_changes) = state
        .db
        .write(move |c| {
            let (n, ch) = outbox::abandon_unconfirmed(c, "email", "mail.unconfirmed", now)?;
            Ok((outbox::take_due(c, "email", now, PER_RUN)?, n, ch))
        })
        .await?;
    state.bus.publish(stale_changes);
    if items.is_empty() {
        return Ok(Run { failed: stale, ..Default::default() });
    }
    let results = join_all(items.iter().map(|i| deliver(state, i))).await;
    let done = state.now();
    let outcomes: Vec<(outbox::Item, Result<(), Failure>)> = items.into_iter().zip(results).collect();
    let (run, changes) = state
        .db
        .write(move |conn| {
            let mut run = Run { failed: stale, ..Default::default() };
            let mut changes: Vec<Change> = Vec::new();
            for (item, r) in &outcomes {
                match r {
                    Ok(()) => {
                        run.sent += 1;
                        let id: String =
                            serde_json::from_str::<Outgoing>(&item.payload).map(|o| o.message_id).unwrap_or_default();
                        changes.extend(outbox::sent(conn, item.id, &id, done)?);
                    }
                    Err(Failure::Retry(reason)) => {
                        run.retried += 1;
                        changes.extend(outbox::retry(conn, item.id, reason, None, done)?);
                    }
                    Err(Failure::Fatal(reason)) => {
                        run.failed += 1;
                        changes.extend(outbox::failed(conn, item.id, reason, done)?);
                    }
                }
            }
            Ok((run, changes))
        })
        .await?;
    state.bus.publish(crate::events::unique(changes));
    Ok(run)
}
