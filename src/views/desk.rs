//! Pieces of the agent desk shared by the workspace and the conversation:
//! messages and files, times, the closing script, the panel's data.

use maud::{Markup, html};

use super::forms;
use crate::domain::attachments::{Attachment, human_size};
use crate::domain::conversations::Message;
use crate::i18n::{Locale, t};

/// The channel's name.
pub fn channel(loc: Locale, code: &str) -> &'static str {
    match code {
        "email" => t(loc, "channel.email"),
        "whatsapp" => t(loc, "channel.whatsapp"),
        _ => t(loc, "channel.webchat"),
    }
}

/// Catalog key of a conversation status.
pub fn status_key(status: &str) -> &'static str {
    match status {
        "queued" => "status.conv.queued",
        "offered" => "status.conv.offered",
        "assigned" => "status.conv.assigned",
        "finished" => "status.conv.finished",
        _ => "status.conv.archived",
    }
}

/// "mm:ss" or "h:mm:ss" of a duration in seconds.
pub fn elapsed(secs: i64) -> String {
    let s = secs.max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

/// A one-button POST form (with `confirm`, the browser asks first).
pub fn post_button(csrf: &str, action: &str, label: &str, class: &str, confirm: Option<&str>) -> Markup {
    html! {
        form.inline method="post" action=(action) data-confirm=[confirm] {
            (forms::csrf(csrf))
            button class=(format!("btn btn-sm {class}")) type="submit" { (label) }
        }
    }
}

/// A message's files: images, audio and video previewed inline, every file
/// as a download link with its size.
pub fn files(files: &[Attachment]) -> Markup {
    html! {
        @for a in files {
            @let url = format!("/anexos/{}", a.id);
            div.attachment {
                @match a.preview() {
                    "image" => { a href=(url) target="_blank" rel="noopener" { img.preview src=(url) alt=(a.name) loading="lazy"; } }
                    "audio" => { audio.preview controls preload="none" src=(url) {} }
                    "video" => { video.preview controls preload="metadata" src=(url) {} }
                    _ => {}
                }
                a.file-link href=(url) { "📎 " (a.name) } " " span.muted { (human_size(a.size)) }
            }
        }
    }
}

/// Messages in arrival order: customer left, us right, internal notes apart,
/// timeline events inline.
pub fn message_list(loc: Locale, msgs: &[Message], tz: &jiff::tz::TimeZone) -> Markup {
    html! {
        @for m in msgs {
            @if m.kind == "system" {
                div.msg.msg-system data-id=(m.id) {
                    span { (crate::i18n::catalog_key(&m.body).map(|k| t(loc, k)).unwrap_or(&m.body)) }
                    @if !m.author_name.is_empty() { " · " (m.author_name) }
                    " · " (super::datetime(m.created_at, tz))
                }
            } @else if m.kind == "note" {
                div.msg.msg-note id=(format!("m{}", m.id)) data-id=(m.id) {
                    div.msg-meta { span.note-label { (t(loc, "note.label")) } " · " strong { (m.author_name) } " · " (super::datetime(m.created_at, tz)) }
                    @if !m.body.is_empty() { div.msg-body { (m.body) } }
                    (files(&m.attachments))
                }
            } @else {
                div class=(if m.kind == "in" { "msg msg-in" } else { "msg msg-out" }) id=(format!("m{}", m.id)) data-id=(m.id) {
                    div.msg-meta { strong { (m.author_name) } " · " (super::datetime(m.created_at, tz)) }
                    @if let Some(remote) = m.email_html {
                        (email_frame(loc, m, remote))
                    } @else if m.email {
                        (email_text(loc, &m.body))
                    } @else if !m.body.is_empty() { div.msg-body { (m.body) } }
                    (files(&m.attachments))
                    @if let Some(d) = &m.delivery { (tick(loc, m.id, d)) }
                }
            }
        }
    }
}

/// A customer e-mail's HTML in a sandboxed frame (no script, no form, web
/// images blocked until "Mostrar imagens"), its text kept below for reading
/// without the frame.
fn email_frame(loc: Locale, m: &Message, remote: bool) -> Markup {
    let src = format!("/atendimentos/{}/email/{}", m.conversation_id, m.id);
    let name = format!("email-{}", m.id);
    html! {
        iframe.email-frame name=(name) src=(src) sandbox="allow-popups allow-popups-to-escape-sandbox"
            referrerpolicy="no-referrer" loading="lazy" title=(t(loc, "mail.html_title")) {}
        @if remote {
            p.email-images { a href=(format!("{src}?imagens=1")) target=(name) { (t(loc, "mail.show_images")) } }
        }
        details.email-text { summary { (t(loc, "mail.text_version")) } (email_text(loc, &m.body)) }
    }
}

/// A customer e-mail's text with its quoted history and signature folded.
fn email_text(loc: Locale, body: &str) -> Markup {
    let (now, before) = crate::domain::email::thread::split_quoted(body);
    html! {
        div.msg-body { (now) }
        @if let Some(b) = before {
            details.email-quoted { summary { (t(loc, "mail.quoted")) } div.msg-body { (b) } }
        }
    }
}

/// The delivery ticks of an agent's message: 🕓 enviando, ✓ enviada,
/// ✓✓ entregue, ✓✓ lida, ⚠ falhou: motivo.
pub fn tick(loc: Locale, message_id: i64, d: &crate::domain::outbox::Delivery) -> Markup {
    let (mark, key) = match d.state.as_str() {
        "sent" => ("✓", "wa.delivery.sent"),
        "delivered" => ("✓✓", "wa.delivery.delivered"),
        "read" => ("✓✓", "wa.delivery.read"),
        "failed" => ("⚠", "wa.delivery.failed"),
        _ => ("🕓", "wa.delivery.sending"),
    };
    html! {
        div.tick data-for=(message_id) data-state=(d.state) {
            span aria-hidden="true" { (mark) } " " (t(loc, key))
            @if d.state == "failed" && !d.error.is_empty() { ": " (crate::i18n::catalog_key(&d.error).map(|k| t(loc, k)).unwrap_or(&d.error)) }
        }
    }
}

/// A compact built-in emoji set for the picker (no CDN, no download).
pub const EMOJI: &[&str] = &[
    "😀", "😃", "😄", "😁", "😊", "🙂", "😉", "😍", "🥰", "😘", "😎", "🤩", "🤔", "🤗", "😅", "😂", "🤣", "😇", "🙃",
    "😐", "😕", "😟", "😢", "😭", "😡", "😱", "😴", "🤝", "👍", "👎", "👏", "🙏", "👋", "👌", "✌️", "💪", "🎉", "🎁",
    "❤️", "💙", "💚", "⭐", "✨", "🔥", "✅", "❌", "⚠️", "❗", "❓", "📞", "📱", "💬", "📧", "📎", "📄", "📦", "🚚",
    "🛒", "💳", "💰", "🧾", "📅", "⏰", "🕒", "☕", "🍕", "🎂", "🏠", "🏪", "🔧",
];

/// What the conversation page needs beyond the conversation and the panel.
#[derive(Default)]
pub struct Workbench {
    /// Quick replies: (id, shortcut, text with variables filled, mine).
    pub quick_replies: Vec<(i64, String, String, bool)>,
    /// Tags on this conversation.
    pub tags: Vec<(i64, String)>,
    /// Active conversation tags to add.
    pub tag_options: Vec<(i64, String)>,
    /// Whether finishing asks the closing script.
    pub script_required: bool,
    /// Active closing reasons.
    pub reasons: Vec<(i64, String)>,
    /// Largest attachment, MB.
    pub file_limit_mb: i64,
    /// WhatsApp conversations: the contact's opt-in and the templates.
    pub wa: Option<WaPane>,
    /// E-mail conversations: the templates and who is kept in copy.
    pub mail: Option<MailPane>,
}

/// What an e-mail conversation's composer offers besides the text.
pub struct MailPane {
    /// Active templates: (id, name, is default).
    pub templates: Vec<(i64, String, bool)>,
    /// Addresses kept in copy on the conversation.
    pub copied: Vec<String>,
}

/// What a WhatsApp conversation shows besides messages.
pub struct WaPane {
    /// The contact's opt-in.
    pub optin: Option<crate::domain::whatsapp::optin::OptIn>,
    /// Usable templates with their prefilled values.
    pub templates: Vec<(crate::domain::whatsapp::templates::Template, std::collections::BTreeMap<String, String>)>,
}

impl WaPane {
    /// The picker's choices.
    pub fn choices(&self) -> Vec<super::whatsapp::Choice<'_>> {
        self.templates.iter().map(|(t, p)| super::whatsapp::Choice { template: t, prefill: p.clone() }).collect()
    }
}

