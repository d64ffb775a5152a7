//! Conversations (atendimentos): lifecycle, messages and what each agent sees.
//!
//! queued (na fila) → offered (to one agent) → assigned (pendente) →
//! finished / archived; reopen. Every transition is one function here, runs in
//! one write job, leaves a system message on the timeline, and returns the
//! live changes that are published after commit.

use rusqlite::{Connection, OptionalExtension, params};

use crate::app::AppState;
use crate::domain::users::User;
use crate::error::{AppError, AppResult};
use crate::events::Change;

mod assignment;
mod channels;
mod customer;
mod email;
mod inbound;
mod lifecycle;
mod lists;
mod outbound;
mod presence;
mod tags;
mod transfer;
mod whatsapp;

pub use assignment::*;
pub use channels::*;
pub use customer::*;
pub use email::*;
pub use inbound::*;
pub use lifecycle::*;
pub use lists::*;
pub use outbound::*;
pub use presence::*;
pub use tags::*;
pub use transfer::*;
pub use whatsapp::*;

/// Longest message accepted from anyone.
pub const MAX_MESSAGE: usize = 4000;

/// A conversation row.
#[derive(Clone, Debug)]
pub struct Conversation {
    /// Id.
    pub id: i64,
    /// Queue.
    pub queue_id: i64,
    /// Queue name.
    pub queue_name: String,
    /// Team of the queue.
    pub team_id: i64,
    /// Channel code.
    pub channel: String,
    /// Status code.
    pub status: String,
    /// Assigned (or offered-to) agent.
    pub agent_id: Option<i64>,
    /// That agent's name.
    pub agent_name: Option<String>,
    /// Contact id.
    pub contact_id: i64,
    /// Contact display: name, else e-mail, else phone, else "Visitante #id".
    pub contact_name: String,
    /// Contact e-mail.
    pub contact_email: String,
    /// Contact phone.
    pub contact_phone: String,
    /// Subject (first message, shortened).
    pub subject: String,
    /// When it entered the queue (waiting time).
    pub queued_at: i64,
    /// Last message or transition.
    pub last_activity_at: i64,
    /// Offer deadline.
    pub offer_expires_at: Option<i64>,
    /// Whether a customer message arrived after the agent last read.
    pub unread: bool,
    /// Whether the contact has an open task (the bell).
    pub task_bell: bool,
    /// Created (unix).
    pub created_at: i64,
    /// Finished or archived (unix).
    pub closed_at: Option<i64>,
    /// Scheduled reopening (unix).
    pub reopen_at: Option<i64>,
    /// Closing script: resolved or not.
    pub resolved: Option<bool>,
    /// Closing script: the reason's name.
    pub closing_reason: Option<String>,
    /// The agent who started it from our side, if so.
    pub started_by: Option<i64>,
    /// The start of the last message either side wrote (kept at write time).
    pub last_preview: String,
    /// WhatsApp: when the 24-hour window closes (None: never opened).
    pub window_until: Option<i64>,
}

const CONV_SELECT: &str = "SELECT c.id, c.queue_id, q.name, q.team_id, c.channel, c.status, c.agent_id, u.name,
    c.contact_id, k.name, k.email, k.phone, c.subject, c.queued_at, c.last_activity_at, c.offer_expires_at,
    c.last_in_id > c.agent_read_id,
    EXISTS(SELECT 1 FROM tasks t WHERE t.contact_id = c.contact_id AND t.status <> 'done'
      AND (t.conversation_id = c.id OR t.team_id = q.team_id OR t.assignee_id = c.agent_id)), c.created_at, c.closed_at,
    c.reopen_at, c.resolved, (SELECT name FROM closing_reasons WHERE id = c.closing_reason_id), c.started_by,
    c.last_preview, c.window_until
    FROM conversations c JOIN queues q ON q.id = c.queue_id JOIN contacts k ON k.id = c.contact_id
    LEFT JOIN users u ON u.id = c.agent_id";

