//! The per-request context: session, client address, language, CSRF.

use std::net::SocketAddr;
use std::sync::Arc;

use maud::Markup;
use warp::Filter;
use warp::http::header::{HeaderMap, HeaderValue, LOCATION, RETRY_AFTER, SET_COOKIE};
use warp::http::{Method, StatusCode};
use warp::reply::{Reply, Response};

use crate::app::AppState;
use crate::domain::Actor;
use crate::domain::auth::{self, Session};
use crate::domain::users::User;
use crate::domain::validate::Input;
use crate::error::{AppError, AppResult};
use crate::i18n::{Locale, t};
use crate::views::layout::{self, Chrome};

/// Session cookie name.
pub const SESSION_COOKIE: &str = "atende_sid";
/// Pre-session CSRF cookie (login and setup forms).
pub const PRE_COOKIE: &str = "atende_csrf";

/// Everything a handler knows about the request besides its own parameters.
#[derive(Clone)]
pub struct Ctx {
    /// Shared state.
    pub state: Arc<AppState>,
    /// The valid session, if any.
    pub session: Option<Arc<Session>>,
    /// Client IP.
    pub ip: String,
    /// UI language for this request.
    pub loc: Locale,
    /// User-Agent header (stored with sessions).
    pub user_agent: String,
    // Pre-session CSRF: the cookie sent, or a new one to set.
    pre_csrf: Option<String>,
    new_pre_csrf: Option<String>,
    host: Option<String>,
    origin: Option<String>,
    header_csrf: Option<String>,
    htmx: bool,
    referer: Option<String>,
    method: Method,
    path_and_query: String,
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// Builds the context after the route's path matched.
pub fn filter(state: Arc<AppState>) -> impl Filter<Extract = (Ctx,), Error = std::convert::Infallible> + Clone {
    warp::any()
        .map(move || state.clone())
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(warp::cookie::optional::<String>(PRE_COOKIE))
        .and(warp::addr::remote())
        .and(warp::header::headers_cloned())
        .and(warp::method())
        .and(warp::path::full())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .then(build)
}

#[allow(clippy::too_many_arguments)]
async fn build(
    state: Arc<AppState>,
    sid: Option<String>,
    pre: Option<String>,
    remote: Option<SocketAddr>,
    headers: HeaderMap,
    method: Method,
    path: warp::path::FullPath,
    query: String,
) -> Ctx {
    let cfg = &state.config;
    let forwarded = cfg
        .trust_proxy
        .then(|| header(&headers, "x-forwarded-for"))
        .flatten()
        .and_then(|v| v.split(',').next().map(|s| s.trim().to_string()))
        .filter(|s| !s.is_empty());
    let ip = forwarded.unwrap_or_else(|| remote.map(|a| a.ip().to_string()).unwrap_or_default());
    let session = match sid.filter(|s| !s.is_empty() && s.len() <= 100) {
        Some(tok) => {
            match auth::session(&state.db, &tok, state.now(), cfg.session_idle_secs, cfg.session_max_secs).await {
                Ok(s) => s.map(Arc::new),
                Err(e) => {
                    tracing::error!("session lookup failed: {e}");
                    None
                }
            }
        }
        None => None,
    };
    let default = state.settings().locale;
    let loc = session.as_ref().and_then(|s| s.user.locale.as_deref().and_then(Locale::from_code)).unwrap_or(default);
    let pre = pre.filter(|p| p.len() >= 32 && p.len() <= 64);
    let new_pre_csrf = if session.is_none() && pre.is_none() { Some(auth::new_token()) } else { None };
    let path_and_query =
        if query.is_empty() { path.as_str().to_string() } else { format!("{}?{query}", path.as_str()) };
    Ctx {
        user_agent: header(&headers, "user-agent").unwrap_or_default().chars().take(200).collect(),
        host: header(&headers, "host"),
        origin: header(&headers, "origin"),
        header_csrf: header(&headers, "x-csrf-token"),
        htmx: headers.contains_key("hx-request") && !headers.contains_key("hx-boosted"),
        referer: header(&headers, "referer"),
        state,
        session,
        ip,
        loc,
        pre_csrf: pre,
        new_pre_csrf,
        method,
        path_and_query,
    }
}

impl Ctx {
    /// The logged-in user, or Unauthenticated.
    pub fn user(&self) -> AppResult<&User> {
        self.session.as_ref().map(|s| &s.user).ok_or(AppError::Unauthenticated)
    }

    /// The logged-in administrator, or Unauthenticated / Forbidden.
    pub fn admin(&self) -> AppResult<&User> {
        let u = self.user()?;
        if u.is_admin() { Ok(u) } else { Err(AppError::Forbidden) }
    }

    /// The actor for audit records.
    pub fn actor(&self) -> Actor {
        let (user_id, name) = match &self.session {
            Some(s) => (Some(s.user.id), s.user.name.clone()),
            None => (None, String::new()),
        };
        Actor { user_id, name, ip: self.ip.clone(), now: self.state.now() }
    }

    /// The CSRF token forms on this page must carry.
    pub fn csrf(&self) -> &str {
        match &self.session {
            Some(s) => &s.csrf,
            None => self.pre_csrf.as_deref().or(self.new_pre_csrf.as_deref()).unwrap_or(""),
        }
    }

