//! Where a spec field becomes a Rust field: structs, enums and tagged unions,
//! with serde renames, constructors, setters and `Validate` impls.

use std::collections::HashSet;

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::docs;
use crate::load::SpecSet;
use crate::model::{EnumValueSpec, FieldSpec};
use crate::names::{camel, ident, snake, INTEGER_TYPES};

/// Which side of the wire a type is used on; it decides strictness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Sent by us: unknown fields in user-supplied JSON are mistakes.
    Request,
    /// Received: unknown fields are ignored for forward compatibility.
    Response,
    /// Shared types, used on both sides: lenient like responses.
    Shared,
}

/// Renders the types of one module, collecting nested definitions in `items`.
pub(crate) struct TypeCx<'a> {
    pub set: &'a SpecSet,
    pub role: Role,
    /// Path from the current module to the shared `types` module.
    pub types_path: TokenStream,
    /// Definitions emitted so far.
    pub items: Vec<TokenStream>,
}

fn serde_path() -> TokenStream {
    quote!(::tim_core::__private::serde)
}

impl TypeCx<'_> {
    /// Rust type of a value of `f` (without the `Option` of optional fields);
    /// emits any struct/enum/union it needs, named `name` unless `rust_name` says otherwise.
    pub(crate) fn value_type(&mut self, f: &FieldSpec, name: &str) -> TokenStream {
        let own = || ident(&f.rust_name.clone().unwrap_or_else(|| camel(name)));
        match f.ty.as_str() {
            "string" => quote!(::std::string::String),
            "bool" => quote!(bool),
            "f64" => quote!(f64),
            "json" => quote!(::tim_core::__private::serde_json::Value),
            t if INTEGER_TYPES.contains(&t) => {
                let t = format_ident!("{}", t);
                quote!(#t)
            }
            "array" => {
                let inner = self.items_type(f, name);
                quote!(::std::vec::Vec<#inner>)
            }
            "map" => {
                let inner = self.items_type(f, name);
                quote!(::std::collections::BTreeMap<::std::string::String, #inner>)
            }
            "object" => {
                let id = own();
                let doc = f.doc.clone().unwrap_or_else(|| format!("The `{name}` object."));
                self.struct_def(&id.to_string(), &doc, f.fields.as_deref().unwrap_or_default());
                quote!(#id)
            }
            "enum" => {
                let id = own();
                let doc = f.doc.clone().unwrap_or_else(|| format!("Values of `{name}`."));
                self.enum_def(&id.to_string(), &doc, f.values.as_deref().unwrap_or_default());
                quote!(#id)
            }
            "union" => {
                let id = own();
                let doc = f.doc.clone().unwrap_or_else(|| format!("Variants of `{name}`."));
                self.union_def(&id.to_string(), &doc, f);
                quote!(#id)
            }
            shared => {
                let id = ident(shared);
                let path = &self.types_path;
                quote!(#path::#id)
            }
        }
    }

    fn items_type(&mut self, f: &FieldSpec, name: &str) -> TokenStream {
        match &f.items {
            Some(items) => self.value_type(items, name),
            None => quote!(::tim_core::__private::serde_json::Value),
        }
    }

    /// Whether values of `f` carry constraints beyond their Rust type.
    pub(crate) fn needs_validation(&self, f: &FieldSpec) -> bool {
        needs_validation(self.set, f, &mut HashSet::new())
    }

    /// A struct with serde renames, `new` for required fields, setters for optional ones.
    pub(crate) fn struct_def(&mut self, name: &str, doc: &str, fields: &[FieldSpec]) {
        let serde = serde_path();
        let serde_str = serde.to_string().replace(' ', "");
        let id = ident(name);
        let doc = docs::attrs(doc);
        let deny = (self.role == Role::Request).then(|| quote!(#[serde(deny_unknown_fields)]));
        let mut defs = Vec::new();
        let mut new_args = Vec::new();
        let mut inits = Vec::new();
        let mut setters = Vec::new();
        let mut checks = Vec::new();
        for f in fields {
            let wire = f.name.as_deref().unwrap_or_default();
            let field = ident(&snake(wire));
            let ty = self.value_type(f, wire);
            let fdoc = docs::attrs(&docs::field(f, wire));
            if f.required {
                defs.push(quote! { #fdoc #[serde(rename = #wire)] pub #field: #ty });
                new_args.push(quote!(#field: impl ::std::convert::Into<#ty>));
                inits.push(quote!(#field: #field.into()));
            } else {
                defs.push(quote! {
                    #fdoc
                    #[serde(rename = #wire, default, skip_serializing_if = "Option::is_none")]
                    pub #field: ::std::option::Option<#ty>
                });
                inits.push(quote!(#field: ::std::option::Option::None));
                let sdoc = format!(" Sets `{wire}`.");
                setters.push(quote! {
                    #[doc = #sdoc]
                    #[must_use]
                    pub fn #field(mut self, value: impl ::std::convert::Into<#ty>) -> Self {
                        self.#field = ::std::option::Option::Some(value.into());
                        self
                    }
                });
            }
            if self.needs_validation(f) {
                let value = quote!(value);
                let at = quote!(::tim_core::endpoint::join_path(path, #wire));
                let body = self.checks(f, &value, &at);
                checks.push(if f.required {
                    quote! { { let value = &self.#field; #body } }
                } else {
                    quote! { if let ::std::option::Option::Some(value) = &self.#field { #body } }
                });
            }
        }
        let path_arg = if checks.is_empty() { quote!(_path) } else { quote!(path) };
        let new_doc = format!(" Creates a `{name}` from its required fields; optional fields start unset.");
        self.items.push(quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, #serde::Serialize, #serde::Deserialize)]
            #[serde(crate = #serde_str)]
            #deny
            #[non_exhaustive]
            pub struct #id { #(#defs,)* }

            #[allow(clippy::new_without_default)]
            impl #id {
                #[doc = #new_doc]
                #[allow(clippy::too_many_arguments)]
                pub fn new(#(#new_args),*) -> Self {
                    Self { #(#inits,)* }
                }
                #(#setters)*
            }

            impl ::tim_core::Validate for #id {
                fn validate_at(&self, #path_arg: &str) -> ::std::result::Result<(), ::tim_core::ValidationError> {
                    #(#checks)*
                    ::std::result::Result::Ok(())
                }
            }
        });
    }

    /// Checks on `value` (a reference to a value of `f`); `at` builds its path.
    fn checks(&self, f: &FieldSpec, value: &TokenStream, at: &TokenStream) -> TokenStream {
        let check = quote!(::tim_core::endpoint::check);
        let opt = |v: Option<i64>| match v {
            Some(v) => {
                let v = Literal::i64_unsuffixed(v);
                quote!(::std::option::Option::Some(#v))
            }
            None => quote!(::std::option::Option::None),
        };
        let opt_len = |v: Option<u64>| match v {
            Some(v) => {
                let v = Literal::u64_unsuffixed(v);
                quote!(::std::option::Option::Some(#v))
            }
            None => quote!(::std::option::Option::None),
        };
        let mut out = TokenStream::new();
        let ty = f.ty.as_str();
        if (f.min.is_some() || f.max.is_some()) && INTEGER_TYPES.contains(&ty) {
            let (min, max) = (opt(f.min), opt(f.max));
            out.extend(quote! { #check::range(i128::from(*#value), #min, #max, || #at)?; });
        }
        if f.min_len.is_some() || f.max_len.is_some() {
            let (min, max) = (opt_len(f.min_len), opt_len(f.max_len));
            let unit = if ty == "string" { "bytes" } else { "items" };
            out.extend(quote! { #check::len(#value.len(), #min, #max, #unit, || #at)?; });
        }
        match ty {
            "array" | "map" => {
                if let Some(items) = f.items.as_deref().filter(|i| self.needs_validation(i)) {
                    let item = quote!(item);
                    let item_at = quote!(item_path.clone());
                    let inner = self.checks(items, &item, &item_at);
                    out.extend(if ty == "array" {
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
            }
            "object" | "union" => out.extend(quote! {
                ::tim_core::Validate::validate_at(#value, &#at)?;
            }),
            t if self.set.types.contains_key(t) && self.needs_validation(f) => out.extend(quote! {
                ::tim_core::Validate::validate_at(#value, &#at)?;
            }),
            _ => {}
        }
        out
    }

    /// An enum that keeps values it does not know in `Unknown`.
    pub(crate) fn enum_def(&mut self, name: &str, doc: &str, values: &[EnumValueSpec]) {
        let serde = serde_path();
        let id = ident(name);
        let doc = docs::attrs(doc);
        let is_str = values.iter().any(|v| v.value.is_string());
        let variants: Vec<_> = values.iter().map(|v| ident(&v.name)).collect();
        let vdocs: Vec<_> = values
            .iter()
            .map(|v| {
                let raw = value_text(&v.value);
                docs::attrs(&format!("{} (wire value `{raw}`)", v.doc.as_deref().unwrap_or(&v.name)))
            })
            .collect();
        let (raw_ty, lits, ser, de) = if is_str {
            let lits: Vec<TokenStream> = values
                .iter()
                .map(|v| {
                    let s = value_text(&v.value);
                    quote!(#s)
                })
                .collect();
            (
                quote!(::std::string::String),
                lits,
                quote!(serializer.serialize_str(self.as_str())),
                quote! {
                    let raw = <::std::string::String as #serde::Deserialize>::deserialize(deserializer)?;
                    ::std::result::Result::Ok(Self::from_raw(raw))
                },
            )
        } else {
            let lits: Vec<TokenStream> = values
                .iter()
                .map(|v| {
                    let n = Literal::i64_unsuffixed(v.value.as_i64().unwrap_or_default());
                    quote!(#n)
                })
                .collect();
            (
                quote!(i64),
                lits,
                quote!(serializer.serialize_i64(self.value())),
                quote! {
                    let raw = <i64 as #serde::Deserialize>::deserialize(deserializer)?;
                    ::std::result::Result::Ok(Self::from_raw(raw))
                },
            )
        };
        let accessors = if is_str {
            quote! {
                /// The wire value.
                pub fn as_str(&self) -> &str {
                    match self { #(Self::#variants => #lits,)* Self::Unknown(raw) => raw }
                }
                /// Classifies a wire value.
                pub fn from_raw(raw: #raw_ty) -> Self {
                    match raw.as_str() { #(#lits => Self::#variants,)* _ => Self::Unknown(raw) }
                }
            }
        } else {
            quote! {
                /// The wire value.
                pub fn value(&self) -> i64 {
                    match self { #(Self::#variants => #lits,)* Self::Unknown(raw) => *raw }
                }
                /// Classifies a wire value.
                pub fn from_raw(raw: #raw_ty) -> Self {
                    match raw { #(#lits => Self::#variants,)* _ => Self::Unknown(raw) }
                }
            }
        };
        self.items.push(quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, Eq, Hash)]
            #[non_exhaustive]
            pub enum #id {
                #(#vdocs #variants,)*
                /// A value this version of the spec does not name; kept as received.
                Unknown(#raw_ty),
            }

            impl #id {
                #accessors
                /// Whether the value is one the spec names.
                pub fn is_known(&self) -> bool {
                    !matches!(self, Self::Unknown(_))
                }
            }

            impl #serde::Serialize for #id {
                fn serialize<S: #serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                    #ser
                }
            }

            impl<'de> #serde::Deserialize<'de> for #id {
                fn deserialize<D: #serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                    #de
                }
            }
        });
    }

    /// A tagged union (`{"<tag>": "...", "<content>": {...}}`) that keeps unknown tags.
    pub(crate) fn union_def(&mut self, name: &str, doc: &str, f: &FieldSpec) {
        let serde = serde_path();
        let serde_str = serde.to_string().replace(' ', "");
        let json = quote!(::tim_core::__private::serde_json);
        let id = ident(name);
        let doc = docs::attrs(doc);
        let tag = f.tag.clone().unwrap_or_default();
        let content = f.content.clone().unwrap_or_default();
        let variants = f.variants.clone().unwrap_or_default();
        let names: Vec<_> =
            variants.iter().map(|v| ident(&v.name.clone().unwrap_or_else(|| camel(&v.tag)))).collect();
        let tys: Vec<_> = variants
            .iter()
            .map(|v| {
                let spec = FieldSpec { ty: v.ty.clone(), ..empty_field() };
                self.value_type(&spec, &v.tag)
            })
            .collect();
        let tags: Vec<_> = variants.iter().map(|v| v.tag.clone()).collect();
        let vdocs: Vec<_> = variants
            .iter()
            .map(|v| docs::attrs(&format!("{} (`{tag}` = `{}`)", v.doc.as_deref().unwrap_or(&v.tag), v.tag)))
            .collect();
        let content_err = format!("{content}: {{}}");
        self.items.push(quote! {
            #doc
            #[derive(Debug, Clone, PartialEq)]
            #[non_exhaustive]
            pub enum #id {
                #(#vdocs #names(#tys),)*
                /// A variant this version of the spec does not know; kept as received.
                Unknown {
                    /// The tag value.
                    tag: ::std::string::String,
                    /// The content, unparsed.
                    content: #json::Value,
                },
            }

            impl #id {
                /// The tag value of this variant.
                pub fn tag(&self) -> &str {
                    match self { #(Self::#names(_) => #tags,)* Self::Unknown { tag, .. } => tag }
                }
            }

            impl #serde::Serialize for #id {
                fn serialize<S: #serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                    use #serde::ser::SerializeMap;
                    let mut map = serializer.serialize_map(::std::option::Option::Some(2))?;
                    map.serialize_entry(#tag, self.tag())?;
                    match self {
                        #(Self::#names(value) => map.serialize_entry(#content, value)?,)*
                        Self::Unknown { content, .. } => map.serialize_entry(#content, content)?,
                    }
                    map.end()
                }
            }

            impl<'de> #serde::Deserialize<'de> for #id {
                fn deserialize<D: #serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                    #[derive(#serde::Deserialize)]
                    #[serde(crate = #serde_str)]
                    struct Raw {
                        #[serde(rename = #tag)]
                        tag: ::std::string::String,
                        #[serde(rename = #content, default)]
                        content: #json::Value,
                    }
                    let raw = <Raw as #serde::Deserialize>::deserialize(deserializer)?;
                    let parsed = match raw.tag.as_str() {
                        #(#tags => #json::from_value(raw.content).map(Self::#names),)*
                        _ => return ::std::result::Result::Ok(Self::Unknown { tag: raw.tag, content: raw.content }),
                    };
                    parsed.map_err(|e| <D::Error as #serde::de::Error>::custom(format_args!(#content_err, e)))
                }
            }

            impl ::tim_core::Validate for #id {
                fn validate_at(&self, path: &str) -> ::std::result::Result<(), ::tim_core::ValidationError> {
                    let at = ::tim_core::endpoint::join_path(path, #content);
                    match self {
                        #(Self::#names(value) => ::tim_core::Validate::validate_at(value, &at),)*
                        Self::Unknown { .. } => { let _ = at; ::std::result::Result::Ok(()) }
                    }
                }
            }
        });
    }
}

fn value_text(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn empty_field() -> FieldSpec {
    FieldSpec {
        name: None,
        ty: String::new(),
        required: false,
        doc: None,
        note: None,
        deprecated: None,
        rust_name: None,
        fields: None,
        items: None,
        values: None,
        tag: None,
        content: None,
        variants: None,
        min: None,
        max: None,
        min_len: None,
        max_len: None,
    }
}

fn needs_validation(set: &SpecSet, f: &FieldSpec, seen: &mut HashSet<String>) -> bool {
    if f.min.is_some() || f.max.is_some() || f.min_len.is_some() || f.max_len.is_some() {
        return true;
    }
    match f.ty.as_str() {
        "array" | "map" => f.items.as_deref().is_some_and(|i| needs_validation(set, i, seen)),
        "object" => f.fields.iter().flatten().any(|x| needs_validation(set, x, seen)),
        "union" => f.variants.iter().flatten().any(|v| {
            let spec = FieldSpec { ty: v.ty.clone(), ..empty_field() };
            needs_validation(set, &spec, seen)
        }),
        t => match set.types.get(t) {
            Some(shared) if seen.insert(t.to_owned()) => needs_validation(set, shared, seen),
            _ => false,
        },
    }
}
