//! Recording a run as HAR (`CONTRACT_RECORD`) and replaying it offline (`CONTRACT_REPLAY`):
//! the same report and exit code with the server gone, a HAR 1.2 file with every secret
//! masked, a changed case that fails naming the request the recording lacks, and retries
//! replayed as recorded.

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{batches_only_dir, check, mock_config, text};
use list_contract::http::{ClientSettings, HttpClient, RequestOptions};
use list_contract::mock::{Fault, ReferenceMock};
use list_contract::record::{Recorder, RunInfo, SuiteTarget};
use list_contract::redact::{Redactor, Secret};
use list_contract::replay::Replayer;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The JSON report without what may differ between a run and its replay: the target (a
/// replay names its file), the timings, and which of two cases that share a walk or a page
/// sent it and which took it shared (a race in a live run too: whichever case asks first
/// sends). What each case used, `requests + shared`, stays, as do the run's totals.
fn comparable(mut report: Value) -> Value {
    report["target"] = Value::Null;
    // A replay sends nothing, so it has no pace; the live run's says how it was paced.
    report["pace"] = Value::Null;
    for case in report["cases"].as_array_mut().unwrap() {
        case["duration_secs"] = Value::Null;
        let used = case["requests"].as_u64().unwrap() + case["shared"].as_u64().unwrap();
        case["used"] = used.into();
        for sent in ["requests", "shared", "retries"] {
            case[sent] = Value::Null;
        }
    }
    report
}

/// Records a run of the List Batches suite against `config`, stops the server, replays the
/// file, and checks that both runs end alike; returns the HAR path, the exit code and the
/// replay's output.
async fn record_then_replay(config: list_contract::mock::MockConfig, dir: &Path) -> (PathBuf, i32) {
    let har = dir.join("run.har");
    let (live_json, replay_json) = (dir.join("live.json"), dir.join("replay.json"));
    let mock = ReferenceMock::start(config).await;
    let base = mock.base_url().to_string();
    let key = mock.config().key.clone();
    let live = check(
        &[
            ("CONTRACT_BASE_URL", &base),
            ("CONTRACT_API_KEY", &key),
            ("CONTRACT_RECORD", har.to_str().unwrap()),
            ("CONTRACT_JSON", live_json.to_str().unwrap()),
        ],
        &[],
    );
    drop(mock);
    let code = live.status.code().unwrap();
    assert!(
        text(&live).contains("note: the run is recorded in"),
        "{}",
        text(&live)
    );

    // No base URL, no key, no server: the recording answers.
    let cases = batches_only_dir();
    let replay = check(
        &[
            ("CONTRACT_REPLAY", har.to_str().unwrap()),
            ("CONTRACT_CASES_DIR", cases.to_str().unwrap()),
            ("CONTRACT_JSON", replay_json.to_str().unwrap()),
        ],
        &[],
    );
    let all = text(&replay);
    assert_eq!(replay.status.code(), Some(code), "{all}");
    assert!(all.contains("no request is sent"), "{all}");
    assert!(!all.contains("embedded reference mock"), "{all}");
    let (live_report, replay_report) = (read_json(&live_json), read_json(&replay_json));
    assert!(
        replay_report["target"]
            .as_str()
            .unwrap()
            .starts_with(&format!(
                "replay of {} (recorded against {base}",
                har.display()
            )),
        "{}",
        replay_report["target"]
    );
    assert_eq!(replay_report["reference_mock"], Value::Bool(false));
    assert_eq!(replay_report["pace"], Value::Null);
    let (live_report, replay_report) = (comparable(live_report), comparable(replay_report));
    if live_report != replay_report {
        let keep = std::env::temp_dir().join("record_replay_reports");
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::write(
            keep.join("live.json"),
            serde_json::to_string_pretty(&live_report).unwrap(),
        )
        .unwrap();
        std::fs::write(
            keep.join("replay.json"),
            serde_json::to_string_pretty(&replay_report).unwrap(),
        )
        .unwrap();
        panic!("the reports differ: see {}", keep.display());
    }
    (har, code)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_faulty_run_replays_with_the_server_gone_to_the_same_report_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = mock_config()
        .fault(Fault::WrongLastId)
        .fault(Fault::DuplicateOnce)
        .fault(Fault::InvalidLimitCrashes);
    // Retries too: a recorded 429 or 503 and the answer after it replay in that order.
    config.transient_every = Some(40);
    let (har, code) = record_then_replay(config, dir.path()).await;
    assert_eq!(code, 101);
    let entries = read_json(&har)["log"]["entries"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        entries
            .iter()
            .any(|e| e["_list_contract"]["retried_after_secs"].is_number()),
        "the recording holds retries"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_conforming_run_replays_to_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let (har, code) = record_then_replay(mock_config(), dir.path()).await;
    assert_eq!(code, 0);
    // Which cases and walk pages each answer served: the cross-walk shares the walks.
    let entries = read_json(&har)["log"]["entries"]
        .as_array()
        .unwrap()
        .clone();
    let page3 = entries
        .iter()
        .find(|e| {
            e["_list_contract"]["pages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| {
                    p.as_str()
                        .unwrap()
                        .starts_with("walk limit=7, page 3, after=")
                })
        })
        .expect("page 3 of the walk at limit=7 is named");
    let cases: Vec<&str> = page3["_list_contract"]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(
        cases,
        ["list_batches::cross_walk", "list_batches::walk_limit_7"]
    );
}

#[test]
fn a_run_against_the_embedded_mock_replays_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let (har, live_json, replay_json) = (
        dir.path().join("mock.har"),
        dir.path().join("live.json"),
        dir.path().join("replay.json"),
    );
    let cases = batches_only_dir();
    let cases = cases.to_str().unwrap();
    // The flags this time, as a user types them.
    let live = check(
        &[("CONTRACT_CASES_DIR", cases)],
        &[
            "--record",
            har.to_str().unwrap(),
            "--json",
            live_json.to_str().unwrap(),
        ],
    );
    assert_eq!(live.status.code(), Some(0), "{}", text(&live));
    let replay = check(
        &[("CONTRACT_CASES_DIR", cases)],
        &[
            "--replay",
            har.to_str().unwrap(),
            "--json",
            replay_json.to_str().unwrap(),
        ],
    );
    let all = text(&replay);
    assert_eq!(replay.status.code(), Some(0), "{all}");
    // No mock is started: the run names the recording, not a mock of its own.
    assert!(
        all.contains("list-contract: checking a replay of")
            && all.contains("(recorded against the embedded reference mock at http://127.0.0.1:")
            && !all.contains("is not set; checking the embedded reference mock"),
        "{all}"
    );
    let (live_report, replay_report) = (read_json(&live_json), read_json(&replay_json));
    assert_eq!(replay_report["reference_mock"], Value::Bool(true));
    assert_eq!(comparable(live_report), comparable(replay_report));
    // The mock's own key is masked like any key.
    let written = std::fs::read_to_string(&har).unwrap();
    assert!(!written.contains(list_contract::mock::DEFAULT_KEY));

    // A base URL left set (here a port nothing listens on) is ignored: nothing is sent.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let replay = check(
        &[
            ("CONTRACT_CASES_DIR", cases),
            ("CONTRACT_REPLAY", har.to_str().unwrap()),
            ("CONTRACT_BASE_URL", &base),
        ],
        &[],
    );
    let all = text(&replay);
    assert_eq!(replay.status.code(), Some(0), "{all}");
    assert!(
        all.contains("no request is sent (CONTRACT_BASE_URL is ignored)"),
        "{all}"
    );
}

