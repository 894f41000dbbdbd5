//! The engine: create, pay for, drive, observe and retry provisions.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use provisioning::{Engine, EngineConfig, NewProvision, Payment, SecretKey, TracingSink};
//! use provisioning::store::SqliteStore;
//!
//! let zapmail = zapmail::Client::builder().api_key("zapmail-key").build()?;
//! let plusvibe = plusvibe::Client::builder().api_key("plusvibe-key").build()?;
//! let heyreach = heyreach::Client::builder().api_key("heyreach-key").build()?;
//! let store = Arc::new(SqliteStore::open("sqlite://gtm.db").await?);
//! let engine = Engine::builder()
//!     .clients(zapmail, plusvibe, heyreach)
//!     .store(store)
//!     .secret_key(SecretKey::generate())
//!     .sink(Arc::new(TracingSink))
//!     .config(EngineConfig::default())
//!     .build()
//!     .await?;
//! let id = engine
//!     .create_provision(NewProvision::new("Ada Lovelace", "ada@example.com", "starter")
//!         .domains(["getada.com", "adahq.com", "tryada.com"])
//!         .patterns("ada", "ada.lovelace"))
//!     .await?;
//! engine.mark_paid(id, Payment::default()).await?;
//! let snapshot = engine.run(id).await?;
//! println!("{}", snapshot.status);
//! # Ok(()) }
//! ```

mod config;
mod cx;
mod driver;
mod lifecycle;
mod steps;

pub use config::{EngineConfig, Naming, PollKind, PollPolicies, PollPolicy, StepRetryPolicy};
pub use lifecycle::{
    CheckoutCompleted, EventOutcome, InvoicePaymentFailed, Teardown, invoice_flag,
};
pub use steps::STEP_NAMES;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, Semaphore};

use crate::model::*;
use crate::progress::{ProgressSink, Sinks};
use crate::secret::{SecretError, SecretKey};
use crate::store::{Store, StoreError};
use driver::Driven;

/// Errors of the engine's API (a provision that fails is not an error: its snapshot says
/// `failed`, with the step and the vendor's message).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// Bad input: what is wrong and how to fix it. Nothing was stored.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The action does not apply to the provision in its current state. Nothing changed.
    #[error("provision {id} is {status}: cannot {action}")]
    WrongState {
        /// The provision.
        id: ProvisionId,
        /// Its status.
        status: ProvisionStatus,
        /// What was attempted.
        action: &'static str,
    },
    /// The engine was built without something it needs.
    #[error("engine configuration: {0}")]
    Config(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A vendor call the API made itself failed (the vendor's words).
    #[error("{0}")]
    Vendor(String),
    /// A stored secret could not be opened.
    #[error(transparent)]
    Secret(#[from] SecretError),
}

/// What a host asks to provision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProvision {
    /// The host's customer id (the seed's `student_id`); random if not given.
    pub customer_id: Option<CustomerId>,
    /// Customer's full name.
    pub customer_name: String,
    /// Customer's email.
    pub customer_email: String,
    /// Sender first name (default: first word of the name).
    pub first_name: Option<String>,
    /// Sender last name (default: the rest of the name).
    pub last_name: Option<String>,
    /// Tier slug, e.g. "starter".
    pub tier_slug: String,
    /// Chosen domains (as many as the tier has).
    pub domains: Vec<String>,
    /// The two mailbox username patterns, e.g. "tim" and "tim.keen".
    pub patterns: [String; 2],
}

impl NewProvision {
    /// A request for `tier_slug`; add domains and patterns with the builder methods.
    pub fn new(
        name: impl Into<String>,
        email: impl Into<String>,
        tier_slug: impl Into<String>,
    ) -> Self {
        NewProvision {
            customer_id: None,
            customer_name: name.into(),
            customer_email: email.into(),
            first_name: None,
            last_name: None,
            tier_slug: tier_slug.into(),
            domains: Vec::new(),
            patterns: [String::new(), String::new()],
        }
    }
    /// The chosen domains.
    pub fn domains<S: Into<String>>(mut self, domains: impl IntoIterator<Item = S>) -> Self {
        self.domains = domains.into_iter().map(Into::into).collect();
        self
    }
    /// The two mailbox patterns.
    pub fn patterns(mut self, first: impl Into<String>, second: impl Into<String>) -> Self {
        self.patterns = [first.into(), second.into()];
        self
    }
    /// The host's customer id.
    pub fn customer_id(mut self, id: CustomerId) -> Self {
        self.customer_id = Some(id);
        self
    }
}

/// A provision as a UI shows it: the seed's fields, log, domains and mailboxes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Id.
    pub id: ProvisionId,
    /// Status.
    pub status: ProvisionStatus,
    /// Customer.
    pub customer: Customer,
    /// Tier slug.
    pub tier: String,
    /// The seed's `provisioning_log`.
    pub provisioning_log: Vec<ProvisioningStep>,
    /// Domains with their mailboxes.
    pub domains: Vec<DomainRecord>,
    /// Zapmail workspace id.
    pub zapmail_workspace_id: Option<String>,
    /// PlusVibe workspace id.
    pub plusvibe_workspace_id: Option<String>,
    /// PlusVibe login email (the password is never shown).
    pub plusvibe_login_email: Option<String>,
    /// HeyReach list id.
    pub heyreach_list_id: Option<i64>,
    /// The current or last run's kind and status.
    pub run: Option<(RunKind, RunStatus)>,
    /// The last failure, if the provision failed.
    pub error: Option<String>,
    /// Operator flags (e.g. a failed invoice).
    pub flags: Vec<String>,
}

