//! As lenient as the service, no more: unknown request fields are ignored
//! (and recorded), every documented legacy name is accepted in requests and
//! decoded in replies, and what the service checks is still checked.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use tim_codegen::model::{Field, Type};
use tim_emulator::{MockConfig, MockServer};
use tim_runtime::api::ENDPOINTS;
use tim_runtime::{dynamic, UserSigKey};

const APPID: u64 = 1_400_000_055;
const KEY: &str = "leniency-secret";
const ADMIN: &str = "administrator";

fn specs() -> tim_codegen::SpecSet {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    tim_codegen::load_dir(&dir, Path::new("specs")).unwrap_or_else(|e| panic!("{e}"))
}

async fn post(server: &MockServer, path: &str, body: &Value) -> Value {
    let sig = UserSigKey::new(APPID, KEY).gen(ADMIN, Duration::from_secs(600));
    let url = format!(
        "{}/{path}?sdkappid={APPID}&identifier={ADMIN}&usersig={}&random=7&contenttype=json",
        server.base_url(),
        sig.replace('*', "%2A")
    );
    let resp = reqwest::Client::new().post(url).body(body.to_string()).send().await.unwrap();
    serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap()
}

/// Every field with aliases reachable from `fields` (shared types followed once).
fn aliased<'a>(set: &'a tim_codegen::SpecSet, fields: &'a [Field], out: &mut Vec<&'a Field>) {
    for f in fields {
        if !f.aliases.is_empty() {
            out.push(f);
        }
        walk(set, &f.ty, out, 0);
    }
}

