//! Every check of a page case, both ways: the conforming reference mock passes it, and a mock
//! that breaks it fails with that invariant named at the right place.

use crate::common;

use common::{SUITES, found, mock_config, of, run_on, suite_cases, suite_config};
use std::time::Duration;

use list_contract::case::CaseKind;
use list_contract::contract::AuthStyle;
use list_contract::http::{RequestOptions, RetryPolicy};
use list_contract::mock::{Fault, ReferenceMock};
use list_contract::violation::Invariant;

#[tokio::test]
async fn reference_mock_passes_every_shipped_case() {
    for suite in SUITES {
        for auth in [AuthStyle::XApiKey, AuthStyle::Bearer] {
            let mock = ReferenceMock::start(suite_config(suite).auth(auth)).await;
            for c in suite_cases(suite) {
                let run = run_on(&mock, &c.name).await;
                assert!(run.passed(), "{} ({auth}): {:#?}", c.name, run.violations);
                if let CaseKind::Page(_) = c.file.kind() {
                    assert_eq!(run.requests, 1, "{}", c.name);
                }
            }
        }
    }
}

#[tokio::test]
async fn benign_listings_pass_the_page_cases() {
    // Empty, one item, an exact multiple of the limit, fewer items than the limit.
    for items in [0, 1, 7, 20, 100, 3] {
        let mock = ReferenceMock::start(mock_config().items(items)).await;
        for name in [
            "default_page",
            "limit_1",
            "limit_7",
            "limit_100",
            "limit_zero",
            "unknown_after",
        ] {
            let name = format!("list_batches::{name}");
            let run = run_on(&mock, &name).await;
            assert!(
                run.passed(),
                "{name} with {items} items: {:#?}",
                run.violations
            );
        }
    }
}

#[tokio::test]
async fn wrong_type_fails_schema_at_the_field() {
    let run = common::run(
        mock_config().fault(Fault::CreatedAtAsString),
        "list_batches::limit_7",
    )
    .await;
    let schema = of(&run, Invariant::Schema);
    assert_eq!(schema.len(), 7, "{:#?}", run.violations);
    assert_eq!(schema[0].pointer, "/data/0/created_at");
    assert_eq!(schema[6].pointer, "/data/6/created_at");
    assert_eq!(schema[0].expected, "of type \"integer\"");
    assert_eq!(
        schema[0].schema_path.as_deref(),
        Some("batch.json#/properties/created_at/type")
    );
    assert!(
        schema[0].actual.starts_with('"'),
        "a string: {}",
        schema[0].actual
    );
}

#[tokio::test]
async fn missing_field_fails_schema_at_the_envelope() {
    let run = common::run(
        mock_config().fault(Fault::MissingHasMore),
        "list_batches::default_page",
    )
    .await;
    assert_eq!(found(&run), [(Invariant::Schema, "")]);
    let v = &run.violations[0];
    assert_eq!(v.expected, "required property \"has_more\"");
    assert_eq!(
        v.actual,
        "absent (present: data, first_id, last_id, object)"
    );
    assert_eq!(v.schema_path.as_deref(), Some("batch-list.json#/required"));
}

#[tokio::test]
async fn limit_plus_one_fails_page_size() {
    for (name, limit) in [
        ("limit_1", 1),
        ("limit_7", 7),
        ("limit_100", 100),
        ("default_page", 20),
    ] {
        let run = common::run(
            mock_config().fault(Fault::LimitPlusOne),
            &format!("list_batches::{name}"),
        )
        .await;
        assert_eq!(found(&run), [(Invariant::PageSize, "/data")], "{name}");
        assert_eq!(run.violations[0].expected, format!("at most {limit} items"));
        assert_eq!(run.violations[0].actual, format!("{} items", limit + 1));
    }
}

