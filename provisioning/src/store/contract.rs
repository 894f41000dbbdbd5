//! The contract every [`Store`] backend must pass. Each backend's tests call [`run_all`]
//! with a fresh, migrated store (in-memory, SQLite, PostgreSQL...).

use chrono::{Duration as ChronoDuration, Utc};
use secrecy::SecretString;

use super::{Store, StoreError};
use crate::model::*;
use crate::progress::ProgressEvent;
use crate::secret::SecretKey;

/// A sample provision for `tier` (used by the contract and by other tests).
pub fn sample_provision(tier: &Tier, customer_name: &str) -> ProvisionState {
    let now = Utc::now();
    let first = customer_name.split_whitespace().next().unwrap_or("Sam");
    let slug = customer_name.to_ascii_lowercase().replace(' ', "");
    ProvisionState {
        id: ProvisionId::new(),
        customer: Customer {
            id: CustomerId::new(),
            name: customer_name.to_string(),
            email: format!("{slug}@example.com"),
            first_name: first.to_string(),
            last_name: "Keen".to_string(),
        },
        tier_id: tier.id,
        tier: tier.clone(),
        status: ProvisionStatus::PendingPayment,
        mailbox_patterns: ["tim".into(), "tim.keen".into()],
        payment: Payment::default(),
        domains: (0..tier.domain_count)
            .map(|i| DomainRecord {
                id: uuid::Uuid::new_v4(),
                name: format!("{slug}{i}.com"),
                status: DomainStatus::Pending,
                zapmail_domain_id: None,
                mailboxes: vec![],
                purchase: PurchaseState::NotSent,
                added_by: None,
            })
            .collect(),
        ledger: Ledger::default(),
        provisioning_log: vec![],
        run: None,
        flags: vec![],
        created_at: now,
        updated_at: now,
    }
}

fn event(p: &ProvisionState, step: u32) -> ProgressEvent {
    ProgressEvent {
        provision_id: p.id,
        run_id: None,
        at: Utc::now(),
        step,
        name: format!("step {step}"),
        status: StepStatus::InProgress,
        provision_status: p.status,
        message: None,
        error: None,
        details: Some(serde_json::json!({"n": step})),
    }
}

fn live_run(due_in_secs: i64) -> Run {
    let now = Utc::now();
    Run {
        id: RunId::new(),
        kind: RunKind::Provision,
        status: RunStatus::Pending,
        step: 0,
        steps: vec![StepRun::default(); 10],
        next_wake_at: now + ChronoDuration::seconds(due_in_secs),
        created_at: now,
        finished_at: None,
    }
}

/// Run every contract check against `store` (freshly created; this calls `migrate`).
///
/// # Panics
/// On the first broken rule, with a message saying which.
pub async fn run_all(store: &dyn Store) {
    store.migrate().await.expect("migrate");
    store.migrate().await.expect("migrate is idempotent");
    tiers(store).await;
    provisions(store).await;
    claims(store).await;
}

async fn tiers(store: &dyn Store) {
    store.seed_default_tiers().await.unwrap();
    store.seed_default_tiers().await.unwrap();
    let tiers = store.tiers().await.unwrap();
    let slugs: Vec<_> = tiers.iter().map(|t| t.slug.as_str()).collect();
    assert_eq!(
        slugs,
        ["starter", "growth", "scale"],
        "seeded once, by sort order"
    );
    assert_eq!(tiers[2].domain_count, 10);
    assert_eq!(tiers[0].setup_fee_cents, 9700);

    let mut growth = store.tier_by_slug("growth").await.unwrap();
    growth.monthly_fee_cents = 8800;
    growth.is_active = false;
    growth.sort_order = 5;
    store.put_tier(&growth).await.unwrap();
    let again = store.tier(growth.id).await.unwrap();
    assert_eq!(again, growth, "update by id round-trips");
    assert_eq!(store.tiers().await.unwrap().last().unwrap().slug, "growth");

    let mut dup = Tier::seed_defaults().remove(0);
    dup.slug = "scale".into();
    assert!(matches!(
        store.put_tier(&dup).await,
        Err(StoreError::DuplicateTierSlug(_))
    ));
    assert!(matches!(
        store.tier_by_slug("nope").await,
        Err(StoreError::TierNotFound(_))
    ));
}

