//! The harness of the cross-crate system tests: a fresh PostgreSQL database per test, the
//! three vendor simulators with their limits enforced (scaled by one factor shared with the
//! workers' clients), worker *processes* ([`WorkerProcess`], the `gtm-test-worker` binary)
//! that can be killed with SIGKILL, and checks of the simulators' journals for duplicate
//! vendor objects ([`Duplicates`]).
//!
//! A test builds a [`Fleet`] (database + simulators + worker settings), enqueues customers
//! with [`Fleet::enqueue`], spawns workers with [`Fleet::spawn`], and waits for real
//! conditions with [`wait_until`] (a database count, a journal count), never a fixed sleep.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use provisioning::sim::{Simulators, SimulatorsConfig};
use provisioning::store::{PostgresStore, Store};
use provisioning::{Engine, NewProvision, Payment, ProvisionId, SecretKey};
use secrecy::SecretString;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use vendor_http::RateLimits;

/// The variable naming the test server (default [`DEFAULT_POSTGRES_URL`]).
pub const POSTGRES_URL_VAR: &str = "GTM_TEST_POSTGRES_URL";
/// The local server `.ci/run` starts.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The test server's URL.
pub fn server_url() -> String {
    std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string())
}

/// A fresh database on the test server (`gtm_sys_<random>`), dropped by [`TestDb::drop_db`].
/// Tests fail, naming [`POSTGRES_URL_VAR`], when the server is unreachable; they never skip.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    admin: PgPool,
    options: PgConnectOptions,
}

impl TestDb {
    /// Create the database.
    ///
    /// # Panics
    /// When the server is unreachable or refuses `CREATE DATABASE`.
    pub async fn create() -> TestDb {
        let url = server_url();
        let admin_options = PgConnectOptions::from_str(&url)
            .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR} is not a PostgreSQL URL ({e})"));
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(admin_options.clone())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot reach the test PostgreSQL server ({e}): start one or set \
                     {POSTGRES_URL_VAR} (default {DEFAULT_POSTGRES_URL})"
                )
            });
        let name = format!("gtm_sys_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        let options = admin_options.database(&name);
        TestDb {
            name,
            admin,
            options,
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database's URL (the server URL with the database replaced), for worker processes.
    pub fn url(&self) -> String {
        let url = server_url();
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b.to_string(), format!("?{q}")),
            None => (url.clone(), String::new()),
        };
        let authority_end = base
            .find("://")
            .map(|i| i + 3)
            .and_then(|start| base[start..].find('/').map(|j| start + j))
            .unwrap_or(base.len());
        format!("{}/{}{query}", &base[..authority_end], self.name)
    }

    /// A plain pool on the database (for seed SQL and checks).
    pub async fn pool(&self) -> PgPool {
        PgPoolOptions::new()
            .max_connections(3)
            .connect_with(self.options.clone())
            .await
            .expect("connect to the test database")
    }

    /// A store on the database (not migrated).
    pub async fn store(&self) -> PostgresStore {
        PostgresStore::connect_with(self.options.clone(), 4)
            .await
            .expect("connect the store")
    }

    /// Drop the database (terminating any connection left).
    pub async fn drop_db(self) {
        let _ = sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&self.admin)
        .await;
        self.admin.close().await;
    }
}

/// Simulator settings for fleet tests: every vendor's documented limits enforced, scaled by
/// `rate_scale` (the workers' clients use the same factor), a wallet and mailbox slots large
/// enough for many customers.
pub fn simulators_config(rate_scale: f64) -> SimulatorsConfig {
    let mut c = SimulatorsConfig::default();
    c.zapmail.limits = Some(zapmail::default_limits().scaled(rate_scale));
    c.zapmail.wallet_balance = rust_decimal::Decimal::from(1_000_000);
    c.zapmail.mailbox_slots = 100_000;
    c.plusvibe.limits = Some(plusvibe::default_limits().scaled(rate_scale));
    c.heyreach.limits = Some(heyreach::default_limits().scaled(rate_scale));
    c
}

