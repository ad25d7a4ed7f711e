//! The field trees of `ENDPOINTS` entries (`tim_core::FieldInfo`): each
//! request and reply field with its type in words, bounds, enum values or
//! union tags and nested fields, for tools that explain an endpoint
//! (`tim describe`). Read from the same model as the types, so the words
//! cannot disagree with what is checked.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{Bounds, EnumValues, Field, SpecSet, Type};

/// How deep shared types are expanded (they do not nest deeper in the
/// specs; the bound keeps a cycle of references from looping).
const MAX_DEPTH: usize = 8;

/// `&[FieldInfo, ...]` for `fields`; `required` is false for replies.
pub(crate) fn fields(set: &SpecSet, fields: &[Field], request: bool) -> TokenStream {
    fields_at(set, fields, request, 0)
}

fn fields_at(set: &SpecSet, fields: &[Field], request: bool, depth: usize) -> TokenStream {
    Children::Inline(field_items(set, fields, request, depth)).tokens()
}

fn field_items(set: &SpecSet, fields: &[Field], request: bool, depth: usize) -> Vec<TokenStream> {
    fields
        .iter()
        .map(|f| {
            let doc = f.doc.as_deref().unwrap_or_default().trim().replace('\n', " ");
            let d = describe(set, &f.ty, request, depth);
            let item = info(&f.wire, &d, request && f.required, &doc);
            let aliases = &f.aliases;
            if aliases.is_empty() {
                item
            } else {
                quote!(#item.aliases(&[#(#aliases),*]))
            }
        })
        .collect()
}

/// Nested fields: written out, or those of a shared type (a static in
/// `__describe`, since shared types may refer to each other in a cycle:
/// a relayed message holds message bodies).
enum Children {
    Inline(Vec<TokenStream>),
    Shared(proc_macro2::Ident),
}

impl Children {
    fn tokens(&self) -> TokenStream {
        match self {
            Children::Inline(items) => quote!(&[#(#items),*]),
            Children::Shared(id) => quote!(&__describe::#id),
        }
    }
}

/// What a type says about a value of it.
struct Described {
    ty: String,
    constraints: String,
    values: Vec<String>,
    children: Children,
    /// A union (or a list of them): its tag and content keys.
    union: Option<(String, String)>,
    /// A map (`children` describe its values).
    map: bool,
}

fn info(wire: &str, d: &Described, required: bool, doc: &str) -> TokenStream {
    let (ty, constraints, values, children) = (&d.ty, &d.constraints, &d.values, d.children.tokens());
    let mut item = quote! {
        ::tim_core::FieldInfo::new(#wire, #ty, #required, #doc, #constraints, &[#(#values),*], #children)
    };
    if let Some((tag, content)) = &d.union {
        item = quote!(#item.union(#tag, #content));
    }
    if d.map {
        item = quote!(#item.map());
    }
    item
}

fn none() -> Children {
    Children::Inline(Vec::new())
}

fn plain(ty: impl Into<String>, constraints: String) -> Described {
    Described { ty: ty.into(), constraints, values: Vec::new(), children: none(), union: None, map: false }
}

/// `bounds` in words, with `unit` (`bytes`, `items`, or "" for values).
fn bounds<T: std::fmt::Display + Copy>(b: &Bounds<T>, unit: &str) -> String {
    let unit = if unit.is_empty() { String::new() } else { format!(" {unit}") };
    match (b.min, b.max) {
        (Some(lo), Some(hi)) => format!("{lo} to {hi}{unit}"),
        (Some(lo), None) => format!("at least {lo}{unit}"),
        (None, Some(hi)) => format!("at most {hi}{unit}"),
        (None, None) => String::new(),
    }
}

fn describe(set: &SpecSet, ty: &Type, request: bool, depth: usize) -> Described {
    if depth > MAX_DEPTH {
        return plain("…", String::new());
    }
    match ty {
        Type::String { len, prefix } => {
            let mut c = bounds(len, "bytes");
            if let Some(p) = prefix {
                if !c.is_empty() {
                    c.push_str(", ");
                }
                c.push_str(&format!("starts with `{p}`"));
            }
            plain("string", c)
        }
        Type::Bool => plain("bool", String::new()),
        Type::F64 => plain("number", String::new()),
        Type::Json => plain("any JSON", String::new()),
        Type::Int { kind, range } => plain(kind.rust_name(), bounds(range, "")),
        Type::Array { items, len } => {
            let inner = describe(set, items, request, depth + 1);
            let mut c = bounds(len, "items");
            if !inner.constraints.is_empty() {
                if !c.is_empty() {
                    c.push_str("; ");
                }
                c.push_str(&format!("each {}", inner.constraints));
            }
            Described { ty: format!("array of {}", inner.ty), constraints: c, ..inner }
        }
        Type::Map { values, len } => {
            let inner = describe(set, values, request, depth + 1);
            Described {
                ty: format!("map of {}", inner.ty),
                constraints: bounds(len, "entries"),
                map: true,
                ..inner
            }
        }
        Type::Object(o) => Described {
            ty: "object".into(),
            constraints: String::new(),
            values: Vec::new(),
            children: Children::Inline(field_items(set, &o.fields, request, depth + 1)),
            union: None,
            map: false,
        },
        Type::Enum(e) => {
            let values = match &e.values {
                EnumValues::Strings(v) => v.iter().map(|v| v.value.clone()).collect(),
                EnumValues::Integers(v) => v.iter().map(|v| v.value.to_string()).collect(),
            };
            Described {
                ty: "enum".into(),
                constraints: String::new(),
                values,
                children: none(),
                union: None,
                map: false,
            }
        }
        Type::Union(u) => {
            let variants = u
                .variants
                .iter()
                .map(|v| {
                    let d = describe(set, &v.ty, request, depth + 1);
                    let doc = v.doc.as_deref().unwrap_or_default().trim().replace('\n', " ");
                    let ty = format!("`{}` content: {}", u.content, d.ty);
                    // The variant stands for its content's fields.
                    info(&v.tag, &Described { ty, union: None, map: false, ..d }, false, &doc)
                })
                .collect();
            Described {
                ty: format!("union on `{}`", u.tag),
                constraints: String::new(),
                values: u.variants.iter().map(|v| v.tag.clone()).collect(),
                children: Children::Inline(variants),
                union: Some((u.tag.clone(), u.content.clone())),
                map: false,
            }
        }
        Type::Shared(name) => match set.types.get(name) {
            // The nested fields of a shared type are described once, in
            // `shared` below, and referred to.
            Some(shared) => {
                // Nested shared types are referred to, not followed, so
                // this ends even where shared types refer to each other.
                let inner = describe(set, &shared.ty, request, depth + 1);
                let children = match inner.children {
                    // Another shared type under this name (a list of one).
                    Children::Shared(other) => Children::Shared(other),
                    Children::Inline(items) if items.is_empty() => none(),
                    Children::Inline(_) => Children::Shared(shared_ident(name)),
                };
                Described { ty: format!("{name} ({})", inner.ty), children, ..inner }
            }
            None => plain(name.clone(), String::new()),
        },
    }
}

fn shared_ident(name: &str) -> proc_macro2::Ident {
    quote::format_ident!("{}", name.to_uppercase())
}

/// `mod __describe`: the nested fields of each shared type that has any,
/// as constants the entries refer to (request wording: shared types are
/// used both ways, and a reply's fields say nothing of required).
pub(crate) fn shared(set: &SpecSet) -> TokenStream {
    let items = set.types.iter().filter_map(|(name, shared)| {
        // Written out here; a shared type that is another one's list
        // refers to that one's fields instead.
        let Children::Inline(items) = describe(set, &shared.ty, true, 1).children else { return None };
        if items.is_empty() {
            return None;
        }
        let (id, n) = (shared_ident(name), items.len());
        let doc = format!(" The nested fields of `{name}`.");
        Some(quote! {
            #[doc = #doc]
            pub static #id: [::tim_core::FieldInfo; #n] = [#(#items),*];
        })
    });
    quote! {
        /// Field trees of the shared types, referred to by the entries of `ENDPOINTS`.
        #[doc(hidden)]
        pub mod __describe {
            use super::__describe;
            #(#items)*
        }
    }
}
