//! Headless Chromium through chromedriver, for end-to-end tests. A missing
//! browser fails the test with the install line; it never skips.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Upper bound for every wait on the browser.
pub const WAIT: Duration = Duration::from_secs(10);

/// A chromedriver process, killed when dropped (also when the test panics).
pub struct Driver {
    child: Child,
    /// Port chromedriver listens on.
    pub port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver runs in its own process group with the browsers it
        // started: kill the whole group so a failed test leaves no Chromium.
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.child.id())]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().unwrap().port()
}

/// Fails (never skips) when a browser binary is missing.
pub fn require(path: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} not found: this end-to-end test needs a headless Chromium and its driver; \
         install them with `sudo apt-get install chromium chromium-driver`"
    );
}

/// Starts chromedriver on a free port and waits (bounded) until it listens.
pub fn start_driver() -> Driver {
    require(CHROMIUM);
    require(CHROMEDRIVER);
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .process_group(0)
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
pub async fn start_browser(driver: &Driver, profile: &Path, size: (u32, u32)) -> Client {
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
                format!("--window-size={},{}", size.0, size.1),
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
pub struct Browser {
    /// The WebDriver client.
    pub c: Client,
    /// Base URL of the app under test.
    pub base: String,
}

impl Browser {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn goto(&self, path: &str) {
        self.c.goto(&self.url(path)).await.unwrap_or_else(|e| panic!("goto {path}: {e}"));
    }

    /// Where the browser is now, for failure messages.
    pub async fn whereabouts(&self) -> String {
        let url = self.c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        let body = match self.c.find(Locator::Css("body")).await {
            Ok(b) => b.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        format!("at {url}, page text:\n{body}")
    }

    /// Waits until an element matching `css` shows text containing `needle`;
    /// returns that element's text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
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
    pub async fn wait_path(&self, path: &str) {
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
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self.c.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
            Ok(el) => el,
            Err(e) => panic!("no {css:?} within {WAIT:?} ({e}); {}", self.whereabouts().await),
        }
    }

    /// Text of the whole page.
    pub async fn page_text(&self) -> String {
        self.find("body").await.text().await.expect("body text")
    }

    /// Types `value` into the input with id `id`, replacing what was there.
    pub async fn fill(&self, id: &str, value: &str) {
        let el = self.find(&format!("#{id}")).await;
        el.clear().await.unwrap_or_else(|e| panic!("clear #{id}: {e}"));
        if !value.is_empty() {
            el.send_keys(value).await.unwrap_or_else(|e| panic!("type into #{id}: {e}"));
        }
    }

    /// Scrolls the field matching `css` into view, as a person would, and
    /// types `value` into it (the composer's foot scrolls on its own, which
    /// the driver does not always do for it).
    pub async fn type_in(&self, css: &str, value: &str) {
        let el = self.find(css).await;
        let arg = serde_json::to_value(&el).unwrap_or_default();
        let _ = self.c.execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg]).await;
        el.send_keys(value).await.unwrap_or_else(|e| panic!("type into {css:?}: {e}"));
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap_or_else(|e| panic!("click {css:?}: {e}"));
    }

    /// Clicks the element matching `css` whose text contains `label`.
    pub async fn click_text(&self, css: &str, label: &str) {
        let start = Instant::now();
        loop {
            if let Ok(els) = self.c.find_all(Locator::Css(css)).await {
                for el in els {
                    if let Ok(text) = el.text().await
                        && text.contains(label)
                    {
                        // A live refresh may replace the element under us: try again.
                        if el.click().await.is_ok() {
                            return;
                        }
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
    pub async fn logout(&self) {
        self.click_text("form[action='/sair'] button", "Sair").await;
        self.wait_text("div.flash", "Você saiu com segurança.").await;
        self.wait_path("/entrar").await;
    }

    /// Logs in through the login page (already open) and waits for the home page.
    pub async fn login(&self, login: &str, password: &str, name: &str) {
        self.wait_text("h1", "Entrar").await;
        self.fill("f-login", login).await;
        self.fill("f-password", password).await;
        self.click_text("form[action='/entrar'] button[type='submit']", "Entrar").await;
        self.wait_text("h1", &format!("Olá, {name}")).await;
        self.wait_path("/").await;
    }

    /// Waits until `script` (a function body) returns true.
    pub async fn wait_true(&self, script: &str, what: &str) {
        let start = Instant::now();
        loop {
            let v = self.c.execute(script, vec![]).await.unwrap_or_default();
            if v.as_bool() == Some(true) {
                return;
            }
            if start.elapsed() > WAIT {
                panic!("{what}: not true within {WAIT:?}; {}", self.whereabouts().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The text of the left menu.
    pub async fn menu_text(&self) -> String {
        self.find("nav.sidebar").await.text().await.expect("menu text")
    }
}

// ---- the web chat widget (inside its shadow root) ----

/// Finds the widget's shadow root as `s` in page scripts.
pub const W: &str = "const r = document.querySelector('#atende-widget'); const s = r && r.shadowRoot;";

/// Waits until the chat widget has loaded its configuration.
pub async fn widget_ready(b: &Browser) {
    let start = Instant::now();
    loop {
        let v =
            b.c.execute(
                &format!("{W} return !!(s && s.querySelector('.bubble') && s.querySelector('.title').textContent);"),
                vec![],
            )
            .await
            .unwrap();
        if v == json!(true) {
            return;
        }
        assert!(start.elapsed() < WAIT, "the widget did not load");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Types and sends a visitor message in the widget.
pub async fn widget_send(b: &Browser, text: &str) {
    let js = format!(
        "{W} s.querySelector('textarea').value = arguments[0]; s.querySelector('form.chat').requestSubmit(); return true;"
    );
    b.c.execute(&js, vec![json!(text)]).await.unwrap();
}

/// Waits until the widget shows a message containing `needle`.
pub async fn widget_wait(b: &Browser, needle: &str) {
    let start = Instant::now();
    loop {
        let v =
            b.c.execute(
                &format!("{W} return Array.from(s.querySelectorAll('.msgs .m')).map(e => e.textContent).join('\\n');"),
                vec![],
            )
            .await
            .unwrap();
        if v.as_str().unwrap_or("").contains(needle) {
            return;
        }
        assert!(start.elapsed() < WAIT, "the visitor never saw {needle:?}; widget shows {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Serves, on another loopback origin, a shop page with the widget snippet
/// for `queue` of the app at `app_url`; returns its port.
pub async fn serve_site(app_url: &str, queue: i64) -> u16 {
    use warp::Filter;
    let page = format!(
        "<!doctype html><html lang=pt-BR><head><meta charset=utf-8><title>Loja</title></head><body><h1>Loja do Zé</h1>\
         <script src=\"{app_url}/widget.js\" data-queue=\"{queue}\" defer></script></body></html>"
    );
    let site = warp::any().map(move || warp::reply::html(page.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(warp::serve(site).incoming(listener).run());
    port
}
