//! The SQLite store: the contract (in memory and on a file), crash-and-resume through a
//! reopened file, what the seed's frontend reads with plain SQL, secrets at rest, bad
//! locations and concurrent writers.

use std::path::Path;
use std::sync::Arc;

use chrono::{Duration as ChronoDuration, Utc};
use provisioning::store::contract::{run_all, sample_provision};
use provisioning::store::{SqliteStore, Store, StoreError};
use provisioning::*;
use secrecy::SecretString;
use sqlx::Row;

const PLAINTEXT: &str = "Plaintext-Client-Pw-7f3c9e21";

async fn file_store(dir: &Path) -> SqliteStore {
    let url = format!("sqlite://{}", dir.join("gtm.db").display());
    let s = SqliteStore::open(&url).await.expect("open file store");
    s.migrate().await.unwrap();
    s.seed_default_tiers().await.unwrap();
    s
}

async fn memory_store() -> SqliteStore {
    let s = SqliteStore::open("sqlite::memory:").await.unwrap();
    s.migrate().await.unwrap();
    s.seed_default_tiers().await.unwrap();
    s
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
    p.ledger.heyreach_list_id = Some(4242);
    p.domains[0].status = DomainStatus::Connected;
    p.domains[0].zapmail_domain_id = Some("dom-1".into());
    let name = p.domains[0].name.clone();
    p.domains[0].mailboxes = vec![
        MailboxRecord {
            username: "tim".into(),
            email: format!("tim@{name}"),
            zapmail_mailbox_id: Some("mb-1".into()),
            plusvibe_account_id: Some("acc-1".into()),
        },
        MailboxRecord {
            username: "tim.keen".into(),
            email: format!("tim.keen@{name}"),
            zapmail_mailbox_id: None,
            plusvibe_account_id: None,
        },
    ];
    p.provisioning_log = vec![
        ProvisioningStep {
            step: 1,
            name: "Creating Zapmail workspace".into(),
            status: StepStatus::Completed,
            started_at: Some(Utc::now()),
            completed_at: Some(Utc::now()),
            error: None,
            details: Some(serde_json::json!({ "workspace": "ws-123" })),
        },
        ProvisioningStep {
            step: 2,
            name: "Purchasing domains".into(),
            status: StepStatus::Failed,
            started_at: Some(Utc::now()),
            completed_at: Some(Utc::now()),
            error: Some("Zapmail: insufficient balance".into()),
            details: Some(serde_json::json!({ "active": 2, "total": 3 })),
        },
    ];
    p.run = Some(live_run(60));
    p
}

#[tokio::test]
async fn in_memory_store_passes_the_contract() {
    let store = SqliteStore::open("sqlite::memory:").await.unwrap();
    run_all(&store).await;
}

#[tokio::test]
async fn file_store_passes_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&format!("sqlite://{}", dir.path().join("c.db").display()))
        .await
        .unwrap();
    run_all(&store).await;
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(journal, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(fk, 1);
}

#[tokio::test]
async fn every_url_form_opens() {
    let dir = tempfile::tempdir().unwrap();
    let abs = dir.path().join("abs.db");
    let forms = [
        format!("sqlite://{}", abs.display()),
        format!("sqlite:{}", dir.path().join("colon.db").display()),
        dir.path().join("plain.db").display().to_string(),
        "sqlite::memory:".to_string(),
        ":memory:".to_string(),
    ];
    for url in &forms {
        let s = SqliteStore::open(url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        s.migrate().await.unwrap();
        s.seed_default_tiers().await.unwrap();
        assert_eq!(s.tiers().await.unwrap().len(), 3, "{url}");
        assert!(format!("{s:?}").contains("SqliteStore"));
        s.close().await;
    }
    for f in ["abs.db", "colon.db", "plain.db"] {
        assert!(dir.path().join(f).exists(), "{f} created");
    }

    // A relative `sqlite:` URL is relative to the working directory: use a unique name.
    let rel = format!("target-sqlite-store-test-{}.db", uuid::Uuid::new_v4());
    let s = SqliteStore::open(&format!("sqlite:{rel}")).await.unwrap();
    s.migrate().await.unwrap();
    s.close().await;
    assert!(Path::new(&rel).exists());
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{rel}{suffix}"));
    }
}

