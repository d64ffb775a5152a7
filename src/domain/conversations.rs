//! Conversations (atendimentos): lifecycle, messages and what each agent sees.
//!
//! queued (na fila) → offered (to one agent) → assigned (pendente) →
//! finished / archived; reopen. Every transition is one function here, runs in
//! one write job, leaves a system message on the timeline, and returns the
//! live changes that are published after commit.

use rusqlite::{Connection, OptionalExtension, params};

use super::routing;
use super::users::User;
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::events::Change;

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
}

const CONV_SELECT: &str = "SELECT c.id, c.queue_id, q.name, q.team_id, c.channel, c.status, c.agent_id, u.name,
    c.contact_id, k.name, k.email, k.phone, c.subject, c.queued_at, c.last_activity_at, c.offer_expires_at,
    EXISTS(SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.kind = 'in' AND m.id > c.agent_read_id),
    EXISTS(SELECT 1 FROM tasks t WHERE t.contact_id = c.contact_id AND t.status <> 'done'), c.created_at, c.closed_at,
    c.reopen_at, c.resolved, (SELECT name FROM closing_reasons WHERE id = c.closing_reason_id), c.started_by
    FROM conversations c JOIN queues q ON q.id = c.queue_id JOIN contacts k ON k.id = c.contact_id
    LEFT JOIN users u ON u.id = c.agent_id";

fn conv_from_row(r: &rusqlite::Row) -> rusqlite::Result<Conversation> {
    let contact_id: i64 = r.get(8)?;
    let (name, email, phone): (String, String, String) = (r.get(9)?, r.get(10)?, r.get(11)?);
    let contact_name = super::contacts::label(contact_id, &name, &email, &phone);
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
    pub attachments: Vec<super::attachments::Attachment>,
}

/// Messages of a conversation after `after`, in arrival order (at most
/// `limit`). `for_agents`: everything, with internal notes and timeline
/// events; otherwise only what the customer sees (their messages and ours).
pub fn messages_limit(
    conn: &Connection,
    conversation_id: i64,
    after: i64,
    for_agents: bool,
    limit: i64,
) -> AppResult<Vec<Message>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, author_name, body, created_at FROM messages
         WHERE conversation_id = ?1 AND id > ?2 AND (?3 OR kind IN ('in', 'out')) ORDER BY id LIMIT ?4",
    )?;
    let mut v: Vec<Message> = stmt
        .query_map(params![conversation_id, after, for_agents, limit], |r| {
            Ok(Message {
                id: r.get(0)?,
                kind: r.get(1)?,
                author_name: r.get(2)?,
                body: r.get(3)?,
                created_at: r.get(4)?,
                attachments: Vec::new(),
            })
        })?
        .collect::<Result<_, _>>()?;
    if let (Some(first), Some(last)) = (v.first().map(|m| m.id), v.last().map(|m| m.id)) {
        let mut files = super::attachments::in_range(conn, conversation_id, first, last)?.into_iter().peekable();
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
    conn.prepare_cached("UPDATE conversations SET last_activity_at = ?1 WHERE id = ?2")?.execute(params![now, conv])?;
    Ok(id)
}

/// Records a timeline event (catalog key `ev.<kind>`) by `actor`.
fn event(conn: &Connection, conv: i64, key: &str, actor: Option<&User>, now: i64) -> AppResult<()> {
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

async fn apply<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Connection, i64) -> AppResult<(T, Vec<Change>)> + Send + 'static,
) -> AppResult<T> {
    let now = state.now();
    let (v, changes) = state.db.write(move |c| f(c, now)).await?;
    state.bus.publish(changes);
    Ok(v)
}

// ---- customer side ----------------------------------------------------------

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

// ---- agent side -------------------------------------------------------------

fn load_for(conn: &Connection, user: &User, id: i64) -> AppResult<Conversation> {
    visible(conn, user, id)
}

fn active_in_queue(conn: &Connection, agent: i64, queue: i64) -> AppResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM conversations WHERE agent_id = ?1 AND queue_id = ?2 AND status IN ('offered', 'assigned')",
        )?
        .query_row([agent, queue], |r| r.get(0))?)
}

fn capacity(conn: &Connection, queue: i64) -> AppResult<i64> {
    Ok(conn.prepare_cached("SELECT agent_capacity FROM queues WHERE id = ?1")?.query_row([queue], |r| r.get(0))?)
}