fn walk<'a>(set: &'a tim_codegen::SpecSet, ty: &'a Type, out: &mut Vec<&'a Field>, depth: usize) {
    if depth > 8 {
        return;
    }
    match ty {
        Type::Object(o) => aliased(set, &o.fields, out),
        Type::Array { items, .. } => walk(set, items, out, depth + 1),
        Type::Map { values, .. } => walk(set, values, out, depth + 1),
        Type::Shared(name) => {
            if let Some(t) = set.types.get(name) {
                walk(set, &t.ty, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// `value` with every key `from` renamed to `to`, at any depth; whether one was.
fn rename(value: &mut Value, from: &str, to: &str) -> bool {
    match value {
        Value::Object(map) => {
            let mut renamed = false;
            if let Some(v) = map.remove(from) {
                map.insert(to.to_owned(), v);
                renamed = true;
            }
            map.values_mut().fold(renamed, |r, v| rename(v, from, to) || r)
        }
        Value::Array(items) => {
            // Every element, not just up to the first match.
            let mut renamed = false;
            for v in items {
                renamed |= rename(v, from, to);
            }
            renamed
        }
        _ => false,
    }
}

#[tokio::test]
async fn unknown_request_fields_are_ignored_by_the_mock_and_recorded() {
    let server = MockServer::start(MockConfig::new(APPID, KEY, ADMIN).replay()).await.unwrap();
    let mut failures = Vec::new();
    for entry in ENDPOINTS {
        let Ok(Value::Object(mut body)) = serde_json::from_str::<Value>(entry.meta.sample_request) else {
            continue;
        };
        if (entry.parse_request)(&serde_json::to_vec(&body).unwrap()).is_err() {
            continue; // a sample the strict types refuse is reported by the fixture tests
        }
        body.insert("FieldFromThePast".into(), json!(1));
        let reply = post(&server, entry.meta.path, &Value::Object(body)).await;
        let code = reply["ErrorCode"].as_i64();
        let recorded = server.requests().pop().unwrap();
        if code != Some(0) || recorded.ignored_fields != ["FieldFromThePast"] {
            failures.push(format!("{}: {reply} ignored {:?}", entry.meta.path, recorded.ignored_fields));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // Known fields are still checked: a wrong type next to an unknown field is refused.
    let reply = post(
        &server,
        "v4/openim/admin_set_msg_read",
        &json!({"Report_Account": 5, "Peer_Account": "b", "Extra": true}),
    )
    .await;
    assert_ne!(reply["ErrorCode"], 0, "{reply}");
}

#[tokio::test]
async fn removed_fields_old_clients_still_send_are_accepted() {
    let server = MockServer::start(MockConfig::new(APPID, KEY, ADMIN).replay()).await.unwrap();
    let sendmsg = json!({"SyncOtherMachine": 2, "To_Account": "bob", "MsgRandom": 1, "MsgTimeStamp": 1_557_387_418,
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}]});
    let reply = post(&server, "v4/openim/sendmsg", &sendmsg).await;
    assert_eq!(reply["ErrorCode"], 0, "{reply}");
    let group_get = json!({"From_Account": "alice", "LastSequence": 0});
    let reply = post(&server, "v4/sns/group_get", &group_get).await;
    assert_eq!(reply["ErrorCode"], 0, "{reply}");
    let ignored: Vec<_> = server.requests().into_iter().flat_map(|r| r.ignored_fields).collect();
    assert_eq!(ignored, ["MsgTimeStamp", "LastSequence"]);
}

#[tokio::test]
async fn every_documented_legacy_name_is_accepted_and_decoded() {
    let set = specs();
    let server = MockServer::start(MockConfig::new(APPID, KEY, ADMIN).replay()).await.unwrap();
    let (mut requests, mut replies) = (0, 0);
    let mut failures = Vec::new();
    for ep in &set.endpoints {
        let entry = dynamic::find(ENDPOINTS, &ep.path).unwrap();
        let sample = &ep.samples[0];
        let mut request_fields = Vec::new();
        aliased(&set, &ep.request, &mut request_fields);
        for f in request_fields {
            for alias in &f.aliases {
                let mut old = sample.request.clone();
                if !rename(&mut old, &f.wire, alias) {
                    continue;
                }
                requests += 1;
                let canonical = (entry.parse_request)(&serde_json::to_vec(&sample.request).unwrap());
                let via_alias = (entry.parse_request)(&serde_json::to_vec(&old).unwrap());
                if via_alias.as_ref().ok() != canonical.as_ref().ok() {
                    failures.push(format!("{}: `{alias}` parses as {via_alias:?}", ep.path));
                }
                let reply = post(&server, &ep.path, &old).await;
                if reply["ErrorCode"] != 0 {
                    failures.push(format!("{}: the mock refused `{alias}`: {reply}", ep.path));
                }
            }
        }
        let mut reply_fields = Vec::new();
        aliased(&set, &ep.response, &mut reply_fields);
        for f in reply_fields {
            for alias in &f.aliases {
                let mut old = sample.response.clone();
                if !rename(&mut old, &f.wire, alias) {
                    continue;
                }
                replies += 1;
                let canonical = (entry.parse_reply)(&serde_json::to_vec(&sample.response).unwrap());
                let via_alias = (entry.parse_reply)(&serde_json::to_vec(&old).unwrap());
                match (canonical, via_alias) {
                    (Ok(a), Ok(b)) if a == b => {}
                    (a, b) => failures.push(format!("{}: reply `{alias}`: {a:?} vs {b:?}", ep.path)),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(requests >= 6, "only {requests} legacy request names exercised");
    assert!(replies >= 2, "only {replies} legacy reply names exercised");
}

/// The deep check of unknown keys (`tim call` without `--allow-unknown`)
/// knows every key of every documented sample request, legacy aliases
/// included, and names a misspelt one inside a union's content by its full
/// path with the nearest valid name.
#[test]
fn the_deep_unknown_key_check_knows_every_sample_and_names_typos() {
    for entry in tim_runtime::api::ENDPOINTS {
        let Ok(sample) = serde_json::from_str::<serde_json::Value>(entry.meta.sample_request) else {
            continue;
        };
        let unknown = tim_runtime::dynamic::unknown_keys(&sample, entry.request_fields);
        assert!(
            unknown.is_empty(),
            "{}: {:?}",
            entry.meta.path,
            unknown.iter().map(|e| &e.path).collect::<Vec<_>>()
        );
    }
    let entry = tim_runtime::dynamic::find(tim_runtime::api::ENDPOINTS, "v4/openim/sendmsg").unwrap();
    let body = serde_json::json!({"To_Account": "b", "MsgRandom": 1,
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "ok"}},
                    {"MsgType": "TIMTextElem", "MsgContent": {"Txt": "hi"}, "Extra": 1}],
        "OfflinePushInfo": {"Titel": "x"}});
    let found: Vec<(String, String)> = tim_runtime::dynamic::unknown_keys(&body, entry.request_fields)
        .into_iter()
        .map(|e| (e.path, e.reason))
        .collect();
    assert_eq!(
        found,
        [
            ("MsgBody[1].Extra".to_owned(), "unknown field".to_owned()),
            ("MsgBody[1].MsgContent.Txt".to_owned(), "unknown field; did you mean `Text`?".to_owned()),
            ("OfflinePushInfo.Titel".to_owned(), "unknown field; did you mean `Title`?".to_owned()),
        ]
    );
}
