//! What agents send on WhatsApp beyond text (issue 12), against the fake
//! Graph API: templates (the register synchronised page by page with
//! statuses applied from the webhook, the picker after the window with its
//! parameters), the opt-in rules (an agent's switch, a customer's "SAIR"),
//! starting a conversation with a template, files within Meta's caps, and
//! each number's pace.

mod common;

use atende::channels::whatsapp::deliver;
use atende::domain::conversations as conv;
use common::TestApp;
use common::wa::*;
use serde_json::{Value, json};

/// Four templates Meta lists (three pages of two): an approved one with two
/// parameters, one in review, one with an image header, a named one.
fn four_templates() -> Vec<Value> {
    let mut image = listed_template("promo_foto", "APPROVED", "Oferta para você");
    image["components"].as_array_mut().unwrap().insert(0, json!({"type": "HEADER", "format": "IMAGE"}));
    let mut named = listed_template("boas_vindas", "APPROVED", "Olá {{nome}}, bem-vindo!");
    named["parameter_format"] = json!("NAMED");
    vec![
        listed_template("pedido_pronto", "APPROVED", "Olá {{1}}, seu pedido {{2}} está pronto."),
        listed_template("lembrete", "PENDING", "Lembrete: {{1}}"),
        image,
        named,
    ]
}

fn template_status(event: &str, name: &str) -> String {
    json!({"object": "whatsapp_business_account", "entry": [{"id": WABA, "time": 1, "changes": [{
        "field": "message_template_status_update",
        "value": {"event": event, "message_template_id": 123, "message_template_name": name,
                  "message_template_language": "pt_BR", "reason": "NONE"}}]}]})
    .to_string()
}

async fn template_id(app: &TestApp, name: &'static str) -> i64 {
    app.state
        .db
        .read(move |c| Ok(c.query_row("SELECT id FROM whatsapp_templates WHERE name = ?1", [name], |r| r.get(0))?))
        .await
        .unwrap()
}

