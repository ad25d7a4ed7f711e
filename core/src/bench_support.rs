//! Entry points into internals for the benchmarks in `runtime/benches` and
//! `bench/compare`; not part of the stable API.
//!
//! Each function runs exactly the code a [`Client::call`] runs for that step,
//! so the benchmarks measure the real per-request path without the network.

use std::sync::Arc;
use std::time::Duration;

use crate::client::{encode_request, Client};
use crate::endpoint::{ApiRequest, RateLimit};
use crate::error::Error;
use crate::rate_limit::{LocalRateLimiter, RateLimiter};
use crate::reply;

/// What [`Client::call`] does before sending: validate and serialize.
pub fn encode<R: ApiRequest>(req: &R) -> Result<Vec<u8>, Error<R::Error>> {
    encode_request(req)
}

/// What [`Client::call`] does with a reply: envelope check and typed decoding.
pub fn decode<R: ApiRequest>(status: u16, body: &[u8]) -> Result<R::Response, Error<R::Error>> {
    reply::decode::<R::Response, R::Error>(status, body)
}

/// The UserSig lookup every request makes (served from the cache once signed).
pub fn cached_sig(client: &Client) -> Arc<str> {
    client.cached_sig()
}

/// The per-endpoint rate limiter a client with rate limiting on uses.
#[derive(Debug, Default)]
pub struct Limiter(LocalRateLimiter);

impl Limiter {
    /// A limiter with no history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Books a call to `key` now; returns how long it has to wait.
    pub fn reserve(&self, key: &'static str, limit: RateLimit) -> Duration {
        self.0.reserve_at(key, limit, 1, tokio::time::Instant::now())
    }

    /// Waits until a call to `key` fits within `limit`, as each call does.
    pub async fn acquire(&self, key: &'static str, limit: RateLimit) {
        let wait = self.0.reserve(key, limit, 1).await;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}
