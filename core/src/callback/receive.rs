//! A framework-neutral callback receiver: from an HTTP request to the reply
//! Tencent expects, with the checks in the order that keeps unverified
//! requests cheap.
//!
//! [`CallbackReceiver::handle`] does everything on an `http::Request<Bytes>`;
//! adapters for frameworks that stream bodies use the pieces instead:
//! [`check_head`](CallbackReceiver::check_head) on the request head, then
//! [`read_body`](CallbackReceiver::read_body) (at most
//! [`max_body`](CallbackReceiver::max_body) bytes, then
//! [`parse`](CallbackReceiver::parse)), and [`dispatch`](CallbackReceiver::dispatch).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Response, StatusCode};

use super::event::{fail_body, CallbackKind, CallbackParseError, CallbackReply, CallbackSet};
use super::verify::{CallbackAuthError, CallbackQuery, CallbackVerifier};
use crate::error::ConfigError;

/// Default time the handler gets before the fallback reply is sent: well
/// under Tencent's 2 s, leaving room for the network.
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(1500);

/// Tencent waits this long for a reply, then goes ahead without it; a
/// deadline must be shorter.
pub const TENCENT_TIMEOUT: Duration = Duration::from_secs(2);

/// Default largest callback body accepted (1 MiB); Tencent's bodies are far
/// smaller, so more is not a callback.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;

/// A verified, parsed callback, as a handler receives it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CallbackEvent<S> {
    /// The callback (for the generated set, one variant per command, or
    /// `Unknown` for a command the specs do not type).
    pub callback: S,
    /// The verified query parameters.
    pub query: CallbackQuery,
}

impl<S: CallbackSet> CallbackEvent<S> {
    /// An event from parts; for handlers' unit tests.
    pub fn new(callback: S, query: CallbackQuery) -> Self {
        Self { callback, query }
    }

    /// Whether Tencent waits for the reply to decide.
    pub fn kind(&self) -> CallbackKind {
        self.callback.kind()
    }
}

/// Why a receiver refused a request before its handler ran.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackRejection {
    /// The query failed verification (app, sign or time window).
    Auth(CallbackAuthError),
    /// The method is not POST.
    Method,
    /// The body is larger than the receiver accepts.
    BodyTooLarge {
        /// The receiver's limit in bytes.
        limit: usize,
    },
    /// The body does not fit the command, or no command was given.
    BadBody(CallbackParseError),
}

impl CallbackRejection {
    /// The HTTP status to answer with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Auth(e) => StatusCode::from_u16(e.status()).unwrap_or(StatusCode::FORBIDDEN),
            Self::Method => StatusCode::METHOD_NOT_ALLOWED,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BadBody(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// The response: the status, and a `FAIL` body saying why.
    pub fn to_response(&self) -> Response<Bytes> {
        let mut resp = json_response(fail_body(&self.to_string()));
        *resp.status_mut() = self.status();
        if let Self::Method = self {
            resp.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        }
        resp
    }
}

impl fmt::Display for CallbackRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auth(e) => e.fmt(f),
            Self::Method => f.write_str("callbacks are POST requests"),
            Self::BodyTooLarge { limit } => write!(f, "callback body is larger than {limit} bytes"),
            Self::BadBody(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CallbackRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Auth(e) => Some(e),
            Self::BadBody(e) => Some(e),
            Self::Method | Self::BodyTooLarge { .. } => None,
        }
    }
}

impl From<CallbackAuthError> for CallbackRejection {
    fn from(e: CallbackAuthError) -> Self {
        Self::Auth(e)
    }
}

impl From<CallbackParseError> for CallbackRejection {
    fn from(e: CallbackParseError) -> Self {
        Self::BadBody(e)
    }
}

/// Receives the callbacks of one app into `S` (the generated
/// `tim_api::callbacks::Callback`, or a hand-written set).
///
/// Cheap to share behind an `Arc`; `Debug` never shows the token.
pub struct CallbackReceiver<S> {
    verifier: CallbackVerifier,
    deadline: Duration,
    fallback: CallbackReply,
    max_body: usize,
    // `fn() -> S`: the receiver produces `S` but holds none, so it is
    // `Send + Sync` whatever `S` is.
    _set: PhantomData<fn() -> S>,
}

