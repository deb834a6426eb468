//! Safe against a real staging API: transient trouble is retried (and counted), hung and
//! oversize responses fail within bounds with their own messages, and the harness only reads.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{found, mock_config, run_with, run_with_client, target_for};
use list_contract::http::{ClientSettings, HttpClient, RequestOptions, RetryPolicy, Target};
use list_contract::mock::ReferenceMock;
use list_contract::violation::Invariant;
use wiremock::matchers::any;
use wiremock::{Mock, ResponseTemplate};

fn options(attempts: u32) -> RequestOptions {
    RequestOptions {
        retry: RetryPolicy {
            max_attempts: attempts,
            base_delay: Duration::from_millis(10),
            ..RetryPolicy::default()
        },
        timeout: Duration::from_secs(10),
    }
}

fn error_body(status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(serde_json::json!({
        "error": {"message": "slow down", "type": "rate_limit_error", "param": null, "code": null}
    }))
}

/// `times` answers of `response` before the reference mock takes over (`None`: for ever).
fn prelude(response: ResponseTemplate, times: Option<u64>) -> Vec<Mock> {
    let mock = Mock::given(any()).respond_with(response);
    vec![match times {
        Some(n) => mock.up_to_n_times(n),
        None => mock,
    }]
}

async fn mock_with(preludes: Vec<Mock>) -> (ReferenceMock, Target) {
    let mock = ReferenceMock::start_with(mock_config(), preludes).await;
    let target = target_for(&mock);
    (mock, target)
}

#[tokio::test]
async fn a_429_with_retry_after_then_200_passes_with_the_retry_counted() {
    let answer = error_body(429).insert_header("Retry-After", "0.2");
    let (_mock, target) = mock_with(prelude(answer, Some(1))).await;
    let run = run_with(&target, "list_batches::default_page", &options(4)).await;
    assert!(run.passed(), "{:#?}", run.violations);
    assert_eq!(run.requests, 2);
    assert_eq!(run.retries.len(), 1);
    let (request, retry) = &run.retries[0];
    assert!(request.starts_with("GET http://127.0.0.1:"), "{request}");
    assert_eq!(retry.reason, "429 Too Many Requests");
    assert_eq!(
        retry.waited,
        Duration::from_millis(200),
        "Retry-After is honoured"
    );
    assert_eq!(
        retry.to_string(),
        "attempt 1 got 429 Too Many Requests; retried after 0.2 s"
    );
}

#[tokio::test]
async fn retry_after_ms_408_and_a_bare_503_are_retried() {
    let preludes = vec![
        Mock::given(any())
            .respond_with(error_body(503).insert_header("retry-after-ms", "30"))
            .up_to_n_times(1),
        Mock::given(any())
            .respond_with(ResponseTemplate::new(408))
            .up_to_n_times(1),
        Mock::given(any())
            .respond_with(ResponseTemplate::new(503).set_body_string("deploying"))
            .up_to_n_times(1),
    ];
    let (_mock, target) = mock_with(preludes).await;
    let run = run_with(&target, "list_batches::limit_7", &options(4)).await;
    assert!(run.passed(), "{:#?}", run.violations);
    let reasons: Vec<&str> = run.retries.iter().map(|(_, r)| r.reason.as_str()).collect();
    assert_eq!(reasons.len(), 3);
    assert!(
        reasons.contains(&"408 Request Timeout") && reasons.contains(&"503 Service Unavailable")
    );
    assert!(
        run.retries
            .iter()
            .any(|(_, r)| r.waited == Duration::from_millis(30))
    );
}

#[tokio::test]
async fn repeated_503s_past_the_attempts_fail_with_the_last_status_and_body() {
    let answer = ResponseTemplate::new(503).set_body_string("deploy in progress");
    let (_mock, target) = mock_with(prelude(answer, None)).await;
    let run = run_with(&target, "list_batches::default_page", &options(3)).await;
    assert_eq!(found(&run), [(Invariant::Transport, "")]);
    assert_eq!(run.requests, 3);
    assert_eq!(run.retries.len(), 2);
    assert_eq!(
        run.violations[0].actual,
        "503 Service Unavailable with body deploy in progress (the last of 3 attempts: retries exhausted; the endpoint looked unavailable, which is not drift)"
    );
}

