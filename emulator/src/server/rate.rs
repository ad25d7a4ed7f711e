//! The documented per-endpoint call frequencies, enforced as the service
//! does: a token bucket per endpoint holding the documented number of calls,
//! refilled evenly over the documented window.

use std::collections::HashMap;
use std::time::Instant;

use tim_runtime::RateLimit;

/// Buckets by endpoint path.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    buckets: HashMap<&'static str, Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    /// Takes one call from `path`'s bucket; false when it is empty.
    pub(crate) fn admit(&mut self, path: &'static str, limit: RateLimit) -> bool {
        self.admit_at(path, limit, Instant::now())
    }

    fn admit_at(&mut self, path: &'static str, limit: RateLimit, now: Instant) -> bool {
        let capacity = f64::from(limit.calls.max(1));
        let bucket = self.buckets.entry(path).or_insert(Bucket { tokens: capacity, last: now });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        let per = limit.per.as_secs_f64().max(f64::MIN_POSITIVE);
        bucket.tokens = (bucket.tokens + elapsed * capacity / per).min(capacity);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_full_bucket_admits_the_documented_calls_then_refills() {
        let mut r = RateLimiter::default();
        let t0 = Instant::now();
        let limit = RateLimit::per_second(5);
        assert!((0..5).all(|_| r.admit_at("a", limit, t0)));
        assert!(!r.admit_at("a", limit, t0));
        // Another endpoint has its own bucket.
        assert!(r.admit_at("b", limit, t0));
        // A fifth of a second refills one call.
        assert!(r.admit_at("a", limit, t0 + Duration::from_millis(201)));
        assert!(!r.admit_at("a", limit, t0 + Duration::from_millis(202)));
        // A long pause refills to the limit, not beyond.
        let later = t0 + Duration::from_secs(60);
        assert_eq!((0..10).filter(|_| r.admit_at("a", limit, later)).count(), 5);
    }
}
