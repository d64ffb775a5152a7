//! Tasks and pauses: due firing (once, after restarts too), notifications,
//! reopening, team tasks, visibility, DST-correct postponing, pause windows
//! and limits, supervisors, the scheduler page. Injected clock, fresh database.

mod common;

use atende::app::AppState;
use atende::clock::Clock;
use atende::domain::conversations::{self as conv, VisitorMessage};
use atende::domain::registers::{self, Value};
use atende::domain::tasks::{self, Assign, Form};
use atende::domain::users::{Role, User};
use atende::domain::{notifications, pauses};
use atende::error::AppError;
use atende::i18n::Locale;
use common::TestApp;

async fn user(app: &TestApp, id: i64) -> User {
    app.state.db.read(move |c| atende::domain::users::get(c, id)).await.unwrap().unwrap()
}

fn form(title: &str, due_at: i64, assign: Assign, conversation_id: Option<i64>) -> Form {
    Form {
        kind: "call".into(),
        title: title.into(),
        description: String::new(),
        due_at,
        assign,
        conversation_id,
        contact_id: None,
        notify: true,
        email_template: None,
    }
}

async fn notes(app: &TestApp, uid: i64) -> Vec<notifications::Notification> {
    app.state.db.read(move |c| notifications::unread(c, uid, 100)).await.unwrap()
}

/// A conversation from a visitor, accepted by `agent` and then finished.
async fn finished_conversation(app: &TestApp, q: i64, agent: &User) -> i64 {
    conv::set_connected(&app.state, agent, q, true).await.unwrap();
    conv::set_ready(&app.state, agent, true).await.unwrap();
    let token = atende::domain::auth::token_hash("visitante");
    let m = VisitorMessage { name: "Maria".into(), text: "Quero um retorno amanhã".into(), ..Default::default() };
    let c = conv::visitor_message(&app.state, q, token, m).await.unwrap().0;
    conv::accept(&app.state, agent, c).await.unwrap();
    c
}

async fn task(app: &TestApp, id: i64) -> tasks::Task {
    let admin = admin_user(app).await;
    app.state.db.read(move |c| tasks::visible(c, &admin, id)).await.unwrap()
}

async fn admin_user(app: &TestApp) -> User {
    let id = app
        .state
        .db
        .read(|c| Ok(c.query_row("SELECT id FROM users WHERE role = 'admin' ORDER BY id LIMIT 1", [], |r| r.get(0))?))
        .await
        .unwrap();
    user(app, id).await
}

