//! Where a spec field becomes a Rust field: structs, enums and tagged unions,
//! with serde renames, constructors, setters and `Validate` impls.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::derives::{Gate, Wire};
use super::{checks, docs, serde_path};
use crate::model::{EnumValues, Field, SpecSet, Type, UnionType};
use crate::names::ident;

/// Renders the types of one module, collecting nested definitions in `items`.
pub(crate) struct TypeCx<'a> {
    pub set: &'a SpecSet,
    /// How the types being rendered travel.
    pub wire: Wire,
    /// Where the parts needed only for calls by path go.
    pub gate: Gate,
    /// Path from the current module to the shared `types` module.
    pub types_path: TokenStream,
    /// Definitions emitted so far.
    pub items: Vec<TokenStream>,
}

impl<'a> TypeCx<'a> {
    /// A context for naming types whose definitions this one already
    /// emitted: what it emits is dropped.
    pub(crate) fn names_only(&self) -> TypeCx<'a> {
        TypeCx {
            set: self.set,
            wire: self.wire,
            gate: self.gate,
            types_path: self.types_path.clone(),
            items: Vec::new(),
        }
    }

    /// Rust type of a value of `ty` (without the `Option` of optional
    /// fields); emits the struct/enum/union it defines, if any.
    pub(crate) fn value_type(&mut self, ty: &Type) -> TokenStream {
        match ty {
            Type::String { .. } => quote!(::std::string::String),
            Type::Bool => quote!(bool),
            Type::F64 => quote!(f64),
            Type::Json => quote!(::tim_core::__private::serde_json::Value),
            Type::Int { kind, .. } => {
                let t = format_ident!("{}", kind.rust_name());
                quote!(#t)
            }
            Type::Array { items, .. } => {
                let inner = self.value_type(items);
                quote!(::std::vec::Vec<#inner>)
            }
            Type::Map { values, .. } => {
                let inner = self.value_type(values);
                quote!(::std::collections::BTreeMap<::std::string::String, #inner>)
            }
            Type::Object(o) => {
                let doc = o.doc.clone().unwrap_or_else(|| format!("The `{}` object.", o.named_after));
                self.struct_def(&o.name, &doc, &o.fields);
                let id = ident(&o.name);
                quote!(#id)
            }
            Type::Enum(e) => {
                let doc = e.doc.clone().unwrap_or_else(|| format!("Values of `{}`.", e.named_after));
                self.enum_def(&e.name, &doc, &e.values);
                let id = ident(&e.name);
                quote!(#id)
            }
            Type::Union(u) => {
                let doc = u.doc.clone().unwrap_or_else(|| format!("Variants of `{}`.", u.named_after));
                self.union_def(&u.name, &doc, u);
                let id = ident(&u.name);
                quote!(#id)
            }
            Type::Shared(name) => {
                let id = ident(name);
                let path = &self.types_path;
                quote!(#path::#id)
            }
        }
    }

    /// For a field of `ty`: its Rust type, the type its `new` argument or
    /// setter takes, and how an argument named `arg` becomes the field's
    /// value. Integers take their own type (so `.limit(100)` compiles),
    /// lists any iterable of convertible items (`["a", "b"]`, a
    /// `Vec<&str>`), everything else anything `Into` the type.
    pub(crate) fn field_param(&mut self, ty: &Type, arg: &Ident) -> (TokenStream, TokenStream, TokenStream) {
        match ty {
            Type::Int { .. } => {
                let t = self.value_type(ty);
                (t.clone(), t, quote!(#arg))
            }
            Type::Array { items, .. } => {
                let inner = self.value_type(items);
                (
                    quote!(::std::vec::Vec<#inner>),
                    quote!(impl ::std::iter::IntoIterator<Item = impl ::std::convert::Into<#inner>>),
                    quote!(#arg.into_iter().map(::std::convert::Into::into).collect()),
                )
            }
            _ => {
                let t = self.value_type(ty);
                (t.clone(), quote!(impl ::std::convert::Into<#t>), quote!(#arg.into()))
            }
        }
    }

    /// A struct with serde renames, `new` for required fields, setters for
    /// optional ones, and `Validate` when it is sent.
    pub(crate) fn struct_def(&mut self, name: &str, doc: &str, fields: &[Field]) {
        let id = ident(name);
        let doc = docs::attrs(doc);
        let attrs = self.gate.struct_attrs(self.wire);
        let mut defs = Vec::new();
        let mut new_args = Vec::new();
        let mut inits = Vec::new();
        let mut setters = Vec::new();
        let mut field_checks = Vec::new();
        for f in fields {
            let wire = f.wire.as_str();
            let field = ident(&f.rust);
            let value_arg = format_ident!("value");
            let arg = if f.required { field.clone() } else { value_arg };
            let (ty, param, convert) = self.field_param(&f.ty, &arg);
            let fdoc = docs::attrs(&docs::field(f));
            let lenient = lenient_attr(f);
            let aliases = &f.aliases;
            let aliases = quote!(#(, alias = #aliases)*);
            if f.required {
                defs.push(quote! { #fdoc #[serde(rename = #wire #aliases)] #lenient pub #field: #ty });
                new_args.push(quote!(#field: #param));
                // An argument of the field's own type needs no conversion.
                inits.push(match f.ty {
                    Type::Int { .. } => quote!(#field),
                    _ => quote!(#field: #convert),
                });
            } else {
                defs.push(quote! {
                    #fdoc
                    #[serde(rename = #wire #aliases, default, skip_serializing_if = "Option::is_none")]
                    #lenient
                    pub #field: ::std::option::Option<#ty>
                });
                inits.push(quote!(#field: ::std::option::Option::None));
                let sdoc = format!(" Sets `{wire}`.");
                setters.push(quote! {
                    #[doc = #sdoc]
                    #[must_use]
                    pub fn #field(mut self, value: #param) -> Self {
                        self.#field = ::std::option::Option::Some(#convert);
                        self
                    }
                });
            }
            if self.wire.sent && checks::needed(self.set, &f.ty) {
                let value = quote!(value);
                let at = quote!(::tim_core::endpoint::join_path(path, #wire));
                let body = checks::of(self.set, &f.ty, &value, &at);
                field_checks.push(if f.required {
                    quote! { { let value = &self.#field; #body } }
                } else {
                    quote! { if let ::std::option::Option::Some(value) = &self.#field { #body } }
                });
            }
        }
        let new_doc = format!(" Creates a `{name}` from its required fields; optional fields start unset.");
        let validate = self.wire.sent.then(|| {
            let path_arg = if field_checks.is_empty() { quote!(_path) } else { quote!(path) };
            quote! {
                impl ::tim_core::Validate for #id {
                    fn validate_at(&self, #path_arg: &str) -> ::std::result::Result<(), ::tim_core::ValidationError> {
                        #(#field_checks)*
                        ::std::result::Result::Ok(())
                    }
                }
            }
        });
        self.items.push(quote! {
            #doc
            #attrs
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

            #validate
        });
    }

    /// An enum that keeps values it does not know in `Unknown`.
    pub(crate) fn enum_def(&mut self, name: &str, doc: &str, values: &EnumValues) {
        let serde = serde_path();
        let id = ident(name);
        let doc = docs::attrs(doc);
        let rows: Vec<(&str, String, Option<&str>)> = match values {
            EnumValues::Strings(v) => {
                v.iter().map(|v| (v.name.as_str(), v.value.clone(), v.doc.as_deref())).collect()
            }
            EnumValues::Integers(v) => {
                v.iter().map(|v| (v.name.as_str(), v.value.to_string(), v.doc.as_deref())).collect()
            }
        };
        let variants: Vec<_> = rows.iter().map(|(name, ..)| ident(name)).collect();
        let vdocs: Vec<_> = rows
            .iter()
            .map(|(name, raw, doc)| docs::attrs(&format!("{} (wire value `{raw}`)", doc.unwrap_or(name))))
            .collect();
        let (raw_ty, accessors, ser, de) = match values {
            EnumValues::Strings(v) => {
                let lits: Vec<_> = v.iter().map(|v| v.value.as_str()).collect();
                (
                    quote!(::std::string::String),
                    quote! {
                        /// The wire value.
                        pub fn as_str(&self) -> &str {
                            match self { #(Self::#variants => #lits,)* Self::Unknown(raw) => raw }
                        }
                        /// Classifies a wire value.
                        pub fn from_raw(raw: ::std::string::String) -> Self {
                            match raw.as_str() { #(#lits => Self::#variants,)* _ => Self::Unknown(raw) }
                        }
                    },
                    quote!(serializer.serialize_str(self.as_str())),
                    quote! {
                        let raw = <::std::string::String as #serde::Deserialize>::deserialize(deserializer)?;
                        ::std::result::Result::Ok(Self::from_raw(raw))
                    },
                )
            }
            EnumValues::Integers(v) => {
                let lits: Vec<_> = v.iter().map(|v| Literal::i64_unsuffixed(v.value)).collect();
                (
                    quote!(i64),
                    quote! {
                        /// The wire value.
                        pub fn value(&self) -> i64 {
                            match self { #(Self::#variants => #lits,)* Self::Unknown(raw) => *raw }
                        }
                        /// Classifies a wire value.
                        pub fn from_raw(raw: i64) -> Self {
                            match raw { #(#lits => Self::#variants,)* _ => Self::Unknown(raw) }
                        }
                    },
                    quote!(serializer.serialize_i64(self.value())),
                    quote! {
                        let raw = <i64 as #serde::Deserialize>::deserialize(deserializer)?;
                        ::std::result::Result::Ok(Self::from_raw(raw))
                    },
                )
            }
        };
        let ser = self.gate.serde_impl(
            self.wire,
            true,
            quote! {
                impl #serde::Serialize for #id {
                    fn serialize<S: #serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                        #ser
                    }
                }
            },
        );
        let de = self.gate.serde_impl(
            self.wire,
            false,
            quote! {
                impl<'de> #serde::Deserialize<'de> for #id {
                    fn deserialize<D: #serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                        #de
                    }
                }
            },
        );
        // Requests are strict: a value the spec does not name is refused
        // before sending (replies keep it in `Unknown`).
        let validate = self.wire.sent.then(|| {
            let check = match values {
                EnumValues::Strings(v) => {
                    let lits: Vec<_> = v.iter().map(|v| v.value.as_str()).collect();
                    quote!(::tim_core::endpoint::check::one_of(raw, &[#(#lits),*], || path.to_owned()))
                }
                EnumValues::Integers(v) => {
                    let lits: Vec<_> = v.iter().map(|v| Literal::i64_unsuffixed(v.value)).collect();
                    quote!(::tim_core::endpoint::check::one_of_int(*raw, &[#(#lits),*], || path.to_owned()))
                }
            };
            quote! {
                impl ::tim_core::Validate for #id {
                    fn validate_at(&self, path: &str) -> ::std::result::Result<(), ::tim_core::ValidationError> {
                        match self {
                            Self::Unknown(raw) => #check,
                            _ => ::std::result::Result::Ok(()),
                        }
                    }
                }
            }
        });
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

            #ser
            #de
            #validate
        });
    }

    /// A tagged union (`{"<tag>": "...", "<content>": {...}}`) that keeps unknown tags.
    pub(crate) fn union_def(&mut self, name: &str, doc: &str, u: &UnionType) {
        let serde = serde_path();
        let serde_str = serde.to_string().replace(' ', "");
        let json = quote!(::tim_core::__private::serde_json);
        let id = ident(name);
        let doc = docs::attrs(doc);
        let (tag, content) = (u.tag.as_str(), u.content.as_str());
        let names: Vec<_> = u.variants.iter().map(|v| ident(&v.name)).collect();
        let tys: Vec<_> = u.variants.iter().map(|v| self.value_type(&v.ty)).collect();
        let tags: Vec<_> = u.variants.iter().map(|v| v.tag.as_str()).collect();
        let vdocs: Vec<_> = u
            .variants
            .iter()
            .map(|v| docs::attrs(&format!("{} (`{tag}` = `{}`)", v.doc.as_deref().unwrap_or(&v.tag), v.tag)))
            .collect();
        let content_err = format!("{content}: {{}}");
        let ser = self.gate.serde_impl(
            self.wire,
            true,
            quote! {
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
            },
        );
        let de = self.gate.serde_impl(
            self.wire,
            false,
            quote! {
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
            },
        );
        let validate = self.wire.sent.then(|| {
            quote! {
                impl ::tim_core::Validate for #id {
                    fn validate_at(&self, path: &str) -> ::std::result::Result<(), ::tim_core::ValidationError> {
                        let at = ::tim_core::endpoint::join_path(path, #content);
                        match self {
                            #(Self::#names(value) => ::tim_core::Validate::validate_at(value, &at),)*
                            Self::Unknown { tag, .. } => ::std::result::Result::Err(
                                ::tim_core::endpoint::check::union_tag(tag, &[#(#tags),*], #tag, || path.to_owned()),
                            ),
                        }
                    }
                }
            }
        });
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

            #ser
            #de
            #validate
        });
    }
}

/// `#[serde(deserialize_with = ..)]` for a field that also accepts the other
/// JSON type the pages show; nothing for other fields.
fn lenient_attr(f: &Field) -> TokenStream {
    if !f.lenient {
        return TokenStream::new();
    }
    let func = match (&f.ty, f.required) {
        (Type::Int { .. }, true) => "int",
        (Type::Int { .. }, false) => "opt_int",
        (Type::String { .. }, true) => "string",
        (Type::String { .. }, false) => "opt_string",
        _ => return TokenStream::new(),
    };
    let path = format!("::tim_core::__private::lenient::{func}");
    quote!(#[serde(deserialize_with = #path)])
}
