//! The shared client core against a toy simulator built with the kit: retries, faults,
//! rate limits, decoding, secrets.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use vendor_http::sim::{AfterApply, Fault, SimConfig, SimServer};
use vendor_http::{
    ClientBuilder, Error, ErrorKind, Limit, LimitSet, RateLimits, Request, RetryConfig, Sent,
};

mod toy;
use toy::*;

#[tokio::test]
async fn happy_path_and_journal() {
    let s = sim().await;
    let c = client(&s);
    let v: Value = c.send(create("a")).await.unwrap();
    assert_eq!(v["data"]["name"], "a");
    assert_eq!(list(&c).await.unwrap(), vec!["a"]);
    assert_eq!(s.journal().count("POST /things"), 1);
    assert_eq!(s.journal().applied("POST /things"), 1);
    assert_eq!(s.journal().len(), 2);
}

#[tokio::test]
async fn create_is_sent_once_when_the_answer_is_lost() {
    for after in [
        AfterApply::Status(502),
        AfterApply::Drop,
        AfterApply::Timeout,
    ] {
        let s = sim().await;
        let c = client(&s);
        s.faults()
            .inject("POST /things", Fault::ApplyThen(after), 1);
        let err = c.send::<Value>(create("x")).await.unwrap_err();
        assert!(err.may_have_taken_effect(), "{after:?}: {err}");
        assert_eq!(s.journal().count("POST /things"), 1, "{after:?}");
        assert_eq!(s.vendor().created.load(Ordering::SeqCst), 1);
        // The caller reconciles with a read, which is retried as needed.
        assert_eq!(list(&c).await.unwrap(), vec!["x"]);
    }
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error_that_may_have_been_sent() {
    let s = sim().await;
    let c = client(&s);
    s.faults().inject("POST /things", Fault::Drop, 1);
    let err = c.send::<Value>(create("x")).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                sent: Sent::Maybe,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.may_have_taken_effect());
}

#[tokio::test]
async fn idempotent_reads_survive_every_fault_kind() {
    let s = sim().await;
    let c = client(&s);
    for f in [
        Fault::Status(500),
        Fault::Status(503),
        Fault::Timeout,
        Fault::Drop,
        Fault::Malformed,
        Fault::ErrorIn200(500),
        Fault::RateLimited {
            retry_after_secs: 0,
        },
    ] {
        s.faults().inject("GET /things", f.clone(), 1);
        assert_eq!(list(&c).await.unwrap(), Vec::<String>::new(), "{f:?}");
    }
    assert_eq!(s.faults().pending(), 0);
    assert_eq!(s.journal().count("GET /things"), 14);
}

