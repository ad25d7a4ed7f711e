//! The HTTP client: signing, throttling, sending, retrying and decoding.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tracing::Instrument;

use crate::endpoint::{
    ApiErrorKind, ApiRequest, EndpointMeta, ErrorRole, RateLimit, RateUnits, ValidationError,
};
use crate::error::{ConfigError, Error, TransportError};
use crate::query;
use crate::rate_limit::{LocalRateLimiter, RateLimiter};
use crate::region::Region;
use crate::reply;
use crate::retry::{should_retry, Backoff};
use crate::transport::{HttpRequest, HyperTransport, Transport, MAX_REPLY_BYTES};
use crate::usersig::UserSigKey;

/// A configured connection to one app's REST API.
///
/// Cloning is cheap and clones share the connection pool, the cached UserSig
/// and the rate limiter, so one client per app should serve the whole program.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Arc<dyn Transport>,
    base_url: String,
    identifier: String,
    key: UserSigKey,
    sig: SigCache,
    timeout: Duration,
    max_attempts: u32,
    backoff: Backoff,
    limiter: Option<Arc<dyn RateLimiter>>,
    /// Raised quotas by path (without a leading `/`).
    limits: HashMap<String, RateLimit>,
    /// How long frequency errors are retried before one reaches the caller.
    deadline: Duration,
    /// Pace per endpoint after frequency errors: the share of the limit used (1.0 normally).
    pace: Mutex<HashMap<&'static str, f64>>,
    /// Whether `pace` has any entry, so calls need not lock it otherwise.
    slowed: AtomicBool,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("base_url", &i.base_url)
            .field("sdkappid", &i.key.sdkappid())
            .field("identifier", &i.identifier)
            .field("secret_key", &"***")
            .field("timeout", &i.timeout)
            .field("max_attempts", &i.max_attempts)
            .field("rate_limiter", &i.limiter)
            .field("limits", &i.limits)
            .field("deadline", &i.deadline)
            .finish_non_exhaustive()
    }
}

/// Settings for a [`Client`]; created by [`Client::builder`].
#[derive(Clone)]
pub struct ClientBuilder {
    sdkappid: u64,
    identifier: String,
    secret_key: String,
    region: Region,
    base_url: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    max_attempts: u32,
    backoff: (Duration, Duration),
    rate_limit: bool,
    rate_limiter: Option<Arc<dyn RateLimiter>>,
    limits: HashMap<String, RateLimit>,
    deadline: Duration,
    usersig_ttl: Duration,
    transport: Option<Arc<dyn Transport>>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("sdkappid", &self.sdkappid)
            .field("identifier", &self.identifier)
            .field("secret_key", &"***")
            .field("region", &self.region)
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_attempts", &self.max_attempts)
            .field("backoff", &self.backoff)
            .field("rate_limit", &self.rate_limit)
            .field("rate_limiter", &self.rate_limiter)
            .field("limits", &self.limits)
            .field("deadline", &self.deadline)
            .field("usersig_ttl", &self.usersig_ttl)
            .field("custom_transport", &self.transport.is_some())
            .finish()
    }
}

impl ClientBuilder {
    /// Sends to `region`'s host (default: China).
    pub fn region(mut self, region: Region) -> Self {
        self.region = region;
        self
    }

    /// Sends to an explicit base URL instead of a region's host.
    ///
    /// `https://` is accepted for any host; plain `http://` only for loopback
    /// hosts, because the query string carries the UserSig.
    pub fn base_url(mut self, url: &str) -> Self {
        self.base_url = Some(url.to_owned());
        self
    }

