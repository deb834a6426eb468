//! The reference mock of a suite written as data: `serve --suite NAME` serves any suite folder
//! with its examples, and a run against the embedded mock fails plainly (exit 1, naming the
//! file) when a suite's examples cannot be used.

mod common;

use std::io::Read;

use common::{check, list_contract, root, serve, text};

#[test]
fn serve_suite_serves_a_data_only_suite_with_its_examples_and_headers() {
    let fixtures = root().join("tests/fixtures/mock");
    let fixtures = fixtures.to_str().unwrap();
    let (server, base, mut stderr) = serve(&["--suite", "anthropic", "--cases", fixtures]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let url = format!("{base}/v1/messages/batches?limit=3");
    let get = |version: bool| {
        let mut request = http
            .get(&url)
            .header("x-api-key", list_contract::mock::DEFAULT_KEY);
        if version {
            request = request.header("anthropic-version", "2023-06-01");
        }
        runtime.block_on(async {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value =
                serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
            (status, body)
        })
    };
    let (status, page) = get(true);
    assert_eq!(status, 200, "{page}");
    assert!(page.get("object").is_none());
    assert!(
        page["data"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("msgbatch_")
    );
    assert!(page["data"][0]["created_at"].is_string());
    let (status, body) = get(false);
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "anthropic-version: header is required"
    );
    drop(server);
    let mut said = String::new();
    stderr.read_to_string(&mut said).unwrap();
    for part in [
        "suite anthropic",
        "257 items",
        "/v1/messages/batches",
        "`x-api-key: KEY`",
        "`anthropic-version: 2023-06-01`",
    ] {
        assert!(said.contains(part), "{part} in {said}");
    }
}

#[test]
fn serve_suite_list_batches_is_the_shipped_contract_and_an_unknown_suite_is_named() {
    let (_server, base, _stderr) = serve(&["--suite", "list_batches", "--items", "30"]);
    let key = [("CONTRACT_API_KEY", list_contract::mock::DEFAULT_KEY)];
    let out = check(&key, &["--base-url", &base]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("17 passed; 0 failed"), "{}", text(&out));

    let out = list_contract(
        &[],
        &["serve", "--suite", "no_such_suite", "--cases", "/nowhere"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("--suite no_such_suite: no /nowhere/no_such_suite/contract.toml"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_suite_whose_examples_cannot_be_used_fails_the_run_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("broken");
    std::fs::create_dir(&suite).unwrap();
    let shipped = root().join("cases/list_batches");
    let contract = std::fs::read_to_string(shipped.join("contract.toml")).unwrap();
    std::fs::write(
        suite.join("contract.toml"),
        format!("{contract}\n[mock]\nexamples = \"examples.json\"\n"),
    )
    .unwrap();
    std::fs::copy(shipped.join("limit_7.toml"), suite.join("limit_7.toml")).unwrap();
    std::fs::write(suite.join("examples.json"), "[]").unwrap();
    let cases = tmp.path().to_str().unwrap();
    let out = check(&[("CONTRACT_CASES_DIR", cases)], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out)
            .contains("examples.json must hold a non-empty array of objects (the array is empty)"),
        "{}",
        text(&out)
    );

    // With usable examples, the same suite runs against a mock made from them.
    std::fs::write(
        suite.join("examples.json"),
        r#"[{"id": "batch_abc", "object": "batch", "created_at": 1700000000}]"#,
    )
    .unwrap();
    let out = check(&[("CONTRACT_CASES_DIR", cases)], &[]);
    assert_ne!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("broken::limit_7"), "{}", text(&out));
}
