//! The admin's simple registers (teams, queues, pause reasons, closing reasons,
//! tags, contact extra fields, access groups), described as data: one spec per
//! register drives validation, SQL and the generic admin pages, so every
//! register gets the same rules (unique names, deactivate instead of delete,
//! audit of every change).

use std::collections::HashMap;

use rusqlite::Connection;

use super::users::Permission;
use super::validate::{self, FormErrors, Input};
use super::{Actor, audit};
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// How a field is entered, validated and stored.
#[derive(Debug)]
pub enum Kind {
    /// One line of text.
    Text {
        /// Longest value in characters.
        max: usize,
    },
    /// Integer within a range.
    Int {
        /// Smallest value.
        min: i64,
        /// Largest value.
        max: i64,
        /// Value proposed on a new record.
        default: i64,
    },
    /// One optional line of text ('' when left empty).
    OptText {
        /// Longest value in characters.
        max: usize,
    },
    /// Yes/no checkbox, stored 0/1.
    Bool,
    /// Optional time of day "HH:MM".
    Time,
    /// One of fixed codes: (code, label key).
    Choice(&'static [(&'static str, &'static str)]),
    /// Id of an active row of another register table (with `name`).
    Ref(&'static str),
    /// Set of [`Permission`] codes, stored space-separated.
    Perms,
    /// Several lines (e.g. the options of a choice field), stored newline-separated.
    Lines {
        /// Longest total in characters.
        max: usize,
    },
}

/// One column of a register.
#[derive(Debug)]
pub struct Field {
    /// Column and form field name.
    pub name: &'static str,
    /// Catalog key of the label.
    pub label: &'static str,
    /// Kind.
    pub kind: Kind,
    /// Catalog key of a hint under the input.
    pub hint: Option<&'static str>,
    /// Shown as a column in the list.
    pub list: bool,
}

/// A register: table, URL slug and fields. The first field is always `name`.
#[derive(Debug)]
pub struct Spec {
    /// URL segment under /admin/.
    pub slug: &'static str,
    /// SQL table.
    pub table: &'static str,
    /// Catalog key of the plural title.
    pub title: &'static str,
    /// Catalog key of the "new …" button.
    pub new_label: &'static str,
    /// Catalog key of the description on the admin index.
    pub about: &'static str,
    /// Fields in form order.
    pub fields: &'static [Field],
    /// Cross-field rules.
    pub check: fn(&[Value], &mut FormErrors),
}

/// A stored or submitted value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Text (also times, choices, permission and line lists).
    Text(String),
    /// Integer (also booleans and references).
    Int(i64),
    /// Empty.
    Null,
}

impl Value {
    /// The text, or "" for other kinds.
    pub fn as_str(&self) -> &str {
        match self {
            Value::Text(s) => s,
            _ => "",
        }
    }
    /// The integer, if any.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(match self {
            Value::Text(s) => s.as_str().into(),
            Value::Int(n) => (*n).into(),
            Value::Null => rusqlite::types::Null.into(),
        })
    }
}

/// One record.
#[derive(Clone, Debug)]
pub struct Row {
    /// Id.
    pub id: i64,
    /// Active (inactive records stay for history but are not offered).
    pub active: bool,
    /// Values aligned with the spec's fields.
    pub values: Vec<Value>,
}

const fn f(name: &'static str, label: &'static str, kind: Kind, list: bool) -> Field {
    Field { name, label, kind, hint: None, list }
}

fn no_check(_: &[Value], _: &mut FormErrors) {}

fn check_pause(v: &[Value], errs: &mut FormErrors) {
    let (from, to) = (&v[2], &v[3]);
    match (from, to) {
        (Value::Null, Value::Null) => {}
        (Value::Text(a), Value::Text(b)) if a == b => errs.add("allowed_to", "val.same_times"),
        (Value::Text(_), Value::Text(_)) => {}
        (Value::Null, _) => errs.add("allowed_from", "val.both_times"),
        (_, _) => errs.add("allowed_to", "val.both_times"),
    }
}

