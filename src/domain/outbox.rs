//! The durable outbox: every message an agent sends through a channel that
//! delivers it elsewhere (WhatsApp) is written here in the same transaction
//! as the message, and handed to the channel by one job. Retries, backoff,
//! the "never twice" rule and the delivery state agents see are kept here,
//! once for every channel.
//!
//! Never twice: a row is marked `sending` (committed) before the channel is
//! called. A definite refusal (429, 5xx, no connection) goes back to
//! `pending` with a backoff; an answer with the channel's id makes it `sent`.
//! A row left `sending` by a crash is not sent again blindly: the channel
//! echoes our row id back on its status callbacks, so a message that did go
//! out is recognised; only after [`RECONCILE_SECS`] without any sign is it
//! sent again.
//!
//! E-mail gives no such sign, so its rows are taken in two steps: [`claim`]
//! (taken by a run) and [`start`] (the SMTP transaction begins). A crash
//! between the two loses nothing: the row is sent after the restart. A row
//! started and never recorded is marked unconfirmed instead
//! ([`abandon_unconfirmed`]).

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{AppError, AppResult};
use crate::events::Change;

/// How long a `sending` row waits for the channel's callback before it is
/// tried again.
pub const RECONCILE_SECS: i64 = 300;
/// Attempts before a message is given up as failed.
pub const MAX_ATTEMPTS: i64 = 10;

/// Bus event kind: a message's delivery state changed (the ticks).
pub const DELIVERY: &str = "delivery";

/// A row to deliver.
#[derive(Clone, Debug)]
pub struct Item {
    /// Outbox row.
    pub id: i64,
    /// The message it delivers.
    pub message_id: i64,
    /// The conversation.
    pub conversation_id: i64,
    /// The queue (its channel account).
    pub queue_id: i64,
    /// Channel code.
    pub channel: String,
    /// Recipient as the channel knows them (the wa_id).
    pub recipient: String,
    /// The channel's JSON body.
    pub payload: String,
    /// Attempts so far.
    pub attempts: i64,
    /// A file to upload first; its media id replaces [`MEDIA_ID`] in the payload.
    pub attachment_id: Option<i64>,
}

/// An [`Item`] from a row selecting, in this order, the outbox id, message
/// id, conversation id, queue id, channel, recipient, payload, attempts and
/// attachment id.
fn item_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
    Ok(Item {
        id: r.get(0)?,
        message_id: r.get(1)?,
        conversation_id: r.get(2)?,
        queue_id: r.get(3)?,
        channel: r.get(4)?,
        recipient: r.get(5)?,
        payload: r.get(6)?,
        attempts: r.get(7)?,
        attachment_id: r.get(8)?,
    })
}

/// Stands for the media id in a file's payload until it is uploaded.
pub const MEDIA_ID: &str = "__atende_media__";

/// How WhatsApp carries a file of this type and the most it takes (Meta's
/// caps), or None for a type it refuses.
pub fn whatsapp_media_kind(mime: &str) -> Option<(&'static str, u64)> {
    const MB: u64 = 1 << 20;
    match mime {
        "image/jpeg" | "image/png" => Some(("image", 5 * MB)),
        "audio/aac" | "audio/amr" | "audio/mpeg" | "audio/mp4" | "audio/ogg" => Some(("audio", 16 * MB)),
        "video/mp4" | "video/3gpp" => Some(("video", 16 * MB)),
        "application/pdf"
        | "text/plain"
        | "application/msword"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.ms-excel"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.ms-powerpoint"
        | "application/vnd.openxmlformats-officedocument.presentationml.presentation" => Some(("document", 100 * MB)),
        _ => None,
    }
}

