//! Client tests against wiremock: method, path, auth header, query and body of every
//! operation, decoding of the documented shapes (with unknown fields and enum values),
//! error decoding, secrets, and the quota analysis.

use std::time::Duration;

use plusvibe::accounts::{
    AccountSettings, InlineSending, InlineWarmup, ListAccounts, MailServers, RegularAccount,
    ReplyRate, SendingSettings, WarmupSchedule, WarmupSettings,
};
use plusvibe::clients::{CreateClient, WorkspaceGrant};
use plusvibe::partner::{GoogleOauthRequest, PartnerUpload};
use plusvibe::{
    AccountId, AccountStatus, Client, ClientId, ClientStatus, ErrorKind, PartnerCredentials,
    Permission, Provider, RateLimits, RetryConfig, SecretString, WarmupStatus, WorkspaceId, YesNo,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const KEY: &str = "pv-test-key-8c1f2e9d";
const WS: &str = "65f3c92d3dbe5dbb35374a9a";
const ACC1: &str = "6835fffd1710b6f930a27f47";
const ACC2: &str = "6835fffd1710b6f930a27f13";
const SECRET_PW: &str = "Imap-Secret-Pa55!";
const PIPL_PW: &str = "Pipl-Login-Secret-9";

fn fixture(name: &str) -> Value {
    let p = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

async fn setup() -> (MockServer, Client) {
    let server = MockServer::start().await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/api/v1", server.uri()))
        .retry(RetryConfig::fast())
        .rate_limits(RateLimits::unlimited())
        .build()
        .unwrap();
    (server, client)
}

fn no_retry(server: &MockServer) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/api/v1", server.uri()))
        .retry(RetryConfig::disabled())
        .rate_limits(RateLimits::unlimited())
        .build()
        .unwrap()
}

fn ws() -> WorkspaceId {
    WorkspaceId::from(WS)
}

fn account(email: &str) -> RegularAccount {
    RegularAccount::new(
        email,
        "Tim",
        "Keen",
        MailServers::same_host("mail.getacme.com"),
        SecretString::from(SECRET_PW),
    )
    .with_sending(InlineSending::recommended())
    .with_warmup(InlineWarmup::recommended())
}

// ---------------------------------------------------------------------------------------
// Workspaces
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn list_workspaces_calls_authenticate() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/authenticate"))
        .and(header("x-api-key", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "success",
            "01JW0G0CD9F9YNGY86ZKEKTNV3": "apidog artifact",
            "account": {"email": "owner@agency.example"},
            "workspaces": [
                {"_id": WS, "name": "Acme Outreach", "plan": "BUSINESS"},
                {"_id": "66c5860c0d3839cddfe96a31", "name": "Nova's Infrastructure"}
            ]
        })))
        .expect(2)
        .mount(&server)
        .await;
    let list = client.workspaces().list().await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].id, WS);
    assert_eq!(list[0].name, "Acme Outreach");
    assert_eq!(list[0].extra["plan"], "BUSINESS");
    let found = client
        .workspaces()
        .find_by_name("Nova's Infrastructure")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, "66c5860c0d3839cddfe96a31");
}

