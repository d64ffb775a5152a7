//! What the web chat widget needs to know about a queue, and the widget's
//! rules: the pre-chat gate, the refused sites a queue remembers, "typing…".

use rusqlite::{Connection, OptionalExtension, params};

use super::conversations::{self as conv, VisitorMessage};
use super::settings::Settings;
use super::users::User;
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::events::Change;

/// Refused sites remembered per queue (the newest; older ones are dropped).
pub const REFUSED_KEPT: usize = 20;
/// A refused site already noted this recently is not written again.
pub const REFUSED_QUIET_SECS: i64 = 60;
/// Longest origin stored (longer ones are cut).
const ORIGIN_MAX: usize = 200;

/// Bus event kind: the visitor is typing (to the agents who may see the conversation).
pub const VISITOR_TYPING: &str = "visitor_typing";
/// Bus event kind: the agent is typing (to the visitor's stream).
pub const AGENT_TYPING: &str = "agent_typing";

/// A queue as the widget sees it.
#[derive(Clone, Debug)]
pub struct WidgetQueue {
    /// Id.
    pub id: i64,
    /// Queue name (internal).
    pub name: String,
    /// Sites allowed to embed the chat (empty: any).
    pub allowed_origins: Vec<String>,
    /// Text shown when nobody can answer now ("" = default text).
    pub offline_text: String,
    /// Pre-chat form: ask name / e-mail / phone.
    pub ask: (bool, bool, bool),
    /// Text shown when the conversation ends ("" = default text).
    pub end_text: String,
    /// Title of the widget ("" = the business name).
    pub title: String,
    /// Greeting line under the title ("" = none).
    pub greeting: String,
    /// Colour `#rrggbb` ("" = the standard blue).
    pub color: String,
}

impl WidgetQueue {
    /// Whether a browser page from `origin` may use this queue's chat.
    pub fn allows(&self, origin: &str) -> bool {
        self.allowed_origins.is_empty()
            || self.allowed_origins.iter().any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
    }

    /// The widget's title: the queue's own, else the business name.
    pub fn title_or<'a>(&'a self, business: &'a str) -> &'a str {
        if self.title.is_empty() { business } else { &self.title }
    }
}

/// Whether `s` is a colour written `#rrggbb`.
pub fn valid_color(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Loads an active web chat queue.
pub fn queue(conn: &Connection, id: i64) -> AppResult<Option<WidgetQueue>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, name, allowed_origins, offline_text, ask_name, ask_email, ask_phone, end_text,
                    widget_title, widget_greeting, widget_color FROM queues
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
                title: r.get(8)?,
                greeting: r.get(9)?,
                color: r.get(10)?,
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

// ---- the pre-chat gate ----

/// What the visitor told us before (their contact) and whether a
/// conversation of theirs is open in the queue.
#[derive(Clone, Debug, Default)]
pub struct Known {
    /// Contact name.
    pub name: String,
    /// Contact e-mail.
    pub email: String,
    /// Contact phone.
    pub phone: String,
    /// An open (queued, offered, assigned) conversation exists in the queue.
    pub open: bool,
}

/// What is known of the visitor behind `token_hash` (default: a new visitor).
pub fn known(conn: &Connection, queue_id: i64, token_hash: &[u8]) -> AppResult<Known> {
    Ok(conn
        .prepare_cached(
            "SELECT k.name, k.email, k.phone, EXISTS(SELECT 1 FROM conversations c WHERE c.visitor_hash = ?1
               AND c.queue_id = ?2 AND c.status IN ('queued', 'offered', 'assigned'))
             FROM visitors v JOIN contacts k ON k.id = v.contact_id WHERE v.token_hash = ?1",
        )?
        .query_row(params![token_hash, queue_id], |r| {
            Ok(Known { name: r.get(0)?, email: r.get(1)?, phone: r.get(2)?, open: r.get(3)? })
        })
        .optional()?
        .unwrap_or_default())
}

/// Why a visitor's message may not start a conversation: the message key
/// and the pre-chat fields still to fill (`name`, `email`, `phone`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gate {
    /// Catalog key of the message for the visitor.
    pub key: &'static str,
    /// Fields to fill.
    pub fields: Vec<&'static str>,
}

fn plausible_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((user, host)) => {
            !user.is_empty() && host.contains('.') && !host.starts_with('.') && !host.ends_with('.') && !s.contains(' ')
        }
        None => false,
    }
}

