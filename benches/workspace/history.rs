//! The workspace bench's history: 100,000 conversations, 30,000 of them held
//! by one agent, with their messages, written straight into SQLite in one
//! transaction (the schema's triggers keep the counters and previews as the
//! server would).

use std::path::Path;
use std::time::Instant;

use atende::db;
use rusqlite::params;

use crate::common::seed::Base;
use crate::common::{R, err, now_secs};

/// Conversations in all.
pub const CONVERSATIONS: i64 = 100_000;
/// The newest ones wait in the queues.
pub const QUEUED: i64 = 2_000;
/// Of the rest, `i % STRIDE < MINE_PER_STRIDE` are assigned to the measured
/// agent (98,000 / 49 x 15 = 30,000) and `i % STRIDE == MINE_PER_STRIDE` to
/// the other agents (2,000); the others are finished (every tenth archived)
/// by any agent, the measured one included.
const STRIDE: i64 = 49;
const MINE_PER_STRIDE: i64 = 15;
/// Conversations the measured agent holds.
pub const MINE: i64 = (CONVERSATIONS - QUEUED) / STRIDE * MINE_PER_STRIDE;
/// Messages (and timeline events) per conversation.
pub const MSGS_PER_CONV: i64 = 6;
/// Seconds between two conversations' start (100,000 span about 58 days).
const SPACING: i64 = 50;
/// Every `UNREAD_EVERY`-th of the measured agent's conversations has an
/// unread customer message.
const UNREAD_EVERY: i64 = 7;
/// Every `TASK_EVERY`-th of them has an open task on its contact.
const TASK_EVERY: i64 = 30;

const BODIES: [&str; 6] = [
    "Olá, meu pedido ainda não chegou, pode verificar por favor?",
    "Claro! Vou consultar a transportadora e já retorno.",
    "O código de rastreio não mostra nenhuma atualização desde segunda.",
    "Verifiquei aqui: a entrega está prevista para amanhã à tarde.",
    "Obrigado, fico no aguardo então.",
    "Precisa de mais alguma coisa? Estamos à disposição.",
];

/// What the seed made.
pub struct Seeded {
    pub conversations: i64,
    pub messages: i64,
    pub mine: i64,
    pub mine_unread: i64,
    pub tasks: i64,
    pub size_bytes: u64,
    pub secs: f64,
    /// The measured agent's conversations, newest activity first (the
    /// order of "Minhas conversas"): (id, last_activity_at, contact name).
    pub mine_rows: Vec<(i64, i64, String)>,
}

