//! Inside the conversation: internal notes, conversation tags, the closing
//! script and the widget's end notice, scheduled reopening, outbound
//! conversations and quick replies — through the real routes.

mod common;

use atende::domain::conversations::{self as conv, VisitorMessage};
use atende::domain::registers::{self, Value};
use atende::domain::users::{Role, User};
use common::TestApp;

async fn user(app: &TestApp, id: i64) -> User {
    app.state.db.read(move |c| atende::domain::users::get(c, id)).await.unwrap().unwrap()
}

/// A visitor token as the widget makes them (43 URL-safe characters).
fn token(who: &str) -> String {
    format!("{who:a<43}")
}

/// Team Suporte with queue Site (closing script as given) and agent Ana,
/// Pronto; a visitor conversation accepted by Ana. Returns (team, queue, ana, conversation).
async fn setup(app: &TestApp, script: bool) -> (i64, i64, User, i64) {
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    if script {
        app.state
            .db
            .write(move |c| Ok(c.execute("UPDATE queues SET closing_script_required = 1 WHERE id = ?1", [q])?))
            .await
            .unwrap();
    }
    let id = app.user("ana@x.com", Role::Agent, &[t]).await;
    let ana = user(app, id).await;
    conv::set_connected(&app.state, &ana, q, true).await.unwrap();
    conv::set_ready(&app.state, &ana, true).await.unwrap();
    let m =
        VisitorMessage {
            name: "Maria Conceição".into(), text: "Quero saber da cobrança".into(), ..Default::default()
        };
    let c = conv::visitor_message(&app.state, q, atende::domain::auth::token_hash(&token("maria")), m).await.unwrap().0;
    conv::accept(&app.state, &ana, c).await.unwrap();
    (t, q, ana, c)
}

async fn widget(app: &TestApp, path: &str) -> serde_json::Value {
    let r = warp::test::request().method("GET").path(path).reply(&app.routes).await;
    assert_eq!(r.status(), 200, "{}", String::from_utf8_lossy(r.body()));
    serde_json::from_slice(r.body()).unwrap()
}

async fn register(app: &TestApp, slug: &str, v: Vec<Value>) -> i64 {
    registers::create(&app.state.db, registers::spec(slug).unwrap(), v, app.actor()).await.unwrap()
}

#[tokio::test]
async fn internal_notes_reach_agents_only() {
    let app = TestApp::new().await;
    let (_, q, _, c) = setup(&app, false).await;
    let mut ana = app.login("ana@x.com").await;
    let page = format!("/atendimentos/{c}");
    let send = format!("{page}/mensagens");
    assert_eq!(ana.post(&send, &[("text", "Vou verificar, Maria.")]).await.status, 303);
    let xss = "<script>alert('nota')</script> cliente pediu desconto";
    assert_eq!(ana.post(&send, &[("mode", "note"), ("text", xss)]).await.status, 303);
    // Bad input: empty note, unknown mode — a message, nothing stored.
    let before = app.count("messages").await;
    let r = ana.post(&send, &[("mode", "note"), ("text", "  ")]).await;
    assert_eq!(r.status, 422);
    r.has(&["mensagem"]);
    assert_eq!(ana.post(&send, &[("mode", "shout"), ("text", "oi")]).await.status, 422);
    assert_eq!(app.count("messages").await, before);

    let r = ana.get(&page).await;
    r.has(&["msg-note", "Nota interna", "&lt;script&gt;alert('nota')&lt;/script&gt;", "Vou verificar, Maria."]);
    r.lacks(&["<script>alert('nota')"]);
    // The visitor sees the reply, never the note — neither in the messages
    // nor as a count.
    let v = widget(&app, &format!("/api/widget/{q}/messages?token={}&after=0", token("maria"))).await;
    let text = v.to_string();
    assert!(text.contains("Vou verificar, Maria."), "{text}");
    assert!(!text.contains("desconto") && !text.contains("nota"), "{text}");
    // A supervisor-less agent of another team cannot add a note: 404.
    let t2 = app.team("Vendas").await;
    app.user("bia@x.com", Role::Agent, &[t2]).await;
    let mut bia = app.login("bia@x.com").await;
    assert_eq!(bia.post(&send, &[("mode", "note"), ("text", "intrusa")]).await.status, 404);
    // A teammate who does not hold the conversation may still add a note (not a reply).
    let t_id = app.state.db.read(move |db| Ok(conv::load(db, c)?.unwrap().team_id)).await.unwrap();
    app.user("caio@x.com", Role::Agent, &[t_id]).await;
    let mut caio = app.login("caio@x.com").await;
    caio.get(&page).await.has(&["Nota interna: só os atendentes veem"]);
    assert_eq!(caio.post(&send, &[("mode", "note"), ("text", "Cliente antigo")]).await.status, 303);
    let r = caio.post(&send, &[("text", "resposta indevida")]).await;
    assert!(r.location().contains("err=conv.not_yours"), "{}", r.location());
}

