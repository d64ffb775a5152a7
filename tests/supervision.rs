//! Acompanhamento (issue 14, live panels): a supervisor watches their teams'
//! agents and queues (admins all); another team's agent, queue or
//! conversation answers 404 without a trace on the page, the fragments, the
//! actions and the read-only view; agents get 404 everywhere. The figures
//! on a hand-built situation with the frozen clock; each action works, is
//! audited and changes nothing on bad input; the supervisor's stream gets
//! their agents' presence and not another team's.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use atende::domain::conversations::{self as conv, VisitorMessage};
use atende::domain::pauses;
use atende::domain::registers::{self, Value};
use atende::domain::users::{Role, User};
use atende::error::AppError;
use common::{Client, Resp, TestApp};

async fn user(app: &TestApp, login: &str, role: Role, teams: &[i64]) -> User {
    let id = app.user(login, role, teams).await;
    app.state.db.read(move |c| atende::domain::users::get(c, id)).await.unwrap().unwrap()
}

/// An agent in `team`, connected to `q`, Pronto or not.
async fn agent(app: &TestApp, login: &str, team: i64, q: i64, ready: bool) -> User {
    let u = user(app, login, Role::Agent, &[team]).await;
    conv::set_connected(&app.state, &u, q, true).await.unwrap();
    conv::set_ready(&app.state, &u, ready).await.unwrap();
    u
}

/// Noon in São Paulo (15:00 UTC, 1 Dec 2026): the test's day never ends
/// while it runs.
fn noon(app: &TestApp) {
    app.state.clock.advance(1_796_137_200 - app.state.now());
}

async fn visitor(app: &TestApp, q: i64, who: &str) -> i64 {
    let token = atende::domain::auth::token_hash(who);
    let m = VisitorMessage { name: who.into(), text: "Olá".into(), ..Default::default() };
    conv::visitor_message(&app.state, q, token, m).await.unwrap().0
}

async fn get(app: &TestApp, id: i64) -> conv::Conversation {
    app.state.db.read(move |c| conv::load(c, id)).await.unwrap().unwrap()
}

async fn presence(app: &TestApp, uid: i64) -> String {
    app.state.db.read(move |c| atende::domain::routing::presence(c, uid)).await.unwrap()
}

async fn pause_reason(app: &TestApp, name: &str, limit: i64) -> i64 {
    let spec = registers::spec("pausas").unwrap();
    let v = vec![Value::Text(name.into()), Value::Int(limit), Value::Null, Value::Null, Value::Text("flag".into())];
    registers::create(&app.state.db, spec, v, app.actor()).await.unwrap()
}

/// The HTML of one table row (from its id to its end).
fn row<'a>(r: &'a Resp, id: &str) -> &'a str {
    let at = r.body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no row {id} in:\n{}", r.body));
    let start = r.body[..at].rfind('<').unwrap_or(at);
    let end = r.body[start..].find("</tr>").map(|e| start + e).unwrap_or(r.body.len());
    &r.body[start..end]
}

/// Follows a 303 after an action and returns the page it leads to.
async fn follow(c: &mut Client<'_>, r: &Resp) -> Resp {
    assert_eq!(r.status, 303, "{}", r.body);
    let to = r.location().to_string();
    c.get(&to).await
}

struct World {
    ta: i64,
    tb: i64,
    qa: i64,
    qa2: i64,
    qb: i64,
    bia: User,
    dan: User,
    caio: User,
}

/// Vendas (two web chat queues, Bia Pronto and Dan Não pronto, both
/// connected to the first; the supervisor) and Suporte (Caio, another
/// supervisor's team).
async fn world(app: &TestApp) -> World {
    let (ta, tb) = (app.team("Vendas").await, app.team("Suporte").await);
    let qa = app.queue("Vendas web", ta, 1, 60).await;
    let qa2 = app.queue("Vendas pós-venda", ta, 3, 60).await;
    let qb = app.queue("Suporte web", tb, 3, 60).await;
    let bia = agent(app, "bia@x.com", ta, qa, true).await;
    let dan = agent(app, "dan@x.com", ta, qa, false).await;
    let caio = agent(app, "caio@x.com", tb, qb, true).await;
    app.user("sup@x.com", Role::Supervisor, &[ta]).await;
    World { ta, tb, qa, qa2, qb, bia, dan, caio }
}