#[tokio::test]
async fn non_idempotent_calls_stop_on_5xx_but_retry_503_and_429() {
    let s = sim().await;
    let c = client(&s);
    s.faults().inject("POST /things", Fault::Status(500), 1);
    let err = c.send::<Value>(create("a")).await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(s.journal().count("POST /things"), 1);

    s.faults().inject("POST /things", Fault::Status(503), 2);
    s.faults().inject(
        "POST /things",
        Fault::RateLimited {
            retry_after_secs: 0,
        },
        1,
    );
    c.send::<Value>(create("b")).await.unwrap();
    assert_eq!(s.journal().count("POST /things"), 5);
    assert_eq!(s.vendor().created.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn error_inside_http_200_is_an_error() {
    let s = sim().await;
    let c = client(&s);
    s.faults().inject("POST /things", Fault::ErrorIn200(404), 1);
    let err = c.send::<Value>(create("a")).await.unwrap_err();
    let api = err.api().expect("api error");
    assert_eq!((api.status, api.http_status), (404, 200));
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("inside HTTP 200"), "{err}");
}

#[tokio::test]
async fn error_inside_http_200_is_an_error_on_every_sending_path() {
    // `ToyVendor` overrides only `Vendor::error_in_success`: that alone switches detection
    // on, for typed, raw and unit sends alike.
    let s = sim().await;
    let c = client(&s);
    s.faults().inject("GET /things", Fault::ErrorIn200(403), 3);
    let typed = c.send::<Value>(Request::get("/things")).await.unwrap_err();
    let raw = c.send_raw(Request::get("/things")).await.unwrap_err();
    let unit = c.send_unit(Request::get("/things")).await.unwrap_err();
    for err in [typed, raw, unit] {
        let api = err.api().expect("api error");
        assert_eq!((api.status, api.http_status), (403, 200), "{err}");
        assert_eq!(api.request_id.as_deref(), Some("e-1"), "{err}");
        assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    }
    assert_eq!(list(&c).await.unwrap(), Vec::<String>::new());
}

/// The toy vendor without an `error_in_success`: the default reads nothing.
struct PlainToy;
impl vendor_http::Vendor for PlainToy {
    const NAME: &'static str = "toy";
    const DEFAULT_BASE_URL: &'static str = "https://toy.invalid/api";
    type Client = vendor_http::HttpCore;
    fn default_limits() -> RateLimits {
        RateLimits::unlimited()
    }
    fn auth_header() -> vendor_http::reqwest::header::HeaderName {
        vendor_http::reqwest::header::HeaderName::from_static("x-toy-key")
    }
}

#[tokio::test]
async fn without_the_hook_a_2xx_body_is_never_an_error() {
    let s = sim().await;
    let c = ClientBuilder::<PlainToy>::new()
        .api_key(KEY)
        .base_url(s.base_url())
        .retry(RetryConfig::fast())
        .build()
        .unwrap();
    s.faults().inject("GET /things", Fault::ErrorIn200(404), 1);
    let v: Value = c.send(Request::get("/things")).await.unwrap();
    assert_eq!(v["status"], 404);
    assert_eq!(s.journal().count("GET /things"), 1);
}

#[tokio::test]
async fn vendor_errors_decode_into_one_line() {
    let s = sim().await;
    let c = client(&s);
    let err = c.send::<Value>(create("")).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "toy 422 POST /things: name is required (request id e-1)"
    );
    assert_eq!(err.kind(), ErrorKind::Validation);

    let wrong = ClientBuilder::<ToyVendor>::new()
        .api_key("wrong-key")
        .base_url(s.base_url())
        .build()
        .unwrap()
        .0;
    let err = list(&wrong).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(!err.to_string().contains("wrong-key"));

    let err = c
        .send::<Value>(Request::delete("/things"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(405));
    let err = c.send::<Value>(Request::get("/nothing")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn decode_errors_carry_path_and_redacted_body() {
    let s = sim().await;
    let c = client(&s);
    c.send::<Value>(create("a")).await.unwrap();
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Wrong {
        data: Vec<u32>,
    }
    let err = c.send::<Wrong>(Request::get("/things")).await.unwrap_err();
    match &err {
        Error::Decode { path, .. } => assert_eq!(path, "data[0]"),
        other => panic!("{other:?}"),
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct WrongCreate {
        data: u32,
    }
    let err = c.send::<WrongCreate>(create("b")).await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("pw-live-1"), "{text}");
    assert!(text.contains("[REDACTED]"), "{text}");
}

#[tokio::test]
async fn simulator_limits_are_enforced_and_429s_are_honoured() {
    let s = SimServer::start(
        Arc::new(Toy::default()),
        SimConfig::default(),
        RateLimits::new(LimitSet::new([Limit::per_second(2)])),
    )
    .await;
    // The client does not limit itself, so it overruns the simulator and must wait out
    // the 429s (Retry-After: 1 s).
    let c = ClientBuilder::<ToyVendor>::new()
        .api_key(KEY)
        .base_url(s.base_url())
        .retry(RetryConfig::fast())
        .rate_limits(RateLimits::unlimited())
        .build()
        .unwrap()
        .0;
    for _ in 0..3 {
        list(&c).await.unwrap();
    }
    assert!(s.journal().rate_limited() >= 1);
    assert_eq!(
        s.journal()
            .count_where(|e| e.route == "GET /things" && e.status == 200),
        3
    );

    // With the vendor's limits in the client, nothing is refused.
    let s2 = SimServer::start(
        Arc::new(Toy::default()),
        SimConfig::default(),
        RateLimits::new(LimitSet::new([Limit::per_second(20)])),
    )
    .await;
    let c2 = ClientBuilder::<ToyVendor>::new()
        .api_key(KEY)
        .base_url(s2.base_url())
        .rate_limits(RateLimits::new(LimitSet::new([Limit::per_second(20)])))
        .build()
        .unwrap()
        .0;
    let calls = (0..30).map(|_| list(&c2));
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(s2.journal().rate_limited(), 0);
}

#[tokio::test]
async fn rate_limit_beyond_the_cap_is_returned_not_slept() {
    let s = sim().await;
    let c = client(&s);
    s.faults().inject(
        "GET /things",
        Fault::RateLimited {
            retry_after_secs: 3600,
        },
        1,
    );
    let err = list(&c).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(err.kind(), ErrorKind::RateLimited);
}

#[tokio::test]
async fn connection_refused_is_not_sent_and_is_retried() {
    // Bind, read the port, drop: nothing listens there any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = ClientBuilder::<ToyVendor>::new()
        .api_key(KEY)
        .base_url(format!("http://127.0.0.1:{port}/api"))
        .retry(RetryConfig::fast())
        .build()
        .unwrap()
        .0;
    let err = c.send::<Value>(create("a")).await.unwrap_err();
    assert!(
        matches!(err, Error::Transport { sent: Sent::No, .. }),
        "{err:?}"
    );
    assert!(!err.may_have_taken_effect());
    assert!(!err.to_string().contains(KEY));
}

#[test]
fn builder_validates_and_hides_the_key() {
    let b = ClientBuilder::<ToyVendor>::new().api_key(KEY);
    assert!(!format!("{b:?}").contains(KEY));
    let c = b.build().unwrap().0;
    assert!(!format!("{c:?}").contains(KEY));
    for (builder, needle) in [
        (ClientBuilder::<ToyVendor>::new(), "missing API key"),
        (ClientBuilder::<ToyVendor>::new().api_key("  "), "empty"),
        (
            ClientBuilder::<ToyVendor>::new()
                .api_key(KEY)
                .base_url("not a url"),
            "invalid base URL",
        ),
        (
            ClientBuilder::<ToyVendor>::new()
                .api_key(KEY)
                .base_url("ftp://x"),
            "invalid base URL",
        ),
        (
            ClientBuilder::<ToyVendor>::new()
                .api_key("bad\nkey")
                .base_url("http://x"),
            "not allowed",
        ),
    ] {
        let err = builder.build().map(|_| ()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains(needle), "{err}");
        assert!(!err.to_string().contains("bad\nkey"));
    }
}

#[tokio::test]
async fn shared_limiter_serves_several_clients() {
    let s = sim().await;
    let first = client(&s);
    let second = ClientBuilder::<ToyVendor>::new()
        .api_key(KEY)
        .base_url(s.base_url())
        .rate_limiter(first.rate_limiter())
        .build()
        .unwrap()
        .0;
    assert!(Arc::ptr_eq(&first.rate_limiter(), &second.rate_limiter()));
    list(&second).await.unwrap();
}

#[test]
fn request_debug_redacts_secrets() {
    let r = Request::post("/partner")
        .query("pipl_password", "pw-query-1")
        .query("page", 2)
        .json(&json!({"accounts": [{"email": "a@x.com", "password": "pw-body-1"}]}));
    let text = format!("{r:?}");
    assert!(!text.contains("pw-query-1"), "{text}");
    assert!(!text.contains("pw-body-1"), "{text}");
    assert!(text.contains("a@x.com") && text.contains("page"), "{text}");
}
