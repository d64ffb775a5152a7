//! Routing never strands a customer (issue 11, seed 001): a declined or
//! expired offer with nobody else to take it comes back after a short pause;
//! an agent who lets offers expire in a row becomes Não pronto; long waits
//! alert the supervisors; and, under random steps, no conversation waits in
//! Na fila while an eligible agent has room.

mod common;

use atende::domain::conversations::{self as conv, VisitorMessage};
use atende::domain::registers::{self, Value};
use atende::domain::users::{Role, User};
use atende::domain::{notifications, pauses};
use atende::error::AppError;
use common::TestApp;

async fn user(app: &TestApp, id: i64) -> User {
    app.state.db.read(move |c| atende::domain::users::get(c, id)).await.unwrap().unwrap()
}

/// A user of `role` in `teams`.
async fn person(app: &TestApp, login: &str, role: Role, teams: &[i64]) -> User {
    let id = app.user(login, role, teams).await;
    user(app, id).await
}

/// An agent in `team`, Pronto and connected to `queues`.
async fn ready_agent(app: &TestApp, login: &str, team: i64, queues: &[i64]) -> User {
    let u = person(app, login, Role::Agent, &[team]).await;
    for q in queues {
        conv::set_connected(&app.state, &u, *q, true).await.unwrap();
    }
    conv::set_ready(&app.state, &u, true).await.unwrap();
    u
}

/// A web chat queue with some settings given by field name.
async fn queue_with(app: &TestApp, name: &str, team: i64, settings: &[(&str, i64)]) -> i64 {
    let spec = registers::spec("filas").unwrap();
    let mut v = registers::blank(spec);
    v[0] = Value::Text(name.into());
    v[1] = Value::Text("webchat".into());
    v[2] = Value::Int(team);
    for (field, value) in settings {
        let i = spec.fields.iter().position(|f| f.name == *field).unwrap_or_else(|| panic!("no field {field}"));
        v[i] = Value::Int(*value);
    }
    registers::create(&app.state.db, spec, v, app.actor()).await.unwrap()
}

async fn visitor(app: &TestApp, q: i64, who: &str) -> i64 {
    let token = atende::domain::auth::token_hash(who);
    let m = VisitorMessage { name: who.into(), text: "oi".into(), ..Default::default() };
    conv::visitor_message(&app.state, q, token, m).await.unwrap().0
}

async fn get(app: &TestApp, id: i64) -> conv::Conversation {
    app.state.db.read(move |c| conv::load(c, id)).await.unwrap().unwrap()
}

async fn state_of(app: &TestApp, id: i64) -> (String, Option<i64>) {
    let c = get(app, id).await;
    (c.status, c.agent_id)
}

async fn presence(app: &TestApp, uid: i64) -> String {
    app.state.db.read(move |c| atende::domain::routing::presence(c, uid)).await.unwrap()
}

/// Unread notification kinds of a user, newest first.
async fn notes(app: &TestApp, uid: i64) -> Vec<(String, String, String)> {
    let list = app.state.db.read(move |c| notifications::unread(c, uid, 50)).await.unwrap();
    list.into_iter().map(|n| (n.kind, n.text, n.link)).collect()
}

/// Moves the frozen clock and runs the per-second routing job once.
async fn tick(app: &TestApp, secs: i64) -> conv::Tick {
    app.state.clock.advance(secs);
    conv::routing_tick(&app.state).await.unwrap()
}

