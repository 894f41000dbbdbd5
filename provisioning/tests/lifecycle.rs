//! The journey after the wizard (issue 4 items 5-9), against the three simulators and
//! SQLite: Stripe lifecycle hooks (idempotent, wrong states change nothing), the upgrade
//! run (only the new domains bought, their mailboxes created and exported, the original
//! ones untouched, a crash in the middle resumed by a fresh engine), cancellation
//! teardown (the vendor calls in the journals), the dashboard (partial when a vendor is
//! down), the summary, and the webhook sink (signature checked by the test's own
//! receiver, a failing receiver retried).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use plusvibe::mock::routes as pv;
use provisioning::dashboard::DashboardPart;
use provisioning::progress::webhook::{self, WebhookPayload};
use provisioning::sim::Simulators;
use provisioning::store::SqliteStore;
use provisioning::{
    CheckoutCompleted, Engine, EngineError, FnSink, InvoicePaymentFailed, NewProvision,
    ProgressEvent, ProgressSink, ProvisionId, ProvisionStatus, RunKind, SecretKey, StepStatus,
    StoreError, Summary, WebhookConfig, WebhookSink,
};
use sha2::Sha256;
use tokio::task::JoinHandle;
use vendor_http::sim::{ANY_ROUTE, AfterApply, Fault};
use wiremock::{Mock, MockServer, Request, ResponseTemplate, matchers};
use zapmail::mock::routes as zm;

const STARTER: [&str; 3] = ["lifeacme0.com", "lifeacme1.net", "lifeacme2.org"];
const GROWTH_EXTRA: [&str; 2] = ["lifeacme3.com", "lifeacme4.net"];
const EMAIL: &str = "tim@acme.example";
/// Bound on a run (a stuck run fails the test instead of hanging the suite).
const BOUND: Duration = Duration::from_secs(40);

/// Simulators and a SQLite file shared by the engines of one test.
struct World {
    sims: Arc<Simulators>,
    _dir: tempfile::TempDir,
    url: String,
    key: SecretKey,
}

impl World {
    async fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        World {
            sims: Arc::new(Simulators::start().await),
            url: format!("sqlite://{}", dir.path().join("gtm.db").display()),
            _dir: dir,
            key: SecretKey::generate(),
        }
    }

    /// An engine on the world's SQLite file (its own store, as a new process would).
    async fn engine(&self, worker: &str, sinks: Vec<Arc<dyn ProgressSink>>) -> Engine {
        self.engine_with(worker, sinks, |_| {}).await
    }

    async fn engine_with(
        &self,
        worker: &str,
        sinks: Vec<Arc<dyn ProgressSink>>,
        tweak: impl FnOnce(&mut provisioning::EngineConfig),
    ) -> Engine {
        let store = Arc::new(SqliteStore::open(&self.url).await.unwrap());
        let mut config = self.sims.engine_config();
        config.worker_id = worker.into();
        config.lease = Duration::from_millis(1500);
        tweak(&mut config);
        let c = self.sims.clients();
        let mut b = Engine::builder()
            .clients(c.zapmail, c.plusvibe, c.heyreach)
            .store(store)
            .secret_key(self.key.clone())
            .config(config);
        for s in sinks {
            b = b.sink(s);
        }
        b.build().await.unwrap()
    }
}

async fn create(engine: &Engine) -> ProvisionId {
    engine
        .create_provision(
            NewProvision::new("Tim Keen", EMAIL, "starter")
                .domains(STARTER)
                .patterns("tim", "tim.keen"),
        )
        .await
        .unwrap()
}

fn checkout() -> CheckoutCompleted {
    CheckoutCompleted::new("cs_test_1")
        .customer("cus_1")
        .subscription("sub_1")
}

async fn finish(engine: &Engine, id: ProvisionId) -> provisioning::Snapshot {
    tokio::time::timeout(BOUND, engine.run(id))
        .await
        .expect("the run finished in time")
        .unwrap()
}

/// A Starter provision, paid and active.
async fn active_starter(engine: &Engine) -> ProvisionId {
    let id = create(engine).await;
    assert!(
        engine
            .checkout_completed(id, checkout())
            .await
            .unwrap()
            .applied
    );
    let snap = finish(engine, id).await;
    assert_eq!(snap.status, ProvisionStatus::Active, "{:?}", snap.error);
    id
}

fn events_sink() -> (Arc<Mutex<Vec<ProgressEvent>>>, Arc<dyn ProgressSink>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    (
        seen,
        Arc::new(FnSink(move |e: &ProgressEvent| {
            s.lock().unwrap().push(e.clone())
        })),
    )
}

// ---------------------------------------------------------------- payment lifecycle --

