//! The contact book (contatos): search by phone first (E.164, then "ends
//! with these digits"), by e-mail and by name words; add and edit with the
//! admin-defined extra fields and contact tags; who may see a contact; the
//! contact's timeline (linha do tempo) with annotations ([`page`]); merging
//! two contacts and the contact behind an outbound conversation ([`merge`]).

use rusqlite::{Connection, OptionalExtension, params};

use super::users::{Permission, User};
use super::validate::{self, FormErrors, Input};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::phone;

/// Rows per page of the contact list.
pub const PAGE_SIZE: i64 = 25;
/// Longest name, e-mail, extra text value and annotation.
pub const MAX_NAME: usize = 120;
pub const MAX_EMAIL: usize = 254;
pub const MAX_VALUE: usize = 500;
pub const MAX_NOTE: usize = 4000;
/// Fewest digits of a phone search.
pub const MIN_PHONE_DIGITS: usize = 4;
/// Most timeline entries shown.
pub const TIMELINE_LIMIT: i64 = 200;

mod merge;
mod page;

pub use merge::*;
pub use page::*;

/// A contact.
#[derive(Clone, Debug)]
pub struct Contact {
    /// Id.
    pub id: i64,
    /// Name (may be empty for a web chat visitor).
    pub name: String,
    /// Phone, E.164 when valid.
    pub phone: String,
    /// E-mail, lower case.
    pub email: String,
    /// Created (unix).
    pub created_at: i64,
    /// Who added it (None: came in by a channel).
    pub created_by: Option<i64>,
    /// The contact it was merged into, if it was.
    pub merged_into: Option<i64>,
}

/// What a contact with no name, e-mail or phone is called.
const UNNAMED: &str = "Visitante #";

/// What to call a contact: name, else e-mail, else phone, else "Visitante #id".
pub fn label(id: i64, name: &str, email: &str, phone: &str) -> String {
    [name, email, phone]
        .into_iter()
        .find(|s| !s.is_empty())
        .map(String::from)
        .unwrap_or_else(|| format!("{UNNAMED}{id}"))
}

