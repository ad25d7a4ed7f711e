//! An in-process transport that answers from a script, for tests.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;

use super::{HttpRequest, HttpResponse, SendFuture, Transport};
use crate::error::TransportError;
use crate::query;

/// Answers each request with the next scripted reply (the last one repeats)
/// and records what was sent; no network is involved.
///
/// Clones share the script and the record, so a test can keep one clone to
/// inspect after giving another to
/// [`ClientBuilder::transport`](crate::ClientBuilder::transport).
#[derive(Clone, Default)]
pub struct ScriptedTransport {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    script: VecDeque<Result<HttpResponse, TransportError>>,
    sent: Vec<Recorded>,
}

/// One request as the transport received it.
#[derive(Clone)]
pub struct Recorded {
    /// The URI path, with its leading `/`.
    pub path: String,
    /// The decoded query parameters, in order.
    pub query: Vec<(String, String)>,
    /// The request headers.
    pub headers: http::HeaderMap,
    /// The body as sent.
    pub body: Bytes,
}

impl Recorded {
    /// The value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The value of header `name`, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Leaves the query out: it holds the UserSig.
impl fmt::Debug for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorded")
            .field("path", &self.path)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ScriptedTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("ScriptedTransport")
            .field("scripted", &state.script.len())
            .field("sent", &state.sent.len())
            .finish()
    }
}

impl ScriptedTransport {
    /// A transport that answers with `replies` in order, repeating the last.
    pub fn new(replies: impl IntoIterator<Item = HttpResponse>) -> Self {
        let t = Self::default();
        for r in replies {
            t.push(r);
        }
        t
    }

    /// Queues a reply.
    pub fn push(&self, reply: HttpResponse) {
        self.state().script.push_back(Ok(reply));
    }

    /// Queues a failure, as if the network had failed.
    pub fn push_error(&self, error: TransportError) {
        self.state().script.push_back(Err(error));
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state().sent.clone()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Transport for ScriptedTransport {
    fn send(&self, req: HttpRequest) -> SendFuture<'_> {
        let mut state = self.state();
        state.sent.push(Recorded {
            path: req.uri.path().to_owned(),
            query: query::parse(req.uri.query().unwrap_or("")),
            headers: req.headers,
            body: req.body,
        });
        let reply =
            if state.script.len() > 1 { state.script.pop_front() } else { state.script.front().cloned() };
        let reply = match reply {
            Some(Ok(mut r)) if r.body.len() > req.reply_limit => {
                r.body.truncate(req.reply_limit);
                r.truncated = true;
                Ok(r)
            }
            Some(r) => r,
            None => Err(TransportError::other("the script has no reply")),
        };
        Box::pin(std::future::ready(reply))
    }
}
