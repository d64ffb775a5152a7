//! The workspace's pages: `/atendimentos` (lists), `/atendimentos/{id}` (the
//! same screen with a conversation open, or only its panes for a swap
//! without reload), the whole lists page by page, and the dialogs' pages
//! (transfer, finish, archive) for browsers without the script.

use warp::http::StatusCode;
use warp::reply::Response;

use super::ctx::{Ctx, html, redirect};
use crate::domain::conversations::{self as conv, Filter};
use crate::domain::users::{Permission, User};
use crate::domain::validate::Input;
use crate::error::{AppError, AppResult};
use crate::views;
use crate::views::workspace::ListKind;

/// The filter named in the query (`fila`, `canal`, `etiqueta`); a value that
/// is not one is refused with a message.
fn filter(q: &Input) -> AppResult<Filter> {
    let id = |k: &str| match q.get(k) {
        "" => Ok(None),
        s => s.parse::<i64>().map(Some).map_err(|_| AppError::BadRequest("ws.bad_filter")),
    };
    let channel = match q.get("canal") {
        "" => None,
        c @ ("webchat" | "whatsapp" | "email") => Some(c.to_string()),
        _ => return Err(AppError::BadRequest("ws.bad_filter")),
    };
    Ok(Filter { queue: id("fila")?, channel, tag: id("etiqueta")? })
}

/// The notice named by `?err=` (only desk messages are shown).
pub fn notice(q: &Input) -> Option<&'static str> {
    crate::i18n::catalog_key(q.get("err")).filter(|k| {
        ["conv.", "presence.", "transfer.", "file.", "qr.", "val.", "outbound.", "ws.", "wa."]
            .iter()
            .any(|p| k.starts_with(p))
    })
}

async fn load_home(ctx: &Ctx, f: Filter) -> AppResult<conv::Home> {
    let user = ctx.user()?.clone();
    let now = ctx.state.now();
    ctx.state.db.read(move |c| conv::home(c, &user, now, &f)).await
}

fn can_open(ctx: &Ctx) -> AppResult<bool> {
    Ok(ctx.user()?.can(Permission::OpenConversations))
}

/// GET /atendimentos — the workspace with nothing open yet.
pub async fn home(ctx: Ctx, q: Input) -> AppResult<Response> {
    let f = filter(&q)?;
    let home = load_home(&ctx, f).await?;
    let tz = ctx.state.settings().tz();
    let body =
        views::workspace::page(ctx.loc, ctx.csrf(), &home, ctx.state.now(), notice(&q), can_open(&ctx)?, &tz, None);
    Ok(ctx.page(ctx.t("menu.desk"), "/atendimentos", body))
}

/// GET /atendimentos/listas — the lists fragment (live refresh), with the
/// same filter as the page.
pub async fn lists(ctx: Ctx, q: Input) -> AppResult<Response> {
    let home = load_home(&ctx, filter(&q)?).await?;
    let tz = ctx.state.settings().tz();
    Ok(html(views::workspace::lists(ctx.loc, ctx.csrf(), &home, ctx.state.now(), &tz)))
}

/// GET /atendimentos/fila — all of "Na fila", a page at a time.
pub async fn queued_list(ctx: Ctx, q: Input) -> AppResult<Response> {
    list_page(ctx, ListKind::Queued, q).await
}

/// GET /atendimentos/minhas — all of "Minhas conversas", a page at a time.
pub async fn mine_list(ctx: Ctx, q: Input) -> AppResult<Response> {
    list_page(ctx, ListKind::Mine, q).await
}

/// GET /atendimentos/finalizadas — all my finished and archived conversations.
pub async fn closed_list(ctx: Ctx, q: Input) -> AppResult<Response> {
    list_page(ctx, ListKind::Closed, q).await
}

async fn list_page(ctx: Ctx, kind: ListKind, q: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let after = match q.get("apos") {
        "" => None,
        s => Some(conv::parse_cursor(s).ok_or(AppError::BadRequest("list.bad_cursor"))?),
    };
    let f = filter(&q)?;
    let f2 = f.clone();
    let page = ctx
        .state
        .db
        .read(move |c| match kind {
            ListKind::Queued => conv::queued_page(c, &user, after, &f2, conv::PAGE_SIZE),
            ListKind::Mine => conv::mine_page(c, &user, after, &f2, conv::PAGE_SIZE),
            ListKind::Closed => conv::closed_page(c, &user, 0, after, &f2, conv::PAGE_SIZE),
        })
        .await?;
    let tz = ctx.state.settings().tz();
    let body = views::workspace::list_page(ctx.loc, ctx.csrf(), kind, &page, after.is_none(), &f, ctx.state.now(), &tz);
    Ok(ctx.page(ctx.t(kind.title_key()), "/atendimentos", body))
}

