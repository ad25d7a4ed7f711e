//! What the families' unit tests share: calls run the way the mock server
//! runs them (canonical body, `before`, then `handle`), with every reply
//! checked against the endpoint's typed response and every callback against
//! its spec.

use serde_json::{json, Value};
use tim_runtime::api::callbacks::Callback;
use tim_runtime::callback::CallbackSet;
use tim_runtime::{EndpointMeta, ErrorRole};

use super::{Call, Done, Handled, World};

/// The admin of the test worlds.
pub(crate) const ADMIN: &str = "admin";

/// The SDKAppID of the test calls.
pub(crate) const SDKAPPID: u64 = 1_400_000_000;

/// A world with the admin and these accounts.
pub(crate) fn world(accounts: &[&str]) -> World {
    let mut w = World::new(ADMIN);
    for a in accounts {
        w.accounts.ensure(a);
    }
    w
}

/// The endpoint's description (`path` without `v4/`).
pub(crate) fn meta(path: &str) -> &'static EndpointMeta {
    tim_runtime::dynamic::find(tim_runtime::api::ENDPOINTS, &format!("v4/{path}"))
        .map(|e| e.meta)
        .unwrap_or_else(|| panic!("no endpoint {path}"))
}

/// The code `path`'s spec gives `role`.
pub(crate) fn role_code(path: &str, role: ErrorRole) -> i64 {
    meta(path).error_with_role(role).map(|e| e.code).unwrap_or_else(|| panic!("{path}: no {role:?} code"))
}

/// The code `path`'s spec names `name`.
pub(crate) fn named_code(path: &str, name: &str) -> i64 {
    meta(path)
        .errors
        .iter()
        .find(|e| e.name == name)
        .map(|e| e.code)
        .unwrap_or_else(|| panic!("{path}: no {name}"))
}

/// The canonical form of a test request (an invalid one panics).
pub(crate) fn canonical(path: &str, body: &Value) -> Value {
    let raw = serde_json::to_vec(body).unwrap_or_default();
    let entry = tim_runtime::dynamic::find(tim_runtime::api::ENDPOINTS, &format!("v4/{path}"))
        .unwrap_or_else(|| panic!("no endpoint {path}"));
    (entry.parse_request)(&raw).unwrap_or_else(|e| panic!("{path}: invalid test request: {e}"))
}

/// A call by the admin at time `now` on an already canonical body.
pub(crate) fn call<'a>(path: &'a str, body: &'a Value, now: u64) -> Call<'a> {
    Call {
        meta: meta(path),
        path,
        body,
        operator: ADMIN,
        now,
        sdkappid: SDKAPPID,
        server: "127.0.0.1:8080",
        ticket: None,
    }
}

/// Runs a call at time `now` as the mock server does: the body is
/// canonicalized (an invalid test request panics), `before` then `handle`
/// run, and the before-callbacks come first in the returned events. A reply
/// that does not decode as the typed response, or a callback that does not
/// parse as its spec, panics.
pub(crate) fn exec(w: &mut World, path: &str, body: Value, now: u64) -> Handled {
    let entry = tim_runtime::dynamic::find(tim_runtime::api::ENDPOINTS, &format!("v4/{path}"))
        .unwrap_or_else(|| panic!("no endpoint {path}"));
    let body = canonical(path, &body);
    // As the server does: a ticket first, then before and handle.
    let probe = call(path, &body, now);
    let call = Call { ticket: w.take_ticket(&probe), ..probe };
    let before = w.before(&call).unwrap_or_else(|| panic!("{path} is not stateful"))?;
    let mut done = w.handle(&call).unwrap_or_else(|| panic!("{path} is not stateful"))?;
    let reply = serde_json::to_vec(&done.body()).unwrap_or_default();
    if let Err(e) = (entry.parse_reply)(&reply) {
        panic!("{path}: the reply does not decode: {e}");
    }
    for e in before.iter().chain(&done.events) {
        let mut body = e.payload.clone();
        body.insert("CallbackCommand".into(), json!(e.command));
        let parsed = <Callback as CallbackSet>::parse(e.command, Value::Object(body).to_string().as_bytes())
            .unwrap_or_else(|err| panic!("{}: the payload does not fit its spec: {err}", e.command));
        assert!(!matches!(parsed, Callback::Unknown { .. }), "{} has no spec", e.command);
        // Only fields the spec declares: the typed payload keeps them all.
        let typed = parsed.to_json();
        for key in e.payload.keys() {
            assert!(typed.get(key).is_some(), "{}: `{key}` is not a payload field", e.command);
        }
    }
    let mut events = before;
    events.append(&mut done.events);
    done.events = events;
    Ok(done)
}

/// [`exec`] for a call that must succeed.
pub(crate) fn exec_ok(w: &mut World, path: &str, body: Value, now: u64) -> Done {
    exec(w, path, body, now).unwrap_or_else(|r| panic!("{path} refused: {r}"))
}
