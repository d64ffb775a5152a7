//! An agent's reply as an e-mail: written in the same transaction as the
//! message (the outbox row carries the whole e-mail, so a restart sends
//! exactly what was written), threaded so the customer's program keeps it
//! in the thread (our Message-ID, In-Reply-To and References from the
//! customer's last e-mail, "Re: subject [#id]"), to the customer with the
//! people who were in copy and whoever the agent adds in copy or blind
//! copy, its HTML made from the chosen template (the default one unless
//! the agent picks another or none).

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::templates::{self, Pick};
use super::thread;
use crate::error::{AppError, AppResult};

/// The e-mail an outbox row sends.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Outgoing {
    /// Our Message-ID, without angle brackets.
    pub message_id: String,
    /// From name.
    pub from_name: String,
    /// From address.
    pub from: String,
    /// Reply-To ('' = none).
    pub reply_to: String,
    /// Recipient.
    pub to: String,
    /// People in copy.
    pub cc: Vec<String>,
    /// People in blind copy (envelope only, never a header).
    #[serde(default)]
    pub bcc: Vec<String>,
    /// Subject.
    pub subject: String,
    /// The message answered ('' = none).
    pub in_reply_to: String,
    /// The thread's ids, oldest first.
    pub references: Vec<String>,
    /// Plain text.
    pub text: String,
    /// The HTML alternative.
    pub html: String,
}

/// At most this many ids are carried in References.
const MAX_REFS: usize = 20;
/// At most this many addresses an agent adds in copy, and in blind copy.
pub const MAX_COPIES: usize = 10;

/// What an agent chose for one e-mail besides its text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extras {
    /// Added in copy (kept on the conversation for the next replies).
    pub cc: Vec<String>,
    /// Blind copy (this e-mail only).
    pub bcc: Vec<String>,
    /// The template.
    pub template: Pick,
}

impl Extras {
    /// Reads typed copy lists (addresses separated by commas, semicolons or
    /// spaces) and the template choice; any address that is not one is
    /// refused, as is a list that is too long.
    pub fn parse(cc: &str, bcc: &str, template: &str) -> AppResult<Extras> {
        Ok(Extras { cc: addresses(cc)?, bcc: addresses(bcc)?, template: Pick::parse(template)? })
    }

    /// Whether it asks for nothing beyond the defaults.
    pub fn is_plain(&self) -> bool {
        self.cc.is_empty() && self.bcc.is_empty() && self.template == Pick::Default
    }
}

fn addresses(s: &str) -> AppResult<Vec<String>> {
    let mut v: Vec<String> = Vec::new();
    for a in s.split([',', ';', ' ', '\t', '\r', '\n']).map(str::trim).filter(|a| !a.is_empty()) {
        let a = a.trim_start_matches('<').trim_end_matches('>').to_lowercase();
        if !crate::domain::contacts::valid_email(&a) || a.chars().any(|c| c.is_control() || c == '"') {
            return Err(AppError::BadRequest("mail.bad_copy"));
        }
        if !v.contains(&a) {
            v.push(a);
        }
    }
    if v.len() > MAX_COPIES {
        return Err(AppError::BadRequest("mail.too_many_copies"));
    }
    Ok(v)
}

