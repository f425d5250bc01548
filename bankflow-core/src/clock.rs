//! The clock port. The engine never reads the system time directly, so tests can travel
//! in time (hold expiry, daily limits, lockouts, schedules) deterministically.

use std::sync::Mutex;

use chrono::{DateTime, Duration, SubsecRound, Utc};

/// Port: the current time.
pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        // Microseconds: what PostgreSQL's timestamptz keeps, so every store round-trips
        // every timestamp exactly (and hashes over timestamps stay stable).
        Utc::now().trunc_subsecs(6)
    }
}

/// A clock that only moves when told to: for tests and for users' own simulations.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock(Mutex::new(start))
    }

    /// Moves the clock forward (or backward with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().expect("clock lock");
        *t += by;
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: DateTime<Utc>) {
        *self.0.lock().expect("clock lock") = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().expect("clock lock").trunc_subsecs(6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_keep_microseconds_only() {
        let t = SystemClock.now();
        assert_eq!(t.timestamp_subsec_nanos() % 1_000, 0);
        let m = ManualClock::new(t + Duration::nanoseconds(1_234_567));
        assert_eq!(m.now().timestamp_subsec_nanos() % 1_000, 0);
    }
}
