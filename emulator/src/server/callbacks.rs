//! Callbacks (webhooks) the mock sends, as the real service does, when a
//! callback URL is configured: the emulator says which events a call fires
//! (`world::Event`), this module POSTs them signed to the URL, and
//! before-callbacks' replies decide (allow, deny, drop, modify) with the
//! meaning the specs give their `ErrorCode`s (`CallbackMeta::decision_for`). A URL that is down,
//! slow, answers with an error status or an unreadable body lets the event go
//! ahead, as the docs say Tencent does.
//!
//! Callbacks are sent before the mock answers the REST call (after-callbacks
//! too, unlike the real service), so a test sees them as soon as its call
//! returns.

use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{json, Map, Value};
use tim_core::callback::{compute_sign, CallbackKind, CallbackMeta, CallbackReply, DecisionEffect};
use tim_core::{HttpRequest, HyperTransport, Transport};

use super::log::Log;
use crate::world::Event;

/// Default time the mock waits for a callback's answer (the documented 2 s).
pub const DEFAULT_CALLBACK_TIMEOUT: Duration = Duration::from_secs(2);

/// Largest callback reply read, bytes.
const REPLY_LIMIT: usize = 64 * 1024;

/// Where callbacks go: the app's URL and, when callback authentication is on,
/// its token. `Debug` never shows the token.
#[derive(Clone)]
pub(crate) struct CallbackTarget {
    url: String,
    token: Option<String>,
}

impl fmt::Debug for CallbackTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackTarget")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// A callback URL the mock cannot send to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackUrlError {
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for CallbackUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad callback URL: {}", self.reason)
    }
}

impl std::error::Error for CallbackUrlError {}

impl CallbackTarget {
    /// Checks the URL: absolute, `https`, or `http` to a loopback host.
    pub(crate) fn new(url: &str, token: Option<&str>) -> Result<Self, CallbackUrlError> {
        let err = |reason: &str| CallbackUrlError { reason: reason.to_owned() };
        let uri: http::Uri = url.trim().parse().map_err(|_| err("not a valid URL"))?;
        let host = uri.host().ok_or_else(|| err("the URL has no host"))?;
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if is_loopback(host) => {}
            Some("http") => {
                return Err(err(
                    "plain http is only for loopback hosts (127.0.0.0/8, ::1, localhost); use https",
                ))
            }
            _ => return Err(err("the scheme must be https (or http for a loopback host)")),
        }
        if uri.path_and_query().is_some_and(|p| p.as_str().contains('#')) {
            return Err(err("the URL must not have a fragment"));
        }
        Ok(Self { url: url.trim().to_owned(), token: token.filter(|t| !t.is_empty()).map(str::to_owned) })
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// What came back from the callback URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackResponse {
    /// An HTTP answer: its status and raw body.
    Replied {
        /// HTTP status.
        status: u16,
        /// The body as received (at most 64 KiB).
        body: Vec<u8>,
    },
    /// No answer: connection refused, timeout, broken exchange.
    Failed(String),
}

/// What the mock did with a callback's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppliedDecision {
    /// An after-callback: the answer is only an acknowledgement.
    Acknowledged,
    /// A before-callback let the event go ahead (`decision` names the
    /// documented decision); `modified` lists the reply fields that replaced
    /// the event's.
    Allowed {
        /// Name of the documented decision (`allow`, `modify`).
        decision: &'static str,
        /// Reply fields (wire names) that replaced the event's.
        modified: Vec<String>,
    },
    /// A before-callback refused the event; the caller got this error.
    Denied {
        /// Name of the documented decision.
        decision: &'static str,
        /// The `ErrorCode` the REST caller got.
        caller_error: i64,
        /// The `ErrorInfo` the REST caller got.
        info: String,
    },
    /// A before-callback dropped the event; the caller was told it succeeded.
    Dropped {
        /// Name of the documented decision.
        decision: &'static str,
    },
    /// The answer could not decide (no answer, timeout, non-200 status,
    /// unreadable body, a code the docs do not give, or a callback the specs
    /// do not describe): the event went ahead, as the docs say.
    Default {
        /// Why the answer did not count.
        reason: String,
    },
}

/// One callback the mock sent.
#[derive(Debug, Clone, PartialEq)]
pub struct EmittedCallback {
    /// The `CallbackCommand`.
    pub command: String,
    /// Query parameters sent, in order (`SdkAppid`, `CallbackCommand`, ...,
    /// `RequestTime`, `Sign` when a token is set).
    pub query: Vec<(String, String)>,
    /// The body sent, `CallbackCommand` included.
    pub body: Value,
    /// What came back.
    pub response: CallbackResponse,
    /// The reply as the mock read it, when it could.
    pub reply: Option<CallbackReply>,
    /// What the mock did with it.
    pub applied: AppliedDecision,
    /// From sending to the answer (or the failure).
    pub latency: Duration,
}

