//! The SMTP sink of the e-mail bench: an ESMTP server on 127.0.0.1 (EHLO,
//! HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) that takes every message and
//! records its Message-ID with the instant it was taken. It can SIGKILL a
//! process as it receives a given DATA command (before answering it), which
//! is the server dying in the middle of a delivery run: the run's messages
//! that got through before are taken and never confirmed, that one and the
//! ones not as far along are never sent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::common::{R, err};

/// The longest line and message the sink reads.
const MAX_LINE: usize = 64 * 1024;
const MAX_MESSAGE: usize = 32 << 20;
/// An idle client is dropped after this long.
const IDLE: Duration = Duration::from_secs(120);

/// What the sink took.
#[derive(Default)]
pub struct Record {
    /// Each message taken: (unix ms, Message-ID without brackets).
    pub taken: Vec<(u64, String)>,
    /// Messages taken per Message-ID.
    pub seen: HashMap<String, u32>,
    /// Bytes taken.
    pub bytes: u64,
    /// Commands out of order or unknown.
    pub bad: u64,
}

/// A running sink.
pub struct Sink {
    pub port: u16,
    pub rec: Arc<Mutex<Record>>,
    /// Transactions between MAIL and the end of DATA right now.
    pub in_flight: Arc<AtomicI64>,
    /// Connections accepted.
    pub connections: Arc<AtomicU64>,
    /// A process to SIGKILL (0: none) as the sink receives DATA command
    /// number `kill_at` (counting every DATA), before it answers, and how
    /// many messages had been taken when it was killed.
    pub kill_on_data: Arc<AtomicU32>,
    pub kill_at: Arc<AtomicU64>,
    pub killed_at: Arc<AtomicU64>,
    cx: Arc<Ctx>,
}

pub fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The Message-ID header of a message's header section (without brackets).
fn message_id(data: &str) -> String {
    for line in data.lines().take(200) {
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("message-id")
        {
            return value.trim().trim_start_matches('<').trim_end_matches('>').to_string();
        }
    }
    String::new()
}

struct Ctx {
    rec: Arc<Mutex<Record>>,
    in_flight: Arc<AtomicI64>,
    kill_on_data: Arc<AtomicU32>,
    kill_at: Arc<AtomicU64>,
    killed_at: Arc<AtomicU64>,
    /// DATA commands received.
    datas: AtomicU64,
}

/// Reads one line (at most `MAX_LINE` bytes); `None` at EOF, error or idle.
async fn line<T: tokio::io::AsyncBufRead + Unpin>(rd: &mut T, buf: &mut Vec<u8>) -> Option<()> {
    buf.clear();
    let read = tokio::time::timeout(IDLE, async {
        let mut limited = tokio::io::AsyncReadExt::take(&mut *rd, MAX_LINE as u64);
        limited.read_until(b'\n', buf).await
    });
    match read.await {
        Ok(Ok(n)) if n > 0 => Some(()),
        _ => None,
    }
}

