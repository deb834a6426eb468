//! Validation: what a parsed case or contract file may not say, each rejected with its file,
//! its key and what to do instead.

use std::path::Path;

use super::error::LoadError;
use super::model::{AuthMode, BodyKind, CaseFile, CaseKind, WalkLimit};
use crate::contract::{Contract, CursorSource};

pub(super) fn validate_contract(path: &Path, c: Contract) -> Result<Contract, LoadError> {
    let invalid = |message: String| LoadError::Invalid {
        path: path.to_owned(),
        message,
    };
    if !c.path.starts_with('/') {
        return Err(invalid(format!(
            "`path` is `{}` (it must start with `/`, e.g. `/v1/batches`)",
            c.path
        )));
    }
    if let Some(reason) = path_problem(&c.path) {
        return Err(invalid(format!(
            "`path` {reason} (give the endpoint's path alone, e.g. `/v1/batches`)"
        )));
    }
    if c.default_limit == 0 || c.default_limit > c.max_limit || c.min_limit > c.default_limit {
        return Err(invalid(format!(
            "`min_limit` is {}, `default_limit` {} and `max_limit` {} (need min_limit <= default_limit <= max_limit, and default_limit >= 1)",
            c.min_limit, c.default_limit, c.max_limit
        )));
    }
    let e = &c.envelope;
    let pointers = [
        ("envelope.data", e.data.as_str(), false),
        ("envelope.has_more", e.has_more.as_str(), false),
        ("envelope.first_id", e.first_id.as_str(), true),
        ("envelope.last_id", e.last_id.as_str(), true),
    ];
    for (key, pointer, may_be_absent) in pointers {
        if !(pointer.starts_with('/') || may_be_absent && pointer.is_empty()) {
            let absent = if may_be_absent {
                ", or \"\" when the scheme has no such field"
            } else {
                ""
            };
            return Err(invalid(format!(
                "`{key}` is `{pointer}` (give a JSON pointer into the page, e.g. `/data`{absent})"
            )));
        }
    }
    match (c.cursor_source, &c.next_token) {
        (CursorSource::Token, None) => {
            return Err(invalid(
                "`cursor_source` is \"token\" but `next_token` is not set (name the token's JSON pointer, e.g. `next_token = \"/next\"`)".into(),
            ));
        }
        (CursorSource::Token, Some(p)) if !p.starts_with('/') => {
            return Err(invalid(format!(
                "`next_token` is `{p}` (give a JSON pointer into the page, e.g. `/next`)"
            )));
        }
        (CursorSource::LastId, _) if e.last_id().is_none() => {
            return Err(invalid(
                "`cursor_source` is \"last_id\" but `envelope.last_id` is empty (the scheme has no last_id to take the cursor from)".into(),
            ));
        }
        _ => {}
    }
    for (i, f) in c.filters.iter().enumerate() {
        if !f.field.starts_with('/') {
            return Err(invalid(format!(
                "`filters[{i}].field` is `{}` (it must be a JSON pointer into one item, e.g. `/purpose`)",
                f.field
            )));
        }
    }
    for (name, value) in &c.headers {
        if ::http::HeaderName::from_bytes(name.as_bytes()).is_err()
            || ::http::HeaderValue::from_str(value).is_err()
        {
            return Err(invalid(format!(
                "`headers.{name}` is not a valid HTTP header name and value"
            )));
        }
    }
    if let Some((key, pointer)) = c.plausible.pointers().find(|(_, p)| !p.starts_with('/')) {
        return Err(invalid(format!(
            "`plausible.{key}` names `{pointer}` (it must be a JSON pointer into one item, starting with `/`, e.g. `/created_at`)"
        )));
    }
    Ok(c)
}

