//! Attachments (both directions, limits, bad input, safe serving, who may
//! open them), message search, and the PDF transcript — through the routes.

mod common;

use atende::domain::conversations::{self as conv, VisitorMessage};
use atende::domain::users::{Role, User};
use base64::Engine;
use common::TestApp;

/// A real 1×1 PNG.
pub fn png() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
        .unwrap()
}

fn token(who: &str) -> String {
    format!("{who:a<43}")
}

async fn user(app: &TestApp, id: i64) -> User {
    app.state.db.read(move |c| atende::domain::users::get(c, id)).await.unwrap().unwrap()
}

/// Team Suporte, queue Site, Ana holding Maria's conversation.
async fn setup(app: &TestApp) -> (i64, User, i64) {
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let ana = user(app, app.user("ana@x.com", Role::Agent, &[t]).await).await;
    conv::set_connected(&app.state, &ana, q, true).await.unwrap();
    conv::set_ready(&app.state, &ana, true).await.unwrap();
    let c = visitor(app, q, "maria", "Maria Conceição", "Preciso da segunda via da cobrança").await;
    conv::accept(&app.state, &ana, c).await.unwrap();
    (q, ana, c)
}

async fn visitor(app: &TestApp, q: i64, who: &str, name: &str, text: &str) -> i64 {
    let m = VisitorMessage { name: name.into(), text: text.into(), ..Default::default() };
    conv::visitor_message(&app.state, q, atende::domain::auth::token_hash(&token(who)), m).await.unwrap().0
}

async fn public(app: &TestApp, method: &str, path: &str, body: Vec<u8>) -> (u16, warp::http::HeaderMap, Vec<u8>) {
    let r = warp::test::request()
        .method(method)
        .path(path)
        .header("content-type", "application/octet-stream")
        .body(body)
        .reply(&app.routes)
        .await;
    (r.status().as_u16(), r.headers().clone(), r.body().to_vec())
}

