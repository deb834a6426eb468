//! What got in the way of a first run against real servers (issue 13), reproduced on
//! 127.0.0.1: a gateway that routes by a header and adds its own, a server without auth, a
//! missing key, and the diagnoses of runs whose failures share one cause.

use crate::common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use common::{check, list_contract, mock_config, text};
use list_contract::mock::{Fault, ReferenceMock};
use wiremock::matchers::query_param;
use wiremock::{Match, Mock, Request, ResponseTemplate};

const CANARY: &str = "sk-canary-7f3a9d51c0e2";
const HEADER_CANARY: &str = "hdr-canary-91be04d7";

/// Matches requests that lack the header `0`.
struct Missing(&'static str);

impl Match for Missing {
    fn matches(&self, request: &Request) -> bool {
        !request.headers.contains_key(self.0)
    }
}

/// LiteLLM's answer to a request without its routing header.
fn no_model() -> Mock {
    Mock::given(Missing("x-litellm-model")).respond_with(ResponseTemplate::new(400).set_body_json(
        serde_json::json!({"error": {"message": "model not set", "type": "invalid_request_error",
            "param": "model", "code": "model_missing"}}),
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_routing_header_given_once_reaches_every_request_and_its_value_is_masked() {
    // The server echoes its request headers on a crash: the header's value must not show.
    let crash = Mock::given(query_param("limit", "abc")).respond_with(
        ResponseTemplate::new(500).set_body_string(format!(
            "Traceback ...: headers x-gateway-token={HEADER_CANARY} x-litellm-model=batch-model"
        )),
    );
    let mock = ReferenceMock::start_with(mock_config().key(CANARY), vec![no_model(), crash]).await;
    let base = mock.base_url().to_string();
    let env = [
        ("CONTRACT_BASE_URL", base.as_str()),
        ("CONTRACT_API_KEY", CANARY),
    ];

    // Without the header, every request is refused.
    let out = check(&env, &["default_page"]);
    assert_eq!(out.status.code(), Some(101), "{}", text(&out));
    assert!(text(&out).contains("actual:    400 Bad Request with body {"));

    let before = mock.received().await.len();
    let secret = format!("X-Gateway-Token: {HEADER_CANARY}");
    let out = check(
        &env,
        &[
            "--header",
            "x-litellm-model: batch-model",
            "--header",
            &secret,
            "--public-header",
            "x-litellm-model",
        ],
    );
    let all = text(&out);
    // Only the crash (limit=abc) fails: every other request carried the routing header.
    assert_eq!(out.status.code(), Some(101), "{all}");
    assert!(all.contains("16 passed; 1 failed"), "{all}");
    assert!(
        all.contains("with header(s) x-litellm-model, x-gateway-token on every request"),
        "{all}"
    );
    assert!(all.contains("x-gateway-token=***"), "{all}");
    assert!(
        all.contains("x-litellm-model=batch-model"),
        "a public header's value is shown: {all}"
    );
    assert!(
        !all.contains(HEADER_CANARY) && !all.contains(CANARY),
        "{all}"
    );
    for request in mock.received().await.into_iter().skip(before) {
        if request.url.query() == Some("limit=abc") {
            continue;
        }
        let model = request
            .headers
            .get("x-litellm-model")
            .map(|v| v.to_str().unwrap());
        assert_eq!(model, Some("batch-model"), "{}", request.url);
    }

    // The variable does the same, one header per line; masked in the JSON report too.
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let headers = format!("x-litellm-model: batch-model\nx-gateway-token: {HEADER_CANARY}\n");
    let out = check(
        &[
            ("CONTRACT_BASE_URL", base.as_str()),
            ("CONTRACT_API_KEY", CANARY),
            ("CONTRACT_HEADERS", &headers),
            ("CONTRACT_JSON", json.to_str().unwrap()),
        ],
        &[],
    );
    let all = text(&out);
    assert!(all.contains("16 passed; 1 failed"), "{all}");
    let report = std::fs::read_to_string(&json).unwrap();
    assert!(report.contains("x-gateway-token=***"), "{report}");
    assert!(!report.contains(HEADER_CANARY) && !all.contains(HEADER_CANARY));

    // A bad header names where it came from, never what was given (it may be a secret).
    let out = check(&env, &["--header", "x-litellm-model batch-model"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains(
            "error: --header: a header without a `:` (write it as `Name: value`; what was given is not shown, as it may be a secret)"
        ),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("batch-model"), "{}", text(&out));
    let out = check(&[("CONTRACT_HEADERS", "x-litellm-model")], &[]);
    assert!(
        text(&out).contains("error: CONTRACT_HEADERS: a header without a `:`"),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_header_still_wins_over_the_run_header() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("s");
    std::fs::create_dir(&suite).unwrap();
    std::fs::copy(
        common::cases_dir().join("list_batches/contract.toml"),
        suite.join("contract.toml"),
    )
    .unwrap();
    std::fs::write(
        suite.join("other_model.toml"),
        "description = \"d\"\n[request]\nheaders = { x-litellm-model = \"other\" }\n[[accept]]\nstatus = 200\nschema = \"list\"\n",
    )
    .unwrap();
    let mock = ReferenceMock::start(mock_config().key(CANARY)).await;
    let base = mock.base_url().to_string();
    let out = check(
        &[
            ("CONTRACT_BASE_URL", base.as_str()),
            ("CONTRACT_API_KEY", CANARY),
            ("CONTRACT_CASES_DIR", dir.path().to_str().unwrap()),
        ],
        &["--header", "x-litellm-model: run"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let received = mock.received().await;
    let models: Vec<&str> = received
        .iter()
        .map(|r| r.headers.get("x-litellm-model").unwrap().to_str().unwrap())
        .collect();
    assert_eq!(models, ["other"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_without_auth_is_checked_with_auth_none_and_the_run_says_auth_was_not_checked() {
    let mock = ReferenceMock::start(mock_config().fault(Fault::AuthNotChecked)).await;
    let base = mock.base_url().to_string();
    let out = check(&[], &["--base-url", &base, "--auth", "none"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("15 passed; 0 failed; 2 ignored"), "{all}");
    assert!(
        all.contains("note: list_batches::missing_key is skipped: auth not checked: the run sends no credential (--auth none)"),
        "{all}"
    );
    assert!(
        all.contains("auth: NOT checked (--auth none: no credential was sent); ignored: list_batches::missing_key, list_batches::wrong_key"),
        "{all}"
    );
    assert!(
        all.contains("; no credential sent (--auth none): auth is not checked"),
        "{all}"
    );
    for request in mock.received().await {
        assert!(
            !request.headers.contains_key("x-api-key")
                && !request.headers.contains_key("authorization"),
            "{request:?}"
        );
    }

    // The variable works alike, and says so in its own words.
    let out = check(
        &[("CONTRACT_BASE_URL", &base), ("CONTRACT_AUTH", "none")],
        &[],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("auth: NOT checked (CONTRACT_AUTH=none"),
        "{all}"
    );

    // The embedded mock, told there is no auth, runs as a server without auth.
    let out = check(&[], &["--auth=none"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn a_missing_key_names_the_flag_or_the_variable_that_gave_the_url() {
    let out = check(&[], &["--base-url", "http://127.0.0.1:9/"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains(
            "error: --base-url is set but CONTRACT_API_KEY is not (export the API key for http://127.0.0.1:9/, or pass --auth none for a server without auth)"
        ),
        "{}",
        text(&out)
    );
    let out = check(&[("CONTRACT_BASE_URL", "http://127.0.0.1:9/")], &[]);
    assert!(
        text(&out).contains(
            "error: CONTRACT_BASE_URL is set but CONTRACT_API_KEY is not (export the API key for http://127.0.0.1:9/, or set CONTRACT_AUTH=none for a server without auth)"
        ),
        "{}",
        text(&out)
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let out = check(&[("CONTRACT_API_KEY", CANARY)], &["--base-url", &base]);
    assert!(
        text(&out).starts_with(&format!("error: cannot reach --base-url = {base}/: ")),
        "{}",
        text(&out)
    );
    let out = check(&[], &["--auth", "basic"]);
    assert!(
        text(&out).contains(
            "error: --auth: unknown auth style `basic` (expected `x-api-key`, `bearer` or `none`)"
        ),
        "{}",
        text(&out)
    );
}

#[test]
fn help_documents_auth_none_headers_skip_and_the_test_harness_flags() {
    let out = list_contract(&[], &["check", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--auth <STYLE>",
        "x-api-key, bearer, or none",
        "--header <NAME: VALUE>",
        "--public-header <NAME[,NAME]>",
        "--skip <FILTER>",
        "--exact",
        "--list",
        "--ignored",
        "--include-ignored",
        "-q, --quiet",
        "--format <pretty|terse|json>",
        "--test-threads <TEST_THREADS>",
        "CONTRACT_KNOWN_HEADERS",
        "[env: CONTRACT_BASE_URL]",
    ] {
        assert!(help.contains(flag), "{flag}: {help}");
    }
}

/// A gateway in front of `upstream`: every answer gains LiteLLM's own headers.
fn gateway(upstream: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = upstream
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut client) = stream else { return };
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match client.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let mut request: String = head
                    .trim_end()
                    .lines()
                    .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
                    .map(|l| format!("{l}\r\n"))
                    .collect();
                request.push_str("connection: close\r\n\r\n");
                let mut server = TcpStream::connect(&upstream).unwrap();
                server.write_all(request.as_bytes()).unwrap();
                let mut answer = Vec::new();
                let _ = server.read_to_end(&mut answer);
                let at = answer.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
                let mut out = answer[..at].to_vec();
                out.extend_from_slice(b"x-litellm-version: 1.108.0\r\nx-litellm-key-spend: 0.0\r\nx-litellm-call-id: 5b1c\r\n");
                out.extend_from_slice(&answer[at..]);
                let _ = client.write_all(&out);
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateways_own_headers_are_not_drift_once_named() {
    let mock = ReferenceMock::start(mock_config().key(CANARY)).await;
    let base = gateway(mock.base_url().to_string());
    let env = [
        ("CONTRACT_BASE_URL", base.as_str()),
        ("CONTRACT_API_KEY", CANARY),
        ("CONTRACT_FAIL_ON", "additive"),
    ];
    let out = check(&env, &["limit_7"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(101), "{all}");
    assert!(all.contains("new header: x-litellm-version"), "{all}");

    let mut named = env.to_vec();
    named.push((
        "CONTRACT_KNOWN_HEADERS",
        "x-litellm-version, x-litellm-key-spend,x-litellm-call-*",
    ));
    let out = check(&named, &["limit_7"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(!all.contains("new header"), "{all}");
}

/// LiteLLM 1.108's answer to a bad limit: valid against the error schema, wrong to any reader.
fn litellm_error(limit: &str) -> Mock {
    Mock::given(query_param("limit", limit)).respond_with(ResponseTemplate::new(400).set_body_json(
        serde_json::json!({"error": {"message": "limit must be between 1 and 100",
            "type": "internal_server_error", "param": "None", "code": "400"}}),
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn error_bodies_that_make_no_sense_fail_with_the_rule_named_unless_switched_off() {
    let mock = ReferenceMock::start_with(mock_config().key(CANARY), vec![litellm_error("0")]).await;
    let base = mock.base_url().to_string();
    let env = [
        ("CONTRACT_BASE_URL", base.as_str()),
        ("CONTRACT_API_KEY", CANARY),
    ];
    let out = check(&env, &["limit_zero"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(101), "{all}");
    let url = format!("{base}v1/batches?limit=0");
    assert!(
        all.contains(&format!(
            "list_batches::limit_zero: GET {url}\n\
             \x20 invariant: plausible_error (the error body says what went wrong, plausibly)\n\
             \x20 at:        /error/param\n\
             \x20 expected:  a param, or null (rule `stringified_null`)\n\
             \x20 actual:    \"None\" (a null written as text)\n\n\
             \x20 invariant: plausible_error (the error body says what went wrong, plausibly)\n\
             \x20 at:        /error/code\n\
             \x20 expected:  a code naming the error, or null (rule `code_is_status`)\n\
             \x20 actual:    \"400\" (only the HTTP status, 400)\n\n\
             \x20 invariant: plausible_error (the error body says what went wrong, plausibly)\n\
             \x20 at:        /error/type\n\
             \x20 expected:  a client error type on a 400 (rule `server_type_on_4xx`)\n\
             \x20 actual:    \"internal_server_error\" (a server error)\n"
        )),
        "{all}"
    );

    // A contract that accepts these bodies says so, rule by rule.
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("list_batches");
    std::fs::create_dir(&suite).unwrap();
    for file in ["contract.toml", "limit_zero.toml"] {
        std::fs::copy(
            common::cases_dir().join("list_batches").join(file),
            suite.join(file),
        )
        .unwrap();
    }
    let contract = suite.join("contract.toml");
    let mut text_of = std::fs::read_to_string(&contract).unwrap();
    text_of.push_str(
        "\n[plausible_errors]\nstringified_null = false\ncode_is_status = false\nserver_type_on_4xx = false\n",
    );
    std::fs::write(&contract, text_of).unwrap();
    let mut env = env.to_vec();
    env.push(("CONTRACT_CASES_DIR", dir.path().to_str().unwrap()));
    let out = check(&env, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// The `diagnosis:` lines of a run's output.
fn diagnoses(all: &str) -> Vec<&str> {
    all.lines()
        .filter(|l| l.starts_with("diagnosis: "))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bearer_only_server_checked_with_x_api_key_is_diagnosed_once() {
    let mock = ReferenceMock::start(
        mock_config()
            .key(CANARY)
            .auth(list_contract::contract::AuthStyle::Bearer),
    )
    .await;
    let base = mock.base_url().to_string();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let xml = dir.path().join("junit.xml");
    let out = check(
        &[
            ("CONTRACT_BASE_URL", base.as_str()),
            ("CONTRACT_API_KEY", CANARY),
            ("CONTRACT_JSON", json.to_str().unwrap()),
            ("CONTRACT_JUNIT", xml.to_str().unwrap()),
        ],
        &["--test-threads", "1"],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert_eq!(
        diagnoses(&all),
        [format!(
            "diagnosis: every request sent with the key was refused (14 requests: 14 × 401 Unauthorized; \
             one: GET {base}v1/batches?limit=1; the summary's 16 also counts 2 sent without the key \
             or with a wrong one): the server does not take the key as it was sent. \
             It was sent as `x-api-key: ***` (the contract's `auth`); a server that reads \
             `Authorization: Bearer` (OpenAI and most compatible servers) wants --auth bearer \
             (CONTRACT_AUTH=bearer). Otherwise CONTRACT_API_KEY is not a key this server issued."
        )],
        "{all}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["diagnoses"][0]["cause"], "key_refused");
    let junit = std::fs::read_to_string(&xml).unwrap();
    assert!(
        junit.contains(
            "<property name=\"diagnosis\" value=\"every request sent with the key was refused"
        ),
        "{junit}"
    );
    assert!(!all.contains(CANARY));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_path_prefix_is_diagnosed_with_a_url_that_was_requested() {
    let mock = ReferenceMock::start_with(
        mock_config().key(CANARY),
        vec![Mock::given(wiremock::matchers::any()).respond_with(ResponseTemplate::new(404))],
    )
    .await;
    let base = format!("{}api", mock.base_url());
    let out = check(&[("CONTRACT_API_KEY", CANARY)], &["--base-url", &base]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert_eq!(
        diagnoses(&all),
        [format!(
            "diagnosis: every request was answered 404 Not Found (16 requests; one: GET \
             {base}/v1/batches?limit=1): the base URL or its path prefix is likely wrong \
             (--base-url = {base}; the contract's path is joined onto it: check it against a \
             URL that works with curl)"
        )],
        "{all}"
    );
    // The diagnosis counts what the summary counts.
    assert!(
        all.contains("0 ignored; 4 page(s) walked, 16 request(s), 0 retries"),
        "{all}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_never_answers_is_diagnosed_and_exits_1() {
    // It accepts connections and holds them, silent.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let out = check(
        &[
            ("CONTRACT_BASE_URL", base.as_str()),
            ("CONTRACT_API_KEY", CANARY),
            ("CONTRACT_REQUEST_TIMEOUT", "0.3"),
        ],
        &[],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    let found = diagnoses(&all);
    assert_eq!(found.len(), 1, "{all}");
    assert!(
        found[0].starts_with("diagnosis: every request failed to connect or timed out (")
            && found[0].ends_with(&format!(
                "): the server is down or did not answer; nothing about the contract was learned (is the server up, and CONTRACT_BASE_URL = {base}/ right?)"
            )),
        "{all}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endpoint_that_only_answers_503_looked_unavailable_and_exits_1() {
    let mock = ReferenceMock::start_with(
        mock_config().key(CANARY),
        vec![
            Mock::given(wiremock::matchers::any())
                .respond_with(ResponseTemplate::new(503).set_body_string("upstream connect error")),
        ],
    )
    .await;
    let base = mock.base_url().to_string();
    let out = check(
        &[
            ("CONTRACT_BASE_URL", base.as_str()),
            ("CONTRACT_API_KEY", CANARY),
            ("CONTRACT_RETRY_ATTEMPTS", "2"),
        ],
        &[],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert_eq!(
        diagnoses(&all),
        [format!(
            "diagnosis: every request got a \"try again\" answer even after its retries \
             (14 requests: 14 × 503 Service Unavailable; one: GET {base}v1/batches?limit=1; the \
             summary's 32 also counts 2 sent without the key or with a wrong one and 16 retries): the endpoint \
             looked unavailable, which says nothing about the contract (try again later, or \
             give it more patience with CONTRACT_RETRY_ATTEMPTS and CONTRACT_RETRY_BUDGET)"
        )],
        "{all}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_counts_by_invariant_add_up_to_the_cases_counts() {
    let mock = ReferenceMock::start(
        mock_config()
            .key(CANARY)
            .fault(Fault::CreatedAtAsString)
            .fault(Fault::WrongLastId)
            .fault(Fault::InvalidLimitCrashes),
    )
    .await;
    let base = mock.base_url().to_string();
    let out = check(
        &[
            ("CONTRACT_BASE_URL", base.as_str()),
            ("CONTRACT_API_KEY", CANARY),
        ],
        &[],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(101), "{all}");
    // The summary's count per invariant is the sum of its findings' counts, each printed once.
    let line = all
        .lines()
        .find_map(|l| l.strip_prefix("findings: "))
        .unwrap_or_else(|| panic!("{all}"));
    let (_, counts) = line
        .split_once("(violations by invariant: ")
        .unwrap_or_else(|| panic!("{line}"));
    let by_invariant: u64 = counts
        .trim_end_matches(')')
        .split(", ")
        .map(|part| part.split(' ').nth(1).unwrap().parse::<u64>().unwrap())
        .sum();
    let by_findings: u64 = all
        .lines()
        .filter(|l| l.starts_with("  #"))
        .filter_map(|l| l.rsplit_once("): ").or_else(|| l.rsplit_once(": ")))
        .map(|(_, counts)| {
            counts
                .split(' ')
                .next()
                .unwrap()
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("{counts}"))
        })
        .sum();
    assert_eq!(by_invariant, by_findings, "{all}");
    // Each crashing case has its own request, and so its own status violation.
    assert!(counts.starts_with("status 5 in "), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_any_of_says_which_field_broke_it() {
    let mock = ReferenceMock::start(mock_config().key(CANARY)).await;
    let mut items: Vec<serde_json::Value> = mock.items().into_iter().take(7).collect();
    // llama-stack 0.7.3's batch: `errors` present with a null `object`.
    items[3]["errors"] = serde_json::json!({"object": null, "data": [{"code": "x",
        "message": "a long message that pushes the item past any excerpt's length", "param": null,
        "line": 1}]});
    let page = serde_json::json!({"object": "list", "data": items, "first_id": items[0]["id"],
        "last_id": items[6]["id"], "has_more": true});
    let served = ReferenceMock::start_with(
        mock_config().key(CANARY),
        vec![
            Mock::given(query_param("limit", "7"))
                .respond_with(ResponseTemplate::new(200).set_body_json(page)),
        ],
    )
    .await;
    let base = served.base_url().to_string();
    let out = check(
        &[
            ("CONTRACT_BASE_URL", base.as_str()),
            ("CONTRACT_API_KEY", CANARY),
        ],
        &["--exact", "list_batches::limit_7"],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(101), "{all}");
    assert!(
        all.contains(&format!(
            "list_batches::limit_7: GET {base}v1/batches?limit=7\n\
             \x20 invariant: schema (the body matches the schema)\n\
             \x20 at:        /data/3/errors/object\n\
             \x20 schema:    batch.json#/$defs/errors/properties/object/const\n\
             \x20 expected:  \"list\" was expected (in the closest `anyOf` branch (2 of 2) at batch.json#/properties/errors/anyOf)\n\
             \x20 actual:    null\n"
        )),
        "{all}"
    );
    assert!(
        !all.contains("is not valid under any of the schemas"),
        "{all}"
    );
}

#[test]
fn serve_without_auth_is_checked_with_auth_none() {
    let (_server, base, _stderr) = common::serve(&["--auth", "none"]);
    let out = check(&[], &["--base-url", &base, "--auth", "none"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("15 passed; 0 failed; 2 ignored"), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_wants_a_key_checked_with_auth_none_is_diagnosed() {
    let mock = ReferenceMock::start(mock_config().key(CANARY)).await;
    let base = mock.base_url().to_string();
    let out = check(&[("CONTRACT_AUTH", "none")], &["--base-url", &base]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert_eq!(
        diagnoses(&all),
        [format!(
            "diagnosis: every request was refused (14 requests: 14 × 401 Unauthorized; one: GET \
             {base}v1/batches?limit=1): the server wants a credential, and none was sent \
             (CONTRACT_AUTH=none). Give it a key with CONTRACT_API_KEY and --auth x-api-key or \
             --auth bearer."
        )],
        "{all}"
    );
}