/// The limits the workers' clients enforce for each vendor under `rate_scale` (as the
/// simulators), with `margin`.
pub fn client_limits(rate_scale: f64, margin: f64) -> [(&'static str, RateLimits); 3] {
    [
        (
            "zapmail",
            zapmail::default_limits()
                .scaled(rate_scale)
                .with_margin(margin),
        ),
        (
            "plusvibe",
            plusvibe::default_limits()
                .scaled(rate_scale)
                .with_margin(margin),
        ),
        (
            "heyreach",
            heyreach::default_limits()
                .scaled(rate_scale)
                .with_margin(margin),
        ),
    ]
}

/// Settings of a worker process (passed as environment variables, `GTM_*`).
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// `GTM_DATABASE_URL`.
    pub database_url: String,
    /// `GTM_ZAPMAIL_URL`, `GTM_PLUSVIBE_URL`, `GTM_HEYREACH_URL`.
    pub base_urls: [String; 3],
    /// `GTM_ZAPMAIL_KEY`, `GTM_PLUSVIBE_KEY`, `GTM_HEYREACH_KEY`.
    pub keys: [String; 3],
    /// `GTM_SECRET_KEY` (64 hex characters).
    pub secret_key: String,
    /// `GTM_CONCURRENCY`.
    pub concurrency: usize,
    /// `GTM_RATE_SCALE`.
    pub rate_scale: f64,
    /// `GTM_RATE_MARGIN`.
    pub rate_margin: f64,
    /// `GTM_LEASE_MS`.
    pub lease: Duration,
    /// `GTM_LOST_ANSWER_GRACE_MS`.
    pub lost_answer_grace: Duration,
}

impl WorkerSettings {
    /// The environment of a worker named `worker_id`.
    pub fn env(&self, worker_id: &str) -> Vec<(String, String)> {
        let kv = |k: &str, v: String| (k.to_string(), v);
        vec![
            kv("GTM_DATABASE_URL", self.database_url.clone()),
            kv("GTM_ZAPMAIL_URL", self.base_urls[0].clone()),
            kv("GTM_PLUSVIBE_URL", self.base_urls[1].clone()),
            kv("GTM_HEYREACH_URL", self.base_urls[2].clone()),
            kv("GTM_ZAPMAIL_KEY", self.keys[0].clone()),
            kv("GTM_PLUSVIBE_KEY", self.keys[1].clone()),
            kv("GTM_HEYREACH_KEY", self.keys[2].clone()),
            kv("GTM_SECRET_KEY", self.secret_key.clone()),
            kv("GTM_WORKER_ID", worker_id.to_string()),
            kv("GTM_CONCURRENCY", self.concurrency.to_string()),
            kv("GTM_RATE_SCALE", self.rate_scale.to_string()),
            kv("GTM_RATE_MARGIN", self.rate_margin.to_string()),
            kv("GTM_LEASE_MS", self.lease.as_millis().to_string()),
            kv(
                "GTM_LOST_ANSWER_GRACE_MS",
                self.lost_answer_grace.as_millis().to_string(),
            ),
        ]
    }
}

/// A running worker process; killed (SIGKILL) when dropped.
#[derive(Debug)]
pub struct WorkerProcess {
    /// Its worker id (the `lease_owner` of its claims).
    pub id: String,
    child: Child,
}

impl WorkerProcess {
    /// Start `binary` (e.g. `env!("CARGO_BIN_EXE_gtm-test-worker")`) with `settings`.
    ///
    /// # Panics
    /// When the binary cannot be started.
    pub fn spawn(binary: &str, settings: &WorkerSettings, id: &str) -> WorkerProcess {
        let child = Command::new(binary)
            .envs(settings.env(id))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start worker {binary}: {e}"));
        WorkerProcess {
            id: id.to_string(),
            child,
        }
    }