#[tokio::test]
async fn a_decline_with_nobody_else_comes_back_to_the_same_agent_after_the_pause() {
    let app = TestApp::new().await;
    let t = app.team("Vendas").await;
    let q = queue_with(&app, "Site", t, &[("reoffer_secs", 10)]).await;
    let a = ready_agent(&app, "a@x.com", t, &[q]).await;
    let c = visitor(&app, q, "v").await;
    assert_eq!(state_of(&app, c).await, ("offered".into(), Some(a.id)));
    conv::decline(&app.state, &a, c).await.unwrap();
    assert_eq!(state_of(&app, c).await, ("queued".into(), None), "the short pause");
    assert_eq!(tick(&app, 9).await.offered, 0);
    assert_eq!(state_of(&app, c).await, ("queued".into(), None));
    assert_eq!(tick(&app, 1).await, conv::Tick { expired: 0, offered: 1, alerted: 0 });
    assert_eq!(state_of(&app, c).await, ("offered".into(), Some(a.id)), "it comes back to the agent");
    // Two agents: the next one first; when both declined, back to them after the pause.
    let b = ready_agent(&app, "b@x.com", t, &[q]).await;
    conv::decline(&app.state, &a, c).await.unwrap();
    assert_eq!(state_of(&app, c).await, ("offered".into(), Some(b.id)), "next available agent");
    conv::decline(&app.state, &b, c).await.unwrap();
    assert_eq!(state_of(&app, c).await.0, "queued");
    tick(&app, 10).await;
    let (status, agent) = state_of(&app, c).await;
    assert_eq!(status, "offered");
    assert!(agent == Some(a.id) || agent == Some(b.id));
    // Accepting ends it: no hold is left behind.
    let holder = if agent == Some(a.id) { &a } else { &b };
    conv::accept(&app.state, holder, c).await.unwrap();
    assert_eq!(app.count("offer_declines").await, 0);
}

#[tokio::test]
async fn an_agent_freed_of_an_offer_gets_what_waits_in_any_of_their_queues() {
    let app = TestApp::new().await;
    let t = app.team("Vendas").await;
    let q1 = queue_with(&app, "Site", t, &[]).await;
    let q2 = queue_with(&app, "Loja", t, &[]).await;
    let a = ready_agent(&app, "a@x.com", t, &[q1, q2]).await;
    let c1 = visitor(&app, q1, "v1").await;
    let c2 = visitor(&app, q2, "v2").await;
    assert_eq!(state_of(&app, c1).await, ("offered".into(), Some(a.id)));
    assert_eq!(state_of(&app, c2).await, ("queued".into(), None), "one offer at a time");
    // Declining in one queue frees the agent for the other at once.
    conv::decline(&app.state, &a, c1).await.unwrap();
    assert_eq!(state_of(&app, c2).await, ("offered".into(), Some(a.id)));
    // Accepting with room left brings the next waiting one.
    let c3 = visitor(&app, q2, "v3").await;
    assert_eq!(state_of(&app, c3).await.0, "queued");
    conv::accept(&app.state, &a, c2).await.unwrap();
    assert_eq!(state_of(&app, c3).await, ("offered".into(), Some(a.id)));
    // Room made by an admin (capacity raised) is found by the tick too.
    conv::accept(&app.state, &a, c3).await.unwrap();
    tick(&app, 10).await;
    assert_eq!(state_of(&app, c1).await, ("offered".into(), Some(a.id)), "c1 back after the pause");
    conv::accept(&app.state, &a, c1).await.unwrap();
    app.state
        .db
        .write(move |c| Ok(c.execute("UPDATE queues SET agent_capacity = 1 WHERE id = ?1", [q2])?))
        .await
        .unwrap();
    let c4 = visitor(&app, q2, "v4").await;
    assert_eq!(state_of(&app, c4).await.0, "queued", "at capacity in that queue");
    app.state
        .db
        .write(move |c| Ok(c.execute("UPDATE queues SET agent_capacity = 5 WHERE id = ?1", [q2])?))
        .await
        .unwrap();
    assert_eq!(tick(&app, 1).await.offered, 1);
    assert_eq!(state_of(&app, c4).await, ("offered".into(), Some(a.id)));
}

