//! The e-mail channel (issue 13), sending side: an agent's reply goes
//! through the outbox to a real SMTP server on 127.0.0.1 that hands it to
//! the customer's Dovecot mailbox, where the test reads it back — threaded
//! (Message-ID, In-Reply-To, References, "Re: … [#id]"), with the people in
//! copy, the signature, an HTML alternative and files; a temporary refusal
//! retried with backoff and sent once; a permanent one and a bounce shown
//! on the message; an e-mail a restart interrupted sent once if it never
//! reached the server, shown unconfirmed (never sent twice) if it may have.

mod common;

use atende::channels::email::deliver;
use atende::domain::conversations as conv;
use atende::domain::outbox;
use common::TestApp;
use common::mail::*;

#[tokio::test]
async fn a_reply_arrives_threaded_in_the_customers_mailbox_and_their_answer_joins_the_conversation() {
    let dc = Dovecot::start();
    let sink = SmtpSink::start(dc.port).await;
    let app = TestApp::new().await;
    let (q, c, _ana) = served(&app, &dc, &sink, "Cc: outra@exemplo.com.br\n", "Quero trocar o produto.").await;
    let mut ana = app.login("ana@x.com").await;
    let r = ana.post(&format!("/atendimentos/{c}/mensagens"), &[("text", "Olá José, pode trazer na loja.")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(!r.location().contains("err="), "{}", r.location());
    // Written first, sent by the outbox.
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM outbox WHERE channel = 'email' AND state = 'pending'".into()).await,
        1
    );
    assert_eq!(sink.count(), 0);
    let run = deliver::run(&app.state).await.unwrap();
    assert_eq!((run.sent, run.retried, run.failed), (1, 0, 0));
    assert_eq!(deliver::run(&app.state).await.unwrap(), deliver::Run::default(), "never twice");
    assert_eq!(sink.count(), 1);
    let got = dc.messages(CUSTOMER).await;
    assert_eq!(got.len(), 1);
    let m = mail_parser::MessageParser::default().parse(got[0].as_bytes()).unwrap();
    assert_eq!(m.subject(), Some(format!("Re: Troca de produto [#{c}]").as_str()));
    assert_eq!(m.in_reply_to().as_text(), Some("t1@exemplo.com.br"));
    assert!(got[0].contains("<t1@exemplo.com.br>"), "References: {}", got[0]);
    let ours = m.message_id().unwrap().to_string();
    assert!(ours.starts_with(&format!("atende.{c}.")) && ours.ends_with("@empresa.com.br"), "{ours}");
    assert_eq!(m.from().and_then(|f| f.first()).and_then(|a| a.name()), Some("Suporte Empresa"));
    assert!(m.cc().is_some_and(|cc| cc.contains(OTHER)), "the customer's copy list is kept");
    let text = m.body_text(0).unwrap();
    assert!(text.contains("pode trazer na loja") && text.contains("Equipe de suporte"), "{text}");
    assert!(m.body_html(0).unwrap().contains("pode trazer na loja"));
    // The tick says sent.
    assert_eq!(text_of(&app, c).await, "sent");
    // The customer answers our message: it joins the same conversation.
    let answer = email(
        CUSTOMER,
        DESK,
        &format!("Re: Troca de produto [#{c}]"),
        "t2@exemplo.com.br",
        &format!("In-Reply-To: <{ours}>\nReferences: <t1@exemplo.com.br> <{ours}>\n"),
        "Obrigado!",
    );
    dc.deliver(DESK, &answer).await;
    assert_eq!(sync(&app, q).await.stored, 1);
    assert_eq!(
        scalar(&app, format!("SELECT count(*) FROM messages WHERE conversation_id = {c} AND kind = 'in'")).await,
        2
    );
}

#[tokio::test]
async fn replies_written_together_leave_in_one_run_in_order_over_one_connection() {
    let dc = Dovecot::start();
    let sink = SmtpSink::start(dc.port).await;
    let app = TestApp::new().await;
    let (_q, c, ana) = served(&app, &dc, &sink, "", "Quero trocar o produto.").await;
    for i in 1..=5 {
        conv::send(&app.state, &ana, c, &format!("Resposta número {i}")).await.unwrap();
    }
    let before = sink.connections.load(std::sync::atomic::Ordering::SeqCst);
    let run = deliver::run(&app.state).await.unwrap();
    assert_eq!((run.sent, run.retried, run.failed), (5, 0, 0));
    assert_eq!(deliver::run(&app.state).await.unwrap(), deliver::Run::default(), "never twice");
    assert_eq!(sink.connections.load(std::sync::atomic::Ordering::SeqCst) - before, 1, "the connection is reused");
    let got = dc.messages(CUSTOMER).await;
    let order: Vec<usize> = got
        .iter()
        .filter_map(|raw| {
            let text = mail_parser::MessageParser::default().parse(raw.as_bytes())?.body_text(0)?.to_string();
            (1..=5).find(|i| text.contains(&format!("Resposta número {i}")))
        })
        .collect();
    assert_eq!(order, vec![1, 2, 3, 4, 5], "one conversation's replies go out in the order written");
}

async fn text_of(app: &TestApp, c: i64) -> String {
    text(app, format!("SELECT o.state FROM outbox o JOIN messages m ON m.id = o.message_id WHERE m.conversation_id = {c} ORDER BY o.id DESC LIMIT 1")).await
}

#[tokio::test]
async fn refusals_are_retried_or_shown_and_a_restart_mid_send_never_sends_twice() {
    let dc = Dovecot::start();
    let sink = SmtpSink::start(dc.port).await;
    let app = TestApp::new().await;
    let (q, c, ana) = served(&app, &dc, &sink, "Cc: outra@exemplo.com.br\n", "Quero trocar o produto.").await;
    // A temporary refusal: retried after a backoff, then sent once.
    sink.refuse_next.lock().unwrap().push_back(451);
    conv::send(&app.state, &ana, c, "Primeira").await.unwrap();
    let r = deliver::run(&app.state).await.unwrap();
    assert_eq!((r.sent, r.retried), (0, 1));
    assert_eq!(text_of(&app, c).await, "pending");
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 0, "not before the backoff");
    app.state.clock.advance(10);
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 1);
    assert_eq!(sink.count(), 1);
    // A permanent refusal: failed, with the server's words on the desk.
    sink.refuse_next.lock().unwrap().push_back(550);
    conv::send(&app.state, &ana, c, "Segunda").await.unwrap();
    assert_eq!(deliver::run(&app.state).await.unwrap().failed, 1);
    assert_eq!(text_of(&app, c).await, "failed");
    let mut page = app.login("ana@x.com").await;
    page.get(&format!("/atendimentos/{c}")).await.has(&["sink refuses this one"]);
    // Taken by a run that dies before its SMTP transaction begins: the
    // restart sends it normally, once.
    conv::send(&app.state, &ana, c, "Terceira").await.unwrap();
    let now = app.state.now();
    let taken = app.state.db.write(move |db| outbox::claim(db, "email", q, now, 10)).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(deliver::run(&app.state).await.unwrap(), deliver::Run::default(), "taken by the other run");
    assert_eq!(deliver::recover(&app.state).await.unwrap(), 0);
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 1);
    assert_eq!(sink.count(), 2);
    assert_eq!(text_of(&app, c).await, "sent");
    // Taken and handed to the server, then the restart comes before the
    // outcome is stored: it is shown as not confirmed at once, and the SMTP
    // server never sees it a second time.
    conv::send(&app.state, &ana, c, "Quarta").await.unwrap();
    let now = app.state.now();
    let id = app
        .state
        .db
        .write(move |db| {
            let taken = outbox::claim(db, "email", q, now, 10)?;
            assert_eq!(taken.len(), 1);
            assert!(outbox::start(db, taken[0].id, now)?);
            Ok(taken[0].id)
        })
        .await
        .unwrap();
    app.state.clock.advance(outbox::RECONCILE_SECS + 1);
    assert_eq!(deliver::run(&app.state).await.unwrap().failed, 1, "past its time even without a restart");
    assert_eq!(sink.count(), 2);
    assert_eq!(text_of(&app, c).await, "failed");
    page.get(&format!("/atendimentos/{c}")).await.has(&["envio não confirmado"]);
    // The same at a restart, before its time has passed.
    conv::send(&app.state, &ana, c, "Quinta").await.unwrap();
    let now = app.state.now();
    app.state
        .db
        .write(move |db| {
            let taken = outbox::claim(db, "email", q, now, 10)?;
            assert!(taken.len() == 1 && taken[0].id != id);
            outbox::start(db, taken[0].id, now).map(|_| ())
        })
        .await
        .unwrap();
    assert_eq!(deliver::run(&app.state).await.unwrap(), deliver::Run::default());
    assert_eq!(deliver::recover(&app.state).await.unwrap(), 1);
    assert_eq!(deliver::run(&app.state).await.unwrap(), deliver::Run::default(), "never twice");
    assert_eq!(sink.count(), 2);
    assert_eq!(text_of(&app, c).await, "failed");
    // A bounce for our first reply: that message shows it failed, and the
    // report makes no conversation of its own.
    let first_id = text(&app, "SELECT e.rfc_id FROM email_messages e JOIN messages m ON m.id = e.message_id WHERE m.kind = 'out' ORDER BY m.id LIMIT 1".into()).await;
    let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@exemplo.com.br>\nTo: {DESK}\nSubject: Undelivered Mail Returned to Sender\n\
         Message-ID: <dsn1@exemplo.com.br>\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n\
         --B\nContent-Type: text/plain\n\nNão foi possível entregar.\n\
         --B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; exemplo.com.br\n\nFinal-Recipient: rfc822; {CUSTOMER}\n\
         Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 caixa inexistente\n\n\
         --B\nContent-Type: text/rfc822-headers\n\nMessage-ID: <{first_id}>\nSubject: Re: Troca\n\n--B--\n"
    );
    let before = app.count("conversations").await;
    dc.deliver(DESK, &dsn).await;
    assert_eq!(sync(&app, q).await.stored, 1);
    assert_eq!(app.count("conversations").await, before);
    let st = text(&app, format!("SELECT o.state || ' ' || o.error FROM outbox o JOIN email_messages e ON e.message_id = o.message_id WHERE e.rfc_id = '{first_id}'")).await;
    assert!(st.starts_with("failed") && st.contains("caixa inexistente"), "{st}");
    page.get(&format!("/atendimentos/{c}")).await.has(&["E-mail não entregue", "caixa inexistente"]);
}