    /// Total time allowed for one attempt (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Time allowed to establish a connection, within the timeout (default 5 s).
    ///
    /// Applies to the default transport only.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Attempts per call for idempotent endpoints, counting the first (default 3).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// First and largest delay between attempts (default 100 ms and 2 s).
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff = (base, max);
        self
    }

    /// Whether calls wait to stay within documented rate limits (default on).
    pub fn rate_limit(mut self, enabled: bool) -> Self {
        self.rate_limit = enabled;
        self
    }

    /// Where call budgets are kept (default: in this process). A
    /// `RedisRateLimiter` (feature `redis`) shares them between processes
    /// that use the same app.
    pub fn rate_limiter(mut self, limiter: impl RateLimiter) -> Self {
        self.rate_limiter = Some(Arc::new(limiter));
        self
    }

    /// Uses `limit` for `path` instead of the documented quota (quotas are
    /// raisable on paid plans). It replaces the limit a raise applies to: the
    /// recipients per minute of `batchsendmsg`, the call rate of others.
    pub fn limit(mut self, path: &str, limit: RateLimit) -> Self {
        let path = path.trim_start_matches('/');
        self.limits.insert(path.to_owned(), limit);
        self
    }

    /// How long a call is retried after frequency errors (60007, 90057,
    /// 10023 and the other codes the specs mark as rate-limited) before the
    /// error reaches the caller (default 60 s). A rejected call did nothing,
    /// so this applies to every endpoint.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Lifetime of the admin UserSigs the client signs for itself (default 24 h).
    pub fn usersig_ttl(mut self, ttl: Duration) -> Self {
        self.usersig_ttl = ttl;
        self
    }

    /// Sends through `transport` instead of the default [`HyperTransport`]
    /// (e.g. a [`ScriptedTransport`](crate::transport::ScriptedTransport) in
    /// tests); the timeout still applies per request.
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// Uses a caller-made reqwest client (proxies, custom roots); timeouts
    /// still apply per request.
    #[cfg(feature = "reqwest")]
    pub fn http_client(self, client: reqwest::Client) -> Self {
        self.transport(crate::transport::ReqwestTransport::new(client))
    }

    /// Checks the settings and creates the client.
    pub fn build(self) -> Result<Client, ConfigError> {
        let setting = |setting, reason: &str| ConfigError::Setting { setting, reason: reason.into() };
        if self.sdkappid == 0 {
            return Err(setting("sdkappid", "must not be 0"));
        }
        if self.identifier.is_empty() {
            return Err(setting("identifier", "must not be empty"));
        }
        if self.secret_key.is_empty() {
            return Err(setting("secret_key", "must not be empty"));
        }
        if self.max_attempts == 0 {
            return Err(setting("max_attempts", "must be at least 1"));
        }
        if self.timeout.is_zero() {
            return Err(setting("timeout", "must be positive"));
        }
        if self.usersig_ttl < Duration::from_secs(60) {
            return Err(setting("usersig_ttl", "must be at least 60 seconds"));
        }
        let base_url = match &self.base_url {
            Some(url) => check_base_url(url)?,
            None => format!("https://{}", self.region.host()),
        };
        if self.connect_timeout.is_zero() {
            return Err(setting("connect_timeout", "must be positive"));
        }
        if self.limits.values().any(|l| l.calls == 0 || l.per.is_zero()) {
            return Err(setting("limit", "a rate must be at least 1 per period"));
        }
        let transport = match self.transport {
            Some(t) => t,
            None => Arc::new(HyperTransport::new(self.connect_timeout.min(self.timeout))?),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                base_url,
                key: UserSigKey::new(self.sdkappid, self.secret_key),
                sig: SigCache::new(self.usersig_ttl),
                identifier: self.identifier,
                timeout: self.timeout,
                max_attempts: self.max_attempts,
                backoff: Backoff::new(self.backoff.0, self.backoff.1),
                limiter: match (self.rate_limit, self.rate_limiter) {
                    (false, _) => None,
                    (true, Some(l)) => Some(l),
                    (true, None) => Some(Arc::new(LocalRateLimiter::new())),
                },
                limits: self.limits,
                deadline: self.deadline,
                pace: Mutex::new(HashMap::new()),
                slowed: AtomicBool::new(false),
            }),
        })
    }
}

/// Validates a base URL and returns it without a trailing slash.
fn check_base_url(url: &str) -> Result<String, ConfigError> {
    let err = |reason: &str| ConfigError::BaseUrl { url: url.to_owned(), reason: reason.to_owned() };
    let parsed: http::Uri = url.parse().map_err(|e: http::uri::InvalidUri| err(&e.to_string()))?;
    let scheme = parsed.scheme_str().ok_or_else(|| err("scheme must be https (or http for loopback)"))?;
    let authority = parsed.authority().ok_or_else(|| err("no host"))?;
    let host = authority.host();
    if host.is_empty() {
        return Err(err("no host"));
    }
    match scheme {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => return Err(err("plain http is only allowed for loopback hosts; use https")),
        _ => return Err(err("scheme must be https (or http for loopback)")),
    }
    // `http::Uri` drops a fragment silently, so look at the text too.
    if parsed.query().is_some() || url.contains('#') {
        return Err(err("must not have a query or fragment"));
    }
    if authority.as_str().contains('@') {
        return Err(err("must not contain credentials"));
    }
    let path = parsed.path().trim_end_matches('/');
    Ok(format!("{scheme}://{authority}{path}"))
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
        || host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .and_then(|h| h.parse::<Ipv6Addr>().ok())
            .is_some_and(|ip| ip.is_loopback())
}

