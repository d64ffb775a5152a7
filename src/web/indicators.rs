//! Indicadores (`/indicadores`, supervisors and admins): a period's figures
//! from the metric rollups, the chart and table by day, the conversations
//! behind a figure, and the CSV (with the Exportar relatórios permission,
//! audited). Agents get 404; a supervisor's filters naming another team's
//! team, queue or agent answer 404 too.

use warp::http::HeaderValue;
use warp::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use warp::reply::{Reply, Response};

use super::ctx::Ctx;
use crate::domain::audit;
use crate::domain::metrics::query::{self, Choices, Figures, Filters, Period};
use crate::domain::users::Permission;
use crate::domain::validate::Input;
use crate::error::{AppError, AppResult};
use crate::views;
use crate::views::indicators::{Better, Card, Value};

/// What the query string asks.
pub(super) struct Asked {
    pub(super) period: Period,
    pub(super) preset: String,
    pub(super) filters: Filters,
    pub(super) error: Option<&'static str>,
}

fn id(q: &Input, name: &str) -> AppResult<Option<i64>> {
    match q.get(name).trim() {
        "" => Ok(None),
        v => v.parse().map(Some).map_err(|_| AppError::NotFound),
    }
}

pub(super) fn asked(ctx: &Ctx, q: &Input) -> AppResult<Asked> {
    let tz = ctx.state.settings().tz();
    let today = jiff::Timestamp::from_second(ctx.state.now()).map_err(AppError::internal)?.to_zoned(tz).date();
    let fallback = Period::preset("7d", today).ok_or_else(|| AppError::internal("no period"))?;
    let preset = match q.get("periodo") {
        "" => "7d".to_string(),
        p => p.to_string(),
    };
    let (period, preset, error) = match Period::preset(&preset, today) {
        Some(p) => (p, preset, None),
        None if preset == "personalizado" => match Period::typed(q.get("de"), q.get("ate")) {
            Ok(p) => (p, preset, None),
            Err(AppError::BadRequest(k)) => (fallback, "7d".into(), Some(k)),
            Err(e) => return Err(e),
        },
        None => (fallback, "7d".into(), Some("ind.bad_date")),
    };
    let channel = match q.get("canal").trim() {
        "" => None,
        c => Some(c.to_string()),
    };
    let filters = Filters { team: id(q, "equipe")?, queue: id(q, "fila")?, agent: id(q, "agente")?, channel };
    Ok(Asked { period, preset, filters, error })
}

pub(super) fn query_string(a: &Asked) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("periodo", &a.preset);
    if a.preset == "personalizado" {
        s.append_pair("de", &views::indicators::iso(a.period.from));
        s.append_pair("ate", &views::indicators::iso(a.period.to));
    }
    for (k, v) in [("equipe", a.filters.team), ("fila", a.filters.queue), ("agente", a.filters.agent)] {
        if let Some(v) = v {
            s.append_pair(k, &v.to_string());
        }
    }
    if let Some(c) = &a.filters.channel {
        s.append_pair("canal", c);
    }
    s.finish()
}

/// The viewer's scope and the filters checked against it.
async fn scoped(ctx: &Ctx, q: &Input) -> AppResult<(Asked, Option<Vec<i64>>, Choices)> {
    let teams = query::scope(ctx.user()?)?;
    let a = asked(ctx, q)?;
    let t2 = teams.clone();
    let choices = ctx.state.db.read(move |c| query::choices(c, &t2)).await?;
    choices.allow(&a.filters)?;
    Ok((a, teams, choices))
}

