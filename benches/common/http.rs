//! A small keep-alive HTTP/1.1 client for the benches: whole responses,
//! chunked streams (SSE), the login form, and sequential GET timing.
#![allow(dead_code)] // each bench uses a part

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{PW, R, err, ms};

/// Concurrent logins in [`login_all`].
pub const LOGIN_TASKS: usize = 4;

// ---------------------------------------------------------------- HTTP client

/// Status line and headers of a response.
pub struct Head {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub len: Option<usize>,
    pub chunked: bool,
    pub keep: bool,
}

/// A whole response.
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub keep: bool,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The value a `Set-Cookie` header gives to cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers.iter().filter(|(n, _)| n == "set-cookie").find_map(|(_, v)| {
            let kv = v.split(';').next()?;
            let (k, val) = kv.split_once('=')?;
            (k.trim() == name && !val.is_empty()).then(|| val.trim().to_string())
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn snippet(&self) -> String {
        self.text().chars().take(200).collect()
    }
}

/// A keep-alive HTTP/1.1 connection that reads whole responses (or the
/// chunks of a stream).
pub struct HttpConn {
    pub s: tokio::net::TcpStream,
    pub buf: Vec<u8>,
    pub start: usize,
    pub end: usize,
    pub timeout: Duration,
}

impl HttpConn {
    pub async fn connect(addr: SocketAddr) -> R<HttpConn> {
        let s = tokio::time::timeout(Duration::from_secs(3), tokio::net::TcpStream::connect(addr))
            .await
            .map_err(|_| "connect timeout".to_string())?
            .map_err(err)?;
        s.set_nodelay(true).map_err(err)?;
        Ok(HttpConn { s, buf: vec![0; 64 * 1024], start: 0, end: 0, timeout: Duration::from_secs(10) })
    }

    pub async fn fill(&mut self) -> R<()> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            if self.buf.len() >= 32 * 1024 * 1024 {
                return Err("response too large".into());
            }
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = tokio::time::timeout(self.timeout, self.s.read(&mut self.buf[self.end..]))
            .await
            .map_err(|_| "read timeout".to_string())?
            .map_err(err)?;
        if n == 0 {
            return Err("connection closed".into());
        }
        self.end += n;
        Ok(())
    }

    /// The next CRLF-terminated line (without the CRLF).
    pub async fn line(&mut self) -> R<String> {
        for _ in 0..100_000 {
            if let Some(i) = self.buf[self.start..self.end].windows(2).position(|w| w == b"\r\n") {
                let l = String::from_utf8_lossy(&self.buf[self.start..self.start + i]).into_owned();
                self.start += i + 2;
                return Ok(l);
            }
            self.fill().await?;
        }
        Err("line too long".into())
    }

    /// Exactly `n` bytes.
    pub async fn take(&mut self, n: usize) -> R<Vec<u8>> {
        for _ in 0..1_000_000 {
            if self.end - self.start >= n {
                let v = self.buf[self.start..self.start + n].to_vec();
                self.start += n;
                return Ok(v);
            }
            self.fill().await?;
        }
        Err("body never completed".into())
    }

    /// Whatever bytes are available (waiting for at least one).
    pub async fn some(&mut self) -> R<Vec<u8>> {
        if self.start == self.end {
            self.fill().await?;
        }
        let v = self.buf[self.start..self.end].to_vec();
        self.start = self.end;
        Ok(v)
    }

    pub async fn head(&mut self) -> R<Head> {
        let status_line = self.line().await?;
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let mut h = Head { status, headers: Vec::new(), len: None, chunked: false, keep: true };
        for _ in 0..200 {
            let l = self.line().await?;
            if l.is_empty() {
                return Ok(h);
            }
            let Some((name, value)) = l.split_once(':') else {
                continue;
            };
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_string());
            match name.as_str() {
                "content-length" => h.len = Some(value.parse().map_err(err)?),
                "transfer-encoding" => h.chunked = value.to_ascii_lowercase().contains("chunked"),
                "connection" => h.keep = !value.eq_ignore_ascii_case("close"),
                _ => {}
            }
            h.headers.push((name, value));
        }
        Err("too many headers".into())
    }

    /// The next chunk of a chunked body; `None` after the last one.
    pub async fn chunk(&mut self) -> R<Option<Vec<u8>>> {
        let l = self.line().await?;
        let size = usize::from_str_radix(l.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|e| format!("bad chunk size {l:?}: {e}"))?;
        if size == 0 {
            for _ in 0..200 {
                if self.line().await?.is_empty() {
                    break;
                }
            }
            return Ok(None);
        }
        let d = self.take(size).await?;
        if !self.line().await?.is_empty() {
            return Err("chunk not followed by CRLF".into());
        }
        Ok(Some(d))
    }

    pub async fn body(&mut self, h: &Head) -> R<Vec<u8>> {
        if h.chunked {
            let mut out = Vec::new();
            for _ in 0..1_000_000 {
                match self.chunk().await? {
                    Some(d) => out.extend_from_slice(&d),
                    None => return Ok(out),
                }
            }
            Err("too many chunks".into())
        } else if let Some(n) = h.len {
            self.take(n).await
        } else if h.status == 204 || h.status == 304 || (100..200).contains(&h.status) {
            Ok(Vec::new())
        } else {
            Err(format!("status {} without a length", h.status))
        }
    }

    /// Sends a request and reads the whole response.
    pub async fn request(&mut self, req: &[u8]) -> R<Resp> {
        tokio::time::timeout(self.timeout, self.s.write_all(req))
            .await
            .map_err(|_| "write timeout".to_string())?
            .map_err(err)?;
        let h = self.head().await?;
        let body = self.body(&h).await?;
        Ok(Resp { status: h.status, keep: h.keep, headers: h.headers, body })
    }
}

