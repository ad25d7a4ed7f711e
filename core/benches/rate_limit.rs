//! Bench 4: the rate limiter.
//!
//! - The cost of one call that does not have to wait, against a hand-written
//!   single-endpoint GCRA (`Mutex<Instant>`, no per-endpoint table).
//! - A burst of 1,000 concurrent calls to an endpoint limited to 200 calls/s,
//!   in real time: the achieved rate against the configured one.

mod common;

use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tim_core::bench_support::Limiter;
use tim_core::RateLimit;

const PATH: &str = "v4/openim/admin_set_msg_read";

/// The least a limiter has to do per call: lock, read the clock, move a timestamp.
struct HandGcra {
    tat: Mutex<Instant>,
    interval: Duration,
    tolerance: Duration,
}

impl HandGcra {
    fn reserve(&self) -> Duration {
        let now = Instant::now();
        let mut tat = self.tat.lock().unwrap();
        let scheduled = (*tat).max(now);
        *tat = scheduled + self.interval;
        scheduled.checked_sub(self.tolerance).unwrap_or(now).saturating_duration_since(now)
    }
}

/// Admits `n` concurrent calls at `limit`; returns the achieved calls/s.
fn burst(n: usize, limit: RateLimit) -> f64 {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    rt.block_on(async {
        let limiter = Arc::new(Limiter::new());
        let start = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let l = limiter.clone();
                tokio::spawn(async move { l.acquire(PATH, limit).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        n as f64 / start.elapsed().as_secs_f64()
    })
}

fn main() {
    let unlimited = RateLimit::per_second(u32::MAX);
    let limiter = Limiter::new();
    let hand = HandGcra {
        tat: Mutex::new(Instant::now()),
        interval: Duration::from_nanos(1),
        tolerance: Duration::ZERO,
    };
    assert_eq!(limiter.reserve(PATH, unlimited), Duration::ZERO);

    let mut c = common::criterion();
    let mut g = c.benchmark_group("rate_limit");
    g.bench_function("no_wait", |b| b.iter(|| limiter.reserve(black_box(PATH), black_box(unlimited))));
    g.bench_function("no_wait_baseline", |b| b.iter(|| hand.reserve()));
    g.finish();
    c.final_summary();
    if !common::measuring() {
        // Test mode (`cargo test --benches`): a short burst, to exercise the code.
        assert!(burst(30, RateLimit::per_second(200)) > 0.0);
        return;
    }
    let (ours, base) = common::paired_ns(
        || {
            black_box(limiter.reserve(black_box(PATH), black_box(unlimited)));
        },
        || {
            black_box(hand.reserve());
        },
        1.5,
    );
    common::report(
        "4 rate limiter",
        "cost per call, not waiting",
        &common::fmt_ns(ours),
        &common::fmt_ns(base),
        ours / base,
        "< 200 ns",
        ours < 200.0,
    );
    let configured = 200.0;
    let rate = burst(1000, RateLimit::per_second(200));
    println!("rate limit: 1000 calls at 200/s configured -> {rate:.1} calls/s");
    common::report(
        "4 rate limiter",
        "burst of 1,000 calls, limit 200/s",
        &format!("{rate:.1} calls/s"),
        "200 calls/s",
        rate / configured,
        "200 ± 5% calls/s",
        (rate / configured - 1.0).abs() <= 0.05,
    );
}
