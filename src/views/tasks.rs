//! Tarefas: the list with filters, the task form, one task, the dialog when
//! finishing a conversation with open tasks; notifications; scheduler jobs;
//! the pause report.

use jiff::tz::TimeZone;
use maud::{Markup, html};

use super::{datetime, forms};
use crate::domain::notifications::Notification;
use crate::domain::tasks::{KINDS, Task, due_fields};
use crate::domain::validate::{FormErrors, Input};
use crate::i18n::{Locale, t};
use crate::jobs::JobInfo;

/// Catalog key of a task type.
pub fn kind_key(kind: &str) -> &'static str {
    match kind {
        "email" => "task.kind.email",
        "meeting" => "task.kind.meeting",
        "call" => "task.kind.call",
        _ => "task.kind.custom",
    }
}

fn status_key(t: &Task) -> &'static str {
    match (t.status.as_str(), t.done_how.as_deref()) {
        ("queued", _) => "task.status.queued",
        ("pending", _) => "task.status.pending",
        (_, Some("archived")) => "task.status.archived",
        _ => "task.status.finished",
    }
}

/// The class that colours a row: grey done, red overdue, yellow waiting.
fn row_class(task: &Task, now: i64) -> &'static str {
    if task.status == "done" {
        "task-done"
    } else if task.overdue(now) {
        "task-overdue"
    } else if task.status == "queued" {
        "task-waiting"
    } else {
        ""
    }
}

fn post(csrf: &str, action: &str, label: &str, class: &str, confirm: Option<&str>) -> Markup {
    html! {
        form.inline method="post" action=(action) data-confirm=[confirm] {
            (forms::csrf(csrf))
            button class=(format!("btn btn-sm {class}")) type="submit" title=(label) { (label) }
        }
    }
}

/// The row actions of a task.
fn actions(loc: Locale, csrf: &str, task: &Task, me: i64) -> Markup {
    let base = format!("/tarefas/{}", task.id);
    html! {
        @if task.status == "queued" && task.assignee_id.is_none_or(|a| a == me) {
            (post(csrf, &format!("{base}/pegar"), ">", "btn-primary", None))
        }
        @if task.status != "done" {
            @if task.conversation_id.is_some() { (post(csrf, &format!("{base}/iniciar"), t(loc, "task.start"), "", None)) }
            (post(csrf, &format!("{base}/finalizar"), t(loc, "task.finish"), "", None))
            (post(csrf, &format!("{base}/arquivar"), t(loc, "task.archive"), "", None))
        }
    }
}

/// One row of the list (also the fragment swapped after an action).
pub fn row(loc: Locale, csrf: &str, task: &Task, me: i64, now: i64, tz: &TimeZone) -> Markup {
    html! {
        tr id=(format!("task-{}", task.id)) class=(row_class(task, now)) {
            td { a href=(format!("/tarefas/{}", task.id)) { (task.title) } br; span.muted { (t(loc, kind_key(&task.kind))) } }
            td { (datetime(task.due_at, tz)) @if task.overdue(now) { " " span.badge.badge-danger { (t(loc, "task.overdue")) } } }
            td { (t(loc, status_key(task))) }
            td {
                @if let Some(a) = &task.assignee_name { (a) }
                @if let Some(tm) = &task.team_name { @if task.assignee_name.is_some() { " · " } span.muted { (tm) } }
            }
            td { @if let Some(c) = &task.contact_name { (c) } }
            td.row-actions { (actions(loc, csrf, task, me)) }
        }
    }
}

/// Filter values as the page shows them.
pub struct ListView<'a> {
    /// The rows.
    pub tasks: &'a [Task],
    /// Query string of the next page, if any.
    pub next: Option<String>,
    /// Raw filter values.
    pub q: &'a Input,
    /// Teams for the filter (id, name).
    pub teams: &'a [(i64, String)],
    /// Agents for the filter (id, name); empty when the viewer sees only theirs.
    pub agents: &'a [(i64, String)],
}

