//! Load generators of the workspace bench: keep-alive page clients cycling
//! over a list of requests, and web chat visitors posting messages.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::common::http::{HttpConn, post_req};
use crate::common::{R, err, ms, pct};

/// What a set of page clients measured.
#[derive(Default)]
pub struct Load {
    pub ok: u64,
    pub other: u64,
    pub errors: u64,
    pub bytes: u64,
    pub secs: f64,
    pub lat: Vec<f64>,
    pub first_problem: Option<String>,
}

impl Load {
    fn merge(&mut self, o: Load) {
        self.ok += o.ok;
        self.other += o.other;
        self.errors += o.errors;
        self.bytes += o.bytes;
        self.lat.extend(o.lat);
        if self.first_problem.is_none() {
            self.first_problem = o.first_problem;
        }
    }

    /// Requests per second, p50, p99 (ms) and mean response size.
    pub fn figures(&mut self) -> (f64, f64, f64, u64) {
        let rps = self.ok as f64 / self.secs.max(1e-9);
        let bytes = self.bytes.checked_div(self.ok).unwrap_or(0);
        (rps, pct(&mut self.lat, 50.0), pct(&mut self.lat, 99.0), bytes)
    }

    /// An error when anything but 200 came back.
    pub fn check(&self, what: &str) -> R<()> {
        if self.ok == 0 || self.other > 0 || self.errors > 0 {
            return Err(format!(
                "{what}: {} ok, {} non-200, {} errors (first: {})",
                self.ok,
                self.other,
                self.errors,
                self.first_problem.clone().unwrap_or_default()
            ));
        }
        Ok(())
    }
}

