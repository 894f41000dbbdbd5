//! [`WebhookSink`]: POST completion and failure events as signed JSON to a URL.
//!
//! # What is sent
//!
//! One `POST` per event, `Content-Type: application/json`, body a [`WebhookPayload`]:
//!
//! ```json
//! {"id":"<delivery uuid>","type":"run.completed","created":1767225600,"event":{...ProgressEvent...}}
//! ```
//!
//! `type` is `run.completed` (a run finished: provision `active`, or `cancelled` after a
//! teardown), `run.failed` (a step failed for good; the event names the step and the
//! vendor's words), `invoice.payment_failed` (a failed invoice flagged the provision), or
//! `provision.event` (other run-level events). With [`WebhookConfig::all_events`] every
//! progress event is sent, the rest as `run.progress`.
//!
//! # Headers and signature
//!
//! - `X-GTM-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` — the HMAC, keyed with the
//!   shared secret, of the exact string `"<t>.<body>"` (the timestamp, a dot, the raw body
//!   bytes), as Stripe does. Each attempt is signed afresh with its own `t`.
//! - `X-GTM-Delivery: <uuid>` — the same on every retry of one event: receivers use it to
//!   ignore repeats.
//! - `X-GTM-Event: <type>`.
//!
//! A receiver recomputes the HMAC over `"<t>.<body>"`, compares it in constant time, and
//! rejects old timestamps (replays); [`verify`] does all three.
//!
//! # Delivery
//!
//! [`ProgressSink::emit`] never blocks the engine: it puts the event on a bounded queue
//! (full: the event is dropped and counted, see [`WebhookSink::stats`]). One background
//! task delivers the queue in order. A 2xx answer is success; transport errors, timeouts,
//! 408, 429 and 5xx are retried up to [`WebhookConfig::max_attempts`] times with
//! exponential backoff and jitter; other 4xx answers are not retried.
//! [`WebhookSink::flush`] waits until the queue is delivered (or given up).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::sync::{Notify, mpsc};

use super::{ProgressEvent, ProgressSink};
use crate::model::StepStatus;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-GTM-Signature";
/// The delivery id header (the same on every retry of one event).
pub const DELIVERY_HEADER: &str = "X-GTM-Delivery";
/// The event type header.
pub const EVENT_HEADER: &str = "X-GTM-Event";

/// Errors of the webhook sink and of [`verify`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The URL is not an absolute `http(s)` URL.
    #[error("webhook URL {0:?} is not an absolute http(s) URL")]
    InvalidUrl(String),
    /// The signing secret is empty.
    #[error("the webhook signing secret is empty")]
    EmptySecret,
    /// The sink was created outside a Tokio runtime.
    #[error(
        "the webhook sink must be created inside a Tokio runtime (it delivers from a background task)"
    )]
    NoRuntime,
    /// The HTTP client could not be built.
    #[error("webhook HTTP client: {0}")]
    Client(String),
    /// A signature did not verify (the message says why).
    #[error("webhook signature rejected: {0}")]
    BadSignature(String),
}

/// Delivery settings.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    /// Attempts per event, the first included (default 6).
    pub max_attempts: u32,
    /// Delay after the first failed attempt (default 1 s); doubles each time.
    pub initial_backoff: Duration,
    /// Longest delay between attempts (default 60 s).
    pub max_backoff: Duration,
    /// Timeout of one attempt (default 10 s).
    pub timeout: Duration,
    /// Events waiting for delivery before new ones are dropped (default 1024).
    pub queue_capacity: usize,
    /// Send every progress event, not only completions and failures (default off).
    pub all_events: bool,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            max_attempts: 6,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
            queue_capacity: 1024,
            all_events: false,
        }
    }
}

impl WebhookConfig {
    /// Short delays, for tests and demos.
    pub fn fast() -> Self {
        WebhookConfig {
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(100),
            timeout: Duration::from_secs(5),
            ..WebhookConfig::default()
        }
    }

    fn backoff(&self, failed_attempts: u32) -> Duration {
        let exp = 2f64.powi(failed_attempts.saturating_sub(1).min(30) as i32);
        let base = self.initial_backoff.mul_f64(exp).min(self.max_backoff);
        // ±25% jitter so that many sinks do not retry in step.
        base.mul_f64(0.75 + 0.5 * fastrand::f64())
    }
}

