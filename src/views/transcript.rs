//! The conversation transcript for the PDF export.

use crate::domain::conversations::{Conversation, Message};
use crate::i18n::{Locale, t};
use crate::pdf::{Entry, Transcript};

/// Builds the transcript of `c`: business, contact, queue, agents, times and
/// every message with its sender and time and attachment names. Internal
/// notes only when `notes` is asked for.
pub fn build(
    loc: Locale,
    business: &str,
    c: &Conversation,
    msgs: &[Message],
    agents: &[String],
    notes: bool,
    tz: &jiff::tz::TimeZone,
) -> Transcript {
    let dt = |ts: i64| super::datetime(ts, tz);
    let mut all_agents: Vec<String> = agents.to_vec();
    if let Some(a) = &c.agent_name
        && !all_agents.contains(a)
    {
        all_agents.push(a.clone());
    }
    let mut contact = c.contact_name.clone();
    for extra in [&c.contact_phone, &c.contact_email] {
        if !extra.is_empty() && !contact.contains(extra.as_str()) {
            contact.push_str(" · ");
            contact.push_str(extra);
        }
    }
    let mut header = vec![
        (t(loc, "pdf.business").to_string(), business.to_string()),
        (t(loc, "pdf.contact").to_string(), contact),
        (t(loc, "reg.queues").to_string(), format!("{} · {}", c.queue_name, channel(loc, &c.channel))),
        (t(loc, "pdf.agents").to_string(), if all_agents.is_empty() { "—".into() } else { all_agents.join(", ") }),
        (t(loc, "pdf.started").to_string(), dt(c.created_at)),
    ];
    if let Some(end) = c.closed_at {
        header.push((t(loc, "pdf.ended").to_string(), dt(end)));
    }
    header.push((t(loc, "f.status").to_string(), t(loc, super::desk::status_key(&c.status)).to_string()));
    if let Some(r) = &c.closing_reason {
        header.push((t(loc, "closing.reason").to_string(), r.clone()));
    }
    if let Some(r) = c.resolved {
        header.push((
            t(loc, "closing.resolved").to_string(),
            t(loc, if r { "closing.yes" } else { "closing.no" }).into(),
        ));
    }
    let entries = msgs
        .iter()
        .filter(|m| notes || m.kind != "note")
        .map(|m| {
            if m.kind == "system" {
                let text = crate::i18n::catalog_key(&m.body).map(|k| t(loc, k)).unwrap_or(&m.body);
                let who = if m.author_name.is_empty() { String::new() } else { format!(" · {}", m.author_name) };
                Entry {
                    meta: format!("{text}{who} · {}", dt(m.created_at)),
                    body: String::new(),
                    note: false,
                    system: true,
                    attachments: Vec::new(),
                }
            } else {
                Entry {
                    meta: format!("{} · {}", m.author_name, dt(m.created_at)),
                    body: m.body.clone(),
                    note: m.kind == "note",
                    system: false,
                    attachments: m.attachments.iter().map(|a| a.name.clone()).collect(),
                }
            }
        })
        .collect();
    Transcript {
        title: format!("{} #{}", t(loc, "pdf.title"), c.id),
        header,
        note_label: t(loc, "note.label").to_string(),
        attachment_label: t(loc, "pdf.attachment").to_string(),
        footer: t(loc, "pdf.footer").to_string(),
        entries,
    }
}

fn channel(loc: Locale, code: &str) -> &'static str {
    match code {
        "email" => t(loc, "channel.email"),
        "whatsapp" => t(loc, "channel.whatsapp"),
        _ => t(loc, "channel.webchat"),
    }
}
