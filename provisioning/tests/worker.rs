//! The worker loop: it picks up every paid provision (including ones paid while it runs),
//! drives them with bounded concurrency, and stops when asked; live UIs follow along on a
//! broadcast sink.

use std::sync::Arc;

use provisioning::sim::Simulators;
use provisioning::store::SqliteStore;
use provisioning::{
    BroadcastSink, Engine, NewProvision, Payment, ProvisionId, ProvisionStatus, SecretKey,
    StepStatus, TracingSink,
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
