//! The customer side: what a visitor sends and sees.

use rusqlite::{Connection, OptionalExtension, params};

use super::*;
use crate::app::AppState;
use crate::domain::routing;
use crate::error::{AppError, AppResult};
use crate::events::Change;

/// What a web chat visitor sends.
#[derive(Clone, Debug, Default)]
pub struct VisitorMessage {
    /// Name from the pre-chat form.
    pub name: String,
    /// E-mail from the pre-chat form.
    pub email: String,
    /// Phone from the pre-chat form.
    pub phone: String,
    /// Page the visitor is on.
    pub page_url: String,
    /// The message.
    pub text: String,
}

/// The unmerged contact that already has this phone (E.164 or as typed) or
/// e-mail, the oldest first.
fn contact_with(conn: &Connection, phone: &str, phone_rev: &str, email: &str) -> AppResult<Option<i64>> {
    if phone.is_empty() && email.is_empty() {
        return Ok(None);
    }
    Ok(conn
        .prepare_cached(
            "SELECT id FROM contacts WHERE merged_into IS NULL
               AND ((?1 <> '' AND phone_rev = ?2 AND phone = ?1) OR (?3 <> '' AND email = ?3)) ORDER BY id LIMIT 1",
        )?
        .query_row(params![phone, phone_rev, email], |r| r.get(0))
        .optional()?)
}

/// Fills the blanks of a known contact from a visitor's pre-chat form; what
/// the contact already has (a name an agent typed, say) is never replaced
/// by what an anonymous visitor types, and no phone or e-mail another
/// contact has is copied.
fn fill_blanks(
    conn: &Connection,
    id: i64,
    name: &str,
    phone: &str,
    phone_rev: &str,
    email: &str,
    now: i64,
) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE contacts SET
           name = CASE WHEN name = '' THEN ?2 ELSE name END,
           email = CASE WHEN email = '' AND ?5 <> ''
                   AND NOT EXISTS (SELECT 1 FROM contacts o WHERE o.email = ?5 AND o.merged_into IS NULL) THEN ?5 ELSE email END,
           phone_rev = CASE WHEN phone = '' AND ?3 <> ''
                   AND NOT EXISTS (SELECT 1 FROM contacts o WHERE o.phone_rev = ?4 AND o.phone = ?3 AND o.merged_into IS NULL)
                   THEN ?4 ELSE phone_rev END,
           phone = CASE WHEN phone = '' AND ?3 <> ''
                   AND NOT EXISTS (SELECT 1 FROM contacts o WHERE o.phone_rev = ?4 AND o.phone = ?3 AND o.merged_into IS NULL)
                   THEN ?3 ELSE phone END,
           updated_at = ?6
         WHERE id = ?1",
    )?
    .execute(params![id, name, phone, phone_rev, email, now])?;
    Ok(())
}

/// The visitor `token_hash`, whose contact was `own`, turns out to be the
/// known contact `known`: the visitor and their own conversations move to
/// it, and `own` — if it was only this visitor's anonymous shell, with nothing
/// anyone else wrote on it — becomes a pointer to `known`.
fn join_contact(conn: &Connection, token_hash: &[u8], own: i64, known: i64, now: i64) -> AppResult<()> {
    conn.prepare_cached("UPDATE visitors SET contact_id = ?1 WHERE token_hash = ?2")?
        .execute(params![known, token_hash])?;
    conn.prepare_cached("UPDATE conversations SET contact_id = ?1 WHERE visitor_hash = ?2 AND contact_id = ?3")?
        .execute(params![known, token_hash, own])?;
    conn.prepare_cached(
        "UPDATE contacts SET merged_into = ?1, phone_rev = '', updated_at = ?2 WHERE id = ?3 AND created_by IS NULL
           AND NOT EXISTS (SELECT 1 FROM conversations WHERE contact_id = ?3)
           AND NOT EXISTS (SELECT 1 FROM visitors WHERE contact_id = ?3)
           AND NOT EXISTS (SELECT 1 FROM tasks WHERE contact_id = ?3)
           AND NOT EXISTS (SELECT 1 FROM contact_events WHERE contact_id = ?3)",
    )?
    .execute(params![known, now, own])?;
    Ok(())
}

