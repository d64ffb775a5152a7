//! Forms that do what they show (issue 11, section 5): the task's one due
//! control and honest notifications, file names and PDF text kept whole, the
//! time zone select, the real data folder, pt-BR labels on the audit and
//! scheduler pages, and WhatsApp / e-mail queues that say they are not
//! connected and refuse to send.

mod common;

use atende::domain::contacts::Target;
use atende::domain::conversations::{self as conv, VisitorMessage};
use atende::domain::tasks::{self, Assign, Form};
use atende::domain::users::{Role, User};
use atende::i18n::Locale;
use common::TestApp;

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
    let m = VisitorMessage { name: "Maria".into(), text: "Oi, preciso de ajuda".into(), ..Default::default() };
    let c = conv::visitor_message(&app.state, q, atende::domain::auth::token_hash(&token("maria")), m).await.unwrap().0;
    conv::accept(&app.state, &ana, c).await.unwrap();
    (q, ana, c)
}

async fn due_of(app: &TestApp, id: i64) -> i64 {
    app.state
        .db
        .read(move |db| Ok(db.query_row("SELECT due_at FROM tasks WHERE id = ?1", [id], |r| r.get::<_, i64>(0))?))
        .await
        .unwrap()
}

/// `value="..."` of the input named `name` in a page.
fn value_of(body: &str, name: &str) -> String {
    let at = body.find(&format!("name=\"{name}\"")).unwrap_or_else(|| panic!("no input {name}"));
    let tag_start = body[..at].rfind('<').unwrap();
    let tag_end = at + body[at..].find('>').unwrap();
    let tag = &body[tag_start..tag_end];
    let v = tag.find("value=\"").map(|i| &tag[i + 7..]).unwrap_or("");
    v[..v.find('"').unwrap_or(0)].to_string()
}

