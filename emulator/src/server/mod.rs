//! A local stand-in for the Tencent IM REST service, driven by the specs.
//!
//! It checks what the real service checks (method, path, query parameters,
//! UserSig, body size, rate limits, the body against the endpoint's
//! generated request type) and answers with the documented codes. A valid
//! call to a stateful endpoint goes to the [emulator](crate::world):
//! before-callbacks, the state change, after-callbacks (see [`callbacks`]).
//! Other calls get a registered fixture or the spec's sample reply. Faults
//! can be scripted.

mod callbacks;
mod log;
mod rate;

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tim_runtime::dynamic::{self, EndpointEntry};
use tim_runtime::{Client, ClientBuilder, EndpointMeta, ErrorMeta, ErrorRole, UserSigError, UserSigKey};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use self::callbacks::{
    AppliedDecision, CallbackResponse, CallbackUrlError, EmittedCallback, DEFAULT_CALLBACK_TIMEOUT,
};
use self::callbacks::{CallbackTarget, Emitter};
use self::log::Log;
use self::rate::RateLimiter;
use crate::world::{self, World};

/// Requests and callbacks kept for inspection unless set otherwise.
pub const DEFAULT_LOG_LIMIT: usize = 100_000;

/// What the mock accepts: app, key, admin, endpoints, limits.
#[derive(Clone)]
pub struct MockConfig {
    /// SDKAppID requests must carry.
    pub sdkappid: u64,
    key: UserSigKey,
    /// The secret key, for [`MockServer::client_builder`]; never shown.
    secret_key: String,
    /// The admin identifier requests must carry.
    pub admin: String,
    /// Endpoints served (the shipped API by default).
    pub endpoints: &'static [EndpointEntry],
    /// Largest accepted body, bytes.
    pub max_body: usize,
    /// The error table for refusals that come before an endpoint is known
    /// (unknown path, bad method): the shipped API's `public` table by default.
    pub public_errors: &'static [ErrorMeta],
    /// Where to send callbacks, if anywhere.
    callbacks: Option<CallbackTarget>,
    callback_timeout: Duration,
    /// Whether calls change and read an emulated state (the default) or
    /// replay fixtures and samples.
    stateful: bool,
    /// Whether the documented rate limits are enforced.
    rate_limits: bool,
    /// The state to start from.
    seed: Option<World>,
    /// How many requests and callbacks are kept for inspection.
    log_limit: usize,
}

impl fmt::Debug for MockConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockConfig")
            .field("sdkappid", &self.sdkappid)
            .field("admin", &self.admin)
            .field("endpoints", &self.endpoints.len())
            .field("max_body", &self.max_body)
            .field("callbacks", &self.callbacks)
            .field("callback_timeout", &self.callback_timeout)
            .field("stateful", &self.stateful)
            .field("rate_limits", &self.rate_limits)
            .finish_non_exhaustive()
    }
}

impl MockConfig {
    /// Serves the shipped API for this app, key and admin account, as an
    /// emulator: the endpoints of [`world::stateful_paths`](crate::world::stateful_paths) answer from
    /// and change a state that starts with the admin account only; the
    /// others check the request and send the spec's sample reply. The
    /// documented rate limits are enforced.
    pub fn new(sdkappid: u64, secret_key: &str, admin: &str) -> Self {
        Self {
            sdkappid,
            key: UserSigKey::new(sdkappid, secret_key),
            secret_key: secret_key.to_owned(),
            admin: admin.to_owned(),
            endpoints: tim_runtime::api::ENDPOINTS,
            max_body: 1 << 20,
            public_errors: tim_runtime::api::errors::PUBLIC,
            callbacks: None,
            callback_timeout: DEFAULT_CALLBACK_TIMEOUT,
            stateful: true,
            rate_limits: true,
            seed: None,
            log_limit: DEFAULT_LOG_LIMIT,
        }
    }

    /// Replays instead of emulating: every valid request gets a queued
    /// fixture ([`MockServer::push_reply`]) or the spec's sample reply, no
    /// state is kept, no callbacks are sent and no rate limit applies. For
    /// checking a client's wire format against recorded exchanges.
    #[must_use]
    pub fn replay(mut self) -> Self {
        self.stateful = false;
        self.rate_limits = false;
        self
    }

