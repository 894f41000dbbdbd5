//! `_native.Engine`: the provisioning engine, the wizard helpers that need I/O, and the
//! progress hub that hands events to Python without ever calling Python on a Tokio thread.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use provisioning::store::{PostgresStore, SqliteStore, Store};
use provisioning::wizard::{self, AvailabilityChecker, TierInput};
use provisioning::{
    CheckoutCompleted, Engine as RsEngine, InvoicePaymentFailed, NewProvision, Payment,
    ProgressEvent, ProgressSink, ProvisionId, SecretKey, TierId,
};
use pyo3::prelude::*;
use serde::Deserialize;
use tokio::sync::Notify;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::clients::{HeyReachClient, PlusVibeClient, ZapmailClient};
use crate::config::{EngineSpec, decode};
use crate::errors::{Failure, Outcome};
use crate::runtime::{Progress, awaitable, wait};

/// Fans progress events out to subscribers (by provision, or all) as JSON over unbounded
/// channels: `emit` never blocks and never touches Python.
#[derive(Default)]
pub struct Hub {
    subs: Mutex<Vec<(Option<ProvisionId>, UnboundedSender<String>)>>,
}

impl Hub {
    fn subscribe(&self, only: Option<ProvisionId>) -> UnboundedReceiver<String> {
        let (tx, rx) = unbounded_channel();
        self.subs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((only, tx));
        rx
    }
}

struct HubSink(Arc<Hub>);

impl ProgressSink for HubSink {
    fn emit(&self, e: &ProgressEvent) {
        let Ok(json) = serde_json::to_string(e) else {
            return;
        };
        let mut subs = self
            .0
            .subs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A subscriber whose receiver is gone is dropped here.
        subs.retain(|(only, tx)| {
            if only.is_some_and(|id| id != e.provision_id) {
                return !tx.is_closed();
            }
            tx.send(json.clone()).is_ok()
        });
    }
}

/// A stream of progress events (JSON) for asyncio consumers.
#[pyclass(frozen, module = "gtm_infra._native")]
pub struct EventStream {
    rx: Arc<tokio::sync::Mutex<UnboundedReceiver<String>>>,
    closed: Arc<(AtomicBool, Notify)>,
}

#[pymethods]
impl EventStream {
    /// The next event, or `None` once the stream is closed.
    fn next_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let rx = self.rx.clone();
        let closed = self.closed.clone();
        awaitable(py, async move {
            let woken = closed.1.notified();
            if closed.0.load(Ordering::SeqCst) {
                return Ok(None);
            }
            let mut rx = rx.lock().await;
            tokio::select! {
                ev = rx.recv() => Ok(ev),
                () = woken => Ok(None),
            }
        })
    }

    /// The next event if one is queued (never waits; still works after `close`).
    fn try_next(&self) -> Option<String> {
        self.rx
            .try_lock()
            .ok()
            .and_then(|mut rx| rx.try_recv().ok())
    }

    /// Stop waiting: a pending and every later `next_async` answers `None` (queued events
    /// stay readable with `try_next`).
    fn close(&self) {
        self.closed.0.store(true, Ordering::SeqCst);
        self.closed.1.notify_waiters();
    }

    fn __repr__(&self) -> &'static str {
        "EventStream()"
    }
}

/// A stop request for a worker loop, settable from any thread.
#[pyclass(frozen, module = "gtm_infra._native")]
#[derive(Default)]
pub struct StopSignal {
    set: AtomicBool,
    notify: Notify,
}

#[pymethods]
impl StopSignal {
    #[new]
    fn new() -> Self {
        StopSignal::default()
    }
    /// Ask the worker to stop (it finishes the steps it is in, then returns).
    fn set(&self) {
        self.set.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }
    /// Whether stop was asked.
    fn is_set(&self) -> bool {
        self.set.load(Ordering::SeqCst)
    }
    fn __repr__(&self) -> String {
        format!(
            "StopSignal(is_set={})",
            if self.is_set() { "True" } else { "False" }
        )
    }
}

impl StopSignal {
    async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_set() {
                return;
            }
            notified.await;
        }
    }
}

#[derive(Clone)]
struct Inner {
    engine: RsEngine,
    hub: Arc<Hub>,
    checker: AvailabilityChecker,
}

