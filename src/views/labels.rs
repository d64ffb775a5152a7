//! pt-BR (or en) labels for what the code stores as keys: audit targets and
//! details, scheduler job names and schedules. Pages show these, never the
//! internal codes (`channel=whatsapp`, `tasks.due`).

use crate::domain::audit::Entry;
use crate::domain::registers::{Field, Kind, SPECS, Spec};
use crate::domain::users::{Permission, Role};
use crate::i18n::{Locale, catalog_key, t};

/// Actions whose detail is a list of `key=value` pairs separated by `; `.
const STRUCTURED: &[&str] =
    &["register.create", "register.update", "settings.update", "export.audit", "backup.download"];

/// Labels of the keys that are not register fields.
const DETAIL_KEYS: &[(&str, &str)] = &[
    ("business_name", "f.business_name"),
    ("time_zone", "f.time_zone"),
    ("locale", "f.default_locale"),
    ("attach_file_mb", "f.attach_file_mb"),
    ("attach_conversation_mb", "f.attach_conversation_mb"),
    ("rows", "forms.audit.rows"),
    ("filters", "forms.audit.filters"),
    ("bytes", "forms.audit.size"),
    // Entries written before the keys were the form's field names.
    ("name", "f.name"),
    ("tz", "f.time_zone"),
    ("files", "forms.audit.files"),
];

/// The register an audit target such as `queues: Suporte` is about.
fn spec_of_target(target: &str) -> Option<(&'static Spec, &str)> {
    let (table, rest) = target.split_once(": ")?;
    SPECS.iter().find(|s| s.table == table).map(|s| (s, rest))
}

/// The target of an entry as people read it: `queues: Suporte` becomes
/// `Filas: Suporte`, `settings` the settings page's title.
pub fn audit_target(loc: Locale, e: &Entry) -> String {
    if let Some((spec, rest)) = spec_of_target(&e.target) {
        return format!("{}: {rest}", t(loc, spec.title));
    }
    match e.target.as_str() {
        "settings" => t(loc, "admin.settings").to_string(),
        "audit_log" => t(loc, "admin.audit").to_string(),
        _ => e.target.clone(),
    }
}

