//! Recording a run as HTTP Archive (HAR 1.2, written with the `har` crate): every attempt of
//! every request, in the order sent, masked before it is kept. [`crate::replay`] reads the
//! file back and answers a run from it.
//!
//! Each entry carries a `_list_contract` object (HAR allows custom fields that start with
//! `_`): the cases that used the answer, the walk pages it was (`walk limit=7, page 3,
//! after=…`), the attempt, the wait before the retry that followed it, when the request was
//! first sent (Unix seconds: walks judge "created during the run" by it), and why there was
//! no response, if there was none. The log's own `_list_contract` says what was targeted.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use ::http::HeaderMap;
use har::v1_2;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;

use crate::exchange::Failure;
use crate::redact::Redactor;

/// What a run was pointed at: the log's `_list_contract`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// One base URL per suite (the embedded mock has one per suite), masked.
    pub targets: Vec<SuiteTarget>,
    /// Whether the run checked the embedded reference mock.
    pub reference_mock: bool,
    /// The auth style the run was told to use (`--auth`), if any: a replay uses it too.
    pub auth: Option<String>,
    /// `--auth none`: no credential was sent.
    pub no_auth: bool,
}

/// A suite (its folder name) and the base URL its requests went to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteTarget {
    pub suite: String,
    pub base: String,
}

/// How an attempt ended: a response (masked), or why there was none.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Response {
        status: u16,
        version: String,
        /// Name (lowercase) and masked value, in the order received.
        headers: Vec<(String, String)>,
        /// Masked; bytes that are not UTF-8 are kept as U+FFFD.
        body: String,
    },
    Failed(Failure),
}

/// One attempt, masked: what was sent and what came back.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub started: SystemTime,
    /// The masked URL.
    pub url: String,
    /// The masked URL that answered, when a same-origin redirect was followed to it (the
    /// HAR's `redirectURL`).
    pub answered_by: Option<String>,
    /// Name (lowercase) and masked value, as the harness set them, then `user-agent`.
    pub headers: Vec<(String, String)>,
    pub answer: Answer,
    /// Waiting for the rate and concurrency caps.
    pub blocked: Duration,
    /// From sending to the response's head.
    pub wait: Duration,
    /// Reading the body.
    pub receive: Duration,
    /// 1 for the first attempt of a request.
    pub attempt: u32,
    /// The wait before the retry that followed this attempt, if one did.
    pub retried_after: Option<Duration>,
    /// When the request's first attempt was sent, in Unix seconds.
    pub sent_at: i64,
    /// Cases whose answers came from this entry, by name.
    pub cases: BTreeSet<String>,
    /// The walk pages this entry answered (`walk limit=7, page 3, after=…`).
    pub pages: BTreeSet<String>,
}

/// One attempt as the HTTP layer hands it over, unmasked.
pub struct Attempt<'a> {
    pub url: &'a Url,
    /// The URL that answered, when a same-origin redirect was followed to it.
    pub answered_by: Option<&'a Url>,
    pub headers: &'a HeaderMap,
    pub started: SystemTime,
    /// For the order of the entries: when the attempt began, on the monotonic clock.
    pub begun: Instant,
    pub sent_at: i64,
    pub attempt: u32,
    pub outcome: Result<(u16, String, &'a HeaderMap, &'a [u8]), &'a Failure>,
    pub blocked: Duration,
    pub wait: Duration,
    pub receive: Duration,
}

/// The attempts of a run, masked as they come, written as HAR when the run ends.
#[derive(Debug)]
pub struct Recorder {
    redactor: Redactor,
    entries: Mutex<Vec<(Instant, Entry)>>,
}

/// The `user-agent` the client sends with every request.
pub const USER_AGENT: &str = concat!("list-contract/", env!("CARGO_PKG_VERSION"));

impl Recorder {
    /// A recorder that masks everything `redactor` masks (the key actually sent included).
    pub fn new(redactor: Redactor) -> Self {
        Recorder {
            redactor,
            entries: Mutex::default(),
        }
    }