#[tokio::test]
async fn a_task_fires_once_at_its_time_notifies_and_reopens_its_conversation() {
    let app = TestApp::new().await;
    app.admin().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let ana = user(&app, app.user("ana@x.com", Role::Agent, &[t]).await).await;
    let c = finished_conversation(&app, q, &ana).await;
    let now = app.state.now();
    let id = tasks::create(&app.state, &ana, Locale::PtBr, form("Ligar para Maria", now + 60, Assign::Me, Some(c)))
        .await
        .unwrap();
    conv::close(&app.state, &ana, c, false, None).await.unwrap();
    // The conversation got a system line with the task, and the contact a bell.
    let msgs = app.state.db.read(move |db| conv::messages(db, c, 0, true)).await.unwrap();
    assert!(msgs.iter().any(|m| m.kind == "system"
        && m.body.starts_with("Tarefa criada · Responsável: ")
        && !m.body.contains("Ligar para Maria")));
    let row = app.state.db.read(move |db| conv::load(db, c)).await.unwrap().unwrap();
    assert!(row.task_bell);
    assert_eq!(row.status, "finished");
    assert_eq!(task(&app, id).await.status, "pending", "a task for me is pendente at once");

    // Not yet due: nothing fires.
    assert_eq!(tasks::fire_due(&app.state).await.unwrap(), 0);
    assert!(notes(&app, ana.id).await.is_empty());
    let mut rx = app.state.bus.subscribe(None).0;
    app.state.clock.advance(61);
    assert_eq!(tasks::fire_due(&app.state).await.unwrap(), 1);
    let n = notes(&app, ana.id).await;
    assert_eq!(n.len(), 1);
    let due = tasks::due_text(now + 60, &app.state.settings().tz());
    assert_eq!(
        (n[0].kind.as_str(), n[0].text.as_str(), n[0].browser),
        ("task_due", format!("Ligar para Maria · {due}").as_str(), true)
    );
    // Live: the agent's stream hears about it.
    let mut kinds = vec![];
    while let Ok(e) = rx.try_recv() {
        kinds.push((e.kind, e.agent_id));
    }
    assert!(kinds.contains(&("notification", Some(ana.id))), "{kinds:?}");
    // The finished conversation is back in the agent's list.
    let row = app.state.db.read(move |db| conv::load(db, c)).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.agent_id), ("assigned", Some(ana.id)));
    // Overdue counter of the agent.
    let now = app.state.now();
    assert_eq!(app.state.db.read(move |db| tasks::overdue_count(db, ana.id, now)).await.unwrap(), 1);
    // Never twice.
    app.state.clock.advance(5);
    assert_eq!(tasks::fire_due(&app.state).await.unwrap(), 0);
    assert_eq!(notes(&app, ana.id).await.len(), 1);
    // Done: grey, still listed with "all", the bell goes away.
    tasks::complete(&app.state, &ana, id, false).await.unwrap();
    let done = task(&app, id).await;
    assert_eq!((done.status.as_str(), done.done_how.as_deref()), ("done", Some("finished")));
    let row = app.state.db.read(move |db| conv::load(db, c)).await.unwrap().unwrap();
    assert!(!row.task_bell);
}

#[tokio::test]
async fn tasks_done_or_deleted_before_their_time_fire_nothing() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let ana = user(&app, app.user("ana@x.com", Role::Agent, &[t]).await).await;
    let now = app.state.now();
    let a = tasks::create(&app.state, &ana, Locale::PtBr, form("A", now + 10, Assign::Me, None)).await.unwrap();
    let b = tasks::create(&app.state, &ana, Locale::PtBr, form("B", now + 10, Assign::Me, None)).await.unwrap();
    tasks::complete(&app.state, &ana, a, true).await.unwrap();
    tasks::delete(&app.state, &app.actor(), &ana, b).await.unwrap();
    assert_eq!(app.audits("task.delete").await, 1);
    app.state.clock.advance(30);
    assert_eq!(tasks::fire_due(&app.state).await.unwrap(), 0);
    assert_eq!(app.count("notifications").await, 0);
    // Moving the due time of a task that already fired arms it again.
    let c =
        tasks::create(&app.state, &ana, Locale::PtBr, form("C", app.state.now() - 1, Assign::Me, None)).await.unwrap();
    assert_eq!(tasks::fire_due(&app.state).await.unwrap(), 1);
    let new_due = app.state.now() + 5;
    tasks::update(&app.state, &ana, Locale::PtBr, c, form("C", new_due, Assign::Me, None)).await.unwrap();
    app.state.clock.advance(6);
    assert_eq!(tasks::fire_due(&app.state).await.unwrap(), 1);
    // The unread notification about the old time was withdrawn by the edit;
    // the one left speaks of the new time.
    let n = notes(&app, ana.id).await;
    assert_eq!(n.len(), 1);
    assert!(n[0].text.ends_with(&tasks::due_text(new_due, &app.state.settings().tz())), "{}", n[0].text);
}