#[tokio::test]
async fn duplicate_checkout_events_start_one_provisioning() {
    let world = World::new().await;
    let engine = world.engine("w", vec![]).await;
    let id = create(&engine).await;

    // Stripe delivers the same event twice, concurrently, then once more later.
    let (a, b) = tokio::join!(
        engine.checkout_completed(id, checkout()),
        engine.checkout_completed(id, checkout())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        [a.applied, b.applied].iter().filter(|x| **x).count(),
        1,
        "exactly one delivery applies"
    );
    let state = engine.state(id).await.unwrap();
    let run_id = state.run.as_ref().unwrap().id;
    assert_eq!(state.status, ProvisionStatus::Provisioning);
    assert_eq!(
        state.payment.checkout_session_id.as_deref(),
        Some("cs_test_1")
    );
    assert_eq!(state.payment.customer_id.as_deref(), Some("cus_1"));
    assert_eq!(state.payment.subscription_id.as_deref(), Some("sub_1"));

    let again = engine.checkout_completed(id, checkout()).await.unwrap();
    assert!(!again.applied);
    assert_eq!(engine.state(id).await.unwrap(), state, "nothing changed");

    let snap = finish(&engine, id).await;
    assert_eq!(snap.status, ProvisionStatus::Active, "{:?}", snap.error);
    // A late duplicate after completion changes nothing either.
    assert!(
        !engine
            .checkout_completed(id, checkout())
            .await
            .unwrap()
            .applied
    );
    let after = engine.state(id).await.unwrap();
    assert_eq!(
        after.run.as_ref().unwrap().id,
        run_id,
        "one provisioning run"
    );
    assert_eq!(after.status, ProvisionStatus::Active);
    assert_eq!(world.sims.zapmail.workspaces_created(), 1);
    for d in STARTER {
        assert_eq!(world.sims.zapmail.purchase_calls_for(d), 1, "{d}");
    }
}

#[tokio::test]
async fn events_in_the_wrong_state_or_for_unknown_provisions_change_nothing() {
    let world = World::new().await;
    let engine = world.engine("w", vec![]).await;

    // Unknown provision.
    let ghost = ProvisionId::new();
    let e = engine
        .checkout_completed(ghost, checkout())
        .await
        .unwrap_err();
    assert!(
        matches!(e, EngineError::Store(StoreError::NotFound(_))),
        "{e}"
    );
    assert!(e.to_string().contains("not found"), "{e}");
    assert!(engine.subscription_deleted(ghost, None).await.is_err());
    assert!(
        engine
            .invoice_payment_failed(ghost, InvoicePaymentFailed::new("in_1"))
            .await
            .is_err()
    );

    // Not paid yet: no invoice, no upgrade.
    let id = create(&engine).await;
    let before = engine.state(id).await.unwrap();
    let e = engine
        .invoice_payment_failed(id, InvoicePaymentFailed::new("in_1"))
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::WrongState { .. }), "{e}");
    let e = engine
        .subscription_updated(id, Some("sub_1"), "growth", &GROWTH_EXTRA)
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::WrongState { .. }), "{e}");
    let e = engine
        .upgrade(id, "growth", &GROWTH_EXTRA)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("pending_payment"), "{e}");
    assert!(
        engine
            .checkout_completed(id, CheckoutCompleted::new("  "))
            .await
            .is_err()
    );
    assert_eq!(engine.state(id).await.unwrap(), before, "nothing changed");

    // Paid and active: another checkout session, another subscription, a downgrade.
    engine.checkout_completed(id, checkout()).await.unwrap();
    let snap = finish(&engine, id).await;
    assert_eq!(snap.status, ProvisionStatus::Active, "{:?}", snap.error);
    let before = engine.state(id).await.unwrap();
    let e = engine
        .checkout_completed(id, CheckoutCompleted::new("cs_other"))
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::WrongState { .. }), "{e}");
    let e = engine
        .subscription_deleted(id, Some("sub_someone_else"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("does not belong"), "{e}");
    let e = engine
        .invoice_payment_failed(
            id,
            InvoicePaymentFailed::new("in_1").subscription("sub_someone_else"),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::Invalid(_)), "{e}");
    // Wrong number of new domains, a domain it already has, an unknown tier.
    let e = engine
        .upgrade(id, "growth", &["onlyone.com"])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("adds 2 domains"), "{e}");
    let e = engine
        .upgrade(id, "growth", &["lifeacme0.com", "fresh.com"])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already part"), "{e}");
    let e = engine.upgrade(id, "mega", &GROWTH_EXTRA).await.unwrap_err();
    assert!(e.to_string().contains("unknown tier"), "{e}");
    let e = engine
        .upgrade(id, "starter", &[] as &[&str])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already on tier"), "{e}");
    // The same tier from Stripe (a renewal, say) is not an error, and not a change.
    let same = engine
        .subscription_updated(id, Some("sub_1"), "starter", &[] as &[&str])
        .await
        .unwrap();
    assert!(!same.applied);
    assert_eq!(engine.state(id).await.unwrap(), before, "nothing changed");
}