#[tokio::test]
async fn agents_who_let_offers_expire_in_a_row_become_not_ready_and_supervisors_are_told() {
    let app = TestApp::new().await;
    let t = app.team("Vendas").await;
    let other = app.team("Suporte").await;
    let q = queue_with(&app, "Site", t, &[("offer_timeout_secs", 20), ("reoffer_secs", 10)]).await;
    let a = ready_agent(&app, "a@x.com", t, &[q]).await;
    let sup = person(&app, "sup@x.com", Role::Supervisor, &[t]).await;
    let other_sup = person(&app, "outro@x.com", Role::Supervisor, &[other]).await;
    let admin = person(&app, "adm@x.com", Role::Admin, &[]).await;
    let (mut rx, _) = app.state.bus.subscribe(None);

    // Expired, then accepted: the count starts again.
    let c1 = visitor(&app, q, "v1").await;
    assert_eq!(tick(&app, 20).await.expired, 1);
    assert_eq!(state_of(&app, c1).await, ("queued".into(), None), "held back for the pause");
    tick(&app, 10).await;
    assert_eq!(state_of(&app, c1).await, ("offered".into(), Some(a.id)), "the same agent again");
    conv::accept(&app.state, &a, c1).await.unwrap();
    // Expired, then declined: an answer too.
    let c2 = visitor(&app, q, "v2").await;
    tick(&app, 20).await;
    tick(&app, 10).await;
    assert_eq!(state_of(&app, c2).await, ("offered".into(), Some(a.id)));
    conv::decline(&app.state, &a, c2).await.unwrap();
    assert_eq!(presence(&app, a.id).await, "ready");
    assert!(notes(&app, a.id).await.is_empty());
    // Two in a row: Não pronto.
    tick(&app, 10).await;
    assert_eq!(state_of(&app, c2).await, ("offered".into(), Some(a.id)));
    tick(&app, 20).await;
    assert_eq!(presence(&app, a.id).await, "ready", "one expired");
    tick(&app, 10).await;
    assert_eq!(state_of(&app, c2).await, ("offered".into(), Some(a.id)));
    assert_eq!(tick(&app, 20).await.expired, 1);
    assert_eq!(presence(&app, a.id).await, "not_ready");
    assert_eq!(state_of(&app, c2).await, ("queued".into(), None));
    tick(&app, 30).await;
    assert_eq!(state_of(&app, c2).await, ("queued".into(), None), "nobody Pronto: it waits");

    let mine = notes(&app, a.id).await;
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0].0.as_str(), mine[0].1.as_str()), ("offers_missed", "Site · 2"));
    for s in [&sup, &admin] {
        let n = notes(&app, s.id).await;
        assert_eq!(n.len(), 1, "{}", s.login);
        assert_eq!(n[0].0, "agent_offers_missed");
        assert_eq!(n[0].1, "Nome a@x.com · Site · 2");
        assert_eq!(n[0].2, format!("/equipes/{t}"));
    }
    assert!(notes(&app, other_sup.id).await.is_empty(), "another team's supervisor");
    // The audit log says the system did it, and why.
    let audit: Vec<(Option<i64>, String, String, String)> = app
        .state
        .db
        .read(|c| {
            let mut st = c.prepare(
                "SELECT actor_id, actor_name, target, detail FROM audit_log WHERE action = 'presence.set_not_ready_missed_offers'",
            )?;
            Ok(st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<Result<_, _>>()?)
        })
        .await
        .unwrap();
    assert_eq!(audit, vec![(None, "sistema".into(), "Nome a@x.com".into(), "Site · 2".into())]);
    // Live: the agent's bar (presence and notification) and the supervisor's bell.
    let mut seen = Vec::new();
    while let Ok(e) = rx.try_recv() {
        seen.push((e.kind, e.agent_id));
    }
    assert!(seen.contains(&("presence", Some(a.id))));
    assert!(seen.contains(&("notification", Some(a.id))));
    assert!(seen.contains(&("notification", Some(sup.id))));
    // What the agent sees in the bar.
    let mut web = app.login("a@x.com").await;
    web.get("/barra").await.has(&[
        "Você ficou Não pronto: ofertas seguidas sem resposta: Site · 2",
        "Não pronto",
        "Ficar pronto",
    ]);
    // Back to Pronto: a fresh start, and the waiting conversation comes at once.
    conv::set_ready(&app.state, &a, true).await.unwrap();
    assert_eq!(state_of(&app, c2).await, ("offered".into(), Some(a.id)));
    tick(&app, 20).await;
    assert_eq!(presence(&app, a.id).await, "ready", "the count started again");
}