#[tokio::test]
async fn team_tasks_wait_for_any_member_and_one_takes_them() {
    let app = TestApp::new().await;
    app.admin().await;
    let t = app.team("Cobrança").await;
    let other = app.team("Vendas").await;
    let ana = user(&app, app.user("ana@x.com", Role::Agent, &[t]).await).await;
    let bia = user(&app, app.user("bia@x.com", Role::Agent, &[t]).await).await;
    let caio = user(&app, app.user("caio@x.com", Role::Agent, &[other]).await).await;
    let now = app.state.now();
    let id =
        tasks::create(&app.state, &ana, Locale::PtBr, form("Cobrar", now + 5, Assign::Team(t), None)).await.unwrap();
    assert_eq!(task(&app, id).await.status, "queued");
    // Both members see it; the other team does not even know it exists.
    for u in [&ana, &bia] {
        let u = u.clone();
        let (list, _) = app.state.db.read(move |c| tasks::list(c, &u, &Default::default())).await.unwrap();
        assert_eq!(list.len(), 1);
    }
    let c2 = caio.clone();
    assert!(matches!(app.state.db.read(move |c| tasks::visible(c, &c2, id)).await, Err(AppError::NotFound)));
    assert!(matches!(tasks::take(&app.state, &caio, id).await, Err(AppError::NotFound)));
    // Due while nobody took it: every member is told.
    app.state.clock.advance(10);
    assert_eq!(tasks::fire_due(&app.state).await.unwrap(), 1);
    assert_eq!(notes(&app, ana.id).await.len(), 1);
    assert_eq!(notes(&app, bia.id).await.len(), 1);
    // Two take it at once: exactly one wins.
    let (r1, r2) = tokio::join!(tasks::take(&app.state, &ana, id), tasks::take(&app.state, &bia, id));
    assert!(r1.is_ok() ^ r2.is_ok(), "{r1:?} {r2:?}");
    let loser = if r1.is_ok() { &bia } else { &ana };
    let winner = if r1.is_ok() { &ana } else { &bia };
    let t1 = task(&app, id).await;
    assert_eq!((t1.status.as_str(), t1.assignee_id), ("pending", Some(winner.id)));
    // Now it is the winner's: the loser gets 404.
    let l = loser.clone();
    assert!(matches!(app.state.db.read(move |c| tasks::visible(c, &l, id)).await, Err(AppError::NotFound)));
    // A colleague's task for another agent waits to be taken; a supervisor's is theirs at once.
    let sup = user(&app, app.user("sup@x.com", Role::Supervisor, &[t]).await).await;
    let given =
        tasks::create(&app.state, &ana, Locale::PtBr, form("X", now + 900, Assign::Agent("bia@x.com".into()), None))
            .await
            .unwrap();
    assert_eq!(task(&app, given).await.status, "queued");
    let by_sup =
        tasks::create(&app.state, &sup, Locale::PtBr, form("Y", now + 900, Assign::Agent("BIA@x.com".into()), None))
            .await
            .unwrap();
    assert_eq!(task(&app, by_sup).await.status, "pending");
    let bad =
        tasks::create(&app.state, &sup, Locale::PtBr, form("Z", now, Assign::Agent("ninguem@x.com".into()), None))
            .await;
    assert!(matches!(bad, Err(AppError::Invalid(_))));
}

#[test]
fn postponing_to_tomorrow_keeps_the_wall_clock_time_across_dst() {
    let tz = jiff::tz::TimeZone::get("America/Sao_Paulo").unwrap();
    let at = |s: &str| tasks::parse_local(s, &tz).unwrap();
    // Brazil's last DST began at 00:00 on 2018-11-04 (clocks jumped to 01:00).
    let due = at("2018-11-03T09:00");
    let next = tasks::same_time_tomorrow(due, &tz).unwrap();
    assert_eq!(tasks::format_local(next, &tz), "2018-11-04T09:00");
    assert_eq!(next - due, 23 * 3600, "the DST day is 23 hours long");
    // And ended at 00:00 on 2019-02-17 (back to 23:00 of the 16th).
    let due = at("2019-02-16T09:00");
    let next = tasks::same_time_tomorrow(due, &tz).unwrap();
    assert_eq!(tasks::format_local(next, &tz), "2019-02-17T09:00");
    assert_eq!(next - due, 25 * 3600);
    // Quick picks, in the business time zone.
    let now = at("2026-11-20T15:10"); // a Friday
    assert_eq!(tasks::quick_due("1h", now, &tz), Some(now + 3600));
    assert_eq!(tasks::format_local(tasks::quick_due("tomorrow", now, &tz).unwrap(), &tz), "2026-11-21T09:00");
    assert_eq!(tasks::format_local(tasks::quick_due("nextweek", now, &tz).unwrap(), &tz), "2026-11-23T09:00");
    assert_eq!(tasks::quick_due("whenever", now, &tz), None);
}

