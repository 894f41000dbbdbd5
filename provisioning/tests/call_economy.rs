//! Call economy (issue 8): the vendor calls a provision makes, counted in the simulators'
//! journals.
//!
//! - A Scale provision (10 domains, 20 mailboxes) makes the same calls as a Starter one
//!   (3 domains, 6 mailboxes): every step sends one request for all domains (one purchase,
//!   one DMARC call, one mailbox creation, one export, one bulk update of each kind) and
//!   reads whole listings (100 per page, so up to 50 domains or 100 mailboxes in one page).
//!   The places where the vendor forces more calls as a setup grows are documented in
//!   `BENCHMARKS.md`: listings past 100 items page, PlusVibe bulk updates go in chunks of
//!   100 accounts.
//! - A slow vendor costs few calls: polls back off (here 50 ms doubling to 1 s), so a DNS
//!   setup that takes 2 s is asked about a handful of times, not forty.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use provisioning::engine::PollPolicy;
use provisioning::sim::{Simulators, SimulatorsConfig};
use provisioning::{
    Engine, EngineConfig, MemoryStore, NewProvision, Payment, ProvisionStatus, SecretKey,
};
use vendor_http::RateLimits;
use zapmail::mock::{Transition, routes as zr};

/// Calls per "vendor route" in the three journals.
fn calls(sims: &Simulators) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (v, j) in [
        ("zapmail", sims.zapmail.journal()),
        ("plusvibe", sims.plusvibe.journal()),
        ("heyreach", sims.heyreach.journal()),
    ] {
        for e in j.entries() {
            *out.entry(format!("{v} {}", e.route)).or_default() += 1;
        }
    }
    out
}

fn total(c: &BTreeMap<String, usize>) -> usize {
    c.values().sum()
}

/// Simulators with no rate limits; `immediate`: every vendor transition done at once
/// (every poll answered at once).
fn config(immediate: bool) -> SimulatorsConfig {
    let mut c = SimulatorsConfig::default();
    c.zapmail.limits = Some(RateLimits::unlimited());
    c.plusvibe.limits = Some(RateLimits::unlimited());
    c.heyreach.limits = Some(RateLimits::unlimited());
    if immediate {
        c.zapmail.domain_activation = Transition::immediate();
        c.zapmail.mailbox_activation = Transition::immediate();
        c.zapmail.export_completion = Transition::immediate();
        c.zapmail.export_import_delay = Duration::ZERO;
    }
    c
}

/// Provision one customer of `tier` with `domains` domains on fresh simulators; the calls.
async fn provision(
    sims_config: SimulatorsConfig,
    tier: &str,
    domains: usize,
    tweak: impl FnOnce(&mut EngineConfig),
) -> BTreeMap<String, usize> {
    let sims = Simulators::start_with(sims_config).await;
    let mut config = EngineConfig {
        plusvibe_agency_workspace_id: Some(sims.plusvibe.agency_workspace_id().to_string()),
        ..sims.engine_config()
    };
    tweak(&mut config);
    let c = sims.clients();
    let engine = Engine::builder()
        .clients(c.zapmail, c.plusvibe, c.heyreach)
        .store(Arc::new(MemoryStore::new()))
        .secret_key(SecretKey::generate())
        .config(config)
        .build()
        .await
        .unwrap();
    let tlds = ["com", "net", "org", "biz", "info", "live"];
    let id = engine
        .create_provision(
            NewProvision::new("Tim Keen", "tim@acme.example", tier)
                .domains((0..domains).map(|i| format!("economy{i}.{}", tlds[i % tlds.len()])))
                .patterns("tim", "tim.keen"),
        )
        .await
        .unwrap();
    engine.mark_paid(id, Payment::default()).await.unwrap();
    let snap = engine.run(id).await.unwrap();
    assert_eq!(snap.status, ProvisionStatus::Active, "{:?}", snap.error);
    assert_eq!(sims.duplicates().found, Vec::<String>::new());
    calls(&sims)
}

#[tokio::test]
async fn a_scale_provision_makes_the_same_calls_as_a_starter_one() {
    let starter = provision(config(true), "starter", 3, |_| {}).await;
    let scale = provision(config(true), "scale", 10, |_| {}).await;
    // Every poll answered at once: the fewest calls the steps can make. Each route is
    // called as often for 10 domains as for 3.
    assert_eq!(scale, starter);
    // And that is a short list: 12 Zapmail, 8 PlusVibe and 2 HeyReach calls.
    let per_vendor = |c: &BTreeMap<String, usize>, v: &str| -> usize {
        c.iter()
            .filter(|(k, _)| k.starts_with(v))
            .map(|(_, n)| n)
            .sum()
    };
    assert!(per_vendor(&starter, "zapmail") <= 12, "{starter:#?}");
    assert!(per_vendor(&starter, "plusvibe") <= 8, "{starter:#?}");
    assert!(per_vendor(&starter, "heyreach") <= 2, "{starter:#?}");
    // One purchase, one DMARC call, one mailbox creation, one export for all domains.
    for route in [zr::BUY, zr::DMARC, zr::CREATE_MAILBOXES, zr::EXPORT] {
        assert_eq!(scale[&format!("zapmail {route}")], 1, "{route}");
    }
}

#[tokio::test]
async fn with_the_default_transitions_scale_needs_at_most_a_handful_more_calls() {
    // Domains and mailboxes take one poll (or 200 ms) to become active, as by default.
    let starter = provision(config(false), "starter", 3, |_| {}).await;
    let scale = provision(config(false), "scale", 10, |_| {}).await;
    assert!(
        total(&scale) <= total(&starter) + 4,
        "starter {} calls, scale {}:\n{starter:#?}\n{scale:#?}",
        total(&starter),
        total(&scale)
    );
}

#[tokio::test]
async fn polls_back_off_so_a_slow_vendor_costs_few_calls() {
    let mut slow = config(false);
    // DNS takes 2 s, mailboxes 1 s: only time makes them ready, however often we ask.
    slow.zapmail.domain_activation = Transition::time(Duration::from_secs(2));
    slow.zapmail.mailbox_activation = Transition::time(Duration::from_secs(1));
    let backoff = PollPolicy {
        initial: Duration::from_millis(50),
        coefficient: 2.0,
        max_interval: Duration::from_secs(1),
        deadline: Duration::from_secs(60),
    };
    let c = provision(slow, "starter", 3, |config| {
        config.polls.domains = backoff.clone();
        config.polls.mailboxes = backoff.clone();
    })
    .await;
    // Polling every 50 ms would ask ~40 times for the domains and ~20 for the mailboxes.
    // Backing off (50, 100, 200, 400, 800, 1000 ms...) asks about 6 and 5 times; a slower
    // machine only asks fewer. Step 2 reads the domain list once more before buying.
    let domains = c[&format!("zapmail {}", zr::LIST_DOMAINS)];
    let mailboxes = c[&format!("zapmail {}", zr::LIST_MAILBOXES)];
    assert!(domains <= 1 + 8, "{domains} domain listings");
    assert!(mailboxes <= 1 + 7, "{mailboxes} mailbox listings");
}
