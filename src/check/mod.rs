//! Checks are pure functions from responses to violations: no I/O happens here.

pub mod additive;
pub mod backward;
pub mod cross_walk;
pub mod errors;
pub mod filter;
pub mod orders;
pub mod page;
pub mod plausible;
pub mod walk;

use serde_json::Value;

use crate::case::{BodyKind, Outcome};
use crate::exchange::{Exchange, is_transient, seconds};
use crate::schema::SchemaSet;
use crate::violation::{Invariant, Notice, Violation};
use page::PageRules;

/// What one response is judged against.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    /// The responses that conform.
    pub accept: &'a [Outcome],
    /// What a list page is held to.
    pub page: PageRules<'a>,
}

/// The verdict on one response, and its body when it parsed as JSON (so callers that walk
/// on need not parse it again).
#[derive(Debug, Default)]
pub struct Judged {
    pub violations: Vec<Violation>,
    pub body: Option<Value>,
    /// Additive drift of a list page: fields the list schema does not declare and headers
    /// outside the known ones (see [`additive`]).
    pub notices: Vec<Notice>,
}

/// Judges one response against the outcomes `expect` accepts.
///
/// The outcomes whose status matches are each checked in full (content type, JSON, schema,
/// page invariants); the response conforms if one of them has no violation, and otherwise
/// the violations of the closest one are returned.
pub fn judge(exchange: &Exchange, expect: &Expect, schemas: &SchemaSet) -> Judged {
    match read(exchange, expect) {
        Read::Judged(judged) => judged,
        Read::Body(body) => {
            let judged = judge_body(exchange, expect, schemas, &body);
            Judged {
                body: Some(body),
                ..judged
            }
        }
    }
}

/// The first step of [`judge`]: what a walk needs to go on.
#[derive(Debug)]
pub enum Read {
    /// The status is not one `expect` accepts, or the body is not JSON: judged already, with
    /// no body.
    Judged(Judged),
    /// The parsed body of a response with an accepted status, for [`judge_body`].
    Body(Value),
}

/// The status and the JSON of a response, the first step of [`judge`]: a walk takes its
/// next cursor from the body, then judges the rest with [`judge_body`] while the next page
/// is on its way.
pub fn read(exchange: &Exchange, expect: &Expect) -> Read {
    let accept = expect.accept;
    if !accept.iter().any(|o| o.status == exchange.status.as_u16()) {
        let mut wanted: Vec<String> = Vec::new();
        for status in accept.iter().map(|o| o.status.to_string()) {
            if !wanted.contains(&status) {
                wanted.push(status);
            }
        }
        // A "try again" the retries could not get past (a rate limit longer than the budget,
        // an outage) is no answer to judge: the case could not be judged.
        let unavailable = is_transient(exchange.status);
        let violation = Violation::new(
            if unavailable {
                Invariant::Transport
            } else {
                Invariant::Status
            },
            "",
            if wanted.len() == 1 {
                wanted.remove(0)
            } else {
                format!("one of {}", wanted.join(", "))
            },
            format!(
                "{} with body {}{}",
                exchange.status,
                body_excerpt(&exchange.body),
                match (exchange.attempts(), exchange.wait_refused) {
                    (n, Some(wait)) if unavailable => format!(
                        " (attempt {n}: the server asked to wait {} s, more than the retry budget had left (CONTRACT_RETRY_BUDGET); not waited: the case could not be judged, which is not drift)",
                        seconds(wait)
                    ),
                    (1, _) if unavailable => " (not retried (CONTRACT_RETRY_ATTEMPTS): the case could not be judged, which is not drift)".to_owned(),
                    (1, _) => String::new(),
                    (n, _) if unavailable => format!(
                        " (the last of {n} attempts: retries exhausted; the endpoint looked unavailable, which is not drift)"
                    ),
                    (n, _) => format!(" (after {n} attempts)"),
                }
            ),
        );
        return Read::Judged(Judged {
            violations: vec![violation],
            ..Judged::default()
        });
    }
    match serde_json::from_slice(&exchange.body) {
        Ok(body) => Read::Body(body),
        Err(e) => {
            let mut head = Vec::new();
            if let Some(v) = check_content_type(exchange.content_type.as_deref()) {
                head.push(v);
            }
            head.push(json_violation(&exchange.body, &e));
            Read::Judged(Judged {
                violations: head,
                ..Judged::default()
            })
        }
    }
}

