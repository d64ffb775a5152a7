//! The three-pane workspace through the real routes (seeds 000 "quadrantes",
//! 001 "minhas conversas ao lado esquerdo"): panes and the swap fragment,
//! time labels that say what they mean, counters kept at write time,
//! Finalizadas recentes, filters, + Anotação and tasks beside the
//! conversation, and the dialogs' pages without the script.

mod common;

use atende::domain::conversations::{self as conv, VisitorMessage};
use atende::domain::users::Role;
use common::TestApp;

async fn visitor(app: &TestApp, q: i64, who: &str, text: &str) -> i64 {
    let m = VisitorMessage { name: who.into(), text: text.into(), ..Default::default() };
    conv::visitor_message(&app.state, q, atende::domain::auth::token_hash(who), m).await.unwrap().0
}

async fn user(app: &TestApp, id: i64) -> atende::domain::users::User {
    app.state.db.read(move |c| atende::domain::users::get(c, id)).await.unwrap().unwrap()
}

/// The counters the home reads agree with a count over the rows.
async fn counters_agree(app: &TestApp) {
    let (bad_agents, bad_queues): (i64, i64) = app
        .state
        .db
        .read(|c| {
            let a: i64 = c.query_row(
                "SELECT count(*) FROM (
                   SELECT agent_id, count(*) AS n, sum(last_in_id > agent_read_id) AS u FROM conversations
                   WHERE status = 'assigned' GROUP BY agent_id) x
                 LEFT JOIN agent_counters k ON k.agent_id = x.agent_id
                 WHERE coalesce(k.assigned, 0) <> x.n OR coalesce(k.unread, 0) <> x.u",
                [],
                |r| r.get(0),
            )?;
            let stale: i64 = c.query_row(
                "SELECT count(*) FROM agent_counters k WHERE (k.assigned <> 0 OR k.unread <> 0) AND NOT EXISTS
                   (SELECT 1 FROM conversations c WHERE c.agent_id = k.agent_id AND c.status = 'assigned')",
                [],
                |r| r.get(0),
            )?;
            let q: i64 = c.query_row(
                "SELECT count(*) FROM queues q LEFT JOIN queue_counters k ON k.queue_id = q.id
                 WHERE coalesce(k.queued, 0) <> (SELECT count(*) FROM conversations c
                                                  WHERE c.queue_id = q.id AND c.status = 'queued')",
                [],
                |r| r.get(0),
            )?;
            Ok((a + stale, q))
        })
        .await
        .unwrap();
    assert_eq!((bad_agents, bad_queues), (0, 0), "counters drifted from the rows");
}

#[tokio::test]
async fn one_screen_with_lists_conversation_and_contact_and_a_swap_fragment() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    app.user("ana@x.com", Role::Agent, &[t]).await;
    let mut ana = app.login("ana@x.com").await;
    let c1 = visitor(&app, q, "Maria", "Minha fatura veio errada").await;
    let c2 = visitor(&app, q, "João", "Quero trocar o produto").await;
    for c in [c1, c2] {
        assert_eq!(ana.post(&format!("/atendimentos/{c}/pegar"), &[]).await.status, 303);
    }
    // The home is the workspace: lists left, nothing open yet.
    let home = ana.get("/atendimentos").await;
    home.has(&["id=\"ws-lists\"", "id=\"ws-main\"", "id=\"ws-side\"", "Escolha um atendimento à esquerda."]);
    home.has(&["Minhas conversas", "Na fila", "Finalizadas recentes", "data-conv=\"", "Quero trocar o produto"]);
    // A deep link opens the whole workspace with the conversation and its contact.
    let page = ana.get(&format!("/atendimentos/{c1}")).await;
    page.has(&["id=\"ws-lists\"", "Quero trocar o produto", "<h1>Maria", "id=\"composer\"", "id=\"contact-panel\""]);
    page.has(&["Linha do tempo", "+ Anotação", "Tarefas", "Atendimentos anteriores", "Detalhes"]);
    page.has(&["id=\"transfer\"", "id=\"finish\"", "id=\"archive\"", "transfer-dialog", "archive-dialog"]);
    // The swap fragment: only the two panes, no page chrome.
    let part = ana.get(&format!("/atendimentos/{c2}?painel=1")).await;
    assert_eq!(part.status, 200);
    part.has(&["id=\"swap\"", "data-title=\"João\"", "id=\"swap-main\"", "id=\"swap-side\"", "Quero trocar o produto"]);
    part.lacks(&["<html", "ws-lists", "Minha fatura veio errada"]);
    assert_eq!(part.headers["cache-control"], "no-store");
    // Another team's conversation: 404 for the page and the fragment, no trace.
    let other = app.team("Vendas").await;
    let qv = app.queue("Loja", other, 5, 30).await;
    let secret = visitor(&app, qv, "Cliente Secreto", "segredo comercial").await;
    for path in [format!("/atendimentos/{secret}"), format!("/atendimentos/{secret}?painel=1")] {
        let r = ana.get(&path).await;
        assert_eq!(r.status, 404, "{path}");
        r.lacks(&["Cliente Secreto", "segredo comercial"]);
    }
    ana.get("/atendimentos").await.lacks(&["Cliente Secreto"]);
}

