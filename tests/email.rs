//! The e-mail channel (issue 13), receiving side, against a real Dovecot on
//! 127.0.0.1: connecting a mailbox (passwords never shown back), the sync by
//! UIDVALIDITY and UID (nothing twice across re-reads, a changed UIDVALIDITY
//! re-read without duplicates), threading (Message-IDs, the subject token,
//! only from a participant), the reopen window, automatic mail, hostile
//! HTML, attachments and inline images, a wrong password.

mod common;

use atende::channels::email::{self as mail, SyncReport};
use common::TestApp;
use common::mail::*;

#[tokio::test]
async fn the_mailbox_is_set_from_its_queue_page_and_its_passwords_never_come_back() {
    let dc = Dovecot::start();
    let sink = SmtpSink::start(dc.port).await;
    let smtp = sink.port.to_string();
    let app = TestApp::new().await;
    let (q, mut admin) = mailbox(&app, &dc, sink.port).await;
    let page = format!("/admin/filas/{q}/email");
    let shown = admin.get(&page).await;
    assert_eq!(shown.status, 200);
    shown.has(&["Caixa de e-mail", "configurada, não testada", "definido", "Recebimento (IMAP)"]).lacks(&[MAIL_PW]);
    // Bad input: each field says what is wrong, nothing changes.
    let port = dc.port.to_string();
    let mut bad = form(&port, "", &smtp);
    for (k, v) in bad.iter_mut() {
        match *k {
            "imap_host" => *v = "imap com espaço",
            "imap_port" => *v = "70000",
            "imap_tls" => *v = "ssl3",
            "from_address" => *v = "não é e-mail",
            "poll_secs" => *v = "1",
            "folder" => *v = "\"INBOX\"",
            _ => {}
        }
    }
    let r = admin.post(&page, &bad).await;
    assert_eq!(r.status, 422);
    r.has(&[
        "Informe o endereço do servidor",
        "A porta é um número de 1 a 65535.",
        "Escolha TLS, STARTTLS ou sem criptografia.",
        "O intervalo de leitura vai de 10 a 3600 segundos.",
        "Informe a pasta",
    ]);
    assert_eq!(text(&app, format!("SELECT imap_host FROM email_mailboxes WHERE queue_id = {q}")).await, "127.0.0.1");
    // An empty password keeps the stored one; the audit names no secret.
    let r = admin.post(&page, &form(&port, "", &smtp)).await;
    assert_eq!(r.status, 303);
    assert_eq!(text(&app, format!("SELECT imap_password FROM email_mailboxes WHERE queue_id = {q}")).await, MAIL_PW);
    admin.get("/admin/auditoria").await.has(&["Caixa de e-mail salva"]).lacks(&[MAIL_PW]);
    // The test reads the folder and the page says the mailbox is connected.
    let r = admin.post(&format!("{page}/testar"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    admin.get(r.location()).await.has(&["conectada", "Conexão testada"]);
    // The test reaches the SMTP server too: one that is not there is named.
    admin.post(&page, &form(&port, "", "1")).await;
    admin.post(&format!("{page}/testar"), &[]).await;
    admin.get(&page).await.has(&["erro no servidor de e-mail", "SMTP: "]);
    admin.post(&page, &form(&port, "", &smtp)).await;
    admin.post(&format!("{page}/testar"), &[]).await;
    // The queue's register page leads here; agents cannot open it.
    admin.get(&format!("/admin/filas/{q}")).await.has(&["Configurar a caixa de e-mail", "conectada"]);
    let t = scalar(&app, "SELECT id FROM teams LIMIT 1".into()).await;
    app.user("bia@x.com", atende::domain::users::Role::Agent, &[t]).await;
    let mut bia = app.login("bia@x.com").await;
    let r = bia.get(&page).await;
    assert!(r.status == 403 || r.status == 404, "{}", r.status);
    r.lacks(&["127.0.0.1", DESK]);
}

#[tokio::test]
async fn a_wrong_password_shows_on_the_page_and_stores_nothing() {
    let dc = Dovecot::start();
    let app = TestApp::new().await;
    let (q, mut admin) = mailbox(&app, &dc, 2525).await;
    let port = dc.port.to_string();
    admin.post(&format!("/admin/filas/{q}/email"), &form(&port, "senha-errada", "2525")).await;
    dc.deliver(DESK, &email(CUSTOMER, DESK, "Oi", "a1@exemplo.com.br", "", "Olá")).await;
    let r = sync(&app, q).await;
    assert_eq!(r.problem.as_ref().map(|p| p.code), Some("auth"), "{r:?} {}", dc.log());
    assert_eq!(app.count("conversations").await, 0);
    admin
        .get(&format!("/admin/filas/{q}/email"))
        .await
        .has(&["desconectada: usuário ou senha recusados"])
        .lacks(&["senha-errada"]);
    // A server that is not there: "sem conexão".
    admin.post(&format!("/admin/filas/{q}/email"), &form("1", MAIL_PW, "2525")).await;
    assert_eq!(sync(&app, q).await.problem.map(|p| p.code), Some("unreachable"));
    admin.get(&format!("/admin/filas/{q}/email")).await.has(&["sem conexão com o servidor"]);
}

#[tokio::test]
async fn customer_mail_opens_conversations_and_no_reread_makes_a_duplicate() {
    let dc = Dovecot::start();
    let app = TestApp::new().await;
    let (q, mut admin) = mailbox(&app, &dc, 2525).await;
    dc.deliver(
        DESK,
        &email(
            "José da Silva <Cliente@Exemplo.com.br>",
            DESK,
            "Pedido atrasado",
            "p1@exemplo.com.br",
            "",
            "Meu pedido não chegou.",
        ),
    )
    .await;
    dc.deliver(DESK, &email(OTHER, DESK, "Orçamento", "o1@exemplo.com.br", "", "Quanto custa?")).await;
    let r = sync(&app, q).await;
    assert_eq!((r.stored, r.duplicates, r.problem.clone()), (2, 0, None), "{}", dc.log());
    assert_eq!(
        scalar(&app, format!("SELECT count(*) FROM conversations WHERE queue_id = {q} AND channel = 'email'")).await,
        2
    );
    // The contact is found by address, named from the sender, and the
    // conversation is titled by the subject.
    assert_eq!(
        text(&app, format!("SELECT k.name || '|' || k.email || '|' || c.subject FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.queue_id = {q} ORDER BY c.id LIMIT 1")).await,
        "José da Silva|cliente@exemplo.com.br|Pedido atrasado"
    );
    // Read again: nothing new. A changed UIDVALIDITY reads the folder again,
    // and the Message-IDs keep it from storing anything twice.
    assert_eq!(sync(&app, q).await, SyncReport::default());
    exec(&app, format!("UPDATE email_mailboxes SET uidvalidity = 1, last_uid = 0 WHERE queue_id = {q}")).await;
    let r = sync(&app, q).await;
    assert_eq!((r.stored, r.duplicates), (0, 2));
    assert_ne!(scalar(&app, format!("SELECT uidvalidity FROM email_mailboxes WHERE queue_id = {q}")).await, 1);
    assert_eq!(scalar(&app, format!("SELECT last_uid FROM email_mailboxes WHERE queue_id = {q}")).await, 2);
    assert_eq!(
        app.count("messages").await - scalar(&app, "SELECT count(*) FROM messages WHERE kind = 'system'".into()).await,
        2
    );
    // More than a batch: all of them, in order, the position at the last.
    for i in 0..(mail::BATCH + 5) {
        dc.deliver(DESK, &email(OTHER, DESK, &format!("Lote {i}"), &format!("lote{i}@exemplo.com.br"), "", "x")).await;
    }
    let r = sync(&app, q).await;
    assert_eq!(r.stored, mail::BATCH + 5);
    assert_eq!(
        scalar(&app, format!("SELECT last_uid FROM email_mailboxes WHERE queue_id = {q}")).await,
        2 + mail::BATCH as i64 + 5
    );
    // A position lost behind what was stored (a restore, a crash before the
    // position could move) re-reads without duplicates.
    exec(&app, format!("UPDATE email_mailboxes SET last_uid = 10 WHERE queue_id = {q}")).await;
    let r = sync(&app, q).await;
    assert_eq!((r.stored, r.duplicates), (0, mail::BATCH - 3));
    // The desk shows the conversation with the customer's text.
    let c = scalar(&app, format!("SELECT min(id) FROM conversations WHERE queue_id = {q}")).await;
    admin.get(&format!("/atendimentos/{c}")).await.has(&["Meu pedido não chegou.", "José da Silva"]);
}

#[tokio::test]
async fn replies_thread_by_message_id_or_token_and_only_from_a_participant() {
    let dc = Dovecot::start();
    let app = TestApp::new().await;
    let (q, mut admin) = mailbox(&app, &dc, 2525).await;
    dc.deliver(
        DESK,
        &email(CUSTOMER, DESK, "Troca de produto", "t1@exemplo.com.br", "Cc: marido@exemplo.com.br\n", "Quero trocar."),
    )
    .await;
    sync(&app, q).await;
    let c = scalar(&app, format!("SELECT id FROM conversations WHERE queue_id = {q}")).await;
    // A reply naming the first message in In-Reply-To joins it.
    let irt = "In-Reply-To: <t1@exemplo.com.br>\nReferences: <t1@exemplo.com.br>\n";
    dc.deliver(DESK, &email(CUSTOMER, DESK, "Re: Troca de produto", "t2@exemplo.com.br", irt, "Segue a nota.")).await;
    // Someone in copy may answer too.
    let cc_reply = email(
        "marido@exemplo.com.br",
        DESK,
        "Re: Troca",
        "t3@exemplo.com.br",
        "In-Reply-To: <t2@exemplo.com.br>\n",
        "Eu também.",
    );
    dc.deliver(DESK, &cc_reply).await;
    // An Outlook-style reply with no References, only the token in the subject.
    let token = format!("RE: Troca de produto [#{c}]");
    let quoted = "Alguma novidade?\n\nEm ter., 1 de dez. de 2026 10:00, Suporte escreveu:\n> Recebemos seu pedido.";
    dc.deliver(DESK, &email(CUSTOMER, DESK, &token, "t4@exemplo.com.br", "", quoted)).await;
    let r = sync(&app, q).await;
    assert_eq!(r.stored, 3);
    assert_eq!(scalar(&app, format!("SELECT count(*) FROM conversations WHERE queue_id = {q}")).await, 1);
    assert_eq!(
        scalar(&app, format!("SELECT count(*) FROM messages WHERE conversation_id = {c} AND kind = 'in'")).await,
        4
    );
    // The quoted history is folded away under the new text.
    let page = admin.get(&format!("/atendimentos/{c}")).await;
    page.has(&["Alguma novidade?</div><details class=\"email-quoted\"><summary>Mostrar mensagens anteriores"]);
    // A forwarded thread from a stranger cannot hijack it: a new conversation
    // that says which one it resembled.
    let spoof =
        email(OTHER, DESK, &format!("Fwd: Troca de produto [#{c}]"), "s1@exemplo.com.br", irt, "Me passa os dados.");
    dc.deliver(DESK, &spoof).await;
    sync(&app, q).await;
    assert_eq!(
        scalar(&app, format!("SELECT count(*) FROM messages WHERE conversation_id = {c} AND kind = 'in'")).await,
        4
    );
    let other = scalar(&app, format!("SELECT max(id) FROM conversations WHERE queue_id = {q}")).await;
    assert_ne!(other, c);
    let line = text(
        &app,
        format!("SELECT body FROM messages WHERE conversation_id = {other} AND kind = 'system' AND body LIKE '%#{c}'"),
    )
    .await;
    assert!(line.contains("não participa"), "{line}");
    assert_eq!(text(&app, format!("SELECT subject FROM conversations WHERE id = {other}")).await, "Troca de produto");
}

#[tokio::test]
async fn a_reply_reopens_a_finished_conversation_within_the_window_and_opens_a_new_one_after() {
    let dc = Dovecot::start();
    let app = TestApp::new().await;
    let (q, _admin) = mailbox(&app, &dc, 2525).await;
    dc.deliver(DESK, &email(CUSTOMER, DESK, "Boleto", "b1@exemplo.com.br", "", "Não recebi o boleto.")).await;
    sync(&app, q).await;
    let c = scalar(&app, format!("SELECT id FROM conversations WHERE queue_id = {q}")).await;
    let finish = |at: i64| {
        format!("UPDATE conversations SET status = 'finished', agent_id = NULL, closed_at = {at} WHERE id = {c}")
    };
    let now = app.state.now();
    exec(&app, finish(now)).await;
    app.state.clock.advance(2 * 86_400);
    let reply = email(
        CUSTOMER,
        DESK,
        "Re: Boleto",
        "b2@exemplo.com.br",
        "In-Reply-To: <b1@exemplo.com.br>\n",
        "Ainda não chegou.",
    );
    dc.deliver(DESK, &reply).await;
    sync(&app, q).await;
    assert_eq!(text(&app, format!("SELECT status FROM conversations WHERE id = {c}")).await, "queued");
    assert_eq!(scalar(&app, format!("SELECT count(*) FROM messages WHERE conversation_id = {c} AND body = 'Reaberta pela resposta do cliente por e-mail'")).await, 0);
    assert_eq!(
        scalar(
            &app,
            format!("SELECT count(*) FROM messages WHERE conversation_id = {c} AND body = 'mail.ev.reopened'")
        )
        .await,
        1
    );
    // Finished ten days ago (the window is seven): a new conversation.
    exec(&app, finish(app.state.now())).await;
    app.state.clock.advance(10 * 86_400);
    let late =
        email(CUSTOMER, DESK, "Re: Boleto", "b3@exemplo.com.br", "In-Reply-To: <b2@exemplo.com.br>\n", "E agora?");
    dc.deliver(DESK, &late).await;
    sync(&app, q).await;
    assert_eq!(text(&app, format!("SELECT status FROM conversations WHERE id = {c}")).await, "finished");
    let new = scalar(&app, format!("SELECT max(id) FROM conversations WHERE queue_id = {q}")).await;
    assert_ne!(new, c);
    let line = text(
        &app,
        format!("SELECT body FROM messages WHERE conversation_id = {new} AND kind = 'system' AND body LIKE '%#{c}'"),
    )
    .await;
    assert!(line.contains("prazo de reabertura"), "{line}");
}

#[tokio::test]
async fn automatic_mail_hostile_html_and_files_are_kept_safely() {
    let dc = Dovecot::start();
    let app = TestApp::new().await;
    let (q, mut admin) = mailbox(&app, &dc, 2525).await;
    dc.deliver(
        DESK,
        &email(CUSTOMER, DESK, "Ausente", "auto1@exemplo.com.br", "Auto-Submitted: auto-replied\n", "Estou de férias."),
    )
    .await;
    let png = b"\x89PNG\r\n\x1a\n0000000000000000";
    let b64 = |b: &[u8]| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(b)
    };
    let html = "<p onclick=\"steal()\">Olá <b>equipe</b></p><script>alert(1)</script>\
                <img src=\"cid:logo@exemplo\"><img src=\"https://rastreio.example/p.gif\">\
                <iframe src=\"https://e.vil\"></iframe><form action=\"https://e.vil\"><input name=senha></form>";
    let raw = format!(
        "From: {CUSTOMER}\nTo: {DESK}\nSubject: Com anexos\nMessage-ID: <h1@exemplo.com.br>\nMIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=\"M\"\n\n--M\nContent-Type: multipart/related; boundary=\"R\"\n\n\
         --R\nContent-Type: multipart/alternative; boundary=\"A\"\n\n--A\nContent-Type: text/plain; charset=utf-8\n\n\
         Olá equipe (texto)\n--A\nContent-Type: text/html; charset=utf-8\n\n{html}\n--A--\n\
         --R\nContent-Type: image/png\nContent-ID: <logo@exemplo>\nContent-Transfer-Encoding: base64\n\n{}\n--R--\n\
         --M\nContent-Type: image/png; name=\"nota.png\"\nContent-Disposition: attachment; filename=\"nota.png\"\n\
         Content-Transfer-Encoding: base64\n\n{}\n\
         --M\nContent-Type: application/x-msdownload; name=\"virus.exe\"\nContent-Disposition: attachment; filename=\"virus.exe\"\n\
         Content-Transfer-Encoding: base64\n\n{}\n--M--\n",
        b64(png),
        b64(png),
        b64(b"MZ....")
    );
    dc.deliver(DESK, &raw).await;
    let r = sync(&app, q).await;
    assert_eq!(r.stored, 2, "{r:?}");
    assert_eq!(
        scalar(&app, "SELECT automated FROM email_messages WHERE rfc_id = 'auto1@exemplo.com.br'".into()).await,
        1
    );
    assert_eq!(scalar(&app, "SELECT automated FROM email_messages WHERE rfc_id = 'h1@exemplo.com.br'".into()).await, 0);
    let kept = text(&app, "SELECT html FROM email_messages WHERE rfc_id = 'h1@exemplo.com.br'".into()).await;
    for bad in ["<script", "onclick", "<iframe", "<form", "<input", "cid:"] {
        assert!(!kept.contains(bad), "{bad} in {kept}");
    }
    assert!(kept.contains("<b>equipe</b>"), "{kept}");
    let logo = scalar(&app, "SELECT id FROM attachments WHERE name = 'anexo-1.png'".into()).await;
    assert!(kept.contains(&format!("src=\"/anexos/{logo}\"")), "the inline image points to the stored file: {kept}");
    assert_eq!(
        scalar(&app, "SELECT remote_images FROM email_messages WHERE rfc_id = 'h1@exemplo.com.br'".into()).await,
        1
    );
    assert_eq!(scalar(&app, "SELECT count(*) FROM attachments WHERE name = 'nota.png'".into()).await, 1);
    assert_eq!(scalar(&app, "SELECT count(*) FROM attachments WHERE name = 'virus.exe'".into()).await, 0);
    let refused = text(
        &app,
        "SELECT body FROM messages WHERE kind = 'system' AND body LIKE 'Anexo do e-mail não guardado%'".into(),
    )
    .await;
    assert!(refused.contains("virus.exe"), "{refused}");
    // Search and the PDF use the text part.
    assert_eq!(scalar(&app, "SELECT count(*) FROM messages WHERE body = 'Olá equipe (texto)'".into()).await, 1);
    // Shown in a sandboxed frame of its own: web images blocked until asked,
    // never to another team.
    let mid = scalar(&app, "SELECT message_id FROM email_messages WHERE rfc_id = 'h1@exemplo.com.br'".into()).await;
    let c = scalar(&app, format!("SELECT conversation_id FROM messages WHERE id = {mid}")).await;
    admin
        .get(&format!("/atendimentos/{c}"))
        .await
        .has(&[
            "class=\"email-frame\"",
            "sandbox=\"allow-popups allow-popups-to-escape-sandbox\"",
            "Mostrar imagens",
            "Versão em texto",
        ])
        .lacks(&["<script>alert(1)"]);
    let frame = admin.get(&format!("/atendimentos/{c}/email/{mid}")).await;
    assert_eq!(frame.status, 200);
    let csp = frame.headers.get("content-security-policy").unwrap().to_str().unwrap().to_string();
    assert!(csp.contains("img-src 'self' data:;") && csp.contains("sandbox") && !csp.contains("script-src"), "{csp}");
    assert_eq!(frame.headers.get("x-frame-options").unwrap(), "SAMEORIGIN");
    frame.has(&["<b>equipe</b>", &format!("/anexos/{logo}")]).lacks(&["<script", "onclick"]);
    let shown = admin.get(&format!("/atendimentos/{c}/email/{mid}?imagens=1")).await;
    assert!(shown.headers.get("content-security-policy").unwrap().to_str().unwrap().contains("https:"));
    let other = app.team("Outra equipe").await;
    app.user("rui@x.com", atende::domain::users::Role::Agent, &[other]).await;
    let mut rui = app.login("rui@x.com").await;
    let r = rui.get(&format!("/atendimentos/{c}/email/{mid}")).await;
    assert_eq!(r.status, 404);
    r.lacks(&["equipe</b>", "Com anexos"]);
}