fn assign(conn: &Connection, c: &Conversation, agent: i64, now: i64) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE conversations SET status = 'assigned', agent_id = ?1, offer_expires_at = NULL, closed_at = NULL,
         reopen_at = NULL, reopen_agent_id = NULL WHERE id = ?2",
    )?
    .execute(params![agent, c.id])?;
    conn.prepare_cached("DELETE FROM offer_declines WHERE conversation_id = ?1")?.execute([c.id])?;
    conn.prepare_cached(
        "INSERT INTO agent_presence (user_id, status, since, last_assigned_at) VALUES (?1, 'not_ready', ?2, ?2)
         ON CONFLICT(user_id) DO UPDATE SET last_assigned_at = ?2",
    )?
    .execute(params![agent, now])?;
    Ok(())
}

/// Accepts an offer made to `user`.
pub async fn accept(state: &AppState, user: &User, id: i64) -> AppResult<()> {
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        if c.status != "offered" || c.agent_id != Some(user.id) {
            return Err(AppError::Conflict("conv.offer_gone"));
        }
        assign(conn, &c, user.id, now)?;
        event(conn, id, "ev.accepted", Some(&user), now)?;
        Ok(((), vec![Change::queue(c.queue_id, id), Change::agent(user.id, id)]))
    })
    .await
}

/// Declines an offer (also used when it times out): the next available agent
/// gets it, or it waits in the queue.
pub async fn decline(state: &AppState, user: &User, id: i64) -> AppResult<()> {
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        if c.status != "offered" || c.agent_id != Some(user.id) {
            return Err(AppError::Conflict("conv.offer_gone"));
        }
        let mut changes = requeue_after_offer(conn, &c, now, "ev.declined", Some(&user))?;
        changes.push(Change::agent(user.id, id));
        Ok(((), changes))
    })
    .await
}

fn requeue_after_offer(
    conn: &Connection,
    c: &Conversation,
    now: i64,
    key: &str,
    actor: Option<&User>,
) -> AppResult<Vec<Change>> {
    let agent = c.agent_id.unwrap_or(0);
    conn.prepare_cached("INSERT OR IGNORE INTO offer_declines (conversation_id, agent_id) VALUES (?1, ?2)")?
        .execute([c.id, agent])?;
    conn.prepare_cached(
        "UPDATE conversations SET status = 'queued', agent_id = NULL, offer_expires_at = NULL WHERE id = ?1",
    )?
    .execute([c.id])?;
    event(conn, c.id, key, actor, now)?;
    let mut changes = vec![Change::queue(c.queue_id, c.id), Change::agent(agent, c.id)];
    changes.extend(routing::route(conn, c.queue_id, now)?);
    Ok(changes)
}

/// Moves every expired offer on to the next agent. Returns how many expired.
pub async fn expire_offers(state: &AppState) -> AppResult<usize> {
    apply(state, |conn, now| {
        let ids: Vec<i64> = conn
            .prepare_cached(
                "SELECT id FROM conversations WHERE status = 'offered' AND offer_expires_at <= ?1 LIMIT 500",
            )?
            .query_map([now], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut changes = Vec::new();
        for id in &ids {
            if let Some(c) = load(conn, *id)? {
                changes.extend(requeue_after_offer(conn, &c, now, "ev.offer_expired", None)?);
            }
        }
        Ok((ids.len(), changes))
    })
    .await
}

/// Takes a waiting conversation from the queue. Of two agents claiming at the
/// same time exactly one wins; the other is told it is gone.
pub async fn claim(state: &AppState, user: &User, id: i64) -> AppResult<()> {
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        if !user.is_admin() && !user.team_ids.contains(&c.team_id) {
            return Err(AppError::NotFound);
        }
        if c.status != "queued" {
            return Err(AppError::Conflict("conv.already_taken"));
        }
        if active_in_queue(conn, user.id, c.queue_id)? >= capacity(conn, c.queue_id)? {
            return Err(AppError::Conflict("conv.at_capacity"));
        }
        assign(conn, &c, user.id, now)?;
        event(conn, id, "ev.claimed", Some(&user), now)?;
        Ok(((), vec![Change::queue(c.queue_id, id), Change::agent(user.id, id)]))
    })
    .await
}

/// Takes the oldest waiting conversation of a queue ("puxar").
pub async fn pull(state: &AppState, user: &User, queue_id: i64) -> AppResult<i64> {
    let u = user.clone();
    let next: Option<i64> = state
        .db
        .read(move |conn| {
            if !routing::member_queues(conn, u.id)?.contains(&queue_id) {
                return Err(AppError::NotFound);
            }
            Ok(conn
                .prepare_cached("SELECT id FROM conversations WHERE queue_id = ?1 AND status = 'queued' ORDER BY queued_at, id LIMIT 1")?
                .query_row([queue_id], |r| r.get(0))
                .optional()?)
        })
        .await?;
    let id = next.ok_or(AppError::Conflict("conv.nothing_waiting"))?;
    claim(state, user, id).await?;
    Ok(id)
}