#[tokio::test]
async fn a_failed_invoice_flags_the_provision_and_notifies_once() {
    let world = World::new().await;
    let (seen, sink) = events_sink();
    let engine = world.engine("w", vec![sink]).await;
    let id = active_starter(&engine).await;
    seen.lock().unwrap().clear();

    let mut invoice = InvoicePaymentFailed::new("in_42").subscription("sub_1");
    invoice.attempt_count = Some(2);
    let out = engine
        .invoice_payment_failed(id, invoice.clone())
        .await
        .unwrap();
    assert!(out.applied);
    assert_eq!(out.snapshot.flags, vec!["invoice_payment_failed:in_42"]);
    assert_eq!(
        out.snapshot.status,
        ProvisionStatus::Active,
        "nothing stopped"
    );
    let again = engine.invoice_payment_failed(id, invoice).await.unwrap();
    assert!(!again.applied);
    assert_eq!(again.snapshot.flags.len(), 1);

    let events = seen.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].name, "Invoice payment failed");
    assert_eq!(events[0].status, StepStatus::Failed);
    assert_eq!(events[0].details.as_ref().unwrap()["invoice_id"], "in_42");
    assert_eq!(webhook::event_type(&events[0]), "invoice.payment_failed");
    // It is in the store's event log too.
    let stored = engine.store().events(id, 0).await.unwrap();
    assert!(
        stored
            .iter()
            .any(|e| e.event.name == "Invoice payment failed")
    );
}

// ------------------------------------------------------------------------- upgrade --

/// What the journals and the state must show after a Starter → Growth upgrade.
async fn check_upgrade(
    world: &World,
    engine: &Engine,
    id: ProvisionId,
    before: &provisioning::ProvisionState,
    new_purchase_calls: usize,
) {
    let z = &world.sims.zapmail;
    let snap = engine.status(id).await.unwrap();
    assert_eq!(snap.status, ProvisionStatus::Active, "{:?}", snap.error);
    assert_eq!(snap.tier, "growth");
    let state = engine.state(id).await.unwrap();
    assert_eq!(state.tier_id, state.tier.id);
    assert_eq!(state.tier.domain_count, 5);
    assert!(state.ledger.upgrade_to.is_none());
    assert_eq!(state.domains.len(), 5);

    // The original three are untouched, in place.
    assert_eq!(
        &state.domains[..3],
        &before.domains[..],
        "original domains changed"
    );
    for d in STARTER {
        assert_eq!(z.domains_bought(d), 1, "{d} bought again");
        assert_eq!(z.purchase_calls_for(d), 1, "{d} in another purchase");
        assert_eq!(z.mailboxes_created_for(d), 2, "{d} mailboxes");
    }
    // Exactly the two new domains bought, once, and four new mailboxes.
    for d in GROWTH_EXTRA {
        assert_eq!(z.domains_bought(d), 1, "{d}");
        assert_eq!(z.purchase_calls_for(d), new_purchase_calls, "{d}");
        assert_eq!(z.mailboxes_created_for(d), 2, "{d}");
    }
    assert_eq!(z.domains().len(), 5, "3 at provisioning + 2 at the upgrade");
    assert_eq!(z.mailboxes().len(), 10);
    for (i, d) in state.domains[3..].iter().enumerate() {
        assert_eq!(d.name, GROWTH_EXTRA[i]);
        assert_eq!(d.added_by, state.run.as_ref().map(|r| r.id));
        let users: Vec<_> = d.mailboxes.iter().map(|m| m.username.as_str()).collect();
        assert_eq!(users, ["tim", "tim.keen"], "the existing patterns");
        for m in &d.mailboxes {
            assert!(m.zapmail_mailbox_id.is_some() && m.plusvibe_account_id.is_some());
        }
    }
    // Into the existing PlusVibe workspace, with warmup on; no second workspace or login.
    let p = &world.sims.plusvibe;
    assert_eq!(p.journal().applied(pv::CREATE_WORKSPACE), 1);
    assert_eq!(p.journal().applied(pv::CREATE_CLIENT), 1);
    assert_eq!(z.workspaces_created(), 1);
    let ws = plusvibe::WorkspaceId::from(state.ledger.plusvibe_workspace_id.clone().unwrap());
    let accounts = p.state().accounts(&ws);
    assert_eq!(accounts.len(), 10);
    let accounts_api = engine
        .clients()
        .plusvibe
        .email_accounts()
        .list_all(&ws, &Default::default())
        .await
        .unwrap();
    assert!(accounts_api.iter().all(|a| a.is_warmup_active()));
    assert_eq!(state.ledger.warmup_configured.len(), 10);
    // The log is the upgrade's.
    assert_eq!(snap.provisioning_log.len(), 7);
    assert!(
        snap.provisioning_log
            .iter()
            .all(|e| e.status == StepStatus::Completed)
    );
    assert_eq!(
        snap.run,
        Some((RunKind::Upgrade, provisioning::RunStatus::Succeeded))
    );
}

