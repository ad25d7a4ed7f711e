//! Where a type string becomes a [`Type`]: fields, objects, arrays, maps,
//! enums, unions and references to shared types, with their constraints.
//! This is the only code that reads the `type:` keys of a spec.

use std::collections::{HashMap, HashSet};

use super::check::{join, last_segment, Checker};
use crate::model::spec::{EnumValueSpec, FieldSpec};
use crate::model::{
    Bounds, EnumType, EnumValue, EnumValues, Field, IntKind, ObjectType, Type, UnionType, UnionVariant,
};
use crate::names::{camel, is_camel_ident, snake};

/// What a `type:` string names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Bool,
    Int(IntKind),
    F64,
    Json,
    Object,
    Array,
    Map,
    Enum,
    Union,
    Shared,
}

impl Kind {
    /// A built-in type name; `None` for anything else (maybe a shared type).
    fn builtin(ty: &str) -> Option<Kind> {
        Some(match ty {
            "string" => Kind::String,
            "bool" => Kind::Bool,
            "f64" => Kind::F64,
            "json" => Kind::Json,
            "object" => Kind::Object,
            "array" => Kind::Array,
            "map" => Kind::Map,
            "enum" => Kind::Enum,
            "union" => Kind::Union,
            _ => Kind::Int(IntKind::ALL.into_iter().find(|k| k.rust_name() == ty)?),
        })
    }

    /// Whether the key `key` of a field may be given for this kind.
    fn allows(self, key: &str) -> bool {
        match key {
            "fields" => self == Kind::Object,
            "items" => matches!(self, Kind::Array | Kind::Map),
            "values" => self == Kind::Enum,
            "tag" | "content" | "variants" => self == Kind::Union,
            "rust_name" => matches!(self, Kind::Object | Kind::Enum | Kind::Union),
            "min" | "max" => matches!(self, Kind::Int(_)),
            "min_len" | "max_len" => matches!(self, Kind::String | Kind::Array | Kind::Map),
            "prefix" => self == Kind::String,
            _ => true,
        }
    }

    /// The scalar type of this kind, without constraints.
    fn scalar(self) -> Option<Type> {
        Some(match self {
            Kind::String => Type::String { len: Bounds::default(), prefix: None },
            Kind::Bool => Type::Bool,
            Kind::Int(kind) => Type::Int { kind, range: Bounds::default() },
            Kind::F64 => Type::F64,
            Kind::Json => Type::Json,
            _ => return None,
        })
    }
}

