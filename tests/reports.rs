//! Relatórios (issue 14): the five reports on a hand-built day — the
//! numbers each shows, who sees what (a supervisor their teams, an agent
//! only their own Atendimentos, another team's filter 404 with no trace),
//! paging, and the audited CSV Brazilian Excel opens with its accents.

mod common;

use atende::domain::conversations::{self as conv, Closing, VisitorMessage};
use atende::domain::pauses;
use atende::domain::users::{Role, User};
use common::TestApp;

async fn user(app: &TestApp, login: &str, role: Role, teams: &[i64]) -> User {
    let id = app.user(login, role, teams).await;
    app.state.db.read(move |c| atende::domain::users::get(c, id)).await.unwrap().unwrap()
}

/// 09:00 in São Paulo (12:00 UTC, Tuesday 1 Dec 2026): the day never ends
/// while a test runs.
fn morning(app: &TestApp) {
    app.state.clock.advance(1_796_126_400 - app.state.now());
}

async fn visitor(app: &TestApp, q: i64, who: &str) -> i64 {
    let token = atende::domain::auth::token_hash(who);
    let m = VisitorMessage { name: who.into(), text: "Olá".into(), ..Default::default() };
    conv::visitor_message(&app.state, q, token, m).await.unwrap().0
}

async fn reason(app: &TestApp, name: &'static str) -> i64 {
    app.state
        .db
        .write(move |c| {
            c.execute("INSERT INTO closing_reasons (name, created_at) VALUES (?1, 0)", [name])?;
            Ok(c.last_insert_rowid())
        })
        .await
        .unwrap()
}

