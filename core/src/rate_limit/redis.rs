//! Call budgets shared by every process of an app, kept in Redis.
//!
//! The same GCRA as [`LocalRateLimiter`](super::LocalRateLimiter), with the
//! bucket's timestamp in a Redis key (`tim:<namespace>:<bucket>`) updated by
//! one Lua script (sent once, then run by `EVALSHA`) on Redis's own clock,
//! so processes on several machines share one schedule. When Redis cannot be
//! reached the limiter falls back to an in-process budget of a configurable
//! share of each quota, logs that once, and tries Redis again a few seconds
//! later: a call never waits on Redis longer than the timeout.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::{LocalRateLimiter, Params, RateLimiter, Reservation};
use crate::endpoint::RateLimit;

/// GCRA for `cost` units: returns the wait in microseconds. KEYS[1] holds
/// the theoretical arrival time (µs on the server's clock); ARGV: interval
/// and tolerance (µs), cost.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local allowed_at = tat + interval * (cost - 1) - tolerance
local new_tat = tat + interval * cost
local ttl = math.ceil((new_tat - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl)
local wait = allowed_at - now
if wait < 0 then wait = 0 end
return string.format('%.0f', wait)
";

/// How long to leave Redis alone after it could not be reached.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// A [`RateLimiter`] whose budgets live in Redis, shared by every process
/// using the same server and namespace (the SDKAppID).
pub struct RedisRateLimiter {
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
    namespace: String,
    script: redis::Script,
    timeout: Duration,
    fallback: LocalRateLimiter,
    share: f64,
    /// Until when Redis is skipped after a failure.
    down_until: Mutex<Option<Instant>>,
    /// Whether the fallback was announced (once per outage).
    warned: AtomicBool,
}

impl fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password: show only where it points.
        let info = self.client.get_connection_info();
        f.debug_struct("RedisRateLimiter")
            .field("addr", &info.addr.to_string())
            .field("namespace", &self.namespace)
            .field("timeout", &self.timeout)
            .field("fallback_share", &self.share)
            .finish_non_exhaustive()
    }
}

/// Why a [`RedisRateLimiter`] could not be made.
#[derive(Debug)]
pub struct RedisLimiterError(String);

impl fmt::Display for RedisLimiterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedisLimiterError {}

impl RedisRateLimiter {
    /// A limiter on the Redis server at `url` (`redis://host:port/db`),
    /// its keys under `namespace` (use the SDKAppID, so apps sharing a
    /// server keep their own budgets). Connects on first use.
    pub fn new(url: &str, namespace: &str) -> Result<Self, RedisLimiterError> {
        let client = redis::Client::open(url).map_err(|e| {
            // The URL may hold a password: name the problem, not the URL.
            RedisLimiterError(format!("not a Redis URL (redis://host:port): {}", e.category()))
        })?;
        Ok(Self {
            client,
            conn: OnceCell::new(),
            namespace: namespace.to_owned(),
            script: redis::Script::new(GCRA),
            timeout: Duration::from_millis(500),
            fallback: LocalRateLimiter::new(),
            share: 0.25,
            down_until: Mutex::new(None),
            warned: AtomicBool::new(false),
        })
    }

    /// The share of each quota kept to while Redis cannot be reached
    /// (default 0.25: four processes together stay within the quota).
    pub fn fallback_share(mut self, share: f64) -> Self {
        self.share = share.clamp(0.001, 1.0);
        self
    }

    /// How long one Redis round trip may take before the fallback is used (default 500 ms).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        let conn = self
            .conn
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(self.timeout)
                    .set_response_timeout(self.timeout)
                    .set_number_of_retries(1);
                ConnectionManager::new_with_config(self.client.clone(), config).await
            })
            .await?;
        Ok(conn.clone())
    }

    async fn reserve_in_redis(&self, key: &str, params: Params, cost: u32) -> redis::RedisResult<Duration> {
        let mut conn = self.connection().await?;
        let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let wait: String = self
            .script
            .key(format!("tim:{}:{key}", self.namespace))
            .arg(micros(params.interval))
            .arg(micros(params.tolerance))
            .arg(cost)
            .invoke_async(&mut conn)
            .await?;
        Ok(Duration::from_micros(wait.parse().unwrap_or(0)))
    }

    fn redis_down(&self) -> bool {
        let down = self.down_until.lock().unwrap_or_else(PoisonError::into_inner);
        down.is_some_and(|until| Instant::now() < until)
    }

    fn mark_down(&self, why: &str) {
        *self.down_until.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now() + RETRY_AFTER);
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                share = self.share,
                error = why,
                "rate limit: Redis unreachable; keeping to a share of each quota in this process"
            );
        }
    }

    fn local(&self, key: &str, limit: RateLimit, cost: u32) -> Duration {
        let calls = ((f64::from(limit.calls) * self.share) as u32).max(1);
        let limit = RateLimit { calls, per: limit.per };
        self.fallback.reserve_at(key, limit, cost.min(calls), Instant::now())
    }
}

impl RateLimiter for RedisRateLimiter {
    fn reserve<'a>(&'a self, key: &'a str, limit: RateLimit, cost: u32) -> Reservation<'a> {
        Box::pin(async move {
            let Some(params) = Params::of(limit) else { return Duration::ZERO };
            if self.redis_down() {
                return self.local(key, limit, cost);
            }
            match tokio::time::timeout(self.timeout, self.reserve_in_redis(key, params, cost.max(1))).await {
                Ok(Ok(wait)) => {
                    if self.warned.swap(false, Ordering::Relaxed) {
                        tracing::info!("rate limit: Redis reachable again; sharing quotas through it");
                    }
                    wait
                }
                Ok(Err(e)) => {
                    self.mark_down(&e.to_string());
                    self.local(key, limit, cost)
                }
                Err(_) => {
                    self.mark_down("timed out");
                    self.local(key, limit, cost)
                }
            }
        })
    }
}
