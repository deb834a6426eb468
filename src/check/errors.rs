//! Error bodies that pass the error schema and still say nothing true: a `code` or `param`
//! that is a stringified null (`"None"`, Python's `str(None)`), a `code` that only repeats
//! the HTTP status, an error `type` naming a server error on a client error. Each rule is a
//! switch of the contract's `[plausible_errors]` table, on unless switched off.

use serde_json::Value;

use crate::contract::ErrorPlausibility;
use crate::violation::{Invariant, Violation};

/// What a null becomes when a server formats it as text.
const STRINGIFIED_NULLS: [&str; 4] = ["none", "null", "nil", "undefined"];

/// Error types that name a fault of the server, not of the request.
const SERVER_TYPES: [&str; 3] = ["internal_server_error", "api_error", "server_error"];

/// Checks the `error` object of an error body answered with `status` against `rules`. A body
/// without an `error` object is left to the schema.
pub fn check_error(body: &Value, status: u16, rules: &ErrorPlausibility) -> Vec<Violation> {
    let mut found = Vec::new();
    let Some(error) = body.get("error").and_then(Value::as_object) else {
        return found;
    };
    let text = |key: &str| error.get(key).and_then(Value::as_str);
    if rules.stringified_null {
        for key in ["code", "param"] {
            if let Some(v) = text(key)
                .filter(|v| STRINGIFIED_NULLS.contains(&v.trim().to_ascii_lowercase().as_str()))
            {
                found.push(Violation::new(
                    Invariant::PlausibleError,
                    format!("/error/{key}"),
                    format!("a {key}, or null (rule `stringified_null`)"),
                    format!("{} (a null written as text)", Value::from(v)),
                ));
            }
        }
    }
    if rules.code_is_status {
        let code = error.get("code");
        let repeats = match code {
            Some(Value::String(c)) => c.trim() == status.to_string(),
            Some(Value::Number(n)) => n.as_u64() == Some(u64::from(status)),
            _ => false,
        };
        if let Some(code) = code.filter(|_| repeats) {
            found.push(Violation::new(
                Invariant::PlausibleError,
                "/error/code",
                "a code naming the error, or null (rule `code_is_status`)",
                format!("{code} (only the HTTP status, {status})"),
            ));
        }
    }
    if rules.server_type_on_4xx
        && (400..500).contains(&status)
        && let Some(t) = text("type").filter(|t| SERVER_TYPES.contains(t))
    {
        found.push(Violation::new(
            Invariant::PlausibleError,
            "/error/type",
            format!("a client error type on a {status} (rule `server_type_on_4xx`)"),
            format!("{} (a server error)", Value::from(t)),
        ));
    }
    found
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn error(code: Value, kind: &str, param: Value) -> Value {
        json!({"error": {"message": "m", "type": kind, "param": param, "code": code}})
    }

    fn found(body: &Value, status: u16, rules: &ErrorPlausibility) -> Vec<(String, String)> {
        check_error(body, status, rules)
            .into_iter()
            .map(|v| {
                assert_eq!(v.invariant, Invariant::PlausibleError);
                (v.pointer, format!("{} / {}", v.expected, v.actual))
            })
            .collect()
    }

    #[test]
    fn litellms_three_error_bodies_are_each_named_by_their_rule() {
        let all = ErrorPlausibility::default();
        let body = error(json!("400"), "internal_server_error", json!("None"));
        assert_eq!(
            found(&body, 400, &all),
            [
                (
                    "/error/param".to_owned(),
                    "a param, or null (rule `stringified_null`) / \"None\" (a null written as text)".to_owned()
                ),
                (
                    "/error/code".to_owned(),
                    "a code naming the error, or null (rule `code_is_status`) / \"400\" (only the HTTP status, 400)".to_owned()
                ),
                (
                    "/error/type".to_owned(),
                    "a client error type on a 400 (rule `server_type_on_4xx`) / \"internal_server_error\" (a server error)".to_owned()
                ),
            ]
        );
        let body = error(json!("null"), "api_error", Value::Null);
        assert_eq!(found(&body, 404, &all).len(), 2);
        // A server error may call itself one; an honest 4xx passes.
        assert!(found(&error(Value::Null, "api_error", Value::Null), 500, &all).is_empty());
        let openai = error(
            json!("invalid_api_key"),
            "invalid_request_error",
            Value::Null,
        );
        assert!(found(&openai, 401, &all).is_empty());
        // FastAPI's `{"detail": [...]}` has no `error` object: the schema's business.
        assert!(found(&json!({"detail": []}), 422, &all).is_empty());
    }

    #[test]
    fn each_rule_can_be_switched_off() {
        let body = error(json!("400"), "server_error", json!("None"));
        let none = ErrorPlausibility {
            stringified_null: false,
            code_is_status: false,
            server_type_on_4xx: false,
        };
        assert!(found(&body, 400, &none).is_empty());
        let only_status = ErrorPlausibility {
            code_is_status: true,
            ..none
        };
        assert_eq!(found(&body, 400, &only_status)[0].0, "/error/code");
    }
}
