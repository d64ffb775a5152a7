//! Inside the conversation, beyond the desk basics: attachments (upload and
//! download), the PDF transcript, search, outbound conversations and quick
//! replies.

use bytes::Buf;
use futures_util::Stream;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};

use super::ctx::{Ctx, html, redirect};
use crate::domain::conversations as conv;
use crate::domain::users::Permission;
use crate::domain::validate::Input;
use crate::domain::{attachments, contacts, quick_replies as qr, search};
use crate::error::{AppError, AppResult};
use crate::views;

/// A refused action: a fragment with the message for the page's script
/// (`X-Requested-With: fetch`), else back to the conversation with a notice.
fn refused(ctx: &Ctx, fetch: bool, id: i64, key: &'static str) -> Response {
    if fetch {
        let mut r = html(maud::html! { p.flash.flash-error role="alert" { (ctx.t(key)) } });
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        r
    } else {
        redirect(&format!("/atendimentos/{id}?err={key}"))
    }
}

/// POST /atendimentos/{id}/anexos — multipart: `_csrf`, `mode` (reply|note),
/// `text` (caption) and `file`. The CSRF token is checked before the file is
/// read; the file is refused as soon as it passes the limit.
pub async fn upload<S, B>(
    ctx: Ctx,
    id: i64,
    content_type: Option<String>,
    length: Option<u64>,
    fetch: bool,
    body: S,
) -> AppResult<Response>
where
    S: Stream<Item = Result<B, warp::Error>> + Send + Unpin + 'static,
    B: Buf + Send + 'static,
{
    let user = ctx.user()?.clone();
    let limit = ctx.state.db.read(attachments::limits).await?.file;
    let form = match super::multipart::read(&ctx, content_type.as_deref(), length, limit, body).await? {
        Ok(f) => f,
        Err(key) => return Ok(refused(&ctx, fetch, id, key)),
    };
    let (input, file) = (form.input, form.file);
    let Some((fname, data)) = file else { return Ok(refused(&ctx, fetch, id, "file.missing")) };
    let upload = match attachments::check(&fname, data, limit) {
        Ok(u) => u,
        Err(key) => return Ok(refused(&ctx, fetch, id, key)),
    };
    let note = match input.get("mode") {
        "note" => true,
        "" | "reply" => false,
        _ => return Ok(refused(&ctx, fetch, id, "val.invalid_choice")),
    };
    match attachments::send_agent(&ctx.state, &user, id, input.raw("text"), note, upload).await {
        Ok(_) if fetch => Ok(StatusCode::NO_CONTENT.into_response()),
        Ok(_) => Ok(redirect(&format!("/atendimentos/{id}"))),
        Err(AppError::BadRequest(k) | AppError::Conflict(k)) => Ok(refused(&ctx, fetch, id, k)),
        Err(e) => Err(e),
    }
}

/// GET /anexos/{id} — a file, streamed, to those who may see its conversation.
pub async fn download(ctx: Ctx, id: i64) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let a = ctx.state.db.read(move |c| attachments::for_agent(c, &user, id)).await?;
    let body = warp::reply::stream(attachments::stream(ctx.state.db.path().to_path_buf(), a.id)).into_response();
    Ok(attachments::response(&a, body))
}

/// GET /atendimentos/{id}/pdf[?notas=1] — the transcript as a PDF download.
pub async fn pdf(ctx: Ctx, id: i64, q: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let notes = q.checked("notas");
    let settings = ctx.state.settings();
    let tz = settings.tz();
    let loc = ctx.loc;
    let (c, msgs, agents) = ctx
        .state
        .db
        .read(move |db| {
            let c = conv::visible(db, &user, id)?;
            let msgs = conv::messages_limit(db, id, 0, true, i64::MAX)?;
            let agents = conv::agents_of(db, id)?;
            Ok((c, msgs, agents))
        })
        .await?;
    let transcript = views::transcript::build(loc, &settings.business_name, &c, &msgs, &agents, notes, &tz);
    let bytes = tokio::task::spawn_blocking(move || crate::pdf::render(&transcript))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::Internal)?;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert("content-type", warp::http::HeaderValue::from_static("application/pdf"));
    if let Ok(v) = warp::http::HeaderValue::from_str(&format!("attachment; filename=\"atendimento-{id}.pdf\"")) {
        h.insert("content-disposition", v);
    }
    Ok(r)
}

