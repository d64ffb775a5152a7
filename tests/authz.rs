//! Authorization crawl with two teams (issue 11 §6): every object kind of one
//! team (conversation, contact, task, annotation, attachment, quick reply,
//! PDF, search results, live stream) through every page and action, seen by
//! the other team: 404, and its title or text never appears. Then the three
//! findings: a shared contact's page shows only what the viewer may open, an
//! outbound conversation to a hidden contact's phone hands over nothing more,
//! and a live stream ends within seconds of its session.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use atende::domain::conversations::{self as conv, VisitorMessage};
use atende::domain::users::{Role, User};
use common::{Client, TestApp};

/// Every secret the Vendas team writes; none may reach Suporte.
const SECRETS: &[&str] =
    &["SEGREDO-MSG", "SEGREDO-NOTA", "SEGREDO-TAREFA", "SEGREDO-ANOTACAO", "segredo-anexo.txt", "SEGREDO-RESPOSTA"];

fn token(who: &str) -> String {
    format!("{who:a<43}")
}

async fn user(app: &TestApp, id: i64) -> User {
    app.state.db.read(move |c| atende::domain::users::get(c, id)).await.unwrap().unwrap()
}

async fn say(app: &TestApp, q: i64, who: &str, m: VisitorMessage) -> i64 {
    conv::visitor_message(&app.state, q, atende::domain::auth::token_hash(&token(who)), m).await.unwrap().0
}

/// The ids of what team Vendas made.
struct Vendas {
    conversation: i64,
    contact: i64,
    task: i64,
    attachment: i64,
    quick_reply: i64,
}

