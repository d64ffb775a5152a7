//! Home, "my account" and team pages.

use maud::{Markup, html};

use super::forms::{self, Opts};
use crate::domain::settings::Settings;
use crate::domain::teams::TeamView;
use crate::domain::users::User;
use crate::domain::validate::FormErrors;
use crate::i18n::{Locale, t};

/// Counts shown to administrators on the home page.
pub struct AdminCounts {
    /// Active users.
    pub users: i64,
    /// Active teams.
    pub teams: i64,
    /// Active queues.
    pub queues: i64,
}

/// The home page.
pub fn home(loc: Locale, user: &User, s: &Settings, teams: &[(i64, String)], counts: Option<&AdminCounts>) -> Markup {
    html! {
        div.page-head { h1 { (t(loc, "home.hello")) ", " (user.name) } }
        p.lead { (s.business_name) " · " (t(loc, user.role.label())) }
        div.cards {
            section.card {
                h2 { (t(loc, "home.my_teams")) }
                @if teams.is_empty() {
                    p.empty { (t(loc, "home.no_teams")) }
                } @else {
                    ul { @for (id, name) in teams { li { a href=(format!("/equipes/{id}")) { (name) } } } }
                }
            }
            @if let Some(c) = counts {
                section.card { h2 { (t(loc, "reg.users")) } p.stat { (c.users) } p.muted { a href="/admin/usuarios" { (t(loc, "home.manage")) } } }
                section.card { h2 { (t(loc, "reg.teams")) } p.stat { (c.teams) } p.muted { a href="/admin/equipes" { (t(loc, "home.manage")) } } }
                section.card { h2 { (t(loc, "reg.queues")) } p.stat { (c.queues) } p.muted { a href="/admin/filas" { (t(loc, "home.manage")) } } }
            }
        }
        @if let Some(c) = counts {
            @if c.teams == 0 || c.queues == 0 || c.users < 2 {
                section.card {
                    h2 { (t(loc, "home.next_steps")) }
                    ol {
                        li.done[c.teams > 0] { a href="/admin/equipes/novo" { (t(loc, "home.step.team")) } }
                        li.done[c.queues > 0] { a href="/admin/filas/novo" { (t(loc, "home.step.queue")) } }
                        li.done[c.users > 1] { a href="/admin/usuarios/novo" { (t(loc, "home.step.agent")) } }
                    }
                }
            }
        }
    }
}

/// "My account": language preference and password change.
pub fn account(loc: Locale, csrf: &str, user: &User, flash: Option<&'static str>, errs: &FormErrors) -> Markup {
    let langs: Vec<(String, String)> = std::iter::once((String::new(), t(loc, "account.locale.default").to_string()))
        .chain([("pt-BR".to_string(), "Português (Brasil)".to_string()), ("en".to_string(), "English".to_string())])
        .collect();
    html! {
        div.page-head { h1 { (t(loc, "menu.account")) } }
        @if let Some(f) = flash { div.flash.flash-ok role="status" { (t(loc, f)) } }
        dl.details {
            dt { (t(loc, "f.name")) } dd { (user.name) }
            dt { (t(loc, "f.login")) } dd { (user.login) }
            dt { (t(loc, "f.role")) } dd { (t(loc, user.role.label())) }
        }
        form.form method="post" action="/conta/preferencias" {
            h2 { (t(loc, "account.prefs")) }
            (forms::csrf(csrf))
            (forms::select(loc, "locale", t(loc, "f.locale"), &langs, user.locale.as_deref().unwrap_or(""), &FormErrors::default(), None))
            div.form-actions { button.btn.btn-primary type="submit" { (t(loc, "action.save")) } }
        }
        form.form method="post" action="/conta/senha" {
            h2 { (t(loc, "account.password")) }
            (forms::summary(loc, errs))
            (forms::csrf(csrf))
            (forms::input(loc, "current", t(loc, "f.current_password"), "", errs,
                Opts { kind: "password", required: true, max: Some(128), autocomplete: Some("current-password"), ..Default::default() }))
            (forms::input(loc, "password", t(loc, "f.new_password"), "", errs,
                Opts { kind: "password", required: true, max: Some(128), hint: Some("f.password.hint"), autocomplete: Some("new-password") }))
            (forms::input(loc, "password2", t(loc, "f.password2"), "", errs,
                Opts { kind: "password", required: true, max: Some(128), autocomplete: Some("new-password"), ..Default::default() }))
            div.form-actions { button.btn.btn-primary type="submit" { (t(loc, "account.password.submit")) } }
        }
    }
}

