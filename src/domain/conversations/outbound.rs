//! Conversations started from our side ("Iniciar conversa").

use rusqlite::{OptionalExtension, params};

use super::*;
use crate::app::AppState;
use crate::domain::users::User;
use crate::error::{AppError, AppResult};
use crate::events::Change;

/// What a WhatsApp start carries besides the text: the template (needed
/// when the contact's window is closed) and whether the agent records the
/// contact's opt-in now.
#[derive(Clone, Debug, Default)]
pub struct WaStart {
    /// The template and its values.
    pub template: Option<TemplateChoice>,
    /// The agent confirms the contact's opt-in.
    pub optin: bool,
}

/// Starts a conversation from our side ("Iniciar conversa") with a contact in
/// one of `user`'s queues: it opens assigned to `user`, with `text` as the
/// first message when given (on WhatsApp: free text while the contact's
/// window is open, else the template of `wa`; by e-mail: with the copies
/// and the HTML template of `mail`, the template's subject naming the
/// conversation). Needs the "open new conversations" permission.
pub async fn start_outbound(
    state: &AppState,
    user: &User,
    contact: crate::domain::contacts::Target,
    queue_id: i64,
    text: Option<String>,
    wa: WaStart,
    mail: crate::domain::email::outgoing::Extras,
) -> AppResult<i64> {
    if !user.can(crate::domain::users::Permission::OpenConversations) {
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
        ensure_queue_connected(conn, queue_id)?;
        let channel: String =
            conn.prepare_cached("SELECT channel FROM queues WHERE id = ?1")?.query_row([queue_id], |r| r.get(0))?;
        if channel != "email" && !mail.is_plain() {
            return Err(AppError::BadRequest("mail.extras_email_only"));
        }
        let contact = crate::domain::contacts::resolve_target(conn, &user, &contact, now)?;
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
        let subject: String = match &wa.template {
            Some(_) if channel == "whatsapp" => String::new(),
            _ => text.as_deref().unwrap_or("").chars().take(80).collect(),
        };
        // On web chat, the browser that last chatted as this contact is the
        // one that will read it (the widget shows a visitor only their own
        // conversations).
        conn.prepare_cached(
            "INSERT INTO conversations (queue_id, contact_id, channel, subject, status, agent_id, queued_at, created_at,
               last_activity_at, started_by, visitor_hash)
             VALUES (?1, ?2, ?3, ?4, 'assigned', ?5, ?6, ?6, ?6, ?5,
               CASE WHEN ?3 = 'webchat' THEN (SELECT visitor_hash FROM conversations WHERE contact_id = ?2
                 AND visitor_hash IS NOT NULL ORDER BY id DESC LIMIT 1) END)",
        )?
        .execute(params![queue_id, contact, channel, subject, user.id, now])?;
        let id = conn.last_insert_rowid();
        conn.prepare_cached(
            "INSERT INTO agent_presence (user_id, status, since, last_assigned_at) VALUES (?1, 'not_ready', ?2, ?2)
             ON CONFLICT(user_id) DO UPDATE SET last_assigned_at = ?2",
        )?
        .execute(params![user.id, now])?;
        event(conn, id, "ev.started_out", Some(&user), now)?;
        if channel == "whatsapp" {
            start_whatsapp(conn, &user, id, queue_id, contact, text.as_deref(), wa.template.as_ref(), wa.optin, now)?;
        } else if let Some(t) = &text {
            let mid = insert_message(conn, id, "out", Some(user.id), &user.name, t, now)?;
            if channel == "email" {
                crate::domain::email::outgoing::enqueue_reply(conn, id, queue_id, mid, t, &mail, now)?;
            }
            conn.prepare_cached("UPDATE conversations SET agent_read_id = ?1 WHERE id = ?2")?.execute([mid, id])?;
        }
        Ok((id, vec![Change::queue(queue_id, id), Change::agent(user.id, id)]))
    })
    .await
}
