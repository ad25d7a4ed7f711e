//! Reads a spec directory (`shared/*.yaml` and `<service>/<command>.yaml`),
//! checks it and resolves it into the typed model ([`crate::model`]).
//!
//! Every problem becomes a [`SpecError`] with the file, the position of the
//! offending node and its dotted field path; all of them are reported at once.

mod batch;
mod callback;
mod check;
mod endpoint;
mod errors;
mod locate;
mod pagination;
mod parse;
mod types;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use callback::RawCallback;
use check::Checker;
use endpoint::RawEndpoint;
use parse::{file_error, parse};

use crate::error::{SpecError, SpecErrors};
use crate::model::spec::{ErrorTableSpec, FieldSpec, RegionSpec};
use crate::model::{Callback, Endpoint, Region, SharedType, SpecSet};
use crate::names::{is_camel_ident, snake, RESERVED_TYPE_NAMES};

/// Loads every spec under `dir`; errors name files relative to `display_root`
/// joined with the path inside `dir` (pass `dir` itself to show it as given).
pub fn load_dir(dir: &Path, display_root: &Path) -> Result<SpecSet, SpecErrors> {
    let mut errors = Vec::new();
    let shared = dir.join("shared");
    let show = |p: &Path| display_root.join(p.strip_prefix(dir).unwrap_or(p));
    let mut files = Vec::new();

    let mut read_shared = |name: &str| -> Option<(PathBuf, String)> {
        let path = shared.join(name);
        let text = fs::read_to_string(&path).ok()?;
        files.push(path.clone());
        Some((show(&path), text))
    };
    let error_tables: BTreeMap<String, ErrorTableSpec> = read_shared("errors.yaml")
        .and_then(|(f, t)| parse(&f, &t).map_err(|e| errors.push(e)).ok())
        .unwrap_or_default();
    // Shared types may be split over `shared/types*.yaml` (one file per area).
    let mut type_files = Vec::new();
    let mut raw_types: BTreeMap<String, FieldSpec> = BTreeMap::new();
    let mut type_file_names: Vec<String> = fs::read_dir(&shared)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("types") && n.ends_with(".yaml"))
        .collect();
    type_file_names.sort();
    for name in type_file_names {
        let Some((file, text)) = read_shared(&name) else { continue };
        let Ok(parsed) = parse::<BTreeMap<String, FieldSpec>>(&file, &text).map_err(|e| errors.push(e))
        else {
            continue;
        };
        let names: Vec<String> = parsed.keys().cloned().collect();
        for (k, v) in parsed {
            if raw_types.insert(k.clone(), v).is_some() {
                errors.push(file_error(&file, format!("shared type `{k}` is defined in more than one file")));
            }
        }
        type_files.push((file, text, names));
    }
    let regions: Vec<RegionSpec> = read_shared("regions.yaml")
        .and_then(|(f, t)| parse(&f, &t).map_err(|e| errors.push(e)).ok())
        .unwrap_or_default();

    let endpoint_paths = endpoint_files(dir).unwrap_or_else(|e| {
        errors.push(file_error(dir, format!("cannot read spec directory: {e}")));
        Vec::new()
    });
    let raw_endpoints: Vec<RawEndpoint> = read_specs(&endpoint_paths, &show, &mut files, &mut errors)
        .into_iter()
        .map(|(path, file, text, spec)| {
            let (service, command) = dir_names(&path);
            RawEndpoint { file, service, command, text, spec }
        })
        .collect();
    let callback_paths = callback_files(&dir.join("callbacks"));
    let raw_callbacks: Vec<RawCallback> = read_specs(&callback_paths, &show, &mut files, &mut errors)
        .into_iter()
        .map(|(path, file, text, spec)| {
            let (area, name) = dir_names(&path);
            RawCallback { file, area, name, text, spec }
        })
        .collect();

    let shared_names: BTreeSet<String> = raw_types.keys().cloned().collect();
    let table_names: BTreeSet<String> = error_tables.keys().cloned().collect();
    // All `types*.yaml` files render into one module, so generated names are
    // checked across files; every shared type's key is taken from the start.
    let mut type_names = shared_names.iter().cloned().collect();
    let mut types = BTreeMap::new();
    for (file, text, names) in &type_files {
        let mut c = Checker::new(file, text, &mut errors, &shared_names);
        c.type_names = std::mem::take(&mut type_names);
        for (name, ty) in names.iter().filter_map(|n| raw_types.get_key_value(n)) {
            types.insert(name.clone(), c.shared_type(name, ty));
        }
        type_names = c.type_names;
    }
    let mut endpoints = Vec::new();
    for raw in &raw_endpoints {
        let mut c = Checker::new(&raw.file, &raw.text, &mut errors, &shared_names);
        c.raw_shared = Some(&raw_types);
        let mut endpoint = c.endpoint(raw, &table_names);
        if let Some(spec) = &raw.spec.pagination {
            endpoint.pagination = Some(c.pagination(spec, &endpoint, &types));
        }
        if let Some(spec) = &raw.spec.batch {
            endpoint.batch = Some(c.batch(spec, &endpoint, &types));
        }
        endpoints.push(endpoint);
    }
    module_collisions(&endpoints, &mut errors);
    let mut callbacks = Vec::new();
    for raw in &raw_callbacks {
        let mut c = Checker::new(&raw.file, &raw.text, &mut errors, &shared_names);
        callbacks.push(c.callback(raw));
    }
    callback_collisions(&callbacks, &mut errors);
    let error_tables = errors::shared_tables(&error_tables, &mut errors);
    if !errors.is_empty() {
        return Err(SpecErrors(errors));
    }
    endpoints.sort_by(|a, b| a.path.cmp(&b.path));
    callbacks.sort_by(|a, b| a.command.cmp(&b.command));
    let regions = regions.into_iter().map(|r| Region { name: r.name, id: r.id, host: r.host }).collect();
    Ok(SpecSet { endpoints, callbacks, error_tables, types, regions, files })
}