pub(super) fn validate_case(path: &Path, f: CaseFile) -> Result<CaseFile, LoadError> {
    let invalid = |message: String| LoadError::Invalid {
        path: path.to_owned(),
        message,
    };
    if f.description.trim().is_empty() {
        return Err(invalid(
            "`description` is empty (say what the case proves)".into(),
        ));
    }
    let kinds = [
        ("[[accept]]", !f.accept.is_empty()),
        ("[walk]", f.walk.is_some()),
        ("[cross_walk]", f.cross_walk.is_some()),
        ("[backward_walk]", f.backward_walk.is_some()),
        ("[order_walk]", f.order_walk.is_some()),
        ("[filter_walk]", f.filter_walk.is_some()),
    ];
    let set: Vec<&str> = kinds.iter().filter(|k| k.1).map(|k| k.0).collect();
    match set.len() {
        0 => {
            return Err(invalid(
                "says neither what to accept nor what to walk (add `[[accept]]` with `status` and `schema` for one request, `[walk]` to follow the cursor, `[cross_walk]` with `limits` to compare walks, or `[backward_walk]`, `[order_walk]`, `[filter_walk]`)".into(),
            ));
        }
        1 => {}
        _ => {
            let (last, rest) = set.split_last().expect("two or more");
            return Err(invalid(format!(
                "has both {} and {last} (a case does one thing: split it into one file each)",
                rest.join(", ")
            )));
        }
    }
    let budgets = [
        ("walk.max_pages", f.walk.as_ref().and_then(|w| w.max_pages)),
        (
            "cross_walk.max_pages",
            f.cross_walk.as_ref().and_then(|w| w.max_pages),
        ),
        (
            "backward_walk.max_pages",
            f.backward_walk.as_ref().and_then(|w| w.max_pages),
        ),
        (
            "order_walk.max_pages",
            f.order_walk.as_ref().and_then(|w| w.max_pages),
        ),
        (
            "filter_walk.max_pages",
            f.filter_walk.as_ref().and_then(|w| w.max_pages),
        ),
    ];
    if let Some((key, _)) = budgets.iter().find(|(_, v)| *v == Some(0)) {
        return Err(invalid(format!(
            "`{key}` is 0 (a walk needs at least one page)"
        )));
    }
    let caps = [
        (
            "walk.stop_after_items",
            f.walk.as_ref().and_then(|w| w.stop_after_items),
        ),
        (
            "cross_walk.stop_after_items",
            f.cross_walk.as_ref().and_then(|w| w.stop_after_items),
        ),
        (
            "order_walk.stop_after_items",
            f.order_walk.as_ref().and_then(|w| w.stop_after_items),
        ),
        (
            "filter_walk.stop_after_items",
            f.filter_walk.as_ref().and_then(|w| w.stop_after_items),
        ),
    ];
    if f.backward_walk
        .as_ref()
        .is_some_and(|w| w.stop_after_items.is_some())
    {
        return Err(invalid(
            "`backward_walk.stop_after_items` is set, but a backward walk starts from the end of the listing (leave it out)".into(),
        ));
    }
    if let Some((key, _)) = caps.iter().find(|(_, v)| *v == Some(0)) {
        return Err(invalid(format!(
            "`{key}` is 0 (a walk needs at least one item; leave it out to walk to the end)"
        )));
    }
    if let Some(x) = &f.cross_walk {
        let mut sorted = x.limits.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() < 2 || sorted.len() != x.limits.len() {
            return Err(invalid(
                "`cross_walk.limits` needs at least two different limits, each once (e.g. `[1, 7, \"default\", \"max\"]`)".into(),
            ));
        }
    }
    for (i, o) in f.accept.iter().enumerate() {
        if !(100..=599).contains(&o.status) {
            return Err(invalid(format!(
                "`accept[{i}].status` is {} (an HTTP status is 100..=599)",
                o.status
            )));
        }
        if o.schema == BodyKind::Error && o.invariants.is_some() {
            return Err(invalid(format!(
                "`accept[{i}].invariants` is set on an error outcome (page invariants apply only to `schema = \"list\"`)"
            )));
        }
    }
    let l = &f.limits;
    if l.retry_attempts == Some(0) {
        return Err(invalid(
            "`limits.retry_attempts` is 0 (it counts the first attempt: use 1 for no retries)"
                .into(),
        ));
    }
    for (key, value) in [
        ("retry_budget_secs", l.retry_budget_secs),
        ("request_timeout_secs", l.request_timeout_secs),
        ("case_timeout_secs", l.case_timeout_secs),
    ] {
        if let Some(v) = value.filter(|v| !(v.is_finite() && *v > 0.0 && *v < 1e9)) {
            return Err(invalid(format!(
                "`limits.{key}` is {v} (give a positive number of seconds)"
            )));
        }
    }
    for (name, value) in &f.request.headers {
        if ::http::HeaderName::from_bytes(name.as_bytes()).is_err()
            || ::http::HeaderValue::from_str(value).is_err()
        {
            return Err(invalid(format!(
                "`request.headers.{name}` is not a valid HTTP header name and value"
            )));
        }
    }
    Ok(f)
}

