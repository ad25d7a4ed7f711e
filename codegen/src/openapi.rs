//! An OpenAPI 3.1 document of the REST API, from the same model the Rust
//! code is generated from, for users of other languages and their tools
//! (`cargo xtask codegen` writes it to `specs/openapi.json`).
//!
//! Every endpoint is a `POST` with the signing query parameters, its
//! request body and its reply (the `ActionStatus`/`ErrorCode`/`ErrorInfo`
//! envelope with the endpoint's fields). Shared types are components;
//! types defined where they are used are inlined. Facts JSON Schema cannot
//! state go in extensions: string lengths counted in bytes
//! (`x-max-bytes`), the rate limits, retry safety, error codes,
//! pagination and batching.

use serde_json::{json, Map, Value};

use crate::model::{Endpoint, EnumValues, ErrorCode, Field, IntKind, SpecSet, Type};

/// Where `cargo xtask codegen` writes the document, under `specs/`.
pub const FILE: &str = "openapi.json";

/// The document as written to [`FILE`].
pub fn text(set: &SpecSet, version: &str) -> String {
    format!("{}\n", serde_json::to_string_pretty(&document(set, version)).unwrap_or_default())
}

/// The document, as JSON.
pub fn document(set: &SpecSet, version: &str) -> Value {
    let mut schemas = Map::new();
    schemas.insert(
        "Envelope".into(),
        json!({
            "type": "object",
            "description": "Fields every reply carries.",
            "properties": {
                "ActionStatus": {"type": "string", "description": "`OK`, `FAIL`, or `SomeError` when some items of a batch failed."},
                "ErrorCode": {"type": "integer", "description": "0 on success."},
                "ErrorInfo": {"type": "string", "description": "Why the request failed; empty on success."}
            },
            "required": ["ErrorCode"],
            "x-note": "The legacy `openconfigsvr` endpoints reply without `ActionStatus`."
        }),
    );
    for (name, shared) in &set.types {
        let mut s = schema(&shared.ty, false, true);
        if let (Some(doc), Value::Object(map)) = (&shared.doc, &mut s) {
            map.entry("description").or_insert_with(|| Value::String(doc.trim().to_owned()));
        }
        schemas.insert(name.clone(), s);
    }
    let mut paths = Map::new();
    for ep in &set.endpoints {
        let base = format!("{}.{}", ep.service, ep.command);
        schemas.insert(format!("{base}.Request"), object(&ep.request, true, None));
        schemas.insert(
            format!("{base}.Response"),
            json!({"allOf": [{"$ref": "#/components/schemas/Envelope"}, object(&ep.response, false, None)]}),
        );
        paths.insert(format!("/{}", ep.path), json!({"post": operation(set, ep, &base)}));
    }
    let mut webhooks = Map::new();
    for cb in &set.callbacks {
        let base = format!("callbacks.{}", cb.command);
        schemas.insert(format!("{base}.Payload"), object(&cb.payload, false, None));
        schemas.insert(
            format!("{base}.Reply"),
            json!({"allOf": [{"$ref": "#/components/schemas/Envelope"}, object(&cb.reply, true, None)]}),
        );
        let decisions: Vec<Value> = cb
            .decisions
            .iter()
            .map(|d| json!({"name": d.name, "doc": d.doc.trim(), "codes": [d.codes.0, d.codes.1], "caller_error": d.caller_error}))
            .collect();
        let kind = match cb.kind {
            crate::model::CallbackKind::Before => "before",
            crate::model::CallbackKind::After => "after",
        };
        webhooks.insert(
            cb.command.clone(),
            json!({"post": {
                "operationId": format!("callback_{}", cb.command.replace('.', "_")),
                "summary": cb.title.trim(),
                "description": cb.description.trim(),
                "tags": [format!("callbacks.{}", cb.area)],
                "requestBody": {
                    "required": true,
                    "content": {"application/json": {
                        "schema": {"$ref": format!("#/components/schemas/{base}.Payload")},
                        "example": cb.samples.first().map(|s| s.payload.clone())
                    }}
                },
                "responses": {"200": {
                    "description": "The app's answer; for a before-callback `ErrorCode` allows, denies or modifies (`x-decisions`).",
                    "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{base}.Reply")}}}
                }},
                "x-kind": kind,
                "x-decisions": decisions,
            }}),
        );
    }
    let hosts: Vec<&str> = set.regions.iter().map(|r| r.host.as_str()).collect();
    let default_host = hosts.first().copied().unwrap_or("console.tim.qq.com");
    let param = |name: &str, ty: Value, doc: &str| json!({"name": name, "in": "query", "required": true, "schema": ty, "description": doc});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Tencent Cloud IM (Chat) server REST API",
            "version": version,
            "description": "Generated from the specs of the tim project (`specs/`); every endpoint is a POST of a JSON body, signed with the admin's UserSig in the query string."
        },
        "servers": [{
            "url": "https://{host}",
            "variables": {"host": {"default": default_host, "enum": hosts, "description": "The app's data center."}}
        }],
        "paths": paths,
        "webhooks": webhooks,
        "components": {
            "schemas": schemas,
            "parameters": {
                "sdkappid": param("sdkappid", json!({"type": "integer", "format": "int64", "minimum": 1}), "The app's SDKAppID."),
                "identifier": param("identifier", json!({"type": "string"}), "The app administrator's UserID."),
                "usersig": param("usersig", json!({"type": "string"}), "A UserSig of the administrator."),
                "random": param("random", json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": u32::MAX}), "A fresh random 32-bit number per request."),
                "contenttype": param("contenttype", json!({"type": "string", "const": "json"}), "Always `json`.")
            }
        }
    })
}

