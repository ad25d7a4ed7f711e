//! A list endpoint's `Paginated` impl: how one page's reply becomes the next request.

use proc_macro2::TokenStream;
use quote::quote;

use super::types::TypeCx;
use crate::model::{Field, Pagination};
use crate::names::ident;

/// `Option<&T>` of a field of `value` (which may be required).
fn read(value: &TokenStream, f: &Field) -> TokenStream {
    let id = ident(&f.rust);
    if f.required {
        quote!(::std::option::Option::Some(&#value.#id))
    } else {
        quote!(#value.#id.as_ref())
    }
}

/// Assigns `v` (a `T`) to a request field of `next`.
fn write(f: &Field, v: TokenStream) -> TokenStream {
    let id = ident(&f.rust);
    if f.required {
        quote!(next.#id = #v;)
    } else {
        quote!(next.#id = ::std::option::Option::Some(#v);)
    }
}

/// The `PaginationMeta` value describing `p`.
fn meta(p: &Pagination) -> TokenStream {
    let items = p.items.iter().map(|(f, _)| f.wire.as_str());
    let mut out = quote!(::tim_core::PaginationMeta::new(&[#(#items),*]));
    if let Some(f) = &p.page_size {
        let w = f.wire.as_str();
        let max = match f.ty.value_range().and_then(|r| r.max).and_then(|m| u64::try_from(m).ok()) {
            Some(m) => quote!(::std::option::Option::Some(#m)),
            None => quote!(::std::option::Option::None),
        };
        out = quote!(#out.page_size(#w, #max));
    }
    if let Some(f) = &p.offset {
        let w = f.wire.as_str();
        out = quote!(#out.offset(#w));
    }
    if let Some(f) = &p.total {
        let w = f.wire.as_str();
        out = quote!(#out.total(#w));
    }
    if !p.cursors.is_empty() {
        let pairs = p.cursors.iter().map(|(r, p)| {
            let (r, p) = (r.wire.as_str(), p.wire.as_str());
            quote!((#r, #p))
        });
        out = quote!(#out.cursors(&[#(#pairs),*]));
    }
    if let Some((r, i)) = &p.before {
        let (r, i) = (r.wire.as_str(), i.wire.as_str());
        out = quote!(#out.before(#r, #i));
    }
    if let Some((r, i)) = &p.after {
        let (r, i) = (r.wire.as_str(), i.wire.as_str());
        out = quote!(#out.after(#r, #i));
    }
    if let Some((f, v)) = &p.done {
        let w = f.wire.as_str();
        out = quote!(#out.done(#w, #v));
    }
    out
}

/// The `PaginationMeta` static and the `impl Paginated for Request`.
pub(crate) fn paginated(cx: &TypeCx<'_>, p: &Pagination) -> TokenStream {
    // The items' own types were emitted with the reply; only their names are needed here.
    let mut scratch = cx.names_only();
    let meta = meta(p);
    let page = quote!(page);
    let list = |f: &Field| {
        let id = ident(&f.rust);
        if f.required {
            quote!(page.#id.iter())
        } else {
            quote!(page.#id.iter().flatten())
        }
    };
    let counts = p.items.iter().map(|(f, _)| {
        let id = ident(&f.rust);
        if f.required {
            quote!(page.#id.len())
        } else {
            quote!(page.#id.as_ref().map_or(0, ::std::vec::Vec::len))
        }
    });
    let count = quote!(#(#counts)+*);
    let owned = |f: &Field| {
        let id = ident(&f.rust);
        if f.required {
            quote!(page.#id)
        } else {
            quote!(page.#id.unwrap_or_default())
        }
    };
    // One list: its items. Several (a page fills one of them): an enum of their items.
    let (item_ty, take, item_enum) = match p.items.as_slice() {
        [(f, ty)] => (scratch.value_type(ty), owned(f), None),
        lists => {
            let variants: Vec<_> = lists.iter().map(|(f, _)| ident(&f.wire.replace('_', ""))).collect();
            let types: Vec<_> = lists.iter().map(|(_, ty)| scratch.value_type(ty)).collect();
            let docs = lists.iter().map(|(f, _)| format!("An item of `{}`.", f.wire));
            let takes = lists.iter().zip(&variants).map(|((f, _), v)| {
                let all = owned(f);
                quote!(out.extend(#all.into_iter().map(PageItem::#v));)
            });
            let lists_doc =
                lists.iter().map(|(f, _)| format!("`{}`", f.wire)).collect::<Vec<_>>().join(" or ");
            let doc = format!("One listed item, from {lists_doc}.");
            let serde = super::serde_path();
            let serialize = cx.gate.item(quote! {
                impl #serde::Serialize for PageItem {
                    fn serialize<S: #serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                        match self {
                            #(Self::#variants(v) => v.serialize(serializer),)*
                        }
                    }
                }
            });
            let item_enum = quote! {
                #[doc = #doc]
                #[derive(Debug, Clone, PartialEq)]
                #[non_exhaustive]
                pub enum PageItem {
                    #(#[doc = #docs] #variants(#types),)*
                }
                #serialize
            };
            let take = quote! {{
                let mut out = ::std::vec::Vec::new();
                #(#takes)*
                out
            }};
            (quote!(PageItem), take, Some(item_enum))
        }
    };
    let set_page_size = match &p.page_size {
        Some(f) => {
            let assign = write(f, quote!(::tim_core::paginate::Position::from_u64(u64::from(size))));
            quote! {
                let next = self;
                #assign
            }
        }
        None => quote!(let _ = size;),
    };
    let done = p.done.as_ref().map(|(f, v)| {
        let v = proc_macro2::Literal::i64_unsuffixed(*v);
        let flag = read(&page, f);
        quote! {
            if #flag.is_some_and(|flag| *flag == #v) {
                return ::std::option::Option::None;
            }
        }
    });
    let offset = p.offset.as_ref().map(|f| {
        let id = ident(&f.rust);
        let current = if f.required { quote!(self.#id) } else { quote!(self.#id.unwrap_or_default()) };
        let assign = write(f, quote!(offset));
        let total = p.total.as_ref().map(|t| {
            let total = read(&page, t);
            quote! {
                if let ::std::option::Option::Some(total) = #total {
                    if ::tim_core::paginate::reached(offset, *total) {
                        return ::std::option::Option::None;
                    }
                }
            }
        });
        quote! {
            let offset = ::tim_core::paginate::advance(#current, count);
            #total
            #assign
        }
    });
    let cursors = p.cursors.iter().enumerate().map(|(i, (req, reply))| {
        let value = read(&page, reply);
        let assign = write(req, quote!(::std::borrow::ToOwned::to_owned(value)));
        // Without a last-page flag, the first cursor coming back empty ends the listing.
        let ends = i == 0 && p.done.is_none();
        let otherwise = if ends { quote!(else { return ::std::option::Option::None; }) } else { quote!() };
        quote! {
            if let ::std::option::Option::Some(value) =
                #value.filter(|v| !::tim_core::paginate::Cursor::is_end(*v))
            {
                #assign
            } #otherwise
        }
    });
    let seq = |seq: &Option<(Field, Field)>, backwards: bool| {
        let (req, item) = seq.as_ref()?;
        let item_id = ident(&item.rust);
        let values = if item.required {
            quote!(.map(|item| item.#item_id))
        } else {
            quote!(.filter_map(|item| item.#item_id))
        };
        let all = list(&p.items.first()?.0);
        let assign = write(req, quote!(bound));
        Some(if backwards {
            quote! {
                let smallest = #all #values.min()?;
                let bound = ::tim_core::paginate::before(smallest)?;
                #assign
            }
        } else {
            quote! {
                let largest = #all #values.max()?;
                let bound = ::tim_core::paginate::after(largest);
                #assign
            }
        })
    };
    let before = seq(&p.before, true);
    let after = seq(&p.after, false);
    quote! {
        impl ::tim_core::Paginated for Request {
            type Item = #item_ty;
            const PAGINATION: &'static ::tim_core::PaginationMeta = &PAGINATION;

            fn set_page_size(&mut self, size: u32) {
                #set_page_size
            }

            fn next_page(&self, page: &Response) -> ::std::option::Option<Self> {
                let count = #count;
                if count == 0 {
                    return ::std::option::Option::None;
                }
                #done
                let mut next = self.clone();
                #offset
                #(#cursors)*
                #before
                #after
                ::std::option::Option::Some(next)
            }

            fn page_items(page: Response) -> ::std::vec::Vec<Self::Item> {
                #take
            }
        }

        /// How this endpoint pages (see [`Paginated`](::tim_core::Paginated)).
        pub static PAGINATION: ::tim_core::PaginationMeta = #meta;

        #item_enum
    }
}