#[tokio::test]
async fn the_limit_is_a_queue_setting_and_zero_turns_it_off() {
    let app = TestApp::new().await;
    let t = app.team("Vendas").await;
    let q = queue_with(&app, "Site", t, &[("offer_timeout_secs", 20), ("missed_offers_limit", 0)]).await;
    let a = ready_agent(&app, "a@x.com", t, &[q]).await;
    let c = visitor(&app, q, "v").await;
    for _ in 0..4 {
        assert_eq!(state_of(&app, c).await, ("offered".into(), Some(a.id)));
        tick(&app, 20).await;
        tick(&app, 10).await;
    }
    assert_eq!(presence(&app, a.id).await, "ready");
    assert!(notes(&app, a.id).await.is_empty());
}

#[tokio::test]
async fn a_long_wait_alerts_the_queue_supervisors_once() {
    let app = TestApp::new().await;
    let t = app.team("Vendas").await;
    let other = app.team("Suporte").await;
    let q = queue_with(&app, "Site", t, &[]).await;
    let quiet = queue_with(&app, "Loja", t, &[("wait_alert_minutes", 0)]).await;
    let agent = person(&app, "a@x.com", Role::Agent, &[t]).await;
    let sup = person(&app, "sup@x.com", Role::Supervisor, &[t]).await;
    let other_sup = person(&app, "outro@x.com", Role::Supervisor, &[other]).await;
    let admin = person(&app, "adm@x.com", Role::Admin, &[]).await;
    let (mut rx, _) = app.state.bus.subscribe(None);
    let c = visitor(&app, q, "v1").await;
    visitor(&app, quiet, "v2").await;
    assert_eq!(tick(&app, 299).await.alerted, 0);
    assert_eq!(tick(&app, 1).await.alerted, 1, "5 minutes by default");
    for s in [&sup, &admin] {
        let n = notes(&app, s.id).await;
        assert_eq!(n, vec![("conv_waiting".into(), "Site · 5 min".into(), format!("/atendimentos/{c}"))]);
    }
    assert!(notes(&app, other_sup.id).await.is_empty());
    assert!(notes(&app, agent.id).await.is_empty(), "agents are not alerted");
    let mut live = false;
    while let Ok(e) = rx.try_recv() {
        live |= e.kind == "notification" && e.agent_id == Some(sup.id);
    }
    assert!(live, "the supervisor's bell updates live");
    // Once per wait, however long it lasts.
    assert_eq!(tick(&app, 600).await.alerted, 0);
    assert_eq!(notes(&app, sup.id).await.len(), 1);
    // Taken, then back in a queue: a new wait, a new alert when it lasts.
    let a = ready_agent(&app, "b@x.com", t, &[q]).await;
    conv::accept(&app.state, &a, c).await.unwrap();
    let mut web = app.login("sup@x.com").await;
    web.get("/notificacoes").await.has(&["Cliente esperando na fila", "Site · 5 min", &format!("/atendimentos/{c}")]);
    assert_eq!(tick(&app, 600).await.alerted, 0);
    conv::set_ready(&app.state, &a, false).await.unwrap();
    conv::transfer_to_team(&app.state, &a, c, t).await.unwrap();
    assert_eq!(state_of(&app, c).await, ("queued".into(), None));
    assert_eq!(tick(&app, 299).await.alerted, 0);
    assert_eq!(tick(&app, 1).await.alerted, 1);
    assert_eq!(notes(&app, sup.id).await.len(), 2);
}