fn operation(set: &SpecSet, ep: &Endpoint, base: &str) -> Value {
    let params: Vec<Value> = ["sdkappid", "identifier", "usersig", "random", "contenttype"]
        .iter()
        .map(|p| json!({"$ref": format!("#/components/parameters/{p}")}))
        .collect();
    let mut errors: Vec<Value> = ep.errors.iter().map(error).collect();
    for table in &ep.shared_errors {
        if let Some(t) = set.error_tables.get(table) {
            errors.extend(t.codes.iter().map(error));
        }
    }
    let mut op = json!({
        "operationId": base.replace('.', "_"),
        "summary": ep.title.trim(),
        "description": ep.description.trim(),
        "tags": [ep.service],
        "parameters": params,
        "requestBody": {
            "required": true,
            "content": {"application/json": {
                "schema": {"$ref": format!("#/components/schemas/{base}.Request")},
                "example": ep.samples.first().map(|s| serde_json::from_str::<Value>(&s.request_json).unwrap_or(Value::Null))
            }}
        },
        "responses": {"200": {
            "description": "The reply; `ErrorCode` 0 on success, otherwise one of `x-error-codes`.",
            "content": {"application/json": {
                "schema": {"$ref": format!("#/components/schemas/{base}.Response")},
                "example": ep.samples.first().map(|s| serde_json::from_str::<Value>(&s.response_json).unwrap_or(Value::Null))
            }}
        }},
        "x-rate-limit": ep.rate_limit.to_string(),
        "x-idempotent": ep.idempotent,
        "x-error-codes": errors,
    });
    let Value::Object(map) = &mut op else { return op };
    if ep.deprecated.is_some() {
        map.insert("deprecated".into(), Value::Bool(true));
    }
    if !ep.group_types.is_empty() {
        let rows: Vec<Value> = ep
            .group_types
            .iter()
            .map(|g| json!({"group_type": g.group_type.as_str(), "supported": g.supported, "ignored": g.ignored, "note": g.note.as_deref().map(str::trim)}))
            .collect();
        map.insert("x-group-types".into(), Value::Array(rows));
    }
    if !ep.rate_limits.is_empty() {
        let limits: Vec<Value> = ep
            .rate_limits
            .iter()
            .map(|l| json!({"rate": l.rate.to_string(), "cost": l.cost, "per": l.per, "code": l.code, "doc": l.doc.trim()}))
            .collect();
        map.insert("x-rate-limits".into(), Value::Array(limits));
    }
    if let Some(p) = &ep.pagination {
        map.insert(
            "x-pagination".into(),
            json!({
                "items": p.items.iter().map(|(f, _)| f.wire.as_str()).collect::<Vec<_>>(),
                "page_size": p.page_size.as_ref().map(|f| &f.wire),
                "offset": p.offset.as_ref().map(|f| &f.wire),
                "total": p.total.as_ref().map(|f| &f.wire),
                "cursors": p.cursors.iter().map(|(r, s)| json!({"request": r.wire, "reply": s.wire})).collect::<Vec<_>>(),
                "before": p.before.as_ref().map(|(r, i)| json!({"request": r.wire, "item": i.wire})),
                "after": p.after.as_ref().map(|(r, i)| json!({"request": r.wire, "item": i.wire})),
                "done": p.done.as_ref().map(|(f, v)| json!({"field": f.wire, "value": v})),
            }),
        );
    }
    if let Some(b) = &ep.batch {
        map.insert(
            "x-batch".into(),
            json!({
                "field": b.field.wire, "max": b.max, "key": b.key.as_ref().map(|f| &f.wire),
                "results": b.results.as_ref().map(|r| json!({
                    "list": r.list.wire, "key": r.key.as_ref().map(|f| &f.wire),
                    "code": r.code.as_ref().map(|f| &f.wire), "info": r.info.as_ref().map(|f| &f.wire), "ok": r.ok,
                })),
            }),
        );
    }
    op
}

