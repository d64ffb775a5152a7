//! Acompanhamento: the live panels (Agentes, Atendimentos) and the
//! supervisor's read-only view of a conversation. Durations carry their
//! start in `data-sup-since` and the page ticks them from the server's
//! `data-now`; the panels' fragments are reloaded on live events.

use maud::{Markup, html};

use super::desk::{channel, message_list, status_key};
use super::forms;
use crate::domain::conversations::{Conversation, Message};
use crate::domain::supervision::agents::{Agent, HOLDING_SHOWN};
use crate::domain::supervision::queues::{Candidate, Level, Panel, Row, level};
use crate::i18n::{Locale, t, tf};

/// Which panel the page shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    /// Agentes.
    Agents,
    /// Atendimentos (queues and conversations).
    Queues,
}

impl Tab {
    /// The query value (`aba=`).
    pub fn code(self) -> &'static str {
        match self {
            Tab::Agents => "agentes",
            Tab::Queues => "atendimentos",
        }
    }
}

/// A notice after an action: (is it good news, catalog key).
pub type Notice = (bool, &'static str);

/// "mm:ss" under an hour, then "1 h 05 min" (the page script ticks the same way).
pub fn ago(secs: i64) -> String {
    let s = secs.max(0);
    if s < 3600 { format!("{:02}:{:02}", s / 60, s % 60) } else { format!("{} h {:02} min", s / 3600, (s % 3600) / 60) }
}

/// "05:12", ticking.
fn ticking(at: i64, now: i64) -> Markup {
    html! { span data-sup-since=(at) { (ago(now - at)) } }
}

/// "há 05:12", ticking.
fn since(loc: Locale, at: i64, now: i64) -> Markup {
    html! { span.sup-dur { (t(loc, "sup.for")) " " (ticking(at, now)) } }
}

fn level_class(l: Level) -> &'static str {
    match l {
        Level::Calm => "sup-calm",
        Level::Warn => "sup-warn",
        Level::Over => "sup-over",
    }
}

/// The whole page: tabs, the notice, the chosen panel.
pub fn page(loc: Locale, tab: Tab, notice: Option<Notice>, panel: Markup) -> Markup {
    html! {
        div #sup .sup data-tab=(tab.code()) {
            div.page-head {
                h1 { (t(loc, "sup.title")) }
                span #live-status .badge.badge-warn hidden { (t(loc, "live.disconnected")) }
            }
            nav.sup-tabs aria-label=(t(loc, "sup.title")) {
                @for (tb, key) in [(Tab::Agents, "sup.tab.agents"), (Tab::Queues, "sup.tab.queues")] {
                    a.sup-tab.active[tab == tb] href=(format!("/acompanhamento?aba={}", tb.code()))
                        aria-current=[(tab == tb).then_some("page")] { (t(loc, key)) }
                }
            }
            @if let Some((ok, key)) = notice {
                div class=(if ok { "flash flash-ok" } else { "flash flash-error" }) role=(if ok { "status" } else { "alert" }) { (t(loc, key)) }
            }
            (panel)
        }
    }
}

/// The Agentes panel (also its fragment, `GET /acompanhamento/agentes`).
pub fn agents(loc: Locale, csrf: &str, me: i64, list: &[Agent], now: i64) -> Markup {
    html! {
        div #sup-agents .sup-panel data-src="/acompanhamento/agentes" data-now=(now) {
            @if list.is_empty() {
                p.empty { (t(loc, "sup.no_agents")) }
            } @else {
                div.table-wrap {
                    table.table.sup-table {
                        thead { tr {
                            th { (t(loc, "sup.col.agent")) } th { (t(loc, "sup.col.presence")) } th { (t(loc, "sup.col.queues")) }
                            th { (t(loc, "sup.col.holding")) } th { (t(loc, "sup.col.offers")) }
                            th { (t(loc, "sup.col.last_message")) } th { (t(loc, "sup.col.today")) } th { (t(loc, "sup.col.actions")) }
                        } }
                        tbody {
                            @for a in list { (agent_row(loc, csrf, me, a, now)) }
                        }
                    }
                }
            }
        }
    }
}

