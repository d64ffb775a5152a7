//! Agent desk rules: conversation lifecycle, offer routing, claims, transfers,
//! visibility. Driven through the domain functions on a fresh database.

mod common;

use atende::domain::conversations::{self as conv, VisitorMessage};
use atende::domain::users::{Role, User};
use atende::error::AppError;
use common::TestApp;

async fn user(app: &TestApp, id: i64) -> User {
    app.state.db.read(move |c| atende::domain::users::get(c, id)).await.unwrap().unwrap()
}

/// An agent in `team`, Pronto and connected to `q`.
async fn ready_agent(app: &TestApp, login: &str, team: i64, q: i64) -> User {
    let id = app.user(login, Role::Agent, &[team]).await;
    let u = user(app, id).await;
    conv::set_connected(&app.state, &u, q, true).await.unwrap();
    conv::set_ready(&app.state, &u, true).await.unwrap();
    u
}

async fn visitor(app: &TestApp, q: i64, who: &str, text: &str) -> i64 {
    let token = atende::domain::auth::token_hash(who);
    let m = VisitorMessage { name: who.into(), text: text.into(), ..Default::default() };
    conv::visitor_message(&app.state, q, token, m).await.unwrap().0
}

async fn get(app: &TestApp, id: i64) -> conv::Conversation {
    app.state.db.read(move |c| conv::load(c, id)).await.unwrap().unwrap()
}

#[tokio::test]
async fn a_new_conversation_is_offered_then_accepted() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let ana = ready_agent(&app, "ana@x.com", t, q).await;
    let c = visitor(&app, q, "Maria", "Olá, preciso de ajuda").await;
    let row = get(&app, c).await;
    assert_eq!(row.status, "offered");
    assert_eq!(row.agent_id, Some(ana.id));
    assert_eq!(row.subject, "Olá, preciso de ajuda");
    // The same visitor writing again stays in the same conversation.
    assert_eq!(visitor(&app, q, "Maria", "Alguém?").await, c);
    conv::accept(&app.state, &ana, c).await.unwrap();
    assert_eq!(get(&app, c).await.status, "assigned");
    conv::send(&app.state, &ana, c, "Olá Maria, em que posso ajudar?").await.unwrap();
    let msgs = app.state.db.read(move |db| conv::messages(db, c, 0, true)).await.unwrap();
    let kinds: Vec<&str> = msgs.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(kinds, ["system", "in", "in", "system", "out"]);
    assert_eq!(msgs[3].body, "ev.accepted");
    assert_eq!(msgs[4].author_name, "Nome ana@x.com");
    // Accepting twice is refused with a clear reason.
    assert!(matches!(conv::accept(&app.state, &ana, c).await, Err(AppError::Conflict("conv.offer_gone"))));
    // Empty or huge messages are refused and change nothing.
    assert!(matches!(conv::send(&app.state, &ana, c, "   ").await, Err(AppError::BadRequest(_))));
    assert!(matches!(conv::send(&app.state, &ana, c, &"x".repeat(5000)).await, Err(AppError::BadRequest(_))));
    assert_eq!(app.count("messages").await, 5);
}

#[tokio::test]
async fn routing_prefers_fewest_active_then_longest_idle() {
    let app = TestApp::new().await;
    let t = app.team("Vendas").await;
    let q = app.queue("Site", t, 5, 30).await;
    let a = ready_agent(&app, "a@x.com", t, q).await;
    let b = ready_agent(&app, "b@x.com", t, q).await;
    // Nobody has anything: equal load, equal idleness → lowest id first.
    let c1 = visitor(&app, q, "v1", "oi").await;
    assert_eq!(get(&app, c1).await.agent_id, Some(a.id));
    // a holds an offer → b gets the next one.
    let c2 = visitor(&app, q, "v2", "oi").await;
    assert_eq!(get(&app, c2).await.agent_id, Some(b.id));
    conv::accept(&app.state, &a, c1).await.unwrap();
    app.state.clock.advance(10);
    conv::accept(&app.state, &b, c2).await.unwrap();
    // Both have one conversation; a has been idle longer → a.
    let c3 = visitor(&app, q, "v3", "oi").await;
    assert_eq!(get(&app, c3).await.agent_id, Some(a.id));
    conv::accept(&app.state, &a, c3).await.unwrap();
    // a has two, b one → b.
    let c4 = visitor(&app, q, "v4", "oi").await;
    assert_eq!(get(&app, c4).await.agent_id, Some(b.id));
}