fn error(e: &ErrorCode) -> Value {
    json!({"code": e.code, "name": e.name, "meaning": e.meaning.trim(), "retryable": e.retryable})
}

/// An object of `fields`; `sent` for request types, whose enums are closed.
fn object(fields: &[Field], sent: bool, doc: Option<&str>) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in fields {
        let mut s = schema(&f.ty, sent, false);
        if f.lenient {
            // Also the other JSON type the pages show: digits in a string for
            // an integer, a number for a string.
            let other = match &f.ty {
                Type::String { .. } => json!({"type": "number"}),
                _ => json!({"type": "string", "pattern": "^-?[0-9]+$"}),
            };
            s = json!({"anyOf": [s, other]});
        }
        if let Value::Object(map) = &mut s {
            if let Some(doc) = &f.doc {
                map.insert("description".into(), Value::String(doc.trim().to_owned()));
            }
            if f.deprecated.is_some() {
                map.insert("deprecated".into(), Value::Bool(true));
            }
            if !f.aliases.is_empty() {
                map.insert("x-aliases".into(), json!(f.aliases));
            }
        }
        // A `$ref` with siblings is fine in 3.1 (JSON Schema 2020-12).
        props.insert(f.wire.clone(), s);
        if f.required {
            required.push(Value::String(f.wire.clone()));
        }
    }
    let mut out = json!({"type": "object", "properties": props});
    if let Value::Object(map) = &mut out {
        if !required.is_empty() {
            map.insert("required".into(), Value::Array(required));
        }
        if let Some(doc) = doc {
            map.insert("description".into(), Value::String(doc.trim().to_owned()));
        }
    }
    out
}

fn int_bounds(kind: IntKind) -> (Value, Value) {
    let (min, max) = kind.limits();
    // Beyond 2^53 JSON tools lose precision; u64's maximum is left unstated.
    let max = if max > i128::from(i64::MAX) { Value::Null } else { json!(max as i64) };
    (json!(min as i64), max)
}