fn cards(now: &Figures, before: &Figures, spread: Option<(i64, i64)>) -> Vec<Card> {
    let count = |f: &Figures, k: &str| Value::Count(Some(f.n(k) as f64));
    let mean = |f: &Figures, k: &str| Value::Secs(f.mean(k));
    let card = |label, help, now, before, better, kind| Card { label, help, now, before, better, kind };
    let mut v = vec![
        card(
            "ind.received",
            "ind.help.received",
            count(now, "received"),
            count(before, "received"),
            Better::Neutral,
            Some("received"),
        ),
        card(
            "ind.answered",
            "ind.help.answered",
            count(now, "first_response"),
            count(before, "first_response"),
            Better::Up,
            Some("first_response"),
        ),
        card(
            "ind.lost_queue",
            "ind.help.lost_queue",
            count(now, "lost_queue"),
            count(before, "lost_queue"),
            Better::Down,
            Some("lost_queue"),
        ),
        card(
            "ind.abandoned",
            "ind.help.abandoned",
            count(now, "abandoned"),
            count(before, "abandoned"),
            Better::Down,
            Some("abandoned"),
        ),
        card("ind.tme", "ind.help.tme", Value::Secs(now.tme()), Value::Secs(before.tme()), Better::Down, Some("wait")),
        card(
            "ind.first_response",
            "ind.help.first_response",
            mean(now, "first_response"),
            mean(before, "first_response"),
            Better::Down,
            Some("first_response"),
        ),
        card(
            "ind.first_response_assign",
            "ind.help.first_response_assign",
            mean(now, "first_response_assign"),
            mean(before, "first_response_assign"),
            Better::Down,
            Some("first_response_assign"),
        ),
        card("ind.reply", "ind.help.reply", mean(now, "reply"), mean(before, "reply"), Better::Down, Some("reply")),
        card("ind.tma", "ind.help.tma", mean(now, "handle"), mean(before, "handle"), Better::Down, Some("handle")),
    ];
    if let Some((p50, p90)) = spread {
        v.push(card(
            "ind.tma_p50",
            "ind.help.tma_spread",
            Value::Secs(Some(p50 as f64)),
            Value::Secs(None),
            Better::Down,
            None,
        ));
        v.push(card(
            "ind.tma_p90",
            "ind.help.tma_spread",
            Value::Secs(Some(p90 as f64)),
            Value::Secs(None),
            Better::Down,
            None,
        ));
    }
    v.extend([
        card(
            "ind.finished",
            "ind.help.finished",
            count(now, "finished"),
            count(before, "finished"),
            Better::Neutral,
            Some("finished"),
        ),
        card(
            "ind.resolution",
            "ind.help.resolution",
            Value::Share(now.rate("resolved", "scripted")),
            Value::Share(before.rate("resolved", "scripted")),
            Better::Up,
            Some("resolved"),
        ),
        card(
            "ind.reopen",
            "ind.help.reopen",
            Value::Share(now.rate("reopened_7d", "finished")),
            Value::Share(before.rate("reopened_7d", "finished")),
            Better::Down,
            Some("reopened_7d"),
        ),
    ]);
    v
}

/// GET /indicadores
pub async fn page(ctx: Ctx, q: Input) -> AppResult<Response> {
    let (a, teams, choices) = scoped(&ctx, &q).await?;
    let (p, f) = (a.period, a.filters.clone());
    let (now, before, days, spread, hours, reasons) = ctx
        .state
        .db
        .read(move |c| {
            Ok((
                query::figures(c, &teams, p, &f)?,
                query::figures(c, &teams, p.previous(), &f)?,
                query::by_day(c, &teams, p, &f)?,
                query::spread(c, &teams, p, &f, "handle")?,
                query::hours(c, &teams, p, &f, false)?,
                query::reasons(c, &teams, p, &f)?,
            ))
        })
        .await?;
    let mut heat = [[0i64; 24]; 7];
    for h in hours {
        if let Some(d) = query::date_of(h.day) {
            let wd = d.weekday().to_monday_zero_offset() as usize;
            if let Some(cell) = heat.get_mut(wd).and_then(|r| r.get_mut(h.hour.clamp(0, 23) as usize)) {
                *cell += h.received;
            }
        }
    }
    let may_export = ctx.user()?.can(Permission::ExportReports);
    let page = views::indicators::Page {
        period: a.period,
        preset: &a.preset,
        filters: &a.filters,
        choices: &choices,
        cards: cards(&now, &before, spread),
        days,
        query: query_string(&a),
        error: a.error,
        may_export,
        heat,
        reasons,
    };
    Ok(ctx.page(ctx.t("ind.title"), "/indicadores", views::indicators::page(ctx.loc, &page)))
}

