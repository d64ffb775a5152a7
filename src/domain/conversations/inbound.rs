//! Customers' messages from the channels other than web chat (WhatsApp
//! today): the same steps as a visitor's — find the contact, open or continue
//! their conversation in the queue, route a new one — inside the channel's
//! own transaction, so a webhook batch is acknowledged only once committed.

use rusqlite::{Connection, OptionalExtension, params};

use super::*;
use crate::domain::{routing, whatsapp};
use crate::error::AppResult;
use crate::events::Change;

/// A customer's message as a channel received it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inbound {
    /// Who wrote: the WhatsApp id exactly as received.
    pub from: String,
    /// Their profile name ('' when none).
    pub profile_name: String,
    /// Their phone in E.164, worked out before the transaction ('' to work
    /// it out inside, should they be a new contact).
    pub phone: String,
    /// The channel's id of the message (wamid): a redelivery is ignored.
    pub external_id: String,
    /// The text shown to agents (a caption, a placeholder for a type).
    pub body: String,
    /// When the customer sent it (unix seconds; the window counts from here).
    pub sent_at: i64,
}

/// What storing an inbound message did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    /// A new message in this conversation.
    New {
        /// Conversation.
        conversation: i64,
        /// Message.
        message: i64,
    },
    /// Already received (same external id): nothing changed.
    Duplicate,
}

/// Stores one WhatsApp message of the customer in queue `queue_id` (part of
/// the caller's transaction) and returns the live changes to publish after
/// the commit. The window is refreshed from the customer's send time (never
/// beyond now), only by the customer.
pub fn whatsapp_message(conn: &Connection, queue_id: i64, m: &Inbound, now: i64) -> AppResult<(Stored, Vec<Change>)> {
    let seen: Option<i64> = conn
        .prepare_cached("SELECT message_id FROM inbound_ids WHERE channel = 'whatsapp' AND external_id = ?1")?
        .query_row([&m.external_id], |r| r.get(0))
        .optional()?;
    if seen.is_some() {
        return Ok((Stored::Duplicate, vec![]));
    }
    let contact = whatsapp::contact_for(conn, &m.from, &m.phone, &m.profile_name, now)?;
    let open: Option<(i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT id, agent_id FROM conversations WHERE contact_id = ?1 AND queue_id = ?2
               AND status IN ('queued', 'offered', 'assigned') ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![contact, queue_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let mut changes = Vec::new();
    let until = m.sent_at.min(now) + whatsapp::WINDOW_SECS;
    let (conv, agent) = match open {
        Some(o) => o,
        None => {
            let subject: String = m.body.chars().take(80).collect();
            conn.prepare_cached(
                "INSERT INTO conversations (queue_id, contact_id, channel, subject, status, queued_at, created_at,
                   last_activity_at, wa_id, window_until)
                 VALUES (?1, ?2, 'whatsapp', ?3, 'queued', ?4, ?4, ?4, ?5, ?6)",
            )?
            .execute(params![queue_id, contact, subject, now, m.from, until])?;
            let id = conn.last_insert_rowid();
            event(conn, id, "ev.created", None, now)?;
            (id, None)
        }
    };
    let name = if m.profile_name.is_empty() { format!("+{}", m.from) } else { m.profile_name.clone() };
    let body: String = m.body.chars().take(MAX_MESSAGE).collect();
    let msg = insert_message(conn, conv, "in", None, &name, &body, now)?;
    conn.prepare_cached("INSERT INTO inbound_ids (channel, external_id, message_id) VALUES ('whatsapp', ?1, ?2)")?
        .execute(params![m.external_id, msg])?;
    // Only when it changes: the row and its window index are written once,
    // not again for each message of the same second.
    conn.prepare_cached(
        "UPDATE conversations SET wa_id = ?2, window_until = max(coalesce(window_until, 0), ?3)
         WHERE id = ?1 AND (wa_id IS NOT ?2 OR window_until IS NULL OR window_until < ?3)",
    )?
    .execute(params![conv, m.from, until])?;
    if m.body.chars().count() <= 60 {
        let words = whatsapp::optin::words(conn, queue_id)?;
        if let Some(w) = whatsapp::optin::opt_out_word(&words, &m.body)
            && whatsapp::optin::record(conn, contact, false, None, &w, now)?
        {
            event(conn, conv, "ev.wa_opted_out", None, now)?;
        }
    }
    changes.push(Change::message(queue_id, conv, agent));
    if open.is_none() {
        changes.push(Change::queue(queue_id, conv));
        changes.extend(routing::route(conn, queue_id, now)?);
    }
    Ok((Stored::New { conversation: conv, message: msg }, changes))
}

/// Rewrites what a just-stored inbound message says (its file could not be
/// kept, say), in the same transaction.
pub fn rewrite_inbound(conn: &Connection, message_id: i64, body: &str) -> AppResult<()> {
    conn.prepare_cached("UPDATE messages SET body = ?2 WHERE id = ?1 AND kind = 'in'")?
        .execute(params![message_id, body])?;
    Ok(())
}
