//! The kit the vendor simulators are built from (feature `sim`).
//!
//! A simulator is a [`wiremock::MockServer`] with one stateful responder that, for every
//! request, in this order:
//! 1. finds the route (unknown routes get the vendor's 404, wrong methods 405);
//! 2. enforces the vendor's rate limits per API key with exact sliding windows, answering
//!    429 with `Retry-After` (before authentication, as Zapmail documents);
//! 3. authenticates the key (401/403);
//! 4. applies an injected fault, if one is due for the route ([`Fault`]);
//! 5. lets the vendor's handler apply the request to its state and answer;
//! 6. records the exchange in the [`Journal`] tests query.
//!
//! Each vendor crate implements [`SimVendor`] for its state and routes; this module knows
//! nothing about any vendor.

mod faults;
mod journal;
mod link;
mod proxy;
mod window;

pub use faults::{ANY_ROUTE, AfterApply, Chaos, Fault, Faults};
pub use journal::{Journal, JournalEntry};
pub use link::{ExportedMailbox, MailboxImporter};
pub use window::WindowEnforcer;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

use crate::limit::RateLimits;

/// A request as a simulator handler sees it.
#[derive(Debug, Clone)]
pub struct SimRequest {
    /// Upper-case method, e.g. `"POST"`.
    pub method: String,
    /// Path relative to the vendor's base path, e.g. `"/v2/domains/buy"`.
    pub path: String,
    /// Query parameters in order.
    pub query: Vec<(String, String)>,
    /// Lower-case header names and their values.
    pub headers: BTreeMap<String, String>,
    /// The JSON body (`Null` when absent or not JSON).
    pub body: Value,
    /// Whether a body was sent at all.
    pub has_body: bool,
    /// The API key the request carried, if any.
    pub api_key: Option<String>,
}

impl SimRequest {
    /// The first query parameter named `key`.
    pub fn query_param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// A header by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
    /// A string field of the JSON body.
    pub fn body_str(&self, key: &str) -> Option<&str> {
        self.body.get(key).and_then(Value::as_str)
    }
}

/// A simulator handler's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct SimResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body, or none for an empty body.
    pub body: Option<Value>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
}

impl SimResponse {
    /// A JSON response.
    pub fn json(status: u16, body: Value) -> Self {
        SimResponse {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }
    /// `200` with a JSON body.
    pub fn ok(body: Value) -> Self {
        SimResponse::json(200, body)
    }
    /// A response with an empty body.
    pub fn empty(status: u16) -> Self {
        SimResponse {
            status,
            body: None,
            headers: Vec::new(),
        }
    }
    /// Add a header.
    pub fn with_header(mut self, name: &str, value: impl ToString) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// A route the simulator knows: its journal key and its rate-limit bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Stable key, e.g. `"POST /v2/domains/buy"` (path parameters generalised).
    pub key: &'static str,
    /// Rate-limit bucket on top of the general one (see [`crate::limit::GENERAL`]).
    pub bucket: &'static str,
}

impl Route {
    /// A route in the general bucket.
    pub const fn new(key: &'static str) -> Self {
        Route {
            key,
            bucket: crate::limit::GENERAL,
        }
    }
    /// A route counted in an extra bucket too.
    pub const fn in_bucket(key: &'static str, bucket: &'static str) -> Self {
        Route { key, bucket }
    }
}

/// How a path matched the vendor's routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteMatch {
    /// Method and path known.
    Found(Route),
    /// The path exists, the method does not (405).
    WrongMethod,
    /// Unknown path (404).
    NotFound,
}

/// What one vendor's simulator implements: routes, auth, state and error envelope.
pub trait SimVendor: Send + Sync + 'static {
    /// Vendor name, e.g. `"zapmail"`.
    const NAME: &'static str;
    /// The path prefix of the API on the server (e.g. `"/api"`); the client's base URL is the
    /// server's URI plus this.
    const BASE_PATH: &'static str;
    /// The (lower-case) header carrying the API key.
    const KEY_HEADER: &'static str;

    /// Match a method and a path (relative to [`BASE_PATH`](Self::BASE_PATH)).
    fn route(&self, method: &str, path: &str) -> RouteMatch;
    /// Check the key: `None` when it is valid, else the error response (401/403).
    fn authenticate(&self, req: &SimRequest) -> Option<SimResponse>;
    /// Apply the request to the state and answer.
    fn handle(&self, route: Route, req: &SimRequest) -> SimResponse;
    /// The vendor's error body for `status` and `message`.
    fn error_body(&self, status: u16, message: &str) -> Value;
    /// The answer to a request over the rate limits. The default sends the vendor's error
    /// body with `Retry-After` in whole seconds; vendors whose 429 differs override it.
    fn rate_limited_response(&self, retry_after_secs: u64) -> SimResponse {
        SimResponse::json(429, self.error_body(429, "Too many requests"))
            .with_header("retry-after", retry_after_secs)
    }
    /// The answer for an unknown route (default: the vendor's error body with 404).
    fn not_found_response(&self) -> SimResponse {
        SimResponse::json(404, self.error_body(404, "Endpoint not found"))
    }
    /// The answer for a known route with the wrong method (default: error body with 405).
    fn method_not_allowed_response(&self) -> SimResponse {
        SimResponse::json(405, self.error_body(405, "Method not allowed"))
    }
    /// The body of an error carried inside an HTTP 200 (only Zapmail does this; others
    /// answer with the plain error body).
    fn error_in_200_body(&self, status: u16, message: &str) -> Value {
        self.error_body(status, message)
    }
}

