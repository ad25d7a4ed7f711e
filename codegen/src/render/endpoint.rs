//! One endpoint module: metadata, `Request`, `Response`, `Error`, nested types.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::derives::{Gate, Wire};
use super::types::TypeCx;
use super::{batch, docs, errors, pagination};
use crate::model::{Endpoint, Per, SpecSet};

/// The body of an endpoint's module (its doc and items).
pub(crate) fn module(set: &SpecSet, s: &Endpoint, gate: Gate) -> TokenStream {
    let types_path = quote!(super::super::types);
    let errors_path = quote!(super::super::errors);

    let shared_tables: Vec<(String, String)> = s
        .shared_errors
        .iter()
        .map(|t| (t.clone(), set.error_tables.get(t).map(|x| x.doc.trim().to_owned()).unwrap_or_default()))
        .collect();
    let module_doc = docs::inner_attrs(&docs::endpoint_module(s, &shared_tables));

    let mut req =
        TypeCx { set, wire: Wire::REQUEST, gate, types_path: types_path.clone(), items: Vec::new() };
    req.struct_def("Request", &format!("Request body of `{}`: {}", s.path, s.title), &s.request);
    let required = required_by_name(&req, &s.request);
    let mut resp = TypeCx { set, wire: Wire::RESPONSE, gate, types_path, items: Vec::new() };
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
    let calls = Literal::u32_unsuffixed(s.rate_limit.calls);
    let rate = match s.rate_limit.per {
        Per::Second => quote!(::tim_core::RateLimit::per_second(#calls)),
        Per::Minute => quote!(::tim_core::RateLimit::per_minute(#calls)),
        Per::Day => quote!(::tim_core::RateLimit::per_day(#calls)),
    };
    let shared_consts = s.shared_errors.iter().map(|t| {
        let c = errors::table_const(t);
        quote!(#errors_path::#c)
    });
    let groups = s.group_types.iter().map(|g| {
        let (t, supported, ignored) = (g.group_type.as_str(), g.supported, g.ignored);
        let note = g.note.clone().unwrap_or_default();
        quote! {
            ::tim_core::GroupTypeSupport { group_type: #t, supported: #supported, note: #note, ignored: #ignored }
        }
    });
    let sample = s.samples.first();
    let sample_req = sample.map(|x| x.request_json.as_str()).unwrap_or_default();
    let sample_resp = sample.map(|x| x.response_json.as_str()).unwrap_or_default();
    let meta_doc = format!(" Metadata of `{path}`: rate limit, retry safety, error tables, sample.");
    let partial = s.partial.as_deref().map(|p| {
        let p = p.trim();
        quote!(.partial(#p))
    });
    let limits = (!s.limits.is_empty()).then(|| {
        let rows = s.limits.iter().map(|l| {
            let (name, max, doc) = (l.name.as_str(), l.max, l.doc.trim());
            let code = match l.code {
                Some(c) => quote!(::std::option::Option::Some(#c)),
                None => quote!(::std::option::Option::None),
            };
            quote!(::tim_core::LimitMeta { name: #name, max: #max, code: #code, doc: #doc })
        });
        quote!(.limits(&[#(#rows),*]))
    });
    let rate_limits = (!s.rate_limits.is_empty()).then(|| {
        let rows = s.rate_limits.iter().map(|l| {
            let calls = Literal::u32_unsuffixed(l.rate.calls);
            let limit = match l.rate.per {
                Per::Second => quote!(::tim_core::RateLimit::per_second(#calls)),
                Per::Minute => quote!(::tim_core::RateLimit::per_minute(#calls)),
                Per::Day => quote!(::tim_core::RateLimit::per_day(#calls)),
            };
            let opt_str = |v: &Option<String>| match v {
                Some(v) => quote!(::std::option::Option::Some(#v)),
                None => quote!(::std::option::Option::None),
            };
            let (cost, per) = (opt_str(&l.cost), opt_str(&l.per));
            let code = match l.code {
                Some(c) => quote!(::std::option::Option::Some(#c)),
                None => quote!(::std::option::Option::None),
            };
            let (main, doc) = (l.main, l.doc.trim());
            quote!(::tim_core::RateLimitMeta { limit: #limit, cost: #cost, per: #per, code: #code, main: #main, doc: #doc })
        });
        quote!(.rate_limits(&[#(#rows),*]))
    });
    let paginated = s.pagination.as_ref().map(|p| pagination::paginated(&resp, p));
    let pagination_meta = s.pagination.as_ref().map(|_| quote!(.pagination(&PAGINATION)));
    let batched = s.batch.as_ref().map(|b| batch::batched(&req, b));
    let batch_meta = s.batch.as_ref().map(|_| quote!(.batch(&BATCH)));
    let rate_units = rate_units(s);
    let req_items = req.items;
    let resp_items = resp.items;
    quote! {
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
        )#partial #limits #rate_limits #pagination_meta #batch_meta;

        #(#req_items)*

        #required

        impl ::tim_core::ApiRequest for Request {
            type Response = Response;
            type Error = Error;
            const META: &'static ::tim_core::EndpointMeta = &META;
            #rate_units
        }

        #(#resp_items)*

        #paginated

        #batched

        #error_enum
    }
}

/// `ApiRequest::rate_units` for an endpoint whose extra limits count a
/// list's length or keep one budget per field value; nothing otherwise.
fn rate_units(s: &Endpoint) -> Option<TokenStream> {
    let field = |name: &str| s.request.iter().find(|f| f.wire == name);
    let costs: Vec<_> = s
        .rate_limits
        .iter()
        .filter_map(|l| {
            let wire = l.cost.as_deref()?;
            let f = field(wire)?;
            let id = crate::names::ident(&f.rust);
            let len = if f.required {
                quote!(self.#id.len())
            } else {
                quote!(self.#id.as_ref().map_or(1, ::std::vec::Vec::len))
            };
            Some(quote!(::std::option::Option::Some(#wire) => #len,))
        })
        .collect();
    let keys: Vec<_> = s
        .rate_limits
        .iter()
        .filter_map(|l| {
            let wire = l.per.as_deref()?;
            let f = field(wire)?;
            let id = crate::names::ident(&f.rust);
            let key = if f.required {
                quote!(::std::option::Option::Some(::std::string::ToString::to_string(&self.#id)))
            } else {
                quote!(self.#id.as_ref().map(::std::string::ToString::to_string))
            };
            Some(quote!(::std::option::Option::Some(#wire) => #key,))
        })
        .collect();
    if costs.is_empty() && keys.is_empty() {
        return None;
    }
    let cost = if costs.is_empty() { quote!(1) } else { quote!(match limit.cost { #(#costs)* _ => 1 }) };
    let key = if keys.is_empty() {
        quote!(::std::option::Option::None)
    } else {
        quote!(match limit.per { #(#keys)* _ => ::std::option::Option::None })
    };
    Some(quote! {
        fn rate_units(&self, limit: &::tim_core::RateLimitMeta) -> ::tim_core::RateUnits {
            let cost = #cost;
            let key = #key;
            ::tim_core::RateUnits::new(cost, key)
        }
    })
}

/// For a request with several required fields: `Required`, those fields by
/// name, and `Request::from(Required { .. })`, so a call site names each one
/// and the compiler refuses a literal that leaves one out (`Request::new`
/// takes them by position).
fn required_by_name(cx: &TypeCx<'_>, fields: &[crate::model::Field]) -> Option<TokenStream> {
    let required: Vec<_> = fields.iter().filter(|f| f.required).collect();
    if required.len() < 2 {
        return None;
    }
    // The fields' own types were emitted with the request; only their names are needed here.
    let mut scratch = cx.names_only();
    let defs = required.iter().map(|f| {
        let (id, ty) = (crate::names::ident(&f.rust), scratch.value_type(&f.ty));
        let doc = docs::attrs(&docs::field(f));
        quote!(#doc pub #id: #ty)
    });
    let args = required.iter().map(|f| {
        let id = crate::names::ident(&f.rust);
        quote!(r.#id)
    });
    Some(quote! {
        /// The required fields of [`Request`], by name:
        /// `Request::from(Required { .. })` does not compile while one is
        /// missing. Optional fields are set with `Request`'s setters after.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Required { #(#defs,)* }

        impl ::std::convert::From<Required> for Request {
            fn from(r: Required) -> Self {
                Self::new(#(#args),*)
            }
        }
    })
}
