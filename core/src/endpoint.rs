//! The contract between generated endpoint code and the hand-written client.
//!
//! Generated code (see `tim-codegen`) implements these traits and fills these
//! tables; everything that sends, retries, throttles or decodes lives in the
//! runtime and only ever looks at an endpoint through them.

use std::fmt;
use std::time::Duration;

/// How often an endpoint may be called, as documented by Tencent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Calls allowed per `per`.
    pub calls: u32,
    /// Length of the window the calls are counted over.
    pub per: Duration,
}

impl RateLimit {
    /// `calls` per second.
    pub const fn per_second(calls: u32) -> Self {
        Self { calls, per: Duration::from_secs(1) }
    }
    /// `calls` per minute.
    pub const fn per_minute(calls: u32) -> Self {
        Self { calls, per: Duration::from_secs(60) }
    }
    /// `calls` per day.
    pub const fn per_day(calls: u32) -> Self {
        Self { calls, per: Duration::from_secs(86_400) }
    }
    /// The steady-state gap between two calls.
    pub fn interval(&self) -> Duration {
        self.per / self.calls.max(1)
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s",
            60 => "min",
            86_400 => "day",
            _ => return write!(f, "{}/{}s", self.calls, self.per.as_secs()),
        };
        write!(f, "{}/{}", self.calls, unit)
    }
}

/// One documented error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorMeta {
    /// The `ErrorCode` value.
    pub code: i64,
    /// Rust variant name of the code.
    pub name: &'static str,
    /// What the code means, in the spec's words.
    pub meaning: &'static str,
    /// Whether the same request may succeed when sent again.
    pub retryable: bool,
    /// Request fields (wire names) whose absence or bad value yields this code;
    /// `*` marks the endpoint's catch-all code for an invalid request.
    pub fields: &'static [&'static str],
    /// What the code stands for in the protocol, when the spec says.
    pub role: Option<ErrorRole>,
}

/// What an error code stands for in the protocol, as the specs' error tables
/// mark it (`role:`). The client and the mock find codes by role, so the
/// numbers live only in the specs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorRole {
    /// The UserSig has expired.
    UserSigExpired,
    /// The UserSig is empty.
    UserSigEmpty,
    /// The UserSig is malformed or fails to verify.
    UserSigInvalid,
    /// The UserSig was signed with another app's key.
    UserSigWrongKey,
    /// The UserSig was made for another identifier.
    UserSigUserMismatch,
    /// The UserSig was made for another SDKAppID.
    UserSigAppMismatch,
    /// The app has no key to check UserSigs with.
    UserSigKeyMissing,
    /// The body is not valid JSON.
    InvalidJson,
    /// The catch-all code for a missing or bad request field.
    InvalidField,
    /// The body is larger than the service accepts.
    BodyTooLarge,
    /// A call frequency limit was exceeded.
    RateLimited,
    /// The HTTP request itself is malformed (method, query parameters).
    BadRequest,
    /// No endpoint has this path.
    UnknownPath,
    /// The query lacks `sdkappid`.
    SdkAppIdMissing,
    /// No app has this SDKAppID.
    SdkAppIdNotFound,
    /// The `identifier` is missing or wrong.
    IdentifierInvalid,
    /// The `identifier` is not the app's administrator.
    AdminRequired,
    /// An account the request names does not exist (was never imported, or was deleted).
    AccountNotFound,
    /// The group does not exist or was disbanded.
    GroupNotFound,
    /// An account the request names is not a member of the group.
    NotGroupMember,
    /// The group's type does not support the operation.
    GroupTypeUnsupported,
    /// What the request creates exists already (a group ID in use, a friend already added).
    AlreadyExists,
    /// The message the request names does not exist or was recalled.
    MessageNotFound,
    /// The operator may not do this (e.g. not the owner or an admin).
    PermissionDenied,
    /// A stored quantity is at its limit (friends, groups, members).
    LimitReached,
    /// The accounts are not friends.
    NotFriend,
    /// One account has blocked the other.
    Blocked,
}

impl ErrorRole {
    /// Whether the server rejected the UserSig, so it did not process the
    /// request and sending it again with a fresh sig is safe.
    pub fn is_usersig_rejection(self) -> bool {
        matches!(
            self,
            Self::UserSigExpired
                | Self::UserSigEmpty
                | Self::UserSigInvalid
                | Self::UserSigWrongKey
                | Self::UserSigUserMismatch
                | Self::UserSigAppMismatch
                | Self::UserSigKeyMissing
        )
    }
}

