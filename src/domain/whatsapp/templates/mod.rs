//! Modelos de mensagem: a number's WhatsApp templates as Meta approved them,
//! kept here (synchronised from the Graph API, statuses applied from the
//! webhook) so the picker works offline; their parameters, what an agent must
//! fill, the preview and the documented JSON that sends one.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{AppError, AppResult};

mod store;
pub use store::*;

/// The most parameters a template may ask for (Meta's limit is far lower in
/// practice; this bounds a hostile sync).
const MAX_PARAMS: usize = 40;
/// The longest value one parameter may take.
pub const MAX_PARAM_CHARS: usize = 1024;

/// Where a parameter sits: the header's text, the body or the end of a URL
/// button's link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The TEXT header.
    Header,
    /// The body.
    Body,
    /// A URL button (its key is the button's index).
    Button,
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
            Part::Button => format!("b_{}", self.key),
        }
    }
}

/// Whether a form field names a template parameter.
pub fn is_param_input(name: &str) -> bool {
    name.starts_with("h_") || name.starts_with("p_") || name.starts_with("b_")
}

/// The place a LOCATION header shows, set by an admin.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, Deserialize)]
pub struct Place {
    /// Latitude in degrees.
    pub latitude: f64,
    /// Longitude in degrees.
    pub longitude: f64,
    /// The place's name.
    pub name: String,
    /// Its address.
    pub address: String,
}

/// The file an IMAGE, VIDEO or DOCUMENT header sends, as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderFile {
    /// File name.
    pub name: String,
    /// Media type.
    pub mime: String,
    /// Bytes.
    pub size: i64,
}

