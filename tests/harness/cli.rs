//! The run as users and CI see it: the `list-contract check` process (the same harness as
//! `cargo test --test contract`), its exit code and everything it prints.

use crate::common;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use common::{cases_dir, check, mock_config, root, schemas_dir, text};
use list_contract::contract::AuthStyle;
use list_contract::mock::{Fault, ReferenceMock};
use wiremock::matchers::{any, query_param};
use wiremock::{Mock, ResponseTemplate};

const CANARY: &str = "sk-canary-7f3a9d51c0e2";

#[tokio::test(flavor = "multi_thread")]
async fn live_endpoint_with_a_path_prefix_passes_and_the_key_is_never_printed() {
    let mock = ReferenceMock::start(mock_config().key(CANARY).prefix("/gateway")).await;
    let base = mock.base_url().to_string();
    assert!(base.ends_with("/gateway"), "{base}");
    let out = check(
        &[("CONTRACT_BASE_URL", &base), ("CONTRACT_API_KEY", CANARY)],
        &[],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains(&format!("checking {base}")), "{all}");
    assert!(all.contains("17 passed; 0 failed"), "{all}");
    assert!(!all.contains(CANARY), "{all}");
    assert!(
        mock.request_count().await >= 17,
        "the cases reached the prefixed server"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_exits_101_with_named_violations_and_the_echoed_key_masked() {
    // The crash page echoes the request headers, key included.
    let mock = ReferenceMock::start(
        mock_config()
            .key(CANARY)
            .prefix("/gw/")
            .fault(Fault::InvalidLimitCrashes),
    )
    .await;
    let base = mock.base_url().to_string();
    let out = check(
        &[("CONTRACT_BASE_URL", &base), ("CONTRACT_API_KEY", CANARY)],
        &[],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(101), "{all}");
    assert!(
        all.contains("list_batches::limit_not_integer: GET http://127.0.0.1:"),
        "{all}"
    );
    assert!(
        all.contains("/gw/v1/batches?limit=abc"),
        "prefix joined once: {all}"
    );
    assert!(
        all.contains("invariant: status (the status code is one the case accepts)"),
        "{all}"
    );
    assert!(
        all.contains("x-api-key: ***"),
        "the echoed key is masked: {all}"
    );
    assert!(!all.contains(CANARY), "{all}");
    assert!(all.contains("12 passed; 5 failed"), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bearer_auth_is_chosen_by_contract_auth() {
    let mock = ReferenceMock::start(mock_config().key(CANARY).auth(AuthStyle::Bearer)).await;
    let base = mock.base_url().to_string();
    let env = [
        ("CONTRACT_BASE_URL", base.as_str()),
        ("CONTRACT_API_KEY", CANARY),
        ("CONTRACT_AUTH", "bearer"),
    ];
    let out = check(&env, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // The contract's own default (x-api-key) is refused by this server: every request sent
    // with the key refused says nothing about the contract, so exit 1 with the diagnosis.
    let out = check(&env[..2], &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("diagnosis: every request sent with the key was refused"),
        "{all}"
    );
    assert!(
        all.contains("expected:  200\n  actual:    401 Unauthorized"),
        "{all}"
    );
    assert!(!all.contains(CANARY), "{all}");
}

#[test]
fn unreachable_endpoint_is_one_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}/api");
    let out = check(
        &[("CONTRACT_BASE_URL", &base), ("CONTRACT_API_KEY", CANARY)],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: cannot reach CONTRACT_BASE_URL = {base}: ")),
        "{stderr}"
    );
    assert!(
        stderr.contains("is the server up and the URL right?"),
        "{stderr}"
    );
    assert!(
        !text(&out).contains(CANARY),
        "harness errors mask the key too"
    );
}

#[test]
fn bad_settings_are_named() {
    let out = check(&[("CONTRACT_BASE_URL", "http://127.0.0.1:9/")], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("CONTRACT_BASE_URL is set but CONTRACT_API_KEY is not"),
        "{}",
        text(&out)
    );

    let out = check(&[("CONTRACT_AUTH", "basic")], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains(
            "CONTRACT_AUTH: unknown auth style `basic` (expected `x-api-key`, `bearer` or `none`)"
        ),
        "{}",
        text(&out)
    );

    let out = check(&[("CONTRACT_BASE_URL", "staging.example.com")], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("CONTRACT_BASE_URL: `staging.example.com` is not a URL"),
        "{}",
        text(&out)
    );
}

/// A copy of the shipped suite in a temporary folder, to break on purpose.
fn suite_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("list_batches");
    std::fs::create_dir(&suite).unwrap();
    for name in ["contract.toml", "default_page.toml", "limit_1.toml"] {
        std::fs::copy(
            cases_dir().join("list_batches").join(name),
            suite.join(name),
        )
        .unwrap();
    }
    dir
}

fn check_cases(dir: &Path) -> Output {
    check(&[("CONTRACT_CASES_DIR", dir.to_str().unwrap())], &[])
}

#[test]
fn malformed_case_file_fails_the_run_naming_file_key_and_line() {
    let dir = suite_copy();
    let bad = dir.path().join("list_batches/typo.toml");
    std::fs::write(&bad, "description = \"typo\"\n\n[request]\nqeury = { limit = 1 }\n\n[[accept]]\nstatus = 200\nschema = \"list\"\n").unwrap();
    let worse = dir.path().join("list_batches/wrong_type.toml");
    std::fs::write(
        &worse,
        "description = \"d\"\n[[accept]]\nstatus = \"ok\"\nschema = \"list\"\n",
    )
    .unwrap();
    let out = check_cases(dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: {}:4:1: unknown field `qeury`",
            bad.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "error: {}:3:10: invalid type: string \"ok\", expected u16 (at key `accept[0].status`)",
            worse.display()
        )),
        "{stderr}"
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("test result"),
        "nothing ran"
    );
}

