//! Client-side throttling to each endpoint's documented call frequency.
//!
//! The server counts calls per app and answers over-limit calls with an error
//! code, so a burst from this client would fail part-way. Instead, calls that
//! would exceed the limit wait here until they fit.
//!
//! The algorithm is GCRA (a token bucket kept as one timestamp per endpoint).
//! The burst size `b` is a twentieth of the limit and the refill rate is
//! lowered to `calls - b + 1` per window, which guarantees that no window of
//! length `per` (anywhere in time, not just aligned ones) ever holds more than
//! `calls` calls. A small burst lets interactive use go unthrottled while
//! keeping the sustained rate within 5% of the limit (a burst of 1,000 calls
//! at 200/s completes at about 193/s; `cargo xtask bench` checks it).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::endpoint::RateLimit;

/// GCRA parameters for one limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Params {
    /// Gap between calls at the sustained rate.
    interval: Duration,
    /// How far ahead of the schedule a call may go (burst of `tolerance / interval + 1`).
    tolerance: Duration,
}

impl Params {
    fn of(limit: RateLimit) -> Option<Self> {
        if limit.calls == 0 || limit.per.is_zero() {
            // A zero limit is a spec mistake, not a ban on calling the endpoint.
            return None;
        }
        let burst = (limit.calls / 20).max(1);
        // Rounded up: a gap a nanosecond short lets one call too many into a window.
        let nanos = limit.per.as_nanos().div_ceil(u128::from(limit.calls - burst + 1));
        let interval = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        Some(Self { interval, tolerance: interval * (burst - 1) })
    }
}

/// Per-endpoint limiter shared by all clones of a client.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    slots: Mutex<HashMap<&'static str, Slot, BuildHasherDefault<Fnv>>>,
}

#[derive(Debug)]
struct Slot {
    /// Theoretical arrival time of the next call at the sustained rate.
    tat: Instant,
    /// The limit `params` were computed from; kept so the division runs once.
    limit: RateLimit,
    params: Option<Params>,
}

impl RateLimiter {
    /// Books a slot for a call at `now` and returns how long to wait for it.
    ///
    /// Booking before waiting keeps concurrent callers in a fair queue.
    pub(crate) fn reserve(&self, key: &'static str, limit: RateLimit, now: Instant) -> Duration {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = slots.entry(key).or_insert_with(|| Slot { tat: now, limit, params: Params::of(limit) });
        if slot.limit != limit {
            *slot = Slot { tat: slot.tat, limit, params: Params::of(limit) };
        }
        let Some(p) = slot.params else {
            return Duration::ZERO;
        };
        let scheduled = slot.tat.max(now);
        let allowed_at = scheduled.checked_sub(p.tolerance).unwrap_or(now);
        slot.tat = scheduled + p.interval;
        allowed_at.saturating_duration_since(now)
    }

    /// Waits until a call to `key` fits within `limit`.
    pub(crate) async fn acquire(&self, key: &'static str, limit: RateLimit) {
        let wait = self.reserve(key, limit, Instant::now());
        if !wait.is_zero() {
            tracing::debug!(path = key, wait_ms = wait.as_millis() as u64, "rate limit: waiting");
            tokio::time::sleep(wait).await;
        }
    }
}

/// FNV-1a: endpoint paths are trusted static strings, so the DoS resistance
/// of the default SipHash buys nothing and costs most of the fast path.
#[derive(Debug)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Admission times for `n` back-to-back calls, in seconds from the first.
    fn schedule(limit: RateLimit, n: usize) -> Vec<f64> {
        let l = RateLimiter::default();
        let t0 = Instant::now();
        (0..n).map(|_| l.reserve("k", limit, t0).as_secs_f64()).collect()
    }

    fn max_in_window(times: &[f64], per: f64) -> usize {
        (0..times.len())
            .map(|i| times[i..].iter().take_while(|&&t| t < times[i] + per - 1e-9).count())
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn never_more_than_limit_in_any_window() {
        for limit in [
            RateLimit::per_second(200),
            RateLimit::per_second(1),
            RateLimit::per_second(20),
            RateLimit::per_minute(60),
            RateLimit::per_day(100),
        ] {
            let times = schedule(limit, limit.calls as usize * 5 + 7);
            let max = max_in_window(&times, limit.per.as_secs_f64());
            assert!(max <= limit.calls as usize, "{limit}: {max}");
            assert!(max >= limit.calls as usize - 1, "{limit}: only {max}");
        }
    }

    #[test]
    fn small_bursts_do_not_wait() {
        let times = schedule(RateLimit::per_second(200), 10);
        assert!(times.iter().all(|&t| t == 0.0));
        let times = schedule(RateLimit::per_second(200), 11);
        assert!(times[10] > 0.0);
    }

    #[test]
    fn zero_limit_means_unlimited() {
        let l = RateLimiter::default();
        let limit = RateLimit { calls: 0, per: Duration::from_secs(1) };
        for _ in 0..10 {
            assert_eq!(l.reserve("k", limit, Instant::now()), Duration::ZERO);
        }
    }

    #[test]
    fn endpoints_are_independent_and_idle_time_refills() {
        let l = RateLimiter::default();
        let limit = RateLimit::per_second(10);
        let t0 = Instant::now();
        assert_eq!(l.reserve("a", limit, t0), Duration::ZERO);
        assert!(l.reserve("a", limit, t0) > Duration::ZERO);
        assert_eq!(l.reserve("b", limit, t0), Duration::ZERO);
        assert_eq!(l.reserve("a", limit, t0 + Duration::from_secs(5)), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn thousand_calls_at_200_per_second() {
        let l = std::sync::Arc::new(RateLimiter::default());
        let start = Instant::now();
        let tasks: Vec<_> = (0..1000)
            .map(|_| {
                let l = l.clone();
                tokio::spawn(async move { l.acquire("v4/x", RateLimit::per_second(200)).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let took = start.elapsed().as_secs_f64();
        // 10 at once, then 990 at 191/s: 5.18 s, i.e. 193 calls/s (200 ± 5%).
        assert!((4.9..5.3).contains(&took), "{took}");
    }

    #[test]
    fn fast_path_is_cheap() {
        let l = RateLimiter::default();
        let limit = RateLimit::per_second(u32::MAX);
        let n = 100_000u32;
        let start = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(l.reserve("v4/openim/admin_set_msg_read", limit, Instant::now()));
        }
        let per_call = start.elapsed() / n;
        eprintln!("rate limiter fast path: {per_call:?} per call");
        // Generous bound so debug builds on slow CI pass; release is ~50 ns.
        assert!(per_call < Duration::from_micros(5), "{per_call:?}");
    }
}