/// The list of teams the user can open.
pub fn teams(loc: Locale, teams: &[(i64, String)]) -> Markup {
    html! {
        div.page-head { h1 { (t(loc, "menu.teams")) } }
        @if teams.is_empty() { p.empty { (t(loc, "home.no_teams")) } }
        @else { ul { @for (id, name) in teams { li { a href=(format!("/equipes/{id}")) { (name) } } } } }
    }
}

/// One team: members (with presence; supervisors may end a pause or set
/// Não pronto) and queues.
pub fn team(loc: Locale, csrf: &str, me: i64, v: &TeamView) -> Markup {
    html! {
        div.page-head { h1 { (v.name) } }
        section.card {
            h2 { (t(loc, "team.members")) }
            @if v.members.is_empty() { p.empty { (t(loc, "team.no_members")) } }
            @else {
                div.table-wrap { table.table #members {
                    thead { tr { th { (t(loc, "f.name")) } th { (t(loc, "f.role")) } th { (t(loc, "f.status")) } th { (t(loc, "team.presence")) } @if v.supervised { th {} } } }
                    tbody { @for m in &v.members { tr id=(format!("member-{}", m.id)) {
                        td { (m.name) } td { (t(loc, m.role.label())) }
                        td { @if m.active { span.badge.badge-ok { (t(loc, "status.active")) } } @else { span.badge.badge-off { (t(loc, "status.inactive")) } } }
                        td {
                            @if let Some((reason, since, exceeded)) = &m.pause {
                                span.badge.(if *exceeded { "badge-danger" } else { "badge-warn" }) {
                                    (t(loc, "presence.paused")) ": " (reason) " " span data-since=(since) {}
                                    @if *exceeded { " · " (t(loc, "pause.exceeded")) }
                                }
                            } @else if m.presence == "ready" { span.badge.badge-ok { (t(loc, "presence.ready")) } }
                            @else { span.badge.badge-off { (t(loc, "presence.not_ready")) } }
                        }
                        @if v.supervised { td.row-actions { @if m.id != me {
                            @if m.pause.is_some() {
                                form.inline method="post" action=(format!("/agentes/{}/encerrar-pausa", m.id)) {
                                    (forms::csrf(csrf)) button.btn.btn-sm type="submit" { (t(loc, "pause.supervise_end")) }
                                }
                            }
                            @if m.presence != "not_ready" {
                                form.inline method="post" action=(format!("/agentes/{}/nao-pronto", m.id)) {
                                    (forms::csrf(csrf)) button.btn.btn-sm type="submit" { (t(loc, "pause.supervise_not_ready")) }
                                }
                            }
                        } } }
                    } } }
                } }
            }
        }
        section.card {
            h2 { (t(loc, "reg.queues")) }
            @if v.queues.is_empty() { p.empty { (t(loc, "team.no_queues")) } }
            @else { ul { @for (name, ch) in &v.queues { li { (name) " " span.badge.badge-info { (channel_label(loc, ch)) } } } } }
        }
    }
}

fn channel_label(loc: Locale, code: &str) -> &'static str {
    match code {
        "email" => t(loc, "channel.email"),
        "whatsapp" => t(loc, "channel.whatsapp"),
        _ => t(loc, "channel.webchat"),
    }
}
