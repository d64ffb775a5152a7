//! Administration handlers: users, settings, audit log, backups.

use bytes::Bytes;
use warp::http::StatusCode;
use warp::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, HeaderValue};
use warp::reply::{Reply, Response};

use super::ctx::{Ctx, redirect};
use crate::db::backup;
use crate::domain::audit::{self, Filter};
use crate::domain::settings;
use crate::domain::users::{self, User};
use crate::domain::validate::{FormErrors, Input};
use crate::error::{AppError, AppResult};
use crate::views;
use crate::views::admin::UserForm;

/// Most rows in one audit CSV export.
pub const EXPORT_MAX: usize = 100_000;

/// The notice for an `?ok=` code after a redirect.
pub fn flash(q: &Input) -> Option<&'static str> {
    match q.get("ok") {
        "created" => Some("flash.created"),
        "saved" => Some("flash.saved"),
        "password" => Some("flash.password_reset"),
        "activated" => Some("flash.activated"),
        "deactivated" => Some("flash.deactivated"),
        _ => None,
    }
}

/// GET /admin
pub async fn index(ctx: Ctx) -> AppResult<Response> {
    ctx.admin()?;
    Ok(ctx.page(ctx.t("menu.admin"), "/admin", views::admin::index(ctx.loc)))
}

// ---- users ------------------------------------------------------------------

/// GET /admin/usuarios
pub async fn users_list(ctx: Ctx, q: Input) -> AppResult<Response> {
    ctx.admin()?;
    let rows = ctx.state.db.read(users::list).await?;
    Ok(ctx.page(ctx.t("reg.users"), "/admin", views::admin::users(ctx.loc, ctx.csrf(), &rows, flash(&q))))
}

fn user_input(u: &User) -> Input {
    let mut pairs = vec![
        ("name".to_string(), u.name.clone()),
        ("login".to_string(), u.login.clone()),
        ("role".to_string(), u.role.code().to_string()),
        ("access_group_id".to_string(), u.access_group_id.map(|g| g.to_string()).unwrap_or_default()),
    ];
    pairs.extend(u.team_ids.iter().map(|t| ("team_ids".to_string(), t.to_string())));
    Input::from_pairs(pairs)
}

struct UserPage<'a> {
    id: Option<i64>,
    active: bool,
    input: &'a Input,
    errs: &'a FormErrors,
    pw_errs: &'a FormErrors,
    flash: Option<&'static str>,
}

async fn render_user_form(ctx: &Ctx, p: UserPage<'_>) -> AppResult<Response> {
    let (groups, teams) = ctx.state.db.read(users::form_options).await?;
    let f = UserForm {
        id: p.id,
        active: p.active,
        input: p.input,
        groups: &groups,
        teams: &teams,
        errs: p.errs,
        pw_errs: p.pw_errs,
        flash: p.flash,
    };
    let status =
        if p.errs.is_empty() && p.pw_errs.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(ctx.page_status(status, ctx.t("reg.users"), "/admin", views::admin::user_form(ctx.loc, ctx.csrf(), &f)))
}

/// GET /admin/usuarios/novo
pub async fn user_new(ctx: Ctx) -> AppResult<Response> {
    ctx.admin()?;
    let none = FormErrors::default();
    render_user_form(
        &ctx,
        UserPage { id: None, active: true, input: &Input::default(), errs: &none, pw_errs: &none, flash: None },
    )
    .await
}