/// Two teams, a queue each, an agent each (Suporte's may open conversations).
/// Vendas's agent serves customer "Cliente Segredo" and writes one of every
/// object about them. Returns (Vendas's queue, Suporte's queue, the ids).
async fn two_teams(app: &TestApp) -> (i64, i64, Vendas) {
    let vendas = app.team("Vendas").await;
    let suporte = app.team("Suporte").await;
    let qv = app.queue("Site vendas", vendas, 5, 30).await;
    let qs = app.queue("Site suporte", suporte, 5, 30).await;
    let va = app.user("vendas@x.com", Role::Agent, &[vendas]).await;
    let sa = app.user("suporte@x.com", Role::Agent, &[suporte]).await;
    app.grant(sa, "open_conversations").await;
    let va = user(app, va).await;
    conv::set_connected(&app.state, &va, qv, true).await.unwrap();
    conv::set_ready(&app.state, &va, true).await.unwrap();
    let m = VisitorMessage {
        name: "Cliente Segredo".into(),
        phone: "+5511999990001".into(),
        text: "SEGREDO-MSG".into(),
        ..Default::default()
    };
    let c = say(app, qv, "cliente", m).await;
    conv::accept(&app.state, &va, c).await.unwrap();
    let mut v = app.login("vendas@x.com").await;
    assert_eq!(
        v.post(&format!("/atendimentos/{c}/mensagens"), &[("mode", "note"), ("text", "SEGREDO-NOTA")]).await.status,
        303
    );
    let contact = app.state.db.read(move |db| conv::load(db, c)).await.unwrap().unwrap().contact_id;
    let r = v
        .post(
            "/tarefas",
            &[
                ("kind", "call"),
                ("title", "SEGREDO-TAREFA"),
                ("quick", "1h"),
                ("assign", "me"),
                ("conversation_id", &c.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let task: i64 =
        app.state.db.read(|db| Ok(db.query_row("SELECT max(id) FROM tasks", [], |r| r.get(0))?)).await.unwrap();
    assert_eq!(v.post(&format!("/contatos/{contact}/anotacoes"), &[("body", "SEGREDO-ANOTACAO")]).await.status, 303);
    let up = format!("/atendimentos/{c}/anexos");
    let r = v.post_multipart(&up, &[("mode", "reply")], Some(("segredo-anexo.txt", b"conteudo")), true).await;
    assert!(r.status == 303 || r.status == 200, "{} {}", r.status, r.body);
    assert_eq!(v.post("/respostas", &[("shortcut", "segredo"), ("body", "SEGREDO-RESPOSTA")]).await.status, 303);
    let ids: (i64, i64) = app
        .state
        .db
        .read(|db| {
            Ok((
                db.query_row("SELECT id FROM attachments", [], |r| r.get(0))?,
                db.query_row("SELECT id FROM quick_replies", [], |r| r.get(0))?,
            ))
        })
        .await
        .unwrap();
    (qv, qs, Vendas { conversation: c, contact, task, attachment: ids.0, quick_reply: ids.1 })
}

fn assert_clean(r: &common::Resp, what: &str) {
    for s in SECRETS {
        assert!(!r.body.contains(s), "{what}: {s:?} leaked (status {}):\n{}", r.status, r.body);
    }
}

/// Asserts a history or timeline row of conversation `c` is nowhere on a page.
fn assert_no_row(r: &common::Resp, c: i64, what: &str) {
    for needle in [format!("#{c}<"), format!("#{c} ·"), format!("/atendimentos/{c}\"")] {
        assert!(!r.body.contains(&needle), "{what}: row of #{c} shows ({needle}):\n{}", r.body);
    }
}

/// (what, path, form fields) of an action tried on another team's object.
type Action<'a> = (&'a str, String, Vec<(&'a str, &'a str)>);

#[tokio::test]
async fn the_other_teams_objects_answer_404_and_leave_no_trace() {
    let app = TestApp::new().await;
    let (_, _, v) = two_teams(&app).await;
    let (c, k, t, a, qr) = (v.conversation, v.contact, v.task, v.attachment, v.quick_reply);
    let before = (app.count("messages").await, app.count("tasks").await, app.count("contact_events").await);
    let mut s = app.login("suporte@x.com").await;
    // Every page about one of their objects: 404, nothing of it in the body.
    let pages = [
        ("conversation", format!("/atendimentos/{c}")),
        ("conversation messages", format!("/atendimentos/{c}/mensagens?after=0")),
        ("pdf", format!("/atendimentos/{c}/pdf")),
        ("pdf with notes", format!("/atendimentos/{c}/pdf?notas=1")),
        ("search inside", format!("/atendimentos/{c}/pesquisar?q=SEGREDO")),
        ("contact", format!("/contatos/{k}")),
        ("contact edit", format!("/contatos/{k}/editar")),
        ("contact merge", format!("/contatos/{k}/mesclar")),
        ("task", format!("/tarefas/{t}")),
        ("task edit", format!("/tarefas/{t}/editar")),
        ("task from conversation", format!("/tarefas/nova?conversa={c}")),
        ("task from contact", format!("/tarefas/nova?contato={k}")),
        ("outbound from contact", format!("/atendimentos/novo?contato={k}")),
        ("attachment", format!("/anexos/{a}")),
    ];
    for (what, path) in &pages {
        let r = s.get(path).await;
        assert_eq!(r.status, 404, "{what}: {path}");
        assert_clean(&r, what);
    }
    // Every action on one of their objects: 404, and nothing changes.
    let (cs, ks, ts, qs) = (c.to_string(), k.to_string(), t.to_string(), qr.to_string());
    let actions: Vec<Action> = vec![
        ("reply", format!("/atendimentos/{c}/mensagens"), vec![("text", "oi")]),
        ("note", format!("/atendimentos/{c}/mensagens"), vec![("mode", "note"), ("text", "oi")]),
        ("claim", format!("/atendimentos/{c}/pegar"), vec![]),
        ("finish", format!("/atendimentos/{c}/finalizar"), vec![]),
        ("archive", format!("/atendimentos/{c}/arquivar"), vec![]),
        ("transfer", format!("/atendimentos/{c}/transferir"), vec![("team_id", "2")]),
        ("reopen at", format!("/atendimentos/{c}/reabrir-em"), vec![("quando", "2030-01-01T09:00")]),
        ("tag", format!("/atendimentos/{c}/etiquetas"), vec![("tag_id", "1")]),
        ("contact edit", format!("/contatos/{k}"), vec![("name", "Trocado")]),
        ("annotation", format!("/contatos/{k}/anotacoes"), vec![("body", "oi")]),
        ("merge", format!("/contatos/{k}/mesclar"), vec![("other", "99999")]),
        ("task edit", format!("/tarefas/{t}"), vec![("kind", "call"), ("title", "x"), ("quick", "1h")]),
        ("task take", format!("/tarefas/{t}/pegar"), vec![]),
        ("task finish", format!("/tarefas/{t}/finalizar"), vec![]),
        ("task archive", format!("/tarefas/{t}/arquivar"), vec![]),
        ("task postpone", format!("/tarefas/{t}/adiar"), vec![]),
        ("task delete", format!("/tarefas/{t}/excluir"), vec![]),
        ("task start", format!("/tarefas/{t}/iniciar"), vec![]),
        ("quick reply delete", format!("/respostas/{qr}/excluir"), vec![]),
        (
            "task on their conversation",
            "/tarefas".into(),
            vec![("kind", "call"), ("title", "x"), ("quick", "1h"), ("conversation_id", &cs)],
        ),
        (
            "task on their contact",
            "/tarefas".into(),
            vec![("kind", "call"), ("title", "x"), ("quick", "1h"), ("contact_id", &ks)],
        ),
        ("outbound to their contact", "/atendimentos/novo".into(), vec![("contato", &ks), ("queue_id", "2")]),
    ];
    for (what, path, fields) in &actions {
        let r = s.post(path, fields).await;
        assert_eq!(r.status, 404, "{what}: {path}");
        assert_clean(&r, what);
    }
    let r =
        s.post_multipart(&format!("/atendimentos/{c}/anexos"), &[("mode", "note")], Some(("x.txt", b"x")), true).await;
    assert_eq!(r.status, 404, "upload");
    let _ = (ts, qs);
    let after = (app.count("messages").await, app.count("tasks").await, app.count("contact_events").await);
    assert_eq!(before, after, "nothing changed");
    // Every list, search and bar: 200, nothing of theirs.
    for path in [
        "/atendimentos",
        "/atendimentos/listas",
        "/atendimentos/fila",
        "/atendimentos/minhas",
        "/pesquisar?q=SEGREDO",
        "/pesquisar?q=Cliente",
        "/pesquisar?q=999990001",
        "/contatos",
        "/contatos?q=Cliente",
        "/contatos?q=999990001",
        "/tarefas",
        "/tarefas?status=all",
        "/respostas",
        "/notificacoes",
        "/barra",
    ] {
        let r = s.get(path).await;
        assert!(r.status == 200, "{path}: {}", r.status);
        assert_clean(&r, path);
        assert!(!r.body.contains("Cliente Segredo"), "{path} names their contact:\n{}", r.body);
    }
}

#[tokio::test]
async fn a_shared_contact_shows_each_team_only_what_it_may_open() {
    let app = TestApp::new().await;
    let (_, qs, v) = two_teams(&app).await;
    // The same customer now writes to Suporte: the contact is shared.
    let cs =
        say(&app, qs, "cliente", VisitorMessage { text: "Agora com o suporte".into(), ..Default::default() }).await;
    assert_eq!(app.state.db.read(move |db| conv::load(db, cs)).await.unwrap().unwrap().contact_id, v.contact);
    let mut s = app.login("suporte@x.com").await;
    assert_eq!(s.post(&format!("/atendimentos/{cs}/pegar"), &[]).await.status, 303);
    let k = v.contact;
    // Contact page, the panel beside the conversation, its PDF: the contact
    // and Suporte's own conversation; no row, title or text of Vendas's.
    for path in [format!("/contatos/{k}"), format!("/atendimentos/{cs}")] {
        let r = s.get(&path).await;
        assert_eq!(r.status, 200, "{path}");
        r.has(&["Cliente Segredo", &format!("/atendimentos/{cs}")]);
        assert_clean(&r, &path);
        assert_no_row(&r, v.conversation, &path);
    }
    // Vendas's open task on the contact rings no bell on Suporte's conversation.
    s.get(&format!("/atendimentos/{cs}")).await.lacks(&["task-bell", "Este contato tem tarefa em aberto"]);
    s.get("/atendimentos").await.lacks(&[" 🔔"]);
    let pdf = s.get(&format!("/atendimentos/{cs}/pdf?notas=1")).await;
    assert_eq!(pdf.status, 200);
    let text = pdf_text(&pdf.bytes);
    assert!(text.contains("Agora com o suporte"), "{text}");
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} in the PDF:\n{text}");
    }
    // Suporte's annotation is Suporte's; Vendas sees its own and the contact.
    assert_eq!(s.post(&format!("/contatos/{k}/anotacoes"), &[("body", "NOTA-DO-SUPORTE")]).await.status, 303);
    let mut vend = app.login("vendas@x.com").await;
    let r = vend.get(&format!("/contatos/{k}")).await;
    r.has(&["SEGREDO-ANOTACAO", "SEGREDO-TAREFA", &format!("/atendimentos/{}", v.conversation)]);
    r.lacks(&["NOTA-DO-SUPORTE", "Agora com o suporte"]);
    assert_no_row(&r, cs, "vendas contact page");
    // The administrator sees everything.
    let mut admin = app.admin().await;
    admin.get(&format!("/contatos/{k}")).await.has(&["SEGREDO-ANOTACAO", "NOTA-DO-SUPORTE", "SEGREDO-TAREFA"]);
}

