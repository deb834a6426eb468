//! The reference mock of a suite written as data: `serve --suite NAME` serves any suite folder
//! with its examples, and a run against the embedded mock fails plainly (exit 1, naming the
//! file) when a suite's examples cannot be used.

use crate::common;

use std::io::Read;

use common::{check, fixture, list_contract, mock_config, root, serve, text};
use list_contract::contract::{Contract, CursorSource, pointer};
use list_contract::mock::probe::Probe as Client;
use list_contract::mock::{Fault, MockConfig, ReferenceMock};
use serde_json::Value;

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

    // --contract reads the examples beside the file.
    let files = root().join("tests/fixtures/mock/files/contract.toml");
    let (_server, base, _stderr) = serve(&["--contract", files.to_str().unwrap()]);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let page: Value = runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(format!("{base}/v1/files?purpose=batch&limit=2"))
            .bearer_auth(list_contract::mock::DEFAULT_KEY)
            .send()
            .await
            .unwrap();
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
    });
    assert!(
        page["data"][0]["id"].as_str().unwrap().starts_with("file-"),
        "{page}"
    );
    assert_eq!(page["data"][1]["purpose"], "batch");

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

/// What a client sees of a mock through a fixed set of requests that exercise every part of
/// `contract`: pages at several limits, a walk that follows the contract's cursor (and the
/// probe after it), a walk at the maximum limit, invalid limits and cursors, missing and wrong
/// keys and headers, backward pages, the other order and each filter.
async fn transcript(mock: &ReferenceMock, contract: &Contract) -> Vec<String> {
    let probe = Client::new(mock);
    let ids: Vec<String> = mock
        .items()
        .iter()
        .map(|i| i[&contract.id_field].as_str().unwrap().to_owned())
        .collect();
    let limit = &contract.limit_param;
    let mut queries: Vec<(String, Vec<&str>)> = vec![
        (String::new(), vec![]),
        (format!("{limit}=1"), vec![]),
        (format!("{limit}=7"), vec![]),
        (format!("{limit}=0"), vec![]),
        (format!("{limit}=-1"), vec![]),
        (format!("{limit}=x"), vec![]),
        (format!("{limit}={}", contract.max_limit + 1), vec![]),
        (
            format!("{}=nothing_like_an_id", contract.cursor_param),
            vec![],
        ),
        (format!("{limit}=1"), vec!["key"]),
    ];
    for header in contract.headers.keys() {
        queries.push((format!("{limit}=1"), vec![header.as_str()]));
    }
    if let Some(backward) = &contract.backward {
        for at in [14, ids.len() - 7, 0] {
            queries.push((format!("{limit}=7&{}={}", backward.param, ids[at]), vec![]));
        }
    }
    if let Some(order) = &contract.order_param {
        queries.push((format!("{limit}=7&{}={}", order.name, order.asc), vec![]));
        queries.push((format!("{}=sideways", order.name), vec![]));
    }
    for filter in &contract.filters {
        let wide = contract.max_limit.min(100);
        queries.push((
            format!("{limit}={wide}&{}={}", filter.param, filter.values[0]),
            vec![],
        ));
        // An empty listing.
        queries.push((format!("{}=no_such_value", filter.param), vec![]));
    }
    let mut seen = Vec::new();
    let show = |q: &str, (status, mime, body): (u16, Option<String>, Vec<u8>)| {
        format!("{q}: {status} {mime:?} {}", String::from_utf8_lossy(&body))
    };
    for (query, omit) in &queries {
        seen.push(show(query, probe.send(query, omit).await));
    }
    let wrong = Client::new(mock).key("sk-wrong");
    seen.push(show(
        "wrong key",
        wrong.send(&format!("{limit}=1"), &[]).await,
    ));
    for size in [7, contract.max_limit.min(100)] {
        let mut cursor: Option<String> = None;
        for _ in 0..60 {
            let query = match &cursor {
                Some(c) => format!("{limit}={size}&{}={c}", contract.cursor_param),
                None => format!("{limit}={size}"),
            };
            let reply = probe.send(&query, &[]).await;
            let page: Value = serde_json::from_slice(&reply.2).unwrap_or(Value::Null);
            seen.push(show(&query, reply));
            let next = match contract.cursor_source {
                CursorSource::LastItem => contract
                    .envelope
                    .items(&page)
                    .and_then(|d| d.last())
                    .and_then(|i| i.get(&contract.id_field))
                    .cloned(),
                CursorSource::LastId => pointer(&page, &contract.envelope.last_id).cloned(),
                CursorSource::Token => {
                    pointer(&page, contract.next_token.as_deref().unwrap_or("")).cloned()
                }
            };
            let Some(next) = next.as_ref().and_then(Value::as_str) else {
                break;
            };
            let more = contract.envelope.has_more(&page) == Some(true);
            cursor = Some(next.to_owned());
            if !more {
                // The probe after the last page.
                let query = format!("{limit}={size}&{}={next}", contract.cursor_param);
                seen.push(show(&query, probe.send(&query, &[]).await));
                break;
            }
        }
    }
    seen
}

