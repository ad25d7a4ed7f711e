//! A batch endpoint's `Batched` impl: the list to split and the reply's per-item results.

use proc_macro2::TokenStream;
use quote::quote;

use super::types::TypeCx;
use crate::model::{Batch, Field, Type};
use crate::names::ident;

/// `String` of a string field of `value` (empty when an optional one is absent).
fn text(value: &TokenStream, f: &Field) -> TokenStream {
    let id = ident(&f.rust);
    if f.required {
        quote!(::std::clone::Clone::clone(&#value.#id))
    } else {
        quote!(#value.#id.clone().unwrap_or_default())
    }
}

/// The `BatchMeta` static and the `impl Batched for Request`.
pub(crate) fn batched(cx: &TypeCx<'_>, b: &Batch) -> TokenStream {
    let mut scratch = cx.names_only();
    let item_ty = scratch.value_type(&b.item);
    let field_id = ident(&b.field.rust);
    let items = if b.field.required {
        quote!(&mut self.#field_id)
    } else {
        quote!(self.#field_id.get_or_insert_with(::std::vec::Vec::new))
    };
    let key = match &b.key {
        Some(k) => text(&quote!(item), k),
        None => quote!(::std::clone::Clone::clone(item)),
    };
    let (field, max) = (b.field.wire.as_str(), u32::try_from(b.max).unwrap_or(u32::MAX));
    let mut meta = quote!(::tim_core::BatchMeta::new(#field, #max));
    if let Some(k) = &b.key {
        let k = k.wire.as_str();
        meta = quote!(#meta.key(#k));
    }
    let results = match &b.results {
        None => quote! {
            let _ = reply;
            ::std::vec::Vec::new()
        },
        Some(r) => {
            let (list, ok) = (r.list.wire.as_str(), &r.ok);
            meta = quote!(#meta.results(#list, &[#(#ok),*]));
            let list_id = ident(&r.list.rust);
            let all = if r.list.required {
                quote!(reply.#list_id.iter())
            } else {
                quote!(reply.#list_id.iter().flatten())
            };
            let key = match &r.key {
                Some(k) => text(&quote!(r), k),
                None => quote!(::std::clone::Clone::clone(r)),
            };
            let code = match &r.code {
                None => quote!(::std::option::Option::None),
                Some(c) => {
                    let id = ident(&c.rust);
                    let enum_value = matches!(cx.set.resolve(&c.ty), Some(Type::Enum(_)));
                    match (c.required, enum_value) {
                        (true, true) => quote!(::std::option::Option::Some(r.#id.value())),
                        (true, false) => {
                            quote!(::std::option::Option::Some(::tim_core::batch::code_of(r.#id)))
                        }
                        (false, true) => quote!(r.#id.as_ref().map(|v| v.value())),
                        (false, false) => quote!(r.#id.map(::tim_core::batch::code_of)),
                    }
                }
            };
            let info = match &r.info {
                Some(i) => text(&quote!(r), i),
                None => quote!(::std::string::String::new()),
            };
            quote! {
                #all.map(|r| ::tim_core::batch::ItemResult::new(#key, #code, #info)).collect()
            }
        }
    };
    quote! {
        impl ::tim_core::Batched for Request {
            type Item = #item_ty;
            const BATCH: &'static ::tim_core::BatchMeta = &BATCH;

            fn batch_items(&mut self) -> &mut ::std::vec::Vec<Self::Item> {
                #items
            }

            fn item_key(item: &Self::Item) -> ::std::string::String {
                #key
            }

            fn item_results(reply: &Response) -> ::std::vec::Vec<::tim_core::batch::ItemResult> {
                #results
            }
        }

        /// The list this endpoint takes in parts (see [`Batched`](::tim_core::Batched)).
        pub static BATCH: ::tim_core::BatchMeta = #meta;
    }
}
