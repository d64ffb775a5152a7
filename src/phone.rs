//! Phone numbers: normalized to E.164 (Brazil as the default region) with the
//! `phonenumber` crate, and the reversed-digits key that makes "ends with
//! these digits" an index range.

use phonenumber::country::Id;
use rusqlite::{Connection, params};

/// Region assumed for numbers typed without a country code.
pub const DEFAULT_REGION: Id = Id::BR;

/// The E.164 form (`+5511987654321`) of a valid number, else `None`.
pub fn normalize(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 40 {
        return None;
    }
    let n = phonenumber::parse(Some(DEFAULT_REGION), raw).ok()?;
    n.is_valid().then(|| n.format().mode(phonenumber::Mode::E164).to_string())
}

/// Digits of `s`, in order.
pub fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The search key of a stored phone: its digits reversed.
pub fn rev_key(phone: &str) -> String {
    digits(phone).chars().rev().collect()
}

/// Normalizes the phones stored before they were normalized on write, and
/// fills their search keys (run once, by the upgrade that added the keys).
pub fn backfill(conn: &Connection) -> rusqlite::Result<usize> {
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT id, phone FROM contacts WHERE phone <> '' AND phone_rev = ''")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let tx = conn.unchecked_transaction()?;
    {
        let mut up = tx.prepare("UPDATE contacts SET phone = ?1, phone_rev = ?2 WHERE id = ?3")?;
        for (id, phone) in &rows {
            let p = normalize(phone).unwrap_or_else(|| phone.clone());
            up.execute(params![p, rev_key(&p), id])?;
        }
    }
    tx.commit()?;
    Ok(rows.len())
}
