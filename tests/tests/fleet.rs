//! Several worker *processes* on one PostgreSQL database and one agency key per vendor,
//! against simulators that enforce the vendors' limits (scaled by one factor shared with the
//! workers' clients): 30 Starter customers all end `active`, with no 429 and nothing bought
//! or created twice; and the same when one worker is killed with SIGKILL mid-run.
//!
//! The two tests take turns (each runs three worker processes).

use std::time::Duration;

use gtm_system_tests::Fleet;

const CUSTOMERS: usize = 30;
const RATE_SCALE: f64 = 10.0;
/// Only turns a hang into a failure; the runs take a fraction of it.
const LIMIT: Duration = Duration::from_secs(100);

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_provision_thirty_customers_within_the_vendors_limits() {
    let _turn = SERIAL.lock().await;
    let mut fleet = Fleet::start(RATE_SCALE, env!("CARGO_BIN_EXE_gtm-test-worker")).await;
    fleet.enqueue(CUSTOMERS).await;
    let workers: Vec<_> = (0..3).map(|i| fleet.spawn(&format!("w{i}"))).collect();

    gtm_system_tests::wait_until("all customers active", LIMIT, || async {
        fleet.active().await == CUSTOMERS as i64
    })
    .await;
    drop(workers);

    assert_eq!(
        fleet.statuses().await.get("active"),
        Some(&(CUSTOMERS as i64))
    );
    assert_eq!(
        fleet.rate_limited(),
        0,
        "the shared budget kept every limit"
    );
    let dups = fleet.duplicates();
    assert!(dups.is_empty(), "{dups:?}");
    assert_eq!(fleet.sims.zapmail.mailboxes().len(), CUSTOMERS * 6);
    // Every provision's progress is in the event log.
    let logged: i64 =
        sqlx::query_scalar("SELECT COUNT(DISTINCT event->>'provision_id') FROM gtm_events")
            .fetch_one(fleet.store.pool())
            .await
            .unwrap();
    assert_eq!(logged, CUSTOMERS as i64);
    fleet.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_run_loses_its_runs_to_the_others() {
    let _turn = SERIAL.lock().await;
    let mut fleet = Fleet::start(RATE_SCALE, env!("CARGO_BIN_EXE_gtm-test-worker")).await;
    fleet.enqueue(CUSTOMERS).await;
    let mut victim = fleet.spawn("victim");
    let others: Vec<_> = (0..2).map(|i| fleet.spawn(&format!("w{i}"))).collect();

    // Mid-run: the victim holds runs, and purchases have started.
    gtm_system_tests::wait_until("the victim holds runs mid-purchase", LIMIT, || async {
        fleet.claimed_by("victim").await > 0
            && fleet
                .sims
                .zapmail
                .journal()
                .applied(zapmail::mock::routes::BUY)
                > 3
    })
    .await;
    victim.kill();
    assert!(victim.exited().is_some());
    let held: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM infra_provisions WHERE lease_owner = 'victim'")
            .fetch_one(fleet.store.pool())
            .await
            .unwrap();

    gtm_system_tests::wait_until("all customers active after the kill", LIMIT, || async {
        fleet.active().await == CUSTOMERS as i64
    })
    .await;
    drop(others);

    let dups = fleet.duplicates();
    assert!(dups.is_empty(), "{dups:?}");
    assert_eq!(fleet.sims.zapmail.mailboxes().len(), CUSTOMERS * 6);
    // The runs the victim held when it died were finished by the others.
    let still: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM infra_provisions WHERE lease_owner = 'victim'")
            .fetch_one(fleet.store.pool())
            .await
            .unwrap();
    assert_eq!(still, 0, "{held} runs were held by the victim at its death");
    eprintln!(
        "kill test: victim held {held} runs; {} 429s",
        fleet.rate_limited()
    );
    fleet.finish().await;
}