#[tokio::test]
async fn create_workspace_puts_the_auth_workspace_in_the_body() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/workspaces/add/"))
        .and(header("x-api-key", KEY))
        .and(body_json(
            json!({"workspace_id": WS, "workspace_name": "Nova's Infrastructure"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"status": "success", "_id": "66c5860c0d3839cddfe96a31", "new": 1}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let created = client
        .workspaces()
        .create(&ws(), "Nova's Infrastructure")
        .await
        .unwrap();
    assert_eq!(created.id.unwrap(), "66c5860c0d3839cddfe96a31");
    assert_eq!(created.status.as_deref(), Some("success"));
    // Empty names never reach the vendor.
    let e = client.workspaces().create(&ws(), "  ").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(!e.may_have_reached_vendor());
}

#[tokio::test]
async fn create_workspace_is_never_retried_after_a_5xx() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/workspaces/add/"))
        .respond_with(ResponseTemplate::new(502).set_body_json(json!({"message": "bad gateway"})))
        .expect(1)
        .mount(&server)
        .await;
    let e = client.workspaces().create(&ws(), "X").await.unwrap_err();
    assert!(e.may_have_taken_effect());
    assert_eq!(e.kind(), ErrorKind::Server);
}

// ---------------------------------------------------------------------------------------
// Client access
// ---------------------------------------------------------------------------------------

fn create_client_req() -> CreateClient {
    CreateClient {
        client_email: "nova.smith@example.com".into(),
        client_first_name: "Nova".into(),
        client_last_name: "Smith".into(),
        client_business_name: "Nova Consulting Ltd".into(),
        workspaces: vec![WorkspaceGrant::new(
            "6a4d2d81fed50998a91ac742",
            vec![
                Permission::from("CAMPAIGN_LIST"),
                Permission::from("EMAILACCOUNT_LIST"),
            ],
        )],
        notify_pos_reply_email: None,
    }
}

#[tokio::test]
async fn create_client_sends_the_documented_body_and_keeps_the_password_secret() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/client"))
        .and(header("x-api-key", KEY))
        .and(body_json(json!({
            "workspace_id": WS,
            "client_email": "nova.smith@example.com",
            "client_first_name": "Nova", "client_last_name": "Smith",
            "client_business_name": "Nova Consulting Ltd",
            "workspaces": [ { "id": "6a4d2d81fed50998a91ac742",
                              "permissions": ["CAMPAIGN_LIST", "EMAILACCOUNT_LIST"],
                              "hide_labels": [] } ]
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "client_id": "70218d5e05561a3877dcb77f",
            "email": "nova.smith@example.com",
            "password": "Gen3rated-0nce!",
            "unexpected": [1, 2]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let created = client
        .client_access()
        .create(&ws(), &create_client_req())
        .await
        .unwrap();
    assert_eq!(created.client_id, "70218d5e05561a3877dcb77f");
    assert_eq!(created.email.as_deref(), Some("nova.smith@example.com"));
    use plusvibe::ExposeSecret;
    assert_eq!(
        created.password.as_ref().unwrap().expose_secret(),
        "Gen3rated-0nce!"
    );
    let dbg = format!("{created:?}");
    assert!(!dbg.contains("Gen3rated"), "{dbg}");
    assert!(dbg.contains("[REDACTED]"));
}

#[tokio::test]
async fn create_client_error_bodies_never_show_the_password() {
    let (server, client) = setup().await;
    // A broken success body that carries the password: the decode error must redact it.
    Mock::given(method("POST"))
        .and(path("/api/v1/client"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"{"client_id": 42, "password": "Gen3rated-0nce!", "email": "#),
        )
        .expect(1)
        .mount(&server)
        .await;
    let e = client
        .client_access()
        .create(&ws(), &create_client_req())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode);
    assert!(e.may_have_taken_effect());
    for s in [e.to_string(), format!("{e:?}")] {
        assert!(!s.contains("Gen3rated"), "{s}");
    }
}

#[tokio::test]
async fn list_and_delete_clients() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/client/"))
        .and(query_param("workspace_id", WS))
        .and(header("x-api-key", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "clients": [
                { "client_id": "70218d5e05561a3877dcb77f", "first_name": "Nova", "last_name": "Smith",
                  "email": "nova.smith@example.com", "status": "ACTIVE", "extra_field": true,
                  "client_permissions": [ { "workspace_id": "6a4d2d81fed50998a91ac742",
                                            "permissions": ["CAMPAIGN_LIST"], "hide_labels": [] } ] },
                { "client_id": "70218d5e05561a3877dcb780", "email": "x@example.com", "status": "SUSPENDED" }
            ]
        })))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v1/client"))
        .and(header("x-api-key", KEY))
        .and(body_json(
            json!({"workspace_id": WS, "client_id": "70218d5e05561a3877dcb77f"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "success"})))
        .expect(1)
        .mount(&server)
        .await;
    let list = client.client_access().list(&ws()).await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].first_name.as_deref(), Some("Nova"));
    assert_eq!(list[0].status, Some(ClientStatus::Active));
    assert_eq!(
        list[0].client_permissions[0].workspace_id,
        "6a4d2d81fed50998a91ac742"
    );
    assert_eq!(
        list[0].client_permissions[0].permissions[0],
        "CAMPAIGN_LIST"
    );
    assert_eq!(
        list[1].status,
        Some(ClientStatus::Other("SUSPENDED".into()))
    );
    let found = client
        .client_access()
        .find_by_email(&ws(), "NOVA.smith@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.client_id, "70218d5e05561a3877dcb77f");
    let r = client
        .client_access()
        .delete(&ws(), &ClientId::from("70218d5e05561a3877dcb77f"))
        .await
        .unwrap();
    assert_eq!(r.status.as_deref(), Some("success"));
}

