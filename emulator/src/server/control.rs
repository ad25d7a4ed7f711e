//! The control API under `/__tim/`, for tests in any language (in the
//! manner of moto's reset endpoint and LocalStack's state export):
//!
//! | request | what it does |
//! |---|---|
//! | `POST /__tim/reset` | back to an empty app (the admin account only); the logs, rate buckets, queued faults and replies are cleared |
//! | `GET /__tim/state` | the state, as a state file ([`crate::state_file`]) |
//! | `PUT /__tim/state` | replaces the state with a state file; an invalid one is a 400 and changes nothing |
//! | `GET /__tim/requests` | the request log, a JSON array, newest last (`?path=` keeps paths containing it, `errors=1` failed calls, `limit=N` the newest N) |
//! | `GET /__tim/callbacks` | the callback log, a JSON array, newest last (`?command=`, `limit=`) |
//! | `GET /__tim/history/<ChatType>/<YYYYMMDDHH>` | the gzip archive `get_history` links to |
//! | `GET /__tim/version` | `{"version": N}`: N grows with every request answered and every change made here |
//! | `GET /__tim/session` | the admin's REST query parameters (`sdkappid`, `identifier`, a fresh `usersig`, `contenttype`), for the inspector's actions |
//! | `GET /__tim/view/...` | read-only views of the state for the inspector ([`super::inspect`]) |
//! | `GET /__tim/ui` | the inspector page |
//!
//! On a loopback address no credentials are needed. Bound elsewhere, every
//! control request needs the admin's query parameters, as a REST call does
//! (`sdkappid`, `identifier`, `usersig`, `random`, `contenttype=json`):
//! without them the answer is HTTP 401, with wrong ones 403. The inspector
//! page's own files hold no data and are served to anyone; open it with the
//! credentials in its address (`/__tim/ui?sdkappid=...`) and it passes them on.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;
use serde_json::Value;
use tim_runtime::ErrorRole;

use super::callbacks::{AppliedDecision, CallbackResponse, EmittedCallback};
use super::inspect::{self, Query};
use super::rate::RateLimiter;
use super::{check_query, lock, read_body, BodyError, Outcome, RecordedRequest, Shared};
use crate::world::history;
use crate::{state_file, World};

/// Largest state document `PUT /__tim/state` accepts.
const MAX_STATE_BYTES: usize = 256 << 20;

