//! The page shell: top bar, left menu, content; the login shell; error pages.

use maud::{DOCTYPE, Markup, html};

use crate::assets;
use crate::domain::users::User;
use crate::i18n::{Locale, t};

/// What every page of the app needs besides its content.
pub struct Chrome<'a> {
    /// UI language.
    pub loc: Locale,
    /// The logged-in user (none on error pages seen logged out).
    pub user: Option<&'a User>,
    /// CSRF token for the logout form and htmx requests.
    pub csrf: &'a str,
    /// Menu entry to highlight (its href).
    pub active: &'a str,
}

struct MenuItem {
    href: &'static str,
    key: &'static str,
    icon: &'static str,
    admin_only: bool,
}

// The menu grows as areas land (conversations, contacts, tasks, reports).
const MENU: &[MenuItem] = &[
    MenuItem { href: "/", key: "menu.home", icon: "⌂", admin_only: false },
    MenuItem { href: "/atendimentos", key: "menu.desk", icon: "✉", admin_only: false },
    MenuItem { href: "/equipes", key: "menu.teams", icon: "◎", admin_only: false },
    MenuItem { href: "/admin", key: "menu.admin", icon: "⚙", admin_only: true },
    MenuItem { href: "/conta", key: "menu.account", icon: "☺", admin_only: false },
];

fn head(loc: Locale, title: &str, csrf: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="csrf-token" content=(csrf);
            meta name="htmx-config" content=r#"{"includeIndicatorStyles":false,"allowEval":false}"#;
            title { (title) " · Atende" }
            link rel="stylesheet" href=(assets::url("css/app.css"));
            script src=(assets::url("js/htmx.min.js")) defer {}
            script src=(assets::url("js/app.js")) defer {}
            meta name="lang" content=(loc.code());
        }
    }
}

/// A full page of the app with the menu.
pub fn page(c: &Chrome, title: &str, content: Markup) -> Markup {
    let loc = c.loc;
    html! {
        (DOCTYPE)
        html lang=(loc.code()) {
            (head(loc, title, c.csrf))
            body.app {
                header.topbar {
                    button.menu-toggle type="button" aria-label=(t(loc, "menu.toggle")) { "☰" }
                    a.brand href="/" { "Atende" }
                    span.topbar-spacer {}
                    @if let Some(u) = c.user {
                        span.topbar-user { (u.name) " " small.role { (t(loc, u.role.label())) } }
                        form.inline method="post" action="/sair" {
                            input type="hidden" name="_csrf" value=(c.csrf);
                            button.btn.btn-sm.btn-ghost type="submit" { (t(loc, "action.logout")) }
                        }
                    }
                }
                div.shell {
                    @if let Some(u) = c.user {
                        nav.sidebar aria-label=(t(loc, "menu.label")) {
                            ul.menu {
                                @for item in MENU.iter().filter(|m| !m.admin_only || u.is_admin()) {
                                    li {
                                        a.menu-item.active[c.active == item.href] href=(item.href) {
                                            span.icon aria-hidden="true" { (item.icon) }
                                            span { (t(loc, item.key)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    main.content id="content" { (content) }
                }
            }
        }
    }
}

/// The shell of the login and setup pages.
pub fn auth_page(loc: Locale, title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(loc.code()) {
            (head(loc, title, ""))
            body.auth {
                main.auth-box {
                    p.brand { "Atende" }
                    (content)
                }
            }
        }
    }
}

/// The content of an error page.
pub fn error_content(loc: Locale, code: u16, title: &str, text: &str) -> Markup {
    html! {
        div.error-page {
            p.error-code { (code) }
            h1 { (title) }
            p { (text) }
            a.btn.btn-primary href="/" { (t(loc, "action.back_home")) }
        }
    }
}
