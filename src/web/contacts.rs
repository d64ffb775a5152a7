//! Contatos: list and search, add, edit, the contact page with its timeline
//! and annotations, and merging.

use warp::http::StatusCode;
use warp::reply::Response;

use super::ctx::{Ctx, redirect};
use crate::domain::contacts::{self, Errors};
use crate::domain::validate::{FormErrors, Input};
use crate::error::{AppError, AppResult};
use crate::views;
use crate::views::contacts::FormView;

/// Runs a search; a bad query becomes a message (and an empty list).
async fn find(
    ctx: &Ctx,
    q: &str,
    after: Option<i64>,
) -> AppResult<(Vec<contacts::Contact>, Option<i64>, Option<&'static str>)> {
    let user = ctx.user()?.clone();
    let query = match contacts::classify(q) {
        Ok(query) => query,
        Err(AppError::BadRequest(key)) => return Ok((Vec::new(), None, Some(ctx.t(key)))),
        Err(e) => return Err(e),
    };
    let (list, next) = ctx.state.db.read(move |c| contacts::search(c, &user, &query, after)).await?;
    Ok((list, next, None))
}

/// GET /contatos[?q=…&apos=ID]
pub async fn list(ctx: Ctx, q: Input) -> AppResult<Response> {
    let after = match q.get("apos") {
        "" => None,
        s => Some(s.parse::<i64>().map_err(|_| AppError::BadRequest("list.bad_cursor"))?),
    };
    let text = q.get("q").to_string();
    let (list, next, error) = find(&ctx, &text, after).await?;
    let next = next.map(|n| {
        let qs = form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &text)
            .append_pair("apos", &n.to_string())
            .finish();
        format!("/contatos?{qs}")
    });
    let tz = ctx.state.settings().tz();
    let body = views::contacts::list(ctx.loc, &text, &list, next, error, &tz);
    let mut r = ctx.page(ctx.t("menu.contacts"), "/contatos", body);
    if error.is_some() {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

async fn form_page(
    ctx: &Ctx,
    title: &'static str,
    action: String,
    values: &Input,
    errs: &Errors,
    cancel: String,
) -> AppResult<Response> {
    let (fields, tags) = ctx.state.db.read(|c| Ok((contacts::fields(c)?, contacts::tags(c, "contact")?))).await?;
    let v = FormView { action, values, errs, fields: &fields, tags: &tags, cancel };
    let body = views::contacts::form(ctx.loc, ctx.csrf(), ctx.t(title), &v);
    let status = if errs.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(ctx.page_status(status, ctx.t(title), "/contatos", body))
}

/// GET /contatos/novo[?telefone=…|email=…]
pub async fn new_form(ctx: Ctx, q: Input) -> AppResult<Response> {
    ctx.user()?;
    let values = Input::from_pairs([("phone", q.get("telefone")), ("email", q.get("email")), ("name", q.get("nome"))]);
    form_page(&ctx, "contact.add", "/contatos".into(), &values, &Errors::default(), "/contatos".into()).await
}

/// Checks the form and saves; errors re-render the form (422), a duplicate
/// phone or e-mail too (409).
/// The conversation an edit was opened from (`?conversa=ID`): saving and
/// Cancel go back there.
fn from_conversation(path_and_query: &str) -> Option<i64> {
    let q = path_and_query.split_once('?')?.1;
    form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "conversa").and_then(|(_, v)| v.parse().ok())
}

