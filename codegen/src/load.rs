//! Reads a spec directory: `shared/*.yaml` and `<service>/<command>.yaml`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{SpecError, SpecErrors};
use crate::model::{EndpointSpec, ErrorTableSpec, FieldSpec, RegionSpec};
use crate::validate;

/// A loaded and validated set of specs.
#[derive(Debug, Clone)]
pub struct SpecSet {
    /// Endpoints, sorted by path.
    pub endpoints: Vec<Endpoint>,
    /// Shared error tables by name (`shared/errors.yaml`).
    pub error_tables: BTreeMap<String, ErrorTableSpec>,
    /// Shared types by name (`shared/types.yaml`).
    pub types: BTreeMap<String, FieldSpec>,
    /// Regions (`shared/regions.yaml`), empty when the file is absent.
    pub regions: Vec<RegionSpec>,
    /// Every file read, for build-script style change tracking.
    pub files: Vec<PathBuf>,
}

/// One endpoint spec with the names derived from its path.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// File it came from (as displayed in errors).
    pub file: PathBuf,
    /// Service segment of the path (`openim`).
    pub service: String,
    /// Command segment of the path (`admin_set_msg_read`).
    pub command: String,
    /// The spec itself.
    pub spec: EndpointSpec,
}

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
    let mut types: BTreeMap<String, FieldSpec> = BTreeMap::new();
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
            if types.insert(k.clone(), v).is_some() {
                errors.push(file_error(&file, format!("shared type `{k}` is defined in more than one file")));
            }
        }
        type_files.push((file, text, names));
    }
    let regions: Vec<RegionSpec> = read_shared("regions.yaml")
        .and_then(|(f, t)| parse(&f, &t).map_err(|e| errors.push(e)).ok())
        .unwrap_or_default();

    let mut endpoints = Vec::new();
    let mut sources = Vec::new();
    match endpoint_files(dir) {
        Ok(paths) => {
            for path in paths {
                let shown = show(&path);
                let text = match fs::read_to_string(&path) {
                    Ok(t) => t,
                    Err(e) => {
                        errors.push(file_error(&shown, format!("cannot read: {e}")));
                        continue;
                    }
                };
                files.push(path.clone());
                match parse::<EndpointSpec>(&shown, &text) {
                    Ok(spec) => {
                        let (service, command) = dir_names(&path);
                        endpoints.push(Endpoint { file: shown, service, command, spec });
                        sources.push(text);
                    }
                    Err(e) => errors.push(e),
                }
            }
        }
        Err(e) => errors.push(file_error(dir, format!("cannot read spec directory: {e}"))),
    }

    let set = SpecSet { endpoints, error_tables, types, regions, files };
    let mut type_names = set.types.keys().cloned().collect();
    for (file, text, names) in &type_files {
        validate::shared_types(&set, file, text, names, &mut type_names, &mut errors);
    }
    for (ep, text) in set.endpoints.iter().zip(&sources) {
        validate::endpoint(&set, ep, text, &mut errors);
    }
    validate::across_endpoints(&set, &mut errors);
    if !errors.is_empty() {
        return Err(SpecErrors(errors));
    }
    let mut set = set;
    set.endpoints.sort_by(|a, b| a.spec.path.cmp(&b.spec.path));
    Ok(set)
}

fn parse<T: serde::de::DeserializeOwned>(file: &Path, text: &str) -> Result<T, SpecError> {
    serde_yaml::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        // serde_yaml's message starts with the dotted path of the node when it
        // has one ("request[0]: missing field `type` at line 3 column 5").
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
        let (field, message) = match msg.split_once(": ") {
            Some((path, rest)) if !path.contains(' ') => (Some(path.to_owned()), rest.to_owned()),
            _ => (None, msg),
        };
        SpecError { file: file.to_owned(), line, column, field, message }
    })
}

/// `<dir>/<service>/<command>.yaml` files, sorted, skipping `shared/`.
fn endpoint_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.is_dir() || path.file_name().is_some_and(|n| n == "shared") {
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

fn file_error(file: &Path, message: String) -> SpecError {
    SpecError { file: file.to_owned(), line: 0, column: 0, field: None, message }
}