/// Queues an agent's file for a WhatsApp conversation (after its message
/// and attachment rows): refused with nothing stored when the window is
/// closed or Meta would refuse its type or size. Part of the caller's
/// transaction.
#[allow(clippy::too_many_arguments)]
pub fn enqueue_whatsapp_media(
    conn: &Connection,
    conversation_id: i64,
    queue_id: i64,
    message_id: i64,
    attachment_id: i64,
    (mime, name, size): (&str, &str, u64),
    caption: &str,
    now: i64,
) -> AppResult<()> {
    let Some((kind, cap)) = whatsapp_media_kind(mime) else { return Err(AppError::BadRequest("wa.media_type")) };
    if size > cap {
        return Err(AppError::BadRequest("wa.media_too_big"));
    }
    if caption.chars().count() > 1024 {
        return Err(AppError::BadRequest("wa.caption_too_long"));
    }
    let to = recipient(conn, conversation_id)?;
    if !crate::domain::whatsapp::window_open(conn, conversation_id, now)? {
        return Err(AppError::Conflict("wa.window_closed"));
    }
    let mut media = serde_json::json!({ "id": MEDIA_ID });
    if kind != "audio" && !caption.is_empty() {
        media["caption"] = caption.into();
    }
    if kind == "document" {
        media["filename"] = name.into();
    }
    enqueue_whatsapp(conn, queue_id, message_id, &to, now, |id| {
        serde_json::json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": kind,
            kind: media,
            "biz_opaque_callback_data": format!("atende:{id}"),
        })
        .to_string()
    })?;
    attach(conn, message_id, attachment_id)
}

/// Names the file the outbox uploads before sending a message's payload
/// (which names it [`MEDIA_ID`]). Part of the caller's transaction.
pub fn attach(conn: &Connection, message_id: i64, attachment_id: i64) -> AppResult<()> {
    conn.prepare_cached("UPDATE outbox SET attachment_id = ?2 WHERE message_id = ?1")?
        .execute(params![message_id, attachment_id])?;
    Ok(())
}

/// The delivery state of an agent's message, for the ticks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// pending | sending | sent | delivered | read | failed.
    pub state: String,
    /// Why it failed (pt-BR), or ''.
    pub error: String,
}

/// The WhatsApp Cloud API body of a text message to `to`.
pub fn whatsapp_text(to: &str, text: &str, outbox_id: i64) -> String {
    serde_json::json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": { "body": text, "preview_url": false },
        "biz_opaque_callback_data": format!("atende:{outbox_id}"),
    })
    .to_string()
}

/// Queues an agent's text for a WhatsApp conversation: refused (nothing
/// stored) when the 24-hour window is closed. Part of the caller's
/// transaction, after the message row.
pub fn enqueue_whatsapp_text(
    conn: &Connection,
    conversation_id: i64,
    queue_id: i64,
    message_id: i64,
    text: &str,
    now: i64,
) -> AppResult<()> {
    if text.chars().count() > 4096 {
        return Err(AppError::BadRequest("wa.text_too_long"));
    }
    let to = recipient(conn, conversation_id)?;
    if !crate::domain::whatsapp::window_open(conn, conversation_id, now)? {
        return Err(AppError::Conflict("wa.window_closed"));
    }
    enqueue_whatsapp(conn, queue_id, message_id, &to, now, |id| whatsapp_text(&to, text, id))
}

/// The WhatsApp id a conversation answers to.
pub fn recipient(conn: &Connection, conversation_id: i64) -> AppResult<String> {
    let wa_id: Option<String> = conn
        .prepare_cached("SELECT wa_id FROM conversations WHERE id = ?1")?
        .query_row([conversation_id], |r| r.get(0))
        .optional()?
        .flatten();
    wa_id.filter(|w| !w.is_empty()).ok_or(AppError::Conflict("wa.no_recipient"))
}

/// Queues a message whose documented JSON `payload` builds from the outbox
/// id (the window and the opt-in checked by the caller). Part of the
/// caller's transaction, after the message row.
pub fn enqueue_whatsapp(
    conn: &Connection,
    queue_id: i64,
    message_id: i64,
    to: &str,
    now: i64,
    payload: impl FnOnce(i64) -> String,
) -> AppResult<()> {
    conn.prepare_cached(
        "INSERT INTO outbox (message_id, channel, queue_id, recipient, payload, state, next_at, created_at, updated_at)
         VALUES (?1, 'whatsapp', ?2, ?3, '', 'pending', ?4, ?4, ?4)",
    )?
    .execute(params![message_id, queue_id, to, now])?;
    let id = conn.last_insert_rowid();
    conn.prepare_cached("UPDATE outbox SET payload = ?2 WHERE id = ?1")?.execute(params![id, payload(id)])?;
    Ok(())
}

