//! A customer's e-mail in the desk: which conversation it joins (our
//! Message-IDs in In-Reply-To or References, or the `[#id]` subject token —
//! and only when the sender took part in it), reopening a finished one
//! within the mailbox's window, a new conversation otherwise; files and
//! inline images into the attachment store; bounces onto the message that
//! failed. Part of the sync's transaction, which also moves the mailbox's
//! sync position, so nothing is stored twice or skipped.

use rusqlite::{Connection, OptionalExtension, params};

use super::*;
use crate::domain::email::thread::{self, Incoming};
use crate::domain::{attachments, routing};
use crate::error::AppResult;
use crate::events::Change;
use crate::i18n::{Locale, t};

/// The inbound id of an e-mail in a queue (the same e-mail to two queues is
/// one message in each).
fn external_id(queue_id: i64, message_id: &str) -> String {
    format!("{queue_id}:{message_id}")
}

/// Whether this e-mail was already stored in the queue.
pub fn email_seen(conn: &Connection, queue_id: i64, message_id: &str) -> AppResult<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM inbound_ids WHERE channel = 'email' AND external_id = ?1)")?
        .query_row([external_id(queue_id, message_id)], |r| r.get(0))?)
}

/// The unmerged contact with this e-mail address, else a new one named from
/// the sender's display name.
fn contact_by_email(conn: &Connection, address: &str, name: &str, now: i64) -> AppResult<i64> {
    let found: Option<i64> = conn
        .prepare_cached("SELECT id FROM contacts WHERE email = ?1 AND merged_into IS NULL ORDER BY id LIMIT 1")?
        .query_row([address], |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        conn.prepare_cached("UPDATE contacts SET name = ?2 WHERE id = ?1 AND name = '' AND ?2 <> ''")?
            .execute(params![id, name])?;
        return Ok(id);
    }
    conn.prepare_cached("INSERT INTO contacts (name, email, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)")?
        .execute(params![name, address, now])?;
    Ok(conn.last_insert_rowid())
}

/// The conversation of this queue that an e-mail's headers point to: a
/// message id it names (newest reference first), else a signed plus address
/// it was sent to, else its subject token.
fn named_conversation(conn: &Connection, queue_id: i64, m: &Incoming) -> AppResult<Option<i64>> {
    let mut st = conn.prepare_cached(
        "SELECT c.id FROM email_messages e JOIN messages g ON g.id = e.message_id
           JOIN conversations c ON c.id = g.conversation_id
         WHERE e.rfc_id = ?1 AND c.queue_id = ?2 ORDER BY e.message_id DESC LIMIT 1",
    )?;
    for id in m.in_reply_to.iter().chain(m.references.iter().rev()) {
        if let Some(c) = st.query_row(params![id, queue_id], |r| r.get(0)).optional()? {
            return Ok(Some(c));
        }
    }
    let key: Option<String> = conn
        .prepare_cached("SELECT thread_key FROM email_mailboxes WHERE queue_id = ?1")?
        .query_row([queue_id], |r| r.get(0))
        .optional()?;
    if let Some(key) = key
        && let Some(id) = m.to.iter().chain(m.cc.iter()).find_map(|a| thread::plus_conversation(a, &key))
    {
        let found: Option<i64> = conn
            .prepare_cached("SELECT id FROM conversations WHERE id = ?1 AND queue_id = ?2 AND channel = 'email'")?
            .query_row(params![id, queue_id], |r| r.get(0))
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    if let Some(id) = thread::subject_token(&m.subject) {
        let found: Option<i64> = conn
            .prepare_cached("SELECT id FROM conversations WHERE id = ?1 AND queue_id = ?2 AND channel = 'email'")?
            .query_row(params![id, queue_id], |r| r.get(0))
            .optional()?;
        return Ok(found);
    }
    Ok(None)
}

/// Whether `address` takes part in conversation `conv` (its customer or
/// someone in copy).
fn participant(conn: &Connection, conv: i64, address: &str) -> AppResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM email_participants WHERE conversation_id = ?1 AND address = ?2)
                 OR EXISTS(SELECT 1 FROM conversations c JOIN contacts k ON k.id = c.contact_id
                           WHERE c.id = ?1 AND k.email = ?2)",
        )?
        .query_row(params![conv, address], |r| r.get(0))?)
}

