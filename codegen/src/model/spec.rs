//! The parsing layer: the YAML spec format as written by maintainers (see
//! `specs/README.md`).
//!
//! These types mirror the files one to one; `serde_yaml` reports structural
//! mistakes (unknown keys, wrong value kinds, missing keys) with their line and
//! column. The loader checks them and builds the resolved model (the parent
//! module) from them; nothing else reads these types.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One endpoint: the contents of `specs/<service>/<command>.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    /// `v4/<service>/<command>`.
    pub path: String,
    /// One-line title.
    pub title: String,
    /// What the endpoint does, in our own words.
    pub description: String,
    /// Documented maximum call frequency: `200/s`, `10/min`, `100/day`.
    pub rate_limit: String,
    /// Whether sending the same request twice is harmless (so it may be retried).
    pub idempotent: bool,
    /// Why the endpoint is deprecated, if it is.
    #[serde(default)]
    pub deprecated: Option<String>,
    /// Remarks for maintainers about choices made where the docs are unclear.
    #[serde(default)]
    pub note: Option<String>,
    /// What the documentation lacks, when its page is incomplete.
    #[serde(default)]
    pub partial: Option<String>,
    /// Which paid editions (Premium, Ultimate, Pro, ...) the feature needs, per the page.
    #[serde(default)]
    pub edition: Option<String>,
    /// Group-type applicability, keyed by group type ID.
    #[serde(default)]
    pub group_types: BTreeMap<String, GroupTypeSpec>,
    /// Names of shared error tables (in `shared/errors.yaml`) that apply.
    #[serde(default)]
    pub shared_errors: Vec<String>,
    /// The endpoint's own error codes.
    #[serde(default)]
    pub errors: Vec<ErrorSpec>,
    /// Request body fields.
    #[serde(default)]
    pub request: Vec<FieldSpec>,
    /// Response body fields, besides `ActionStatus`, `ErrorCode` and `ErrorInfo`.
    #[serde(default)]
    pub response: Vec<FieldSpec>,
    /// Documented exchanges; the first one is the endpoint's canonical sample.
    #[serde(default)]
    pub samples: Vec<SampleSpec>,
    /// Documented limits the request fields' own bounds cannot express (a
    /// total over several fields, a count after merging with what is
    /// stored), which the emulator enforces.
    #[serde(default)]
    pub limits: Vec<LimitSpec>,
    /// Frequency limits besides `rate_limit`, all honoured: counted in
    /// units of a request list's length (`cost`), per value of a request
    /// field (`per`), each with its own code.
    #[serde(default)]
    pub rate_limits: Vec<RateLimitSpec>,
    /// How a list endpoint pages; the generator makes a paginator of it.
    #[serde(default)]
    pub pagination: Option<PaginationSpec>,
    /// A request list that can be sent in parts of its `max_len`, and where
    /// the reply says which items failed; the client splits and merges.
    #[serde(default)]
    pub batch: Option<BatchSpec>,
}

/// A batched request list: `{field: To_Account, results: {list: ErrorList, key: To_Account, code: ErrorCode}}`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BatchSpec {
    /// The request's top-level array field (with a `max_len`) to split.
    pub field: String,
    /// For object items: their string field naming the item in the reply.
    #[serde(default)]
    pub key: Option<String>,
    /// Where the reply reports items; without it only a whole part fails.
    #[serde(default)]
    pub results: Option<BatchResultsSpec>,
}

/// Per-item results in a reply: an item listed with a code succeeded when
/// the code is one of `ok`; listed without a code (a list of failed keys),
/// it failed; not listed, it succeeded.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BatchResultsSpec {
    /// The reply's array field of results.
    pub list: String,
    /// For object results: their string field naming the item.
    #[serde(default)]
    pub key: Option<String>,
    /// For object results: their integer (or integer enum) field with the outcome.
    #[serde(default)]
    pub code: Option<String>,
    /// For object results: their string field with the reason.
    #[serde(default)]
    pub info: Option<String>,
    /// Codes meaning success (default `[0]`).
    #[serde(default)]
    pub ok: Option<Vec<i64>>,
}

