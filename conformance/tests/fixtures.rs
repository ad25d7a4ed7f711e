//! Every recorded exchange replays exactly through the generated client.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use tim_conformance::fixtures::{default_dir, load_all};
use tim_conformance::Fixture;
use tim_emulator::{Fault, MockConfig, MockServer};
use tim_runtime::{dynamic, Client, Error, UserSigKey};

const APPID: u64 = 1_400_000_002;
const KEY: &str = "fixture-secret";
const ADMIN: &str = "admin";

fn fixtures() -> Vec<Fixture> {
    load_all(&default_dir()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_endpoint_has_a_fixture_and_every_fixture_an_endpoint() {
    let endpoints: BTreeSet<&str> = tim_runtime::api::ENDPOINTS.iter().map(|e| e.meta.path).collect();
    let fixtures = fixtures();
    let covered: BTreeSet<&str> = fixtures.iter().map(|f| f.endpoint.as_str()).collect();
    let missing: Vec<_> = endpoints.difference(&covered).collect();
    assert!(missing.is_empty(), "endpoints without a fixture (run `cargo xtask fixtures`): {missing:?}");
    let orphans: Vec<_> =
        fixtures.iter().filter(|f| !endpoints.contains(f.endpoint.as_str())).map(|f| &f.file).collect();
    assert!(orphans.is_empty(), "fixtures naming an endpoint without a spec: {orphans:?}");
}

#[test]
fn request_bodies_round_trip_through_the_generated_types() {
    let mut failures = Vec::new();
    for f in fixtures() {
        let Some(entry) = dynamic::find(tim_runtime::api::ENDPOINTS, &f.endpoint) else { continue };
        let bytes = serde_json::to_vec(&f.body).unwrap();
        match (entry.parse_request)(&bytes) {
            Ok(back) if back == f.body => {}
            Ok(back) => failures.push(format!("{}: re-serialized as {back}", f.file.display())),
            Err(e) => failures.push(format!("{}: {e}", f.file.display())),
        }
    }
    assert!(failures.is_empty(), "{} fixture(s) fail:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn client_sends_the_recorded_body_and_parses_the_recorded_reply() {
    let server = MockServer::start(MockConfig::new(APPID, KEY, ADMIN).replay()).await.unwrap();
    // One attempt: a recorded error must come back as that error, not be retried away.
    let client = Client::builder(APPID, ADMIN, KEY)
        .base_url(&server.base_url())
        .max_attempts(1)
        .rate_limit(false)
        // Each fixture records one exchange: a frequency error is not retried.
        .deadline(Duration::ZERO)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let key = UserSigKey::new(APPID, KEY);
    let mut failures = Vec::new();
    for f in fixtures() {
        let Some(entry) = dynamic::find(tim_runtime::api::ENDPOINTS, &f.endpoint) else { continue };
        server.clear_requests();
        if f.status == 200 {
            server.push_reply(&f.endpoint, f.response.clone());
        } else {
            server.push_fault(Fault::HttpStatus(f.status));
        }
        let result = (entry.call_json)(&client, f.body.clone()).await;
        let sent = server.requests();
        let problem = match (sent.as_slice(), f.error_code(), &result) {
            ([req], _, _) if req.json().as_ref() != Some(&f.body) => {
                Some(format!("sent {:?}, recorded {}", req.json(), f.body))
            }
            ([req], _, _) if key.verify(ADMIN, req.query_param("usersig").unwrap_or("")).is_err() => {
                Some("usersig does not verify".into())
            }
            ([req], _, _) if req.query_param("random").and_then(|r| r.parse::<u32>().ok()).is_none() => {
                Some("random is not a u32".into())
            }
            ([_], 0, Ok(_)) if f.status == 200 => None,
            ([_], code, Err(Error::Api(e))) if code != 0 && e.code == code && e.meta.is_some() => None,
            ([_], _, Err(Error::Http { status, .. })) if *status == f.status => None,
            (reqs, code, other) => Some(format!(
                "{} request(s); expected code {code}, got {:?}",
                reqs.len(),
                other.as_ref().err()
            )),
        };
        if let Some(p) = problem {
            failures.push(format!("{}: {p}", f.file.display()));
        }
    }
    assert!(failures.is_empty(), "{} fixture(s) fail:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn fixtures_record_the_documented_query() {
    for f in fixtures() {
        for key in ["sdkappid", "identifier", "usersig", "random", "contenttype"] {
            assert!(
                f.query.get(key).is_some_and(Value::is_string),
                "{}: query lacks {key}",
                f.file.display()
            );
        }
    }
}
