//! One endpoint and its metadata: rate limit, group types, samples.

use std::fmt;
use std::path::PathBuf;

use serde_json::Value;

use super::errors::ErrorCode;
use super::ty::{Field, Type};

/// One endpoint: `specs/<service>/<command>.yaml`, resolved.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// File it came from (as displayed in errors).
    pub file: PathBuf,
    /// Service segment of the path (`openim`).
    pub service: String,
    /// Command segment of the path (`admin_set_msg_read`).
    pub command: String,
    /// `v4/<service>/<command>`.
    pub path: String,
    /// One-line title.
    pub title: String,
    /// What the endpoint does.
    pub description: String,
    /// Documented maximum call frequency.
    pub rate_limit: RateLimit,
    /// Whether sending the same request twice is harmless (so it may be retried).
    pub idempotent: bool,
    /// Why the endpoint is deprecated, if it is.
    pub deprecated: Option<String>,
    /// Remarks about choices made where the docs are unclear.
    pub note: Option<String>,
    /// What the documentation lacks, when its page is incomplete.
    pub partial: Option<String>,
    /// Which paid editions the feature needs, per the page.
    pub edition: Option<String>,
    /// Group-type applicability, in [`GroupType::ALL`] order.
    pub group_types: Vec<GroupTypeRow>,
    /// Names of the shared error tables that apply.
    pub shared_errors: Vec<String>,
    /// The endpoint's own error codes.
    pub errors: Vec<ErrorCode>,
    /// Request body fields.
    pub request: Vec<Field>,
    /// Response body fields, besides `ActionStatus`, `ErrorCode` and `ErrorInfo`.
    pub response: Vec<Field>,
    /// Documented exchanges; the first one is the canonical sample.
    pub samples: Vec<Sample>,
    /// Documented limits beyond the fields' own bounds.
    pub limits: Vec<Limit>,
    /// Frequency limits besides `rate_limit`.
    pub rate_limits: Vec<ExtraRateLimit>,
    /// How the endpoint pages, for list endpoints.
    pub pagination: Option<Pagination>,
    /// The request list the client splits into parts, and the reply's per-item results.
    pub batch: Option<Batch>,
}

/// A batched request list, with the fields it names resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The request's array field.
    pub field: Field,
    /// The type of one item.
    pub item: Type,
    /// The most items one call takes (the field's `max_len`).
    pub max: u64,
    /// For object items: the string field naming an item.
    pub key: Option<Field>,
    /// Where the reply reports items.
    pub results: Option<BatchResults>,
}

/// Per-item results in a reply.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchResults {
    /// The reply's array field.
    pub list: Field,
    /// For object results: the string field naming the item.
    pub key: Option<Field>,
    /// For object results: the outcome field (integer or integer enum).
    pub code: Option<Field>,
    /// For object results: the reason field.
    pub info: Option<Field>,
    /// Codes meaning success.
    pub ok: Vec<i64>,
}

/// How a list endpoint pages, with the fields it names resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Pagination {
    /// The reply's array fields of items (usually one), with the type of one item.
    pub items: Vec<(Field, Type)>,
    /// The request's page size field.
    pub page_size: Option<Field>,
    /// The request's offset field, advanced by each page's length.
    pub offset: Option<Field>,
    /// The reply's field with the number of items in all pages.
    pub total: Option<Field>,
    /// `(request field, reply field)`: copied from each reply to the next request.
    pub cursors: Vec<(Field, Field)>,
    /// `(request field, item field)`: the next page lists the items below
    /// the smallest value of the item field.
    pub before: Option<(Field, Field)>,
    /// `(request field, item field)`: the next page lists the items above
    /// the largest value of the item field.
    pub after: Option<(Field, Field)>,
    /// The reply's last-page flag and its value then.
    pub done: Option<(Field, i64)>,
}

/// A frequency limit besides the endpoint's `rate_limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraRateLimit {
    /// The rate.
    pub rate: RateLimit,
    /// Request array field whose length a call costs.
    pub cost: Option<String>,
    /// Request field with one budget per value.
    pub per: Option<String>,
    /// The code answered when it is exceeded.
    pub code: Option<i64>,
    /// Whether a raised quota replaces this limit rather than `rate_limit`.
    pub main: bool,
    /// What is limited.
    pub doc: String,
}

/// A documented limit beyond a field's own bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// Identifier (snake_case).
    pub name: String,
    /// The largest value allowed.
    pub max: u64,
    /// The code answered when it is exceeded.
    pub code: Option<i64>,
    /// What is limited.
    pub doc: String,
}

impl Endpoint {
    /// The code the endpoint documents for a missing or bad request field
    /// (`wire` is its wire name), falling back to the catch-all code.
    pub fn error_for_field(&self, wire: &str) -> Option<&ErrorCode> {
        self.errors.iter().find(|e| e.fields.iter().any(|f| f == wire)).or_else(|| self.catch_all())
    }

    /// The catch-all code for an invalid request, if the endpoint has one.
    pub fn catch_all(&self) -> Option<&ErrorCode> {
        self.errors.iter().find(|e| e.catch_all)
    }
}

/// How often an endpoint may be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Calls allowed per `per`.
    pub calls: u32,
    /// Length of the window.
    pub per: Per,
}

/// Unit of a rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    /// Per second.
    Second,
    /// Per minute.
    Minute,
    /// Per day.
    Day,
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per {
            Per::Second => "s",
            Per::Minute => "min",
            Per::Day => "day",
        };
        write!(f, "{}/{unit}", self.calls)
    }
}

/// A built-in group type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupType {
    /// `Private` (work group).
    Private,
    /// `Work` (the newer name of `Private`).
    Work,
    /// `Public`.
    Public,
    /// `ChatRoom`.
    ChatRoom,
    /// `Meeting` (the newer name of `ChatRoom`).
    Meeting,
    /// `AVChatRoom` (live-streaming group).
    AvChatRoom,
    /// `Community`.
    Community,
}

impl GroupType {
    /// Every group type, in the order tables list them.
    pub const ALL: [GroupType; 7] = [
        GroupType::Private,
        GroupType::Work,
        GroupType::Public,
        GroupType::ChatRoom,
        GroupType::Meeting,
        GroupType::AvChatRoom,
        GroupType::Community,
    ];

    /// The group type ID as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupType::Private => "Private",
            GroupType::Work => "Work",
            GroupType::Public => "Public",
            GroupType::ChatRoom => "ChatRoom",
            GroupType::Meeting => "Meeting",
            GroupType::AvChatRoom => "AVChatRoom",
            GroupType::Community => "Community",
        }
    }
}

/// Whether an endpoint applies to one group type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTypeRow {
    /// The group type.
    pub group_type: GroupType,
    /// Whether the endpoint acts on groups of this type.
    pub supported: bool,
    /// For an unsupported type: the call succeeds and changes nothing.
    pub ignored: bool,
    /// Behaviour worth knowing.
    pub note: Option<String>,
}

/// A documented sample exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// What the sample shows.
    pub name: String,
    /// Request body.
    pub request: Value,
    /// Response body, including `ActionStatus`, `ErrorCode`, `ErrorInfo`.
    pub response: Value,
    /// The request as compact JSON, keys in the order the spec writes them
    /// (a [`Value`] sorts them).
    pub request_json: String,
    /// The request as indented JSON, keys in spec order.
    pub request_json_pretty: String,
    /// The response as compact JSON, keys in spec order.
    pub response_json: String,
}