#[tokio::test]
async fn the_queue_form_carries_the_routing_settings() {
    let app = TestApp::new().await;
    let mut a = app.admin().await;
    let t = app.team("Suporte").await.to_string();
    a.get("/admin/filas/novo").await.has(&[
        "Nova oferta após recusa (segundos)",
        "name=\"reoffer_secs\" value=\"10\"",
        "Ofertas expiradas seguidas até Não pronto",
        "name=\"missed_offers_limit\" value=\"2\"",
        "Alerta de espera (minutos)",
        "name=\"wait_alert_minutes\" value=\"5\"",
    ]);
    let base = |extra: &[(&'static str, &'static str)]| {
        let mut v: Vec<(&str, String)> = vec![
            ("name", "Site".into()),
            ("channel", "webchat".into()),
            ("team_id", t.clone()),
            ("offer_timeout_secs", "30".into()),
            ("agent_capacity", "5".into()),
        ];
        v.extend(extra.iter().map(|(k, x)| (*k, x.to_string())));
        v
    };
    let bad = [
        (base(&[("reoffer_secs", "0")]), "Valor fora do intervalo permitido."),
        (base(&[("missed_offers_limit", "-1")]), "Valor fora do intervalo permitido."),
        (base(&[("wait_alert_minutes", "")]), "Campo obrigatório."),
        (base(&[("wait_alert_minutes", "cinco")]), "Informe um número inteiro."),
    ];
    for (fields, msg) in bad {
        let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = a.post("/admin/filas", &f).await;
        assert_eq!(r.status, 422, "{fields:?}");
        r.has(&[msg]);
    }
    assert_eq!(app.count("queues").await, 0);
    let settings = |name: &'static str| {
        let app = &app;
        async move {
            app.state
                .db
                .read(move |c| {
                    Ok(c.query_row(
                        "SELECT reoffer_secs, missed_offers_limit, wait_alert_minutes FROM queues WHERE name = ?1",
                        [name],
                        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)),
                    )?)
                })
                .await
                .unwrap()
        }
    };
    // A form without the new fields (an older page) keeps the defaults.
    let f = base(&[]);
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(a.post("/admin/filas", &f).await.status, 303);
    assert_eq!(settings("Site").await, (10, 2, 5));
    let mut f = base(&[("reoffer_secs", "15"), ("missed_offers_limit", "0"), ("wait_alert_minutes", "0")]);
    f[0].1 = "Loja".into();
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(a.post("/admin/filas", &f).await.status, 303);
    assert_eq!(settings("Loja").await, (15, 0, 0));
}

/// SplitMix64: a tiny deterministic generator, so a failing seed replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        if v.is_empty() { None } else { Some(&v[self.below(v.len())]) }
    }
}

/// A queued conversation and an agent who could take it now — ready, active,
/// connected to its queue, in its team, not holding an offer (one at a time),
/// under the queue's capacity, not in the re-offer pause for it — if any.
/// Written here, apart from the routing code, on purpose.
const STRANDED: &str = "SELECT c.id, u.id FROM conversations c
    JOIN queues q ON q.id = c.queue_id AND q.active = 1
    JOIN queue_connections qc ON qc.queue_id = q.id
    JOIN users u ON u.id = qc.user_id AND u.active = 1
    JOIN agent_presence p ON p.user_id = u.id AND p.status = 'ready'
    WHERE c.status = 'queued'
      AND EXISTS (SELECT 1 FROM user_teams ut WHERE ut.user_id = u.id AND ut.team_id = q.team_id)
      AND NOT EXISTS (SELECT 1 FROM conversations o WHERE o.agent_id = u.id AND o.status = 'offered')
      AND (SELECT count(*) FROM conversations h WHERE h.agent_id = u.id AND h.queue_id = q.id
           AND h.status IN ('offered', 'assigned')) < q.agent_capacity
      AND NOT EXISTS (SELECT 1 FROM offer_declines d
           WHERE d.conversation_id = c.id AND d.agent_id = u.id AND d.until_at > ?1)
    LIMIT 1";

/// The pause is short: no hold lasts longer than its queue's setting.
const LONG_HOLDS: &str = "SELECT count(*) FROM offer_declines d
    JOIN conversations c ON c.id = d.conversation_id JOIN queues q ON q.id = c.queue_id
    WHERE d.until_at > ?1 + q.reoffer_secs";

/// Agents holding more than one offer.
const DOUBLE_OFFERS: &str = "SELECT count(*) FROM (SELECT agent_id FROM conversations
    WHERE status = 'offered' GROUP BY agent_id HAVING count(*) > 1)";

/// What the random walk saw, so the test proves it exercised the rules.
#[derive(Default, Debug)]
struct Seen {
    /// Checks where someone waited in Na fila while an agent was Pronto.
    pressure: usize,
    accepted: usize,
    declined: usize,
    expired: usize,
    /// Offers the tick made that no other change had routed.
    swept: usize,
    /// Conversations offered again, after the pause, to an agent who had
    /// declined them or let them expire.
    came_back: usize,
    finished: usize,
    transferred: usize,
    paused: usize,
}

