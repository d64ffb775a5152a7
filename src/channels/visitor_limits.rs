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

/// Buckets by key: (tokens, last refill time).
type Buckets = HashMap<Vec<u8>, (f64, f64)>;

/// Rate limiter for visitor messages.
#[derive(Default)]
pub struct Limiter {
    /// Buckets by key, and when they were last pruned.
    state: Mutex<(Buckets, f64)>,
}

impl Limiter {
    /// Takes one token for `key` at time `now` (seconds, fractional).
    ///
    /// Past [`LIMITER_MAX`] keys, at most once a second, the buckets that
    /// have refilled are forgotten: a full bucket is the same as a visitor
    /// never seen, so forgetting it changes no answer, and the check stays
    /// cheap however many visitors a flood brings (it used to scan every
    /// bucket on every new visitor past the limit).
    pub fn allow(&self, key: &[u8], now: f64) -> bool {
        let Ok(mut guard) = self.state.lock() else { return true };
        let (b, pruned_at) = &mut *guard;
        if b.len() > LIMITER_MAX && now - *pruned_at >= 1.0 {
            b.retain(|_, (tokens, at)| *tokens + (now - *at) / REFILL < BURST);
            *pruned_at = now;
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

    /// Keys remembered now.
    pub fn len(&self) -> usize {
        self.state.lock().map(|g| g.0.len()).unwrap_or(0)
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgetting_refilled_visitors_changes_no_answer() {
        let l = Limiter::default();
        // A flood of one-message visitors past the limit.
        for i in 0..(LIMITER_MAX + 10) {
            assert!(l.allow(&(i as u64).to_le_bytes(), 0.5));
        }
        assert!(l.len() > LIMITER_MAX, "no prune within the first second");
        // Later, a visitor uses their burst and is refused.
        for _ in 0..8 {
            assert!(l.allow(b"busy", 12.0));
        }
        assert!(!l.allow(b"busy", 12.0));
        // The next new visitor prunes: the flood's buckets have refilled and
        // are forgotten; the limited visitor is remembered and still limited.
        assert!(l.allow(b"new", 12.1));
        assert_eq!(l.len(), 2);
        assert!(!l.allow(b"busy", 12.1));
        assert!(l.allow(b"busy", 12.0 + REFILL), "one token back after REFILL");
    }
}