/// Whether an endpoint applies to a built-in group type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupTypeSupport {
    /// Group type ID (`Private`, `Public`, `ChatRoom`, `AVChatRoom`, `Community`).
    pub group_type: &'static str,
    /// Whether the endpoint acts on groups of this type.
    pub supported: bool,
    /// Behaviour for this type when it differs from the plain yes/no.
    pub note: &'static str,
    /// For an unsupported type: the call succeeds and changes nothing,
    /// instead of failing.
    pub ignored: bool,
}

/// Everything the runtime, CLI and mock server know about one endpoint.
#[derive(Debug)]
#[non_exhaustive]
pub struct EndpointMeta {
    /// Path without leading slash, e.g. `v4/openim/admin_set_msg_read`.
    pub path: &'static str,
    /// One-line title.
    pub title: &'static str,
    /// Documented maximum call frequency.
    pub rate_limit: RateLimit,
    /// Whether sending the same request twice is harmless, so it may be retried.
    pub idempotent: bool,
    /// The endpoint's own error codes.
    pub errors: &'static [ErrorMeta],
    /// Shared error tables that also apply.
    pub shared_errors: &'static [&'static [ErrorMeta]],
    /// Group-type applicability table (empty when the endpoint is not about groups).
    pub group_types: &'static [GroupTypeSupport],
    /// Documented sample request body (JSON).
    pub sample_request: &'static str,
    /// Documented sample response body (JSON).
    pub sample_response: &'static str,
    /// What the documentation lacks, when its page is incomplete.
    pub partial: Option<&'static str>,
    /// Documented limits beyond the request fields' own bounds.
    pub limits: &'static [LimitMeta],
    /// Documented frequency limits besides [`rate_limit`](Self::rate_limit),
    /// all honoured (a per-recipient count, a per-group rate).
    pub rate_limits: &'static [RateLimitMeta],
    /// How the endpoint pages, for list endpoints.
    pub pagination: Option<&'static PaginationMeta>,
    /// The request list the client can split into parts, for batch endpoints.
    pub batch: Option<&'static BatchMeta>,
}

/// A request list the client splits into parts, as the spec's `batch:`
/// block says (wire names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchMeta {
    /// The request's array field.
    pub field: &'static str,
    /// The most items one call takes (the field's `max_len`).
    pub max: u32,
    /// For object items: their field naming an item in the reply.
    pub key: Option<&'static str>,
    /// The reply's array of per-item results, if it has one.
    pub results: Option<&'static str>,
    /// Result codes meaning success.
    pub ok: &'static [i64],
}

impl BatchMeta {
    /// The block of an endpoint batching `field` by `max`; used by generated code.
    #[doc(hidden)]
    pub const fn new(field: &'static str, max: u32) -> Self {
        Self { field, max, key: None, results: None, ok: &[0] }
    }
    /// Sets the items' key field; used by generated code.
    #[doc(hidden)]
    pub const fn key(self, key: &'static str) -> Self {
        Self { key: Some(key), ..self }
    }
    /// Sets the results list and the success codes; used by generated code.
    #[doc(hidden)]
    pub const fn results(self, list: &'static str, ok: &'static [i64]) -> Self {
        Self { results: Some(list), ok, ..self }
    }
}

/// How a list endpoint pages, as its spec's `pagination:` block says (wire names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PaginationMeta {
    /// The reply's array of items (several when a page fills one of them).
    pub items: &'static [&'static str],
    /// The request field setting the page size, if the caller can choose it.
    pub page_size: Option<&'static str>,
    /// The largest page size the spec allows.
    pub max_page_size: Option<u64>,
    /// The request field counting items already listed (advanced by each page's length).
    pub offset: Option<&'static str>,
    /// The reply field with the number of items in all pages.
    pub total: Option<&'static str>,
    /// Request fields set from reply fields for the next page: `(request, reply)`.
    pub cursors: &'static [(&'static str, &'static str)],
    /// Backwards listing: `(request field, item field)`; the next page ends
    /// just before the smallest item's value.
    pub before: Option<(&'static str, &'static str)>,
    /// Forwards listing: `(request field, item field)`; the next page starts
    /// just after the largest item's value.
    pub after: Option<(&'static str, &'static str)>,
    /// The reply flag marking the last page, and its value then.
    pub done: Option<(&'static str, i64)>,
}

