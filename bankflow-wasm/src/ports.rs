//! The engine's clock and id ports, supplied from JavaScript.
//!
//! wasm32-unknown-unknown has no `SystemTime` (calling it panics) and no OS random source,
//! so the defaults of `Bank::builder` cannot be used for time or ids:
//! - time comes from `Date.now()` (millisecond precision), or from a frozen clock that only
//!   moves when the sandbox is told to (deterministic scripts and tests);
//! - ids come from the engine's own [`SequentialIds`]: a counter laid into UUID bytes next
//!   to a 64-bit seed. The seed is the caller's, or 64 bits of `crypto.getRandomValues`
//!   (through `uuid`'s `js` feature: a fresh v4 UUID). Ids are unique within one sandbox and
//!   two sandboxes collide only if their seeds do (2^-64). They are not secrets.

use std::sync::Arc;

use bankflow_core::ids::SequentialIds;
use bankflow_core::{Clock, IdGenerator, ManualClock};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The JS wall clock, `Date.now()`.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsClock;

impl Clock for JsClock {
    fn now(&self) -> DateTime<Utc> {
        now_ms_to_utc(js_sys::Date::now())
    }
}

/// `Date.now()` is a float of milliseconds since the epoch; anything unrepresentable (it
/// never is in practice) is clamped to the epoch rather than panicking inside the engine.
fn now_ms_to_utc(ms: f64) -> DateTime<Utc> {
    let ms = if ms.is_finite() { ms as i64 } else { 0 };
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::UNIX_EPOCH)
}

/// The sandbox's clock: live, or frozen at a start time and moved explicitly.
#[derive(Clone)]
pub enum SandboxClock {
    /// `Date.now()`.
    Live,
    /// Moves only through [`ManualClock::advance`].
    Manual(Arc<ManualClock>),
}

impl SandboxClock {
    /// The port handed to the engine.
    pub fn port(&self) -> Arc<dyn Clock> {
        match self {
            SandboxClock::Live => Arc::new(JsClock),
            SandboxClock::Manual(c) => c.clone(),
        }
    }
}

/// The id port: [`SequentialIds`] over `seed`, or over a random seed.
pub fn id_generator(seed: Option<u64>) -> Arc<dyn IdGenerator> {
    let seed = seed.unwrap_or_else(random_seed);
    Arc::new(SequentialIds::new(seed))
}

/// 64 random bits from `crypto.getRandomValues` on wasm (the OS natively).
fn random_seed() -> u64 {
    let (hi, lo) = Uuid::new_v4().as_u64_pair();
    hi ^ lo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_time_converts_and_never_panics() {
        assert_eq!(
            now_ms_to_utc(1_700_000_000_123.0).timestamp_millis(),
            1_700_000_000_123
        );
        assert_eq!(now_ms_to_utc(f64::NAN), DateTime::UNIX_EPOCH);
        assert_eq!(now_ms_to_utc(f64::MAX), DateTime::UNIX_EPOCH);
    }

    #[test]
    fn seeded_ids_repeat_and_random_seeds_differ() {
        let a = id_generator(Some(9));
        let b = id_generator(Some(9));
        assert_eq!(a.next_uuid(), b.next_uuid());
        assert_ne!(
            id_generator(None).next_uuid(),
            id_generator(None).next_uuid()
        );
    }
}
