//! End-to-end in two real headless Chromium sessions: a visitor on a web page
//! with the chat widget (another origin) and an agent at the desk. The visitor
//! writes (with an XSS payload), the agent gets the offer live, accepts,
//! replies with Enter, and the visitor sees the reply — no reload anywhere.
//! Then the server is killed and restarted: the desk shows "desconectado",
//! reconnects by itself and keeps receiving messages.

mod common;

use std::time::{Duration, Instant};

use atende::app::AppState;
use atende::clock::Clock;
use atende::config::Config;
use atende::domain::conversations as conv;
use atende::domain::users::Role;
use common::browser::{
    Browser, W, WAIT, free_port, serve_site, start_browser, start_driver, widget_ready, widget_send, widget_wait,
};
use serde_json::json;

const XSS: &str = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script> minha fatura";

async fn live_status_hidden(b: &Browser) -> bool {
    b.c.execute("return document.getElementById('live-status').hidden;", vec![]).await.unwrap() == json!(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visitor_and_agent_chat_live_and_survive_a_server_restart() {
    let data = tempfile::tempdir().unwrap();
    // Prepare the business with the library, then run the real binary on it.
    let queue_id = {
        let config = Config { data_dir: data.path().to_path_buf(), ..Config::default() };
        let state = AppState::open(config, Clock::frozen_now()).await.unwrap();
        let app =
            common::TestApp { routes: atende::web::routes(state.clone()), state, dir: tempfile::tempdir().unwrap() };
        let t = app.team("Atendimento").await;
        let q = app.queue("Chat do site", t, 5, 60).await;
        let id = app.user("agente@loja.com", Role::Agent, &[t]).await;
        let u = app.state.db.read(move |c| atende::domain::users::get(c, id)).await.unwrap().unwrap();
        conv::set_connected(&app.state, &u, q, true).await.unwrap();
        conv::set_ready(&app.state, &u, true).await.unwrap();
        app.state.db.close();
        q
    };
    let port = free_port();
    let mut server = common::spawn_server(data.path(), port);
    let app_url = format!("http://127.0.0.1:{port}");

    // The business's own site, on another origin, with the snippet.
    let site_port = serve_site(&app_url, queue_id).await;

    let driver = start_driver();
    let (p1, p2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let agent = Browser { c: start_browser(&driver, p1.path(), (1280, 900)).await, base: app_url.clone() };
    let visitor = Browser {
        c: start_browser(&driver, p2.path(), (1000, 800)).await,
        base: format!("http://127.0.0.1:{site_port}"),
    };

    agent.goto("/entrar").await;
    agent.login("agente@loja.com", common::PW, "Nome agente@loja.com").await;
    agent.goto("/atendimentos").await;
    agent.wait_text("#desk-lists", "Ninguém esperando.").await;
    // Logged-out agents are Não pronto; becoming Pronto is the agent's call.
    agent.click_text("form[action='/presenca'] button", "Ficar pronto").await;
    agent.wait_text("#presence", "Pronto").await;

    visitor.goto("/").await;
    widget_ready(&visitor).await;
    visitor.c.execute(&format!("{W} s.querySelector('.bubble').click(); return true;"), vec![]).await.unwrap();
    widget_send(&visitor, XSS).await;
    widget_wait(&visitor, "minha fatura").await;

    // The offer reaches the desk live; accept it.
    agent.wait_text(".offer", "Novo atendimento para você").await;
    agent.click_text(".offer button", "Aceitar").await;
    agent.wait_text("#messages", "minha fatura").await;
    let shown = agent.find("#messages").await.text().await.unwrap();
    assert!(shown.contains("<img src=x onerror="), "customer markup is shown as text: {shown}");
    let xss = agent.c.execute("return window.__xss === undefined;", vec![]).await.unwrap();
    assert_eq!(xss, json!(true), "customer markup ran in the agent's browser");
    let xss = visitor.c.execute("return window.__xss === undefined;", vec![]).await.unwrap();
    assert_eq!(xss, json!(true), "markup ran in the visitor's browser");

    // Reply with Enter; the page does not reload and the visitor gets it.
    agent.c.execute("window.__same_page = 42; return true;", vec![]).await.unwrap();
    let area = agent.find("#f-text").await;
    area.send_keys("Olá! Vou verificar sua fatura.\u{E007}").await.unwrap();
    agent.wait_text("#messages .msg-out", "Vou verificar sua fatura").await;
    widget_wait(&visitor, "Vou verificar sua fatura").await;
    assert_eq!(agent.c.execute("return window.__same_page;", vec![]).await.unwrap(), json!(42), "the desk reloaded");

    // The server drops every stream (process killed) and comes back.
    drop(server);
    let start = Instant::now();
    while live_status_hidden(&agent).await {
        assert!(start.elapsed() < WAIT, "the desk never showed it was disconnected");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server = common::spawn_server(data.path(), port);
    let start = Instant::now();
    while !live_status_hidden(&agent).await {
        assert!(start.elapsed() < Duration::from_secs(20), "the desk did not reconnect");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    widget_send(&visitor, "Ainda está aí?").await;
    agent.wait_text("#messages", "Ainda está aí?").await;
    assert_eq!(
        agent.c.execute("return window.__same_page;", vec![]).await.unwrap(),
        json!(42),
        "reconnected without reload"
    );

    // On the home page a new customer message shows as unread in the tab title.
    agent.goto("/atendimentos").await;
    agent.wait_text("#desk-lists", "Minhas conversas").await;
    widget_send(&visitor, "Mais uma pergunta").await;
    let start = Instant::now();
    loop {
        let title = agent.c.title().await.unwrap();
        if title.starts_with("(1) ") {
            break;
        }
        assert!(start.elapsed() < WAIT, "unread count never reached the tab title: {title}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    agent.find("#desk-lists li.unread").await;

    agent.c.clone().close().await.unwrap();
    visitor.c.clone().close().await.unwrap();
    drop(server);
    drop(driver);
}