impl PaginationMeta {
    /// The block of an endpoint listing `items`; used by generated code.
    #[doc(hidden)]
    pub const fn new(items: &'static [&'static str]) -> Self {
        Self {
            items,
            after: None,
            page_size: None,
            max_page_size: None,
            offset: None,
            total: None,
            cursors: &[],
            before: None,
            done: None,
        }
    }
    /// Sets the page size field; used by generated code.
    #[doc(hidden)]
    pub const fn page_size(self, field: &'static str, max: Option<u64>) -> Self {
        Self { page_size: Some(field), max_page_size: max, ..self }
    }
    /// Sets the offset field; used by generated code.
    #[doc(hidden)]
    pub const fn offset(self, field: &'static str) -> Self {
        Self { offset: Some(field), ..self }
    }
    /// Sets the total field; used by generated code.
    #[doc(hidden)]
    pub const fn total(self, field: &'static str) -> Self {
        Self { total: Some(field), ..self }
    }
    /// Sets the cursors; used by generated code.
    #[doc(hidden)]
    pub const fn cursors(self, cursors: &'static [(&'static str, &'static str)]) -> Self {
        Self { cursors, ..self }
    }
    /// Sets the backwards sequence; used by generated code.
    #[doc(hidden)]
    pub const fn before(self, request: &'static str, item: &'static str) -> Self {
        Self { before: Some((request, item)), ..self }
    }
    /// Sets the forwards sequence; used by generated code.
    #[doc(hidden)]
    pub const fn after(self, request: &'static str, item: &'static str) -> Self {
        Self { after: Some((request, item)), ..self }
    }
    /// Sets the last-page flag; used by generated code.
    #[doc(hidden)]
    pub const fn done(self, field: &'static str, value: i64) -> Self {
        Self { done: Some((field, value)), ..self }
    }
}

impl fmt::Display for PaginationMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "items in `{}`", self.items.join("` or `"))?;
        if let Some(p) = self.page_size {
            write!(f, ", page size `{p}`")?;
            if let Some(max) = self.max_page_size {
                write!(f, " (at most {max})")?;
            }
        }
        if let Some(o) = self.offset {
            write!(f, ", offset `{o}`")?;
        }
        for (req, reply) in self.cursors {
            write!(f, ", `{req}` from the reply's `{reply}`")?;
        }
        if let Some((req, item)) = self.before {
            write!(f, ", `{req}` below the smallest item `{item}`")?;
        }
        if let Some((req, item)) = self.after {
            write!(f, ", `{req}` above the largest item `{item}`")?;
        }
        if let Some(t) = self.total {
            write!(f, "; ends at `{t}` items")?;
        }
        if let Some((d, v)) = self.done {
            write!(f, "; ends when `{d}` is {v}")?;
        }
        Ok(())
    }
}

/// A documented frequency limit besides an endpoint's main one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitMeta {
    /// The rate.
    pub limit: RateLimit,
    /// A request array field: a call costs its length (e.g. recipients).
    pub cost: Option<&'static str>,
    /// A request field with one budget per value (e.g. per group).
    pub per: Option<&'static str>,
    /// The code answered when it is exceeded, if documented.
    pub code: Option<i64>,
    /// Whether a raised quota replaces this limit rather than the main one.
    pub main: bool,
    /// What is limited.
    pub doc: &'static str,
}

/// One limit a call counts against, after a raised quota is applied (see
/// [`EndpointMeta::applied_limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppliedLimit {
    /// 0 for the endpoint's main rate; `i + 1` for [`EndpointMeta::rate_limits`]`[i]`.
    pub index: usize,
    /// The rate in force.
    pub limit: RateLimit,
    /// The extra limit's metadata (cost field, per field, code); `None` for the main rate.
    pub extra: Option<&'static RateLimitMeta>,
}

/// A documented limit beyond a request field's own bounds (a total over
/// several fields, a count after merging with what is stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitMeta {
    /// Identifier (snake_case), e.g. `total_value_bytes`.
    pub name: &'static str,
    /// The largest value allowed.
    pub max: u64,
    /// The code answered when it is exceeded, if documented.
    pub code: Option<i64>,
    /// What is limited.
    pub doc: &'static str,
}

