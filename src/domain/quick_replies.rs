//! Quick replies (mensagens rápidas): a shortcut and a text, personal or
//! global. Agents create and delete their own; global ones need the "manage
//! quick replies" permission (administrators have it) and are audited.

use rusqlite::{Connection, OptionalExtension, params};

use super::users::{Permission, User};
use super::{Actor, audit};
use crate::app::AppState;
use crate::error::{AppError, AppResult};

/// Longest shortcut.
pub const MAX_SHORTCUT: usize = 30;
/// Longest text.
pub const MAX_BODY: usize = 2000;

/// A quick reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuickReply {
    /// Id.
    pub id: i64,
    /// Owner; None for a global one.
    pub owner_id: Option<i64>,
    /// Shortcut, typed after "/".
    pub shortcut: String,
    /// Text (may hold {{nome}}, {{agente}}, {{empresa}}).
    pub body: String,
}

/// `user`'s quick replies and the global ones, by shortcut (mine first on a tie).
pub fn list(conn: &Connection, user: &User) -> AppResult<Vec<QuickReply>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, owner_id, shortcut, body FROM quick_replies WHERE owner_id = ?1 OR owner_id IS NULL
         ORDER BY lower(shortcut), owner_id IS NULL, id",
    )?;
    let v = stmt
        .query_map([user.id], |r| {
            Ok(QuickReply { id: r.get(0)?, owner_id: r.get(1)?, shortcut: r.get(2)?, body: r.get(3)? })
        })?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// Reads a shortcut: an optional leading "/", then 1–30 letters, digits, "-" or "_".
pub fn parse_shortcut(s: &str) -> Result<String, &'static str> {
    let s = s.trim().trim_start_matches('/');
    if s.is_empty() {
        return Err("val.required");
    }
    if s.chars().count() > MAX_SHORTCUT {
        return Err("val.too_long");
    }
    if !s.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_') {
        return Err("qr.bad_shortcut");
    }
    Ok(s.to_string())
}

/// Reads a text: 1–2000 characters.
pub fn parse_body(s: &str) -> Result<String, &'static str> {
    let s = s.trim();
    if s.is_empty() {
        return Err("val.required");
    }
    if s.chars().count() > MAX_BODY {
        return Err("val.too_long");
    }
    Ok(s.to_string())
}

/// Creates a quick reply for `user` (or a global one). Returns its id.
pub async fn create(
    state: &AppState,
    user: &User,
    global: bool,
    shortcut: String,
    body: String,
    actor: Actor,
) -> AppResult<i64> {
    if global && !user.can(Permission::ManageQuickReplies) {
        return Err(AppError::Forbidden);
    }
    let owner = if global { None } else { Some(user.id) };
    let now = state.now();
    state
        .db
        .write(move |conn| {
            let taken: bool = conn
                .prepare_cached(
                    "SELECT EXISTS(SELECT 1 FROM quick_replies WHERE coalesce(owner_id, 0) = coalesce(?1, 0)
                     AND lower(shortcut) = lower(?2))",
                )?
                .query_row(params![owner, shortcut], |r| r.get(0))?;
            if taken {
                return Err(AppError::Conflict("qr.taken"));
            }
            conn.prepare_cached(
                "INSERT INTO quick_replies (owner_id, shortcut, body, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![owner, shortcut, body, now])?;
            let id = conn.last_insert_rowid();
            if global {
                audit::record(conn, &actor, "quick_reply.create", &format!("/{shortcut}"), &body)?;
            }
            Ok(id)
        })
        .await
}

/// Deletes one of `user`'s quick replies, or a global one with the
/// permission; anyone else's answers NotFound.
pub async fn delete(state: &AppState, user: &User, id: i64, actor: Actor) -> AppResult<()> {
    let user = user.clone();
    state
        .db
        .write(move |conn| {
            let row: Option<(Option<i64>, String)> = conn
                .prepare_cached("SELECT owner_id, shortcut FROM quick_replies WHERE id = ?1")?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let (owner, shortcut) = row.ok_or(AppError::NotFound)?;
            match owner {
                Some(o) if o == user.id => {}
                None if user.can(Permission::ManageQuickReplies) => {
                    audit::record(conn, &actor, "quick_reply.delete", &format!("/{shortcut}"), "")?;
                }
                None => return Err(AppError::Forbidden),
                Some(_) => return Err(AppError::NotFound),
            }
            conn.prepare_cached("DELETE FROM quick_replies WHERE id = ?1")?.execute([id])?;
            Ok(())
        })
        .await
}