/// The JSON Schema of `ty`. Shared types are referenced unless `inline`.
fn schema(ty: &Type, sent: bool, inline: bool) -> Value {
    match ty {
        Type::String { len, prefix } => {
            let mut s = json!({"type": "string"});
            if let Value::Object(map) = &mut s {
                if let Some(max) = len.max {
                    map.insert("x-max-bytes".into(), json!(max));
                }
                if let Some(min) = len.min {
                    map.insert("x-min-bytes".into(), json!(min));
                    if min > 0 {
                        map.insert("minLength".into(), json!(1));
                    }
                }
                if let Some(p) = prefix {
                    map.insert("pattern".into(), Value::String(format!("^{}", regex_escape(p))));
                }
            }
            s
        }
        Type::Bool => json!({"type": "boolean"}),
        Type::F64 => json!({"type": "number"}),
        Type::Json => json!({}),
        Type::Int { kind, range } => {
            let (kmin, kmax) = int_bounds(*kind);
            let format = match kind {
                IntKind::I64 | IntKind::U64 => "int64",
                _ => "int32",
            };
            let mut s =
                json!({"type": "integer", "format": format, "minimum": range.min.map_or(kmin, |m| json!(m))});
            if let Value::Object(map) = &mut s {
                match range.max.map(|m| json!(m)).unwrap_or(kmax) {
                    Value::Null => {}
                    max => {
                        map.insert("maximum".into(), max);
                    }
                }
            }
            s
        }
        Type::Array { items, len } => {
            let mut s = json!({"type": "array", "items": schema(items, sent, false)});
            if let Value::Object(map) = &mut s {
                if let Some(max) = len.max {
                    map.insert("maxItems".into(), json!(max));
                }
                if let Some(min) = len.min {
                    map.insert("minItems".into(), json!(min));
                }
            }
            s
        }
        Type::Map { values, len } => {
            let mut s = json!({"type": "object", "additionalProperties": schema(values, sent, false)});
            if let Value::Object(map) = &mut s {
                if let Some(max) = len.max {
                    map.insert("maxProperties".into(), json!(max));
                }
                if let Some(min) = len.min {
                    map.insert("minProperties".into(), json!(min));
                }
            }
            s
        }
        Type::Object(o) => object(&o.fields, sent, o.doc.as_deref()),
        Type::Enum(e) => {
            let (base, values): (&str, Vec<Value>) = match &e.values {
                EnumValues::Strings(v) => ("string", v.iter().map(|v| json!(v.value)).collect()),
                EnumValues::Integers(v) => ("integer", v.iter().map(|v| json!(v.value)).collect()),
            };
            let mut s = json!({"type": base, "x-enum-names": enum_names(&e.values)});
            if let Value::Object(map) = &mut s {
                if sent {
                    // Requests are checked against the named values.
                    map.insert("enum".into(), Value::Array(values));
                } else {
                    // Replies keep values a newer service adds.
                    map.insert("examples".into(), Value::Array(values));
                }
                if let Some(doc) = &e.doc {
                    map.insert("description".into(), Value::String(doc.trim().to_owned()));
                }
            }
            s
        }
        Type::Union(u) => {
            let variants: Vec<Value> = u
                .variants
                .iter()
                .map(|v| {
                    let mut s = json!({
                        "type": "object",
                        "properties": {
                            u.tag.clone(): {"const": v.tag},
                            u.content.clone(): schema(&v.ty, sent, false)
                        },
                        "required": [u.tag, u.content]
                    });
                    if let (Some(doc), Value::Object(map)) = (&v.doc, &mut s) {
                        map.insert("description".into(), Value::String(doc.trim().to_owned()));
                    }
                    s
                })
                .collect();
            let mut s = json!({"oneOf": variants, "x-tag": u.tag, "x-content": u.content});
            if let (Some(doc), Value::Object(map)) = (&u.doc, &mut s) {
                map.insert("description".into(), Value::String(doc.trim().to_owned()));
            }
            s
        }
        Type::Shared(name) if !inline => json!({"$ref": format!("#/components/schemas/{name}")}),
        Type::Shared(_) => json!({}),
    }
}

fn enum_names(values: &EnumValues) -> Value {
    match values {
        EnumValues::Strings(v) => v.iter().map(|v| json!(v.name)).collect(),
        EnumValues::Integers(v) => v.iter().map(|v| json!(v.name)).collect(),
    }
}

fn regex_escape(text: &str) -> String {
    text.chars().fold(String::new(), |mut s, c| {
        if "\\^$.|?*+()[]{}".contains(c) {
            s.push('\\');
        }
        s.push(c);
        s
    })
}