/// Takes up to `limit` rows due now, at most each number's messages per
/// second (`rate_per_sec`), and marks them `sending` (the caller commits
/// before calling the channel). Rows left `sending` longer than
/// [`RECONCILE_SECS`] with no callback are due again.
pub fn take_due(conn: &Connection, channel: &str, now: i64, limit: usize) -> AppResult<Vec<Item>> {
    let items: Vec<Item> = conn
        .prepare_cached(
            "SELECT o.id, o.message_id, m.conversation_id, o.queue_id, o.channel, o.recipient, o.payload, o.attempts,
               o.attachment_id
             FROM (SELECT id, message_id, queue_id, channel, recipient, payload, attempts, next_at, attachment_id,
                     row_number() OVER (PARTITION BY queue_id ORDER BY next_at, id) AS rn
                   FROM outbox WHERE state IN ('pending', 'sending') AND next_at <= ?1 AND channel = ?3) o
             JOIN messages m ON m.id = o.message_id LEFT JOIN whatsapp_numbers w ON w.queue_id = o.queue_id
             WHERE o.rn <= coalesce(w.rate_per_sec, 80) ORDER BY o.next_at, o.id LIMIT ?2",
        )?
        .query_map(params![now, limit as i64, channel], item_from_row)?
        .collect::<Result<_, _>>()?;
    let mut up = conn.prepare_cached(
        "UPDATE outbox SET state = 'sending', attempts = attempts + 1, next_at = ?2, updated_at = ?3 WHERE id = ?1",
    )?;
    for i in &items {
        up.execute(params![i.id, now + RECONCILE_SECS, now])?;
    }
    Ok(items)
}

