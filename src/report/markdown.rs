//! The Markdown report (`--markdown FILE`, `CONTRACT_MARKDOWN`): the verdict, the counts, every
//! distinct finding once (after a count per invariant), then the failed cases by finding, for a person reading a CI page (a GitHub job summary:
//! `--markdown "$GITHUB_STEP_SUMMARY"`). The JSON and JUnit reports hold everything; this one
//! is bounded, since GitHub cuts a step summary at 1 MiB: at most [`MAX_ROWS`] rows, each cell
//! at most [`MAX_CELL_CHARS`] characters, and it says what it left out.

use std::fmt::Write as _;
use std::path::Path;

use super::{CaseOutcome, CaseResult, RunResults};
use crate::finding::Finding;
use crate::redact::Redactor;
use crate::violation::{Severity, Violation};

/// Rows of the findings table, and failed cases listed, at most; the rest are counted.
pub const MAX_ROWS: usize = 100;
/// Characters of one cell at most (expected, actual, where); longer text is cut with `…`.
pub const MAX_CELL_CHARS: usize = 160;
/// New fields and headers named at most; the rest are counted.
pub const MAX_NOTICES: usize = 20;

/// What the run says about the endpoint, as the exit code does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Exit 0: every case conforms.
    Conforms,
    /// Exit 101: the endpoint broke the contract.
    Drift,
    /// Exit 1: the contract could not be judged (unreachable, only "try again" answers, every
    /// request refused or 404, `--require-evidence` and something not proven), or no failed
    /// case got an answer to judge ([`RunResults::could_not_be_judged`]).
    CannotRun,
}

impl Verdict {
    pub fn of(results: &RunResults) -> Verdict {
        let named = results.suites_named;
        if results
            .diagnoses()
            .iter()
            .any(|d| d.cause.blocks_the_run(named))
            || results.could_not_be_judged().is_some()
        {
            Verdict::CannotRun
        } else if results.count(CaseOutcome::Failed) > 0 {
            Verdict::Drift
        } else if results.require_evidence && !results.evidence().unproven().is_empty() {
            Verdict::CannotRun
        } else {
            Verdict::Conforms
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Verdict::Conforms => "conforms",
            Verdict::Drift => "drift",
            Verdict::CannotRun => "cannot run",
        }
    }

    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Conforms => 0,
            Verdict::Drift => 101,
            Verdict::CannotRun => 1,
        }
    }
}

/// The report of `results` as Markdown, every text masked by `redactor`: a section each
/// (verdict, facts, diagnoses, findings, failed cases, notices), findings before any
/// per-case detail.
pub fn render(results: &RunResults, redactor: &Redactor) -> String {
    let findings = results.findings();
    let mut out = String::new();
    section_verdict(&mut out, results);
    section_facts(&mut out, results, redactor);
    section_diagnoses(&mut out, results, redactor);
    out.push_str(&redactor.redact(&super::evidence::markdown(results)));
    section_findings(&mut out, &findings, redactor);
    section_failed_cases(&mut out, results, &findings, redactor);
    section_notices(&mut out, results, redactor);
    // Every piece was masked before it was cut or escaped; this catches anything else.
    redactor.redact(&out)
}

fn section_verdict(out: &mut String, results: &RunResults) {
    let verdict = Verdict::of(results);
    let _ = writeln!(
        out,
        "## list-contract: {} (exit {})\n",
        verdict.heading(),
        verdict.exit_code()
    );
}

