//! Modelos de mensagem: a number's WhatsApp templates as Meta approved them,
//! kept here (synchronised from the Graph API, statuses applied from the
//! webhook) so the picker works offline; their parameters, what an agent must
//! fill, the preview and the documented JSON that sends one.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;

use crate::error::{AppError, AppResult};

/// The most parameters a template may ask for (Meta's limit is far lower in
/// practice; this bounds a hostile sync).
const MAX_PARAMS: usize = 40;
/// The longest value one parameter may take.
pub const MAX_PARAM_CHARS: usize = 1024;

/// Where a parameter sits: the header's text or the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The TEXT header.
    Header,
    /// The body.
    Body,
}

/// One parameter an agent fills.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// Header or body.
    pub part: Part,
    /// `1`, `2`… (positional) or the parameter's name (named).
    pub key: String,
}

impl Param {
    /// The form field carrying its value.
    pub fn input(&self) -> String {
        match self.part {
            Part::Header => format!("h_{}", self.key),
            Part::Body => format!("p_{}", self.key),
        }
    }
}

/// A template as stored.
#[derive(Clone, Debug, Default)]
pub struct Template {
    /// Our id.
    pub id: i64,
    /// The queue (number) it belongs to.
    pub queue_id: i64,
    /// Name at Meta.
    pub name: String,
    /// Language code (`pt_BR`).
    pub language: String,
    /// MARKETING | UTILITY | AUTHENTICATION.
    pub category: String,
    /// APPROVED | PENDING | REJECTED | PAUSED | DISABLED | …
    pub status: String,
    /// Why Meta rejected or paused it.
    pub reason: String,
    /// Whether parameters are named (`{{nome}}`) rather than positional.
    pub named: bool,
    /// Header format ('' none, TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION).
    pub header_kind: String,
    /// Header text (TEXT headers).
    pub header: String,
    /// Body text with its `{{…}}` placeholders.
    pub body: String,
    /// Footer text.
    pub footer: String,
    /// Buttons' labels.
    pub buttons: Vec<String>,
    /// Whether a button needs a parameter of its own (a dynamic URL).
    pub button_params: bool,
    /// Parameter (its input name) → contact field that prefills it
    /// (`name`, `phone`, `email` or `f:<field id>`).
    pub fields: BTreeMap<String, String>,
}

/// The `{{…}}` placeholders of a text, in order, each once.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else { break };
        let key = after[..j].trim();
        if !key.is_empty()
            && key.len() <= 60
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !out.iter().any(|k| k == key)
        {
            out.push(key.to_string());
        }
        rest = &after[j + 2..];
    }
    out
}

fn substitute(text: &str, values: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            out.push_str(&rest[i..]);
            return out;
        };
        let key = after[..j].trim();
        match values(key) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[i..i + 2 + j + 2]),
        }
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    out
}

impl Template {
    /// What an agent fills: the header's parameters, then the body's.
    pub fn params(&self) -> Vec<Param> {
        let mut v: Vec<Param> = Vec::new();
        if self.header_kind == "TEXT" {
            v.extend(placeholders(&self.header).into_iter().map(|key| Param { part: Part::Header, key }));
        }
        v.extend(placeholders(&self.body).into_iter().map(|key| Param { part: Part::Body, key }));
        v.truncate(MAX_PARAMS);
        v
    }