/// The admin UserSig, signed once and reused until close to expiry.
struct SigCache {
    ttl: Duration,
    state: RwLock<Option<CachedSig>>,
}

#[derive(Clone)]
struct CachedSig {
    /// The sig itself (requests use `query`; the benchmarks read it).
    #[cfg_attr(not(feature = "test-util"), allow(dead_code))]
    sig: Arc<str>,
    /// `sdkappid=..&identifier=..&usersig=..`, percent-encoded once per sig
    /// rather than per request (encoding a sig byte by byte cost about 1 µs).
    query: Arc<str>,
    renew_at: Instant,
    /// Lets concurrent callers that all saw one sig rejected renew it only once.
    generation: u64,
}

impl SigCache {
    fn new(ttl: Duration) -> Self {
        Self { ttl, state: RwLock::new(None) }
    }

    fn current(&self, key: &UserSigKey, identifier: &str) -> CachedSig {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = state.as_ref().filter(|c| Instant::now() < c.renew_at) {
            return c.clone();
        }
        drop(state);
        self.renew(key, identifier, None)
    }

    /// Signs a new sig unless another caller already replaced the `rejected` (or expired) one.
    fn renew(&self, key: &UserSigKey, identifier: &str, rejected: Option<u64>) -> CachedSig {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = state.as_ref() {
            let still_good = match rejected {
                Some(generation) => c.generation != generation,
                None => Instant::now() < c.renew_at,
            };
            if still_good {
                return c.clone();
            }
        }
        // Renew with a tenth of the lifetime (at most an hour) left, so a sig
        // is never sent just before it expires.
        let margin = (self.ttl / 10).min(Duration::from_secs(3600));
        let sig = key.gen(identifier, self.ttl);
        let mut query = format!("sdkappid={}&identifier=", key.sdkappid());
        query::encode_into(&mut query, identifier);
        query.push_str("&usersig=");
        query::encode_into(&mut query, &sig);
        let fresh = CachedSig {
            sig: sig.into(),
            query: query.into(),
            renew_at: Instant::now() + (self.ttl - margin),
            generation: state.as_ref().map_or(0, |c| c.generation + 1),
        };
        *state = Some(fresh.clone());
        fresh
    }
}