/// Settings shared by every simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Limits enforced per API key (`None` = the vendor's documented defaults, chosen by the
    /// vendor crate; use [`RateLimits::unlimited`] to switch enforcement off).
    pub limits: Option<RateLimits>,
    /// Latency added to every answer.
    pub latency: Duration,
    /// How long a [`Fault::Timeout`] holds the response (longer than the client's timeout).
    pub hang: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            limits: None,
            latency: Duration::ZERO,
            hang: Duration::from_secs(60),
        }
    }
}

struct Core<V: SimVendor> {
    vendor: Arc<V>,
    journal: Journal,
    faults: Faults,
    limits: WindowEnforcer,
    latency: Mutex<Duration>,
    hang: Duration,
}

/// A running simulator for vendor `V`.
pub struct SimServer<V: SimVendor> {
    server: MockServer,
    // Clients talk to this pass-through, which can drop connections (see `proxy`).
    uri: String,
    core: Arc<Core<V>>,
}

impl<V: SimVendor> std::fmt::Debug for SimServer<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimServer")
            .field("vendor", &V::NAME)
            .field("uri", &self.uri)
            .finish_non_exhaustive()
    }
}

impl<V: SimVendor> SimServer<V> {
    /// Start a simulator on a free local port. `default_limits` are the vendor's documented
    /// limits, used when `config.limits` is `None`.
    ///
    /// The simulator's connection handling runs on the Tokio runtime that starts it: keep
    /// that runtime alive while clients use the simulator.
    ///
    /// # Panics
    /// If no local port can be bound.
    pub async fn start(vendor: Arc<V>, config: SimConfig, default_limits: RateLimits) -> Self {
        let server = MockServer::builder().start().await;
        let core = Arc::new(Core {
            vendor,
            journal: Journal::default(),
            faults: Faults::default(),
            limits: WindowEnforcer::new(config.limits.unwrap_or(default_limits)),
            latency: Mutex::new(config.latency),
            hang: config.hang,
        });
        Mock::given(any())
            .respond_with(Responder(core.clone()))
            .mount(&server)
            .await;
        let proxy = proxy::start(*server.address())
            .await
            .expect("bind a local port for the simulator");
        SimServer {
            server,
            uri: format!("http://{proxy}"),
            core,
        }
    }

    /// The server's root URI, e.g. `http://127.0.0.1:41234`.
    pub fn uri(&self) -> String {
        self.uri.clone()
    }
    /// The base URL to give the vendor's client.
    pub fn base_url(&self) -> String {
        format!("{}{}", self.uri, V::BASE_PATH)
    }
    /// The wiremock server behind the simulator (to mount extra mocks in tests).
    pub fn mock_server(&self) -> &MockServer {
        &self.server
    }
    /// The vendor state (to seed accounts, inspect or link simulators).
    pub fn vendor(&self) -> &Arc<V> {
        &self.core.vendor
    }
    /// Every request received.
    pub fn journal(&self) -> &Journal {
        &self.core.journal
    }
    /// Fault injection.
    pub fn faults(&self) -> &Faults {
        &self.core.faults
    }
    /// The rate-limit enforcer (change limits, count 429s).
    pub fn limits(&self) -> &WindowEnforcer {
        &self.core.limits
    }
    /// Change the latency added to every answer.
    pub fn set_latency(&self, latency: Duration) {
        *self.core.latency.lock().unwrap_or_else(|e| e.into_inner()) = latency;
    }
}

struct Responder<V: SimVendor>(Arc<Core<V>>);

impl<V: SimVendor> Respond for Responder<V> {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let core = &self.0;
        let req = parse_request::<V>(request);
        let latency = *core.latency.lock().unwrap_or_else(|e| e.into_inner());
        let mut entry = JournalEntry::new(&req);