#[tokio::test]
async fn upgrade_starter_to_growth_buys_only_the_new_domains() {
    let world = World::new().await;
    let engine = world.engine("w", vec![]).await;
    let id = active_starter(&engine).await;
    let before = engine.state(id).await.unwrap();

    let out = engine
        .subscription_updated(id, Some("sub_1"), "growth", &GROWTH_EXTRA)
        .await
        .unwrap();
    assert!(out.applied);
    assert_eq!(out.snapshot.status, ProvisionStatus::Upgrading);
    assert_eq!(
        out.snapshot.tier, "starter",
        "the tier changes when the run ends"
    );
    // Stripe's duplicate delivery, and the host asking again: nothing new.
    let dup = engine
        .subscription_updated(id, Some("sub_1"), "growth", &GROWTH_EXTRA)
        .await
        .unwrap();
    assert!(!dup.applied);
    engine.upgrade(id, "growth", &GROWTH_EXTRA).await.unwrap();
    assert_eq!(engine.state(id).await.unwrap().domains.len(), 5);

    finish(&engine, id).await;
    check_upgrade(&world, &engine, id, &before, 1).await;

    // Downgrades are refused, and change nothing.
    let after = engine.state(id).await.unwrap();
    let e = engine
        .upgrade(id, "starter", &[] as &[&str])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("downgrade"), "{e}");
    let e = engine
        .subscription_updated(id, Some("sub_1"), "starter", &[] as &[&str])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("downgrade"), "{e}");
    assert_eq!(engine.state(id).await.unwrap(), after);
}

/// Engine A dies in the middle of the upgrade (its call applied at the vendor, the answer
/// never coming); engine B, a new store on the same SQLite file, finishes it.
async fn upgrade_crash_case(step_name: &'static str, route: &'static str) {
    let world = World::new().await;
    let setup = world.engine("setup", vec![]).await;
    let id = active_starter(&setup).await;
    let before = setup.state(id).await.unwrap();
    drop(setup);

    let sims = world.sims.clone();
    let arm: Arc<dyn ProgressSink> = Arc::new(FnSink(move |e: &ProgressEvent| {
        if e.provision_status == ProvisionStatus::Upgrading
            && e.name == step_name
            && e.status == StepStatus::InProgress
            && e.message.is_none()
            && e.error.is_none()
        {
            sims.zapmail
                .faults()
                .inject(route, Fault::ApplyThen(AfterApply::Timeout), 1);
        }
    }));
    let a = world.engine("worker-a", vec![arm]).await;
    a.upgrade(id, "growth", &GROWTH_EXTRA).await.unwrap();
    let task: JoinHandle<_> = tokio::spawn(async move { a.run(id).await });

    // Kill engine A once the faulted call was applied.
    let start = std::time::Instant::now();
    loop {
        let j = world.sims.zapmail.journal();
        if j.count_where(|e| e.route == route && e.fault.is_some() && e.applied) > 0 {
            break;
        }
        assert!(!task.is_finished(), "engine A ended before the fault hit");
        assert!(start.elapsed() < BOUND, "the fault on {route} never hit");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(
        engine_status(&world, id).await,
        ProvisionStatus::Upgrading,
        "mid-upgrade when engine A died"
    );

    let b = world.engine("worker-b", vec![]).await;
    finish(&b, id).await;
    check_upgrade(&world, &b, id, &before, 1).await;
}

async fn engine_status(world: &World, id: ProvisionId) -> ProvisionStatus {
    let store = SqliteStore::open(&world.url).await.unwrap();
    provisioning::Store::load(&store, id)
        .await
        .unwrap()
        .value
        .status
}

#[tokio::test]
async fn an_upgrade_survives_a_crash_after_the_purchase() {
    upgrade_crash_case("Purchasing additional domains", zm::BUY).await;
}

#[tokio::test]
async fn an_upgrade_survives_a_crash_after_creating_mailboxes() {
    upgrade_crash_case("Creating mailboxes", zm::CREATE_MAILBOXES).await;
}

// -------------------------------------------------------------------- cancellation --

#[tokio::test]
async fn cancellation_stops_warmup_and_schedules_mailbox_removal() {
    let world = World::new().await;
    let engine = world.engine("w", vec![]).await;
    let id = active_starter(&engine).await;
    let z = &world.sims.zapmail;
    let p = &world.sims.plusvibe;
    let warmups_before = p.state().warmup_updates().len();

    // A transient Zapmail failure on the way: the teardown resumes.
    z.faults()
        .inject(zm::SCHEDULED_REMOVAL, Fault::Status(500), 1);
    let out = engine
        .subscription_deleted(id, Some("sub_1"))
        .await
        .unwrap();
    assert!(out.applied);
    assert_eq!(
        out.snapshot.status,
        ProvisionStatus::Cancelled,
        "cancelled at once"
    );
    let snap = finish(&engine, id).await;
    assert_eq!(snap.status, ProvisionStatus::Cancelled);
    assert_eq!(
        snap.run,
        Some((RunKind::Cancel, provisioning::RunStatus::Succeeded))
    );
    let names: Vec<_> = snap
        .provisioning_log
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Stopping warmup",
            "Scheduling mailbox removal",
            "Cancellation complete"
        ]
    );
    assert!(
        snap.provisioning_log
            .iter()
            .all(|e| e.status == StepStatus::Completed)
    );

    // PlusVibe: one warmup update to INACTIVE for the 6 accounts.
    let updates = p.state().warmup_updates();
    let new: Vec<_> = updates[warmups_before..].to_vec();
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(new[0].warmup_status, "INACTIVE");
    assert_eq!(new[0].updated_ids.len(), 6);
    // Zapmail: the 3 domains' mailboxes scheduled for removal; the domains kept.
    let removal = z.journal().for_route(zm::SCHEDULED_REMOVAL);
    let applied: Vec<_> = removal.iter().filter(|e| e.applied).collect();
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0].body["remove"], true);
    assert_eq!(applied[0].body["domainIds"].as_array().unwrap().len(), 3);
    assert!(z.mailboxes().iter().all(|m| m.scheduled_removal));
    for d in STARTER {
        assert!(z.domain(d).is_some(), "{d} kept");
    }

    // Again: nothing changes, no vendor call.
    let calls = z.journal().len() + p.journal().len();
    assert!(
        !engine
            .subscription_deleted(id, Some("sub_1"))
            .await
            .unwrap()
            .applied
    );
    engine.cancel(id).await.unwrap();
    finish(&engine, id).await;
    assert_eq!(z.journal().len() + p.journal().len(), calls);
    // A cancelled provision takes no checkout and no upgrade.
    assert!(
        engine
            .checkout_completed(id, CheckoutCompleted::new("cs_2"))
            .await
            .is_err()
    );
    assert!(engine.upgrade(id, "growth", &GROWTH_EXTRA).await.is_err());
}

