//! End to end against the three simulators: every tier, into SQLite.

use std::sync::{Arc, Mutex};

use provisioning::sim::Simulators;
use provisioning::store::SqliteStore;
use provisioning::{
    Engine, FnSink, NewProvision, Payment, ProgressEvent, ProvisionStatus, SecretKey, StepStatus,
};

fn domains_for(prefix: &str, n: usize) -> Vec<String> {
    let tlds = ["com", "net", "org", "biz", "info", "live"];
    (0..n)
        .map(|i| format!("{prefix}{i}.{}", tlds[i % tlds.len()]))
        .collect()
}

async fn engine_for(
    sims: &Simulators,
    store: Arc<SqliteStore>,
) -> (Engine, Arc<Mutex<Vec<ProgressEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let engine = sims
        .engine_builder()
        .store(store)
        .secret_key(SecretKey::generate())
        .sink(Arc::new(FnSink(move |e: &ProgressEvent| {
            seen.lock().unwrap().push(e.clone())
        })))
        .build()
        .await
        .unwrap();
    (engine, events)
}

async fn provision_tier(slug: &str, domains: usize) {
    let sims = Simulators::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("gtm.db").display());
    let store = Arc::new(SqliteStore::open(&url).await.unwrap());
    let (engine, events) = engine_for(&sims, store).await;

    let names = domains_for(&format!("{slug}acme"), domains);
    let id = engine
        .create_provision(
            NewProvision::new("Tim Keen", "tim@acme.example", slug)
                .domains(names.clone())
                .patterns("tim", "tim.keen"),
        )
        .await
        .unwrap();
    assert_eq!(
        engine.status(id).await.unwrap().status,
        ProvisionStatus::PendingPayment
    );
    engine.mark_paid(id, Payment::default()).await.unwrap();
    let snap = engine.run(id).await.unwrap();
    assert_eq!(snap.status, ProvisionStatus::Active, "{:?}", snap.error);

    // Every domain and mailbox recorded with vendor ids.
    assert_eq!(snap.domains.len(), domains);
    for d in &snap.domains {
        assert!(d.zapmail_domain_id.is_some(), "{}", d.name);
        assert_eq!(d.mailboxes.len(), 2);
        for m in &d.mailboxes {
            assert!(m.zapmail_mailbox_id.is_some(), "{}", m.email);
            assert!(m.plusvibe_account_id.is_some(), "{}", m.email);
        }
    }
    assert!(snap.heyreach_list_id.is_some());
    assert_eq!(
        snap.plusvibe_login_email.as_deref(),
        Some("tim@acme.example")
    );
    assert_eq!(snap.provisioning_log.len(), 10);
    assert!(
        snap.provisioning_log
            .iter()
            .all(|s| s.status == StepStatus::Completed
                && s.started_at.is_some()
                && s.completed_at.is_some())
    );

    // Journals: one workspace, one purchase per domain, two mailboxes per domain, one
    // client, one list.
    let z = &sims.zapmail;
    assert_eq!(z.journal().applied("POST /v2/workspaces"), 1);
    for n in &names {
        assert_eq!(z.domains_bought(n), 1, "{n}");
        assert_eq!(z.mailboxes_created_for(n), 2, "{n}");
    }
    assert_eq!(sims.plusvibe.clients_created().len(), 1);
    assert_eq!(sims.heyreach.lists_created(), 1);
    assert_eq!(z.journal().rate_limited(), 0);

    // PlusVibe holds every account with warmup on and the seed's values.
    let ws = snap.plusvibe_workspace_id.clone().unwrap();
    let accounts = sims.plusvibe.accounts(&ws.as_str().into());
    assert_eq!(accounts.len(), domains * 2);

    // Progress reached the sink, in order, and never carried a secret.
    let evs = events.lock().unwrap();
    assert!(evs.iter().any(|e| {
        e.step == 3
            && e.message
                .as_deref()
                .unwrap_or("")
                .contains("domains active")
    }));
    assert!(
        evs.iter()
            .any(|e| e.status == StepStatus::Completed && e.step == 10)
    );
}

#[tokio::test]
async fn starter_tier_end_to_end() {
    provision_tier("starter", 3).await;
}

#[tokio::test]
async fn growth_tier_end_to_end() {
    provision_tier("growth", 5).await;
}

#[tokio::test]
async fn scale_tier_end_to_end() {
    provision_tier("scale", 10).await;
}
