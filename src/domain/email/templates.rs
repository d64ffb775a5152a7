//! Modelos HTML de e-mail: a subject and an HTML body with placeholders,
//! sanitised when saved and again once filled. The default template wraps
//! every agent reply sent by e-mail ({{conteudo}} is the reply, its line
//! breaks kept); another can be chosen for a reply, for a conversation an
//! agent starts, or for an e-mail activity. Templates are deactivated, never
//! deleted.

use rusqlite::{Connection, OptionalExtension, params};

use super::html::sanitize_html;
use crate::domain::validate::{self, FormErrors, Input};
use crate::domain::{Actor, audit};
use crate::error::{AppError, AppResult};

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &["cliente.nome", "agente", "empresa", "protocolo", "conteudo"];
/// The longest HTML body accepted (bytes).
pub const MAX_HTML: usize = 100 * 1024;
/// The longest subject (characters).
pub const MAX_SUBJECT: usize = 200;

/// A stored template.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Template {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Subject of a conversation it starts ('' = the agent's words).
    pub subject: String,
    /// Sanitised HTML with placeholders.
    pub html: String,
    /// Wraps every reply that names no other.
    pub is_default: bool,
    /// Offered to agents.
    pub active: bool,
    /// Last change.
    pub updated_at: i64,
}

const SELECT: &str = "SELECT id, name, subject, html, is_default, active, updated_at FROM email_templates";

fn row(r: &rusqlite::Row) -> rusqlite::Result<Template> {
    Ok(Template {
        id: r.get(0)?,
        name: r.get(1)?,
        subject: r.get(2)?,
        html: r.get(3)?,
        is_default: r.get(4)?,
        active: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

/// Every template, the default first, then by name.
pub fn list(conn: &Connection) -> AppResult<Vec<Template>> {
    let mut s = conn.prepare_cached(&format!("{SELECT} ORDER BY is_default DESC, active DESC, name COLLATE NOCASE"))?;
    let v = s.query_map([], row)?.collect::<Result<_, _>>()?;
    Ok(v)
}

/// The active templates agents may choose: (id, name, is default).
pub fn choices(conn: &Connection) -> AppResult<Vec<(i64, String, bool)>> {
    let mut s = conn.prepare_cached(
        "SELECT id, name, is_default FROM email_templates WHERE active = 1 ORDER BY is_default DESC, name COLLATE NOCASE",
    )?;
    let v = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
    Ok(v)
}

/// One template; NotFound when there is none.
pub fn get(conn: &Connection, id: i64) -> AppResult<Template> {
    conn.prepare_cached(&format!("{SELECT} WHERE id = ?1"))?.query_row([id], row).optional()?.ok_or(AppError::NotFound)
}

/// Which template an e-mail uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pick {
    /// The default template (none set: the plain wrapper).
    #[default]
    Default,
    /// No template: the plain wrapper.
    Plain,
    /// This template (it must be active).
    Id(i64),
}

impl Pick {
    /// Reads a form's choice: '' is the default, "0" none, else an id.
    pub fn parse(v: &str) -> AppResult<Pick> {
        match v.trim() {
            "" => Ok(Pick::Default),
            "0" => Ok(Pick::Plain),
            s => s.parse::<i64>().ok().filter(|n| *n > 0).map(Pick::Id).ok_or(AppError::BadRequest("mail.tpl_unknown")),
        }
    }
}

/// The template `pick` names, if any; an inactive or unknown one is refused.
pub fn resolve(conn: &Connection, pick: Pick) -> AppResult<Option<Template>> {
    match pick {
        Pick::Plain => Ok(None),
        Pick::Default => Ok(conn
            .prepare_cached(&format!("{SELECT} WHERE is_default = 1 AND active = 1"))?
            .query_row([], row)
            .optional()?),
        Pick::Id(id) => match get(conn, id) {
            Ok(t) if t.active => Ok(Some(t)),
            Ok(_) | Err(AppError::NotFound) => Err(AppError::BadRequest("mail.tpl_unknown")),
            Err(e) => Err(e),
        },
    }
}

/// What the placeholders stand for in one e-mail.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    /// {{cliente.nome}}
    pub customer: String,
    /// {{agente}}
    pub agent: String,
    /// {{empresa}}
    pub business: String,
    /// {{protocolo}}: the conversation's number.
    pub protocol: String,
    /// {{conteudo}}: the agent's text (plain; turned into HTML when filled).
    pub content: String,
}

impl Vars {
    fn value(&self, name: &str, html: bool) -> String {
        let v = match name {
            "cliente.nome" => &self.customer,
            "agente" => &self.agent,
            "empresa" => &self.business,
            "protocolo" => &self.protocol,
            "conteudo" => &self.content,
            _ => return String::new(),
        };
        if html { super::outgoing::text_to_html(v) } else { v.replace(['\r', '\n'], " ") }
    }
}

/// The placeholders of `s` in order: (byte range, name as written trimmed).
/// An opening `{{` with no closing `}}` is an error.
fn placeholders(s: &str) -> Result<Vec<(usize, usize, &str)>, ()> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = s[at..].find("{{") {
        let start = at + i;
        let Some(j) = s[start + 2..].find("}}") else { return Err(()) };
        let end = start + 2 + j + 2;
        out.push((start, end, s[start + 2..end - 2].trim()));
        at = end;
    }
    Ok(out)
}