/// Checks a queue: its allowed sites and the widget's colour.
fn check_queue(v: &[Value], errs: &mut FormErrors) {
    let color = spec("filas").and_then(|s| s.fields.iter().position(|f| f.name == "widget_color"));
    if let Some(c) = color.and_then(|i| v.get(i))
        && !c.as_str().is_empty()
        && !super::webchat::valid_color(c.as_str())
    {
        errs.add("widget_color", "val.color");
    }
    check_origins(v, errs);
}

fn check_origins(v: &[Value], errs: &mut FormErrors) {
    for line in v[6].as_str().lines() {
        let ok = (line.starts_with("http://") || line.starts_with("https://"))
            && !line.trim_end_matches('/').contains(|c: char| c.is_whitespace())
            && line.split("://").nth(1).is_some_and(|h| !h.is_empty() && !h.trim_end_matches('/').contains('/'));
        if !ok {
            errs.add("allowed_origins", "val.origin");
            return;
        }
    }
}

fn check_field(v: &[Value], errs: &mut FormErrors) {
    let options = v[2].as_str().lines().filter(|l| !l.trim().is_empty()).count();
    if v[1].as_str() == "choice" && options < 2 {
        errs.add("options", "val.choice_options");
    }
}

const CHANNELS: &[(&str, &str)] =
    &[("webchat", "channel.webchat"), ("email", "channel.email"), ("whatsapp", "channel.whatsapp")];
const ON_LIMIT: &[(&str, &str)] = &[("flag", "pause.on_limit.flag"), ("end", "pause.on_limit.end")];
const TAG_SCOPES: &[(&str, &str)] = &[("conversation", "tag.scope.conversation"), ("contact", "tag.scope.contact")];
const FIELD_KINDS: &[(&str, &str)] =
    &[("text", "cf.kind.text"), ("number", "cf.kind.number"), ("date", "cf.kind.date"), ("choice", "cf.kind.choice")];