async fn pause_reason(app: &TestApp, name: &'static str, minutes: i64) -> i64 {
    app.state
        .db
        .write(move |c| {
            c.execute(
                "INSERT INTO pause_reasons (name, limit_minutes, created_at) VALUES (?1, ?2, 0)",
                rusqlite::params![name, minutes],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
        .unwrap()
}

struct Day {
    c: i64,
    hidden: i64,
    t2: i64,
    q2: i64,
    other: User,
    bia: User,
    sup: User,
}

/// Vendas: Joana Conceição waits 2 min, Bia answers 30 s later and finishes
/// it (Dúvida, resolved) after being Pronto 10 min and in a 20 min Almoço
/// pause that ran 5 min over; Pedro is lost in the queue; Bia schedules a
/// reopening that happens. Suporte (another team) has Zuleica's.
async fn day(app: &TestApp) -> Day {
    morning(app);
    let (t1, t2) = (app.team("Vendas").await, app.team("Suporte").await);
    let (q1, q2) = (app.queue("Vendas web", t1, 3, 60).await, app.queue("Suporte web", t2, 3, 60).await);
    let bia = user(app, "bia@x.com", Role::Agent, &[t1]).await;
    let sup = user(app, "sup@x.com", Role::Supervisor, &[t1]).await;
    let other = user(app, "outro@x.com", Role::Agent, &[t2]).await;
    let duvida = reason(app, "Dúvida").await;
    let almoco = pause_reason(app, "Almoço", 15).await;
    conv::set_ready(&app.state, &bia, true).await.unwrap();
    app.state.clock.advance(600);
    pauses::start(&app.state, &bia, almoco).await.unwrap();
    app.state.clock.advance(20 * 60);
    pauses::check_limits(&app.state).await.unwrap();
    pauses::end(&app.state, &bia).await.unwrap();
    conv::set_ready(&app.state, &bia, false).await.unwrap();

    let c = visitor(app, q1, "Joana Conceição").await;
    app.state.clock.advance(120);
    conv::claim(&app.state, &bia, c).await.unwrap();
    app.state.clock.advance(30);
    conv::send(&app.state, &bia, c, "Olá!").await.unwrap();
    conv::close(&app.state, &bia, c, false, Some(Closing { reason_id: duvida, resolved: true })).await.unwrap();
    let admin_id = app.user("chefe@x.com", Role::Admin, &[]).await;
    let admin = app.state.db.read(move |db| atende::domain::users::get(db, admin_id)).await.unwrap().unwrap();
    let lost = visitor(app, q1, "Pedro").await;
    app.state.clock.advance(45);
    conv::close(&app.state, &admin, lost, true, None).await.unwrap();
    conv::schedule_reopen(&app.state, &bia, c, Some(app.state.now() + 60)).await.unwrap();
    app.state.clock.advance(61);
    assert_eq!(conv::reopen_due(&app.state).await.unwrap(), 1);
    let hidden = visitor(app, q2, "Zuleica Escondida").await;
    conv::claim(&app.state, &other, hidden).await.unwrap();
    Day { c, hidden, t2, q2, other, bia, sup }
}

#[tokio::test]
async fn each_report_shows_the_days_numbers_to_the_teams_supervisor() {
    let app = TestApp::new().await;
    let d = day(&app).await;
    let mut s = app.login("sup@x.com").await;
    assert_eq!(s.get("/relatorios").await.location(), "/relatorios/agentes");

    let a = s.get("/relatorios/agentes?periodo=hoje").await;
    assert_eq!(a.status, 200, "{}", a.body);
    // Bia took it twice (the scheduled reopening hands it back to her with
    // no wait): TME 1 min; first response from entry 2 min 30 s; TMA 30 s;
    // resolved 100 %; Pronto 10 min, Almoço 20 min, Não pronto since the
    // pause until now (4 min 16 s).
    a.has(&[
        "Agentes",
        "bia@x.com",
        "<td data-label=\"Assumidas\">2</td>",
        "1 min 00 s",
        "2 min 30 s",
        "<td data-label=\"TMA (tempo de atendimento)\">30 s</td>",
        "100,0%",
        "<td data-label=\"Tempo Pronto\">10 min 00 s</td>",
        "<td data-label=\"Tempo Não pronto\">4 min 16 s</td>",
        "Almoço: 20 min 00 s",
    ])
    .lacks(&["outro@x.com", "Suporte"]);

    let c = s.get("/relatorios/atendimentos?periodo=hoje").await;
    assert_eq!(c.status, 200, "{}", c.body);
    c.has(&[
        &format!("/atendimentos/{}", d.c),
        "Joana Conceição",
        "Vendas web",
        "Dúvida",
        "Sim",
        "Pedro",
        "Arquivado",
        "Total",
    ])
    .lacks(&["Zuleica", &format!("/atendimentos/{}\"", d.hidden)]);

    let q = s.get("/relatorios/filas?periodo=hoje").await;
    assert_eq!(q.status, 200, "{}", q.body);
    // Received 2, taken 1, lost in the queue 1, longest wait 2 min.
    q.has(&["Vendas web", "Recebidas por hora do dia", "09h", "2 min 00 s"]).lacks(&["Suporte web"]);
    assert!(q.body.contains("<td data-label=\"Recebidos\">2</td>"), "{}", q.body);

    let p = s.get("/relatorios/pausas?periodo=hoje").await;
    assert_eq!(p.status, 200, "{}", p.body);
    p.has(&["Almoço", "20 min 00 s", "5 min 00 s", "Cada pausa"]);

    let r = s.get("/relatorios/reaberturas?periodo=hoje").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.has(&["bia@x.com", "Conversa reaberta no horário agendado", "Reabertura agendada"]);
    assert!(r.body.contains("<td data-label=\"Reabertas\">1</td>"), "{}", r.body);
}

#[tokio::test]
async fn scope_agents_and_other_teams() {
    let app = TestApp::new().await;
    let d = day(&app).await;
    let mut s = app.login("sup@x.com").await;
    for name in ["agentes", "atendimentos", "filas", "pausas", "reaberturas"] {
        for filter in [format!("equipe={}", d.t2), format!("fila={}", d.q2), format!("agente={}", d.other.id)] {
            let path = format!("/relatorios/{name}?{filter}");
            let r = s.get(&path).await;
            assert_eq!(r.status, 404, "{path}");
            r.lacks(&["Suporte", "Zuleica", "outro@x.com"]);
        }
    }
    assert_eq!(s.get("/relatorios/nada").await.status, 404);
    // An agent: only their own Atendimentos.
    let mut bia = app.login("bia@x.com").await;
    assert_eq!(bia.get("/relatorios").await.location(), "/relatorios/atendimentos");
    for name in ["agentes", "filas", "pausas", "reaberturas"] {
        assert_eq!(bia.get(&format!("/relatorios/{name}")).await.status, 404, "{name}");
    }
    let own = bia.get("/relatorios/atendimentos?periodo=hoje").await;
    assert_eq!(own.status, 200, "{}", own.body);
    own.has(&["Joana Conceição"]).lacks(&["Pedro", "Zuleica", "name=\"agente\"", "Exportar CSV"]);
    assert_eq!(bia.get(&format!("/relatorios/atendimentos?agente={}", d.sup.id)).await.status, 404);
    // Without the permission no CSV, with it an agent exports their own.
    assert_eq!(bia.get("/relatorios/atendimentos.csv?periodo=hoje").await.status, 403);
    app.grant(d.bia.id, "export_reports open_conversations").await;
    let mut bia = app.login("bia@x.com").await;
    let csv = bia.get("/relatorios/atendimentos.csv?periodo=hoje").await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.contains("Joana Conceição") && !csv.body.contains("Pedro"), "{}", csv.body);
    // A new conversation from a row needs the permission to open them.
    assert!(!own.body.contains("/atendimentos/novo?contato="));
    let own = bia.get("/relatorios/atendimentos?periodo=hoje").await;
    let joana = app
        .state
        .db
        .read(
            |c| Ok(c.query_row("SELECT id FROM contacts WHERE name = 'Joana Conceição'", [], |r| r.get::<_, i64>(0))?),
        )
        .await
        .unwrap();
    own.has(&[&format!("/atendimentos/novo?contato={joana}"), "Nova conversa"]);
}

#[tokio::test]
async fn csv_is_audited_opens_in_excel_and_pages_go_on() {
    let app = TestApp::new().await;
    let d = day(&app).await;
    let t = app
        .state
        .db
        .read(|c| Ok(c.query_row("SELECT id FROM queues WHERE name = 'Vendas web'", [], |r| r.get::<_, i64>(0))?))
        .await
        .unwrap();
    for i in 0..55 {
        visitor(&app, t, &format!("Cliente {i:02}")).await;
    }
    app.grant(d.sup.id, "export_reports").await;
    let mut s = app.login("sup@x.com").await;
    let first = s.get("/relatorios/atendimentos?periodo=hoje").await;
    first.has(&["Cliente 54", "Mais antigos", "Exportar CSV"]).lacks(&["Joana Conceição", "Mais recentes"]);
    let older = first.body.split("antes=").nth(1).and_then(|s| s.split('"').next()).unwrap().to_string();
    let second = s.get(&format!("/relatorios/atendimentos?periodo=hoje&antes={older}")).await;
    second.has(&["Joana Conceição", "Pedro", "Cliente 00", "Mais recentes"]).lacks(&["Cliente 54", "Mais antigos"]);
    let newer = second.body.split("depois=").nth(1).and_then(|s| s.split('"').next()).unwrap().to_string();
    s.get(&format!("/relatorios/atendimentos?periodo=hoje&depois={newer}")).await.has(&["Cliente 54", "Cliente 05"]);
    assert_eq!(s.get("/relatorios/atendimentos?antes=x").await.status, 404);

    let csv = s.get("/relatorios/atendimentos.csv?periodo=hoje").await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.starts_with('\u{feff}'), "BOM for Excel");
    let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("Nº;Contato;Telefone / e-mail;Canal;Fila;Equipe"), "{}", lines[0]);
    assert!(lines[0].contains("Esperou (s)"), "{}", lines[0]);
    assert_eq!(lines.len(), 1 + 57, "every conversation, not one page");
    let joana = lines.iter().find(|l| l.contains("Joana Conceição")).unwrap();
    assert!(joana.starts_with(&format!("{};Joana Conceição;", d.c)), "{joana}");
    assert!(joana.contains(";120;150;") && joana.contains(";Dúvida;Sim;"), "{joana}");
    assert!(!csv.body.contains("Zuleica"));
    assert_eq!(app.audits("export.report").await, 1);
    for name in ["agentes", "filas", "pausas", "reaberturas"] {
        let r = s.get(&format!("/relatorios/{name}.csv?periodo=hoje")).await;
        assert_eq!(r.status, 200, "{name}");
        assert!(r.body.starts_with('\u{feff}') && r.body.contains(';'), "{name}");
    }
    let p = s.get("/relatorios/pausas.csv?periodo=hoje").await;
    assert!(p.body.contains("Almoço;1;1200;1200;1;300"), "{}", p.body);
    assert_eq!(app.audits("export.report").await, 6);
    // The old admin page leads here.
    let mut admin = app.login("chefe@x.com").await;
    assert_eq!(admin.get("/admin/relatorio-pausas").await.location(), "/relatorios/pausas");
}

