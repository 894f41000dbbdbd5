//! Faults, failures and fallbacks against the three simulators (issue 3).
//!
//! - Every route the pipeline uses (listed below and checked against a clean run) gets
//!   bursts of 5xx, timeouts, dropped connections, malformed bodies, lost answers after
//!   applying, 429s and (Zapmail) errors inside HTTP 200; a seeded chaos run hits all
//!   three vendors at once. Each provision must end `active` with every vendor object
//!   created exactly once (one applied purchase per domain, two mailboxes per domain, one
//!   workspace, client login and lead list, every account in PlusVibe with warmup on).
//! - Eight provisions on one agency key run concurrently against the vendors' documented
//!   limits without a single enforced 429.
//! - Permanent errors (a short wallet, a vendor refusal) stop the run in `failed` with the
//!   step and the vendor's words; an operator retry finishes it without repeating
//!   completed steps. A refused PIPL registration takes the partner-upload fallback. Bad
//!   input is refused before anything is stored.
//!
//! A purchase, mailbox creation or export whose answer is lost (5xx, timeout, dropped
//! connection) may or may not have happened. By default the engine keeps observing until
//! the poll deadline and then hands the decision to the operator (`crash_matrix.rs` shows
//! that). These tests turn on `EngineConfig::lost_answer_grace`, with which the worker
//! that lost the answer sends the call again once the vendor has shown no trace of it for
//! the grace period; that is what lets a 5xx burst on `POST /v2/domains/buy` be survived
//! while the journals still show one applied purchase per domain.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use provisioning::Store;
use provisioning::sim::{Simulators, SimulatorsConfig};
use provisioning::store::SqliteStore;
use provisioning::{
    Engine, EngineConfig, EngineError, NewProvision, Payment, ProvisionId, ProvisionStatus,
    Snapshot, StepStatus,
};
use vendor_http::sim::{AfterApply, Chaos, Fault};

/// Client timeout in these tests: injected timeouts cost this much each.
const CLIENT_TIMEOUT: Duration = Duration::from_millis(400);
/// How long a simulated timeout holds its answer (longer than the client waits).
const HANG: Duration = Duration::from_secs(1);

struct Rig {
    sims: Simulators,
    engine: Engine,
    store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
}

/// The vendors' documented limits, enforced by the simulators and followed by the clients.
fn documented_limits() -> SimulatorsConfig {
    let mut c = SimulatorsConfig::default();
    c.zapmail.hang = HANG;
    c.plusvibe.hang = HANG;
    c.heyreach.hang = HANG;
    // Exported accounts take a little while to reach PlusVibe, so the export status is
    // asked (and its faults served) while the engine waits.
    c.zapmail.export_import_delay = Duration::from_millis(300);
    c
}

/// The documented limits sped up tenfold (same shape): fault runs make many calls, and
/// the clients space them evenly (Zapmail's 200/min alone means one call per 300 ms).
fn sims_config() -> SimulatorsConfig {
    let mut c = documented_limits();
    c.zapmail.limits = Some(zapmail::default_limits().scaled(10.0));
    c.plusvibe.limits = Some(plusvibe::default_limits().scaled(10.0));
    c.heyreach.limits = Some(heyreach::default_limits().scaled(10.0));
    c
}

async fn rig_with(config: SimulatorsConfig, tweak: impl FnOnce(&mut EngineConfig)) -> Rig {
    let sims = Simulators::start_with(config).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("gtm.db").display());
    let store = Arc::new(SqliteStore::open(&url).await.unwrap());
    let mut config = sims.engine_config();
    config.lost_answer_grace = Some(GRACE);
    tweak(&mut config);
    let engine = Engine::builder()
        .clients(
            sims.zapmail
                .client_builder()
                .timeout(CLIENT_TIMEOUT)
                .build()
                .unwrap(),
            sims.plusvibe
                .client_builder()
                .timeout(CLIENT_TIMEOUT)
                .build()
                .unwrap(),
            sims.heyreach
                .client_builder()
                .timeout(CLIENT_TIMEOUT)
                .build()
                .unwrap(),
        )
        .store(store.clone())
        .secret_key(provisioning::SecretKey::generate())
        .config(config)
        .build()
        .await
        .unwrap();
    Rig {
        sims,
        engine,
        store,
        _dir: dir,
    }
}

