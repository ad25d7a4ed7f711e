//! A transport over a caller's `reqwest::Client` (feature `reqwest`).

use std::fmt;
use std::time::Duration;

use super::{BodyBuf, HttpRequest, HttpResponse, SendFuture, Transport};
use crate::error::{ConfigError, TransportError};

/// Sends with a `reqwest::Client`, e.g. one set up with proxies or roots of
/// the caller's choice; the request timeout still applies per request.
#[derive(Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl fmt::Debug for ReqwestTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTransport").finish_non_exhaustive()
    }
}

impl ReqwestTransport {
    /// Wraps `client`.
    pub fn new(client: reqwest::Client) -> Self {
        Self { client }
    }

    /// A reqwest client with reqwest's defaults and this connect timeout.
    pub fn with_connect_timeout(connect_timeout: Duration) -> Result<Self, ConfigError> {
        let client = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .build()
            .map_err(|e| ConfigError::HttpClient(e.without_url().to_string()))?;
        Ok(Self { client })
    }

    async fn exchange(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
        let limit = req.reply_limit;
        let mut resp = self
            .client
            .post(req.uri.to_string())
            .headers(req.headers)
            .timeout(req.timeout)
            .body(req.body)
            .send()
            .await
            .map_err(classify)?;
        let status = resp.status().as_u16();
        let mut buf = BodyBuf::default();
        while let Some(chunk) = resp.chunk().await.map_err(classify)? {
            if !buf.push(chunk, limit) {
                break;
            }
        }
        Ok(buf.finish(status))
    }
}

fn classify(e: reqwest::Error) -> TransportError {
    // The URL carries the UserSig, so it must not survive into the message.
    let e = e.without_url();
    if e.is_timeout() {
        TransportError::timeout()
    } else if e.is_connect() {
        TransportError::connect(TransportError::chain(&e))
    } else {
        TransportError::other(TransportError::chain(&e))
    }
}

impl Transport for ReqwestTransport {
    fn send(&self, req: HttpRequest) -> SendFuture<'_> {
        Box::pin(self.exchange(req))
    }
}
