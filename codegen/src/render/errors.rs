//! Error tables and error enums: shared tables and each endpoint's own enum.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::docs;
use crate::model::{ErrorSpec, ErrorTableSpec};
use crate::names::{camel, ident};

fn variant(e: &ErrorSpec) -> proc_macro2::Ident {
    ident(&e.name.clone().unwrap_or_else(|| format!("Code{}", e.code)))
}

/// `&[ErrorMeta]` literal for a table.
fn meta_array(errors: &[ErrorSpec]) -> TokenStream {
    let rows = errors.iter().map(|e| {
        let code = Literal::i64_unsuffixed(e.code);
        let (name, meaning, retry) = (variant(e).to_string(), e.meaning.trim(), e.retryable);
        let fields = &e.fields;
        let role = match &e.role {
            Some(role) => {
                // Validation rejects unknown roles, so the lookup always succeeds.
                let role = ident(crate::names::error_role_variant(role).unwrap_or("InvalidField"));
                quote!(::std::option::Option::Some(::tim_core::ErrorRole::#role))
            }
            None => quote!(::std::option::Option::None),
        };
        quote! {
            ::tim_core::ErrorMeta {
                code: #code, name: #name, meaning: #meaning, retryable: #retry, fields: &[#(#fields),*], role: #role,
            }
        }
    });
    quote!(&[#(#rows),*])
}

fn variant_docs(e: &ErrorSpec) -> TokenStream {
    let retry = if e.retryable { " Retryable." } else { "" };
    docs::attrs(&format!("`{}`: {}{retry}\n\nHolds the server's `ErrorInfo`.", e.code, e.meaning.trim()))
}

/// Name of the constant holding a shared table.
pub(crate) fn table_const(name: &str) -> proc_macro2::Ident {
    format_ident!("{}", name.to_uppercase())
}

/// The `errors` module: one constant table and one enum per shared table.
pub(crate) fn shared_module(tables: &[(&String, &ErrorTableSpec)]) -> TokenStream {
    let items = tables.iter().map(|(name, table)| {
        let konst = table_const(name);
        let id = ident(&camel(name));
        let array = meta_array(&table.codes);
        let doc = docs::attrs(&format!("{}\n\n{}", table.doc.trim(), docs::error_table(&table.codes)));
        let cdoc = format!(" Metadata of the `{name}` error table.");
        let variants: Vec<_> = table.codes.iter().map(variant).collect();
        let vdocs = table.codes.iter().map(variant_docs);
        let codes: Vec<_> = table.codes.iter().map(|e| Literal::i64_unsuffixed(e.code)).collect();
        let idx = 0..table.codes.len();
        quote! {
            #[doc = #cdoc]
            pub const #konst: &[::tim_core::ErrorMeta] = #array;

            #doc
            #[derive(Debug, Clone, PartialEq, Eq)]
            #[non_exhaustive]
            pub enum #id {
                #(#vdocs #variants(::std::string::String),)*
            }

            impl #id {
                /// Classifies a code of this table; gives the info back when the code is not in it.
                pub fn try_from_reply(code: i64, info: ::std::string::String) -> ::std::result::Result<Self, ::std::string::String> {
                    match code {
                        #(#codes => ::std::result::Result::Ok(Self::#variants(info)),)*
                        _ => ::std::result::Result::Err(info),
                    }
                }
                /// The `ErrorCode` value.
                pub fn code(&self) -> i64 {
                    match self { #(Self::#variants(_) => #codes,)* }
                }
                /// The server's `ErrorInfo`.
                pub fn info(&self) -> &str {
                    match self { #(Self::#variants(info))|* => info }
                }
                /// The documented entry of the code.
                pub fn meta(&self) -> &'static ::tim_core::ErrorMeta {
                    match self { #(Self::#variants(_) => &#konst[#idx],)* }
                }
            }
        }
    });
    quote!(#(#items)*)
}

/// An endpoint's `Error` enum and its `ERRORS` table.
pub(crate) fn endpoint_enum(own: &[ErrorSpec], shared: &[String], errors_path: &TokenStream) -> TokenStream {
    let array = meta_array(own);
    let variants: Vec<_> = own.iter().map(variant).collect();
    let vdocs = own.iter().map(variant_docs);
    let codes: Vec<_> = own.iter().map(|e| Literal::i64_unsuffixed(e.code)).collect();
    let idx = 0..own.len();
    let shared_variants: Vec<_> = shared.iter().map(|s| ident(&camel(s))).collect();
    let shared_docs = shared.iter().map(|s| format!(" A code of the shared `{s}` table."));
    let shared_tys: Vec<_> = shared
        .iter()
        .map(|s| {
            let t = ident(&camel(s));
            quote!(#errors_path::#t)
        })
        .collect();
    let own_match = if variants.is_empty() {
        quote!()
    } else {
        quote! {
            match code {
                #(#codes => return Self::#variants(info),)*
                _ => {}
            }
        }
    };
    let arms_info = if variants.is_empty() { quote!() } else { quote!(#(Self::#variants(info))|* => info,) };
    quote! {
        /// The endpoint's own error codes.
        pub const ERRORS: &[::tim_core::ErrorMeta] = #array;

        /// Why the endpoint refused a request: its own codes, the shared tables, or a code no table names.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum Error {
            #(#vdocs #variants(::std::string::String),)*
            #(#[doc = #shared_docs] #shared_variants(#shared_tys),)*
            /// A code the spec does not document for this endpoint. Opaque, so
            /// that code matching on it does not silently change meaning when a
            /// later spec names the code: read it with `code()` and `info()`.
            Unknown(::tim_core::UnknownCode),
        }

        impl ::tim_core::ApiErrorKind for Error {
            fn from_reply(code: i64, info: ::std::string::String) -> Self {
                #own_match
                #(
                    let info = match #shared_tys::try_from_reply(code, info) {
                        ::std::result::Result::Ok(e) => return Self::#shared_variants(e),
                        ::std::result::Result::Err(info) => info,
                    };
                )*
                Self::Unknown(::tim_core::UnknownCode::new(code, info))
            }
            fn code(&self) -> i64 {
                match self {
                    #(Self::#variants(_) => #codes,)*
                    #(Self::#shared_variants(e) => e.code(),)*
                    Self::Unknown(unknown) => unknown.code(),
                }
            }
            fn info(&self) -> &str {
                match self {
                    #arms_info
                    #(Self::#shared_variants(e) => e.info(),)*
                    Self::Unknown(unknown) => unknown.info(),
                }
            }
            fn meta(&self) -> ::std::option::Option<&'static ::tim_core::ErrorMeta> {
                match self {
                    #(Self::#variants(_) => ::std::option::Option::Some(&ERRORS[#idx]),)*
                    #(Self::#shared_variants(e) => ::std::option::Option::Some(e.meta()),)*
                    Self::Unknown(_) => ::std::option::Option::None,
                }
            }
        }

        impl ::std::fmt::Display for Error {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::tim_core::endpoint::fmt_api_error(self, f)
            }
        }

        impl ::std::error::Error for Error {}
    }
}