/// Every register, in admin menu order.
pub static SPECS: &[Spec] = &[
    Spec {
        slug: "grupos",
        table: "access_groups",
        title: "reg.groups",
        new_label: "reg.groups.new",
        about: "reg.groups.about",
        fields: &[
            f("name", "f.name", Kind::Text { max: 60 }, true),
            f("permissions", "f.permissions", Kind::Perms, true),
        ],
        check: no_check,
    },
    Spec {
        slug: "equipes",
        table: "teams",
        title: "reg.teams",
        new_label: "reg.teams.new",
        about: "reg.teams.about",
        fields: &[f("name", "f.name", Kind::Text { max: 60 }, true)],
        check: no_check,
    },
    Spec {
        slug: "filas",
        table: "queues",
        title: "reg.queues",
        new_label: "reg.queues.new",
        about: "reg.queues.about",
        fields: &[
            f("name", "f.name", Kind::Text { max: 60 }, true),
            f("channel", "f.channel", Kind::Choice(CHANNELS), true),
            f("team_id", "f.team", Kind::Ref("teams"), true),
            f("closing_script_required", "f.closing_script_required", Kind::Bool, true),
            Field {
                hint: Some("f.offer_timeout_secs.hint"),
                ..f("offer_timeout_secs", "f.offer_timeout_secs", Kind::Int { min: 5, max: 3600, default: 30 }, true)
            },
            Field {
                hint: Some("f.agent_capacity.hint"),
                ..f("agent_capacity", "f.agent_capacity", Kind::Int { min: 1, max: 100, default: 5 }, true)
            },
            Field {
                hint: Some("f.allowed_origins.hint"),
                ..f("allowed_origins", "f.allowed_origins", Kind::Lines { max: 2000 }, false)
            },
            Field {
                hint: Some("f.offline_text.hint"),
                ..f("offline_text", "f.offline_text", Kind::Lines { max: 300 }, false)
            },
            Field { hint: Some("f.end_text.hint"), ..f("end_text", "f.end_text", Kind::Lines { max: 300 }, false) },
            f("ask_name", "f.ask_name", Kind::Bool, false),
            f("ask_email", "f.ask_email", Kind::Bool, false),
            f("ask_phone", "f.ask_phone", Kind::Bool, false),
            Field {
                hint: Some("f.widget_title.hint"),
                ..f("widget_title", "f.widget_title", Kind::OptText { max: 60 }, false)
            },
            Field {
                hint: Some("f.widget_greeting.hint"),
                ..f("widget_greeting", "f.widget_greeting", Kind::OptText { max: 160 }, false)
            },
            Field {
                hint: Some("f.widget_color.hint"),
                ..f("widget_color", "f.widget_color", Kind::OptText { max: 7 }, false)
            },
            Field {
                hint: Some("f.reoffer_secs.hint"),
                ..f("reoffer_secs", "f.reoffer_secs", Kind::Int { min: 1, max: 600, default: 10 }, false)
            },
            Field {
                hint: Some("f.missed_offers_limit.hint"),
                ..f("missed_offers_limit", "f.missed_offers_limit", Kind::Int { min: 0, max: 20, default: 2 }, false)
            },
            Field {
                hint: Some("f.wait_alert_minutes.hint"),
                ..f("wait_alert_minutes", "f.wait_alert_minutes", Kind::Int { min: 0, max: 1440, default: 5 }, false)
            },
        ],
        check: check_queue,
    },
    Spec {
        slug: "pausas",
        table: "pause_reasons",
        title: "reg.pauses",
        new_label: "reg.pauses.new",
        about: "reg.pauses.about",
        fields: &[
            f("name", "f.name", Kind::Text { max: 60 }, true),
            f("limit_minutes", "f.limit_minutes", Kind::Int { min: 1, max: 1440, default: 15 }, true),
            Field { hint: Some("f.allowed_hours.hint"), ..f("allowed_from", "f.allowed_from", Kind::Time, true) },
            f("allowed_to", "f.allowed_to", Kind::Time, true),
            f("on_limit", "f.on_limit", Kind::Choice(ON_LIMIT), true),
        ],
        check: check_pause,
    },
    Spec {
        slug: "encerramentos",
        table: "closing_reasons",
        title: "reg.closing",
        new_label: "reg.closing.new",
        about: "reg.closing.about",
        fields: &[f("name", "f.name", Kind::Text { max: 80 }, true)],
        check: no_check,
    },
    Spec {
        slug: "etiquetas",
        table: "tags",
        title: "reg.tags",
        new_label: "reg.tags.new",
        about: "reg.tags.about",
        fields: &[
            f("name", "f.name", Kind::Text { max: 40 }, true),
            f("scope", "f.scope", Kind::Choice(TAG_SCOPES), true),
        ],
        check: no_check,
    },
    Spec {
        slug: "campos",
        table: "contact_fields",
        title: "reg.fields",
        new_label: "reg.fields.new",
        about: "reg.fields.about",
        fields: &[
            f("name", "f.name", Kind::Text { max: 60 }, true),
            f("kind", "f.kind", Kind::Choice(FIELD_KINDS), true),
            Field { hint: Some("f.options.hint"), ..f("options", "f.options", Kind::Lines { max: 2000 }, false) },
            f("required", "f.required", Kind::Bool, true),
        ],
        check: check_field,
    },
];

/// The register at `slug`.
pub fn spec(slug: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.slug == slug)
}

fn cols(spec: &Spec) -> String {
    spec.fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
}

fn read_row(spec: &Spec, r: &rusqlite::Row) -> rusqlite::Result<Row> {
    let mut values = Vec::with_capacity(spec.fields.len());
    for (i, field) in spec.fields.iter().enumerate() {
        let v: rusqlite::types::Value = r.get(i + 2)?;
        values.push(match (v, &field.kind) {
            (rusqlite::types::Value::Integer(n), _) => Value::Int(n),
            (rusqlite::types::Value::Text(s), _) => Value::Text(s),
            _ => Value::Null,
        });
    }
    Ok(Row { id: r.get(0)?, active: r.get::<_, i64>(1)? == 1, values })
}

/// Every record of a register, active first, by name.
pub fn list(conn: &Connection, spec: &Spec) -> AppResult<Vec<Row>> {
    let sql =
        format!("SELECT id, active, {} FROM {} ORDER BY active DESC, name COLLATE NOCASE", cols(spec), spec.table);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], |r| read_row(spec, r))?.collect::<Result<_, _>>()?;
    Ok(rows)
}