#[tokio::test]
async fn a_supervisor_sees_their_teams_only_and_agents_get_404() {
    let app = TestApp::new().await;
    noon(&app);
    let w = world(&app).await;
    let mine = visitor(&app, w.qa, "Joana Vendas").await;
    let theirs = visitor(&app, w.qb, "Zuleica Escondida").await;
    let mut s = app.login("sup@x.com").await;
    let page = s.get("/acompanhamento").await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.has(&[
        "Acompanhamento",
        "Agentes",
        "Atendimentos",
        "Nome bia@x.com",
        "Nome dan@x.com",
        "href=\"/acompanhamento\"",
    ])
    .lacks(&["Nome caio@x.com", "Suporte web"]);
    let q = s.get("/acompanhamento?aba=atendimentos").await;
    q.has(&["Vendas web", "Vendas pós-venda", "Joana Vendas"]).lacks(&["Suporte web", "Zuleica", "Nome caio@x.com"]);
    s.get("/acompanhamento/agentes").await.has(&["Nome bia@x.com"]).lacks(&["Nome caio@x.com", "<html"]);
    s.get("/acompanhamento/atendimentos").await.has(&["Joana Vendas"]).lacks(&["Zuleica", "<html"]);
    s.get(&format!("/acompanhamento/atendimentos/{mine}")).await.has(&["Joana Vendas", "Somente leitura"]).lacks(&[
        "name=\"text\"",
        "/finalizar",
        "/arquivar",
    ]);
    // Another team's queue, conversation and agent: 404 and no trace.
    for path in [
        format!("/acompanhamento?aba=atendimentos&fila={}", w.qb),
        format!("/acompanhamento/atendimentos?fila={}", w.qb),
        "/acompanhamento/atendimentos?fila=abc".to_string(),
        format!("/acompanhamento/atendimentos/{theirs}"),
        "/acompanhamento/atendimentos/999999".to_string(),
    ] {
        let r = s.get(&path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        r.lacks(&["Zuleica", "Suporte web", "Nome caio@x.com"]);
    }
    let audits = app.count("audit_log").await;
    for (path, fields) in [
        (format!("/acompanhamento/agentes/{}/nao-pronto", w.caio.id), vec![]),
        (format!("/acompanhamento/agentes/{}/encerrar-pausa", w.caio.id), vec![]),
        (format!("/acompanhamento/atendimentos/{theirs}/atribuir"), vec![("agente", w.bia.id.to_string())]),
        (format!("/acompanhamento/atendimentos/{theirs}/transferir"), vec![("fila", w.qa2.to_string())]),
        (format!("/acompanhamento/atendimentos/{mine}/atribuir"), vec![("agente", w.caio.id.to_string())]),
        (format!("/acompanhamento/atendimentos/{mine}/transferir"), vec![("fila", w.qb.to_string())]),
        (format!("/acompanhamento/atendimentos/{theirs}/atribuir"), vec![("agente", String::new())]),
    ] {
        let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = s.post(&path, &f).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        r.lacks(&["Zuleica", "Suporte web", "Nome caio@x.com"]);
    }
    assert_eq!(app.count("audit_log").await, audits, "nothing was done");
    assert_eq!(presence(&app, w.caio.id).await, "ready");
    assert_eq!(get(&app, theirs).await.queue_id, w.qb);
    assert_eq!(get(&app, mine).await.queue_id, w.qa);
    // An agent: nothing here exists, and no menu entry.
    let mut b = app.login("bia@x.com").await;
    b.get("/").await.lacks(&["href=\"/acompanhamento\""]);
    let audits = app.count("audit_log").await;
    for path in [
        "/acompanhamento".to_string(),
        "/acompanhamento?aba=atendimentos".to_string(),
        "/acompanhamento/agentes".to_string(),
        "/acompanhamento/atendimentos".to_string(),
        format!("/acompanhamento/atendimentos/{mine}"),
    ] {
        assert_eq!(b.get(&path).await.status, 404, "{path}");
    }
    for path in [
        format!("/acompanhamento/agentes/{}/nao-pronto", w.dan.id),
        format!("/acompanhamento/agentes/{}/encerrar-pausa", w.dan.id),
        format!("/acompanhamento/atendimentos/{mine}/atribuir"),
        format!("/acompanhamento/atendimentos/{mine}/transferir"),
    ] {
        assert_eq!(b.post(&path, &[("agente", &w.dan.id.to_string()), ("fila", &w.qa2.to_string())]).await.status, 404);
    }
    assert_eq!(app.count("audit_log").await, audits);
    // An administrator sees every team.
    let mut a = app.admin().await;
    a.get("/acompanhamento").await.has(&["Nome bia@x.com", "Nome caio@x.com"]);
    a.get("/acompanhamento?aba=atendimentos").await.has(&["Suporte web", "Zuleica", "Joana Vendas"]);
    a.get(&format!("/acompanhamento/atendimentos/{theirs}")).await.has(&["Zuleica"]);
    let _ = (w.ta, w.tb);
}

#[tokio::test]
async fn the_figures_of_a_hand_built_morning() {
    let app = TestApp::with(|c| c.pause_minute_secs = 1).await;
    noon(&app);
    let w = world(&app).await;
    let admin = user(&app, "chefe@x.com", Role::Admin, &[]).await;
    // Bia takes one and closes it unanswered (abandoned), then holds another.
    let c0 = visitor(&app, w.qa, "Primeiro").await;
    conv::accept(&app.state, &w.bia, c0).await.unwrap();
    conv::close(&app.state, &w.bia, c0, true, None).await.unwrap();
    let c1 = visitor(&app, w.qa, "Segundo").await;
    conv::accept(&app.state, &w.bia, c1).await.unwrap();
    app.state.clock.advance(30);
    conv::send(&app.state, &w.bia, c1, "Olá, já vejo.").await.unwrap();
    // Bia is full (capacity 1): these wait. One is lost in the queue.
    let c2 = visitor(&app, w.qa, "Terceiro esperando").await;
    let lost = visitor(&app, w.qa, "Desistiu").await;
    conv::close(&app.state, &admin, lost, true, None).await.unwrap();
    app.state.clock.advance(400);
    let c3 = visitor(&app, w.qa, "Quarto esperando").await;
    assert_eq!(conv::alert_waiting(&app.state).await.unwrap(), 1, "the 5-minute alert for c2");
    app.state.clock.advance(10);
    let mut s = app.login("sup@x.com").await;
    let q = s.get("/acompanhamento?aba=atendimentos").await;
    assert_eq!(q.status, 200, "{}", q.body);
    let r = row(&q, &format!("sup-queue-{}", w.qa));
    for needle in [
        "<td class=\"sup-waiting\" data-label=\"Aguardando\">2</td>",
        "<td class=\"sup-in-service\" data-label=\"Em atendimento\">1</td>",
        "<td class=\"sup-ready\" data-label=\"Agentes prontos\">1</td>",
        "<td class=\"sup-abandoned\" data-label=\"Abandonados hoje\">2</td>",
        "<td class=\"sup-breaches\" data-label=\"Alertas de espera hoje\">1</td>",
        // 410 s: over the 5-minute alert, under twice it.
        "sup-longest sup-warn",
        "há <span data-sup-since",
        "06:50",
    ] {
        assert!(r.contains(needle), "{needle:?} in {r}");
    }
    let waiting = row(&q, &format!("sup-conv-{c2}"));
    assert!(waiting.contains("Terceiro esperando") && waiting.contains("06:50"), "{waiting}");
    assert!(row(&q, &format!("sup-conv-{c3}")).contains("00:10"));
    let serving = row(&q, &format!("sup-conv-{c1}"));
    assert!(serving.contains("Nome bia@x.com") && serving.contains("07:20"), "{serving}");
    q.lacks(&["Desistiu", "Primeiro"]);
    // Past twice the alert: red.
    app.state.clock.advance(200);
    let q = s.get("/acompanhamento/atendimentos").await;
    let r = row(&q, &format!("sup-queue-{}", w.qa));
    assert!(r.contains("sup-longest sup-over") && r.contains("10:10"), "{r}");
    // The agents: Bia full, her messages and today's counts; Dan on a pause past its limit.
    let coffee = pause_reason(&app, "Café", 1).await;
    pauses::start(&app.state, &w.dan, coffee).await.unwrap();
    let page = s.get("/acompanhamento").await;
    let bia = row(&page, &format!("sup-agent-{}", w.bia.id));
    for needle in
        ["Pronto", "Vendas web", "<strong class=\"sup-load\">1/1</strong>", "Segundo", "Finalizados: 1 · Atendidos: 2"]
    {
        assert!(bia.contains(needle), "{needle:?} in {bia}");
    }
    assert!(bia.contains(&format!("/acompanhamento/atendimentos/{c1}")), "{bia}");
    // Her last message went out 610 s ago.
    assert!(bia.contains("10:10"), "{bia}");
    let dan = row(&page, &format!("sup-agent-{}", w.dan.id));
    assert!(dan.contains("Em pausa: Café") && !dan.contains("sup-over") && !dan.contains("excedida"), "{dan}");
    app.state.clock.advance(2);
    assert_eq!(pauses::check_limits(&app.state).await.unwrap(), 1);
    let page = s.get("/acompanhamento/agentes").await;
    let dan = row(&page, &format!("sup-agent-{}", w.dan.id));
    assert!(dan.contains("sup-agent sup-over") && dan.contains("badge-danger") && dan.contains("excedida"), "{dan}");
    assert!(dan.contains("00:02"), "paused for 2 s: {dan}");
    let bia = row(&page, &format!("sup-agent-{}", w.bia.id));
    assert!(!bia.contains("sup-over"), "{bia}");
}

#[tokio::test]
async fn the_agent_actions_work_are_audited_and_refuse_with_a_message() {
    let app = TestApp::new().await;
    noon(&app);
    let w = world(&app).await;
    let coffee = pause_reason(&app, "Café", 15).await;
    let mut s = app.login("sup@x.com").await;
    // End a pause: Dan goes back to what he was (Não pronto).
    pauses::start(&app.state, &w.dan, coffee).await.unwrap();
    let r = s.post(&format!("/acompanhamento/agentes/{}/encerrar-pausa", w.dan.id), &[]).await;
    assert!(r.location().starts_with("/acompanhamento?aba=agentes&ok="), "{}", r.location());
    follow(&mut s, &r).await.has(&["Pausa encerrada."]);
    assert_eq!(presence(&app, w.dan.id).await, "not_ready");
    assert_eq!(app.audits("pause.end_by_supervisor").await, 1);
    let r = s.post(&format!("/acompanhamento/agentes/{}/encerrar-pausa", w.dan.id), &[]).await;
    follow(&mut s, &r).await.has(&["Este agente não está em pausa."]);
    assert_eq!(app.audits("pause.end_by_supervisor").await, 1);
    // Não pronto with an offer pending: as after the agent's own click, the
    // offer stays theirs until it expires, then moves on.
    let c = visitor(&app, w.qa, "Oferta pendente").await;
    assert_eq!((get(&app, c).await.status, get(&app, c).await.agent_id), ("offered".into(), Some(w.bia.id)));
    let r = s.post(&format!("/acompanhamento/agentes/{}/nao-pronto", w.bia.id), &[]).await;
    follow(&mut s, &r).await.has(&["Agente agora está Não pronto."]);
    assert_eq!(presence(&app, w.bia.id).await, "not_ready");
    assert_eq!(app.audits("presence.set_not_ready_by_supervisor").await, 1);
    assert_eq!((get(&app, c).await.status, get(&app, c).await.agent_id), ("offered".into(), Some(w.bia.id)));
    let r = s.post(&format!("/acompanhamento/agentes/{}/nao-pronto", w.bia.id), &[]).await;
    follow(&mut s, &r).await.has(&["Este agente já está Não pronto."]);
    assert_eq!(app.audits("presence.set_not_ready_by_supervisor").await, 1, "nothing done twice");
    app.state.clock.advance(61);
    assert_eq!(conv::expire_offers(&app.state).await.unwrap(), 1);
    let after = get(&app, c).await;
    assert_eq!((after.status.as_str(), after.agent_id), ("queued", None), "nobody else is Pronto");
    assert_eq!(presence(&app, w.bia.id).await, "not_ready");
    assert_eq!(app.audits("presence.set_not_ready_missed_offers").await, 0);
    // Not oneself, and a paused agent set Não pronto ends the pause.
    let me = app
        .state
        .db
        .read(|c| Ok(c.query_row("SELECT id FROM users WHERE login = 'sup@x.com'", [], |r| r.get::<_, i64>(0))?))
        .await
        .unwrap();
    assert_eq!(s.post(&format!("/acompanhamento/agentes/{me}/nao-pronto"), &[]).await.status, 404);
    conv::set_ready(&app.state, &w.dan, true).await.unwrap();
    pauses::start(&app.state, &w.dan, coffee).await.unwrap();
    s.post(&format!("/acompanhamento/agentes/{}/nao-pronto", w.dan.id), &[]).await;
    assert_eq!(presence(&app, w.dan.id).await, "not_ready");
    assert!(app.state.db.read(move |db| pauses::current(db, w.dan.id)).await.unwrap().is_none());
    assert_eq!(app.audits("presence.set_not_ready_by_supervisor").await, 2);
}

#[tokio::test]
async fn assigning_and_transferring_from_the_panel() {
    let app = TestApp::new().await;
    noon(&app);
    let w = world(&app).await;
    let eva = user(&app, "eva@x.com", Role::Agent, &[w.ta]).await;
    conv::set_ready(&app.state, &eva, true).await.unwrap();
    // Bia is full with one; the next waits in the queue.
    let held = visitor(&app, w.qa, "Com a Bia").await;
    conv::accept(&app.state, &w.bia, held).await.unwrap();
    let c = visitor(&app, w.qa, "Na fila").await;
    assert_eq!(get(&app, c).await.status, "queued");
    let mut s = app.login("sup@x.com").await;
    let panel = s.get("/acompanhamento?aba=atendimentos").await;
    let r = row(&panel, &format!("sup-conv-{c}"));
    assert!(r.contains(&format!("action=\"/acompanhamento/atendimentos/{c}/atribuir\"")), "{r}");
    assert!(r.contains(&format!("<option value=\"{}\" disabled>Nome dan@x.com (Não pronto)", w.dan.id)), "{r}");
    assert!(r.contains("Vendas pós-venda") && !r.contains("Suporte web"), "{r}");
    assert!(!r.contains("Nome eva@x.com"), "not connected: {r}");
    let path = format!("/acompanhamento/atendimentos/{c}/atribuir");
    let audits = app.count("audit_log").await;
    for (agent, message) in [
        (String::new(), "Escolha um agente para atribuir o atendimento."),
        ("abc".to_string(), "Escolha um agente para atribuir o atendimento."),
        (w.dan.id.to_string(), "Este agente não está Pronto"),
        (eva.id.to_string(), "Este agente não está conectado à fila deste atendimento."),
        (w.bia.id.to_string(), "Este agente já está com o máximo de atendimentos da fila."),
    ] {
        let r = s.post(&path, &[("agente", &agent)]).await;
        assert!(r.location().contains("erro="), "{agent}: {}", r.location());
        follow(&mut s, &r).await.has(&[message]);
    }
    assert_eq!(app.count("audit_log").await, audits, "nothing changed");
    assert_eq!(get(&app, c).await.status, "queued");
    // Dan becomes Pronto (and is offered it): the supervisor gives it to him.
    conv::set_ready(&app.state, &w.dan, true).await.unwrap();
    assert_eq!(get(&app, c).await.status, "offered");
    conv::decline(&app.state, &w.dan, c).await.unwrap();
    let r = s.post(&path, &[("agente", &w.dan.id.to_string())]).await;
    assert!(r.location().contains("ok=sup.ok.assigned"), "{}", r.location());
    let now = get(&app, c).await;
    assert_eq!((now.status.as_str(), now.agent_id), ("assigned", Some(w.dan.id)));
    assert_eq!(app.audits("supervision.assign").await, 1);
    // The wait ends for the metrics, credited to Dan.
    let dan = w.dan.id;
    let (waits, assigned): (i64, i64) = app
        .state
        .db
        .read(move |db| {
            Ok(db.query_row(
                "SELECT coalesce(sum(wait_n), 0), coalesce(sum(assigned_n), 0) FROM metric_days WHERE agent_id = ?1",
                [dan],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .await
        .unwrap();
    assert_eq!((waits, assigned), (1, 1));
    // In service too: Bia's conversation goes to Eva once she is connected and Pronto.
    conv::set_connected(&app.state, &eva, w.qa, true).await.unwrap();
    let r = s
        .post(
            &format!("/acompanhamento/atendimentos/{held}/atribuir"),
            &[("agente", &eva.id.to_string()), ("voltar", &format!("/acompanhamento/atendimentos/{held}"))],
        )
        .await;
    assert!(r.location().starts_with(&format!("/acompanhamento/atendimentos/{held}?ok=")), "{}", r.location());
    follow(&mut s, &r).await.has(&["Atendimento atribuído.", "Nome eva@x.com"]);
    assert_eq!(get(&app, held).await.agent_id, Some(eva.id));
    // Transfer to another queue of the team.
    let path = format!("/acompanhamento/atendimentos/{held}/transferir");
    for (queue, message) in [
        (String::new(), "Escolha uma fila para transferir o atendimento."),
        (w.qa.to_string(), "O atendimento já está nesta fila."),
    ] {
        let r = s.post(&path, &[("fila", &queue)]).await;
        follow(&mut s, &r).await.has(&[message]);
    }
    assert_eq!(app.audits("supervision.transfer").await, 0);
    let r = s.post(&path, &[("fila", &w.qa2.to_string())]).await;
    assert!(r.location().contains("ok=sup.ok.transferred"), "{}", r.location());
    let moved = get(&app, held).await;
    assert_eq!((moved.queue_id, moved.status.as_str(), moved.agent_id), (w.qa2, "queued", None));
    assert_eq!(app.audits("supervision.transfer").await, 1);
    // Closed conversations stay as they are.
    let admin = user(&app, "chefe@x.com", Role::Admin, &[]).await;
    conv::close(&app.state, &admin, held, true, None).await.unwrap();
    let r = s.post(&path, &[("fila", &w.qa.to_string())]).await;
    follow(&mut s, &r).await.has(&["Este atendimento já foi encerrado."]);
    assert_eq!(app.audits("supervision.transfer").await, 1);
}

#[tokio::test]
async fn a_supervisor_of_the_team_may_hand_a_conversation_on_and_one_of_another_team_may_not() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let sup_a = user(&app, "sup2@x.com", Role::Supervisor, &[w.ta]).await;
    let sup_b = user(&app, "supb@x.com", Role::Supervisor, &[w.tb]).await;
    let c = visitor(&app, w.qa, "Cliente").await;
    conv::accept(&app.state, &w.bia, c).await.unwrap();
    // Another agent of the team still may not: only the holder.
    conv::set_ready(&app.state, &w.dan, true).await.unwrap();
    match conv::transfer_to_team(&app.state, &w.dan, c, w.ta).await {
        Err(AppError::Conflict("conv.not_yours")) => {}
        other => panic!("an agent not holding it: {other:?}"),
    }
    // Another team's supervisor: it does not exist.
    match conv::transfer_to_agent(&app.state, &sup_b, c, w.dan.id).await {
        Err(AppError::NotFound) => {}
        other => panic!("another team's supervisor: {other:?}"),
    }
    assert_eq!(get(&app, c).await.agent_id, Some(w.bia.id));
    // The team's supervisor may.
    conv::transfer_to_agent(&app.state, &sup_a, c, w.dan.id).await.unwrap();
    assert_eq!(get(&app, c).await.agent_id, Some(w.dan.id));
    conv::transfer_to_team(&app.state, &sup_a, c, w.ta).await.unwrap();
    let back = get(&app, c).await;
    assert!(matches!(back.status.as_str(), "queued" | "offered"), "waiting again: {}", back.status);
    assert_eq!(back.queue_id, w.qa);
}

/// Reads an SSE stream from a real server until `until` appears or `wait` passes.
fn read_sse(addr: std::net::SocketAddr, cookie: &str, wait: Duration, until: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET /eventos HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n")
        .unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let start = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while start.elapsed() < wait {
        if let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
            if !until.is_empty() && String::from_utf8_lossy(&out).contains(until) {
                break;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Waits (bounded) until the bus has `n` more subscribers than `before`: a
/// stream holds two (its own receiver and its session watch), so waiting for
/// both means its receiver is there whichever subscribed first.
async fn subscribed(app: &TestApp, before: usize, n: usize) {
    let t = Instant::now();
    while app.state.bus.subscribers() < before + n {
        assert!(t.elapsed() < Duration::from_secs(20), "the stream did not subscribe");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_supervisors_stream_carries_their_agents_presence_only() {
    let app = TestApp::new().await;
    let addr = app.serve().await;
    let w = world(&app).await;
    let coffee = pause_reason(&app, "Café", 15).await;
    let s = app.login("sup@x.com").await;
    let d = app.login("dan@x.com").await;
    let cookie = |c: &Client| format!("atende_sid={}", c.cookies["atende_sid"]);
    let (cs, cd) = (cookie(&s), cookie(&d));
    let bia_mark = format!("\"agent_id\":{}", w.bia.id);
    let before = app.state.bus.subscribers();
    let until = bia_mark.clone();
    let hs = tokio::task::spawn_blocking(move || read_sse(addr, &cs, Duration::from_secs(20), &until));
    subscribed(&app, before, 2).await;
    let before = app.state.bus.subscribers();
    // Dan's stream is read until his own pause shows, which comes last.
    let dan_mark = format!("\"agent_id\":{}", w.dan.id);
    let hd = tokio::task::spawn_blocking(move || read_sse(addr, &cd, Duration::from_secs(20), &dan_mark));
    subscribed(&app, before, 2).await;
    // Another team's agent first, then one of the supervisor's: events are
    // delivered in order, so had the first been let through it would show.
    pauses::start(&app.state, &w.caio, coffee).await.unwrap();
    pauses::start(&app.state, &w.bia, coffee).await.unwrap();
    pauses::start(&app.state, &w.dan, coffee).await.unwrap();
    let got = hs.await.unwrap();
    assert!(got.contains("event:supervision"), "{got}");
    assert!(got.contains(&bia_mark), "their agent's presence: {got}");
    assert!(!got.contains(&format!("\"agent_id\":{}", w.caio.id)), "another team's agent: {got}");
    // An agent's stream carries nobody else's presence.
    let other = hd.await.unwrap();
    assert!(other.contains(&format!("\"agent_id\":{}", w.dan.id)), "his own pause: {other}");
    assert!(!other.contains("event:supervision") && !other.contains(&bia_mark), "{other}");
}

#[test]
fn every_supervision_key_is_in_the_catalog() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut missing = Vec::new();
    for f in ["views/supervision.rs", "web/supervision.rs", "domain/supervision/mod.rs", "domain/supervision/queues.rs"]
    {
        let src = std::fs::read_to_string(format!("{dir}/{f}")).unwrap();
        for lit in src.split('"').skip(1).step_by(2) {
            let key_like =
                lit.starts_with("sup.") && lit.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_');
            if key_like && !atende::i18n::has(lit) {
                missing.push(format!("{f}: {lit}"));
            }
        }
    }
    assert!(missing.is_empty(), "{missing:?}");
}