/// Whether `s` is only the stand-in [`label`] gives a contact nobody knows
/// anything about ("Visitante #12"), not a name.
pub fn is_unnamed_label(s: &str) -> bool {
    s.strip_prefix(UNNAMED).is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

impl Contact {
    /// See [`label`].
    pub fn label(&self) -> String {
        label(self.id, &self.name, &self.email, &self.phone)
    }
}

const COLS: &str = "k.id, k.name, k.phone, k.email, k.created_at, k.created_by, k.merged_into";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Contact> {
    Ok(Contact {
        id: r.get(0)?,
        name: r.get(1)?,
        phone: r.get(2)?,
        email: r.get(3)?,
        created_at: r.get(4)?,
        created_by: r.get(5)?,
        merged_into: r.get(6)?,
    })
}

/// An admin-defined extra field.
#[derive(Clone, Debug)]
pub struct Field {
    /// Id.
    pub id: i64,
    /// Label.
    pub name: String,
    /// `text`, `number`, `date` or `choice`.
    pub kind: String,
    /// The options of a `choice`.
    pub options: Vec<String>,
    /// Must be filled in on the contact form.
    pub required: bool,
}

/// The active extra fields, in creation order.
pub fn fields(conn: &Connection) -> AppResult<Vec<Field>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, name, kind, options, required FROM contact_fields WHERE active = 1 ORDER BY id")?;
    let v = stmt
        .query_map([], |r| {
            let options: String = r.get(3)?;
            Ok(Field {
                id: r.get(0)?,
                name: r.get(1)?,
                kind: r.get(2)?,
                options: options.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect(),
                required: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// Active tags of `scope` (`contact` or `conversation`): (id, name).
pub fn tags(conn: &Connection, scope: &str) -> AppResult<Vec<(i64, String)>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, name FROM tags WHERE scope = ?1 AND active = 1 ORDER BY name COLLATE NOCASE")?;
    let v = stmt.query_map([scope], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    Ok(v)
}

// ---------------------------------------------------------------- visibility

/// SQL: whether user `?1` may see contact `k`, for those without "access all
/// contacts": they added it, or one of its conversations is theirs or in a
/// queue of their teams.
const MINE: &str = "(k.created_by = ?1 OR EXISTS (SELECT 1 FROM conversations c WHERE c.contact_id = k.id
    AND (c.agent_id = ?1 OR c.queue_id IN (SELECT q.id FROM queues q JOIN user_teams ut ON ut.team_id = q.team_id
                                           WHERE ut.user_id = ?1))))";

fn scope(user: &User) -> &'static str {
    if user.can(Permission::AllContacts) { "1" } else { MINE }
}

/// Whether `user` may see the (unmerged) contact `id`.
pub fn sees(conn: &Connection, user: &User, id: i64) -> AppResult<bool> {
    let sql = format!("SELECT EXISTS(SELECT 1 FROM contacts k WHERE k.id = ?2 AND {})", scope(user));
    Ok(conn.prepare_cached(&sql)?.query_row(params![user.id, id], |r| r.get(0))?)
}

/// Loads a contact `user` may see (a merged one answers as its survivor's
/// id through [`Contact::merged_into`]); otherwise NotFound.
pub fn visible(conn: &Connection, user: &User, id: i64) -> AppResult<Contact> {
    // A merged contact is seen by whoever sees its survivor (merges chain).
    let mut target = id;
    for _ in 0..16 {
        let merged: Option<Option<i64>> = conn
            .prepare_cached("SELECT merged_into FROM contacts WHERE id = ?1")?
            .query_row([target], |r| r.get(0))
            .optional()?;
        match merged {
            None => return Err(AppError::NotFound),
            Some(Some(next)) => target = next,
            Some(None) => break,
        }
    }
    if !sees(conn, user, target)? {
        return Err(AppError::NotFound);
    }
    let sql = format!("SELECT {COLS} FROM contacts k WHERE k.id = ?1");
    conn.prepare_cached(&sql)?.query_row([id], from_row).optional()?.ok_or(AppError::NotFound)
}

// ---------------------------------------------------------------- search

/// What a search box text asks for.
#[derive(Debug, PartialEq)]
pub enum Query {
    /// Everything (newest first).
    All,
    /// Phones ending with these digits (reversed: an index prefix).
    Phone(String),
    /// E-mails starting with this.
    Email(String),
    /// Names or e-mails with words starting with these (an FTS5 expression).
    Words(String),
}

/// Reads a search box: phone first (only digits and phone punctuation), then
/// e-mail (has "@"), else name words. Too few digits is a clear error.
pub fn classify(q: &str) -> AppResult<Query> {
    let q = q.trim();
    if q.is_empty() {
        return Ok(Query::All);
    }
    if q.chars().count() > 200 {
        return Err(AppError::BadRequest("contact.search_long"));
    }
    let d = phone::digits(q);
    if !d.is_empty() && q.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
        if d.len() < MIN_PHONE_DIGITS {
            return Err(AppError::BadRequest("contact.search_short"));
        }
        let key = phone::normalize(q).map(|e| phone::rev_key(&e)).unwrap_or_else(|| d.chars().rev().collect());
        return Ok(Query::Phone(key));
    }
    if q.contains('@') {
        return Ok(Query::Email(q.to_lowercase()));
    }
    let words: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| format!("\"{}\"*", w.replace('"', "")))
        .collect();
    Ok(if words.is_empty() { Query::All } else { Query::Words(words.join(" ")) })
}

/// A page of contacts `user` may see matching `q`, newest first, after the
/// contact id `after`; and the cursor of the next page.
pub fn search(conn: &Connection, user: &User, q: &Query, after: Option<i64>) -> AppResult<(Vec<Contact>, Option<i64>)> {
    let vis = scope(user);
    let after = after.unwrap_or(i64::MAX);
    let limit = PAGE_SIZE + 1;
    let (sql, arg) = match q {
        Query::All => (
            format!(
                "SELECT {COLS} FROM contacts k WHERE k.id < ?2 AND k.merged_into IS NULL AND {vis}
                 ORDER BY k.id DESC LIMIT {limit}"
            ),
            String::new(),
        ),
        Query::Phone(key) => (
            format!(
                "WITH m AS MATERIALIZED (SELECT id FROM contacts WHERE phone_rev <> '' AND phone_rev >= ?3
                                           AND phone_rev < ?3 || '~')
                 SELECT {COLS} FROM m JOIN contacts k ON k.id = m.id
                 WHERE k.id < ?2 AND k.merged_into IS NULL AND {vis} ORDER BY k.id DESC LIMIT {limit}"
            ),
            key.clone(),
        ),
        Query::Email(prefix) => (
            format!(
                "WITH m AS MATERIALIZED (SELECT id FROM contacts WHERE email <> '' AND email >= ?3
                                           AND email < ?3 || char(1114111))
                 SELECT {COLS} FROM m JOIN contacts k ON k.id = m.id
                 WHERE k.id < ?2 AND k.merged_into IS NULL AND {vis} ORDER BY k.id DESC LIMIT {limit}"
            ),
            prefix.clone(),
        ),
        Query::Words(expr) => (
            format!(
                "SELECT {COLS} FROM contacts_fts f JOIN contacts k ON k.id = f.rowid
                 WHERE contacts_fts MATCH ?3 AND f.rowid < ?2 AND k.merged_into IS NULL AND {vis}
                 ORDER BY f.rowid DESC LIMIT {limit}"
            ),
            expr.clone(),
        ),
    };
    let mut rows: Vec<Contact> = if arg.is_empty() {
        conn.prepare_cached(&sql)?.query_map(params![user.id, after], from_row)?.collect::<Result<_, _>>()?
    } else {
        conn.prepare_cached(&sql)?.query_map(params![user.id, after, arg], from_row)?.collect::<Result<_, _>>()?
    };
    let next = if rows.len() as i64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|c| c.id)
    } else {
        None
    };
    Ok((rows, next))
}

