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
use tim_codegen::model::FieldSpec;
use tim_codegen::SpecSet;
use tim_conformance::{MockConfig, MockServer};
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

const MAX_DEPTH: usize = 4;

fn int_bounds(f: &FieldSpec) -> (i128, i128) {
    let (lo, hi): (i128, i128) = match f.ty.as_str() {
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "i64" => (i64::MIN.into(), i64::MAX.into()),
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        _ => (0, u64::MAX.into()),
    };
    (f.min.map_or(lo, |m| lo.max(m.into())), f.max.map_or(hi, |m| hi.min(m.into())))
}

fn int_value(n: i128) -> Value {
    match i64::try_from(n) {
        Ok(n) => json!(n),
        Err(_) => json!(u64::try_from(n).unwrap_or(u64::MAX)),
    }
}

fn string_strategy(f: &FieldSpec) -> BoxedStrategy<Value> {
    let (min, max) = (f.min_len.unwrap_or(0) as usize, f.max_len.map_or(usize::MAX, |m| m as usize));
    proptest::string::string_regex("\\PC{0,8}")
        .expect("valid regex")
        .prop_map(move |mut s| {
            while s.len() > max {
                s.pop();
            }
            while s.len() < min {
                s.push('a');
            }
            Value::String(s)
        })
        .boxed()
}

fn len_range(f: &FieldSpec, depth: usize) -> std::ops::RangeInclusive<usize> {
    let min = f.min_len.unwrap_or(0) as usize;
    let max = if depth >= MAX_DEPTH { min } else { f.max_len.map_or(3, |m| (m as usize).min(3)).max(min) };
    min..=max
}

/// Valid values of a type, with boundary integers, unicode strings and 0..n arrays.
fn value_strategy(f: &FieldSpec, depth: usize) -> BoxedStrategy<Value> {
    let set = specs();
    match f.ty.as_str() {
        "string" => string_strategy(f),
        "bool" => any::<bool>().prop_map(Value::Bool).boxed(),
        "f64" => (-1.0e6f64..1.0e6).prop_map(|x| json!(x)).boxed(),
        "json" => prop_oneof![Just(json!({"k": "v"})), Just(json!(1)), Just(json!("s"))].boxed(),
        t if tim_codegen::names::INTEGER_TYPES.contains(&t) => {
            let (lo, hi) = int_bounds(f);
            prop_oneof![Just(lo), Just(hi), lo..=hi].prop_map(int_value).boxed()
        }
        "array" | "map" if depth >= MAX_DEPTH && f.min_len.unwrap_or(0) == 0 => {
            Just(if f.ty == "array" { json!([]) } else { json!({}) }).boxed()
        }
        "array" => {
            let item =
                f.items.as_deref().map_or_else(|| Just(json!(1)).boxed(), |i| value_strategy(i, depth + 1));
            proptest::collection::vec(item, len_range(f, depth)).prop_map(Value::Array).boxed()
        }
        "map" => {
            let item =
                f.items.as_deref().map_or_else(|| Just(json!(1)).boxed(), |i| value_strategy(i, depth + 1));
            proptest::collection::btree_map("[a-z]{1,6}", item, len_range(f, depth))
                .prop_map(|m| Value::Object(m.into_iter().collect()))
                .boxed()
        }
        "object" => object_strategy(f.fields.as_deref().unwrap_or_default(), depth + 1),
        "enum" => {
            let values: Vec<Value> = f
                .values
                .iter()
                .flatten()
                .map(|v| serde_json::to_value(&v.value).unwrap_or(Value::Null))
                .collect();
            proptest::sample::select(values).boxed()
        }
        "union" => {
            let (tag, content) = (f.tag.clone().unwrap_or_default(), f.content.clone().unwrap_or_default());
            let variants: Vec<BoxedStrategy<Value>> = f
                .variants
                .iter()
                .flatten()
                .map(|v| {
                    let (tag, content, name) = (tag.clone(), content.clone(), v.tag.clone());
                    let spec = FieldSpec { ty: v.ty.clone(), ..blank() };
                    value_strategy(&spec, depth + 1)
                        .prop_map(move |c| json!({ tag.as_str(): name.as_str(), content.as_str(): c }))
                        .boxed()
                })
                .collect();
            proptest::strategy::Union::new(variants).boxed()
        }
        shared => match set.types.get(shared) {
            Some(t) => value_strategy(t, depth),
            None => Just(Value::Null).boxed(),
        },
    }
}

