//! What an agent does on WhatsApp beyond text: send an approved template
//! (the only thing Meta accepts once the 24-hour window is closed, and only
//! to a contact who gave their opt-in) and set a contact's opt-in.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::*;
use crate::app::AppState;
use crate::domain::users::User;
use crate::domain::whatsapp::{optin, templates};
use crate::domain::{outbox, whatsapp};
use crate::error::{AppError, AppResult};
use crate::events::Change;

/// A template and the values an agent typed for its parameters (input name
/// → value).
#[derive(Clone, Debug, Default)]
pub struct TemplateChoice {
    /// The template's id.
    pub template_id: i64,
    /// `h_1`, `p_1`, `p_nome`… → value.
    pub values: BTreeMap<String, String>,
}

/// Checks the rules of a template to a contact and queues it as an agent's
/// message of conversation `conv` (the message shows the rendered text).
/// Part of the caller's transaction.
fn queue_template(
    conn: &Connection,
    user: &User,
    conv: i64,
    queue_id: i64,
    contact_id: i64,
    choice: &TemplateChoice,
    now: i64,
) -> AppResult<i64> {
    // Another queue's template or a made-up id: a clear refusal, not a 404
    // (the conversation itself was found).
    let t = match templates::get(conn, queue_id, choice.template_id) {
        Err(AppError::NotFound) => return Err(AppError::BadRequest("wa.tpl.unknown")),
        other => other?,
    };
    let vals = t.check_values(&choice.values)?;
    match optin::current(conn, contact_id)? {
        Some(o) if !o.on => return Err(AppError::Conflict("wa.opted_out")),
        Some(_) => {}
        None if whatsapp::window_open(conn, conv, now)? => {}
        None => return Err(AppError::Conflict("wa.optin_needed")),
    }
    let to = outbox::recipient(conn, conv)?;
    let shown: BTreeMap<String, String> = vals.iter().map(|(p, v)| (p.input(), v.clone())).collect();
    let text = t.render(&shown);
    let mid = insert_message(conn, conv, "out", Some(user.id), &user.name, &text, now)?;
    outbox::enqueue_whatsapp(conn, queue_id, mid, &to, now, |id| t.payload(&to, &vals, id))?;
    if templates::media_kind(&t.header_kind).is_some() {
        // The header's file travels as this message's own attachment, which
        // the outbox uploads right before sending.
        let file = templates::header_upload(conn, t.id)?;
        let aid = crate::domain::attachments::store(conn, conv, mid, &file, now)?;
        outbox::attach(conn, mid, aid)?;
    }
    conn.prepare_cached("UPDATE conversations SET agent_read_id = ?1 WHERE id = ?2")?.execute([mid, conv])?;
    Ok(mid)
}

/// Sends an approved template in a WhatsApp conversation the agent holds:
/// every parameter filled, the contact opted in (or writing to us within the
/// window) and not opted out. Returns the message id.
pub async fn send_template(state: &AppState, user: &User, id: i64, choice: TemplateChoice) -> AppResult<i64> {
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = visible(conn, &user, id)?;
        if c.status != "assigned" || c.agent_id != Some(user.id) {
            return Err(AppError::Conflict("conv.not_yours"));
        }
        if c.channel != "whatsapp" {
            return Err(AppError::BadRequest("wa.tpl.not_whatsapp"));
        }
        ensure_queue_connected(conn, c.queue_id)?;
        let mid = queue_template(conn, &user, id, c.queue_id, c.contact_id, &choice, now)?;
        Ok((mid, vec![Change::message(c.queue_id, id, Some(user.id))]))
    })
    .await
}

/// Sets the WhatsApp opt-in of the contact of a conversation the viewer may
/// see (recorded with who and when; a line on the contact's timeline).
pub async fn set_optin(state: &AppState, user: &User, id: i64, on: bool) -> AppResult<()> {
    let user = user.clone();
    apply(state, move |conn, now| {
        let c = visible(conn, &user, id)?;
        if c.channel != "whatsapp" {
            return Err(AppError::BadRequest("wa.tpl.not_whatsapp"));
        }
        let changed = optin::record(conn, c.contact_id, on, Some(user.id), "", now)?;
        if changed {
            event(conn, id, if on { "ev.wa_opted_in" } else { "ev.wa_opted_out_by_agent" }, Some(&user), now)?;
        }
        Ok(((), if changed { vec![Change::message(c.queue_id, id, c.agent_id)] } else { vec![] }))
    })
    .await
}

/// The WhatsApp id to write to a contact from a number: the one they wrote
/// from before, else their phone's digits (E.164 without the +).
fn wa_id_of(conn: &Connection, contact_id: i64) -> AppResult<String> {
    if let Some(w) = conn
        .prepare_cached("SELECT wa_id FROM whatsapp_identities WHERE contact_id = ?1 ORDER BY created_at DESC LIMIT 1")?
        .query_row([contact_id], |r| r.get::<_, String>(0))
        .optional()?
    {
        return Ok(w);
    }
    let phone: String =
        conn.prepare_cached("SELECT phone FROM contacts WHERE id = ?1")?.query_row([contact_id], |r| r.get(0))?;
    let d = crate::phone::digits(&phone);
    if d.len() < 8 {
        return Err(AppError::BadRequest("wa.start_needs_phone"));
    }
    Ok(d)
}

/// When the contact's window on this number is open (they wrote within 24 h
/// to a conversation of the queue), until when.
fn open_window(conn: &Connection, contact_id: i64, queue_id: i64, now: i64) -> AppResult<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT max(window_until) FROM conversations WHERE contact_id = ?1 AND queue_id = ?2 AND window_until > ?3",
        )?
        .query_row(params![contact_id, queue_id, now], |r| r.get::<_, Option<i64>>(0))?)
}

/// The WhatsApp part of starting a conversation (Iniciar conversa) in the
/// caller's transaction, once the conversation row exists: with the window
/// open, free text; closed, an approved template to an opted-in contact
/// (`optin_now`: the agent records the contact's opt-in on the way).
#[allow(clippy::too_many_arguments)]
pub(super) fn start_whatsapp(
    conn: &Connection,
    user: &User,
    conv: i64,
    queue_id: i64,
    contact_id: i64,
    text: Option<&str>,
    template: Option<&TemplateChoice>,
    optin_now: bool,
    now: i64,
) -> AppResult<()> {
    let to = wa_id_of(conn, contact_id)?;
    let window = open_window(conn, contact_id, queue_id, now)?;
    conn.prepare_cached("UPDATE conversations SET wa_id = ?2, window_until = ?3 WHERE id = ?1")?
        .execute(params![conv, to, window])?;
    if optin_now && optin::record(conn, contact_id, true, Some(user.id), "", now)? {
        event(conn, conv, "ev.wa_opted_in", Some(user), now)?;
    }
    match (template, text) {
        (Some(choice), _) => {
            queue_template(conn, user, conv, queue_id, contact_id, choice, now)?;
        }
        (None, Some(t)) if window.is_some() => {
            let mid = insert_message(conn, conv, "out", Some(user.id), &user.name, t, now)?;
            outbox::enqueue_whatsapp_text(conn, conv, queue_id, mid, t, now)?;
            conn.prepare_cached("UPDATE conversations SET agent_read_id = ?1 WHERE id = ?2")?.execute([mid, conv])?;
        }
        (None, _) if window.is_some() => return Err(AppError::BadRequest("wa.start_needs_text")),
        (None, _) => return Err(AppError::Conflict("wa.start_needs_template")),
    }
    Ok(())
}
