//! The stored templates: listing, what an agent may send, a
//! synchronisation's upsert and removals, the status webhook, and the
//! parameters' contact fields.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::{HeaderFile, Listed, Param, Place, Template, clip, listable};
use crate::error::{AppError, AppResult};

const COLS: &str = "t.id, t.queue_id, t.name, t.language, t.category, t.status, t.reason, t.named, t.header_kind,
    t.header, t.body, t.footer, t.buttons, t.button_params, t.fields, t.url_buttons, t.header_location, m.name, m.mime,
    m.size";

/// The templates with their header file's description (never its bytes).
const FROM: &str = "whatsapp_templates t LEFT JOIN whatsapp_template_media m ON m.template_id = t.id";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Template> {
    let buttons: String = r.get(12)?;
    let fields: String = r.get(14)?;
    let url_buttons: String = r.get(15)?;
    let place: String = r.get(16)?;
    let header_file = match r.get::<_, Option<String>>(17)? {
        Some(name) => Some(HeaderFile { name, mime: r.get(18)?, size: r.get(19)? }),
        None => None,
    };
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
        url_buttons: serde_json::from_str(&url_buttons).unwrap_or_default(),
        place: serde_json::from_str::<Place>(&place).ok(),
        header_file,
    })
}

/// A queue's templates, by name and language.
pub fn list(conn: &Connection, queue_id: i64) -> AppResult<Vec<Template>> {
    let mut st =
        conn.prepare_cached(&format!("SELECT {COLS} FROM {FROM} WHERE t.queue_id = ?1 ORDER BY t.name, t.language"))?;
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
    conn.prepare_cached(&format!("SELECT {COLS} FROM {FROM} WHERE t.id = ?1 AND t.queue_id = ?2"))?
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
               header_kind, header, body, footer, buttons, button_params, url_buttons, seen_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?16, ?15, ?15)
             ON CONFLICT (queue_id, name, language) DO UPDATE SET meta_id = ?2, category = ?5, status = ?6,
               reason = ?7, named = ?8, header_kind = ?9, header = ?10, body = ?11, footer = ?12, buttons = ?13,
               button_params = ?14, url_buttons = ?16, seen_at = ?15, updated_at = ?15
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
                now,
                serde_json::to_string(&t.url_buttons).unwrap_or_else(|_| "[]".into()),
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
        conn.prepare_cached("DELETE FROM whatsapp_template_media WHERE template_id = ?1")?.execute([id])?;
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

/// Stores the file a media header sends (admins), replacing the last one:
/// refused when the template's header is not that kind of file or Meta
/// would refuse its size.
pub fn save_header_file(
    conn: &Connection,
    queue_id: i64,
    id: i64,
    f: &crate::domain::attachments::Upload,
    now: i64,
) -> AppResult<()> {
    let t = get(conn, queue_id, id)?;
    let Some(kind) = super::media_kind(&t.header_kind) else {
        return Err(AppError::BadRequest("wa.tpl.no_file_header"));
    };
    match crate::domain::outbox::whatsapp_media_kind(f.mime) {
        Some((k, cap)) if k == kind => {
            if f.data.len() as u64 > cap {
                return Err(AppError::BadRequest("wa.media_too_big"));
            }
        }
        _ => return Err(AppError::BadRequest("wa.tpl.file_kind")),
    }
    conn.prepare_cached(
        "INSERT INTO whatsapp_template_media (template_id, name, mime, size, data, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (template_id) DO UPDATE SET name = ?2, mime = ?3, size = ?4, data = ?5, updated_at = ?6",
    )?
    .execute(params![id, f.name, f.mime, f.data.len() as i64, f.data, now])?;
    Ok(())
}

/// Sets the place a LOCATION header shows (admins): latitude and longitude
/// in range (a decimal comma accepted), a name, an address.
pub fn save_place(
    conn: &Connection,
    queue_id: i64,
    id: i64,
    lat: &str,
    lng: &str,
    name: &str,
    address: &str,
) -> AppResult<()> {
    let t = get(conn, queue_id, id)?;
    if t.header_kind != "LOCATION" {
        return Err(AppError::BadRequest("wa.tpl.no_place_header"));
    }
    let degrees =
        |s: &str, max: f64| s.trim().replace(',', ".").parse::<f64>().ok().filter(|v| v.is_finite() && v.abs() <= max);
    let (Some(latitude), Some(longitude)) = (degrees(lat, 90.0), degrees(lng, 180.0)) else {
        return Err(AppError::BadRequest("wa.tpl.bad_place"));
    };
    let (name, address) = (name.trim(), address.trim());
    if name.is_empty() || name.chars().count() > 100 || address.chars().count() > 200 {
        return Err(AppError::BadRequest("wa.tpl.bad_place"));
    }
    let place = Place { latitude, longitude, name: name.to_string(), address: address.to_string() };
    conn.prepare_cached("UPDATE whatsapp_templates SET header_location = ?3 WHERE id = ?1 AND queue_id = ?2")?
        .execute(params![id, queue_id, serde_json::to_string(&place).map_err(AppError::internal)?])?;
    Ok(())
}

/// A copy of a template's header file for a message about to be sent
/// (each message keeps the file it sent).
pub fn header_upload(conn: &Connection, id: i64) -> AppResult<crate::domain::attachments::Upload> {
    let (name, data): (String, Vec<u8>) = conn
        .prepare_cached("SELECT name, data FROM whatsapp_template_media WHERE template_id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or(AppError::Conflict("wa.tpl.file_missing"))?;
    let mime = crate::domain::attachments::type_of(&name).map_err(AppError::BadRequest)?;
    Ok(crate::domain::attachments::Upload { name, mime, data })
}
