//! End-to-end in two real headless Chromium sessions: the agent answers with
//! a "/" quick reply, adds an internal note the visitor never sees, sends an
//! image the visitor sees in the widget, finishes through the closing-script
//! dialog (the visitor sees the end notice), and downloads the PDF
//! transcript, whose text is checked with pdftotext.

mod common;

use std::time::{Duration, Instant};

use atende::domain::conversations as conv;
use atende::domain::quick_replies;
use atende::domain::registers::{self, Value};
use atende::domain::users::Role;
use base64::Engine;
use common::TestApp;
use common::browser::{
    Browser, W, WAIT, serve_site, start_browser, start_driver, widget_ready, widget_send, widget_wait,
};
use serde_json::json;

const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

async fn widget_text(b: &Browser) -> String {
    let v =
        b.c.execute(
            &format!("{W} return Array.from(s.querySelectorAll('.msgs .m')).map(e => e.textContent).join('\\n');"),
            vec![],
        )
        .await
        .unwrap();
    v.as_str().unwrap_or("").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_uses_quick_reply_note_image_closing_script_and_pdf() {
    let app = TestApp::new().await;
    let t = app.team("Atendimento").await;
    let q = app.queue("Chat do site", t, 5, 60).await;
    app.state
        .db
        .write(move |c| {
            Ok(c.execute(
                "UPDATE queues SET closing_script_required = 1, end_text = 'Obrigado pelo contato!' WHERE id = ?1",
                [q],
            )?)
        })
        .await
        .unwrap();
    registers::create(
        &app.state.db,
        registers::spec("encerramentos").unwrap(),
        vec![Value::Text("Segunda via".into())],
        app.actor(),
    )
    .await
    .unwrap();
    let id = app.user("agente@loja.com", Role::Agent, &[t]).await;
    let agent_user = app.state.db.read(move |c| atende::domain::users::get(c, id)).await.unwrap().unwrap();
    let admin_id = app.user("dona@loja.com", Role::Admin, &[]).await;
    let admin = app.state.db.read(move |c| atende::domain::users::get(c, admin_id)).await.unwrap().unwrap();
    quick_replies::create(
        &app.state,
        &admin,
        true,
        "ola".into(),
        "Olá {{nome}}, aqui é {{agente}}!".into(),
        app.actor(),
    )
    .await
    .unwrap();
    conv::set_connected(&app.state, &agent_user, q, true).await.unwrap();
    conv::set_ready(&app.state, &agent_user, true).await.unwrap();
    let addr = app.serve().await;
    let app_url = format!("http://{addr}");

    // The business's own site, on another origin, with the snippet.
    let site_port = serve_site(&app_url, q).await;

    let driver = start_driver();
    let (p1, p2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let agent = Browser { c: start_browser(&driver, p1.path(), (1280, 900)).await, base: app_url.clone() };
    let visitor = Browser {
        c: start_browser(&driver, p2.path(), (1000, 800)).await,
        base: format!("http://127.0.0.1:{site_port}"),
    };

    visitor.goto("/").await;
    widget_ready(&visitor).await;
    visitor.c.execute(&format!("{W} s.querySelector('.bubble').click(); return true;"), vec![]).await.unwrap();
    widget_send(&visitor, "Oi, preciso da segunda via").await;
    widget_wait(&visitor, "segunda via").await;

    agent.goto("/entrar").await;
    agent.login("agente@loja.com", common::PW, "Nome agente@loja.com").await;
    agent.goto("/atendimentos").await;
    agent.click_text(".offer button", "Aceitar").await;
    agent.wait_text("#messages", "segunda via").await;
    let conv_path = agent.c.current_url().await.unwrap().path().to_string();

    // "/" filters the quick replies; Enter inserts the text with the
    // variables filled, Enter again sends it.
    let area = agent.find("#f-text").await;
    area.send_keys("/ol").await.unwrap();
    agent.wait_text("#qr-popup .qr-option", "/ola").await;
    area.send_keys("\u{E007}").await.unwrap();
    let value = agent.c.execute("return document.getElementById('f-text').value;", vec![]).await.unwrap();
    let value = value.as_str().unwrap_or("").to_string();
    // No name is known: {{nome}} falls away with its separator (issue 11 §4).
    assert_eq!(value, "Olá, aqui é Nome agente@loja.com!");
    area.send_keys("\u{E007}").await.unwrap();
    agent.wait_text("#messages .msg-out", "aqui é Nome agente@loja.com").await;
    widget_wait(&visitor, "aqui é Nome agente@loja.com").await;

    // An internal note: styled apart for the agent.
    agent.click("#composer input[value=note]").await;
    agent.find("#composer.mode-note").await;
    let area = agent.find("#f-text").await;
    area.send_keys("Cliente VIP, conferir boleto antigo\u{E007}").await.unwrap();
    agent.wait_text("#messages .msg-note", "Cliente VIP").await;
    agent.click("#composer input[value=reply]").await;

    // An image to the visitor, through the attach form (no reload).
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("foto-produto.png");
    std::fs::write(&img, base64::engine::general_purpose::STANDARD.decode(PNG).unwrap()).unwrap();
    agent.click("#attach > summary").await;
    agent.find("#f-file").await.send_keys(img.to_str().unwrap()).await.unwrap();
    agent.fill("f-caption", "Foto do produto").await;
    agent.click("#attach-form button[type=submit]").await;
    agent.wait_text("#messages .msg-out", "foto-produto.png").await;
    agent.find("#messages .msg-out img.preview").await;
    widget_wait(&visitor, "foto-produto.png").await;
    let start = Instant::now();
    loop {
        let loaded = visitor
            .c
            .execute(
                &format!(
                    "{W} const i = s.querySelector('.msgs img'); return !!(i && i.complete && i.naturalWidth === 1);"
                ),
                vec![],
            )
            .await
            .unwrap();
        if loaded == json!(true) {
            break;
        }
        assert!(start.elapsed() < WAIT, "the visitor's widget never showed the image");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The note never reached the visitor.
    assert!(!widget_text(&visitor).await.contains("Cliente VIP"));

    // Finish: the closing-script dialog asks reason and resolved.
    agent.click("#finish").await;
    agent.find("#closing-dialog[open]").await;
    let select = agent.find("#closing-dialog select[name=reason_id]").await;
    select.select_by_label("Segunda via").await.unwrap();
    agent.click("#closing-dialog input[name=resolved][value='1']").await;
    agent.click_text("#closing-dialog button[type=submit]", "Finalizar").await;
    agent.wait_path("/atendimentos").await;
    let start = Instant::now();
    loop {
        let notice = visitor
            .c
            .execute(
                &format!("{W} const n = s.querySelector('.notice'); return n.hidden ? '' : n.textContent;"),
                vec![],
            )
            .await
            .unwrap();
        if notice.as_str().unwrap_or("").contains("Obrigado pelo contato!") {
            break;
        }
        assert!(start.elapsed() < WAIT, "the visitor never saw the end notice: {notice}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Export the PDF (with notes) from the agent's browser session.
    agent.goto(&conv_path).await;
    agent.find("#export-pdf").await;
    let b64 = agent
        .c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0] + '/pdf?notas=1', { credentials: 'same-origin' })
               .then(r => r.arrayBuffer())
               .then(b => { let s = ''; new Uint8Array(b).forEach(x => s += String.fromCharCode(x)); done(btoa(s)); });",
            vec![json!(conv_path)],
        )
        .await
        .unwrap();
    let pdf = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap()).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let file = dir.path().join("t.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let out = std::process::Command::new("pdftotext").arg(&file).arg("-").output().expect("pdftotext is required");
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in
        ["Oi, preciso da segunda via", "aqui é Nome agente@loja.com", "Cliente VIP", "foto-produto.png", "Segunda via"]
    {
        assert!(text.contains(needle), "{needle:?} missing from the PDF:\n{text}");
    }

    agent.c.clone().close().await.unwrap();
    visitor.c.clone().close().await.unwrap();
    drop(driver);
}
