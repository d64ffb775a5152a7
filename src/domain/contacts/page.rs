//! The contact page: details, the conversations, the timeline and its
//! annotations. Everything here is filtered by what the viewer may open: a
//! conversation, task or annotation of another team leaves no row, no title
//! and no text (a viewer may see a contact because one conversation with it
//! is theirs, without seeing the rest of its history).

use rusqlite::{Connection, OptionalExtension, params};

use super::*;
use crate::app::AppState;
use crate::domain::users::{Permission, User};
use crate::domain::validate::{self, Input};
use crate::error::AppResult;

// ---------------------------------------------------------------- the contact page

/// One earlier conversation of a contact.
#[derive(Clone, Debug)]
pub struct Past {
    /// Conversation id.
    pub id: i64,
    /// Queue name.
    pub queue: String,
    /// Channel.
    pub channel: String,
    /// Status.
    pub status: String,
    /// Agent name.
    pub agent: Option<String>,
    /// Entered (unix).
    pub created_at: i64,
    /// Closed (unix).
    pub closed_at: Option<i64>,
    /// Whether the viewer may open its transcript: always, since
    /// [`history`] leaves out the conversations they may not open.
    pub open: bool,
}

/// One timeline entry.
#[derive(Clone, Debug)]
pub struct Entry {
    /// When (unix).
    pub at: i64,
    /// Catalog key of what happened (`tl.*` or a conversation's `ev.*`).
    pub key: String,
    /// Free text (annotation body, task title, merged contact).
    pub text: String,
    /// Who.
    pub who: String,
    /// Link (conversation or task), when the viewer may open it.
    pub link: Option<String>,
}

/// The whole contact page.
#[derive(Clone, Debug)]
pub struct Detail {
    /// The contact.
    pub contact: Contact,
    /// Extra fields with their values (empty when unset).
    pub values: Vec<(Field, String)>,
    /// Tags (id, name).
    pub tags: Vec<(i64, String)>,
    /// Conversations, newest first.
    pub history: Vec<Past>,
    /// Timeline, newest first.
    pub timeline: Vec<Entry>,
}

/// Conversation events shown on the timeline.
const TIMELINE_EVENTS: &str =
    "'ev.created', 'ev.accepted', 'ev.claimed', 'ev.transferred_team', 'ev.transferred_agent',
    'ev.finished', 'ev.finished_resolved', 'ev.finished_unresolved', 'ev.archived', 'ev.reopened', 'ev.reopened_task'";

/// Extra field values of a contact.
pub fn values(conn: &Connection, id: i64) -> AppResult<Vec<(Field, String)>> {
    let mut stmt = conn.prepare_cached("SELECT field_id, value FROM contact_values WHERE contact_id = ?1")?;
    let set: Vec<(i64, String)> = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    Ok(fields(conn)?
        .into_iter()
        .map(|f| {
            let v = set.iter().find(|(i, _)| *i == f.id).map(|(_, v)| v.clone()).unwrap_or_default();
            (f, v)
        })
        .collect())
}

/// Tags of a contact.
pub fn contact_tags(conn: &Connection, id: i64) -> AppResult<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = ?1
         ORDER BY t.name COLLATE NOCASE",
    )?;
    let v = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    Ok(v)
}

/// SQL: conversation `c` (joined to its queue `q`) is one user `?3` may
/// open, `?2` being whether they are an administrator
/// (`conversations::may_see_parts` in SQL).
const CONV_OPEN: &str = "(?2 OR c.agent_id = ?3 OR q.team_id IN (SELECT team_id FROM user_teams WHERE user_id = ?3))";

/// SQL: task `t` is one user `?3` may open, `?2` being whether they see all
/// tasks (`tasks::may_see_parts` in SQL).
const TASK_OPEN: &str = "(?2 OR t.assignee_id = ?3
    OR (t.assignee_id IS NULL AND t.team_id IN (SELECT team_id FROM user_teams WHERE user_id = ?3)))";

