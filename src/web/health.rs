//! GET /healthz: whether the server can store what it is sent, for a monitor
//! (or a load balancer) to read. 503 with Retry-After while the disk is full.

use serde::Serialize;
use warp::http::StatusCode;
use warp::http::header::{HeaderValue, RETRY_AFTER};
use warp::reply::{Reply, Response};

use crate::app::AppState;
use crate::db::space;
use crate::error::RETRY_AFTER_SECS;

#[derive(Serialize)]
struct Health {
    status: &'static str,
    storage: Storage,
    backup: Backup,
}

#[derive(Serialize)]
struct Storage {
    full: bool,
    full_since: Option<i64>,
    refused_writes: u64,
    free_bytes: Option<u64>,
}

#[derive(Serialize)]
struct Backup {
    refused: bool,
    refused_at: Option<i64>,
    needed_bytes: Option<u64>,
    free_bytes: Option<u64>,
}

/// The health answer: `status` is "ok", "storage_full" (503) or
/// "backup_refused" (the last daily backup found no room; 200).
pub fn healthz(state: &AppState) -> Response {
    let h = state.health().snapshot();
    let full = h.full_since.is_some();
    let r = h.backup_refusal.as_ref();
    let body = Health {
        status: if full {
            "storage_full"
        } else if r.is_some() {
            "backup_refused"
        } else {
            "ok"
        },
        storage: Storage {
            full,
            full_since: h.full_since,
            refused_writes: h.refused_writes,
            free_bytes: space::free_bytes(&state.config.data_dir),
        },
        backup: Backup {
            refused: r.is_some(),
            refused_at: r.map(|r| r.at),
            needed_bytes: r.map(|r| r.needed),
            free_bytes: r.map(|r| r.free),
        },
    };
    let mut resp = warp::reply::json(&body).into_response();
    if full {
        *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        resp.headers_mut().insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    }
    resp
}
