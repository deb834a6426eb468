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

use std::collections::HashMap;
use std::fmt::Write as _;

use super::{CaseOutcome, RunResults};
use crate::outcome::CaseRun;
use crate::redact::Redactor;
use crate::violation::{AdditionKind, Notice, PageRef, Severity, Violation};

/// Violations of one kind beyond this many, on one request, are summarised on one line.
const SHOWN_ALIKE: usize = 3;
/// Requests whose violations are all alike beyond this many are summarised on one line.
const SHOWN_ALIKE_REQUESTS: usize = 3;

/// Renders every violation of a failed case, secrets masked.
///
/// Violations are grouped under the request (and walk page) that produced them; beyond
/// three violations of one kind on one request, the rest are listed by location on one line,
/// and beyond three requests with violations alike, the rest are listed by page.
pub fn render_failure(name: &str, description: &str, run: &CaseRun, redactor: &Redactor) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", description.trim());
    let _ = writeln!(
        out,
        "{} violation(s) in {}",
        run.violations.len(),
        run.cost()
    );

    let groups = by_request(&run.violations);
    if !run.retries.is_empty() {
        let _ = writeln!(out, "\nretries:");
        for (request, retry) in &run.retries {
            let _ = writeln!(out, "  {request}: {retry}");
        }
    }
    // Pages that break the same rules in the same places are shown a few times, then listed.
    let mut shown: Vec<(Vec<Kind>, usize)> = Vec::new();
    let mut hidden: Vec<(Vec<Kind>, Vec<Place>)> = Vec::new();
    for (request, page, violations) in groups {
        let kinds: Vec<Kind> = violations.iter().map(|v| Kind::of(v)).collect();
        let seen = shown.iter_mut().find(|(k, _)| *k == kinds);
        if let Some((_, count)) = &seen
            && *count >= SHOWN_ALIKE_REQUESTS
        {
            let place = match page {
                Some(p) => Place::Page(p),
                None => Place::Request(request.unwrap_or("(no request)")),
            };
            match hidden.iter_mut().find(|(k, _)| *k == kinds) {
                Some((_, places)) => places.push(place),
                None => hidden.push((kinds, vec![place])),
            }
            continue;
        }
        match seen {
            Some((_, count)) => *count += 1,
            None => shown.push((kinds, 1)),
        }
        if !out.ends_with("\n\n") {
            let _ = writeln!(out);
        }
        let _ = match (page, request) {
            (Some(page), Some(request)) => writeln!(out, "{name}: {page} ({request})"),
            (Some(page), None) => writeln!(out, "{name}: {page}"),
            (None, Some(request)) => writeln!(out, "{name}: {request}"),
            (None, None) => writeln!(out, "{name}:"),
        };
        render_group(&mut out, &violations);
    }
    if !hidden.is_empty() && !out.ends_with("\n\n") {
        let _ = writeln!(out);
    }
    for (kinds, places) in hidden {
        let mut invariants: Vec<&str> = Vec::new();
        for name in kinds.iter().map(|k| k.invariant.name()) {
            if !invariants.contains(&name) {
                invariants.push(name);
            }
        }
        let _ = writeln!(
            out,
            "… and {} more request(s) with the same `{}` violations as above: {}",
            places.len(),
            invariants.join("`, `"),
            describe_places(&places)
        );
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

/// The few lines that end a run: cases, what they cost, violations by invariant, and the
/// additive drift seen, each field or header once with an example.
///
/// ```text
/// summary: 17 case(s): 16 passed, 1 failed, 0 ignored; 314 page(s) walked, 322 request(s), 0 retries
/// violations by invariant: schema 1, last_id 3
/// notices (additive drift: not failing the run; `--fail-on additive` fails on it): 1 new field, 0 new headers
///   list_batches::limit_1: new field:  data[].priority at /data/0/priority (GET …)
/// ```
pub fn render_summary(results: &RunResults, redactor: &Redactor) -> String {
    let mut out = String::new();
    for diagnosis in results.diagnoses() {
        let _ = writeln!(out, "diagnosis: {}", diagnosis.message);
    }
    let _ = writeln!(out, "summary: {}", results.counts_line());
    if let Some(how) = results.auth_unchecked {
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
    let by_invariant = results.violations_by_invariant();
    if !by_invariant.is_empty() {
        let counts: Vec<String> = by_invariant
            .iter()
            .map(|(invariant, n)| format!("{invariant} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "violations by invariant (as the cases report them; a request two cases share counts for each): {}",
            counts.join(", ")
        );
    }
    let notices = results.notices();
    if !notices.is_empty() {
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
    redactor.redact(out.trim_end())
}

/// Where a summarised request was sent.
enum Place<'v> {
    Page(&'v PageRef),
    Request(&'v str),
}

/// `walk limit=1 pages 4-9, 12; walk limit=7 pages 4-37 and its end probe; GET …`
fn describe_places(places: &[Place]) -> String {
    const LISTED_REQUESTS: usize = 3;
    let mut walks: Vec<(&str, Vec<u32>, bool)> = Vec::new();
    let mut requests: Vec<&str> = Vec::new();
    for place in places {
        match place {
            Place::Page(p) => {
                let i = match walks.iter().position(|w| w.0 == p.walk) {
                    Some(i) => i,
                    None => {
                        walks.push((&p.walk, Vec::new(), false));
                        walks.len() - 1
                    }
                };
                if p.probe {
                    walks[i].2 = true;
                } else {
                    walks[i].1.push(p.page);
                }
            }
            Place::Request(r) => requests.push(r),
        }
    }
    let mut parts: Vec<String> = walks
        .into_iter()
        .map(|(walk, pages, probe)| {
            let mut text = format!("walk {walk}");
            if !pages.is_empty() {
                let word = if pages.len() == 1 { "page" } else { "pages" };
                text.push_str(&format!(" {word} {}", ranges(&pages)));
            }
            if probe {
                text.push_str(" and its end probe");
            }
            text
        })
        .collect();
    parts.extend(
        requests
            .iter()
            .take(LISTED_REQUESTS)
            .map(|r| (*r).to_owned()),
    );
    if requests.len() > LISTED_REQUESTS {
        parts.push("…".to_owned());
    }
    parts.join("; ")
}

/// `[4, 5, 6, 9]` → `4-6, 9`.
fn ranges(numbers: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let mut j = i;
        while j + 1 < numbers.len() && numbers[j + 1] == numbers[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            numbers[i].to_string()
        } else {
            format!("{}-{}", numbers[i], numbers[j])
        });
        i = j + 1;
    }
    out.join(", ")
}

fn render_group(out: &mut String, violations: &[&Violation]) {
    let mut shown: Vec<(&Violation, usize)> = Vec::new();
    let mut hidden: Vec<(&Violation, Vec<&str>)> = Vec::new();
    for v in violations {
        match shown.iter_mut().find(|(s, _)| same_kind(s, v)) {
            Some((_, count)) if *count >= SHOWN_ALIKE => {
                match hidden.iter_mut().find(|(h, _)| same_kind(h, v)) {
                    Some((_, at)) => at.push(&v.pointer),
                    None => hidden.push((v, vec![&v.pointer])),
                }
            }
            Some((_, count)) => {
                *count += 1;
                render_one(out, v);
            }
            None => {
                shown.push((v, 1));
                render_one(out, v);
            }
        }
    }
    const LISTED: usize = 5;
    for (v, at) in hidden {
        let listed: Vec<&str> = at.iter().take(LISTED).copied().collect();
        let _ = writeln!(
            out,
            "  … and {} more `{}` violation(s) like the above at {}{}",
            at.len(),
            v.invariant,
            listed.join(", "),
            if at.len() > LISTED { ", …" } else { "" }
        );
    }
}

type Group<'v> = (Option<&'v str>, Option<&'v PageRef>, Vec<&'v Violation>);

/// The violations grouped by the request (and walk page) they came from, in order of first
/// appearance.
fn by_request(violations: &[Violation]) -> Vec<Group<'_>> {
    let mut index: HashMap<(Option<&str>, Option<&PageRef>), usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for v in violations {
        let key = (v.request.as_deref(), v.page.as_ref());
        match index.get(&key) {
            Some(&i) => groups[i].2.push(v),
            None => {
                index.insert(key, groups.len());
                groups.push((key.0, key.1, vec![v]));
            }
        }
    }
    groups
}

/// What makes violations on different pages "the same": the rule and the place, not the
/// values (which name each page's own ids).
#[derive(PartialEq)]
struct Kind<'v> {
    invariant: crate::violation::Invariant,
    pointer: &'v str,
    schema_path: Option<&'v str>,
}

