//! Every documented callback body parses into its generated payload type,
//! keeps every field it carries, and survives the drift real callbacks show
//! (unknown fields, integers sent as strings).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value};
use tim_conformance::fixtures::{default_dir, load_callbacks, CallbackFixture};
use tim_core::callback::{CallbackKind, CallbackSet};
use tim_runtime::api::callbacks::{Callback, CALLBACKS};

fn fixtures() -> Vec<CallbackFixture> {
    load_callbacks(&default_dir()).unwrap_or_else(|e| panic!("{e}"))
}

fn specs() -> tim_codegen::SpecSet {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    tim_codegen::load_dir(&dir, Path::new("specs")).unwrap_or_else(|e| panic!("{e}"))
}

fn body_bytes(body: &Value) -> Vec<u8> {
    serde_json::to_vec(body).unwrap()
}

/// `a` and `b` hold the same data, where a number and a string of its digits
/// count as the same (lenient fields are re-serialized with their declared type).
fn same_data(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_data(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_data(v, w))
        }
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n)) => {
            s.trim() == n.to_string()
        }
        _ => a == b,
    }
}

fn without_command(body: &Value) -> Value {
    let mut map: Map<String, Value> = body.as_object().cloned().unwrap_or_default();
    map.remove("CallbackCommand");
    Value::Object(map)
}

#[test]
fn every_callback_has_a_fixture_and_every_fixture_a_callback() {
    let known: BTreeSet<&str> = CALLBACKS.iter().map(|m| m.command).collect();
    let fixtures = fixtures();
    let covered: BTreeSet<&str> = fixtures.iter().map(|f| f.command.as_str()).collect();
    let missing: Vec<_> = known.difference(&covered).collect();
    assert!(missing.is_empty(), "callbacks without a fixture (run `cargo xtask fixtures`): {missing:?}");
    let orphans: Vec<_> =
        fixtures.iter().filter(|f| !known.contains(f.command.as_str())).map(|f| &f.file).collect();
    assert!(orphans.is_empty(), "fixtures naming a callback without a spec: {orphans:?}");
}

#[test]
fn documented_bodies_parse_into_their_types_and_keep_every_field() {
    let mut failures = Vec::new();
    for f in fixtures() {
        let name = f.file.display();
        match Callback::parse(&f.command, &body_bytes(&f.body)) {
            Ok(cb) if !cb.is_known() => failures.push(format!("{name}: parsed as unknown")),
            Ok(cb) => {
                assert_eq!(cb.command(), f.command);
                let back = cb.to_json();
                if !same_data(&back, &without_command(&f.body)) {
                    failures.push(format!("{name}: re-serialized as {back}"));
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn documented_replies_are_documented_decisions() {
    let mut failures = Vec::new();
    for f in fixtures() {
        let Some(reply) = &f.reply else { continue };
        let meta = CALLBACKS.iter().find(|m| m.command == f.command).expect("known command");
        let code = reply.get("ErrorCode").and_then(Value::as_i64).unwrap_or(0);
        if meta.kind == CallbackKind::Before && meta.decision_for(code).is_none() {
            failures.push(format!("{}: ErrorCode {code} is no documented decision", f.file.display()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn drifted_bodies_still_parse() {
    let set = specs();
    let mut failures = Vec::new();
    for f in fixtures() {
        let spec = set.callbacks.iter().find(|c| c.command == f.command).expect("spec");
        let mut body = f.body.as_object().cloned().unwrap_or_default();
        // A field a newer service added, at the top and inside objects.
        body.insert("FieldFromTheFuture".into(), Value::from(1));
        // Lenient integers as strings of digits, as some pages show `EventTime`.
        for field in spec.payload.iter().filter(|p| p.lenient) {
            if let Some(v) = body.get_mut(&field.wire).filter(|v| v.is_u64() || v.is_i64()) {
                *v = Value::from(v.to_string());
            }
        }
        let drifted = Value::Object(body);
        match Callback::parse(&f.command, &body_bytes(&drifted)) {
            Ok(cb) if cb.is_known() => {}
            Ok(_) => failures.push(format!("{}: parsed as unknown", f.file.display())),
            Err(e) => failures.push(format!("{}: {e}", f.file.display())),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn unknown_commands_are_kept_with_their_body() {
    let body = serde_json::json!({"CallbackCommand": "Nobody.CallbackFromTheFuture", "X": [1, {"y": "z"}]});
    let cb = Callback::parse("Nobody.CallbackFromTheFuture", &body_bytes(&body)).unwrap();
    assert!(!cb.is_known());
    assert_eq!(cb.kind(), CallbackKind::After);
    assert_eq!(cb.command(), "Nobody.CallbackFromTheFuture");
    assert_eq!(cb.to_json(), body);
    assert!(matches!(cb, Callback::Unknown { .. }));
}

#[test]
fn a_known_command_with_a_bad_field_names_it() {
    let body = br#"{"CallbackCommand":"C2C.CallbackBeforeSendMsg","From_Account":"a","To_Account":"b","MsgBody":"not a list"}"#;
    let err = Callback::parse("C2C.CallbackBeforeSendMsg", body).unwrap_err();
    assert_eq!(err.field, "MsgBody", "{err}");
    let err = Callback::parse("C2C.CallbackBeforeSendMsg", br#"{"From_Account":"a""#).unwrap_err();
    assert!(err.to_string().contains("C2C.CallbackBeforeSendMsg"), "{err}");
}

#[test]
fn reply_constructors_follow_the_documented_decisions() {
    use tim_core::callback::CallbackReply;
    use tim_runtime::api::callbacks::c2c::before_send_msg::Reply;
    use tim_runtime::api::types::{MsgBodyElem, TIMTextElem};

    assert_eq!(CallbackReply::from(Reply::allow()), CallbackReply::ok());
    assert_eq!(CallbackReply::from(Reply::deny()).error_code, 1);
    assert_eq!(CallbackReply::from(Reply::drop_silently()).error_code, 2);
    let custom = CallbackReply::from(Reply::deny_with_code(120_001, "not allowed").unwrap());
    assert_eq!((custom.error_code, custom.error_info.as_str()), (120_001, "not allowed"));
    let err = Reply::deny_with_code(7, "x").unwrap_err();
    assert!(err.to_string().contains("120001..=130000"), "{err}");
    let modified =
        CallbackReply::from(Reply::modify(vec![MsgBodyElem::Text(TIMTextElem::new().text("***"))]));
    assert_eq!(modified.error_code, 0);
    assert_eq!(
        modified.fields.get("MsgBody"),
        Some(&serde_json::json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": "***"}}]))
    );
}
