//! The setup wizard's helpers: the seed's domain suggestions (exact outputs, hand-traced
//! from the seed's TypeScript), availability checks against the Zapmail simulator
//! (batching, cache, local validation, single flight, no 429 under concurrency, prices in
//! cents), mailbox patterns and preview, tier administration and quotes.

use std::collections::HashSet;
use std::time::Duration;

use provisioning::wizard::{
    Availability, AvailabilityChecker, DomainCheck, PreviewRow, Quote, TierInput, WizardError,
    create_tier, deactivate_tier, parse_price_cents, preview, price_cents, quote, reorder_tiers,
    seed_suggestions, sender_names, sender_names_with, suggest_domains, update_tier,
    validate_patterns,
};
use provisioning::{MemoryStore, Store, Tier, TierId};
use vendor_http::sim::Fault;
use zapmail::domains::DomainAvailability;
use zapmail::mock::{TldPrice, ZapmailSim, ZapmailSimConfig, routes};
use zapmail::{Decimal, SupportedTlds};

const BULK: &str = routes::AVAILABLE_BULK;

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------------
// 1. Suggestions

/// `suggestDomains("Acme")`, traced by hand through the seed's TypeScript.
const ACME: [&str; 28] = [
    // tlds.forEach: brand.tld
    "acme.com",
    "acme.io",
    "acme.net",
    // prefixes.forEach: prefix + brand .com
    "getacme.com",
    "tryacme.com",
    "useacme.com",
    "goacme.com",
    "heyacme.com",
    "meetacme.com",
    "withacme.com",
    "joinacme.com",
    // suffixes.forEach: brand + suffix .com
    "acmehq.com",
    "acmeapp.com",
    "acmemail.com",
    "acmeteam.com",
    "acmeco.com",
    "acmenow.com",
    "acmepro.com",
    // suffixes.slice(0, 4): brand-suffix.com
    "acme-hq.com",
    "acme-app.com",
    "acme-mail.com",
    "acme-team.com",
    // prefixes.slice(0, 3) = get, try, use; × tlds.slice(1) = io, net
    "getacme.io",
    "getacme.net",
    "tryacme.io",
    "tryacme.net",
    "useacme.io",
    "useacme.net",
];

/// `suggestDomains("3M Co.")`: `clean` = "3mco" (digits kept, space and '.' dropped).
const THREE_M: [&str; 28] = [
    "3mco.com",
    "3mco.io",
    "3mco.net",
    "get3mco.com",
    "try3mco.com",
    "use3mco.com",
    "go3mco.com",
    "hey3mco.com",
    "meet3mco.com",
    "with3mco.com",
    "join3mco.com",
    "3mcohq.com",
    "3mcoapp.com",
    "3mcomail.com",
    "3mcoteam.com",
    "3mcoco.com",
    "3mconow.com",
    "3mcopro.com",
    "3mco-hq.com",
    "3mco-app.com",
    "3mco-mail.com",
    "3mco-team.com",
    "get3mco.io",
    "get3mco.net",
    "try3mco.io",
    "try3mco.net",
    "use3mco.io",
    "use3mco.net",
];

#[test]
fn seed_suggestions_match_the_typescript_exactly() {
    assert_eq!(seed_suggestions("acme").unwrap(), strs(&ACME));
    assert_eq!(seed_suggestions("3M Co.").unwrap(), strs(&THREE_M));
    // Mixed case and surrounding junk clean to the same brand.
    assert_eq!(seed_suggestions("  ACME!!  ").unwrap(), strs(&ACME));
    assert_eq!(seed_suggestions("A.c-M_e").unwrap(), strs(&ACME));
}

#[test]
fn cleaning_follows_to_lower_case_and_the_a_z_0_9_filter() {
    // (brand, what the seed's `clean` is, traced by hand)
    let cases = [
        ("AcMe OutReach", "acmeoutreach"),
        ("Acme & Co.!", "acmeco"),
        ("Café Müller", "cafmller"), // é and ü are not in [a-z]: dropped, not transliterated
        ("İstanbul Ltd", "istanbulltd"), // "İ".toLowerCase() is "i" + U+0307; the dot is dropped
        ("\u{212A}-Pop", "kpop"),    // the Kelvin sign lower-cases to ASCII 'k'
        ("🚀 Rocket 42", "rocket42"),
        ("Straße", "strae"),
    ];
    for (brand, clean) in cases {
        let got = seed_suggestions(brand).unwrap();
        assert_eq!(got.len(), 28, "{brand}");
        assert_eq!(got[0], format!("{clean}.com"), "{brand}");
        assert_eq!(got[3], format!("get{clean}.com"), "{brand}");
        assert_eq!(got[11], format!("{clean}hq.com"), "{brand}");
        assert_eq!(got[18], format!("{clean}-hq.com"), "{brand}");
        assert_eq!(got[27], format!("use{clean}.net"), "{brand}");
    }
}

