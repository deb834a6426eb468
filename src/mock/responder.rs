//! The request gate of the reference mock: which requests get a page (path, method, auth,
//! required headers, a valid `limit`) and the error answers, in the suite's style, of those
//! that do not; transient trouble, live traffic and hangs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use wiremock::{Request, Respond, ResponseTemplate};

use super::answer::Answer;

use super::MockConfig;
use super::dataset::STATUSES;
use super::examples;
use super::fault::{Fault, WRONG_DEFAULT_LIMIT};
use crate::contract::{AuthStyle, ErrorStyle};

/// The ids of the parents a nested list's mock serves for the path parameter `param`.
pub fn parent_ids(param: &str) -> Vec<String> {
    (1..=3).map(|i| format!("{param}_parent_{i}")).collect()
}

/// Whether `path` is `template` with each `{name}` one of the parents the mock serves (a
/// template without parameters matches only itself).
fn path_matches(template: &str, path: &str, parents: &[crate::contract::Parent]) -> bool {
    if !template.contains('{') {
        return template == path;
    }
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter().zip(&p).all(|(t, p)| {
            match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                Some(name) => {
                    parents.iter().any(|parent| parent.param == name)
                        && parent_ids(name).iter().any(|id| id == p)
                }
                None => t == p,
            }
        })
}

pub(super) struct Responder {
    pub(super) config: MockConfig,
    pub(super) listing: Arc<Mutex<Vec<Value>>>,
    /// Requests past auth, for live traffic.
    pub(super) requests: AtomicUsize,
    /// Every request, for transient trouble.
    pub(super) received: AtomicUsize,
}

/// A request's query, decoded once.
pub(super) struct Query(pub(super) Vec<(String, String)>);

impl Query {
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What a request gets instead of a page: its error answer.
pub(super) type Refusal = Box<Answer>;

impl Responder {
    pub(super) fn new(config: MockConfig, listing: Arc<Mutex<Vec<Value>>>) -> Self {
        Responder {
            config,
            listing,
            requests: AtomicUsize::new(0),
            received: AtomicUsize::new(0),
        }
    }

    pub(super) fn has(&self, fault: Fault) -> bool {
        self.config.faults.contains(&fault)
    }

    fn authorized(&self, request: &Request) -> bool {
        let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
        let bearer = || header("authorization").and_then(|v| v.strip_prefix("Bearer "));
        let given = match self.config.auth {
            _ if self.has(Fault::BearerOnly) => bearer(),
            AuthStyle::XApiKey => header("x-api-key"),
            AuthStyle::Bearer => bearer(),
        };
        if self.has(Fault::KeyPresenceOnly) {
            return given.is_some_and(|k| !k.is_empty());
        }
        let key = Some(self.config.key.as_str());
        given == key || (self.config.bearer_too && bearer() == key)
    }

    /// An error response in the suite's style, or in the shape a fault gives it.
    pub(super) fn error(
        &self,
        status: u16,
        message: &str,
        param: Option<&str>,
        code: Option<&str>,
    ) -> Answer {
        let kind = "invalid_request_error";
        let body = if self.has(Fault::ErrorAsString) {
            json!({ "error": message })
        } else if self.has(Fault::ErrorFlat) {
            json!({"message": message, "type": kind, "code": code})
        } else if self.config.error_style == ErrorStyle::Anthropic {
            let kind = match status {
                401 => "authentication_error",
                403 => "permission_error",
                404 => "not_found_error",
                429 => "rate_limit_error",
                500.. => "api_error",
                _ => kind,
            };
            let request_id = self.request_id();
            return Answer::new(status)
                .insert_header("request-id", request_id.as_str())
                .set_body_json(json!({
                    "type": "error",
                    "error": {"type": kind, "message": message},
                    "request_id": request_id,
                }));
        } else {
            json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
        };
        Answer::new(status).set_body_json(body)
    }

