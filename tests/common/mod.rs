//! Test harness: a fresh Atende on a temporary data folder, driven through the
//! real route tree with `warp::test`, and a cookie-keeping client.
#![allow(dead_code)]

pub mod browser;
pub mod mail;
pub mod wa;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use atende::app::AppState;
use atende::clock::Clock;
use atende::config::Config;
use atende::domain::registers::{self, Value};
use atende::domain::users::{self, Role, UserInput};
use atende::domain::{Actor, auth};
use tempfile::TempDir;
use warp::filters::BoxedFilter;
use warp::reply::Response;

/// Password used for every test user.
pub const PW: &str = "senha-segura-123";

/// A running application on its own temporary database.
pub struct TestApp {
    /// Shared state (db, clock, config).
    pub state: Arc<AppState>,
    /// The real route tree.
    pub routes: BoxedFilter<(Response,)>,
    /// The temporary data folder (deleted on drop).
    pub dir: TempDir,
}

/// A response as the test sees it.
#[derive(Debug)]
pub struct Resp {
    /// HTTP status.
    pub status: u16,
    /// Body as text (lossy).
    pub body: String,
    /// Body as sent.
    pub bytes: Vec<u8>,
    /// Headers.
    pub headers: warp::http::HeaderMap,
}

impl Resp {
    /// The Location header.
    pub fn location(&self) -> &str {
        self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    /// Asserts the body contains every needle.
    pub fn has(&self, needles: &[&str]) -> &Self {
        for n in needles {
            assert!(self.body.contains(n), "expected {n:?} in body (status {}):\n{}", self.status, self.body);
        }
        self
    }
    /// Asserts the body contains none of the needles.
    pub fn lacks(&self, needles: &[&str]) -> &Self {
        for n in needles {
            assert!(!self.body.contains(n), "did not expect {n:?} in body:\n{}", self.body);
        }
        self
    }
}

impl TestApp {
    /// A fresh app with default config.
    pub async fn new() -> TestApp {
        Self::with(|_| {}).await
    }

    /// A fresh app with config tweaks.
    pub async fn with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
        tweak(&mut config);
        let state = AppState::open(config, Clock::frozen_now()).await.expect("open app");
        let routes = atende::web::routes(state.clone());
        TestApp { state, routes, dir }
    }

    /// A client with no cookies.
    pub fn client(&self) -> Client<'_> {
        Client { app: self, cookies: HashMap::new(), csrf: None, ip: [10, 0, 0, 7] }
    }

    /// Creates the first administrator through the setup link; returns a
    /// logged-in client.
    pub async fn admin(&self) -> Client<'_> {
        let token = auth::issue_setup_token(&self.state.db, self.state.now()).await.unwrap().expect("no admin yet");
        let mut c = self.client();
        let r = c.get(&format!("/setup/{token}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = c
            .post(
                &format!("/setup/{token}"),
                &[("name", "Ana Admin"), ("login", "admin@empresa.com"), ("password", PW), ("password2", PW)],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        c.get("/").await;
        c
    }

    /// Creates a team directly through the domain; returns its id.
    pub async fn team(&self, name: &str) -> i64 {
        let spec = registers::spec("equipes").unwrap();
        registers::create(&self.state.db, spec, vec![Value::Text(name.into())], self.actor()).await.unwrap()
    }

    /// Creates a web chat queue for `team` directly through the domain.
    pub async fn queue(&self, name: &str, team: i64, capacity: i64, timeout: i64) -> i64 {
        let spec = registers::spec("filas").unwrap();
        let mut v = registers::blank(spec);
        v[0] = Value::Text(name.into());
        v[1] = Value::Text("webchat".into());
        v[2] = Value::Int(team);
        v[4] = Value::Int(timeout);
        v[5] = Value::Int(capacity);
        registers::create(&self.state.db, spec, v, self.actor()).await.unwrap()
    }

    /// Creates a user directly through the domain; returns its id.
    pub async fn user(&self, login: &str, role: Role, teams: &[i64]) -> i64 {
        let u = UserInput {
            name: format!("Nome {login}"),
            login: login.into(),
            role,
            access_group_id: None,
            team_ids: teams.to_vec(),
            password: Some(PW.into()),
        };
        users::create(&self.state.db, u, self.actor()).await.unwrap()
    }

    /// Gives a user an access group holding `permissions` (space-separated codes).
    pub async fn grant(&self, user: i64, permissions: &'static str) {
        self.state
            .db
            .write(move |c| {
                c.execute(
                    "INSERT INTO access_groups (name, permissions, created_at) VALUES (?1, ?2, 0)",
                    rusqlite::params![format!("grupo {user}"), permissions],
                )?;
                c.execute("UPDATE users SET access_group_id = ?1 WHERE id = ?2", [c.last_insert_rowid(), user])?;
                Ok(())
            })
            .await
            .unwrap();
    }

    /// A system actor for direct domain calls.
    pub fn actor(&self) -> Actor {
        Actor::system("teste", self.state.now())
    }

    /// Logs `login` in with the test password.
    pub async fn login(&self, login: &str) -> Client<'_> {
        let mut c = self.client();
        let r = c.login(login, PW).await;
        assert_eq!(r.status, 303, "login failed: {}", r.body);
        c.get("/").await;
        c
    }

    /// Serves the routes on a real loopback port (for browsers and load).
    pub async fn serve(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let routes = self.routes.clone();
        tokio::spawn(warp::serve(routes).incoming(listener).run());
        addr
    }

    /// Counts rows of a table.
    pub async fn count(&self, table: &'static str) -> i64 {
        self.state
            .db
            .read(move |c| Ok(c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?))
            .await
            .unwrap()
    }

    /// Counts audit entries with an action.
    pub async fn audits(&self, action: &'static str) -> i64 {
        self.state
            .db
            .read(move |c| Ok(c.query_row("SELECT count(*) FROM audit_log WHERE action = ?1", [action], |r| r.get(0))?))
            .await
            .unwrap()
    }
}