/// An agent's reply.
pub async fn send(state: &AppState, user: &User, id: i64, text: &str) -> AppResult<i64> {
    let text = check_text(text)?;
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        if c.status != "assigned" || c.agent_id != Some(user.id) {
            return Err(AppError::Conflict("conv.not_yours"));
        }
        let mid = insert_message(conn, id, "out", Some(user.id), &user.name, &text, now)?;
        conn.prepare_cached("UPDATE conversations SET agent_read_id = ?1 WHERE id = ?2")?.execute([mid, id])?;
        Ok((mid, vec![Change::message(c.queue_id, id, Some(user.id))]))
    })
    .await
}

/// Marks the conversation read by its agent up to the newest message.
pub async fn mark_read(state: &AppState, user: &User, id: i64) -> AppResult<()> {
    let uid = user.id;
    state
        .db
        .write(move |conn| {
            conn.prepare_cached(
                "UPDATE conversations SET agent_read_id = (SELECT coalesce(max(id), 0) FROM messages WHERE conversation_id = ?1)
                 WHERE id = ?1 AND agent_id = ?2 AND status = 'assigned'",
            )?
            .execute([id, uid])?;
            Ok(())
        })
        .await
}

fn free_up(conn: &Connection, agent: i64, queue: i64, now: i64) -> AppResult<Vec<Change>> {
    let queues = routing::member_queues(conn, agent)?;
    routing::new_round(conn, &queues)?;
    let mut changes = Vec::new();
    let mut all = queues;
    if !all.contains(&queue) {
        all.push(queue);
    }
    for q in all {
        changes.extend(routing::route(conn, q, now)?);
    }
    Ok(changes)
}

/// The agent who held `c` lost it: their list changes and their capacity
/// frees up for waiting conversations.
fn release_agent(conn: &Connection, c: &Conversation, now: i64) -> AppResult<Vec<Change>> {
    let Some(a) = c.agent_id else { return Ok(vec![]) };
    let mut changes = vec![Change::agent(a, c.id)];
    changes.extend(free_up(conn, a, c.queue_id, now)?);
    Ok(changes)
}

/// Only the agent holding a conversation (or an administrator) hands it on.
fn check_held(user: &User, c: &Conversation) -> AppResult<()> {
    if c.status != "assigned" || (c.agent_id != Some(user.id) && !user.is_admin()) {
        return Err(AppError::Conflict("conv.not_yours"));
    }
    Ok(())
}

/// The closing script's answers: the contact reason and whether it was resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Closing {
    /// An active closing reason.
    pub reason_id: i64,
    /// Resolvido? sim / não.
    pub resolved: bool,
}

/// Whether finishing a conversation of this queue asks the closing script.
pub fn script_required(conn: &Connection, queue_id: i64) -> AppResult<bool> {
    Ok(conn
        .prepare_cached("SELECT closing_script_required FROM queues WHERE id = ?1")?
        .query_row([queue_id], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

/// The active closing reasons (id, name), by name.
pub fn closing_reasons(conn: &Connection) -> AppResult<Vec<(i64, String)>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, name FROM closing_reasons WHERE active = 1 ORDER BY name COLLATE NOCASE")?;
    let v = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    Ok(v)
}

/// Finishes (`archive = false`) or archives a conversation held by `user`.
/// Finishing in a queue that requires the closing script needs `script`;
/// archiving never asks it.
pub async fn close(state: &AppState, user: &User, id: i64, archive: bool, script: Option<Closing>) -> AppResult<()> {
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        let mine = c.agent_id == Some(user.id) && c.status == "assigned";
        let admin_may = user.is_admin() && matches!(c.status.as_str(), "queued" | "assigned");
        if !(mine || admin_may) {
            return Err(AppError::Conflict("conv.not_yours"));
        }
        let script = if archive { None } else { script };
        if !archive && script.is_none() && script_required(conn, c.queue_id)? {
            return Err(AppError::BadRequest("conv.script_required"));
        }
        if let Some(s) = script {
            let ok: bool = conn
                .prepare_cached("SELECT EXISTS(SELECT 1 FROM closing_reasons WHERE id = ?1 AND active = 1)")?
                .query_row([s.reason_id], |r| r.get(0))?;
            if !ok {
                return Err(AppError::BadRequest("conv.script_reason"));
            }
        }
        let status = if archive { "archived" } else { "finished" };
        conn.prepare_cached(
            "UPDATE conversations SET status = ?1, closed_at = ?2, closing_reason_id = ?3, resolved = ?4 WHERE id = ?5",
        )?
        .execute(params![status, now, script.map(|s| s.reason_id), script.map(|s| s.resolved), id])?;
        event(conn, id, if archive { "ev.archived" } else { "ev.finished" }, Some(&user), now)?;
        let mut changes = vec![Change::queue(c.queue_id, id), Change::message(c.queue_id, id, c.agent_id)];
        changes.extend(release_agent(conn, &c, now)?);
        Ok(((), changes))
    })
    .await
}

