//! Admin registers, users, settings, authorization and the audit page.

mod common;

use atende::domain::users::Role;
use common::TestApp;

#[tokio::test]
async fn admin_pages_are_admin_only() {
    let app = TestApp::new().await;
    app.admin().await;
    let t = app.team("Vendas").await;
    app.user("sup@x.com", Role::Supervisor, &[t]).await;
    app.user("ag@x.com", Role::Agent, &[t]).await;
    let pages = [
        "/admin",
        "/admin/usuarios",
        "/admin/usuarios/novo",
        "/admin/usuarios/1",
        "/admin/equipes",
        "/admin/filas/novo",
        "/admin/configuracoes",
        "/admin/auditoria",
        "/admin/auditoria.csv",
        "/admin/backup",
    ];
    for login in ["sup@x.com", "ag@x.com"] {
        let mut c = app.login(login).await;
        c.get("/").await.lacks(&["Administração"]).has(&["Início", "Minha conta"]);
        for p in pages {
            let r = c.get(p).await;
            assert_eq!(r.status, 403, "{login} {p}");
            r.has(&["Acesso negado"]);
        }
        let r = c.post("/admin/equipes", &[("name", "Invasora")]).await;
        assert_eq!(r.status, 403);
        let r = c.post("/admin/backup/baixar", &[]).await;
        assert_eq!(r.status, 403);
    }
    assert_eq!(app.count("teams").await, 1);
    // Logged out: pages send to the login with the way back.
    let mut anon = app.client();
    let r = anon.get("/admin/equipes").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/entrar?next=%2Fadmin%2Fequipes");
    let r = anon.post_raw("/admin/equipes", "name=X", &[]).await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn teams_crud_with_validation_and_audit() {
    let app = TestApp::new().await;
    let mut a = app.admin().await;
    a.get("/admin/equipes").await.has(&["Equipes", "Nada cadastrado ainda.", "Nova equipe"]);
    a.get("/admin/equipes/novo").await.has(&["Nova equipe", "name=\"name\""]);
    // Empty, too long, control characters: clear messages, nothing stored.
    let long = "x".repeat(61);
    for (value, msg) in
        [("", "Campo obrigatório."), (long.as_str(), "Texto longo demais."), ("a\u{7}b", "caracteres não permitidos")]
    {
        let r = a.post("/admin/equipes", &[("name", value)]).await;
        assert_eq!(r.status, 422, "{value:?}");
        r.has(&[msg, "Corrija os campos destacados"]);
    }
    assert_eq!(app.count("teams").await, 0);
    let r = a.post("/admin/equipes", &[("name", "Vendas")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/admin/equipes?ok=created");
    a.get("/admin/equipes?ok=created").await.has(&["Registro criado.", "Vendas", "Ativo"]);
    // Duplicate, case-insensitive.
    let r = a.post("/admin/equipes", &[("name", "VENDAS")]).await;
    assert_eq!(r.status, 422);
    r.has(&["Já existe um registro com este nome."]);
    assert_eq!(app.count("teams").await, 1);
    // Edit, deactivate, reactivate.
    a.get("/admin/equipes/1").await.has(&["value=\"Vendas\""]);
    let r = a.post("/admin/equipes/1", &[("name", "Vendas Sul")]).await;
    assert_eq!(r.status, 303);
    let r = a.post("/admin/equipes/1/ativo", &[("active", "0")]).await;
    assert_eq!(r.status, 303);
    a.get("/admin/equipes").await.has(&["Vendas Sul", "Inativo", "Reativar"]);
    let r = a.post("/admin/equipes/1/ativo", &[("active", "talvez")]).await;
    assert_eq!(r.status, 400);
    a.post("/admin/equipes/1/ativo", &[("active", "1")]).await;
    // Unknown ids and registers: 404, nothing changes.
    assert_eq!(a.get("/admin/equipes/999").await.status, 404);
    assert_eq!(a.post("/admin/equipes/999", &[("name", "X")]).await.status, 404);
    assert_eq!(a.post("/admin/equipes/999/ativo", &[("active", "0")]).await.status, 404);
    assert_eq!(a.get("/admin/naoexiste").await.status, 404);
    assert_eq!(a.post("/admin/naoexiste", &[("name", "X")]).await.status, 404);
    assert_eq!(a.get("/admin/equipes/abc").await.status, 404);
    assert_eq!(app.audits("register.create").await, 1);
    assert_eq!(app.audits("register.update").await, 1);
    assert_eq!(app.audits("register.deactivate").await, 1);
    assert_eq!(app.audits("register.activate").await, 1);
}

#[tokio::test]
async fn queues_validate_numbers_choices_and_team_reference() {
    let app = TestApp::new().await;
    let mut a = app.admin().await;
    let t = app.team("Suporte").await;
    let team = t.to_string();
    a.get("/admin/filas/novo").await.has(&["Chat do site", "WhatsApp", "Suporte", "value=\"30\"", "value=\"5\""]);
    let base = |name: &'static str, channel: &'static str, team: String, timeout: &'static str, cap: &'static str| {
        vec![
            ("name", name.to_string()),
            ("channel", channel.to_string()),
            ("team_id", team),
            ("offer_timeout_secs", timeout.to_string()),
            ("agent_capacity", cap.to_string()),
        ]
    };
    let cases = [
        (base("Site", "fax", team.clone(), "30", "5"), "Escolha uma opção da lista."),
        (base("Site", "webchat", "".into(), "30", "5"), "Campo obrigatório."),
        (base("Site", "webchat", "999".into(), "30", "5"), "Escolha uma opção da lista."),
        (base("Site", "webchat", team.clone(), "dez", "5"), "Informe um número inteiro."),
        (base("Site", "webchat", team.clone(), "2", "5"), "Valor fora do intervalo permitido."),
        (base("Site", "webchat", team.clone(), "30", "0"), "Valor fora do intervalo permitido."),
    ];
    for (fields, msg) in cases {
        let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = a.post("/admin/filas", &f).await;
        assert_eq!(r.status, 422, "{fields:?}");
        r.has(&[msg]);
    }
    assert_eq!(app.count("queues").await, 0);
    let mut ok = base("Site", "webchat", team.clone(), "45", "3");
    ok.push(("closing_script_required", "1".into()));
    let f: Vec<(&str, &str)> = ok.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = a.post("/admin/filas", &f).await;
    assert_eq!(r.status, 303, "{}", r.body);
    a.get("/admin/filas").await.has(&["Site", "Chat do site", "Suporte", "45", "Sim"]);
    // A deactivated team cannot be chosen for a new queue.
    a.post(&format!("/admin/equipes/{t}/ativo"), &[("active", "0")]).await;
    let mut q2 = base("E-mail", "email", team.clone(), "30", "5");
    q2.push(("closing_script_required", "0".into()));
    let f: Vec<(&str, &str)> = q2.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = a.post("/admin/filas", &f).await;
    assert_eq!(r.status, 422);
    assert_eq!(app.count("queues").await, 1);
}

#[tokio::test]
async fn pause_reasons_closing_reasons_tags_fields_and_groups() {
    let app = TestApp::new().await;
    let mut a = app.admin().await;
    // Pause reasons: allowed hours both-or-neither, different.
    let r = a
        .post(
            "/admin/pausas",
            &[
                ("name", "Almoço"),
                ("limit_minutes", "60"),
                ("on_limit", "flag"),
                ("allowed_from", "11:00"),
                ("allowed_to", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    r.has(&["Informe os dois horários"]);
    let r = a
        .post(
            "/admin/pausas",
            &[
                ("name", "Almoço"),
                ("limit_minutes", "60"),
                ("on_limit", "flag"),
                ("allowed_from", "25:00"),
                ("allowed_to", "14:00"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    r.has(&["Horário inválido"]);
    let r = a
        .post(
            "/admin/pausas",
            &[
                ("name", "Almoço"),
                ("limit_minutes", "60"),
                ("on_limit", "flag"),
                ("allowed_from", "11:00"),
                ("allowed_to", "11:00"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    let r = a.post("/admin/pausas", &[("name", "Almoço"), ("limit_minutes", "0"), ("on_limit", "flag")]).await;
    assert_eq!(r.status, 422);
    let r = a
        .post(
            "/admin/pausas",
            &[
                ("name", "Almoço"),
                ("limit_minutes", "60"),
                ("on_limit", "flag"),
                ("allowed_from", "11:00"),
                ("allowed_to", "14:30"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let r = a.post("/admin/pausas", &[("name", "Café"), ("limit_minutes", "10"), ("on_limit", "end")]).await;
    assert_eq!(r.status, 303);
    a.get("/admin/pausas").await.has(&["Almoço", "11:00", "14:30", "Café", "Sinalizar e encerrar"]);
    let r = a.post("/admin/pausas", &[("name", "Lanche"), ("limit_minutes", "10"), ("on_limit", "sumir")]).await;
    assert_eq!(r.status, 422);
    // Closing reasons.
    assert_eq!(a.post("/admin/encerramentos", &[("name", "Dúvida sobre cobrança")]).await.status, 303);
    // Tags: same name allowed once per scope.
    assert_eq!(a.post("/admin/etiquetas", &[("name", "VIP"), ("scope", "contact")]).await.status, 303);
    assert_eq!(a.post("/admin/etiquetas", &[("name", "VIP"), ("scope", "conversation")]).await.status, 303);
    let r = a.post("/admin/etiquetas", &[("name", "vip"), ("scope", "contact")]).await;
    assert_eq!(r.status, 422);
    assert_eq!(a.post("/admin/etiquetas", &[("name", "X"), ("scope", "planeta")]).await.status, 422);
    // Contact extra fields: choice needs two options.
    let r = a.post("/admin/campos", &[("name", "Plano"), ("kind", "choice"), ("options", "Básico")]).await;
    assert_eq!(r.status, 422);
    r.has(&["pelo menos duas opções"]);
    let r = a
        .post(
            "/admin/campos",
            &[("name", "Plano"), ("kind", "choice"), ("options", "Básico\nPremium\n\n"), ("required", "1")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        a.post("/admin/campos", &[("name", "Nascimento"), ("kind", "date"), ("options", "ignorado\noutro")])
            .await
            .status,
        303
    );
    a.get("/admin/campos").await.has(&["Plano", "Lista de opções", "Nascimento", "Data"]);
    let opts: String = app
        .state
        .db
        .read(|c| Ok(c.query_row("SELECT options FROM contact_fields WHERE name = 'Nascimento'", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(opts, "", "options only kept for list fields");
    // Access groups with permissions; unknown permission rejected.
    let r = a
        .post(
            "/admin/grupos",
            &[("name", "Líderes"), ("permissions", "see_all_tasks"), ("permissions", "export_reports")],
        )
        .await;
    assert_eq!(r.status, 303);
    let r = a.post("/admin/grupos", &[("name", "Hackers"), ("permissions", "root")]).await;
    assert_eq!(r.status, 422);
    a.get("/admin/grupos").await.has(&["Líderes", "Ver todas as tarefas", "Exportar relatórios"]);
}

#[tokio::test]
async fn users_register_roles_groups_teams() {
    let app = TestApp::new().await;
    let mut a = app.admin().await;
    let t1 = app.team("Vendas").await;
    let t2 = app.team("Suporte").await;
    a.post("/admin/grupos", &[("name", "Exportadores"), ("permissions", "export_reports")]).await;
    a.get("/admin/usuarios/novo").await.has(&["Vendas", "Suporte", "Exportadores", "Senha inicial"]);
    let (s1, s2) = (t1.to_string(), t2.to_string());
    // Bad input.
    let r = a.post("/admin/usuarios", &[("name", ""), ("login", "x"), ("role", "deus"), ("password", "123")]).await;
    assert_eq!(r.status, 422);
    r.has(&["Campo obrigatório.", "ao menos 3 caracteres", "Escolha uma opção da lista.", "pelo menos 8 caracteres"]);
    let r = a
        .post(
            "/admin/usuarios",
            &[
                ("name", "Bia"),
                ("login", "bia@x.com"),
                ("role", "agent"),
                ("password", common::PW),
                ("team_ids", "999"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    let r = a
        .post(
            "/admin/usuarios",
            &[
                ("name", "Bia"),
                ("login", "bia@x.com"),
                ("role", "agent"),
                ("password", common::PW),
                ("access_group_id", "77"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(app.count("users").await, 1);
    // Create.
    let r = a
        .post(
            "/admin/usuarios",
            &[
                ("name", "Bia Souza"),
                ("login", "bia@x.com"),
                ("role", "agent"),
                ("password", common::PW),
                ("access_group_id", "1"),
                ("team_ids", &s1),
                ("team_ids", &s2),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    a.get("/admin/usuarios").await.has(&["Bia Souza", "bia@x.com", "Agente", "Exportadores", "Suporte, Vendas"]);
    // Duplicate login (any case).
    let r = a
        .post(
            "/admin/usuarios",
            &[("name", "Outra"), ("login", "BIA@x.com"), ("role", "agent"), ("password", common::PW)],
        )
        .await;
    assert_eq!(r.status, 422);
    r.has(&["Já existe um usuário com este login."]);
    // Edit: change role and teams.
    let id = 2;
    a.get(&format!("/admin/usuarios/{id}")).await.has(&["Redefinir senha", "value=\"bia@x.com\""]);
    let r = a
        .post(
            &format!("/admin/usuarios/{id}"),
            &[("name", "Bia S."), ("login", "bia@x.com"), ("role", "supervisor"), ("team_ids", &s2)],
        )
        .await;
    assert_eq!(r.status, 303);
    a.get("/admin/usuarios").await.has(&["Bia S.", "Supervisor"]);
    // The new user logs in and sees only their teams; another team answers 404.
    let mut bia = app.login("bia@x.com").await;
    bia.get("/equipes").await.has(&["Suporte"]).lacks(&["Vendas"]);
    bia.get(&format!("/equipes/{t2}")).await.has(&["Bia S.", "Membros"]);
    let r = bia.get(&format!("/equipes/{t1}")).await;
    assert_eq!(r.status, 404);
    r.lacks(&["Vendas"]);
    assert_eq!(bia.get("/equipes/12345").await.status, 404);
    // Admin sees every team.
    assert_eq!(a.get(&format!("/equipes/{t1}")).await.status, 200);
    // The last admin cannot be demoted.
    let r = a.post("/admin/usuarios/1", &[("name", "Ana"), ("login", "admin@empresa.com"), ("role", "agent")]).await;
    assert_eq!(r.status, 422);
    r.has(&["pelo menos um administrador ativo"]);
    assert_eq!(app.audits("user.create").await, 1);
    assert_eq!(app.audits("user.update").await, 1);
}

#[tokio::test]
async fn access_group_permissions_reach_the_user() {
    let app = TestApp::new().await;
    let mut a = app.admin().await;
    a.post(
        "/admin/grupos",
        &[("name", "Relatórios"), ("permissions", "export_reports"), ("permissions", "all_contacts")],
    )
    .await;
    a.post(
        "/admin/usuarios",
        &[
            ("name", "Caio"),
            ("login", "caio@x.com"),
            ("role", "agent"),
            ("password", common::PW),
            ("access_group_id", "1"),
        ],
    )
    .await;
    let u = app.state.db.read(|c| atende::domain::users::get(c, 2)).await.unwrap().unwrap();
    use atende::domain::users::Permission::*;
    assert!(u.can(ExportReports) && u.can(AllContacts));
    assert!(!u.can(SeeAllTasks) && !u.can(OpenConversations) && !u.can(ManageQuickReplies));
    // A deactivated group grants nothing.
    a.post("/admin/grupos/1/ativo", &[("active", "0")]).await;
    let u = app.state.db.read(|c| atende::domain::users::get(c, 2)).await.unwrap().unwrap();
    assert!(!u.can(ExportReports));
    let admin = app.state.db.read(|c| atende::domain::users::get(c, 1)).await.unwrap().unwrap();
    assert!(admin.can(SeeAllTasks), "admins hold every permission");
}

#[tokio::test]
async fn business_settings() {
    let app = TestApp::new().await;
    let mut a = app.admin().await;
    a.get("/admin/configuracoes").await.has(&["Minha empresa", "America/Sao_Paulo", "Segunda", "Domingo"]);
    let mut form = vec![
        ("business_name", "Padaria Pão Quente".to_string()),
        ("time_zone", "America/Manaus".into()),
        ("locale", "pt-BR".into()),
    ];
    for d in 0..7 {
        if d < 6 {
            form.push(("open", format!("{d}")));
        }
    }
    let mut fields: Vec<(String, String)> = vec![
        ("business_name".into(), "Padaria Pão Quente".into()),
        ("time_zone".into(), "America/Manaus".into()),
        ("locale".into(), "pt-BR".into()),
        ("attach_file_mb".into(), "8".into()),
        ("attach_conversation_mb".into(), "50".into()),
    ];
    for d in 0..7 {
        if d < 6 {
            fields.push((format!("open{d}"), "1".into()));
        }
        fields.push((format!("opens{d}"), "07:00".into()));
        fields.push((format!("closes{d}"), if d == 5 { "12:00".into() } else { "19:00".into() }));
    }
    let post = |extra: &[(&str, &str)]| {
        let mut f: Vec<(String, String)> = fields.clone();
        for (k, v) in extra {
            f.retain(|(fk, _)| fk != k);
            f.push((k.to_string(), v.to_string()));
        }
        f
    };
    for (bad, msg) in [
        (vec![("time_zone", "Marte/Olympus")], "Fuso horário desconhecido."),
        (vec![("business_name", "")], "Campo obrigatório."),
        (vec![("locale", "fr")], "Escolha uma opção da lista."),
        (vec![("opens0", "19:00"), ("closes0", "07:00")], "depois da abertura"),
        (vec![("opens1", "7h")], "Horário inválido"),
        (vec![("attach_file_mb", "0")], "Valor fora do intervalo permitido."),
        (vec![("attach_file_mb", "101")], "Valor fora do intervalo permitido."),
        (
            vec![("attach_file_mb", "20"), ("attach_conversation_mb", "10")],
            "não pode ser menor que o limite por arquivo",
        ),
    ] {
        let f = post(&bad);
        let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = a.post("/admin/configuracoes", &refs).await;
        assert_eq!(r.status, 422, "{bad:?}");
        r.has(&[msg]);
    }
    assert_eq!(app.state.settings().business_name, "Minha empresa");
    let f = post(&[]);
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = a.post("/admin/configuracoes", &refs).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let s = app.state.settings();
    assert_eq!(s.business_name, "Padaria Pão Quente");
    assert_eq!(s.time_zone, "America/Manaus");
    assert_eq!((s.attach_file_mb, s.attach_conversation_mb), (8, 50));
    assert!(s.hours[5].open && !s.hours[6].open);
    assert_eq!(s.hours[5].closes, "12:00");
    a.get("/").await.has(&["Padaria Pão Quente"]);
    // Switching the business default to English changes pages for users with no preference.
    let f = post(&[("locale", "en")]);
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    a.post("/admin/configuracoes", &refs).await;
    a.get("/").await.has(&["Administration"]);
    app.client().get("/entrar").await.has(&["Log in"]);
    assert_eq!(app.audits("settings.update").await, 2);
}

#[tokio::test]
async fn audit_page_filters_paginates_and_exports() {
    let app = TestApp::new().await;
    let mut a = app.admin().await;
    for i in 0..60 {
        a.post("/admin/equipes", &[("name", &format!("Equipe {i:02}"))]).await;
    }
    app.client().login("admin@empresa.com", "errada-9999").await;
    let r = a.get("/admin/auditoria").await;
    r.has(&["Auditoria", "Cadastro criado", "Equipes: Equipe 59", "10.0.0.7", "Mais antigos"]);
    r.lacks(&["Equipes: Equipe 00"]);
    // Next page by key.
    let next = r.body.split("before=").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r2 = a.get(&format!("/admin/auditoria?before={next}")).await;
    r2.has(&["Equipes: Equipe 00", "Administrador inicial criado"]);
    // Filters.
    let r = a.get("/admin/auditoria?action=auth.login_failed").await;
    r.has(&["Falha de entrada", "admin@empresa.com"]).lacks(&["Equipes: Equipe"]);
    let r = a.get("/admin/auditoria?action=auth.").await;
    r.has(&["Entrada", "Falha de entrada"]).lacks(&["Equipes: Equipe"]);
    let r = a.get("/admin/auditoria?text=Equipe%2042").await;
    r.has(&["Equipes: Equipe 42"]).lacks(&["Equipes: Equipe 41"]);
    let r = a.get("/admin/auditoria?actor=ninguem").await;
    r.has(&["Nenhum registro encontrado."]);
    let today = jiff::Timestamp::now().to_zoned(app.state.settings().tz()).date().to_string();
    let r = a.get(&format!("/admin/auditoria?from={today}&to={today}&action=register.create")).await;
    r.has(&["Equipes: Equipe 59"]);
    let r = a.get("/admin/auditoria?from=2001-01-01&to=2001-01-02").await;
    r.has(&["Nenhum registro encontrado."]);
    assert_eq!(a.get("/admin/auditoria?from=ontem").await.status, 400);
    // htmx filtering gets the content only, from the same view.
    let r = a.get_with("/admin/auditoria?action=auth.login_failed", &[("hx-request", "true")]).await;
    r.has(&["Falha de entrada", "<title>"]).lacks(&["<html", "class=\"sidebar\""]);
    // CSV export: all matching rows, itself audited.
    let r = a.get("/admin/auditoria.csv?action=register.create").await;
    assert_eq!(r.status, 200);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert_eq!(r.body.lines().count(), 61);
    assert_eq!(app.audits("export.audit").await, 1);
}

#[tokio::test]
async fn customer_text_is_escaped_everywhere() {
    let app = TestApp::new().await;
    let mut a = app.admin().await;
    let xss = "<script>alert(1)</script>";
    a.post("/admin/equipes", &[("name", xss)]).await;
    a.post(
        "/admin/usuarios",
        &[
            ("name", "<img src=x onerror=alert(1)>"),
            ("login", "xss@x.com"),
            ("role", "agent"),
            ("password", common::PW),
            ("team_ids", "1"),
        ],
    )
    .await;
    for page in ["/admin/equipes", "/admin/usuarios", "/admin/auditoria", "/equipes/1", "/"] {
        let r = a.get(page).await;
        r.lacks(&[xss, "<img src=x"]);
    }
    a.get("/admin/equipes").await.has(&["&lt;script&gt;alert(1)&lt;/script&gt;"]);
}

#[tokio::test]
async fn oversized_and_malformed_bodies_are_refused() {
    let app = TestApp::new().await;
    let mut a = app.admin().await;
    let tok = a.csrf.clone().unwrap();
    let huge = format!("_csrf={tok}&name={}", "a".repeat(70 * 1024));
    let r = a.post_raw("/admin/equipes", &huge, &[]).await;
    assert_eq!(r.status, 413);
    r.has(&["grande demais"]);
    let r = a.post_raw("/admin/equipes", &format!("_csrf={tok}&name=%ZZ%"), &[]).await;
    assert!(r.status == 422 || r.status == 303, "malformed percent-encoding is decoded leniently: {}", r.status);
    assert_eq!(a.get("/nada/aqui").await.status, 404);
    let r = app.client().get("/nada").await;
    assert_eq!(r.status, 404);
    r.has(&["Página não encontrada"]);
}
