//! The WhatsApp channel's rules: a queue's number (its ids and secrets), who
//! writes (the `wa_id` and the key that finds their contact whatever Brazil's
//! 9th digit), what a customer's message does (opens or continues the
//! contact's conversation in the queue, refreshes the 24-hour window) and the
//! window itself. The HTTP side (webhook, Graph API) is in
//! `channels::whatsapp`.

mod cache;
pub mod optin;
pub mod templates;

pub use cache::{CredentialCache, webhook_credentials};

use rusqlite::{Connection, OptionalExtension, params};

use super::Actor;
use super::audit;
use super::validate::FormErrors;
use crate::app::AppState;
use crate::error::{AppError, AppResult};

/// The customer-service window: this long after the customer's last message.
pub const WINDOW_SECS: i64 = 24 * 3600;
/// The Graph API version a new number starts with.
pub const DEFAULT_VERSION: &str = "v23.0";
/// Meta's Graph API.
pub const DEFAULT_BASE: &str = "https://graph.facebook.com";

/// A queue's number as the admin page shows it: secrets only as "set".
#[derive(Clone, Debug, Default)]
pub struct Number {
    /// The queue.
    pub queue_id: i64,
    /// Phone number id (Meta's, not the phone number).
    pub phone_number_id: String,
    /// WhatsApp Business Account id.
    pub waba_id: String,
    /// Whether an access token is stored.
    pub has_token: bool,
    /// Whether an app secret is stored.
    pub has_secret: bool,
    /// The token Meta's dashboard must send when verifying the webhook.
    pub verify_token: String,
    /// The number as customers know it.
    pub display_number: String,
    /// Graph API version (`v23.0`).
    pub graph_version: String,
    /// Graph API base URL.
    pub graph_base: String,
    /// Connection state: unchecked | ok | bad_token | bad_id | unreachable | error.
    pub state: String,
    /// What the last check or send said (never a secret).
    pub last_error: String,
    /// When the connection was last checked.
    pub checked_at: Option<i64>,
    /// Messages per second the outbox sends at most.
    pub rate_per_sec: i64,
    /// The words that opt a customer out ("SAIR, PARAR").
    pub optout_words: String,
    /// Kept for conversations agents start.
    pub reserved_outbound: bool,
}

impl Number {
    /// Whether the number can receive and send: ids and both secrets set.
    pub fn complete(&self) -> bool {
        !self.phone_number_id.is_empty() && self.has_token && self.has_secret
    }
}

/// What the channel code needs to talk to Meta for a queue.
#[derive(Clone)]
pub struct Credentials {
    /// Phone number id.
    pub phone_number_id: String,
    /// WhatsApp Business Account id.
    pub waba_id: String,
    /// Bearer token for the Graph API.
    pub access_token: String,
    /// App secret: the webhook signature key.
    pub app_secret: String,
    /// Graph API version.
    pub graph_version: String,
    /// Graph API base URL (no trailing slash).
    pub graph_base: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never reach a log line.
        f.debug_struct("Credentials").field("phone_number_id", &self.phone_number_id).finish_non_exhaustive()
    }
}

const NUMBER_COLS: &str = "queue_id, phone_number_id, waba_id, access_token <> '', app_secret <> '', verify_token,
    display_number, graph_version, graph_base, state, last_error, checked_at, rate_per_sec, optout_words,
    reserved_outbound";

fn number_from_row(r: &rusqlite::Row) -> rusqlite::Result<Number> {
    Ok(Number {
        queue_id: r.get(0)?,
        phone_number_id: r.get(1)?,
        waba_id: r.get(2)?,
        has_token: r.get(3)?,
        has_secret: r.get(4)?,
        verify_token: r.get(5)?,
        display_number: r.get(6)?,
        graph_version: r.get(7)?,
        graph_base: r.get(8)?,
        state: r.get(9)?,
        last_error: r.get(10)?,
        checked_at: r.get(11)?,
        rate_per_sec: r.get(12)?,
        optout_words: r.get(13)?,
        reserved_outbound: r.get(14)?,
    })
}

/// The number of an active WhatsApp queue (None: no such queue or not set up).
pub fn number(conn: &Connection, queue_id: i64) -> AppResult<Option<Number>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {NUMBER_COLS} FROM whatsapp_numbers w WHERE queue_id = ?1
               AND EXISTS (SELECT 1 FROM queues q WHERE q.id = w.queue_id AND q.channel = 'whatsapp' AND q.active = 1)"
        ))?
        .query_row([queue_id], number_from_row)
        .optional()?)
}

