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
mod control;
mod inspect;
mod log;
mod rate;

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::de::IgnoredAny;
use serde_json::{json, Value};
use tim_runtime::api::callbacks::alert::request_over_limit as over_limit;
use tim_runtime::dynamic::{self, EndpointEntry};
use tim_runtime::{
    Client, ClientBuilder, EndpointMeta, ErrorMeta, ErrorRole, RateLimit, UserSigError, UserSigKey,
};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
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

/// Bytes the request log and the callback log may each take unless set
/// otherwise (64 MiB).
pub const DEFAULT_LOG_MAX_BYTES: usize = 64 << 20;

/// Connections served at once unless set otherwise; more wait to be accepted.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// How long a client may take to send a request's headers, and then its
/// body, unless set otherwise; a slower connection is closed.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest `ErrorInfo` quoting a caller's input, in characters.
const MAX_INFO_CHARS: usize = 240;

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
    /// How many bytes each log may take.
    log_max_bytes: usize,
    /// Connections served at once.
    max_connections: usize,
    /// Header and body read timeout.
    read_timeout: Duration,
    /// Whether the control API needs credentials even on loopback.
    control_auth: bool,
    /// Raised quotas by path (`v4/...`).
    raised: HashMap<String, RateLimit>,
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
            log_max_bytes: DEFAULT_LOG_MAX_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            read_timeout: DEFAULT_READ_TIMEOUT,
            control_auth: false,
            raised: HashMap::new(),
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

    /// How many bytes the request log and the callback log may each take
    /// ([`DEFAULT_LOG_MAX_BYTES`] unless set): the oldest entries go first.
    #[must_use]
    pub fn log_max_bytes(mut self, bytes: usize) -> Self {
        self.log_max_bytes = bytes;
        self
    }

    /// How many connections are served at once ([`DEFAULT_MAX_CONNECTIONS`]
    /// unless set); further ones wait in the listen queue.
    #[must_use]
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// How long a client may take to send a request's headers, and then its
    /// body ([`DEFAULT_READ_TIMEOUT`] unless set); a slower connection is
    /// closed, so idle or half-open connections do not hold a slot.
    #[must_use]
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Raises (or lowers) an endpoint's quota, as a paid plan does: `rate`
    /// replaces the endpoint's main limit, in the unit its spec counts
    /// (recipients per minute for `batchsendmsg`). `path` is `v4/...`, with
    /// or without the leading `/`.
    #[must_use]
    pub fn limit(mut self, path: &str, rate: RateLimit) -> Self {
        self.raised.insert(path.trim_start_matches('/').to_owned(), rate);
        self
    }

    /// Makes the control API (`/__tim/`) ask for the admin's UserSig query
    /// parameters even on a loopback address (a shared machine), as it
    /// always does on any other address.
    #[must_use]
    pub fn control_auth(mut self, required: bool) -> Self {
        self.control_auth = required;
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
    /// Raw body; empty for a request refused before its body was read or
    /// checked (unauthenticated, too large, invalid), which is not kept.
    pub body: Vec<u8>,
    /// What the mock did with it.
    pub outcome: Outcome,
    /// The reply's `ErrorInfo` (empty on success or a fault).
    pub error_info: String,
    /// Request fields the spec does not know, which the mock ignored as the
    /// service does (wire paths, e.g. `MsgTimeStamp`).
    pub ignored_fields: Vec<String>,
    /// From the request's arrival to the reply.
    pub latency: Duration,
    /// Answered with a queued fixture or the spec's sample rather than from
    /// the state (replay mode, or an endpoint without a handler yet).
    pub canned: bool,
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
    /// Whether the control API answers without credentials (loopback).
    control_open: bool,
    /// The bound address, as text.
    addr: String,
    /// Grows with every request answered and every change through the
    /// control API: the inspector page polls it to know when to refresh.
    changes: AtomicU64,
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

    /// Notes a change the inspector page should show.
    fn changed(&self) {
        self.changes.fetch_add(1, Ordering::Relaxed);
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

    /// Starts on a given address. On a loopback address the control API
    /// (`/__tim/`) needs no credentials; elsewhere it needs the admin's
    /// UserSig in the query, as the REST API does.
    pub async fn start_on(config: MockConfig, addr: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let callbacks = match &config.callbacks {
            Some(target) => Some(Emitter::new(
                target.clone(),
                config.callback_timeout,
                config.sdkappid,
                (config.log_limit, config.log_max_bytes),
            )?),
            None => None,
        };
        let mut world = config.seed.clone().unwrap_or_else(|| World::new(&config.admin));
        // A loaded state still has the admin the server is configured for.
        world.accounts.ensure(&config.admin);
        let (log_limit, log_max_bytes) = (config.log_limit, config.log_max_bytes);
        let connections = Arc::new(Semaphore::new(config.max_connections));
        let read_timeout = config.read_timeout;
        let control_open = !config.control_auth && addr.ip().is_loopback();
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(State {
                requests: Log::new(log_limit, log_max_bytes),
                faults: VecDeque::new(),
                replies: HashMap::new(),
                groups: HashMap::new(),
            }),
            world: Mutex::new(world),
            limiter: Mutex::new(RateLimiter::default()),
            callbacks,
            control_open,
            addr: addr.to_string(),
            changes: AtomicU64::new(0),
        });
        let accept = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            loop {
                // A slot first: past the cap, connections wait in the listen queue.
                let Ok(permit) = Arc::clone(&connections).acquire_owned().await else { return };
                let (stream, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(_) => {
                        // Out of descriptors or a connection reset before
                        // accept: pause instead of spinning.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let shared = Arc::clone(&accept);
                tokio::spawn(async move {
                    let _permit = permit;
                    let service = service_fn(move |req| {
                        let shared = Arc::clone(&shared);
                        async move { Ok::<_, Infallible>(handle(&shared, req, peer).await) }
                    });
                    let mut http = http1::Builder::new();
                    http.timer(TokioTimer::new()).header_read_timeout(read_timeout);
                    // A client hanging up mid-request is not the mock's problem.
                    let _ = http.serve_connection(TokioIo::new(stream), service).await;
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

async fn handle(shared: &Arc<Shared>, req: Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let path = req.uri().path().trim_start_matches('/').to_owned();
    if path == "__tim" || path.starts_with("__tim/") {
        return control::handle(shared, req, &path).await;
    }
    let method = req.method().clone();
    let query = tim_core::query::parse(req.uri().query().unwrap_or(""));
    let fault = shared.state().faults.pop_front();
    let mut record = RecordedRequest {
        method: method.to_string(),
        path,
        query,
        body: Vec::new(),
        outcome: Outcome::Replied(0),
        error_info: String::new(),
        ignored_fields: Vec::new(),
        latency: Duration::ZERO,
        canned: false,
    };
    // Who is calling is known before the body is read: the body of an
    // unauthenticated request is never buffered.
    let caller = authenticate(&shared.config, &method, &record);
    let body = match &caller {
        Ok(_) => read_body(req, shared.config.max_body, shared.config.read_timeout).await,
        Err(_) => Err(BodyError::NotRead),
    };
    // Kept as received, for inspection, unless refused below.
    let raw = body.as_ref().map(|b| b.to_vec()).unwrap_or_default();
    let raw_for_fault = if fault.is_some() { raw.clone() } else { Vec::new() };
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
            let (reply, outcome, ignored, valid) = answer(shared, caller, body, &record, peer).await;
            record.outcome = outcome;
            record.ignored_fields = ignored;
            record.body = if valid { raw } else { Vec::new() };
            let short = record.path.trim_start_matches("v4/");
            record.canned = valid && !(shared.config.stateful && world::is_stateful(short));
            record.error_info = reply.get("ErrorInfo").and_then(Value::as_str).unwrap_or("").to_owned();
            let mut bytes = serde_json::to_vec(&reply).unwrap_or_default();
            if fault == Some(Fault::TruncatedBody) {
                bytes.truncate(bytes.len() / 2);
            }
            raw_json_response(bytes)
        }
    };
    if let Some(f) = fault.filter(|f| !matches!(f, Fault::Delay(_) | Fault::TruncatedBody)) {
        record.outcome = Outcome::Fault(f);
        record.body = raw_for_fault;
    }
    record.latency = started.elapsed();
    let weight = record.weight();
    shared.state().requests.push(record, weight);
    shared.changed();
    response
}

/// Why a request's body was not read.
enum BodyError {
    /// The request was refused before its body mattered.
    NotRead,
    /// Longer than the largest accepted body (by its `Content-Length`, or
    /// once that many bytes arrived).
    TooLarge,
    /// The body could not be read: a malformed chunked encoding, a
    /// connection closed early, too slow.
    Broken(String),
}

/// Reads a body of at most `max` bytes within `timeout`; a declared length
/// over `max` is refused before anything is read.
async fn read_body(req: Request<Incoming>, max: usize, timeout: Duration) -> Result<Bytes, BodyError> {
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(BodyError::TooLarge);
    }
    let limited = http_body_util::Limited::new(req.into_body(), max);
    match tokio::time::timeout(timeout, limited.collect()).await {
        Err(_) => Err(BodyError::Broken(format!("the body did not arrive within {timeout:?}"))),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge),
        Ok(Err(e)) => Err(BodyError::Broken(format!("the body could not be read: {e}"))),
    }
}

/// The mock's verdict on a request: the reply body, what it did, the
/// request fields it ignored, and whether the request passed its checks
/// (so its body is worth keeping in the log).
async fn answer(
    shared: &Shared,
    caller: Result<&'static EndpointEntry, Rejection>,
    body: Result<Bytes, BodyError>,
    req: &RecordedRequest,
    peer: SocketAddr,
) -> (Value, Outcome, Vec<String>, bool) {
    let refused = |r: Rejection| match r {
        Rejection { code: Ok(code), info } => (fail(code, &info), Outcome::Replied(code), Vec::new(), false),
        Rejection { code: Err(role), info } => {
            // A spec set without a code for this role cannot say what the
            // service answers; the mock says so instead of making a number up.
            let info = format!("{info} (the specs' error tables have no code with role {role:?})");
            (fail(-1, &info), Outcome::Replied(-1), Vec::new(), false)
        }
    };
    let entry = match caller {
        Ok(entry) => entry,
        Err(r) => return refused(r),
    };
    let (body, unknown) = match validate(&shared.config, entry, body) {
        Ok(checked) => checked,
        Err(r) => return refused(r),
    };
    let meta = entry.meta;
    if shared.config.rate_limits {
        let raised = shared.config.raised.get(meta.path).copied();
        let alert_at = shared
            .callbacks
            .as_ref()
            .and(over_limit::META.limit("alert_percent"))
            .map(|l| l.max as f64 / 100.0);
        let admitted = lock(&shared.limiter).admit(meta, &body, raised, alert_at);
        if let (Ok(alerts), Some(emitter)) = (&admitted, &shared.callbacks) {
            let mut parts = meta.path.trim_start_matches("v4/").splitn(2, '/');
            let (service, command) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
            for a in alerts {
                let payload = over_limit::Payload::new(service, command, a.used, a.limit);
                emitter.send(world::Event::typed(&payload), &peer.ip().to_string()).await;
            }
        }
        if let Err(e) = admitted {
            let info = format!("frequency limit: more than {} ({}) on /{}", e.limit, e.what, meta.path);
            let rejection = match e.code {
                Some(code) => Rejection { code: Ok(code), info },
                None => Rejection::role(&shared.config, Some(meta), ErrorRole::RateLimited, info),
            };
            let (reply, outcome, _, _) = refused(rejection);
            return (reply, outcome, unknown, false);
        }
    }
    let short = meta.path.trim_start_matches("v4/");
    if shared.config.stateful && world::is_stateful(short) {
        let (reply, outcome) = emulate(shared, meta, short, body, req, peer).await;
        return (reply, outcome, unknown, true);
    }
    if let Some(ignored) = ignored_by_group_type(shared, meta, &body) {
        return (ok_reply(meta), ignored, unknown, true);
    }
    let queued = shared.state().replies.get_mut(meta.path).and_then(VecDeque::pop_front);
    let reply = queued.unwrap_or_else(|| ok_reply(meta));
    let code = reply.get("ErrorCode").and_then(Value::as_i64).unwrap_or(0);
    (reply, Outcome::Replied(code), unknown, true)
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
    let (sdkappid, server) = (shared.config.sdkappid, shared.addr.as_str());
    let probe = world::Call { meta, path, body: &body, operator, now, sdkappid, server, ticket: None };
    let Some(emitter) = &shared.callbacks else {
        // No callbacks to send in between: the checks and the change under
        // one lock.
        let handled = {
            let mut world = shared.world();
            let call = world::Call { ticket: world.take_ticket(&probe), ..probe };
            world.handle_without_callbacks(&call)
        };
        return match handled {
            Some(Ok(done)) => finish(done).0,
            Some(Err(r)) => refused(r),
            None => (ok_reply(meta), Outcome::Replied(0)),
        };
    };
    // The ticket and the before-callbacks under one lock.
    let (ticket, before) = {
        let mut world = shared.world();
        let ticket = world.take_ticket(&probe);
        (ticket, world.before(&world::Call { ticket, ..probe }))
    };
    let before = match before {
        Some(Ok(events)) => events,
        Some(Err(r)) => return refused(r),
        None => Vec::new(),
    };
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
                    let mut changed = body.clone();
                    callbacks::modify_request(&mut changed, modified, &reply.fields);
                    // A replacement that does not fit the request (a
                    // `MsgBody` that is not a message body) is ignored.
                    if let Some(checked) = recheck(&shared.config, meta, &changed) {
                        body = checked;
                    }
                }
            }
            _ => {}
        }
    }
    let call = world::Call { meta, path, body: &body, operator, now, sdkappid, server, ticket };
    let done = match shared.world().handle(&call) {
        Some(Ok(done)) => done,
        Some(Err(r)) => return refused(r),
        None => return (ok_reply(meta), Outcome::Replied(0)),
    };
    let ((reply, outcome), events) = finish(done);
    for event in events {
        emitter.send(event, &client_ip).await;
    }
    (reply, outcome)
}