#[test]
fn empty_cases_folder_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = check_cases(dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("no case files found in {}", dir.path().display())),
        "{stderr}"
    );

    let out = check_cases(&dir.path().join("missing"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains(&format!(
            "cannot read {}",
            dir.path().join("missing").display()
        )),
        "{}",
        text(&out)
    );
}

#[test]
fn case_without_a_contract_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("orphan.toml"),
        "description = \"d\"\n[[accept]]\nstatus = 200\nschema = \"list\"\n",
    )
    .unwrap();
    let out = check_cases(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("orphan.toml: no contract.toml in its folder"),
        "{}",
        text(&out)
    );
}

fn schemas_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["batch-list.json", "batch.json", "error.json"] {
        std::fs::copy(schemas_dir().join(name), dir.path().join(name)).unwrap();
    }
    dir
}

/// Replaces `from` by `to` in a file, failing if `from` is not there (so the break is real).
fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        text.matches(from).count(),
        1,
        "`{from}` once in {}",
        path.display()
    );
    std::fs::write(path, text.replace(from, to)).unwrap();
}

fn check_schemas(dir: &Path) -> Output {
    check(&[("CONTRACT_SCHEMAS_DIR", dir.to_str().unwrap())], &[])
}

#[test]
fn schema_that_breaks_its_meta_schema_fails_the_run_naming_the_file() {
    let dir = schemas_copy();
    let path = dir.path().join("batch.json");
    edit(&path, "\"minLength\": 1", "\"minLength\": \"one\"");
    let out = check_schemas(dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: {}: not a valid JSON Schema: at /properties/id/minLength",
            path.display()
        )),
        "{stderr}"
    );
}

#[test]
fn schema_with_a_dangling_ref_fails_the_run_naming_the_file() {
    let dir = schemas_copy();
    let path = dir.path().join("batch-list.json");
    edit(&path, "\"batch.json\"", "\"bacth.json\"");
    let out = check_schemas(dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: {}: schema does not compile",
            path.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("bacth.json"), "{stderr}");
}

#[test]
fn schema_that_is_not_json_and_a_missing_role_are_named() {
    let dir = schemas_copy();
    std::fs::write(
        dir.path().join("error.json"),
        "{\n  \"type\": \"object\",\n}\n",
    )
    .unwrap();
    let out = check_schemas(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains(&format!(
            "{}:3:1: not valid JSON",
            dir.path().join("error.json").display()
        )),
        "{}",
        text(&out)
    );

    std::fs::remove_file(dir.path().join("error.json")).unwrap();
    let out = check_schemas(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("contract.toml: `schemas.error` names `error.json`, which is not in"),
        "{}",
        text(&out)
    );
}

