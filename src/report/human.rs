//! The failure layout shown under a failed trial, modelled on hurl's:
//!
//! ```text
//! list_batches::limit_1: GET http://127.0.0.1:41234/v1/batches?limit=1
//!   invariant: page_size (a page holds at most `limit` items)
//!   at:        /data
//!   expected:  at most 1 items
//!   actual:    2 items
//! ```
//!
//! Violations found while walking name their page in the heading:
//! `list_batches::walk_limit_7: walk limit=7, page 3, after=batch_9f… (GET …)`.

use std::fmt::Write as _;

use super::{CaseOutcome, RunResults};
use crate::finding::Finding;
use crate::outcome::{CaseRun, plural};
use crate::redact::Redactor;
use crate::violation::{AdditionKind, Invariant, Notice, PageRef, Severity, Violation};

/// Findings of a failed case whose first violation is shown in full; the rest are counted.
pub const SHOWN_FINDINGS: usize = 3;

/// Renders a failed case, secrets masked: one line of counts, then the first violation of
/// each of its first [`SHOWN_FINDINGS`] findings in full, under the request (and walk page)
/// that produced it, then one line per finding for the rest: `… and 1223 more of finding
/// `schema at /data/*/created_at (…)``.
///
/// What a case keeps is bounded (see [`crate::finding`]), so this text is too.
pub fn render_failure(name: &str, description: &str, run: &CaseRun, redactor: &Redactor) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", description.trim());
    let findings: Vec<_> = run.violations.findings().collect();
    let _ = writeln!(
        out,
        "{} violation(s) in {}: {}",
        run.violations.total(),
        run.cost(),
        plural(findings.len() as u32, "finding")
    );
    if !run.retries.is_empty() {
        let _ = writeln!(out, "\nretries:");
        for (request, retry) in &run.retries {
            let _ = writeln!(out, "  {request}: {retry}");
        }
        let _ = writeln!(out);
    }
    // The first violation of each shown finding, grouped under its request.
    let mut shown: Vec<&Violation> = Vec::new();
    for (key, _) in findings.iter().take(SHOWN_FINDINGS) {
        if let Some(v) = run
            .violations
            .iter()
            .find(|v| run.violations.finding_of(v) == **key)
        {
            shown.push(v);
        }
    }
    for (i, (request, page, violations)) in by_request(shown).into_iter().enumerate() {
        // Requests apart by a blank line; the first right under the counts (or retries).
        if i > 0 && !out.ends_with("\n\n") {
            let _ = writeln!(out);
        }
        let _ = match (page, request) {
            (Some(page), Some(request)) => writeln!(out, "{name}: {page} ({request})"),
            (Some(page), None) => writeln!(out, "{name}: {page}"),
            (None, Some(request)) => writeln!(out, "{name}: {request}"),
            (None, None) => writeln!(out, "{name}:"),
        };
        for v in violations {
            render_one(&mut out, v);
        }
    }
    let mut rest = String::new();
    for (i, (key, tallied)) in findings.iter().enumerate() {
        let n = tallied.occurrences();
        let line = if i < SHOWN_FINDINGS {
            if n <= 1 {
                continue;
            }
            format!("… and {} more of finding `{}`", n - 1, key.label())
        } else {
            let first = tallied.examples.first();
            format!(
                "… {n} of finding `{}`{}",
                key.label(),
                first.map_or(String::new(), |v| format!(
                    ": expected {}, actual {}",
                    v.expected, v.actual
                ))
            )
        };
        let _ = writeln!(rest, "{line}");
    }
    if !rest.is_empty() {
        // Right under the violations shown.
        while out.ends_with("\n\n") {
            out.pop();
        }
        out.push_str(&rest);
    }
    redactor.redact(out.trim_end())
}