// ---------------------------------------------------------------- form

/// A checked contact form.
#[derive(Clone, Debug, Default)]
pub struct Form {
    /// Name.
    pub name: String,
    /// Phone, E.164.
    pub phone: String,
    /// E-mail, lower case.
    pub email: String,
    /// Extra field values (field id, value), only the filled ones.
    pub values: Vec<(i64, String)>,
    /// Tag ids.
    pub tags: Vec<i64>,
}

/// Form failures: the fixed fields, and the extra fields by id.
#[derive(Clone, Debug, Default)]
pub struct Errors {
    /// Name, phone, e-mail, tags.
    pub base: FormErrors,
    /// Extra fields: (field id, message key).
    pub extra: Vec<(i64, &'static str)>,
}

impl Errors {
    /// Whether nothing failed.
    pub fn is_empty(&self) -> bool {
        self.base.is_empty() && self.extra.is_empty()
    }
    /// The message key for extra field `id`, if it failed.
    pub fn extra(&self, id: i64) -> Option<&'static str> {
        self.extra.iter().find(|(f, _)| *f == id).map(|(_, k)| *k)
    }
    /// The first message key.
    pub fn first(&self) -> &'static str {
        self.base.0.first().map(|(_, k)| *k).or(self.extra.first().map(|(_, k)| *k)).unwrap_or("val.invalid")
    }
}

/// The input name of extra field `id`.
pub fn field_input(id: i64) -> String {
    format!("x{id}")
}

/// Checks one extra field value; returns the stored form.
fn check_value(f: &Field, v: &str) -> Result<String, &'static str> {
    if v.chars().count() > MAX_VALUE {
        return Err("val.too_long");
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err("val.invalid_chars");
    }
    match f.kind.as_str() {
        "number" => {
            let n = v.replace(',', ".");
            match n.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(n),
                _ => Err("contact.bad_number"),
            }
        }
        "date" => v.parse::<jiff::civil::Date>().map(|d| d.to_string()).map_err(|_| "contact.bad_date"),
        "choice" => f.options.iter().find(|o| o.as_str() == v).cloned().ok_or("val.invalid_choice"),
        _ => Ok(v.to_string()),
    }
}

/// Checks a contact form against the active extra fields and contact tags.
pub fn parse(input: &Input, fields: &[Field], tag_ids: &[i64]) -> Result<Form, Errors> {
    let mut errs = Errors::default();
    let name = validate::text(input, "name", false, MAX_NAME, &mut errs.base);
    let raw_phone = input.get("phone");
    let phone = if raw_phone.is_empty() {
        String::new()
    } else {
        phone::normalize(raw_phone).unwrap_or_else(|| {
            errs.base.add("phone", "contact.bad_phone");
            String::new()
        })
    };
    let email = input.get("email").to_lowercase();
    if !email.is_empty() && !valid_email(&email) {
        errs.base.add("email", "contact.bad_email");
    }
    if name.is_empty() && raw_phone.is_empty() && email.is_empty() {
        errs.base.add("name", "contact.need_one");
    }
    let mut values = Vec::new();
    for f in fields {
        let v = input.get(&field_input(f.id));
        if v.is_empty() {
            if f.required {
                errs.extra.push((f.id, "val.required"));
            }
            continue;
        }
        match check_value(f, v) {
            Ok(v) => values.push((f.id, v)),
            Err(k) => errs.extra.push((f.id, k)),
        }
    }
    let mut tags = Vec::new();
    for t in input.all("tag") {
        match t.parse::<i64>() {
            Ok(id) if tag_ids.contains(&id) => {
                if !tags.contains(&id) {
                    tags.push(id)
                }
            }
            _ => {
                errs.base.add("tag", "val.invalid_choice");
                break;
            }
        }
    }
    if errs.is_empty() { Ok(Form { name, phone, email, values, tags }) } else { Err(errs) }
}

