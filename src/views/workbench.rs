//! Pesquisar, Iniciar conversa and Mensagens rápidas.

use maud::{Markup, html};

use super::forms;
use crate::domain::contacts::Contact;
use crate::domain::quick_replies::QuickReply;
use crate::domain::search::{Hit, Results};
use crate::i18n::{Locale, t};

fn snippet(h: &Hit) -> Markup {
    html! {
        span.snippet { @for (text, mark) in &h.snippet { @if *mark { mark { (text) } } @else { (text) } } }
    }
}

/// Search results: matching contacts, then messages newest first.
#[allow(clippy::too_many_arguments)]
pub fn search(
    loc: Locale,
    q: &str,
    action: &str,
    title: &str,
    r: &Results,
    next: Option<String>,
    error: Option<&'static str>,
    tz: &jiff::tz::TimeZone,
) -> Markup {
    html! {
        div.page-head { h1 { (title) } }
        form.search.inline-form method="get" action=(action) role="search" {
            input type="search" name="q" value=(q) maxlength="200" aria-label=(t(loc, "search.hint")) placeholder=(t(loc, "search.hint")) autofocus;
            button.btn.btn-primary type="submit" { (t(loc, "action.search")) }
        }
        @if let Some(e) = error { div.flash.flash-error role="alert" { (t(loc, e)) } }
        @if !r.contacts.is_empty() {
            section.card #search-contacts {
                h2 { (t(loc, "menu.contacts")) }
                ul.history { @for c in &r.contacts { li { a href=(format!("/contatos/{}", c.id)) { (c.label()) } " " span.muted { (c.phone) " " (c.email) } } } }
            }
        }
        @if !q.trim().is_empty() {
            section.card #search-messages {
                h2 { (t(loc, "search.messages")) }
                @if r.hits.is_empty() { p.empty { (t(loc, "search.none")) } }
                ul.hits {
                    @for h in &r.hits {
                        li.hit.(if h.kind == "note" { "hit-note" } else { "" }) {
                            a href=(format!("/atendimentos/{}#m{}", h.conversation_id, h.message_id)) {
                                strong { (h.contact_name) } " · " (h.queue_name) " · #" (h.conversation_id)
                            }
                            div.muted {
                                @if h.kind == "note" { span.note-label { (t(loc, "note.label")) } " · " }
                                (h.author_name) " · " (super::datetime(h.created_at, tz)) " · " (t(loc, super::desk::status_key(&h.status)))
                            }
                            div { (snippet(h)) }
                        }
                    }
                }
                @if let Some(n) = next { p.list-more { a #search-more href=(n) { (t(loc, "search.older")) } } }
            }
        }
    }
}

/// What "Iniciar conversa" shows besides the form's own fields.
#[derive(Default)]
pub struct OutboundParts {
    /// The WhatsApp template step, when the contact's window is closed.
    pub step: Option<Markup>,
    /// The e-mail choices (copies, template), when an e-mail queue is offered.
    pub mail: Option<Markup>,
}