#[tokio::test]
async fn cancellation_teardown_is_configurable_and_unpaid_provisions_need_none() {
    let world = World::new().await;
    let engine = world
        .engine_with("w", vec![], |c| {
            c.teardown.remove_mailboxes_at_renewal = false;
        })
        .await;
    let id = active_starter(&engine).await;
    engine.cancel(id).await.unwrap();
    let snap = finish(&engine, id).await;
    assert_eq!(snap.status, ProvisionStatus::Cancelled);
    assert_eq!(world.sims.zapmail.journal().count(zm::SCHEDULED_REMOVAL), 0);
    assert_eq!(
        world
            .sims
            .plusvibe
            .state()
            .warmup_updates()
            .last()
            .unwrap()
            .warmup_status,
        "INACTIVE"
    );

    // Never paid: cancelled at once, no run, no vendor call.
    let other = engine
        .create_provision(
            NewProvision::new("Ada L", "ada@acme.example", "starter")
                .domains(["adaacme0.com", "adaacme1.com", "adaacme2.com"])
                .patterns("ada", "ada.l"),
        )
        .await
        .unwrap();
    let calls = world.sims.zapmail.journal().len();
    let snap = engine.cancel(other).await.unwrap();
    assert_eq!(snap.status, ProvisionStatus::Cancelled);
    assert_eq!(snap.run, None);
    assert_eq!(world.sims.zapmail.journal().len(), calls);
}

#[tokio::test]
async fn cancelling_during_a_run_is_refused() {
    let world = World::new().await;
    let engine = world.engine("w", vec![]).await;
    let id = create(&engine).await;
    engine.checkout_completed(id, checkout()).await.unwrap();
    let before = engine.state(id).await.unwrap();
    let e = engine.cancel(id).await.unwrap_err();
    assert!(matches!(e, EngineError::WrongState { .. }), "{e}");
    assert!(e.to_string().contains("in progress"), "{e}");
    assert_eq!(engine.state(id).await.unwrap(), before);
}

// ----------------------------------------------------------------------- dashboard --