/// Renders a case's additive drift: each new field with where it was first seen, each new
/// header, secrets masked.
///
/// ```text
/// list_batches::limit_1: 2 new field(s) or header(s) (additive drift: a notice; `--fail-on additive` fails on it)
///   new field:  data[].priority at /data/0/priority (GET http://127.0.0.1:41234/v1/batches?limit=1)
///   new header: x-batch-region (GET http://127.0.0.1:41234/v1/batches?limit=1)
/// ```
pub fn render_notices(
    name: &str,
    notices: &[Notice],
    fail_on: Severity,
    redactor: &Redactor,
) -> String {
    let mut out = String::new();
    let verdict = match fail_on {
        Severity::Additive => "additive drift: fails the run (`--fail-on additive`)",
        Severity::Breaking => "additive drift: a notice; `--fail-on additive` fails on it",
    };
    let _ = writeln!(
        out,
        "{name}: {} new field(s) or header(s) ({verdict})",
        notices.len()
    );
    for notice in notices {
        let _ = writeln!(out, "  {}", describe_notice(notice));
    }
    redactor.redact(out.trim_end())
}

/// `new field:  data[].priority at /data/0/priority (walk limit=7, page 1 (GET …))`
fn describe_notice(notice: &Notice) -> String {
    let mut text = match notice.kind {
        AdditionKind::Field => format!("new field:  {}", notice.name),
        AdditionKind::Header => format!("new header: {}", notice.name),
    };
    if let Some(pointer) = &notice.pointer {
        let _ = write!(text, " at {pointer}");
    }
    let _ = match (&notice.page, &notice.request) {
        (Some(page), Some(request)) => write!(text, " ({page} ({request}))"),
        (Some(page), None) => write!(text, " ({page})"),
        (None, Some(request)) => write!(text, " ({request})"),
        (None, None) => Ok(()),
    };
    text
}

/// Breaking findings listed in the summary at most; the rest are counted (the JSON report
/// lists them all).
pub const SUMMARY_FINDINGS: usize = 15;

/// The few lines that end a run, a section each: diagnoses, counts, auth, the findings (each
/// once: counts, first location, expected and actual), and the additive drift seen, each
/// field or header once with an example.
///
/// ```text
/// summary: 17 case(s): 16 passed, 1 failed, 0 ignored; 314 page(s) walked, 322 request(s), 0 retries
/// findings: 1 breaking (violations by invariant: schema 1224 in 1 finding(s))
///   #1 list_batches: schema at /data/*/created_at (batch.json#/properties/created_at/type): 1224 violation(s) on 1224 item(s), 314 request(s) (310 page(s)), 13 case(s)
///      expected of type "integer", actual "1763990200"
///      first: list_batches::cross_walk, walk limit=1, page 1 (GET …)
/// ```
pub fn render_summary(results: &RunResults, redactor: &Redactor) -> String {
    let findings = results.findings();
    let mut out = String::new();
    summary_diagnoses(&mut out, results);
    out.push_str(&super::evidence::human(results));
    summary_counts(&mut out, results);
    summary_auth(&mut out, results);
    summary_findings(&mut out, &findings);
    summary_notices(&mut out, results);
    redactor.redact(out.trim_end())
}

fn summary_diagnoses(out: &mut String, results: &RunResults) {
    for diagnosis in results.diagnoses() {
        let _ = writeln!(out, "diagnosis: {}", diagnosis.message);
    }
}

fn summary_counts(out: &mut String, results: &RunResults) {
    let _ = writeln!(out, "summary: {}", results.counts_line());
    if let Some(pace) = results.pace_line() {
        let _ = writeln!(out, "{pace}");
    }
}

fn summary_auth(out: &mut String, results: &RunResults) {
    let Some(how) = results.auth_unchecked else {
        return;
    };
    let ignored: Vec<&str> = results
        .cases
        .iter()
        .filter(|c| {
            c.outcome == CaseOutcome::Ignored
                && c.message
                    .as_deref()
                    .is_some_and(|m| m.starts_with("auth not checked"))
        })
        .map(|c| c.name.as_str())
        .collect();
    let _ = writeln!(
        out,
        "auth: NOT checked ({how}: no credential was sent){}",
        if ignored.is_empty() {
            String::new()
        } else {
            format!("; ignored: {}", ignored.join(", "))
        }
    );
}

