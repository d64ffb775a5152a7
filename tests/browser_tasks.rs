//! End-to-end in two real headless Chromium sessions, with the real
//! scheduler running: an agent creates a task from a conversation due in a
//! few seconds (the frozen test clock is moved past it) with "exibir notificação"; the contact shows the bell; at the
//! due time the notification pops up and the overdue counter in the menu
//! changes without a reload; the agent completes it. Then the agent starts a
//! pause with a (test-shortened) 1-minute limit and the supervisor, on
//! another page, gets the live alert.

mod common;

use std::time::{Duration, Instant};

use atende::domain::conversations::{self as conv, VisitorMessage};
use atende::domain::registers::{self, Value};
use atende::domain::users::Role;
use common::browser::{Browser, WAIT, start_browser, start_driver};
use common::{PW, TestApp};

async fn wait_js(b: &Browser, script: &str, what: &str, limit: Duration) {
    let start = Instant::now();
    loop {
        let v = b.c.execute(script, vec![]).await.unwrap_or_default();
        if v.as_bool() == Some(true) {
            return;
        }
        if start.elapsed() > limit {
            panic!("{what}: not true within {limit:?}; {}", b.whereabouts().await);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_notifies_live_at_its_time_and_a_pause_over_its_limit_alerts_the_supervisor() {
    let app = TestApp::with(|c| c.pause_minute_secs = 2).await;
    let t = app.team("Atendimento").await;
    let q = app.queue("Chat do site", t, 5, 60).await;
    let ana_id = app.user("ana@loja.com", Role::Agent, &[t]).await;
    app.user("sup@loja.com", Role::Supervisor, &[t]).await;
    let spec = registers::spec("pausas").unwrap();
    let v = vec![Value::Text("Café".into()), Value::Int(1), Value::Null, Value::Null, Value::Text("flag".into())];
    registers::create(&app.state.db, spec, v, app.actor()).await.unwrap();
    // A finished conversation of Ana's with Maria.
    let ana = app.state.db.read(move |c| atende::domain::users::get(c, ana_id)).await.unwrap().unwrap();
    conv::set_connected(&app.state, &ana, q, true).await.unwrap();
    conv::set_ready(&app.state, &ana, true).await.unwrap();
    let m = VisitorMessage { name: "Maria".into(), text: "Pode me ligar depois?".into(), ..Default::default() };
    let token = atende::domain::auth::token_hash("maria");
    let c = conv::visitor_message(&app.state, q, token, m).await.unwrap().0;
    conv::accept(&app.state, &ana, c).await.unwrap();
    conv::close(&app.state, &ana, c, false, None).await.unwrap();
    let mut sched = atende::jobs::start(&app.state).await.unwrap();
    let addr = app.serve().await;
    let base = format!("http://{addr}");

    let driver = start_driver();
    let (p1, p2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let agent = Browser { c: start_browser(&driver, p1.path(), (1280, 900)).await, base: base.clone() };
    let sup = Browser { c: start_browser(&driver, p2.path(), (1280, 900)).await, base: base.clone() };
    agent.goto("/entrar").await;
    agent.login("ana@loja.com", PW, "Nome ana@loja.com").await;
    sup.goto("/entrar").await;
    sup.login("sup@loja.com", PW, "Nome sup@loja.com").await;

    // Create the task from the conversation.
    agent.goto(&format!("/atendimentos/{c}")).await;
    agent.click("#create-task").await;
    agent.wait_text("h1", "Nova tarefa").await;
    agent.fill("f-title", "Ligar para a Maria").await;
    // "Exibir notificação" is on by default.
    wait_js(&agent, "return document.querySelector(\"input[name='notify']\").checked;", "notify on", WAIT).await;
    // Due in 5 s (business time zone), set as the date and time pickers would.
    let tz = app.state.settings().tz();
    let z = jiff::Timestamp::from_second(app.state.now() + 5).unwrap().to_zoned(tz);
    agent
        .c
        .execute(
            "document.getElementById('f-due_date').value = arguments[0];\
             document.getElementById('f-due_time').value = arguments[1];\
             document.querySelector('form.form').submit();",
            vec![
                serde_json::json!(z.strftime("%Y-%m-%d").to_string()),
                serde_json::json!(z.strftime("%H:%M:%S").to_string()),
            ],
        )
        .await
        .unwrap();
    agent.wait_text("div.msg-system", "Tarefa criada · Responsável: ").await;
    agent.wait_text("h1", "🔔").await;
    let overdue_hidden = "const b = document.getElementById('overdue-count'); return !!b && b.hidden;";
    wait_js(&agent, overdue_hidden, "no overdue task yet", WAIT).await;
    // At the due time: the notification and the counter, without a reload.
    agent.c.execute("window.__same_page = 1;", vec![]).await.unwrap();
    // The app's clock is frozen: move it past the due time.
    app.state.clock.advance(6);
    agent.wait_text("#toasts .toast", "Tarefa vence agora: Ligar para a Maria").await;
    wait_js(
        &agent,
        "const b = document.getElementById('overdue-count'); return !!b && !b.hidden && b.textContent.trim() === '1';",
        "overdue counter shows 1",
        WAIT,
    )
    .await;
    wait_js(&agent, "return window.__same_page === 1;", "no reload happened", WAIT).await;
    agent.wait_text("#bell", "1").await;
    // Complete it from the Tarefas page.
    agent.goto("/tarefas").await;
    agent.wait_text("#tasks", "Atrasada").await;
    agent.click_text("#tasks button", "Finalizar").await;
    agent.wait_text("#tasks", "Finalizada").await;
    wait_js(&agent, overdue_hidden, "overdue counter back to none", WAIT).await;

    // A pause with a 1-"minute" limit (2 s here): the supervisor is alerted live.
    sup.goto(&format!("/equipes/{t}")).await;
    sup.wait_text("#members", "Nome ana@loja.com").await;
    sup.c.execute("window.__same_page = 1;", vec![]).await.unwrap();
    agent.goto("/atendimentos").await;
    // The live stream refreshes the top bar once it opens; click after that.
    wait_js(&agent, "return !!document.getElementById('bar').getAttribute('data-refreshed');", "bar refreshed", WAIT)
        .await;
    agent.click_text("details.user-menu summary", "Nome ana").await;
    agent.click_text("details.user-menu button", "Café").await;
    agent.wait_text("#presence-badge", "Em pausa: Café").await;
    app.state.clock.advance(3);
    sup.wait_text("#toasts .toast", "Pausa excedida: Nome ana@loja.com · Café").await;
    wait_js(&sup, "return window.__same_page === 1;", "supervisor page not reloaded", WAIT).await;
    agent.wait_text("#toasts .toast", "Sua pausa passou do limite").await;
    agent.wait_text("#presence-badge", "excedida").await;

    agent.c.clone().close().await.unwrap();
    sup.c.clone().close().await.unwrap();
    sched.shutdown().await.unwrap();
}