#[tokio::test]
async fn the_retry_budget_bounds_the_time_spent() {
    let answer = ResponseTemplate::new(503).insert_header("Retry-After", "0.3");
    let (_mock, target) = mock_with(prelude(answer, None)).await;
    let mut opts = options(100);
    opts.retry.budget = Duration::from_millis(1150);
    let start = Instant::now();
    let run = run_with(&target, "list_batches::default_page", &opts).await;
    assert_eq!(found(&run), [(Invariant::Transport, "")]);
    // Waits of 0.3 s fit three times into 1.15 s; a fourth would end past it, so it is not
    // begun (the slack leaves room for slow requests on a loaded machine).
    assert_eq!(run.requests, 4, "{:#?}", run.retries);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn a_retry_after_longer_than_the_longest_wait_is_not_waited_out() {
    let answer = error_body(429).insert_header("Retry-After", "3600");
    let (_mock, target) = mock_with(prelude(answer, None)).await;
    let run = run_with(&target, "list_batches::default_page", &options(4)).await;
    assert_eq!(found(&run), [(Invariant::Transport, "")]);
    assert_eq!(run.requests, 1);
    assert!(
        run.violations[0]
            .actual
            .starts_with("429 Too Many Requests with body {"),
        "{}",
        run.violations[0].actual
    );
}

#[tokio::test]
async fn client_errors_other_than_408_and_429_are_never_retried() {
    for status in [400, 401, 403, 404, 409, 422] {
        let (mock, target) = mock_with(prelude(error_body(status), None)).await;
        let run = run_with(&target, "list_batches::default_page", &options(4)).await;
        assert_eq!(found(&run), [(Invariant::Status, "")], "{status}");
        assert_eq!(run.requests, 1, "{status}");
        assert_eq!(mock.request_count().await, 1, "{status}");
    }
}

#[tokio::test]
async fn a_hung_response_times_out_within_the_timeout_and_is_not_retried() {
    let answer = ResponseTemplate::new(200).set_delay(Duration::from_secs(30));
    let (mock, target) = mock_with(prelude(answer, None)).await;
    let mut opts = options(4);
    opts.timeout = Duration::from_millis(500);
    let start = Instant::now();
    let run = run_with(&target, "list_batches::default_page", &opts).await;
    let took = start.elapsed();
    assert_eq!(found(&run), [(Invariant::Transport, "")]);
    let url = format!("{}v1/batches", mock.base_url());
    assert_eq!(
        run.violations[0].actual,
        format!("timed out after 0.5 s on page 1 (GET {url})")
    );
    assert_eq!(
        run.violations[0].expected,
        "a complete response within 0.5 s"
    );
    assert_eq!(run.requests, 1);
    assert!(
        took < Duration::from_millis(2500),
        "0.5 s plus a margin, not {took:?}"
    );
}

#[tokio::test]
async fn a_body_over_the_cap_fails_body_size_before_it_is_read() {
    let mock = ReferenceMock::start(mock_config()).await;
    let settings = ClientSettings {
        max_body_bytes: 2000,
        ..ClientSettings::default()
    };
    let run = run_with_client(
        &target_for(&mock),
        "list_batches::default_page",
        &settings,
        &options(1),
    )
    .await;
    assert_eq!(found(&run), [(Invariant::BodySize, "")]);
    let v = &run.violations[0];
    assert_eq!(v.expected, "a body of at most 2000 bytes");
    assert!(
        v.actual
            .contains("(Content-Length), over the 2000-byte cap (raise CONTRACT_MAX_BODY_BYTES"),
        "{}",
        v.actual
    );
}

/// A raw HTTP server on 127.0.0.1: connection `i` gets `answers[i]` (`None`: closed at once).
fn raw_server(answers: Vec<Option<Vec<u8>>>) -> Target {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for answer in answers {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let Some(bytes) = answer else { continue };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let _ = stream.write_all(&bytes);
        }
    });
    Target::new(
        format!("http://127.0.0.1:{port}").parse().unwrap(),
        list_contract::redact::Secret::new("k"),
        list_contract::contract::AuthStyle::XApiKey,
    )
}

#[tokio::test]
async fn a_chunked_body_over_the_cap_is_cut_off_while_streaming() {
    let chunk = format!("{:x}\r\n{}\r\n", 1500, "x".repeat(1500));
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{chunk}{chunk}0\r\n\r\n"
    );
    let target = raw_server(vec![Some(response.into_bytes())]);
    let settings = ClientSettings {
        max_body_bytes: 2000,
        ..ClientSettings::default()
    };
    let run = run_with_client(
        &target,
        "list_batches::default_page",
        &settings,
        &options(1),
    )
    .await;
    assert_eq!(found(&run), [(Invariant::BodySize, "")]);
    assert!(
        run.violations[0]
            .actual
            .contains("passed the 2000-byte cap before it ended"),
        "{}",
        run.violations[0].actual
    );
}