/// The JSON body of a delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookPayload {
    /// Delivery id (also in `X-GTM-Delivery`).
    pub id: uuid::Uuid,
    /// `run.completed`, `run.failed`, `invoice.payment_failed`, `provision.event` or
    /// `run.progress`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When the payload was made (unix seconds).
    pub created: i64,
    /// The event.
    pub event: ProgressEvent,
}

/// The payload type of an event.
pub fn event_type(e: &ProgressEvent) -> &'static str {
    match (e.step, e.status) {
        (0, StepStatus::Failed) if e.name == "Invoice payment failed" => "invoice.payment_failed",
        (0, StepStatus::Completed) if e.name == "Run finished" => "run.completed",
        (0, _) => "provision.event",
        (_, StepStatus::Failed) => "run.failed",
        _ => "run.progress",
    }
}

/// Whether the sink sends `e` by default: completions and failures.
fn is_notification(e: &ProgressEvent) -> bool {
    e.step == 0 || e.status == StepStatus::Failed
}

/// The hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The `X-GTM-Signature` header value for `body` at `timestamp`.
pub fn signature_header(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, body))
}

/// Check a delivery: `header` is the `X-GTM-Signature` value, `body` the raw body, `now`
/// the receiver's unix time; timestamps more than `tolerance` away from `now` are refused.
/// The comparison is constant-time.
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: Duration,
) -> Result<(), WebhookError> {
    let bad = |m: &str| WebhookError::BadSignature(m.to_string());
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(v.to_string()),
            _ => {}
        }
    }
    let t = t.ok_or_else(|| bad("no t=<timestamp>"))?;
    if sigs.is_empty() {
        return Err(bad("no v1=<signature>"));
    }
    if (now - t).unsigned_abs() > tolerance.as_secs() {
        return Err(bad(
            "timestamp outside the tolerance (replayed or clock skew)",
        ));
    }
    for sig in sigs {
        let Ok(bytes) = hex::decode(&sig) else {
            continue;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        if mac.verify_slice(&bytes).is_ok() {
            return Ok(());
        }
    }
    Err(bad("no signature matches"))
}

/// Delivery counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookStats {
    /// Events delivered (2xx).
    pub delivered: u64,
    /// Events given up (attempts exhausted, or a 4xx answer).
    pub failed: u64,
    /// Events dropped because the queue was full.
    pub dropped: u64,
    /// Attempts that failed and were retried.
    pub retries: u64,
}

#[derive(Default)]
struct Shared {
    pending: AtomicUsize,
    idle: Notify,
    delivered: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    retries: AtomicU64,
}

/// A progress sink that POSTs completion and failure events as signed JSON (see the
/// [module docs](self) for the payload, headers and signature).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use provisioning::WebhookSink;
/// let sink = WebhookSink::new("https://app.example/hooks/gtm", "whsec_…")?;
/// // Engine::builder().sink(Arc::new(sink.clone()))...
/// # let _ = Arc::new(sink.clone());
/// sink.flush().await; // before shutting down
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct WebhookSink {
    tx: mpsc::Sender<ProgressEvent>,
    shared: Arc<Shared>,
    all_events: bool,
    url: String,
}

impl std::fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSink")
            .field("url", &self.url)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl WebhookSink {
    /// A sink posting to `url`, signing with `secret`, with [`WebhookConfig::default`].
    /// Must be called inside a Tokio runtime.
    pub fn new(url: &str, secret: impl Into<String>) -> Result<WebhookSink, WebhookError> {
        Self::with_config(url, secret, WebhookConfig::default())
    }

    /// A sink with explicit delivery settings.
    pub fn with_config(
        url: &str,
        secret: impl Into<String>,
        config: WebhookConfig,
    ) -> Result<WebhookSink, WebhookError> {
        let parsed = url::Url::parse(url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| WebhookError::InvalidUrl(url.to_string()))?;
        let secret = SecretString::from(secret.into());
        if secret.expose_secret().is_empty() {
            return Err(WebhookError::EmptySecret);
        }
        let handle = tokio::runtime::Handle::try_current().map_err(|_| WebhookError::NoRuntime)?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| WebhookError::Client(e.to_string()))?;
        let (tx, rx) = mpsc::channel(config.queue_capacity.max(1));
        let shared = Arc::new(Shared::default());
        let all_events = config.all_events;
        handle.spawn(deliver_loop(
            rx,
            http,
            parsed.clone(),
            secret,
            config,
            shared.clone(),
        ));
        Ok(WebhookSink {
            tx,
            shared,
            all_events,
            url: parsed.to_string(),
        })
    }

    /// Wait until every event queued so far is delivered or given up.
    pub async fn flush(&self) {
        loop {
            let idle = self.shared.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.shared.pending.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }

    /// Delivery counters so far.
    pub fn stats(&self) -> WebhookStats {
        WebhookStats {
            delivered: self.shared.delivered.load(Ordering::SeqCst),
            failed: self.shared.failed.load(Ordering::SeqCst),
            dropped: self.shared.dropped.load(Ordering::SeqCst),
            retries: self.shared.retries.load(Ordering::SeqCst),
        }
    }
}

