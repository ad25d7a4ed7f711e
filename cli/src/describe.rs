//! `tim describe PATH`: what an endpoint takes and answers, from its spec:
//! title, rate limits, idempotency, group-type table, the request and reply
//! fields as trees (type, required, bounds, enum values, meaning), the error
//! codes with their meanings and the sample request.

use std::fmt::Write;

use serde_json::{json, Value};
use tim_runtime::dynamic::EndpointEntry;
use tim_runtime::FieldInfo;

/// How deep nested fields are shown (a relayed message holds message
/// bodies that may hold relayed messages: the trees are cyclic).
const MAX_DEPTH: usize = 6;

/// The description as text.
pub(crate) fn text(entry: &EndpointEntry) -> String {
    let m = entry.meta;
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", m.path, m.title);
    if let Some(partial) = m.partial {
        let _ = writeln!(out, "partly documented: {partial}");
    }
    let _ = writeln!(out, "rate limit: {}", m.rate_limit);
    for r in m.rate_limits {
        let _ = writeln!(out, "also: {} ({})", r.limit, r.doc);
    }
    let retry = if m.idempotent {
        "yes (the client retries it on transient errors)"
    } else {
        "no (never resent: a second call could act twice)"
    };
    let _ = writeln!(out, "idempotent: {retry}");
    if let Some(p) = m.pagination {
        let _ = writeln!(out, "pages: {p} (tim call --paginate)");
    }
    if !m.group_types.is_empty() {
        let _ = writeln!(out, "\ngroup types:");
        for g in m.group_types {
            let how = match (g.supported, g.ignored) {
                (true, _) => "supported",
                (false, true) => "ignored (success, nothing changes)",
                (false, false) => "not supported",
            };
            let note = if g.note.is_empty() { String::new() } else { format!(" ({})", g.note) };
            let _ = writeln!(out, "  {:<12} {how}{note}", g.group_type);
        }
    }
    for l in m.limits {
        let _ = writeln!(out, "limit {}: at most {} ({})", l.name, l.max, l.doc);
    }
    let _ = writeln!(out, "\nrequest fields:");
    tree(&mut out, entry.request_fields, &mut Vec::new());
    let _ = writeln!(out, "\nreply fields (besides ActionStatus, ErrorCode, ErrorInfo):");
    tree(&mut out, entry.response_fields, &mut Vec::new());
    let _ = writeln!(out, "\nerror codes:");
    for e in m.errors.iter().chain(m.shared_errors.iter().flat_map(|t| t.iter())) {
        let retry = if e.retryable { " (retryable)" } else { "" };
        let _ = writeln!(out, "  {:<6} {}: {}{retry}", e.code, e.name, e.meaning);
    }
    if let Ok(sample) = serde_json::from_str::<Value>(m.sample_request) {
        let pretty = serde_json::to_string_pretty(&sample).unwrap_or_default();
        let _ = writeln!(out, "\nsample request:\n{pretty}");
    }
    out
}

/// Writes `fields`, indented below their `path` of enclosing field lists;
/// a list that encloses itself (a relayed message's body) is not repeated.
fn tree(out: &mut String, fields: &'static [FieldInfo], path: &mut Vec<*const FieldInfo>) {
    let depth = path.len() + 1;
    if fields.is_empty() && depth == 1 {
        let _ = writeln!(out, "  (none)");
    }
    path.push(fields.as_ptr());
    for f in fields {
        let indent = "  ".repeat(depth);
        let required = if f.required { ", required" } else { "" };
        let bounds = if f.constraints.is_empty() { String::new() } else { format!(", {}", f.constraints) };
        let values = if f.values.is_empty() || !f.fields.is_empty() {
            String::new()
        } else {
            format!(", one of {}", f.values.join(" | "))
        };
        let doc = if f.doc.is_empty() { String::new() } else { format!(": {}", f.doc) };
        let _ = writeln!(out, "{indent}{} ({}{required}{bounds}{values}){doc}", f.wire, f.ty);
        if f.fields.is_empty() {
            continue;
        }
        if path.contains(&f.fields.as_ptr()) || depth >= MAX_DEPTH {
            let _ = writeln!(out, "{indent}  … (the fields above)");
        } else {
            tree(out, f.fields, path);
        }
    }
    path.pop();
}

/// The description as JSON, for tools.
pub(crate) fn json(entry: &EndpointEntry) -> Value {
    let m = entry.meta;
    let errors: Vec<Value> = m
        .errors
        .iter()
        .chain(m.shared_errors.iter().flat_map(|t| t.iter()))
        .map(|e| json!({"code": e.code, "name": e.name, "meaning": e.meaning, "retryable": e.retryable}))
        .collect();
    let group_types: Vec<Value> = m
        .group_types
        .iter()
        .map(|g| json!({"group_type": g.group_type, "supported": g.supported, "ignored": g.ignored, "note": g.note}))
        .collect();
    let limits: Vec<Value> = m
        .limits
        .iter()
        .map(|l| json!({"name": l.name, "max": l.max, "code": l.code, "doc": l.doc}))
        .collect();
    json!({
        "path": m.path,
        "title": m.title,
        "partial": m.partial,
        "rate_limit": {"calls": m.rate_limit.calls, "per_secs": m.rate_limit.per.as_secs()},
        "idempotent": m.idempotent,
        "pagination": m.pagination.map(|p| json!({
            "items": p.items,
            "page_size": p.page_size,
            "max_page_size": p.max_page_size,
            "offset": p.offset,
            "total": p.total,
            "cursors": p.cursors.iter().map(|(req, reply)| json!({"request": req, "reply": reply})).collect::<Vec<_>>(),
            "before": p.before.map(|(req, item)| json!({"request": req, "item": item})),
            "after": p.after.map(|(req, item)| json!({"request": req, "item": item})),
            "done": p.done.map(|(field, value)| json!({"field": field, "value": value})),
        })),
        "rate_limits": m.rate_limits.iter().map(|r| json!({
            "calls": r.limit.calls, "per_secs": r.limit.per.as_secs(), "cost": r.cost, "per": r.per,
            "code": r.code, "main": r.main, "doc": r.doc,
        })).collect::<Vec<_>>(),
        "group_types": group_types,
        "limits": limits,
        "request": fields_json(entry.request_fields, &mut Vec::new()),
        "response": fields_json(entry.response_fields, &mut Vec::new()),
        "errors": errors,
        "sample_request": serde_json::from_str::<Value>(m.sample_request).unwrap_or(Value::Null),
    })
}

fn fields_json(fields: &'static [FieldInfo], path: &mut Vec<*const FieldInfo>) -> Vec<Value> {
    path.push(fields.as_ptr());
    let out = fields
        .iter()
        .map(|f| {
            let mut v = json!({"name": f.wire, "type": f.ty, "required": f.required, "doc": f.doc});
            if !f.constraints.is_empty() {
                v["constraints"] = json!(f.constraints);
            }
            if !f.values.is_empty() {
                v["values"] = json!(f.values);
            }
            if !f.fields.is_empty() {
                v["fields"] = if path.contains(&f.fields.as_ptr()) || path.len() >= MAX_DEPTH {
                    // A list that encloses itself: named, not repeated.
                    json!("recursive")
                } else {
                    Value::Array(fields_json(f.fields, path))
                };
            }
            v
        })
        .collect();
    path.pop();
    out
}