/// The second step of [`judge`], for a response [`read`] gave a `body`: content type,
/// schema, page invariants and additive drift. The result holds no body.
pub fn judge_body(
    exchange: &Exchange,
    expect: &Expect,
    schemas: &SchemaSet,
    body: &Value,
) -> Judged {
    let candidates: Vec<&Outcome> = expect
        .accept
        .iter()
        .filter(|o| o.status == exchange.status.as_u16())
        .collect();
    let mut head = Vec::new();
    if let Some(v) = check_content_type(exchange.content_type.as_deref()) {
        head.push(v);
    }

    let mut notices = Vec::new();
    // A page that passes the strict list schema is valid and has no field the schema does not
    // declare: one pass answers both questions, which is nearly every page of a walk.
    let mut list_valid = false;
    if exchange.status.is_success() && candidates.iter().any(|o| o.schema == BodyKind::List) {
        let list = &expect.page.contract.schemas.list;
        list_valid = schemas.conforms_strictly(list, body);
        if !list_valid {
            notices = additive::new_fields(body, list, schemas);
        }
        notices.extend(additive::new_headers(
            &exchange.header_names,
            expect.page.contract,
        ));
    }
    let violations = candidates
        .into_iter()
        .map(|outcome| {
            let mut found = head.clone();
            found.extend(check_outcome(body, outcome, expect, schemas, list_valid));
            found
        })
        .min_by_key(Vec::len)
        .unwrap_or_default();
    Judged {
        violations,
        body: None,
        notices,
    }
}

fn check_outcome(
    body: &Value,
    outcome: &Outcome,
    expect: &Expect,
    schemas: &SchemaSet,
    list_valid: bool,
) -> Vec<Violation> {
    let contract = expect.page.contract;
    let mut found = match outcome.schema {
        BodyKind::List if list_valid => Vec::new(),
        BodyKind::List => schemas.validate(&contract.schemas.list, body),
        BodyKind::Error => {
            let mut found = schemas.validate(&contract.schemas.error, body);
            found.extend(errors::check_error(
                body,
                outcome.status,
                &contract.plausible_errors,
            ));
            found
        }
    };
    if outcome.schema == BodyKind::List {
        found.extend(page::check_page(
            body,
            &expect.page,
            outcome.page_invariants(),
        ));
    }
    found
}

/// `application/json` or any `+json` type, parameters allowed.
fn check_content_type(value: Option<&str>) -> Option<Violation> {
    let essence = value
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some("application/json") => None,
        Some(t) if t.starts_with("application/") && t.ends_with("+json") => None,
        _ => Some(Violation::new(
            Invariant::ContentType,
            "",
            "Content-Type: application/json",
            value.map_or_else(
                || "no Content-Type header".to_owned(),
                |v| format!("Content-Type: {v}"),
            ),
        )),
    }
}

fn json_violation(body: &[u8], e: &serde_json::Error) -> Violation {
    let offset = byte_offset(body, e.line(), e.column());
    Violation::new(
        Invariant::Json,
        "",
        "a JSON body",
        format!(
            "{e} (byte {offset} of {}): {}",
            body.len(),
            window(body, offset)
        ),
    )
}

