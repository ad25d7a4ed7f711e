//! The default transport: hyper-util's pooled client over rustls, HTTP/1.1.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::{BodyBuf, HttpRequest, HttpResponse, SendFuture, Transport};
use crate::error::{ConfigError, TransportError};

type Pooled = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// hyper 1 with a keep-alive connection pool, TLS by rustls.
///
/// Roots are the bundled Mozilla set (webpki-roots), or the operating
/// system's with the `native-roots` feature. Cloning shares the pool.
#[derive(Clone)]
pub struct HyperTransport {
    client: Pooled,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport").finish_non_exhaustive()
    }
}

impl HyperTransport {
    /// A transport that gives up connecting after `connect_timeout`.
    ///
    /// Fails only when no TLS roots can be loaded (`native-roots`).
    pub fn new(connect_timeout: Duration) -> Result<Self, ConfigError> {
        let mut http = HttpConnector::new();
        // The connector must pass https:// on to the TLS layer.
        http.enforce_http(false);
        http.set_connect_timeout(Some(connect_timeout));
        // Requests are small and latency-bound: don't let Nagle hold them.
        http.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config()?)
            // Plain http reaches only loopback: the client checks base URLs.
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            // Without a timer, idle connections would never be closed.
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(https);
        Ok(Self { client })
    }

    async fn exchange(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
        let limit = req.reply_limit;
        let mut outgoing = http::Request::new(Full::new(req.body));
        *outgoing.method_mut() = http::Method::POST;
        *outgoing.uri_mut() = req.uri;
        *outgoing.headers_mut() = req.headers;
        let resp = self.client.request(outgoing).await.map_err(|e| classify(&e))?;
        let status = resp.status().as_u16();
        let mut body = resp.into_body();
        let mut buf = BodyBuf::default();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| TransportError::other(TransportError::chain(&e)))?;
            if let Ok(data) = frame.into_data() {
                if !buf.push(data, limit) {
                    // Dropping the body closes the connection instead of
                    // reading the rest of an oversized reply.
                    break;
                }
            }
        }
        Ok(buf.finish(status))
    }
}

/// Connect timeouts count as timeouts, as the request never got out.
fn classify(e: &hyper_util::client::legacy::Error) -> TransportError {
    let message = TransportError::chain(e);
    if !e.is_connect() {
        return TransportError::other(message);
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut) {
            return TransportError::timeout();
        }
        source = s.source();
    }
    TransportError::connect(message)
}

fn tls_config() -> Result<rustls::ClientConfig, ConfigError> {
    let tls_err = |e: &dyn fmt::Display| ConfigError::HttpClient(format!("TLS setup: {e}"));
    // An explicit provider, so that another crate enabling a second rustls
    // provider cannot make rustls's default choice ambiguous.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(&e))?;
    let roots = root_store().map_err(|e| tls_err(&e))?;
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

#[cfg(not(feature = "native-roots"))]
fn root_store() -> Result<rustls::RootCertStore, String> {
    Ok(rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() })
}

#[cfg(feature = "native-roots")]
fn root_store() -> Result<rustls::RootCertStore, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    // Some unreadable or odd certificates are normal on real systems; only
    // finding none at all is an error.
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found.errors.first().map_or_else(|| "none found".to_owned(), ToString::to_string);
        return Err(format!("no native root certificates: {why}"));
    }
    Ok(roots)
}

impl Transport for HyperTransport {
    fn send(&self, req: HttpRequest) -> SendFuture<'_> {
        Box::pin(async move {
            let timeout = req.timeout;
            match tokio::time::timeout(timeout, self.exchange(req)).await {
                Ok(result) => result,
                Err(_elapsed) => Err(TransportError::timeout()),
            }
        })
    }
}