/// Seeds the history on the database of `base` (created by `seed_base`).
pub fn seed(path: &Path, base: &Base) -> R<Seeded> {
    let t = Instant::now();
    let conn = db::open_rw(path).map_err(err)?;
    let now = now_secs();
    let n = CONVERSATIONS;
    let measured = base.agents[0];
    let others = &base.agents[1..];
    let all_agents = &base.agents;
    let mut mine_rows = Vec::with_capacity(MINE as usize);
    let mut tasks = 0;
    conn.execute_batch("BEGIN IMMEDIATE").map_err(err)?;
    {
        let mut contact = conn
            .prepare("INSERT INTO contacts (name, phone, email, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)")
            .map_err(err)?;
        let mut conv = conn
            .prepare(
                "INSERT INTO conversations (queue_id, contact_id, channel, subject, status, agent_id, queued_at,
                   created_at, last_activity_at, closed_at, agent_read_id, page_url)
                 VALUES (?1, ?2, 'webchat', ?3, ?4, ?5, ?6, ?6, ?7, ?8, 0, ?9)",
            )
            .map_err(err)?;
        let mut msg = conn
            .prepare(
                "INSERT INTO messages (conversation_id, kind, author_id, author_name, body, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(err)?;
        let mut read = conn.prepare("UPDATE conversations SET agent_read_id = ?1 WHERE id = ?2").map_err(err)?;
        let mut task = conn
            .prepare(
                "INSERT INTO tasks (kind, title, due_at, assignee_id, contact_id, conversation_id, notify, status,
                   created_by, created_at, updated_at)
                 VALUES ('call', ?1, ?2, ?3, ?4, ?5, 1, 'pending', ?3, ?6, ?6)",
            )
            .map_err(err)?;
        let mut mine_seen = 0i64;
        for i in 0..n {
            let created = now - (n - i) * SPACING - 600;
            let (status, agent) = if i >= n - QUEUED {
                ("queued", None)
            } else if i % STRIDE < MINE_PER_STRIDE {
                ("assigned", Some(measured))
            } else if i % STRIDE == MINE_PER_STRIDE {
                ("assigned", Some(others[(i as usize) % others.len().max(1)]))
            } else if i % 10 == 0 {
                ("archived", Some(all_agents[(i as usize) % all_agents.len()]))
            } else {
                ("finished", Some(all_agents[(i as usize) % all_agents.len()]))
            };
            let closed = matches!(status, "finished" | "archived");
            let is_mine = agent == Some(measured) && status == "assigned";
            let unread = is_mine && mine_seen % UNREAD_EVERY == 0;
            let name = format!("Cliente {i}");
            contact
                .execute(params![
                    name,
                    format!("+55 11 9{:04}-{:04}", i / 10_000, i % 10_000),
                    format!("cliente{i}@example.com"),
                    created
                ])
                .map_err(err)?;
            let contact_id = conn.last_insert_rowid();
            let last = created + 40 * (MSGS_PER_CONV - 1);
            let queue = base.queues[(i as usize) % base.queues.len()];
            conv.execute(params![
                queue,
                contact_id,
                format!("Pedido {} não chegou", 100_000 + i),
                status,
                agent,
                created,
                last,
                closed.then_some(last),
                "https://loja.example.com/pedidos"
            ])
            .map_err(err)?;
            let cid = conn.last_insert_rowid();
            let agent_name = agent.map(|a| format!("Agente {:03}", a - base.agents[0])).unwrap_or_default();
            let (mut last_id, mut read_upto) = (0, 0);
            for k in 0..MSGS_PER_CONV {
                let at = created + 40 * k;
                let body = BODIES[((i + k) % BODIES.len() as i64) as usize];
                let last_msg = k == MSGS_PER_CONV - 1;
                let (kind, author, author_name, text) = match (k, agent) {
                    (0, _) => ("system", None, "", "ev.created"),
                    (_, None) => ("in", None, name.as_str(), body),
                    (2, Some(_)) => ("system", agent, agent_name.as_str(), "ev.accepted"),
                    _ if last_msg && closed => (
                        "system",
                        agent,
                        agent_name.as_str(),
                        if status == "archived" { "ev.archived" } else { "ev.finished" },
                    ),
                    _ if last_msg && !unread => ("out", agent, agent_name.as_str(), body),
                    _ if k % 2 == 1 => ("in", None, name.as_str(), body),
                    _ => ("out", agent, agent_name.as_str(), body),
                };
                msg.execute(params![cid, kind, author, author_name, text, at]).map_err(err)?;
                last_id = conn.last_insert_rowid();
                if k == MSGS_PER_CONV - 2 {
                    read_upto = last_id;
                }
            }
            if status == "assigned" {
                read.execute(params![if unread { read_upto } else { last_id }, cid]).map_err(err)?;
            }
            if is_mine {
                if mine_seen % TASK_EVERY == 0 {
                    let title = format!("Ligar para {name}");
                    task.execute(params![title, now + 86_400 + i, measured, contact_id, cid, created]).map_err(err)?;
                    tasks += 1;
                }
                mine_rows.push((cid, last, name.clone()));
                mine_seen += 1;
            }
        }
        let mut connect =
            conn.prepare("INSERT OR IGNORE INTO queue_connections (user_id, queue_id) VALUES (?1, ?2)").map_err(err)?;
        for q in &base.queues {
            connect.execute([measured, *q]).map_err(err)?;
        }
    }
    conn.execute_batch("COMMIT").map_err(err)?;
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map_err(err);
    let conversations = count("SELECT count(*) FROM conversations")?;
    let messages = count("SELECT count(*) FROM messages")?;
    let (mine, mine_unread): (i64, i64) = conn
        .query_row("SELECT assigned, unread FROM agent_counters WHERE agent_id = ?1", [measured], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(err)?;
    conn.execute_batch("PRAGMA optimize; PRAGMA wal_checkpoint(TRUNCATE)").map_err(err)?;
    conn.close().map_err(|(_, e)| err(e))?;
    let size_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    mine_rows.sort_by_key(|r| std::cmp::Reverse((r.1, r.0)));
    Ok(Seeded {
        conversations,
        messages,
        mine,
        mine_unread,
        tasks,
        size_bytes,
        secs: t.elapsed().as_secs_f64(),
        mine_rows,
    })
}
