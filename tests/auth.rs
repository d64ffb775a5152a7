//! Setup link, login/logout, sessions, CSRF, throttling, passwords.

mod common;

use atende::domain::auth;
use atende::domain::users::Role;
use common::{PW, TestApp};

#[tokio::test]
async fn setup_link_creates_first_admin_once() {
    let app = TestApp::new().await;
    // Before setup, pages require login.
    let mut anon = app.client();
    let r = anon.get("/").await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/entrar?next="));

    let token = auth::issue_setup_token(&app.state.db, app.state.now()).await.unwrap().unwrap();
    let mut c = app.client();
    c.get(&format!("/setup/{token}")).await.has(&["Configuração inicial", "Criar administrador"]);
    // Bad input: nothing created, clear messages.
    let r = c
        .post(&format!("/setup/{token}"), &[("name", ""), ("login", "a b"), ("password", "curta"), ("password2", "x")])
        .await;
    assert_eq!(r.status, 422);
    r.has(&["Campo obrigatório.", "nenhum espaço", "pelo menos 8 caracteres"]);
    assert_eq!(app.count("users").await, 0);
    let r = c
        .post(
            &format!("/setup/{token}"),
            &[("name", "Ana"), ("login", "ana@x.com"), ("password", PW), ("password2", "outra-senha-123")],
        )
        .await;
    assert_eq!(r.status, 422);
    r.has(&["As senhas não conferem."]);
    // Success logs in.
    let r = c
        .post(
            &format!("/setup/{token}"),
            &[("name", "Ana"), ("login", "ana@x.com"), ("password", PW), ("password2", PW)],
        )
        .await;
    assert_eq!(r.status, 303);
    c.get("/").await.has(&["Olá, Ana", "Administração"]);
    assert_eq!(app.audits("setup.admin_created").await, 1);
    // Single use: the link is dead now, and no new link is issued.
    let mut other = app.client();
    let r = other.get(&format!("/setup/{token}")).await;
    assert_eq!(r.status, 404);
    r.has(&["Link inválido"]);
    let r = other
        .post(
            &format!("/setup/{token}"),
            &[("name", "Eve"), ("login", "eve@x.com"), ("password", PW), ("password2", PW)],
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(app.count("users").await, 1);
    assert!(auth::issue_setup_token(&app.state.db, app.state.now()).await.unwrap().is_none());
}

#[tokio::test]
async fn setup_link_expires_after_24h_and_new_link_replaces_old() {
    let app = TestApp::new().await;
    let old = auth::issue_setup_token(&app.state.db, app.state.now()).await.unwrap().unwrap();
    let new = auth::issue_setup_token(&app.state.db, app.state.now()).await.unwrap().unwrap();
    let mut c = app.client();
    assert_eq!(c.get(&format!("/setup/{old}")).await.status, 404);
    assert_eq!(c.get(&format!("/setup/{new}")).await.status, 200);
    app.state.clock.advance(24 * 3600 + 1);
    assert_eq!(c.get(&format!("/setup/{new}")).await.status, 404);
    assert_eq!(c.get("/setup/not-a-token").await.status, 404);
}

#[tokio::test]
async fn login_logout_and_session_cookie_flags() {
    let app = TestApp::new().await;
    app.admin().await;
    let mut c = app.client();
    c.get("/entrar").await.has(&["Entrar", "name=\"_csrf\""]);
    let r = c.login("admin@empresa.com", "errada-123").await;
    assert_eq!(r.status, 401);
    r.has(&["Login ou senha incorretos."]);
    let r = c.login("ADMIN@empresa.com", PW).await;
    assert_eq!(r.status, 303);
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|s| s.starts_with("atende_sid="))
        .unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    // The session token is stored only as a hash.
    let token = c.cookies["atende_sid"].clone();
    let stored: i64 = app
        .state
        .db
        .read(move |db| {
            Ok(db.query_row(
                "SELECT count(*) FROM sessions WHERE token_hash = ?1",
                [auth::token_hash(&token)],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(stored, 1);
    c.get("/").await.has(&["Olá, Ana Admin"]);
    let r = c.post("/sair", &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/entrar?msg=logout");
    assert_eq!(c.get("/").await.status, 303);
    assert_eq!(app.audits("auth.login").await, 2);
    assert_eq!(app.audits("auth.login_failed").await, 1);
    assert_eq!(app.audits("auth.logout").await, 1);
    // Passwords are argon2id hashes.
    let hash: String = app
        .state
        .db
        .read(|db| Ok(db.query_row("SELECT password_hash FROM users LIMIT 1", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
}

#[tokio::test]
async fn login_redirects_to_next_but_never_offsite() {
    let app = TestApp::new().await;
    app.admin().await;
    let mut c = app.client();
    let r = c.post("/entrar", &[("login", "admin@empresa.com"), ("password", PW), ("next", "/admin/equipes")]).await;
    assert_eq!(r.location(), "/admin/equipes");
    let mut c = app.client();
    let r = c.post("/entrar", &[("login", "admin@empresa.com"), ("password", PW), ("next", "//evil.example/x")]).await;
    assert_eq!(r.location(), "/");
}

#[tokio::test]
async fn sessions_expire_when_idle_and_absolutely() {
    let app = TestApp::with(|c| {
        c.session_idle_secs = 600;
        c.session_max_secs = 3600;
    })
    .await;
    app.admin().await;
    let mut c = app.login("admin@empresa.com").await;
    app.state.clock.advance(500);
    assert_eq!(c.get("/").await.status, 200, "still within idle time");
    app.state.clock.advance(500);
    assert_eq!(c.get("/").await.status, 200, "activity refreshed the idle timer");
    app.state.clock.advance(601);
    assert_eq!(c.get("/").await.status, 303, "idle expiry");
    let mut c = app.login("admin@empresa.com").await;
    for _ in 0..8 {
        app.state.clock.advance(500);
        let _ = c.get("/").await;
    }
    assert_eq!(c.get("/").await.status, 303, "absolute expiry despite activity");
}

#[tokio::test]
async fn csrf_is_required_on_every_post_and_works_by_lan_ip_or_name() {
    let app = TestApp::new().await;
    let mut admin = app.admin().await;
    let tok = admin.csrf.clone().unwrap();
    // Same-origin requests through a LAN IP or a hostname both work.
    for host in ["192.168.0.10:8080", "atende-pc:8080", "localhost:8080"] {
        let body = common::form_body(&[("_csrf", &tok), ("name", &format!("Equipe {host}"))]);
        let r = admin.post_raw("/admin/equipes", &body, &[("host", host), ("origin", &format!("http://{host}"))]).await;
        assert_eq!(r.status, 303, "host {host}: {}", r.body);
    }
    // A cross-site Origin is refused even with the right token.
    let body = common::form_body(&[("_csrf", &tok), ("name", "Forjada")]);
    let r = admin.post_raw("/admin/equipes", &body, &[("origin", "http://evil.example")]).await;
    assert_eq!(r.status, 403);
    r.has(&["Formulário inválido"]);
    // Missing or wrong token: refused, nothing changes.
    let posts = [
        "/admin/equipes",
        "/admin/equipes/1",
        "/admin/equipes/1/ativo",
        "/admin/usuarios",
        "/admin/usuarios/1",
        "/admin/usuarios/1/senha",
        "/admin/usuarios/1/ativo",
        "/admin/configuracoes",
        "/admin/backup/baixar",
        "/conta/senha",
        "/conta/preferencias",
        "/sair",
    ];
    let before = app.count("audit_log").await;
    for p in posts {
        let r = admin.post_raw(p, "name=X&active=0&password=nova-senha-123", &[]).await;
        assert_eq!(r.status, 403, "{p} without token");
        let r = admin.post_raw(p, "_csrf=wrong&name=X&active=0", &[]).await;
        assert_eq!(r.status, 403, "{p} with a wrong token");
    }
    assert_eq!(app.count("audit_log").await, before);
    assert_eq!(admin.get("/").await.status, 200, "still logged in");
    // Login form: needs the pre-session cookie's token.
    let mut c = app.client();
    let r = c.post_raw("/entrar", &common::form_body(&[("login", "admin@empresa.com"), ("password", PW)]), &[]).await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn login_throttling_is_per_account_not_per_office() {
    let app = TestApp::new().await;
    app.admin().await;
    let t = app.team("Vendas").await;
    app.user("bia@x.com", Role::Agent, &[t]).await;
    let mut c = app.client();
    for i in 0..4 {
        let r = c.login("bia@x.com", "errada-000").await;
        assert_eq!(r.status, 401, "attempt {i}");
    }
    let r = c.login("bia@x.com", "errada-000").await;
    assert_eq!(r.status, 429);
    r.has(&["Muitas tentativas para esta conta", "15 minuto(s)"]);
    // Even the right password is refused while blocked.
    let r = c.login("bia@x.com", PW).await;
    assert_eq!(r.status, 429);
    // Another account from the same IP (same office NAT) is not affected.
    let r = c.login("admin@empresa.com", PW).await;
    assert_eq!(r.status, 303);
    // After the block, the right password works and clears the counter.
    app.state.clock.advance(15 * 60 + 1);
    let mut c = app.client();
    assert_eq!(c.login("bia@x.com", PW).await.status, 303);
}

#[tokio::test]
async fn change_own_password_and_admin_reset() {
    let app = TestApp::new().await;
    let mut admin = app.admin().await;
    let t = app.team("Suporte").await;
    let id = app.user("caio@x.com", Role::Agent, &[t]).await;
    let mut caio = app.login("caio@x.com").await;
    let mut caio2 = app.login("caio@x.com").await;
    // Wrong current password: message, nothing changes.
    let r = caio
        .post(
            "/conta/senha",
            &[("current", "nao-e-essa"), ("password", "nova-senha-456"), ("password2", "nova-senha-456")],
        )
        .await;
    assert_eq!(r.status, 422);
    r.has(&["Senha atual incorreta."]);
    let r = caio.post("/conta/senha", &[("current", PW), ("password", "curta"), ("password2", "curta")]).await;
    assert_eq!(r.status, 422);
    let r = caio
        .post("/conta/senha", &[("current", PW), ("password", "nova-senha-456"), ("password2", "nova-senha-456")])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(caio.get("/conta?ok=password").await.status, 200, "this session stays");
    assert_eq!(caio2.get("/").await.status, 303, "other sessions end");
    let mut c = app.client();
    assert_eq!(c.login("caio@x.com", PW).await.status, 401);
    assert_eq!(c.login("caio@x.com", "nova-senha-456").await.status, 303);
    // Admin resets it; the user's sessions end.
    let r = admin.post(&format!("/admin/usuarios/{id}/senha"), &[("password", "1234")]).await;
    assert_eq!(r.status, 422);
    r.has(&["pelo menos 8 caracteres"]);
    let r = admin.post(&format!("/admin/usuarios/{id}/senha"), &[("password", "definida-pelo-admin")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(caio.get("/").await.status, 303);
    let mut c = app.client();
    assert_eq!(c.login("caio@x.com", "definida-pelo-admin").await.status, 303);
    assert_eq!(app.audits("auth.password_changed").await, 1);
    assert_eq!(app.audits("user.password_reset").await, 1);
    // Unknown user id: 404.
    assert_eq!(admin.post("/admin/usuarios/9999/senha", &[("password", "definida-pelo-admin")]).await.status, 404);
}

#[tokio::test]
async fn deactivated_user_cannot_log_in_and_loses_sessions() {
    let app = TestApp::new().await;
    let mut admin = app.admin().await;
    let id = app.user("dani@x.com", Role::Agent, &[]).await;
    let mut dani = app.login("dani@x.com").await;
    let r = admin.post(&format!("/admin/usuarios/{id}/ativo"), &[("active", "0")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(dani.get("/").await.status, 303);
    assert_eq!(app.client().login("dani@x.com", PW).await.status, 401);
    // Nobody deactivates themselves or the last admin.
    let r = admin.post("/admin/usuarios/1/ativo", &[("active", "0")]).await;
    assert_eq!(r.status, 400);
    r.has(&["Você não pode desativar o seu próprio usuário."]);
}

#[tokio::test]
async fn user_preference_switches_language_to_english() {
    let app = TestApp::new().await;
    let mut admin = app.admin().await;
    admin.get("/").await.has(&["Início", "Administração"]);
    let r = admin.post("/conta/preferencias", &[("locale", "en")]).await;
    assert_eq!(r.status, 303);
    admin.get("/").await.has(&["Home", "Administration", "Log out"]).lacks(&["Administração"]);
    let r = admin.post("/conta/preferencias", &[("locale", "klingon")]).await;
    assert_eq!(r.status, 400);
    admin.post("/conta/preferencias", &[("locale", "")]).await;
    admin.get("/").await.has(&["Início"]);
}
