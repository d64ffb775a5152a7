//! Contatos: the searchable list, the contact form with extra fields and
//! tags, the contact page (details, conversations, timeline with
//! annotations) and the merge picker.

use jiff::tz::TimeZone;
use maud::{Markup, html};

use super::{datetime, forms};
use crate::domain::contacts::{Contact, Detail, Entry, Errors, Field, field_input};
use crate::domain::validate::{FormErrors, Input};
use crate::i18n::{Locale, t};

/// Catalog key of a channel.
pub fn channel_key(channel: &str) -> &'static str {
    match channel {
        "email" => "channel.email",
        "whatsapp" => "channel.whatsapp",
        _ => "channel.webchat",
    }
}

/// Catalog key of a timeline entry (unknown keys show as a generic event).
fn entry_key(key: &str) -> &'static str {
    crate::i18n::catalog_key(key).filter(|k| k.starts_with("tl.") || k.starts_with("ev.")).unwrap_or("tl.event")
}

/// Rows of contacts.
fn rows(loc: Locale, list: &[Contact], tz: &TimeZone) -> Markup {
    html! {
        div.table-wrap { table.table #contacts {
            thead { tr {
                th { (t(loc, "contact.name")) } th { (t(loc, "contact.phone")) } th { (t(loc, "contact.email")) }
                th { (t(loc, "contact.created")) }
            } }
            tbody { @for c in list {
                tr {
                    td { a href=(format!("/contatos/{}", c.id)) { (c.label()) } }
                    td { (c.phone) } td { (c.email) } td { (datetime(c.created_at, tz)) }
                }
            } }
        } }
    }
}

/// The contact list with its search box.
pub fn list(
    loc: Locale,
    q: &str,
    list: &[Contact],
    next: Option<String>,
    error: Option<&str>,
    tz: &TimeZone,
) -> Markup {
    html! {
        div.page-head {
            h1 { (t(loc, "menu.contacts")) }
            div.actions { a.btn.btn-primary #add-contact href="/contatos/novo" { (t(loc, "contact.add")) } }
        }
        form.filters method="get" action="/contatos" role="search" {
            div.field {
                label for="f-q" { (t(loc, "contact.search")) }
                input #f-q name="q" type="search" value=(q) maxlength="200" autofocus placeholder=(t(loc, "contact.search_hint"));
            }
            div.form-actions { button.btn type="submit" { (t(loc, "action.search")) } }
        }
        @if let Some(e) = error { div.form-error role="alert" { (e) } }
        section.card {
            @if list.is_empty() { p.empty { (t(loc, "contact.none")) } }
            @else { (rows(loc, list, tz)) }
            @if let Some(n) = next { p.list-more { a href=(n) { (t(loc, "list.next_page")) } } }
        }
    }
}

/// One extra field input, by kind.
fn extra_input(loc: Locale, f: &Field, value: &str, err: Option<&'static str>) -> Markup {
    let name = field_input(f.id);
    let id = format!("f-{name}");
    html! {
        div.field.has-error[err.is_some()] {
            label for=(id) { (f.name) @if f.required { " *" } }
            @match f.kind.as_str() {
                "choice" => {
                    select id=(id) name=(name) required[f.required] {
                        option value="" { "—" }
                        @for o in &f.options { option value=(o) selected[o == value] { (o) } }
                    }
                }
                "date" => { input id=(id) name=(name) type="date" value=(value) required[f.required]; }
                "number" => { input id=(id) name=(name) type="text" inputmode="decimal" value=(value) required[f.required]; }
                _ => { input id=(id) name=(name) type="text" maxlength="500" value=(value) required[f.required]; }
            }
            @if let Some(e) = err { p.field-error { (t(loc, e)) } }
        }
    }
}

/// What the contact form needs besides the values.
pub struct FormView<'a> {
    /// POST target.
    pub action: String,
    /// Values.
    pub values: &'a Input,
    /// Errors.
    pub errs: &'a Errors,
    /// Active extra fields.
    pub fields: &'a [Field],
    /// Active contact tags.
    pub tags: &'a [(i64, String)],
    /// Where Cancel goes.
    pub cancel: String,
}

/// The contact form (add and edit).
pub fn form(loc: Locale, csrf: &str, title: &str, v: &FormView) -> Markup {
    let e = &v.errs.base;
    let tag_opts: Vec<(String, String)> = v.tags.iter().map(|(i, n)| (i.to_string(), n.clone())).collect();
    let checked: Vec<String> = v.values.all("tag").into_iter().map(String::from).collect();
    html! {
        div.page-head { h1 { (title) } }
        form.form.card #contact-form method="post" action=(v.action) {
            (forms::csrf(csrf))
            @if !v.errs.is_empty() { div.form-error role="alert" { (t(loc, "form.has_errors")) } }
            (forms::input(loc, "name", t(loc, "contact.name"), v.values.get("name"), e, forms::Opts { max: Some(120), ..Default::default() }))
            (forms::input(loc, "phone", t(loc, "contact.phone"), v.values.get("phone"), e, forms::Opts { kind: "tel", hint: Some("contact.phone_hint"), ..Default::default() }))
            (forms::input(loc, "email", t(loc, "contact.email"), v.values.get("email"), e, forms::Opts { kind: "email", max: Some(254), ..Default::default() }))
            @for f in v.fields { (extra_input(loc, f, v.values.get(&field_input(f.id)), v.errs.extra(f.id))) }
            @if !v.tags.is_empty() { (forms::checks(loc, "tag", t(loc, "contact.tags"), &tag_opts, &checked, e)) }
            (forms::actions(loc, &v.cancel))
        }
    }
}

