//! The agent's side of the web chat widget: "digitando…" for the visitor.

use warp::http::StatusCode;
use warp::reply::{Reply, Response};

use super::ctx::Ctx;
use crate::domain::validate::Input;
use crate::domain::webchat;
use crate::error::AppResult;

/// POST /atendimentos/{id}/digitando — the agent is typing a reply. CSRF in
/// the form (`_csrf`) or the `X-CSRF-Token` header; authorized like a reply
/// (404 if the agent may not see it, 409 if it is not assigned to them).
/// Never stored: an `agent_typing` event reaches the visitor's stream. 204.
pub async fn agent_typing(ctx: Ctx, id: i64, _input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    webchat::agent_typing(&ctx.state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