async fn attachment_ids(app: &TestApp) -> Vec<(i64, String)> {
    app.state
        .db
        .read(|db| {
            let mut s = db.prepare("SELECT id, name FROM attachments ORDER BY id")?;
            let v = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
            Ok(v)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn attachments_go_both_ways_and_are_served_safely() {
    let app = TestApp::new().await;
    let (q, _, c) = setup(&app).await;
    let mut ana = app.login("ana@x.com").await;
    let up = format!("/atendimentos/{c}/anexos");
    // An image to the visitor, with a caption.
    let r =
        ana.post_multipart(&up, &[("mode", "reply"), ("text", "Segue a foto")], Some(("foto.png", &png())), true).await;
    assert_eq!(r.status, 303, "{}", r.body);
    // A document as an internal note, with a hostile name.
    let evil = "<img src=x onerror=alert(1)>.pdf";
    let r = ana.post_multipart(&up, &[("mode", "note")], Some((evil, b"%PDF-1.4 fake")), true).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let files = attachment_ids(&app).await;
    assert_eq!(files.len(), 2);
    let (img, doc) = (files[0].0, files[1].0);
    // The agent's page previews the image and escapes the name.
    let page = ana.get(&format!("/atendimentos/{c}")).await;
    page.has(&[&format!("src=\"/anexos/{img}\""), "Segue a foto", "foto.png", "&lt;img src=x onerror=alert(1)&gt;"]);
    page.lacks(&["<img src=x onerror"]);
    // Served inline with its type (an image), with nosniff and a sandbox.
    let r = ana.get(&format!("/anexos/{img}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.bytes, png());
    assert_eq!(r.headers["content-type"], "image/png");
    assert!(r.headers["content-disposition"].to_str().unwrap().starts_with("inline; filename=\"foto.png\""));
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert!(r.headers["content-security-policy"].to_str().unwrap().contains("sandbox"));
    // Anything else downloads as an attachment, its name escaped for the header.
    let r = ana.get(&format!("/anexos/{doc}")).await;
    assert_eq!(r.headers["content-type"], "application/octet-stream");
    let cd = r.headers["content-disposition"].to_str().unwrap();
    assert!(
        cd.starts_with("attachment; filename=\"_img_src_x_onerror_alert_1__.pdf\"; filename*=UTF-8''%3Cimg"),
        "{cd}"
    );
    // The visitor sees the image, never the note's file.
    let tok = token("maria");
    let (s, _, body) = public(&app, "GET", &format!("/api/widget/{q}/messages?token={tok}&after=0"), vec![]).await;
    assert_eq!(s, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let text = v.to_string();
    assert!(text.contains("foto.png") && text.contains("\"preview\":\"image\""), "{text}");
    assert!(!text.contains("onerror"), "{text}");
    let (s, h, body) = public(&app, "GET", &format!("/api/widget/{q}/files/{img}?token={tok}"), vec![]).await;
    assert_eq!((s, body), (200, png()));
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(public(&app, "GET", &format!("/api/widget/{q}/files/{doc}?token={tok}"), vec![]).await.0, 404);
    assert_eq!(
        public(&app, "GET", &format!("/api/widget/{q}/files/{img}?token={}", token("outro")), vec![]).await.0,
        404
    );
    // The visitor sends a file; the agent sees it.
    let (s, _, body) = public(
        &app,
        "POST",
        &format!("/api/widget/{q}/files?token={tok}&name=comprovante.pdf"),
        b"%PDF-1.7 x".to_vec(),
    )
    .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
    ana.get(&format!("/atendimentos/{c}")).await.has(&["comprovante.pdf"]);
    // Visitor bad input: wrong type, empty, no conversation yet.
    let (s, _, body) =
        public(&app, "POST", &format!("/api/widget/{q}/files?token={tok}&name=run.exe"), b"MZ".to_vec()).await;
    assert_eq!(s, 400);
    assert!(String::from_utf8_lossy(&body).contains("Tipo de arquivo não aceito"));
    assert_eq!(public(&app, "POST", &format!("/api/widget/{q}/files?token={tok}&name=a.txt"), vec![]).await.0, 400);
    let (s, _, body) =
        public(&app, "POST", &format!("/api/widget/{q}/files?token={}&name=a.txt", token("novo")), b"oi".to_vec())
            .await;
    assert_eq!(s, 400);
    assert!(String::from_utf8_lossy(&body).contains("Envie uma mensagem antes"));
    assert_eq!(attachment_ids(&app).await.len(), 3);

    // Another team's agent cannot open any of them: 404.
    let t2 = app.team("Vendas").await;
    app.user("bia@x.com", Role::Agent, &[t2]).await;
    let mut bia = app.login("bia@x.com").await;
    assert_eq!(bia.get(&format!("/anexos/{img}")).await.status, 404);
    assert_eq!(bia.post_multipart(&up, &[("mode", "note")], Some(("a.txt", b"x")), true).await.status, 404);
}

#[tokio::test]
async fn uploads_beyond_limits_or_broken_change_nothing() {
    let app = TestApp::new().await;
    let (_, _, c) = setup(&app).await;
    app.state
        .db
        .write(|db| Ok(db.execute("UPDATE settings SET attach_file_mb = 1, attach_conversation_mb = 2", [])?))
        .await
        .unwrap();
    let mut ana = app.login("ana@x.com").await;
    let up = format!("/atendimentos/{c}/anexos");
    let msgs = app.count("messages").await;
    let big = vec![b'x'; (1 << 20) + 1];
    for (name, data, key) in [
        ("grande.txt", big.as_slice(), "file.too_big"),
        ("vazio.txt", b"".as_slice(), "file.empty"),
        ("pagina.html", b"<h1>oi</h1>".as_slice(), "file.bad_type"),
        ("desenho.svg", b"<svg onload=alert(1)>".as_slice(), "file.bad_type"),
        ("falsa.png", b"<script>alert(1)</script>".as_slice(), "file.bad_content"),
        ("semextensao", b"abc".as_slice(), "file.bad_type"),
    ] {
        let r = ana.post_multipart(&up, &[("mode", "reply")], Some((name, data)), true).await;
        assert!(r.location().ends_with(&format!("err={key}")), "{name}: {} {}", r.status, r.location());
    }
    ana.get(&format!("/atendimentos/{c}?err=file.too_big"))
        .await
        .has(&["O arquivo passa do tamanho máximo permitido."]);
    // The page's script gets the message as a fragment.
    let r = ana.get(&format!("/atendimentos/{c}")).await;
    assert!(r.body.contains("Tamanho máximo por arquivo: 1 MB"));
    // No file, broken multipart, no boundary.
    let r = ana.post_multipart(&up, &[("mode", "reply")], None, true).await;
    assert!(r.location().ends_with("err=file.missing"), "{}", r.location());
    let tok = ana.csrf.clone().unwrap();
    let broken = format!(
        "--b\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{tok}\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nabc"
    );
    let r = ana
        .post_bytes(&up, "multipart/form-data; boundary=b", broken.into_bytes(), &[("x-requested-with", "fetch")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Envio de arquivo incompleto ou inválido"), "{}", r.body);
    let r = ana.post_bytes(&up, "text/plain", b"abc".to_vec(), &[("x-csrf-token", &tok)]).await;
    assert!(r.location().ends_with("err=file.broken"), "{} {}", r.status, r.location());
    // Without the CSRF token: refused before the file is read.
    assert_eq!(ana.post_multipart(&up, &[("mode", "reply")], Some(("a.txt", b"abc")), false).await.status, 403);
    assert_eq!(app.count("attachments").await, 0);
    assert_eq!(app.count("messages").await, msgs);
    // The per-conversation total.
    let part = vec![b'y'; 800 * 1024];
    for i in 0..2 {
        let r = ana.post_multipart(&up, &[], Some((&format!("p{i}.txt"), &part)), true).await;
        assert_eq!(r.status, 303, "{}", r.location());
    }
    let r = ana.post_multipart(&up, &[], Some(("p3.txt", &part)), true).await;
    assert!(r.location().ends_with("err=file.conversation_full"), "{}", r.location());
    assert_eq!(app.count("attachments").await, 2);
    assert_eq!(app.count("attachment_data").await, 2);
}

#[tokio::test]
async fn search_finds_messages_without_accents_and_never_what_i_may_not_open() {
    let app = TestApp::new().await;
    let (q, ana_u, c) = setup(&app).await;
    conv::send(&app.state, &ana_u, c, "A cobrança foi reenviada <b>hoje</b>.").await.unwrap();
    conv::note(&app.state, &ana_u, c, "Cliente reclamou da COBRANÇA duplicada").await.unwrap();
    // Another team's conversation with the same word.
    let t2 = app.team("Vendas").await;
    let q2 = app.queue("Loja", t2, 5, 30).await;
    let other = visitor(&app, q2, "jose", "José", "Minha cobrança veio errada").await;
    let mut ana = app.login("ana@x.com").await;
    let r = ana.get("/pesquisar?q=cobranca").await;
    assert_eq!(r.status, 200);
    r.has(&[
        &format!("/atendimentos/{c}#m"),
        "<mark>cobrança</mark>",
        "<mark>COBRANÇA</mark>",
        "Nota interna",
        "Maria Conceição",
        "&lt;b&gt;hoje&lt;/b&gt;",
    ]);
    r.lacks(&[&format!("/atendimentos/{other}#"), "veio errada"]);
    // Newest first: the note comes before the reply.
    assert!(r.body.find("COBRANÇA").unwrap() < r.body.find("reenviada").unwrap());
    // Contacts by name, phone or e-mail on the same page.
    ana.get("/pesquisar?q=conceicao").await.has(&["search-contacts", "Maria Conceição"]);
    // Inside one conversation.
    let r = ana.get(&format!("/atendimentos/{c}/pesquisar?q=segunda+via")).await;
    r.has(&["<mark>segunda</mark> <mark>via</mark>"]);
    assert_eq!(ana.get(&format!("/atendimentos/{other}/pesquisar?q=cobranca")).await.status, 404);
    // FTS syntax is just words; too long is a clear message.
    ana.get("/pesquisar?q=%22cobran%C3%A7a%22+OR+NEAR(x*").await.has(&["Nenhuma mensagem encontrada."]);
    let r = ana.get(&format!("/pesquisar?q={}", "a".repeat(201))).await;
    assert_eq!(r.status, 400);
    r.has(&["Pesquisa longa demais."]);
    // Pages: 30 more matches give a "search older" link that continues.
    for i in 0..30 {
        conv::send(&app.state, &ana_u, c, &format!("boleto número {i}")).await.unwrap();
    }
    let r = ana.get("/pesquisar?q=boleto").await;
    assert_eq!(r.body.matches("<li class=\"hit").count(), 25);
    let next =
        r.body.split("id=\"search-more\" href=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let r2 = ana.get(&next).await;
    assert_eq!(r2.body.matches("<li class=\"hit").count(), 5);
    r2.has(&["número 0<", "número 4<"]).lacks(&["número 5<"]);
    // The administrator sees every conversation.
    let mut admin = app.admin().await;
    admin.get("/pesquisar?q=cobranca").await.has(&["veio errada"]);
    let _ = q;
}

fn pdftotext(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.pdf");
    std::fs::write(&f, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&f)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is required: tests/run.sh installs it");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn the_pdf_transcript_has_everything_and_notes_only_when_asked() {
    let app = TestApp::new().await;
    let (_, ana_u, c) = setup(&app).await;
    conv::send(&app.state, &ana_u, c, "Olá Maria! A ação de cobrança foi cancelada. <script>alert(1)</script> 😀")
        .await
        .unwrap();
    conv::note(&app.state, &ana_u, c, "Verificar estorno amanhã").await.unwrap();
    let mut ana = app.login("ana@x.com").await;
    ana.post_multipart(
        &format!("/atendimentos/{c}/anexos"),
        &[("text", "Comprovante")],
        Some(("recibo-março.pdf", b"%PDF-1.4 x")),
        true,
    )
    .await;
    let r = ana.get(&format!("/atendimentos/{c}/pdf")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/pdf");
    assert_eq!(r.headers["content-disposition"], format!("attachment; filename=\"atendimento-{c}.pdf\""));
    assert!(r.bytes.starts_with(b"%PDF-"));
    let text = pdftotext(&r.bytes);
    for needle in [
        &format!("Atendimento #{c}"),
        "Minha empresa",
        "Maria Conceição",
        "Site",
        "Nome ana@x.com",
        "Preciso da segunda via da cobrança",
        "A ação de cobrança foi cancelada.",
        "<script>alert(1)</script>",
        "recibo-março.pdf",
        "Página 1 de 1",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    assert!(!text.contains("Verificar estorno"), "notes only when asked:\n{text}");
    assert!(!text.contains('😀'));
    let with_notes = pdftotext(&ana.get(&format!("/atendimentos/{c}/pdf?notas=1")).await.bytes);
    assert!(with_notes.contains("Verificar estorno amanhã") && with_notes.contains("Nota interna"), "{with_notes}");
    // Another team's agent: 404.
    let t2 = app.team("Vendas").await;
    app.user("bia@x.com", Role::Agent, &[t2]).await;
    let mut bia = app.login("bia@x.com").await;
    assert_eq!(bia.get(&format!("/atendimentos/{c}/pdf")).await.status, 404);
}

/// One payload through every field an agent or a customer controls; no page
/// shows it as markup, and the PDF prints it as plain text.
#[tokio::test]
async fn an_xss_payload_in_every_field_never_becomes_markup() {
    const P: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let ana = user(&app, app.user("ana@x.com", Role::Agent, &[t]).await).await;
    conv::set_connected(&app.state, &ana, q, true).await.unwrap();
    conv::set_ready(&app.state, &ana, true).await.unwrap();
    let spec = |s| atende::domain::registers::spec(s).unwrap();
    let text = |s: &str| atende::domain::registers::Value::Text(s.into());
    let field = atende::domain::registers::create(
        &app.state.db,
        spec("campos"),
        vec![text(&format!("Campo {P}")), text("text"), text(""), atende::domain::registers::Value::Int(0)],
        app.actor(),
    )
    .await
    .unwrap();
    let tag = atende::domain::registers::create(
        &app.state.db,
        spec("etiquetas"),
        vec![text(&format!("Tag {P}")), text("conversation")],
        app.actor(),
    )
    .await
    .unwrap();
    // The customer: name and message.
    let m = VisitorMessage { name: format!("Cliente {P}"), text: format!("Mensagem {P}"), ..Default::default() };
    let c = conv::visitor_message(&app.state, q, atende::domain::auth::token_hash(&token("x")), m).await.unwrap().0;
    conv::accept(&app.state, &ana, c).await.unwrap();
    let contact = app.state.db.read(move |db| Ok(conv::load(db, c)?.unwrap().contact_id)).await.unwrap();
    let mut a = app.login("ana@x.com").await;
    let base = format!("/atendimentos/{c}");
    // The agent: reply, note, tag, file name, quick reply, contact extra field, annotation.
    a.post(&format!("{base}/mensagens"), &[("text", &format!("Resposta {P}"))]).await;
    a.post(&format!("{base}/mensagens"), &[("mode", "note"), ("text", &format!("Nota {P}"))]).await;
    a.post(&format!("{base}/etiquetas"), &[("tag_id", &tag.to_string())]).await;
    let r = a.post_multipart(&format!("{base}/anexos"), &[], Some((&format!("{P}.txt"), b"abc")), true).await;
    assert_eq!(r.status, 303, "{}", r.location());
    assert_eq!(a.post("/respostas", &[("shortcut", "x"), ("body", &format!("Rápida {P}"))]).await.status, 303);
    let r = a
        .post(
            &format!("/contatos/{contact}"),
            &[("name", &format!("Cliente {P}")), (&format!("x{field}"), &format!("Valor {P}"))],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        a.post(&format!("/contatos/{contact}/anotacoes"), &[("body", &format!("Anotação {P}"))]).await.status,
        303
    );
    let pages = [
        base.clone(),
        format!("{base}/mensagens?after=0"),
        format!("/contatos/{contact}"),
        format!("/contatos/{contact}/editar"),
        "/contatos?q=cliente".to_string(),
        "/pesquisar?q=alert".to_string(),
        format!("{base}/pesquisar?q=alert"),
        "/respostas".to_string(),
        "/atendimentos".to_string(),
    ];
    for p in pages {
        let r = a.get(&p).await;
        assert_eq!(r.status, 200, "{p}");
        assert!(r.body.contains("alert(1)") || p == "/atendimentos", "{p} should show the payload as text");
        r.lacks(&["<script>alert", "<img src=x"]);
    }
    let pdf = pdftotext(&a.get(&format!("{base}/pdf?notas=1")).await.bytes);
    for label in ["Cliente", "Mensagem", "Resposta", "Nota"] {
        assert!(pdf.contains(&format!("{label} {P}")), "{label} missing from:\n{pdf}");
    }
    // File names lose any path: what follows the last "/" is kept, as text.
    assert!(pdf.contains("script><img src=x onerror=alert(2)>.txt"), "{pdf}");
}
