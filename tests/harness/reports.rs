//! What CI reads: the JUnit and JSON reports, the run's summary, and the severity of drift
//! (breaking fails; additive, a new field or header, is a notice unless `--fail-on additive`).

use crate::common;

use std::path::Path;

use common::{cases_dir, check, mock_config, text};
use list_contract::mock::{Fault, ReferenceMock, dataset};
use list_contract::report::CaseOutcome;
use list_contract::report::json::Report;
use list_contract::violation::{AdditionKind, Invariant, Severity};
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const CANARY: &str = "sk-canary-report-4d81e0";

/// How many elements named `name` the XML document holds.
fn tags(doc: &roxmltree::Document, name: &str) -> usize {
    doc.descendants().filter(|n| n.has_tag_name(name)).count()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads the JSON report into its structs and checks that writing them again gives the same
/// document: the documented shape round-trips.
fn read_json_report(path: &Path) -> Report {
    let text = read(path);
    let report = Report::read(path).expect("the JSON report reads back into its structs");
    let again = serde_json::to_value(&report).unwrap();
    let written: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(again, written, "the JSON report round-trips");
    assert_eq!(report.version, 2);
    report
}

#[tokio::test(flavor = "multi_thread")]
async fn a_drifting_endpoint_gets_a_junit_and_a_json_report_with_every_key_masked() {
    // The key sits in the base URL's path, so every request line carries it, and the crashing
    // server echoes the request headers (the key among them) into its error bodies.
    let mock = ReferenceMock::start(
        mock_config()
            .key(CANARY)
            .prefix(format!("/gw/{CANARY}"))
            .fault(Fault::WrongLastId)
            .fault(Fault::InvalidLimitCrashes),
    )
    .await;
    let base = mock.base_url().to_string();
    let dir = tempfile::tempdir().unwrap();
    let (junit, json) = (dir.path().join("junit.xml"), dir.path().join("report.json"));
    let out = check(
        &[("CONTRACT_BASE_URL", &base), ("CONTRACT_API_KEY", CANARY)],
        &[
            "--junit",
            junit.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(101), "{all}");
    assert!(!all.contains(CANARY), "{all}");
    assert!(
        all.contains("findings: ") && all.contains("breaking (violations by invariant: "),
        "{all}"
    );

    let xml = read(&junit);
    let json_text = read(&json);
    assert!(
        !xml.contains(CANARY),
        "the key is in the JUnit file:\n{xml}"
    );
    assert!(!json_text.contains(CANARY), "the key is in the JSON file");
    assert!(
        xml.contains("/gw/***/v1/batches"),
        "request lines are masked, not dropped"
    );

    // The JUnit file is XML with one testcase per case; a failure carries the violation text.
    let doc = roxmltree::Document::parse(&xml).expect("the JUnit report is well-formed XML");
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1);
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 17, "{xml}");
    let names: Vec<&str> = cases.iter().filter_map(|c| c.attribute("name")).collect();
    assert!(names.contains(&"list_batches::walk_limit_7"), "{names:?}");
    for case in &cases {
        let time: f64 = case.attribute("time").unwrap().parse().unwrap();
        assert!(time >= 0.0);
    }
    let failure = |name: &str| {
        cases
            .iter()
            .find(|c| c.attribute("name") == Some(name))
            .and_then(|c| c.children().find(|n| n.has_tag_name("failure")))
    };
    let limit_7 = failure("list_batches::limit_7").expect("limit_7 fails on last_id");
    assert_eq!(limit_7.attribute("type"), Some("breaking drift"));
    assert!(
        limit_7.attribute("message").unwrap().contains("last_id"),
        "{:?}",
        limit_7.attribute("message")
    );
    let body = limit_7.text().unwrap_or_default();
    assert!(body.contains("invariant: last_id"), "{body}");
    assert!(body.contains("at:        /last_id"), "{body}");
    let crash = failure("list_batches::limit_above_max").expect("limit=101 crashes the server");
    assert!(crash.text().unwrap().contains("500"), "{:?}", crash.text());
    assert!(
        failure("list_batches::missing_key").is_none(),
        "missing_key passes"
    );

    // The JSON report names every violation and agrees with the JUnit file.
    let report = read_json_report(&json);
    assert!(!report.passed);
    assert!(!report.reference_mock);
    assert_eq!(report.fail_on, Severity::Breaking);
    assert_eq!(report.target, base.replace(CANARY, "***"));
    let failures = tags(&doc, "failure");
    assert_eq!(report.summary.failed, failures);
    assert_eq!(report.summary.cases, 17);
    assert_eq!(report.summary.passed + report.summary.failed, 17);
    assert_eq!(report.cases.len(), 17);
    let case = report
        .cases
        .iter()
        .find(|c| c.name == "list_batches::limit_7")
        .unwrap();
    assert_eq!(case.outcome, CaseOutcome::Failed);
    let v = case
        .violations
        .iter()
        .find(|v| v.invariant == Invariant::LastId)
        .expect("limit_7's last_id violation");
    assert_eq!(v.severity, Severity::Breaking);
    assert_eq!(v.pointer, "/last_id");
    assert!(
        v.request
            .as_deref()
            .unwrap()
            .contains("/gw/***/v1/batches?limit=7")
    );
    assert!(v.expected.contains("data[6].id"), "{}", v.expected);
    // Walk violations carry their page.
    let walk = report
        .cases
        .iter()
        .find(|c| c.name == "list_batches::walk_limit_7")
        .unwrap();
    assert!(walk.violations.iter().all(|v| v.page.is_some()));
    // Per invariant, the summary counts what the cases report: the counts add up to theirs,
    // though the cross-walk lists its walks' violations again.
    let reported: u64 = report.cases.iter().map(|c| c.violation_count).sum();
    let summed: u32 = report.summary.violations.values().sum();
    assert_eq!(summed as u64, reported);
    assert!(report.summary.violations[&Invariant::LastId] > 0);
    // Each cause once in `findings`, ranked; the cases refer to them by id, and the counts of a
    // finding are the cases' own without a shared request twice.
    let last_id = report
        .findings
        .iter()
        .find(|f| f.invariant == Some(Invariant::LastId))
        .expect("a last_id finding");
    assert_eq!(last_id.pointer, "/last_id");
    assert!(last_id.cases.contains(&"list_batches::limit_7".to_owned()));
    assert!(!last_id.examples.is_empty() && last_id.examples.len() <= 3);
    assert!(last_id.occurrences <= summed as u64);
    let ids: Vec<usize> = report.findings.iter().map(|f| f.id).collect();
    assert_eq!(ids, (1..=report.findings.len()).collect::<Vec<_>>());
    for c in &report.cases {
        assert!(c.violations.len() as u64 <= c.violation_count);
        assert_eq!(c.findings.is_empty(), c.violation_count == 0, "{}", c.name);
        for r in &c.findings {
            let f = &report.findings[r.id - 1];
            assert!(f.cases.contains(&c.name) && r.occurrences <= f.occurrences.max(r.occurrences));
        }
    }
    assert!(report.notices.is_empty(), "{:?}", report.notices);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reference_mock_conforms_with_no_notices_and_the_reports_come_from_the_variables() {
    let dir = tempfile::tempdir().unwrap();
    let (junit, json) = (dir.path().join("j.xml"), dir.path().join("r.json"));
    let out = check(
        &[
            ("CONTRACT_JUNIT", junit.to_str().unwrap()),
            ("CONTRACT_JSON", json.to_str().unwrap()),
            ("CONTRACT_FAIL_ON", "additive"),
        ],
        &[],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    // At the default depth (sampled) the OpenAI Files suite also has its walk at the maximum
    // (limit=10000) made, which none of its cases asks for: 2 pages, one more request.
    assert!(
        all.contains(
            "summary: 79 case(s): 79 passed, 0 failed, 0 ignored; 1484 page(s) walked, 1519 request(s), 0 retries"
        ),
        "{all}"
    );
    assert!(
        !all.contains("notices"),
        "wiremock's headers and the dataset are known: {all}"
    );
    let report = read_json_report(&json);
    assert!(report.passed && report.reference_mock);
    assert_eq!(report.fail_on, Severity::Additive);
    assert_eq!(
        (
            report.summary.pages,
            report.summary.requests,
            report.summary.notices
        ),
        (1484, 1519, 0)
    );
    assert!(report.summary.violations.is_empty());
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert!(!all.contains("findings: "), "{all}");
    assert!(
        report
            .cases
            .iter()
            .all(|c| c.findings.is_empty() && c.violation_count == 0)
    );
    let doc_text = read(&junit);
    let doc = roxmltree::Document::parse(&doc_text).unwrap();
    assert_eq!(tags(&doc, "testcase"), 79);
    assert_eq!(tags(&doc, "failure"), 0);
}

/// A suite of one page case and one skipped case, against `server`.
fn one_page_suite() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("list_batches");
    std::fs::create_dir(&suite).unwrap();
    std::fs::copy(
        cases_dir().join("list_batches/contract.toml"),
        suite.join("contract.toml"),
    )
    .unwrap();
    std::fs::write(
        suite.join("page.toml"),
        "description = \"a page of two\"\n[request]\nquery = { limit = 2 }\n[[accept]]\nstatus = 200\nschema = \"list\"\n",
    )
    .unwrap();
    std::fs::write(
        suite.join("later.toml"),
        "description = \"not yet\"\nskip = \"the endpoint has no filters yet\"\n[request]\nquery = { limit = 3 }\n[[accept]]\nstatus = 200\nschema = \"list\"\n",
    )
    .unwrap();
    dir
}

/// A server that conforms but adds a field on its items, one on the envelope, one inside
/// `request_counts`, and a header nobody expects.
async fn additive_server() -> MockServer {
    let mut items = dataset::generate(2, 9);
    items[0]["priority"] = json!("high");
    items[1]["priority"] = json!("low");
    items[1]["request_counts"]["cancelled"] = json!(0);
    let body = json!({
        "object": "list",
        "first_id": items[0]["id"],
        "last_id": items[1]["id"],
        "has_more": false,
        "data": items,
        "total_count": 2,
    });
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(body)
                .insert_header("x-batch-region", "eu-west-1")
                .insert_header("x-request-id", "req_1"),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn additive_drift_is_a_notice_by_default_and_fails_with_fail_on_additive() {
    let server = additive_server().await;
    let suite = one_page_suite();
    let dir = tempfile::tempdir().unwrap();
    let (junit, json) = (dir.path().join("j.xml"), dir.path().join("r.json"));
    let env = [
        ("CONTRACT_BASE_URL", server.uri()),
        ("CONTRACT_API_KEY", CANARY.to_owned()),
        ("CONTRACT_CASES_DIR", suite.path().display().to_string()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reports = [
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ];

    // By default: the run passes and the summary names each new field once, with an example.
    let out = check(&env, &reports);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("summary: 2 case(s): 1 passed, 0 failed, 1 ignored"),
        "{all}"
    );
    assert!(
        all.contains("notices (additive drift: not failing the run; `--fail-on additive` fails on it): 3 new field(s), 1 new header(s)"),
        "{all}"
    );
    let base = server.uri();
    for line in [
        format!("  list_batches::page: new field:  data[].priority at /data/0/priority (GET {base}/v1/batches?limit=2)"),
        "  list_batches::page: new field:  data[].request_counts.cancelled at /data/1/request_counts/cancelled".to_owned(),
        "  list_batches::page: new field:  total_count at /total_count".to_owned(),
        "  list_batches::page: new header: x-batch-region".to_owned(),
    ] {
        assert!(all.contains(&line), "missing {line:?} in\n{all}");
    }
    assert!(
        !all.contains("x-request-id"),
        "a usual header is not drift: {all}"
    );
    let report = read_json_report(&json);
    assert!(report.passed);
    assert_eq!(report.summary.notices, 4);
    let names: Vec<(AdditionKind, &str, Option<&str>)> = report
        .notices
        .iter()
        .map(|n| {
            assert_eq!(n.severity, Severity::Additive);
            assert_eq!(n.case, "list_batches::page");
            (n.kind, n.name.as_str(), n.pointer.as_deref())
        })
        .collect();
    assert_eq!(
        names,
        [
            (
                AdditionKind::Field,
                "data[].priority",
                Some("/data/0/priority")
            ),
            (
                AdditionKind::Field,
                "data[].request_counts.cancelled",
                Some("/data/1/request_counts/cancelled")
            ),
            (AdditionKind::Field, "total_count", Some("/total_count")),
            (AdditionKind::Header, "x-batch-region", None),
        ]
    );
    let skipped = report
        .cases
        .iter()
        .find(|c| c.name == "list_batches::later")
        .unwrap();
    assert_eq!(skipped.outcome, CaseOutcome::Ignored);
    assert_eq!(
        skipped.skip_reason.as_deref(),
        Some("the endpoint has no filters yet")
    );
    let xml = read(&junit);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(tags(&doc, "testcase"), 2);
    assert_eq!(tags(&doc, "skipped"), 1);
    assert_eq!(tags(&doc, "failure"), 0);
    let out_text: String = doc
        .descendants()
        .filter(|n| n.has_tag_name("system-out"))
        .filter_map(|n| n.text())
        .collect();
    assert!(out_text.contains("new field:  data[].priority"), "{xml}");

    // With --fail-on additive: the case that saw them fails, naming them; exit 101.
    let mut strict: Vec<&str> = reports.to_vec();
    strict.extend(["--fail-on", "additive"]);
    let out = check(&env, &strict);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(101), "{all}");
    assert!(all.contains("---- list_batches::page ----"), "{all}");
    assert!(
        all.contains("list_batches::page: 4 new field(s) or header(s) (additive drift: fails the run (`--fail-on additive`))"),
        "{all}"
    );
    assert!(
        all.contains("notices (additive drift: failing the run: `--fail-on additive`)"),
        "{all}"
    );
    assert!(!all.contains(CANARY), "{all}");
    let report = read_json_report(&json);
    assert!(!report.passed);
    assert_eq!(report.fail_on, Severity::Additive);
    assert_eq!(report.summary.failed, 1);
    assert!(report.cases.iter().all(|c| c.violations.is_empty()));
    // Additive drift is findings too, ranked after breaking ones (here there are none).
    assert_eq!(report.findings.len(), 4, "{:#?}", report.findings);
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.severity == Severity::Additive
                && f.invariant.is_none()
                && f.examples.is_empty()
                && f.cases == ["list_batches::page"])
    );
    let rules: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        rules.iter().filter(|r| **r == "new_field").count(),
        3,
        "{rules:?}"
    );
    assert_eq!(
        rules.iter().filter(|r| **r == "new_header").count(),
        1,
        "{rules:?}"
    );
    let page = report
        .cases
        .iter()
        .find(|c| c.name == "list_batches::page")
        .unwrap();
    assert_eq!(page.findings.len(), 4);
    let xml = read(&junit);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("the case fails in the JUnit file too");
    assert_eq!(failure.attribute("type"), Some("additive drift"));
    assert!(
        failure
            .text()
            .unwrap()
            .contains("new header: x-batch-region"),
        "{xml}"
    );
}