pub fn get_req(path: &str, cookie: Option<&str>) -> Vec<u8> {
    let c = cookie.map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{c}\r\n").into_bytes()
}

pub fn post_req(path: &str, content_type: &str, body: &str, cookie: Option<&str>) -> Vec<u8> {
    let c = cookie.map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{c}Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Logs `login` in through the login form; returns the session cookie value.
pub async fn login(addr: SocketAddr, login: &str) -> R<String> {
    let mut c = HttpConn::connect(addr).await?;
    let r = c.request(&get_req("/entrar", None)).await?;
    if r.status != 200 {
        return Err(format!("GET /entrar answered {}", r.status));
    }
    let csrf = r.cookie("atende_csrf").ok_or("GET /entrar set no atende_csrf cookie")?;
    if !r.keep {
        c = HttpConn::connect(addr).await?;
    }
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("_csrf", &csrf)
        .append_pair("login", login)
        .append_pair("password", PW)
        .finish();
    let cookie = format!("atende_csrf={csrf}");
    let r = c.request(&post_req("/entrar", "application/x-www-form-urlencoded", &body, Some(&cookie))).await?;
    if r.status != 303 {
        return Err(format!("login {login}: status {} {}", r.status, r.snippet()));
    }
    r.cookie("atende_sid").ok_or_else(|| format!("login {login}: no atende_sid cookie"))
}

/// Logs every login in, `LOGIN_TASKS` at a time; returns the session cookies in order.
pub async fn login_all(addr: SocketAddr, logins: &[String]) -> R<Vec<String>> {
    let logins = Arc::new(logins.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..LOGIN_TASKS {
        let (logins, next) = (logins.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..logins.len() {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= logins.len() {
                    break;
                }
                got.push((i, login(addr, &logins[i]).await?));
            }
            Ok::<_, String>(got)
        }));
    }
    let mut sids = vec![String::new(); logins.len()];
    for t in tasks {
        for (i, sid) in t.await.map_err(err)?? {
            sids[i] = sid;
        }
    }
    Ok(sids)
}

/// Opens `GET /eventos` with a session; returns the connection positioned
/// after the headers and whether the body is chunked.
pub async fn open_stream(addr: SocketAddr, sid: String) -> R<(HttpConn, bool)> {
    let mut c = HttpConn::connect(addr).await?;
    c.timeout = Duration::from_secs(120);
    let req = format!(
        "GET /eventos HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: atende_sid={sid}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
    );
    c.s.write_all(req.as_bytes()).await.map_err(err)?;
    let h = tokio::time::timeout(Duration::from_secs(10), c.head()).await.map_err(|_| "no headers in 10 s")??;
    let ctype = h.headers.iter().find(|(n, _)| n == "content-type").map(|(_, v)| v.clone()).unwrap_or_default();
    if h.status != 200 || !ctype.contains("text/event-stream") {
        return Err(format!("GET /eventos answered {} ({ctype})", h.status));
    }
    Ok((c, h.chunked))
}

/// `n` sequential GETs on one connection (after 20 unmeasured); latencies in ms.
pub async fn seq_get(addr: SocketAddr, path: &str, cookie: &str, n: usize) -> R<(Vec<f64>, usize)> {
    let req = get_req(path, Some(cookie));
    let mut c = HttpConn::connect(addr).await?;
    let mut lat = Vec::with_capacity(n);
    let mut size = 0;
    for i in 0..n + 20 {
        let t = Instant::now();
        let r = c.request(&req).await?;
        let d = ms(t.elapsed());
        if r.status != 200 {
            return Err(format!("GET {path} answered {} {}", r.status, r.header("location").unwrap_or("")));
        }
        size = r.body.len();
        if i >= 20 {
            lat.push(d);
        }
        if !r.keep {
            c = HttpConn::connect(addr).await?;
        }
    }
    Ok((lat, size))
}
