//! The contact book (contatos): search by phone first (E.164, then "ends
//! with these digits"), by e-mail and by name words; add and edit with the
//! admin-defined extra fields and contact tags; who may see a contact; the
//! contact's timeline (linha do tempo) with annotations; merging two contacts.

use rusqlite::{Connection, OptionalExtension, params};

use super::conversations::{self as conv};
use super::users::{Permission, User};
use super::validate::{self, FormErrors, Input};
use super::{Actor, audit};
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

/// What to call a contact: name, else e-mail, else phone, else "Visitante #id".
pub fn label(id: i64, name: &str, email: &str, phone: &str) -> String {
    [name, email, phone]
        .into_iter()
        .find(|s| !s.is_empty())
        .map(String::from)
        .unwrap_or_else(|| format!("Visitante #{id}"))
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
    let sql = format!("SELECT EXISTS(SELECT 1 FROM contacts k WHERE k.id = ?2 AND {})", scope(user));
    let may: bool = conn.prepare_cached(&sql)?.query_row(params![user.id, target], |r| r.get(0))?;
    if !may {
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
fn duplicate(conn: &Connection, f: &Form, id: Option<i64>) -> AppResult<Option<&'static str>> {
    let other = id.unwrap_or(0);
    if !f.phone.is_empty() {
        let dup: bool = conn
            .prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM contacts WHERE phone_rev = ?1 AND phone_rev <> '' AND phone = ?2
                   AND id <> ?3 AND merged_into IS NULL)",
            )?
            .query_row(params![phone::rev_key(&f.phone), f.phone, other], |r| r.get(0))?;
        if dup {
            return Ok(Some("contact.dup_phone"));
        }
    }
    if !f.email.is_empty() {
        let dup: bool = conn
            .prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM contacts WHERE email = ?1 AND email <> '' AND id <> ?2 AND merged_into IS NULL)",
            )?
            .query_row(params![f.email, other], |r| r.get(0))?;
        if dup {
            return Ok(Some("contact.dup_email"));
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
            if let Some(key) = duplicate(conn, &f, id)? {
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

// ---------------------------------------------------------------- the contact page

/// One earlier conversation of a contact.
#[derive(Clone, Debug)]
pub struct Past {
    /// Conversation id.
    pub id: i64,
    /// Queue name.
    pub queue: String,
    /// Channel.
    pub channel: String,
    /// Status.
    pub status: String,
    /// Agent name.
    pub agent: Option<String>,
    /// Entered (unix).
    pub created_at: i64,
    /// Closed (unix).
    pub closed_at: Option<i64>,
    /// Whether the viewer may open its transcript.
    pub open: bool,
}

/// One timeline entry.
#[derive(Clone, Debug)]
pub struct Entry {
    /// When (unix).
    pub at: i64,
    /// Catalog key of what happened (`tl.*` or a conversation's `ev.*`).
    pub key: String,
    /// Free text (annotation body, task title, merged contact).
    pub text: String,
    /// Who.
    pub who: String,
    /// Link (conversation or task), when the viewer may open it.
    pub link: Option<String>,
}

/// The whole contact page.
#[derive(Clone, Debug)]
pub struct Detail {
    /// The contact.
    pub contact: Contact,
    /// Extra fields with their values (empty when unset).
    pub values: Vec<(Field, String)>,
    /// Tags (id, name).
    pub tags: Vec<(i64, String)>,
    /// Conversations, newest first.
    pub history: Vec<Past>,
    /// Timeline, newest first.
    pub timeline: Vec<Entry>,
}

/// Conversation events shown on the timeline.
const TIMELINE_EVENTS: &str =
    "'ev.created', 'ev.accepted', 'ev.claimed', 'ev.transferred_team', 'ev.transferred_agent',
    'ev.finished', 'ev.archived', 'ev.reopened', 'ev.reopened_task'";

/// Extra field values of a contact.
pub fn values(conn: &Connection, id: i64) -> AppResult<Vec<(Field, String)>> {
    let mut stmt = conn.prepare_cached("SELECT field_id, value FROM contact_values WHERE contact_id = ?1")?;
    let set: Vec<(i64, String)> = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    Ok(fields(conn)?
        .into_iter()
        .map(|f| {
            let v = set.iter().find(|(i, _)| *i == f.id).map(|(_, v)| v.clone()).unwrap_or_default();
            (f, v)
        })
        .collect())
}

/// Tags of a contact.
pub fn contact_tags(conn: &Connection, id: i64) -> AppResult<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = ?1
         ORDER BY t.name COLLATE NOCASE",
    )?;
    let v = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    Ok(v)
}