fn agent_row(loc: Locale, csrf: &str, me: i64, a: &Agent, now: i64) -> Markup {
    let over = a.pause.as_ref().is_some_and(|p| p.over);
    let base = format!("/acompanhamento/agentes/{}", a.id);
    html! {
        tr.sup-agent.sup-over[over] id=(format!("sup-agent-{}", a.id)) data-agent=(a.id)
            data-sup-limit=[a.pause.as_ref().map(|p| p.limit_at)] {
            th scope="row" data-label=(t(loc, "sup.col.agent")) { (a.name) }
            td.sup-presence data-label=(t(loc, "sup.col.presence")) {
                @match &a.pause {
                    Some(p) => {
                        span.badge.(if p.over { "badge-danger" } else { "badge-warn" }) {
                            (t(loc, "presence.paused")) ": " (p.reason)
                        }
                        " " (since(loc, p.started_at, now))
                        @if p.over { " " span.sup-exceeded { (t(loc, "pause.exceeded")) } }
                    }
                    None => {
                        @if a.presence == "ready" { span.badge.badge-ok { (t(loc, "presence.ready")) } }
                        @else { span.badge.badge-off { (t(loc, "presence.not_ready")) } }
                        @if a.since > 0 { " " (since(loc, a.since, now)) }
                    }
                }
            }
            td data-label=(t(loc, "sup.col.queues")) {
                @if a.queues.is_empty() { span.muted { (t(loc, "sup.no_queue")) } }
                @else { (a.queues.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>().join(", ")) }
            }
            td data-label=(t(loc, "sup.col.holding")) {
                strong.sup-load {
                    (a.holding.len()) "/" @match a.capacity { Some(c) => (c), None => "—" }
                }
                @if !a.holding.is_empty() {
                    ul.sup-convs {
                        @for (id, contact) in a.holding.iter().take(HOLDING_SHOWN) {
                            li { a href=(format!("/acompanhamento/atendimentos/{id}")) { (contact) } }
                        }
                    }
                }
            }
            td data-label=(t(loc, "sup.col.offers")) { (a.offers) }
            td data-label=(t(loc, "sup.col.last_message")) {
                @match a.last_message_at { Some(at) => (since(loc, at, now)), None => span.muted { "—" } }
            }
            td data-label=(t(loc, "sup.col.today")) {
                (tf(loc, "sup.today_counts", &[&a.finished_today.to_string(), &a.taken_today.to_string()]))
            }
            td data-label=(t(loc, "sup.col.actions")) { div.sup-actions {
                @if a.id != me {
                    @if a.pause.is_some() {
                        form.inline method="post" action=(format!("{base}/encerrar-pausa")) {
                            (forms::csrf(csrf))
                            button.btn.btn-sm type="submit" { (t(loc, "sup.end_pause")) }
                        }
                    }
                    @if a.presence != "not_ready" {
                        form.inline method="post" action=(format!("{base}/nao-pronto")) data-confirm=(tf(loc, "sup.not_ready_confirm", &[&a.name])) {
                            (forms::csrf(csrf))
                            button.btn.btn-sm.btn-danger type="submit" { (t(loc, "sup.set_not_ready")) }
                        }
                    }
                }
            } }
        }
    }
}

/// The Atendimentos panel (also its fragment, `GET /acompanhamento/atendimentos`).
pub fn queues(loc: Locale, csrf: &str, p: &Panel, filter: Option<i64>, now: i64) -> Markup {
    let src = match filter {
        Some(q) => format!("/acompanhamento/atendimentos?fila={q}"),
        None => "/acompanhamento/atendimentos".to_string(),
    };
    let back = match filter {
        Some(q) => format!("/acompanhamento?aba=atendimentos&fila={q}"),
        None => "/acompanhamento?aba=atendimentos".to_string(),
    };
    html! {
        div #sup-queues .sup-panel data-src=(src) data-now=(now) {
            form.filters.sup-filter method="get" action="/acompanhamento" {
                input type="hidden" name="aba" value="atendimentos";
                div.field {
                    label for="f-fila" { (t(loc, "sup.col.queue")) }
                    select #f-fila name="fila" {
                        option value="" { (t(loc, "sup.all_queues")) }
                        @for (id, name) in &p.all_queues { option value=(id) selected[filter == Some(*id)] { (name) } }
                    }
                }
                button.btn.btn-sm type="submit" { (t(loc, "sup.filter")) }
            }
            @if p.queues.is_empty() {
                p.empty { (t(loc, "sup.no_queues")) }
            } @else {
                div.table-wrap {
                    table.table.sup-table #sup-queue-table {
                        thead { tr {
                            th { (t(loc, "sup.col.queue")) }
                            th title=(t(loc, "sup.help.waiting")) { (t(loc, "sup.col.waiting")) }
                            th title=(t(loc, "sup.help.longest")) { (t(loc, "sup.col.longest")) }
                            th title=(t(loc, "sup.help.in_service")) { (t(loc, "sup.col.in_service")) }
                            th title=(t(loc, "sup.help.ready")) { (t(loc, "sup.col.ready")) }
                            th title=(t(loc, "sup.help.abandoned")) { (t(loc, "sup.col.abandoned")) }
                            th title=(t(loc, "sup.help.breaches")) { (t(loc, "sup.col.breaches")) }
                        } }
                        tbody {
                            @for q in &p.queues {
                                @let longest = q.oldest_since.map(|s| now - s);
                                @let lv = longest.map(|w| level(w, q.alert_minutes)).unwrap_or(Level::Calm);
                                tr.sup-queue id=(format!("sup-queue-{}", q.id)) {
                                    th scope="row" data-label=(t(loc, "sup.col.queue")) {
                                        (q.name) " " span.muted { (channel(loc, &q.channel)) " · " (q.team) }
                                    }
                                    td.sup-waiting data-label=(t(loc, "sup.col.waiting")) { (q.waiting) }
                                    td.sup-longest.(level_class(lv)) data-label=(t(loc, "sup.col.longest"))
                                        data-sup-alert=(q.alert_minutes * 60) {
                                        @match q.oldest_since { Some(s) => (since(loc, s, now)), None => span.muted { "—" } }
                                    }
                                    td.sup-in-service data-label=(t(loc, "sup.col.in_service")) { (q.in_service) }
                                    td.sup-ready data-label=(t(loc, "sup.col.ready")) { (q.ready) }
                                    td.sup-abandoned data-label=(t(loc, "sup.col.abandoned")) { (q.abandoned_today) }
                                    td.sup-breaches data-label=(t(loc, "sup.col.breaches")) {
                                        @if q.alert_minutes > 0 { (q.breaches_today) } @else { span.muted title=(t(loc, "sup.no_alert")) { "—" } }
                                    }
                                }
                            }
                        }
                    }
                }
                p.muted.sup-defs { (t(loc, "sup.colours")) }
            }
            h2 { (t(loc, "sup.waiting_list")) }
            (conv_table(loc, csrf, p, &p.waiting, true, &back, now))
            h2 { (t(loc, "sup.in_service_list")) }
            (conv_table(loc, csrf, p, &p.in_service, false, &back, now))
        }
    }
}

