//! The documented call frequencies, enforced as the service counts them: a
//! token bucket per endpoint for its main limit, and one per further
//! documented limit (`EndpointMeta::rate_limits`), which may count a call
//! as the length of a request list (recipients) and keep one budget per
//! value of a request field (per group). A call is admitted only when every
//! bucket has room, and then takes from all of them.
//!
//! A single call costing more than a bucket can ever hold (500 recipients
//! against a 100-a-minute quota) is admitted once that bucket is full, and
//! leaves it in debt, so the wait shows as the frequency code until then.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::Value;
use tim_runtime::{EndpointMeta, RateLimit};

/// Buckets kept before full ones (which hold no information) are dropped.
const MAX_BUCKETS: usize = 10_000;

/// A bucket: endpoint path, which limit (0: the main one), the value of
/// its `per` field.
type Key = (&'static str, usize, String);

/// Buckets by endpoint, limit and key.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    buckets: HashMap<Key, Bucket>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Why a call was refused: the limit it would pass.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Exceeded {
    /// The rate in force.
    pub limit: RateLimit,
    /// The limit's own code; `None`: the endpoint's rate-limited role.
    pub code: Option<i64>,
    /// What the limit counts.
    pub what: String,
}

/// A limit whose use a call took past the alert threshold.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Alert {
    /// Calls (or units) counted over the limit's window, this one included.
    pub used: u64,
    /// The limit's capacity.
    pub limit: u64,
}

/// One limit as it applies to one call.
struct Applied {
    index: usize,
    limit: RateLimit,
    cost: f64,
    key: String,
    code: Option<i64>,
    what: &'static str,
}

fn field_text(body: &Value, name: &str) -> String {
    match body.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    }
}

/// The limits `meta` documents, as they apply to `body`; `raised` replaces
/// the main one (the spec's `main` limit, else `rate_limit`).
fn applied(meta: &'static EndpointMeta, body: &Value, raised: Option<RateLimit>) -> Vec<Applied> {
    meta.applied_limits(raised)
        .map(|a| match a.extra {
            None => {
                Applied { index: 0, limit: a.limit, cost: 1.0, key: String::new(), code: None, what: "calls" }
            }
            Some(l) => {
                let cost = l.cost.map_or(1.0, |f| {
                    body.get(f).and_then(Value::as_array).map_or(1.0, |a| a.len().max(1) as f64)
                });
                let key = l.per.map(|f| field_text(body, f)).unwrap_or_default();
                Applied { index: a.index, limit: a.limit, cost, key, code: l.code, what: l.doc }
            }
        })
        .collect()
}

impl Bucket {
    fn refilled(self, limit: RateLimit, now: Instant) -> f64 {
        let capacity = f64::from(limit.calls.max(1));
        let per = limit.per.as_secs_f64().max(f64::MIN_POSITIVE);
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        (self.tokens + elapsed * capacity / per).min(capacity)
    }
}

impl RateLimiter {
    /// Admits a call to `meta` with this body now, or says which limit it
    /// would pass (and takes nothing). An admitted call lists the limits
    /// whose use it took past `alert_at` (a fraction of the capacity).
    pub(crate) fn admit(
        &mut self,
        meta: &'static EndpointMeta,
        body: &Value,
        raised: Option<RateLimit>,
        alert_at: Option<f64>,
    ) -> Result<Vec<Alert>, Exceeded> {
        self.admit_at(meta, body, raised, alert_at, Instant::now())
    }

    fn admit_at(
        &mut self,
        meta: &'static EndpointMeta,
        body: &Value,
        raised: Option<RateLimit>,
        alert_at: Option<f64>,
        now: Instant,
    ) -> Result<Vec<Alert>, Exceeded> {
        let limits = applied(meta, body, raised);
        let mut next = Vec::with_capacity(limits.len());
        let mut alerts = Vec::new();
        for a in &limits {
            let capacity = f64::from(a.limit.calls.max(1));
            let key = (meta.path, a.index, a.key.clone());
            let tokens = self.buckets.get(&key).map_or(capacity, |b| b.refilled(a.limit, now));
            // A call larger than the bucket waits for a full one.
            let needed = a.cost.min(capacity);
            if tokens + 1e-9 < needed {
                return Err(Exceeded { limit: a.limit, code: a.code, what: a.what.to_owned() });
            }
            if let Some(fraction) = alert_at {
                let (before, after) = (capacity - tokens, capacity - tokens + a.cost);
                let threshold = fraction * capacity;
                if before < threshold && after >= threshold {
                    alerts.push(Alert { used: after.round() as u64, limit: capacity as u64 });
                }
            }
            next.push((key, tokens - a.cost));
        }
        for (key, tokens) in next {
            self.buckets.insert(key, Bucket { tokens, last: now });
        }
        if self.buckets.len() > MAX_BUCKETS {
            // A bucket untouched for a minute is full again for every
            // per-second and per-minute limit; those in debt are kept.
            self.buckets
                .retain(|_, b| b.tokens < 0.0 || now.saturating_duration_since(b.last).as_secs() < 60);
        }
        Ok(alerts)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;

    fn meta(path: &str) -> &'static EndpointMeta {
        tim_runtime::dynamic::find(tim_runtime::api::ENDPOINTS, path).map(|e| e.meta).unwrap()
    }