impl<S> Clone for CallbackReceiver<S> {
    fn clone(&self) -> Self {
        Self {
            verifier: self.verifier.clone(),
            deadline: self.deadline,
            fallback: self.fallback.clone(),
            max_body: self.max_body,
            _set: PhantomData,
        }
    }
}

impl<S> fmt::Debug for CallbackReceiver<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackReceiver")
            .field("verifier", &self.verifier)
            .field("deadline", &self.deadline)
            .field("fallback", &self.fallback)
            .field("max_body", &self.max_body)
            .finish()
    }
}

/// Builds a [`CallbackReceiver`], checking its options.
#[derive(Debug, Clone)]
pub struct CallbackReceiverBuilder<S> {
    receiver: CallbackReceiver<S>,
}

impl<S: CallbackSet> CallbackReceiverBuilder<S> {
    /// How long the handler may take (default 1.5 s); must be above zero and
    /// under Tencent's 2 s, or the fallback would never be the one applied.
    #[must_use]
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.receiver.deadline = deadline;
        self
    }

    /// The reply to a before-callback whose handler misses the deadline
    /// (default [`CallbackReply::ok`]: allow, which is also what Tencent does
    /// without a reply). After-callbacks always get `ok`.
    #[must_use]
    pub fn fallback(mut self, reply: CallbackReply) -> Self {
        self.receiver.fallback = reply;
        self
    }

    /// The largest body accepted, in bytes (default 1 MiB; at least 1).
    #[must_use]
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.receiver.max_body = bytes;
        self
    }

    /// The receiver, or which option is out of range.
    pub fn build(self) -> Result<CallbackReceiver<S>, ConfigError> {
        let r = self.receiver;
        if r.deadline.is_zero() || r.deadline >= TENCENT_TIMEOUT {
            return Err(ConfigError::Setting {
                setting: "deadline",
                reason: format!("{:?} is not between 0 and Tencent's 2 s timeout", r.deadline),
            });
        }
        if r.max_body == 0 {
            return Err(ConfigError::Setting {
                setting: "max_body",
                reason: "must be at least 1 byte".into(),
            });
        }
        Ok(r)
    }
}

impl<S: CallbackSet> CallbackReceiver<S> {
    /// A receiver with the default options.
    pub fn new(verifier: CallbackVerifier) -> Self {
        Self {
            verifier,
            deadline: DEFAULT_DEADLINE,
            fallback: CallbackReply::ok(),
            max_body: DEFAULT_MAX_BODY,
            _set: PhantomData,
        }
    }

    /// A builder to set the options, starting from the defaults.
    pub fn builder(verifier: CallbackVerifier) -> CallbackReceiverBuilder<S> {
        CallbackReceiverBuilder { receiver: Self::new(verifier) }
    }

    /// The verifier.
    pub fn verifier(&self) -> &CallbackVerifier {
        &self.verifier
    }

    /// How long the handler may take.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// The largest body accepted, in bytes: adapters stop reading past it.
    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// Handles one request end to end and returns the response to send:
    /// 405 for a method other than POST, 401/403 for a query that fails
    /// verification (checked before the body is looked at), 413 for a body
    /// over the limit, 400 for a body that does not fit its command, else
    /// the handler's reply under the deadline (see [`dispatch`](Self::dispatch)).
    ///
    /// Must run inside a Tokio runtime with its time driver enabled.
    pub async fn handle<F, Fut>(&self, req: http::Request<Bytes>, handler: F) -> Response<Bytes>
    where
        F: FnOnce(CallbackEvent<S>) -> Fut,
        Fut: Future<Output = CallbackReply>,
    {
        let (parts, body) = req.into_parts();
        match self.verify_and_parse(&parts, &body) {
            Ok(event) => self.dispatch(event, handler).await,
            Err(rejection) => self.reject(&rejection),
        }
    }

    /// The response to a refused request ([`CallbackRejection::to_response`]),
    /// logged as a warning: a stream of them means a misconfigured token or
    /// someone probing the URL.
    pub fn reject(&self, rejection: &CallbackRejection) -> Response<Bytes> {
        tracing::warn!(status = rejection.status().as_u16(), "callback refused: {rejection}");
        rejection.to_response()
    }

