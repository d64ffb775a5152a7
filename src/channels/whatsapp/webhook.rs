//! Meta's webhook for a WhatsApp queue: the verification handshake, the
//! signature check on the raw body before anything is parsed, and the
//! batch of messages and statuses turned into domain calls — committed in
//! one transaction before the 200 that tells Meta not to send it again.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::domain::conversations::Inbound;
use crate::domain::whatsapp::templates::StatusChange;

/// Largest webhook body accepted (Meta's batches are a few KB).
pub const BODY_LIMIT: u64 = 1024 * 1024;

/// Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under the
/// app secret; compared in constant time.
pub fn signature_ok(secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else { return false };
    let Ok(sig) = hex::decode(hex_sig) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    id: String,
    #[serde(default)]
    changes: Vec<EntryChange>,
}

#[derive(Deserialize)]
struct EntryChange {
    #[serde(default)]
    field: String,
    #[serde(default)]
    value: serde_json::Value,
}

#[derive(Deserialize, Default)]
struct Value {
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    contacts: Vec<WaContact>,
    #[serde(default)]
    messages: Vec<serde_json::Value>,
    #[serde(default)]
    statuses: Vec<Status>,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(default)]
    phone_number_id: String,
}

#[derive(Deserialize)]
struct WaContact {
    #[serde(default)]
    wa_id: String,
    #[serde(default)]
    profile: Profile,
}

#[derive(Deserialize, Default)]
struct Profile {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    biz_opaque_callback_data: Option<String>,
    #[serde(default)]
    errors: Vec<StatusError>,
}

#[derive(Deserialize)]
struct StatusError {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    message: String,
}

/// A delivery status for one of our messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusUpdate {
    /// Meta's id of our message.
    pub wamid: String,
    /// sent | delivered | read | failed.
    pub status: String,
    /// Our outbox row, echoed back (`atende:<id>`).
    pub callback: Option<String>,
    /// Why it failed (pt-BR), or ''.
    pub reason: String,
}

/// A reaction to a message (by its wamid).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reaction {
    /// The reacting customer's message, as an inbound (its body is filled
    /// once the message reacted to is found).
    pub inbound: Inbound,
    /// The wamid reacted to.
    pub to: String,
    /// The emoji ('' = reaction removed).
    pub emoji: String,
}

/// A media file a message carries, to download before storing it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaRef {
    /// Meta's media id.
    pub id: String,
    /// image | audio | video | document | sticker.
    pub kind: String,
    /// Its type as Meta says (`audio/ogg; codecs=opus`).
    pub mime: String,
    /// The file name the customer gave (documents), or ''.
    pub filename: String,
}

/// A customer's message and the media it carries, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The message.
    pub inbound: Inbound,
    /// Its file.
    pub media: Option<MediaRef>,
}

fn id_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// What one webhook call carries for a number.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// Customers' messages, in order.
    pub messages: Vec<Received>,
    /// Reactions.
    pub reactions: Vec<Reaction>,
    /// Statuses of our messages.
    pub statuses: Vec<StatusUpdate>,
    /// Templates Meta approved, rejected, paused or disabled.
    pub templates: Vec<StatusChange>,
    /// Changes for another number or of another kind, skipped.
    pub skipped: usize,
}

fn s<'a>(v: &'a serde_json::Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str().unwrap_or("")
}

fn label(kind: &str) -> &'static str {
    match kind {
        "image" => "🖼️ Imagem",
        "audio" => "🎤 Áudio",
        "video" => "🎬 Vídeo",
        "document" => "📄 Documento",
        "sticker" => "Figurinha",
        _ => "Mensagem",
    }
}

/// The text agents read for a message of any type (captions kept).
fn body_of(m: &serde_json::Value) -> String {
    let kind = s(m, &["type"]);
    match kind {
        "text" => s(m, &["text", "body"]).to_string(),
        "image" | "audio" | "video" | "document" | "sticker" => {
            let caption = s(m, &[kind, "caption"]);
            let file = s(m, &[kind, "filename"]);
            let mut out = label(kind).to_string();
            if !file.is_empty() {
                out.push_str(&format!(" «{file}»"));
            }
            if kind == "audio" && m["audio"]["voice"].as_bool() == Some(true) {
                out = "🎤 Mensagem de voz".to_string();
            }
            if !caption.is_empty() {
                out.push_str(&format!("\n{caption}"));
            }
            out
        }
        "location" => {
            let loc = &m["location"];
            let (lat, lon) = (loc["latitude"].as_f64().unwrap_or(0.0), loc["longitude"].as_f64().unwrap_or(0.0));
            let mut out = "📍 Localização".to_string();
            for k in ["name", "address"] {
                let v = s(loc, &[k]);
                if !v.is_empty() {
                    out.push_str(&format!(": {v}"));
                }
            }
            out.push_str(&format!("\nhttps://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"));
            out
        }
        "contacts" => {
            let mut out = "👤 Contato compartilhado".to_string();
            for c in m["contacts"].as_array().into_iter().flatten() {
                let name = s(c, &["name", "formatted_name"]);
                out.push_str(&format!("\n{name}"));
                for p in c["phones"].as_array().into_iter().flatten() {
                    out.push_str(&format!(" · {}", s(p, &["phone"])));
                }
                for e in c["emails"].as_array().into_iter().flatten() {
                    out.push_str(&format!(" · {}", s(e, &["email"])));
                }
            }
            out
        }
        "interactive" => {
            let i = &m["interactive"];
            match s(i, &["type"]) {
                "button_reply" => s(i, &["button_reply", "title"]).to_string(),
                "list_reply" => {
                    let (t, d) = (s(i, &["list_reply", "title"]), s(i, &["list_reply", "description"]));
                    if d.is_empty() { t.to_string() } else { format!("{t} — {d}") }
                }
                other => format!("[resposta interativa: {other}]"),
            }
        }
        "button" => s(m, &["button", "text"]).to_string(),
        "" => "[mensagem sem tipo]".to_string(),
        other => format!("[mensagem do tipo «{other}», que o Atende ainda não mostra]"),
    }
}