// ---------------------------------------------------------------------------------------
// Email accounts
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn list_accounts_decodes_the_documented_shape_leniently() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/account/list"))
        .and(header("x-api-key", KEY))
        .and(query_param("workspace_id", WS))
        .and(query_param("skip", "0"))
        .and(query_param("limit", "10"))
        .and(query_param("email", "tim@getacme.com"))
        .and(query_param("tags", "t1,t2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("account_list.json")))
        .expect(1)
        .mount(&server)
        .await;
    let params = ListAccounts {
        skip: Some(0),
        limit: Some(10),
        email: Some("tim@getacme.com".into()),
        tags: vec!["t1".into(), "t2".into()],
    };
    let accounts = client.email_accounts().list(&ws(), &params).await.unwrap();
    assert_eq!(accounts.len(), 3);

    let tim = &accounts[0];
    assert_eq!(tim.id, ACC1);
    assert_eq!(tim.status, Some(AccountStatus::Active));
    assert_eq!(tim.provider, Some(Provider::RegularAccount));
    assert!(tim.is_warmup_active());
    assert_eq!(tim.daily_limit(), Some(30));
    assert_eq!(tim.payload.sending_gap, Some(5));
    assert_eq!(tim.payload.smtp_port, Some(465)); // sent as a string
    assert_eq!(tim.payload.warmup.as_ref().unwrap().reply_rate, Some(30.0));
    assert_eq!(tim.extra["brand_new_top_level_field"]["anything"], true);
    assert_eq!(tim.payload.extra["some_new_payload_field"], 7);
    let h = tim.warmup_health();
    assert_eq!(h.overall_7d, Some(98.0));
    assert_eq!(h.google_7d, Some(97.5));
    assert_eq!(h.microsoft_7d, Some(100.0));
    assert_eq!(h.other_7d, None, "-1 is no data");
    assert_eq!(h.reply_rate_7d, Some(31.0));
    assert_eq!(h.email_sent_today, Some(0), "0 is a measured zero");
    assert_eq!(h.warmup_email_sent_today, Some(6));
    assert!(h.has_scores());
    let hs = &tim.payload.analytics.health_scores;
    assert_eq!(hs.miss_warmup_rate_1d, Some(0.0));
    assert_eq!(hs.bounce_rate_3d, None);
    assert_eq!(hs.get("30d_overall_warmup_health"), Some(95.0));
    assert_eq!(
        tim.payload.analytics.reply_rates.get("30d_replyrate"),
        Some(28.0)
    );
    assert_eq!(tim.payload.analytics.reply_rates.ooo_reply_rate_7d, None);

    // `_id` instead of `id`, unknown enum values kept.
    let ann = &accounts[1];
    assert_eq!(ann.id, ACC2);
    assert_eq!(
        ann.status,
        Some(AccountStatus::Other("RECONNECTING".into()))
    );
    assert_eq!(
        ann.warmup_status,
        Some(WarmupStatus::Other("PAUSED".into()))
    );
    assert_eq!(ann.provider, Some(Provider::Other("ZOHO".into())));
    let h = ann.warmup_health();
    assert!(!h.has_scores());
    assert_eq!(h.email_sent_today, None);

    // `payload: null`.
    assert_eq!(accounts[2].warmup_health(), Default::default());

    // Serializing writes "no data" back as -1.
    let v = serde_json::to_value(tim).unwrap();
    assert_eq!(
        v["payload"]["analytics"]["health_scores"]["7d_other_warmup_health"],
        -1
    );
    assert_eq!(
        v["payload"]["analytics"]["health_scores"]["7d_overall_warmup_health"],
        98.0
    );
}

/// Answers `/account/list` from a fixed set of `n` accounts honouring skip/limit.
struct Pager(usize);

impl Respond for Pager {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let q: std::collections::HashMap<_, _> = req.url.query_pairs().into_owned().collect();
        let skip: usize = q["skip"].parse().unwrap();
        let limit: usize = q["limit"].parse().unwrap();
        let rows: Vec<Value> = (skip..self.0.min(skip + limit))
            .map(|i| json!({"id": format!("{i:024x}"), "email": format!("u{i}@acme.com")}))
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({ "accounts": rows }))
    }
}

#[tokio::test]
async fn list_all_pages_until_a_short_page() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/account/list"))
        .and(query_param("workspace_id", WS))
        .respond_with(Pager(7))
        .expect(3) // 3 + 3 + 1
        .mount(&server)
        .await;
    let all = client
        .email_accounts()
        .list_all(&ws(), &ListAccounts::page(0, 3))
        .await
        .unwrap();
    assert_eq!(all.len(), 7);
    assert_eq!(all[6].email, "u6@acme.com");
}

