//! A stateful PlusVibe simulator (feature `mock`), built on the `vendor_http::sim` kit.
//!
//! It serves the standard API under `/api/v1` (header `x-api-key`) and the partner API under
//! a configurable prefix (default `/api/v1`, the docs' most likely base; §1.1), with the
//! vendor's paths, methods, envelopes and status codes as `vendor-apis/plusvibe.md` §8
//! describes them:
//!
//! - **Accounts and keys**: every API key belongs to an account (an owner login with its
//!   workspaces). [`TEST_API_KEY`] owns one workspace named [`TEST_WORKSPACE_NAME`].
//! - **Workspaces**: `GET /authenticate` lists the key's workspaces; `POST /workspaces/add/`
//!   creates one (duplicate names are allowed by default — PlusVibe does not say —,
//!   or rejected with 400 when [`PlusVibeSimConfig::reject_duplicate_workspace_names`]).
//! - **Clients**: `POST /client` validates the documented required fields and returns
//!   `{client_id, email, password}` with a random password shown only there; `GET /client/`
//!   lists the read shape (never the password); `DELETE /client` reads its JSON body.
//!   A duplicate `client_email` is a 400 (configurable).
//! - **Email accounts** per workspace, with analytics at `-1` ("no data") and counters at 0
//!   until a test sets them ([`PlusVibeState::set_health`]). Bulk add (and the partner
//!   upload) only *accept*: the accounts appear after
//!   [`PlusVibeSimConfig::account_add_delay`] (an `Instant` compared on read). Bulk update
//!   validates the values and maps them into the read shape; the warmup status takes only
//!   `ACTIVE`/`INACTIVE` (`PAUSED` → 400). Delete goes by email (unknown → 404).
//! - **Errors**: `{"status":"error","message":"<field>: <reason>"}`; a missing or unknown key
//!   → 401; a workspace the key cannot reach → 400. Partner errors use
//!   `{"code":0,"message":...}`; bad partner credentials → 401.
//! - **Partner API**: the credentials are an owner login or (configurably) a client login.
//!   The upload is rejected with 400 without a known `provider_id` unless
//!   [`PlusVibeSimConfig::partner_upload_requires_provider_id`] is off (§6.3 reports the
//!   real service does this).
//! - **Zapmail link**: [`PlusVibeState`] implements [`MailboxImporter`]: a client login (or
//!   owner login) receives exported mailboxes into its (first) workspace after a delay.
//!
//! Rate limits (5/s per key by default), faults, latency and the request journal come from
//! the kit.

mod state;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

pub use state::{
    AccountSource, AddedAccount, BulkUpdateRecord, PartnerUploadRecord, PlusVibeState, SimAccount,
    SimClient, SimGrant, SimHealth, SimWorkspace, WarmupUpdateRecord,
};
pub use vendor_http::sim::{
    AfterApply, Chaos, ExportedMailbox, Fault, Faults, Journal, JournalEntry, MailboxImporter,
    SimConfig, WindowEnforcer,
};

use vendor_http::sim::SimServer;

use crate::{
    Client, ClientBuilder, PartnerClient, PartnerCredentials, PlusVibe, RateLimits, RetryConfig,
    WorkspaceId,
};

/// The simulator's default API key.
pub const TEST_API_KEY: &str = "pv-sim-key-5f0c1e2d3a4b";
/// The login email of the default key's account owner.
pub const TEST_OWNER_EMAIL: &str = "owner@agency.example";
/// The owner's password (partner credentials and the Zapmail "PIPL" link accept it).
pub const TEST_OWNER_PASSWORD: &str = "sim-owner-password-1";
/// The name of the default key's initial workspace.
pub const TEST_WORKSPACE_NAME: &str = "Agency Workspace";
/// The partner `provider_id` the simulator accepts by default.
pub const TEST_PROVIDER_ID: &str = "sim-provider-1";

/// One simulated PlusVibe account: an API key and its owner login.
#[derive(Clone)]
pub struct SimAccountSeed {
    /// The account's API key.
    pub api_key: String,
    /// The owner's login email.
    pub owner_email: String,
    /// The owner's password.
    pub owner_password: String,
    /// The name of the account's first workspace.
    pub workspace_name: String,
}

impl std::fmt::Debug for SimAccountSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimAccountSeed")
            .field("api_key", &"[REDACTED]")
            .field("owner_email", &self.owner_email)
            .field("owner_password", &"[REDACTED]")
            .field("workspace_name", &self.workspace_name)
            .finish()
    }
}