    /// Checks the request head: the method, then the query. Touches no body.
    pub fn check_head(&self, head: &http::request::Parts) -> Result<CallbackQuery, CallbackRejection> {
        if head.method != Method::POST {
            return Err(CallbackRejection::Method);
        }
        let query = head.uri.query().unwrap_or("");
        Ok(self.verifier.verify_query_lenient(query, self.verifier.now())?)
    }

    /// Checks the body against a verified query: size, command, then
    /// `S::parse`. The command is the query's, or, when the query has none,
    /// the body's `CallbackCommand`.
    pub fn parse(
        &self,
        mut query: CallbackQuery,
        body: &[u8],
    ) -> Result<CallbackEvent<S>, CallbackRejection> {
        if body.len() > self.max_body {
            return Err(CallbackRejection::BodyTooLarge { limit: self.max_body });
        }
        if query.command.is_empty() {
            query.command = command_in_body(body).ok_or_else(|| CallbackParseError {
                command: String::new(),
                field: "CallbackCommand".into(),
                reason: "no command in the query nor in the body".into(),
            })?;
        }
        let callback = S::parse(&query.command, body)?;
        Ok(CallbackEvent { callback, query })
    }

    /// Reads a streamed body of a request whose head passed
    /// [`check_head`](Self::check_head), stopping after
    /// [`max_body`](Self::max_body) bytes, then [`parse`](Self::parse)s it.
    /// A body larger than that is refused as too large, one that breaks off
    /// as a bad body.
    pub async fn read_body<B>(
        &self,
        query: CallbackQuery,
        body: B,
    ) -> Result<CallbackEvent<S>, CallbackRejection>
    where
        B: hyper::body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        use http_body_util::{BodyExt, LengthLimitError, Limited};
        match Limited::new(body, self.max_body).collect().await {
            Ok(collected) => self.parse(query, &collected.to_bytes()),
            Err(e) if e.is::<LengthLimitError>() => {
                Err(CallbackRejection::BodyTooLarge { limit: self.max_body })
            }
            Err(e) => Err(CallbackRejection::BadBody(CallbackParseError {
                command: query.command,
                field: String::new(),
                reason: format!("the body could not be read: {e}"),
            })),
        }
    }

    /// [`check_head`](Self::check_head) then [`parse`](Self::parse): every
    /// check, without running a handler.
    pub fn verify_and_parse(
        &self,
        head: &http::request::Parts,
        body: &[u8],
    ) -> Result<CallbackEvent<S>, CallbackRejection> {
        let query = self.check_head(head)?;
        self.parse(query, body)
    }

    /// Runs the handler under the deadline and makes the response. A
    /// before-callback whose handler is late (or panics) gets the fallback
    /// reply, an after-callback gets `ok`: either way Tencent hears back in
    /// time, where silence would make it go ahead on its own anyway. Replies
    /// in time are sent as given.
    ///
    /// Must run inside a Tokio runtime with its time driver enabled.
    pub async fn dispatch<F, Fut>(&self, event: CallbackEvent<S>, handler: F) -> Response<Bytes>
    where
        F: FnOnce(CallbackEvent<S>) -> Fut,
        Fut: Future<Output = CallbackReply>,
    {
        let kind = event.kind();
        let command = event.query.command.clone();
        let missed = |why: &str| {
            tracing::warn!(command = %command, kind = kind.as_str(), "callback handler {why}; sending the fallback reply");
            match kind {
                CallbackKind::Before => self.fallback.clone(),
                CallbackKind::After => CallbackReply::ok(),
            }
        };
        // Calling the handler may panic as well as polling its future.
        let reply = match catch_unwind(AssertUnwindSafe(|| handler(event))) {
            Err(_panic) => missed("panicked"),
            Ok(fut) => match tokio::time::timeout(self.deadline, CatchUnwind(Box::pin(fut))).await {
                Ok(Some(reply)) => reply,
                Ok(None) => missed("panicked"),
                Err(_elapsed) => missed("missed the deadline"),
            },
        };
        json_response(reply.to_bytes())
    }
}

/// The `CallbackCommand` member of a JSON object body, when there is one.
fn command_in_body(body: &[u8]) -> Option<String> {
    // Only the one member is wanted; a full parse comes after, so any body
    // that is not an object simply has no command.
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("CallbackCommand")?.as_str().map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned)
}