    /// Keeps one attempt, masked; returns its id.
    pub fn attempt(&self, a: Attempt<'_>) -> usize {
        let mask = |text: &str| self.redactor.redact(text);
        let answer = match a.outcome {
            Ok((status, version, headers, body)) => Answer::Response {
                status,
                version,
                headers: mask_headers(headers, &self.redactor),
                body: mask(&String::from_utf8_lossy(body)),
            },
            Err(failure) => Answer::Failed(match failure {
                Failure::Connection(m) => Failure::Connection(mask(m)),
                Failure::Redirect(m) => Failure::Redirect(mask(m)),
                Failure::NotRecorded(m) => Failure::NotRecorded(mask(m)),
                other => other.clone(),
            }),
        };
        let mut headers = mask_headers(a.headers, &self.redactor);
        headers.push(("user-agent".to_owned(), USER_AGENT.to_owned()));
        let entry = Entry {
            started: a.started,
            url: mask(a.url.as_str()),
            answered_by: a.answered_by.map(|u| mask(u.as_str())),
            headers,
            answer,
            blocked: a.blocked,
            wait: a.wait,
            receive: a.receive,
            attempt: a.attempt,
            retried_after: None,
            sent_at: a.sent_at,
            cases: BTreeSet::new(),
            pages: BTreeSet::new(),
        };
        let mut entries = self.lock();
        entries.push((a.begun, entry));
        entries.len() - 1
    }

    /// Notes that the attempt `id` was retried after `wait`.
    pub fn retried(&self, id: usize, wait: Duration) {
        if let Some((_, e)) = self.lock().get_mut(id) {
            e.retried_after = Some(wait);
        }
    }

    /// Notes that `case` used the answers of `ids`.
    pub fn used_by(&self, ids: &[usize], case: &str) {
        let mut entries = self.lock();
        for id in ids {
            if let Some((_, e)) = entries.get_mut(*id) {
                e.cases.insert(case.to_owned());
            }
        }
    }

    /// Notes that `ids` answered the walk page `page`.
    pub fn page(&self, ids: &[usize], page: &str) {
        let page = self.redactor.redact(page);
        let mut entries = self.lock();
        for id in ids {
            if let Some((_, e)) = entries.get_mut(*id) {
                e.pages.insert(page.clone());
            }
        }
    }

    /// The entries so far, in the order their attempts began.
    pub fn entries(&self) -> Vec<Entry> {
        let mut entries = self.lock().clone();
        entries.sort_by_key(|(begun, _)| *begun);
        entries.into_iter().map(|(_, e)| e).collect()
    }

    /// Writes the run as HAR 1.2 to `path`; `info` (masked here) becomes the log's
    /// `_list_contract`.
    pub fn write(&self, path: &Path, info: &RunInfo) -> Result<(), String> {
        let mut info = info.clone();
        for t in &mut info.targets {
            t.base = self.redactor.redact(&t.base);
        }
        let text = to_har(&self.entries(), &info)?;
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Instant, Entry)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn mask_headers(headers: &HeaderMap, redactor: &Redactor) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes());
            (name.as_str().to_owned(), redactor.redact(&value))
        })
        .collect()
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn har_headers(headers: &[(String, String)]) -> Vec<v1_2::Headers> {
    headers
        .iter()
        .map(|(name, value)| v1_2::Headers {
            name: name.clone(),
            value: value.clone(),
            comment: None,
        })
        .collect()
}

/// The failure as the entry's `_list_contract.error`.
fn failure_json(failure: &Failure) -> Value {
    match failure {
        Failure::TimedOut(after) => json!({"kind": "timed_out", "secs": after.as_secs_f64()}),
        Failure::Connection(message) => json!({"kind": "connection", "message": message}),
        Failure::Redirect(message) => json!({"kind": "redirect", "message": message}),
        Failure::TooLarge { cap, declared } => {
            json!({"kind": "too_large", "cap": cap, "declared": declared})
        }
        Failure::NotRecorded(message) => json!({"kind": "not_recorded", "message": message}),
    }
}

/// Reads `_list_contract.error` back.
pub(crate) fn failure_from_json(v: &Value) -> Option<Failure> {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    Some(match v.get("kind")?.as_str()? {
        "timed_out" => {
            Failure::TimedOut(Duration::try_from_secs_f64(v.get("secs")?.as_f64()?).ok()?)
        }
        "connection" => Failure::Connection(text("message")?),
        "redirect" => Failure::Redirect(text("message")?),
        "too_large" => Failure::TooLarge {
            cap: v.get("cap")?.as_u64()?,
            declared: v.get("declared").and_then(Value::as_u64),
        },
        "not_recorded" => Failure::NotRecorded(text("message")?),
        _ => return None,
    })
}

