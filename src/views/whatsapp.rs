//! The WhatsApp connection of a queue: what to paste into Meta's dashboard,
//! the number's ids and secrets (never shown back), and its state.

use maud::{Markup, html};

use super::forms::{self, Opts};
use crate::domain::validate::FormErrors;
use crate::domain::whatsapp::{Number, NumberForm};
use crate::i18n::{Locale, t};

/// The card on a WhatsApp queue's register page leading to its connection.
pub fn queue_card(loc: Locale, queue_id: i64, n: Option<&Number>) -> Markup {
    html! {
        section.card #wa-card {
            h2 { (t(loc, "wa.title")) " " (state_badge(loc, n)) }
            p.muted { (t(loc, "wa.card.hint")) }
            p { a.btn href=(format!("/admin/filas/{queue_id}/whatsapp")) { (t(loc, "wa.card.open")) } }
        }
    }
}

fn state_badge(loc: Locale, n: Option<&Number>) -> Markup {
    let (class, key) = match n {
        None => ("badge-danger", "wa.state.unset"),
        Some(n) if !n.complete() => ("badge-danger", "wa.state.unset"),
        Some(n) => match n.state.as_str() {
            "ok" => ("badge-ok", "wa.state.ok"),
            "bad_token" => ("badge-danger", "wa.state.bad_token"),
            "bad_id" => ("badge-danger", "wa.state.bad_id"),
            "unreachable" => ("badge-warn", "wa.state.unreachable"),
            "error" => ("badge-danger", "wa.state.error"),
            _ => ("badge-warn", "wa.state.unchecked"),
        },
    };
    html! { span.badge.(class) #wa-state { (t(loc, key)) } }
}

fn secret_input(loc: Locale, name: &str, label: &'static str, set: bool, errs: &FormErrors) -> Markup {
    let err = errs.get(name);
    let id = format!("f-{name}");
    html! {
        div.field.has-error[err.is_some()] {
            label for=(id) { (t(loc, label)) @if set { " " span.badge.badge-ok { (t(loc, "wa.secret_set")) } } }
            input id=(id) name=(name) type="password" value="" autocomplete="off"
                placeholder=(if set { t(loc, "wa.secret_keep") } else { "" }) aria-invalid=[err.map(|_| "true")];
            @if let Some(e) = err { p.field-error { (t(loc, e)) } }
        }
    }
}

/// What the connection page shows.
pub struct Page<'a> {
    /// The queue's name.
    pub queue_name: &'a str,
    /// The number.
    pub number: &'a Number,
    /// The webhook's callback URL.
    pub webhook_url: &'a str,
    /// What the admin submitted, when it had errors (secrets blanked).
    pub typed: Option<&'a NumberForm>,
    /// A confirmation line.
    pub flash: Option<&'a str>,
}

/// The connection page.
pub fn page(loc: Locale, csrf: &str, p: Page, errs: &FormErrors) -> Markup {
    let (queue_name, n, webhook_url, typed, flash) = (p.queue_name, p.number, p.webhook_url, p.typed, p.flash);
    let v = typed.cloned().unwrap_or_else(|| NumberForm {
        phone_number_id: n.phone_number_id.clone(),
        waba_id: n.waba_id.clone(),
        display_number: n.display_number.clone(),
        graph_version: n.graph_version.clone(),
        graph_base: n.graph_base.clone(),
        ..Default::default()
    });
    let action = format!("/admin/filas/{}/whatsapp", n.queue_id);
    html! {
        p { a href=(format!("/admin/filas/{}", n.queue_id)) { "← " (queue_name) } }
        h1 { (t(loc, "wa.title")) ": " (queue_name) }
        @if let Some(f) = flash { div.flash.flash-ok role="status" { (f) } }
        section.card #wa-status {
            h2 { (t(loc, "wa.status")) " " (state_badge(loc, Some(n))) }
            @if !n.last_error.is_empty() { p.field-error #wa-last-error { (n.last_error) } }
            form method="post" action=(format!("{action}/testar")) {
                (forms::csrf(csrf))
                button.btn type="submit" disabled[!n.complete()] { (t(loc, "wa.test")) }
                @if !n.complete() { " " span.muted { (t(loc, "wa.test.needs")) } }
            }
        }
        section.card #wa-webhook {
            h2 { (t(loc, "wa.webhook")) }
            p.muted { (t(loc, "wa.webhook.hint")) }
            dl.details {
                dt { (t(loc, "wa.webhook.url")) } dd { code #wa-url { (webhook_url) } }
                dt { (t(loc, "wa.webhook.verify")) } dd { code #wa-verify { (n.verify_token) } }
                dt { (t(loc, "wa.webhook.fields")) } dd { code { "messages, message_template_status_update" } }
            }
        }
        form.form #wa-form method="post" action=(action) {
            (forms::csrf(csrf))
            (forms::summary(loc, errs))
            (forms::input(loc, "phone_number_id", t(loc, "wa.f.phone_number_id"), &v.phone_number_id, errs, Opts { required: true, max: Some(32), ..Default::default() }))
            (forms::input(loc, "waba_id", t(loc, "wa.f.waba_id"), &v.waba_id, errs, Opts { max: Some(32), hint: Some("wa.f.waba_id.hint"), ..Default::default() }))
            (secret_input(loc, "access_token", "wa.f.access_token", n.has_token, errs))
            (secret_input(loc, "app_secret", "wa.f.app_secret", n.has_secret, errs))
            (forms::input(loc, "display_number", t(loc, "wa.f.display_number"), &v.display_number, errs, Opts { max: Some(40), ..Default::default() }))
            (forms::input(loc, "graph_version", t(loc, "wa.f.graph_version"), &v.graph_version, errs, Opts { required: true, max: Some(8), ..Default::default() }))
            (forms::input(loc, "graph_base", t(loc, "wa.f.graph_base"), &v.graph_base, errs, Opts { required: true, max: Some(200), hint: Some("wa.f.graph_base.hint"), ..Default::default() }))
            button.btn.btn-primary type="submit" { (t(loc, "action.save")) }
        }
    }
}