/// The name `{{nome}}` stands for in conversation `id`: the contact's own
/// name, read now (a rename shows at once); '' when none is known, never the
/// "Visitante #N" label, an e-mail or a phone.
pub fn contact_name(conn: &Connection, conversation_id: i64) -> AppResult<String> {
    Ok(conn
        .prepare_cached("SELECT k.name FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = ?1")?
        .query_row([conversation_id], |r| r.get(0))
        .optional()?
        .unwrap_or_default())
}

/// Fills the variables: {{nome}} (the contact's name), {{agente}} (me),
/// {{empresa}} (the business). Unknown variables stay as written. A variable
/// with no value goes away with the separator before it, so "Olá, {{nome}}!"
/// reads "Olá!" for a customer whose name nobody knows. A `contact` that is
/// only the "Visitante #N" label counts as no name.
pub fn fill(body: &str, contact: &str, agent: &str, business: &str) -> String {
    let contact = if super::contacts::is_unnamed_label(contact) { "" } else { contact.trim() };
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let value = match after[..end].trim().to_lowercase().as_str() {
                    "nome" | "name" => Some(contact),
                    "agente" | "agent" => Some(agent.trim()),
                    "empresa" | "business" => Some(business.trim()),
                    _ => None,
                };
                let next = &after[end + 2..];
                rest = match value {
                    Some("") => without_blank(&mut out, next),
                    Some(v) => {
                        out.push_str(v);
                        next
                    }
                    None => {
                        out.push_str(&rest[start..start + 2 + end + 2]);
                        next
                    }
                };
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Closes the gap a variable with no value leaves between `out` (the text
/// before it) and `next` (the text after it); returns what remains of `next`.
fn without_blank<'a>(out: &mut String, next: &'a str) -> &'a str {
    out.truncate(out.trim_end_matches([' ', '\t']).len());
    let punct_follows = next.chars().next().is_none_or(|c| ".,;:!?)".contains(c));
    if punct_follows && out.ends_with(',') {
        out.pop();
    }
    if out.is_empty() || out.ends_with('\n') {
        // The sentence began with the variable: "{{nome}}, seu pedido…".
        let next = next.trim_start_matches([',', ';', ':', ' ']);
        let next = if out.is_empty() { next } else { next.strip_prefix('\n').unwrap_or(next) };
        let mut chars = next.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            return chars.as_str();
        }
        return next;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_and_shortcuts() {
        assert_eq!(
            fill("Olá {{nome}}, sou {{ agente }} da {{empresa}}.", "Ana", "Bia", "Loja"),
            "Olá Ana, sou Bia da Loja."
        );
        assert_eq!(fill("{{outro}} {{nome", "Ana", "B", "L"), "{{outro}} {{nome");
        for (body, want) in [
            ("Olá, {{nome}}!", "Olá!"),
            ("Olá {{nome}}, tudo bem?", "Olá, tudo bem?"),
            ("Obrigado, {{nome}}, pelo contato.", "Obrigado, pelo contato."),
            ("Bom dia {{ nome }}. Sou {{agente}}.", "Bom dia. Sou Bia."),
            ("{{nome}}, seu pedido chegou.", "Seu pedido chegou."),
            ("Caro {{nome}} e família", "Caro e família"),
            ("Oi\n{{nome}}\nfim", "Oi\nFim"),
        ] {
            assert_eq!(fill(body, "", "Bia", "Loja"), want, "{body}");
            assert_eq!(fill(body, "Visitante #12", "Bia", "Loja"), want, "{body}");
        }
        assert_eq!(fill("Olá, {{nome}}!", "Visitante #12 da Silva", "B", "L"), "Olá, Visitante #12 da Silva!");
        assert_eq!(parse_shortcut("/boas-vindas"), Ok("boas-vindas".into()));
        assert_eq!(parse_shortcut("com espaço"), Err("qr.bad_shortcut"));
        assert_eq!(parse_shortcut("/"), Err("val.required"));
        assert_eq!(parse_shortcut("preço"), Ok("preço".into()));
    }
}
