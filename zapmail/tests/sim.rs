//! The Zapmail client against the simulator: the provisioning path end to end, money
//! never spent twice, retries, rate limits, state transitions, validation, auth, faults and
//! journal queries.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use vendor_http::Request;
use vendor_http::sim::{AfterApply, ExportedMailbox, Fault, MailboxImporter};
use zapmail::domains::{AvailabilitySearch, BuyDomainsRequest, DmarcRequest, DomainFilter};
use zapmail::exports::{ExportRequest, ThirdPartyAccountRequest};
use zapmail::mailboxes::{
    CreateMailboxesRequest, MailboxUpdate, ScheduledRemovalRequest, UpdateMailboxesRequest,
};
use zapmail::mock::{Transition, ZapmailSim, ZapmailSimConfig, routes};
use zapmail::workspaces::{BillingDetails, CreateWorkspaceRequest};
use zapmail::{
    Client, Decimal, DomainStatus, Error, ErrorKind, ExportApp, ExportState, ExposeSecret, Limit,
    LimitSet, MailboxStatus, PurchaseOutcome, RateLimits, RetryConfig, WorkspaceId,
};

const PIPL_LOGIN: &str = "client@acme.plusvibe.test";
const PIPL_PASSWORD: &str = "pv-client-password-1";

/// A stand-in for the PlusVibe simulator: accepts one login, records imports.
#[derive(Default)]
struct FakeImporter {
    refuse_imports: AtomicBool,
    imports: Mutex<Vec<(String, Vec<ExportedMailbox>, Duration)>>,
}

impl MailboxImporter for FakeImporter {
    fn verify_login(&self, email: &str, password: &str) -> bool {
        email == PIPL_LOGIN && password == PIPL_PASSWORD
    }
    fn import_mailboxes(
        &self,
        login_email: &str,
        login_password: &str,
        mailboxes: Vec<ExportedMailbox>,
        delay: Duration,
    ) -> Result<usize, String> {
        if self.refuse_imports.load(Ordering::SeqCst)
            || !self.verify_login(login_email, login_password)
        {
            return Err("PlusVibe refused the login".into());
        }
        let n = mailboxes.len();
        self.imports
            .lock()
            .unwrap()
            .push((login_email.to_string(), mailboxes, delay));
        Ok(n)
    }
}

fn billing() -> BillingDetails {
    BillingDetails {
        first_name: "Tim".into(),
        last_name: "Keen".into(),
        address_line_one: "1 Main St".into(),
        city: "Austin".into(),
        country: "US".into(),
        postal_code: Some("73301".into()),
        ..Default::default()
    }
}

/// The documented limits, 20 times faster, so tests making many calls stay quick.
fn cfg() -> ZapmailSimConfig {
    ZapmailSimConfig {
        limits: Some(zapmail::default_limits().scaled(20.0)),
        ..Default::default()
    }
}

fn polls(n: u32) -> ZapmailSimConfig {
    ZapmailSimConfig {
        domain_activation: Transition::polls(n),
        mailbox_activation: Transition::polls(n),
        export_completion: Transition::polls(n),
        ..cfg()
    }
}

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

