//! `cargo xtask codegen [--check]`: writes (or compares) everything generated.

use std::fs;
use std::path::{Path, PathBuf};

use super::{files, format, manifest_with_features};
use crate::load::load_dir;
use crate::render::{render_regions, render_with, RenderOptions};

/// Where `cargo xtask codegen` puts what it generates.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Directory of the API crate's generated modules (`api/src/generated`).
    pub api_dir: PathBuf,
    /// The API crate's manifest, which gets one feature per service.
    pub api_manifest: PathBuf,
    /// The facade crate's manifest (`tim-runtime`), whose service features
    /// forward to the API crate's.
    pub facade_manifest: PathBuf,
    /// The core crate's region file (`core/src/region.rs`).
    pub region_file: PathBuf,
}

/// Outcome of [`sync`].
#[derive(Debug, Default)]
pub struct SyncReport {
    /// Files whose contents differ (or are missing) compared with the specs.
    pub stale: Vec<String>,
    /// Files under the output directory (paths relative to it) that no spec
    /// produces any more.
    pub extra: Vec<String>,
}

/// Renders `specs_dir` the way the shipped API is rendered
/// ([`RenderOptions::SHIPPED`]) and writes the files, feature lists and
/// region enum where `layout` says, removing generated files no spec
/// produces any more; with `check` only reports what is stale. Errors are
/// spec errors or I/O problems.
pub fn sync(specs_dir: &Path, layout: &Layout, check: bool) -> Result<SyncReport, String> {
    let set = load_dir(specs_dir, specs_dir).map_err(|e| e.to_string())?;
    let rendered = render_with(&set, RenderOptions::SHIPPED);
    let files = files(&rendered)?;
    let mut report = SyncReport::default();
    let write = |path: &Path, contents: &str, report: &mut SyncReport| -> Result<(), String> {
        if fs::read_to_string(path).ok().as_deref() == Some(contents) {
            return Ok(());
        }
        report.stale.push(path.display().to_string());
        if !check {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    };
    for (manifest, forward) in [(&layout.api_manifest, None), (&layout.facade_manifest, Some("tim-api"))] {
        let old = fs::read_to_string(manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
        let new = manifest_with_features(&old, &rendered, forward)
            .map_err(|e| format!("{}: {e}", manifest.display()))?;
        write(manifest, &new, &mut report)?;
    }
    if let Some(regions) = render_regions(&set) {
        write(&layout.region_file, &format(regions)?, &mut report)?;
    }
    for f in &files {
        write(&layout.api_dir.join(&f.name), &f.contents, &mut report)?;
    }
    let mut existing = Vec::new();
    rust_files(&layout.api_dir, "", &mut existing);
    for name in existing {
        if !files.iter().any(|f| f.name == name) {
            if !check {
                fs::remove_file(layout.api_dir.join(&name)).map_err(|e| format!("{name}: {e}"))?;
            }
            report.extra.push(name);
        }
    }
    if !check {
        remove_empty_dirs(&layout.api_dir);
    }
    Ok(report)
}

/// `.rs` files under `dir`, as `/`-separated paths prefixed with `prefix`.
fn rust_files(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, &format!("{prefix}{name}/"), out);
        } else if name.ends_with(".rs") {
            out.push(format!("{prefix}{name}"));
        }
    }
    out.sort();
}

/// Removes directories under `dir` left empty by removed files.
fn remove_empty_dirs(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            remove_empty_dirs(&path);
            // Fails, as intended, when something is left inside.
            let _ = fs::remove_dir(&path);
        }
    }
}