/// Everything the open conversation's two panes show.
struct Open {
    c: conv::Conversation,
    msgs: Vec<conv::Message>,
    transfer: conv::TransferOptions,
    panel: views::desk::Panel,
    wb: views::desk::Workbench,
}

async fn load_open(ctx: &Ctx, user: &User, id: i64) -> AppResult<Open> {
    let u2 = user.clone();
    let business = ctx.state.settings().business_name;
    let open = ctx
        .state
        .db
        .read(move |db| {
            let c = conv::visible(db, &u2, id)?;
            let msgs = conv::messages(db, id, 0, true)?;
            let transfer = conv::transfer_options(db, &u2, &c)?;
            let panel = views::desk::Panel {
                contact: crate::domain::contacts::detail(db, &u2, c.contact_id).ok(),
                timing: conv::timing(db, id)?,
                tasks: crate::domain::tasks::open_for_panel(db, &u2, id, c.contact_id)?,
            };
            let wb = workbench(db, &u2, &c, &business)?;
            Ok(Open { c, msgs, transfer, panel, wb })
        })
        .await?;
    if open.c.agent_id == Some(user.id) && open.c.unread {
        conv::mark_read(&ctx.state, user, id).await?;
    }
    Ok(open)
}

/// GET /atendimentos/{id} — the workspace with this conversation open;
/// `?painel=1` answers only its two panes (the script swaps them in and
/// moves the address bar, so switching conversations reloads nothing).
pub async fn view(ctx: Ctx, id: i64, q: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let o = load_open(&ctx, &user, id).await?;
    let tz = ctx.state.settings().tz();
    let now = ctx.state.now();
    let v = views::conversation::View {
        me: &user,
        c: &o.c,
        msgs: &o.msgs,
        transfer: &o.transfer,
        panel: &o.panel,
        wb: &o.wb,
        tz: &tz,
        now,
    };
    let centre = views::conversation::centre(ctx.loc, ctx.csrf(), &v, notice(&q));
    let side = views::conversation::side(ctx.loc, ctx.csrf(), &v);
    if q.get("painel") == "1" {
        let mut r = html(views::workspace::panes(&o.c.contact_name, id, centre, side));
        r.headers_mut().insert("cache-control", warp::http::HeaderValue::from_static("no-store"));
        return Ok(r);
    }
    let home = load_home(&ctx, Filter::default()).await?;
    let body =
        views::workspace::page(ctx.loc, ctx.csrf(), &home, now, None, can_open(&ctx)?, &tz, Some((id, centre, side)));
    Ok(ctx.page(&o.c.contact_name.clone(), "/atendimentos", body))
}

/// What the conversation page needs for its composer, tags and closing script.
fn workbench(
    db: &rusqlite::Connection,
    user: &User,
    c: &conv::Conversation,
    business: &str,
) -> AppResult<views::desk::Workbench> {
    use crate::domain::{attachments, contacts, quick_replies as qr};
    // {{nome}} is the contact's own name only (never an e-mail or "Visitante #N").
    let name = qr::contact_name(db, c.id)?;
    let quick_replies = qr::list(db, user)?
        .into_iter()
        .map(|q| {
            let body = qr::fill(&q.body, &name, &user.name, business);
            (q.id, q.shortcut, body, q.owner_id.is_some())
        })
        .collect();
    Ok(views::desk::Workbench {
        quick_replies,
        tags: conv::tags(db, c.id)?,
        tag_options: contacts::tags(db, "conversation")?,
        script_required: conv::script_required(db, c.queue_id)?,
        reasons: conv::closing_reasons(db)?,
        file_limit_mb: (attachments::limits(db)?.file >> 20) as i64,
        wa: wa_pane(db, c)?,
        mail: match c.channel.as_str() {
            "email" => Some(views::desk::MailPane {
                templates: crate::domain::email::templates::choices(db)?,
                copied: crate::domain::email::outgoing::copied(db, c.id)?,
            }),
            _ => None,
        },
    })
}