impl EmittedCallback {
    /// About how many bytes the entry takes in the log, given the length
    /// of its body's JSON text (a fair measure of the body in memory).
    fn weight(&self, body_len: usize) -> usize {
        let query: usize = self.query.iter().map(|(k, v)| k.len() + v.len() + 48).sum();
        let response = match &self.response {
            CallbackResponse::Replied { body, .. } => body.len(),
            CallbackResponse::Failed(why) => why.len(),
        };
        std::mem::size_of::<Self>() + self.command.len() + query + response + 2 * body_len
    }

    /// The value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Sends callbacks and records them.
pub(crate) struct Emitter {
    target: CallbackTarget,
    timeout: Duration,
    sdkappid: u64,
    transport: HyperTransport,
    sent: Mutex<Log<EmittedCallback>>,
}

impl fmt::Debug for Emitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emitter").field("target", &self.target).finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The spec's description of `command`, when the specs have it.
fn meta(command: &str) -> Option<&'static CallbackMeta> {
    tim_runtime::api::callbacks::CALLBACKS.iter().copied().find(|m| m.command == command)
}

/// Applies an allowing before-callback's reply to the request: documented
/// replacements (`MsgBody`, `CloudCustomData`) take the reply's value, and
/// `RefusedMembers_Account` removes those users from `MemberList`.
pub(crate) fn modify_request(body: &mut Value, modified: &[String], fields: &Map<String, Value>) {
    let Value::Object(request) = body else { return };
    for name in modified {
        let Some(value) = fields.get(name) else { continue };
        if name == "RefusedMembers_Account" {
            let refused: Vec<&str> =
                value.as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            if let Some(Value::Array(members)) = request.get_mut("MemberList") {
                members.retain(|m| {
                    let id = m.get("Member_Account").and_then(Value::as_str).or_else(|| m.as_str());
                    !id.is_some_and(|id| refused.contains(&id))
                });
            }
        } else if REPLACEABLE_EXTRA.contains(&name.as_str()) {
            request.insert(name.clone(), value.clone());
        }
    }
}

impl Emitter {
    pub(crate) fn new(
        target: CallbackTarget,
        timeout: Duration,
        sdkappid: u64,
        (log_limit, log_max_bytes): (usize, usize),
    ) -> std::io::Result<Self> {
        let transport = HyperTransport::new(timeout).map_err(std::io::Error::other)?;
        Ok(Self {
            target,
            timeout,
            sdkappid,
            transport,
            sent: Mutex::new(Log::new(log_limit, log_max_bytes)),
        })
    }

    /// The callbacks sent after the first `skip`.
    pub(crate) fn sent(&self, skip: usize) -> Vec<EmittedCallback> {
        lock(&self.sent).after(skip)
    }

    pub(crate) fn clear(&self) {
        lock(&self.sent).clear();
    }

    /// Sends one callback, reads the answer, decides, records.
    pub(crate) async fn send(&self, event: Event, client_ip: &str) -> EmittedCallback {
        let command = event.command;
        let mut body = Map::new();
        body.insert("CallbackCommand".into(), json!(command));
        body.extend(event.payload);
        let body = Value::Object(body);
        let mut query = vec![
            ("SdkAppid".to_owned(), self.sdkappid.to_string()),
            ("CallbackCommand".to_owned(), command.to_owned()),
            ("contenttype".to_owned(), "json".to_owned()),
            ("ClientIP".to_owned(), client_ip.to_owned()),
            ("OptPlatform".to_owned(), "RESTAPI".to_owned()),
        ];
        if let Some(token) = &self.target.token {
            let time = crate::world::unix_now();
            query.push(("RequestTime".to_owned(), time.to_string()));
            query.push(("Sign".to_owned(), compute_sign(token, time)));
        }
        let bytes = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
        let body_len = bytes.len();
        let started = Instant::now();
        let response = self.post(&query, bytes).await;
        let latency = started.elapsed();
        let meta = meta(command);
        // The specs' kind wins; the trigger's is for a callback without a spec.
        let kind = if command.contains("Before") { CallbackKind::Before } else { CallbackKind::After };
        let (reply, applied) = decide(meta, kind, &response);
        let sent =
            EmittedCallback { command: command.to_owned(), query, body, response, reply, applied, latency };
        let weight = sent.weight(body_len);
        lock(&self.sent).push(sent.clone(), weight);
        sent
    }