#[tokio::test]
async fn list_all_stops_on_an_exact_multiple_after_an_empty_page() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/account/list"))
        .respond_with(Pager(200))
        .expect(3) // 100 + 100 + 0 (default page size 100)
        .mount(&server)
        .await;
    let all = client
        .email_accounts()
        .list_all(&ws(), &ListAccounts::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 200);
}

#[tokio::test]
async fn list_all_guards_against_a_server_that_ignores_skip() {
    let (server, client) = setup().await;
    let rows: Vec<Value> = (0..2)
        .map(|i| json!({"id": format!("{i:024x}"), "email": format!("u{i}@acme.com")}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/api/v1/account/list"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "accounts": rows })))
        .expect(2)
        .mount(&server)
        .await;
    let all = client
        .email_accounts()
        .list_all(&ws(), &ListAccounts::page(0, 2))
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
}

#[tokio::test]
async fn presence_and_find_by_email() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/account/list"))
        .and(query_param("email", "u1@acme.com"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"accounts": [{"id": format!("{:024x}", 1), "email": "u1@acme.com"}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/account/list"))
        .and(query_param("email", "nobody@acme.com"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"accounts": []})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/account/list"))
        .and(query_param("skip", "0"))
        .respond_with(Pager(3))
        .mount(&server)
        .await;
    let a = client
        .email_accounts()
        .find_by_email(&ws(), "u1@acme.com")
        .await
        .unwrap();
    assert_eq!(a.unwrap().email, "u1@acme.com");
    assert!(
        client
            .email_accounts()
            .find_by_email(&ws(), "nobody@acme.com")
            .await
            .unwrap()
            .is_none()
    );
    let p = client
        .email_accounts()
        .presence(&ws(), &["U2@acme.com", "u0@acme.com", "u9@acme.com"])
        .await
        .unwrap();
    assert!(!p.is_complete());
    assert_eq!(p.missing, vec!["u9@acme.com"]);
    assert_eq!(p.found.len(), 2);
}

#[tokio::test]
async fn bulk_update_sends_typed_settings_in_the_vendor_shape() {
    let (server, client) = setup().await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/account/bulk-update"))
        .and(header("x-api-key", KEY))
        .and(body_json(json!({
            "workspace_id": WS,
            "ids": [ACC1, ACC2],
            "warmup_initial_daily_limit": 2, "warmup_pace_increment": 2, "warmup_max_daily_limit": 30,
            "warmup_reply_rate": 0.3, "warmup_randomize": "yes", "warmup_randomize_num": 20,
            "bulk_warmup_is_slow_rampup": "yes",
            "daily_limit": 30, "interval_limit_in_min": 5,
            "first_name": "Tim", "last_name": "Keen"
        })))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"status": "success", "n": 2})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let ids = [AccountId::from(ACC1), AccountId::from(ACC2)];
    let r = client
        .email_accounts()
        .bulk_update(
            &ws(),
            &ids,
            &AccountSettings::recommended().with_name("Tim", "Keen"),
        )
        .await
        .unwrap();
    assert_eq!(r.status.as_deref(), Some("success"));
    assert_eq!(r.extra["n"], 2);
}

#[tokio::test]
async fn bulk_update_sends_schedule_extras_and_yes_no() {
    let (server, client) = setup().await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/account/bulk-update"))
        .and(body_json(json!({
            "workspace_id": WS,
            "ids": [ACC1],
            "daily_limit": 0,
            "bulk_is_slow_rampup": "no",
            "warmup_signature": "no",
            "warmup_schedule": {"tz": "Europe/Paris", "from_time": "08:00", "to_time": "18:00", "days": ["Monday"]},
            "signature": "<b>Tim</b>",
            "future_field": "x"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "success"})))
        .expect(1)
        .mount(&server)
        .await;
    let mut settings = AccountSettings {
        signature: Some("<b>Tim</b>".into()),
        sending: SendingSettings {
            daily_limit: Some(0),
            bulk_is_slow_rampup: Some(YesNo::No),
            ..Default::default()
        },
        warmup: WarmupSettings {
            warmup_signature: Some(YesNo::from(false)),
            warmup_schedule: Some(WarmupSchedule {
                tz: "Europe/Paris".into(),
                from_time: "08:00".into(),
                to_time: "18:00".into(),
                days: vec!["Monday".into()],
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    settings.extra.insert("future_field".into(), json!("x"));
    client
        .email_accounts()
        .bulk_update(&ws(), &[AccountId::from(ACC1)], &settings)
        .await
        .unwrap();
}

#[tokio::test]
async fn bulk_update_validates_locally_before_spending_a_request() {
    let (server, client) = setup().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let ea = client.email_accounts();
    let s = AccountSettings::recommended();
    for (ids, settings) in [
        (vec![], s.clone()),
        (vec![AccountId::from("not-an-id")], s.clone()),
        (vec![AccountId::from(ACC1)], AccountSettings::default()),
        (
            vec![AccountId::from(ACC1)],
            AccountSettings {
                sending: SendingSettings {
                    bulk_is_slow_rampup: Some(YesNo::Yes),
                    ..Default::default()
                },
                ..Default::default()
            },
        ),
    ] {
        let e = ea.bulk_update(&ws(), &ids, &settings).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
        assert!(!e.may_have_reached_vendor());
    }
    assert!(ReplyRate::from_fraction(1.5).is_err());
    assert!(ReplyRate::from_fraction(f64::NAN).is_err());
    assert_eq!(ReplyRate::from_percent(30).unwrap().fraction(), 0.3);
    assert!(serde_json::from_value::<ReplyRate>(json!(3)).is_err());
}

#[tokio::test]
async fn bulk_update_retries_once_without_a_rejected_business_type() {
    let (server, client) = setup().await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/account/bulk-update"))
        .and(body_partial_json(
            json!({"warmup_business_type": "Generic business type"}),
        ))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"status": "error", "message": "warmup_business_type: is not allowed"}),
        ))
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/account/bulk-update"))
        .and(body_partial_json(json!({"warmup_max_daily_limit": 30})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "success"})))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    let mut s = AccountSettings::recommended();
    s.warmup.warmup_business_type = Some("Generic business type".into());
    client
        .email_accounts()
        .bulk_update(&ws(), &[AccountId::from(ACC1)], &s)
        .await
        .unwrap();
}