#[tokio::test]
async fn a_file_travels_attached_and_a_queue_without_smtp_refuses_to_send() {
    let dc = Dovecot::start();
    let sink = SmtpSink::start(dc.port).await;
    let app = TestApp::new().await;
    let (q, c, _ana) = served(&app, &dc, &sink, "Cc: outra@exemplo.com.br\n", "Quero trocar o produto.").await;
    let mut ana = app.login("ana@x.com").await;
    let r = ana
        .post_multipart(
            &format!("/atendimentos/{c}/anexos"),
            &[("text", "Segue a nota fiscal")],
            Some(("nota.pdf", b"%PDF-1.4 nota")),
            true,
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 1);
    let got = dc.messages(CUSTOMER).await;
    let m = mail_parser::MessageParser::default().parse(got[0].as_bytes()).unwrap();
    let att = m.attachments().next().expect("the file is attached");
    use mail_parser::MimeHeaders;
    assert_eq!(att.attachment_name(), Some("nota.pdf"));
    assert_eq!(att.contents(), b"%PDF-1.4 nota");
    assert!(m.body_text(0).unwrap().contains("Segue a nota fiscal"));
    // Without an SMTP server the queue is not connected: nothing is written.
    exec(&app, format!("UPDATE email_mailboxes SET smtp_host = '' WHERE queue_id = {q}")).await;
    let before = app.count("messages").await;
    let r = ana.post(&format!("/atendimentos/{c}/mensagens"), &[("text", "Oi")]).await;
    assert!(r.location().ends_with("err=conv.channel_not_connected"), "{}", r.location());
    assert_eq!(app.count("messages").await, before);
}