/// A handled call's reply body and outcome, and the after-callbacks to send.
fn finish(done: world::Done) -> ((Value, Outcome), Vec<world::Event>) {
    let ignored = done.ignored;
    let events = done.events;
    let reply = world::Done { events: Vec::new(), ..done }.into_body();
    let outcome = match reply.get("ErrorCode").and_then(Value::as_i64).unwrap_or(0) {
        0 if ignored => Outcome::Ignored,
        code => Outcome::Replied(code),
    };
    ((reply, outcome), events)
}

/// `body` checked against its endpoint's spec again, in canonical form;
/// `None` when it no longer fits.
fn recheck(cfg: &MockConfig, meta: &EndpointMeta, body: &Value) -> Option<Value> {
    let entry = dynamic::find(cfg.endpoints, meta.path)?;
    let raw = serde_json::to_vec(body).ok()?;
    (entry.parse_request)(&raw).ok()
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

/// The checks that come before the body is read: method, path, query
/// parameters, UserSig, admin.
fn authenticate(
    cfg: &MockConfig,
    method: &Method,
    req: &RecordedRequest,
) -> Result<&'static EndpointEntry, Rejection> {
    let reject = |role, info: String| Rejection::role(cfg, None, role, info);
    if method != Method::POST {
        return Err(reject(
            ErrorRole::BadRequest,
            format!("method {method} not allowed; REST calls use POST"),
        ));
    }
    let entry = dynamic::find(cfg.endpoints, &req.path).ok_or_else(|| {
        reject(ErrorRole::UnknownPath, format!("unknown API path /{}", quote_prefix(&req.path)))
    })?;
    let meta = entry.meta;
    let reject = |role, info: String| Rejection::role(cfg, Some(meta), role, info);
    check_query(cfg, &req.query).map_err(|(role, info)| reject(role, info))?;
    Ok(entry)
}