/// Lost answers to creations that left no trace are sent again after this (opt-in engine
/// setting; off by default, see `EngineConfig::lost_answer_grace`).
const GRACE: Duration = Duration::from_millis(600);

async fn rig() -> Rig {
    rig_with(sims_config(), |_| {}).await
}

fn domains_for(prefix: &str, n: usize) -> Vec<String> {
    let tlds = ["com", "net", "org", "biz", "info", "live"];
    (0..n)
        .map(|i| format!("{prefix}{i}.{}", tlds[i % tlds.len()]))
        .collect()
}

/// A paid Starter provision for `prefix` (3 domains).
async fn paid_starter(engine: &Engine, prefix: &str) -> (ProvisionId, Vec<String>) {
    let names = domains_for(prefix, 3);
    let id = engine
        .create_provision(
            NewProvision::new("Tim Keen", format!("tim@{prefix}.example"), "starter")
                .domains(names.clone())
                .patterns("tim", "tim.keen"),
        )
        .await
        .unwrap();
    engine.mark_paid(id, Payment::default()).await.unwrap();
    (id, names)
}

// ----- the routes the pipeline uses (checked by `the_route_lists_cover_the_pipeline`)

mod zr {
    pub use zapmail::mock::routes::*;
}
mod pr {
    pub use plusvibe::mock::routes::*;
}
mod hr {
    pub use heyreach::mock::routes::*;
}

const ZAPMAIL_ROUTES: [&str; 11] = [
    zr::LIST_WORKSPACES,
    zr::CREATE_WORKSPACE,
    zr::BUY,
    zr::LIST_DOMAINS,
    zr::DMARC,
    zr::LIST_MAILBOXES,
    zr::CREATE_MAILBOXES,
    zr::LIST_ACCOUNTS,
    zr::ADD_ACCOUNT,
    zr::EXPORT,
    zr::EXPORT_STATUS,
];
const PLUSVIBE_ROUTES: [&str; 7] = [
    pr::AUTHENTICATE,
    pr::CREATE_WORKSPACE,
    pr::LIST_CLIENTS,
    pr::CREATE_CLIENT,
    pr::LIST_ACCOUNTS,
    pr::BULK_UPDATE,
    pr::BULK_UPDATE_WARMUP,
];
const HEYREACH_ROUTES: [&str; 2] = [hr::GET_LISTS, hr::CREATE_LIST];

fn routes_used(j: &vendor_http::sim::Journal) -> BTreeSet<String> {
    j.entries().into_iter().map(|e| e.route).collect()
}

fn set(routes: &[&str]) -> BTreeSet<String> {
    routes.iter().map(|r| r.to_string()).collect()
}

/// Inject `burst` on every route of every simulator (`zapmail_only` faults go to Zapmail
/// alone).
fn inject_everywhere(sims: &Simulators, burst: &[Fault]) {
    for f in burst {
        for r in ZAPMAIL_ROUTES {
            sims.zapmail.faults().inject(r, f.clone(), 1);
        }
        for r in PLUSVIBE_ROUTES {
            sims.plusvibe.faults().inject(r, f.clone(), 1);
        }
        for r in HEYREACH_ROUTES {
            sims.heyreach.faults().inject(r, f.clone(), 1);
        }
    }
}

/// Routes of `j` among `routes` that never answered with an injected fault.
fn routes_without_faults(j: &vendor_http::sim::Journal, routes: &[&str]) -> Vec<String> {
    routes
        .iter()
        .filter(|r| j.count_where(|e| e.route == **r && e.fault.is_some()) == 0)
        .map(|r| r.to_string())
        .collect()
}

fn short_id(id: ProvisionId) -> String {
    id.to_string().chars().take(8).collect()
}