/// The closing script's fields (reason and resolved).
pub fn closing_fields(loc: Locale, reasons: &[(i64, String)], error: Option<&'static str>) -> Markup {
    html! {
        div.field {
            label for="f-reason" { (t(loc, "closing.reason")) }
            select #f-reason name="reason_id" required {
                option value="" { (t(loc, "closing.choose")) }
                @for (id, name) in reasons { option value=(id) { (name) } }
            }
        }
        fieldset.field.checks {
            legend { (t(loc, "closing.resolved")) }
            label { input type="radio" name="resolved" value="1" required; " " (t(loc, "closing.yes")) }
            " "
            label { input type="radio" name="resolved" value="0"; " " (t(loc, "closing.no")) }
        }
        @if let Some(e) = error { p.field-error role="alert" { (t(loc, e)) } }
    }
}

/// The closing script as a page (when it is asked without the dialog).
pub fn closing_page(
    loc: Locale,
    csrf: &str,
    id: i64,
    reasons: &[(i64, String)],
    error: Option<&'static str>,
) -> Markup {
    html! {
        div.page-head { h1 { (t(loc, "closing.title")) } }
        section.card {
            form.form method="post" action=(format!("/atendimentos/{id}/finalizar")) {
                (forms::csrf(csrf))
                (closing_fields(loc, reasons, error))
                div.form-actions {
                    button.btn.btn-primary type="submit" { (t(loc, "desk.finish")) }
                    a.btn.btn-ghost href=(format!("/atendimentos/{id}")) { (t(loc, "action.cancel")) }
                }
            }
        }
    }
}

/// The contact panel beside a conversation.
pub struct Panel {
    /// The contact (None if the viewer may not open it).
    pub contact: Option<crate::domain::contacts::Detail>,
    /// First taken by an agent, first agent reply (unix).
    pub timing: (Option<i64>, Option<i64>),
    /// Open tasks on this conversation or its contact that the viewer may see.
    pub tasks: Vec<crate::domain::tasks::Task>,
}
