//! A stateful Zapmail simulator (feature `mock`), built on the `vendor_http::sim` kit.
//!
//! It behaves like the vendor as `vendor-apis/zapmail.md` describes it (§10 "What a mock
//! should do"), not like a happy-path stub:
//! - documented paths under `/api/v2`, the `x-auth-zapmail` key (missing/unknown → 401),
//!   `x-workspace-key` (unknown → 404 `Workspace not found`, not owned → 403);
//! - the envelope `{status, message, data}`, bare bodies for wallet and purchase, error
//!   bodies `{status, message, errorId}` (optionally inside HTTP 200);
//! - per-key rate limits (5/s, 200/min, 100/30 min for availability) enforced before
//!   authentication, with 429 + `Retry-After` (by the kit);
//! - a wallet per account: purchases debit TLD prices; a short wallet answers with an
//!   invoice and buys **nothing**; `useWallet: false` answers with a payment link;
//! - domains `PENDING → ACTIVE` after N list polls or a delay; DMARC and DNS records;
//! - mailboxes with the username rules, the 5-per-domain **total** cap, slots, billing
//!   details, `IN_PROGRESS → ACTIVE` (or `FAILED`) after N polls or a delay, passwords and
//!   TOTP secrets in list responses;
//! - third-party accounts checked against a linked [`MailboxImporter`] (e.g. the PlusVibe
//!   simulator for app `PIPL`), exports that hand ACTIVE mailboxes to it and move
//!   `PENDING → COMPLETED` (or `FAILED` when the importer refused);
//! - fault injection and a request journal (the kit), plus journal helpers and state
//!   inspection below.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> zapmail::Result<()> {
//! use zapmail::mock::ZapmailSim;
//! use zapmail::domains::BuyDomainsRequest;
//!
//! let sim = ZapmailSim::start().await;
//! let client = sim.client();
//! let outcome = client.domains().buy(&BuyDomainsRequest::with_wallet(["acmeoutreach.com"])).await?;
//! assert!(outcome.is_purchased());
//! assert_eq!(sim.domains_bought("acmeoutreach.com"), 1);
//! # Ok(()) }
//! ```

mod state;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;
use vendor_http::sim::{Faults, Journal, MailboxImporter, SimConfig, SimServer, WindowEnforcer};
use vendor_http::{ClientBuilder, RateLimits, RetryConfig};

use crate::validate::{SupportedTlds, normalize_domain_name};
use crate::{Client, DomainId, DomainStatus, MailboxId, MailboxStatus, WorkspaceId, Zapmail};

pub use state::ZapmailState;

/// The API key the simulator accepts by default (a fixed, documented test value).
pub const TEST_API_KEY: &str = "5f0c7a52-7e1d-4c3b-9a6e-000000000001";