#[tokio::test]
async fn two_in_memory_stores_are_separate_and_keep_their_data() {
    let a = memory_store().await;
    let b = SqliteStore::open("sqlite::memory:").await.unwrap();
    b.migrate().await.unwrap();
    assert!(b.tiers().await.unwrap().is_empty());
    // Data survives many sequential uses of the pool (the one connection is kept).
    for _ in 0..20 {
        assert_eq!(a.tiers().await.unwrap().len(), 3);
    }
}

#[tokio::test]
async fn reopening_the_file_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let key = SecretKey::generate();
    let store = file_store(dir.path()).await;
    let tier = store.tier_by_slug("starter").await.unwrap();
    let mut p = busy_provision(&tier, &key);
    store.insert_provision(&p).await.unwrap();
    let now = Utc::now();
    let lease = now + ChronoDuration::seconds(30);
    let claim = store
        .claim(p.id, "worker-1", now, lease)
        .await
        .unwrap()
        .unwrap();
    p.flags.push("invoice failed".into());
    let v = store
        .save(
            &p,
            claim.version,
            &[step_event(&p, 1), step_event(&p, 2)],
            Some(lease),
        )
        .await
        .unwrap();
    assert_eq!(v, 3);
    let events_before = store.events(p.id, 0).await.unwrap();
    // The process "crashes": no close, a new store opens the same file.
    drop(store);

    let url = format!("sqlite://{}", dir.path().join("gtm.db").display());
    let again = SqliteStore::open(&url).await.unwrap();
    again.migrate().await.unwrap();
    let loaded = again.load(p.id).await.unwrap();
    assert_eq!(loaded.value, p);
    assert_eq!(loaded.version, 3);
    assert_eq!(again.events(p.id, 0).await.unwrap(), events_before);
    assert_eq!(again.tiers().await.unwrap().len(), 3);
    assert_eq!(
        again.find_by_customer(p.customer.id).await.unwrap(),
        Some(p.id)
    );
    // The lease survived: another worker cannot claim it until it expires.
    assert_eq!(
        again.claim(p.id, "worker-2", now, lease).await.unwrap(),
        None
    );
    let taken = again
        .claim(p.id, "worker-2", lease, lease + ChronoDuration::seconds(30))
        .await
        .unwrap()
        .expect("expired lease is taken over");
    assert_eq!(taken.version, 4);
    // The first worker's write is fenced off.
    assert!(matches!(
        again.save(&p, 3, &[], None).await,
        Err(StoreError::Conflict { expected: 3, .. })
    ));
    // New events continue the sequence.
    again
        .save(&p, taken.version, &[step_event(&p, 3)], None)
        .await
        .unwrap();
    let all = again.events(p.id, 0).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all[2].seq > all[1].seq);
}

