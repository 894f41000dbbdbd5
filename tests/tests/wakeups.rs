//! LISTEN/NOTIFY: a worker whose timed poll would not come for an hour still picks up a run
//! paid in another process at once, because the payment is announced on PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use gtm_system_tests::TestDb;
use provisioning::sim::Simulators;
use provisioning::store::Store;
use provisioning::{Engine, NewProvision, Payment, ProvisionStatus, SecretKey};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_wakes_on_an_announced_run_without_its_timed_poll() {
    let db = TestDb::create().await;
    let sims = Simulators::start().await;
    let key = SecretKey::generate();
    let engine_on = |store: Arc<dyn Store>, worker: &str| {
        let c = sims.clients();
        let mut config = sims.engine_config();
        config.worker_id = worker.to_string();
        // No timed poll within the test: only an announcement can wake the worker.
        config.idle_poll = Duration::from_secs(3600);
        Engine::builder()
            .clients(c.zapmail, c.plusvibe, c.heyreach)
            .store(store)
            .secret_key(key.clone())
            .config(config)
            .build()
    };
    // Two "processes": each with its own store (pool) and engine.
    let worker_store = Arc::new(db.store().await);
    let api_store = Arc::new(db.store().await);
    let worker = engine_on(worker_store.clone(), "listener").await.unwrap();
    let api = engine_on(api_store.clone(), "api").await.unwrap();

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn({
        let worker = worker.clone();
        async move {
            worker
                .run_worker(async {
                    let _ = stop_rx.await;
                })
                .await
        }
    });
    // The worker is idle (it found nothing due) and listening.
    gtm_system_tests::wait_until("the worker listens", Duration::from_secs(30), || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND query LIKE 'LISTEN %'",
        )
        .fetch_one(api_store.pool())
        .await
        .unwrap()
            > 0
    })
    .await;

    let id = api
        .create_provision(
            NewProvision::new("Wake Up", "wake@example.com", "starter")
                .domains(["wakeup1.com", "wakeup2.net", "wakeup3.org"])
                .patterns("wake", "wake.up"),
        )
        .await
        .unwrap();
    api.mark_paid(id, Payment::default()).await.unwrap();

    gtm_system_tests::wait_until(
        "the run is driven to active",
        Duration::from_secs(60),
        || async { api.status(id).await.unwrap().status == ProvisionStatus::Active },
    )
    .await;
    stop_tx.send(()).unwrap();
    running.await.unwrap().unwrap();
    worker_store.close().await;
    api_store.close().await;
    db.drop_db().await;
}