#[tokio::test]
async fn the_provisioning_path_end_to_end() {
    let sim = ZapmailSim::start_with(cfg()).await;
    let importer = Arc::new(FakeImporter::default());
    sim.link_exporter("PIPL", importer.clone());
    let client = sim.client();
    let name = "Acme's Infrastructure";

    // Observe, then create the workspace.
    assert!(
        client
            .workspaces()
            .find_by_name(name)
            .await
            .unwrap()
            .is_none()
    );
    let ws = client
        .workspaces()
        .create(&CreateWorkspaceRequest::named(name))
        .await
        .unwrap();
    assert_eq!(ws.name, name);
    assert_eq!(sim.workspaces_created(), 1);
    let found = client
        .workspaces()
        .find_by_name(name)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, ws.id);
    let c = client.in_workspace(&ws.id);
    c.billing().add(&billing()).await.unwrap();

    // Availability, then buy with the wallet.
    let names = ["acmeoutreach.com", "tryacme.net", "getacme.info"];
    let check = c.domains().check_availability(&names).await.unwrap();
    assert_eq!(check.available, Some(3));
    assert!(check.domains.iter().all(|d| d.is_available()));
    let expected_total = check.total_price_of_available();
    assert_eq!(expected_total, "31.97".parse::<Decimal>().unwrap());
    let before = sim.wallet_balance();
    let outcome = c
        .domains()
        .buy(&BuyDomainsRequest::with_wallet(names))
        .await
        .unwrap();
    assert!(outcome.is_purchased(), "{outcome:?}");
    assert_eq!(sim.wallet_balance(), before - expected_total);

    // Poll the domain list by name until every domain is ACTIVE.
    let mut domains = Default::default();
    for _ in 0..50 {
        domains = c.domains().find_by_names(&names).await.unwrap();
        if domains.len() == 3 && domains.values().all(|d| d.is_active()) {
            break;
        }
        sleep_ms(20).await;
    }
    assert_eq!(domains.len(), 3);
    assert!(domains.values().all(|d| d.is_active()));
    assert!(
        domains
            .values()
            .all(|d| d.workspace_id.as_ref() == Some(&ws.id))
    );
    // Not visible in the primary workspace.
    assert!(
        client
            .domains()
            .find_by_name("acmeoutreach.com")
            .await
            .unwrap()
            .is_none()
    );

    // DMARC for all domains in one call.
    c.domains()
        .add_dmarc(&DmarcRequest::for_domains(
            domains.values().map(|d| d.id.clone()),
            "dmarc@acme.com",
        ))
        .await
        .unwrap();
    assert_eq!(sim.journal().count(routes::DMARC), 1);
    assert!(
        sim.domains()
            .iter()
            .filter(|d| d.workspace_id == ws.id)
            .all(|d| d.dmarc_email.as_deref() == Some("dmarc@acme.com"))
    );

    // Two mailboxes per domain in ONE request keyed by domain id.
    let mut req = CreateMailboxesRequest::new();
    for d in domains.values() {
        req = req.add(d.id.clone(), &d.domain, "tim", "Tim", "Keen").add(
            d.id.clone(),
            &d.domain,
            "tim.keen",
            "Tim",
            "Keen",
        );
    }
    let ack = c.mailboxes().create(&req).await.unwrap();
    assert_eq!(ack.status, Some(202));
    assert_eq!(sim.journal().count(routes::CREATE_MAILBOXES), 1);
    for n in names {
        assert_eq!(sim.mailboxes_created_for(n), 2);
    }

    // List, find by address, wait for ACTIVE.
    let mut listing = c.mailboxes().list_all(None).await.unwrap();
    for _ in 0..50 {
        if listing.mailboxes().count() == 6 && listing.mailboxes().all(|m| m.is_active()) {
            break;
        }
        sleep_ms(20).await;
        listing = c.mailboxes().list_all(None).await.unwrap();
    }
    assert!(listing.mailboxes().all(|m| m.is_active()));
    let tim = listing.find("tim", "acmeoutreach.com").unwrap();
    assert_eq!(tim.email, "tim@acmeoutreach.com");
    assert!(tim.password.is_some());

    // Register the PlusVibe login, export, poll the export.
    c.exports()
        .register_account(&ThirdPartyAccountRequest::new(
            ExportApp::Pipl,
            PIPL_LOGIN,
            PIPL_PASSWORD,
        ))
        .await
        .unwrap();
    let account = c
        .exports()
        .find_account(&ExportApp::Pipl, PIPL_LOGIN)
        .await
        .unwrap()
        .unwrap();
    let ids: Vec<_> = listing.mailboxes().map(|m| m.id.clone()).collect();
    let started = c
        .exports()
        .export_mailboxes(&ExportRequest::new(ExportApp::Pipl, ids).account(account.id.clone()))
        .await
        .unwrap();
    let mut status = c.exports().status(&started.export_id).await.unwrap();
    for _ in 0..50 {
        if status.status.is_terminal() {
            break;
        }
        sleep_ms(20).await;
        status = c.exports().status(&started.export_id).await.unwrap();
    }
    assert_eq!(status.status, ExportState::Completed, "{status:?}");

    // The importer got the six mailboxes with the registered login and the delay.
    let imports = importer.imports.lock().unwrap();
    assert_eq!(imports.len(), 1);
    assert_eq!(imports[0].0, PIPL_LOGIN);
    assert_eq!(imports[0].1.len(), 6);
    assert_eq!(imports[0].2, sim.state().config().export_import_delay);
    let exported = imports[0]
        .1
        .iter()
        .find(|m| m.email == "tim@acmeoutreach.com")
        .unwrap();
    assert_eq!(
        exported.password,
        tim.password.as_ref().unwrap().expose_secret()
    );
    for n in names {
        assert_eq!(sim.purchase_calls_for(n), 1);
        assert_eq!(sim.domains_bought(n), 1);
    }
}

#[tokio::test]
async fn a_short_wallet_gets_an_invoice_and_buys_nothing() {
    let sim = ZapmailSim::start_with(cfg()).await;
    sim.set_wallet_balance(Decimal::new(1000, 2)); // $10.00 < $12.99
    let c = sim.client();
    let outcome = c
        .domains()
        .buy(&BuyDomainsRequest::with_wallet(["acmeoutreach.com"]))
        .await
        .unwrap();
    match &outcome {
        PurchaseOutcome::InvoiceDue {
            invoice_link,
            message,
        } => {
            assert!(invoice_link.starts_with("https://"));
            assert!(message.as_deref().unwrap().contains("Insufficient"));
        }
        other => panic!("expected an invoice, got {other:?}"),
    }
    assert!(!outcome.is_purchased());
    assert!(outcome.payment_url().is_some());
    assert!(sim.domains().is_empty());
    assert_eq!(sim.wallet_balance(), Decimal::new(1000, 2));
    assert_eq!(sim.purchase_calls_for("acmeoutreach.com"), 1);
    assert_eq!(sim.domains_bought("acmeoutreach.com"), 0);
    assert!(
        c.domains()
            .find_by_name("acmeoutreach.com")
            .await
            .unwrap()
            .is_none()
    );

    // Paying without the wallet gives a payment link and nothing either.
    let mut req = BuyDomainsRequest::with_wallet(["acmeoutreach.com"]);
    req.use_wallet = false;
    let outcome = c.domains().buy(&req).await.unwrap();
    assert!(
        matches!(outcome, PurchaseOutcome::PaymentLink { .. }),
        "{outcome:?}"
    );
    assert!(sim.domains().is_empty());

    // Topping up makes the same purchase go through.
    sim.set_wallet_balance(Decimal::from(100));
    let outcome = c
        .domains()
        .buy(&BuyDomainsRequest::with_wallet(["acmeoutreach.com"]))
        .await
        .unwrap();
    assert!(outcome.is_purchased());
    assert_eq!(sim.wallet_balance(), "87.01".parse::<Decimal>().unwrap());
    assert_eq!(sim.domains_bought("acmeoutreach.com"), 1);
}

