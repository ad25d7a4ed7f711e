//! Rustdoc text drawn from the spec: endpoint summaries, tables, field notes.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{Endpoint, ErrorCode, Field};

/// `#[doc = ...]` attributes, one per line of `text`.
pub(crate) fn attrs(text: &str) -> TokenStream {
    let lines = doc_lines(text);
    quote!(#( #[doc = #lines] )*)
}

/// Inner `#![doc = ...]` attributes, for module docs.
pub(crate) fn inner_attrs(text: &str) -> TokenStream {
    let lines = doc_lines(text);
    quote!(#( #![doc = #lines] )*)
}

/// Doc lines with square brackets escaped outside code blocks: spec text such
/// as "[Face]" is prose, not an intra-doc link.
fn doc_lines(text: &str) -> Vec<String> {
    let mut in_code = false;
    text.trim_end()
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            let l = if in_code { l.to_owned() } else { l.replace('[', "\\[").replace(']', "\\]") };
            format!(" {l}").trim_end().to_owned()
        })
        .collect()
}

/// Markdown table of error codes.
pub(crate) fn error_table(errors: &[ErrorCode]) -> String {
    let mut s = String::from("| Code | Variant | Meaning | Retryable |\n|---|---|---|---|\n");
    for e in errors {
        let retry = if e.retryable { "yes" } else { "no" };
        s.push_str(&format!("| {} | `{}` | {} | {retry} |\n", e.code, e.name, escape_cell(&e.meaning)));
    }
    s
}

fn escape_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The module doc of an endpoint: what it does, how to call it, its limits.
pub(crate) fn endpoint_module(s: &Endpoint, shared_tables: &[(String, String)]) -> String {
    let mut d = format!("{}\n\n{}\n\n", s.title, s.description.trim());
    if let Some(why) = &s.deprecated {
        d.push_str(&format!("**Deprecated:** {why}\n\n"));
    }
    if let Some(edition) = &s.edition {
        d.push_str(&format!("**Edition:** {}\n\n", edition.trim()));
    }
    if let Some(what) = &s.partial {
        d.push_str(&format!("**Partly documented:** {}\n\n", what.trim()));
    }
    d.push_str(&format!(
        "| | |\n|---|---|\n| Path | `POST /{}` |\n| Rate limit | at most {} |\n| Retry-safe | {} |\n\n",
        s.path,
        s.rate_limit,
        if s.idempotent { "yes (idempotent)" } else { "no" }
    ));
    if !s.group_types.is_empty() {
        d.push_str("# Group types\n\n| Group type | Supported | Notes |\n|---|---|---|\n");
        for g in &s.group_types {
            let yes = if g.supported { "yes" } else { "no" };
            let note = g.note.as_deref().map(escape_cell).unwrap_or_default();
            d.push_str(&format!("| {} | {yes} | {note} |\n", g.group_type.as_str()));
        }
        d.push('\n');
    }
    d.push_str("# Errors\n\n");
    if s.errors.is_empty() {
        d.push_str("The endpoint documents no codes of its own.\n\n");
    } else {
        d.push_str(&error_table(&s.errors));
        d.push('\n');
    }
    for (name, doc) in shared_tables {
        d.push_str(&format!("Shared table `{name}` also applies: {doc}\n\n"));
    }
    if let Some(sample) = s.samples.first() {
        let req = &sample.request_json_pretty;
        d.push_str(&format!("# Sample request\n\n{}:\n\n```json\n{req}\n```\n", sample.name));
    }
    if let Some(note) = &s.note {
        d.push_str(&format!("\n# Note\n\n{note}\n"));
    }
    d
}

/// Doc of one field: description, wire name, constraints, remarks.
pub(crate) fn field(f: &Field) -> String {
    let wire = &f.wire;
    let mut d = f.doc.clone().unwrap_or_else(|| format!("The `{wire}` field."));
    d = d.trim_end().to_owned();
    d.push_str(&format!("\n\nWire name: `{wire}`"));
    d.push_str(if f.required { " (required)." } else { " (optional)." });
    if !f.aliases.is_empty() {
        let names: Vec<String> = f.aliases.iter().map(|a| format!("`{a}`")).collect();
        d.push_str(&format!(
            " Also read under its older name {}; sent under the current one.",
            names.join(", ")
        ));
    }
    let mut limits = Vec::new();
    let (range, len) = (f.ty.value_range().unwrap_or_default(), f.ty.length_bounds().unwrap_or_default());
    if let Some(v) = range.min {
        limits.push(format!("at least {v}"));
    }
    if let Some(v) = range.max {
        limits.push(format!("at most {v}"));
    }
    if let Some(v) = len.min {
        limits.push(format!("length at least {v}"));
    }
    if let Some(v) = len.max {
        limits.push(format!("length at most {v}"));
    }
    if !limits.is_empty() {
        d.push_str(&format!(" Constraints: {}.", limits.join(", ")));
    }
    if let Some(why) = &f.deprecated {
        d.push_str(&format!("\n\n**Deprecated:** {why}"));
    }
    if let Some(note) = &f.note {
        d.push_str(&format!("\n\nNote: {note}"));
    }
    d
}
