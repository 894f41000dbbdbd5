//! Bad input (issue 8): property tests that the input helpers and every response decoder
//! never panic and refuse clearly, and a table of hostile inputs through the public API,
//! each refused with a clear error and leaving the store exactly as it was.

use std::sync::Arc;

use bytes::Bytes;
use proptest::prelude::*;
use provisioning::sim::Simulators;
use provisioning::store::SqliteStore;
use provisioning::wizard::{self, TierInput};
use provisioning::{EngineError, NewProvision, Payment, Store};
use serde_json::Value;
use vendor_http::{ClientBuilder, HttpCore, RawResponse, reqwest};

// ----- property tests

/// Any JSON value, nested a few levels.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("NaN"),
            Just("12.99"),
            Just("-1"),
            Just("ACTIVE"),
            Just("PENDING"),
            Just("")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    "[a-zA-Z_]{1,12}",
                    Just("data".to_string()),
                    Just("id".to_string()),
                    Just("status".to_string()),
                    Just("email".to_string()),
                    Just("name".to_string()),
                    Just("domains".to_string()),
                    Just("mailboxes".to_string()),
                    Just("accounts".to_string()),
                    Just("clients".to_string()),
                    Just("items".to_string()),
                    Just("error".to_string()),
                    Just("message".to_string()),
                    Just("pagination".to_string()),
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn core<V: vendor_http::Vendor>() -> HttpCore {
    ClientBuilder::<V>::new()
        .api_key("k")
        .base_url("http://127.0.0.1:9")
        .build_core()
        .unwrap()
}

fn raw(status: u16, body: Vec<u8>) -> RawResponse {
    RawResponse {
        status: reqwest::StatusCode::from_u16(status).unwrap(),
        headers: reqwest::header::HeaderMap::new(),
        body: Bytes::from(body),
    }
}

/// Decode `body` as `T` with `core`: an error must be one clear line naming the vendor.
fn decodes_or_refuses<T: serde::de::DeserializeOwned>(core: &HttpCore, body: &[u8]) {
    if let Err(e) = core.decode::<T>("GET /fuzz", &raw(200, body.to_vec())) {
        let msg = e.to_string();
        assert!(!msg.trim().is_empty());
        assert!(!msg.contains('\n'), "{msg}");
        assert!(msg.starts_with(core.vendor()), "{msg}");
    }
}

macro_rules! every_decoder {
    ($core:expr, $body:expr, [$($t:ty),* $(,)?]) => {
        $( decodes_or_refuses::<$t>($core, $body); )*
    };
}

