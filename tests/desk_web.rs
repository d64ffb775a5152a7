//! The agent desk through the real routes: pages, actions, the visibility
//! matrix (404 everywhere outside one's queues) and the live event stream.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use atende::domain::conversations::{self as conv, VisitorMessage};
use atende::domain::users::Role;
use common::TestApp;

async fn visitor(app: &TestApp, q: i64, who: &str, text: &str) -> i64 {
    let m = VisitorMessage { name: who.into(), text: text.into(), ..Default::default() };
    conv::visitor_message(&app.state, q, atende::domain::auth::token_hash(who), m).await.unwrap().0
}

#[tokio::test]
async fn agent_claims_replies_and_finishes_through_the_pages() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    app.user("ana@x.com", Role::Agent, &[t]).await;
    let mut ana = app.login("ana@x.com").await;
    ana.get("/").await.has(&["Atendimentos"]);
    ana.get("/atendimentos").await.has(&[
        "Na fila",
        "Ninguém esperando.",
        "Minhas conversas",
        "Não pronto",
        "Site",
        "Conectar",
    ]);
    let c = visitor(&app, q, "Maria <b>", "Minha fatura veio errada").await;
    let r = ana.get("/atendimentos").await;
    r.has(&["Maria &lt;b&gt;", "Minha fatura veio errada", &format!("/atendimentos/{c}/pegar")]).lacks(&["Maria <b>"]);
    let r = ana.post(&format!("/atendimentos/{c}/pegar"), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), format!("/atendimentos/{c}"));
    ana.get(&format!("/atendimentos/{c}")).await.has(&[
        "Pego da fila",
        "Minha fatura veio errada",
        "Finalizar",
        "Transferir",
        "msg-in",
    ]);
    // Claiming again: clear message, nothing changes.
    let r = ana.post(&format!("/atendimentos/{c}/pegar"), &[]).await;
    assert_eq!(r.location(), format!("/atendimentos/{c}?err=conv.already_taken"));
    ana.get(r.location()).await.has(&["Outro agente já pegou este atendimento."]);
    // Empty reply refused; a real one appears on the right.
    let r = ana.post(&format!("/atendimentos/{c}/mensagens"), &[("text", "  ")]).await;
    assert_eq!(r.status, 422);
    r.has(&["Escreva uma mensagem antes de enviar."]);
    let r = ana.post(&format!("/atendimentos/{c}/mensagens"), &[("text", "Olá Maria, vou verificar.")]).await;
    assert_eq!(r.status, 303);
    let r = ana.get(&format!("/atendimentos/{c}/mensagens?after=0")).await;
    r.has(&["msg-out", "Olá Maria, vou verificar.", "Nome ana@x.com"]);
    assert_eq!(r.headers["x-conversation-status"], "assigned");
    // The list shows the last message either side wrote.
    ana.get("/atendimentos").await.has(&["Olá Maria, vou verificar."]);
    // Finish: out of my list.
    let r = ana.post(&format!("/atendimentos/{c}/finalizar"), &[]).await;
    assert_eq!(r.location(), "/atendimentos");
    ana.get("/atendimentos").await.has(&["Nenhuma conversa com você agora."]);
    ana.get(&format!("/atendimentos/{c}")).await.has(&["Finalizado", "Reabrir"]);
}

#[tokio::test]
async fn presence_connection_offer_accept_and_pull() {
    let app = TestApp::new().await;
    let t = app.team("Vendas").await;
    let q = app.queue("Site", t, 5, 30).await;
    app.user("bia@x.com", Role::Agent, &[t]).await;
    let mut bia = app.login("bia@x.com").await;
    assert_eq!(bia.post(&format!("/filas/{q}/conexao"), &[("on", "1")]).await.status, 303);
    assert_eq!(bia.post("/presenca", &[("ready", "1")]).await.status, 303);
    assert_eq!(bia.post("/presenca", &[("ready", "talvez")]).await.status, 400);
    bia.get("/atendimentos").await.has(&["Pronto", "Conectado", "Ficar não pronto"]);
    let c = visitor(&app, q, "João", "Quero comprar").await;
    bia.get("/atendimentos/listas").await.has(&[
        "Novo atendimento para você",
        "João",
        "Quero comprar",
        "Aceitar",
        "Recusar",
    ]);
    let r = bia.post(&format!("/atendimentos/{c}/aceitar"), &[]).await;
    assert_eq!(r.location(), format!("/atendimentos/{c}"));
    bia.get(&format!("/atendimentos/{c}")).await.has(&["Oferta aceita"]);
    // Pull with nothing waiting explains why.
    let r = bia.post(&format!("/filas/{q}/puxar"), &[]).await;
    assert_eq!(r.location(), "/atendimentos?err=conv.nothing_waiting");
    bia.get(r.location()).await.has(&["Nenhum atendimento aguardando nesta fila agora."]);
    // Logging out (last session) makes the agent Não pronto: no offers while away.
    let mut other_tab = app.login("bia@x.com").await;
    other_tab.post("/sair", &[]).await;
    let presence = |app: &TestApp| {
        let st = app.state.clone();
        async move { st.db.read(|c| atende::domain::routing::presence(c, 1)).await.unwrap() }
    };
    assert_eq!(presence(&app).await, "ready", "another session is still open");
    bia.post("/sair", &[]).await;
    assert_eq!(presence(&app).await, "not_ready");
    let mut bia = app.login("bia@x.com").await;
    let c2 = visitor(&app, q, "Rita", "Olá").await;
    let r = bia.post(&format!("/filas/{q}/puxar"), &[]).await;
    assert_eq!(r.location(), format!("/atendimentos/{c2}"));
}

