//! The checked-in form: a file per module, mirroring `specs/`
//! (`mod.rs`, `<service>/mod.rs`, `<service>/<command>.rs`, `types.rs`,
//! `errors.rs`), and the way back to one token stream.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;

use super::{format, GeneratedFile};
use crate::render::{Module, Rendered};

/// The files of the checked-in API module: `mod.rs`, then one per module,
/// `<name>.rs` for a module without children and `<name>/mod.rs` for one with.
pub fn files(rendered: &Rendered) -> Result<Vec<GeneratedFile>, String> {
    let decls = rendered.modules.iter().map(Module::declaration);
    let root = &rendered.root;
    let mut out = vec![GeneratedFile {
        name: "mod.rs".into(),
        contents: format(quote! {
            //! The API generated from `specs/`: a module per service, a file per endpoint.
            #(#decls)*
            #root
        })?,
    }];
    for m in &rendered.modules {
        module_files(m, "", &mut out)?;
    }
    Ok(out)
}

/// Files of `m` and its children; `dir` is its parent's directory (`""` or `openim/`).
fn module_files(m: &Module, dir: &str, out: &mut Vec<GeneratedFile>) -> Result<(), String> {
    let body = &m.body;
    if m.children.is_empty() {
        out.push(GeneratedFile { name: format!("{dir}{}.rs", m.name), contents: format(body.clone())? });
        return Ok(());
    }
    let decls = m.children.iter().map(Module::declaration);
    let sub = format!("{dir}{}/", m.name);
    out.push(GeneratedFile { name: format!("{sub}mod.rs"), contents: format(quote!(#body #(#decls)*))? });
    for child in &m.children {
        module_files(child, &sub, out)?;
    }
    Ok(())
}

/// Re-assembles checked-in files into the inline form, to compare both front ends.
pub fn inline_from_files(files: &[GeneratedFile]) -> Result<TokenStream, String> {
    let root = parse(files, "mod.rs")?.ok_or("no mod.rs")?;
    inline_items(files, root.items, "")
}

fn parse(files: &[GeneratedFile], name: &str) -> Result<Option<syn::File>, String> {
    match files.iter().find(|f| f.name == name) {
        Some(f) => syn::parse_file(&f.contents).map(Some).map_err(|e| format!("{name}: {e}")),
        None => Ok(None),
    }
}

/// `items` of a file in `dir`, each `mod x;` replaced by the module's file inlined.
fn inline_items(files: &[GeneratedFile], items: Vec<syn::Item>, dir: &str) -> Result<TokenStream, String> {
    let mut out = TokenStream::new();
    for item in items {
        match item {
            syn::Item::Mod(m) if m.content.is_none() => {
                let name = m.ident.unraw().to_string();
                // As rustc looks them up: `x.rs` or `x/mod.rs`; either way its children are in `x/`.
                let body = match parse(files, &format!("{dir}{name}.rs"))? {
                    Some(body) => body,
                    None => parse(files, &format!("{dir}{name}/mod.rs"))?
                        .ok_or(format!("no {dir}{name}.rs or {dir}{name}/mod.rs"))?,
                };
                let inner = inline_items(files, body.items, &format!("{dir}{name}/"))?;
                let (outer, attrs, vis, id) = (m.attrs, body.attrs, m.vis, m.ident);
                out.extend(quote!(#(#outer)* #vis mod #id { #(#attrs)* #inner }));
            }
            other => out.extend(quote!(#other)),
        }
    }
    Ok(out)
}