/// Route keys of the simulator (for fault injection and journal queries).
pub mod routes {
    /// `GET /v2/users`.
    pub const USERS: &str = "GET /v2/users";
    /// `GET /v2/wallet/balance`.
    pub const WALLET_BALANCE: &str = "GET /v2/wallet/balance";
    /// `GET /v2/workspaces`.
    pub const LIST_WORKSPACES: &str = "GET /v2/workspaces";
    /// `POST /v2/workspaces`.
    pub const CREATE_WORKSPACE: &str = "POST /v2/workspaces";
    /// `POST /v2/billing`.
    pub const ADD_BILLING: &str = "POST /v2/billing";
    /// `PUT /v2/billing`.
    pub const UPDATE_BILLING: &str = "PUT /v2/billing";
    /// `POST /v2/domains/available`.
    pub const AVAILABLE: &str = "POST /v2/domains/available";
    /// `POST /v2/domains/available-bulk`.
    pub const AVAILABLE_BULK: &str = "POST /v2/domains/available-bulk";
    /// `POST /v2/domains/buy`.
    pub const BUY: &str = "POST /v2/domains/buy";
    /// `GET /v2/domains`.
    pub const LIST_DOMAINS: &str = "GET /v2/domains";
    /// `POST /v2/domains` (filtered list).
    pub const FILTER_DOMAINS: &str = "POST /v2/domains";
    /// `GET /v2/domains/assignable`.
    pub const ASSIGNABLE: &str = "GET /v2/domains/assignable";
    /// `GET /v2/domains/connection-requests`.
    pub const CONNECTION_REQUESTS: &str = "GET /v2/domains/connection-requests";
    /// `POST /v2/domains/dmarc`.
    pub const DMARC: &str = "POST /v2/domains/dmarc";
    /// `POST /v2/mailboxes`.
    pub const CREATE_MAILBOXES: &str = "POST /v2/mailboxes";
    /// `PUT /v2/mailboxes`.
    pub const UPDATE_MAILBOXES: &str = "PUT /v2/mailboxes";
    /// `GET /v2/mailboxes` (one mailbox by `id`).
    pub const GET_MAILBOX: &str = "GET /v2/mailboxes";
    /// `GET /v2/mailboxes/list`.
    pub const LIST_MAILBOXES: &str = "GET /v2/mailboxes/list";
    /// `PUT /v2/mailboxes/scheduled-removal`.
    pub const SCHEDULED_REMOVAL: &str = "PUT /v2/mailboxes/scheduled-removal";
    /// `POST /v2/exports/accounts/third-party`.
    pub const ADD_ACCOUNT: &str = "POST /v2/exports/accounts/third-party";
    /// `PUT /v2/exports/accounts/third-party`.
    pub const UPDATE_ACCOUNT: &str = "PUT /v2/exports/accounts/third-party";
    /// `GET /v2/exports/accounts/third-party`.
    pub const LIST_ACCOUNTS: &str = "GET /v2/exports/accounts/third-party";
    /// `POST /v2/exports/mailboxes`.
    pub const EXPORT: &str = "POST /v2/exports/mailboxes";
    /// `GET /v2/exports/status`.
    pub const EXPORT_STATUS: &str = "GET /v2/exports/status";
    /// `GET /v2/dns/`.
    pub const GET_DNS: &str = "GET /v2/dns";
    /// `POST /v2/dns`.
    pub const ADD_DNS: &str = "POST /v2/dns";
}

/// When a simulated resource leaves its in-progress state: after `after_polls`
/// observations in list/get responses **or** once `after` has passed since creation,
/// whichever comes first. `None` disables that trigger; both `None` = never.
///
/// A poll is a read that returns the resource; with `after_polls: Some(1)` the first read
/// shows it in progress and the second shows it done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// Reads that still show the in-progress state.
    pub after_polls: Option<u32>,
    /// Time after which the resource is done.
    pub after: Option<Duration>,
}

impl Transition {
    /// Done after `n` reads showed it in progress (no time trigger).
    pub const fn polls(n: u32) -> Self {
        Transition {
            after_polls: Some(n),
            after: None,
        }
    }
    /// Done once `d` has passed (no poll trigger).
    pub const fn time(d: Duration) -> Self {
        Transition {
            after_polls: None,
            after: Some(d),
        }
    }
    /// Done at once.
    pub const fn immediate() -> Self {
        Transition::polls(0)
    }
    /// Never done (a resource stuck in progress).
    pub const fn never() -> Self {
        Transition {
            after_polls: None,
            after: None,
        }
    }
}

/// Price of one TLD, per year, USD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TldPrice {
    /// First-year price.
    pub register: Decimal,
    /// Renewal price.
    pub renew: Decimal,
}

impl TldPrice {
    /// A price from cents, e.g. `TldPrice::cents(1299, 2099)`.
    pub fn cents(register: i64, renew: i64) -> Self {
        TldPrice {
            register: Decimal::new(register, 2),
            renew: Decimal::new(renew, 2),
        }
    }
}

/// Default prices: `.com` 12.99/20.99 as observed live (§6.4); the rest plausible.
pub fn default_tld_prices() -> BTreeMap<String, TldPrice> {
    [
        ("com", TldPrice::cents(1299, 2099)),
        ("net", TldPrice::cents(1499, 2299)),
        ("org", TldPrice::cents(1199, 1999)),
        ("biz", TldPrice::cents(1799, 2499)),
        ("live", TldPrice::cents(499, 2999)),
        ("info", TldPrice::cents(399, 2499)),
        ("co", TldPrice::cents(2999, 3299)),
    ]
    .into_iter()
    .map(|(t, p)| (t.to_string(), p))
    .collect()
}