/// Stores a visitor's message: finds or creates the contact behind the
/// visitor token and the visitor's open conversation in this queue (two
/// concurrent first messages still make one conversation: the writer
/// serialises them), and offers a new conversation to an agent. Returns
/// (conversation, message).
///
/// One customer, one history: a visitor whose pre-chat phone or e-mail a
/// contact already has is attached to that contact, so its page lists all
/// their conversations. Pre-chat fields are not proof of identity, so the
/// widget still shows a visitor only the conversations of their own browser
/// (`conversations.visitor_hash`), never the contact's others.
pub async fn visitor_message(
    state: &AppState,
    queue_id: i64,
    token_hash: Vec<u8>,
    m: VisitorMessage,
) -> AppResult<(i64, i64)> {
    let text = check_text(&m.text)?;
    // Phones are stored in E.164 when they are valid numbers (as typed otherwise).
    let phone = crate::phone::normalize(&m.phone).unwrap_or_else(|| m.phone.clone());
    let phone_rev = crate::phone::rev_key(&phone);
    let email = m.email.to_lowercase();
    apply(state, move |conn, now| {
        let channel: String = conn
            .prepare_cached("SELECT channel FROM queues WHERE id = ?1 AND active = 1")?
            .query_row([queue_id], |r| r.get(0))
            .optional()?
            .ok_or(AppError::NotFound)?;
        let own: Option<i64> = conn
            .prepare_cached("SELECT contact_id FROM visitors WHERE token_hash = ?1")?
            .query_row([&token_hash], |r| r.get(0))
            .optional()?;
        let known = contact_with(conn, &phone, &phone_rev, &email)?;
        let contact = match (own, known) {
            (Some(c), Some(k)) if k != c => {
                join_contact(conn, &token_hash, c, k, now)?;
                fill_blanks(conn, k, &m.name, &phone, &phone_rev, &email, now)?;
                k
            }
            (Some(c), _) => {
                if !m.name.is_empty() || !m.email.is_empty() || !m.phone.is_empty() {
                    conn.prepare_cached(
                        "UPDATE contacts SET name = CASE WHEN ?1 <> '' THEN ?1 ELSE name END,
                         email = CASE WHEN ?2 <> '' THEN ?2 ELSE email END, phone = CASE WHEN ?3 <> '' THEN ?3 ELSE phone END,
                         phone_rev = CASE WHEN ?3 <> '' THEN ?5 ELSE phone_rev END, updated_at = ?6
                         WHERE id = ?4",
                    )?
                    .execute(params![m.name, email, phone, c, phone_rev, now])?;
                }
                c
            }
            (None, Some(k)) => {
                fill_blanks(conn, k, &m.name, &phone, &phone_rev, &email, now)?;
                conn.prepare_cached("INSERT INTO visitors (token_hash, contact_id, created_at) VALUES (?1, ?2, ?3)")?
                    .execute(params![token_hash, k, now])?;
                k
            }
            (None, None) => {
                conn.prepare_cached(
                    "INSERT INTO contacts (name, email, phone, phone_rev, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                )?
                .execute(params![m.name, email, phone, phone_rev, now])?;
                let c = conn.last_insert_rowid();
                conn.prepare_cached("INSERT INTO visitors (token_hash, contact_id, created_at) VALUES (?1, ?2, ?3)")?
                    .execute(params![token_hash, c, now])?;
                c
            }
        };
        let open: Option<(i64, Option<i64>)> = conn
            .prepare_cached(
                "SELECT id, agent_id FROM conversations WHERE visitor_hash = ?1 AND queue_id = ?2
                 AND status IN ('queued', 'offered', 'assigned') ORDER BY id DESC LIMIT 1",
            )?
            .query_row(params![token_hash, queue_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        // What the customer's own side shows as the sender; agents read the
        // contact's current name instead (see `messages_limit`).
        let name = if m.name.is_empty() { format!("Visitante #{contact}") } else { m.name.clone() };
        let mut changes = Vec::new();
        let (conv, agent) = match open {
            Some(o) => o,
            None => {
                let subject: String = text.chars().take(80).collect();
                conn.prepare_cached(
                    "INSERT INTO conversations (queue_id, contact_id, channel, subject, status, queued_at, created_at,
                       last_activity_at, page_url, visitor_hash)
                     VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?5, ?5, ?6, ?7)",
                )?
                .execute(params![queue_id, contact, channel, subject, now, m.page_url, token_hash])?;
                let id = conn.last_insert_rowid();
                event(conn, id, "ev.created", None, now)?;
                (id, None)
            }
        };
        let msg = insert_message(conn, conv, "in", None, &name, &text, now)?;
        changes.push(Change::message(queue_id, conv, agent));
        if open.is_none() {
            changes.push(Change::queue(queue_id, conv));
            changes.extend(routing::route(conn, queue_id, now)?);
        }
        Ok(((conv, msg), changes))
    })
    .await
}

/// The visitor's open (or latest) conversation in a queue — one their own
/// browser took part in — and its messages after `after`, without internal
/// events.
pub fn visitor_view(
    conn: &Connection,
    queue_id: i64,
    token_hash: &[u8],
    after: i64,
) -> AppResult<Option<(i64, String, Vec<Message>)>> {
    let row: Option<(i64, String)> = conn
        .prepare_cached(
            "SELECT c.id, c.status FROM conversations c WHERE c.visitor_hash = ?1 AND c.queue_id = ?2
             ORDER BY c.id DESC LIMIT 1",
        )?
        .query_row(params![token_hash, queue_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        Some((id, status)) => Ok(Some((id, status, messages(conn, id, after, false)?))),
        None => Ok(None),
    }
}