/// How a list endpoint pages:
/// `{items: MemberList, page_size: Limit, offset: Offset, total: MemberNum}`.
///
/// At least one of `offset`, `cursors` and `before` says how the next
/// request differs from the last one. Listing ends at an empty page, at the
/// `done` flag, at `total` items, or (without a `done` flag) when the first
/// cursor comes back empty (an empty string or 0).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PaginationSpec {
    /// The reply's array field holding one page's items, or several when
    /// the items come in one of them (members who have read, or not).
    pub items: ItemsSpec,
    /// The request's integer field setting the page size, when the caller chooses it.
    #[serde(default)]
    pub page_size: Option<String>,
    /// The request's integer field counting the items already listed; each
    /// page advances it by the page's length.
    #[serde(default)]
    pub offset: Option<String>,
    /// The reply's integer field with the number of items in all pages.
    #[serde(default)]
    pub total: Option<String>,
    /// Request fields set from reply fields for the next page.
    #[serde(default)]
    pub cursors: Vec<CursorSpec>,
    /// Backwards by sequence: the next request asks for the items before
    /// the smallest value of an item field.
    #[serde(default)]
    pub before: Option<SeqSpec>,
    /// Forwards by sequence: the next request asks for the items after the
    /// largest value of an item field.
    #[serde(default)]
    pub after: Option<SeqSpec>,
    /// The reply's integer flag marking the last page.
    #[serde(default)]
    pub done: Option<DoneSpec>,
}

/// A cursor: `{request: StartIndex, reply: NextStartIndex}`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CursorSpec {
    /// The request field to set.
    pub request: String,
    /// The reply field its next value comes from.
    pub reply: String,
}

/// The reply's list field(s) of items.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum ItemsSpec {
    /// One field: `items: MemberList`.
    One(String),
    /// Several, of which a page fills one: `items: [ReadList, UnreadList]`.
    Many(Vec<String>),
}

impl ItemsSpec {
    /// The field names.
    pub fn names(&self) -> Vec<&str> {
        match self {
            ItemsSpec::One(n) => vec![n.as_str()],
            ItemsSpec::Many(ns) => ns.iter().map(String::as_str).collect(),
        }
    }
}

/// Paging by a sequence of the items: `{request: ReqMsgSeq, item: MsgSeq}`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SeqSpec {
    /// The request's integer field bounding the next page.
    pub request: String,
    /// The items' integer field.
    pub item: String,
}

/// The last-page flag: `{field: Complete, value: 1}`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DoneSpec {
    /// The reply's integer field.
    pub field: String,
    /// Its value on the last page.
    pub value: i64,
}

/// One further frequency limit:
/// `{rate: 12000/min, cost: To_Account, error: BatchRateLimited, doc: ...}`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    /// `N/s`, `N/min` or `N/day`.
    pub rate: String,
    /// A request array field: a call costs its length (recipients), not 1.
    #[serde(default)]
    pub cost: Option<String>,
    /// A request field: one budget per value of it (per group).
    #[serde(default)]
    pub per: Option<String>,
    /// Name of the error (in the endpoint's table) answered when exceeded.
    #[serde(default)]
    pub error: Option<String>,
    /// The limit that a raised quota (`tim mock --limit`) replaces, instead
    /// of `rate_limit`.
    #[serde(default)]
    pub main: bool,
    /// What is limited.
    pub doc: String,
}

/// One documented limit: `{name: total_value_bytes, max: 16000, error: TotalValueTooLong}`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LimitSpec {
    /// Identifier the emulator looks the limit up by (snake_case).
    pub name: String,
    /// The largest value allowed.
    pub max: u64,
    /// Name of the error (in the endpoint's table) answered when exceeded.
    #[serde(default)]
    pub error: Option<String>,
    /// What is limited.
    pub doc: String,
}

