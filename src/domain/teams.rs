//! Team pages: who is in a team. Visible to its members and to administrators;
//! anyone else is told the team does not exist.

use rusqlite::{Connection, OptionalExtension};

use super::users::{Role, User};
use crate::error::{AppError, AppResult};

/// A team with its members.
#[derive(Clone, Debug)]
pub struct TeamView {
    /// Team id.
    pub id: i64,
    /// Team name.
    pub name: String,
    /// Members with their presence.
    pub members: Vec<Member>,
    /// Whether the viewer supervises this team's agents (pause actions).
    pub supervised: bool,
    /// Queues bound to the team: (name, channel code).
    pub queues: Vec<(String, String)>,
}

/// A team member as the team page shows them.
#[derive(Clone, Debug)]
pub struct Member {
    /// User id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// May log in.
    pub active: bool,
    /// Presence code (not_ready, ready, paused).
    pub presence: String,
    /// Pause reason and start, when paused; whether over its limit.
    pub pause: Option<(String, i64, bool)>,
}

/// Teams the viewer may open: all for administrators, else their own.
pub fn visible(conn: &Connection, viewer: &User) -> AppResult<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name FROM teams WHERE active = 1
         AND (?1 OR id IN (SELECT team_id FROM user_teams WHERE user_id = ?2)) ORDER BY name COLLATE NOCASE",
    )?;
    let v = stmt
        .query_map(rusqlite::params![viewer.is_admin(), viewer.id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// Loads a team for `viewer`; a team the viewer is not in answers NotFound.
pub fn view(conn: &Connection, id: i64, viewer: &User) -> AppResult<TeamView> {
    if !viewer.is_admin() && !viewer.team_ids.contains(&id) {
        return Err(AppError::NotFound);
    }
    let name: String = conn
        .prepare_cached("SELECT name FROM teams WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .ok_or(AppError::NotFound)?;
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, u.name, u.role, u.active, coalesce(p.status, 'not_ready'), ps.reason_name, ps.started_at,
                ps.flagged_at IS NOT NULL
         FROM users u JOIN user_teams ut ON ut.user_id = u.id
         LEFT JOIN agent_presence p ON p.user_id = u.id
         LEFT JOIN pauses ps ON ps.user_id = u.id AND ps.ended_at IS NULL
         WHERE ut.team_id = ?1 ORDER BY u.active DESC, u.name COLLATE NOCASE",
    )?;
    let members = stmt
        .query_map([id], |r| {
            let role: String = r.get(2)?;
            let reason: Option<String> = r.get(5)?;
            Ok(Member {
                id: r.get(0)?,
                name: r.get(1)?,
                role: Role::from_code(&role).unwrap_or(Role::Agent),
                active: r.get::<_, i64>(3)? == 1,
                presence: r.get(4)?,
                pause: match reason {
                    Some(n) => Some((n, r.get(6)?, r.get(7)?)),
                    None => None,
                },
            })
        })?
        .collect::<Result<_, _>>()?;
    let supervised = viewer.is_admin() || viewer.role == Role::Supervisor;
    let mut stmt =
        conn.prepare_cached("SELECT name, channel FROM queues WHERE team_id = ?1 AND active = 1 ORDER BY name")?;
    let queues = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    Ok(TeamView { id, name, members, supervised, queues })
}
