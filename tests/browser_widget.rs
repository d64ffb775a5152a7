//! The web chat widget in a real headless Chromium (issue 11, section 2): the
//! pre-chat gate hides the message box, the offline form leaves a queued
//! conversation, banners follow the present, the agent's name and initials,
//! "digitando…" both ways, the unread badge; eight tabs and seven page
//! visits of one shop all get a working widget over one shared stream; a
//! refused site says so; 429 is retried by itself and the text is never lost.

mod common;

use std::time::{Duration, Instant};

use atende::domain::conversations as conv;
use atende::domain::users::{self, Role, User};
use common::TestApp;
use common::browser::{
    Browser, W, WAIT, serve_site, start_browser, start_driver, widget_ready, widget_send, widget_wait,
};
use serde_json::{Value, json};

async fn js(b: &Browser, body: &str) -> Value {
    b.c.execute(&format!("{W} {body}"), vec![]).await.unwrap_or_else(|e| panic!("script {body}: {e}"))
}

/// Polls `body` (a script returning a string) until it contains `needle`.
async fn wait_js(b: &Browser, body: &str, needle: &str) -> String {
    let start = Instant::now();
    loop {
        let v = js(b, body).await;
        let s = v.as_str().unwrap_or_default().to_string();
        if s.contains(needle) {
            return s;
        }
        assert!(start.elapsed() < WAIT, "{body} never showed {needle:?}; last: {s:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether the widget element at `css` is displayed (laid out, not display:none).
async fn shown(b: &Browser, css: &str) -> bool {
    let v = js(b, &format!("const e = s.querySelector('{css}'); return !!e && e.getClientRects().length > 0;")).await;
    v == json!(true)
}

async fn wait_shown(b: &Browser, css: &str, want: bool) {
    let start = Instant::now();
    while shown(b, css).await != want {
        assert!(start.elapsed() < WAIT, "{css} displayed should be {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const NOTICE: &str = "const n = s.querySelector('.notice'); return n.hidden ? '' : n.textContent;";

async fn notice(b: &Browser) -> String {
    js(b, NOTICE).await.as_str().unwrap_or_default().to_string()
}

async fn wait_count(app: &TestApp, sql: &'static str, want: i64) {
    let start = Instant::now();
    loop {
        let n: i64 = app.state.db.read(move |c| Ok(c.query_row(sql, [], |r| r.get(0))?)).await.unwrap();
        if n == want {
            return;
        }
        assert!(start.elapsed() < WAIT, "{sql}: {n}, expected {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn get_user(app: &TestApp, id: i64) -> User {
    app.state.db.read(move |c| users::get(c, id)).await.unwrap().unwrap()
}

/// Business hours: open all day, every day (so "online" depends on agents only).
async fn always_open(app: &TestApp) {
    app.state
        .db
        .write(|c| Ok(c.execute("UPDATE business_hours SET open = 1, opens = '00:00', closes = '23:59'", [])?))
        .await
        .unwrap();
    app.state.reload_settings().await.unwrap();
}

async fn latest_conversation(app: &TestApp) -> i64 {
    app.state.db.read(|c| Ok(c.query_row("SELECT max(id) FROM conversations", [], |r| r.get(0))?)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gate_offline_form_banners_agent_name_typing_and_unread_badge() {
    let app = TestApp::new().await;
    let addr = app.serve().await;
    let app_url = format!("http://127.0.0.1:{}", addr.port());
    always_open(&app).await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    app.state.db.write(move |c| Ok(c.execute("UPDATE queues SET ask_name = 1, widget_greeting = 'Respondemos rápido', widget_color = '#0f766e' WHERE id = ?1", [q])?)).await.unwrap();
    let ana_id = app.user("ana@x.com", Role::Agent, &[t]).await;
    let ana = get_user(&app, ana_id).await;
    let site = serve_site(&app_url, q).await;

    let driver = start_driver();
    let profile = tempfile::tempdir().unwrap();
    let v = Browser {
        c: start_browser(&driver, profile.path(), (1280, 900)).await,
        base: format!("http://127.0.0.1:{site}"),
    };

    // 1. Nobody available: the widget offers to leave name, contact and message.
    v.goto("/").await;
    widget_ready(&v).await;
    assert_eq!(js(&v, "return s.querySelector('.title').textContent;").await, json!("Minha empresa"));
    assert_eq!(js(&v, "return s.querySelector('.greet').textContent;").await, json!("Respondemos rápido"));
    let colour = js(&v, "return getComputedStyle(s.querySelector('.bubble')).backgroundColor;").await;
    assert_eq!(colour, json!("rgb(15, 118, 110)"), "the queue's colour");
    js(&v, "s.querySelector('.bubble').click(); return true;").await;
    wait_shown(&v, "form.off", true).await;
    assert!(!shown(&v, "form.chat").await, "no message box beside the offline form");
    assert!(!shown(&v, "form.pre").await);
    assert!(notice(&v).await.contains("não há atendentes disponíveis"));
    js(&v, "const f = s.querySelector('form.off'); f.querySelector('[name=name]').value = 'Maria Souza';
            f.querySelector('[name=contact]').value = 'maria@loja.com'; f.querySelector('[name=text]').value = 'Quero um orçamento';
            f.requestSubmit(); return true;").await;
    widget_wait(&v, "Quero um orçamento").await;
    wait_count(&app, "SELECT count(*) FROM conversations WHERE status = 'queued'", 1).await;
    wait_count(&app, "SELECT count(*) FROM contacts WHERE name = 'Maria Souza' AND email = 'maria@loja.com'", 1).await;
    wait_js(&v, NOTICE, "Recebemos sua mensagem").await;
    wait_shown(&v, "form.chat", true).await;
    let cid = latest_conversation(&app).await;

    // 2. An agent takes it: the out-of-hours notice goes away.
    conv::claim(&app.state, &ana, cid).await.unwrap();
    let start = Instant::now();
    while !notice(&v).await.is_empty() {
        assert!(start.elapsed() < WAIT, "the offline notice stayed after an agent took the conversation");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // 3. The agent's name and initials on their message; "digitando…" both ways.
    let mut agent = app.login("ana@x.com").await;
    assert_eq!(agent.post(&format!("/atendimentos/{cid}/digitando"), &[]).await.status, 204);
    wait_js(&v, "const e = s.querySelector('.typing'); return e.hidden ? '' : e.textContent;", "digitando…").await;
    conv::send(&app.state, &ana, cid, "Olá Maria, aqui é a Ana").await.unwrap();
    widget_wait(&v, "aqui é a Ana").await;
    assert_eq!(js(&v, "return s.querySelector('.m.agent .av').textContent;").await, json!("NA"));
    assert_eq!(js(&v, "return s.querySelector('.m.agent b').textContent;").await, json!("Nome ana@x.com"));
    assert_eq!(
        js(&v, "return s.querySelector('.typing').hidden;").await,
        json!(true),
        "the message replaces the typing line"
    );
    let (mut rx, _) = app.state.bus.subscribe(None);
    // Many keystrokes at once: one event (debounced), nothing stored.
    let messages = app.count("messages").await;
    js(&v, "const a = s.querySelector('textarea'); for (let i = 0; i < 5; i++) { a.value += 'x'; a.dispatchEvent(new Event('input')); } return true;").await;
    let start = Instant::now();
    let typed = loop {
        match rx.try_recv() {
            Ok(e) if e.kind == "visitor_typing" => break e,
            Ok(_) => {}
            Err(_) => {
                assert!(start.elapsed() < WAIT, "no visitor_typing event");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    assert_eq!(typed.conversation_id, Some(cid));
    assert_eq!(typed.agent_id, Some(ana_id));
    conv::send(&app.state, &ana, cid, "marcador").await.unwrap();
    let mut more = 0;
    loop {
        let e = rx.recv().await.unwrap();
        if e.kind == "visitor_typing" {
            more += 1;
        }
        if e.kind == "message" {
            break;
        }
    }
    assert_eq!(more, 0, "five keystrokes sent one typing event");
    assert_eq!(app.count("messages").await, messages + 1, "typing is never stored");
    js(&v, "s.querySelector('textarea').value = ''; return true;").await;

    // 4. The unread badge on the closed launcher.
    widget_wait(&v, "marcador").await;
    js(&v, "s.querySelector('.bubble').click(); return true;").await;
    wait_shown(&v, ".panel", false).await;
    conv::send(&app.state, &ana, cid, "Mais uma coisa").await.unwrap();
    conv::send(&app.state, &ana, cid, "E outra").await.unwrap();
    wait_js(&v, "const b = s.querySelector('.badge'); return b.hidden ? '' : b.textContent;", "2").await;
    // A new page of the shop still knows what was not read.
    v.goto("/outra-pagina").await;
    widget_ready(&v).await;
    wait_js(&v, "const b = s.querySelector('.badge'); return b.hidden ? '' : b.textContent;", "2").await;
    js(&v, "s.querySelector('.bubble').click(); return true;").await;
    wait_shown(&v, ".badge", false).await;
    widget_wait(&v, "E outra").await;

    // 5. The end notice goes away when the customer writes again.
    conv::close(&app.state, &ana, cid, false, None).await.unwrap();
    wait_js(&v, NOTICE, "foi encerrado").await;
    widget_send(&v, "Voltei com outra dúvida").await;
    widget_wait(&v, "Voltei com outra dúvida").await;
    let start = Instant::now();
    while notice(&v).await.contains("encerrado") {
        assert!(start.elapsed() < WAIT, "the end notice stayed after the customer wrote again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_count(&app, "SELECT count(*) FROM conversations WHERE status = 'queued'", 1).await;

    // 6. Online now, on another shop (another visitor): the pre-chat form
    //    gates the conversation; the message box is not shown until it is filled.
    conv::set_ready(&app.state, &ana, true).await.unwrap();
    conv::set_connected(&app.state, &ana, q, true).await.unwrap();
    let site2 = serve_site(&app_url, q).await;
    let v2 = Browser { c: v.c.clone(), base: format!("http://127.0.0.1:{site2}") };
    v2.goto("/").await;
    widget_ready(&v2).await;
    js(&v2, "s.querySelector('.bubble').click(); return true;").await;
    wait_shown(&v2, "form.pre", true).await;
    assert!(!shown(&v2, "form.chat").await, "the message box is hidden behind the pre-chat form");
    assert!(!shown(&v2, "form.off").await);
    assert!(notice(&v2).await.is_empty(), "online: no offline notice");
    // An empty required field does not pass (the browser's own check).
    js(&v2, "s.querySelector('form.pre').requestSubmit(); return true;").await;
    assert!(shown(&v2, "form.pre").await && !shown(&v2, "form.chat").await);
    js(&v2, "const f = s.querySelector('form.pre'); f.querySelector('[name=name]').value = 'João Lima'; f.requestSubmit(); return true;").await;
    wait_shown(&v2, "form.chat", true).await;
    assert!(!shown(&v2, "form.pre").await);
    widget_send(&v2, "Oi, sou o João").await;
    widget_wait(&v2, "Oi, sou o João").await;
    wait_count(&app, "SELECT count(*) FROM contacts WHERE name = 'João Lima'", 1).await;

    v.c.clone().close().await.unwrap();
    drop(driver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_tabs_and_seven_pages_of_one_shop_share_one_stream() {
    let app = TestApp::new().await;
    let addr = app.serve().await;
    let app_url = format!("http://127.0.0.1:{}", addr.port());
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let ana_id = app.user("ana@x.com", Role::Agent, &[t]).await;
    let ana = get_user(&app, ana_id).await;
    let site = serve_site(&app_url, q).await;
    let baseline = app.state.bus.subscribers();

    let driver = start_driver();
    let profile = tempfile::tempdir().unwrap();
    let v = Browser {
        c: start_browser(&driver, profile.path(), (1280, 900)).await,
        base: format!("http://127.0.0.1:{site}"),
    };
    let started = Instant::now();
    v.goto("/").await;
    widget_ready(&v).await;
    widget_send(&v, "Oi, tudo bem?").await;
    widget_wait(&v, "Oi, tudo bem?").await;
    let cid = latest_conversation(&app).await;
    conv::claim(&app.state, &ana, cid).await.unwrap();

    // Seven more tabs of the shop, each with the widget working.
    let mut tabs = vec![v.c.window().await.unwrap()];
    for i in 1..8 {
        let w = v.c.new_window(true).await.unwrap();
        v.c.switch_to_window(w.handle.clone()).await.unwrap();
        v.goto(&format!("/produto/{i}")).await;
        widget_ready(&v).await;
        widget_wait(&v, "Oi, tudo bem?").await;
        tabs.push(w.handle);
    }
    println!("8 tabs with a loaded widget in {:?}", started.elapsed());
    // One visitor stream for all of them (each tab on its own would hold 8).
    let start = Instant::now();
    while app.state.bus.subscribers() != baseline + 1 {
        assert!(start.elapsed() < WAIT, "visitor streams: {} (want 1)", app.state.bus.subscribers() - baseline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A reply reaches every tab live, through the leader.
    conv::send(&app.state, &ana, cid, "Resposta para todas as abas").await.unwrap();
    for h in &tabs {
        v.c.switch_to_window(h.clone()).await.unwrap();
        widget_wait(&v, "Resposta para todas as abas").await;
    }
    // The leader tab (the first) goes away: another tab takes the stream.
    v.c.switch_to_window(tabs[0].clone()).await.unwrap();
    v.c.close_window().await.unwrap();
    tabs.remove(0);
    conv::send(&app.state, &ana, cid, "Depois de fechar a primeira aba").await.unwrap();
    for h in &tabs {
        v.c.switch_to_window(h.clone()).await.unwrap();
        widget_wait(&v, "Depois de fechar a primeira aba").await;
    }
    // One tab browses seven pages (back/forward cache or not): every page's
    // widget loads and gets live messages, the seventh as fast as the first.
    let last = tabs.last().unwrap().clone();
    v.c.switch_to_window(last).await.unwrap();
    for i in 1..=7 {
        let t0 = Instant::now();
        v.goto(&format!("/pagina/{i}")).await;
        widget_ready(&v).await;
        let text = format!("Mensagem na página {i}");
        conv::send(&app.state, &ana, cid, &text).await.unwrap();
        widget_wait(&v, &text).await;
        println!("page {i}: widget loaded and live in {:?}", t0.elapsed());
    }
    // Back to a page from history: its stream reopens.
    v.c.back().await.unwrap();
    widget_ready(&v).await;
    conv::send(&app.state, &ana, cid, "Depois de voltar").await.unwrap();
    widget_wait(&v, "Depois de voltar").await;
    // The visitor writes from a tab and the agent sees it.
    widget_send(&v, "Tudo certo").await;
    wait_count(&app, "SELECT count(*) FROM messages WHERE kind = 'in' AND body = 'Tudo certo'", 1).await;

    v.c.clone().close().await.unwrap();
    drop(driver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_site_says_so_and_a_limited_message_is_retried_never_lost() {
    let app = TestApp::new().await;
    let addr = app.serve().await;
    let app_url = format!("http://127.0.0.1:{}", addr.port());
    app.admin().await;
    let t = app.team("Suporte").await;
    let refused = app.queue("Loja", t, 5, 30).await;
    app.state
        .db
        .write(move |c| {
            Ok(c.execute("UPDATE queues SET allowed_origins = 'https://www.loja.com.br' WHERE id = ?1", [refused])?)
        })
        .await
        .unwrap();
    let open = app.queue("Aberta", t, 5, 30).await;
    let site = serve_site(&app_url, refused).await;
    let site_origin = format!("http://127.0.0.1:{site}");

    let driver = start_driver();
    let profile = tempfile::tempdir().unwrap();
    let b = Browser { c: start_browser(&driver, profile.path(), (1280, 900)).await, base: site_origin.clone() };

    // 1. The refused site: a clear message in the widget, never an empty panel.
    b.goto("/").await;
    wait_js(&b, "return s ? s.querySelector('.err').textContent : '';", "não está autorizado").await;
    js(&b, "s.querySelector('.bubble').click(); return true;").await;
    wait_shown(&b, ".err", true).await;
    let err = js(&b, "return s.querySelector('.err').textContent;").await;
    assert!(err.as_str().unwrap().contains(&site_origin), "the message names the refused address: {err}");

    // 2. The admin finds it on the queue's page, and copies the snippet.
    let admin = Browser { c: b.c.clone(), base: app_url.clone() };
    admin.goto("/entrar").await;
    admin.login("admin@empresa.com", common::PW, "Ana Admin").await;
    admin.goto(&format!("/admin/filas/{refused}")).await;
    admin.wait_text("#widget-refused", &site_origin).await;
    admin.click("button[data-copy]").await;
    admin.wait_text("#widget-snippet .copy-status", "Copiado.").await;

    // 3. A visitor who writes too fast: 429 with Retry-After; the widget keeps
    //    the texts, shows it is retrying, survives a reload and sends them all.
    let site2 = serve_site(&app_url, open).await;
    let v = Browser { c: b.c.clone(), base: format!("http://127.0.0.1:{site2}") };
    v.goto("/").await;
    widget_ready(&v).await;
    js(&v, "s.querySelector('.bubble').click(); return true;").await;
    for i in 1..=12 {
        widget_send(&v, &format!("mensagem {i:02}")).await;
    }
    wait_js(&v, "return s.querySelector('.outbox').textContent;", "tentando de novo em").await;
    let sent: i64 = app.count("messages").await;
    assert!(sent < 12 + 1, "the limiter let everything through ({sent} rows)");
    let pending = js(&v, "return s.querySelector('.outbox').textContent;").await;
    assert!(pending.as_str().unwrap().contains("mensagem 12"), "unsent texts are kept: {pending}");
    // A reload keeps them (the tab's session storage).
    v.goto("/").await;
    widget_ready(&v).await;
    js(&v, "s.querySelector('.bubble').click(); return true;").await;
    wait_js(&v, "return s.querySelector('.outbox').textContent;", "mensagem 12").await;
    // Time passes on the server: the widget's own retry goes through.
    app.state.clock.advance(60);
    for i in 1..=12 {
        widget_wait(&v, &format!("mensagem {i:02}")).await;
    }
    wait_count(&app, "SELECT count(*) FROM messages WHERE kind = 'in'", 12).await;
    wait_js(&v, "return String(s.querySelector('.outbox').childElementCount);", "0").await;
    let order: Vec<String> = app
        .state
        .db
        .read(|c| {
            let mut st = c.prepare("SELECT body FROM messages WHERE kind = 'in' ORDER BY id")?;
            let v = st.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
            Ok(v)
        })
        .await
        .unwrap();
    let want: Vec<String> = (1..=12).map(|i| format!("mensagem {i:02}")).collect();
    assert_eq!(order, want, "every text once, in order");

    b.c.clone().close().await.unwrap();
    drop(driver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_sees_the_customer_typing_and_their_replies_signal_typing_back() {
    use atende::domain::auth::token_hash;
    use atende::domain::webchat;
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let ana_id = app.user("ana@x.com", Role::Agent, &[t]).await;
    let ana = get_user(&app, ana_id).await;
    let say = |who: &'static str, text: &'static str| {
        let m = conv::VisitorMessage { name: who.into(), text: text.into(), ..Default::default() };
        conv::visitor_message(&app.state, q, token_hash(who), m)
    };
    let c1 = say("Maria", "Minha fatura veio errada").await.unwrap().0;
    let c2 = say("João", "Quero trocar o produto").await.unwrap().0;
    conv::claim(&app.state, &ana, c1).await.unwrap();
    conv::claim(&app.state, &ana, c2).await.unwrap();
    let addr = app.serve().await;

    let driver = start_driver();
    let profile = tempfile::tempdir().unwrap();
    let b = Browser { c: start_browser(&driver, profile.path(), (1280, 900)).await, base: format!("http://{addr}") };
    b.goto("/entrar").await;
    b.login("ana@x.com", common::PW, "Nome ana@x.com").await;
    b.goto(&format!("/atendimentos/{c1}")).await;
    b.wait_text("#messages", "Minha fatura veio errada").await;
    assert!(!shown_doc(&b, "#typing").await, "nobody is typing yet");
    // The stream is up (the live status hides) before the visitor types.
    wait_until(&b, "const s = document.getElementById('live-status'); return !s || s.hidden;").await;

    // Another customer typing does not show in Maria's conversation.
    let mut tries = 0;
    loop {
        assert!(webchat::visitor_typing(&app.state, q, token_hash("João")).await.unwrap());
        assert!(webchat::visitor_typing(&app.state, q, token_hash("Maria")).await.unwrap());
        tries += 1;
        if shown_doc(&b, "#typing").await || tries > 50 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.wait_text("#typing", "O cliente está digitando…").await;
    // Her message replaces the line.
    say("Maria", "É a fatura de novembro").await.unwrap();
    b.wait_text("#messages", "É a fatura de novembro").await;
    wait_until(&b, "return document.getElementById('typing').hidden;").await;

    // Switch to João without a reload: Maria typing is not shown there.
    b.click_text(&format!("#ws-lists a.conv-link[data-conv='{c2}']"), "João").await;
    b.wait_text("#messages", "Quero trocar o produto").await;
    assert!(webchat::visitor_typing(&app.state, q, token_hash("Maria")).await.unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!shown_doc(&b, "#typing").await, "Maria's typing shown in João's conversation");

    // A note signals nothing; then a reply being typed sends one typing
    // event for the visitor's stream however many keys.
    let (mut rx, _) = app.state.bus.subscribe(None);
    b.c.execute(
        "document.querySelector('#composer input[value=note]').click(); const a = document.querySelector('#composer textarea');
         for (let i = 0; i < 6; i++) { a.value += 'n'; a.dispatchEvent(new Event('input')); } return true;",
        vec![],
    )
    .await
    .unwrap();
    // A marker event after the note's keystrokes: nothing typed in between.
    conv::send(&app.state, &ana, c2, "marcador").await.unwrap();
    loop {
        let e = rx.recv().await.unwrap();
        assert_ne!(e.kind, webchat::AGENT_TYPING, "a note signalled typing");
        if e.kind == "message" {
            break;
        }
    }
    b.c.execute(
        "document.querySelector('#composer input[value=reply]').click(); const a = document.querySelector('#composer textarea');
         a.value = ''; for (let i = 0; i < 6; i++) { a.value += 'o'; a.dispatchEvent(new Event('input')); } return true;",
        vec![],
    )
    .await
    .unwrap();
    let start = Instant::now();
    let typed = loop {
        match rx.try_recv() {
            Ok(e) if e.kind == webchat::AGENT_TYPING => break e,
            Ok(_) => {}
            Err(_) => {
                assert!(start.elapsed() < WAIT, "no agent_typing event");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    assert_eq!((typed.conversation_id, typed.agent_id), (Some(c2), Some(ana_id)));
    conv::send(&app.state, &ana, c2, "marcador 2").await.unwrap();
    let mut more = 0;
    loop {
        let e = rx.recv().await.unwrap();
        more += (e.kind == webchat::AGENT_TYPING) as i32;
        if e.kind == "message" {
            break;
        }
    }
    assert_eq!(more, 0, "six keys sent one typing event");
    b.c.clone().close().await.unwrap();
    drop(driver);
}

async fn shown_doc(b: &Browser, css: &str) -> bool {
    let script = format!("const e = document.querySelector(\"{css}\"); return !!e && !e.hidden;");
    b.c.execute(&script, vec![]).await.unwrap().as_bool() == Some(true)
}

async fn wait_until(b: &Browser, script: &str) {
    let start = Instant::now();
    while b.c.execute(script, vec![]).await.unwrap().as_bool() != Some(true) {
        assert!(start.elapsed() < WAIT, "not true in time: {script}; {}", b.whereabouts().await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