fn change_for(conn: &Connection, outbox_id: i64) -> AppResult<Vec<Change>> {
    let row: Option<(i64, i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT c.queue_id, c.id, c.agent_id FROM outbox o JOIN messages m ON m.id = o.message_id
             JOIN conversations c ON c.id = m.conversation_id WHERE o.id = ?1",
        )?
        .query_row([outbox_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    Ok(row
        .map(|(q, c, a)| vec![Change { kind: DELIVERY, queue_id: Some(q), conversation_id: Some(c), agent_id: a }])
        .unwrap_or_default())
}

/// The channel accepted the message and named it `external_id`.
pub fn sent(conn: &Connection, outbox_id: i64, external_id: &str, now: i64) -> AppResult<Vec<Change>> {
    conn.prepare_cached(
        "UPDATE outbox SET state = CASE WHEN state IN ('delivered', 'read') THEN state ELSE 'sent' END,
           external_id = ?2, error = '', updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![outbox_id, external_id, now])?;
    change_for(conn, outbox_id)
}

/// The channel did not take it this time: try again after a backoff that
/// doubles (5 s, 10 s, … at most 10 min), or give up after
/// [`MAX_ATTEMPTS`] with `reason`.
pub fn retry(
    conn: &Connection,
    outbox_id: i64,
    reason: &str,
    retry_after: Option<i64>,
    now: i64,
) -> AppResult<Vec<Change>> {
    let attempts: i64 =
        conn.prepare_cached("SELECT attempts FROM outbox WHERE id = ?1")?.query_row([outbox_id], |r| r.get(0))?;
    if attempts >= MAX_ATTEMPTS {
        return failed(conn, outbox_id, reason, now);
    }
    let backoff = (5i64 << (attempts - 1).clamp(0, 7)).min(600);
    let wait = retry_after.map_or(backoff, |r| r.clamp(1, 3600));
    conn.prepare_cached(
        "UPDATE outbox SET state = 'pending', next_at = ?2, error = ?3, updated_at = ?4 WHERE id = ?1",
    )?
    .execute(params![outbox_id, now + wait, reason, now])?;
    change_for(conn, outbox_id)
}

/// How long a row a delivery run took may wait for its turn before it is
/// due again (a run gives back what it did not start well before this).
pub const CLAIM_SECS: i64 = 120;

/// The queues of `channel` with rows due now.
pub fn due_queues(conn: &Connection, channel: &str, now: i64) -> AppResult<Vec<i64>> {
    let v = conn
        .prepare_cached(
            "SELECT DISTINCT queue_id FROM outbox WHERE state = 'pending' AND next_at <= ?2 AND channel = ?1",
        )?
        .query_map(params![channel, now], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// Takes up to `limit` of one queue's rows due now, oldest first and one
/// per conversation (so a customer's replies go out in order), for a
/// delivery run: they become `sending` with no `started_at` (taken, not yet
/// handed to the channel; [`start`] marks that) and are not due again for
/// [`CLAIM_SECS`]. The caller commits before it sends.
pub fn claim(conn: &Connection, channel: &str, queue_id: i64, now: i64, limit: usize) -> AppResult<Vec<Item>> {
    let items: Vec<Item> = conn
        .prepare_cached(
            "SELECT o.id, o.message_id, o.conversation_id, o.queue_id, o.channel, o.recipient, o.payload, o.attempts,
               o.attachment_id
             FROM (SELECT o.*, m.conversation_id,
                     row_number() OVER (PARTITION BY m.conversation_id ORDER BY o.next_at, o.id) AS rn
                   FROM outbox o JOIN messages m ON m.id = o.message_id
                   WHERE o.state = 'pending' AND o.next_at <= ?3 AND o.channel = ?1 AND o.queue_id = ?2) o
             WHERE o.rn = 1 ORDER BY o.next_at, o.id LIMIT ?4",
        )?
        .query_map(params![channel, queue_id, now, limit as i64], item_from_row)?
        .collect::<Result<_, _>>()?;
    let mut up = conn.prepare_cached(
        "UPDATE outbox SET state = 'sending', started_at = NULL, next_at = ?2, updated_at = ?3 WHERE id = ?1",
    )?;
    for i in &items {
        up.execute(params![i.id, now + CLAIM_SECS, now])?;
    }
    Ok(items)
}

/// The channel is being handed a row [`claim`] took: from now on a crash
/// leaves it unconfirmed, never sent again. False when the row is no longer
/// the caller's to send (given back meanwhile).
pub fn start(conn: &Connection, outbox_id: i64, now: i64) -> AppResult<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE outbox SET started_at = ?2, attempts = attempts + 1, next_at = ?2 + ?3, updated_at = ?2
             WHERE id = ?1 AND state = 'sending' AND started_at IS NULL",
        )?
        .execute(params![outbox_id, now, RECONCILE_SECS])?;
    Ok(n == 1)
}

/// Gives back rows a run took and did not start: due again now, no attempt
/// counted.
pub fn release(conn: &Connection, ids: &[i64], now: i64) -> AppResult<()> {
    let mut up = conn.prepare_cached(
        "UPDATE outbox SET state = 'pending', next_at = ?2, updated_at = ?2
         WHERE id = ?1 AND state = 'sending' AND started_at IS NULL",
    )?;
    for id in ids {
        up.execute(params![id, now])?;
    }
    Ok(())
}

/// Rows of `channel` left `sending` past their time, for a channel that
/// reports no status (e-mail): one never handed to the channel goes back to
/// `pending` (sent normally); one whose transaction had begun may have gone
/// out, so it is marked failed with `reason` (a catalog key the desk shows)
/// instead of being sent a second time. With `all`, every such row, however
/// recent: what a restart finds was left by the process before it, which
/// will never record an outcome. Returns how many failed, and the live
/// changes.
pub fn abandon_unconfirmed(
    conn: &Connection,
    channel: &str,
    reason: &str,
    now: i64,
    all: bool,
) -> AppResult<(usize, Vec<Change>)> {
    let rows: Vec<(i64, bool)> = conn
        .prepare_cached(
            "SELECT id, started_at IS NOT NULL FROM outbox
             WHERE channel = ?1 AND state = 'sending' AND (?3 OR next_at <= ?2)",
        )?
        .query_map(params![channel, now, all], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let (begun, never): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(_, begun)| *begun);
    release(conn, &never.into_iter().map(|(id, _)| id).collect::<Vec<_>>(), now)?;
    let mut changes = Vec::new();
    for (id, _) in &begun {
        changes.extend(failed(conn, *id, reason, now)?);
    }
    Ok((begun.len(), changes))
}

/// The channel refused the message for good.
pub fn failed(conn: &Connection, outbox_id: i64, reason: &str, now: i64) -> AppResult<Vec<Change>> {
    conn.prepare_cached("UPDATE outbox SET state = 'failed', error = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![outbox_id, reason, now])?;
    change_for(conn, outbox_id)
}

fn rank(state: &str) -> i32 {
    match state {
        "pending" | "sending" => 0,
        "sent" => 1,
        "delivered" => 2,
        "read" => 3,
        _ => -1,
    }
}

/// A status callback (sent, delivered, read, failed) for the message the
/// channel calls `external_id` — or, when a crash lost that id, the row
/// named in `callback` (`atende:<id>`). States only move forward (callbacks
/// come out of order, some are skipped); a failure after delivery is
/// ignored. Returns the live changes (none for an unknown message).
pub fn apply_status(
    conn: &Connection,
    channel: &str,
    external_id: &str,
    callback: Option<&str>,
    status: &str,
    reason: &str,
    now: i64,
) -> AppResult<Vec<Change>> {
    let mut row: Option<(i64, String)> = conn
        .prepare_cached("SELECT id, state FROM outbox WHERE channel = ?1 AND external_id = ?2")?
        .query_row(params![channel, external_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if row.is_none()
        && let Some(id) = callback.and_then(|c| c.strip_prefix("atende:")).and_then(|n| n.parse::<i64>().ok())
    {
        row = conn
            .prepare_cached("SELECT id, state FROM outbox WHERE id = ?1 AND channel = ?2 AND external_id IS NULL")?
            .query_row(params![id, channel], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if row.is_some() {
            conn.prepare_cached("UPDATE outbox SET external_id = ?2 WHERE id = ?1")?
                .execute(params![id, external_id])?;
        }
    }
    let Some((id, current)) = row else { return Ok(vec![]) };
    let next = match status {
        "failed" if rank(&current) < 2 && current != "failed" => "failed",
        s if rank(s) > rank(&current) => s,
        _ => return Ok(vec![]),
    };
    conn.prepare_cached(
        "UPDATE outbox SET state = ?2, error = CASE WHEN ?2 = 'failed' THEN ?3 ELSE '' END, updated_at = ?4 WHERE id = ?1",
    )?
    .execute(params![id, next, reason, now])?;
    change_for(conn, id)
}

/// The delivery state of each agent message of a conversation that went
/// through the outbox, by message id.
pub fn deliveries(conn: &Connection, conversation_id: i64) -> AppResult<std::collections::HashMap<i64, Delivery>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.message_id, o.state, o.error FROM outbox o JOIN messages m ON m.id = o.message_id
         WHERE m.conversation_id = ?1",
    )?;
    let v = stmt
        .query_map([conversation_id], |r| Ok((r.get::<_, i64>(0)?, Delivery { state: r.get(1)?, error: r.get(2)? })))?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_only_move_forward() {
        assert!(rank("read") > rank("delivered") && rank("delivered") > rank("sent") && rank("sent") > rank("sending"));
        let body: serde_json::Value = serde_json::from_str(&whatsapp_text("5511987654321", "Olá", 7)).unwrap();
        assert_eq!(body["to"], "5511987654321");
        assert_eq!(body["type"], "text");
        assert_eq!(body["text"]["body"], "Olá");
        assert_eq!(body["messaging_product"], "whatsapp");
        assert_eq!(body["biz_opaque_callback_data"], "atende:7");
    }
}