/// The query parameters every REST call carries, and the admin's UserSig:
/// the role and info of the first that is wrong.
pub(crate) fn check_query(cfg: &MockConfig, query: &[(String, String)]) -> Result<(), (ErrorRole, String)> {
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let sdkappid =
        param("sdkappid").ok_or_else(|| (ErrorRole::SdkAppIdMissing, "sdkappid is missing".to_owned()))?;
    if sdkappid.parse::<u64>().ok() != Some(cfg.sdkappid) {
        return Err((ErrorRole::SdkAppIdNotFound, format!("SDKAppID {} not found", quote_prefix(sdkappid))));
    }
    let identifier = param("identifier").unwrap_or("");
    let usersig = param("usersig").unwrap_or("");
    if identifier.is_empty() {
        return Err((ErrorRole::IdentifierInvalid, "identifier is missing".into()));
    }
    if usersig.is_empty() {
        return Err((ErrorRole::UserSigEmpty, "usersig is empty".into()));
    }
    if param("random").and_then(|r| r.parse::<u32>().ok()).is_none() {
        return Err((ErrorRole::BadRequest, "random must be a 32-bit unsigned integer".into()));
    }
    if param("contenttype") != Some("json") {
        return Err((ErrorRole::BadRequest, "contenttype must be json".into()));
    }
    if let Err(e) = cfg.key.verify(identifier, usersig) {
        return Err(match e {
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
        });
    }
    if identifier != cfg.admin {
        return Err((
            ErrorRole::AdminRequired,
            format!("`{}` is not the app admin", quote_prefix(identifier)),
        ));
    }
    Ok(())
}