impl Checker<'_> {
    /// One named type of `shared/types*.yaml`.
    fn shared_type(&mut self, name: &str, ty: &FieldSpec) -> SharedType {
        let pos = self.loc.key(name);
        if !is_camel_ident(name) || RESERVED_TYPE_NAMES.contains(&name) {
            self.err(
                pos,
                name.to_owned(),
                "shared type names must be UpperCamelCase and not reserved".into(),
            );
        }
        if ty.rust_name.is_some() {
            self.err(pos, name.to_owned(), "a shared type is named by its key; drop `rust_name`".into());
        }
        // The top-level type takes the key as its name; nested types are named
        // after their fields and share one module, so they must not clash.
        let resolved = self.ty(ty, name, pos, true, Some(name));
        SharedType { name: name.to_owned(), doc: ty.doc.clone(), ty: resolved }
    }
}

/// Reads and parses each spec file: `(path, path as shown, text, spec)` for
/// the ones that parse; problems go to `errors`, read files to `files`.
fn read_specs<T: serde::de::DeserializeOwned>(
    paths: &[PathBuf],
    show: &dyn Fn(&Path) -> PathBuf,
    files: &mut Vec<PathBuf>,
    errors: &mut Vec<SpecError>,
) -> Vec<(PathBuf, PathBuf, String, T)> {
    let mut out = Vec::new();
    for path in paths {
        let shown = show(path);
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                errors.push(file_error(&shown, format!("cannot read: {e}")));
                continue;
            }
        };
        files.push(path.clone());
        match parse::<T>(&shown, &text) {
            Ok(spec) => out.push((path.clone(), shown, text, spec)),
            Err(e) => errors.push(e),
        }
    }
    out
}

/// Two endpoints whose Rust module paths would be the same.
fn module_collisions(endpoints: &[Endpoint], errors: &mut Vec<SpecError>) {
    let mut modules: HashMap<(String, String), &Endpoint> = HashMap::new();
    for ep in endpoints {
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
}

/// Two callbacks whose Rust module paths or enum variants would be the same.
fn callback_collisions(callbacks: &[Callback], errors: &mut Vec<SpecError>) {
    let mut seen: HashMap<String, &Callback> = HashMap::new();
    for cb in callbacks {
        let keys = [
            format!("mod {}::{}", cb.area_module(), cb.module_name()),
            format!("variant {}", cb.variant_name()),
        ];
        for key in keys {
            if let Some(other) = seen.insert(key.clone(), cb) {
                errors.push(SpecError {
                    file: cb.file.clone(),
                    line: 1,
                    column: 1,
                    field: Some("command".into()),
                    message: format!("its Rust {key} collides with {}", other.file.display()),
                });
            }
        }
    }
}

/// `<dir>/<Area>/<Name>.yaml` files, sorted; none when `dir` is absent.
fn callback_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for area in fs::read_dir(dir).into_iter().flatten().flatten() {
        for file in fs::read_dir(area.path()).into_iter().flatten().flatten() {
            let file = file.path();
            if file.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(file);
            }
        }
    }
    out.sort();
    out
}

/// `<dir>/<service>/<command>.yaml` files, sorted, skipping `shared/` and `callbacks/`.
fn endpoint_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.is_dir() || path.file_name().is_some_and(|n| n == "shared" || n == "callbacks") {
            continue;
        }
        for file in fs::read_dir(&path)? {
            let file = file?.path();
            if file.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(file);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn dir_names(path: &Path) -> (String, String) {
    let command = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let service = path
        .parent()
        .and_then(|p| p.file_name())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    (service, command)
}