/// Answers a request under `/__tim/` (`path` without the leading `/`).
pub(super) async fn handle(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    path: &str,
) -> Response<Full<Bytes>> {
    if let Some(file) = path.strip_prefix("__tim/ui").map(|f| f.trim_start_matches('/')) {
        return page_file(req.method(), file);
    }
    if !shared.control_open {
        let query = tim_core::query::parse(req.uri().query().unwrap_or(""));
        if let Err((role, info)) = check_query(&shared.config, &query) {
            let status = match role {
                ErrorRole::SdkAppIdMissing | ErrorRole::IdentifierInvalid | ErrorRole::UserSigEmpty => {
                    StatusCode::UNAUTHORIZED
                }
                _ => StatusCode::FORBIDDEN,
            };
            return error(status, &format!("the control API needs the admin's credentials here: {info}"));
        }
    }
    let method = req.method().clone();
    if let Some(rest) = path.strip_prefix("__tim/history/") {
        return history_file(shared, &method, rest);
    }
    let query = Query::parse(req.uri().query().unwrap_or(""));
    if let Some(name) = path.strip_prefix("__tim/view/") {
        if method != Method::GET {
            return error(StatusCode::METHOD_NOT_ALLOWED, "views are read with GET");
        }
        let now = crate::world::unix_now();
        return match inspect::view(&shared.world(), name, &query, now) {
            None => error(StatusCode::NOT_FOUND, &format!("no view {name:?}")),
            Some(Err(why)) => error(StatusCode::BAD_REQUEST, &why),
            Some(Ok(doc)) => json(StatusCode::OK, doc),
        };
    }
    let allowed: &[Method] = match path {
        "__tim/reset" => &[Method::POST],
        "__tim/state" => &[Method::GET, Method::PUT],
        "__tim/requests" | "__tim/callbacks" | "__tim/version" | "__tim/session" => &[Method::GET],
        _ => {
            return error(
                StatusCode::NOT_FOUND,
                "no such control endpoint; there are POST /__tim/reset, GET and PUT /__tim/state, \
                 GET /__tim/requests, /__tim/callbacks, /__tim/version, /__tim/session, /__tim/view/... \
                 and the page /__tim/ui",
            )
        }
    };
    if !allowed.contains(&method) {
        let names: Vec<&str> = allowed.iter().map(Method::as_str).collect();
        let mut resp =
            error(StatusCode::METHOD_NOT_ALLOWED, &format!("/{path} takes {}", names.join(" or ")));
        if let Ok(v) = http::HeaderValue::from_str(&names.join(", ")) {
            resp.headers_mut().insert(http::header::ALLOW, v);
        }
        return resp;
    }
    match (path, method) {
        ("__tim/reset", _) => {
            reset(shared);
            shared.changed();
            json(StatusCode::OK, br#"{"reset":true}"#.to_vec())
        }
        ("__tim/version", _) => {
            let version = shared.changes.load(std::sync::atomic::Ordering::Relaxed);
            json(StatusCode::OK, format!("{{\"version\":{version}}}").into_bytes())
        }
        ("__tim/session", _) => json(StatusCode::OK, session(shared)),
        ("__tim/state", Method::GET) => {
            let world = shared.world().clone();
            json(StatusCode::OK, state_file::to_vec(&world))
        }
        ("__tim/state", _) => match read_body(req, MAX_STATE_BYTES, shared.config.read_timeout).await {
            Err(BodyError::TooLarge) => error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("a state document is at most {MAX_STATE_BYTES} bytes"),
            ),
            Err(BodyError::Broken(why)) => error(StatusCode::BAD_REQUEST, &why),
            Err(BodyError::NotRead) => error(StatusCode::BAD_REQUEST, "the body was not read"),
            Ok(body) => match state_file::from_slice(&body) {
                Err(e) => error(StatusCode::BAD_REQUEST, &format!("not a state document: {e}")),
                Ok(mut world) => {
                    world.accounts.ensure(&shared.config.admin);
                    *shared.world() = world;
                    shared.changed();
                    json(StatusCode::OK, br#"{"replaced":true}"#.to_vec())
                }
            },
        },
        ("__tim/requests", _) => {
            let limit = match limit(&query) {
                Ok(l) => l,
                Err(why) => return error(StatusCode::BAD_REQUEST, &why),
            };
            let (path_part, errors) = (query.text("path"), query.text("errors") == "1");
            let requests = shared.state().requests.all();
            let entries: Vec<RequestEntry<'_>> = newest(
                requests
                    .iter()
                    .map(RequestEntry::new)
                    .filter(|e| e.path.contains(path_part) && (!errors || e.error_code != Some(0))),
                limit,
            );
            json(StatusCode::OK, serde_json::to_vec(&entries).unwrap_or_default())
        }
        _ => {
            let limit = match limit(&query) {
                Ok(l) => l,
                Err(why) => return error(StatusCode::BAD_REQUEST, &why),
            };
            let command = query.text("command");
            let sent = shared.callbacks.as_ref().map(|e| e.sent(0)).unwrap_or_default();
            let entries: Vec<CallbackEntry<'_>> =
                newest(sent.iter().filter(|c| c.command.contains(command)).map(CallbackEntry::new), limit);
            json(StatusCode::OK, serde_json::to_vec(&entries).unwrap_or_default())
        }
    }
}

/// A file of the inspector page.
fn page_file(method: &Method, file: &str) -> Response<Full<Bytes>> {
    if method != Method::GET {
        return error(StatusCode::METHOD_NOT_ALLOWED, "the page is fetched with GET");
    }
    match inspect::asset(file) {
        None => error(StatusCode::NOT_FOUND, "no such file of the inspector page"),
        Some((kind, bytes)) => Response::builder()
            .status(StatusCode::OK)
            .header("content-type", kind)
            .header("cache-control", "no-cache")
            .body(Full::new(Bytes::from_static(bytes)))
            .unwrap_or_default(),
    }
}

/// How long a UserSig handed to the inspector page lasts.
const SESSION_SIG: Duration = Duration::from_secs(24 * 3600);

/// `GET /__tim/session`: the admin's REST query parameters but `random`.
fn session(shared: &Shared) -> Vec<u8> {
    #[derive(Serialize)]
    struct Session<'a> {
        sdkappid: u64,
        identifier: &'a str,
        query: String,
    }
    let cfg = &shared.config;
    let sig = cfg.key.gen(&cfg.admin, SESSION_SIG);
    let query = format!(
        "sdkappid={}&identifier={}&usersig={}&contenttype=json",
        cfg.sdkappid,
        tim_core::query::encode(&cfg.admin),
        tim_core::query::encode(&sig)
    );
    serde_json::to_vec(&Session { sdkappid: cfg.sdkappid, identifier: &cfg.admin, query }).unwrap_or_default()
}

/// `limit`: keep only the newest N entries (none: all).
fn limit(query: &Query) -> Result<Option<usize>, String> {
    query.number("limit")
}

/// The last `limit` of `entries` (all without a limit), oldest first.
fn newest<T>(entries: impl Iterator<Item = T>, limit: Option<usize>) -> Vec<T> {
    let mut all: Vec<T> = entries.collect();
    if let Some(n) = limit {
        let cut = all.len().saturating_sub(n);
        all.drain(..cut);
    }
    all
}