/// The Tarefas page.
pub fn list(loc: Locale, csrf: &str, v: &ListView, me: i64, now: i64, tz: &TimeZone) -> Markup {
    let kinds: Vec<(String, String)> = KINDS.iter().map(|k| (k.to_string(), t(loc, kind_key(k)).to_string())).collect();
    let states = [("open", "task.filter.open"), ("done", "task.filter.done"), ("all", "task.filter.all")];
    let status = if v.q.get("status").is_empty() { "open" } else { v.q.get("status") };
    let no = FormErrors::default();
    html! {
        div.page-head {
            h1 { (t(loc, "menu.tasks")) }
            div.actions { a.btn.btn-primary href="/tarefas/nova" { (t(loc, "task.new")) } }
        }
        form.filters method="get" action="/tarefas" {
            (forms::select(loc, "status", t(loc, "f.status"), &states.iter().map(|(c, k)| (c.to_string(), t(loc, k).to_string())).collect::<Vec<_>>(), status, &no, None))
            (forms::select(loc, "kind", t(loc, "task.kind"), &kinds, v.q.get("kind"), &no, Some(t(loc, "filter.any"))))
            @if !v.agents.is_empty() {
                (forms::select(loc, "assignee", t(loc, "task.assignee"), &v.agents.iter().map(|(i, n)| (i.to_string(), n.clone())).collect::<Vec<_>>(), v.q.get("assignee"), &no, Some(t(loc, "filter.any"))))
            }
            (forms::select(loc, "team", t(loc, "task.team"), &v.teams.iter().map(|(i, n)| (i.to_string(), n.clone())).collect::<Vec<_>>(), v.q.get("team"), &no, Some(t(loc, "filter.any"))))
            (forms::input(loc, "from", t(loc, "task.due_from"), v.q.get("from"), &no, forms::Opts { kind: "date", ..Default::default() }))
            (forms::input(loc, "to", t(loc, "task.due_to"), v.q.get("to"), &no, forms::Opts { kind: "date", ..Default::default() }))
            div.form-actions { button.btn type="submit" { (t(loc, "action.filter")) } }
        }
        section.card {
            @if v.tasks.is_empty() { p.empty { (t(loc, "task.none")) } }
            @else {
                div.table-wrap { table.table #tasks {
                    thead { tr {
                        th { (t(loc, "task.title")) } th { (t(loc, "task.due")) } th { (t(loc, "f.status")) }
                        th { (t(loc, "task.assignee")) } th { (t(loc, "task.contact")) } th {}
                    } }
                    tbody { @for task in v.tasks { (row(loc, csrf, task, me, now, tz)) } }
                } }
            }
            @if let Some(n) = &v.next { p.list-more { a href=(format!("/tarefas?{n}")) { (t(loc, "list.next_page")) } } }
        }
    }
}

/// What the task form needs besides the values.
pub struct FormView<'a> {
    /// POST target.
    pub action: String,
    /// Values (as sent, or from the task being edited).
    pub values: &'a Input,
    /// Errors.
    pub errs: &'a FormErrors,
    /// Teams to assign to.
    pub teams: &'a [(i64, String)],
    /// Agents for the search field: (login, name).
    pub agents: &'a [(String, String)],
    /// Where Cancel goes.
    pub cancel: String,
    /// Conversation the task is created in (shown, and sent along).
    pub conversation: Option<(i64, String)>,
    /// Contact the task is created for (shown, and sent along).
    pub contact: Option<(i64, String)>,
    /// Active e-mail templates: (id, name, is default).
    pub email_templates: &'a [(i64, String, bool)],
    /// Quick picks of the due control: (code, date, time) they fill in.
    pub picks: &'a [(&'static str, String, String)],
    /// The business time zone's name (the due control's hint).
    pub time_zone: &'a str,
}

fn quick_key(code: &str) -> &'static str {
    match code {
        "1h" => "task.quick.1h",
        "tomorrow" => "task.quick.tomorrow",
        _ => "task.quick.nextweek",
    }
}