/// The byte offset of serde_json's 1-based line and column.
fn byte_offset(body: &[u8], line: usize, column: usize) -> usize {
    let line_start: usize = body
        .split(|b| *b == b'\n')
        .take(line.saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum();
    (line_start + column.saturating_sub(1)).min(body.len())
}

/// The body from 40 bytes before `offset`: masked whole, then cut, so that the window's edge
/// never leaves a piece of a secret.
fn window(body: &[u8], offset: usize) -> String {
    // A secret that reaches into the window lies within `margin` of it: only that much
    // around it is masked.
    let margin = crate::redact::known_margin();
    let from = offset.saturating_sub(40 + margin).min(body.len());
    let start = offset.saturating_sub(40).min(body.len());
    let end = body.len().min(start + EXCERPT_BYTES + margin);
    let masked = crate::redact::mask_known(&String::from_utf8_lossy(&body[from..end]));
    // Where `start` falls in the masked text: the masked length of what comes before it.
    let before = crate::redact::mask_known(&String::from_utf8_lossy(&body[from..start])).len();
    let mut at = before.min(masked.len());
    while !masked.is_char_boundary(at) {
        at -= 1;
    }
    excerpt_text(&masked[at..])
}

/// The start of a body, printable, cut to a readable length; secrets are masked before the
/// cut.
pub fn body_excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return "(empty)".to_owned();
    }
    let end = body
        .len()
        .min(EXCERPT_BYTES + crate::redact::known_margin());
    let masked = crate::redact::mask_known(&String::from_utf8_lossy(&body[..end]));
    let cut = excerpt_text(&masked);
    if end < body.len() && !cut.ends_with('…') {
        format!("{cut}…")
    } else {
        cut
    }
}

/// About how much of a body an excerpt shows.
const EXCERPT_BYTES: usize = 200;

/// `text` (masked already), printable, cut to about 200 bytes.
fn excerpt_text(text: &str) -> String {
    let mut end = text.len().min(EXCERPT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let cut: String = text[..end]
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.len() > end {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::{Redactor, Secret, register};

    const CUT_CANARY: &str = "sk-cut-canary-0123456789abcdef";

    /// No 8-character piece of the canary in `text`.
    fn assert_no_piece(text: &str) {
        let chars: Vec<char> = CUT_CANARY.chars().collect();
        for piece in chars.windows(8) {
            let piece: String = piece.iter().collect();
            assert!(!text.contains(&piece), "`{piece}` in {text}");
        }
    }

    #[test]
    fn a_cut_never_leaves_a_piece_of_a_secret() {
        register(&Redactor::new([Secret::new(CUT_CANARY)]));
        for at in 150..230 {
            let body = format!("{}{CUT_CANARY}{}", "x".repeat(at), "y".repeat(300));
            assert_no_piece(&body_excerpt(body.as_bytes()));
            // The window around a parse error, from either side of the secret.
            for offset in [at, at + 10, at + 40, at + 60, at + 80] {
                assert_no_piece(&window(body.as_bytes(), offset));
            }
            let value = serde_json::Value::String(body[at.saturating_sub(100)..].to_owned());
            assert_no_piece(&crate::schema::excerpt(&value));
        }
        // Masked whole, the rest is cut as before.
        let body = format!("{CUT_CANARY}{}", "z".repeat(300));
        let excerpt = body_excerpt(body.as_bytes());
        assert!(
            excerpt.starts_with("***zzz") && excerpt.ends_with('…'),
            "{excerpt}"
        );
        assert_eq!(excerpt.len(), 200 + '…'.len_utf8());
    }

    #[test]
    fn json_content_types() {
        assert!(check_content_type(Some("application/json")).is_none());
        assert!(check_content_type(Some("application/json; charset=utf-8")).is_none());
        assert!(check_content_type(Some("application/problem+json")).is_none());
        assert!(check_content_type(Some("text/plain")).is_some());
        assert!(check_content_type(None).is_some());
    }

    #[test]
    fn json_errors_give_the_byte_offset() {
        let body = b"{\"a\":\n  tru }";
        let e = serde_json::from_slice::<Value>(body).unwrap_err();
        let v = json_violation(body, &e);
        assert_eq!(v.invariant, Invariant::Json);
        assert!(v.actual.contains("(byte 11 of 13)"), "{}", v.actual);
    }
}
