//! Administration pages: index, users, settings, audit log, backups.

use maud::{Markup, html};

use super::forms::{self, Opts};
use super::registers::active_toggle;
use crate::domain::audit::{ACTIONS, Entry, Filter};
use crate::domain::registers::SPECS;
use crate::domain::settings::{BRAZIL_ZONES, Settings, WEEKDAYS, other_zones, zone_offset};
use crate::domain::users::{Role, UserRow};
use crate::domain::validate::{FormErrors, Input};
use crate::i18n::{Locale, t};

/// The administration index.
pub fn index(loc: Locale) -> Markup {
    let tiles: Vec<(String, &str, &str)> =
        std::iter::once(("/admin/usuarios".to_string(), "reg.users", "reg.users.about"))
            .chain(SPECS.iter().map(|s| (format!("/admin/{}", s.slug), s.title, s.about)))
            .chain([
                ("/admin/modelos-email".to_string(), "admin.email_templates", "admin.email_templates.about"),
                ("/admin/configuracoes".to_string(), "admin.settings", "admin.settings.about"),
                ("/admin/auditoria".to_string(), "admin.audit", "admin.audit.about"),
                ("/admin/backup".to_string(), "admin.backup", "admin.backup.about"),
                ("/admin/agendador".to_string(), "jobs.title", "jobs.about"),
                ("/relatorios/pausas".to_string(), "pause.report", "pause.report_about"),
            ])
            .collect();
    html! {
        div.page-head { h1 { (t(loc, "menu.admin")) } }
        ul.admin-grid {
            @for (href, title, about) in &tiles {
                li { a.admin-tile href=(href) { strong { (t(loc, title)) } span { (t(loc, about)) } } }
            }
        }
    }
}

/// The users list.
pub fn users(loc: Locale, csrf: &str, rows: &[UserRow], flash: Option<&'static str>) -> Markup {
    html! {
        div.page-head {
            h1 { (t(loc, "reg.users")) }
            div.actions { a.btn.btn-primary href="/admin/usuarios/novo" { (t(loc, "reg.users.new")) } }
        }
        @if let Some(f) = flash { div.flash.flash-ok role="status" { (t(loc, f)) } }
        div.table-wrap { table.table {
            thead { tr {
                th { (t(loc, "f.name")) } th { (t(loc, "f.login")) } th { (t(loc, "f.role")) }
                th { (t(loc, "f.access_group")) } th { (t(loc, "reg.teams")) } th { (t(loc, "f.status")) }
                th { span.sr-only { (t(loc, "list.actions")) } }
            } }
            tbody { @for r in rows { tr {
                td { a href=(format!("/admin/usuarios/{}", r.user.id)) { (r.user.name) } }
                td { (r.user.login) }
                td { (t(loc, r.user.role.label())) }
                td { (r.group_name.as_deref().unwrap_or("—")) }
                td { @if r.team_names.is_empty() { "—" } @else { (r.team_names) } }
                td { @if r.user.active { span.badge.badge-ok { (t(loc, "status.active")) } } @else { span.badge.badge-off { (t(loc, "status.inactive")) } } }
                td.row-actions {
                    a.btn.btn-sm href=(format!("/admin/usuarios/{}", r.user.id)) { (t(loc, "action.edit")) }
                    (active_toggle(loc, csrf, &format!("/admin/usuarios/{}/ativo", r.user.id), r.user.active))
                }
            } } }
        } }
    }
}

/// Data for the user form.
pub struct UserForm<'a> {
    /// Editing this user id (None: creating).
    pub id: Option<i64>,
    /// Whether the edited user is active.
    pub active: bool,
    /// Current (or typed) values.
    pub input: &'a Input,
    /// Access groups for the select.
    pub groups: &'a [(i64, String)],
    /// Teams for the checkboxes.
    pub teams: &'a [(i64, String)],
    /// Errors of the main form.
    pub errs: &'a FormErrors,
    /// Errors of the password reset form.
    pub pw_errs: &'a FormErrors,
    /// Notice to show.
    pub flash: Option<&'static str>,
}

