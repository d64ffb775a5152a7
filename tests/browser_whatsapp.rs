//! End-to-end in real headless Chromium: a WhatsApp conversation. A signed
//! webhook message appears live in the open conversation; the agent replies
//! and the ticks advance as Meta's statuses arrive; the window counts down
//! and, once the scheduler closes it, the page locks the composer by itself;
//! the agent turns the contact's opt-in on and sends a template whose
//! preview follows the parameters typed; at 390 px nothing scrolls sideways.

mod common;

use atende::channels::whatsapp::deliver;
use common::browser::{Browser, start_browser, start_driver};
use common::wa::*;
use common::{PW, TestApp};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whatsapp_conversation_lives_in_the_browser_from_webhook_to_template() {
    let app = TestApp::new().await;
    // Maria wrote 23 h 59 min ago: her window closes a minute from now.
    let Served { fake, mut admin, q, cid, now, .. } = maria_served_by_ana(&app, 24 * 3600 - 60).await;
    let mut track = listed_template("rastreio", "APPROVED", "Seu pedido saiu.");
    track["components"].as_array_mut().unwrap().push(
        json!({"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Rastrear", "url": "https://loja.test/r/{{1}}"}]}),
    );
    let mut photo = listed_template("promo_foto", "APPROVED", "Oferta!");
    photo["components"].as_array_mut().unwrap().insert(0, json!({"type": "HEADER", "format": "IMAGE"}));
    fake.lock().unwrap().templates =
        vec![listed_template("pedido_pronto", "APPROVED", "Olá {{1}}, seu pedido {{2}} está pronto."), track, photo];
    assert_eq!(admin.post(&format!("/admin/filas/{q}/whatsapp/modelos/sincronizar"), &[]).await.status, 303);
    let addr = app.serve().await;
    let driver = start_driver();
    let profile = tempfile::tempdir().unwrap();
    let b = Browser { c: start_browser(&driver, profile.path(), (1280, 900)).await, base: format!("http://{addr}") };
    b.goto("/entrar").await;
    b.login("ana@x.com", PW, "Nome ana@x.com").await;
    b.goto(&format!("/atendimentos/{cid}")).await;
    b.wait_text("#wa-window", "Janela fecha em").await;
    b.wait_text("#wa-optin", "Sem opt-in").await;

    // A signed webhook message appears without a reload (Maria sent it a
    // while ago: her window now ends 90 s from now).
    let msg = text_from("5511987654321", "Maria", "wamid.LIVE1", "Tem o modelo azul?", now - 24 * 3600 + 90);
    assert_eq!(post_hook(&app, q, &msg, Some(SECRET)).await.status, 200);
    b.wait_text("#messages", "Tem o modelo azul?").await;

    // The reply goes out through the outbox; the ticks follow Meta's statuses.
    let area = b.find("#f-text").await;
    area.send_keys("Temos sim!").await.unwrap();
    area.send_keys("\u{E007}").await.unwrap();
    b.wait_text("#messages .msg-out", "Temos sim!").await;
    b.wait_text("#messages .msg-out .tick", "enviando").await;
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 1);
    let wamid: String =
        app.state.db.read(|c| Ok(c.query_row("SELECT external_id FROM outbox", [], |r| r.get(0))?)).await.unwrap();
    let st = |s: &str| {
        json!({"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "551140001234", "phone_number_id": PHONE_ID},
            "statuses": [{"id": wamid, "status": s, "timestamp": "1", "recipient_id": "5511987654321"}]}}]}]})
        .to_string()
    };
    assert_eq!(post_hook(&app, q, &st("delivered"), Some(SECRET)).await.status, 200);
    b.wait_text("#messages .msg-out .tick", "entregue").await;
    assert_eq!(post_hook(&app, q, &st("read"), Some(SECRET)).await.status, 200);
    b.wait_text("#messages .msg-out .tick", "lida").await;

    // Our reply did not extend the window: when it ends the scheduler
    // closes it and the open page locks the composer by itself.
    let from = app.state.now();
    app.state.clock.advance(95);
    let closed = atende::domain::whatsapp::windows_closed(&app.state, from, app.state.now()).await.unwrap();
    assert_eq!(closed, 1);
    b.wait_text("#wa-window", "Janela de 24 h fechada").await;
    b.wait_text("#wa-optin-needed", "ative o opt-in").await;
    // Only internal notes are left to write.
    b.wait_true("return !document.querySelector('#composer input[name=mode][value=reply]');", "replies locked").await;

    // Opt-in on, then the template: the preview follows what is typed.
    b.click("#wa-optin button[type=submit]").await;
    b.wait_text("#wa-optin", "Opt-in ativo").await;
    // A link button's parameter shows in its link as it is typed.
    let track = "#wa-picker details[data-template='rastreio']";
    b.click(&format!("{track} summary")).await;
    // The field can be typed in only once the template has opened.
    b.wait_true(
        &format!(
            "const i = document.querySelector(\"{track} input[data-part='b']\"); return !!i && i.offsetParent !== null;"
        ),
        "tracking template open",
    )
    .await;
    b.type_in(&format!("{track} input[data-part='b']"), "BR123").await;
    b.wait_text(&format!("{track} .wa-tpl-preview"), "[Rastrear: https://loja.test/r/BR123]").await;
    let tpl = "#wa-picker details[data-template='pedido_pronto']";
    b.click(&format!("{tpl} summary")).await;
    b.wait_true(&format!("return document.querySelector(\"{tpl}\").open;"), "template open").await;
    b.type_in(&format!("{tpl} input[data-param='1']"), "Maria").await;
    b.type_in(&format!("{tpl} input[data-param='2']"), "#123").await;
    b.wait_text(&format!("{tpl} .wa-tpl-preview"), "Olá Maria, seu pedido #123 está pronto.").await;
    b.click(&format!("{tpl} button[type=submit]")).await;
    b.wait_text("#messages .msg-out", "Olá Maria, seu pedido #123 está pronto.").await;
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 1);
    let last = fake.lock().unwrap().calls.iter().rfind(|c| c.method == "POST").cloned().unwrap();
    assert!(last.body.contains("\"type\":\"template\""), "{}", last.body);

    // At 390 px: the conversation, its window line and the picker fit.
    let phone_dir = tempfile::tempdir().unwrap();
    let phone = Browser { c: start_browser(&driver, phone_dir.path(), (390, 844)).await, base: b.base.clone() };
    phone.goto("/entrar").await;
    phone.login("ana@x.com", PW, "Nome ana@x.com").await;
    phone.goto(&format!("/atendimentos/{cid}")).await;
    phone.wait_text("#wa-window", "Janela de 24 h fechada").await;
    phone.find("#wa-picker details[data-template='pedido_pronto'] .wa-tpl-preview").await;
    phone.wait_true("return document.documentElement.scrollWidth <= window.innerWidth;", "no sideways scroll").await;
    // The admin's register, with a header's file form, fits too.
    let admin_dir = tempfile::tempdir().unwrap();
    let adm = Browser { c: start_browser(&driver, admin_dir.path(), (390, 844)).await, base: b.base.clone() };
    adm.goto("/entrar").await;
    adm.login("admin@empresa.com", PW, "Ana Admin").await;
    adm.goto(&format!("/admin/filas/{q}/whatsapp")).await;
    adm.wait_text("#wa-template-table", "nenhum arquivo enviado").await;
    adm.find("#wa-template-table input[type=file][name=file]").await;
    adm.wait_true("return document.documentElement.scrollWidth <= window.innerWidth;", "no sideways scroll").await;
    adm.c.clone().close().await.unwrap();
    b.c.clone().close().await.unwrap();
    phone.c.clone().close().await.unwrap();
}