/// The credentials of a WhatsApp queue whose number is complete.
pub fn credentials(conn: &Connection, queue_id: i64) -> AppResult<Option<Credentials>> {
    Ok(conn
        .prepare_cached(
            "SELECT phone_number_id, waba_id, access_token, app_secret, graph_version, graph_base FROM whatsapp_numbers w
             WHERE queue_id = ?1 AND phone_number_id <> '' AND access_token <> '' AND app_secret <> ''
               AND EXISTS (SELECT 1 FROM queues q WHERE q.id = w.queue_id AND q.channel = 'whatsapp' AND q.active = 1)",
        )?
        .query_row([queue_id], |r| {
            Ok(Credentials {
                phone_number_id: r.get(0)?,
                waba_id: r.get(1)?,
                access_token: r.get(2)?,
                app_secret: r.get(3)?,
                graph_version: r.get(4)?,
                graph_base: r.get(5)?,
            })
        })
        .optional()?)
}

/// The webhook's verify token of an active WhatsApp queue (made on first use).
pub fn verify_token(conn: &Connection, queue_id: i64) -> AppResult<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT verify_token FROM whatsapp_numbers w WHERE queue_id = ?1
               AND EXISTS (SELECT 1 FROM queues q WHERE q.id = w.queue_id AND q.channel = 'whatsapp' AND q.active = 1)",
        )?
        .query_row([queue_id], |r| r.get(0))
        .optional()?)
}

/// Whether the queue's number can carry agents' messages.
pub fn queue_ready(conn: &Connection, queue_id: i64) -> AppResult<bool> {
    Ok(number(conn, queue_id)?.is_some_and(|n| n.complete()))
}

/// The number of a WhatsApp queue, creating its row (with a fresh verify
/// token) the first time the admin opens it. NotFound for other queues.
pub async fn number_for_admin(state: &AppState, queue_id: i64) -> AppResult<Number> {
    let now = state.now();
    state
        .db
        .write(move |conn| {
            let channel: Option<String> = conn
                .prepare_cached("SELECT channel FROM queues WHERE id = ?1")?
                .query_row([queue_id], |r| r.get(0))
                .optional()?;
            if channel.as_deref() != Some("whatsapp") {
                return Err(AppError::NotFound);
            }
            conn.prepare_cached(
                "INSERT INTO whatsapp_numbers (queue_id, verify_token, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (queue_id) DO NOTHING",
            )?
            .execute(params![queue_id, super::auth::new_token(), now])?;
            conn.prepare_cached(&format!("SELECT {NUMBER_COLS} FROM whatsapp_numbers WHERE queue_id = ?1"))?
                .query_row([queue_id], number_from_row)
                .map_err(Into::into)
        })
        .await
}

/// What the admin submits for a number. An empty secret keeps the stored one.
#[derive(Clone, Debug, Default)]
pub struct NumberForm {
    /// Phone number id.
    pub phone_number_id: String,
    /// WhatsApp Business Account id.
    pub waba_id: String,
    /// New access token ('' = keep).
    pub access_token: String,
    /// New app secret ('' = keep).
    pub app_secret: String,
    /// Display number.
    pub display_number: String,
    /// Graph API version.
    pub graph_version: String,
    /// Graph API base URL.
    pub graph_base: String,
    /// Messages per second ("80").
    pub rate_per_sec: String,
    /// Opt-out words.
    pub optout_words: String,
    /// Kept for conversations agents start.
    pub reserved_outbound: bool,
}

/// The most messages per second a number may be set to (Meta's highest tier).
pub const MAX_RATE: i64 = 1000;

fn digits_only(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_digit())
}

fn valid_version(s: &str) -> bool {
    match s.strip_prefix('v').and_then(|r| r.split_once('.')) {
        Some((a, b)) => digits_only(a) && digits_only(b) && s.len() <= 8,
        None => false,
    }
}

fn valid_base(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() <= 200
        && !s.contains(char::is_whitespace)
        && url_host(s).is_some_and(|h| !h.is_empty())
}

fn url_host(s: &str) -> Option<&str> {
    let rest = s.split_once("://")?.1;
    Some(rest.split(['/', '?', '#']).next().unwrap_or(""))
}