/// The suites the mock's tests know: List Batches, the two fixtures, and the Files fixture
/// with an opaque next-page token.
fn every_suite() -> Vec<(&'static str, Contract, MockConfig)> {
    let (anthropic, anthropic_mock) = fixture("anthropic");
    let (files, files_mock) = fixture("files");
    let mut token = files.clone();
    token.cursor_source = CursorSource::Token;
    token.next_token = Some("/next".into());
    let token_mock = MockConfig {
        cursor_source: CursorSource::Token,
        next_token: Some("/next".into()),
        ..files_mock.clone()
    };
    vec![
        (
            "list_batches",
            common::list_batches_contract().clone(),
            mock_config(),
        ),
        ("anthropic", anthropic, anthropic_mock.items(120)),
        ("files", files, files_mock.items(120)),
        ("files with tokens", token, token_mock.items(120)),
    ]
}

/// The test of `fault` on suite `name` of [`every_suite`]: a fault that applies to the suite
/// changes what a client of that suite sees (the faults work by the contract's names, not
/// List Batches'). A fault that does not apply, and `Hang` (it only delays), pass saying why.
async fn shows_on_the_wire(name: &str, fault: Fault) {
    let (_, contract, config) = every_suite()
        .into_iter()
        .find(|(n, _, _)| *n == name)
        .unwrap_or_else(|| panic!("no suite {name}"));
    if fault == Fault::Hang {
        println!("skipped: {fault:?} only delays its answers: what a client sees is the same");
        return;
    }
    if !fault.applies_to(&contract) {
        println!(
            "skipped: {fault:?} does not apply to {name} (Fault::applies_to: the suite lacks what it breaks)"
        );
        return;
    }
    let good = ReferenceMock::start(config.clone()).await;
    let bad = ReferenceMock::start(config.fault(fault)).await;
    let expected = transcript(&good, &contract).await;
    let seen = transcript(&bad, &contract).await;
    assert!(seen != expected, "{name}: {fault:?} changes nothing");
}

