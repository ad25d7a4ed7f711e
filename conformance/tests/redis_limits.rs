//! Quotas shared through a real `redis-server`: clients standing for
//! separate processes keep together to one quota the emulator enforces,
//! where in-process limiters alone overrun it; an unreachable Redis falls
//! back to a share of the quota without blocking.
//!
//! Needs `redis-server` on `PATH`; skipped without it, except in CI
//! (`TIM_REQUIRE_REDIS=1`), where its absence fails the run.

use std::time::{Duration, Instant};

use tim_conformance::redis_server::RedisServer;
use tim_emulator::{MockConfig, MockServer, Outcome};
use tim_runtime::api::im_open_login_svc::account_check;
use tim_runtime::{Client, ErrorRole, LocalRateLimiter, RateLimit, RateLimiter, RedisRateLimiter};

const APPID: u64 = 1_400_000_001;
const KEY: &str = "conformance-secret";
const ADMIN: &str = "administrator";
const PATH: &str = "v4/im_open_login_svc/account_check";

#[tokio::test]
async fn two_limiters_share_one_schedule() {
    let Some(redis) = RedisServer::start() else { return };
    let a = RedisRateLimiter::new(&redis.url(), "1400000001").unwrap();
    let b = RedisRateLimiter::new(&redis.url(), "1400000001").unwrap();
    let other_app = RedisRateLimiter::new(&redis.url(), "1400000002").unwrap();
    let limit = RateLimit::per_second(20);
    let mut waits = Vec::new();
    for i in 0..40 {
        let l = if i % 2 == 0 { &a } else { &b };
        waits.push(l.reserve("v4/x#0", limit, 1).await);
    }
    // One schedule for both: the 40th call waits for about 39 gaps of 50 ms
    // (two in-process limiters would each let theirs go twice as fast).
    let last = waits[39].as_secs_f64();
    assert!((1.7..2.1).contains(&last), "{waits:?}");
    assert!(waits.windows(2).all(|w| w[0] <= w[1] + Duration::from_millis(5)), "{waits:?}");
    // Another app's budget is its own; so is another bucket.
    assert_eq!(other_app.reserve("v4/x#0", limit, 1).await, Duration::ZERO);
    assert_eq!(a.reserve("v4/y#0", limit, 1).await, Duration::ZERO);
    // A cost counts as that many calls: 300 recipients at 6,000 a minute
    // (a burst of 120, then 5,881 a minute) wait for 180, the next 300 for
    // 300 more.
    let big = RateLimit::per_minute(6_000);
    let first = a.reserve("v4/z#1", big, 300).await.as_secs_f64();
    let second = b.reserve("v4/z#1", big, 300).await.as_secs_f64();
    assert!((1.7..1.95).contains(&first), "{first}");
    assert!((second - first - 3.06).abs() < 0.1, "{first} then {second}");
}

/// Four clients ("processes") each making `calls` calls at once against an
/// emulator enforcing 40/s; how many were refused for frequency.
async fn four_processes(limiter: impl Fn() -> Option<RedisRateLimiter>, calls: usize) -> (usize, Duration) {
    let quota = RateLimit::per_second(40);
    let server = MockServer::start(MockConfig::new(APPID, KEY, ADMIN).limit(PATH, quota)).await.unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for p in 0..4 {
        let mut b = Client::builder(APPID, ADMIN, KEY)
            .base_url(&server.base_url())
            .limit(PATH, quota)
            // A refusal comes back instead of being retried: it is what is counted.
            .deadline(Duration::ZERO)
            .max_attempts(1);
        if let Some(l) = limiter() {
            b = b.rate_limiter(l);
        }
        let client = b.build().unwrap();
        tasks.push(tokio::spawn(async move {
            for i in 0..calls {
                let req = account_check::Request::new([account_check::CheckItem::new(format!("p{p}-{i}"))]);
                let _ = client.call(&req).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let meta = tim_runtime::dynamic::find(tim_runtime::api::ENDPOINTS, PATH).unwrap().meta;
    let limited = Outcome::Replied(meta.error_with_role(ErrorRole::RateLimited).unwrap().code);
    let refused = server.requests().iter().filter(|r| r.outcome == limited).count();
    (refused, started.elapsed())
}

#[tokio::test]
async fn processes_sharing_redis_keep_to_one_quota() {
    let Some(redis) = RedisServer::start() else { return };
    // Each keeping to the quota alone, four processes send four times too fast.
    let (refused, _) = four_processes(|| None, 30).await;
    assert!(refused > 0, "in-process limiters alone were never refused");
    // Sharing the budget through Redis: none refused, 120 calls at 40/s.
    let url = redis.url();
    let (refused, took) =
        four_processes(|| Some(RedisRateLimiter::new(&url, "1400000001").unwrap()), 30).await;
    assert_eq!(refused, 0);
    assert!(took >= Duration::from_millis(2_500), "{took:?}");
}

#[tokio::test]
async fn an_unreachable_redis_falls_back_to_a_share_without_blocking() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let limiter = RedisRateLimiter::new(&format!("redis://127.0.0.1:{port}/"), "1400000001")
        .unwrap()
        .fallback_share(0.5)
        .timeout(Duration::from_millis(200));
    let limit = RateLimit::per_second(40);
    let started = Instant::now();
    let mut waits = Vec::new();
    for _ in 0..30 {
        waits.push(limiter.reserve("v4/x#0", limit, 1).await);
    }
    // Redis is tried once, then left alone for a while: no call waits on it.
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    // Half of 40/s: the 30th call waits about 29 gaps of 50 ms.
    let local = LocalRateLimiter::new();
    let mut expected = Duration::ZERO;
    for _ in 0..30 {
        expected = local.reserve("k", RateLimit::per_second(20), 1).await;
    }
    let last = waits[29];
    assert!(
        last + Duration::from_millis(100) >= expected && last <= expected + Duration::from_millis(100),
        "{last:?} vs {expected:?}"
    );
    assert!(RedisRateLimiter::new("not a url", "x").is_err());
}
