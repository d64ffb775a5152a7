//! Immediate receiving: for a mailbox whose server offers IMAP IDLE
//! (RFC 2177), a watcher task keeps a session of its own idling on the
//! folder and, when the server announces new mail, asks for a read of the
//! mailbox at the next scheduler tick. It never reads messages itself: the
//! read is the one [`super::sync`] path, and polling at the mailbox's
//! interval goes on beside it as the safety net.
//!
//! A watcher owns no run slot of the scheduler and touches no database: it
//! can be dropped (aborted) at any await, which is how a mailbox whose
//! settings changed, a deactivated queue and the shutdown end it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use async_imap::imap_proto::{Response, Status};
use tokio::time::Instant;

use super::imap::{self, Problem};
use crate::domain::email::ImapAccess;

/// How long one IDLE lasts before it is ended and issued again: servers may
/// log an idle client out after 30 minutes (RFC 2177, section 3).
pub const REISSUE: Duration = Duration::from_secs(25 * 60);
/// The wait after a first failure; it doubles up to [`LAST_RETRY`].
pub const FIRST_RETRY: Duration = Duration::from_secs(5);
/// The longest wait between two attempts (and the wait after a refused
/// login, which retrying sooner could get the account locked).
pub const LAST_RETRY: Duration = Duration::from_secs(300);
/// A session that idled this long counts as healthy: the next failure starts
/// the waits (and the log lines) over.
const STEADY: Duration = Duration::from_secs(60);

/// What a mailbox's watcher is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Watching {
    /// Logging in and selecting the folder.
    Connecting,
    /// In IDLE on the folder: new mail is read at once.
    Idle,
    /// The session broke or could not be opened; trying again after a wait.
    Retrying,
    /// The server does not offer IDLE: the mailbox is polled only.
    Unsupported,
}

/// Asks for a read of the mailbox at the next scheduler tick.
pub(super) type Wake = Arc<dyn Fn() + Send + Sync>;

/// A running watcher; dropping it ends the task.
pub(super) struct Watcher {
    access: ImapAccess,
    state: Arc<Mutex<Watching>>,
    task: tokio::task::JoinHandle<()>,
}

impl Watcher {
    /// Starts watching a mailbox (on the current tokio runtime).
    pub(super) fn start(access: ImapAccess, wake: Wake) -> Watcher {
        let state = Arc::new(Mutex::new(Watching::Connecting));
        let task = tokio::spawn(run(access.clone(), wake, state.clone()));
        Watcher { access, state, task }
    }

    /// Whether this watcher uses exactly these settings (another server,
    /// login, password or folder needs a new one).
    pub(super) fn serves(&self, a: &ImapAccess) -> bool {
        let b = &self.access;
        (&a.host, a.port, &a.tls, &a.user, &a.password, &a.folder)
            == (&b.host, b.port, &b.tls, &b.user, &b.password, &b.folder)
    }

