//! Typed, rate-limited client for the [Zapmail](https://zapmail.ai) REST API v2: workspaces,
//! billing, domain availability and purchase, domain lists, DMARC, DNS, mailboxes and
//! exports to sequencers — with a stateful simulator behind the `mock` feature.
//!
//! Facts follow `vendor-apis/zapmail.md` (cited as §n in the docs below). Highlights:
//! - Auth is the raw key in `x-auth-zapmail`; [`Client::in_workspace`] (or a handle's
//!   `in_workspace`) adds `x-workspace-key` to run calls in another workspace (§2).
//! - The `{status, message, data}` envelope is unwrapped; an error status inside an HTTP 200
//!   body becomes [`Error::Api`] (§3).
//! - Limits: 5/s **and** 200/min per key, plus 100 availability queries per 30 min in the
//!   [`AVAILABILITY_BUCKET`] (§5); see [`default_limits`].
//! - A domain purchase returns **no domain ids**: [`PurchaseOutcome`] says whether the wallet
//!   paid; then poll the domain list by name ([`domains::Domains::find_by_names`]) (§6.5).
//! - Prices are exact [`Decimal`]s; `"NaN"` and garbage prices decode as `None` (§6.4).
//! - Mailbox list responses carry live passwords and TOTP secrets: they are held as
//!   [`SecretString`] and never printed (§6.9).
//! - [`validate`] checks usernames, domain names and TLDs locally before a request is spent.
//!
//! ```no_run
//! # async fn run() -> zapmail::Result<()> {
//! use zapmail::{Client, domains::BuyDomainsRequest, PurchaseOutcome};
//!
//! let client = Client::builder().api_key("your-zapmail-key").build()?;
//! let ws = client.workspaces().find_by_name("Acme's Infrastructure").await?;
//! let client = match ws {
//!     Some(ws) => client.in_workspace(&ws.id),
//!     None => client,
//! };
//! let check = client.domains().check_availability(&["acmeoutreach.com"]).await?;
//! if check.domains.iter().all(|d| d.is_available()) {
//!     match client.domains().buy(&BuyDomainsRequest::with_wallet(["acmeoutreach.com"])).await? {
//!         PurchaseOutcome::Purchased { .. } => { /* poll client.domains().find_by_names(..) */ }
//!         other => println!("payment needed: {:?}", other.payment_url()),
//!     }
//! }
//! # Ok(()) }
//! ```

mod client;
pub mod dns;
pub mod domains;
pub mod exports;
pub mod mailboxes;
#[cfg(feature = "mock")]
pub mod mock;
pub mod types;
pub mod validate;
pub mod workspaces;

use std::time::Duration;

use vendor_http::probe::top_level;
use vendor_http::reqwest::header::HeaderName;

pub use client::Client;
pub use domains::{AvailabilityStatus, PurchaseOutcome};
pub use exports::{ExportApp, ExportState};
pub use rust_decimal::Decimal;
pub use secrecy::{ExposeSecret, SecretString};
pub use types::{
    Ack, DnsRecordId, DomainId, DomainStatus, ExportId, MailboxId, MailboxStatus, Pagination,
    ServiceProvider, SortOrder, TagId, ThirdPartyAccountId, WorkspaceId,
};
pub use validate::{SupportedTlds, TldPolicy};
pub use vendor_http::{
    ApiError, ClientBuilder, Error, ErrorKind, HttpCore, Limit, LimitSet, Permit, RateLimiter,
    RateLimits, Result, RetryConfig, Sent,
};

/// Vendor name used in errors, spans and limiter keys.
pub const VENDOR: &str = "zapmail";

/// Production base URL; operation paths (`/v2/...`) are appended to it (§1).
pub const DEFAULT_BASE_URL: &str = "https://api.zapmail.ai/api";

/// The header carrying the API key (§2).
pub const AUTH_HEADER: &str = "x-auth-zapmail";

/// The header selecting the workspace a call runs in (§2).
pub const WORKSPACE_HEADER: &str = "x-workspace-key";

/// The rate-limit bucket shared by both availability endpoints (§5).
pub const AVAILABILITY_BUCKET: &str = "domain-availability";

/// Most names one bulk availability call may check (§6.4).
pub const MAX_BULK_AVAILABILITY: usize = 20;

/// Burst of the availability bucket in [`default_limits`]: a wizard can check this many
/// batches back to back before the spacing starts.
pub const AVAILABILITY_BURST: u32 = 10;

/// The marker type tying Zapmail into the shared client core.
#[derive(Debug, Clone, Copy, Default)]
pub struct Zapmail;

impl vendor_http::Vendor for Zapmail {
    const NAME: &'static str = VENDOR;
    const DEFAULT_BASE_URL: &'static str = DEFAULT_BASE_URL;
    type Client = Client;

    fn default_limits() -> RateLimits {
        default_limits()
    }

    fn auth_header() -> HeaderName {
        HeaderName::from_static(AUTH_HEADER)
    }

    /// Zapmail can answer HTTP 200 with `{"status": 404, "message": ...}` (§3): see
    /// [`error_status_in`].
    fn error_in_success(body: &[u8]) -> Option<u16> {
        error_status_in(body)
    }
}