/// The one due control: a date and a time input (what they show is what is
/// saved) and the quick picks that fill them in (assets/js/forms.js; hidden
/// until that script runs, since without it they could not do anything).
fn due_control(loc: Locale, v: &FormView) -> Markup {
    let err = v.errs.get("due_date").or(v.errs.get("due_time"));
    html! {
        fieldset.field.due-control.has-error[err.is_some()] {
            legend { (t(loc, "task.due")) }
            div.field-row {
                div.field {
                    label for="f-due_date" { (t(loc, "forms.task.due_date")) }
                    input #f-due_date name="due_date" type="date" required value=(v.values.get("due_date"))
                        aria-invalid=[v.errs.get("due_date").map(|_| "true")];
                }
                div.field {
                    label for="f-due_time" { (t(loc, "forms.task.due_time")) }
                    input #f-due_time name="due_time" type="time" required value=(v.values.get("due_time"))
                        aria-invalid=[v.errs.get("due_time").map(|_| "true")];
                }
            }
            div.quick-picks role="group" aria-label=(t(loc, "task.quick")) hidden data-quick-picks="1"
                data-date-input="f-due_date" data-time-input="f-due_time" {
                @for (code, date, time) in v.picks {
                    button.btn.btn-sm type="button" data-pick=(code) data-date=(date) data-time=(time) { (t(loc, quick_key(code))) }
                }
            }
            p.hint { (crate::i18n::tf(loc, "forms.task.due_hint", &[v.time_zone])) }
            @if let Some(e) = err { p.field-error { (t(loc, e)) } }
            script src=(crate::assets::url("js/forms.js")) defer {}
        }
    }
}

/// The task form (create and edit).
pub fn form(loc: Locale, csrf: &str, title: &str, v: &FormView) -> Markup {
    let val = |k: &str| v.values.get(k).to_string();
    let kinds: Vec<(String, String)> = KINDS.iter().map(|k| (k.to_string(), t(loc, kind_key(k)).to_string())).collect();
    let assign = if val("assign").is_empty() { "me".to_string() } else { val("assign") };
    html! {
        div.page-head { h1 { (title) } }
        form.form.card method="post" action=(v.action) {
            (forms::csrf(csrf))
            (forms::summary(loc, v.errs))
            @if let Some((id, name)) = &v.conversation {
                input type="hidden" name="conversation_id" value=(id);
                p.muted { (t(loc, "task.in_conversation")) " " strong { (name) } }
            }
            @if let Some((id, name)) = &v.contact {
                input type="hidden" name="contact_id" value=(id);
                p.muted { (t(loc, "task.for_contact")) " " strong { (name) } }
            }
            (forms::select(loc, "kind", t(loc, "task.kind"), &kinds, &val("kind"), v.errs, None))
            @if !v.email_templates.is_empty() {
                (forms::select(loc, "email_template_id", t(loc, "task.email_template"),
                    &v.email_templates.iter().map(|(i, n, _)| (i.to_string(), n.clone())).collect::<Vec<_>>(),
                    &val("email_template_id"), v.errs, Some("—")))
                p.hint { (t(loc, "task.email_template.hint")) }
            }
            (forms::input(loc, "title", t(loc, "task.title"), &val("title"), v.errs, forms::Opts { required: true, max: Some(120), ..Default::default() }))
            div.field.has-error[v.errs.get("description").is_some()] {
                label for="f-description" { (t(loc, "task.description")) }
                textarea #f-description name="description" rows="3" maxlength="2000" { (val("description")) }
                @if let Some(e) = v.errs.get("description") { p.field-error { (t(loc, e)) } }
            }
            (due_control(loc, v))
            fieldset.checks {
                legend { (t(loc, "task.assignee")) }
                label.check { input type="radio" name="assign" value="me" checked[assign == "me"]; " " (t(loc, "task.assign.me")) }
                label.check { input type="radio" name="assign" value="agent" checked[assign == "agent"]; " " (t(loc, "task.assign.agent")) }
                label.check { input type="radio" name="assign" value="team" checked[assign == "team"]; " " (t(loc, "task.assign.team")) }
            }
            div.field.has-error[v.errs.get("agent").is_some()] {
                label for="f-agent" { (t(loc, "task.agent_search")) }
                input #f-agent name="agent" type="search" list="agents" value=(val("agent")) autocomplete="off";
                datalist #agents { @for (login, name) in v.agents { option value=(login) { (name) } } }
                @if let Some(e) = v.errs.get("agent") { p.field-error { (t(loc, e)) } }
            }
            (forms::select(loc, "team_id", t(loc, "task.team"), &v.teams.iter().map(|(i, n)| (i.to_string(), n.clone())).collect::<Vec<_>>(), &val("team_id"), v.errs, Some("—")))
            (forms::checkbox("notify", t(loc, "task.notify"), v.values.checked("notify")))
            (forms::actions(loc, &v.cancel))
        }
    }
}