impl Client {
    /// Starts configuring a client for app `sdkappid`, acting as admin account
    /// `identifier` and signing with `secret_key`.
    pub fn builder(
        sdkappid: u64,
        identifier: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> ClientBuilder {
        ClientBuilder {
            sdkappid,
            identifier: identifier.into(),
            secret_key: secret_key.into(),
            region: Region::China,
            base_url: None,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_attempts: 3,
            backoff: (Duration::from_millis(100), Duration::from_secs(2)),
            rate_limit: true,
            rate_limiter: None,
            limits: HashMap::new(),
            deadline: Duration::from_secs(60),
            usersig_ttl: Duration::from_secs(24 * 3600),
            transport: None,
        }
    }

    /// The URL requests go to, without the endpoint path.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The app the client acts on.
    pub fn sdkappid(&self) -> u64 {
        self.inner.key.sdkappid()
    }

    /// The admin account the client acts as.
    pub fn identifier(&self) -> &str {
        &self.inner.identifier
    }

    /// The raised quota set for `path` with [`ClientBuilder::limit`], if any.
    pub fn raised_limit(&self, path: &str) -> Option<RateLimit> {
        self.inner.limits.get(path.trim_start_matches('/')).copied()
    }

    /// The admin UserSig as fetched for each request (from the cache unless it is due for renewal).
    #[cfg(feature = "test-util")]
    pub(crate) fn cached_sig(&self) -> Arc<str> {
        self.inner.sig.current(&self.inner.key, &self.inner.identifier).sig
    }

    /// Validates, sends and decodes one request.
    ///
    /// Idempotent endpoints are retried on transport errors, HTTP 5xx and
    /// retryable error codes; a rejected UserSig is renewed and the request
    /// resent once for any endpoint, since the server did not process it.
    pub async fn call<R: ApiRequest>(&self, req: &R) -> Result<R::Response, Error<R::Error>> {
        let body = encode_request(req)?;
        self.call_encoded::<R>(body, units_of(req)).await
    }

    /// Sends a body already validated and serialized as `R`, as [`call`](Self::call) does.
    ///
    /// For the dynamic path, which parses and validates the caller's JSON
    /// itself and must not do it twice.
    pub(crate) async fn call_encoded<R: ApiRequest>(
        &self,
        body: Vec<u8>,
        units: Vec<RateUnits>,
    ) -> Result<R::Response, Error<R::Error>> {
        let span = tracing::info_span!("tim.call", path = R::META.path, attempt = tracing::field::Empty);
        self.send_with_retries::<R>(Bytes::from(body), &units, span.clone()).instrument(span).await
    }

    /// Waits until a call to `meta` with `units` fits every limit it counts against.
    async fn wait_for_budget(&self, meta: &'static EndpointMeta, units: &[RateUnits]) {
        let inner = &*self.inner;
        let Some(limiter) = &inner.limiter else { return };
        // The common case (nothing slowed down, no raised quota) takes no lock and no lookup.
        let pace = if inner.slowed.load(Ordering::Relaxed) {
            inner.pace.lock().unwrap_or_else(PoisonError::into_inner).get(meta.path).copied()
        } else {
            None
        };
        let raised = if inner.limits.is_empty() { None } else { inner.limits.get(meta.path).copied() };
        let mut wait = Duration::ZERO;
        for applied in meta.applied_limits(raised) {
            let mut limit = applied.limit;
            if let Some(pace) = pace {
                // Slowed down after frequency errors: a share of the limit.
                limit.calls = ((f64::from(limit.calls) * pace) as u32).max(1);
            }
            let (cost, key) = match applied.index.checked_sub(1).and_then(|i| units.get(i)) {
                Some(u) => (u.cost, u.key.as_deref()),
                None => (1, None),
            };
            // A part costing more than the bucket holds could never be admitted: count it as full.
            let cost = cost.min(limit.calls);
            // The main limit's bucket is the path itself: no string is made per call.
            let bucket: Cow<'static, str> = match (applied.index, key) {
                (0, None) => Cow::Borrowed(meta.path),
                (i, None) => Cow::Owned(format!("{}#{i}", meta.path)),
                (i, Some(key)) => Cow::Owned(format!("{}#{i}:{key}", meta.path)),
            };
            let this = match limiter.reserve_now(&bucket, limit, cost) {
                Some(w) => w,
                None => limiter.reserve(&bucket, limit, cost).await,
            };
            wait = wait.max(this);
        }
        if !wait.is_zero() {
            tracing::debug!(path = meta.path, wait_ms = wait.as_millis() as u64, "rate limit: waiting");
            tokio::time::sleep(wait).await;
        }
    }

    /// After a frequency error: use a smaller share of the limit for a while.
    fn slow_down(&self, path: &'static str) {
        let mut pace = self.inner.pace.lock().unwrap_or_else(PoisonError::into_inner);
        let p = pace.entry(path).or_insert(1.0);
        *p = (*p * 0.8).max(0.25);
        self.inner.slowed.store(true, Ordering::Relaxed);
        tracing::info!(path, pace = *p, "frequency error: slowing down");
    }

    /// After a success: recover the pace step by step.
    fn speed_up(&self, path: &'static str) {
        if !self.inner.slowed.load(Ordering::Relaxed) {
            return;
        }
        let mut pace = self.inner.pace.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = pace.get_mut(path) {
            *p *= 1.02;
            if *p >= 1.0 {
                pace.remove(path);
            }
        }
        if pace.is_empty() {
            self.inner.slowed.store(false, Ordering::Relaxed);
        }
    }

