//! The web chat widget never fails silently (issue 11, section 2), API side:
//! the pre-chat gate, refused sites on the queue's page, the snippet after
//! creating a queue, the queue's look, "digitando…" both ways (events only),
//! Retry-After on 429, and an offline message that becomes a queued conversation.

mod common;

use atende::domain::users::{self, Role, User};
use common::TestApp;
use serde_json::Value;

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    body: &str,
    origin: Option<&str>,
) -> (u16, Value, warp::http::HeaderMap) {
    let mut req = warp::test::request().method(method).path(path).header("content-type", "text/plain").body(body);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    let r = req.reply(&app.routes).await;
    let v = serde_json::from_slice(r.body()).unwrap_or(Value::Null);
    (r.status().as_u16(), v, r.headers().clone())
}

async fn set(app: &TestApp, sql: &'static str, q: i64) {
    app.state.db.write(move |c| Ok(c.execute(sql, [q])?)).await.unwrap();
}

async fn get_user(app: &TestApp, id: i64) -> User {
    app.state.db.read(move |c| users::get(c, id)).await.unwrap().unwrap()
}

/// The queue form as the admin page posts it, plus `extra`.
fn queue_form<'a>(team: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![
        ("name", "Site"),
        ("channel", "webchat"),
        ("team_id", team),
        ("offer_timeout_secs", "30"),
        ("agent_capacity", "5"),
    ];
    v.extend_from_slice(extra);
    v
}

