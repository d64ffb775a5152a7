//! The agent desk: home lists, offers, conversation view, composer.

use maud::{Markup, html};

use super::forms;
use crate::domain::attachments::{Attachment, human_size};
use crate::domain::conversations::{Conversation, Home, Message, Page, TransferOptions, cursor_param};
use crate::domain::users::User;
use crate::i18n::{Locale, t};

fn channel(loc: Locale, code: &str) -> &'static str {
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

fn post_button(csrf: &str, action: &str, label: &str, class: &str, confirm: Option<&str>) -> Markup {
    html! {
        form.inline method="post" action=(action) data-confirm=[confirm] {
            (forms::csrf(csrf))
            button class=(format!("btn btn-sm {class}")) type="submit" { (label) }
        }
    }
}

/// The agent home page.
pub fn home(loc: Locale, csrf: &str, h: &Home, now: i64, notice: Option<&'static str>, can_open: bool) -> Markup {
    let ready = h.presence == "ready";
    html! {
        div.page-head {
            h1 { (t(loc, "menu.desk")) }
            div.actions {
                span #live-status .badge.badge-warn hidden { (t(loc, "live.disconnected")) }
                @if can_open { a.btn.btn-sm #start-conversation href="/atendimentos/novo" { (t(loc, "outbound.title")) } }
                span.badge.(if ready { "badge-ok" } else { "badge-off" }) #presence { (t(loc, if ready { "presence.ready" } else { "presence.not_ready" })) }
                form.inline method="post" action="/presenca" {
                    (forms::csrf(csrf))
                    input type="hidden" name="ready" value=(if ready { "0" } else { "1" });
                    button.btn.btn-sm type="submit" { (t(loc, if ready { "presence.set_not_ready" } else { "presence.set_ready" })) }
                }
            }
        }
        @if let Some(n) = notice { div.flash.flash-warn role="alert" { (t(loc, n)) } }
        div #desk-lists data-live="1" { (lists(loc, csrf, h, now)) }
        section.card {
            h2 { (t(loc, "desk.queues")) }
            @if h.queues.is_empty() { p.empty { (t(loc, "desk.no_queues")) } }
            @else {
                div.table-wrap { table.table {
                    thead { tr { th { (t(loc, "reg.queues")) } th { (t(loc, "f.channel")) } th.num { (t(loc, "desk.waiting")) } th { (t(loc, "f.status")) } th {} } }
                    tbody { @for q in &h.queues { tr {
                        td { (q.name) } td { (channel(loc, &q.channel)) } td.num { (q.waiting) }
                        td { @if q.connected { span.badge.badge-ok { (t(loc, "desk.connected")) } } @else { span.badge.badge-off { (t(loc, "desk.disconnected")) } } }
                        td.row-actions {
                            form.inline method="post" action=(format!("/filas/{}/conexao", q.id)) {
                                (forms::csrf(csrf))
                                input type="hidden" name="on" value=(if q.connected { "0" } else { "1" });
                                button.btn.btn-sm type="submit" { (t(loc, if q.connected { "desk.disconnect" } else { "desk.connect" })) }
                            }
                            (post_button(csrf, &format!("/filas/{}/puxar", q.id), t(loc, "desk.pull"), "btn-primary", None))
                        }
                    } } }
                } }
            }
        }
    }
}

/// Which desk list a page shows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ListKind {
    /// Na fila.
    Queued,
    /// Minhas conversas.
    Mine,
}

impl ListKind {
    /// Its address.
    pub fn path(self) -> &'static str {
        match self {
            ListKind::Queued => "/atendimentos/fila",
            ListKind::Mine => "/atendimentos/minhas",
        }
    }

    /// Catalog key of its title.
    pub fn title_key(self) -> &'static str {
        match self {
            ListKind::Queued => "desk.queued",
            ListKind::Mine => "desk.mine",
        }
    }
}

fn conv_rows(loc: Locale, csrf: &str, kind: ListKind, rows: &[Conversation], now: i64) -> Markup {
    html! {
        @if rows.is_empty() {
            p.empty { (t(loc, if kind == ListKind::Queued { "desk.queued_empty" } else { "desk.mine_empty" })) }
        } @else if kind == ListKind::Mine {
            ul.conv-list { @for c in rows { li.unread[c.unread] {
                a href=(format!("/atendimentos/{}", c.id)) {
                    @if c.unread { span.dot aria-label=(t(loc, "desk.unread")) {} }
                    strong { (c.contact_name) } @if c.task_bell { " 🔔" } " " span.muted { (c.queue_name) }
                    br; span.muted { (c.subject) }
                }
            } } }
        } @else {
            ul.conv-list { @for c in rows { li {
                a href=(format!("/atendimentos/{}", c.id)) { strong { (c.contact_name) } " " span.muted { (c.queue_name) } br; span.muted { (c.subject) } }
                " " span.badge.badge-warn data-since=(c.queued_at) { (elapsed(now - c.queued_at)) }
                " " (post_button(csrf, &format!("/atendimentos/{}/pegar", c.id), "✓", "btn-primary", None))
            } } }
        }
    }
}