fn section_facts(out: &mut String, results: &RunResults, redactor: &Redactor) {
    let _ = writeln!(
        out,
        "- target: {}{}\n- fail on: {}{}",
        code(&cell(&redactor.redact(&results.target), MAX_CELL_CHARS)),
        if results.reference_mock {
            " (the embedded reference mock)"
        } else {
            ""
        },
        results.fail_on.name(),
        if results.auth_unchecked.is_some() {
            "\n- auth: **not checked** (no credential was sent)"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "- {}", results.counts_line());
    if let Some(pace) = results.pace_line() {
        let _ = writeln!(out, "- {pace}");
    }
    if let Some(why) = &results.stopped {
        let _ = writeln!(out, "- **the run stopped**: {}", redactor.redact(why));
    }
    out.push('\n');
}

fn section_diagnoses(out: &mut String, results: &RunResults, redactor: &Redactor) {
    for d in results.diagnoses() {
        let _ = writeln!(
            out,
            "> **diagnosis**: {}\n",
            cell(&redactor.redact(&d.message), usize::MAX)
        );
    }
}

/// Every distinct finding (up to [`MAX_ROWS`]), each once with its count and first
/// occurrence, after a count per invariant.
fn section_findings(out: &mut String, findings: &[Finding], redactor: &Redactor) {
    let breaking = crate::finding::breaking(findings);
    if breaking.is_empty() {
        return;
    }
    let mask = |s: &str| redactor.redact(s);
    let _ = writeln!(out, "### Findings\n");
    out.push_str("| invariant | findings | violations |\n|---|---|---|\n");
    for (invariant, n, occurrences) in crate::finding::by_invariant(findings) {
        let _ = writeln!(out, "| {} | {n} | {occurrences} |", code(invariant.name()));
    }
    out.push('\n');
    out.push_str("| # | finding | violations | cases | first seen | expected | actual |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    for f in breaking.iter().take(MAX_ROWS) {
        let (first, expected, actual) = match f.first() {
            Some(e) => (
                place(&e.case, &e.violation, redactor),
                code(&cell(&mask(&e.violation.expected), MAX_CELL_CHARS)),
                code(&cell(&mask(&e.violation.actual), MAX_CELL_CHARS)),
            ),
            None => Default::default(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {first} | {expected} | {actual} |",
            f.id,
            code(&cell(
                &mask(&format!("{}: {}", f.key.suite, f.key.label())),
                MAX_CELL_CHARS
            )),
            f.occurrences,
            f.cases.len(),
        );
    }
    if breaking.len() > MAX_ROWS {
        let _ = writeln!(
            out,
            "\n… and {} more finding(s) left out (the JSON report lists them all).",
            breaking.len() - MAX_ROWS
        );
    }
    out.push('\n');
}

/// A line per failed case: its findings by id, with counts.
fn section_failed_cases(
    out: &mut String,
    results: &RunResults,
    findings: &[Finding],
    redactor: &Redactor,
) {
    let failed: Vec<&CaseResult> = results
        .cases
        .iter()
        .filter(|c| c.outcome == CaseOutcome::Failed)
        .collect();
    if failed.is_empty() {
        return;
    }
    let _ = writeln!(out, "### Failed cases\n");
    for case in failed.iter().take(MAX_ROWS) {
        let refs: Vec<String> = RunResults::case_findings(case, findings)
            .into_iter()
            .map(|(id, n)| format!("#{id} ×{n}"))
            .collect();
        let _ = writeln!(
            out,
            "- {}: {}",
            code(&cell(&redactor.redact(&case.name), MAX_CELL_CHARS)),
            if refs.is_empty() {
                "failed (see its log)".to_owned()
            } else {
                refs.join(", ")
            }
        );
    }
    if failed.len() > MAX_ROWS {
        let _ = writeln!(out, "- … and {} more", failed.len() - MAX_ROWS);
    }
    out.push('\n');
}

fn section_notices(out: &mut String, results: &RunResults, redactor: &Redactor) {
    let mask = |s: &str| redactor.redact(s);
    let notices = results.notices();
    if notices.is_empty() {
        return;
    }
    let (fields, headers) = results.notice_counts();
    let _ = writeln!(
        out,
        "### Notices (additive drift{})\n\n{} new field(s), {} new header(s): {}{}\n",
        match results.fail_on {
            Severity::Additive => ": failing the run (`--fail-on additive`)",
            Severity::Breaking => ": not failing the run",
        },
        fields,
        headers,
        notices
            .iter()
            .take(MAX_NOTICES)
            .map(|(case, n)| format!(
                "{} ({})",
                code(&cell(&mask(&n.name), MAX_CELL_CHARS)),
                cell(&mask(case), MAX_CELL_CHARS)
            ))
            .collect::<Vec<_>>()
            .join(", "),
        if notices.len() > MAX_NOTICES {
            format!(", and {} more", notices.len() - MAX_NOTICES)
        } else {
            String::new()
        }
    );
}

/// Writes the report to `path`.
pub fn write(results: &RunResults, redactor: &Redactor, path: &Path) -> Result<(), String> {
    std::fs::write(path, render(results, redactor)).map_err(|e| {
        format!(
            "cannot write the Markdown report to {}: {e}",
            path.display()
        )
    })
}

/// Where a violation was seen: the walk's page and cursor, or the request, and the JSON
/// pointer (with the schema keyword for `schema`).
fn place(case: &str, v: &Violation, redactor: &Redactor) -> String {
    let mask = |s: &str| redactor.redact(s);
    let mut parts = vec![cell(&mask(case), MAX_CELL_CHARS)];
    match (&v.page, &v.request) {
        (Some(page), _) => parts.push(cell(&mask(&page.to_string()), MAX_CELL_CHARS)),
        (None, Some(request)) => parts.push(cell(&mask(request), MAX_CELL_CHARS)),
        (None, None) => {}
    }
    let mut out = parts.iter().map(|p| code(p)).collect::<Vec<_>>();
    if !v.pointer.is_empty() {
        out.push(format!(
            "at {}",
            code(&cell(&mask(&v.pointer), MAX_CELL_CHARS))
        ));
    }
    if let Some(schema) = &v.schema_path {
        out.push(format!(
            "schema {}",
            code(&cell(&mask(schema), MAX_CELL_CHARS))
        ));
    }
    if out.is_empty() {
        "the whole response".to_owned()
    } else {
        out.join(" ")
    }
}

/// `text` on one line, at most `max` characters (cut with `…`), with `|` escaped so that it
/// stays inside its table cell (GitHub unescapes `\|` even inside code spans).
fn cell(text: &str, max: usize) -> String {
    let one_line = text.trim().replace("\r\n", "\n").replace('\n', " ⏎ ");
    let cut = match one_line.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &one_line[..at]),
        None => one_line,
    };
    cut.replace('|', "\\|")
}

/// `text` as a code span, its delimiter longer than any run of backticks inside it.
fn code(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_stay_on_one_line_and_in_their_column() {
        assert_eq!(cell("a|b\nc", 100), "a\\|b ⏎ c");
        assert_eq!(cell("ééééé", 3), "ééé…");
        assert_eq!(code("x`y"), "``x`y``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("plain"), "`plain`");
    }
}
