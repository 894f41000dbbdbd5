//! HTTP plumbing shared by the Zapmail, PlusVibe and HeyReach clients.
//!
//! One place for what every vendor client needs: a validating [`ClientBuilder`] (API key as
//! [`secrecy::SecretString`], base URL override, timeouts, retries, a shareable rate limiter,
//! a custom `reqwest::Client`), one [`Error`] type, the [`RetryPolicy`], proactive rate
//! limiting that holds every documented window ([`limit`]), secret redaction ([`redact`])
//! and a `tracing` span per request. With the `sim` feature it also holds the kit the vendor
//! simulators are built from ([`sim`]).
//!
//! Vendor crates implement [`Vendor`] and wrap [`HttpCore`]:
//!
//! ```
//! use vendor_http::{ClientBuilder, HttpCore, RateLimits, Request, Vendor, reqwest::header::HeaderName};
//!
//! struct Acme;
//! struct AcmeClient(HttpCore);
//! impl From<HttpCore> for AcmeClient {
//!     fn from(core: HttpCore) -> Self { AcmeClient(core) }
//! }
//! impl Vendor for Acme {
//!     const NAME: &'static str = "acme";
//!     const DEFAULT_BASE_URL: &'static str = "https://api.acme.test";
//!     type Client = AcmeClient;
//!     fn default_limits() -> RateLimits { RateLimits::unlimited() }
//!     fn auth_header() -> HeaderName { HeaderName::from_static("x-api-key") }
//! }
//!
//! let client: AcmeClient = ClientBuilder::<Acme>::new().api_key("k-123").build().unwrap();
//! assert!(!format!("{:?}", client.0).contains("k-123"));
//! let missing = ClientBuilder::<Acme>::new().build().map(|_| ()).unwrap_err();
//! assert!(missing.to_string().contains("missing API key"));
//! let _req = Request::get("/things").query("page", 1);
//! ```

pub mod client;
pub mod error;
pub mod limit;
pub mod probe;
pub mod redact;
pub mod retry;
#[cfg(feature = "sim")]
pub mod sim;

pub use client::{
    ClientBuilder, ErrorDetails, HttpCore, Idempotency, RawResponse, Request, Vendor,
};
pub use error::{ApiError, Error, ErrorKind, Result, Sent};
pub use limit::{
    GENERAL, Gate, GovernorLimiter, Limit, LimitSet, Permit, RateLimiter, RateLimits, Slot,
    Unlimited, WindowLimiter,
};
pub use retry::{Decision, RetryConfig, RetryPolicy};

// Re-exported so vendor crates and users name the same versions.
pub use reqwest;
pub use secrecy;
