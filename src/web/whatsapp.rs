//! WhatsApp in the UI: the admin's connection of a queue (see and save the
//! number, test it against the Graph API, synchronise its templates and map
//! their parameters to contact fields) and, in a conversation, the delivery
//! ticks, sending a template and the contact's opt-in.

use std::collections::BTreeMap;

use warp::http::StatusCode;
use warp::reply::Response;

use super::ctx::{Ctx, redirect};
use crate::channels::whatsapp::graph::{self, Check};
use crate::domain::conversations as conv;
use crate::domain::validate::{FormErrors, Input};
use crate::domain::whatsapp::{self, NumberForm, templates};
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
    flash: Flash,
) -> AppResult<Response> {
    let name = queue_name(ctx, id).await?;
    let n = whatsapp::number_for_admin(&ctx.state, id).await?;
    let url = format!("{}/webhooks/whatsapp/{id}", ctx.public_base());
    let (list, (synced_at, sync_error), sources) = ctx
        .state
        .db
        .read(move |c| Ok((templates::list(c, id)?, templates::sync_state(c, id)?, templates::field_sources(c)?)))
        .await?;
    let tz = ctx.state.settings().tz();
    let page = views::whatsapp::Page {
        queue_name: &name,
        number: &n,
        webhook_url: &url,
        typed,
        flash: flash.ok.as_deref(),
        refused: flash.refused,
        templates: &list,
        synced: (synced_at, &sync_error),
        sources: &sources,
        tz: &tz,
    };
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
        "synced" => Some(ctx.t("wa.tpl.synced").to_string()),
        "fields" => Some(ctx.t("flash.saved").to_string()),
        _ => None,
    };
    let notice = crate::i18n::catalog_key(q.get("err")).filter(|k| k.starts_with("wa.") || k.starts_with("file."));
    render(&ctx, id, None, &FormErrors::default(), Flash { ok: flash, refused: notice }).await
}