#[tokio::test]
async fn starting_a_conversation_to_a_hidden_contacts_phone_hands_over_nothing_more() {
    let app = TestApp::new().await;
    let (_, qs, v) = two_teams(&app).await;
    let mut s = app.login("suporte@x.com").await;
    // The duplicate message says a contact exists, never which.
    let r = s.post("/contatos", &[("name", "Outro"), ("phone", "+55 11 99999-0001")]).await;
    assert_eq!(r.status, 409);
    r.has(&["Este telefone já pertence a um contato que você não pode abrir."]);
    r.lacks(&["Cliente Segredo", &format!("/contatos/{}\"", v.contact)]);
    assert_clean(&r, "duplicate phone");
    let contacts = app.count("contacts").await;
    let r = s
        .post("/atendimentos/novo", &[("phone", "(11) 99999-0001"), ("name", "Fulano"), ("queue_id", &qs.to_string())])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let c: i64 = r.location().trim_start_matches("/atendimentos/").parse().unwrap();
    assert_eq!(app.count("contacts").await, contacts, "the contact is reused");
    assert_eq!(app.state.db.read(move |db| conv::load(db, c)).await.unwrap().unwrap().contact_id, v.contact);
    // Only what the normal rules allow: the contact, not Vendas's history,
    // tasks or annotations.
    for path in [format!("/atendimentos/{c}"), format!("/contatos/{}", v.contact)] {
        let r = s.get(&path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_clean(&r, &path);
        assert_no_row(&r, v.conversation, &path);
    }
    // The other team's pages stay closed.
    assert_eq!(s.get(&format!("/atendimentos/{}", v.conversation)).await.status, 404);
    assert_eq!(s.get(&format!("/tarefas/{}", v.task)).await.status, 404);
    // A contact the agent may see: the plain sentence.
    let r = s.post("/contatos", &[("name", "Outro"), ("phone", "+55 11 99999-0001")]).await;
    assert_eq!(r.status, 409);
    r.has(&["Já existe um contato com este telefone."]);
}

// ---------------------------------------------------------------- the live stream

fn pdf_text(pdf: &[u8]) -> String {
    let mut file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    file.write_all(pdf).unwrap();
    let out = std::process::Command::new("pdftotext").arg("-layout").arg(file.path()).arg("-").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// What a real SSE read saw: the text, and after how long the server ended
/// the stream (None: still open when `wait` ran out, or `until` was seen).
struct Seen {
    text: String,
    ended_after: Option<Duration>,
}

/// Reads `/eventos` over TCP until the server ends the response, `until`
/// appears after `start_mark`, or `wait` runs out.
fn read_sse(addr: SocketAddr, cookie: &str, wait: Duration, until: &str, start_mark: Option<Instant>) -> Seen {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /eventos HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let start = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while start.elapsed() < wait {
        match s.read(&mut buf) {
            Ok(0) => {
                let from = start_mark.unwrap_or(start);
                return Seen { text: String::from_utf8_lossy(&out).into_owned(), ended_after: Some(from.elapsed()) };
            }
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&out);
                if text.ends_with("\r\n0\r\n\r\n") {
                    let from = start_mark.unwrap_or(start);
                    return Seen { text: text.into_owned(), ended_after: Some(from.elapsed()) };
                }
                if !until.is_empty() && text.contains(until) {
                    break;
                }
            }
            Err(_) => {}
        }
    }
    Seen { text: String::from_utf8_lossy(&out).into_owned(), ended_after: None }
}