    async fn send_with_retries<R: ApiRequest>(
        &self,
        body: Bytes,
        units: &[RateUnits],
        span: tracing::Span,
    ) -> Result<R::Response, Error<R::Error>> {
        let inner = &*self.inner;
        let meta = R::META;
        let started = Instant::now();
        let mut attempt = 0u32;
        let mut sends = 0u32;
        let mut throttled = 0u32;
        let mut sig_renewed = false;
        loop {
            attempt += 1;
            sends += 1;
            span.record("attempt", sends);
            self.wait_for_budget(meta, units).await;
            let sig = inner.sig.current(&inner.key, &inner.identifier);
            let result = self.send_once::<R>(&body, &sig.query).await;
            let err = match result {
                Ok(resp) => {
                    tracing::debug!(attempt = sends, "ok");
                    self.speed_up(meta.path);
                    return Ok(resp);
                }
                Err(Error::Timeout { .. }) => Error::Timeout { attempts: sends, elapsed: started.elapsed() },
                Err(e) => e,
            };
            tracing::debug!(attempt = sends, error = %err, "attempt failed");
            if let Error::Api(api) = &err {
                let role = api.role();
                if !sig_renewed && role.is_some_and(ErrorRole::is_usersig_rejection) {
                    sig_renewed = true;
                    attempt -= 1;
                    inner.sig.renew(&inner.key, &inner.identifier, Some(sig.generation));
                    continue;
                }
                if role == Some(ErrorRole::RateLimited) {
                    // Refused for frequency: nothing was done, so any endpoint may
                    // be sent again, until the deadline.
                    throttled += 1;
                    attempt -= 1;
                    self.slow_down(meta.path);
                    let delay = inner.backoff.delay(throttled.min(8)).max(Duration::from_millis(50));
                    if started.elapsed() + delay > inner.deadline {
                        return Err(err);
                    }
                    tokio::time::sleep(delay).await;
                    continue;
                }
            }
            if !should_retry(meta.idempotent, err.is_retryable(), attempt, inner.max_attempts) {
                return Err(err);
            }
            tokio::time::sleep(inner.backoff.delay(attempt)).await;
        }
    }

    /// `query` is the cached sig's encoded query string (see [`CachedSig`]).
    async fn send_once<R: ApiRequest>(
        &self,
        body: &Bytes,
        query: &str,
    ) -> Result<R::Response, Error<R::Error>> {
        let inner = &*self.inner;
        let uri = self.uri(R::META.path, query)?;
        let mut headers = http::HeaderMap::with_capacity(2);
        headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
        let req = HttpRequest {
            uri,
            headers,
            body: body.clone(),
            timeout: inner.timeout,
            reply_limit: MAX_REPLY_BYTES,
        };
        let resp = match inner.transport.send(req).await {
            Ok(resp) => resp,
            Err(e) if e.is_timeout() => return Err(Error::Timeout { attempts: 1, elapsed: inner.timeout }),
            // A transport should keep the URL out of its errors; make sure.
            Err(e) => return Err(Error::Transport(e.redact(query))),
        };
        let (status, mut bytes) = (resp.status, resp.body);
        // Enforced here too, in case a transport ignores the limit.
        let truncated = resp.truncated || bytes.len() > MAX_REPLY_BYTES;
        if truncated && (200..300).contains(&status) {
            bytes.truncate(1024);
            return Err(Error::Decode {
                path: ".".into(),
                message: format!("reply body exceeds {MAX_REPLY_BYTES} bytes"),
                body_snippet: crate::error::snippet(&bytes),
            });
        }
        reply::decode(status, &bytes)
    }

    fn uri<E>(&self, path: &str, query: &str) -> Result<http::Uri, Error<E>> {
        let inner = &*self.inner;
        let mut url = String::with_capacity(inner.base_url.len() + path.len() + query.len() + 48);
        url.push_str(&inner.base_url);
        url.push('/');
        url.push_str(path);
        url.push('?');
        url.push_str(query);
        let _ = write!(url, "&random={}&contenttype=json", fastrand::u32(..));
        // Base URL, path and encoded query are all checked or made here, so
        // this does not fail; if it did, the message must not show the URL.
        http::Uri::try_from(url).map_err(|_| {
            Error::Transport(TransportError::other(format!("cannot form a request URI for {path}")))
        })
    }
}

/// What `req` counts as against each of its endpoint's extra limits, in order.
pub(crate) fn units_of<R: ApiRequest>(req: &R) -> Vec<RateUnits> {
    R::META.rate_limits.iter().map(|l| req.rate_units(l)).collect()
}

