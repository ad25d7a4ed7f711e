//! The `callbacks` module: a module per callback (`Payload`, and for
//! before-callbacks `Reply` with a constructor per documented decision), and
//! the `Callback` enum over all of them.

use std::collections::BTreeMap;

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::derives::{Gate, Wire};
use super::types::TypeCx;
use super::{docs, Module};
use crate::model::{Callback, CallbackKind, Effect, Field, IntKind, SpecSet, Type};
use crate::names::ident;

/// Callback payloads and replies travel both ways: the app reads payloads
/// and writes replies; the test helpers and the mock write payloads and read
/// replies. Unknown fields are additions by a newer server, never mistakes.
const BOTH_WAYS: Wire = Wire { sent: true, received: true, strict: false };

/// The `callbacks` module with its area and callback modules; `None` when
/// the set has no callbacks.
pub(crate) fn module(set: &SpecSet, cfg: TokenStream) -> Option<Module> {
    if set.callbacks.is_empty() {
        return None;
    }
    let mut areas: BTreeMap<String, Vec<Module>> = BTreeMap::new();
    for cb in &set.callbacks {
        let body = callback_module(set, cb);
        areas.entry(cb.area_module()).or_default().push(Module {
            name: cb.module_name(),
            cfg: TokenStream::new(),
            body,
            children: Vec::new(),
        });
    }
    let children = areas
        .into_iter()
        .map(|(area, children)| {
            let wire_area = set.callbacks.iter().find(|c| c.area_module() == area).map(|c| c.area.as_str());
            let body = docs::inner_attrs(&format!("Callbacks `{}.*`.", wire_area.unwrap_or(&area)));
            Module { name: area, cfg: TokenStream::new(), body, children }
        })
        .collect();
    Some(Module { name: "callbacks".into(), cfg, body: root(set), children })
}

