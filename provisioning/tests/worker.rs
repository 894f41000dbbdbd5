//! The worker loop: it picks up every paid provision (including ones paid while it runs),
//! drives them with bounded concurrency, and stops when asked; live UIs follow along on a
//! broadcast sink.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use provisioning::sim::Simulators;
use provisioning::store::{Claim, ProvisionSummary, SqliteStore, StoredEvent, Versioned};
use provisioning::{
    BroadcastSink, CustomerId, Engine, NewProvision, Payment, ProgressEvent, ProvisionId,
    ProvisionState, ProvisionStatus, SecretKey, StepStatus, Store, StoreError, StoreResult, Tier,
    TracingSink,
};

#[tokio::test]
async fn worker_runs_every_due_provision_and_stops_on_request() {
    let sims = Simulators::start().await;
    let store = Arc::new(SqliteStore::open("sqlite::memory:").await.unwrap());
    let live = BroadcastSink::new(4096);
    let mut rx = live.subscribe();
    let c = sims.clients();
    let mut config = sims.engine_config();
    config.concurrency = 2;
    let engine = Engine::builder()
        .clients(c.zapmail, c.plusvibe, c.heyreach)
        .store(store.clone())
        .secret_key(SecretKey::generate())
        .config(config)
        .sink(Arc::new(live))
        .sink(Arc::new(TracingSink))
        .build()
        .await
        .unwrap();

    let create = |i: usize| {
        let engine = engine.clone();
        async move {
            engine
                .create_provision(
                    NewProvision::new(
                        format!("Customer {i}"),
                        format!("c{i}@example.com"),
                        "starter",
                    )
                    .domains([
                        format!("cust{i}a.com"),
                        format!("cust{i}b.net"),
                        format!("cust{i}c.org"),
                    ])
                    .patterns("sam", "sam.doe"),
                )
                .await
                .unwrap()
        }
    };
    // Two paid before the worker starts, one left unpaid, one paid while it runs.
    let mut paid: Vec<ProvisionId> = Vec::new();
    for i in 0..2 {
        let id = create(i).await;
        engine.mark_paid(id, Payment::default()).await.unwrap();
        paid.push(id);
    }
    let unpaid = create(9).await;

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let worker = {
        let engine = engine.clone();
        tokio::spawn(async move {
            engine
                .run_worker(async {
                    let _ = stop_rx.await;
                })
                .await
        })
    };
    let late = create(2).await;
    engine.mark_paid(late, Payment::default()).await.unwrap();
    paid.push(late);

    // Follow the broadcast until every paid provision has finished its run.
    let mut finished = std::collections::BTreeSet::new();
    while finished.len() < paid.len() {
        let e = rx
            .recv()
            .await
            .expect("events keep coming until all finish");
        if e.step == 0 && e.status == StepStatus::Completed {
            finished.insert(e.provision_id);
        }
    }
    stop_tx.send(()).unwrap();
    worker.await.unwrap().unwrap();

    for id in &paid {
        assert_eq!(
            engine.status(*id).await.unwrap().status,
            ProvisionStatus::Active
        );
    }
    assert_eq!(
        engine.status(unpaid).await.unwrap().status,
        ProvisionStatus::PendingPayment,
        "an unpaid provision is never started"
    );
    assert_eq!(sims.heyreach.lists_created(), 3);
    assert_eq!(sims.zapmail.journal().rate_limited(), 0);
    // The store's event log has what the broadcast carried.
    let events = store_events(&engine, paid[0]).await;
    assert!(events >= 20, "{events}");
}

async fn store_events(engine: &Engine, id: ProvisionId) -> usize {
    engine.store().events(id, 0).await.unwrap().len()
}

/// A real SQLite store whose look-ups for due runs fail while `outage` lasts (a database
/// restart, a dropped connection), counted in calls.
#[derive(Debug)]
struct FlakyStore {
    inner: SqliteStore,
    /// Calls to `claim_due` / `next_due_at` still to fail.
    outage: AtomicUsize,
    failed: AtomicUsize,
}

