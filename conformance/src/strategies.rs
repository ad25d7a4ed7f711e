//! Proptest strategies derived from the specs' typed model
//! ([`tim_codegen::model`]): valid request and response bodies of an
//! endpoint, the ways to break a valid request together with the field path
//! its rejection must name, and the changes a newer server might make to a
//! reply.
//!
//! Values are JSON ([`Value`]), so the same strategies drive the generated
//! types (through `EndpointEntry::parse_request`/`parse_reply`) and the mock
//! server over HTTP.

use proptest::prelude::*;
use serde_json::{json, Value};
use tim_codegen::model::{Bounds, Endpoint, EnumValues, Field, IntKind, SpecSet, Type};

/// Nesting depth after which optional fields are left out and arrays and
/// maps stay as short as their bounds allow, so recursive types end.
pub const MAX_DEPTH: usize = 4;

/// Valid request bodies of `ep`.
pub fn request(set: &SpecSet, ep: &Endpoint) -> BoxedStrategy<Value> {
    object(set, &ep.request, 0)
}

/// Valid response bodies of `ep`, without `ActionStatus`, `ErrorCode` and `ErrorInfo`.
pub fn response(set: &SpecSet, ep: &Endpoint) -> BoxedStrategy<Value> {
    object(set, &ep.response, 0)
}

/// Valid objects with `fields`: required ones always there, optional ones
/// sometimes.
pub fn object(set: &SpecSet, fields: &[Field], depth: usize) -> BoxedStrategy<Value> {
    let parts: Vec<BoxedStrategy<(String, Option<Value>)>> = fields
        .iter()
        .map(|f| {
            let name = f.wire.clone();
            // Strategies are built eagerly, so recursive types stop here.
            if !f.required && depth >= MAX_DEPTH {
                return Just((name, None)).boxed();
            }
            let value = value(set, &f.ty, depth);
            if f.required {
                value.prop_map(move |v| (name.clone(), Some(v))).boxed()
            } else {
                proptest::option::of(value).prop_map(move |v| (name.clone(), v)).boxed()
            }
        })
        .collect();
    parts.prop_map(|kv| Value::Object(kv.into_iter().filter_map(|(k, v)| Some((k, v?))).collect())).boxed()
}

/// Valid values of `ty`: boundary integers, unicode strings, short arrays.
pub fn value(set: &SpecSet, ty: &Type, depth: usize) -> BoxedStrategy<Value> {
    match ty {
        Type::String { len, prefix } => string(*len, prefix.clone()),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::F64 => (-1.0e6f64..1.0e6).prop_map(|x| json!(x)).boxed(),
        Type::Json => prop_oneof![Just(json!({"k": "v"})), Just(json!(1)), Just(json!("s"))].boxed(),
        Type::Int { kind, range } => {
            let (lo, hi) = int_bounds(*kind, *range);
            prop_oneof![Just(lo), Just(hi), lo..=hi].prop_map(int_value).boxed()
        }
        Type::Array { len, .. } | Type::Map { len, .. }
            if depth >= MAX_DEPTH && len.min.unwrap_or(0) == 0 =>
        {
            Just(if matches!(ty, Type::Array { .. }) { json!([]) } else { json!({}) }).boxed()
        }
        Type::Array { items, len } => {
            proptest::collection::vec(value(set, items, depth + 1), len_range(*len, depth))
                .prop_map(Value::Array)
                .boxed()
        }
        Type::Map { values, len } => proptest::collection::btree_map(
            "[a-z]{1,6}",
            value(set, values, depth + 1),
            len_range(*len, depth),
        )
        .prop_map(|m| Value::Object(m.into_iter().collect()))
        .boxed(),
        Type::Object(o) => object(set, &o.fields, depth + 1),
        Type::Enum(e) => {
            let values: Vec<Value> = match &e.values {
                EnumValues::Strings(v) => v.iter().map(|v| json!(v.value)).collect(),
                EnumValues::Integers(v) => v.iter().map(|v| json!(v.value)).collect(),
            };
            proptest::sample::select(values).boxed()
        }
        Type::Union(u) => {
            let variants: Vec<BoxedStrategy<Value>> = u
                .variants
                .iter()
                .map(|v| {
                    let (tag, content, name) = (u.tag.clone(), u.content.clone(), v.tag.clone());
                    value(set, &v.ty, depth + 1)
                        .prop_map(move |c| json!({ tag.as_str(): name.as_str(), content.as_str(): c }))
                        .boxed()
                })
                .collect();
            proptest::strategy::Union::new(variants).boxed()
        }
        Type::Shared(name) => match set.types.get(name) {
            Some(shared) => value(set, &shared.ty, depth),
            None => Just(Value::Null).boxed(),
        },
    }
}