#[test]
fn suggestions_are_unique_and_keep_the_seed_order() {
    for brand in ["acme", "go", "co", "hq", "getgo", "meet", "team", "a", "x1"] {
        let got = seed_suggestions(brand).unwrap();
        let unique: HashSet<&String> = got.iter().collect();
        assert_eq!(unique.len(), got.len(), "{brand}: {got:?}");
        // The seed's list never repeats for a non-empty brand: all 28 survive the Set.
        assert_eq!(got.len(), 28, "{brand}");
    }
    assert_eq!(seed_suggestions("go").unwrap()[6], "gogo.com");
}

#[test]
fn suggestions_are_filtered_to_supported_tlds() {
    let filtered = suggest_domains("Acme", &SupportedTlds::default()).unwrap();
    let expected: Vec<String> = ACME
        .iter()
        .filter(|n| !n.ends_with(".io"))
        .map(|s| s.to_string())
        .collect();
    assert_eq!(filtered, expected);
    assert_eq!(filtered.len(), 24);

    let io_only = suggest_domains("Acme", &SupportedTlds::new(["io"])).unwrap();
    assert_eq!(
        io_only,
        strs(&["acme.io", "getacme.io", "tryacme.io", "useacme.io"])
    );

    let with_io = suggest_domains("Acme", &SupportedTlds::default().with("io")).unwrap();
    assert_eq!(with_io, strs(&ACME));

    let e = suggest_domains("Acme", &SupportedTlds::new(["org"])).unwrap_err();
    assert!(matches!(e, WizardError::InvalidBrand(_)));
    assert!(e.to_string().contains("no suggestion"), "{e}");
}

#[test]
fn very_long_brands_drop_labels_over_63_characters() {
    let brand = "a".repeat(60);
    // Unfiltered: the seed does not care about lengths.
    assert_eq!(seed_suggestions(&brand).unwrap().len(), 28);
    let got = suggest_domains(&brand, &SupportedTlds::default()).unwrap();
    let a = &brand;
    // Traced: labels of 60 + prefix/suffix length; 64 and more are dropped, .io too.
    let expected = vec![
        format!("{a}.com"),
        format!("{a}.net"),
        format!("get{a}.com"),
        format!("try{a}.com"),
        format!("use{a}.com"),
        format!("go{a}.com"),
        format!("hey{a}.com"),
        format!("{a}hq.com"),
        format!("{a}app.com"),
        format!("{a}co.com"),
        format!("{a}now.com"),
        format!("{a}pro.com"),
        format!("{a}-hq.com"),
        format!("get{a}.net"),
        format!("try{a}.net"),
        format!("use{a}.net"),
    ];
    assert_eq!(got, expected);

    let e = suggest_domains(&"b".repeat(70), &SupportedTlds::default()).unwrap_err();
    assert!(e.to_string().contains("63 characters"), "{e}");
}

