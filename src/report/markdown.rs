//! The Markdown report (`--markdown FILE`, `CONTRACT_MARKDOWN`): the verdict, the counts and a
//! table of the failed invariants, for a person reading a CI page (a GitHub job summary:
//! `--markdown "$GITHUB_STEP_SUMMARY"`). The JSON and JUnit reports hold everything; this one
//! is bounded, since GitHub cuts a step summary at 1 MiB: at most [`MAX_ROWS`] rows, each cell
//! at most [`MAX_CELL_CHARS`] characters, and it says what it left out.

use std::fmt::Write as _;
use std::path::Path;

use super::{CaseOutcome, RunResults};
use crate::redact::Redactor;
use crate::violation::Violation;

/// Rows of the failed-invariant table at most; the rest are counted.
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
    /// Exit 1: the endpoint was not checked (unreachable, or only "try again" answers), or no
    /// failed case got an answer to judge ([`RunResults::could_not_be_judged`]).
    CannotRun,
}

impl Verdict {
    pub fn of(results: &RunResults) -> Verdict {
        if results.diagnoses().iter().any(|d| d.cause.blocks_the_run())
            || results.could_not_be_judged().is_some()
        {
            Verdict::CannotRun
        } else if results.count(CaseOutcome::Failed) > 0 {
            Verdict::Drift
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

    fn exit_code(self) -> u8 {
        match self {
            Verdict::Conforms => 0,
            Verdict::Drift => 101,
            Verdict::CannotRun => 1,
        }
    }
}

/// The report of `results` as Markdown, every text masked by `redactor`.
pub fn render(results: &RunResults, redactor: &Redactor) -> String {
    let mask = |s: &str| redactor.redact(s);
    let verdict = Verdict::of(results);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## list-contract: {} (exit {})\n",
        verdict.heading(),
        verdict.exit_code()
    );
    let _ = writeln!(
        out,
        "- target: {}{}\n- fail on: {}{}",
        code(&cell(&mask(&results.target), MAX_CELL_CHARS)),
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
    let _ = writeln!(out, "- {}\n", results.counts_line());
    for d in results.diagnoses() {
        let _ = writeln!(
            out,
            "> **diagnosis**: {}\n",
            cell(&mask(&d.message), usize::MAX)
        );
    }

    let violations: Vec<(&str, &Violation)> = results
        .cases
        .iter()
        .filter(|c| c.outcome == CaseOutcome::Failed)
        .flat_map(|c| c.run.violations.iter().map(|v| (c.name.as_str(), v)))
        .collect();
    if !violations.is_empty() {
        out.push_str("### Failed invariants\n\n");
        out.push_str("| case | invariant | where | expected | actual |\n");
        out.push_str("|---|---|---|---|---|\n");
        for (case, v) in violations.iter().take(MAX_ROWS) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                code(&mask(case)),
                code(v.invariant.name()),
                place(v, redactor),
                code(&cell(&mask(&v.expected), MAX_CELL_CHARS)),
                code(&cell(&mask(&v.actual), MAX_CELL_CHARS)),
            );
        }
        if violations.len() > MAX_ROWS {
            let _ = writeln!(
                out,
                "\n… and {} more violation(s) left out (the JSON and JUnit reports list them all).",
                violations.len() - MAX_ROWS
            );
        }
        out.push('\n');
    }

    let notices = results.notices();
    if !notices.is_empty() {
        let (fields, headers) = results.notice_counts();
        let _ = writeln!(
            out,
            "### Notices (additive drift{})\n\n{} new field(s), {} new header(s): {}{}\n",
            match results.fail_on {
                crate::violation::Severity::Additive => ": failing the run (`--fail-on additive`)",
                crate::violation::Severity::Breaking => ": not failing the run",
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
    // Every piece was masked before it was cut or escaped; this catches anything else.
    redactor.redact(&out)
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
fn place(v: &Violation, redactor: &Redactor) -> String {
    let mask = |s: &str| redactor.redact(s);
    let mut parts = Vec::new();
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