#[tokio::test]
async fn capacity_holds_and_the_oldest_waiting_goes_first_when_it_frees() {
    let app = TestApp::new().await;
    let t = app.team("Vendas").await;
    let q = app.queue("Site", t, 1, 30).await;
    let a = ready_agent(&app, "a@x.com", t, q).await;
    let c1 = visitor(&app, q, "v1", "oi").await;
    conv::accept(&app.state, &a, c1).await.unwrap();
    let c2 = visitor(&app, q, "v2", "segundo").await;
    app.state.clock.advance(5);
    let c3 = visitor(&app, q, "v3", "terceiro").await;
    assert_eq!(get(&app, c2).await.status, "queued", "at capacity: waits");
    assert_eq!(get(&app, c3).await.status, "queued");
    // Claiming beyond capacity is refused too.
    assert!(matches!(conv::claim(&app.state, &a, c3).await, Err(AppError::Conflict("conv.at_capacity"))));
    conv::close(&app.state, &a, c1, false, None).await.unwrap();
    assert_eq!(get(&app, c1).await.status, "finished");
    let r2 = get(&app, c2).await;
    assert_eq!((r2.status.as_str(), r2.agent_id), ("offered", Some(a.id)), "oldest first");
    assert_eq!(get(&app, c3).await.status, "queued");
}

#[tokio::test]
async fn decline_cascades_and_comes_back_to_the_queue() {
    let app = TestApp::new().await;
    let t = app.team("Vendas").await;
    let q = app.queue("Site", t, 5, 30).await;
    let a = ready_agent(&app, "a@x.com", t, q).await;
    let b = ready_agent(&app, "b@x.com", t, q).await;
    let c = visitor(&app, q, "v", "oi").await;
    assert_eq!(get(&app, c).await.agent_id, Some(a.id));
    conv::decline(&app.state, &a, c).await.unwrap();
    assert_eq!(get(&app, c).await.agent_id, Some(b.id), "next available agent");
    conv::decline(&app.state, &b, c).await.unwrap();
    let row = get(&app, c).await;
    assert_eq!((row.status.as_str(), row.agent_id), ("queued", None), "nobody else: back to the queue");
    // When someone frees up (here: becomes ready again) it is offered again.
    conv::set_ready(&app.state, &a, false).await.unwrap();
    conv::set_ready(&app.state, &a, true).await.unwrap();
    assert_eq!(get(&app, c).await.agent_id, Some(a.id));
    // Only the agent it is offered to may answer.
    assert!(conv::decline(&app.state, &b, c).await.is_err());
}