    /// SIGKILL: the process dies at once, mid-step, without releasing anything.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether the process exited (its status, if so).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Wait until `check` holds, checking every 20 ms, for at most `limit` (then panic with
/// `what`). This waits for a condition; the limit only turns a hang into a clear failure.
///
/// # Panics
/// When `limit` passes first.
pub async fn wait_until<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up after {limit:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A database, the simulators and the settings of the workers that share them.
#[derive(Debug)]
pub struct Fleet {
    /// The database.
    pub db: TestDb,
    /// The simulators (in this process: their journals are the ground truth).
    pub sims: Arc<Simulators>,
    /// A store on the database (migrated, tiers seeded).
    pub store: Arc<PostgresStore>,
    /// An engine in this process for enqueuing and reading (it drives nothing).
    pub engine: Engine,
    /// What every worker gets.
    pub settings: WorkerSettings,
    /// The provisions enqueued, with their domains.
    pub enqueued: Vec<(ProvisionId, Vec<String>)>,
    /// The worker binary (`env!("CARGO_BIN_EXE_gtm-test-worker")` in an integration test).
    pub worker_binary: String,
}

impl Fleet {
    /// A fresh database and simulators under `rate_scale`; workers run `worker_binary`
    /// (`env!("CARGO_BIN_EXE_gtm-test-worker")` from an integration test of this crate).
    pub async fn start(rate_scale: f64, worker_binary: &str) -> Fleet {
        let db = TestDb::create().await;
        let sims = Arc::new(Simulators::start_with(simulators_config(rate_scale)).await);
        let store = Arc::new(db.store().await);
        store.migrate().await.expect("migrate");
        let secret_hex: String = (0..32).map(|_| format!("{:02x}", fastrand_u8())).collect();
        let secret = SecretKey::parse(&SecretString::from(secret_hex.clone())).expect("key");
        let engine = sims
            .engine_builder()
            .store(store.clone())
            .secret_key(secret)
            .build()
            .await
            .expect("engine");
        let settings = WorkerSettings {
            database_url: db.url(),
            base_urls: [
                sims.zapmail.base_url(),
                sims.plusvibe.base_url(),
                sims.heyreach.base_url(),
            ],
            keys: [
                sims.zapmail.api_key(),
                sims.plusvibe.api_key().to_string(),
                sims.heyreach.api_key().to_string(),
            ],
            secret_key: secret_hex,
            concurrency: 8,
            rate_scale,
            rate_margin: 0.1,
            lease: Duration::from_secs(3),
            lost_answer_grace: Duration::from_secs(2),
        };
        Fleet {
            db,
            sims,
            store,
            engine,
            settings,
            enqueued: Vec::new(),
            worker_binary: worker_binary.to_string(),
        }
    }

    /// Create and pay for `n` Starter customers (3 domains each), numbered from the ones
    /// already enqueued.
    pub async fn enqueue(&mut self, n: usize) {
        let tag: String = uuid::Uuid::new_v4().simple().to_string()[..6].to_string();
        for _ in 0..n {
            let i = self.enqueued.len();
            let domains: Vec<String> = ["com", "net", "org"]
                .iter()
                .map(|tld| format!("c{i}x{tag}.{tld}"))
                .collect();
            let id = self
                .engine
                .create_provision(
                    NewProvision::new(
                        format!("Customer {i}"),
                        format!("c{i}@example.com"),
                        "starter",
                    )
                    .domains(domains.clone())
                    .patterns("ada", "ada.love"),
                )
                .await
                .expect("create provision");
            self.engine
                .mark_paid(id, Payment::default())
                .await
                .expect("mark paid");
            self.enqueued.push((id, domains));
        }
    }

    /// Start a worker process named `id`.
    pub fn spawn(&self, id: &str) -> WorkerProcess {
        WorkerProcess::spawn(&self.worker_binary, &self.settings, id)
    }

    /// Provisions per status (`infra_provisions.status`, the seed's column).
    pub async fn statuses(&self) -> BTreeMap<String, i64> {
        sqlx::query_as::<_, (String, i64)>(
            "SELECT status, COUNT(*) FROM infra_provisions GROUP BY status",
        )
        .fetch_all(self.store.pool())
        .await
        .expect("read statuses")
        .into_iter()
        .collect()
    }

    /// How many enqueued provisions are `active`.
    pub async fn active(&self) -> i64 {
        self.statuses().await.get("active").copied().unwrap_or(0)
    }

    /// Runs currently claimed by `worker` (live leases).
    pub async fn claimed_by(&self, worker: &str) -> i64 {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM infra_provisions WHERE lease_owner = $1 AND lease_until > now()",
        )
        .bind(worker)
        .fetch_one(self.store.pool())
        .await
        .expect("read leases")
    }

    /// Duplicates in the simulators' journals and state.
    pub fn duplicates(&self) -> Duplicates {
        Duplicates::count(&self.sims, &self.enqueued)
    }

    /// 429s the simulators answered (their rate-limit enforcement).
    pub fn rate_limited(&self) -> usize {
        self.sims.zapmail.journal().rate_limited()
            + self.sims.plusvibe.journal().rate_limited()
            + self.sims.heyreach.journal().rate_limited()
    }

    /// Requests the three simulators received so far, whatever their outcome (the sum of
    /// their journals' lengths). With one provision in flight at a time, the growth of this
    /// count is that provision's vendor calls: the reliability suite kills a worker when it
    /// reaches a seeded value.
    pub fn requests(&self) -> usize {
        self.sims.zapmail.journal().len()
            + self.sims.plusvibe.journal().len()
            + self.sims.heyreach.journal().len()
    }

    /// Where provision `id` stands in the store: the number (1 to 10) of its first step not
    /// `completed` in the seed's `provisioning_log`, or `None` once every step is completed.
    /// Read after a kill, it is the step the kill landed in.
    pub async fn current_step(&self, id: ProvisionId) -> Option<u32> {
        let log: serde_json::Value =
            sqlx::query_scalar("SELECT provisioning_log FROM infra_provisions WHERE id = $1")
                .bind(id.0)
                .fetch_one(self.store.pool())
                .await
                .expect("read provisioning_log");
        log.as_array()
            .expect("provisioning_log is an array")
            .iter()
            .find(|s| s["status"] != "completed")
            .map(|s| {
                u32::try_from(s["step"].as_u64().expect("step number")).expect("step fits u32")
            })
    }

    /// The status (`infra_provisions.status`) of provision `id`.
    pub async fn status(&self, id: ProvisionId) -> String {
        sqlx::query_scalar("SELECT status FROM infra_provisions WHERE id = $1")
            .bind(id.0)
            .fetch_one(self.store.pool())
            .await
            .expect("read status")
    }

    /// Close the connections and drop the database.
    pub async fn finish(self) {
        self.store.close().await;
        self.db.drop_db().await;
    }
}

fn fastrand_u8() -> u8 {
    // Good enough for a throwaway test key.
    (uuid::Uuid::new_v4().as_u128() & 0xff) as u8
}

/// Vendor objects created more than once, for a set of provisions (each with its domains).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Duplicates {
    /// Domains bought more than once (name, times).
    pub purchases: Vec<(String, usize)>,
    /// Mailbox addresses created more than once, and domains with more mailbox creations
    /// than mailboxes (name, times).
    pub mailboxes: Vec<(String, usize)>,
    /// Zapmail workspaces created beyond one per provision.
    pub zapmail_workspaces: usize,
    /// PlusVibe workspaces created beyond one per provision.
    pub plusvibe_workspaces: usize,
    /// PlusVibe client logins beyond one per provision: creations not matched by a deletion.
    /// A login whose creation answer was lost (a crash between PlusVibe's answer and the
    /// save) is replaced, delete then create, because PlusVibe shows its generated password
    /// only once; that replacement leaves one login and costs nothing, so it is not counted
    /// here (see [`Duplicates::client_replacements`]).
    pub plusvibe_clients: usize,
    /// HeyReach lists created beyond one per provision.
    pub heyreach_lists: usize,
}