#[tokio::test]
async fn time_labels_say_what_they_mean() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let ana_id = app.user("ana@x.com", Role::Agent, &[t]).await;
    let mut ana = app.login("ana@x.com").await;
    let c = visitor(&app, q, "Maria", "Oi").await;
    app.state.clock.advance(125);
    let r = ana.get(&format!("/atendimentos/{c}")).await;
    r.has(&["Esperando há", "02:05"]).lacks(&["Em atendimento há", "Esperou"]);
    ana.post(&format!("/atendimentos/{c}/pegar"), &[]).await;
    app.state.clock.advance(61);
    let r = ana.get(&format!("/atendimentos/{c}")).await;
    r.has(&["Esperou", "02:05", "Em atendimento há", "01:01"]).lacks(&["Esperando há"]);
    app.state.clock.advance(300);
    let ana_u = user(&app, ana_id).await;
    conv::close(&app.state, &ana_u, c, false, None).await.unwrap();
    // Duration: from entry to the end.
    let r = ana.get(&format!("/atendimentos/{c}")).await;
    r.has(&["Duração", "08:06"]).lacks(&["Esperando há", "Em atendimento há"]);
}

#[tokio::test]
async fn counters_and_previews_are_kept_at_write_time() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let q2 = app.queue("Site 2", t, 5, 30).await;
    let ana_id = app.user("ana@x.com", Role::Agent, &[t]).await;
    let bia_id = app.user("bia@x.com", Role::Agent, &[t]).await;
    let (ana, bia) = (user(&app, ana_id).await, user(&app, bia_id).await);
    let mut web = app.login("ana@x.com").await;
    let mut convs = vec![];
    for i in 0..6 {
        convs.push(visitor(&app, if i % 2 == 0 { q } else { q2 }, &format!("Cliente {i}"), "primeira").await);
    }
    counters_agree(&app).await;
    for c in &convs[..4] {
        conv::claim(&app.state, &ana, *c).await.unwrap();
    }
    counters_agree(&app).await;
    // Claimed but not opened yet: all four are unread; opening reads them.
    web.get("/atendimentos/listas").await.has(&["data-unread=\"4\""]);
    for c in &convs[..4] {
        web.get(&format!("/atendimentos/{c}")).await;
    }
    counters_agree(&app).await;
    web.get("/atendimentos/listas").await.has(&["data-unread=\"0\""]);
    // A new message makes one unread; the preview follows the newest message.
    let m = VisitorMessage {
        name: "Cliente 0".into(),
        text: "segunda mensagem 😀 com acento é".into(),
        ..Default::default()
    };
    conv::visitor_message(&app.state, q, atende::domain::auth::token_hash("Cliente 0"), m).await.unwrap();
    counters_agree(&app).await;
    let r = web.get("/atendimentos/listas").await;
    r.has(&["data-unread=\"1\"", "segunda mensagem 😀 com acento é", "class=\"dot\""]);
    // Reading clears it; a reply becomes the preview.
    web.get(&format!("/atendimentos/{}", convs[0])).await;
    counters_agree(&app).await;
    web.get("/atendimentos/listas").await.has(&["data-unread=\"0\""]);
    conv::send(&app.state, &ana, convs[1], "Já estou vendo").await.unwrap();
    web.get("/atendimentos/listas").await.has(&["Já estou vendo"]);
    // Transfers, finishing, archiving, reopening: the counters hold.
    conv::set_connected(&app.state, &bia, q, true).await.unwrap();
    conv::set_ready(&app.state, &bia, true).await.unwrap();
    conv::transfer_to_agent(&app.state, &ana, convs[2], bia.id).await.unwrap();
    counters_agree(&app).await;
    conv::transfer_to_team(&app.state, &ana, convs[3], t).await.unwrap();
    counters_agree(&app).await;
    conv::close(&app.state, &ana, convs[0], false, None).await.unwrap();
    conv::close(&app.state, &ana, convs[1], true, None).await.unwrap();
    counters_agree(&app).await;
    conv::reopen(&app.state, &ana, convs[0]).await.unwrap();
    counters_agree(&app).await;
    let home = app.state.db.read(move |c| conv::home(c, &ana, 0, &Default::default())).await.unwrap();
    let direct: i64 = app
        .state
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT count(*) FROM conversations WHERE agent_id = ?1 AND status = 'assigned'",
                [ana_id],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(home.mine_total, direct);
}

