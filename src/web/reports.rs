//! Relatórios (`/relatorios/<name>`): the five reports with the period and
//! filters of the Indicadores, pages, and an audited CSV (UTF-8 with BOM,
//! `;`) for whoever has Exportar relatórios. Supervisors see their teams;
//! agents only their own Atendimentos; anything else answers 404.

use std::sync::Arc;

use warp::http::HeaderValue;
use warp::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use warp::reply::{Reply, Response};

use super::ctx::{Ctx, redirect};
use super::indicators::{Asked, asked, query_string};
use crate::app::AppState;
use crate::domain::audit;
use crate::domain::metrics::query::{self, Choices};
use crate::domain::reports::{self, Ask, Cell, Col, Cursor, Report, Viewer, conversations};
use crate::domain::users::{Permission, Role};
use crate::domain::validate::Input;
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::views;

/// GET /relatorios — the first report the viewer has.
pub async fn index(ctx: Ctx) -> AppResult<Response> {
    match ctx.user()?.role {
        Role::Agent => Ok(redirect("/relatorios/atendimentos")),
        _ => Ok(redirect("/relatorios/agentes")),
    }
}

/// GET /admin/relatorio-pausas — moved to the Pausas report.
pub async fn old_pauses(ctx: Ctx) -> AppResult<Response> {
    ctx.user()?;
    Ok(redirect("/relatorios/pausas"))
}

fn cursor(q: &Input) -> AppResult<Cursor> {
    let n = |k: &str| q.get(k).trim().parse::<i64>().map_err(|_| AppError::NotFound);
    Ok(match (q.get("antes").trim(), q.get("depois").trim()) {
        ("", "") => Cursor::First,
        (_, "") => Cursor::Before(n("antes")?),
        _ => Cursor::After(n("depois")?),
    })
}

struct Ready {
    viewer: Viewer,
    asked: Asked,
    choices: Choices,
}

async fn ready(ctx: &Ctx, name: &str, q: &Input) -> AppResult<Ready> {
    let user = ctx.user()?.clone();
    let viewer = Viewer::of(&user, name)?;
    let a = asked(ctx, q)?;
    let scope = match &viewer {
        Viewer::Own(_) => Some(user.team_ids.clone()),
        v => v.teams(),
    };
    let choices = ctx.state.db.read(move |c| query::choices(c, &scope)).await?;
    let choices = viewer.narrow(choices, &user);
    choices.allow(&a.filters)?;
    Ok(Ready { viewer, asked: a, choices })
}

fn ask(state: &AppState, r: &Ready, cursor: Cursor) -> Ask {
    Ask {
        viewer: r.viewer.clone(),
        choices: r.choices.clone(),
        tz: state.settings().tz(),
        period: r.asked.period,
        filters: r.asked.filters.clone(),
        cursor,
        now: state.now(),
    }
}

async fn build(state: &Arc<AppState>, r: &Ready, name: &str, cursor: Cursor) -> AppResult<(Report, Vec<i64>)> {
    let (a, name) = (ask(state, r, cursor), name.to_string());
    state
        .db
        .read(move |c| match name.as_str() {
            "agentes" => Ok((reports::agents::report(c, &a)?, vec![])),
            "atendimentos" => {
                let (rep, rows) = conversations::report(c, &a)?;
                Ok((rep, rows.iter().map(|r| r.contact_id).collect()))
            }
            "filas" => Ok((reports::queues::report(c, &a)?, vec![])),
            "pausas" => Ok((reports::pauses::report(c, &a)?, vec![])),
            _ => Ok((reports::reopens::report(c, &a)?, vec![])),
        })
        .await
}

/// GET /relatorios/{name} and /relatorios/{name}.csv
pub async fn page(ctx: Ctx, name: String, q: Input) -> AppResult<Response> {
    if let Some(base) = name.strip_suffix(".csv") {
        return csv(ctx, base, q).await;
    }
    let r = ready(&ctx, &name, &q).await?;
    let cursor = cursor(&q)?;
    let (report, contacts) = build(&ctx.state, &r, &name, cursor).await?;
    let user = ctx.user()?;
    let page = views::reports::Page {
        name: &name,
        shown: views::indicators::Shown {
            period: r.asked.period,
            preset: &r.asked.preset,
            filters: &r.asked.filters,
            choices: &r.choices,
        },
        report: &report,
        query: query_string(&r.asked),
        may_export: user.can(Permission::ExportReports),
        wide: r.viewer.own().is_none(),
        error: r.asked.error,
        may_start: user.can(Permission::OpenConversations),
        contacts,
    };
    let tz = ctx.state.settings().tz();
    let title = ctx.t(views::reports::title_key(&name));
    Ok(ctx.page(title, "/relatorios", views::reports::page(ctx.loc, &page, &tz)))
}

/// Rows the Atendimentos CSV reads at a time.
const CHUNK: usize = 2_000;

fn record(w: &mut csv::Writer<Vec<u8>>, cells: &[String]) -> AppResult<()> {
    w.write_record(cells).map_err(AppError::internal)
}