/// The `callbacks` module's own items: the `Callback` enum and `CALLBACKS`.
fn root(set: &SpecSet) -> TokenStream {
    let doc = docs::inner_attrs(
        "Callbacks (webhooks) Tencent's servers send to the app, generated from `specs/callbacks/`.\n\n\
         [`Callback`] is any of them, parsed; each module holds a callback's `Payload` and, for \
         callbacks sent before the event, the `Reply` whose constructors are its documented \
         decisions. Verify a request (`tim_core::callback::CallbackVerifier`) before parsing it.",
    );
    let mut variants = Vec::new();
    let mut parse_arms = Vec::new();
    let mut command_arms = Vec::new();
    let mut meta_arms = Vec::new();
    let mut json_arms = Vec::new();
    let mut metas = Vec::new();
    for cb in &set.callbacks {
        let v = ident(&cb.variant_name());
        let (area, m) = (ident(&cb.area_module()), ident(&cb.module_name()));
        let command = cb.command.as_str();
        let vdoc = docs::attrs(&format!("{} (`{command}`).", cb.title.trim()));
        variants.push(quote!(#vdoc #v(::std::boxed::Box<#area::#m::Payload>)));
        parse_arms.push(quote! {
            #command => Self::#v(::std::boxed::Box::new(::tim_core::callback::CallbackParseError::parse(command, body)?))
        });
        command_arms.push(quote!(Self::#v(_) => #command));
        meta_arms.push(quote!(Self::#v(_) => ::std::option::Option::Some(&#area::#m::META)));
        json_arms.push(quote!(Self::#v(p) => ::tim_core::__private::serde_json::to_value(p)));
        metas.push(quote!(&#area::#m::META));
    }
    let value = quote!(::tim_core::__private::serde_json::Value);
    quote! {
        #doc

        /// A parsed callback: one variant per command the specs type, and
        /// [`Callback::Unknown`] for any other, kept as received.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Callback {
            #(#variants,)*
            /// A command these specs do not type (new, or from a newer
            /// service), with its body as received.
            Unknown {
                /// The `CallbackCommand`.
                command: ::std::string::String,
                /// The body.
                body: #value,
            },
        }

        impl ::tim_core::callback::CallbackSet for Callback {
            fn parse(command: &str, body: &[u8]) -> ::std::result::Result<Self, ::tim_core::callback::CallbackParseError> {
                ::std::result::Result::Ok(match command {
                    #(#parse_arms,)*
                    _ => Self::Unknown {
                        command: command.to_owned(),
                        body: ::tim_core::callback::CallbackParseError::parse(command, body)?,
                    },
                })
            }

            fn command(&self) -> &str {
                match self {
                    #(#command_arms,)*
                    Self::Unknown { command, .. } => command,
                }
            }

            fn meta(&self) -> ::std::option::Option<&'static ::tim_core::callback::CallbackMeta> {
                match self {
                    #(#meta_arms,)*
                    Self::Unknown { .. } => ::std::option::Option::None,
                }
            }

            fn to_json(&self) -> #value {
                let value = match self {
                    #(#json_arms,)*
                    Self::Unknown { body, .. } => ::std::result::Result::Ok(body.clone()),
                };
                value.unwrap_or(#value::Null)
            }
        }

        /// Every callback these specs type, sorted by command.
        pub static CALLBACKS: &[&::tim_core::callback::CallbackMeta] = &[#(#metas),*];
    }
}

/// The body of one callback's module.
fn callback_module(set: &SpecSet, cb: &Callback) -> TokenStream {
    let types_path = quote!(super::super::super::types);
    let doc = docs::inner_attrs(&module_doc(cb));
    let mut cx =
        TypeCx { set, wire: BOTH_WAYS, gate: Gate { feature: false }, types_path, items: Vec::new() };
    cx.struct_def(
        "Payload",
        &format!(
            "Body of `{}` without `CallbackCommand`.\n\nFields the spec does not list are ignored.",
            cb.command
        ),
        &cb.payload,
    );
    let reply = (cb.kind == CallbackKind::Before).then(|| reply(&mut cx, cb));
    let items = cx.items;
    let (command, title) = (cb.command.as_str(), cb.title.trim());
    let kind = match cb.kind {
        CallbackKind::Before => quote!(::tim_core::callback::CallbackKind::Before),
        CallbackKind::After => quote!(::tim_core::callback::CallbackKind::After),
    };
    let partial = match &cb.partial {
        Some(p) => {
            let p = p.trim();
            quote!(::std::option::Option::Some(#p))
        }
        None => quote!(::std::option::Option::None),
    };
    let decisions = cb.decisions.iter().map(|d| {
        let name = d.name.as_str();
        let (lo, hi) = (Literal::i64_unsuffixed(d.codes.0), Literal::i64_unsuffixed(d.codes.1));
        let effect = match d.effect {
            Effect::Allow => quote!(::tim_core::callback::DecisionEffect::Allow),
            Effect::Deny => quote!(::tim_core::callback::DecisionEffect::Deny),
            Effect::Drop => quote!(::tim_core::callback::DecisionEffect::Drop),
        };
        let caller = match d.caller_error {
            Some(c) => {
                let c = Literal::i64_unsuffixed(c);
                quote!(::std::option::Option::Some(#c))
            }
            None => quote!(::std::option::Option::None),
        };
        let fields = &d.fields;
        quote!(::tim_core::callback::DecisionMeta::new(#name, (#lo, #hi), #effect, #caller, &[#(#fields),*]))
    });
    let meta_doc = format!(" Metadata of `{command}`: kind, documented decisions.");
    let limits = (!cb.limits.is_empty()).then(|| {
        let rows = cb.limits.iter().map(|l| {
            let (name, max, doc) = (l.name.as_str(), l.max, l.doc.trim());
            quote!(::tim_core::LimitMeta { name: #name, max: #max, code: ::std::option::Option::None, doc: #doc })
        });
        quote!(.limits(&[#(#rows),*]))
    });
    quote! {
        #doc

        #[doc = #meta_doc]
        pub static META: ::tim_core::callback::CallbackMeta = ::tim_core::callback::CallbackMeta::new(
            #command,
            #title,
            #kind,
            &[#(#decisions),*],
            #partial,
        )#limits;

        #(#items)*

        impl ::tim_core::callback::CallbackPayload for Payload {
            const META: &'static ::tim_core::callback::CallbackMeta = &META;
        }

        #reply
    }
}

/// `Reply`: the envelope and the reply fields, a constructor per decision,
/// and the conversion into the receiver's reply type.
fn reply(cx: &mut TypeCx<'_>, cb: &Callback) -> TokenStream {
    let envelope = |wire: &str, ty: Type, doc: &str| Field {
        wire: wire.to_owned(),
        rust: crate::names::snake(wire),
        ty,
        required: true,
        doc: Some(doc.to_owned()),
        note: None,
        deprecated: None,
        lenient: false,
        aliases: Vec::new(),
    };
    let mut fields = vec![
        envelope(
            "ErrorCode",
            Type::Int { kind: IntKind::I64, range: Default::default() },
            "The decision: 0 lets the event go ahead; see the constructors for the others.",
        ),
        envelope(
            "ErrorInfo",
            Type::String { len: Default::default(), prefix: None },
            "Text passed on with a denial.",
        ),
    ];
    fields.extend(cb.reply.iter().map(|f| Field { required: false, ..f.clone() }));
    cx.struct_def(
        "Reply",
        &format!(
            "Reply to `{}`: build it with a decision constructor, then convert it into a \
             `tim_core::callback::CallbackReply`.",
            cb.command
        ),
        &fields,
    );
    let ctors = cb.decisions.iter().map(|d| {
        let name = ident(&d.name);
        let (lo, hi) = (Literal::i64_unsuffixed(d.codes.0), Literal::i64_unsuffixed(d.codes.1));
        let caller = d
            .caller_error
            .map(|c| format!(" The user who caused the event gets error {c}."))
            .unwrap_or_default();
        if d.ranged {
            let doc = docs::attrs(&format!(
                "{}{caller}\n\n`code` must be within {}..={}; anything else is refused with a \
                 `DecisionError`, nothing is sent.",
                d.doc.trim(),
                d.codes.0,
                d.codes.1
            ));
            let dname = d.name.as_str();
            return quote! {
                #doc
                pub fn #name(
                    code: i64,
                    info: impl ::std::convert::Into<::std::string::String>,
                ) -> ::std::result::Result<Self, ::tim_core::callback::DecisionError> {
                    if (#lo..=#hi).contains(&code) {
                        ::std::result::Result::Ok(Self::new(code, info))
                    } else {
                        ::std::result::Result::Err(::tim_core::callback::DecisionError {
                            decision: #dname,
                            code,
                            range: (#lo, #hi),
                        })
                    }
                }
            };
        }
        let doc = docs::attrs(&format!("{}{caller} (`ErrorCode` {}.)", d.doc.trim(), d.codes.0));
        let args: Vec<_> = d
            .fields
            .iter()
            .filter_map(|w| cb.reply.iter().find(|f| &f.wire == w))
            .map(|f| {
                let mut scratch = cx.names_only();
                let name = ident(&f.rust);
                let (_, param, _) = scratch.field_param(&f.ty, &name);
                (name, param)
            })
            .collect();
        let params = args.iter().map(|(n, t)| quote!(#n: #t));
        let sets = args.iter().map(|(n, _)| quote!(.#n(#n)));
        quote! {
            #doc
            #[must_use]
            pub fn #name(#(#params),*) -> Self {
                Self::new(#lo, ::std::string::String::new()) #(#sets)*
            }
        }
    });
    quote! {
        impl Reply {
            #(#ctors)*
        }

        impl ::std::convert::From<Reply> for ::tim_core::callback::CallbackReply {
            fn from(reply: Reply) -> Self {
                let mut out = ::tim_core::callback::CallbackReply::with_code(reply.error_code, reply.error_info.clone());
                if let ::std::result::Result::Ok(::tim_core::__private::serde_json::Value::Object(map)) =
                    ::tim_core::__private::serde_json::to_value(&reply)
                {
                    for (k, v) in map {
                        if k != "ErrorCode" && k != "ErrorInfo" {
                            out.fields.insert(k, v);
                        }
                    }
                }
                out
            }
        }
    }
}

/// Module doc: what the callback is, its kind, decisions and a sample.
fn module_doc(cb: &Callback) -> String {
    let kind = match cb.kind {
        CallbackKind::Before => "before the event: the reply decides",
        CallbackKind::After => "after the event: the reply is only acknowledged",
    };
    let mut d = format!(
        "{}\n\n{}\n\n| | |\n|---|---|\n| Command | `{}` |\n| Sent | {kind} |\n| Source | {} |\n\n",
        cb.title.trim(),
        cb.description.trim(),
        cb.command,
        cb.source.trim()
    );
    if let Some(p) = &cb.partial {
        d.push_str(&format!("**Partly documented:** {}\n\n", p.trim()));
    }
    if !cb.decisions.is_empty() {
        d.push_str("# Decisions\n\n| Constructor | ErrorCode | Effect | Caller gets |\n|---|---|---|---|\n");
        for dec in &cb.decisions {
            let code = if dec.ranged {
                format!("{}..={}", dec.codes.0, dec.codes.1)
            } else {
                dec.codes.0.to_string()
            };
            let effect = match dec.effect {
                Effect::Allow => "goes ahead",
                Effect::Deny => "refused",
                Effect::Drop => "dropped, sender told it succeeded",
            };
            let caller = dec.caller_error.map(|c| c.to_string()).unwrap_or_default();
            d.push_str(&format!("| `Reply::{}` | {code} | {effect} | {caller} |\n", dec.name));
        }
        d.push('\n');
    }
    if let Some(s) = cb.samples.first() {
        let pretty = &s.payload_json_pretty;
        d.push_str(&format!("# Sample body\n\n{}:\n\n```json\n{pretty}\n```\n", s.name));
    }
    if let Some(note) = &cb.note {
        d.push_str(&format!("\n# Note\n\n{}\n", note.trim()));
    }
    d
}