#[tokio::test]
async fn the_dashboard_aggregates_and_is_partial_when_a_vendor_is_down() {
    let world = World::new().await;
    let engine = world.engine("w", vec![]).await;
    let id = active_starter(&engine).await;
    let p = &world.sims.plusvibe;
    p.state().set_health(
        "tim@lifeacme0.com",
        plusvibe::mock::SimHealth {
            overall_7d: Some(97.5),
            google_7d: Some(99.0),
            microsoft_7d: Some(0.0),
            other_7d: None,
            reply_rate_7d: Some(12.0),
            email_sent_today: Some(0),
            warmup_email_sent_today: Some(14),
            ..Default::default()
        },
    );

    let d = engine.dashboard(id).await.unwrap();
    assert!(d.is_complete(), "{:?}", d.missing);
    assert_eq!(d.status, ProvisionStatus::Active);
    assert_eq!(d.tier, "starter");
    assert_eq!(d.plusvibe_login_email.as_deref(), Some(EMAIL));
    assert_eq!(d.domains.len(), 3);
    assert_eq!(d.mailboxes().count(), 6);
    let list = d.heyreach_list.as_ref().unwrap();
    assert_eq!(
        Some(list.id),
        engine.status(id).await.unwrap().heyreach_list_id
    );
    assert_eq!(list.lead_count, 0);
    let tim = d
        .mailboxes()
        .find(|m| m.email == "tim@lifeacme0.com")
        .unwrap();
    assert_eq!(tim.in_plusvibe, Some(true));
    assert_eq!(tim.warmup_status.as_deref(), Some("ACTIVE"));
    let h = tim.health.unwrap();
    assert_eq!(h.overall_7d, Some(97.5));
    assert_eq!(h.microsoft_7d, Some(0.0), "a measured zero");
    assert_eq!(h.other_7d, None, "no data is not zero");
    assert_eq!(h.reply_rate_7d, Some(12.0));
    assert_eq!(h.warmup_email_sent_today, Some(14));
    let fresh = d
        .mailboxes()
        .find(|m| m.email == "tim.keen@lifeacme2.org")
        .unwrap();
    assert_eq!(
        fresh.health.unwrap().overall_7d,
        None,
        "a new account has no data"
    );
    // It serialises for hosts (Python, JSON APIs): "no data" is null.
    let json = serde_json::to_value(&d).unwrap();
    assert!(json["domains"][0]["mailboxes"][0]["health"]["other_7d"].is_null());

    // HeyReach down: the rest is there, the list is named missing.
    world
        .sims
        .heyreach
        .faults()
        .inject(ANY_ROUTE, Fault::Status(503), 1000);
    let d = engine.dashboard(id).await.unwrap();
    assert!(!d.is_complete());
    assert_eq!(d.missing.len(), 1);
    assert_eq!(d.missing[0].part, DashboardPart::HeyreachList);
    assert!(
        d.missing[0].reason.contains("503")
            || d.missing[0].reason.to_lowercase().contains("heyreach"),
        "{}",
        d.missing[0].reason
    );
    assert!(d.heyreach_list.is_none());
    assert_eq!(d.mailboxes().filter(|m| m.health.is_some()).count(), 6);
    world.sims.heyreach.faults().clear();

    // PlusVibe down: domains and mailboxes still listed, health unknown.
    world
        .sims
        .plusvibe
        .faults()
        .inject(pv::LIST_ACCOUNTS, Fault::Status(503), 1000);
    let d = engine.dashboard(id).await.unwrap();
    assert_eq!(d.missing.len(), 1);
    assert_eq!(d.missing[0].part, DashboardPart::PlusvibeWarmup);
    assert_eq!(d.mailboxes().count(), 6);
    assert!(
        d.mailboxes()
            .all(|m| m.in_plusvibe.is_none() && m.health.is_none())
    );
    assert!(d.heyreach_list.is_some());
    world.sims.plusvibe.faults().clear();

    // The summary for the email, as data.
    let s = Summary::from_snapshot(&engine.status(id).await.unwrap());
    assert_eq!(s.to, EMAIL);
    assert_eq!(s.plusvibe_login_email.as_deref(), Some(EMAIL));
    assert_eq!(s.mailboxes.len(), 6);
    assert!(
        s.heyreach_list_url
            .as_deref()
            .unwrap()
            .ends_with(&list.id.to_string())
    );
    assert!(s.subject.contains("ready"));
    assert!(s.next_steps.len() >= 3);
    assert!(s.text().contains(EMAIL));
}

// ------------------------------------------------------------------------ webhooks --

/// What the test's receiver saw: (signature header, delivery id, body).
type Seen = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;