#[tokio::test]
async fn bulk_update_warmup_patches_and_chunks_by_100() {
    let (server, client) = setup().await;
    let ids: Vec<AccountId> = (0..150)
        .map(|i| AccountId::from(format!("{i:024x}")))
        .collect();
    let first: Vec<&str> = ids[..100].iter().map(AccountId::as_str).collect();
    let second: Vec<&str> = ids[100..].iter().map(AccountId::as_str).collect();
    for chunk in [first, second] {
        Mock::given(method("PATCH"))
            .and(path("/api/v1/account/bulk-update-warmup"))
            .and(header("x-api-key", KEY))
            .and(body_json(
                json!({"workspace_id": WS, "ids": chunk, "warmup_status": "ACTIVE"}),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "updated_count": chunk.len(), "updated_ids": chunk[..2], "x": 1
            })))
            .expect(1)
            .mount(&server)
            .await;
    }
    let r = client
        .email_accounts()
        .bulk_update_warmup(&ws(), &ids, WarmupStatus::Active)
        .await
        .unwrap();
    assert_eq!(r.updated_count, Some(150));
    assert_eq!(r.updated_ids.len(), 4);
}

#[tokio::test]
async fn bulk_update_warmup_decodes_a_bare_status_and_sends_unknown_values_as_given() {
    let (server, client) = setup().await;
    Mock::given(method("PATCH"))
        .and(path("/api/v1/account/bulk-update-warmup"))
        .and(body_partial_json(json!({"warmup_status": "INACTIVE"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "success"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/api/v1/account/bulk-update-warmup"))
        .and(body_partial_json(json!({"warmup_status": "PAUSED"})))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "status": "error", "message": "warmup_status: must be one of [ACTIVE, INACTIVE]"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let ids = [AccountId::from(ACC1)];
    let r = client
        .email_accounts()
        .bulk_update_warmup(&ws(), &ids, WarmupStatus::Inactive)
        .await
        .unwrap();
    assert_eq!(r.status.as_deref(), Some("success"));
    assert_eq!(r.updated_count, None);
    let e = client
        .email_accounts()
        .bulk_update_warmup(&ws(), &ids, WarmupStatus::from("PAUSED"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(
        e.to_string().contains("must be one of [ACTIVE, INACTIVE]"),
        "{e}"
    );
}

#[tokio::test]
async fn bulk_add_exposes_passwords_only_in_the_request_body() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/account/bulk-add-regular-accounts"))
        .and(header("x-api-key", KEY))
        .and(body_json(json!({
            "workspace_id": WS,
            "accounts": [ { "first_name": "Tim", "last_name": "Keen", "email": "tim@getacme.com",
                            "username": "tim@getacme.com", "password": SECRET_PW,
                            "imap_host": "mail.getacme.com", "imap_port": 993,
                            "smtp_host": "mail.getacme.com", "smtp_username": "tim@getacme.com",
                            "smtp_password": SECRET_PW, "smtp_port": 465,
                            "daily_limit": 30, "min_interval": 5,
                            "enable_warmup": "yes", "warmup_daily_limit": 30,
                            "enable_warmup_rampup": "yes", "warmup_rampup_start": 2, "warmup_rampup_increment": 2 } ]
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "success"})))
        .expect(1)
        .mount(&server)
        .await;
    let acc = account("tim@getacme.com");
    let dbg = format!("{acc:?}");
    assert!(!dbg.contains(SECRET_PW), "{dbg}");
    client
        .email_accounts()
        .bulk_add_regular(&ws(), &[acc])
        .await
        .unwrap();
    // Local validation.
    let mut bad = account("no-at-sign");
    let e = client
        .email_accounts()
        .bulk_add_regular(&ws(), std::slice::from_ref(&bad))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("accounts[0].email"), "{e}");
    bad.email = "ok@getacme.com".into();
    bad.smtp_password = SecretString::from("");
    assert!(
        client
            .email_accounts()
            .bulk_add_regular(&ws(), &[bad])
            .await
            .is_err()
    );
    assert!(
        client
            .email_accounts()
            .bulk_add_regular(&ws(), &[])
            .await
            .is_err()
    );
}

#[tokio::test]
async fn delete_account_by_email_and_treat_404_as_gone() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/account/delete"))
        .and(header("x-api-key", KEY))
        .and(body_json(
            json!({"workspace_id": WS, "email": "tim@getacme.com"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "success"})))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/account/delete"))
        .and(body_partial_json(json!({"email": "gone@getacme.com"})))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({"status": "error", "message": "email account gone@getacme.com not found"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/account/delete"))
        .and(body_partial_json(json!({"email": "old@getacme.com"})))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"message": "Email account does not exist"})),
        )
        .mount(&server)
        .await;
    let ea = client.email_accounts();
    ea.delete(&ws(), "tim@getacme.com").await.unwrap();
    assert!(ea.delete_if_exists(&ws(), "tim@getacme.com").await.unwrap());
    assert!(
        !ea.delete_if_exists(&ws(), "gone@getacme.com")
            .await
            .unwrap()
    );
    assert!(!ea.delete_if_exists(&ws(), "old@getacme.com").await.unwrap());
    let e = ea.delete(&ws(), "gone@getacme.com").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

// ---------------------------------------------------------------------------------------
// Partner API
// ---------------------------------------------------------------------------------------

fn creds() -> PartnerCredentials {
    PartnerCredentials::new("nova.smith@example.com", PIPL_PW)
}

#[tokio::test]
async fn partner_list_workspaces_sends_credentials_in_the_body() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/webhook/partner-list-workspace"))
        .and(body_json(json!({
            "flow": "app_user",
            "pipl_username": "nova.smith@example.com",
            "pipl_password": PIPL_PW
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "code": 1, "message": "ok",
            "data": [{"_id": WS, "name": "Nova"}],
            "total": 1
        })))
        .expect(1)
        .mount(&server)
        .await;
    let partner = client.partner(creds());
    let dbg = format!("{partner:?}");
    assert!(!dbg.contains(PIPL_PW), "{dbg}");
    assert!(dbg.contains("nova.smith@example.com"));
    let r = partner.list_workspaces().await.unwrap();
    assert_eq!(r.code, Some(1));
    assert_eq!(r.workspaces[0].id, WS);
    assert_eq!(r.extra["total"], 1);
}

#[tokio::test]
async fn partner_list_email_accounts_sends_credentials_in_the_query() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/webhook/partner-list-email-accounts"))
        .and(query_param("pipl_username", "nova.smith@example.com"))
        .and(query_param("pipl_password", PIPL_PW))
        .and(query_param("workspace_id", WS))
        .and(query_param("limit", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("account_list.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/webhook/partner-list-email-accounts"))
        .and(query_param("skip", "5"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "message": "ok", "data": [{"id": ACC1, "email": "tim@getacme.com"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let partner = client.partner(creds());
    let accounts = partner
        .list_email_accounts(
            &ws(),
            &ListAccounts {
                limit: Some(100),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(accounts.len(), 3);
    assert_eq!(accounts[0].warmup_health().overall_7d, Some(98.0));
    let data = partner
        .list_email_accounts(&ws(), &ListAccounts::page(5, 10))
        .await
        .unwrap();
    assert_eq!(data[0].email, "tim@getacme.com");
}

#[tokio::test]
async fn partner_errors_never_show_the_password() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/webhook/partner-list-email-accounts"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "code": 0, "message": "Invalid pipl_username or pipl_password",
            "pipl_password": PIPL_PW
        })))
        .mount(&server)
        .await;
    let e = client
        .partner(creds())
        .list_email_accounts(&ws(), &ListAccounts::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    for s in [e.to_string(), format!("{e:?}")] {
        assert!(!s.contains(PIPL_PW), "{s}");
    }
}

#[tokio::test]
async fn standard_api_error_inside_http_200_is_an_error() {
    // The partner envelope's `{"code": 0}` is covered by
    // `partner_rejection_inside_http_200_is_an_error`.
    let (server, client) = setup().await;
    Mock::given(method("PATCH"))
        .and(path("/api/v1/account/bulk-update-warmup"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "error", "message": "warmup_status: must be one of [ACTIVE, INACTIVE]"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let e = client
        .email_accounts()
        .bulk_update_warmup(&ws(), &[AccountId::from(ACC1)], WarmupStatus::Active)
        .await
        .unwrap_err();
    let api = e.api().expect("api error");
    assert_eq!((api.status, api.http_status), (400, 200));
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(
        e.to_string().contains("must be one of [ACTIVE, INACTIVE]"),
        "{e}"
    );
}

#[tokio::test]
async fn partner_upload_sends_inline_warmup_and_provider_id() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/partner-upload-regular-accounts"))
        .and(body_partial_json(json!({
            "workspace_id": WS,
            "pipl_username": "nova.smith@example.com",
            "pipl_password": PIPL_PW,
            "notification_email": "ops@agency.example",
            "provider_id": "prov-1",
            "accounts": [ { "email": "tim@getacme.com", "password": SECRET_PW,
                            "enable_warmup": "yes", "warmup_daily_limit": 30,
                            "enable_warmup_rampup": "yes", "warmup_rampup_start": 2,
                            "warmup_rampup_increment": 2, "daily_limit": 30, "min_interval": 5 } ]
        })))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"code": 1, "message": "received"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let upload = PartnerUpload {
        workspace_id: ws(),
        accounts: vec![account("tim@getacme.com")],
        notification_email: Some("ops@agency.example".into()),
        provider_id: Some("prov-1".into()),
    };
    assert!(!format!("{upload:?}").contains(SECRET_PW));
    let r = client
        .partner(creds())
        .upload_regular_accounts(&upload)
        .await
        .unwrap();
    assert_eq!(r.code, Some(1));
    assert_eq!(r.message.as_deref(), Some("received"));
}

#[tokio::test]
async fn partner_rejection_inside_http_200_is_an_error() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/partner-upload-regular-accounts"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"code": 0, "message": "provider_id: required"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let upload = PartnerUpload {
        workspace_id: ws(),
        accounts: vec![account("tim@getacme.com")],
        notification_email: None,
        provider_id: None,
    };
    let e = client
        .partner(creds())
        .upload_regular_accounts(&upload)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(!e.may_have_taken_effect());
    assert!(e.to_string().contains("provider_id: required"), "{e}");
}

#[tokio::test]
async fn partner_google_oauth_url_and_custom_prefix() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/partner/webhook/partner-google-oauth-url"))
        .and(body_json(json!({
            "flow": "app_user",
            "pipl_username": "nova.smith@example.com",
            "pipl_password": PIPL_PW,
            "workspace_id": WS,
            "min_interval": 5,
            "daily_limit": 30,
            "enable_camp_rampup": "no"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "code": 1, "message": "ok", "data": {"url": "https://accounts.google.com/o/oauth2/auth?x=1"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let partner = client.partner(creds()).with_path_prefix("partner/");
    assert_eq!(partner.path_prefix(), "/partner");
    let mut req = GoogleOauthRequest::new(ws());
    req.min_interval = Some(5);
    req.daily_limit = Some(30);
    req.enable_camp_rampup = Some(YesNo::No);
    let r = partner.google_oauth_url(&req).await.unwrap();
    assert_eq!(
        r.url.as_deref(),
        Some("https://accounts.google.com/o/oauth2/auth?x=1")
    );
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn error_envelopes_decode_to_one_line_with_status_and_message() {
    let server = MockServer::start().await;
    let client = no_retry(&server);
    let cases = [
        (
            400,
            json!({"status": "error", "message": "workspace_id: workspace 1 not found"}),
            ErrorKind::Validation,
            "workspace_id: workspace 1 not found",
        ),
        (
            401,
            json!({"status": "error", "message": "Invalid API key"}),
            ErrorKind::Auth,
            "Invalid API key",
        ),
        (
            403,
            json!({"error": "Business plan required"}),
            ErrorKind::Auth,
            "Business plan required",
        ),
        (
            404,
            json!({"message": "Not Found"}),
            ErrorKind::NotFound,
            "Not Found",
        ),
        (
            422,
            json!({"errors": ["schedules must contain ≤ 1 items", {"field": "daily_limit", "message": "must be ≥ 0"}]}),
            ErrorKind::Validation,
            "schedules must contain ≤ 1 items; daily_limit: must be ≥ 0",
        ),
        (
            500,
            json!({"status": "error", "message": "Internal\nserver error"}),
            ErrorKind::Server,
            "Internal server error",
        ),
    ];
    for (status, body, kind, msg) in cases {
        server.reset().await;
        Mock::given(method("GET"))
            .and(path("/api/v1/authenticate"))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&server)
            .await;
        let e = client.workspaces().list().await.unwrap_err();
        assert_eq!(e.kind(), kind, "{e}");
        assert_eq!(e.status(), Some(status));
        let s = e.to_string();
        assert_eq!(s, format!("plusvibe {status} GET /authenticate: {msg}"));
        assert!(!s.contains('\n'));
        assert!(!s.contains(KEY) && !format!("{e:?}").contains(KEY));
    }
    // A non-JSON error body still gives a one-line error with the status.
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
        .mount(&server)
        .await;
    let e = client.workspaces().list().await.unwrap_err();
    assert_eq!(e.to_string(), "plusvibe 502 GET /authenticate: Bad Gateway");
    // An error status inside a 200.
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "error", "message": "workspace_id: invalid"})),
        )
        .mount(&server)
        .await;
    let e = client.workspaces().list().await.unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert!(e.to_string().contains("(inside HTTP 200)"), "{e}");
}

#[tokio::test]
async fn reads_are_retried_through_5xx_and_429() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/authenticate"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/authenticate"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "0")
                .set_body_json(json!({"message": "Too many requests"})),
        )
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/authenticate"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"workspaces": [{"_id": WS}]})),
        )
        .with_priority(3)
        .mount(&server)
        .await;
    let list = client.workspaces().list().await.unwrap();
    assert_eq!(list[0].id, WS);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

