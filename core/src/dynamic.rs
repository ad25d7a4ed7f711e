//! Type-erased access to endpoints by path, for the CLI and the mock server.
//!
//! Each [`EndpointEntry`] holds monomorphized function pointers, so code that
//! only knows a path at run time still goes through the endpoint's own types:
//! bad input is caught by the same parsing and validation as typed calls.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::batch::{Batched, Failure};
use crate::client::Client;
use crate::endpoint::{
    fmt_api_error, ApiErrorKind, ApiRequest, BatchMeta, EndpointMeta, ErrorMeta, RateUnits, ValidationError,
};
use crate::error::Error;
use crate::paginate::Paginated;
use crate::reply;

/// Future returned by [`EndpointEntry::call_json`] and [`EndpointEntry::call_bytes`].
pub type JsonCall<'a> = Pin<Box<dyn Future<Output = Result<Value, Error<DynApiError>>> + Send + 'a>>;

/// One endpoint, reachable without naming its types.
pub struct EndpointEntry {
    /// The endpoint's metadata.
    pub meta: &'static EndpointMeta,
    /// Parses a JSON request body into the endpoint's request type and validates
    /// it; on failure names the field path (e.g. `C2CMsgInfo[0].MsgKey`) and
    /// reason. Returns the re-serialized canonical JSON value.
    pub parse_request: fn(&[u8]) -> Result<Value, RequestError>,
    /// Checks that a reply body decodes (envelope + typed response or typed
    /// error); returns the re-serialized response.
    pub parse_reply: fn(&[u8]) -> Result<Value, Error<DynApiError>>,
    /// Sends a JSON request (parsed and validated first, so bad input is never
    /// sent) and returns the response re-serialized as JSON.
    pub call_json: for<'a> fn(&'a Client, Value) -> JsonCall<'a>,
    /// Parses a JSON request body into the endpoint's request type,
    /// validates it and serializes it, once each, ready to send with
    /// [`PreparedCall::send`]; on failure names the field path and reason.
    /// [`call_bytes`](Self::call_bytes) does both steps.
    pub prepare: fn(&[u8]) -> Result<PreparedCall, RequestError>,
    /// The request's fields as a tree, from the spec (`tim describe`).
    pub request_fields: &'static [FieldInfo],
    /// The reply's fields as a tree, from the spec.
    pub response_fields: &'static [FieldInfo],
    /// For list endpoints: lists every item from a JSON request body (see
    /// [`paginate`](Self::paginate)).
    pub paginate_json: Option<PaginateJson>,
    /// For batch endpoints: sends the batched list in parts by path (`tim bulk`).
    pub batch_json: Option<BatchJson>,
}

/// A batch endpoint's list, sent in parts by path (`tim bulk`).
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct BatchJson {
    /// The list field and where results come back.
    pub meta: &'static BatchMeta,
    /// Checks `template` (the body without the list) with `item` as the
    /// list's only item; returns the item's key, or the refusal (a path
    /// under `FIELD[0]` blames the item, any other the template).
    pub check: fn(&Value, &Value) -> Result<String, RequestError>,
    /// Sends `template` with `items` as the list; per item in order, `None`
    /// when done or why not.
    pub send: for<'a> fn(&'a Client, &'a Value, Vec<Value>) -> BatchJsonCall<'a>,
    /// Items per part for this client (its raised limits included).
    pub part_size: fn(&Client) -> usize,
}

impl fmt::Debug for BatchJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchJson").field("meta", &self.meta).finish_non_exhaustive()
    }
}

/// Future of [`BatchJson::send`].
pub type BatchJsonCall<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Option<Failure>>, Error<DynApiError>>> + Send + 'a>>;

/// Starts a listing by path: see [`EndpointEntry::paginate`].
pub type PaginateJson = fn(&Client, &[u8], PageOptions) -> Result<JsonItems, RequestError>;

/// Items of a listing by path, each re-serialized as JSON: a
/// [`Stream`](futures_core::Stream), or read one by one with [`next`](Self::next).
pub struct JsonItems {
    inner: Pin<Box<dyn futures_core::Stream<Item = Result<Value, Error<DynApiError>>> + Send>>,
}