/// One row of the group-type table.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct GroupTypeSpec {
    /// Whether the endpoint acts on groups of this type.
    pub supported: bool,
    /// Behaviour worth knowing (e.g. "succeeds and changes nothing").
    #[serde(default)]
    pub note: Option<String>,
    /// For an unsupported type: the call succeeds and changes nothing instead
    /// of failing.
    #[serde(default)]
    pub ignored: bool,
}

/// One documented error code.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ErrorSpec {
    /// The `ErrorCode` value.
    pub code: i64,
    /// Variant name (UpperCamelCase); `Code<code>` when left out.
    #[serde(default)]
    pub name: Option<String>,
    /// What the code means.
    pub meaning: String,
    /// Whether sending the same request again may succeed.
    #[serde(default)]
    pub retryable: bool,
    /// Request fields (wire names) whose absence or bad value yields this
    /// code; `"*"` marks the endpoint's catch-all code for an invalid request.
    #[serde(default)]
    pub fields: Vec<String>,
    /// What the code stands for in the protocol (one of
    /// [`ERROR_ROLES`](crate::names::ERROR_ROLES)), so the client and the mock
    /// find codes by meaning instead of by number.
    #[serde(default)]
    pub role: Option<String>,
}

/// A field of a request/response/object, or (without `name`) the element type
/// of an array or map.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Wire name exactly as documented; absent for `items`.
    #[serde(default)]
    pub name: Option<String>,
    /// Built-in type (`string`, `bool`, `i32`, `u64`, `f64`, `json`, `object`,
    /// `array`, `map`, `enum`, `union`) or the name of a shared type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Whether the field must be present.
    #[serde(default)]
    pub required: bool,
    /// Description of the field.
    #[serde(default)]
    pub doc: Option<String>,
    /// Remark about an ambiguity in the docs and the choice made.
    #[serde(default)]
    pub note: Option<String>,
    /// Why the field is deprecated, if it is.
    #[serde(default)]
    pub deprecated: Option<String>,
    /// The pages disagree on the JSON type: an integer also accepts a string
    /// of digits, a string also accepts a number.
    #[serde(default)]
    pub lenient: bool,
    /// Older wire names the service still accepts (and may still send).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Rust name of the generated struct/enum for `object`, `enum`, `union`.
    #[serde(default)]
    pub rust_name: Option<String>,
    /// Fields of an `object`.
    #[serde(default)]
    pub fields: Option<Vec<FieldSpec>>,
    /// Element type of an `array`, value type of a `map`.
    #[serde(default)]
    pub items: Option<Box<FieldSpec>>,
    /// Named values of an `enum`.
    #[serde(default)]
    pub values: Option<Vec<EnumValueSpec>>,
    /// Tag field of a `union` (e.g. `MsgType`).
    #[serde(default)]
    pub tag: Option<String>,
    /// Content field of a `union` (e.g. `MsgContent`).
    #[serde(default)]
    pub content: Option<String>,
    /// Variants of a `union`.
    #[serde(default)]
    pub variants: Option<Vec<UnionVariantSpec>>,
    /// Smallest allowed integer.
    #[serde(default)]
    pub min: Option<i64>,
    /// Largest allowed integer.
    #[serde(default)]
    pub max: Option<i64>,
    /// Smallest allowed length (bytes of a string, elements of an array/map).
    #[serde(default)]
    pub min_len: Option<u64>,
    /// Largest allowed length (bytes of a string, elements of an array/map).
    #[serde(default)]
    pub max_len: Option<u64>,
    /// Text a string must begin with (`@RBT#` for a chatbot's UserID).
    #[serde(default)]
    pub prefix: Option<String>,
}

/// One named value of an `enum`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EnumValueSpec {
    /// The wire value: a string or an integer.
    #[cfg_attr(feature = "schema", schemars(with = "serde_json::Value"))]
    pub value: serde_yaml::Value,
    /// Rust variant name (UpperCamelCase).
    pub name: String,
    /// Meaning of the value.
    #[serde(default)]
    pub doc: Option<String>,
}

