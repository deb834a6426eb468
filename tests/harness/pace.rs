//! Pace from the server: a run reads the request budget a server advertises and paces to it,
//! within the user's cap, so it slows down before a 429 rather than after; with no budget
//! advertised, the default of 10 requests a second holds. Each server here is the reference
//! mock enforcing a budget (a token bucket of two seconds of it, 429 past it) and counting
//! what it answered; rates are measured in the server, first request to last. Bounds are
//! loose on purpose: a shared machine may be slow, never faster than the pace.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use list_contract::http::{ClientSettings, HttpClient, RequestOptions, RetryPolicy};
use list_contract::mock::{BudgetHeaders, BudgetStats, ReferenceMock};
use reqwest::header::{HeaderMap, HeaderValue};

/// A live run's client settings: the default pace and concurrency, and `cap` if the user set
/// one (as `Settings::client_for_run` makes them).
fn live(cap: Option<f64>) -> ClientSettings {
    ClientSettings {
        rate_limit: cap,
        default_rate: cap.is_none().then_some(10.0),
        concurrency: Some(4),
        ..ClientSettings::default()
    }
}

/// Sends `n` GETs of one page through `client` from 8 tasks at once (more than the
/// concurrency cap: the pace, not the work, sets the rate), one attempt each, and returns what
/// the server's budget saw.
async fn drive(mock: &ReferenceMock, client: ClientSettings, n: usize) -> BudgetStats {
    let http = HttpClient::new(&client).unwrap();
    let url = mock.base_url().join("v1/batches?limit=1").unwrap();
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-api-key",
        HeaderValue::from_str(&mock.config().key).unwrap(),
    );
    let options = RequestOptions {
        retry: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
        ..RequestOptions::default()
    };
    let left = Arc::new(AtomicUsize::new(n));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (http, url, headers, options, left) = (
            http.clone(),
            url.clone(),
            headers.clone(),
            options.clone(),
            Arc::clone(&left),
        );
        tasks.spawn(async move {
            while left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                let exchange = http.get(url.clone(), headers.clone(), &options).await;
                assert!(exchange.is_ok(), "{exchange:?}");
            }
        });
    }
    while let Some(task) = tasks.join_next().await {
        task.unwrap();
    }
    mock.budget_stats().unwrap()
}

async fn budget_mock(per_minute: u32, headers: BudgetHeaders) -> ReferenceMock {
    ReferenceMock::start(
        common::mock_config()
            .items(40)
            .rate_budget(per_minute, headers),
    )
    .await
}

/// `list-contract check` of the List Batches suite against `mock`, `rate_limit` as the
/// variable (empty: unset, the live default); its output, and what the budget saw.
fn check_run(mock: &ReferenceMock, rate_limit: &str) -> (String, BudgetStats) {
    let base = mock.base_url().to_string();
    let out = common::check(
        &[
            ("CONTRACT_BASE_URL", &base),
            ("CONTRACT_API_KEY", &mock.config().key),
            ("CONTRACT_RATE_LIMIT", rate_limit),
        ],
        &[],
    );
    let all = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    (all, mock.budget_stats().unwrap())
}