#[tokio::test]
async fn another_teams_agent_gets_404_everywhere() {
    let app = TestApp::new().await;
    let vendas = app.team("Vendas").await;
    let suporte = app.team("Suporte").await;
    let qv = app.queue("Site vendas", vendas, 5, 30).await;
    app.user("a@x.com", Role::Agent, &[vendas]).await;
    app.user("s@x.com", Role::Agent, &[suporte]).await;
    let c = visitor(&app, qv, "Cliente", "segredo comercial").await;
    let mut s = app.login("s@x.com").await;
    for p in [format!("/atendimentos/{c}"), format!("/atendimentos/{c}/mensagens?after=0")] {
        let r = s.get(&p).await;
        assert_eq!(r.status, 404, "{p}");
        r.lacks(&["segredo comercial", "Cliente"]);
    }
    for action in ["pegar", "aceitar", "recusar", "finalizar", "arquivar", "reabrir", "transferir", "mensagens"] {
        let r =
            s.post(&format!("/atendimentos/{c}/{action}"), &[("text", "oi"), ("team_id", &suporte.to_string())]).await;
        assert_eq!(r.status, 404, "{action}");
    }
    assert_eq!(s.post(&format!("/filas/{qv}/conexao"), &[("on", "1")]).await.status, 404);
    assert_eq!(s.post(&format!("/filas/{qv}/puxar"), &[]).await.status, 404);
    s.get("/atendimentos").await.lacks(&["segredo comercial"]);
    s.get("/atendimentos/listas").await.lacks(&["segredo comercial"]);
    assert_eq!(s.get("/atendimentos/99999").await.status, 404);
    assert_eq!(app.count("messages").await, 2, "nothing changed");
    // Logged out: redirected to login, or 403 for posts without a token.
    let mut anon = app.client();
    assert_eq!(anon.get(&format!("/atendimentos/{c}")).await.status, 303);
    assert_eq!(anon.get("/eventos").await.status, 303);
}

/// Reads an SSE stream from a real server until `until` matches or time runs out.
fn read_sse(addr: std::net::SocketAddr, cookie: &str, last_id: Option<u64>, wait: Duration, until: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let extra = last_id.map(|i| format!("Last-Event-ID: {i}\r\n")).unwrap_or_default();
    write!(
        s,
        "GET /eventos HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n{extra}\r\n"
    )
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_stream_delivers_only_what_the_agent_may_see_and_catches_up() {
    let app = TestApp::new().await;
    let addr = app.serve().await;
    let vendas = app.team("Vendas").await;
    let suporte = app.team("Suporte").await;
    let qv = app.queue("Site vendas", vendas, 5, 30).await;
    app.user("a@x.com", Role::Agent, &[vendas]).await;
    app.user("s@x.com", Role::Agent, &[suporte]).await;
    let a = app.login("a@x.com").await;
    let s = app.login("s@x.com").await;
    let cookie = |c: &common::Client| format!("atende_sid={}", c.cookies["atende_sid"]);
    let (ca, cs) = (cookie(&a), cookie(&s));
    let before = app.state.bus.subscribers();
    let ha = tokio::task::spawn_blocking(move || read_sse(addr, &ca, None, Duration::from_secs(10), "event:message"));
    let hs = tokio::task::spawn_blocking(move || read_sse(addr, &cs, None, Duration::from_secs(3), ""));
    // Both streams are subscribed before the message arrives (no sleep that a
    // busy machine could outlast).
    let waited = Instant::now();
    while app.state.bus.subscribers() < before + 2 && waited.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let c = visitor(&app, qv, "Cliente", "oi").await;
    let got_a = ha.await.unwrap();
    let got_s = hs.await.unwrap();
    assert!(got_a.contains("text/event-stream"), "{got_a}");
    assert!(got_a.contains(&format!("\"conversation_id\":{c}")), "agent of the queue gets it: {got_a}");
    assert!(!got_s.contains("conversation_id"), "other team's agent gets nothing: {got_s}");
    // Reconnecting with Last-Event-ID replays what was missed, without duplicates.
    let last = app.state.bus.last_seq();
    conv::visitor_message(
        &app.state,
        qv,
        atende::domain::auth::token_hash("Cliente"),
        VisitorMessage { text: "de novo".into(), ..Default::default() },
    )
    .await
    .unwrap();
    let ca = cookie(&a);
    let replay =
        tokio::task::spawn_blocking(move || read_sse(addr, &ca, Some(last), Duration::from_secs(3), "event:message"))
            .await
            .unwrap();
    assert!(replay.contains(&format!("id:{}", last + 1)), "{replay}");
    assert!(!replay.contains(&format!("id:{last}\n")), "nothing at or before the last seen id: {replay}");
    // Too old to replay: the page is told to reload.
    let ca = cookie(&a);
    let old = tokio::task::spawn_blocking(move || read_sse(addr, &ca, Some(0), Duration::from_secs(2), "event:"))
        .await
        .unwrap();
    assert!(old.contains("event:queue") || old.contains("event:message") || old.contains("event:reload"), "{old}");
}

#[test]
fn the_bus_replays_in_order_and_says_when_it_cannot() {
    use atende::events::{Bus, Change, RING};
    let bus = Bus::default();
    bus.publish((0..5).map(|i| Change::queue(1, i)).collect());
    let (_rx, backlog) = bus.subscribe(Some(2));
    let seqs: Vec<u64> = backlog.unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![3, 4, 5]);
    assert_eq!(bus.subscribe(Some(5)).1.unwrap().len(), 0);
    bus.publish((0..RING as i64).map(|i| Change::queue(1, i)).collect());
    assert!(bus.subscribe(Some(2)).1.is_none(), "events 3.. are gone: the client must reload");
    assert_eq!(bus.subscribe(Some(5)).1.unwrap().len(), RING);
}
