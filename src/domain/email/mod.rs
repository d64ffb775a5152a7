//! The e-mail channel's rules: a queue's mailbox (its servers and secrets),
//! the sync position that makes a restart miss or repeat nothing, and what a
//! customer's e-mail does (see [`thread`]: which conversation it joins and
//! who may join one). The network side (IMAP, parsing) is in
//! `channels::email`.

pub mod html;
pub mod outgoing;
pub mod templates;
pub mod thread;

use rusqlite::{Connection, OptionalExtension, params};

use super::Actor;
use super::audit;
use super::validate::FormErrors;
use crate::app::AppState;
use crate::error::{AppError, AppResult};

/// How a client talks to a server: TLS from the start, STARTTLS, or plain
/// (only for a server on this machine).
pub const TLS_MODES: &[&str] = &["tls", "starttls", "none"];
/// The shortest and longest polling intervals an admin may set (seconds).
pub const POLL_RANGE: (i64, i64) = (10, 3600);
/// The longest reopen window (days).
pub const MAX_REOPEN_DAYS: i64 = 365;

/// A queue's mailbox as the admin page shows it: passwords only as "set".
#[derive(Clone, Debug, Default)]
pub struct Mailbox {
    /// The queue.
    pub queue_id: i64,
    /// IMAP server.
    pub imap_host: String,
    /// IMAP port.
    pub imap_port: i64,
    /// tls | starttls | none.
    pub imap_tls: String,
    /// IMAP login.
    pub imap_user: String,
    /// Whether an IMAP password is stored.
    pub has_imap_password: bool,
    /// The folder read (INBOX).
    pub folder: String,
    /// SMTP server.
    pub smtp_host: String,
    /// SMTP port.
    pub smtp_port: i64,
    /// tls | starttls | none.
    pub smtp_tls: String,
    /// SMTP login ('' = none).
    pub smtp_user: String,
    /// Whether an SMTP password is stored.
    pub has_smtp_password: bool,
    /// The name replies come from.
    pub from_name: String,
    /// The address replies come from.
    pub from_address: String,
    /// Reply-To ('' = the From address).
    pub reply_to: String,
    /// Added under every reply.
    pub signature: String,
    /// Seconds between two reads of the folder.
    pub poll_secs: i64,
    /// A reply this many days after the conversation finished reopens it;
    /// later, it opens a new one.
    pub reopen_days: i64,
    /// Whether replies carry a plus-addressed, signed Reply-To.
    pub plus_address: bool,
    /// unchecked | ok | auth | unreachable | error.
    pub state: String,
    /// What the last check or sync said (never a secret).
    pub last_error: String,
    /// When the connection was last checked.
    pub checked_at: Option<i64>,
    /// When the folder was last read to its end.
    pub synced_at: Option<i64>,
    /// Messages read so far: the folder's UIDVALIDITY and last UID.
    pub uidvalidity: Option<i64>,
    /// The last UID stored.
    pub last_uid: i64,
    /// Whether the server holds the folder in IMAP IDLE for the desk now, so
    /// mail is read as it arrives (not stored; only the admin's page fills it).
    pub idle: bool,
}

impl Mailbox {
    /// Whether mail can be read: server, login and password set.
    pub fn can_receive(&self) -> bool {
        !self.imap_host.is_empty() && !self.imap_user.is_empty() && self.has_imap_password
    }
}

/// What the IMAP side needs to read a mailbox.
#[derive(Clone)]
pub struct ImapAccess {
    /// The queue.
    pub queue_id: i64,
    /// Server.
    pub host: String,
    /// Port.
    pub port: u16,
    /// tls | starttls | none.
    pub tls: String,
    /// Login.
    pub user: String,
    /// Password.
    pub password: String,
    /// Folder.
    pub folder: String,
}

impl std::fmt::Debug for ImapAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password never reaches a log line.
        f.debug_struct("ImapAccess")
            .field("queue_id", &self.queue_id)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

const COLS: &str = "queue_id, imap_host, imap_port, imap_tls, imap_user, imap_password <> '', folder, smtp_host,
    smtp_port, smtp_tls, smtp_user, smtp_password <> '', from_name, from_address, reply_to, signature, poll_secs,
    reopen_days, state, last_error, checked_at, synced_at, uidvalidity, last_uid, plus_address";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Mailbox> {
    Ok(Mailbox {
        queue_id: r.get(0)?,
        imap_host: r.get(1)?,
        imap_port: r.get(2)?,
        imap_tls: r.get(3)?,
        imap_user: r.get(4)?,
        has_imap_password: r.get(5)?,
        folder: r.get(6)?,
        smtp_host: r.get(7)?,
        smtp_port: r.get(8)?,
        smtp_tls: r.get(9)?,
        smtp_user: r.get(10)?,
        has_smtp_password: r.get(11)?,
        from_name: r.get(12)?,
        from_address: r.get(13)?,
        reply_to: r.get(14)?,
        signature: r.get(15)?,
        poll_secs: r.get(16)?,
        reopen_days: r.get(17)?,
        state: r.get(18)?,
        last_error: r.get(19)?,
        checked_at: r.get(20)?,
        synced_at: r.get(21)?,
        uidvalidity: r.get(22)?,
        last_uid: r.get(23)?,
        plus_address: r.get(24)?,
        idle: false,
    })
}

