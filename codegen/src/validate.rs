//! Semantic checks on parsed specs: everything `serde_yaml` cannot see.
//!
//! Each problem becomes a [`SpecError`] with the file, the position of the
//! offending node and the dotted field path; checking goes on after a problem
//! so that one run reports every mistake in a file.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use crate::error::SpecError;
use crate::load::{Endpoint, SpecSet};
use crate::locate::Locator;
use crate::model::{ErrorSpec, FieldSpec};
use crate::names::{
    camel, error_role_variant, is_camel_ident, parse_rate_limit, snake, split_path, BUILTIN_TYPES,
    ERROR_ROLES, GROUP_TYPES, INTEGER_TYPES, RESERVED_TYPE_NAMES,
};

struct Checker<'a> {
    set: &'a SpecSet,
    file: &'a Path,
    loc: Locator<'a>,
    errors: &'a mut Vec<SpecError>,
    /// Generated type names in the current module, to catch clashes.
    type_names: HashSet<String>,
}

impl Checker<'_> {
    fn err(&mut self, pos: (usize, usize), field: impl Into<Option<String>>, message: String) {
        self.errors.push(SpecError {
            file: self.file.to_owned(),
            line: pos.0,
            column: pos.1,
            field: field.into(),
            message,
        });
    }

    fn claim_type_name(&mut self, name: String, pos: (usize, usize), field: &str) {
        if RESERVED_TYPE_NAMES.contains(&name.as_str()) || !self.type_names.insert(name.clone()) {
            self.err(
                pos,
                field.to_owned(),
                format!("generated type name `{name}` is already used in this module; set `rust_name`"),
            );
        }
    }

    fn fields(&mut self, fields: &[FieldSpec], parent: &str) {
        let mut wire = HashSet::new();
        let mut rust = HashMap::new();
        for f in fields {
            let Some(name) = f.name.as_deref() else {
                let pos = self.loc.first("type", &f.ty);
                self.err(pos, parent.to_owned(), "a field needs a `name`".into());
                continue;
            };
            let pos = self.loc.next("name", name);
            let path = join(parent, name);
            if !wire.insert(name.to_owned()) {
                self.err(pos, path.clone(), "duplicate field".into());
                continue;
            }
            if let Some(other) = rust.insert(snake(name), name.to_owned()) {
                self.err(
                    pos,
                    path.clone(),
                    format!("Rust name `{}` collides with field `{other}`", snake(name)),
                );
            }
            self.node(f, &path, pos, false);
        }
    }

    /// Checks a field or element type; `pos` is where its `name` sits.
    fn node(&mut self, f: &FieldSpec, path: &str, pos: (usize, usize), is_item: bool) {
        self.node_named(f, path, pos, is_item, false);
    }

    /// Like `node`; `named` says the generated type's name is already claimed.
    fn node_named(&mut self, f: &FieldSpec, path: &str, pos: (usize, usize), is_item: bool, named: bool) {
        let ty = f.ty.as_str();
        let builtin = BUILTIN_TYPES.contains(&ty);
        if !builtin && !self.set.types.contains_key(ty) {
            let pos = self.loc.first("type", ty);
            self.err(
                pos,
                path.to_owned(),
                format!("unknown type `{ty}` (not built in, not in shared/types.yaml)"),
            );
            return;
        }
        if is_item && (f.name.is_some() || f.required) {
            self.err(
                pos,
                path.to_owned(),
                "`items` describes a type: it takes no `name` or `required`".into(),
            );
        }
        let allowed = |key: &str| match key {
            "fields" => ty == "object",
            "items" => ty == "array" || ty == "map",
            "values" => ty == "enum",
            "tag" | "content" | "variants" => ty == "union",
            "rust_name" => matches!(ty, "object" | "enum" | "union"),
            "min" | "max" => INTEGER_TYPES.contains(&ty),
            "min_len" | "max_len" => matches!(ty, "string" | "array" | "map"),
            _ => true,
        };
        let present = [
            ("fields", f.fields.is_some()),
            ("items", f.items.is_some()),
            ("values", f.values.is_some()),
            ("tag", f.tag.is_some()),
            ("content", f.content.is_some()),
            ("variants", f.variants.is_some()),
            ("rust_name", f.rust_name.is_some()),
            ("min", f.min.is_some()),
            ("max", f.max.is_some()),
            ("min_len", f.min_len.is_some()),
            ("max_len", f.max_len.is_some()),
        ];
        for (key, is_set) in present {
            if is_set && !allowed(key) {
                self.err(pos, path.to_owned(), format!("`{key}` does not apply to type `{ty}`"));
            }
        }
        if let (Some(min), Some(max)) = (f.min, f.max) {
            if min > max {
                self.err(pos, path.to_owned(), format!("min {min} is greater than max {max}"));
            }
        }
        if let (Some(min), Some(max)) = (f.min_len, f.max_len) {
            if min > max {
                self.err(pos, path.to_owned(), format!("min_len {min} is greater than max_len {max}"));
            }
        }
        if let Some(name) = &f.rust_name {
            if !is_camel_ident(name) {
                self.err(
                    pos,
                    path.to_owned(),
                    format!("rust_name `{name}` is not an UpperCamelCase identifier"),
                );
            }
        }
        let own_name = || f.rust_name.clone().unwrap_or_else(|| camel(last_segment(path)));
        match ty {
            "object" => {
                if !named {
                    self.claim_type_name(own_name(), pos, path);
                }
                match &f.fields {
                    Some(fields) => self.fields(fields, path),
                    None => self.err(pos, path.to_owned(), "type `object` needs `fields`".into()),
                }
            }
            "array" | "map" => match &f.items {
                Some(items) => self.node(items, &format!("{path}[]"), pos, true),
                None => self.err(pos, path.to_owned(), format!("type `{ty}` needs `items`")),
            },
            "enum" => {
                if !named {
                    self.claim_type_name(own_name(), pos, path);
                }
                self.enum_values(f, path, pos);
            }
            "union" => {
                if !named {
                    self.claim_type_name(own_name(), pos, path);
                }
                self.union(f, path, pos);
            }
            _ => {}
        }
    }

    fn enum_values(&mut self, f: &FieldSpec, path: &str, pos: (usize, usize)) {
        let Some(values) = &f.values else {
            self.err(pos, path.to_owned(), "type `enum` needs `values`".into());
            return;
        };
        if values.is_empty() {
            self.err(pos, path.to_owned(), "`values` is empty".into());
        }
        let (mut names, mut seen, mut kinds) = (HashSet::new(), HashSet::new(), BTreeSet::new());
        for v in values {
            let kind = match &v.value {
                serde_yaml::Value::String(_) => "string",
                serde_yaml::Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                _ => "other",
            };
            kinds.insert(kind);
            let vpos = self.loc.next("name", &v.name);
            if kind == "other" {
                self.err(
                    vpos,
                    path.to_owned(),
                    format!("value of `{}` must be a string or an integer", v.name),
                );
            }
            if !is_camel_ident(&v.name) || v.name == "Unknown" {
                self.err(vpos, path.to_owned(), format!("`{}` is not a usable variant name", v.name));
            }
            if !names.insert(v.name.clone()) {
                self.err(vpos, path.to_owned(), format!("duplicate enum name `{}`", v.name));
            }
            if !seen.insert(format!("{:?}", v.value)) {
                self.err(vpos, path.to_owned(), format!("duplicate enum value of `{}`", v.name));
            }
        }
        if kinds.len() > 1 {
            self.err(pos, path.to_owned(), "enum values mix strings and integers".into());
        }
    }

    fn union(&mut self, f: &FieldSpec, path: &str, pos: (usize, usize)) {
        if f.tag.is_none() || f.content.is_none() {
            self.err(pos, path.to_owned(), "type `union` needs `tag` and `content`".into());
        }
        let Some(variants) = &f.variants else {
            self.err(pos, path.to_owned(), "type `union` needs `variants`".into());
            return;
        };
        let (mut tags, mut names) = (HashSet::new(), HashSet::new());
        for v in variants {
            let vpos = self.loc.next("tag", &v.tag);
            let name = v.name.clone().unwrap_or_else(|| camel(&v.tag));
            if !tags.insert(v.tag.clone()) {
                self.err(vpos, path.to_owned(), format!("duplicate union tag `{}`", v.tag));
            }
            if !is_camel_ident(&name) || name == "Unknown" || !names.insert(name.clone()) {
                self.err(vpos, path.to_owned(), format!("variant name `{name}` is unusable or repeated"));
            }
            if !BUILTIN_TYPES.contains(&v.ty.as_str()) && !self.set.types.contains_key(&v.ty) {
                self.err(vpos, path.to_owned(), format!("unknown type `{}`", v.ty));
            } else if matches!(v.ty.as_str(), "object" | "array" | "map" | "enum" | "union") {
                self.err(
                    vpos,
                    path.to_owned(),
                    "a union variant's type must be a scalar or a shared type".into(),
                );
            }
        }
    }

    fn errors_table(&mut self, errors: &[ErrorSpec], context: &str) {
        let (mut codes, mut names) = (HashSet::new(), HashSet::new());
        for e in errors {
            let pos = self.loc.next("code", &e.code.to_string());
            let field = format!("{context}.{}", e.code);
            if !codes.insert(e.code) {
                self.err(pos, field.clone(), "duplicate error code".into());
            }
            if e.code == 0 {
                self.err(pos, field.clone(), "0 means success, not an error".into());
            }
            if let Some(role) = e.role.as_deref().filter(|r| error_role_variant(r).is_none()) {
                self.err(
                    pos,
                    format!("{context}.{}.role", e.code),
                    format!("unknown error role `{role}` (known: {})", known_roles()),
                );
            }
            let name = e.name.clone().unwrap_or_else(|| format!("Code{}", e.code));
            if !is_camel_ident(&name) || name == "Unknown" {
                self.err(pos, field.clone(), format!("`{name}` is not a usable variant name"));
            } else if !names.insert(name.clone()) {
                self.err(pos, field, format!("duplicate error name `{name}`"));
            }
        }
    }
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

