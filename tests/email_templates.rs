//! Modelos HTML de e-mail (issue 13, seed 004 "Cadastrar modelos HTML para
//! envio de e-mail", seed 000 "Escolha o modelo de email"): the admin's
//! register (sanitised, placeholders checked, one default, previews in a
//! locked frame), the default template wrapping every reply that reaches
//! the customer's mailbox, another or none chosen by the agent, a template's
//! subject naming a conversation an agent starts, CC and BCC on a reply, and
//! the e-mail activity that starts its conversation with its template.

mod common;

use atende::channels::email::deliver;
use atende::domain::users::Role;
use common::mail::*;
use common::{Client, TestApp};

fn parse(raw: &str) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default().parse(raw.as_bytes()).unwrap()
}

async fn new_template<'a>(admin: &mut Client<'a>, fields: &[(&str, &str)]) -> common::Resp {
    admin.get("/admin/modelos-email/novo").await;
    admin.post("/admin/modelos-email/novo", fields).await
}

#[tokio::test]
async fn the_register_sanitises_checks_placeholders_keeps_one_default_and_previews_in_a_locked_frame() {
    let app = TestApp::new().await;
    let mut admin = app.admin().await;
    // A fresh install has a default template that wraps replies.
    let r = admin.get("/admin/modelos-email").await;
    assert_eq!(r.status, 200);
    r.has(&["Modelos HTML de e-mail", "Padrão", "padrão"]);
    assert!(admin.get("/admin").await.body.contains("/admin/modelos-email"), "on the admin index");

    // Bad input: an unknown placeholder, a body without {{conteudo}}, a
    // subject with a line break — each says why and stores nothing.
    let before = app.count("email_templates").await;
    let r = new_template(&mut admin, &[("name", "X"), ("html", "<p>{{nome}} {{conteudo}}</p>"), ("active", "1")]).await;
    assert_eq!(r.status, 422);
    r.has(&["marcador desconhecido"]);
    let r = new_template(&mut admin, &[("name", "X"), ("html", "<p>Olá</p>"), ("active", "1")]).await;
    assert_eq!(r.status, 422);
    r.has(&["O corpo precisa de {{conteudo}}"]);
    let r = new_template(&mut admin, &[("name", "Padrão"), ("html", "{{conteudo}}"), ("active", "1")]).await;
    assert_eq!(r.status, 422, "the name is taken");
    assert_eq!(app.count("email_templates").await, before);

    // Scripts, frames, forms and handlers are dropped when saved; inline
    // styles stay. Made the default, it takes the mark from "Padrão".
    let html = "<script>alert(1)</script><div style=\"color:#0a5\" onclick=\"x()\">Olá {{cliente.nome}},</div>\
                <iframe src=\"https://evil.example\"></iframe><form action=\"/x\"><input name=q></form>\
                {{conteudo}}<p>{{empresa}} · {{agente}} · nº {{protocolo}}</p>";
    let r = new_template(
        &mut admin,
        &[
            ("name", "Loja"),
            ("subject", "Seu pedido {{protocolo}}"),
            ("html", html),
            ("is_default", "1"),
            ("active", "1"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id: i64 = r.location().split('/').nth(3).unwrap().split('?').next().unwrap().parse().unwrap();
    let stored = text(&app, format!("SELECT html FROM email_templates WHERE id = {id}")).await;
    assert!(!stored.contains("<script") && !stored.contains("onclick") && !stored.contains("iframe"), "{stored}");
    assert!(!stored.contains("<form") && !stored.contains("<input"), "{stored}");
    assert!(stored.contains("color:#0a5") && stored.contains("{{conteudo}}"), "{stored}");
    assert_eq!(scalar(&app, "SELECT count(*) FROM email_templates WHERE is_default = 1".into()).await, 1);
    assert_eq!(scalar(&app, format!("SELECT is_default FROM email_templates WHERE id = {id}")).await, 1);
    assert_eq!(app.audits("email.template_saved").await, 1);

    // The preview fills sample values in a document no script can run in.
    let p = admin.get(&format!("/admin/modelos-email/{id}/previa")).await;
    assert_eq!(p.status, 200);
    p.has(&["Maria Souza", "Ana Admin", "nº 1234", "Seu pedido 1234"]).lacks(&["<script", "{{"]);
    let csp = p.headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("sandbox"), "{csp}");
    assert_eq!(p.headers.get("x-frame-options").unwrap(), "SAMEORIGIN");
    let page = admin.get(&format!("/admin/modelos-email/{id}")).await;
    page.has(&["iframe", "name=\"tpl-preview\"", "sandbox=", "formtarget=\"tpl-preview\""]);
    // What is typed is previewed before saving; a broken one says why.
    let p = admin
        .post("/admin/modelos-email/previa", &[("subject", ""), ("html", "<h1>Oi {{cliente.nome}}</h1>{{conteudo}}")])
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    p.has(&["<h1>Oi Maria Souza</h1>", "Seu pedido foi enviado"]);
    let p = admin.post("/admin/modelos-email/previa", &[("html", "<p>{{x}}</p>")]).await;
    assert_eq!(p.status, 422);
    p.has(&["Corrija o modelo"]);

    // An inactive template cannot be the default.
    let r = admin
        .post(&format!("/admin/modelos-email/{id}"), &[("name", "Loja"), ("html", "{{conteudo}}"), ("is_default", "1")])
        .await;
    assert_eq!(r.status, 422);
    r.has(&["O modelo padrão precisa estar ativo"]);

    // Agents have no access to the register, its pages or its previews.
    let t = app.team("Vendas").await;
    app.user("ana@x.com", Role::Agent, &[t]).await;
    let mut ana = app.login("ana@x.com").await;
    for path in
        ["/admin/modelos-email", &format!("/admin/modelos-email/{id}"), &format!("/admin/modelos-email/{id}/previa")]
    {
        let r = ana.get(path).await;
        assert!(r.status == 403 || r.status == 404, "{path}: {}", r.status);
        r.lacks(&["Loja", "Seu pedido"]);
    }
    let r = ana.post("/admin/modelos-email/previa", &[("html", "{{conteudo}}")]).await;
    assert!(r.status == 403 || r.status == 404, "{}", r.status);
}

#[tokio::test]
async fn the_default_template_wraps_a_reply_another_or_none_can_be_chosen_and_copies_reach_their_people() {
    let dc = Dovecot::start();
    let sink = SmtpSink::start(dc.port).await;
    let app = TestApp::new().await;
    let (_q, c, _ana) = served(&app, &dc, &sink, "", "Oi.").await;
    let mut admin = app.login("admin@empresa.com").await;
    let r = new_template(
        &mut admin,
        &[
            ("name", "Promoção"),
            ("html", "<h2 style=\"color:#c00\">Ofertas {{empresa}}</h2>{{conteudo}}"),
            ("active", "1"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let promo = scalar(&app, "SELECT id FROM email_templates WHERE name = 'Promoção'".into()).await;

    let mut ana = app.login("ana@x.com").await;
    let page = ana.get(&format!("/atendimentos/{c}")).await;
    page.has(&[
        "id=\"mail-extras\"",
        "name=\"cc\"",
        "name=\"bcc\"",
        "name=\"modelo_email\"",
        "Padrão: Padrão",
        "Promoção",
    ]);

    // 1. The default template, with a person added in copy and one in blind copy.
    let r = ana
        .post(
            &format!("/atendimentos/{c}/mensagens"),
            &[
                ("text", "Pode trazer na loja.\nAté logo."),
                ("cc", "outra@exemplo.com.br"),
                ("bcc", "gerente@empresa.com.br"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 1);
    let got = dc.messages(CUSTOMER).await;
    let m = parse(&got[0]);
    let html = m.body_html(0).unwrap().to_string();
    assert!(html.contains("Pode trazer na loja.<br>"), "{html}");
    assert!(html.contains(&format!("Atendimento nº {c}")), "the default template's footer: {html}");
    assert!(m.cc().is_some_and(|cc| cc.contains(OTHER)));
    assert!(!got[0].to_lowercase().contains("gerente@"), "a blind copy is in no header: {}", got[0]);
    let taken = sink.taken.lock().unwrap().last().cloned().unwrap();
    assert!(taken.to.contains(&"gerente@empresa.com.br".to_string()), "{:?}", taken.to);
    assert_eq!(dc.messages(OTHER).await.len(), 1, "the copy reached its person");
    // The person added in copy is kept on the conversation.
    ana.get(&format!("/atendimentos/{c}")).await.has(&["Em cópia nesta conversa:", OTHER]);

    // 2. Another template, chosen for this reply; the copy is kept, the blind one is not.
    let r = ana
        .post(
            &format!("/atendimentos/{c}/mensagens"),
            &[("text", "Temos novidades."), ("modelo_email", &promo.to_string())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 1);
    let got = dc.messages(CUSTOMER).await;
    let m = parse(&got[1]);
    let html = m.body_html(0).unwrap().to_string();
    assert!(html.contains("Ofertas Minha empresa"), "{html}");
    assert!(html.contains("color:#c00") && html.contains("Temos novidades."), "{html}");
    assert!(!html.contains("Atendimento nº"), "not the default: {html}");
    assert!(m.cc().is_some_and(|cc| cc.contains(OTHER)), "the kept copy");
    let taken = sink.taken.lock().unwrap().last().cloned().unwrap();
    assert!(!taken.to.iter().any(|t| t.starts_with("gerente@")), "{:?}", taken.to);

    // 3. No template: the plain wrapper.
    ana.post(&format!("/atendimentos/{c}/mensagens"), &[("text", "Só texto."), ("modelo_email", "0")]).await;
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 1);
    let got = dc.messages(CUSTOMER).await;
    let html = parse(&got[2]).body_html(0).unwrap().to_string();
    assert!(html.contains("Só texto.") && !html.contains("Atendimento nº") && !html.contains("Ofertas"), "{html}");

    // Bad input: an address that is not one, a header injection, an
    // unknown template — a clear message and nothing written or sent.
    let msgs = scalar(&app, format!("SELECT count(*) FROM messages WHERE conversation_id = {c}")).await;
    for (field, value, says) in [
        ("cc", "fulano@", "endereço inválido em Cc ou Cco"),
        ("bcc", "a@b.com\r\nBcc: x@y.com", "endereço inválido em Cc ou Cco"),
        ("modelo_email", "999", "não existe ou foi desativado"),
    ] {
        let r = ana.post(&format!("/atendimentos/{c}/mensagens"), &[("text", "Oi"), (field, value)]).await;
        assert_eq!(r.status, 422, "{field}: {}", r.body);
        r.has(&[says]);
    }
    assert_eq!(scalar(&app, format!("SELECT count(*) FROM messages WHERE conversation_id = {c}")).await, msgs);
    assert_eq!(scalar(&app, "SELECT count(*) FROM outbox WHERE state = 'pending'".into()).await, 0);
    // A deactivated template is refused too.
    exec(&app, format!("UPDATE email_templates SET active = 0 WHERE id = {promo}")).await;
    let r = ana
        .post(&format!("/atendimentos/{c}/mensagens"), &[("text", "Oi"), ("modelo_email", &promo.to_string())])
        .await;
    assert_eq!(r.status, 422);
}

#[tokio::test]
async fn an_email_activity_starts_its_conversation_with_its_template_whose_subject_names_it() {
    let dc = Dovecot::start();
    let sink = SmtpSink::start(dc.port).await;
    let app = TestApp::new().await;
    let (q, _admin) = mailbox(&app, &dc, sink.port).await;
    let mut admin = app.login("admin@empresa.com").await;
    let r = new_template(
        &mut admin,
        &[
            ("name", "Lembrete"),
            ("subject", "Lembrete da sua consulta, {{cliente.nome}}"),
            ("html", "<p>Olá {{cliente.nome}},</p>{{conteudo}}<p>Protocolo {{protocolo}}</p>"),
            ("active", "1"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let tid = scalar(&app, "SELECT id FROM email_templates WHERE name = 'Lembrete'".into()).await;
    let contact = app
        .state
        .db
        .write(|c| {
            c.execute("INSERT INTO contacts (name, email, created_at, updated_at) VALUES ('Carla Dias', 'cliente@exemplo.com.br', 0, 0)", [])?;
            Ok(c.last_insert_rowid())
        })
        .await
        .unwrap();

    // The e-mail activity names its template ("Escolha o modelo de email").
    let form = admin.get(&format!("/tarefas/nova?contato={contact}")).await;
    form.has(&["name=\"email_template_id\"", "Lembrete"]);
    let r = admin
        .post(
            "/tarefas",
            &[
                ("kind", "email"),
                ("title", "Lembrar a consulta"),
                ("due_date", "2026-12-02"),
                ("due_time", "10:00"),
                ("assign", "me"),
                ("contact_id", &contact.to_string()),
                ("email_template_id", &tid.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let task = scalar(&app, "SELECT id FROM tasks".into()).await;
    assert_eq!(scalar(&app, format!("SELECT email_template_id FROM tasks WHERE id = {task}")).await, tid);
    admin.get(&format!("/tarefas/{task}")).await.has(&["id=\"task-template\"", "Lembrete"]);
    // An unknown template is refused on the form.
    let r = admin
        .post(
            "/tarefas",
            &[
                ("kind", "email"),
                ("title", "Outra"),
                ("due_date", "2026-12-02"),
                ("due_time", "10:00"),
                ("assign", "me"),
                ("email_template_id", "999"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(app.count("tasks").await, 1);

    // Iniciar opens "Iniciar conversa" for the contact with the template chosen.
    let r = admin.post(&format!("/tarefas/{task}/iniciar"), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), format!("/atendimentos/novo?contato={contact}&modelo_email={tid}"));
    let page = admin.get(r.location()).await;
    page.has(&["id=\"outbound-mail\"", &format!("<option value=\"{tid}\" selected>Lembrete</option>")]);
    let r = admin
        .post(
            "/atendimentos/novo",
            &[
                ("contato", &contact.to_string()),
                ("queue_id", &q.to_string()),
                ("text", "Sua consulta é amanhã às 10h."),
                ("modelo_email", &tid.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let c: i64 = r.location().rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(deliver::run(&app.state).await.unwrap().sent, 1);
    let got = dc.messages(CUSTOMER).await;
    let m = parse(&got[0]);
    assert_eq!(m.subject(), Some(format!("Lembrete da sua consulta, Carla Dias [#{c}]").as_str()));
    let html = m.body_html(0).unwrap().to_string();
    assert!(html.contains("Olá Carla Dias,") && html.contains(&format!("Protocolo {c}")), "{html}");
    assert!(m.body_text(0).unwrap().contains("Sua consulta é amanhã"), "the text part is the agent's words");
    // The conversation carries the template's subject, and the customer's
    // reply to it joins it.
    let subject = text(&app, format!("SELECT subject FROM conversations WHERE id = {c}")).await;
    assert_eq!(subject, "Lembrete da sua consulta, Carla Dias");
    let ours = m.message_id().unwrap().to_string();
    let answer = email(
        CUSTOMER,
        DESK,
        &format!("Re: Lembrete da sua consulta, Carla Dias [#{c}]"),
        "r1@exemplo.com.br",
        &format!("In-Reply-To: <{ours}>\n"),
        "Confirmado!",
    );
    dc.deliver(DESK, &answer).await;
    assert_eq!(sync(&app, q).await.stored, 1);
    assert_eq!(
        scalar(&app, format!("SELECT count(*) FROM messages WHERE conversation_id = {c} AND kind = 'in'")).await,
        1
    );
    // Copies and templates belong to e-mail: another channel refuses them.
    let web = app.queue("Chat", scalar(&app, "SELECT id FROM teams LIMIT 1".into()).await, 5, 30).await;
    let r = admin
        .post(
            "/atendimentos/novo",
            &[("name", "Rui"), ("email", "rui@exemplo.com.br"), ("queue_id", &web.to_string()), ("cc", "a@b.com")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    r.has(&["só valem em conversas por e-mail"]);
}
