//! The client against the HeyReach simulator: state, validation, routing, auth, limits,
//! faults and journal queries.

use std::time::Duration;

use heyreach::mock::{
    HeyReachSim, HeyReachSimConfig, SeedCampaign, TEST_API_KEY, messages, routes,
};
use heyreach::{
    CampaignStatus, CreateListRequest, ErrorKind, GetCampaignsRequest, GetLeadsRequest,
    GetLinkedInAccountsRequest, GetListsRequest, Lead, LeadMemberId, Limit, LimitSet, ListId,
    ListType, RateLimits, default_limits,
};
use serde_json::{Value, json};
use vendor_http::reqwest;
use vendor_http::sim::{AfterApply, Fault};

fn lead(i: usize) -> Lead {
    Lead::new(
        "Lead",
        format!("Number{i}"),
        format!("https://www.linkedin.com/in/lead-{i}"),
    )
}

fn leads(range: std::ops::Range<usize>) -> Vec<Lead> {
    range.map(lead).collect()
}

/// A raw request (for what the typed client refuses to send).
async fn raw(
    sim: &HeyReachSim,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let http = reqwest::Client::new();
    let url = format!("{}{path}", sim.base_url());
    let mut rb = http.request(method.parse().unwrap(), url);
    if let Some(k) = key {
        rb = rb.header("X-API-KEY", k);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn fast_fault_sim() -> HeyReachSim {
    HeyReachSim::start_with(HeyReachSimConfig {
        hang: Duration::from_millis(800),
        ..HeyReachSimConfig::default()
    })
    .await
}

// ----- lists and leads ---------------------------------------------------------------

#[tokio::test]
async fn provisioning_path_find_create_fill_and_measure_a_list() {
    let sim = HeyReachSim::start().await;
    let c = sim.client();
    let name = "Acme's Prospects";
    assert!(c.lists().find_by_name(name).await.unwrap().is_none());
    let created = c
        .lists()
        .create(&CreateListRequest::user_list(name))
        .await
        .unwrap();
    assert_eq!(created.name, name);
    assert_eq!(created.count, Some(0));
    assert_eq!(created.list_type, Some(ListType::UserList));
    assert_eq!(created.status.as_deref(), Some("UNKNOWN"));
    assert!(created.creation_time.unwrap().ends_with('Z'));
    // Look-alike names do not confuse the lookup.
    sim.seed_list("Acme's Prospects (old)", ListType::UserList);
    let found = c.lists().find_by_name(name).await.unwrap().unwrap();
    assert_eq!(found.id, created.id);

    let summary = c
        .lists()
        .add_leads(created.id, &leads(0..250))
        .await
        .unwrap();
    assert_eq!(
        (summary.added, summary.updated, summary.failed),
        (250, 0, 0)
    );
    assert_eq!(summary.batches, 3);
    assert_eq!(sim.leads_added_calls(), 3);
    assert_eq!(sim.leads_added_calls_for(created.id), 3);
    assert_eq!(sim.lead_count(created.id), Some(250));
    assert_eq!(c.lists().lead_count(created.id).await.unwrap(), 250);
    assert_eq!(c.lists().get(created.id).await.unwrap().size(), 250);
    let all = c.lists().get_all_leads(created.id).await.unwrap();
    assert_eq!(all.len(), 250);
    assert_eq!(sim.lists_created(), 1);
    assert_eq!(sim.lists_created_named(name), 1);
    assert_eq!(sim.create_list_calls(), 1);
}

#[tokio::test]
async fn add_leads_upserts_on_the_profile_url_and_reads_custom_fields_back() {
    let sim = HeyReachSim::start().await;
    let c = sim.client();
    let list = sim.seed_list("L", ListType::UserList);
    let first = vec![
        lead(1)
            .company_name("Acme")
            .custom_field("Icebreaker", "saw your talk"),
        lead(2),
    ];
    let s = c.lists().add_leads(list, &first).await.unwrap();
    assert_eq!((s.added, s.updated), (2, 0));
    // Same person, URL spelt differently: an update, custom fields merged by name.
    let again = vec![
        Lead::new("Lead", "Number1", "http://linkedin.com/in/LEAD-1/?trk=x")
            .custom_field("Icebreaker", "loved your post")
            .custom_field("Team", "blue"),
        lead(3),
    ];
    let s = c.lists().add_leads(list, &again).await.unwrap();
    assert_eq!((s.added, s.updated, s.failed), (1, 1, 0));
    assert_eq!(sim.lead_count(list), Some(3));
    let page = c
        .lists()
        .get_leads(&GetLeadsRequest {
            lead_profile_url: Some("https://www.linkedin.com/in/lead-1".into()),
            ..GetLeadsRequest::new(list)
        })
        .await
        .unwrap();
    assert_eq!(page.total_count, 1);
    let row = &page.items[0];
    assert_eq!(row.company_name.as_deref(), Some("Acme"));
    let fields: Vec<(&str, &str)> = row
        .custom_fields
        .iter()
        .map(|f| (f.name.as_str(), f.value.as_str()))
        .collect();
    assert_eq!(
        fields,
        vec![("Icebreaker", "loved your post"), ("Team", "blue")]
    );
    assert!(row.linkedin_id.is_some());
}

#[tokio::test]
async fn leads_without_name_or_url_are_dropped_silently_and_bad_urls_fail() {
    let sim = HeyReachSim::start().await;
    let list = sim.seed_list("L", ListType::UserList);
    let (status, body) = raw(
        &sim,
        "POST",
        "/list/AddLeadsToListV2",
        Some(TEST_API_KEY),
        Some(json!({
            "listId": list.0,
            "leads": [
                {"firstName": "A", "lastName": "B", "profileUrl": "https://www.linkedin.com/in/ab"},
                {"firstName": "No", "profileUrl": "https://www.linkedin.com/in/no-last"},
                {"firstName": "Empty", "lastName": "", "profileUrl": "https://www.linkedin.com/in/empty"},
                {"lead": {"firstName": "Wrapped", "lastName": "W", "profileUrl": "https://www.linkedin.com/in/w"}},
                {"firstName": "C", "lastName": "D", "profileUrl": "https://example.com/cd"},
                {"firstName": "E", "lastName": "F", "linkedInUrl": "https://www.linkedin.com/in/ef"}
            ]
        })),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"addedLeadsCount": 1, "updatedLeadsCount": 0, "failedLeadsCount": 1})
    );
    assert_eq!(sim.lead_count(list), Some(1));
}