/// Reopens a finished or archived conversation into `user`'s list.
pub async fn reopen(state: &AppState, user: &User, id: i64) -> AppResult<()> {
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        if !matches!(c.status.as_str(), "finished" | "archived") {
            return Err(AppError::Conflict("conv.not_closed"));
        }
        if has_other_open(conn, &c)? {
            return Err(AppError::Conflict("conv.contact_has_open"));
        }
        assign(conn, &c, user.id, now)?;
        event(conn, id, "ev.reopened", Some(&user), now)?;
        Ok(((), vec![Change::queue(c.queue_id, id), Change::agent(user.id, id)]))
    })
    .await
}

/// Whether the contact of `c` has another open conversation in its queue
/// (then `c` is not reopened: one open conversation per contact and queue).
fn has_other_open(conn: &Connection, c: &Conversation) -> AppResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM conversations WHERE contact_id = ?1 AND queue_id = ?2 AND id <> ?3
             AND status IN ('queued', 'offered', 'assigned'))",
        )?
        .query_row([c.contact_id, c.queue_id, c.id], |r| r.get(0))?)
}

/// Adds a system line with free text (e.g. a task's details) to a
/// conversation's timeline; returns the live change.
pub fn system_note(conn: &Connection, c: &Conversation, text: &str, actor: &User, now: i64) -> AppResult<Vec<Change>> {
    insert_message(conn, c.id, "system", Some(actor.id), &actor.name, text, now)?;
    Ok(vec![Change::message(c.queue_id, c.id, c.agent_id)])
}

/// Reopens a finished conversation because a task on it fell due: into
/// `agent`'s list when that agent is active, else back into its queue. An
/// open conversation, or a contact with another open one there, is left alone.
pub fn reopen_for_task(conn: &Connection, id: i64, agent: Option<i64>, now: i64) -> AppResult<Vec<Change>> {
    reopen_auto(conn, id, agent, now, "ev.reopened_task")
}

/// Reopens, on its own, a closed conversation (see [`reopen_for_task`]),
/// leaving the timeline line `key`.
fn reopen_auto(conn: &Connection, id: i64, agent: Option<i64>, now: i64, key: &str) -> AppResult<Vec<Change>> {
    let Some(c) = load(conn, id)? else { return Ok(vec![]) };
    if !matches!(c.status.as_str(), "finished" | "archived") {
        return Ok(vec![]);
    }
    if has_other_open(conn, &c)? {
        return Ok(vec![]);
    }
    let agent = match agent {
        Some(a) => super::users::get(conn, a)?.filter(|u| u.active),
        None => None,
    };
    let mut changes = vec![Change::queue(c.queue_id, id)];
    match agent {
        Some(u) => {
            assign(conn, &c, u.id, now)?;
            event(conn, id, key, None, now)?;
            changes.push(Change::agent(u.id, id));
        }
        None => {
            conn.prepare_cached(
                "UPDATE conversations SET status = 'queued', agent_id = NULL, queued_at = ?1, closed_at = NULL,
                 reopen_at = NULL, reopen_agent_id = NULL WHERE id = ?2",
            )?
            .execute(params![now, id])?;
            event(conn, id, key, None, now)?;
            changes.extend(routing::route(conn, c.queue_id, now)?);
        }
    }
    Ok(changes)
}

/// Schedules (`at`) or cancels (`None`) the reopening of a finished or
/// archived conversation: at that time it returns to the list of the agent
/// who had it (or of `user`, if nobody had it), or to its queue if that agent
/// is no longer active.
pub async fn schedule_reopen(state: &AppState, user: &User, id: i64, at: Option<i64>) -> AppResult<()> {
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        if !matches!(c.status.as_str(), "finished" | "archived") {
            return Err(AppError::Conflict("conv.not_closed"));
        }
        if at.is_some_and(|t| t <= now) {
            return Err(AppError::BadRequest("conv.reopen_past"));
        }
        let agent = c.agent_id.unwrap_or(user.id);
        conn.prepare_cached("UPDATE conversations SET reopen_at = ?1, reopen_agent_id = ?2 WHERE id = ?3")?
            .execute(params![at, at.map(|_| agent), id])?;
        event(conn, id, if at.is_some() { "ev.reopen_scheduled" } else { "ev.reopen_canceled" }, Some(&user), now)?;
        Ok(((), vec![Change::message(c.queue_id, id, c.agent_id)]))
    })
    .await
}