fn headings(loc: Locale, cols: &[Col], sample: Option<&Vec<Cell>>) -> Vec<String> {
    cols.iter()
        .enumerate()
        .map(|(i, c)| {
            let secs = sample.and_then(|r| r.get(i)).is_some_and(|c| matches!(c, Cell::Secs(_)));
            views::reports::plain_heading(loc, c, secs)
        })
        .collect()
}

fn csv_response(body: Response, name: &str) -> Response {
    let mut r = body;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"relatorio-{name}.csv\"")) {
        r.headers_mut().insert(CONTENT_DISPOSITION, v);
    }
    r
}

async fn csv(ctx: Ctx, name: &str, q: Input) -> AppResult<Response> {
    let r = ready(&ctx, name, &q).await?;
    if !ctx.user()?.can(Permission::ExportReports) {
        return Err(AppError::Forbidden);
    }
    let actor = ctx.actor();
    let detail = format!("{name}; {}", query_string(&r.asked));
    ctx.state.db.write(move |c| audit::record(c, &actor, "export.report", "relatorios", &detail)).await?;
    let loc = ctx.loc;
    if name == "atendimentos" {
        return Ok(csv_response(stream_conversations(ctx.state.clone(), loc, r).into_response(), name));
    }
    // The small reports: every table, one after another; a paged list is
    // read to its end.
    let tz = ctx.state.settings().tz();
    let (first, _) = build(&ctx.state, &r, name, Cursor::First).await?;
    let mut w = csv::WriterBuilder::new().delimiter(b';').flexible(true).from_writer(Vec::new());
    let paged =
        first.paging.older.is_some() || first.paging.newer.is_some() || name == "pausas" || name == "reaberturas";
    let last = first.tables.len().saturating_sub(1);
    for (i, table) in first.tables.iter().enumerate() {
        if i > 0 {
            record(&mut w, &[String::new()])?;
        }
        record(&mut w, &[views::reports::plain(loc, &Cell::Key(table.caption), &tz)])?;
        record(&mut w, &headings(loc, &table.columns, table.rows.first()))?;
        for row in &table.rows {
            record(&mut w, &row.iter().map(|c| views::reports::plain(loc, c, &tz)).collect::<Vec<_>>())?;
        }
        if i == last && paged {
            let mut older = first.paging.older;
            let mut guard = 0;
            while let Some(id) = older {
                guard += 1;
                if guard > 10_000 {
                    break;
                }
                let (next, _) = build(&ctx.state, &r, name, Cursor::Before(id)).await?;
                if let Some(t) = next.tables.get(last) {
                    for row in &t.rows {
                        record(&mut w, &row.iter().map(|c| views::reports::plain(loc, c, &tz)).collect::<Vec<_>>())?;
                    }
                }
                older = next.paging.older;
            }
        }
        if let Some(tot) = &table.totals {
            record(&mut w, &tot.iter().map(|c| views::reports::plain(loc, c, &tz)).collect::<Vec<_>>())?;
        }
    }
    let mut data = "\u{feff}".as_bytes().to_vec();
    data.extend(w.into_inner().map_err(AppError::internal)?);
    Ok(csv_response(data.into_response(), name))
}

/// The Atendimentos CSV, streamed: a chunk of rows at a time from its own
/// read, handed on through a small channel, so memory stays flat at any
/// size and a client that goes away stops the reading.
fn stream_conversations(state: Arc<AppState>, loc: Locale, r: Ready) -> impl Reply {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    tokio::spawn(async move {
        let base = ask(&state, &r, Cursor::First);
        let tz = base.tz.clone();
        let mut head = csv::WriterBuilder::new().delimiter(b';').from_writer("\u{feff}".as_bytes().to_vec());
        let sample = conversations::cells(&conversations::Row {
            id: 0,
            contact_id: 0,
            contact: String::new(),
            address: String::new(),
            channel: String::new(),
            queue: String::new(),
            team: String::new(),
            agents: String::new(),
            created_at: 0,
            wait_secs: 0,
            first_response: None,
            duration: 0,
            status: String::new(),
            reason: None,
            resolved: None,
            tags: String::new(),
        });
        let _ = head.write_record(headings(loc, &conversations::columns(), Some(&sample)));
        let Ok(first) = head.into_inner() else { return };
        if tx.send(Ok(first)).await.is_err() {
            return;
        }
        let mut cursor = Cursor::First;
        loop {
            let a = base.clone();
            let rows = match state.db.read(move |c| conversations::rows(c, &a, cursor, CHUNK)).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, "report export stopped");
                    let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
                    return;
                }
            };
            let Some(last) = rows.last().map(|r| r.id) else { return };
            let mut w = csv::WriterBuilder::new().delimiter(b';').has_headers(false).from_writer(Vec::new());
            for row in &rows {
                let cells: Vec<String> =
                    conversations::cells(row).iter().map(|c| views::reports::plain(loc, c, &tz)).collect();
                if w.write_record(&cells).is_err() {
                    return;
                }
            }
            let Ok(chunk) = w.into_inner() else { return };
            if tx.send(Ok(chunk)).await.is_err() {
                return;
            }
            if rows.len() < CHUNK {
                return;
            }
            cursor = Cursor::Before(last);
        }
    });
    warp::reply::stream(tokio_stream::wrappers::ReceiverStream::new(rx))
}
