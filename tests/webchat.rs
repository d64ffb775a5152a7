//! The web chat widget's public API: script, config, messages, identity,
//! CORS, limits and bad input.

mod common;

use atende::domain::users::Role;
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

#[tokio::test]
async fn visitor_writes_and_reads_replies_in_one_conversation() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let r = warp::test::request().path("/widget.js").reply(&app.routes).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/javascript"));
    assert!(String::from_utf8_lossy(r.body()).contains("/api/widget/"));
    let (s, cfg, _) = call(&app, "GET", &format!("/api/widget/{q}/config"), "", None).await;
    assert_eq!(s, 200);
    assert_eq!(cfg["queue"], "Site");
    assert_eq!(cfg["online"], false, "no agent connected");
    assert!(cfg["offline_text"].as_str().unwrap().contains("não há atendentes disponíveis"));
    assert_eq!(cfg["ask"]["name"], false);
    // First message: a token comes back; the message enters the queue anyway.
    let (s, first, _) =
        call(&app, "POST", &format!("/api/widget/{q}/messages"), r#"{"name":"Maria","text":"Olá, tudo bem?"}"#, None)
            .await;
    assert_eq!(s, 200, "{first}");
    let token = first["token"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 43);
    let body = format!(r#"{{"token":"{token}","text":"Preciso de ajuda"}}"#);
    let (_, second, _) = call(&app, "POST", &format!("/api/widget/{q}/messages"), &body, None).await;
    assert_eq!(second["conversation_id"], first["conversation_id"], "same browser, same conversation");
    // An agent replies; the visitor reads it (no internal events).
    let ana = app.user("ana@x.com", Role::Agent, &[t]).await;
    let ana = app.state.db.read(move |c| atende::domain::users::get(c, ana)).await.unwrap().unwrap();
    let cid = first["conversation_id"].as_i64().unwrap();
    atende::domain::conversations::claim(&app.state, &ana, cid).await.unwrap();
    atende::domain::conversations::send(&app.state, &ana, cid, "Olá Maria!").await.unwrap();
    let (s, list, _) = call(&app, "GET", &format!("/api/widget/{q}/messages?token={token}&after=0"), "", None).await;
    assert_eq!(s, 200);
    let msgs = list["messages"].as_array().unwrap();
    let texts: Vec<&str> = msgs.iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Olá, tudo bem?", "Preciso de ajuda", "Olá Maria!"]);
    assert_eq!(msgs[2]["from"], "agent");
    assert_eq!(msgs[2]["name"], "Nome ana@x.com");
    assert_eq!(list["status"], "assigned");
    // Another browser is another visitor.
    let (_, other, _) = call(&app, "POST", &format!("/api/widget/{q}/messages"), r#"{"text":"oi"}"#, None).await;
    assert_ne!(other["conversation_id"], first["conversation_id"]);
    assert_eq!(app.count("conversations").await, 2);
}

#[tokio::test]
async fn bad_visitor_input_gets_a_message_and_changes_nothing() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let p = format!("/api/widget/{q}/messages");
    let long_name = format!(r#"{{"name":"{}","text":"oi"}}"#, "n".repeat(101));
    let cases: Vec<(String, u16, &str)> = vec![
        ("not json".into(), 400, "Não foi possível ler"),
        (r#"{"text":""}"#.into(), 400, "Escreva uma mensagem"),
        (r#"{"text":"   "}"#.into(), 400, "Escreva uma mensagem"),
        (format!(r#"{{"text":"{}"}}"#, "x".repeat(4001)), 400, "Mensagem longa demais"),
        (r#"{"token":"curto","text":"oi"}"#.into(), 400, "Não foi possível ler"),
        (r#"{"text":"oi","admin":true}"#.into(), 400, "Não foi possível ler"),
        (long_name, 400, "Não foi possível ler"),
    ];
    for (body, status, msg) in cases {
        let (s, v, _) = call(&app, "POST", &p, &body, None).await;
        assert_eq!(s, status, "{body}");
        assert!(v["error"].as_str().unwrap_or("").contains(msg), "{body}: {v}");
    }
    let (s, _, _) = call(&app, "POST", &p, &format!(r#"{{"text":"{}"}}"#, "x".repeat(20_000)), None).await;
    assert_eq!(s, 413);
    let (s, v, _) = call(&app, "POST", "/api/widget/999/messages", r#"{"text":"oi"}"#, None).await;
    assert_eq!(s, 404, "{v}");
    let (s, _, _) = call(&app, "GET", &format!("/api/widget/{q}/messages?token=x"), "", None).await;
    assert_eq!(s, 400);
    assert_eq!(app.count("conversations").await, 0);
    assert_eq!(app.count("messages").await, 0);
}

#[tokio::test]
async fn cors_is_limited_to_the_queues_sites() {
    let app = TestApp::new().await;
    let mut admin = app.admin().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    // Any site while the list is empty.
    let (s, _, h) = call(&app, "GET", &format!("/api/widget/{q}/config"), "", Some("https://qualquer.com")).await;
    assert_eq!(s, 200);
    assert_eq!(h["access-control-allow-origin"], "https://qualquer.com");
    // The admin restricts it; bad lines are refused with a message.
    let base = [
        ("name", "Site"),
        ("channel", "webchat"),
        ("team_id", "1"),
        ("offer_timeout_secs", "30"),
        ("agent_capacity", "5"),
    ];
    let mut bad = base.to_vec();
    bad.push(("allowed_origins", "www.loja.com.br/pagina"));
    let r = admin.post(&format!("/admin/filas/{q}"), &bad).await;
    assert_eq!(r.status, 422);
    r.has(&["Cada linha deve ser um endereço"]);
    let mut good = base.to_vec();
    good.push(("allowed_origins", "https://www.loja.com.br\nhttp://localhost:3000/"));
    assert_eq!(admin.post(&format!("/admin/filas/{q}"), &good).await.status, 303);
    admin.get(&format!("/admin/filas/{q}")).await.has(&["widget.js", &format!("data-queue=&quot;{q}&quot;")]);
    let (s, v, h) =
        call(&app, "POST", &format!("/api/widget/{q}/messages"), r#"{"text":"oi"}"#, Some("https://evil.example"))
            .await;
    assert_eq!(s, 403);
    assert!(v["error"].as_str().unwrap().contains("não está autorizado"));
    assert!(!h.contains_key("access-control-allow-origin"));
    for o in ["https://www.loja.com.br", "http://localhost:3000"] {
        let (s, _, h) = call(&app, "GET", &format!("/api/widget/{q}/config"), "", Some(o)).await;
        assert_eq!(s, 200, "{o}");
        assert_eq!(h["access-control-allow-origin"], o);
    }
    let r = warp::test::request()
        .method("OPTIONS")
        .path(&format!("/api/widget/{q}/messages"))
        .header("origin", "https://www.loja.com.br")
        .reply(&app.routes)
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["access-control-allow-methods"], "GET, POST");
    assert_eq!(app.count("conversations").await, 0);
}

#[tokio::test]
async fn visitors_are_rate_limited_one_by_one() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let p = format!("/api/widget/{q}/messages");
    let (_, first, _) = call(&app, "POST", &p, r#"{"text":"1"}"#, None).await;
    let token = first["token"].as_str().unwrap().to_string();
    let mut limited = None;
    for i in 2..=30 {
        let (s, v, _) = call(&app, "POST", &p, &format!(r#"{{"token":"{token}","text":"{i}"}}"#), None).await;
        if s == 429 {
            limited = Some((i, v));
            break;
        }
    }
    let (n, v) = limited.expect("a flood is limited");
    assert!(n <= 10, "limited after {n}");
    assert!(v["error"].as_str().unwrap().contains("rápido demais"));
    // Another visitor (same IP) is not affected, and nothing was lost that was acknowledged.
    let (s, _, _) = call(&app, "POST", &p, r#"{"text":"outro visitante"}"#, None).await;
    assert_eq!(s, 200);
    assert_eq!(app.count("messages").await, (n - 1) as i64 + 1 + 2, "acknowledged messages + 2 'created' events");
}