    /// Why it cannot be sent from the desk, if it cannot: not approved, or a
    /// part the picker does not fill (a media header, a button parameter).
    pub fn unusable(&self) -> Option<&'static str> {
        if self.status != "APPROVED" {
            Some("wa.tpl.not_approved")
        } else if !matches!(self.header_kind.as_str(), "" | "TEXT") {
            Some("wa.tpl.media_header")
        } else if self.button_params {
            Some("wa.tpl.button_param")
        } else {
            None
        }
    }

    /// The message as the customer reads it, with `values` (input name →
    /// value) in place; a parameter without a value keeps its `{{…}}`.
    pub fn render(&self, values: &BTreeMap<String, String>) -> String {
        let get = |part: Part| {
            move |key: &str| {
                let p = Param { part, key: key.to_string() };
                values.get(&p.input()).filter(|v| !v.trim().is_empty()).cloned()
            }
        };
        let mut parts = Vec::new();
        if self.header_kind == "TEXT" && !self.header.is_empty() {
            parts.push(substitute(&self.header, &get(Part::Header)));
        }
        parts.push(substitute(&self.body, &get(Part::Body)));
        let tail = self.tail();
        if !tail.is_empty() {
            parts.push(tail);
        }
        parts.join("\n\n")
    }

    /// What follows the body in [`Template::render`]: the footer and the
    /// buttons' labels.
    pub fn tail(&self) -> String {
        let mut parts = Vec::new();
        if !self.footer.is_empty() {
            parts.push(self.footer.clone());
        }
        if !self.buttons.is_empty() {
            parts.push(self.buttons.iter().map(|b| format!("[{b}]")).collect::<Vec<_>>().join(" "));
        }
        parts.join("\n\n")
    }

    /// Checks the agent's values: every parameter filled, none too long.
    /// Returns them trimmed, in [`Template::params`] order.
    pub fn check_values(&self, values: &BTreeMap<String, String>) -> AppResult<Vec<(Param, String)>> {
        if let Some(k) = self.unusable() {
            return Err(AppError::Conflict(k));
        }
        let mut out = Vec::new();
        for p in self.params() {
            let v = values.get(&p.input()).map(|v| v.trim()).unwrap_or("");
            if v.is_empty() {
                return Err(AppError::BadRequest("wa.tpl.missing_param"));
            }
            if v.chars().count() > MAX_PARAM_CHARS || v.contains(['\n', '\t']) && p.part == Part::Header {
                return Err(AppError::BadRequest("wa.tpl.bad_param"));
            }
            out.push((p, v.to_string()));
        }
        Ok(out)
    }

    /// The documented JSON that sends this template to `to` with checked
    /// `values`, tagged with our outbox id (echoed back in statuses).
    pub fn payload(&self, to: &str, values: &[(Param, String)], outbox_id: i64) -> String {
        let param = |p: &Param, v: &str| {
            if self.named {
                serde_json::json!({"type": "text", "parameter_name": p.key, "text": v})
            } else {
                serde_json::json!({"type": "text", "text": v})
            }
        };
        let mut components = Vec::new();
        for part in [Part::Header, Part::Body] {
            let ps: Vec<_> = values.iter().filter(|(p, _)| p.part == part).map(|(p, v)| param(p, v)).collect();
            if !ps.is_empty() {
                let kind = if part == Part::Header { "header" } else { "body" };
                components.push(serde_json::json!({"type": kind, "parameters": ps}));
            }
        }
        serde_json::json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "template",
            "template": {"name": self.name, "language": {"code": self.language}, "components": components},
            "biz_opaque_callback_data": format!("atende:{outbox_id}"),
        })
        .to_string()
    }
}

/// A template as the Graph API lists it (`GET /{waba}/message_templates`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Listed {
    /// Meta's id.
    #[serde(default)]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Language code.
    #[serde(default)]
    pub language: String,
    /// Status.
    #[serde(default)]
    pub status: String,
    /// Category.
    #[serde(default)]
    pub category: String,
    /// POSITIONAL | NAMED.
    #[serde(default)]
    pub parameter_format: String,
    /// Why it was rejected.
    #[serde(default)]
    pub rejected_reason: String,
    /// Header, body, footer, buttons.
    #[serde(default)]
    pub components: Vec<Component>,
}

/// One component of a listed template.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Component {
    /// HEADER | BODY | FOOTER | BUTTONS.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Header format.
    #[serde(default)]
    pub format: String,
    /// Text.
    #[serde(default)]
    pub text: String,
    /// Buttons.
    #[serde(default)]
    pub buttons: Vec<Button>,
}

/// One button of a listed template.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Button {
    /// QUICK_REPLY | URL | PHONE_NUMBER | COPY_CODE | …
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Label.
    #[serde(default)]
    pub text: String,
    /// URL (may carry `{{1}}`).
    #[serde(default)]
    pub url: String,
}

fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

impl Listed {
    fn template(&self, queue_id: i64) -> Template {
        let mut t = Template {
            queue_id,
            name: clip(&self.name, 512),
            language: clip(&self.language, 16),
            category: clip(&self.category, 32),
            status: clip(&self.status.to_ascii_uppercase(), 32),
            reason: clip(&self.rejected_reason, 200),
            named: self.parameter_format.eq_ignore_ascii_case("NAMED"),
            ..Default::default()
        };
        if t.reason == "NONE" {
            t.reason.clear();
        }
        for c in &self.components {
            match c.kind.to_ascii_uppercase().as_str() {
                "HEADER" => {
                    t.header_kind = clip(&c.format.to_ascii_uppercase(), 16);
                    t.header = clip(&c.text, 200);
                }
                "BODY" => t.body = clip(&c.text, 2048),
                "FOOTER" => t.footer = clip(&c.text, 200),
                "BUTTONS" => {
                    for b in c.buttons.iter().take(10) {
                        t.buttons.push(clip(&b.text, 60));
                        if b.kind.eq_ignore_ascii_case("URL") && b.url.contains("{{") {
                            t.button_params = true;
                        }
                    }
                }
                _ => {}
            }
        }
        t
    }
}