impl fmt::Debug for JsonItems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonItems").finish_non_exhaustive()
    }
}

impl JsonItems {
    /// The next item, or `None` after the last one (or after an error).
    pub async fn next(&mut self) -> Option<Result<Value, Error<DynApiError>>> {
        std::future::poll_fn(|cx| self.inner.as_mut().poll_next(cx)).await
    }
}

impl futures_core::Stream for JsonItems {
    type Item = Result<Value, Error<DynApiError>>;
    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// Page size and item cap of a listing by path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageOptions {
    /// Items per page (for endpoints whose page size the caller sets).
    pub page_size: Option<u32>,
    /// Stop after this many items.
    pub max_items: Option<usize>,
}

impl PageOptions {
    /// No page size and no cap.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the page size.
    pub fn page_size(self, size: Option<u32>) -> Self {
        Self { page_size: size, ..self }
    }
    /// Sets the item cap.
    pub fn max_items(self, n: Option<usize>) -> Self {
        Self { max_items: n, ..self }
    }
}

/// One field of a request or reply as its spec describes it, for tools
/// that explain an endpoint (`tim describe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldInfo {
    /// Wire name (`MsgBody`); for a union's variant, its tag value.
    pub wire: &'static str,
    /// The type in words: `string`, `u32`, `object`, `array of object`,
    /// `enum`, `union on MsgType`, a shared type's name and what it is, ...
    pub ty: &'static str,
    /// Whether a request must carry it (replies: always `false`).
    pub required: bool,
    /// What it means.
    pub doc: &'static str,
    /// Its bounds in words (`at most 32 bytes`, `1 to 500 items`), if any.
    pub constraints: &'static str,
    /// Enum values or union tags, as on the wire.
    pub values: &'static [&'static str],
    /// Fields of an object (or of the objects of a list, or of the values
    /// of a map); a union's variants.
    pub fields: &'static [FieldInfo],
    /// Older names the service still accepts for it.
    pub aliases: &'static [&'static str],
    /// For a union (or a list of them): the tag key and the content key
    /// (`("MsgType", "MsgContent")`); `fields` are then its variants, each
    /// named by its tag value, with the content's fields.
    pub union: Option<(&'static str, &'static str)>,
    /// A map: `fields` describe each of its values.
    pub map: bool,
}

impl FieldInfo {
    /// A field description (what generated code builds).
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        wire: &'static str,
        ty: &'static str,
        required: bool,
        doc: &'static str,
        constraints: &'static str,
        values: &'static [&'static str],
        fields: &'static [FieldInfo],
    ) -> Self {
        Self { wire, ty, required, doc, constraints, values, fields, aliases: &[], union: None, map: false }
    }

    /// With the older names the service still accepts.
    pub const fn aliases(self, aliases: &'static [&'static str]) -> Self {
        Self { aliases, ..self }
    }

    /// A union (or a list of them) on `tag`, its content under `content`.
    pub const fn union(self, tag: &'static str, content: &'static str) -> Self {
        Self { union: Some((tag, content)), ..self }
    }

    /// A map whose values `fields` describe.
    pub const fn map(self) -> Self {
        Self { map: true, ..self }
    }

    fn knows(&self, key: &str) -> bool {
        self.wire == key || self.aliases.contains(&key)
    }
}

/// The keys of `value` that `fields` (the fields of the object it is) do
/// not name, at any depth: inside nested objects, lists, maps and union
/// contents. Each is its full path (`MsgBody[0].MsgContent.Txt`) and the
/// reason, with the nearest known name when one is close. `Value`s the
/// spec types as any JSON are not looked into.
pub fn unknown_keys(value: &Value, fields: &[FieldInfo]) -> Vec<RequestError> {
    let mut out = Vec::new();
    object_keys(value, fields, "", &mut out);
    out
}

