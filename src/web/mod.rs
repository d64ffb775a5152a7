//! THE route table. Every route is listed here, grouped by area; handlers live
//! in the area modules and all have one shape: parse, authorize, one domain
//! call, render or redirect.
//!
//! The context (session lookup) is extracted only after a route's path and
//! method matched, so unmatched routes cost nothing. Every POST goes through
//! `post!`, which checks CSRF before the handler runs.

pub mod admin;
pub mod contacts;
pub mod ctx;
pub mod desk;
pub mod email;
pub mod email_templates;
pub mod health;
pub mod indicators;
pub mod live;
pub mod multipart;
pub mod pages;
pub mod registers;
pub mod reports;
pub mod supervision;
pub mod tasks;
pub mod whatsapp;
pub mod widget;
pub mod workbench;
pub mod workspace;

use std::convert::Infallible;
use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use warp::reply::{Reply, Response};
use warp::{Filter, Rejection};

use crate::app::AppState;
use crate::assets;
use crate::domain::validate::Input;
use crate::i18n::t;
use crate::views::layout;
use ctx::Ctx;

/// Largest form body accepted (forms here are small; uploads get their own limit).
pub const FORM_LIMIT: u64 = 64 * 1024;

/// A GET handler: `get!(h, [path params], [extra args])` builds the closure
/// `|params…, ctx, args…|` that calls `h(ctx, params…, args…)` and renders its
/// error, if any, as a page.
macro_rules! get {
    ($f:path, [$($p:ident),*], [$($a:ident),*]) => {
        |$($p,)* ctx: Ctx $(, $a)*| async move {
            let c = ctx.clone();
            c.finish($f(ctx $(, $p)* $(, $a)*).await)
        }
    };
}

/// A POST handler: `post!(h, [path params])`; the CSRF check runs before
/// `h(ctx, params…, input)`.
macro_rules! post {
    ($f:path, [$($p:ident),*]) => {
        |$($p,)* ctx: Ctx, input: Input| async move {
            let c = ctx.clone();
            let r = match ctx.verify_csrf(&input) {
                Ok(()) => $f(ctx $(, $p)*, input).await,
                Err(e) => Err(e),
            };
            c.finish(r)
        }
    };
}

fn form() -> impl Filter<Extract = (Input,), Error = Rejection> + Clone {
    warp::body::content_length_limit(FORM_LIMIT).and(warp::body::bytes()).map(|b: bytes::Bytes| Input::parse(&b))
}

/// A form carrying an e-mail template's HTML (up to
/// `templates::MAX_HTML` bytes, which URL-encoding can triple).
fn template_form() -> impl Filter<Extract = (Input,), Error = Rejection> + Clone {
    let limit = 4 * crate::domain::email::templates::MAX_HTML as u64;
    warp::body::content_length_limit(limit).and(warp::body::bytes()).map(|b: bytes::Bytes| Input::parse(&b))
}

fn query() -> impl Filter<Extract = (Input,), Error = Infallible> + Clone {
    warp::query::raw().or(warp::any().map(String::new)).unify().map(|q: String| Input::parse(q.as_bytes()))
}

mod subtrees;
use subtrees::{
    contact_routes, mail_template_routes, supervision_routes, task_routes, whatsapp_routes, workbench_routes,
};