/// One variant of a tagged `union`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UnionVariantSpec {
    /// Value of the tag field.
    pub tag: String,
    /// Rust variant name; the tag in UpperCamelCase when left out.
    #[serde(default)]
    pub name: Option<String>,
    /// Type of the content: usually a shared object type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Meaning of the variant.
    #[serde(default)]
    pub doc: Option<String>,
}

/// A documented sample exchange.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SampleSpec {
    /// What the sample shows.
    pub name: String,
    /// Request body.
    #[cfg_attr(feature = "schema", schemars(with = "serde_json::Value"))]
    pub request: serde_yaml::Value,
    /// Response body, including `ActionStatus`, `ErrorCode`, `ErrorInfo`.
    #[cfg_attr(feature = "schema", schemars(with = "serde_json::Value"))]
    pub response: serde_yaml::Value,
}

/// One shared error table in `shared/errors.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ErrorTableSpec {
    /// What the table covers.
    pub doc: String,
    /// The codes.
    pub codes: Vec<ErrorSpec>,
}

/// One region in `shared/regions.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RegionSpec {
    /// Rust variant name.
    pub name: String,
    /// Kebab-case id used on the command line and in `TIM_REGION`.
    pub id: String,
    /// REST API host.
    pub host: String,
}

/// One callback: the contents of `specs/callbacks/<Area>/<Name>.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CallbackSpec {
    /// The `CallbackCommand` (`C2C.CallbackBeforeSendMsg`).
    pub command: String,
    /// One-line title.
    pub title: String,
    /// When Tencent sends it and what it is for, in our own words.
    pub description: String,
    /// `before` or `after`.
    pub kind: String,
    /// Where the facts come from (the page's document id).
    pub source: String,
    /// Remarks about choices made where the docs are unclear.
    #[serde(default)]
    pub note: Option<String>,
    /// What the documentation lacks, when its page is incomplete.
    #[serde(default)]
    pub partial: Option<String>,
    /// Body fields besides `CallbackCommand`.
    pub payload: Vec<FieldSpec>,
    /// Reply fields besides `ActionStatus`, `ErrorCode` and `ErrorInfo`.
    #[serde(default)]
    pub reply: Vec<FieldSpec>,
    /// Documented reply decisions (before-callbacks).
    #[serde(default)]
    pub decisions: Vec<DecisionSpec>,
    /// Documented request bodies and replies.
    #[serde(default)]
    pub samples: Vec<CallbackSampleSpec>,
    /// Documented thresholds (`{name, max, doc}`), e.g. when it is sent.
    #[serde(default)]
    pub limits: Vec<LimitSpec>,
}

/// One documented way to reply to a before-callback.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DecisionSpec {
    /// Constructor name (snake_case).
    pub name: String,
    /// What the decision does.
    pub doc: String,
    /// `allow`, `deny` or `drop`.
    pub effect: String,
    /// The reply's `ErrorCode`.
    #[serde(default)]
    pub code: Option<i64>,
    /// Instead of `code`: the inclusive range the app picks a code from.
    #[serde(default)]
    pub codes: Option<[i64; 2]>,
    /// For a denial: the error the user who caused the event gets.
    #[serde(default)]
    pub caller_error: Option<i64>,
    /// Reply fields (wire names) the constructor takes.
    #[serde(default)]
    pub fields: Vec<String>,
}

/// A documented callback body and, optionally, a reply to it.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CallbackSampleSpec {
    /// What the sample shows.
    pub name: String,
    /// The body, including `CallbackCommand`.
    #[cfg_attr(feature = "schema", schemars(with = "serde_json::Value"))]
    pub payload: serde_yaml::Value,
    /// The reply, including `ActionStatus`, `ErrorCode`, `ErrorInfo`.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Option<serde_json::Value>"))]
    pub reply: Option<serde_yaml::Value>,
}
