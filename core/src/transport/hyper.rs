//! The default transport: HTTP/1.1 on `hyper::client::conn` with a small
//! keep-alive pool of its own, TLS by rustls.
//!
//! Why not hyper-util's pooled client: measured on whole calls against a
//! loopback server (`bench/compare`), this pool did 1.1-1.2x the calls per
//! second with 6 fewer allocations per call. hyper-util's pool is general
//! (waits for idle connections, races a new connect against them, spawns a
//! task per response to return the connection); a client that talks to one
//! host needs none of that.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::{BodyBuf, HttpRequest, HttpResponse, SendFuture, Transport};
use crate::error::{ConfigError, TransportError};

/// Idle connections older than this are closed rather than reused: servers
/// drop idle keep-alive connections after about a minute, and a request
/// sent as the server closes would fail.
const IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// hyper 1 HTTP/1.1 with a keep-alive connection pool, TLS by rustls.
///
/// Roots are the bundled Mozilla set (webpki-roots), or the operating
/// system's with the `native-roots` feature. Cloning shares the pool.
#[derive(Clone)]
pub struct HyperTransport {
    inner: Arc<Inner>,
}

struct Inner {
    tls: tokio_rustls::TlsConnector,
    connect_timeout: Duration,
    /// One entry per scheme and host; a client talks to one.
    pools: Mutex<Vec<Pool>>,
}

struct Pool {
    https: bool,
    authority: String,
    idle: Vec<Idle>,
}

struct Idle {
    sender: SendRequest<Full<Bytes>>,
    since: Instant,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let idle: usize = self.inner.pools().iter().map(|p| p.idle.len()).sum();
        f.debug_struct("HyperTransport")
            .field("connect_timeout", &self.inner.connect_timeout)
            .field("idle_connections", &idle)
            .finish_non_exhaustive()
    }
}

impl HyperTransport {
    /// A transport that gives up connecting (TCP and TLS) after `connect_timeout`.
    ///
    /// Fails only when no TLS roots can be loaded (`native-roots`).
    pub fn new(connect_timeout: Duration) -> Result<Self, ConfigError> {
        let tls = tokio_rustls::TlsConnector::from(Arc::new(tls_config()?));
        Ok(Self { inner: Arc::new(Inner { tls, connect_timeout, pools: Mutex::new(Vec::new()) }) })
    }

    async fn exchange(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
        let HttpRequest { uri, mut headers, body, reply_limit, .. } = req;
        let parts = uri.into_parts();
        let (Some(scheme), Some(authority), Some(path)) =
            (parts.scheme, parts.authority, parts.path_and_query)
        else {
            return Err(TransportError::other("request URI is not absolute"));
        };
        let https = match scheme.as_str() {
            "https" => true,
            "http" => false,
            _ => return Err(TransportError::other("request URI scheme is neither https nor http")),
        };
        let host = http::HeaderValue::from_str(authority.as_str())
            .map_err(|_| TransportError::other("request host is not a valid header value"))?;
        headers.insert(http::header::HOST, host);
        let mut outgoing = http::Request::new(Full::new(body));
        *outgoing.method_mut() = http::Method::POST;
        // Origin form (`/path?query`), as HTTP/1.1 wants without a proxy.
        *outgoing.uri_mut() = http::Uri::from(path);
        *outgoing.headers_mut() = headers;
        loop {
            let (mut sender, reused) = match self.inner.checkout(https, authority.as_str()) {
                Some(sender) => (sender, true),
                None => (self.inner.connect(https, &authority).await?, false),
            };
            // A pooled connection may still be taking in the end of its
            // previous reply; that takes one turn of its task. An error
            // means it closed meanwhile.
            if reused && sender.ready().await.is_err() {
                continue;
            }
            let resp = match sender.try_send_request(outgoing).await {
                Ok(resp) => resp,
                Err(mut e) => match e.take_message() {
                    // A pooled connection closed before the request went out
                    // (e.g. the server timed it out): try the next one.
                    Some(req) if reused => {
                        outgoing = req;
                        continue;
                    }
                    // Not sent at all: as good as a failed connect.
                    Some(_) => return Err(TransportError::connect(TransportError::chain(e.error()))),
                    None => return Err(TransportError::other(TransportError::chain(e.error()))),
                },
            };
            let status = resp.status().as_u16();
            let mut body = resp.into_body();
            let mut buf = BodyBuf::default();
            let mut complete = true;
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| TransportError::other(TransportError::chain(&e)))?;
                if let Ok(data) = frame.into_data() {
                    if !buf.push(data, reply_limit) {
                        complete = false;
                        break;
                    }
                }
            }
            // A connection with unread body left cannot be reused; dropping
            // it closes it.
            if complete {
                self.inner.checkin(https, authority.as_str(), sender);
            }
            return Ok(buf.finish(status));
        }
    }
}