impl Snapshot {
    /// The snapshot of a stored state (what [`Engine::status`] returns), for tools that
    /// read the store without an engine.
    pub fn of(s: &ProvisionState) -> Self {
        Snapshot {
            id: s.id,
            status: s.status,
            customer: s.customer.clone(),
            tier: s.tier.slug.clone(),
            provisioning_log: s.provisioning_log.clone(),
            domains: s.domains.clone(),
            zapmail_workspace_id: s.ledger.zapmail_workspace_id.clone(),
            plusvibe_workspace_id: s.ledger.plusvibe_workspace_id.clone(),
            plusvibe_login_email: s.ledger.plusvibe_client_email.clone(),
            heyreach_list_id: s.ledger.heyreach_list_id,
            run: s.run.as_ref().map(|r| (r.kind, r.status)),
            error: s
                .provisioning_log
                .iter()
                .rev()
                .find(|e| e.status == StepStatus::Failed)
                .and_then(|e| e.error.clone()),
            flags: s.flags.clone(),
        }
    }

    /// Every mailbox of every domain.
    pub fn mailboxes(&self) -> impl Iterator<Item = &MailboxRecord> {
        self.domains.iter().flat_map(|d| d.mailboxes.iter())
    }
}

/// The vendor clients the engine uses.
#[derive(Debug, Clone)]
pub struct Clients {
    /// Zapmail (the agency key).
    pub zapmail: zapmail::Client,
    /// PlusVibe (the agency key).
    pub plusvibe: plusvibe::Client,
    /// HeyReach.
    pub heyreach: heyreach::Client,
}

pub(crate) struct EngineInner {
    pub(crate) clients: Clients,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) sinks: Sinks,
    pub(crate) config: EngineConfig,
    pub(crate) key: SecretKey,
    wake: Notify,
}

/// The provisioning engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.inner.store)
            .field("worker_id", &self.inner.config.worker_id)
            .finish_non_exhaustive()
    }
}

/// Builds an [`Engine`].
#[derive(Default)]
pub struct EngineBuilder {
    clients: Option<Clients>,
    store: Option<Arc<dyn Store>>,
    sinks: Sinks,
    config: Option<EngineConfig>,
    key: Option<SecretKey>,
    seed_tiers: bool,
}