/// Checks a submitted number: ids are digits, the version looks like
/// `v23.0`, the base is an http(s) URL, a token has no spaces.
pub fn check_form(f: &NumberForm, has_token: bool, has_secret: bool) -> Result<(), FormErrors> {
    let mut errs = FormErrors::default();
    if !digits_only(&f.phone_number_id) {
        errs.add("phone_number_id", "wa.val.id");
    }
    if !f.waba_id.is_empty() && !digits_only(&f.waba_id) {
        errs.add("waba_id", "wa.val.id");
    }
    if f.access_token.contains(char::is_whitespace) || f.access_token.len() > 1024 {
        errs.add("access_token", "wa.val.secret");
    } else if f.access_token.is_empty() && !has_token {
        errs.add("access_token", "val.required");
    }
    if f.app_secret.contains(char::is_whitespace) || f.app_secret.len() > 256 {
        errs.add("app_secret", "wa.val.secret");
    } else if f.app_secret.is_empty() && !has_secret {
        errs.add("app_secret", "val.required");
    }
    if f.display_number.chars().count() > 40 {
        errs.add("display_number", "val.too_long");
    }
    if !valid_version(&f.graph_version) {
        errs.add("graph_version", "wa.val.version");
    }
    if !valid_base(&f.graph_base) {
        errs.add("graph_base", "wa.val.base");
    }
    if !f.rate_per_sec.trim().parse::<i64>().is_ok_and(|r| (1..=MAX_RATE).contains(&r)) {
        errs.add("rate_per_sec", "wa.val.rate");
    }
    if let Err(k) = optin::parse_words(&f.optout_words) {
        errs.add("optout_words", k);
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// Saves a queue's number (audited without any secret). A changed id or
/// secret makes the connection "unchecked" again.
pub async fn save_number(state: &AppState, actor: Actor, queue_id: i64, f: NumberForm) -> AppResult<()> {
    let current = number_for_admin(state, queue_id).await?;
    check_form(&f, current.has_token, current.has_secret).map_err(AppError::Invalid)?;
    let base = f.graph_base.trim_end_matches('/').to_string();
    let rate: i64 = f.rate_per_sec.trim().parse().unwrap_or(80);
    let words = optin::parse_words(&f.optout_words).unwrap_or_else(|_| optin::DEFAULT_WORDS.to_string());
    state
        .db
        .write(move |conn| {
            conn.prepare_cached(
                "UPDATE whatsapp_numbers SET phone_number_id = ?2, waba_id = ?3,
                   access_token = CASE WHEN ?4 <> '' THEN ?4 ELSE access_token END,
                   app_secret = CASE WHEN ?5 <> '' THEN ?5 ELSE app_secret END,
                   display_number = ?6, graph_version = ?7, graph_base = ?8, state = 'unchecked', last_error = '',
                   updated_at = ?9, rate_per_sec = ?10, optout_words = ?11, reserved_outbound = ?12
                 WHERE queue_id = ?1",
            )?
            .execute(params![
                queue_id,
                f.phone_number_id,
                f.waba_id,
                f.access_token,
                f.app_secret,
                f.display_number.trim(),
                f.graph_version,
                base,
                actor.now,
                rate,
                words,
                f.reserved_outbound
            ])?;
            let name: String =
                conn.prepare_cached("SELECT name FROM queues WHERE id = ?1")?.query_row([queue_id], |r| r.get(0))?;
            let mut changed = Vec::new();
            if !f.access_token.is_empty() {
                changed.push("token");
            }
            if !f.app_secret.is_empty() {
                changed.push("app secret");
            }
            let detail = format!("phone_number_id {}; novos segredos: {}", f.phone_number_id, changed.join(", "));
            audit::record(conn, &actor, "whatsapp.number_saved", &name, &detail)?;
            Ok(())
        })
        .await
}

/// Records the outcome of a connection check: the state code, what was
/// wrong ('' when fine) and, when the number answered, its display number
/// (kept if the admin typed one).
pub async fn set_state(
    state: &AppState,
    queue_id: i64,
    code: &'static str,
    detail: String,
    display: Option<String>,
) -> AppResult<()> {
    let now = state.now();
    state
        .db
        .write(move |conn| {
            conn.prepare_cached(
                "UPDATE whatsapp_numbers SET state = ?2, last_error = ?3, checked_at = ?4,
                   display_number = CASE WHEN display_number = '' AND ?5 IS NOT NULL THEN ?5 ELSE display_number END
                 WHERE queue_id = ?1",
            )?
            .execute(params![queue_id, code, detail, now, display])?;
            Ok(())
        })
        .await
}

/// Meta refused the number's token while sending: the number shows
/// "desconectado: token inválido" and the admins are alerted once per
/// episode. Part of the caller's transaction.
pub fn token_refused(
    conn: &Connection,
    queue_id: i64,
    reason: &str,
    now: i64,
) -> AppResult<Vec<crate::events::Change>> {
    let changed = conn
        .prepare_cached(
            "UPDATE whatsapp_numbers SET state = 'bad_token', last_error = ?2, checked_at = ?3
             WHERE queue_id = ?1 AND state <> 'bad_token'",
        )?
        .execute(params![queue_id, reason, now])?;
    if changed == 0 {
        return Ok(vec![]);
    }
    super::notifications::alert_admins(conn, "wa_token_invalid", &format!("wa_token:{queue_id}:{now}"), &queue_id, now)
}

/// The active WhatsApp queues whose number can list templates (ids, both
/// secrets and the account id set), for the scheduled synchronisation.
pub fn synced_queues(conn: &Connection) -> AppResult<Vec<i64>> {
    let mut st = conn.prepare_cached(
        "SELECT w.queue_id FROM whatsapp_numbers w JOIN queues q ON q.id = w.queue_id
         WHERE q.active = 1 AND q.channel = 'whatsapp' AND w.phone_number_id <> '' AND w.waba_id <> ''
           AND w.access_token <> '' AND w.app_secret <> '' AND w.state <> 'bad_token' ORDER BY w.queue_id",
    )?;
    let v = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(v)
}

/// The name of a WhatsApp queue (NotFound for any other).
pub fn queue_name(conn: &Connection, queue_id: i64) -> AppResult<String> {
    conn.prepare_cached("SELECT name FROM queues WHERE id = ?1 AND channel = 'whatsapp'")?
        .query_row([queue_id], |r| r.get(0))
        .optional()?
        .ok_or(AppError::NotFound)
}

/// The key that matches a WhatsApp id or a stored phone to the same person:
/// the digits, and for a Brazilian mobile without its 9th digit (Meta's
/// `wa_id` often lacks it) the same digits with it.
pub fn match_key(phone_or_wa_id: &str) -> String {
    let d = crate::phone::digits(phone_or_wa_id);
    // 55 + two-digit area code + 8 digits starting with 6–9: a mobile written
    // the old way; today's form has a 9 in front.
    if d.len() == 12 && d.starts_with("55") && d.as_bytes()[4] >= b'6' { format!("{}9{}", &d[..4], &d[4..]) } else { d }
}

/// The contacts whose phone ends in the given last 8 digits (reversed).
/// `phone_rev <> ''` lets SQLite use the partial index on `phone_rev`;
/// without it every new WhatsApp customer read the whole contacts table.
const PHONE_CANDIDATES: &str = "SELECT id, phone FROM contacts
    WHERE phone_rev <> '' AND phone_rev >= ?1 AND phone_rev < ?1 || '~' AND merged_into IS NULL ORDER BY id LIMIT 50";

/// The phone (E.164) a WhatsApp id stands for, as a new contact keeps it.
/// Worked out before the transaction (by the webhook's parse): checking a
/// phone number costs more than all of a message's writes.
pub fn phone_of(wa_id: &str) -> String {
    let key = match_key(wa_id);
    crate::phone::normalize(&format!("+{key}")).unwrap_or_else(|| format!("+{key}"))
}

/// The contact behind a WhatsApp id: the one seen before, else an unmerged
/// contact whose phone has the same key, else a new one named from the
/// profile with `phone` ([`phone_of`]; '' works it out here). Returns the
/// contact id.
pub fn contact_for(conn: &Connection, wa_id: &str, phone: &str, profile: &str, now: i64) -> AppResult<i64> {
    if let Some(c) = conn
        .prepare_cached(
            "SELECT coalesce(k.merged_into, k.id) FROM whatsapp_identities w JOIN contacts k ON k.id = w.contact_id
             WHERE w.wa_id = ?1",
        )?
        .query_row([wa_id], |r| r.get::<_, i64>(0))
        .optional()?
    {
        return Ok(c);
    }
    let key = match_key(wa_id);
    let last8: String = key.chars().rev().take(8).collect();
    let candidates: Vec<(i64, String)> = conn
        .prepare_cached(PHONE_CANDIDATES)?
        .query_map([&last8], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let contact = match candidates.into_iter().find(|(_, p)| match_key(p) == key) {
        Some((id, _)) => {
            conn.prepare_cached("UPDATE contacts SET name = CASE WHEN name = '' THEN ?2 ELSE name END WHERE id = ?1")?
                .execute(params![id, profile])?;
            id
        }
        None => {
            let phone = if phone.is_empty() { phone_of(wa_id) } else { phone.to_string() };
            conn.prepare_cached(
                "INSERT INTO contacts (name, phone, phone_rev, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
            )?
            .execute(params![profile, phone, crate::phone::rev_key(&phone), now])?;
            conn.last_insert_rowid()
        }
    };
    conn.prepare_cached(
        "INSERT INTO whatsapp_identities (wa_id, match_key, contact_id, profile_name, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![wa_id, key, contact, profile, now])?;
    Ok(contact)
}

/// The window of a conversation: when it closes (None: the customer never
/// wrote, so only a template may open it).
pub fn window_until(conn: &Connection, conversation_id: i64) -> AppResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT window_until FROM conversations WHERE id = ?1")?
        .query_row([conversation_id], |r| r.get::<_, Option<i64>>(0))
        .optional()?
        .flatten())
}

/// Whether free text and media may be sent now.
pub fn window_open(conn: &Connection, conversation_id: i64, now: i64) -> AppResult<bool> {
    Ok(window_until(conn, conversation_id)?.is_some_and(|u| u > now))
}

/// Tells the desk of every open WhatsApp conversation whose window ended in
/// `(from, to]`: its page shows the window closed and the composer locked
/// (the server already refuses free text from that second). Returns how many.
pub async fn windows_closed(state: &AppState, from: i64, to: i64) -> AppResult<usize> {
    let rows: Vec<(i64, i64, Option<i64>)> = state
        .db
        .read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT id, queue_id, agent_id FROM conversations WHERE window_until > ?1 AND window_until <= ?2
                   AND channel = 'whatsapp' AND status IN ('queued', 'offered', 'assigned')",
            )?;
            let v = st
                .query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?;
            Ok(v)
        })
        .await?;
    let n = rows.len();
    state.bus.publish(
        rows.into_iter()
            .map(|(id, q, a)| crate::events::Change {
                kind: "conversation",
                queue_id: Some(q),
                conversation_id: Some(id),
                agent_id: a,
            })
            .collect(),
    );
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_missing_ninth_digit_matches_the_same_person() {
        assert_eq!(match_key("551187654321"), "5511987654321");
        assert_eq!(match_key("+55 11 98765-4321"), "5511987654321");
        assert_eq!(match_key("5511987654321"), "5511987654321");
        // A landline (starts 2–5) keeps its 8 digits; other countries as they are.
        assert_eq!(match_key("551133334444"), "551133334444");
        assert_eq!(match_key("14155550100"), "14155550100");
    }

    #[test]
    fn a_new_customer_is_matched_through_the_phone_index_not_a_scan() {
        let conn = Connection::open_in_memory().expect("memory db");
        conn.execute_batch(crate::db::migrate::SCHEMA).expect("schema");
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {PHONE_CANDIDATES}"))
            .expect("plan")
            .query_map(["12345678"], |r| r.get::<_, String>(3))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("plan rows");
        assert!(plan.iter().any(|d| d.contains("INDEX contacts_phone_rev")), "{plan:?}");
        assert!(!plan.iter().any(|d| d.starts_with("SCAN")), "{plan:?}");
    }

    #[test]
    fn forms_say_what_is_wrong() {
        let ok = NumberForm {
            phone_number_id: "1234567890".into(),
            waba_id: "987".into(),
            access_token: "EAAG123".into(),
            app_secret: "abc".into(),
            display_number: "+55 11 4000-0000".into(),
            graph_version: "v23.0".into(),
            graph_base: "https://graph.facebook.com".into(),
            rate_per_sec: "80".into(),
            optout_words: "SAIR, PARAR".into(),
            reserved_outbound: false,
        };
        assert!(check_form(&ok, false, false).is_ok());
        let bad = NumberForm {
            phone_number_id: "12a".into(),
            access_token: String::new(),
            graph_version: "23".into(),
            graph_base: "ftp://x".into(),
            rate_per_sec: "0".into(),
            optout_words: " , ".into(),
            ..ok.clone()
        };
        let e = check_form(&bad, false, true).unwrap_err();
        for f in ["phone_number_id", "access_token", "graph_version", "graph_base", "rate_per_sec", "optout_words"] {
            assert!(e.get(f).is_some(), "{f}");
        }
        assert!(e.get("app_secret").is_none(), "a stored secret may stay");
    }
}