#[tokio::test]
async fn the_task_form_has_one_due_control_and_saves_what_was_typed() {
    let app = TestApp::new().await;
    app.admin().await;
    let t = app.team("Suporte").await;
    app.user("ana@x.com", Role::Agent, &[t]).await;
    let mut ana = app.login("ana@x.com").await;
    let tz = app.state.settings().tz();
    let now = app.state.now();

    let r = ana.get("/tarefas/nova").await;
    assert_eq!(r.status, 200);
    // One control: a date and a time input, prefilled with "in 1 h"; the quick
    // picks are buttons carrying the values they fill in; no second field.
    let (d1, t1) = tasks::due_fields(now + 3600, &tz);
    assert_eq!((value_of(&r.body, "due_date"), value_of(&r.body, "due_time")), (d1.clone(), t1.clone()));
    let (dt, tt) = tasks::due_fields(tasks::quick_due("tomorrow", now, &tz).unwrap(), &tz);
    assert_eq!(tt, "09:00");
    r.has(&[
        "type=\"date\"",
        "type=\"time\"",
        &format!("data-pick=\"tomorrow\" data-date=\"{dt}\" data-time=\"09:00\""),
        "data-pick=\"nextweek\"",
        "Amanhã às 9:00",
        "/js/forms.js",
        "America/Sao_Paulo",
    ])
    .lacks(&["name=\"quick\"", "name=\"due\"", "datetime-local"]);
    // "Exibir notificação" is on by default.
    let at = r.body.find("name=\"notify\"").unwrap();
    let tag = &r.body[r.body[..at].rfind('<').unwrap()..at + r.body[at..].find('>').unwrap()];
    assert!(tag.contains("checked"), "{tag}");
    // forms.js is served at its hashed URL; other pages do not load it.
    let url = atende::assets::url("js/forms.js");
    assert!(url.starts_with("/assets/") && !url.starts_with("/assets/0/"), "{url}");
    assert_eq!(ana.get(&url).await.status, 200);
    ana.get("/tarefas").await.lacks(&["forms.js"]);

    // What was typed is what is saved, even if an old client also sends a pick.
    let r = ana
        .post(
            "/tarefas",
            &[
                ("kind", "call"),
                ("title", "Ligar"),
                ("due_date", "2026-12-24"),
                ("due_time", "15:45"),
                ("quick", "1h"),
                ("assign", "me"),
                ("notify", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id: i64 = r.location().trim_start_matches("/tarefas/").parse().unwrap();
    assert_eq!(due_of(&app, id).await, tasks::parse_local("2026-12-24T15:45", &tz).unwrap());
    ana.get(&format!("/tarefas/{id}")).await.has(&["24/12/2026 15:45"]);
    // The edit form shows the saved date and time in the same two inputs.
    let r = ana.get(&format!("/tarefas/{id}/editar")).await;
    assert_eq!((value_of(&r.body, "due_date"), value_of(&r.body, "due_time")), ("2026-12-24".into(), "15:45".into()));

    // Bad or half-typed values: a clear message, nothing stored.
    for (date, time, msg) in [
        ("2026-12-24", "", "Informe a hora."),
        ("", "10:00", "Informe a data."),
        ("24/12/2026", "10:00", "Data inválida."),
        ("2026-12-24", "25:99", "Hora inválida."),
    ] {
        let r = ana
            .post(
                "/tarefas",
                &[("kind", "call"), ("title", "X"), ("due_date", date), ("due_time", time), ("assign", "me")],
            )
            .await;
        assert_eq!(r.status, 422, "{date} {time}");
        r.has(&[msg]);
    }
    assert_eq!(app.count("tasks").await, 1);
}

#[tokio::test]
async fn notifications_say_what_happened_and_follow_an_edited_due() {
    let app = TestApp::new().await;
    let (_, ana_u, c) = setup(&app).await;
    let tz = app.state.settings().tz();
    let now = app.state.now();
    let mut ana = app.login("ana@x.com").await;
    let (d, t) = tasks::due_fields(now + 60, &tz);
    let r = ana
        .post(
            "/tarefas",
            &[
                ("kind", "call"),
                ("title", "Ligar para Maria"),
                ("due_date", &d),
                ("due_time", &t),
                ("assign", "me"),
                ("notify", "1"),
                ("conversation_id", &c.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id: i64 =
        app.state.db.read(|db| Ok(db.query_row("SELECT id FROM tasks", [], |r| r.get::<_, i64>(0))?)).await.unwrap();
    let due1 = due_of(&app, id).await;
    // On time: "Tarefa vence agora", with the due time.
    app.state.clock.advance(61);
    assert_eq!(tasks::fire_due(&app.state).await.unwrap(), 1);
    let first = format!("Ligar para Maria · {}", tasks::due_text(due1, &tz));
    ana.get("/notificacoes").await.has(&["<strong>Tarefa vence agora</strong>", &first]).lacks(&["Tarefa no prazo"]);
    ana.get("/barra").await.has(&[&format!("Tarefa vence agora: {first}")]);

    // Edit the due time: the conversation says so with the new time, and the
    // notification about the old time goes away.
    let new_due = tasks::parse_local("2026-12-30T10:15", &tz).unwrap();
    let r = ana
        .post(
            &format!("/tarefas/{id}"),
            &[
                ("kind", "call"),
                ("title", "Ligar para Maria"),
                ("due_date", "2026-12-30"),
                ("due_time", "10:15"),
                ("assign", "me"),
                ("notify", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(due_of(&app, id).await, new_due);
    ana.get(&format!("/atendimentos/{c}")).await.has(&["Prazo da tarefa alterado · Prazo 30/12/2026 10:15"]);
    ana.get("/notificacoes").await.lacks(&["Ligar para Maria"]);
    // Saving without changing the time leaves the conversation alone.
    let notes = |app: &TestApp| {
        let st = app.state.clone();
        async move {
            st.db
                .read(move |db| {
                    Ok(db.query_row(
                        "SELECT count(*) FROM messages WHERE conversation_id = ?1 AND body LIKE 'Prazo da tarefa alterado%'",
                        [c],
                        |r| r.get::<_, i64>(0),
                    )?)
                })
                .await
                .unwrap()
        }
    };
    assert_eq!(notes(&app).await, 1);
    tasks::update(
        &app.state,
        &ana_u,
        Locale::PtBr,
        id,
        Form {
            kind: "call".into(),
            title: "Ligar para Maria!".into(),
            description: String::new(),
            due_at: new_due,
            assign: Assign::Me,
            conversation_id: None,
            contact_id: None,
            notify: true,
            email_template: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(notes(&app).await, 1);
    // At the new time it fires again, with the new time.
    app.state.clock.advance(new_due - app.state.now());
    assert_eq!(tasks::fire_due(&app.state).await.unwrap(), 1);
    // (Weeks went by: the session expired, log in again.)
    let mut ana = app.login("ana@x.com").await;
    ana.get("/barra").await.has(&["Tarefa vence agora: Ligar para Maria! · 30/12/2026 10:15"]);

    // Fired late (the server was down, or created already past): "atrasada".
    let late = tasks::create(
        &app.state,
        &ana_u,
        Locale::PtBr,
        Form {
            kind: "email".into(),
            title: "Responder e-mail".into(),
            description: String::new(),
            due_at: app.state.now() - 3600,
            assign: Assign::Me,
            conversation_id: None,
            contact_id: None,
            notify: false,
            email_template: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(tasks::fire_due(&app.state).await.unwrap(), 1);
    let text = format!("Tarefa atrasada: Responder e-mail · {}", tasks::due_text(due_of(&app, late).await, &tz));
    ana.get("/barra").await.has(&[&text]);
}

#[tokio::test]
async fn an_uploaded_file_keeps_its_quotes_and_is_served_safely() {
    let app = TestApp::new().await;
    let (_, _, c) = setup(&app).await;
    let mut ana = app.login("ana@x.com").await;
    // Browsers send `"` in a file name as %22 (HTML form-data encoding).
    let r = ana
        .post_multipart(
            &format!("/atendimentos/{c}/anexos"),
            &[("text", "")],
            Some(("relatório %22final%22 100%.pdf", b"%PDF-1.4 x")),
            true,
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let (aid, name): (i64, String) = app
        .state
        .db
        .read(|db| Ok(db.query_row("SELECT id, name FROM attachments", [], |r| Ok((r.get(0)?, r.get(1)?)))?))
        .await
        .unwrap();
    assert_eq!(name, "relatório \"final\" 100%.pdf");
    ana.get(&format!("/atendimentos/{c}")).await.has(&["relatório &quot;final&quot; 100%.pdf"]).lacks(&["%22"]);
    let r = ana.get(&format!("/anexos/{aid}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers["content-disposition"],
        "attachment; filename=\"relat_rio__final__100_.pdf\"; filename*=UTF-8''relat%C3%B3rio%20%22final%22%20100%25.pdf"
    );
}

fn pdftotext(pdf: &[u8]) -> String {
    use std::io::Write;
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8", f.path().to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is required: tests/run.sh installs it");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn the_pdf_shows_a_visible_mark_where_an_emoji_was() {
    let app = TestApp::new().await;
    let (_, ana_u, c) = setup(&app).await;
    conv::send(&app.state, &ana_u, c, "Obrigada 😀 pela paciência 👍🏽, até logo 👨‍👩‍👧").await.unwrap();
    let mut ana = app.login("ana@x.com").await;
    let pdf = ana.get(&format!("/atendimentos/{c}/pdf")).await.bytes;
    let text = pdftotext(&pdf);
    assert!(text.contains("Obrigada □ pela paciência □, até logo □"), "{text}");
    assert!(!text.contains('😀'), "{text}");
}

#[tokio::test]
async fn the_time_zone_is_a_select_with_brazil_first_and_unknown_zones_change_nothing() {
    let app = TestApp::new().await;
    let mut admin = app.admin().await;
    let r = admin.get("/admin/configuracoes").await;
    assert_eq!(r.status, 200);
    r.has(&[
        "<select id=\"f-time_zone\" name=\"time_zone\"",
        "Brasília / São Paulo",
        "Fernando de Noronha",
        "Eirunepé",
    ]);
    let body = &r.body;
    let pos = |s: &str| body.find(s).unwrap_or_else(|| panic!("{s} missing"));
    let order = [
        "value=\"America/Sao_Paulo\"",
        "value=\"America/Manaus\"",
        "value=\"America/Belem\"",
        "value=\"America/Eirunepe\"",
        "value=\"Africa/Abidjan\"",
        "value=\"Europe/Lisbon\"",
    ];
    for w in order.windows(2) {
        assert!(pos(w[0]) < pos(w[1]), "{} before {}", w[0], w[1]);
    }
    // Brazil's zones are not repeated in the second group.
    assert_eq!(body.matches("value=\"America/Manaus\"").count(), 1);
    assert!(body.contains("value=\"America/Sao_Paulo\" selected"));
    assert!(!body.contains("name=\"time_zone\" type=\"text\""));

    let form = |tz: &'static str| {
        let mut f = vec![
            ("business_name", "Loja Aurora"),
            ("time_zone", tz),
            ("locale", "pt-BR"),
            ("attach_file_mb", "10"),
            ("attach_conversation_mb", "100"),
        ];
        for d in ["0", "1", "2", "3", "4", "5", "6"] {
            let (o, c): (&'static str, &'static str) = match d {
                "0" => ("opens0", "closes0"),
                "1" => ("opens1", "closes1"),
                "2" => ("opens2", "closes2"),
                "3" => ("opens3", "closes3"),
                "4" => ("opens4", "closes4"),
                "5" => ("opens5", "closes5"),
                _ => ("opens6", "closes6"),
            };
            f.push((o, "08:00"));
            f.push((c, "18:00"));
        }
        f
    };
    let r = admin.post("/admin/configuracoes", &form("Marte/Olympus_Mons")).await;
    assert_eq!(r.status, 422);
    r.has(&["Fuso horário desconhecido."]);
    assert_eq!(app.state.settings().time_zone, "America/Sao_Paulo");
    assert_eq!(app.audits("settings.update").await, 0);
    let r = admin.post("/admin/configuracoes", &form("America/Manaus")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(app.state.settings().time_zone, "America/Manaus");
    admin.get("/admin/configuracoes").await.has(&["value=\"America/Manaus\" selected"]);
    // The audit page labels what changed, never the stored keys.
    admin
        .get("/admin/auditoria")
        .await
        .has(&["Configurações", "Fuso horário: America/Manaus", "Idioma padrão: Português (Brasil)"])
        .lacks(&["time_zone=", "business_name="]);
}

#[tokio::test]
async fn the_backup_page_shows_the_real_data_folder() {
    let app = TestApp::new().await;
    let mut admin = app.admin().await;
    let data = std::fs::canonicalize(app.dir.path()).unwrap();
    let r = admin.get("/admin/backup").await;
    assert_eq!(r.status, 200);
    r.has(&["Pasta de dados", &data.display().to_string(), &data.join("backups").display().to_string()])
        .lacks(&["atende-data/backups"]);
}

#[tokio::test]
async fn whatsapp_and_email_queues_say_they_are_not_connected_and_refuse_to_send() {
    let app = TestApp::new().await;
    let mut admin = app.admin().await;
    let (q, ana_u, c) = setup(&app).await;
    let t = app
        .state
        .db
        .read(move |db| Ok(db.query_row("SELECT team_id FROM queues WHERE id = ?1", [q], |r| r.get::<_, i64>(0))?))
        .await
        .unwrap();
    // A WhatsApp queue made on the admin page.
    let r = admin
        .post(
            "/admin/filas",
            &[
                ("name", "WhatsApp Vendas"),
                ("channel", "whatsapp"),
                ("team_id", &t.to_string()),
                ("offer_timeout_secs", "30"),
                ("agent_capacity", "5"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let wa: i64 = app
        .state
        .db
        .read(|db| Ok(db.query_row("SELECT id FROM queues WHERE channel = 'whatsapp'", [], |r| r.get(0))?))
        .await
        .unwrap();
    // Until its number is set up, a WhatsApp queue says it is disconnected
    // and agents cannot send into it (issue 12 connects it).
    assert_eq!(r.location(), format!("/admin/filas/{wa}/whatsapp"));
    admin
        .get(&format!("/admin/filas/{wa}"))
        .await
        .has(&["desconectado: número não configurado", "Configurar o número"]);
    admin.get(&format!("/admin/filas/{q}")).await.lacks(&["Canal não conectado"]);
    // The audit page: "Canal: WhatsApp", not channel=whatsapp.
    admin
        .get("/admin/auditoria")
        .await
        .has(&["Filas: WhatsApp Vendas", "Canal: WhatsApp"])
        .lacks(&["channel=", "queues:"]);
    // The domain answers for the desk.
    let connected = |id: i64| {
        let st = app.state.clone();
        async move { st.db.read(move |db| conv::queue_channel_connected(db, id)).await.unwrap() }
    };
    assert!(connected(q).await);
    assert!(!connected(wa).await);
    // E-mail is a channel of this build; a queue of it is connected once its
    // mailbox can send (below, one without a mailbox is not).
    assert_eq!(conv::not_connected_reason("email"), None);
    assert_eq!(conv::not_connected_reason("webchat"), None);

    // A conversation whose queue is (now) an e-mail queue: replies and files
    // are refused with a clear message; internal notes still work.
    let mut ana = app.login("ana@x.com").await;
    app.state
        .db
        .write(move |db| Ok(db.execute("UPDATE queues SET channel = 'email' WHERE id = ?1", [q])?))
        .await
        .unwrap();
    let before = app.count("messages").await;
    let r = ana.post(&format!("/atendimentos/{c}/mensagens"), &[("text", "Olá, Maria")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location().ends_with("err=conv.channel_not_connected"), "{}", r.location());
    ana.get(r.location()).await.has(&["O canal desta fila ainda não está conectado"]);
    let r = ana
        .post_multipart(&format!("/atendimentos/{c}/anexos"), &[("text", "")], Some(("a.pdf", b"%PDF-1.4 x")), true)
        .await;
    assert!(r.location().ends_with("err=conv.channel_not_connected"), "{} {}", r.status, r.location());
    assert_eq!(app.count("messages").await, before);
    assert_eq!(app.count("attachments").await, 0);
    conv::note(&app.state, &ana_u, c, "Cliente prefere telefone").await.unwrap();
    assert_eq!(app.count("messages").await, before + 1);
    // Starting a conversation into it is refused too.
    app.grant(ana_u.id, "open_conversations").await;
    let ana_u = user(&app, ana_u.id).await;
    let target = Target::Typed { name: "João".into(), phone: "+5511999990000".into(), email: String::new() };
    let e =
        conv::start_outbound(&app.state, &ana_u, target, wa, Some("Oi".into()), Default::default(), Default::default())
            .await
            .unwrap_err();
    assert!(matches!(e, atende::error::AppError::Conflict("conv.channel_not_connected")), "{e:?}");
}