/// A WhatsApp conversation's opt-in and templates (None on other channels).
pub(super) fn wa_pane(db: &rusqlite::Connection, c: &conv::Conversation) -> AppResult<Option<views::desk::WaPane>> {
    use crate::domain::whatsapp::{optin, templates};
    if c.channel != "whatsapp" {
        return Ok(None);
    }
    let list = templates::usable(db, c.queue_id)?;
    let mut with = Vec::with_capacity(list.len());
    for t in list {
        let p = templates::prefill(db, &t, c.contact_id)?;
        with.push((t, p));
    }
    Ok(Some(views::desk::WaPane { optin: optin::current(db, c.contact_id)?, templates: with }))
}

/// GET /atendimentos/{id}/transferir — the transfer choices: as a page, or
/// (`?parte=1`) the dialog's part, which the open dialog refreshes so an
/// agent who just became Pronto can be chosen without a reload.
pub async fn transfer_form(ctx: Ctx, id: i64, q: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let transfer = ctx
        .state
        .db
        .read(move |db| {
            let c = conv::visible(db, &user, id)?;
            conv::transfer_options(db, &user, &c)
        })
        .await?;
    let part = views::conversation::transfer_options(ctx.loc, ctx.csrf(), id, &transfer);
    if q.get("parte") == "1" {
        let mut r = html(part);
        r.headers_mut().insert("cache-control", warp::http::HeaderValue::from_static("no-store"));
        return Ok(r);
    }
    let body = maud::html! {
        section.card { (part) a.btn.btn-ghost href=(format!("/atendimentos/{id}")) { (ctx.t("action.cancel")) } }
    };
    Ok(ctx.page(ctx.t("desk.transfer"), "/atendimentos", body))
}

/// GET /atendimentos/{id}/finalizar and /arquivar — the confirmation (with
/// the closing script when the queue asks it) as a page.
pub async fn leave_form(ctx: Ctx, id: i64, archive: bool) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let (required, reasons) = ctx
        .state
        .db
        .read(move |db| {
            let c = conv::visible(db, &user, id)?;
            Ok((conv::script_required(db, c.queue_id)?, conv::closing_reasons(db)?))
        })
        .await?;
    if !archive && required {
        let body = views::desk::closing_page(ctx.loc, ctx.csrf(), id, &reasons, None);
        return Ok(ctx.page(ctx.t("closing.title"), "/atendimentos", body));
    }
    let (verb, confirm, class) = if archive {
        ("arquivar", "desk.archive_confirm", "btn-danger")
    } else {
        ("finalizar", "desk.finish_confirm", "btn-primary")
    };
    let label = ctx.t(if archive { "desk.archive" } else { "desk.finish" });
    let body = maud::html! {
        div.page-head { h1 { (label) } }
        section.card {
            p { (ctx.t(confirm)) }
            form.form method="post" action=(format!("/atendimentos/{id}/{verb}")) {
                (views::forms::csrf(ctx.csrf()))
                div.form-actions {
                    button.btn.(class) type="submit" { (label) }
                    a.btn.btn-ghost href=(format!("/atendimentos/{id}")) { (ctx.t("action.cancel")) }
                }
            }
        }
    };
    Ok(ctx.page(label, "/atendimentos", body))
}

/// POST /atendimentos/{id}/anotacoes — + Anotação on the contact's timeline
/// from beside the conversation; back to the conversation.
pub async fn annotate(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let u2 = user.clone();
    let contact = ctx.state.db.read(move |db| Ok(conv::visible(db, &u2, id)?.contact_id)).await?;
    match crate::domain::contacts::annotate(&ctx.state, &user, contact, input.get("body")).await {
        Ok(()) => Ok(redirect(&format!("/atendimentos/{id}#panel-timeline"))),
        Err(AppError::Invalid(e)) => {
            let key = e.first_message();
            if input.get("_fetch") == "1" {
                let mut r = html(maud::html! { p.flash.flash-error role="alert" { (ctx.t(key)) } });
                *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                return Ok(r);
            }
            Ok(redirect(&format!("/atendimentos/{id}?err={key}")))
        }
        Err(e) => Err(e),
    }
}