fn next_link(loc: Locale, kind: ListKind, page: &Page, label: &'static str) -> Markup {
    html! {
        @if let Some(n) = page.next {
            p.list-more { a href=(format!("{}?apos={}", kind.path(), cursor_param(n))) { (t(loc, label)) } }
        }
    }
}

/// Offers, "Na fila" and "Minhas conversas" (refreshed live).
pub fn lists(loc: Locale, csrf: &str, h: &Home, now: i64) -> Markup {
    html! {
        div #lists data-unread=(h.mine_unread) data-offers=(h.offers.len()) {
            @for c in &h.offers {
                section.card.offer role="alert" {
                    h2 { (t(loc, "desk.offer")) }
                    p { strong { (c.contact_name) } " · " (channel(loc, &c.channel)) " · " (c.queue_name) }
                    @if !c.contact_email.is_empty() || !c.contact_phone.is_empty() { p.muted { (c.contact_email) " " (c.contact_phone) } }
                    p { (c.subject) }
                    p.muted { (t(loc, "desk.waiting_for")) " " span data-since=(c.queued_at) { (elapsed(now - c.queued_at)) } }
                    div.form-actions {
                        (post_button(csrf, &format!("/atendimentos/{}/aceitar", c.id), t(loc, "desk.accept"), "btn-primary", None))
                        (post_button(csrf, &format!("/atendimentos/{}/recusar", c.id), t(loc, "desk.decline"), "", None))
                    }
                }
            }
            div.cards {
                section.card {
                    h2 { (t(loc, "desk.mine")) " " span.badge.badge-info { (h.mine_total) } }
                    (conv_rows(loc, csrf, ListKind::Mine, &h.mine.rows, now))
                    (next_link(loc, ListKind::Mine, &h.mine, "desk.see_all"))
                }
                section.card {
                    h2 { (t(loc, "desk.queued")) " " span.badge.badge-warn { (h.queued_total) } }
                    (conv_rows(loc, csrf, ListKind::Queued, &h.queued.rows, now))
                    (next_link(loc, ListKind::Queued, &h.queued, "desk.see_all"))
                }
            }
        }
    }
}

/// A whole desk list, one page at a time (keyset: every page costs the same).
pub fn list_page(loc: Locale, csrf: &str, kind: ListKind, page: &Page, first: bool, now: i64) -> Markup {
    html! {
        div.page-head {
            h1 { (t(loc, kind.title_key())) }
            div.actions { a.btn.btn-sm href="/atendimentos" { (t(loc, "desk.back_home")) } }
        }
        section.card {
            (conv_rows(loc, csrf, kind, &page.rows, now))
            p.list-more {
                @if !first { a href=(kind.path()) { (t(loc, "list.first_page")) } " " }
            }
            (next_link(loc, kind, page, "list.next_page"))
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
                    @if !m.body.is_empty() { div.msg-body { (m.body) } }
                    (files(&m.attachments))
                }
            }
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
}

