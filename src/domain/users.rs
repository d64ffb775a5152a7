//! Users, roles, access groups' permissions and team membership.

use rusqlite::{Connection, OptionalExtension, params};

use super::validate::{self, FormErrors, Input};
use super::{Actor, audit};
use crate::app::AppState;
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// A user's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Configures everything and sees everything.
    Admin,
    /// Watches their teams' panels and reports.
    Supervisor,
    /// Serves customers.
    Agent,
}

impl Role {
    /// Every role, for selects.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Supervisor, Role::Agent];
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
        }
    }
    /// Parses a stored code.
    pub fn from_code(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == s)
    }
    /// Catalog key of the label.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "role.admin",
            Role::Supervisor => "role.supervisor",
            Role::Agent => "role.agent",
        }
    }
}

/// Permissions carried by access groups (admins have all of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// See every contact, not only those of one's queues.
    AllContacts,
    /// Start outbound conversations.
    OpenConversations,
    /// See every task, not only one's own and one's teams'.
    SeeAllTasks,
    /// Export reports.
    ExportReports,
    /// Manage global quick replies.
    ManageQuickReplies,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 5] = [
        Permission::AllContacts,
        Permission::OpenConversations,
        Permission::SeeAllTasks,
        Permission::ExportReports,
        Permission::ManageQuickReplies,
    ];
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Permission::AllContacts => "all_contacts",
            Permission::OpenConversations => "open_conversations",
            Permission::SeeAllTasks => "see_all_tasks",
            Permission::ExportReports => "export_reports",
            Permission::ManageQuickReplies => "manage_quick_replies",
        }
    }
    /// Catalog key of the label.
    pub fn label(self) -> &'static str {
        match self {
            Permission::AllContacts => "perm.all_contacts",
            Permission::OpenConversations => "perm.open_conversations",
            Permission::SeeAllTasks => "perm.see_all_tasks",
            Permission::ExportReports => "perm.export_reports",
            Permission::ManageQuickReplies => "perm.manage_quick_replies",
        }
    }
    /// Parses a space-separated list, ignoring unknown codes.
    pub fn parse_list(s: &str) -> Vec<Permission> {
        s.split_whitespace().filter_map(|c| Permission::ALL.into_iter().find(|p| p.code() == c)).collect()
    }
}

/// A user as the rest of the application sees it.
#[derive(Clone, Debug)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Login (usually an e-mail), unique case-insensitively.
    pub login: String,
    /// Role.
    pub role: Role,
    /// Access group, if any.
    pub access_group_id: Option<i64>,
    /// Permissions from the access group (an active group only).
    pub permissions: Vec<Permission>,
    /// Preferred UI language code; `None` follows the business default.
    pub locale: Option<String>,
    /// Whether the user may log in.
    pub active: bool,
    /// Teams the user belongs to.
    pub team_ids: Vec<i64>,
}

impl User {
    /// Whether the user is an administrator.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
    /// Whether the user holds `p` (administrators hold every permission).
    pub fn can(&self, p: Permission) -> bool {
        self.is_admin() || self.permissions.contains(&p)
    }
}

const USER_COLS: &str = "u.id, u.name, u.login, u.role, u.access_group_id, u.locale, u.active,
    CASE WHEN g.active = 1 THEN g.permissions ELSE '' END";

fn user_from_row(r: &rusqlite::Row) -> rusqlite::Result<User> {
    let role: String = r.get(3)?;
    let perms: Option<String> = r.get(7)?;
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        login: r.get(2)?,
        role: Role::from_code(&role).unwrap_or(Role::Agent),
        access_group_id: r.get(4)?,
        locale: r.get(5)?,
        active: r.get::<_, i64>(6)? == 1,
        permissions: Permission::parse_list(perms.as_deref().unwrap_or("")),
        team_ids: Vec::new(),
    })
}