/// One record.
pub fn get(conn: &Connection, spec: &Spec, id: i64) -> AppResult<Option<Row>> {
    use rusqlite::OptionalExtension;
    let sql = format!("SELECT id, active, {} FROM {} WHERE id = ?1", cols(spec), spec.table);
    Ok(conn.prepare_cached(&sql)?.query_row([id], |r| read_row(spec, r)).optional()?)
}

/// (id, name) of the active rows of `table`, for selects.
pub fn options(conn: &Connection, table: &str) -> AppResult<Vec<(i64, String)>> {
    let sql = format!("SELECT id, name FROM {table} WHERE active = 1 ORDER BY name COLLATE NOCASE");
    let mut stmt = conn.prepare_cached(&sql)?;
    let v = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    Ok(v)
}

/// Names of every row (active or not) of each table a spec refers to.
pub fn ref_names(conn: &Connection, spec: &Spec) -> AppResult<HashMap<(&'static str, i64), String>> {
    let mut out = HashMap::new();
    for field in spec.fields {
        if let Kind::Ref(table) = field.kind {
            let mut stmt = conn.prepare_cached(&format!("SELECT id, name FROM {table}"))?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (id, name) = row?;
                out.insert((table, id), name);
            }
        }
    }
    Ok(out)
}

/// Empty values for the "new" form (defaults filled in).
pub fn blank(spec: &Spec) -> Vec<Value> {
    spec.fields
        .iter()
        .map(|f| match f.kind {
            Kind::Int { default, .. } => Value::Int(default),
            Kind::Bool => Value::Int(0),
            Kind::Choice(opts) => Value::Text(opts[0].0.to_string()),
            Kind::Lines { .. } | Kind::OptText { .. } => Value::Text(String::new()),
            _ => Value::Null,
        })
        .collect()
}

/// Validates a submitted form against the spec. On failure the errors come with
/// the submitted values so the form can be shown again as typed.
pub fn parse(spec: &Spec, input: &Input) -> Result<Vec<Value>, (FormErrors, Vec<Value>)> {
    let mut errs = FormErrors::default();
    let mut values = Vec::with_capacity(spec.fields.len());
    for field in spec.fields {
        let v = match &field.kind {
            Kind::Text { max } => Value::Text(validate::text(input, field.name, true, *max, &mut errs)),
            // A form that predates the field (an older page, a script) keeps
            // the default; a number cleared by hand is refused below.
            Kind::Int { default, .. } if input.all(field.name).is_empty() => Value::Int(*default),
            Kind::OptText { max } => Value::Text(validate::text(input, field.name, false, *max, &mut errs)),
            Kind::Int { min, max, .. } => {
                let raw = input.get(field.name).to_string();
                let n = validate::int(input, field.name, *min, *max, &mut errs);
                if errs.get(field.name).is_some() { Value::Text(raw) } else { Value::Int(n) }
            }
            Kind::Bool => Value::Int(input.checked(field.name) as i64),
            Kind::Time => validate::time(input, field.name, &mut errs).map(Value::Text).unwrap_or_else(|| {
                let raw = input.get(field.name);
                if raw.is_empty() { Value::Null } else { Value::Text(raw.to_string()) }
            }),
            Kind::Choice(opts) => {
                let codes: Vec<&str> = opts.iter().map(|o| o.0).collect();
                Value::Text(validate::choice(input, field.name, &codes, &mut errs).to_string())
            }
            Kind::Ref(_) => match validate::opt_id(input, field.name, &mut errs) {
                Some(id) => Value::Int(id),
                None => {
                    if errs.get(field.name).is_none() {
                        errs.add(field.name, "val.required");
                    }
                    Value::Null
                }
            },
            Kind::Perms => {
                let mut codes = Vec::new();
                for c in input.all(field.name) {
                    match Permission::ALL.iter().find(|p| p.code() == c) {
                        Some(p) => codes.push(p.code()),
                        None => errs.add(field.name, "val.invalid_choice"),
                    }
                }
                codes.dedup();
                Value::Text(codes.join(" "))
            }
            Kind::Lines { max } => {
                let raw = validate::text(input, field.name, false, *max, &mut errs);
                let mut lines: Vec<&str> = raw.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
                lines.dedup();
                Value::Text(lines.join("\n"))
            }
        };
        values.push(v);
    }
    if errs.is_empty() {
        (spec.check)(&values, &mut errs);
    }
    // A choice field's options only mean something for the choice kind.
    if spec.table == "contact_fields" && values[1].as_str() != "choice" {
        values[2] = Value::Text(String::new());
    }
    if errs.is_empty() { Ok(values) } else { Err((errs, values)) }
}