/// POST /admin/usuarios
pub async fn user_create(ctx: Ctx, input: Input) -> AppResult<Response> {
    ctx.admin()?;
    let none = FormErrors::default();
    let r = match users::parse_input(&input, true) {
        Ok(u) => users::create(&ctx.state.db, u, ctx.actor()).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => Ok(redirect("/admin/usuarios?ok=created")),
        Err(AppError::Invalid(errs)) => {
            render_user_form(
                &ctx,
                UserPage { id: None, active: true, input: &input, errs: &errs, pw_errs: &none, flash: None },
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn load_user(ctx: &Ctx, id: i64) -> AppResult<User> {
    ctx.state.db.read(move |c| users::get(c, id)).await?.ok_or(AppError::NotFound)
}

/// GET /admin/usuarios/{id}
pub async fn user_edit(ctx: Ctx, id: i64, q: Input) -> AppResult<Response> {
    ctx.admin()?;
    let u = load_user(&ctx, id).await?;
    let none = FormErrors::default();
    let input = user_input(&u);
    render_user_form(
        &ctx,
        UserPage { id: Some(id), active: u.active, input: &input, errs: &none, pw_errs: &none, flash: flash(&q) },
    )
    .await
}

/// POST /admin/usuarios/{id}
pub async fn user_update(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    ctx.admin()?;
    let current = load_user(&ctx, id).await?;
    let none = FormErrors::default();
    let r = match users::parse_input(&input, false) {
        Ok(u) => users::update(&ctx.state.db, id, u, ctx.actor()).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => Ok(redirect(&format!("/admin/usuarios/{id}?ok=saved"))),
        Err(AppError::Invalid(errs)) => {
            render_user_form(
                &ctx,
                UserPage {
                    id: Some(id),
                    active: current.active,
                    input: &input,
                    errs: &errs,
                    pw_errs: &none,
                    flash: None,
                },
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// POST /admin/usuarios/{id}/senha — an admin resets a user's password.
pub async fn user_password(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    ctx.admin()?;
    let current = load_user(&ctx, id).await?;
    match users::reset_password(&ctx.state, id, input.raw("password").to_string(), ctx.actor()).await {
        Ok(()) => Ok(redirect(&format!("/admin/usuarios/{id}?ok=password"))),
        Err(AppError::Invalid(errs)) => {
            let none = FormErrors::default();
            let form = user_input(&current);
            render_user_form(
                &ctx,
                UserPage {
                    id: Some(id),
                    active: current.active,
                    input: &form,
                    errs: &none,
                    pw_errs: &errs,
                    flash: None,
                },
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// POST /admin/usuarios/{id}/ativo — activate (active=1) or deactivate (active=0).
pub async fn user_active(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    ctx.admin()?;
    let active = parse_active(&input)?;
    users::set_active(&ctx.state, id, active, ctx.actor()).await?;
    Ok(redirect(&format!("/admin/usuarios?ok={}", if active { "activated" } else { "deactivated" })))
}

/// Reads the `active` field of an activate/deactivate form.
pub fn parse_active(input: &Input) -> AppResult<bool> {
    match input.get("active") {
        "1" => Ok(true),
        "0" => Ok(false),
        _ => Err(AppError::BadRequest("val.invalid_choice")),
    }
}

// ---- settings ---------------------------------------------------------------

/// GET /admin/configuracoes
pub async fn settings_page(ctx: Ctx, q: Input) -> AppResult<Response> {
    ctx.admin()?;
    let s = ctx.state.db.read(settings::load).await?;
    let body = views::admin::settings(ctx.loc, ctx.csrf(), &s, &FormErrors::default(), flash(&q), ctx.state.now());
    Ok(ctx.page(ctx.t("admin.settings"), "/admin", body))
}

/// POST /admin/configuracoes
pub async fn settings_save(ctx: Ctx, input: Input) -> AppResult<Response> {
    ctx.admin()?;
    match settings::parse(&input) {
        Ok(s) => {
            settings::save(&ctx.state.db, s, ctx.actor()).await?;
            ctx.state.reload_settings().await?;
            Ok(redirect("/admin/configuracoes?ok=saved"))
        }
        Err((errs, typed)) => {
            let body = views::admin::settings(ctx.loc, ctx.csrf(), &typed, &errs, None, ctx.state.now());
            Ok(ctx.page_status(StatusCode::UNPROCESSABLE_ENTITY, ctx.t("admin.settings"), "/admin", body))
        }
    }
}

// ---- audit ------------------------------------------------------------------

fn day_start(date: &str, tz: &jiff::tz::TimeZone, plus_days: i64) -> AppResult<Option<i64>> {
    if date.is_empty() {
        return Ok(None);
    }
    let d: jiff::civil::Date = date.parse().map_err(|_| AppError::BadRequest("val.date"))?;
    let d = d.checked_add(jiff::Span::new().days(plus_days)).map_err(|_| AppError::BadRequest("val.date"))?;
    let z = d.to_zoned(tz.clone()).map_err(|_| AppError::BadRequest("val.date"))?;
    Ok(Some(z.timestamp().as_second()))
}

fn audit_filter(ctx: &Ctx, q: &Input) -> AppResult<Filter> {
    let tz = ctx.state.settings().tz();
    let cap = |s: &str| s.chars().take(100).collect::<String>();
    Ok(Filter {
        action: cap(q.get("action")),
        actor: cap(q.get("actor")),
        text: cap(q.get("text")),
        from: day_start(q.get("from"), &tz, 0)?,
        to: day_start(q.get("to"), &tz, 1)?,
        before_id: match q.get("before") {
            "" => None,
            v => Some(v.parse().map_err(|_| AppError::BadRequest("val.not_a_number"))?),
        },
    })
}

fn audit_query_base(q: &Input) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for k in ["action", "actor", "text", "from", "to"] {
        if !q.get(k).is_empty() {
            s.append_pair(k, q.get(k));
        }
    }
    s.finish()
}

/// GET /admin/auditoria
pub async fn audit_page(ctx: Ctx, q: Input) -> AppResult<Response> {
    ctx.admin()?;
    let f = audit_filter(&ctx, &q)?;
    let f2 = f.clone();
    let (rows, more) = ctx.state.db.read(move |c| audit::query(c, &f2)).await?;
    let next = if more { rows.last().map(|e| e.id) } else { None };
    let tz = ctx.state.settings().tz();
    let qb = audit_query_base(&q);
    let page = views::admin::AuditPage {
        filter: &f,
        from: q.get("from"),
        to: q.get("to"),
        rows: &rows,
        next,
        query_base: &qb,
    };
    let body = views::admin::audit(ctx.loc, &tz, &page);
    Ok(ctx.page(ctx.t("admin.audit"), "/admin", body))
}

/// GET /admin/auditoria.csv — the filtered log as CSV (itself audited).
pub async fn audit_csv(ctx: Ctx, q: Input) -> AppResult<Response> {
    ctx.admin()?;
    let f = audit_filter(&ctx, &q)?;
    let f2 = f.clone();
    let (rows, _) = ctx.state.db.read(move |c| audit::query_limit(c, &f2, EXPORT_MAX)).await?;
    let tz = ctx.state.settings().tz();
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = ["data_hora", "usuario", "acao", "alvo", "detalhe", "ip"];
    w.write_record(header).map_err(AppError::internal)?;
    for e in &rows {
        let cells = [
            views::datetime(e.at, &tz),
            e.actor_name.clone(),
            e.action.clone(),
            e.target.clone(),
            e.detail.clone(),
            e.ip.clone(),
        ];
        // Cells starting with = + - @ would run as formulas in a spreadsheet.
        let safe: Vec<String> =
            cells.into_iter().map(|c| if c.starts_with(['=', '+', '-', '@']) { format!("'{c}") } else { c }).collect();
        w.write_record(&safe).map_err(AppError::internal)?;
    }
    let data = w.into_inner().map_err(AppError::internal)?;
    let actor = ctx.actor();
    let detail = format!("rows={}; filters={}", rows.len(), audit_query_base(&q));
    ctx.state.db.write(move |c| audit::record(c, &actor, "export.audit", "audit_log", &detail)).await?;
    let mut r = data.into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    r.headers_mut().insert(CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"auditoria.csv\""));
    Ok(r)
}

// ---- backups ----------------------------------------------------------------

/// GET /admin/backup
pub async fn backup_page(ctx: Ctx) -> AppResult<Response> {
    ctx.admin()?;
    let dir = ctx.state.config.backup_dir();
    let mut files: Vec<(String, u64)> = backup::list_backups(&dir)
        .into_iter()
        .map(|n| {
            let size = std::fs::metadata(dir.join(&n)).map(|m| m.len()).unwrap_or(0);
            (n, size)
        })
        .collect();
    files.sort_by(|a, b| b.0.cmp(&a.0));
    let needed = ctx.state.db.read(|c| Ok(backup::needed_for(c))).await?;
    let at = dir.ancestors().find(|a| a.exists()).unwrap_or(&dir);
    let space = views::admin::BackupSpace {
        free: crate::db::space::free_bytes(at),
        needed,
        refusal: ctx.state.health().backup_refusal(),
        tz: ctx.state.settings().tz(),
    };
    let c = &ctx.state.config;
    let folders = views::admin::BackupFolders { data: absolute(&c.data_dir), backups: absolute(&dir) };
    let body = views::admin::backup(ctx.loc, ctx.csrf(), &files, c.backup_retention, c.backup_time, &space, &folders);
    Ok(ctx.page(ctx.t("admin.backup"), "/admin", body))
}

/// A folder as the admin finds it on the machine: absolute, symlinks resolved
/// when it exists.
fn absolute(p: &std::path::Path) -> String {
    std::fs::canonicalize(p)
        .or_else(|_| std::path::absolute(p))
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// POST /admin/backup/baixar — streams a fresh consistent copy of the database.
pub async fn backup_download(ctx: Ctx, _input: Input) -> AppResult<Response> {
    ctx.admin()?;
    let dir = ctx.state.config.data_dir.clone();
    let tmp = dir.join(format!(".download-{}.db", crate::domain::auth::new_token()));
    let tmp2 = tmp.clone();
    let info = ctx
        .state
        .db
        .read(move |c| {
            // No room: say so (a 409 page), never a generic failure.
            let mb = |b: u64| format!("{:.1} MB", b as f64 / 1_048_576.0);
            backup::room_for(c, tmp2.parent().unwrap_or(&tmp2)).map_err(|no| {
                AppError::Rule("backup.no_room", vec![("needed", mb(no.needed)), ("free", mb(no.free))])
            })?;
            backup::backup_from(c, &tmp2).map_err(AppError::Internal)
        })
        .await?;
    // Open, then unlink: the open handle keeps the data until the stream ends,
    // and no copy is left behind if the client goes away.
    let file = std::fs::File::open(&tmp)?;
    let _ = std::fs::remove_file(&tmp);
    let stamp = jiff::Timestamp::from_second(ctx.state.now())
        .map(|t| t.to_zoned(ctx.state.settings().tz()).strftime("%Y%m%d-%H%M%S").to_string())
        .unwrap_or_default();
    let name = format!("atende-{stamp}.db");
    let actor = ctx.actor();
    let detail = format!("bytes={}", info.bytes);
    let n2 = name.clone();
    ctx.state.db.write(move |c| audit::record(c, &actor, "backup.download", &n2, &detail)).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut file = file;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tx.blocking_send(Ok(Bytes::copy_from_slice(&buf[..n]))).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    let mut r = warp::reply::stream(tokio_stream::wrappers::ReceiverStream::new(rx)).into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/vnd.sqlite3"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        r.headers_mut().insert(CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&info.bytes.to_string()) {
        r.headers_mut().insert(warp::http::header::CONTENT_LENGTH, v);
    }
    Ok(r)
}
