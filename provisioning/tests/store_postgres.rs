//! The PostgreSQL store against a real server: the contract, the seed's own schema (the
//! store migrates on top of it and the seed's columns read right with plain SQL), Supabase's
//! row-level security when `auth.*` exists, concurrent workers claiming runs, concurrent
//! migrations, and the password at rest.
//!
//! The server comes from `GTM_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); the role must be allowed to create
//! databases. Every test creates its own `gtm_test_<random>` database and drops it at the
//! end, so the tests run in parallel. When the server is unreachable the tests fail, naming
//! the variable; they never skip.

use std::collections::HashSet;
use std::str::FromStr;

use chrono::{Duration as ChronoDuration, Utc};
use provisioning::store::contract::{run_all, sample_provision};
use provisioning::store::{PostgresStore, Store, StoreError};
use provisioning::*;
use secrecy::{ExposeSecret, SecretString};
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

const URL_VAR: &str = "GTM_TEST_POSTGRES_URL";
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const PLAINTEXT: &str = "Plaintext-Client-Pw-51d0e8aa";

fn server_url() -> String {
    std::env::var(URL_VAR).unwrap_or_else(|_| DEFAULT_URL.to_string())
}

/// A fresh database on the test server, dropped by [`TestDb::drop_db`].
struct TestDb {
    name: String,
    admin: PgPool,
    options: PgConnectOptions,
}

impl TestDb {
    async fn new() -> TestDb {
        let url = server_url();
        let admin_options = PgConnectOptions::from_str(&url)
            .unwrap_or_else(|e| panic!("{URL_VAR} is not a PostgreSQL URL ({e})"));
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect_with(admin_options.clone())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot reach the test PostgreSQL server ({e}). Start one or point \
                     {URL_VAR} at a server whose role may CREATE DATABASE \
                     (default {DEFAULT_URL})"
                )
            });
        let name = format!("gtm_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name} via {URL_VAR}: {e}"));
        let options = admin_options.database(&name);
        TestDb {
            name,
            admin,
            options,
        }
    }

    /// A plain pool on the test database (for seed SQL and checks).
    async fn pool(&self) -> PgPool {
        PgPoolOptions::new()
            .max_connections(2)
            .connect_with(self.options.clone())
            .await
            .unwrap()
    }

    async fn store(&self) -> PostgresStore {
        PostgresStore::connect_with(self.options.clone(), 4)
            .await
            .unwrap()
    }

    /// The test database's URL (the server URL with the database replaced).
    fn url(&self) -> String {
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

    async fn drop_db(self) {
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&self.admin)
        .await
        .unwrap();
        self.admin.close().await;
    }
}

async fn ready_store(db: &TestDb) -> PostgresStore {
    let s = db.store().await;
    s.migrate().await.unwrap();
    s.seed_default_tiers().await.unwrap();
    s
}

fn live_run(due_in_secs: i64) -> Run {
    let now = Utc::now();
    Run {
        id: RunId::new(),
        kind: RunKind::Provision,
        status: RunStatus::Waiting,
        step: 2,
        steps: vec![StepRun::default(); 10],
        next_wake_at: now + ChronoDuration::seconds(due_in_secs),
        created_at: now,
        finished_at: None,
    }
}

fn step_event(p: &ProvisionState, step: u32) -> ProgressEvent {
    ProgressEvent {
        provision_id: p.id,
        run_id: p.run.as_ref().map(|r| r.id),
        at: Utc::now(),
        step,
        name: format!("step {step}"),
        status: StepStatus::Completed,
        provision_status: p.status,
        message: Some("done".into()),
        error: None,
        details: Some(serde_json::json!({ "step": step })),
    }
}