impl Inner {
    fn pools(&self) -> MutexGuard<'_, Vec<Pool>> {
        // Every update leaves the pool valid, so a panic elsewhere cannot corrupt it.
        self.pools.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The most recently used live idle connection, if any.
    fn checkout(&self, https: bool, authority: &str) -> Option<SendRequest<Full<Bytes>>> {
        let mut pools = self.pools();
        let pool = pools.iter_mut().find(|p| p.https == https && p.authority == authority)?;
        while let Some(idle) = pool.idle.pop() {
            if idle.since.elapsed() < IDLE_TIMEOUT && !idle.sender.is_closed() {
                return Some(idle.sender);
            }
        }
        None
    }

    fn checkin(&self, https: bool, authority: &str, sender: SendRequest<Full<Bytes>>) {
        let idle = Idle { sender, since: Instant::now() };
        let mut pools = self.pools();
        match pools.iter_mut().find(|p| p.https == https && p.authority == authority) {
            Some(pool) => {
                // Drop connections the server closed while they sat here,
                // so a burst's worth of dead ones does not linger.
                if pool.idle.len() >= 16 && pool.idle.len().is_power_of_two() {
                    pool.idle.retain(|i| !i.sender.is_closed() && i.since.elapsed() < IDLE_TIMEOUT);
                }
                pool.idle.push(idle);
            }
            None => pools.push(Pool { https, authority: authority.to_owned(), idle: vec![idle] }),
        }
    }

    /// Opens a connection (TCP, then TLS for https) and starts its task.
    async fn connect(
        &self,
        https: bool,
        authority: &http::uri::Authority,
    ) -> Result<SendRequest<Full<Bytes>>, TransportError> {
        let host = authority.host();
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        let connecting = async {
            let tcp = connect_tcp(host, port).await?;
            if !https {
                return handshake(Box::new(tcp)).await;
            }
            let name = rustls::pki_types::ServerName::try_from(unbracket(host).to_owned())
                .map_err(|e| TransportError::connect(format!("invalid TLS server name `{host}`: {e}")))?;
            let tls = self
                .tls
                .connect(name, tcp)
                .await
                .map_err(|e| TransportError::connect(format!("TLS handshake with {host}: {e}")))?;
            handshake(Box::new(tls)).await
        };
        match tokio::time::timeout(self.connect_timeout, connecting).await {
            Ok(result) => result,
            Err(_elapsed) => Err(TransportError::timeout()),
        }
    }
}

/// Resolves `host` and connects to the first address that answers.
async fn connect_tcp(host: &str, port: u16) -> Result<TcpStream, TransportError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((unbracket(host), port))
        .await
        .map_err(|e| TransportError::connect(format!("cannot resolve {host}: {e}")))?
        .collect();
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(tcp) => {
                // Requests are small and latency-bound: don't let Nagle hold them.
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(TransportError::connect(match last {
        Some(e) => format!("cannot connect to {host}:{port}: {e}"),
        None => format!("cannot resolve {host}: no addresses"),
    }))
}

/// A plain or TLS stream.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}

impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// Starts HTTP/1.1 on `io`; the connection runs as its own task.
///
/// Boxing the stream compiles hyper's connection code once instead of once
/// per stream type, for a dynamic call per read or write.
async fn handshake(io: Box<dyn Io>) -> Result<SendRequest<Full<Bytes>>, TransportError> {
    let (sender, conn) = http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| TransportError::connect(TransportError::chain(&e)))?;
    tokio::spawn(async move {
        // Its errors reach the request that was in flight, if any.
        let _ = conn.await;
    });
    Ok(sender)
}