    /// A parent list of a nested list's mock: three parents, on one page, behind the same
    /// auth; `None` when `request` is not for one.
    fn parent_list(&self, request: &Request) -> Option<Answer> {
        let prefix = self.config.prefix.trim_end_matches('/');
        let parent = self.config.parents.iter().find(|p| {
            p.list.as_ref().is_some_and(|list| {
                path_matches(
                    &format!("{prefix}{list}"),
                    request.url.path(),
                    &self.config.parents,
                )
            })
        })?;
        if request.method.as_str() != "GET" {
            return Some(self.error(405, "Only GET is supported on this URL.", None, None));
        }
        if !self.has(Fault::AuthNotChecked) && !self.authorized(request) {
            return Some(self.error(401, "Incorrect API key provided.", None, None));
        }
        let ids: Vec<String> = parent_ids(&parent.param);
        let items: Vec<Value> = ids
            .iter()
            .map(|id| json!({ parent.id_field.as_str(): id }))
            .collect();
        let mut page = json!({});
        if let Some(slot) = page.pointer_mut("") {
            let key = parent.data.trim_start_matches('/').to_owned();
            slot[key] = Value::Array(items);
        }
        if !self.config.envelope_object.is_empty() {
            page["object"] = json!(self.config.envelope_object);
        }
        page["has_more"] = json!(false);
        page["first_id"] = json!(ids.first());
        page["last_id"] = json!(ids.last());
        Some(Answer::new(200).set_body_json(page))
    }

    /// An Anthropic-style request id (`req_` and 24 hex digits), unique per request.
    fn request_id(&self) -> String {
        let mut rng = super::dataset::Rng(self.received.load(Ordering::Relaxed) as u64);
        format!("req_{:016x}{:08x}", rng.next(), rng.next() as u32)
    }

    /// The message of an invalid limit, in the suite's style.
    fn limit_message(&self, raw: &str, problem: LimitProblem) -> String {
        let (min, max) = (self.config.min_limit, self.config.max_limit);
        let name = &self.config.limit_param;
        match (self.config.error_style, problem) {
            (ErrorStyle::Openai, LimitProblem::NotInteger) => {
                format!("Invalid type for '{name}': expected an integer, but got '{raw}'.")
            }
            (ErrorStyle::Openai, LimitProblem::BelowMin(n)) => format!(
                "Invalid '{name}': integer below minimum value. Expected a value >= {min}, but got {n} instead."
            ),
            (ErrorStyle::Openai, LimitProblem::AboveMax(n)) => format!(
                "Invalid '{name}': integer above maximum value. Expected a value <= {max}, but got {n} instead."
            ),
            (ErrorStyle::Anthropic, LimitProblem::NotInteger) => format!(
                "{name}: Input should be a valid integer, unable to parse string as an integer"
            ),
            (ErrorStyle::Anthropic, LimitProblem::BelowMin(_)) => {
                format!("{name}: Input should be greater than or equal to {min}")
            }
            (ErrorStyle::Anthropic, LimitProblem::AboveMax(_)) => {
                format!("{name}: Input should be less than or equal to {max}")
            }
        }
    }

    /// Live traffic: every `every` requests, a new item appears at the head of the listing
    /// (and, among batches, an older one changes status), as other jobs on a staging account
    /// would make happen.
    fn live_traffic(&self, listing: &mut Vec<Value>, request_no: usize) {
        let Some(every) = self.config.live_every.filter(|n| *n > 0) else {
            return;
        };
        if !request_no.is_multiple_of(every) {
            return;
        }
        let tick = request_no / every;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let fresh = match &self.config.examples {
            Some(examples) => examples::live_item(&self.config, examples, tick, now),
            None => {
                if let Some(i) = (!listing.is_empty()).then(|| (tick * 37) % listing.len()) {
                    listing[i]["status"] = STATUSES[tick % STATUSES.len()].into();
                }
                let mut fresh = super::dataset::generate(1, self.config.seed ^ tick as u64)
                    .pop()
                    .expect("one batch");
                fresh["id"] = format!("batch_live{tick:06}").into();
                super::dataset::shift_times(&mut fresh, now - super::dataset::NEWEST);
                fresh
            }
        };
        listing.insert(0, fresh);
    }