async fn provisions(store: &dyn Store) {
    let tier = store.tier_by_slug("starter").await.unwrap();
    let mut p = sample_provision(&tier, "Ada Lovelace");
    let key = SecretKey::generate();
    p.ledger.plusvibe_client_password =
        Some(key.seal(&SecretString::from("pw-secret-1"), &p.id.to_string()));
    let v1 = store.insert_provision(&p).await.unwrap();
    assert_eq!(v1, 1);

    let loaded = store.load(p.id).await.unwrap();
    assert_eq!(loaded.version, 1);
    assert_eq!(loaded.value, p, "state round-trips exactly");

    let other = sample_provision(&tier, "Ada Lovelace");
    let mut same_customer = other.clone();
    same_customer.customer.id = p.customer.id;
    match store.insert_provision(&same_customer).await {
        Err(StoreError::DuplicateCustomer { existing, .. }) => assert_eq!(existing, p.id),
        other => panic!("one provision per customer: {other:?}"),
    }
    let mut bad_tier = sample_provision(&tier, "Bad Tier");
    bad_tier.tier_id = TierId::new();
    assert!(
        matches!(
            store.insert_provision(&bad_tier).await,
            Err(StoreError::TierNotFound(_))
        ),
        "unknown tier refused"
    );
    assert!(matches!(
        store.load(ProvisionId::new()).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store.find_by_customer(p.customer.id).await.unwrap(),
        Some(p.id)
    );
    assert_eq!(
        store.find_by_customer(CustomerId::new()).await.unwrap(),
        None
    );

    // Versioned saves with events.
    p.status = ProvisionStatus::Provisioning;
    p.domains[0].status = DomainStatus::DnsPending;
    p.domains[0].zapmail_domain_id = Some("dom-1".into());
    let email = format!("tim@{}", p.domains[0].name);
    p.domains[0].mailboxes.push(MailboxRecord {
        username: "tim".into(),
        email,
        zapmail_mailbox_id: Some("mb-1".into()),
        plusvibe_account_id: None,
    });
    p.provisioning_log.push(ProvisioningStep {
        step: 1,
        name: "Creating Zapmail workspace".into(),
        status: StepStatus::Completed,
        started_at: Some(Utc::now()),
        completed_at: Some(Utc::now()),
        error: None,
        details: Some(serde_json::json!({"workspace": "ws-1"})),
    });
    let v2 = store
        .save(&p, 1, &[event(&p, 1), event(&p, 2)], None)
        .await
        .unwrap();
    assert_eq!(v2, 2);
    let loaded = store.load(p.id).await.unwrap();
    assert_eq!(loaded.value, p);
    assert_eq!(loaded.version, 2);

    // A stale writer loses and changes nothing.
    let mut stale = p.clone();
    stale.status = ProvisionStatus::Failed;
    match store.save(&stale, 1, &[event(&stale, 9)], None).await {
        Err(StoreError::Conflict { expected: 1, .. }) => {}
        other => panic!("stale save must conflict: {other:?}"),
    }
    assert_eq!(
        store.load(p.id).await.unwrap().value.status,
        ProvisionStatus::Provisioning
    );

    let evs = store.events(p.id, 0).await.unwrap();
    assert_eq!(evs.len(), 2, "conflicting save appended no event");
    assert!(evs[0].seq < evs[1].seq);
    assert_eq!(evs[1].event.step, 2);
    assert_eq!(evs[0].event, event_like(&evs[0].event));
    let after = store.events(p.id, evs[0].seq).await.unwrap();
    assert_eq!(after.len(), 1);
    assert!(store.events(other.id, 0).await.unwrap().is_empty());

    // Listing.
    let q = sample_provision(&tier, "Grace Hopper");
    store.insert_provision(&q).await.unwrap();
    let list = store.list_provisions().await.unwrap();
    assert!(
        list.iter()
            .any(|s| s.id == p.id && s.status == ProvisionStatus::Provisioning)
    );
    assert!(
        list.iter()
            .any(|s| s.id == q.id && s.customer_name == "Grace Hopper")
    );
}

// Events round-trip whole: compare with itself after a serde trip.
fn event_like(e: &ProgressEvent) -> ProgressEvent {
    serde_json::from_value(serde_json::to_value(e).unwrap()).unwrap()
}

async fn claims(store: &dyn Store) {
    let tier = store.tier_by_slug("scale").await.unwrap();
    let now = Utc::now();
    let lease = now + ChronoDuration::seconds(30);

    let mut due = sample_provision(&tier, "Due Now");
    due.run = Some(live_run(-5));
    let mut later = sample_provision(&tier, "Due Later");
    later.run = Some(live_run(3600));
    let mut done = sample_provision(&tier, "Done Already");
    let mut r = live_run(-10);
    r.status = RunStatus::Succeeded;
    done.run = Some(r);
    for p in [&due, &later, &done] {
        store.insert_provision(p).await.unwrap();
    }

    let next = store
        .next_due_at()
        .await
        .unwrap()
        .expect("a live run is due");
    assert!(next <= now, "the overdue run is next");

    let claims = store.claim_due("w1", now, lease, 10).await.unwrap();
    let ids: Vec<_> = claims.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![due.id], "only due, live runs are claimed");
    let claim = &claims[0];
    assert_eq!(claim.version, 2, "claiming bumps the version");

    // Nor the same worker again (it may be driving it): only `claim` re-takes one's own.
    assert!(
        store
            .claim_due("w1", now, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.load(due.id).await.unwrap().version, 2);

    // Another worker cannot take it while the lease lives.
    assert!(
        store
            .claim_due("w2", now, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.claim(due.id, "w2", now, lease).await.unwrap(), None);

    // The claimer saves with the claim's version and keeps the lease.
    let v = store
        .save(&due, claim.version, &[], Some(lease))
        .await
        .unwrap();
    assert_eq!(v, 3);

    // The claimer renews its lease without changing the version; nobody else can.
    let renewed = lease + ChronoDuration::seconds(10);
    assert!(store.renew_lease(due.id, "w1", renewed).await.unwrap());
    assert!(!store.renew_lease(due.id, "w2", renewed).await.unwrap());
    assert_eq!(store.load(due.id).await.unwrap().version, 3);
    let within_renewal = lease + ChronoDuration::seconds(1);
    assert_eq!(
        store
            .claim(
                due.id,
                "w2",
                within_renewal,
                within_renewal + ChronoDuration::seconds(30)
            )
            .await
            .unwrap(),
        None,
        "a renewed lease holds past its first end"
    );

    // After expiry another worker takes over; the first one's next write is fenced off,
    // and it cannot renew any more.
    let after_expiry = renewed + ChronoDuration::seconds(1);
    let stolen = store
        .claim(
            due.id,
            "w2",
            after_expiry,
            after_expiry + ChronoDuration::seconds(30),
        )
        .await
        .unwrap()
        .expect("expired lease can be taken");
    assert_eq!(stolen.version, 4);
    assert!(matches!(
        store.save(&due, v, &[], Some(lease)).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(!store.renew_lease(due.id, "w1", renewed).await.unwrap());

    // Releasing makes it claimable again (when due).
    store.save(&due, stolen.version, &[], None).await.unwrap();
    let again = store.claim_due("w1", now, lease, 10).await.unwrap();
    assert_eq!(again.len(), 1);

    // `limit` is respected, earliest due first.
    let mut a = sample_provision(&tier, "Limit A");
    a.run = Some(live_run(-100));
    let mut b = sample_provision(&tier, "Limit B");
    b.run = Some(live_run(-50));
    store.insert_provision(&a).await.unwrap();
    store.insert_provision(&b).await.unwrap();
    let one = store.claim_due("w3", now, lease, 1).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].id, a.id);
}