#[test]
fn empty_or_symbol_only_brands_are_refused() {
    for brand in ["", "   "] {
        let e = seed_suggestions(brand).unwrap_err();
        assert!(matches!(e, WizardError::InvalidBrand(_)));
        assert!(e.to_string().contains("empty"), "{e}");
    }
    for brand in ["!!!", "— ★ —", "ÄÖÜ ß", "..."] {
        let e = suggest_domains(brand, &SupportedTlds::default()).unwrap_err();
        assert!(
            e.to_string().contains("no letters a-z or digits"),
            "{brand}: {e}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 2. Availability

async fn sim() -> ZapmailSim {
    ZapmailSim::start_with(ZapmailSimConfig::default()).await
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}.com")).collect()
}

#[tokio::test]
async fn forty_five_names_take_three_bulk_calls_and_a_repeat_takes_none() {
    let sim = sim().await;
    sim.state().mark_taken(["wiz7.com"]);
    let checker = AvailabilityChecker::new(sim.client());
    let list = names("wiz", 45);

    let got = checker.check(&list).await.unwrap();
    assert_eq!(sim.journal().count(BULK), 3);
    for e in sim.journal().for_route(BULK) {
        let n = e.body["domainNames"].as_array().unwrap().len();
        assert!(n <= 20, "{n} names in one call");
    }
    assert_eq!(got.len(), 45);
    for (c, name) in got.iter().zip(&list) {
        assert_eq!(&c.name, name);
        if name == "wiz7.com" {
            assert_eq!(c.availability, Availability::Unavailable);
            assert_eq!(c.price_cents, None);
            assert!(!c.is_available());
        } else {
            assert_eq!(c.availability, Availability::Available, "{name}");
            assert_eq!(c.price_cents, Some(1299));
            assert_eq!(c.renew_price_cents, Some(2099));
            assert!(c.is_available());
        }
    }

    // Repeat, in another order, with other spellings: all from the cache.
    let mut again: Vec<String> = list.iter().rev().cloned().collect();
    again.push(" WIZ3.COM ".into());
    again.push("wiz4.com.".into());
    let got2 = checker.check(&again).await.unwrap();
    assert_eq!(sim.journal().count(BULK), 3);
    assert_eq!(got2.len(), 47);
    assert_eq!(got2[45].name, "wiz3.com");
    assert!(got2[45].is_available());
    assert_eq!(checker.cached("Wiz0.com").unwrap().price_cents, Some(1299));

    // A clone shares the cache.
    let clone = checker.clone();
    clone.check(&list[..10]).await.unwrap();
    assert_eq!(sim.journal().count(BULK), 3);

    // Mixed: only the new names are sent, in one call.
    let mut mixed = list[..30].to_vec();
    mixed.extend(names("fresh", 5));
    let got3 = checker.check(&mixed).await.unwrap();
    assert_eq!(sim.journal().count(BULK), 4);
    let last = sim.journal().for_route(BULK).pop().unwrap();
    assert_eq!(last.body["domainNames"].as_array().unwrap().len(), 5);
    assert!(
        got3.iter()
            .all(|c| c.name == "wiz7.com" || c.is_available())
    );

    // Clearing the cache spends again.
    checker.clear_cache();
    checker.check(&list[..5]).await.unwrap();
    assert_eq!(sim.journal().count(BULK), 5);
    assert_eq!(sim.journal().rate_limited(), 0);
}

#[tokio::test]
async fn invalid_names_and_unsupported_tlds_spend_nothing() {
    let sim = sim().await;
    let checker = AvailabilityChecker::new(sim.client());
    let bad = strs(&[
        "acme.io",
        "acme",
        "ac me.com",
        "-acme.com",
        "acme..com",
        "",
        "acme.c0m",
        &format!("{}.com", "a".repeat(64)),
    ]);
    let got = checker.check(&bad).await.unwrap();
    assert_eq!(sim.journal().count(BULK), 0);
    assert_eq!(sim.journal().len(), 0);
    assert_eq!(got.len(), bad.len());
    let reason = |i: usize| match &got[i].availability {
        Availability::Invalid(r) => r.clone(),
        other => panic!("{}: {other:?}", bad[i]),
    };
    assert!(reason(0).contains(".io is not supported"), "{}", reason(0));
    assert!(reason(1).contains("no TLD"), "{}", reason(1));
    assert!(reason(2).contains("' '"), "{}", reason(2));
    assert!(reason(3).contains("must not start or end with '-'"));
    assert!(reason(4).contains("empty label"));
    assert!(reason(5).contains("empty"));
    assert!(reason(6).contains("not valid"));
    assert!(reason(7).contains("longer than 63"));
    assert!(
        got.iter()
            .all(|c| c.price_cents.is_none() && !c.is_available())
    );

    // Valid and invalid together: only the valid one is sent.
    let got = checker
        .check(&strs(&["acme.io", "acme-ok.com"]))
        .await
        .unwrap();
    assert_eq!(sim.journal().count(BULK), 1);
    let sent = sim.journal().for_route(BULK).pop().unwrap();
    assert_eq!(sent.body["domainNames"], serde_json::json!(["acme-ok.com"]));
    assert!(matches!(got[0].availability, Availability::Invalid(_)));
    assert!(got[1].is_available());

    // An empty list is fine and free.
    assert!(checker.check::<String>(&[]).await.unwrap().is_empty());
    assert_eq!(sim.journal().count(BULK), 1);
}

#[tokio::test]
async fn concurrent_checks_of_the_same_names_share_one_call() {
    let sim = sim().await;
    sim.set_latency(Duration::from_millis(100));
    let checker = AvailabilityChecker::new(sim.client());
    let list = names("same", 20);
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let c = checker.clone();
            let l = list.clone();
            tokio::spawn(async move { c.check(&l).await })
        })
        .collect();
    for t in tasks {
        let got = t.await.unwrap().unwrap();
        assert_eq!(got.len(), 20);
        assert!(got.iter().all(DomainCheck::is_available));
    }
    assert_eq!(sim.journal().count(BULK), 1);
    assert_eq!(sim.journal().rate_limited(), 0);
}