    /// Turns the documented per-endpoint rate limits on or off (on by
    /// default when emulating): over the limit, a call gets the endpoint's
    /// frequency-limit code.
    #[must_use]
    pub fn rate_limits(mut self, on: bool) -> Self {
        self.rate_limits = on;
        self
    }

    /// Starts the emulator from this state (e.g. [`World::load`] of a
    /// `--state` or `--seed` file) instead of an empty one.
    #[must_use]
    pub fn state(mut self, world: World) -> Self {
        self.seed = Some(world);
        self
    }

    /// Sends callbacks to `url`, signed with `token` when one is given
    /// (`RequestTime` and `Sign` in the query, as with callback
    /// authentication on), for the REST calls that trigger them. `url` must
    /// be `https`, or `http` to a loopback host (127.0.0.0/8, `::1`,
    /// `localhost`).
    pub fn callbacks(mut self, url: &str, token: Option<&str>) -> Result<Self, CallbackUrlError> {
        self.callbacks = Some(CallbackTarget::new(url, token)?);
        Ok(self)
    }

    /// How long to wait for a callback's answer before going ahead as if
    /// allowed (the documented default, 2 s, unless set).
    #[must_use]
    pub fn callback_timeout(mut self, timeout: Duration) -> Self {
        self.callback_timeout = timeout;
        self
    }

    /// Serves another endpoint table, e.g. one generated by the proc-macro.
    #[must_use]
    pub fn endpoints(mut self, endpoints: &'static [EndpointEntry]) -> Self {
        self.endpoints = endpoints;
        self
    }

    /// Sets the table used for refusals that come before an endpoint is known.
    #[must_use]
    pub fn public_errors(mut self, table: &'static [ErrorMeta]) -> Self {
        self.public_errors = table;
        self
    }

    /// How many of the latest requests and callbacks
    /// [`MockServer::requests`] and [`MockServer::callbacks`] keep (100,000
    /// by default), so a long-running emulator does not grow without end.
    #[must_use]
    pub fn log_limit(mut self, entries: usize) -> Self {
        self.log_limit = entries;
        self
    }

    /// Sets the largest accepted body.
    #[must_use]
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }
}

/// A scripted misbehaviour, applied to the next request that arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Reply with this HTTP status and an HTML body, as a gateway would.
    HttpStatus(u16),
    /// Wait this long before handling the request.
    Delay(Duration),
    /// Reply `ActionStatus: FAIL` with this code and `ErrorInfo`.
    ErrorCode(i64, String),
    /// Send the normal reply cut off in the middle.
    TruncatedBody,
}

/// How the mock answered one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// HTTP 200 with this `ErrorCode` (0 for success).
    Replied(i64),
    /// Success, but nothing changed: the spec says the call is ignored
    /// (e.g. an unsupported group type).
    Ignored,
    /// A scripted fault was applied.
    Fault(Fault),
}

/// One request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path without the leading `/`.
    pub path: String,
    /// Query parameters in order.
    pub query: Vec<(String, String)>,
    /// Raw body.
    pub body: Vec<u8>,
    /// What the mock did with it.
    pub outcome: Outcome,
    /// Request fields the spec does not know, which the mock ignored as the
    /// service does (wire paths, e.g. `MsgTimeStamp`).
    pub ignored_fields: Vec<String>,
}

impl RecordedRequest {
    /// The value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

struct State {
    requests: Log<RecordedRequest>,
    faults: VecDeque<Fault>,
    replies: HashMap<String, VecDeque<Value>>,
    groups: HashMap<String, String>,
}

struct Shared {
    config: MockConfig,
    state: Mutex<State>,
    world: Mutex<World>,
    limiter: Mutex<RateLimiter>,
    callbacks: Option<Emitter>,
}

/// Locks, recovering from poisoning: a handler never panics on input, and a
/// test double had better keep answering than cascade a failure.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }
}