impl Default for SimAccountSeed {
    fn default() -> Self {
        SimAccountSeed {
            api_key: TEST_API_KEY.into(),
            owner_email: TEST_OWNER_EMAIL.into(),
            owner_password: TEST_OWNER_PASSWORD.into(),
            workspace_name: TEST_WORKSPACE_NAME.into(),
        }
    }
}

/// Simulator settings.
#[derive(Debug, Clone)]
pub struct PlusVibeSimConfig {
    /// The simulated accounts (the first one's key is [`PlusVibeSim::api_key`]).
    pub accounts: Vec<SimAccountSeed>,
    /// Limits enforced per key (`None` = [`crate::default_limits`], 5/s; use
    /// [`RateLimits::unlimited`] to switch enforcement off, `.scaled(f)` to speed up).
    pub limits: Option<RateLimits>,
    /// Latency added to every answer.
    pub latency: Duration,
    /// How long a `Fault::Timeout` holds the answer.
    pub hang: Duration,
    /// How long accepted accounts (bulk add, partner upload) take to appear.
    pub account_add_delay: Duration,
    /// Server path (from the root) under which the partner endpoints live.
    pub partner_path_prefix: String,
    /// Whether a client login works as partner credentials (unverified, §7 item 13).
    pub partner_accepts_client_logins: bool,
    /// Whether the partner upload needs a known `provider_id` (§6.3: reportedly yes).
    pub partner_upload_requires_provider_id: bool,
    /// The provider ids the partner upload accepts.
    pub partner_provider_ids: Vec<String>,
    /// Reject a second workspace with the same name (PlusVibe does not say; default off).
    pub reject_duplicate_workspace_names: bool,
    /// Reject a second client with the same email (default on, §8).
    pub reject_duplicate_client_emails: bool,
    /// Reject `warmup_business_type` in bulk updates with 400, as some accounts do (§7
    /// item 8; default off).
    pub reject_warmup_business_type: bool,
}

impl Default for PlusVibeSimConfig {
    fn default() -> Self {
        PlusVibeSimConfig {
            accounts: vec![SimAccountSeed::default()],
            limits: None,
            latency: Duration::ZERO,
            hang: Duration::from_secs(5),
            account_add_delay: Duration::ZERO,
            partner_path_prefix: "/api/v1".into(),
            partner_accepts_client_logins: true,
            partner_upload_requires_provider_id: true,
            partner_provider_ids: vec![TEST_PROVIDER_ID.into()],
            reject_duplicate_workspace_names: false,
            reject_duplicate_client_emails: true,
            reject_warmup_business_type: false,
        }
    }
}

/// A running PlusVibe simulator.
///
/// Dereferences to its [`PlusVibeState`] for state inspection, test hooks and journal
/// helpers (`sim.workspaces()`, `sim.set_health(..)`, `sim.warmup_updates()`, ...).
pub struct PlusVibeSim {
    server: SimServer<PlusVibeState>,
    api_key: String,
    partner_prefix: String,
    hang: Duration,
}

impl std::fmt::Debug for PlusVibeSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlusVibeSim")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl Deref for PlusVibeSim {
    type Target = PlusVibeState;
    fn deref(&self) -> &PlusVibeState {
        self.server.vendor()
    }
}

impl PlusVibeSim {
    /// A simulator with the default settings.
    pub async fn start() -> Self {
        Self::start_with(PlusVibeSimConfig::default()).await
    }

    /// A simulator with `config`.
    ///
    /// # Panics
    /// When `config.accounts` is empty.
    pub async fn start_with(config: PlusVibeSimConfig) -> Self {
        assert!(
            !config.accounts.is_empty(),
            "PlusVibeSimConfig::accounts needs at least one account"
        );
        let state = Arc::new(PlusVibeState::new(&config));
        let server = SimServer::start(
            state,
            SimConfig {
                limits: config.limits.clone(),
                latency: config.latency,
                hang: config.hang,
            },
            crate::default_limits(),
        )
        .await;
        PlusVibeSim {
            server,
            api_key: config.accounts[0].api_key.clone(),
            partner_prefix: config.partner_path_prefix.clone(),
            hang: config.hang,
        }
    }

    /// The server's root URI.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The standard API's base URL (`<uri>/api/v1`).
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The partner API's base URL (`<uri><partner prefix>`).
    pub fn partner_base_url(&self) -> String {
        format!("{}{}", self.server.uri(), self.partner_prefix)
    }