fn cookie(c: &Client) -> String {
    format!("atende_sid={}", c.cookies["atende_sid"])
}

/// Waits (bounded) until the bus has `n` more subscribers than `before`.
async fn subscribed(app: &TestApp, before: usize, n: usize) {
    let t = Instant::now();
    while app.state.bus.subscribers() < before + n && t.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(app.state.bus.subscribers() >= before + n, "streams did not subscribe");
}

/// Opens a stream for `c` in a thread; returns its handle once subscribed.
async fn open(app: &TestApp, addr: SocketAddr, c: &Client<'_>, until: &'static str) -> tokio::task::JoinHandle<Seen> {
    let before = app.state.bus.subscribers();
    let ck = cookie(c);
    let h = tokio::task::spawn_blocking(move || read_sse(addr, &ck, Duration::from_secs(30), until, None));
    // The stream's own receiver and its session watch.
    subscribed(app, before, 2).await;
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_stream_ends_with_logout_password_change_and_deactivation() {
    let app = TestApp::new().await;
    let addr = app.serve().await;
    let (qv, _, _) = two_teams(&app).await;
    let mut admin = app.admin().await;
    // Logout.
    let mut tab = app.login("vendas@x.com").await;
    let h = open(&app, addr, &tab, "").await;
    let t = Instant::now();
    tab.post("/sair", &[]).await;
    let r = h.await.unwrap();
    let took = t.elapsed();
    assert!(r.ended_after.is_some(), "stream still open after logout:\n{}", r.text);
    println!("stream ended {took:?} after logout");
    // Password change: the other session's stream ends, this one's goes on.
    let mut here = app.login("vendas@x.com").await;
    let elsewhere = app.login("vendas@x.com").await;
    let other = open(&app, addr, &elsewhere, "").await;
    let mine = open(&app, addr, &here, "SEGUE-VIVO").await;
    let t = Instant::now();
    let pw = common::PW;
    let r = here
        .post(
            "/conta/senha",
            &[("current", pw), ("password", "outra-senha-segura-456"), ("password2", "outra-senha-segura-456")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = other.await.unwrap();
    assert!(r.ended_after.is_some(), "other session's stream still open:\n{}", r.text);
    println!("stream ended {:?} after password change", t.elapsed());
    say(&app, qv, "outro", VisitorMessage { name: "SEGUE-VIVO".into(), text: "oi".into(), ..Default::default() }).await;
    let r = mine.await.unwrap();
    assert!(r.ended_after.is_none(), "this session's stream must go on:\n{}", r.text);
    assert!(r.text.contains("event:"), "{}", r.text);
    // Deactivation by an administrator.
    let sa = app.login("suporte@x.com").await;
    let h = open(&app, addr, &sa, "").await;
    let t = Instant::now();
    let sid = app
        .state
        .db
        .read(|c| Ok(c.query_row("SELECT id FROM users WHERE login = 'suporte@x.com'", [], |r| r.get::<_, i64>(0))?))
        .await
        .unwrap();
    assert_eq!(admin.post(&format!("/admin/usuarios/{sid}/ativo"), &[("active", "0")]).await.status, 303);
    let r = h.await.unwrap();
    assert!(r.ended_after.is_some(), "deactivated user's stream still open:\n{}", r.text);
    println!("stream ended {:?} after deactivation", t.elapsed());
    // Reconnecting meets the login page, not a stream.
    let r = read_sse(addr, &cookie(&sa), Duration::from_secs(5), "", None);
    assert!(r.text.starts_with("HTTP/1.1 303"), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_stream_ends_when_its_session_expires_with_nobody_announcing_it() {
    let app = TestApp::new().await;
    let addr = app.serve().await;
    two_teams(&app).await;
    let tab = app.login("vendas@x.com").await;
    let h = open(&app, addr, &tab, "").await;
    // Idle past the limit on the app's clock: only the periodic check sees it.
    app.state.clock.advance(app.state.config.session_idle_secs + 1);
    let t = Instant::now();
    let r = h.await.unwrap();
    assert!(r.ended_after.is_some(), "stream outlived its expired session:\n{}", r.text);
    println!("stream ended {:?} after expiry (recheck every {:?})", t.elapsed(), atende::web::live::RECHECK);
}

#[tokio::test]
async fn a_task_line_in_a_conversation_names_no_title_a_teammate_may_not_open() {
    use atende::domain::tasks::{self, Assign, Form};
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let ana = user(&app, app.user("ana@x.com", Role::Agent, &[t]).await).await;
    app.user("bia@x.com", Role::Agent, &[t]).await;
    let c = say(&app, q, "maria", VisitorMessage { text: "Oi".into(), ..Default::default() }).await;
    conv::claim(&app.state, &ana, c).await.unwrap();
    let f = Form {
        kind: "call".into(),
        title: "TAREFA-PESSOAL".into(),
        description: "DESCRICAO-PESSOAL".into(),
        due_at: app.state.now() + 3600,
        assign: Assign::Me,
        conversation_id: Some(c),
        contact_id: None,
        notify: true,
        email_template: None,
    };
    let id = tasks::create(&app.state, &ana, atende::i18n::Locale::PtBr, f).await.unwrap();
    // Ana reads the line and her task beside it.
    let mut a = app.login("ana@x.com").await;
    a.get(&format!("/atendimentos/{c}")).await.has(&["Tarefa criada · Responsável: Nome ana@x.com", "TAREFA-PESSOAL"]);
    // Bia may open the conversation (her team's) but not Ana's task: the
    // line says a task exists, never its title, on the page and in the PDF.
    let mut b = app.login("bia@x.com").await;
    assert_eq!(b.get(&format!("/tarefas/{id}")).await.status, 404);
    let page = b.get(&format!("/atendimentos/{c}")).await;
    assert_eq!(page.status, 200);
    page.has(&["Tarefa criada · Responsável: Nome ana@x.com"]);
    page.lacks(&["TAREFA-PESSOAL", "DESCRICAO-PESSOAL"]);
    let pdf = b.get(&format!("/atendimentos/{c}/pdf?notas=1")).await;
    assert_eq!(pdf.status, 200);
    let text = pdf_text(&pdf.bytes);
    assert!(text.contains("Tarefa criada"), "{text}");
    assert!(!text.contains("TAREFA-PESSOAL"), "{text}");
}