#[tokio::test]
async fn seed_columns_are_projected_for_the_frontend() {
    let store = memory_store().await;
    let key = SecretKey::generate();
    let tier = store.tier_by_slug("starter").await.unwrap();
    let mut p = busy_provision(&tier, &key);
    store.insert_provision(&p).await.unwrap();
    let pool = store.pool();

    let row = sqlx::query("SELECT * FROM infra_provisions WHERE id = ?")
        .bind(p.id.to_string())
        .fetch_one(pool)
        .await
        .unwrap();
    let s = |c: &str| row.try_get::<Option<String>, _>(c).unwrap();
    assert_eq!(s("status").as_deref(), Some("provisioning"));
    assert_eq!(s("student_id"), Some(p.customer.id.to_string()));
    assert_eq!(s("tier_id"), Some(tier.id.to_string()));
    assert_eq!(
        s("stripe_checkout_session_id").as_deref(),
        Some("cs_test_1")
    );
    assert_eq!(s("stripe_subscription_id").as_deref(), Some("sub_1"));
    assert_eq!(s("stripe_customer_id").as_deref(), Some("cus_1"));
    assert_eq!(s("mailbox_pattern_1").as_deref(), Some("tim"));
    assert_eq!(s("mailbox_pattern_2").as_deref(), Some("tim.keen"));
    assert_eq!(s("zapmail_workspace_id").as_deref(), Some("ws-123"));
    assert_eq!(s("zapmail_workspace_key").as_deref(), Some("ws-123"));
    assert_eq!(s("plusvibe_workspace_id").as_deref(), Some("pv-ws-9"));
    assert_eq!(s("plusvibe_client_id").as_deref(), Some("pv-client-4"));
    assert_eq!(
        s("plusvibe_client_email").as_deref(),
        Some("ada@example.com")
    );
    assert_eq!(s("customer_name").as_deref(), Some("Ada Lovelace"));
    assert_eq!(s("tier_slug").as_deref(), Some("starter"));
    assert_eq!(row.try_get::<i64, _>("heyreach_list_id").unwrap(), 4242);
    assert_eq!(row.try_get::<i64, _>("version").unwrap(), 1);
    assert_eq!(s("lease_owner"), None);
    // due_at is set from the live run, and sorts as text.
    let due = s("due_at").expect("live run is due");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(&due).unwrap(),
        p.due_at().unwrap()
    );

    let log: serde_json::Value = serde_json::from_str(&s("provisioning_log").unwrap()).unwrap();
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 2);
    for k in [
        "step",
        "name",
        "status",
        "startedAt",
        "completedAt",
        "details",
    ] {
        assert!(log[0].get(k).is_some(), "provisioning_log entries have {k}");
    }
    assert_eq!(log[0]["step"], 1);
    assert_eq!(log[0]["status"], "completed");
    assert_eq!(log[1]["status"], "failed");
    assert_eq!(log[1]["error"], "Zapmail: insufficient balance");
    assert_eq!(log[1]["details"]["total"], 3);
    assert!(log[0]["startedAt"].as_str().unwrap().contains('T'));

    let domains = |pool: sqlx::SqlitePool, id: ProvisionId| async move {
        sqlx::query(
            "SELECT id, domain_name, zapmail_domain_id, status, mailboxes \
             FROM infra_domains WHERE provision_id = ? ORDER BY domain_name",
        )
        .bind(id.to_string())
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    let rows = domains(pool.clone(), p.id).await;
    assert_eq!(rows.len(), 3, "one row per domain");
    let first = rows
        .iter()
        .find(|r| r.get::<String, _>("domain_name") == p.domains[0].name)
        .unwrap();
    assert_eq!(first.get::<String, _>("id"), p.domains[0].id.to_string());
    assert_eq!(first.get::<String, _>("status"), "connected");
    assert_eq!(
        first
            .get::<Option<String>, _>("zapmail_domain_id")
            .as_deref(),
        Some("dom-1")
    );
    let mailboxes: serde_json::Value =
        serde_json::from_str(&first.get::<String, _>("mailboxes")).unwrap();
    let name = &p.domains[0].name;
    assert_eq!(
        mailboxes,
        serde_json::json!([
            {"username": "tim", "email": format!("tim@{name}"),
             "zapmail_mailbox_id": "mb-1", "plusvibe_account_id": "acc-1"},
            {"username": "tim.keen", "email": format!("tim.keen@{name}"),
             "zapmail_mailbox_id": null, "plusvibe_account_id": null},
        ])
    );
    for r in &rows {
        if r.get::<String, _>("domain_name") != p.domains[0].name {
            assert_eq!(r.get::<String, _>("status"), "pending");
            assert_eq!(r.get::<String, _>("mailboxes"), "[]");
        }
    }

    // A save re-projects: statuses move, a dropped domain's row goes, a new one appears.
    p.status = ProvisionStatus::Active;
    p.domains[0].status = DomainStatus::Active;
    let removed = p.domains.remove(2);
    p.domains.push(DomainRecord {
        id: uuid::Uuid::new_v4(),
        name: "added-on-upgrade.com".into(),
        status: DomainStatus::Purchasing,
        zapmail_domain_id: None,
        mailboxes: vec![],
        purchase: PurchaseState::InFlight,
        added_by: None,
    });
    p.run.as_mut().unwrap().status = RunStatus::Succeeded;
    p.ledger.zapmail_workspace_id = None;
    store
        .save(&p, 1, &[step_event(&p, 10)], None)
        .await
        .unwrap();
    let rows = domains(pool.clone(), p.id).await;
    let names: Vec<String> = rows.iter().map(|r| r.get("domain_name")).collect();
    assert_eq!(rows.len(), 3);
    assert!(
        !names.contains(&removed.name),
        "removed domain's row deleted"
    );
    assert!(names.contains(&"added-on-upgrade.com".to_string()));
    let status_of = |n: &str| {
        rows.iter()
            .find(|r| r.get::<String, _>("domain_name") == n)
            .map(|r| r.get::<String, _>("status"))
            .unwrap()
    };
    assert_eq!(status_of(&p.domains[0].name), "active");
    assert_eq!(status_of("added-on-upgrade.com"), "purchasing");

    let row = sqlx::query(
        "SELECT status, due_at, zapmail_workspace_key, version FROM infra_provisions WHERE id = ?",
    )
    .bind(p.id.to_string())
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(row.get::<String, _>("status"), "active");
    assert_eq!(row.get::<Option<String>, _>("due_at"), None, "no live run");
    assert_eq!(row.get::<Option<String>, _>("zapmail_workspace_key"), None);
    assert_eq!(row.get::<i64, _>("version"), 2);

    // The event log, queryable too.
    let ev = sqlx::query("SELECT provision_id, step, status, event FROM gtm_events")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(ev.get::<String, _>("provision_id"), p.id.to_string());
    assert_eq!(ev.get::<i64, _>("step"), 10);
    assert_eq!(ev.get::<String, _>("status"), "completed");
    let json: serde_json::Value = serde_json::from_str(&ev.get::<String, _>("event")).unwrap();
    assert_eq!(json["message"], "done");
    // Append-only.
    assert!(
        sqlx::query("UPDATE gtm_events SET step = 99")
            .execute(pool)
            .await
            .is_err()
    );
    // Domain rows go with their provision.
    sqlx::query("DELETE FROM infra_provisions WHERE id = ?")
        .bind(p.id.to_string())
        .execute(pool)
        .await
        .unwrap();
    assert!(domains(pool.clone(), p.id).await.is_empty());
}