#[tokio::test]
async fn wrong_first_and_last_id_are_each_named() {
    let mock = ReferenceMock::start(mock_config()).await;
    let first_two: Vec<String> = mock.items()[..7]
        .iter()
        .map(|b| b["id"].to_string())
        .collect();

    let run = common::run(
        mock_config().fault(Fault::WrongFirstId),
        "list_batches::limit_7",
    )
    .await;
    assert_eq!(found(&run), [(Invariant::FirstId, "/first_id")]);
    assert_eq!(
        run.violations[0].expected,
        format!("{} (data[0].id)", first_two[0])
    );
    assert_eq!(run.violations[0].actual, first_two[1]);

    let run = common::run(
        mock_config().fault(Fault::WrongLastId),
        "list_batches::limit_7",
    )
    .await;
    assert_eq!(found(&run), [(Invariant::LastId, "/last_id")]);
    assert_eq!(
        run.violations[0].expected,
        format!("{} (data[6].id)", first_two[6])
    );
    // Which cursor the walk follows is said whenever the two differ.
    assert_eq!(
        run.violations[0].actual,
        format!(
            "{} (the walk follows data[-1].id, as openai-python's CursorPage does; a client that follows last_id (ConversationCursorPage, Anthropic's SDKs) pages differently)",
            first_two[5]
        )
    );
}

#[tokio::test]
async fn oldest_first_fails_order_within_the_page() {
    let run = common::run(
        mock_config().fault(Fault::OldestFirst),
        "list_batches::limit_100",
    )
    .await;
    let order = of(&run, Invariant::Order);
    assert!(!order.is_empty(), "{:#?}", run.violations);
    assert_eq!(
        order.len(),
        run.violations.len(),
        "only order breaks: {:#?}",
        run.violations
    );
    assert!(order[0].pointer.starts_with("/data/") && order[0].pointer.ends_with("/created_at"));
    assert!(order[0].expected.starts_with("<= ") && order[0].expected.ends_with("desc order)"));
}

#[tokio::test]
async fn empty_page_that_claims_more_fails_empty_page() {
    let run = common::run(
        mock_config().items(0).fault(Fault::EmptyPageLies),
        "list_batches::default_page",
    )
    .await;
    assert_eq!(
        found(&run),
        [
            (Invariant::EmptyPage, "/first_id"),
            (Invariant::EmptyPage, "/last_id"),
            (Invariant::EmptyPage, "/has_more"),
        ]
    );
}

#[tokio::test]
async fn key_not_checked_fails_status_on_both_auth_cases() {
    for name in ["list_batches::missing_key", "list_batches::wrong_key"] {
        let run = common::run(mock_config().fault(Fault::AuthNotChecked), name).await;
        assert_eq!(found(&run), [(Invariant::Status, "")], "{name}");
        assert_eq!(run.violations[0].expected, "401");
        assert!(
            run.violations[0]
                .actual
                .starts_with("200 OK with body {\"data\":[{"),
            "{}",
            run.violations[0].actual
        );
        assert!(
            run.violations[0]
                .request
                .as_deref()
                .unwrap()
                .starts_with("GET http://127.0.0.1:")
        );
    }
}

#[tokio::test]
async fn invalid_limit_crash_fails_status_and_never_passes_as_accepted() {
    for name in [
        "limit_not_integer",
        "limit_negative",
        "limit_above_max",
        "limit_zero",
    ] {
        let run = common::run(
            mock_config().fault(Fault::InvalidLimitCrashes),
            &format!("list_batches::{name}"),
        )
        .await;
        assert_eq!(found(&run), [(Invariant::Status, "")], "{name}");
        assert!(
            run.violations[0]
                .actual
                .starts_with("500 Internal Server Error"),
            "{name}: {}",
            run.violations[0].actual
        );
    }
    let run = common::run(
        mock_config().fault(Fault::InvalidLimitCrashes),
        "list_batches::limit_zero",
    )
    .await;
    assert_eq!(run.violations[0].expected, "one of 400, 200");
}

#[tokio::test]
async fn text_content_type_fails_content_type() {
    let run = common::run(
        mock_config().fault(Fault::TextContentType),
        "list_batches::default_page",
    )
    .await;
    assert_eq!(found(&run), [(Invariant::ContentType, "")]);
    assert_eq!(run.violations[0].actual, "Content-Type: text/plain");
}

#[tokio::test]
async fn truncated_body_fails_json_with_the_offset() {
    let run = common::run(
        mock_config().fault(Fault::TruncatedBody),
        "list_batches::limit_7",
    )
    .await;
    assert_eq!(found(&run), [(Invariant::Json, "")]);
    assert!(
        run.violations[0].actual.contains("EOF while parsing"),
        "{}",
        run.violations[0].actual
    );
    assert!(
        run.violations[0].actual.contains("(byte "),
        "{}",
        run.violations[0].actual
    );
}