impl EndpointMeta {
    /// Builds the metadata; used by generated code.
    #[allow(clippy::too_many_arguments)]
    #[doc(hidden)]
    pub const fn new(
        path: &'static str,
        title: &'static str,
        rate_limit: RateLimit,
        idempotent: bool,
        errors: &'static [ErrorMeta],
        shared_errors: &'static [&'static [ErrorMeta]],
        group_types: &'static [GroupTypeSupport],
        sample_request: &'static str,
        sample_response: &'static str,
    ) -> Self {
        Self {
            path,
            title,
            rate_limit,
            idempotent,
            errors,
            shared_errors,
            group_types,
            sample_request,
            sample_response,
            partial: None,
            limits: &[],
            rate_limits: &[],
            pagination: None,
            batch: None,
        }
    }

    /// Sets the batched list; used by generated code.
    #[doc(hidden)]
    pub const fn batch(self, batch: &'static BatchMeta) -> Self {
        Self { batch: Some(batch), ..self }
    }

    /// Sets how the endpoint pages; used by generated code.
    #[doc(hidden)]
    pub const fn pagination(self, pagination: &'static PaginationMeta) -> Self {
        Self { pagination: Some(pagination), ..self }
    }

    /// Marks the endpoint as partly documented; used by generated code.
    #[doc(hidden)]
    pub const fn partial(self, what: &'static str) -> Self {
        Self { partial: Some(what), ..self }
    }

    /// Sets the documented limits; used by generated code.
    #[doc(hidden)]
    pub const fn limits(self, limits: &'static [LimitMeta]) -> Self {
        Self { limits, ..self }
    }

    /// Sets the further frequency limits; used by generated code.
    #[doc(hidden)]
    pub const fn rate_limits(self, rate_limits: &'static [RateLimitMeta]) -> Self {
        Self { rate_limits, ..self }
    }

    /// Every limit a call counts against, with `raised` (a paid quota, a
    /// `--limit` override) replacing the one a raise applies to: the extra
    /// limit marked `main` when there is one (`batchsendmsg`'s recipients per
    /// minute), otherwise the endpoint's rate.
    pub fn applied_limits(&'static self, raised: Option<RateLimit>) -> impl Iterator<Item = AppliedLimit> {
        let main_is_extra = self.rate_limits.iter().any(|l| l.main);
        let base = if main_is_extra { self.rate_limit } else { raised.unwrap_or(self.rate_limit) };
        std::iter::once(AppliedLimit { index: 0, limit: base, extra: None }).chain(
            self.rate_limits.iter().enumerate().map(move |(i, l)| AppliedLimit {
                index: i + 1,
                limit: if l.main { raised.unwrap_or(l.limit) } else { l.limit },
                extra: Some(l),
            }),
        )
    }

    /// The documented limit named `name`.
    pub fn limit(&self, name: &str) -> Option<&'static LimitMeta> {
        self.limits.iter().find(|l| l.name == name)
    }

    /// Looks a code up in the endpoint's own table first, then the shared ones.
    pub fn error(&self, code: i64) -> Option<&'static ErrorMeta> {
        self.errors.iter().chain(self.shared_errors.iter().flat_map(|t| t.iter())).find(|e| e.code == code)
    }

    /// The first code with `role`, in the endpoint's own table, then the shared ones.
    pub fn error_with_role(&self, role: ErrorRole) -> Option<&'static ErrorMeta> {
        self.errors
            .iter()
            .chain(self.shared_errors.iter().flat_map(|t| t.iter()))
            .find(|e| e.role == Some(role))
    }

    /// The code this endpoint returns for a missing or bad request field
    /// (`field` is a wire name), falling back to its catch-all code.
    pub fn error_for_field(&self, field: &str) -> Option<&'static ErrorMeta> {
        let find = |f: &str| self.errors.iter().find(|e| e.fields.contains(&f));
        find(field).or_else(|| find("*"))
    }

    /// Support for a group type, if the endpoint documents one.
    pub fn group_type(&self, group_type: &str) -> Option<&'static GroupTypeSupport> {
        self.group_types.iter().find(|g| g.group_type == group_type)
    }
}

/// A local check failed: names the JSON path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// Wire path, e.g. `C2CMsgInfo[2].MsgKey`.
    pub path: String,
    /// Why the value is rejected.
    pub reason: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid field `{}`: {}", self.path, self.reason)
    }
}

impl std::error::Error for ValidationError {}

impl ValidationError {
    /// A new error at `path`.
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { path: path.into(), reason: reason.into() }
    }
}

