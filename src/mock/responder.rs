//! The contract, implemented: auth, limit validation, `after` cursors, newest first.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use wiremock::{Request, Respond, ResponseTemplate};

use super::MockConfig;
use super::dataset::STATUSES;
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
    /// `after` is ignored: every request gets the first page (a proxy that drops the query).
    CursorIgnored,
    /// The page after a cursor starts with the cursor's own item (`>=` where `>` was meant).
    CursorInclusive,
    /// The page after a cursor starts one item late: an item is skipped at every boundary.
    CursorSkipsOne,
    /// The item at the first page boundary at or past the middle of the listing is served
    /// again at the top of the next page, once.
    DuplicateOnce,
    /// The item after the first page boundary at or past the middle of the listing is
    /// skipped, once.
    GapOnce,
    /// `has_more` is true on every page, the last one included.
    HasMoreAlwaysTrue,
    /// `has_more` is false on the first page, although more items follow.
    HasMoreFalseEarly,
    /// After the last item, the cursor wraps around to the first page, `has_more` still true.
    WrapAround,
    /// Pages run from the oldest items to the newest, each sorted newest first inside (a
    /// server that pages ascending and sorts each page for display).
    PagesOldestFirst,
    /// Items with equal `created_at` come in reverse order when the limit is odd (a query plan
    /// that changes with the limit): every walk is consistent, but walks disagree.
    TieOrderDependsOnLimit,
}

pub(super) struct Responder {
    config: MockConfig,
    listing: Arc<Mutex<Vec<Value>>>,
    requests: AtomicUsize,
}

impl Responder {
    pub(super) fn new(config: MockConfig, listing: Arc<Mutex<Vec<Value>>>) -> Self {
        Responder {
            config,
            listing,
            requests: AtomicUsize::new(0),
        }
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

    /// Live traffic: every `every` requests, a new batch appears at the head of the listing
    /// and an older one changes status, as other jobs on a staging account would make happen.
    fn live_traffic(&self, listing: &mut Vec<Value>, request_no: usize) {
        let Some(every) = self.config.live_every.filter(|n| *n > 0) else {
            return;
        };
        if request_no % every != 0 {
            return;
        }
        let tick = request_no / every;
        if let Some(i) = (!listing.is_empty()).then(|| (tick * 37) % listing.len()) {
            listing[i]["status"] = STATUSES[tick % STATUSES.len()].into();
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let mut fresh = super::dataset::generate(1, self.config.seed ^ tick as u64)
            .pop()
            .expect("one batch");
        fresh["id"] = format!("batch_live{tick:06}").into();
        super::dataset::shift_times(&mut fresh, now - super::dataset::NEWEST);
        listing.insert(0, fresh);
    }

    fn page(
        &self,
        items: &[Value],
        limit: usize,
        after: Option<&str>,
    ) -> Result<Value, Box<ResponseTemplate>> {
        let mut listing: Vec<&Value> =
            if self.has(Fault::OldestFirst) || self.has(Fault::PagesOldestFirst) {
                items.iter().rev().collect()
            } else {
                items.iter().collect()
            };
        if self.has(Fault::TieOrderDependsOnLimit) && limit % 2 == 1 {
            for run in listing.chunk_by_mut(|a, b| a["created_at"] == b["created_at"]) {
                run.reverse();
            }
        }
        // The first page boundary at or past the middle, for the faults that strike once.
        let once_at = (listing.len() / 2).div_ceil(limit.max(1)) * limit.max(1);
        let start = match after {
            None => 0,
            Some(_) if self.has(Fault::CursorIgnored) => 0,
            Some(cursor) => match listing.iter().position(|b| b["id"] == cursor) {
                Some(i) if self.has(Fault::CursorInclusive) => i,
                Some(i) if self.has(Fault::CursorSkipsOne) => i + 2,
                Some(i) if self.has(Fault::PagesOldestFirst) => i + limit,
                Some(i) if self.has(Fault::DuplicateOnce) && i + 1 == once_at => i,
                Some(i) if self.has(Fault::GapOnce) && i + 1 == once_at => i + 2,
                Some(i) if self.has(Fault::WrapAround) && i + 1 == listing.len() => 0,
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
        }
        .min(listing.len());
        let take = if self.has(Fault::LimitPlusOne) {
            limit + 1
        } else if self.config.short_pages {
            limit.div_ceil(2)
        } else {
            limit
        };
        let end = (start + take).min(listing.len());
        let mut data: Vec<Value> = listing[start..end].iter().map(|b| (*b).clone()).collect();
        if self.has(Fault::PagesOldestFirst) {
            data.reverse();
        }
        let has_more = if self.has(Fault::HasMoreAlwaysTrue) || self.has(Fault::WrapAround) {
            true
        } else if self.has(Fault::HasMoreFalseEarly) && after.is_none() {
            false
        } else {
            end < listing.len()
        };
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
        let request_no = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let mut listing = self.listing.lock().unwrap_or_else(|e| e.into_inner());
        self.live_traffic(&mut listing, request_no);
        let result = self
            .limit(request, query(&self.config.limit_param).as_deref())
            .and_then(|limit| {
                self.page(&listing, limit, query(&self.config.cursor_param).as_deref())
            });
        drop(listing);
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