fn check_refs(conn: &Connection, spec: &Spec, values: &[Value]) -> AppResult<()> {
    let mut errs = FormErrors::default();
    for (field, v) in spec.fields.iter().zip(values) {
        if let (Kind::Ref(table), Value::Int(id)) = (&field.kind, v) {
            let sql = format!("SELECT EXISTS(SELECT 1 FROM {table} WHERE id = ?1 AND active = 1)");
            let ok: bool = conn.prepare_cached(&sql)?.query_row([id], |r| r.get(0))?;
            if !ok {
                errs.add(field.name, "val.invalid_choice");
            }
        }
    }
    errs.into_result()
}

fn summary(spec: &Spec, values: &[Value]) -> String {
    spec.fields
        .iter()
        .zip(values)
        .skip(1)
        .map(|(f, v)| match v {
            Value::Text(s) => format!("{}={}", f.name, s.replace('\n', "|")),
            Value::Int(n) => format!("{}={n}", f.name),
            Value::Null => format!("{}=", f.name),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn map_conflict(e: rusqlite::Error) -> AppError {
    if validate::is_unique_violation(&e) { FormErrors::one("name", "val.name_taken") } else { e.into() }
}

/// Creates a record.
pub async fn create(db: &Db, spec: &'static Spec, values: Vec<Value>, actor: Actor) -> AppResult<i64> {
    db.write(move |conn| {
        check_refs(conn, spec, &values)?;
        let marks = (1..=values.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
        let n = values.len() + 1;
        let sql = format!("INSERT INTO {} ({}, active, created_at) VALUES ({marks}, 1, ?{n})", spec.table, cols(spec));
        let mut args: Vec<&dyn rusqlite::ToSql> = values.iter().map(|v| v as &dyn rusqlite::ToSql).collect();
        args.push(&actor.now);
        conn.prepare_cached(&sql)?.execute(args.as_slice()).map_err(map_conflict)?;
        let id = conn.last_insert_rowid();
        audit::record(
            conn,
            &actor,
            "register.create",
            &format!("{}: {}", spec.table, values[0].as_str()),
            &summary(spec, &values),
        )?;
        Ok(id)
    })
    .await
}

/// Updates a record.
pub async fn update(db: &Db, spec: &'static Spec, id: i64, values: Vec<Value>, actor: Actor) -> AppResult<()> {
    db.write(move |conn| {
        get(conn, spec, id)?.ok_or(AppError::NotFound)?;
        check_refs(conn, spec, &values)?;
        let sets = spec.fields.iter().enumerate().map(|(i, f)| format!("{} = ?{}", f.name, i + 1)).collect::<Vec<_>>();
        let sql = format!("UPDATE {} SET {} WHERE id = ?{}", spec.table, sets.join(", "), values.len() + 1);
        let mut args: Vec<&dyn rusqlite::ToSql> = values.iter().map(|v| v as &dyn rusqlite::ToSql).collect();
        args.push(&id);
        conn.prepare_cached(&sql)?.execute(args.as_slice()).map_err(map_conflict)?;
        audit::record(
            conn,
            &actor,
            "register.update",
            &format!("{}: {}", spec.table, values[0].as_str()),
            &summary(spec, &values),
        )?;
        Ok(())
    })
    .await
}

/// Activates or deactivates a record (records are never deleted: history
/// keeps pointing at them).
pub async fn set_active(db: &Db, spec: &'static Spec, id: i64, active: bool, actor: Actor) -> AppResult<()> {
    db.write(move |conn| {
        let row = get(conn, spec, id)?.ok_or(AppError::NotFound)?;
        conn.prepare_cached(&format!("UPDATE {} SET active = ?1 WHERE id = ?2", spec.table))?
            .execute([active as i64, id])?;
        let action = if active { "register.activate" } else { "register.deactivate" };
        audit::record(conn, &actor, action, &format!("{}: {}", spec.table, row.values[0].as_str()), "")?;
        Ok(())
    })
    .await
}
