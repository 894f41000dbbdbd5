//! The client against the simulator: the provisioning paths, state transitions, validation,
//! auth, limits, faults, the journal and the Zapmail import link.

use std::time::Duration;

use plusvibe::accounts::{
    AccountSettings, InlineSending, InlineWarmup, ListAccounts, MailServers, RegularAccount,
};
use plusvibe::clients::{CreateClient, WorkspaceGrant};
use plusvibe::mock::{
    AccountSource, AfterApply, ExportedMailbox, Fault, PlusVibeSim, PlusVibeSimConfig,
    SimAccountSeed, SimHealth, TEST_API_KEY, TEST_OWNER_EMAIL, TEST_OWNER_PASSWORD,
    TEST_PROVIDER_ID, TEST_WORKSPACE_NAME, routes,
};
use plusvibe::partner::{GoogleOauthRequest, PartnerUpload};
use plusvibe::{
    AccountId, Client, ErrorKind, ExposeSecret, Limit, LimitSet, PartnerCredentials, Permission,
    RateLimits, Request, RetryConfig, SecretString, WarmupStatus, WorkspaceId,
};
use serde_json::{Value, json};

fn grant(ws: &WorkspaceId) -> CreateClient {
    CreateClient {
        client_email: "nova.smith@example.com".into(),
        client_first_name: "Nova".into(),
        client_last_name: "Smith".into(),
        client_business_name: "Nova's GTM".into(),
        workspaces: vec![WorkspaceGrant::new(ws.clone(), Permission::all_known())],
        notify_pos_reply_email: None,
    }
}

fn mailbox(email: &str, provider: &str) -> ExportedMailbox {
    ExportedMailbox {
        email: email.into(),
        first_name: "Nova".into(),
        last_name: "Smith".into(),
        provider: provider.into(),
        password: "mailbox-secret".into(),
    }
}

fn regular(email: &str) -> RegularAccount {
    RegularAccount::new(
        email,
        "Nova",
        "Smith",
        MailServers::same_host("mail.novagtm.com"),
        SecretString::from("imap-secret-1"),
    )
    .with_sending(InlineSending::recommended())
    .with_warmup(InlineWarmup::recommended())
}

