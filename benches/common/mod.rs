//! Process and reporting helpers shared by the benches (`core`, `desk`):
//! spawning the release binary on a data folder, waiting for it to answer,
//! stopping it, reading `/proc`, percentiles and the summary table.
//!
//! Included from each bench with `mod common;`; a helper one bench does not
//! use carries `#[allow(dead_code)]`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The release binary built by Cargo for the bench.
pub const BIN: &str = env!("CARGO_BIN_EXE_atende");
/// Environment variable naming another server binary (e.g. an unstripped
/// build for profiling); the default is [`BIN`].
pub const BIN_ENV: &str = "ATENDE_BENCH_BIN";

pub mod http;
pub mod outbox;
pub mod seed;

pub type R<T> = Result<T, String>;

/// Longest wait for a spawned server to answer, and the probe interval.
#[allow(dead_code)] // not used by `core`
pub const READY_LIMIT: Duration = Duration::from_secs(60);
#[allow(dead_code)] // not used by `core`
pub const POLL: Duration = Duration::from_millis(5);

/// Password of every bench user.
#[allow(dead_code)] // not used by `core`
pub const PW: &str = "senha-segura-123";

pub fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The server binary to run: `$ATENDE_BENCH_BIN`, else [`BIN`].
pub fn bin() -> String {
    std::env::var(BIN_ENV).unwrap_or_else(|_| BIN.to_string())
}

// ---------------------------------------------------------------- processes

/// A spawned `atende` server; stopped (SIGTERM, then SIGKILL) on drop.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    log: PathBuf,
}

pub fn free_port() -> R<u16> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(err)?;
    Ok(l.local_addr().map_err(err)?.port())
}

impl Server {
    /// Spawns [`bin()`] on `data` (listening on a free 127.0.0.1 port, logging
    /// to `log`); returns it and the instant just before spawn.
    pub fn spawn(data: &Path, log: &Path) -> R<(Server, Instant)> {
        let port = free_port()?;
        let log_file = std::fs::File::create(log).map_err(err)?;
        let bin = bin();
        let mut cmd = Command::new(&bin);
        cmd.arg("--data")
            .arg(data)
            .arg("--addr")
            .arg(format!("127.0.0.1:{port}"))
            .env("ATENDE_LOG", "warn")
            .env_remove("ATENDE_CONFIG")
            .env_remove("ATENDE_DATA")
            .env_remove("ATENDE_ADDR")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file));
        let t0 = Instant::now();
        let child = cmd.spawn().map_err(|e| format!("cannot spawn {bin}: {e}"))?;
        Ok((Server { child: Some(child), port, log: log.to_path_buf() }, t0))
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// The last 20 lines of the server's log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Polls `GET /entrar` every `poll` until it answers 200, for at most
    /// `limit`; returns the time since `t0`.
    pub fn wait_ready(&mut self, t0: Instant, limit: Duration, poll: Duration) -> R<Duration> {
        let addr = self.addr();
        let mut last = String::from("no answer");
        let max_polls = (limit.as_millis() / poll.as_millis().max(1)) as usize + 1;
        for _ in 0..max_polls {
            if t0.elapsed() > limit {
                break;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!("server exited early ({status}); log:\n{}", self.log_tail()));
            }
            match get_once(addr, "/entrar") {
                Ok(200) => return Ok(t0.elapsed()),
                Ok(code) => last = format!("status {code}"),
                Err(e) => last = e,
            }
            std::thread::sleep(poll);
        }
        Err(format!("server not ready within {limit:?} ({last}); log:\n{}", self.log_tail()))
    }

    /// SIGTERM, then waits up to 10 s (SIGKILL after that).
    pub fn stop(&mut self) -> R<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(10) {
            match child.try_wait() {
                Ok(Some(_)) => return Ok(()),
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(err(e)),
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        Err("server ignored SIGTERM for 10 s; killed".into())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// One `GET path` with `Connection: close`; returns the status code.
pub fn get_once(addr: SocketAddr, path: &str) -> R<u16> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).map_err(err)?;
    s.set_read_timeout(Some(Duration::from_secs(3))).map_err(err)?;
    s.set_write_timeout(Some(Duration::from_secs(3))).map_err(err)?;
    s.set_nodelay(true).map_err(err)?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).map_err(err)?;
    let mut resp = Vec::with_capacity(16 * 1024);
    s.take(4 * 1024 * 1024).read_to_end(&mut resp).map_err(err)?;
    let line = resp.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    line.split_whitespace().nth(1).and_then(|c| c.parse().ok()).ok_or_else(|| format!("bad response {:?}", line.trim()))
}

/// CPU time (user + system) of a process so far, in seconds (100 ticks/s).
#[allow(dead_code)] // not used by `core`
pub fn cpu_secs(pid: &str) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): state is the
    // first, utime and stime the 12th and 13th.
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
    (tick(11) + tick(12)) / 100.0
}

/// CPU seconds of the server's writer thread (`atende-writer`).
#[allow(dead_code)] // used by `workspace` and `whatsapp`
pub fn writer_cpu(pid: u32) -> f64 {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return f64::NAN };
    for t in dir.flatten() {
        let tid = t.file_name().to_string_lossy().into_owned();
        let comm = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm")).unwrap_or_default();
        if comm.trim() == "atende-writer" {
            return cpu_secs(&format!("{pid}/task/{tid}"));
        }
    }
    f64::NAN
}