/// A page's confirmation line, or why a template's setting was refused.
#[derive(Default)]
struct Flash {
    ok: Option<String>,
    refused: Option<&'static str>,
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
        rate_per_sec: input.get("rate_per_sec").to_string(),
        optout_words: input.get("optout_words").to_string(),
        reserved_outbound: input.checked("reserved_outbound"),
    };
    match whatsapp::save_number(&ctx.state, ctx.actor(), id, f.clone()).await {
        Ok(()) => Ok(redirect(&format!("/admin/filas/{id}/whatsapp?ok=saved"))),
        Err(AppError::Invalid(errs)) => {
            // Typed secrets are never sent back into the page.
            let typed = NumberForm { access_token: String::new(), app_secret: String::new(), ..f };
            render(&ctx, id, Some(&typed), &errs, Flash::default()).await
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

/// POST /admin/filas/{id}/whatsapp/modelos/sincronizar — reads every
/// template from the Graph API; what went wrong shows on the page.
pub async fn sync_templates(ctx: Ctx, id: i64, _input: Input) -> AppResult<Response> {
    ctx.admin()?;
    queue_name(&ctx, id).await?;
    match crate::channels::whatsapp::sync::templates(&ctx.state, id).await? {
        Ok(_) => Ok(redirect(&format!("/admin/filas/{id}/whatsapp?ok=synced#wa-templates"))),
        Err(_) => Ok(redirect(&format!("/admin/filas/{id}/whatsapp#wa-templates"))),
    }
}

/// POST /admin/filas/{id}/whatsapp/modelos/{tid} — which contact field
/// prefills each parameter of a template.
pub async fn template_fields(ctx: Ctx, id: i64, tid: i64, input: Input) -> AppResult<Response> {
    ctx.admin()?;
    queue_name(&ctx, id).await?;
    let map: BTreeMap<String, String> = input
        .pairs()
        .filter(|(k, _)| templates::is_param_input(k))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect();
    ctx.state.db.write(move |c| templates::save_fields(c, id, tid, &map)).await?;
    Ok(redirect(&format!("/admin/filas/{id}/whatsapp?ok=fields#wa-templates")))
}

/// POST /admin/filas/{id}/whatsapp/modelos/{tid}/arquivo — multipart: the
/// file an IMAGE, VIDEO or DOCUMENT header sends (a refusal comes back as
/// the page's notice).
pub async fn template_file<S, B>(
    ctx: Ctx,
    id: i64,
    tid: i64,
    content_type: Option<String>,
    length: Option<u64>,
    body: S,
) -> AppResult<Response>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>> + Send + Unpin + 'static,
    B: bytes::Buf + Send + 'static,
{
    ctx.admin()?;
    queue_name(&ctx, id).await?;
    let back = |q: &str| redirect(&format!("/admin/filas/{id}/whatsapp?{q}#wa-tpl-{tid}"));
    let limit = ctx.state.db.read(crate::domain::attachments::limits).await?.file;
    let form = match super::multipart::read(&ctx, content_type.as_deref(), length, limit, body).await? {
        Ok(f) => f,
        Err(key) => return Ok(back(&format!("err={key}"))),
    };
    let Some((name, data)) = form.file else { return Ok(back("err=file.missing")) };
    let upload = match crate::domain::attachments::check(&name, data, limit) {
        Ok(u) => u,
        Err(key) => return Ok(back(&format!("err={key}"))),
    };
    let now = ctx.state.now();
    match ctx.state.db.write(move |c| templates::save_header_file(c, id, tid, &upload, now)).await {
        Ok(()) => Ok(back("ok=fields")),
        Err(AppError::BadRequest(k)) => Ok(back(&format!("err={k}"))),
        Err(e) => Err(e),
    }
}

/// POST /admin/filas/{id}/whatsapp/modelos/{tid}/local — the place a
/// LOCATION header shows.
pub async fn template_place(ctx: Ctx, id: i64, tid: i64, input: Input) -> AppResult<Response> {
    ctx.admin()?;
    queue_name(&ctx, id).await?;
    let (lat, lng) = (input.get("latitude").to_string(), input.get("longitude").to_string());
    let (name, address) = (input.get("place_name").to_string(), input.get("place_address").to_string());
    match ctx.state.db.write(move |c| templates::save_place(c, id, tid, &lat, &lng, &name, &address)).await {
        Ok(()) => Ok(redirect(&format!("/admin/filas/{id}/whatsapp?ok=fields#wa-tpl-{tid}"))),
        Err(AppError::BadRequest(k)) => Ok(redirect(&format!("/admin/filas/{id}/whatsapp?err={k}#wa-tpl-{tid}"))),
        Err(e) => Err(e),
    }
}

/// The parameters' values a picker form sent (`h_…`, `p_…`).
pub fn template_choice(input: &Input) -> AppResult<Option<conv::TemplateChoice>> {
    match input.get("modelo") {
        "" => Ok(None),
        s => {
            let template_id = s.parse::<i64>().map_err(|_| AppError::BadRequest("wa.tpl.unknown"))?;
            let values = input
                .pairs()
                .filter(|(k, _)| templates::is_param_input(k))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Ok(Some(conv::TemplateChoice { template_id, values }))
        }
    }
}

/// POST /atendimentos/{id}/modelo — sends the chosen template with its
/// parameters; a refusal comes back as the conversation's notice.
pub async fn send_template(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let Some(choice) = template_choice(&input)? else { return Err(AppError::BadRequest("wa.tpl.unknown")) };
    match conv::send_template(&ctx.state, &user, id, choice).await {
        Ok(_) => Ok(redirect(&format!("/atendimentos/{id}"))),
        Err(AppError::BadRequest(k) | AppError::Conflict(k)) => Ok(redirect(&format!("/atendimentos/{id}?err={k}"))),
        Err(e) => Err(e),
    }
}

/// POST /atendimentos/{id}/optin — turns the contact's opt-in on (`ligar=1`)
/// or off.
pub async fn set_optin(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let on = match input.get("ligar") {
        "1" => true,
        "0" => false,
        _ => return Err(AppError::BadRequest("wa.optin.bad")),
    };
    conv::set_optin(&ctx.state, &user, id, on).await?;
    Ok(redirect(&format!("/atendimentos/{id}")))
}
