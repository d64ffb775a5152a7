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
    /// (name, role, active) of each member.
    pub members: Vec<(String, Role, bool)>,
    /// Queues bound to the team: (name, channel code).
    pub queues: Vec<(String, String)>,
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
        "SELECT u.name, u.role, u.active FROM users u JOIN user_teams ut ON ut.user_id = u.id
         WHERE ut.team_id = ?1 ORDER BY u.active DESC, u.name COLLATE NOCASE",
    )?;
    let members = stmt
        .query_map([id], |r| {
            let role: String = r.get(1)?;
            Ok((r.get(0)?, Role::from_code(&role).unwrap_or(Role::Agent), r.get::<_, i64>(2)? == 1))
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt =
        conn.prepare_cached("SELECT name, channel FROM queues WHERE team_id = ?1 AND active = 1 ORDER BY name")?;
    let queues = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    Ok(TeamView { id, name, members, queues })
}
