//! The agent desk: home lists, offers, conversation view, composer.

use maud::{Markup, html};

use super::forms;
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
pub fn home(loc: Locale, csrf: &str, h: &Home, now: i64, notice: Option<&'static str>) -> Markup {
    let ready = h.presence == "ready";
    html! {
        div.page-head {
            h1 { (t(loc, "menu.desk")) }
            div.actions {
                span #live-status .badge.badge-warn hidden { (t(loc, "live.disconnected")) }
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

/// Messages in arrival order: customer left, us/automatic right, system inline.
pub fn message_list(loc: Locale, msgs: &[Message], tz: &jiff::tz::TimeZone) -> Markup {
    html! {
        @for m in msgs {
            @if m.kind == "system" {
                div.msg.msg-system data-id=(m.id) {
                    span { (crate::i18n::catalog_key(&m.body).map(|k| t(loc, k)).unwrap_or(&m.body)) }
                    @if !m.author_name.is_empty() { " · " (m.author_name) }
                    " · " (super::datetime(m.created_at, tz))
                }
            } @else {
                div class=(if m.kind == "in" { "msg msg-in" } else { "msg msg-out" }) data-id=(m.id) {
                    div.msg-meta { strong { (m.author_name) } " · " (super::datetime(m.created_at, tz)) }
                    div.msg-body { (m.body) }
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
fn contact_panel(loc: Locale, c: &Conversation, p: &Panel, tz: &jiff::tz::TimeZone, now: i64) -> Markup {
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
    tz: &jiff::tz::TimeZone,
    now: i64,
    notice: Option<&'static str>,
) -> Markup {
    let base = format!("/atendimentos/{}", c.id);
    let mine = c.agent_id == Some(me.id) && c.status == "assigned";
    let last = msgs.last().map(|m| m.id).unwrap_or(0);
    html! {
        div.page-head {
            h1 { (c.contact_name) @if c.task_bell { " " span.task-bell title=(t(loc, "task.contact_bell")) aria-label=(t(loc, "task.contact_bell")) { "🔔" } } }
            div.actions {
                span #live-status .badge.badge-warn hidden { (t(loc, "live.disconnected")) }
                span.badge.badge-info { (t(loc, status_key(&c.status))) }
                a.btn.btn-sm #create-task href=(format!("/tarefas/nova?conversa={}", c.id)) { (t(loc, "task.create")) }
            }
        }
        @if let Some(n) = notice { div.flash.flash-warn role="alert" { (t(loc, n)) } }
        (contact_panel(loc, c, panel, tz, now))
        dl.details {
            dt { (t(loc, "reg.queues")) } dd { (c.queue_name) " · " (channel(loc, &c.channel)) }
            @if let Some(a) = &c.agent_name { dt { (t(loc, "desk.agent")) } dd { (a) } }
            dt { (t(loc, "desk.waiting_for")) } dd { span data-since=(c.queued_at) { (elapsed(now - c.queued_at)) } }
        }
        div #messages.messages data-conversation=(c.id) data-last=(last) data-live="1" { (message_list(loc, msgs, tz)) }
        @if mine {
            form #composer.form.composer method="post" action=(format!("{base}/mensagens")) {
                (forms::csrf(csrf))
                label for="f-text" { (t(loc, "desk.reply")) }
                textarea #f-text name="text" rows="3" maxlength="4000" required placeholder=(t(loc, "desk.reply_hint")) {}
                div.form-actions { button.btn.btn-primary type="submit" { (t(loc, "desk.send")) } }
            }
        }
        div.form-actions {
            @if c.status == "offered" && c.agent_id == Some(me.id) {
                (post_button(csrf, &format!("{base}/aceitar"), t(loc, "desk.accept"), "btn-primary", None))
                (post_button(csrf, &format!("{base}/recusar"), t(loc, "desk.decline"), "", None))
            }
            @if c.status == "queued" { (post_button(csrf, &format!("{base}/pegar"), t(loc, "desk.claim"), "btn-primary", None)) }
            @if mine || (me.is_admin() && c.status == "assigned") {
                (post_button(csrf, &format!("{base}/finalizar"), t(loc, "desk.finish"), "btn-primary", Some(t(loc, "desk.finish_confirm"))))
                (post_button(csrf, &format!("{base}/arquivar"), t(loc, "desk.archive"), "btn-danger", Some(t(loc, "desk.archive_confirm"))))
            }
            @if c.status == "finished" || c.status == "archived" { (post_button(csrf, &format!("{base}/reabrir"), t(loc, "desk.reopen"), "", None)) }
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