pub(super) fn conv_from_row(r: &rusqlite::Row) -> rusqlite::Result<Conversation> {
    let contact_id: i64 = r.get(8)?;
    let (name, email, phone): (String, String, String) = (r.get(9)?, r.get(10)?, r.get(11)?);
    let contact_name = crate::domain::contacts::label(contact_id, &name, &email, &phone);
    Ok(Conversation {
        id: r.get(0)?,
        queue_id: r.get(1)?,
        queue_name: r.get(2)?,
        team_id: r.get(3)?,
        channel: r.get(4)?,
        status: r.get(5)?,
        agent_id: r.get(6)?,
        agent_name: r.get(7)?,
        contact_id,
        contact_name,
        contact_email: email,
        contact_phone: phone,
        subject: r.get(12)?,
        queued_at: r.get(13)?,
        last_activity_at: r.get(14)?,
        offer_expires_at: r.get(15)?,
        unread: r.get(16)?,
        task_bell: r.get(17)?,
        created_at: r.get(18)?,
        closed_at: r.get(19)?,
        reopen_at: r.get(20)?,
        resolved: r.get(21)?,
        closing_reason: r.get(22)?,
        started_by: r.get(23)?,
        last_preview: r.get(24)?,
        window_until: r.get(25)?,
    })
}

