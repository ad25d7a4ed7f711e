//! Every documented sample request goes through `tim call` unchanged: it is
//! accepted, and the mock receives the same JSON value (no field dropped,
//! renamed, added or retyped).

use std::process::{Command, Stdio};

use tim_conformance::fixtures::{default_dir, load_all};
use tim_emulator::{MockConfig, MockServer};

const APPID: u64 = 1_400_000_124;
const ADMIN: &str = "admin";
const SECRET: &str = "samples-test-secret-0123456789abcdef";

#[test]
fn documented_sample_requests_are_sent_unchanged() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let server = rt.block_on(MockServer::start(MockConfig::new(APPID, SECRET, ADMIN).replay())).unwrap();
    let samples: Vec<_> = load_all(&default_dir())
        .unwrap()
        .into_iter()
        .filter(|f| f.source.starts_with("documented sample"))
        .collect();
    assert!(samples.len() > 150, "only {} samples", samples.len());
    let mut failures = Vec::new();
    for f in &samples {
        server.clear_requests();
        let out = Command::new(env!("CARGO_BIN_EXE_tim"))
            .env_remove("TIM_REGION")
            .env("TIM_SDKAPPID", APPID.to_string())
            .env("TIM_IDENTIFIER", ADMIN)
            .env("TIM_SECRET_KEY", SECRET)
            .args([
                "--base-url",
                &server.base_url(),
                "call",
                &f.endpoint,
                "--timeout",
                "5",
                "--max-attempts",
                "1",
            ])
            .args(["--data", &f.body.to_string()])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let sent = server.requests().first().and_then(|r| r.json());
        if out.status.code() == Some(2) {
            failures.push(format!("{}: refused: {}", f.file.display(), String::from_utf8_lossy(&out.stderr)));
        } else if sent.as_ref() != Some(&f.body) {
            failures.push(format!("{}: sent {sent:?}", f.file.display()));
        }
    }
    let total = samples.len();
    assert!(
        failures.is_empty(),
        "{} of {total} samples not sent unchanged:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
