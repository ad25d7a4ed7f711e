//! How a [`Client`](crate::Client) puts bytes on the wire.
//!
//! The client does everything specific to the API (signing, query string,
//! body, retries, decoding) and hands each attempt to a [`Transport`] as a
//! ready [`HttpRequest`]; the transport only has to POST it and read the
//! reply. The default is [`HyperTransport`] (hyper 1 with a keep-alive pool
//! over rustls); [`ScriptedTransport`] answers from a script without a
//! network, for tests; with the `reqwest` feature, `ReqwestTransport` wraps
//! a `reqwest::Client`. Plug in another with
//! [`ClientBuilder::transport`](crate::ClientBuilder::transport).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;

use crate::error::TransportError;

mod hyper;
#[cfg(feature = "reqwest")]
mod reqwest;
mod scripted;

pub use self::hyper::HyperTransport;
#[cfg(feature = "reqwest")]
pub use self::reqwest::ReqwestTransport;
pub use self::scripted::{Recorded, ScriptedTransport};

/// Largest reply body the client accepts (32 MiB); see [`HttpRequest::reply_limit`].
pub const MAX_REPLY_BYTES: usize = 32 * 1024 * 1024;

/// The future a [`Transport`] returns: boxed so the trait stays object-safe.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + Send + 'a>>;

/// Sends one HTTP request and reads the whole reply.
///
/// Implementations must:
/// - send a `POST` to [`HttpRequest::uri`] with the given headers and body;
/// - give up after [`HttpRequest::timeout`] (whole exchange, body included)
///   with [`TransportError::timeout`];
/// - read at most [`HttpRequest::reply_limit`] body bytes and report a longer
///   body with [`HttpResponse::truncated`] rather than reading on;
/// - report failures to connect with [`TransportError::connect`], so callers
///   know nothing was sent;
/// - never put the URI in an error or log line: its query carries the UserSig.
///
/// The client decides about retries, so a transport should try once.
pub trait Transport: Send + Sync + 'static {
    /// Sends `req`; resolves to the reply status and body.
    fn send(&self, req: HttpRequest) -> SendFuture<'_>;
}

/// One attempt of a call, ready to send.
pub struct HttpRequest {
    /// Full target: base URL, endpoint path and query. The query carries the
    /// UserSig, so this is a secret: never log or display it.
    pub uri: http::Uri,
    /// Request headers (the client sets `content-type: application/json`).
    pub headers: http::HeaderMap,
    /// The JSON body.
    pub body: Bytes,
    /// Time allowed for the whole exchange, reply body included.
    pub timeout: Duration,
    /// Largest reply body to read, in bytes.
    pub reply_limit: usize,
}

/// Shows the path but not the query, which holds the UserSig.
impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("path", &self.uri.path())
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_len", &self.body.len())
            .field("timeout", &self.timeout)
            .field("reply_limit", &self.reply_limit)
            .finish_non_exhaustive()
    }
}

/// A reply as read from the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// The body, at most the request's `reply_limit` bytes.
    pub body: Bytes,
    /// Whether the body was longer than `reply_limit` and was cut off.
    pub truncated: bool,
}

impl HttpResponse {
    /// A complete reply.
    pub fn new(status: u16, body: impl Into<Bytes>) -> Self {
        Self { status, body: body.into(), truncated: false }
    }
}

/// Collects body chunks up to `limit` bytes, copying only when the body
/// comes in more than one chunk (a small reply usually arrives in one).
#[derive(Default)]
pub(crate) struct BodyBuf {
    first: Option<Bytes>,
    rest: Vec<u8>,
    truncated: bool,
}

impl BodyBuf {
    fn len(&self) -> usize {
        self.first.as_ref().map_or(0, Bytes::len) + self.rest.len()
    }

    /// Adds a chunk; `false` once the limit is reached (stop reading then).
    pub(crate) fn push(&mut self, chunk: Bytes, limit: usize) -> bool {
        let room = limit.saturating_sub(self.len());
        if chunk.len() > room {
            self.truncated = true;
            self.push(chunk.slice(..room), limit);
            return false;
        }
        if chunk.is_empty() {
            return true;
        }
        match self.first.take() {
            None if self.rest.is_empty() => self.first = Some(chunk),
            first => {
                if let Some(first) = first {
                    self.rest.reserve(first.len() + chunk.len());
                    self.rest.extend_from_slice(&first);
                }
                self.rest.extend_from_slice(&chunk);
            }
        }
        true
    }

    /// The reply with `status`.
    pub(crate) fn finish(self, status: u16) -> HttpResponse {
        let body = match self.first {
            Some(first) => first,
            None => Bytes::from(self.rest),
        };
        HttpResponse { status, body, truncated: self.truncated }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_buf_limits_and_joins() {
        let mut b = BodyBuf::default();
        assert!(b.push(Bytes::from_static(b"abc"), 10));
        assert!(b.push(Bytes::new(), 10));
        assert!(b.push(Bytes::from_static(b"def"), 10));
        assert!(!b.push(Bytes::from_static(b"ghijkl"), 10));
        let r = b.finish(200);
        assert_eq!((&r.body[..], r.truncated), (&b"abcdefghij"[..], true));

        let mut b = BodyBuf::default();
        assert!(b.push(Bytes::from_static(b"whole"), 5));
        let r = b.finish(502);
        assert_eq!((r.status, &r.body[..], r.truncated), (502, &b"whole"[..], false));

        let mut b = BodyBuf::default();
        assert!(!b.push(Bytes::from_static(b"toolong"), 3));
        assert_eq!(&b.finish(200).body[..], b"too");
    }

    #[test]
    fn request_debug_hides_query() {
        let req = HttpRequest {
            uri: "http://127.0.0.1:1/v4/x?usersig=SECRET".parse().unwrap(),
            headers: http::HeaderMap::new(),
            body: Bytes::from_static(b"{}"),
            timeout: Duration::from_secs(1),
            reply_limit: 10,
        };
        let text = format!("{req:?}");
        assert!(text.contains("/v4/x") && !text.contains("SECRET"), "{text}");
    }
}