/// A browser-like client: keeps cookies and the CSRF token.
pub struct Client<'a> {
    app: &'a TestApp,
    /// Cookies by name.
    pub cookies: HashMap<String, String>,
    /// Last CSRF token seen in a page.
    pub csrf: Option<String>,
    /// Remote address used for requests.
    pub ip: [u8; 4],
}

fn find_between<'b>(s: &'b str, start: &str, end: &str) -> Option<&'b str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(&s[i..j])
}

impl Client<'_> {
    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&mut self, req: warp::test::RequestBuilder, extra: &[(&str, &str)]) -> Resp {
        let mut req = req.remote_addr(SocketAddr::from((self.ip, 50000))).header("host", "atende.local:8080");
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.cookie_header());
        }
        let res = req.reply(&self.app.routes).await;
        for v in res.headers().get_all("set-cookie") {
            let s = v.to_str().unwrap_or("");
            let (kv, rest) = s.split_once(';').unwrap_or((s, ""));
            if let Some((k, val)) = kv.split_once('=') {
                if val.is_empty() || rest.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), val.to_string());
                }
                if k == "atende_sid" {
                    self.csrf = None;
                }
            }
        }
        let body = String::from_utf8_lossy(res.body()).into_owned();
        if let Some(tok) = find_between(&body, "name=\"_csrf\" value=\"", "\"") {
            self.csrf = Some(tok.to_string());
        } else if let Some(tok) = find_between(&body, "name=\"csrf-token\" content=\"", "\"").filter(|t| !t.is_empty())
        {
            self.csrf = Some(tok.to_string());
        }
        Resp { status: res.status().as_u16(), body, bytes: res.body().to_vec(), headers: res.headers().clone() }
    }

    /// GET a path with extra headers.
    pub async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.send(warp::test::request().method("GET").path(path), headers).await
    }

    /// GET a path.
    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(warp::test::request().method("GET").path(path), &[]).await
    }

    async fn token(&mut self) -> String {
        if self.csrf.is_none() {
            let page = if self.cookies.contains_key("atende_sid") { "/conta" } else { "/entrar" };
            self.get(page).await;
        }
        self.csrf.clone().unwrap_or_default()
    }

    /// POST a form with the CSRF token added.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let tok = self.token().await;
        let mut all: Vec<(&str, &str)> = vec![("_csrf", tok.as_str())];
        all.extend_from_slice(fields);
        let body = form_body(&all);
        self.post_raw(path, &body, &[]).await
    }

    /// POST a raw body with extra headers (no CSRF added).
    pub async fn post_raw(&mut self, path: &str, body: &str, headers: &[(&str, &str)]) -> Resp {
        let req = warp::test::request()
            .method("POST")
            .path(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req, headers).await
    }

    /// POST a multipart form: the CSRF token first (unless `csrf` is false),
    /// then `fields`, then the file part, if any.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
        csrf: bool,
    ) -> Resp {
        let tok = self.token().await;
        let boundary = "----atendeTestBoundary7MA4YWxk";
        let mut body: Vec<u8> = Vec::new();
        let mut all: Vec<(&str, &str)> = Vec::new();
        if csrf {
            all.push(("_csrf", tok.as_str()));
        }
        all.extend_from_slice(fields);
        for (k, v) in all {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
            );
        }
        if let Some((name, data)) = file {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        self.post_bytes(path, &format!("multipart/form-data; boundary={boundary}"), body, &[]).await
    }

    /// POST raw bytes with a content type and extra headers.
    pub async fn post_bytes(
        &mut self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let req = warp::test::request().method("POST").path(path).header("content-type", content_type).body(body);
        self.send(req, headers).await
    }

    /// Logs in through the form.
    pub async fn login(&mut self, login: &str, pw: &str) -> Resp {
        self.post("/entrar", &[("login", login), ("password", pw)]).await
    }
}

/// Encodes form fields.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The real binary running on a data folder; killed (SIGKILL) when dropped.
pub struct Spawned(pub std::process::Child);

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the real `atende` binary on `data`, listening on 127.0.0.1:`port`,
/// and waits (at most 60 s) until it accepts connections.
pub fn spawn_server(data: &std::path::Path, port: u16) -> Spawned {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_atende"))
        .arg("--data")
        .arg(data)
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .env("ATENDE_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start atende");
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).is_err() {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "atende did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Spawned(child)
}
