//! E-mail in the UI: the admin's mailbox of a queue (see and save its
//! servers, test the connection, which also reads the folder once).

use warp::http::StatusCode;
use warp::reply::Response;

use super::ctx::{Ctx, redirect};
use crate::domain::email::{self, MailboxForm};
use crate::domain::validate::{FormErrors, Input};
use crate::error::{AppError, AppResult};
use crate::views;

async fn queue_name(ctx: &Ctx, id: i64) -> AppResult<String> {
    ctx.state.db.read(move |c| email::queue_name(c, id)).await
}

async fn render(
    ctx: &Ctx,
    id: i64,
    typed: Option<&MailboxForm>,
    errs: &FormErrors,
    flash: Option<&str>,
) -> AppResult<Response> {
    let name = queue_name(ctx, id).await?;
    let m = email::mailbox_for_admin(&ctx.state, id).await?;
    let tz = ctx.state.settings().tz();
    let page = views::email::Page { queue_name: &name, mailbox: &m, typed, flash, tz: &tz };
    let body = views::email::page(ctx.loc, ctx.csrf(), page, errs);
    let status = if errs.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(ctx.page_status(status, ctx.t("mail.title"), "/admin", body))
}

/// GET /admin/filas/{id}/email
pub async fn show(ctx: Ctx, id: i64, q: Input) -> AppResult<Response> {
    ctx.admin()?;
    let flash = match q.get("ok") {
        "saved" => Some(ctx.t("flash.saved")),
        "tested" => Some(ctx.t("mail.tested")),
        _ => None,
    };
    render(&ctx, id, None, &FormErrors::default(), flash).await
}

/// POST /admin/filas/{id}/email
pub async fn save(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    ctx.admin()?;
    queue_name(&ctx, id).await?;
    let g = |k: &str| input.get(k).to_string();
    let f = MailboxForm {
        imap_host: g("imap_host"),
        imap_port: g("imap_port"),
        imap_tls: g("imap_tls"),
        imap_user: g("imap_user"),
        imap_password: g("imap_password"),
        folder: g("folder"),
        smtp_host: g("smtp_host"),
        smtp_port: g("smtp_port"),
        smtp_tls: g("smtp_tls"),
        smtp_user: g("smtp_user"),
        smtp_password: g("smtp_password"),
        from_name: g("from_name"),
        from_address: g("from_address"),
        reply_to: g("reply_to"),
        signature: g("signature"),
        poll_secs: g("poll_secs"),
        reopen_days: g("reopen_days"),
        plus_address: input.checked("plus_address"),
    };
    match email::save(&ctx.state, ctx.actor(), id, f.clone()).await {
        Ok(()) => {
            ctx.state.email.wake(id);
            Ok(redirect(&format!("/admin/filas/{id}/email?ok=saved")))
        }
        Err(AppError::Invalid(errs)) => {
            // Typed passwords are never sent back into the page.
            let typed = MailboxForm { imap_password: String::new(), smtp_password: String::new(), ..f };
            render(&ctx, id, Some(&typed), &errs, None).await
        }
        Err(e) => Err(e),
    }
}

/// POST /admin/filas/{id}/email/testar — logs in over IMAP, reads the folder
/// to its end, then connects to the SMTP server, and records what the
/// servers said (the page shows the state).
pub async fn test(ctx: Ctx, id: i64, _input: Input) -> AppResult<Response> {
    ctx.admin()?;
    queue_name(&ctx, id).await?;
    if ctx.state.db.read(move |c| email::imap_access(c, id)).await?.is_none() {
        return Err(AppError::Conflict("mail.test.needs"));
    }
    let read = crate::channels::email::sync(&ctx.state, id).await?;
    // Then the sending side, when the reading side is fine.
    if read.problem.is_none()
        && let Some(smtp) = ctx.state.db.read(move |c| crate::channels::email::smtp::access(c, id)).await?
        && let Err(
            crate::channels::email::smtp::Failure::Retry(why) | crate::channels::email::smtp::Failure::Fatal(why),
        ) = crate::channels::email::smtp::check(&smtp).await
    {
        email::set_state(&ctx.state, id, "error", format!("SMTP: {why}")).await?;
    }
    Ok(redirect(&format!("/admin/filas/{id}/email?ok=tested")))
}

/// GET /atendimentos/{id}/email/{message} — a customer e-mail's sanitised
/// HTML as a document of its own, for the sandboxed frame in the
/// conversation: no script may run (the frame's sandbox and the policy both
/// say so), links open apart, and images from the web load only with
/// `?imagens=1`.
pub async fn html_body(ctx: Ctx, id: i64, message: i64, q: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let html = ctx.state.db.read(move |c| crate::domain::conversations::email_html(c, &user, id, message)).await?;
    Ok(sandboxed(&html, q.get("imagens") == "1"))
}

/// Sanitised e-mail HTML as a document of its own for a sandboxed frame: no
/// script may run (the frame's sandbox and the policy both say so), links
/// open apart, and images from the web load only when `web_images`.
pub fn sandboxed(html: &str, web_images: bool) -> Response {
    let images = if web_images { "'self' data: https: http:" } else { "'self' data:" };
    let doc = format!(
        "<!DOCTYPE html><html lang=\"pt-BR\"><head><meta charset=\"utf-8\"><base target=\"_blank\">\
         <style>body{{font-family:system-ui,sans-serif;font-size:14px;margin:8px;color:#1f2937;overflow-wrap:anywhere}}\
         img{{max-width:100%;height:auto}}table{{max-width:100%}}</style></head><body>{html}</body></html>"
    );
    let mut r = warp::reply::Response::new(doc.into());
    let h = r.headers_mut();
    h.insert("content-type", warp::http::HeaderValue::from_static("text/html; charset=utf-8"));
    let csp = format!(
        "default-src 'none'; img-src {images}; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
    );
    if let Ok(v) = warp::http::HeaderValue::from_str(&csp) {
        h.insert("content-security-policy", v);
    }
    h.insert("x-content-type-options", warp::http::HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", warp::http::HeaderValue::from_static("SAMEORIGIN"));
    h.insert("referrer-policy", warp::http::HeaderValue::from_static("no-referrer"));
    h.insert("cache-control", warp::http::HeaderValue::from_static("no-store"));
    r
}
