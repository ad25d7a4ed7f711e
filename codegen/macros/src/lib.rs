//! Proc-macro front end of `tim-codegen`: `generate!("path/to/specs")` expands
//! to the same modules `cargo xtask codegen` writes for the shipped API.
//!
//! The path is relative to the invoking crate's `Cargo.toml`. The expansion
//! refers to `::tim_runtime`, so the crate must depend on `tim-runtime`.

use std::path::{Path, PathBuf};

use proc_macro::TokenStream;
use syn::{parse_macro_input, LitStr};

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
    let base = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default();
    let dir = if given.is_absolute() { given.clone() } else { base.join(&given) };
    match tim_codegen::output::macro_expansion(&dir, Path::new(&given)) {
        Ok(tokens) => tokens.into(),
        Err(errors) => syn::Error::new(lit.span(), errors.to_string()).to_compile_error().into(),
    }
}