/// A running mock server on 127.0.0.1; stops when dropped.
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockServer {
    /// Starts on 127.0.0.1 with an OS-assigned port.
    pub async fn start(config: MockConfig) -> std::io::Result<Self> {
        Self::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts on a given address.
    pub async fn start_on(config: MockConfig, addr: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let callbacks = match &config.callbacks {
            Some(target) => Some(Emitter::new(
                target.clone(),
                config.callback_timeout,
                config.sdkappid,
                config.log_limit,
            )?),
            None => None,
        };
        let world = config.seed.clone().unwrap_or_else(|| World::new(&config.admin));
        let log_limit = config.log_limit;
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(State {
                requests: Log::new(log_limit),
                faults: VecDeque::new(),
                replies: HashMap::new(),
                groups: HashMap::new(),
            }),
            world: Mutex::new(world),
            limiter: Mutex::new(RateLimiter::default()),
            callbacks,
        });
        let accept = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else { continue };
                let shared = Arc::clone(&accept);
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let shared = Arc::clone(&shared);
                        async move { Ok::<_, Infallible>(handle(&shared, req, peer).await) }
                    });
                    // A client hanging up mid-request is not the mock's problem.
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Ok(Self { addr, shared, task })
    }

    /// A client builder for this server: its app, admin, key and URL, and
    /// short retry pauses. Its own rate limiting is on, as by default; turn
    /// it off (`.rate_limit(false)`) to see the server's refusals.
    pub fn client_builder(&self) -> ClientBuilder {
        let cfg = &self.shared.config;
        Client::builder(cfg.sdkappid, &cfg.admin, &cfg.secret_key)
            .base_url(&self.base_url())
            .backoff(Duration::from_millis(1), Duration::from_millis(5))
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The requests received so far, in order (the latest
    /// [`MockConfig::log_limit`]).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state().requests.all()
    }

    /// How many requests arrived since the start (those no longer kept
    /// included).
    pub fn request_count(&self) -> usize {
        self.shared.state().requests.total()
    }

    /// The requests received after the first `skip` (for following a log
    /// without copying all of it each time).
    pub fn requests_after(&self, skip: usize) -> Vec<RecordedRequest> {
        self.shared.state().requests.after(skip)
    }

    /// Reads the emulated state (for assertions: the messages of a
    /// conversation, a member's unread count, ...).
    pub fn world<R>(&self, read: impl FnOnce(&World) -> R) -> R {
        read(&self.shared.world())
    }

    /// A copy of the emulated state, e.g. to [`World::save`] it.
    pub fn snapshot(&self) -> World {
        self.shared.world().clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.state().requests.clear();
    }

    /// The callbacks sent so far, in order (the latest
    /// [`MockConfig::log_limit`]; empty without a callback URL).
    pub fn callbacks(&self) -> Vec<EmittedCallback> {
        self.shared.callbacks.as_ref().map(|e| e.sent(0)).unwrap_or_default()
    }

    /// The callbacks sent after the first `skip`.
    pub fn callbacks_after(&self, skip: usize) -> Vec<EmittedCallback> {
        self.shared.callbacks.as_ref().map(|e| e.sent(skip)).unwrap_or_default()
    }

    /// Forgets the recorded callbacks.
    pub fn clear_callbacks(&self) {
        if let Some(c) = &self.shared.callbacks {
            c.clear();
        }
    }

    /// Queues a fault for the next request (faults apply in order, one each).
    pub fn push_fault(&self, fault: Fault) {
        self.shared.state().faults.push_back(fault);
    }

    /// Queues a reply body for the next valid request to `path` (a recorded
    /// fixture); without one the spec's sample reply is sent.
    pub fn push_reply(&self, path: &str, body: Value) {
        let path = path.trim_start_matches('/').to_owned();
        self.shared.state().replies.entry(path).or_default().push_back(body);
    }

    /// Registers a group and its type (`Public`, `ChatRoom`, ...) for replay
    /// mode, so requests naming it get the spec's group-type behaviour (the
    /// emulator knows the groups it created).
    pub fn register_group(&self, group_id: &str, group_type: &str) {
        self.shared.state().groups.insert(group_id.to_owned(), group_type.to_owned());
    }
}