async fn save(ctx: Ctx, id: Option<i64>, input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let back = from_conversation(ctx.here());
    let (title, action, cancel) = match (id, back) {
        (Some(id), Some(c)) => ("contact.edit", format!("/contatos/{id}?conversa={c}"), format!("/atendimentos/{c}")),
        (Some(id), None) => ("contact.edit", format!("/contatos/{id}"), format!("/contatos/{id}")),
        (None, _) => ("contact.add", "/contatos".to_string(), "/contatos".to_string()),
    };
    let (fields, tags) = ctx.state.db.read(|c| Ok((contacts::fields(c)?, contacts::tags(c, "contact")?))).await?;
    let tag_ids: Vec<i64> = tags.iter().map(|(i, _)| *i).collect();
    let f = match contacts::parse(&input, &fields, &tag_ids) {
        Ok(f) => f,
        Err(errs) => return form_page(&ctx, title, action, &input, &errs, cancel).await,
    };
    match contacts::save(&ctx.state, &user, id, f).await {
        Ok(id) => Ok(redirect(&match back {
            Some(c) => format!("/atendimentos/{c}#panel-contact"),
            None => format!("/contatos/{id}"),
        })),
        Err(AppError::Conflict(key)) if key.starts_with("contact.dup_") => {
            let field = if key.starts_with("contact.dup_phone") { "phone" } else { "email" };
            let mut errs = Errors::default();
            errs.base.add(field, key);
            let mut r = form_page(&ctx, title, action, &input, &errs, cancel).await?;
            *r.status_mut() = StatusCode::CONFLICT;
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

/// POST /contatos — add.
pub async fn create(ctx: Ctx, input: Input) -> AppResult<Response> {
    save(ctx, None, input).await
}

/// POST /contatos/{id} — save an edit.
pub async fn update(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    save(ctx, Some(id), input).await
}

async fn detail_page(ctx: &Ctx, id: i64, note_errs: &FormErrors) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let d = ctx.state.db.read(move |c| contacts::detail(c, &user, id)).await?;
    if let Some(k) = d.contact.merged_into {
        return Ok(redirect(&format!("/contatos/{k}")));
    }
    let tz = ctx.state.settings().tz();
    let can_open = ctx.user()?.can(crate::domain::users::Permission::OpenConversations);
    let body = views::contacts::detail(ctx.loc, ctx.csrf(), &d, note_errs, &tz, can_open);
    let status = if note_errs.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(ctx.page_status(status, &d.contact.label(), "/contatos", body))
}

/// GET /contatos/{id}
pub async fn view(ctx: Ctx, id: i64) -> AppResult<Response> {
    detail_page(&ctx, id, &FormErrors::default()).await
}

/// GET /contatos/{id}/editar[?conversa=ID] — from beside a conversation,
/// saving returns to it.
pub async fn edit_form(ctx: Ctx, id: i64) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let d = ctx.state.db.read(move |c| contacts::card(c, &user, id)).await?;
    if d.contact.merged_into.is_some() {
        return Err(AppError::Conflict("contact.merged"));
    }
    let values = contacts::form_values(&d);
    let (action, cancel) = match from_conversation(ctx.here()) {
        Some(c) => (format!("/contatos/{id}?conversa={c}"), format!("/atendimentos/{c}")),
        None => (format!("/contatos/{id}"), format!("/contatos/{id}")),
    };
    form_page(&ctx, "contact.edit", action, &values, &Errors::default(), cancel).await
}

/// POST /contatos/{id}/anotacoes — "+ Anotação".
pub async fn annotate(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    match contacts::annotate(&ctx.state, &user, id, input.get("body")).await {
        Ok(()) => Ok(redirect(&format!("/contatos/{id}#timeline"))),
        Err(AppError::Invalid(errs)) => detail_page(&ctx, id, &errs).await,
        Err(e) => Err(e),
    }
}

/// GET /contatos/{id}/mesclar[?q=…][&outro=ID] — pick, then confirm.
pub async fn merge_page(ctx: Ctx, id: i64, q: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let u2 = user.clone();
    let keep = ctx.state.db.read(move |c| contacts::visible(c, &u2, id)).await?;
    if keep.merged_into.is_some() {
        return Err(AppError::Conflict("contact.merged"));
    }
    let other = match q.get("outro").parse::<i64>() {
        Ok(o) if o != id => {
            let u3 = user.clone();
            Some(ctx.state.db.read(move |c| contacts::visible(c, &u3, o)).await?)
        }
        Ok(_) => return Err(AppError::BadRequest("contact.merge_self")),
        Err(_) => None,
    };
    let text = q.get("q").to_string();
    let (found, _, error) =
        if other.is_none() && !text.is_empty() { find(&ctx, &text, None).await? } else { (Vec::new(), None, None) };
    let body = views::contacts::merge(ctx.loc, ctx.csrf(), &keep, &text, &found, other.as_ref(), error);
    Ok(ctx.page(ctx.t("contact.merge"), "/contatos", body))
}

/// POST /contatos/{id}/mesclar — merge `other` into this contact.
pub async fn merge(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let other = input.get("other").parse::<i64>().map_err(|_| AppError::BadRequest("contact.merge_pick"))?;
    contacts::merge(&ctx.state, &user, id, other, ctx.actor()).await?;
    Ok(redirect(&format!("/contatos/{id}")))
}
