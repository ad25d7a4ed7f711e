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
/// compare with what is checked in (API modules, region enum, feature lists).
#[test]
fn checked_in_api_is_fresh() {
    let root = root();
    let layout = tim_codegen::output::Layout {
        api_dir: root.join("api/src/generated"),
        api_manifest: root.join("api/Cargo.toml"),
        facade_manifest: root.join("runtime/Cargo.toml"),
        region_file: root.join("core/src/region.rs"),
    };
    let report = tim_codegen::output::sync(&root.join("specs"), &layout, true).unwrap();
    assert!(
        report.stale.is_empty() && report.extra.is_empty(),
        "generated code is stale: {:?}, not produced by any spec: {:?}; run `cargo xtask codegen`",
        report.stale,
        report.extra
    );
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
