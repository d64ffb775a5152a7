//! Timing pages from one or several keep-alive connections, and reading the
//! streamed CSV while sampling the server's memory.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use crate::common::http::{HttpConn, get_req};
use crate::common::{R, Summary, err, mb, ms, pct, verdict};
use crate::loadavg;

/// Unmeasured requests before a figure.
pub const WARMUP: usize = 3;
/// Longest time one figure may take (then it stops with what it has).
pub const FIGURE_LIMIT: Duration = Duration::from_secs(90);

/// Latencies of one figure.
pub struct Stats {
    pub lat: Vec<f64>,
    pub bytes: usize,
    pub secs: f64,
}

impl Stats {
    /// (p50, p95, p99, max).
    pub fn figures(&mut self) -> (f64, f64, f64, f64) {
        let v = &mut self.lat;
        (pct(v, 50.0), pct(v, 95.0), pct(v, 99.0), v.last().copied().unwrap_or(f64::NAN))
    }
}

/// `runs` GETs of `path` (after [`WARMUP`] on each connection) spread over
/// `conns` connections at once, within [`FIGURE_LIMIT`]. A status other
/// than 200 (or a body without `must`) is an error.
pub async fn measure(addr: SocketAddr, cookie: &str, path: &str, must: &str, conns: usize, runs: usize) -> R<Stats> {
    let req = Arc::new(get_req(path, Some(cookie)));
    let left = Arc::new(AtomicUsize::new(runs));
    let start = Instant::now();
    let deadline = start + FIGURE_LIMIT;
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (req, left, path, must) = (req.clone(), left.clone(), path.to_string(), must.to_string());
        tasks.push(tokio::spawn(async move {
            let mut c = HttpConn::connect(addr).await?;
            c.timeout = Duration::from_secs(60);
            let (mut lat, mut bytes) = (Vec::new(), 0);
            for i in 0..WARMUP + runs {
                if i >= WARMUP {
                    let prev = left.fetch_sub(1, Ordering::Relaxed);
                    if prev == 0 || prev > runs || Instant::now() > deadline {
                        break;
                    }
                }
                let t = Instant::now();
                let r = c.request(&req).await?;
                let d = ms(t.elapsed());
                if r.status != 200 {
                    return Err(format!("GET {path} answered {} {}", r.status, r.snippet()));
                }
                if !must.is_empty() && !r.text().contains(&must) {
                    return Err(format!("GET {path}: no {must:?} in the page"));
                }
                bytes = r.body.len();
                if i >= WARMUP {
                    lat.push(d);
                }
                if !r.keep {
                    c = HttpConn::connect(addr).await?;
                }
            }
            Ok::<_, String>((lat, bytes))
        }));
    }
    let mut s = Stats { lat: Vec::new(), bytes: 0, secs: 0.0 };
    for t in tasks {
        let (lat, bytes) = t.await.map_err(err)??;
        s.lat.extend(lat);
        s.bytes = s.bytes.max(bytes);
    }
    s.secs = start.elapsed().as_secs_f64();
    if s.lat.is_empty() {
        return Err(format!("GET {path}: no measured request"));
    }
    Ok(s)
}

/// Measures, prints and records one page figure against a p99 target.
#[allow(clippy::too_many_arguments)]
pub async fn figure(
    sum: &mut Summary,
    addr: SocketAddr,
    cookie: &str,
    name: &str,
    path: &str,
    must: &str,
    conns: usize,
    runs: usize,
    target_ms: Option<f64>,
) -> R<(f64, f64)> {
    let mut s = measure(addr, cookie, path, must, conns, runs).await?;
    let n = s.lat.len();
    let (p50, p95, p99, max) = s.figures();
    let ok = target_ms.is_none_or(|t| p99 < t);
    let (target, v) = match target_ms {
        Some(t) => (format!("p99 < {t:.0} ms"), verdict(ok)),
        None => (String::new(), ""),
    };
    let short =
        if n < runs { format!(" (stopped after {n} of {runs}: {FIGURE_LIMIT:?} limit)") } else { String::new() };
    println!(
        "{name} p50_ms={p50:.1} p95_ms={p95:.1} p99_ms={p99:.1} max_ms={max:.1} runs={n} conns={conns} bytes={} secs={:.1} \
         load_avg=[{}] target=[{target}] {v}{short} (GET {path})",
        s.bytes,
        s.secs,
        loadavg(),
    );
    sum.add(name, format!("p50={p50:.1} p95={p95:.1} p99={p99:.1} max={max:.1}"), &target, v);
    Ok((p50, p99))
}

/// What reading the CSV gave.
pub struct CsvRun {
    pub rows: u64,
    pub bytes: u64,
    pub secs: f64,
    pub first_byte_ms: f64,
    /// VmRSS samples (MB) while it streamed.
    pub rss: Vec<f64>,
}

/// Streams `GET path` to its end, counting lines and discarding them, while
/// sampling the server's VmRSS every `every`.
pub async fn stream_csv(addr: SocketAddr, cookie: &str, path: &str, pid: u32, every: Duration) -> R<CsvRun> {
    let mut c = HttpConn::connect(addr).await?;
    c.timeout = Duration::from_secs(60);
    let t = Instant::now();
    c.s.write_all(&get_req(path, Some(cookie))).await.map_err(err)?;
    let h = c.head().await?;
    let first_byte_ms = ms(t.elapsed());
    if h.status != 200 || !h.chunked {
        return Err(format!("GET {path} answered {} (chunked: {})", h.status, h.chunked));
    }
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let d2 = done.clone();
    let sampler = tokio::spawn(async move {
        let mut v = Vec::new();
        for _ in 0..100_000 {
            if d2.load(Ordering::Relaxed) {
                break;
            }
            v.push(mb(pid, "VmRSS:"));
            tokio::time::sleep(every).await;
        }
        v
    });
    let (mut rows, mut bytes) = (0u64, 0u64);
    let limit = Duration::from_secs(300);
    let mut result = Ok(());
    for _ in 0..100_000_000u64 {
        if t.elapsed() > limit {
            result = Err(format!("CSV not finished within {limit:?}"));
            break;
        }
        match c.chunk().await {
            Ok(Some(d)) => {
                bytes += d.len() as u64;
                rows += d.iter().filter(|b| **b == b'\n').count() as u64;
            }
            Ok(None) => break,
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let rss = sampler.await.map_err(err)?;
    result?;
    Ok(CsvRun { rows, bytes, secs, first_byte_ms, rss })
}
