//! What the proc-macro expands to.

use std::path::Path;

use proc_macro2::TokenStream;
use quote::quote;

use crate::load::load_dir;
use crate::render::{render_with, RenderOptions};
use crate::SpecErrors;

/// The inlined modules (no feature gates: the features would be the
/// caller's), plus `include_bytes!` of every spec file so that editing a spec
/// recompiles the crate.
pub fn macro_expansion(dir: &Path, display: &Path) -> Result<TokenStream, SpecErrors> {
    let set = load_dir(dir, display)?;
    let code = render_with(&set, RenderOptions::MACRO).inline();
    let files = set.files.iter().map(|f| f.to_string_lossy().into_owned());
    Ok(quote! {
        ::tim_core::__require_derive!();
        #code
        const _: &[&[u8]] = &[#(include_bytes!(#files)),*];
    })
}