fn last_segment(path: &str) -> &str {
    let path = path.trim_end_matches("[]");
    path.rsplit('.').next().unwrap_or(path)
}

/// Checks `shared/types.yaml`.
pub(crate) fn shared_types(
    set: &SpecSet,
    file: &Path,
    text: &str,
    names: &[String],
    type_names: &mut HashSet<String>,
    errors: &mut Vec<SpecError>,
) {
    // All `types*.yaml` files render into one module, so generated names are
    // checked across files (`type_names` starts with every shared type's key).
    let mut c =
        Checker { set, file, loc: Locator::new(text), errors, type_names: std::mem::take(type_names) };
    for (name, ty) in names.iter().filter_map(|n| set.types.get_key_value(n)) {
        let pos = c.loc.key(name);
        if !is_camel_ident(name) || RESERVED_TYPE_NAMES.contains(&name.as_str()) {
            c.err(pos, name.clone(), "shared type names must be UpperCamelCase and not reserved".into());
        }
        if ty.rust_name.is_some() {
            c.err(pos, name.clone(), "a shared type is named by its key; drop `rust_name`".into());
        }
        // The top-level type takes the key as its name; nested types are named
        // after their fields and share one module, so they must not clash.
        c.node_named(ty, name, pos, true, true);
    }
    *type_names = c.type_names;
}