impl FlakyStore {
    fn down(&self) -> StoreResult<()> {
        let left = self.outage.load(Ordering::SeqCst);
        if left > 0 {
            self.outage.store(left - 1, Ordering::SeqCst);
            self.failed.fetch_add(1, Ordering::SeqCst);
            return Err(StoreError::Backend("connection reset by peer".into()));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Store for FlakyStore {
    async fn migrate(&self) -> StoreResult<()> {
        self.inner.migrate().await
    }
    async fn put_tier(&self, tier: &Tier) -> StoreResult<()> {
        self.inner.put_tier(tier).await
    }
    async fn tiers(&self) -> StoreResult<Vec<Tier>> {
        self.inner.tiers().await
    }
    async fn insert_provision(&self, state: &ProvisionState) -> StoreResult<u64> {
        self.inner.insert_provision(state).await
    }
    async fn load(&self, id: ProvisionId) -> StoreResult<Versioned<ProvisionState>> {
        self.inner.load(id).await
    }
    async fn find_by_customer(&self, customer: CustomerId) -> StoreResult<Option<ProvisionId>> {
        self.inner.find_by_customer(customer).await
    }
    async fn list_provisions(&self) -> StoreResult<Vec<ProvisionSummary>> {
        self.inner.list_provisions().await
    }
    async fn save(
        &self,
        state: &ProvisionState,
        expected: u64,
        events: &[ProgressEvent],
        lease_until: Option<DateTime<Utc>>,
    ) -> StoreResult<u64> {
        self.inner.save(state, expected, events, lease_until).await
    }
    async fn claim(
        &self,
        id: ProvisionId,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<Claim>> {
        self.inner.claim(id, worker, now, lease_until).await
    }
    async fn claim_due(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Claim>> {
        self.down()?;
        self.inner.claim_due(worker, now, lease_until, limit).await
    }
    async fn renew_lease(
        &self,
        id: ProvisionId,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.inner.renew_lease(id, worker, lease_until).await
    }
    async fn next_due_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
        self.down()?;
        self.inner.next_due_at().await
    }
    async fn events(&self, id: ProvisionId, after: u64) -> StoreResult<Vec<StoredEvent>> {
        self.inner.events(id, after).await
    }
}

#[tokio::test]
async fn a_store_outage_does_not_end_the_worker() {
    let sims = Simulators::start().await;
    let store = Arc::new(FlakyStore {
        inner: SqliteStore::open("sqlite::memory:").await.unwrap(),
        outage: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
    });
    let live = BroadcastSink::new(4096);
    let mut rx = live.subscribe();
    let engine = sims
        .engine_builder()
        .store(store.clone())
        .secret_key(SecretKey::generate())
        .sink(Arc::new(live))
        .build()
        .await
        .unwrap();
    let first = engine
        .create_provision(
            NewProvision::new("Customer 0", "c0@example.com", "starter")
                .domains(["flaky0a.com", "flaky0b.net", "flaky0c.org"])
                .patterns("sam", "sam.doe"),
        )
        .await
        .unwrap();
    engine.mark_paid(first, Payment::default()).await.unwrap();
    // The database is down when the worker starts looking.
    store.outage.store(4, Ordering::SeqCst);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut worker = tokio::spawn({
        let engine = engine.clone();
        async move {
            engine
                .run_worker(async {
                    let _ = stop_rx.await;
                })
                .await
        }
    });
    // Once the first run is going, another outage; a run paid during it is picked up after.
    let mut started = false;
    let mut finished = std::collections::BTreeSet::new();
    let mut second = None;
    while finished.len() < 2 {
        let e = tokio::select! {
            e = rx.recv() => e.expect("events keep coming"),
            ended = &mut worker => panic!("the worker ended during an outage: {ended:?}"),
        };
        if !started && e.provision_id == first {
            started = true;
            store.outage.store(3, Ordering::SeqCst);
            let id = engine
                .create_provision(
                    NewProvision::new("Customer 1", "c1@example.com", "starter")
                        .domains(["flaky1a.com", "flaky1b.net", "flaky1c.org"])
                        .patterns("sam", "sam.doe"),
                )
                .await
                .unwrap();
            engine.mark_paid(id, Payment::default()).await.unwrap();
            second = Some(id);
        }
        if e.step == 0 && e.status == StepStatus::Completed {
            finished.insert(e.provision_id);
        }
    }
    stop_tx.send(()).unwrap();
    worker
        .await
        .unwrap()
        .expect("the worker ends only when asked");
    assert!(
        store.failed.load(Ordering::SeqCst) >= 7,
        "both outages were met"
    );
    for id in [first, second.unwrap()] {
        assert_eq!(
            engine.status(id).await.unwrap().status,
            ProvisionStatus::Active
        );
    }
    assert_eq!(sims.zapmail.journal().rate_limited(), 0);
}