#[test]
fn list_and_exact_filters_work_like_cargo_test() {
    let out = check(&[], &["--list"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    let names: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .collect();
    assert_eq!(names.len(), 79, "{stdout}");
    assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted: {names:?}");
    assert_eq!(names[0], "anthropic_message_batches::backward_walk");
    let batches = names.iter().filter(|n| n.starts_with("list_batches::"));
    assert_eq!(batches.count(), 17, "{stdout}");

    let out = check(&[], &["--exact", "list_batches::limit_1"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("1 passed; 0 failed; 0 ignored; 0 measured; 78 filtered out"),
        "{stdout}"
    );
    // A suite by its prefix, as `cargo test --test contract list_batches::` selects it.
    let out = check(&[], &["openai_files::"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("21 passed; 0 failed; 0 ignored; 0 measured; 58 filtered out"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_walk_is_sent_once_however_many_cases_need_it() {
    let mock = ReferenceMock::start(mock_config().key(CANARY)).await;
    let base = mock.base_url().to_string();
    let env = [
        ("CONTRACT_BASE_URL", base.as_str()),
        ("CONTRACT_API_KEY", CANARY),
    ];
    let out = check(&env, &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    // 257 items: pages at limits 1, 7, 20 (the default) and 100, each walk plus its end
    // probe; the cross-walk reuses the four walks the walk cases make, and each walk's first
    // page is the request of a page case (`limit_1`, `limit_7`, `default_page`, `limit_100`).
    let walks = (257 + 1) + (37 + 1) + (13 + 1) + (3 + 1);
    let page_cases = 12;
    let sent = page_cases + walks - 4;
    assert_eq!(mock.request_count().await, sent, "{all}");
    let notes: Vec<&str> = all.lines().filter(|l| l.starts_with("note: ")).collect();
    assert_eq!(notes.len(), 5, "one cost note per walk case: {all}");
    assert!(
        all.contains(&format!(
            "summary: 17 case(s): 17 passed, 0 failed, 0 ignored; 314 page(s) walked, {sent} request(s), 0 retries"
        )),
        "{all}"
    );
    assert!(
        all.contains("note: list_batches::walk_limit_1: 1 walk, 258 pages, "),
        "{all}"
    );
    assert!(
        all.contains("note: list_batches::cross_walk: 4 walks, 314 pages, "),
        "{all}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listing_that_grows_and_changes_during_the_run_passes_the_full_suite() {
    // Other jobs on staging: a new batch at the head and a status change every 3 requests,
    // while the walks run side by side.
    let mock = ReferenceMock::start(mock_config().key(CANARY).live_every(3)).await;
    let base = mock.base_url().to_string();
    let env = [
        ("CONTRACT_BASE_URL", base.as_str()),
        ("CONTRACT_API_KEY", CANARY),
    ];
    let out = check(&env, &["--test-threads", "4"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(mock.items().len() > 257 + 100, "the listing grew");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_ignores_the_cursor_fails_every_walk_on_page_two() {
    let mock = ReferenceMock::start(mock_config().key(CANARY).fault(Fault::CursorIgnored)).await;
    let base = mock.base_url().to_string();
    let env = [
        ("CONTRACT_BASE_URL", base.as_str()),
        ("CONTRACT_API_KEY", CANARY),
    ];
    let out = check(&env, &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(101), "{all}");
    assert!(all.contains("12 passed; 5 failed"), "{all}");
    // The page cases, then one more page per walk: its first page is the page case's
    // (`default_page`, `limit_1`, `limit_7`, `limit_100`), and the second repeats it.
    assert_eq!(mock.request_count().await, 12 + 4, "{all}");
    for walk in ["limit=1", "limit=7", "no limit (default 20)", "limit=100"] {
        assert!(
            all.contains(&format!(": walk {walk}, page 2, after=")),
            "{walk}: {all}"
        );
    }
    // Each walk case shows it in full; the cross-walk shows its first walk's and counts the
    // other three under the same finding; the summary names the finding once.
    assert_eq!(
        all.matches("invariant: cursor_cycle (every cursor of a walk is new)")
            .count(),
        5,
        "each walk case, and the cross-walk once: {all}"
    );
    assert!(
        all.contains("… and 3 more of finding `cursor_cycle at /data/*/id`"),
        "{all}"
    );
    assert_eq!(
        all.matches("list_batches: cursor_cycle at /data/*/id: 4 violation(s)")
            .count(),
        1,
        "{all}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_item_cap_keeps_walks_of_a_large_account_short() {
    let mock = ReferenceMock::start(mock_config().key(CANARY)).await;
    let base = mock.base_url().to_string();
    let env = [
        ("CONTRACT_BASE_URL", base.as_str()),
        ("CONTRACT_API_KEY", CANARY),
        ("CONTRACT_STOP_AFTER_ITEMS", "30"),
    ];
    let out = check(&env, &["walk"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    // Each walk stops on the page that reaches 30 items: 30 pages at limit 1, 5 at 7 (35
    // items), 2 at the default 20 and 1 at 100; no end probes.
    assert_eq!(mock.request_count().await, 30 + 5 + 2 + 1, "{all}");
    assert!(
        all.contains(
            "note: list_batches::cross_walk: 4 walks (4 stopped at the item cap), 38 pages, "
        ),
        "{all}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_walk_past_its_page_budget_is_not_judged_and_says_how_to_raise_it() {
    let mock = ReferenceMock::start(mock_config().key(CANARY)).await;
    let base = mock.base_url().to_string();
    let env = [
        ("CONTRACT_BASE_URL", base.as_str()),
        ("CONTRACT_API_KEY", CANARY),
        ("CONTRACT_MAX_PAGES", "20"),
        // One walk alone (sampled, the walk at the maximum would be made first).
        ("CONTRACT_DEPTH", "full"),
    ];
    let out = check(&env, &["--exact", "list_batches::walk_limit_7"]);
    let all = text(&out);
    // A listing longer than the budget is not proven endless: not judged, exit 1.
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("list_batches::walk_limit_7: walk limit=7, page 20, after="),
        "{all}"
    );
    assert!(all.contains("  invariant: page_budget (the walk ends within its page budget)\n  at:        /has_more\n  expected:  has_more: false within 20 pages\n  actual:    has_more is still true after 20 pages (140 ids, 140 distinct, last after="), "{all}");
    assert!(
        all.contains(
            "the walk could not be judged (a listing this long is not proven endless): raise `max_pages` in the case or CONTRACT_MAX_PAGES if the listing really is this long, or set CONTRACT_STOP_AFTER_ITEMS to check its newest items only"
        ),
        "{all}"
    );
    assert_eq!(mock.request_count().await, 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_past_its_time_limit_fails_and_the_run_does_not_hang() {
    let slow = Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)));
    let mock = ReferenceMock::start_with(mock_config().key(CANARY), vec![slow]).await;
    let base = mock.base_url().to_string();
    let start = Instant::now();
    let env = [
        ("CONTRACT_BASE_URL", base.as_str()),
        ("CONTRACT_API_KEY", CANARY),
        ("CONTRACT_CASE_TIMEOUT", "0.5"),
    ];
    let out = check(&env, &["--exact", "list_batches::default_page"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}"); // not judged: a timeout is not drift
    assert!(all.contains("  expected:  the case finishes within 0.5 s\n  actual:    timed out after 0.5 s, no request answered (raise CONTRACT_CASE_TIMEOUT"), "{all}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_walk_past_its_time_limit_says_how_far_it_got() {
    let plain = ReferenceMock::start(mock_config()).await;
    let cursor = |i: usize| plain.items()[i]["id"].as_str().unwrap().to_owned();
    // Page 3 of the walk at limit 7 hangs.
    let slow = Mock::given(query_param("after", cursor(13).as_str()))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)));
    let mock = ReferenceMock::start_with(mock_config().key(CANARY), vec![slow]).await;
    let base = mock.base_url().to_string();
    let env = [
        ("CONTRACT_BASE_URL", base.as_str()),
        ("CONTRACT_API_KEY", CANARY),
        ("CONTRACT_CASE_TIMEOUT", "1"),
        // One walk alone (sampled, the walk at the maximum would be made first).
        ("CONTRACT_DEPTH", "full"),
    ];
    let out = check(&env, &["--exact", "list_batches::walk_limit_7"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}"); // not judged: a timeout is not drift
    assert!(
        all.contains(&format!(
            "  actual:    timed out after 1 s, 2 requests answered, the last: walk limit=7, page 2, after={} (raise",
            cursor(6)
        )),
        "{all}"
    );
    assert!(all.contains("1 violation(s) in 2 requests"), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_waiting_for_a_shared_walk_says_so_when_cut_off() {
    let plain = ReferenceMock::start(mock_config()).await;
    let cursor = plain.items()[6]["id"].as_str().unwrap().to_owned();
    // Page 2 of the walk at limit 7 hangs; the walk case and the cross-walk both need it.
    let slow = Mock::given(query_param("after", cursor.as_str()))
        .and(query_param("limit", "7"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)));
    let mock = ReferenceMock::start_with(mock_config().key(CANARY), vec![slow]).await;
    let base = mock.base_url().to_string();
    let env = [
        ("CONTRACT_BASE_URL", base.as_str()),
        ("CONTRACT_API_KEY", CANARY),
        ("CONTRACT_CASE_TIMEOUT", "1"),
    ];
    let args = [
        "walk",
        "--skip",
        "walk_default",
        "--skip",
        "walk_limit_1",
        "--skip",
        "walk_max",
        "--test-threads",
        "2",
    ];
    let out = check(&env, &args);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}"); // not judged: a timeout is not drift
    assert!(all.contains("2 failed"), "{all}");
    // One case makes the walk and hangs on its page 2; the other waits for it, and when
    // the first is cut off, may take the walk over just before its own time runs out.
    assert!(
        all.contains("; waiting for the walk at limit=7, which another case is making (raise")
            || all.contains(
                "; took over the walk at limit=7 from a case cut off by its time limit (raise"
            ),
        "the case waiting for it: {all}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_is_shown_even_when_the_case_passes() {
    let once = Mock::given(any())
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0.1"))
        .up_to_n_times(1);
    let mock = ReferenceMock::start_with(mock_config().key(CANARY), vec![once]).await;
    let base = mock.base_url().to_string();
    let out = check(
        &[("CONTRACT_BASE_URL", &base), ("CONTRACT_API_KEY", CANARY)],
        &["--exact", "list_batches::limit_1"],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains(&format!("note: list_batches::limit_1: GET {base}v1/batches?limit=1: attempt 1 got 429 Too Many Requests; retried after 0.1 s")),
        "{all}"
    );
    assert!(!all.contains(CANARY), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_standard_proxy_variables_are_honoured_on_live_runs() {
    // The reference mock stands in for the proxy: a plain-HTTP proxy receives the request
    // for the origin's URL, and the origin's host is never resolved.
    let proxy = ReferenceMock::start(mock_config().key(CANARY).prefix("/gw")).await;
    let proxy_url = proxy.base_url().to_string();
    let env = [
        ("CONTRACT_BASE_URL", "http://staging.example.test/gw"),
        ("CONTRACT_API_KEY", CANARY),
        ("HTTP_PROXY", proxy_url.as_str()),
    ];
    // The page cases are enough to prove the route; the walks would only add requests.
    let out = check(&env, &["--skip", "walk"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let seen = proxy.received().await;
    assert_eq!(seen.len(), 12);
    assert!(
        seen.iter()
            .all(|r| r.url.path().starts_with("/gw/v1/batches"))
    );
    assert!(!all.contains(CANARY));
}

#[test]
fn a_custom_ca_that_cannot_be_used_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let out = check(&[("CONTRACT_CA_CERT", missing.to_str().unwrap())], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains(&format!(
            "error: CONTRACT_CA_CERT: cannot read {}",
            missing.display()
        )),
        "{}",
        text(&out)
    );

    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let out = check(&[("CONTRACT_CA_CERT", junk.to_str().unwrap())], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains(&format!(
            "error: CONTRACT_CA_CERT: {} holds no PEM certificate",
            junk.display()
        )),
        "{}",
        text(&out)
    );

    let ca = root().join("tests/fixtures/tls/ca.pem");
    let out = check(
        &[("CONTRACT_CA_CERT", ca.to_str().unwrap())],
        &["--exact", "list_batches::limit_1"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "a real CA file is accepted: {}",
        text(&out)
    );
}

#[test]
fn bad_retry_and_timeout_settings_are_named() {
    for (var, value, message) in [
        (
            "CONTRACT_RETRY_ATTEMPTS",
            "0",
            "CONTRACT_RETRY_ATTEMPTS: `0` is out of range: give 1 to 100, whole",
        ),
        (
            "CONTRACT_RETRY_ATTEMPTS",
            "2.5",
            "CONTRACT_RETRY_ATTEMPTS: `2.5` is out of range: give 1 to 100, whole",
        ),
        (
            "CONTRACT_REQUEST_TIMEOUT",
            "soon",
            "CONTRACT_REQUEST_TIMEOUT: `soon` is out of range: give 0.01 to 3600",
        ),
        (
            "CONTRACT_CASE_TIMEOUT",
            "0",
            "CONTRACT_CASE_TIMEOUT: `0` is out of range: give 0.01 to 86400",
        ),
        (
            "CONTRACT_MAX_BODY_BYTES",
            "-1",
            "CONTRACT_MAX_BODY_BYTES: `-1` is out of range: give 1 to 1073741824, whole",
        ),
    ] {
        let out = check(&[(var, value)], &[]);
        assert_eq!(out.status.code(), Some(1), "{var}={value}");
        assert!(
            text(&out).contains(message),
            "{var}={value}: {}",
            text(&out)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn values_marked_secret_are_masked_like_the_key() {
    let dir = suite_copy();
    let case = dir.path().join("list_batches/limit_not_integer.toml");
    std::fs::write(
        &case,
        "description = \"d\"\n[request]\nquery = { limit = \"abc\" }\nheaders = { \"OpenAI-Organization\" = \"${ORG_TOKEN}\" }\n[[accept]]\nstatus = 400\nschema = \"error\"\n",
    )
    .unwrap();
    // The crash page echoes every request header, the organisation token among them.
    let mock =
        ReferenceMock::start(mock_config().key(CANARY).fault(Fault::InvalidLimitCrashes)).await;
    let base = mock.base_url().to_string();
    let env = [
        ("CONTRACT_BASE_URL", base.as_str()),
        ("CONTRACT_API_KEY", CANARY),
        ("CONTRACT_CASES_DIR", dir.path().to_str().unwrap()),
        ("ORG_TOKEN", "org-canary-31337"),
        ("CONTRACT_SECRET_VARS", "ORG_TOKEN, UNSET_ONE"),
    ];
    let out = check(&env, &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(101), "{all}");
    assert!(all.contains("openai-organization: ***"), "{all}");
    assert!(
        !all.contains("org-canary-31337") && !all.contains(CANARY),
        "{all}"
    );
    let seen = mock.received().await;
    assert!(seen.iter().any(|r| {
        r.headers
            .get("openai-organization")
            .is_some_and(|v| v == "org-canary-31337")
    }));

    let out = check(&env[..3], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains(&format!("error: {}: `request.headers.OpenAI-Organization` uses ${{ORG_TOKEN}}, which is not set (export ORG_TOKEN)", case.display())),
        "{}",
        text(&out)
    );
}

/// An HTTPS server on 127.0.0.1 with the fixture certificate, answering every request with
/// a 401 error body: enough for the `missing_key` case.
async fn tls_server() -> String {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls;

    let dir = root().join("tests/fixtures/tls");
    let certs = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let body = r#"{"error":{"message":"no key","type":"invalid_request_error","param":null,"code":"missing_api_key"}}"#;
                let response = format!(
                    "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://127.0.0.1:{port}")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_staging_server_behind_a_custom_ca_is_trusted_with_contract_ca_cert() {
    let base = tls_server().await;
    let ca = root().join("tests/fixtures/tls/ca.pem");
    let args = ["--exact", "list_batches::missing_key"];
    let env = [
        ("CONTRACT_BASE_URL", base.as_str()),
        ("CONTRACT_API_KEY", CANARY),
        ("CONTRACT_CA_CERT", ca.to_str().unwrap()),
    ];
    let out = check(&env, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // Without the CA the certificate is refused, and the case says so.
    let out = check(&env[..2], &args);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}"); // not judged: the certificate refused
    assert!(all.contains("invariant: transport"), "{all}");
    assert!(all.to_ascii_lowercase().contains("certificate"), "{all}");
    // An untrusted certificate would only be refused again: it is not retried.
    assert!(
        all.contains("1 violation(s) in 1 request: 1 finding\n"),
        "{all}"
    );
}

#[test]
fn a_skipped_case_says_why_and_runs_when_asked() {
    let dir = suite_copy();
    std::fs::write(
        dir.path().join("list_batches/later.toml"),
        "description = \"d\"\nskip = \"the gateway strips this header until v2\"\n[[accept]]\nstatus = 200\nschema = \"list\"\n",
    )
    .unwrap();
    let out = check_cases(dir.path());
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains(
            "note: list_batches::later is skipped: the gateway strips this header until v2"
        ),
        "{all}"
    );
    assert!(
        all.lines()
            .any(|l| l.starts_with("test list_batches::later ") && l.ends_with("... ignored")),
        "{all}"
    );
    assert!(all.contains("2 passed; 0 failed; 1 ignored"), "{all}");

    let out = check(
        &[("CONTRACT_CASES_DIR", dir.path().to_str().unwrap())],
        &["--include-ignored"],
    );
    assert!(
        text(&out).contains("3 passed; 0 failed; 0 ignored"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_walk_plan_is_a_flag_too() {
    let out = check(
        &[],
        &["--walk-plan", "chained", "-q", "list_batches::cross_walk"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = check(&[], &["--walk-plan", "fast"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(
            "error: --walk-plan: unknown walk plan `fast` (expected `chained` or `parallel`)"
        ),
        "{}",
        text(&out)
    );
}