impl Checker<'_> {
    /// The fields of a request, response or object; `parent` is their dotted path.
    pub(super) fn fields(&mut self, fields: &[FieldSpec], parent: &str) -> Vec<Field> {
        let mut wire = HashSet::new();
        let mut rust = HashMap::new();
        let mut out = Vec::new();
        for f in fields {
            let Some(name) = f.name.as_deref() else {
                let pos = self.loc.first("type", &f.ty);
                self.err(pos, parent.to_owned(), "a field needs a `name`".into());
                continue;
            };
            let pos = self.loc.next("name", name);
            let path = join(parent, name);
            if !wire.insert(name.to_owned()) {
                self.err(pos, path.clone(), "duplicate field".into());
                continue;
            }
            for alias in &f.aliases {
                if alias == name || fields.iter().any(|o| o.name.as_deref() == Some(alias.as_str())) {
                    self.err(pos, path.clone(), format!("alias `{alias}` is the name of a field here"));
                } else if !wire.insert(alias.clone()) {
                    self.err(pos, path.clone(), format!("alias `{alias}` is used twice here"));
                }
            }
            let rust_name = snake(name);
            if let Some(other) = rust.insert(rust_name.clone(), name.to_owned()) {
                self.err(pos, path.clone(), format!("Rust name `{rust_name}` collides with field `{other}`"));
            }
            let ty = self.ty(f, &path, pos, false, None);
            if f.lenient && !matches!(ty, Type::Int { .. } | Type::String { .. }) {
                self.err(pos, path.clone(), "`lenient` applies to integer and string fields only".into());
            }
            out.push(Field {
                wire: name.to_owned(),
                rust: rust_name,
                ty,
                required: f.required,
                doc: f.doc.clone(),
                note: f.note.clone(),
                deprecated: f.deprecated.clone(),
                lenient: f.lenient,
                aliases: f.aliases.clone(),
            });
        }
        out
    }

    /// The type of a field, an element type (`is_item`) or a shared type
    /// (`given_name`: its generated type is named so, and the name is claimed
    /// already). `pos` is where the field's `name` sits.
    pub(super) fn ty(
        &mut self,
        f: &FieldSpec,
        path: &str,
        pos: (usize, usize),
        is_item: bool,
        given_name: Option<&str>,
    ) -> Type {
        let ty = f.ty.as_str();
        let kind = match Kind::builtin(ty) {
            Some(kind) => kind,
            None if self.shared_types.contains(ty) => Kind::Shared,
            None => {
                let pos = self.loc.first("type", ty);
                self.err(
                    pos,
                    path.to_owned(),
                    format!("unknown type `{ty}` (not built in, not in shared/types.yaml)"),
                );
                return Type::Json;
            }
        };
        if is_item && (f.name.is_some() || f.required) {
            self.err(
                pos,
                path.to_owned(),
                "`items` describes a type: it takes no `name` or `required`".into(),
            );
        }
        let present = [
            ("fields", f.fields.is_some()),
            ("items", f.items.is_some()),
            ("values", f.values.is_some()),
            ("tag", f.tag.is_some()),
            ("content", f.content.is_some()),
            ("variants", f.variants.is_some()),
            ("rust_name", f.rust_name.is_some()),
            ("min", f.min.is_some()),
            ("max", f.max.is_some()),
            ("min_len", f.min_len.is_some()),
            ("max_len", f.max_len.is_some()),
            ("prefix", f.prefix.is_some()),
        ];
        for (key, is_set) in present {
            if is_set && !kind.allows(key) {
                self.err(pos, path.to_owned(), format!("`{key}` does not apply to type `{ty}`"));
            }
        }
        let range = Bounds { min: f.min, max: f.max };
        if let (Some(min), Some(max)) = (range.min, range.max) {
            if min > max {
                self.err(pos, path.to_owned(), format!("min {min} is greater than max {max}"));
            }
        }
        let len = Bounds { min: f.min_len, max: f.max_len };
        if let (Some(min), Some(max)) = (len.min, len.max) {
            if min > max {
                self.err(pos, path.to_owned(), format!("min_len {min} is greater than max_len {max}"));
            }
        }
        if let Some(name) = &f.rust_name {
            if !is_camel_ident(name) {
                self.err(
                    pos,
                    path.to_owned(),
                    format!("rust_name `{name}` is not an UpperCamelCase identifier"),
                );
            }
        }
        let named_after = last_segment(path).to_owned();
        // Types defined in place are named after their field unless the spec
        // says otherwise; they share one module, so their names are claimed.
        let own_name = |c: &mut Self| match given_name {
            Some(name) => name.to_owned(),
            None => {
                let name = f.rust_name.clone().unwrap_or_else(|| camel(&named_after));
                c.claim_type_name(&name, pos, path);
                name
            }
        };
        match kind {
            Kind::Object => {
                let name = own_name(self);
                let fields = match &f.fields {
                    Some(fields) => self.fields(fields, path),
                    None => {
                        self.err(pos, path.to_owned(), "type `object` needs `fields`".into());
                        Vec::new()
                    }
                };
                Type::Object(ObjectType { name, named_after, doc: f.doc.clone(), fields })
            }
            Kind::Array | Kind::Map => {
                let items = match &f.items {
                    Some(items) => self.ty(items, &format!("{path}[]"), pos, true, None),
                    None => {
                        self.err(pos, path.to_owned(), format!("type `{ty}` needs `items`"));
                        Type::Json
                    }
                };
                let items = Box::new(items);
                if kind == Kind::Array {
                    Type::Array { items, len }
                } else {
                    Type::Map { values: items, len }
                }
            }
            Kind::Enum => {
                let name = own_name(self);
                let values = self.enum_values(f, path, pos);
                Type::Enum(EnumType { name, named_after, doc: f.doc.clone(), values })
            }
            Kind::Union => {
                let name = own_name(self);
                let (tag, content, variants) = self.union(f, path, pos);
                Type::Union(UnionType { name, named_after, doc: f.doc.clone(), tag, content, variants })
            }
            Kind::Shared => Type::Shared(ty.to_owned()),
            Kind::String => Type::String { len, prefix: f.prefix.clone() },
            Kind::Int(kind) => Type::Int { kind, range },
            Kind::Bool | Kind::F64 | Kind::Json => kind.scalar().unwrap_or(Type::Json),
        }
    }

    fn enum_values(&mut self, f: &FieldSpec, path: &str, pos: (usize, usize)) -> EnumValues {
        let Some(values) = &f.values else {
            self.err(pos, path.to_owned(), "type `enum` needs `values`".into());
            return EnumValues::Strings(Vec::new());
        };
        if values.is_empty() {
            self.err(pos, path.to_owned(), "`values` is empty".into());
        }
        let (mut names, mut seen) = (HashSet::new(), HashSet::new());
        let (mut strings, mut integers) = (Vec::new(), Vec::new());
        for v in values {
            let vpos = self.loc.next("name", &v.name);
            let (name, doc) = (v.name.clone(), v.doc.clone());
            match &v.value {
                serde_yaml::Value::String(s) => strings.push(EnumValue { value: s.clone(), name, doc }),
                serde_yaml::Value::Number(n) if n.is_i64() => {
                    integers.push(EnumValue { value: n.as_i64().unwrap_or_default(), name, doc })
                }
                serde_yaml::Value::Number(n) if n.is_u64() => self.err(
                    vpos,
                    path.to_owned(),
                    format!("value of `{}` does not fit in a 64-bit signed integer", v.name),
                ),
                _ => self.err(
                    vpos,
                    path.to_owned(),
                    format!("value of `{}` must be a string or an integer", v.name),
                ),
            }
            self.enum_value_names(v, path, vpos, &mut names, &mut seen);
        }
        if !strings.is_empty() && !integers.is_empty() {
            self.err(pos, path.to_owned(), "enum values mix strings and integers".into());
        }
        if integers.is_empty() {
            EnumValues::Strings(strings)
        } else {
            EnumValues::Integers(integers)
        }
    }

    fn enum_value_names(
        &mut self,
        v: &EnumValueSpec,
        path: &str,
        vpos: (usize, usize),
        names: &mut HashSet<String>,
        seen: &mut HashSet<String>,
    ) {
        if !is_camel_ident(&v.name) || v.name == "Unknown" {
            self.err(vpos, path.to_owned(), format!("`{}` is not a usable variant name", v.name));
        }
        if !names.insert(v.name.clone()) {
            self.err(vpos, path.to_owned(), format!("duplicate enum name `{}`", v.name));
        }
        if !seen.insert(format!("{:?}", v.value)) {
            self.err(vpos, path.to_owned(), format!("duplicate enum value of `{}`", v.name));
        }
    }

    fn union(
        &mut self,
        f: &FieldSpec,
        path: &str,
        pos: (usize, usize),
    ) -> (String, String, Vec<UnionVariant>) {
        if f.tag.is_none() || f.content.is_none() {
            self.err(pos, path.to_owned(), "type `union` needs `tag` and `content`".into());
        }
        let (tag, content) = (f.tag.clone().unwrap_or_default(), f.content.clone().unwrap_or_default());
        let Some(variants) = &f.variants else {
            self.err(pos, path.to_owned(), "type `union` needs `variants`".into());
            return (tag, content, Vec::new());
        };
        let (mut tags, mut names) = (HashSet::new(), HashSet::new());
        let mut out = Vec::new();
        for v in variants {
            let vpos = self.loc.next("tag", &v.tag);
            let name = v.name.clone().unwrap_or_else(|| camel(&v.tag));
            if !tags.insert(v.tag.clone()) {
                self.err(vpos, path.to_owned(), format!("duplicate union tag `{}`", v.tag));
            }
            if !is_camel_ident(&name) || name == "Unknown" || !names.insert(name.clone()) {
                self.err(vpos, path.to_owned(), format!("variant name `{name}` is unusable or repeated"));
            }
            let ty = match Kind::builtin(&v.ty) {
                Some(kind) => kind.scalar().unwrap_or_else(|| {
                    self.err(
                        vpos,
                        path.to_owned(),
                        "a union variant's type must be a scalar or a shared type".into(),
                    );
                    Type::Json
                }),
                None if self.shared_types.contains(&v.ty) => Type::Shared(v.ty.clone()),
                None => {
                    self.err(vpos, path.to_owned(), format!("unknown type `{}`", v.ty));
                    Type::Json
                }
            };
            out.push(UnionVariant { tag: v.tag.clone(), name, ty, doc: v.doc.clone() });
        }
        (tag, content, out)
    }
}
