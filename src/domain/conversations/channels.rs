//! Which channels can carry what agents write. A WhatsApp queue whose number
//! is not set up, or an e-mail queue without an SMTP server and a sender,
//! must not pretend to work: its admin page and the desk say it is not
//! connected, and nothing is sent into it.

use rusqlite::{Connection, OptionalExtension};

use crate::error::{AppError, AppResult};

/// Channels that deliver agents' messages to the customer today.
pub const CONNECTED_CHANNELS: &[&str] = &["webchat", "whatsapp", "email"];

/// Whether `channel` delivers what agents send.
pub fn channel_connected(channel: &str) -> bool {
    CONNECTED_CHANNELS.contains(&channel)
}

/// Catalog key saying why a channel is not connected (admin page, desk
/// label), or None when it is connected.
pub fn not_connected_reason(channel: &str) -> Option<&'static str> {
    match channel {
        c if channel_connected(c) => None,
        "whatsapp" => Some("forms.channel.not_connected.whatsapp"),
        _ => Some("forms.channel.not_connected.email"),
    }
}

/// Whether the queue's channel delivers what agents send (a queue that does
/// not exist answers NotFound).
pub fn queue_channel_connected(conn: &Connection, queue_id: i64) -> AppResult<bool> {
    let channel: String = conn
        .prepare_cached("SELECT channel FROM queues WHERE id = ?1")?
        .query_row([queue_id], |r| r.get(0))
        .optional()?
        .ok_or(AppError::NotFound)?;
    Ok(match channel.as_str() {
        "whatsapp" => crate::domain::whatsapp::queue_ready(conn, queue_id)?,
        "email" => {
            crate::domain::email::mailbox(conn, queue_id)?.is_some()
                && crate::domain::email::outgoing::can_send(conn, queue_id)?
        }
        c => channel_connected(c),
    })
}

/// Refuses, with a clear message, sending to a customer through a queue
/// whose channel is not connected. Called before any reply, file or
/// outbound start is stored; internal notes do not need it.
pub fn ensure_queue_connected(conn: &Connection, queue_id: i64) -> AppResult<()> {
    if queue_channel_connected(conn, queue_id)? {
        Ok(())
    } else {
        Err(AppError::Conflict("conv.channel_not_connected"))
    }
}