        let route = match core.vendor.route(&req.method, &req.path) {
            RouteMatch::Found(r) => r,
            RouteMatch::WrongMethod => {
                return core.finish(entry, core.vendor.method_not_allowed_response(), latency);
            }
            RouteMatch::NotFound => {
                return core.finish(entry, core.vendor.not_found_response(), latency);
            }
        };
        entry.route = route.key.to_string();

        let key = req.api_key.clone().unwrap_or_default();
        if let Some(wait) = core.limits.admit(&key, route.bucket) {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            let resp = core.vendor.rate_limited_response(secs);
            entry.rate_limited = true;
            return core.finish(entry, resp, latency);
        }
        if let Some(denied) = core.vendor.authenticate(&req) {
            return core.finish(entry, denied, latency);
        }

        let fault = core.faults.take(route.key);
        entry.fault = fault.as_ref().map(|f| format!("{f:?}"));
        let template = match fault {
            None => {
                entry.applied = true;
                let resp = core.vendor.handle(route, &req);
                return core.finish(entry, resp, latency);
            }
            Some(Fault::Status(status)) => core.respond(
                &mut entry,
                SimResponse::json(
                    status,
                    core.vendor.error_body(status, "Simulated vendor failure"),
                ),
            ),
            Some(Fault::RateLimited { retry_after_secs }) => core.respond(
                &mut entry,
                core.vendor.rate_limited_response(retry_after_secs),
            ),
            Some(Fault::ErrorIn200(status)) => core.respond(
                &mut entry,
                SimResponse::json(
                    200,
                    core.vendor
                        .error_in_200_body(status, "Simulated error inside HTTP 200"),
                ),
            ),
            Some(Fault::Timeout) => {
                entry.status = 0;
                ResponseTemplate::new(504).set_delay(core.hang)
            }
            Some(Fault::Drop) => {
                entry.status = 0;
                dropped_connection()
            }
            Some(Fault::Malformed) => {
                entry.applied = true;
                let resp = core.vendor.handle(route, &req);
                entry.status = resp.status;
                let text = resp.body.map(|b| b.to_string()).unwrap_or_default();
                let cut = text.len() / 2;
                ResponseTemplate::new(resp.status)
                    .insert_header("content-type", "application/json")
                    .set_body_string(format!("{}<<garbage", &text[..cut.min(text.len())]))
            }
            Some(Fault::ApplyThen(after)) => {
                entry.applied = true;
                let _ = core.vendor.handle(route, &req);
                match after {
                    AfterApply::Status(status) => core.respond(
                        &mut entry,
                        SimResponse::json(
                            status,
                            core.vendor
                                .error_body(status, "Simulated failure after applying"),
                        ),
                    ),
                    AfterApply::Timeout => {
                        entry.status = 0;
                        ResponseTemplate::new(504).set_delay(core.hang)
                    }
                    AfterApply::Drop => {
                        entry.status = 0;
                        dropped_connection()
                    }
                }
            }
        };
        core.journal.push(entry);
        if latency.is_zero() {
            template
        } else {
            template.set_delay(latency)
        }
    }
}

impl<V: SimVendor> Core<V> {
    fn respond(&self, entry: &mut JournalEntry, resp: SimResponse) -> ResponseTemplate {
        entry.status = resp.status;
        template(resp)
    }

    fn finish(
        &self,
        mut entry: JournalEntry,
        resp: SimResponse,
        latency: Duration,
    ) -> ResponseTemplate {
        entry.status = resp.status;
        self.journal.push(entry);
        let t = template(resp);
        if latency.is_zero() {
            t
        } else {
            t.set_delay(latency)
        }
    }
}

fn template(resp: SimResponse) -> ResponseTemplate {
    let mut t = ResponseTemplate::new(resp.status);
    for (k, v) in &resp.headers {
        t = t.insert_header(k.as_str(), v.as_str());
    }
    match resp.body {
        Some(body) => t.set_body_json(body),
        None => t,
    }
}

/// A response the pass-through proxy never forwards: it closes the client's connection
/// instead, which the client sees as a connection dropped after sending.
fn dropped_connection() -> ResponseTemplate {
    ResponseTemplate::new(200).insert_header(proxy::DROP_MARKER, "1")
}

fn parse_request<V: SimVendor>(request: &wiremock::Request) -> SimRequest {
    let full = request.url.path();
    let path = full
        .strip_prefix(V::BASE_PATH)
        .filter(|p| p.is_empty() || p.starts_with('/'))
        .map(|p| if p.is_empty() { "/" } else { p })
        .unwrap_or(full)
        .to_string();
    let query = request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let headers: BTreeMap<String, String> = request
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                v.to_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let api_key = headers.get(V::KEY_HEADER).cloned();
    let has_body = !request.body.is_empty();
    let body = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    SimRequest {
        method: request.method.as_str().to_ascii_uppercase(),
        path,
        query,
        headers,
        body,
        has_body,
        api_key,
    }
}