    async fn post(&self, query: &[(String, String)], body: Bytes) -> CallbackResponse {
        let encoded: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", tim_core::query::encode(k), tim_core::query::encode(v)))
            .collect();
        let sep = if self.target.url.contains('?') { '&' } else { '?' };
        let uri = match format!("{}{sep}{}", self.target.url, encoded.join("&")).parse::<http::Uri>() {
            Ok(uri) => uri,
            Err(e) => return CallbackResponse::Failed(format!("cannot build the callback URL: {e}")),
        };
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
        let req = HttpRequest { uri, headers, body, timeout: self.timeout, reply_limit: REPLY_LIMIT };
        match self.transport.send(req).await {
            Ok(resp) => CallbackResponse::Replied { status: resp.status, body: resp.body.to_vec() },
            Err(e) => CallbackResponse::Failed(e.to_string()),
        }
    }
}

/// What an answer means for the event, by the callback's spec.
fn decide(
    meta: Option<&'static CallbackMeta>,
    kind: CallbackKind,
    response: &CallbackResponse,
) -> (Option<CallbackReply>, AppliedDecision) {
    let default = |reason: String| AppliedDecision::Default { reason };
    let (status, raw) = match response {
        CallbackResponse::Failed(why) => return (None, default(format!("no answer: {why}"))),
        CallbackResponse::Replied { status, body } => (*status, body),
    };
    let reply = CallbackReply::from_bytes(raw);
    if status != 200 {
        return (reply, default(format!("HTTP status {status}")));
    }
    let Some(reply) = reply else {
        return (None, default("the reply is not a JSON object with an integer ErrorCode".into()));
    };
    if meta.map_or(kind, |m| m.kind) == CallbackKind::After {
        return (Some(reply), AppliedDecision::Acknowledged);
    }
    let Some(meta) = meta else {
        return (Some(reply), default("the specs do not describe this callback".into()));
    };
    let Some(decision) = meta.decision_for(reply.error_code) else {
        let why = format!("ErrorCode {} is no documented decision", reply.error_code);
        return (Some(reply), default(why));
    };
    let applied = match decision.effect {
        DecisionEffect::Allow => {
            // Any reply field a decision of this callback documents counts,
            // whichever decision the code matched (`allow` and `modify` share 0).
            let documented = |name: &str| meta.decisions.iter().any(|d| d.fields.contains(&name));
            let modified = reply
                .fields
                .keys()
                .filter(|k| documented(k) || REPLACEABLE_EXTRA.contains(&k.as_str()))
                .cloned()
                .collect();
            AppliedDecision::Allowed { decision: decision.name, modified }
        }
        DecisionEffect::Drop => AppliedDecision::Dropped { decision: decision.name },
        DecisionEffect::Deny => {
            let custom = decision.codes.0 != decision.codes.1;
            let caller_error = match decision.caller_error {
                Some(code) if !custom => code,
                // A custom code from the documented range reaches the caller as is.
                _ => reply.error_code,
            };
            let info = if reply.error_info.is_empty() {
                format!("refused by the {} callback", meta.command)
            } else {
                reply.error_info.clone()
            };
            AppliedDecision::Denied { decision: decision.name, caller_error, info }
        }
    };
    (Some(reply), applied)
}

/// Reply fields the pages let a before-callback replace besides the ones its
/// decisions name (e.g. `CloudCustomData` next to a modified `MsgBody`), and
/// the partial refusal of an invitation.
const REPLACEABLE_EXTRA: &[&str] = &["MsgBody", "CloudCustomData", "RefusedMembers_Account"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_https_or_loopback_http() {
        for ok in [
            "https://example.com/cb",
            "http://127.0.0.1:8080/cb",
            "http://localhost/x",
            "http://[::1]:9/",
            "http://127.3.4.5/?a=b",
        ] {
            assert!(CallbackTarget::new(ok, None).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/cb",
            "http://10.0.0.1/",
            "ftp://127.0.0.1/",
            "/relative",
            "not a url",
            "http://0.0.0.0/",
        ] {
            assert!(CallbackTarget::new(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let t = CallbackTarget::new("https://example.com/", Some("very-secret-token")).unwrap();
        assert!(!format!("{t:?}").contains("very-secret-token"));
    }

    #[test]
    fn unreadable_answers_fall_back_to_the_default() {
        let meta = meta("C2C.CallbackBeforeSendMsg");
        let replied = |status, body: &[u8]| CallbackResponse::Replied { status, body: body.to_vec() };
        for r in [
            CallbackResponse::Failed("refused".into()),
            replied(500, br#"{"ErrorCode":1}"#),
            replied(200, b"<html>"),
            replied(200, br#"{"ErrorCode":"1"}"#),
            replied(200, br#"{"ErrorCode":77}"#),
            replied(200, b""),
            replied(200, &[0xff, 0xfe]),
        ] {
            assert!(
                matches!(decide(meta, CallbackKind::Before, &r).1, AppliedDecision::Default { .. }),
                "{r:?}"
            );
        }
    }
}
