//! End-to-end in a real headless Chromium: the task form's quick picks fill
//! the visible date and time inputs (assets/js/forms.js), and what those
//! inputs show when the person saves — a pick, or a pick then changed by hand —
//! is what is stored.

mod common;

use atende::domain::tasks;
use atende::domain::users::Role;
use common::browser::{Browser, start_browser, start_driver};
use common::{PW, TestApp};

async fn js(b: &Browser, script: &str) -> serde_json::Value {
    b.c.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
}

async fn inputs(b: &Browser) -> (String, String) {
    let v = js(b, "return [document.getElementById('f-due_date').value, document.getElementById('f-due_time').value];")
        .await;
    (v[0].as_str().unwrap_or("").to_string(), v[1].as_str().unwrap_or("").to_string())
}

async fn last_due(app: &TestApp) -> (String, i64) {
    app.state
        .db
        .read(|db| {
            Ok(db.query_row("SELECT title, due_at FROM tasks ORDER BY id DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?)
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_picks_fill_the_visible_inputs_and_what_they_show_is_saved() {
    let app = TestApp::new().await;
    let t = app.team("Atendimento").await;
    app.user("ana@loja.com", Role::Agent, &[t]).await;
    let addr = app.serve().await;
    let tz = app.state.settings().tz();
    let now = app.state.now();

    let driver = start_driver();
    let profile = tempfile::tempdir().unwrap();
    let b = Browser { c: start_browser(&driver, profile.path(), (1280, 900)).await, base: format!("http://{addr}") };
    b.goto("/entrar").await;
    b.login("ana@loja.com", PW, "Nome ana@loja.com").await;

    b.goto("/tarefas/nova").await;
    b.wait_text("h1", "Nova tarefa").await;
    // The script shows the picks (hidden without it: they could do nothing).
    b.wait_true("const q = document.querySelector('[data-quick-picks]'); return !!q && !q.hidden;", "picks shown")
        .await;
    // The form opens with "in 1 h" already in the inputs.
    assert_eq!(inputs(&b).await, tasks::due_fields(now + 3600, &tz));

    // "Amanhã às 9:00" fills both inputs; saving stores exactly that.
    b.click_text("[data-quick-picks] button", "Amanhã às 9:00").await;
    let tomorrow = tasks::due_fields(tasks::quick_due("tomorrow", now, &tz).unwrap(), &tz);
    assert_eq!(inputs(&b).await, tomorrow);
    assert_eq!(tomorrow.1, "09:00");
    b.wait_true(
        "return document.querySelector(\"button[data-pick='tomorrow']\").getAttribute('aria-pressed') === 'true';",
        "pick marked",
    )
    .await;
    b.fill("f-title", "Retornar a ligação").await;
    b.click_text("form.form button[type='submit']", "Salvar").await;
    b.wait_text("h1", "Retornar a ligação").await;
    let (title, due) = last_due(&app).await;
    assert_eq!(title, "Retornar a ligação");
    assert_eq!(tasks::due_fields(due, &tz), tomorrow);

    // "Próxima semana", then the time changed by hand: the typed time wins.
    b.goto("/tarefas/nova").await;
    b.wait_true("const q = document.querySelector('[data-quick-picks]'); return !!q && !q.hidden;", "picks shown")
        .await;
    b.click_text("[data-quick-picks] button", "Próxima semana").await;
    let next_week = tasks::due_fields(tasks::quick_due("nextweek", now, &tz).unwrap(), &tz);
    assert_eq!(inputs(&b).await, next_week);
    js(&b, "const t = document.getElementById('f-due_time'); t.value = '16:20'; t.dispatchEvent(new Event('input', {bubbles: true}));").await;
    b.fill("f-title", "Enviar proposta").await;
    b.click_text("form.form button[type='submit']", "Salvar").await;
    b.wait_text("h1", "Enviar proposta").await;
    let (title, due) = last_due(&app).await;
    assert_eq!(title, "Enviar proposta");
    assert_eq!(tasks::due_fields(due, &tz), (next_week.0.clone(), "16:20".to_string()));
    b.wait_text("dl.details", "16:20").await;
    let _ = b.c.clone().close().await;
}