/// Checks one endpoint spec.
pub(crate) fn endpoint(set: &SpecSet, ep: &Endpoint, text: &str, errors: &mut Vec<SpecError>) {
    let mut c = Checker { set, file: &ep.file, loc: Locator::new(text), errors, type_names: HashSet::new() };
    let s = &ep.spec;
    match split_path(&s.path) {
        None => {
            let pos = c.loc.key("path");
            c.err(pos, "path".to_owned(), format!("`{}` is not of the form v4/<service>/<command>", s.path));
        }
        Some((service, command)) if service != ep.service || command != ep.command => {
            let pos = c.loc.key("path");
            c.err(pos, "path".to_owned(), format!("`{}` must live in `{service}/{command}.yaml`", s.path));
        }
        Some(_) => {}
    }
    if parse_rate_limit(&s.rate_limit).is_none() {
        let pos = c.loc.key("rate_limit");
        c.err(pos, "rate_limit".to_owned(), format!("`{}` is not N/s, N/min or N/day", s.rate_limit));
    }
    for (key, value) in [("title", &s.title), ("description", &s.description)] {
        if value.trim().is_empty() {
            let pos = c.loc.key(key);
            c.err(pos, key.to_owned(), "must not be empty".into());
        }
    }
    for group_type in s.group_types.keys() {
        if !GROUP_TYPES.contains(&group_type.as_str()) {
            let pos = c.loc.key(group_type);
            c.err(
                pos,
                format!("group_types.{group_type}"),
                format!("unknown group type (known: {})", GROUP_TYPES.join(", ")),
            );
        }
    }
    for table in &s.shared_errors {
        if !set.error_tables.contains_key(table) {
            let pos = c.loc.key("shared_errors");
            c.err(
                pos,
                "shared_errors".to_owned(),
                format!("unknown shared error table `{table}` (not in shared/errors.yaml)"),
            );
        }
    }
    c.errors_table(&s.errors, "errors");
    let mut wire_names = HashSet::new();
    collect_names(&s.request, &mut wire_names);
    for e in &s.errors {
        for f in e.fields.iter().filter(|f| *f != "*" && !wire_names.contains(f.as_str())) {
            let pos = c.loc.first("code", &e.code.to_string());
            c.err(pos, format!("errors.{}.fields", e.code), format!("`{f}` is not a request field"));
        }
    }
    c.fields(&s.request, "request");
    c.fields(&s.response, "response");
    for (i, sample) in s.samples.iter().enumerate() {
        if !sample.request.is_mapping() || !sample.response.is_mapping() {
            let pos = c.loc.next("name", &sample.name);
            c.err(pos, format!("samples[{i}]"), "request and response must be JSON objects".into());
        }
    }
    if s.samples.is_empty() {
        let pos = c.loc.key("path");
        c.err(pos, "samples".to_owned(), "at least one documented sample is needed".into());
    }
}