/// SQL: annotation `e` is one user `?3` may read, `?2` being whether they are
/// an administrator or may access all contacts. An annotation belongs to its
/// author's teams: the author, their team mates, and readers of every contact
/// see it. An administrator belongs to no team, so what one writes is for
/// everyone who may see the contact. Merges only say which contact became
/// this one, so everyone who sees the contact reads them.
const NOTE_OPEN: &str = "(?2 OR e.kind = 'merged' OR e.author_id = ?3
    OR EXISTS (SELECT 1 FROM users a WHERE a.id = e.author_id AND a.role = 'admin')
    OR EXISTS (SELECT 1 FROM user_teams mine JOIN user_teams theirs ON theirs.team_id = mine.team_id
               WHERE mine.user_id = ?3 AND theirs.user_id = e.author_id))";

/// Whether `user` reads every annotation (see [`NOTE_OPEN`]).
fn reads_all_notes(user: &User) -> bool {
    user.is_admin() || user.can(Permission::AllContacts)
}

/// The conversations of a contact that `user` may open, newest first, in one
/// query. The others leave no row: a viewer who sees the contact through one
/// conversation does not learn when, where or with whom the rest happened.
pub fn history(conn: &Connection, user: &User, id: i64) -> AppResult<Vec<Past>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT c.id, q.name, c.channel, c.status, u.name, c.created_at, c.closed_at
         FROM conversations c JOIN queues q ON q.id = c.queue_id LEFT JOIN users u ON u.id = c.agent_id
         WHERE c.contact_id = ?1 AND {CONV_OPEN} ORDER BY c.created_at DESC, c.id DESC LIMIT 200"
    ))?;
    let v = stmt
        .query_map(params![id, user.is_admin(), user.id], |r| {
            Ok(Past {
                id: r.get(0)?,
                queue: r.get(1)?,
                channel: r.get(2)?,
                status: r.get(3)?,
                agent: r.get(4)?,
                created_at: r.get(5)?,
                closed_at: r.get(6)?,
                open: true,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// id, title, created, done, creator name.
type TaskRow = (i64, String, i64, Option<i64>, String);

/// The timeline: contact created, conversation events, tasks created and
/// done, annotations and merges; newest first. Only what `user` may open:
/// events of their conversations, their tasks, annotations of their teams.
pub fn timeline(conn: &Connection, user: &User, c: &Contact) -> AppResult<Vec<Entry>> {
    let mut out = Vec::new();
    let creator: Option<String> = match c.created_by {
        Some(u) => {
            conn.prepare_cached("SELECT name FROM users WHERE id = ?1")?.query_row([u], |r| r.get(0)).optional()?
        }
        None => None,
    };
    out.push(Entry {
        at: c.created_at,
        key: "tl.created".into(),
        text: String::new(),
        who: creator.unwrap_or_default(),
        link: None,
    });
    let sql = format!(
        "SELECT m.created_at, m.body, m.author_name, c.id FROM conversations c JOIN queues q ON q.id = c.queue_id
         JOIN messages m ON m.conversation_id = c.id AND m.kind = 'system'
         WHERE c.contact_id = ?1 AND {CONV_OPEN} AND m.body IN ({TIMELINE_EVENTS})
         ORDER BY m.id DESC LIMIT {TIMELINE_LIMIT}"
    );
    let rows: Vec<(i64, String, String, i64)> = conn
        .prepare_cached(&sql)?
        .query_map(params![c.id, user.is_admin(), user.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    for (at, key, who, cid) in rows {
        out.push(Entry { at, key, text: format!("#{cid}"), who, link: Some(format!("/atendimentos/{cid}")) });
    }
    let tasks: Vec<TaskRow> = conn
        .prepare_cached(&format!(
            "SELECT t.id, t.title, t.created_at, t.done_at, coalesce(u.name, '')
             FROM tasks t LEFT JOIN users u ON u.id = t.created_by WHERE t.contact_id = ?1 AND {TASK_OPEN}
             ORDER BY t.id DESC LIMIT {TIMELINE_LIMIT}"
        ))?
        .query_map(params![c.id, crate::domain::tasks::sees_all(user), user.id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    for (id, title, created, done, who) in tasks {
        let link = Some(format!("/tarefas/{id}"));
        out.push(Entry { at: created, key: "tl.task_created".into(), text: title.clone(), who, link: link.clone() });
        if let Some(d) = done {
            out.push(Entry { at: d, key: "tl.task_done".into(), text: title, who: String::new(), link });
        }
    }
    let notes: Vec<(i64, String, String, String)> = conn
        .prepare_cached(&format!(
            "SELECT e.created_at, e.kind, e.body, coalesce(u.name, '') FROM contact_events e
             LEFT JOIN users u ON u.id = e.author_id WHERE e.contact_id = ?1 AND {NOTE_OPEN}
             ORDER BY e.id DESC LIMIT {TIMELINE_LIMIT}"
        ))?
        .query_map(params![c.id, reads_all_notes(user), user.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    for (at, kind, body, who) in notes {
        out.push(Entry { at, key: format!("tl.{kind}"), text: body, who, link: None });
    }
    for o in crate::domain::whatsapp::optin::history(conn, c.id, TIMELINE_LIMIT)? {
        let key = match (o.on, o.source.as_str()) {
            (true, _) => "tl.wa_optin_in",
            (false, "customer") => "tl.wa_optout_customer",
            (false, _) => "tl.wa_optin_out",
        };
        out.push(Entry { at: o.at, key: key.into(), text: o.word, who: o.by, link: None });
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.at));
    out.truncate(TIMELINE_LIMIT as usize);
    Ok(out)
}

/// Everything on the contact page.
pub fn detail(conn: &Connection, user: &User, id: i64) -> AppResult<Detail> {
    let mut d = card(conn, user, id)?;
    d.timeline = timeline(conn, user, &d.contact)?;
    Ok(d)
}

/// The contact panel's part of [`detail`]: everything but the timeline.
pub fn card(conn: &Connection, user: &User, id: i64) -> AppResult<Detail> {
    let contact = visible(conn, user, id)?;
    Ok(Detail {
        values: values(conn, id)?,
        tags: contact_tags(conn, id)?,
        history: history(conn, user, id)?,
        timeline: Vec::new(),
        contact,
    })
}

/// The form values of an existing contact.
pub fn form_values(d: &Detail) -> Input {
    let c = &d.contact;
    let mut pairs = vec![
        ("name".to_string(), c.name.clone()),
        ("phone".into(), c.phone.clone()),
        ("email".into(), c.email.clone()),
    ];
    for (f, v) in &d.values {
        pairs.push((field_input(f.id), v.clone()));
    }
    for (t, _) in &d.tags {
        pairs.push(("tag".into(), t.to_string()));
    }
    Input::from_pairs(pairs)
}

// ---------------------------------------------------------------- annotations

/// Adds a manual annotation (anotação) to a contact's timeline.
pub async fn annotate(state: &AppState, user: &User, id: i64, body: &str) -> AppResult<()> {
    let body = body.trim().to_string();
    if body.is_empty() {
        return Err(validate::FormErrors::one("body", "val.required"));
    }
    if body.chars().count() > MAX_NOTE {
        return Err(validate::FormErrors::one("body", "val.too_long"));
    }
    let user = user.clone();
    let now = state.now();
    state
        .db
        .write(move |conn| {
            visible(conn, &user, id)?;
            conn.prepare_cached(
                "INSERT INTO contact_events (contact_id, kind, author_id, body, created_at) VALUES (?1, 'note', ?2, ?3, ?4)",
            )?
            .execute(params![id, user.id, body, now])?;
            Ok(())
        })
        .await
}
