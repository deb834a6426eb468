//! Evidence and diagnoses of the server's bug, rendered for each report: one function per
//! format, each hooked into its reporter with a line or two. The data is
//! [`crate::evidence`] (what the run proved) and [`crate::evidence::server_bug`] (the likely cause of a
//! drift, in the server's terms).

use std::fmt::Write as _;

use serde::Serialize;

use super::RunResults;
use crate::evidence::server_bug::ServerBug;
use crate::evidence::{SuiteEvidence, Unproven};

/// The terminal's lines: `evidence: suite: …`, `not proven: suite: what (why)`, and
/// `likely server bug: …` for each diagnosis of the server's bug.
pub fn human(results: &RunResults) -> String {
    let mut out = String::new();
    for bug in results.server_bugs() {
        let _ = writeln!(out, "likely server bug: {}", bug.message);
    }
    let evidence = results.evidence();
    for suite in &evidence.suites {
        let _ = writeln!(out, "evidence: {}: {}", suite.suite, suite.line());
    }
    for u in evidence.unproven() {
        let _ = writeln!(out, "{}", not_proven(&u, results.require_evidence));
    }
    out
}

/// `not proven: list_batches: paging (the listing is empty: …)`, and what
/// `--require-evidence` makes of it.
fn not_proven(u: &Unproven, required: bool) -> String {
    format!(
        "not proven: {}: {} ({}){}",
        u.suite,
        u.what,
        u.why,
        if required {
            "; --require-evidence: the run fails (exit 1)"
        } else {
            ""
        }
    )
}

/// The Markdown sections: likely server bugs, then evidence (a line per suite) and what was
/// not proven.
pub fn markdown(results: &RunResults) -> String {
    let mut out = String::new();
    let bugs = results.server_bugs();
    if !bugs.is_empty() {
        out.push_str("### Likely server bugs\n\n");
        for bug in &bugs {
            let _ = writeln!(out, "- {}", one_line(&bug.message));
        }
        out.push('\n');
    }
    let evidence = results.evidence();
    if evidence.suites.is_empty() {
        return out;
    }
    out.push_str("### Evidence\n\n");
    for suite in &evidence.suites {
        let _ = writeln!(out, "- `{}`: {}", suite.suite, one_line(&suite.line()));
    }
    out.push('\n');
    let unproven = evidence.unproven();
    if !unproven.is_empty() {
        out.push_str("**Not proven**\n\n");
        for u in &unproven {
            let _ = writeln!(out, "- `{}`: {}: {}", u.suite, u.what, one_line(&u.why));
        }
        if results.require_evidence {
            out.push_str("\n`--require-evidence`: the run fails (exit 1).\n");
        }
        out.push('\n');
    }
    out
}

fn one_line(s: &str) -> String {
    s.replace('\n', " ")
}

/// The JSON report's `evidence`: per suite what was proven, and what was not.
#[derive(Debug, Clone, Serialize)]
pub struct JsonEvidence {
    pub suites: Vec<SuiteEvidence>,
    pub not_proven: Vec<Unproven>,
    pub require_evidence: bool,
    pub server_bugs: Vec<ServerBug>,
}

/// The JSON report's `evidence` object.
pub fn json(results: &RunResults) -> serde_json::Value {
    let evidence = results.evidence();
    let not_proven = evidence.unproven();
    serde_json::to_value(JsonEvidence {
        suites: evidence.suites,
        not_proven,
        require_evidence: results.require_evidence,
        server_bugs: results.server_bugs(),
    })
    .unwrap_or_default()
}

/// The JUnit report's properties: `evidence` per suite, `not_proven` and `server_bug` each.
pub fn junit(results: &RunResults) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for bug in results.server_bugs() {
        out.push(("server_bug", bug.message));
    }
    let evidence = results.evidence();
    for suite in &evidence.suites {
        out.push(("evidence", format!("{}: {}", suite.suite, suite.line())));
    }
    for u in evidence.unproven() {
        out.push(("not_proven", format!("{}: {} ({})", u.suite, u.what, u.why)));
    }
    out
}