/// The provision is `active`, and every vendor object exists exactly once: one workspace
/// create applied, one purchase per domain, two mailboxes per domain, one PlusVibe
/// workspace and client login, one lead list, every account in PlusVibe with warmup on.
fn assert_active_exactly_once(sims: &Simulators, snap: &Snapshot, names: &[String]) {
    assert_eq!(
        snap.status,
        ProvisionStatus::Active,
        "{:?}\n{:#?}",
        snap.error,
        snap.provisioning_log
    );
    let short = short_id(snap.id);
    let z = &sims.zapmail;
    let applied_ws = z.journal().count_where(|e| {
        e.route == zr::CREATE_WORKSPACE && e.applied && e.body.to_string().contains(&short)
    });
    assert_eq!(applied_ws, 1, "Zapmail workspace creations applied");
    assert_eq!(
        z.workspaces()
            .iter()
            .filter(|w| w.name.contains(&short))
            .count(),
        1
    );
    for n in names {
        assert_eq!(z.domains_bought(n), 1, "purchases of {n}");
        assert_eq!(z.mailboxes_created_for(n), 2, "mailboxes of {n}");
    }
    let pv = &sims.plusvibe;
    assert_eq!(
        pv.workspaces_created()
            .iter()
            .filter(|w| w.name.contains(&short))
            .count(),
        1,
        "PlusVibe workspaces"
    );
    let email = &snap.customer.email;
    assert_eq!(
        pv.clients().iter().filter(|c| &c.email == email).count(),
        1,
        "PlusVibe client logins"
    );
    let lists: Vec<_> = sims
        .heyreach
        .lists()
        .into_iter()
        .filter(|l| l.name.contains(&short))
        .collect();
    assert_eq!(lists.len(), 1, "HeyReach lists");
    assert_eq!(snap.heyreach_list_id, Some(lists[0].id.0));

    let ws = snap.plusvibe_workspace_id.clone().unwrap();
    let accounts = pv.accounts(&ws.as_str().into());
    let emails: BTreeSet<String> = accounts.iter().map(|a| a.email.clone()).collect();
    assert_eq!(accounts.len(), names.len() * 2, "accounts in PlusVibe");
    assert_eq!(emails.len(), accounts.len(), "duplicate accounts");
    assert!(
        accounts.iter().all(|a| a.warmup_status == "ACTIVE"),
        "warmup not on everywhere"
    );
    for m in snap.mailboxes() {
        assert!(m.zapmail_mailbox_id.is_some(), "{}", m.email);
        assert!(m.plusvibe_account_id.is_some(), "{}", m.email);
        assert!(emails.contains(&m.email), "{} not in PlusVibe", m.email);
    }
}

/// One Starter provision with `burst` injected on every route before it runs. Every route
/// must have answered with a fault at least once, except those in `unreached` (the export
/// status, which is never asked when the export's own answer was lost).
async fn survives_everywhere(prefix: &str, burst: &[Fault], unreached: &[&str]) -> Rig {
    let r = rig().await;
    let (id, names) = paid_starter(&r.engine, prefix).await;
    inject_everywhere(&r.sims, burst);
    let snap = r.engine.run(id).await.unwrap();
    assert_active_exactly_once(&r.sims, &snap, &names);
    let mut missed = routes_without_faults(r.sims.zapmail.journal(), &ZAPMAIL_ROUTES);
    missed.retain(|m| !unreached.contains(&m.as_str()));
    assert_eq!(missed, Vec::<String>::new());
    assert_eq!(
        routes_without_faults(r.sims.plusvibe.journal(), &PLUSVIBE_ROUTES),
        Vec::<String>::new()
    );
    assert_eq!(
        routes_without_faults(r.sims.heyreach.journal(), &HEYREACH_ROUTES),
        Vec::<String>::new()
    );
    r
}

// ----- the tests

