//! The open conversation in the workspace: the centre pane (header, times,
//! messages, composer, the actions at the lower right with their dialogs)
//! and the contact pane on the right (contact, timeline with + Anotação,
//! tasks, earlier conversations, details).

use maud::{Markup, html};

use super::desk::{EMOJI, Panel, Workbench, channel, closing_fields, elapsed, message_list, post_button, status_key};
use super::forms;
use crate::domain::conversations::{Conversation, Message, TransferOptions};
use crate::domain::users::User;
use crate::i18n::{Locale, t};

/// What the centre pane shows about a conversation.
pub struct View<'a> {
    /// The viewer.
    pub me: &'a User,
    /// The conversation.
    pub c: &'a Conversation,
    /// Its messages (with notes and timeline events).
    pub msgs: &'a [Message],
    /// Transfer targets.
    pub transfer: &'a TransferOptions,
    /// The contact pane's data.
    pub panel: &'a Panel,
    /// Composer, tags and closing script.
    pub wb: &'a Workbench,
    /// Business time zone.
    pub tz: &'a jiff::tz::TimeZone,
    /// Now (unix).
    pub now: i64,
}

impl View<'_> {
    fn holds(&self) -> bool {
        self.c.agent_id == Some(self.me.id) && self.c.status == "assigned"
    }

    fn can_finish(&self) -> bool {
        self.holds() || (self.me.is_admin() && self.c.status == "assigned")
    }
}