/// Poll `presence` a bounded number of times (waiting is not a timing assertion).
async fn wait_present(client: &Client, ws: &WorkspaceId, emails: &[&str]) -> Vec<AccountId> {
    for _ in 0..100 {
        let p = client.email_accounts().presence(ws, emails).await.unwrap();
        if p.is_complete() {
            return p.found.into_iter().map(|a| a.id).collect();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("accounts never appeared: {emails:?}");
}

async fn raw(client: &Client, req: Request) -> plusvibe::Result<Value> {
    client.core().send::<Value>(req).await
}

fn config() -> PlusVibeSimConfig {
    PlusVibeSimConfig {
        limits: Some(RateLimits::unlimited()),
        ..PlusVibeSimConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// The provisioning path, end to end
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn provisioning_path_workspace_client_import_warmup_and_health() {
    let sim = PlusVibeSim::start_with(config()).await;
    let client = sim.client();
    let agency = sim.agency_workspace_id();

    // Observe, then create the workspace by its deterministic name.
    let ws_list = client.workspaces().list().await.unwrap();
    assert_eq!(ws_list.len(), 1);
    assert_eq!(ws_list[0].name, TEST_WORKSPACE_NAME);
    let name = "Nova's Infrastructure";
    assert!(
        client
            .workspaces()
            .find_by_name(name)
            .await
            .unwrap()
            .is_none()
    );
    let created = client.workspaces().create(&agency, name).await.unwrap();
    let ws = created.id.unwrap();
    assert!(ws.is_object_id());
    assert_eq!(
        client
            .workspaces()
            .find_by_name(name)
            .await
            .unwrap()
            .unwrap()
            .id,
        ws
    );
    assert_eq!(sim.workspaces_created().len(), 1);
    assert_eq!(sim.workspaces_created()[0].name, name);

    // Client login: the password is shown once.
    let login = client
        .client_access()
        .create(&agency, &grant(&ws))
        .await
        .unwrap();
    let password = login.password.clone().unwrap();
    assert!(password.expose_secret().len() >= 12);
    assert_eq!(login.email.as_deref(), Some("nova.smith@example.com"));
    let listed = client.client_access().list(&agency).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].client_permissions[0].workspace_id, ws);
    assert_eq!(
        listed[0].client_permissions[0].permissions.len(),
        Permission::KNOWN.len()
    );
    let list_body = sim
        .journal()
        .entries()
        .into_iter()
        .filter(|e| e.route == routes::LIST_CLIENTS)
        .count();
    assert_eq!(list_body, 1);
    assert_eq!(sim.clients_created(), vec![login.client_id.clone()]);
    assert!(!format!("{:?}", sim.clients()).contains(password.expose_secret()));

    // Zapmail exports to "PIPL" with the client login; accounts appear after a delay.
    let importer = sim.importer();
    assert!(importer.verify_login("nova.smith@example.com", password.expose_secret()));
    assert!(!importer.verify_login("nova.smith@example.com", "wrong"));
    let emails = ["nova@novagtm.com", "n.smith@novagtm.com"];
    let n = importer
        .import_mailboxes(
            "nova.smith@example.com",
            password.expose_secret(),
            vec![
                mailbox(emails[0], "GOOGLE"),
                mailbox(emails[1], "MICROSOFT"),
            ],
            Duration::from_millis(150),
        )
        .unwrap();
    assert_eq!(n, 2);
    let first = client
        .email_accounts()
        .presence(&ws, &emails)
        .await
        .unwrap();
    assert_eq!(first.missing.len(), 2, "not visible before the delay");
    assert_eq!(sim.accounts(&ws).len(), 2);
    assert!(sim.accounts(&ws).iter().all(|a| !a.visible));
    let ids = wait_present(&client, &ws, &emails).await;
    assert_eq!(ids.len(), 2);
    let acc = sim.account_by_email(emails[0]).unwrap();
    assert_eq!(acc.provider, "GOOGLE_WORKSPACE");
    assert_eq!(acc.source, AccountSource::Import);
    assert_eq!(
        sim.account_by_email(emails[1]).unwrap().provider,
        "MICROSOFT365"
    );
    // Nothing landed in the agency workspace.
    assert!(sim.accounts(&agency).is_empty());

    // Opinionated settings, then warmup on.
    client
        .email_accounts()
        .bulk_update(
            &ws,
            &ids,
            &AccountSettings::recommended().with_name("Nova", "Smith"),
        )
        .await
        .unwrap();
    let r = client
        .email_accounts()
        .bulk_update_warmup(&ws, &ids, WarmupStatus::Active)
        .await
        .unwrap();
    assert_eq!(r.updated_count, Some(2));
    let mut got = r.updated_ids.clone();
    got.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(got, want);
    for a in sim.accounts(&ws) {
        assert_eq!(a.warmup_status, "ACTIVE");
        assert!(a.warmup_enb_dt.is_some());
        assert_eq!(a.daily_limit, 30);
        assert_eq!(a.sending_gap, 5);
        assert_eq!(a.warmup_limit, 30);
        assert_eq!(a.warmup_increment, 2);
        assert_eq!(a.warmup_reply_rate, 30.0, "0.3 reads back as 30 percent");
        assert_eq!(a.settings["warmup_randomize"], "yes");
        assert_eq!(a.first_name, "Nova");
    }
    assert_eq!(sim.bulk_updates().len(), 1);
    assert_eq!(
        sim.bulk_updates()[0].settings["warmup_initial_daily_limit"],
        2
    );
    assert_eq!(sim.warmup_updates().len(), 1);
    assert_eq!(sim.warmup_updates()[0].warmup_status, "ACTIVE");

    // The client reads the read shape back.
    let listed = client
        .email_accounts()
        .list_all(&ws, &ListAccounts::default())
        .await
        .unwrap();
    assert!(listed.iter().all(|a| a.is_warmup_active()));
    let w = listed[0].payload.warmup.as_ref().unwrap();
    assert_eq!(
        (w.limit, w.increment, w.reply_rate),
        (Some(30), Some(2), Some(30.0))
    );
    assert_eq!(listed[0].payload.sending_gap, Some(5));

    // Dashboard: no data until the vendor has some; then the figures.
    let h = listed[0].warmup_health();
    assert!(!h.has_scores());
    assert_eq!(h.email_sent_today, Some(0));
    assert!(sim.set_health(
        emails[0],
        SimHealth {
            overall_7d: Some(96.0),
            google_7d: Some(95.5),
            microsoft_7d: Some(100.0),
            other_7d: None,
            reply_rate_7d: Some(0.0),
            email_sent_today: Some(3),
            warmup_email_sent_today: Some(8),
            ..SimHealth::default()
        }
    ));
    let a = client
        .email_accounts()
        .find_by_email(&ws, emails[0])
        .await
        .unwrap()
        .unwrap();
    let h = a.warmup_health();
    assert_eq!(h.overall_7d, Some(96.0));
    assert_eq!(h.google_7d, Some(95.5));
    assert_eq!(h.other_7d, None);
    assert_eq!(
        h.reply_rate_7d,
        Some(0.0),
        "a measured zero is not 'no data'"
    );
    assert_eq!(h.email_sent_today, Some(3));
    assert_eq!(h.warmup_email_sent_today, Some(8));
}

#[tokio::test]
async fn import_is_idempotent_per_email_and_checks_credentials() {
    let sim = PlusVibeSim::start_with(config()).await;
    let client = sim.client();
    let agency = sim.agency_workspace_id();
    let ws = client
        .workspaces()
        .create(&agency, "W")
        .await
        .unwrap()
        .id
        .unwrap();
    let login = client
        .client_access()
        .create(&agency, &grant(&ws))
        .await
        .unwrap();
    let pw = login.password.unwrap();
    let imp = sim.importer();
    let boxes = vec![mailbox("a@x.com", "GOOGLE"), mailbox("b@x.com", "OTHER")];
    imp.import_mailboxes(
        "nova.smith@example.com",
        pw.expose_secret(),
        boxes.clone(),
        Duration::ZERO,
    )
    .unwrap();
    imp.import_mailboxes(
        "NOVA.SMITH@example.com",
        pw.expose_secret(),
        boxes,
        Duration::ZERO,
    )
    .unwrap();
    assert_eq!(sim.accounts(&ws).len(), 2);
    assert_eq!(sim.accounts_added().len(), 2);
    assert_eq!(
        sim.account_by_email("b@x.com").unwrap().provider,
        "REGULAR_ACCOUNT"
    );
    let e = imp
        .import_mailboxes(
            "nova.smith@example.com",
            "bad",
            vec![mailbox("c@x.com", "GOOGLE")],
            Duration::ZERO,
        )
        .unwrap_err();
    assert!(e.contains("invalid"), "{e}");
    assert!(sim.account_by_email("c@x.com").is_none());
    // The owner's login works too, into the account's first workspace.
    assert!(imp.verify_login(TEST_OWNER_EMAIL, TEST_OWNER_PASSWORD));
    imp.import_mailboxes(
        TEST_OWNER_EMAIL,
        TEST_OWNER_PASSWORD,
        vec![mailbox("o@x.com", "GOOGLE")],
        Duration::ZERO,
    )
    .unwrap();
    assert_eq!(sim.accounts(&agency).len(), 1);
    // A deleted client login no longer works.
    client
        .client_access()
        .delete(&agency, &login.client_id)
        .await
        .unwrap();
    assert!(!imp.verify_login("nova.smith@example.com", pw.expose_secret()));
    assert!(
        client
            .client_access()
            .list(&agency)
            .await
            .unwrap()
            .is_empty()
    );
    let e = client
        .client_access()
        .delete(&agency, &login.client_id)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

// ---------------------------------------------------------------------------------------
// Lost answers, retries, rate limits
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn creates_are_sent_once_when_the_answer_is_lost() {
    for after in [AfterApply::Status(502), AfterApply::Drop] {
        let sim = PlusVibeSim::start_with(config()).await;
        // A dropped connection may only surface as a timeout: keep it short.
        let client = sim
            .client_builder()
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let agency = sim.agency_workspace_id();

        sim.faults()
            .inject(routes::CREATE_CLIENT, Fault::ApplyThen(after), 1);
        let e = client
            .client_access()
            .create(&agency, &grant(&agency))
            .await
            .unwrap_err();
        assert!(e.may_have_taken_effect(), "{after:?}: {e}");
        assert_eq!(sim.journal().count(routes::CREATE_CLIENT), 1, "{after:?}");
        assert_eq!(sim.clients_created().len(), 1);
        assert_eq!(sim.clients().len(), 1);
        // Observe before acting again: the login exists.
        assert!(
            client
                .client_access()
                .find_by_email(&agency, "nova.smith@example.com")
                .await
                .unwrap()
                .is_some()
        );

        sim.faults()
            .inject(routes::CREATE_WORKSPACE, Fault::ApplyThen(after), 1);
        let e = client
            .workspaces()
            .create(&agency, "Lost")
            .await
            .unwrap_err();
        assert!(e.may_have_taken_effect());
        assert_eq!(sim.journal().count(routes::CREATE_WORKSPACE), 1);
        assert_eq!(sim.workspaces_created().len(), 1);
        assert!(
            client
                .workspaces()
                .find_by_name("Lost")
                .await
                .unwrap()
                .is_some()
        );

        sim.faults()
            .inject(routes::BULK_ADD, Fault::ApplyThen(after), 1);
        let e = client
            .email_accounts()
            .bulk_add_regular(&agency, &[regular("n@nova.com")])
            .await
            .unwrap_err();
        assert!(e.may_have_taken_effect());
        assert_eq!(sim.journal().count(routes::BULK_ADD), 1);
        assert_eq!(sim.accounts(&agency).len(), 1);
    }
}

#[tokio::test]
async fn reads_are_retried_through_server_errors_timeouts_drops_and_garbage() {
    let sim = PlusVibeSim::start_with(PlusVibeSimConfig {
        hang: Duration::from_secs(2),
        ..config()
    })
    .await;
    let client = sim
        .client_builder()
        .timeout(Duration::from_millis(300))
        .retry(RetryConfig {
            max_attempts: 6,
            ..RetryConfig::fast()
        })
        .build()
        .unwrap();
    let ws = sim.agency_workspace_id();
    sim.seed_account(&ws, "a@x.com", "A", "B").unwrap();
    for f in [
        Fault::Status(500),
        Fault::Timeout,
        Fault::Drop,
        Fault::Malformed,
        Fault::Status(503),
    ] {
        sim.faults().inject(routes::LIST_ACCOUNTS, f, 1);
    }
    let got = client
        .email_accounts()
        .list(&ws, &ListAccounts::default())
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(sim.journal().count(routes::LIST_ACCOUNTS), 6);
    assert_eq!(sim.faults().pending(), 0);
    // Idempotent writes are retried too (warmup status is a state, not a create).
    sim.faults()
        .inject(routes::BULK_UPDATE_WARMUP, Fault::Status(500), 1);
    let r = client
        .email_accounts()
        .bulk_update_warmup(&ws, &[got[0].id.clone()], WarmupStatus::Active)
        .await
        .unwrap();
    assert_eq!(r.updated_count, Some(1));
    assert_eq!(sim.journal().count(routes::BULK_UPDATE_WARMUP), 2);
}

#[tokio::test]
async fn the_simulators_own_429_is_honoured() {
    let sim = PlusVibeSim::start_with(PlusVibeSimConfig {
        limits: Some(RateLimits::new(LimitSet::new([Limit::new(
            2,
            Duration::from_secs(1),
        )]))),
        ..PlusVibeSimConfig::default()
    })
    .await;
    let client = sim
        .client_builder()
        .rate_limits(RateLimits::unlimited())
        .build()
        .unwrap();
    for _ in 0..4 {
        client.workspaces().list().await.unwrap();
    }
    assert!(sim.journal().rate_limited() >= 1);
    assert_eq!(
        sim.journal()
            .count_where(|e| e.route == routes::AUTHENTICATE && e.status == 200),
        4
    );
    let limited = sim
        .journal()
        .entries()
        .into_iter()
        .find(|e| e.rate_limited)
        .unwrap();
    assert_eq!(limited.status, 429);
    assert!(sim.limits().refused() >= 1);
}

#[tokio::test]
async fn default_limits_are_enforced_and_scalable() {
    // Default: 5/s per key; the sim's own client shares those limits and never trips them.
    let sim = PlusVibeSim::start().await;
    assert_eq!(sim.limits().limits(), plusvibe::default_limits());
    let client = sim.client();
    for _ in 0..8 {
        client.workspaces().list().await.unwrap();
    }
    assert_eq!(sim.journal().rate_limited(), 0);
    // Scaled limits: 10x faster, same shape; a burst of 30 stays under.
    let sim = PlusVibeSim::start_with(PlusVibeSimConfig {
        limits: Some(plusvibe::default_limits().scaled(10.0)),
        ..PlusVibeSimConfig::default()
    })
    .await;
    let client = sim.client();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let c = client.clone();
        set.spawn(async move { c.workspaces().list().await });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap().unwrap();
    }
    assert_eq!(sim.journal().rate_limited(), 0);
    assert_eq!(sim.journal().len(), 30);
}

// ---------------------------------------------------------------------------------------
// Validation and auth
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn auth_errors() {
    let sim = PlusVibeSim::start_with(config()).await;
    let bad = sim
        .client_builder()
        .api_key("pv-wrong-key")
        .build()
        .unwrap();
    let e = bad.workspaces().list().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert_eq!(e.status(), Some(401));
    assert_eq!(
        e.to_string(),
        "plusvibe 401 GET /authenticate: Invalid API key"
    );
    assert!(!format!("{e:?}").contains("pv-wrong-key"));
    // No key at all.
    let resp = vendor_http::reqwest::Client::new()
        .get(format!("{}/authenticate", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "error");
}

#[tokio::test]
async fn workspaces_of_another_key_are_a_400() {
    let sim = PlusVibeSim::start_with(PlusVibeSimConfig {
        accounts: vec![
            SimAccountSeed::default(),
            SimAccountSeed {
                api_key: "pv-other-key".into(),
                owner_email: "other@agency.example".into(),
                owner_password: "other-pw".into(),
                workspace_name: "Other".into(),
            },
        ],
        ..config()
    })
    .await;
    let mine = sim.client();
    let other = sim
        .client_builder()
        .api_key("pv-other-key")
        .build()
        .unwrap();
    let other_ws = other.workspaces().list().await.unwrap()[0].id.clone();
    assert_eq!(other.workspaces().list().await.unwrap().len(), 1);
    let e = mine
        .email_accounts()
        .list(&other_ws, &ListAccounts::default())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("workspace_id"), "{e}");
    let e = mine
        .email_accounts()
        .list(
            &WorkspaceId::from("000000000000000000000000"),
            &ListAccounts::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert!(!format!("{:?}", sim.state()).is_empty());
}

#[tokio::test]
async fn create_client_validation() {
    let sim = PlusVibeSim::start_with(config()).await;
    let client = sim.client();
    let ws = sim.agency_workspace_id();
    let base = json!({
        "workspace_id": ws, "client_email": "c@x.com", "client_first_name": "C",
        "client_last_name": "", "client_business_name": "",
        "workspaces": [{"id": ws, "permissions": [], "hide_labels": []}]
    });
    let without = |field: &str| {
        let mut b = base.clone();
        b.as_object_mut().unwrap().remove(field);
        b
    };
    let mut no_labels = base.clone();
    no_labels["workspaces"][0]
        .as_object_mut()
        .unwrap()
        .remove("hide_labels");
    let mut foreign = base.clone();
    foreign["workspaces"][0]["id"] = json!("000000000000000000000001");
    let mut bad_email = base.clone();
    bad_email["client_email"] = json!("not-an-email");
    for (body, want) in [
        (without("client_last_name"), "client_last_name: required"),
        (
            without("client_business_name"),
            "client_business_name: required",
        ),
        (without("client_email"), "client_email: required"),
        (without("workspaces"), "workspaces: required"),
        (without("workspace_id"), "workspace_id: required"),
        (no_labels, "workspaces[0].hide_labels: required"),
        (foreign, "workspaces[0].id"),
        (bad_email, "client_email: must be a valid email"),
    ] {
        let e = raw(&client, Request::post("/client").json(&body))
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(400), "{want}");
        assert!(e.to_string().contains(want), "{e} / {want}");
    }
    // Empty last and business names are fine; a duplicate email is not.
    let ok = raw(&client, Request::post("/client").json(&base))
        .await
        .unwrap();
    assert!(ok["password"].is_string());
    let e = raw(&client, Request::post("/client").json(&base))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(sim.clients().len(), 1);
    // Trailing slash accepted.
    let mut other = base.clone();
    other["client_email"] = json!("d@x.com");
    raw(&client, Request::post("/client/").json(&other))
        .await
        .unwrap();
    assert_eq!(sim.clients().len(), 2);
    // The list never shows the password.
    let listed = raw(&client, Request::get("/client/").query("workspace_id", &ws))
        .await
        .unwrap();
    assert!(!listed.to_string().contains("password"), "{listed}");
}

#[tokio::test]
async fn workspace_names_duplicates_are_configurable() {
    let sim = PlusVibeSim::start_with(config()).await;
    let c = sim.client();
    let agency = sim.agency_workspace_id();
    let a = c
        .workspaces()
        .create(&agency, "Same")
        .await
        .unwrap()
        .id
        .unwrap();
    let b = c
        .workspaces()
        .create(&agency, "Same")
        .await
        .unwrap()
        .id
        .unwrap();
    assert_ne!(a, b);
    assert_eq!(
        c.workspaces()
            .find_by_name("Same")
            .await
            .unwrap()
            .unwrap()
            .id,
        a
    );
    let e = raw(
        &c,
        Request::post("/workspaces/add/").json(&json!({"workspace_id": agency})),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("workspace_name: required"), "{e}");

    let sim = PlusVibeSim::start_with(PlusVibeSimConfig {
        reject_duplicate_workspace_names: true,
        ..config()
    })
    .await;
    let c = sim.client();
    let agency = sim.agency_workspace_id();
    c.workspaces().create(&agency, "Same").await.unwrap();
    let e = c.workspaces().create(&agency, "same").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(sim.workspaces().len(), 2);
}

#[tokio::test]
async fn bulk_update_validation_and_partial_application() {
    let sim = PlusVibeSim::start_with(config()).await;
    let c = sim.client();
    let ws = sim.agency_workspace_id();
    let id = sim.seed_account(&ws, "a@x.com", "A", "B").unwrap();
    let put = |extra: Value| {
        let mut body = json!({"workspace_id": ws, "ids": [id]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        Request::put("/account/bulk-update").json(&body)
    };
    for (extra, want) in [
        (json!({"warmup_reply_rate": 30}), "warmup_reply_rate"),
        (
            json!({"warmup_randomize": true}),
            "warmup_randomize: must be one of [yes, no]",
        ),
        (
            json!({"bulk_is_slow_rampup": "yes"}),
            "daily_limit: required",
        ),
        (json!({"daily_limit": -1}), "daily_limit: must be between"),
        (json!({"bulk_limit_rand_pct": 60}), "bulk_limit_rand_pct"),
        (json!({"warmup_schedule": {"tz": "UTC"}}), "warmup_schedule"),
        (json!({"ids": []}), "ids: must contain at least 1 items"),
        (json!({"ids": ["ABC"]}), "ids[0]: must match pattern"),
    ] {
        let e = raw(&c, put(extra)).await.unwrap_err();
        assert_eq!(e.status(), Some(400), "{want}");
        assert!(e.to_string().contains(want), "{e} / {want}");
    }
    assert!(sim.bulk_updates().is_empty());
    // Partial update: only daily_limit changes; an unknown id is ignored.
    let before = sim.account_by_email("a@x.com").unwrap();
    let settings = AccountSettings {
        sending: plusvibe::accounts::SendingSettings {
            daily_limit: Some(0),
            ..Default::default()
        },
        ..Default::default()
    };
    c.email_accounts()
        .bulk_update(
            &ws,
            &[id.clone(), AccountId::from("aaaaaaaaaaaaaaaaaaaaaaaa")],
            &settings,
        )
        .await
        .unwrap();
    let after = sim.account_by_email("a@x.com").unwrap();
    assert_eq!(after.daily_limit, 0);
    assert_eq!(after.sending_gap, before.sending_gap);
    assert_eq!(after.warmup_limit, before.warmup_limit);
    assert_eq!(sim.bulk_updates()[0].updated_ids, vec![id.clone()]);
    // Wrong method: the doc says PUT.
    let e = raw(
        &c,
        Request::patch("/account/bulk-update").json(&json!({"workspace_id": ws, "ids": [id]})),
    )
    .await
    .unwrap_err();
    assert_eq!(e.status(), Some(405));
    let e = raw(&c, Request::get("/account/nope").query("workspace_id", &ws))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn business_type_rejection_is_retried_without_it() {
    let sim = PlusVibeSim::start_with(PlusVibeSimConfig {
        reject_warmup_business_type: true,
        ..config()
    })
    .await;
    let c = sim.client();
    let ws = sim.agency_workspace_id();
    let id = sim.seed_account(&ws, "a@x.com", "A", "B").unwrap();
    let mut s = AccountSettings::recommended();
    s.warmup.warmup_business_type = Some("Generic business type".into());
    c.email_accounts()
        .bulk_update(&ws, &[id], &s)
        .await
        .unwrap();
    assert_eq!(sim.journal().count(routes::BULK_UPDATE), 2);
    assert_eq!(sim.bulk_updates().len(), 1);
    assert!(
        !sim.bulk_updates()[0]
            .settings
            .contains_key("warmup_business_type")
    );
}

#[tokio::test]
async fn warmup_status_accepts_only_active_and_inactive() {
    let sim = PlusVibeSim::start_with(config()).await;
    let c = sim.client();
    let ws = sim.agency_workspace_id();
    let id = sim.seed_account(&ws, "a@x.com", "A", "B").unwrap();
    assert_eq!(
        sim.account_by_email("a@x.com").unwrap().warmup_status,
        "INACTIVE"
    );
    let e = c
        .email_accounts()
        .bulk_update_warmup(&ws, std::slice::from_ref(&id), WarmupStatus::from("PAUSED"))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert_eq!(
        e.to_string(),
        "plusvibe 400 PATCH /account/bulk-update-warmup: warmup_status: must be one of [ACTIVE, INACTIVE]"
    );
    assert!(sim.warmup_updates().is_empty());
    c.email_accounts()
        .bulk_update_warmup(&ws, std::slice::from_ref(&id), WarmupStatus::Active)
        .await
        .unwrap();
    let enabled_at = sim
        .account_by_email("a@x.com")
        .unwrap()
        .warmup_enb_dt
        .unwrap();
    let r = c
        .email_accounts()
        .bulk_update_warmup(
            &ws,
            &[id.clone(), AccountId::from("bbbbbbbbbbbbbbbbbbbbbbbb")],
            WarmupStatus::Inactive,
        )
        .await
        .unwrap();
    assert_eq!(r.updated_ids, vec![id.clone()], "only ids that exist");
    let a = sim.account_by_email("a@x.com").unwrap();
    assert_eq!(a.warmup_status, "INACTIVE");
    assert_eq!(a.warmup_enb_dt.as_deref(), Some(enabled_at.as_str()));
    assert_eq!(sim.warmup_updates().len(), 2);
}

#[tokio::test]
async fn bulk_add_is_accepted_then_visible_after_the_delay() {
    let sim = PlusVibeSim::start_with(PlusVibeSimConfig {
        account_add_delay: Duration::from_millis(150),
        ..config()
    })
    .await;
    let c = sim.client();
    let ws = sim.agency_workspace_id();
    let accounts = [regular("a@nova.com"), regular("b@nova.com")];
    let r = c
        .email_accounts()
        .bulk_add_regular(&ws, &accounts)
        .await
        .unwrap();
    assert_eq!(r.status.as_deref(), Some("success"));
    assert!(
        c.email_accounts()
            .list(&ws, &ListAccounts::default())
            .await
            .unwrap()
            .is_empty()
    );
    // Not yet visible: updates and deletes do not see them.
    let e = c
        .email_accounts()
        .delete(&ws, "a@nova.com")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let ids = wait_present(&c, &ws, &["a@nova.com", "b@nova.com"]).await;
    assert_eq!(ids.len(), 2);
    let a = sim.account_by_email("a@nova.com").unwrap();
    assert_eq!(a.source, AccountSource::BulkAdd);
    assert_eq!(a.warmup_status, "ACTIVE", "enable_warmup: yes");
    assert_eq!(a.sending_gap, 5);
    assert!(!a.settings.contains_key("password"));
    assert!(!a.settings.contains_key("smtp_password"));
    // Re-adding skips existing addresses.
    c.email_accounts()
        .bulk_add_regular(&ws, &[regular("a@nova.com"), regular("c@nova.com")])
        .await
        .unwrap();
    assert_eq!(sim.accounts(&ws).len(), 3);
    assert_eq!(sim.accounts_added().len(), 3);
    sim.make_all_visible();
    assert!(sim.accounts(&ws).iter().all(|a| a.visible));
    // Invalid items are a 400.
    let e = raw(
        &c,
        Request::post("/account/bulk-add-regular-accounts").json(&json!({
            "workspace_id": ws,
            "accounts": [{"email": "x@nova.com", "enable_warmup": true}]
        })),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("accounts[0].enable_warmup"), "{e}");
}

#[tokio::test]
async fn delete_by_email_and_paging() {
    let sim = PlusVibeSim::start_with(config()).await;
    let c = sim.client();
    let ws = sim.agency_workspace_id();
    for i in 0..5 {
        sim.seed_account(&ws, &format!("u{i}@x.com"), "U", "X")
            .unwrap();
    }
    let page = c
        .email_accounts()
        .list(&ws, &ListAccounts::page(3, 2))
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|a| a.email.as_str()).collect::<Vec<_>>(),
        ["u3@x.com", "u4@x.com"]
    );
    let all = c
        .email_accounts()
        .list_all(&ws, &ListAccounts::page(0, 2))
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(sim.journal().count(routes::LIST_ACCOUNTS), 4);
    let e = raw(
        &c,
        Request::get("/account/list")
            .query("workspace_id", &ws)
            .query("limit", 0),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("limit"), "{e}");

    c.email_accounts().delete(&ws, "U2@x.com").await.unwrap();
    assert!(sim.account_by_email("u2@x.com").is_none());
    assert_eq!(
        sim.accounts_deleted(),
        vec![(ws.clone(), "U2@x.com".to_string())]
    );
    assert!(
        !c.email_accounts()
            .delete_if_exists(&ws, "u2@x.com")
            .await
            .unwrap()
    );
    assert!(sim.set_account_status("u1@x.com", "ERROR"));
    let a = c
        .email_accounts()
        .find_by_email(&ws, "u1@x.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.status, Some(plusvibe::AccountStatus::Error));
}

// ---------------------------------------------------------------------------------------
// Partner API
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn partner_endpoints_with_owner_and_client_logins() {
    let sim = PlusVibeSim::start_with(config()).await;
    let c = sim.client();
    let agency = sim.agency_workspace_id();
    let ws = c
        .workspaces()
        .create(&agency, "Nova")
        .await
        .unwrap()
        .id
        .unwrap();

    let owner = sim.partner_client(sim.owner_credentials());
    let list = owner.list_workspaces().await.unwrap();
    assert_eq!(list.code, Some(1));
    assert_eq!(list.workspaces.len(), 2);

    let login = c
        .client_access()
        .create(&agency, &grant(&ws))
        .await
        .unwrap();
    let as_client = sim.partner_client(PartnerCredentials::new(
        "nova.smith@example.com",
        login.password.clone().unwrap(),
    ));
    let list = as_client.list_workspaces().await.unwrap();
    assert_eq!(list.workspaces.len(), 1);
    assert_eq!(list.workspaces[0].id, ws);
    // A client login cannot reach the agency workspace.
    let e = as_client
        .list_email_accounts(&agency, &ListAccounts::default())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400));

    // Upload: rejected without a provider id (§6.3), accepted with one.
    let upload = PartnerUpload {
        workspace_id: ws.clone(),
        accounts: vec![regular("p@nova.com")],
        notification_email: Some("ops@agency.example".into()),
        provider_id: None,
    };
    let e = as_client
        .upload_regular_accounts(&upload)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert!(e.to_string().contains("provider_id: required"), "{e}");
    assert!(!e.may_have_taken_effect());
    assert!(sim.partner_uploads().is_empty());
    let with_id = PartnerUpload {
        provider_id: Some(TEST_PROVIDER_ID.into()),
        ..upload.clone()
    };
    let r = as_client.upload_regular_accounts(&with_id).await.unwrap();
    assert_eq!(r.code, Some(1));
    let rec = &sim.partner_uploads()[0];
    assert_eq!(rec.emails, vec!["p@nova.com"]);
    assert_eq!(
        rec.notification_email.as_deref(),
        Some("ops@agency.example")
    );
    let a = sim.account_by_email("p@nova.com").unwrap();
    assert_eq!(a.source, AccountSource::PartnerUpload);
    assert_eq!(a.warmup_status, "ACTIVE", "inline warmup settings apply");
    // Listed through the partner API with its analytics.
    let accounts = as_client
        .list_email_accounts(&ws, &ListAccounts::default())
        .await
        .unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].warmup_health().overall_7d, None);
    // A configured sim accepts uploads without provider id.
    sim.set_partner_upload_requires_provider_id(false);
    let more = PartnerUpload {
        accounts: vec![regular("q@nova.com")],
        ..upload
    };
    as_client.upload_regular_accounts(&more).await.unwrap();
    assert_eq!(sim.accounts(&ws).len(), 2);

    // Google OAuth URL.
    let url = as_client
        .google_oauth_url(&GoogleOauthRequest::new(ws.clone()))
        .await
        .unwrap();
    assert!(url.url.unwrap().starts_with("https://accounts.google.com/"));

    // Bad credentials.
    let bad = sim.partner_client(PartnerCredentials::new(TEST_OWNER_EMAIL, "nope"));
    let e = bad.list_workspaces().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(!e.to_string().contains("nope"));
    // Partner calls need no valid API key.
    let keyless = sim
        .client_builder()
        .api_key("not-a-plusvibe-key")
        .build()
        .unwrap()
        .partner(sim.owner_credentials());
    assert_eq!(keyless.list_workspaces().await.unwrap().workspaces.len(), 2);
    assert_eq!(sim.journal().count(routes::PARTNER_LIST_WORKSPACES), 4);
}