    /// Checks a state-changing request: an Origin header, when sent, must name
    /// the host the request was sent to (whatever LAN IP or name that is), and
    /// the token must match the session's (or the pre-session cookie's).
    pub fn verify_csrf(&self, input: &Input) -> AppResult<()> {
        if let Some(origin) = &self.origin {
            let origin_host = origin.split_once("://").map(|(_, h)| h.trim_end_matches('/'));
            let same = matches!((origin_host, &self.host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h));
            if !same {
                return Err(AppError::Csrf);
            }
        }
        let sent = match input.get("_csrf") {
            "" => self.header_csrf.as_deref().unwrap_or(""),
            v => v,
        };
        let expected = match &self.session {
            Some(s) => s.csrf.as_str(),
            None => self.pre_csrf.as_deref().unwrap_or(""),
        };
        if expected.is_empty() || !auth::same_secret(sent, expected) {
            return Err(AppError::Csrf);
        }
        Ok(())
    }

    /// The widget's base URL: the configured public URL, else the address
    /// this request came to.
    pub fn public_base(&self) -> String {
        match &self.state.config.public_url {
            Some(u) => u.clone(),
            None => format!("http://{}", self.host.as_deref().unwrap_or("localhost:8080")),
        }
    }

    /// Whether htmx sent this request (it wants a fragment).
    pub fn is_htmx(&self) -> bool {
        self.htmx
    }

    /// The page the request came from, when it is one of ours (same host),
    /// else "/": where an action from the top bar returns to.
    pub fn back(&self) -> String {
        let same = |r: &str| {
            let rest = r.split_once("://").map(|(_, rest)| rest).unwrap_or("");
            let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
            matches!(&self.host, Some(h) if h.eq_ignore_ascii_case(host)).then_some(path)
        };
        self.referer.as_deref().and_then(same).map(|p| safe_next(&p).to_string()).unwrap_or_else(|| "/".into())
    }

    /// Path and query of this request (for "next" after login).
    pub fn here(&self) -> &str {
        &self.path_and_query
    }

    /// A full page in the app layout; an htmx request gets only the content
    /// (same view functions, no shell).
    pub fn page(&self, title: &str, active: &str, content: Markup) -> Response {
        if self.htmx && self.session.is_some() {
            return html(maud::html! { title { (title) " · Atende" } (content) });
        }
        let user = self.session.as_ref().map(|s| &s.user);
        let alerts = user.filter(|u| u.is_admin()).map(|_| self.state.health().snapshot());
        let chrome = Chrome {
            loc: self.loc,
            user,
            csrf: self.csrf(),
            active,
            bar: self.session.as_ref().map(|s| &s.bar),
            now: self.state.now(),
            alerts: alerts.as_ref(),
        };
        html(layout::page(&chrome, title, content))
    }

    /// Same as [`Ctx::page`] with a status (forms shown again with errors).
    pub fn page_status(&self, status: StatusCode, title: &str, active: &str, content: Markup) -> Response {
        let mut r = self.page(title, active, content);
        *r.status_mut() = status;
        r
    }

    /// Turns a handler result into the response, rendering errors as pages.
    pub fn finish(&self, r: AppResult<Response>) -> Response {
        let mut resp = match r {
            Ok(resp) => resp,
            Err(AppError::Unauthenticated) if self.method == Method::GET => {
                let next: String = form_urlencoded::byte_serialize(self.here().as_bytes()).collect();
                redirect(&format!("/entrar?next={next}"))
            }
            Err(e) => {
                if let AppError::Internal(cause) = &e {
                    tracing::error!("{} {}: {cause}", self.method, self.here());
                }
                let (title, text) = e.user_message(self.loc);
                let status = e.status();
                let content = layout::error_content(self.loc, status.as_u16(), title, &text);
                let mut r = self.page_status(status, title, "", content);
                if let Some(secs) = e.retry_after() {
                    r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
                }
                r
            }
        };
        if let Some(p) = &self.new_pre_csrf {
            let secure = if self.state.config.secure_cookies { "; Secure" } else { "" };
            let c = format!("{PRE_COOKIE}={p}; Path=/; HttpOnly; SameSite=Lax{secure}");
            if let Ok(v) = HeaderValue::from_str(&c) {
                resp.headers_mut().append(SET_COOKIE, v);
            }
        }
        resp
    }

    /// The Set-Cookie value that installs a session.
    pub fn session_cookie(&self, token: &str) -> String {
        let c = &self.state.config;
        let secure = if c.secure_cookies { "; Secure" } else { "" };
        format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}", c.session_max_secs)
    }

    /// Localized text.
    pub fn t(&self, key: &'static str) -> &'static str {
        t(self.loc, key)
    }
}

/// An HTML response.
pub fn html(m: Markup) -> Response {
    warp::reply::html(m.into_string()).into_response()
}

/// A 303 redirect (after POST, or to the login page).
pub fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// Adds a Set-Cookie header to a response.
pub fn with_cookie(mut r: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        r.headers_mut().append(SET_COOKIE, v);
    }
    r
}

/// Only local paths are accepted as "next" targets (no open redirects).
pub fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") { next } else { "/" }
}