#[tokio::test]
async fn unanswered_offers_time_out_to_the_next_agent() {
    let app = TestApp::new().await;
    let t = app.team("Vendas").await;
    let q = app.queue("Site", t, 5, 20).await;
    let a = ready_agent(&app, "a@x.com", t, q).await;
    let b = ready_agent(&app, "b@x.com", t, q).await;
    let c = visitor(&app, q, "v", "oi").await;
    assert_eq!(get(&app, c).await.agent_id, Some(a.id));
    app.state.clock.advance(19);
    assert_eq!(conv::expire_offers(&app.state).await.unwrap(), 0);
    app.state.clock.advance(1);
    assert_eq!(conv::expire_offers(&app.state).await.unwrap(), 1);
    assert_eq!(get(&app, c).await.agent_id, Some(b.id));
    app.state.clock.advance(20);
    conv::expire_offers(&app.state).await.unwrap();
    // Nobody else: it comes back to a, whose re-offer pause (10 s) is over.
    assert_eq!(get(&app, c).await.agent_id, Some(a.id));
    let msgs = app.state.db.read(move |db| conv::messages(db, c, 0, true)).await.unwrap();
    assert_eq!(msgs.iter().filter(|m| m.body == "ev.offer_expired").count(), 2);
    // Not-ready or disconnected agents get no offers.
    conv::set_connected(&app.state, &b, q, false).await.unwrap();
    conv::set_ready(&app.state, &a, false).await.unwrap();
    let c2 = visitor(&app, q, "v2", "oi").await;
    assert_eq!(get(&app, c2).await.status, "queued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_claiming_at_once_one_wins() {
    let app = TestApp::new().await;
    let t = app.team("Vendas").await;
    let q = app.queue("Site", t, 5, 30).await;
    let a = user(&app, app.user("a@x.com", Role::Agent, &[t]).await).await;
    let b = user(&app, app.user("b@x.com", Role::Agent, &[t]).await).await;
    for round in 0..20 {
        let c = visitor(&app, q, &format!("v{round}"), "oi").await;
        let (s1, s2) = (app.state.clone(), app.state.clone());
        let (a2, b2) = (a.clone(), b.clone());
        let h1 = tokio::spawn(async move { conv::claim(&s1, &a2, c).await });
        let h2 = tokio::spawn(async move { conv::claim(&s2, &b2, c).await });
        let (r1, r2) = (h1.await.unwrap(), h2.await.unwrap());
        assert!(r1.is_ok() != r2.is_ok(), "round {round}: exactly one wins ({r1:?}, {r2:?})");
        let loser = if r1.is_ok() { r2 } else { r1 };
        assert!(matches!(loser, Err(AppError::Conflict("conv.already_taken"))));
        let winner = get(&app, c).await.agent_id.unwrap();
        let w = if winner == a.id { &a } else { &b };
        conv::close(&app.state, w, c, true, None).await.unwrap();
    }
}

#[tokio::test]
async fn transfers_to_team_queue_or_available_agent() {
    let app = TestApp::new().await;
    let vendas = app.team("Vendas").await;
    let suporte = app.team("Suporte").await;
    let qv = app.queue("Site vendas", vendas, 5, 30).await;
    let qs = app.queue("Site suporte", suporte, 5, 30).await;
    let a = ready_agent(&app, "a@x.com", vendas, qv).await;
    let b = user(&app, app.user("b@x.com", Role::Agent, &[vendas]).await).await;
    let s = user(&app, app.user("s@x.com", Role::Agent, &[suporte]).await).await;
    let c = visitor(&app, qv, "v", "oi").await;
    conv::accept(&app.state, &a, c).await.unwrap();
    // b is not ready: shown with why, and cannot be chosen.
    let row = get(&app, c).await;
    let opts = app.state.db.read({
        let (a, row) = (a.clone(), row.clone());
        move |db| conv::transfer_options(db, &a, &row)
    });
    let opts = opts.await.unwrap();
    assert!(opts.agents.iter().any(|(id, _, why)| *id == b.id && *why == Some("presence.not_ready")));
    assert!(matches!(
        conv::transfer_to_agent(&app.state, &a, c, b.id).await,
        Err(AppError::Conflict("presence.not_ready"))
    ));
    assert!(conv::transfer_to_agent(&app.state, &a, c, s.id).await.is_err(), "not in the queue's team");
    conv::set_ready(&app.state, &b, true).await.unwrap();
    conv::transfer_to_agent(&app.state, &a, c, b.id).await.unwrap();
    let row = get(&app, c).await;
    assert_eq!((row.status.as_str(), row.agent_id), ("assigned", Some(b.id)));
    // To a team: back to that team's queue, visible to all of it.
    conv::transfer_to_team(&app.state, &b, c, suporte).await.unwrap();
    let row = get(&app, c).await;
    assert_eq!((row.status.as_str(), row.queue_id, row.agent_id), ("queued", qs, None));
    let home = app.state.db.read({
        let s = s.clone();
        move |db| conv::home(db, &s, 0, &Default::default())
    });
    assert!(home.await.unwrap().queued.rows.iter().any(|x| x.id == c));
    assert!(
        matches!(conv::transfer_to_team(&app.state, &b, c, vendas).await, Err(AppError::NotFound)),
        "b no longer sees it"
    );
    let msgs = app.state.db.read(move |db| conv::messages(db, c, 0, true)).await.unwrap();
    assert!(msgs.iter().any(|m| m.body == "ev.transferred_agent"));
    assert!(msgs.iter().any(|m| m.body == "ev.transferred_team"));
}

#[tokio::test]
async fn agents_never_see_other_teams_conversations() {
    let app = TestApp::new().await;
    let vendas = app.team("Vendas").await;
    let suporte = app.team("Suporte").await;
    let qv = app.queue("Site vendas", vendas, 5, 30).await;
    let a = user(&app, app.user("a@x.com", Role::Agent, &[vendas]).await).await;
    let s = user(&app, app.user("s@x.com", Role::Agent, &[suporte]).await).await;
    let c = visitor(&app, qv, "v", "segredo").await;
    let check = |u: User| {
        let state = app.state.clone();
        async move { state.db.read(move |db| conv::visible(db, &u, c).map(|_| ())).await }
    };
    assert!(check(a.clone()).await.is_ok());
    assert!(matches!(check(s.clone()).await, Err(AppError::NotFound)));
    assert!(matches!(conv::claim(&app.state, &s, c).await, Err(AppError::NotFound)));
    assert!(matches!(conv::send(&app.state, &s, c, "x").await, Err(AppError::NotFound)));
    assert!(matches!(conv::close(&app.state, &s, c, false, None).await, Err(AppError::NotFound)));
    assert!(matches!(conv::set_connected(&app.state, &s, qv, true).await, Err(AppError::NotFound)));
    let home = app.state.db.read(move |db| conv::home(db, &s, 0, &Default::default())).await.unwrap();
    assert!(home.queued.rows.is_empty() && home.queues.is_empty());
    // Reopen: a finished conversation comes back to the agent's list.
    conv::claim(&app.state, &a, c).await.unwrap();
    conv::close(&app.state, &a, c, false, None).await.unwrap();
    conv::reopen(&app.state, &a, c).await.unwrap();
    assert_eq!(get(&app, c).await.status, "assigned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_messages_make_one_conversation() {
    let app = TestApp::new().await;
    let t = app.team("Vendas").await;
    let q = app.queue("Site", t, 5, 30).await;
    let mut hs = Vec::new();
    for i in 0..10 {
        let st = app.state.clone();
        hs.push(tokio::spawn(async move {
            let m = VisitorMessage { text: format!("mensagem {i}"), ..Default::default() };
            conv::visitor_message(&st, q, atende::domain::auth::token_hash("mesmo-navegador"), m).await.unwrap().0
        }));
    }
    let mut ids = Vec::new();
    for h in hs {
        ids.push(h.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    assert_eq!(app.count("conversations").await, 1);
    assert_eq!(app.count("contacts").await, 1);
}