/// The provisioning engine (see `gtm_infra.Engine`).
#[pyclass(frozen, module = "gtm_infra._native")]
pub struct Engine {
    // `None` only while being dropped (see `Drop`).
    inner: Option<Inner>,
    describe: String,
}

impl Engine {
    fn inner(&self) -> Inner {
        self.inner.clone().expect("engine used while being dropped")
    }
}

static ENGINES: AtomicU64 = AtomicU64::new(0);

fn pid(id: &str) -> Outcome<ProvisionId> {
    ProvisionId::from_str(id)
        .map_err(|_| Failure::validation(format!("{id:?} is not a provision id (a UUID)")))
}

fn tier_id(id: &str) -> Outcome<TierId> {
    TierId::from_str(id)
        .map_err(|_| Failure::validation(format!("{id:?} is not a tier id (a UUID)")))
}

fn json<T: serde::Serialize>(v: &T) -> Outcome<String> {
    serde_json::to_string(v)
        .map_err(|e| Failure::new("GtmError", format!("encoding a result: {e}")))
}

/// Where state lives, from the user's text.
fn describe_store(url: &str) -> String {
    let u = url.trim();
    if u.starts_with("postgres://") || u.starts_with("postgresql://") {
        // Never show a password that may be in the URL.
        let host = u.rsplit('@').next().unwrap_or("");
        let host = if u.contains('@') {
            host
        } else {
            u.split("://").nth(1).unwrap_or("")
        };
        format!("postgres://…@{host}")
    } else {
        u.to_string()
    }
}

async fn open(spec: EngineSpec) -> Outcome<Engine> {
    let key = SecretKey::parse(&spec.secret_key).map_err(|_| {
        Failure::config("secret_key must be 64 hex characters or base64 of 32 bytes (see gtm_infra.generate_secret_key())")
    })?;
    let config = spec.settings.engine_config()?;
    let url = spec.store.trim().to_string();
    let (store, zapmail, plusvibe, heyreach): (Arc<dyn Store>, _, _, _) =
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // On PostgreSQL the clients' rate budgets live in the database, shared by every
            // worker process on the same keys (the migration creates their table).
            let pg = Arc::new(PostgresStore::connect(&url).await?);
            pg.migrate().await?;
            let zapmail = (spec.zapmail)
                .shared_builder(zapmail::Client::builder(), &pg)
                .await?
                .build()?;
            let plusvibe = (spec.plusvibe)
                .shared_builder(plusvibe::Client::builder(), &pg)
                .await?
                .build()?;
            let heyreach = (spec.heyreach)
                .shared_builder(heyreach::Client::builder(), &pg)
                .await?
                .build()?;
            (pg, zapmail, plusvibe, heyreach)
        } else {
            let zapmail = spec.zapmail.zapmail()?;
            let plusvibe = spec.plusvibe.plusvibe()?;
            let heyreach = spec.heyreach.heyreach()?;
            (
                Arc::new(SqliteStore::open(&url).await?),
                zapmail,
                plusvibe,
                heyreach,
            )
        };
    let hub = Arc::new(Hub::default());
    let mut checker =
        AvailabilityChecker::new(zapmail.clone()).with_tlds(config.supported_tlds.clone());
    if let Some(ttl) = spec.settings.availability_cache_ttl {
        checker = checker.with_ttl(std::time::Duration::try_from_secs_f64(ttl).map_err(|_| {
            Failure::config("availability_cache_ttl must be a non-negative number of seconds")
        })?);
    }
    let worker = config.worker_id.clone();
    let engine = RsEngine::builder()
        .clients(zapmail, plusvibe, heyreach)
        .store(store)
        .secret_key(key)
        .config(config)
        .seed_default_tiers(spec.seed_default_tiers)
        .sink(Arc::new(HubSink(hub.clone())))
        .build()
        .await?;
    ENGINES.fetch_add(1, Ordering::Relaxed);
    Ok(Engine {
        inner: Some(Inner {
            engine,
            hub,
            checker,
        }),
        describe: format!(
            "Engine(store={:?}, worker_id={worker:?})",
            describe_store(&url)
        ),
    })
}

/// A provision request from Python.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewProvisionSpec {
    customer_name: String,
    customer_email: String,
    tier: String,
    domains: Vec<String>,
    patterns: Vec<String>,
    #[serde(default)]
    customer_id: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
}