fn conv_table(loc: Locale, csrf: &str, p: &Panel, rows: &[Row], waiting: bool, back: &str, now: i64) -> Markup {
    html! {
        @if rows.is_empty() {
            p.empty { (t(loc, if waiting { "sup.none_waiting" } else { "sup.none_in_service" })) }
        } @else {
            div.table-wrap {
                table.table.sup-table.(if waiting { "sup-waiting-list" } else { "sup-service-list" }) {
                    thead { tr {
                        th { (t(loc, "sup.col.contact")) } th { (t(loc, "sup.col.queue")) }
                        th { (t(loc, if waiting { "sup.col.status" } else { "sup.col.agent" })) }
                        th { (t(loc, if waiting { "sup.col.waited" } else { "sup.col.serving" })) }
                        th { (t(loc, "sup.col.actions")) }
                    } }
                    tbody {
                        @for r in rows {
                            @let lv = if waiting { level(now - r.since, r.alert_minutes) } else { Level::Calm };
                            tr.sup-conv id=(format!("sup-conv-{}", r.id)) data-conv=(r.id) {
                                th scope="row" data-label=(t(loc, "sup.col.contact")) {
                                    a href=(format!("/acompanhamento/atendimentos/{}", r.id)) { (r.contact) }
                                    " " span.muted { (channel(loc, &r.channel)) }
                                }
                                td data-label=(t(loc, "sup.col.queue")) { (r.queue) }
                                td data-label=(t(loc, if waiting { "sup.col.status" } else { "sup.col.agent" })) {
                                    @if r.status == "offered" {
                                        (tf(loc, "sup.offered_to", &[r.agent.as_deref().unwrap_or("")]))
                                    } @else if waiting {
                                        (t(loc, status_key(&r.status)))
                                    } @else {
                                        (r.agent.as_deref().unwrap_or("—"))
                                    }
                                }
                                td.(level_class(lv)) data-label=(t(loc, if waiting { "sup.col.waited" } else { "sup.col.serving" }))
                                    data-sup-alert=[waiting.then_some(r.alert_minutes * 60)] {
                                    (since(loc, r.since, now))
                                }
                                td data-label=(t(loc, "sup.col.actions")) { div.sup-actions {
                                    a.btn.btn-sm href=(format!("/acompanhamento/atendimentos/{}", r.id)) { (t(loc, "sup.open")) }
                                    (moves(loc, csrf, back, r.id, r.queue_id, r.agent_id,
                                        p.candidates.get(&r.queue_id).map(Vec::as_slice).unwrap_or(&[]),
                                        p.targets.get(&r.channel).map(Vec::as_slice).unwrap_or(&[])))
                                } }
                            }
                        }
                    }
                }
            }
            @if rows.len() as i64 >= crate::domain::supervision::queues::LIST_LIMIT {
                p.muted { (tf(loc, "sup.list_cut", &[&rows.len().to_string()])) }
            }
        }
    }
}