/// One `#[tokio::test]` per fault of the registry, in a module per suite of [`every_suite`]
/// (`SUITE`), generated from `list_contract::for_each_fault!`: a fault added to the registry
/// gets its test on every suite without a line here.
macro_rules! wire_tests {
    ($( $(#[$doc:meta])* $variant:ident($snake:ident): $family:ident, )*) => {
        use list_contract::mock::Fault;

        /// The faults the tests of this module were generated for, in the registry's order.
        const GENERATED: &[Fault] = &[$(Fault::$variant),*];

        $(
            $(#[$doc])*
            #[tokio::test]
            async fn $snake() {
                super::shows_on_the_wire(SUITE, Fault::$variant).await;
            }
        )*

        /// The tests above are the whole registry: every fault of `Fault::ALL`, once.
        #[test]
        fn every_fault_of_the_registry_has_its_test_here() {
            assert_eq!(GENERATED, Fault::ALL);
        }

        #[test]
        fn most_faults_apply() {
            let (_, contract, _) = super::every_suite()
                .into_iter()
                .find(|(n, _, _)| *n == SUITE)
                .expect("the suite");
            let applying = Fault::ALL
                .into_iter()
                .filter(|f| *f != Fault::Hang && f.applies_to(&contract))
                .count();
            assert!(applying > 40, "{SUITE}: only {applying} faults apply");
        }
    };
}

mod wire_list_batches {
    pub(super) const SUITE: &str = "list_batches";
    list_contract::for_each_fault!(wire_tests);
}

mod wire_anthropic {
    pub(super) const SUITE: &str = "anthropic";
    list_contract::for_each_fault!(wire_tests);
}

mod wire_files {
    pub(super) const SUITE: &str = "files";
    list_contract::for_each_fault!(wire_tests);
}

mod wire_files_with_tokens {
    pub(super) const SUITE: &str = "files with tokens";
    list_contract::for_each_fault!(wire_tests);
}

/// Every suite of [`every_suite`] has its module of wire tests above.
#[test]
fn every_suite_has_its_wire_tests() {
    let names: Vec<&str> = every_suite().into_iter().map(|(n, _, _)| n).collect();
    assert_eq!(
        names,
        [
            wire_list_batches::SUITE,
            wire_anthropic::SUITE,
            wire_files::SUITE,
            wire_files_with_tokens::SUITE,
        ]
    );
}

/// What a property case is given: a fixture suite, a listing and a limit.
#[derive(Debug, Clone)]
struct Listing {
    suite: usize,
    items: usize,
    seed: u64,
    limit: u64,
    short_pages: bool,
    all_tied: bool,
}

/// Walks with `query` following the cursor from `next` while `has_more`; the ids seen.
async fn walk_ids(
    probe: &Client,
    cursor_param: &str,
    query: &str,
    next: impl Fn(&Value) -> Option<String>,
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..2_000 {
        let q = match &cursor {
            Some(c) => format!("{query}&{cursor_param}={c}"),
            None => query.to_owned(),
        };
        let (status, page) = probe.get(&q).await;
        assert_eq!(status, 200, "{q}: {page}");
        ids.extend(probe.ids(&page));
        if page["has_more"] != true {
            return ids;
        }
        cursor = Some(next(&page).expect("a cursor"));
    }
    panic!("the walk does not end");
}

/// For random listings of the example suites (0-300 items, any seed, short pages or not,
/// all tied or not) and random limits, the mock pages exactly its listing: forward by the
/// contract's cursor, backward from the end, in the other order, and filtered.
#[test]
fn example_suites_page_their_listing_exactly_for_any_listing_and_limit() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed, TestRunner};

    let suites = every_suite().split_off(1);
    let mut config = Config::with_cases(64);
    config.rng_seed = RngSeed::Fixed(20_261_202);
    config.failure_persistence = None;
    let mut runner = TestRunner::new(config);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let strategy = (
        0..suites.len(),
        0usize..=300,
        any::<u64>(),
        1u64..=40,
        any::<bool>(),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(suite, items, seed, limit, short_pages, all_tied)| Listing {
                suite,
                items,
                seed,
                limit,
                short_pages,
                all_tied,
            },
        );
    let result = runner.run(&strategy, |l| {
        let (_, contract, config) = &suites[l.suite];
        let mut config = config.clone().items(l.items).seed(l.seed);
        config.short_pages = l.short_pages;
        config.all_tied = l.all_tied;
        runtime.block_on(async {
            let mock = ReferenceMock::start(config).await;
            let probe = Client::new(&mock);
            let items = mock.items();
            let ids: Vec<String> = items
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned())
                .collect();
            let cursor = contract.cursor_param.as_str();
            let next = |page: &Value| -> Option<String> {
                let at = match contract.cursor_source {
                    CursorSource::LastItem => page["data"].as_array()?.last()?.get("id"),
                    CursorSource::LastId => page.get("last_id"),
                    CursorSource::Token => page.get("next"),
                };
                at?.as_str().map(str::to_owned)
            };
            let limit = format!("limit={}", l.limit);
            prop_assert_eq!(&walk_ids(&probe, cursor, &limit, next).await, &ids);
            if let Some(order) = &contract.order_param {
                let asc = format!("{limit}&{}={}", order.name, order.asc);
                let reversed: Vec<String> = ids.iter().rev().cloned().collect();
                prop_assert_eq!(walk_ids(&probe, cursor, &asc, next).await, reversed);
            }
            for filter in &contract.filters {
                let value = &filter.values[l.seed as usize % filter.values.len()];
                let query = format!("{limit}&{}={value}", filter.param);
                let matching: Vec<String> = items
                    .iter()
                    .filter(|i| i.pointer(&filter.field) == Some(&Value::from(value.as_str())))
                    .map(|i| i["id"].as_str().unwrap().to_owned())
                    .collect();
                prop_assert_eq!(walk_ids(&probe, cursor, &query, next).await, matching);
            }
            if let (Some(backward), Some(last)) = (&contract.backward, ids.last()) {
                // From the last item back to the head: the listing without its last item.
                let mut before = last.clone();
                let mut back: Vec<Vec<String>> = Vec::new();
                loop {
                    let q = format!("{limit}&{}={before}", backward.param);
                    let (status, page) = probe.get(&q).await;
                    prop_assert_eq!(status, 200);
                    let got = probe.ids(&page);
                    if page["has_more"] != true {
                        back.push(got);
                        break;
                    }
                    before = got[0].clone();
                    back.push(got);
                }
                let joined: Vec<String> = back.into_iter().rev().flatten().collect();
                prop_assert_eq!(&joined[..], &ids[..ids.len() - 1]);
            }
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
