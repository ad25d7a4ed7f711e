//! A spec skeleton for a new endpoint, from a documented sample pair
//! (`cargo xtask scaffold PATH --request req.json --response resp.json`).
//!
//! Field names and types are read off the samples (integers as `u32`, or
//! `u64`/`i64` when the value needs it; objects as inline object types;
//! arrays by their first element), the samples become the spec's first
//! sample, and the loader accepts the result as it is. What a sample cannot
//! tell is left for the maintainer, marked by comments: which request
//! fields are required (all start optional), limits, enumerations, error
//! codes, the rate limit and the descriptions.

use std::collections::HashSet;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::names::{camel, split_path};

/// The YAML of a new endpoint spec for `path` from a sample `request` and
/// `response` (both JSON objects; the reply's envelope fields are left out).
pub fn endpoint_yaml(path: &str, request: &Value, response: &Value) -> Result<String, String> {
    let path = path.trim_start_matches('/');
    let (service, command) =
        split_path(path).ok_or_else(|| format!("`{path}` is not of the form v4/<service>/<command>"))?;
    let (Some(req), Some(resp)) = (request.as_object(), response.as_object()) else {
        return Err("the sample request and response must be JSON objects".into());
    };
    let title = {
        let words = command.replace('_', " ");
        let mut c = words.chars();
        c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
    };
    let mut names = HashSet::new();
    let mut out = String::new();
    let _ = writeln!(out, "# yaml-language-server: $schema=../endpoint.schema.json");
    let _ =
        writeln!(out, "# Skeleton from a documented sample pair (cargo xtask scaffold). Still to do from");
    let _ = writeln!(out, "# the endpoint's page: the description, required flags, limits (max_len, max),");
    let _ = writeln!(out, "# enumerations, docs, error codes and the rate limit (specs/README.md).");
    let _ = writeln!(out, "path: {path}");
    let _ = writeln!(out, "title: {}", json_str(&title));
    let _ = writeln!(out, "description: |");
    let _ =
        writeln!(out, "  Sends `{path}` ({service} service, `{command}` command); rewrite from its page.");
    let _ = writeln!(out, "rate_limit: 200/s");
    let _ = writeln!(out, "idempotent: false");
    let _ = writeln!(out, "shared_errors: [public]");
    if req.is_empty() {
        let _ = writeln!(out, "request: []");
    } else {
        let _ = writeln!(out, "request:");
        fields(&mut out, req, 1, true, &mut names);
    }
    let reply: Map<String, Value> = resp
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "ActionStatus" | "ErrorCode" | "ErrorInfo"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if reply.is_empty() {
        let _ = writeln!(out, "response: []");
    } else {
        let _ = writeln!(out, "response:");
        fields(&mut out, &reply, 1, false, &mut names);
    }
    let _ = writeln!(out, "samples:");
    let _ = writeln!(out, "  - name: documented sample");
    let _ = writeln!(out, "    request: {}", serde_json::to_string(request).unwrap_or_default());
    let _ = writeln!(out, "    response: {}", serde_json::to_string(response).unwrap_or_default());
    Ok(out)
}

/// A JSON string, which YAML reads as the same string.
fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// A type name not used yet in the module.
fn unique(names: &mut HashSet<String>, base: &str) -> String {
    let base = camel(base);
    let base = if base.is_empty() { "Item".to_owned() } else { base };
    let mut name = base.clone();
    let mut n = 2;
    while crate::names::RESERVED_TYPE_NAMES.contains(&name.as_str()) || !names.insert(name.clone()) {
        name = format!("{base}{n}");
        n += 1;
    }
    name
}

fn fields(
    out: &mut String,
    obj: &Map<String, Value>,
    depth: usize,
    request: bool,
    names: &mut HashSet<String>,
) {
    let pad = "  ".repeat(depth);
    for (key, value) in obj {
        let _ = writeln!(out, "{pad}- name: {}", json_str(key));
        ty(out, key, value, depth + 1, request, names);
        if request {
            let _ = writeln!(out, "{pad}  required: false  # in the sample: confirm from the page");
        }
    }
}

