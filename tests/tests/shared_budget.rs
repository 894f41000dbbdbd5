//! The PostgreSQL rate limiter keeps every sliding window of every limit across processes:
//! two "processes" (each with its own pool and limiter on the same key), three greedy
//! callers each, all admitted by an exact sliding-window enforcer (the simulators' own);
//! while two in-process limiters, one per process, overrun the same limits.

use std::sync::Arc;
use std::time::Duration;

use gtm_system_tests::TestDb;
use provisioning::store::{PgRateLimiter, Store};
use secrecy::SecretString;
use vendor_http::sim::WindowEnforcer;
use vendor_http::{GENERAL, GovernorLimiter, Limit, LimitSet, RateLimiter, RateLimits};

const REQUESTS: usize = 60;

/// 10 per 500 ms and 30 per 3 s: the second binds over a run of 60 requests.
fn limits() -> RateLimits {
    RateLimits::new(LimitSet::new([
        Limit::new(10, Duration::from_millis(500)),
        Limit::new(30, Duration::from_secs(3)),
    ]))
    .with_margin(0.1)
}

/// Three greedy callers per limiter take `REQUESTS` tokens in all, each checked by
/// `enforcer` the moment it is granted. Returns the refusals.
async fn greedy(limiters: Vec<Arc<dyn RateLimiter>>, enforcer: Arc<WindowEnforcer>) -> u64 {
    let per_caller = REQUESTS / (limiters.len() * 3);
    let mut callers = tokio::task::JoinSet::new();
    for l in &limiters {
        for _ in 0..3 {
            let l = l.clone();
            let enforcer = enforcer.clone();
            callers.spawn(async move {
                for _ in 0..per_caller {
                    let permit = l.acquire(GENERAL).await;
                    let _ = enforcer.admit("agency-key", GENERAL);
                    drop(permit); // answered
                }
            });
        }
    }
    while let Some(r) = callers.join_next().await {
        r.unwrap();
    }
    enforcer.refused()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_budget_in_every_window() {
    let db = TestDb::create().await;
    let (a, b) = (db.store().await, db.store().await);
    a.migrate().await.unwrap();
    let key = SecretString::from("agency-key");
    let shared: Vec<Arc<dyn RateLimiter>> = vec![
        Arc::new(
            PgRateLimiter::new(&a, "zapmail", &key, limits())
                .await
                .unwrap(),
        ),
        Arc::new(
            PgRateLimiter::new(&b, "zapmail", &key, limits())
                .await
                .unwrap(),
        ),
    ];
    let enforcer = Arc::new(WindowEnforcer::new(limits().with_margin(0.0)));
    let refused = greedy(shared, enforcer.clone()).await;
    assert_eq!(refused, 0, "the shared budget kept every window");

    // The control: one in-process limiter per process knows nothing of the other's requests.
    let separate: Vec<Arc<dyn RateLimiter>> = vec![
        Arc::new(GovernorLimiter::new(limits())),
        Arc::new(GovernorLimiter::new(limits())),
    ];
    let control = Arc::new(WindowEnforcer::new(limits().with_margin(0.0)));
    let overrun = greedy(separate, control).await;
    assert!(overrun > 0, "separate budgets overrun the shared limits");

    a.close().await;
    b.close().await;
    db.drop_db().await;
}
