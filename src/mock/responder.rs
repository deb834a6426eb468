//! The contract, implemented: auth, limit validation, `after` cursors, newest first.

use std::sync::Arc;

use serde_json::{Value, json};
use wiremock::{Request, Respond, ResponseTemplate};

use super::MockConfig;
use crate::contract::AuthStyle;

/// A way to break the contract, for proving that the harness notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `created_at` is sent as a string on every item (wrong type).
    CreatedAtAsString,
    /// The envelope has no `has_more` (missing field).
    MissingHasMore,
    /// Pages hold one item more than the limit.
    LimitPlusOne,
    /// `first_id` names the second item.
    WrongFirstId,
    /// `last_id` names the second-to-last item.
    WrongLastId,
    /// The listing is served oldest first.
    OldestFirst,
    /// Any key, or none, is answered with 200.
    AuthNotChecked,
    /// Pages are sent as `text/plain`.
    TextContentType,
    /// Page bodies are cut off half way.
    TruncatedBody,
    /// Empty pages claim `has_more: true` and carry ids.
    EmptyPageLies,
    /// An invalid `limit` crashes the server with a 500 whose debug page echoes the request
    /// headers, credentials included (as careless error pages do).
    InvalidLimitCrashes,
}

pub(super) struct Responder {
    config: MockConfig,
    items: Arc<Vec<Value>>,
}

impl Responder {
    pub(super) fn new(config: MockConfig, items: Arc<Vec<Value>>) -> Self {
        Responder { config, items }
    }

    fn has(&self, fault: Fault) -> bool {
        self.config.faults.contains(&fault)
    }

    fn authorized(&self, request: &Request) -> bool {
        let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
        match self.config.auth {
            AuthStyle::XApiKey => header("x-api-key") == Some(self.config.key.as_str()),
            AuthStyle::Bearer => header("authorization")
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|k| k == self.config.key),
        }
    }

    fn page(&self, limit: usize, after: Option<&str>) -> Result<Value, Box<ResponseTemplate>> {
        let listing: Vec<&Value> = if self.has(Fault::OldestFirst) {
            self.items.iter().rev().collect()
        } else {
            self.items.iter().collect()
        };
        let start = match after {
            None => 0,
            Some(cursor) => match listing.iter().position(|b| b["id"] == cursor) {
                Some(i) => i + 1,
                None => {
                    return Err(Box::new(error(
                        404,
                        "invalid_request_error",
                        &format!("No batch found with id '{cursor}'."),
                        Some("after"),
                        None,
                    )));
                }
            },
        };
        let take = if self.has(Fault::LimitPlusOne) {
            limit + 1
        } else {
            limit
        };
        let end = (start + take).min(listing.len());
        let mut data: Vec<Value> = listing[start..end].iter().map(|b| (*b).clone()).collect();
        let has_more = end < listing.len();
        if self.has(Fault::CreatedAtAsString) {
            for b in &mut data {
                b["created_at"] = b["created_at"].to_string().into();
            }
        }
        let id = |i: usize| data.get(i).map(|b| b["id"].clone()).unwrap_or(Value::Null);
        let first = if self.has(Fault::WrongFirstId) && data.len() > 1 {
            id(1)
        } else {
            id(0)
        };
        let last_index = data.len().saturating_sub(1);
        let last = if self.has(Fault::WrongLastId) && data.len() > 1 {
            id(last_index - 1)
        } else {
            id(last_index)
        };
        let mut body = json!({
            "object": "list",
            "data": data,
            "first_id": first,
            "last_id": last,
            "has_more": has_more,
        });
        if self.has(Fault::EmptyPageLies) && end == start {
            body["has_more"] = true.into();
            body["first_id"] = "batch_phantom".into();
            body["last_id"] = "batch_phantom".into();
        }
        if self.has(Fault::MissingHasMore) {
            body.as_object_mut().map(|o| o.remove("has_more"));
        }
        Ok(body)
    }

    fn limit(&self, request: &Request, raw: Option<&str>) -> Result<usize, Box<ResponseTemplate>> {
        let Some(raw) = raw else {
            return Ok(self.config.default_limit as usize);
        };
        let invalid = |message: String, code: &str| {
            if self.has(Fault::InvalidLimitCrashes) {
                let headers: Vec<String> = request
                    .headers
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
                    .collect();
                return Box::new(
                    ResponseTemplate::new(500)
                        .set_body_string(format!("Internal Server Error\n{}", headers.join("\n"))),
                );
            }
            Box::new(error(
                400,
                "invalid_request_error",
                &message,
                Some(&self.config.limit_param),
                Some(code),
            ))
        };
        let n: i64 = raw.parse().map_err(|_| {
            invalid(
                format!("Invalid type for 'limit': expected an integer, but got '{raw}'."),
                "invalid_type",
            )
        })?;
        if n < 1 {
            return Err(invalid(
                format!(
                    "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got {n} instead."
                ),
                "integer_below_min_value",
            ));
        }
        if n as u64 > self.config.max_limit {
            return Err(invalid(
                format!(
                    "Invalid 'limit': integer above maximum value. Expected a value <= {}, but got {n} instead.",
                    self.config.max_limit
                ),
                "integer_above_max_value",
            ));
        }
        Ok(n as usize)
    }
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let endpoint = format!(
            "{}{}",
            self.config.prefix.trim_end_matches('/'),
            self.config.path
        );
        if request.url.path() != endpoint {
            return error(
                404,
                "invalid_request_error",
                &format!("Unknown request URL: {}", request.url.path()),
                None,
                Some("unknown_url"),
            );
        }
        if request.method.as_str() != "GET" {
            return error(
                405,
                "invalid_request_error",
                "Only GET is supported on this URL.",
                None,
                None,
            );
        }
        if !self.has(Fault::AuthNotChecked) && !self.authorized(request) {
            return error(
                401,
                "invalid_request_error",
                "Incorrect API key provided.",
                None,
                Some("invalid_api_key"),
            );
        }
        let query = |name: &str| {
            request
                .url
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let result = self
            .limit(request, query(&self.config.limit_param).as_deref())
            .and_then(|limit| self.page(limit, query(&self.config.cursor_param).as_deref()));
        match result {
            Ok(body) => {
                let mut bytes = serde_json::to_vec(&body).expect("a JSON value serializes");
                if self.has(Fault::TruncatedBody) {
                    bytes.truncate(bytes.len() / 2);
                }
                let mime = if self.has(Fault::TextContentType) {
                    "text/plain"
                } else {
                    "application/json"
                };
                ResponseTemplate::new(200).set_body_raw(bytes, mime)
            }
            Err(response) => *response,
        }
    }
}

fn error(
    status: u16,
    kind: &str,
    message: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {"message": message, "type": kind, "param": param, "code": code}
    }))
}
