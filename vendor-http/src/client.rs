//! The client core every vendor crate wraps: builder, request description, and the send loop
//! (rate limit → attempt → classify → retry).

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::Instrument;
use url::Url;

use crate::error::{ApiError, Error, Result, Sent};
use crate::limit::{GENERAL, RateLimiter, RateLimits, WindowLimiter};
use crate::redact::redact_body;
use crate::retry::{Decision, RetryConfig, RetryPolicy, parse_retry_after};

/// What one vendor crate tells the shared core about its API.
pub trait Vendor: Send + Sync + 'static {
    /// Short lowercase name used in errors, spans and limiter keys, e.g. `"zapmail"`.
    const NAME: &'static str;
    /// The production base URL (paths are appended to it).
    const DEFAULT_BASE_URL: &'static str;
    /// The client type [`ClientBuilder::build`] returns.
    type Client: From<HttpCore>;

    /// The vendor's documented rate limits (the default limiter enforces them).
    fn default_limits() -> RateLimits;

    /// The header that carries the API key, e.g. `x-auth-zapmail`.
    fn auth_header() -> HeaderName;

    /// Pull the message, code and request id out of an error body (any status).
    ///
    /// The default understands `message`, `errorMessage`, `error`, `title` and ASP.NET
    /// `errors` maps, with `errorId`/`requestId` as the id.
    fn error_details(body: &Value) -> ErrorDetails {
        ErrorDetails::from_common_fields(body)
    }

    /// The error status carried inside a 2xx body, if any (Zapmail answers HTTP 200 with
    /// `{"status": 404, ...}`; PlusVibe may with `{"status": "error"}` or `{"code": 0}`).
    /// A `Some` turns the answer into [`Error::Api`] with that status, its details read by
    /// [`error_details`](Self::error_details).
    ///
    /// It gets the raw body of **every** successful answer, before the caller decodes it,
    /// so it is on the hot path:
    /// - the default finds nothing and reads nothing, so vendors that never do this pay
    ///   nothing (the body is parsed once, by the caller's type);
    /// - a vendor that does reads only the top-level fields it needs, with
    ///   [`probe::top_level`](crate::probe::top_level) (no JSON tree, no allocation), not a
    ///   [`Value`] (a second full parse of every answer: CPU 1.21× bare reqwest in the
    ///   client overhead benchmark, against 1.08× without);
    /// - it is the only thing to implement: overriding it is enough for detection (a
    ///   separate "this vendor has errors in 2xx" flag could be forgotten, which silently
    ///   switched detection off).
    fn error_in_success(body: &[u8]) -> Option<u16> {
        let _ = body;
        None
    }
}

/// What a vendor's error body says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorDetails {
    /// Human-readable message.
    pub message: Option<String>,
    /// Machine-readable code, if the vendor has them.
    pub code: Option<String>,
    /// Error or request id.
    pub request_id: Option<String>,
}

impl ErrorDetails {
    /// Read the fields most vendors use.
    pub fn from_common_fields(body: &Value) -> Self {
        let s = |k: &str| body.get(k).and_then(value_text);
        let mut message = s("message")
            .or_else(|| s("errorMessage"))
            .or_else(|| s("error_message"))
            .or_else(|| {
                body.get("error")
                    .and_then(|e| value_text(e).or_else(|| e.get("message").and_then(value_text)))
            })
            .or_else(|| s("detail"));
        // ASP.NET validation problems: {"title": ..., "errors": {"Field": ["msg", ...]}}
        if let Some(errors) = body.get("errors").and_then(Value::as_object) {
            let joined: Vec<String> = errors
                .iter()
                .map(|(field, msgs)| {
                    let msgs: Vec<String> = match msgs {
                        Value::Array(a) => a.iter().filter_map(value_text).collect(),
                        other => value_text(other).into_iter().collect(),
                    };
                    format!("{field}: {}", msgs.join("; "))
                })
                .collect();
            if !joined.is_empty() {
                let title = s("title");
                let detail = joined.join(", ");
                message = Some(match (message, title) {
                    (Some(m), _) => format!("{m} ({detail})"),
                    (None, Some(t)) => format!("{t} ({detail})"),
                    (None, None) => detail,
                });
            }
        }
        let message = message.or_else(|| s("title"));
        ErrorDetails {
            message,
            code: s("code").or_else(|| s("errorCode")),
            request_id: s("errorId")
                .or_else(|| s("requestId"))
                .or_else(|| s("request_id"))
                .or_else(|| s("traceId")),
        }
    }
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether an operation may be sent again after it may have taken effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads, and writes that set a state (PUT, DELETE, warmup toggles).
    Idempotent,
    /// Creates and purchases: never retried once they may have reached the vendor.
    NonIdempotent,
}

