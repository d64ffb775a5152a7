//! Live streams bound to the session that opened them.
//!
//! An event stream is one long response: the session was checked when it
//! began and never again, so a stream kept delivering after logout, a
//! password change or deactivation. Here a streaming response is pumped
//! through a small channel while its session is watched; the moment the
//! session is gone the pump stops, the inner stream (and its bus receiver) is
//! dropped and the response ends. The browser's reconnect then meets the
//! login redirect.
//!
//! The session is checked again when the bus says sessions of this user
//! ended (logout, password change or reset, deactivation: immediate), and
//! every [`RECHECK`] in any case (expiry, the session cleanup job, a change
//! made by the command line from another process).

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use tokio::sync::broadcast::error::RecvError;
use warp::reply::{Reply, Response};

use super::ctx::Ctx;
use crate::app::AppState;
use crate::domain::auth;
use crate::domain::users::User;
use crate::error::AppResult;
use crate::events::Event;

/// Longest time a stream outlives its session when nothing announced the end.
pub const RECHECK: Duration = Duration::from_secs(5);

/// GET /eventos — the desk's live stream (see `desk::events`), ended as soon
/// as the session that opened it ends.
pub async fn events(ctx: Ctx, last: Option<u64>) -> AppResult<Response> {
    let user = ctx.user()?;
    let (uid, token_hash) = (user.id, ctx.session.as_ref().map(|s| s.token_hash.clone()).unwrap_or_default());
    let state = ctx.state.clone();
    let r = super::desk::events(ctx, last).await?;
    Ok(bound_to_session(state, uid, token_hash, r))
}

/// The SSE event name of what a stream carries only because its user
/// supervises: the Acompanhamento page follows it, the desk ignores it.
pub const SUPERVISION: &str = "supervision";

/// What a supervisor's stream carries besides their own events: the
/// presence and list changes of the agents of their teams, and the offers,
/// lists and messages of their teams' queues (administrators: everyone's).
/// Read when the stream opens; a change of teams counts from the next
/// reconnect (streams end every `desk::STREAM_LIFETIME`). Agents watch
/// nobody.
#[derive(Clone, Debug, Default)]
pub struct Watch {
    all: bool,
    agents: HashSet<i64>,
    queues: HashSet<i64>,
}

impl Watch {
    /// What `user` watches.
    pub async fn load(state: &AppState, user: &User) -> AppResult<Watch> {
        use crate::domain::supervision::{Scope, watched_ids};
        let Ok(scope) = Scope::of(user) else { return Ok(Watch::default()) };
        if scope.teams.is_none() {
            return Ok(Watch { all: true, ..Watch::default() });
        }
        let (agents, queues) = state.db.read(move |c| watched_ids(c, &scope)).await?;
        Ok(Watch { all: false, agents: agents.into_iter().collect(), queues: queues.into_iter().collect() })
    }

    /// Whether `e` concerns someone or something watched. Notifications,
    /// tasks, typing and the like stay their own user's.
    pub fn sees(&self, e: &Event) -> bool {
        match e.kind {
            "presence" | "conversation" => e.agent_id.is_some_and(|a| self.all || self.agents.contains(&a)),
            "offer" | "queue" | "message" => e.queue_id.is_some_and(|q| self.all || self.queues.contains(&q)),
            _ => false,
        }
    }
}

/// `r` (a streaming response) ending when the session `token_hash` of user
/// `uid` does; status and headers are kept.
pub fn bound_to_session(state: Arc<AppState>, uid: i64, token_hash: Vec<u8>, r: Response) -> Response {
    let (parts, mut body) = r.into_parts();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, Infallible>>(16);
    tokio::spawn(async move {
        let ended = session_ended(state, uid, token_hash);
        tokio::pin!(ended);
        loop {
            tokio::select! {
                _ = &mut ended => break,
                _ = tx.closed() => break,
                frame = body.frame() => match frame {
                    Some(Ok(f)) => {
                        if let Ok(data) = f.into_data()
                            && tx.send(Ok(data)).await.is_err()
                        {
                            break;
                        }
                    }
                    Some(Err(_)) | None => break,
                },
            }
        }
    });
    let piped = warp::reply::stream(tokio_stream::wrappers::ReceiverStream::new(rx)).into_response();
    Response::from_parts(parts, piped.into_body())
}

/// Resolves once the session is no longer valid (or cannot be checked).
async fn session_ended(state: Arc<AppState>, uid: i64, token_hash: Vec<u8>) {
    let (mut rx, _) = state.bus.subscribe(None);
    let mut tick = tokio::time::interval(RECHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            r = rx.recv() => match r {
                Ok(e) if e.kind == auth::SESSION_ENDED && e.agent_id == Some(uid) => {}
                Ok(_) => continue,
                // Missed events may have held ours: check now.
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
        }
        let (now, idle, max) = (state.now(), state.config.session_idle_secs, state.config.session_max_secs);
        let th = token_hash.clone();
        match state.db.read(move |c| auth::alive(c, &th, now, idle, max)).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                // Unsure is not valid: end the stream, the browser reconnects
                // through the normal session check.
                tracing::warn!("live stream session check failed: {e}");
                return;
            }
        }
    }
}
