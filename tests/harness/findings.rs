//! Findings, not floods: one drift is one finding in every report, and the reports stay short.

use crate::common;

use common::{check, mock_config, text};
use list_contract::mock::{Fault, ReferenceMock};
use list_contract::report::json::Report;

/// A List Batches server that sends `created_at` as a string: one finding; the run prints
/// under 150 lines; the Markdown summary is under 40 lines and names the finding with its
/// count once; the JSON report's `findings` has one entry, and JUnit gives it once per case.
#[tokio::test(flavor = "multi_thread")]
async fn created_at_as_a_string_is_one_finding_in_every_report() {
    let mock =
        ReferenceMock::start(mock_config().items(1000).fault(Fault::CreatedAtAsString)).await;
    let base = mock.base_url().to_string();
    let dir = tempfile::tempdir().unwrap();
    let (json, md, junit) = (
        dir.path().join("r.json"),
        dir.path().join("s.md"),
        dir.path().join("j.xml"),
    );
    let out = check(
        &[
            ("CONTRACT_BASE_URL", &base),
            ("CONTRACT_API_KEY", list_contract::mock::DEFAULT_KEY),
        ],
        &[
            "--json",
            json.to_str().unwrap(),
            "--markdown",
            md.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(101), "{all}");
    let lines = all.lines().count();
    let report = Report::read(&json).unwrap();
    let summary = std::fs::read_to_string(&md).unwrap();
    let xml = std::fs::read_to_string(&junit).unwrap();
    eprintln!(
        "measured: {lines} lines printed; Markdown {} lines; JSON findings {}; total violations {}",
        summary.lines().count(),
        report.findings.len(),
        report.summary.violations.values().sum::<u32>()
    );
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    let finding = &report.findings[0];
    assert_eq!(
        finding.invariant,
        Some(list_contract::violation::Invariant::Schema)
    );
    assert_eq!(finding.pointer, "/data/*/created_at");
    assert!(finding.occurrences > 1000, "{finding:#?}");
    assert_eq!(finding.examples.len(), list_contract::finding::EXAMPLES);
    assert!(lines < 150, "{lines} lines:\n{all}");
    assert_eq!(
        all.matches("#1 list_batches: schema at /data/*/created_at")
            .count(),
        1,
        "{all}"
    );
    assert!(summary.lines().count() < 40, "{summary}");
    let named = format!(
        "schema at /data/*/created_at (batch.json#/properties/created_at/type)` | {} |",
        finding.occurrences
    );
    assert_eq!(summary.matches(&named).count(), 1, "{named}\n{summary}");
    for case in report.cases.iter().filter(|c| !c.violations.is_empty()) {
        assert_eq!(case.findings.len(), 1, "{}: {:?}", case.name, case.findings);
        assert_eq!(case.findings[0].id, 1);
    }
    assert!(
        xml.contains("finding #1: schema at /data/*/created_at"),
        "{xml}"
    );
}

/// A List Batches listing whose every page is a flood: `items` batches with `created_at` as
/// a string (one `schema` violation per item) and more items than any limit (`page_size`),
/// `pages` pages chained by `after`, then an empty one. Each page is built when asked for.
struct Flood {
    pages: usize,
    template: Vec<serde_json::Value>,
}

impl Flood {
    fn new(pages: usize, items: usize) -> Self {
        Flood {
            pages,
            template: list_contract::mock::dataset::generate(items, 7),
        }
    }

    /// Page `page` (0-based) of the listing.
    fn page(&self, page: usize) -> serde_json::Value {
        let data: Vec<serde_json::Value> = if page >= self.pages {
            Vec::new()
        } else {
            self.template
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let mut item = item.clone();
                    item["id"] = format!("batch_p{page:03}_{i:06}").into();
                    let created = 1_763_990_000 - (page * self.template.len() + i) as i64;
                    item["created_at"] = created.to_string().into();
                    item
                })
                .collect()
        };
        serde_json::json!({
            "object": "list",
            "first_id": data.first().map(|i| i["id"].clone()),
            "last_id": data.last().map(|i| i["id"].clone()),
            "has_more": page + 1 < self.pages,
            "data": data,
        })
    }
}

impl wiremock::Respond for Flood {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let page = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "after")
            .and_then(|(_, after)| {
                after
                    .strip_prefix("batch_p")?
                    .split('_')
                    .next()?
                    .parse::<usize>()
                    .ok()
            })
            .map_or(0, |p| p + 1);
        wiremock::ResponseTemplate::new(200).set_body_json(self.page(page))
    }
}

/// Serves `flood` on 127.0.0.1.
async fn flood_server(flood: Flood) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(flood)
        .mount(&server)
        .await;
    server
}

