//! The JSON report (`--json FILE`, `CONTRACT_JSON`): every violation and every notice of a
//! run, as data. The shape is versioned and documented in docs/reports.md; these structs both
//! write and read it, so a consumer in Rust can load a report back.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::diagnose::Diagnosis;
use super::{CaseOutcome, RunResults};
use crate::finding::Finding;
use crate::redact::Redactor;
use crate::violation::{AdditionKind, Invariant, Notice, PageRef, Severity, Violation};

/// The version of the shape below; bumped when a field changes meaning or goes away. Version 2:
/// `findings` (each cause once, counted, with examples); `cases[].violations` holds a case's
/// first violations and the first of each finding (bounded), `cases[].violation_count` counts
/// them all and `cases[].findings` refers to the findings.
pub const VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub version: u32,
    /// The base URL checked (masked), or the embedded mock's.
    pub target: String,
    pub reference_mock: bool,
    /// `breaking` (the default) or `additive` (`--fail-on additive`).
    pub fail_on: Severity,
    /// Whether every case that ran passed.
    pub passed: bool,
    pub summary: Summary,
    pub cases: Vec<CaseReport>,
    /// Each cause once, ranked (breaking before additive, then by breadth): its counts and its
    /// first occurrences in full. A case refers to these by `id`.
    #[serde(default)]
    pub findings: Vec<FindingReport>,
    /// Each new field or header once per run, where it was first seen.
    pub notices: Vec<NoticeReport>,
    /// What the failures of the run share, said once (`cause`: `key_refused`, `not_found`,
    /// `unreachable`, `unavailable`); empty when they share nothing.
    #[serde(default)]
    pub diagnoses: Vec<Diagnosis>,
    /// Whether auth was checked (`false` with `--auth none`).
    #[serde(default = "yes")]
    pub auth_checked: bool,
    /// What the run proved per suite, what it could not (`not_proven`), and the likely
    /// server bugs (`server_bugs`); see docs/reports.md.
    #[serde(default)]
    pub evidence: serde_json::Value,
    /// The pace of a live run and why: `rate` (requests a second, `null`: uncapped),
    /// `chosen_by` (`your_cap`, `server_budget`, `default_cap`, `uncapped`), the user's `cap`,
    /// the `server`'s advertised budget, `holds`; `null` for the embedded mock or a replay.
    #[serde(default)]
    pub pace: Option<crate::http::Pace>,
    /// Why the run stopped before its end (the server stopped answering, or its rate limit
    /// would hold requests past their retry budget); absent when it ran to its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub cases: usize,
    pub passed: usize,
    pub failed: usize,
    pub ignored: usize,
    /// Pages walked, each shared walk once.
    pub pages: u32,
    /// Requests sent, retries included.
    pub requests: u32,
    pub retries: usize,
    /// Violations per invariant name, as the cases report them (they add up to the cases'
    /// own counts: a violation on a request two cases share counts for each); invariants with
    /// none are left out.
    pub violations: BTreeMap<Invariant, u32>,
    /// New fields and headers, each once.
    pub notices: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseReport {
    pub name: String,
    pub description: String,
    pub outcome: CaseOutcome,
    pub duration_secs: f64,
    /// Requests this case sent, retries included.
    pub requests: u32,
    /// Requests another case sent whose responses this case used.
    pub shared: u32,
    /// Pages of the walks this case made or shared.
    pub pages: u32,
    pub walks: u32,
    pub retries: usize,
    /// An ignored case's reason; `null` otherwise.
    pub skip_reason: Option<String>,
    /// The case's first violations in full, and the first of each of its findings: bounded
    /// whatever the server sends (`violation_count` counts them all).
    pub violations: Vec<ViolationReport>,
    /// Violations in all, kept or only counted.
    #[serde(default)]
    pub violation_count: u64,
    /// The run's findings this case showed, by `id`, with how many times here.
    #[serde(default)]
    pub findings: Vec<FindingRef>,
    pub notices: Vec<NoticeReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViolationReport {
    pub invariant: Invariant,
    /// Always `breaking`.
    pub severity: Severity,
    /// `GET <url>`, or `null` for a finding over several walks.
    pub request: Option<String>,
    pub page: Option<PageRef>,
    /// JSON pointer into the response body (`""`: the whole response).
    pub pointer: String,
    pub expected: String,
    pub actual: String,
    /// For `schema`: the keyword's location, `file.json#/pointer`.
    pub schema_path: Option<String>,
}

/// A case's share of a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRef {
    pub id: usize,
    pub occurrences: u64,
}

/// One cause: what its violations share, how many there were, and the first few in full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingReport {
    /// 1-based rank: breaking before additive, then the broadest first.
    pub id: usize,
    pub suite: String,
    pub severity: Severity,
    /// The invariant broken; `null` for additive drift.
    pub invariant: Option<Invariant>,
    /// The invariant's name, or `new_field`/`new_header`.
    pub rule: String,
    /// One line naming it: `schema at /data/*/created_at (batch.json#/properties/created_at/type)`.
    pub label: String,
    /// For `schema`: the keyword's location.
    pub schema_path: Option<String>,
    /// The JSON pointer with array positions as `*`; a new field's path or header's name.
    pub pointer: String,
    /// What was expected, where it is the same for every occurrence (a type, a status).
    pub expected: Option<String>,
    /// Violations (additive drift: cases that saw it).
    pub occurrences: u64,
    /// Distinct items the violations were on.
    pub items: u64,
    /// Walk pages that showed it.
    pub pages: u64,
    /// Requests that showed it; a request several cases share counts once.
    pub requests: u64,
    pub cases: Vec<String>,
    /// The first occurrences in full (at most three); empty for additive drift, whose first
    /// sighting is in `notices`.
    pub examples: Vec<ExampleReport>,
}

