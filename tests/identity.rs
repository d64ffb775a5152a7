//! One customer, one name, one history (issue 11 §4): messages carry the
//! contact's current name everywhere agents read them; a visitor who gives a
//! known phone or e-mail joins that contact (and still sees only their own
//! conversations in the widget); quick-reply variables with no value fall
//! away gracefully.

mod common;

use std::io::Write;
use std::process::Command;

use atende::domain::conversations::{self as conv, VisitorMessage};
use atende::domain::users::{Role, User};
use common::TestApp;

/// A visitor token as the widget makes them (43 URL-safe characters).
fn token(who: &str) -> String {
    format!("{who:a<43}")
}

async fn user(app: &TestApp, id: i64) -> User {
    app.state.db.read(move |c| atende::domain::users::get(c, id)).await.unwrap().unwrap()
}

async fn say(app: &TestApp, q: i64, who: &str, m: VisitorMessage) -> i64 {
    conv::visitor_message(&app.state, q, atende::domain::auth::token_hash(&token(who)), m).await.unwrap().0
}

fn text(t: &str) -> VisitorMessage {
    VisitorMessage { text: t.into(), ..Default::default() }
}

async fn contact_of(app: &TestApp, conversation: i64) -> i64 {
    app.state.db.read(move |c| conv::load(c, conversation)).await.unwrap().unwrap().contact_id
}

async fn widget(app: &TestApp, path: &str) -> String {
    let r = warp::test::request().method("GET").path(path).reply(&app.routes).await;
    assert_eq!(r.status(), 200, "{}", String::from_utf8_lossy(r.body()));
    String::from_utf8_lossy(r.body()).into_owned()
}

