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