#[tokio::test]
async fn a_body_cut_short_of_its_content_length_is_a_transport_failure() {
    let truncated = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5000\r\nconnection: close\r\n\r\n{\"object\":\"list\",\"data\":[".to_vec();
    let target = raw_server(vec![Some(truncated.clone()), Some(truncated)]);
    let run = run_with(&target, "list_batches::default_page", &options(2)).await;
    assert_eq!(found(&run), [(Invariant::Transport, "")]);
    let actual = &run.violations[0].actual;
    assert!(actual.starts_with("reading the body failed: "), "{actual}");
    assert!(
        actual.ends_with("on page 1, after 2 attempts (is the server up and the base URL right?)"),
        "{actual}"
    );
}

#[tokio::test]
async fn a_connection_reset_is_retried() {
    let body =
        r#"{"error":{"message":"no key","type":"invalid_request_error","param":null,"code":null}}"#;
    let answer = format!(
        "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let target = raw_server(vec![None, Some(answer.into_bytes())]);
    let run = run_with(&target, "list_batches::missing_key", &options(3)).await;
    assert!(run.passed(), "{:#?}", run.violations);
    assert_eq!(run.retries.len(), 1);
    assert!(
        run.retries[0].1.reason.starts_with("connection failed: "),
        "{}",
        run.retries[0].1.reason
    );
}

/// Sends `n` GETs of `url` at once through `client`, and waits for all of them.
async fn send_together(client: &HttpClient, url: &url::Url, n: usize) -> Duration {
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (client, url) = (client.clone(), url.clone());
        set.spawn(async move { client.get(url, Default::default(), &options(1)).await });
    }
    while let Some(sent) = set.join_next().await {
        assert!(sent.unwrap().is_ok());
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_concurrency_and_rate_caps_hold() {
    let answer = ResponseTemplate::new(200).set_delay(Duration::from_millis(150));
    let (mock, _target) = mock_with(prelude(answer, None)).await;
    let url = mock.base_url();

    let one_at_a_time = ClientSettings {
        concurrency: Some(1),
        ..ClientSettings::default()
    };
    let took = send_together(&HttpClient::new(&one_at_a_time).unwrap(), &url, 4).await;
    assert!(
        took >= Duration::from_millis(600),
        "4 × 150 ms in series, not {took:?}"
    );

    let paced = ClientSettings {
        rate_limit: Some(20.0),
        ..ClientSettings::default()
    };
    let took = send_together(&HttpClient::new(&paced).unwrap(), &url, 5).await;
    // Five starts 50 ms apart: the last starts 200 ms in, and takes 150 ms.
    assert!(took >= Duration::from_millis(350), "{took:?}");
}

#[tokio::test]
async fn the_harness_only_sends_get_and_names_itself() {
    let mock = ReferenceMock::start(mock_config()).await;
    for case in common::cases() {
        common::run_on(&mock, &case.name).await;
    }
    let requests = mock.received().await;
    assert!(requests.len() > common::cases().len(), "walks send many");
    for r in requests {
        assert_eq!(r.method.as_str(), "GET");
        let agent = r.headers.get("user-agent").unwrap().to_str().unwrap();
        assert_eq!(agent, concat!("list-contract/", env!("CARGO_PKG_VERSION")));
    }
}

/// A full live-style run (walks side by side, the concurrency cap of a live run, a rate cap)
/// with the default retry settings against `mock`, which must pass.
fn full_run_passes(mock: &ReferenceMock, what: &str) {
    let base = mock.base_url().to_string();
    let out = common::check(
        &[
            ("CONTRACT_BASE_URL", &base),
            ("CONTRACT_API_KEY", &mock.config().key),
            ("CONTRACT_RATE_LIMIT", "100"),
        ],
        // More cases at once than cores: more walks side by side.
        &["--test-threads", "8"],
    );
    let all = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{what}: {all}");
    assert!(all.contains("17 passed; 0 failed"), "{what}: {all}");
    let summary = all.lines().find(|l| l.starts_with("summary: ")).unwrap();
    assert!(
        !summary.ends_with(" 0 retries"),
        "{what}: faults were met: {summary}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_answers_every_fifth_request_with_503_or_429_passes_a_full_run() {
    let mock = ReferenceMock::start(mock_config().items(40).transient_every(5)).await;
    full_run_passes(&mock, "every fifth");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_answers_a_fifth_of_requests_at_random_with_503_or_429_passes_a_full_run() {
    let mock = ReferenceMock::start_with(
        mock_config().items(40),
        common::random_transient_faults(20_261_201, 20),
    )
    .await;
    full_run_passes(&mock, "random");
}