#[tokio::test]
async fn unreachable_server_fails_transport_naming_the_url() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mock = ReferenceMock::start(mock_config()).await;
    let mut target = common::target_for(&mock);
    target.base = format!("http://127.0.0.1:{port}/").parse().unwrap();
    let options = RequestOptions {
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(1),
            ..RetryPolicy::default()
        },
        ..RequestOptions::default()
    };
    let run = common::run_with(&target, "list_batches::default_page", &options).await;
    assert_eq!(found(&run), [(Invariant::Transport, "")]);
    assert_eq!(run.requests, 2, "the connection failure is retried once");
    let v = &run.violations[0];
    assert_eq!(
        v.request.as_deref(),
        Some(format!("GET http://127.0.0.1:{port}/v1/batches").as_str())
    );
    assert!(
        v.actual.contains("Connection refused") && v.actual.contains("on page 1, after 2 attempts"),
        "{}",
        v.actual
    );
}

#[tokio::test]
async fn every_violation_of_a_case_is_reported_not_just_the_first() {
    let config = mock_config()
        .fault(Fault::LimitPlusOne)
        .fault(Fault::WrongFirstId)
        .fault(Fault::WrongLastId)
        .fault(Fault::CreatedAtAsString);
    let run = common::run(config, "list_batches::limit_1").await;
    let mut kinds: Vec<Invariant> = run.violations.iter().map(|v| v.invariant).collect();
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            Invariant::Schema,
            Invariant::PageSize,
            Invariant::FirstId,
            Invariant::LastId
        ]
    );
}

/// `empty_page_ids`: a server that sends `first_id: ""` on an empty page (llama-stack) fails
/// the default contract (`null`) on the empty page and on a walk's end probe, and passes one
/// that says `empty_page_ids = ""`; one that sends `null` then fails.
#[tokio::test]
async fn empty_page_ids_are_what_the_contract_says() {
    use list_contract::contract::EmptyPageIds;
    use list_contract::http::HttpClient;
    use list_contract::runner::{RunCache, RunContext, run_case};

    let run_under = |ids: EmptyPageIds, served: EmptyPageIds, items: usize, name: &'static str| async move {
        let mock = ReferenceMock::start(mock_config().items(items).empty_page_ids(served)).await;
        let mut case = common::case(name).clone();
        case.contract = std::sync::Arc::new(list_contract::contract::Contract {
            empty_page_ids: ids,
            ..(*case.contract).clone()
        });
        let http = HttpClient::new(&Default::default()).unwrap();
        let cache = RunCache::default();
        let target = common::target_for(&mock);
        let options = RequestOptions::default();
        run_case(
            &case,
            &RunContext::new(&target, &http, common::schemas(), &options, &cache),
        )
        .await
    };
    let blank = EmptyPageIds::EmptyString;
    for (name, items, at) in [
        ("list_batches::default_page", 0, None),
        ("list_batches::walk_limit_7", 20, Some(4)),
    ] {
        let run = run_under(EmptyPageIds::Null, blank, items, name).await;
        assert_eq!(
            found(&run),
            [
                (Invariant::EmptyPage, "/first_id"),
                (Invariant::EmptyPage, "/last_id")
            ],
            "{name}"
        );
        assert!(
            run.violations[0].actual.contains("empty_page_ids = \"\""),
            "{name}"
        );
        assert_eq!(
            run.violations[0].page.as_ref().map(|p| (p.page, p.probe)),
            at.map(|n| (n, true))
        );
        let run = run_under(blank, blank, items, name).await;
        assert!(run.passed(), "{name}: {:?}", found(&run));
        let run = run_under(blank, EmptyPageIds::Null, items, name).await;
        assert_eq!(found(&run).len(), 2, "{name}");
        assert_eq!(
            run.violations[0].expected,
            "\"\" (the page is empty; the contract's empty_page_ids = \"\")"
        );
        // Absent ids: no empty_page violation under a contract that says so (List Batches'
        // schema requires the keys, so the schema still names them).
        let run = run_under(EmptyPageIds::Absent, EmptyPageIds::Absent, items, name).await;
        assert!(
            found(&run).iter().all(|(i, _)| *i == Invariant::Schema),
            "{name}: {:?}",
            found(&run)
        );
        let run = run_under(EmptyPageIds::Absent, EmptyPageIds::Null, items, name).await;
        assert_eq!(found(&run).len(), 2, "{name}");
    }
}
