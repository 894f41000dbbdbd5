//! Typed, rate-limited client for the [PlusVibe](https://plusvibe.ai) (ex-pipl.ai) API.
//!
//! Two surfaces (see `vendor-apis/plusvibe.md` §1.1):
//! - the **standard API** at `https://api.plusvibe.ai/api/v1`, authenticated with the
//!   `x-api-key` header: workspaces ([`Client::workspaces`]), white-label client logins
//!   ([`Client::client_access`]) and email accounts ([`Client::email_accounts`]);
//! - the **partner API** ("For Email Infra Provider Partner"), authenticated with a PlusVibe
//!   login (`pipl_username` / `pipl_password`) in the body or query
//!   ([`Client::partner`], [`PartnerClient`]).
//!
//! `workspace_id` placement is automatic: every workspace-scoped method takes a
//! [`WorkspaceId`] and the client puts it in the query string for GET and in the JSON body
//! for POST/PUT/PATCH/DELETE (§1.2).
//!
//! Rate limiting: one budget per account, 5 requests/second by default
//! ([`default_limits`]); heavy users serialize at about 2.5 requests/second
//! ([`serialized_limits`]). Share one limiter between every client of the same key with
//! `ClientBuilder::rate_limiter(client.rate_limiter())`.
//!
//! ```no_run
//! use plusvibe::{Client, WarmupStatus, accounts::{AccountSettings, ListAccounts}};
//!
//! # async fn run() -> plusvibe::Result<()> {
//! let client = Client::builder().api_key("pv-live-key").build()?;
//! let agency = client.workspaces().list().await?.remove(0);
//! let accounts = client
//!     .email_accounts()
//!     .list_all(&agency.id, &ListAccounts::default())
//!     .await?;
//! let ids: Vec<_> = accounts.iter().map(|a| a.id.clone()).collect();
//! client
//!     .email_accounts()
//!     .bulk_update(&agency.id, &ids, &AccountSettings::recommended())
//!     .await?;
//! client
//!     .email_accounts()
//!     .bulk_update_warmup(&agency.id, &ids, WarmupStatus::Active)
//!     .await?;
//! for a in &accounts {
//!     let h = a.warmup_health();
//!     println!("{}: 7d health {:?}, sent today {:?}", a.email, h.overall_7d, h.email_sent_today);
//! }
//! # Ok(()) }
//! ```
//!
//! With the `mock` feature, [`mock::PlusVibeSim`] is a stateful simulator of both surfaces.

pub mod accounts;
pub mod clients;
mod de;
mod ids;
pub mod partner;
mod types;
pub mod workspaces;

#[cfg(feature = "mock")]
pub mod mock;

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use vendor_http::probe::{Field, top_level};
use vendor_http::reqwest::Method;
use vendor_http::reqwest::header::HeaderName;

pub use ids::{AccountId, ClientId, Permission, WorkspaceId};
pub use partner::{PartnerClient, PartnerCredentials};
pub use secrecy::{ExposeSecret, SecretString};
pub use types::{AccountStatus, ClientStatus, Provider, StatusResponse, WarmupStatus, YesNo};
pub use vendor_http::limit::GENERAL;
pub use vendor_http::{
    ApiError, ClientBuilder, Error, ErrorDetails, ErrorKind, HttpCore, Limit, LimitSet, Permit,
    RateLimiter, RateLimits, Request, Result, RetryConfig, Sent,
};

/// The vendor's production base URL of the standard API.
pub const DEFAULT_BASE_URL: &str = "https://api.plusvibe.ai/api/v1";

/// Marker type describing PlusVibe to the shared HTTP core.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlusVibe;

impl vendor_http::Vendor for PlusVibe {
    const NAME: &'static str = "plusvibe";
    const DEFAULT_BASE_URL: &'static str = DEFAULT_BASE_URL;
    type Client = Client;

    fn default_limits() -> RateLimits {
        default_limits()
    }

    fn auth_header() -> HeaderName {
        // Lower case as documented (§1.1).
        HeaderName::from_static("x-api-key")
    }

    fn error_details(body: &Value) -> ErrorDetails {
        error_details(body)
    }

    fn error_in_success(body: &[u8]) -> Option<u16> {
        error_in_success(body)
    }
}