    /// What it is doing now.
    pub(super) fn watching(&self) -> Watching {
        self.state.lock().map(|s| *s).unwrap_or(Watching::Retrying)
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn set(state: &Mutex<Watching>, w: Watching) {
    if let Ok(mut s) = state.lock() {
        *s = w;
    }
}

/// How one session ended.
enum Ended {
    /// The server does not offer IDLE.
    Unsupported,
    /// It could not be opened, or it broke; `idled`: it had been in IDLE.
    Broken { problem: Problem, idled: Option<Instant> },
}

/// A run of failures: its first is a warning, the others only debug lines,
/// and one line says when IDLE works again.
#[derive(Default)]
struct Streak {
    failures: u32,
    announced: bool,
}

async fn run(access: ImapAccess, wake: Wake, state: Arc<Mutex<Watching>>) {
    let queue_id = access.queue_id;
    let mut retry = FIRST_RETRY;
    let mut streak = Streak::default();
    loop {
        set(&state, Watching::Connecting);
        match session(&access, &wake, &state, &mut streak).await {
            Ended::Unsupported => {
                set(&state, Watching::Unsupported);
                tracing::info!(queue_id, "the IMAP server does not offer IDLE; the mailbox is polled at its interval");
                return;
            }
            Ended::Broken { problem, idled } => {
                set(&state, Watching::Retrying);
                if let Some(since) = idled {
                    // A session that worked broke: read now, which also
                    // records on the mailbox what is wrong, if anything is.
                    wake();
                    if since.elapsed() >= STEADY {
                        retry = FIRST_RETRY;
                        streak = Streak::default();
                    }
                }
                if problem.code == "auth" {
                    retry = LAST_RETRY;
                }
                streak.failures += 1;
                if streak.failures == 1 {
                    tracing::warn!(queue_id, "IMAP IDLE stopped ({problem}); trying again in {} s", retry.as_secs());
                } else {
                    tracing::debug!(queue_id, "IMAP IDLE still failing ({problem}); next try in {} s", retry.as_secs());
                }
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(LAST_RETRY);
            }
        }
    }
}

/// One session: log in, check for IDLE, select the folder, then idle,
/// issuing IDLE again every [`REISSUE`], until something breaks.
async fn session(a: &ImapAccess, wake: &Wake, state: &Mutex<Watching>, streak: &mut Streak) -> Ended {
    let broken = |problem, idled| Ended::Broken { problem, idled };
    let mut s = match imap::login(a).await {
        Ok(s) => s,
        Err(p) => return broken(p, None),
    };
    match imap::supports_idle(&mut s).await {
        Ok(true) => {}
        Ok(false) => {
            imap::logout(s).await;
            return Ended::Unsupported;
        }
        Err(p) => return broken(p, None),
    }
    if let Err(p) = imap::select(&mut s, &a.folder).await {
        imap::logout(s).await;
        return broken(p, None);
    }
    let mut idled: Option<Instant> = None;
    loop {
        let mut h = s.idle();
        if let Err(p) = imap::timed("IDLE", h.init()).await {
            return broken(p, idled);
        }
        // Mail that came before this IDLE (after the last read listed the
        // folder, or between two IDLEs) was announced to no one: read now.
        // (Before the state says Idle, so once it does that read was asked.)
        wake();
        if idled.is_none() {
            idled = Some(Instant::now());
            set(state, Watching::Idle);
            if streak.failures > 0 && !streak.announced {
                streak.announced = true;
                tracing::info!(queue_id = a.queue_id, "IMAP IDLE works again");
            }
        }
        if let Err(p) = idle_until_reissue(&mut h, wake, REISSUE).await {
            return broken(p, idled);
        }
        s = match imap::timed("DONE", h.done()).await {
            Ok(s) => s,
            Err(p) => return broken(p, idled),
        };
    }
}

/// Waits in IDLE until `period` ([`REISSUE`]) has passed, waking a read for
/// each announcement of new mail. An error: the connection broke or the
/// server said goodbye.
async fn idle_until_reissue(
    h: &mut async_imap::extensions::idle::Handle<Box<dyn imap::Io>>,
    wake: &Wake,
    period: Duration,
) -> Result<(), Problem> {
    let deadline = Instant::now() + period;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        // The library's own timeout restarts at every keepalive ("* OK Still
        // here"), so the deadline is kept here. The stop source is held for
        // the wait: dropping it would end the wait as if interrupted.
        let (wait, _stop) = h.wait_with_timeout(left);
        match tokio::time::timeout(left, wait).await {
            Err(_) | Ok(Ok(IdleResponse::Timeout)) => return Ok(()),
            Ok(Ok(IdleResponse::NewData(d))) => match announces(d.parsed()) {
                Announced::Mail => wake(),
                Announced::Nothing => {}
                Announced::Bye => {
                    wake();
                    return Err(Problem::new("unreachable", "IDLE: o servidor encerrou a sessão"));
                }
            },
            // Nothing here interrupts: the connection was closed.
            Ok(Ok(IdleResponse::ManualInterrupt)) => {
                return Err(Problem::new("unreachable", "IDLE: o servidor fechou a conexão"));
            }
            Ok(Err(e)) => return Err(Problem::new("unreachable", format!("IDLE: {e}"))),
        }
    }
}

/// What a server's line during IDLE means for the desk.
#[derive(Debug, PartialEq, Eq)]
enum Announced {
    /// Maybe new mail (EXISTS, RECENT, anything not known to bring none).
    Mail,
    /// Flags changed or messages went away: nothing to read.
    Nothing,
    /// The server ends the session.
    Bye,
}

fn announces(r: &Response<'_>) -> Announced {
    match r {
        Response::Fetch(..) | Response::Expunge(_) | Response::Vanished { .. } => Announced::Nothing,
        Response::Data { status: Status::Bye, .. } => Announced::Bye,
        _ => Announced::Mail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> Announced {
        let (_, r) = Response::parse(s.as_bytes()).expect("a line the parser reads");
        announces(&r)
    }

    #[test]
    fn new_mail_wakes_a_read_and_flag_changes_do_not() {
        assert_eq!(line("* 3 EXISTS\r\n"), Announced::Mail);
        assert_eq!(line("* 1 RECENT\r\n"), Announced::Mail);
        assert_eq!(line("* 2 FETCH (FLAGS (\\Seen))\r\n"), Announced::Nothing);
        assert_eq!(line("* 2 EXPUNGE\r\n"), Announced::Nothing);
        assert_eq!(line("* BYE server shutting down\r\n"), Announced::Bye);
    }

    /// A scripted server on the other end of a pipe: greets, accepts the
    /// login, and answers IDLE with `during` (then closes if `close`), and
    /// DONE with OK.
    async fn scripted(during: &'static [&'static str], close: bool) -> imap::ImapSession {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let (client, server) = tokio::io::duplex(4096);
        tokio::spawn(async move {
            let (rd, mut wr) = tokio::io::split(server);
            let mut rd = BufReader::new(rd);
            wr.write_all(b"* OK ready\r\n").await.ok();
            let mut idle_tag = String::new();
            let mut line = String::new();
            while rd.read_line(&mut line).await.unwrap_or(0) > 0 {
                let tag = line.split_whitespace().next().unwrap_or("").to_string();
                if line.contains("LOGIN") {
                    wr.write_all(format!("{tag} OK logged in\r\n").as_bytes()).await.ok();
                } else if line.trim() == "DONE" {
                    wr.write_all(format!("{idle_tag} OK idle done\r\n").as_bytes()).await.ok();
                } else if line.contains("IDLE") {
                    idle_tag = tag;
                    wr.write_all(b"+ idling\r\n").await.ok();
                    for l in during {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        wr.write_all(l.as_bytes()).await.ok();
                    }
                    if close {
                        return;
                    }
                }
                line.clear();
            }
        });
        let mut c = async_imap::Client::new(Box::new(client) as Box<dyn imap::Io>);
        c.read_response().await.expect("greeting read").expect("a greeting");
        c.login("u", "p").await.map_err(|(e, _)| e).expect("logged in")
    }

    fn counter() -> (Wake, Arc<std::sync::atomic::AtomicUsize>) {
        let n = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let n2 = n.clone();
        let wake: Wake = Arc::new(move || {
            n2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        (wake, n)
    }

    #[tokio::test]
    async fn idle_ends_at_its_period_despite_keepalives_and_wakes_only_for_mail() {
        // Keepalives for longer than the period: the library's own timeout,
        // which each of them restarts, would never end this IDLE.
        let mut lines = vec!["* 4 EXISTS\r\n", "* 2 FETCH (FLAGS (\\Seen))\r\n"];
        lines.extend(std::iter::repeat_n("* OK Still here\r\n", 50));
        // Past the period: for the next IDLE, not this one.
        lines.push("* 5 EXISTS\r\n");
        let during: &'static [&'static str] = Vec::leak(lines);
        let s = scripted(during, false).await;
        let (wake, n) = counter();
        let mut h = s.idle();
        h.init().await.expect("IDLE accepted");
        let r = idle_until_reissue(&mut h, &wake, Duration::from_millis(200)).await;
        assert_eq!(r, Ok(()));
        assert_eq!(n.load(std::sync::atomic::Ordering::SeqCst), 1, "EXISTS wakes a read; FETCH and keepalives do not");
        // The session comes back from DONE, ready for the next IDLE.
        let mut h = h.done().await.expect("DONE answered").idle();
        h.init().await.expect("IDLE again");
    }

    #[tokio::test]
    async fn a_connection_closed_during_idle_is_a_break_and_a_bye_wakes_a_read() {
        let s = scripted(&[], true).await;
        let (wake, _) = counter();
        let mut h = s.idle();
        h.init().await.expect("IDLE accepted");
        let r = idle_until_reissue(&mut h, &wake, Duration::from_secs(30)).await;
        assert_eq!(r.map_err(|p| p.code), Err("unreachable"));

        let s = scripted(&["* BYE shutting down\r\n"], false).await;
        let (wake, n) = counter();
        let mut h = s.idle();
        h.init().await.expect("IDLE accepted");
        let r = idle_until_reissue(&mut h, &wake, Duration::from_secs(30)).await;
        assert_eq!(r.map_err(|p| p.code), Err("unreachable"));
        assert_eq!(n.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
