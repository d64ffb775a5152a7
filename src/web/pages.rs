//! Handlers for login, logout, first-run setup, home, account and team pages.

use warp::http::StatusCode;
use warp::reply::Response;

use super::ctx::{Ctx, SESSION_COOKIE, html, redirect, safe_next, with_cookie};
use crate::domain::auth::{self, LoginResult};
use crate::domain::validate::{FormErrors, Input};
use crate::domain::{teams, users};
use crate::error::{AppError, AppResult};
use crate::i18n::{Locale, tf};
use crate::views;
use crate::views::account::AdminCounts;

/// GET / — the home page.
pub async fn home(ctx: Ctx) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let admin = user.is_admin();
    let u2 = user.clone();
    let (teams, counts) = ctx
        .state
        .db
        .read(move |c| {
            let teams = teams::visible(c, &u2)?;
            let counts = if admin {
                let n = |sql: &str| -> AppResult<i64> { Ok(c.query_row(sql, [], |r| r.get(0))?) };
                Some(AdminCounts {
                    users: n("SELECT count(*) FROM users WHERE active = 1")?,
                    teams: n("SELECT count(*) FROM teams WHERE active = 1")?,
                    queues: n("SELECT count(*) FROM queues WHERE active = 1")?,
                })
            } else {
                None
            };
            Ok((teams, counts))
        })
        .await?;
    let s = ctx.state.settings();
    Ok(ctx.page(ctx.t("menu.home"), "/", views::account::home(ctx.loc, &user, &s, &teams, counts.as_ref())))
}

/// GET /entrar — the login form (logged-in users go home).
pub async fn login_page(ctx: Ctx, q: Input) -> AppResult<Response> {
    if ctx.session.is_some() {
        return Ok(redirect(safe_next(q.get("next"))));
    }
    let msg = match q.get("msg") {
        "logout" => Some(("flash-ok", ctx.t("login.logged_out").to_string())),
        "expired" => Some(("flash-warn", ctx.t("login.expired").to_string())),
        _ => None,
    };
    Ok(html(views::auth::login(ctx.loc, ctx.csrf(), "", q.get("next"), msg)))
}

/// POST /entrar — checks credentials, starts a session.
pub async fn login_submit(ctx: Ctx, input: Input) -> AppResult<Response> {
    let login = input.get("login").to_string();
    let next = safe_next(input.get("next")).to_string();
    let fail = |status: StatusCode, text: String| {
        let mut r = html(views::auth::login(ctx.loc, ctx.csrf(), &login, &next, Some(("flash-error", text))));
        *r.status_mut() = status;
        r
    };
    if login.is_empty() || input.raw("password").is_empty() {
        return Ok(fail(StatusCode::UNPROCESSABLE_ENTITY, ctx.t("login.missing").to_string()));
    }
    if login.chars().count() > 120 || input.raw("password").chars().count() > 128 {
        return Ok(fail(StatusCode::UNPROCESSABLE_ENTITY, ctx.t("login.bad").to_string()));
    }
    let r = auth::login(&ctx.state.db, &login, input.raw("password"), ctx.actor(), ctx.user_agent.clone()).await?;
    Ok(match r {
        LoginResult::Ok(s) => with_cookie(redirect(&next), &ctx.session_cookie(&s.token)),
        LoginResult::BadCredentials => fail(StatusCode::UNAUTHORIZED, ctx.t("login.bad").to_string()),
        LoginResult::Throttled(min) => {
            fail(StatusCode::TOO_MANY_REQUESTS, tf(ctx.loc, "login.throttled", &[&min.to_string()]))
        }
    })
}

/// POST /sair — ends the session.
pub async fn logout(ctx: Ctx, _input: Input) -> AppResult<Response> {
    if let Some(s) = &ctx.session {
        auth::logout(&ctx.state, s.token_hash.clone(), ctx.actor()).await?;
    }
    Ok(with_cookie(
        redirect("/entrar?msg=logout"),
        &format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    ))
}

