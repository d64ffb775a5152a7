//! Generic list and form pages for the registers described in
//! `domain::registers::SPECS`.

use std::collections::HashMap;

use maud::{Markup, html};

use super::forms::{self, Opts};
use crate::domain::registers::{Kind, Row, Spec, Value};
use crate::domain::users::Permission;
use crate::domain::validate::FormErrors;
use crate::domain::webchat;
use crate::i18n::{Locale, t};

/// Select options per referenced table: table → (id, name).
pub type RefOptions = HashMap<&'static str, Vec<(i64, String)>>;

fn cell(loc: Locale, kind: &Kind, v: &Value, names: &HashMap<(&'static str, i64), String>) -> String {
    match (kind, v) {
        (Kind::Bool, Value::Int(n)) => t(loc, if *n == 1 { "yes" } else { "no" }).to_string(),
        (Kind::Choice(opts), Value::Text(s)) => {
            opts.iter().find(|o| o.0 == s).map(|o| t(loc, o.1).to_string()).unwrap_or_else(|| s.clone())
        }
        (Kind::Ref(table), Value::Int(id)) => names.get(&(*table, *id)).cloned().unwrap_or_default(),
        (Kind::Perms, Value::Text(s)) => {
            let labels: Vec<&str> = Permission::parse_list(s).into_iter().map(|p| t(loc, p.label())).collect();
            if labels.is_empty() { "—".into() } else { labels.join(", ") }
        }
        (_, Value::Text(s)) if s.is_empty() => "—".into(),
        (_, Value::Text(s)) => s.clone(),
        (_, Value::Int(n)) => n.to_string(),
        (_, Value::Null) => "—".into(),
    }
}

/// The list of a register's records.
pub fn list(
    loc: Locale,
    csrf: &str,
    spec: &Spec,
    rows: &[Row],
    names: &HashMap<(&'static str, i64), String>,
    flash: Option<&'static str>,
) -> Markup {
    let base = format!("/admin/{}", spec.slug);
    html! {
        div.page-head {
            h1 { (t(loc, spec.title)) }
            div.actions { a.btn.btn-primary href=(format!("{base}/novo")) { (t(loc, spec.new_label)) } }
        }
        p.lead { (t(loc, spec.about)) }
        @if let Some(f) = flash { div.flash.flash-ok role="status" { (t(loc, f)) } }
        @if rows.is_empty() {
            p.empty { (t(loc, "list.empty")) }
        } @else {
            div.table-wrap { table.table {
                thead { tr {
                    @for field in spec.fields.iter().filter(|f| f.list) { th { (t(loc, field.label)) } }
                    th { (t(loc, "f.status")) }
                    th { span.sr-only { (t(loc, "list.actions")) } }
                } }
                tbody { @for row in rows { tr {
                    @for (i, field) in spec.fields.iter().enumerate().filter(|(_, f)| f.list) {
                        @if i == 0 { td { a href=(format!("{base}/{}", row.id)) { (cell(loc, &field.kind, &row.values[i], names)) } } }
                        @else { td { (cell(loc, &field.kind, &row.values[i], names)) } }
                    }
                    td { @if row.active { span.badge.badge-ok { (t(loc, "status.active")) } } @else { span.badge.badge-off { (t(loc, "status.inactive")) } } }
                    td.row-actions {
                        a.btn.btn-sm href=(format!("{base}/{}", row.id)) { (t(loc, "action.edit")) }
                        (active_toggle(loc, csrf, &format!("{base}/{}/ativo", row.id), row.active))
                    }
                } } }
            } }
        }
    }
}

/// The activate/deactivate button (deactivation asks for confirmation).
pub fn active_toggle(loc: Locale, csrf: &str, action: &str, active: bool) -> Markup {
    html! {
        form.inline method="post" action=(action) data-confirm=[active.then(|| t(loc, "confirm.deactivate"))] {
            (forms::csrf(csrf))
            input type="hidden" name="active" value=(if active { "0" } else { "1" });
            @if active { button.btn.btn-sm.btn-danger type="submit" { (t(loc, "action.deactivate")) } }
            @else { button.btn.btn-sm type="submit" { (t(loc, "action.activate")) } }
        }
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        Value::Int(n) => n.to_string(),
        Value::Null => String::new(),
    }
}

/// The create/edit form. `id` is `None` when creating; `extra` is shown below.
#[allow(clippy::too_many_arguments)]
pub fn form(
    loc: Locale,
    csrf: &str,
    spec: &Spec,
    id: Option<i64>,
    values: &[Value],
    refs: &RefOptions,
    errs: &FormErrors,
    extra: Option<Markup>,
) -> Markup {
    let base = format!("/admin/{}", spec.slug);
    let action = match id {
        Some(id) => format!("{base}/{id}"),
        None => base.clone(),
    };
    html! {
        div.page-head { h1 { (t(loc, if id.is_some() { "action.edit" } else { spec.new_label })) " · " (t(loc, spec.title)) } }
        (forms::summary(loc, errs))
        form.form method="post" action=(action) novalidate {
            (forms::csrf(csrf))
            @for (field, v) in spec.fields.iter().zip(values) {
                (field_input(loc, field.name, t(loc, field.label), field.hint, &field.kind, v, refs, errs))
            }
            (forms::actions(loc, &base))
        }
        @if let Some(x) = extra { (x) }
    }
}

/// The script tag a business pastes into its site for a web chat queue, with
/// a copy button, the allowed-sites rule, and the sites refused lately.
pub fn widget_snippet(
    loc: Locale,
    base: &str,
    queue_id: i64,
    refused: &[webchat::Refused],
    tz: &jiff::tz::TimeZone,
) -> Markup {
    let tag = format!("<script src=\"{base}/widget.js\" data-queue=\"{queue_id}\" defer></script>");
    html! {
        section.card #widget-snippet {
            h2 { (t(loc, "widget.snippet")) }
            p.muted { (t(loc, "widget.snippet.hint")) }
            pre { code.token #widget-snippet-code { (tag) } }
            p {
                button.btn.btn-sm type="button" data-copy="#widget-snippet-code" data-copied=(t(loc, "widget.copied")) {
                    (t(loc, "widget.copy"))
                }
                " " span.muted.copy-status role="status" {}
            }
            p.muted { (t(loc, "widget.sites_rule")) }
        }
        section.card #widget-refused {
            h2 { (t(loc, "widget.refused")) }
            @if refused.is_empty() {
                p.muted { (t(loc, "widget.refused.none")) }
            } @else {
                p.muted { (t(loc, "widget.refused.hint")) }
                div.table-wrap { table.table {
                    thead { tr { th { (t(loc, "widget.refused.origin")) } th { (t(loc, "widget.refused.last")) } th { (t(loc, "widget.refused.hits")) } } }
                    tbody { @for r in refused { tr {
                        td { code { (r.origin) } }
                        td { (super::datetime(r.last_at, tz)) }
                        td { (r.hits) }
                    } } }
                } }
            }
        }
        script src=(crate::assets::url("widget/snippet.js")) defer {}
    }
}

#[allow(clippy::too_many_arguments)]
fn field_input(
    loc: Locale,
    name: &str,
    label: &str,
    hint: Option<&'static str>,
    kind: &Kind,
    v: &Value,
    refs: &RefOptions,
    errs: &FormErrors,
) -> Markup {
    match kind {
        Kind::Text { max } => forms::input(
            loc,
            name,
            label,
            &value_text(v),
            errs,
            Opts { required: true, max: Some(*max), hint, ..Default::default() },
        ),
        Kind::OptText { max } => {
            forms::input(loc, name, label, &value_text(v), errs, Opts { max: Some(*max), hint, ..Default::default() })
        }
        Kind::Int { min, max, .. } => html! {
            div.field.has-error[errs.get(name).is_some()] {
                label for=(format!("f-{name}")) { (label) }
                input id=(format!("f-{name}")) type="number" name=(name) value=(value_text(v)) min=(min) max=(max) required;
                @if let Some(h) = hint { p.hint { (t(loc, h)) } }
                @if let Some(e) = errs.get(name) { p.field-error { (t(loc, e)) } }
            }
        },
        Kind::Bool => forms::checkbox(name, label, v.as_int() == Some(1)),
        Kind::Time => {
            forms::input(loc, name, label, &value_text(v), errs, Opts { kind: "time", hint, ..Default::default() })
        }
        Kind::Choice(opts) => {
            let options: Vec<(String, String)> =
                opts.iter().map(|(c, l)| (c.to_string(), t(loc, l).to_string())).collect();
            forms::select(loc, name, label, &options, v.as_str(), errs, None)
        }
        Kind::Ref(table) => {
            let options: Vec<(String, String)> = refs
                .get(table)
                .map(|o| o.iter().map(|(i, n)| (i.to_string(), n.clone())).collect())
                .unwrap_or_default();
            let sel = v.as_int().map(|n| n.to_string()).unwrap_or_default();
            forms::select(loc, name, label, &options, &sel, errs, Some(t(loc, "form.choose")))
        }
        Kind::Perms => {
            let options: Vec<(String, String)> =
                Permission::ALL.iter().map(|p| (p.code().to_string(), t(loc, p.label()).to_string())).collect();
            let checked: Vec<String> = v.as_str().split_whitespace().map(String::from).collect();
            forms::checks(loc, name, label, &options, &checked, errs)
        }
        Kind::Lines { max } => html! {
            div.field.has-error[errs.get(name).is_some()] {
                label for=(format!("f-{name}")) { (label) }
                textarea id=(format!("f-{name}")) name=(name) rows="4" maxlength=(max) { (value_text(v)) }
                @if let Some(h) = hint { p.hint { (t(loc, h)) } }
                @if let Some(e) = errs.get(name) { p.field-error { (t(loc, e)) } }
            }
        },
    }
}
