//! Shared rate limits for several server processes (`--rate-limit-redis redis://…`): the same
//! token bucket as [`crate::ratelimit::RateLimiter`] — `per_min` tokens, refilled evenly over
//! [`REFILL_WINDOW_MS`] — kept in Redis and taken atomically by one Lua script, so every
//! replica draws on one budget. The script reads Redis's own clock (`TIME`), so replicas
//! with skewed clocks agree, and each bucket expires once it would be full again, so Redis
//! holds only buckets in use.
//!
//! Redis unreachable or slower than `--rate-limit-redis-timeout-ms`: with `closed` (the
//! default) requests are refused with 503 `overloaded`; with `open` they are served unlimited
//! (and a warning is logged) until Redis answers again.

use std::time::Duration;

use clap::{Args, ValueEnum};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

use crate::ratelimit::{LimitClass, RateLimits, REFILL_WINDOW_MS};
use crate::serve::CliError;

/// Takes one token from bucket `KEYS[1]` of capacity `ARGV[1]`, refilled over `ARGV[2]` ms.
/// Returns 0 when taken, else the milliseconds until a token is there.
const TAKE_TOKEN_LUA: &str = r"
local cap = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local per_ms = cap / window
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or cap
local ts = tonumber(b[2]) or now
if now > ts then
  tokens = math.min(cap, tokens + (now - ts) * per_ms)
  ts = now
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], window)
return wait
";

/// What to do when Redis cannot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailMode {
    /// Serve the request without a limit.
    Open,
    /// Refuse the request (503 `overloaded`).
    Closed,
}

/// `bankflow serve` settings of the shared limiter.
#[derive(Debug, Clone, Args)]
pub struct SharedLimitArgs {
    /// `redis://[:password@]host:port[/db]`: keep rate-limit budgets in Redis, shared by
    /// every server process pointed at it (default: per process).
    #[arg(long, env = "BANKFLOW_RATE_LIMIT_REDIS", hide_env_values = true)]
    pub rate_limit_redis: Option<String>,
    /// When Redis cannot answer: refuse requests (closed) or serve them unlimited (open).
    #[arg(long, env = "BANKFLOW_RATE_LIMIT_REDIS_FAIL", value_enum, default_value_t = FailMode::Closed)]
    pub rate_limit_redis_fail: FailMode,
    /// Prefix of the bucket keys (several deployments on one Redis).
    #[arg(
        long,
        env = "BANKFLOW_RATE_LIMIT_REDIS_PREFIX",
        default_value = "bankflow:rl:"
    )]
    pub rate_limit_redis_prefix: String,
    /// Longest wait for Redis per check (connecting included), in milliseconds.
    #[arg(long, env = "BANKFLOW_RATE_LIMIT_REDIS_TIMEOUT_MS", default_value_t = 250,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub rate_limit_redis_timeout_ms: u64,
}

impl SharedLimitArgs {
    /// The Redis limiter, when a URL is configured (checked here; connected on first use).
    pub fn limiter(&self, limits: RateLimits) -> Result<Option<RedisLimiter>, CliError> {
        let Some(url) = &self.rate_limit_redis else {
            return Ok(None);
        };
        let client = redis::Client::open(url.as_str())
            // The URL may carry a password: say what is wrong, never echo it.
            .map_err(|e| format!("--rate-limit-redis: invalid Redis URL ({:?})", e.kind()))?;
        tracing::info!(
            fail = ?self.rate_limit_redis_fail,
            "rate limits: shared in Redis"
        );
        Ok(Some(RedisLimiter {
            client,
            conn: OnceCell::new(),
            limits,
            prefix: self.rate_limit_redis_prefix.clone(),
            fail: self.rate_limit_redis_fail,
            timeout: Duration::from_millis(self.rate_limit_redis_timeout_ms),
            script: redis::Script::new(TAKE_TOKEN_LUA),
        }))
    }
}

/// The answer of a limit check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within budget.
    Allowed,
    /// Over budget: retry after this long.
    Limited(Duration),
    /// The shared limiter could not answer and fails closed.
    Unavailable,
}