/// `[::1]` → `::1`: URIs bracket IPv6 hosts, resolvers and TLS don't.
fn unbracket(host: &str) -> &str {
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
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
    let mut config = builder.with_root_certificates(roots).with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
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

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use hyper::service::service_fn;

    use super::*;

    /// A hyper server on 127.0.0.1:0 that answers by path: `/big` sends
    /// 100 bytes, `/slow` waits a second, `/close` asks to close the
    /// connection; anything else echoes the Host header, path, query and
    /// body. Returns the base URL and the count of accepted connections.
    async fn server() -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let service = service_fn(|req: http::Request<hyper::body::Incoming>| async move {
                    let head = format!(
                        "{} {} host={} type={}",
                        req.method(),
                        req.uri(),
                        req.headers().get("host").and_then(|v| v.to_str().ok()).unwrap_or(""),
                        req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or(""),
                    );
                    let path = req.uri().path().to_owned();
                    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                    let mut resp = http::Response::new(Full::new(Bytes::from(format!(
                        "{head} body={}",
                        String::from_utf8_lossy(&body)
                    ))));
                    match path.as_str() {
                        "/big" => *resp.body_mut() = Full::new(Bytes::from(vec![b'x'; 100])),
                        "/slow" => tokio::time::sleep(Duration::from_secs(1)).await,
                        "/close" => {
                            resp.headers_mut().insert("connection", http::HeaderValue::from_static("close"));
                        }
                        _ => {}
                    }
                    Ok::<_, Infallible>(resp)
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), service),
                );
            }
        });
        (base, accepted)
    }

    fn request(url: &str, body: &'static str) -> HttpRequest {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
        HttpRequest {
            uri: url.parse().unwrap(),
            headers,
            body: Bytes::from_static(body.as_bytes()),
            timeout: Duration::from_millis(500),
            reply_limit: 1000,
        }
    }

    #[tokio::test]
    async fn posts_in_origin_form_and_reuses_the_connection() {
        let (base, accepted) = server().await;
        let t = HyperTransport::new(Duration::from_secs(1)).unwrap();
        for i in 0..3 {
            let resp = t.send(request(&format!("{base}/v4/a/b?x=1&y=%20"), "{}")).await.unwrap();
            let host = base.trim_start_matches("http://");
            let text = String::from_utf8_lossy(&resp.body).into_owned();
            assert_eq!(resp.status, 200);
            assert_eq!(
                text,
                format!("POST /v4/a/b?x=1&y=%20 host={host} type=application/json body={{}}"),
                "{i}"
            );
            assert!(!resp.truncated);
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn cuts_long_replies_and_drops_their_connection() {
        let (base, accepted) = server().await;
        let t = HyperTransport::new(Duration::from_secs(1)).unwrap();
        let mut req = request(&format!("{base}/big"), "");
        req.reply_limit = 50;
        let resp = t.send(req).await.unwrap();
        assert_eq!((resp.body.len(), resp.truncated), (50, true));
        t.send(request(&format!("{base}/x"), "")).await.unwrap();
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn closed_connections_are_replaced() {
        let (base, accepted) = server().await;
        let t = HyperTransport::new(Duration::from_secs(1)).unwrap();
        t.send(request(&format!("{base}/close"), "")).await.unwrap();
        let resp = t.send(request(&format!("{base}/x"), "")).await.unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn slow_replies_time_out() {
        let (base, _) = server().await;
        let t = HyperTransport::new(Duration::from_secs(1)).unwrap();
        let err = t.send(request(&format!("{base}/slow"), "")).await.unwrap_err();
        assert!(err.is_timeout(), "{err}");
        // The timed-out connection is not reused.
        assert_eq!(t.send(request(&format!("{base}/x"), "")).await.unwrap().status, 200);
    }

    #[tokio::test]
    async fn refused_connections_are_connect_errors_without_the_query() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let t = HyperTransport::new(Duration::from_secs(1)).unwrap();
        let err =
            t.send(request(&format!("http://127.0.0.1:{port}/p?usersig=SECRET"), "")).await.unwrap_err();
        assert!(err.is_connect(), "{err}");
        assert!(!err.to_string().contains("SECRET") && !format!("{err:?}").contains("SECRET"), "{err}");
        assert!(!format!("{t:?}").contains("SECRET"));
    }
}