#[tokio::test]
async fn the_route_lists_cover_the_pipeline() {
    let r = rig().await;
    let (id, names) = paid_starter(&r.engine, "baseline").await;
    let snap = r.engine.run(id).await.unwrap();
    assert_active_exactly_once(&r.sims, &snap, &names);
    assert_eq!(routes_used(r.sims.zapmail.journal()), set(&ZAPMAIL_ROUTES));
    assert_eq!(
        routes_used(r.sims.plusvibe.journal()),
        set(&PLUSVIBE_ROUTES)
    );
    assert_eq!(
        routes_used(r.sims.heyreach.journal()),
        set(&HEYREACH_ROUTES)
    );
}

#[tokio::test]
async fn server_error_bursts_on_every_route_are_survived() {
    survives_everywhere(
        "fivexx",
        &[Fault::Status(500), Fault::Status(502), Fault::Status(503)],
        &[],
    )
    .await;
}

#[tokio::test]
async fn timeouts_on_every_route_are_survived() {
    survives_everywhere("timeouts", &[Fault::Timeout, Fault::Timeout], &[]).await;
}

#[tokio::test]
async fn dropped_connections_on_every_route_are_survived() {
    survives_everywhere("drops", &[Fault::Drop, Fault::Drop], &[]).await;
}

#[tokio::test]
async fn malformed_bodies_on_every_route_are_survived() {
    // A malformed answer to a create means "applied, answer unreadable": the engine must
    // find what was created, never create it again.
    let r = survives_everywhere(
        "malformed",
        &[Fault::Malformed, Fault::Malformed],
        &[zr::EXPORT_STATUS],
    )
    .await;
    // The purchase went through on the first (unreadable) answer and was never re-sent.
    assert_eq!(r.sims.zapmail.journal().applied(zr::BUY), 1);
    assert_eq!(r.sims.zapmail.journal().applied(zr::CREATE_MAILBOXES), 1);
}

#[tokio::test]
async fn lost_answers_after_applying_are_reconciled_without_repeats() {
    let r = survives_everywhere(
        "applythen",
        &[
            Fault::ApplyThen(AfterApply::Status(500)),
            Fault::ApplyThen(AfterApply::Drop),
            Fault::ApplyThen(AfterApply::Timeout),
        ],
        &[zr::EXPORT_STATUS],
    )
    .await;
    assert_eq!(r.sims.zapmail.journal().applied(zr::BUY), 1);
    assert_eq!(r.sims.zapmail.journal().applied(zr::CREATE_MAILBOXES), 1);
}

#[tokio::test]
async fn rate_limit_storms_on_every_route_are_survived() {
    let r = rig().await;
    let (id, names) = paid_starter(&r.engine, "storm").await;
    let limited = Fault::RateLimited {
        retry_after_secs: 1,
    };
    inject_everywhere(&r.sims, std::slice::from_ref(&limited));
    // A storm on the purchase: three 429s in a row.
    r.sims.zapmail.faults().inject(zr::BUY, limited, 2);
    let snap = r.engine.run(id).await.unwrap();
    assert_active_exactly_once(&r.sims, &snap, &names);
    assert_eq!(r.sims.zapmail.faults().pending(), 0);
    assert_eq!(r.sims.plusvibe.faults().pending(), 0);
    assert_eq!(r.sims.heyreach.faults().pending(), 0);
    // Only the injected 429s: the clients never ran into the enforced limits.
    assert_eq!(r.sims.zapmail.journal().rate_limited(), 0);
    assert_eq!(r.sims.plusvibe.journal().rate_limited(), 0);
    assert_eq!(r.sims.heyreach.journal().rate_limited(), 0);
}

#[tokio::test]
async fn zapmail_errors_inside_http_200_are_survived() {
    let r = rig().await;
    let (id, names) = paid_starter(&r.engine, "errin200").await;
    for route in ZAPMAIL_ROUTES {
        r.sims
            .zapmail
            .faults()
            .inject(route, Fault::ErrorIn200(500), 2);
    }
    let snap = r.engine.run(id).await.unwrap();
    assert_active_exactly_once(&r.sims, &snap, &names);
    assert_eq!(
        routes_without_faults(r.sims.zapmail.journal(), &ZAPMAIL_ROUTES),
        Vec::<String>::new()
    );
}