    /// The first account's API key.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The first account's owner login, as partner credentials.
    pub fn owner_credentials(&self) -> PartnerCredentials {
        let (email, password) = self.state().owner_login(0);
        PartnerCredentials::new(email, password)
    }

    /// The first account's initial workspace.
    pub fn agency_workspace_id(&self) -> WorkspaceId {
        self.state().owner_workspace(0)
    }

    /// A builder pointed at the simulator with the first key, fast retries, a timeout
    /// shorter than the simulator's hang, and the limits the simulator enforces.
    pub fn client_builder(&self) -> ClientBuilder<PlusVibe> {
        Client::builder()
            .api_key(self.api_key.clone())
            .base_url(self.base_url())
            .retry(RetryConfig::fast())
            .timeout((self.hang / 2).max(Duration::from_millis(200)))
            .rate_limits(self.server.limits().limits())
    }

    /// A ready client for the first key.
    ///
    /// # Panics
    /// Never in practice (the builder's inputs are valid).
    pub fn client(&self) -> Client {
        self.client_builder()
            .build()
            .expect("simulator client configuration is valid")
    }

    /// A partner client on the simulator's partner prefix with `credentials`.
    ///
    /// # Panics
    /// Never in practice (the builder's inputs are valid).
    pub fn partner_client(&self, credentials: PartnerCredentials) -> PartnerClient {
        self.client_builder()
            .base_url(self.partner_base_url())
            .build()
            .expect("simulator client configuration is valid")
            .partner(credentials)
    }

    /// The simulator's state (also reachable through `Deref`).
    pub fn state(&self) -> &Arc<PlusVibeState> {
        self.server.vendor()
    }

    /// The importer the Zapmail simulator calls when it exports mailboxes to "PIPL".
    pub fn importer(&self) -> Arc<dyn MailboxImporter> {
        self.server.vendor().clone()
    }

    /// Every request received.
    pub fn journal(&self) -> &Journal {
        self.server.journal()
    }

    /// Fault injection (route keys like `"POST /client"`, see [`routes`]).
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// The rate-limit enforcer (change the limits, count refusals).
    pub fn limits(&self) -> &WindowEnforcer {
        self.server.limits()
    }

    /// Change the latency added to every answer.
    pub fn set_latency(&self, latency: Duration) {
        self.server.set_latency(latency);
    }
}

/// The simulator's route keys (for fault injection and journal queries).
pub mod routes {
    /// `GET /authenticate`.
    pub const AUTHENTICATE: &str = "GET /authenticate";
    /// `POST /workspaces/add/`.
    pub const CREATE_WORKSPACE: &str = "POST /workspaces/add/";
    /// `POST /client`.
    pub const CREATE_CLIENT: &str = "POST /client";
    /// `GET /client/`.
    pub const LIST_CLIENTS: &str = "GET /client/";
    /// `DELETE /client`.
    pub const DELETE_CLIENT: &str = "DELETE /client";
    /// `GET /account/list`.
    pub const LIST_ACCOUNTS: &str = "GET /account/list";
    /// `PUT /account/bulk-update`.
    pub const BULK_UPDATE: &str = "PUT /account/bulk-update";
    /// `PATCH /account/bulk-update-warmup`.
    pub const BULK_UPDATE_WARMUP: &str = "PATCH /account/bulk-update-warmup";
    /// `POST /account/bulk-add-regular-accounts`.
    pub const BULK_ADD: &str = "POST /account/bulk-add-regular-accounts";
    /// `POST /account/delete`.
    pub const DELETE_ACCOUNT: &str = "POST /account/delete";
    /// Partner: `POST /webhook/partner-list-workspace`.
    pub const PARTNER_LIST_WORKSPACES: &str = "POST /webhook/partner-list-workspace";
    /// Partner: `GET /webhook/partner-list-email-accounts`.
    pub const PARTNER_LIST_ACCOUNTS: &str = "GET /webhook/partner-list-email-accounts";
    /// Partner: `POST /partner-upload-regular-accounts`.
    pub const PARTNER_UPLOAD: &str = "POST /partner-upload-regular-accounts";
    /// Partner: `POST /webhook/partner-google-oauth-url`.
    pub const PARTNER_GOOGLE_OAUTH: &str = "POST /webhook/partner-google-oauth-url";
}