/// The contact panel: details and extra fields, tags, earlier conversations,
/// and this conversation's times. A `<details>` toggled by its "i" / "x".
#[allow(clippy::too_many_arguments)]
fn contact_panel(
    loc: Locale,
    csrf: &str,
    c: &Conversation,
    p: &Panel,
    wb: &Workbench,
    tz: &jiff::tz::TimeZone,
    now: i64,
) -> Markup {
    let (taken, replied) = p.timing;
    let waited =
        taken.unwrap_or(if c.status == "queued" || c.status == "offered" { now } else { c.created_at }) - c.created_at;
    html! {
        details #contact-panel .contact-panel open {
            summary title=(t(loc, "panel.toggle")) aria-label=(t(loc, "panel.toggle")) {
                span.when-closed { "i" } span.when-open { "x" }
            }
            @if let Some(d) = &p.contact {
                section #panel-contact {
                    h2 { a href=(format!("/contatos/{}", d.contact.id)) { (d.contact.label()) } }
                    dl.details {
                        dt { (t(loc, "contact.phone")) } dd { (d.contact.phone) }
                        dt { (t(loc, "contact.email")) } dd { (d.contact.email) }
                        @for (f, v) in &d.values { dt { (f.name) } dd { (v) } }
                        dt { (t(loc, "contact.tags")) } dd { @for (_, n) in &d.tags { span.tag { (n) } " " } }
                    }
                    a.btn.btn-sm #panel-edit href=(format!("/contatos/{}/editar", d.contact.id)) { (t(loc, "action.edit")) }
                }
            }
            section #panel-conversation {
                h2 { (t(loc, "panel.this_conversation")) }
                dl.details {
                    dt { (t(loc, "panel.entered")) } dd { (super::datetime(c.created_at, tz)) }
                    dt { (t(loc, "reg.queues")) } dd { (c.queue_name) }
                    dt { (t(loc, "panel.channel")) } dd { (channel(loc, &c.channel)) }
                    dt { (t(loc, "desk.agent")) } dd { (c.agent_name.as_deref().unwrap_or("—")) }
                    dt { (t(loc, "panel.waited")) } dd { (elapsed(waited.max(0))) }
                    dt { (t(loc, "panel.first_response")) }
                    dd { @match replied { Some(r) => { (elapsed((r - c.created_at).max(0))) } None => { "—" } } }
                    @if let Some(r) = &c.closing_reason {
                        dt { (t(loc, "closing.reason")) } dd { (r) }
                    }
                    @if let Some(r) = c.resolved {
                        dt { (t(loc, "closing.resolved")) } dd { (t(loc, if r { "closing.yes" } else { "closing.no" })) }
                    }
                }
                h3 { (t(loc, "contact.tags")) }
                div #conv-tags {
                    @for (id, name) in &wb.tags {
                        form.inline.tag-chip method="post" action=(format!("/atendimentos/{}/etiquetas/{id}/remover", c.id)) {
                            (forms::csrf(csrf))
                            span.tag { (name) }
                            button.btn-link type="submit" title=(t(loc, "tag.remove")) aria-label=(format!("{} {}", t(loc, "tag.remove"), name)) { "×" }
                        }
                    }
                    @let free: Vec<_> = wb.tag_options.iter().filter(|(id, _)| !wb.tags.iter().any(|(t, _)| t == id)).collect();
                    @if !free.is_empty() {
                        form.inline-form method="post" action=(format!("/atendimentos/{}/etiquetas", c.id)) {
                            (forms::csrf(csrf))
                            select name="tag_id" aria-label=(t(loc, "tag.add")) { @for (id, name) in free { option value=(id) { (name) } } }
                            button.btn.btn-sm type="submit" { (t(loc, "tag.add")) }
                        }
                    }
                }
            }
            @if let Some(d) = &p.contact {
                section #panel-history {
                    h2 { (t(loc, "contact.history")) }
                    @let earlier: Vec<_> = d.history.iter().filter(|h| h.id != c.id).collect();
                    @if earlier.is_empty() { p.muted { (t(loc, "contact.no_history")) } }
                    ul.history { @for h in earlier {
                        li {
                            @if h.open { a href=(format!("/atendimentos/{}", h.id)) { "#" (h.id) } } @else { "#" (h.id) }
                            " · " (super::datetime(h.created_at, tz)) " · " (channel(loc, &h.channel)) " · " (t(loc, status_key(&h.status)))
                        }
                    } }
                }
            }
        }
    }
}

