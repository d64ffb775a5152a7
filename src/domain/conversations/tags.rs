//! Conversation tags and the agents who replied.

use rusqlite::Connection;

use super::*;
use crate::app::AppState;
use crate::domain::users::User;
use crate::error::{AppError, AppResult};
use crate::events::Change;

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
