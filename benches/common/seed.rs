//! Seeding a bench database through the library (so it has the binary's
//! schema): one team, web chat queues and agents.
#![allow(dead_code)] // each bench uses a part

use std::path::Path;

use atende::db::{Db, DbOptions};
use atende::domain::registers::{self, Value};
use atende::domain::users::{self, Role, UserInput};
use atende::domain::{Actor, auth};

use super::{PW, R, err, now_secs};

// ---------------------------------------------------------------- seeding

/// What `seed_base` created.
pub struct Base {
    pub queues: Vec<i64>,
    pub agents: Vec<i64>,
    pub logins: Vec<String>,
}

/// Creates the database (through the library, so it has the binary's schema),
/// one team, `n_queues` web chat queues of that team and `n_agents` agents in
/// it (one password hash shared by all, so creating them is quick).
pub async fn seed_base(data: &Path, tag: &str, n_queues: usize, n_agents: usize) -> R<Base> {
    let path = data.join("atende.db");
    let db =
        tokio::task::spawn_blocking(move || Db::open(&path, DbOptions::default())).await.map_err(err)?.map_err(err)?;
    let r = seed_base_in(&db, tag, n_queues, n_agents).await;
    let d2 = db.clone();
    tokio::task::spawn_blocking(move || d2.close()).await.map_err(err)?;
    r
}

pub async fn seed_base_in(db: &Db, tag: &str, n_queues: usize, n_agents: usize) -> R<Base> {
    let now = now_secs();
    let actor = Actor::system("bench", now);
    let teams = registers::spec("equipes").ok_or("no register 'equipes'")?;
    let team = registers::create(db, teams, vec![Value::Text(format!("Equipe {tag}"))], actor.clone())
        .await
        .map_err(|e| format!("create team: {e}"))?;
    let filas = registers::spec("filas").ok_or("no register 'filas'")?;
    let mut queues = Vec::new();
    for i in 0..n_queues {
        let mut v = registers::blank(filas);
        v[0] = Value::Text(format!("Fila {tag} {i}"));
        v[1] = Value::Text("webchat".into());
        v[2] = Value::Int(team);
        v[4] = Value::Int(30);
        v[5] = Value::Int(5);
        queues.push(registers::create(db, filas, v, actor.clone()).await.map_err(|e| format!("create queue: {e}"))?);
    }
    let hash = tokio::task::spawn_blocking(|| auth::hash_password(PW)).await.map_err(err)?.map_err(err)?;
    let logins: Vec<String> = (0..n_agents).map(|i| format!("{tag}{i:03}@bench.local")).collect();
    let l2 = logins.clone();
    let agents = db
        .write(move |c| {
            let mut ids = Vec::with_capacity(l2.len());
            for (i, login) in l2.iter().enumerate() {
                let u = UserInput {
                    name: format!("Agente {i:03}"),
                    login: login.clone(),
                    role: Role::Agent,
                    access_group_id: None,
                    team_ids: vec![team],
                    password: None,
                };
                ids.push(users::insert(c, &u, &hash, now)?);
            }
            Ok(ids)
        })
        .await
        .map_err(|e| format!("create agents: {e}"))?;
    Ok(Base { queues, agents, logins })
}

/// Inserts an administrator with `login` and a prepared password hash.
pub fn insert_admin(c: &rusqlite::Connection, login: &str, hash: &str, now: i64) -> atende::error::AppResult<i64> {
    users::insert(
        c,
        &UserInput {
            name: "Admin".into(),
            login: login.into(),
            role: Role::Admin,
            access_group_id: None,
            team_ids: vec![],
            password: None,
        },
        hash,
        now,
    )
}
