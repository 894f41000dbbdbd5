//! The client against wiremock: method, path, auth header, query and body of every
//! operation; decoding of the documented shapes (with unknown fields and enum values);
//! errors; secrets; quotas.

use std::sync::Mutex;
use std::time::Duration;

use heyreach::{
    AddLeadsRequest, CampaignId, CampaignStatus, Client, CreateListRequest, Error, ErrorKind,
    GENERAL, GetCampaignsRequest, GetLeadsRequest, GetLinkedInAccountsRequest, GetListsRequest,
    Lead, LeadMemberId, LinkedInAccountId, ListId, ListType, RateLimits, RetryConfig,
    default_limits,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const KEY: &str = "dGVzdC1rZXktZm9yLWhleXJlYWNoLWNsaWVudC10ZXN0cw=";
const BASE: &str = "/api/public";

fn p(route: &str) -> String {
    format!("{BASE}{route}")
}

fn client_with(server: &MockServer, retry: RetryConfig) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(format!("{}{BASE}", server.uri()))
        .retry(retry)
        .timeout(Duration::from_secs(2))
        .rate_limits(RateLimits::unlimited())
        .build()
        .unwrap()
}

fn client(server: &MockServer) -> Client {
    client_with(server, RetryConfig::fast())
}

/// A mock for `METHOD /api/public<route>` that checks the key.
fn on(m: &str, route: &str) -> wiremock::MockBuilder {
    Mock::given(method(m))
        .and(path(p(route)))
        .and(header("x-api-key", KEY))
}

fn list_item(id: i64, name: &str, count: i64) -> Value {
    json!({
        "id": id, "name": name, "totalItemsCount": count, "listType": "USER_LIST",
        "creationTime": "2025-03-26T10:24:33.266015Z", "campaignIds": [599020]
    })
}

// ----- auth ----------------------------------------------------------------------------

#[tokio::test]
async fn check_api_key_is_a_get_with_the_key_and_an_empty_200() {
    let server = MockServer::start().await;
    on("GET", "/auth/CheckApiKey")
        .respond_with(ResponseTemplate::new(200))
        .expect(2)
        .mount(&server)
        .await;
    let c = client(&server);
    c.check_api_key().await.unwrap();
    assert!(c.is_api_key_valid().await.unwrap());
}

#[tokio::test]
async fn a_bad_key_is_an_auth_error_and_is_api_key_valid_says_false() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(p("/auth/CheckApiKey")))
        .respond_with(ResponseTemplate::new(401))
        .expect(2)
        .mount(&server)
        .await;
    let c = client(&server);
    let err = c.check_api_key().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.status(), Some(401));
    let line = err.to_string();
    assert_eq!(line, "heyreach 401 GET /auth/CheckApiKey: Unauthorized");
    assert!(!line.contains(KEY) && !format!("{err:?}").contains(KEY));
    assert!(!c.is_api_key_valid().await.unwrap());
}

// ----- lists ---------------------------------------------------------------------------

