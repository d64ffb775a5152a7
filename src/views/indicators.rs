//! Indicadores: a period's figures with their definitions, the change from
//! the period before, a server-rendered chart by day (each bar opens the
//! conversations behind it), its table and a CSV link.

use maud::{Markup, html};

use crate::domain::metrics::query::{Behind, Choices, Figures, Filters, Period, date_of};
use crate::i18n::{Locale, t};

/// Whether more of a figure is better, worse, or neither.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// More is better (answered, resolution).
    Up,
    /// Less is better (waits, abandonment).
    Down,
    /// Volume: no colour.
    Neutral,
}

/// How a figure reads.
#[derive(Clone, Copy)]
pub enum Value {
    /// A count.
    Count(Option<f64>),
    /// Seconds.
    Secs(Option<f64>),
    /// A share (0..1).
    Share(Option<f64>),
}

/// One figure on the page: label and definition keys, value now and in the
/// period before, the fact kind behind it (for the drill-down).
pub struct Card {
    /// Label key.
    pub label: &'static str,
    /// Definition key (the tooltip).
    pub help: &'static str,
    /// Now.
    pub now: Value,
    /// The period before.
    pub before: Value,
    /// Which way is better.
    pub better: Better,
    /// The fact kind listing its conversations, if any.
    pub kind: Option<&'static str>,
}