/// "3 h 12 min", "12 min", "menos de 1 min".
fn left(secs: i64) -> String {
    let m = secs / 60;
    match (m / 60, m % 60) {
        (0, 0) => "< 1 min".to_string(),
        (0, m) => format!("{m} min"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// The WhatsApp window in the header: how long it stays open, counted down
/// by the page from the server's `data-now`; or that it is closed.
fn window(loc: Locale, until: Option<i64>, now: i64) -> Markup {
    html! {
        @match until {
            Some(u) if u > now => p.wa-window #wa-window data-until=(u) data-now=(now) {
                (t(loc, "wa.window.open")) " " span.left { (left(u - now)) }
            },
            _ => p.wa-window.wa-closed #wa-window { (t(loc, "wa.window.closed")) },
        }
    }
}

/// The times that mean something now: "Esperando há" while nobody has it;
/// "Esperou" and "Em atendimento há" once someone does; the duration once
/// closed.
fn times(loc: Locale, v: &View) -> Markup {
    let c = v.c;
    let (taken, _) = v.panel.timing;
    html! {
        p #conv-times .conv-times.muted {
            @match c.status.as_str() {
                "queued" | "offered" => {
                    (t(loc, "ws.waiting_since")) " " strong data-since=(c.queued_at) { (elapsed(v.now - c.queued_at)) }
                }
                "assigned" => {
                    @let start = taken.unwrap_or(c.queued_at).max(c.queued_at);
                    (t(loc, "ws.waited")) " " strong { (elapsed(start - c.queued_at)) }
                    " · " (t(loc, "ws.in_service_since")) " " strong data-since=(start) { (elapsed(v.now - start)) }
                }
                _ => {
                    (t(loc, "ws.duration")) " " strong { (elapsed(c.closed_at.unwrap_or(v.now) - c.created_at)) }
                }
            }
        }
    }
}

/// The centre pane.
pub fn centre(loc: Locale, csrf: &str, v: &View, notice: Option<&'static str>) -> Markup {
    let c = v.c;
    let base = format!("/atendimentos/{}", c.id);
    let last = v.msgs.last().map(|m| m.id).unwrap_or(0);
    let contact_line = [c.contact_phone.as_str(), c.contact_email.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" · ");
    html! {
        div #conversation .conv data-conversation=(c.id) data-status=(c.status) {
            header.conv-head {
                a.ws-back href="/atendimentos" aria-label=(t(loc, "ws.back_to_lists")) { "‹" }
                div.conv-title {
                    h1 { (c.contact_name) @if c.task_bell { " " span.task-bell title=(t(loc, "task.contact_bell")) aria-label=(t(loc, "task.contact_bell")) { "🔔" } } }
                    p.muted.conv-sub {
                        (channel(loc, &c.channel)) @if !contact_line.is_empty() { " · " (contact_line) }
                        " · " (c.queue_name)
                        " " span #conv-status .chip.(format!("chip-{}", c.status)) { (t(loc, status_key(&c.status))) }
                    }
                    (times(loc, v))
                    @if c.channel == "whatsapp" {
                        (window(loc, c.window_until, v.now))
                        @if let Some(wa) = &v.wb.wa { (super::whatsapp::optin_line(loc, csrf, c.id, wa.optin.as_ref(), v.tz)) }
                    }
                }
                div.conv-tools {
                    span #live-status .badge.badge-warn hidden { (t(loc, "live.disconnected")) }
                    a.btn.btn-sm #create-task href=(format!("/tarefas/nova?conversa={}", c.id)) { (t(loc, "task.create")) }
                    form.inline.pdf-form method="get" action=(format!("{base}/pdf")) {
                        label.check-inline { input type="checkbox" name="notas" value="1"; " " (t(loc, "pdf.include_notes")) }
                        button.btn.btn-sm #export-pdf type="submit" { (t(loc, "pdf.export")) }
                    }
                    form.search-in.inline-form method="get" action=(format!("{base}/pesquisar")) role="search" {
                        input type="search" name="q" maxlength="200" aria-label=(t(loc, "search.in_conversation")) placeholder=(t(loc, "search.in_conversation"));
                        button.btn.btn-sm type="submit" { (t(loc, "action.search")) }
                    }
                    button.btn.btn-sm #panel-toggle type="button" aria-controls="ws-side" title=(t(loc, "panel.toggle")) aria-label=(t(loc, "panel.toggle")) { "i" }
                }
            }
            @if let Some(n) = notice { div.flash.flash-warn role="alert" { (t(loc, n)) } }
            @if let Some(why) = crate::domain::conversations::not_connected_reason(&c.channel) {
                div.flash.flash-warn #channel-off role="status" { strong { (t(loc, "forms.channel.not_connected")) } ": " (t(loc, why)) }
            }
            div #messages.messages data-conversation=(c.id) data-last=(last) data-live="1" { (message_list(loc, v.msgs, v.tz)) }
            div #typing.typing role="status" aria-live="polite" hidden { (t(loc, "conv.visitor_typing")) }
            div.conv-foot {
                @if v.holds() && c.channel == "whatsapp" && c.window_until.is_none_or(|u| u <= v.now) {
                    div.flash.flash-warn #wa-closed role="status" { (t(loc, "wa.window_closed")) }
                    @if let Some(wa) = &v.wb.wa {
                        @match &wa.optin {
                            Some(o) if o.on => { (super::whatsapp::picker(loc, csrf, &format!("{base}/modelo"), &wa.choices(), &[], false)) }
                            Some(_) => { p.muted #wa-optin-needed { (t(loc, "wa.opted_out")) } }
                            None => { p.muted #wa-optin-needed { (t(loc, "wa.optin_needed")) } }
                        }
                    }
                }
                (composer(loc, csrf, c, v.holds() && (c.channel != "whatsapp" || c.window_until.is_some_and(|u| u > v.now)), v.wb))
                (actions(loc, csrf, v))
            }
        }
    }
}

/// Accept / decline, claim, and Transferir · Finalizar · Arquivar together at
/// the lower right, each opening a dialog that asks for confirmation; on a
/// closed conversation, Reabrir and Reabrir em….
fn actions(loc: Locale, csrf: &str, v: &View) -> Markup {
    let c = v.c;
    let base = format!("/atendimentos/{}", c.id);
    let closed = c.status == "finished" || c.status == "archived";
    html! {
        div #conv-actions .conv-actions {
            @if c.status == "offered" && c.agent_id == Some(v.me.id) {
                (post_button(csrf, &format!("{base}/aceitar"), t(loc, "desk.accept"), "btn-primary", None))
                (post_button(csrf, &format!("{base}/recusar"), t(loc, "desk.decline"), "", None))
            }
            @if c.status == "queued" { (post_button(csrf, &format!("{base}/pegar"), t(loc, "desk.claim"), "btn-primary", None)) }
            @if v.can_finish() {
                a.btn.btn-sm #transfer href=(format!("{base}/transferir")) data-dialog="transfer-dialog" { (t(loc, "desk.transfer")) }
                a.btn.btn-sm.btn-primary #finish href=(format!("{base}/finalizar")) data-dialog="closing-dialog" { (t(loc, "desk.finish")) }
                a.btn.btn-sm.btn-danger #archive href=(format!("{base}/arquivar")) data-dialog="archive-dialog" { (t(loc, "desk.archive")) }
            }
            @if closed {
                (post_button(csrf, &format!("{base}/reabrir"), t(loc, "desk.reopen"), "", None))
                details.reopen-at #reopen-schedule {
                    summary.btn.btn-sm { (t(loc, "reopen.title")) }
                    div.reopen-box {
                        @if let Some(at) = c.reopen_at {
                            p { (t(loc, "reopen.scheduled_for")) " " strong { (super::datetime(at, v.tz)) } }
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
                                a.btn.btn-sm.btn-ghost href=(base) { (t(loc, "action.cancel")) }
                            }
                        }
                    }
                }
            }
        }
        @if v.can_finish() {
            dialog #closing-dialog aria-labelledby="closing-title" {
                form.form method="post" action=(format!("{base}/finalizar")) {
                    (forms::csrf(csrf))
                    h2 #closing-title { (t(loc, "closing.title")) }
                    @if v.wb.script_required { (closing_fields(loc, &v.wb.reasons, None)) }
                    @else { p { (t(loc, "desk.finish_confirm")) } }
                    div.form-actions {
                        button.btn.btn-primary type="submit" { (t(loc, "desk.finish")) }
                        button.btn.btn-ghost type="button" data-close-dialog="1" { (t(loc, "action.cancel")) }
                    }
                }
            }
            dialog #archive-dialog aria-labelledby="archive-title" {
                form.form method="post" action=(format!("{base}/arquivar")) {
                    (forms::csrf(csrf))
                    h2 #archive-title { (t(loc, "desk.archive")) }
                    p { (t(loc, "desk.archive_confirm")) }
                    div.form-actions {
                        button.btn.btn-danger type="submit" { (t(loc, "desk.archive")) }
                        button.btn.btn-ghost type="button" data-close-dialog="1" { (t(loc, "action.cancel")) }
                    }
                }
            }
            dialog #transfer-dialog aria-labelledby="transfer-title" data-options=(format!("{base}/transferir")) {
                div #transfer-options { (transfer_options(loc, csrf, c.id, v.transfer)) }
                div.form-actions { button.btn.btn-ghost type="button" data-close-dialog="1" { (t(loc, "action.cancel")) } }
            }
        }
    }
}