#[tokio::test]
async fn create_list_sends_name_and_type_and_decodes_its_own_shape() {
    let server = MockServer::start().await;
    on("POST", "/list/CreateEmptyList")
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({"name": "Q3 prospects", "type": "USER_LIST"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 123, "name": "Q3 prospects", "count": 0, "listType": "SMART_LIST",
            "creationTime": "2024-08-29T09:34:56.5417789Z",
            "isDeleted": false, "campaigns": null, "search": null, "status": "UNKNOWN",
            "somethingNew": {"a": 1}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let created = client(&server)
        .lists()
        .create(&CreateListRequest::user_list("Q3 prospects"))
        .await
        .unwrap();
    assert_eq!(created.id, ListId(123));
    assert_eq!(created.name, "Q3 prospects");
    assert_eq!(created.count, Some(0));
    assert_eq!(
        created.list_type,
        Some(ListType::Other("SMART_LIST".into()))
    );
    assert_eq!(created.status.as_deref(), Some("UNKNOWN"));
    assert_eq!(created.is_deleted, Some(false));
}

#[tokio::test]
async fn create_company_list_and_an_empty_name_is_refused_locally() {
    let server = MockServer::start().await;
    on("POST", "/list/CreateEmptyList")
        .and(body_json(
            json!({"name": "Accounts", "type": "COMPANY_LIST"}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 9, "name": "Accounts"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let created = c
        .lists()
        .create(&CreateListRequest::company_list("Accounts"))
        .await
        .unwrap();
    assert_eq!(created.id, ListId(9));
    assert_eq!(created.list_type, None);
    let err = c
        .lists()
        .create(&CreateListRequest::user_list("  "))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert!(!err.may_have_reached_vendor());
}

#[tokio::test]
async fn create_list_is_not_retried_after_a_5xx() {
    let server = MockServer::start().await;
    on("POST", "/list/CreateEmptyList")
        .respond_with(ResponseTemplate::new(502))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .lists()
        .create(&CreateListRequest::user_list("x"))
        .await
        .unwrap_err();
    assert!(err.may_have_taken_effect());
    assert_eq!(err.kind(), ErrorKind::Server);
}

#[tokio::test]
async fn get_all_lists_posts_paging_and_filters_and_decodes_items() {
    let server = MockServer::start().await;
    on("POST", "/list/GetAll")
        .and(body_json(json!({
            "offset": 0, "limit": 100, "keyword": "prospects",
            "listType": "USER_LIST", "campaignIds": [123, 125]
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalCount": 2,
            "items": [
                list_item(188213, "Test 2", 42),
                {"id": 188214, "name": "Companies", "totalItemsCount": null,
                 "listType": "FANCY_LIST", "campaignIds": null, "newField": true}
            ],
            "extra": "ignored"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let req = GetListsRequest {
        list_type: Some(ListType::UserList),
        campaign_ids: vec![CampaignId(123), CampaignId(125)],
        ..GetListsRequest::keyword("prospects")
    };
    let page = client(&server).lists().get_all(&req).await.unwrap();
    assert_eq!(page.total_count, 2);
    assert_eq!(page.items[0].id, ListId(188213));
    assert_eq!(page.items[0].size(), 42);
    assert_eq!(page.items[0].campaign_ids, vec![CampaignId(599020)]);
    assert_eq!(
        page.items[1].list_type,
        Some(ListType::Other("FANCY_LIST".into()))
    );
    assert_eq!(page.items[1].size(), 0);
    assert!(page.items[1].campaign_ids.is_empty());
}

#[tokio::test]
async fn a_page_limit_over_the_maximum_is_refused_before_sending() {
    let server = MockServer::start().await;
    let c = client(&server);
    let req = GetListsRequest {
        limit: 101,
        ..GetListsRequest::default()
    };
    let err = c.lists().get_all(&req).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert!(err.to_string().contains("between 1 and 100"), "{err}");
    let err = c
        .lists()
        .get_leads(&GetLeadsRequest {
            limit: 1001,
            ..GetLeadsRequest::new(ListId(1))
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("between 1 and 1000"), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn get_all_pages_follows_offsets_until_total_count() {
    let server = MockServer::start().await;
    on("POST", "/list/GetAll")
        .and(body_partial_json(json!({"offset": 0, "limit": 2})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalCount": 3, "items": [list_item(3, "c", 0), list_item(2, "b", 0)]
        })))
        .expect(1)
        .mount(&server)
        .await;
    on("POST", "/list/GetAll")
        .and(body_partial_json(json!({"offset": 2, "limit": 2})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalCount": 3, "items": [list_item(1, "a", 0)]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let all = client(&server)
        .lists()
        .get_all_pages(&GetListsRequest {
            limit: 2,
            ..GetListsRequest::default()
        })
        .await
        .unwrap();
    let ids: Vec<i64> = all.iter().map(|l| l.id.0).collect();
    assert_eq!(ids, vec![3, 2, 1]);
}

#[tokio::test]
async fn find_by_name_searches_by_keyword_and_matches_exactly() {
    let server = MockServer::start().await;
    on("POST", "/list/GetAll")
        .and(body_json(
            json!({"offset": 0, "limit": 100, "keyword": "Acme's Prospects"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalCount": 4,
            "items": [
                list_item(40, "Acme's Prospects (old)", 1),
                list_item(31, "Acme's Prospects", 7),
                list_item(30, "Acme's Prospects", 5),
                list_item(29, "acme's prospects", 2),
            ]
        })))
        .expect(2)
        .mount(&server)
        .await;
    let c = client(&server);
    let found = c.lists().find_by_name("Acme's Prospects").await.unwrap();
    assert_eq!(
        found.map(|l| l.id),
        Some(ListId(30)),
        "the oldest exact match"
    );
    let all = c
        .lists()
        .find_all_by_name("Acme's Prospects")
        .await
        .unwrap();
    assert_eq!(all.iter().map(|l| l.id.0).collect::<Vec<_>>(), vec![30, 31]);
}

#[tokio::test]
async fn find_by_name_returns_none_when_nothing_matches_exactly() {
    let server = MockServer::start().await;
    on("POST", "/list/GetAll")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalCount": 1, "items": [list_item(1, "Other", 0)]
        })))
        .mount(&server)
        .await;
    assert!(
        client(&server)
            .lists()
            .find_by_name("Mine")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn get_list_by_id_is_a_get_with_the_id_in_the_query() {
    let server = MockServer::start().await;
    on("GET", "/list/GetById")
        .and(query_param("listId", "188213"))
        .respond_with(ResponseTemplate::new(200).set_body_json(list_item(188213, "Test 2", 42)))
        .expect(2)
        .mount(&server)
        .await;
    let c = client(&server);
    let l = c.lists().get(ListId(188213)).await.unwrap();
    assert_eq!(l.name, "Test 2");
    assert_eq!(
        l.creation_time.as_deref(),
        Some("2025-03-26T10:24:33.266015Z")
    );
    assert_eq!(c.lists().lead_count(ListId(188213)).await.unwrap(), 42);
}

#[tokio::test]
async fn lead_count_falls_back_to_the_leads_total_count() {
    let server = MockServer::start().await;
    on("GET", "/list/GetById")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 5, "name": "n"})))
        .mount(&server)
        .await;
    on("POST", "/list/GetLeadsFromList")
        .and(body_json(json!({"listId": 5, "offset": 0, "limit": 1})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"totalCount": 17, "items": []})),
        )
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        client(&server).lists().lead_count(ListId(5)).await.unwrap(),
        17
    );
}

#[tokio::test]
async fn get_leads_posts_the_filters_and_decodes_rows() {
    let server = MockServer::start().await;
    on("POST", "/list/GetLeadsFromList")
        .and(body_json(json!({
            "listId": 123, "offset": 0, "limit": 100,
            "leadProfileUrl": "https://www.linkedin.com/in/jane-doe/",
            "createdFrom": "2024-10-06T17:34:00+02:00"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalCount": 1,
            "items": [{
                "id": 5512, "linkedin_id": null, "profileUrl": "https://www.linkedin.com/in/jane-doe",
                "firstName": "Jane", "lastName": "Doe", "headline": null, "location": "Berlin",
                "companyName": "Acme", "position": "CTO", "emailAddress": "jane@acme.io",
                "tags": [], "autoTags": null, "connections": "500", "followers": 1200,
                "customFields": [{"name": "Icebreaker", "value": "saw your talk"}],
                "brandNewField": 1
            }]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let req = GetLeadsRequest {
        lead_profile_url: Some("https://www.linkedin.com/in/jane-doe/".into()),
        created_from: Some("2024-10-06T17:34:00+02:00".into()),
        ..GetLeadsRequest::new(ListId(123))
    };
    let page = client(&server).lists().get_leads(&req).await.unwrap();
    let lead = &page.items[0];
    assert_eq!(lead.id, Some(5512));
    assert_eq!(lead.linkedin_id, None);
    assert_eq!(lead.first_name.as_deref(), Some("Jane"));
    assert_eq!(lead.connections, Some(500));
    assert_eq!(lead.followers, Some(1200));
    assert_eq!(lead.custom_fields[0].name, "Icebreaker");
    assert!(lead.auto_tags.is_empty());
}

#[tokio::test]
async fn get_all_leads_pages_a_thousand_at_a_time() {
    let server = MockServer::start().await;
    let rows: Vec<Value> = (0..1000)
        .map(|i| json!({"id": i, "linkedin_id": format!("{i}"), "profileUrl": format!("https://www.linkedin.com/in/u{i}")}))
        .collect();
    on("POST", "/list/GetLeadsFromList")
        .and(body_partial_json(
            json!({"listId": 7, "offset": 0, "limit": 1000}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"totalCount": 1001, "items": rows})),
        )
        .expect(1)
        .mount(&server)
        .await;
    on("POST", "/list/GetLeadsFromList")
        .and(body_partial_json(
            json!({"listId": 7, "offset": 1000, "limit": 1000}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"totalCount": 1001, "items": [{"id": 1000, "linkedin_id": "1000"}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let all = client(&server)
        .lists()
        .get_all_leads(ListId(7))
        .await
        .unwrap();
    assert_eq!(all.len(), 1001);
    assert_eq!(all[1000].linkedin_id, Some(LeadMemberId::from("1000")));
}

/// Answers AddLeadsToListV2 with counts derived from the batch, and records batch sizes.
struct CountingAdd {
    sizes: Mutex<Vec<usize>>,
    fail_call: Option<usize>,
}

impl Respond for CountingAdd {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let n = body["leads"].as_array().unwrap().len();
        let mut sizes = self.sizes.lock().unwrap();
        sizes.push(n);
        if Some(sizes.len()) == self.fail_call {
            return ResponseTemplate::new(400)
                .set_body_json(json!({"errorMessage": "Something about batch two."}));
        }
        ResponseTemplate::new(200).set_body_json(json!({
            "addedLeadsCount": n - 1, "updatedLeadsCount": 1, "failedLeadsCount": 0,
            "extraCounter": 9
        }))
    }
}

fn leads(n: usize) -> Vec<Lead> {
    (0..n)
        .map(|i| {
            Lead::new(
                "First",
                format!("Last{i}"),
                format!("https://www.linkedin.com/in/u{i}"),
            )
        })
        .collect()
}

#[tokio::test]
async fn add_leads_v2_sends_the_documented_body() {
    let server = MockServer::start().await;
    on("POST", "/list/AddLeadsToListV2")
        .and(body_json(json!({
            "listId": 123,
            "leads": [{
                "firstName": "John", "lastName": "Doe", "profileUrl": "https://www.linkedin.com/in/john-doe",
                "location": "USA", "summary": "SDR @ Acme", "companyName": "Acme", "position": "SDR",
                "about": "I like LinkedIn", "emailAddress": "john@example.com",
                "customUserFields": [{"name": "favorite_color", "value": "blue"}]
            }]
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"addedLeadsCount": 1, "updatedLeadsCount": 0, "failedLeadsCount": 0}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let lead = Lead::new("John", "Doe", "https://www.linkedin.com/in/john-doe")
        .location("USA")
        .summary("SDR @ Acme")
        .company_name("Acme")
        .position("SDR")
        .about("I like LinkedIn")
        .email_address("john@example.com")
        .custom_field("favorite_color", "blue");
    let r = client(&server)
        .lists()
        .add_leads_batch(&AddLeadsRequest {
            list_id: ListId(123),
            leads: vec![lead],
        })
        .await
        .unwrap();
    assert_eq!(r.added_leads_count, 1);
}

#[tokio::test]
async fn add_leads_batches_by_100_and_sums_the_counts() {
    let server = MockServer::start().await;
    let responder = CountingAdd {
        sizes: Mutex::new(Vec::new()),
        fail_call: None,
    };
    on("POST", "/list/AddLeadsToListV2")
        .and(body_partial_json(json!({"listId": 77})))
        .respond_with(responder)
        .expect(3)
        .mount(&server)
        .await;
    let c = client(&server);
    let summary = c.lists().add_leads(ListId(77), &leads(250)).await.unwrap();
    assert_eq!(summary.batches, 3);
    assert_eq!(summary.leads_sent, 250);
    assert_eq!(summary.added, 247);
    assert_eq!(summary.updated, 3);
    assert_eq!(summary.failed, 0);
    assert_eq!(summary.unaccounted(), 0);
    let sizes: Vec<usize> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap()["leads"]
                .as_array()
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(sizes, vec![100, 100, 50]);
    // An empty slice sends nothing.
    let none = c.lists().add_leads(ListId(77), &[]).await.unwrap();
    assert_eq!(none.batches, 0);
}

#[tokio::test]
async fn add_leads_in_smaller_batches() {
    let server = MockServer::start().await;
    on("POST", "/list/AddLeadsToListV2")
        .respond_with(CountingAdd {
            sizes: Mutex::new(Vec::new()),
            fail_call: None,
        })
        .expect(3)
        .mount(&server)
        .await;
    let s = client(&server)
        .lists()
        .add_leads_in_batches(ListId(1), &leads(60), 25)
        .await
        .unwrap();
    assert_eq!(s.batches, 3);
    assert_eq!(s.leads_sent, 60);
}

#[tokio::test]
async fn a_failing_batch_reports_what_went_through_before_it() {
    let server = MockServer::start().await;
    on("POST", "/list/AddLeadsToListV2")
        .respond_with(CountingAdd {
            sizes: Mutex::new(Vec::new()),
            fail_call: Some(2),
        })
        .expect(2)
        .mount(&server)
        .await;
    let err = client(&server)
        .lists()
        .add_leads(ListId(5), &leads(250))
        .await
        .unwrap_err();
    assert_eq!(err.completed.batches, 1);
    assert_eq!(err.completed.leads_sent, 100);
    assert_eq!(err.failed_batch, 1);
    assert_eq!(err.failed_leads, 100..200);
    let line = err.to_string();
    assert!(
        line.contains("batch 2") && line.contains("Something about batch two."),
        "{line}"
    );
    assert!(!line.contains('\n'));
    let plain: Error = err.into();
    assert_eq!(plain.kind(), ErrorKind::Validation);
}

#[tokio::test]
async fn leads_heyreach_would_drop_or_refuse_are_refused_locally() {
    let server = MockServer::start().await;
    let c = client(&server);
    let mut bad = leads(3);
    bad[1].last_name = " ".into();
    let err = c.lists().add_leads(ListId(1), &bad).await.unwrap_err();
    assert!(err.to_string().contains("lead #1"), "{err}");
    assert!(err.to_string().contains("lastName is empty"), "{err}");
    assert_eq!(err.source.kind(), ErrorKind::Validation);

    let weird = vec![leads(1)[0].clone().custom_field("favorite color", "blue")];
    let err = c.lists().add_leads(ListId(1), &weird).await.unwrap_err();
    assert!(err.to_string().contains("A-Za-z0-9_"), "{err}");

    let err = c
        .lists()
        .add_leads_in_batches(ListId(1), &leads(3), 101)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("batch size"), "{err}");

    let err = c
        .lists()
        .add_leads_batch(&AddLeadsRequest {
            list_id: ListId(1),
            leads: leads(101),
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at most 100"), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn add_leads_is_retried_through_a_5xx_because_it_is_an_upsert() {
    let server = MockServer::start().await;
    on("POST", "/list/AddLeadsToListV2")
        .respond_with(ResponseTemplate::new(504))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    on("POST", "/list/AddLeadsToListV2")
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"addedLeadsCount": 0, "updatedLeadsCount": 2, "failedLeadsCount": 0}),
        ))
        .mount(&server)
        .await;
    let s = client(&server)
        .lists()
        .add_leads(ListId(1), &leads(2))
        .await
        .unwrap();
    assert_eq!(s.updated, 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn delete_leads_is_a_delete_with_a_json_body() {
    let server = MockServer::start().await;
    on("DELETE", "/list/DeleteLeadsFromList")
        .and(body_json(
            json!({"listId": 3672, "leadMemberIds": ["1111", "222"]}),
        ))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .lists()
        .delete_leads(ListId(3672), &["1111".into(), LeadMemberId::from("222")])
        .await
        .unwrap();
}

#[tokio::test]
async fn delete_leads_by_profile_url_returns_not_found_usernames() {
    let server = MockServer::start().await;
    on("DELETE", "/list/DeleteLeadsFromListByProfileUrl")
        .and(body_json(json!({
            "listId": 3672,
            "profileUrls": ["https://www.linkedin.com/in/john-doe/", "https://www.linkedin.com/in/jane-doe"]
        })))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"notFoundInList": ["jane-doe"], "x": 1})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let r = client(&server)
        .lists()
        .delete_leads_by_profile_url(
            ListId(3672),
            &[
                "https://www.linkedin.com/in/john-doe/",
                "https://www.linkedin.com/in/jane-doe",
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.not_found_in_list, vec!["jane-doe"]);
}

// ----- LinkedIn accounts ---------------------------------------------------------------

fn account_json() -> Value {
    json!({
        "id": 71110, "emailAddress": "sender@example.com", "firstName": null, "lastName": "Lee",
        "profileUrl": "https://www.linkedin.com/in/ann-lee", "isActive": true, "activeCampaigns": 3,
        "authIsValid": true, "isValidNavigator": false, "isValidRecruiter": false,
        "connectionRequestCooldown": false, "connectionNoteCooldown": false,
        "inMailCooldown": false, "searchCooldown": false, "newFlag": "?",
        "accountLimits": { "connectioRequestLimit": 25, "connectioRequestMax": 40,
            "messageLimit": 40, "messageLimitMax": 40, "inMailLimit": 0, "inMailLimitMax": 0,
            "profileViewLimit": 40, "profileViewLimitMax": 40, "followLimit": 40,
            "followLimitMax": 40, "postLikeLimit": 40, "postLikeLimitMax": 40 }
    })
}

#[tokio::test]
async fn linkedin_accounts_get_all_and_get_by_id() {
    let server = MockServer::start().await;
    on("POST", "/li_account/GetAll")
        .and(body_json(
            json!({"offset": 0, "limit": 100, "keyword": "ann"}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"totalCount": 1, "items": [account_json()]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    on("GET", "/li_account/GetById")
        .and(query_param("accountId", "71110"))
        .respond_with(ResponseTemplate::new(200).set_body_json(account_json()))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let page = c
        .linkedin_accounts()
        .get_all(&GetLinkedInAccountsRequest {
            keyword: Some("ann".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let a = &page.items[0];
    assert_eq!(a.id, LinkedInAccountId(71110));
    assert_eq!(a.first_name, None);
    let limits = a.account_limits.unwrap();
    assert_eq!(limits.connection_request_limit, Some(25));
    assert_eq!(limits.connection_request_max, Some(40));
    // The misspelt wire name is kept when serialising back.
    let back = serde_json::to_value(limits).unwrap();
    assert_eq!(back["connectioRequestLimit"], 25);
    let one = c
        .linkedin_accounts()
        .get(LinkedInAccountId(71110))
        .await
        .unwrap();
    assert_eq!(one.active_campaigns, Some(3));
}

// ----- campaigns -----------------------------------------------------------------------

fn campaign_json(id: i64, status: &str) -> Value {
    json!({
        "id": id, "name": "My First Campaign", "creationTime": "2025-12-01T08:06:15.463169Z",
        "startedAt": "2025-12-01T09:00:00Z", "status": status,
        "linkedInUserListName": "Q3 prospects", "linkedInUserListId": 188213,
        "campaignAccountIds": [113298],
        "progressStats": { "totalUsers": 9, "totalUsersInProgress": -7, "totalUsersPending": 0,
            "totalUsersFinished": 1, "totalUsersFailed": 0, "totalUsersManuallyStopped": 0,
            "totalUsersExcluded": 0 },
        "excludeInOtherCampaigns": false, "excludeHasOtherAccConversations": false,
        "excludeContactedFromSenderInOtherCampaign": false, "excludeListId": null,
        "organizationUnitId": 12345, "somethingElse": [1]
    })
}

#[tokio::test]
async fn campaigns_get_all_with_filters_and_get_by_id() {
    let server = MockServer::start().await;
    on("POST", "/campaign/GetAll")
        .and(body_json(json!({
            "offset": 0, "limit": 100, "keyword": "outbound",
            "statuses": ["IN_PROGRESS", "PAUSED"], "accountIds": [123, 456]
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalCount": 2,
            "items": [campaign_json(274079, "IN_PROGRESS"), campaign_json(274080, "ARCHIVED")]
        })))
        .expect(1)
        .mount(&server)
        .await;
    on("GET", "/campaign/GetById")
        .and(query_param("campaignId", "274079"))
        .respond_with(ResponseTemplate::new(200).set_body_json(campaign_json(274079, "DRAFT")))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let page = c
        .campaigns()
        .get_all(&GetCampaignsRequest {
            keyword: Some("outbound".into()),
            statuses: vec![CampaignStatus::InProgress, CampaignStatus::Paused],
            account_ids: vec![LinkedInAccountId(123), LinkedInAccountId(456)],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items[0].status, Some(CampaignStatus::InProgress));
    assert_eq!(
        page.items[1].status,
        Some(CampaignStatus::Other("ARCHIVED".into()))
    );
    let stats = page.items[0].progress_stats.unwrap();
    assert_eq!(stats.total_users_in_progress, Some(-7));
    assert_eq!(page.items[0].linked_in_user_list_id, Some(ListId(188213)));
    let one = c.campaigns().get(CampaignId(274079)).await.unwrap();
    assert_eq!(one.status, Some(CampaignStatus::Draft));
    assert_eq!(one.campaign_account_ids, vec![LinkedInAccountId(113298)]);
}

#[tokio::test]
async fn campaign_lifecycle_posts_carry_the_id_in_the_query() {
    let server = MockServer::start().await;
    for route in [
        "/campaign/StartCampaign",
        "/campaign/Pause",
        "/campaign/Resume",
    ] {
        on("POST", route)
            .and(query_param("campaignId", "42"))
            .and(body_json(json!({})))
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount(&server)
            .await;
    }
    let c = client(&server);
    c.campaigns().start(CampaignId(42)).await.unwrap();
    c.campaigns().pause(CampaignId(42)).await.unwrap();
    c.campaigns().resume(CampaignId(42)).await.unwrap();
}

// ----- errors --------------------------------------------------------------------------

#[tokio::test]
async fn business_errors_are_one_line_with_the_vendor_message() {
    let server = MockServer::start().await;
    on("POST", "/campaign/Pause")
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"errorMessage": "You cannot pause an inactive campaign."})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .campaigns()
        .pause(CampaignId(1))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert_eq!(
        err.to_string(),
        "heyreach 400 POST /campaign/Pause: You cannot pause an inactive campaign."
    );
    assert_eq!(
        err.vendor_message(),
        Some("You cannot pause an inactive campaign.")
    );
    assert!(!err.may_have_taken_effect());
}

#[tokio::test]
async fn aspnet_validation_problems_are_decoded() {
    let server = MockServer::start().await;
    on("POST", "/list/CreateEmptyList")
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "title": "One or more validation errors occurred.",
            "status": 400,
            "errors": {"Name": ["The Name field is required."]},
            "traceId": "00-abc-def-00"
        })))
        .mount(&server)
        .await;
    let err = client(&server)
        .lists()
        .create(&CreateListRequest::user_list("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation);
    let api = err.api().unwrap();
    assert_eq!(
        api.message,
        "One or more validation errors occurred. (Name: The Name field is required.)"
    );
    assert_eq!(api.request_id.as_deref(), Some("00-abc-def-00"));
    let line = err.to_string();
    assert!(
        line.starts_with("heyreach 400 POST /list/CreateEmptyList: One or more"),
        "{line}"
    );
    assert!(!line.contains('\n'));

    // Without a title (as S5 shows it).
    let server = MockServer::start().await;
    on("POST", "/campaign/GetAll")
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"errors": {"AccountIds": ["The AccountIds field is required."]}}),
        ))
        .mount(&server)
        .await;
    let err = client(&server)
        .campaigns()
        .get_all(&GetCampaignsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.vendor_message(),
        Some("AccountIds: The AccountIds field is required.")
    );
}

#[tokio::test]
async fn not_found_405_415_and_5xx_statuses() {
    let server = MockServer::start().await;
    on("GET", "/campaign/GetById")
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"errorMessage": "Campaign not found."})),
        )
        .mount(&server)
        .await;
    on("POST", "/list/GetAll")
        .respond_with(ResponseTemplate::new(415))
        .mount(&server)
        .await;
    on("GET", "/list/GetById")
        .respond_with(ResponseTemplate::new(405))
        .mount(&server)
        .await;
    on("POST", "/li_account/GetAll")
        .respond_with(ResponseTemplate::new(500).set_body_string("<html>oops</html>"))
        .mount(&server)
        .await;
    let c = client_with(&server, RetryConfig::disabled());
    let e = c.campaigns().get(CampaignId(9)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(
        e.to_string(),
        "heyreach 404 GET /campaign/GetById: Campaign not found."
    );
    let e = c
        .lists()
        .get_all(&GetListsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(415));
    assert_eq!(
        e.to_string(),
        "heyreach 415 POST /list/GetAll: Unsupported Media Type"
    );
    let e = c.lists().get(ListId(1)).await.unwrap_err();
    assert_eq!(e.status(), Some(405));
    let e = c
        .linkedin_accounts()
        .get_all(&GetLinkedInAccountsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server);
    assert!(e.is_retryable());
    assert_eq!(
        e.to_string(),
        "heyreach 500 POST /li_account/GetAll: Internal Server Error"
    );
}

#[tokio::test]
async fn reads_are_retried_through_5xx() {
    let server = MockServer::start().await;
    on("POST", "/list/GetAll")
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    on("POST", "/list/GetAll")
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"totalCount": 0, "items": []})),
        )
        .mount(&server)
        .await;
    let page = client(&server)
        .lists()
        .get_all(&GetListsRequest::default())
        .await
        .unwrap();
    assert_eq!(page.total_count, 0);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_429_without_retry_after_is_retried_with_backoff_and_succeeds() {
    let server = MockServer::start().await;
    on("POST", "/list/CreateEmptyList")
        .respond_with(ResponseTemplate::new(429).set_body_string("Too many requests"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    on("POST", "/list/CreateEmptyList")
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 5, "name": "after 429"})),
        )
        .mount(&server)
        .await;
    // A create: a 429 means it was not applied, so even non-idempotent calls are retried.
    let created = client(&server)
        .lists()
        .create(&CreateListRequest::user_list("after 429"))
        .await
        .unwrap();
    assert_eq!(created.id, ListId(5));
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 3);
}

