//! Turns a validated [`SpecSet`] into Rust tokens, split into modules.
//!
//! Both front ends use [`render`]: the xtask writes each module to its own
//! file, the proc-macro inlines them (see [`Rendered::inline`]).

mod docs;
mod endpoint;
mod errors;
mod regions;
mod types;

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;

use crate::load::SpecSet;
use crate::names::{ident, snake};
use types::{Role, TypeCx};

/// Generated code: root items plus named child modules.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Items of the root module (the `ENDPOINTS` registry).
    pub root: TokenStream,
    /// Child modules, by module name, in output order.
    pub modules: Vec<(String, TokenStream)>,
    /// Service modules that sit behind a cargo feature of the same name.
    pub gated: Vec<String>,
}

impl Rendered {
    /// `#[cfg(feature = "..")]` for a module, when it is gated.
    pub fn cfg(&self, module: &str) -> TokenStream {
        if self.gated.iter().any(|g| g == module) {
            quote!(#[cfg(feature = #module)])
        } else {
            TokenStream::new()
        }
    }

    /// Everything in one token stream, child modules inlined.
    pub fn inline(&self) -> TokenStream {
        let root = &self.root;
        let mods = self.modules.iter().map(|(name, body)| {
            let cfg = self.cfg(name);
            let name = ident(name);
            quote!(#cfg pub mod #name { #body })
        });
        quote!(#(#mods)* #root)
    }
}

/// Choices that differ between front ends.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// Put each service module behind a cargo feature named after it, so a
    /// crate can compile only the services it uses. The shipped API does;
    /// the proc-macro does not, since the features would be the caller's.
    pub service_features: bool,
}

/// The `Region` enum of `shared/regions.yaml`, for the core crate (the client
/// needs the hosts to build URLs and read `TIM_REGION`); `None` without regions.
pub fn render_regions(set: &SpecSet) -> Option<TokenStream> {
    if set.regions.is_empty() {
        return None;
    }
    let doc = docs::inner_attrs("Data-center regions (`specs/shared/regions.yaml`).");
    let body = regions::region_enum(&set.regions);
    Some(quote!(#doc #body))
}

/// Renders every module of a spec set, without feature gates.
pub fn render(set: &SpecSet) -> Rendered {
    render_with(set, RenderOptions::default())
}

/// Renders every module of a spec set.
pub fn render_with(set: &SpecSet, options: RenderOptions) -> Rendered {
    let mut modules = Vec::new();

    let tables: Vec<_> = set.error_tables.iter().collect();
    let errors_doc = docs::inner_attrs("Error tables shared by several endpoints (`shared/errors.yaml`).");
    let errors_body = errors::shared_module(&tables);
    modules.push(("errors".to_owned(), quote!(#errors_doc #errors_body)));

    let mut shared = TypeCx { set, role: Role::Shared, types_path: quote!(self), items: Vec::new() };
    for (name, ty) in &set.types {
        let doc = ty.doc.clone().unwrap_or_else(|| format!("The shared `{name}` type."));
        match ty.ty.as_str() {
            "object" => shared.struct_def(name, &doc, ty.fields.as_deref().unwrap_or_default()),
            "enum" => shared.enum_def(name, &doc, ty.values.as_deref().unwrap_or_default()),
            "union" => shared.union_def(name, &doc, ty),
            _ => {
                let id = ident(name);
                let target = shared.value_type(ty, name);
                let doc = docs::attrs(&doc);
                shared.items.push(quote!(#doc pub type #id = #target;));
            }
        }
    }
    let types_doc = docs::inner_attrs("Types shared by several endpoints (`shared/types.yaml`).");
    let types_items = shared.items;
    modules.push(("types".to_owned(), quote!(#types_doc #(#types_items)*)));

    let mut services: BTreeMap<String, Vec<TokenStream>> = BTreeMap::new();
    let mut entries = Vec::new();
    for ep in &set.endpoints {
        let service = snake(&ep.service);
        services.entry(service.clone()).or_default().push(endpoint::module(set, ep));
        let cfg = options.service_features.then(|| quote!(#[cfg(feature = #service)]));
        let (s, c) = (ident(&service), ident(&snake(&ep.command)));
        entries.push(quote!(#cfg ::tim_core::dynamic::EndpointEntry::of::<#s::#c::Request>()));
    }
    let gated = if options.service_features { services.keys().cloned().collect() } else { Vec::new() };
    for (service, mods) in services {
        let doc = docs::inner_attrs(&format!("Endpoints under `v4/{service}/`."));
        modules.push((service, quote!(#doc #(#mods)*)));
    }

    let root = quote! {
        /// Every endpoint of these specs, for calls by path (CLI, mock server).
        pub static ENDPOINTS: &[::tim_core::dynamic::EndpointEntry] = &[#(#entries),*];
    };
    Rendered { root, modules, gated }
}
