//! Turns a validated [`SpecSet`] into Rust tokens: a tree of modules that
//! mirrors `specs/` (a module per service, one per endpoint), plus the shared
//! `types` and `errors`.
//!
//! Both front ends use [`render_with`]: the xtask writes each module to its
//! own file, the proc-macro inlines them (see [`Rendered::inline`]).

mod batch;
mod callbacks;
mod checks;
mod derives;
mod describe;
mod docs;
mod endpoint;
mod errors;
mod pagination;
mod regions;
mod types;

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{SpecSet, Type};
use crate::names::{ident, snake};
use derives::{Gate, Wire};
use types::TypeCx;

fn serde_path() -> TokenStream {
    quote!(::tim_core::__private::serde)
}

/// One generated module and its children.
#[derive(Debug, Clone)]
pub struct Module {
    /// Module (and file) name, without `r#`.
    pub name: String,
    /// Attributes of its declaration (a `#[cfg(..)]` when it is gated).
    pub cfg: TokenStream,
    /// Its inner doc attributes and items, children left out.
    pub body: TokenStream,
    /// Child modules, in output order.
    pub children: Vec<Module>,
}

impl Module {
    fn leaf(name: &str, body: TokenStream) -> Self {
        Module { name: name.to_owned(), cfg: TokenStream::new(), body, children: Vec::new() }
    }

    /// `pub mod name { .. }` with its children inlined.
    pub fn inline(&self) -> TokenStream {
        let (cfg, name, body) = (&self.cfg, ident(&self.name), &self.body);
        let children = self.children.iter().map(Module::inline);
        quote!(#cfg pub mod #name { #body #(#children)* })
    }

    /// `pub mod name;`, for a module whose body lives in its own file.
    pub fn declaration(&self) -> TokenStream {
        let (cfg, name) = (&self.cfg, ident(&self.name));
        quote!(#cfg pub mod #name;)
    }
}

/// Generated code: root items plus the module tree.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Items of the root module (the `ENDPOINTS` registry).
    pub root: TokenStream,
    /// Child modules of the root, in output order.
    pub modules: Vec<Module>,
    /// Service modules that sit behind a cargo feature of the same name.
    pub gated: Vec<String>,
}

impl Rendered {
    /// Everything in one token stream, child modules inlined.
    pub fn inline(&self) -> TokenStream {
        let root = &self.root;
        let mods = self.modules.iter().map(Module::inline);
        quote!(#(#mods)* #root)
    }
}

/// Choices that differ between front ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Put each service module behind a cargo feature named after it, so a
    /// crate can compile only the services it uses. The shipped API does;
    /// the proc-macro does not, since the features would be the caller's.
    pub service_features: bool,
    /// Put what only calls by path need (the `ENDPOINTS` table, requests'
    /// `Deserialize`, responses' `Serialize`) behind a `server` cargo
    /// feature. The shipped API does; the proc-macro emits it always.
    pub server_feature: bool,
}

impl RenderOptions {
    /// How the shipped API (`tim-api`) is rendered: both features on.
    pub const SHIPPED: RenderOptions = RenderOptions { service_features: true, server_feature: true };
    /// How the proc-macro renders: no feature gates at all.
    pub const MACRO: RenderOptions = RenderOptions { service_features: false, server_feature: false };
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

/// Renders every module of a spec set the way the proc-macro does (no
/// feature gates).
pub fn render(set: &SpecSet) -> Rendered {
    render_with(set, RenderOptions::MACRO)
}

/// Renders every module of a spec set.
pub fn render_with(set: &SpecSet, options: RenderOptions) -> Rendered {
    let gate = Gate { feature: options.server_feature };
    let mut modules = Vec::new();

    let tables: Vec<_> = set.error_tables.iter().collect();
    let errors_doc = docs::inner_attrs("Error tables shared by several endpoints (`shared/errors.yaml`).");
    let errors_body = errors::shared_module(&tables);
    modules.push(Module::leaf("errors", quote!(#errors_doc #errors_body)));
    modules.push(Module::leaf("types", shared_types(set, gate)));

    let mut services: BTreeMap<String, Vec<Module>> = BTreeMap::new();
    let mut entries = Vec::new();
    for ep in &set.endpoints {
        let service = snake(&ep.service);
        let command = snake(&ep.command);
        let body = endpoint::module(set, ep, gate);
        services.entry(service.clone()).or_default().push(Module::leaf(&command, body));
        let cfg = options.service_features.then(|| quote!(#[cfg(feature = #service)]));
        let (s, c) = (ident(&service), ident(&command));
        let (request, response) =
            (describe::fields(set, &ep.request, true), describe::fields(set, &ep.response, false));
        let paginated = ep.pagination.as_ref().map(|_| quote!(.paginated::<#s::#c::Request>()));
        let batched = ep.batch.as_ref().map(|_| quote!(.batched::<#s::#c::Request>()));
        entries.push(quote! {
            #cfg ::tim_core::dynamic::EndpointEntry::of::<#s::#c::Request>().described(#request, #response) #paginated #batched
        });
    }
    let gated = if options.service_features { services.keys().cloned().collect() } else { Vec::new() };
    for (service, children) in services {
        let doc = docs::inner_attrs(&format!("Endpoints under `v4/{service}/`."));
        let cfg =
            if options.service_features { quote!(#[cfg(feature = #service)]) } else { TokenStream::new() };
        modules.push(Module { name: service, cfg, body: doc, children });
    }

    let callbacks_cfg =
        if options.service_features { quote!(#[cfg(feature = "callbacks")]) } else { TokenStream::new() };
    let mut gated = gated;
    if let Some(m) = callbacks::module(set, callbacks_cfg) {
        modules.push(m);
        if options.service_features {
            gated.push("callbacks".into());
        }
    }

    let described = gate.item(describe::shared(set));
    let root = gate.item(quote! {
        /// Every endpoint of these specs, for calls by path (CLI, mock server).
        pub static ENDPOINTS: &[::tim_core::dynamic::EndpointEntry] = &[#(#entries),*];
    });
    let root = quote!(#root #described);
    Rendered { root, modules, gated }
}

/// The `types` module: every shared type, with the impls its uses need.
fn shared_types(set: &SpecSet, gate: Gate) -> TokenStream {
    let wires = derives::shared_wires(set);
    let mut cx = TypeCx { set, wire: Wire::REQUEST, gate, types_path: quote!(self), items: Vec::new() };
    for (name, shared) in &set.types {
        cx.wire = wires.get(name).copied().unwrap_or(Wire { sent: true, received: true, strict: false });
        let doc = shared.doc.clone().unwrap_or_else(|| format!("The shared `{name}` type."));
        match &shared.ty {
            Type::Object(o) => cx.struct_def(&o.name, &doc, &o.fields),
            Type::Enum(e) => cx.enum_def(&e.name, &doc, &e.values),
            Type::Union(u) => cx.union_def(&u.name, &doc, u),
            other => {
                let id = ident(name);
                let target = cx.value_type(other);
                let doc = docs::attrs(&doc);
                cx.items.push(quote!(#doc pub type #id = #target;));
            }
        }
    }
    let doc = docs::inner_attrs("Types shared by several endpoints (`shared/types*.yaml`).");
    let items = cx.items;
    quote!(#doc #(#items)*)
}