/// The conversations of a contact, newest first, in one query.
pub fn history(conn: &Connection, user: &User, id: i64) -> AppResult<Vec<Past>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, q.name, q.team_id, c.channel, c.status, c.agent_id, u.name, c.created_at, c.closed_at
         FROM conversations c JOIN queues q ON q.id = c.queue_id LEFT JOIN users u ON u.id = c.agent_id
         WHERE c.contact_id = ?1 ORDER BY c.created_at DESC, c.id DESC LIMIT 200",
    )?;
    let v = stmt
        .query_map([id], |r| {
            let (team, agent_id): (i64, Option<i64>) = (r.get(2)?, r.get(5)?);
            Ok(Past {
                id: r.get(0)?,
                queue: r.get(1)?,
                channel: r.get(3)?,
                status: r.get(4)?,
                agent: r.get(6)?,
                created_at: r.get(7)?,
                closed_at: r.get(8)?,
                open: conv::may_see_parts(user, agent_id, team),
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// id, title, created, done, creator name, assignee, team.
type TaskRow = (i64, String, i64, Option<i64>, String, Option<i64>, Option<i64>);

/// The timeline: contact created, conversation events, tasks created and
/// done, annotations and merges; newest first. `history` (from [`history`])
/// says which conversations the viewer may open.
pub fn timeline(conn: &Connection, user: &User, c: &Contact, history: &[Past]) -> AppResult<Vec<Entry>> {
    let mut out = Vec::new();
    let creator: Option<String> = match c.created_by {
        Some(u) => {
            conn.prepare_cached("SELECT name FROM users WHERE id = ?1")?.query_row([u], |r| r.get(0)).optional()?
        }
        None => None,
    };
    out.push(Entry {
        at: c.created_at,
        key: "tl.created".into(),
        text: String::new(),
        who: creator.unwrap_or_default(),
        link: None,
    });
    let sql = format!(
        "SELECT m.created_at, m.body, m.author_name, c.id FROM conversations c
         JOIN messages m ON m.conversation_id = c.id AND m.kind = 'system'
         WHERE c.contact_id = ?1 AND m.body IN ({TIMELINE_EVENTS}) ORDER BY m.id DESC LIMIT {TIMELINE_LIMIT}"
    );
    let rows: Vec<(i64, String, String, i64)> = conn
        .prepare_cached(&sql)?
        .query_map([c.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    for (at, key, who, cid) in rows {
        let open = history.iter().any(|p| p.id == cid && p.open);
        out.push(Entry { at, key, text: format!("#{cid}"), who, link: open.then(|| format!("/atendimentos/{cid}")) });
    }
    let tasks: Vec<TaskRow> = conn
        .prepare_cached(
            "SELECT t.id, t.title, t.created_at, t.done_at, coalesce(u.name, ''), t.assignee_id, t.team_id
             FROM tasks t LEFT JOIN users u ON u.id = t.created_by WHERE t.contact_id = ?1
             ORDER BY t.id DESC LIMIT ?2",
        )?
        .query_map(params![c.id, TIMELINE_LIMIT], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        })?
        .collect::<Result<_, _>>()?;
    for (id, title, created, done, who, assignee, team) in tasks {
        let link = super::tasks::may_see_parts(user, assignee, team).then(|| format!("/tarefas/{id}"));
        out.push(Entry { at: created, key: "tl.task_created".into(), text: title.clone(), who, link: link.clone() });
        if let Some(d) = done {
            out.push(Entry { at: d, key: "tl.task_done".into(), text: title, who: String::new(), link });
        }
    }
    let notes: Vec<(i64, String, String, String)> = conn
        .prepare_cached(
            "SELECT e.created_at, e.kind, e.body, coalesce(u.name, '') FROM contact_events e
             LEFT JOIN users u ON u.id = e.author_id WHERE e.contact_id = ?1 ORDER BY e.id DESC LIMIT ?2",
        )?
        .query_map(params![c.id, TIMELINE_LIMIT], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    for (at, kind, body, who) in notes {
        out.push(Entry { at, key: format!("tl.{kind}"), text: body, who, link: None });
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.at));
    out.truncate(TIMELINE_LIMIT as usize);
    Ok(out)
}

/// Everything on the contact page.
pub fn detail(conn: &Connection, user: &User, id: i64) -> AppResult<Detail> {
    let mut d = card(conn, user, id)?;
    d.timeline = timeline(conn, user, &d.contact, &d.history)?;
    Ok(d)
}

/// The contact panel's part of [`detail`]: everything but the timeline.
pub fn card(conn: &Connection, user: &User, id: i64) -> AppResult<Detail> {
    let contact = visible(conn, user, id)?;
    Ok(Detail {
        values: values(conn, id)?,
        tags: contact_tags(conn, id)?,
        history: history(conn, user, id)?,
        timeline: Vec::new(),
        contact,
    })
}

/// The form values of an existing contact.
pub fn form_values(d: &Detail) -> Input {
    let c = &d.contact;
    let mut pairs = vec![
        ("name".to_string(), c.name.clone()),
        ("phone".into(), c.phone.clone()),
        ("email".into(), c.email.clone()),
    ];
    for (f, v) in &d.values {
        pairs.push((field_input(f.id), v.clone()));
    }
    for (t, _) in &d.tags {
        pairs.push(("tag".into(), t.to_string()));
    }
    Input::from_pairs(pairs)
}

// ---------------------------------------------------------------- annotations and merges

/// Adds a manual annotation (anotação) to a contact's timeline.
pub async fn annotate(state: &AppState, user: &User, id: i64, body: &str) -> AppResult<()> {
    let body = body.trim().to_string();
    if body.is_empty() {
        return Err(validate::FormErrors::one("body", "val.required"));
    }
    if body.chars().count() > MAX_NOTE {
        return Err(validate::FormErrors::one("body", "val.too_long"));
    }
    let user = user.clone();
    let now = state.now();
    state
        .db
        .write(move |conn| {
            visible(conn, &user, id)?;
            conn.prepare_cached(
                "INSERT INTO contact_events (contact_id, kind, author_id, body, created_at) VALUES (?1, 'note', ?2, ?3, ?4)",
            )?
            .execute(params![id, user.id, body, now])?;
            Ok(())
        })
        .await
}

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
