//! End-to-end test in a real headless Chromium driven through chromedriver:
//! first-run setup, logout/login, creating an agent (and a bad submission),
//! and what the agent sees (menu, 403 on /admin, a screenshot).
//!
//! Needs Debian's `chromium` and `chromium-driver` packages; it fails (never
//! skips) when they are missing.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::browser::{Browser, start_browser, start_driver};

const ADMIN_NAME: &str = "Beatriz Navegadora";
const ADMIN_LOGIN: &str = "beatriz@empresa.com";
const ADMIN_PW: &str = "senha-do-navegador-1";
const AGENT_NAME: &str = "Carlos Atendente";
const AGENT_LOGIN: &str = "carlos@empresa.com";
const AGENT_PW: &str = "senha-do-agente-22";

fn screenshot_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("e2e-agent-home.png")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_sets_up_creates_agent_and_agent_sees_limited_menu() {
    let started = Instant::now();
    let app = common::TestApp::new().await;
    let addr = app.serve().await;
    let token = atende::domain::auth::issue_setup_token(&app.state.db, app.state.now())
        .await
        .unwrap()
        .expect("a fresh app has no administrator yet");

    let driver = start_driver();
    let profile = tempfile::tempdir().expect("profile dir");
    let b = Browser {
        c: start_browser(&driver, profile.path(), (1280, 900)).await,
        base: format!("http://127.0.0.1:{}", addr.port()),
    };

    // 1–2. First-run setup through the one-time link.
    b.goto(&format!("/setup/{token}")).await;
    b.wait_text("h1", "Configuração inicial").await;
    b.fill("f-name", ADMIN_NAME).await;
    b.fill("f-login", ADMIN_LOGIN).await;
    b.fill("f-password", ADMIN_PW).await;
    b.fill("f-password2", ADMIN_PW).await;
    b.click_text("form button[type='submit']", "Criar administrador").await;
    b.wait_text("h1", &format!("Olá, {ADMIN_NAME}")).await;
    b.wait_path("/").await;
    let menu = b.menu_text().await;
    assert!(menu.contains("Administração"), "admin menu: {menu}");
    assert!(menu.contains("Início"), "admin menu: {menu}");

    // 3. Log out, then back in with the new account.
    b.logout().await;
    b.login(ADMIN_LOGIN, ADMIN_PW, ADMIN_NAME).await;

    // 4. Create an agent, clicking through the menu like a person.
    b.click_text("nav.sidebar a.menu-item", "Administração").await;
    b.wait_path("/admin").await;
    b.click("a.admin-tile[href='/admin/usuarios']").await;
    b.wait_path("/admin/usuarios").await;
    b.click_text("a.btn.btn-primary", "Novo usuário").await;
    b.wait_path("/admin/usuarios/novo").await;
    b.find("#f-name").await;
    let users_before = app.count("users").await;

    // 5. Bad input first: an empty name is refused with a clear message.
    b.fill("f-name", "").await;
    b.fill("f-login", AGENT_LOGIN).await;
    b.fill("f-password", AGENT_PW).await;
    b.click_text("form.form button[type='submit']", "Salvar").await;
    b.wait_text("p.field-error", "Campo obrigatório.").await;
    assert_eq!(app.count("users").await, users_before, "a user was created from a form with an empty name");
    // What was typed is kept, apart from the password.
    let kept = b.find("#f-login").await.prop("value").await.unwrap().unwrap_or_default();
    assert_eq!(kept, AGENT_LOGIN, "login field should keep the typed value");

    // Now the real thing.
    b.fill("f-name", AGENT_NAME).await;
    b.fill("f-login", AGENT_LOGIN).await;
    b.fill("f-password", AGENT_PW).await;
    let role = b.find("#f-role").await;
    role.select_by_value("agent").await.expect("choose role");
    assert_eq!(role.prop("value").await.unwrap().as_deref(), Some("agent"), "role should be Agente");
    b.click_text("form.form button[type='submit']", "Salvar").await;
    b.wait_text("div.flash", "Registro criado.").await;
    b.wait_path("/admin/usuarios").await;
    let table = b.wait_text("table.table", AGENT_NAME).await;
    assert!(table.contains(AGENT_LOGIN), "users table: {table}");
    assert!(table.contains("Agente"), "users table: {table}");
    assert_eq!(app.count("users").await, users_before + 1);

    // 6. The agent logs in and sees only their part of the app.
    b.logout().await;
    b.login(AGENT_LOGIN, AGENT_PW, AGENT_NAME).await;
    let menu = b.menu_text().await;
    assert!(menu.contains("Início"), "agent menu: {menu}");
    assert!(menu.contains("Minha conta"), "agent menu: {menu}");
    assert!(!menu.contains("Administração"), "agent must not see Administração: {menu}");

    // 7. Screenshot of the agent's home page for people to look at.
    let png = b.c.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
    let shot = screenshot_path();
    std::fs::create_dir_all(shot.parent().unwrap()).expect("create target dir");
    std::fs::write(&shot, &png).expect("write screenshot");
    println!("screenshot written to {}", shot.display());

    // Typing the admin address directly is refused.
    b.goto("/admin").await;
    b.wait_text("div.error-page h1", "Acesso negado").await;
    let text = b.page_text().await;
    assert!(text.contains("403"), "403 page: {text}");

    b.c.clone().close().await.expect("close browser session");
    drop(driver);
    println!("browser end-to-end test took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_layout_hides_the_menu_behind_a_toggle() {
    let app = common::TestApp::new().await;
    let addr = app.serve().await;
    app.admin().await;
    for i in 0..8 {
        app.team(&format!("Equipe com um nome bem comprido número {i}")).await;
    }
    let driver = start_driver();
    let profile = tempfile::tempdir().expect("profile dir");
    let b = Browser {
        c: start_browser(&driver, profile.path(), (390, 844)).await,
        base: format!("http://127.0.0.1:{}", addr.port()),
    };
    b.goto("/entrar").await;
    b.login("admin@empresa.com", common::PW, "Ana Admin").await;
    let nav = b.find("nav.sidebar").await;
    assert!(!nav.is_displayed().await.unwrap(), "on a phone the menu starts hidden");
    b.click("button.menu-toggle").await;
    let start = Instant::now();
    while !nav.is_displayed().await.unwrap() {
        assert!(start.elapsed() < common::browser::WAIT, "menu did not open");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    b.click_text("nav.sidebar a.menu-item", "Administração").await;
    b.wait_path("/admin").await;
    b.goto("/admin/equipes").await;
    b.wait_text("table.table", "número 7").await;
    // Nothing wider than the screen: wide tables scroll inside their own box.
    let overflow =
        b.c.execute("return document.documentElement.scrollWidth - window.innerWidth;", vec![]).await.unwrap();
    assert!(overflow.as_i64().unwrap_or(1) <= 0, "page overflows the phone screen by {overflow}px");
    let png = b.c.screenshot().await.expect("screenshot");
    std::fs::write(Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("e2e-phone-teams.png"), &png)
        .expect("write");
    b.c.clone().close().await.expect("close browser session");
    drop(driver);
}
