//! The e-mail connection of a queue: its IMAP and SMTP servers, logins
//! (passwords never shown back), the sender, and where the sync stands.

use maud::{Markup, html};

use super::forms::{self, Opts};
use crate::domain::email::{Mailbox, MailboxForm};
use crate::domain::validate::FormErrors;
use crate::i18n::{Locale, t, tf};

/// The card on an e-mail queue's register page leading to its mailbox.
pub fn queue_card(loc: Locale, queue_id: i64, m: Option<&Mailbox>) -> Markup {
    html! {
        section.card #mail-card {
            h2 { (t(loc, "mail.title")) " " (state_badge(loc, m)) }
            p.muted { (t(loc, "mail.card.hint")) }
            @if let Some(m) = m.filter(|m| m.can_receive()) {
                p #mail-card-receiving { (receiving(loc, m)) }
                @if !m.last_error.is_empty() { p.field-error #mail-card-error { (m.last_error) } }
            }
            p { a.btn href=(format!("/admin/filas/{queue_id}/email")) { (t(loc, "mail.card.open")) } }
        }
    }
}

fn state_badge(loc: Locale, m: Option<&Mailbox>) -> Markup {
    let (class, key) = match m {
        Some(m) if m.can_receive() => match m.state.as_str() {
            "ok" => ("badge-ok", "mail.state.ok"),
            "auth" => ("badge-danger", "mail.state.auth"),
            "unreachable" => ("badge-warn", "mail.state.unreachable"),
            "error" => ("badge-danger", "mail.state.error"),
            _ => ("badge-warn", "mail.state.unchecked"),
        },
        _ => ("badge-danger", "mail.state.unset"),
    };
    html! { span.badge.(class) #mail-state { (t(loc, key)) } }
}

/// How new mail is read: at once (IDLE) or every N seconds.
fn receiving(loc: Locale, m: &Mailbox) -> Markup {
    html! {
        @if m.idle { (t(loc, "mail.receiving.idle")) }
        @else { (tf(loc, "mail.receiving.poll", &[&m.poll_secs.to_string()])) }
    }
}

fn tls_options(loc: Locale) -> Vec<(String, String)> {
    [("tls", "mail.tls.tls"), ("starttls", "mail.tls.starttls"), ("none", "mail.tls.none")]
        .iter()
        .map(|(v, k)| (v.to_string(), t(loc, k).to_string()))
        .collect()
}

/// What the mailbox page shows.
pub struct Page<'a> {
    /// The queue's name.
    pub queue_name: &'a str,
    /// The mailbox.
    pub mailbox: &'a Mailbox,
    /// What the admin submitted, when it had errors (passwords blanked).
    pub typed: Option<&'a MailboxForm>,
    /// A confirmation line.
    pub flash: Option<&'a str>,
    /// Business time zone.
    pub tz: &'a jiff::tz::TimeZone,
}