async fn handle(shared: &Shared, req: Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().trim_start_matches('/').to_owned();
    let query = tim_core::query::parse(req.uri().query().unwrap_or(""));
    let limit = shared.config.max_body;
    let body = match http_body_util::Limited::new(req.into_body(), limit + 1).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        // Over the limit (or a broken upload): judged below as too large.
        Err(_) => vec![0; limit + 1],
    };
    let fault = shared.state().faults.pop_front();
    let mut record = RecordedRequest {
        method: method.to_string(),
        path,
        query,
        body,
        outcome: Outcome::Replied(0),
        ignored_fields: Vec::new(),
    };
    if let Some(Fault::Delay(d)) = &fault {
        tokio::time::sleep(*d).await;
    }
    let response = match &fault {
        Some(Fault::HttpStatus(code)) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::BAD_GATEWAY);
            let html = format!(
                "<html><body><h1>{code} {}</h1></body></html>",
                status.canonical_reason().unwrap_or("")
            );
            Response::builder()
                .status(status)
                .header("content-type", "text/html")
                .body(Full::new(Bytes::from(html)))
                .unwrap_or_default()
        }
        Some(Fault::ErrorCode(code, info)) => json_response(&fail(*code, info)),
        _ => {
            let (reply, outcome, ignored) = answer(shared, &method, &record, peer).await;
            record.outcome = outcome;
            record.ignored_fields = ignored;
            let mut bytes = serde_json::to_vec(&reply).unwrap_or_default();
            if fault == Some(Fault::TruncatedBody) {
                bytes.truncate(bytes.len() / 2);
            }
            raw_json_response(bytes)
        }
    };
    if let Some(f) = fault.filter(|f| !matches!(f, Fault::Delay(_) | Fault::TruncatedBody)) {
        record.outcome = Outcome::Fault(f);
    }
    shared.state().requests.push(record);
    response
}

/// The mock's verdict on a request: the reply body and what it did.
async fn answer(
    shared: &Shared,
    method: &Method,
    req: &RecordedRequest,
    peer: SocketAddr,
) -> (Value, Outcome, Vec<String>) {
    let refused = |r: Rejection| match r {
        Rejection { code: Ok(code), info } => (fail(code, &info), Outcome::Replied(code), Vec::new()),
        Rejection { code: Err(role), info } => {
            // A spec set without a code for this role cannot say what the
            // service answers; the mock says so instead of making a number up.
            let info = format!("{info} (the specs' error tables have no code with role {role:?})");
            (fail(-1, &info), Outcome::Replied(-1), Vec::new())
        }
    };
    let (entry, body, unknown) = match check(shared, method, req) {
        Ok(checked) => checked,
        Err(r) => return refused(r),
    };
    let meta = entry.meta;
    if shared.config.rate_limits && !lock(&shared.limiter).admit(meta.path, meta.rate_limit) {
        let info = format!("more than {} calls to /{}", meta.rate_limit, meta.path);
        return refused(Rejection::role(&shared.config, Some(meta), ErrorRole::RateLimited, info));
    }
    let short = meta.path.trim_start_matches("v4/");
    if shared.config.stateful && world::is_stateful(short) {
        let (reply, outcome) = emulate(shared, meta, short, body, req, peer).await;
        return (reply, outcome, unknown);
    }
    if let Some(ignored) = ignored_by_group_type(shared, meta, &body) {
        return (ok_reply(meta), ignored, unknown);
    }
    let queued = shared.state().replies.get_mut(meta.path).and_then(VecDeque::pop_front);
    let reply = queued.unwrap_or_else(|| ok_reply(meta));
    let code = reply.get("ErrorCode").and_then(Value::as_i64).unwrap_or(0);
    (reply, Outcome::Replied(code), unknown)
}

