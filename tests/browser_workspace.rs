//! End-to-end in real headless Chromium: the three-pane workspace. Two
//! conversations switched without a reload (the address bar follows, back
//! works), the contact pane toggled, + Anotação and a task completed from the
//! pane in place, the transfer dialog whose agent list follows a colleague
//! becoming Pronto, finishing through its dialog; then at 390 px one pane at
//! a time, and a crawl of the product's pages asserting nothing scrolls
//! sideways.

mod common;

use atende::domain::conversations::{self as conv, VisitorMessage};
use atende::domain::users::Role;
use common::browser::{Browser, start_browser, start_driver};
use common::{PW, TestApp};

async fn js(b: &Browser, script: &str) -> serde_json::Value {
    b.c.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
}

async fn user(app: &TestApp, id: i64) -> atende::domain::users::User {
    app.state.db.read(move |c| atende::domain::users::get(c, id)).await.unwrap().unwrap()
}

async fn visitor(app: &TestApp, q: i64, who: &str, text: &str) -> i64 {
    let m = VisitorMessage { name: who.into(), text: text.into(), ..Default::default() };
    conv::visitor_message(&app.state, q, atende::domain::auth::token_hash(who), m).await.unwrap().0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workspace_switches_without_reload_and_fits_a_phone() {
    let app = TestApp::new().await;
    let t = app.team("Atendimento").await;
    let q = app.queue("Chat do site", t, 5, 60).await;
    let ana_id = app.user("ana@loja.com", Role::Agent, &[t]).await;
    let bia_id = app.user("bia@loja.com", Role::Agent, &[t]).await;
    app.user("dona@loja.com", Role::Admin, &[]).await;
    let (ana, bia) = (user(&app, ana_id).await, user(&app, bia_id).await);
    let c1 = visitor(&app, q, "Maria", "Minha fatura veio errada").await;
    let c2 = visitor(&app, q, "João", "Quero trocar o produto").await;
    conv::claim(&app.state, &ana, c1).await.unwrap();
    conv::claim(&app.state, &ana, c2).await.unwrap();
    let addr = app.serve().await;
    let base = format!("http://{addr}");
    let driver = start_driver();
    let profile = tempfile::tempdir().unwrap();
    let b = Browser { c: start_browser(&driver, profile.path(), (1280, 900)).await, base: base.clone() };
    b.goto("/entrar").await;
    b.login("ana@loja.com", PW, "Nome ana@loja.com").await;

    // A task on Maria's conversation, to complete from the pane.
    let tz = app.state.settings().tz();
    let pairs: Vec<(String, String)> = [
        ("title", "Ligar para a Maria".to_string()),
        ("kind", "call".into()),
        ("quick", "1h".into()),
        ("conversation_id", c1.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let form = atende::domain::validate::Input::from_pairs(pairs);
    let f = atende::domain::tasks::parse(&form, app.state.now(), &tz).unwrap();
    atende::domain::tasks::create(&app.state, &ana, atende::i18n::Locale::PtBr, f).await.unwrap();

    b.goto("/atendimentos").await;
    b.wait_text("#ws-main", "Escolha um atendimento").await;
    js(&b, "window.__same_page = 7; return true;").await;
    // The lists refresh live once the stream opens: click_text retries a replaced link.
    b.click_text(&format!("#ws-lists a.conv-link[data-conv='{c1}']"), "Maria").await;
    b.wait_text("#ws-main h1", "Maria").await;
    b.wait_path(&format!("/atendimentos/{c1}")).await;
    b.wait_text("#ws-side", "Ligar para a Maria").await;
    b.click_text(&format!("#ws-lists a.conv-link[data-conv='{c2}']"), "João").await;
    b.wait_text("#ws-main h1", "João").await;
    b.wait_path(&format!("/atendimentos/{c2}")).await;
    b.wait_text("#messages", "Quero trocar o produto").await;
    b.wait_true(
        &format!("return document.querySelector(\"li.conv-row[data-conv='{c2}']\").classList.contains('active');"),
        "row marked",
    )
    .await;
    // Back: Maria again, still the same page.
    b.c.back().await.unwrap();
    b.wait_text("#ws-main h1", "Maria").await;
    b.wait_path(&format!("/atendimentos/{c1}")).await;
    assert_eq!(js(&b, "return window.__same_page;").await, serde_json::json!(7), "a switch reloaded the page");

    // The contact pane toggles (i / x).
    b.click("#panel-toggle").await;
    b.wait_true("return document.getElementById('workspace').classList.contains('side-closed');", "pane hidden").await;
    b.click("#panel-toggle").await;
    b.wait_true("return !document.getElementById('workspace').classList.contains('side-closed');", "pane shown").await;

    // + Anotação and completing the task, in place.
    b.fill("f-annotation", "Prefere ligação à tarde").await;
    b.click("#annotation-form button[type=submit]").await;
    b.wait_text("#panel-timeline", "Prefere ligação à tarde").await;
    b.click_text("#panel-tasks button", "Concluir").await;
    b.wait_text("#panel-tasks", "Nenhuma tarefa aberta.").await;
    assert_eq!(js(&b, "return window.__same_page;").await, serde_json::json!(7), "the pane reloaded the page");

    // Transfer dialog: Bia is not available, then becomes Pronto live.
    b.click("#transfer").await;
    b.find("#transfer-dialog[open]").await;
    let bia_option = format!("#transfer-dialog option[value='{bia_id}']");
    b.wait_text(&bia_option, "Não pronto").await;
    b.wait_true(&format!("return document.querySelector(\"{bia_option}\").disabled;"), "Bia disabled").await;
    conv::set_connected(&app.state, &bia, q, true).await.unwrap();
    conv::set_ready(&app.state, &bia, true).await.unwrap();
    b.wait_true(
        &format!("const o = document.querySelector(\"{bia_option}\"); return !!o && !o.disabled;"),
        "Bia selectable without a reload",
    )
    .await;
    assert_eq!(js(&b, "return window.__same_page;").await, serde_json::json!(7));
    js(&b, "document.getElementById('transfer-dialog').close(); return true;").await;

    // Finishing through its dialog (the desk comes back with Maria's gone).
    b.click("#finish").await;
    b.find("#closing-dialog[open]").await;
    b.click_text("#closing-dialog button[type=submit]", "Finalizar").await;
    b.wait_path("/atendimentos").await;
    b.wait_text("#list-closed", "Maria").await;

    // At 390 px: one pane at a time with a way back.
    let p2 = tempfile::tempdir().unwrap();
    let phone = Browser { c: start_browser(&driver, p2.path(), (390, 844)).await, base: base.clone() };
    phone.goto("/entrar").await;
    phone.login("ana@loja.com", PW, "Nome ana@loja.com").await;
    phone.goto(&format!("/atendimentos/{c2}")).await;
    phone.wait_text("#ws-main h1", "João").await;
    let visible = |id: &str| format!("return getComputedStyle(document.getElementById('{id}')).display !== 'none';");
    assert_eq!(
        js(&phone, &visible("ws-lists")).await,
        serde_json::json!(false),
        "lists hidden behind the conversation"
    );
    phone.click("#ws-main a.ws-back").await;
    phone.wait_true(&visible("ws-lists"), "lists shown after back").await;
    assert_eq!(js(&phone, &visible("ws-main")).await, serde_json::json!(false));
    phone.click_text(&format!("#ws-lists a.conv-link[data-conv='{c2}']"), "João").await;
    phone.wait_true(&visible("ws-main"), "conversation shown").await;
    phone.click("#panel-toggle").await;
    phone.wait_true(&visible("ws-side"), "contact shown").await;
    phone.click("#panel-close").await;
    phone.wait_true(&visible("ws-main"), "conversation again").await;

    // No page scrolls sideways at 390 px (agent pages, then an admin's).
    let fits = "return document.documentElement.scrollWidth <= window.innerWidth;";
    let agent_pages = [
        "/".to_string(),
        "/atendimentos".into(),
        format!("/atendimentos/{c2}"),
        format!("/atendimentos/{c1}"),
        "/atendimentos/finalizadas".into(),
        "/tarefas".into(),
        "/tarefas/nova".into(),
        "/contatos".into(),
        "/respostas".into(),
        "/pesquisar?q=fatura".into(),
        "/conta".into(),
        "/notificacoes".into(),
    ];
    let mut wide = vec![];
    for p in &agent_pages {
        phone.goto(p).await;
        phone.find("body").await;
        if js(&phone, fits).await != serde_json::json!(true) {
            wide.push(p.clone());
        }
    }
    phone.logout().await;
    phone.goto("/entrar").await;
    phone.login("dona@loja.com", PW, "Nome dona@loja.com").await;
    let admin_pages = [
        "/admin",
        "/admin/usuarios",
        "/admin/equipes",
        "/admin/filas",
        "/admin/pausas",
        "/admin/encerramentos",
        "/admin/etiquetas",
        "/admin/campos",
        "/admin/grupos",
        "/admin/configuracoes",
        "/admin/auditoria",
        "/admin/backup",
        "/admin/agendador",
        "/relatorios/pausas",
        "/equipes",
    ];
    for p in admin_pages {
        phone.goto(p).await;
        phone.find("body").await;
        if js(&phone, fits).await != serde_json::json!(true) {
            wide.push(p.to_string());
        }
    }
    assert!(wide.is_empty(), "pages wider than 390 px: {wide:?}");

    b.c.clone().close().await.unwrap();
    phone.c.clone().close().await.unwrap();
}
