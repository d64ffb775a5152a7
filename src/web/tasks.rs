//! Tarefas, notifications, the top bar fragment, pauses, supervisors'
//! presence actions, the scheduler page and the pause report.

use warp::reply::Response;

use super::ctx::{Ctx, html, redirect};
use crate::domain::notifications;
use crate::domain::pauses;
use crate::domain::tasks::{self, Filter};
use crate::domain::validate::{FormErrors, Input};
use crate::domain::{conversations as conv, users::User};
use crate::error::{AppError, AppResult};
use crate::views;
use crate::views::tasks::{FormView, ListView};

/// (id, name) pairs for selects.
type Named = Vec<(i64, String)>;
/// Teams, agents by (login, name), agents by (id, name).
type Choices = (Named, Vec<(String, String)>, Named);

/// Active teams, agents as (login, name) for the search field, and agents as (id, name).
fn teams_and_agents(c: &rusqlite::Connection) -> AppResult<Choices> {
    let teams = c
        .prepare_cached("SELECT id, name FROM teams WHERE active = 1 ORDER BY name COLLATE NOCASE")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut stmt =
        c.prepare_cached("SELECT id, login, name FROM users WHERE active = 1 ORDER BY name COLLATE NOCASE")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
    let (mut logins, mut ids) = (Vec::new(), Vec::new());
    for row in rows {
        let (id, login, name) = row?;
        logins.push((login, name.clone()));
        ids.push((id, name));
    }
    Ok((teams, logins, ids))
}

fn date_start(s: &str, tz: &jiff::tz::TimeZone, plus_days: i64) -> Option<i64> {
    let d: jiff::civil::Date = s.parse().ok()?;
    let d = d.checked_add(jiff::Span::new().days(plus_days)).ok()?;
    Some(d.to_zoned(tz.clone()).ok()?.timestamp().as_second())
}

/// GET /tarefas — my tasks (or all, for those who see all), filtered, a page at a time.
pub async fn list(ctx: Ctx, q: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let tz = ctx.state.settings().tz();
    let id = |k: &str| q.get(k).parse::<i64>().ok().filter(|n| *n > 0);
    let after = match q.get("apos") {
        "" => None,
        s => Some(conv::parse_cursor(s).ok_or(AppError::BadRequest("list.bad_cursor"))?),
    };
    let kind = Some(q.get("kind").to_string()).filter(|k| tasks::KINDS.contains(&k.as_str()));
    let f = Filter {
        status: q.get("status").to_string(),
        kind,
        assignee: id("assignee"),
        team: id("team"),
        from: date_start(q.get("from"), &tz, 0),
        to: date_start(q.get("to"), &tz, 1),
        after,
    };
    let all = tasks::sees_all(&user);
    let u2 = user.clone();
    let (rows, next, teams, agents) = ctx
        .state
        .db
        .read(move |c| {
            let (rows, next) = tasks::list(c, &u2, &f)?;
            let (teams, _, agents) = teams_and_agents(c)?;
            Ok((rows, next, teams, agents))
        })
        .await?;
    let next = next.map(|cur| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for k in ["status", "kind", "assignee", "team", "from", "to"] {
            if !q.get(k).is_empty() {
                s.append_pair(k, q.get(k));
            }
        }
        s.append_pair("apos", &conv::cursor_param(cur));
        s.finish()
    });
    let agents = if all { agents } else { vec![] };
    let v = ListView { tasks: &rows, next, q: &q, teams: &teams, agents: &agents };
    let body = views::tasks::list(ctx.loc, ctx.csrf(), &v, user.id, ctx.state.now(), &tz);
    Ok(ctx.page(ctx.t("menu.tasks"), "/tarefas", body))
}

/// What a new task is created from: a conversation or a contact.
#[derive(Clone, Copy, Default)]
struct Origin {
    conversation: Option<i64>,
    contact: Option<i64>,
}

