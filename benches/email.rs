//! E-mail channel figures of Atende (issue 13, "Benchmark"), printed as plain
//! lines and a summary table.
//!
//! Run with `cargo bench --bench email` (`ATENDE_BENCH_SECTIONS=1`, `2` or
//! `3`, or a list like `1,3`, runs only those; `ATENDE_BENCH_BIN=/path/to/atende`
//! another server build). Sections 1 and 3 spawn the release binary on a
//! temporary data folder whose e-mail queue (its mailbox: IMAP and SMTP
//! servers, sender, polling interval) is written straight into SQLite
//! before the server starts.
//!
//! Section 1 (`email/ingest.rs`) starts a private Dovecot on 127.0.0.1
//! (`email/dovecot.rs`, the tests' way: `dovecot -F -c <config>`), delivers
//! 10,000 customer e-mails into the desk's INBOX by IMAP APPEND before the
//! server starts (`email/mail.rs`: mostly 2–20 KB text and HTML, some of
//! 100 KB, one in ten with a 50–500 KB PDF in base64, 2,000 senders whose
//! later e-mails partly answer their earlier ones so threads continue), then
//! starts the server with the mailbox polled every second and measures, from
//! the spawn, how long until all 10,000 are stored (a read-only connection
//! counts them every 250 ms); the server's RSS is sampled every second.
//! Section 2 (`email/sanitize.rs`) calls the library's HTML sanitiser
//! (`atende::channels::email::parse::sanitize_html`) on a hostile 1 MB HTML
//! body (tables, inline styles, scripts, handlers, remote images, long text)
//! a bounded number of times, and the whole parse of an e-mail carrying it.
//! Section 3 (`email/outbox.rs`) seeds 5,000 agent replies in the outbox
//! (built by the library's `enqueue_reply`), starts the server against an
//! SMTP sink this process runs on 127.0.0.1 (`email/sink.rs`), kills it with
//! SIGKILL in the middle of a delivery run (the sink sends the signal at the
//! DATA command of the run's middle message), restarts it on the same folder and waits until the
//! outbox is drained: the sink's records give the duplicates (a Message-ID
//! taken twice), the missing, the rate per second and the time to drain.
//! Rows the kill left `sending` that never reached the sink wait for the
//! outbox's reconcile time (then the desk marks them unconfirmed): they are
//! counted apart rather than waited for.
//!
//! Every loop is bounded in count and in time. A missed target prints MISS;
//! a section that could not run prints FAILED and the bench exits 1. Dovecot,
//! the sink and the bench share the machine's cores with the server.

mod common;
#[path = "email/dovecot.rs"]
mod dovecot;
#[path = "email/ingest.rs"]
mod ingest;
#[path = "email/mail.rs"]
mod mail;
#[path = "email/outbox.rs"]
mod outbox;
#[path = "email/sanitize.rs"]
mod sanitize;
#[path = "email/sink.rs"]
mod sink;

use std::path::Path;

use rusqlite::params;

use common::{R, err, now_secs};
pub use common::{loadavg, mb};

/// The desk's mailbox (its IMAP login and the address replies come from).
pub const DESK: &str = "suporte@empresa.com.br";
/// Its IMAP password.
pub const MAIL_PW: &str = "senha-da-caixa-bench";

/// Environment variable listing the sections to run ("1,2,3" by default).
const SECTIONS_ENV: &str = "ATENDE_BENCH_SECTIONS";

/// Where a queue's mailbox reads and sends: IMAP on `imap_port` (0: not
/// read) and SMTP on `smtp_port` (0: cannot send), both on 127.0.0.1
/// without TLS.
pub struct MailboxSetup {
    pub imap_port: u16,
    pub smtp_port: u16,
    pub poll_secs: i64,
}

