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

/// Stores a visitor's message: finds or creates the contact behind the
/// visitor token and the open conversation in this queue (two concurrent
/// first messages still make one conversation: the writer serialises them),
/// and offers a new conversation to an agent. Returns (conversation, message).
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
        let contact: Option<i64> = conn
            .prepare_cached("SELECT contact_id FROM visitors WHERE token_hash = ?1")?
            .query_row([&token_hash], |r| r.get(0))
            .optional()?;
        let contact = match contact {
            Some(c) => {
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
            None => {
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
                "SELECT id, agent_id FROM conversations WHERE contact_id = ?1 AND queue_id = ?2
                 AND status IN ('queued', 'offered', 'assigned') ORDER BY id DESC LIMIT 1",
            )?
            .query_row([contact, queue_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let name = if m.name.is_empty() { format!("Visitante #{contact}") } else { m.name.clone() };
        let mut changes = Vec::new();
        let (conv, agent) = match open {
            Some(o) => o,
            None => {
                let subject: String = text.chars().take(80).collect();
                conn.prepare_cached(
                    "INSERT INTO conversations (queue_id, contact_id, channel, subject, status, queued_at, created_at, last_activity_at, page_url)
                     VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?5, ?5, ?6)",
                )?
                .execute(params![queue_id, contact, channel, subject, now, m.page_url])?;
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

/// The visitor's open (or latest) conversation in a queue and its messages
/// after `after`, without internal events.
pub fn visitor_view(
    conn: &Connection,
    queue_id: i64,
    token_hash: &[u8],
    after: i64,
) -> AppResult<Option<(i64, String, Vec<Message>)>> {
    let row: Option<(i64, String)> = conn
        .prepare_cached(
            "SELECT c.id, c.status FROM conversations c JOIN visitors v ON v.contact_id = c.contact_id
             WHERE v.token_hash = ?1 AND c.queue_id = ?2 ORDER BY c.id DESC LIMIT 1",
        )?
        .query_row(params![token_hash, queue_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        Some((id, status)) => Ok(Some((id, status, messages(conn, id, after, false)?))),
        None => Ok(None),
    }
}