/// Parses a verified body into what it carries for the number
/// `phone_number_id`. Malformed JSON is an error (400); unknown fields and
/// types are tolerated.
pub fn parse(body: &[u8], phone_number_id: &str, waba_id: &str) -> Result<Batch, String> {
    let env: Envelope = serde_json::from_slice(body).map_err(|e| format!("json: {e}"))?;
    let mut batch = Batch::default();
    if env.object != "whatsapp_business_account" {
        batch.skipped += env.entry.len();
        return Ok(batch);
    }
    for entry in env.entry {
        for ch in entry.changes {
            if ch.field == "message_template_status_update" && !waba_id.is_empty() && entry.id == waba_id {
                let v = &ch.value;
                batch.templates.push(StatusChange {
                    meta_id: id_text(&v["message_template_id"]),
                    name: s(v, &["message_template_name"]).to_string(),
                    language: s(v, &["message_template_language"]).to_string(),
                    event: s(v, &["event"]).to_string(),
                    reason: s(v, &["reason"]).to_string(),
                });
                continue;
            }
            if ch.field != "messages" {
                batch.skipped += 1;
                continue;
            }
            let v: Value = serde_json::from_value(ch.value).map_err(|e| format!("value: {e}"))?;
            if v.metadata.phone_number_id != phone_number_id {
                batch.skipped += 1;
                continue;
            }
            let profile = |wa: &str| {
                v.contacts.iter().find(|c| c.wa_id == wa).map(|c| c.profile.name.clone()).unwrap_or_default()
            };
            for m in &v.messages {
                let from = s(m, &["from"]).to_string();
                let id = s(m, &["id"]).to_string();
                if from.is_empty() || id.is_empty() {
                    batch.skipped += 1;
                    continue;
                }
                let sent_at = s(m, &["timestamp"]).parse::<i64>().unwrap_or(0);
                let inbound = Inbound {
                    profile_name: profile(&from),
                    phone: crate::domain::whatsapp::phone_of(&from),
                    from,
                    external_id: id,
                    body: body_of(m),
                    sent_at,
                };
                if s(m, &["type"]) == "reaction" {
                    batch.reactions.push(Reaction {
                        to: s(m, &["reaction", "message_id"]).to_string(),
                        emoji: s(m, &["reaction", "emoji"]).to_string(),
                        inbound,
                    });
                } else {
                    let kind = s(m, &["type"]);
                    let media =
                        matches!(kind, "image" | "audio" | "video" | "document" | "sticker").then(|| MediaRef {
                            id: s(m, &[kind, "id"]).to_string(),
                            kind: kind.to_string(),
                            mime: s(m, &[kind, "mime_type"]).to_string(),
                            filename: s(m, &[kind, "filename"]).to_string(),
                        });
                    batch.messages.push(Received { inbound, media });
                }
            }
            for st in v.statuses {
                let reason = st
                    .errors
                    .first()
                    .map(|e| {
                        let text = if e.message.is_empty() { &e.title } else { &e.message };
                        super::graph::reason_for(e.code, text)
                    })
                    .unwrap_or_default();
                batch.statuses.push(StatusUpdate {
                    wamid: st.id,
                    status: st.status,
                    callback: st.biz_opaque_callback_data,
                    reason,
                });
            }
        }
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_checked_on_the_raw_bytes_in_constant_time() {
        let body = br#"{"object":"whatsapp_business_account"}"#;
        let mut mac = Hmac::<Sha256>::new_from_slice(b"segredo").unwrap();
        mac.update(body);
        let good = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert!(signature_ok("segredo", body, Some(&good)));
        assert!(!signature_ok("outro", body, Some(&good)));
        assert!(!signature_ok("segredo", b"{}", Some(&good)));
        assert!(!signature_ok("segredo", body, None));
        assert!(!signature_ok("segredo", body, Some("sha256=zz")));
        assert!(!signature_ok("segredo", body, Some(&good.replace("sha256=", "sha1="))));
    }

    #[test]
    fn every_type_reads_as_text() {
        let m = serde_json::json!({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "1", "title": "Boleto", "description": "2ª via"}}});
        assert_eq!(body_of(&m), "Boleto — 2ª via");
        let m = serde_json::json!({"type": "location", "location": {"latitude": -23.5, "longitude": -46.6, "name": "Loja"}});
        assert!(body_of(&m).starts_with("📍 Localização: Loja\nhttps://www.openstreetmap.org/?mlat=-23.5&mlon=-46.6"));
        let m = serde_json::json!({"type": "ephemeral"});
        assert!(body_of(&m).contains("«ephemeral»"));
    }
}
