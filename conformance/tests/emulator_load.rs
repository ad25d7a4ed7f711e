//! Load: 64 concurrent clients make 10,000 mixed calls (one-to-one messages,
//! unread counts, read reports, group messages and unread counts, group info,
//! profiles, friend checks) against one emulator; each client's accounts,
//! group and friendship make every call valid, so any failure is a bug.
//! Throughput is measured by `cargo xtask bench`, not here.

use tim_conformance::load;
use tim_emulator::world::World;
use tim_emulator::{MockConfig, MockServer};

const APPID: u64 = 1_400_000_009;
const KEY: &str = "load-secret";
const ADMIN: &str = "administrator";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_clients_ten_thousand_calls() {
    // The documented limits (200 calls/s per endpoint) would refuse most of
    // a burst like this; they have a test of their own.
    let server = MockServer::start(MockConfig::new(APPID, KEY, ADMIN).rate_limits(false)).await.unwrap();
    let report = load::run(&server, 64, 10_000).await.unwrap();
    assert_eq!(report.calls, 10_000);
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    // The state is what the calls made: 64 groups with their messages, and
    // every conversation read up to its last report.
    server.world(|w: &World| {
        for c in 0..64 {
            assert!(w.accounts.exists(&format!("load{c}a")));
            assert_eq!(w.groups.type_of(&format!("load{c}")), Some("Public"));
        }
    });
    eprintln!("{} calls in {:?}: {:.0} calls/s", report.calls, report.elapsed, report.throughput());
}