/// Reopens the conversations whose scheduled time has come (the scheduler
/// runs this every second). Returns how many came due.
pub async fn reopen_due(state: &AppState) -> AppResult<usize> {
    let now = state.now();
    let any: bool = state
        .db
        .read(move |c| {
            Ok(c.prepare_cached("SELECT EXISTS(SELECT 1 FROM conversations WHERE reopen_at <= ?1)")?
                .query_row([now], |r| r.get(0))?)
        })
        .await?;
    if !any {
        return Ok(0);
    }
    apply(state, |conn, now| {
        let due: Vec<(i64, Option<i64>)> = conn
            .prepare_cached(
                "SELECT id, reopen_agent_id FROM conversations WHERE reopen_at <= ?1 ORDER BY reopen_at LIMIT 500",
            )?
            .query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut changes = Vec::new();
        for (id, agent) in &due {
            conn.prepare_cached("UPDATE conversations SET reopen_at = NULL, reopen_agent_id = NULL WHERE id = ?1")?
                .execute([id])?;
            let c = reopen_auto(conn, *id, *agent, now, "ev.reopened_scheduled")?;
            if c.is_empty() {
                // The contact already has another open conversation there.
                event(conn, *id, "ev.reopen_skipped", None, now)?;
            }
            changes.extend(c);
        }
        Ok((due.len(), crate::events::unique(changes)))
    })
    .await
}

/// Adds an internal note (nota interna): seen by agents only, never by the
/// customer on any channel.
pub async fn note(state: &AppState, user: &User, id: i64, text: &str) -> AppResult<i64> {
    let text = check_text(text)?;
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        let mid = insert_message(conn, id, "note", Some(user.id), &user.name, &text, now)?;
        Ok((mid, vec![Change::message(c.queue_id, id, c.agent_id)]))
    })
    .await
}

/// Starts a conversation from our side ("Iniciar conversa") with a contact in
/// one of `user`'s queues: it opens assigned to `user`, with `text` as the
/// first message when given. Needs the "open new conversations" permission.
pub async fn start_outbound(
    state: &AppState,
    user: &User,
    contact: super::contacts::Target,
    queue_id: i64,
    text: Option<String>,
) -> AppResult<i64> {
    if !user.can(super::users::Permission::OpenConversations) {
        return Err(AppError::Forbidden);
    }
    let text = match text {
        Some(t) if !t.trim().is_empty() => Some(check_text(&t)?),
        _ => None,
    };
    let user = user.clone();
    apply(state, move |conn, now| {
        let ok: bool = conn
            .prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM queues q WHERE q.id = ?1 AND q.active = 1
                  AND (?2 OR q.team_id IN (SELECT team_id FROM user_teams WHERE user_id = ?3)))",
            )?
            .query_row(params![queue_id, user.is_admin(), user.id], |r| r.get(0))?;
        if !ok {
            return Err(AppError::BadRequest("outbound.bad_queue"));
        }
        let contact = super::contacts::resolve_target(conn, &user, &contact, now)?;
        let open: Option<i64> = conn
            .prepare_cached(
                "SELECT id FROM conversations WHERE contact_id = ?1 AND queue_id = ?2
                 AND status IN ('queued', 'offered', 'assigned') LIMIT 1",
            )?
            .query_row([contact, queue_id], |r| r.get(0))
            .optional()?;
        if open.is_some() {
            return Err(AppError::Conflict("conv.contact_has_open"));
        }
        let channel: String =
            conn.prepare_cached("SELECT channel FROM queues WHERE id = ?1")?.query_row([queue_id], |r| r.get(0))?;
        let subject: String = text.as_deref().unwrap_or("").chars().take(80).collect();
        conn.prepare_cached(
            "INSERT INTO conversations (queue_id, contact_id, channel, subject, status, agent_id, queued_at, created_at,
               last_activity_at, started_by)
             VALUES (?1, ?2, ?3, ?4, 'assigned', ?5, ?6, ?6, ?6, ?5)",
        )?
        .execute(params![queue_id, contact, channel, subject, user.id, now])?;
        let id = conn.last_insert_rowid();
        conn.prepare_cached(
            "INSERT INTO agent_presence (user_id, status, since, last_assigned_at) VALUES (?1, 'not_ready', ?2, ?2)
             ON CONFLICT(user_id) DO UPDATE SET last_assigned_at = ?2",
        )?
        .execute(params![user.id, now])?;
        event(conn, id, "ev.started_out", Some(&user), now)?;
        // The hook for channel rules on starting a conversation (WhatsApp
        // templates and the 24 h window) belongs here, before the first message.
        if let Some(t) = &text {
            let mid = insert_message(conn, id, "out", Some(user.id), &user.name, t, now)?;
            conn.prepare_cached("UPDATE conversations SET agent_read_id = ?1 WHERE id = ?2")?.execute([mid, id])?;
        }
        Ok((id, vec![Change::queue(queue_id, id), Change::agent(user.id, id)]))
    })
    .await
}