    /// An item's id, if it has one.
    pub(super) fn id_of<'v>(&self, item: &'v Value) -> Option<&'v str> {
        item.get(&self.config.id_field).and_then(Value::as_str)
    }

    fn limit(&self, request: &Request, raw: Option<&str>) -> Result<usize, Refusal> {
        let default = if self.has(Fault::DefaultLimitWrong) {
            WRONG_DEFAULT_LIMIT
        } else {
            self.config.default_limit as usize
        };
        let Some(raw) = raw.filter(|_| !self.has(Fault::LimitIgnored)) else {
            return Ok(default);
        };
        let invalid = |problem: LimitProblem, code: &str| {
            if self.has(Fault::InvalidLimitCrashes) {
                let headers: Vec<String> = request
                    .headers
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
                    .collect();
                return Box::new(
                    Answer::new(500)
                        .set_body_string(format!("Internal Server Error\n{}", headers.join("\n"))),
                );
            }
            let message = self.limit_message(raw, problem);
            Box::new(self.error(400, &message, Some(&self.config.limit_param), Some(code)))
        };
        let Ok(n) = raw.parse::<i64>() else {
            if self.has(Fault::NonIntegerLimitAccepted) {
                return Ok(default);
            }
            return Err(invalid(LimitProblem::NotInteger, "invalid_type"));
        };
        if n < self.config.min_limit as i64 {
            if self.has(Fault::NonPositiveLimitAccepted) {
                return Ok(default);
            }
            return Err(invalid(
                LimitProblem::BelowMin(n),
                "integer_below_min_value",
            ));
        }
        if n as u64 > self.config.max_limit {
            if self.has(Fault::LimitAboveMaxClamped) {
                return Ok(self.config.max_limit as usize);
            }
            return Err(invalid(
                LimitProblem::AboveMax(n),
                "integer_above_max_value",
            ));
        }
        Ok(n as usize)
    }

    /// A 429 for transient trouble, in the suite's error style.
    fn rate_limited(&self) -> Answer {
        let response = match self.config.error_style {
            ErrorStyle::Openai => Answer::new(429)
                .set_body_json(json!({"error": {"message": "Rate limit reached.",
                    "type": "requests", "param": null, "code": "rate_limit_exceeded"}})),
            ErrorStyle::Anthropic => self.error(429, "Rate limit reached.", None, None),
        };
        response.insert_header("retry-after", "0.05")
    }

    fn answer(&self, request: &Request) -> Answer {
        let received = self.received.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(every) = self.config.transient_every.filter(|n| *n > 0)
            && received.is_multiple_of(every)
        {
            return if (received / every) % 2 == 1 {
                self.rate_limited()
            } else {
                Answer::new(503).set_body_string("Service Unavailable")
            };
        }
        if self.has(Fault::Persistent503) {
            return Answer::new(503).set_body_string("Service Unavailable");
        }
        let endpoint = format!(
            "{}{}",
            self.config.prefix.trim_end_matches('/'),
            self.config.path
        );
        if let Some(answer) = self.parent_list(request) {
            return answer;
        }
        if !path_matches(&endpoint, request.url.path(), &self.config.parents) {
            return self.error(
                404,
                &format!("Unknown request URL: {}", request.url.path()),
                None,
                Some("unknown_url"),
            );
        }
        if request.method.as_str() != "GET" {
            return self.error(405, "Only GET is supported on this URL.", None, None);
        }
        if !self.has(Fault::AuthNotChecked) && !self.authorized(request) {
            let status = if self.has(Fault::Forbidden403) {
                403
            } else {
                401
            };
            let message = match self.config.error_style {
                ErrorStyle::Openai => "Incorrect API key provided.",
                ErrorStyle::Anthropic => "invalid x-api-key",
            };
            return self.error(status, message, None, Some("invalid_api_key"));
        }
        if !self.has(Fault::RequiredHeaderNotChecked)
            && let Some(name) = self
                .config
                .headers
                .keys()
                .find(|name| !request.headers.contains_key(name.as_str()))
        {
            return self.error(400, &format!("{name}: header is required"), None, None);
        }
        let query = Query(
            request
                .url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        );
        let request_no = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let mut listing = self.listing.lock().unwrap_or_else(|e| e.into_inner());
        self.live_traffic(&mut listing, request_no);
        let result = self
            .limit(request, query.get(&self.config.limit_param))
            .and_then(|limit| self.page(&listing, limit, &query));
        drop(listing);
        match result {
            Ok(body) if self.config.additive_fields => {
                self.wire(&body).insert_header("x-batch-region", "eu-west")
            }
            Ok(body) => self.wire(&body),
            Err(response) => *response,
        }
    }
}

/// What is wrong with a `limit`.
#[derive(Debug, Clone, Copy)]
enum LimitProblem {
    NotInteger,
    BelowMin(i64),
    AboveMax(i64),
}

/// How long `Fault::Hang` keeps every request waiting.
const HANG: Duration = Duration::from_secs(60);