/// Builds the whole application.
pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let cx = ctx::filter(state.clone());
    let get = || warp::get().and(warp::path::end());
    let post = || warp::post().and(warp::path::end());

    // -- static files and health
    let assets = warp::get()
        .and(warp::path("assets"))
        .and(warp::path::param::<String>())
        .and(warp::path::tail())
        .map(|hash: String, tail: warp::path::Tail| serve_asset(&hash, tail.as_str()));
    let hs = state.clone();
    let health = warp::path("healthz").and(get()).map(move || health::healthz(&hs));

    // -- login, setup, account, teams
    let home = get().and(cx.clone()).then(get!(pages::home, [], []));
    let login_page =
        warp::path("entrar").and(get()).and(cx.clone()).and(query()).then(get!(pages::login_page, [], [q]));
    let login_submit =
        warp::path("entrar").and(post()).and(cx.clone()).and(form()).then(post!(pages::login_submit, []));
    let logout = warp::path("sair").and(post()).and(cx.clone()).and(form()).then(post!(pages::logout, []));
    let setup = || warp::path!("setup" / String);
    let setup_page = setup().and(warp::get()).and(cx.clone()).then(get!(pages::setup_page, [token], []));
    let setup_submit = setup().and(warp::post()).and(cx.clone()).and(form()).then(post!(pages::setup_submit, [token]));
    let account = warp::path("conta").and(get()).and(cx.clone()).and(query()).then(get!(pages::account, [], [q]));
    let account_prefs = warp::path!("conta" / "preferencias")
        .and(warp::post())
        .and(cx.clone())
        .and(form())
        .then(post!(pages::account_prefs, []));
    let account_password = warp::path!("conta" / "senha")
        .and(warp::post())
        .and(cx.clone())
        .and(form())
        .then(post!(pages::account_password, []));
    let teams = warp::path("equipes").and(get()).and(cx.clone()).then(get!(pages::teams_list, [], []));
    let team = warp::path!("equipes" / i64).and(warp::get()).and(cx.clone()).then(get!(pages::team_page, [id], []));

    // -- agent desk
    let d = || warp::path("atendimentos");
    let desk_home = d().and(get()).and(cx.clone()).and(query()).then(get!(workspace::home, [], [q]));
    let desk_lists = warp::path!("atendimentos" / "listas").and(warp::get()).and(cx.clone()).and(query()).then(get!(
        workspace::lists,
        [],
        [q]
    ));
    let desk_queued = warp::path!("atendimentos" / "fila").and(warp::get()).and(cx.clone()).and(query()).then(get!(
        workspace::queued_list,
        [],
        [q]
    ));
    let desk_mine = warp::path!("atendimentos" / "minhas").and(warp::get()).and(cx.clone()).and(query()).then(get!(
        workspace::mine_list,
        [],
        [q]
    ));
    let desk_closed = warp::path!("atendimentos" / "finalizadas")
        .and(warp::get())
        .and(cx.clone())
        .and(query())
        .then(get!(workspace::closed_list, [], [q]));
    let conv_view = warp::path!("atendimentos" / i64).and(warp::get()).and(cx.clone()).and(query()).then(get!(
        workspace::view,
        [id],
        [q]
    ));
    // The dialogs' pages, for browsers without the script.
    let conv_transfer_form = warp::path!("atendimentos" / i64 / "transferir")
        .and(warp::get())
        .and(cx.clone())
        .and(query())
        .then(get!(workspace::transfer_form, [id], [q]));
    let conv_finish_form = warp::path!("atendimentos" / i64 / "finalizar").and(warp::get()).and(cx.clone()).then(
        |id, ctx: Ctx| async move {
            let c = ctx.clone();
            c.finish(workspace::leave_form(ctx, id, false).await)
        },
    );
    let conv_archive_form = warp::path!("atendimentos" / i64 / "arquivar").and(warp::get()).and(cx.clone()).then(
        |id, ctx: Ctx| async move {
            let c = ctx.clone();
            c.finish(workspace::leave_form(ctx, id, true).await)
        },
    );
    let conv_annotate = warp::path!("atendimentos" / i64 / "anotacoes")
        .and(warp::post())
        .and(cx.clone())
        .and(form())
        .then(post!(workspace::annotate, [id]));
    let conv_msgs = warp::path!("atendimentos" / i64 / "mensagens")
        .and(warp::get())
        .and(cx.clone())
        .and(query())
        .then(get!(desk::messages, [id], [q]));
    let conv_send = warp::path!("atendimentos" / i64 / "mensagens")
        .and(warp::post())
        .and(cx.clone())
        .and(form())
        .then(post!(desk::send, [id]));
    let conv_action = |name: &'static str| {
        warp::path("atendimentos").and(warp::path::param::<i64>()).and(warp::path(name)).and(post())
    };
    let conv_accept = conv_action("aceitar").and(cx.clone()).and(form()).then(post!(desk::accept, [id]));
    let conv_decline = conv_action("recusar").and(cx.clone()).and(form()).then(post!(desk::decline, [id]));
    let conv_claim = conv_action("pegar").and(cx.clone()).and(form()).then(post!(desk::claim, [id]));
    let conv_finish = conv_action("finalizar").and(cx.clone()).and(form()).then(post!(desk::finish, [id]));
    let conv_archive = conv_action("arquivar").and(cx.clone()).and(form()).then(post!(desk::archive, [id]));
    let conv_reopen = conv_action("reabrir").and(cx.clone()).and(form()).then(post!(desk::reopen, [id]));
    let conv_transfer = conv_action("transferir").and(cx.clone()).and(form()).then(post!(desk::transfer, [id]));
    let presence = warp::path("presenca").and(post()).and(cx.clone()).and(form()).then(post!(desk::presence, []));
    let connect = warp::path!("filas" / i64 / "conexao")
        .and(warp::post())
        .and(cx.clone())
        .and(form())
        .then(post!(desk::connect, [id]));
    let pull = warp::path!("filas" / i64 / "puxar")
        .and(warp::post())
        .and(cx.clone())
        .and(form())
        .then(post!(desk::pull, [id]));
    let events = warp::path("eventos").and(get()).and(cx.clone()).and(warp::sse::last_event_id::<u64>()).then(get!(
        live::events,
        [],
        [last]
    ));
    let desk_routes = desk_home
        .or(desk_lists)
        .unify()
        .or(desk_queued)
        .unify()
        .or(desk_mine)
        .unify()
        .or(desk_closed)
        .unify()
        .boxed()
        .or(conv_view)
        .unify()
        .or(conv_transfer_form)
        .unify()
        .or(conv_finish_form)
        .unify()
        .or(conv_archive_form)
        .unify()
        .or(conv_annotate)
        .unify()
        .boxed()
        .or(conv_msgs)
        .unify()
        .or(conv_send)
        .unify()
        .or(conv_accept)
        .unify()
        .or(conv_decline)
        .unify()
        .or(conv_claim)
        .unify()
        .or(conv_finish)
        .unify()
        .or(conv_archive)
        .unify()
        .or(conv_reopen)
        .unify()
        .or(conv_transfer)
        .unify()
        .boxed()
        .or(presence)
        .unify()
        .or(connect)
        .unify()
        .or(pull)
        .unify()
        .or(events)
        .unify()
        .boxed();

    let public = assets
        .or(health)
        .unify()
        .or(home)
        .unify()
        .or(login_page)
        .unify()
        .or(login_submit)
        .unify()
        .or(logout)
        .unify()
        .or(setup_page)
        .unify()
        .or(setup_submit)
        .unify()
        .or(account)
        .unify()
        .or(account_prefs)
        .unify()
        .or(account_password)
        .unify()
        .or(teams)
        .unify()
        .or(team)
        .unify()
        .boxed();

    // -- administration (every handler checks the admin role itself)
    let a = || warp::path("admin");
    let admin_index = a().and(get()).and(cx.clone()).then(get!(admin::index, [], []));
    let users_list =
        a().and(warp::path("usuarios")).and(get()).and(cx.clone()).and(query()).then(get!(admin::users_list, [], [q]));
    let user_new =
        a().and(warp::path!("usuarios" / "novo")).and(warp::get()).and(cx.clone()).then(get!(admin::user_new, [], []));
    let user_create =
        a().and(warp::path("usuarios")).and(post()).and(cx.clone()).and(form()).then(post!(admin::user_create, []));
    let user_edit = a().and(warp::path!("usuarios" / i64)).and(warp::get()).and(cx.clone()).and(query()).then(get!(
        admin::user_edit,
        [id],
        [q]
    ));
    let user_update = a()
        .and(warp::path!("usuarios" / i64))
        .and(warp::post())
        .and(cx.clone())
        .and(form())
        .then(post!(admin::user_update, [id]));
    let user_password = a()
        .and(warp::path!("usuarios" / i64 / "senha"))
        .and(warp::post())
        .and(cx.clone())
        .and(form())
        .then(post!(admin::user_password, [id]));
    let user_active = a()
        .and(warp::path!("usuarios" / i64 / "ativo"))
        .and(warp::post())
        .and(cx.clone())
        .and(form())
        .then(post!(admin::user_active, [id]));
    let settings_page = a().and(warp::path("configuracoes")).and(get()).and(cx.clone()).and(query()).then(get!(
        admin::settings_page,
        [],
        [q]
    ));
    let settings_save = a()
        .and(warp::path("configuracoes"))
        .and(post())
        .and(cx.clone())
        .and(form())
        .then(post!(admin::settings_save, []));
    let audit_page =
        a().and(warp::path("auditoria")).and(get()).and(cx.clone()).and(query()).then(get!(admin::audit_page, [], [q]));
    let audit_csv = a().and(warp::path("auditoria.csv")).and(get()).and(cx.clone()).and(query()).then(get!(
        admin::audit_csv,
        [],
        [q]
    ));
    let backup_page = a().and(warp::path("backup")).and(get()).and(cx.clone()).then(get!(admin::backup_page, [], []));
    let backup_download = a()
        .and(warp::path!("backup" / "baixar"))
        .and(warp::post())
        .and(cx.clone())
        .and(form())
        .then(post!(admin::backup_download, []));

    // -- generic registers: /admin/{slug}[/novo|/{id}[/ativo]]
    let slug = || a().and(warp::path::param::<String>());
    let reg_list = slug().and(get()).and(cx.clone()).and(query()).then(get!(registers::list, [slug], [q]));
    let reg_new =
        a().and(warp::path!(String / "novo")).and(warp::get()).and(cx.clone()).then(get!(registers::new, [slug], []));
    let reg_create = slug().and(post()).and(cx.clone()).and(form()).then(post!(registers::create, [slug]));
    let reg_edit = a().and(warp::path!(String / i64)).and(warp::get()).and(cx.clone()).and(query()).then(get!(
        registers::edit,
        [slug, id],
        [q]
    ));
    let reg_update = a()
        .and(warp::path!(String / i64))
        .and(warp::post())
        .and(cx.clone())
        .and(form())
        .then(post!(registers::update, [slug, id]));
    let reg_active = a()
        .and(warp::path!(String / i64 / "ativo"))
        .and(warp::post())
        .and(cx.clone())
        .and(form())
        .then(post!(registers::set_active, [slug, id]));

    let admin_routes = admin_index
        .or(users_list)
        .unify()
        .or(user_new)
        .unify()
        .or(user_create)
        .unify()
        .or(user_edit)
        .unify()
        .or(user_update)
        .unify()
        .or(user_password)
        .unify()
        .or(user_active)
        .unify()
        .or(settings_page)
        .unify()
        .or(settings_save)
        .unify()
        .or(audit_page)
        .unify()
        .or(audit_csv)
        .unify()
        .or(backup_page)
        .unify()
        .or(backup_download)
        .unify()
        .boxed();
    let register_routes = reg_list
        .or(reg_new)
        .unify()
        .or(reg_create)
        .unify()
        .or(reg_edit)
        .unify()
        .or(reg_update)
        .unify()
        .or(reg_active)
        .unify()
        .boxed();

    // -- WhatsApp: a queue's number and templates (admins); ticks, templates
    // and opt-in in a conversation
    let whatsapp_routes = whatsapp_routes(&cx);
    let mail_template_routes = mail_template_routes(&cx);

    // -- web chat widget, agent side: "digitando…" to the visitor (never stored)
    let widget_routes = warp::path!("atendimentos" / i64 / "digitando")
        .and(warp::post())
        .and(cx.clone())
        .and(form())
        .then(post!(widget::agent_typing, [id]))
        .boxed();

    // -- Indicadores (supervisors and admins; each handler checks the scope)
    let indicator_routes = warp::path("indicadores")
        .and(warp::path::end())
        .and(warp::get())
        .and(cx.clone())
        .and(query())
        .then(get!(indicators::page, [], [q]))
        .or(warp::path!("indicadores.csv").and(warp::get()).and(cx.clone()).and(query()).then(get!(
            indicators::csv,
            [],
            [q]
        )))
        .unify()
        .or(warp::path!("indicadores" / "conversas").and(warp::get()).and(cx.clone()).and(query()).then(get!(
            indicators::behind,
            [],
            [q]
        )))
        .unify()
        .boxed();

    // -- Relatórios (each handler checks who may read which report)
    let report_routes = warp::path("relatorios")
        .and(warp::path::end())
        .and(warp::get())
        .and(cx.clone())
        .then(get!(reports::index, [], []))
        .or(warp::path!("relatorios" / String).and(warp::get()).and(cx.clone()).and(query()).then(get!(
            reports::page,
            [name],
            [q]
        )))
        .unify()
        .boxed();

    let task_routes = task_routes(&cx);
    let contact_routes = contact_routes(&cx);
    let workbench_routes = workbench_routes(&cx);
    let locale_state = state.clone();
    let routes = public
        .or(crate::channels::webchat::routes(state.clone()))
        .unify()
        .or(crate::channels::whatsapp::routes(state.clone()))
        .unify()
        .or(desk_routes)
        .unify()
        .or(task_routes)
        .unify()
        .or(contact_routes)
        .unify()
        .or(workbench_routes)
        .unify()
        .or(mail_template_routes)
        .unify()
        .or(admin_routes)
        .unify()
        .or(whatsapp_routes)
        .unify()
        .or(register_routes)
        .unify()
        .or(widget_routes)
        .unify()
        .or(indicator_routes)
        .unify()
        .or(report_routes)
        .unify()
        .or(supervision_routes(&cx))
        .unify();
    finish(locale_state, routes)
}