#[tokio::test]
async fn tld_prices_are_configurable_and_taken_names_are_refunded() {
    let sim = ZapmailSim::start_with(cfg()).await;
    sim.set_tld_price("com", zapmail::mock::TldPrice::cents(1000, 1500));
    sim.mark_taken(["google.com"]);
    let c = sim.client();
    let check = c
        .domains()
        .check_availability(&["fresh.com", "google.com"])
        .await
        .unwrap();
    assert_eq!(
        check.get("fresh.com").unwrap().domain_price,
        Some(Decimal::from(10))
    );
    let taken = check.get("google.com").unwrap();
    assert!(!taken.is_available());
    assert_eq!(taken.domain_price, Some(Decimal::ZERO));
    // /buy does not check the registry: the taken name is charged, then refunded, and
    // never appears.
    let before = sim.wallet_balance();
    let outcome = c
        .domains()
        .buy(&BuyDomainsRequest::with_wallet(["fresh.com", "google.com"]))
        .await
        .unwrap();
    assert!(outcome.is_purchased());
    assert_eq!(sim.wallet_balance(), before - Decimal::from(10));
    assert!(sim.domain("google.com").is_none());
    assert_eq!(sim.domains_bought("google.com"), 0);
    assert_eq!(sim.domains_bought("fresh.com"), 1);
    // Buying a name the account already has is refused and charges nothing.
    let e = c
        .domains()
        .buy(&BuyDomainsRequest::with_wallet(["fresh.com"]))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(sim.domains_bought("fresh.com"), 1);
}

#[tokio::test]
async fn a_purchase_is_sent_once_when_the_answer_is_lost() {
    for after in [AfterApply::Status(502), AfterApply::Drop] {
        let sim = ZapmailSim::start_with(cfg()).await;
        let c = sim.client();
        sim.faults().inject(routes::BUY, Fault::ApplyThen(after), 1);
        let before = sim.wallet_balance();
        let err = c
            .domains()
            .buy(&BuyDomainsRequest::with_wallet(["acmeoutreach.com"]))
            .await
            .unwrap_err();
        assert!(err.may_have_taken_effect(), "{after:?}: {err}");
        assert_eq!(sim.journal().count(routes::BUY), 1, "{after:?}");
        assert_eq!(sim.purchase_calls_for("acmeoutreach.com"), 1);
        assert_eq!(sim.domains_bought("acmeoutreach.com"), 1);
        assert_eq!(sim.domains().len(), 1);
        assert_eq!(sim.wallet_balance(), before - Decimal::new(1299, 2));
        // Reconcile by reading: the domain is there.
        assert!(
            c.domains()
                .find_by_name("acmeoutreach.com")
                .await
                .unwrap()
                .is_some()
        );
    }
}

