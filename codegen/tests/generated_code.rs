//! The checked-in API matches the specs, and both front ends agree.

use std::path::{Path, PathBuf};

use tim_codegen::output::{files, inline_from_files, GeneratedFile};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn rendered() -> (tim_codegen::Rendered, Vec<GeneratedFile>) {
    let specs = root().join("specs");
    let set = tim_codegen::load_dir(&specs, Path::new("specs")).unwrap_or_else(|e| panic!("{e}"));
    let rendered = tim_codegen::render_with(&set, tim_codegen::RenderOptions { service_features: true });
    let files = files(&rendered).unwrap();
    (rendered, files)
}

/// Source-generation test in the rust-analyzer style: regenerate in memory and
/// compare with what is checked in.
#[test]
fn checked_in_api_is_fresh() {
    let (_, files) = rendered();
    let dir = root().join("runtime/src/api");
    let mut stale = Vec::new();
    for f in &files {
        let on_disk = std::fs::read_to_string(dir.join(&f.name)).unwrap_or_default();
        if on_disk != f.contents {
            stale.push(f.name.clone());
        }
    }
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !files.iter().any(|f| f.name == name) {
            stale.push(format!("{name} (no spec produces it)"));
        }
    }
    let (rendered, _) = rendered();
    let manifest = std::fs::read_to_string(root().join("runtime/Cargo.toml")).unwrap();
    if tim_codegen::output::manifest_with_features(&manifest, &rendered).unwrap() != manifest {
        stale.push("runtime/Cargo.toml [features]".into());
    }
    assert!(stale.is_empty(), "generated code is stale: {stale:?}; run `cargo xtask codegen`");
}

#[test]
fn every_generated_file_has_the_header() {
    let (_, files) = rendered();
    for f in files {
        assert!(f.contents.starts_with("// @generated"), "{} lacks the @generated header", f.name);
    }
}

/// The proc-macro inlines `Rendered::inline()`; the xtask writes formatted files.
/// Parsing the files back must give the very same tokens.
#[test]
fn macro_and_file_front_ends_give_identical_tokens() {
    let (rendered, files) = rendered();
    let from_files = inline_from_files(&files).unwrap();
    let macro_tokens = rendered.inline();
    // Normalise both through one printer: formatting (trailing commas, raw vs
    // plain doc strings) is the only thing allowed to differ.
    let a = prettyplease::unparse(&syn::parse2(from_files).unwrap());
    let b = prettyplease::unparse(&syn::parse2(macro_tokens).unwrap());
    if a != b {
        let line = a.lines().zip(b.lines()).position(|(x, y)| x != y).unwrap_or(0);
        panic!("front ends differ at line {line}: {:?} vs {:?}", a.lines().nth(line), b.lines().nth(line));
    }
}

#[test]
fn macro_expansion_tracks_every_spec_file() {
    let specs = root().join("specs");
    let tokens = tim_codegen::output::macro_expansion(&specs, Path::new("specs")).unwrap().to_string();
    assert!(tokens.contains("include_bytes"));
    assert!(tokens.contains("admin_set_msg_read.yaml"));
}