/// The "Iniciar conversa" form.
pub fn outbound(
    loc: Locale,
    csrf: &str,
    contact: Option<&Contact>,
    queues: &[(i64, String, bool, String)],
    values: &crate::domain::validate::Input,
    error: Option<&'static str>,
    parts: OutboundParts,
) -> Markup {
    let OutboundParts { step, mail } = parts;
    html! {
        div.page-head { h1 { (t(loc, "outbound.title")) } }
        @if let Some(e) = error { div.flash.flash-error role="alert" { (t(loc, e)) } }
        section.card {
            form.form method="post" action="/atendimentos/novo" {
                (forms::csrf(csrf))
                @if let Some(c) = contact {
                    input type="hidden" name="contato" value=(c.id);
                    p { (t(loc, "outbound.with")) " " strong { (c.label()) } " " span.muted { (c.phone) " " (c.email) } }
                } @else {
                    p.hint { (t(loc, "outbound.typed_hint")) }
                    div.field-row {
                        div.field { label for="f-phone" { (t(loc, "contact.phone")) } input #f-phone type="tel" name="phone" maxlength="40" value=(values.get("phone")); }
                        div.field { label for="f-email" { (t(loc, "contact.email")) } input #f-email type="email" name="email" maxlength="254" value=(values.get("email")); }
                    }
                    div.field { label for="f-name" { (t(loc, "contact.name")) } input #f-name type="text" name="name" maxlength="120" value=(values.get("name")); }
                }
                div.field {
                    label for="f-queue" { (t(loc, "outbound.queue")) }
                    select #f-queue name="queue_id" required {
                        @for (id, name, reserved, channel) in queues {
                            option value=(id) data-channel=(channel) selected[values.get("queue_id") == id.to_string()] {
                                (name) @if *reserved { " (" (t(loc, "wa.reserved_label")) ")" }
                            }
                        }
                    }
                }
                div.field {
                    label for="f-text" { (t(loc, "outbound.first_message")) }
                    textarea #f-text name="text" rows="3" maxlength="4000" { (values.get("text")) }
                }
                @if let Some(m) = mail {
                    fieldset #outbound-mail { legend { (t(loc, "mail.extras.start")) } (m) }
                }
                div.form-actions {
                    button.btn.btn-primary type="submit" { (t(loc, "outbound.start")) }
                    a.btn.btn-ghost href=(contact.map(|c| format!("/contatos/{}", c.id)).unwrap_or_else(|| "/atendimentos".into())) { (t(loc, "action.cancel")) }
                }
            }
        }
        @if let Some(s) = step { section.card #outbound-template { (s) } }
    }
}

/// Mensagens rápidas: mine and the global ones, with forms to add.
pub fn quick_replies(
    loc: Locale,
    csrf: &str,
    list: &[QuickReply],
    me: i64,
    can_global: bool,
    error: Option<&'static str>,
) -> Markup {
    html! {
        div.page-head { h1 { (t(loc, "qr.title")) } }
        @if let Some(e) = error { div.flash.flash-error role="alert" { (t(loc, e)) } }
        p.hint { (t(loc, "qr.variables")) }
        section.card {
            @if list.is_empty() { p.empty { (t(loc, "qr.none")) } }
            @else {
                div.table-wrap { table.table #qr-table {
                    thead { tr { th { (t(loc, "qr.shortcut")) } th { (t(loc, "qr.text")) } th { (t(loc, "qr.scope")) } th {} } }
                    tbody { @for q in list { tr {
                        td { "/" (q.shortcut) }
                        td.pre { (q.body) }
                        td { (t(loc, if q.owner_id.is_some() { "qr.mine" } else { "qr.global" })) }
                        td.row-actions {
                            @if q.owner_id == Some(me) || (q.owner_id.is_none() && can_global) {
                                form.inline method="post" action=(format!("/respostas/{}/excluir", q.id)) data-confirm=(t(loc, "qr.delete_confirm")) {
                                    (forms::csrf(csrf))
                                    button.btn.btn-sm.btn-danger type="submit" { (t(loc, "action.delete")) }
                                }
                            }
                        }
                    } } }
                } }
            }
        }
        section.card {
            h2 { (t(loc, "qr.add")) }
            form.form method="post" action="/respostas" {
                (forms::csrf(csrf))
                div.field { label for="f-shortcut" { (t(loc, "qr.shortcut")) } input #f-shortcut type="text" name="shortcut" maxlength="31" required; }
                div.field { label for="f-body" { (t(loc, "qr.text")) } textarea #f-body name="body" rows="3" maxlength="2000" required {} }
                @if can_global {
                    label.check-inline { input type="checkbox" name="global" value="1"; " " (t(loc, "qr.make_global")) }
                }
                div.form-actions { button.btn.btn-primary type="submit" { (t(loc, "action.save")) } }
            }
        }
    }
}
