//! Token-bucket rate limiting (the seed's API-gateway limits): one bucket per caller key
//! (user id when authenticated, client IP otherwise) and per limit class.
//!
//! What a limit is, once: a bucket of `per_min` tokens ([`RateLimits::per_min`]) refilled
//! evenly over [`REFILL_WINDOW_MS`]; each request takes one. [`RateLimiter`] keeps buckets
//! in this process; [`crate::ratelimit_redis::RedisLimiter`] keeps the same buckets in Redis
//! for several processes ([`Limiter`] is either).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most buckets kept; beyond it idle (full) buckets are dropped so a flood of distinct
/// client keys cannot grow memory without bound.
pub const BUCKETS_MAX: usize = 100_000;

/// The time a bucket takes to refill from empty to full.
pub const REFILL_WINDOW_MS: u64 = 60_000;

/// Which limit applies to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitClass {
    /// Every API request.
    General,
    /// Credential endpoints (login, register, forgot, reset, verify): brute-force targets.
    Auth,
}

impl LimitClass {
    /// Name in shared bucket keys.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitClass::General => "general",
            LimitClass::Auth => "auth",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Requests per minute for each class.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// General limit per caller (seed: 100/minute).
    pub general_per_min: u32,
    /// Credential endpoints per caller.
    pub auth_per_min: u32,
}

impl RateLimits {
    /// Requests per minute (the bucket's capacity) of `class`.
    pub fn per_min(&self, class: LimitClass) -> u32 {
        match class {
            LimitClass::General => self.general_per_min,
            LimitClass::Auth => self.auth_per_min,
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            general_per_min: 100,
            auth_per_min: 10,
        }
    }
}

/// The limiter.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<(LimitClass, String), Bucket>>,
}

impl RateLimiter {
    /// A limiter with these limits.
    pub fn new(limits: RateLimits) -> RateLimiter {
        RateLimiter {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; `Err(wait)` when the bucket is empty.
    pub fn check(&self, class: LimitClass, key: &str, now: Instant) -> Result<(), Duration> {
        let capacity = f64::from(self.limits.per_min(class).max(1));
        let refill_per_s = capacity / (REFILL_WINDOW_MS as f64 / 1000.0);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= BUCKETS_MAX {
            buckets.retain(|_, b| {
                let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
                b.tokens + elapsed * refill_per_s < capacity
            });
        }
        let b = buckets.entry((class, key.to_string())).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * refill_per_s).min(capacity);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / refill_per_s))
        }
    }
}

/// The server's limiter: buckets in this process, or shared in Redis.
#[derive(Debug)]
pub enum Limiter {
    /// One process's buckets.
    Local(RateLimiter),
    /// Buckets every process shares.
    Shared(crate::ratelimit_redis::RedisLimiter),
}

impl Limiter {
    /// Takes one token of `class` for `key`.
    pub async fn check(&self, class: LimitClass, key: &str) -> Verdict {
        match self {
            Limiter::Local(l) => match l.check(class, key, Instant::now()) {
                Ok(()) => Verdict::Allowed,
                Err(wait) => Verdict::Limited(wait),
            },
            Limiter::Shared(r) => r.check(class, key).await,
        }
    }
}

pub use crate::ratelimit_redis::Verdict;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_then_refills() {
        let rl = RateLimiter::new(RateLimits {
            general_per_min: 3,
            auth_per_min: 1,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(rl.check(LimitClass::General, "u", t0).is_ok());
        }
        let wait = rl.check(LimitClass::General, "u", t0).unwrap_err();
        assert!(wait.as_secs_f64() > 19.0 && wait.as_secs_f64() <= 20.0);
        assert!(
            rl.check(LimitClass::General, "other", t0).is_ok(),
            "keys are independent"
        );
        assert!(rl
            .check(LimitClass::General, "u", t0 + Duration::from_secs(21))
            .is_ok());
        assert!(rl.check(LimitClass::Auth, "u", t0).is_ok());
        assert!(rl.check(LimitClass::Auth, "u", t0).is_err());
    }
}