/// How WhatsApp names a media header's kind in a message (`image`, `video`,
/// `document`), or None for a header that is not a file.
pub fn media_kind(header_kind: &str) -> Option<&'static str> {
    match header_kind {
        "IMAGE" => Some("image"),
        "VIDEO" => Some("video"),
        "DOCUMENT" => Some("document"),
        _ => None,
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
    /// The URL buttons whose link ends in a parameter: (index, link).
    pub url_buttons: Vec<(usize, String)>,
    /// A LOCATION header's place, once an admin set it.
    pub place: Option<Place>,
    /// A media header's file, once an admin uploaded it.
    pub header_file: Option<HeaderFile>,
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
        v.extend(self.url_buttons.iter().map(|(i, _)| Param { part: Part::Button, key: i.to_string() }));
        v.truncate(MAX_PARAMS);
        v
    }

    /// Why it cannot be sent from the desk, if it cannot: not approved, a
    /// media header without its file (or with a file of another kind), a
    /// LOCATION header without its place, a header of a kind the desk does
    /// not send, or a dynamic button stored before the desk read them.
    pub fn unusable(&self) -> Option<&'static str> {
        if self.status != "APPROVED" {
            return Some("wa.tpl.not_approved");
        }
        match self.header_kind.as_str() {
            "" | "TEXT" => {}
            "LOCATION" if self.place.is_none() => return Some("wa.tpl.place_missing"),
            "LOCATION" => {}
            k => match media_kind(k) {
                None => return Some("wa.tpl.media_header"),
                Some(kind) => {
                    let fits = self.header_file.as_ref().is_some_and(|f| {
                        crate::domain::outbox::whatsapp_media_kind(&f.mime).is_some_and(|(m, _)| m == kind)
                    });
                    if !fits {
                        return Some("wa.tpl.file_missing");
                    }
                }
            },
        }
        if self.button_params && self.url_buttons.is_empty() {
            return Some("wa.tpl.button_param");
        }
        None
    }

    /// The header line of the message as the conversation shows it: the
    /// TEXT header, or the LOCATION header's place (a media header shows
    /// as the attached file).
    fn header_line(&self, values: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        match self.header_kind.as_str() {
            "TEXT" if !self.header.is_empty() => Some(substitute(&self.header, values)),
            "LOCATION" => self.place.as_ref().map(|p| {
                let mut line = format!("📍 {}", p.name);
                if !p.address.is_empty() {
                    line.push_str(" — ");
                    line.push_str(&p.address);
                }
                line
            }),
            _ => None,
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
        if let Some(h) = self.header_line(&get(Part::Header)) {
            parts.push(h);
        }
        parts.push(substitute(&self.body, &get(Part::Body)));
        let tail = substitute(&self.tail(), &get(Part::Button));
        if !tail.is_empty() {
            parts.push(tail);
        }
        parts.join("\n\n")
    }

    /// The header as the page's script fills it (`data-header`): the TEXT
    /// header with its placeholders, or the fixed LOCATION line.
    pub fn header_template(&self) -> String {
        if self.header_kind == "TEXT" {
            return self.header.clone();
        }
        self.header_line(&|_| None).unwrap_or_default()
    }

    /// What follows the body in [`Template::render`]: the footer and the
    /// buttons' labels, a URL button with its link, whose parameter is
    /// written `{{<button index>}}`.
    pub fn tail(&self) -> String {
        let mut parts = Vec::new();
        if !self.footer.is_empty() {
            parts.push(self.footer.clone());
        }
        if !self.buttons.is_empty() {
            let label = |(i, b): (usize, &String)| match self.url_buttons.iter().find(|(j, _)| *j == i) {
                Some((_, url)) => format!("[{b}: {}]", url_with_key(url, i)),
                None => format!("[{b}]"),
            };
            parts.push(self.buttons.iter().enumerate().map(label).collect::<Vec<_>>().join(" "));
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
            let bad = match p.part {
                Part::Header => v.contains(['\n', '\t']),
                Part::Button => v.chars().any(char::is_whitespace),
                Part::Body => false,
            };
            if v.chars().count() > MAX_PARAM_CHARS || bad {
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
        if let Some(h) = self.header_parameter() {
            components.push(serde_json::json!({"type": "header", "parameters": [h]}));
        }
        for part in [Part::Header, Part::Body] {
            let ps: Vec<_> = values.iter().filter(|(p, _)| p.part == part).map(|(p, v)| param(p, v)).collect();
            if !ps.is_empty() {
                let kind = if part == Part::Header { "header" } else { "body" };
                components.push(serde_json::json!({"type": kind, "parameters": ps}));
            }
        }
        for (p, v) in values.iter().filter(|(p, _)| p.part == Part::Button) {
            components.push(serde_json::json!({
                "type": "button", "sub_type": "url", "index": p.key,
                "parameters": [{"type": "text", "text": v}],
            }));
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

    /// A media or LOCATION header's parameter: the file (named by
    /// [`crate::domain::outbox::MEDIA_ID`] until the outbox uploads it) or the
    /// place.
    fn header_parameter(&self) -> Option<serde_json::Value> {
        if self.header_kind == "LOCATION" {
            let p = self.place.as_ref()?;
            return Some(serde_json::json!({"type": "location", "location": {
                "latitude": p.latitude.to_string(), "longitude": p.longitude.to_string(),
                "name": p.name, "address": p.address,
            }}));
        }
        let kind = media_kind(&self.header_kind)?;
        let mut media = serde_json::json!({"id": crate::domain::outbox::MEDIA_ID});
        if kind == "document" {
            media["filename"] = self.header_file.as_ref().map(|f| f.name.clone()).unwrap_or_default().into();
        }
        Some(serde_json::json!({"type": kind, kind: media}))
    }
}

/// A URL button's link with its parameter written `{{<index>}}`, so each
/// button's parameter has its own name in a preview.
fn url_with_key(url: &str, index: usize) -> String {
    match (url.find("{{"), url.rfind("}}")) {
        (Some(a), Some(b)) if b > a => format!("{}{{{{{index}}}}}{}", &url[..a], &url[b + 2..]),
        _ => url.to_string(),
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
    pub(super) fn template(&self, queue_id: i64) -> Template {
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
                    for (i, b) in c.buttons.iter().take(10).enumerate() {
                        t.buttons.push(clip(&b.text, 60));
                        if b.kind.eq_ignore_ascii_case("URL") && b.url.contains("{{") {
                            t.button_params = true;
                            t.url_buttons.push((i, clip(&b.url, 2000)));
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
        assert_eq!(t.unusable(), Some("wa.tpl.file_missing"));
        // A file of another kind than the header's is no file for it.
        t.header_file = Some(HeaderFile { name: "a.pdf".into(), mime: "application/pdf".into(), size: 9 });
        assert_eq!(t.unusable(), Some("wa.tpl.file_missing"));
        t.header_file = Some(HeaderFile { name: "a.png".into(), mime: "image/png".into(), size: 9 });
        assert_eq!(t.unusable(), None);
        t.header_kind = "PRODUCT".into();
        assert_eq!(t.unusable(), Some("wa.tpl.media_header"));
        t.header_kind = "LOCATION".into();
        assert_eq!(t.unusable(), Some("wa.tpl.place_missing"));
        let mut t = sample();
        t.status = "PENDING".into();
        assert_eq!(t.unusable(), Some("wa.tpl.not_approved"));
        // A dynamic button stored before the desk read links: sync again.
        let mut t = sample();
        t.button_params = true;
        assert_eq!(t.unusable(), Some("wa.tpl.button_param"));
    }

    #[test]
    fn a_link_buttons_parameter_is_its_own_and_goes_as_metas_button_component() {
        let l: Listed = serde_json::from_str(
            r#"{"name":"x","language":"pt_BR","status":"APPROVED","components":[{"type":"BODY","text":"oi {{1}}"},
            {"type":"BUTTONS","buttons":[{"type":"URL","text":"Site","url":"https://x.test/"},
             {"type":"URL","text":"Ver","url":"https://x.test/p/{{1}}"}]}]}"#,
        )
        .expect("json");
        let t = l.template(1);
        assert_eq!(t.unusable(), None);
        let ps: Vec<String> = t.params().iter().map(Param::input).collect();
        assert_eq!(ps, ["p_1", "b_1"]);
        assert_eq!(t.tail(), "[Site] [Ver: https://x.test/p/{{1}}]");
        let mut v = BTreeMap::new();
        v.insert("p_1".to_string(), "Ana".to_string());
        v.insert("b_1".to_string(), "42".to_string());
        assert_eq!(t.render(&v), "oi Ana\n\n[Site] [Ver: https://x.test/p/42]");
        let vals = t.check_values(&v).expect("complete");
        let p: serde_json::Value = serde_json::from_str(&t.payload("1", &vals, 1)).expect("json");
        assert_eq!(
            p["template"]["components"][1],
            serde_json::json!({"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "42"}]})
        );
    }
}