/// The mailbox of an active e-mail queue (None: no such queue or not set up).
pub fn mailbox(conn: &Connection, queue_id: i64) -> AppResult<Option<Mailbox>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLS} FROM email_mailboxes m WHERE queue_id = ?1
               AND EXISTS (SELECT 1 FROM queues q WHERE q.id = m.queue_id AND q.channel = 'email' AND q.active = 1)"
        ))?
        .query_row([queue_id], from_row)
        .optional()?)
}

/// The mailbox of an active e-mail queue with whether it is in IDLE now
/// (what the queue's register page sums up).
pub async fn mailbox_now(state: &AppState, queue_id: i64) -> AppResult<Option<Mailbox>> {
    let mut m = state.db.read(move |conn| mailbox(conn, queue_id)).await?;
    if let Some(m) = m.as_mut() {
        m.idle = state.email.is_idle(queue_id);
    }
    Ok(m)
}

/// The mailbox of an e-mail queue, creating its row the first time the admin
/// opens it, with whether it is in IDLE now. NotFound for other queues.
pub async fn mailbox_for_admin(state: &AppState, queue_id: i64) -> AppResult<Mailbox> {
    let now = state.now();
    let mut m = state
        .db
        .write(move |conn| {
            queue_name(conn, queue_id)?;
            conn.prepare_cached(
                "INSERT INTO email_mailboxes (queue_id, updated_at) VALUES (?1, ?2) ON CONFLICT (queue_id) DO NOTHING",
            )?
            .execute(params![queue_id, now])?;
            conn.prepare_cached(&format!("SELECT {COLS} FROM email_mailboxes WHERE queue_id = ?1"))?
                .query_row([queue_id], from_row)
                .map_err(Into::into)
        })
        .await?;
    m.idle = state.email.is_idle(queue_id);
    Ok(m)
}

/// The name of an e-mail queue (NotFound for any other).
pub fn queue_name(conn: &Connection, queue_id: i64) -> AppResult<String> {
    conn.prepare_cached("SELECT name FROM queues WHERE id = ?1 AND channel = 'email'")?
        .query_row([queue_id], |r| r.get(0))
        .optional()?
        .ok_or(AppError::NotFound)
}

const ACCESS: &str = "SELECT m.queue_id, m.imap_host, m.imap_port, m.imap_tls, m.imap_user, m.imap_password, m.folder
    FROM email_mailboxes m JOIN queues q ON q.id = m.queue_id
    WHERE q.active = 1 AND q.channel = 'email' AND m.imap_host <> '' AND m.imap_user <> '' AND m.imap_password <> ''";

fn access_row(r: &rusqlite::Row) -> rusqlite::Result<ImapAccess> {
    Ok(ImapAccess {
        queue_id: r.get(0)?,
        host: r.get(1)?,
        port: r.get::<_, i64>(2)?.clamp(1, 65535) as u16,
        tls: r.get(3)?,
        user: r.get(4)?,
        password: r.get(5)?,
        folder: r.get(6)?,
    })
}

/// How to read the mailbox of an active e-mail queue that can receive.
pub fn imap_access(conn: &Connection, queue_id: i64) -> AppResult<Option<ImapAccess>> {
    Ok(conn.prepare_cached(&format!("{ACCESS} AND m.queue_id = ?1"))?.query_row([queue_id], access_row).optional()?)
}

/// How to read every mailbox that can receive (the IDLE watchers' list).
pub fn imap_accesses(conn: &Connection) -> AppResult<Vec<ImapAccess>> {
    let mut st = conn.prepare_cached(&format!("{ACCESS} ORDER BY m.queue_id"))?;
    let v = st.query_map([], access_row)?.collect::<Result<_, _>>()?;
    Ok(v)
}

/// The active e-mail queues whose mailbox can be read, with their polling
/// interval and when they were last read to the end.
pub fn receiving(conn: &Connection) -> AppResult<Vec<(i64, i64, Option<i64>)>> {
    let mut st = conn.prepare_cached(
        "SELECT m.queue_id, m.poll_secs, m.synced_at FROM email_mailboxes m JOIN queues q ON q.id = m.queue_id
         WHERE q.active = 1 AND q.channel = 'email' AND m.imap_host <> '' AND m.imap_user <> ''
           AND m.imap_password <> '' ORDER BY m.queue_id",
    )?;
    let v = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
    Ok(v)
}