/// Loads a user with their teams.
pub fn get(conn: &Connection, id: i64) -> AppResult<Option<User>> {
    let sql = format!(
        "SELECT {USER_COLS} FROM users u LEFT JOIN access_groups g ON g.id = u.access_group_id WHERE u.id = ?1"
    );
    let user = conn.prepare_cached(&sql)?.query_row([id], user_from_row).optional()?;
    match user {
        Some(mut u) => {
            u.team_ids = team_ids(conn, u.id)?;
            Ok(Some(u))
        }
        None => Ok(None),
    }
}

/// Team ids of a user.
pub fn team_ids(conn: &Connection, user_id: i64) -> AppResult<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT team_id FROM user_teams WHERE user_id = ?1 ORDER BY team_id")?;
    let ids = stmt.query_map([user_id], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(ids)
}

/// A row of the users list.
#[derive(Clone, Debug)]
pub struct UserRow {
    /// The user.
    pub user: User,
    /// Access group name.
    pub group_name: Option<String>,
    /// Team names, comma-separated.
    pub team_names: String,
}

/// Every user, active first, by name.
pub fn list(conn: &Connection) -> AppResult<Vec<UserRow>> {
    let sql = format!(
        "SELECT {USER_COLS}, g.name,
           (SELECT group_concat(name, ', ') FROM (SELECT t.name FROM user_teams ut JOIN teams t ON t.id = ut.team_id
            WHERE ut.user_id = u.id ORDER BY t.name COLLATE NOCASE))
         FROM users u LEFT JOIN access_groups g ON g.id = u.access_group_id
         ORDER BY u.active DESC, u.name COLLATE NOCASE"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(UserRow {
                user: user_from_row(r)?,
                group_name: r.get(8)?,
                team_names: r.get::<_, Option<String>>(9)?.unwrap_or_default(),
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Validated user fields from the admin form.
#[derive(Clone, Debug)]
pub struct UserInput {
    /// Display name.
    pub name: String,
    /// Login.
    pub login: String,
    /// Role.
    pub role: Role,
    /// Access group.
    pub access_group_id: Option<i64>,
    /// Teams.
    pub team_ids: Vec<i64>,
    /// Initial password (creation only).
    pub password: Option<String>,
}

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 8;
/// Longest password accepted (argon2 handles more, but a cap stops abuse).
pub const MAX_PASSWORD: usize = 128;

/// Checks a new password's length.
pub fn check_password(pw: &str, field: &'static str, errs: &mut FormErrors) {
    let n = pw.chars().count();
    if n == 0 {
        errs.add(field, "val.required");
    } else if n < MIN_PASSWORD {
        errs.add(field, "val.password_short");
    } else if n > MAX_PASSWORD {
        errs.add(field, "val.too_long");
    }
}

/// Checks a login: 3..=120 characters, no spaces.
pub fn check_login(input: &Input, errs: &mut FormErrors) -> String {
    let login = validate::text(input, "login", true, 120, errs);
    if !login.is_empty() && (login.chars().count() < 3 || login.chars().any(char::is_whitespace)) {
        errs.add("login", "val.login");
    }
    login
}

/// Parses the user form; `creating` requires an initial password.
pub fn parse_input(input: &Input, creating: bool) -> Result<UserInput, AppError> {
    let mut errs = FormErrors::default();
    let name = validate::text(input, "name", true, 100, &mut errs);
    let login = check_login(input, &mut errs);
    let role_code = validate::choice(input, "role", &["admin", "supervisor", "agent"], &mut errs);
    let access_group_id = validate::opt_id(input, "access_group_id", &mut errs);
    let mut team_ids = Vec::new();
    for v in input.all("team_ids") {
        match v.parse::<i64>() {
            Ok(id) if id > 0 => team_ids.push(id),
            _ => errs.add("team_ids", "val.invalid_choice"),
        }
    }
    team_ids.sort_unstable();
    team_ids.dedup();
    let password = if creating {
        let pw = input.raw("password");
        check_password(pw, "password", &mut errs);
        Some(pw.to_string())
    } else {
        None
    };
    errs.into_result()?;
    Ok(UserInput {
        name,
        login,
        role: Role::from_code(role_code).unwrap_or(Role::Agent),
        access_group_id,
        team_ids,
        password,
    })
}

/// Checks references in the write job (so a concurrent deactivation cannot slip through).
fn check_refs(conn: &Connection, u: &UserInput) -> AppResult<()> {
    let mut errs = FormErrors::default();
    if let Some(g) = u.access_group_id {
        let ok: bool = conn
            .prepare_cached("SELECT EXISTS(SELECT 1 FROM access_groups WHERE id = ?1 AND active = 1)")?
            .query_row([g], |r| r.get(0))?;
        if !ok {
            errs.add("access_group_id", "val.invalid_choice");
        }
    }
    for t in &u.team_ids {
        let ok: bool = conn
            .prepare_cached("SELECT EXISTS(SELECT 1 FROM teams WHERE id = ?1 AND active = 1)")?
            .query_row([t], |r| r.get(0))?;
        if !ok {
            errs.add("team_ids", "val.invalid_choice");
            break;
        }
    }
    errs.into_result()
}

fn set_teams(conn: &Connection, user_id: i64, teams: &[i64]) -> AppResult<()> {
    conn.prepare_cached("DELETE FROM user_teams WHERE user_id = ?1")?.execute([user_id])?;
    let mut ins = conn.prepare_cached("INSERT INTO user_teams (user_id, team_id) VALUES (?1, ?2)")?;
    for t in teams {
        ins.execute([user_id, *t])?;
    }
    Ok(())
}

fn map_login_conflict(e: rusqlite::Error) -> AppError {
    if validate::is_unique_violation(&e) { FormErrors::one("login", "val.login_taken") } else { e.into() }
}

/// Hashes a password off the async workers (argon2id costs ~100 ms).
pub async fn hash_password_async(pw: String) -> AppResult<String> {
    super::auth::with_hash_slot(move || super::auth::hash_password(&pw)).await?
}

/// Inserts a user (already validated) inside a write job.
pub fn insert(conn: &Connection, u: &UserInput, hash: &str, now: i64) -> AppResult<i64> {
    conn.prepare_cached(
        "INSERT INTO users (name, login, password_hash, role, access_group_id, active, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6)",
    )?
    .execute(params![u.name, u.login, hash, u.role.code(), u.access_group_id, now])
    .map_err(map_login_conflict)?;
    let id = conn.last_insert_rowid();
    set_teams(conn, id, &u.team_ids)?;
    Ok(id)
}

/// Creates a user from the admin form.
pub async fn create(db: &Db, u: UserInput, actor: Actor) -> AppResult<i64> {
    let hash = hash_password_async(u.password.clone().unwrap_or_default()).await?;
    db.write(move |conn| {
        check_refs(conn, &u)?;
        let id = insert(conn, &u, &hash, actor.now)?;
        audit::record(conn, &actor, "user.create", &format!("{} <{}>", u.name, u.login), u.role.code())?;
        Ok(id)
    })
    .await
}

/// Number of active administrators other than `except`.
fn other_active_admins(conn: &Connection, except: i64) -> AppResult<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM users WHERE role = 'admin' AND active = 1 AND id <> ?1")?
        .query_row([except], |r| r.get(0))?)
}