/// Names of the agents who replied in a conversation, in order of first reply.
pub fn agents_of(conn: &Connection, id: i64) -> AppResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT author_name FROM messages WHERE conversation_id = ?1 AND kind = 'out' AND author_name <> ''
         GROUP BY author_name ORDER BY min(id)",
    )?;
    let v = stmt.query_map([id], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(v)
}

/// The tags on a conversation (id, name), by name.
pub fn tags(conn: &Connection, id: i64) -> AppResult<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, t.name FROM conversation_tags ct JOIN tags t ON t.id = ct.tag_id
         WHERE ct.conversation_id = ?1 ORDER BY t.name COLLATE NOCASE",
    )?;
    let v = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    Ok(v)
}

/// Adds (`on`) or removes an (active, conversation-scoped) tag.
pub async fn set_tag(state: &AppState, user: &User, id: i64, tag: i64, on: bool) -> AppResult<()> {
    let user = user.clone();
    apply(state, move |conn, _now| {
        let c = load_for(conn, &user, id)?;
        if on {
            let ok: bool = conn
                .prepare_cached(
                    "SELECT EXISTS(SELECT 1 FROM tags WHERE id = ?1 AND scope = 'conversation' AND active = 1)",
                )?
                .query_row([tag], |r| r.get(0))?;
            if !ok {
                return Err(AppError::BadRequest("val.invalid_choice"));
            }
            conn.prepare_cached("INSERT OR IGNORE INTO conversation_tags (conversation_id, tag_id) VALUES (?1, ?2)")?
                .execute([id, tag])?;
        } else {
            conn.prepare_cached("DELETE FROM conversation_tags WHERE conversation_id = ?1 AND tag_id = ?2")?
                .execute([id, tag])?;
        }
        Ok(((), vec![Change::message(c.queue_id, id, c.agent_id)]))
    })
    .await
}

/// Why an agent cannot receive a transfer right now (catalog key), if so.
pub fn unavailable_reason(conn: &Connection, agent: i64, queue: i64) -> AppResult<Option<&'static str>> {
    let active: bool =
        conn.prepare_cached("SELECT active FROM users WHERE id = ?1")?.query_row([agent], |r| r.get(0))?;
    if !active {
        return Ok(Some("status.inactive"));
    }
    if routing::presence(conn, agent)? != routing::READY {
        return Ok(Some("presence.not_ready"));
    }
    if active_in_queue(conn, agent, queue)? >= capacity(conn, queue)? {
        return Ok(Some("transfer.full"));
    }
    Ok(None)
}

/// Transfer targets for a conversation: teams with a queue of its channel, and
/// agents of those teams with the reason they cannot receive it, if any.
pub struct TransferOptions {
    /// (team id, team name).
    pub teams: Vec<(i64, String)>,
    /// (agent id, name, reason key when unavailable).
    pub agents: Vec<(i64, String, Option<&'static str>)>,
}

/// Lists transfer targets for `c`.
pub fn transfer_options(conn: &Connection, user: &User, c: &Conversation) -> AppResult<TransferOptions> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT t.id, t.name FROM teams t JOIN queues q ON q.team_id = t.id
         WHERE t.active = 1 AND q.active = 1 AND q.channel = ?1 ORDER BY t.name COLLATE NOCASE",
    )?;
    let teams: Vec<(i64, String)> =
        stmt.query_map([&c.channel], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT u.id, u.name FROM users u JOIN user_teams ut ON ut.user_id = u.id
         WHERE ut.team_id = ?1 AND u.id <> ?2 ORDER BY u.name COLLATE NOCASE",
    )?;
    let people: Vec<(i64, String)> =
        stmt.query_map([c.team_id, user.id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    let mut agents = Vec::new();
    for (id, name) in people {
        agents.push((id, name, unavailable_reason(conn, id, c.queue_id)?));
    }
    Ok(TransferOptions { teams, agents })
}

/// Transfers to a team: back into that team's queue of the same channel.
pub async fn transfer_to_team(state: &AppState, user: &User, id: i64, team_id: i64) -> AppResult<()> {
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        check_held(&user, &c)?;
        let queue: i64 = conn
            .prepare_cached(
                "SELECT id FROM queues WHERE team_id = ?1 AND channel = ?2 AND active = 1 ORDER BY id LIMIT 1",
            )?
            .query_row(params![team_id, c.channel], |r| r.get(0))
            .optional()?
            .ok_or(AppError::BadRequest("transfer.no_queue"))?;
        conn.prepare_cached(
            "UPDATE conversations SET status = 'queued', agent_id = NULL, queue_id = ?1, queued_at = ?2 WHERE id = ?3",
        )?
        .execute(params![queue, now, id])?;
        event(conn, id, "ev.transferred_team", Some(&user), now)?;
        let mut changes = vec![Change::queue(c.queue_id, id), Change::queue(queue, id)];
        changes.extend(release_agent(conn, &c, now)?);
        changes.extend(routing::route(conn, queue, now)?);
        Ok(((), changes))
    })
    .await
}