/// The `type:` lines (and nested fields) of a value found under `key`.
fn ty(out: &mut String, key: &str, value: &Value, depth: usize, request: bool, names: &mut HashSet<String>) {
    let pad = "  ".repeat(depth);
    match value {
        Value::Array(items) => {
            let _ = writeln!(out, "{pad}type: array");
            let _ = writeln!(out, "{pad}items:");
            match items.first() {
                None => {
                    let _ = writeln!(out, "{pad}  type: json  # empty in the sample");
                }
                Some(first) => {
                    let item = if key.ends_with("Item") { key.to_owned() } else { format!("{key}Item") };
                    ty(out, &item, first, depth + 1, request, names)
                }
            }
        }
        Value::Object(map) => {
            let _ = writeln!(out, "{pad}type: object");
            let _ = writeln!(out, "{pad}rust_name: {}", unique(names, key));
            if map.is_empty() {
                let _ = writeln!(out, "{pad}fields: []");
            } else {
                let _ = writeln!(out, "{pad}fields:");
                fields(out, map, depth, request, names);
            }
        }
        scalar => {
            let _ = writeln!(out, "{pad}type: {}", scalar_type(scalar));
        }
    }
}

fn scalar_type(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_u64() => {
            if n.as_u64().is_some_and(|n| n <= u64::from(u32::MAX)) {
                "u32"
            } else {
                "u64"
            }
        }
        Value::Number(n) if n.is_i64() => "i64",
        Value::Number(_) => "f64",
        _ => "json",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_sample_pair_becomes_a_spec_the_loader_accepts() {
        let req = json!({"GroupId": "g", "Limit": 10, "Big": 5_000_000_000u64, "Delta": -1, "Ratio": 0.5,
                         "Flag": true, "Tags": ["a"], "Empty": [], "Filter": {"Keys": ["x"]},
                         "Items": [{"Key": "k", "Value": {"Inner": 1}}]});
        let resp = json!({"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", "Total": 3,
                          "Items": [{"Key": "k"}]});
        let yaml = endpoint_yaml("v4/demo/new_thing", &req, &resp).unwrap();
        assert!(yaml.contains("title: \"New thing\""), "{yaml}");
        let dir = std::env::temp_dir().join(format!("tim-scaffold-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("demo")).unwrap();
        std::fs::create_dir_all(dir.join("shared")).unwrap();
        std::fs::write(
            dir.join("shared/errors.yaml"),
            "public:\n  doc: Public codes.\n  codes:\n    - {code: 60007, meaning: Too fast., retryable: true}\n",
        )
        .unwrap();
        std::fs::write(dir.join("demo/new_thing.yaml"), &yaml).unwrap();
        let set =
            crate::load_dir(&dir, std::path::Path::new("specs")).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        std::fs::remove_dir_all(&dir).ok();
        let ep = &set.endpoints[0];
        let ty = |name: &str| ep.request.iter().find(|f| f.wire == name).map(|f| f.ty.clone()).unwrap();
        assert!(matches!(ty("Limit"), crate::model::Type::Int { kind: crate::model::IntKind::U32, .. }));
        assert!(matches!(ty("Big"), crate::model::Type::Int { kind: crate::model::IntKind::U64, .. }));
        assert!(matches!(ty("Delta"), crate::model::Type::Int { kind: crate::model::IntKind::I64, .. }));
        assert!(ep.request.iter().all(|f| !f.required));
        assert_eq!(ep.response.len(), 2);
        assert_eq!(ep.samples.len(), 1);
        assert!(endpoint_yaml("nope", &req, &resp).is_err());
        assert!(endpoint_yaml("v4/a/b", &json!([1]), &resp).is_err());
    }
}