#[tokio::test]
async fn a_task_that_fell_due_while_the_server_was_down_fires_once_on_start() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let ana = user(&app, app.user("ana@x.com", Role::Agent, &[t]).await).await;
    let now = app.state.now();
    for title in ["Retornar", "Ligar", "Enviar proposta"] {
        tasks::create(&app.state, &ana, Locale::PtBr, form(title, now + 5, Assign::Me, None)).await.unwrap();
    }
    // "Restart" with the clock past the due time: a second server process on
    // the same data folder recomputes from the database.
    let config = app.state.config.clone();
    let clock = Clock::frozen(now + 3600);
    let restarted = AppState::open(config, clock).await.unwrap();
    let mut rx = restarted.bus.subscribe(None).0;
    assert_eq!(tasks::fire_due(&restarted).await.unwrap(), 3);
    // One signal per agent and kind for the batch: the bar reloads once.
    let mut events = vec![];
    while let Ok(e) = rx.try_recv() {
        events.push((e.kind, e.agent_id));
    }
    assert_eq!(events, vec![("notification", Some(ana.id)), ("tasks", Some(ana.id))]);
    assert_eq!(tasks::fire_due(&restarted).await.unwrap(), 0);
    assert_eq!(tasks::fire_due(&app.state).await.unwrap(), 0, "nothing doubled");
    assert_eq!(notes(&app, ana.id).await.len(), 3);
}

async fn pause_reason(app: &TestApp, name: &str, limit: i64, window: Option<(&str, &str)>, on_limit: &str) -> i64 {
    let spec = registers::spec("pausas").unwrap();
    let (from, to) = match window {
        Some((a, b)) => (Value::Text(a.into()), Value::Text(b.into())),
        None => (Value::Null, Value::Null),
    };
    let v = vec![Value::Text(name.into()), Value::Int(limit), from, to, Value::Text(on_limit.into())];
    registers::create(&app.state.db, spec, v, app.actor()).await.unwrap()
}

fn local_hhmm(app: &TestApp, plus_secs: i64) -> String {
    let tz = app.state.settings().tz();
    jiff::Timestamp::from_second(app.state.now() + plus_secs).unwrap().to_zoned(tz).strftime("%H:%M").to_string()
}

