//! The task form: what is typed, checked before anything is written.

use jiff::tz::TimeZone;
use rusqlite::Connection;

use super::{KINDS, MAX_DESCRIPTION, MAX_TITLE, due};
use crate::domain::email::templates::{self, Pick};
use crate::domain::validate::{self, FormErrors, Input};
use crate::error::{AppError, AppResult};

/// Who the task is for.
#[derive(Clone, Debug, PartialEq)]
pub enum Assign {
    /// The creator.
    Me,
    /// Another agent, by login.
    Agent(String),
    /// A team (na fila for all its members).
    Team(i64),
}

/// A validated task form.
#[derive(Clone, Debug)]
pub struct Form {
    /// Type.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Due, unix seconds.
    pub due_at: i64,
    /// Assignee.
    pub assign: Assign,
    /// Linked conversation.
    pub conversation_id: Option<i64>,
    /// Linked contact (from the contact page; a conversation brings its own).
    pub contact_id: Option<i64>,
    /// Browser notification.
    pub notify: bool,
    /// An e-mail activity's template (other kinds keep none).
    pub email_template: Option<i64>,
}

/// Reads and checks the task form.
pub fn parse(input: &Input, now: i64, tz: &TimeZone) -> Result<Form, FormErrors> {
    let mut errs = FormErrors::default();
    let kind = validate::choice(input, "kind", KINDS, &mut errs).to_string();
    let title = validate::text(input, "title", true, MAX_TITLE, &mut errs);
    let description = validate::text(input, "description", false, MAX_DESCRIPTION, &mut errs);
    let due_at = due::parse_due(input, now, tz, &mut errs);
    let assign = match input.get("assign") {
        "" | "me" => Assign::Me,
        "agent" => match input.get("agent") {
            "" => {
                errs.add("agent", "task.agent_required");
                Assign::Me
            }
            login => Assign::Agent(login.to_string()),
        },
        "team" => match input.get("team_id").parse::<i64>() {
            Ok(id) if id > 0 => Assign::Team(id),
            _ => {
                errs.add("team_id", "task.team_required");
                Assign::Me
            }
        },
        _ => {
            errs.add("assign", "val.invalid_choice");
            Assign::Me
        }
    };
    let conversation_id = validate::opt_id(input, "conversation_id", &mut errs);
    let contact_id = validate::opt_id(input, "contact_id", &mut errs);
    let notify = input.checked("notify");
    let email_template = match kind.as_str() {
        "email" => validate::opt_id(input, "email_template_id", &mut errs),
        _ => None,
    };
    if errs.is_empty() {
        Ok(Form { kind, title, description, due_at, assign, conversation_id, contact_id, notify, email_template })
    } else {
        Err(errs)
    }
}

/// The template an e-mail activity names, checked to be active (part of
/// the write that stores the task).
pub(super) fn email_template(conn: &Connection, f: &Form) -> AppResult<Option<i64>> {
    match (f.kind.as_str(), f.email_template) {
        ("email", Some(id)) => match templates::resolve(conn, Pick::Id(id)) {
            Ok(_) => Ok(Some(id)),
            Err(AppError::BadRequest(k)) => Err(FormErrors::one("email_template_id", k)),
            Err(e) => Err(e),
        },
        _ => Ok(None),
    }
}