/// Turns `queue` into an e-mail queue with a mailbox as the admin form
/// saves it (part of the caller's transaction).
pub fn seed_mailbox(c: &rusqlite::Connection, queue: i64, m: &MailboxSetup) -> R<()> {
    c.execute("UPDATE queues SET channel = 'email' WHERE id = ?1", [queue]).map_err(err)?;
    let (imap_host, imap_user, imap_pw) = if m.imap_port == 0 { ("", "", "") } else { ("127.0.0.1", DESK, MAIL_PW) };
    let smtp_host = if m.smtp_port == 0 { "" } else { "127.0.0.1" };
    c.execute(
        "INSERT INTO email_mailboxes (queue_id, imap_host, imap_port, imap_tls, imap_user, imap_password, folder,
           smtp_host, smtp_port, smtp_tls, smtp_user, smtp_password, from_name, from_address, reply_to, signature,
           poll_secs, reopen_days, updated_at)
         VALUES (?1, ?2, ?3, 'none', ?4, ?5, 'INBOX', ?6, ?7, 'none', '', '', 'Suporte Empresa', ?8, '',
           'Equipe de suporte', ?9, 7, ?10)",
        params![
            queue,
            imap_host,
            i64::from(m.imap_port.max(1)),
            imap_user,
            imap_pw,
            smtp_host,
            i64::from(m.smtp_port.max(1)),
            DESK,
            m.poll_secs,
            now_secs()
        ],
    )
    .map_err(err)?;
    Ok(())
}

/// The WARN and ERROR lines of a server log: how many, and the first few.
pub fn log_problems(path: &Path) -> (usize, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let bad: Vec<&str> = text.lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).collect();
    (bad.len(), bad.iter().take(5).map(|l| l.chars().take(240).collect()).collect())
}

/// CPU seconds of a process and of its children: the live ones' own time
/// plus what the ones that ended left in the parent's `cutime`/`cstime`
/// (Dovecot's master forks an `imap` process per session).
pub fn tree_cpu(pid: u32) -> f64 {
    let fields = |p: &str| -> Vec<String> {
        let text = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        let rest = text.rsplit_once(')').map(|(_, r)| r.to_string()).unwrap_or_default();
        rest.split_whitespace().map(str::to_string).collect()
    };
    let num = |f: &[String], i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let me = fields(&pid.to_string());
    // After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    let mut ticks = num(&me, 11) + num(&me, 12) + num(&me, 13) + num(&me, 14);
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten().take(100_000) {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let f = fields(&name);
            if f.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(pid) {
                ticks += num(&f, 11) + num(&f, 12) + num(&f, 13) + num(&f, 14);
            }
        }
    }
    ticks / 100.0
}

fn main() {
    let Some((total, mut sum, rt)) = common::start("email") else { return };
    println!("load average at start: [{}]", loadavg());
    let root = common::temp_root();
    let want = common::sections(SECTIONS_ENV, "1,2,3");
    if want("1") {
        println!(
            "\n-- 1. IMAP ingest: {} e-mails from a private Dovecot ({} senders, {}% with a file)",
            ingest::EMAILS,
            mail::SENDERS,
            mail::ATTACH_PCT
        );
        if let Err(e) = rt.block_on(ingest::bench(&mut sum, root.path())) {
            sum.fail("mail_ingest_per_s", &e);
        }
    }
    if want("2") {
        println!("\n-- 2. sanitising a {} KB hostile HTML body (sanitize_html)", sanitize::SIZE / 1024);
        if let Err(e) = sanitize::bench(&mut sum) {
            sum.fail("mail_sanitize_1mb_ms", &e);
        }
    }
    if want("3") {
        println!(
            "\n-- 3. outbox: {} replies to a loopback SMTP server, SIGKILL after {} s, restart, drain",
            outbox::REPLIES,
            outbox::KILL_AFTER.as_secs()
        );
        if let Err(e) = rt.block_on(outbox::bench(&mut sum, root.path())) {
            sum.fail("mail_outbox_duplicates", &e);
        }
    }
    drop(root);
    common::finish(rt, total, sum, 900.0);
}