#[tokio::test]
async fn pauses_respect_windows_stop_offers_and_are_flagged_past_their_limit() {
    let app = TestApp::with(|c| c.pause_minute_secs = 1).await;
    app.admin().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let ana = user(&app, app.user("ana@x.com", Role::Agent, &[t]).await).await;
    let sup = user(&app, app.user("sup@x.com", Role::Supervisor, &[t]).await).await;
    conv::set_connected(&app.state, &ana, q, true).await.unwrap();
    conv::set_ready(&app.state, &ana, true).await.unwrap();
    // A reason whose window is closed now (from in 2 h to in 3 h).
    let (from, to) = (local_hhmm(&app, 7200), local_hhmm(&app, 10800));
    let closed = pause_reason(&app, "Almoço", 60, Some((&from, &to)), "flag").await;
    match pauses::start(&app.state, &ana, closed).await {
        Err(e @ AppError::Rule(..)) => {
            let (_, text) = e.user_message(Locale::PtBr);
            assert!(text.contains(&from) && text.contains(&to), "{text}");
        }
        other => panic!("expected a window refusal, got {other:?}"),
    }
    assert_eq!(app.count("pauses").await, 0);
    // An open reason with a 1-"minute" limit (1 s under the test config).
    let coffee = pause_reason(&app, "Café", 1, None, "flag").await;
    pauses::start(&app.state, &ana, coffee).await.unwrap();
    let presence = app.state.db.read(move |c| atende::domain::routing::presence(c, ana.id)).await.unwrap();
    assert_eq!(presence, "paused");
    // Paused: a new conversation is not offered.
    let token = atende::domain::auth::token_hash("v1");
    let m = VisitorMessage { name: "Rui".into(), text: "Oi".into(), ..Default::default() };
    let cid = conv::visitor_message(&app.state, q, token, m).await.unwrap().0;
    assert_eq!(app.state.db.read(move |db| conv::load(db, cid)).await.unwrap().unwrap().status, "queued");
    // Past the limit: flagged once, agent warned, supervisor alerted.
    assert_eq!(pauses::check_limits(&app.state).await.unwrap(), 0);
    app.state.clock.advance(3);
    assert_eq!(pauses::check_limits(&app.state).await.unwrap(), 1);
    assert_eq!(pauses::check_limits(&app.state).await.unwrap(), 0);
    assert_eq!(notes(&app, ana.id).await[0].kind, "pause_exceeded");
    let s = notes(&app, sup.id).await;
    assert_eq!(s.len(), 1);
    assert!(s[0].text.contains("Nome ana@x.com") && s[0].text.contains("Café"), "{}", s[0].text);
    let cur = app.state.db.read(move |c| pauses::current(c, ana.id)).await.unwrap().unwrap();
    assert!(cur.exceeded);
    // Ending returns to Pronto, and the waiting conversation is offered.
    app.state.clock.advance(2);
    pauses::end(&app.state, &ana).await.unwrap();
    let row = app.state.db.read(move |db| conv::load(db, cid)).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.agent_id), ("offered", Some(ana.id)));
    let rep = pauses_newest(&app).await;
    assert_eq!(rep.len(), 1);
    assert_eq!(rep[0].0.as_deref(), Some("agent"));
    assert!(rep[0].1.unwrap() >= 4, "{:?}", rep[0].1);
    assert_eq!(rep[0].2, 1);

    // A reason that ends itself at the limit: Não pronto.
    let short = pause_reason(&app, "Banheiro", 1, None, "end").await;
    pauses::start(&app.state, &ana, short).await.unwrap();
    app.state.clock.advance(2);
    assert_eq!(pauses::check_limits(&app.state).await.unwrap(), 1);
    let presence = app.state.db.read(move |c| atende::domain::routing::presence(c, ana.id)).await.unwrap();
    assert_eq!(presence, "not_ready");
    let rep = pauses_newest(&app).await;
    assert_eq!(rep[0].0.as_deref(), Some("limit"));
}

#[tokio::test]
async fn supervisors_end_pauses_of_their_teams_only_and_it_is_audited() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let other = app.team("Vendas").await;
    let ana_id = app.user("ana@x.com", Role::Agent, &[t]).await;
    app.user("sup@x.com", Role::Supervisor, &[t]).await;
    app.user("sup2@x.com", Role::Supervisor, &[other]).await;
    let coffee = pause_reason(&app, "Café", 15, None, "flag").await;
    let mut ana = app.login("ana@x.com").await;
    let r = ana.post("/pausa", &[("reason_id", &coffee.to_string())]).await;
    assert_eq!(r.status, 303);
    ana.get("/atendimentos").await.has(&["Em pausa", "Café", "Encerrar pausa"]);
    // Another team's supervisor: 404, nothing changes.
    let mut sup2 = app.login("sup2@x.com").await;
    assert_eq!(sup2.post(&format!("/agentes/{ana_id}/encerrar-pausa"), &[]).await.status, 404);
    assert_eq!(app.count("pauses").await, 1);
    let mut sup = app.login("sup@x.com").await;
    sup.get(&format!("/equipes/{t}")).await.has(&["Em pausa: Café", "/agentes/"]);
    assert_eq!(sup.post(&format!("/agentes/{ana_id}/encerrar-pausa"), &[]).await.status, 303);
    assert_eq!(app.audits("pause.end_by_supervisor").await, 1);
    let rep = pauses_newest(&app).await;
    assert_eq!(rep[0].0.as_deref(), Some("supervisor"));
    // An agent cannot do it to a colleague.
    let bia = app.user("bia@x.com", Role::Agent, &[t]).await;
    assert_eq!(ana.post(&format!("/agentes/{bia}/nao-pronto"), &[]).await.status, 404);
    assert_eq!(sup.post(&format!("/agentes/{ana_id}/nao-pronto"), &[]).await.status, 303);
    assert_eq!(app.audits("presence.set_not_ready_by_supervisor").await, 1);
}

