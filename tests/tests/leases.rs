//! Leases on PostgreSQL: a worker whose step lasts several times its lease keeps the run (the
//! lease is renewed while it works), so a second worker polling all along never drives that
//! step (without renewal it would take the run over at the first expiry).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use gtm_system_tests::TestDb;
use provisioning::sim::Simulators;
use provisioning::store::Store;
use provisioning::{
    Engine, FnSink, NewProvision, Payment, ProgressEvent, ProvisionStatus, SecretKey, StepStatus,
};

/// A progress sink from a closure.
type Sink = FnSink<Box<dyn Fn(&ProgressEvent) + Send + Sync>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_step_keeps_its_claim_against_a_polling_worker() {
    let db = TestDb::create().await;
    let sims = Arc::new(Simulators::start().await);
    let key = SecretKey::generate();
    let lease = Duration::from_millis(600);
    let engine_on = |store: Arc<dyn Store>, worker: &str, sink: Sink| {
        let c = sims.clients();
        let mut config = sims.engine_config();
        config.worker_id = worker.to_string();
        config.lease = lease;
        config.idle_poll = Duration::from_millis(50);
        Engine::builder()
            .clients(c.zapmail, c.plusvibe, c.heyreach)
            .store(store)
            .secret_key(key.clone())
            .config(config)
            .sink(Arc::new(sink))
            .build()
    };
    // Step 1 (the Zapmail workspace) answers slowly: each call takes longer than the lease.
    sims.zapmail.set_latency(lease * 2);
    let fast_again = sims.clone();
    let holder_sink: Sink = FnSink(Box::new(move |e: &ProgressEvent| {
        if e.step == 1 && e.status == StepStatus::Completed {
            fast_again.zapmail.set_latency(Duration::ZERO);
        }
    }));
    let other_events = Arc::new(AtomicUsize::new(0));
    let counted = other_events.clone();
    let other_sink: Sink = FnSink(Box::new(move |e: &ProgressEvent| {
        // Later steps may change hands when the run waits (the lease is released then).
        if e.step == 1 {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    }));

    let holder_store = Arc::new(db.store().await);
    let other_store = Arc::new(db.store().await);
    let holder = engine_on(holder_store.clone(), "holder", holder_sink)
        .await
        .unwrap();
    let other = engine_on(other_store.clone(), "other", other_sink)
        .await
        .unwrap();

    let id = holder
        .create_provision(
            NewProvision::new("Long Step", "long@example.com", "starter")
                .domains(["longstep1.com", "longstep2.net", "longstep3.org"])
                .patterns("long", "long.step"),
        )
        .await
        .unwrap();
    holder.mark_paid(id, Payment::default()).await.unwrap();
    // The holder claims the run (and starts its slow step 1) before the other worker polls.
    let driving = tokio::spawn({
        let holder = holder.clone();
        async move { holder.run(id).await }
    });
    gtm_system_tests::wait_until(
        "the holder claims the run",
        Duration::from_secs(30),
        || async {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM infra_provisions WHERE lease_owner = 'holder'",
            )
            .fetch_one(holder_store.pool())
            .await
            .unwrap()
                > 0
        },
    )
    .await;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let polling = tokio::spawn({
        let other = other.clone();
        async move {
            other
                .run_worker(async {
                    let _ = stop_rx.await;
                })
                .await
        }
    });
    // Without renewal the two workers would take the run from each other at every expiry,
    // and the slow step would never finish: the limit turns that into a failure.
    let snap = tokio::time::timeout(Duration::from_secs(90), driving)
        .await
        .expect("the run finishes (the slow step keeps its claim)")
        .unwrap()
        .unwrap();
    stop_tx.send(()).unwrap();
    polling.await.unwrap().unwrap();

    assert_eq!(snap.status, ProvisionStatus::Active, "{:?}", snap.error);
    assert!(
        sims.zapmail.journal().len() > 3,
        "step 1 made several slow calls"
    );
    assert_eq!(
        other_events.load(Ordering::SeqCst),
        0,
        "the polling worker never drove the held step"
    );
    holder_store.close().await;
    other_store.close().await;
    db.drop_db().await;
}
