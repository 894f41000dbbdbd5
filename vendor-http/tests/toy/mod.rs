//! A toy vendor and its simulator, shared by the core tests.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use vendor_http::probe::top_level;
use vendor_http::reqwest::header::HeaderName;
use vendor_http::sim::{
    Route, RouteMatch, SimConfig, SimRequest, SimResponse, SimServer, SimVendor,
};
use vendor_http::{ClientBuilder, HttpCore, RateLimits, Request, RetryConfig, Vendor};

pub const KEY: &str = "toy-secret-key-123";

/// A toy vendor: `POST /things` creates, `GET /things` lists; errors inside 200 like Zapmail.
#[derive(Default)]
pub struct Toy {
    pub things: Mutex<Vec<String>>,
    pub created: AtomicU32,
}

impl SimVendor for Toy {
    const NAME: &'static str = "toy";
    const BASE_PATH: &'static str = "/api";
    const KEY_HEADER: &'static str = "x-toy-key";

    fn route(&self, method: &str, path: &str) -> RouteMatch {
        match (method, path) {
            ("GET", "/things") => RouteMatch::Found(Route::new("GET /things")),
            ("POST", "/things") => RouteMatch::Found(Route::new("POST /things")),
            (_, "/things") => RouteMatch::WrongMethod,
            _ => RouteMatch::NotFound,
        }
    }
    fn authenticate(&self, req: &SimRequest) -> Option<SimResponse> {
        match req.api_key.as_deref() {
            Some(KEY) => None,
            Some(_) => Some(SimResponse::json(403, self.error_body(403, "Forbidden"))),
            None => Some(SimResponse::json(401, self.error_body(401, "Missing key"))),
        }
    }
    fn handle(&self, route: Route, req: &SimRequest) -> SimResponse {
        match route.key {
            "POST /things" => {
                let name = req.body_str("name").unwrap_or_default().to_string();
                if name.is_empty() {
                    return SimResponse::json(422, self.error_body(422, "name is required"));
                }
                self.created.fetch_add(1, Ordering::SeqCst);
                self.things.lock().unwrap().push(name.clone());
                SimResponse::ok(
                    json!({"status": 200, "data": {"name": name, "password": "pw-live-1"}}),
                )
            }
            _ => SimResponse::ok(
                json!({"status": 200, "data": self.things.lock().unwrap().clone(), "extra": true}),
            ),
        }
    }
    fn error_body(&self, status: u16, message: &str) -> Value {
        json!({"status": status, "message": message, "errorId": "e-1"})
    }
}

pub struct ToyVendor;
pub struct ToyClient(pub HttpCore);
impl From<HttpCore> for ToyClient {
    fn from(c: HttpCore) -> Self {
        ToyClient(c)
    }
}
impl Vendor for ToyVendor {
    const NAME: &'static str = "toy";
    const DEFAULT_BASE_URL: &'static str = "https://toy.invalid/api";
    type Client = ToyClient;
    fn default_limits() -> RateLimits {
        RateLimits::unlimited()
    }
    fn auth_header() -> HeaderName {
        HeaderName::from_static("x-toy-key")
    }
    // The only thing a vendor with errors inside 2xx bodies implements (there is no
    // separate switch to forget).
    fn error_in_success(body: &[u8]) -> Option<u16> {
        let [status] = top_level(body, ["status"])?;
        let s = status?.as_u64()? as u16;
        (!(200..300).contains(&s)).then_some(s)
    }
}

#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    pub data: T,
}

pub async fn sim() -> SimServer<Toy> {
    SimServer::start(
        Arc::new(Toy::default()),
        SimConfig {
            hang: Duration::from_secs(5),
            ..SimConfig::default()
        },
        RateLimits::unlimited(),
    )
    .await
}

pub fn client(sim: &SimServer<Toy>) -> HttpCore {
    ClientBuilder::<ToyVendor>::new()
        .api_key(KEY)
        .base_url(sim.base_url())
        .retry(RetryConfig::fast())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
        .0
}

pub fn create(name: &str) -> Request {
    Request::post("/things").json(&json!({"name": name}))
}

pub async fn list(c: &HttpCore) -> vendor_http::Result<Vec<String>> {
    c.send::<Envelope<Vec<String>>>(Request::get("/things"))
        .await
        .map(|e| e.data)
}