/// Where an e-mail goes.
enum Target {
    /// An open conversation it continues.
    Open(i64),
    /// A finished one it reopens.
    Reopen(i64),
    /// A new conversation; `resembles` is the one its headers named but it
    /// could not join (another sender, or finished too long ago).
    New {
        /// The conversation and the catalog key saying why.
        resembles: Option<(i64, &'static str)>,
    },
}

fn target(conn: &Connection, queue_id: i64, m: &Incoming, reopen_days: i64, now: i64) -> AppResult<Target> {
    let Some(conv) = named_conversation(conn, queue_id, m)? else { return Ok(Target::New { resembles: None }) };
    if !participant(conn, conv, &m.from)? {
        return Ok(Target::New { resembles: Some((conv, "mail.ev.not_participant")) });
    }
    let (status, closed_at): (String, Option<i64>) = conn
        .prepare_cached("SELECT status, closed_at FROM conversations WHERE id = ?1")?
        .query_row([conv], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if matches!(status.as_str(), "queued" | "offered" | "assigned") {
        return Ok(Target::Open(conv));
    }
    if closed_at.is_some_and(|t| now - t <= reopen_days * 86_400) {
        Ok(Target::Reopen(conv))
    } else {
        Ok(Target::New { resembles: Some((conv, "mail.ev.after_window")) })
    }
}

/// Stores one e-mail of a customer in queue `queue_id` (part of the
/// caller's transaction) and returns what it did and the live changes to
/// publish after the commit. `own` are the mailbox's own addresses (never
/// taken as participants); `reopen_days` the mailbox's reopen window;
/// `loc` the language of the lines it adds to the timeline.
#[allow(clippy::too_many_arguments)]
pub fn email_message(
    conn: &Connection,
    loc: Locale,
    queue_id: i64,
    own: &[String],
    reopen_days: i64,
    m: &Incoming,
    now: i64,
) -> AppResult<(Stored, Vec<Change>)> {
    if email_seen(conn, queue_id, &m.message_id)? {
        return Ok((Stored::Duplicate, vec![]));
    }
    if let Some(b) = &m.bounce
        && let Some(r) = bounced(conn, loc, queue_id, m, b, now)?
    {
        return Ok(r);
    }
    let mut changes = Vec::new();
    let (conv, agent, new) = match target(conn, queue_id, m, reopen_days, now)? {
        Target::Open(c) => {
            let agent: Option<i64> = conn
                .prepare_cached("SELECT agent_id FROM conversations WHERE id = ?1")?
                .query_row([c], |r| r.get(0))?;
            (c, agent, false)
        }
        Target::Reopen(c) => {
            let agent: Option<i64> = conn
                .prepare_cached("SELECT agent_id FROM conversations WHERE id = ?1")?
                .query_row([c], |r| r.get(0))?;
            changes.extend(lifecycle::reopen_thread(conn, c, agent, now, "mail.ev.reopened")?);
            let agent: Option<i64> = conn
                .prepare_cached("SELECT agent_id FROM conversations WHERE id = ?1")?
                .query_row([c], |r| r.get(0))?;
            (c, agent, false)
        }
        Target::New { resembles } => {
            let from = if m.from.is_empty() { "desconhecido@invalid".to_string() } else { m.from.clone() };
            let contact = contact_by_email(conn, &from, &m.from_name, now)?;
            let subject: String = thread::bare_subject(&m.subject).chars().take(200).collect();
            conn.prepare_cached(
                "INSERT INTO conversations (queue_id, contact_id, channel, subject, status, queued_at, created_at,
                   last_activity_at) VALUES (?1, ?2, 'email', ?3, 'queued', ?4, ?4, ?4)",
            )?
            .execute(params![queue_id, contact, subject, now])?;
            let id = conn.last_insert_rowid();
            event(conn, id, "ev.created", None, now)?;
            if let Some((other, key)) = resembles {
                insert_message(conn, id, "system", None, "", &format!("{} #{other}", t(loc, key)), now)?;
            }
            (id, None, true)
        }
    };
    let name = if m.from_name.is_empty() { m.from.clone() } else { m.from_name.clone() };
    let body = body_of(m);
    let msg = insert_message(conn, conv, "in", None, &name, &body, now)?;
    conn.prepare_cached("INSERT INTO inbound_ids (channel, external_id, message_id) VALUES ('email', ?1, ?2)")?
        .execute(params![external_id(queue_id, &m.message_id), msg])?;
    let mut html = m.html.clone();
    let mut refused = Vec::new();
    let limits = attachments::limits(conn)?;
    for (i, f) in m.files.iter().enumerate() {
        match store_file(conn, conv, msg, f, i, limits.file, now)? {
            Ok(aid) => {
                if let Some(cid) = &f.content_id {
                    html = html.replace(&format!("cid:{cid}"), &format!("/anexos/{aid}"));
                }
            }
            Err(k) => refused.push((f.name.clone(), k)),
        }
    }
    conn.prepare_cached(
        "INSERT INTO email_messages (message_id, rfc_id, in_reply_to, refs, subject, from_addr, to_addrs, cc_addrs,
           html, remote_images, automated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        msg,
        m.message_id,
        m.in_reply_to.join(" "),
        m.references.join(" "),
        m.subject,
        m.from,
        m.to.join(", "),
        m.cc.join(", "),
        html,
        m.remote_images,
        m.automated
    ])?;
    for (name, key) in refused {
        let line = format!("{}: {name} ({})", t(loc, "mail.ev.file_not_stored"), t(loc, key));
        insert_message(conn, conv, "system", None, "", &line, now)?;
    }
    let mut add = conn.prepare_cached(
        "INSERT INTO email_participants (conversation_id, address, cc) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
    )?;
    if !m.from.is_empty() {
        add.execute(params![conv, m.from, false])?;
    }
    for a in m.cc.iter().chain(m.to.iter()).filter(|a| !own.contains(a)) {
        add.execute(params![conv, a, true])?;
    }
    changes.push(Change::message(queue_id, conv, agent));
    if new {
        changes.push(Change::queue(queue_id, conv));
        changes.extend(routing::route(conn, queue_id, now)?);
    }
    Ok((Stored::New { conversation: conv, message: msg }, changes))
}

