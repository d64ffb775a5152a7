//! The credentials of the numbers webhooks arrive for, kept between
//! requests: a webhook then checks its signature without a database read
//! first (one hand-off fewer to the blocking pool per webhook, which on a
//! busy machine is where its latency varied most). A copy is used only while
//! no commit has changed a queue or a number since it was read
//! ([`crate::db::Db::config_generation`]), so a new secret, token or a
//! deactivated queue applies to the very next webhook.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{Credentials, credentials};
use crate::app::AppState;
use crate::error::AppResult;

/// Most numbers kept (a webhook for an unknown queue is never kept).
const MAX_NUMBERS: usize = 256;

/// Queue → (generation it was read at, its credentials).
#[derive(Default)]
pub struct CredentialCache {
    map: Mutex<HashMap<i64, (u64, Arc<Credentials>)>>,
}

impl CredentialCache {
    fn get(&self, queue_id: i64, generation: u64) -> Option<Arc<Credentials>> {
        let map = self.map.lock().ok()?;
        map.get(&queue_id).filter(|(g, _)| *g == generation).map(|(_, c)| c.clone())
    }

    fn put(&self, queue_id: i64, generation: u64, c: Arc<Credentials>) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= MAX_NUMBERS {
                map.retain(|_, (g, _)| *g == generation);
                if map.len() >= MAX_NUMBERS {
                    map.clear();
                }
            }
            map.insert(queue_id, (generation, c));
        }
    }
}

/// The credentials of an active, configured WhatsApp queue, from the cache
/// while they are current, else from the database.
pub async fn webhook_credentials(state: &AppState, queue_id: i64) -> AppResult<Option<Arc<Credentials>>> {
    // Read before the value: a commit after this makes the copy stale.
    let generation = state.db.config_generation();
    if let Some(c) = state.wa_credentials.get(queue_id, generation) {
        return Ok(Some(c));
    }
    let Some(c) = state.db.read(move |conn| credentials(conn, queue_id)).await? else { return Ok(None) };
    let c = Arc::new(c);
    state.wa_credentials.put(queue_id, generation, c.clone());
    Ok(Some(c))
}