#[tokio::test]
async fn templates_are_synchronised_page_by_page_and_statuses_arrive_by_webhook() {
    let app = TestApp::new().await;
    let Served { fake, mut admin, q, .. } = maria_served_by_ana(&app, 0).await;
    fake.lock().unwrap().templates = four_templates();
    let page = format!("/admin/filas/{q}/whatsapp");
    admin.get(&page).await.has(&["Modelos de mensagem", "Ainda não sincronizados"]);
    let r = admin.post(&format!("{page}/modelos/sincronizar"), &[]).await;
    assert_eq!(r.status, 303);
    assert!(r.location().contains("ok=synced"), "{}", r.location());
    let p = admin.get(r.location()).await;
    p.has(&[
        "Modelos sincronizados.",
        "Sincronizados com a Meta em",
        "pedido_pronto",
        "lembrete",
        "em análise",
        "promo_foto",
        "Falta o arquivo do cabeçalho deste modelo",
        "boas_vindas",
        "Olá {{1}}, seu pedido {{2}} está pronto.",
    ]);
    assert_eq!(app.count("whatsapp_templates").await, 4);
    // Every page was read through the cursor, on our base URL, with the token.
    let paths: Vec<String> = fake
        .lock()
        .unwrap()
        .calls
        .iter()
        .filter(|c| c.path.contains("message_templates"))
        .map(|c| c.path.clone())
        .collect();
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert!(paths[1].contains("after=cur2"), "{paths:?}");

    // Meta approves "lembrete": the webhook (signed) applies it at once.
    let hook = template_status("APPROVED", "lembrete");
    assert_eq!(post_hook(&app, q, &hook, Some("wrong")).await.status, 401);
    assert_eq!(scalar(&app, "SELECT count(*) FROM whatsapp_templates WHERE status = 'APPROVED'").await, 3);
    assert_eq!(post_hook(&app, q, &hook, Some(SECRET)).await.status, 200);
    assert_eq!(scalar(&app, "SELECT count(*) FROM whatsapp_templates WHERE status = 'APPROVED'").await, 4);

    // Parameters mapped to contact fields; a source that is not one is refused.
    let t = template_id(&app, "pedido_pronto").await;
    let bad = admin.post(&format!("{page}/modelos/{t}"), &[("p_1", "senha")]).await;
    assert_eq!(bad.status, 400);
    bad.has(&["Escolha um campo do contato da lista."]);
    let ok = admin.post(&format!("{page}/modelos/{t}"), &[("p_1", "name"), ("p_2", "")]).await;
    assert_eq!(ok.status, 303);
    let fields: String = app
        .state
        .db
        .read(move |c| Ok(c.query_row("SELECT fields FROM whatsapp_templates WHERE id = ?1", [t], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(fields, r#"{"p_1":"name"}"#);

    // Gone from Meta: removed at the next synchronisation, the mapping of the others kept.
    fake.lock().unwrap().templates.remove(1);
    assert_eq!(admin.post(&format!("{page}/modelos/sincronizar"), &[]).await.status, 303);
    assert_eq!(app.count("whatsapp_templates").await, 3);
    assert_eq!(template_id(&app, "pedido_pronto").await, t);
    // A revoked token: the page says why, the templates stay viewable.
    let tok = app.state.db.write(move |c| {
        Ok(c.execute("UPDATE whatsapp_numbers SET access_token = 'EAAGrevogado' WHERE queue_id = ?1", [q])?)
    });
    tok.await.unwrap();
    assert_eq!(admin.post(&format!("{page}/modelos/sincronizar"), &[]).await.status, 303);
    admin.get(&page).await.has(&[
        "token de acesso inválido ou expirado",
        "pedido_pronto",
        "desconectado: token inválido",
    ]);
    // Not for agents.
    let mut ana = app.login("ana@x.com").await;
    assert_eq!(ana.post(&format!("{page}/modelos/sincronizar"), &[]).await.status, 403);
}

#[tokio::test]
async fn after_the_window_only_an_opted_in_contact_gets_a_template_with_every_parameter() {
    let app = TestApp::new().await;
    let Served { fake, mut admin, q, cid, .. } = maria_served_by_ana(&app, 25 * 3600).await;
    fake.lock().unwrap().templates = four_templates();
    assert_eq!(admin.post(&format!("/admin/filas/{q}/whatsapp/modelos/sincronizar"), &[]).await.status, 303);
    let t = template_id(&app, "pedido_pronto").await;
    assert_eq!(admin.post(&format!("/admin/filas/{q}/whatsapp/modelos/{t}"), &[("p_1", "name")]).await.status, 303);
    let mut ana = app.login("ana@x.com").await;
    let conv_page = format!("/atendimentos/{cid}");
    // Window closed, no opt-in: the picker waits for the opt-in.
    ana.get(&conv_page)
        .await
        .has(&["Janela de 24 h fechada", "Sem opt-in", "Ativar opt-in", "ative o opt-in"])
        .lacks(&["Enviar modelo"]);
    let t_s = t.to_string();
    let full = [("modelo", t_s.as_str()), ("p_1", "Maria"), ("p_2", "#123")];
    let r = ana.post(&format!("{conv_page}/modelo"), &full).await;
    assert!(r.location().ends_with("err=wa.optin_needed"), "{}", r.location());
    assert_eq!(app.count("outbox").await, 0);
    // Ana turns the opt-in on: the header says who and when, the contact's timeline too.
    assert_eq!(ana.post(&format!("{conv_page}/optin"), &[("ligar", "1")]).await.status, 303);
    let p = ana.get(&conv_page).await;
    p.has(&["Opt-in ativo", "Desativar opt-in", "Adicionar modelo de mensagem", "pedido_pronto", "boas_vindas"]);
    // The approved templates the picker can fill, prefilled from the mapped field.
    p.has(&["Olá Maria, seu pedido {{2}} está pronto.", "value=\"Maria\""]).lacks(&["promo_foto", ">lembrete<"]);
    let contact = scalar(&app, "SELECT contact_id FROM conversations").await;
    let who = scalar_text(&app, "SELECT name FROM users WHERE login = 'ana@x.com'").await;
    ana.get(&format!("/contatos/{contact}")).await.has(&["Opt-in do WhatsApp ativado", &who]);
    // A missing parameter is refused, nothing queued.
    let r = ana.post(&format!("{conv_page}/modelo"), &[("modelo", t_s.as_str()), ("p_1", "Maria"), ("p_2", " ")]).await;
    assert!(r.location().ends_with("err=wa.tpl.missing_param"), "{}", r.location());
    ana.get(r.location()).await.has(&["Preencha todos os parâmetros do modelo."]);
    // Another queue's template or a made-up id: refused.
    let r = ana.post(&format!("{conv_page}/modelo"), &[("modelo", "99999"), ("p_1", "x")]).await;
    assert!(r.location().ends_with("err=wa.tpl.unknown"), "{}", r.location());
    assert_eq!(app.count("outbox").await, 0);
    // Complete: queued with Meta's documented JSON, shown as the customer reads it.
    let r = ana.post(&format!("{conv_page}/modelo"), &full).await;
    assert_eq!(r.location(), conv_page);
    ana.get(&conv_page).await.has(&["Olá Maria, seu pedido #123 está pronto.", "enviando"]);
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 1);
    let post = fake.lock().unwrap().calls.iter().rfind(|c| c.method == "POST").cloned().unwrap();
    let sent: Value = serde_json::from_str(&post.body).unwrap();
    assert_eq!(sent["type"], "template");
    assert_eq!(sent["to"], "5511987654321");
    assert_eq!(
        sent["template"],
        json!({"name": "pedido_pronto", "language": {"code": "pt_BR"}, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Maria"}, {"type": "text", "text": "#123"}]}]})
    );
    // Our template does not open the window: free text is still refused.
    let r = ana.post(&format!("{conv_page}/mensagens"), &[("text", "Oi"), ("mode", "reply")]).await;
    assert!(r.location().contains("err=wa.window_closed"), "{}", r.location());
    assert_eq!(app.count("outbox").await, 1);
}

#[tokio::test]
async fn a_customer_who_writes_sair_is_opted_out_and_no_template_reaches_them() {
    let app = TestApp::new().await;
    let Served { fake, mut admin, q, cid, now, .. } = maria_served_by_ana(&app, 0).await;
    fake.lock().unwrap().templates = four_templates();
    assert_eq!(admin.post(&format!("/admin/filas/{q}/whatsapp/modelos/sincronizar"), &[]).await.status, 303);
    let mut ana = app.login("ana@x.com").await;
    assert_eq!(ana.post(&format!("/atendimentos/{cid}/optin"), &[("ligar", "1")]).await.status, 303);
    // A sentence with the word is not an opt-out; the word alone is.
    let say = |id: &str, text: &str| text_from("5511987654321", "Maria", id, text, now);
    assert_eq!(post_hook(&app, q, &say("wamid.S1", "não quero sair agora"), Some(SECRET)).await.status, 200);
    assert_eq!(scalar(&app, "SELECT count(*) FROM whatsapp_optins WHERE state = 'out'").await, 0);
    assert_eq!(post_hook(&app, q, &say("wamid.S2", "Sair!"), Some(SECRET)).await.status, 200);
    assert_eq!(post_hook(&app, q, &say("wamid.S2", "Sair!"), Some(SECRET)).await.status, 200, "redelivery");
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM whatsapp_optins WHERE state = 'out' AND source = 'customer'").await,
        1
    );
    let p = ana.get(&format!("/atendimentos/{cid}")).await;
    p.has(&["O cliente pediu para sair (opt-out do WhatsApp)", "Opt-out: o cliente escreveu «SAIR»", "Ativar opt-in"]);
    let contact = scalar(&app, "SELECT contact_id FROM conversations").await;
    ana.get(&format!("/contatos/{contact}")).await.has(&["O cliente pediu para sair do WhatsApp", "SAIR"]);
    // Within the window the conversation goes on; a template is refused.
    let t = template_id(&app, "boas_vindas").await.to_string();
    let r = ana.post(&format!("/atendimentos/{cid}/modelo"), &[("modelo", t.as_str()), ("p_nome", "Maria")]).await;
    assert!(r.location().ends_with("err=wa.opted_out"), "{}", r.location());
    assert_eq!(app.count("outbox").await, 0);
    conv::send(&app.state, &atende_user(&app, "ana@x.com").await, cid, "Tudo bem, Maria.").await.unwrap();
    assert_eq!(app.count("outbox").await, 1);
    // The admin's own words: "cancelar" now opts out, "sair" no longer does.
    let r = admin
        .post(
            &format!("/admin/filas/{q}/whatsapp"),
            &[
                ("phone_number_id", PHONE_ID),
                ("waba_id", WABA),
                ("graph_version", "v23.0"),
                ("graph_base", &scalar_text(&app, "SELECT graph_base FROM whatsapp_numbers").await),
                ("rate_per_sec", "80"),
                ("optout_words", "cancelar"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(ana.post(&format!("/atendimentos/{cid}/optin"), &[("ligar", "1")]).await.status, 303);
    assert_eq!(post_hook(&app, q, &say("wamid.S3", "sair"), Some(SECRET)).await.status, 200);
    assert_eq!(scalar(&app, "SELECT count(*) FROM whatsapp_optins WHERE state = 'out'").await, 1);
    assert_eq!(post_hook(&app, q, &say("wamid.S4", "CANCELAR"), Some(SECRET)).await.status, 200);
    assert_eq!(scalar(&app, "SELECT count(*) FROM whatsapp_optins WHERE state = 'out'").await, 2);
}

async fn atende_user(app: &TestApp, login: &'static str) -> atende::domain::users::User {
    let id: i64 = app
        .state
        .db
        .read(move |c| Ok(c.query_row("SELECT id FROM users WHERE login = ?1", [login], |r| r.get(0))?))
        .await
        .unwrap();
    user(app, id).await
}

async fn scalar_text(app: &TestApp, sql: &'static str) -> String {
    app.state.db.read(move |c| Ok(c.query_row(sql, [], |r| r.get(0))?)).await.unwrap()
}

#[tokio::test]
async fn iniciar_conversa_on_whatsapp_asks_for_a_template_and_the_contacts_opt_in() {
    let app = TestApp::new().await;
    let Served { fake, mut admin, q, a, cid, .. } = maria_served_by_ana(&app, 3600).await;
    fake.lock().unwrap().templates = four_templates();
    assert_eq!(admin.post(&format!("/admin/filas/{q}/whatsapp/modelos/sincronizar"), &[]).await.status, 303);
    app.grant(a, "open_conversations").await;
    let mut ana = app.login("ana@x.com").await;
    let q_s = q.to_string();
    // The number is kept for conversations agents start: named so in the form.
    let base = scalar_text(&app, "SELECT graph_base FROM whatsapp_numbers").await;
    let number = [
        ("phone_number_id", PHONE_ID),
        ("waba_id", WABA),
        ("graph_version", "v23.0"),
        ("graph_base", base.as_str()),
        ("rate_per_sec", "80"),
        ("optout_words", "SAIR, PARAR"),
        ("reserved_outbound", "1"),
    ];
    assert_eq!(admin.post(&format!("/admin/filas/{q}/whatsapp"), &number).await.status, 303);
    ana.get("/atendimentos/novo").await.has(&["WhatsApp (exclusivo para iniciar conversas)"]);
    // A new contact (never wrote): the window is closed, a template is asked for.
    let typed = [("name", "João"), ("phone", "+55 11 98888-7777"), ("email", ""), ("queue_id", q_s.as_str())];
    let mut first = typed.to_vec();
    first.push(("text", "Oi João"));
    let r = ana.post("/atendimentos/novo", &first).await;
    assert_eq!(r.status, 422, "{}", r.body);
    r.has(&["escolha um modelo aprovado", "Adicionar modelo de mensagem", "pedido_pronto", "autorizou receber"]);
    assert_eq!(app.count("conversations").await, 1, "nothing created");
    // The template without the opt-in confirmed: refused, nothing created.
    let t = template_id(&app, "pedido_pronto").await.to_string();
    let mut with_t = typed.to_vec();
    with_t.extend([("modelo", t.as_str()), ("p_1", "João"), ("p_2", "#77")]);
    let r = ana.post("/atendimentos/novo", &with_t).await;
    assert_eq!(r.status, 422);
    r.has(&["ative o opt-in do contato"]);
    assert_eq!(app.count("conversations").await, 1);
    // Confirmed: the conversation opens assigned to Ana with the template queued to his number.
    with_t.push(("optin", "1"));
    let r = ana.post("/atendimentos/novo", &with_t).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let new_id: i64 = r.location().trim_start_matches("/atendimentos/").parse().unwrap();
    ana.get(r.location()).await.has(&["João", "Olá João, seu pedido #77 está pronto.", "Opt-in ativo"]);
    assert_eq!(scalar(&app, "SELECT count(*) FROM whatsapp_optins WHERE state = 'in' AND source = 'agent'").await, 1);
    let (to, payload): (String, String) = app
        .state
        .db
        .read(|c| Ok(c.query_row("SELECT recipient, payload FROM outbox", [], |r| Ok((r.get(0)?, r.get(1)?)))?))
        .await
        .unwrap();
    assert_eq!(to, "5511988887777");
    assert!(payload.contains("\"type\":\"template\""), "{payload}");
    let agent: i64 = app
        .state
        .db
        .read(move |c| Ok(c.query_row("SELECT agent_id FROM conversations WHERE id = ?1", [new_id], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(agent, a);

    // Maria wrote an hour ago (her conversation now finished): free text may open a new one.
    conv::close(&app.state, &atende_user(&app, "ana@x.com").await, cid, false, None).await.unwrap();
    let maria = scalar(&app, "SELECT contact_id FROM conversations WHERE id = 1").await.to_string();
    let r = ana
        .post(
            "/atendimentos/novo",
            &[("contato", maria.as_str()), ("queue_id", q_s.as_str()), ("text", "Maria, seu pedido chegou")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(scalar(&app, "SELECT count(*) FROM outbox WHERE json_extract(payload, '$.type') = 'text'").await, 1);
    ana.get(r.location()).await.has(&["Janela fecha em", "Maria, seu pedido chegou"]);
}

#[tokio::test]
async fn each_number_sends_at_most_its_messages_per_second() {
    let app = TestApp::new().await;
    let Served { fake, q, cid, ana, .. } = maria_served_by_ana(&app, 0).await;
    let set = app
        .state
        .db
        .write(move |c| Ok(c.execute("UPDATE whatsapp_numbers SET rate_per_sec = 3 WHERE queue_id = ?1", [q])?));
    set.await.unwrap();
    for i in 0..7 {
        conv::send(&app.state, &ana, cid, &format!("mensagem {i}")).await.unwrap();
    }
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 3);
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 3);
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 1);
    let bodies: Vec<String> = fake
        .lock()
        .unwrap()
        .calls
        .iter()
        .filter(|c| c.method == "POST")
        .map(|c| serde_json::from_str::<Value>(&c.body).unwrap()["text"]["body"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(bodies, (0..7).map(|i| format!("mensagem {i}")).collect::<Vec<_>>(), "in order, each once");
}

/// A PNG's signature and a little more.
fn png(extra: usize) -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
    v.resize(v.len() + extra, 0);
    v
}

#[tokio::test]
async fn files_go_to_whatsapp_uploaded_first_within_metas_caps() {
    let app = TestApp::new().await;
    let Served { fake, cid, .. } = maria_served_by_ana(&app, 0).await;
    let mut ana = app.login("ana@x.com").await;
    let path = format!("/atendimentos/{cid}/anexos");
    let r = ana
        .post_multipart(&path, &[("text", "Segue a foto"), ("mode", "reply")], Some(("foto.png", &png(100))), true)
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(!r.location().contains("err="), "{}", r.location());
    let r = ana
        .post_multipart(&path, &[("text", ""), ("mode", "reply")], Some(("boleto.pdf", b"%PDF-1.4 boleto")), true)
        .await;
    assert!(!r.location().contains("err="), "{}", r.location());
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 2);
    let calls: Vec<Call> = fake.lock().unwrap().calls.iter().filter(|c| c.method == "POST").cloned().collect();
    let paths: Vec<&str> = calls.iter().map(|c| c.path.rsplit('/').next().unwrap()).collect();
    assert_eq!(paths.iter().filter(|p| **p == "media").count(), 2, "{paths:?}");
    let msgs: Vec<Value> = calls
        .iter()
        .filter(|c| c.path.ends_with("/messages"))
        .map(|c| serde_json::from_str(&c.body).unwrap())
        .collect();
    let image = msgs.iter().find(|m| m["type"] == "image").expect("image sent");
    assert!(image["image"]["id"].as_str().unwrap().starts_with("up-"), "{image}");
    assert_eq!(image["image"]["caption"], "Segue a foto");
    let doc = msgs.iter().find(|m| m["type"] == "document").expect("document sent");
    assert_eq!(doc["document"]["filename"], "boleto.pdf");
    assert!(doc["document"].get("caption").is_none());
    // Over Meta's cap for images (5 MB), a type WhatsApp refuses: clear
    // messages, nothing stored or queued.
    let (atts, out) = (app.count("attachments").await, app.count("outbox").await);
    let r =
        ana.post_multipart(&path, &[("text", ""), ("mode", "reply")], Some(("grande.png", &png(6 << 20))), true).await;
    assert!(r.location().ends_with("err=wa.media_too_big"), "{}", r.location());
    ana.get(r.location()).await.has(&["imagens até 5 MB"]);
    let gif = b"GIF89a\x01\x00\x01\x00";
    let r = ana.post_multipart(&path, &[("text", ""), ("mode", "reply")], Some(("anim.gif", gif)), true).await;
    assert!(r.location().ends_with("err=wa.media_type"), "{}", r.location());
    assert_eq!((app.count("attachments").await, app.count("outbox").await), (atts, out));
    // An internal note with a file stays inside Atende.
    let r = ana.post_multipart(&path, &[("text", "só nós"), ("mode", "note")], Some(("n.png", &png(10))), true).await;
    assert!(!r.location().contains("err="), "{}", r.location());
    assert_eq!(app.count("outbox").await, out);
}

/// Templates that need more than text: an image header, a document header,
/// a LOCATION header and a URL button whose link ends in a parameter.
fn templates_with_headers() -> Vec<Value> {
    let with_header = |name: &str, format: &str| {
        let mut t = listed_template(name, "APPROVED", "Confira, {{1}}.");
        t["components"].as_array_mut().unwrap().insert(0, json!({"type": "HEADER", "format": format}));
        t
    };
    let mut track = listed_template("rastreio", "APPROVED", "Seu pedido saiu para entrega.");
    track["components"].as_array_mut().unwrap().push(json!({"type": "BUTTONS", "buttons": [
        {"type": "QUICK_REPLY", "text": "Obrigado"},
        {"type": "URL", "text": "Rastrear", "url": "https://loja.test/r/{{1}}", "example": ["https://loja.test/r/X1"]}]}));
    vec![with_header("promo_foto", "IMAGE"), with_header("boleto", "DOCUMENT"), with_header("loja", "LOCATION"), track]
}

fn sent_template(fake: &Shared, name: &str) -> Value {
    let calls = fake.lock().unwrap().calls.clone();
    let msg = calls
        .iter()
        .filter(|c| c.method == "POST" && c.path.ends_with("/messages"))
        .map(|c| serde_json::from_str::<Value>(&c.body).unwrap())
        .find(|m| m["template"]["name"] == name);
    msg.unwrap_or_else(|| panic!("{name} not sent"))
}

#[tokio::test]
async fn templates_with_a_file_a_place_or_a_link_button_are_sent_with_what_they_need() {
    let app = TestApp::new().await;
    let Served { fake, mut admin, q, cid, .. } = maria_served_by_ana(&app, 25 * 3600).await;
    fake.lock().unwrap().templates = templates_with_headers();
    let page = format!("/admin/filas/{q}/whatsapp");
    assert_eq!(admin.post(&format!("{page}/modelos/sincronizar"), &[]).await.status, 303);
    let (foto, boleto, loja) =
        (template_id(&app, "promo_foto").await, template_id(&app, "boleto").await, template_id(&app, "loja").await);
    let mut ana = app.login("ana@x.com").await;
    let conv_page = format!("/atendimentos/{cid}");
    assert_eq!(ana.post(&format!("{conv_page}/optin"), &[("ligar", "1")]).await.status, 303);
    // Until an admin gives the file and the place, those two are not offered.
    admin.get(&page).await.has(&[
        "Falta o arquivo do cabeçalho deste modelo",
        "Falta o local do cabeçalho deste modelo",
        "nenhum arquivo enviado",
        "[Rastrear: https://loja.test/r/{{1}}]",
    ]);
    ana.get(&conv_page).await.has(&["rastreio", "botão «Rastrear»"]).lacks(&["promo_foto", "boleto", ">loja<"]);
    let f = foto.to_string();
    let r = ana.post(&format!("{conv_page}/modelo"), &[("modelo", f.as_str()), ("p_1", "Maria")]).await;
    assert!(r.location().ends_with("err=wa.tpl.file_missing"), "{}", r.location());

    // The file must be of the header's kind and within Meta's cap; the place in range.
    let file_path = |t: i64| format!("{page}/modelos/{t}/arquivo");
    let r = admin.post_multipart(&file_path(foto), &[], Some(("boleto.pdf", b"%PDF-1.4 x")), true).await;
    assert!(r.location().contains("err=wa.tpl.file_kind"), "{}", r.location());
    admin.get(r.location()).await.has(&["não é do tipo que o cabeçalho pede"]);
    let r = admin.post_multipart(&file_path(foto), &[], Some(("grande.png", &png(6 << 20))), true).await;
    assert!(r.location().contains("err=wa.media_too_big"), "{}", r.location());
    let r = admin.post_multipart(&file_path(loja), &[], Some(("foto.png", &png(10))), true).await;
    assert!(r.location().contains("err=wa.tpl.no_file_header"), "{}", r.location());
    assert_eq!(admin.post_multipart(&file_path(foto), &[], Some(("x.png", &png(1))), false).await.status, 403);
    assert_eq!(app.count("whatsapp_template_media").await, 0);
    let r = admin.post_multipart(&file_path(foto), &[], Some(("oferta.png", &png(100))), true).await;
    assert!(r.location().contains("ok=fields"), "{}", r.location());
    let r = admin.post_multipart(&file_path(boleto), &[], Some(("boleto.pdf", b"%PDF-1.4 boleto")), true).await;
    assert!(r.location().contains("ok=fields"), "{}", r.location());
    let place = format!("{page}/modelos/{loja}/local");
    let far = [("latitude", "95"), ("longitude", "-46.6"), ("place_name", "Loja"), ("place_address", "")];
    let r = admin.post(&place, &far).await;
    assert!(r.location().contains("err=wa.tpl.bad_place"), "{}", r.location());
    admin.get(r.location()).await.has(&["Informe latitude"]);
    let ok = [
        ("latitude", "-23,5505"),
        ("longitude", "-46.6333"),
        ("place_name", "Loja da Ana"),
        ("place_address", "Rua A, 1"),
    ];
    assert!(admin.post(&place, &ok).await.location().contains("ok=fields"));
    admin.get(&page).await.has(&["oferta.png", "boleto.pdf", "📍 Loja da Ana — Rua A, 1", "value=\"-23.5505\""]);
    // Ana cannot set them.
    assert_eq!(ana.post(&place, &ok).await.status, 403);

    // Offered now, with the file named; each goes with its documented header.
    ana.get(&conv_page).await.has(&[
        "promo_foto",
        "boleto",
        "Arquivo do cabeçalho: <strong>oferta.png</strong>",
        "📍 Loja da Ana",
    ]);
    for t in [foto, boleto, loja] {
        let t = t.to_string();
        let r = ana.post(&format!("{conv_page}/modelo"), &[("modelo", t.as_str()), ("p_1", "Maria")]).await;
        assert_eq!(r.location(), conv_page);
    }
    // The link button's parameter: required, one word.
    let track = template_id(&app, "rastreio").await.to_string();
    let r = ana.post(&format!("{conv_page}/modelo"), &[("modelo", track.as_str())]).await;
    assert!(r.location().ends_with("err=wa.tpl.missing_param"), "{}", r.location());
    let r = ana.post(&format!("{conv_page}/modelo"), &[("modelo", track.as_str()), ("b_1", "BR 123")]).await;
    assert!(r.location().ends_with("err=wa.tpl.bad_param"), "{}", r.location());
    let r = ana.post(&format!("{conv_page}/modelo"), &[("modelo", track.as_str()), ("b_1", "BR123")]).await;
    assert_eq!(r.location(), conv_page);
    // Each message keeps its own copy of the file it sent; the conversation shows it.
    ana.get(&conv_page).await.has(&[
        "oferta.png",
        "Confira, Maria.",
        "📍 Loja da Ana — Rua A, 1",
        "[Obrigado] [Rastrear: https://loja.test/r/BR123]",
    ]);
    assert_eq!(scalar(&app, "SELECT count(*) FROM attachments WHERE name IN ('oferta.png', 'boleto.pdf')").await, 2);
    assert_eq!(scalar(&app, "SELECT count(*) FROM outbox WHERE attachment_id IS NOT NULL").await, 2);

    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 4);
    let uploads = fake.lock().unwrap().calls.iter().filter(|c| c.path.ends_with("/media")).count();
    assert_eq!(uploads, 2, "each file uploaded right before its message");
    let image = sent_template(&fake, "promo_foto");
    let header = &image["template"]["components"][0];
    assert_eq!(header["type"], "header");
    assert_eq!(header["parameters"][0]["type"], "image");
    assert!(header["parameters"][0]["image"]["id"].as_str().unwrap().starts_with("up-"), "{header}");
    assert_eq!(image["template"]["components"][1]["parameters"][0]["text"], "Maria");
    let doc = sent_template(&fake, "boleto");
    assert_eq!(doc["template"]["components"][0]["parameters"][0]["document"]["filename"], "boleto.pdf");
    let at = sent_template(&fake, "loja");
    assert_eq!(
        at["template"]["components"][0],
        json!({"type": "header", "parameters": [{"type": "location", "location": {
            "latitude": "-23.5505", "longitude": "-46.6333", "name": "Loja da Ana", "address": "Rua A, 1"}}]})
    );
    let tr = sent_template(&fake, "rastreio");
    assert_eq!(
        tr["template"]["components"],
        json!([{"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "BR123"}]}])
    );

    // Gone from Meta: the template and its file go; the messages keep theirs.
    fake.lock().unwrap().templates.remove(0);
    assert_eq!(admin.post(&format!("{page}/modelos/sincronizar"), &[]).await.status, 303);
    assert_eq!(app.count("whatsapp_template_media").await, 1);
    assert_eq!(scalar(&app, "SELECT count(*) FROM attachments WHERE name = 'oferta.png'").await, 1);
}

#[tokio::test]
async fn another_teams_agent_can_neither_switch_the_opt_in_nor_send_a_template() {
    let app = TestApp::new().await;
    let Served { fake, mut admin, q, cid, .. } = maria_served_by_ana(&app, 25 * 3600).await;
    fake.lock().unwrap().templates = four_templates();
    assert_eq!(admin.post(&format!("/admin/filas/{q}/whatsapp/modelos/sincronizar"), &[]).await.status, 303);
    let other = app.team("Financeiro").await;
    app.user("bia@x.com", atende::domain::users::Role::Agent, &[other]).await;
    let mut bia = app.login("bia@x.com").await;
    let r = bia.post(&format!("/atendimentos/{cid}/optin"), &[("ligar", "1")]).await;
    assert_eq!(r.status, 404);
    r.lacks(&["Maria"]);
    let t = template_id(&app, "boas_vindas").await.to_string();
    let r = bia.post(&format!("/atendimentos/{cid}/modelo"), &[("modelo", t.as_str()), ("p_nome", "Maria")]).await;
    assert_eq!(r.status, 404);
    r.lacks(&["Maria"]);
    assert_eq!((app.count("whatsapp_optins").await, app.count("outbox").await), (0, 0));
    // Without the CSRF token nothing changes either.
    let mut ana = app.login("ana@x.com").await;
    let r = ana.post_raw(&format!("/atendimentos/{cid}/optin"), "ligar=1", &[]).await;
    assert_eq!(r.status, 403);
    assert_eq!(app.count("whatsapp_optins").await, 0);
}
