//! Modelos HTML de e-mail (admins): list, new, edit, and the preview of a
//! saved or a typed template, shown in a sandboxed frame with the same
//! policy as customers' e-mails.

use warp::http::StatusCode;
use warp::reply::Response;

use super::ctx::{Ctx, redirect};
use crate::domain::email::templates::{self, Form};
use crate::domain::validate::{FormErrors, Input};
use crate::error::{AppError, AppResult};
use crate::views;

/// GET /admin/modelos-email
pub async fn list(ctx: Ctx, q: Input) -> AppResult<Response> {
    ctx.admin()?;
    let list = ctx.state.db.read(templates::list).await?;
    let flash = (q.get("ok") == "saved").then(|| ctx.t("flash.saved"));
    let body = views::email_templates::list(ctx.loc, &list, flash);
    Ok(ctx.page(ctx.t("mail.tpl.title"), "/admin", body))
}

fn render(ctx: &Ctx, id: Option<i64>, f: &Form, errs: &FormErrors, flash: Option<&str>) -> Response {
    let body = views::email_templates::form(ctx.loc, ctx.csrf(), id, f, errs, flash);
    let status = if errs.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    ctx.page_status(status, ctx.t("mail.tpl.title"), "/admin", body)
}

/// GET /admin/modelos-email/novo
pub async fn new(ctx: Ctx) -> AppResult<Response> {
    ctx.admin()?;
    let f = Form { html: "<p>{{conteudo}}</p>".into(), active: true, ..Default::default() };
    Ok(render(&ctx, None, &f, &FormErrors::default(), None))
}

/// GET /admin/modelos-email/{id}
pub async fn edit(ctx: Ctx, id: i64, q: Input) -> AppResult<Response> {
    ctx.admin()?;
    let t = ctx.state.db.read(move |c| templates::get(c, id)).await?;
    let flash = (q.get("ok") == "saved").then(|| ctx.t("flash.saved"));
    Ok(render(&ctx, Some(id), &Form::of(&t), &FormErrors::default(), flash))
}

async fn save(ctx: Ctx, id: Option<i64>, input: Input) -> AppResult<Response> {
    ctx.admin()?;
    let f = Form::read(&input);
    let actor = ctx.actor();
    let f2 = f.clone();
    match ctx.state.db.write(move |c| templates::save(c, &actor, id, &f2)).await {
        Ok(id) => Ok(redirect(&format!("/admin/modelos-email/{id}?ok=saved"))),
        Err(AppError::Invalid(errs)) => Ok(render(&ctx, id, &f, &errs, None)),
        Err(e) => Err(e),
    }
}

/// POST /admin/modelos-email/novo
pub async fn create(ctx: Ctx, input: Input) -> AppResult<Response> {
    save(ctx, None, input).await
}

/// POST /admin/modelos-email/{id}
pub async fn update(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    save(ctx, Some(id), input).await
}

fn preview_of(ctx: &Ctx, t: &templates::Template) -> Response {
    let vars =
        templates::sample(&ctx.state.settings().business_name, &ctx.user().map(|u| u.name.clone()).unwrap_or_default());
    let (subject, body) = templates::render_body(t, &vars);
    let head = if subject.is_empty() {
        String::new()
    } else {
        format!(
            "<p style=\"font-family:sans-serif;color:#57606a;border-bottom:1px solid #d0d7de;padding-bottom:6px\">{}: <b>{}</b></p>",
            maud::html! { (ctx.t("mail.tpl.subject")) }.into_string(),
            maud::html! { (subject) }.into_string()
        )
    };
    super::email::sandboxed(&format!("{head}{body}"), true)
}

/// GET /admin/modelos-email/{id}/previa — the saved template filled with
/// sample values.
pub async fn preview(ctx: Ctx, id: i64) -> AppResult<Response> {
    ctx.admin()?;
    let t = ctx.state.db.read(move |c| templates::get(c, id)).await?;
    Ok(preview_of(&ctx, &t))
}

/// POST /admin/modelos-email/previa — the typed template, before saving (the
/// form's "Pré-visualizar" targets the preview frame); a template that
/// cannot be saved says why instead.
pub async fn preview_typed(ctx: Ctx, input: Input) -> AppResult<Response> {
    ctx.admin()?;
    // Only the subject and the body matter to a preview.
    let f = Form { name: "-".into(), active: true, is_default: false, ..Form::read(&input) };
    match templates::check(&f) {
        Ok(html) => {
            let t = templates::Template { subject: f.subject.clone(), html, active: true, ..Default::default() };
            Ok(preview_of(&ctx, &t))
        }
        Err(errs) => {
            let mut r = super::email::sandboxed(&views::email_templates::preview_refused(ctx.loc, &errs), false);
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
    }
}
