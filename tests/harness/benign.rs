//! Benign variation: everything a conforming server may do that is not drift. Each runs the
//! whole shipped suite and must pass with no violation at all: a harness that cries wolf gets
//! switched off. Each test also checks that the variation really happened, so none can pass by
//! testing nothing.

use crate::common;

use common::{Suite, mock_config};
use list_contract::contract::AuthStyle;
use list_contract::http::RequestOptions;
use list_contract::mock::{MockConfig, ReferenceMock};
use list_contract::runner::WalkPlan;

/// Runs the shipped suite against a mock built from `config`; asserts it passes. Both walk
/// plans run, each against its own mock; the parallel plan's run is returned.
async fn assert_conforms(config: MockConfig, what: &str) -> (ReferenceMock, Suite) {
    let chained = ReferenceMock::start(config.clone()).await;
    assert_conforms_in(&chained, WalkPlan::Chained, &format!("{what}, chained")).await;
    let mock = ReferenceMock::start(config).await;
    let suite = assert_conforms_in(&mock, WalkPlan::Parallel, what).await;
    (mock, suite)
}

/// Runs the shipped suite `mock` serves under `plan`; asserts it passes.
async fn assert_conforms_in(mock: &ReferenceMock, plan: WalkPlan, what: &str) -> Suite {
    let cases = common::cases_of(&mock.config().path);
    let suite = Suite::run_in(mock, RequestOptions::default(), &cases, plan).await;
    let violations: Vec<String> = suite
        .violations()
        .take(10)
        .map(|(case, v)| {
            format!(
                "{case}: {} at {:?}: expected {}, got {}",
                v.invariant, v.pointer, v.expected, v.actual
            )
        })
        .collect();
    assert!(
        violations.is_empty(),
        "{what}: false alarms:\n{}",
        violations.join("\n")
    );
    // Nor a diagnosis of a server bug that is not there.
    let bugs: Vec<_> = suite
        .runs
        .iter()
        .flat_map(|(case, run)| run.evidence.bugs.iter().map(move |b| (case, b)))
        .collect();
    assert!(bugs.is_empty(), "{what}: server bugs diagnosed: {bugs:#?}");
    suite
}

/// Requests that reached the listing (not the auth or limit checks) with `limit=n`.
async fn pages_at(mock: &ReferenceMock, limit: &str) -> usize {
    mock.received()
        .await
        .iter()
        .filter(|r| r.url.query_pairs().any(|(k, v)| k == "limit" && v == limit))
        .count()
}

#[tokio::test]
async fn an_empty_listing() {
    let (mock, suite) = assert_conforms(mock_config().items(0), "0 items").await;
    assert!(mock.items().is_empty());
    // One empty page, shared by the walk and the page case; no last id to probe after.
    assert_eq!(pages_at(&mock, "7").await, 1);
    assert!(suite.requests() > 0);
}

#[tokio::test]
async fn one_item() {
    let (mock, _) = assert_conforms(mock_config().items(1), "1 item").await;
    assert_eq!(mock.items().len(), 1);
}

#[tokio::test]
async fn exact_multiples_of_every_limit() {
    // 140 is a multiple of 1, 7 and 20; 100 of 1, 20 and 100.
    for items in [140, 100] {
        let (mock, _) = assert_conforms(mock_config().items(items), &format!("{items}")).await;
        // A full last page with `has_more: false`, then the probe.
        // Full last pages with `has_more: false`, then the probe; the page cases share the
        // walks' first pages.
        for (limit, size) in [("1", 1), ("7", 7), ("100", 100)] {
            assert_eq!(
                pages_at(&mock, limit).await,
                items.div_ceil(size) + 1,
                "{items} items at limit {limit}"
            );
        }
    }
}

#[tokio::test]
async fn short_pages_with_has_more_true() {
    let (mock, _) = assert_conforms(mock_config().short_pages(), "short pages").await;
    // Half of 7 per page: 37 walk pages become 65.
    assert_eq!(pages_at(&mock, "7").await, 257usize.div_ceil(4) + 1);
}

