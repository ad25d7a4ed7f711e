//! The bodies of generated `Validate` impls: the constraints a spec states
//! beyond what the Rust type already enforces.

use std::collections::HashSet;

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::model::{Bounds, SpecSet, Type};

/// Whether values of `ty` carry constraints beyond their Rust type.
pub(crate) fn needed(set: &SpecSet, ty: &Type) -> bool {
    needed_seen(set, ty, &mut HashSet::new())
}

fn needed_seen(set: &SpecSet, ty: &Type, seen: &mut HashSet<String>) -> bool {
    if ty.length_bounds().is_some_and(|l| l.is_set())
        || ty.value_range().is_some_and(|r| r.is_set())
        || matches!(ty, Type::String { prefix: Some(_), .. })
    {
        return true;
    }
    match ty {
        Type::Array { items, .. } => needed_seen(set, items, seen),
        Type::Map { values, .. } => needed_seen(set, values, seen),
        Type::Object(o) => o.fields.iter().any(|f| needed_seen(set, &f.ty, seen)),
        // An unknown tag is refused in requests.
        Type::Union(_) => true,
        Type::Shared(name) => match set.types.get(name) {
            Some(shared) if seen.insert(name.clone()) => needed_seen(set, &shared.ty, seen),
            _ => false,
        },
        // A value the spec does not name is refused in requests.
        Type::Enum(_) => true,
        Type::String { .. } | Type::Bool | Type::Int { .. } | Type::F64 | Type::Json => false,
    }
}

fn some<T>(bound: Option<T>, lit: impl Fn(T) -> Literal) -> TokenStream {
    match bound {
        Some(v) => {
            let v = lit(v);
            quote!(::std::option::Option::Some(#v))
        }
        None => quote!(::std::option::Option::None),
    }
}

/// Checks on `value` (a reference to a value of `ty`); `at` builds its path.
pub(crate) fn of(set: &SpecSet, ty: &Type, value: &TokenStream, at: &TokenStream) -> TokenStream {
    let check = quote!(::tim_core::endpoint::check);
    let mut out = TokenStream::new();
    if let Some(Bounds { min, max }) = ty.value_range().filter(Bounds::is_set) {
        let (min, max) = (some(min, Literal::i64_unsuffixed), some(max, Literal::i64_unsuffixed));
        out.extend(quote! { #check::range(i128::from(*#value), #min, #max, || #at)?; });
    }
    if let Some(Bounds { min, max }) = ty.length_bounds().filter(Bounds::is_set) {
        let (min, max) = (some(min, Literal::u64_unsuffixed), some(max, Literal::u64_unsuffixed));
        let unit = if matches!(ty, Type::String { .. }) { "bytes" } else { "items" };
        out.extend(quote! { #check::len(#value.len(), #min, #max, #unit, || #at)?; });
    }
    if let Type::String { prefix: Some(prefix), .. } = ty {
        out.extend(quote! { #check::prefix(#value, #prefix, || #at)?; });
    }
    match ty {
        Type::Array { items: inner, .. } | Type::Map { values: inner, .. } if needed(set, inner) => {
            let item = quote!(item);
            let item_at = quote!(item_path.clone());
            let inner = of(set, inner, &item, &item_at);
            out.extend(if matches!(ty, Type::Array { .. }) {
                quote! {
                    for (i, item) in #value.iter().enumerate() {
                        let item_path = format!("{}[{}]", #at, i);
                        #inner
                    }
                }
            } else {
                quote! {
                    for (key, item) in #value.iter() {
                        let item_path = format!("{}.{}", #at, key);
                        #inner
                    }
                }
            });
        }
        Type::Object(_) | Type::Union(_) | Type::Enum(_) => out.extend(quote! {
            ::tim_core::Validate::validate_at(#value, &#at)?;
        }),
        Type::Shared(_) if needed(set, ty) => out.extend(quote! {
            ::tim_core::Validate::validate_at(#value, &#at)?;
        }),
        _ => {}
    }
    out
}