fn chaos(faults: Vec<Fault>) -> Option<Chaos> {
    Some(Chaos {
        probability: 0.1,
        faults,
        exempt_routes: vec![],
    })
}

/// 10% of every route of the three vendors fail with a mix of every fault kind (Zapmail
/// also with errors inside HTTP 200), seeded `seed`, `seed + 1`, `seed + 2`.
fn mixed_chaos(sims: &Simulators, seed: u64) {
    let mixed = vec![
        Fault::Status(500),
        Fault::Status(502),
        Fault::Status(503),
        Fault::Timeout,
        Fault::Drop,
        Fault::Malformed,
        Fault::RateLimited {
            retry_after_secs: 1,
        },
        Fault::ApplyThen(AfterApply::Status(500)),
        Fault::ApplyThen(AfterApply::Drop),
    ];
    let mut zapmail_mixed = mixed.clone();
    zapmail_mixed.push(Fault::ErrorIn200(500));
    sims.zapmail.faults().set_chaos(chaos(zapmail_mixed), seed);
    sims.plusvibe
        .faults()
        .set_chaos(chaos(mixed.clone()), seed + 1);
    sims.heyreach.faults().set_chaos(chaos(mixed), seed + 2);
}

#[tokio::test]
async fn chaos_on_all_three_vendors_still_ends_active_without_duplicates() {
    let r = rig().await;
    mixed_chaos(&r.sims, 11);

    let mut runs = Vec::new();
    for i in 0..3 {
        let (id, names) = paid_starter(&r.engine, &format!("chaos{i}x")).await;
        let engine = r.engine.clone();
        runs.push((tokio::spawn(async move { engine.run(id).await }), names));
    }
    for (run, names) in runs {
        let snap = run.await.unwrap().unwrap();
        assert_active_exactly_once(&r.sims, &snap, &names);
    }
    let injected = r.sims.zapmail.faults().injected()
        + r.sims.plusvibe.faults().injected()
        + r.sims.heyreach.faults().injected();
    assert!(injected > 5, "chaos injected only {injected} faults");
}

#[tokio::test]
async fn concurrent_provisions_on_one_key_never_hit_the_vendor_limits() {
    // The simulators enforce the vendors' documented limits.
    let r = rig_with(documented_limits(), |_| {}).await;
    let mut runs = Vec::new();
    for i in 0..8 {
        let (id, names) = paid_starter(&r.engine, &format!("many{i}x")).await;
        let engine = r.engine.clone();
        runs.push((tokio::spawn(async move { engine.run(id).await }), names));
    }
    for (run, names) in runs {
        let snap = run.await.unwrap().unwrap();
        assert_active_exactly_once(&r.sims, &snap, &names);
    }
    assert_eq!(r.sims.zapmail.journal().rate_limited(), 0);
    assert_eq!(r.sims.plusvibe.journal().rate_limited(), 0);
    assert_eq!(r.sims.heyreach.journal().rate_limited(), 0);
    assert_eq!(r.sims.heyreach.lists_created(), 8);
}

// ----- permanent errors, retries, the fallback, bad input

fn log_entry(snap: &Snapshot, step: u32) -> &provisioning::ProvisioningStep {
    snap.provisioning_log
        .iter()
        .find(|e| e.step == step)
        .unwrap_or_else(|| panic!("no log entry for step {step}"))
}