#[tokio::test]
async fn lease_columns_follow_claims_and_saves() {
    let store = memory_store().await;
    let tier = store.tier_by_slug("growth").await.unwrap();
    let mut p = sample_provision(&tier, "Lease Test");
    p.run = Some(live_run(-1));
    store.insert_provision(&p).await.unwrap();
    let lease_cols = || async {
        let r = sqlx::query("SELECT lease_owner, lease_until FROM infra_provisions WHERE id = ?")
            .bind(p.id.to_string())
            .fetch_one(store.pool())
            .await
            .unwrap();
        (
            r.get::<Option<String>, _>("lease_owner"),
            r.get::<Option<String>, _>("lease_until"),
        )
    };
    let now = Utc::now();
    let lease = now + ChronoDuration::seconds(30);
    let c = store.claim_due("w1", now, lease, 5).await.unwrap();
    assert_eq!(c.len(), 1);
    let (owner, until) = lease_cols().await;
    assert_eq!(owner.as_deref(), Some("w1"));
    assert!(until.is_some());
    // While leased, the next due time is the lease's end.
    let next = store.next_due_at().await.unwrap().unwrap();
    assert_eq!(next, lease);
    // Renewing keeps the owner; releasing clears both.
    let v = store
        .save(
            &p,
            c[0].version,
            &[],
            Some(lease + ChronoDuration::seconds(5)),
        )
        .await
        .unwrap();
    assert_eq!(lease_cols().await.0.as_deref(), Some("w1"));
    // The owner may re-claim its own live lease.
    let own = store.claim(p.id, "w1", now, lease).await.unwrap().unwrap();
    assert_eq!(own.version, v + 1);
    store.save(&p, own.version, &[], None).await.unwrap();
    assert_eq!(lease_cols().await, (None, None));
    assert!(store.next_due_at().await.unwrap().unwrap() <= Utc::now());
    assert!(matches!(
        store.claim(ProvisionId::new(), "w1", now, lease).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        store
            .claim_due("w1", now, lease, 0)
            .await
            .unwrap()
            .is_empty()
    );
    let mut ghost = p.clone();
    ghost.id = ProvisionId::new();
    assert!(matches!(
        store.save(&ghost, 1, &[], None).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn the_password_is_stored_only_as_ciphertext() {
    let dir = tempfile::tempdir().unwrap();
    let key = SecretKey::generate();
    let store = file_store(dir.path()).await;
    let tier = store.tier_by_slug("starter").await.unwrap();
    let p = busy_provision(&tier, &key);
    let sealed = p.ledger.plusvibe_client_password.clone().unwrap();
    store.insert_provision(&p).await.unwrap();
    store.save(&p, 1, &[step_event(&p, 6)], None).await.unwrap();

    let col: String =
        sqlx::query_scalar("SELECT plusvibe_client_password FROM infra_provisions WHERE id = ?")
            .bind(p.id.to_string())
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(col, sealed.as_str());
    assert!(col.starts_with("xc20p1:"));
    assert!(!col.contains(PLAINTEXT));
    // It opens with the key (the store kept the exact ciphertext).
    let loaded = store.load(p.id).await.unwrap().value;
    let opened = key
        .open(
            loaded.ledger.plusvibe_client_password.as_ref().unwrap(),
            &p.id.to_string(),
        )
        .unwrap();
    assert_eq!(secrecy::ExposeSecret::expose_secret(&opened), PLAINTEXT);

    let scan = |phase: &str| {
        let mut ciphertext_seen = false;
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            // SQLite removes its -wal/-shm files when the last connection closes (which may
            // finish in the background): a file that is gone holds nothing.
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    assert!(!path.ends_with("gtm.db"), "{phase}: the database vanished");
                    continue;
                }
                Err(e) => panic!("{phase}: reading {}: {e}", path.display()),
            };
            assert!(
                !contains(&bytes, PLAINTEXT.as_bytes()),
                "{phase}: plaintext password found in {}",
                path.display()
            );
            ciphertext_seen |= contains(&bytes, sealed.as_str().as_bytes());
        }
        assert!(
            ciphertext_seen,
            "{phase}: the ciphertext is on disk somewhere"
        );
    };
    // While open: the data is (at least) in the WAL.
    assert!(dir.path().join("gtm.db-wal").exists());
    scan("open");
    // After close: checkpointed into the database file.
    store.close().await;
    scan("closed");
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn bad_locations_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("gtm.db");
    for url in [
        missing.display().to_string(),
        format!("sqlite://{}", missing.display()),
    ] {
        match SqliteStore::open(&url).await {
            Err(StoreError::Backend(m)) => {
                eprintln!("{m}");
                assert!(m.contains("no-such-dir"), "names the path: {m}");
                assert!(m.contains("cannot open SQLite database"), "{m}");
                assert!(m.contains("does its directory exist"), "{m}");
            }
            other => panic!("{url}: expected a backend error, got {other:?}"),
        }
    }
    // A directory is not a database.
    assert!(matches!(
        SqliteStore::open(&dir.path().display().to_string()).await,
        Err(StoreError::Backend(_))
    ));
    // Neither is a text file.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "this is not a database, just some text ".repeat(50)).unwrap();
    match SqliteStore::open(&junk.display().to_string()).await {
        Err(StoreError::Backend(m)) => {
            eprintln!("{m}");
            assert!(m.contains("junk.db"), "{m}");
            assert!(m.contains("not a SQLite database"), "{m}");
        }
        Ok(s) => {
            // If opening is lazy about the header, migrating must fail cleanly instead.
            assert!(matches!(s.migrate().await, Err(StoreError::Backend(_))));
        }
        Err(other) => panic!("unexpected {other:?}"),
    }
    // Malformed URLs and empty input.
    assert!(matches!(
        SqliteStore::open("sqlite://x.db?mode=bogus").await,
        Err(StoreError::Backend(m)) if m.contains("invalid SQLite URL")
    ));
    assert!(matches!(
        SqliteStore::open("  ").await,
        Err(StoreError::Backend(_))
    ));
    // A read-only URL opens an existing database for reading only.
    let rw = file_store(dir.path()).await;
    let tier = rw.tier_by_slug("starter").await.unwrap();
    rw.close().await;
    let ro_url = format!("sqlite://{}?mode=ro", dir.path().join("gtm.db").display());
    let ro = SqliteStore::open(&ro_url).await.unwrap();
    assert_eq!(ro.tiers().await.unwrap().len(), 3);
    match ro
        .insert_provision(&sample_provision(&tier, "Read Only"))
        .await
    {
        Err(StoreError::Backend(m)) => assert!(m.contains("readonly"), "{m}"),
        other => panic!("writes to a read-only store fail: {other:?}"),
    }
    // A read-only URL to a missing file does not create it.
    let ro = dir.path().join("ro.db");
    assert!(
        SqliteStore::open(&format!("sqlite://{}?mode=ro", ro.display()))
            .await
            .is_err()
    );
    assert!(!ro.exists());
}

#[tokio::test]
async fn stored_data_that_does_not_parse_is_reported_as_corrupt() {
    let store = memory_store().await;
    let tier = store.tier_by_slug("starter").await.unwrap();
    let p = sample_provision(&tier, "Corrupt Row");
    store.insert_provision(&p).await.unwrap();
    sqlx::query("UPDATE infra_provisions SET state = '{\"id\": 1}' WHERE id = ?")
        .bind(p.id.to_string())
        .execute(store.pool())
        .await
        .unwrap();
    assert!(matches!(
        store.load(p.id).await,
        Err(StoreError::Corrupt(_))
    ));
}

#[tokio::test]
async fn from_pool_wraps_a_callers_pool() {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    let store = SqliteStore::from_pool(pool);
    run_all(&store).await;
}

async fn concurrent_saves(store: Arc<SqliteStore>) {
    let tier = store.tier_by_slug("scale").await.unwrap();
    let p = sample_provision(&tier, "Race Condition");
    store.insert_provision(&p).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..8u32 {
        let store = store.clone();
        let mut mine = p.clone();
        mine.flags = vec![format!("writer {i}")];
        tasks.push(tokio::spawn(async move {
            let ev = step_event(&mine, i + 1);
            (i, store.save(&mine, 1, &[ev], None).await)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (i, Ok(v)) => {
                assert_eq!(v, 2);
                winners.push(i);
            }
            (_, Err(StoreError::Conflict { expected: 1, .. })) => {}
            (_, Err(e)) => panic!("a losing writer must get a conflict, got {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one writer wins");
    let loaded = store.load(p.id).await.unwrap();
    assert_eq!(loaded.version, 2);
    assert_eq!(loaded.value.flags, vec![format!("writer {}", winners[0])]);
    let evs = store.events(p.id, 0).await.unwrap();
    assert_eq!(evs.len(), 1, "only the winner's event was appended");
    assert_eq!(evs[0].event.step, winners[0] + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_saves_on_a_file_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    concurrent_saves(Arc::new(file_store(dir.path()).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_saves_in_memory_one_wins() {
    concurrent_saves(Arc::new(memory_store().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_workers_never_claim_the_same_run() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("gtm.db").display());
    let store = file_store(dir.path()).await;
    let tier = store.tier_by_slug("starter").await.unwrap();
    let mut ids = Vec::new();
    for i in 0..12 {
        let mut p = sample_provision(&tier, &format!("Due {i}"));
        p.run = Some(live_run(-(i + 1)));
        store.insert_provision(&p).await.unwrap();
        ids.push(p.id);
    }
    // Four workers, each with its own store (as separate processes would have).
    let now = Utc::now();
    let lease = now + ChronoDuration::seconds(60);
    let mut tasks = Vec::new();
    for w in 0..4 {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let s = SqliteStore::open(&url).await.unwrap();
            // 4 x 5 > 12: together they claim everything, each run once.
            let got = s.claim_due(&format!("w{w}"), now, lease, 5).await.unwrap();
            assert!(got.len() <= 5);
            got.into_iter().map(|c| c.id).collect::<Vec<_>>()
        }));
    }
    let mut claimed = Vec::new();
    for t in tasks {
        claimed.extend(t.await.unwrap());
    }
    claimed.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(claimed, expected, "every due run claimed exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_starting_together_migrate_and_seed_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("gtm.db").display());
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let s = SqliteStore::open(&url).await?;
            s.migrate().await?;
            s.seed_default_tiers().await?;
            s.tiers().await
        }));
    }
    for t in tasks {
        let tiers = t.await.unwrap().expect("every starter succeeds");
        assert_eq!(tiers.len(), 3);
    }
}

#[tokio::test]
async fn listing_is_newest_first_and_tier_lookups_miss_cleanly() {
    let store = memory_store().await;
    let tier = store.tier_by_slug("growth").await.unwrap();
    let mut ids = Vec::new();
    for (i, name) in ["Oldest One", "Middle One", "Newest One"]
        .iter()
        .enumerate()
    {
        let mut p = sample_provision(&tier, name);
        p.created_at = Utc::now() + ChronoDuration::seconds(i as i64);
        store.insert_provision(&p).await.unwrap();
        ids.push(p.id);
    }
    let listed: Vec<_> = store
        .list_provisions()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    ids.reverse();
    assert_eq!(listed, ids);
    assert!(matches!(
        store.tier(TierId::new()).await,
        Err(StoreError::TierNotFound(_))
    ));
    assert_eq!(store.tier(tier.id).await.unwrap(), tier);
}
