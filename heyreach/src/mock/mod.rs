//! A stateful simulator of the HeyReach public API (feature `mock`).
//!
//! [`HeyReachSim`] runs a local HTTP server (the `vendor_http::sim` kit over `wiremock`) that
//! behaves like HeyReach as documented in `shared/vendor-apis/heyreach.md` (§n below):
//! - base path `/api/public`, key in `X-API-KEY`; a missing or unknown key gets **401** with
//!   an empty body (the body is unknown, §2: our choice);
//! - **300 requests per minute per key** over every route, answered with 429 and
//!   `Retry-After` (§4: the header is a guess; the window is sliding);
//! - routing as measured (§10.2): a wrong method on a real route → **405**, an unknown route
//!   (`/list/DeleteList`, `/campaign/Delete`, `/linkedinaccount/GetAll`...) → **404**,
//!   routes that exist but are not simulated → 501 with an `errorMessage`. HeyReach's
//!   404/405 bodies are probably empty (§3); the simulator kit sends
//!   `{"errorMessage": "Endpoint not found"}` / `"Method not allowed"`, which clients treat
//!   the same way (status first);
//! - a JSON endpoint called without a JSON body → **415** ProblemDetails (§1);
//! - business errors `400 {"errorMessage"}` and ASP.NET validation problems
//!   `{"title", "errors": {"Field": [...]}}` (§3);
//! - lists: `CreateEmptyList` (`type` defaults to `USER_LIST`, other values than
//!   `USER_LIST`/`COMPANY_LIST` are a binding error; duplicate names are **allowed** by
//!   default, as no source shows HeyReach checking, and can be refused with
//!   [`HeyReachSimConfig::reject_duplicate_list_names`]); `GetAll` with a case-insensitive
//!   substring `keyword`, `listType` and `campaignIds` filters, newest first; `GetById`;
//!   `totalItemsCount` follows the leads;
//! - leads: `AddLeadsToListV2` refuses more than 100 leads with the ASP.NET max-length
//!   validation error, upserts on the profile URL (normalised: case, scheme, `www.`, query,
//!   trailing slash), silently drops leads without `profileUrl`/`firstName`/`lastName`, counts
//!   non-LinkedIn URLs as failed, and refuses custom field names outside `[A-Za-z0-9_]+`;
//!   `linkedin_id` shows as null for [`HeyReachSimConfig::member_id_delay`] after a lead is
//!   added; `GetLeadsFromList` (limit ≤ 1000, filters); both deletes (`notFoundInList`
//!   holds usernames);
//! - senders (`li_account`) and campaigns are seeded; campaigns support `GetAll`/`GetById`
//!   and `StartCampaign` (DRAFT → STARTING → IN_PROGRESS after
//!   [`HeyReachSimConfig::campaign_start_delay`], checked on read), `Pause` and `Resume` with
//!   HeyReach's verbatim 400 messages;
//! - unknown ids → 404 `{"errorMessage": "... not found."}` (status and wording are guesses,
//!   §6.3/§7.2).
//!
//! Several keys can map to one workspace, and [`HeyReachState::add_workspace`] makes an
//! isolated one.
//!
//! ```no_run
//! # async fn run() -> heyreach::Result<()> {
//! use heyreach::mock::HeyReachSim;
//! use heyreach::CreateListRequest;
//!
//! let sim = HeyReachSim::start().await;
//! let client = sim.client();
//! let list = client.lists().create(&CreateListRequest::user_list("Prospects")).await?;
//! assert_eq!(sim.lists_created_named("Prospects"), 1);
//! assert_eq!(sim.lead_count(list.id), Some(0));
//! # Ok(()) }
//! ```

mod state;
mod wire;

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use vendor_http::sim::{Faults, Journal, SimConfig, SimServer, WindowEnforcer};

pub use state::{DEFAULT_WORKSPACE, HeyReachState, SeedCampaign, WorkspaceId, messages, routes};

use crate::{Client, ClientBuilder, HeyReach, ListId, RateLimits, RetryConfig};

/// The API key the simulator accepts by default. Shaped like a real one (base64, ending in
/// `=`, §2) so key handling is exercised.
pub const TEST_API_KEY: &str = "aGV5cmVhY2gtc2ltLXRlc3Qta2V5LTAwMDAwMDAx=";

/// Simulator settings.
#[derive(Clone)]
pub struct HeyReachSimConfig {
    /// Keys accepted for the default workspace (default: [`TEST_API_KEY`]).
    pub api_keys: Vec<String>,
    /// Limits enforced per key (`None` = [`crate::default_limits`], 300/min). Use
    /// [`RateLimits::unlimited`] to switch enforcement off, or `.scaled(f)`.
    pub limits: Option<RateLimits>,
    /// Latency added to every answer.
    pub latency: Duration,
    /// How long a `Timeout` fault holds its answer (keep it above the client's timeout).
    pub hang: Duration,
    /// Refuse a second list with the same name (case-insensitive) in a workspace with
    /// `400 {"errorMessage": "A list with this name already exists."}`. Default `false`:
    /// HeyReach is not known to check (§6.1).
    pub reject_duplicate_list_names: bool,
    /// How long a new lead's `linkedin_id` reads as null (§6.4). Default zero.
    pub member_id_delay: Duration,
    /// How long a started campaign reads STARTING before IN_PROGRESS (§7.4). Default zero.
    pub campaign_start_delay: Duration,
}