/// Answers a stateful endpoint from the emulator: its before-callbacks
/// decide, then the state changes and its after-callbacks are sent.
async fn emulate(
    shared: &Shared,
    meta: &'static EndpointMeta,
    path: &str,
    mut body: Value,
    req: &RecordedRequest,
    peer: SocketAddr,
) -> (Value, Outcome) {
    let operator = req.query_param("identifier").unwrap_or("");
    let now = world::unix_now();
    let client_ip = peer.ip().to_string();
    let refused = |r: world::Refusal| (fail(r.code, &r.info), Outcome::Replied(r.code));
    let before = world::Call { meta, path, body: &body, operator, now };
    let before = match shared.world().before(&before) {
        Some(Ok(events)) => events,
        Some(Err(r)) => return refused(r),
        None => Vec::new(),
    };
    if let Some(emitter) = &shared.callbacks {
        for event in before {
            let sent = emitter.send(event, &client_ip).await;
            match &sent.applied {
                AppliedDecision::Denied { caller_error, info, .. } => {
                    return (fail(*caller_error, info), Outcome::Replied(*caller_error));
                }
                // The caller is told the call succeeded; nothing is stored.
                AppliedDecision::Dropped { .. } => return (ok_reply(meta), Outcome::Replied(0)),
                AppliedDecision::Allowed { modified, .. } => {
                    if let Some(reply) = &sent.reply {
                        callbacks::modify_request(&mut body, modified, &reply.fields);
                    }
                }
                _ => {}
            }
        }
    }
    let call = world::Call { meta, path, body: &body, operator, now };
    let done = match shared.world().handle(&call) {
        Some(Ok(done)) => done,
        Some(Err(r)) => return refused(r),
        None => return (ok_reply(meta), Outcome::Replied(0)),
    };
    let reply = done.body();
    let outcome = match reply.get("ErrorCode").and_then(Value::as_i64).unwrap_or(0) {
        0 if done.ignored => Outcome::Ignored,
        code => Outcome::Replied(code),
    };
    if let Some(emitter) = &shared.callbacks {
        for event in done.events {
            emitter.send(event, &client_ip).await;
        }
    }
    (reply, outcome)
}

/// Why the mock refused a request: the role of the code to answer with (looked
/// up in the specs' error tables, so no number is written here) and the info.
struct Rejection {
    code: Result<i64, ErrorRole>,
    info: String,
}

impl Rejection {
    /// A rejection with the first code of `role` in the endpoint's tables
    /// (when the endpoint is known) or in the public table.
    fn role(cfg: &MockConfig, meta: Option<&EndpointMeta>, role: ErrorRole, info: impl Into<String>) -> Self {
        let code = meta
            .and_then(|m| m.error_with_role(role))
            .or_else(|| cfg.public_errors.iter().find(|e| e.role == Some(role)))
            .map(|e| e.code)
            .ok_or(role);
        Self { code, info: info.into() }
    }
}

