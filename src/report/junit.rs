//! The JUnit XML report (`--junit FILE`, `CONTRACT_JUNIT`), written with `quick-junit` (the
//! crate nextest writes its own with): one `<testsuite>`, one `<testcase>` per case, named
//! like the trial (`list_batches::walk_limit_7`), with its time; a failed case carries each of
//! its findings once, with counts, then the same masked text as the terminal in its `<failure>`, and new fields a passing case saw go
//! to its `<system-out>`.

use std::path::Path;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::human::render_notices;
use super::{CaseOutcome, RunResults};
use crate::finding::Finding;
use crate::redact::Redactor;

/// The report as XML, every text masked by `redactor`.
pub fn render(results: &RunResults, redactor: &Redactor) -> Result<String, String> {
    let mask = |s: &str| redactor.redact(s);
    let mut suite = TestSuite::new("list-contract");
    suite.add_property(("target", mask(&results.target).as_str()));
    suite.add_property(("fail_on", results.fail_on.name()));
    if let Some(how) = results.auth_unchecked {
        suite.add_property(("auth", format!("not checked ({how})").as_str()));
    }
    for diagnosis in results.diagnoses() {
        suite.add_property(("diagnosis", mask(&diagnosis.message).as_str()));
    }
    if let Some(why) = &results.stopped {
        suite.add_property(("stopped", mask(why).as_str()));
    }
    for (name, value) in super::evidence::junit(results) {
        suite.add_property((name, mask(&value).as_str()));
    }
    let findings = results.findings();
    let mut total = std::time::Duration::ZERO;
    for case in &results.cases {
        total += case.duration;
        let status = match case.outcome {
            CaseOutcome::Passed => TestCaseStatus::success(),
            CaseOutcome::Failed => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let mut invariants: Vec<&str> = Vec::new();
                for v in &case.run.violations {
                    if !invariants.contains(&v.invariant.name()) {
                        invariants.push(v.invariant.name());
                    }
                }
                let refs = RunResults::case_findings(case, &findings);
                let (message, ty) = if invariants.is_empty() {
                    (
                        format!(
                            "{} new field(s) or header(s) (additive drift; the run fails on it)",
                            case.run.notices.len()
                        ),
                        "additive drift",
                    )
                } else {
                    (
                        format!(
                            "{} violation(s) in {} finding(s): {}",
                            case.run.violations.total(),
                            refs.len(),
                            invariants.join(", ")
                        ),
                        "breaking drift",
                    )
                };
                status
                    .set_message(mask(&message))
                    .set_type(ty)
                    .set_description(mask(&format!(
                        "{}{}",
                        finding_lines(&refs, &findings),
                        case.message.as_deref().unwrap_or("")
                    )));
                status
            }
            CaseOutcome::Ignored => {
                let mut status = TestCaseStatus::skipped();
                if let Some(reason) = &case.message {
                    status.set_message(mask(reason));
                }
                status
            }
        };
        let mut testcase = TestCase::new(mask(&case.name), status);
        testcase
            .set_classname(case.name.split("::").next().unwrap_or(&case.name))
            .set_time(case.duration);
        if case.outcome == CaseOutcome::Passed && !case.run.notices.is_empty() {
            testcase.set_system_out(render_notices(
                &case.name,
                &case.run.notices,
                results.fail_on,
                redactor,
            ));
        }
        suite.add_test_case(testcase);
    }
    suite.set_time(total);
    let mut report = Report::new("list-contract");
    report.add_test_suite(suite);
    report
        .to_string()
        .map_err(|e| format!("cannot encode the JUnit report: {e}"))
}

/// Each of a case's findings once, with its count here and in the run:
/// `finding #1: schema at /data/*/created_at (…): 7 here, 1224 in the run`.
fn finding_lines(refs: &[(usize, u64)], findings: &[Finding]) -> String {
    let mut out = String::new();
    for (id, n) in refs {
        if let Some(f) = findings.iter().find(|f| f.id == *id) {
            out.push_str(&format!(
                "finding #{id}: {}: {n} here, {} in the run\n",
                f.key.label(),
                f.occurrences
            ));
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Writes the report to `path`.
pub fn write(results: &RunResults, redactor: &Redactor, path: &Path) -> Result<(), String> {
    let xml = render(results, redactor)?;
    std::fs::write(path, xml)
        .map_err(|e| format!("cannot write the JUnit report to {}: {e}", path.display()))
}