#[tokio::test]
async fn mailbox_and_workspace_creation_are_sent_once_when_the_answer_is_lost() {
    let sim = ZapmailSim::start_with(cfg()).await;
    let c = sim.client();
    let d = sim.seed_domain("acme.com", None, DomainStatus::Active);
    for (i, after) in [AfterApply::Status(502), AfterApply::Drop]
        .into_iter()
        .enumerate()
    {
        sim.faults()
            .inject(routes::CREATE_MAILBOXES, Fault::ApplyThen(after), 1);
        let user = format!("tim{i}");
        let err = c
            .mailboxes()
            .create(&CreateMailboxesRequest::new().add(d.clone(), "acme.com", &user, "Tim", "Keen"))
            .await
            .unwrap_err();
        assert!(err.may_have_taken_effect(), "{err}");
        assert_eq!(sim.journal().count(routes::CREATE_MAILBOXES), i + 1);
        assert_eq!(sim.mailboxes_created_for("acme.com"), i + 1);
    }
    assert_eq!(sim.mailboxes().len(), 2);

    sim.faults().inject(
        routes::CREATE_WORKSPACE,
        Fault::ApplyThen(AfterApply::Status(500)),
        1,
    );
    let err = c
        .workspaces()
        .create(&CreateWorkspaceRequest::named("Acme's Infrastructure"))
        .await
        .unwrap_err();
    assert!(err.may_have_taken_effect());
    assert_eq!(sim.journal().count(routes::CREATE_WORKSPACE), 1);
    assert_eq!(sim.workspaces_created(), 1);
    assert!(
        c.workspaces()
            .find_by_name("Acme's Infrastructure")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn idempotent_reads_are_retried_through_faults() {
    let sim = ZapmailSim::start_with(ZapmailSimConfig {
        hang: Duration::from_secs(3),
        ..cfg()
    })
    .await;
    sim.seed_domain("acme.com", None, DomainStatus::Active);
    let c = sim
        .client_builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    for fault in [
        Fault::Status(500),
        Fault::Status(503),
        Fault::Timeout,
        Fault::Drop,
        Fault::Malformed,
    ] {
        sim.faults().inject(routes::LIST_DOMAINS, fault.clone(), 1);
        let all = c.domains().list_all(None).await.unwrap();
        assert_eq!(all.len(), 1, "{fault:?}");
    }
    assert_eq!(sim.faults().pending(), 0);
    // Reads sent as POST are retried too.
    sim.faults()
        .inject(routes::AVAILABLE_BULK, Fault::Status(502), 2);
    sim.faults().inject(routes::FILTER_DOMAINS, Fault::Drop, 1);
    c.domains().check_availability(&["x.com"]).await.unwrap();
    c.domains()
        .list_filtered(&DomainFilter::default())
        .await
        .unwrap();
    assert_eq!(sim.journal().count(routes::AVAILABLE_BULK), 3);
    assert_eq!(sim.journal().count(routes::FILTER_DOMAINS), 2);
    // A 4xx is not retried.
    sim.faults()
        .inject(routes::WALLET_BALANCE, Fault::Status(400), 1);
    assert_eq!(c.wallet().balance().await.unwrap_err().status(), Some(400));
    assert_eq!(sim.journal().count(routes::WALLET_BALANCE), 1);
}

#[tokio::test]
async fn the_simulators_429_is_honoured_and_the_call_succeeds_after() {
    let sim = ZapmailSim::start_with(ZapmailSimConfig {
        limits: Some(RateLimits::new(LimitSet::new([Limit::per_second(10)]))),
        ..cfg()
    })
    .await;
    let c = sim
        .client_builder()
        .rate_limits(RateLimits::unlimited())
        .build()
        .unwrap();
    for _ in 0..12 {
        c.users().me().await.unwrap();
    }
    assert!(sim.journal().rate_limited() >= 1);
    assert_eq!(sim.journal().count_where(|e| e.status == 200), 12);
    let limited = sim.journal().for_route(routes::USERS);
    assert!(limited.iter().any(|e| e.rate_limited && e.status == 429));
    // The sim's own client keeps under the limit without any 429.
    let polite = sim.client();
    sim.journal().clear();
    sleep_ms(1100).await;
    for _ in 0..4 {
        polite.users().me().await.unwrap();
    }
    assert_eq!(sim.journal().rate_limited(), 0);
}

#[tokio::test]
async fn the_availability_bucket_is_separate_and_enforced() {
    let limits = RateLimits::unlimited().with_bucket(
        zapmail::AVAILABILITY_BUCKET,
        LimitSet::new([Limit::new(2, Duration::from_secs(1800))]),
    );
    let sim = ZapmailSim::start_with(ZapmailSimConfig {
        limits: Some(limits),
        ..cfg()
    })
    .await;
    let c = sim
        .client_builder()
        .rate_limits(RateLimits::unlimited())
        .build()
        .unwrap();
    c.domains().check_availability(&["a.com"]).await.unwrap();
    c.domains()
        .search_available(&AvailabilitySearch {
            domain_name: "acme".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // Third query in 30 minutes: 429 with a Retry-After above the client's cap.
    let e = c
        .domains()
        .check_availability(&["b.com"])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
    assert!(e.retry_after().unwrap() > Duration::from_secs(1700));
    assert_eq!(sim.availability_queries(), 3);
    // Other endpoints are not in that bucket (a fresh client: the 429 above closed this
    // client's shared gate for everything on the key, up to the retry cap).
    let other = sim
        .client_builder()
        .rate_limits(RateLimits::unlimited())
        .build()
        .unwrap();
    other.domains().list(&Default::default()).await.unwrap();
}

#[tokio::test]
async fn domains_activate_after_n_polls_or_after_a_delay() {
    let sim = ZapmailSim::start_with(polls(2)).await;
    let c = sim.client();
    c.domains()
        .buy(&BuyDomainsRequest::with_wallet(["acme.com"]))
        .await
        .unwrap();
    let status = || async {
        c.domains()
            .find_by_name("acme.com")
            .await
            .unwrap()
            .unwrap()
            .status
            .unwrap()
    };
    assert_eq!(status().await, DomainStatus::Pending);
    assert_eq!(status().await, DomainStatus::Pending);
    // Two polls showed it pending: it is due now (inspection does not count as a poll).
    assert_eq!(sim.domain("acme.com").unwrap().status, DomainStatus::Active);
    assert_eq!(status().await, DomainStatus::Active);

    let sim = ZapmailSim::start_with(ZapmailSimConfig {
        domain_activation: Transition::time(Duration::from_millis(60)),
        ..cfg()
    })
    .await;
    let c = sim.client();
    c.domains()
        .buy(&BuyDomainsRequest::with_wallet(["acme.com"]))
        .await
        .unwrap();
    let mut seen_pending = false;
    let mut active = false;
    for _ in 0..100 {
        let d = c.domains().find_by_name("acme.com").await.unwrap().unwrap();
        match d.status.unwrap() {
            DomainStatus::Pending => seen_pending = true,
            DomainStatus::Active => {
                active = true;
                break;
            }
            other => panic!("{other}"),
        }
        sleep_ms(10).await;
    }
    assert!(seen_pending && active);

    // Never: stuck in PENDING however often it is read.
    let sim = ZapmailSim::start_with(ZapmailSimConfig {
        domain_activation: Transition::never(),
        ..cfg()
    })
    .await;
    let c = sim.client();
    c.domains()
        .buy(&BuyDomainsRequest::with_wallet(["acme.com"]))
        .await
        .unwrap();
    for _ in 0..5 {
        let d = c.domains().find_by_name("acme.com").await.unwrap().unwrap();
        assert_eq!(d.status, Some(DomainStatus::Pending));
    }
    sim.complete_transitions();
    assert!(
        c.domains()
            .find_by_name("acme.com")
            .await
            .unwrap()
            .unwrap()
            .is_active()
    );
}

#[tokio::test]
async fn availability_answers_like_the_vendor() {
    let sim = ZapmailSim::start_with(cfg()).await;
    sim.seed_domain("owned.com", None, DomainStatus::Active);
    let c = sim.client();
    let r = c
        .domains()
        .check_availability(&[
            "free.com",
            "owned.com",
            "acme.io",
            "bad_name.com",
            "Free.NET",
        ])
        .await
        .unwrap();
    assert_eq!(r.total, Some(5));
    assert_eq!(r.available, Some(2));
    let io = r.get("acme.io").unwrap();
    assert_eq!(io.status, Some(zapmail::AvailabilityStatus::Unavailable));
    assert_eq!(io.domain_price, None); // "NaN"
    assert!(!r.get("bad_name.com").unwrap().is_available());
    assert_eq!(
        r.get("owned.com").unwrap().domain_price,
        Some(Decimal::ZERO)
    );
    assert!(r.get("free.net").unwrap().is_available());

    // More than 20 names: refused locally, nothing sent.
    let many: Vec<String> = (0..21).map(|i| format!("name{i}.com")).collect();
    let before = sim.journal().len();
    let e = c.domains().check_availability(&many).await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }));
    assert!(e.to_string().contains("at most 20"), "{e}");
    assert_eq!(sim.journal().len(), before);
    // The simulator refuses them too, as the vendor does.
    let raw = c
        .core()
        .send::<Value>(
            Request::post("/v2/domains/available-bulk")
                .json(&json!({"domainNames": many}))
                .idempotent(),
        )
        .await
        .unwrap_err();
    assert_eq!(raw.status(), Some(400));
    // domainNames as a string (the doc bug) is refused.
    let raw = c
        .core()
        .send::<Value>(
            Request::post("/v2/domains/available-bulk")
                .json(&json!({"domainNames": "a.com"}))
                .idempotent(),
        )
        .await
        .unwrap_err();
    assert_eq!(raw.kind(), ErrorKind::Validation);

    // The single-name search is a suggestion engine.
    let s = c
        .domains()
        .search_available(&AvailabilitySearch {
            domain_name: "acmeoutreach.com".into(),
            tlds: vec!["com".into(), "net".into()],
            years: Some(1),
        })
        .await
        .unwrap();
    assert!(!s.available_domains.is_empty());
    assert!(s.available_domains.len() <= 50);
    assert!(s.available_domains.iter().all(|d| d.is_available()));
    assert_eq!(s.exact_match.unwrap().domain_name, "acmeoutreach.com");
}

#[tokio::test]
async fn mailbox_cap_validation_and_transitions() {
    let sim = ZapmailSim::start_with(polls(1)).await;
    let c = sim.client();
    let d = sim.seed_domain("acme.com", None, DomainStatus::Active);
    for u in ["a", "b", "c", "d"] {
        sim.seed_mailbox("acme.com", u, MailboxStatus::Active);
    }
    // 4 + 2 > 5: the whole request is refused, nothing created.
    let req = CreateMailboxesRequest::new()
        .add(d.clone(), "acme.com", "tim", "Tim", "Keen")
        .add(d.clone(), "acme.com", "tom", "Tom", "Keen");
    let e = c.mailboxes().create(&req).await.unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("at most 5 mailboxes"), "{e}");
    assert!(!e.may_have_taken_effect());
    assert_eq!(sim.mailboxes().len(), 4);
    assert_eq!(sim.mailboxes_created_for("acme.com"), 0);

    // Local username validation: no request sent.
    let sent = sim.journal().len();
    let e = c
        .mailboxes()
        .create(&CreateMailboxesRequest::new().add(d.clone(), "acme.com", "tim..k", "T", "K"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }));
    assert!(e.to_string().contains("consecutive"), "{e}");
    assert_eq!(sim.journal().len(), sent);
    // The simulator enforces the same rule (raw request, bypassing the client's check).
    let raw = c
        .core()
        .send::<Value>(Request::post("/v2/mailboxes").json(&json!({
            d.as_str(): [{"firstName": "T", "lastName": "K", "mailboxUsername": "_tim", "domainName": "acme.com"}]
        })))
        .await
        .unwrap_err();
    assert_eq!(raw.status(), Some(400));
    assert!(raw.to_string().contains("must not start with '_'"), "{raw}");
    // A body not keyed by domain id.
    let raw = c
        .core()
        .send::<Value>(Request::post("/v2/mailboxes").json(&json!([{"mailboxUsername": "x"}])))
        .await
        .unwrap_err();
    assert_eq!(raw.status(), Some(400));

    // One free slot left: create it; IN_PROGRESS, then ACTIVE after one poll.
    c.mailboxes()
        .create(&CreateMailboxesRequest::new().add(d.clone(), "acme.com", "tim", "Tim", "Keen"))
        .await
        .unwrap();
    let first = c.mailboxes().list_all(None).await.unwrap();
    assert_eq!(
        first.find("tim", "acme.com").unwrap().status,
        Some(MailboxStatus::InProgress)
    );
    let second = c.mailboxes().list_all(None).await.unwrap();
    let tim = second.find("tim", "acme.com").unwrap();
    assert!(tim.is_active());
    let one = c.mailboxes().get(&tim.id).await.unwrap();
    assert_eq!(one.email, "tim@acme.com");

    // Domain not active yet → refused.
    let pending = sim.seed_domain("later.com", None, DomainStatus::Pending);
    let e = c
        .mailboxes()
        .create(&CreateMailboxesRequest::new().add(pending, "later.com", "tim", "T", "K"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not active"), "{e}");
}

#[tokio::test]
async fn failed_mailboxes_and_secrets_in_listings() {
    let sim = ZapmailSim::start_with(polls(0)).await;
    sim.fail_mailboxes(["bad@acme.com"]);
    let c = sim.client();
    let d = sim.seed_domain("acme.com", None, DomainStatus::Active);
    c.mailboxes()
        .create(
            &CreateMailboxesRequest::new()
                .add(d.clone(), "acme.com", "good", "G", "K")
                .add(d, "acme.com", "bad", "B", "K"),
        )
        .await
        .unwrap();
    let listing = c.mailboxes().list_all(None).await.unwrap();
    assert_eq!(
        listing.find_by_email("BAD@acme.com").unwrap().status,
        Some(MailboxStatus::Failed)
    );
    let good = listing.find_by_email("good@acme.com").unwrap();
    assert!(good.is_active());
    let password = good.password.as_ref().unwrap().expose_secret().to_string();
    let totp = good.secret.as_ref().unwrap().expose_secret().to_string();
    assert!(!password.is_empty() && !totp.is_empty());
    let debug = format!("{listing:?}");
    assert!(!debug.contains(&password), "{debug}");
    assert!(!debug.contains(&totp));
    assert!(debug.contains("REDACTED"));
    let admin = listing.domains[0].admin_details.as_ref().unwrap();
    let admin_pw = admin
        .new_password
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_string();
    assert!(!format!("{admin:?}").contains(&admin_pw));
    // The domain list nests mailbox rows; their credentials are dropped on decode.
    let dom = c.domains().find_by_name("acme.com").await.unwrap().unwrap();
    assert_eq!(dom.assigned_mailboxes_count, Some(2));
    assert_eq!(dom.mailboxes.len(), 2);
    assert!(!format!("{dom:?}").contains(&password));
}

#[tokio::test]
async fn get_mailbox_reports_404_inside_http_200() {
    let sim = ZapmailSim::start().await;
    // By default the simulator enforces the documented limits, and its client uses them.
    assert_eq!(sim.limits().limits(), zapmail::default_limits());
    let c = sim.client();
    let e = c.mailboxes().get(&"nope".into()).await.unwrap_err();
    let api = e.api().unwrap();
    assert_eq!(api.status, 404);
    assert_eq!(api.http_status, 200);
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.to_string().contains("Mailbox not found"), "{e}");
    assert!(e.to_string().contains("inside HTTP 200"), "{e}");
    assert_eq!(sim.journal().count(routes::GET_MAILBOX), 1, "not retried");
}