#[tokio::test]
async fn additive_fields_and_headers() {
    let (mock, suite) = assert_conforms(mock_config().additive_fields(), "additive fields").await;
    // Not drift, but not unseen either: each is a notice.
    let mut noticed: Vec<&str> = suite
        .runs
        .iter()
        .flat_map(|(_, r)| r.notices.iter().map(|n| n.name.as_str()))
        .collect();
    noticed.sort_unstable();
    noticed.dedup();
    assert_eq!(
        noticed,
        [
            "data[].output_expires_after",
            "data[].priority",
            "total_count",
            "x-batch-region"
        ]
    );
    let response = reqwest::Client::new()
        .get(format!("{}v1/batches?limit=1", mock.base_url()))
        .header("x-api-key", &mock.config().key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-batch-region"], "eu-west");
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert!(body.get("total_count").is_some(), "{body}");
    assert_eq!(body["data"][0]["priority"], "standard");
}

#[tokio::test]
async fn a_path_prefix_in_the_base_url() {
    let (mock, _) = assert_conforms(mock_config().prefix("/gateway/openai"), "prefix").await;
    assert!(
        mock.received()
            .await
            .iter()
            .all(|r| r.url.path() == "/gateway/openai/v1/batches")
    );
}

#[tokio::test]
async fn bearer_auth() {
    let (mock, _) = assert_conforms(mock_config().auth(AuthStyle::Bearer), "bearer").await;
    let bearer = mock
        .received()
        .await
        .iter()
        .filter(|r| r.headers.contains_key("authorization"))
        .count();
    assert!(bearer > 300, "{bearer} requests with a bearer token");
}

#[tokio::test]
async fn equal_timestamps_in_a_stable_order() {
    let (mock, _) = assert_conforms(mock_config().all_tied(), "all tied").await;
    let items = mock.items();
    assert!(
        items
            .iter()
            .all(|b| b["created_at"] == items[0]["created_at"])
    );
}

#[tokio::test]
async fn every_nullable_field_null() {
    let (mock, _) = assert_conforms(mock_config().all_nullable_null(), "all null").await;
    let items = mock.items();
    for field in list_contract::mock::dataset::NULLABLE {
        assert!(items.iter().all(|b| b[field].is_null()), "{field}");
    }
}

#[tokio::test]
async fn transient_429s_and_503s_are_retried() {
    let (mock, suite) =
        assert_conforms(mock_config().transient_every(25), "transient trouble").await;
    let retries: usize = suite.runs.iter().map(|(_, r)| r.retries.len()).sum();
    // Every 25th request got a 429 or a 503, and each of them was retried once.
    let received = mock.received().await.len();
    assert!(received > 300, "{received}");
    assert_eq!(retries, received / 25, "{received} requests received");
}

#[tokio::test]
async fn live_traffic_during_the_run() {
    let (mock, suite) = assert_conforms(mock_config().live_every(3), "live traffic").await;
    assert!(mock.items().len() > 257 + 100, "batches were created");
    // The evidence says how many were left out of the comparisons, as created during the run.
    let cross = suite
        .runs
        .iter()
        .find(|(name, _)| name == "list_batches::cross_walk")
        .map(|(_, run)| run.evidence.live_left_out)
        .unwrap();
    assert!(cross > 0, "items left out as live: {cross}");
}

#[tokio::test]
async fn all_of_it_at_once() {
    let config = mock_config()
        .items(140)
        .prefix("/gw")
        .auth(AuthStyle::Bearer)
        .short_pages()
        .additive_fields()
        .all_nullable_null()
        .transient_every(40)
        .live_every(5);
    let (mock, suite) = assert_conforms(config, "every benign variation at once").await;
    let received = mock.received().await;
    assert!(
        received.iter().all(|r| r.url.path() == "/gw/v1/batches"),
        "the prefix"
    );
    assert!(
        received
            .iter()
            .all(|r| !r.headers.contains_key("x-api-key"))
            && received
                .iter()
                .filter(|r| r.headers.contains_key("authorization"))
                .count()
                > 200,
        "bearer auth"
    );
    let retries: usize = suite.runs.iter().map(|(_, r)| r.retries.len()).sum();
    assert_eq!(retries, received.len() / 40, "transient trouble retried");
    assert!(mock.items().len() > 140, "batches created during the run");
    let listed = mock.items();
    let seeded: Vec<_> = listed
        .iter()
        .filter(|b| !b["id"].as_str().unwrap().starts_with("batch_live"))
        .collect();
    assert_eq!(seeded.len(), 140);
    assert!(
        seeded.iter().all(|b| b["completed_at"].is_null()),
        "all nullable null"
    );
    assert!(
        suite.runs.iter().any(|(_, r)| !r.notices.is_empty()),
        "additive fields seen"
    );
    // Short pages: 4 of 7 per page.
    assert!(pages_at(&mock, "7").await > 140usize.div_ceil(7) + 1);
}

/// The tests of every other suite under every benign variation: a module per suite, a test per
/// variation (`cargo test openai_files` runs one suite's share). `$vary` makes the variation
/// from the suite's own configuration and the auth style it does not use.
macro_rules! every_suite_under_every_variation {
    (suites: [$($suite:ident),* $(,)?], variations: $variations:tt) => {
        /// The suites that have a module of variations here.
        const VARIED_SUITES: &[&str] = &[$(stringify!($suite)),*];
        $(variations_of!($suite $variations);)*
    };
}

/// The module of `$suite`'s tests: one per variation.
macro_rules! variations_of {
    ($suite:ident { $($test:ident, $what:literal: $vary:expr;)* }) => {
        mod $suite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $test() {
                    conforms_under(stringify!($suite), $what, $vary).await;
                }
            )*
        }
    };
}

