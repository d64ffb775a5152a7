//! End-to-end test in a real headless Chromium driven through chromedriver:
//! first-run setup, logout/login, creating an agent (and a bad submission),
//! and what the agent sees (menu, 403 on /admin, a screenshot).
//!
//! Needs Debian's `chromium` and `chromium-driver` packages; it fails (never
//! skips) when they are missing.

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Upper bound for every wait on the browser.
const WAIT: Duration = Duration::from_secs(10);

const ADMIN_NAME: &str = "Beatriz Navegadora";
const ADMIN_LOGIN: &str = "beatriz@empresa.com";
const ADMIN_PW: &str = "senha-do-navegador-1";
const AGENT_NAME: &str = "Carlos Atendente";
const AGENT_LOGIN: &str = "carlos@empresa.com";
const AGENT_PW: &str = "senha-do-agente-22";

/// A chromedriver process, killed when dropped (also when the test panics).
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().unwrap().port()
}

fn require(path: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} not found: this end-to-end test needs a headless Chromium and its driver; \
         install them with `sudo apt-get install chromium chromium-driver`"
    );
}

/// Starts chromedriver on a free port and waits (bounded) until it listens.
fn start_driver() -> Driver {
    require(CHROMIUM);
    require(CHROMEDRIVER);
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
    let mut driver = Driver { child, port };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let start = Instant::now();
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return driver;
        }
        if let Ok(Some(status)) = driver.child.try_wait() {
            panic!("chromedriver exited early with {status}");
        }
        assert!(start.elapsed() < WAIT, "chromedriver did not listen on port {port} within {WAIT:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Opens a headless Chromium session with a fresh profile folder.
async fn start_browser(driver: &Driver, profile: &Path) -> Client {
    let caps = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--window-size=1280,900",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let serde_json::Value::Object(caps) = caps else { unreachable!() };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session through chromedriver: {e}"))
}

/// The browser plus the address of the app under test.
struct Browser {
    c: Client,
    base: String,
}

impl Browser {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn goto(&self, path: &str) {
        self.c.goto(&self.url(path)).await.unwrap_or_else(|e| panic!("goto {path}: {e}"));
    }

    /// Where the browser is now, for failure messages.
    async fn whereabouts(&self) -> String {
        let url = self.c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        let body = match self.c.find(Locator::Css("body")).await {
            Ok(b) => b.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        format!("at {url}, page text:\n{body}")
    }

    /// Waits until an element matching `css` shows text containing `needle`;
    /// returns that element's text.
    async fn wait_text(&self, css: &str, needle: &str) -> String {
        let start = Instant::now();
        loop {
            if let Ok(els) = self.c.find_all(Locator::Css(css)).await {
                for el in els {
                    // The page may be replaced under us (stale element): retry.
                    if let Ok(text) = el.text().await
                        && text.contains(needle)
                    {
                        return text;
                    }
                }
            }
            if start.elapsed() > WAIT {
                panic!("no {css:?} with text {needle:?} within {WAIT:?}; {}", self.whereabouts().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the current URL's path is `path`.
    async fn wait_path(&self, path: &str) {
        let start = Instant::now();
        loop {
            if let Ok(u) = self.c.current_url().await
                && u.path() == path
            {
                return;
            }
            if start.elapsed() > WAIT {
                panic!("did not reach {path} within {WAIT:?}; {}", self.whereabouts().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for an element to appear.
    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self.c.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
            Ok(el) => el,
            Err(e) => panic!("no {css:?} within {WAIT:?} ({e}); {}", self.whereabouts().await),
        }
    }

    /// Text of the whole page.
    async fn page_text(&self) -> String {
        self.find("body").await.text().await.expect("body text")
    }

    /// Types `value` into the input with id `id`, replacing what was there.
    async fn fill(&self, id: &str, value: &str) {
        let el = self.find(&format!("#{id}")).await;
        el.clear().await.unwrap_or_else(|e| panic!("clear #{id}: {e}"));
        if !value.is_empty() {
            el.send_keys(value).await.unwrap_or_else(|e| panic!("type into #{id}: {e}"));
        }
    }

    async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap_or_else(|e| panic!("click {css:?}: {e}"));
    }

    /// Clicks the element matching `css` whose text contains `label`.
    async fn click_text(&self, css: &str, label: &str) {
        let start = Instant::now();
        loop {
            if let Ok(els) = self.c.find_all(Locator::Css(css)).await {
                for el in els {
                    if let Ok(text) = el.text().await
                        && text.contains(label)
                    {
                        el.click().await.unwrap_or_else(|e| panic!("click {css:?} {label:?}: {e}"));
                        return;
                    }
                }
            }
            if start.elapsed() > WAIT {
                panic!(
                    "nothing to click: no {css:?} with text {label:?} within {WAIT:?}; {}",
                    self.whereabouts().await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Logs out with the top-bar button and checks the goodbye notice.
    async fn logout(&self) {
        self.click_text("form[action='/sair'] button", "Sair").await;
        self.wait_text("div.flash", "Você saiu com segurança.").await;
        self.wait_path("/entrar").await;
    }

    /// Logs in through the login page (already open) and waits for the home page.
    async fn login(&self, login: &str, password: &str, name: &str) {
        self.wait_text("h1", "Entrar").await;
        self.fill("f-login", login).await;
        self.fill("f-password", password).await;
        self.click_text("form[action='/entrar'] button[type='submit']", "Entrar").await;
        self.wait_text("h1", &format!("Olá, {name}")).await;
        self.wait_path("/").await;
    }

    /// The text of the left menu.
    async fn menu_text(&self) -> String {
        self.find("nav.sidebar").await.text().await.expect("menu text")
    }
}

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
    let b =
        Browser { c: start_browser(&driver, profile.path()).await, base: format!("http://127.0.0.1:{}", addr.port()) };

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