/// Transfers to a specific agent, who must be available.
pub async fn transfer_to_agent(state: &AppState, user: &User, id: i64, agent: i64) -> AppResult<()> {
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = load_for(conn, &user, id)?;
        check_held(&user, &c)?;
        let in_team: bool = conn
            .prepare_cached("SELECT EXISTS(SELECT 1 FROM user_teams WHERE user_id = ?1 AND team_id = ?2)")?
            .query_row([agent, c.team_id], |r| r.get(0))?;
        if !in_team || Some(agent) == c.agent_id {
            return Err(AppError::BadRequest("val.invalid_choice"));
        }
        if let Some(reason) = unavailable_reason(conn, agent, c.queue_id)? {
            return Err(AppError::Conflict(reason));
        }
        assign(conn, &c, agent, now)?;
        event(conn, id, "ev.transferred_agent", Some(&user), now)?;
        let mut changes = vec![Change::queue(c.queue_id, id), Change::agent(agent, id)];
        changes.extend(release_agent(conn, &c, now)?);
        Ok(((), changes))
    })
    .await
}

// ---- presence and queues ----------------------------------------------------

/// Sets `user` Pronto (ready) or Não pronto; becoming ready gives waiting
/// conversations of their queues a new round of offers.
pub async fn set_ready(state: &AppState, user: &User, ready: bool) -> AppResult<()> {
    let uid = user.id;
    apply(state, move |conn, now| {
        routing::set_presence(conn, uid, if ready { routing::READY } else { routing::NOT_READY }, now)?;
        let mut changes = vec![];
        if ready {
            let queues = routing::member_queues(conn, uid)?;
            routing::new_round(conn, &queues)?;
            for q in queues {
                changes.extend(routing::route(conn, q, now)?);
            }
        }
        Ok(((), changes))
    })
    .await
}

/// Connects `user` to (or disconnects from) one of their queues.
pub async fn set_connected(state: &AppState, user: &User, queue_id: i64, on: bool) -> AppResult<()> {
    let uid = user.id;
    apply(state, move |conn, now| {
        if !routing::member_queues(conn, uid)?.contains(&queue_id) {
            return Err(AppError::NotFound);
        }
        routing::set_connected(conn, uid, queue_id, on)?;
        let mut changes = vec![];
        if on {
            routing::new_round(conn, &[queue_id])?;
            changes.extend(routing::route(conn, queue_id, now)?);
        }
        Ok(((), changes))
    })
    .await
}

/// A queue as the agent's "puxar" list shows it.
#[derive(Clone, Debug)]
pub struct QueueInfo {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Channel code.
    pub channel: String,
    /// Whether I am connected to it.
    pub connected: bool,
    /// Conversations waiting.
    pub waiting: i64,
}

/// Everything the agent home shows.
pub struct Home {
    /// My presence code.
    pub presence: String,
    /// Offers waiting for my answer.
    pub offers: Vec<Conversation>,
    /// Na fila: the first page of queued conversations of my queues, oldest first.
    pub queued: Page,
    /// How many are queued in my queues in all.
    pub queued_total: i64,
    /// Minhas conversas: the first page of those assigned to me, newest activity first.
    pub mine: Page,
    /// How many are assigned to me in all.
    pub mine_total: i64,
    /// Unread conversations among all of mine.
    pub mine_unread: i64,
    /// My queues.
    pub queues: Vec<QueueInfo>,
}

/// Rows per page of a desk list.
pub const PAGE_SIZE: i64 = 25;

/// A keyset position in a list: the sort time and the id of the last row shown.
pub type Cursor = (i64, i64);

/// One page of a list, with where the next page starts.
#[derive(Default)]
pub struct Page {
    /// The rows.
    pub rows: Vec<Conversation>,
    /// Cursor of the next page, if there is one.
    pub next: Option<Cursor>,
}

