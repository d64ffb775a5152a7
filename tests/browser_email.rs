//! End-to-end in real headless Chromium: an e-mail conversation. A
//! customer's HTML e-mail read from Dovecot appears live in the open
//! conversation, in a sandboxed frame where nothing of it runs and its web
//! images (a tracking pixel on a local server that counts requests) load
//! only after "Mostrar imagens"; the agent's replies reach the customer's
//! mailbox threaded — wrapped in the default HTML template, in another one
//! picked in the composer with a person in copy, and with a file attached;
//! at 390 px the page does not scroll sideways.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use atende::channels::email::deliver;
use atende::domain::conversations as conv;
use atende::domain::users::Role;
use common::browser::{Browser, start_browser, start_driver};
use common::mail::*;
use common::{PW, TestApp};
use fantoccini::Locator;

/// A web server on 127.0.0.1 that counts the requests for its pixel.
async fn pixel_server() -> (u16, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let h = h.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                if s.read(&mut buf).await.unwrap_or(0) > 0 {
                    h.fetch_add(1, Ordering::SeqCst);
                }
                let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    gif.len()
                );
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(gif).await;
            });
        }
    });
    (port, hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_email_is_shown_safely_live_and_the_reply_reaches_the_customer() {
    let dc = Dovecot::start();
    let sink = SmtpSink::start(dc.port).await;
    let app = TestApp::new().await;
    let (q, mut admin) = mailbox(&app, &dc, sink.port).await;
    admin.get("/admin/modelos-email/novo").await;
    let r = admin
        .post(
            "/admin/modelos-email/novo",
            &[
                ("name", "Loja"),
                ("html", "<h2 style=\"color:#0a5\">Loja {{empresa}}</h2>{{conteudo}}"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let loja = scalar(&app, "SELECT id FROM email_templates WHERE name = 'Loja'".into()).await;
    let t = scalar(&app, "SELECT id FROM teams LIMIT 1".into()).await;
    let a = app.user("ana@x.com", Role::Agent, &[t]).await;
    let ana = app.state.db.read(move |c| Ok(atende::domain::users::get(c, a)?.unwrap())).await.unwrap();
    dc.deliver(DESK, &email(CUSTOMER, DESK, "Pedido 123", "p1@exemplo.com.br", "", "Meu pedido atrasou.")).await;
    sync(&app, q).await;
    let c = scalar(&app, format!("SELECT id FROM conversations WHERE queue_id = {q}")).await;
    conv::claim(&app.state, &ana, c).await.unwrap();

    let addr = app.serve().await;
    let driver = start_driver();
    let profile = tempfile::tempdir().unwrap();
    let b = Browser { c: start_browser(&driver, profile.path(), (1280, 900)).await, base: format!("http://{addr}") };
    b.goto("/entrar").await;
    b.login("ana@x.com", PW, "Nome ana@x.com").await;
    b.goto(&format!("/atendimentos/{c}")).await;
    b.wait_text("#messages", "Meu pedido atrasou.").await;

    // The customer's HTML answer, with a script, a handler and a pixel.
    let (pport, hits) = pixel_server().await;
    let html = format!(
        "<p>Segue a <b>foto</b> do pacote.</p><script>parent.document.title='HACKED'</script>\
         <img src=x onerror=\"parent.document.title='HACKED'\">\
         <img id=px src=\"http://127.0.0.1:{pport}/p.gif\" width=1 height=1>"
    );
    let raw = format!(
        "From: {CUSTOMER}\nTo: {DESK}\nSubject: Re: Pedido 123\nMessage-ID: <p2@exemplo.com.br>\n\
         In-Reply-To: <p1@exemplo.com.br>\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"A\"\n\n\
         --A\nContent-Type: text/plain; charset=utf-8\n\nSegue a foto do pacote.\n\
         --A\nContent-Type: text/html; charset=utf-8\n\n{html}\n--A--\n"
    );
    dc.deliver(DESK, &raw).await;
    assert_eq!(sync(&app, q).await.stored, 1);
    // It appears without a reload, in its frame, images blocked.
    b.wait_text("#messages", "Mostrar imagens").await;
    b.wait_true("return document.querySelectorAll('#messages iframe.email-frame').length === 1;", "the e-mail frame")
        .await;
    let frame = b.c.find(Locator::Css("#messages iframe.email-frame")).await.unwrap();
    frame.clone().enter_frame().await.unwrap();
    b.wait_text("body", "Segue a foto do pacote.").await;
    b.c.enter_parent_frame().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the pixel is not fetched until asked");
    let title = b.c.title().await.unwrap();
    assert_ne!(title, "HACKED", "nothing of the e-mail ran");
    // "Mostrar imagens" reloads the frame with the web images.
    b.click_text("#messages a", "Mostrar imagens").await;
    let start = std::time::Instant::now();
    while hits.load(Ordering::SeqCst) == 0 {
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "the pixel was never fetched");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_ne!(b.c.title().await.unwrap(), "HACKED");

    // The reply goes to the customer's mailbox, threaded.
    let area = b.find("#f-text").await;
    area.send_keys("Obrigado, vamos verificar.").await.unwrap();
    area.send_keys("\u{E007}").await.unwrap();
    b.wait_text("#messages .msg-out", "Obrigado, vamos verificar.").await;
    b.wait_text("#messages .msg-out .tick", "enviando").await;
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 1);
    b.wait_text("#messages .msg-out .tick", "enviada").await;
    let got = dc.messages(CUSTOMER).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].contains(&format!("Re: Pedido 123 [#{c}]")), "{}", got[0]);
    assert!(got[0].contains("In-Reply-To: <p2@exemplo.com.br>"), "{}", got[0]);
    let html = |raw: &str| {
        mail_parser::MessageParser::default().parse(raw.as_bytes()).unwrap().body_html(0).unwrap().to_string()
    };
    assert!(html(&got[0]).contains(&format!("Atendimento nº {c}")), "the default template: {}", got[0]);

    // Another template and a person in copy, chosen in the composer.
    b.click("#mail-extras > summary").await;
    b.fill("f-cc", OTHER).await;
    b.find("#f-modelo").await.select_by_value(&loja.to_string()).await.unwrap();
    let area = b.find("#f-text").await;
    area.send_keys("Segue a nota fiscal em seguida.\u{E007}").await.unwrap();
    b.wait_text("#messages .msg-out", "Segue a nota fiscal").await;
    b.wait_true("return document.getElementById('f-cc').value === '';", "the copy field empties once sent").await;
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 1);
    let got = dc.messages(CUSTOMER).await;
    assert_eq!(got.len(), 2);
    assert!(html(&got[1]).contains("Loja Minha empresa") && html(&got[1]).contains("color:#0a5"), "{}", got[1]);
    assert!(got[1].contains(&format!("Cc: {OTHER}")), "{}", got[1]);
    assert_eq!(dc.messages(OTHER).await.len(), 1);

    // A file, through the attach form: attached to an e-mail wrapped in
    // the default template, still copied to the kept person.
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("nota-fiscal.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").unwrap();
    b.click("#attach > summary").await;
    b.find("#f-file").await.send_keys(pdf.to_str().unwrap()).await.unwrap();
    b.fill("f-caption", "Nota fiscal do pedido").await;
    b.click("#attach-form button[type=submit]").await;
    b.wait_text("#messages .msg-out", "nota-fiscal.pdf").await;
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 1);
    let got = dc.messages(CUSTOMER).await;
    assert_eq!(got.len(), 3);
    let m = mail_parser::MessageParser::default().parse(got[2].as_bytes()).unwrap();
    assert_eq!(m.attachment(0).and_then(|a| mail_parser::MimeHeaders::attachment_name(a)), Some("nota-fiscal.pdf"));
    assert!(m.body_html(0).unwrap().contains(&format!("Atendimento nº {c}")), "{}", got[2]);
    assert!(m.body_text(0).unwrap().contains("Nota fiscal do pedido"));
    assert!(got[2].contains(&format!("Cc: {OTHER}")), "{}", got[2]);
    assert!(got[2].contains(&format!("Re: Pedido 123 [#{c}]")), "threaded: {}", got[2]);

    // At phone width nothing scrolls sideways.
    b.c.set_window_size(390, 844).await.unwrap();
    b.goto(&format!("/atendimentos/{c}")).await;
    b.wait_text("#messages", "Mostrar imagens").await;
    b.wait_true("return document.documentElement.scrollWidth <= window.innerWidth;", "no sideways scroll at 390 px")
        .await;
}