fn object_keys(value: &Value, fields: &[FieldInfo], path: &str, out: &mut Vec<RequestError>) {
    let Value::Object(map) = value else { return };
    for (key, v) in map {
        let at = crate::endpoint::join_path(path, key);
        match fields.iter().find(|f| f.knows(key)) {
            Some(f) => field_keys(v, f, &at, out),
            None => {
                let near = crate::endpoint::check::nearest(key, fields.iter().map(|f| f.wire));
                let hint = near.map(|n| format!("; did you mean `{n}`?")).unwrap_or_default();
                out.push(RequestError { path: at, reason: format!("unknown field{hint}") });
            }
        }
    }
}

fn field_keys(value: &Value, f: &FieldInfo, path: &str, out: &mut Vec<RequestError>) {
    if f.fields.is_empty() {
        return;
    }
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                field_keys(item, f, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) if f.map => {
            for (k, v) in map {
                let inner = FieldInfo { map: false, ..*f };
                field_keys(v, &inner, &crate::endpoint::join_path(path, k), out);
            }
        }
        Value::Object(map) => match f.union {
            None => object_keys(value, f.fields, path, out),
            Some((tag, content)) => {
                for key in map.keys().filter(|k| *k != tag && *k != content) {
                    let hint = crate::endpoint::check::nearest(key, [tag, content])
                        .map(|n| format!("; did you mean `{n}`?"))
                        .unwrap_or_default();
                    out.push(RequestError {
                        path: crate::endpoint::join_path(path, key),
                        reason: format!("unknown field{hint}"),
                    });
                }
                let variant =
                    map.get(tag).and_then(Value::as_str).and_then(|t| f.fields.iter().find(|v| v.wire == t));
                if let (Some(variant), Some(inner)) = (variant, map.get(content)) {
                    object_keys(inner, variant.fields, &crate::endpoint::join_path(path, content), out);
                }
            }
        },
        _ => {}
    }
}

/// A request body checked by [`EndpointEntry::prepare`] and serialized from
/// the request type, waiting for a client to send it.
pub struct PreparedCall {
    path: &'static str,
    body: Vec<u8>,
    /// What the request counts as against each of the endpoint's extra limits.
    units: Vec<RateUnits>,
    send: for<'a> fn(&'a Client, Vec<u8>, Vec<RateUnits>) -> JsonCall<'a>,
}

impl fmt::Debug for PreparedCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedCall").field("path", &self.path).field("body_len", &self.body.len()).finish()
    }
}

impl PreparedCall {
    /// The body that will be sent: canonical JSON of the request type.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Sends the body (with the client's retries) and returns the response
    /// re-serialized as JSON.
    pub fn send(self, client: &Client) -> JsonCall<'_> {
        (self.send)(client, self.body, self.units)
    }
}

impl fmt::Debug for EndpointEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointEntry").field("path", &self.meta.path).finish_non_exhaustive()
    }
}