impl EngineBuilder {
    /// The three vendor clients.
    pub fn clients(
        mut self,
        zapmail: zapmail::Client,
        plusvibe: plusvibe::Client,
        heyreach: heyreach::Client,
    ) -> Self {
        self.clients = Some(Clients {
            zapmail,
            plusvibe,
            heyreach,
        });
        self
    }
    /// Where state lives.
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }
    /// The operator's key for stored secrets (required).
    pub fn secret_key(mut self, key: SecretKey) -> Self {
        self.key = Some(key);
        self
    }
    /// Add a progress sink.
    pub fn sink(mut self, sink: Arc<dyn ProgressSink>) -> Self {
        self.sinks.add(sink);
        self
    }
    /// Settings (default [`EngineConfig::default`]).
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = Some(config);
        self
    }
    /// Insert the seed's default tiers when the store has none (default: on).
    pub fn seed_default_tiers(mut self, seed: bool) -> Self {
        self.seed_tiers = seed;
        self
    }

    /// Validate, migrate the store, and build.
    pub async fn build(self) -> Result<Engine, EngineError> {
        let clients = self.clients.ok_or_else(|| {
            EngineError::Config("vendor clients are required: call .clients(..)".into())
        })?;
        let store = self
            .store
            .ok_or_else(|| EngineError::Config("a store is required: call .store(..)".into()))?;
        let key = self.key.ok_or_else(|| {
            EngineError::Config(
                "a secret key for stored passwords is required: call .secret_key(..)".into(),
            )
        })?;
        store.migrate().await?;
        if self.seed_tiers {
            store.seed_default_tiers().await?;
        }
        Ok(Engine {
            inner: Arc::new(EngineInner {
                clients,
                store,
                sinks: self.sinks,
                config: self.config.unwrap_or_default(),
                key,
                wake: Notify::new(),
            }),
        })
    }
}