/// The HAR 1.2 fields every reader needs, present with their types.
fn assert_har_1_2(har: &Value) {
    let log = &har["log"];
    assert_eq!(log["version"], "1.2");
    assert!(log["creator"]["name"].is_string() && log["creator"]["version"].is_string());
    let entries = log["entries"].as_array().expect("log.entries");
    assert!(!entries.is_empty());
    for e in entries {
        assert!(
            e["startedDateTime"].is_string() && e["time"].is_number(),
            "{e}"
        );
        chrono::DateTime::parse_from_rfc3339(e["startedDateTime"].as_str().unwrap()).unwrap();
        let req = &e["request"];
        for k in ["method", "url", "httpVersion"] {
            assert!(req[k].is_string(), "request.{k}: {e}");
        }
        for k in ["cookies", "headers", "queryString"] {
            assert!(req[k].is_array(), "request.{k}: {e}");
        }
        for k in ["headersSize", "bodySize"] {
            assert!(req[k].is_number(), "request.{k}: {e}");
        }
        let res = &e["response"];
        for k in ["status", "headersSize", "bodySize"] {
            assert!(res[k].is_number(), "response.{k}: {e}");
        }
        for k in ["statusText", "httpVersion", "redirectURL"] {
            assert!(res[k].is_string(), "response.{k}: {e}");
        }
        for k in ["cookies", "headers"] {
            assert!(res[k].is_array(), "response.{k}: {e}");
        }
        assert!(res["content"]["size"].is_number() && res["content"]["mimeType"].is_string());
        assert!(e["cache"].is_object(), "cache: {e}");
        for k in ["send", "wait", "receive"] {
            assert!(e["timings"][k].is_number(), "timings.{k}: {e}");
        }
        assert!(e["_list_contract"]["cases"].is_array(), "{e}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_har_file_is_har_1_2_and_no_secret_reaches_it() {
    const KEY: &str = "sk-canary-key-5f1c";
    const VAR: &str = "canary-secret-var-9a2e";
    const HEADER: &str = "canary-secret-header-77d0";
    // A server that echoes every request header into its body and a response header, and
    // names the secret variable's value in its body too.
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(|req: &Request| {
            let echoed: Vec<String> = req
                .headers
                .iter()
                .map(|(n, v)| format!("{n}={}", v.to_str().unwrap_or_default()))
                .collect();
            let body = serde_json::json!({
                "object": "list", "data": [], "first_id": null, "last_id": null,
                "has_more": false, "echo": echoed, "org": VAR,
            });
            ResponseTemplate::new(200)
                .insert_header("x-echo-key", format!("key {KEY}").as_str())
                .set_body_json(body)
        })
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("run.har");
    let out = check(
        &[
            ("CONTRACT_BASE_URL", &server.uri()),
            ("CONTRACT_API_KEY", KEY),
            ("CONTRACT_AUTH", "bearer"),
            ("CONTRACT_SECRET_VARS", "ORG_TOKEN"),
            ("ORG_TOKEN", VAR),
            ("CONTRACT_HEADERS", &format!("x-gateway-token: {HEADER}")),
            ("CONTRACT_RECORD", har.to_str().unwrap()),
        ],
        &[],
    );
    assert!(
        text(&out).contains("note: the run is recorded in"),
        "{}",
        text(&out)
    );
    let bytes = std::fs::read(&har).unwrap();
    let written = String::from_utf8(bytes).unwrap();
    for canary in [KEY, VAR, HEADER] {
        assert!(!written.contains(canary), "{canary} is in the HAR file");
    }
    assert!(
        written.contains("Bearer ***"),
        "the masked key stays visible as such"
    );
    let value: Value = serde_json::from_str(&written).unwrap();
    assert_har_1_2(&value);
    // The crate reads it back as HAR 1.2.
    assert_eq!(
        har::from_path(&har).unwrap().version(),
        har::HarVersion::V1_2
    );
    assert_eq!(value["log"]["_list_contract"]["auth"], "bearer");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replay_fails_a_changed_case_naming_the_missing_request_and_rejudges_a_changed_schema() {
    let dir = tempfile::tempdir().unwrap();
    // A copy of the List Batches suite, so one case can change after the recording.
    let cases = dir.path().join("cases");
    let suite = cases.join("list_batches");
    std::fs::create_dir_all(&suite).unwrap();
    for entry in std::fs::read_dir(batches_only_dir().join("list_batches")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, suite.join(path.file_name().unwrap())).unwrap();
    }
    let har = dir.path().join("run.har");
    let mock = ReferenceMock::start(mock_config()).await;
    let live = check(
        &[
            ("CONTRACT_BASE_URL", mock.base_url().as_ref()),
            ("CONTRACT_API_KEY", &mock.config().key.clone()),
            ("CONTRACT_CASES_DIR", cases.to_str().unwrap()),
            ("CONTRACT_RECORD", har.to_str().unwrap()),
        ],
        &[],
    );
    assert_eq!(live.status.code(), Some(0), "{}", text(&live));
    drop(mock);

    let limit_7 = suite.join("limit_7.toml");
    let changed = std::fs::read_to_string(&limit_7)
        .unwrap()
        .replace("limit = 7", "limit = 8");
    std::fs::write(&limit_7, changed).unwrap();
    let json = dir.path().join("replay.json");
    let replay = check(
        &[
            ("CONTRACT_REPLAY", har.to_str().unwrap()),
            ("CONTRACT_CASES_DIR", cases.to_str().unwrap()),
            ("CONTRACT_JSON", json.to_str().unwrap()),
        ],
        &[],
    );
    let all = text(&replay);
    assert_eq!(replay.status.code(), Some(1), "{all}"); // not judged: a request the recording lacks
    assert!(
        all.contains(&format!(
            "GET /v1/batches?limit=8 is not in the recording {}; the closest recorded request: GET /v1/batches?limit=7 (query limit=7 recorded, limit=8 now)",
            har.display()
        )),
        "{all}"
    );
    let report = read_json(&json);
    let failed: Vec<&str> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "failed")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["list_batches::limit_7"]);
    assert_eq!(
        report["summary"]["passed"],
        report["summary"]["cases"].as_u64().unwrap() - 1
    );

    // Re-judging: the same responses against a changed schema (`created_at` now a string).
    std::fs::write(
        &limit_7,
        std::fs::read_to_string(&limit_7)
            .unwrap()
            .replace("limit = 8", "limit = 7"),
    )
    .unwrap();
    let schemas = dir.path().join("schemas");
    std::fs::create_dir_all(&schemas).unwrap();
    for entry in std::fs::read_dir(common::schemas_dir()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, schemas.join(path.file_name().unwrap())).unwrap();
    }
    let batch = schemas.join("batch.json");
    let mut schema = read_json(&batch);
    schema["properties"]["created_at"]["type"] = "string".into();
    std::fs::write(&batch, schema.to_string()).unwrap();
    let rejudged = check(
        &[
            ("CONTRACT_REPLAY", har.to_str().unwrap()),
            ("CONTRACT_CASES_DIR", cases.to_str().unwrap()),
            ("CONTRACT_SCHEMAS_DIR", schemas.to_str().unwrap()),
            ("CONTRACT_JSON", json.to_str().unwrap()),
        ],
        &[],
    );
    let all = text(&rejudged);
    assert_eq!(rejudged.status.code(), Some(101), "{all}");
    let report = read_json(&json);
    let schema_violations = report["summary"]["violations"]["schema"]
        .as_u64()
        .unwrap_or(0);
    assert!(schema_violations > 0, "{}", report["summary"]);
    assert!(
        report["summary"]["violations"]["transport"].is_null(),
        "every request is in the recording: {}",
        report["summary"]
    );
    assert!(
        all.contains("schema:    batch.json#/properties/created_at/type"),
        "{all}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_replay_in_recorded_order_and_headers_decide_the_match() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"ok\":true}"))
        .mount(&server)
        .await;
    let redactor = Redactor::new([Secret::new("sk-retry")]);
    let recorder = Arc::new(Recorder::new(redactor.clone()));
    let http = HttpClient::new(&ClientSettings::default())
        .unwrap()
        .recording(Arc::clone(&recorder));
    let mut options = RequestOptions::default();
    options.retry.base_delay = std::time::Duration::from_millis(10);
    let url = url::Url::parse(&format!("{}/v1/batches?limit=2", server.uri())).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("x-api-key", HeaderValue::from_static("sk-retry"));
    let live = http.send(url.clone(), headers.clone(), &options).await;
    let live_exchange = live.result.unwrap();
    assert_eq!(
        (live_exchange.status.as_u16(), live_exchange.retries.len()),
        (200, 1)
    );
    assert_eq!(live.entries.len(), 2);
    drop(server);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.har");
    let info = RunInfo {
        targets: vec![SuiteTarget {
            suite: "list_batches".into(),
            base: url.to_string(),
        }],
        ..RunInfo::default()
    };
    recorder.write(&path, &info).unwrap();
    assert!(!std::fs::read_to_string(&path).unwrap().contains("sk-retry"));
    // The replay sends another key, masked as the recorded one was.
    let replay_redactor = Redactor::new([Secret::new("sk-other")]);
    let replayer = Arc::new(Replayer::load(&path, replay_redactor).unwrap());
    let http = HttpClient::replaying(replayer, 1 << 20);
    let mut other = HeaderMap::new();
    other.insert("x-api-key", HeaderValue::from_static("sk-other"));
    let replayed = http.send(url.clone(), other.clone(), &options).await;
    let exchange = replayed.result.unwrap();
    assert_eq!(exchange.status.as_u16(), 200);
    assert_eq!(
        exchange.retries, live_exchange.retries,
        "the recorded wait, not a new one"
    );
    assert_eq!(exchange.body, b"{\"ok\":true}");
    assert_eq!(replayed.sent_at, live.sent_at);

    // Sent once more than recorded; and without the key: neither is in the recording.
    let again = http
        .send(url.clone(), other, &options)
        .await
        .result
        .unwrap_err();
    assert!(
        again.to_string().contains("is in the recording")
            && again
                .to_string()
                .contains("1 time(s), and this run sends it once more"),
        "{again}"
    );
    let keyless = http
        .send(url, HeaderMap::new(), &options)
        .await
        .result
        .unwrap_err();
    assert!(
        keyless
            .to_string()
            .contains("GET /v1/batches?limit=2 is not in the recording")
            && keyless
                .to_string()
                .contains("(header `x-api-key: ***` recorded, no x-api-key now)"),
        "{keyless}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_that_got_no_response_replays_as_the_same_failure() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(5)))
        .mount(&server)
        .await;
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}/v1/batches", closed.local_addr().unwrap());
    drop(closed);
    let recorder = Arc::new(Recorder::new(Redactor::default()));
    let http = HttpClient::new(&ClientSettings::default())
        .unwrap()
        .recording(Arc::clone(&recorder));
    let mut options = RequestOptions::default();
    options.retry.max_attempts = 1;
    options.timeout = std::time::Duration::from_millis(100);
    let hung = url::Url::parse(&format!("{}/v1/batches", server.uri())).unwrap();
    let refused = url::Url::parse(&closed_url).unwrap();
    let mut live = Vec::new();
    for url in [&hung, &refused] {
        live.push(
            http.send(url.clone(), HeaderMap::new(), &options)
                .await
                .result
                .unwrap_err(),
        );
    }
    drop(server);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.har");
    recorder.write(&path, &RunInfo::default()).unwrap();
    let entries = read_json(&path)["log"]["entries"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(entries[0]["_list_contract"]["error"]["kind"], "timed_out");
    assert_eq!(entries[1]["_list_contract"]["error"]["kind"], "connection");
    assert_eq!(entries[1]["response"]["status"], 0);

    let http = HttpClient::replaying(
        Arc::new(Replayer::load(&path, Redactor::default()).unwrap()),
        1 << 20,
    );
    for (url, live) in [&hung, &refused].into_iter().zip(live) {
        let replayed = http.send(url.clone(), HeaderMap::new(), &options).await;
        assert_eq!(replayed.result.unwrap_err().failure, live.failure);
    }
}