fn json_response(body: Vec<u8>) -> Response<Bytes> {
    let mut resp = Response::new(Bytes::from(body));
    resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    resp
}

/// Polls a future, turning a panic into `None` (what `futures`'
/// `catch_unwind` does, without the dependency). Boxing keeps it `Unpin`,
/// so no unsafe pinning is needed; one allocation per callback is nothing
/// next to the request.
struct CatchUnwind<Fut>(Pin<Box<Fut>>);

impl<Fut: Future> Future for CatchUnwind<Fut> {
    type Output = Option<Fut::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = &mut self.get_mut().0;
        match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(Poll::Ready(out)) => Poll::Ready(Some(out)),
            Ok(Poll::Pending) => Poll::Pending,
            // Not polled again: the caller gets `Ready` and drops it.
            Err(_panic) => Poll::Ready(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use serde_json::{json, Value};

    use super::*;
    use crate::callback::compute_sign;
    use crate::callback::test_set::{after, before, TestCallback, AFTER, APP, BEFORE, TOKEN};
    use crate::callback::testing::{
        body_for, request_with_query, signed_query, signed_raw_request_at, signed_request, signed_request_at,
        unsigned_query,
    };

    const NOW: u64 = 1_700_000_000;

    fn receiver() -> CallbackReceiver<TestCallback> {
        CallbackReceiver::new(CallbackVerifier::new(APP, TOKEN).unwrap().clock(|| NOW))
    }

    fn json_of(resp: &Response<Bytes>) -> Value {
        serde_json::from_slice(resp.body()).unwrap()
    }

    /// Handles `req` with a handler that counts its calls and denies.
    async fn run(rx: &CallbackReceiver<TestCallback>, req: http::Request<Bytes>) -> (Response<Bytes>, usize) {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let resp = rx
            .handle(req, |_event| async move {
                seen.fetch_add(1, Ordering::SeqCst);
                CallbackReply::with_code(1, "denied by test")
            })
            .await;
        (resp, calls.load(Ordering::SeqCst))
    }

    /// Asserts a rejection: status, a FAIL body whose reason contains
    /// `reason`, JSON content type, and no handler call.
    async fn assert_rejected(req: http::Request<Bytes>, status: u16, reason: &str) {
        let (resp, calls) = run(&receiver(), req).await;
        assert_eq!(resp.status().as_u16(), status, "{:?}", resp.body());
        assert_eq!(calls, 0, "handler must not run on a rejection");
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/json");
        let body = json_of(&resp);
        assert_eq!(body["ActionStatus"], "FAIL");
        let info = body["ErrorInfo"].as_str().unwrap();
        assert!(info.contains(reason), "{info:?} should contain {reason:?}");
        assert!(!info.contains(TOKEN));
    }

    fn with_query(query: &str, body: impl Into<Bytes>) -> http::Request<Bytes> {
        request_with_query(query, body)
    }

    #[tokio::test]
    async fn accepts_a_signed_callback_and_sends_the_reply_as_given() {
        let rx = receiver();
        let req = signed_request_at(&before(), APP, TOKEN, NOW - 5);
        let resp = rx
            .handle(req, |event| async move {
                assert_eq!(event.kind(), CallbackKind::Before);
                assert_eq!(event.query.command, BEFORE);
                assert_eq!(event.query.request_time, Some(NOW - 5));
                assert_eq!(event.query.opt_platform.as_deref(), Some("RESTAPI"));
                assert_eq!(event.callback, TestCallback::Before(Box::new(before())));
                CallbackReply::with_code(1, "no").field("MsgBody", json!([]))
            })
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(
            json_of(&resp),
            json!({"ActionStatus": "OK", "ErrorCode": 1, "ErrorInfo": "no", "MsgBody": []})
        );
    }

    #[tokio::test]
    async fn signed_request_uses_the_system_clock() {
        let rx = CallbackReceiver::<TestCallback>::new(CallbackVerifier::new(APP, TOKEN).unwrap());
        let (resp, calls) = run(&rx, signed_request(&after(), APP, TOKEN)).await;
        assert_eq!((resp.status(), calls), (StatusCode::OK, 1));
    }

    #[tokio::test]
    async fn every_auth_failure_is_refused_before_the_body() {
        let body = body_for(&before());
        // Forged sign: right shape, another token.
        assert_rejected(signed_raw_request_at(APP, BEFORE, "forged", body.clone(), NOW), 403, "`Sign`").await;
        assert_rejected(signed_raw_request_at(APP, BEFORE, TOKEN, body.clone(), NOW - 61), 403, "61 s old")
            .await;
        assert_rejected(
            signed_raw_request_at(APP, BEFORE, TOKEN, body.clone(), NOW + 61),
            403,
            "in the future",
        )
        .await;
        assert_rejected(
            signed_raw_request_at(APP + 1, BEFORE, TOKEN, body.clone(), NOW),
            403,
            "not this app",
        )
        .await;
        assert_rejected(with_query(&unsigned_query(APP, BEFORE), body.clone()), 401, "no `Sign`").await;
        let no_time = format!("{}&Sign={}", unsigned_query(APP, BEFORE), compute_sign(TOKEN, NOW));
        assert_rejected(with_query(&no_time, body.clone()), 401, "no `RequestTime`").await;
        let bad_time = format!("{}&RequestTime=soon&Sign=00", unsigned_query(APP, BEFORE));
        assert_rejected(with_query(&bad_time, body.clone()), 401, "not a number").await;
        assert_rejected(with_query("", body), 403, "no `SdkAppid`").await;
        // A body that is both oversized and malformed still gets the auth error first.
        let huge = vec![b'x'; DEFAULT_MAX_BODY + 1];
        assert_rejected(signed_raw_request_at(APP, BEFORE, "forged", huge, NOW), 403, "`Sign`").await;
    }

    #[tokio::test]
    async fn wrong_method_is_405_with_allow() {
        let mut req = signed_request_at(&after(), APP, TOKEN, NOW);
        *req.method_mut() = Method::GET;
        let (resp, calls) = run(&receiver(), req.clone()).await;
        assert_eq!((resp.status(), calls), (StatusCode::METHOD_NOT_ALLOWED, 0));
        assert_eq!(resp.headers()[header::ALLOW], "POST");
        assert_rejected(req, 405, "POST").await;
    }

    #[tokio::test]
    async fn oversized_body_is_413() {
        let rx = CallbackReceiver::<TestCallback>::builder(
            CallbackVerifier::new(APP, TOKEN).unwrap().clock(|| NOW),
        )
        .max_body(16)
        .build()
        .unwrap();
        let (resp, calls) = run(&rx, signed_request_at(&after(), APP, TOKEN, NOW)).await;
        assert_eq!((resp.status(), calls), (StatusCode::PAYLOAD_TOO_LARGE, 0));
        assert_rejected(
            signed_raw_request_at(APP, AFTER, TOKEN, vec![b' '; DEFAULT_MAX_BODY + 1], NOW),
            413,
            "larger",
        )
        .await;
    }

    #[tokio::test]
    async fn bad_and_truncated_bodies_are_400_naming_the_field() {
        let wrong_type =
            br#"{"CallbackCommand":"C2C.CallbackAfterSendMsg","From_Account":"a","MsgTime":"soon"}"#;
        assert_rejected(signed_raw_request_at(APP, AFTER, TOKEN, &wrong_type[..], NOW), 400, "at `MsgTime`")
            .await;
        let body = body_for(&before());
        let truncated = body[..body.len() / 2].to_vec();
        assert_rejected(
            signed_raw_request_at(APP, BEFORE, TOKEN, truncated, NOW),
            400,
            "C2C.CallbackBeforeSendMsg",
        )
        .await;
        assert_rejected(signed_raw_request_at(APP, BEFORE, TOKEN, "", NOW), 400, "EOF").await;
        // An unknown command's body must still be JSON.
        assert_rejected(signed_raw_request_at(APP, "New.Thing", TOKEN, "not json", NOW), 400, "New.Thing")
            .await;
    }

    #[tokio::test]
    async fn unknown_command_reaches_the_handler() {
        let req = signed_raw_request_at(APP, "Group.CallbackSomethingNew", TOKEN, r#"{"A":1}"#, NOW);
        let resp = receiver()
            .handle(req, |event| async move {
                assert_eq!(
                    event.callback,
                    TestCallback::Unknown {
                        command: "Group.CallbackSomethingNew".into(),
                        body: json!({"A": 1})
                    }
                );
                assert_eq!(event.kind(), CallbackKind::After);
                CallbackReply::ok()
            })
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(json_of(&resp), json!({"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": ""}));
    }

    #[tokio::test]
    async fn command_falls_back_to_the_body() {
        let query = signed_query(APP, BEFORE, TOKEN, NOW).replace(&format!("CallbackCommand={BEFORE}&"), "");
        assert!(!query.contains("CallbackCommand"));
        let (resp, calls) = run(&receiver(), with_query(&query, body_for(&before()))).await;
        assert_eq!((resp.status(), calls), (StatusCode::OK, 1));
        let event = receiver()
            .verify_and_parse(&with_query(&query, body_for(&before())).into_parts().0, &body_for(&before()));
        assert_eq!(event.unwrap().query.command, BEFORE);
        // Neither the query nor the body names one.
        assert_rejected(with_query(&query, r#"{"From_Account":"a"}"#), 400, "`CallbackCommand`").await;
        assert_rejected(with_query(&query, "[]"), 400, "`CallbackCommand`").await;
    }

    #[tokio::test]
    async fn opt_out_accepts_unsigned_callbacks_of_its_app_only() {
        let rx = CallbackReceiver::<TestCallback>::new(CallbackVerifier::without_authentication(APP));
        let (resp, calls) = run(&rx, with_query(&unsigned_query(APP, AFTER), body_for(&after()))).await;
        assert_eq!((resp.status(), calls), (StatusCode::OK, 1));
        let (resp, calls) = run(&rx, with_query(&unsigned_query(APP + 1, AFTER), body_for(&after()))).await;
        assert_eq!((resp.status(), calls), (StatusCode::FORBIDDEN, 0));
    }

    #[tokio::test]
    async fn injected_clock_decides_the_window() {
        let at = |now: u64| {
            CallbackReceiver::<TestCallback>::new(
                CallbackVerifier::new(APP, TOKEN).unwrap().clock(move || now),
            )
        };
        let req = || signed_request_at(&after(), APP, TOKEN, 1_000);
        assert_eq!(run(&at(1_060), req()).await.0.status(), StatusCode::OK);
        assert_eq!(run(&at(1_061), req()).await.0.status(), StatusCode::FORBIDDEN);
        assert_eq!(run(&at(939), req()).await.0.status(), StatusCode::FORBIDDEN);
    }

    async fn slow_reply(rx: &CallbackReceiver<TestCallback>, req: http::Request<Bytes>) -> Value {
        let resp = rx
            .handle(req, |_| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                CallbackReply::with_code(99, "too late")
            })
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        json_of(&resp)
    }

    #[tokio::test(start_paused = true)]
    async fn late_before_callbacks_get_the_fallback_and_late_after_callbacks_ok() {
        let verifier = CallbackVerifier::new(APP, TOKEN).unwrap().clock(|| NOW);
        let default = CallbackReceiver::<TestCallback>::new(verifier.clone());
        let start = tokio::time::Instant::now();
        let got = slow_reply(&default, signed_request_at(&before(), APP, TOKEN, NOW)).await;
        assert_eq!(got["ErrorCode"], 0, "default fallback allows: {got}");
        assert_eq!(start.elapsed(), DEFAULT_DEADLINE);

        let deny = CallbackReceiver::<TestCallback>::builder(verifier)
            .deadline(Duration::from_millis(200))
            .fallback(CallbackReply::with_code(1, "busy"))
            .build()
            .unwrap();
        let start = tokio::time::Instant::now();
        let got = slow_reply(&deny, signed_request_at(&before(), APP, TOKEN, NOW)).await;
        assert_eq!((got["ErrorCode"].as_i64(), got["ErrorInfo"].as_str()), (Some(1), Some("busy")));
        assert_eq!(start.elapsed(), Duration::from_millis(200));
        // After-callbacks (and unknown commands) are acknowledged, never denied.
        let got = slow_reply(&deny, signed_request_at(&after(), APP, TOKEN, NOW)).await;
        assert_eq!(got, json!({"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": ""}));
        let got = slow_reply(&deny, signed_raw_request_at(APP, "X.Y", TOKEN, "{}", NOW)).await;
        assert_eq!(got["ErrorCode"], 0);
    }

    #[tokio::test]
    async fn after_callback_replies_in_time_are_sent_as_given() {
        let resp = receiver()
            .handle(signed_request_at(&after(), APP, TOKEN, NOW), |_| async {
                CallbackReply::with_code(7, "x")
            })
            .await;
        assert_eq!(json_of(&resp)["ErrorCode"], 7);
    }

    #[tokio::test]
    async fn a_panicking_handler_gets_the_fallback() {
        let rx = CallbackReceiver::<TestCallback>::builder(
            CallbackVerifier::new(APP, TOKEN).unwrap().clock(|| NOW),
        )
        .fallback(CallbackReply::with_code(1, "fallback"))
        .build()
        .unwrap();
        let req = || signed_request_at(&before(), APP, TOKEN, NOW);
        let resp = rx
            .handle(req(), |_| async {
                tokio::task::yield_now().await;
                panic!("handler bug")
            })
            .await;
        assert_eq!(json_of(&resp)["ErrorInfo"], "fallback");
        #[allow(unreachable_code)]
        let resp = rx
            .handle(req(), |_| -> std::future::Ready<CallbackReply> {
                panic!("handler bug before its future")
            })
            .await;
        assert_eq!(json_of(&resp)["ErrorInfo"], "fallback");
    }

    #[test]
    fn builder_refuses_out_of_range_options() {
        let v = CallbackVerifier::without_authentication(APP);
        let b = || CallbackReceiver::<TestCallback>::builder(v.clone());
        for bad in [Duration::ZERO, TENCENT_TIMEOUT, Duration::from_secs(5)] {
            let err = b().deadline(bad).build().unwrap_err();
            assert!(err.to_string().contains("deadline"), "{err}");
        }
        assert!(b().max_body(0).build().unwrap_err().to_string().contains("max_body"));
        let ok = b().deadline(Duration::from_millis(1999)).max_body(1).build().unwrap();
        assert_eq!((ok.deadline(), ok.max_body()), (Duration::from_millis(1999), 1));
        assert!(!format!(
            "{:?}",
            CallbackReceiver::<TestCallback>::new(CallbackVerifier::new(APP, TOKEN).unwrap())
        )
        .contains(TOKEN));
    }

    #[test]
    fn rejection_statuses() {
        let cases = [
            (CallbackRejection::Auth(CallbackAuthError::MissingSign), 401),
            (CallbackRejection::Auth(CallbackAuthError::BadSign), 403),
            (CallbackRejection::Auth(CallbackAuthError::MissingCommand), 400),
            (CallbackRejection::Method, 405),
            (CallbackRejection::BodyTooLarge { limit: 1 }, 413),
        ];
        for (rejection, status) in cases {
            assert_eq!(rejection.status().as_u16(), status, "{rejection}");
            assert_eq!(rejection.to_response().status().as_u16(), status);
        }
    }

    mod robustness {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            #[test]
            fn arbitrary_queries_and_bodies_never_panic(query in ".{0,200}", body in proptest::collection::vec(any::<u8>(), 0..300)) {
                let rx = receiver();
                let req = request_with_query(&query, body.clone());
                let _ = rx.verify_and_parse(&req.into_parts().0, &body);
                let _ = rx.verifier().verify_query(&query);
            }

            #[test]
            fn signed_queries_with_arbitrary_bodies_never_panic(
                command in prop_oneof![Just(BEFORE.to_owned()), Just(AFTER.to_owned()), ".{0,30}"],
                body in proptest::collection::vec(any::<u8>(), 0..300),
                json_body in "\\{.{0,100}\\}",
            ) {
                let rx = receiver();
                for body in [body.clone(), json_body.into_bytes()] {
                    let req = signed_raw_request_at(APP, &command, TOKEN, body.clone(), NOW);
                    match rx.verify_and_parse(&req.into_parts().0, &body) {
                        Ok(event) => prop_assert_eq!(event.query.sdkappid, APP),
                        Err(rejection) => prop_assert!(!rejection.to_string().is_empty()),
                    }
                }
            }
        }
    }
}