impl EndpointEntry {
    /// The entry for request type `R`; usable in a `static`.
    pub const fn of<R: ApiRequest<Response: serde::Serialize> + DeserializeOwned + 'static>() -> Self {
        Self {
            meta: R::META,
            parse_request: parse_request::<R>,
            parse_reply: parse_reply::<R>,
            call_json: call_json::<R>,
            prepare: prepare::<R>,
            request_fields: &[],
            response_fields: &[],
            paginate_json: None,
            batch_json: None,
        }
    }

    /// The entry of a batch endpoint, whose list can also be sent in parts by path.
    pub const fn batched<R>(self) -> Self
    where
        R: Batched<Response: serde::Serialize> + DeserializeOwned,
    {
        let batch = BatchJson {
            meta: R::BATCH,
            check: batch_check::<R>,
            send: batch_send::<R>,
            part_size: |client| client.batch_part_size::<R>(),
        };
        Self { batch_json: Some(batch), ..self }
    }

    /// The entry of a list endpoint, which can also be listed by path.
    pub const fn paginated<R>(self) -> Self
    where
        R: Paginated<Item: serde::Serialize> + DeserializeOwned,
    {
        Self { paginate_json: Some(paginate_json::<R>), ..self }
    }

    /// Lists every item of a list endpoint, starting from a JSON request body
    /// (checked as by [`prepare`](Self::prepare)), following its cursor page
    /// after page. `None` for endpoints that do not page.
    pub fn paginate(
        &self,
        client: &Client,
        body: &[u8],
        options: PageOptions,
    ) -> Option<Result<JsonItems, RequestError>> {
        self.paginate_json.map(|f| f(client, body, options))
    }

    /// The entry with the field trees of its request and reply.
    pub const fn described(self, request: &'static [FieldInfo], response: &'static [FieldInfo]) -> Self {
        Self { request_fields: request, response_fields: response, ..self }
    }

    /// Sends a JSON request body given as bytes: parsed, validated and
    /// serialized once each (see [`prepare`](Self::prepare)); bad input fails
    /// with [`Error::InvalidRequest`] naming the field, and nothing is sent.
    pub fn call_bytes<'a>(&self, client: &'a Client, body: &[u8]) -> JsonCall<'a> {
        match (self.prepare)(body) {
            Ok(prepared) => prepared.send(client),
            Err(e) => Box::pin(std::future::ready(Err(Error::InvalidRequest(e.into())))),
        }
    }

    /// Parses a request body as the service does: fields the spec does not
    /// know are ignored (and listed), known ones are checked as by
    /// [`parse_request`](Self::parse_request). The service ignores fields it
    /// does not know, so long-lived clients that still send removed ones
    /// (`MsgTimeStamp`) keep working; a typo is ignored the same way there.
    pub fn parse_request_lenient(&self, body: &[u8]) -> Result<Lenient<Value>, RequestError> {
        let (value, ignored) = without_unknown(self.parse_request, body)?;
        Ok(Lenient { value, ignored })
    }

    /// Like [`prepare`](Self::prepare), but fields the spec does not know are
    /// kept and sent as given (listed in `ignored`) instead of refused; the
    /// known fields are checked all the same. For `tim call --allow-unknown`.
    pub fn prepare_lenient(&self, body: &[u8]) -> Result<Lenient<PreparedCall>, RequestError> {
        let (mut prepared, ignored) = without_unknown(self.prepare, body)?;
        if !ignored.is_empty() {
            // The canonical form of the known fields would drop the unknown ones.
            prepared.body = body.to_vec();
        }
        Ok(Lenient { value: prepared, ignored })
    }
}

/// A request accepted with fields the spec does not know.
#[derive(Debug)]
#[non_exhaustive]
pub struct Lenient<T> {
    /// The parsed request (canonical JSON) or the call ready to send.
    pub value: T,
    /// Wire paths of the fields that were not checked (`MsgTimeStamp`, `Items[0].Extra`).
    pub ignored: Vec<String>,
}

/// Runs `step` (a parse, or a parse and serialize) on `body`, and again
/// without each field it reports as unknown; its output and the paths of the
/// fields removed. A body the spec fully knows is stepped through once.
fn without_unknown<T>(
    step: fn(&[u8]) -> Result<T, RequestError>,
    body: &[u8],
) -> Result<(T, Vec<String>), RequestError> {
    let mut ignored = Vec::new();
    let mut current = body.to_vec();
    let mut value: Option<Value> = None;
    // Each round removes one field; a body has no more fields than bytes.
    for _ in 0..=body.len() {
        let err = match step(&current) {
            Ok(out) => return Ok((out, ignored)),
            Err(e) => e,
        };
        let Some(name) = unknown_field(&err.reason) else { return Err(err) };
        let v = match &mut value {
            Some(v) => v,
            None => value.insert(serde_json::from_slice(body).map_err(|_| err.clone())?),
        };
        if !remove_field(v, &err.path, name) {
            return Err(err);
        }
        ignored.push(if err.path.is_empty() {
            name.to_owned()
        } else if err.path.ends_with(name) {
            err.path.clone()
        } else {
            format!("{}.{name}", err.path)
        });
        current =
            serde_json::to_vec(v).map_err(|e| RequestError { path: String::new(), reason: e.to_string() })?;
    }
    Err(RequestError { path: String::new(), reason: "too many unknown fields".into() })
}

