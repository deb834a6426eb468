//! Replaying a recorded run ([`crate::record`]): a request is answered from the recording, no
//! socket is opened. A request matches a recorded one by method, path, query (in any order)
//! and headers: the same names, and the same values once masked, so a header the recording
//! masked matches whatever secret the replay sends in its place, and a header whose whole value
//! was masked (a `--header` secret; the credential aside) is not compared at all: the replay
//! may send it or not. The host is not compared:
//! the embedded mock's port changes from run to run. A request sent several times (a page two
//! cases send, a retry) takes the recorded answers in the order they were recorded.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ::http::{HeaderMap, StatusCode};
use serde_json::Value;
use url::Url;

use crate::error::error_chain;
use crate::exchange::{Exchange, Failure, Retry, Sent, TransportError, retry_reason, unix_secs};
use crate::record::{Answer, Entry, RunInfo, failure_from_json};
use crate::redact::Redactor;

/// What makes two requests the same to a replay.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
}

impl Key {
    fn new(url: &str, headers: impl Iterator<Item = (String, String)>) -> Key {
        let (path, mut query) = match Url::parse(url) {
            Ok(u) => (
                u.path().to_owned(),
                u.query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect::<Vec<_>>(),
            ),
            Err(_) => (url.to_owned(), Vec::new()),
        };
        query.sort();
        // The client's own `user-agent` changes with its version; it decides nothing. Nor
        // does a header whose whole value is secret (`--header`, masked as `***`): a replay
        // needs none of the secrets it was recorded with. The credential still counts, so
        // a case that sends no key or a wrong one stays another request.
        let mut headers: Vec<(String, String)> = headers
            .filter(|(name, value)| {
                name != "user-agent"
                    && (value != "***" || matches!(name.as_str(), "authorization" | "x-api-key"))
            })
            .collect();
        headers.sort();
        Key {
            path,
            query,
            headers,
        }
    }

    /// `GET /v1/batches?after=…&limit=7`, as a message names it.
    fn request_line(&self) -> String {
        let mut line = format!("GET {}", self.path);
        for (i, (k, v)) in self.query.iter().enumerate() {
            line.push(if i == 0 { '?' } else { '&' });
            line.push_str(&format!("{k}={v}"));
        }
        line
    }

    /// How far `other` is from this key (lower is closer: first what differs, then by how
    /// much a differing number does), and what differs.
    fn difference(&self, other: &Key) -> ((usize, f64), Vec<String>) {
        let mut diffs = Vec::new();
        let mut score = 0;
        let mut by = 0.0;
        if self.path != other.path {
            score += 100;
            diffs.push(format!("path {} recorded, {} now", other.path, self.path));
        }
        let names = |q: &[(String, String)]| {
            let mut n: Vec<String> = q.iter().map(|(k, _)| k.clone()).collect();
            n.dedup();
            n
        };
        let mut all = names(&self.query);
        all.extend(names(&other.query));
        all.sort();
        all.dedup();
        for name in all {
            let values = |q: &[(String, String)]| {
                q.iter()
                    .filter(|(k, _)| *k == name)
                    .map(|(_, v)| v.clone())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let (now, then) = (values(&self.query), values(&other.query));
            if now != then {
                score += 10;
                by += match (now.parse::<f64>(), then.parse::<f64>()) {
                    (Ok(a), Ok(b)) => (a - b).abs(),
                    _ => 1e9,
                };
                let show = |v: &str| {
                    if v.is_empty() {
                        "none".to_owned()
                    } else {
                        format!("{name}={v}")
                    }
                };
                diffs.push(format!(
                    "query {} recorded, {} now",
                    show(&then),
                    show(&now)
                ));
            }
        }
        let mut header_names: Vec<&String> = self
            .headers
            .iter()
            .chain(&other.headers)
            .map(|(k, _)| k)
            .collect();
        header_names.sort();
        header_names.dedup();
        for name in header_names {
            let value =
                |h: &[(String, String)]| h.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            let (now, then) = (value(&self.headers), value(&other.headers));
            if now != then {
                score += 1;
                let show = |v: Option<String>| match v {
                    Some(v) => format!("`{name}: {v}`"),
                    None => format!("no {name}"),
                };
                diffs.push(format!("header {} recorded, {} now", show(then), show(now)));
            }
        }
        ((score, by), diffs)
    }
}

/// The longest a replayed attempt takes (its recorded time, up to this).
pub const REPLAY_PACE: Duration = Duration::from_millis(2);

/// A recorded run, ready to answer a replay.
#[derive(Debug)]
pub struct Replayer {
    path: PathBuf,
    info: RunInfo,
    entries: Vec<Entry>,
    keys: Vec<Key>,
    /// The entries not yet replayed, per request, in recorded order.
    queues: Mutex<HashMap<Key, VecDeque<usize>>>,
    /// Entries replayed already: two equal requests retried side by side each follow their
    /// own recorded retries.
    taken: Vec<AtomicBool>,
    /// Masks the replay's requests as the recording masked its own.
    redactor: Redactor,
    /// Recorded entries left out: not a GET, or not to the recorded origin.
    ignored: usize,
}

/// A recorded attempt handed to a replayed request.
pub struct Replayed<'a> {
    pub entry: &'a Entry,
    /// The response, or why there was none.
    pub answer: Result<(u16, HeaderMap, Vec<u8>), Failure>,
}