/// Create/edit a user; editing also offers password reset and deactivation.
pub fn user_form(loc: Locale, csrf: &str, f: &UserForm) -> Markup {
    let roles: Vec<(String, String)> =
        Role::ALL.iter().map(|r| (r.code().to_string(), t(loc, r.label()).to_string())).collect();
    let groups: Vec<(String, String)> = f.groups.iter().map(|(i, n)| (i.to_string(), n.clone())).collect();
    let teams: Vec<(String, String)> = f.teams.iter().map(|(i, n)| (i.to_string(), n.clone())).collect();
    let checked: Vec<String> = f.input.all("team_ids").into_iter().map(String::from).collect();
    let action = match f.id {
        Some(id) => format!("/admin/usuarios/{id}"),
        None => "/admin/usuarios".into(),
    };
    let role = if f.input.get("role").is_empty() { "agent" } else { f.input.get("role") };
    html! {
        div.page-head { h1 { (t(loc, if f.id.is_some() { "action.edit" } else { "reg.users.new" })) " · " (t(loc, "reg.users")) } }
        @if let Some(m) = f.flash { div.flash.flash-ok role="status" { (t(loc, m)) } }
        (forms::summary(loc, f.errs))
        form.form method="post" action=(action) novalidate {
            (forms::csrf(csrf))
            (forms::input(loc, "name", t(loc, "f.name"), f.input.get("name"), f.errs, Opts { required: true, max: Some(100), ..Default::default() }))
            (forms::input(loc, "login", t(loc, "f.login"), f.input.get("login"), f.errs, Opts { required: true, max: Some(120), hint: Some("f.login.hint"), ..Default::default() }))
            @if f.id.is_none() {
                (forms::input(loc, "password", t(loc, "f.initial_password"), "", f.errs, Opts { kind: "password", required: true, max: Some(128), hint: Some("f.password.hint"), autocomplete: Some("new-password") }))
            }
            div.field-row {
                (forms::select(loc, "role", t(loc, "f.role"), &roles, role, f.errs, None))
                (forms::select(loc, "access_group_id", t(loc, "f.access_group"), &groups, f.input.get("access_group_id"), f.errs, Some(t(loc, "form.no_group"))))
            }
            (forms::checks(loc, "team_ids", t(loc, "reg.teams"), &teams, &checked, f.errs))
            (forms::actions(loc, "/admin/usuarios"))
        }
        @if let Some(id) = f.id {
            form.form method="post" action=(format!("/admin/usuarios/{id}/senha")) novalidate {
                h2 { (t(loc, "user.reset_password")) }
                (forms::summary(loc, f.pw_errs))
                (forms::csrf(csrf))
                (forms::input(loc, "password", t(loc, "f.new_password"), "", f.pw_errs, Opts { kind: "password", required: true, max: Some(128), hint: Some("user.reset_password.hint"), autocomplete: Some("new-password") }))
                div.form-actions { button.btn.btn-primary type="submit" { (t(loc, "user.reset_password")) } }
            }
            section.card {
                h2 { (t(loc, "f.status")) }
                p { @if f.active { span.badge.badge-ok { (t(loc, "status.active")) } } @else { span.badge.badge-off { (t(loc, "status.inactive")) } } }
                (active_toggle(loc, csrf, &format!("/admin/usuarios/{id}/ativo"), f.active))
            }
        }
    }
}

/// The business time zone: a select, Brazil's zones first with their cities,
/// then every other zone of the database; each with its offset now. A stored
/// zone outside both lists is kept as the first option, so saving the form
/// without touching it changes nothing.
fn time_zone_select(loc: Locale, current: &str, errs: &FormErrors, now: i64) -> Markup {
    let err = errs.get("time_zone");
    let known = BRAZIL_ZONES.iter().any(|(z, _)| *z == current) || other_zones().iter().any(|z| z == current);
    let offset = |z: &str| zone_offset(z, now).map(|o| format!(" ({o})")).unwrap_or_default();
    html! {
        div.field.has-error[err.is_some()] {
            label for="f-time_zone" { (t(loc, "f.time_zone")) }
            select #f-time_zone name="time_zone" required aria-invalid=[err.map(|_| "true")] {
                @if !known && !current.is_empty() { option value=(current) selected { (current) } }
                optgroup label=(t(loc, "forms.tz.brazil")) {
                    @for (zone, city) in BRAZIL_ZONES {
                        option value=(zone) selected[*zone == current] { (city) (offset(zone)) " — " (zone) }
                    }
                }
                optgroup label=(t(loc, "forms.tz.others")) {
                    @for zone in other_zones() {
                        option value=(zone) selected[zone == current] { (zone.replace('_', " ")) (offset(zone)) }
                    }
                }
            }
            p.hint { (t(loc, "forms.tz.hint")) }
            @if let Some(e) = err { p.field-error { (t(loc, e)) } }
        }
    }
}

