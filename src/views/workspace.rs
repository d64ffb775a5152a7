//! The agent workspace (`/atendimentos`): one screen in three panes. Left
//! the lists (Ofertas, Minhas conversas, Na fila, Finalizadas recentes) with
//! a filter and a quick search; centre the open conversation; right the
//! contact. At phone width one pane shows at a time.

use jiff::tz::TimeZone;
use maud::{Markup, html};

use super::desk::{channel, elapsed, post_button};
use super::forms;
use crate::domain::conversations::{Conversation, Filter, Home, Page, cursor_param};
use crate::i18n::{Locale, t};

/// Which desk list a page shows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ListKind {
    /// Na fila.
    Queued,
    /// Minhas conversas.
    Mine,
    /// Finalizadas (mine, closed).
    Closed,
}

impl ListKind {
    /// Its address.
    pub fn path(self) -> &'static str {
        match self {
            ListKind::Queued => "/atendimentos/fila",
            ListKind::Mine => "/atendimentos/minhas",
            ListKind::Closed => "/atendimentos/finalizadas",
        }
    }

    /// Catalog key of its title.
    pub fn title_key(self) -> &'static str {
        match self {
            ListKind::Queued => "desk.queued",
            ListKind::Mine => "desk.mine",
            ListKind::Closed => "ws.closed",
        }
    }

    fn empty_key(self) -> &'static str {
        match self {
            ListKind::Queued => "desk.queued_empty",
            ListKind::Mine => "desk.mine_empty",
            ListKind::Closed => "ws.closed_empty",
        }
    }
}

/// One row of a list: a link that opens the conversation in the centre pane.
fn row(loc: Locale, csrf: &str, kind: ListKind, c: &Conversation, now: i64, tz: &TimeZone) -> Markup {
    let preview = if c.last_preview.is_empty() { c.subject.as_str() } else { c.last_preview.as_str() };
    let preview = &preview[..preview.char_indices().nth(80).map_or(preview.len(), |(i, _)| i)];
    html! {
        li.conv-row.unread[c.unread && kind == ListKind::Mine] data-conv=(c.id) {
            a.conv-link href=(format!("/atendimentos/{}", c.id)) data-conv=(c.id) {
                span.conv-row-top {
                    @if c.unread && kind == ListKind::Mine { span.dot aria-label=(t(loc, "desk.unread")) {} }
                    strong.conv-name { (c.contact_name) } @if c.task_bell { " 🔔" }
                    span.conv-when {
                        @match kind {
                            ListKind::Queued => { span.badge.badge-warn data-since=(c.queued_at) { (elapsed(now - c.queued_at)) } }
                            ListKind::Mine => { span.muted { (super::short_time(c.last_activity_at, now, tz)) } }
                            ListKind::Closed => { span.muted { (super::short_time(c.closed_at.unwrap_or(c.last_activity_at), now, tz)) } }
                        }
                    }
                }
                span.conv-row-sub.muted {
                    (channel(loc, &c.channel)) " · " (c.queue_name)
                    @if !crate::domain::conversations::channel_connected(&c.channel) { " · " (t(loc, "forms.channel.not_connected")) }
                }
                span.conv-preview { (preview) }
            }
            @if kind == ListKind::Queued {
                (post_button(csrf, &format!("/atendimentos/{}/pegar", c.id), "✓", "btn-primary btn-claim", None))
            }
        }
    }
}

fn rows(loc: Locale, csrf: &str, kind: ListKind, rows: &[Conversation], now: i64, tz: &TimeZone) -> Markup {
    html! {
        @if rows.is_empty() { p.empty { (t(loc, kind.empty_key())) } }
        @else { ul.conv-list { @for c in rows { (row(loc, csrf, kind, c, now, tz)) } } }
    }
}

fn more_link(loc: Locale, kind: ListKind, page: &Page, f: &Filter, label: &'static str) -> Markup {
    let extra = if f.is_set() { format!("&{}", f.query()) } else { String::new() };
    html! {
        @if let Some(n) = page.next {
            p.list-more { a href=(format!("{}?apos={}{extra}", kind.path(), cursor_param(n))) { (t(loc, label)) } }
        }
    }
}

