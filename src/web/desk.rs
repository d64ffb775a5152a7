//! Agent desk handlers: messages, actions, presence, queues, and the live
//! event stream (the workspace's pages are in `workspace.rs`).

use std::convert::Infallible;
use std::time::Duration;

use futures_util::StreamExt;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};
use warp::sse::Event as SseEvent;

use super::ctx::{Ctx, html, redirect};
use crate::domain::conversations as conv;
use crate::domain::validate::Input;
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::views;

/// How long one event stream lives before the browser must reconnect.
pub const STREAM_LIFETIME: Duration = Duration::from_secs(300);

/// GET /atendimentos/{id}/mensagens?after=N — new messages (live refresh).
pub async fn messages(ctx: Ctx, id: i64, q: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let after: i64 = q.get("after").parse().unwrap_or(0);
    let u2 = user.clone();
    let (c, msgs) = ctx
        .state
        .db
        .read(move |db| {
            let c = conv::visible(db, &u2, id)?;
            Ok((c, conv::messages(db, id, after, true)?))
        })
        .await?;
    if c.agent_id == Some(user.id) && !msgs.is_empty() {
        conv::mark_read(&ctx.state, &user, id).await?;
    }
    let tz = ctx.state.settings().tz();
    let mut r = html(views::desk::message_list(ctx.loc, &msgs, &tz));
    if let Ok(v) = warp::http::HeaderValue::from_str(&c.status) {
        r.headers_mut().insert("x-conversation-status", v);
    }
    Ok(r)
}

/// Where to go after an action; a refusal comes back as a notice.
fn after_action(id: i64, r: AppResult<()>, back_home: bool) -> AppResult<Response> {
    match r {
        Ok(()) if back_home => Ok(redirect("/atendimentos")),
        Ok(()) => Ok(redirect(&format!("/atendimentos/{id}"))),
        Err(AppError::Conflict(key) | AppError::BadRequest(key)) => {
            Ok(redirect(&format!("/atendimentos/{id}?err={key}")))
        }
        Err(e) => Err(e),
    }
}

/// POST /atendimentos/{id}/mensagens — the agent's reply, or an internal
/// note (`mode=note`).
pub async fn send(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let r = match input.get("mode") {
        "note" => conv::note(&ctx.state, &user, id, input.raw("text")).await,
        "" | "reply" => {
            match crate::domain::email::outgoing::Extras::parse(
                input.get("cc"),
                input.get("bcc"),
                input.get("modelo_email"),
            ) {
                Ok(extras) => conv::send_with(&ctx.state, &user, id, input.raw("text"), extras).await,
                Err(e) => Err(e),
            }
        }
        _ => Err(AppError::BadRequest("val.invalid_choice")),
    };
    match r {
        Ok(_) => Ok(redirect(&format!("/atendimentos/{id}"))),
        Err(AppError::BadRequest(key)) => {
            let mut r = html(maud::html! { p.flash.flash-error role="alert" { (crate::i18n::t(ctx.loc, key)) } });
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => after_action(id, Err(e), false),
    }
}

macro_rules! action {
    ($name:ident, $doc:literal, $home:expr, |$ctx:ident, $user:ident, $id:ident| $call:expr) => {
        #[doc = $doc]
        pub async fn $name($ctx: Ctx, $id: i64, _input: Input) -> AppResult<Response> {
            let owned = $ctx.user()?.clone();
            let $user = &owned;
            let r = $call.await;
            after_action($id, r, $home)
        }
    };
}

action!(accept, "POST /atendimentos/{id}/aceitar", false, |ctx, user, id| conv::accept(&ctx.state, user, id));
action!(decline, "POST /atendimentos/{id}/recusar", true, |ctx, user, id| conv::decline(&ctx.state, user, id));
action!(claim, "POST /atendimentos/{id}/pegar", false, |ctx, user, id| conv::claim(&ctx.state, user, id));
/// POST /atendimentos/{id}/finalizar
pub async fn finish(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    leave(ctx, id, input, false).await
}

/// POST /atendimentos/{id}/arquivar
pub async fn archive(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    leave(ctx, id, input, true).await
}

/// Finishing or archiving: when the conversation has open tasks, first ask
/// whether to postpone them to tomorrow or complete them (`tarefas`).
async fn leave(ctx: Ctx, id: i64, input: Input, archive: bool) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let u2 = user.clone();
    let open = ctx
        .state
        .db
        .read(move |c| {
            conv::visible(c, &u2, id)?;
            crate::domain::tasks::open_for_conversation(c, &u2, id)
        })
        .await?;
    // The closing script (finishing only): asked first, when the queue wants it.
    let script = if archive { ScriptAnswer::NotAsked } else { closing_script(&ctx, id, &input).await? };
    let script = match script {
        ScriptAnswer::Page(r) => return Ok(r),
        ScriptAnswer::Given(s) => Some(s),
        ScriptAnswer::NotAsked => None,
    };
    if !open.is_empty() {
        match input.get("tarefas") {
            "adiar" => crate::domain::tasks::settle_for_conversation(&ctx.state, &user, id, true).await?,
            "concluir" => crate::domain::tasks::settle_for_conversation(&ctx.state, &user, id, false).await?,
            _ => {
                let tz = ctx.state.settings().tz();
                let body = views::tasks::finish_dialog(ctx.loc, ctx.csrf(), id, archive, &open, &tz, script);
                return Ok(ctx.page(ctx.t("task.leave_title"), "/atendimentos", body));
            }
        }
    }
    let r = conv::close(&ctx.state, &user, id, archive, script).await;
    after_action(id, r, true)
}