/// The field serde names in an "unknown field `X`, expected ..." message.
fn unknown_field(reason: &str) -> Option<&str> {
    reason.strip_prefix("unknown field `")?.split('`').next()
}

/// Removes `name` from the object at `path` (or at its parent, when `path`
/// already ends with the name); whether something was removed.
fn remove_field(root: &mut Value, path: &str, name: &str) -> bool {
    let segments = path_segments(path);
    let parent_first = segments.last().is_some_and(|s| matches!(s, Seg::Key(k) if *k == name));
    let at = if parent_first { &segments[..segments.len() - 1] } else { &segments[..] };
    let mut node = root;
    for seg in at {
        node = match (seg, node) {
            (Seg::Key(k), Value::Object(m)) => match m.get_mut(*k) {
                Some(n) => n,
                None => return false,
            },
            (Seg::Index(i), Value::Array(a)) => match a.get_mut(*i) {
                Some(n) => n,
                None => return false,
            },
            _ => return false,
        };
    }
    match node {
        Value::Object(m) => m.remove(name).is_some(),
        _ => false,
    }
}

enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// `A.B[2].C` as segments; `.` alone (or empty) is the root.
fn path_segments(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut pieces = part.split('[');
        if let Some(key) = pieces.next().filter(|k| !k.is_empty()) {
            out.push(Seg::Key(key));
        }
        for idx in pieces {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                out.push(Seg::Index(i));
            }
        }
    }
    out
}

/// Finds an endpoint by path, with or without the leading `/`.
pub fn find(entries: &'static [EndpointEntry], path: &str) -> Option<&'static EndpointEntry> {
    let path = path.strip_prefix('/').unwrap_or(path);
    entries.iter().find(|e| e.meta.path == path)
}

/// A request body that does not fit the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    /// Wire path of the offending field; empty for the body as a whole.
    pub path: String,
    /// Why it was rejected.
    pub reason: String,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "invalid request: {}", self.reason)
        } else {
            write!(f, "invalid request: field `{}`: {}", self.path, self.reason)
        }
    }
}

impl std::error::Error for RequestError {}

impl From<ValidationError> for RequestError {
    fn from(v: ValidationError) -> Self {
        let path = v.path.strip_prefix('.').unwrap_or(&v.path).to_owned();
        Self { path, reason: v.reason }
    }
}

impl From<RequestError> for ValidationError {
    fn from(e: RequestError) -> Self {
        ValidationError::new(e.path, e.reason)
    }
}

impl RequestError {
    fn from_serde(e: &serde_path_to_error::Error<serde_json::Error>) -> Self {
        let (path, reason) = reply::split_path_error(e);
        let path = if path == "." { String::new() } else { path };
        Self { path, reason }
    }
}

/// Any endpoint's API error, with its documented meaning when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynApiError {
    /// The `ErrorCode` value.
    pub code: i64,
    /// The `ErrorInfo` text the server sent.
    pub info: String,
    /// The documented entry for the code, if any.
    pub meta: Option<&'static ErrorMeta>,
}

impl DynApiError {
    /// Erases an endpoint's error type.
    pub fn from_kind<E: ApiErrorKind>(e: &E) -> Self {
        Self { code: e.code(), info: e.info().to_owned(), meta: e.meta() }
    }

    fn erase<E: ApiErrorKind>(e: E) -> Self {
        Self::from_kind(&e)
    }
}

impl fmt::Display for DynApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_api_error(self, f)
    }
}

impl std::error::Error for DynApiError {}

impl ApiErrorKind for DynApiError {
    /// Without an endpoint there is no table to look the code up in.
    fn from_reply(code: i64, info: String) -> Self {
        Self { code, info, meta: None }
    }
    fn code(&self) -> i64 {
        self.code
    }
    fn info(&self) -> &str {
        &self.info
    }
    fn meta(&self) -> Option<&'static ErrorMeta> {
        self.meta
    }
}

