//! Pesquisar: message text across the conversations a user may open (or
//! inside one), with SQLite FTS5 — accent-insensitive, newest first,
//! highlighted snippets — plus the contacts whose name, phone or e-mail match.
//!
//! Nothing is ranked: matches are walked newest first straight from the
//! index, a bounded window at a time, so a very common word costs the same as
//! a rare one; a window with no visible match yet offers "search older".

use rusqlite::{Connection, params};

use super::contacts::{self, Contact};
use super::users::User;
use crate::error::{AppError, AppResult};

/// Hits per page.
pub const PAGE_SIZE: usize = 25;
/// Index entries examined per page at most.
pub const WINDOW: i64 = 2000;

/// One matching message.
#[derive(Clone, Debug)]
pub struct Hit {
    /// The message.
    pub message_id: i64,
    /// Its conversation.
    pub conversation_id: i64,
    /// in / out / note.
    pub kind: String,
    /// Sender (a customer: the contact's current name).
    pub author_name: String,
    /// When.
    pub created_at: i64,
    /// The conversation's status.
    pub status: String,
    /// The conversation's queue.
    pub queue_name: String,
    /// The contact's label.
    pub contact_name: String,
    /// The text around the match: (text, highlighted).
    pub snippet: Vec<(String, bool)>,
}

/// A page of results.
#[derive(Debug, Default)]
pub struct Results {
    /// Messages, newest first.
    pub hits: Vec<Hit>,
    /// Contacts matching by name, phone or e-mail (first page only).
    pub contacts: Vec<Contact>,
    /// Where the next page starts (a message id), if there may be more.
    pub next: Option<i64>,
}

/// The FTS5 expression for a search box: every word must appear (whole
/// words, quoted, so no FTS syntax gets through). None when there is no word.
pub fn expression(q: &str) -> AppResult<Option<String>> {
    if q.chars().count() > 200 {
        return Err(AppError::BadRequest("search.too_long"));
    }
    let words: Vec<String> =
        q.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).take(8).map(|w| format!("\"{w}\"")).collect();
    Ok(if words.is_empty() { None } else { Some(words.join(" ")) })
}

/// Splits an FTS5 snippet marked with \x02 … \x03 into (text, highlighted).
const HIT_COLS: &str = "m.id, m.conversation_id, m.kind, m.author_name, m.created_at, c.status, q.name,
    k.id, k.name, k.email, k.phone";
/// The conversations `user` may open, with the admin flag and the user id
/// bound as parameters `?a` and `?u`.
fn visible(a: u8, u: u8) -> String {
    format!("(?{a} OR c.agent_id = ?{u} OR q.team_id IN (SELECT team_id FROM user_teams WHERE user_id = ?{u}))")
}

fn hit_from_row(r: &rusqlite::Row) -> rusqlite::Result<Hit> {
    let kid: i64 = r.get(7)?;
    let (name, email, phone): (String, String, String) = (r.get(8)?, r.get(9)?, r.get(10)?);
    let contact_name = contacts::label(kid, &name, &email, &phone);
    let kind: String = r.get(2)?;
    // A customer's message shows the contact's current name, like the desk.
    let author_name = if kind == "in" { contact_name.clone() } else { r.get(3)? };
    Ok(Hit {
        message_id: r.get(0)?,
        conversation_id: r.get(1)?,
        kind,
        author_name,
        created_at: r.get(4)?,
        status: r.get(5)?,
        queue_name: r.get(6)?,
        contact_name,
        snippet: Vec::new(),
    })
}

type Page = (Vec<Hit>, Option<i64>);