/// Whether every placeholder of `s` is known.
fn known(s: &str) -> bool {
    placeholders(s).is_ok_and(|v| v.iter().all(|(_, _, n)| PLACEHOLDERS.contains(n)))
}

/// `s` with its placeholders filled (HTML-escaped when `html`).
fn fill(s: &str, vars: &Vars, html: bool) -> String {
    let Ok(list) = placeholders(s) else { return s.to_string() };
    let mut out = String::with_capacity(s.len() + vars.content.len());
    let mut at = 0;
    for (start, end, name) in list {
        out.push_str(&s[at..start]);
        out.push_str(&vars.value(name, html));
        at = end;
    }
    out.push_str(&s[at..]);
    out
}

/// A whole HTML document around a sanitised body.
pub fn document(body: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"></head>\
         <body>{body}</body></html>"
    )
}

/// The filled subject (one line) and the HTML document of an e-mail made
/// with `t`. The filled body is sanitised again, so nothing a value carries
/// can add markup.
pub fn render(t: &Template, vars: &Vars) -> (String, String) {
    let (subject, body) = render_body(t, vars);
    (subject, document(&body))
}

/// [`render`] without the document around the body (the preview puts it in
/// a frame's document of its own).
pub fn render_body(t: &Template, vars: &Vars) -> (String, String) {
    let subject = fill(&t.subject, vars, false).trim().chars().take(MAX_SUBJECT).collect();
    let (body, _) = sanitize_html(&fill(&t.html, vars, true));
    (subject, body)
}

/// The plain wrapper of a reply sent with no template.
pub fn plain(text: &str) -> String {
    document(&format!("<div>{}</div>", super::outgoing::text_to_html(text)))
}

/// Values that show what a template will look like.
pub fn sample(business: &str, agent: &str) -> Vars {
    Vars {
        customer: "Maria Souza".into(),
        agent: agent.into(),
        business: business.into(),
        protocol: "1234".into(),
        content:
            "Olá, Maria!\n\nSeu pedido foi enviado hoje e chega em até 3 dias úteis.\n\n-- \nEquipe de atendimento"
                .into(),
    }
}

/// A template as typed in the admin form.
#[derive(Clone, Debug, Default)]
pub struct Form {
    /// Name.
    pub name: String,
    /// Subject.
    pub subject: String,
    /// HTML as typed.
    pub html: String,
    /// Make it the default.
    pub is_default: bool,
    /// Offered to agents.
    pub active: bool,
}

impl Form {
    /// Reads the admin form.
    pub fn read(input: &Input) -> Form {
        Form {
            name: input.get("name").to_string(),
            subject: input.get("subject").to_string(),
            html: input.raw("html").to_string(),
            is_default: input.checked("is_default"),
            active: input.checked("active"),
        }
    }

    /// The form filled with a stored template.
    pub fn of(t: &Template) -> Form {
        Form {
            name: t.name.clone(),
            subject: t.subject.clone(),
            html: t.html.clone(),
            is_default: t.is_default,
            active: t.active,
        }
    }
}

/// Checks a typed template and gives the HTML to store (sanitised).
pub fn check(f: &Form) -> Result<String, FormErrors> {
    let mut errs = FormErrors::default();
    let input = Input::from_pairs([("name", f.name.as_str()), ("subject", f.subject.as_str())]);
    validate::text(&input, "name", true, 80, &mut errs);
    validate::text(&input, "subject", false, MAX_SUBJECT, &mut errs);
    if f.subject.contains(['\r', '\n']) {
        errs.add("subject", "val.invalid_chars");
    } else if !known(&f.subject) {
        errs.add("subject", "mail.tpl_unknown_placeholder");
    }
    let html = f.html.trim();
    let mut clean = String::new();
    if html.is_empty() {
        errs.add("html", "val.required");
    } else if html.len() > MAX_HTML {
        errs.add("html", "mail.tpl_too_long");
    } else if !known(html) {
        errs.add("html", "mail.tpl_unknown_placeholder");
    } else {
        clean = sanitize_html(html).0;
        if !placeholders(&clean).is_ok_and(|v| v.iter().any(|(_, _, n)| *n == "conteudo")) {
            errs.add("html", "mail.tpl_needs_content");
        }
    }
    if f.is_default && !f.active {
        errs.add("is_default", "mail.tpl_default_inactive");
    }
    if errs.is_empty() { Ok(clean) } else { Err(errs) }
}