#[tokio::test]
async fn overlapping_concurrent_checks_send_each_name_once() {
    let sim = sim().await;
    sim.set_latency(Duration::from_millis(50));
    let checker = AvailabilityChecker::new(sim.client());
    let all = names("lap", 30);
    let (a, b) = (all[..20].to_vec(), all[10..].to_vec());
    let (c1, c2) = (checker.clone(), checker.clone());
    let (ra, rb) = tokio::join!(
        tokio::spawn(async move { c1.check(&a).await }),
        tokio::spawn(async move { c2.check(&b).await }),
    );
    assert!(ra.unwrap().unwrap().iter().all(DomainCheck::is_available));
    assert!(rb.unwrap().unwrap().iter().all(DomainCheck::is_available));
    // Whatever the interleaving, every name went out exactly once.
    let mut sent: Vec<String> = sim
        .journal()
        .for_route(BULK)
        .iter()
        .flat_map(|e| {
            e.body["domainNames"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    sent.sort();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(sent, expected);
    assert_eq!(sim.journal().count(BULK), 2);
}

#[tokio::test]
async fn an_abandoned_check_is_finished_by_the_next_caller_without_a_second_call() {
    let sim = sim().await;
    sim.set_latency(Duration::from_millis(300));
    let checker = AvailabilityChecker::new(sim.client());
    let list = names("gone", 4);
    let c = checker.clone();
    let l = list.clone();
    let task = tokio::spawn(async move { c.check(&l).await });
    // Wait (bounded) until the simulator has received the call, then abandon the caller.
    for _ in 0..200 {
        if sim.journal().count(BULK) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(sim.journal().count(BULK), 1);
    task.abort();
    let got = checker.check(&list).await.unwrap();
    assert!(got.iter().all(DomainCheck::is_available));
    assert_eq!(sim.journal().count(BULK), 1);
}

#[tokio::test]
async fn concurrent_callers_on_one_client_draw_no_429() {
    let sim = sim().await;
    let client = sim.client();
    // Eight independent checkers (no shared cache) on one client: eight calls at once,
    // over Zapmail's 5/s. The client's limiter spaces them; the simulator, enforcing the
    // documented limits, never answers 429.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let c = AvailabilityChecker::new(client.clone());
            let l = names(&format!("par{i}x"), 20);
            tokio::spawn(async move { c.check(&l).await })
        })
        .collect();
    for t in tasks {
        let got = t.await.unwrap().unwrap();
        assert!(got.iter().all(DomainCheck::is_available));
    }
    assert_eq!(sim.journal().count(BULK), 8);
    assert_eq!(sim.journal().rate_limited(), 0);
}

#[tokio::test]
async fn prices_are_exact_cents_and_unknown_prices_are_not_free() {
    let sim = sim().await;
    // A sub-cent price (rounded up), a zero price on an "available" name (not sellable).
    sim.state().set_tld_price(
        "net",
        TldPrice {
            register: Decimal::new(12995, 3),
            renew: Decimal::new(2099, 2),
        },
    );
    sim.state().set_tld_price("biz", TldPrice::cents(0, 0));
    // The checker lets .io through; the simulator does not sell it: UNAVAILABLE, "NaN".
    let checker =
        AvailabilityChecker::new(sim.client()).with_tlds(SupportedTlds::default().with("io"));
    let got = checker
        .check(&strs(&["price.com", "price.net", "price.biz", "price.io"]))
        .await
        .unwrap();
    assert_eq!(got[0].price_cents, Some(1299));
    assert_eq!(got[1].price_cents, Some(1300));
    assert_eq!(got[1].availability, Availability::Available);
    assert!(
        matches!(&got[2].availability, Availability::Unknown(r) if r.contains("0.00")),
        "{:?}",
        got[2]
    );
    assert_eq!(got[2].price_cents, None);
    assert_eq!(got[3].availability, Availability::Unavailable);
    assert_eq!(got[3].price_cents, None);
    assert_eq!(sim.journal().count(BULK), 1);

    // Unknown answers are not cached; definitive ones are.
    checker
        .check(&strs(&["price.com", "price.io"]))
        .await
        .unwrap();
    assert_eq!(sim.journal().count(BULK), 1);
    checker.check(&strs(&["price.biz"])).await.unwrap();
    assert_eq!(sim.journal().count(BULK), 2);
}

#[test]
fn price_parsing_edge_cases() {
    assert_eq!(parse_price_cents("12.99"), Some(1299));
    assert_eq!(parse_price_cents("0.00"), Some(0));
    assert_eq!(parse_price_cents("NaN"), None);
    assert_eq!(parse_price_cents(""), None);
    assert_eq!(parse_price_cents("abc"), None);
    assert_eq!(parse_price_cents("$12.99"), Some(1299));
    assert_eq!(parse_price_cents("20"), Some(2000));
    assert_eq!(parse_price_cents("12.9"), Some(1290));
    assert_eq!(parse_price_cents("12.991"), Some(1300));
    assert_eq!(parse_price_cents("-1.00"), None);
    assert_eq!(
        parse_price_cents("1234567.89"),
        Some(123_456_789),
        "no float rounding"
    );
    assert_eq!(price_cents(Decimal::new(1299, 2)), Some(1299));
    assert_eq!(price_cents(Decimal::ZERO), Some(0));
    assert_eq!(price_cents(Decimal::MAX), None);

    let row =
        |json: serde_json::Value| -> DomainAvailability { serde_json::from_value(json).unwrap() };
    let c = DomainCheck::from_row(
        "a.com",
        Some(&row(
            serde_json::json!({"domainName": "a.com", "status": "AVAILABLE",
            "domainPrice": "12.99", "renewPrice": "20.99", "isPremiumDomain": true}),
        )),
    );
    assert_eq!(c.availability, Availability::Available);
    assert_eq!(
        (c.price_cents, c.renew_price_cents, c.premium),
        (Some(1299), Some(2099), true)
    );
    let c = DomainCheck::from_row(
        "a.com",
        Some(&row(
            serde_json::json!({"domainName": "a.com", "status": "AVAILABLE", "domainPrice": "NaN"}),
        )),
    );
    assert!(matches!(c.availability, Availability::Unknown(ref r) if r.contains("NaN")));
    assert_eq!(c.price_cents, None);
    let c = DomainCheck::from_row(
        "a.com",
        Some(&row(
            serde_json::json!({"domainName": "a.com", "status": "UNAVAILABLE", "domainPrice": "0.00"}),
        )),
    );
    assert_eq!(
        (c.availability, c.price_cents),
        (Availability::Unavailable, None)
    );
    let c = DomainCheck::from_row(
        "a.com",
        Some(&row(
            serde_json::json!({"domainName": "a.com", "status": "PENDING", "domainPrice": "9.99"}),
        )),
    );
    assert!(matches!(c.availability, Availability::Unknown(_)));
    assert!(matches!(
        DomainCheck::from_row("a.com", None).availability,
        Availability::Unknown(_)
    ));
}

#[tokio::test]
async fn a_failed_call_is_an_error_and_the_next_check_asks_again() {
    let sim = sim().await;
    let checker = AvailabilityChecker::new(sim.client());
    sim.faults().inject(BULK, Fault::Status(400), 1);
    let list = names("fail", 5);
    let e = checker.check(&list).await.unwrap_err();
    assert!(matches!(e, WizardError::Vendor(_)), "{e:?}");
    assert!(e.to_string().contains("availability check failed"), "{e}");
    assert!(checker.cached("fail0.com").is_none());
    let got = checker.check(&list).await.unwrap();
    assert!(got.iter().all(DomainCheck::is_available));
    assert_eq!(sim.journal().count(BULK), 2);
}

#[tokio::test]
async fn a_zero_ttl_never_reuses_answers() {
    let sim = sim().await;
    let checker = AvailabilityChecker::new(sim.client()).with_ttl(Duration::ZERO);
    let list = names("ttl", 3);
    checker.check(&list).await.unwrap();
    checker.check(&list).await.unwrap();
    assert_eq!(sim.journal().count(BULK), 2);
    assert!(checker.cached("ttl0.com").is_none());
}

// ---------------------------------------------------------------------------------------
// 3. Mailbox patterns

#[test]
fn patterns_are_checked_with_zapmails_rules() {
    assert_eq!(
        validate_patterns(["Tim", " tim.keen "]).unwrap(),
        ["tim".to_string(), "tim.keen".to_string()]
    );
    let cases: [([&str; 2], &str); 8] = [
        (
            [".tim", "tim.keen"],
            "pattern 1 (\".tim\"): mailbox username must not start with '.'",
        ),
        (
            ["tim", "keen_"],
            "pattern 2 (\"keen_\"): mailbox username must not end with '_'",
        ),
        (["tim", "tim..keen"], "consecutive separators \"..\""),
        (["tim", "tim-_keen"], "consecutive separators \"-_\""),
        (["", "tim"], "pattern 1 (\"\"): mailbox username is empty"),
        (["tim keen", "tim"], "contains ' '"),
        (["tim@x", "tim"], "contains '@'"),
        (["Tim", "tim"], "the two mailbox patterns are the same"),
    ];
    for (patterns, msg) in cases {
        let e = validate_patterns(patterns).unwrap_err();
        assert!(matches!(e, WizardError::InvalidPattern(_)));
        assert!(e.to_string().contains(msg), "{patterns:?}: {e}");
    }
    let long = "a".repeat(65);
    let e = validate_patterns([long.as_str(), "tim"]).unwrap_err();
    assert!(e.to_string().contains("at most 64"), "{e}");
}

#[test]
fn preview_lists_every_mailbox() {
    let rows = preview(&["GetAcme.com", "acmehq.net"], &["tim", "tim.keen"]);
    let row = |d: &str, u: &str| PreviewRow {
        domain: d.into(),
        username: u.into(),
        email: format!("{u}@{d}"),
    };
    assert_eq!(
        rows,
        vec![
            row("getacme.com", "tim"),
            row("getacme.com", "tim.keen"),
            row("acmehq.net", "tim"),
            row("acmehq.net", "tim.keen"),
        ]
    );
    assert!(preview::<&str, &str>(&[], &["tim"]).is_empty());
}

#[test]
fn sender_names_come_from_the_customer_name() {
    let s = |a, b| (String::from(a), String::from(b));
    assert_eq!(sender_names("Tim Keen").unwrap(), s("Tim", "Keen"));
    assert_eq!(
        sender_names("  Ada   King Lovelace ").unwrap(),
        s("Ada", "King Lovelace")
    );
    assert_eq!(sender_names("Cher").unwrap(), s("Cher", "Cher"));
    assert!(
        sender_names("   ")
            .unwrap_err()
            .to_string()
            .contains("empty")
    );
    assert!(sender_names("Tim\u{7}").is_err());
    assert_eq!(
        sender_names_with("Tim Keen", Some("Timothy"), None).unwrap(),
        s("Timothy", "Keen")
    );
    assert_eq!(
        sender_names_with("Tim Keen", None, Some(" Keen-Smith ")).unwrap(),
        s("Tim", "Keen-Smith")
    );
    assert_eq!(
        sender_names_with("", Some("Ops"), Some("Team")).unwrap(),
        s("Ops", "Team")
    );
    assert!(
        sender_names_with("Tim", Some(" "), None)
            .unwrap_err()
            .to_string()
            .contains("override is empty")
    );
}

// ---------------------------------------------------------------------------------------
// 4. Tiers and quotes

#[tokio::test]
async fn tier_admin_validates_and_maps_store_errors() {
    let store = MemoryStore::new();
    store.seed_default_tiers().await.unwrap();
    let tiers = store.tiers().await.unwrap();
    assert_eq!(tiers.len(), 3);

    let pro = create_tier(&store, TierInput::new("Pro", "pro-2", 20, 49_700, 24_700))
        .await
        .unwrap();
    assert_eq!(pro.sort_order, 3, "a new tier goes last");
    assert_eq!(store.tier_by_slug("pro-2").await.unwrap(), pro);

    let bad: Vec<(TierInput, &str)> = vec![
        (
            TierInput::new("X", "Pro", 1, 0, 0),
            "slug \"Pro\" is not valid",
        ),
        (TierInput::new("X", "a--b", 1, 0, 0), "is not valid"),
        (TierInput::new("X", "-a", 1, 0, 0), "is not valid"),
        (TierInput::new("X", "a_b", 1, 0, 0), "is not valid"),
        (TierInput::new("X", "", 1, 0, 0), "is not valid"),
        (TierInput::new("X", "a".repeat(65), 1, 0, 0), "is not valid"),
        (TierInput::new("  ", "x", 1, 0, 0), "tier name is empty"),
        (
            TierInput::new("X", "x", 0, 0, 0),
            "domain_count must be positive",
        ),
        (
            TierInput::new("X", "x", 1, -1, 0),
            "setup_fee_cents must not be negative",
        ),
        (
            TierInput::new("X", "x", 1, 0, -5),
            "monthly_fee_cents must not be negative",
        ),
        (
            TierInput {
                mailboxes_per_domain: 3,
                ..TierInput::new("X", "x", 1, 0, 0)
            },
            "mailboxes_per_domain must be 2",
        ),
        (
            TierInput {
                stripe_setup_price_id: Some(" ".into()),
                ..TierInput::new("X", "x", 1, 0, 0)
            },
            "stripe_setup_price_id is blank",
        ),
    ];
    for (input, msg) in bad {
        let e = create_tier(&store, input.clone()).await.unwrap_err();
        assert!(matches!(e, WizardError::InvalidTier(_)), "{input:?}: {e:?}");
        assert!(e.to_string().contains(msg), "{input:?}: {e}");
    }
    // Zero fees are fine (a free tier).
    create_tier(&store, TierInput::new("Free", "free", 1, 0, 0))
        .await
        .unwrap();

    // Unique slugs, on create and update.
    let e = create_tier(&store, TierInput::new("Starter 2", "starter", 3, 1, 1))
        .await
        .unwrap_err();
    assert!(matches!(e, WizardError::DuplicateTierSlug(ref s) if s == "starter"));
    assert!(
        e.to_string().contains("already uses the slug \"starter\""),
        "{e}"
    );
    let e = update_tier(&store, pro.id, TierInput::new("Pro", "growth", 20, 1, 1))
        .await
        .unwrap_err();
    assert!(matches!(e, WizardError::DuplicateTierSlug(_)), "{e:?}");
    // The store's own refusal maps to the same error.
    let mut dup = pro.clone();
    dup.id = TierId::new();
    let e: WizardError = store.put_tier(&dup).await.unwrap_err().into();
    assert!(matches!(e, WizardError::DuplicateTierSlug(_)), "{e:?}");

    // Update keeps the id and the place unless told otherwise.
    let updated = update_tier(
        &store,
        pro.id,
        TierInput::new("Pro+", "pro-plus", 25, 59_700, 29_700),
    )
    .await
    .unwrap();
    assert_eq!((updated.id, updated.sort_order), (pro.id, 3));
    assert_eq!(store.tier(pro.id).await.unwrap().slug, "pro-plus");
    let e = update_tier(&store, TierId::new(), TierInput::new("N", "n", 1, 0, 0))
        .await
        .unwrap_err();
    assert!(matches!(e, WizardError::TierNotFound(_)), "{e:?}");

    // Deactivate.
    let starter = store.tier_by_slug("starter").await.unwrap();
    let off = deactivate_tier(&store, starter.id).await.unwrap();
    assert!(!off.is_active);
    assert!(!store.tier(starter.id).await.unwrap().is_active);
    assert!(matches!(
        deactivate_tier(&store, TierId::new()).await.unwrap_err(),
        WizardError::TierNotFound(_)
    ));

    // Reorder: every tier exactly once.
    let mut ids: Vec<TierId> = store.tiers().await.unwrap().iter().map(|t| t.id).collect();
    ids.reverse();
    let out = reorder_tiers(&store, &ids).await.unwrap();
    assert_eq!(out.iter().map(|t| t.id).collect::<Vec<_>>(), ids);
    let now: Vec<TierId> = store.tiers().await.unwrap().iter().map(|t| t.id).collect();
    assert_eq!(now, ids);
    let e = reorder_tiers(&store, &ids[1..]).await.unwrap_err();
    assert!(e.to_string().contains("leaves out tier"), "{e}");
    let mut twice = ids.clone();
    twice[1] = twice[0];
    let e = reorder_tiers(&store, &twice).await.unwrap_err();
    assert!(e.to_string().contains("listed twice"), "{e}");
    let mut unknown = ids.clone();
    unknown.push(TierId::new());
    assert!(matches!(
        reorder_tiers(&store, &unknown).await.unwrap_err(),
        WizardError::TierNotFound(_)
    ));
}

fn available(name: &str, cents: i64) -> DomainCheck {
    DomainCheck {
        name: name.into(),
        availability: Availability::Available,
        price_cents: Some(cents),
        renew_price_cents: None,
        premium: false,
    }
}

fn starter() -> Tier {
    Tier::seed_defaults().remove(0)
}

#[tokio::test]
async fn quotes_from_checked_domains_in_cents() {
    let sim = sim().await;
    let checker = AvailabilityChecker::new(sim.client());
    let chosen = checker
        .check(&strs(&["getacme.com", "acmehq.com", "tryacme.net"]))
        .await
        .unwrap();
    let q = quote(&starter(), &chosen).unwrap();
    assert_eq!(
        q,
        Quote {
            setup_fee_cents: 9700,
            domain_registration_cents: 1299 + 1299 + 1499,
            first_month_cents: 4700,
            monthly_cents: 4700,
            total_due_now_cents: 9700 + 4097 + 4700,
        }
    );
}

#[test]
fn quotes_refuse_unusable_choices() {
    let t = starter();
    let three = vec![
        available("a.com", 1299),
        available("b.com", 1299),
        available("c.net", 1499),
    ];
    assert_eq!(
        quote(&t, &three).unwrap().total_due_now_cents,
        9700 + 4097 + 4700
    );

    let e = quote(&t, &three[..2]).unwrap_err();
    assert!(
        e.to_string().contains("needs exactly 3 domains; 2 chosen"),
        "{e}"
    );
    let mut four = three.clone();
    four.push(available("d.com", 1299));
    assert!(
        quote(&t, &four)
            .unwrap_err()
            .to_string()
            .contains("4 chosen")
    );

    let mut dup = three.clone();
    dup[2] = available("a.com", 1299);
    assert!(
        quote(&t, &dup)
            .unwrap_err()
            .to_string()
            .contains("chosen twice")
    );

    let mut taken = three.clone();
    taken[1].availability = Availability::Unavailable;
    taken[1].price_cents = None;
    let e = quote(&t, &taken).unwrap_err();
    assert!(e.to_string().contains("\"b.com\" is not available"), "{e}");

    let mut unpriced = three.clone();
    unpriced[0].price_cents = None;
    assert!(
        quote(&t, &unpriced)
            .unwrap_err()
            .to_string()
            .contains("no known price")
    );

    let mut unknown = three.clone();
    unknown[0].availability = Availability::Unknown("no row".into());
    assert!(
        quote(&t, &unknown)
            .unwrap_err()
            .to_string()
            .contains("unknown (no row)")
    );

    let mut invalid = three.clone();
    invalid[0].availability = Availability::Invalid("TLD .io is not supported".into());
    assert!(
        quote(&t, &invalid)
            .unwrap_err()
            .to_string()
            .contains(".io is not supported")
    );

    let mut inactive = t.clone();
    inactive.is_active = false;
    assert!(
        quote(&inactive, &three)
            .unwrap_err()
            .to_string()
            .contains("no longer offered")
    );

    let mut broken = t.clone();
    broken.setup_fee_cents = -1;
    assert!(matches!(
        quote(&broken, &three).unwrap_err(),
        WizardError::InvalidTier(_)
    ));

    let mut huge = t;
    huge.setup_fee_cents = i64::MAX;
    assert!(
        quote(&huge, &three)
            .unwrap_err()
            .to_string()
            .contains("overflow")
    );
}

#[tokio::test]
async fn tier_admin_over_sqlite_maps_the_same_errors() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tiers.db").display());
    let store = provisioning::store::SqliteStore::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    store.seed_default_tiers().await.unwrap();
    let t = create_tier(&store, TierInput::new("Agency", "agency", 25, 1, 2))
        .await
        .unwrap();
    assert_eq!(store.tier_by_slug("agency").await.unwrap(), t);
    let e = create_tier(&store, TierInput::new("Again", "agency", 1, 0, 0))
        .await
        .unwrap_err();
    assert!(matches!(e, WizardError::DuplicateTierSlug(_)), "{e:?}");
    let mut dup = t.clone();
    dup.id = TierId::new();
    let e: WizardError = store.put_tier(&dup).await.unwrap_err().into();
    assert!(matches!(e, WizardError::DuplicateTierSlug(_)), "{e:?}");
    assert!(matches!(
        update_tier(&store, TierId::new(), TierInput::new("N", "n", 1, 0, 0))
            .await
            .unwrap_err(),
        WizardError::TierNotFound(_)
    ));
    let off = deactivate_tier(&store, t.id).await.unwrap();
    assert!(!store.tier(off.id).await.unwrap().is_active);
}