/// The detail of an entry with its keys and coded values labelled:
/// `channel=whatsapp; closing_script_required=1` becomes
/// `Canal: WhatsApp; Exige script de encerramento: Sim`.
pub fn audit_detail(loc: Locale, e: &Entry) -> String {
    let action = e.action.as_str();
    if action.starts_with("user.")
        && let Some(r) = Role::from_code(&e.detail)
    {
        return t(loc, r.label()).to_string();
    }
    if action == "auth.login_failed" && e.detail == "blocked" {
        return t(loc, "forms.audit.blocked").to_string();
    }
    if !STRUCTURED.contains(&action) {
        return e.detail.clone();
    }
    let spec = spec_of_target(&e.target).map(|(s, _)| s);
    pairs(&e.detail)
        .into_iter()
        .map(|(k, v)| match k {
            Some(k) => format!("{}: {}", key_label(loc, spec, k), value_label(loc, spec, k, v)),
            None => v.to_string(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Splits `a=1; b=x; y; c=` into pairs; a piece that is not `key=` (a value
/// that itself held "; ") goes back to the value before it.
fn pairs(detail: &str) -> Vec<(Option<&str>, String)> {
    let mut out: Vec<(Option<&str>, String)> = Vec::new();
    for piece in detail.split("; ") {
        let key = piece.split_once('=').filter(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        });
        match (key, out.last_mut()) {
            (Some((k, v)), _) => out.push((Some(k), v.to_string())),
            (None, Some(last)) => {
                last.1.push_str("; ");
                last.1.push_str(piece);
            }
            (None, None) => out.push((None, piece.to_string())),
        }
    }
    out
}

fn field<'a>(spec: Option<&'a Spec>, key: &str) -> Option<&'a Field> {
    spec.and_then(|s| s.fields.iter().find(|f| f.name == key))
        .or_else(|| SPECS.iter().flat_map(|s| s.fields.iter()).find(|f| f.name == key))
}

fn key_label(loc: Locale, spec: Option<&Spec>, key: &str) -> String {
    if let Some(f) = field(spec, key) {
        return t(loc, f.label).to_string();
    }
    match DETAIL_KEYS.iter().find(|(k, _)| *k == key) {
        Some((_, label)) => t(loc, label).to_string(),
        None => key.to_string(),
    }
}

fn value_label(loc: Locale, spec: Option<&Spec>, key: &str, v: String) -> String {
    if v.is_empty() {
        return t(loc, "forms.audit.empty_value").to_string();
    }
    let Some(f) = field(spec, key) else {
        return match key {
            "locale" => match v.as_str() {
                "pt-BR" => "Português (Brasil)".to_string(),
                "en" => "English".to_string(),
                _ => v,
            },
            "bytes" => v.parse::<i64>().map(crate::domain::attachments::human_size).unwrap_or(v),
            _ => v,
        };
    };
    match &f.kind {
        Kind::Bool => t(loc, if v == "1" { "yes" } else { "no" }).to_string(),
        Kind::Choice(options) => match options.iter().find(|(code, _)| *code == v) {
            Some((_, label)) => t(loc, label).to_string(),
            None => v,
        },
        Kind::Perms => Permission::parse_list(&v).iter().map(|p| t(loc, p.label())).collect::<Vec<_>>().join(", "),
        Kind::Ref(_) => format!("#{v}"),
        _ => v,
    }
}

/// The label of a scheduler job (catalog key `job.<name>`); an unknown job
/// shows its name.
pub fn job_label(loc: Locale, name: &str) -> String {
    match catalog_key(&format!("job.{name}")) {
        Some(k) => t(loc, k).to_string(),
        None => name.to_string(),
    }
}

/// A job's schedule in words, for the schedules the scheduler uses; any
/// other shows the cron expression.
pub fn cron_label(loc: Locale, cron: &str) -> String {
    match cron {
        "* * * * * *" => t(loc, "forms.cron.every_second").to_string(),
        "0 * * * * *" => t(loc, "forms.cron.every_minute").to_string(),
        "0 */10 * * * *" => t(loc, "forms.cron.every_10_minutes").to_string(),
        _ => cron.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str, target: &str, detail: &str) -> Entry {
        Entry {
            id: 1,
            at: 0,
            actor_name: String::new(),
            action: action.into(),
            target: target.into(),
            detail: detail.into(),
            ip: String::new(),
        }
    }

    #[test]
    fn details_read_as_labels_never_keys() {
        let l = Locale::PtBr;
        let e = entry(
            "register.create",
            "queues: WhatsApp Vendas",
            "channel=whatsapp; team_id=3; closing_script_required=1; allowed_origins=a; b; ask_name=0",
        );
        assert_eq!(audit_target(l, &e), "Filas: WhatsApp Vendas");
        let d = audit_detail(l, &e);
        assert!(d.starts_with("Canal: WhatsApp; Equipe: #3; "), "{d}");
        assert!(d.contains("a; b"), "{d}");
        assert!(!d.contains("channel=") && !d.contains("team_id"), "{d}");
        let s = entry("settings.update", "settings", "business_name=Loja; time_zone=America/Manaus; locale=pt-BR");
        assert_eq!(
            audit_detail(l, &s),
            "Nome da empresa: Loja; Fuso horário: America/Manaus; Idioma padrão: Português (Brasil)"
        );
        assert_eq!(audit_target(l, &s), "Configurações");
        assert_eq!(audit_detail(l, &entry("user.create", "Ana <ana>", "agent")), "Agente");
        // Free text is left alone, even when it looks like pairs.
        assert_eq!(audit_detail(l, &entry("quick_reply.create", "/oi", "a=b; c")), "a=b; c");
        assert_eq!(job_label(l, "tasks.due"), "Prazos das tarefas");
        assert_eq!(job_label(l, "unknown.job"), "unknown.job");
    }
}