/// The people kept in copy on an e-mail conversation.
pub fn copied(conn: &Connection, conv: i64) -> AppResult<Vec<String>> {
    let v = conn
        .prepare_cached(
            "SELECT address FROM email_participants WHERE conversation_id = ?1 AND cc = 1 ORDER BY address",
        )?
        .query_map([conv], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// Escapes text for HTML and keeps its line breaks.
pub fn text_to_html(text: &str) -> String {
    let esc = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    esc.split('\n').collect::<Vec<_>>().join("<br>\n")
}

/// The sender of a queue's replies (with the thread key when replies carry
/// a plus address). A queue without a sender answers Conflict.
struct Sender {
    from_name: String,
    from: String,
    reply_to: String,
    signature: String,
    plus: Option<String>,
}

fn sender(conn: &Connection, queue_id: i64) -> AppResult<Sender> {
    conn.prepare_cached(
        "SELECT from_name, from_address, reply_to, signature, plus_address, thread_key FROM email_mailboxes
         WHERE queue_id = ?1 AND from_address <> '' AND smtp_host <> ''",
    )?
    .query_row([queue_id], |r| {
        Ok(Sender {
            from_name: r.get(0)?,
            from: r.get(1)?,
            reply_to: r.get(2)?,
            signature: r.get(3)?,
            plus: if r.get(4)? { Some(r.get(5)?) } else { None },
        })
    })
    .optional()?
    .ok_or(AppError::Conflict("conv.channel_not_connected"))
}

/// Builds the e-mail of agent message `message_id` in conversation `conv`
/// and queues it (part of the caller's transaction, after the message row).
/// The customer is the conversation's contact; the people the customer put
/// in copy are copied again, with those the agent adds (kept for the next
/// replies); blind copies go with this e-mail only. The first e-mail of a
/// conversation takes its subject from the template when it has one.
pub fn enqueue_reply(
    conn: &Connection,
    conv: i64,
    queue_id: i64,
    message_id: i64,
    text: &str,
    extras: &Extras,
    now: i64,
) -> AppResult<()> {
    let Sender { from_name, from, reply_to, signature, plus } = sender(conn, queue_id)?;
    let reply_to = match &plus {
        Some(key) => thread::plus_address(if reply_to.is_empty() { &from } else { &reply_to }, key, conv),
        None => reply_to,
    };
    let (to, mut subject, customer): (String, String, String) = conn
        .prepare_cached(
            "SELECT k.email, c.subject, k.name FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = ?1",
        )?
        .query_row([conv], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    if to.is_empty() {
        return Err(AppError::Conflict("mail.no_recipient"));
    }
    let template = templates::resolve(conn, extras.template)?;
    let own = from.to_lowercase();
    for a in extras.cc.iter().filter(|a| **a != to && **a != own) {
        conn.prepare_cached(
            "INSERT INTO email_participants (conversation_id, address, cc) VALUES (?1, ?2, 1)
             ON CONFLICT(conversation_id, address) DO UPDATE SET cc = 1",
        )?
        .execute(params![conv, a])?;
    }
    let last: Option<(String, String)> = conn
        .prepare_cached(
            "SELECT e.rfc_id, e.refs FROM email_messages e JOIN messages m ON m.id = e.message_id
             WHERE m.conversation_id = ?1 AND m.kind = 'in' ORDER BY e.message_id DESC LIMIT 1",
        )?
        .query_row([conv], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (in_reply_to, mut references) = match last {
        Some((id, refs)) => {
            let mut r: Vec<String> = refs.split_whitespace().map(str::to_string).collect();
            r.push(id.clone());
            (id, r)
        }
        None => (String::new(), vec![]),
    };
    if references.len() > MAX_REFS {
        references.drain(..references.len() - MAX_REFS);
    }
    let cc: Vec<String> = conn
        .prepare_cached(
            "SELECT address FROM email_participants WHERE conversation_id = ?1 AND cc = 1 AND address <> ?2 ORDER BY address",
        )?
        .query_map(params![conv, to], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let bcc: Vec<String> = extras.bcc.iter().filter(|a| **a != to && **a != own && !cc.contains(a)).cloned().collect();
    let first: bool = !conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM email_messages e JOIN messages m ON m.id = e.message_id
              WHERE m.conversation_id = ?1 AND e.message_id <> ?2)",
        )?
        .query_row(params![conv, message_id], |r| r.get::<_, bool>(0))?;
    let body = if signature.trim().is_empty() { text.to_string() } else { format!("{text}\n\n-- \n{signature}") };
    let html = match &template {
        Some(t) => {
            let (agent, business): (String, String) = conn
                .prepare_cached(
                    "SELECT m.author_name, s.business_name FROM messages m, settings s WHERE m.id = ?1 AND s.id = 1",
                )?
                .query_row([message_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let vars = templates::Vars { customer, agent, business, protocol: conv.to_string(), content: body.clone() };
            let (tsubject, html) = templates::render(t, &vars);
            if first && !tsubject.is_empty() {
                conn.prepare_cached("UPDATE conversations SET subject = ?2 WHERE id = ?1")?
                    .execute(params![conv, tsubject])?;
                subject = tsubject;
            }
            html
        }
        None => templates::plain(&body),
    };
    let domain = from.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_else(|| "atende.local".into());
    let mid = format!("atende.{conv}.{message_id}.{}@{domain}", &crate::domain::auth::new_token()[..12]);
    let base = thread::bare_subject(&subject);
    let base = if base.is_empty() { "Atendimento" } else { &base };
    // A reply says so; the first e-mail of a conversation an agent starts does not.
    let subject = if in_reply_to.is_empty() { format!("{base} [#{conv}]") } else { format!("Re: {base} [#{conv}]") };
    let out = Outgoing {
        message_id: mid.clone(),
        from_name,
        from,
        reply_to,
        to: to.clone(),
        cc: cc.clone(),
        bcc: bcc.clone(),
        subject: subject.clone(),
        in_reply_to,
        references: references.clone(),
        html,
        text: body,
    };
    let payload = serde_json::to_string(&out).map_err(AppError::internal)?;
    conn.prepare_cached(
        "INSERT INTO outbox (message_id, channel, queue_id, recipient, payload, state, next_at, created_at, updated_at)
         VALUES (?1, 'email', ?2, ?3, ?4, 'pending', ?5, ?5, ?5)",
    )?
    .execute(params![message_id, queue_id, to, payload, now])?;
    conn.prepare_cached(
        "INSERT INTO email_messages (message_id, rfc_id, in_reply_to, refs, subject, from_addr, to_addrs, cc_addrs,
           bcc_addrs)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        message_id,
        mid,
        out.in_reply_to,
        references.join(" "),
        subject,
        out.from,
        to,
        cc.join(", "),
        bcc.join(", ")
    ])?;
    Ok(())
}

/// Whether the queue's mailbox can send (an SMTP server and a sender set).
pub fn can_send(conn: &Connection, queue_id: i64) -> AppResult<bool> {
    Ok(sender(conn, queue_id).is_ok())
}