#[tokio::test]
async fn finished_recently_filters_and_bad_filters() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    let q2 = app.queue("Balcão", t, 5, 30).await;
    let ana_id = app.user("ana@x.com", Role::Agent, &[t]).await;
    let ana = user(&app, ana_id).await;
    let old = visitor(&app, q, "Antiga", "conversa de semanas atrás").await;
    conv::claim(&app.state, &ana, old).await.unwrap();
    conv::close(&app.state, &ana, old, false, None).await.unwrap();
    app.state.clock.advance(8 * 86_400);
    // A week later the session has expired: log in again.
    let mut web = app.login("ana@x.com").await;
    let recent = visitor(&app, q, "Recente", "conversa de hoje").await;
    conv::claim(&app.state, &ana, recent).await.unwrap();
    conv::close(&app.state, &ana, recent, true, None).await.unwrap();
    // The home shows the last days; the whole list has both.
    web.get("/atendimentos").await.has(&["Recente", "Ver todas as finalizadas"]).lacks(&["Antiga"]);
    web.get("/atendimentos/finalizadas").await.has(&["Recente", "Antiga"]);
    // Filters narrow every list; the lists fragment keeps them.
    let a = visitor(&app, q, "Na fila do site", "oi site").await;
    let b = visitor(&app, q2, "Na fila do balcão", "oi balcão").await;
    let tag = {
        let spec = atende::domain::registers::spec("etiquetas").unwrap();
        use atende::domain::registers::Value;
        let v = vec![Value::Text("VIP".into()), Value::Text("conversation".into())];
        atende::domain::registers::create(&app.state.db, spec, v, app.actor()).await.unwrap()
    };
    conv::set_tag(&app.state, &ana, b, tag, true).await.unwrap();
    let _ = a;
    web.get(&format!("/atendimentos?fila={q2}")).await.has(&["Na fila do balcão"]).lacks(&["Na fila do site"]);
    web.get(&format!("/atendimentos/listas?fila={q}")).await.has(&["Na fila do site"]).lacks(&["Na fila do balcão"]);
    web.get(&format!("/atendimentos?etiqueta={tag}")).await.has(&["Na fila do balcão"]).lacks(&["Na fila do site"]);
    web.get("/atendimentos?canal=whatsapp").await.lacks(&["Na fila do balcão", "Na fila do site"]);
    web.get("/atendimentos?canal=webchat").await.has(&["Na fila do balcão", "Na fila do site"]);
    for bad in ["/atendimentos?fila=abc", "/atendimentos?canal=fax", "/atendimentos/listas?etiqueta=1x"] {
        let r = web.get(bad).await;
        assert_eq!(r.status, 400, "{bad}");
        r.has(&["Filtro inválido"]);
    }
}

