//! The admin's WhatsApp connection of a queue: see and save the number,
//! test the connection against the Graph API.

use warp::http::StatusCode;
use warp::reply::Response;

use super::ctx::{Ctx, redirect};
use crate::channels::whatsapp::graph::{self, Check};
use crate::domain::validate::{FormErrors, Input};
use crate::domain::whatsapp::{self, NumberForm};
use crate::error::{AppError, AppResult};
use crate::views;

async fn queue_name(ctx: &Ctx, id: i64) -> AppResult<String> {
    ctx.state.db.read(move |c| whatsapp::queue_name(c, id)).await
}

async fn render(
    ctx: &Ctx,
    id: i64,
    typed: Option<&NumberForm>,
    errs: &FormErrors,
    flash: Option<String>,
) -> AppResult<Response> {
    let name = queue_name(ctx, id).await?;
    let n = whatsapp::number_for_admin(&ctx.state, id).await?;
    let url = format!("{}/webhooks/whatsapp/{id}", ctx.public_base());
    let page =
        views::whatsapp::Page { queue_name: &name, number: &n, webhook_url: &url, typed, flash: flash.as_deref() };
    let body = views::whatsapp::page(ctx.loc, ctx.csrf(), page, errs);
    let status = if errs.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(ctx.page_status(status, ctx.t("wa.title"), "/admin", body))
}

/// GET /atendimentos/{id}/entregas — the delivery ticks of the agents'
/// messages (a fragment the desk swaps in when a status arrives).
pub async fn deliveries(ctx: Ctx, id: i64) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let ticks = ctx
        .state
        .db
        .read(move |c| {
            crate::domain::conversations::visible(c, &user, id)?;
            crate::domain::outbox::deliveries(c, id)
        })
        .await?;
    let mut ticks: Vec<_> = ticks.into_iter().collect();
    ticks.sort_by_key(|(mid, _)| *mid);
    let html = maud::html! { @for (mid, d) in &ticks { (views::desk::tick(ctx.loc, *mid, d)) } };
    Ok(super::ctx::html(html))
}

/// GET /admin/filas/{id}/whatsapp
pub async fn show(ctx: Ctx, id: i64, q: Input) -> AppResult<Response> {
    ctx.admin()?;
    let flash = match q.get("ok") {
        "saved" => Some(ctx.t("flash.saved").to_string()),
        "tested" => Some(ctx.t("wa.tested").to_string()),
        _ => None,
    };
    render(&ctx, id, None, &FormErrors::default(), flash).await
}

/// POST /admin/filas/{id}/whatsapp
pub async fn save(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    ctx.admin()?;
    queue_name(&ctx, id).await?;
    let f = NumberForm {
        phone_number_id: input.get("phone_number_id").trim().to_string(),
        waba_id: input.get("waba_id").trim().to_string(),
        access_token: input.get("access_token").trim().to_string(),
        app_secret: input.get("app_secret").trim().to_string(),
        display_number: input.get("display_number").trim().to_string(),
        graph_version: input.get("graph_version").trim().to_string(),
        graph_base: input.get("graph_base").trim().to_string(),
    };
    match whatsapp::save_number(&ctx.state, ctx.actor(), id, f.clone()).await {
        Ok(()) => Ok(redirect(&format!("/admin/filas/{id}/whatsapp?ok=saved"))),
        Err(AppError::Invalid(errs)) => {
            // Typed secrets are never sent back into the page.
            let typed = NumberForm { access_token: String::new(), app_secret: String::new(), ..f };
            render(&ctx, id, Some(&typed), &errs, None).await
        }
        Err(e) => Err(e),
    }
}

/// POST /admin/filas/{id}/whatsapp/testar — reads the phone number from the
/// Graph API and records what it said.
pub async fn test(ctx: Ctx, id: i64, _input: Input) -> AppResult<Response> {
    ctx.admin()?;
    queue_name(&ctx, id).await?;
    let Some(creds) = ctx.state.db.read(move |c| whatsapp::credentials(c, id)).await? else {
        return Err(AppError::Conflict("wa.test.needs"));
    };
    let (code, detail, display) = match graph::check(&creds).await {
        Check::Ok(display, _name) => ("ok", String::new(), Some(display)),
        Check::Wrong(code, reason) => (code, reason, None),
    };
    whatsapp::set_state(&ctx.state, id, code, detail, display).await?;
    Ok(redirect(&format!("/admin/filas/{id}/whatsapp?ok=tested")))
}
