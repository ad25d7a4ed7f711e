//! Field types with their constraints.

/// A lower and an upper bound, each optional and inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bounds<T> {
    /// Smallest allowed value.
    pub min: Option<T>,
    /// Largest allowed value.
    pub max: Option<T>,
}

impl<T> Bounds<T> {
    /// Whether either bound is set.
    pub fn is_set(&self) -> bool {
        self.min.is_some() || self.max.is_some()
    }
}

/// Width and signedness of an integer field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntKind {
    /// `i8`.
    I8,
    /// `i16`.
    I16,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `u8`.
    U8,
    /// `u16`.
    U16,
    /// `u32`.
    U32,
    /// `u64`.
    U64,
}

impl IntKind {
    /// Every kind.
    pub const ALL: [IntKind; 8] = [
        IntKind::I8,
        IntKind::I16,
        IntKind::I32,
        IntKind::I64,
        IntKind::U8,
        IntKind::U16,
        IntKind::U32,
        IntKind::U64,
    ];

    /// The Rust primitive type, which is also the spec's type name.
    pub fn rust_name(self) -> &'static str {
        match self {
            IntKind::I8 => "i8",
            IntKind::I16 => "i16",
            IntKind::I32 => "i32",
            IntKind::I64 => "i64",
            IntKind::U8 => "u8",
            IntKind::U16 => "u16",
            IntKind::U32 => "u32",
            IntKind::U64 => "u64",
        }
    }

    /// Smallest and largest value of the Rust type.
    pub fn limits(self) -> (i128, i128) {
        match self {
            IntKind::I8 => (i8::MIN.into(), i8::MAX.into()),
            IntKind::I16 => (i16::MIN.into(), i16::MAX.into()),
            IntKind::I32 => (i32::MIN.into(), i32::MAX.into()),
            IntKind::I64 => (i64::MIN.into(), i64::MAX.into()),
            IntKind::U8 => (0, u8::MAX.into()),
            IntKind::U16 => (0, u16::MAX.into()),
            IntKind::U32 => (0, u32::MAX.into()),
            IntKind::U64 => (0, u64::MAX.into()),
        }
    }
}

/// The type of a field, an array element or a map value.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// A UTF-8 string; `len` bounds its length in bytes.
    String {
        /// Allowed length in bytes.
        len: Bounds<u64>,
        /// Text the value must begin with.
        prefix: Option<String>,
    },
    /// `true` or `false`.
    Bool,
    /// An integer of the given kind, within `range`.
    Int {
        /// Width and signedness.
        kind: IntKind,
        /// Allowed values, beyond what the kind allows.
        range: Bounds<i64>,
    },
    /// A floating-point number.
    F64,
    /// Any JSON value, kept as is.
    Json,
    /// A list; `len` bounds its number of elements.
    Array {
        /// Element type.
        items: Box<Type>,
        /// Allowed number of elements.
        len: Bounds<u64>,
    },
    /// An object with string keys and values of one type.
    Map {
        /// Value type.
        values: Box<Type>,
        /// Allowed number of entries.
        len: Bounds<u64>,
    },
    /// An object with named fields, defined where it is used.
    Object(ObjectType),
    /// A set of named values that keeps unknown ones, defined where it is used.
    Enum(EnumType),
    /// A tagged union that keeps unknown tags, defined where it is used.
    Union(UnionType),
    /// A type of the shared table ([`SpecSet::types`](super::SpecSet::types)), by name.
    Shared(String),
}

impl Type {
    /// Length bounds, for strings, arrays and maps.
    pub fn length_bounds(&self) -> Option<Bounds<u64>> {
        match self {
            Type::String { len, .. } | Type::Array { len, .. } | Type::Map { len, .. } => Some(*len),
            _ => None,
        }
    }

    /// Value range, for integers.
    pub fn value_range(&self) -> Option<Bounds<i64>> {
        match self {
            Type::Int { range, .. } => Some(*range),
            _ => None,
        }
    }
}

/// A named field of a request, a response or an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Wire name exactly as documented (`Report_Account`).
    pub wire: String,
    /// Rust field name (`report_account`).
    pub rust: String,
    /// Its type.
    pub ty: Type,
    /// Whether the field must be present.
    pub required: bool,
    /// Description.
    pub doc: Option<String>,
    /// Remark about an ambiguity in the docs and the choice made.
    pub note: Option<String>,
    /// Why the field should not be used any more.
    pub deprecated: Option<String>,
    /// Also accepts the other JSON type the pages show (a string of digits
    /// for an integer, a number for a string) when received.
    pub lenient: bool,
    /// Older wire names accepted when received; the current one is sent.
    pub aliases: Vec<String>,
}

/// An object type with its fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectType {
    /// Rust type name.
    pub name: String,
    /// Wire name of the field it was defined for (for default docs).
    pub named_after: String,
    /// Description.
    pub doc: Option<String>,
    /// Its fields, in spec order.
    pub fields: Vec<Field>,
}

/// An open enum: named values, and unknown ones kept as received.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumType {
    /// Rust type name.
    pub name: String,
    /// Wire name of the field it was defined for (for default docs).
    pub named_after: String,
    /// Description.
    pub doc: Option<String>,
    /// The named values.
    pub values: EnumValues,
}

/// The named values of an enum: all strings or all integers.
#[derive(Debug, Clone, PartialEq)]
pub enum EnumValues {
    /// String wire values.
    Strings(Vec<EnumValue<String>>),
    /// Integer wire values.
    Integers(Vec<EnumValue<i64>>),
}

/// One named value of an enum.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumValue<T> {
    /// The wire value.
    pub value: T,
    /// Rust variant name.
    pub name: String,
    /// Meaning of the value.
    pub doc: Option<String>,
}

/// A tagged union: `{"<tag>": "<variant tag>", "<content>": <variant value>}`.
#[derive(Debug, Clone, PartialEq)]
pub struct UnionType {
    /// Rust type name.
    pub name: String,
    /// Wire name of the field it was defined for (for default docs).
    pub named_after: String,
    /// Description.
    pub doc: Option<String>,
    /// Wire name of the tag field (`MsgType`).
    pub tag: String,
    /// Wire name of the content field (`MsgContent`).
    pub content: String,
    /// The known variants.
    pub variants: Vec<UnionVariant>,
}

/// One variant of a tagged union.
#[derive(Debug, Clone, PartialEq)]
pub struct UnionVariant {
    /// Value of the tag field.
    pub tag: String,
    /// Rust variant name.
    pub name: String,
    /// Type of the content: a scalar or a shared type.
    pub ty: Type,
    /// Meaning of the variant.
    pub doc: Option<String>,
}

/// A named type of `shared/types*.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedType {
    /// Its name (the key in the file), which is also its Rust name.
    pub name: String,
    /// Description.
    pub doc: Option<String>,
    /// The type; an object, enum or union here carries the shared name.
    pub ty: Type,
}
