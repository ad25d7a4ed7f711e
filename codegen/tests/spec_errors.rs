//! A malformed spec gets an error naming the file, the position and the field.

use std::fs;
use std::path::{Path, PathBuf};

const GOOD: &str = "path: v4/demo/ping
title: Ping
description: Checks the service.
rate_limit: 200/s
idempotent: true
shared_errors: [public]
request:
  - name: User_Account
    type: string
    required: true
  - name: Count
    type: u32
response: []
samples:
  - name: ping
    request: {\"User_Account\": \"a\"}
    response: {\"ActionStatus\": \"OK\", \"ErrorInfo\": \"\", \"ErrorCode\": 0}
";

const ERRORS: &str =
    "public:\n  doc: Public codes.\n  codes:\n    - {code: 60007, meaning: Too fast., retryable: true}\n";

fn spec_dir(name: &str, spec: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tim-codegen-test-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("demo")).unwrap();
    fs::create_dir_all(dir.join("shared")).unwrap();
    fs::write(dir.join("shared/errors.yaml"), ERRORS).unwrap();
    fs::write(dir.join("demo/ping.yaml"), spec).unwrap();
    dir
}

fn error_of(name: &str, spec: &str) -> String {
    let dir = spec_dir(name, spec);
    let err = tim_codegen::load_dir(&dir, Path::new("specs")).expect_err("spec should be rejected");
    fs::remove_dir_all(&dir).ok();
    err.to_string()
}

#[test]
fn good_spec_loads_and_renders() {
    let dir = spec_dir("good", GOOD);
    let set = tim_codegen::load_dir(&dir, Path::new("specs")).unwrap();
    assert_eq!(set.endpoints.len(), 1);
    let code = tim_codegen::render(&set).inline().to_string();
    assert!(code.contains("\"User_Account\""));
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn unknown_type_names_file_line_and_field() {
    let e = error_of("unknown-type", &GOOD.replace("type: u32", "type: u33"));
    assert_eq!(e, "specs/demo/ping.yaml:12:5: `request.Count`: unknown type `u33` (not built in, not in shared/types.yaml)");
}

#[test]
fn duplicate_field() {
    let e = error_of("dup", &GOOD.replace("name: Count", "name: User_Account"));
    assert!(e.starts_with("specs/demo/ping.yaml:11:5: `request.User_Account`: duplicate field"), "{e}");
}

#[test]
fn missing_required_key() {
    let e = error_of("missing", &GOOD.replace("title: Ping\n", ""));
    assert!(e.starts_with("specs/demo/ping.yaml:"), "{e}");
    assert!(e.contains("missing field `title`"), "{e}");
}

#[test]
fn missing_key_in_a_field_names_the_field_path() {
    let e = error_of("missing-type", &GOOD.replace("    type: u32\n", ""));
    assert!(e.contains("request[1]"), "{e}");
    assert!(e.contains("missing field `type`"), "{e}");
}

#[test]
fn unknown_key_is_rejected() {
    let e = error_of("unknown-key", &GOOD.replace("    required: true\n", "    requird: true\n"));
    assert!(e.contains("unknown field `requird`"), "{e}");
    assert!(e.contains(":10:"), "{e}");
}

#[test]
fn unknown_shared_reference() {
    let e = error_of("unknown-shared", &GOOD.replace("[public]", "[public, nosuch]"));
    assert!(e.contains("`shared_errors`: unknown shared error table `nosuch`"), "{e}");
    let e = error_of("unknown-shared-type", &GOOD.replace("type: u32", "type: NoSuchType"));
    assert!(e.contains("`request.Count`: unknown type `NoSuchType`"), "{e}");
}

#[test]
fn bad_path() {
    let e = error_of("bad-path", &GOOD.replace("v4/demo/ping", "v4/demo"));
    assert!(e.starts_with("specs/demo/ping.yaml:1:1: `path`: `v4/demo` is not of the form"), "{e}");
    let e = error_of("moved", &GOOD.replace("v4/demo/ping", "v4/demo/pong"));
    assert!(e.contains("must live in `demo/pong.yaml`"), "{e}");
}

#[test]
fn key_that_does_not_fit_the_type() {
    let e =
        error_of("items-on-string", &GOOD.replace("type: u32", "type: string\n    items: {type: string}"));
    assert!(e.contains("`request.Count`: `items` does not apply to type `string`"), "{e}");
}

#[test]
fn bad_rate_limit_and_duplicate_error_code() {
    let spec = GOOD.replace("200/s", "fast").replacen(
        "\nrequest:",
        "\nerrors:\n  - {code: 1, meaning: a}\n  - {code: 1, meaning: b}\nrequest:",
        1,
    );
    let e = error_of("rate", &spec);
    assert!(e.contains(":4:1: `rate_limit`: `fast` is not N/s"), "{e}");
    assert!(e.contains("`errors.1`: duplicate error code"), "{e}");
}

#[test]
fn pagination_must_name_fields_of_the_endpoint() {
    let paged = GOOD.replace(
        "response: []",
        "response:\n  - name: Items\n    type: array\n    items: {type: string}\n  - name: Next\n    type: string",
    );
    let good = format!("{paged}pagination: {{items: Items, page_size: Count, cursors: [{{request: User_Account, reply: Next}}]}}\n");
    let dir = spec_dir("paged", &good);
    let set = tim_codegen::load_dir(&dir, Path::new("specs")).unwrap();
    assert!(set.endpoints[0].pagination.is_some());
    fs::remove_dir_all(&dir).ok();

    let e = error_of("paged-bad", &format!(
        "{paged}pagination: {{items: Listing, page_size: Size, total: Next, cursors: [{{request: Count, reply: Next}}]}}\n"
    ));
    assert!(e.contains("`pagination.items`: `Listing` is not a reply field of this endpoint"), "{e}");
    assert!(e.contains("`pagination.page_size`: `Size` is not a request field of this endpoint"), "{e}");
    assert!(e.contains("`pagination.total`: `Next` is not an integer"), "{e}");
    assert!(
        e.contains("`pagination.cursors[0]`: `Count` and `Next` must both be strings or both integers"),
        "{e}"
    );
    assert!(e.contains("specs/demo/ping.yaml:"), "{e}");

    let e = error_of("paged-none", &format!("{paged}pagination: {{items: Items}}\n"));
    assert!(e.contains("`pagination`: names no `offset`, `cursors`, `before` or `after`"), "{e}");
}

#[test]
fn yaml_syntax_error_has_position() {
    let e = error_of("syntax", &GOOD.replace("title: Ping", "title: [Ping"));
    assert!(e.starts_with("specs/demo/ping.yaml:"), "{e}");
}

const GOOD_CALLBACK: &str = "command: Demo.CallbackBeforePing
title: Before a ping
description: Sent before a ping.
kind: before
source: test
payload:
  - {name: From_Account, type: string, required: true}
  - {name: EventTime, type: u64, lenient: true}
reply:
  - {name: Text, type: string}
decisions:
  - {name: allow, effect: allow, code: 0, doc: Let it through.}
  - {name: rewrite, effect: allow, code: 0, fields: [Text], doc: Say this instead.}
samples:
  - name: ping
    payload: {\"CallbackCommand\": \"Demo.CallbackBeforePing\", \"From_Account\": \"a\", \"EventTime\": \"1\"}
";

fn callback_error(name: &str, file: &str, spec: &str) -> String {
    let dir = spec_dir(name, GOOD);
    fs::create_dir_all(dir.join("callbacks/Demo")).unwrap();
    fs::write(dir.join("callbacks/Demo").join(file), spec).unwrap();
    let result = tim_codegen::load_dir(&dir, Path::new("specs"));
    fs::remove_dir_all(&dir).ok();
    match result {
        Ok(set) => {
            assert_eq!(set.callbacks.len(), 1);
            String::new()
        }
        Err(e) => e.to_string(),
    }
}

#[test]
fn good_callback_loads() {
    assert_eq!(callback_error("cb-good", "CallbackBeforePing.yaml", GOOD_CALLBACK), "");
}

#[test]
fn callback_mistakes_name_file_line_and_field() {
    let cases = [
        (
            "CallbackBeforePong.yaml",
            GOOD_CALLBACK.to_owned(),
            "`command`: `Demo.CallbackBeforePing` must live in `callbacks/Demo/CallbackBeforePing.yaml`",
        ),
        (
            "CallbackBeforePing.yaml",
            GOOD_CALLBACK.replace("fields: [Text]", "fields: [Txt]"),
            "`decisions.rewrite`: `Txt` is not a `reply` field",
        ),
        (
            "CallbackBeforePing.yaml",
            GOOD_CALLBACK.replace("kind: before", "kind: after"),
            "drop `reply` and `decisions`",
        ),
        (
            "CallbackBeforePing.yaml",
            GOOD_CALLBACK.replace("kind: before", "kind: sometimes"),
            "`kind`: `sometimes` is neither `before` nor `after`",
        ),
        (
            "CallbackBeforePing.yaml",
            GOOD_CALLBACK.replace("\"From_Account\": \"a\"", "\"From_Account\": \"a\", \"Extra\": 1"),
            "`samples[0].payload.Extra`: not a `payload` field of this spec",
        ),
        (
            "CallbackBeforePing.yaml",
            GOOD_CALLBACK.replace("code: 0, doc: Let", "codes: [5, 1], doc: Let"),
            "`codes` must be [min, max] with min <= max",
        ),
        (
            "CallbackBeforePing.yaml",
            GOOD_CALLBACK
                .replace("effect: allow, code: 0, doc", "effect: allow, code: 0, caller_error: 1, doc"),
            "`caller_error` is for `effect: deny` only",
        ),
        (
            "CallbackBeforePing.yaml",
            GOOD_CALLBACK.replace(
                "{name: EventTime, type: u64, lenient: true}",
                "{name: EventTime, type: bool, lenient: true}",
            ),
            "`payload.EventTime`: `lenient` applies to integer and string fields only",
        ),
        (
            "CallbackBeforePing.yaml",
            GOOD_CALLBACK.replace(
                "\"CallbackCommand\": \"Demo.CallbackBeforePing\"",
                "\"CallbackCommand\": \"Demo.Other\"",
            ),
            "`CallbackCommand` must be `Demo.CallbackBeforePing`",
        ),
    ];
    for (i, (file, spec, wanted)) in cases.iter().enumerate() {
        let e = callback_error(&format!("cb-{i}"), file, spec);
        assert!(e.starts_with("specs/callbacks/Demo/"), "{e}");
        assert!(e.contains(wanted), "case {i}: wanted {wanted:?} in {e}");
    }
}