/// Durations as people read them: 45 s, 3 min 05 s, 1 h 02 min.
pub fn dur(secs: f64) -> String {
    let s = secs.round() as i64;
    match s {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {:02} s", s / 60, s % 60),
        s => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

fn show(v: Value) -> String {
    match v {
        Value::Count(Some(n)) => format!("{}", n.round() as i64),
        Value::Secs(Some(s)) => dur(s),
        Value::Share(Some(r)) => format!("{:.1}%", r * 100.0).replace('.', ","),
        _ => "—".into(),
    }
}

fn raw(v: Value) -> Option<f64> {
    match v {
        Value::Count(x) | Value::Secs(x) | Value::Share(x) => x,
    }
}

fn delta(c: &Card) -> Option<(String, &'static str)> {
    let (now, before) = (raw(c.now)?, raw(c.before)?);
    if before == 0.0 && now == 0.0 {
        return None;
    }
    let diff = now - before;
    let text = match c.now {
        Value::Share(_) => format!("{:+.1} p.p.", diff * 100.0).replace('.', ","),
        _ if before == 0.0 => "+∞".to_string(),
        _ => format!("{:+.0}%", diff / before * 100.0),
    };
    let class = match (c.better, diff.partial_cmp(&0.0)) {
        (_, Some(std::cmp::Ordering::Equal)) | (Better::Neutral, _) | (_, None) => "delta",
        (Better::Up, Some(std::cmp::Ordering::Greater)) | (Better::Down, Some(std::cmp::Ordering::Less)) => {
            "delta delta-good"
        }
        _ => "delta delta-bad",
    };
    Some((text, class))
}

/// A yyyymmdd as dd/mm/aaaa.
pub fn day_label(day: i64) -> String {
    format!("{:02}/{:02}/{}", day % 100, (day / 100) % 100, day / 10_000)
}

/// A yyyymmdd as YYYY-MM-DD (date inputs, links).
pub fn iso(day: i64) -> String {
    date_of(day).map(|d| d.to_string()).unwrap_or_default()
}

/// What the page shows.
pub struct Page<'a> {
    /// The period shown.
    pub period: Period,
    /// Preset name, or "personalizado".
    pub preset: &'a str,
    /// Filters applied.
    pub filters: &'a Filters,
    /// What they may name.
    pub choices: &'a Choices,
    /// The figures.
    pub cards: Vec<Card>,
    /// Received and answered by day.
    pub days: Vec<(i64, Figures)>,
    /// The query string of these filters (for links).
    pub query: String,
    /// A refusal of what was typed (the figures are of the default period).
    pub error: Option<&'static str>,
    /// Whether the viewer may export.
    pub may_export: bool,
    /// Received per weekday (0 Monday) and local hour.
    pub heat: [[i64; 24]; 7],
    /// Finished per closing reason, most first.
    pub reasons: Vec<(String, i64)>,
}

/// The heat map: received per weekday and hour, each cell a link to the
/// conversations behind it.
fn heat(loc: Locale, p: &Page) -> Markup {
    let max = p.heat.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    html! {
        figure.ind-heat {
            figcaption { (t(loc, "ind.heat")) }
            div.heat-wrap {
                table.heat #ind-heat {
                    thead { tr { th {} @for h in 0..24 { th scope="col" { (format!("{h:02}")) } } } }
                    tbody {
                        @for (wd, row) in p.heat.iter().enumerate() {
                            @let day = t(loc, WEEKDAYS[wd]);
                            tr {
                                th scope="row" { (day) }
                                @for (h, n) in row.iter().enumerate() {
                                    @let level = ((*n as f64 / max) * 4.0).ceil() as i64;
                                    td class=(format!("heat-{level}")) title=(format!("{day} {h:02}h: {n}")) {
                                        @if *n > 0 {
                                            a href=(format!("/indicadores/conversas?{}&tipo=received&semana={wd}&hora={h}", p.query)) { (n) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            small.muted { (t(loc, "ind.heat_note")) }
        }
    }
}

const WEEKDAYS: [&str; 7] = ["ind.wd.0", "ind.wd.1", "ind.wd.2", "ind.wd.3", "ind.wd.4", "ind.wd.5", "ind.wd.6"];

/// The closing reasons of the period with their share.
fn reasons(loc: Locale, p: &Page) -> Markup {
    let total: i64 = p.reasons.iter().map(|(_, n)| n).sum();
    html! {
        h2 { (t(loc, "ind.reasons")) }
        @if p.reasons.is_empty() { p.muted #ind-no-reasons { (t(loc, "ind.no_reasons")) } }
        @else {
            div.table-wrap {
                table.table.stack #ind-reasons {
                    thead { tr { th { (t(loc, "ind.reason")) } th { (t(loc, "ind.finished")) } th { (t(loc, "ind.share")) } } }
                    tbody {
                        @for (name, n) in &p.reasons {
                            tr {
                                td data-label=(t(loc, "ind.reason")) { (name) }
                                td data-label=(t(loc, "ind.finished")) { (n) }
                                td data-label=(t(loc, "ind.share")) { (format!("{:.1}%", *n as f64 / total.max(1) as f64 * 100.0).replace('.', ",")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn filters_form(loc: Locale, p: &Page) -> Markup {
    filter_form(
        loc,
        "/indicadores",
        &Shown { period: p.period, preset: p.preset, filters: p.filters, choices: p.choices },
        true,
    )
}

/// The period and filters a page shows (the Indicadores and the reports).
pub struct Shown<'a> {
    /// The period shown.
    pub period: Period,
    /// Preset name, or "personalizado".
    pub preset: &'a str,
    /// Filters applied.
    pub filters: &'a Filters,
    /// What they may name.
    pub choices: &'a Choices,
}

/// The period and filter form, sent to `action`; `teams_agents` false
/// leaves out the team and agent choices (an agent's own report).
pub fn filter_form(loc: Locale, action: &str, p: &Shown, teams_agents: bool) -> Markup {
    let sel = |cur: Option<i64>, id: i64| cur == Some(id);
    html! {
        form.form.ind-filters method="get" action=(action) {
            label { (t(loc, "ind.period")) " "
                select name="periodo" {
                    @for (v, k) in [("hoje", "ind.p.today"), ("7d", "ind.p.7d"), ("30d", "ind.p.30d"), ("mes", "ind.p.month"), ("personalizado", "ind.p.custom")] {
                        option value=(v) selected[p.preset == v] { (t(loc, k)) }
                    }
                }
            }
            label { (t(loc, "ind.from")) " " input type="date" name="de" value=(iso(p.period.from)); }
            label { (t(loc, "ind.to")) " " input type="date" name="ate" value=(iso(p.period.to)); }
            @if teams_agents {
                label { (t(loc, "ind.team")) " "
                    select name="equipe" { option value="" { (t(loc, "ind.all")) }
                        @for (id, n) in &p.choices.teams { option value=(id) selected[sel(p.filters.team, *id)] { (n) } } }
                }
            }
            label { (t(loc, "ind.queue")) " "
                select name="fila" { option value="" { (t(loc, "ind.all")) }
                    @for (id, n) in &p.choices.queues { option value=(id) selected[sel(p.filters.queue, *id)] { (n) } } }
            }
            @if teams_agents {
                label { (t(loc, "ind.agent")) " "
                    select name="agente" { option value="" { (t(loc, "ind.all")) }
                        @for (id, n) in &p.choices.agents { option value=(id) selected[sel(p.filters.agent, *id)] { (n) } } }
                }
            }
            label { (t(loc, "ind.channel")) " "
                select name="canal" { option value="" { (t(loc, "ind.all")) }
                    @for (v, k) in [("webchat", "channel.webchat"), ("whatsapp", "channel.whatsapp"), ("email", "channel.email")] {
                        option value=(v) selected[p.filters.channel.as_deref() == Some(v)] { (t(loc, k)) }
                    }
                }
            }
            button.btn type="submit" { (t(loc, "ind.apply")) }
        }
    }
}

/// The bars: received per day, answered inside; each bar opens the
/// conversations received that day.
fn chart(loc: Locale, p: &Page) -> Markup {
    let days = p.period.days();
    let by: std::collections::HashMap<i64, &Figures> = p.days.iter().map(|(d, f)| (*d, f)).collect();
    let max = p.days.iter().map(|(_, f)| f.n("received")).max().unwrap_or(0).max(1) as f64;
    let (w, h, pad) = (((days.len() as f64) * 24.0).max(240.0), 160.0, 20.0);
    let bw = (w / days.len().max(1) as f64) * 0.7;
    let step = (days.len() / 10).max(1);
    html! {
        figure.ind-chart {
            figcaption { (t(loc, "ind.chart")) }
            svg role="img" aria-label=(t(loc, "ind.chart")) viewBox=(format!("0 0 {w} {}", h + pad)) preserveAspectRatio="none" {
                @for (i, d) in days.iter().enumerate() {
                    @let f = by.get(d);
                    @let got = f.map(|f| f.n("received")).unwrap_or(0);
                    @let ans = f.map(|f| f.n("first_response")).unwrap_or(0);
                    @let x = i as f64 * (w / days.len() as f64);
                    @let bh = got as f64 / max * h;
                    @let ah = (ans.min(got)) as f64 / max * h;
                    a href=(format!("/indicadores/conversas?{}&dia={d}&tipo=received", p.query)) {
                        title { (day_label(*d)) ": " (got) " " (t(loc, "ind.received")) ", " (ans) " " (t(loc, "ind.answered")) }
                        rect.bar x=(format!("{x:.1}")) y=(format!("{:.1}", h - bh)) width=(format!("{bw:.1}")) height=(format!("{bh:.1}")) {}
                        rect.bar-in x=(format!("{x:.1}")) y=(format!("{:.1}", h - ah)) width=(format!("{bw:.1}")) height=(format!("{ah:.1}")) {}
                    }
                    @if i % step == 0 {
                        text x=(format!("{x:.1}")) y=(format!("{}", h + pad - 4.0)) font-size="10" { (format!("{:02}/{:02}", d % 100, (d / 100) % 100)) }
                    }
                }
            }
        }
    }
}

/// The Indicadores page.
pub fn page(loc: Locale, p: &Page) -> Markup {
    html! {
        h1 { (t(loc, "ind.title")) }
        (filters_form(loc, p))
        @if let Some(e) = p.error { p.field-error role="alert" #ind-error { (t(loc, e)) } }
        p.muted #ind-period {
            (day_label(p.period.from)) " – " (day_label(p.period.to)) " · " (t(loc, "ind.compared"))
        }
        ul.ind-cards {
            @for c in &p.cards {
                li.ind-card {
                    span.ind-label title=(t(loc, c.help)) { (t(loc, c.label)) " " abbr.ind-help title=(t(loc, c.help)) { "ⓘ" } }
                    @match c.kind {
                        Some(k) => a.ind-value href=(format!("/indicadores/conversas?{}&tipo={k}", p.query)) { (show(c.now)) },
                        None => span.ind-value { (show(c.now)) },
                    }
                    @if let Some((text, class)) = delta(c) { span class=(class) { (text) } }
                    small.muted.ind-def { (t(loc, c.help)) }
                }
            }
        }
        (chart(loc, p))
        div.table-wrap {
            table.table.stack #ind-days {
                thead { tr {
                    th { (t(loc, "ind.day")) } th { (t(loc, "ind.received")) } th { (t(loc, "ind.answered")) }
                    th { (t(loc, "ind.lost_queue")) } th { (t(loc, "ind.abandoned")) } th { (t(loc, "ind.tme")) } th { (t(loc, "ind.tma")) }
                } }
                tbody {
                    @for (d, f) in &p.days {
                        tr {
                            td data-label=(t(loc, "ind.day")) { a href=(format!("/indicadores/conversas?{}&dia={d}&tipo=received", p.query)) { (day_label(*d)) } }
                            td data-label=(t(loc, "ind.received")) { (f.n("received")) }
                            td data-label=(t(loc, "ind.answered")) { (f.n("first_response")) }
                            td data-label=(t(loc, "ind.lost_queue")) { (f.n("lost_queue")) }
                            td data-label=(t(loc, "ind.abandoned")) { (f.n("abandoned")) }
                            td data-label=(t(loc, "ind.tme")) { (f.tme().map(dur).unwrap_or_else(|| "—".into())) }
                            td data-label=(t(loc, "ind.tma")) { (f.mean("handle").map(dur).unwrap_or_else(|| "—".into())) }
                        }
                    }
                }
            }
        }
        (heat(loc, p))
        (reasons(loc, p))
        @if p.may_export {
            p { a.btn #ind-csv href=(format!("/indicadores.csv?{}", p.query)) { (t(loc, "ind.csv")) } }
        }
    }
}

/// The conversations behind a figure.
pub fn behind(loc: Locale, label: &str, rows: &[Behind], tz: &jiff::tz::TimeZone, back: &str) -> Markup {
    html! {
        p { a href=(format!("/indicadores?{back}")) { "← " (t(loc, "ind.title")) } }
        h1 { (label) }
        @if rows.is_empty() { p.muted { (t(loc, "ind.none")) } }
        @else {
            div.table-wrap {
                table.table.stack #ind-behind {
                    thead { tr { th { "#" } th { (t(loc, "ind.when")) } th { (t(loc, "ind.contact")) } th { (t(loc, "ind.queue")) } th { (t(loc, "ind.agent")) } th { (t(loc, "ind.duration")) } } }
                    tbody {
                        @for r in rows {
                            tr {
                                td data-label="#" { a href=(format!("/atendimentos/{}", r.id)) { (r.id) } }
                                td data-label=(t(loc, "ind.when")) { (super::datetime(r.at, tz)) }
                                td data-label=(t(loc, "ind.contact")) { (r.contact) }
                                td data-label=(t(loc, "ind.queue")) { (r.queue) }
                                td data-label=(t(loc, "ind.agent")) { (r.agent) }
                                td data-label=(t(loc, "ind.duration")) { @if r.secs > 0 { (dur(r.secs as f64)) } @else { "—" } }
                            }
                        }
                    }
                }
            }
        }
    }
}
