//! Acompanhamento (`/acompanhamento`, supervisors and administrators): the
//! live panels, their fragments, the supervisor's actions and the read-only
//! view of a conversation. Every handler checks the scope: agents get 404,
//! and another team's agent, queue or conversation answers 404 too.

use warp::reply::Response;

use super::ctx::{Ctx, html, redirect};
use crate::domain::supervision::{self as sup, Scope, agents, queues};
use crate::domain::validate::Input;
use crate::error::{AppError, AppResult};
use crate::views;
use crate::views::supervision::{Notice, Tab};

/// The notices an action may come back with (`ok=` / `erro=`).
const NOTICES: &[&str] = &[
    "sup.ok.pause_ended",
    "sup.ok.not_ready",
    "sup.ok.assigned",
    "sup.ok.transferred",
    "sup.err.already_not_ready",
    "sup.err.closed",
    "sup.err.not_connected",
    "sup.err.same_agent",
    "sup.err.pick_agent",
    "sup.err.pick_queue",
    "sup.err.agent_not_ready",
    "sup.err.agent_full",
    "sup.err.agent_inactive",
    "sup.err.other_channel",
    "pause.not_paused",
    "transfer.same_queue",
    "val.invalid_choice",
    "conv.not_yours",
];

/// The desk's short reasons (made for a list of agents) as whole sentences.
fn sentence(key: &'static str) -> &'static str {
    match key {
        "presence.not_ready" => "sup.err.agent_not_ready",
        "transfer.full" => "sup.err.agent_full",
        "status.inactive" => "sup.err.agent_inactive",
        "transfer.no_queue" => "sup.err.other_channel",
        k => k,
    }
}

fn notice(q: &Input) -> Option<Notice> {
    let known = |k: &str| NOTICES.iter().find(|n| **n == k).copied();
    match (known(q.get("ok")), known(q.get("erro"))) {
        (_, Some(k)) => Some((false, k)),
        (Some(k), None) => Some((true, k)),
        _ => None,
    }
}

/// An optional id from the query: empty is none, anything but a number is
/// nothing that exists.
fn opt_id(q: &Input, name: &str) -> AppResult<Option<i64>> {
    match q.get(name).trim() {
        "" => Ok(None),
        v => v.parse().map(Some).map_err(|_| AppError::NotFound),
    }
}

fn scope(ctx: &Ctx) -> AppResult<Scope> {
    Scope::of(ctx.user()?)
}

async fn agents_panel(ctx: &Ctx, scope: Scope) -> AppResult<maud::Markup> {
    let (now, tz) = (ctx.state.now(), ctx.state.settings().tz());
    let tz2 = tz.clone();
    let list = ctx.state.db.read(move |c| agents::list(c, &scope, now, &tz2)).await?;
    Ok(views::supervision::agents(ctx.loc, ctx.csrf(), ctx.user()?.id, &list, now))
}

async fn queues_panel(ctx: &Ctx, scope: Scope, only: Option<i64>) -> AppResult<maud::Markup> {
    let (now, tz) = (ctx.state.now(), ctx.state.settings().tz());
    let p = ctx.state.db.read(move |c| queues::panel(c, &scope, only, now, &tz)).await?;
    Ok(views::supervision::queues(ctx.loc, ctx.csrf(), &p, only, now))
}

/// GET /acompanhamento — the page, on the Agentes tab or (`aba=atendimentos`,
/// optionally `fila=`) the Atendimentos one.
pub async fn page(ctx: Ctx, q: Input) -> AppResult<Response> {
    let scope = scope(&ctx)?;
    let tab = if q.get("aba") == Tab::Queues.code() { Tab::Queues } else { Tab::Agents };
    let panel = match tab {
        Tab::Agents => agents_panel(&ctx, scope).await?,
        Tab::Queues => queues_panel(&ctx, scope, opt_id(&q, "fila")?).await?,
    };
    let body = views::supervision::page(ctx.loc, tab, notice(&q), panel);
    Ok(ctx.page(ctx.t("sup.title"), "/acompanhamento", body))
}

/// GET /acompanhamento/agentes — the Agentes panel alone (live refresh).
pub async fn agents_fragment(ctx: Ctx) -> AppResult<Response> {
    let scope = scope(&ctx)?;
    Ok(html(agents_panel(&ctx, scope).await?))
}

/// GET /acompanhamento/atendimentos[?fila=] — the Atendimentos panel alone.
pub async fn queues_fragment(ctx: Ctx, q: Input) -> AppResult<Response> {
    let scope = scope(&ctx)?;
    let only = opt_id(&q, "fila")?;
    Ok(html(queues_panel(&ctx, scope, only).await?))
}

/// GET /acompanhamento/atendimentos/{id} — a conversation, read-only.
pub async fn view(ctx: Ctx, id: i64, q: Input) -> AppResult<Response> {
    scope(&ctx)?;
    let user = ctx.user()?.clone();
    let w = ctx.state.db.read(move |c| sup::conversation(c, &user, id)).await?;
    let tz = ctx.state.settings().tz();
    let watch = views::supervision::Watch {
        c: &w.c,
        msgs: &w.msgs,
        agents: &w.agents,
        queues: &w.queues,
        serving_since: w.serving_since,
        back: "/acompanhamento?aba=atendimentos",
        tz: &tz,
        now: ctx.state.now(),
    };
    let body = views::supervision::conversation(ctx.loc, ctx.csrf(), &watch, notice(&q));
    let title = format!("{} · {}", w.c.contact_name, ctx.t("sup.title"));
    Ok(ctx.page(&title, "/acompanhamento", body))
}

/// Where an action returns: `back` with the notice, replacing an older one.
fn back_with(back: &str, ok: bool, key: &str) -> Response {
    let (path, query) = back.split_once('?').unwrap_or((back, ""));
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if k != "ok" && k != "erro" {
            s.append_pair(&k, &v);
        }
    }
    s.append_pair(if ok { "ok" } else { "erro" }, key);
    redirect(&format!("{path}?{}", s.finish()))
}