impl ProgressSink for WebhookSink {
    fn emit(&self, event: &ProgressEvent) {
        if !self.all_events && !is_notification(event) {
            return;
        }
        self.shared.pending.fetch_add(1, Ordering::SeqCst);
        if self.tx.try_send(event.clone()).is_err() {
            self.shared.pending.fetch_sub(1, Ordering::SeqCst);
            self.shared.dropped.fetch_add(1, Ordering::SeqCst);
            self.shared.idle.notify_waiters();
            tracing::warn!(
                target: "provisioning::webhook",
                provision = %event.provision_id,
                "webhook queue full (or its task ended); event dropped"
            );
        }
    }
}

async fn deliver_loop(
    mut rx: mpsc::Receiver<ProgressEvent>,
    http: reqwest::Client,
    url: url::Url,
    secret: SecretString,
    config: WebhookConfig,
    shared: Arc<Shared>,
) {
    while let Some(event) = rx.recv().await {
        let ok = deliver(&http, &url, &secret, &config, &shared, event).await;
        if ok {
            shared.delivered.fetch_add(1, Ordering::SeqCst);
        } else {
            shared.failed.fetch_add(1, Ordering::SeqCst);
        }
        shared.pending.fetch_sub(1, Ordering::SeqCst);
        shared.idle.notify_waiters();
    }
}

async fn deliver(
    http: &reqwest::Client,
    url: &url::Url,
    secret: &SecretString,
    config: &WebhookConfig,
    shared: &Shared,
    event: ProgressEvent,
) -> bool {
    let kind = event_type(&event);
    let payload = WebhookPayload {
        id: uuid::Uuid::new_v4(),
        kind: kind.to_string(),
        created: chrono::Utc::now().timestamp(),
        event,
    };
    let body = match serde_json::to_vec(&payload) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(target: "provisioning::webhook", error = %e, "event not serialisable");
            return false;
        }
    };
    let attempts = config.max_attempts.max(1);
    for attempt in 1..=attempts {
        let t = chrono::Utc::now().timestamp();
        let sig = signature_header(secret.expose_secret().as_bytes(), t, &body);
        let sent = http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, sig)
            .header(DELIVERY_HEADER, payload.id.to_string())
            .header(EVENT_HEADER, kind)
            .body(body.clone())
            .send()
            .await;
        let why = match sent {
            Ok(r) if r.status().is_success() => return true,
            Ok(r) => {
                let s = r.status();
                let retryable = s.is_server_error() || s.as_u16() == 408 || s.as_u16() == 429;
                if !retryable {
                    tracing::warn!(
                        target: "provisioning::webhook",
                        delivery = %payload.id, status = s.as_u16(),
                        "webhook receiver refused the event; not retrying"
                    );
                    return false;
                }
                format!("HTTP {}", s.as_u16())
            }
            Err(e) => e.without_url().to_string(),
        };
        if attempt == attempts {
            tracing::warn!(
                target: "provisioning::webhook",
                delivery = %payload.id, attempts, error = %why,
                "webhook delivery failed; giving up"
            );
            return false;
        }
        shared.retries.fetch_add(1, Ordering::SeqCst);
        let wait = config.backoff(attempt);
        tracing::debug!(
            target: "provisioning::webhook",
            delivery = %payload.id, attempt, error = %why, wait_ms = wait.as_millis() as u64,
            "webhook delivery failed; retrying"
        );
        tokio::time::sleep(wait).await;
    }
    false
}