/// One vendor operation to send.
///
/// Its `Debug` redacts secret-named query parameters and body fields (partner passwords,
/// account passwords), like every diagnostic in this crate.
#[derive(Clone)]
pub struct Request {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
    idempotency: Idempotency,
    bucket: &'static str,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let query: Vec<(&str, &str)> = self
            .query
            .iter()
            .map(|(k, v)| {
                let v = if crate::redact::is_secret_key(k) {
                    crate::redact::REDACTED
                } else {
                    v.as_str()
                };
                (k.as_str(), v)
            })
            .collect();
        let body = self.body.clone().map(|mut b| {
            crate::redact::redact_value(&mut b);
            b
        });
        let headers: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &query)
            .field("body", &body)
            .field("headers", &headers)
            .field("idempotency", &self.idempotency)
            .field("bucket", &self.bucket)
            .finish()
    }
}

impl Request {
    /// A request; GET, PUT and DELETE default to idempotent, POST and PATCH to not.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        let idempotency = if matches!(
            method,
            Method::GET | Method::PUT | Method::DELETE | Method::HEAD
        ) {
            Idempotency::Idempotent
        } else {
            Idempotency::NonIdempotent
        };
        Request {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            headers: Vec::new(),
            idempotency,
            bucket: GENERAL,
        }
    }
    /// `GET path`.
    pub fn get(path: impl Into<String>) -> Self {
        Request::new(Method::GET, path)
    }
    /// `POST path` (non-idempotent unless marked).
    pub fn post(path: impl Into<String>) -> Self {
        Request::new(Method::POST, path)
    }
    /// `PUT path`.
    pub fn put(path: impl Into<String>) -> Self {
        Request::new(Method::PUT, path)
    }
    /// `PATCH path` (non-idempotent unless marked).
    pub fn patch(path: impl Into<String>) -> Self {
        Request::new(Method::PATCH, path)
    }
    /// `DELETE path`.
    pub fn delete(path: impl Into<String>) -> Self {
        Request::new(Method::DELETE, path)
    }
    /// Add a query parameter.
    pub fn query(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.query.push((key.into(), value.to_string()));
        self
    }
    /// Add a query parameter if `value` is `Some`.
    pub fn query_opt(self, key: impl Into<String>, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.query(key, v),
            None => self,
        }
    }
    /// Set a JSON body.
    ///
    /// # Panics
    /// Never for the plain request structs of the vendor crates; a `Serialize` impl that
    /// fails (e.g. a map with non-string keys) is a programming error.
    pub fn json(mut self, body: &impl Serialize) -> Self {
        self.body = Some(serde_json::to_value(body).expect("request bodies serialize to JSON"));
        self
    }
    /// Set a JSON body from a value.
    pub fn json_value(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
    /// Add a header (e.g. Zapmail's `x-workspace-key`).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
    /// Mark the operation idempotent (safe to repeat after it may have taken effect).
    pub fn idempotent(mut self) -> Self {
        self.idempotency = Idempotency::Idempotent;
        self
    }
    /// Mark the operation non-idempotent (creates, purchases).
    pub fn non_idempotent(mut self) -> Self {
        self.idempotency = Idempotency::NonIdempotent;
        self
    }
    /// Count the request against an extra rate-limit bucket on top of the general one.
    pub fn bucket(mut self, bucket: &'static str) -> Self {
        self.bucket = bucket;
        self
    }
    /// The operation as `"METHOD /path"`, as errors and spans show it.
    pub fn operation(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }
    /// The path relative to the base URL.
    pub fn path(&self) -> &str {
        &self.path
    }
    /// Whether the operation is idempotent.
    pub fn idempotency(&self) -> Idempotency {
        self.idempotency
    }
    /// The JSON body, if any.
    pub fn body(&self) -> Option<&Value> {
        self.body.as_ref()
    }
}