fn search_page(
    ctx: &Ctx,
    q: &Input,
    action: &str,
    title: &str,
    res: AppResult<search::Results>,
) -> AppResult<Response> {
    let text = q.get("q").to_string();
    let tz = ctx.state.settings().tz();
    let (results, error) = match res {
        Ok(r) => (r, None),
        Err(AppError::BadRequest(k)) => (search::Results::default(), Some(k)),
        Err(e) => return Err(e),
    };
    let next = results.next.map(|n| {
        let qs = form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &text)
            .append_pair("antes", &n.to_string())
            .finish();
        format!("{action}?{qs}")
    });
    let body = views::workbench::search(ctx.loc, &text, action, title, &results, next, error, &tz);
    let mut r = ctx.page(title, "/pesquisar", body);
    if error.is_some() {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

fn before(q: &Input) -> AppResult<Option<i64>> {
    match q.get("antes") {
        "" => Ok(None),
        s => s.parse::<i64>().map(Some).map_err(|_| AppError::BadRequest("list.bad_cursor")),
    }
}

/// GET /pesquisar?q=…[&antes=ID] — across every conversation I may open.
pub async fn search_all(ctx: Ctx, q: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let before = before(&q)?;
    let text = q.get("q").to_string();
    let res = ctx.state.db.read(move |c| search::run(c, &user, &text, None, before)).await;
    search_page(&ctx, &q, "/pesquisar", ctx.t("search.title"), res)
}

/// GET /atendimentos/{id}/pesquisar?q=… — inside one conversation.
pub async fn search_in(ctx: Ctx, id: i64, q: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let before = before(&q)?;
    let text = q.get("q").to_string();
    let res = ctx
        .state
        .db
        .read(move |c| {
            conv::visible(c, &user, id)?;
            search::run(c, &user, &text, Some(id), before)
        })
        .await;
    if let Err(AppError::NotFound) = res {
        return Err(AppError::NotFound);
    }
    let title = format!("{} #{id}", ctx.t("search.in_conversation"));
    search_page(&ctx, &q, &format!("/atendimentos/{id}/pesquisar"), &title, res)
}

type StartTemplates =
    (Vec<(crate::domain::whatsapp::templates::Template, std::collections::BTreeMap<String, String>)>, bool);

/// A WhatsApp queue's usable templates (prefilled from the contact, when
/// known) and whether the contact's opt-in is given; None for other queues.
fn start_templates(
    db: &rusqlite::Connection,
    queue_id: i64,
    contact: Option<i64>,
) -> AppResult<Option<StartTemplates>> {
    use crate::domain::whatsapp::{optin, templates};
    if crate::domain::whatsapp::queue_name(db, queue_id).is_err() {
        return Ok(None);
    }
    let mut list = Vec::new();
    for t in templates::usable(db, queue_id)? {
        let p = match contact {
            Some(c) => templates::prefill(db, &t, c)?,
            None => Default::default(),
        };
        list.push((t, p));
    }
    let given = match contact {
        Some(c) => optin::given(db, c)?,
        None => false,
    };
    Ok(Some((list, given)))
}

/// The queues `user` may start a conversation in: active, of their teams
/// (administrators: all), with their channel.
fn outbound_queues(
    db: &rusqlite::Connection,
    user: &crate::domain::users::User,
) -> AppResult<Vec<(i64, String, bool, String)>> {
    // A WhatsApp number kept for conversations agents start comes first.
    let mut stmt = db.prepare_cached(
        "SELECT q.id, t.name || ' · ' || q.name, coalesce(w.reserved_outbound, 0), q.channel FROM queues q
         JOIN teams t ON t.id = q.team_id LEFT JOIN whatsapp_numbers w ON w.queue_id = q.id AND q.channel = 'whatsapp'
         WHERE q.active = 1 AND (?1 OR q.team_id IN (SELECT team_id FROM user_teams WHERE user_id = ?2))
         ORDER BY t.name COLLATE NOCASE, coalesce(w.reserved_outbound, 0) DESC, q.name COLLATE NOCASE",
    )?;
    let v = stmt
        .query_map(rusqlite::params![user.is_admin(), user.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    Ok(v.collect::<Result<_, _>>()?)
}

async fn outbound_page(ctx: &Ctx, values: &Input, error: Option<&'static str>) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    if !user.can(Permission::OpenConversations) {
        return Err(AppError::Forbidden);
    }
    let contact_id = match values.get("contato") {
        "" => None,
        s => Some(s.parse::<i64>().map_err(|_| AppError::NotFound)?),
    };
    let queue_id = values.get("queue_id").parse::<i64>().ok();
    let wants_template = error.is_some_and(|k| k.starts_with("wa.") && k != "wa.start_needs_phone");
    let (contact, queues, step, mail_templates) = ctx
        .state
        .db
        .read(move |db| {
            let c = match contact_id {
                Some(id) => Some(contacts::visible(db, &user, id)?),
                None => None,
            };
            let queues = outbound_queues(db, &user)?;
            let step = match queue_id {
                Some(q) if wants_template && queues.iter().any(|(id, ..)| *id == q) => {
                    start_templates(db, q, c.as_ref().map(|c| c.id))?
                }
                _ => None,
            };
            let mail = if queues.iter().any(|(.., ch)| ch == "email") {
                crate::domain::email::templates::choices(db)?
            } else {
                vec![]
            };
            Ok((c, queues, step, mail))
        })
        .await?;
    let step = step.map(|(list, optin_given)| {
        let choices: Vec<_> =
            list.iter().map(|(t, p)| views::whatsapp::Choice { template: t, prefill: p.clone() }).collect();
        let keep = ["contato", "name", "phone", "email", "queue_id"];
        let hidden: Vec<(&str, String)> =
            keep.iter().filter(|k| !values.get(k).is_empty()).map(|k| (*k, values.get(k).to_string())).collect();
        views::whatsapp::picker(ctx.loc, ctx.csrf(), "/atendimentos/novo", &choices, &hidden, !optin_given)
    });
    let mail = queues.iter().any(|(.., ch)| ch == "email").then(|| {
        views::email_templates::extras(
            ctx.loc,
            &mail_templates,
            &[],
            [values.get("cc"), values.get("bcc"), values.get("modelo_email")],
        )
    });
    let body = views::workbench::outbound(
        ctx.loc,
        ctx.csrf(),
        contact.as_ref(),
        &queues,
        values,
        error,
        views::workbench::OutboundParts { step, mail },
    );
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(ctx.page_status(status, ctx.t("outbound.title"), "/atendimentos", body))
}

/// GET /atendimentos/novo[?contato=ID] — Iniciar conversa.
pub async fn outbound_form(ctx: Ctx, q: Input) -> AppResult<Response> {
    outbound_page(&ctx, &q, None).await
}

/// POST /atendimentos/novo — contact (`contato`) or typed phone / e-mail,
/// `queue_id`, optional first `text`.
pub async fn outbound_start(ctx: Ctx, input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    if !user.can(Permission::OpenConversations) {
        return Err(AppError::Forbidden);
    }
    let target = match input.get("contato") {
        "" => match contacts::parse_target(input.get("name"), input.get("phone"), input.get("email")) {
            Ok(t) => t,
            Err(k) => return outbound_page(&ctx, &input, Some(k)).await,
        },
        s => contacts::Target::Contact(s.parse::<i64>().map_err(|_| AppError::NotFound)?),
    };
    let Ok(queue) = input.get("queue_id").parse::<i64>() else {
        return outbound_page(&ctx, &input, Some("outbound.bad_queue")).await;
    };
    let text = Some(input.raw("text").to_string());
    let wa = conv::WaStart { template: super::whatsapp::template_choice(&input)?, optin: input.checked("optin") };
    let mail = match crate::domain::email::outgoing::Extras::parse(
        input.get("cc"),
        input.get("bcc"),
        input.get("modelo_email"),
    ) {
        Ok(m) => m,
        Err(AppError::BadRequest(k)) => return outbound_page(&ctx, &input, Some(k)).await,
        Err(e) => return Err(e),
    };
    match conv::start_outbound(&ctx.state, &user, target, queue, text, wa, mail).await {
        Ok(id) => Ok(redirect(&format!("/atendimentos/{id}"))),
        Err(AppError::BadRequest(k) | AppError::Conflict(k)) => outbound_page(&ctx, &input, Some(k)).await,
        Err(e) => Err(e),
    }
}

async fn qr_page(ctx: &Ctx, error: Option<&'static str>) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let u2 = user.clone();
    let list = ctx.state.db.read(move |c| qr::list(c, &u2)).await?;
    let body = views::workbench::quick_replies(
        ctx.loc,
        ctx.csrf(),
        &list,
        user.id,
        user.can(Permission::ManageQuickReplies),
        error,
    );
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(ctx.page_status(status, ctx.t("qr.title"), "/respostas", body))
}

/// GET /respostas — my quick replies and the global ones.
pub async fn quick_replies(ctx: Ctx) -> AppResult<Response> {
    qr_page(&ctx, None).await
}

/// POST /respostas — `shortcut`, `body`, `global=1` (with the permission).
/// From the composer (`X-Requested-With: fetch`, `conversa=ID`) the answer is
/// the new list item, its variables filled for that conversation.
pub async fn quick_reply_create(ctx: Ctx, fetch: bool, input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let parsed = qr::parse_shortcut(input.get("shortcut")).and_then(|s| Ok((s, qr::parse_body(input.raw("body"))?)));
    let r = match parsed {
        Ok((shortcut, body)) => {
            qr::create(&ctx.state, &user, input.checked("global"), shortcut.clone(), body.clone(), ctx.actor())
                .await
                .map(|id| (id, shortcut, body))
        }
        Err(k) => Err(AppError::BadRequest(k)),
    };
    match r {
        Ok((id, shortcut, body)) if fetch => {
            let conv_id = input.get("conversa").parse::<i64>().unwrap_or(0);
            let u2 = user.clone();
            let contact = ctx
                .state
                .db
                .read(move |c| match conv::visible(c, &u2, conv_id) {
                    Ok(_) => qr::contact_name(c, conv_id),
                    Err(_) => Ok(String::new()),
                })
                .await?;
            let business = ctx.state.settings().business_name;
            let filled = qr::fill(&body, &contact, &user.name, &business);
            Ok(html(maud::html! {
                li data-id=(id) {
                    button.qr type="button" data-shortcut=(shortcut) data-body=(filled) {
                        strong { "/" (shortcut) } " " span.muted { (filled.chars().take(60).collect::<String>()) }
                    }
                    span.badge.badge-off { (ctx.t("qr.mine")) }
                }
            }))
        }
        Ok(_) => Ok(redirect("/respostas")),
        Err(AppError::BadRequest(k) | AppError::Conflict(k)) if fetch => {
            let mut r = html(maud::html! { p.flash.flash-error role="alert" { (ctx.t(k)) } });
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(AppError::BadRequest(k) | AppError::Conflict(k)) => qr_page(&ctx, Some(k)).await,
        Err(e) => Err(e),
    }
}

/// POST /respostas/{id}/excluir
pub async fn quick_reply_delete(ctx: Ctx, id: i64, _input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    qr::delete(&ctx.state, &user, id, ctx.actor()).await?;
    Ok(redirect("/respostas"))
}