/// The error status an HTTP-2xx body carries, if any (§3): an integer top-level `status`
/// outside 200–299 (a number with no fraction, like `404.0`, counts as one). String
/// statuses (export status `"COMPLETED"`, availability rows) are not envelopes and are
/// ignored, as are bodies that are not one JSON object.
///
/// Reads only the top-level `status` field, without building a JSON tree (it runs on every
/// successful answer).
pub fn error_status_in(body: &[u8]) -> Option<u16> {
    let [status] = top_level(body, ["status"])?;
    let status = status?;
    let n = status.as_i64().or_else(|| {
        status
            .as_f64()
            .filter(|f| f.fract() == 0.0)
            .map(|f| f as i64)
    })?;
    if (200..300).contains(&n) {
        None
    } else {
        // Out-of-range values still mean "error"; report them as a generic 500 class
        // rather than inventing a status.
        Some(u16::try_from(n).ok().filter(|s| *s >= 100).unwrap_or(500))
    }
}

/// The limits Zapmail documents (§5): every request counts against 5 per second **and**
/// 200 per minute per key; availability queries (`POST /v2/domains/available` and
/// `/available-bulk`) also count against 100 per 30 minutes, in [`AVAILABILITY_BUCKET`].
///
/// The default `WindowLimiter` gives the whole 100 per 30 minutes as the vendor counts
/// them (each query counted until its answer). For the GCRA limiters (`GovernorLimiter`,
/// the PostgreSQL one) the availability bucket has a deliberate burst of
/// [`AVAILABILITY_BURST`] (10) so a wizard can check a few batches at once. The price: they
/// space later queries `30 min × 1.02 / (99 − 10 + 1) ≈ 20.4 s` apart (the kit derives
/// bucket quotas from `n − 1` and widens windows by a 2 % margin), so a caller that queries
/// non-stop gets about **88 %** of the 100/30 min budget over a long run (≈ 89 % over 4
/// hours, the burst included). Every sliding window still stays at or under 100.
pub fn default_limits() -> RateLimits {
    RateLimits::new(LimitSet::new([
        Limit::per_second(5),
        Limit::per_minute(200),
    ]))
    .with_bucket(
        AVAILABILITY_BUCKET,
        LimitSet::new([Limit::new(100, Duration::from_secs(30 * 60))])
            .with_burst(AVAILABILITY_BURST),
    )
}

/// The older published profile (5/s and 20/min; 10 availability queries per 30 min), for
/// keys still on it (§5 "Original design vs current docs").
pub fn legacy_limits() -> RateLimits {
    RateLimits::new(LimitSet::new([Limit::per_second(5), Limit::per_minute(20)])).with_bucket(
        AVAILABILITY_BUCKET,
        LimitSet::new([Limit::new(10, Duration::from_secs(30 * 60))]).with_burst(2),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The rule as it was written against a JSON tree; the byte probe must agree with it.
    fn on_tree(body: &[u8]) -> Option<u16> {
        let body: serde_json::Value = serde_json::from_slice(body).ok()?;
        let status = body.get("status")?;
        let n = status.as_i64().or_else(|| {
            status
                .as_f64()
                .filter(|f| f.fract() == 0.0)
                .map(|f| f as i64)
        })?;
        if (200..300).contains(&n) {
            None
        } else {
            Some(u16::try_from(n).ok().filter(|s| *s >= 100).unwrap_or(500))
        }
    }

    fn status_in(v: serde_json::Value) -> Option<u16> {
        error_status_in(&serde_json::to_vec(&v).unwrap())
    }

    #[test]
    fn error_statuses_inside_success_bodies() {
        assert_eq!(status_in(json!({"status": 404, "message": "x"})), Some(404));
        assert_eq!(status_in(json!({"status": 403})), Some(403));
        assert_eq!(status_in(json!({"status": 200, "data": {}})), None);
        assert_eq!(status_in(json!({"status": 202})), None);
        assert_eq!(status_in(json!({"status": "COMPLETED"})), None);
        assert_eq!(status_in(json!({"status": "404"})), None);
        assert_eq!(status_in(json!({"message": "Domains purchased"})), None);
        assert_eq!(status_in(json!([1, 2])), None);
        assert_eq!(status_in(json!({"status": 0})), Some(500));
    }

    #[test]
    fn the_byte_probe_agrees_with_the_tree_rule() {
        let bodies: &[&str] = &[
            r#"{"status": 404, "message": "Workspace not found", "errorId": "b3a1"}"#,
            r#"{"status": 200, "message": "ok", "data": {"status": 404}}"#,
            r#"{"data": [{"status": 500}], "status": 207}"#,
            r#"{"status": 404.0}"#,
            r#"{"status": 404.5}"#,
            r#"{"status": 4.04e2}"#,
            r#"{"status": -404}"#,
            r#"{"status": 99}"#,
            r#"{"status": 70000}"#,
            r#"{"status": 18446744073709551615}"#,
            r#"{"status": 1e30}"#,
            r#"{"status": null}"#,
            r#"{"status": true}"#,
            r#"{"status": [404]}"#,
            r#"{"status": {"code": 404}}"#,
            r#"{"status": 403}"#,
            r#"{"status": 200, "status": 403}"#,
            r#"{"status": 403, "status": 200}"#,
            r#"{"Status": 404}"#,
            r#"[{"status": 404}]"#,
            r#"[404]"#,
            r#""404""#,
            "404",
            "",
            "  ",
            "null",
            r#"{"status": 404"#,
            r#"{"status": 404} trailing"#,
            r#"{"status": 1e400}"#,
            "<html>Bad gateway</html>",
        ];
        for body in bodies {
            assert_eq!(
                error_status_in(body.as_bytes()),
                on_tree(body.as_bytes()),
                "{body}"
            );
        }
    }
}