/// A plausible e-mail address: one "@", a dot in the domain, no spaces.
pub fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else { return false };
    e.len() <= MAX_EMAIL
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"',;".contains(c))
}

/// Another (unmerged) contact with this phone or e-mail: its message key.
///
/// Phones and e-mails are unique, so refusing the duplicate necessarily tells
/// the agent that *some* contact has this number. That is all it tells: the
/// message never names the contact nor links to it. A contact the agent may
/// see gets "a contact with this phone already exists" (they can find it by
/// searching the number); one they may not see gets a different sentence
/// that says they cannot open it and points to "Iniciar conversa" with the
/// number, which reuses that contact without opening its record to them.
fn duplicate(conn: &Connection, user: &User, f: &Form, id: Option<i64>) -> AppResult<Option<&'static str>> {
    let other = id.unwrap_or(0);
    if !f.phone.is_empty() {
        let dup: Option<i64> = conn
            .prepare_cached(
                "SELECT id FROM contacts WHERE phone_rev = ?1 AND phone_rev <> '' AND phone = ?2
                   AND id <> ?3 AND merged_into IS NULL LIMIT 1",
            )?
            .query_row(params![phone::rev_key(&f.phone), f.phone, other], |r| r.get(0))
            .optional()?;
        if let Some(d) = dup {
            return Ok(Some(if sees(conn, user, d)? { "contact.dup_phone" } else { "contact.dup_phone_hidden" }));
        }
    }
    if !f.email.is_empty() {
        let dup: Option<i64> = conn
            .prepare_cached(
                "SELECT id FROM contacts WHERE email = ?1 AND email <> '' AND id <> ?2 AND merged_into IS NULL LIMIT 1",
            )?
            .query_row(params![f.email, other], |r| r.get(0))
            .optional()?;
        if let Some(d) = dup {
            return Ok(Some(if sees(conn, user, d)? { "contact.dup_email" } else { "contact.dup_email_hidden" }));
        }
    }
    Ok(None)
}

fn write_extras(conn: &Connection, id: i64, f: &Form) -> AppResult<()> {
    conn.prepare_cached("DELETE FROM contact_values WHERE contact_id = ?1")?.execute([id])?;
    for (field, v) in &f.values {
        conn.prepare_cached("INSERT INTO contact_values (contact_id, field_id, value) VALUES (?1, ?2, ?3)")?
            .execute(params![id, field, v])?;
    }
    conn.prepare_cached("DELETE FROM contact_tags WHERE contact_id = ?1")?.execute([id])?;
    for t in &f.tags {
        conn.prepare_cached("INSERT INTO contact_tags (contact_id, tag_id) VALUES (?1, ?2)")?
            .execute(params![id, t])?;
    }
    Ok(())
}

/// Adds a contact (`id` None) or edits one `user` may see. Refuses a phone or
/// e-mail another contact already has. Returns the id.
pub async fn save(state: &AppState, user: &User, id: Option<i64>, f: Form) -> AppResult<i64> {
    let user = user.clone();
    let now = state.now();
    state
        .db
        .write(move |conn| {
            if let Some(id) = id {
                let c = visible(conn, &user, id)?;
                if c.merged_into.is_some() {
                    return Err(AppError::Conflict("contact.merged"));
                }
            }
            if let Some(key) = duplicate(conn, &user, &f, id)? {
                return Err(AppError::Conflict(key));
            }
            let rev = phone::rev_key(&f.phone);
            let id = match id {
                Some(id) => {
                    conn.prepare_cached(
                        "UPDATE contacts SET name = ?1, phone = ?2, phone_rev = ?3, email = ?4, updated_at = ?5 WHERE id = ?6",
                    )?
                    .execute(params![f.name, f.phone, rev, f.email, now, id])?;
                    id
                }
                None => {
                    conn.prepare_cached(
                        "INSERT INTO contacts (name, phone, phone_rev, email, created_at, updated_at, created_by)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
                    )?
                    .execute(params![f.name, f.phone, rev, f.email, now, user.id])?;
                    conn.last_insert_rowid()
                }
            };
            write_extras(conn, id, &f)?;
            Ok(id)
        })
        .await
}