/// The text an agent reads for an e-mail: its text, else its subject.
fn body_of(m: &Incoming) -> String {
    let mut body = m.text.trim().to_string();
    if body.is_empty() {
        body = if m.subject.is_empty() { "(sem texto)".to_string() } else { m.subject.clone() };
    }
    body.chars().take(MAX_MESSAGE).collect()
}

/// Stores one file of an e-mail within the limits; the refusal's catalog key
/// when it cannot be kept (type, size, room in the conversation).
fn store_file(
    conn: &Connection,
    conv: i64,
    msg: i64,
    f: &thread::IncomingFile,
    index: usize,
    limit: u64,
    now: i64,
) -> AppResult<Result<i64, &'static str>> {
    let name = if f.name.trim().is_empty() {
        let ext = attachments::ext_for_mime(&f.mime).unwrap_or("bin");
        format!("anexo-{}.{ext}", index + 1)
    } else {
        f.name.clone()
    };
    let upload = match attachments::check(&name, f.data.clone(), limit) {
        Ok(u) => u,
        Err(k) => return Ok(Err(k)),
    };
    match attachments::store(conn, conv, msg, &upload, now) {
        Ok(id) => Ok(Ok(id)),
        Err(crate::error::AppError::BadRequest(k)) => Ok(Err(k)),
        Err(e) => Err(e),
    }
}

/// A delivery failure report for one of our messages: that message is marked
/// failed with the reason and its conversation says so; the report itself
/// makes no conversation. None when the message it names is not ours (the
/// report is then stored like any e-mail, marked automatic).
fn bounced(
    conn: &Connection,
    loc: Locale,
    queue_id: i64,
    m: &Incoming,
    b: &thread::Bounce,
    now: i64,
) -> AppResult<Option<(Stored, Vec<Change>)>> {
    if b.original_id.is_empty() {
        return Ok(None);
    }
    let ours: Option<(i64, i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT g.id, g.conversation_id, c.agent_id FROM email_messages e JOIN messages g ON g.id = e.message_id
               JOIN conversations c ON c.id = g.conversation_id
             WHERE e.rfc_id = ?1 AND g.kind = 'out' AND c.queue_id = ?2",
        )?
        .query_row(params![b.original_id, queue_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((mid, conv, agent)) = ours else { return Ok(None) };
    let reason = if b.reason.is_empty() { t(loc, "mail.bounce_no_reason").to_string() } else { b.reason.clone() };
    conn.prepare_cached(
        "UPDATE outbox SET state = 'failed', error = ?2, updated_at = ?3 WHERE message_id = ?1 AND channel = 'email'",
    )?
    .execute(params![mid, reason, now])?;
    let line =
        insert_message(conn, conv, "system", None, "", &format!("{}: {reason}", t(loc, "mail.ev.bounced")), now)?;
    conn.prepare_cached("INSERT INTO inbound_ids (channel, external_id, message_id) VALUES ('email', ?1, ?2)")?
        .execute(params![external_id(queue_id, &m.message_id), line])?;
    Ok(Some((Stored::New { conversation: conv, message: line }, vec![Change::message(queue_id, conv, agent)])))
}

/// The sanitised HTML of a customer's e-mail in a conversation `user` may
/// see (NotFound otherwise, or when it has none).
pub fn email_html(conn: &Connection, user: &crate::domain::users::User, conv: i64, message: i64) -> AppResult<String> {
    visible(conn, user, conv)?;
    conn.prepare_cached(
        "SELECT e.html FROM email_messages e JOIN messages m ON m.id = e.message_id
         WHERE e.message_id = ?1 AND m.conversation_id = ?2 AND m.kind = 'in' AND e.html <> ''",
    )?
    .query_row(params![message, conv], |r| r.get(0))
    .optional()?
    .ok_or(crate::error::AppError::NotFound)
}