/// Decode a provision request (JSON) from Python.
pub fn provision_request(json: &str) -> Outcome<NewProvision> {
    decode::<NewProvisionSpec>("provision request", json)?.into_request()
}

impl NewProvisionSpec {
    fn into_request(self) -> Outcome<NewProvision> {
        let [a, b]: [String; 2] = self.patterns.try_into().map_err(|p: Vec<String>| {
            Failure::validation(format!(
                "exactly two mailbox patterns are needed, got {}",
                p.len()
            ))
        })?;
        let mut req = NewProvision::new(self.customer_name, self.customer_email, self.tier)
            .domains(self.domains)
            .patterns(a, b);
        if let Some(c) = self.customer_id {
            let id = c
                .parse()
                .map_err(|_| Failure::validation(format!("customer_id {c:?} is not a UUID")))?;
            req = req.customer_id(id);
        }
        req.first_name = self.first_name;
        req.last_name = self.last_name;
        Ok(req)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TierSpec {
    name: String,
    slug: String,
    domain_count: u32,
    setup_fee_cents: i64,
    monthly_fee_cents: i64,
    #[serde(default = "two")]
    mailboxes_per_domain: u32,
    #[serde(default)]
    stripe_setup_price_id: Option<String>,
    #[serde(default)]
    stripe_monthly_price_id: Option<String>,
    #[serde(default = "yes")]
    is_active: bool,
    #[serde(default)]
    sort_order: Option<i32>,
}

fn two() -> u32 {
    2
}
fn yes() -> bool {
    true
}

impl TierSpec {
    fn input(self) -> TierInput {
        let mut t = TierInput::new(
            self.name,
            self.slug,
            self.domain_count,
            self.setup_fee_cents,
            self.monthly_fee_cents,
        );
        t.mailboxes_per_domain = self.mailboxes_per_domain;
        t.stripe_setup_price_id = self.stripe_setup_price_id;
        t.stripe_monthly_price_id = self.stripe_monthly_price_id;
        t.is_active = self.is_active;
        t.sort_order = self.sort_order;
        t
    }
}

impl Inner {
    async fn create(self, spec: String) -> Outcome<String> {
        let req = provision_request(&spec)?;
        Ok(self.engine.create_provision(req).await?.to_string())
    }
    async fn mark_paid(self, id: String, payment: String) -> Outcome<String> {
        let payment: Payment = decode("payment", &payment)?;
        json(&self.engine.mark_paid(pid(&id)?, payment).await?)
    }
    async fn status(self, id: String) -> Outcome<String> {
        json(&self.engine.status(pid(&id)?).await?)
    }
    async fn run(self, id: String) -> Outcome<String> {
        json(&self.engine.run(pid(&id)?).await?)
    }
    async fn step(self, id: String) -> Outcome<Option<String>> {
        Ok(self.engine.step(pid(&id)?).await?.map(|t| t.to_rfc3339()))
    }
    async fn retry(self, id: String) -> Outcome<String> {
        json(&self.engine.retry(pid(&id)?).await?)
    }
    async fn confirm_not_purchased(self, id: String, domains: Vec<String>) -> Outcome<Vec<String>> {
        let refs: Vec<&str> = domains.iter().map(String::as_str).collect();
        Ok(self.engine.confirm_not_purchased(pid(&id)?, &refs).await?)
    }
    async fn upgrade(self, id: String, tier: String, domains: Vec<String>) -> Outcome<String> {
        json(&self.engine.upgrade(pid(&id)?, &tier, &domains).await?)
    }
    async fn cancel(self, id: String) -> Outcome<String> {
        json(&self.engine.cancel(pid(&id)?).await?)
    }
    async fn dashboard(self, id: String) -> Outcome<String> {
        json(&self.engine.dashboard(pid(&id)?).await?)
    }
    async fn checkout_completed(self, id: String, checkout: String) -> Outcome<String> {
        let checkout: CheckoutCompleted = decode("checkout", &checkout)?;
        json(&self.engine.checkout_completed(pid(&id)?, checkout).await?)
    }
    async fn subscription_updated(
        self,
        id: String,
        subscription_id: Option<String>,
        tier: String,
        domains: Vec<String>,
    ) -> Outcome<String> {
        json(
            &self
                .engine
                .subscription_updated(pid(&id)?, subscription_id.as_deref(), &tier, &domains)
                .await?,
        )
    }
    async fn subscription_deleted(
        self,
        id: String,
        subscription_id: Option<String>,
    ) -> Outcome<String> {
        json(
            &self
                .engine
                .subscription_deleted(pid(&id)?, subscription_id.as_deref())
                .await?,
        )
    }
    async fn invoice_payment_failed(self, id: String, invoice: String) -> Outcome<String> {
        let invoice: InvoicePaymentFailed = decode("invoice", &invoice)?;
        json(
            &self
                .engine
                .invoice_payment_failed(pid(&id)?, invoice)
                .await?,
        )
    }
    async fn worker(self, stop: Py<StopSignal>) -> Outcome<()> {
        let stop = stop.get();
        Ok(self.engine.run_worker(stop.wait()).await?)
    }
    async fn tiers(self, include_inactive: bool) -> Outcome<String> {
        let mut tiers = self.engine.store().tiers().await?;
        tiers.retain(|t| include_inactive || t.is_active);
        tiers.sort_by_key(|t| t.sort_order);
        json(&tiers)
    }
    async fn create_tier(self, spec: String) -> Outcome<String> {
        let input = decode::<TierSpec>("tier", &spec)?.input();
        json(&wizard::create_tier(&**self.engine.store(), input).await?)
    }
    async fn update_tier(self, id: String, spec: String) -> Outcome<String> {
        let input = decode::<TierSpec>("tier", &spec)?.input();
        json(&wizard::update_tier(&**self.engine.store(), tier_id(&id)?, input).await?)
    }
    async fn deactivate_tier(self, id: String) -> Outcome<String> {
        json(&wizard::deactivate_tier(&**self.engine.store(), tier_id(&id)?).await?)
    }
    async fn check(self, names: Vec<String>) -> Outcome<String> {
        json(&self.checker.check(&names).await?)
    }
    async fn quote(self, tier: String, domains: Vec<String>) -> Outcome<String> {
        let tier = self.engine.store().tier_by_slug(tier.trim()).await?;
        let checks = self.checker.check(&domains).await?;
        json(&wizard::quote(&tier, &checks)?)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // Database pools and clients belong to the runtime: release them there (and never
        // touch the runtime in a forked child).
        if let Some(inner) = self.inner.take() {
            match crate::runtime::runtime() {
                Ok(rt) => {
                    rt.spawn(async move { drop(inner) });
                }
                Err(_) => std::mem::forget(inner),
            }
        }
    }
}

#[pymethods]
impl Engine {
    /// Open an engine from its JSON spec (store, secret key, vendors, settings).
    #[staticmethod]
    fn open(py: Python<'_>, spec: String) -> PyResult<Engine> {
        let spec: EngineSpec = decode("engine settings", &spec).map_err(|f| f.into_pyerr(py))?;
        wait(py, open(spec), None)
    }

    /// `open`, as an awaitable.
    #[staticmethod]
    fn open_async(py: Python<'_>, spec: String) -> PyResult<Bound<'_, PyAny>> {
        let spec: EngineSpec = decode("engine settings", &spec).map_err(|f| f.into_pyerr(py))?;
        awaitable(py, open(spec))
    }

    /// Progress events of one provision (or of all, with `None`) from now on.
    #[pyo3(signature = (provision_id=None))]
    fn subscribe(&self, py: Python<'_>, provision_id: Option<String>) -> PyResult<EventStream> {
        let only = provision_id
            .map(|p| pid(&p))
            .transpose()
            .map_err(|f| f.into_pyerr(py))?;
        Ok(EventStream {
            rx: Arc::new(tokio::sync::Mutex::new(self.inner().hub.subscribe(only))),
            closed: Arc::new((AtomicBool::new(false), Notify::new())),
        })
    }

    /// Drive one provision to the end of its run; `on_progress(json)` is called on this
    /// thread for every event.
    #[pyo3(signature = (provision_id, on_progress=None))]
    fn run(
        &self,
        py: Python<'_>,
        provision_id: String,
        on_progress: Option<Py<PyAny>>,
    ) -> PyResult<String> {
        let progress = match on_progress {
            Some(callback) => {
                let only = pid(&provision_id).map_err(|f| f.into_pyerr(py))?;
                Some(Progress {
                    events: self.inner().hub.subscribe(Some(only)),
                    callback,
                })
            }
            None => None,
        };
        wait(py, self.inner().run(provision_id), progress)
    }

    /// `run`, as an awaitable (progress: see `subscribe`).
    fn run_async<'py>(&self, py: Python<'py>, provision_id: String) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.inner().run(provision_id))
    }