// ---------------------------------------------------------------------------------------
// Secrets and configuration
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn debug_output_never_contains_the_key() {
    let builder = Client::builder().api_key(KEY);
    let b = format!("{builder:?}");
    assert!(!b.contains(KEY), "{b}");
    let client = builder.build().unwrap();
    let c = format!("{client:?}");
    assert!(!c.contains(KEY), "{c}");
    assert_eq!(client.base_url(), "https://api.plusvibe.ai/api/v1");
    let creds = PartnerCredentials::new("a@b.com", PIPL_PW);
    assert!(!format!("{creds:?}").contains(PIPL_PW));
    let missing = Client::builder().build().unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Config);
}

// ---------------------------------------------------------------------------------------
// Quotas
// ---------------------------------------------------------------------------------------

#[test]
fn default_limits_hold_every_window_and_saturate() {
    use vendor_http::limit::analysis::check_saturation;
    let got = check_saturation(
        &plusvibe::default_limits(),
        plusvibe::GENERAL,
        Duration::from_secs(600),
    );
    assert!(got >= 0.95, "achieved {got} of 5/s");
    assert!(got <= 1.0 + 1e-3);
    let got = check_saturation(
        &plusvibe::serialized_limits(),
        plusvibe::GENERAL,
        Duration::from_secs(600),
    );
    assert!(got >= 0.95, "achieved {got} of 2.5/s");
    // No extra buckets: every operation uses the general budget.
    assert!(plusvibe::default_limits().buckets.is_empty());
}

#[test]
fn request_types_serialize_the_vendor_names() {
    let v = serde_json::to_value(AccountSettings::recommended()).unwrap();
    assert_eq!(v["warmup_reply_rate"], 0.3);
    assert_eq!(v["warmup_randomize"], "yes");
    assert!(v.get("first_name").is_none());
    // Round trip through the settings types (e.g. stored tier configuration).
    let back: AccountSettings = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(back, AccountSettings::recommended());
    let v = serde_json::to_value(create_client_req()).unwrap();
    assert_eq!(v["workspaces"][0]["hide_labels"], json!([]));
    assert!(v.get("notify_pos_reply_email").is_none());
    assert_eq!(Permission::all_known().len(), Permission::KNOWN.len());
}