/// Offers, Minhas conversas, Na fila and Finalizadas recentes (refreshed
/// live as one fragment).
pub fn lists(loc: Locale, csrf: &str, h: &Home, now: i64, tz: &TimeZone) -> Markup {
    let all = |kind: ListKind| {
        let q = h.filter.query();
        if q.is_empty() { kind.path().to_string() } else { format!("{}?{q}", kind.path()) }
    };
    html! {
        div #lists data-unread=(h.mine_unread) data-offers=(h.offers.len()) {
            @for c in &h.offers {
                section.offer role="alert" data-conv=(c.id) {
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
            section.ws-list #list-mine {
                h2 { (t(loc, "desk.mine")) " " span.badge.badge-info { (h.mine_total) }
                    @if h.mine_unread > 0 { " " span.badge.badge-danger title=(t(loc, "desk.unread")) { (h.mine_unread) } } }
                (rows(loc, csrf, ListKind::Mine, &h.mine.rows, now, tz))
                @if h.mine.next.is_some() { p.list-more { a href=(all(ListKind::Mine)) { (t(loc, "desk.see_all")) } } }
            }
            section.ws-list #list-queued {
                h2 { (t(loc, "desk.queued")) " " span.badge.badge-warn { (h.queued_total) } }
                (rows(loc, csrf, ListKind::Queued, &h.queued.rows, now, tz))
                @if h.queued.next.is_some() { p.list-more { a href=(all(ListKind::Queued)) { (t(loc, "desk.see_all")) } } }
            }
            section.ws-list #list-closed {
                h2 { (t(loc, "ws.closed_recent")) }
                (rows(loc, csrf, ListKind::Closed, &h.closed.rows, now, tz))
                p.list-more { a href=(all(ListKind::Closed)) { (t(loc, "ws.closed_all")) } }
            }
        }
    }
}

/// The filter (queue, channel, tag) and the quick search over the lists.
fn filter_form(loc: Locale, h: &Home) -> Markup {
    let f = &h.filter;
    html! {
        form.ws-search method="get" action="/pesquisar" role="search" {
            input type="search" name="q" maxlength="200" aria-label=(t(loc, "ws.quick_search")) placeholder=(t(loc, "ws.quick_search"));
        }
        details.ws-filter open[f.is_set()] {
            summary { (t(loc, "action.filter")) @if f.is_set() { " " span.badge.badge-info { "•" } } }
            form #ws-filter method="get" action="/atendimentos" {
                label { (t(loc, "reg.queues")) " "
                    select name="fila" {
                        option value="" { (t(loc, "filter.any")) }
                        @for (id, name) in &h.filter_queues { option value=(id) selected[f.queue == Some(*id)] { (name) } }
                    }
                }
                label { (t(loc, "f.channel")) " "
                    select name="canal" {
                        option value="" { (t(loc, "filter.any")) }
                        @for code in ["webchat", "whatsapp", "email"] {
                            option value=(code) selected[f.channel.as_deref() == Some(code)] { (channel(loc, code)) }
                        }
                    }
                }
                label { (t(loc, "contact.tags")) " "
                    select name="etiqueta" {
                        option value="" { (t(loc, "filter.any")) }
                        @for (id, name) in &h.filter_tags { option value=(id) selected[f.tag == Some(*id)] { (name) } }
                    }
                }
                button.btn.btn-sm type="submit" { (t(loc, "action.filter")) }
                @if f.is_set() { " " a href="/atendimentos" { (t(loc, "ws.clear_filter")) } }
            }
        }
    }
}