#[tokio::test]
async fn more_than_100_leads_in_one_call_is_the_aspnet_max_length_error() {
    let sim = HeyReachSim::start().await;
    let list = sim.seed_list("L", ListType::UserList);
    let body = json!({"listId": list.0, "leads": leads(0..101)});
    let (status, err) = raw(
        &sim,
        "POST",
        "/list/AddLeadsToListV2",
        Some(TEST_API_KEY),
        Some(body),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(err["title"], "One or more validation errors occurred.");
    assert_eq!(
        err["errors"]["Leads"][0],
        "The field Leads must be a string or array type with a maximum length of '100'."
    );
    assert_eq!(sim.lead_count(list), Some(0));
    // Exactly 100 is fine.
    let (status, _) = raw(
        &sim,
        "POST",
        "/list/AddLeadsToListV2",
        Some(TEST_API_KEY),
        Some(json!({"listId": list.0, "leads": leads(0..100)})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(sim.lead_count(list), Some(100));
}

#[tokio::test]
async fn custom_field_names_outside_the_charset_are_refused() {
    let sim = HeyReachSim::start().await;
    let list = sim.seed_list("L", ListType::UserList);
    let (status, err) = raw(
        &sim,
        "POST",
        "/list/AddLeadsToListV2",
        Some(TEST_API_KEY),
        Some(json!({"listId": list.0, "leads": [
            {"firstName": "A", "lastName": "B", "profileUrl": "https://www.linkedin.com/in/ab",
             "customUserFields": [{"name": "favorite color", "value": "blue"}]}
        ]})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(err["errorMessage"], messages::BAD_CUSTOM_FIELD);
    assert_eq!(sim.lead_count(list), Some(0));
}

#[tokio::test]
async fn deleting_leads_by_member_id_and_by_url_updates_counts() {
    let sim = HeyReachSim::start().await;
    let c = sim.client();
    let list = c
        .lists()
        .create(&CreateListRequest::user_list("L"))
        .await
        .unwrap()
        .id;
    c.lists().add_leads(list, &leads(0..5)).await.unwrap();
    let rows = c.lists().get_all_leads(list).await.unwrap();
    let ids: Vec<LeadMemberId> = rows
        .iter()
        .filter(|r| r.last_name.as_deref() == Some("Number0"))
        .filter_map(|r| r.linkedin_id.clone())
        .collect();
    assert_eq!(ids.len(), 1);
    c.lists()
        .delete_leads(list, &[ids[0].clone(), LeadMemberId::from("999")])
        .await
        .unwrap();
    assert_eq!(sim.lead_count(list), Some(4));
    let r = c
        .lists()
        .delete_leads_by_profile_url(
            list,
            &[
                "https://www.linkedin.com/in/lead-1/",
                "https://www.linkedin.com/in/nobody-here/",
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.not_found_in_list, vec!["nobody-here"]);
    assert_eq!(sim.lead_count(list), Some(3));
    assert_eq!(
        c.lists().get(list).await.unwrap().total_items_count,
        Some(3)
    );
    assert_eq!(c.lists().lead_count(list).await.unwrap(), 3);
}

#[tokio::test]
async fn member_ids_read_as_null_until_resolved() {
    let sim = HeyReachSim::start_with(HeyReachSimConfig {
        member_id_delay: Duration::from_secs(3600),
        ..HeyReachSimConfig::default()
    })
    .await;
    let c = sim.client();
    let list = sim.seed_list("L", ListType::UserList);
    c.lists().add_leads(list, &leads(0..1)).await.unwrap();
    let rows = c.lists().get_all_leads(list).await.unwrap();
    assert_eq!(rows[0].linkedin_id, None);
    let hidden = sim
        .member_id_of(list, "https://www.linkedin.com/in/lead-0")
        .unwrap();
    assert!(!hidden.as_str().is_empty());
}

#[tokio::test]
async fn get_all_lists_filters_pages_newest_first() {
    let sim = HeyReachSim::start().await;
    let c = sim.client();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(sim.seed_list(&format!("Prospects {i}"), ListType::UserList));
    }
    let company = sim.seed_list("Companies", ListType::CompanyList);
    let all = c
        .lists()
        .get_all_pages(&GetListsRequest {
            limit: 2,
            ..GetListsRequest::keyword("PROSPECTS")
        })
        .await
        .unwrap();
    let got: Vec<ListId> = all.iter().map(|l| l.id).collect();
    ids.reverse();
    assert_eq!(got, ids, "case-insensitive keyword, newest first, 3 pages");
    assert_eq!(sim.calls(routes::GET_LISTS), 3);
    let companies = c
        .lists()
        .get_all(&GetListsRequest {
            list_type: Some(ListType::CompanyList),
            ..GetListsRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(companies.total_count, 1);
    assert_eq!(companies.items[0].id, company);
    // A campaign binds a list; the campaignIds filter finds it.
    let campaign = sim.seed_campaign(SeedCampaign::new("C").list(company));
    let bound = c
        .lists()
        .get_all(&GetListsRequest {
            campaign_ids: vec![campaign],
            ..GetListsRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(bound.items.len(), 1);
    assert_eq!(bound.items[0].campaign_ids, vec![campaign]);
}

#[tokio::test]
async fn get_leads_filters_and_limits() {
    let sim = HeyReachSim::start().await;
    let c = sim.client();
    let list = sim.seed_list("L", ListType::UserList);
    let mut batch = leads(0..30);
    batch[7] = batch[7].clone().company_name("Globex");
    sim.seed_leads(list, &batch).unwrap();
    let by_kw = c
        .lists()
        .get_leads(&GetLeadsRequest {
            keyword: Some("globex".into()),
            ..GetLeadsRequest::new(list)
        })
        .await
        .unwrap();
    assert_eq!(by_kw.total_count, 1);
    let future = c
        .lists()
        .get_leads(&GetLeadsRequest {
            created_from: Some("2999-01-01T00:00:00+02:00".into()),
            ..GetLeadsRequest::new(list)
        })
        .await
        .unwrap();
    assert_eq!(future.total_count, 0);
    let page = c
        .lists()
        .get_leads(&GetLeadsRequest {
            offset: 25,
            limit: 10,
            ..GetLeadsRequest::new(list)
        })
        .await
        .unwrap();
    assert_eq!((page.total_count, page.items.len()), (30, 5));
    let (status, err) = raw(
        &sim,
        "POST",
        "/list/GetLeadsFromList",
        Some(TEST_API_KEY),
        Some(json!({"listId": list.0, "limit": 1001})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(err["errors"]["Limit"][0].as_str().unwrap().contains("1000"));
    // Without a limit HeyReach returns 10.
    let (_, body) = raw(
        &sim,
        "POST",
        "/list/GetLeadsFromList",
        Some(TEST_API_KEY),
        Some(json!({"listId": list.0})),
    )
    .await;
    assert_eq!(body["items"].as_array().unwrap().len(), 10);
    assert_eq!(body["totalCount"], 30);
}

// ----- list validation and duplicates --------------------------------------------------

#[tokio::test]
async fn create_list_validation_and_type_default() {
    let sim = HeyReachSim::start().await;
    let (status, err) = raw(
        &sim,
        "POST",
        "/list/CreateEmptyList",
        Some(TEST_API_KEY),
        Some(json!({"name": ""})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(err["errors"]["Name"][0], "The Name field is required.");
    let (status, err) = raw(
        &sim,
        "POST",
        "/list/CreateEmptyList",
        Some(TEST_API_KEY),
        Some(json!({"name": "x", "type": "SMART_LIST"})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(err["errors"]["$.type"].is_array(), "{err}");
    // The client decodes the envelope into one line.
    let (status, body) = raw(
        &sim,
        "POST",
        "/list/CreateEmptyList",
        Some(TEST_API_KEY),
        Some(json!({"name": "Plain"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["listType"], "USER_LIST");
    assert_eq!(body["count"], 0);
    assert_eq!(sim.lists_created(), 1);
    assert_eq!(sim.lists_named("Plain").len(), 1);
}

#[tokio::test]
async fn duplicate_names_are_allowed_by_default_and_find_by_name_picks_the_oldest() {
    let sim = HeyReachSim::start().await;
    let c = sim.client();
    let a = c
        .lists()
        .create(&CreateListRequest::user_list("Dup"))
        .await
        .unwrap();
    let b = c
        .lists()
        .create(&CreateListRequest::user_list("Dup"))
        .await
        .unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(sim.lists_created_named("Dup"), 2);
    assert_eq!(
        c.lists().find_by_name("Dup").await.unwrap().unwrap().id,
        a.id
    );
    assert_eq!(c.lists().find_all_by_name("Dup").await.unwrap().len(), 2);
}

#[tokio::test]
async fn duplicate_names_can_be_refused() {
    let sim = HeyReachSim::start_with(HeyReachSimConfig {
        reject_duplicate_list_names: true,
        ..HeyReachSimConfig::default()
    })
    .await;
    let c = sim.client();
    c.lists()
        .create(&CreateListRequest::user_list("Once"))
        .await
        .unwrap();
    let err = c
        .lists()
        .create(&CreateListRequest::user_list("once"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert_eq!(err.vendor_message(), Some(messages::DUPLICATE_LIST_NAME));
    assert_eq!(sim.lists_created(), 1);
}

#[tokio::test]
async fn unknown_ids_and_missing_parameters() {
    let sim = HeyReachSim::start().await;
    let c = sim.client();
    let err = c.lists().get(ListId(1)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        "heyreach 404 GET /list/GetById: List not found."
    );
    let err = c
        .lists()
        .add_leads(ListId(1), &leads(0..1))
        .await
        .unwrap_err();
    assert_eq!(err.source.kind(), ErrorKind::NotFound);
    let (status, body) = raw(&sim, "GET", "/list/GetById", Some(TEST_API_KEY), None).await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"]["listId"][0], "The listId field is required.");
    let (status, _) = raw(
        &sim,
        "GET",
        "/list/GetById?listId=abc",
        Some(TEST_API_KEY),
        None,
    )
    .await;
    assert_eq!(status, 400);
    let err = c
        .campaigns()
        .get(heyreach::CampaignId(5))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.vendor_message(), Some(messages::CAMPAIGN_NOT_FOUND));
}

// ----- routing, bodies, auth -----------------------------------------------------------

#[tokio::test]
async fn routing_matches_the_measured_route_map() {
    let sim = HeyReachSim::start().await;
    let k = Some(TEST_API_KEY);
    // Wrong method on a real route: 405.
    assert_eq!(raw(&sim, "GET", "/list/GetAll", k, None).await.0, 405);
    assert_eq!(raw(&sim, "OPTIONS", "/list/GetAll", k, None).await.0, 405);
    assert_eq!(
        raw(&sim, "POST", "/campaign/GetById", k, Some(json!({})))
            .await
            .0,
        405
    );
    assert_eq!(
        raw(
            &sim,
            "POST",
            "/list/DeleteLeadsFromListByProfileUrl",
            k,
            Some(json!({}))
        )
        .await
        .0,
        405
    );
    // Routes that do not exist: 404.
    for path in [
        "/list/DeleteList",
        "/campaign/Delete",
        "/linkedinaccount/GetAll",
        "/list/DeleteLeadFromListByProfileUrl",
    ] {
        assert_eq!(
            raw(&sim, "POST", path, k, Some(json!({}))).await.0,
            404,
            "{path}"
        );
    }
    // Real routes outside the simulated set exist (not 404).
    assert_eq!(
        raw(&sim, "POST", "/campaign/Create", k, Some(json!({})))
            .await
            .0,
        501
    );
    // Routing ignores case.
    assert_eq!(raw(&sim, "GET", "/auth/checkapikey", k, None).await.0, 200);
}

#[tokio::test]
async fn a_json_endpoint_without_a_body_is_415() {
    let sim = HeyReachSim::start().await;
    let (status, body) = raw(&sim, "POST", "/list/GetAll", Some(TEST_API_KEY), None).await;
    assert_eq!(status, 415);
    assert_eq!(body["title"], "Unsupported Media Type");
    let (status, body) = raw(
        &sim,
        "POST",
        "/list/GetAll",
        Some(TEST_API_KEY),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"totalCount": 0, "items": []}));
    // Query-only POSTs do not need a body.
    let id = sim.seed_campaign(SeedCampaign::new("C"));
    let (status, _) = raw(
        &sim,
        "POST",
        &format!("/campaign/StartCampaign?campaignId={id}"),
        Some(TEST_API_KEY),
        None,
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn bad_missing_and_revoked_keys_get_401() {
    let sim = HeyReachSim::start().await;
    let bad = sim
        .client_builder()
        .api_key("bm90LWEtcmVhbC1rZXk=")
        .build()
        .unwrap();
    let err = bad.check_api_key().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.status(), Some(401));
    assert!(!bad.is_api_key_valid().await.unwrap());
    assert_eq!(
        raw(&sim, "GET", "/auth/CheckApiKey", None, None).await.0,
        401
    );
    let c = sim.client();
    c.check_api_key().await.unwrap();
    assert!(sim.revoke_api_key(TEST_API_KEY));
    assert_eq!(c.check_api_key().await.unwrap_err().kind(), ErrorKind::Auth);
    assert!(!format!("{err}").contains(TEST_API_KEY));
}

#[tokio::test]
async fn workspaces_are_isolated_by_key() {
    let sim = HeyReachSim::start().await;
    let mine = sim.client();
    let other_key = "b3RoZXItd29ya3NwYWNlLWtleQ==";
    let ws = sim.add_workspace(other_key);
    let theirs = sim.client_builder().api_key(other_key).build().unwrap();
    let list = mine
        .lists()
        .create(&CreateListRequest::user_list("Shared name"))
        .await
        .unwrap();
    assert!(
        theirs
            .lists()
            .find_by_name("Shared name")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        theirs.lists().get(list.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    sim.seed_list_in(ws, "Theirs", ListType::UserList);
    assert_eq!(
        theirs
            .lists()
            .get_all(&GetListsRequest::default())
            .await
            .unwrap()
            .total_count,
        1
    );
}

// ----- campaigns and senders ---------------------------------------------------------

#[tokio::test]
async fn senders_are_seeded_and_listed() {
    let sim = HeyReachSim::start().await;
    let c = sim.client();
    let ann = sim.seed_linkedin_account("Ann", "Lee", "ann@example.com");
    sim.seed_linkedin_account("Bob", "Ray", "bob@example.com");
    let page = c
        .linkedin_accounts()
        .get_all(&GetLinkedInAccountsRequest {
            keyword: Some("ann".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total_count, 1);
    assert_eq!(page.items[0].id, ann);
    assert_eq!(
        page.items[0].account_limits.unwrap().connection_request_max,
        Some(40)
    );
    let all = c
        .linkedin_accounts()
        .get_all_pages(&GetLinkedInAccountsRequest::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let one = c.linkedin_accounts().get(ann).await.unwrap();
    assert_eq!(one.email_address.as_deref(), Some("ann@example.com"));
    // The body goes out as li_account; the wrong path is a 404.
    assert_eq!(sim.calls(routes::GET_ACCOUNTS), 2);
}

#[tokio::test]
async fn campaign_lifecycle_follows_the_documented_rules() {
    let sim = HeyReachSim::start_with(HeyReachSimConfig {
        campaign_start_delay: Duration::from_millis(150),
        ..HeyReachSimConfig::default()
    })
    .await;
    let c = sim.client();
    let sender = sim.seed_linkedin_account("Ann", "Lee", "ann@example.com");
    let list = sim.seed_list("Q3", ListType::UserList);
    sim.seed_leads(list, &leads(0..4)).unwrap();
    let id = sim.seed_campaign(SeedCampaign::new("Q3 CTOs").list(list).account(sender));
    let draft = c.campaigns().get(id).await.unwrap();
    assert_eq!(draft.status, Some(CampaignStatus::Draft));
    assert_eq!(draft.linked_in_user_list_name.as_deref(), Some("Q3"));
    assert_eq!(draft.progress_stats.unwrap().total_users, Some(4));

    let err = c.campaigns().pause(id).await.unwrap_err();
    assert_eq!(err.vendor_message(), Some(messages::CANNOT_PAUSE));
    let err = c.campaigns().resume(id).await.unwrap_err();
    assert_eq!(err.vendor_message(), Some(messages::CANNOT_RESUME));

    c.campaigns().start(id).await.unwrap();
    assert_eq!(
        c.campaigns().get(id).await.unwrap().status,
        Some(CampaignStatus::Starting)
    );
    let mut status = None;
    for _ in 0..100 {
        status = c.campaigns().get(id).await.unwrap().status;
        if status == Some(CampaignStatus::InProgress) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, Some(CampaignStatus::InProgress));
    assert!(c.campaigns().get(id).await.unwrap().started_at.is_some());
    let err = c.campaigns().start(id).await.unwrap_err();
    assert_eq!(err.vendor_message(), Some(messages::CANNOT_START));
    assert_eq!(
        c.linkedin_accounts()
            .get(sender)
            .await
            .unwrap()
            .active_campaigns,
        Some(1)
    );

    c.campaigns().pause(id).await.unwrap();
    assert_eq!(
        c.campaigns().get(id).await.unwrap().status,
        Some(CampaignStatus::Paused)
    );
    c.campaigns().resume(id).await.unwrap();
    assert_eq!(
        sim.campaign(id).unwrap().status,
        Some(CampaignStatus::InProgress)
    );
    sim.set_campaign_status(id, CampaignStatus::Finished);
    c.campaigns().resume(id).await.unwrap();

    sim.seed_campaign(SeedCampaign::new("Other").status(CampaignStatus::Paused));
    let paused = c
        .campaigns()
        .get_all(&GetCampaignsRequest {
            statuses: vec![CampaignStatus::Paused],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(paused.total_count, 1);
    assert_eq!(paused.items[0].name.as_deref(), Some("Other"));
    let by_sender = c
        .campaigns()
        .get_all_pages(&GetCampaignsRequest {
            account_ids: vec![sender],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_sender.len(), 1);
    assert_eq!(by_sender[0].id, id);
    assert_eq!(sim.campaigns().len(), 2);
}

// ----- faults, limits, journal ---------------------------------------------------------

#[tokio::test]
async fn create_list_is_sent_once_when_the_answer_is_lost() {
    for after in [AfterApply::Status(502), AfterApply::Drop] {
        let sim = fast_fault_sim().await;
        let c = sim
            .client_builder()
            .timeout(Duration::from_millis(500))
            .build()
            .unwrap();
        sim.faults()
            .inject(routes::CREATE_LIST, Fault::ApplyThen(after), 1);
        let err = c
            .lists()
            .create(&CreateListRequest::user_list("Lost answer"))
            .await
            .unwrap_err();
        assert!(err.may_have_taken_effect(), "{after:?}: {err}");
        assert_eq!(sim.create_list_calls(), 1, "{after:?}");
        assert_eq!(sim.journal().applied(routes::CREATE_LIST), 1);
        assert_eq!(sim.lists_created_named("Lost answer"), 1);
        assert_eq!(sim.lists_named("Lost answer").len(), 1);
        // Reconcile by name: the list is there, nothing is created twice.
        let found = c.lists().find_by_name("Lost answer").await.unwrap();
        assert!(found.is_some(), "{after:?}");
        assert_eq!(sim.lists_created(), 1);
    }
}

#[tokio::test]
async fn add_leads_is_retried_after_a_lost_answer_without_duplicating_leads() {
    let sim = fast_fault_sim().await;
    let c = sim.client();
    let list = sim.seed_list("L", ListType::UserList);
    sim.faults().inject(
        routes::ADD_LEADS,
        Fault::ApplyThen(AfterApply::Status(502)),
        1,
    );
    let s = c.lists().add_leads(list, &leads(0..10)).await.unwrap();
    // The first attempt was applied, its answer lost; the retry updated the same leads.
    assert_eq!((s.added, s.updated), (0, 10));
    assert_eq!(sim.leads_added_calls(), 2);
    assert_eq!(sim.lead_count(list), Some(10));
}

#[tokio::test]
async fn idempotent_reads_survive_every_fault_kind() {
    let sim = fast_fault_sim().await;
    let c = sim
        .client_builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    sim.seed_list("L", ListType::UserList);
    for f in [
        Fault::Status(500),
        Fault::Status(502),
        Fault::Status(503),
        Fault::Timeout,
        Fault::Drop,
        Fault::Malformed,
        Fault::Status(429),
        Fault::RateLimited {
            retry_after_secs: 0,
        },
    ] {
        sim.faults().inject(routes::GET_LISTS, f.clone(), 2);
        let page = c
            .lists()
            .get_all(&GetListsRequest::default())
            .await
            .unwrap_or_else(|e| panic!("{f:?}: {e}"));
        assert_eq!(page.total_count, 1, "{f:?}");
    }
    assert_eq!(sim.faults().pending(), 0);
    assert_eq!(sim.faults().injected(), 16);
}

#[tokio::test]
async fn the_simulators_own_429_is_honoured_and_the_calls_succeed() {
    let sim = HeyReachSim::start_with(HeyReachSimConfig {
        limits: Some(RateLimits::new(LimitSet::new([Limit::new(
            3,
            Duration::from_secs(1),
        )]))),
        ..HeyReachSimConfig::default()
    })
    .await;
    // A client that does not know the limit overruns it.
    let c = sim
        .client_builder()
        .rate_limits(RateLimits::unlimited())
        .build()
        .unwrap();
    for _ in 0..5 {
        c.check_api_key().await.unwrap();
    }
    assert!(sim.journal().rate_limited() >= 1);
    assert_eq!(
        sim.journal()
            .count_where(|e| e.route == routes::CHECK_API_KEY && e.status == 200),
        5
    );
    let limited = sim
        .journal()
        .entries()
        .into_iter()
        .find(|e| e.rate_limited)
        .unwrap();
    assert_eq!(limited.status, 429);
}

#[tokio::test]
async fn default_limits_are_heyreachs_and_overridable() {
    let sim = HeyReachSim::start().await;
    assert_eq!(sim.limits().limits(), default_limits());
    let scaled = HeyReachSim::start_with(HeyReachSimConfig {
        limits: Some(default_limits().scaled(0.1)),
        ..HeyReachSimConfig::default()
    })
    .await;
    assert_eq!(
        scaled.limits().limits().general.limits,
        vec![Limit::per_minute(30)]
    );
    let off = HeyReachSim::start_with(HeyReachSimConfig {
        limits: Some(RateLimits::unlimited()),
        ..HeyReachSimConfig::default()
    })
    .await;
    let c = off.client();
    for _ in 0..50 {
        c.check_api_key().await.unwrap();
    }
    assert_eq!(off.journal().rate_limited(), 0);
}

#[tokio::test]
async fn journal_records_routes_bodies_and_outcomes() {
    let sim = HeyReachSim::start().await;
    let c = sim.client();
    let a = sim.seed_list("A", ListType::UserList);
    let b = sim.seed_list("B", ListType::UserList);
    c.lists().add_leads(a, &leads(0..150)).await.unwrap();
    c.lists().add_leads(b, &leads(0..1)).await.unwrap();
    assert_eq!(sim.leads_added_calls(), 3);
    assert_eq!(sim.leads_added_calls_for(a), 2);
    assert_eq!(sim.leads_added_calls_for(b), 1);
    let entries = sim.journal().for_route(routes::ADD_LEADS);
    assert!(entries.iter().all(|e| e.applied && e.status == 200));
    assert_eq!(entries[0].body["leads"].as_array().unwrap().len(), 100);
    assert_eq!(sim.lists_created(), 0, "seeded lists are not API creations");
    let _ = raw(&sim, "GET", "/nope", Some(TEST_API_KEY), None).await;
    assert_eq!(sim.journal().count_where(|e| e.status == 404), 1);
}

#[tokio::test]
async fn debug_output_hides_keys() {
    let config = HeyReachSimConfig::default();
    assert!(!format!("{config:?}").contains(TEST_API_KEY));
    let sim = HeyReachSim::start_with(config).await;
    assert!(!format!("{sim:?}").contains(TEST_API_KEY));
    assert!(!format!("{:?}", sim.client()).contains(TEST_API_KEY));
    assert!(!format!("{:?}", sim.client_builder()).contains(TEST_API_KEY));
    assert_eq!(sim.api_key(), TEST_API_KEY);
}