#[tokio::test]
async fn auth_and_workspace_errors() {
    let sim = ZapmailSim::start_with(cfg()).await;
    let wrong = Client::builder()
        .api_key("not-a-key")
        .base_url(sim.base_url())
        .retry(RetryConfig::fast())
        .build()
        .unwrap();
    let e = wrong.users().me().await.unwrap_err();
    assert_eq!(e.status(), Some(401));
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(!e.to_string().contains("not-a-key"));

    // No key at all.
    let http = vendor_http::reqwest::Client::new();
    let resp = http
        .get(format!("{}/v2/users", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], 401);
    assert!(body["errorId"].is_string());

    let c = sim.client();
    let unknown = c.in_workspace(&WorkspaceId::from("no-such-ws"));
    let e = unknown
        .domains()
        .list(&Default::default())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404));
    assert!(e.to_string().contains("Workspace not found"));

    // Another account's workspace → 403.
    let other_ws = sim.add_api_key("second-key");
    let e = c
        .domains()
        .in_workspace(&other_ws)
        .list(&Default::default())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(403));
    assert!(e.to_string().contains("owner or admin"), "{e}");

    // Unknown route and wrong method.
    let e = c
        .core()
        .send::<Value>(Request::get("/v2/nope"))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404));
    let e = c
        .core()
        .send::<Value>(Request::delete("/v2/users"))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(405));
}

