//! A framework-neutral callback receiver: from an HTTP request to the reply
//! Tencent expects, with the checks in the order that keeps unverified
//! requests cheap.
//!
//! [`CallbackReceiver::handle`] does everything on an `http::Request<Bytes>`;
//! adapters for frameworks that stream bodies use the pieces instead:
//! [`check_head`](CallbackReceiver::check_head) on the request head, then
//! read at most [`max_body`](CallbackReceiver::max_body) bytes, then
//! [`parse`](CallbackReceiver::parse) and [`dispatch`](CallbackReceiver::dispatch).

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
            return Err(ConfigError::Setting { setting: "max_body", reason: "must be at least 1 byte".into() });
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
            Err(rejection) => reject(&rejection),
        }
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
    pub fn parse(&self, mut query: CallbackQuery, body: &[u8]) -> Result<CallbackEvent<S>, CallbackRejection> {
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

fn reject(rejection: &CallbackRejection) -> Response<Bytes> {
    tracing::warn!(status = rejection.status().as_u16(), "callback refused: {rejection}");
    rejection.to_response()
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