impl Engine {
    /// A builder (tiers are seeded by default).
    pub fn builder() -> EngineBuilder {
        EngineBuilder {
            seed_tiers: true,
            ..EngineBuilder::default()
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The settings.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The vendor clients.
    pub fn clients(&self) -> &Clients {
        &self.inner.clients
    }

    /// Validate and store a new provision in `pending_payment`.
    pub async fn create_provision(&self, req: NewProvision) -> Result<ProvisionId, EngineError> {
        let tier = match self.inner.store.tier_by_slug(req.tier_slug.trim()).await {
            Ok(t) => t,
            Err(StoreError::TierNotFound(_)) => {
                return Err(EngineError::Invalid(format!(
                    "unknown tier {:?}; known tiers: {}",
                    req.tier_slug,
                    self.tier_slugs().await?
                )));
            }
            Err(e) => return Err(e.into()),
        };
        if !tier.is_active {
            return Err(EngineError::Invalid(format!(
                "tier {:?} is not offered any more",
                tier.slug
            )));
        }
        let state = steps::validate::new_state(req, tier, &self.inner.config.supported_tlds)?;
        let names: Vec<String> = state.domains.iter().map(|d| d.name.clone()).collect();
        if let Some((domain, other)) = self.inner.store.domain_owners(&names).await?.first() {
            return Err(EngineError::Invalid(format!(
                "domain {domain:?} already belongs to provision {other} (another customer); choose a different domain"
            )));
        }
        self.inner.store.insert_provision(&state).await?;
        Ok(state.id)
    }

    async fn tier_slugs(&self) -> Result<String, EngineError> {
        Ok(self
            .inner
            .store
            .tiers()
            .await?
            .into_iter()
            .filter(|t| t.is_active)
            .map(|t| t.slug)
            .collect::<Vec<_>>()
            .join(", "))
    }

    /// Record the payment and queue the provisioning run (`pending_payment` → `provisioning`).
    /// Calling it again for a provision already paid changes nothing.
    pub async fn mark_paid(
        &self,
        id: ProvisionId,
        payment: Payment,
    ) -> Result<Snapshot, EngineError> {
        loop {
            let loaded = self.inner.store.load(id).await?;
            let mut s = loaded.value;
            if s.status != ProvisionStatus::PendingPayment {
                if s.run.as_ref().is_some_and(|r| r.kind == RunKind::Provision) {
                    return Ok(Snapshot::of(&s));
                }
                return Err(EngineError::WrongState {
                    id,
                    status: s.status,
                    action: "mark it paid",
                });
            }
            s.payment = payment.clone();
            s.status = ProvisionStatus::Provisioning;
            s.run = Some(new_run(RunKind::Provision));
            s.provisioning_log = steps::initial_log(RunKind::Provision);
            s.updated_at = Utc::now();
            match self.inner.store.save(&s, loaded.version, &[], None).await {
                Ok(_) => {
                    self.inner.wake.notify_one();
                    return Ok(Snapshot::of(&s));
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The provision as a UI shows it.
    pub async fn status(&self, id: ProvisionId) -> Result<Snapshot, EngineError> {
        Ok(Snapshot::of(&self.inner.store.load(id).await?.value))
    }

    /// The whole stored state (ledger and run included; the password stays sealed).
    pub async fn state(&self, id: ProvisionId) -> Result<ProvisionState, EngineError> {
        Ok(self.inner.store.load(id).await?.value)
    }

    /// Drive one provision until its run ends, sleeping through its polls. Returns the final
    /// snapshot (`active`, or `failed` with the step and the vendor's message).
    pub async fn run(&self, id: ProvisionId) -> Result<Snapshot, EngineError> {
        loop {
            match self.drive_once(id).await? {
                Driven::Finished => return self.status(id).await,
                Driven::DueAt(t) => sleep_until(t).await,
                Driven::Busy => {
                    // Another worker holds it: wait for its lease or its progress.
                    tokio::time::sleep(self.inner.config.idle_poll).await;
                    let s = self.inner.store.load(id).await?.value;
                    if !s.run.as_ref().is_some_and(|r| r.status.is_live()) {
                        return Ok(Snapshot::of(&s));
                    }
                }
            }
        }
    }

    /// Drive one provision until it finishes or waits (no sleeping). For hosts that schedule
    /// their own work; returns when it is due again, if it is.
    pub async fn step(
        &self,
        id: ProvisionId,
    ) -> Result<Option<chrono::DateTime<Utc>>, EngineError> {
        Ok(match self.drive_once(id).await? {
            Driven::DueAt(t) => Some(t),
            _ => None,
        })
    }

    async fn drive_once(&self, id: ProvisionId) -> Result<Driven, EngineError> {
        let now = Utc::now();
        let lease = now + chrono::Duration::from_std(self.inner.config.lease).unwrap_or_default();
        match self
            .inner
            .store
            .claim(id, &self.inner.config.worker_id, now, lease)
            .await?
        {
            Some(claim) => driver::drive_claimed(&self.inner, claim).await,
            None => Ok(Driven::Busy),
        }
    }

    /// Run every due provision, up to `config.concurrency` at once, until `stop` resolves.
    /// Sleeps until the next due run, a new run in this process, or `config.idle_poll`.
    ///
    /// A store that fails (a database restart, a dropped connection, a locked SQLite file)
    /// does not end the worker: it logs a warning, keeps its running drives going, and asks
    /// again after a backoff (100 ms doubling up to `config.idle_poll`, at least 1 s).
    pub async fn run_worker(
        &self,
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<(), EngineError> {
        let slots = Arc::new(Semaphore::new(self.inner.config.concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        tokio::pin!(stop);
        // Announcements from other processes (PostgreSQL LISTEN/NOTIFY), when the store has them.
        let mut wakeups = Wakeups::default();
        // Listen before the first look for due runs, so nothing paid in between is missed.
        wakeups
            .subscribe_if_due(&*self.inner.store, self.inner.config.idle_poll)
            .await;
        let idle = self.inner.config.idle_poll;
        // Consecutive store failures, for the backoff.
        let mut store_failures = 0u32;
        loop {
            while let Some(done) = tasks.try_join_next() {
                if let Ok(Err(e)) = done {
                    tracing::error!(error = %e, "worker task failed");
                }
            }
            let free = slots.available_permits();
            let mut claimed = 0;
            if free > 0 {
                let now = Utc::now();
                let lease =
                    now + chrono::Duration::from_std(self.inner.config.lease).unwrap_or_default();
                let claims = match self
                    .inner
                    .store
                    .claim_due(&self.inner.config.worker_id, now, lease, free)
                    .await
                {
                    Ok(claims) => {
                        store_failures = 0;
                        claims
                    }
                    Err(e) => {
                        store_failures = store_failures.saturating_add(1);
                        let wait = (Duration::from_millis(100)
                            * 2u32.saturating_pow(store_failures.min(16) - 1))
                        .min(idle.max(Duration::from_secs(1)));
                        tracing::warn!(
                            error = %e,
                            retry_in_ms = wait.as_millis() as u64,
                            running = tasks.len(),
                            "cannot look for due runs; the worker keeps its running drives and asks again"
                        );
                        tokio::select! {
                            _ = &mut stop => break,
                            _ = tokio::time::sleep(wait) => {}
                        }
                        continue;
                    }
                };
                claimed = claims.len();
                for claim in claims {
                    let permit = slots.clone().acquire_owned().await.expect("semaphore open");
                    let engine = self.inner.clone();
                    tasks.spawn(async move {
                        let _permit = permit;
                        let engine = Engine { inner: engine };
                        let id = claim.id;
                        let r = driver::drive_claimed(&engine.inner, claim).await;
                        if let Err(e) = &r {
                            tracing::error!(provision = %id, error = %e, "driving failed");
                        }
                        // Wake the loop: a slot is free and the run may be due again soon.
                        engine.inner.wake.notify_one();
                        r.map(|_| ())
                    });
                }
            }
            if claimed > 0 {
                continue;
            }
            let next = self.inner.store.next_due_at().await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot read when the next run is due; polling");
                None
            });
            let wait = next
                .map(|t| (t - Utc::now()).to_std().unwrap_or_default())
                .unwrap_or(idle)
                .min(idle);
            wakeups.subscribe_if_due(&*self.inner.store, idle).await;
            tokio::select! {
                _ = &mut stop => break,
                _ = self.inner.wake.notified() => {}
                _ = wakeups.next() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        // Let running drives finish their current step and save.
        while tasks.join_next().await.is_some() {}
        Ok(())
    }

    /// The operator's answer to an unconfirmed purchase: after checking Zapmail (its
    /// dashboard, invoices, wallet history), the operator says these domains were **not**
    /// bought, so the next run may buy them. The engine looks at the workspace's domain
    /// list once more first and refuses, changing nothing, if any of them is there.
    /// Follow with [`retry`](Self::retry) if the run failed. Returns the domains released.
    pub async fn confirm_not_purchased(
        &self,
        id: ProvisionId,
        domains: &[&str],
    ) -> Result<Vec<String>, EngineError> {
        let loaded = self.inner.store.load(id).await?;
        let mut s = loaded.value;
        let wanted: Vec<String> = domains
            .iter()
            .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
            .collect();
        for w in &wanted {
            match s.domain(w) {
                Some(d) if d.purchase == PurchaseState::InFlight => {}
                Some(d) => {
                    return Err(EngineError::Invalid(format!(
                        "domain {w} has no unconfirmed purchase (it is {:?})",
                        d.purchase
                    )));
                }
                None => {
                    return Err(EngineError::Invalid(format!(
                        "domain {w} is not part of provision {id}"
                    )));
                }
            }
        }
        if let Some(ws) = s.ledger.zapmail_workspace_id.as_deref() {
            let seen = self
                .inner
                .clients
                .zapmail
                .in_workspace(&zapmail::WorkspaceId::from(ws))
                .domains()
                .find_by_names(&wanted)
                .await
                .map_err(|e| EngineError::Vendor(e.to_string()))?;
            if let Some(name) = seen.keys().next() {
                return Err(EngineError::Invalid(format!(
                    "Zapmail lists {name} in the customer's workspace: it was bought; run the provision to record it"
                )));
            }
        }
        for d in &mut s.domains {
            if wanted.contains(&d.name) {
                d.purchase = PurchaseState::Refused;
                d.status = DomainStatus::Pending;
            }
        }
        s.updated_at = Utc::now();
        self.inner.store.save(&s, loaded.version, &[], None).await?;
        Ok(wanted)
    }

    /// Resume a failed provision from its failed step (attempts of that step reset; nothing
    /// already done is repeated).
    pub async fn retry(&self, id: ProvisionId) -> Result<Snapshot, EngineError> {
        loop {
            let loaded = self.inner.store.load(id).await?;
            let mut s = loaded.value;
            let Some(run) = s.run.as_mut().filter(|r| r.status == RunStatus::Failed) else {
                return Err(EngineError::WrongState {
                    id,
                    status: s.status,
                    action: "retry (only a failed run can be retried)",
                });
            };
            run.status = RunStatus::Pending;
            run.next_wake_at = Utc::now();
            run.finished_at = None;
            let step = run.step;
            if let Some(st) = run.steps.get_mut(step) {
                st.attempts = 0;
                st.polls = 0;
                st.waiting_since = None;
                st.last_error = None;
            }
            let kind = run.kind;
            s.status = match kind {
                RunKind::Provision => ProvisionStatus::Provisioning,
                RunKind::Upgrade => ProvisionStatus::Upgrading,
                RunKind::Cancel => s.status,
            };
            // Zapmail refuses a second mailbox with the same address, so creations whose
            // answer was lost may be sent again once an operator retries.
            s.ledger.mailboxes_in_flight.clear();
            for e in &mut s.provisioning_log {
                if e.status == StepStatus::Failed {
                    e.status = StepStatus::Pending;
                    e.error = None;
                    e.completed_at = None;
                }
            }
            s.updated_at = Utc::now();
            match self.inner.store.save(&s, loaded.version, &[], None).await {
                Ok(_) => {
                    self.inner.wake.notify_one();
                    return Ok(Snapshot::of(&s));
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// The worker loop's subscription to [`Store::subscribe`], re-made (at most once per idle
/// poll) when its stream ends.
#[derive(Default)]
struct Wakeups {
    stream: Option<crate::store::Wakeups>,
    retry_at: Option<tokio::time::Instant>,
}

impl Wakeups {
    async fn subscribe_if_due(&mut self, store: &dyn Store, idle: Duration) {
        let now = tokio::time::Instant::now();
        if self.stream.is_some() || self.retry_at.is_some_and(|t| t > now) {
            return;
        }
        self.retry_at = Some(now + idle);
        match store.subscribe().await {
            Ok(stream) => self.stream = stream,
            Err(e) => tracing::warn!(error = %e, "cannot listen for new runs; polling"),
        }
    }

    /// The next announcement; pending forever without a subscription.
    async fn next(&mut self) {
        use futures::StreamExt;
        match self.stream.as_mut() {
            Some(s) => {
                if s.next().await.is_none() {
                    self.stream = None;
                }
            }
            None => std::future::pending().await,
        }
    }
}

fn new_run(kind: RunKind) -> Run {
    let now = Utc::now();
    Run {
        id: RunId::new(),
        kind,
        status: RunStatus::Pending,
        step: 0,
        steps: vec![StepRun::default(); steps::plan(kind).len()],
        next_wake_at: now,
        created_at: now,
        finished_at: None,
    }
}

async fn sleep_until(t: chrono::DateTime<Utc>) {
    let d = (t - Utc::now()).to_std().unwrap_or(Duration::ZERO);
    tokio::time::sleep(d).await;
}