impl<'v> Kind<'v> {
    fn of(v: &'v Violation) -> Self {
        Kind {
            invariant: v.invariant,
            pointer: &v.pointer,
            schema_path: v.schema_path.as_deref(),
        }
    }
}

fn same_kind(a: &Violation, b: &Violation) -> bool {
    a.invariant == b.invariant
        && a.request == b.request
        && a.schema_path == b.schema_path
        && a.expected == b.expected
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
            "One item.\n1 violation(s) in 1 request\n\n\
             list_batches::limit_1: GET http://h/v1/batches?limit=1\n\
             \x20 invariant: page_size (a page holds at most `limit` items)\n\
             \x20 at:        /data\n\
             \x20 expected:  at most 1 items\n\
             \x20 actual:    2 items"
        );
    }

    #[test]
    fn many_alike_violations_are_summarised_not_dropped() {
        let vs: Vec<Violation> = (0..10)
            .map(|i| {
                Violation::new(
                    Invariant::Schema,
                    format!("/data/{i}/created_at"),
                    "type integer",
                    "\"1\"",
                )
            })
            .collect();
        let text = render_failure("c", "d", &run(vs), &Redactor::default());
        assert_eq!(text.matches("invariant: schema").count(), SHOWN_ALIKE);
        assert!(text.contains("… and 7 more `schema` violation(s) like the above at /data/3/created_at, /data/4/created_at"), "{text}");
        assert!(text.starts_with("d\n10 violation(s)"), "{text}");
    }

    #[test]
    fn pages_alike_are_shown_three_times_then_listed_as_ranges() {
        let vs: Vec<Violation> = [1, 2, 3, 4, 5, 6, 9]
            .into_iter()
            .map(|page| {
                let mut v = Violation::new(
                    Invariant::Schema,
                    "/data/0/created_at",
                    "type integer",
                    page.to_string(),
                );
                v.request = Some(format!("GET http://h/v1/batches?limit=1&p={page}"));
                v.on_page(&PageRef {
                    walk: "limit=1".into(),
                    page,
                    cursor: None,
                    probe: page == 9,
                    param: None,
                })
            })
            .collect();
        let text = render_failure("c", "d", &run(vs), &Redactor::default());
        assert_eq!(
            text.matches("invariant: schema").count(),
            SHOWN_ALIKE_REQUESTS
        );
        assert!(
            text.contains("\nc: walk limit=1, page 3 (GET http://h/v1/batches?limit=1&p=3)\n"),
            "{text}"
        );
        assert!(
            text.ends_with("\n\n… and 4 more request(s) with the same `schema` violations as above: walk limit=1 pages 4-6 and its end probe"),
            "{text}"
        );
        assert_eq!(ranges(&[1, 3, 4, 5, 8, 9]), "1, 3-5, 8-9");
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