fn paginate_json<R>(client: &Client, body: &[u8], options: PageOptions) -> Result<JsonItems, RequestError>
where
    R: Paginated<Item: serde::Serialize> + DeserializeOwned,
{
    let first: R = parse_valid(body)?;
    let mut paginator = client.paginate(first);
    if let Some(size) = options.page_size {
        paginator = paginator.page_size(size);
    }
    if let Some(n) = options.max_items {
        paginator = paginator.max_items(n);
    }
    let mut items = paginator.items();
    let stream = futures_core_stream(move |cx| {
        let polled = std::pin::Pin::new(&mut items).poll_next_item(cx);
        polled.map(|next| {
            next.map(|item| match item {
                Ok(item) => serde_json::to_value(item).map_err(|e| Error::Decode {
                    path: ".".into(),
                    message: e.to_string(),
                    body_snippet: String::new(),
                }),
                Err(e) => Err(e.map_api(DynApiError::erase)),
            })
        })
    });
    Ok(JsonItems { inner: Box::pin(stream) })
}

/// `template` with `items` as the batched list, read as `R` and checked.
fn batch_request<R: Batched + DeserializeOwned>(
    template: &Value,
    items: Vec<Value>,
) -> Result<R, RequestError> {
    let mut body = template.clone();
    match body.as_object_mut() {
        Some(map) => {
            map.insert(R::BATCH.field.to_owned(), Value::Array(items));
        }
        None => {
            return Err(RequestError { path: String::new(), reason: "the body must be a JSON object".into() })
        }
    }
    let req: R = serde_path_to_error::deserialize(body).map_err(|e| RequestError::from_serde(&e))?;
    req.validate().map_err(RequestError::from)?;
    Ok(req)
}

fn batch_check<R: Batched + DeserializeOwned>(
    template: &Value,
    item: &Value,
) -> Result<String, RequestError> {
    let mut req: R = batch_request(template, vec![item.clone()])?;
    Ok(req.batch_items().first().map(R::item_key).unwrap_or_default())
}

fn batch_send<'a, R: Batched<Response: serde::Serialize> + DeserializeOwned>(
    client: &'a Client,
    template: &'a Value,
    items: Vec<Value>,
) -> BatchJsonCall<'a> {
    Box::pin(async move {
        let mut req: R = batch_request(template, items).map_err(|e| Error::InvalidRequest(e.into()))?;
        let keys: Vec<String> = req.batch_items().iter().map(R::item_key).collect();
        let reply = client.call(&req).await.map_err(|e| e.map_api(DynApiError::erase))?;
        Ok(crate::batch::outcomes(&keys, R::item_results(&reply), R::BATCH.ok))
    })
}

/// A stream from a poll function.
fn futures_core_stream<T, F>(f: F) -> PollStream<F>
where
    F: FnMut(&mut std::task::Context<'_>) -> std::task::Poll<Option<T>>,
{
    PollStream(f)
}

struct PollStream<F>(F);

impl<T, F> futures_core::Stream for PollStream<F>
where
    F: FnMut(&mut std::task::Context<'_>) -> std::task::Poll<Option<T>> + Unpin,
{
    type Item = T;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<T>> {
        (self.0)(cx)
    }
}

/// Parses `body` as `R` (the whole text, nothing after it) and validates it.
fn parse_valid<R: ApiRequest + DeserializeOwned>(body: &[u8]) -> Result<R, RequestError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let req: R = serde_path_to_error::deserialize(&mut de).map_err(|e| RequestError::from_serde(&e))?;
    de.end().map_err(|e| RequestError { path: String::new(), reason: e.to_string() })?;
    req.validate()?;
    Ok(req)
}

fn parse_request<R: ApiRequest + DeserializeOwned>(body: &[u8]) -> Result<Value, RequestError> {
    let req: R = parse_valid(body)?;
    serde_json::to_value(&req).map_err(|e| RequestError { path: String::new(), reason: e.to_string() })
}

fn parse_reply<R: ApiRequest<Response: serde::Serialize>>(body: &[u8]) -> Result<Value, Error<DynApiError>> {
    let resp: R::Response =
        reply::decode::<R::Response, R::Error>(200, body).map_err(|e| e.map_api(DynApiError::erase))?;
    to_json(&resp)
}

fn call_json<'a, R: ApiRequest<Response: serde::Serialize> + DeserializeOwned + 'static>(
    client: &'a Client,
    body: Value,
) -> JsonCall<'a> {
    Box::pin(async move {
        let req: R = serde_path_to_error::deserialize(body)
            .map_err(|e| Error::InvalidRequest(RequestError::from_serde(&e).into()))?;
        let resp = client.call(&req).await.map_err(|e| e.map_api(DynApiError::erase))?;
        to_json(&resp)
    })
}

