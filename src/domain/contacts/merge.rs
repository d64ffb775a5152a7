//! Merging two contacts, and the contact behind a conversation started from
//! our side.

use rusqlite::{Connection, OptionalExtension, params};

use super::*;
use crate::app::AppState;
use crate::domain::users::User;
use crate::domain::{Actor, audit};
use crate::error::{AppError, AppResult};
use crate::phone;

// ---------------------------------------------------------------- merges

/// Merges contact `other` into `keep`: conversations, visitors (web chat
/// identities), tasks, timeline, extra values and tags move over (`keep`'s
/// own values win), blanks of `keep` are filled from `other`, and `other`
/// stays only as a pointer to `keep`. Audited.
pub async fn merge(state: &AppState, user: &User, keep: i64, other: i64, actor: Actor) -> AppResult<()> {
    if keep == other {
        return Err(AppError::BadRequest("contact.merge_self"));
    }
    let user = user.clone();
    let now = state.now();
    state
        .db
        .write(move |conn| {
            let k = visible(conn, &user, keep)?;
            let o = visible(conn, &user, other)?;
            if k.merged_into.is_some() || o.merged_into.is_some() {
                return Err(AppError::Conflict("contact.merged"));
            }
            for sql in [
                "UPDATE conversations SET contact_id = ?1 WHERE contact_id = ?2",
                "UPDATE visitors SET contact_id = ?1 WHERE contact_id = ?2",
                "UPDATE tasks SET contact_id = ?1 WHERE contact_id = ?2",
                "UPDATE contact_events SET contact_id = ?1 WHERE contact_id = ?2",
                "INSERT OR IGNORE INTO contact_values (contact_id, field_id, value)
                   SELECT ?1, field_id, value FROM contact_values WHERE contact_id = ?2",
                "DELETE FROM contact_values WHERE contact_id = ?2",
                "INSERT OR IGNORE INTO contact_tags (contact_id, tag_id) SELECT ?1, tag_id FROM contact_tags WHERE contact_id = ?2",
                "DELETE FROM contact_tags WHERE contact_id = ?2",
            ] {
                conn.prepare_cached(sql)?.execute([keep, other])?;
            }
            let (name, phone, email) = (
                if k.name.is_empty() { o.name.clone() } else { k.name.clone() },
                if k.phone.is_empty() { o.phone.clone() } else { k.phone.clone() },
                if k.email.is_empty() { o.email.clone() } else { k.email.clone() },
            );
            conn.prepare_cached(
                "UPDATE contacts SET merged_into = ?1, updated_at = ?2, phone_rev = '' WHERE id = ?3",
            )?
            .execute(params![keep, now, other])?;
            conn.prepare_cached(
                "UPDATE contacts SET name = ?1, phone = ?2, phone_rev = ?3, email = ?4, updated_at = ?5 WHERE id = ?6",
            )?
            .execute(params![name, phone, phone::rev_key(&phone), email, now, keep])?;
            let text = format!("{} (#{other})", o.label());
            conn.prepare_cached(
                "INSERT INTO contact_events (contact_id, kind, author_id, body, created_at) VALUES (?1, 'merged', ?2, ?3, ?4)",
            )?
            .execute(params![keep, user.id, text, now])?;
            audit::record(conn, &actor, "contact.merge", &format!("contact:{keep}"), &format!("#{other} -> #{keep}"))?;
            Ok(())
        })
        .await
}

// ---------------------------------------------------------------- outbound

/// Who a conversation started from our side is with.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A contact from the book.
    Contact(i64),
    /// A phone (E.164) and/or e-mail typed in, with an optional name.
    Typed {
        /// Name ('' if not given).
        name: String,
        /// Phone in E.164 ('' if not given).
        phone: String,
        /// E-mail in lower case ('' if not given).
        email: String,
    },
}

/// Reads a typed target: at least a valid phone or e-mail.
pub fn parse_target(name: &str, phone: &str, email: &str) -> Result<Target, &'static str> {
    let (name, phone, email) = (name.trim(), phone.trim(), email.trim().to_lowercase());
    if phone.is_empty() && email.is_empty() {
        return Err("outbound.need_contact");
    }
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err("val.too_long");
    }
    let phone = if phone.is_empty() { String::new() } else { phone::normalize(phone).ok_or("contact.bad_phone")? };
    if !email.is_empty() && !valid_email(&email) {
        return Err("contact.bad_email");
    }
    Ok(Target::Typed { name: name.to_string(), phone, email })
}

/// The contact id behind a target: a contact `user` may see, or the contact
/// with that phone or e-mail, or a new one added by `user`.
///
/// A typed phone or e-mail that belongs to a contact `user` may not see still
/// reuses that contact (one customer, one history), and says nothing about
/// it here. Once the new conversation is theirs, `user` sees the contact as
/// everyone serving one of its conversations does: who the customer is
/// (name, phone, e-mail, extra fields, tags), and of its history, timeline and
/// tasks only what they may open (see `history` and `timeline`); the other teams'
/// conversations, tasks and annotations stay hidden.
pub fn resolve_target(conn: &Connection, user: &User, t: &Target, now: i64) -> AppResult<i64> {
    match t {
        Target::Contact(id) => {
            let c = visible(conn, user, *id)?;
            Ok(c.merged_into.unwrap_or(c.id))
        }
        Target::Typed { name, phone, email } => {
            let found: Option<i64> = conn
                .prepare_cached(
                    "SELECT id FROM contacts WHERE merged_into IS NULL
                       AND ((?1 <> '' AND phone = ?1) OR (?2 <> '' AND email = ?2)) ORDER BY id LIMIT 1",
                )?
                .query_row(params![phone, email], |r| r.get(0))
                .optional()?;
            if let Some(id) = found {
                // A name typed for a contact that had none fills the blank; a
                // known name is never overwritten from this form.
                conn.prepare_cached(
                    "UPDATE contacts SET name = ?1, updated_at = ?2 WHERE id = ?3 AND name = '' AND ?1 <> ''",
                )?
                .execute(params![name, now, id])?;
                return Ok(id);
            }
            conn.prepare_cached(
                "INSERT INTO contacts (name, phone, phone_rev, email, created_at, updated_at, created_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
            )?
            .execute(params![name, phone, phone::rev_key(phone), email, now, user.id])?;
            Ok(conn.last_insert_rowid())
        }
    }
}