/// Constraints the spec states beyond what the Rust type already enforces.
pub trait Validate {
    /// Checks `self`, with `path` the wire path of this value ("" at the root).
    fn validate_at(&self, path: &str) -> Result<(), ValidationError>;

    /// Checks `self` as a request body.
    fn validate(&self) -> Result<(), ValidationError> {
        self.validate_at("")
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate_at(&self, path: &str) -> Result<(), ValidationError> {
        self.iter().enumerate().try_for_each(|(i, v)| v.validate_at(&format!("{path}[{i}]")))
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate_at(&self, path: &str) -> Result<(), ValidationError> {
        self.as_ref().map_or(Ok(()), |v| v.validate_at(path))
    }
}

/// An endpoint's error enum: documented codes, shared codes and `Unknown`.
pub trait ApiErrorKind: fmt::Debug + fmt::Display + Send + Sync + 'static {
    /// Classifies a failed reply.
    fn from_reply(code: i64, info: String) -> Self;
    /// The `ErrorCode` value.
    fn code(&self) -> i64;
    /// The `ErrorInfo` text the server sent.
    fn info(&self) -> &str;
    /// The documented entry for the code, if any.
    fn meta(&self) -> Option<&'static ErrorMeta>;
    /// What the code stands for in the protocol, when the spec says.
    fn role(&self) -> Option<ErrorRole> {
        self.meta().and_then(|m| m.role)
    }
    /// Whether sending the request again may succeed.
    fn is_retryable(&self) -> bool {
        self.meta().is_some_and(|m| m.retryable)
    }
}

/// A request body of one endpoint; the type ties it to its response and errors.
pub trait ApiRequest: serde::Serialize + Validate + Send + Sync {
    /// The typed body of a successful reply.
    type Response: serde::de::DeserializeOwned + Send + 'static;
    /// The endpoint's error enum.
    type Error: ApiErrorKind;
    /// The endpoint's metadata.
    const META: &'static EndpointMeta;

    /// What this request counts as against one of the endpoint's
    /// [`rate_limits`](EndpointMeta::rate_limits): units (the length of the
    /// `cost` field, at least 1) and the budget it draws from (the value of
    /// the `per` field). Generated from the spec.
    fn rate_units(&self, limit: &RateLimitMeta) -> RateUnits {
        let _ = limit;
        RateUnits::ONE
    }
}

/// What one request counts as against a limit; see [`ApiRequest::rate_units`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateUnits {
    /// Units consumed (recipients for `batchsendmsg`).
    pub cost: u32,
    /// The budget drawn from, for per-value limits (the group).
    pub key: Option<String>,
}

impl RateUnits {
    /// One unit from the endpoint-wide budget.
    pub const ONE: RateUnits = RateUnits { cost: 1, key: None };

    /// `cost` units from the budget of `key`; used by generated code.
    #[doc(hidden)]
    pub fn new(cost: usize, key: Option<String>) -> Self {
        Self { cost: u32::try_from(cost).unwrap_or(u32::MAX).max(1), key }
    }
}

/// A field in a response that the spec types as an enum: keeps values it does not know.
pub trait OpenEnum: Sized {
    /// Whether this value is one the spec names.
    fn is_known(&self) -> bool;
}

/// Joins a wire path and a field name: `join_path("A[0]", "B")` is `A[0].B`.
pub fn join_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// Formats an API error as `API error <code>: <ErrorInfo> (<documented meaning>)`:
/// the one text every API error (typed, erased, inside [`Error`](crate::Error)) shows.
pub fn fmt_api_error<E: ApiErrorKind + ?Sized>(e: &E, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "API error {}", e.code())?;
    let info = e.info();
    if !info.is_empty() {
        write!(f, ": {info}")?;
    }
    match e.meta() {
        Some(meta) if !meta.meaning.is_empty() && meta.meaning != info => write!(f, " ({})", meta.meaning),
        Some(_) => Ok(()),
        None => f.write_str(" (code not documented for this endpoint)"),
    }
}

/// An error code the spec does not document for the endpoint that returned it.
///
/// Opaque on purpose: when a later spec documents the code, it moves to a
/// variant of its own, and code that matched on the number here would silently
/// stop matching; reading [`code`](Self::code) through the endpoint error's
/// `ApiErrorKind::code` keeps working either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCode {
    code: i64,
    info: String,
}