impl Origin {
    fn of(q: &Input) -> Origin {
        let id = |a: &str, b: &str| q.get(a).parse().ok().or_else(|| q.get(b).parse().ok()).filter(|n: &i64| *n > 0);
        let conversation = id("conversa", "conversation_id");
        Origin { conversation, contact: if conversation.is_some() { None } else { id("contato", "contact_id") } }
    }

    /// Where the form's Cancel and the saved task lead back to.
    fn back(self) -> Option<String> {
        match (self.conversation, self.contact) {
            (Some(c), _) => Some(format!("/atendimentos/{c}")),
            (None, Some(k)) => Some(format!("/contatos/{k}")),
            _ => None,
        }
    }
}

async fn form_page(
    ctx: &Ctx,
    title: &'static str,
    action: String,
    values: &Input,
    errs: &FormErrors,
    origin: Origin,
) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let (teams, logins, conv_name, contact_name, email_templates) = ctx
        .state
        .db
        .read(move |c| {
            let (teams, logins, _) = teams_and_agents(c)?;
            let templates = crate::domain::email::templates::choices(c)?;
            let name = match origin.conversation {
                Some(id) => Some((id, conv::visible(c, &user, id)?.contact_name)),
                None => None,
            };
            let contact = match origin.contact {
                Some(id) => Some((id, crate::domain::contacts::visible(c, &user, id)?.label())),
                None => None,
            };
            Ok((teams, logins, name, contact, templates))
        })
        .await?;
    let cancel = origin.back().unwrap_or_else(|| "/tarefas".into());
    let settings = ctx.state.settings();
    let tz = settings.tz();
    let picks = tasks::quick_picks(ctx.state.now(), &tz);
    let v = FormView {
        picks: &picks,
        time_zone: &settings.time_zone,
        action,
        values,
        errs,
        teams: &teams,
        agents: &logins,
        cancel,
        conversation: conv_name,
        contact: contact_name,
        email_templates: &email_templates,
    };
    let body = views::tasks::form(ctx.loc, ctx.csrf(), ctx.t(title), &v);
    let mut r = ctx.page(ctx.t(title), "/tarefas", body);
    if !errs.is_empty() {
        *r.status_mut() = warp::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

/// GET /tarefas/nova[?conversa=ID|contato=ID] — the new task form.
pub async fn new_form(ctx: Ctx, q: Input) -> AppResult<Response> {
    // The due control starts filled with the first quick pick ("in 1 h") and
    // a notification on: what the form shows is what a plain save stores.
    let tz = ctx.state.settings().tz();
    let (date, time) = tasks::due_fields(ctx.state.now() + 3600, &tz);
    let values = Input::from_pairs([
        ("kind", "custom".to_string()),
        ("assign", "me".to_string()),
        ("due_date", date),
        ("due_time", time),
        ("notify", "1".to_string()),
    ]);
    form_page(&ctx, "task.new", "/tarefas".into(), &values, &FormErrors::default(), Origin::of(&q)).await
}

/// POST /tarefas — create.
pub async fn create(ctx: Ctx, input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let tz = ctx.state.settings().tz();
    let origin = Origin::of(&input);
    let f = match tasks::parse(&input, ctx.state.now(), &tz) {
        Ok(f) => f,
        Err(errs) => return form_page(&ctx, "task.new", "/tarefas".into(), &input, &errs, origin).await,
    };
    match tasks::create(&ctx.state, &user, ctx.loc, f).await {
        Ok(id) => Ok(redirect(&origin.back().unwrap_or_else(|| format!("/tarefas/{id}")))),
        Err(AppError::Invalid(errs)) => form_page(&ctx, "task.new", "/tarefas".into(), &input, &errs, origin).await,
        Err(e) => Err(e),
    }
}

async fn load(ctx: &Ctx, id: i64) -> AppResult<(User, tasks::Task)> {
    let user = ctx.user()?.clone();
    let u2 = user.clone();
    let t = ctx.state.db.read(move |c| tasks::visible(c, &u2, id)).await?;
    Ok((user, t))
}

/// GET /tarefas/{id}
pub async fn view(ctx: Ctx, id: i64) -> AppResult<Response> {
    let (user, t) = load(&ctx, id).await?;
    let tz = ctx.state.settings().tz();
    let body = views::tasks::detail(ctx.loc, ctx.csrf(), &t, user.id, ctx.state.now(), &tz);
    Ok(ctx.page(&t.title, "/tarefas", body))
}

/// GET /tarefas/{id}/editar
pub async fn edit_form(ctx: Ctx, id: i64, q: Input) -> AppResult<Response> {
    let (_, t) = load(&ctx, id).await?;
    let tz = ctx.state.settings().tz();
    let logins = ctx.state.db.read(|c| teams_and_agents(c).map(|x| x.1)).await?;
    let values = views::tasks::values_of(&t, &logins, &tz);
    // Opened from beside a conversation (`?conversa=`): saving returns there.
    form_page(&ctx, "task.edit", format!("/tarefas/{id}"), &values, &FormErrors::default(), Origin::of(&q)).await
}

/// POST /tarefas/{id} — save an edit.
pub async fn update(ctx: Ctx, id: i64, input: Input) -> AppResult<Response> {
    let (user, _) = load(&ctx, id).await?;
    let tz = ctx.state.settings().tz();
    let origin = Origin::of(&input);
    let mut f = match tasks::parse(&input, ctx.state.now(), &tz) {
        Ok(f) => f,
        Err(errs) => {
            return form_page(&ctx, "task.edit", format!("/tarefas/{id}"), &input, &errs, origin).await;
        }
    };
    // An edit never moves the task to another conversation or contact; the
    // origin only says where to go back.
    f.conversation_id = None;
    f.contact_id = None;
    match tasks::update(&ctx.state, &user, ctx.loc, id, f).await {
        Ok(()) => Ok(redirect(&origin.back().unwrap_or_else(|| format!("/tarefas/{id}")))),
        Err(AppError::Invalid(errs)) => {
            form_page(&ctx, "task.edit", format!("/tarefas/{id}"), &input, &errs, origin).await
        }
        Err(e) => Err(e),
    }
}

/// After a row action: htmx gets the row back (greyed when done), a plain
/// form goes back to the list.
async fn after(ctx: &Ctx, id: i64, back: &str) -> AppResult<Response> {
    if ctx.is_htmx() {
        let (user, t) = load(ctx, id).await?;
        let tz = ctx.state.settings().tz();
        return Ok(html(views::tasks::row(ctx.loc, ctx.csrf(), &t, user.id, ctx.state.now(), &tz)));
    }
    Ok(redirect(back))
}

/// POST /tarefas/{id}/pegar — take a waiting task.
pub async fn take(ctx: Ctx, id: i64, _input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    tasks::take(&ctx.state, &user, id).await?;
    after(&ctx, id, "/tarefas").await
}

/// POST /tarefas/{id}/finalizar
pub async fn finish(ctx: Ctx, id: i64, _input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    tasks::complete(&ctx.state, &user, id, false).await?;
    after(&ctx, id, "/tarefas?status=all").await
}

/// POST /tarefas/{id}/arquivar
pub async fn archive(ctx: Ctx, id: i64, _input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    tasks::complete(&ctx.state, &user, id, true).await?;
    after(&ctx, id, "/tarefas?status=all").await
}

/// POST /tarefas/{id}/adiar — same time tomorrow.
pub async fn postpone(ctx: Ctx, id: i64, _input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    tasks::postpone(&ctx.state, &user, id).await?;
    Ok(redirect(&format!("/tarefas/{id}")))
}

/// POST /tarefas/{id}/excluir — delete (audited).
pub async fn delete(ctx: Ctx, id: i64, _input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    tasks::delete(&ctx.state, &ctx.actor(), &user, id).await?;
    Ok(redirect("/tarefas"))
}

/// POST /tarefas/{id}/iniciar — take it if it waits for me, then open its
/// conversation (with its history).
pub async fn start(ctx: Ctx, id: i64, _input: Input) -> AppResult<Response> {
    let (user, t) = load(&ctx, id).await?;
    if t.status == "queued" && t.assignee_id.is_none_or(|a| a == user.id) {
        match tasks::take(&ctx.state, &user, id).await {
            Ok(()) | Err(AppError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    // An e-mail activity for a contact with no conversation yet starts one,
    // with its template chosen.
    Ok(redirect(&match (t.conversation_id, t.kind.as_str(), t.contact_id) {
        (Some(c), _, _) => format!("/atendimentos/{c}"),
        (None, "email", Some(k)) => match &t.email_template {
            Some((tid, _)) => format!("/atendimentos/novo?contato={k}&modelo_email={tid}"),
            None => format!("/atendimentos/novo?contato={k}"),
        },
        (None, _, _) => format!("/tarefas/{id}"),
    }))
}

/// GET /notificacoes — unread notifications.
pub async fn notifications_page(ctx: Ctx) -> AppResult<Response> {
    let uid = ctx.user()?.id;
    let list = ctx.state.db.read(move |c| notifications::unread(c, uid, 200)).await?;
    let tz = ctx.state.settings().tz();
    let body = views::tasks::notifications(ctx.loc, ctx.csrf(), &list, &tz);
    Ok(ctx.page(ctx.t("notif.title"), "", body))
}

/// POST /notificacoes/lidas — mark read up to `upto`.
pub async fn notifications_read(ctx: Ctx, input: Input) -> AppResult<Response> {
    let uid = ctx.user()?.id;
    let upto = input.get("upto").parse::<i64>().map_err(|_| AppError::BadRequest("val.invalid_choice"))?;
    notifications::mark_read(&ctx.state, uid, upto).await?;
    Ok(redirect("/notificacoes"))
}

/// GET /barra — the top bar's live part, with the newest unread notifications.
pub async fn bar(ctx: Ctx) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let now = ctx.state.now();
    let uid = user.id;
    let (b, fresh) =
        ctx.state.db.read(move |c| Ok((notifications::bar(c, uid, now)?, notifications::unread(c, uid, 5)?))).await?;
    Ok(html(views::layout::bar(ctx.loc, ctx.csrf(), &user, &b, now, &fresh)))
}

/// POST /pausa — start (or switch to) a pause.
pub async fn pause_start(ctx: Ctx, input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let reason = input.get("reason_id").parse::<i64>().map_err(|_| AppError::BadRequest("val.invalid_choice"))?;
    pauses::start(&ctx.state, &user, reason).await?;
    Ok(redirect(&ctx.back()))
}

/// POST /pausa/fim — end my pause.
pub async fn pause_end(ctx: Ctx, _input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    pauses::end(&ctx.state, &user).await?;
    Ok(redirect(&ctx.back()))
}

/// POST /agentes/{id}/encerrar-pausa — a supervisor ends an agent's pause.
pub async fn supervise_end_pause(ctx: Ctx, id: i64, _input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    pauses::supervise(&ctx.state, &ctx.actor(), &user, id, false).await?;
    Ok(redirect(&ctx.back()))
}

/// POST /agentes/{id}/nao-pronto — a supervisor sets an agent Não pronto.
pub async fn supervise_not_ready(ctx: Ctx, id: i64, _input: Input) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    pauses::supervise(&ctx.state, &ctx.actor(), &user, id, true).await?;
    Ok(redirect(&ctx.back()))
}

/// GET /admin/agendador — the scheduler's jobs.
pub async fn jobs_page(ctx: Ctx) -> AppResult<Response> {
    ctx.admin()?;
    let jobs = ctx.state.jobs.snapshot().await;
    let tz = ctx.state.settings().tz();
    Ok(ctx.page(ctx.t("jobs.title"), "/admin", views::tasks::jobs(ctx.loc, &jobs, &tz)))
}