#[tokio::test]
async fn partner_client_logins_can_be_refused_and_the_prefix_moved() {
    let sim = PlusVibeSim::start_with(PlusVibeSimConfig {
        partner_accepts_client_logins: false,
        partner_path_prefix: "/v1".into(),
        ..config()
    })
    .await;
    let c = sim.client();
    let agency = sim.agency_workspace_id();
    let login = c
        .client_access()
        .create(&agency, &grant(&agency))
        .await
        .unwrap();
    let as_client = sim.partner_client(PartnerCredentials::new(
        "nova.smith@example.com",
        login.password.unwrap(),
    ));
    assert_eq!(
        as_client.list_workspaces().await.unwrap_err().status(),
        Some(401)
    );
    let owner = sim.partner_client(sim.owner_credentials());
    assert_eq!(owner.list_workspaces().await.unwrap().workspaces.len(), 1);
    assert!(sim.partner_base_url().ends_with("/v1"));
    // The default prefix is not served in this configuration.
    let e = c
        .partner(sim.owner_credentials())
        .list_workspaces()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

// ---------------------------------------------------------------------------------------
// Misc
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn simulator_debug_output_hides_secrets() {
    let sim = PlusVibeSim::start().await;
    let cfg = format!("{:?}", PlusVibeSimConfig::default());
    assert!(
        !cfg.contains(TEST_API_KEY) && !cfg.contains(TEST_OWNER_PASSWORD),
        "{cfg}"
    );
    assert!(!format!("{sim:?}").contains(TEST_API_KEY));
    assert!(!format!("{:?}", sim.client()).contains(TEST_API_KEY));
    assert_eq!(sim.api_key(), TEST_API_KEY);
    assert!(sim.base_url().ends_with("/api/v1"));
    assert_eq!(sim.owner_credentials().username, TEST_OWNER_EMAIL);
    // Latency can change at runtime.
    sim.set_latency(Duration::from_millis(1));
    sim.client().workspaces().list().await.unwrap();
}
