//! Indicadores (issue 14): a supervisor sees their teams' figures with
//! their definitions, the change from the period before, the conversations
//! behind a figure and, with the export permission, an audited CSV that
//! Brazilian Excel opens; another team's filter or an agent answers 404 and
//! a bad date gets a clear message.

mod common;

use atende::domain::conversations::{self as conv, VisitorMessage};
use atende::domain::users::{Role, User};
use common::TestApp;

async fn user(app: &TestApp, login: &str, role: Role, teams: &[i64]) -> User {
    let id = app.user(login, role, teams).await;
    app.state.db.read(move |c| atende::domain::users::get(c, id)).await.unwrap().unwrap()
}

/// Noon in São Paulo (15:00 UTC, 1 Dec 2026): the test's day never ends
/// while it runs.
fn noon(app: &TestApp) {
    app.state.clock.advance(1_796_137_200 - app.state.now());
}

async fn visitor(app: &TestApp, q: i64, who: &str) -> i64 {
    let token = atende::domain::auth::token_hash(who);
    let m = VisitorMessage { name: who.into(), text: "Olá".into(), ..Default::default() };
    conv::visitor_message(&app.state, q, token, m).await.unwrap().0
}

#[tokio::test]
async fn a_supervisor_reads_their_teams_figures_drills_down_and_exports() {
    let app = TestApp::new().await;
    noon(&app);
    let (t1, t2) = (app.team("Vendas").await, app.team("Suporte").await);
    let (q1, q2) = (app.queue("Vendas web", t1, 3, 60).await, app.queue("Suporte web", t2, 3, 60).await);
    let bia = user(&app, "bia@x.com", Role::Agent, &[t1]).await;
    let sup = user(&app, "sup@x.com", Role::Supervisor, &[t1]).await;
    let other = user(&app, "outro@x.com", Role::Agent, &[t2]).await;
    // Vendas: one answered after 2 min in the queue, one lost in the queue.
    let c = visitor(&app, q1, "joana").await;
    app.state.clock.advance(120);
    conv::claim(&app.state, &bia, c).await.unwrap();
    app.state.clock.advance(30);
    conv::send(&app.state, &bia, c, "Olá!").await.unwrap();
    conv::close(&app.state, &bia, c, false, None).await.unwrap();
    let admin_id = app.user("chefe@x.com", Role::Admin, &[]).await;
    let admin = app.state.db.read(move |db| atende::domain::users::get(db, admin_id)).await.unwrap().unwrap();
    let lost = visitor(&app, q1, "pedro").await;
    conv::close(&app.state, &admin, lost, true, None).await.unwrap();
    // Suporte, another team: a conversation the supervisor must not see.
    let hidden = visitor(&app, q2, "Zuleica Escondida").await;
    conv::claim(&app.state, &other, hidden).await.unwrap();

    let mut s = app.login("sup@x.com").await;
    let page = s.get("/indicadores").await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.has(&[
        "Indicadores",
        "Recebidos",
        "TME (tempo de espera)",
        "2 min 00 s",
        "Perdidos na fila",
        "Atribuição menos entrada na fila",
        "Recebidos e respondidos por dia",
        "<svg",
    ])
    .lacks(&["Suporte web", "Zuleica", "Exportar CSV"]);
    // The conversations behind "Recebidos": theirs only.
    let list = s.get("/indicadores/conversas?periodo=hoje&tipo=received").await;
    assert_eq!(list.status, 200, "{}", list.body);
    list.has(&["joana", "pedro", &format!("/atendimentos/{c}")]).lacks(&["Zuleica"]);
    s.get("/indicadores/conversas?periodo=hoje&tipo=lost_queue").await.has(&["pedro"]).lacks(&["joana"]);
    // Another team's filter, a strange one, an agent: 404 without a trace.
    for path in [
        format!("/indicadores?equipe={t2}"),
        format!("/indicadores?fila={q2}"),
        format!("/indicadores?agente={}", other.id),
        "/indicadores?canal=fax".to_string(),
        format!("/indicadores/conversas?fila={q2}&tipo=received"),
    ] {
        let r = s.get(&path).await;
        assert_eq!(r.status, 404, "{path}");
        r.lacks(&["Suporte", "Zuleica"]);
    }
    assert_eq!(s.get("/indicadores/conversas?tipo=nada").await.status, 400);
    let mut agent = app.login("bia@x.com").await;
    assert_eq!(agent.get("/indicadores").await.status, 404);
    // A typed date that is no date: said clearly, the default period shown.
    s.get("/indicadores?periodo=personalizado&de=2026-02-30&ate=2026-03-01").await.has(&["Data inválida"]);
    s.get("/indicadores?periodo=personalizado&de=2026-03-02&ate=2026-03-01")
        .await
        .has(&["A data final é anterior à inicial"]);
    // Export needs the permission, and is audited.
    assert_eq!(s.get("/indicadores.csv?periodo=hoje").await.status, 403);
    app.grant(sup.id, "export_reports").await;
    let mut s = app.login("sup@x.com").await;
    s.get("/indicadores").await.has(&["Exportar CSV"]);
    let csv = s.get("/indicadores.csv?periodo=hoje").await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.starts_with('\u{feff}'), "BOM for Excel");
    let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("Dia;Recebidos;Respondidos;Perdidos na fila"), "{}", lines[0]);
    assert!(lines[1].contains(";2;1;1;0;120;"), "{}", lines[1]);
    assert_eq!(app.audits("export.metrics").await, 1);
}

#[tokio::test]
async fn the_change_from_the_period_before_is_shown() {
    let app = TestApp::new().await;
    noon(&app);
    let t = app.team("Vendas").await;
    let q = app.queue("Vendas web", t, 3, 60).await;
    visitor(&app, q, "ontem").await;
    app.state.clock.advance(86_400);
    for who in ["a", "b", "c"] {
        visitor(&app, q, who).await;
    }
    let mut admin = app.admin().await;
    let page = admin.get("/indicadores?periodo=hoje").await;
    page.has(&["+200%", "comparado com o período anterior"]);
}