/// GET /setup/{token} — the first-administrator form.
pub async fn setup_page(ctx: Ctx, token: String) -> AppResult<Response> {
    if token.len() > 100 || !auth::setup_token_valid(&ctx.state.db, &token, ctx.state.now()).await? {
        let mut r = html(views::auth::setup_invalid(ctx.loc));
        *r.status_mut() = StatusCode::NOT_FOUND;
        return Ok(r);
    }
    Ok(html(views::auth::setup(ctx.loc, ctx.csrf(), &token, &Input::default(), &FormErrors::default())))
}

/// POST /setup/{token} — creates the administrator and logs them in.
pub async fn setup_submit(ctx: Ctx, token: String, input: Input) -> AppResult<Response> {
    if token.len() > 100 {
        return Err(AppError::NotFound);
    }
    match auth::complete_setup(&ctx.state.db, &token, &input, ctx.actor(), ctx.user_agent.clone()).await {
        Ok(s) => Ok(with_cookie(redirect("/"), &ctx.session_cookie(&s.token))),
        Err(AppError::Invalid(errs)) => {
            let mut r = html(views::auth::setup(ctx.loc, ctx.csrf(), &token, &input, &errs));
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(AppError::NotFound) => {
            let mut r = html(views::auth::setup_invalid(ctx.loc));
            *r.status_mut() = StatusCode::NOT_FOUND;
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

fn account_flash(q: &Input) -> Option<&'static str> {
    match q.get("ok") {
        "prefs" => Some("flash.saved"),
        "password" => Some("flash.password_changed"),
        _ => None,
    }
}

/// GET /conta — my account.
pub async fn account(ctx: Ctx, q: Input) -> AppResult<Response> {
    let user = ctx.user()?;
    let body = views::account::account(ctx.loc, ctx.csrf(), user, account_flash(&q), &FormErrors::default());
    Ok(ctx.page(ctx.t("menu.account"), "/conta", body))
}

/// POST /conta/preferencias — my language.
pub async fn account_prefs(ctx: Ctx, input: Input) -> AppResult<Response> {
    let user = ctx.user()?;
    let locale = match input.get("locale") {
        "" => None,
        code => Some(Locale::from_code(code).ok_or(AppError::BadRequest("val.invalid_choice"))?.code()),
    };
    users::set_locale(&ctx.state.db, user.id, locale, ctx.state.now()).await?;
    Ok(redirect("/conta?ok=prefs"))
}

/// POST /conta/senha — change my password.
pub async fn account_password(ctx: Ctx, input: Input) -> AppResult<Response> {
    let session = ctx.session.clone().ok_or(AppError::Unauthenticated)?;
    match auth::change_password(&ctx.state, &session, &input, ctx.actor()).await {
        Ok(()) => Ok(redirect("/conta?ok=password")),
        Err(AppError::Invalid(errs)) => {
            let body = views::account::account(ctx.loc, ctx.csrf(), &session.user, None, &errs);
            Ok(ctx.page_status(StatusCode::UNPROCESSABLE_ENTITY, ctx.t("menu.account"), "/conta", body))
        }
        Err(e) => Err(e),
    }
}

/// GET /equipes — teams I can open.
pub async fn teams_list(ctx: Ctx) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let list = ctx.state.db.read(move |c| teams::visible(c, &user)).await?;
    Ok(ctx.page(ctx.t("menu.teams"), "/equipes", views::account::teams(ctx.loc, &list)))
}

/// GET /equipes/{id} — one team (404 unless I am in it or an admin).
pub async fn team_page(ctx: Ctx, id: i64) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let me = user.id;
    let v = ctx.state.db.read(move |c| teams::view(c, id, &user)).await?;
    Ok(ctx.page(&v.name.clone(), "/equipes", views::account::team(ctx.loc, ctx.csrf(), me, &v)))
}