/// Updates a user's fields and teams.
pub async fn update(db: &Db, id: i64, u: UserInput, actor: Actor) -> AppResult<()> {
    db.write(move |conn| {
        let old = get(conn, id)?.ok_or(AppError::NotFound)?;
        check_refs(conn, &u)?;
        if old.role == Role::Admin && u.role != Role::Admin && old.active && other_active_admins(conn, id)? == 0 {
            return Err(FormErrors::one("role", "val.last_admin"));
        }
        conn.prepare_cached(
            "UPDATE users SET name = ?1, login = ?2, role = ?3, access_group_id = ?4, updated_at = ?5 WHERE id = ?6",
        )?
        .execute(params![u.name, u.login, u.role.code(), u.access_group_id, actor.now, id])
        .map_err(map_login_conflict)?;
        set_teams(conn, id, &u.team_ids)?;
        audit::record(conn, &actor, "user.update", &format!("{} <{}>", u.name, u.login), u.role.code())?;
        Ok(())
    })
    .await
}

/// Activates or deactivates a user. Deactivation ends their sessions and
/// their open live streams; nobody deactivates themselves or the last active
/// administrator.
pub async fn set_active(state: &AppState, id: i64, active: bool, actor: Actor) -> AppResult<()> {
    state
        .db
        .write(move |conn| {
            let u = get(conn, id)?.ok_or(AppError::NotFound)?;
            if !active {
                if actor.user_id == Some(id) {
                    return Err(AppError::BadRequest("val.not_self"));
                }
                if u.role == Role::Admin && other_active_admins(conn, id)? == 0 {
                    return Err(AppError::BadRequest("val.last_admin"));
                }
                conn.prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?.execute([id])?;
                super::routing::not_ready_without_sessions(conn, actor.now)?;
            }
            conn.prepare_cached("UPDATE users SET active = ?1, updated_at = ?2 WHERE id = ?3")?.execute(params![
                active as i64,
                actor.now,
                id
            ])?;
            let action = if active { "user.activate" } else { "user.deactivate" };
            audit::record(conn, &actor, action, &format!("{} <{}>", u.name, u.login), "")?;
            Ok(())
        })
        .await?;
    if !active {
        super::auth::publish_ended(state, id);
    }
    Ok(())
}