/// Whether a listed template can be kept: a name and language that look
/// like Meta's.
fn listable(l: &Listed) -> bool {
    let ok = |s: &str, n: usize| {
        !s.is_empty() && s.len() <= n && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    ok(&l.name, 512) && ok(&l.language, 16)
}

const COLS: &str = "id, queue_id, name, language, category, status, reason, named, header_kind, header, body, footer,
    buttons, button_params, fields";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Template> {
    let buttons: String = r.get(12)?;
    let fields: String = r.get(14)?;
    Ok(Template {
        id: r.get(0)?,
        queue_id: r.get(1)?,
        name: r.get(2)?,
        language: r.get(3)?,
        category: r.get(4)?,
        status: r.get(5)?,
        reason: r.get(6)?,
        named: r.get(7)?,
        header_kind: r.get(8)?,
        header: r.get(9)?,
        body: r.get(10)?,
        footer: r.get(11)?,
        buttons: serde_json::from_str(&buttons).unwrap_or_default(),
        button_params: r.get(13)?,
        fields: serde_json::from_str(&fields).unwrap_or_default(),
    })
}

/// A queue's templates, by name and language.
pub fn list(conn: &Connection, queue_id: i64) -> AppResult<Vec<Template>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM whatsapp_templates WHERE queue_id = ?1 ORDER BY name, language"
    ))?;
    let v = st.query_map([queue_id], from_row)?.collect::<Result<_, _>>()?;
    Ok(v)
}

/// The templates an agent may send from a queue now (approved, with parts
/// the picker fills).
pub fn usable(conn: &Connection, queue_id: i64) -> AppResult<Vec<Template>> {
    Ok(list(conn, queue_id)?.into_iter().filter(|t| t.unusable().is_none()).collect())
}

/// One template of a queue (NotFound for another queue's).
pub fn get(conn: &Connection, queue_id: i64, id: i64) -> AppResult<Template> {
    conn.prepare_cached(&format!("SELECT {COLS} FROM whatsapp_templates WHERE id = ?1 AND queue_id = ?2"))?
        .query_row([id, queue_id], from_row)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// What a synchronisation did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Synced {
    /// Templates listed by Meta and kept.
    pub kept: usize,
    /// Templates gone from Meta and removed here.
    pub removed: usize,
}

