//! Additive drift: what a list response carries that the contract does not describe. The
//! schemas allow unknown properties (clients ignore them), so these are notices, not
//! violations; a run fails on them only when told to (`--fail-on additive`).
//!
//! - **Fields**: any property of the envelope or of an item, at any depth, that the list
//!   schema does not declare ([`SchemaSet::undeclared`]).
//! - **Headers**: a response header outside [`KNOWN_HEADERS`] and [`KNOWN_HEADER_PREFIXES`]. The
//!   lists are deliberately wide (standard HTTP, CORS, security, tracing, caches, CDNs and
//!   gateways, rate limits, OpenAI's own `openai-*`) so that an ordinary server or proxy
//!   produces no notice; a notice means a header nobody expects.

use serde_json::Value;

use crate::contract::Contract;
use crate::schema::SchemaSet;
use crate::violation::Notice;

/// Response headers that are never additive drift, by exact lowercase name.
pub const KNOWN_HEADERS: &[&str] = &[
    "accept-ranges",
    "age",
    "alt-svc",
    "cache-control",
    "connection",
    "content-encoding",
    "content-language",
    "content-length",
    "content-security-policy",
    "content-type",
    "date",
    "etag",
    "expires",
    "keep-alive",
    "last-modified",
    "nel",
    "permissions-policy",
    "pragma",
    "referrer-policy",
    "report-to",
    "request-id",
    "retry-after",
    "retry-after-ms",
    "server",
    "server-timing",
    "set-cookie",
    "strict-transport-security",
    "timing-allow-origin",
    "traceparent",
    "tracestate",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "vary",
    "via",
    "www-authenticate",
    "x-content-type-options",
    "x-correlation-id",
    "x-frame-options",
    "x-powered-by",
    "x-process-time",
    "x-request-id",
    "x-response-time",
    "x-served-by",
    "x-timer",
    "x-trace-id",
    "x-xss-protection",
];

/// Response headers that are never additive drift, by lowercase prefix.
pub const KNOWN_HEADER_PREFIXES: &[&str] = &[
    "access-control-",
    // Anthropic's rate-limit headers, which pace a run (`http/ratelimit.rs`).
    "anthropic-ratelimit-",
    "cf-",
    "openai-",
    "ratelimit",
    "x-amz",
    "x-cache",
    "x-azure-",
    "x-b3-",
    "x-cloud-trace-",
    "x-datadog-",
    "x-envoy-",
    "x-forwarded-",
    "x-goog-",
    "x-kong-",
    "x-ms-",
    "x-ratelimit-",
];

/// Whether a response header (any case) is one an ordinary server or proxy sends.
pub fn is_known_header(name: &str) -> bool {
    KNOWN_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
        || KNOWN_HEADER_PREFIXES.iter().any(|p| {
            name.get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p))
        })
}

/// Whether the contract says the server sends this header (`known_headers`,
/// `known_header_prefixes`): a gateway's own headers are not drift.
pub fn is_declared_header(name: &str, contract: &Contract) -> bool {
    contract
        .known_headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
        || contract.known_header_prefixes.iter().any(|p| {
            name.get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p))
        })
}

/// One notice per header name outside the known ones and those the contract declares.
pub fn new_headers(names: &[String], contract: &Contract) -> Vec<Notice> {
    let mut notices: Vec<Notice> = Vec::new();
    for name in names
        .iter()
        .filter(|n| !is_known_header(n) && !is_declared_header(n, contract))
    {
        let name = name.to_ascii_lowercase();
        if !notices.iter().any(|n| n.name == name) {
            notices.push(Notice::header(name));
        }
    }
    notices
}