/// Reads `cursor` as written by [`cursor_param`]: "time.id".
pub fn parse_cursor(s: &str) -> Option<Cursor> {
    let (a, b) = s.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The query-string form of a cursor.
pub fn cursor_param(c: Cursor) -> String {
    format!("{}.{}", c.0, c.1)
}

fn page(conn: &Connection, sql: &str, p: &[&dyn rusqlite::ToSql], key: fn(&Conversation) -> i64) -> AppResult<Page> {
    let mut rows: Vec<Conversation> =
        conn.prepare_cached(sql)?.query_map(p, conv_from_row)?.collect::<Result<_, _>>()?;
    let next = if rows.len() as i64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|c| (key(c), c.id))
    } else {
        None
    };
    Ok(Page { rows, next })
}

/// Queued conversations of `user`'s queues (administrators: all), oldest
/// first, from after `after`. Costs the same on any page (keyset).
pub fn queued_page(conn: &Connection, user: &User, after: Option<Cursor>) -> AppResult<Page> {
    let (t, id) = after.unwrap_or((i64::MIN, i64::MIN));
    page(
        conn,
        &format!(
            "{CONV_SELECT} WHERE c.status = 'queued' AND (c.queued_at, c.id) > (?3, ?4)
               AND (?1 OR q.team_id IN (SELECT team_id FROM user_teams WHERE user_id = ?2))
             ORDER BY c.queued_at, c.id LIMIT {}",
            PAGE_SIZE + 1
        ),
        &[&user.is_admin(), &user.id, &t, &id],
        |c| c.queued_at,
    )
}

/// Conversations assigned to `user`, newest activity first, from after `after`.
pub fn mine_page(conn: &Connection, user: &User, after: Option<Cursor>) -> AppResult<Page> {
    let (t, id) = after.unwrap_or((i64::MAX, i64::MAX));
    page(
        conn,
        &format!(
            "{CONV_SELECT} WHERE c.agent_id = ?1 AND c.status = 'assigned' AND (c.last_activity_at, c.id) < (?2, ?3)
             ORDER BY c.last_activity_at DESC, c.id DESC LIMIT {}",
            PAGE_SIZE + 1
        ),
        &[&user.id, &t, &id],
        |c| c.last_activity_at,
    )
}

/// Loads the agent home.
pub fn home(conn: &Connection, user: &User) -> AppResult<Home> {
    let offers = conn
        .prepare_cached(&format!("{CONV_SELECT} WHERE c.agent_id = ?1 AND c.status = 'offered' ORDER BY c.queued_at"))?
        .query_map([user.id], conv_from_row)?
        .collect::<Result<_, _>>()?;
    let (mine_total, mine_unread): (i64, i64) = conn
        .prepare_cached(
            "SELECT count(*), coalesce(sum(EXISTS(SELECT 1 FROM messages m WHERE m.conversation_id = c.id
                AND m.kind = 'in' AND m.id > c.agent_read_id)), 0)
             FROM conversations c WHERE c.agent_id = ?1 AND c.status = 'assigned'",
        )?
        .query_row([user.id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let queued_total: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM conversations c JOIN queues q ON q.id = c.queue_id
             WHERE c.status = 'queued' AND (?1 OR q.team_id IN (SELECT team_id FROM user_teams WHERE user_id = ?2))",
        )?
        .query_row(params![user.is_admin(), user.id], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(
        "SELECT q.id, q.name, q.channel,
           EXISTS(SELECT 1 FROM queue_connections qc WHERE qc.user_id = ?1 AND qc.queue_id = q.id),
           (SELECT count(*) FROM conversations c WHERE c.queue_id = q.id AND c.status = 'queued')
         FROM queues q JOIN user_teams ut ON ut.team_id = q.team_id
         WHERE ut.user_id = ?1 AND q.active = 1 ORDER BY q.name COLLATE NOCASE",
    )?;
    let queues = stmt
        .query_map([user.id], |r| {
            Ok(QueueInfo {
                id: r.get(0)?,
                name: r.get(1)?,
                channel: r.get(2)?,
                connected: r.get(3)?,
                waiting: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Home {
        presence: routing::presence(conn, user.id)?,
        offers,
        queued: queued_page(conn, user, None)?,
        queued_total,
        mine: mine_page(conn, user, None)?,
        mine_total,
        mine_unread,
        queues,
    })
}

/// The queues whose events `user` may receive (administrators: all).
pub fn visible_queues(conn: &Connection, user: &User) -> AppResult<Option<Vec<i64>>> {
    if user.is_admin() {
        return Ok(None);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT q.id FROM queues q JOIN user_teams ut ON ut.team_id = q.team_id WHERE ut.user_id = ?1",
    )?;
    let v = stmt.query_map([user.id], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(Some(v))
}