#[tokio::test]
async fn workspaces_names_are_unique_and_billing_is_required() {
    let sim = ZapmailSim::start_with(cfg()).await;
    let c = sim.client();
    let ws = c
        .workspaces()
        .create(&CreateWorkspaceRequest::named("Acme's Infrastructure"))
        .await
        .unwrap();
    let e = c
        .workspaces()
        .create(&CreateWorkspaceRequest::named("Acme's Infrastructure"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("already exists"));
    assert_eq!(sim.workspaces_created(), 1);

    let list = c.workspaces().list(&Default::default()).await.unwrap();
    assert_eq!(
        list.current_workspace.as_ref().unwrap().name,
        "My Workspace"
    );
    assert_eq!(list.workspaces.len(), 1);
    assert_eq!(list.all().count(), 2);
    assert_eq!(list.pagination.next_page, Some(2)); // the never-null quirk

    let scoped = c.in_workspace(&ws.id);
    let e = scoped
        .domains()
        .buy(&BuyDomainsRequest::with_wallet(["acme.com"]))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("billing details"), "{e}");
    let e = scoped.billing().update(&billing()).await.unwrap_err();
    assert_eq!(e.status(), Some(404));
    scoped.billing().add(&billing()).await.unwrap();
    scoped.billing().update(&billing()).await.unwrap();
    assert!(
        scoped
            .domains()
            .buy(&BuyDomainsRequest::with_wallet(["acme.com"]))
            .await
            .unwrap()
            .is_purchased()
    );
    assert_eq!(sim.domain("acme.com").unwrap().workspace_id, ws.id);
    assert!(sim.workspaces().iter().all(|w| w.has_billing_details));

    // Billing by workspaceId in the body, from the primary client.
    let other = sim.seed_workspace("Other", false);
    let mut b = billing();
    b.workspace_id = Some(other.clone());
    c.billing().add(&b).await.unwrap();
    assert!(
        sim.workspaces()
            .iter()
            .find(|w| w.id == other)
            .unwrap()
            .has_billing_details
    );
}