/// One conversation with its actions and composer.
#[allow(clippy::too_many_arguments)]
pub fn conversation(
    loc: Locale,
    csrf: &str,
    me: &User,
    c: &Conversation,
    msgs: &[Message],
    transfer: &TransferOptions,
    panel: &Panel,
    wb: &Workbench,
    tz: &jiff::tz::TimeZone,
    now: i64,
    notice: Option<&'static str>,
) -> Markup {
    let base = format!("/atendimentos/{}", c.id);
    let closed = c.status == "finished" || c.status == "archived";
    let mine = c.agent_id == Some(me.id) && c.status == "assigned";
    let can_finish = mine || (me.is_admin() && c.status == "assigned");
    let last = msgs.last().map(|m| m.id).unwrap_or(0);
    html! {
        div.page-head {
            h1 { (c.contact_name) @if c.task_bell { " " span.task-bell title=(t(loc, "task.contact_bell")) aria-label=(t(loc, "task.contact_bell")) { "🔔" } } }
            div.actions {
                span #live-status .badge.badge-warn hidden { (t(loc, "live.disconnected")) }
                span.badge.badge-info { (t(loc, status_key(&c.status))) }
                a.btn.btn-sm #create-task href=(format!("/tarefas/nova?conversa={}", c.id)) { (t(loc, "task.create")) }
                form.inline.pdf-form method="get" action=(format!("{base}/pdf")) {
                    label.check-inline { input type="checkbox" name="notas" value="1"; " " (t(loc, "pdf.include_notes")) }
                    button.btn.btn-sm #export-pdf type="submit" { (t(loc, "pdf.export")) }
                }
            }
        }
        form.search-in.inline-form method="get" action=(format!("{base}/pesquisar")) role="search" {
            input type="search" name="q" maxlength="200" aria-label=(t(loc, "search.in_conversation")) placeholder=(t(loc, "search.in_conversation"));
            button.btn.btn-sm type="submit" { (t(loc, "action.search")) }
        }
        @if let Some(n) = notice { div.flash.flash-warn role="alert" { (t(loc, n)) } }
        (contact_panel(loc, csrf, c, panel, wb, tz, now))
        dl.details {
            dt { (t(loc, "reg.queues")) } dd { (c.queue_name) " · " (channel(loc, &c.channel)) }
            @if let Some(a) = &c.agent_name { dt { (t(loc, "desk.agent")) } dd { (a) } }
            dt { (t(loc, "desk.waiting_for")) } dd { span data-since=(c.queued_at) { (elapsed(now - c.queued_at)) } }
        }
        div #messages.messages data-conversation=(c.id) data-last=(last) data-live="1" { (message_list(loc, msgs, tz)) }
        (composer(loc, csrf, c, mine, wb))
        div.form-actions {
            @if c.status == "offered" && c.agent_id == Some(me.id) {
                (post_button(csrf, &format!("{base}/aceitar"), t(loc, "desk.accept"), "btn-primary", None))
                (post_button(csrf, &format!("{base}/recusar"), t(loc, "desk.decline"), "", None))
            }
            @if c.status == "queued" { (post_button(csrf, &format!("{base}/pegar"), t(loc, "desk.claim"), "btn-primary", None)) }
            @if can_finish {
                @if wb.script_required {
                    form.inline method="post" action=(format!("{base}/finalizar")) {
                        (forms::csrf(csrf))
                        button.btn.btn-sm.btn-primary #finish type="submit" data-dialog="closing-dialog" { (t(loc, "desk.finish")) }
                    }
                } @else {
                    (post_button(csrf, &format!("{base}/finalizar"), t(loc, "desk.finish"), "btn-primary", Some(t(loc, "desk.finish_confirm"))))
                }
                (post_button(csrf, &format!("{base}/arquivar"), t(loc, "desk.archive"), "btn-danger", Some(t(loc, "desk.archive_confirm"))))
            }
            @if closed { (post_button(csrf, &format!("{base}/reabrir"), t(loc, "desk.reopen"), "", None)) }
        }
        @if can_finish && wb.script_required {
            dialog #closing-dialog aria-labelledby="closing-title" {
                form.form method="post" action=(format!("{base}/finalizar")) {
                    (forms::csrf(csrf))
                    h2 #closing-title { (t(loc, "closing.title")) }
                    (closing_fields(loc, &wb.reasons, None))
                    div.form-actions {
                        button.btn.btn-primary type="submit" { (t(loc, "desk.finish")) }
                        button.btn.btn-ghost type="button" data-close-dialog="1" { (t(loc, "action.cancel")) }
                    }
                }
            }
        }
        @if closed {
            section.card #reopen-schedule {
                h2 { (t(loc, "reopen.title")) }
                @if let Some(at) = c.reopen_at {
                    p { (t(loc, "reopen.scheduled_for")) " " strong { (super::datetime(at, tz)) } }
                    form.inline method="post" action=(format!("{base}/reabrir-em")) {
                        (forms::csrf(csrf))
                        input type="hidden" name="cancelar" value="1";
                        button.btn.btn-sm type="submit" { (t(loc, "reopen.cancel")) }
                    }
                } @else {
                    form.inline-form method="post" action=(format!("{base}/reabrir-em")) {
                        (forms::csrf(csrf))
                        label for="f-reopen" { (t(loc, "reopen.at")) }
                        input #f-reopen type="datetime-local" name="quando" required;
                        button.btn.btn-sm type="submit" { (t(loc, "reopen.schedule")) }
                    }
                }
            }
        }
        @if mine || (me.is_admin() && c.status == "assigned") {
            section.card {
                h2 { (t(loc, "desk.transfer")) }
                form.form.inline-form method="post" action=(format!("{base}/transferir")) {
                    (forms::csrf(csrf))
                    label for="f-team" { (t(loc, "desk.transfer_team")) }
                    select #f-team name="team_id" { @for (id, name) in &transfer.teams { option value=(id) { (name) } } }
                    button.btn.btn-sm type="submit" { (t(loc, "desk.transfer")) }
                }
                form.form.inline-form method="post" action=(format!("{base}/transferir")) {
                    (forms::csrf(csrf))
                    label for="f-agent" { (t(loc, "desk.transfer_agent")) }
                    select #f-agent name="agent_id" {
                        @for (id, name, why) in &transfer.agents {
                            option value=(id) disabled[why.is_some()] {
                                (name) @if let Some(w) = why { " — " (t(loc, w)) }
                            }
                        }
                    }
                    button.btn.btn-sm type="submit" { (t(loc, "desk.transfer")) }
                }
                p.muted { (t(loc, "desk.transfer_hint")) }
            }
        }
    }
}