/// `conns` keep-alive connections sending `reqs` for `dur` (at most
/// `10_000_000` requests each): connection k starts at `reqs[k * n / conns]`
/// and walks on, so the connections cover the list between them.
pub async fn pages(addr: SocketAddr, reqs: Arc<Vec<Vec<u8>>>, conns: usize, dur: Duration) -> R<Load> {
    if reqs.is_empty() {
        return Err("no requests to send".into());
    }
    let start = Instant::now();
    let deadline = start + dur;
    let mut tasks = Vec::with_capacity(conns);
    for k in 0..conns {
        let reqs = reqs.clone();
        tasks.push(tokio::spawn(async move {
            let mut o = Load { lat: Vec::with_capacity(16 * 1024), ..Default::default() };
            let mut conn: Option<HttpConn> = None;
            let n = reqs.len();
            let mut at = k * n / conns;
            for _ in 0..10_000_000u64 {
                if Instant::now() >= deadline {
                    break;
                }
                if conn.is_none() {
                    match HttpConn::connect(addr).await {
                        Ok(c) => conn = Some(c),
                        Err(e) => {
                            o.errors += 1;
                            o.first_problem.get_or_insert(e);
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    }
                }
                let Some(c) = conn.as_mut() else { continue };
                let t = Instant::now();
                match c.request(&reqs[at % n]).await {
                    Ok(r) => {
                        if r.status == 200 {
                            o.ok += 1;
                            o.bytes += r.body.len() as u64;
                            o.lat.push(ms(t.elapsed()));
                        } else {
                            o.other += 1;
                            let loc = r.header("location").unwrap_or("").to_string();
                            o.first_problem.get_or_insert(format!("status {} {loc}", r.status));
                        }
                        if !r.keep {
                            conn = None;
                        }
                    }
                    Err(e) => {
                        o.errors += 1;
                        o.first_problem.get_or_insert(e);
                        conn = None;
                    }
                }
                at += 1;
            }
            o
        }));
    }
    let mut all = Load::default();
    for t in tasks {
        all.merge(t.await.map_err(err)?);
    }
    all.secs = start.elapsed().as_secs_f64();
    Ok(all)
}

/// `n` sequential requests on one connection (after 20 unmeasured), cycling
/// over `reqs`; latencies in ms and the last response's size.
pub async fn sequential(addr: SocketAddr, reqs: &[Vec<u8>], n: usize) -> R<(Vec<f64>, usize)> {
    let mut c = HttpConn::connect(addr).await?;
    let mut lat = Vec::with_capacity(n);
    let mut size = 0;
    for i in 0..n + 20 {
        let t = Instant::now();
        let r = c.request(&reqs[i % reqs.len()]).await?;
        let d = ms(t.elapsed());
        if r.status != 200 {
            let first = String::from_utf8_lossy(&reqs[i % reqs.len()]).lines().next().unwrap_or("").to_string();
            return Err(format!("{first} answered {} {}", r.status, r.header("location").unwrap_or("")));
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

// ---------------------------------------------------------------- visitors

/// How a visitor connection chooses the token of each message.
#[derive(Clone)]
pub enum Visitors {
    /// An empty token every time: a new visitor, a new conversation per message.
    NewEach,
    /// A new visitor every `n` messages (the desk bench's mix).
    NewEvery(u32),
    /// These visitors in turn (their conversations exist), at most `per`
    /// messages each so the limiter's burst is never used up.
    Existing { tokens: Vec<String>, per: usize },
}

/// What visitor connections measured.
#[derive(Default)]
pub struct InStats {
    pub ok: u64,
    pub limited: u64,
    pub other: u64,
    pub errors: u64,
    /// 200 answers that started a conversation (the token was empty).
    pub new_conversations: u64,
    pub lat: Vec<f64>,
    pub secs: f64,
    pub req_bytes: usize,
    pub resp_bytes: usize,
    /// Tokens of the visitors this run created (when asked to keep them).
    pub tokens: Vec<String>,
    pub first_problem: Option<String>,
}

impl InStats {
    fn merge(&mut self, s: InStats) {
        self.ok += s.ok;
        self.limited += s.limited;
        self.other += s.other;
        self.errors += s.errors;
        self.new_conversations += s.new_conversations;
        self.lat.extend(s.lat);
        self.req_bytes = self.req_bytes.max(s.req_bytes);
        self.resp_bytes = self.resp_bytes.max(s.resp_bytes);
        self.tokens.extend(s.tokens);
        if self.first_problem.is_none() {
            self.first_problem = s.first_problem;
        }
    }

    /// Messages per second, p50, p99 (ms).
    pub fn figures(&mut self) -> (f64, f64, f64) {
        (self.ok as f64 / self.secs.max(1e-9), pct(&mut self.lat, 50.0), pct(&mut self.lat, 99.0))
    }

    /// An error when anything but 200 came back.
    pub fn check(&self, what: &str) -> R<()> {
        if self.ok == 0 || self.other > 0 || self.errors > 0 || self.limited > 0 {
            return Err(format!(
                "{what}: {} ok, {} rate-limited, {} other status, {} errors (first: {})",
                self.ok,
                self.limited,
                self.other,
                self.errors,
                self.first_problem.clone().unwrap_or_default()
            ));
        }
        Ok(())
    }
}

/// One visitor run: where to post, whether each request closes its
/// connection, and whether new visitors' tokens are kept.
#[derive(Clone)]
pub struct VisitorRun {
    pub path: String,
    pub close: bool,
    pub keep_tokens: bool,
}

async fn visitor_task(
    addr: SocketAddr,
    run: Arc<VisitorRun>,
    mode: Visitors,
    issued: Arc<AtomicU64>,
    total: u64,
    deadline: Instant,
) -> InStats {
    let mut st = InStats { lat: Vec::with_capacity(4096), ..Default::default() };
    let mut conn: Option<HttpConn> = None;
    let mut token = String::new();
    let mut used = 0u32;
    for i in 0..total as usize {
        if Instant::now() >= deadline || issued.fetch_add(1, Ordering::Relaxed) >= total {
            break;
        }
        match &mode {
            Visitors::NewEach => token.clear(),
            Visitors::NewEvery(n) => {
                if used >= *n {
                    token.clear();
                    used = 0;
                }
            }
            Visitors::Existing { tokens, per } => {
                if tokens.is_empty() || i >= tokens.len() * per {
                    break;
                }
                token.clone_from(&tokens[i % tokens.len()]);
            }
        }
        if conn.is_none() {
            match HttpConn::connect(addr).await {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    st.errors += 1;
                    st.first_problem.get_or_insert(format!("connect: {e}"));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let fresh = token.is_empty();
        let body = format!("{{\"token\":\"{token}\",\"text\":\"Olá, preciso de ajuda com o pedido {i}\"}}");
        let mut req = post_req(&run.path, "application/json", &body, None);
        if run.close {
            let head = b"Host: 127.0.0.1\r\n";
            if let Some(p) = req.windows(head.len()).position(|w| w == head) {
                req.splice(p + head.len()..p + head.len(), b"Connection: close\r\n".iter().copied());
            }
        }
        st.req_bytes = req.len();
        let Some(c) = conn.as_mut() else { continue };
        let t = Instant::now();
        match c.request(&req).await {
            Ok(r) => {
                let d = ms(t.elapsed());
                match r.status {
                    200 => {
                        st.ok += 1;
                        st.lat.push(d);
                        st.resp_bytes = r.body.len();
                        used += 1;
                        if fresh {
                            st.new_conversations += 1;
                            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
                            match v.get("token").and_then(|t| t.as_str()) {
                                Some(t) => {
                                    token = t.to_string();
                                    if run.keep_tokens {
                                        st.tokens.push(token.clone());
                                    }
                                }
                                None => {
                                    st.first_problem.get_or_insert(format!("200 without token: {}", r.snippet()));
                                }
                            }
                        }
                    }
                    429 => {
                        st.limited += 1;
                        st.first_problem.get_or_insert("429 from the per-visitor limiter".into());
                        token.clear();
                        used = 0;
                    }
                    s => {
                        st.other += 1;
                        st.first_problem.get_or_insert(format!("status {s}: {}", r.snippet()));
                    }
                }
                if !r.keep || run.close {
                    conn = None;
                }
            }
            Err(e) => {
                st.errors += 1;
                st.first_problem.get_or_insert(format!("request: {e}"));
                conn = None;
            }
        }
    }
    st
}

/// `conns` visitor connections posting at most `total` messages for at most
/// `limit`; `modes[k % modes.len()]` is connection k's token choice.
pub async fn visitors(
    addr: SocketAddr,
    run: VisitorRun,
    modes: Vec<Visitors>,
    conns: usize,
    total: u64,
    limit: Duration,
) -> R<InStats> {
    if modes.is_empty() {
        return Err("no visitor modes".into());
    }
    let run = Arc::new(run);
    let issued = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + limit;
    let mut tasks = Vec::with_capacity(conns);
    for k in 0..conns {
        let mode = modes[k % modes.len()].clone();
        tasks.push(tokio::spawn(visitor_task(addr, run.clone(), mode, issued.clone(), total, deadline)));
    }
    let mut all = InStats::default();
    for t in tasks {
        all.merge(t.await.map_err(err)?);
    }
    all.secs = start.elapsed().as_secs_f64();
    Ok(all)
}