/// One notice per property path of `body` that the schema `file` does not declare.
pub fn new_fields(body: &Value, file: &str, schemas: &SchemaSet) -> Vec<Notice> {
    schemas
        .undeclared(file, body)
        .into_iter()
        .map(|(name, pointer)| Notice::field(name, pointer))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::violation::AdditionKind;

    fn schemas() -> SchemaSet {
        SchemaSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")).unwrap()
    }

    fn batch() -> Value {
        json!({
            "id": "batch_1", "object": "batch", "endpoint": "/v1/embeddings",
            "input_file_id": "file_1", "completion_window": "24h", "status": "failed",
            "created_at": 1_763_990_200,
            "errors": {"object": "list", "data": [{"code": "x", "message": "y", "param": null, "line": 1}]},
            "request_counts": {"total": 1, "completed": 0, "failed": 1},
            "metadata": {"any_key": "is free"},
        })
    }

    fn page(items: Vec<Value>) -> Value {
        json!({"object": "list", "data": items, "first_id": "batch_1", "last_id": "batch_1", "has_more": false})
    }

    fn found(body: &Value) -> Vec<(String, String)> {
        new_fields(body, "batch-list.json", &schemas())
            .into_iter()
            .map(|n| {
                assert_eq!(n.kind, AdditionKind::Field);
                (n.name, n.pointer.unwrap())
            })
            .collect()
    }

    #[test]
    fn a_body_the_schema_describes_has_no_new_fields() {
        assert_eq!(found(&page(vec![batch(), batch()])), []);
        // The reference mock's listing uses every declared field, and only those.
        let items = crate::mock::dataset::generate(40, 3);
        assert_eq!(found(&page(items)), []);
    }

    #[test]
    fn new_fields_on_the_envelope_items_and_nested_objects_are_named_once_with_an_example() {
        let mut first = batch();
        first["request_counts"]["cancelled"] = json!(0);
        first["errors"]["data"][0]["hint"] = json!("retry");
        let mut second = batch();
        second["priority"] = json!("high");
        let mut third = batch();
        third["priority"] = json!("low");
        third["a/b"] = json!(1);
        let mut body = page(vec![first, second, third]);
        body["total_count"] = json!(3);
        assert_eq!(
            found(&body),
            [
                (
                    "data[].errors.data[].hint".to_owned(),
                    "/data/0/errors/data/0/hint".to_owned()
                ),
                (
                    "data[].request_counts.cancelled".to_owned(),
                    "/data/0/request_counts/cancelled".to_owned()
                ),
                ("data[].priority".to_owned(), "/data/1/priority".to_owned()),
                ("data[].a/b".to_owned(), "/data/2/a~1b".to_owned()),
                ("total_count".to_owned(), "/total_count".to_owned()),
            ]
        );
    }

    #[test]
    fn the_strict_schema_passes_exactly_the_valid_bodies_with_nothing_new() {
        let schemas = schemas();
        let strict = |body: &Value| schemas.conforms_strictly("batch-list.json", body);
        let valid = |body: &Value| schemas.validate("batch-list.json", body).is_empty();
        let items = crate::mock::dataset::generate(40, 3);
        assert!(strict(&page(items.clone())), "the mock's listing");
        assert!(strict(&page(vec![batch()])), "metadata keys are free");

        let mut added = page(items.clone());
        added["data"][7]["request_counts"]["cancelled"] = json!(0);
        let mut envelope = page(items.clone());
        envelope["total_count"] = json!(40);
        let mut invalid = page(items);
        invalid["data"][3]["status"] = json!("running");
        for (what, body) in [("nested", &added), ("envelope", &envelope)] {
            assert!(!strict(body), "{what}");
            assert!(valid(body), "{what}: additive drift stays valid");
            assert!(!found(body).is_empty(), "{what}: found by the slow path");
        }
        assert!(!strict(&invalid) && !valid(&invalid));
    }

    #[test]
    fn closing_objects_follows_every_schema_and_leaves_data_alone() {
        let mut schema = json!({
            "properties": {
                "const": {"properties": {"a": {}}},
                "b": {"const": {"properties": {}}, "anyOf": [{"properties": {"c": {}}}]},
            },
            "$defs": {"d": {"properties": {}, "additionalProperties": true}},
        });
        crate::schema::close_objects(&mut schema);
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(
            schema["properties"]["const"]["additionalProperties"],
            json!(false)
        );
        assert_eq!(
            schema["properties"]["b"]["const"],
            json!({"properties": {}})
        );
        assert_eq!(
            schema["properties"]["b"]["anyOf"][0]["additionalProperties"],
            json!(false)
        );
        assert_eq!(schema["$defs"]["d"]["additionalProperties"], json!(true));
    }

    #[test]
    fn ordinary_headers_are_known_and_others_are_new_once() {
        let names: Vec<String> = [
            "content-type",
            "Content-Length",
            "date",
            "server",
            "x-request-id",
            "x-ratelimit-remaining-requests",
            "openai-processing-ms",
            "cf-ray",
            "x-cache-status",
            "access-control-allow-origin",
            "x-batch-region",
            "X-Batch-Region",
        ]
        .map(String::from)
        .to_vec();
        let mut contract = crate::contract::list_batches();
        let notices = new_headers(&names, &contract);
        assert_eq!(notices, [Notice::header("x-batch-region")]);
        // A gateway's own headers, once the contract names them, are not drift.
        let gateway: Vec<String> = [
            "x-litellm-version",
            "X-LiteLLM-Key-Spend",
            "x-litellm-call-id",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(new_headers(&gateway, &contract).len(), 3);
        contract.known_headers = vec!["x-litellm-version".into()];
        contract.known_header_prefixes = vec!["x-litellm-key-".into()];
        assert_eq!(
            new_headers(&gateway, &contract),
            [Notice::header("x-litellm-call-id")]
        );
    }
}
