//! Synchronising a number's message templates from the Graph API (every
//! page), from the admin's button and from a scheduled job.

use crate::app::AppState;
use crate::domain::whatsapp::{self, templates};
use crate::error::{AppError, AppResult};

use super::graph::{self, Failure};

/// Reads every template of the queue's account and stores the listing;
/// a failure is recorded on the number and returned (pt-BR). A refused
/// token marks the number "desconectado" and alerts the admins.
pub async fn templates(state: &AppState, queue_id: i64) -> AppResult<Result<templates::Synced, String>> {
    let Some(creds) = state.db.read(move |c| whatsapp::credentials(c, queue_id)).await? else {
        return Err(AppError::Conflict("wa.test.needs"));
    };
    let listed = graph::templates(&creds).await;
    let now = state.now();
    state
        .db
        .write(move |conn| match listed {
            Ok(list) => Ok(Ok(templates::store_listing(conn, queue_id, &list, now)?)),
            Err(f) => {
                let (reason, code) = match f {
                    Failure::Retry { reason, .. } | Failure::Unknown { reason } => (reason, None),
                    Failure::Fatal { reason, code } => (reason, code),
                };
                templates::sync_failed(conn, queue_id, &reason)?;
                if code == Some(190) {
                    whatsapp::token_refused(conn, queue_id, &reason, now)?;
                }
                Ok(Err(reason))
            }
        })
        .await
}

/// Synchronises every connected number's templates (the scheduled job);
/// returns how many numbers were synchronised and how many failed.
pub async fn all(state: &AppState) -> AppResult<(usize, usize)> {
    let queues = state.db.read(whatsapp::synced_queues).await?;
    let (mut ok, mut bad) = (0, 0);
    for q in queues {
        match templates(state, q).await? {
            Ok(_) => ok += 1,
            Err(reason) => {
                bad += 1;
                tracing::warn!(queue_id = q, "whatsapp templates not synchronised: {reason}");
            }
        }
    }
    Ok((ok, bad))
}