fn entry(loc: Locale, e: &Entry, tz: &TimeZone) -> Markup {
    html! {
        li.timeline-item.(if e.key == "tl.note" { "is-note" } else { "is-event" }) {
            span.muted { (datetime(e.at, tz)) } " "
            strong { (t(loc, entry_key(&e.key))) }
            @if !e.who.is_empty() { " · " (e.who) }
            @if !e.text.is_empty() {
                @if e.key == "tl.note" { p.note-body { (e.text) } }
                @else {
                    " · "
                    @match &e.link { Some(l) => { a href=(l) { (e.text) } } None => { (e.text) } }
                }
            }
        }
    }
}

/// The contact page.
pub fn detail(loc: Locale, csrf: &str, d: &Detail, note_errs: &FormErrors, tz: &TimeZone, can_open: bool) -> Markup {
    let c = &d.contact;
    html! {
        div.page-head {
            h1 { (c.label()) }
            div.actions {
                a.btn #edit-contact href=(format!("/contatos/{}/editar", c.id)) { (t(loc, "action.edit")) }
                a.btn #contact-task href=(format!("/tarefas/nova?contato={}", c.id)) { (t(loc, "task.create")) }
                @if can_open { a.btn #contact-start href=(format!("/atendimentos/novo?contato={}", c.id)) { (t(loc, "outbound.title")) } }
                a.btn #merge-contact href=(format!("/contatos/{}/mesclar", c.id)) { (t(loc, "contact.merge")) }
            }
        }
        div.contact-page {
            section.card #contact-details {
                h2 { (t(loc, "contact.details")) }
                dl.details {
                    dt { (t(loc, "contact.name")) } dd { (c.name) }
                    dt { (t(loc, "contact.phone")) } dd { (c.phone) }
                    dt { (t(loc, "contact.email")) } dd { (c.email) }
                    @for (f, v) in &d.values { dt { (f.name) } dd { (v) } }
                    dt { (t(loc, "contact.tags")) }
                    dd { @for (_, n) in &d.tags { span.tag { (n) } " " } }
                }
            }
            section.card #contact-history {
                h2 { (t(loc, "contact.history")) }
                @if d.history.is_empty() { p.empty { (t(loc, "contact.no_history")) } }
                @else {
                    ul.history { @for p in &d.history {
                        li {
                            @if p.open { a href=(format!("/atendimentos/{}", p.id)) { "#" (p.id) } } @else { "#" (p.id) }
                            " · " (datetime(p.created_at, tz)) " · " (t(loc, channel_key(&p.channel))) " · " (p.queue)
                            @if let Some(a) = &p.agent { " · " (a) }
                            " · " (t(loc, super::desk::status_key(&p.status)))
                        }
                    } }
                }
            }
            section.card #timeline {
                h2 { (t(loc, "contact.timeline")) }
                form.form #annotate method="post" action=(format!("/contatos/{}/anotacoes", c.id)) {
                    (forms::csrf(csrf))
                    div.field.has-error[note_errs.get("body").is_some()] {
                        label for="f-body" { (t(loc, "contact.annotation")) }
                        textarea #f-body name="body" rows="2" maxlength="4000" required {}
                        @if let Some(e) = note_errs.get("body") { p.field-error { (t(loc, e)) } }
                    }
                    div.form-actions { button.btn.btn-primary type="submit" { (t(loc, "contact.add_annotation")) } }
                }
                ol.timeline { @for e in &d.timeline { (entry(loc, e, tz)) } }
            }
        }
    }
}

/// The merge picker: search for the contact to merge into this one, then
/// confirm (the merge cannot be undone).
pub fn merge(
    loc: Locale,
    csrf: &str,
    keep: &Contact,
    q: &str,
    found: &[Contact],
    other: Option<&Contact>,
    error: Option<&str>,
) -> Markup {
    html! {
        div.page-head { h1 { (t(loc, "contact.merge")) ": " (keep.label()) } }
        @if let Some(o) = other {
            section.card #merge-confirm {
                p { (t(loc, "contact.merge_confirm")) }
                dl.details {
                    dt { (t(loc, "contact.merge_keep")) } dd { (keep.label()) " " span.muted { (keep.phone) " " (keep.email) } }
                    dt { (t(loc, "contact.merge_other")) } dd { (o.label()) " " span.muted { (o.phone) " " (o.email) } }
                }
                form method="post" action=(format!("/contatos/{}/mesclar", keep.id)) {
                    (forms::csrf(csrf))
                    input type="hidden" name="other" value=(o.id);
                    div.form-actions {
                        button.btn.btn-danger type="submit" { (t(loc, "contact.merge_do")) }
                        a.btn href=(format!("/contatos/{}/mesclar", keep.id)) { (t(loc, "action.cancel")) }
                    }
                }
            }
        } @else {
            p.muted { (t(loc, "contact.merge_about")) }
            form.filters method="get" action=(format!("/contatos/{}/mesclar", keep.id)) role="search" {
                div.field {
                    label for="f-q" { (t(loc, "contact.search")) }
                    input #f-q name="q" type="search" value=(q) maxlength="200";
                }
                div.form-actions { button.btn type="submit" { (t(loc, "action.search")) } }
            }
            @if let Some(e) = error { div.form-error role="alert" { (e) } }
            section.card {
                @let others: Vec<&Contact> = found.iter().filter(|c| c.id != keep.id).collect();
                @if others.is_empty() { p.empty { (t(loc, "contact.none")) } }
                ul.merge-list { @for c in others {
                    li {
                        (c.label()) " " span.muted { (c.phone) " " (c.email) } " "
                        a.btn.btn-sm href=(format!("/contatos/{}/mesclar?outro={}", keep.id, c.id)) { (t(loc, "contact.merge_this")) }
                    }
                } }
            }
        }
    }
}