/// Only the public endpoints (widget script, visitor API and stream), for the
/// `--public-addr` listener.
pub fn public_routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let public = crate::channels::webchat::routes(state.clone())
        .or(crate::channels::whatsapp::routes(state.clone()))
        .unify()
        .boxed();
    finish(state, public)
}

/// Every listener ends the same way: rejections become error pages, and
/// every response gets the security headers.
fn finish(
    state: Arc<AppState>,
    routes: impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static,
) -> BoxedFilter<(Response,)> {
    routes
        .recover(move |r: Rejection| {
            let s = state.clone();
            async move { Ok::<Response, Infallible>(rejection_page(&s, r)) }
        })
        .unify()
        .map(security_headers)
        .boxed()
}

fn serve_asset(hash: &str, path: &str) -> Response {
    match assets::get(hash, path) {
        Some((data, mime)) => {
            let mut r = data.into_owned().into_response();
            if let Ok(v) = HeaderValue::from_str(&mime) {
                r.headers_mut().insert(CONTENT_TYPE, v);
            }
            r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
            r
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn rejection_page(state: &AppState, r: Rejection) -> Response {
    let loc = state.settings().locale;
    // A body refused by size outranks "no such route": the path exists for GET.
    let (status, title, text) = if r.find::<warp::reject::PayloadTooLarge>().is_some() {
        (StatusCode::PAYLOAD_TOO_LARGE, "err.413.title", "err.413.text")
    } else if r.find::<warp::reject::LengthRequired>().is_some() {
        (StatusCode::LENGTH_REQUIRED, "err.400.title", "err.411.text")
    } else if r.is_not_found() || r.find::<warp::reject::MethodNotAllowed>().is_some() {
        (StatusCode::NOT_FOUND, "err.404.title", "err.404.text")
    } else {
        (StatusCode::BAD_REQUEST, "err.400.title", "err.400.text")
    };
    let content = layout::error_content(loc, status.as_u16(), t(loc, title), t(loc, text));
    let chrome = layout::Chrome { loc, user: None, csrf: "", active: "", bar: None, now: 0, alerts: None };
    let mut resp = ctx::html(layout::page(&chrome, t(loc, title), content));
    *resp.status_mut() = status;
    resp
}

fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    // Only an e-mail's own frame may be framed, and only by the desk.
    if !h.contains_key("x-frame-options") {
        h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    }
    if !h.contains_key("referrer-policy") {
        h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    }
    // Served files carry their own stricter policy (a sandbox).
    if !h.contains_key("content-security-policy") {
        h.insert(
            "content-security-policy",
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                 frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
            ),
        );
    }
    if !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}