/// Across conversations: the index is walked newest first, one window of
/// [`WINDOW`] entries per page, joined to what `user` may open.
fn everywhere(conn: &Connection, user: &User, expr: &str, before: i64) -> AppResult<Page> {
    let mut stmt = conn.prepare_cached(&format!(
        "WITH cand AS MATERIALIZED (
           SELECT rowid AS id FROM messages_fts WHERE messages_fts MATCH ?1 AND rowid < ?2
           ORDER BY rowid DESC LIMIT {WINDOW})
         SELECT {HIT_COLS}, (SELECT min(id) FROM cand), (SELECT count(*) FROM cand)
         FROM cand JOIN messages m ON m.id = cand.id JOIN conversations c ON c.id = m.conversation_id
         JOIN queues q ON q.id = c.queue_id JOIN contacts k ON k.id = c.contact_id
         WHERE {}
         ORDER BY m.id DESC LIMIT {}",
        visible(3, 4),
        PAGE_SIZE + 1
    ))?;
    let mut window: Option<(Option<i64>, i64)> = None;
    let mut hits: Vec<Hit> = stmt
        .query_map(params![expr, before, user.is_admin(), user.id], |r| {
            Ok((hit_from_row(r)?, (r.get::<_, Option<i64>>(11)?, r.get::<_, i64>(12)?)))
        })?
        .map(|r| {
            r.map(|(h, w)| {
                window = Some(w);
                h
            })
        })
        .collect::<Result<_, _>>()?;
    let (oldest, scanned) = match window {
        Some(w) => w,
        None => conn
            .prepare_cached(&format!(
                "SELECT min(id), count(*) FROM (SELECT rowid AS id FROM messages_fts WHERE messages_fts MATCH ?1
                 AND rowid < ?2 ORDER BY rowid DESC LIMIT {WINDOW})"
            ))?
            .query_row(params![expr, before], |r| Ok((r.get(0)?, r.get(1)?)))?,
    };
    let next = if hits.len() > PAGE_SIZE {
        hits.truncate(PAGE_SIZE);
        hits.last().map(|h| h.message_id)
    } else if scanned >= WINDOW {
        // Fewer visible matches than a page in this window: continue below it.
        oldest
    } else {
        None
    };
    Ok((hits, next))
}

/// Inside one conversation: its messages newest first, each checked against
/// the index (cost bounded by the conversation's length, not the word's).
fn in_conversation(conn: &Connection, user: &User, expr: &str, conversation: i64, before: i64) -> AppResult<Page> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {HIT_COLS} FROM messages m JOIN conversations c ON c.id = m.conversation_id
         JOIN queues q ON q.id = c.queue_id JOIN contacts k ON k.id = c.contact_id
         WHERE m.conversation_id = ?1 AND m.id < ?2 AND m.kind <> 'system' AND {}
           AND EXISTS (SELECT 1 FROM messages_fts WHERE messages_fts MATCH ?3 AND rowid = m.id)
         ORDER BY m.id DESC LIMIT {}",
        visible(4, 5),
        PAGE_SIZE + 1
    ))?;
    let mut hits: Vec<Hit> = stmt
        .query_map(params![conversation, before, expr, user.is_admin(), user.id], hit_from_row)?
        .collect::<Result<_, _>>()?;
    let next = if hits.len() > PAGE_SIZE {
        hits.truncate(PAGE_SIZE);
        hits.last().map(|h| h.message_id)
    } else {
        None
    };
    Ok((hits, next))
}

fn segments(s: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(a) = rest.find('\u{2}') {
        if a > 0 {
            out.push((rest[..a].to_string(), false));
        }
        let after = &rest[a + 1..];
        let b = after.find('\u{3}').unwrap_or(after.len());
        out.push((after[..b].to_string(), true));
        rest = after.get(b + 1..).unwrap_or("");
    }
    if !rest.is_empty() {
        out.push((rest.to_string(), false));
    }
    out
}

/// Searches messages `user` may see for `q` — in one conversation, or in all —
/// older than `before`; on the first page also the matching contacts.
pub fn run(
    conn: &Connection,
    user: &User,
    q: &str,
    conversation: Option<i64>,
    before: Option<i64>,
) -> AppResult<Results> {
    let Some(expr) = expression(q)? else { return Ok(Results::default()) };
    let before = before.unwrap_or(i64::MAX);
    let (mut hits, next) = match conversation {
        Some(c) => in_conversation(conn, user, &expr, c, before)?,
        None => everywhere(conn, user, &expr, before)?,
    };
    let mut snip = conn.prepare_cached(
        "SELECT snippet(messages_fts, 0, char(2), char(3), '…', 16) FROM messages_fts
         WHERE messages_fts MATCH ?1 AND rowid = ?2",
    )?;
    for h in &mut hits {
        let s: String = snip.query_row(params![expr, h.message_id], |r| r.get(0))?;
        h.snippet = segments(&s);
    }
    let contacts = if before == i64::MAX && conversation.is_none() {
        match contacts::classify(q) {
            Ok(cq) if cq != contacts::Query::All => {
                let (mut v, _) = contacts::search(conn, user, &cq, None)?;
                v.truncate(10);
                v
            }
            _ => Vec::new(),
        }
    } else {
        Vec::new()
    };
    Ok(Results { hits, contacts, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_and_snippets() {
        assert_eq!(expression("  ").unwrap(), None);
        assert_eq!(expression("cobrança \"x\" OR y*").unwrap().as_deref(), Some("\"cobrança\" \"x\" \"OR\" \"y\""));
        assert_eq!(segments("a \u{2}b\u{3} c"), vec![("a ".into(), false), ("b".into(), true), (" c".into(), false)]);
        assert_eq!(segments("\u{2}só"), vec![("só".into(), true)]);
    }
}