/// The task form's values for an existing task.
pub fn values_of(task: &Task, logins: &[(String, String)], tz: &TimeZone) -> Input {
    let login = task
        .assignee_id
        .and(task.assignee_name.as_ref())
        .and_then(|n| logins.iter().find(|(_, name)| name == n).map(|(l, _)| l.clone()))
        .unwrap_or_default();
    let assign = match (task.assignee_id, task.team_id) {
        (None, Some(_)) => "team",
        (Some(_), _) if !login.is_empty() => "agent",
        _ => "me",
    };
    let (due_date, due_time) = due_fields(task.due_at, tz);
    Input::from_pairs([
        ("kind", task.kind.clone()),
        ("title", task.title.clone()),
        ("description", task.description.clone()),
        ("due_date", due_date),
        ("due_time", due_time),
        ("assign", assign.to_string()),
        ("agent", login),
        ("team_id", task.team_id.map(|i| i.to_string()).unwrap_or_default()),
        ("notify", if task.notify { "1".into() } else { String::new() }),
        ("email_template_id", task.email_template.as_ref().map(|(i, _)| i.to_string()).unwrap_or_default()),
    ])
}

/// One task: details and actions.
pub fn detail(loc: Locale, csrf: &str, task: &Task, me: i64, now: i64, tz: &TimeZone) -> Markup {
    let base = format!("/tarefas/{}", task.id);
    html! {
        div.page-head {
            h1 { (task.title) }
            div.actions { a.btn.btn-sm href="/tarefas" { (t(loc, "menu.tasks")) } }
        }
        section.card class=(row_class(task, now)) {
            dl.details {
                dt { (t(loc, "task.kind")) } dd { (t(loc, kind_key(&task.kind))) }
                @if let Some((_, name)) = &task.email_template { dt { (t(loc, "task.email_template")) } dd #task-template { (name) } }
                dt { (t(loc, "f.status")) } dd { (t(loc, status_key(task))) @if task.overdue(now) { " " span.badge.badge-danger { (t(loc, "task.overdue")) } } }
                dt { (t(loc, "task.due")) } dd { (datetime(task.due_at, tz)) }
                @if let Some(a) = &task.assignee_name { dt { (t(loc, "task.assignee")) } dd { (a) } }
                @if let Some(tm) = &task.team_name { dt { (t(loc, "task.team")) } dd { (tm) } }
                @if let Some(c) = &task.contact_name { dt { (t(loc, "task.contact")) } dd { (c) } }
                @if let Some(c) = task.conversation_id { dt { (t(loc, "task.conversation")) } dd { a href=(format!("/atendimentos/{c}")) { "#" (c) } } }
                @if !task.description.is_empty() { dt { (t(loc, "task.description")) } dd.pre { (task.description) } }
            }
            div.form-actions {
                (actions(loc, csrf, task, me))
                @if task.status != "done" {
                    a.btn.btn-sm href=(format!("{base}/editar")) { (t(loc, "action.edit")) }
                    (post(csrf, &format!("{base}/adiar"), t(loc, "task.postpone"), "", None))
                }
                (post(csrf, &format!("{base}/excluir"), t(loc, "action.delete"), "btn-danger", Some(t(loc, "task.delete_confirm"))))
            }
        }
    }
}

/// Finishing or archiving a conversation that has open tasks.
pub fn finish_dialog(
    loc: Locale,
    csrf: &str,
    conversation: i64,
    archive: bool,
    tasks: &[Task],
    tz: &TimeZone,
    script: Option<crate::domain::conversations::Closing>,
) -> Markup {
    let carry = html! {
        @if let Some(s) = script {
            input type="hidden" name="reason_id" value=(s.reason_id);
            input type="hidden" name="resolved" value=(if s.resolved { "1" } else { "0" });
        }
    };
    let action = format!("/atendimentos/{conversation}/{}", if archive { "arquivar" } else { "finalizar" });
    html! {
        div.page-head { h1 { (t(loc, "task.leave_title")) } }
        section.card role="alertdialog" {
            p { (t(loc, "task.leave_text")) }
            ul { @for task in tasks { li { strong { (task.title) } " · " (datetime(task.due_at, tz)) } } }
            div.form-actions {
                form.inline method="post" action=(action) {
                    (forms::csrf(csrf))
                    input type="hidden" name="tarefas" value="adiar";
                    (carry)
                    button.btn.btn-primary type="submit" { (t(loc, "task.postpone_tomorrow")) }
                }
                form.inline method="post" action=(action) {
                    (forms::csrf(csrf))
                    input type="hidden" name="tarefas" value="concluir";
                    (carry)
                    button.btn type="submit" { (t(loc, "task.complete_and_close")) }
                }
                a.btn.btn-ghost href=(format!("/atendimentos/{conversation}")) { (t(loc, "action.cancel")) }
            }
        }
    }
}

/// The notifications page.
pub fn notifications(loc: Locale, csrf: &str, list: &[Notification], tz: &TimeZone) -> Markup {
    html! {
        div.page-head {
            h1 { (t(loc, "notif.title")) }
            @if let Some(newest) = list.first() {
                div.actions {
                    form.inline method="post" action="/notificacoes/lidas" {
                        (forms::csrf(csrf))
                        input type="hidden" name="upto" value=(newest.id);
                        button.btn.btn-sm type="submit" { (t(loc, "notif.mark_read")) }
                    }
                }
            }
        }
        section.card {
            @if list.is_empty() { p.empty { (t(loc, "notif.none")) } }
            ul.conv-list { @for n in list { li {
                @if n.link.is_empty() { strong { (t(loc, super::layout::notif_key(&n.kind))) } }
                @else { a href=(n.link) { strong { (t(loc, super::layout::notif_key(&n.kind))) } } }
                ": " (n.text) " " span.muted { (datetime(n.created_at, tz)) }
            } } }
        }
    }
}

/// The scheduler's jobs (admin).
pub fn jobs(loc: Locale, jobs: &[JobInfo], tz: &TimeZone) -> Markup {
    html! {
        div.page-head { h1 { (t(loc, "jobs.title")) } }
        p.muted { (t(loc, "jobs.about")) }
        div.table-wrap { table.table #jobs {
            thead { tr {
                th { (t(loc, "jobs.name")) } th { (t(loc, "jobs.cron")) } th { (t(loc, "jobs.last_run")) }
                th.num { (t(loc, "jobs.duration")) } th { (t(loc, "jobs.result")) } th { (t(loc, "jobs.next_run")) } th.num { (t(loc, "jobs.runs")) }
            } }
            tbody { @for j in jobs { tr {
                td { (super::labels::job_label(loc, j.name)) } td title=(j.cron) { (super::labels::cron_label(loc, j.cron)) }
                td { @if let Some(at) = j.last_run { (datetime_secs(at, tz)) } @else { span.muted { (t(loc, "jobs.never")) } } }
                td.num { @if let Some(ms) = j.last_ms { (format!("{ms:.1} ms")) } }
                td {
                    @if !j.ok { span.badge.badge-danger { (t(loc, "jobs.failed")) } " " }
                    @if j.last_result.is_empty() && j.last_run.is_some() { span.muted { (t(loc, "jobs.nothing")) } } @else { (j.last_result) }
                }
                td { @if let Some(at) = j.next_run { (datetime_secs(at, tz)) } }
                td.num { (j.runs) }
            } } }
        } }
    }
}

fn datetime_secs(ts: i64, tz: &TimeZone) -> String {
    jiff::Timestamp::from_second(ts)
        .map(|t| t.to_zoned(tz.clone()).strftime("%d/%m/%Y %H:%M:%S").to_string())
        .unwrap_or_default()
}