/// An administrator sets a new password for a user; the user's sessions end,
/// and their open live streams.
pub async fn reset_password(state: &AppState, id: i64, password: String, actor: Actor) -> AppResult<()> {
    let db = &state.db;
    let mut errs = FormErrors::default();
    check_password(&password, "password", &mut errs);
    errs.into_result()?;
    let exists = db.read(move |c| get(c, id)).await?.is_some();
    if !exists {
        return Err(AppError::NotFound);
    }
    let hash = hash_password_async(password).await?;
    db.write(move |conn| {
        let u = get(conn, id)?.ok_or(AppError::NotFound)?;
        conn.prepare_cached("UPDATE users SET password_hash = ?1, updated_at = ?2 WHERE id = ?3")?
            .execute(params![hash, actor.now, id])?;
        conn.prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?.execute([id])?;
        audit::record(conn, &actor, "user.password_reset", &format!("{} <{}>", u.name, u.login), "")?;
        Ok(())
    })
    .await?;
    super::auth::publish_ended(state, id);
    Ok(())
}

/// Sets a user's preferred language (`None`: business default).
pub async fn set_locale(db: &Db, id: i64, locale: Option<&'static str>, now: i64) -> AppResult<()> {
    db.write(move |conn| {
        conn.prepare_cached("UPDATE users SET locale = ?1, updated_at = ?2 WHERE id = ?3")?
            .execute(params![locale, now, id])?;
        Ok(())
    })
    .await
}

/// Whether any active administrator exists (setup is over once one does).
pub fn admin_exists(conn: &Connection) -> AppResult<bool> {
    Ok(conn.prepare_cached("SELECT EXISTS(SELECT 1 FROM users WHERE role = 'admin')")?.query_row([], |r| r.get(0))?)
}

/// (id, name) pairs for a select.
pub type Choices = Vec<(i64, String)>;

/// Active access groups and teams for the user form.
pub fn form_options(conn: &Connection) -> AppResult<(Choices, Choices)> {
    let pick = |sql: &str| -> AppResult<Vec<(i64, String)>> {
        let mut stmt = conn.prepare(sql)?;
        let v = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        Ok(v)
    };
    Ok((
        pick("SELECT id, name FROM access_groups WHERE active = 1 ORDER BY name")?,
        pick("SELECT id, name FROM teams WHERE active = 1 ORDER BY name")?,
    ))
}