    /// Run every due provision until `stop` is set; `on_progress(json)` for every event.
    #[pyo3(signature = (stop, on_progress=None))]
    fn run_worker(
        &self,
        py: Python<'_>,
        stop: Py<StopSignal>,
        on_progress: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        let progress = on_progress.map(|callback| Progress {
            events: self.inner().hub.subscribe(None),
            callback,
        });
        wait(py, self.inner().worker(stop), progress)
    }

    /// `run_worker`, as an awaitable.
    fn run_worker_async<'py>(
        &self,
        py: Python<'py>,
        stop: Py<StopSignal>,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.inner().worker(stop))
    }

    fn create_provision(&self, py: Python<'_>, spec: String) -> PyResult<String> {
        wait(py, self.inner().create(spec), None)
    }
    fn create_provision_async<'py>(
        &self,
        py: Python<'py>,
        spec: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.inner().create(spec))
    }
    fn mark_paid(&self, py: Python<'_>, provision_id: String, payment: String) -> PyResult<String> {
        wait(py, self.inner().mark_paid(provision_id, payment), None)
    }
    fn mark_paid_async<'py>(
        &self,
        py: Python<'py>,
        provision_id: String,
        payment: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.inner().mark_paid(provision_id, payment))
    }
    fn status(&self, py: Python<'_>, provision_id: String) -> PyResult<String> {
        wait(py, self.inner().status(provision_id), None)
    }
    fn status_async<'py>(
        &self,
        py: Python<'py>,
        provision_id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.inner().status(provision_id))
    }
    fn step(&self, py: Python<'_>, provision_id: String) -> PyResult<Option<String>> {
        wait(py, self.inner().step(provision_id), None)
    }
    fn step_async<'py>(
        &self,
        py: Python<'py>,
        provision_id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.inner().step(provision_id))
    }
    fn retry(&self, py: Python<'_>, provision_id: String) -> PyResult<String> {
        wait(py, self.inner().retry(provision_id), None)
    }
    fn retry_async<'py>(
        &self,
        py: Python<'py>,
        provision_id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.inner().retry(provision_id))
    }
    fn confirm_not_purchased(
        &self,
        py: Python<'_>,
        provision_id: String,
        domains: Vec<String>,
    ) -> PyResult<Vec<String>> {
        wait(
            py,
            self.inner().confirm_not_purchased(provision_id, domains),
            None,
        )
    }
    fn confirm_not_purchased_async<'py>(
        &self,
        py: Python<'py>,
        provision_id: String,
        domains: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(
            py,
            self.inner().confirm_not_purchased(provision_id, domains),
        )
    }
    fn upgrade(
        &self,
        py: Python<'_>,
        provision_id: String,
        tier: String,
        domains: Vec<String>,
    ) -> PyResult<String> {
        wait(py, self.inner().upgrade(provision_id, tier, domains), None)
    }
    fn upgrade_async<'py>(
        &self,
        py: Python<'py>,
        provision_id: String,
        tier: String,
        domains: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.inner().upgrade(provision_id, tier, domains))
    }
    fn cancel(&self, py: Python<'_>, provision_id: String) -> PyResult<String> {
        wait(py, self.inner().cancel(provision_id), None)
    }
    fn cancel_async<'py>(
        &self,
        py: Python<'py>,
        provision_id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.inner().cancel(provision_id))
    }
    fn dashboard(&self, py: Python<'_>, provision_id: String) -> PyResult<String> {
        wait(py, self.inner().dashboard(provision_id), None)
    }
    fn dashboard_async<'py>(
        &self,
        py: Python<'py>,
        provision_id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.inner().dashboard(provision_id))
    }
    fn checkout_completed(
        &self,
        py: Python<'_>,
        provision_id: String,
        checkout: String,
    ) -> PyResult<String> {
        wait(
            py,
            self.inner().checkout_completed(provision_id, checkout),
            None,
        )
    }
    fn checkout_completed_async<'py>(
        &self,
        py: Python<'py>,
        provision_id: String,
        checkout: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.inner().checkout_completed(provision_id, checkout))
    }
    fn subscription_updated(
        &self,
        py: Python<'_>,
        provision_id: String,
        subscription_id: Option<String>,
        tier: String,
        domains: Vec<String>,
    ) -> PyResult<String> {
        wait(
            py,
            self.inner()
                .subscription_updated(provision_id, subscription_id, tier, domains),
            None,
        )
    }
    fn subscription_updated_async<'py>(
        &self,
        py: Python<'py>,
        provision_id: String,
        subscription_id: Option<String>,
        tier: String,
        domains: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(
            py,
            self.inner()
                .subscription_updated(provision_id, subscription_id, tier, domains),
        )
    }
    fn subscription_deleted(
        &self,
        py: Python<'_>,
        provision_id: String,
        subscription_id: Option<String>,
    ) -> PyResult<String> {
        wait(
            py,
            self.inner()
                .subscription_deleted(provision_id, subscription_id),
            None,
        )
    }
    fn subscription_deleted_async<'py>(
        &self,
        py: Python<'py>,
        provision_id: String,
        subscription_id: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(
            py,
            self.inner()
                .subscription_deleted(provision_id, subscription_id),
        )
    }
    fn invoice_payment_failed(
        &self,
        py: Python<'_>,
        provision_id: String,
        invoice: String,
    ) -> PyResult<String> {
        wait(
            py,
            self.inner().invoice_payment_failed(provision_id, invoice),
            None,
        )
    }
    fn invoice_payment_failed_async<'py>(
        &self,
        py: Python<'py>,
        provision_id: String,
        invoice: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(
            py,
            self.inner().invoice_payment_failed(provision_id, invoice),
        )
    }
    fn tiers(&self, py: Python<'_>, include_inactive: bool) -> PyResult<String> {
        wait(py, self.inner().tiers(include_inactive), None)
    }
    fn tiers_async<'py>(
        &self,
        py: Python<'py>,
        include_inactive: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.inner().tiers(include_inactive))
    }
    fn create_tier(&self, py: Python<'_>, spec: String) -> PyResult<String> {
        wait(py, self.inner().create_tier(spec), None)
    }
    fn create_tier_async<'py>(&self, py: Python<'py>, spec: String) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.inner().create_tier(spec))
    }
    fn update_tier(&self, py: Python<'_>, tier_id: String, spec: String) -> PyResult<String> {
        wait(py, self.inner().update_tier(tier_id, spec), None)
    }
    fn update_tier_async<'py>(
        &self,
        py: Python<'py>,
        tier_id: String,
        spec: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.inner().update_tier(tier_id, spec))
    }
    fn deactivate_tier(&self, py: Python<'_>, tier_id: String) -> PyResult<String> {
        wait(py, self.inner().deactivate_tier(tier_id), None)
    }
    fn deactivate_tier_async<'py>(
        &self,
        py: Python<'py>,
        tier_id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.inner().deactivate_tier(tier_id))
    }
    fn check_availability(&self, py: Python<'_>, names: Vec<String>) -> PyResult<String> {
        wait(py, self.inner().check(names), None)
    }
    fn check_availability_async<'py>(
        &self,
        py: Python<'py>,
        names: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.inner().check(names))
    }
    fn quote(&self, py: Python<'_>, tier: String, domains: Vec<String>) -> PyResult<String> {
        wait(py, self.inner().quote(tier, domains), None)
    }
    fn quote_async<'py>(
        &self,
        py: Python<'py>,
        tier: String,
        domains: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.inner().quote(tier, domains))
    }

    /// The engine's Zapmail client.
    fn zapmail(&self) -> ZapmailClient {
        ZapmailClient::wrap(self.inner().engine.clients().zapmail.clone())
    }
    /// The engine's PlusVibe client.
    fn plusvibe(&self) -> PlusVibeClient {
        PlusVibeClient::wrap(self.inner().engine.clients().plusvibe.clone())
    }
    /// The engine's HeyReach client.
    fn heyreach(&self) -> HeyReachClient {
        HeyReachClient::wrap(self.inner().engine.clients().heyreach.clone())
    }

    fn __repr__(&self) -> String {
        self.describe.clone()
    }
}