/// The transfer choices: a team (back to its queue) or an available agent;
/// unavailable agents are listed with the reason and cannot be chosen. The
/// dialog refreshes this part while it is open.
pub fn transfer_options(loc: Locale, csrf: &str, id: i64, transfer: &TransferOptions) -> Markup {
    let action = format!("/atendimentos/{id}/transferir");
    html! {
        h2 #transfer-title { (t(loc, "desk.transfer")) }
        form.form.inline-form method="post" action=(action) data-confirm=(t(loc, "ws.transfer_confirm")) {
            (forms::csrf(csrf))
            label for="f-team" { (t(loc, "desk.transfer_team")) }
            select #f-team name="team_id" { @for (tid, name) in &transfer.teams { option value=(tid) { (name) } } }
            button.btn.btn-sm type="submit" { (t(loc, "desk.transfer")) }
        }
        form.form.inline-form method="post" action=(action) data-confirm=(t(loc, "ws.transfer_confirm")) {
            (forms::csrf(csrf))
            label for="f-agent" { (t(loc, "desk.transfer_agent")) }
            select #f-agent name="agent_id" required {
                option value="" { (t(loc, "ws.choose_agent")) }
                @for (aid, name, why) in &transfer.agents {
                    option value=(aid) disabled[why.is_some()] {
                        (name) @if let Some(w) = why { " — " (t(loc, w)) }
                    }
                }
            }
            button.btn.btn-sm type="submit" { (t(loc, "desk.transfer")) }
        }
        p.muted { (t(loc, "desk.transfer_hint")) }
    }
}