/// What is wrong with a contract's `path`, if anything: a control character (which the URL
/// parser would drop or rewrite silently), a `..` or `.` segment (which would leave the base
/// URL's prefix), a `?` or `#` (a query or fragment, which the harness builds itself), or a
/// `\\` (which URLs read as `/`).
fn path_problem(path: &str) -> Option<String> {
    if let Some((at, c)) = path.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Some(format!(
            "holds a control character ({:?}) at character {}",
            c,
            at + 1
        ));
    }
    for (c, what) in [('?', "a query"), ('#', "a fragment"), ('\\', "a backslash")] {
        if path.contains(c) {
            return Some(format!("holds `{c}` ({what})"));
        }
    }
    let dotted = |segment: &str| {
        let decoded = segment.replace("%2e", ".").replace("%2E", ".");
        decoded == ".." || decoded == "."
    };
    if path.split('/').any(dotted) {
        return Some(format!(
            "is `{path}`, with a `.` or `..` segment, which would leave the base URL's prefix"
        ));
    }
    None
}

/// `a, b`, or `none`, for messages listing what a contract has.
fn names_or_none<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// The checks that need the suite's contract: walk limits within its range, and walks that
/// leave the limit and cursor parameters to the runner.
pub(super) fn validate_with_contract(
    path: &Path,
    f: &CaseFile,
    contract: &Contract,
) -> Result<(), LoadError> {
    let invalid = |message: String| LoadError::Invalid {
        path: path.to_owned(),
        message,
    };
    for name in &f.request.omit_headers {
        if !contract
            .headers
            .keys()
            .any(|h| h.eq_ignore_ascii_case(name))
        {
            return Err(invalid(format!(
                "`request.omit_headers` names `{name}`, which the contract's `[headers]` does not require (it has: {})",
                names_or_none(contract.headers.keys())
            )));
        }
    }
    let (key, limits): (&str, &[WalkLimit]) = match f.kind() {
        CaseKind::Page(_) => return Ok(()),
        CaseKind::Walk(w) => ("walk.limit", std::slice::from_ref(&w.limit)),
        CaseKind::CrossWalk(x) => ("cross_walk.limits", &x.limits),
        CaseKind::BackwardWalk(w) => {
            if contract.backward.is_none() {
                return Err(invalid(
                    "has `[backward_walk]`, but the contract has no `[backward]` parameter (add `[backward] param = \"before\"` to contract.toml if the endpoint pages backward)".into(),
                ));
            }
            if contract.cursor_source == CursorSource::Token {
                return Err(invalid(
                    "has `[backward_walk]`, but the contract's cursors are opaque tokens (`cursor_source = \"token\"`), which cannot be walked back from".into(),
                ));
            }
            ("backward_walk.limit", std::slice::from_ref(&w.limit))
        }
        CaseKind::OrderWalk(w) => {
            if contract.order_param.is_none() {
                return Err(invalid(
                    "has `[order_walk]`, but the contract has no `[order_param]` (add one if the endpoint takes `order`)".into(),
                ));
            }
            if let Some(p) = contract
                .order_param
                .as_ref()
                .filter(|p| f.request.query.contains_key(&p.name))
            {
                return Err(invalid(format!(
                    "`request.query.{}` is set, but an order walk sends both `{}` and `{}` itself",
                    p.name, p.asc, p.desc
                )));
            }
            ("order_walk.limit", std::slice::from_ref(&w.limit))
        }
        CaseKind::FilterWalk(w) => {
            if !contract.filters.iter().any(|c| c.param == w.param) {
                return Err(invalid(format!(
                    "`filter_walk.param` is `{}`, which is not among the contract's `[[filters]]` (it has: {})",
                    w.param,
                    names_or_none(contract.filters.iter().map(|c| &c.param))
                )));
            }
            if f.request.query.contains_key(&w.param) {
                return Err(invalid(format!(
                    "`request.query.{}` is set, but a filter walk sends it itself (set `filter_walk.value`)",
                    w.param
                )));
            }
            ("filter_walk.limit", std::slice::from_ref(&w.limit))
        }
    };
    for limit in limits {
        if let WalkLimit::N(n) = limit
            && *n > contract.max_limit
        {
            return Err(invalid(format!(
                "`{key}` has {n}, above the contract's `max_limit` {} (a conforming server refuses it; use \"max\")",
                contract.max_limit
            )));
        }
    }
    let mut sent: Vec<Option<u64>> = limits.iter().map(|l| l.param(contract)).collect();
    sent.sort_unstable();
    sent.dedup();
    if sent.len() != limits.len() {
        return Err(invalid(format!(
            "`{key}` names one limit twice: with `max_limit` {} the walks would send the same requests (drop one)",
            contract.max_limit
        )));
    }
    let mut hints = vec![
        (&contract.limit_param, format!("set `{key}` instead")),
        (
            &contract.cursor_param,
            "the cursor comes from each page's last id".to_owned(),
        ),
    ];
    if let Some(b) = &contract.backward {
        hints.push((
            &b.param,
            "a backward walk sends it from each page's first id".to_owned(),
        ));
    }
    for (param, hint) in hints {
        if f.request.query.contains_key(param) {
            return Err(invalid(format!(
                "`request.query.{param}` is set, but a walk sends `{}` and `{}` itself ({hint})",
                contract.limit_param, contract.cursor_param
            )));
        }
    }
    if f.request.auth != AuthMode::Valid {
        return Err(invalid(
            "`request.auth` is not \"valid\", but a walk needs pages (use a page case with `[[accept]]` for auth errors)".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::case::load::load_cases;
    use crate::case::load::tests::{DESC, parse};
    use crate::case::model::CONTRACT_FILE;

    fn invalid(text: &str) -> String {
        let file = parse(text).unwrap();
        validate_case(Path::new("cases/s/c.toml"), file)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_contract_path_is_checked_naming_the_file_and_key() {
        let at = Path::new("cases/s/contract.toml");
        for (bad, says) in [
            (
                "/v1/bat\nches",
                "`path` holds a control character ('\\n') at character 8",
            ),
            (
                "/v1/ba\ttches",
                "`path` holds a control character ('\\t') at character 7",
            ),
            (
                "/v1/batches\r",
                "`path` holds a control character ('\\r') at character 12",
            ),
            (
                "/../admin/keys",
                "`path` is `/../admin/keys`, with a `.` or `..` segment",
            ),
            (
                "/v1/%2e%2E/x",
                "`path` is `/v1/%2e%2E/x`, with a `.` or `..` segment",
            ),
            ("/v1/./batches", "with a `.` or `..` segment"),
            ("/v1/batches?x=1", "`path` holds `?` (a query)"),
            ("/v1/batches#f", "`path` holds `#` (a fragment)"),
        ] {
            let contract = Contract {
                path: bad.into(),
                ..crate::contract::list_batches()
            };
            let e = validate_contract(at, contract).unwrap_err().to_string();
            assert!(e.starts_with("cases/s/contract.toml: `path`"), "{e}");
            assert!(e.contains(says), "{bad:?}: {e}");
        }
        for good in ["/v1/batches", "/v1/vector_stores", "/v1/a..b/c"] {
            let contract = Contract {
                path: good.into(),
                ..crate::contract::list_batches()
            };
            validate_contract(at, contract).unwrap();
        }
    }

    #[test]
    fn a_case_without_a_kind_is_rejected() {
        let msg = invalid(DESC);
        assert!(
            msg.starts_with("cases/s/c.toml: says neither what to accept nor what to walk"),
            "{msg}"
        );
        assert!(msg.contains("`[cross_walk]`"), "{msg}");
    }

    #[test]
    fn a_case_with_two_kinds_names_both() {
        let msg = invalid(&format!(
            "{DESC}[walk]\nlimit = 7\n[[accept]]\nstatus = 200\nschema = \"list\"\n"
        ));
        assert!(
            msg.starts_with("cases/s/c.toml: has both [[accept]] and [walk] ("),
            "{msg}"
        );
    }

    #[test]
    fn zero_max_pages_is_rejected() {
        let msg = invalid(&format!("{DESC}[walk]\nmax_pages = 0\n"));
        assert_eq!(
            msg,
            "cases/s/c.toml: `walk.max_pages` is 0 (a walk needs at least one page)"
        );
    }

    #[test]
    fn cross_walk_needs_two_distinct_limits_each_once() {
        for limits in ["[7]", "[1, 7, 1]", "[\"max\", \"max\"]"] {
            let msg = invalid(&format!("{DESC}[cross_walk]\nlimits = {limits}\n"));
            assert!(
                msg.starts_with(
                    "cases/s/c.toml: `cross_walk.limits` needs at least two different limits, each once"
                ),
                "{limits}: {msg}"
            );
        }
    }

    /// A copy of `cases/list_batches/contract.toml`.
    const CONTRACT: &str = r#"
description = "OpenAI-compatible List Batches: GET /v1/batches?limit=N&after=CURSOR"
path = "/v1/batches"
auth = "x-api-key"
default_limit = 20
max_limit = 100
limit_param = "limit"
cursor_param = "after"
id_field = "id"
order_key = "created_at"
order = "desc"

[schemas]
list = "batch-list.json"
error = "error.json"
"#;

    /// `load_cases` on a suite of `CONTRACT` and one case file `c.toml`: the single error
    /// it reports, and the case file's path.
    fn load_error(case: &str) -> (String, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let suite = tmp.path().join("suite");
        std::fs::create_dir(&suite).unwrap();
        std::fs::write(suite.join(CONTRACT_FILE), CONTRACT).unwrap();
        let path = suite.join("c.toml");
        std::fs::write(&path, case).unwrap();
        let errors = load_cases(tmp.path()).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        (errors[0].to_string(), path)
    }

    #[test]
    fn walk_limit_above_max_limit_is_rejected() {
        for (table, key) in [
            ("[walk]\nlimit = 500", "walk.limit"),
            ("[cross_walk]\nlimits = [1, 500]", "cross_walk.limits"),
        ] {
            let (msg, path) = load_error(&format!("{DESC}{table}\n"));
            assert_eq!(
                msg,
                format!(
                    "{}: `{key}` has 500, above the contract's `max_limit` 100 (a conforming server refuses it; use \"max\")",
                    path.display()
                )
            );
        }
    }

    #[test]
    fn a_limit_written_twice_two_ways_is_rejected() {
        let (msg, path) = load_error(&format!("{DESC}[cross_walk]\nlimits = [100, \"max\"]\n"));
        assert_eq!(
            msg,
            format!(
                "{}: `cross_walk.limits` names one limit twice: with `max_limit` 100 the walks would send the same requests (drop one)",
                path.display()
            )
        );
    }

    #[test]
    fn walk_with_limit_in_query_is_rejected() {
        let (msg, path) = load_error(&format!(
            "{DESC}[request]\nquery = {{ limit = 5 }}\n[walk]\nlimit = 7\n"
        ));
        assert_eq!(
            msg,
            format!(
                "{}: `request.query.limit` is set, but a walk sends `limit` and `after` itself (set `walk.limit` instead)",
                path.display()
            )
        );
    }

    #[test]
    fn walk_without_valid_auth_is_rejected() {
        let (msg, path) = load_error(&format!("{DESC}[request]\nauth = \"none\"\n[walk]\n"));
        assert!(
            msg.starts_with(&format!(
                "{}: `request.auth` is not \"valid\", but a walk needs pages",
                path.display()
            )),
            "{msg}"
        );
    }

    #[test]
    fn a_plausibility_field_that_is_not_a_pointer_is_rejected() {
        let tmp = tempfile::tempdir().unwrap();
        let suite = tmp.path().join("suite");
        std::fs::create_dir(&suite).unwrap();
        let contract = suite.join(CONTRACT_FILE);
        std::fs::write(
            &contract,
            format!("{CONTRACT}\n[[plausible.sums]]\ntotal = \"/t\"\nparts = [\"/a\", \"b\"]\n"),
        )
        .unwrap();
        std::fs::write(suite.join("c.toml"), format!("{DESC}[walk]\n")).unwrap();
        let errors = load_cases(tmp.path()).unwrap_err();
        assert_eq!(
            errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [format!(
                "{}: `plausible.sums.parts` names `b` (it must be a JSON pointer into one item, starting with `/`, e.g. `/created_at`)",
                contract.display()
            )]
        );
    }
}
