//! Opt-in: whether a contact agreed to receive messages we start on
//! WhatsApp. Each change is a row (state, source, who, when), so the latest
//! row is the state and the rows are the contact's timeline lines. An agent
//! sets it from the conversation; a customer who writes one of the number's
//! opt-out words ("SAIR", "PARAR") is opted out.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{AppError, AppResult};

/// The words a new number opts customers out with.
pub const DEFAULT_WORDS: &str = "SAIR, PARAR";
/// The most opt-out words a number keeps.
const MAX_WORDS: usize = 20;

/// A contact's opt-in as last set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptIn {
    /// In (true) or out.
    pub on: bool,
    /// `agent` or `customer`.
    pub source: String,
    /// Who set it (agents), '' for the customer.
    pub by: String,
    /// The word the customer wrote, when they opted out.
    pub word: String,
    /// When (unix).
    pub at: i64,
}

/// A contact's opt-in (None: never set, which counts as not given).
pub fn current(conn: &Connection, contact_id: i64) -> AppResult<Option<OptIn>> {
    Ok(conn
        .prepare_cached(
            "SELECT o.state = 'in', o.source, coalesce(u.name, ''), o.detail, o.created_at FROM whatsapp_optins o
             LEFT JOIN users u ON u.id = o.user_id WHERE o.contact_id = ?1 ORDER BY o.id DESC LIMIT 1",
        )?
        .query_row([contact_id], |r| {
            Ok(OptIn { on: r.get(0)?, source: r.get(1)?, by: r.get(2)?, word: r.get(3)?, at: r.get(4)? })
        })
        .optional()?)
}

/// Whether the contact gave their opt-in and did not withdraw it.
pub fn given(conn: &Connection, contact_id: i64) -> AppResult<bool> {
    Ok(current(conn, contact_id)?.is_some_and(|o| o.on))
}

/// Records an opt-in change unless it is already the state; returns whether
/// it changed. Part of the caller's transaction.
pub fn record(
    conn: &Connection,
    contact_id: i64,
    on: bool,
    user_id: Option<i64>,
    word: &str,
    now: i64,
) -> AppResult<bool> {
    if current(conn, contact_id)?.is_some_and(|o| o.on == on) {
        return Ok(false);
    }
    conn.prepare_cached(
        "INSERT INTO whatsapp_optins (contact_id, state, source, user_id, detail, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        contact_id,
        if on { "in" } else { "out" },
        if user_id.is_some() { "agent" } else { "customer" },
        user_id,
        word,
        now
    ])?;
    Ok(true)
}

/// Every opt-in change of a contact (its timeline lines), newest first.
pub fn history(conn: &Connection, contact_id: i64, limit: i64) -> AppResult<Vec<OptIn>> {
    let mut st = conn.prepare_cached(
        "SELECT o.state = 'in', o.source, coalesce(u.name, ''), o.detail, o.created_at FROM whatsapp_optins o
         LEFT JOIN users u ON u.id = o.user_id WHERE o.contact_id = ?1 ORDER BY o.id DESC LIMIT ?2",
    )?;
    let v = st
        .query_map(params![contact_id, limit], |r| {
            Ok(OptIn { on: r.get(0)?, source: r.get(1)?, by: r.get(2)?, word: r.get(3)?, at: r.get(4)? })
        })?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_ascii_punctuation() && !matches!(c, '¡' | '¿'))
        .flat_map(char::to_uppercase)
        .map(|c| match c {
            'Á' | 'À' | 'Â' | 'Ã' => 'A',
            'É' | 'Ê' => 'E',
            'Í' => 'I',
            'Ó' | 'Ô' | 'Õ' => 'O',
            'Ú' | 'Ü' => 'U',
            'Ç' => 'C',
            c => c,
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads an admin's list of opt-out words ("SAIR, PARAR"): comma or line
/// separated, each at most 40 characters. Refused when it has none or too
/// many.
pub fn parse_words(s: &str) -> Result<String, &'static str> {
    let words: Vec<String> = s
        .split([',', '\n', ';'])
        .map(|w| w.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Err("wa.val.optout_words");
    }
    if words.len() > MAX_WORDS || words.iter().any(|w| w.chars().count() > 40) {
        return Err("wa.val.optout_words_long");
    }
    Ok(words.join(", "))
}

/// The opt-out word a customer's message is, if it is one: the whole message
/// equal to a word, whatever its case, accents and punctuation ("sair!",
/// "Parar." count; "não quero sair agora" does not).
pub fn opt_out_word(words: &str, text: &str) -> Option<String> {
    let said = fold(text);
    if said.is_empty() || said.chars().count() > 60 {
        return None;
    }
    words.split(',').map(fold).find(|w| !w.is_empty() && *w == said)
}

/// A number's opt-out words.
pub fn words(conn: &Connection, queue_id: i64) -> AppResult<String> {
    Ok(conn
        .prepare_cached("SELECT optout_words FROM whatsapp_numbers WHERE queue_id = ?1")?
        .query_row([queue_id], |r| r.get(0))
        .optional()?
        .unwrap_or_else(|| DEFAULT_WORDS.to_string()))
}

/// Saves a number's opt-out words (admins).
pub fn save_words(conn: &Connection, queue_id: i64, raw: &str) -> AppResult<String> {
    let w = parse_words(raw).map_err(AppError::BadRequest)?;
    conn.prepare_cached("UPDATE whatsapp_numbers SET optout_words = ?2 WHERE queue_id = ?1")?
        .execute(params![queue_id, w])?;
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_message_must_be_an_opt_out_word() {
        let w = DEFAULT_WORDS;
        assert_eq!(opt_out_word(w, "sair").as_deref(), Some("SAIR"));
        assert_eq!(opt_out_word(w, "  Parar! ").as_deref(), Some("PARAR"));
        assert_eq!(opt_out_word("Não quero, cancelar", "nao quero").as_deref(), Some("NAO QUERO"));
        assert_eq!(opt_out_word(w, "não quero sair agora"), None);
        assert_eq!(opt_out_word(w, ""), None);
    }

    #[test]
    fn word_lists_are_tidied_and_bounded() {
        assert_eq!(parse_words(" sair,\nPARAR ;  não  quero ").as_deref(), Ok("sair, PARAR, não quero"));
        assert_eq!(parse_words(" , "), Err("wa.val.optout_words"));
        assert_eq!(parse_words(&"x,".repeat(30)), Err("wa.val.optout_words_long"));
    }
}