#[tokio::test]
async fn a_signed_plus_address_finds_the_conversation_whatever_the_subject() {
    let dc = Dovecot::start();
    let sink = SmtpSink::start(dc.port).await;
    let app = TestApp::new().await;
    let (q, c, ana) = served(&app, &dc, &sink, "Cc: outra@exemplo.com.br\n", "Quero trocar o produto.").await;
    // Turned on from the mailbox page.
    let mut admin = app.login("admin@empresa.com").await;
    let (port, smtp) = (dc.port.to_string(), sink.port.to_string());
    let mut f = form(&port, "", &smtp);
    f.push(("plus_address", "1"));
    let page = format!("/admin/filas/{q}/email");
    assert_eq!(admin.post(&page, &f).await.status, 303);
    admin.get(&page).await.has(&["Responder para um endereço com +conversa"]);
    conv::send(&app.state, &ana, c, "Pode mandar a foto?").await.unwrap();
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 1);
    let got = dc.messages(CUSTOMER).await;
    let m = mail_parser::MessageParser::default().parse(got[0].as_bytes()).unwrap();
    let reply_to = m.reply_to().and_then(|r| r.first()).and_then(|a| a.address()).unwrap().to_string();
    assert!(reply_to.starts_with(&format!("suporte+c{c}-")) && reply_to.ends_with("@empresa.com.br"), "{reply_to}");
    // The customer answers that address with a new subject and no thread
    // headers: it still joins the conversation.
    dc.deliver(DESK, &email(CUSTOMER, &reply_to, "Foto", "f1@exemplo.com.br", "", "Aqui está.")).await;
    assert_eq!(sync(&app, q).await.stored, 1);
    assert_eq!(
        scalar(&app, format!("SELECT count(*) FROM messages WHERE conversation_id = {c} AND kind = 'in'")).await,
        2
    );
    // A forged signature does not.
    let forged = format!("suporte+c{c}-0000000000@empresa.com.br");
    dc.deliver(DESK, &email(CUSTOMER, &forged, "Outra", "f2@exemplo.com.br", "", "Oi")).await;
    sync(&app, q).await;
    assert_eq!(
        scalar(&app, format!("SELECT count(*) FROM messages WHERE conversation_id = {c} AND kind = 'in'")).await,
        2
    );
}