fn prepare<R: ApiRequest<Response: serde::Serialize> + DeserializeOwned + 'static>(
    body: &[u8],
) -> Result<PreparedCall, RequestError> {
    let req: R = parse_valid(body)?;
    let body =
        serde_json::to_vec(&req).map_err(|e| RequestError { path: String::new(), reason: e.to_string() })?;
    let units = crate::client::units_of(&req);
    Ok(PreparedCall { path: R::META.path, body, units, send: send_prepared::<R> })
}

fn send_prepared<R: ApiRequest<Response: serde::Serialize>>(
    client: &Client,
    body: Vec<u8>,
    units: Vec<RateUnits>,
) -> JsonCall<'_> {
    Box::pin(async move {
        // Validated by `prepare`; `Client::call` would validate again.
        let resp = client.call_encoded::<R>(body, units).await.map_err(|e| e.map_api(DynApiError::erase))?;
        to_json(&resp)
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, Error<DynApiError>> {
    serde_json::to_value(value).map_err(|e| Error::Decode {
        path: ".".into(),
        message: format!("cannot re-serialize response: {e}"),
        body_snippet: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    static ENTRIES: &[EndpointEntry] = &[EndpointEntry::of::<Echo>(), EndpointEntry::of::<Send>()];

    #[test]
    fn find_by_path() {
        assert_eq!(find(ENTRIES, "v4/test/echo").unwrap().meta.path, "v4/test/echo");
        assert_eq!(find(ENTRIES, "/v4/test/send").unwrap().meta.path, "v4/test/send");
        assert!(find(ENTRIES, "v4/test/none").is_none());
    }

    #[test]
    fn lenient_parsing_ignores_unknown_fields_and_checks_known_ones() {
        let e = &ENTRIES[0];
        let body = br#"{"Name":"n","MsgTimeStamp":1,"Items":[{"MsgKey":"k","Extra":true}]}"#;
        assert!((e.parse_request)(body).is_err(), "strict parsing refuses unknown fields");
        let l = e.parse_request_lenient(body).unwrap();
        assert_eq!(l.value, serde_json::json!({"Name":"n","Items":[{"MsgKey":"k"}]}));
        assert_eq!(l.ignored.len(), 2, "{:?}", l.ignored);
        assert!(
            l.ignored.iter().any(|p| p == "MsgTimeStamp") && l.ignored.iter().any(|p| p.ends_with("Extra"))
        );
        let err = e.parse_request_lenient(br#"{"Name":5,"X":1}"#).unwrap_err();
        assert_eq!(err.path, "Name");
        let err = e.parse_request_lenient(br#"{"X":1}"#).unwrap_err();
        assert_eq!(err.path, "Name");
        assert!(e.parse_request_lenient(b"not json").is_err());
        // Sent as given, unknown fields included; without any, in canonical form.
        let p = e.prepare_lenient(br#"{"Name":"n", "X":1}"#).unwrap();
        assert_eq!(p.value.body(), br#"{"Name":"n", "X":1}"#);
        let p = e.prepare_lenient(br#"{"Name":"n"}"#).unwrap();
        assert!(p.ignored.is_empty());
    }

    #[test]
    fn parse_request_names_fields() {
        let e = &ENTRIES[0];
        let v = (e.parse_request)(br#"{ "Name": "n", "Items": [{"MsgKey":"k"}] }"#).unwrap();
        assert_eq!(v, serde_json::json!({"Name":"n","Items":[{"MsgKey":"k"}]}));

        let err = (e.parse_request)(br#"{"Name":"n","Items":[{"MsgKey":"k"},{}]}"#).unwrap_err();
        assert_eq!(err.path, "Items[1].MsgKey");
        assert!(err.reason.contains("missing field `MsgKey`"));
        assert!(
            err.to_string().starts_with("invalid request: field `Items[1].MsgKey`: missing field"),
            "{err}"
        );

        let err = (e.parse_request)(br#"{"Name":"n","Items":[{"MsgKey":""}]}"#).unwrap_err();
        assert_eq!((err.path.as_str(), err.reason.as_str()), ("Items[0].MsgKey", "must not be empty"));

        let err = (e.parse_request)(br#"{"Name":5}"#).unwrap_err();
        assert_eq!(err.path, "Name");

        let err = (e.parse_request)(b"{\"Name\":\n\"n\"").unwrap_err();
        assert!(err.reason.contains("line 2 column"), "{err}");
        assert!((e.parse_request)(br#"{"Name":"n"} x"#).is_err());
        assert_eq!((e.parse_request)(b"{}").unwrap_err().path, "Name");
    }

    #[test]
    fn parse_reply_checks_body() {
        let e = &ENTRIES[0];
        let v = (e.parse_reply)(&ok_body(4).body).unwrap();
        assert_eq!(v["Value"], 4);
        match (e.parse_reply)(&err_body(90001).body) {
            Err(Error::Api(d)) => {
                assert_eq!(d.code, 90001);
                assert_eq!(d.meta.unwrap().name, "BadJson");
                assert_eq!(d.to_string(), "API error 90001: err 90001 (JSON parsing failed)");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!((e.parse_reply)(b"<html>"), Err(Error::Decode { .. })));
    }

    #[tokio::test]
    async fn call_json_sends_valid_requests_only() {
        let (t, b) = scripted(vec![ok_body(9)]);
        let c = b.build().unwrap();
        let e = find(ENTRIES, "v4/test/echo").unwrap();
        let v = (e.call_json)(&c, serde_json::json!({"Name":"n"})).await.unwrap();
        assert_eq!(v, serde_json::json!({"Value":9,"Tags":[]}));
        let err = (e.call_json)(&c, serde_json::json!({"Name":"n","Items":[{}]})).await.unwrap_err();
        match err {
            Error::InvalidRequest(v) => assert_eq!(v.path, "Items[0].MsgKey"),
            other => panic!("{other:?}"),
        }
        let err = (e.call_json)(&c, serde_json::json!({"Name":""})).await.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)));
        assert_eq!(t.requests().len(), 1);
        assert_eq!(t.requests()[0].path, "/v4/test/echo");
    }

    #[tokio::test]
    async fn call_bytes_sends_canonical_body_of_valid_requests_only() {
        let (t, b) = scripted(vec![ok_body(9)]);
        let c = b.build().unwrap();
        let e = find(ENTRIES, "v4/test/send").unwrap();
        let v = e.call_bytes(&c, br#" { "Items": [ {"MsgKey":"k"} ], "Name":"n" } "#).await.unwrap();
        assert_eq!(v, serde_json::json!({"Value":9,"Tags":[]}));
        for (bad, path) in [
            (&br#"{"Name":"n","Items":[{}]}"#[..], "Items[0].MsgKey"),
            (br#"{"Name":"n","Items":[{"MsgKey":""}]}"#, "Items[0].MsgKey"),
            (br#"{"Name":5}"#, "Name"),
            (br#"{"Name":"n"} x"#, ""),
            (b"not json", ""),
        ] {
            match e.call_bytes(&c, bad).await {
                Err(Error::InvalidRequest(v)) => assert_eq!(v.path, path, "{}", String::from_utf8_lossy(bad)),
                other => panic!("{other:?}"),
            }
        }
        let sent = t.requests();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].path, "/v4/test/send");
        // Re-serialized from the typed request: field order and spacing are the type's.
        assert_eq!(&sent[0].body[..], br#"{"Name":"n","Items":[{"MsgKey":"k"}]}"#);
        assert_eq!(sent[0].header("content-type"), Some("application/json"));
    }
}