/// Loads a conversation regardless of who asks (internal use).
pub fn load(conn: &Connection, id: i64) -> AppResult<Option<Conversation>> {
    let sql = format!("{CONV_SELECT} WHERE c.id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id], conv_from_row).optional()?)
}

/// Whether `user` may see `c`: administrators all; others the queues of their
/// teams and whatever is assigned or offered to them.
pub fn may_see(user: &User, c: &Conversation) -> bool {
    may_see_parts(user, c.agent_id, c.team_id)
}

/// [`may_see`] from a conversation's agent and its queue's team.
pub fn may_see_parts(user: &User, agent_id: Option<i64>, team_id: i64) -> bool {
    user.is_admin() || agent_id == Some(user.id) || user.team_ids.contains(&team_id)
}

/// When an agent first took the conversation (accepted or claimed) and when
/// the first agent reply went out, if they did.
pub fn timing(conn: &Connection, id: i64) -> AppResult<(Option<i64>, Option<i64>)> {
    let taken: Option<i64> = conn
        .prepare_cached(
            "SELECT min(created_at) FROM messages WHERE conversation_id = ?1 AND kind = 'system'
               AND body IN ('ev.accepted', 'ev.claimed')",
        )?
        .query_row([id], |r| r.get(0))?;
    let replied: Option<i64> = conn
        .prepare_cached(
            "SELECT created_at FROM messages WHERE conversation_id = ?1 AND kind = 'out' ORDER BY id LIMIT 1",
        )?
        .query_row([id], |r| r.get(0))
        .optional()?;
    Ok((taken, replied))
}

/// Loads a conversation for `user`; one they may not see does not exist.
pub fn visible(conn: &Connection, user: &User, id: i64) -> AppResult<Conversation> {
    match load(conn, id)? {
        Some(c) if may_see(user, &c) => Ok(c),
        _ => Err(AppError::NotFound),
    }
}

/// A message or timeline event.
#[derive(Clone, Debug)]
pub struct Message {
    /// Id (arrival order).
    pub id: i64,
    /// Its conversation.
    pub conversation_id: i64,
    /// `in` (customer), `out` (agent), `note` (internal note, agents only),
    /// `system` (timeline; body is a catalog key).
    pub kind: String,
    /// Sender's name (agent, customer, or the actor of a system event).
    pub author_name: String,
    /// Text.
    pub body: String,
    /// Unix time.
    pub created_at: i64,
    /// Files sent with it.
    pub attachments: Vec<crate::domain::attachments::Attachment>,
    /// How far an agent's message went through its channel (WhatsApp).
    pub delivery: Option<crate::domain::outbox::Delivery>,
    /// A customer's e-mail with an HTML body: whether that body loads images
    /// from the web (shown in a frame of its own, images blocked until asked).
    pub email_html: Option<bool>,
    /// Whether it is a customer's e-mail (its quoted history is folded away).
    pub email: bool,
}

/// Messages of a conversation after `after`, in arrival order (at most
/// `limit`). `for_agents`: everything, with internal notes and timeline
/// events; otherwise only what the customer sees (their messages and ours).
///
/// For agents a customer message carries the contact's *current* name, read
/// now, not the one stored when it arrived: a rename (or a name learnt after
/// "Visitante #N") shows at once on every old message. The customer side
/// keeps what the customer typed: an agent's label for a contact is not for
/// the customer to read.
pub fn messages_limit(
    conn: &Connection,
    conversation_id: i64,
    after: i64,
    for_agents: bool,
    limit: i64,
) -> AppResult<Vec<Message>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.kind, m.author_name, m.body, m.created_at, o.state, o.error,
           CASE WHEN e.html <> '' THEN e.remote_images END, e.message_id IS NOT NULL FROM messages m
         LEFT JOIN outbox o ON o.message_id = m.id
         LEFT JOIN email_messages e ON e.message_id = m.id AND m.kind = 'in'
         WHERE m.conversation_id = ?1 AND m.id > ?2 AND (?3 OR m.kind IN ('in', 'out')) ORDER BY m.id LIMIT ?4",
    )?;
    let mut v: Vec<Message> = stmt
        .query_map(params![conversation_id, after, for_agents, limit], |r| {
            Ok(Message {
                id: r.get(0)?,
                conversation_id,
                kind: r.get(1)?,
                author_name: r.get(2)?,
                body: r.get(3)?,
                created_at: r.get(4)?,
                attachments: Vec::new(),
                delivery: match r.get::<_, Option<String>>(5)? {
                    Some(state) => Some(crate::domain::outbox::Delivery { state, error: r.get(6)? }),
                    None => None,
                },
                email_html: r.get(7)?,
                email: r.get(8)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    if for_agents && v.iter().any(|m| m.kind == "in") {
        let name = customer_name(conn, conversation_id)?;
        for m in v.iter_mut().filter(|m| m.kind == "in") {
            m.author_name.clone_from(&name);
        }
    }
    if let (Some(first), Some(last)) = (v.first().map(|m| m.id), v.last().map(|m| m.id)) {
        let mut files =
            crate::domain::attachments::in_range(conn, conversation_id, first, last)?.into_iter().peekable();
        for m in &mut v {
            while let Some(f) = files.next_if(|f| f.message_id <= m.id) {
                if f.message_id == m.id {
                    m.attachments.push(f);
                }
            }
        }
    }
    Ok(v)
}

/// What agents call the customer of a conversation now: the contact's label
/// (name, else e-mail, else phone, else "Visitante #id").
pub fn customer_name(conn: &Connection, conversation_id: i64) -> AppResult<String> {
    let row: Option<(i64, String, String, String)> = conn
        .prepare_cached(
            "SELECT k.id, k.name, k.email, k.phone FROM conversations c JOIN contacts k ON k.id = c.contact_id
             WHERE c.id = ?1",
        )?
        .query_row([conversation_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    Ok(row.map(|(id, n, e, p)| crate::domain::contacts::label(id, &n, &e, &p)).unwrap_or_default())
}

/// [`messages_limit`] with at most 500 messages.
pub fn messages(conn: &Connection, conversation_id: i64, after: i64, for_agents: bool) -> AppResult<Vec<Message>> {
    messages_limit(conn, conversation_id, after, for_agents, 500)
}

/// Stores a message and touches the conversation's activity time.
pub(crate) fn insert_message(
    conn: &Connection,
    conv: i64,
    kind: &str,
    author: Option<i64>,
    name: &str,
    body: &str,
    now: i64,
) -> AppResult<i64> {
    conn.prepare_cached(
        "INSERT INTO messages (conversation_id, kind, author_id, author_name, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![conv, kind, author, name, body, now])?;
    let id = conn.last_insert_rowid();
    crate::domain::metrics::on_message(conn, conv, kind, body, author, now)?;
    // A conversation created this second already says so: no second write
    // of its row (and its indexes) for each event and message.
    conn.prepare_cached("UPDATE conversations SET last_activity_at = ?1 WHERE id = ?2 AND last_activity_at < ?1")?
        .execute(params![now, conv])?;
    Ok(id)
}

/// Records a timeline event (catalog key `ev.<kind>`) by `actor`.
pub(super) fn event(conn: &Connection, conv: i64, key: &str, actor: Option<&User>, now: i64) -> AppResult<()> {
    insert_message(conn, conv, "system", actor.map(|u| u.id), actor.map(|u| u.name.as_str()).unwrap_or(""), key, now)?;
    Ok(())
}

/// Checks and trims a message text.
pub fn check_text(text: &str) -> AppResult<String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(AppError::BadRequest("conv.empty_message"));
    }
    if t.chars().count() > MAX_MESSAGE {
        return Err(AppError::BadRequest("conv.message_too_long"));
    }
    Ok(t.to_string())
}

pub(super) async fn apply<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Connection, i64) -> AppResult<(T, Vec<Change>)> + Send + 'static,
) -> AppResult<T> {
    let now = state.now();
    let (v, changes) = state.db.write(move |c| f(c, now)).await?;
    state.bus.publish(changes);
    Ok(v)
}
