//! Relatórios: the tabs of the five reports, the period and filter form,
//! each report's tables (stacked rows at phone width), the pages and the
//! CSV link; and the same tables as CSV text.

use maud::{Markup, html};

use super::indicators::{Shown, dur, filter_form};
use crate::domain::reports::{Cell, Col, Paging, REPORTS, Report};
use crate::i18n::{Locale, t};

/// What the page shows.
pub struct Page<'a> {
    /// Which report.
    pub name: &'a str,
    /// Period and filters.
    pub shown: Shown<'a>,
    /// The report.
    pub report: &'a Report,
    /// The query string of the filters (links keep it).
    pub query: String,
    /// Whether the viewer may export.
    pub may_export: bool,
    /// Whether the viewer chooses teams and agents (not an agent).
    pub wide: bool,
    /// A refusal of what was typed.
    pub error: Option<&'static str>,
    /// Whether a row may open a new conversation with its contact.
    pub may_start: bool,
    /// Contact of each row of the Atendimentos report, in order.
    pub contacts: Vec<i64>,
}

/// The catalog key of a report's name.
pub fn title_key(name: &str) -> &'static str {
    match name {
        "agentes" => "rep.agentes",
        "atendimentos" => "rep.atendimentos",
        "filas" => "rep.filas",
        "pausas" => "rep.pausas",
        _ => "rep.reaberturas",
    }
}

fn heading(loc: Locale, c: &Col) -> String {
    match c {
        Col::Key(k) => t(loc, k).to_string(),
        Col::Text(s) => s.clone(),
    }
}

/// A cell as the page shows it.
pub fn show(loc: Locale, c: &Cell, tz: &jiff::tz::TimeZone) -> Markup {
    html! {
        @match c {
            Cell::Text(s) => (s),
            Cell::Key(k) => (t(loc, k)),
            Cell::Count(n) => (n),
            Cell::Secs(Some(s)) => (dur(*s)),
            Cell::Share(Some(r)) => (format!("{:.1}%", r * 100.0).replace('.', ",")),
            Cell::Time(Some(ts)) => (super::datetime(*ts, tz)),
            Cell::Secs(None) | Cell::Share(None) | Cell::Time(None) | Cell::YesNo(None) => "—",
            Cell::YesNo(Some(true)) => (t(loc, "rep.yes")),
            Cell::YesNo(Some(false)) => (t(loc, "rep.no")),
            Cell::Link(text, href) => a href=(href) { (text) },
            Cell::Durations(v) => {
                @for (i, (label, secs)) in v.iter().enumerate() {
                    @if i > 0 { " · " }
                    (label) ": " (dur(*secs as f64))
                }
            }
        }
    }
}

/// A cell as the CSV carries it: counts and seconds as plain numbers,
/// shares as percentages with a decimal comma, instants in the business
/// time zone.
pub fn plain(loc: Locale, c: &Cell, tz: &jiff::tz::TimeZone) -> String {
    match c {
        Cell::Text(s) => s.clone(),
        Cell::Key(k) => t(loc, k).to_string(),
        Cell::Count(n) => n.to_string(),
        Cell::Secs(Some(s)) => format!("{}", s.round() as i64),
        Cell::Share(Some(r)) => format!("{:.1}", r * 100.0).replace('.', ","),
        Cell::Time(Some(ts)) => super::datetime(*ts, tz),
        Cell::Secs(None) | Cell::Share(None) | Cell::Time(None) | Cell::YesNo(None) => String::new(),
        Cell::YesNo(Some(true)) => t(loc, "rep.yes").to_string(),
        Cell::YesNo(Some(false)) => t(loc, "rep.no").to_string(),
        Cell::Link(text, _) => text.trim_start_matches('#').to_string(),
        Cell::Durations(v) => v.iter().map(|(l, s)| format!("{l}: {s}")).collect::<Vec<_>>().join(" | "),
    }
}

