//! The page shell: top bar, left menu, content; the login shell; error pages.

use maud::{DOCTYPE, Markup, html};

use crate::assets;
use crate::db::space::HealthSnapshot;
use crate::domain::notifications::{Bar, Notification};
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
    /// The top bar's live part.
    pub bar: Option<&'a Bar>,
    /// Now (timers).
    pub now: i64,
    /// Storage alerts (disk full, refused backup), shown to admins.
    pub alerts: Option<&'a HealthSnapshot>,
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
    MenuItem { href: "/tarefas", key: "menu.tasks", icon: "☑", admin_only: false },
    MenuItem { href: "/contatos", key: "menu.contacts", icon: "☏", admin_only: false },
    MenuItem { href: "/pesquisar", key: "menu.search", icon: "⌕", admin_only: false },
    MenuItem { href: "/respostas", key: "menu.quick_replies", icon: "⚡", admin_only: false },
    MenuItem { href: "/equipes", key: "menu.teams", icon: "◎", admin_only: false },
    MenuItem { href: "/acompanhamento", key: "menu.supervision", icon: "◉", admin_only: false },
    MenuItem { href: "/indicadores", key: "menu.indicators", icon: "▥", admin_only: false },
    MenuItem { href: "/relatorios", key: "menu.reports", icon: "☰", admin_only: false },
    MenuItem { href: "/admin", key: "menu.admin", icon: "⚙", admin_only: true },
    MenuItem { href: "/conta", key: "menu.account", icon: "☺", admin_only: false },
];

/// Whether `u` sees a menu entry: admin-only entries for administrators,
/// the live panels and the indicators for supervisors and administrators.
fn shown(item: &MenuItem, u: &User) -> bool {
    match item.href {
        "/indicadores" | "/acompanhamento" => u.is_admin() || u.role == crate::domain::users::Role::Supervisor,
        _ => !item.admin_only || u.is_admin(),
    }
}

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
            script src=(assets::url("js/whatsapp.js")) defer {}
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
                        div #bar data-live="1" { @if let Some(b) = c.bar { (bar(loc, c.csrf, u, b, c.now, &[])) } }
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
                                @for item in MENU.iter().filter(|m| shown(m, u)) {
                                    li {
                                        a.menu-item.active[c.active == item.href] href=(item.href) {
                                            span.icon aria-hidden="true" { (item.icon) }
                                            span { (t(loc, item.key)) }
                                            @if item.href == "/tarefas" {
                                                @let n = c.bar.map(|b| b.overdue).unwrap_or(0);
                                                " " span #overdue-count .badge.badge-danger hidden[n == 0] title=(t(loc, "task.overdue_count")) { (n) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    main.content id="content" {
                        @if let (Some(u), Some(a)) = (c.user, c.alerts) { @if u.is_admin() { (alerts(loc, c.now, a)) } }
                        (content)
                    }
                }
            }
        }
    }
}

/// The live part of the top bar: presence or pause (with its timer), the
/// menu by the user's name (Pronto / Não pronto / pause reasons), and the
/// notification bell. `fresh` are the newest unread notifications, which the
/// page script turns into toasts (and browser notifications) once each.
pub fn bar(loc: Locale, csrf: &str, u: &User, b: &Bar, now: i64, fresh: &[Notification]) -> Markup {
    let _ = now;
    html! {
        div.bar data-overdue=(b.overdue) data-unread=(b.unread) data-last=(b.last_id) {
            @if let Some(p) = &b.pause {
                span #presence-badge .badge.(if p.exceeded { "badge-danger" } else { "badge-warn" }) {
                    (t(loc, "presence.paused")) ": " (p.reason) " " span data-since=(p.started_at) {}
                    @if p.exceeded { " · " (t(loc, "pause.exceeded")) " +" span data-since=(p.limit_at) {} }
                }
            } @else if b.presence == "ready" {
                span #presence-badge .badge.badge-ok { (t(loc, "presence.ready")) }
            } @else {
                span #presence-badge .badge.badge-off { (t(loc, "presence.not_ready")) }
            }
            details.user-menu {
                summary { (u.name) " " small.role { (t(loc, u.role.label())) } }
                div.user-menu-body {
                    @if b.pause.is_some() {
                        form method="post" action="/pausa/fim" {
                            input type="hidden" name="_csrf" value=(csrf);
                            button.btn.btn-sm.btn-primary type="submit" { (t(loc, "pause.end")) }
                        }
                    }
                    form method="post" action="/presenca" {
                        input type="hidden" name="_csrf" value=(csrf);
                        @if b.presence == "ready" {
                            input type="hidden" name="ready" value="0";
                            button.btn.btn-sm type="submit" { (t(loc, "presence.set_not_ready")) }
                        } @else {
                            input type="hidden" name="ready" value="1";
                            button.btn.btn-sm type="submit" { (t(loc, "presence.set_ready")) }
                        }
                    }
                    @if !b.reasons.is_empty() {
                        p.muted { (t(loc, "pause.start")) }
                        @for (id, name) in &b.reasons {
                            form method="post" action="/pausa" {
                                input type="hidden" name="_csrf" value=(csrf);
                                input type="hidden" name="reason_id" value=(id);
                                button.btn.btn-sm.btn-ghost type="submit" { (name) }
                            }
                        }
                    }
                }
            }
            a #bell .bell href="/notificacoes" title=(t(loc, "notif.title")) {
                "🔔" @if b.unread > 0 { " " span.badge.badge-danger { (b.unread) } }
            }
            @for n in fresh {
                span.notif hidden data-id=(n.id) data-browser=(if n.browser { "1" } else { "0" }) data-link=(n.link) {
                    (t(loc, notif_key(&n.kind))) ": " (n.text)
                }
            }
        }
    }
}

/// The admins' banner while the disk is full or the daily backup was refused
/// for lack of space (empty otherwise).
pub fn alerts(loc: Locale, now: i64, a: &HealthSnapshot) -> Markup {
    let mb = |b: u64| format!("{:.1} MB", b as f64 / 1_048_576.0);
    html! {
        @if a.full_since.is_some() || a.backup_refusal.is_some() {
            div #health-alerts {
                @if let Some(since) = a.full_since {
                    @let mins = ((now - since).max(0) / 60).to_string();
                    div.flash.flash-error #storage-alert role="alert" {
                        strong { (t(loc, "alert.storage_full.title")) } " "
                        (crate::i18n::tf(loc, "alert.storage_full.text", &[&a.dir, &mins, &a.refused_writes.to_string()]))
                    }
                }
                @if let Some(r) = &a.backup_refusal {
                    div.flash.flash-warn #backup-alert role="alert" {
                        strong { (t(loc, "alert.backup_refused.title")) } " "
                        (crate::i18n::tf(loc, "alert.backup_refused.text", &[&mb(r.needed), &mb(r.free)])) " "
                        a href="/admin/backup" { (t(loc, "admin.backup")) }
                    }
                }
            }
        }
    }
}

/// Catalog key of a notification kind.
pub fn notif_key(kind: &str) -> &'static str {
    match kind {
        "task_due" => "forms.notif.task_due",
        "task_overdue" => "forms.notif.task_overdue",
        "pause_exceeded" => "notif.pause_exceeded",
        "offers_missed" => "notif.offers_missed",
        "agent_offers_missed" => "notif.agent_offers_missed",
        "conv_waiting" => "notif.conv_waiting",
        "wa_token_invalid" => "wa.notif.token_invalid",
        _ => "notif.agent_pause_exceeded",
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