/// Validates `req` and serializes it into the request body.
pub(crate) fn encode_request<R: ApiRequest>(req: &R) -> Result<Vec<u8>, Error<R::Error>> {
    req.validate().map_err(Error::InvalidRequest)?;
    serde_json::to_vec(req).map_err(|e| Error::InvalidRequest(ValidationError::new("", e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    /// A client on a transport answering with `replies`.
    fn client(replies: Vec<crate::transport::HttpResponse>) -> (crate::transport::ScriptedTransport, Client) {
        let (t, builder) = scripted(replies);
        (t, builder.build().unwrap())
    }

    #[tokio::test]
    async fn sends_query_params_and_exact_body() {
        let (t, c) = client(vec![ok_body(5)]);
        let resp = c.call(&Echo::new("a\"b")).await.unwrap();
        assert_eq!(resp.value, 5);
        c.call(&Echo::new("x")).await.unwrap();
        let reqs = t.requests();
        assert_eq!(reqs.len(), 2);
        let r = &reqs[0];
        assert_eq!(r.path, "/v4/test/echo");
        assert_eq!(&r.body[..], br#"{"Name":"a\"b"}"#);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.param("sdkappid"), Some("1400000001"));
        assert_eq!(r.param("identifier"), Some("admin user"));
        assert_eq!(r.param("contenttype"), Some("json"));
        let sig = r.param("usersig").unwrap();
        let key = UserSigKey::new(APPID, SECRET);
        let v = key.verify("admin user", sig).unwrap();
        assert_eq!(v.expire, 86_400);
        let randoms: Vec<u32> =
            reqs.iter().map(|r| r.param("random").unwrap().parse::<u32>().unwrap()).collect();
        assert_ne!(randoms[0], randoms[1]);
        // The sig is cached, not re-signed per request.
        assert_eq!(reqs[1].param("usersig").unwrap(), sig);
    }

    #[tokio::test]
    async fn http_502_retried_only_when_idempotent() {
        let (t, c) = client(vec![reply(502, "<html>Bad Gateway</html>"), ok_body(1)]);
        assert_eq!(c.call(&Echo::new("x")).await.unwrap().value, 1);
        assert_eq!(t.requests().len(), 2);

        let (t, c) = client(vec![reply(502, "<html>Bad Gateway</html>"), ok_body(1)]);
        let err = c.call(&Send::new("x")).await.unwrap_err();
        assert!(matches!(err, Error::Http { status: 502, .. }), "{err:?}");
        assert!(err.is_retryable());
        assert_eq!(t.requests().len(), 1);
    }

    #[tokio::test]
    async fn gives_up_after_max_attempts() {
        let (t, c) = client(vec![reply(503, "")]);
        assert!(matches!(c.call(&Echo::new("x")).await, Err(Error::Http { status: 503, .. })));
        assert_eq!(t.requests().len(), 3);
    }

    #[tokio::test]
    async fn transport_failures_retried_only_when_idempotent() {
        let (t, c) = client(vec![]);
        t.push_error(TransportError::other("connection reset"));
        t.push(ok_body(4));
        assert_eq!(c.call(&Echo::new("x")).await.unwrap().value, 4);
        assert_eq!(t.requests().len(), 2);

        let (t, c) = client(vec![]);
        t.push_error(TransportError::timeout());
        t.push(ok_body(4));
        assert!(matches!(c.call(&Send::new("x")).await, Err(Error::Timeout { attempts: 1, .. })));
        assert_eq!(t.requests().len(), 1);
    }

    #[tokio::test]
    async fn frequency_errors_are_retried_for_any_endpoint_until_the_deadline() {
        // Not idempotent, yet a call refused for frequency did nothing: sent again.
        let (t, c) = client(vec![err_body(60007), err_body(60007), ok_body(3)]);
        assert_eq!(c.call(&Send::new("x")).await.unwrap().value, 3);
        assert_eq!(t.requests().len(), 3);
        // The pace slowed down, then recovers with successes.
        assert!(c.inner.pace.lock().unwrap().get("v4/test/send").is_some_and(|p| *p < 1.0));

        let (t, builder) = scripted(vec![err_body(60007)]);
        let c = builder.deadline(Duration::ZERO).build().unwrap();
        let err = c.call(&Send::new("x")).await.unwrap_err();
        assert!(matches!(&err, Error::Api(e) if e.code() == 60007), "{err:?}");
        assert_eq!(t.requests().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_raised_limit_replaces_the_documented_one() {
        let (t, builder) = scripted(vec![ok_body(1)]);
        let c = builder.limit("/v4/test/echo", RateLimit::per_second(2)).build().unwrap();
        let start = tokio::time::Instant::now();
        for _ in 0..5 {
            c.call(&Echo::new("x")).await.unwrap();
        }
        // 2/s: one at once, then one every half second.
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(1990) && took < Duration::from_millis(2100), "{took:?}");
        assert_eq!(t.requests().len(), 5);
        assert!(Client::builder(APPID, "a", SECRET).limit("v4/x", RateLimit::per_second(0)).build().is_err());
    }

    #[tokio::test]
    async fn retryable_code_retried_other_codes_returned() {
        let (t, c) = client(vec![err_body(60007), ok_body(2)]);
        assert_eq!(c.call(&Echo::new("x")).await.unwrap().value, 2);
        assert_eq!(t.requests().len(), 2);

        let (t, c) = client(vec![err_body(90001), ok_body(2)]);
        let err = c.call(&Echo::new("x")).await.unwrap_err();
        match &err {
            Error::Api(e) => assert_eq!((e.code, e.info.as_str()), (90001, "err 90001")),
            other => panic!("{other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains("90001") && text.contains("JSON parsing failed"), "{text}");
        assert_eq!(t.requests().len(), 1);
    }

    #[tokio::test]
    async fn usersig_error_resends_once() {
        for path_is_idempotent in [true, false] {
            let (t, c) = client(vec![err_body(70001), ok_body(3)]);
            let r = if path_is_idempotent {
                c.call(&Echo::new("x")).await
            } else {
                c.call(&Send::new("x")).await
            };
            assert_eq!(r.unwrap().value, 3);
            let reqs = t.requests();
            assert_eq!(reqs.len(), 2);
            let key = UserSigKey::new(APPID, SECRET);
            for r in &reqs {
                key.verify("admin user", r.param("usersig").unwrap()).unwrap();
            }
            assert_eq!(c.inner.sig.current(&c.inner.key, "admin user").generation, 1);
        }
        // A second rejection is returned, not looped on.
        let (t, c) = client(vec![err_body(70009)]);
        let err = c.call(&Send::new("x")).await.unwrap_err();
        assert!(matches!(err, Error::Api(ref e) if e.code == 70009));
        assert_eq!(t.requests().len(), 2);
    }

    #[tokio::test]
    async fn bad_bodies_become_errors() {
        let (_, c) = client(vec![reply(200, "<html><body>502 Bad Gateway</body></html>")]);
        let err = c.call(&Echo::new("x")).await.unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err:?}");

        let (_, c) = client(vec![reply(200, r#"{"ActionStatus":"OK","ErrorCode":0,"Val"#)]);
        let err = c.call(&Echo::new("x")).await.unwrap_err();
        match err {
            Error::Decode { message, .. } => assert!(message.contains("EOF"), "{message}"),
            other => panic!("{other:?}"),
        }

        let (_, c) = client(vec![reply(200, r#"{"ActionStatus":"OK","ErrorCode":0,"Value":"seven"}"#)]);
        let err = c.call(&Echo::new("x")).await.unwrap_err();
        match &err {
            Error::Decode { path, body_snippet, .. } => {
                assert_eq!(path, "Value");
                assert!(body_snippet.contains("seven"));
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("`Value`"));
    }

    #[tokio::test]
    async fn oversized_reply_is_a_decode_error() {
        let big = format!(
            r#"{{"ActionStatus":"OK","ErrorCode":0,"Value":1,"Tags":["{}"]}}"#,
            "x".repeat(MAX_REPLY_BYTES)
        );
        let (t, c) = client(vec![reply(200, big)]);
        let err = c.call(&Echo::new("x")).await.unwrap_err();
        match &err {
            Error::Decode { path, message, body_snippet } => {
                assert_eq!(path, ".");
                assert!(message.contains("exceeds"), "{message}");
                assert!(body_snippet.len() < 1100);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(t.requests().len(), 1);
    }

    #[tokio::test]
    async fn invalid_request_sends_nothing() {
        let (t, c) = client(vec![ok_body(1)]);
        let mut req = Echo::new("x");
        req.items.push(Item { msg_key: String::new() });
        let err = c.call(&req).await.unwrap_err();
        match err {
            Error::InvalidRequest(v) => assert_eq!(v.path, "Items[0].MsgKey"),
            other => panic!("{other:?}"),
        }
        assert!(t.requests().is_empty());
    }

    #[tokio::test]
    async fn connection_refused_is_transport_error_without_url() {
        // Bind then drop to get a loopback port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let c = Client::builder(APPID, "admin", SECRET)
            .base_url(&format!("http://127.0.0.1:{port}"))
            .max_attempts(1)
            .build()
            .unwrap();
        let err = c.call(&Echo::new("x")).await.unwrap_err();
        match &err {
            Error::Transport(t) => assert!(t.is_connect(), "{t}"),
            other => panic!("{other:?}"),
        }
        let text = format!("{err} {err:?}");
        assert!(!text.contains("usersig") && !text.contains(SECRET), "{text}");
    }

    #[tokio::test]
    async fn transport_errors_never_show_the_query() {
        let (t, c) = client(vec![]);
        let query = c.inner.sig.current(&c.inner.key, "admin user").query;
        t.push_error(TransportError::other(format!("failed for http://h/v4/test/echo?{query}&random=1")));
        let err = c.call(&Send::new("x")).await.unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("usersig") && text.contains("***"), "{text}");
    }

    #[tokio::test]
    async fn rate_limited_calls_still_succeed() {
        let (t, b) = scripted(vec![ok_body(1)]);
        let c = b.rate_limit(true).build().unwrap();
        for _ in 0..5 {
            c.call(&Echo::new("x")).await.unwrap();
        }
        assert_eq!(t.requests().len(), 5);
    }

    #[test]
    fn base_url_rules() {
        let build = |url: &str| Client::builder(APPID, "admin", SECRET).base_url(url).build();
        for bad in [
            "http://example.com",
            "http://10.0.0.1:80",
            "ftp://127.0.0.1",
            "not a url",
            "https://x/?a=b",
            "https://u:p@x",
        ] {
            assert!(matches!(build(bad), Err(ConfigError::BaseUrl { .. })), "{bad}");
        }
        let err = build("http://example.com").unwrap_err().to_string();
        assert!(err.contains("http://example.com") && err.contains("loopback"), "{err}");
        for (good, expect) in [
            ("http://127.0.0.1:1", "http://127.0.0.1:1"),
            ("http://127.9.9.9:8080/", "http://127.9.9.9:8080"),
            ("http://localhost:3000/prefix/", "http://localhost:3000/prefix"),
            ("http://[::1]:8080", "http://[::1]:8080"),
            ("https://x", "https://x"),
        ] {
            assert_eq!(build(good).unwrap().base_url(), expect);
        }
        let c = Client::builder(APPID, "admin", SECRET).region(Region::Singapore).build().unwrap();
        assert_eq!(c.base_url(), format!("https://{}", Region::Singapore.host()));
        assert_eq!(
            Client::builder(APPID, "a", SECRET).build().unwrap().base_url(),
            "https://console.tim.qq.com"
        );
    }

    #[test]
    fn settings_checked() {
        let b = || Client::builder(APPID, "admin", SECRET);
        assert!(b().max_attempts(0).build().is_err());
        assert!(b().usersig_ttl(Duration::from_secs(1)).build().is_err());
        assert!(b().timeout(Duration::ZERO).build().is_err());
        assert!(Client::builder(0, "admin", SECRET).build().is_err());
        assert!(Client::builder(APPID, "", SECRET).build().is_err());
        assert!(Client::builder(APPID, "admin", "").build().is_err());
    }

    #[tokio::test]
    async fn debug_hides_secret_and_sig() {
        let (t, c) = client(vec![ok_body(1)]);
        c.call(&Echo::new("x")).await.unwrap();
        let sent = t.requests();
        let sig = sent[0].param("usersig").unwrap();
        let builder = Client::builder(APPID, "admin", SECRET);
        let default = Client::builder(APPID, "admin", SECRET).build().unwrap();
        for text in [
            format!("{c:?}"),
            format!("{c:#?}"),
            format!("{builder:?}"),
            format!("{default:?}"),
            format!("{t:?}"),
            format!("{:?}", sent[0]),
        ] {
            assert!(!text.contains(SECRET) && !text.contains(sig), "{text}");
        }
        for text in [format!("{c:?}"), format!("{builder:?}")] {
            assert!(text.contains("***"));
        }
    }

    #[test]
    fn sig_cache_renews_once_per_rejection() {
        let key = UserSigKey::new(APPID, SECRET);
        let cache = SigCache::new(Duration::from_secs(3600));
        let a = cache.current(&key, "admin");
        assert_eq!(cache.current(&key, "admin").generation, a.generation);
        let b = cache.renew(&key, "admin", Some(a.generation));
        assert_eq!(b.generation, a.generation + 1);
        // A second caller reporting the same stale sig gets the new one.
        assert_eq!(cache.renew(&key, "admin", Some(a.generation)).generation, b.generation);
        let renew_in = b.renew_at - Instant::now();
        assert!(renew_in > Duration::from_secs(3200) && renew_in <= Duration::from_secs(3240));
        let long = SigCache::new(Duration::from_secs(180 * 86_400));
        let renew_in = long.current(&key, "admin").renew_at - Instant::now();
        assert!(renew_in > Duration::from_secs(180 * 86_400 - 3601));
    }

    #[test]
    fn query_encoding() {
        let mut s = String::new();
        query::encode_into(&mut s, "a b/é&=*-_.~");
        assert_eq!(s, "a%20b%2F%C3%A9%26%3D*-_.~");
    }
}