/// A receiver that verifies the HMAC itself and answers 500 to the first `fail_first`
/// requests.
async fn receiver(secret: &'static str, fail_first: usize) -> (MockServer, Seen) {
    let server = MockServer::start().await;
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let count = Arc::new(Mutex::new(0usize));
    Mock::given(matchers::method("POST"))
        .and(matchers::path("/hooks/gtm"))
        .respond_with(move |req: &Request| {
            let header = req
                .headers
                .get("x-gtm-signature")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let delivery = req
                .headers
                .get("x-gtm-delivery")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            s.lock()
                .unwrap()
                .push((header.clone(), delivery, req.body.clone()));
            // The receiver's own check: HMAC-SHA256 over "<t>.<body>".
            let (t, v1) = header
                .split_once(',')
                .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
                .unwrap_or(("", ""));
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(format!("{t}.").as_bytes());
            mac.update(&req.body);
            let ok = hex::decode(v1).is_ok_and(|sig| mac.verify_slice(&sig).is_ok());
            if !ok {
                return ResponseTemplate::new(400);
            }
            let mut n = count.lock().unwrap();
            *n += 1;
            if *n <= fail_first {
                ResponseTemplate::new(500)
            } else {
                ResponseTemplate::new(200)
            }
        })
        .mount(&server)
        .await;
    (server, seen)
}

#[tokio::test]
async fn the_webhook_sink_posts_signed_completions_and_failures_and_retries() {
    const SECRET: &str = "whsec_test_secret";
    // The receiver fails the first two attempts: the first event is delivered on the third.
    let (server, seen) = receiver(SECRET, 2).await;
    let url = format!("{}/hooks/gtm", server.uri());
    let sink = WebhookSink::with_config(&url, SECRET, WebhookConfig::fast()).unwrap();
    assert!(!format!("{sink:?}").contains(SECRET));

    let world = World::new().await;
    let engine = world.engine("w", vec![Arc::new(sink.clone())]).await;
    let id = active_starter(&engine).await;
    engine
        .invoice_payment_failed(id, InvoicePaymentFailed::new("in_7"))
        .await
        .unwrap();
    sink.flush().await;

    let stats = sink.stats();
    assert_eq!(stats.delivered, 2, "{stats:?}");
    assert_eq!(stats.failed, 0);
    assert_eq!(stats.retries, 2);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4, "2 failed attempts + 2 deliveries");
    // Retries carry the same delivery id and body, signed afresh.
    assert_eq!(seen[0].1, seen[2].1);
    assert_eq!(seen[0].2, seen[2].2);
    assert_ne!(seen[2].1, seen[3].1);
    let payloads: Vec<WebhookPayload> = seen[2..]
        .iter()
        .map(|(_, _, body)| serde_json::from_slice(body).unwrap())
        .collect();
    assert_eq!(payloads[0].kind, "run.completed");
    assert_eq!(payloads[0].event.provision_id, id);
    assert_eq!(payloads[0].event.provision_status, ProvisionStatus::Active);
    assert_eq!(payloads[1].kind, "invoice.payment_failed");
    // The library's verifier agrees with the receiver, and refuses tampering and replays.
    let now = chrono::Utc::now().timestamp();
    let (header, _, body) = &seen[3];
    let tol = Duration::from_secs(300);
    webhook::verify(SECRET.as_bytes(), header, body, now, tol).unwrap();
    assert!(webhook::verify(b"other", header, body, now, tol).is_err());
    assert!(webhook::verify(SECRET.as_bytes(), header, b"{}", now, tol).is_err());
    assert!(webhook::verify(SECRET.as_bytes(), header, body, now + 3600, tol).is_err());
}

#[tokio::test]
async fn the_webhook_sink_reports_run_failures_and_gives_up_after_bounded_attempts() {
    const SECRET: &str = "whsec_other";
    let (server, seen) = receiver(SECRET, usize::MAX).await;
    let url = format!("{}/hooks/gtm", server.uri());
    let config = WebhookConfig {
        max_attempts: 3,
        ..WebhookConfig::fast()
    };
    let sink = WebhookSink::with_config(&url, SECRET, config).unwrap();
    let world = World::new().await;
    let engine = world.engine("w", vec![Arc::new(sink.clone())]).await;
    // A permanent failure: the wallet cannot pay for the domains.
    world
        .sims
        .zapmail
        .set_wallet_balance(zapmail::Decimal::ZERO);
    let id = create(&engine).await;
    engine.checkout_completed(id, checkout()).await.unwrap();
    let snap = finish(&engine, id).await;
    assert_eq!(snap.status, ProvisionStatus::Failed);
    sink.flush().await;
    let stats = sink.stats();
    assert_eq!(
        (stats.delivered, stats.failed, stats.retries),
        (0, 1, 2),
        "{stats:?}"
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "bounded attempts");
    let p: WebhookPayload = serde_json::from_slice(&seen[0].2).unwrap();
    assert_eq!(p.kind, "run.failed");
    assert_eq!(p.event.name, "Purchasing domains");
    assert!(
        p.event.error.as_deref().unwrap().contains("wallet"),
        "{:?}",
        p.event.error
    );

    // Bad settings are refused up front.
    assert!(WebhookSink::new("not a url", "s").is_err());
    assert!(WebhookSink::new("ftp://x.example/h", "s").is_err());
    assert!(WebhookSink::new(&url, "").is_err());
}