fn check(
    shared: &Shared,
    method: &Method,
    req: &RecordedRequest,
) -> Result<(&'static EndpointEntry, Value, Vec<String>), Rejection> {
    let cfg = &shared.config;
    let reject = |role, info: String| Rejection::role(cfg, None, role, info);
    if method != Method::POST {
        return Err(reject(
            ErrorRole::BadRequest,
            format!("method {method} not allowed; REST calls use POST"),
        ));
    }
    let entry = dynamic::find(cfg.endpoints, &req.path)
        .ok_or_else(|| reject(ErrorRole::UnknownPath, format!("unknown API path /{}", req.path)))?;
    let meta = entry.meta;
    let reject = |role, info: String| Rejection::role(cfg, Some(meta), role, info);
    let sdkappid = req
        .query_param("sdkappid")
        .ok_or_else(|| reject(ErrorRole::SdkAppIdMissing, "sdkappid is missing".into()))?;
    if sdkappid.parse::<u64>().ok() != Some(cfg.sdkappid) {
        return Err(reject(ErrorRole::SdkAppIdNotFound, format!("SDKAppID {sdkappid} not found")));
    }
    let identifier = req.query_param("identifier").unwrap_or("");
    let usersig = req.query_param("usersig").unwrap_or("");
    if identifier.is_empty() {
        return Err(reject(ErrorRole::IdentifierInvalid, "identifier is missing".into()));
    }
    if usersig.is_empty() {
        return Err(reject(ErrorRole::UserSigEmpty, "usersig is empty".into()));
    }
    if req.query_param("random").and_then(|r| r.parse::<u32>().ok()).is_none() {
        return Err(reject(ErrorRole::BadRequest, "random must be a 32-bit unsigned integer".into()));
    }
    if req.query_param("contenttype") != Some("json") {
        return Err(reject(ErrorRole::BadRequest, "contenttype must be json".into()));
    }
    if let Err(e) = cfg.key.verify(identifier, usersig) {
        let (role, info) = match e {
            UserSigError::Expired { .. } => (ErrorRole::UserSigExpired, "UserSig expired".to_owned()),
            UserSigError::IdentifierMismatch { .. } => {
                (ErrorRole::UserSigUserMismatch, "identifier does not match the UserSig".to_owned())
            }
            UserSigError::AppIdMismatch { .. } => {
                (ErrorRole::UserSigAppMismatch, "SDKAppID does not match the UserSig".to_owned())
            }
            UserSigError::BadSignature => {
                (ErrorRole::UserSigWrongKey, "UserSig verification failed".to_owned())
            }
            e => (ErrorRole::UserSigInvalid, format!("invalid UserSig: {e}")),
        };
        return Err(reject(role, info));
    }
    if identifier != cfg.admin {
        return Err(reject(ErrorRole::AdminRequired, format!("`{identifier}` is not the app admin")));
    }
    if req.body.len() > cfg.max_body {
        let info = format!("request body exceeds {} bytes", cfg.max_body);
        // Endpoints without a documented size code answer with their catch-all.
        let role = if meta.error_with_role(ErrorRole::BodyTooLarge).is_some() {
            ErrorRole::BodyTooLarge
        } else {
            ErrorRole::InvalidField
        };
        return Err(reject(role, info));
    }
    if serde_json::from_slice::<Value>(&req.body).is_err() {
        return Err(reject(ErrorRole::InvalidJson, "JSON parse failed".into()));
    }
    // Unknown fields are ignored, as the service ignores them; known ones are checked.
    match entry.parse_request_lenient(&req.body) {
        Ok(l) => Ok((entry, l.value, l.ignored)),
        Err(e) => {
            // The spec maps fields to codes; the leaf name is what docs speak of.
            let leaf = e.path.rsplit(['.', ']']).find(|s| !s.is_empty() && !s.starts_with('[')).unwrap_or("");
            let leaf = leaf.split('[').next().unwrap_or(leaf);
            match meta.error_for_field(leaf) {
                Some(m) => Err(Rejection { code: Ok(m.code), info: e.to_string() }),
                None => Err(reject(ErrorRole::InvalidField, e.to_string())),
            }
        }
    }
}

fn ignored_by_group_type(shared: &Shared, meta: &EndpointMeta, body: &Value) -> Option<Outcome> {
    let group = body.get("GroupId")?.as_str()?;
    // Groups the emulator created, else those registered for replay.
    let known = shared.world().groups.type_of(group).map(str::to_owned);
    let group_type = known.or_else(|| shared.state().groups.get(group).cloned())?;
    let support = meta.group_type(&group_type)?;
    (!support.supported && support.ignored).then_some(Outcome::Ignored)
}

fn ok_reply(meta: &EndpointMeta) -> Value {
    serde_json::from_str(meta.sample_response)
        .ok()
        .filter(|v: &Value| v.get("ErrorCode").and_then(Value::as_i64) == Some(0))
        .unwrap_or_else(|| json!({"ActionStatus": "OK", "ErrorInfo": "", "ErrorCode": 0}))
}

fn fail(code: i64, info: &str) -> Value {
    json!({"ActionStatus": "FAIL", "ErrorInfo": info, "ErrorCode": code})
}

fn json_response(v: &Value) -> Response<Full<Bytes>> {
    raw_json_response(serde_json::to_vec(v).unwrap_or_default())
}

fn raw_json_response(bytes: Vec<u8>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(bytes)))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use tim_core::query::decode as percent_decode;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Bb%3d"), "a+b=");
        assert_eq!(percent_decode("a+b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