/// The checks of the body: size, JSON, the endpoint's spec. Unknown
/// fields are ignored, as the service ignores them, and listed.
fn validate(
    cfg: &MockConfig,
    entry: &'static EndpointEntry,
    body: Result<Bytes, BodyError>,
) -> Result<(Value, Vec<String>), Rejection> {
    let meta = entry.meta;
    let reject = |role, info: String| Rejection::role(cfg, Some(meta), role, info);
    let body = match body {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            let info = format!("request body exceeds {} bytes", cfg.max_body);
            // Endpoints without a documented size code answer with their catch-all.
            let role = if meta.error_with_role(ErrorRole::BodyTooLarge).is_some() {
                ErrorRole::BodyTooLarge
            } else {
                ErrorRole::InvalidField
            };
            return Err(reject(role, info));
        }
        Err(BodyError::Broken(why)) => return Err(reject(ErrorRole::BadRequest, why)),
        Err(BodyError::NotRead) => return Err(reject(ErrorRole::BadRequest, "the body was not read".into())),
    };
    match entry.parse_request_lenient(&body) {
        Ok(l) => Ok((l.value, l.ignored)),
        // Not JSON at all (looked at again only when the parse failed).
        Err(e) if serde_json::from_slice::<IgnoredAny>(&body).is_err() => {
            Err(reject(ErrorRole::InvalidJson, format!("JSON parse failed: {}", quote_prefix(&e.reason))))
        }
        Err(e) => {
            // The spec maps fields to codes; the leaf name is what docs speak of.
            let leaf = e.path.rsplit(['.', ']']).find(|s| !s.is_empty() && !s.starts_with('[')).unwrap_or("");
            let leaf = leaf.split('[').next().unwrap_or(leaf);
            let info = quote_prefix(&e.to_string());
            match meta.error_for_field(leaf) {
                Some(m) => Err(Rejection { code: Ok(m.code), info }),
                None => Err(reject(ErrorRole::InvalidField, info)),
            }
        }
    }
}

/// At most [`MAX_INFO_CHARS`] characters of text that may quote a
/// caller's input, so an `ErrorInfo` never echoes a large body back.
pub(crate) fn quote_prefix(text: &str) -> String {
    match text.char_indices().nth(MAX_INFO_CHARS) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}...", &text[..cut]),
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

impl RecordedRequest {
    /// About how many bytes the entry takes in the log.
    fn weight(&self) -> usize {
        let query: usize = self.query.iter().map(|(k, v)| k.len() + v.len() + 48).sum();
        let ignored: usize = self.ignored_fields.iter().map(|f| f.len() + 24).sum();
        std::mem::size_of::<Self>()
            + self.method.len()
            + self.path.len()
            + self.body.len()
            + self.error_info.len()
            + query
            + ignored
    }
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