async fn client(cx: Arc<Ctx>, sock: tokio::net::TcpStream) {
    let (rd, mut wr) = sock.into_split();
    let mut rd = BufReader::new(rd);
    if wr.write_all(b"220 sink.bench.local ESMTP ready\r\n").await.is_err() {
        return;
    }
    let (mut mail, mut rcpts) = (false, 0usize);
    let mut buf = Vec::with_capacity(1024);
    // One command per line; a client may send at most this many.
    for _ in 0..100_000 {
        if line(&mut rd, &mut buf).await.is_none() {
            break;
        }
        let cmd = String::from_utf8_lossy(&buf).trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        let verb = upper.split_whitespace().next().unwrap_or("").to_string();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink.bench.local\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 52428800\r\n",
            "HELO" => b"250 sink.bench.local\r\n",
            "MAIL" if upper.starts_with("MAIL FROM:") && !mail => {
                mail = true;
                rcpts = 0;
                cx.in_flight.fetch_add(1, Ordering::Relaxed);
                b"250 2.1.0 ok\r\n"
            }
            "RCPT" if upper.starts_with("RCPT TO:") && mail => {
                rcpts += 1;
                b"250 2.1.5 ok\r\n"
            }
            "DATA" if mail && rcpts > 0 => {
                let n = cx.datas.fetch_add(1, Ordering::Relaxed) + 1;
                let victim = if n >= cx.kill_at.load(Ordering::Relaxed) {
                    cx.kill_on_data.swap(0, Ordering::Relaxed)
                } else {
                    0
                };
                if victim != 0 {
                    // The server dies as this message is about to be sent:
                    // its run is left `sending`, the messages that got
                    // through before taken and unconfirmed, this one and
                    // those not as far along never sent.
                    // SAFETY: kill(2) on the pid of a child the bench spawned.
                    unsafe { libc::kill(victim as libc::pid_t, libc::SIGKILL) };
                    let taken = cx.rec.lock().map(|r| r.taken.len() as u64).unwrap_or(0);
                    cx.killed_at.store(taken, Ordering::Relaxed);
                }
                if wr.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await.is_err() {
                    break;
                }
                let mut data = String::new();
                let mut complete = false;
                for _ in 0..10_000_000 {
                    if line(&mut rd, &mut buf).await.is_none() {
                        break;
                    }
                    if buf == b".\r\n" || buf == b".\n" {
                        complete = true;
                        break;
                    }
                    if data.len() < MAX_MESSAGE {
                        let l = String::from_utf8_lossy(&buf);
                        data.push_str(l.strip_prefix('.').unwrap_or(&l));
                    }
                }
                mail = false;
                cx.in_flight.fetch_sub(1, Ordering::Relaxed);
                if !complete {
                    // The client went away mid-message: nothing was taken.
                    return;
                }
                {
                    let Ok(mut r) = cx.rec.lock() else { return };
                    let id = message_id(&data);
                    r.taken.push((unix_ms(), id.clone()));
                    *r.seen.entry(id).or_default() += 1;
                    r.bytes += data.len() as u64;
                }
                b"250 2.0.0 queued\r\n"
            }
            "RSET" => {
                if mail {
                    cx.in_flight.fetch_sub(1, Ordering::Relaxed);
                }
                mail = false;
                rcpts = 0;
                b"250 2.0.0 ok\r\n"
            }
            "NOOP" => b"250 2.0.0 ok\r\n",
            "QUIT" => {
                let _ = wr.write_all(b"221 2.0.0 bye\r\n").await;
                break;
            }
            _ => {
                if let Ok(mut r) = cx.rec.lock() {
                    r.bad += 1;
                }
                b"503 5.5.1 bad sequence of commands\r\n"
            }
        };
        if wr.write_all(reply).await.is_err() {
            break;
        }
    }
    if mail {
        cx.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Sink {
    /// Starts the sink on a free 127.0.0.1 port (on the current runtime).
    pub async fn start() -> R<Sink> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(err)?;
        let port = listener.local_addr().map_err(err)?.port();
        let cx = Arc::new(Ctx {
            rec: Arc::default(),
            in_flight: Arc::default(),
            kill_on_data: Arc::default(),
            kill_at: Arc::default(),
            killed_at: Arc::default(),
            datas: AtomicU64::new(0),
        });
        let connections: Arc<AtomicU64> = Arc::default();
        let (c2, n2) = (cx.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                n2.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(client(c2.clone(), sock));
            }
        });
        Ok(Sink {
            port,
            rec: cx.rec.clone(),
            in_flight: cx.in_flight.clone(),
            connections,
            kill_on_data: cx.kill_on_data.clone(),
            kill_at: cx.kill_at.clone(),
            killed_at: cx.killed_at.clone(),
            cx,
        })
    }

    /// SIGKILLs `pid` as the sink receives the `nth` DATA command from now.
    pub fn kill_on(&self, pid: u32, nth: u64) {
        let seen = self.cx.datas.load(Ordering::Relaxed);
        self.kill_at.store(seen + nth.max(1), Ordering::Relaxed);
        self.kill_on_data.store(pid, Ordering::Relaxed);
    }
}