/// What a flooded run cost: its exit code, its maximum resident set (KiB, from
/// `/usr/bin/time -v`, when there is one) and each report's size in bytes.
struct FloodRun {
    code: Option<i32>,
    max_rss_kib: Option<u64>,
    printed: usize,
    reports: Vec<(&'static str, u64)>,
    json: Report,
}

fn flood_run(base: &str, case: &str) -> FloodRun {
    let dir = tempfile::tempdir().unwrap();
    let paths = [
        ("json", dir.path().join("r.json")),
        ("markdown", dir.path().join("s.md")),
        ("junit", dir.path().join("j.xml")),
    ];
    let timed = std::path::Path::new("/usr/bin/time").exists();
    let mut cmd = if timed {
        let mut c = std::process::Command::new("/usr/bin/time");
        c.arg("-v").arg(env!("CARGO_BIN_EXE_list-contract"));
        c
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_list-contract"))
    };
    for (var, _) in std::env::vars() {
        if var.starts_with("CONTRACT_") {
            cmd.env_remove(var);
        }
    }
    let out = cmd
        .arg("check")
        .args([
            "--suite",
            "list_batches",
            "--base-url",
            base,
            "--exact",
            case,
        ])
        .args(["--json", paths[0].1.to_str().unwrap()])
        .args(["--markdown", paths[1].1.to_str().unwrap()])
        .args(["--junit", paths[2].1.to_str().unwrap()])
        .env("CONTRACT_API_KEY", "sk-flood")
        .env("CONTRACT_RATE_LIMIT", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let max_rss_kib = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .map(|n| n.parse().unwrap());
    FloodRun {
        code: if timed {
            stderr
                .lines()
                .find_map(|l| l.trim().strip_prefix("Exit status: "))
                .map(|n| n.parse().unwrap())
        } else {
            out.status.code()
        },
        max_rss_kib,
        printed: out.stdout.len() + out.stderr.len(),
        reports: paths
            .iter()
            .map(|(name, p)| (*name, std::fs::metadata(p).unwrap().len()))
            .collect(),
        json: Report::read(&paths[0].1).unwrap(),
    }
}

/// A walk of pages that break the schema on every item keeps what it reports bounded: the
/// findings count every violation, the reports hold a few in full.
#[tokio::test(flavor = "multi_thread")]
async fn a_walk_of_flooded_pages_is_reported_in_bounded_space() {
    let server = flood_server(Flood::new(5, 300)).await;
    let run = flood_run(&server.uri(), "list_batches::walk_max");
    assert_eq!(run.code, Some(101));
    let case = &run.json.cases[0];
    assert_eq!(
        case.violation_count,
        5 * 300 + 5,
        "a schema violation per item, page_size per page"
    );
    assert!(case.violations.len() <= list_contract::finding::KEPT_PER_CASE + case.findings.len());
    let schema = run
        .json
        .findings
        .iter()
        .find(|f| f.pointer == "/data/*/created_at")
        .unwrap();
    assert_eq!(
        (
            schema.occurrences,
            schema.items,
            schema.pages,
            schema.requests
        ),
        (1500, 1500, 5, 5)
    );
    for (name, size) in &run.reports {
        assert!(*size < 64 * 1024, "{name}: {size} bytes");
    }
}

/// The figure the issue asks for: 50 pages of about 3.7 MB, every item breaking the schema.
/// Heavy (185 MB sent), so run by hand:
/// `cargo test --test harness findings::fifty_pages -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "heavy: 50 pages of 3.7 MB; run by hand with --ignored (see docs/reports.md)"]
async fn fifty_pages_of_3_7_mb_stay_under_300_mib_and_5_mb_of_report() {
    let flood = Flood::new(50, 7000);
    let page_bytes = serde_json::to_vec(&flood.page(0)).unwrap().len();
    let server = flood_server(flood).await;
    let started = std::time::Instant::now();
    let run = flood_run(&server.uri(), "list_batches::walk_max");
    eprintln!(
        "measured: page {page_bytes} bytes; max RSS {:?} KiB; printed {} bytes; reports {:?}; {} violations; {:.0} s",
        run.max_rss_kib,
        run.printed,
        run.reports,
        run.json.cases[0].violation_count,
        started.elapsed().as_secs_f64()
    );
    assert_eq!(run.code, Some(101));
    assert!(page_bytes > 3_500_000, "{page_bytes}");
    assert_eq!(run.json.cases[0].violation_count, 50 * 7000 + 50);
    let rss = run
        .max_rss_kib
        .expect("/usr/bin/time -v gives the maximum resident set");
    assert!(rss < 300 * 1024, "{rss} KiB");
    for (name, size) in &run.reports {
        assert!(*size < 5 * 1024 * 1024, "{name}: {size} bytes");
    }
}

/// Suites that share a base URL name it once: `checking http://h/`, not `http://h/, http://h/,
/// …` (one per suite).
#[test]
fn the_target_is_printed_once_for_all_suites() {
    // A listener the preflight connects to; no case runs (the filter matches none).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!(
        "http://127.0.0.1:{}/",
        listener.local_addr().unwrap().port()
    );
    let cases = common::cases_dir();
    let env = [
        ("CONTRACT_BASE_URL", base.as_str()),
        ("CONTRACT_API_KEY", "sk-once"),
        ("CONTRACT_CASES_DIR", cases.to_str().unwrap()),
    ];
    let all = text(&check(&env, &["--list"]));
    assert!(
        all.matches("::default_page: test").count() >= 4,
        "four suites: {all}"
    );
    let all = text(&check(&env, &["no_case_has_this_name"]));
    let line = all
        .lines()
        .find(|l| l.starts_with("list-contract: checking "))
        .unwrap_or_else(|| panic!("{all}"));
    assert_eq!(line, format!("list-contract: checking {base}"), "{all}");
}