#[test]
fn a_report_that_cannot_be_written_stops_the_run_with_exit_1() {
    let out = check(&[], &["--json", "/nonexistent-dir/r.json", "limit_1"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains(
            "error: --json: cannot write /nonexistent-dir/r.json: No such file or directory"
        ),
        "{all}"
    );
}

#[test]
fn a_bad_fail_on_level_is_named() {
    let out = check(&[], &["--fail-on", "minor"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out)
            .contains("--fail-on: unknown severity `minor` (expected `additive` or `breaking`)"),
        "{}",
        text(&out)
    );
    let out = check(&[("CONTRACT_FAIL_ON", "minor")], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("CONTRACT_FAIL_ON: unknown severity `minor`"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_conforming_run_gets_a_markdown_summary_with_the_verdict_and_no_table() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("summary.md");
    // The flag, as the GitHub Action passes it.
    let out = check(
        &[],
        &["--markdown", md.to_str().unwrap(), "list_batches::limit_7"],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("note: Markdown report written to"), "{all}");
    let summary = read(&md);
    assert!(
        summary.starts_with("## list-contract: conforms (exit 0)\n"),
        "{summary}"
    );
    assert!(
        summary.contains("(the embedded reference mock)"),
        "{summary}"
    );
    assert!(
        summary.contains("- 1 case(s): 1 passed, 0 failed, 0 ignored;"),
        "{summary}"
    );
    assert!(!summary.contains("Failed invariants"), "{summary}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_drifting_run_gets_a_bounded_markdown_table_naming_invariant_and_place_with_the_key_masked()
 {
    let mock = ReferenceMock::start(
        mock_config()
            .key(CANARY)
            .prefix(format!("/gw/{CANARY}"))
            .fault(Fault::WrongLastId)
            .fault(Fault::CreatedAtAsString),
    )
    .await;
    let base = mock.base_url().to_string();
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("summary.md");
    let out = check(
        &[
            ("CONTRACT_BASE_URL", &base),
            ("CONTRACT_API_KEY", CANARY),
            ("CONTRACT_MARKDOWN", md.to_str().unwrap()),
        ],
        &["list_batches::walk_limit_7"],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(101), "{all}");
    let summary = read(&md);
    assert!(
        !summary.contains(CANARY),
        "the key is in the summary:\n{summary}"
    );
    assert!(
        summary.starts_with("## list-contract: drift (exit 101)\n"),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("- target: `{}`", base.replace(CANARY, "***"))),
        "the target is masked, not dropped:\n{summary}"
    );
    // Every distinct finding once, with a count per invariant, before any per-case detail.
    let findings_at = summary.find("### Findings").expect("a findings section");
    let cases_at = summary
        .find("### Failed cases")
        .expect("a failed-cases section");
    assert!(findings_at < cases_at, "{summary}");
    assert!(
        summary.contains("| invariant | findings | violations |"),
        "{summary}"
    );
    assert!(summary.contains("\n| `last_id` | 1 | "), "{summary}");
    assert!(summary.contains("\n| `schema` | 1 | "), "{summary}");
    assert!(
        summary.contains("| # | finding | violations | cases | first seen | expected | actual |"),
        "{summary}"
    );
    // The last_id finding: the invariant, its first walk page, the pointer.
    let row = summary
        .lines()
        .find(|l| l.contains("`list_batches: last_id at /last_id`"))
        .unwrap_or_else(|| panic!("no last_id finding:\n{summary}"));
    assert!(
        row.contains("| `list_batches::walk_limit_7` `walk limit=7, page "),
        "{row}"
    );
    assert!(row.contains("at `/last_id`"), "{row}");
    assert_eq!(row.matches(" | ").count(), 6, "seven cells: {row}");
    let schema_row = summary
        .lines()
        .find(|l| l.contains("`list_batches: schema at /data/*/created_at"))
        .unwrap_or_else(|| panic!("no schema finding:\n{summary}"));
    assert!(
        schema_row
            .contains("at `/data/0/created_at` schema `batch.json#/properties/created_at/type`"),
        "{schema_row}"
    );
    // A string created_at on every item is one row, not a flood: two findings in all.
    let rows = summary
        .lines()
        .filter(|l| l.starts_with("| 1 |") || l.starts_with("| 2 |"))
        .count();
    assert_eq!(rows, 2, "{summary}");
    assert!(!summary.contains("| 3 |"), "{summary}");
    assert!(
        summary.contains("- `list_batches::walk_limit_7`: #1 ×"),
        "{summary}"
    );
    assert!(summary.lines().count() < 40, "{summary}");
    assert!(summary.len() < 64 * 1024, "{} bytes", summary.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_markdown_summary_names_new_fields_briefly_and_says_when_they_fail_the_run() {
    let server = additive_server().await;
    let suite = one_page_suite();
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("summary.md");
    let (uri, cases) = (server.uri(), suite.path().display().to_string());
    let out = check(
        &[
            ("CONTRACT_BASE_URL", &uri),
            ("CONTRACT_API_KEY", CANARY),
            ("CONTRACT_CASES_DIR", &cases),
            ("CONTRACT_MARKDOWN", md.to_str().unwrap()),
        ],
        &["--fail-on", "additive"],
    );
    assert_eq!(out.status.code(), Some(101), "{}", text(&out));
    let summary = read(&md);
    assert!(
        summary.starts_with("## list-contract: drift (exit 101)\n"),
        "{summary}"
    );
    assert!(!summary.contains("### Failed invariants"), "{summary}");
    assert!(
        summary.contains(
            "### Notices (additive drift: failing the run (`--fail-on additive`))\n\n3 new field(s), 1 new header(s): `data[].priority` (list_batches::page)"
        ),
        "{summary}"
    );
    assert!(summary.contains("`x-batch-region`"), "{summary}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_only_got_try_again_answers_is_cannot_run_in_the_markdown_summary() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("summary.md");
    let uri = server.uri();
    let out = check(
        &[
            ("CONTRACT_BASE_URL", &uri),
            ("CONTRACT_API_KEY", CANARY),
            ("CONTRACT_RETRY_ATTEMPTS", "1"),
            ("CONTRACT_MARKDOWN", md.to_str().unwrap()),
        ],
        &["list_batches::limit_1"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let summary = read(&md);
    assert!(
        summary.starts_with("## list-contract: cannot run (exit 1)\n"),
        "{summary}"
    );
    assert!(
        summary.contains("> **diagnosis**: every request got"),
        "{summary}"
    );
    assert!(!summary.contains(CANARY), "{summary}");
}
