//! The application's clock. Production reads the system time; tests use a
//! frozen clock that only moves when the test moves it, so no expiry depends
//! on how long the machine took.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// Unix time in seconds: the system time plus an offset, or (frozen) a fixed
/// instant that only [`Clock::advance`] moves.
#[derive(Clone, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
    frozen: Arc<AtomicBool>,
}

impl Clock {
    /// The system clock (what `Default` gives).
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock stopped at `at` (unix seconds); it moves only by `advance`.
    pub fn frozen(at: i64) -> Clock {
        Clock { offset: Arc::new(AtomicI64::new(at)), frozen: Arc::new(AtomicBool::new(true)) }
    }

    /// A clock stopped at the current system time.
    pub fn frozen_now() -> Clock {
        Clock::frozen(jiff::Timestamp::now().as_second())
    }

    /// Current unix time in seconds.
    pub fn now(&self) -> i64 {
        let offset = self.offset.load(Ordering::Relaxed);
        if self.frozen.load(Ordering::Relaxed) { offset } else { jiff::Timestamp::now().as_second() + offset }
    }

    /// Moves this clock (and every clone of it) forward by `secs`.
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;

    #[test]
    fn a_frozen_clock_moves_only_when_advanced() {
        let c = Clock::frozen(1_000);
        assert_eq!(c.now(), 1_000);
        let other = c.clone();
        other.advance(61);
        assert_eq!(c.now(), 1_061);
    }
}