/// Success goes back with `ok`, a refusal the person can act on with its
/// message; a missing object stays an error (404).
fn after(back: &str, r: AppResult<()>, ok: &'static str) -> AppResult<Response> {
    match r {
        Ok(()) => Ok(back_with(back, true, ok)),
        Err(AppError::Conflict(k) | AppError::BadRequest(k)) => Ok(back_with(back, false, sentence(k))),
        Err(e) => Err(e),
    }
}

/// The page an action came from (`voltar`), when it is one of these pages.
fn back_of(input: &Input, fallback: &str) -> String {
    let v = input.get("voltar");
    if v.starts_with("/acompanhamento") && super::ctx::safe_next(v) == v { v.to_string() } else { fallback.to_string() }
}

const AGENTS_TAB: &str = "/acompanhamento?aba=agentes";
const QUEUES_TAB: &str = "/acompanhamento?aba=atendimentos";

/// POST /acompanhamento/agentes/{id}/encerrar-pausa
pub async fn end_pause(ctx: Ctx, id: i64, _input: Input) -> AppResult<Response> {
    scope(&ctx)?;
    let user = ctx.user()?.clone();
    let r = sup::end_pause(&ctx.state, &ctx.actor(), &user, id).await;
    after(AGENTS_TAB, r, "sup.ok.pause_ended")
}

/// POST /acompanhamento/agentes/{id}/nao-pronto
pub async fn not_ready(ctx: Ctx, id: i64, _input: Input) -> AppResult<Response> {
    scope(&ctx)?;
    let user = ctx.user()?.clone();
    let r = sup::set_not_ready(&ctx.state, &ctx.actor(), &user, id).await;
    after(AGENTS_TAB, r, "sup.ok.not_ready")
}

/// A chosen id from a form: empty or not a number is a choice not made.
fn chosen(input: &Input, name: &str) -> Option<i64> {
    input.get(name).trim().parse().ok()
}

/// POST /acompanhamento/atendimentos/{id}/atribuir (`agente`)
pub async fn assign(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    scope(&ctx)?;
    let user = ctx.user()?.clone();
    let back = back_of(&input, QUEUES_TAB);
    let r = match chosen(&input, "agente") {
        Some(agent) => sup::assign(&ctx.state, &ctx.actor(), &user, id, agent).await,
        None => {
            // Still a conversation the viewer must be allowed to see.
            let u = user.clone();
            ctx.state.db.read(move |c| sup::watched_conversation(c, &u, id)).await?;
            Err(AppError::BadRequest("sup.err.pick_agent"))
        }
    };
    after(&back, r, "sup.ok.assigned")
}

/// POST /acompanhamento/atendimentos/{id}/transferir (`fila`)
pub async fn transfer(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    scope(&ctx)?;
    let user = ctx.user()?.clone();
    let back = back_of(&input, QUEUES_TAB);
    let r = match chosen(&input, "fila") {
        Some(queue) => sup::transfer(&ctx.state, &ctx.actor(), &user, id, queue).await,
        None => {
            let u = user.clone();
            ctx.state.db.read(move |c| sup::watched_conversation(c, &u, id)).await?;
            Err(AppError::BadRequest("sup.err.pick_queue"))
        }
    };
    after(&back, r, "sup.ok.transferred")
}
