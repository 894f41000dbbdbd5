//! Typed, rate-limited client for the [HeyReach](https://www.heyreach.io) public API
//! (`https://api.heyreach.io/api/public`, key in the `X-API-KEY` header).
//!
//! What it covers (see `shared/vendor-apis/heyreach.md`, cited as §n below):
//! - [`Client::check_api_key`]: `GET /auth/CheckApiKey` (§2);
//! - lead lists ([`Client::lists`]): create an empty list, get all (with an all-pages helper
//!   and [`Lists::find_by_name`]), get by id, read leads, add leads (any number, sent in
//!   batches of at most 100), delete leads by member id or by profile URL (§6);
//! - LinkedIn accounts, i.e. senders ([`Client::linkedin_accounts`]) (§8);
//! - campaigns ([`Client::campaigns`]): get all, get by id, start/pause/resume (§7).
//!
//! HeyReach reads are `POST`s with JSON bodies; this crate marks them idempotent (so they are
//! retried through 5xx, timeouts and dropped connections) and always sends a body (`{}` at
//! least), because a JSON endpoint called without one answers 415 (§1). Creating a list is
//! never retried once it may have reached HeyReach: look it up by name first
//! ([`Lists::find_by_name`]). The default limiter keeps HeyReach's documented 300 requests
//! per minute per key (§4; see [`default_limits`]).
//!
//! ```no_run
//! # async fn run() -> heyreach::Result<()> {
//! use heyreach::{Client, CreateListRequest, Lead};
//!
//! let client = Client::builder().api_key("my-heyreach-key=").build()?;
//! client.check_api_key().await?;
//! let list = match client.lists().find_by_name("Acme's Prospects").await? {
//!     Some(list) => list.id,
//!     None => client.lists().create(&CreateListRequest::user_list("Acme's Prospects")).await?.id,
//! };
//! let leads = vec![Lead::new("Jane", "Doe", "https://www.linkedin.com/in/jane-doe")];
//! let summary = client.lists().add_leads(list, &leads).await?;
//! println!("added {}, updated {}", summary.added, summary.updated);
//! println!("list size: {}", client.lists().lead_count(list).await?);
//! # Ok(()) }
//! ```
//!
//! With the `mock` feature, [`mock::HeyReachSim`] is a stateful simulator of the same API.

mod accounts;
mod campaigns;
mod enums;
mod ids;
mod lists;
mod page;
mod serde_util;

#[cfg(feature = "mock")]
pub mod mock;

use vendor_http::reqwest::header::HeaderName;
use vendor_http::{HttpCore, Request};

pub use accounts::{AccountLimits, GetLinkedInAccountsRequest, LinkedInAccount, LinkedInAccounts};
pub use campaigns::{Campaign, Campaigns, GetCampaignsRequest, ProgressStats};
pub use enums::{CampaignStatus, ListType};
pub use ids::{CampaignId, LeadMemberId, LinkedInAccountId, ListId};
pub use lists::{
    AddLeadsError, AddLeadsRequest, AddLeadsResponse, AddLeadsSummary, CreateListRequest,
    CreatedList, CustomField, DeleteByProfileUrlResponse, GetLeadsRequest, GetListsRequest, Lead,
    LeadList, ListLead, Lists, MAX_LEADS_PER_ADD,
};
pub use page::{MAX_LEADS_PAGE_LIMIT, MAX_PAGE_LIMIT, Page, VENDOR_DEFAULT_LIMIT};
pub use vendor_http::{
    ApiError, ClientBuilder, Error, ErrorKind, GENERAL, Limit, LimitSet, Permit, RateLimiter,
    RateLimits, Result, RetryConfig, Sent,
};

/// The vendor name used in errors, spans and limiter keys.
pub const VENDOR: &str = "heyreach";

/// HeyReach's production base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.heyreach.io/api/public";

/// The header carrying the API key.
pub const API_KEY_HEADER: &str = "x-api-key";

/// HeyReach's documented limits: **300 requests per minute per API key, shared by every
/// endpoint** (§4). Window type and headers are unknown; the limiter keeps the limit in every
/// sliding window, which also satisfies a fixed window.
pub fn default_limits() -> RateLimits {
    RateLimits::new(LimitSet::new([Limit::per_minute(300)]))
}

/// Marker type implementing [`vendor_http::Vendor`] for HeyReach.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeyReach;

impl vendor_http::Vendor for HeyReach {
    const NAME: &'static str = VENDOR;
    const DEFAULT_BASE_URL: &'static str = DEFAULT_BASE_URL;
    type Client = Client;

    fn default_limits() -> RateLimits {
        default_limits()
    }

    fn auth_header() -> HeaderName {
        HeaderName::from_static(API_KEY_HEADER)
    }

    // The shared parser reads `errorMessage` (business rules, §3) and ASP.NET validation
    // problems (`title` + `errors` map), in the order §3 recommends; no override needed.
}

/// The HeyReach client. Cheap to clone; clones share the connection pool and rate limiter.
#[derive(Debug, Clone)]
pub struct Client {
    core: HttpCore,
}

impl From<HttpCore> for Client {
    fn from(core: HttpCore) -> Self {
        Client { core }
    }
}

impl Client {
    /// A builder: set at least [`api_key`](ClientBuilder::api_key).
    pub fn builder() -> ClientBuilder<HeyReach> {
        ClientBuilder::new()
    }

    /// The shared HTTP core (base URL, limiter, retry configuration).
    pub fn core(&self) -> &HttpCore {
        &self.core
    }

    /// `GET /auth/CheckApiKey`: `Ok(())` when the key is valid (HeyReach answers 200 with an
    /// empty body); a bad key is an [`ErrorKind::Auth`] error (401).
    pub async fn check_api_key(&self) -> Result<()> {
        self.core
            .send_unit(Request::get("/auth/CheckApiKey").idempotent())
            .await
    }

    /// Like [`check_api_key`](Self::check_api_key), but a rejected key (401/403) is
    /// `Ok(false)` instead of an error.
    pub async fn is_api_key_valid(&self) -> Result<bool> {
        match self.check_api_key().await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == ErrorKind::Auth => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Lead lists.
    pub fn lists(&self) -> Lists<'_> {
        Lists::new(self)
    }

    /// Campaigns.
    pub fn campaigns(&self) -> Campaigns<'_> {
        Campaigns::new(self)
    }

    /// LinkedIn accounts (senders).
    pub fn linkedin_accounts(&self) -> LinkedInAccounts<'_> {
        LinkedInAccounts::new(self)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::invalid_input(VENDOR, message)
    }
}

/// Check a page `limit` against the endpoint's documented maximum (what HeyReach does above
/// it is unknown, §5, so we refuse before spending a request).
pub(crate) fn check_limit(limit: u32, max: u32) -> Result<()> {
    if limit == 0 || limit > max {
        return Err(Client::invalid(format!(
            "page limit must be between 1 and {max}, got {limit}"
        )));
    }
    Ok(())
}