/// The pre-chat rule: a message that would start a conversation needs every
/// field the queue asks for, given now or known from before; an e-mail, when
/// given, must look like one. A message in an open conversation passes.
pub fn gate(q: &WidgetQueue, known: &Known, m: &VisitorMessage) -> Result<(), Gate> {
    let email = m.email.trim();
    if !email.is_empty() && !plausible_email(email) {
        return Err(Gate { key: "widget.bad_email", fields: vec!["email"] });
    }
    if known.open {
        return Ok(());
    }
    let have = |now: &str, before: &str| !now.trim().is_empty() || !before.trim().is_empty();
    let mut fields = Vec::new();
    if q.ask.0 && !have(&m.name, &known.name) {
        fields.push("name");
    }
    if q.ask.1 && !have(&m.email, &known.email) {
        fields.push("email");
    }
    if q.ask.2 && !have(&m.phone, &known.phone) {
        fields.push("phone");
    }
    if fields.is_empty() { Ok(()) } else { Err(Gate { key: "widget.prechat_required", fields }) }
}

// ---- refused sites ----

/// A site refused by a queue's allowed list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// The Origin the browser sent.
    pub origin: String,
    /// Last refusal (unix).
    pub last_at: i64,
    /// Refusals counted (refusals within [`REFUSED_QUIET_SECS`] of the last noted one are not counted).
    pub hits: i64,
}

/// Notes that `origin` was refused by `queue_id`: one row per site,
/// upserted, the newest [`REFUSED_KEPT`] kept. A site noted in the last
/// minute is not written again, so a flood of refused requests costs reads.
pub async fn note_refused(state: &AppState, queue_id: i64, origin: &str) -> AppResult<()> {
    let origin: String = origin.chars().filter(|c| !c.is_control()).take(ORIGIN_MAX).collect();
    let now = state.now();
    let o = origin.clone();
    let recent: Option<i64> = state
        .db
        .read(move |c| {
            Ok(c.prepare_cached("SELECT last_at FROM widget_refused_origins WHERE queue_id = ?1 AND origin = ?2")?
                .query_row(params![queue_id, o], |r| r.get(0))
                .optional()?)
        })
        .await?;
    if recent.is_some_and(|at| now - at < REFUSED_QUIET_SECS) {
        return Ok(());
    }
    state
        .db
        .write(move |c| {
            c.prepare_cached(
                "INSERT INTO widget_refused_origins (queue_id, origin, last_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (queue_id, origin) DO UPDATE SET last_at = excluded.last_at, hits = hits + 1",
            )?
            .execute(params![queue_id, origin, now])?;
            c.prepare_cached(
                "DELETE FROM widget_refused_origins WHERE queue_id = ?1 AND origin NOT IN
                 (SELECT origin FROM widget_refused_origins WHERE queue_id = ?1 ORDER BY last_at DESC, origin LIMIT ?2)",
            )?
            .execute(params![queue_id, REFUSED_KEPT as i64])?;
            Ok(())
        })
        .await
}

/// The sites a queue refused, newest first.
pub fn refused(conn: &Connection, queue_id: i64) -> AppResult<Vec<Refused>> {
    let mut stmt = conn.prepare_cached(
        "SELECT origin, last_at, hits FROM widget_refused_origins WHERE queue_id = ?1
         ORDER BY last_at DESC, origin LIMIT ?2",
    )?;
    let v = stmt
        .query_map(params![queue_id, REFUSED_KEPT as i64], |r| {
            Ok(Refused { origin: r.get(0)?, last_at: r.get(1)?, hits: r.get(2)? })
        })?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

// ---- typing ("digitando…"): events only, never stored ----

/// The visitor is typing: tells the agents who may see their open
/// conversation in the queue. `false` when there is none (nothing sent).
pub async fn visitor_typing(state: &AppState, queue_id: i64, token_hash: Vec<u8>) -> AppResult<bool> {
    let open: Option<(i64, Option<i64>)> = state
        .db
        .read(move |c| {
            Ok(c.prepare_cached(
                "SELECT c.id, c.agent_id FROM conversations c
                 WHERE c.visitor_hash = ?1 AND c.queue_id = ?2 AND c.status IN ('queued', 'offered', 'assigned')
                 ORDER BY c.id DESC LIMIT 1",
            )?
            .query_row(params![token_hash, queue_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
        })
        .await?;
    let Some((cid, agent)) = open else { return Ok(false) };
    state.bus.publish(vec![Change {
        kind: VISITOR_TYPING,
        queue_id: Some(queue_id),
        conversation_id: Some(cid),
        agent_id: agent,
    }]);
    Ok(true)
}

/// The agent is typing a reply: authorized like a reply (the conversation
/// is visible to them, else 404; assigned to them, else a conflict), then
/// tells the visitor's stream.
pub async fn agent_typing(state: &AppState, user: &User, id: i64) -> AppResult<()> {
    let u = user.clone();
    let c = state.db.read(move |c| conv::visible(c, &u, id)).await?;
    if c.status != "assigned" || c.agent_id != Some(user.id) {
        return Err(AppError::Conflict("conv.not_yours"));
    }
    state.bus.publish(vec![Change {
        kind: AGENT_TYPING,
        queue_id: Some(c.queue_id),
        conversation_id: Some(id),
        agent_id: Some(user.id),
    }]);
    Ok(())
}