fn pace_line(all: &str) -> &str {
    all.lines()
        .find(|l| l.starts_with("pace: "))
        .unwrap_or_else(|| panic!("a pace line: {all}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_advertising_600_a_minute_is_run_at_90_percent_of_it_with_at_most_one_429() {
    let mock = budget_mock(600, BudgetHeaders::Openai).await;
    let (all, seen) = check_run(&mock, "");
    let rate = seen.rate();
    eprintln!("600/min, x-ratelimit-*, check run: {rate:.2}/s, {seen:?}");
    assert!(seen.answered >= 50, "{seen:?}");
    assert!(seen.refused <= 1, "at most one 429: {seen:?}");
    assert!(
        rate >= 9.0,
        "at least 90% of 10 a second: {rate:.2}/s ({seen:?})"
    );
    assert!(
        rate <= 10.5,
        "never past the budget: {rate:.2}/s ({seen:?})"
    );
    // (A 429 would add how often every request waited for the reset.)
    assert!(
        pace_line(&all).starts_with(
            "pace: 9.7 request(s)/s, the server's budget (x-ratelimit-*: 600 a minute)"
        ),
        "{all}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_advertising_nothing_is_run_at_the_default_cap() {
    // Enforced silently and far above the default, so it never bites: the server only counts.
    let mock = budget_mock(6000, BudgetHeaders::None).await;
    let (all, seen) = check_run(&mock, "");
    let rate = seen.rate();
    eprintln!("no budget advertised, check run: {rate:.2}/s, {seen:?}");
    assert_eq!(seen.refused, 0, "{seen:?}");
    assert!(
        (7.0..=10.5).contains(&rate),
        "about 10 a second: {rate:.2}/s ({seen:?})"
    );
    assert_eq!(
        pace_line(&all),
        "pace: 10 request(s)/s, the default cap (the server advertised no rate limit; \
         CONTRACT_RATE_LIMIT sets another)",
        "{all}"
    );
}

/// A budget of 1,200 a minute, in each provider's headers: the run goes faster than the
/// default 10 a second (about 97% of the budget), with no more than one 429.
#[tokio::test(flavor = "multi_thread")]
async fn a_budget_above_the_default_is_used_in_every_dialect() {
    for dialect in [
        BudgetHeaders::Openai,
        BudgetHeaders::Anthropic,
        BudgetHeaders::Ietf,
    ] {
        let mock = budget_mock(1200, dialect).await;
        let seen = drive(&mock, live(None), 60).await;
        let rate = seen.rate();
        eprintln!("1200/min, {dialect:?}: {rate:.2}/s, {seen:?}");
        assert!(seen.refused <= 1, "{dialect:?}: {seen:?}");
        // 19.4 a second is the pace; well above the default is what is asked of a busy
        // machine.
        assert!(rate >= 15.0, "{dialect:?}: {rate:.2}/s ({seen:?})");
        assert!(rate <= 21.0, "{dialect:?}: {rate:.2}/s ({seen:?})");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_budget_below_the_default_slows_the_run_before_a_429() {
    let mock = budget_mock(300, BudgetHeaders::Openai).await;
    let seen = drive(&mock, live(None), 25).await;
    let rate = seen.rate();
    eprintln!("300/min, x-ratelimit-*: {rate:.2}/s, {seen:?}");
    assert!(seen.refused <= 1, "{seen:?}");
    assert!(
        (4.0..=5.3).contains(&rate),
        "about 5 a second: {rate:.2}/s ({seen:?})"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_users_cap_below_the_servers_budget_holds() {
    let mock = budget_mock(1200, BudgetHeaders::Openai).await;
    let seen = drive(&mock, live(Some(5.0)), 20).await;
    let rate = seen.rate();
    eprintln!("1200/min, cap 5/s: {rate:.2}/s, {seen:?}");
    assert_eq!(seen.refused, 0, "{seen:?}");
    assert!(rate <= 5.3, "never past the cap: {rate:.2}/s ({seen:?})");
    assert!(rate >= 3.5, "{rate:.2}/s ({seen:?})");
}

/// The control: the same budget, not advertised, met by a run capped above it, is answered
/// with 429s: the budget bites, and it is the headers that keep a run within it.
#[tokio::test(flavor = "multi_thread")]
async fn a_budget_not_advertised_bites_a_run_that_goes_faster() {
    let mock = budget_mock(600, BudgetHeaders::None).await;
    let seen = drive(&mock, live(Some(40.0)), 60).await;
    eprintln!(
        "600/min not advertised, cap 40/s: {:.2}/s, {seen:?}",
        seen.rate()
    );
    assert!(seen.refused >= 10, "{seen:?}");
}

/// A budget too small for the run (one request a minute; the mock's bucket holds two): the
/// run does not crawl for an hour, one request a minute. The first request whose turn the
/// server's budget would put past its retry budget stops the run: nothing more is sent, every
/// case not finished could not be judged (exit 1, not drift), and the error says which
/// headers advertised what, and what to do.
#[tokio::test(flavor = "multi_thread")]
async fn a_budget_too_small_for_the_run_stops_it_as_not_judged_naming_the_budget() {
    let mock = budget_mock(1, BudgetHeaders::Openai).await;
    let base = mock.base_url().to_string();
    let dir = tempfile::tempdir().unwrap();
    let (json, markdown, junit) = (
        dir.path().join("r.json"),
        dir.path().join("r.md"),
        dir.path().join("r.xml"),
    );
    let out = common::check(
        &[
            ("CONTRACT_BASE_URL", &base),
            ("CONTRACT_API_KEY", &mock.config().key),
            ("CONTRACT_RETRY_BUDGET", "10"),
        ],
        &[
            "--json",
            json.to_str().unwrap(),
            "--markdown",
            markdown.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    let all = common::text(&out);
    let seen = mock.budget_stats().unwrap();
    eprintln!("1/min: {seen:?}");
    assert_eq!(out.status.code(), Some(1), "not judged, not drift: {all}");
    let error = all
        .lines()
        .find(|l| l.starts_with("error: ") && l.contains("rate-limited past the retry budget"))
        .unwrap_or_else(|| panic!("the error names the budget: {all}"));
    for part in [
        &format!("{base}v1/batches is rate-limited"),
        "its x-ratelimit-* headers advertise 1 request(s) a 60 s window",
        "its retry budget (CONTRACT_RETRY_BUDGET=10 s)",
        "the run stopped",
        "raise CONTRACT_RETRY_BUDGET",
    ] {
        assert!(error.contains(part), "{part:?} in {error}");
    }
    assert!(
        all.contains("none broke the contract, so this is not drift"),
        "{all}"
    );
    assert!(
        all.contains("\nfindings: 1 that could not be judged (violations by invariant: transport "),
        "the summary calls none of it breaking: {all}"
    );
    assert!(
        pace_line(&all).starts_with("pace: 1 request(s) a minute, the server's budget"),
        "{all}"
    );
    // The reports say why the run stopped, where the cases say "see the error after the
    // summary" (CI users read the reports, not stderr).
    let error = error.trim_start_matches("error: ");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["stopped"], error, "{report:#}");
    let markdown = std::fs::read_to_string(&markdown).unwrap();
    assert!(
        markdown.contains(&format!("- **the run stopped**: {error}")),
        "{markdown}"
    );
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert!(
        junit.contains("<property name=\"stopped\" value=\"")
            && junit.contains("rate-limited past the retry budget"),
        "{junit}"
    );
    // The bucket's two, and no request sent to be refused.
    assert!(seen.answered <= 2 && seen.refused == 0, "{seen:?}");
}