enum ScriptAnswer {
    /// The queue does not ask it and nothing was sent.
    NotAsked,
    /// Reason and resolved, both given.
    Given(conv::Closing),
    /// Asked and missing or wrong: the script page to show.
    Page(Response),
}

async fn closing_script(ctx: &Ctx, id: i64, input: &Input) -> AppResult<ScriptAnswer> {
    let user = ctx.user()?.clone();
    let (required, reasons) = ctx
        .state
        .db
        .read(move |c| {
            let conv = conv::visible(c, &user, id)?;
            Ok((conv::script_required(c, conv.queue_id)?, conv::closing_reasons(c)?))
        })
        .await?;
    let reason = input.get("reason_id");
    let resolved = input.get("resolved");
    if !required && reason.is_empty() && resolved.is_empty() {
        return Ok(ScriptAnswer::NotAsked);
    }
    let parsed_reason = reason.parse::<i64>().ok().filter(|r| reasons.iter().any(|(id, _)| id == r));
    let parsed_resolved = match resolved {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    };
    match (parsed_reason, parsed_resolved) {
        (Some(reason_id), Some(resolved)) => Ok(ScriptAnswer::Given(conv::Closing { reason_id, resolved })),
        _ => {
            let attempted = !reason.is_empty() || !resolved.is_empty();
            let error = attempted.then_some("conv.script_required");
            let body = views::desk::closing_page(ctx.loc, ctx.csrf(), id, &reasons, error);
            let status = if attempted { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            Ok(ScriptAnswer::Page(ctx.page_status(status, ctx.t("closing.title"), "/atendimentos", body)))
        }
    }
}

/// POST /atendimentos/{id}/reabrir-em — schedule (`quando`, business time)
/// or cancel (`cancelar=1`) the reopening of a closed conversation.
pub async fn schedule_reopen(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let at = if input.checked("cancelar") {
        None
    } else {
        let tz = ctx.state.settings().tz();
        match crate::domain::tasks::parse_local(input.get("quando"), &tz) {
            Some(t) => Some(t),
            None => return after_action(id, Err(AppError::BadRequest("conv.reopen_bad_time")), false),
        }
    };
    let r = conv::schedule_reopen(&ctx.state, &user, id, at).await;
    after_action(id, r, false)
}

/// POST /atendimentos/{id}/etiquetas — tag the conversation (`tag_id`).
pub async fn tag_add(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let tag = input.get("tag_id").parse::<i64>().map_err(|_| AppError::BadRequest("val.invalid_choice"));
    let r = match tag {
        Ok(tag) => conv::set_tag(&ctx.state, &user, id, tag, true).await,
        Err(e) => Err(e),
    };
    after_action(id, r, false)
}

/// POST /atendimentos/{id}/etiquetas/{tag}/remover
pub async fn tag_remove(ctx: Ctx, id: i64, tag: i64, _input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let r = conv::set_tag(&ctx.state, &user, id, tag, false).await;
    after_action(id, r, false)
}
action!(reopen, "POST /atendimentos/{id}/reabrir", false, |ctx, user, id| conv::reopen(&ctx.state, user, id));

/// POST /atendimentos/{id}/transferir — to a team (`team_id`) or agent (`agent_id`).
pub async fn transfer(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let parse = |k: &str| input.get(k).parse::<i64>().ok().filter(|n| *n > 0);
    let r = match (parse("team_id"), parse("agent_id")) {
        (Some(t), None) => conv::transfer_to_team(&ctx.state, &user, id, t).await,
        (None, Some(a)) => conv::transfer_to_agent(&ctx.state, &user, id, a).await,
        _ => Err(AppError::BadRequest("transfer.choose")),
    };
    after_action(id, r, true)
}

/// POST /presenca — Pronto (`ready=1`) or Não pronto (`ready=0`).
pub async fn presence(ctx: Ctx, input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let ready = match input.get("ready") {
        "1" => true,
        "0" => false,
        _ => return Err(AppError::BadRequest("val.invalid_choice")),
    };
    conv::set_ready(&ctx.state, &user, ready).await?;
    Ok(redirect("/atendimentos"))
}

/// POST /filas/{id}/conexao — connect (`on=1`) or disconnect (`on=0`).
pub async fn connect(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let on = match input.get("on") {
        "1" => true,
        "0" => false,
        _ => return Err(AppError::BadRequest("val.invalid_choice")),
    };
    conv::set_connected(&ctx.state, &user, id, on).await?;
    Ok(redirect("/atendimentos"))
}

/// POST /filas/{id}/puxar — take the oldest waiting conversation of a queue.
pub async fn pull(ctx: Ctx, id: i64, _input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    match conv::pull(&ctx.state, &user, id).await {
        Ok(cid) => Ok(redirect(&format!("/atendimentos/{cid}"))),
        Err(AppError::Conflict(key)) => Ok(redirect(&format!("/atendimentos?err={key}"))),
        Err(e) => Err(e),
    }
}

/// GET /eventos — the live stream of what this user may see. Resumes after
/// `Last-Event-ID` from the bus's memory; if that is gone, tells the page to
/// reload its lists.
pub async fn events(ctx: Ctx, last: Option<u64>) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let u2 = user.clone();
    let queues = ctx.state.db.read(move |c| conv::visible_queues(c, &u2)).await?;
    let uid = user.id;
    // What a supervisor also sees comes under its own event name (see `live::Watch`).
    let watch = super::live::Watch::load(&ctx.state, &user).await?;
    let allowed = move |e: &Event| -> Option<&'static str> {
        let own = match e.kind {
            "offer" | "conversation" | "notification" | "presence" | "tasks" | "session_ended" => {
                e.agent_id == Some(uid)
            }
            _ => {
                e.agent_id == Some(uid) || queues.as_ref().is_none_or(|qs| e.queue_id.is_some_and(|q| qs.contains(&q)))
            }
        };
        if own { Some(e.kind) } else { watch.sees(e).then_some(super::live::SUPERVISION) }
    };
    let (rx, backlog) = ctx.state.bus.subscribe(last);
    let to_sse = |e: &Event, name: &str| SseEvent::default().id(e.seq.to_string()).event(name).json_data(e).ok();
    let head: Vec<Result<SseEvent, Infallible>> = match backlog {
        Some(events) => events.iter().filter_map(|e| allowed(e).and_then(|n| to_sse(e, n))).map(Ok).collect(),
        None => vec![Ok(SseEvent::default().id(ctx.state.bus.last_seq().to_string()).event("reload").data("{}"))],
    };
    let allowed2 = allowed.clone();
    let live = tokio_stream::wrappers::BroadcastStream::new(rx).filter_map(move |r| {
        let out = match r {
            Ok(e) => allowed2(&e).and_then(|n| to_sse(&e, n)).map(Ok),
            // Fell behind: the page reloads its lists instead of missing events.
            Err(_) => Some(Ok(SseEvent::default().event("reload").data("{}"))),
        };
        std::future::ready(out)
    });
    // Streams end after a while so the browser reconnects and the session is
    // checked again (a logged-out or expired session stops receiving); the
    // reconnect resumes from Last-Event-ID, so nothing is missed.
    let live = live.take_until(tokio::time::sleep(STREAM_LIFETIME));
    let stream = futures_util::stream::iter(head).chain(live);
    let keep = warp::sse::keep_alive().interval(Duration::from_secs(15)).stream(stream);
    let mut r = warp::sse::reply(keep).into_response();
    r.headers_mut().insert("cache-control", warp::http::HeaderValue::from_static("no-cache"));
    Ok(r)
}