fn string(len: Bounds<u64>, prefix: Option<String>) -> BoxedStrategy<Value> {
    let (min, max) = (len.min.unwrap_or(0) as usize, len.max.map_or(usize::MAX, |m| m as usize));
    proptest::string::string_regex("\\PC{0,8}")
        .expect("valid regex")
        .prop_map(move |mut s| {
            if let Some(p) = &prefix {
                s.insert_str(0, p);
            }
            while s.len() > max {
                s.pop();
            }
            while s.len() < min {
                s.push('a');
            }
            Value::String(s)
        })
        .boxed()
}

fn len_range(len: Bounds<u64>, depth: usize) -> std::ops::RangeInclusive<usize> {
    let min = len.min.unwrap_or(0) as usize;
    let max = if depth >= MAX_DEPTH { min } else { len.max.map_or(3, |m| (m as usize).min(3)).max(min) };
    min..=max
}

/// Smallest and largest valid value of an integer field.
pub fn int_bounds(kind: IntKind, range: Bounds<i64>) -> (i128, i128) {
    let (lo, hi) = kind.limits();
    (range.min.map_or(lo, |m| lo.max(m.into())), range.max.map_or(hi, |m| hi.min(m.into())))
}

/// A JSON number for any integer that fits in `i64` or `u64`.
pub fn int_value(n: i128) -> Value {
    match i64::try_from(n) {
        Ok(n) => json!(n),
        Err(_) => json!(u64::try_from(n).unwrap_or(u64::MAX)),
    }
}

/// How a [`Breakage`] breaks a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakageKind {
    /// A required field is left out.
    Missing,
    /// A value of another JSON type.
    WrongType,
    /// An integer outside its documented range.
    OutOfRange,
    /// A string or array longer than its documented maximum.
    TooLong,
}

impl BreakageKind {
    /// A few words for failure messages.
    pub fn describe(self) -> &'static str {
        match self {
            BreakageKind::Missing => "missing",
            BreakageKind::WrongType => "wrong type",
            BreakageKind::OutOfRange => "out of range",
            BreakageKind::TooLong => "too long",
        }
    }
}

/// One way to break a valid request, and the field its rejection must name.
#[derive(Debug, Clone, PartialEq)]
pub struct Breakage {
    /// What is done.
    pub kind: BreakageKind,
    /// JSON pointer of the changed value.
    pub pointer: String,
    /// Wire path of the field the rejection must name (`C2CMsgInfo[0].MsgKey`).
    pub wire_path: String,
    /// The new value; `None` removes the field.
    pub replacement: Option<Value>,
    /// Inside a tagged union the content is parsed as a whole, so a parse
    /// error names the union field, a prefix of `wire_path`, rather than the leaf.
    pub in_union: bool,
}

impl Breakage {
    /// `value` with this breakage applied.
    pub fn apply(&self, value: &Value) -> Value {
        let mut v = value.clone();
        let (parent, key) = self.pointer.rsplit_once('/').expect("pointer has a parent");
        let key = key.replace("~1", "/").replace("~0", "~");
        if let Some(Value::Object(map)) = v.pointer_mut(parent) {
            match &self.replacement {
                None => {
                    map.remove(&key);
                }
                Some(r) => {
                    map.insert(key, r.clone());
                }
            }
        } else if let (Some(Value::Array(arr)), Ok(i), Some(r)) =
            (v.pointer_mut(parent), key.parse::<usize>(), &self.replacement)
        {
            arr[i] = r.clone();
        }
        v
    }

    /// The wire name of the field itself (`MsgKey` for `C2CMsgInfo[0].MsgKey`).
    pub fn leaf(&self) -> &str {
        let last = self.wire_path.rsplit('.').next().unwrap_or("");
        last.split('[').next().unwrap_or("")
    }
}

/// Every way to break `value`, a valid object with `fields` (such as a
/// request body from [`request`]).
pub fn breakages(set: &SpecSet, fields: &[Field], value: &Value) -> Vec<Breakage> {
    let mut out = Vec::new();
    Breaker { set, out: &mut out }.fields(fields, value, "", "", false);
    out
}

struct Breaker<'a> {
    set: &'a SpecSet,
    out: &'a mut Vec<Breakage>,
}