/// The composer: reply or internal note, emoji, quick replies ("/" or the
/// bolt), "+" to save the text as a quick reply, and the attachment form.
/// Agents who may see but do not hold the conversation can still add notes.
fn composer(loc: Locale, csrf: &str, c: &Conversation, mine: bool, wb: &Workbench) -> Markup {
    let base = format!("/atendimentos/{}", c.id);
    html! {
        form #composer.form.composer.(if mine { "mode-reply" } else { "mode-note" }) method="post" action=(format!("{base}/mensagens")) data-conversation=(c.id)
            data-typing=(if mine && c.channel == "webchat" { "1" } else { "0" }) data-typing-url=(format!("{base}/digitando")) {
            (forms::csrf(csrf))
            div.composer-mode role="radiogroup" aria-label=(t(loc, "composer.mode")) {
                @if mine { label { input type="radio" name="mode" value="reply" checked; " " (t(loc, "desk.reply")) } }
                label.note-mode { input type="radio" name="mode" value="note" checked[!mine]; " " (t(loc, "note.label")) }
            }
            textarea #f-text name="text" rows="2" maxlength="4000" required aria-label=(t(loc, "desk.reply"))
                placeholder=(t(loc, if mine { "desk.reply_hint" } else { "note.hint" })) {}
            div #qr-popup.qr-popup hidden role="listbox" aria-label=(t(loc, "qr.title")) {}
            @if let (true, Some(m)) = (mine, &wb.mail) {
                (super::email_templates::extras(loc, &m.templates, &m.copied, ["", "", ""]))
            }
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

/// The contact pane (right): contact and extra fields, Linha do tempo with
/// its "+ Anotação", tasks of this conversation or contact (complete, edit,
/// delete in place), Histórico, and this conversation's details and tags.
pub fn side(loc: Locale, csrf: &str, v: &View) -> Markup {
    let c = v.c;
    let p = v.panel;
    let (taken, replied) = p.timing;
    let base = format!("/atendimentos/{}", c.id);
    html! {
        div #contact-panel .contact-panel {
            header.side-head {
                h2 { (t(loc, "ws.contact")) }
                button.btn.btn-sm.btn-ghost #panel-close type="button" aria-controls="ws-side" title=(t(loc, "panel.toggle")) aria-label=(t(loc, "panel.toggle")) { "x" }
            }
            @if let Some(d) = &p.contact {
                section #panel-contact {
                    h3 { a href=(format!("/contatos/{}", d.contact.id)) { (d.contact.label()) } }
                    dl.details {
                        dt { (t(loc, "contact.phone")) } dd { (d.contact.phone) }
                        dt { (t(loc, "contact.email")) } dd { (d.contact.email) }
                        @for (f, val) in &d.values { dt { (f.name) } dd { (val) } }
                        dt { (t(loc, "contact.tags")) } dd { @for (_, n) in &d.tags { span.tag { (n) } " " } }
                    }
                    a.btn.btn-sm #panel-edit href=(format!("/contatos/{}/editar?conversa={}", d.contact.id, c.id)) { (t(loc, "action.edit")) }
                }
                section #panel-timeline {
                    h3 { (t(loc, "contact.timeline")) }
                    form #annotation-form .form method="post" action=(format!("{base}/anotacoes")) {
                        (forms::csrf(csrf))
                        label.sr-only for="f-annotation" { (t(loc, "ws.annotation")) }
                        textarea #f-annotation name="body" rows="2" maxlength="2000" required placeholder=(t(loc, "ws.annotation_hint")) {}
                        button.btn.btn-sm type="submit" { "+ " (t(loc, "ws.annotation")) }
                    }
                    ul.timeline {
                        @for e in d.timeline.iter().take(15) {
                            li {
                                span.muted { (super::datetime(e.at, v.tz)) } " "
                                @let label = crate::i18n::catalog_key(&e.key).map(|k| t(loc, k)).unwrap_or("");
                                (label)
                                @if !e.text.is_empty() { ": " @match &e.link { Some(l) => { a href=(l) { (e.text) } } None => { (e.text) } } }
                                @if !e.who.is_empty() { " · " span.muted { (e.who) } }
                            }
                        }
                    }
                    a href=(format!("/contatos/{}#timeline", d.contact.id)) { (t(loc, "ws.see_timeline")) }
                }
            }
            section #panel-tasks {
                h3 { (t(loc, "menu.tasks")) }
                @if p.tasks.is_empty() { p.muted { (t(loc, "ws.no_tasks")) } }
                ul.panel-tasks {
                    @for task in &p.tasks {
                        li.(if task.overdue(v.now) { "overdue" } else { "" }) data-task=(task.id) {
                            a href=(format!("/tarefas/{}", task.id)) { (task.title) }
                            " " span.muted { (super::datetime(task.due_at, v.tz)) }
                            div.task-actions {
                                (post_button(csrf, &format!("/tarefas/{}/finalizar", task.id), t(loc, "ws.task_done"), "btn-primary", None))
                                a.btn.btn-sm href=(format!("/tarefas/{}/editar?conversa={}", task.id, c.id)) { (t(loc, "action.edit")) }
                                (post_button(csrf, &format!("/tarefas/{}/excluir", task.id), t(loc, "action.delete"), "btn-danger", Some(t(loc, "ws.task_delete_confirm"))))
                            }
                        }
                    }
                }
                a.btn.btn-sm href=(format!("/tarefas/nova?conversa={}", c.id)) { "+ " (t(loc, "task.create")) }
            }
            @if let Some(d) = &p.contact {
                section #panel-history {
                    h3 { (t(loc, "contact.history")) }
                    @let earlier: Vec<_> = d.history.iter().filter(|h| h.id != c.id).collect();
                    @if earlier.is_empty() { p.muted { (t(loc, "contact.no_history")) } }
                    ul.history { @for h in earlier {
                        li {
                            @if h.open { a.conv-link href=(format!("/atendimentos/{}", h.id)) data-conv=(h.id) { "#" (h.id) } } @else { "#" (h.id) }
                            " · " (super::datetime(h.created_at, v.tz)) " · " (channel(loc, &h.channel)) " · " (t(loc, status_key(&h.status)))
                        }
                    } }
                }
            }
            section #panel-conversation {
                h3 { (t(loc, "ws.details")) }
                dl.details {
                    dt { (t(loc, "panel.entered")) } dd { (super::datetime(c.created_at, v.tz)) }
                    dt { (t(loc, "reg.queues")) } dd { (c.queue_name) }
                    dt { (t(loc, "panel.channel")) } dd { (channel(loc, &c.channel)) }
                    dt { (t(loc, "desk.agent")) } dd { (c.agent_name.as_deref().unwrap_or("—")) }
                    dt { (t(loc, "panel.waited")) }
                    dd { (elapsed(taken.unwrap_or(if c.status == "queued" || c.status == "offered" { v.now } else { c.queued_at }).max(c.queued_at) - c.queued_at)) }
                    dt { (t(loc, "panel.first_response")) }
                    dd { @match replied { Some(r) => { (elapsed((r - c.created_at).max(0))) } None => { "—" } } }
                    @if let Some(r) = &c.closing_reason { dt { (t(loc, "closing.reason")) } dd { (r) } }
                    @if let Some(r) = c.resolved {
                        dt { (t(loc, "closing.resolved")) } dd { (t(loc, if r { "closing.yes" } else { "closing.no" })) }
                    }
                }
                h3 { (t(loc, "contact.tags")) }
                div #conv-tags {
                    @for (id, name) in &v.wb.tags {
                        form.inline.tag-chip method="post" action=(format!("{base}/etiquetas/{id}/remover")) {
                            (forms::csrf(csrf))
                            span.tag { (name) }
                            button.btn-link type="submit" title=(t(loc, "tag.remove")) aria-label=(format!("{} {}", t(loc, "tag.remove"), name)) { "×" }
                        }
                    }
                    @let free: Vec<_> = v.wb.tag_options.iter().filter(|(id, _)| !v.wb.tags.iter().any(|(t, _)| t == id)).collect();
                    @if !free.is_empty() {
                        form.inline-form method="post" action=(format!("{base}/etiquetas")) {
                            (forms::csrf(csrf))
                            select name="tag_id" aria-label=(t(loc, "tag.add")) { @for (id, name) in free { option value=(id) { (name) } } }
                            button.btn.btn-sm type="submit" { (t(loc, "tag.add")) }
                        }
                    }
                }
            }
        }
    }
}