/// The mailbox page.
pub fn page(loc: Locale, csrf: &str, p: Page, errs: &FormErrors) -> Markup {
    let m = p.mailbox;
    let v = p.typed.cloned().unwrap_or_else(|| MailboxForm {
        imap_host: m.imap_host.clone(),
        imap_port: m.imap_port.to_string(),
        imap_tls: m.imap_tls.clone(),
        imap_user: m.imap_user.clone(),
        folder: m.folder.clone(),
        smtp_host: m.smtp_host.clone(),
        smtp_port: m.smtp_port.to_string(),
        smtp_tls: m.smtp_tls.clone(),
        smtp_user: m.smtp_user.clone(),
        from_name: m.from_name.clone(),
        from_address: m.from_address.clone(),
        reply_to: m.reply_to.clone(),
        signature: m.signature.clone(),
        poll_secs: m.poll_secs.to_string(),
        reopen_days: m.reopen_days.to_string(),
        plus_address: m.plus_address,
        ..Default::default()
    });
    let action = format!("/admin/filas/{}/email", m.queue_id);
    let tls = tls_options(loc);
    let num = |max| Opts { kind: "number", required: true, max: Some(max), ..Default::default() };
    html! {
        p { a href=(format!("/admin/filas/{}", m.queue_id)) { "← " (p.queue_name) } }
        h1 { (t(loc, "mail.title")) ": " (p.queue_name) }
        @if let Some(f) = p.flash { div.flash.flash-ok role="status" { (f) } }
        section.card #mail-status {
            h2 { (t(loc, "mail.status")) " " (state_badge(loc, Some(m))) }
            @if !m.last_error.is_empty() { p.field-error #mail-last-error { (m.last_error) } }
            dl.details {
                dt { (t(loc, "mail.receiving")) }
                dd #mail-receiving { (receiving(loc, m)) }
                dt { (t(loc, "mail.synced_at")) }
                dd #mail-synced { @match m.synced_at { Some(at) => (super::datetime(at, p.tz)), None => (t(loc, "mail.never")) } }
                dt { (t(loc, "mail.position")) }
                dd #mail-position { "UIDVALIDITY " (m.uidvalidity.map(|u| u.to_string()).unwrap_or_else(|| "—".into())) " · UID " (m.last_uid) }
            }
            form method="post" action=(format!("{action}/testar")) {
                (forms::csrf(csrf))
                button.btn type="submit" disabled[!m.can_receive()] { (t(loc, "mail.test")) }
                @if !m.can_receive() { " " span.muted { (t(loc, "mail.test.needs")) } }
            }
        }
        form.form #mail-form method="post" action=(action) {
            (forms::csrf(csrf))
            (forms::summary(loc, errs))
            fieldset {
                legend { (t(loc, "mail.imap")) }
                (forms::input(loc, "imap_host", t(loc, "mail.f.host"), &v.imap_host, errs, Opts { required: true, max: Some(253), ..Default::default() }))
                (forms::input(loc, "imap_port", t(loc, "mail.f.port"), &v.imap_port, errs, num(5)))
                (forms::select(loc, "imap_tls", t(loc, "mail.f.tls"), &tls, &v.imap_tls, errs, None))
                (forms::input(loc, "imap_user", t(loc, "mail.f.user"), &v.imap_user, errs, Opts { required: true, max: Some(200), ..Default::default() }))
                (forms::secret_input(loc, "imap_password", "mail.f.password", m.has_imap_password, errs))
                (forms::input(loc, "folder", t(loc, "mail.f.folder"), &v.folder, errs, Opts { required: true, max: Some(200), ..Default::default() }))
                (forms::input(loc, "poll_secs", t(loc, "mail.f.poll_secs"), &v.poll_secs, errs, Opts { hint: Some("mail.f.poll_secs.hint"), ..num(4) }))
            }
            fieldset {
                legend { (t(loc, "mail.smtp")) }
                (forms::input(loc, "smtp_host", t(loc, "mail.f.host"), &v.smtp_host, errs, Opts { max: Some(253), ..Default::default() }))
                (forms::input(loc, "smtp_port", t(loc, "mail.f.port"), &v.smtp_port, errs, num(5)))
                (forms::select(loc, "smtp_tls", t(loc, "mail.f.tls"), &tls, &v.smtp_tls, errs, None))
                (forms::input(loc, "smtp_user", t(loc, "mail.f.user"), &v.smtp_user, errs, Opts { max: Some(200), ..Default::default() }))
                (forms::secret_input(loc, "smtp_password", "mail.f.password", m.has_smtp_password, errs))
            }
            fieldset {
                legend { (t(loc, "mail.sender")) }
                (forms::input(loc, "from_name", t(loc, "mail.f.from_name"), &v.from_name, errs, Opts { max: Some(100), ..Default::default() }))
                (forms::input(loc, "from_address", t(loc, "mail.f.from_address"), &v.from_address, errs, Opts { kind: "email", required: true, max: Some(254), ..Default::default() }))
                (forms::input(loc, "reply_to", t(loc, "mail.f.reply_to"), &v.reply_to, errs, Opts { kind: "email", max: Some(254), ..Default::default() }))
                div.field.has-error[errs.get("signature").is_some()] {
                    label for="f-signature" { (t(loc, "mail.f.signature")) }
                    textarea #f-signature name="signature" rows="4" maxlength="2000" { (v.signature) }
                    @if let Some(e) = errs.get("signature") { p.field-error { (t(loc, e)) } }
                }
                (forms::checkbox("plus_address", t(loc, "mail.f.plus_address"), v.plus_address))
                p.hint { (t(loc, "mail.f.plus_address.hint")) }
                (forms::input(loc, "reopen_days", t(loc, "mail.f.reopen_days"), &v.reopen_days, errs, Opts { hint: Some("mail.f.reopen_days.hint"), ..num(3) }))
            }
            button.btn.btn-primary type="submit" { (t(loc, "action.save")) }
        }
    }
}
