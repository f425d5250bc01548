//! Token-bucket rate limiting (the seed's API-gateway limits): one bucket per caller key
//! (user id when authenticated, client IP otherwise) and per limit class.
//!
//! What a limit is, once: a bucket of `per_min` tokens ([`RateLimits::per_min`]) refilled
//! evenly over [`REFILL_WINDOW_MS`]; each request takes one. [`RateLimiter`] keeps buckets
//! in this process; [`crate::ratelimit_redis::RedisLimiter`] keeps the same buckets in Redis
//! for several processes ([`Limiter`] is either).

use std::collections::HashMap;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use ipnet::IpNet;

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

/// Most `X-Forwarded-For` entries examined: a chain of proxies is short, and a longer header
/// is a client padding it.
pub const FORWARDED_HOPS_MAX: usize = 32;

/// One `--trusted-proxies` entry: a CIDR range (`10.0.0.0/8`, `fd00::/8`) or a single address.
pub fn parse_proxy_range(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    IpNet::from_str(s)
        .map(|n| n.trunc())
        .or_else(|_| IpAddr::from_str(s).map(IpNet::from))
        .map_err(|_| format!("`{s}` is not a CIDR range (e.g. 10.0.0.0/8) or an IP address"))
}

/// Reverse proxies whose `X-Forwarded-For` is believed. Empty (the default): the header is
/// ignored and every request is keyed on its socket peer.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// These ranges.
    pub fn new(ranges: Vec<IpNet>) -> TrustedProxies {
        TrustedProxies(ranges)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client address of a request from socket peer `peer`. Only a trusted peer's
    /// `X-Forwarded-For` counts; it is walked from the right (the entry the nearest proxy
    /// appended), skipping trusted hops, and the first untrusted address is the client.
    /// Entries left of it were written by the client itself and are never believed.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        for entry in entries.iter().rev().take(FORWARDED_HOPS_MAX) {
            // A malformed hop ends the walk at the last address a trusted proxy vouched for.
            let Some(hop) = parse_hop(entry) else {
                return client;
            };
            client = hop;
            if !self.trusts(hop) {
                return hop;
            }
        }
        client
    }
}

/// An `X-Forwarded-For` entry: an address, optionally with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let e = entry.trim();
    IpAddr::from_str(e)
        .ok()
        .or_else(|| std::net::SocketAddr::from_str(e).ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

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

    fn proxies(ranges: &[&str]) -> TrustedProxies {
        TrustedProxies::new(
            ranges
                .iter()
                .map(|r| parse_proxy_range(r).unwrap())
                .collect(),
        )
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn finding_11_the_walk_skips_trusted_hops_and_ignores_spoofed_leftmost_entries() {
        let p = proxies(&["10.0.0.0/8", "192.168.1.7"]);
        // The client wrote "6.6.6.6" itself; the edge proxy appended the real peer 203.0.113.9.
        let h = xff(&["6.6.6.6, 203.0.113.9, 10.1.2.3"]);
        assert_eq!(p.client_ip(ip("192.168.1.7"), &h), ip("203.0.113.9"));
        // Several header lines are one list, in order.
        let h = xff(&["6.6.6.6", "203.0.113.9:4711"]);
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("203.0.113.9"));
        // No header from a trusted peer: the peer is the client.
        assert_eq!(
            p.client_ip(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
        // A malformed hop stops at the last trusted address.
        let h = xff(&["203.0.113.9, garbage"]);
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.1"));
        // Every hop trusted: the leftmost is the client.
        let h = xff(&["10.9.9.9, 10.8.8.8"]);
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("10.9.9.9"));
        // An IPv4 peer seen through a dual-stack socket is still trusted.
        let h = xff(&["203.0.113.9"]);
        assert_eq!(p.client_ip(ip("::ffff:10.0.0.1"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn finding_11_an_untrusted_peer_or_no_setting_ignores_the_header() {
        let h = xff(&["203.0.113.9"]);
        let p = proxies(&["10.0.0.0/8"]);
        assert_eq!(p.client_ip(ip("198.51.100.4"), &h), ip("198.51.100.4"));
        let none = TrustedProxies::default();
        assert_eq!(none.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }

    #[test]
    fn finding_11_proxy_ranges_parse_strictly() {
        assert_eq!(
            parse_proxy_range(" 10.1.2.3/8 ").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_proxy_range("fd00::1").unwrap().to_string(),
            "fd00::1/128"
        );
        for bad in ["10.0.0.0/33", "10.0.0", "example.com", ""] {
            assert!(parse_proxy_range(bad).is_err(), "{bad}");
        }
    }
}