// Every benign variation, one at a time and then all at once, on every other suite: the
// suite's own cases (backward, order and filter walks included) must pass, and the variation
// must have happened.
every_suite_under_every_variation! {
    suites: [anthropic_message_batches, openai_files, openai_vector_stores],
    variations: {
        zero_items, "0 items": |base, _| base.items(0);
        one_item, "1 item": |base, _| base.items(1);
        items_140, "140 items": |base, _| base.items(140);
        short_pages, "short pages": |base, _| base.short_pages();
        additive_fields, "additive fields": |base, _| base.additive_fields();
        a_path_prefix, "a path prefix": |base, _| base.prefix("/gw");
        the_other_auth_style, "the other auth style": |base, other_auth| base.auth(other_auth);
        all_tied, "all tied": |base, _| base.all_tied();
        all_nullable_null, "all nullable null": |base, _| base.all_nullable_null();
        transient_trouble, "transient trouble": |base, _| base.transient_every(25);
        live_traffic, "live traffic": |base, _| base.live_every(3);
        all_at_once, "all at once": |base, _| base
            .items(140)
            .prefix("/gw")
            .short_pages()
            .additive_fields()
            .transient_every(40)
            .live_every(5);
    }
}

#[test]
fn every_suite_but_list_batches_has_its_variations() {
    let others: Vec<&str> = common::SUITES
        .into_iter()
        .filter(|s| *s != "list_batches")
        .collect();
    assert_eq!(VARIED_SUITES, others);
}

/// `suite`'s own cases pass against a mock of `suite` varied by `vary` (given the suite's
/// configuration and the auth style it does not use), and the variation happened.
async fn conforms_under(suite: &str, what: &str, vary: fn(MockConfig, AuthStyle) -> MockConfig) {
    let base = common::suite_config(suite);
    let other_auth = match base.auth {
        AuthStyle::XApiKey => AuthStyle::Bearer,
        AuthStyle::Bearer => AuthStyle::XApiKey,
    };
    let path = base.path.clone();
    let what = format!("{suite}, {what}");
    let (mock, suite_run) = assert_conforms(vary(base, other_auth), &what).await;
    check_variation(&what, &path, &mock, &suite_run).await;
}

/// Asserts that the variation of `mock`'s configuration really happened in the run.
async fn check_variation(what: &str, path: &str, mock: &ReferenceMock, suite_run: &Suite) {
    let received = mock.received().await;
    assert!(!received.is_empty(), "{what}: no request");
    let config = mock.config();
    let want = format!("{}{path}", config.prefix);
    assert!(
        received.iter().all(|r| r.url.path() == want),
        "{what}: every request at {want}"
    );
    if config.live_every.is_some() {
        assert!(
            mock.items().len() > config.items,
            "{what}: items were created"
        );
    }
    if config.transient_every.is_some() {
        let retries: usize = suite_run.runs.iter().map(|(_, r)| r.retries.len()).sum();
        assert!(retries > 0, "{what}: transient trouble retried");
    }
    if config.additive_fields {
        assert!(
            suite_run.runs.iter().any(|(_, r)| !r.notices.is_empty()),
            "{what}: additive fields noticed"
        );
    }
    if config.all_tied {
        let items = mock.items();
        let key = &mock.config().order_key;
        assert!(items.iter().all(|i| i[key] == items[0][key]), "{what}");
    }
}
