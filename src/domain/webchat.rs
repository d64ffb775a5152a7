//! What the web chat widget needs to know about a queue.

use rusqlite::{Connection, OptionalExtension};

use super::settings::Settings;
use crate::error::AppResult;

/// A queue as the widget sees it.
#[derive(Clone, Debug)]
pub struct WidgetQueue {
    /// Id.
    pub id: i64,
    /// Name shown in the widget header.
    pub name: String,
    /// Sites allowed to embed the chat (empty: any).
    pub allowed_origins: Vec<String>,
    /// Text shown when nobody can answer now ("" = default text).
    pub offline_text: String,
    /// Pre-chat form: ask name / e-mail / phone.
    pub ask: (bool, bool, bool),
    /// Text shown when the conversation ends ("" = default text).
    pub end_text: String,
}

impl WidgetQueue {
    /// Whether a browser page from `origin` may use this queue's chat.
    pub fn allows(&self, origin: &str) -> bool {
        self.allowed_origins.is_empty()
            || self.allowed_origins.iter().any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
    }
}

/// Loads an active web chat queue.
pub fn queue(conn: &Connection, id: i64) -> AppResult<Option<WidgetQueue>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, name, allowed_origins, offline_text, ask_name, ask_email, ask_phone, end_text FROM queues
             WHERE id = ?1 AND active = 1 AND channel = 'webchat'",
        )?
        .query_row([id], |r| {
            let origins: String = r.get(2)?;
            Ok(WidgetQueue {
                id: r.get(0)?,
                name: r.get(1)?,
                allowed_origins: origins.lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect(),
                offline_text: r.get(3)?,
                ask: (r.get::<_, i64>(4)? == 1, r.get::<_, i64>(5)? == 1, r.get::<_, i64>(6)? == 1),
                end_text: r.get(7)?,
            })
        })
        .optional()?)
}

/// Whether the business is open at `now` by its configured hours.
pub fn within_hours(s: &Settings, now: i64) -> bool {
    let Ok(ts) = jiff::Timestamp::from_second(now) else { return false };
    let local = ts.to_zoned(s.tz());
    let day = local.weekday().to_monday_zero_offset() as usize;
    let Some(h) = s.hours.get(day) else { return false };
    let hm = format!("{:02}:{:02}", local.hour(), local.minute());
    h.open && h.opens.as_str() <= hm.as_str() && hm.as_str() < h.closes.as_str()
}

/// Whether someone can answer now: within business hours and at least one
/// agent Pronto and connected to the queue.
pub fn online(conn: &Connection, queue_id: i64, s: &Settings, now: i64) -> AppResult<bool> {
    if !within_hours(s, now) {
        return Ok(false);
    }
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM queue_connections qc JOIN agent_presence p ON p.user_id = qc.user_id
             JOIN users u ON u.id = qc.user_id WHERE qc.queue_id = ?1 AND p.status = 'ready' AND u.active = 1)",
        )?
        .query_row([queue_id], |r| r.get(0))?)
}

/// Conversation ids of the visitor behind `token_hash` in a queue.
pub fn visitor_conversations(conn: &Connection, queue_id: i64, token_hash: &[u8]) -> AppResult<Vec<i64>> {
    let mut stmt =
        conn.prepare_cached("SELECT c.id FROM conversations c WHERE c.visitor_hash = ?1 AND c.queue_id = ?2")?;
    let v = stmt.query_map(rusqlite::params![token_hash, queue_id], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(v)
}