/// Stores what a complete listing returned: each template upserted (its
/// field mapping kept), those Meta no longer lists removed. Part of the
/// caller's transaction.
pub fn store_listing(conn: &Connection, queue_id: i64, listed: &[Listed], now: i64) -> AppResult<Synced> {
    let mut kept: Vec<i64> = Vec::new();
    for l in listed.iter().filter(|l| listable(l)) {
        let t = l.template(queue_id);
        conn.prepare_cached(
            "INSERT INTO whatsapp_templates (queue_id, meta_id, name, language, category, status, reason, named,
               header_kind, header, body, footer, buttons, button_params, seen_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15)
             ON CONFLICT (queue_id, name, language) DO UPDATE SET meta_id = ?2, category = ?5, status = ?6,
               reason = ?7, named = ?8, header_kind = ?9, header = ?10, body = ?11, footer = ?12, buttons = ?13,
               button_params = ?14, seen_at = ?15, updated_at = ?15
             RETURNING id",
        )?
        .query_row(
            params![
                queue_id,
                clip(&l.id, 40),
                t.name,
                t.language,
                t.category,
                t.status,
                t.reason,
                t.named,
                t.header_kind,
                t.header,
                t.body,
                t.footer,
                serde_json::to_string(&t.buttons).unwrap_or_else(|_| "[]".into()),
                t.button_params,
                now
            ],
            |r| r.get::<_, i64>(0),
        )
        .map(|id| kept.push(id))?;
    }
    let stored: Vec<i64> = conn
        .prepare_cached("SELECT id FROM whatsapp_templates WHERE queue_id = ?1")?
        .query_map([queue_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut removed = 0;
    for id in stored.into_iter().filter(|id| !kept.contains(id)) {
        removed += conn.prepare_cached("DELETE FROM whatsapp_templates WHERE id = ?1")?.execute([id])?;
    }
    conn.prepare_cached(
        "UPDATE whatsapp_numbers SET templates_synced_at = ?2, templates_error = '' WHERE queue_id = ?1",
    )?
    .execute(params![queue_id, now])?;
    Ok(Synced { kept: kept.len(), removed })
}

/// Records why a synchronisation failed (pt-BR, never a secret).
pub fn sync_failed(conn: &Connection, queue_id: i64, reason: &str) -> AppResult<()> {
    conn.prepare_cached("UPDATE whatsapp_numbers SET templates_error = ?2 WHERE queue_id = ?1")?
        .execute(params![queue_id, clip(reason, 300)])?;
    Ok(())
}

/// When the templates were last synchronised and what the last failure said.
pub fn sync_state(conn: &Connection, queue_id: i64) -> AppResult<(Option<i64>, String)> {
    Ok(conn
        .prepare_cached("SELECT templates_synced_at, templates_error FROM whatsapp_numbers WHERE queue_id = ?1")?
        .query_row([queue_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((None, String::new())))
}

/// A `message_template_status_update` from the webhook: a template's new
/// status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusChange {
    /// Meta's id of the template.
    pub meta_id: String,
    /// Its name.
    pub name: String,
    /// Its language.
    pub language: String,
    /// APPROVED | REJECTED | PAUSED | DISABLED | PENDING_DELETION | …
    pub event: String,
    /// Why (NONE when there is no reason).
    pub reason: String,
}

/// Applies a status change to the template it names (by Meta's id, else
/// name and language). Returns whether a stored template changed; an
/// unknown one waits for the next synchronisation.
pub fn apply_status(conn: &Connection, queue_id: i64, c: &StatusChange, now: i64) -> AppResult<bool> {
    let status = clip(&c.event.to_ascii_uppercase(), 32);
    let reason = if c.reason.eq_ignore_ascii_case("NONE") { String::new() } else { clip(&c.reason, 200) };
    let n = conn
        .prepare_cached(
            "UPDATE whatsapp_templates SET status = ?5, reason = ?6, updated_at = ?7
             WHERE queue_id = ?1 AND ((?2 <> '' AND meta_id = ?2) OR (name = ?3 AND language = ?4))",
        )?
        .execute(params![queue_id, c.meta_id, c.name, c.language, status, reason, now])?;
    Ok(n > 0)
}

/// The contact fields a parameter may be prefilled from: code and label key
/// or field name.
pub fn field_sources(conn: &Connection) -> AppResult<Vec<(String, String)>> {
    let mut v = vec![
        ("name".to_string(), "contact.name".to_string()),
        ("phone".to_string(), "contact.phone".to_string()),
        ("email".to_string(), "contact.email".to_string()),
    ];
    for f in crate::domain::contacts::fields(conn)? {
        v.push((format!("f:{}", f.id), f.name));
    }
    Ok(v)
}

/// Saves which contact field prefills each parameter (admins). A source that
/// is not one is refused.
pub fn save_fields(conn: &Connection, queue_id: i64, id: i64, map: &BTreeMap<String, String>) -> AppResult<()> {
    let t = get(conn, queue_id, id)?;
    let sources = field_sources(conn)?;
    let inputs: Vec<String> = t.params().iter().map(Param::input).collect();
    let mut keep = BTreeMap::new();
    for (k, v) in map {
        if v.is_empty() {
            continue;
        }
        if !inputs.contains(k) || !sources.iter().any(|(code, _)| code == v) {
            return Err(AppError::BadRequest("wa.tpl.bad_field"));
        }
        keep.insert(k.clone(), v.clone());
    }
    conn.prepare_cached("UPDATE whatsapp_templates SET fields = ?3 WHERE id = ?1 AND queue_id = ?2")?
        .execute(params![id, queue_id, serde_json::to_string(&keep).unwrap_or_else(|_| "{}".into())])?;
    Ok(())
}

/// The values a template's parameters start with for a contact, from the
/// mapped fields.
pub fn prefill(conn: &Connection, t: &Template, contact_id: i64) -> AppResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    if t.fields.is_empty() {
        return Ok(out);
    }
    let (name, phone, email): (String, String, String) = conn
        .prepare_cached("SELECT name, phone, email FROM contacts WHERE id = ?1")?
        .query_row([contact_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .unwrap_or_default();
    for (input, source) in &t.fields {
        let v = match source.as_str() {
            "name" => name.clone(),
            "phone" => phone.clone(),
            "email" => email.clone(),
            s => match s.strip_prefix("f:").and_then(|n| n.parse::<i64>().ok()) {
                Some(fid) => conn
                    .prepare_cached("SELECT value FROM contact_values WHERE contact_id = ?1 AND field_id = ?2")?
                    .query_row([contact_id, fid], |r| r.get(0))
                    .optional()?
                    .unwrap_or_default(),
                None => String::new(),
            },
        };
        if !v.is_empty() {
            out.insert(input.clone(), v);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Template {
        Template {
            name: "lembrete".into(),
            language: "pt_BR".into(),
            status: "APPROVED".into(),
            header_kind: "TEXT".into(),
            header: "Olá {{1}}".into(),
            body: "Seu pedido {{1}} chega {{2}}. {{1}}!".into(),
            footer: "Loja".into(),
            buttons: vec!["Sim".into()],
            ..Default::default()
        }
    }

    #[test]
    fn parameters_are_found_once_each_in_order() {
        assert_eq!(placeholders("a {{1}} b {{ 2 }} c {{1}} {{nome_cliente}} {{}} {{x y}}"), ["1", "2", "nome_cliente"]);
        let t = sample();
        let ps: Vec<String> = t.params().iter().map(Param::input).collect();
        assert_eq!(ps, ["h_1", "p_1", "p_2"]);
    }

    #[test]
    fn the_preview_fills_what_is_given_and_keeps_the_rest_visible() {
        let t = sample();
        let mut v = BTreeMap::new();
        v.insert("p_1".to_string(), "123".to_string());
        assert_eq!(t.render(&v), "Olá {{1}}\n\nSeu pedido 123 chega {{2}}. 123!\n\nLoja\n\n[Sim]");
    }

    #[test]
    fn a_missing_parameter_is_refused_and_the_payload_is_metas_json() {
        let t = sample();
        let mut v = BTreeMap::new();
        v.insert("h_1".to_string(), "Maria".to_string());
        v.insert("p_1".to_string(), "123".to_string());
        assert!(matches!(t.check_values(&v), Err(AppError::BadRequest("wa.tpl.missing_param"))));
        v.insert("p_2".to_string(), " amanhã ".to_string());
        let vals = t.check_values(&v).expect("complete");
        let p: serde_json::Value = serde_json::from_str(&t.payload("5511987654321", &vals, 7)).expect("json");
        assert_eq!(p["type"], "template");
        assert_eq!(p["template"]["name"], "lembrete");
        assert_eq!(p["template"]["language"]["code"], "pt_BR");
        assert_eq!(p["template"]["components"][0]["type"], "header");
        assert_eq!(p["template"]["components"][0]["parameters"][0]["text"], "Maria");
        assert_eq!(p["template"]["components"][1]["parameters"][1]["text"], "amanhã");
        assert!(p["template"]["components"][1]["parameters"][1].get("parameter_name").is_none());
        assert_eq!(p["biz_opaque_callback_data"], "atende:7");
        let named = Template { named: true, body: "Oi {{nome}}".into(), header_kind: String::new(), ..t };
        let mut v = BTreeMap::new();
        v.insert("p_nome".to_string(), "Ana".to_string());
        let vals = named.check_values(&v).expect("complete");
        let p: serde_json::Value = serde_json::from_str(&named.payload("1", &vals, 1)).expect("json");
        assert_eq!(p["template"]["components"][0]["parameters"][0]["parameter_name"], "nome");
    }

    #[test]
    fn templates_the_picker_cannot_fill_say_why() {
        let mut t = sample();
        t.header_kind = "IMAGE".into();
        assert_eq!(t.unusable(), Some("wa.tpl.media_header"));
        let mut t = sample();
        t.status = "PENDING".into();
        assert_eq!(t.unusable(), Some("wa.tpl.not_approved"));
        let l: Listed = serde_json::from_str(
            r#"{"name":"x","language":"pt_BR","status":"APPROVED","components":[{"type":"BODY","text":"oi"},
            {"type":"BUTTONS","buttons":[{"type":"URL","text":"Ver","url":"https://x.test/{{1}}"}]}]}"#,
        )
        .expect("json");
        assert_eq!(l.template(1).unusable(), Some("wa.tpl.button_param"));
    }
}