#[tokio::test]
async fn the_tarefas_pages_create_filter_hide_others_and_refuse_bad_input() {
    let app = TestApp::new().await;
    let mut admin = app.admin().await;
    let t = app.team("Suporte").await;
    app.user("ana@x.com", Role::Agent, &[t]).await;
    app.user("bia@x.com", Role::Agent, &[t]).await;
    let mut ana = app.login("ana@x.com").await;
    // Bad input: clear messages, nothing stored.
    let r = ana.post("/tarefas", &[("kind", "call"), ("title", ""), ("quick", "1h"), ("assign", "me")]).await;
    assert_eq!(r.status, 422);
    r.has(&["Corrija"]);
    let r = ana.post("/tarefas", &[("kind", "call"), ("title", "X"), ("due", "amanhã"), ("assign", "me")]).await;
    assert_eq!(r.status, 422);
    r.has(&["Data e hora inválidas."]);
    let r = ana.post("/tarefas", &[("kind", "fax"), ("title", "X"), ("quick", "1h"), ("assign", "agent")]).await;
    assert_eq!(r.status, 422);
    r.has(&["Informe o agente."]);
    assert_eq!(app.count("tasks").await, 0);
    // A real one, with a quick pick.
    let r = ana
        .post(
            "/tarefas",
            &[("kind", "call"), ("title", "<script>alert(1)</script>"), ("quick", "1h"), ("assign", "me")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let loc = r.location().to_string();
    let id: i64 = loc.trim_start_matches("/tarefas/").parse().unwrap();
    ana.get("/tarefas").await.has(&["&lt;script&gt;alert(1)&lt;/script&gt;", "Pendente"]).lacks(&["<script>alert(1)"]);
    ana.get(&loc).await.has(&["Ligar"]);
    // Another agent: 404 on the page and on every action.
    let mut bia = app.login("bia@x.com").await;
    assert_eq!(bia.get(&loc).await.status, 404);
    for a in ["pegar", "finalizar", "arquivar", "adiar", "excluir", "iniciar"] {
        assert_eq!(bia.post(&format!("{loc}/{a}"), &[]).await.status, 404, "{a}");
    }
    bia.get("/tarefas").await.lacks(&["alert(1)"]);
    // The admin sees all and can filter by assignee.
    admin.get("/tarefas").await.has(&["alert(1)"]);
    admin.get("/tarefas?status=done").await.lacks(&["alert(1)"]);
    // Filters: bad cursor is a clear 400.
    assert_eq!(ana.get("/tarefas?apos=zzz").await.status, 400);
    // Complete: stays listed (grey) under "todas".
    assert_eq!(ana.post(&format!("{loc}/finalizar"), &[]).await.status, 303);
    ana.get("/tarefas?status=all").await.has(&["task-done", "Finalizada"]);
    ana.get("/tarefas").await.lacks(&["alert(1)"]);
    // Delete: gone, audited.
    assert_eq!(ana.post(&format!("{loc}/excluir"), &[]).await.status, 303);
    assert_eq!(app.count("tasks").await, 0);
    assert_eq!(app.audits("task.delete").await, 1);
    let _ = id;
}

#[tokio::test]
async fn leaving_a_conversation_with_an_open_task_asks_first() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let ana_u = user(&app, app.user("ana@x.com", Role::Agent, &[t]).await).await;
    let c = finished_conversation(&app, q, &ana_u).await;
    let mut ana = app.login("ana@x.com").await;
    ana.get(&format!("/atendimentos/{c}")).await.has(&["Criar tarefa"]);
    ana.get(&format!("/tarefas/nova?conversa={c}")).await.has(&["Maria"]);
    let r = ana
        .post(
            "/tarefas",
            &[
                ("kind", "meeting"),
                ("title", "Retorno"),
                ("quick", "tomorrow"),
                ("assign", "me"),
                ("conversation_id", &c.to_string()),
            ],
        )
        .await;
    assert_eq!(r.location(), format!("/atendimentos/{c}"));
    ana.get(&format!("/atendimentos/{c}")).await.has(&["🔔", "Tarefa criada · Responsável: "]);
    let due_before = app
        .state
        .db
        .read(|db| Ok(db.query_row("SELECT due_at FROM tasks", [], |r| r.get::<_, i64>(0))?))
        .await
        .unwrap();
    // Finishing asks what to do with the task; nothing changes yet.
    let r = ana.post(&format!("/atendimentos/{c}/finalizar"), &[]).await;
    assert_eq!(r.status, 200);
    r.has(&["Adiar para amanhã", "Concluir e fechar", "Retorno"]);
    assert_eq!(app.state.db.read(move |db| conv::load(db, c)).await.unwrap().unwrap().status, "assigned");
    // Postpone: same time tomorrow, then finished.
    let r = ana.post(&format!("/atendimentos/{c}/finalizar"), &[("tarefas", "adiar")]).await;
    assert_eq!(r.status, 303);
    let due_after = app
        .state
        .db
        .read(|db| Ok(db.query_row("SELECT due_at FROM tasks", [], |r| r.get::<_, i64>(0))?))
        .await
        .unwrap();
    let tz = app.state.settings().tz();
    assert_eq!(due_after, tasks::same_time_tomorrow(due_before, &tz).unwrap());
    assert_eq!(app.state.db.read(move |db| conv::load(db, c)).await.unwrap().unwrap().status, "finished");
}

#[tokio::test]
async fn the_scheduler_page_lists_jobs_with_last_and_next_runs() {
    let app = TestApp::new().await;
    let mut admin = app.admin().await;
    let mut sched = atende::jobs::start(&app.state).await.unwrap();
    // The per-second jobs have run once when the page says so; wait for that
    // (bounded) instead of guessing how long a busy machine takes.
    let waited = std::time::Instant::now();
    let mut r = admin.get("/admin/agendador").await;
    while !r.body.contains("Nada a fazer") && waited.elapsed() < std::time::Duration::from_secs(30) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        r = admin.get("/admin/agendador").await;
    }
    // Jobs by their pt-BR labels, never their internal keys.
    r.has(&[
        "Prazos das tarefas",
        "Limites das pausas",
        "Ofertas sem resposta",
        "Reaberturas agendadas",
        "Backup diário",
        "Limpeza de sessões expiradas",
        "A cada segundo",
        "Nada a fazer",
    ]);
    r.lacks(&[
        "tasks.due",
        "pauses.limits",
        "offers.expire",
        "conversations.reopen",
        "backup.daily",
        "sessions.cleanup",
    ]);
    sched.shutdown().await.unwrap();
    let t = app.team("Suporte").await;
    app.user("ana@x.com", Role::Agent, &[t]).await;
    let mut ana = app.login("ana@x.com").await;
    assert_eq!(ana.get("/admin/agendador").await.status, 403);
    // The old pause report address leads to the Pausas report.
    assert_eq!(admin.get("/admin/relatorio-pausas").await.status, 303);
    assert_eq!(ana.get("/relatorios/pausas").await.status, 404);
    admin.get("/relatorios/pausas").await.has(&["Pausas", "Cada pausa"]);
}

/// The stored pauses, newest first: (how it ended, exceeded by, limit).
async fn pauses_newest(app: &TestApp) -> Vec<(Option<String>, Option<i64>, i64)> {
    app.state
        .db
        .read(|c| {
            Ok(c.prepare("SELECT end_reason, exceeded_by, limit_secs FROM pauses ORDER BY started_at DESC, id DESC")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<Vec<_>, _>>()?)
        })
        .await
        .unwrap()
}