/// GET /indicadores/conversas — the conversations behind a figure (one day
/// with `dia`).
pub async fn behind(ctx: Ctx, q: Input) -> AppResult<Response> {
    let (a, teams, _) = scoped(&ctx, &q).await?;
    let kind = q.get("tipo").to_string();
    let mut p = a.period;
    if let Some(d) = id(&q, "dia")? {
        if d < p.from || d > p.to {
            return Err(AppError::BadRequest("ind.bad_date"));
        }
        p = Period { from: d, to: d };
    }
    let slot = match (q.get("semana").trim(), q.get("hora").trim()) {
        ("", "") => None,
        (w, h) => match (w.parse::<i8>(), h.parse::<i64>()) {
            (Ok(weekday @ 0..=6), Ok(hour @ 0..=23)) => Some(query::Slot { weekday, hour }),
            _ => return Err(AppError::BadRequest("ind.bad_slot")),
        },
    };
    let (f, k) = (a.filters.clone(), kind.clone());
    let rows = ctx.state.db.read(move |c| query::behind(c, &teams, p, &f, &k, slot)).await?;
    let tz = ctx.state.settings().tz();
    let label = format!(
        "{} · {} – {}",
        ctx.t("ind.title"),
        views::indicators::day_label(p.from),
        views::indicators::day_label(p.to)
    );
    let body = views::indicators::behind(ctx.loc, &label, &rows, &tz, &query_string(&a));
    Ok(ctx.page(&label, "/indicadores", body))
}

/// GET /indicadores.csv — the table by day (UTF-8 with BOM, `;`, so
/// Brazilian Excel opens it with its accents), audited.
pub async fn csv(ctx: Ctx, q: Input) -> AppResult<Response> {
    let (a, teams, _) = scoped(&ctx, &q).await?;
    if !ctx.user()?.can(Permission::ExportReports) {
        return Err(AppError::Forbidden);
    }
    let (p, f) = (a.period, a.filters.clone());
    let days = ctx.state.db.read(move |c| query::by_day(c, &teams, p, &f)).await?;
    let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(Vec::new());
    let header = [
        ctx.t("ind.day"),
        ctx.t("ind.received"),
        ctx.t("ind.answered"),
        ctx.t("ind.lost_queue"),
        ctx.t("ind.abandoned"),
        ctx.t("ind.tme"),
        ctx.t("ind.first_response"),
        ctx.t("ind.tma"),
        ctx.t("ind.finished"),
        ctx.t("ind.resolution"),
    ];
    w.write_record(header).map_err(AppError::internal)?;
    let secs = |v: Option<f64>| v.map(|s| format!("{}", s.round() as i64)).unwrap_or_default();
    for (d, f) in &days {
        let row = [
            views::indicators::day_label(*d),
            f.n("received").to_string(),
            f.n("first_response").to_string(),
            f.n("lost_queue").to_string(),
            f.n("abandoned").to_string(),
            secs(f.tme()),
            secs(f.mean("first_response")),
            secs(f.mean("handle")),
            f.n("finished").to_string(),
            f.rate("resolved", "scripted").map(|r| format!("{:.1}", r * 100.0).replace('.', ",")).unwrap_or_default(),
        ];
        w.write_record(&row).map_err(AppError::internal)?;
    }
    let mut data = "\u{feff}".as_bytes().to_vec();
    data.extend(w.into_inner().map_err(AppError::internal)?);
    let actor = ctx.actor();
    let detail = format!("dias={}; {}", days.len(), query_string(&a));
    ctx.state.db.write(move |c| audit::record(c, &actor, "export.metrics", "indicadores", &detail)).await?;
    let mut r = data.into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    r.headers_mut().insert(CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"indicadores.csv\""));
    Ok(r)
}