    #[test]
    fn a_full_bucket_admits_the_documented_calls_then_refills() {
        let mut r = RateLimiter::default();
        let t0 = Instant::now();
        let m = meta("v4/open_msg_svc/get_history");
        let calls = m.rate_limit.calls as usize;
        let body = json!({});
        assert!((0..calls).all(|_| r.admit_at(m, &body, None, None, t0).is_ok()));
        assert!(r.admit_at(m, &body, None, None, t0).is_err());
        // Another endpoint has its own bucket.
        assert!(r.admit_at(meta("v4/openim/sendmsg"), &body, None, None, t0).is_ok());
        // One call's worth of time refills one call.
        let one = m.rate_limit.interval() + Duration::from_millis(1);
        assert!(r.admit_at(m, &body, None, None, t0 + one).is_ok());
        assert!(r.admit_at(m, &body, None, None, t0 + one).is_err());
        // A long pause refills to the limit, not beyond.
        let later = t0 + Duration::from_secs(600);
        assert_eq!((0..calls * 2).filter(|_| r.admit_at(m, &body, None, None, later).is_ok()).count(), calls);
    }

    #[test]
    fn batches_count_recipients_and_a_raised_quota_replaces_the_main_limit() {
        let m = meta("v4/openim/batchsendmsg");
        let per_minute = m.rate_limits.iter().find(|l| l.main).unwrap();
        let t0 = Instant::now();
        let to = |n: usize| json!({"To_Account": (0..n).map(|i| format!("u{i}")).collect::<Vec<_>>()});
        // 100 recipients a minute: a 60-recipient call fits, a second does not.
        let raised = Some(RateLimit::per_minute(100));
        let mut r = RateLimiter::default();
        assert!(r.admit_at(m, &to(60), raised, None, t0).is_ok());
        let e = r.admit_at(m, &to(60), raised, None, t0).unwrap_err();
        assert_eq!(e.code, per_minute.code);
        // 500 recipients against 100 a minute: admitted on a full bucket,
        // then nothing for the next five minutes.
        let mut r = RateLimiter::default();
        assert!(r.admit_at(m, &to(500), raised, None, t0).is_ok());
        assert!(r.admit_at(m, &to(1), raised, None, t0 + Duration::from_secs(200)).is_err());
        assert!(r.admit_at(m, &to(1), raised, None, t0 + Duration::from_secs(301)).is_ok());
    }

    #[test]
    fn group_messages_are_counted_per_group() {
        let m = meta("v4/group_open_http_svc/send_group_msg");
        let per_group = m.rate_limits.iter().find(|l| l.per == Some("GroupId")).unwrap();
        let t0 = Instant::now();
        let mut r = RateLimiter::default();
        let g = |id: &str| json!({"GroupId": id});
        let n = per_group.limit.calls as usize;
        assert!((0..n).all(|_| r.admit_at(m, &g("a"), None, None, t0).is_ok()));
        assert_eq!(r.admit_at(m, &g("a"), None, None, t0).unwrap_err().code, per_group.code);
        assert!(r.admit_at(m, &g("b"), None, None, t0).is_ok());
    }

    #[test]
    fn passing_the_alert_threshold_is_reported_once() {
        let m = meta("v4/open_msg_svc/get_history");
        let calls = u64::from(m.rate_limit.calls);
        let t0 = Instant::now();
        let mut r = RateLimiter::default();
        let alerts: Vec<Alert> =
            (0..calls).flat_map(|_| r.admit_at(m, &json!({}), None, Some(0.8), t0).unwrap()).collect();
        assert_eq!(alerts, [Alert { used: (calls * 8).div_ceil(10), limit: calls }]);
    }
}