/// One occurrence of a finding, with the case that saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExampleReport {
    pub case: String,
    #[serde(flatten)]
    pub violation: ViolationReport,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeReport {
    /// The case that saw it (in the run-wide list: the first, by name).
    pub case: String,
    pub kind: AdditionKind,
    /// Always `additive`.
    pub severity: Severity,
    /// `data[].priority` for a field, the lowercase name for a header.
    pub name: String,
    /// For a field: where it was first seen, as a JSON pointer.
    pub pointer: Option<String>,
    pub request: Option<String>,
    pub page: Option<PageRef>,
}

impl Report {
    /// The report of `results`, every text masked by `redactor`.
    pub fn build(results: &RunResults, redactor: &Redactor) -> Report {
        let mask = |s: &str| redactor.redact(s);
        let ranked = results.findings();
        let cases: Vec<CaseReport> = results
            .cases
            .iter()
            .map(|c| CaseReport {
                name: mask(&c.name),
                description: mask(c.description.trim()),
                outcome: c.outcome,
                duration_secs: c.duration.as_secs_f64(),
                requests: c.run.requests,
                shared: c.run.shared,
                pages: c.run.pages,
                walks: c.run.walks,
                retries: c.run.retries.len(),
                skip_reason: match c.outcome {
                    CaseOutcome::Ignored => c.message.as_deref().map(mask),
                    _ => None,
                },
                violations: c
                    .run
                    .violations
                    .iter()
                    .map(|v| violation(v, redactor))
                    .collect(),
                violation_count: c.run.violations.total(),
                findings: RunResults::case_findings(c, &ranked)
                    .into_iter()
                    .map(|(id, occurrences)| FindingRef { id, occurrences })
                    .collect(),
                notices: c
                    .run
                    .notices
                    .iter()
                    .map(|n| notice(&c.name, n, redactor))
                    .collect(),
            })
            .collect();
        let notices: Vec<NoticeReport> = results
            .notices()
            .into_iter()
            .map(|(case, n)| notice(case, n, redactor))
            .collect();
        Report {
            version: VERSION,
            target: mask(&results.target),
            reference_mock: results.reference_mock,
            fail_on: results.fail_on,
            passed: results.count(CaseOutcome::Failed) == 0,
            summary: Summary {
                cases: results.cases.len(),
                passed: results.count(CaseOutcome::Passed),
                failed: results.count(CaseOutcome::Failed),
                ignored: results.count(CaseOutcome::Ignored),
                pages: results.pages(),
                requests: results.requests(),
                retries: results.retries(),
                violations: results.violations_by_invariant(),
                notices: notices.len(),
            },
            cases,
            findings: ranked.iter().map(|f| finding(f, redactor)).collect(),
            notices,
            diagnoses: results
                .diagnoses()
                .into_iter()
                .map(|d| Diagnosis {
                    message: mask(&d.message),
                    ..d
                })
                .collect(),
            auth_checked: results.auth_unchecked.is_none(),
            evidence: serde_json::from_str(&mask(&super::evidence::json(results).to_string()))
                .unwrap_or_default(),
            pace: results.pace.clone(),
            stopped: results.stopped.as_deref().map(mask),
        }
    }

    /// Writes the report as pretty-printed JSON.
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| format!("cannot encode the JSON report: {e}"))?;
        std::fs::write(path, text + "\n")
            .map_err(|e| format!("cannot write the JSON report to {}: {e}", path.display()))
    }

    /// Reads a report written by [`Report::write`].
    pub fn read(path: &Path) -> Result<Report, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn page(p: &PageRef, redactor: &Redactor) -> PageRef {
    PageRef {
        walk: redactor.redact(&p.walk),
        cursor: p.cursor.as_deref().map(|c| redactor.redact(c)),
        ..p.clone()
    }
}

fn violation(v: &Violation, redactor: &Redactor) -> ViolationReport {
    let mask = |s: &str| redactor.redact(s);
    ViolationReport {
        invariant: v.invariant,
        severity: v.severity(),
        request: v.request.as_deref().map(mask),
        page: v.page.as_ref().map(|p| page(p, redactor)),
        pointer: mask(&v.pointer),
        expected: mask(&v.expected),
        actual: mask(&v.actual),
        schema_path: v.schema_path.as_deref().map(mask),
    }
}

fn finding(f: &Finding, redactor: &Redactor) -> FindingReport {
    let mask = |s: &str| redactor.redact(s);
    let key = &f.key;
    FindingReport {
        id: f.id,
        suite: mask(&key.suite),
        severity: f.severity,
        invariant: key.invariant,
        rule: key.rule(),
        label: mask(&key.label()),
        schema_path: (key.invariant.is_some() && !key.detail.is_empty()).then(|| mask(&key.detail)),
        pointer: mask(&key.pointer),
        expected: (!key.expected.is_empty()).then(|| mask(&key.expected)),
        occurrences: f.occurrences,
        items: f.items,
        pages: f.pages,
        requests: f.requests,
        cases: f.cases.iter().map(|c| mask(c)).collect(),
        examples: f
            .examples
            .iter()
            .map(|e| ExampleReport {
                case: mask(&e.case),
                violation: violation(&e.violation, redactor),
            })
            .collect(),
    }
}

fn notice(case: &str, n: &Notice, redactor: &Redactor) -> NoticeReport {
    let mask = |s: &str| redactor.redact(s);
    NoticeReport {
        case: mask(case),
        kind: n.kind,
        severity: n.severity(),
        name: mask(&n.name),
        pointer: n.pointer.as_deref().map(mask),
        request: n.request.as_deref().map(mask),
        page: n.page.as_ref().map(|p| page(p, redactor)),
    }
}