/// Atribuir (an agent connected to the queue) and Transferir (another queue
/// of the channel) for one conversation.
#[allow(clippy::too_many_arguments)]
fn moves(
    loc: Locale,
    csrf: &str,
    back: &str,
    id: i64,
    queue_id: i64,
    holder: Option<i64>,
    agents: &[Candidate],
    queues: &[(i64, String)],
) -> Markup {
    let agents: Vec<&Candidate> = agents.iter().filter(|a| Some(a.id) != holder).collect();
    let queues: Vec<&(i64, String)> = queues.iter().filter(|(q, _)| *q != queue_id).collect();
    html! {
        @if agents.is_empty() {
            span.muted.sup-nobody { (t(loc, "sup.nobody_connected")) }
        } @else {
            form.inline-form.sup-move method="post" action=(format!("/acompanhamento/atendimentos/{id}/atribuir")) {
                (forms::csrf(csrf))
                input type="hidden" name="voltar" value=(back);
                select name="agente" aria-label=(t(loc, "sup.assign_to")) required {
                    option value="" { (t(loc, "sup.assign_to")) }
                    @for a in &agents {
                        @match a.unavailable {
                            Some(why) => option value=(a.id) disabled { (a.name) " (" (t(loc, why)) ")" },
                            None => option value=(a.id) { (a.name) },
                        }
                    }
                }
                button.btn.btn-sm type="submit" { (t(loc, "sup.assign")) }
            }
        }
        @if !queues.is_empty() {
            form.inline-form.sup-move method="post" action=(format!("/acompanhamento/atendimentos/{id}/transferir")) {
                (forms::csrf(csrf))
                input type="hidden" name="voltar" value=(back);
                select name="fila" aria-label=(t(loc, "sup.transfer_to")) required {
                    option value="" { (t(loc, "sup.transfer_to")) }
                    @for (q, name) in &queues { option value=(q) { (name) } }
                }
                button.btn.btn-sm type="submit" { (t(loc, "sup.transfer")) }
            }
        }
    }
}

/// What the read-only view shows besides the conversation.
pub struct Watch<'a> {
    /// The conversation.
    pub c: &'a Conversation,
    /// Its messages, notes and timeline.
    pub msgs: &'a [Message],
    /// Agents of its queue (to give it to).
    pub agents: &'a [Candidate],
    /// Queues of its channel (to move it to).
    pub queues: &'a [(i64, String)],
    /// In service since (first assignment of the cycle), if it is.
    pub serving_since: Option<i64>,
    /// Where "back" goes.
    pub back: &'a str,
    /// Business time zone.
    pub tz: &'a jiff::tz::TimeZone,
    /// Now.
    pub now: i64,
}

/// The supervisor's read-only view of a conversation: its transcript with
/// notes and timeline (live), no composer and none of the agent's actions;
/// while it is open, Atribuir and Transferir.
pub fn conversation(loc: Locale, csrf: &str, w: &Watch, notice: Option<Notice>) -> Markup {
    let c = w.c;
    let last = w.msgs.last().map(|m| m.id).unwrap_or(0);
    let open = matches!(c.status.as_str(), "queued" | "offered" | "assigned");
    html! {
        div #sup-conversation .sup data-conversation=(c.id) data-now=(w.now) {
            p { a href=(w.back) { "‹ " (t(loc, "sup.back")) } }
            div.page-head {
                h1 { (c.contact_name) }
                span #live-status .badge.badge-warn hidden { (t(loc, "live.disconnected")) }
            }
            p.muted.conv-sub {
                (channel(loc, &c.channel)) " · " (c.queue_name)
                " " span #conv-status .chip.(format!("chip-{}", c.status)) { (t(loc, status_key(&c.status))) }
                @if let Some(a) = &c.agent_name { " · " (a) }
            }
            p.muted.conv-times {
                @match c.status.as_str() {
                    "queued" | "offered" => { (t(loc, "ws.waiting_since")) " " strong { (ticking(c.queued_at, w.now)) } }
                    "assigned" => { (t(loc, "ws.in_service_since")) " " strong { (ticking(w.serving_since.unwrap_or(c.queued_at), w.now)) } }
                    _ => { (t(loc, "ws.duration")) " " strong { (ago(c.closed_at.unwrap_or(w.now) - c.created_at)) } }
                }
            }
            div.flash.flash-warn #sup-read-only role="note" { (t(loc, "sup.read_only")) }
            @if let Some((ok, key)) = notice {
                div class=(if ok { "flash flash-ok" } else { "flash flash-error" }) role=(if ok { "status" } else { "alert" }) { (t(loc, key)) }
            }
            @if open {
                div.sup-view-moves { (moves(loc, csrf, &format!("/acompanhamento/atendimentos/{}", c.id), c.id, c.queue_id, c.agent_id, w.agents, w.queues)) }
            }
            div #messages .messages.sup-transcript data-conversation=(c.id) data-last=(last) data-live="1" {
                (message_list(loc, w.msgs, w.tz))
            }
        }
    }
}