/// Business settings form.
pub fn settings(
    loc: Locale,
    csrf: &str,
    s: &Settings,
    errs: &FormErrors,
    flash: Option<&'static str>,
    now: i64,
) -> Markup {
    let langs =
        vec![("pt-BR".to_string(), "Português (Brasil)".to_string()), ("en".to_string(), "English".to_string())];
    html! {
        div.page-head { h1 { (t(loc, "admin.settings")) } }
        @if let Some(m) = flash { div.flash.flash-ok role="status" { (t(loc, m)) } }
        (forms::summary(loc, errs))
        form.form method="post" action="/admin/configuracoes" novalidate {
            (forms::csrf(csrf))
            (forms::input(loc, "business_name", t(loc, "f.business_name"), &s.business_name, errs, Opts { required: true, max: Some(100), ..Default::default() }))
            div.field-row {
                (time_zone_select(loc, &s.time_zone, errs, now))
                (forms::select(loc, "locale", t(loc, "f.default_locale"), &langs, s.locale.code(), errs, None))
            }
            div.field-row {
                (forms::input(loc, "attach_file_mb", t(loc, "f.attach_file_mb"), &s.attach_file_mb.to_string(), errs, Opts { required: true, max: Some(6), ..Default::default() }))
                (forms::input(loc, "attach_conversation_mb", t(loc, "f.attach_conversation_mb"), &s.attach_conversation_mb.to_string(), errs, Opts { required: true, max: Some(6), ..Default::default() }))
            }
            fieldset.checks {
                legend { (t(loc, "f.business_hours")) }
                table.hours {
                    thead { tr { th { (t(loc, "f.weekday")) } th { (t(loc, "f.open")) } th { (t(loc, "f.opens")) } th { (t(loc, "f.closes")) } } }
                    tbody { @for (d, h) in s.hours.iter().enumerate() { tr {
                        td { (t(loc, WEEKDAYS[d])) }
                        td { input type="checkbox" name=(format!("open{d}")) value="1" checked[h.open] aria-label=(t(loc, "f.open")); }
                        td { input type="time" name=(format!("opens{d}")) value=(h.opens) aria-label=(t(loc, "f.opens")); }
                        td {
                            input type="time" name=(format!("closes{d}")) value=(h.closes) aria-label=(t(loc, "f.closes"));
                            @if let Some(e) = errs.get(&format!("opens{d}")).or(errs.get(&format!("closes{d}"))) { p.field-error { (t(loc, e)) } }
                        }
                    } } }
                }
            }
            (forms::actions(loc, "/admin"))
        }
    }
}

/// What the audit page shows.
#[derive(Clone, Copy)]
pub struct AuditPage<'a> {
    /// Filters in effect.
    pub filter: &'a Filter,
    /// "from" date as typed.
    pub from: &'a str,
    /// "to" date as typed.
    pub to: &'a str,
    /// Entries of this page.
    pub rows: &'a [Entry],
    /// Id to continue from for the next (older) page.
    pub next: Option<i64>,
    /// Query string of the filters, for links.
    pub query_base: &'a str,
}

/// The audit log with filters and keyset pagination.
pub fn audit(loc: Locale, tz: &jiff::tz::TimeZone, p: &AuditPage) -> Markup {
    let AuditPage { filter: f, from, to, rows, next, query_base } = *p;
    let actions: Vec<(String, String)> = std::iter::once(("auth.".to_string(), t(loc, "audit.group.auth").to_string()))
        .chain(ACTIONS.iter().map(|a| (a.to_string(), action_label(loc, a))))
        .collect();
    html! {
        div.page-head {
            h1 { (t(loc, "admin.audit")) }
            div.actions { a.btn href=(format!("/admin/auditoria.csv?{query_base}")) { (t(loc, "action.export_csv")) } }
        }
        form.filters method="get" action="/admin/auditoria" hx-get="/admin/auditoria" hx-target="#content" hx-push-url="true" {
            (forms::select(loc, "action", t(loc, "f.action"), &actions, &f.action, &FormErrors::default(), Some(t(loc, "form.all"))))
            (forms::input(loc, "actor", t(loc, "f.actor"), &f.actor, &FormErrors::default(), Opts { max: Some(100), ..Default::default() }))
            (forms::input(loc, "text", t(loc, "f.search"), &f.text, &FormErrors::default(), Opts { max: Some(100), ..Default::default() }))
            (forms::input(loc, "from", t(loc, "f.from"), from, &FormErrors::default(), Opts { kind: "date", ..Default::default() }))
            (forms::input(loc, "to", t(loc, "f.to"), to, &FormErrors::default(), Opts { kind: "date", ..Default::default() }))
            div.field { button.btn.btn-primary type="submit" { (t(loc, "action.filter")) } }
        }
        @if rows.is_empty() {
            p.empty { (t(loc, "audit.empty")) }
        } @else {
            div.table-wrap { table.table {
                thead { tr { th { (t(loc, "f.when")) } th { (t(loc, "f.actor")) } th { (t(loc, "f.action")) } th { (t(loc, "f.target")) } th { (t(loc, "f.detail")) } th { "IP" } } }
                tbody { @for e in rows { tr {
                    td { (super::datetime(e.at, tz)) } td { (e.actor_name) } td { (action_label(loc, &e.action)) }
                    td { (super::labels::audit_target(loc, e)) } td.muted { (super::labels::audit_detail(loc, e)) } td { (e.ip) }
                } } }
            } }
        }
        nav.pager {
            @if f.before_id.is_some() { a.btn.btn-sm href=(format!("/admin/auditoria?{query_base}")) { (t(loc, "pager.first")) } }
            @if let Some(n) = next { a.btn.btn-sm href=(format!("/admin/auditoria?{query_base}&before={n}")) { (t(loc, "pager.older")) } }
        }
    }
}