impl Breaker<'_> {
    fn push(
        &mut self,
        kind: BreakageKind,
        pointer: &str,
        wire: &str,
        replacement: Option<Value>,
        in_union: bool,
    ) {
        self.out.push(Breakage {
            kind,
            pointer: pointer.to_owned(),
            wire_path: wire.to_owned(),
            replacement,
            in_union,
        });
    }

    fn fields(&mut self, fields: &[Field], v: &Value, ptr: &str, wire: &str, in_union: bool) {
        for f in fields {
            let Some(value) = v.get(&f.wire) else { continue };
            let p = format!("{ptr}/{}", f.wire.replace('~', "~0").replace('/', "~1"));
            let w = join(wire, &f.wire);
            if f.required {
                self.push(BreakageKind::Missing, &p, &w, None, in_union);
            }
            self.value(&f.ty, value, &p, &w, in_union);
            let wrong = match self.set.resolve(&f.ty) {
                // A lenient field also takes the other JSON type; neither is a list.
                Some(Type::String { .. } | Type::Int { .. }) if f.lenient => Some(json!([1])),
                Some(Type::String { .. }) => Some(json!(12345)),
                // Unknown strings are valid for a string enum; a number is not.
                Some(Type::Enum(e)) if matches!(e.values, EnumValues::Strings(_)) => Some(json!(12345)),
                Some(Type::Json) | None => None,
                Some(Type::Map { .. }) => Some(json!("not a map")),
                Some(Type::Array { .. }) => Some(json!({"not": "an array"})),
                Some(_) => Some(json!("wrong type")),
            };
            if let Some(wrong) = wrong {
                self.push(BreakageKind::WrongType, &p, &w, Some(wrong), in_union);
            }
        }
    }

    fn value(&mut self, ty: &Type, value: &Value, p: &str, w: &str, in_union: bool) {
        let Some(resolved) = self.set.resolve(ty) else { return };
        match resolved {
            Type::Int { kind, range } => {
                let (lo, hi) = int_bounds(*kind, *range);
                let outside = if hi < i128::from(u64::MAX) { hi + 1 } else { lo - 1 };
                if outside >= i128::from(i64::MIN) {
                    self.push(BreakageKind::OutOfRange, p, w, Some(int_value(outside)), in_union);
                }
            }
            Type::String { len: Bounds { max: Some(max), .. }, .. } => {
                let long = "a".repeat(usize::try_from(*max).unwrap_or(usize::MAX - 1) + 1);
                self.push(BreakageKind::TooLong, p, w, Some(Value::String(long)), in_union);
            }
            Type::Object(o) => self.fields(&o.fields, value, p, w, in_union),
            Type::Array { items, len } => {
                let Some(arr) = value.as_array() else { return };
                if let (Some(max), Some(first)) = (len.max, arr.first()) {
                    let long = vec![first.clone(); usize::try_from(max).unwrap_or(usize::MAX - 1) + 1];
                    self.push(BreakageKind::TooLong, p, w, Some(Value::Array(long)), in_union);
                }
                for (i, item) in arr.iter().enumerate() {
                    self.value(items, item, &format!("{p}/{i}"), &format!("{w}[{i}]"), in_union);
                }
            }
            Type::Union(u) => {
                let tag = value.get(&u.tag).and_then(Value::as_str);
                let variant = u.variants.iter().find(|v| Some(v.tag.as_str()) == tag);
                if let (Some(variant), Some(inner)) = (variant, value.get(&u.content)) {
                    let (p, w) = (format!("{p}/{}", u.content), join(w, &u.content));
                    self.value(&variant.ty, inner, &p, &w, true);
                }
            }
            _ => {}
        }
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// Changes `value`, a valid object with `fields`, into what a newer server
/// might send: an unknown field added to every object, enum values replaced
/// by ones no spec names.
pub fn future_proof(set: &SpecSet, fields: &[Field], value: &mut Value) {
    let Value::Object(map) = value else { return };
    for field in fields {
        if let Some(inner) = map.get_mut(&field.wire) {
            future_proof_value(set, &field.ty, inner);
        }
    }
    map.insert("Zz_Added_Later".into(), json!({"nested": [1, 2]}));
}

fn future_proof_value(set: &SpecSet, ty: &Type, v: &mut Value) {
    match (set.resolve(ty), v) {
        (Some(Type::Object(o)), v @ Value::Object(_)) => future_proof(set, &o.fields, v),
        (Some(Type::Array { items, .. }), Value::Array(values)) => {
            for item in values {
                future_proof_value(set, items, item);
            }
        }
        (Some(Type::Enum(_)), v) => {
            *v = if v.is_string() { json!("ValueFromTheFuture") } else { json!(987_654_321) };
        }
        _ => {}
    }
}