impl Responder {
    /// The answer to `request`, with the wait `Fault::Hang` puts before it.
    pub(super) fn reply(&self, request: &Request) -> Answer {
        let response = match &self.config.rate_budget {
            Some(budget) => match budget.take() {
                Ok(headers) => self.answer(request).with_headers(headers),
                Err(headers) => self.rate_limited().with_headers(headers),
            },
            None => self.answer(request),
        };
        if self.has(Fault::Hang) {
            response.set_delay(HANG)
        } else {
            response
        }
    }
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.reply(request).into_template()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::probe::Probe;
    use crate::mock::testing::{config, request, responder};
    use crate::mock::{DEFAULT_KEY, ReferenceMock};

    #[test]
    fn only_the_configured_key_in_the_configured_header_is_authorized() {
        let (mock, _) = responder(config(1).auth(AuthStyle::Bearer));
        let with =
            |headers: &[(&'static str, &str)]| mock.authorized(&request("/v1/batches", headers));
        let bearer = format!("Bearer {DEFAULT_KEY}");
        assert!(with(&[("authorization", &bearer)]));
        assert!(!with(&[("authorization", "Bearer sk-wrong")]));
        assert!(!with(&[("x-api-key", DEFAULT_KEY)]), "the other header");
        assert!(!with(&[]));
        let (presence, _) = responder(
            config(1)
                .auth(AuthStyle::Bearer)
                .fault(Fault::KeyPresenceOnly),
        );
        assert!(presence.authorized(&request("/v1/batches", &[("authorization", "Bearer x")])));
        assert!(!presence.authorized(&request("/v1/batches", &[])));
        let (x_api_key, _) = responder(config(1).auth(AuthStyle::XApiKey));
        assert!(x_api_key.authorized(&request("/v1/batches", &[("x-api-key", DEFAULT_KEY)])));
        assert!(!x_api_key.authorized(&request("/v1/batches", &[("authorization", &bearer)])));
        // As `serve` runs an x-api-key suite: the key as a bearer token too, never another key.
        let (both, _) = responder(config(1).auth(AuthStyle::XApiKey).bearer_too());
        assert!(both.authorized(&request("/v1/batches", &[("x-api-key", DEFAULT_KEY)])));
        assert!(both.authorized(&request("/v1/batches", &[("authorization", &bearer)])));
        assert!(!both.authorized(&request(
            "/v1/batches",
            &[("authorization", "Bearer sk-wrong")]
        )));
        assert!(!both.authorized(&request("/v1/batches", &[("x-api-key", "sk-wrong")])));
        assert!(!both.authorized(&request("/v1/batches", &[])));
    }

    #[test]
    fn a_limit_is_taken_in_range_and_refused_outside_it() {
        let (mock, _) = responder(config(1));
        let get = request("/v1/batches", &[]);
        let limit = |raw: Option<&str>| mock.limit(&get, raw).ok();
        assert_eq!(limit(None), Some(20), "the default");
        assert_eq!(limit(Some("7")), Some(7));
        assert_eq!(limit(Some("100")), Some(100));
        for refused in ["0", "-1", "101", "x", "7.5"] {
            assert_eq!(limit(Some(refused)), None, "{refused}");
        }
        let (clamped, _) = responder(config(1).fault(Fault::LimitAboveMaxClamped));
        assert_eq!(clamped.limit(&get, Some("101")).ok(), Some(100));
        assert!(
            clamped.limit(&get, Some("0")).is_err(),
            "only the one fault"
        );
    }

    #[tokio::test]
    async fn the_gate_refuses_a_wrong_key_an_unknown_url_and_other_methods() {
        let mock = ReferenceMock::start(config(5)).await;
        let probe = Probe::new(&mock);
        let (status, page) = probe.get("limit=2").await;
        assert_eq!(status, 200);
        assert_eq!(page["data"].as_array().map(Vec::len), Some(2));
        let (status, body) = Probe::new(&mock).key("sk-wrong").get("limit=2").await;
        assert_eq!(status, 401);
        assert_eq!(body["error"]["code"], "invalid_api_key");
        let (status, _) = probe.get_omitting("limit=2", &["key"]).await;
        assert_eq!(status, 401);

        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        let base = mock.base_url();
        let base = base.as_str().trim_end_matches('/');
        let unknown = http
            .get(format!("{base}/v1/nothing"))
            .bearer_auth(DEFAULT_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(unknown.status().as_u16(), 404);
        let body: serde_json::Value =
            serde_json::from_slice(&unknown.bytes().await.unwrap()).unwrap();
        assert_eq!(body["error"]["code"], "unknown_url");
        let post = http
            .post(format!("{base}/v1/batches"))
            .bearer_auth(DEFAULT_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(post.status().as_u16(), 405);
    }
}