/// A successful response, undecoded.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body bytes (may hold secrets: decode, do not log).
    pub body: Bytes,
}

/// Validating builder shared by the three clients (`zapmail::Client::builder()` returns a
/// `ClientBuilder<Zapmail>`).
pub struct ClientBuilder<V: Vendor> {
    api_key: Option<SecretString>,
    base_url: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryConfig,
    limits: Option<RateLimits>,
    limiter: Option<Arc<dyn RateLimiter>>,
    http: Option<reqwest::Client>,
    user_agent: String,
    _vendor: PhantomData<V>,
}

impl<V: Vendor> fmt::Debug for ClientBuilder<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("vendor", &V::NAME)
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl<V: Vendor> Default for ClientBuilder<V> {
    fn default() -> Self {
        ClientBuilder {
            api_key: None,
            base_url: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryConfig::default(),
            limits: None,
            limiter: None,
            http: None,
            user_agent: format!("gtm-infra-sdk/{}", env!("CARGO_PKG_VERSION")),
            _vendor: PhantomData,
        }
    }
}

impl<V: Vendor> ClientBuilder<V> {
    /// A builder with the vendor's defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// The API key (required).
    pub fn api_key(mut self, key: impl Into<SecretString>) -> Self {
        self.api_key = Some(key.into());
        self
    }
    /// Override the base URL (simulators, proxies). Validated in [`build`](Self::build).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }
    /// Timeout of each attempt (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
    /// Retry configuration (default [`RetryConfig::default`]).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }
    /// Limits for the limiter the builder creates (default: the vendor's documented limits).
    /// Ignored when [`rate_limiter`](Self::rate_limiter) is given.
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.limits = Some(limits);
        self
    }
    /// Share a limiter between clients using the same key (and with other processes, for a
    /// store-backed limiter).
    pub fn rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }
    /// Use this `reqwest::Client` (connection pool, proxy, TLS settings).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }
    /// The `User-Agent` header.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// Validate and build the core (vendor crates call this from their own wrappers).
    pub fn build_core(self) -> Result<HttpCore> {
        let vendor = V::NAME;
        let key = self.api_key.ok_or_else(|| {
            Error::config(
                vendor,
                format!(
                    "missing API key: call .api_key(..) (e.g. from {}_API_KEY)",
                    vendor.to_ascii_uppercase()
                ),
            )
        })?;
        let trimmed = key.expose_secret().trim();
        if trimmed.is_empty() {
            return Err(Error::config(vendor, "the API key is empty"));
        }
        let mut auth = HeaderValue::from_str(trimmed).map_err(|_| {
            Error::config(
                vendor,
                "the API key contains characters not allowed in an HTTP header",
            )
        })?;
        auth.set_sensitive(true);
        let raw = self.base_url.as_deref().unwrap_or(V::DEFAULT_BASE_URL);
        let base = Url::parse(raw.trim_end_matches('/'))
            .map_err(|e| Error::config(vendor, format!("invalid base URL {raw:?}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::config(
                vendor,
                format!("invalid base URL {raw:?}: must be http(s)://host[/path]"),
            ));
        }
        if self.retry.max_attempts == 0 {
            return Err(Error::config(
                vendor,
                "retry.max_attempts must be at least 1",
            ));
        }
        if self.timeout.is_zero() {
            return Err(Error::config(vendor, "the timeout must be positive"));
        }
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .user_agent(self.user_agent)
                .build()
                .map_err(|e| {
                    Error::config(
                        vendor,
                        format!("could not build the HTTP client: {}", e.without_url()),
                    )
                })?,
        };
        let limiter = self.limiter.unwrap_or_else(|| {
            Arc::new(WindowLimiter::new(
                self.limits.unwrap_or_else(V::default_limits),
            ))
        });
        Ok(HttpCore {
            inner: Arc::new(Inner {
                vendor,
                base: base.as_str().trim_end_matches('/').to_string(),
                auth_name: V::auth_header(),
                auth,
                http,
                timeout: self.timeout,
                policy: RetryPolicy::new(self.retry),
                limiter,
                error_details: V::error_details,
                error_in_success: V::error_in_success,
            }),
        })
    }

    /// Validate and build the vendor's client.
    pub fn build(self) -> Result<V::Client> {
        self.build_core().map(V::Client::from)
    }
}