/// Saves a new (`id` None) or changed template (audited). Making it the
/// default takes the mark from the one that had it.
pub fn save(conn: &Connection, actor: &Actor, id: Option<i64>, f: &Form) -> AppResult<i64> {
    let html = check(f).map_err(AppError::Invalid)?;
    if let Some(id) = id {
        get(conn, id)?;
    }
    if f.is_default {
        conn.prepare_cached("UPDATE email_templates SET is_default = 0 WHERE is_default = 1 AND id IS NOT ?1")?
            .execute([id])?;
    }
    let r = match id {
        None => conn
            .prepare_cached(
                "INSERT INTO email_templates (name, subject, html, is_default, active, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            )?
            .execute(params![f.name.trim(), f.subject.trim(), html, f.is_default, f.active, actor.now])
            .map(|_| conn.last_insert_rowid()),
        Some(id) => conn
            .prepare_cached(
                "UPDATE email_templates SET name = ?2, subject = ?3, html = ?4, is_default = ?5, active = ?6,
                   updated_at = ?7 WHERE id = ?1",
            )?
            .execute(params![id, f.name.trim(), f.subject.trim(), html, f.is_default, f.active, actor.now])
            .map(|_| id),
    };
    let id = r.map_err(|e| {
        if validate::is_unique_violation(&e) { FormErrors::one("name", "val.name_taken") } else { e.into() }
    })?;
    let detail =
        format!("{}{}", if f.is_default { "padrão; " } else { "" }, if f.active { "ativo" } else { "inativo" });
    audit::record(conn, actor, "email.template_saved", f.name.trim(), &detail)?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(html: &str, subject: &str) -> Template {
        Template { html: html.into(), subject: subject.into(), active: true, ..Default::default() }
    }

    #[test]
    fn placeholders_are_filled_escaped_and_the_result_sanitised_again() {
        let vars = Vars {
            customer: "Ana <b>\"x\"".into(),
            agent: "João".into(),
            business: "Loja & Cia".into(),
            protocol: "42".into(),
            content: "linha 1\n<script>alert(1)</script>".into(),
        };
        let (subject, html) = render(
            &t("<p>{{ cliente.nome }} · {{empresa}}</p>{{conteudo}}<i>{{agente}}</i>", "Pedido {{protocolo}}\n"),
            &vars,
        );
        assert_eq!(subject, "Pedido 42");
        assert!(html.contains("Ana &lt;b&gt;"), "{html}");
        assert!(html.contains("Loja &amp; Cia"), "{html}");
        assert!(html.contains("linha 1<br>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("<i>João</i>"), "{html}");
    }

    #[test]
    fn a_value_cannot_turn_an_attribute_into_a_script_link() {
        let vars = Vars { customer: "javascript:alert(1)".into(), ..Default::default() };
        let (_, html) = render(&t("<a href=\"{{cliente.nome}}\">x</a>{{conteudo}}", ""), &vars);
        assert!(!html.contains("javascript:"), "{html}");
    }

    #[test]
    fn checking_refuses_unknown_placeholders_scripts_survive_nowhere_and_content_is_required() {
        let f = |html: &str| Form { name: "A".into(), html: html.into(), active: true, ..Default::default() };
        assert!(check(&f("<p>{{nome}}</p>{{conteudo}}")).unwrap_err().get("html").is_some());
        assert!(check(&f("<p>{{conteudo</p>")).unwrap_err().get("html").is_some());
        assert!(check(&f("<p>sem texto</p>")).unwrap_err().get("html").is_some());
        // Inside a script the placeholder is dropped with the script: still refused.
        assert!(check(&f("<script>{{conteudo}}</script>")).unwrap_err().get("html").is_some());
        let ok = check(&f("<p onclick=\"x()\" style=\"color:red\">{{conteudo}}</p><iframe src=x></iframe>"));
        let ok = ok.expect("valid");
        assert!(!ok.contains("onclick") && !ok.contains("iframe") && ok.contains("color:red"), "{ok}");
        let bad_subject = Form { subject: "Oi\r\nBcc: x@y".into(), ..f("{{conteudo}}") };
        assert!(check(&bad_subject).unwrap_err().get("subject").is_some());
        let inactive_default = Form { is_default: true, active: false, ..f("{{conteudo}}") };
        assert!(check(&inactive_default).unwrap_err().get("is_default").is_some());
    }
}