#[tokio::test]
async fn a_failed_upgrade_is_retried_from_its_failed_step() {
    let world = World::new().await;
    let engine = world.engine("w", vec![]).await;
    let id = active_starter(&engine).await;
    let before = engine.state(id).await.unwrap();
    let z = &world.sims.zapmail;
    let balance = z.wallet_balance();
    z.set_wallet_balance(zapmail::Decimal::ZERO);

    engine.upgrade(id, "growth", &GROWTH_EXTRA).await.unwrap();
    let snap = finish(&engine, id).await;
    assert_eq!(snap.status, ProvisionStatus::Failed);
    assert_eq!(
        snap.tier, "starter",
        "the tier changes only when the upgrade completes"
    );
    let err = snap.error.unwrap();
    assert!(
        err.contains("Purchasing additional domains failed"),
        "{err}"
    );
    assert!(err.contains("wallet"), "{err}");
    // The same upgrade asked again changes nothing; another one, or a cancellation of a
    // run in progress, is not possible until this one is resolved.
    assert!(
        !engine
            .subscription_updated(id, Some("sub_1"), "growth", &GROWTH_EXTRA)
            .await
            .unwrap()
            .applied
    );
    let e = engine.upgrade(id, "scale", &["s1.com"]).await.unwrap_err();
    assert!(e.to_string().contains("another upgrade"), "{e}");

    z.set_wallet_balance(balance);
    let retried = engine.retry(id).await.unwrap();
    assert_eq!(retried.status, ProvisionStatus::Upgrading);
    finish(&engine, id).await;
    // The refused purchase (wallet too low) and the one after the retry.
    check_upgrade(&world, &engine, id, &before, 2).await;
}

#[tokio::test]
async fn a_cancellation_survives_a_crash_in_its_teardown() {
    let world = World::new().await;
    let setup = world.engine("setup", vec![]).await;
    let id = active_starter(&setup).await;
    drop(setup);

    // Engine A dies once PlusVibe applied "warmup INACTIVE" and before it heard back.
    let sims = world.sims.clone();
    let arm: Arc<dyn ProgressSink> = Arc::new(FnSink(move |e: &ProgressEvent| {
        if e.name == "Stopping warmup"
            && e.status == StepStatus::InProgress
            && e.message.is_none()
            && e.error.is_none()
        {
            sims.plusvibe.faults().inject(
                pv::BULK_UPDATE_WARMUP,
                Fault::ApplyThen(AfterApply::Timeout),
                1,
            );
        }
    }));
    let a = world.engine("worker-a", vec![arm]).await;
    a.cancel(id).await.unwrap();
    let task: JoinHandle<_> = tokio::spawn(async move { a.run(id).await });
    let start = std::time::Instant::now();
    let j = world.sims.plusvibe.journal();
    while j.count_where(|e| e.route == pv::BULK_UPDATE_WARMUP && e.fault.is_some() && e.applied)
        == 0
    {
        assert!(!task.is_finished(), "engine A ended before the fault hit");
        assert!(start.elapsed() < BOUND, "the fault never hit");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());

    let b = world.engine("worker-b", vec![]).await;
    let snap = finish(&b, id).await;
    assert_eq!(snap.status, ProvisionStatus::Cancelled);
    assert_eq!(
        snap.run,
        Some((RunKind::Cancel, provisioning::RunStatus::Succeeded))
    );
    // Engine B saw warmup already off and did not send it again; the removal went once.
    let inactive: Vec<_> = world
        .sims
        .plusvibe
        .state()
        .warmup_updates()
        .into_iter()
        .filter(|u| u.warmup_status == "INACTIVE")
        .collect();
    assert_eq!(inactive.len(), 1, "{inactive:?}");
    let accounts = world
        .sims
        .plusvibe
        .state()
        .accounts(&plusvibe::WorkspaceId::from(
            snap.plusvibe_workspace_id.clone().unwrap(),
        ));
    assert_eq!(accounts.len(), 6);
    assert!(accounts.iter().all(|a| a.warmup_status == "INACTIVE"));
    assert_eq!(
        world.sims.zapmail.journal().applied(zm::SCHEDULED_REMOVAL),
        1
    );
    assert!(
        world
            .sims
            .zapmail
            .mailboxes()
            .iter()
            .all(|m| m.scheduled_removal)
    );
}
