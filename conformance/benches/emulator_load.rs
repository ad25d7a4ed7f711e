//! Emulator throughput: the load test's workload (64 clients, 10,000 mixed
//! calls) against the stateful emulator, with the same calls against the
//! stateless replay mock in the same run as the baseline. Prints
//! `@@bench` lines for `cargo xtask bench`.

use tim_conformance::load;
use tim_emulator::{MockConfig, MockServer};

const APPID: u64 = 1_400_000_010;
const KEY: &str = "bench-secret";
const ADMIN: &str = "administrator";
const CLIENTS: usize = 64;
const CALLS: usize = 10_000;

async fn measure(config: MockConfig) -> Result<load::LoadReport, String> {
    let server = MockServer::start(config.rate_limits(false)).await.map_err(|e| e.to_string())?;
    load::run(&server, CLIENTS, CALLS).await
}

fn main() {
    // `cargo test --benches` runs this too; only a real bench run measures.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = rt.block_on(async {
        let replay = measure(MockConfig::new(APPID, KEY, ADMIN).replay()).await?;
        let emulator = measure(MockConfig::new(APPID, KEY, ADMIN)).await?;
        Ok::<_, String>((replay, emulator))
    });
    match result {
        Ok((replay, emulator)) => {
            let failures: usize = emulator.failures.values().sum();
            println!(
                "@@bench|emulator|{CLIENTS} clients, {CALLS} mixed calls (failures: {failures})|{:.0} calls/s|{:.0} calls/s (stateless replay)|{:.2}||",
                emulator.throughput(),
                replay.throughput(),
                emulator.throughput() / replay.throughput().max(f64::MIN_POSITIVE),
            );
        }
        Err(e) => {
            eprintln!("emulator bench failed: {e}");
            std::process::exit(1);
        }
    }
}