#[tokio::test]
async fn insufficient_wallet_balance_fails_step_2_and_a_retry_after_top_up_finishes() {
    let mut config = sims_config();
    config.zapmail.wallet_balance = zapmail::Decimal::from(10);
    let r = rig_with(config, |_| {}).await;
    let (id, names) = paid_starter(&r.engine, "wallet").await;

    let snap = r.engine.run(id).await.unwrap();
    assert_eq!(snap.status, ProvisionStatus::Failed);
    assert_eq!(log_entry(&snap, 1).status, StepStatus::Completed);
    let failed = log_entry(&snap, 2);
    assert_eq!(failed.status, StepStatus::Failed);
    let err = failed.error.clone().unwrap_or_default();
    assert!(
        err.starts_with("Purchasing domains failed")
            && err.contains("wallet")
            && err.contains("invoice"),
        "{err}"
    );
    assert_eq!(snap.error.as_deref(), Some(err.as_str()));
    assert!(
        snap.provisioning_log
            .iter()
            .filter(|e| e.step > 2)
            .all(|e| e.status == StepStatus::Pending)
    );
    // Nothing was bought; the purchase was asked once.
    let z = &r.sims.zapmail;
    for n in &names {
        assert_eq!(z.domains_bought(n), 0, "{n}");
        assert_eq!(z.purchase_calls_for(n), 1, "{n}");
    }
    assert_eq!(z.wallet_balance(), zapmail::Decimal::from(10));

    // The operator tops up the wallet and retries: the run resumes at step 2.
    z.set_wallet_balance(zapmail::Decimal::from(500));
    let retried = r.engine.retry(id).await.unwrap();
    assert_eq!(retried.status, ProvisionStatus::Provisioning);
    assert_eq!(retried.error, None);
    let snap = r.engine.run(id).await.unwrap();
    assert_active_exactly_once(&r.sims, &snap, &names);
    assert_eq!(
        z.journal().count(zr::CREATE_WORKSPACE),
        1,
        "step 1 repeated"
    );
    for n in &names {
        assert_eq!(z.purchase_calls_for(n), 2, "{n}");
    }
    assert!(
        snap.provisioning_log
            .iter()
            .all(|e| e.status == StepStatus::Completed)
    );
}