/// A provision half-way through: workspace, a domain with mailboxes, a sealed password, a log.
fn busy_provision(tier: &Tier, key: &SecretKey) -> ProvisionState {
    let mut p = sample_provision(tier, "Ada Lovelace");
    p.status = ProvisionStatus::Provisioning;
    p.payment.checkout_session_id = Some("cs_test_1".into());
    p.payment.subscription_id = Some("sub_1".into());
    p.payment.customer_id = Some("cus_1".into());
    p.ledger.zapmail_workspace_id = Some("ws-123".into());
    p.ledger.plusvibe_workspace_id = Some("pv-ws-9".into());
    p.ledger.plusvibe_client_id = Some("pv-client-4".into());
    p.ledger.plusvibe_client_email = Some("ada@example.com".into());
    p.ledger.plusvibe_client_password =
        Some(key.seal(&SecretString::from(PLAINTEXT), &p.id.to_string()));
    p.ledger.heyreach_list_id = Some(9_000_000_000);
    p.domains[0].status = DomainStatus::Connected;
    p.domains[0].zapmail_domain_id = Some("dom-1".into());
    let name = p.domains[0].name.clone();
    p.domains[0].mailboxes = vec![MailboxRecord {
        username: "tim".into(),
        email: format!("tim@{name}"),
        zapmail_mailbox_id: Some("mb-1".into()),
        plusvibe_account_id: Some("acc-1".into()),
    }];
    p.provisioning_log = vec![ProvisioningStep {
        step: 1,
        name: "Creating Zapmail workspace".into(),
        status: StepStatus::Completed,
        started_at: Some(Utc::now()),
        completed_at: Some(Utc::now()),
        error: None,
        details: Some(serde_json::json!({ "workspace": "ws-123" })),
    }];
    p.run = Some(live_run(60));
    p
}

