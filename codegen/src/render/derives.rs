//! Which serde impls and checks a generated type gets.
//!
//! A type gets what its side of the wire needs: a request is serialized and
//! validated, a response deserialized. Calls by path (`tim call`, the mock
//! server) also need the other direction; that part sits behind the API
//! crate's `server` feature, or is always emitted when the caller's features
//! are unknown (the proc-macro).

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{SpecSet, Type};

/// How a type travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wire {
    /// Sent by the client: serialized, and validated before sending.
    pub sent: bool,
    /// Received by the client: deserialized.
    pub received: bool,
    /// Unknown fields are mistakes, not additions by a newer server: only for
    /// types defined inside a request.
    pub strict: bool,
}

impl Wire {
    /// Types of a request body.
    pub const REQUEST: Wire = Wire { sent: true, received: false, strict: true };
    /// Types of a response body.
    pub const RESPONSE: Wire = Wire { sent: false, received: true, strict: false };
}

/// Where code needed only for calls by path goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gate {
    /// Behind `#[cfg(feature = "server")]` rather than always there.
    pub feature: bool,
}

impl Gate {
    /// `item`, compiled only with the `server` feature when gated.
    pub fn item(self, item: TokenStream) -> TokenStream {
        if self.feature {
            quote!(#[cfg(feature = "server")] #item)
        } else {
            item
        }
    }

    /// `#[derive(..)]` and container attributes of a struct used as `wire` says.
    pub fn struct_attrs(self, wire: Wire) -> TokenStream {
        let serde = super::serde_path();
        let serde_str = serde.to_string().replace(' ', "");
        let (always_ser, always_de) = (wire.sent || !self.feature, wire.received || !self.feature);
        let mut always = vec![quote!(Debug), quote!(Clone), quote!(PartialEq)];
        // Attributes that only apply with the `server` feature.
        let mut gated = Vec::new();
        for (always_there, derive) in
            [(always_ser, quote!(#serde::Serialize)), (always_de, quote!(#serde::Deserialize))]
        {
            if always_there {
                always.push(derive);
            } else {
                gated.push(quote!(derive(#derive)));
            }
        }
        // Only deserializing looks at it, so it goes where `Deserialize` goes.
        let mut deny = TokenStream::new();
        if wire.strict && always_de {
            deny = quote!(#[serde(deny_unknown_fields)]);
        } else if wire.strict {
            gated.push(quote!(serde(deny_unknown_fields)));
        }
        let gated = (!gated.is_empty()).then(|| quote!(#[cfg_attr(feature = "server", #(#gated),*)]));
        quote! {
            #[derive(#(#always),*)]
            #gated
            #[serde(crate = #serde_str)]
            #deny
        }
    }

    /// `impl` is a serializer (`serializes`) or deserializer of a type used
    /// as `wire` says: kept as is when that side needs it, else gated.
    pub fn serde_impl(self, wire: Wire, serializes: bool, imp: TokenStream) -> TokenStream {
        let needed = if serializes { wire.sent } else { wire.received };
        if needed {
            imp
        } else {
            self.item(imp)
        }
    }
}

/// How each shared type travels, from where endpoints use it. A type no
/// endpoint uses travels both ways, since callers may use it anywhere.
pub(crate) fn shared_wires(set: &SpecSet) -> BTreeMap<String, Wire> {
    let mut sent = BTreeSet::new();
    let mut received = BTreeSet::new();
    for ep in &set.endpoints {
        for f in &ep.request {
            mark(set, &f.ty, &mut sent);
        }
        for f in &ep.response {
            mark(set, &f.ty, &mut received);
        }
    }
    // Callback payloads and replies travel both ways (see `callbacks::BOTH_WAYS`).
    for cb in &set.callbacks {
        for f in cb.payload.iter().chain(&cb.reply) {
            mark(set, &f.ty, &mut sent);
            mark(set, &f.ty, &mut received);
        }
    }
    set.types
        .keys()
        .map(|name| {
            let (s, r) = (sent.contains(name), received.contains(name));
            let unused = !s && !r;
            (name.clone(), Wire { sent: s || unused, received: r || unused, strict: false })
        })
        .collect()
}

/// Marks the shared types `ty` reaches.
fn mark(set: &SpecSet, ty: &Type, seen: &mut BTreeSet<String>) {
    match ty {
        Type::Array { items, .. } => mark(set, items, seen),
        Type::Map { values, .. } => mark(set, values, seen),
        Type::Object(o) => o.fields.iter().for_each(|f| mark(set, &f.ty, seen)),
        Type::Union(u) => u.variants.iter().for_each(|v| mark(set, &v.ty, seen)),
        Type::Shared(name) => {
            if seen.insert(name.clone()) {
                if let Some(shared) = set.types.get(name) {
                    mark(set, &shared.ty, seen);
                }
            }
        }
        Type::String { .. } | Type::Bool | Type::Int { .. } | Type::F64 | Type::Json | Type::Enum(_) => {}
    }
}