fn refused(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Conflict(_)
            | AppError::BadRequest(_)
            | AppError::NotFound
            | AppError::Rule(..)
            | AppError::Invalid(_)
    )
}

async fn ids(app: &TestApp, sql: &'static str) -> Vec<(i64, Option<i64>)> {
    app.state
        .db
        .read(move |c| {
            let mut s = c.prepare(sql)?;
            let v = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
            Ok(v)
        })
        .await
        .unwrap()
}

async fn walk(seed: u64, steps: usize, seen: &mut Seen) {
    let app = TestApp::new().await;
    let mut rng = Rng(seed);
    let t1 = app.team("Vendas").await;
    let t2 = app.team("Suporte").await;
    // (name, team, capacity, offer timeout, re-offer pause, missed-offer limit)
    let shapes = [("Site", t1, 2, 20, 10, 2), ("Loja", t1, 1, 30, 5, 3), ("Ajuda", t2, 2, 20, 15, 0)];
    let mut queues = Vec::new();
    for (name, team, cap, timeout, pause, limit) in shapes {
        let set = [("agent_capacity", cap), ("offer_timeout_secs", timeout), ("reoffer_secs", pause)];
        let q = queue_with(&app, name, team, &[set[0], set[1], set[2], ("missed_offers_limit", limit)]).await;
        queues.push((q, team));
    }
    let spec = registers::spec("pausas").unwrap();
    let mut v = registers::blank(spec);
    v[0] = Value::Text("Café".into());
    v[1] = Value::Int(1);
    v[4] = Value::Text("end".into());
    let reason = registers::create(&app.state.db, spec, v, app.actor()).await.unwrap();
    let mut agents = Vec::new();
    for i in 0..9 {
        let teams: &[i64] = match i % 3 {
            0 => &[t1],
            1 => &[t2],
            _ => &[t1, t2],
        };
        agents.push(person(&app, &format!("agente{i}@x.com"), Role::Agent, teams).await);
    }
    let mut customers = 0;
    let mut log: Vec<String> = Vec::new();
    for step in 0..steps {
        let what = rng.below(22);
        let entry = match what {
            0..=3 => {
                let (q, _) = *rng.pick(&queues).unwrap();
                customers += 1;
                visitor(&app, q, &format!("cliente{customers}")).await;
                format!("customer {customers} in queue {q}")
            }
            4..=5 => {
                let a = rng.pick(&agents).unwrap().clone();
                let on = rng.below(3) > 0;
                conv::set_ready(&app.state, &a, on).await.unwrap();
                format!("agent {} ready={on}", a.id)
            }
            6..=7 => {
                let a = rng.pick(&agents).unwrap().clone();
                let (q, team) = *rng.pick(&queues).unwrap();
                let on = rng.below(4) > 0;
                let r = conv::set_connected(&app.state, &a, q, on).await;
                assert_eq!(r.is_ok(), a.team_ids.contains(&team), "{r:?}");
                format!("agent {} connected to {q}={on}", a.id)
            }
            8 => {
                let a = rng.pick(&agents).unwrap().clone();
                if rng.below(2) == 0 {
                    pauses::start(&app.state, &a, reason).await.unwrap();
                    seen.paused += 1;
                    format!("agent {} paused", a.id)
                } else {
                    pauses::end(&app.state, &a).await.unwrap();
                    format!("agent {} ended a pause", a.id)
                }
            }
            9..=13 => {
                let offered = ids(&app, "SELECT id, agent_id FROM conversations WHERE status = 'offered'").await;
                let Some(&(c, Some(agent))) = rng.pick(&offered) else { continue };
                let a = agents.iter().find(|a| a.id == agent).unwrap().clone();
                if what <= 11 {
                    conv::accept(&app.state, &a, c).await.unwrap();
                    seen.accepted += 1;
                    format!("agent {agent} accepted {c}")
                } else {
                    conv::decline(&app.state, &a, c).await.unwrap();
                    seen.declined += 1;
                    format!("agent {agent} declined {c}")
                }
            }
            14..=16 => {
                let secs = 1 + rng.below(25) as i64;
                let held = ids(&app, "SELECT conversation_id, agent_id FROM offer_declines").await;
                app.state.clock.advance(secs);
                let t = conv::routing_tick(&app.state).await.unwrap();
                pauses::check_limits(&app.state).await.unwrap();
                let offered = ids(&app, "SELECT id, agent_id FROM conversations WHERE status = 'offered'").await;
                seen.came_back += offered.iter().filter(|o| held.contains(o)).count();
                seen.expired += t.expired;
                seen.swept += t.offered;
                format!("{secs} s later: {t:?}")
            }
            17..=19 => {
                let held = ids(&app, "SELECT id, agent_id FROM conversations WHERE status = 'assigned'").await;
                let Some(&(c, Some(agent))) = rng.pick(&held) else { continue };
                let a = agents.iter().find(|a| a.id == agent).unwrap().clone();
                conv::close(&app.state, &a, c, rng.below(2) == 0, None).await.unwrap();
                seen.finished += 1;
                format!("agent {agent} closed {c}")
            }
            _ => {
                let held = ids(&app, "SELECT id, agent_id FROM conversations WHERE status = 'assigned'").await;
                let Some(&(c, Some(agent))) = rng.pick(&held) else { continue };
                let a = agents.iter().find(|a| a.id == agent).unwrap().clone();
                let r = if rng.below(2) == 0 {
                    let team = if rng.below(2) == 0 { t1 } else { t2 };
                    conv::transfer_to_team(&app.state, &a, c, team).await
                } else {
                    let to = rng.pick(&agents).unwrap().id;
                    conv::transfer_to_agent(&app.state, &a, c, to).await
                };
                match &r {
                    Ok(()) => seen.transferred += 1,
                    Err(e) => assert!(refused(e), "seed {seed} step {step}: {e:?}"),
                }
                format!("agent {agent} transferred {c}: {r:?}")
            }
        };
        log.push(entry);
        let now = app.state.now();
        let (stranded, long, double, waiting_with_ready) = app
            .state
            .db
            .read(move |c| {
                let stranded: Option<(i64, i64)> = c
                    .query_row(STRANDED, [now], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map(Some)
                    .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
                let long: i64 = c.query_row(LONG_HOLDS, [now], |r| r.get(0))?;
                let double: i64 = c.query_row(DOUBLE_OFFERS, [], |r| r.get(0))?;
                let pressure: bool = c.query_row(
                    "SELECT EXISTS (SELECT 1 FROM conversations WHERE status = 'queued')
                        AND EXISTS (SELECT 1 FROM agent_presence WHERE status = 'ready')",
                    [],
                    |r| r.get(0),
                )?;
                Ok((stranded, long, double, pressure))
            })
            .await
            .unwrap();
        let tail = log.iter().rev().take(12).rev().cloned().collect::<Vec<_>>().join("\n  ");
        assert!(
            stranded.is_none(),
            "seed {seed} step {step}: conversation and agent {stranded:?} stranded; last steps:\n  {tail}"
        );
        assert_eq!(long, 0, "seed {seed} step {step}: a hold longer than the pause; last steps:\n  {tail}");
        assert_eq!(double, 0, "seed {seed} step {step}: two offers to one agent; last steps:\n  {tail}");
        seen.pressure += waiting_with_ready as usize;
    }
}

#[tokio::test]
async fn randomized_routing_never_leaves_a_customer_waiting_while_an_eligible_agent_has_room() {
    let mut seen = Seen::default();
    for seed in [1_u64, 2, 3] {
        walk(seed, 300, &mut seen).await;
    }
    // The walk really went through the rules it checks.
    assert!(seen.pressure > 100, "{seen:?}");
    assert!(seen.accepted > 20 && seen.declined > 10 && seen.expired > 10, "{seen:?}");
    assert!(seen.came_back > 5 && seen.finished > 10 && seen.transferred > 2 && seen.paused > 5, "{seen:?}");
}