#[tokio::test]
async fn annotation_and_tasks_beside_the_conversation() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    app.user("ana@x.com", Role::Agent, &[t]).await;
    let mut ana = app.login("ana@x.com").await;
    let c = visitor(&app, q, "Maria", "Oi").await;
    ana.post(&format!("/atendimentos/{c}/pegar"), &[]).await;
    // + Anotação: saved on the contact's timeline, back to the conversation.
    let r = ana.post(&format!("/atendimentos/{c}/anotacoes"), &[("body", "Prefere ligação à tarde")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), format!("/atendimentos/{c}#panel-timeline"));
    ana.get(&format!("/atendimentos/{c}")).await.has(&["Prefere ligação à tarde"]);
    // Empty: a clear message, nothing stored.
    let before = app.count("contact_events").await;
    let r = ana.post(&format!("/atendimentos/{c}/anotacoes"), &[("body", "  "), ("_fetch", "1")]).await;
    assert_eq!(r.status, 422);
    r.has(&["flash-error"]);
    assert_eq!(app.count("contact_events").await, before);
    // A task from the conversation shows in the panel with its actions.
    let r = ana
        .post(
            "/tarefas",
            &[
                ("conversation_id", &c.to_string()),
                ("title", "Ligar para a Maria"),
                ("kind", "call"),
                ("quick", "1h"),
                ("assign", "me"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = ana.get(&format!("/atendimentos/{c}")).await;
    page.has(&["Ligar para a Maria", "Concluir", "/editar?conversa="]);
    let task: i64 = app.state.db.read(|db| Ok(db.query_row("SELECT id FROM tasks", [], |r| r.get(0))?)).await.unwrap();
    let r = ana.post(&format!("/tarefas/{task}/finalizar"), &[("_fetch", "1")]).await;
    assert!(r.status == 303 || r.status == 200, "{}", r.status);
    ana.get(&format!("/atendimentos/{c}")).await.has(&["Nenhuma tarefa aberta."]);
    // Another team's agent cannot annotate through this conversation.
    let other = app.team("Vendas").await;
    app.user("zeca@x.com", Role::Agent, &[other]).await;
    let mut zeca = app.login("zeca@x.com").await;
    let before = app.count("contact_events").await;
    let r = zeca.post(&format!("/atendimentos/{c}/anotacoes"), &[("body", "intruso")]).await;
    assert_eq!(r.status, 404);
    assert_eq!(app.count("contact_events").await, before);
}

#[tokio::test]
async fn dialog_pages_work_without_the_script_and_the_transfer_list_follows_availability() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    app.user("ana@x.com", Role::Agent, &[t]).await;
    let bia_id = app.user("bia@x.com", Role::Agent, &[t]).await;
    let mut ana = app.login("ana@x.com").await;
    let c = visitor(&app, q, "Maria", "Oi").await;
    ana.post(&format!("/atendimentos/{c}/pegar"), &[]).await;
    let part = ana.get(&format!("/atendimentos/{c}/transferir?parte=1")).await;
    part.has(&["Nome bia@x.com — ", "disabled"]).lacks(&["<html"]);
    // Bia becomes available: the same part now lets her be chosen.
    let bia = user(&app, bia_id).await;
    conv::set_connected(&app.state, &bia, q, true).await.unwrap();
    conv::set_ready(&app.state, &bia, true).await.unwrap();
    let part = ana.get(&format!("/atendimentos/{c}/transferir?parte=1")).await;
    assert!(part.body.contains(&format!("<option value=\"{bia_id}\">Nome bia@x.com</option>")), "{}", part.body);
    ana.get(&format!("/atendimentos/{c}/transferir")).await.has(&["<html", "Transferir"]);
    ana.get(&format!("/atendimentos/{c}/finalizar")).await.has(&["Finalizar este atendimento?"]);
    ana.get(&format!("/atendimentos/{c}/arquivar")).await.has(&["Arquivar"]);
    // Nothing changed by looking.
    assert_eq!(app.state.db.read(move |db| conv::load(db, c)).await.unwrap().unwrap().status, "assigned");
}

#[tokio::test]
async fn saving_a_contact_or_a_task_from_the_conversation_returns_to_it() {
    let app = TestApp::new().await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    app.user("ana@x.com", Role::Agent, &[t]).await;
    let mut ana = app.login("ana@x.com").await;
    let c = visitor(&app, q, "Maria", "Oi").await;
    ana.post(&format!("/atendimentos/{c}/pegar"), &[]).await;
    let k = app.state.db.read(move |db| Ok(conv::load(db, c)?.unwrap().contact_id)).await.unwrap();
    // The contact: the form posts back with the conversation, Cancel leads there.
    let form = ana.get(&format!("/contatos/{k}/editar?conversa={c}")).await;
    form.has(&[&format!("action=\"/contatos/{k}?conversa={c}\""), &format!("href=\"/atendimentos/{c}\"")]);
    let r = ana
        .post(&format!("/contatos/{k}?conversa={c}"), &[("name", "Maria Souza"), ("phone", ""), ("email", "")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), format!("/atendimentos/{c}#panel-contact"));
    ana.get(&format!("/atendimentos/{c}")).await.has(&["Maria Souza"]);
    // Without the conversation, the contact page as before.
    let r = ana.post(&format!("/contatos/{k}"), &[("name", "Maria S."), ("phone", ""), ("email", "")]).await;
    assert_eq!(r.location(), format!("/contatos/{k}"));
    // The task: edited from the panel, saved back to the conversation.
    let r = ana
        .post("/tarefas", &[("conversation_id", &c.to_string()), ("title", "Ligar"), ("kind", "call"), ("quick", "1h")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let task: i64 = app.state.db.read(|db| Ok(db.query_row("SELECT id FROM tasks", [], |r| r.get(0))?)).await.unwrap();
    let form = ana.get(&format!("/tarefas/{task}/editar?conversa={c}")).await;
    form.has(&[&format!("name=\"conversation_id\" value=\"{c}\"")]);
    let r = ana
        .post(
            &format!("/tarefas/{task}"),
            &[("conversation_id", &c.to_string()), ("title", "Ligar à tarde"), ("kind", "call"), ("quick", "1h")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), format!("/atendimentos/{c}"));
    ana.get(&format!("/atendimentos/{c}")).await.has(&["Ligar à tarde"]);
    // Another team's conversation as the origin: 404, nothing shown.
    let other = app.team("Vendas").await;
    let qv = app.queue("Loja", other, 5, 30).await;
    let secret = visitor(&app, qv, "Cliente Secreto", "segredo").await;
    let r = ana.get(&format!("/tarefas/{task}/editar?conversa={secret}")).await;
    assert_eq!(r.status, 404);
    r.lacks(&["Cliente Secreto"]);
}