/// `findings: 2 breaking (violations by invariant: schema 1224 in 1 finding(s), last_id 109 in 1 finding(s))`, then each breaking finding
/// once, most severe and broadest first.
fn summary_findings(out: &mut String, findings: &[Finding]) {
    let breaking = crate::finding::breaking(findings);
    if breaking.is_empty() {
        return;
    }
    let counts: Vec<String> = crate::finding::by_invariant(findings)
        .iter()
        .map(|(invariant, n, occurrences)| format!("{invariant} {occurrences} in {n} finding(s)"))
        .collect();
    // A finding that says a case could not be judged (no usable answer, a budget hit) is not
    // drift: counted apart, so the line never calls a run that judged nothing "breaking".
    let unjudged = breaking
        .iter()
        .filter(|f| f.key.invariant.is_some_and(Invariant::unjudged))
        .count();
    let heading = match (breaking.len() - unjudged, unjudged) {
        (drift, 0) => format!("{drift} breaking"),
        (0, unjudged) => format!("{unjudged} that could not be judged"),
        (drift, unjudged) => format!("{drift} breaking, {unjudged} that could not be judged"),
    };
    let _ = writeln!(
        out,
        "findings: {heading} (violations by invariant: {})",
        counts.join(", ")
    );
    for f in breaking.iter().take(SUMMARY_FINDINGS) {
        let _ = writeln!(out, "  #{} {}", f.id, finding_line(f));
        if let Some(first) = f.first() {
            let v = &first.violation;
            let _ = writeln!(out, "     expected {}, actual {}", v.expected, v.actual);
            let _ = writeln!(out, "     first: {}", location(&first.case, v));
        }
    }
    if breaking.len() > SUMMARY_FINDINGS {
        let _ = writeln!(
            out,
            "  … and {} more finding(s) (the JSON and Markdown reports list them all)",
            breaking.len() - SUMMARY_FINDINGS
        );
    }
}

/// `list_batches: schema at /data/*/created_at (…): 1224 violation(s) on 1224 item(s), 314
/// request(s) (310 page(s)), 13 case(s)`
pub fn finding_line(f: &Finding) -> String {
    let mut counts = vec![format!("{} violation(s)", f.occurrences)];
    if f.items > 0 {
        counts[0].push_str(&format!(" on {} item(s)", f.items));
    }
    if f.requests > 0 {
        let mut requests = format!("{} request(s)", f.requests);
        if f.pages > 0 {
            requests.push_str(&format!(" ({} walk page(s))", f.pages));
        }
        counts.push(requests);
    }
    counts.push(format!("{} case(s)", f.cases.len()));
    format!("{}: {}: {}", f.key.suite, f.key.label(), counts.join(", "))
}

/// Where a violation was: `list_batches::cross_walk, walk limit=1, page 1 (GET …), at
/// /data/0/created_at`.
pub fn location(case: &str, v: &Violation) -> String {
    let mut text = case.to_owned();
    match (&v.page, &v.request) {
        (Some(page), Some(request)) => text.push_str(&format!(", {page} ({request})")),
        (Some(page), None) => text.push_str(&format!(", {page}")),
        (None, Some(request)) => text.push_str(&format!(", {request}")),
        (None, None) => {}
    }
    if !v.pointer.is_empty() {
        text.push_str(&format!(", at {}", v.pointer));
    }
    text
}

fn summary_notices(out: &mut String, results: &RunResults) {
    let notices = results.notices();
    if notices.is_empty() {
        return;
    }
    let (fields, headers) = results.notice_counts();
    let verdict = match results.fail_on {
        Severity::Additive => "failing the run: `--fail-on additive`",
        Severity::Breaking => "not failing the run; `--fail-on additive` fails on it",
    };
    let _ = writeln!(
        out,
        "notices (additive drift: {verdict}): {fields} new field(s), {headers} new header(s)"
    );
    for (case, notice) in notices {
        let _ = writeln!(out, "  {case}: {}", describe_notice(notice));
    }
}

type Group<'v> = (Option<&'v str>, Option<&'v PageRef>, Vec<&'v Violation>);

/// The violations grouped by the request (and walk page) they came from, in order of first
/// appearance.
fn by_request(violations: Vec<&Violation>) -> Vec<Group<'_>> {
    let mut groups: Vec<Group> = Vec::new();
    for v in violations {
        let key = (v.request.as_deref(), v.page.as_ref());
        match groups.iter_mut().find(|g| (g.0, g.1) == key) {
            Some(g) => g.2.push(v),
            None => groups.push((key.0, key.1, vec![v])),
        }
    }
    groups
}