/// PlusVibe's documented limit: 5 requests per second per account (§1.4; quoted by every
/// integrator, no official page). One budget covers every workspace and both API surfaces,
/// so every client on the same key should share one limiter.
///
/// Integrators that hammer the API found the sustained ceiling lower when calls come in
/// bursts and serialize at about 2.5 requests/second: see [`serialized_limits`].
pub fn default_limits() -> RateLimits {
    RateLimits::new(LimitSet::new([Limit::per_second(5)]))
}

/// The conservative mode some production integrators settled on (§1.4, PV-GATE): one
/// request at a time, 400 ms apart (2.5 requests/second, no burst).
pub fn serialized_limits() -> RateLimits {
    RateLimits::new(LimitSet::new([Limit::new(1, Duration::from_millis(400))]))
}

/// Read PlusVibe's (undocumented, §1.6) error bodies leniently: `message`, `error`, an
/// `errors` array of strings or `{message}` objects, or a bare JSON string.
pub fn error_details(body: &Value) -> ErrorDetails {
    let mut d = ErrorDetails::from_common_fields(body);
    if let Some(list) = body.get("errors").and_then(Value::as_array) {
        let parts: Vec<String> = list
            .iter()
            .filter_map(|e| match e {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => o
                    .get("message")
                    .or_else(|| o.get("msg"))
                    .and_then(Value::as_str)
                    .map(|m| match o.get("field").or_else(|| o.get("path")) {
                        Some(Value::String(f)) => format!("{f}: {m}"),
                        _ => m.to_string(),
                    }),
                _ => None,
            })
            .collect();
        if !parts.is_empty() {
            let joined = parts.join("; ");
            d.message = Some(match d.message {
                Some(m) if m != joined => format!("{m} ({joined})"),
                _ => joined,
            });
        }
    }
    if d.message.is_none()
        && let Value::String(s) = body
        && !s.trim().is_empty()
    {
        d.message = Some(s.clone());
    }
    d
}

/// An error carried inside a 2xx body. PlusVibe does not document one; we defensively treat
/// `{"status":"error", ...}` and the partner envelope's failure code `{"code":0, ...}` (its
/// success code is `1`, §1.6) as a 400, so a rejected request never looks like a success.
/// Bodies that are not one JSON object carry no error.
///
/// Reads only the top-level `status` and `code` fields, without building a JSON tree (it
/// runs on every successful answer).
pub fn error_in_success(body: &[u8]) -> Option<u16> {
    let [status, code] = top_level(body, ["status", "code"])?;
    if status.as_ref().and_then(Field::as_str) == Some("error") {
        return Some(400);
    }
    if code.as_ref().and_then(Field::as_i64) == Some(0) {
        return Some(400);
    }
    None
}

/// A PlusVibe client: cheap to clone, safe to share between tasks.
///
/// Build it with [`Client::builder`]; `Debug` never shows the API key.
#[derive(Clone, Debug)]
pub struct Client {
    core: HttpCore,
}

impl From<HttpCore> for Client {
    fn from(core: HttpCore) -> Self {
        Client { core }
    }
}

impl Client {
    /// A builder: `.api_key(..)` is required; `.base_url(..)` defaults to
    /// [`DEFAULT_BASE_URL`]; limits default to [`default_limits`].
    pub fn builder() -> ClientBuilder<PlusVibe> {
        ClientBuilder::new()
    }