#[tokio::test]
async fn conversation_tags_are_added_and_removed() {
    let app = TestApp::new().await;
    let (_, _, _, c) = setup(&app, false).await;
    let t = |s: &str| Value::Text(s.into());
    let urgent = register(&app, "etiquetas", vec![t("Urgente <b>"), t("conversation")]).await;
    let vip = register(&app, "etiquetas", vec![t("VIP"), t("contact")]).await;
    let mut ana = app.login("ana@x.com").await;
    let page = format!("/atendimentos/{c}");
    ana.get(&page).await.has(&["Adicionar etiqueta", "Urgente &lt;b&gt;"]).lacks(&[">VIP<"]);
    let r = ana.post(&format!("{page}/etiquetas"), &[("tag_id", &urgent.to_string())]).await;
    assert_eq!(r.status, 303);
    let tags = app.state.db.read(move |db| conv::tags(db, c)).await.unwrap();
    assert_eq!(tags, vec![(urgent, "Urgente <b>".to_string())]);
    // A contact tag or a made-up id is refused with a notice.
    let r = ana.post(&format!("{page}/etiquetas"), &[("tag_id", &vip.to_string())]).await;
    assert!(r.location().ends_with("err=val.invalid_choice"), "{}", r.location());
    ana.get(r.location()).await.has(&["Escolha uma opção da lista."]);
    assert_eq!(ana.post(&format!("{page}/etiquetas"), &[("tag_id", "x")]).await.status, 303);
    assert_eq!(app.state.db.read(move |db| conv::tags(db, c)).await.unwrap().len(), 1);
    // Another team's agent: 404.
    let t2 = app.team("Vendas").await;
    app.user("bia@x.com", Role::Agent, &[t2]).await;
    let mut bia = app.login("bia@x.com").await;
    assert_eq!(bia.post(&format!("{page}/etiquetas/{urgent}/remover"), &[]).await.status, 404);
    assert_eq!(ana.post(&format!("{page}/etiquetas/{urgent}/remover"), &[]).await.status, 303);
    assert!(app.state.db.read(move |db| conv::tags(db, c)).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_closing_script_is_asked_when_the_queue_requires_it() {
    let app = TestApp::new().await;
    let (_, q, ana_u, c) = setup(&app, true).await;
    let t = |s: &str| Value::Text(s.into());
    let reason = register(&app, "encerramentos", vec![t("Dúvida de cobrança")]).await;
    let mut ana = app.login("ana@x.com").await;
    let page = format!("/atendimentos/{c}");
    // The page carries the dialog with the reasons.
    ana.get(&page).await.has(&["closing-dialog", "Script de encerramento", "Dúvida de cobrança", "Resolvido?"]);
    // Finishing without answers shows the script; nothing changes.
    let r = ana.post(&format!("{page}/finalizar"), &[]).await;
    assert_eq!(r.status, 200);
    r.has(&["Script de encerramento", "Motivo do contato"]);
    // Half an answer: a clear message, still open.
    let r = ana.post(&format!("{page}/finalizar"), &[("reason_id", &reason.to_string())]).await;
    assert_eq!(r.status, 422);
    r.has(&["Informe o motivo do contato e se foi resolvido."]);
    let r = ana.post(&format!("{page}/finalizar"), &[("reason_id", "999"), ("resolved", "1")]).await;
    assert_eq!(r.status, 422);
    let status = |app: &TestApp| {
        let st = app.state.clone();
        async move { st.db.read(move |db| Ok(conv::load(db, c)?.unwrap())).await.unwrap() }
    };
    assert_eq!(status(&app).await.status, "assigned");
    let r = ana.post(&format!("{page}/finalizar"), &[("reason_id", &reason.to_string()), ("resolved", "0")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let row = status(&app).await;
    assert_eq!(
        (row.status.as_str(), row.resolved, row.closing_reason.as_deref()),
        ("finished", Some(false), Some("Dúvida de cobrança"))
    );
    ana.get(&page).await.has(&["Dúvida de cobrança", "Não"]);
    // The visitor's widget shows the end, with the queue's own text when set.
    let v = widget(&app, &format!("/api/widget/{q}/messages?token={}&after=0", token("maria"))).await;
    assert_eq!(v["status"], "finished");
    let cfg = widget(&app, &format!("/api/widget/{q}/config")).await;
    assert_eq!(cfg["end_text"], "Este atendimento foi encerrado. Escreva de novo para iniciar outro.");
    app.state
        .db
        .write(move |db| Ok(db.execute("UPDATE queues SET end_text = 'Obrigado! Até logo.' WHERE id = ?1", [q])?))
        .await
        .unwrap();
    assert_eq!(widget(&app, &format!("/api/widget/{q}/config")).await["end_text"], "Obrigado! Até logo.");
    // Archiving never asks the script.
    conv::reopen(&app.state, &ana_u, c).await.unwrap();
    let r = ana.post(&format!("{page}/arquivar"), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(status(&app).await.status, "archived");
}

#[tokio::test]
async fn a_finished_conversation_reopens_at_the_scheduled_time() {
    let app = TestApp::new().await;
    let (_, _, ana_u, c) = setup(&app, false).await;
    let mut ana = app.login("ana@x.com").await;
    let page = format!("/atendimentos/{c}");
    // Only a closed conversation can be scheduled.
    let r = ana.post(&format!("{page}/reabrir-em"), &[("quando", "2099-01-01T09:00")]).await;
    assert!(r.location().ends_with("err=conv.not_closed"), "{}", r.location());
    assert_eq!(ana.post(&format!("{page}/finalizar"), &[]).await.status, 303);
    ana.get(&page).await.has(&["Reabrir em…", "Agendar reabertura"]);
    for (bad, key) in
        [("2001-01-01T09:00", "conv.reopen_past"), ("amanhã", "conv.reopen_bad_time"), ("", "conv.reopen_bad_time")]
    {
        let r = ana.post(&format!("{page}/reabrir-em"), &[("quando", bad)]).await;
        assert!(r.location().ends_with(&format!("err={key}")), "{bad}: {}", r.location());
    }
    ana.get(&format!("{page}?err=conv.reopen_past")).await.has(&["Escolha uma data e hora no futuro."]);
    // In two hours, business time.
    let tz = app.state.settings().tz();
    let when = atende::domain::tasks::format_local(app.state.now() + 7200, &tz);
    assert_eq!(ana.post(&format!("{page}/reabrir-em"), &[("quando", &when)]).await.status, 303);
    ana.get(&page).await.has(&["Reabertura agendada para", "Cancelar reabertura"]);
    assert_eq!(conv::reopen_due(&app.state).await.unwrap(), 0);
    // Cancel, then schedule again.
    assert_eq!(ana.post(&format!("{page}/reabrir-em"), &[("cancelar", "1")]).await.status, 303);
    assert!(app.state.db.read(move |db| Ok(conv::load(db, c)?.unwrap())).await.unwrap().reopen_at.is_none());
    ana.post(&format!("{page}/reabrir-em"), &[("quando", &when)]).await;
    app.state.clock.advance(7300);
    assert_eq!(conv::reopen_due(&app.state).await.unwrap(), 1);
    let row = app.state.db.read(move |db| Ok(conv::load(db, c)?.unwrap())).await.unwrap();
    assert_eq!((row.status.as_str(), row.agent_id, row.reopen_at), ("assigned", Some(ana_u.id), None));
    ana.get(&page).await.has(&["Conversa reaberta no horário agendado"]);
    assert_eq!(conv::reopen_due(&app.state).await.unwrap(), 0, "fires once");
    // When the agent is gone it goes back to the queue.
    ana.post(&format!("{page}/finalizar"), &[]).await;
    ana.post(
        &format!("{page}/reabrir-em"),
        &[("quando", &atende::domain::tasks::format_local(app.state.now() + 600, &tz))],
    )
    .await;
    app.state
        .db
        .write(move |db| Ok(db.execute("UPDATE users SET active = 0 WHERE id = ?1", [ana_u.id])?))
        .await
        .unwrap();
    app.state.clock.advance(700);
    assert_eq!(conv::reopen_due(&app.state).await.unwrap(), 1);
    let row = app.state.db.read(move |db| Ok(conv::load(db, c)?.unwrap())).await.unwrap();
    assert_eq!((row.status.as_str(), row.agent_id), ("queued", None));
}

#[tokio::test]
async fn outbound_conversations_need_the_permission_and_open_assigned_to_me() {
    let app = TestApp::new().await;
    let (t, q, ana_u, c) = setup(&app, false).await;
    let q2 = app.queue("WhatsApp Vendas", app.team("Vendas").await, 5, 30).await;
    let mut ana = app.login("ana@x.com").await;
    // Without "open new conversations": no button, and 403.
    ana.get("/atendimentos").await.lacks(&["start-conversation"]);
    assert_eq!(ana.get("/atendimentos/novo").await.status, 403);
    assert_eq!(
        ana.post("/atendimentos/novo", &[("phone", "11 98765-4321"), ("queue_id", &q.to_string())]).await.status,
        403
    );
    app.grant(ana_u.id, "open_conversations").await;
    ana.get("/atendimentos").await.has(&["start-conversation", "Iniciar conversa"]);
    let r = ana.get("/atendimentos/novo").await;
    r.has(&["Suporte · Site"]).lacks(&["WhatsApp Vendas"]);
    // Bad input: a clear message each, nothing stored.
    let convs = app.count("conversations").await;
    for (fields, msg) in [
        (vec![("queue_id", q.to_string())], "Informe o telefone ou o e-mail do contato."),
        (vec![("phone", "123".into()), ("queue_id", q.to_string())], "Telefone inválido"),
        (vec![("email", "x@".into()), ("queue_id", q.to_string())], "E-mail inválido."),
        (
            vec![("phone", "11 98765-4321".into()), ("queue_id", q2.to_string())],
            "Escolha uma fila de uma das suas equipes.",
        ),
        (
            vec![("phone", "11 98765-4321".into()), ("queue_id", "abc".into())],
            "Escolha uma fila de uma das suas equipes.",
        ),
    ] {
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = ana.post("/atendimentos/novo", &refs).await;
        assert_eq!(r.status, 422, "{fields:?}");
        r.has(&[msg]);
    }
    assert_eq!(app.count("conversations").await, convs);
    // A typed phone: a new contact, the conversation assigned to me, my first message.
    let r = ana
        .post(
            "/atendimentos/novo",
            &[
                ("phone", "(11) 98765-4321"),
                ("name", "João <b>"),
                ("queue_id", &q.to_string()),
                ("text", "Olá João, seu pedido chegou."),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id: i64 = r.location().trim_start_matches("/atendimentos/").parse().unwrap();
    let row = app.state.db.read(move |db| Ok(conv::load(db, id)?.unwrap())).await.unwrap();
    assert_eq!((row.status.as_str(), row.agent_id, row.started_by), ("assigned", Some(ana_u.id), Some(ana_u.id)));
    assert_eq!(row.contact_phone, "+5511987654321");
    ana.get(r.location()).await.has(&[
        "Olá João, seu pedido chegou.",
        "Conversa iniciada pelo atendente",
        "João &lt;b&gt;",
    ]);
    // The same number again: the same contact, which already has an open conversation there.
    let r = ana.post("/atendimentos/novo", &[("phone", "+55 11 98765 4321"), ("queue_id", &q.to_string())]).await;
    assert_eq!(r.status, 422);
    r.has(&["já tem um atendimento aberto nesta fila"]);
    // From a contact I may see: its page offers it.
    let maria = app.state.db.read(move |db| Ok(conv::load(db, c)?.unwrap().contact_id)).await.unwrap();
    ana.get(&format!("/contatos/{maria}")).await.has(&["contact-start"]);
    ana.get(&format!("/atendimentos/novo?contato={maria}")).await.has(&["Maria Conceição"]);
    // Another team's contact: 404.
    let other = app
        .state
        .db
        .write(|db| {
            db.execute("INSERT INTO contacts (name, created_at) VALUES ('Fulano', 0)", [])?;
            Ok(db.last_insert_rowid())
        })
        .await
        .unwrap();
    assert_eq!(ana.get(&format!("/atendimentos/novo?contato={other}")).await.status, 404);
    assert_eq!(
        ana.post("/atendimentos/novo", &[("contato", &other.to_string()), ("queue_id", &q.to_string())]).await.status,
        404
    );
    let _ = t;
}

#[tokio::test]
async fn quick_replies_personal_and_global_with_variables() {
    let app = TestApp::new().await;
    let (_, _, _, c) = setup(&app, false).await;
    let mut admin = app.admin().await;
    let mut ana = app.login("ana@x.com").await;
    ana.get("/respostas").await.has(&["Mensagens rápidas", "Nenhuma mensagem rápida ainda."]).lacks(&["Global (para"]);
    let r = ana
        .post("/respostas", &[("shortcut", "/ola"), ("body", "Olá {{nome}}, aqui é {{agente}} da {{empresa}}! <i>")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // Bad input, duplicates, and a global one without the permission.
    for (fields, status, msg) in [
        (vec![("shortcut", "com espaço"), ("body", "x")], 422, "Use só letras"),
        (vec![("shortcut", "OLA"), ("body", "x")], 422, "Já existe uma mensagem rápida com este atalho."),
        (vec![("shortcut", "vazio"), ("body", "  ")], 422, "Campo obrigatório."),
        (vec![("shortcut", "geral"), ("body", "x"), ("global", "1")], 403, ""),
    ] {
        let r = ana.post("/respostas", &fields).await;
        assert_eq!(r.status, status, "{fields:?}");
        r.has(&[msg]);
    }
    assert_eq!(app.count("quick_replies").await, 1);
    // The admin adds a global one (audited); the agent sees it, cannot delete it.
    admin.get("/respostas").await.has(&["Global (para todos os atendentes)"]);
    assert_eq!(
        admin
            .post("/respostas", &[("shortcut", "prazo"), ("body", "Entregamos em 2 dias."), ("global", "1")])
            .await
            .status,
        303
    );
    assert_eq!(app.audits("quick_reply.create").await, 1);
    // On the conversation page the variables are filled for this contact.
    let r = ana.get(&format!("/atendimentos/{c}")).await;
    r.has(&[
        "data-shortcut=\"ola\"",
        "data-body=\"Olá Maria Conceição, aqui é Nome ana@x.com da Minha empresa! &lt;i&gt;\"",
        "data-shortcut=\"prazo\"",
    ]);
    let ids: Vec<(i64, Option<i64>)> = app
        .state
        .db
        .read(|db| {
            let mut s = db.prepare("SELECT id, owner_id FROM quick_replies ORDER BY id")?;
            let v = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
            Ok(v)
        })
        .await
        .unwrap();
    let (mine, global) = (ids[0].0, ids[1].0);
    assert_eq!(ana.post(&format!("/respostas/{global}/excluir"), &[]).await.status, 403);
    assert_eq!(admin.post(&format!("/respostas/{mine}/excluir"), &[]).await.status, 404, "someone else's is not there");
    // From the composer ("+"): the answer is the list item, filled.
    let r = ana
        .post_raw(
            "/respostas",
            &common::form_body(&[
                ("_csrf", ana.csrf.clone().unwrap().as_str()),
                ("shortcut", "tchau"),
                ("body", "Até mais, {{nome}}!"),
                ("conversa", &c.to_string()),
            ]),
            &[("x-requested-with", "fetch")],
        )
        .await;
    assert_eq!(r.status, 200);
    r.has(&["data-body=\"Até mais, Maria Conceição!\""]);
    assert_eq!(ana.post(&format!("/respostas/{mine}/excluir"), &[]).await.status, 303);
    ana.get("/respostas").await.lacks(&["/ola"]).has(&["/prazo", "/tchau"]);
    assert_eq!(admin.post(&format!("/respostas/{global}/excluir"), &[]).await.status, 303);
    assert_eq!(app.audits("quick_reply.delete").await, 1);
}

#[test]
fn quick_reply_variables() {
    use atende::domain::quick_replies::fill;
    assert_eq!(fill("{{nome}} {{agente}} {{empresa}} {{x}}", "A", "B", "C"), "A B C {{x}}");
}