/// Simulator settings. Every field is public; start from `Default` and change what a test
/// needs.
#[derive(Debug, Clone)]
pub struct ZapmailSimConfig {
    /// Valid API keys; each is its own account with a primary workspace "My Workspace".
    /// Default: [`TEST_API_KEY`].
    pub api_keys: Vec<String>,
    /// Rate limits enforced per key (`None` = [`crate::default_limits`]; use
    /// `RateLimits::unlimited()` to switch enforcement off, or `.scaled(f)`).
    pub limits: Option<RateLimits>,
    /// Latency added to every answer.
    pub latency: Duration,
    /// How long an injected timeout holds the answer.
    pub hang: Duration,
    /// Starting wallet balance of each account, USD (default 500).
    pub wallet_balance: Decimal,
    /// Purchased mailbox slots per account (default 1000).
    pub mailbox_slots: u32,
    /// Prices per TLD (default [`default_tld_prices`]).
    pub tld_prices: BTreeMap<String, TldPrice>,
    /// TLDs sold (default: the v2 list, no `.io`).
    pub supported_tlds: SupportedTlds,
    /// Names registered elsewhere: `UNAVAILABLE` in availability checks, and a purchase of
    /// them fails at the registry (refunded; the domain never appears).
    pub taken_domains: BTreeSet<String>,
    /// Mailboxes per domain, in total (default 5).
    pub max_mailboxes_per_domain: usize,
    /// Names per bulk availability call (default 20).
    pub max_bulk_names: usize,
    /// `PENDING → ACTIVE` of bought domains (default: one poll or 200 ms).
    pub domain_activation: Transition,
    /// `IN_PROGRESS → ACTIVE` of mailboxes (default: one poll or 200 ms).
    pub mailbox_activation: Transition,
    /// `PENDING → COMPLETED/FAILED` of exports (default: one poll or 200 ms).
    pub export_completion: Transition,
    /// Delay passed to the linked importer (how long until exported accounts show up
    /// there; default 50 ms).
    pub export_import_delay: Duration,
    /// Successful exports per (mailbox, app) in a rolling 7 days (`None` = no cap;
    /// default 3, §5).
    pub export_cap_per_week: Option<u32>,
    /// Whether each account's primary workspace starts with billing details (default
    /// true); new workspaces start without.
    pub primary_workspace_has_billing: bool,
    /// Whether purchases and mailbox creation require billing details (default true).
    pub require_billing_details: bool,
    /// Whether `GET /v2/exports/status` answers 400 without `x-workspace-key`, as the docs
    /// say (default true, §6.11).
    pub export_status_requires_workspace_key: bool,
    /// Answer every error with HTTP 200 and the error envelope (default false).
    pub errors_in_200: bool,
    /// Whether apps without a linked importer accept any login (default true).
    pub accept_unlinked_export_apps: bool,
}

impl Default for ZapmailSimConfig {
    fn default() -> Self {
        let short = Transition {
            after_polls: Some(1),
            after: Some(Duration::from_millis(200)),
        };
        ZapmailSimConfig {
            api_keys: vec![TEST_API_KEY.to_string()],
            limits: None,
            latency: Duration::ZERO,
            hang: Duration::from_secs(10),
            wallet_balance: Decimal::from(500),
            mailbox_slots: 1000,
            tld_prices: default_tld_prices(),
            supported_tlds: SupportedTlds::default(),
            taken_domains: BTreeSet::new(),
            max_mailboxes_per_domain: 5,
            max_bulk_names: crate::MAX_BULK_AVAILABILITY,
            domain_activation: short,
            mailbox_activation: short,
            export_completion: short,
            export_import_delay: Duration::from_millis(50),
            export_cap_per_week: Some(3),
            primary_workspace_has_billing: true,
            require_billing_details: true,
            export_status_requires_workspace_key: true,
            errors_in_200: false,
            accept_unlinked_export_apps: true,
        }
    }
}

/// A domain as the simulator holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimDomain {
    /// Id.
    pub id: DomainId,
    /// Name.
    pub name: String,
    /// Status now (time-based transitions applied; reading it does not count as a poll).
    pub status: DomainStatus,
    /// Workspace.
    pub workspace_id: WorkspaceId,
    /// DMARC report address, once added.
    pub dmarc_email: Option<String>,
}

/// A mailbox as the simulator holds it (no credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimMailbox {
    /// Id.
    pub id: MailboxId,
    /// Address.
    pub email: String,
    /// Username.
    pub username: String,
    /// Domain id.
    pub domain_id: DomainId,
    /// Status now (reading it does not count as a poll).
    pub status: MailboxStatus,
    /// Scheduled for removal at the next renewal.
    pub scheduled_removal: bool,
}