    /// Workspaces: list (`GET /authenticate`) and create.
    pub fn workspaces(&self) -> workspaces::Workspaces<'_> {
        workspaces::Workspaces { client: self }
    }

    /// Client access: white-label client logins (create, list, delete).
    pub fn client_access(&self) -> clients::ClientAccess<'_> {
        clients::ClientAccess { client: self }
    }

    /// Email accounts: list, bulk update, warmup status, add SMTP/IMAP accounts, delete.
    pub fn email_accounts(&self) -> accounts::EmailAccounts<'_> {
        accounts::EmailAccounts { client: self }
    }

    /// The partner API with these PlusVibe login credentials, on this client's base URL and
    /// rate limiter (see [`PartnerClient`] for the path prefix).
    pub fn partner(&self, credentials: PartnerCredentials) -> PartnerClient {
        PartnerClient::new(self.clone(), credentials)
    }

    /// The shared HTTP core (for operations this crate does not wrap yet).
    pub fn core(&self) -> &HttpCore {
        &self.core
    }

    /// The base URL in use.
    pub fn base_url(&self) -> &str {
        self.core.base_url()
    }

    /// The rate limiter in use: give it to other clients on the same key.
    pub fn rate_limiter(&self) -> Arc<dyn RateLimiter> {
        self.core.rate_limiter()
    }

    /// A workspace-scoped request: `workspace_id` in the query for GET, in the JSON body
    /// (merged into `body`, which must serialize to an object) otherwise (§1.2).
    pub(crate) fn scoped(
        method: Method,
        path: &str,
        workspace: &WorkspaceId,
        body: Option<&impl Serialize>,
    ) -> vendor_http::Request {
        if method == Method::GET {
            let req = vendor_http::Request::new(method, path).query("workspace_id", workspace);
            debug_assert!(body.is_none(), "GET requests carry no body");
            return req;
        }
        let mut value = match body {
            Some(b) => serde_json::to_value(b).expect("request bodies serialize to JSON"),
            None => Value::Object(Default::default()),
        };
        if let Value::Object(map) = &mut value {
            map.insert(
                "workspace_id".into(),
                Value::String(workspace.as_ref().to_string()),
            );
        }
        vendor_http::Request::new(method, path).json_value(value)
    }
}

/// Check that `ids` is non-empty and each id is a 24-hex ObjectId, as the bulk endpoints
/// declare (§1.3), before spending a request.
pub(crate) fn check_object_ids<'a>(
    what: &str,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    let mut n = 0;
    for id in ids {
        if !ids::is_object_id(id) {
            return Err(Error::invalid_input(
                "plusvibe",
                format!("{what}[{n}]: {id:?} is not a 24-character lower-case hex id"),
            ));
        }
        n += 1;
    }
    if n == 0 {
        return Err(Error::invalid_input(
            "plusvibe",
            format!("{what}: at least one id is required"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule as it was written against a JSON tree; the byte probe must agree with it.
    fn on_tree(body: &[u8]) -> Option<u16> {
        let body: Value = serde_json::from_slice(body).ok()?;
        let obj = body.as_object()?;
        if obj.get("status").and_then(Value::as_str) == Some("error") {
            return Some(400);
        }
        if obj.get("code").and_then(Value::as_i64) == Some(0) {
            return Some(400);
        }
        None
    }

    #[test]
    fn errors_inside_success_bodies_agree_with_the_tree_rule() {
        let cases: &[(&str, Option<u16>)] = &[
            (
                r#"{"status": "error", "message": "Invalid API key"}"#,
                Some(400),
            ),
            (
                r#"{"code": 0, "message": "Invalid pipl_username"}"#,
                Some(400),
            ),
            (r#"{"code": 0, "status": "success"}"#, Some(400)),
            (r#"{"status": "success"}"#, None),
            (r#"{"code": 1, "message": "success", "data": []}"#, None),
            (r#"{"status": "\u0065rror"}"#, Some(400)),
            (r#"{"status": "ERROR"}"#, None),
            (r#"{"status": "error "}"#, None),
            (r#"{"status": 400}"#, None),
            (r#"{"status": ["error"]}"#, None),
            (r#"{"code": 0.0}"#, None),
            (r#"{"code": -0}"#, on_tree(br#"{"code": -0}"#)),
            (r#"{"code": "0"}"#, None),
            (r#"{"code": false}"#, None),
            (r#"{"code": null, "status": null}"#, None),
            (r#"{"code": 0, "code": 1}"#, None),
            (r#"{"code": 1, "code": 0}"#, Some(400)),
            (r#"{"data": {"status": "error", "code": 0}}"#, None),
            (r#"[{"status": "error"}]"#, None),
            (r#""error""#, None),
            ("", None),
            (r#"{"status": "error""#, None),
            (r#"{"status": "error"} x"#, None),
        ];
        for (body, want) in cases {
            assert_eq!(error_in_success(body.as_bytes()), *want, "{body}");
            assert_eq!(on_tree(body.as_bytes()), *want, "{body}");
        }
    }
}