impl UnknownCode {
    /// Wraps a code and `ErrorInfo`; used by generated code.
    #[doc(hidden)]
    pub fn new(code: i64, info: String) -> Self {
        Self { code, info }
    }

    /// The `ErrorCode` value.
    pub fn code(&self) -> i64 {
        self.code
    }

    /// The server's `ErrorInfo`.
    pub fn info(&self) -> &str {
        &self.info
    }
}

/// Constraint checks called by generated `Validate` impls.
pub mod check {
    use super::ValidationError;

    /// Checks `min <= value <= max`.
    pub fn range(
        value: i128,
        min: Option<i64>,
        max: Option<i64>,
        at: impl FnOnce() -> String,
    ) -> Result<(), ValidationError> {
        if min.is_some_and(|m| value < i128::from(m)) || max.is_some_and(|m| value > i128::from(m)) {
            let want = match (min, max) {
                (Some(a), Some(b)) => format!("between {a} and {b}"),
                (Some(a), None) => format!("at least {a}"),
                (None, Some(b)) => format!("at most {b}"),
                (None, None) => unreachable!("checked above"),
            };
            return Err(ValidationError::new(at(), format!("must be {want}, got {value}")));
        }
        Ok(())
    }

    /// The candidate closest to `word` by edit distance, when close enough
    /// to be a likely typo (for "did you mean" hints).
    pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
        let word_lower = word.to_ascii_lowercase();
        candidates
            .into_iter()
            .map(|c| (strsim::damerau_levenshtein(&word_lower, &c.to_ascii_lowercase()), c))
            .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
            .min_by_key(|(d, _)| *d)
            .map(|(_, c)| c)
    }

    /// What the valid values are: the nearest one when `got` is a likely
    /// typo, else all of them.
    fn expected(got: &str, allowed: &[&str]) -> String {
        match nearest(got, allowed.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("expected one of {}", allowed.join(", ")),
        }
    }

    /// Checks that a string enum's value is one the spec names.
    pub fn one_of(value: &str, allowed: &[&str], at: impl FnOnce() -> String) -> Result<(), ValidationError> {
        if allowed.contains(&value) {
            return Ok(());
        }
        let shown: String = value.chars().take(64).collect();
        Err(ValidationError::new(
            at(),
            format!("`{shown}` is not a valid value; {}", expected(value, allowed)),
        ))
    }

    /// Checks that an integer enum's value is one the spec names.
    pub fn one_of_int(
        value: i64,
        allowed: &[i64],
        at: impl FnOnce() -> String,
    ) -> Result<(), ValidationError> {
        if allowed.contains(&value) {
            return Ok(());
        }
        let list: Vec<String> = allowed.iter().map(i64::to_string).collect();
        Err(ValidationError::new(
            at(),
            format!("{value} is not a valid value; expected one of {}", list.join(", ")),
        ))
    }

    /// Refuses a union tag the spec does not name (`tag_field` is its wire
    /// name, e.g. `MsgType`).
    pub fn union_tag(
        tag: &str,
        allowed: &[&str],
        tag_field: &str,
        at: impl FnOnce() -> String,
    ) -> ValidationError {
        let shown: String = tag.chars().take(64).collect();
        let at = at();
        let path = if at.is_empty() { tag_field.to_owned() } else { format!("{at}.{tag_field}") };
        ValidationError::new(
            path,
            format!("`{shown}` is not a known {tag_field}; {}", expected(tag, allowed)),
        )
    }

    /// Checks that a string begins with `prefix`.
    pub fn prefix(value: &str, prefix: &str, at: impl FnOnce() -> String) -> Result<(), ValidationError> {
        if value.starts_with(prefix) {
            return Ok(());
        }
        Err(ValidationError::new(at(), format!("must begin with `{prefix}`")))
    }

    /// Checks `min <= len <= max`; `unit` is `bytes` or `items`.
    pub fn len(
        len: usize,
        min: Option<u64>,
        max: Option<u64>,
        unit: &str,
        at: impl FnOnce() -> String,
    ) -> Result<(), ValidationError> {
        let len64 = len as u64;
        if let Some(m) = min.filter(|m| len64 < *m) {
            return Err(ValidationError::new(at(), format!("needs at least {m} {unit}, got {len}")));
        }
        if let Some(m) = max.filter(|m| len64 > *m) {
            return Err(ValidationError::new(at(), format!("allows at most {m} {unit}, got {len}")));
        }
        Ok(())
    }
}
