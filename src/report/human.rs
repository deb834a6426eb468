//! The failure layout shown under a failed trial, modelled on hurl's:
//!
//! ```text
//! list_batches::limit_1: GET http://127.0.0.1:41234/v1/batches?limit=1
//!   invariant: page_size (a page holds at most `limit` items)
//!   at:        /data
//!   expected:  at most 1 items
//!   actual:    2 items
//! ```

use std::fmt::Write as _;

use crate::http::Redactor;
use crate::runner::CaseRun;
use crate::violation::Violation;

/// Violations of one kind beyond this many, on one request, are summarised on one line.
const SHOWN_ALIKE: usize = 3;

/// Renders every violation of a failed case, secrets masked.
///
/// Violations are grouped under the request that produced them; beyond [`SHOWN_ALIKE`]
/// violations of one kind on one request, the rest are listed by location on one line.
pub fn render_failure(name: &str, description: &str, run: &CaseRun, redactor: &Redactor) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", description.trim());
    let _ = writeln!(
        out,
        "{} violation(s) in {} request(s){}",
        run.violations.len(),
        run.requests,
        match run.retries.len() {
            0 => String::new(),
            n => format!(", {n} of them retries"),
        }
    );

    let mut groups: Vec<(Option<&str>, Vec<&Violation>)> = Vec::new();
    for v in &run.violations {
        let request = v.request.as_deref();
        match groups.iter_mut().find(|(r, _)| *r == request) {
            Some((_, vs)) => vs.push(v),
            None => groups.push((request, vec![v])),
        }
    }
    if !run.retries.is_empty() {
        let _ = writeln!(out, "\nretries:");
        for (request, retry) in &run.retries {
            let _ = writeln!(out, "  {request}: {retry}");
        }
    }
    for (request, violations) in groups {
        let _ = writeln!(out);
        let _ = match request {
            Some(request) => writeln!(out, "{name}: {request}"),
            None => writeln!(out, "{name}:"),
        };
        render_group(&mut out, &violations);
    }
    redactor.redact(out.trim_end())
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

fn same_kind(a: &Violation, b: &Violation) -> bool {
    a.invariant == b.invariant
        && a.request == b.request
        && a.schema_path == b.schema_path
        && a.expected == b.expected
}

fn render_one(out: &mut String, v: &Violation) {
    let at = if v.pointer.is_empty() {
        "(the whole response)"
    } else {
        v.pointer.as_str()
    };
    let _ = writeln!(
        out,
        "  invariant: {} ({})",
        v.invariant.name(),
        v.invariant.meaning()
    );
    let _ = writeln!(out, "  at:        {at}");
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
    use crate::http::Secret;
    use crate::violation::Invariant;

    fn run(violations: Vec<Violation>) -> CaseRun {
        CaseRun {
            violations,
            requests: 1,
            retries: Vec::new(),
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
            "One item.\n1 violation(s) in 1 request(s)\n\n\
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
