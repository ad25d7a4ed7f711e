//! Proc-macro front end of `tim-codegen`: `generate!("path/to/specs")` expands
//! to the same modules `cargo xtask codegen` writes for the shipped API,
//! inline and without feature gates: every service, both serde directions
//! and the `ENDPOINTS` table are always there.
//!
//! The path is relative to the invoking crate's `Cargo.toml` (or, failing
//! that, to the invoking source file). The expansion refers to `::tim_core`,
//! so the crate depends on `tim-core` with its `derive` feature (serde's
//! derive macros) and nothing else of this project: not the shipped API.

#![warn(missing_docs)]
use std::path::{Path, PathBuf};

use proc_macro::TokenStream;
use syn::{parse_macro_input, LitStr};

/// Finds the spec directory: relative to the invoking crate's manifest, or
/// failing that, to the directory of the file that invokes the macro (which
/// keeps compile tests built in a scratch crate working).
fn resolve(given: &Path) -> PathBuf {
    if given.is_absolute() {
        return given.to_owned();
    }
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default();
    let from_manifest = manifest.join(given);
    if from_manifest.is_dir() {
        return from_manifest;
    }
    let file = proc_macro::Span::call_site().local_file();
    match file.as_deref().and_then(Path::parent) {
        Some(dir) if dir.join(given).is_dir() => dir.join(given),
        _ => from_manifest,
    }
}

/// Generates typed request/response/error modules from a directory of YAML specs.
///
/// ```ignore
/// mod my_api {
///     tim_codegen_macros::generate!("specs");
/// }
/// ```
/// A spec error becomes a compile error naming the file, line and field.
#[proc_macro]
pub fn generate(input: TokenStream) -> TokenStream {
    let lit = parse_macro_input!(input as LitStr);
    let given = PathBuf::from(lit.value());
    let dir = resolve(&given);
    match tim_codegen::output::macro_expansion(&dir, Path::new(&given)) {
        Ok(tokens) => tokens.into(),
        Err(errors) => syn::Error::new(lit.span(), errors.to_string()).to_compile_error().into(),
    }
}