impl Replayer {
    /// Reads the HAR file at `path`; `redactor` masks what the replay sends, for matching.
    pub fn load(path: &Path, redactor: Redactor) -> Result<Replayer, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let (entries, info, ignored) =
            parse_counting(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Replayer {
            ignored,
            ..Replayer::new(path.to_owned(), entries, info, redactor)
        })
    }

    /// A replayer of `entries` (in recorded order).
    pub fn new(path: PathBuf, entries: Vec<Entry>, info: RunInfo, redactor: Redactor) -> Self {
        let keys: Vec<Key> = entries
            .iter()
            .map(|e| Key::new(&e.url, e.headers.iter().cloned()))
            .collect();
        let mut queues: HashMap<Key, VecDeque<usize>> = HashMap::new();
        for (i, key) in keys.iter().enumerate() {
            // Only first attempts start a request; its retries follow it.
            if entries[i].attempt <= 1 {
                queues.entry(key.clone()).or_default().push_back(i);
            }
        }
        Replayer {
            path,
            info,
            taken: entries.iter().map(|_| AtomicBool::new(false)).collect(),
            entries,
            keys,
            queues: Mutex::new(queues),
            redactor,
            ignored: 0,
        }
    }

    /// What the recorded run was pointed at.
    pub fn info(&self) -> &RunInfo {
        &self.info
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The recorded entries, in recorded order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// `replay of FILE (recorded against URL)`: the target a replayed run reports.
    pub fn describe(&self) -> String {
        let bases: Vec<&str> = self.info.targets.iter().map(|t| t.base.as_str()).collect();
        let against = if self.info.reference_mock {
            format!("the embedded reference mock at {}", bases.join(", "))
        } else {
            bases.join(", ")
        };
        let ignored = match self.ignored {
            0 => String::new(),
            n => format!(
                "; {n} recorded entr{} ignored: not a GET to the recorded origin",
                if n == 1 { "y" } else { "ies" }
            ),
        };
        format!(
            "replay of {} (recorded against {against}{ignored})",
            self.path.display()
        )
    }

    /// The recorded base URL of `suite`, else the first recorded one.
    pub fn base_for(&self, suite: &str) -> Option<Url> {
        self.info
            .targets
            .iter()
            .find(|t| t.suite == suite)
            .or(self.info.targets.first())
            .and_then(|t| Url::parse(&t.base).ok())
    }

    /// The first attempt of the next recorded answer to `GET url` with `headers`, or why
    /// there is none (a message naming the request and the closest recorded one).
    pub fn first(&self, url: &Url, headers: &HeaderMap) -> Result<usize, String> {
        let key = Key::new(
            &self.redactor.redact(url.as_str()),
            headers.iter().map(|(n, v)| {
                let v = String::from_utf8_lossy(v.as_bytes());
                (n.as_str().to_owned(), self.redactor.redact(&v))
            }),
        );
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        match queues.get_mut(&key) {
            Some(queue) => queue.pop_front().inspect(|id| self.take(*id)).ok_or_else(|| {
                let times = self.keys.iter().zip(&self.entries)
                    .filter(|(k, e)| **k == key && e.attempt <= 1)
                    .count();
                format!(
                    "{} is in the recording {} {times} time(s), and this run sends it once more (a case that now sends it again, or a run with other cases than the recorded one)",
                    key.request_line(),
                    self.path.display(),
                )
            }),
            None => Err(self.not_recorded(&key)),
        }
    }

    /// The message for a request the recording does not hold.
    fn not_recorded(&self, key: &Key) -> String {
        let closest = self
            .keys
            .iter()
            .map(|k| (key.difference(k), k))
            .min_by(|((a, _), _), ((b, _), _)| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut text = format!(
            "{} is not in the recording {}",
            key.request_line(),
            self.path.display()
        );
        match closest {
            Some(((_, diffs), k)) => text.push_str(&format!(
                "; the closest recorded request: {} ({}) (a changed case file, limit or setting sends requests the recorded run did not: record again)",
                k.request_line(),
                diffs.join("; ")
            )),
            None => text.push_str(" (it holds no request)"),
        }
        text
    }

    /// The recorded attempt `id`, with its answer.
    pub fn answer(&self, id: usize) -> Replayed<'_> {
        let entry = &self.entries[id];
        let answer = match &entry.answer {
            Answer::Response {
                status,
                headers,
                body,
                ..
            } => {
                let mut map = HeaderMap::new();
                for (name, value) in headers {
                    if let (Ok(n), Ok(v)) = (
                        ::http::HeaderName::from_bytes(name.as_bytes()),
                        ::http::HeaderValue::from_str(value),
                    ) {
                        map.append(n, v);
                    }
                }
                Ok((*status, map, body.clone().into_bytes()))
            }
            Answer::Failed(f) => Err(f.clone()),
        };
        Replayed { entry, answer }
    }

    /// The attempt recorded after `id` for the same request, if `id` was retried.
    pub fn retry_of(&self, id: usize) -> Option<usize> {
        self.entries[id].retried_after?;
        let attempt = self.entries[id].attempt + 1;
        (id + 1..self.entries.len()).find(|&i| {
            self.keys[i] == self.keys[id]
                && self.entries[i].attempt == attempt
                && !self.taken[i].swap(true, Ordering::Relaxed)
        })
    }

    fn take(&self, id: usize) {
        self.taken[id].store(true, Ordering::Relaxed);
    }

    /// Answers `GET url` with `headers` from the recording, as the HTTP client would have:
    /// each attempt, and whether it was retried and after how long, come from the recording,
    /// and nothing is waited for but the recorded pace. Bodies over `max_body_bytes` fail as
    /// they would live. No socket is opened and nothing is recorded.
    pub async fn send(&self, url: Url, headers: &HeaderMap, max_body_bytes: u64) -> Sent {
        let start = Instant::now();
        // The recorded attempt to answer the next one.
        let mut replayed = match self.first(&url, headers) {
            Ok(id) => id,
            Err(message) => {
                return Sent {
                    result: Err(Box::new(TransportError {
                        url,
                        failure: Failure::NotRecorded(message),
                        retries: Vec::new(),
                    })),
                    sent_at: unix_secs(SystemTime::now()),
                    entries: Vec::new(),
                };
            }
        };
        let sent_at = self.entries[replayed].sent_at;
        let mut retries = Vec::new();
        let done = |outcome, retries, id: usize| Sent {
            result: match outcome {
                Ok((status, headers, body)) => Ok(Exchange {
                    // The URL that answered the recorded run, after a same-origin redirect.
                    answered_by: self.entries[id]
                        .answered_by
                        .as_deref()
                        .and_then(|u| Url::parse(u).ok()),
                    ..Exchange::new(
                        url.clone(),
                        status,
                        &headers,
                        body,
                        retries,
                        start.elapsed(),
                    )
                }),
                Err(failure) => Err(Box::new(TransportError {
                    url: url.clone(),
                    failure,
                    retries,
                })),
            },
            sent_at,
            entries: Vec::new(),
        };
        loop {
            let attempt = retries.len() as u32 + 1;
            // A recorded answer is at hand at once, but is given at the recorded pace (up to
            // REPLAY_PACE): the walks of a cross-walk then run side by side as they did live,
            // rather than one to its end before the next starts, and cases meet at shared
            // walks much as they did.
            let entry = &self.entries[replayed];
            tokio::time::sleep((entry.wait + entry.receive).min(REPLAY_PACE)).await;
            let outcome = self.response(replayed, max_body_bytes);
            let reason = match &outcome {
                Ok((status, _, _)) => retry_reason(Ok(*status)),
                Err(failure) => retry_reason(Err(failure)),
            };
            let Some(reason) = reason else {
                return done(outcome, retries, replayed);
            };
            // A replay retries where the recorded run did, after the wait it took.
            let wait = match (self.retry_of(replayed), entry.retried_after) {
                (Some(next), Some(wait)) => {
                    replayed = next;
                    wait
                }
                _ => return done(outcome, retries, replayed),
            };
            retries.push(Retry {
                attempt,
                reason,
                waited: wait,
            });
        }
    }

    /// The recorded attempt `id` as a response off the wire, within the body cap `cap`.
    fn response(&self, id: usize, cap: u64) -> Result<(StatusCode, HeaderMap, Vec<u8>), Failure> {
        let (status, headers, body) = self.answer(id).answer?;
        let declared = headers
            .get(::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if let Some(n) = declared.filter(|n| *n > cap) {
            return Err(Failure::TooLarge {
                cap,
                declared: Some(n),
            });
        }
        if body.len() as u64 > cap {
            return Err(Failure::TooLarge {
                cap,
                declared: None,
            });
        }
        let status = StatusCode::from_u16(status).map_err(|_| {
            Failure::Connection(format!("the recording holds status {status}, not a status"))
        })?;
        Ok((status, headers, body))
    }
}

/// Reads HAR 1.2 text into entries and the run's description.
pub fn parse(bytes: &[u8]) -> Result<(Vec<Entry>, RunInfo), String> {
    parse_counting(bytes).map(|(entries, info, _)| (entries, info))
}

/// [`parse`], and how many entries were left out: only GET requests to the recorded
/// origins (the base URLs of `_list_contract.targets`) answer a replay; anything else in the
/// file (a DELETE, another host's answer) is never taken for an answer.
pub fn parse_counting(bytes: &[u8]) -> Result<(Vec<Entry>, RunInfo, usize), String> {
    let har = har::from_slice(bytes).map_err(|e| format!("not a HAR file: {}", error_chain(&e)))?;
    let har::Spec::V1_2(log) = har.log else {
        return Err("a HAR 1.3 file; list-contract records and replays HAR 1.2".to_owned());
    };
    // The crate drops custom fields: they are read from the JSON itself.
    let value: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let custom = |i: usize| &value["log"]["entries"][i]["_list_contract"];
    let info: RunInfo = serde_json::from_value(value["log"]["_list_contract"].clone())
        .map_err(|_| {
            "its log has no `_list_contract` (a HAR not recorded by list-contract: record the run with CONTRACT_RECORD)"
                .to_owned()
        })?;
    let origins: Vec<url::Origin> = info
        .targets
        .iter()
        .filter_map(|t| Url::parse(&t.base).ok())
        .map(|u| u.origin())
        .collect();
    let mut entries = Vec::with_capacity(log.entries.len());
    let mut ignored = 0;
    for (i, e) in log.entries.into_iter().enumerate() {
        // A recording that names no target has no origin to keep to (a run refuses to replay
        // it, `ReplayNoTarget`); only the method is checked then.
        let recorded_origin = origins.is_empty()
            || Url::parse(&e.request.url).is_ok_and(|u| origins.contains(&u.origin()));
        if !e.request.method.eq_ignore_ascii_case("GET") || !recorded_origin {
            ignored += 1;
            continue;
        }
        let extra = custom(i);
        let headers = |h: Vec<har::v1_2::Headers>| {
            h.into_iter()
                .map(|h| (h.name.to_ascii_lowercase(), h.value))
                .collect::<Vec<_>>()
        };
        let answer = match extra.get("error").and_then(failure_from_json) {
            Some(failure) => Answer::Failed(failure),
            None => Answer::Response {
                status: u16::try_from(e.response.status).map_err(|_| {
                    format!("entry {i}: status {} is not a status", e.response.status)
                })?,
                version: e.response.http_version,
                headers: headers(e.response.headers),
                body: e.response.content.text.unwrap_or_default(),
            },
        };
        let started = chrono::DateTime::parse_from_rfc3339(&e.started_date_time)
            .map(|t| {
                UNIX_EPOCH + Duration::from_millis(u64::try_from(t.timestamp_millis()).unwrap_or(0))
            })
            .map_err(|err| format!("entry {i}: startedDateTime: {err}"))?;
        let ms = |v: Option<f64>| {
            Duration::try_from_secs_f64(v.unwrap_or(0.0).max(0.0) / 1000.0).unwrap_or_default()
        };
        let strings = |k: &str| {
            extra[k]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        entries.push(Entry {
            started,
            answered_by: e.response.redirect_url.filter(|u| !u.is_empty()),
            url: e.request.url,
            headers: headers(e.request.headers),
            answer,
            blocked: ms(e.timings.blocked),
            wait: ms(Some(e.timings.wait)),
            receive: ms(Some(e.timings.receive)),
            attempt: extra["attempt"].as_u64().map_or(1, |n| n as u32),
            retried_after: extra["retried_after_secs"]
                .as_f64()
                .and_then(|s| Duration::try_from_secs_f64(s).ok()),
            sent_at: extra["sent_at"].as_i64().unwrap_or_else(|| {
                started
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64)
            }),
            cases: strings("cases"),
            pages: strings("pages"),
        });
    }
    Ok((entries, info, ignored))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Secret;
    use std::collections::BTreeSet;
    use std::time::SystemTime;

    fn entry(url: &str, headers: &[(&str, &str)], status: u16) -> Entry {
        Entry {
            started: SystemTime::UNIX_EPOCH,
            answered_by: None,
            url: url.to_owned(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            answer: Answer::Response {
                status,
                version: "HTTP/1.1".into(),
                headers: Vec::new(),
                body: String::new(),
            },
            blocked: Duration::ZERO,
            wait: Duration::ZERO,
            receive: Duration::ZERO,
            attempt: 1,
            retried_after: None,
            sent_at: 0,
            cases: BTreeSet::new(),
            pages: BTreeSet::new(),
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (n, v) in pairs {
            map.insert(*n, ::http::HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn requests_match_by_path_query_in_any_order_and_masked_headers_not_host() {
        let replayer = Replayer::new(
            "r.har".into(),
            vec![
                entry(
                    "http://a:1/v1/batches?limit=7&order=asc",
                    &[("x-api-key", "***"), ("user-agent", "list-contract/0.0.1")],
                    200,
                ),
                entry("http://a:1/v1/batches?limit=7&order=asc", &[], 401),
                entry(
                    "http://a:1/v1/batches?limit=20",
                    &[("x-api-key", "***")],
                    200,
                ),
            ],
            RunInfo::default(),
            Redactor::new([Secret::new("sk-now")]),
        );
        let url = |u: &str| Url::parse(u).unwrap();
        let with_key = headers(&[("x-api-key", "sk-now")]);
        // Another host and port, the query in another order, another key (masked alike).
        let id = replayer
            .first(&url("http://b:2/v1/batches?order=asc&limit=7"), &with_key)
            .unwrap();
        assert_eq!(id, 0);
        let keyless = replayer
            .first(
                &url("http://b:2/v1/batches?order=asc&limit=7"),
                &HeaderMap::new(),
            )
            .unwrap();
        assert_eq!(keyless, 1);
        // An unmasked value must be equal: a key the replay does not mask is another request.
        let other = headers(&[("x-api-key", "sk-unknown")]);
        let err = replayer
            .first(&url("http://b:2/v1/batches?limit=20"), &other)
            .unwrap_err();
        assert!(
            err.contains("the closest recorded request: GET /v1/batches?limit=20 (header `x-api-key: ***` recorded, `x-api-key: sk-unknown` now)"),
            "{err}"
        );
        // The closest by number: limit=8 is nearer 7 than 20.
        let err = replayer
            .first(&url("http://b:2/v1/batches?limit=8&order=asc"), &with_key)
            .unwrap_err();
        assert!(
            err.contains("closest recorded request: GET /v1/batches?limit=7&order=asc (query limit=7 recorded, limit=8 now)"),
            "{err}"
        );
        // Once more than recorded.
        let err = replayer
            .first(&url("http://b:2/v1/batches?order=asc&limit=7"), &with_key)
            .unwrap_err();
        assert!(err.contains("in the recording r.har 1 time(s)"), "{err}");
    }

    #[test]
    fn a_replay_needs_none_of_the_secret_headers_it_was_recorded_with() {
        let recorded = entry(
            "http://a:1/v1/batches?limit=7",
            &[("x-api-key", "***"), ("x-gateway-token", "***")],
            200,
        );
        let replayer = |secret: &str| {
            Replayer::new(
                "r.har".into(),
                vec![recorded.clone()],
                RunInfo::default(),
                Redactor::new([Secret::new("sk-now"), Secret::new(secret.to_owned())]),
            )
        };
        let url = Url::parse("http://b:2/v1/batches?limit=7").unwrap();
        // Without the header, with it (masked alike), or with another secret value.
        for (secret, sent) in [
            ("tok", headers(&[("x-api-key", "sk-now")])),
            (
                "tok",
                headers(&[("x-api-key", "sk-now"), ("x-gateway-token", "tok")]),
            ),
            (
                "other",
                headers(&[("x-api-key", "sk-now"), ("x-gateway-token", "other")]),
            ),
        ] {
            assert_eq!(replayer(secret).first(&url, &sent), Ok(0), "{sent:?}");
        }
        // The credential still counts: a request with no key is another request.
        assert!(replayer("tok").first(&url, &HeaderMap::new()).is_err());
    }
}