fn render_one(out: &mut String, v: &Violation) {
    // A violation with neither request nor pointer (a cross-walk difference, a case timeout)
    // is about no one response, so it has no location.
    let at = match (v.pointer.is_empty(), &v.request) {
        (false, _) => Some(v.pointer.as_str()),
        (true, Some(_)) => Some("(the whole response)"),
        (true, None) => None,
    };
    let _ = writeln!(
        out,
        "  invariant: {} ({})",
        v.invariant.name(),
        v.invariant.meaning()
    );
    if let Some(at) = at {
        let _ = writeln!(out, "  at:        {at}");
    }
    if let Some(schema) = &v.schema_path {
        let _ = writeln!(out, "  schema:    {schema}");
    }
    let _ = writeln!(out, "  expected:  {}", v.expected);
    let _ = writeln!(out, "  actual:    {}", v.actual);
    let _ = writeln!(out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Secret;
    use crate::violation::Invariant;

    fn run(violations: Vec<Violation>) -> CaseRun {
        CaseRun {
            violations: violations.into(),
            requests: 1,
            ..CaseRun::default()
        }
    }

    #[test]
    fn layout_names_invariant_location_expected_and_actual() {
        let mut v = Violation::new(Invariant::PageSize, "/data", "at most 1 items", "2 items");
        v.request = Some("GET http://h/v1/batches?limit=1".into());
        let text = render_failure(
            "list_batches::limit_1",
            "One item.",
            &run(vec![v]),
            &Redactor::default(),
        );
        assert_eq!(
            text,
            "One item.\n1 violation(s) in 1 request: 1 finding\n\
             list_batches::limit_1: GET http://h/v1/batches?limit=1\n\
             \x20 invariant: page_size (a page holds at most `limit` items)\n\
             \x20 at:        /data\n\
             \x20 expected:  at most 1 items\n\
             \x20 actual:    2 items"
        );
    }

    #[test]
    fn one_finding_is_shown_once_then_counted() {
        let vs: Vec<Violation> = (0..10)
            .map(|i| {
                let mut v = Violation::new(
                    Invariant::Schema,
                    format!("/data/{i}/created_at"),
                    "type integer",
                    "\"1\"",
                );
                v.schema_path = Some("batch.json#/properties/created_at/type".into());
                v.request = Some("GET http://h/v1/batches".into());
                v
            })
            .collect();
        let text = render_failure("c", "d", &run(vs), &Redactor::default());
        assert_eq!(text.matches("invariant: schema").count(), 1, "{text}");
        assert!(
            text.starts_with("d\n10 violation(s) in 1 request: 1 finding\n"),
            "{text}"
        );
        assert!(
            text.ends_with("\n  actual:    \"1\"\n… and 9 more of finding `schema at /data/*/created_at (batch.json#/properties/created_at/type)`"),
            "{text}"
        );
    }

    #[test]
    fn findings_beyond_the_shown_ones_get_a_line_each() {
        let vs: Vec<Violation> = (0..5)
            .map(|i| Violation::new(Invariant::Plausible, format!("/f{i}"), "x", format!("y{i}")))
            .collect();
        let text = render_failure("c", "d", &run(vs), &Redactor::default());
        assert_eq!(text.matches("invariant: plausible").count(), SHOWN_FINDINGS);
        assert!(
            text.contains("\n… 1 of finding `plausible at /f3`: expected x, actual y3\n"),
            "{text}"
        );
        assert!(
            text.ends_with("… 1 of finding `plausible at /f4`: expected x, actual y4"),
            "{text}"
        );
    }

    #[test]
    fn secrets_are_masked() {
        let v = Violation::new(Invariant::Status, "", "401", "200 with body sk-canary-123");
        let text = render_failure(
            "c",
            "d",
            &run(vec![v]),
            &Redactor::new([Secret::new("sk-canary-123")]),
        );
        assert!(
            !text.contains("sk-canary-123") && text.contains("***"),
            "{text}"
        );
    }
}