#[tokio::test]
async fn the_heat_map_and_closing_reasons_drill_down() {
    let app = TestApp::new().await;
    let d = day(&app).await;
    let mut s = app.login("sup@x.com").await;
    let page = s.get("/indicadores?periodo=hoje").await;
    page.has(&["Recebidas por dia da semana e hora", "Motivos de encerramento", "Dúvida", "100,0%"]);
    // Tuesday (1) at 09h: Joana and Pedro (both arrived then, São Paulo time).
    assert!(page.body.contains("semana=1&amp;hora=9"), "{}", page.body);
    let cell = s.get("/indicadores/conversas?periodo=hoje&tipo=received&semana=1&hora=9").await;
    assert_eq!(cell.status, 200, "{}", cell.body);
    cell.has(&["Joana Conceição", "Pedro"]).lacks(&["Zuleica"]);
    s.get("/indicadores/conversas?periodo=hoje&tipo=received&semana=1&hora=10").await.lacks(&["Joana"]);
    assert_eq!(s.get("/indicadores/conversas?periodo=hoje&tipo=received&semana=9&hora=1").await.status, 400);
    let _ = d.hidden;
}

#[tokio::test]
async fn the_new_rollups_equal_a_recomputation() {
    let app = TestApp::new().await;
    day(&app).await;
    let snap = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            db.read(|c| {
                let rows = |sql: &str| -> atende::error::AppResult<Vec<String>> {
                    let mut st = c.prepare(sql)?;
                    let n = st.column_count();
                    let v = st
                        .query_map([], |r| {
                            (0..n)
                                .map(|i| r.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}")))
                                .collect::<Result<Vec<_>, _>>()
                                .map(|v| v.join("|"))
                        })?
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(v)
                };
                Ok((
                    rows("SELECT * FROM metric_hours ORDER BY 1, 2, 3, 4, 5")?,
                    rows("SELECT * FROM metric_reasons ORDER BY 1, 2, 3, 4, 5, 6")?,
                    rows("SELECT day, queue_id, agent_id, wait_max FROM metric_days ORDER BY 1, 2, 3")?,
                    rows("SELECT id, hour FROM metric_facts ORDER BY id")?.len(),
                ))
            })
            .await
            .unwrap()
        }
    };
    let live = snap(&app).await;
    assert!(!live.0.is_empty() && !live.1.is_empty());
    app.state.db.write(|c| atende::domain::metrics::replay::backfill(c).map(|_| ())).await.unwrap();
    assert_eq!(snap(&app).await, live);
}