#[tokio::test]
async fn exports_only_take_active_mailboxes_and_fail_when_refused() {
    let sim = ZapmailSim::start_with(polls(0)).await;
    let importer = Arc::new(FakeImporter::default());
    sim.link_exporter("PIPL", importer.clone());
    let c = sim.client();
    let ws = c.in_workspace(&sim.primary_workspace());
    sim.seed_domain("acme.com", None, DomainStatus::Active);
    let active = sim.seed_mailbox("acme.com", "a", MailboxStatus::Active);
    let failed = sim.seed_mailbox("acme.com", "f", MailboxStatus::Failed);

    // Bad credentials: 400, nothing stored.
    let e = ws
        .exports()
        .register_account(&ThirdPartyAccountRequest::new(
            ExportApp::Pipl,
            PIPL_LOGIN,
            "wrong-password",
        ))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert!(!e.to_string().contains("wrong-password"));
    assert!(sim.third_party_accounts().is_empty());

    // Export without an account.
    let e = ws
        .exports()
        .export_mailboxes(&ExportRequest::new(ExportApp::Pipl, [active.clone()]))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("No PIPL account"), "{e}");

    let login = ThirdPartyAccountRequest::new(ExportApp::Pipl, PIPL_LOGIN, PIPL_PASSWORD);
    ws.exports().register_account(&login).await.unwrap();
    // Registering the same login again updates it (no duplicate).
    ws.exports().register_account(&login).await.unwrap();
    assert_eq!(
        ws.exports()
            .list_accounts(&ExportApp::Pipl)
            .await
            .unwrap()
            .len(),
        1
    );

    // Only ACTIVE mailboxes are exported.
    let started = ws
        .exports()
        .export_mailboxes(&ExportRequest::new(
            ExportApp::Pipl,
            [active.clone(), failed.clone()],
        ))
        .await
        .unwrap();
    let st = ws.exports().status(&started.export_id).await.unwrap();
    assert_eq!(st.status, ExportState::Completed);
    assert_eq!(sim.exports()[0].emails, vec!["a@acme.com".to_string()]);
    // Nothing exportable → 400.
    let e = ws
        .exports()
        .export_mailboxes(&ExportRequest::new(ExportApp::Pipl, [failed]))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("No active mailboxes"), "{e}");

    // The importer refuses: the export ends FAILED with a reason.
    importer.refuse_imports.store(true, Ordering::SeqCst);
    let started = ws
        .exports()
        .export_mailboxes(&ExportRequest::new(ExportApp::Pipl, [active.clone()]))
        .await
        .unwrap();
    let st = ws.exports().status(&started.export_id).await.unwrap();
    assert_eq!(st.status, ExportState::Failed);
    assert!(st.failure_reason.unwrap().contains("refused"));

    // Export status needs x-workspace-key.
    let e = c.exports().status(&started.export_id).await.unwrap_err();
    assert_eq!(e.status(), Some(400));
    let e = ws.exports().status(&"999999".into()).await.unwrap_err();
    assert_eq!(e.status(), Some(404));

    // Two accounts for the app → the account id is required.
    importer.refuse_imports.store(false, Ordering::SeqCst);
    let mut second = ThirdPartyAccountRequest::new(ExportApp::Smartlead, "ops@acme.com", "x");
    ws.exports().register_account(&second).await.unwrap();
    second.email = "ops2@acme.com".into();
    ws.exports().register_account(&second).await.unwrap();
    let e = ws
        .exports()
        .export_mailboxes(&ExportRequest::new(ExportApp::Smartlead, [active.clone()]))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("thirdPartyAccountId"), "{e}");
    let acct = ws
        .exports()
        .find_account(&ExportApp::Smartlead, "OPS2@acme.com")
        .await
        .unwrap()
        .unwrap();
    ws.exports()
        .export_mailboxes(
            &ExportRequest::new(ExportApp::Smartlead, [active.clone()]).account(acct.id),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn the_re_export_cap_applies_per_mailbox_and_app() {
    let sim = ZapmailSim::start_with(ZapmailSimConfig {
        export_cap_per_week: Some(2),
        ..polls(0)
    })
    .await;
    let c = sim.client().in_workspace(&sim.primary_workspace());
    sim.seed_domain("acme.com", None, DomainStatus::Active);
    let m = sim.seed_mailbox("acme.com", "a", MailboxStatus::Active);
    c.exports()
        .register_account(&ThirdPartyAccountRequest::new(
            ExportApp::Instantly,
            "o@acme.com",
            "pw",
        ))
        .await
        .unwrap();
    for _ in 0..2 {
        c.exports()
            .export_mailboxes(&ExportRequest::new(ExportApp::Instantly, [m.clone()]))
            .await
            .unwrap();
    }
    let e = c
        .exports()
        .export_mailboxes(&ExportRequest::new(ExportApp::Instantly, [m.clone()]))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("export limit"), "{e}");
    assert_eq!(sim.exports_started(), 2);
}

