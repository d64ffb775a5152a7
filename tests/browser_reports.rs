//! End-to-end in real headless Chromium: a supervisor clicks a day's bar of
//! the Indicadores chart and a heat-map cell and gets the conversations
//! behind them (their team's only), pages through the Atendimentos report,
//! and at 390 px the Indicadores and every report fit the phone.

mod common;

use atende::domain::conversations::{self as conv, VisitorMessage};
use atende::domain::users::Role;
use common::browser::{Browser, start_browser, start_driver};
use common::{PW, TestApp};

async fn visitor(app: &TestApp, q: i64, who: &str) -> i64 {
    let m = VisitorMessage { name: who.into(), text: "Olá".into(), ..Default::default() };
    conv::visitor_message(&app.state, q, atende::domain::auth::token_hash(who), m).await.unwrap().0
}

async fn js(b: &Browser, script: &str) -> serde_json::Value {
    b.c.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chart_bar_drills_down_and_the_reports_fit_a_phone() {
    let app = TestApp::new().await;
    // 10:00 in São Paulo on Tuesday 1 Dec 2026.
    app.state.clock.advance(1_796_130_000 - app.state.now());
    let (t1, t2) = (app.team("Vendas").await, app.team("Suporte").await);
    let (q1, q2) = (app.queue("Vendas web", t1, 3, 60).await, app.queue("Suporte web", t2, 3, 60).await);
    app.user("sup@loja.com", Role::Supervisor, &[t1]).await;
    visitor(&app, q1, "Ontem Silva").await;
    app.state.clock.advance(86_400);
    for who in ["Maria Conceição", "João Araújo"] {
        visitor(&app, q1, who).await;
    }
    visitor(&app, q2, "Zuleica Escondida").await;
    for i in 0..52 {
        visitor(&app, q1, &format!("Cliente {i:02}")).await;
    }
    let addr = app.serve().await;
    let driver = start_driver();
    let profile = tempfile::tempdir().unwrap();
    let b = Browser { c: start_browser(&driver, profile.path(), (1280, 900)).await, base: format!("http://{addr}") };
    b.goto("/entrar").await;
    b.login("sup@loja.com", PW, "Nome sup@loja.com").await;

    // The chart of the last 7 days: yesterday's bar lists yesterday's only.
    b.goto("/indicadores?periodo=7d").await;
    b.wait_text("figcaption", "Recebidos e respondidos por dia").await;
    b.click("a[href*='dia=20261201'] rect.bar").await;
    b.wait_text("h1", "01/12/2026").await;
    let text = b.page_text().await;
    assert!(text.contains("Ontem Silva"), "{text}");
    assert!(!text.contains("Maria Conceição") && !text.contains("Zuleica"), "{text}");

    // Today's heat-map cell (Wednesday, 10h) lists today's, not yesterday's.
    b.goto("/indicadores?periodo=7d").await;
    b.click("#ind-heat a[href*='semana=2&hora=10']").await;
    b.wait_text("h1", "Indicadores").await;
    let text = b.page_text().await;
    assert!(text.contains("Maria Conceição") && text.contains("João Araújo"), "{text}");
    assert!(!text.contains("Ontem Silva") && !text.contains("Zuleica"), "{text}");

    // The Atendimentos report pages on.
    b.goto("/relatorios/atendimentos?periodo=hoje").await;
    b.wait_text("h2", "Atendimentos").await;
    b.click_text("#rep-pager a", "Mais antigos").await;
    b.wait_text("#rep-pager", "Mais recentes").await;
    let text = b.page_text().await;
    assert!(text.contains("Maria Conceição") && !text.contains("Cliente 51"), "{text}");

    // A phone: nothing scrolls sideways.
    let phone_profile = tempfile::tempdir().unwrap();
    let phone =
        Browser { c: start_browser(&driver, phone_profile.path(), (390, 844)).await, base: format!("http://{addr}") };
    phone.goto("/entrar").await;
    phone.login("sup@loja.com", PW, "Nome sup@loja.com").await;
    let fits = "return document.documentElement.scrollWidth <= window.innerWidth;";
    let mut wide = vec![];
    for p in [
        "/indicadores?periodo=7d",
        "/relatorios/agentes",
        "/relatorios/atendimentos",
        "/relatorios/filas",
        "/relatorios/pausas",
        "/relatorios/reaberturas",
    ] {
        phone.goto(p).await;
        phone.find("h1").await;
        if js(&phone, fits).await != serde_json::json!(true) {
            wide.push(p);
        }
    }
    assert!(wide.is_empty(), "pages wider than 390 px: {wide:?}");
    b.c.clone().close().await.unwrap();
    phone.c.clone().close().await.unwrap();
}