/// `GET /__tim/history/<ChatType>/<YYYYMMDDHH>`: the gzip archive that
/// `open_msg_svc/get_history` links to.
fn history_file(shared: &Shared, method: &Method, rest: &str) -> Response<Full<Bytes>> {
    if method != Method::GET {
        return error(StatusCode::METHOD_NOT_ALLOWED, "history files are fetched with GET");
    }
    let Some((chat, hour)) = rest.split_once('/') else {
        return error(StatusCode::NOT_FOUND, "a history file is /__tim/history/<C2C|Group>/<YYYYMMDDHH>");
    };
    let archive = history::hour_start(hour).and_then(|start| shared.world().history_archive(chat, start));
    match archive {
        None => error(StatusCode::NOT_FOUND, "no messages in that hour"),
        Some(bytes) => Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/gzip")
            .body(Full::new(Bytes::from(history::gzip(&bytes))))
            .unwrap_or_default(),
    }
}

/// Back to an empty app.
fn reset(shared: &Shared) {
    *shared.world() = World::new(&shared.config.admin);
    {
        let mut state = shared.state();
        state.requests.clear();
        state.faults.clear();
        state.replies.clear();
        state.groups.clear();
    }
    *lock(&shared.limiter) = RateLimiter::default();
    if let Some(c) = &shared.callbacks {
        c.clear();
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One request in `GET /__tim/requests`. The query is left out: it holds
/// the UserSig.
#[derive(Serialize)]
struct RequestEntry<'a> {
    method: &'a str,
    path: &'a str,
    /// `replied`, `ignored` (success, nothing changed) or `fault`.
    outcome: &'static str,
    #[serde(rename = "ErrorCode")]
    error_code: Option<i64>,
    #[serde(rename = "ErrorInfo")]
    error_info: &'a str,
    latency_ms: f64,
    /// Answered from a fixture or the spec's sample, not from the state.
    canned: bool,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    ignored_fields: &'a [String],
    /// The body as checked; absent for requests refused before that.
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<Value>,
}

impl<'a> RequestEntry<'a> {
    fn new(r: &'a RecordedRequest) -> Self {
        let (outcome, error_code) = match &r.outcome {
            Outcome::Replied(code) => ("replied", Some(*code)),
            Outcome::Ignored => ("ignored", Some(0)),
            Outcome::Fault(_) => ("fault", None),
        };
        Self {
            method: &r.method,
            path: &r.path,
            outcome,
            error_code,
            error_info: &r.error_info,
            latency_ms: millis(r.latency),
            canned: r.canned,
            ignored_fields: &r.ignored_fields,
            body: (!r.body.is_empty()).then(|| serde_json::from_slice(&r.body).ok()).flatten(),
        }
    }
}

/// One callback in `GET /__tim/callbacks`. The query is left out: it holds
/// the signature.
#[derive(Serialize)]
struct CallbackEntry<'a> {
    #[serde(rename = "CallbackCommand")]
    command: &'a str,
    payload: &'a Value,
    response: ResponseView<'a>,
    /// What the emulator did with the answer.
    decision: DecisionView<'a>,
    latency_ms: f64,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ResponseView<'a> {
    Replied { status: u16, body: String },
    Failed { error: &'a str },
}

#[derive(Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
enum DecisionView<'a> {
    Acknowledged,
    Allowed { decision: &'a str, modified: &'a [String] },
    Denied { decision: &'a str, caller_error: i64, info: &'a str },
    Dropped { decision: &'a str },
    Default { reason: &'a str },
    Other,
}

impl<'a> CallbackEntry<'a> {
    fn new(c: &'a EmittedCallback) -> Self {
        let response = match &c.response {
            CallbackResponse::Replied { status, body } => {
                ResponseView::Replied { status: *status, body: String::from_utf8_lossy(body).into_owned() }
            }
            CallbackResponse::Failed(why) => ResponseView::Failed { error: why },
        };
        let decision = match &c.applied {
            AppliedDecision::Acknowledged => DecisionView::Acknowledged,
            AppliedDecision::Allowed { decision, modified } => DecisionView::Allowed { decision, modified },
            AppliedDecision::Denied { decision, caller_error, info } => {
                DecisionView::Denied { decision, caller_error: *caller_error, info }
            }
            AppliedDecision::Dropped { decision } => DecisionView::Dropped { decision },
            AppliedDecision::Default { reason } => DecisionView::Default { reason },
            #[allow(unreachable_patterns)]
            _ => DecisionView::Other,
        };
        Self { command: &c.command, payload: &c.body, response, decision, latency_ms: millis(c.latency) }
    }
}

fn json(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

fn error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    #[derive(Serialize)]
    struct Error<'a> {
        error: &'a str,
    }
    json(status, serde_json::to_vec(&Error { error: message }).unwrap_or_default())
}