#[tokio::test]
async fn dmarc_rules() {
    let sim = ZapmailSim::start_with(cfg()).await;
    let c = sim.client();
    let a = sim.seed_domain("a.com", None, DomainStatus::Active);
    let b = sim.seed_domain("b.com", None, DomainStatus::Active);
    let p = sim.seed_domain("p.com", None, DomainStatus::Pending);
    let e = c
        .domains()
        .add_dmarc(&DmarcRequest::for_domains([a.clone(), p], "d@acme.com"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not active"), "{e}");
    // All domains in one call: the pending one is skipped.
    c.domains()
        .add_dmarc(&DmarcRequest::for_all_domains("d@acme.com"))
        .await
        .unwrap();
    assert_eq!(
        sim.domain("a.com").unwrap().dmarc_email.as_deref(),
        Some("d@acme.com")
    );
    assert_eq!(
        sim.domain("b.com").unwrap().dmarc_email.as_deref(),
        Some("d@acme.com")
    );
    assert_eq!(sim.domain("p.com").unwrap().dmarc_email, None);
    let dns = c.dns().get(&b).await.unwrap();
    assert!(dns.all().any(
        |r| r.host() == Some("_dmarc") && r.value().unwrap().contains("rua=mailto:d@acme.com")
    ));
    // null filters → 422.
    let e = c
        .core()
        .send::<Value>(Request::post("/v2/domains/dmarc").json(&json!({
            "domainIds": [a.as_str()], "email": "d@acme.com", "contains": null
        })))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(422));
    // Local check of the address.
    assert!(matches!(
        c.domains()
            .add_dmarc(&DmarcRequest::for_all_domains("nope"))
            .await,
        Err(Error::InvalidInput { .. })
    ));
}

#[tokio::test]
async fn list_all_follows_pages_and_ignores_next_page() {
    let sim = ZapmailSim::start_with(cfg()).await;
    for i in 0..230 {
        sim.seed_domain(&format!("d{i:03}.com"), None, DomainStatus::Active);
    }
    let c = sim.client();
    let all = c.domains().list_all(None).await.unwrap();
    assert_eq!(all.len(), 230);
    // 100 per page: 3 pages, no fourth request even though nextPage says 4.
    assert_eq!(sim.journal().count(routes::LIST_DOMAINS), 3);
    let page3 = c
        .domains()
        .list(&zapmail::domains::DomainListQuery {
            page: Some(3),
            limit: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page3.domains.len(), 30);
    assert_eq!(page3.pagination.next_page, Some(4));
    assert_eq!(page3.pagination.total_pages, Some(3));
    // Filtered list and assignable list.
    let f = c
        .domains()
        .list_filtered(&DomainFilter {
            contains: "d00".into(),
            status: vec![DomainStatus::Active],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(f.pagination.total_searched_count, Some(10));
    assert_eq!(
        c.domains().assignable_all(Some("d01")).await.unwrap().len(),
        10
    );
    // Invalid pagination → 400.
    let e = c
        .core()
        .send::<Value>(Request::get("/v2/domains").query("page", 0))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Invalid pagination parameters"));
}

#[tokio::test]
async fn errors_inside_http_200_when_configured() {
    let sim = ZapmailSim::start_with(ZapmailSimConfig {
        errors_in_200: true,
        ..cfg()
    })
    .await;
    let c = sim.client();
    let e = c
        .workspaces()
        .in_workspace(&"missing".into())
        .list(&Default::default())
        .await
        .unwrap_err();
    let api = e.api().unwrap();
    assert_eq!((api.status, api.http_status), (404, 200));
    // And injected on a purchase: nothing applied, nothing retried.
    sim.faults().inject(routes::BUY, Fault::ErrorIn200(403), 1);
    let e = c
        .domains()
        .buy(&BuyDomainsRequest::with_wallet(["acme.com"]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(!e.may_have_taken_effect());
    assert!(sim.domains().is_empty());
}

#[tokio::test]
async fn users_wallet_dns_connection_requests_updates_and_removal() {
    let sim = ZapmailSim::start_with(cfg()).await;
    let c = sim.client();
    let me = c.users().verify_key().await.unwrap();
    assert_eq!(me.wallet_balance, Some(Decimal::from(500)));
    assert_eq!(me.active_plan.as_deref(), Some("Growth"));
    let w = c.wallet().balance().await.unwrap();
    assert_eq!(w.wallet_balance, Some(Decimal::from(500)));

    let d = sim.seed_domain("acme.com", None, DomainStatus::Active);
    let recs = c.dns().get(&d).await.unwrap();
    assert!(
        recs.all()
            .any(|r| r.kind() == Some(&zapmail::dns::DnsRecordType::Mx))
    );
    c.dns()
        .add(&zapmail::dns::AddDnsRecordsRequest {
            assigned_domain_id: d.clone(),
            records: vec![zapmail::dns::NewDnsRecord {
                host: "track".into(),
                value: "open.sequencer.io".into(),
                record_type: zapmail::dns::DnsRecordType::Cname,
            }],
        })
        .await
        .unwrap();
    assert!(
        c.dns()
            .get(&d)
            .await
            .unwrap()
            .all()
            .any(|r| r.host() == Some("track"))
    );
    let e = c.dns().get(&"nope".into()).await.unwrap_err();
    assert_eq!(e.status(), Some(404));

    sim.seed_connection_request("owned.co", "CHECKING_NS_IN_WHOIS");
    let page = c
        .domains()
        .connection_requests(&Default::default())
        .await
        .unwrap();
    assert_eq!(page.requests.len(), 1);
    assert_eq!(
        page.requests[0].status.as_ref().unwrap().phase(),
        zapmail::domains::ConnectionPhase::InProgress
    );

    let m = sim.seed_mailbox("acme.com", "tim", MailboxStatus::Active);
    let res = c
        .mailboxes()
        .update(&UpdateMailboxesRequest {
            mailbox_data: vec![MailboxUpdate {
                mailbox_id: m.clone(),
                first_name: "Timothy".into(),
                last_name: "Keen".into(),
                username: "tim".into(),
                profile_picture: None,
                remove_profile_picture: None,
            }],
        })
        .await
        .unwrap();
    assert_eq!(res[0].mailbox_id.as_ref(), Some(&m));
    assert!(res[0].failure_details.is_empty());
    assert_eq!(
        c.mailboxes().get(&m).await.unwrap().first_name.as_deref(),
        Some("Timothy")
    );
    c.mailboxes()
        .schedule_removal(&ScheduledRemovalRequest {
            remove: true,
            domain_ids: vec![d],
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(sim.mailboxes().iter().all(|m| m.scheduled_removal));
    let page = c.mailboxes().list(&Default::default()).await.unwrap();
    assert_eq!(page.scheduled_mailboxes, Some(1));
}