#[tokio::test]
async fn passes_the_contract() {
    let db = TestDb::new().await;
    // Through `connect(url)` for once.
    let store = PostgresStore::connect(&db.url()).await.unwrap();
    run_all(&store).await;
    let dbg = format!("{store:?}");
    assert!(
        dbg.contains("PostgresStore") && dbg.contains(&db.name),
        "{dbg}"
    );
    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn fresh_database_has_no_foreign_key_to_customers_and_no_rls() {
    let db = TestDb::new().await;
    let store = ready_store(&db).await;
    let fks: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_constraint WHERE conrelid = 'infra_provisions'::regclass \
         AND contype = 'f' AND pg_get_constraintdef(oid) LIKE '%student_id%'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(fks, 0, "no bootcamp_students table, no foreign key");
    let rls: Vec<bool> = sqlx::query_scalar(
        "SELECT relrowsecurity FROM pg_class WHERE relname IN \
         ('infra_tiers', 'infra_provisions', 'infra_domains', 'gtm_events', 'gtm_rate_limits')",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(rls, vec![false; 5], "no auth schema, no RLS");

    // Events are append-only.
    let tier = store.tier_by_slug("starter").await.unwrap();
    let p = sample_provision(&tier, "Append Only");
    store.insert_provision(&p).await.unwrap();
    store.save(&p, 1, &[step_event(&p, 1)], None).await.unwrap();
    let err = sqlx::query("UPDATE gtm_events SET name = 'x'")
        .execute(store.pool())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");

    // A bad URL and an unreachable server are clear errors without the password.
    let e = PostgresStore::connect("mysql://nope").await.unwrap_err();
    assert!(matches!(e, StoreError::Backend(_)), "{e}");
    let e = PostgresStore::connect("postgres://u:pw-SECRET-1@127.0.0.1:1/db")
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("127.0.0.1:1/db") && !msg.contains("pw-SECRET-1"),
        "{msg}"
    );

    store.close().await;
    db.drop_db().await;
}

/// The seed's migration (Task 1 of the seed plan), without the Supabase-only policies, and
/// with a minimal `bootcamp_students`.
const SEED_SQL: &str = include_str!("fixtures/seed_migration.sql");

async fn column_types(pool: &PgPool, table: &str) -> Vec<(String, String)> {
    sqlx::query(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

#[tokio::test]
async fn migrates_on_top_of_the_seed_schema_and_projects_the_seed_columns() {
    let db = TestDb::new().await;
    let raw = db.pool().await;
    sqlx::raw_sql(SEED_SQL).execute(&raw).await.unwrap();
    // A row the seed's own code wrote, before the engine existed.
    let old_student = uuid::Uuid::new_v4();
    sqlx::query("INSERT INTO bootcamp_students (id, email) VALUES ($1, 'old@example.com')")
        .bind(old_student)
        .execute(&raw)
        .await
        .unwrap();
    let old_id: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO infra_provisions (student_id, tier_id, mailbox_pattern_1, mailbox_pattern_2) \
         SELECT $1, id, 'a', 'b' FROM infra_tiers WHERE slug = 'starter' RETURNING id",
    )
    .bind(old_student)
    .fetch_one(&raw)
    .await
    .unwrap();
    let seed_provision_columns = column_types(&raw, "infra_provisions").await;
    let seed_domain_columns = column_types(&raw, "infra_domains").await;
    let seed_tier_columns = column_types(&raw, "infra_tiers").await;

    let store = db.store().await;
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    store.seed_default_tiers().await.unwrap();

    // Seed columns untouched (same names, types and order); engine columns appended.
    let after = column_types(&raw, "infra_provisions").await;
    assert_eq!(
        after[..seed_provision_columns.len()],
        seed_provision_columns[..]
    );
    let added: Vec<&str> = after[seed_provision_columns.len()..]
        .iter()
        .map(|(c, _)| c.as_str())
        .collect();
    assert_eq!(
        added,
        [
            "state",
            "version",
            "lease_owner",
            "lease_until",
            "due_at",
            "customer_name",
            "tier_slug"
        ]
    );
    assert_eq!(
        column_types(&raw, "infra_domains").await,
        seed_domain_columns
    );
    assert_eq!(column_types(&raw, "infra_tiers").await, seed_tier_columns);

    // The seed's tiers are the catalog (not seeded again).
    let tiers = store.tiers().await.unwrap();
    let slugs: Vec<_> = tiers.iter().map(|t| t.slug.as_str()).collect();
    assert_eq!(slugs, ["starter", "growth", "scale"]);
    let tier = store.tier_by_slug("starter").await.unwrap();
    assert_eq!((tier.domain_count, tier.setup_fee_cents), (3, 9700));

    // The seed-era row is listed, never claimed, and reported clearly when loaded.
    let list = store.list_provisions().await.unwrap();
    let old = list
        .iter()
        .find(|s| s.id.0 == old_id)
        .expect("seed row listed");
    assert_eq!(old.tier_slug, "starter");
    assert_eq!(old.status, ProvisionStatus::PendingPayment);
    match store.load(ProvisionId(old_id)).await {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("no engine state"), "{m}"),
        other => panic!("seed row has no state: {other:?}"),
    }
    let now = Utc::now();
    assert!(
        store
            .claim_due(
                "w",
                now + ChronoDuration::days(1),
                now + ChronoDuration::days(2),
                10
            )
            .await
            .unwrap()
            .is_empty()
    );

    // The seed's foreign key to bootcamp_students stays in force.
    let key = SecretKey::generate();
    let mut p = busy_provision(&tier, &key);
    match store.insert_provision(&p).await {
        Err(StoreError::Backend(m)) => assert!(m.contains("bootcamp_students"), "{m}"),
        other => panic!("unknown customer refused by the seed's foreign key: {other:?}"),
    }
    sqlx::query("INSERT INTO bootcamp_students (id, email) VALUES ($1, 'ada@example.com')")
        .bind(p.customer.id.0)
        .execute(&raw)
        .await
        .unwrap();
    store.insert_provision(&p).await.unwrap();
    p.domains[1].status = DomainStatus::Active;
    let v = store.save(&p, 1, &[step_event(&p, 1)], None).await.unwrap();
    assert_eq!(v, 2);
    assert_eq!(store.load(p.id).await.unwrap().value, p);

    // What the seed's frontend reads, with plain SQL.
    let row = sqlx::query(
        "SELECT student_id, tier_id, status, stripe_checkout_session_id, stripe_subscription_id, \
                stripe_customer_id, mailbox_pattern_1, mailbox_pattern_2, zapmail_workspace_id, \
                zapmail_workspace_key, plusvibe_workspace_id, plusvibe_client_id, \
                plusvibe_client_email, plusvibe_client_password, heyreach_list_id, \
                provisioning_log, created_at, updated_at \
         FROM infra_provisions WHERE id = $1",
    )
    .bind(p.id.0)
    .fetch_one(&raw)
    .await
    .unwrap();
    assert_eq!(row.get::<uuid::Uuid, _>("student_id"), p.customer.id.0);
    assert_eq!(row.get::<uuid::Uuid, _>("tier_id"), tier.id.0);
    assert_eq!(row.get::<String, _>("status"), "provisioning");
    assert_eq!(
        row.get::<String, _>("stripe_checkout_session_id"),
        "cs_test_1"
    );
    assert_eq!(row.get::<String, _>("stripe_subscription_id"), "sub_1");
    assert_eq!(row.get::<String, _>("stripe_customer_id"), "cus_1");
    assert_eq!(row.get::<String, _>("mailbox_pattern_1"), "tim");
    assert_eq!(row.get::<String, _>("mailbox_pattern_2"), "tim.keen");
    assert_eq!(row.get::<String, _>("zapmail_workspace_id"), "ws-123");
    assert_eq!(row.get::<String, _>("zapmail_workspace_key"), "ws-123");
    assert_eq!(row.get::<String, _>("plusvibe_workspace_id"), "pv-ws-9");
    assert_eq!(row.get::<String, _>("plusvibe_client_id"), "pv-client-4");
    assert_eq!(
        row.get::<String, _>("plusvibe_client_email"),
        "ada@example.com"
    );
    assert_eq!(row.get::<i64, _>("heyreach_list_id"), 9_000_000_000);
    let log: serde_json::Value = row.get("provisioning_log");
    assert_eq!(log[0]["step"], 1);
    assert_eq!(log[0]["name"], "Creating Zapmail workspace");
    assert_eq!(log[0]["status"], "completed");
    assert!(log[0]["startedAt"].is_string(), "camelCase keys: {log}");
    assert_eq!(log[0]["details"]["workspace"], "ws-123");
    let created: chrono::DateTime<Utc> = row.get("created_at");
    assert!((created - p.created_at).num_milliseconds().abs() < 1);

    let domains = sqlx::query(
        "SELECT domain_name, zapmail_domain_id, status, mailboxes FROM infra_domains \
         WHERE provision_id = $1 ORDER BY domain_name",
    )
    .bind(p.id.0)
    .fetch_all(&raw)
    .await
    .unwrap();
    assert_eq!(domains.len(), 3);
    assert_eq!(
        domains[0].get::<String, _>("domain_name"),
        p.domains[0].name
    );
    assert_eq!(domains[0].get::<String, _>("status"), "connected");
    assert_eq!(
        domains[0]
            .get::<Option<String>, _>("zapmail_domain_id")
            .as_deref(),
        Some("dom-1")
    );
    let mb: serde_json::Value = domains[0].get("mailboxes");
    assert_eq!(mb[0]["username"], "tim");
    assert_eq!(mb[0]["zapmail_mailbox_id"], "mb-1");
    assert_eq!(mb[0]["plusvibe_account_id"], "acc-1");
    assert_eq!(domains[1].get::<String, _>("status"), "active");
    assert_eq!(
        domains[2].get::<serde_json::Value, _>("mailboxes"),
        serde_json::json!([])
    );

    // A domain dropped from the state loses its row.
    p.domains.pop();
    store.save(&p, 2, &[], None).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM infra_domains WHERE provision_id = $1")
        .bind(p.id.0)
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(n, 2);

    raw.close().await;
    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn supabase_gets_rls_and_the_seed_policies() {
    let db = TestDb::new().await;
    let raw = db.pool().await;
    sqlx::raw_sql(
        "CREATE SCHEMA auth; \
         CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql AS $$ SELECT '{}'::jsonb $$; \
         CREATE FUNCTION auth.role() RETURNS text LANGUAGE sql AS $$ SELECT 'anon'::text $$; \
         CREATE TABLE bootcamp_students (id UUID PRIMARY KEY, email TEXT);",
    )
    .execute(&raw)
    .await
    .unwrap();
    let store = ready_store(&db).await;
    let rls: Vec<bool> = sqlx::query_scalar(
        "SELECT relrowsecurity FROM pg_class WHERE relname IN \
         ('infra_tiers', 'infra_provisions', 'infra_domains', 'gtm_events', 'gtm_rate_limits')",
    )
    .fetch_all(&raw)
    .await
    .unwrap();
    assert_eq!(rls, vec![true; 5]);
    let mut policies: Vec<String> = sqlx::query_scalar("SELECT policyname::text FROM pg_policies")
        .fetch_all(&raw)
        .await
        .unwrap();
    policies.sort();
    assert_eq!(
        policies,
        [
            "Anyone can read active tiers",
            "Service role manages gtm_events",
            "Service role manages gtm_rate_limits",
            "Service role manages infra_domains",
            "Service role manages infra_provisions",
            "Service role manages infra_tiers",
            "Students read own domains",
            "Students read own provisions",
        ]
    );
    // The foreign key was created (bootcamp_students exists).
    let tier = store.tier_by_slug("growth").await.unwrap();
    let p = sample_provision(&tier, "No Student");
    assert!(matches!(
        store.insert_provision(&p).await,
        Err(StoreError::Backend(_))
    ));
    raw.close().await;
    store.close().await;
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workers_never_claim_the_same_run_twice() {
    let db = TestDb::new().await;
    let store = ready_store(&db).await;
    let tier = store.tier_by_slug("starter").await.unwrap();
    let mut ids = HashSet::new();
    for i in 0..40 {
        let mut p = sample_provision(&tier, &format!("Worker Test {i}"));
        p.run = Some(live_run(-(i + 1)));
        store.insert_provision(&p).await.unwrap();
        ids.insert(p.id);
    }
    let now = Utc::now();
    let lease = now + ChronoDuration::seconds(60);
    let mut tasks = Vec::new();
    for w in 0..5 {
        let s = db.store().await;
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            // A new worker name per round: a worker may re-claim its own live claims.
            for round in 0.. {
                let got = s
                    .claim_due(&format!("w{w}-{round}"), now, lease, 3)
                    .await
                    .unwrap();
                if got.is_empty() {
                    break;
                }
                mine.extend(got);
            }
            s.close().await;
            mine
        }));
    }
    let mut seen = HashSet::new();
    for t in tasks {
        for c in t.await.unwrap() {
            assert_eq!(c.version, 2, "claimed once");
            assert!(seen.insert(c.id), "{} claimed twice", c.id);
        }
    }
    assert_eq!(seen, ids, "every due run claimed exactly once");

    // Concurrent stale saves: exactly one writer of a version wins.
    let id = *ids.iter().next().unwrap();
    let loaded = store.load(id).await.unwrap();
    let mut saves = Vec::new();
    for _ in 0..6 {
        let s = db.store().await;
        let state = loaded.value.clone();
        saves.push(tokio::spawn(async move {
            let r = s.save(&state, 2, &[], Some(lease)).await;
            s.close().await;
            r
        }));
    }
    let mut won = 0;
    for t in saves {
        match t.await.unwrap() {
            Ok(v) => {
                assert_eq!(v, 3);
                won += 1;
            }
            Err(StoreError::Conflict { expected: 2, .. }) => {}
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!(won, 1);
    store.close().await;
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn processes_migrating_and_seeding_at_once_agree() {
    let db = TestDb::new().await;
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let s = db.store().await;
        tasks.push(tokio::spawn(async move {
            s.migrate().await.unwrap();
            s.seed_default_tiers().await.unwrap();
            let n = s.tiers().await.unwrap().len();
            s.close().await;
            n
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 3, "tiers seeded once");
    }
    db.drop_db().await;
}

#[tokio::test]
async fn the_password_is_stored_as_ciphertext_only() {
    let db = TestDb::new().await;
    let store = ready_store(&db).await;
    let key = SecretKey::generate();
    let tier = store.tier_by_slug("scale").await.unwrap();
    let p = busy_provision(&tier, &key);
    store.insert_provision(&p).await.unwrap();
    store.save(&p, 1, &[step_event(&p, 1)], None).await.unwrap();

    let column: String =
        sqlx::query_scalar("SELECT plusvibe_client_password FROM infra_provisions WHERE id = $1")
            .bind(p.id.0)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(column.starts_with("xc20p1:"), "{column}");
    assert!(!column.contains(PLAINTEXT));
    // Nowhere in any table.
    for table in [
        "infra_provisions",
        "infra_domains",
        "gtm_events",
        "infra_tiers",
    ] {
        let dump: Vec<String> =
            sqlx::query_scalar(&format!("SELECT row_to_json(t)::text FROM {table} t"))
                .fetch_all(store.pool())
                .await
                .unwrap();
        assert!(!dump.is_empty() || table == "infra_domains");
        for row in dump {
            assert!(!row.contains(PLAINTEXT), "{table} holds the plaintext");
        }
    }
    // The ciphertext opens to the password with the key, bound to this provision.
    let loaded = store.load(p.id).await.unwrap().value;
    let sealed = loaded.ledger.plusvibe_client_password.unwrap();
    assert_eq!(sealed.as_str(), column);
    let opened = key.open(&sealed, &p.id.to_string()).unwrap();
    assert_eq!(opened.expose_secret(), PLAINTEXT);
    assert!(key.open(&sealed, "another-provision").is_err());
    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn fencing_a_worker_whose_lease_was_stolen_cannot_write() {
    let db = TestDb::new().await;
    let store = ready_store(&db).await;
    let tier = store.tier_by_slug("starter").await.unwrap();
    let mut p = busy_provision(&tier, &SecretKey::generate());
    p.run = Some(live_run(-1));
    store.insert_provision(&p).await.unwrap();
    let now = Utc::now();
    let short = now + ChronoDuration::milliseconds(1);
    let w1 = store.claim(p.id, "w1", now, short).await.unwrap().unwrap();
    // w1's lease runs out (as if its process stalled); w2 takes the run over.
    let later = short + ChronoDuration::seconds(1);
    let w2 = store
        .claim_due("w2", later, later + ChronoDuration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(w2.len(), 1, "an expired lease is taken over");
    // w1 can neither renew nor save, with or without a lease; nothing it sends lands.
    assert!(!store.renew_lease(p.id, "w1", later).await.unwrap());
    let mut stale = p.clone();
    stale.status = ProvisionStatus::Failed;
    for lease in [Some(later), None] {
        assert!(matches!(
            store
                .save(&stale, w1.version, &[step_event(&p, 3)], lease)
                .await,
            Err(StoreError::Conflict { .. })
        ));
    }
    let raw = db.pool().await;
    let (status, owner, events): (String, Option<String>, i64) = sqlx::query_as(
        "SELECT status, lease_owner, (SELECT COUNT(*) FROM gtm_events WHERE provision_id = $1) \
         FROM infra_provisions WHERE id = $1",
    )
    .bind(p.id.0)
    .fetch_one(&raw)
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), owner.as_deref(), events),
        ("provisioning", Some("w2"), 0)
    );
    // w2, the holder, writes.
    store
        .save(&p, w2[0].version, &[step_event(&p, 3)], None)
        .await
        .unwrap();
    raw.close().await;
    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn due_runs_are_announced_with_their_id_only() {
    use futures::StreamExt;
    let db = TestDb::new().await;
    let store = ready_store(&db).await;
    let other = db.store().await; // another process's store
    let mut wakeups = other
        .subscribe()
        .await
        .unwrap()
        .expect("PostgreSQL announces runs");
    let tier = store.tier_by_slug("starter").await.unwrap();
    // Not announced: no run, a run due later, a save that keeps the lease.
    let quiet = sample_provision(&tier, "Quiet");
    store.insert_provision(&quiet).await.unwrap();
    let mut later = sample_provision(&tier, "Later");
    later.run = Some(live_run(3600));
    store.insert_provision(&later).await.unwrap();
    // Announced: a run that becomes due now when saved without a lease (paid, retried, woken).
    let mut paid = sample_provision(&tier, "Paid");
    store.insert_provision(&paid).await.unwrap();
    paid.run = Some(live_run(-1));
    store
        .save(
            &paid,
            1,
            &[],
            Some(Utc::now() + ChronoDuration::seconds(30)),
        )
        .await
        .unwrap();
    store.save(&paid, 2, &[], None).await.unwrap();
    assert_eq!(wakeups.next().await, Some(paid.id));
    // And a new provision inserted with a due run.
    let mut fresh = sample_provision(&tier, "Fresh");
    fresh.run = Some(live_run(-1));
    store.insert_provision(&fresh).await.unwrap();
    assert_eq!(wakeups.next().await, Some(fresh.id));
    drop(wakeups);
    other.close().await;
    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn processes_share_one_rate_budget_and_one_429_gate() {
    use provisioning::store::PgRateLimiter;
    use std::time::Duration;
    use vendor_http::limit::{GENERAL, Limit, LimitSet, RateLimiter, RateLimits};
    let db = TestDb::new().await;
    let store = ready_store(&db).await;
    let other = db.store().await;
    let key = SecretString::from("agency-key-7f3a9c");
    // 4 per hour, all usable at once; the availability bucket 2 per hour on top.
    let limits =
        RateLimits::new(LimitSet::new([Limit::new(4, Duration::from_secs(3600))]).with_burst(4))
            .with_bucket(
                "domain-availability",
                LimitSet::new([Limit::new(3, Duration::from_secs(3600))]).with_burst(2),
            );
    let a = PgRateLimiter::new(&store, "zapmail", &key, limits.clone())
        .await
        .unwrap();
    let b = PgRateLimiter::new(&other, "zapmail", &key, limits.clone())
        .await
        .unwrap();
    let c = PgRateLimiter::new(
        &other,
        "zapmail",
        &SecretString::from("another-key"),
        limits,
    )
    .await
    .unwrap();
    // Two "processes" on one key share 4 tokens: whoever asks, the fifth must wait ~1 h.
    assert_eq!(a.try_acquire(GENERAL).await.unwrap(), None);
    assert_eq!(b.try_acquire(GENERAL).await.unwrap(), None);
    drop(b.acquire(GENERAL).await);
    assert_eq!(a.try_acquire(GENERAL).await.unwrap(), None);
    let wait = b.try_acquire(GENERAL).await.unwrap().expect("budget spent");
    assert!(wait > Duration::from_secs(3000), "{wait:?}");
    assert!(a.try_acquire(GENERAL).await.unwrap().is_some());
    // Another key has its own budget.
    assert_eq!(c.try_acquire(GENERAL).await.unwrap(), None);
    // The bucket's own budget (2, with one kept as slack of 3) is shared too.
    assert_eq!(c.try_acquire("domain-availability").await.unwrap(), None);
    assert!(
        c.try_acquire("domain-availability")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        c.try_acquire("domain-availability")
            .await
            .unwrap()
            .is_some()
    );

    // A 429 seen by one process blocks the key for all, in every bucket for the general gate.
    assert_eq!(c.blocked_until(GENERAL).await.unwrap(), None);
    let c2 = PgRateLimiter::new(
        &store,
        "zapmail",
        &SecretString::from("another-key"),
        c.limits().clone(),
    )
    .await
    .unwrap();
    c2.penalize("domain-availability", Duration::from_secs(600))
        .await;
    assert!(
        c.blocked_until("domain-availability")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        c.blocked_until(GENERAL).await.unwrap(),
        None,
        "a bucket's 429 blocks only it"
    );
    c2.penalize(GENERAL, Duration::from_secs(60)).await;
    let until = c
        .blocked_until(GENERAL)
        .await
        .unwrap()
        .expect("blocked for all");
    assert!(until > Utc::now() + ChronoDuration::seconds(30));
    let wait = c.try_acquire(GENERAL).await.unwrap().expect("blocked");
    assert!(wait > Duration::from_secs(30), "{wait:?}");
    assert_eq!(
        a.blocked_until(GENERAL).await.unwrap(),
        None,
        "other keys are not blocked"
    );

    // The raw key is stored nowhere.
    let raw = db.pool().await;
    let dump: Vec<String> = sqlx::query_scalar("SELECT key_hash || bucket FROM gtm_rate_limits")
        .fetch_all(&raw)
        .await
        .unwrap();
    assert_eq!(dump.len(), 4);
    assert!(
        dump.iter()
            .all(|r| !r.contains("agency-key") && !r.contains("another-key"))
    );
    raw.close().await;
    other.close().await;
    store.close().await;
    db.drop_db().await;
}
