//! End-to-end in headless Chromium: the supervisor's Agentes panel follows
//! an agent's pause live (no reload), turns the row red once the limit job
//! flags it past its limit (frozen clock moved on), and at 390 px the
//! panels, the Atendimentos tab and the read-only conversation stack as
//! cards with nothing scrolling sideways.

mod common;

use atende::domain::conversations::{self as conv, VisitorMessage};
use atende::domain::pauses;
use atende::domain::registers::{self, Value};
use atende::domain::users::Role;
use common::browser::{Browser, start_browser, start_driver};
use common::{PW, TestApp};

const NO_SIDEWAYS: &str = "return document.documentElement.scrollWidth <= window.innerWidth;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agents_panel_follows_a_pause_live_and_turns_red_past_its_limit() {
    let app = TestApp::with(|c| c.pause_minute_secs = 2).await;
    let t = app.team("Atendimento").await;
    let q = app.queue("Chat do site", t, 2, 60).await;
    let q2 = app.queue("Chat pós-venda", t, 2, 60).await;
    let ana_id = app.user("ana@loja.com", Role::Agent, &[t]).await;
    app.user("sup@loja.com", Role::Supervisor, &[t]).await;
    let spec = registers::spec("pausas").unwrap();
    let v = vec![Value::Text("Café".into()), Value::Int(1), Value::Null, Value::Null, Value::Text("flag".into())];
    let coffee = registers::create(&app.state.db, spec, v, app.actor()).await.unwrap();
    let ana = app.state.db.read(move |c| atende::domain::users::get(c, ana_id)).await.unwrap().unwrap();
    conv::set_connected(&app.state, &ana, q, true).await.unwrap();
    conv::set_ready(&app.state, &ana, true).await.unwrap();
    // One conversation with Ana, a long customer name waiting in the other queue.
    let token = atende::domain::auth::token_hash("maria");
    let m = VisitorMessage { name: "Maria".into(), text: "Oi".into(), ..Default::default() };
    let c = conv::visitor_message(&app.state, q, token, m).await.unwrap().0;
    conv::accept(&app.state, &ana, c).await.unwrap();
    let token = atende::domain::auth::token_hash("longo");
    let long = "Maximiliana Bartolomeu de Albuquerque Cavalcanti Figueiredo";
    let m = VisitorMessage { name: long.into(), text: "Alguém?".into(), ..Default::default() };
    conv::visitor_message(&app.state, q2, token, m).await.unwrap();
    let addr = app.serve().await;
    let base = format!("http://{addr}");

    let driver = start_driver();
    let dir = tempfile::tempdir().unwrap();
    let b = Browser { c: start_browser(&driver, dir.path(), (1280, 900)).await, base: base.clone() };
    b.goto("/entrar").await;
    b.login("sup@loja.com", PW, "Nome sup@loja.com").await;
    b.click_text("nav.sidebar a", "Acompanhamento").await;
    b.wait_path("/acompanhamento").await;
    let row = format!("#sup-agent-{ana_id}");
    b.wait_text(&row, "Pronto").await;
    b.wait_text(&row, "1/2").await;
    b.c.execute("window.__same_page = 1;", vec![]).await.unwrap();
    // The stream is open once the panel reloaded on its "open".
    b.wait_true("return !!document.getElementById('sup').getAttribute('data-refreshed');", "panel live").await;

    // Ana pauses: the row says so without a reload.
    pauses::start(&app.state, &ana, coffee).await.unwrap();
    b.wait_text(&row, "Em pausa: Café").await;
    let red = format!("return document.querySelector('{row}').classList.contains('sup-over');");
    let not_red = format!("return !document.querySelector('{row}').classList.contains('sup-over');");
    b.wait_true(&not_red, "not red within the limit").await;
    // Past the limit (1 "minute" = 2 s here): the limit job flags it, the row turns red.
    app.state.clock.advance(3);
    assert_eq!(pauses::check_limits(&app.state).await.unwrap(), 1);
    b.wait_text(&row, "excedida").await;
    b.wait_true(&red, "red past the limit").await;
    b.wait_true("return window.__same_page === 1;", "no reload happened").await;

    // At 390 px: stacked cards, nothing scrolls sideways.
    b.c.set_window_size(390, 844).await.unwrap();
    b.goto("/acompanhamento").await;
    b.wait_text(&row, "Em pausa: Café").await;
    b.wait_true(NO_SIDEWAYS, "agents panel fits at 390 px").await;
    b.wait_true(
        &format!("return getComputedStyle(document.querySelector('{row}')).display === 'block';"),
        "rows are cards",
    )
    .await;
    b.goto("/acompanhamento?aba=atendimentos").await;
    b.wait_text("#sup-queues", long).await;
    b.wait_true(NO_SIDEWAYS, "conversations panel fits at 390 px").await;
    b.goto(&format!("/acompanhamento/atendimentos/{c}")).await;
    b.wait_text("#sup-read-only", "Somente leitura").await;
    b.wait_true(NO_SIDEWAYS, "read-only conversation fits at 390 px").await;
    b.c.clone().close().await.unwrap();
}