#[tokio::test]
async fn the_pre_chat_gate_refuses_a_first_message_without_the_required_fields() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    set(&app, "UPDATE queues SET ask_name = 1, ask_email = 1 WHERE id = ?1", q).await;
    let p = format!("/api/widget/{q}/messages");
    let (_, cfg, _) = call(&app, "GET", &format!("/api/widget/{q}/config"), "", None).await;
    assert_eq!(cfg["ask"]["name"], true);
    assert_eq!(cfg["ask"]["email"], true);
    // Nothing, then half of it: 422 with the pt-BR message and the fields to fill.
    let (s, v, _) = call(&app, "POST", &p, r#"{"text":"Oi"}"#, None).await;
    assert_eq!(s, 422, "{v}");
    assert!(v["error"].as_str().unwrap().contains("Preencha os dados pedidos"), "{v}");
    assert_eq!(v["fields"], serde_json::json!(["name", "email"]));
    let (s, v, _) = call(&app, "POST", &p, r#"{"name":"  Maria ","text":"Oi"}"#, None).await;
    assert_eq!(s, 422);
    assert_eq!(v["fields"], serde_json::json!(["email"]));
    let (s, v, _) = call(&app, "POST", &p, r#"{"name":"Maria","email":"maria@","text":"Oi"}"#, None).await;
    assert_eq!(s, 422);
    assert!(v["error"].as_str().unwrap().contains("Confira o e-mail"), "{v}");
    assert_eq!(app.count("conversations").await, 0, "a refused first message changes nothing");
    assert_eq!(app.count("contacts").await, 0);
    assert_eq!(app.count("visitors").await, 0);
    // Filled: the conversation starts; later messages need nothing more.
    let (s, first, _) = call(&app, "POST", &p, r#"{"name":"Maria","email":"maria@loja.com","text":"Oi"}"#, None).await;
    assert_eq!(s, 200, "{first}");
    let token = first["token"].as_str().unwrap().to_string();
    let (s, _, _) = call(&app, "POST", &p, &format!(r#"{{"token":"{token}","text":"Ainda eu"}}"#), None).await;
    assert_eq!(s, 200);
    // After the conversation ends, the same visitor starts another: what we know counts.
    let ana = app.user("ana@x.com", Role::Agent, &[t]).await;
    let ana = get_user(&app, ana).await;
    let cid = first["conversation_id"].as_i64().unwrap();
    atende::domain::conversations::claim(&app.state, &ana, cid).await.unwrap();
    atende::domain::conversations::close(&app.state, &ana, cid, false, None).await.unwrap();
    let (s, again, _) = call(&app, "POST", &p, &format!(r#"{{"token":"{token}","text":"Voltei"}}"#), None).await;
    assert_eq!(s, 200, "{again}");
    assert_ne!(again["conversation_id"], first["conversation_id"]);
    // A visitor we know nothing about (another browser) is still gated.
    let (s, _, _) = call(&app, "POST", &p, r#"{"name":"João","text":"Oi"}"#, None).await;
    assert_eq!(s, 422);
    assert_eq!(app.count("conversations").await, 2);
}

#[tokio::test]
async fn refused_sites_are_shown_on_the_queue_page_bounded_and_upserted() {
    let app = TestApp::new().await;
    let mut admin = app.admin().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    set(&app, "UPDATE queues SET allowed_origins = 'https://www.loja.com.br' WHERE id = ?1", q).await;
    admin.get(&format!("/admin/filas/{q}")).await.has(&["Nenhum site foi recusado."]);
    // The site without www: the config's 403 is readable by the widget (CORS)
    // and says which address was refused.
    let (s, v, h) = call(&app, "GET", &format!("/api/widget/{q}/config"), "", Some("https://loja.com.br")).await;
    assert_eq!(s, 403);
    assert!(v["error"].as_str().unwrap().contains("não está autorizado"), "{v}");
    assert_eq!(v["origin"], "https://loja.com.br");
    assert_eq!(h["access-control-allow-origin"], "https://loja.com.br");
    // Other endpoints still refuse without CORS, and count as refusals too.
    let (s, _, h) =
        call(&app, "POST", &format!("/api/widget/{q}/messages"), r#"{"text":"oi"}"#, Some("http://www.loja.com.br"))
            .await;
    assert_eq!(s, 403);
    assert!(!h.contains_key("access-control-allow-origin"));
    let page = admin.get(&format!("/admin/filas/{q}")).await;
    page.has(&[
        "Sites recusados recentemente",
        "<code>https://loja.com.br</code>",
        "<code>http://www.loja.com.br</code>",
        "Última tentativa",
    ]);
    let when = atende::views::datetime(app.state.now(), &app.state.settings().tz());
    page.has(&[&when]);
    // Within a minute a refusal is not written again; after it, counted.
    for _ in 0..5 {
        call(&app, "GET", &format!("/api/widget/{q}/config"), "", Some("https://loja.com.br")).await;
    }
    let hits = |app: &TestApp| {
        let st = app.state.clone();
        async move {
            st.db
                .read(move |c| {
                    Ok(c.query_row(
                        "SELECT hits FROM widget_refused_origins WHERE queue_id = ?1 AND origin = 'https://loja.com.br'",
                        [q],
                        |r| r.get::<_, i64>(0),
                    )?)
                })
                .await
                .unwrap()
        }
    };
    assert_eq!(hits(&app).await, 1);
    app.state.clock.advance(61);
    call(&app, "GET", &format!("/api/widget/{q}/config"), "", Some("https://loja.com.br")).await;
    assert_eq!(hits(&app).await, 2);
    // Many sites: only the newest 20 are kept.
    for i in 0..30 {
        app.state.clock.advance(1);
        call(&app, "GET", &format!("/api/widget/{q}/config"), "", Some(&format!("https://site{i}.example"))).await;
    }
    assert_eq!(app.count("widget_refused_origins").await, 20);
    let page = admin.get(&format!("/admin/filas/{q}")).await;
    page.has(&["https://site29.example", "https://site10.example"])
        .lacks(&["https://site9.example<", "<code>https://loja.com.br</code>"]);
    // The allowed site itself is never noted.
    let (s, _, _) = call(&app, "GET", &format!("/api/widget/{q}/config"), "", Some("https://www.loja.com.br")).await;
    assert_eq!(s, 200);
    assert_eq!(app.count("widget_refused_origins").await, 20);
}

#[tokio::test]
async fn a_new_web_chat_queue_opens_on_its_page_with_the_snippet_to_copy() {
    let app = TestApp::new().await;
    let mut admin = app.admin().await;
    let t = app.team("Suporte").await.to_string();
    let r = admin.post("/admin/filas", &queue_form(&t, &[])).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id: i64 =
        app.state.db.read(|c| Ok(c.query_row("SELECT max(id) FROM queues", [], |r| r.get(0))?)).await.unwrap();
    assert_eq!(r.location(), format!("/admin/filas/{id}?ok=created"));
    let page = admin.get(r.location()).await;
    page.has(&[
        "Registro criado.",
        "Código do chat para o seu site",
        &format!("data-queue=&quot;{id}&quot;"),
        "data-copy=\"#widget-snippet-code\"",
        "Copiar código",
        "https://www.loja.com.br são sites diferentes",
        "widget/snippet.js",
    ]);
    // An e-mail queue opens on its mailbox page.
    let email = [
        ("name", "Email"),
        ("channel", "email"),
        ("team_id", t.as_str()),
        ("offer_timeout_secs", "30"),
        ("agent_capacity", "5"),
    ];
    let r = admin.post("/admin/filas", &email).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location().starts_with("/admin/filas/") && r.location().ends_with("/email"), "{}", r.location());
    // The copy script is served.
    let js = page.body.split("widget/snippet.js").next().unwrap().rsplit("src=\"").next().unwrap().to_string();
    let r = admin.get(&format!("{js}widget/snippet.js")).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("data-copy"));
}

#[tokio::test]
async fn each_queue_has_its_title_greeting_and_validated_colour() {
    let app = TestApp::new().await;
    let mut admin = app.admin().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let (_, cfg, _) = call(&app, "GET", &format!("/api/widget/{q}/config"), "", None).await;
    assert_eq!(cfg["title"], "Minha empresa", "the default title is the business name");
    assert_eq!(cfg["greeting"], "");
    assert_eq!(cfg["color"], "");
    let ts = t.to_string();
    for bad in ["azul", "#12345", "#12 456", "#12345g", "2563eb"] {
        let r = admin.post(&format!("/admin/filas/{q}"), &queue_form(&ts, &[("widget_color", bad)])).await;
        assert_eq!(r.status, 422, "{bad}");
        r.has(&["Use uma cor no formato #rrggbb"]);
    }
    let (_, cfg, _) = call(&app, "GET", &format!("/api/widget/{q}/config"), "", None).await;
    assert_eq!(cfg["color"], "", "a refused form changes nothing");
    let good = queue_form(
        &ts,
        &[("widget_title", "Loja do Zé"), ("widget_greeting", "Respondemos em minutos"), ("widget_color", "#0F766e")],
    );
    assert_eq!(admin.post(&format!("/admin/filas/{q}"), &good).await.status, 303);
    let (_, cfg, _) = call(&app, "GET", &format!("/api/widget/{q}/config"), "", None).await;
    assert_eq!(cfg["title"], "Loja do Zé");
    assert_eq!(cfg["greeting"], "Respondemos em minutos");
    assert_eq!(cfg["color"], "#0F766e");
    assert_eq!(cfg["texts"]["widget.typing"], "digitando…");
}

#[tokio::test]
async fn typing_travels_both_ways_as_events_and_is_never_stored() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let other = app.team("Vendas").await;
    let q = app.queue("Site", t, 5, 30).await;
    let ana_id = app.user("ana@x.com", Role::Agent, &[t]).await;
    app.user("bia@x.com", Role::Agent, &[t]).await;
    app.user("caio@x.com", Role::Agent, &[other]).await;
    let (_, first, _) = call(&app, "POST", &format!("/api/widget/{q}/messages"), r#"{"text":"Oi"}"#, None).await;
    let token = first["token"].as_str().unwrap().to_string();
    let cid = first["conversation_id"].as_i64().unwrap();
    let messages = app.count("messages").await;

    // The visitor types: an event for the agents of the queue.
    let (mut rx, _) = app.state.bus.subscribe(None);
    let (s, _, _) = call(&app, "POST", &format!("/api/widget/{q}/typing?token={token}"), "", None).await;
    assert_eq!(s, 204);
    let e = rx.try_recv().expect("a typing event");
    assert_eq!((e.kind, e.queue_id, e.conversation_id), ("visitor_typing", Some(q), Some(cid)));
    // A visitor with no open conversation, or a bad token, sends nothing.
    let stranger = "a".repeat(43);
    let (s, _, _) = call(&app, "POST", &format!("/api/widget/{q}/typing?token={stranger}"), "", None).await;
    assert_eq!(s, 404);
    let (s, _, _) = call(&app, "POST", &format!("/api/widget/{q}/typing?token=x"), "", None).await;
    assert_eq!(s, 400);
    assert!(rx.try_recv().is_err());

    // The agent types: authorized like a reply.
    let path = format!("/atendimentos/{cid}/digitando");
    let mut bia = app.login("bia@x.com").await;
    assert_eq!(bia.post(&path, &[]).await.status, 409, "same team, not hers");
    let mut caio = app.login("caio@x.com").await;
    assert_eq!(caio.post(&path, &[]).await.status, 404, "another team's conversation does not exist for him");
    let ana = get_user(&app, ana_id).await;
    atende::domain::conversations::claim(&app.state, &ana, cid).await.unwrap();
    let mut ana_c = app.login("ana@x.com").await;
    assert_eq!(ana_c.post_raw(&path, "", &[]).await.status, 403, "no CSRF token");
    while rx.try_recv().is_ok() {}
    assert_eq!(ana_c.post(&path, &[]).await.status, 204);
    let e = rx.try_recv().expect("an agent typing event");
    assert_eq!((e.kind, e.conversation_id, e.agent_id), ("agent_typing", Some(cid), Some(ana_id)));
    assert_eq!(caio.post("/atendimentos/999999/digitando", &[]).await.status, 404);
    assert_eq!(app.count("messages").await, messages + 1, "only the claim's system line: typing is never stored");
}

#[tokio::test]
async fn a_limited_visitor_is_told_when_to_retry() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let p = format!("/api/widget/{q}/messages");
    let (_, first, _) = call(&app, "POST", &p, r#"{"text":"1"}"#, None).await;
    let token = first["token"].as_str().unwrap().to_string();
    let mut limited = None;
    for i in 2..=30 {
        let (s, _, h) =
            call(&app, "POST", &p, &format!(r#"{{"token":"{token}","text":"{i}"}}"#), Some("https://a.com")).await;
        if s == 429 {
            limited = Some(h);
            break;
        }
    }
    let h = limited.expect("a flood is limited");
    assert_eq!(h["retry-after"], "2");
    assert_eq!(h["access-control-expose-headers"], "retry-after", "the widget on another site can read it");
    // Typing has its own bucket: a limited sender may still type.
    let (s, _, _) = call(&app, "POST", &format!("/api/widget/{q}/typing?token={token}"), "", None).await;
    assert_eq!(s, 204);
    // After Retry-After the message goes through.
    app.state.clock.advance(2);
    let (s, _, _) = call(&app, "POST", &p, &format!(r#"{{"token":"{token}","text":"de novo"}}"#), None).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn a_message_left_out_of_hours_becomes_a_queued_conversation() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let (_, cfg, _) = call(&app, "GET", &format!("/api/widget/{q}/config"), "", None).await;
    assert_eq!(cfg["online"], false, "nobody connected");
    assert!(cfg["texts"]["widget.offline_form"].as_str().unwrap().contains("Deixe seu nome, um contato"));
    let body = r#"{"name":"Rita","phone":"(11) 98765-4321","text":"Quero um orçamento"}"#;
    let (s, v, _) = call(&app, "POST", &format!("/api/widget/{q}/messages"), body, None).await;
    assert_eq!(s, 200, "{v}");
    let cid = v["conversation_id"].as_i64().unwrap();
    let (status, name, phone): (String, String, String) = app
        .state
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT c.status, k.name, k.phone FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = ?1",
                [cid],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(status, "queued");
    assert_eq!(name, "Rita");
    assert_eq!(phone, "+5511987654321");
}