fn collect_names<'a>(fields: &'a [FieldSpec], out: &mut HashSet<&'a str>) {
    for f in fields {
        if let Some(n) = &f.name {
            out.insert(n);
        }
        collect_names(f.fields.as_deref().unwrap_or_default(), out);
        if let Some(items) = &f.items {
            collect_names(items.fields.as_deref().unwrap_or_default(), out);
        }
    }
}

/// Checks that concern several files at once.
pub(crate) fn across_endpoints(set: &SpecSet, errors: &mut Vec<SpecError>) {
    let mut modules: HashMap<(String, String), &Endpoint> = HashMap::new();
    for ep in &set.endpoints {
        let key = (snake(&ep.service), snake(&ep.command));
        if let Some(other) = modules.insert(key, ep) {
            errors.push(SpecError {
                file: ep.file.clone(),
                line: 1,
                column: 1,
                field: Some("path".into()),
                message: format!("its Rust module name collides with {}", other.file.display()),
            });
        }
    }
    for (name, table) in &set.error_tables {
        if !is_camel_ident(&camel(name)) {
            errors.push(SpecError {
                file: "shared/errors.yaml".into(),
                line: 0,
                column: 0,
                field: Some(name.clone()),
                message: "table names must be snake_case words".into(),
            });
        }
        for e in
            table.codes.iter().filter(|e| e.role.as_deref().is_some_and(|r| error_role_variant(r).is_none()))
        {
            errors.push(SpecError {
                file: "shared/errors.yaml".into(),
                line: 0,
                column: 0,
                field: Some(format!("{name}.{}.role", e.code)),
                message: format!("unknown error role (known: {})", known_roles()),
            });
        }
    }
}

fn known_roles() -> String {
    ERROR_ROLES.iter().map(|(r, _)| *r).collect::<Vec<_>>().join(", ")
}