fn object_strategy(fields: &[FieldSpec], depth: usize) -> BoxedStrategy<Value> {
    let parts: Vec<BoxedStrategy<(String, Option<Value>)>> = fields
        .iter()
        .map(|f| {
            let name = f.name.clone().unwrap_or_default();
            // Strategies are built eagerly, so recursive types stop here.
            if !f.required && depth >= MAX_DEPTH {
                return Just((name, None)).boxed();
            }
            let value = value_strategy(f, depth);
            if f.required {
                value.prop_map(move |v| (name.clone(), Some(v))).boxed()
            } else {
                proptest::option::of(value).prop_map(move |v| (name.clone(), v)).boxed()
            }
        })
        .collect();
    parts.prop_map(|kv| Value::Object(kv.into_iter().filter_map(|(k, v)| Some((k, v?))).collect())).boxed()
}

fn blank() -> FieldSpec {
    serde_json::from_value(json!({"type": "json"})).expect("minimal field spec")
}

fn entry(path: &str) -> &'static dynamic::EndpointEntry {
    dynamic::find(tim_runtime::api::ENDPOINTS, path).unwrap_or_else(|| panic!("{path} not generated"))
}

#[test]
fn valid_requests_round_trip_exactly() {
    for ep in &specs().endpoints {
        let entry = entry(&ep.spec.path);
        let mut runner = TestRunner::new(config(24));
        runner
            .run(&object_strategy(&ep.spec.request, 0), |v| {
                let bytes = serde_json::to_vec(&v).unwrap();
                let back = (entry.parse_request)(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(back, v);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{}: {e}", ep.spec.path));
    }
}

/// A way to break a valid request, and the field the error must name.
#[derive(Debug)]
struct Breakage {
    pointer: String,
    wire_path: String,
    kind: &'static str,
    replacement: Option<Value>,
    /// Inside a tagged union the content is parsed as a whole, so the error
    /// names the union field rather than the leaf.
    in_union: bool,
}

fn breakages(
    fields: &[FieldSpec],
    v: &Value,
    ptr: &str,
    wire: &str,
    in_union: bool,
    out: &mut Vec<Breakage>,
) {
    let set = specs();
    for f in fields {
        let name = f.name.clone().unwrap_or_default();
        let Some(value) = v.get(&name) else { continue };
        let (p, w) = (format!("{ptr}/{}", name.replace('~', "~0").replace('/', "~1")), join(wire, &name));
        let push = |out: &mut Vec<Breakage>, kind, replacement| {
            out.push(Breakage { pointer: p.clone(), wire_path: w.clone(), kind, replacement, in_union })
        };
        if f.required {
            push(out, "missing", None);
        }
        breakage_of_value(f, value, &p, &w, in_union, out, set);
        let resolved = set.types.get(&f.ty).unwrap_or(f);
        let string_enum =
            resolved.ty == "enum" && resolved.values.iter().flatten().any(|v| v.value.is_string());
        let wrong = match resolved.ty.as_str() {
            "string" => Some(json!(12345)),
            // Unknown strings are valid for a string enum; a number is not.
            "enum" if string_enum => Some(json!(12345)),
            "json" => None,
            "map" => Some(json!("not a map")),
            "array" => Some(json!({"not": "an array"})),
            _ => Some(json!("wrong type")),
        };
        if let Some(wrong) = wrong {
            push(out, "wrong type", Some(wrong));
        }
    }
}

fn breakage_of_value(
    f: &FieldSpec,
    value: &Value,
    p: &str,
    w: &str,
    in_union: bool,
    out: &mut Vec<Breakage>,
    set: &SpecSet,
) {
    let resolved = set.types.get(&f.ty).unwrap_or(f);
    match resolved.ty.as_str() {
        t if tim_codegen::names::INTEGER_TYPES.contains(&t) => {
            let (lo, hi) = int_bounds(resolved);
            let outside = if hi < i128::from(u64::MAX) { hi + 1 } else { lo - 1 };
            if outside >= i128::from(i64::MIN) {
                out.push(Breakage {
                    pointer: p.to_owned(),
                    wire_path: w.to_owned(),
                    kind: "out of range",
                    replacement: Some(int_value(outside)),
                    in_union,
                });
            }
        }
        "object" => breakages(resolved.fields.as_deref().unwrap_or_default(), value, p, w, in_union, out),
        "array" => {
            if let (Some(items), Some(arr)) = (resolved.items.as_deref(), value.as_array()) {
                for (i, item) in arr.iter().enumerate() {
                    breakage_of_value(
                        items,
                        item,
                        &format!("{p}/{i}"),
                        &format!("{w}[{i}]"),
                        in_union,
                        out,
                        set,
                    );
                }
            }
        }
        "union" => {
            let content = resolved.content.clone().unwrap_or_default();
            let tag = value.get(resolved.tag.clone().unwrap_or_default()).and_then(Value::as_str);
            let variant = resolved.variants.iter().flatten().find(|v| Some(v.tag.as_str()) == tag);
            if let (Some(variant), Some(inner)) = (variant, value.get(&content)) {
                let spec = FieldSpec { ty: variant.ty.clone(), ..blank() };
                breakage_of_value(&spec, inner, &format!("{p}/{content}"), w, true, out, set);
            }
        }
        _ => {}
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn apply(v: &Value, b: &Breakage) -> Value {
    let mut v = v.clone();
    let (parent, key) = b.pointer.rsplit_once('/').expect("pointer has a parent");
    let key = key.replace("~1", "/").replace("~0", "~");
    if let Some(Value::Object(map)) = v.pointer_mut(parent) {
        match &b.replacement {
            None => {
                map.remove(&key);
            }
            Some(r) => {
                map.insert(key, r.clone());
            }
        }
    } else if let (Some(Value::Array(arr)), Ok(i), Some(r)) =
        (v.pointer_mut(parent), key.parse::<usize>(), &b.replacement)
    {
        arr[i] = r.clone();
    }
    v
}

#[test]
fn broken_requests_are_rejected_naming_the_field() {
    for ep in &specs().endpoints {
        let entry = entry(&ep.spec.path);
        let mut runner = TestRunner::new(config(6));
        runner
            .run(&object_strategy(&ep.spec.request, 0), |v| {
                let mut found = Vec::new();
                breakages(&ep.spec.request, &v, "", "", false, &mut found);
                for b in &found {
                    let broken = apply(&v, b);
                    let bytes = serde_json::to_vec(&broken).unwrap();
                    let err = match (entry.parse_request)(&bytes) {
                        Ok(_) => {
                            return Err(TestCaseError::fail(format!("{} `{}` accepted", b.kind, b.wire_path)))
                        }
                        Err(e) => e,
                    };
                    let names_it = err.path == b.wire_path
                        || (b.in_union && !err.path.is_empty() && b.wire_path.starts_with(&err.path));
                    prop_assert!(
                        names_it,
                        "{} `{}`: error names `{}`: {}",
                        b.kind,
                        b.wire_path,
                        err.path,
                        err
                    );
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{}: {e}", ep.spec.path));
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
    let server = rt.block_on(MockServer::start(MockConfig::new(9, "k", "admin"))).unwrap();
    let base = server.base_url();
    for ep in &specs().endpoints {
        let entry = entry(&ep.spec.path);
        let mut runner = TestRunner::new(config(2));
        runner
            .run(&object_strategy(&ep.spec.request, 0), |v| {
                let reply = rt.block_on(post(&base, &ep.spec.path, &v));
                prop_assert_eq!(&reply["ErrorCode"], &json!(0), "valid body {} refused: {}", v, reply);
                let mut found = Vec::new();
                breakages(&ep.spec.request, &v, "", "", false, &mut found);
                for b in found.iter().take(3) {
                    let broken = apply(&v, b);
                    let reply = rt.block_on(post(&base, &ep.spec.path, &broken));
                    let code = reply["ErrorCode"].as_i64().unwrap_or(0);
                    let leaf = b.wire_path.rsplit('.').next().unwrap_or("").split('[').next().unwrap_or("");
                    let documented = entry.meta.error_for_field(leaf).map_or(70402, |m| m.code);
                    let expected = if b.in_union { code } else { documented };
                    prop_assert!(
                        code != 0 && code == expected,
                        "{} `{}`: got {}",
                        b.kind,
                        b.wire_path,
                        reply
                    );
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{}: {e}", ep.spec.path));
    }
}

/// Adds an unknown field to every object and replaces enum values with ones
/// no spec names: what a newer server might send.
fn future_proof(f: &FieldSpec, v: &mut Value, set: &SpecSet) {
    let resolved = set.types.get(&f.ty).unwrap_or(f);
    match (resolved.ty.as_str(), v) {
        ("object", Value::Object(map)) => {
            for field in resolved.fields.iter().flatten() {
                if let Some(inner) = map.get_mut(field.name.as_deref().unwrap_or_default()) {
                    future_proof(field, inner, set);
                }
            }
            map.insert("Zz_Added_Later".into(), json!({"nested": [1, 2]}));
        }
        ("array", Value::Array(items)) => {
            for item in items {
                if let Some(spec) = resolved.items.as_deref() {
                    future_proof(spec, item, set);
                }
            }
        }
        ("enum", v) => {
            *v = if v.is_string() { json!("ValueFromTheFuture") } else { json!(987_654_321) };
        }
        _ => {}
    }
}

#[test]
fn replies_with_unknown_content_still_parse() {
    let set = specs();
    for ep in &set.endpoints {
        let entry = entry(&ep.spec.path);
        let mut runner = TestRunner::new(config(16));
        let fields = ep.spec.response.clone();
        runner
            .run(&(object_strategy(&fields, 0), 1i64..2_000_000), |(v, code)| {
                let mut body = v.clone();
                let spec = FieldSpec { ty: "object".into(), fields: Some(fields.clone()), ..blank() };
                future_proof(&spec, &mut body, set);
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
            .unwrap_or_else(|e| panic!("{}: {e}", ep.spec.path));
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
