//! Seed compatibility end to end: the seed's own migration (with a minimal
//! `bootcamp_students`) on a fresh database, the SDK's migrations on top, a student
//! provisioned against the simulators, and what the seed's frontend reads checked with plain
//! SQL along the way: `infra_provisions.status` transitions, `provisioning_log` entries in the
//! seed's `ProvisioningStep` shape (step, name, status, startedAt, completedAt, error), the
//! `infra_domains` rows and their `mailboxes` JSON, and the vendor id columns. And on
//! Supabase (its `auth` helpers), a student's role under the seed's policies sees only their
//! own provision.

use std::sync::Arc;

use gtm_system_tests::TestDb;
use provisioning::sim::Simulators;
use provisioning::store::Store;
use provisioning::{CustomerId, NewProvision, Payment, SecretKey};
use serde_json::Value;
use sqlx::PgPool;

const SEED_SQL: &str = include_str!("../../provisioning/tests/fixtures/seed_migration.sql");

/// The vendor id columns: Zapmail workspace, PlusVibe workspace, client and login, HeyReach
/// list.
type VendorIds = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

/// What the seed's frontend reads of a provision.
#[derive(Debug, Clone)]
struct Seen {
    status: String,
    log: Vec<Value>,
}

async fn seen(pool: &PgPool, id: uuid::Uuid) -> Seen {
    let (status, log): (String, Value) =
        sqlx::query_as("SELECT status, provisioning_log FROM infra_provisions WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap();
    Seen {
        status,
        log: log.as_array().cloned().unwrap_or_default(),
    }
}

fn entry(log: &[Value], step: u64) -> &Value {
    log.iter()
        .find(|e| e["step"].as_u64() == Some(step))
        .unwrap_or_else(|| panic!("no log entry for step {step}: {log:?}"))
}

#[tokio::test]
async fn the_seed_frontend_reads_a_provision_as_it_progresses() {
    let db = TestDb::create().await;
    let raw = db.pool().await;
    sqlx::raw_sql(SEED_SQL).execute(&raw).await.unwrap();
    let student = uuid::Uuid::new_v4();
    sqlx::query("INSERT INTO bootcamp_students (id, email) VALUES ($1, 'ada@example.com')")
        .bind(student)
        .execute(&raw)
        .await
        .unwrap();

    let sims = Simulators::start().await;
    let store = Arc::new(db.store().await);
    let engine = sims
        .engine_builder()
        .store(store.clone())
        .secret_key(SecretKey::generate())
        .build()
        .await
        .unwrap();
    store.migrate().await.unwrap();

    let domains = ["adaseed.com", "adaseed.net", "adaseed.org"];
    let id = engine
        .create_provision(
            NewProvision::new("Ada Lovelace", "ada@example.com", "starter")
                .customer_id(CustomerId(student))
                .domains(domains)
                .patterns("ada", "ada.lovelace"),
        )
        .await
        .unwrap();
    let pid = id.0;
    // The student's row, in the seed's columns.
    let (sid, p1, p2): (uuid::Uuid, String, String) = sqlx::query_as(
        "SELECT student_id, mailbox_pattern_1, mailbox_pattern_2 FROM infra_provisions WHERE id = $1",
    )
    .bind(pid)
    .fetch_one(&raw)
    .await
    .unwrap();
    assert_eq!(
        (sid, p1.as_str(), p2.as_str()),
        (student, "ada", "ada.lovelace")
    );
    assert_eq!(seen(&raw, pid).await.status, "pending_payment");

    engine
        .mark_paid(
            id,
            Payment {
                checkout_session_id: Some("cs_test_ada".into()),
                subscription_id: Some("sub_ada".into()),
                customer_id: Some("cus_ada".into()),
            },
        )
        .await
        .unwrap();
    let paid = seen(&raw, pid).await;
    assert_eq!(paid.status, "provisioning");
    assert_eq!(paid.log.len(), 10, "the seed's ten steps, pending");
    for (i, e) in paid.log.iter().enumerate() {
        assert_eq!(e["step"].as_u64(), Some(i as u64 + 1));
        assert!(e["name"].as_str().is_some_and(|n| !n.is_empty()), "{e}");
        assert_eq!(e["status"], "pending");
    }
    let stripe: (Option<String>, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT stripe_checkout_session_id, stripe_subscription_id, stripe_customer_id \
         FROM infra_provisions WHERE id = $1",
    )
    .bind(pid)
    .fetch_one(&raw)
    .await
    .unwrap();
    assert_eq!(
        stripe,
        (
            Some("cs_test_ada".into()),
            Some("sub_ada".into()),
            Some("cus_ada".into())
        )
    );

    // HeyReach refuses the key once: step 9 fails for the operator, the frontend sees why.
    sims.heyreach.faults().inject(
        heyreach::mock::routes::CREATE_LIST,
        vendor_http::sim::Fault::Status(401),
        1,
    );
    let mut snapshots = vec![paid];
    while engine.step(id).await.unwrap().is_some() {
        snapshots.push(seen(&raw, pid).await);
    }
    let failed = seen(&raw, pid).await;
    assert_eq!(failed.status, "failed");
    let nine = entry(&failed.log, 9);
    assert_eq!(nine["status"], "failed");
    assert!(
        nine["error"].as_str().is_some_and(|e| e.contains("401")),
        "{nine}"
    );
    assert!(
        nine["startedAt"].is_string() && nine["completedAt"].is_string(),
        "{nine}"
    );
    for step in 1..=8 {
        assert_eq!(
            entry(&failed.log, step)["status"],
            "completed",
            "{:?}",
            failed.log
        );
    }
    assert_eq!(entry(&failed.log, 10)["status"], "pending");
    // Mid-run, a step was in progress while later ones were pending.
    assert!(
        snapshots.iter().any(|s| s.status == "provisioning"
            && s.log.iter().any(|e| e["status"] == "in_progress")
            && s.log.iter().any(|e| e["status"] == "completed")
            && s.log.iter().any(|e| e["status"] == "pending")),
        "no mid-run snapshot: {snapshots:?}"
    );

    // The operator retries: the run resumes at step 9 and the provision becomes active.
    engine.retry(id).await.unwrap();
    let retried = seen(&raw, pid).await;
    assert_eq!(retried.status, "provisioning");
    assert_eq!(entry(&retried.log, 9)["status"], "pending");
    assert!(entry(&retried.log, 9)["error"].is_null());
    let snap = engine.run(id).await.unwrap();
    let done = seen(&raw, pid).await;
    assert_eq!(done.status, "active", "{:?}", snap.error);
    for e in &done.log {
        assert_eq!(e["status"], "completed", "{e}");
        assert!(e["error"].is_null(), "{e}");
        let (s, c) = (
            e["startedAt"].as_str().unwrap(),
            e["completedAt"].as_str().unwrap(),
        );
        let s = chrono::DateTime::parse_from_rfc3339(s).unwrap();
        let c = chrono::DateTime::parse_from_rfc3339(c).unwrap();
        assert!(s <= c, "{e}");
    }

    // Vendor ids in the seed's columns.
    let ids: VendorIds = sqlx::query_as(
        "SELECT zapmail_workspace_id, plusvibe_workspace_id, plusvibe_client_id, \
                    plusvibe_client_email, heyreach_list_id FROM infra_provisions WHERE id = $1",
    )
    .bind(pid)
    .fetch_one(&raw)
    .await
    .unwrap();
    assert!(
        ids.0.is_some() && ids.1.is_some() && ids.2.is_some() && ids.4.is_some(),
        "{ids:?}"
    );
    assert_eq!(ids.3.as_deref(), Some("ada@example.com"));

    // Domain rows and their mailbox JSON, as the seed's dashboard reads them.
    let rows: Vec<(String, String, Option<String>, Value)> = sqlx::query_as(
        "SELECT domain_name, status, zapmail_domain_id, mailboxes FROM infra_domains \
         WHERE provision_id = $1 ORDER BY domain_name",
    )
    .bind(pid)
    .fetch_all(&raw)
    .await
    .unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, ["adaseed.com", "adaseed.net", "adaseed.org"]);
    for (name, status, zid, mailboxes) in &rows {
        assert_eq!(status, "active", "{name}");
        assert!(zid.is_some(), "{name}");
        let list = mailboxes.as_array().expect("mailboxes is a JSON array");
        let emails: Vec<&str> = list.iter().map(|m| m["email"].as_str().unwrap()).collect();
        assert_eq!(
            emails,
            [format!("ada@{name}"), format!("ada.lovelace@{name}")],
            "{mailboxes}"
        );
        for m in list {
            assert!(m["username"].is_string(), "{m}");
            assert!(m["zapmail_mailbox_id"].is_string(), "{m}");
            assert!(m["plusvibe_account_id"].is_string(), "{m}");
            assert!(!m.to_string().to_lowercase().contains("password"), "{m}");
        }
    }

    raw.close().await;
    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn a_student_under_the_seed_policies_sees_only_their_own_provision() {
    let db = TestDb::create().await;
    let raw = db.pool().await;
    // Supabase's `auth` helpers, reading the request's JWT claims as PostgREST sets them.
    sqlx::raw_sql(
        "CREATE SCHEMA auth; \
         CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS \
           $$ SELECT coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb $$; \
         CREATE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS \
           $$ SELECT auth.jwt() ->> 'role' $$;",
    )
    .execute(&raw)
    .await
    .unwrap();
    sqlx::raw_sql(SEED_SQL).execute(&raw).await.unwrap();
    let store = db.store().await;
    store.migrate().await.unwrap();
    let tier = store.tier_by_slug("starter").await.unwrap();
    let mut ids = Vec::new();
    for name in ["Ada Lovelace", "Bob Babbage"] {
        let p = provisioning::store::contract::sample_provision(&tier, name);
        sqlx::query("INSERT INTO bootcamp_students (id, email) VALUES ($1, $2)")
            .bind(p.customer.id.0)
            .bind(&p.customer.email)
            .execute(&raw)
            .await
            .unwrap();
        store.insert_provision(&p).await.unwrap();
        ids.push((p.id.0, p.customer.email.clone()));
    }

    // A student's role (as Supabase's `authenticated`), with read grants only.
    let role = format!("student_{}", &db.name()[8..20]);
    sqlx::raw_sql(&format!(
        "CREATE ROLE {role} NOLOGIN; \
         GRANT USAGE ON SCHEMA public, auth TO {role}; \
         GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA auth TO {role}; \
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};"
    ))
    .execute(&raw)
    .await
    .unwrap();
    for (mine, email) in &ids {
        let mut tx = raw.begin().await.unwrap();
        sqlx::query(&format!("SET LOCAL ROLE {role}"))
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("SELECT set_config('request.jwt.claims', $1, true)")
            .bind(serde_json::json!({ "email": email, "role": "authenticated" }).to_string())
            .execute(&mut *tx)
            .await
            .unwrap();
        let seen: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM infra_provisions")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
        assert_eq!(seen, vec![*mine], "{email} sees only their own provision");
        let domains: Vec<uuid::Uuid> =
            sqlx::query_scalar("SELECT DISTINCT provision_id FROM infra_domains")
                .fetch_all(&mut *tx)
                .await
                .unwrap();
        assert_eq!(domains, vec![*mine], "{email} sees only their own domains");
        let tiers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM infra_tiers")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(tiers, 3, "active tiers are public");
        for internal in ["gtm_events", "gtm_rate_limits"] {
            let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {internal}"))
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            assert_eq!(n, 0, "{internal} is for the service role only");
        }
        tx.rollback().await.unwrap();
    }
    // The service role sees both.
    let mut tx = raw.begin().await.unwrap();
    sqlx::query(&format!("SET LOCAL ROLE {role}"))
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("SELECT set_config('request.jwt.claims', '{\"role\":\"service_role\"}', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let all: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM infra_provisions")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(all, 2);
    tx.rollback().await.unwrap();

    raw.close().await;
    store.close().await;
    db.drop_db().await;
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&gtm_system_tests::server_url())
        .await
        .unwrap();
    sqlx::query(&format!("DROP ROLE IF EXISTS {role}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
}