/// The label of an audit action code.
pub fn action_label(loc: Locale, code: &str) -> String {
    let key = format!("audit.{code}");
    match crate::i18n::catalog_key(&key) {
        Some(k) => t(loc, k).to_string(),
        None => code.to_string(),
    }
}

/// Free space where the backups go, and the last refused daily backup.
pub struct BackupSpace {
    /// Bytes free in the backup folder's filesystem.
    pub free: Option<u64>,
    /// Bytes a copy needs (database size plus headroom).
    pub needed: u64,
    /// The last refused daily backup, until one succeeds.
    pub refusal: Option<crate::db::space::BackupRefusal>,
    /// Business time zone.
    pub tz: jiff::tz::TimeZone,
}

/// Where the data and the daily copies are, as absolute paths.
pub struct BackupFolders {
    /// The data folder (the database, uploads' home).
    pub data: String,
    /// The daily copies' folder.
    pub backups: String,
}

/// The backup page: download button, where the data lives, the daily copies.
pub fn backup(
    loc: Locale,
    csrf: &str,
    files: &[(String, u64)],
    retention: u32,
    time: (u8, u8),
    space: &BackupSpace,
    folders: &BackupFolders,
) -> Markup {
    let mb = |b: u64| format!("{:.1} MB", b as f64 / 1_048_576.0);
    html! {
        div.page-head { h1 { (t(loc, "admin.backup")) } }
        p.lead { (t(loc, "backup.intro")) }
        @if let Some(r) = &space.refusal {
            div.flash.flash-error #backup-refused role="alert" {
                (crate::i18n::tf(loc, "backup.refused", &[&super::datetime(r.at, &space.tz), &mb(r.needed), &mb(r.free)]))
            }
        }
        @if let Some(free) = space.free {
            p.muted #backup-space { (crate::i18n::tf(loc, "backup.space", &[&mb(free), &mb(space.needed)])) }
        }
        form.form method="post" action="/admin/backup/baixar" {
            (forms::csrf(csrf))
            div.form-actions { button.btn.btn-primary type="submit" { (t(loc, "backup.download")) } }
        }
        section.card {
            dl.details #backup-folders {
                dt { (t(loc, "forms.backup.data_dir")) } dd { code.token { (folders.data) } }
                dt { (t(loc, "forms.backup.backup_dir")) } dd { code.token { (folders.backups) } }
            }
        }
        section.card {
            h2 { (t(loc, "backup.daily")) }
            p.muted { (crate::i18n::tf(loc, "forms.backup.daily_about", &[&format!("{:02}:{:02}", time.0, time.1), &retention.to_string()])) }
            @if files.is_empty() { p.empty { (t(loc, "backup.none")) } }
            @else { ul { @for (name, size) in files { li { code.token { (name) } " " span.muted { (mb(*size)) } } } } }
        }
    }
}

/// On a queue's admin page: its channel is not connected yet, and why
/// (see `domain::conversations::not_connected_reason`).
pub fn channel_notice(loc: Locale, why: &'static str) -> Markup {
    html! {
        section.card.channel-off role="status" {
            h2 { span.badge.badge-danger { (t(loc, "forms.channel.not_connected")) } }
            p { (t(loc, why)) }
        }
    }
}