/// A heading as the CSV carries it (durations say they are in seconds).
pub fn plain_heading(loc: Locale, c: &Col, secs: bool) -> String {
    let h = heading(loc, c);
    if secs { format!("{h} (s)") } else { h }
}

fn tabs(loc: Locale, current: &str, wide: bool, query: &str) -> Markup {
    html! {
        nav.rep-tabs aria-label=(t(loc, "rep.title")) {
            @for r in REPORTS.iter().filter(|r| wide || **r == "atendimentos") {
                a.rep-tab.active[*r == current] href=(format!("/relatorios/{r}?{query}")) aria-current=[(*r == current).then_some("page")] {
                    (t(loc, title_key(r)))
                }
            }
        }
    }
}

fn pager(loc: Locale, name: &str, query: &str, paging: Paging) -> Markup {
    html! {
        @if paging.older.is_some() || paging.newer.is_some() {
            nav.pager #rep-pager {
                @if let Some(id) = paging.newer {
                    a.btn href=(format!("/relatorios/{name}?{query}&depois={id}")) rel="prev" { "← " (t(loc, "rep.newer")) }
                }
                @if let Some(id) = paging.older {
                    a.btn href=(format!("/relatorios/{name}?{query}&antes={id}")) rel="next" { (t(loc, "rep.older")) " →" }
                }
            }
        }
    }
}

/// The report page.
pub fn page(loc: Locale, p: &Page, tz: &jiff::tz::TimeZone) -> Markup {
    let action = format!("/relatorios/{}", p.name);
    let last = p.report.tables.len().saturating_sub(1);
    html! {
        h1 { (t(loc, "rep.title")) }
        (tabs(loc, p.name, p.wide, &p.query))
        (filter_form(loc, &action, &p.shown, p.wide))
        @if let Some(e) = p.error { p.field-error role="alert" #rep-error { (t(loc, e)) } }
        p.muted #rep-period {
            (super::indicators::day_label(p.shown.period.from)) " – " (super::indicators::day_label(p.shown.period.to))
        }
        @for (i, table) in p.report.tables.iter().enumerate() {
            @let heads: Vec<String> = table.columns.iter().map(|c| heading(loc, c)).collect();
            h2 { (t(loc, table.caption)) }
            @if table.rows.is_empty() { p.muted.rep-empty { (t(loc, "rep.none")) } }
            @else {
                div.table-wrap {
                    table.table.stack.rep-table id=(format!("rep-{}-{i}", p.name)) {
                        thead { tr {
                            @for h in &heads { th scope="col" { (h) } }
                            @if i == last && p.may_start && !p.contacts.is_empty() { th { span.sr-only { (t(loc, "rep.c.start_new")) } } }
                        } }
                        tbody {
                            @for (r, row) in table.rows.iter().enumerate() {
                                tr {
                                    @for (j, c) in row.iter().enumerate() {
                                        td data-label=(heads.get(j).cloned().unwrap_or_default()) { (show(loc, c, tz)) }
                                    }
                                    @if i == last && p.may_start {
                                        @if let Some(contact) = p.contacts.get(r) {
                                            td { a.btn.btn-sm href=(format!("/atendimentos/novo?contato={contact}")) { (t(loc, "rep.c.start_new")) } }
                                        }
                                    }
                                }
                            }
                        }
                        @if let Some(tot) = &table.totals {
                            tfoot { tr.rep-totals {
                                @for (j, c) in tot.iter().enumerate() {
                                    td data-label=(heads.get(j).cloned().unwrap_or_default()) { (show(loc, c, tz)) }
                                }
                            } }
                        }
                    }
                }
            }
        }
        (pager(loc, p.name, &p.query, p.report.paging))
        @if let Some(n) = p.report.note { p.muted.rep-note { (t(loc, n)) } }
        @if p.may_export {
            p { a.btn #rep-csv href=(format!("/relatorios/{}.csv?{}", p.name, p.query)) { (t(loc, "ind.csv")) } }
        }
    }
}