impl Default for HeyReachSimConfig {
    fn default() -> Self {
        HeyReachSimConfig {
            api_keys: vec![TEST_API_KEY.to_string()],
            limits: None,
            latency: Duration::ZERO,
            hang: Duration::from_secs(5),
            reject_duplicate_list_names: false,
            member_id_delay: Duration::ZERO,
            campaign_start_delay: Duration::ZERO,
        }
    }
}

impl fmt::Debug for HeyReachSimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeyReachSimConfig")
            .field("api_keys", &format!("[{} REDACTED]", self.api_keys.len()))
            .field("limits", &self.limits)
            .field("latency", &self.latency)
            .field("hang", &self.hang)
            .field(
                "reject_duplicate_list_names",
                &self.reject_duplicate_list_names,
            )
            .field("member_id_delay", &self.member_id_delay)
            .field("campaign_start_delay", &self.campaign_start_delay)
            .finish()
    }
}

/// A running HeyReach simulator. Dereferences to [`HeyReachState`] for seeding and state
/// inspection (`sim.seed_list(..)`, `sim.leads(list)`, `sim.lists_created()`...).
pub struct HeyReachSim {
    server: SimServer<HeyReachState>,
    api_key: String,
    limits: RateLimits,
}

impl fmt::Debug for HeyReachSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeyReachSim")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl Deref for HeyReachSim {
    type Target = HeyReachState;
    fn deref(&self) -> &HeyReachState {
        self.server.vendor()
    }
}

impl HeyReachSim {
    /// Start with the default configuration.
    pub async fn start() -> Self {
        Self::start_with(HeyReachSimConfig::default()).await
    }

    /// Start with `config`.
    pub async fn start_with(config: HeyReachSimConfig) -> Self {
        let state = Arc::new(HeyReachState::new(&config));
        let limits = config.limits.clone().unwrap_or_else(crate::default_limits);
        let server = SimServer::start(
            state,
            SimConfig {
                limits: Some(limits.clone()),
                latency: config.latency,
                hang: config.hang,
            },
            crate::default_limits(),
        )
        .await;
        HeyReachSim {
            server,
            api_key: config.api_keys.first().cloned().unwrap_or_default(),
            limits,
        }
    }

    /// The base URL to give a client (`http://127.0.0.1:port/api/public`).
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The first configured API key.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// A builder pointed at the simulator with its key, [`RetryConfig::fast`], a 2 s
    /// timeout and the limits the simulator enforces.
    pub fn client_builder(&self) -> ClientBuilder<HeyReach> {
        Client::builder()
            .api_key(self.api_key.clone())
            .base_url(self.base_url())
            .retry(RetryConfig::fast())
            .timeout(Duration::from_secs(2))
            .rate_limits(self.limits.clone())
    }

    /// A ready client (see [`client_builder`](Self::client_builder)).
    ///
    /// # Panics
    /// Never in practice: the simulator's URL and key are valid.
    pub fn client(&self) -> Client {
        self.client_builder()
            .build()
            .expect("the simulator's client configuration is valid")
    }

    /// Every request received.
    pub fn journal(&self) -> &Journal {
        self.server.journal()
    }

    /// Fault injection (route keys are in [`routes`]).
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// The rate-limit enforcer (change limits, count refusals).
    pub fn limits(&self) -> &WindowEnforcer {
        self.server.limits()
    }

    /// Change the latency added to every answer.
    pub fn set_latency(&self, latency: Duration) {
        self.server.set_latency(latency);
    }

    /// The state (also reachable through `Deref`).
    pub fn state(&self) -> &HeyReachState {
        self.server.vendor()
    }

    /// `CreateEmptyList` requests received (whatever their outcome).
    pub fn create_list_calls(&self) -> usize {
        self.journal().count(routes::CREATE_LIST)
    }

    /// `AddLeadsToListV2` requests received (whatever their outcome).
    pub fn leads_added_calls(&self) -> usize {
        self.journal().count(routes::ADD_LEADS)
    }

    /// `AddLeadsToListV2` requests received for `list`.
    pub fn leads_added_calls_for(&self, list: ListId) -> usize {
        self.journal().count_where(|e| {
            e.route == routes::ADD_LEADS
                && e.body.get("listId").and_then(serde_json::Value::as_i64) == Some(list.0)
        })
    }

    /// Requests received for a route key (see [`routes`]).
    pub fn calls(&self, route: &str) -> usize {
        self.journal().count(route)
    }
}