struct Inner {
    vendor: &'static str,
    base: String,
    auth_name: HeaderName,
    auth: HeaderValue,
    http: reqwest::Client,
    timeout: Duration,
    policy: RetryPolicy,
    limiter: Arc<dyn RateLimiter>,
    error_details: fn(&Value) -> ErrorDetails,
    error_in_success: fn(&[u8]) -> Option<u16>,
}

/// The shared, cheap-to-clone HTTP core of a vendor client.
#[derive(Clone)]
pub struct HttpCore {
    inner: Arc<Inner>,
}

impl fmt::Debug for HttpCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpCore")
            .field("vendor", &self.inner.vendor)
            .field("base_url", &self.inner.base)
            .field("api_key", &"[REDACTED]")
            .field("timeout", &self.inner.timeout)
            .field("retry", self.inner.policy.config())
            .field("limiter", &self.inner.limiter)
            .finish()
    }
}

impl HttpCore {
    /// Vendor name.
    pub fn vendor(&self) -> &'static str {
        self.inner.vendor
    }
    /// The base URL in use.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }
    /// The limiter in use (share it with another client on the same key).
    pub fn rate_limiter(&self) -> Arc<dyn RateLimiter> {
        self.inner.limiter.clone()
    }
    /// The retry configuration in force.
    pub fn retry_config(&self) -> &RetryConfig {
        self.inner.policy.config()
    }

    /// Send and decode the JSON response body as `T`.
    ///
    /// An undecodable body counts as a failed attempt: idempotent operations are retried,
    /// others return [`Error::Decode`] (the vendor may have applied them).
    pub async fn send<T: DeserializeOwned>(&self, req: Request) -> Result<T> {
        self.send_loop(req, |core, req, raw| {
            core.decode_as(|| req.operation(), &raw)
        })
        .await
    }

    /// Send, expecting no meaningful body.
    pub async fn send_unit(&self, req: Request) -> Result<()> {
        self.send_raw(req).await.map(|_| ())
    }

    /// Decode a raw response as `T`, with the JSON path and redacted body on failure.
    /// An empty body decodes as JSON `null`.
    pub fn decode<T: DeserializeOwned>(&self, operation: &str, raw: &RawResponse) -> Result<T> {
        self.decode_as(|| operation.to_string(), raw)
    }

    /// [`decode`](Self::decode), naming the operation only if it fails.
    fn decode_as<T: DeserializeOwned>(
        &self,
        operation: impl FnOnce() -> String,
        raw: &RawResponse,
    ) -> Result<T> {
        let bytes: &[u8] = if raw.body.iter().all(u8::is_ascii_whitespace) {
            b"null"
        } else {
            &raw.body
        };
        // Without path tracking first (it allocates a string per object key); only a
        // failure is decoded again, the same way, to find where it broke.
        if let Ok(value) = T::deserialize(&mut serde_json::Deserializer::from_slice(bytes)) {
            return Ok(value);
        }
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            Error::Decode {
                vendor: self.inner.vendor,
                operation: operation(),
                status: raw.status.as_u16(),
                path,
                message: e.into_inner().to_string(),
                body: redact_body(&raw.body),
            }
        })
    }

    /// Send with rate limiting and retries; return the successful response undecoded.
    /// Error statuses (and errors inside 2xx bodies) become [`Error::Api`].
    pub async fn send_raw(&self, req: Request) -> Result<RawResponse> {
        self.send_loop(req, |_, _, raw| Ok(raw)).await
    }

    /// Send with rate limiting and retries, turning each successful response into `T` with
    /// `decode`; a decode failure is a failed attempt like any other.
    pub async fn send_with<T>(
        &self,
        req: Request,
        decode: impl Fn(&HttpCore, &str, &RawResponse) -> Result<T>,
    ) -> Result<T> {
        self.send_loop(req, |core, req, raw| decode(core, &req.operation(), &raw))
            .await
    }

    /// [`send_with`](Self::send_with), handing each successful response over by value
    /// ([`send_raw`](Self::send_raw) returns it without a copy). The operation's name is
    /// only formatted for errors and logs, never on the success path.
    async fn send_loop<T>(
        &self,
        req: Request,
        decode: impl Fn(&HttpCore, &Request, RawResponse) -> Result<T>,
    ) -> Result<T> {
        let inner = &self.inner;
        let idempotent = req.idempotency == Idempotency::Idempotent;
        let mut attempt = 1u32;
        loop {
            let permit = inner.limiter.acquire(req.bucket).await;
            let span = tracing::debug_span!(
                "vendor_request",
                vendor = inner.vendor,
                method = %req.method,
                path = %req.path,
                attempt,
            );
            let result = self.attempt(&req).instrument(span).await;
            // The answer (or the failure) is in: the vendor has counted the request.
            drop(permit);
            let err = match result.and_then(|raw| decode(self, &req, raw)) {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            if err.status() == Some(429) {
                let wait = err
                    .retry_after()
                    .unwrap_or(inner.policy.config().default_rate_limit_delay);
                inner
                    .limiter
                    .penalize(req.bucket, wait.min(inner.policy.config().max_retry_after))
                    .await;
            }
            match inner
                .policy
                .decide(attempt, idempotent, &err, fastrand::f64())
            {
                Decision::Stop => return Err(err),
                Decision::GiveUpRateLimited => {
                    return Err(Error::RateLimited {
                        vendor: inner.vendor,
                        operation: req.operation(),
                        retry_after: err.retry_after(),
                    });
                }
                Decision::RetryAfter(delay) => {
                    tracing::warn!(
                        vendor = inner.vendor,
                        operation = %req.operation(),
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        error = %err,
                        "retrying vendor request"
                    );
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(&self, req: &Request) -> Result<RawResponse> {
        let inner = &self.inner;
        let vendor = inner.vendor;
        let mut url = String::with_capacity(inner.base.len() + req.path.len());
        url.push_str(&inner.base);
        url.push_str(&req.path);
        let mut rb = inner
            .http
            .request(req.method.clone(), &url)
            .timeout(inner.timeout)
            .header(inner.auth_name.clone(), inner.auth.clone());
        if !req.query.is_empty() {
            rb = rb.query(&req.query);
        }
        for (k, v) in &req.headers {
            rb = rb.header(k.clone(), v.clone());
        }
        if let Some(body) = &req.body {
            rb = rb.json(body);
        }
        let transport = |e: reqwest::Error| {
            let timeout = e.is_timeout();
            // A connect error means nothing was written; anything else may have been.
            let sent = if e.is_connect() && !timeout {
                Sent::No
            } else {
                Sent::Maybe
            };
            Error::Transport {
                vendor,
                operation: req.operation(),
                sent,
                timeout,
                source: e.without_url(),
            }
        };
        let mut resp = rb.send().await.map_err(transport)?;
        let status = resp.status();
        let headers = std::mem::take(resp.headers_mut());
        let body = resp.bytes().await.map_err(transport)?;
        tracing::trace!(
            status = status.as_u16(),
            bytes = body.len(),
            "vendor response"
        );
        let embedded = if status.is_success() {
            match (inner.error_in_success)(&body) {
                None => {
                    return Ok(RawResponse {
                        status,
                        headers,
                        body,
                    });
                }
                some => some,
            }
        } else {
            None
        };
        // The error path: rare, so the body may be read as a JSON tree here.
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let effective = embedded.unwrap_or(status.as_u16());
        let json: Option<Value> = serde_json::from_slice(&body).ok();
        let details = json
            .as_ref()
            .map(|j| (inner.error_details)(j))
            .unwrap_or_default();
        let message = details.message.unwrap_or_else(|| {
            StatusCode::from_u16(effective)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("error")
                .to_string()
        });
        Err(Error::Api(Box::new(ApiError {
            vendor,
            status: effective,
            http_status: status.as_u16(),
            code: details.code,
            message,
            request_id: details.request_id,
            body: redact_body(&body),
            retry_after,
            operation: req.operation(),
        })))
    }
}
