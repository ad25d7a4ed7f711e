//! When and how long to wait before sending a request again.

use std::time::Duration;

/// Capped exponential backoff with full jitter.
///
/// Full jitter (a uniform delay between zero and the cap) keeps many clients
/// that failed together from retrying together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    base: Duration,
    max: Duration,
}

impl Backoff {
    pub(crate) fn new(base: Duration, max: Duration) -> Self {
        Self { base, max: max.max(base) }
    }

    /// Upper bound of the delay after `failures` failed attempts (1-based).
    pub(crate) fn cap(&self, failures: u32) -> Duration {
        let factor = 1u32.checked_shl(failures.saturating_sub(1)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// A random delay in `0..=cap(failures)`.
    pub(crate) fn delay(&self, failures: u32) -> Duration {
        let cap = u64::try_from(self.cap(failures).as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(0..=cap))
    }
}

/// Whether to send again after a failed attempt number `attempt` (1-based).
pub(crate) fn should_retry(idempotent: bool, retryable: bool, attempt: u32, max_attempts: u32) -> bool {
    // A non-idempotent request that failed in transit may still have been
    // processed, so only the caller can decide whether to send it again.
    idempotent && retryable && attempt < max_attempts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_grows_and_saturates() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let caps: Vec<u128> = (1..=7).map(|n| b.cap(n).as_millis()).collect();
        assert_eq!(caps, [100, 200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(b.cap(u32::MAX), Duration::from_secs(2));
        for n in 1..50 {
            assert!(b.delay(n) <= b.cap(n));
        }
        assert_eq!(Backoff::new(Duration::ZERO, Duration::ZERO).delay(3), Duration::ZERO);
        // max below base is raised to base rather than producing zero delays.
        assert_eq!(Backoff::new(Duration::from_secs(1), Duration::ZERO).cap(5), Duration::from_secs(1));
    }

    #[test]
    fn jitter_spreads() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let delays: std::collections::HashSet<Duration> = (0..20).map(|_| b.delay(4)).collect();
        assert!(delays.len() > 10);
    }

    #[test]
    fn retry_decision() {
        assert!(should_retry(true, true, 1, 3));
        assert!(should_retry(true, true, 2, 3));
        assert!(!should_retry(true, true, 3, 3));
        assert!(!should_retry(false, true, 1, 3));
        assert!(!should_retry(true, false, 1, 3));
    }
}