fn all_decoders(body: &[u8]) {
    let z = core::<zapmail::Zapmail>();
    every_decoder!(
        &z,
        body,
        [
            zapmail::workspaces::Workspace,
            zapmail::workspaces::WorkspaceList,
            zapmail::workspaces::WalletBalance,
            zapmail::domains::Domain,
            zapmail::domains::DomainPage,
            zapmail::domains::DomainAvailability,
            zapmail::domains::BulkAvailability,
            zapmail::domains::ConnectionRequestPage,
            zapmail::mailboxes::Mailbox,
            zapmail::mailboxes::MailboxPage,
            zapmail::mailboxes::MailboxUpdateResult,
            zapmail::exports::ExportStatus,
            zapmail::exports::ThirdPartyAccount,
            zapmail::dns::DnsRecords,
            zapmail::types::Ack,
            zapmail::types::Pagination,
        ]
    );
    let p = core::<plusvibe::PlusVibe>();
    every_decoder!(
        &p,
        body,
        [
            plusvibe::accounts::EmailAccount,
            plusvibe::clients::ClientLogin,
            plusvibe::clients::CreatedClient,
            plusvibe::workspaces::Workspace,
            plusvibe::workspaces::WorkspaceList,
            plusvibe::workspaces::CreatedWorkspace,
            plusvibe::partner::PartnerResponse,
            plusvibe::StatusResponse,
        ]
    );
    let h = core::<heyreach::HeyReach>();
    every_decoder!(&h, body, [
        heyreach::LeadList,
        heyreach::CreatedList,
        heyreach::AddLeadsResponse,
        heyreach::ListLead,
        heyreach::Page<heyreach::LeadList>,
        heyreach::LinkedInAccount,
        heyreach::Campaign,
    ]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn every_response_decoder_refuses_garbage_json_clearly(v in json()) {
        all_decoders(v.to_string().as_bytes());
        // The same value inside the envelopes the vendors use.
        all_decoders(serde_json::json!({"data": v.clone()}).to_string().as_bytes());
        all_decoders(serde_json::json!({"status": "success", "data": v}).to_string().as_bytes());
    }

    #[test]
    fn every_response_decoder_refuses_garbage_bytes_clearly(b in prop::collection::vec(any::<u8>(), 0..256)) {
        all_decoders(&b);
    }

    #[test]
    fn domain_suggestions_never_panic_and_are_valid_names(brand in ".{0,80}") {
        let tlds = zapmail::SupportedTlds::default();
        match wizard::suggest_domains(&brand, &tlds) {
            Ok(names) => {
                prop_assert!(!names.is_empty());
                for n in names {
                    prop_assert!(zapmail::validate::validate_domain_name(&n).is_ok(), "{n}");
                    let tld = zapmail::validate::tld_of(&n).unwrap();
                    prop_assert!(tlds.contains(&tld), "{n}");
                }
            }
            Err(e) => {
                let m = e.to_string();
                prop_assert!(!m.is_empty() && !m.contains('\n'), "{m}");
            }
        }
        let _ = wizard::seed_suggestions(&brand);
    }

    #[test]
    fn usernames_patterns_and_names_never_panic(a in ".{0,70}", b in "[a-z0-9._-]{0,40}") {
        for s in [&a, &b] {
            if let Err(e) = zapmail::validate::validate_mailbox_username(s) {
                prop_assert!(!e.to_string().is_empty());
            }
            let _ = zapmail::validate::validate_domain_name(s);
            if let Err(e) = wizard::sender_names(s) {
                let m = e.to_string();
                prop_assert!(!m.is_empty() && !m.contains('\n'), "{m}");
            }
        }
        match wizard::validate_patterns([a.as_str(), b.as_str()]) {
            Ok([x, y]) => {
                prop_assert!(zapmail::validate::validate_mailbox_username(&x).is_ok());
                prop_assert!(zapmail::validate::validate_mailbox_username(&y).is_ok());
            }
            Err(e) => {
                let m = e.to_string();
                prop_assert!(!m.is_empty() && !m.contains('\n'), "{m}");
            }
        }
    }

    #[test]
    fn price_parsing_never_panics_and_is_exact(text in ".{0,30}", dollars in 0i64..1_000_000, cents in 0i64..100) {
        if let Some(c) = wizard::parse_price_cents(&text) {
            prop_assert!(c >= 0);
        }
        let exact = format!("{dollars}.{cents:02}");
        prop_assert_eq!(wizard::parse_price_cents(&exact), Some(dollars * 100 + cents));
        prop_assert_eq!(wizard::parse_price_cents(&format!("-{exact}")).filter(|c| *c != 0), None);
    }
}

// ----- hostile inputs through the public API

/// Everything the store holds that a refused request could have changed.
async fn store_contents(store: &dyn Store) -> String {
    let mut out = format!("{:?}\n", store.tiers().await.unwrap());
    for p in store.list_provisions().await.unwrap() {
        let s = store.load(p.id).await.unwrap();
        out.push_str(&format!(
            "{} v{} {}\n",
            p.id,
            s.version,
            serde_json::to_string(&s.value).unwrap()
        ));
        out.push_str(&format!(
            "{:?}\n",
            store.events(p.id, 0).await.unwrap().len()
        ));
    }
    out
}

#[tokio::test]
async fn hostile_inputs_are_refused_clearly_and_leave_the_store_unchanged() {
    let sims = Simulators::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("gtm.db").display());
    let store = Arc::new(SqliteStore::open(&url).await.unwrap());
    let engine = sims
        .engine_builder()
        .store(store.clone())
        .secret_key(provisioning::SecretKey::generate())
        .build()
        .await
        .unwrap();
    // Another customer already owns these domains.
    let other = engine
        .create_provision(
            NewProvision::new("Ada Lovelace", "ada@example.com", "starter")
                .domains(["adahq.com", "getada.net", "tryada.org"])
                .patterns("ada", "ada.lovelace"),
        )
        .await
        .unwrap();
    engine.mark_paid(other, Payment::default()).await.unwrap();
    let before = store_contents(store.as_ref()).await;

    let good = || {
        NewProvision::new("Tim Keen", "tim@acme.example", "starter")
            .domains(["acmeone.com", "acmetwo.net", "acmethree.org"])
            .patterns("tim", "tim.keen")
    };
    let huge = "a".repeat(1 << 20);
    let sql = "x'); DROP TABLE infra_provisions; --";
    let shell = "$(rm -rf /); `reboot` | cat /etc/passwd";
    let cases: Vec<(&str, NewProvision, &str)> = vec![
        (
            "empty name",
            NewProvision {
                customer_name: String::new(),
                ..good()
            },
            "name",
        ),
        (
            "huge name",
            NewProvision {
                customer_name: huge.clone(),
                ..good()
            },
            "name",
        ),
        (
            "control characters in the name",
            NewProvision {
                customer_name: "Tim\u{0}Keen".into(),
                ..good()
            },
            "name",
        ),
        (
            "empty email",
            NewProvision {
                customer_email: String::new(),
                ..good()
            },
            "email",
        ),
        (
            "huge email",
            NewProvision {
                customer_email: format!("{huge}@x.com"),
                ..good()
            },
            "email",
        ),
        (
            "SQL in the email",
            NewProvision {
                customer_email: sql.into(),
                ..good()
            },
            "email",
        ),
        (
            "shell in the email",
            NewProvision {
                customer_email: shell.into(),
                ..good()
            },
            "email",
        ),
        (
            "empty tier",
            NewProvision {
                tier_slug: String::new(),
                ..good()
            },
            "tier",
        ),
        (
            "SQL in the tier",
            NewProvision {
                tier_slug: sql.into(),
                ..good()
            },
            "unknown tier",
        ),
        (
            "no domains",
            good().domains(Vec::<String>::new()),
            "exactly 3 domains",
        ),
        (
            "empty domain",
            good().domains(["", "acmetwo.net", "acmethree.org"]),
            "domain",
        ),
        (
            "huge domain",
            good().domains([
                format!("{huge}.com"),
                "acmetwo.net".into(),
                "acmethree.org".into(),
            ]),
            "domain",
        ),
        (
            "unicode domain",
            good().domains(["ácme.com", "acmetwo.net", "acmethree.org"]),
            "domain",
        ),
        (
            "emoji domain",
            good().domains(["🚀acme.com", "acmetwo.net", "acmethree.org"]),
            "domain",
        ),
        (
            "SQL in a domain",
            good().domains([sql, "acmetwo.net", "acmethree.org"]),
            "domain",
        ),
        (
            "shell in a domain",
            good().domains([shell, "acmetwo.net", "acmethree.org"]),
            "domain",
        ),
        (
            "duplicate domains",
            good().domains(["acmeone.com", "ACMEONE.com", "acmethree.org"]),
            "listed twice",
        ),
        (
            "a domain of another customer",
            good().domains(["acmeone.com", "ADAHQ.com", "acmethree.org"]),
            "another customer",
        ),
        ("empty pattern", good().patterns("", "tim"), "pattern"),
        (
            "huge pattern",
            good().patterns(huge.as_str(), "tim"),
            "pattern",
        ),
        ("unicode pattern", good().patterns("tïm", "tim"), "pattern"),
        ("SQL in a pattern", good().patterns(sql, "tim"), "pattern"),
        (
            "shell in a pattern",
            good().patterns(shell, "tim"),
            "pattern",
        ),
    ];
    for (what, req, needle) in cases {
        match engine.create_provision(req).await {
            Err(EngineError::Invalid(msg)) => {
                assert!(
                    msg.to_lowercase().contains(needle),
                    "{what}: {msg:?} lacks {needle:?}"
                );
                assert!(
                    msg.len() < 400,
                    "{what}: message too long ({} bytes)",
                    msg.len()
                );
                assert!(!msg.contains('\n'), "{what}: {msg:?}");
            }
            other => panic!("{what}: expected Invalid, got {other:?}"),
        }
    }

    // Tiers with no domains, no mailboxes or negative prices are refused too.
    for (what, input) in [
        ("zero domains", TierInput::new("Zero", "zero", 0, 100, 100)),
        (
            "negative setup fee",
            TierInput::new("Neg", "neg", 3, -1, 100),
        ),
        (
            "negative monthly fee",
            TierInput::new("Neg", "neg", 3, 100, -100),
        ),
        (
            "zero mailboxes",
            TierInput {
                mailboxes_per_domain: 0,
                ..TierInput::new("None", "none", 3, 100, 100)
            },
        ),
        ("empty slug", TierInput::new("Empty", "", 3, 100, 100)),
        ("SQL slug", TierInput::new("Sql", sql, 3, 100, 100)),
        (
            "taken slug",
            TierInput::new("Starter again", "starter", 3, 100, 100),
        ),
    ] {
        let e = wizard::create_tier(store.as_ref(), input)
            .await
            .unwrap_err();
        let m = e.to_string();
        assert!(!m.is_empty() && !m.contains('\n'), "{what}: {m}");
    }

    // Acting on a provision that does not exist, or in the wrong state.
    let missing = provisioning::ProvisionId::new();
    assert!(engine.mark_paid(missing, Payment::default()).await.is_err());
    assert!(engine.retry(missing).await.is_err());
    assert!(matches!(
        engine.retry(other).await,
        Err(EngineError::WrongState { .. })
    ));

    assert_eq!(store_contents(store.as_ref()).await, before);
    // Nothing reached a vendor either.
    assert!(sims.zapmail.journal().is_empty());
    assert!(sims.plusvibe.journal().is_empty());
    assert!(sims.heyreach.journal().is_empty());
}