/// My queues: connect / disconnect and "puxar" (folded under the lists).
fn queues_box(loc: Locale, csrf: &str, h: &Home) -> Markup {
    html! {
        details.ws-queues #my-queues {
            summary { (t(loc, "desk.queues")) " " span.badge.badge-off { (h.queues.iter().filter(|q| q.connected).count()) "/" (h.queues.len()) } }
            @if h.queues.is_empty() { p.empty { (t(loc, "desk.no_queues")) } }
            ul.queue-list { @for q in &h.queues { li {
                span { strong { (q.name) } " " span.muted { (channel(loc, &q.channel)) " · " (q.waiting) " " (t(loc, "desk.waiting")) } }
                @if q.connected { span.badge.badge-ok { (t(loc, "desk.connected")) } } @else { span.badge.badge-off { (t(loc, "desk.disconnected")) } }
                form.inline method="post" action=(format!("/filas/{}/conexao", q.id)) {
                    (forms::csrf(csrf))
                    input type="hidden" name="on" value=(if q.connected { "0" } else { "1" });
                    button.btn.btn-sm type="submit" { (t(loc, if q.connected { "desk.disconnect" } else { "desk.connect" })) }
                }
                (post_button(csrf, &format!("/filas/{}/puxar", q.id), t(loc, "desk.pull"), "btn-primary", None))
            } } }
        }
    }
}

/// The whole workspace. `centre` and `side` are the open conversation's
/// panes (None: nothing open yet).
#[allow(clippy::too_many_arguments)]
pub fn page(
    loc: Locale,
    csrf: &str,
    h: &Home,
    now: i64,
    notice: Option<&'static str>,
    can_open: bool,
    tz: &TimeZone,
    open: Option<(i64, Markup, Markup)>,
) -> Markup {
    let ready = h.presence == "ready";
    let open_id = open.as_ref().map(|o| o.0);
    html! {
        div #workspace .workspace data-pane=(if open_id.is_some() { "conv" } else { "list" }) data-open=[open_id] {
            aside #ws-lists .ws-pane.ws-left aria-label=(t(loc, "ws.lists")) {
                div.ws-head {
                    h1.ws-title { (t(loc, "menu.desk")) }
                    span.badge.(if ready { "badge-ok" } else { "badge-off" }) #presence { (t(loc, if ready { "presence.ready" } else { "presence.not_ready" })) }
                    form.inline method="post" action="/presenca" {
                        (forms::csrf(csrf))
                        input type="hidden" name="ready" value=(if ready { "0" } else { "1" });
                        button.btn.btn-sm type="submit" { (t(loc, if ready { "presence.set_not_ready" } else { "presence.set_ready" })) }
                    }
                    @if can_open { a.btn.btn-sm #start-conversation href="/atendimentos/novo" { (t(loc, "outbound.title")) } }
                    @if open_id.is_none() { span #live-status .badge.badge-warn hidden { (t(loc, "live.disconnected")) } }
                }
                @if let Some(n) = notice { div.flash.flash-warn role="alert" { (t(loc, n)) } }
                (filter_form(loc, h))
                div #desk-lists data-live="1" data-filter=(h.filter.query()) { (lists(loc, csrf, h, now, tz)) }
                (queues_box(loc, csrf, h))
            }
            main #ws-main .ws-pane.ws-centre {
                @match &open {
                    Some((_, centre, _)) => { (centre) }
                    None => { div.ws-empty { p { (t(loc, "ws.pick_one")) } } }
                }
            }
            aside #ws-side .ws-pane.ws-right aria-label=(t(loc, "ws.contact")) {
                @if let Some((_, _, side)) = &open { (side) }
            }
        }
    }
}

/// The centre and right panes of one conversation, for swapping without a
/// reload (the script moves each into its pane).
pub fn panes(title: &str, id: i64, centre: Markup, side: Markup) -> Markup {
    html! {
        div #swap data-conv=(id) data-title=(title) {
            div #swap-main { (centre) }
            div #swap-side { (side) }
        }
    }
}

/// A whole desk list, one page at a time (keyset: every page costs the same).
#[allow(clippy::too_many_arguments)]
pub fn list_page(
    loc: Locale,
    csrf: &str,
    kind: ListKind,
    page: &Page,
    first: bool,
    f: &Filter,
    now: i64,
    tz: &TimeZone,
) -> Markup {
    html! {
        div.page-head {
            h1 { (t(loc, kind.title_key())) }
            div.actions { a.btn.btn-sm href="/atendimentos" { (t(loc, "desk.back_home")) } }
        }
        section.card {
            (rows(loc, csrf, kind, &page.rows, now, tz))
            p.list-more {
                @if !first { a href=(kind.path()) { (t(loc, "list.first_page")) } " " }
            }
            (more_link(loc, kind, page, f, "list.next_page"))
        }
    }
}