#[tokio::test]
async fn a_username_zapmail_would_refuse_is_refused_before_anything_is_stored() {
    // Our validation is Zapmail's (`zapmail::validate::validate_mailbox_username`, which
    // the simulator applies too), so a bad username never reaches the vendor.
    let r = rig().await;
    for bad in ["tim..keen", ".tim", "tim-", "tim keen", "tïm"] {
        let e = r
            .engine
            .create_provision(
                NewProvision::new("Tim Keen", "tim@acme.example", "starter")
                    .domains(domains_for("baduser", 3))
                    .patterns(bad, "tim"),
            )
            .await
            .unwrap_err();
        match e {
            EngineError::Invalid(msg) => assert!(msg.contains("mailbox pattern 1"), "{bad}: {msg}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert!(r.store.list_provisions().await.unwrap().is_empty());
    assert_eq!(r.sims.zapmail.journal().len(), 0);
}

#[tokio::test]
async fn a_vendor_refusal_mid_run_fails_step_5_and_a_retry_does_not_repeat_steps_1_to_4() {
    let r = rig().await;
    let (id, names) = paid_starter(&r.engine, "refused").await;
    r.sims
        .zapmail
        .faults()
        .inject(zr::CREATE_MAILBOXES, Fault::Status(422), 1);

    let snap = r.engine.run(id).await.unwrap();
    assert_eq!(snap.status, ProvisionStatus::Failed);
    for step in 1..=4 {
        assert_eq!(
            log_entry(&snap, step).status,
            StepStatus::Completed,
            "{step}"
        );
    }
    let failed = log_entry(&snap, 5);
    assert_eq!(failed.status, StepStatus::Failed);
    let err = failed.error.clone().unwrap_or_default();
    assert!(
        err.starts_with("Creating mailboxes failed")
            && err.contains("422")
            && err.contains("Simulated vendor failure"),
        "{err}"
    );
    let z = &r.sims.zapmail;
    let before: Vec<usize> = [zr::CREATE_WORKSPACE, zr::BUY, zr::DMARC]
        .iter()
        .map(|r| z.journal().count(r))
        .collect();
    assert_eq!(before, vec![1, 1, 1]);
    for n in &names {
        assert_eq!(z.mailboxes_created_for(n), 0, "{n}");
    }

    r.engine.retry(id).await.unwrap();
    let snap = r.engine.run(id).await.unwrap();
    assert_active_exactly_once(&r.sims, &snap, &names);
    let after: Vec<usize> = [zr::CREATE_WORKSPACE, zr::BUY, zr::DMARC]
        .iter()
        .map(|r| z.journal().count(r))
        .collect();
    assert_eq!(after, before, "steps 1-4 were repeated");
    assert_eq!(z.journal().applied(zr::CREATE_MAILBOXES), 1);
}

#[tokio::test]
async fn a_failed_pipl_registration_falls_back_to_the_partner_upload() {
    let r = rig().await;
    let (id, names) = paid_starter(&r.engine, "fallback").await;
    // Zapmail refuses the PlusVibe login for good.
    r.sims
        .zapmail
        .faults()
        .inject(zr::ADD_ACCOUNT, Fault::Status(400), 1);

    let snap = r.engine.run(id).await.unwrap();
    assert_active_exactly_once(&r.sims, &snap, &names);
    let pv = &r.sims.plusvibe;
    assert_eq!(pv.journal().applied(pr::PARTNER_UPLOAD), 1);
    let uploads = pv.partner_uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].emails.len(), 6);
    assert_eq!(
        uploads[0].provider_id.as_deref(),
        Some(plusvibe::mock::TEST_PROVIDER_ID)
    );
    assert_eq!(r.sims.zapmail.exports_started(), 0);
    assert_eq!(r.sims.zapmail.journal().applied(zr::ADD_ACCOUNT), 0);
    let ws = snap.plusvibe_workspace_id.clone().unwrap();
    for a in pv.accounts(&ws.as_str().into()) {
        assert_eq!(
            a.source,
            plusvibe::mock::AccountSource::PartnerUpload,
            "{}",
            a.email
        );
        assert_eq!(a.warmup_status, "ACTIVE", "{}", a.email);
    }
    assert_eq!(log_entry(&snap, 7).status, StepStatus::Completed);
}

#[tokio::test]
async fn bad_input_is_refused_clearly_and_nothing_is_stored() {
    let r = rig().await;
    let good = || {
        NewProvision::new("Tim Keen", "tim@acme.example", "starter")
            .domains(domains_for("input", 3))
            .patterns("tim", "tim.keen")
    };
    let cases: Vec<(&str, NewProvision, &str)> = vec![
        (
            "too few domains",
            good().domains(domains_for("input", 2)),
            "exactly 3 domains",
        ),
        (
            "too many domains",
            good().domains(domains_for("input", 4)),
            "exactly 3 domains",
        ),
        (
            "duplicate domains",
            good().domains(["dup.com", "DUP.com", "other.net"]),
            "listed twice",
        ),
        (
            "unsupported TLD",
            good().domains(["acme.io", "acme.com", "acme.net"]),
            "acme.io",
        ),
        (
            "bad pattern",
            good().patterns("tim..keen", "tim"),
            "mailbox pattern 1",
        ),
        (
            "identical patterns",
            good().patterns("tim", " TIM "),
            "the same",
        ),
        (
            "unknown tier",
            NewProvision::new("Tim Keen", "tim@acme.example", "platinum")
                .domains(domains_for("input", 3))
                .patterns("tim", "tim.keen"),
            "unknown tier",
        ),
        (
            "empty name",
            NewProvision::new("   ", "tim@acme.example", "starter")
                .domains(domains_for("input", 3))
                .patterns("tim", "tim.keen"),
            "name is empty",
        ),
        (
            "bad email",
            NewProvision::new("Tim Keen", "tim.acme.example", "starter")
                .domains(domains_for("input", 3))
                .patterns("tim", "tim.keen"),
            "not a valid email",
        ),
    ];
    for (what, req, needle) in cases {
        match r.engine.create_provision(req).await {
            Err(EngineError::Invalid(msg)) => {
                assert!(msg.contains(needle), "{what}: {msg:?} lacks {needle:?}")
            }
            other => panic!("{what}: expected Invalid, got {other:?}"),
        }
    }
    assert!(r.store.list_provisions().await.unwrap().is_empty());
    assert!(r.sims.zapmail.journal().is_empty());

    // Paying twice changes nothing; retrying an active provision is refused.
    let id = r.engine.create_provision(good()).await.unwrap();
    let first = r.engine.mark_paid(id, Payment::default()).await.unwrap();
    let run_id = r.engine.state(id).await.unwrap().run.unwrap().id;
    let second = r.engine.mark_paid(id, Payment::default()).await.unwrap();
    assert_eq!(first.status, ProvisionStatus::Provisioning);
    assert_eq!(second.status, ProvisionStatus::Provisioning);
    assert_eq!(r.engine.state(id).await.unwrap().run.unwrap().id, run_id);
    let snap = r.engine.run(id).await.unwrap();
    assert_eq!(snap.status, ProvisionStatus::Active, "{:?}", snap.error);
    let again = r.engine.mark_paid(id, Payment::default()).await.unwrap();
    assert_eq!(again.status, ProvisionStatus::Active);
    assert_eq!(r.engine.state(id).await.unwrap().run.unwrap().id, run_id);
    match r.engine.retry(id).await {
        Err(EngineError::WrongState { status, .. }) => assert_eq!(status, ProvisionStatus::Active),
        other => panic!("retry of an active provision: {other:?}"),
    }
    assert_eq!(r.store.list_provisions().await.unwrap().len(), 1);
    assert_eq!(r.sims.zapmail.journal().count(zr::CREATE_WORKSPACE), 1);
}

// ----- the reliability suite's chaos run (issue 8)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_customers_through_ten_percent_mixed_faults_on_every_route_all_end_active() {
    // Faster quotas (same shape) so fifty provisions fit well under a minute.
    let mut config = documented_limits();
    config.zapmail.limits = Some(zapmail::default_limits().scaled(40.0));
    config.plusvibe.limits = Some(plusvibe::default_limits().scaled(40.0));
    config.heyreach.limits = Some(heyreach::default_limits().scaled(40.0));
    config.zapmail.wallet_balance = zapmail::Decimal::from(100_000);
    let r = rig_with(config, |c| c.concurrency = 50).await;
    mixed_chaos(&r.sims, 81);
    // And 429 bursts: three in a row on the routes that spend or create.
    let burst = Fault::RateLimited {
        retry_after_secs: 1,
    };
    for route in [zr::BUY, zr::CREATE_MAILBOXES, zr::EXPORT] {
        r.sims.zapmail.faults().inject(route, burst.clone(), 3);
    }
    r.sims
        .plusvibe
        .faults()
        .inject(pr::CREATE_CLIENT, burst.clone(), 3);
    r.sims.heyreach.faults().inject(hr::CREATE_LIST, burst, 3);

    let mut runs = Vec::new();
    for i in 0..50 {
        let (id, names) = paid_starter(&r.engine, &format!("fleet{i}x")).await;
        let engine = r.engine.clone();
        runs.push((tokio::spawn(async move { engine.run(id).await }), names));
    }
    for (run, names) in runs {
        let snap = run.await.unwrap().unwrap();
        assert_active_exactly_once(&r.sims, &snap, &names);
    }
    assert_eq!(r.sims.duplicates().found, Vec::<String>::new());
    // Every vendor was hit, on many routes.
    for (vendor, journal, routes) in [
        ("zapmail", r.sims.zapmail.journal(), &ZAPMAIL_ROUTES[..]),
        ("plusvibe", r.sims.plusvibe.journal(), &PLUSVIBE_ROUTES[..]),
        ("heyreach", r.sims.heyreach.journal(), &HEYREACH_ROUTES[..]),
    ] {
        let faulted = routes.len() - routes_without_faults(journal, routes).len();
        assert!(
            faulted * 2 >= routes.len(),
            "{vendor}: faults on {faulted} routes only"
        );
    }
    let injected = r.sims.zapmail.faults().injected()
        + r.sims.plusvibe.faults().injected()
        + r.sims.heyreach.faults().injected();
    assert!(injected >= 100, "chaos injected only {injected} faults");
}