/// The HAR text of `entries`, with `info` as the log's `_list_contract`.
pub fn to_har(entries: &[Entry], info: &RunInfo) -> Result<String, String> {
    let mut custom = Vec::with_capacity(entries.len());
    let har_entries = entries
        .iter()
        .map(|e| {
            let url = Url::parse(&e.url).ok();
            let query_string = url
                .iter()
                .flat_map(|u| u.query_pairs())
                .map(|(name, value)| v1_2::QueryString {
                    name: name.into_owned(),
                    value: value.into_owned(),
                    comment: None,
                })
                .collect();
            let response = match &e.answer {
                Answer::Response {
                    status,
                    version,
                    headers,
                    body,
                } => {
                    let mime = headers
                        .iter()
                        .find(|(n, _)| n == "content-type")
                        .map(|(_, v)| v.clone());
                    v1_2::Response {
                        status: i64::from(*status),
                        status_text: ::http::StatusCode::from_u16(*status)
                            .ok()
                            .and_then(|s| s.canonical_reason())
                            .unwrap_or_default()
                            .to_owned(),
                        http_version: version.clone(),
                        cookies: Vec::new(),
                        headers: har_headers(headers),
                        content: v1_2::Content {
                            size: body.len() as i64,
                            mime_type: Some(mime.unwrap_or_default()),
                            text: Some(body.clone()),
                            ..Default::default()
                        },
                        // The URL that answered, after a same-origin redirect.
                        redirect_url: Some(e.answered_by.clone().unwrap_or_default()),
                        headers_size: -1,
                        body_size: body.len() as i64,
                        comment: e
                            .answered_by
                            .as_ref()
                            .map(|by| format!("redirected; answered by {by}")),
                    }
                }
                // As browsers write a request that got no response: status 0, the reason
                // in `_list_contract.error` (and the comment, for viewers).
                Answer::Failed(failure) => v1_2::Response {
                    status: 0,
                    status_text: String::new(),
                    http_version: String::new(),
                    cookies: Vec::new(),
                    headers: Vec::new(),
                    content: v1_2::Content {
                        size: 0,
                        mime_type: Some(String::new()),
                        ..Default::default()
                    },
                    redirect_url: Some(String::new()),
                    headers_size: -1,
                    body_size: -1,
                    comment: Some(failure.to_string()),
                },
            };
            let mut extra = json!({
                "cases": e.cases,
                "pages": e.pages,
                "attempt": e.attempt,
                "sent_at": e.sent_at,
            });
            if let Some(wait) = e.retried_after {
                extra["retried_after_secs"] = json!(wait.as_secs_f64());
            }
            if let Answer::Failed(failure) = &e.answer {
                extra["error"] = failure_json(failure);
            }
            custom.push(extra);
            let version = match &e.answer {
                Answer::Response { version, .. } => version.clone(),
                Answer::Failed(_) => "HTTP/1.1".to_owned(),
            };
            v1_2::Entries {
                started_date_time: rfc3339(e.started),
                time: millis(e.blocked + e.wait + e.receive),
                request: v1_2::Request {
                    method: "GET".to_owned(),
                    url: e.url.clone(),
                    http_version: version,
                    cookies: Vec::new(),
                    headers: har_headers(&e.headers),
                    query_string,
                    post_data: None,
                    headers_size: -1,
                    body_size: 0,
                    comment: None,
                },
                response,
                cache: v1_2::Cache::default(),
                timings: v1_2::Timings {
                    blocked: Some(millis(e.blocked)),
                    dns: Some(-1.0),
                    connect: Some(-1.0),
                    send: 0.0,
                    wait: millis(e.wait),
                    receive: millis(e.receive),
                    ssl: Some(-1.0),
                    comment: None,
                },
                ..Default::default()
            }
        })
        .collect();
    let har = har::Har {
        log: har::Spec::V1_2(v1_2::Log {
            creator: v1_2::Creator {
                name: "list-contract".to_owned(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                comment: None,
            },
            entries: har_entries,
            comment: Some(
                "recorded by list-contract; replay with CONTRACT_REPLAY (--replay)".to_owned(),
            ),
            ..Default::default()
        }),
    };
    // The crate has no place for custom fields: they are added to its JSON.
    let mut value = serde_json::to_value(&har).map_err(|e| e.to_string())?;
    let log = &mut value["log"];
    log["_list_contract"] = serde_json::to_value(info).map_err(|e| e.to_string())?;
    if let Some(entries) = log["entries"].as_array_mut() {
        for (entry, extra) in entries.iter_mut().zip(custom) {
            entry["_list_contract"] = extra;
        }
    }
    serde_json::to_string_pretty(&value).map_err(|e| e.to_string())
}