#[tokio::test]
async fn a_429_that_never_ends_becomes_a_rate_limited_error() {
    let server = MockServer::start().await;
    on("POST", "/campaign/GetAll")
        .respond_with(ResponseTemplate::new(429))
        .mount(&server)
        .await;
    let err = client(&server)
        .campaigns()
        .get_all(&GetCampaignsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(
        err.to_string()
            .starts_with("heyreach rate limited POST /campaign/GetAll"),
        "{err}"
    );
}

#[tokio::test]
async fn a_malformed_success_body_is_a_decode_error_with_the_path() {
    let server = MockServer::start().await;
    on("GET", "/list/GetById")
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "not-a-number", "name": "x"})),
        )
        .mount(&server)
        .await;
    let err = client_with(&server, RetryConfig::disabled())
        .lists()
        .get(ListId(1))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("`id`"), "{err}");
}

// ----- secrets, config, quotas -------------------------------------------------------

#[tokio::test]
async fn the_key_never_shows_in_debug_or_errors() {
    let builder = Client::builder()
        .api_key(KEY)
        .base_url("http://127.0.0.1:9");
    assert!(!format!("{builder:?}").contains(KEY));
    let c = builder.build().unwrap();
    let dbg = format!("{c:?}");
    assert!(!dbg.contains(KEY) && dbg.contains("REDACTED"), "{dbg}");
    assert!(!format!("{:?}", c.lists()).contains(KEY));
    let server = MockServer::start().await;
    on("POST", "/list/GetAll")
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"errorMessage": "bad", "apiKey": KEY, "X-API-KEY": KEY})),
        )
        .mount(&server)
        .await;
    let err = client(&server)
        .lists()
        .get_all(&GetListsRequest::default())
        .await
        .unwrap_err();
    assert!(!err.to_string().contains(KEY));
    assert!(!format!("{err:?}").contains(KEY), "{err:?}");
}

#[test]
fn builder_defaults_and_validation() {
    let c = Client::builder().api_key(KEY).build().unwrap();
    assert_eq!(c.core().base_url(), heyreach::DEFAULT_BASE_URL);
    let err = Client::builder().build().unwrap_err();
    assert!(err.to_string().contains("missing API key"), "{err}");
    assert!(err.to_string().contains("HEYREACH_API_KEY"), "{err}");
}

#[test]
fn default_quota_keeps_300_per_minute_in_every_window_and_saturates_it() {
    let limits = default_limits();
    assert_eq!(
        limits.general.limits,
        vec![heyreach::Limit::per_minute(300)]
    );
    assert!(
        limits.buckets.is_empty(),
        "one budget shared by every endpoint"
    );
    let achieved =
        vendor_http::limit::analysis::check_saturation(&limits, GENERAL, Duration::from_secs(3600));
    assert!(achieved >= 0.95, "achieved {achieved}");
    assert!(achieved <= 1.0, "achieved {achieved}");
}