#[test]
fn record_and_replay_at_once_is_refused_naming_both() {
    let out = check(
        &[("CONTRACT_RECORD", "a.har"), ("CONTRACT_REPLAY", "b.har")],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("CONTRACT_RECORD and CONTRACT_REPLAY are both set"),
        "{}",
        text(&out)
    );
    let out = check(&[], &["--record", "a.har", "--replay", "b.har"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("--record and --replay are both set"),
        "{}",
        text(&out)
    );
    let out = check(&[("CONTRACT_RECORD", "a.har")], &["--replay", "b.har"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("CONTRACT_RECORD and --replay are both set"),
        "{}",
        text(&out)
    );
    let unwritable = check(
        &[
            ("CONTRACT_CASES_DIR", batches_only_dir().to_str().unwrap()),
            ("CONTRACT_RECORD", "/nonexistent/dir/run.har"),
        ],
        &["--exact", "list_batches::limit_1"],
    );
    assert_eq!(unwritable.status.code(), Some(1), "{}", text(&unwritable));
    assert!(
        text(&unwritable).contains("error: CONTRACT_RECORD: cannot write /nonexistent/dir/run.har"),
        "{}",
        text(&unwritable)
    );
    let missing = check(&[("CONTRACT_REPLAY", "/nonexistent/run.har")], &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing).contains("CONTRACT_REPLAY: cannot read /nonexistent/run.har"),
        "{}",
        text(&missing)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replay_needs_none_of_the_secret_headers_it_was_recorded_with() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("run.har");
    let mock = ReferenceMock::start(mock_config()).await;
    let live = check(
        &[
            ("CONTRACT_BASE_URL", mock.base_url().as_ref()),
            ("CONTRACT_API_KEY", &mock.config().key.clone()),
            ("CONTRACT_HEADERS", "x-gateway-token: canary-gateway-3b7e"),
            ("CONTRACT_RECORD", har.to_str().unwrap()),
        ],
        &[],
    );
    assert_eq!(live.status.code(), Some(0), "{}", text(&live));
    drop(mock);
    // Replayed without the header (and without the key): every request is found.
    let cases = batches_only_dir();
    let replay = check(
        &[
            ("CONTRACT_REPLAY", har.to_str().unwrap()),
            ("CONTRACT_CASES_DIR", cases.to_str().unwrap()),
        ],
        &[],
    );
    let all = text(&replay);
    assert_eq!(replay.status.code(), Some(0), "{all}");
    assert!(!all.contains("is not in the recording"), "{all}");

    // A replay whose recording holds none of the run's requests cannot judge anything: exit
    // 1 with its diagnosis, not drift.
    let other = tempfile::tempdir().unwrap();
    let suite = other.path().join("list_batches");
    std::fs::create_dir(&suite).unwrap();
    for file in ["contract.toml", "limit_7.toml"] {
        let text = std::fs::read_to_string(cases.join("list_batches").join(file)).unwrap();
        std::fs::write(suite.join(file), text.replace("limit = 7", "limit = 9")).unwrap();
    }
    let replay = check(
        &[
            ("CONTRACT_REPLAY", har.to_str().unwrap()),
            ("CONTRACT_CASES_DIR", other.path().to_str().unwrap()),
        ],
        &[],
    );
    let all = text(&replay);
    assert_eq!(replay.status.code(), Some(1), "{all}");
    assert!(
        all.contains("diagnosis: no request of the run is in the recording (1 requests; one: GET "),
        "{all}"
    );
}