/// A workspace as the simulator holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimWorkspace {
    /// Id.
    pub id: WorkspaceId,
    /// Name.
    pub name: String,
    /// The owning key.
    pub api_key: String,
    /// Whether billing details are set.
    pub has_billing_details: bool,
}

/// A registered third-party account (no password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimThirdPartyAccount {
    /// Id.
    pub id: String,
    /// App, e.g. `PIPL`.
    pub app: String,
    /// Login email.
    pub email: String,
    /// Workspace.
    pub workspace_id: WorkspaceId,
}

/// An export as the simulator holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimExport {
    /// Id.
    pub id: u64,
    /// Apps.
    pub apps: Vec<String>,
    /// Addresses handed over.
    pub emails: Vec<String>,
    /// `None` while the importer has not answered, else accepted count or refusal reason.
    pub outcome: Option<Result<usize, String>>,
}

/// A running Zapmail simulator.
#[derive(Debug)]
pub struct ZapmailSim {
    server: SimServer<ZapmailState>,
}

impl ZapmailSim {
    /// Start with [`ZapmailSimConfig::default`].
    pub async fn start() -> Self {
        Self::start_with(ZapmailSimConfig::default()).await
    }

    /// Start with `config`.
    pub async fn start_with(config: ZapmailSimConfig) -> Self {
        let sim_config = SimConfig {
            limits: config.limits.clone(),
            latency: config.latency,
            hang: config.hang,
        };
        let state = Arc::new(ZapmailState::new(config));
        let server = SimServer::start(state, sim_config, crate::default_limits()).await;
        ZapmailSim { server }
    }

    /// The base URL to give a client (`http://127.0.0.1:<port>/api`).
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The first configured API key.
    pub fn api_key(&self) -> String {
        self.state().first_key()
    }

    /// A builder pointed at the simulator with the first key, `RetryConfig::fast()`, the
    /// limits the simulator enforces, and a 2 s (+ latency) timeout.
    pub fn client_builder(&self) -> ClientBuilder<Zapmail> {
        let latency = self.state().config().latency;
        Client::builder()
            .api_key(self.api_key())
            .base_url(self.base_url())
            .retry(RetryConfig::fast())
            .rate_limits(self.server.limits().limits())
            .timeout(Duration::from_secs(2) + latency * 2)
    }

    /// A ready client (see [`client_builder`](Self::client_builder)).
    ///
    /// # Panics
    /// Never in practice: the builder's inputs are all valid.
    pub fn client(&self) -> Client {
        self.client_builder()
            .build()
            .expect("simulator client configuration is valid")
    }

    /// Every request received.
    pub fn journal(&self) -> &Journal {
        self.server.journal()
    }

    /// Fault injection (route keys in [`routes`]).
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// The rate-limit enforcer.
    pub fn limits(&self) -> &WindowEnforcer {
        self.server.limits()
    }

    /// Change the latency of every answer.
    pub fn set_latency(&self, latency: Duration) {
        self.server.set_latency(latency);
    }

    /// The underlying kit server.
    pub fn server(&self) -> &SimServer<ZapmailState> {
        &self.server
    }

    /// The simulator state.
    pub fn state(&self) -> &ZapmailState {
        self.server.vendor()
    }

    // ----- links

    /// Exports to `app` (e.g. `"PIPL"`) hand mailboxes to `importer`, and logins registered
    /// for `app` are checked with it.
    pub fn link_exporter(&self, app: &str, importer: Arc<dyn MailboxImporter>) {
        self.state().link_exporter(app, importer);
    }

    // ----- journal helpers

    /// `POST /v2/domains/buy` calls received that named `domain` (whatever their outcome).
    pub fn purchase_calls_for(&self, domain: &str) -> usize {
        let wanted = normalize_domain_name(domain);
        self.journal()
            .for_route(routes::BUY)
            .iter()
            .filter(|e| {
                e.body
                    .get("domains")
                    .and_then(|d| d.as_array())
                    .is_some_and(|items| {
                        items.iter().any(|i| {
                            i.get("domainName")
                                .and_then(|n| n.as_str())
                                .is_some_and(|n| normalize_domain_name(n) == wanted)
                        })
                    })
            })
            .count()
    }