fn pdf_text(pdf: &[u8]) -> String {
    let mut file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    file.write_all(pdf).unwrap();
    let out = Command::new("pdftotext").arg("-layout").arg(file.path()).arg("-").output().expect("pdftotext");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// Team Suporte, queue Site, agent Ana (Pronto, connected). Returns (queue, ana).
async fn desk(app: &TestApp) -> (i64, User) {
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let id = app.user("ana@x.com", Role::Agent, &[t]).await;
    let ana = user(app, id).await;
    conv::set_connected(&app.state, &ana, q, true).await.unwrap();
    conv::set_ready(&app.state, &ana, true).await.unwrap();
    (q, ana)
}

#[tokio::test]
async fn a_rename_shows_at_once_on_old_messages_in_the_desk_search_and_pdf() {
    let app = TestApp::new().await;
    let (q, ana) = desk(&app).await;
    let c = say(&app, q, "anon", text("Minha encomenda atrasou")).await;
    conv::accept(&app.state, &ana, c).await.unwrap();
    let k = contact_of(&app, c).await;
    let mut web = app.login("ana@x.com").await;
    let before = format!("Visitante #{k}");
    web.get(&format!("/atendimentos/{c}")).await.has(&[&before]);
    // The name becomes known (an agent edits the contact): every old message
    // says it at once, nowhere the frozen stand-in.
    let r = web.post(&format!("/contatos/{k}"), &[("name", "Joana Prado")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    web.get(&format!("/atendimentos/{c}")).await.has(&["Joana Prado"]).lacks(&[&before]);
    web.get(&format!("/atendimentos/{c}/mensagens?after=0")).await.has(&["Joana Prado"]).lacks(&[&before]);
    web.get("/pesquisar?q=encomenda").await.has(&["Joana Prado"]).lacks(&[&before]);
    web.get(&format!("/atendimentos/{c}/pesquisar?q=encomenda")).await.has(&["Joana Prado"]).lacks(&[&before]);
    let pdf = web.get(&format!("/atendimentos/{c}/pdf")).await;
    assert_eq!(pdf.status, 200);
    let t = pdf_text(&pdf.bytes);
    assert!(t.contains("Joana Prado") && !t.contains(&before), "{t}");
    // A visitor who later types a name in the widget renames the messages too.
    say(
        &app,
        q,
        "anon",
        VisitorMessage { name: "Joana P. Souza".into(), text: "Alguma novidade?".into(), ..Default::default() },
    )
    .await;
    let r = web.get(&format!("/atendimentos/{c}")).await;
    r.has(&["Joana P. Souza"]).lacks(&[&before, "Joana Prado"]);
    // The customer's own side keeps what the customer typed (never an agent's label).
    web.post(&format!("/contatos/{k}"), &[("name", "Joana (cliente difícil)")]).await;
    let w = widget(&app, &format!("/api/widget/{q}/messages?token={}&after=0", token("anon"))).await;
    assert!(!w.contains("cliente difícil"), "{w}");
}

#[tokio::test]
async fn a_visitor_with_a_known_phone_or_email_joins_that_contact() {
    let app = TestApp::new().await;
    let (q, ana) = desk(&app).await;
    let mut web = app.login("ana@x.com").await;
    let r =
        web.post("/contatos", &[("name", "Carla Dias"), ("phone", "(11) 91234-5678"), ("email", "carla@x.com")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let k: i64 = r.location().trim_start_matches("/contatos/").parse().unwrap();
    let contacts = app.count("contacts").await;
    // Pre-chat phone typed differently: same E.164, same contact; the known
    // name is not replaced by what the visitor typed.
    let m = VisitorMessage {
        name: "Carlinha".into(),
        phone: "+55 11 91234 5678".into(),
        text: "Oi, sou eu de novo".into(),
        ..Default::default()
    };
    let c1 = say(&app, q, "celular", m).await;
    assert_eq!(contact_of(&app, c1).await, k);
    assert_eq!(app.count("contacts").await, contacts, "no duplicate contact");
    conv::accept(&app.state, &ana, c1).await.unwrap();
    conv::close(&app.state, &ana, c1, false, None).await.unwrap();
    // Another browser, anonymous at first, then gives the e-mail: its own
    // conversation moves over and its empty stand-in contact is folded in.
    let c2 = say(&app, q, "notebook", text("Primeira pergunta")).await;
    let shell = contact_of(&app, c2).await;
    assert_ne!(shell, k);
    say(
        &app,
        q,
        "notebook",
        VisitorMessage { email: "Carla@X.com".into(), text: "meu e-mail".into(), ..Default::default() },
    )
    .await;
    assert_eq!(contact_of(&app, c2).await, k);
    let page = web.get(&format!("/contatos/{k}")).await;
    page.has(&["Carla Dias", &format!("/atendimentos/{c1}\""), &format!("/atendimentos/{c2}\"")]).lacks(&["Carlinha"]);
    let r = web.get(&format!("/contatos/{shell}")).await;
    assert_eq!(r.status, 303, "the stand-in points to the contact");
    assert_eq!(r.location(), format!("/contatos/{k}"));
    // Typing someone's phone is not proof: the widget shows each browser only
    // its own conversations, never the contact's others.
    let w = widget(&app, &format!("/api/widget/{q}/messages?token={}&after=0", token("notebook"))).await;
    assert!(w.contains("Primeira pergunta") && !w.contains("sou eu de novo"), "{w}");
    let m = VisitorMessage { phone: "11912345678".into(), text: "sou um impostor".into(), ..Default::default() };
    let c3 = say(&app, q, "impostor", m).await;
    assert_eq!(contact_of(&app, c3).await, k, "attached for the agents' history");
    assert_ne!(c3, c2, "but not into another browser's open conversation");
    let w = widget(&app, &format!("/api/widget/{q}/messages?token={}&after=0", token("impostor"))).await;
    assert!(w.contains("sou um impostor"), "{w}");
    assert!(!w.contains("sou eu de novo") && !w.contains("Primeira pergunta"), "{w}");
    let w = widget(&app, &format!("/api/widget/{q}/messages?token={}&after=0", token("notebook"))).await;
    assert!(!w.contains("impostor"), "{w}");
}

#[tokio::test]
async fn quick_reply_variables_without_a_value_fall_away() {
    let app = TestApp::new().await;
    let (q, ana) = desk(&app).await;
    let c = say(&app, q, "semnome", text("Bom dia")).await;
    conv::accept(&app.state, &ana, c).await.unwrap();
    let mut web = app.login("ana@x.com").await;
    assert_eq!(
        web.post("/respostas", &[("shortcut", "oi"), ("body", "Olá, {{nome}}! Sou {{agente}}.")]).await.status,
        303
    );
    let r = web.get(&format!("/atendimentos/{c}")).await;
    // (The page may call the contact "Visitante #N": nothing is known yet.)
    r.has(&["data-body=\"Olá! Sou Nome ana@x.com.\""]).lacks(&["data-body=\"Olá, Visitante"]);
    // From the composer: the same, and never the e-mail or phone as a name.
    say(
        &app,
        q,
        "semnome",
        VisitorMessage { email: "x@y.com".into(), text: "meu e-mail".into(), ..Default::default() },
    )
    .await;
    let csrf = web.csrf.clone().unwrap();
    let r = web
        .post_raw(
            "/respostas",
            &common::form_body(&[
                ("_csrf", csrf.as_str()),
                ("shortcut", "tchau"),
                ("body", "Até mais, {{nome}}!"),
                ("conversa", &c.to_string()),
            ]),
            &[("x-requested-with", "fetch")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.has(&["data-body=\"Até mais!\""]).lacks(&["x@y.com", "Visitante #"]);
    // Once a name is known, it is used.
    let k = contact_of(&app, c).await;
    web.post(&format!("/contatos/{k}"), &[("name", "Rui"), ("email", "x@y.com")]).await;
    web.get(&format!("/atendimentos/{c}")).await.has(&["data-body=\"Olá, Rui! Sou Nome ana@x.com.\""]);
}