/// What the admin submits for a mailbox. An empty password keeps the stored one.
#[derive(Clone, Debug, Default)]
pub struct MailboxForm {
    /// IMAP server.
    pub imap_host: String,
    /// IMAP port ("993").
    pub imap_port: String,
    /// tls | starttls | none.
    pub imap_tls: String,
    /// IMAP login.
    pub imap_user: String,
    /// New IMAP password ('' = keep).
    pub imap_password: String,
    /// Folder.
    pub folder: String,
    /// SMTP server.
    pub smtp_host: String,
    /// SMTP port ("587").
    pub smtp_port: String,
    /// tls | starttls | none.
    pub smtp_tls: String,
    /// SMTP login.
    pub smtp_user: String,
    /// New SMTP password ('' = keep).
    pub smtp_password: String,
    /// From name.
    pub from_name: String,
    /// From address.
    pub from_address: String,
    /// Reply-To.
    pub reply_to: String,
    /// Signature.
    pub signature: String,
    /// Polling interval ("60").
    pub poll_secs: String,
    /// Reopen window in days ("7").
    pub reopen_days: String,
    /// Plus-addressed Reply-To.
    pub plus_address: bool,
}

fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

fn port(s: &str) -> Option<i64> {
    s.trim().parse::<i64>().ok().filter(|p| (1..=65535).contains(p))
}