/// The composer: reply or internal note, emoji, quick replies ("/" or the
/// bolt), "+" to save the text as a quick reply, and the attachment form.
/// Agents who may see but do not hold the conversation can still add notes.
fn composer(loc: Locale, csrf: &str, c: &Conversation, mine: bool, wb: &Workbench) -> Markup {
    let base = format!("/atendimentos/{}", c.id);
    html! {
        form #composer.form.composer.(if mine { "mode-reply" } else { "mode-note" }) method="post" action=(format!("{base}/mensagens")) data-conversation=(c.id) {
            (forms::csrf(csrf))
            div.composer-mode role="radiogroup" aria-label=(t(loc, "composer.mode")) {
                @if mine { label { input type="radio" name="mode" value="reply" checked; " " (t(loc, "desk.reply")) } }
                label.note-mode { input type="radio" name="mode" value="note" checked[!mine]; " " (t(loc, "note.label")) }
            }
            textarea #f-text name="text" rows="3" maxlength="4000" required aria-label=(t(loc, "desk.reply"))
                placeholder=(t(loc, if mine { "desk.reply_hint" } else { "note.hint" })) {}
            div #qr-popup.qr-popup hidden role="listbox" aria-label=(t(loc, "qr.title")) {}
            div.composer-tools {
                details.emoji-picker {
                    summary title=(t(loc, "emoji.title")) aria-label=(t(loc, "emoji.title")) { "😀" }
                    div.emoji-grid { @for e in EMOJI { button.emoji type="button" data-emoji=(e) { (e) } } }
                }
                details #qr-menu.qr-menu {
                    summary title=(t(loc, "qr.title")) aria-label=(t(loc, "qr.title")) { "⚡" }
                    div.qr-box {
                        @if wb.quick_replies.is_empty() { p.muted #qr-empty { (t(loc, "qr.none")) } }
                        ul #qr-list {
                            @for (id, shortcut, body, mine) in &wb.quick_replies {
                                li data-id=(id) {
                                    button.qr type="button" data-shortcut=(shortcut) data-body=(body) {
                                        strong { "/" (shortcut) } " " span.muted { (body.chars().take(60).collect::<String>()) }
                                    }
                                    @if *mine { span.badge.badge-off { (t(loc, "qr.mine")) } }
                                }
                            }
                        }
                        a href="/respostas" { (t(loc, "qr.manage")) }
                    }
                }
                button.btn.btn-sm #qr-save type="button" title=(t(loc, "qr.save_hint")) aria-label=(t(loc, "qr.save_hint"))
                    data-ask=(t(loc, "qr.ask_shortcut")) { "+" }
                span.spacer {}
                button.btn.btn-primary type="submit" { (t(loc, "desk.send")) }
            }
        }
        details.attach-box #attach {
            summary { "📎 " (t(loc, "file.attach")) }
            form #attach-form.form method="post" enctype="multipart/form-data" action=(format!("{base}/anexos")) {
                (forms::csrf(csrf))
                input type="hidden" name="mode" value=(if mine { "reply" } else { "note" });
                div.field {
                    label for="f-file" { (t(loc, "file.choose")) }
                    input #f-file type="file" name="file" required accept=(crate::domain::attachments::accept_list());
                    p.hint { (t(loc, "file.limit")) " " (wb.file_limit_mb) " MB" }
                }
                div.field {
                    label for="f-caption" { (t(loc, "file.caption")) }
                    input #f-caption type="text" name="text" maxlength="4000";
                }
                div.form-actions { button.btn.btn-sm.btn-primary type="submit" { (t(loc, "file.send")) } }
            }
        }
    }
}
