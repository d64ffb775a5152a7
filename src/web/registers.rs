//! Generic handlers for the registers in `domain::registers::SPECS`.

use warp::http::StatusCode;
use warp::reply::Response;

use super::admin::{flash, parse_active};
use super::ctx::{Ctx, redirect};
use crate::domain::registers::{self, Kind, Spec, Value};
use crate::domain::validate::{FormErrors, Input};
use crate::domain::webchat;
use crate::error::{AppError, AppResult};
use crate::views;
use crate::views::registers::RefOptions;

fn spec(slug: &str) -> AppResult<&'static Spec> {
    registers::spec(slug).ok_or(AppError::NotFound)
}

/// GET /admin/{slug}
pub async fn list(ctx: Ctx, slug: String, q: Input) -> AppResult<Response> {
    ctx.admin()?;
    let spec = spec(&slug)?;
    let (rows, names) =
        ctx.state.db.read(move |c| Ok((registers::list(c, spec)?, registers::ref_names(c, spec)?))).await?;
    let body = views::registers::list(ctx.loc, ctx.csrf(), spec, &rows, &names, flash(&q));
    Ok(ctx.page(ctx.t(spec.title), "/admin", body))
}

async fn render_form(
    ctx: &Ctx,
    spec: &'static Spec,
    id: Option<i64>,
    values: &[Value],
    errs: &FormErrors,
    flash: Option<&'static str>,
) -> AppResult<Response> {
    let refs: RefOptions = ctx
        .state
        .db
        .read(move |c| {
            let mut m = RefOptions::new();
            for f in spec.fields {
                if let Kind::Ref(table) = f.kind {
                    m.insert(table, registers::options(c, table)?);
                }
            }
            Ok(m)
        })
        .await?;
    let snippet = match (spec.slug, id, values.get(1)) {
        ("filas", Some(id), Some(Value::Text(ch))) if ch == "webchat" => {
            let refused = ctx.state.db.read(move |c| webchat::refused(c, id)).await?;
            let tz = ctx.state.settings().tz();
            Some(views::registers::widget_snippet(ctx.loc, &ctx.public_base(), id, &refused, &tz))
        }
        ("filas", Some(id), Some(Value::Text(ch))) if ch == "whatsapp" => {
            let n = ctx.state.db.read(move |c| crate::domain::whatsapp::number(c, id)).await?;
            Some(views::whatsapp::queue_card(ctx.loc, id, n.as_ref()))
        }
        ("filas", Some(id), Some(Value::Text(ch))) if ch == "email" => {
            let m = crate::domain::email::mailbox_now(&ctx.state, id).await?;
            Some(views::email::queue_card(ctx.loc, id, m.as_ref()))
        }
        ("filas", _, Some(Value::Text(ch))) => {
            crate::domain::conversations::not_connected_reason(ch).map(|why| views::admin::channel_notice(ctx.loc, why))
        }
        _ => None,
    };
    let body = views::registers::form(ctx.loc, ctx.csrf(), spec, id, values, &refs, errs, snippet);
    let body = match flash {
        Some(f) => maud::html! { div.flash.flash-ok role="status" { (ctx.t(f)) } (body) },
        None => body,
    };
    let status = if errs.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(ctx.page_status(status, ctx.t(spec.title), "/admin", body))
}

/// GET /admin/{slug}/novo
pub async fn new(ctx: Ctx, slug: String) -> AppResult<Response> {
    ctx.admin()?;
    let spec = spec(&slug)?;
    render_form(&ctx, spec, None, &registers::blank(spec), &FormErrors::default(), None).await
}

/// POST /admin/{slug}
pub async fn create(ctx: Ctx, slug: String, input: Input) -> AppResult<Response> {
    ctx.admin()?;
    let spec = spec(&slug)?;
    let values = match registers::parse(spec, &input) {
        Ok(v) => v,
        Err((errs, typed)) => return render_form(&ctx, spec, None, &typed, &errs, None).await,
    };
    match registers::create(&ctx.state.db, spec, values.clone(), ctx.actor()).await {
        // A new web chat queue opens on its page, where the snippet to paste is.
        Ok(id) if spec.slug == "filas" && values.get(1).is_some_and(|v| v.as_str() == "webchat") => {
            Ok(redirect(&format!("/admin/filas/{id}?ok=created")))
        }
        // A new WhatsApp or e-mail queue opens on its connection page.
        Ok(id) if spec.slug == "filas" && values.get(1).is_some_and(|v| v.as_str() == "whatsapp") => {
            Ok(redirect(&format!("/admin/filas/{id}/whatsapp")))
        }
        Ok(id) if spec.slug == "filas" && values.get(1).is_some_and(|v| v.as_str() == "email") => {
            Ok(redirect(&format!("/admin/filas/{id}/email")))
        }
        Ok(_) => Ok(redirect(&format!("/admin/{}?ok=created", spec.slug))),
        Err(AppError::Invalid(errs)) => render_form(&ctx, spec, None, &values, &errs, None).await,
        Err(e) => Err(e),
    }
}

/// GET /admin/{slug}/{id}
pub async fn edit(ctx: Ctx, slug: String, id: i64, q: Input) -> AppResult<Response> {
    ctx.admin()?;
    let spec = spec(&slug)?;
    let row = ctx.state.db.read(move |c| registers::get(c, spec, id)).await?.ok_or(AppError::NotFound)?;
    render_form(&ctx, spec, Some(id), &row.values, &FormErrors::default(), flash(&q)).await
}

/// POST /admin/{slug}/{id}
pub async fn update(ctx: Ctx, slug: String, id: i64, input: Input) -> AppResult<Response> {
    ctx.admin()?;
    let spec = spec(&slug)?;
    ctx.state.db.read(move |c| registers::get(c, spec, id)).await?.ok_or(AppError::NotFound)?;
    let values = match registers::parse(spec, &input) {
        Ok(v) => v,
        Err((errs, typed)) => return render_form(&ctx, spec, Some(id), &typed, &errs, None).await,
    };
    match registers::update(&ctx.state.db, spec, id, values.clone(), ctx.actor()).await {
        Ok(()) => Ok(redirect(&format!("/admin/{}?ok=saved", spec.slug))),
        Err(AppError::Invalid(errs)) => render_form(&ctx, spec, Some(id), &values, &errs, None).await,
        Err(e) => Err(e),
    }
}

/// POST /admin/{slug}/{id}/ativo
pub async fn set_active(ctx: Ctx, slug: String, id: i64, input: Input) -> AppResult<Response> {
    ctx.admin()?;
    let spec = spec(&slug)?;
    let active = parse_active(&input)?;
    registers::set_active(&ctx.state.db, spec, id, active, ctx.actor()).await?;
    Ok(redirect(&format!("/admin/{}?ok={}", spec.slug, if active { "activated" } else { "deactivated" })))
}
