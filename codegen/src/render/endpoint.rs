//! One endpoint module: metadata, `Request`, `Response`, `Error`, nested types.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::types::{Role, TypeCx};
use super::{docs, errors};
use crate::load::{Endpoint, SpecSet};
use crate::names::{ident, parse_rate_limit, snake, Per, GROUP_TYPES};

/// Renders `pub mod <command> { ... }` for one endpoint.
pub(crate) fn module(set: &SpecSet, ep: &Endpoint) -> TokenStream {
    let s = &ep.spec;
    let types_path = quote!(super::super::types);
    let errors_path = quote!(super::super::errors);

    let shared_tables: Vec<(String, String)> = s
        .shared_errors
        .iter()
        .map(|t| (t.clone(), set.error_tables.get(t).map(|x| x.doc.trim().to_owned()).unwrap_or_default()))
        .collect();
    let module_doc = docs::inner_attrs(&docs::endpoint_module(ep, &shared_tables));

    let mut req = TypeCx { set, role: Role::Request, types_path: types_path.clone(), items: Vec::new() };
    req.struct_def("Request", &format!("Request body of `{}`: {}", s.path, s.title), &s.request);
    let mut resp = TypeCx { set, role: Role::Response, types_path, items: Vec::new() };
    resp.struct_def(
        "Response",
        &format!(
            "Successful reply of `{}`, without `ActionStatus`, `ErrorCode` and `ErrorInfo`.\n\nFields the spec does not list are ignored.",
            s.path
        ),
        &s.response,
    );
    let error_enum = errors::endpoint_enum(&s.errors, &s.shared_errors, &errors_path);

    let (path, title, idempotent) = (&s.path, s.title.trim(), s.idempotent);
    let rate = match parse_rate_limit(&s.rate_limit).map(|(n, p)| (Literal::u32_unsuffixed(n), p)) {
        Some((n, Per::Second)) => quote!(::tim_core::RateLimit::per_second(#n)),
        Some((n, Per::Minute)) => quote!(::tim_core::RateLimit::per_minute(#n)),
        Some((n, Per::Day)) => quote!(::tim_core::RateLimit::per_day(#n)),
        None => quote!(::tim_core::RateLimit::per_second(1)),
    };
    let shared_consts = s.shared_errors.iter().map(|t| {
        let c = errors::table_const(t);
        quote!(#errors_path::#c)
    });
    let groups = GROUP_TYPES.iter().filter_map(|t| {
        let g = s.group_types.get(*t)?;
        let (supported, note, ignored) = (g.supported, g.note.clone().unwrap_or_default(), g.ignored);
        Some(quote! {
            ::tim_core::GroupTypeSupport { group_type: #t, supported: #supported, note: #note, ignored: #ignored }
        })
    });
    let sample = s.samples.first();
    let sample_req =
        sample.map(|x| serde_json::to_string(&x.request).unwrap_or_default()).unwrap_or_default();
    let sample_resp =
        sample.map(|x| serde_json::to_string(&x.response).unwrap_or_default()).unwrap_or_default();
    let meta_doc = format!(" Metadata of `{path}`: rate limit, retry safety, error tables, sample.");
    let name = ident(&snake(&ep.command));
    let req_items = req.items;
    let resp_items = resp.items;
    quote! {
        pub mod #name {
            #module_doc

            #[doc = #meta_doc]
            pub static META: ::tim_core::EndpointMeta = ::tim_core::EndpointMeta::new(
                #path,
                #title,
                #rate,
                #idempotent,
                ERRORS,
                &[#(#shared_consts),*],
                &[#(#groups),*],
                #sample_req,
                #sample_resp,
            );

            #(#req_items)*

            impl ::tim_core::ApiRequest for Request {
                type Response = Response;
                type Error = Error;
                const META: &'static ::tim_core::EndpointMeta = &META;
            }

            #(#resp_items)*

            #error_enum
        }
    }
}