fn no_controls(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

/// Checks a submitted mailbox: hosts and ports that can be, a known TLS mode,
/// addresses that look like addresses, nothing that could inject a header.
pub fn check_form(f: &MailboxForm, has_imap_password: bool) -> Result<(), FormErrors> {
    let mut errs = FormErrors::default();
    if !valid_host(f.imap_host.trim()) {
        errs.add("imap_host", "mail.val.host");
    }
    if port(&f.imap_port).is_none() {
        errs.add("imap_port", "mail.val.port");
    }
    if !TLS_MODES.contains(&f.imap_tls.as_str()) {
        errs.add("imap_tls", "mail.val.tls");
    }
    if f.imap_user.trim().is_empty() {
        errs.add("imap_user", "val.required");
    } else if f.imap_user.len() > 200 || !no_controls(&f.imap_user) {
        errs.add("imap_user", "val.too_long");
    }
    if f.imap_password.len() > 500 || !no_controls(&f.imap_password) {
        errs.add("imap_password", "mail.val.secret");
    } else if f.imap_password.is_empty() && !has_imap_password {
        errs.add("imap_password", "val.required");
    }
    let folder = f.folder.trim();
    if folder.is_empty() || folder.len() > 200 || !no_controls(folder) || folder.contains('"') {
        errs.add("folder", "mail.val.folder");
    }
    if !f.smtp_host.trim().is_empty() && !valid_host(f.smtp_host.trim()) {
        errs.add("smtp_host", "mail.val.host");
    }
    if port(&f.smtp_port).is_none() {
        errs.add("smtp_port", "mail.val.port");
    }
    if !TLS_MODES.contains(&f.smtp_tls.as_str()) {
        errs.add("smtp_tls", "mail.val.tls");
    }
    if f.smtp_user.len() > 200 || !no_controls(&f.smtp_user) {
        errs.add("smtp_user", "val.too_long");
    }
    if f.smtp_password.len() > 500 || !no_controls(&f.smtp_password) {
        errs.add("smtp_password", "mail.val.secret");
    }
    if f.from_name.chars().count() > 100 || !no_controls(&f.from_name) {
        errs.add("from_name", "val.too_long");
    }
    let from = f.from_address.trim();
    if from.is_empty() {
        errs.add("from_address", "val.required");
    } else if !super::contacts::valid_email(from) {
        errs.add("from_address", "contact.bad_email");
    }
    let reply_to = f.reply_to.trim();
    if !reply_to.is_empty() && !super::contacts::valid_email(reply_to) {
        errs.add("reply_to", "contact.bad_email");
    }
    if f.signature.chars().count() > 2000 {
        errs.add("signature", "val.too_long");
    }
    let (lo, hi) = POLL_RANGE;
    if !f.poll_secs.trim().parse::<i64>().is_ok_and(|s| (lo..=hi).contains(&s)) {
        errs.add("poll_secs", "mail.val.poll");
    }
    if !f.reopen_days.trim().parse::<i64>().is_ok_and(|d| (0..=MAX_REOPEN_DAYS).contains(&d)) {
        errs.add("reopen_days", "mail.val.reopen_days");
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// Saves a queue's mailbox (audited without any secret). A changed server,
/// login, folder or password makes the connection "unchecked" again; another
/// server or folder starts the sync over (its messages are deduplicated by
/// Message-ID, so nothing comes twice).
pub async fn save(state: &AppState, actor: Actor, queue_id: i64, f: MailboxForm) -> AppResult<()> {
    let current = mailbox_for_admin(state, queue_id).await?;
    check_form(&f, current.has_imap_password).map_err(AppError::Invalid)?;
    let imap_port = port(&f.imap_port).unwrap_or(993);
    let smtp_port = port(&f.smtp_port).unwrap_or(587);
    let poll: i64 = f.poll_secs.trim().parse().unwrap_or(60);
    let reopen: i64 = f.reopen_days.trim().parse().unwrap_or(7);
    let moved = current.imap_host != f.imap_host.trim()
        || current.imap_port != imap_port
        || current.imap_user != f.imap_user.trim()
        || current.folder != f.folder.trim();
    state
        .db
        .write(move |conn| {
            conn.prepare_cached(
                "UPDATE email_mailboxes SET imap_host = ?2, imap_port = ?3, imap_tls = ?4, imap_user = ?5,
                   imap_password = CASE WHEN ?6 <> '' THEN ?6 ELSE imap_password END, folder = ?7,
                   smtp_host = ?8, smtp_port = ?9, smtp_tls = ?10, smtp_user = ?11,
                   smtp_password = CASE WHEN ?12 <> '' THEN ?12 ELSE smtp_password END,
                   from_name = ?13, from_address = ?14, reply_to = ?15, signature = ?16, poll_secs = ?17,
                   reopen_days = ?18, state = 'unchecked', last_error = '', updated_at = ?19,
                   uidvalidity = CASE WHEN ?20 THEN NULL ELSE uidvalidity END,
                   last_uid = CASE WHEN ?20 THEN 0 ELSE last_uid END,
                   synced_at = CASE WHEN ?20 THEN NULL ELSE synced_at END, plus_address = ?21
                 WHERE queue_id = ?1",
            )?
            .execute(params![
                queue_id,
                f.imap_host.trim(),
                imap_port,
                f.imap_tls,
                f.imap_user.trim(),
                f.imap_password,
                f.folder.trim(),
                f.smtp_host.trim(),
                smtp_port,
                f.smtp_tls,
                f.smtp_user.trim(),
                f.smtp_password,
                f.from_name.trim(),
                f.from_address.trim().to_lowercase(),
                f.reply_to.trim().to_lowercase(),
                f.signature.trim_end(),
                poll,
                reopen,
                actor.now,
                moved,
                f.plus_address
            ])?;
            let name = queue_name(conn, queue_id)?;
            let mut changed = Vec::new();
            if !f.imap_password.is_empty() {
                changed.push("IMAP");
            }
            if !f.smtp_password.is_empty() {
                changed.push("SMTP");
            }
            let detail = format!(
                "IMAP {}:{imap_port} ({}); SMTP {}:{smtp_port}; novas senhas: {}",
                f.imap_host.trim(),
                f.imap_user.trim(),
                f.smtp_host.trim(),
                changed.join(", ")
            );
            audit::record(conn, &actor, "email.mailbox_saved", &name, &detail)?;
            Ok(())
        })
        .await
}

/// Records the outcome of a connection check or a sync: the state code and
/// what was wrong ('' when fine).
pub async fn set_state(state: &AppState, queue_id: i64, code: &'static str, detail: String) -> AppResult<()> {
    let now = state.now();
    state
        .db
        .write(move |conn| {
            conn.prepare_cached(
                "UPDATE email_mailboxes SET state = ?2, last_error = ?3, checked_at = ?4 WHERE queue_id = ?1",
            )?
            .execute(params![queue_id, code, detail, now])?;
            Ok(())
        })
        .await
}

/// Where the sync of a mailbox stands: its UIDVALIDITY and last UID.
pub fn sync_position(conn: &Connection, queue_id: i64) -> AppResult<(Option<i64>, i64)> {
    Ok(conn
        .prepare_cached("SELECT uidvalidity, last_uid FROM email_mailboxes WHERE queue_id = ?1")?
        .query_row([queue_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((None, 0)))
}

/// Moves the sync position (part of the transaction that stored the
/// messages up to `last_uid`, so a crash in between repeats nothing and
/// misses nothing).
pub fn set_sync_position(conn: &Connection, queue_id: i64, uidvalidity: i64, last_uid: i64) -> AppResult<()> {
    conn.prepare_cached("UPDATE email_mailboxes SET uidvalidity = ?2, last_uid = ?3 WHERE queue_id = ?1")?
        .execute(params![queue_id, uidvalidity, last_uid])?;
    Ok(())
}

/// A sync read the folder to its end: the mailbox is connected.
pub fn synced(conn: &Connection, queue_id: i64, now: i64) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE email_mailboxes SET synced_at = ?2, state = 'ok', last_error = '', checked_at = ?2 WHERE queue_id = ?1",
    )?
    .execute(params![queue_id, now])?;
    Ok(())
}