/// A `kB` field (`VmRSS:`, `VmHWM:`) of `/proc/{pid}/status`.
pub fn status_kb(pid: u32, key: &str) -> R<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| format!("/proc: {e}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {key} in /proc/{pid}/status"))
}

// ---------------------------------------------------------------- numbers

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile of `v` (sorted in place).
#[allow(dead_code)] // not used by `core`
pub fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

pub fn now_secs() -> i64 {
    jiff::Timestamp::now().as_second()
}

pub fn verdict(ok: bool) -> &'static str {
    if ok { "OK" } else { "MISS" }
}

// ---------------------------------------------------------------- summary

/// Rows of the summary table.
#[derive(Default)]
pub struct Summary {
    rows: Vec<[String; 4]>,
    pub failed: bool,
}

impl Summary {
    pub fn add(&mut self, figure: &str, value: String, target: &str, verdict: &str) {
        self.rows.push([figure.to_string(), value, target.to_string(), verdict.to_string()]);
    }

    /// Prints `figure FAILED: e` and records a failed row (the bench exits 1).
    pub fn fail(&mut self, figure: &str, e: &str) {
        println!("{figure} FAILED: {e}");
        self.failed = true;
        let first = e.lines().next().unwrap_or("").chars().take(60).collect();
        self.add(figure, first, "", "FAILED");
    }

    pub fn print(&self) {
        let head = ["figure", "value", "target", "verdict"];
        let mut w = head.map(str::len);
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.len());
            }
        }
        let line = |c: [&str; 4]| {
            println!(
                "| {:<w0$} | {:<w1$} | {:<w2$} | {:<w3$} |",
                c[0],
                c[1],
                c[2],
                c[3],
                w0 = w[0],
                w1 = w[1],
                w2 = w[2],
                w3 = w[3]
            )
        };
        let sep = format!(
            "|{}|{}|{}|{}|",
            "-".repeat(w[0] + 2),
            "-".repeat(w[1] + 2),
            "-".repeat(w[2] + 2),
            "-".repeat(w[3] + 2)
        );
        println!();
        println!("== Summary ==");
        line(head);
        println!("{sep}");
        for r in &self.rows {
            line([&r[0], &r[1], &r[2], &r[3]]);
        }
    }
}

// ---------------------------------------------------------------- main

/// The start of a bench's `main`. `cargo bench` passes `--bench`; under
/// `cargo test --all-targets` the binary runs without it (against a debug
/// build), so this prints that it skipped and returns `None`. Otherwise it
/// prints the header and returns the start instant, an empty summary and a
/// runtime.
#[allow(dead_code)] // not used by `core`
pub fn start(name: &str) -> Option<(Instant, Summary, tokio::runtime::Runtime)> {
    if !std::env::args().any(|a| a == "--bench") {
        println!("atende {name} bench: skipped (run it with `cargo bench --bench {name}`)");
        return None;
    }
    println!("atende {name} bench: binary {}", bin());
    println!(
        "machine: {} cpus (the clients share them with the server)",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => Some((Instant::now(), Summary::default(), rt)),
        Err(e) => {
            println!("cannot build tokio runtime: {e}");
            std::process::exit(1);
        }
    }
}

/// The end of a bench's `main`: the total time against `limit_s`, the
/// summary table, and exit status 1 when a section failed.
#[allow(dead_code)] // not used by `core`
pub fn finish(rt: tokio::runtime::Runtime, total: Instant, mut sum: Summary, limit_s: f64) {
    drop(rt);
    let secs = total.elapsed().as_secs_f64();
    sum.add("bench_total_s", format!("{secs:.1}"), &format!("< {limit_s:.0}"), verdict(secs < limit_s));
    sum.print();
    if sum.failed {
        std::process::exit(1);
    }
}

/// `/proc/loadavg`'s three averages.
#[allow(dead_code)] // used by `workspace` and `whatsapp`
pub fn loadavg() -> String {
    let s = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// A `kB` field of `/proc/{pid}/status` in MB (NaN when unreadable).
#[allow(dead_code)] // used by `workspace` and `whatsapp`
pub fn mb(pid: u32, key: &str) -> f64 {
    status_kb(pid, key).map(|k| k as f64 / 1024.0).unwrap_or(f64::NAN)
}

/// The bench's temporary folder; the bench exits 1 when none can be made.
#[allow(dead_code)] // used by `workspace` and `whatsapp`
pub fn temp_root() -> tempfile::TempDir {
    match tempfile::tempdir() {
        Ok(t) => t,
        Err(e) => {
            println!("cannot make a temporary folder: {e}");
            std::process::exit(1);
        }
    }
}

/// Whether section `n` runs: listed in the environment variable `env`
/// ("1,3"), else in `default`.
#[allow(dead_code)] // used by `workspace` and `whatsapp`
pub fn sections(env: &str, default: &str) -> impl Fn(&str) -> bool {
    let wanted = std::env::var(env).unwrap_or_else(|_| default.into());
    move |n: &str| wanted.split(',').any(|w| w.trim() == n)
}
