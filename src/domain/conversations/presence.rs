//! Agent presence (Pronto / Não pronto) and queue connections.

use super::*;
use crate::app::AppState;
use crate::domain::routing;
use crate::domain::users::User;
use crate::error::{AppError, AppResult};

/// Sets `user` Pronto (ready) or Não pronto. Becoming ready is a fresh
/// start (see [`routing::fresh_start`]) and routes their queues.
pub async fn set_ready(state: &AppState, user: &User, ready: bool) -> AppResult<()> {
    let uid = user.id;
    apply(state, move |conn, now| {
        routing::set_presence(conn, uid, if ready { routing::READY } else { routing::NOT_READY }, now)?;
        // The agent's other tabs and their supervisors' panels follow.
        let mut changes = vec![Change::user("presence", uid)];
        if ready {
            routing::fresh_start(conn, uid)?;
            for q in routing::member_queues(conn, uid)? {
                changes.extend(routing::route(conn, q, now)?);
            }
        }
        Ok(((), changes))
    })
    .await
}

/// Connects `user` to (or disconnects from) one of their queues.
pub async fn set_connected(state: &AppState, user: &User, queue_id: i64, on: bool) -> AppResult<()> {
    let uid = user.id;
    apply(state, move |conn, now| {
        if !routing::member_queues(conn, uid)?.contains(&queue_id) {
            return Err(AppError::NotFound);
        }
        routing::set_connected(conn, uid, queue_id, on)?;
        let mut changes = vec![];
        if on {
            changes.extend(routing::route(conn, queue_id, now)?);
        }
        Ok(((), changes))
    })
    .await
}