/// Budgets in Redis.
pub struct RedisLimiter {
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
    limits: RateLimits,
    prefix: String,
    fail: FailMode,
    timeout: Duration,
    script: redis::Script,
}

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RedisLimiter(prefix {}, fail {:?})",
            self.prefix, self.fail
        )
    }
}

impl RedisLimiter {
    async fn take(&self, class: LimitClass, key: &str) -> redis::RedisResult<u64> {
        let conn = self
            .conn
            .get_or_try_init(|| {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(self.timeout)
                    .set_response_timeout(self.timeout)
                    .set_number_of_retries(1);
                ConnectionManager::new_with_config(self.client.clone(), config)
            })
            .await?;
        let mut conn = conn.clone();
        self.script
            .key(format!("{}{}:{key}", self.prefix, class.as_str()))
            .arg(self.limits.per_min(class).max(1))
            .arg(REFILL_WINDOW_MS)
            .invoke_async(&mut conn)
            .await
    }

    /// Takes one token of `class` for `key` from the shared budget.
    pub async fn check(&self, class: LimitClass, key: &str) -> Verdict {
        let error = match tokio::time::timeout(self.timeout, self.take(class, key)).await {
            Ok(Ok(0)) => return Verdict::Allowed,
            Ok(Ok(wait_ms)) => return Verdict::Limited(Duration::from_millis(wait_ms)),
            Ok(Err(e)) => format!("{:?}", e.kind()),
            Err(_) => format!("no answer within {} ms", self.timeout.as_millis()),
        };
        match self.fail {
            FailMode::Open => {
                tracing::warn!(%error, "Redis rate limiter unavailable; failing open");
                Verdict::Allowed
            }
            FailMode::Closed => {
                tracing::warn!(%error, "Redis rate limiter unavailable; failing closed");
                Verdict::Unavailable
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A limiter on the Redis of 127.0.0.1:6379 under a prefix of its own.
    fn limiter(general_per_min: u32) -> RedisLimiter {
        let args = SharedLimitArgs {
            rate_limit_redis: Some("redis://127.0.0.1:6379".into()),
            rate_limit_redis_fail: FailMode::Closed,
            rate_limit_redis_prefix: format!("bankflow-test:{}:", uuid::Uuid::new_v4().simple()),
            rate_limit_redis_timeout_ms: 2_000,
        };
        let limits = RateLimits {
            general_per_min,
            auth_per_min: 1,
        };
        args.limiter(limits).unwrap().unwrap()
    }

    #[tokio::test]
    async fn the_redis_bucket_empties_and_says_when_it_refills() {
        let rl = limiter(3);
        for _ in 0..3 {
            assert_eq!(rl.check(LimitClass::General, "u").await, Verdict::Allowed);
        }
        // 3 a minute: one token every 20 s, the first of them due in at most 20 s.
        match rl.check(LimitClass::General, "u").await {
            Verdict::Limited(wait) => {
                assert!(wait > Duration::from_secs(19) && wait <= Duration::from_secs(20))
            }
            other => panic!("expected a limit, got {other:?} (is Redis on 127.0.0.1:6379?)"),
        }
        assert_eq!(
            rl.check(LimitClass::General, "other").await,
            Verdict::Allowed
        );
        assert_eq!(rl.check(LimitClass::Auth, "u").await, Verdict::Allowed);
        assert!(matches!(
            rl.check(LimitClass::Auth, "u").await,
            Verdict::Limited(_)
        ));
    }

    #[test]
    fn a_bad_url_is_refused_without_echoing_it() {
        let args = SharedLimitArgs {
            rate_limit_redis: Some("http://:secret-pw@host".into()),
            rate_limit_redis_fail: FailMode::Closed,
            rate_limit_redis_prefix: "p:".into(),
            rate_limit_redis_timeout_ms: 100,
        };
        let e = args.limiter(RateLimits::default()).unwrap_err().to_string();
        assert!(
            !e.contains("secret-pw") && e.contains("invalid Redis URL"),
            "{e}"
        );
    }
}
