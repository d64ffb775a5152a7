//! The WhatsApp Cloud API channel (issue 12) against a fake Graph API on
//! 127.0.0.1 that speaks Meta's documented JSON and records every call:
//! connecting a number (secrets never shown back), the webhook handshake and
//! signatures, idempotent messages of every type, the 9th digit, replies
//! through the outbox (retries, never twice, statuses in any order, ticks),
//! the 24-hour window, a revoked token.

mod common;

use atende::channels::whatsapp::deliver;
use atende::domain::conversations as conv;
use atende::domain::users::Role;
use common::TestApp;
use common::wa::*;
use serde_json::{Value, json};

#[tokio::test]
async fn the_number_is_connected_from_its_queue_page_and_its_secrets_never_come_back() {
    let app = TestApp::new().await;
    let (graph, fake) = fake_graph().await;
    let t = app.team("Atendimento").await;
    let mut admin = app.admin().await;
    // A new WhatsApp queue opens on its connection page.
    let r = admin
        .post(
            "/admin/filas",
            &[
                ("name", "Zap"),
                ("channel", "whatsapp"),
                ("team_id", &t.to_string()),
                ("offer_timeout_secs", "30"),
                ("agent_capacity", "5"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page_path = r.location().to_string();
    assert!(page_path.ends_with("/whatsapp"), "{page_path}");
    let q: i64 = page_path.split('/').nth(3).unwrap().parse().unwrap();
    let page = admin.get(&page_path).await;
    assert_eq!(page.status, 200);
    page.has(&[
        &format!("http://atende.local:8080/webhooks/whatsapp/{q}"),
        "Token de verificação",
        "desconectado: número não configurado",
    ]);
    // Bad input: clear messages, nothing saved.
    let bad = admin
        .post(
            &page_path,
            &[
                ("phone_number_id", "12ab"),
                ("access_token", "com espaço"),
                ("app_secret", ""),
                ("graph_version", "23"),
                ("graph_base", "ftp://x"),
                ("rate_per_sec", "0"),
                ("optout_words", " , "),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    bad.has(&[
        "Use só os dígitos do id",
        "Cole o valor sem espaços.",
        "Campo obrigatório.",
        "Escreva a versão como v23.0.",
        "http:// ou https://",
        "Escreva um número de 1 a 1000.",
        "Escreva ao menos uma palavra.",
    ]);
    bad.lacks(&["com espaço"]);
    assert_eq!(scalar(&app, "SELECT count(*) FROM whatsapp_numbers WHERE phone_number_id <> ''").await, 0);
    // Saved: the secrets are "definido", never in the page, the audit or the log.
    let form = [
        ("phone_number_id", PHONE_ID),
        ("waba_id", WABA),
        ("access_token", TOKEN),
        ("app_secret", SECRET),
        ("display_number", ""),
        ("graph_version", "v23.0"),
        ("graph_base", &format!("http://{graph}")),
        ("rate_per_sec", "80"),
        ("optout_words", "SAIR, PARAR"),
    ];
    assert_eq!(admin.post(&page_path, &form).await.status, 303);
    let page = admin.get(&page_path).await;
    page.has(&["definido", "configurado, não testado", PHONE_ID]);
    page.lacks(&[TOKEN, SECRET]);
    let audit = admin.get("/admin/auditoria").await;
    audit.has(&["Número de WhatsApp salvo"]).lacks(&[TOKEN, SECRET]);
    // Saving again with the secrets left empty keeps them.
    let keep: Vec<(&str, &str)> = form
        .iter()
        .map(|(k, v)| if *k == "access_token" || *k == "app_secret" { (*k, "") } else { (*k, *v) })
        .collect();
    assert_eq!(admin.post(&page_path, &keep).await.status, 303);
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM whatsapp_numbers WHERE access_token <> '' AND app_secret <> ''").await,
        1
    );
    // Testar conexão: the fake answers with the number.
    assert_eq!(admin.post(&format!("{page_path}/testar"), &[]).await.status, 303);
    admin.get(&page_path).await.has(&["conectado", "+55 11 4000-1234"]);
    let call = fake.lock().unwrap().calls.last().cloned().unwrap();
    assert_eq!(call.method, "GET");
    assert!(call.path.starts_with(&format!("/v23.0/{PHONE_ID}?")), "{}", call.path);
    assert_eq!(call.auth, format!("Bearer {TOKEN}"));
    // A wrong token says so.
    let mut wrong = keep.clone();
    wrong[2] = ("access_token", "EAAGoutro");
    assert_eq!(admin.post(&page_path, &wrong).await.status, 303);
    assert_eq!(admin.post(&format!("{page_path}/testar"), &[]).await.status, 303);
    admin.get(&page_path).await.has(&["desconectado: token inválido", "token de acesso inválido ou expirado"]);
    // An agent may not open it.
    app.user("ag@x.com", Role::Agent, &[t]).await;
    let mut ag = app.login("ag@x.com").await;
    assert_eq!(ag.get(&page_path).await.status, 403);
}

#[tokio::test]
async fn the_webhook_answers_the_handshake_and_refuses_what_is_not_signed() {
    let app = TestApp::new().await;
    let (graph, _fake) = fake_graph().await;
    let t = app.team("Atendimento").await;
    let mut admin = app.admin().await;
    let q = wa_queue(&app, &mut admin, t, graph).await;
    let verify: String = app
        .state
        .db
        .read(move |c| Ok(c.query_row("SELECT verify_token FROM whatsapp_numbers", [], |r| r.get(0))?))
        .await
        .unwrap();
    let mut c = app.client();
    let ok = c
        .get(&format!("/webhooks/whatsapp/{q}?hub.mode=subscribe&hub.verify_token={verify}&hub.challenge=1158201444"))
        .await;
    assert_eq!((ok.status, ok.body.as_str()), (200, "1158201444"));
    let no = c.get(&format!("/webhooks/whatsapp/{q}?hub.mode=subscribe&hub.verify_token=errado&hub.challenge=1")).await;
    assert_eq!(no.status, 403);
    assert_eq!(
        c.get("/webhooks/whatsapp/9999?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1").await.status,
        404
    );

    let now = app.state.now();
    let body = text_from("5511987654321", "Maria", "wamid.IN1", "Oi, quero um orçamento", now);
    assert_eq!(post_hook(&app, q, &body, None).await.status, 401, "unsigned");
    assert_eq!(post_hook(&app, q, &body, Some("outro-segredo")).await.status, 401, "forged");
    let tampered = body.replace("orçamento", "desconto");
    let mut cl = app.client();
    let r = cl
        .post_bytes(
            &format!("/webhooks/whatsapp/{q}"),
            "application/json",
            tampered.into_bytes(),
            &[("x-hub-signature-256", &sign(&body, SECRET))],
        )
        .await;
    assert_eq!(r.status, 401, "a body changed after signing");
    assert_eq!(app.count("conversations").await, 0, "nothing stored from an unsigned call");
    let junk = "{not json";
    assert_eq!(post_hook(&app, q, junk, Some(SECRET)).await.status, 400);
    // A body over the limit is refused before anything.
    let big = "x".repeat(2 * 1024 * 1024);
    assert_eq!(post_hook(&app, q, &big, Some(SECRET)).await.status, 413);
    assert_eq!(post_hook(&app, q, &body, Some(SECRET)).await.status, 200);
    assert_eq!(app.count("conversations").await, 1);

    // The secret is kept between webhooks, but a new one applies to the very
    // next webhook, and a deactivated queue takes none.
    let form = |secret: &'static str| {
        vec![
            ("phone_number_id", PHONE_ID.to_string()),
            ("waba_id", WABA.to_string()),
            ("access_token", String::new()),
            ("app_secret", secret.to_string()),
            ("display_number", String::new()),
            ("graph_version", "v23.0".to_string()),
            ("graph_base", format!("http://{graph}")),
            ("rate_per_sec", "80".to_string()),
            ("optout_words", "SAIR, PARAR".to_string()),
        ]
    };
    let f = form("segredo-novo");
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(admin.post(&format!("/admin/filas/{q}/whatsapp"), &pairs).await.status, 303);
    let second = text_from("5511987654321", "Maria", "wamid.IN2", "Alô?", now);
    assert_eq!(post_hook(&app, q, &second, Some(SECRET)).await.status, 401, "the old secret no longer signs");
    assert_eq!(post_hook(&app, q, &second, Some("segredo-novo")).await.status, 200);
    let off = app.state.db.write(move |c| Ok(c.execute("UPDATE queues SET active = 0 WHERE id = ?1", [q])?));
    off.await.unwrap();
    let third = text_from("5511987654321", "Maria", "wamid.IN3", "Tem alguém?", now);
    assert_eq!(post_hook(&app, q, &third, Some("segredo-novo")).await.status, 404);
    assert_eq!(scalar(&app, "SELECT count(*) FROM messages WHERE kind = 'in'").await, 2);
}

#[tokio::test]
async fn each_message_is_stored_once_whatever_its_type_and_one_customer_has_one_contact() {
    let app = TestApp::new().await;
    let (graph, _fake) = fake_graph().await;
    let t = app.team("Atendimento").await;
    let mut admin = app.admin().await;
    let q = wa_queue(&app, &mut admin, t, graph).await;
    // A contact typed by an agent with the 9th digit; WhatsApp sends the wa_id without it.
    app.state
        .db
        .write(|c| {
            c.execute(
                "INSERT INTO contacts (name, phone, phone_rev, created_at, updated_at) VALUES ('Maria Souza', '+5511987654321', ?1, 1, 1)",
                [atende::phone::rev_key("+5511987654321")],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let now = app.state.now();
    let body = envelope(
        json!([{"profile": {"name": "Maria"}, "wa_id": "551187654321"}]),
        json!([
            {"from": "551187654321", "id": "wamid.A", "timestamp": now.to_string(), "type": "text", "text": {"body": "Bom dia"}},
            {"from": "551187654321", "id": "wamid.B", "timestamp": now.to_string(), "type": "interactive",
             "interactive": {"type": "button_reply", "button_reply": {"id": "b1", "title": "Segunda via do boleto"}}},
            {"from": "551187654321", "id": "wamid.C", "timestamp": now.to_string(), "type": "location",
             "location": {"latitude": -23.55, "longitude": -46.63, "name": "Loja Centro"}},
            {"from": "551187654321", "id": "wamid.D", "timestamp": now.to_string(), "type": "contacts",
             "contacts": [{"name": {"formatted_name": "João Lima"}, "phones": [{"phone": "+55 11 91234-5678"}]}]},
            {"from": "551187654321", "id": "wamid.E", "timestamp": now.to_string(), "type": "image",
             "image": {"id": "media-1234", "mime_type": "image/jpeg", "sha256": "x", "caption": "foto do produto"}},
            {"from": "551187654321", "id": "wamid.I", "timestamp": now.to_string(), "type": "document",
             "document": {"id": "media-big", "mime_type": "application/pdf", "sha256": "y", "filename": "contrato.pdf"}},
            {"from": "551187654321", "id": "wamid.F", "timestamp": now.to_string(), "type": "poll"},
            {"from": "551187654321", "id": "wamid.G", "timestamp": now.to_string(), "type": "reaction",
             "reaction": {"message_id": "wamid.A", "emoji": "👍"}}
        ]),
        json!([]),
    );
    assert_eq!(post_hook(&app, q, &body, Some(SECRET)).await.status, 200);
    // Meta redelivers the same batch: nothing new.
    assert_eq!(post_hook(&app, q, &body, Some(SECRET)).await.status, 200);
    assert_eq!(app.count("conversations").await, 1);
    assert_eq!(scalar(&app, "SELECT count(*) FROM messages WHERE kind = 'in'").await, 8);
    // The image was downloaded into the attachment store (once), the
    // document over the limit says so.
    assert_eq!(scalar(&app, "SELECT count(*) FROM attachments WHERE mime = 'image/jpeg' AND size = 22").await, 1);
    let jpeg: Vec<u8> =
        app.state.db.read(|c| Ok(c.query_row("SELECT data FROM attachment_data", [], |r| r.get(0))?)).await.unwrap();
    assert_eq!(jpeg, JPEG);
    assert_eq!(app.count("contacts").await, 1, "the wa_id without the 9 found Maria Souza");
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM conversations WHERE wa_id = '551187654321'").await,
        1,
        "replies go to the wa_id as received"
    );
    let cid = scalar(&app, "SELECT id FROM conversations").await;
    let msgs = app.state.db.read(move |c| conv::messages(c, cid, 0, false)).await.unwrap();
    let bodies: Vec<&str> = msgs.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies[0], "Bom dia");
    assert_eq!(bodies[1], "Segunda via do boleto");
    assert!(
        bodies[2].starts_with("📍 Localização: Loja Centro\nhttps://www.openstreetmap.org/?mlat=-23.55&mlon=-46.63"),
        "{}",
        bodies[2]
    );
    assert!(bodies[3].contains("João Lima · +55 11 91234-5678"), "{}", bodies[3]);
    assert!(bodies[4].starts_with("🖼️ Imagem") && bodies[4].ends_with("foto do produto"), "{}", bodies[4]);
    assert!(
        bodies[5].starts_with("📄 Documento «contrato.pdf» (arquivo não guardado: arquivo maior que o limite"),
        "{}",
        bodies[5]
    );
    assert!(bodies[6].contains("«poll»"), "{}", bodies[6]);
    assert_eq!(bodies[7], "Reagiu 👍 a «Bom dia»");
    // The agents' list and the conversation name the contact.
    let a = app.user("ana@x.com", Role::Agent, &[t]).await;
    let ana = user(&app, a).await;
    conv::claim(&app.state, &ana, cid).await.unwrap();
    let mut web = app.login("ana@x.com").await;
    web.get(&format!("/atendimentos/{cid}")).await.has(&["Maria Souza", "Janela fecha em", "24 h 0 min"]);
    // Another customer (a landline-like id from another country) gets their own contact.
    let other = text_from("14155550100", "Bob", "wamid.H", "Hello", now);
    assert_eq!(post_hook(&app, q, &other, Some(SECRET)).await.status, 200);
    assert_eq!(app.count("contacts").await, 2);
}

#[tokio::test]
async fn a_reply_goes_out_once_through_the_outbox_with_retries_and_ticks_that_only_move_forward() {
    let app = TestApp::new().await;
    let Served { fake, q, cid, .. } = maria_served_by_ana(&app, 0).await;
    let mut web = app.login("ana@x.com").await;
    let r = web
        .post(
            &format!("/atendimentos/{cid}/mensagens"),
            &[("text", "Olá Maria, como posso ajudar?"), ("mode", "reply")],
        )
        .await;
    assert!(r.status == 303 || r.status == 200, "{} {}", r.status, r.body);
    assert_eq!(scalar(&app, "SELECT count(*) FROM outbox WHERE state = 'pending'").await, 1);
    web.get(&format!("/atendimentos/{cid}")).await.has(&["enviando"]);

    // Meta is busy: 429 with Retry-After, then the message goes out once.
    fake.lock().unwrap().answers.push_back((429, graph_error(130429, "Rate limit hit"), Some("30")));
    let run = deliver::run(&app.state).await.unwrap();
    assert_eq!(run.retried, 1);
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM outbox WHERE state = 'pending' AND error LIKE 'limite de mensagens%'").await,
        1
    );
    assert_eq!(deliver::run(&app.state).await.unwrap(), deliver::Run::default(), "not due before Retry-After");
    app.state.clock.advance(31);
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 1);
    assert_eq!(deliver::run(&app.state).await.unwrap(), deliver::Run::default(), "never twice");
    let posts: Vec<Call> = fake.lock().unwrap().calls.iter().filter(|c| c.method == "POST").cloned().collect();
    assert_eq!(posts.len(), 2, "one refused, one accepted");
    let sent: Value = serde_json::from_str(&posts[1].body).unwrap();
    assert_eq!(sent["messaging_product"], "whatsapp");
    assert_eq!(sent["recipient_type"], "individual");
    assert_eq!(sent["to"], "5511987654321");
    assert_eq!(sent["type"], "text");
    assert_eq!(sent["text"], json!({"body": "Olá Maria, como posso ajudar?", "preview_url": false}));
    assert_eq!(posts[1].auth, format!("Bearer {TOKEN}"));
    let wamid: String =
        app.state.db.read(|c| Ok(c.query_row("SELECT external_id FROM outbox", [], |r| r.get(0))?)).await.unwrap();
    assert_eq!(wamid, "wamid.OUT1");

    // Statuses out of order: read arrives before delivered; delivered is skipped; a late failure is ignored.
    let (mut rx, _) = app.state.bus.subscribe(None);
    assert_eq!(post_hook(&app, q, &status(&wamid, "read", json!([])), Some(SECRET)).await.status, 200);
    assert_eq!(post_hook(&app, q, &status(&wamid, "delivered", json!([])), Some(SECRET)).await.status, 200);
    assert_eq!(post_hook(&app, q, &status(&wamid, "sent", json!([])), Some(SECRET)).await.status, 200);
    assert_eq!(
        post_hook(
            &app,
            q,
            &status(&wamid, "failed", json!([{"code": 131026, "title": "Message undeliverable"}])),
            Some(SECRET)
        )
        .await
        .status,
        200
    );
    assert_eq!(scalar(&app, "SELECT count(*) FROM outbox WHERE state = 'read'").await, 1);
    let e = rx.try_recv().unwrap();
    assert_eq!((e.kind, e.conversation_id), ("delivery", Some(cid)));
    let ticks = web.get(&format!("/atendimentos/{cid}/entregas")).await;
    assert_eq!(ticks.status, 200);
    ticks.has(&["data-state=\"read\"", "lida"]);
    web.get(&format!("/atendimentos/{cid}")).await.has(&["✓✓", "lida"]);
    // Another team's agent sees no ticks (404).
    let other = app.team("Outra").await;
    app.user("bia@x.com", Role::Agent, &[other]).await;
    let mut bia = app.login("bia@x.com").await;
    assert_eq!(bia.get(&format!("/atendimentos/{cid}/entregas")).await.status, 404);
}

#[tokio::test]
async fn a_failure_is_shown_with_its_reason_and_a_revoked_token_alerts_the_admins() {
    let app = TestApp::new().await;
    let Served { fake, mut admin, q, ana, cid, .. } = maria_served_by_ana(&app, 0).await;
    // A failure reported later by a status callback.
    conv::send(&app.state, &ana, cid, "Primeira").await.unwrap();
    deliver::run(&app.state).await.unwrap();
    let body = status("wamid.OUT1", "failed", json!([{"code": 131026, "title": "Message undeliverable"}]));
    assert_eq!(post_hook(&app, q, &body, Some(SECRET)).await.status, 200);
    let mut web = app.login("ana@x.com").await;
    web.get(&format!("/atendimentos/{cid}")).await.has(&["falhou", "mensagem não entregável", "131026"]);
    // The token is revoked: the message fails with the reason, the number
    // says so, the admins are told once.
    fake.lock().unwrap().answers.push_back((401, graph_error(190, "Error validating access token"), None));
    conv::send(&app.state, &ana, cid, "Segunda").await.unwrap();
    let run = deliver::run(&app.state).await.unwrap();
    assert_eq!(run.failed, 1);
    web.get(&format!("/atendimentos/{cid}")).await.has(&["token de acesso inválido ou expirado"]);
    assert_eq!(scalar(&app, "SELECT count(*) FROM whatsapp_numbers WHERE state = 'bad_token'").await, 1);
    assert_eq!(scalar(&app, "SELECT count(*) FROM notifications WHERE kind = 'wa_token_invalid'").await, 1);
    admin.get(&format!("/admin/filas/{q}/whatsapp")).await.has(&["desconectado: token inválido"]);
    admin.get("/barra").await.has(&["WhatsApp desconectado: a Meta recusou o token da fila"]);
}

#[tokio::test]
async fn after_24_hours_without_the_customer_free_text_is_refused_until_they_write_again() {
    let app = TestApp::new().await;
    // The window counts from the customer's send time (an hour ago here).
    let Served { fake, q, a, ana, cid, now, .. } = maria_served_by_ana(&app, 3600).await;
    conv::send(&app.state, &ana, cid, "Resposta dentro da janela").await.unwrap();
    deliver::run(&app.state).await.unwrap();
    // Our own messages never extend it.
    app.state.clock.advance(23 * 3600 - 60);
    conv::send(&app.state, &ana, cid, "Ainda dá").await.unwrap();
    let mut web = app.login("ana@x.com").await;
    web.get(&format!("/atendimentos/{cid}")).await.has(&["Janela fecha em", "1 min"]);
    let (mut rx, _) = app.state.bus.subscribe(None);
    app.state.clock.advance(61);
    let closed = atende::domain::whatsapp::windows_closed(&app.state, now - 3600, app.state.now()).await.unwrap();
    assert_eq!(closed, 1);
    let e = rx.try_recv().unwrap();
    assert_eq!((e.kind, e.conversation_id, e.agent_id), ("conversation", Some(cid), Some(a)));
    let outbox_before = app.count("outbox").await;
    let messages_before = app.count("messages").await;
    let r = web.post(&format!("/atendimentos/{cid}/mensagens"), &[("text", "Fora da janela"), ("mode", "reply")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location().ends_with("?err=wa.window_closed"), "{}", r.location());
    web.get(r.location()).await.has(&["janela de 24 horas desta conversa está fechada"]);
    assert_eq!(
        (app.count("outbox").await, app.count("messages").await),
        (outbox_before, messages_before),
        "nothing stored"
    );
    let page = web.get(&format!("/atendimentos/{cid}")).await;
    page.has(&["Janela de 24 h fechada: só modelos aprovados"]);
    // Notes still work.
    assert_eq!(
        web.post(&format!("/atendimentos/{cid}/mensagens"), &[("text", "nota"), ("mode", "note")]).await.status / 100,
        3
    );
    // The customer writes again: the window reopens.
    let later = app.state.now();
    assert_eq!(
        post_hook(&app, q, &text_from("5511987654321", "Maria", "wamid.IN2", "Voltei", later), Some(SECRET))
            .await
            .status,
        200
    );
    conv::send(&app.state, &ana, cid, "Bem-vinda de volta").await.unwrap();
    deliver::run(&app.state).await.unwrap();
    let sent = fake.lock().unwrap().calls.iter().filter(|c| c.method == "POST").count();
    assert_eq!(sent, 3, "two before, one after; none outside the window");
}

#[tokio::test]
async fn a_send_cut_off_by_a_crash_is_recognised_by_its_callback_and_not_sent_again() {
    let app = TestApp::new().await;
    let Served { fake, q, ana, cid, now, .. } = maria_served_by_ana(&app, 0).await;
    conv::send(&app.state, &ana, cid, "Um").await.unwrap();
    conv::send(&app.state, &ana, cid, "Dois").await.unwrap();
    // The server took both and died before recording Meta's answers: they
    // stay "sending" (committed before the call).
    let taken = app.state.db.write(move |c| atende::domain::outbox::take_due(c, "whatsapp", now, 10)).await.unwrap();
    assert_eq!(taken.len(), 2);
    // Meta did take the first: its status callback carries our row id.
    let first = taken[0].id;
    let cb = envelope(
        json!([]),
        json!([]),
        json!([{"id": "wamid.LOST1", "status": "sent", "timestamp": "1", "recipient_id": "5511987654321",
                "biz_opaque_callback_data": format!("atende:{first}")}]),
    );
    assert_eq!(post_hook(&app, q, &cb, Some(SECRET)).await.status, 200);
    // Before the reconcile time nothing is sent again.
    assert_eq!(deliver::run(&app.state).await.unwrap(), deliver::Run::default());
    app.state.clock.advance(atende::domain::outbox::RECONCILE_SECS + 1);
    // Then only the one never confirmed goes out.
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 1);
    let posts: Vec<Value> = fake
        .lock()
        .unwrap()
        .calls
        .iter()
        .filter(|c| c.method == "POST")
        .map(|c| serde_json::from_str(&c.body).unwrap())
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0]["text"]["body"], "Dois");
    assert_eq!(scalar(&app, "SELECT count(*) FROM outbox WHERE state = 'sent'").await, 2);
}
