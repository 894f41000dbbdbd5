//! A provisioning worker process for the system tests: one PostgreSQL database, the three
//! vendors (simulators by default: the engine uses the simulators' short schedules), rate
//! budgets shared through the database. Runs until SIGTERM or Ctrl-C (tests SIGKILL it).
//!
//! Settings, all from the environment:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `GTM_DATABASE_URL` | PostgreSQL URL | required |
//! | `GTM_ZAPMAIL_URL`, `GTM_PLUSVIBE_URL`, `GTM_HEYREACH_URL` | vendor base URLs | required |
//! | `GTM_ZAPMAIL_KEY`, `GTM_PLUSVIBE_KEY`, `GTM_HEYREACH_KEY` | API keys | required |
//! | `GTM_SECRET_KEY` | key sealing stored passwords (64 hex) | required |
//! | `GTM_WORKER_ID` | lease owner name | `worker-<pid>` |
//! | `GTM_CONCURRENCY` | provisions driven at once | 8 |
//! | `GTM_RATE_SCALE` | factor on every vendor limit (as the simulators') | 1 |
//! | `GTM_RATE_MARGIN` | widening of every limit window | 0.02 |
//! | `GTM_LEASE_MS` | claim lease | 30000 |
//! | `GTM_LOST_ANSWER_GRACE_MS` | re-send a lost creation after (0 = never) | 0 |

use std::sync::Arc;
use std::time::Duration;

use provisioning::store::{PgRateLimiter, PostgresStore, Store};
use provisioning::{Engine, EngineConfig, SecretKey};
use secrecy::SecretString;
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;
use vendor_http::RetryConfig;

fn var(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is required"))
}

fn num<T: FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{name}: not a number: {v:?}")),
        Err(_) => Ok(default),
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GTM_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run().await {
        eprintln!("gtm-test-worker: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let worker_id =
        std::env::var("GTM_WORKER_ID").unwrap_or_else(|_| format!("worker-{}", std::process::id()));
    let concurrency: usize = num("GTM_CONCURRENCY", 8)?;
    let scale: f64 = num("GTM_RATE_SCALE", 1.0)?;
    let margin: f64 = num("GTM_RATE_MARGIN", 0.02)?;
    let lease_ms: u64 = num("GTM_LEASE_MS", 30_000)?;
    let grace_ms: u64 = num("GTM_LOST_ANSWER_GRACE_MS", 0)?;
    let secret = SecretKey::parse(&SecretString::from(var("GTM_SECRET_KEY")?))
        .map_err(|e| format!("GTM_SECRET_KEY: {e}"))?;

    let options = PgConnectOptions::from_str(&var("GTM_DATABASE_URL")?)
        .map_err(|e| format!("GTM_DATABASE_URL: {e}"))?;
    // Claims, saves, the limiter's tokens and LISTEN share the pool.
    let pool_size = u32::try_from(concurrency + 4).unwrap_or(32);
    let store = Arc::new(
        PostgresStore::connect_with(options, pool_size)
            .await
            .map_err(|e| e.to_string())?,
    );
    store.migrate().await.map_err(|e| e.to_string())?;

    let limits = gtm_system_tests::client_limits(scale, margin);
    let key = |v: &str| var(v).map(SecretString::from);
    let limiter = |i: usize, k: SecretString| {
        let store = store.clone();
        let (vendor, l) = limits[i].clone();
        async move {
            PgRateLimiter::new(&store, vendor, &k, l)
                .await
                .map(|l| Arc::new(l) as Arc<dyn vendor_http::RateLimiter>)
                .map_err(|e| e.to_string())
        }
    };
    let timeout = Duration::from_secs(10);
    let zk = key("GTM_ZAPMAIL_KEY")?;
    let zapmail = zapmail::Client::builder()
        .api_key(zk.clone())
        .base_url(var("GTM_ZAPMAIL_URL")?)
        .retry(RetryConfig::fast())
        .timeout(timeout)
        .rate_limiter(limiter(0, zk).await?)
        .build()
        .map_err(|e| e.to_string())?;
    let pk = key("GTM_PLUSVIBE_KEY")?;
    let plusvibe = plusvibe::Client::builder()
        .api_key(pk.clone())
        .base_url(var("GTM_PLUSVIBE_URL")?)
        .retry(RetryConfig::fast())
        .timeout(timeout)
        .rate_limiter(limiter(1, pk).await?)
        .build()
        .map_err(|e| e.to_string())?;
    let hk = key("GTM_HEYREACH_KEY")?;
    let heyreach = heyreach::Client::builder()
        .api_key(hk.clone())
        .base_url(var("GTM_HEYREACH_URL")?)
        .retry(RetryConfig::fast())
        .timeout(timeout)
        .rate_limiter(limiter(2, hk).await?)
        .build()
        .map_err(|e| e.to_string())?;

    let config = EngineConfig {
        worker_id,
        concurrency,
        lease: Duration::from_millis(lease_ms),
        lost_answer_grace: (grace_ms > 0).then(|| Duration::from_millis(grace_ms)),
        zapmail_billing: Some(provisioning::sim::sample_billing()),
        partner_provider_id: Some(plusvibe::mock::TEST_PROVIDER_ID.to_string()),
        operator_email: Some("ops@agency.example".into()),
        ..EngineConfig::fast()
    };
    let engine = Engine::builder()
        .clients(zapmail, plusvibe, heyreach)
        .store(store.clone())
        .secret_key(secret)
        .config(config)
        .build()
        .await
        .map_err(|e| e.to_string())?;
    let stop = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    engine.run_worker(stop).await.map_err(|e| e.to_string())?;
    store.close().await;
    Ok(())
}