impl Duplicates {
    /// Count them in `sims` for `provisions` (two mailboxes per domain expected).
    pub fn count(sims: &Simulators, provisions: &[(ProvisionId, Vec<String>)]) -> Duplicates {
        let z = &sims.zapmail;
        let n = provisions.len();
        let mut d = Duplicates::default();
        for name in provisions.iter().flat_map(|(_, ds)| ds) {
            let bought = z.domains_bought(name);
            if bought > 1 {
                d.purchases.push((name.clone(), bought));
            }
            let created = z.mailboxes_created_for(name);
            if created > 2 {
                d.mailboxes.push((name.clone(), created));
            }
        }
        let mut emails: BTreeMap<String, usize> = BTreeMap::new();
        for m in z.mailboxes() {
            *emails.entry(m.email).or_default() += 1;
        }
        d.mailboxes
            .extend(emails.into_iter().filter(|(_, c)| *c > 1));
        let over = |created: usize| created.saturating_sub(n);
        d.zapmail_workspaces = over(z.workspaces_created());
        d.plusvibe_workspaces = over(
            sims.plusvibe
                .journal()
                .applied(plusvibe::mock::routes::CREATE_WORKSPACE),
        );
        let pv = sims.plusvibe.journal();
        d.plusvibe_clients = over(
            pv.applied(plusvibe::mock::routes::CREATE_CLIENT)
                .saturating_sub(pv.applied(plusvibe::mock::routes::DELETE_CLIENT)),
        );
        d.heyreach_lists = over(
            sims.heyreach
                .journal()
                .applied(heyreach::mock::routes::CREATE_LIST),
        );
        d
    }

    /// PlusVibe client logins replaced (deleted by the engine to create a new one), in `sims`.
    pub fn client_replacements(sims: &Simulators) -> usize {
        sims.plusvibe
            .journal()
            .applied(plusvibe::mock::routes::DELETE_CLIENT)
    }

    /// Whether nothing was created twice.
    pub fn is_empty(&self) -> bool {
        *self == Duplicates::default()
    }
}
