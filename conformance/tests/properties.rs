//! Property tests driven by the specs: valid requests round-trip and are
//! accepted by the mock; broken ones are rejected naming the field; replies
//! with unknown content still parse; nothing panics on arbitrary bytes.
//!
//! Case counts stay small by default (the suite runs on 2 cores in CI); set
//! `PROPTEST_CASES` for more.

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use tim_codegen::SpecSet;
use tim_conformance::strategies::{self, Breakage};
use tim_emulator::{MockConfig, MockServer};
use tim_runtime::{dynamic, Error, UserSigKey};

fn specs() -> &'static SpecSet {
    static SET: OnceLock<SpecSet> = OnceLock::new();
    SET.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
        tim_codegen::load_dir(&dir, Path::new("specs")).unwrap_or_else(|e| panic!("{e}"))
    })
}

fn config(default_cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(default_cases);
    Config { cases, failure_persistence: None, ..Config::default() }
}

fn entry(path: &str) -> &'static dynamic::EndpointEntry {
    dynamic::find(tim_runtime::api::ENDPOINTS, path).unwrap_or_else(|| panic!("{path} not generated"))
}

#[test]
fn valid_requests_round_trip_exactly() {
    let set = specs();
    for ep in &set.endpoints {
        let entry = entry(&ep.path);
        let mut runner = TestRunner::new(config(24));
        runner
            .run(&strategies::request(set, ep), |v| {
                let bytes = serde_json::to_vec(&v).unwrap();
                let back = (entry.parse_request)(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(back, v);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{}: {e}", ep.path));
    }
}

#[test]
fn broken_requests_are_rejected_naming_the_field() {
    let set = specs();
    for ep in &set.endpoints {
        let entry = entry(&ep.path);
        let mut runner = TestRunner::new(config(6));
        runner
            .run(&strategies::request(set, ep), |v| {
                for b in &strategies::breakages(set, &ep.request, &v) {
                    let broken = b.apply(&v);
                    let bytes = serde_json::to_vec(&broken).unwrap();
                    let err = match (entry.parse_request)(&bytes) {
                        Ok(_) => {
                            return Err(TestCaseError::fail(format!(
                                "{} `{}` accepted",
                                b.kind.describe(),
                                b.wire_path
                            )))
                        }
                        Err(e) => e,
                    };
                    let names_it = err.path == b.wire_path
                        || (b.in_union && !err.path.is_empty() && b.wire_path.starts_with(&err.path));
                    prop_assert!(
                        names_it,
                        "{} `{}`: error names `{}`: {}",
                        b.kind.describe(),
                        b.wire_path,
                        err.path,
                        err
                    );
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{}: {e}", ep.path));
    }
}

/// The breakages above cover every kind the strategies know (a kind that
/// never occurs would make those tests silently weaker).
#[test]
fn every_breakage_kind_occurs() {
    use proptest::strategy::ValueTree;
    use strategies::BreakageKind::*;
    let set = specs();
    let mut runner = TestRunner::deterministic();
    let mut kinds = std::collections::HashSet::new();
    for ep in &set.endpoints {
        for _ in 0..4 {
            let v = strategies::request(set, ep).new_tree(&mut runner).unwrap().current();
            kinds.extend(strategies::breakages(set, &ep.request, &v).iter().map(|b| b.kind));
        }
    }
    for kind in [Missing, WrongType, OutOfRange, TooLong] {
        assert!(kinds.contains(&kind), "no endpoint gives a `{}` breakage", kind.describe());
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap()
}

async fn post(base: &str, path: &str, body: &Value) -> Value {
    let sig = UserSigKey::new(9, "k").gen("admin", std::time::Duration::from_secs(600));
    let url = format!("{base}/{path}?sdkappid=9&identifier=admin&usersig={sig}&random=1&contenttype=json");
    let resp = reqwest::Client::new().post(url).body(serde_json::to_vec(body).unwrap()).send().await.unwrap();
    serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap()
}

#[test]
fn the_mock_accepts_valid_and_rejects_broken_requests_with_documented_codes() {
    let rt = runtime();
    let server = rt.block_on(MockServer::start(MockConfig::new(9, "k", "admin").replay())).unwrap();
    let base = server.base_url();
    let set = specs();
    for ep in &set.endpoints {
        let entry = entry(&ep.path);
        let mut runner = TestRunner::new(config(2));
        runner
            .run(&strategies::request(set, ep), |v| {
                let reply = rt.block_on(post(&base, &ep.path, &v));
                prop_assert_eq!(&reply["ErrorCode"], &json!(0), "valid body {} refused: {}", v, reply);
                let found: Vec<Breakage> = strategies::breakages(set, &ep.request, &v);
                for b in found.iter().take(3) {
                    let broken = b.apply(&v);
                    let reply = rt.block_on(post(&base, &ep.path, &broken));
                    let code = reply["ErrorCode"].as_i64().unwrap_or(0);
                    let documented = entry.meta.error_for_field(b.leaf()).map_or(70402, |m| m.code);
                    // The generated table maps fields to codes as the spec model does.
                    prop_assert_eq!(
                        entry.meta.error_for_field(b.leaf()).map(|m| m.code),
                        ep.error_for_field(b.leaf()).map(|e| e.code)
                    );
                    let expected = if b.in_union { code } else { documented };
                    prop_assert!(
                        code != 0 && code == expected,
                        "{} `{}`: got {}",
                        b.kind.describe(),
                        b.wire_path,
                        reply
                    );
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{}: {e}", ep.path));
    }
}

#[test]
fn replies_with_unknown_content_still_parse() {
    let set = specs();
    for ep in &set.endpoints {
        let entry = entry(&ep.path);
        let mut runner = TestRunner::new(config(16));
        runner
            .run(&(strategies::response(set, ep), 1i64..2_000_000), |(v, code)| {
                let mut body = v.clone();
                // What a newer server might send: unknown fields, unknown enum values.
                strategies::future_proof(set, &ep.response, &mut body);
                let Value::Object(map) = &mut body else { unreachable!("objects only") };
                map.insert("ActionStatus".into(), json!("OK"));
                map.insert("ErrorCode".into(), json!(0));
                map.insert("ErrorInfo".into(), json!(""));
                let parsed = (entry.parse_reply)(&serde_json::to_vec(&body).unwrap());
                prop_assert!(parsed.is_ok(), "reply {} rejected: {:?}", body, parsed.err());

                let fail = json!({"ActionStatus": "FAIL", "ErrorCode": code, "ErrorInfo": "new"});
                match (entry.parse_reply)(&serde_json::to_vec(&fail).unwrap()) {
                    Err(Error::Api(e)) => prop_assert_eq!(e.code, code),
                    other => prop_assert!(false, "code {} gave {:?}", code, other),
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{}: {e}", ep.path));
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_reply_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256), idx in 0usize..1000) {
        let entries = tim_runtime::api::ENDPOINTS;
        let entry = &entries[idx % entries.len()];
        let _ = (entry.parse_reply)(&bytes);
        let _ = (entry.parse_request)(&bytes);
    }

    #[test]
    fn usersig_round_trips_and_any_changed_byte_fails(
        identifier in "\\PC{1,24}",
        expire in 1u64..1_000_000_000,
        userbuf in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..32)),
        pos in any::<proptest::sample::Index>(),
        replacement in "[A-Za-z0-9*_-]",
    ) {
        let key = UserSigKey::new(1_400_000_000, "property-secret");
        let now = 1_700_000_000;
        let sig = key.gen_at(&identifier, expire, now, userbuf.as_deref());
        let verified = key.verify_at(&identifier, &sig, now).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(verified.userbuf, userbuf);
        let i = pos.index(sig.len());
        let mut changed = sig.clone().into_bytes();
        prop_assume!(changed[i] != replacement.as_bytes()[0]);
        changed[i] = replacement.as_bytes()[0];
        let changed = String::from_utf8(changed).unwrap();
        // Deflate has redundant encodings (e.g. code lengths of symbols a
        // block never uses): such a change decodes to the very same signed
        // document, which no zlib-based verifier (Tencent's included) can tell
        // apart. Anything that decodes differently must fail.
        if let Ok(v) = key.verify_at(&identifier, &changed, now) {
            let original = key.verify_at(&identifier, &sig, now).unwrap();
            prop_assert_eq!(v, original, "changed byte {} verifies as a different document", i);
        }
    }
}
