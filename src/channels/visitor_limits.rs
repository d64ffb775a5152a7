//! The widget's per-visitor rate limiter (never per IP, so a busy office on
//! one address is never blocked).

use std::collections::HashMap;
use std::sync::Mutex;

/// Per-visitor token bucket: `BURST` messages, refilled at one per `REFILL` seconds.
const BURST: f64 = 8.0;
const REFILL: f64 = 1.5;
/// Seconds a limited visitor waits before one token is back (`REFILL` rounded
/// up), sent as `Retry-After`.
pub const RETRY_AFTER: &str = "2";
/// Visitors remembered by the limiter before old entries are dropped.
const LIMITER_MAX: usize = 100_000;

/// Rate limiter for visitor messages.
#[derive(Default)]
pub struct Limiter {
    buckets: Mutex<HashMap<Vec<u8>, (f64, f64)>>,
}

impl Limiter {
    /// Takes one token for `key` at time `now` (seconds, fractional).
    pub fn allow(&self, key: &[u8], now: f64) -> bool {
        let Ok(mut b) = self.buckets.lock() else { return true };
        if b.len() > LIMITER_MAX {
            b.retain(|_, (tokens, at)| now - *at < 60.0 && *tokens < BURST);
        }
        let (tokens, at) = b.entry(key.to_vec()).or_insert((BURST, now));
        *tokens = (*tokens + (now - *at) / REFILL).min(BURST);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