    /// Times `domain` was actually bought (paid and created).
    pub fn domains_bought(&self, domain: &str) -> usize {
        self.state().domains_bought(domain)
    }

    /// Mailboxes created on `domain` (by name) since the start.
    pub fn mailboxes_created_for(&self, domain: &str) -> usize {
        self.state().mailboxes_created_for(domain)
    }

    /// Workspaces created through the API.
    pub fn workspaces_created(&self) -> usize {
        self.state().workspaces_created()
    }

    /// Exports started through the API.
    pub fn exports_started(&self) -> usize {
        self.state().exports().len()
    }

    /// Availability queries received (both endpoints).
    pub fn availability_queries(&self) -> usize {
        self.journal().count(routes::AVAILABLE) + self.journal().count(routes::AVAILABLE_BULK)
    }

    // ----- inspection

    /// Every domain.
    pub fn domains(&self) -> Vec<SimDomain> {
        self.state().domains()
    }

    /// The domain named `name`.
    pub fn domain(&self, name: &str) -> Option<SimDomain> {
        let wanted = normalize_domain_name(name);
        self.domains().into_iter().find(|d| d.name == wanted)
    }

    /// Every mailbox.
    pub fn mailboxes(&self) -> Vec<SimMailbox> {
        self.state().mailboxes()
    }

    /// Every workspace.
    pub fn workspaces(&self) -> Vec<SimWorkspace> {
        self.state().workspaces()
    }

    /// The primary workspace of the first key.
    pub fn primary_workspace(&self) -> WorkspaceId {
        self.state().primary_workspace(&self.api_key())
    }

    /// Wallet balance of the first key's account.
    pub fn wallet_balance(&self) -> Decimal {
        self.state().wallet_balance(&self.api_key())
    }

    /// Third-party accounts.
    pub fn third_party_accounts(&self) -> Vec<SimThirdPartyAccount> {
        self.state().third_party_accounts()
    }

    /// Exports.
    pub fn exports(&self) -> Vec<SimExport> {
        self.state().exports()
    }

    // ----- seeding

    /// Set the first key's wallet balance.
    pub fn set_wallet_balance(&self, balance: Decimal) {
        self.state().set_wallet_balance(&self.api_key(), balance);
    }

    /// Mark names as registered elsewhere.
    pub fn mark_taken<I, S>(&self, names: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.state().mark_taken(names);
    }

    /// Set a TLD's price.
    pub fn set_tld_price(&self, tld: &str, price: TldPrice) {
        self.state().set_tld_price(tld, price);
    }

    /// Add an account for another key; returns its primary workspace.
    pub fn add_api_key(&self, key: &str) -> WorkspaceId {
        self.state().add_account(key)
    }

    /// Create a workspace for the first key (not counted by
    /// [`workspaces_created`](Self::workspaces_created)).
    pub fn seed_workspace(&self, name: &str, with_billing: bool) -> WorkspaceId {
        self.state()
            .seed_workspace(&self.api_key(), name, with_billing)
    }

    /// A domain the account already owns, in `workspace` (default: primary), with
    /// `status`. Not counted as bought.
    pub fn seed_domain(
        &self,
        name: &str,
        workspace: Option<&WorkspaceId>,
        status: DomainStatus,
    ) -> DomainId {
        let ws = workspace
            .cloned()
            .unwrap_or_else(|| self.primary_workspace());
        self.state().seed_domain(name, &ws, status)
    }

    /// A mailbox `username@domain` on a seeded domain, with `status`.
    ///
    /// # Panics
    /// When the domain does not exist.
    pub fn seed_mailbox(&self, domain: &str, username: &str, status: MailboxStatus) -> MailboxId {
        self.state().seed_mailbox(domain, username, status)
    }

    /// A connection request for `domain` in the primary workspace with `status` (e.g.
    /// `"CHECKING_NS_IN_WHOIS"`).
    pub fn seed_connection_request(&self, domain: &str, status: &str) {
        let ws = self.primary_workspace();
        self.state().seed_connection_request(domain, &ws, status);
    }

    /// Mailboxes with these addresses become `FAILED` instead of `ACTIVE`.
    pub fn fail_mailboxes<I, S>(&self, emails: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.state().fail_mailboxes(emails);
    }

    /// Finish every pending domain, mailbox and export transition now.
    pub fn complete_transitions(&self) {
        self.state().complete_transitions();
    }
}
