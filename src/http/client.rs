//! Talking to the endpoint: one shared client, auth headers and retries of transient trouble.
//! What it hands back is plain data ([`crate::exchange`]); masking lives in [`crate::redact`].

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
pub use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

use crate::case::AuthMode;
use crate::contract::AuthStyle;
pub use crate::exchange::{Exchange, Failure, Retry, TransportError, is_transient, seconds};
pub use crate::record::Recorder;
use crate::record::{Attempt, USER_AGENT};
pub use crate::redact::{Redactor, Secret};
pub use crate::replay::Replayer;

/// Where the cases are sent.
#[derive(Debug, Clone)]
pub struct Target {
    /// The base URL; may carry a path prefix (`https://host/gateway`).
    pub base: Url,
    pub key: Secret,
    pub auth: AuthStyle,
    /// `--auth none`: no credential is sent with any request (the auth cases do not run).
    pub no_auth: bool,
    /// Sent with every request (`--header`, `CONTRACT_HEADERS`); a case's own headers win.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// A key that no real server has issued, for the wrong-key cases.
pub const WRONG_KEY: &str = "lc-wrong-key-0000000000000000";

impl Target {
    /// `base` joined with the contract's `path` and the query, keeping any path prefix.
    pub fn endpoint(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        let joined = format!(
            "{}/{}",
            url.path().trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        url.set_path(&joined);
        url.set_query(None);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// A target at `base` that sends `key` in the `auth` style, and no other header.
    pub fn new(base: Url, key: Secret, auth: AuthStyle) -> Self {
        Target {
            base,
            key,
            auth,
            no_auth: false,
            headers: Vec::new(),
        }
    }

    /// The auth header for a case's auth mode, if any.
    pub fn auth_header(&self, mode: AuthMode) -> Option<(HeaderName, HeaderValue)> {
        if self.no_auth {
            return None;
        }
        let key = match mode {
            AuthMode::None => return None,
            AuthMode::Valid => self.key.expose(),
            AuthMode::Wrong => WRONG_KEY,
        };
        let (name, value) = match self.auth {
            AuthStyle::XApiKey => (HeaderName::from_static("x-api-key"), key.to_owned()),
            AuthStyle::Bearer => (AUTHORIZATION, format!("Bearer {key}")),
        };
        let mut value = HeaderValue::from_str(&value).ok()?;
        value.set_sensitive(true);
        Some((name, value))
    }
}

/// Parses a base URL from configuration, saying what is wrong with a bad one.
pub fn parse_base_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("`{text}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{text}` is not an http(s) URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "`{text}` carries a query or fragment (give the base only, e.g. https://staging.example.com/gateway)"
        ));
    }
    Ok(url)
}

/// Parses a header given as `Name: value`; the value is marked sensitive (never logged by
/// the client). `from` names where it came from, for the message.
pub fn parse_header(text: &str, from: &str) -> Result<(HeaderName, HeaderValue), String> {
    let Some((name, value)) = text.split_once(':') else {
        return Err(format!(
            "{from}: `{}` is not a header (write it as `Name: value`)",
            text.trim()
        ));
    };
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("{from}: `{}` is not a header name", name.trim()))?;
    let mut value = HeaderValue::from_str(value.trim()).map_err(|_| {
        format!("{from}: the value of `{name}` holds a character a header cannot carry")
    })?;
    value.set_sensitive(true);
    Ok((name, value))
}

/// The longest a replayed attempt takes (its recorded time, up to this).
pub const REPLAY_PACE: Duration = Duration::from_millis(2);

/// How transient trouble is retried.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The time one request may spend on retries, waits included; none starts past it.
    pub budget: Duration,
    /// Delay before the first retry when the server names none; doubles each time, with jitter.
    pub base_delay: Duration,
    /// The longest single wait; a server asking for more is not waited on.
    pub max_delay: Duration,
}

/// The longest wait the backoff itself reaches before its jitter (which adds up to as much
/// again): waits go 0.25, 0.5, 1, 2, 2, ... s (each up to twice that), so ten attempts fit the
/// budget with room to spare.
pub const BACKOFF_CAP: Duration = Duration::from_secs(2);

impl Default for RetryPolicy {
    /// Ten attempts: a server that answers one request in five with 503 or 429 fails a request
    /// on all ten about once in ten million, so a patient run passes; one that only answers
    /// 503 fails each request within about 20 s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            budget: Duration::from_secs(60),
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// Per-request settings: the run's, unless a case file overrides them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestOptions {
    pub retry: RetryPolicy,
    /// From sending the request to the last byte of the body.
    pub timeout: Duration,
}

impl Default for RequestOptions {
    fn default() -> Self {
        RequestOptions {
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// The run-wide client settings.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub connect_timeout: Duration,
    /// Bodies larger than this are not read.
    pub max_body_bytes: u64,
    /// At most this many requests a second (live runs); `None`: no cap.
    pub rate_limit: Option<f64>,
    /// At most this many requests in flight at once; `None`: no cap.
    pub concurrency: Option<usize>,
    /// A PEM file of extra CA certificates to trust, beside the system roots.
    pub ca_cert: Option<std::path::PathBuf>,
    /// Honour `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY` (off for the local mock).
    pub use_env_proxy: bool,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 8 * 1024 * 1024,
            rate_limit: None,
            concurrency: None,
            ca_cert: None,
            use_env_proxy: false,
        }
    }
}

/// The shared HTTP client of a run: one connection pool, and the caps on how hard it may
/// press a live server.
#[derive(Debug, Clone)]
pub struct HttpClient {
    transport: Transport,
    max_body_bytes: u64,
    gate: Arc<Gate>,
    /// Keeps every attempt for the run's HAR file (`CONTRACT_RECORD`).
    recorder: Option<Arc<Recorder>>,
}

/// Where answers come from: the network, or a recording (which opens no socket at all).
#[derive(Debug, Clone)]
enum Transport {
    Live(reqwest::Client),
    Replay(Arc<Replayer>),
}

/// A request's answer, when it was sent, and its entries in the run's recording.
#[derive(Debug)]
pub struct Sent {
    pub result: Result<Exchange, Box<TransportError>>,
    /// When the request was sent, in Unix seconds (a replay: when the recorded one was).
    pub sent_at: i64,
    /// Its attempts' ids in the run's [`Recorder`]; empty unless the run is recorded.
    pub entries: Vec<usize>,
}

/// Build errors of the client, named by the setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("CONTRACT_CA_CERT: cannot read {}: {source}", path.display())]
    CaUnreadable {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("CONTRACT_CA_CERT: {} holds no PEM certificate ({message})", path.display())]
    CaInvalid {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

impl HttpClient {
    pub fn new(settings: &ClientSettings) -> Result<Self, ClientError> {
        // rustls is built with ring as its only crypto provider (aws-lc-rs, reqwest's default,
        // is a long C build), so it is installed for the process; one installed before (by
        // an earlier client, or by a program embedding the harness) is kept.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(settings.connect_timeout);
        if !settings.use_env_proxy {
            builder = builder.no_proxy();
        }
        if let Some(path) = &settings.ca_cert {
            let pem = std::fs::read(path).map_err(|source| ClientError::CaUnreadable {
                path: path.clone(),
                source,
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                ClientError::CaInvalid {
                    path: path.clone(),
                    message: error_chain(&e),
                }
            })?;
            if certs.is_empty() {
                return Err(ClientError::CaInvalid {
                    path: path.clone(),
                    message: "no BEGIN CERTIFICATE block".into(),
                });
            }
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder
            .build()
            .map_err(|e| ClientError::Build(error_chain(&e)))?;
        Ok(HttpClient {
            transport: Transport::Live(client),
            max_body_bytes: settings.max_body_bytes,
            gate: Arc::new(Gate::new(settings.rate_limit, settings.concurrency)),
            recorder: None,
        })
    }

    /// A client that answers every request from `recording` and never opens a socket: no
    /// HTTP client is even built. Bodies over `max_body_bytes` fail as they would live.
    pub fn replaying(recording: Arc<Replayer>, max_body_bytes: u64) -> Self {
        HttpClient {
            transport: Transport::Replay(recording),
            max_body_bytes,
            gate: Arc::new(Gate::new(None, None)),
            recorder: None,
        }
    }

    /// Keeps every attempt in `recorder` as well.
    pub fn recording(mut self, recorder: Arc<Recorder>) -> Self {
        self.recorder = Some(recorder);
        self
    }

    /// The recorder, when the run is recorded.
    pub fn recorder(&self) -> Option<&Recorder> {
        self.recorder.as_deref()
    }

    /// The cap on requests in flight, if there is one.
    pub fn concurrency(&self) -> Option<usize> {
        self.gate.concurrency
    }

    /// GETs `url`. 408, 429, 502, 503, 504 and broken connections are retried within the
    /// policy; timeouts are not (a hung server would only hang again).
    pub async fn get(
        &self,
        url: Url,
        headers: HeaderMap,
        options: &RequestOptions,
    ) -> Result<Exchange, Box<TransportError>> {
        self.send(url, headers, options).await.result
    }

    /// [`HttpClient::get`], with when the request was sent and its recorded entries. A replay
    /// takes each attempt, and whether it was retried and after how long, from the
    /// recording, and does not wait.
    pub async fn send(&self, url: Url, headers: HeaderMap, options: &RequestOptions) -> Sent {
        let start = Instant::now();
        let sent_at = unix_secs(SystemTime::now());
        let mut entries = Vec::new();
        // The recorded attempt to answer the next one, in a replay.
        let mut replayed = match &self.transport {
            Transport::Live(_) => None,
            Transport::Replay(recording) => match recording.first(&url, &headers) {
                Ok(id) => Some(id),
                Err(message) => {
                    let failure = Failure::NotRecorded(message);
                    return Sent {
                        result: finish(Err(failure), url, Vec::new(), start),
                        sent_at,
                        entries,
                    };
                }
            },
        };
        let sent_at = match (&self.transport, replayed) {
            (Transport::Replay(recording), Some(id)) => recording.entries()[id].sent_at,
            _ => sent_at,
        };
        let policy = &options.retry;
        let mut retries = Vec::new();
        // Exponential backoff with jitter (in [d, 2d)), so that walks that failed together do
        // not retry together.
        let mut backoff = ExponentialBuilder::new()
            .with_min_delay(policy.base_delay)
            .with_factor(2.0)
            .with_max_delay(BACKOFF_CAP.max(policy.base_delay))
            .with_jitter()
            .without_max_times()
            .build();
        let done = |outcome, retries, entries| Sent {
            result: finish(outcome, url.clone(), retries, start),
            sent_at,
            entries,
        };
        loop {
            let attempt = retries.len() as u32 + 1;
            let (outcome, lasting) = match (&self.transport, replayed) {
                (Transport::Replay(recording), Some(id)) => {
                    // A recorded answer is at hand at once, but is given at the recorded
                    // pace (up to REPLAY_PACE): the walks of a cross-walk then run side by
                    // side as they did live, rather than one to its end before the next
                    // starts, and cases meet at shared walks much as they did.
                    let entry = &recording.entries()[id];
                    tokio::time::sleep((entry.wait + entry.receive).min(REPLAY_PACE)).await;
                    (self.replayed(recording, id), false)
                }
                _ => match self
                    .attempt(&url, &headers, options.timeout, sent_at, attempt)
                    .await
                {
                    (Ok(raw), id) => {
                        entries.extend(id);
                        (Ok(raw), false)
                    }
                    (Err((failure, lasting)), id) => {
                        entries.extend(id);
                        (Err(failure), lasting)
                    }
                },
            };
            let (reason, asked) = match &outcome {
                Ok(raw) if is_transient(raw.status) => (
                    raw.status.to_string(),
                    retry_after(&raw.headers, SystemTime::now()),
                ),
                Err(Failure::Connection(message)) if !lasting => {
                    (format!("connection failed: {message}"), None)
                }
                _ => return done(outcome, retries, entries),
            };
            let wait = match (&self.transport, replayed) {
                // A replay retries where the recorded run did, after the wait it took.
                (Transport::Replay(recording), Some(id)) => {
                    let next = recording.retry_of(id);
                    replayed = next;
                    match (next, recording.entries()[id].retried_after) {
                        (Some(_), Some(wait)) => wait,
                        _ => return done(outcome, retries, entries),
                    }
                }
                _ => {
                    let computed = backoff.next().unwrap_or(BACKOFF_CAP);
                    let wait = asked.unwrap_or(computed);
                    let out_of_budget = start.elapsed() + wait > policy.budget;
                    if attempt >= policy.max_attempts || wait > policy.max_delay || out_of_budget {
                        return done(outcome, retries, entries);
                    }
                    if let (Some(recorder), Some(id)) = (&self.recorder, entries.last()) {
                        recorder.retried(*id, wait);
                    }
                    tokio::time::sleep(wait).await;
                    wait
                }
            };
            retries.push(Retry {
                attempt,
                reason,
                waited: wait,
            });
        }
    }

    /// The recorded attempt `id` as a response off the wire, within the body cap.
    fn replayed(&self, recording: &Replayer, id: usize) -> Result<Raw, Failure> {
        let (status, headers, body) = recording.answer(id).answer?;
        let cap = self.max_body_bytes;
        let declared = headers
            .get(reqwest::header::CONTENT_LENGTH)
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
        Ok(Raw {
            status: StatusCode::from_u16(status).map_err(|_| {
                Failure::Connection(format!("the recording holds status {status}, not a status"))
            })?,
            version: String::new(),
            headers,
            body,
        })
    }

    /// One attempt: send, then read the body within the cap, all within `timeout`. A failure
    /// comes with whether it would only happen again (a certificate the client does not trust).
    /// The attempt's id in the recorder comes with it, when the run is recorded.
    async fn attempt(
        &self,
        url: &Url,
        headers: &HeaderMap,
        timeout: Duration,
        sent_at: i64,
        attempt: u32,
    ) -> (Result<Raw, (Failure, bool)>, Option<usize>) {
        let begun = Instant::now();
        let started = SystemTime::now();
        let _permit = self.gate.enter().await;
        let blocked = begun.elapsed();
        let mut head = None;
        let outcome = self.exchange(url, headers, timeout, &mut head).await;
        let Some(recorder) = &self.recorder else {
            return (outcome, None);
        };
        let total = begun.elapsed() - blocked;
        let wait = head.map_or(total, |h: Instant| h - begun - blocked);
        let id = recorder.attempt(Attempt {
            url,
            headers,
            started,
            begun,
            sent_at,
            attempt,
            outcome: match &outcome {
                Ok(raw) => Ok((
                    raw.status.as_u16(),
                    raw.version.clone(),
                    &raw.headers,
                    &raw.body,
                )),
                Err((failure, _)) => Err(failure),
            },
            blocked,
            wait,
            receive: total.saturating_sub(wait),
        });
        (outcome, Some(id))
    }

    /// Sends and reads one response within `timeout`; `head` is when its head arrived.
    async fn exchange(
        &self,
        url: &Url,
        headers: &HeaderMap,
        timeout: Duration,
        head: &mut Option<Instant>,
    ) -> Result<Raw, (Failure, bool)> {
        let Transport::Live(client) = &self.transport else {
            unreachable!("a replay answers from its recording and sends nothing")
        };
        let exchange = async {
            let mut response = client
                .get(url.clone())
                .headers(headers.clone())
                .send()
                .await
                .map_err(|e| (Failure::Connection(error_chain(&e)), is_tls_failure(&e)))?;
            *head = Some(Instant::now());
            let cap = self.max_body_bytes;
            if let Some(n) = response.content_length().filter(|n| *n > cap) {
                return Err((
                    Failure::TooLarge {
                        cap,
                        declared: Some(n),
                    },
                    true,
                ));
            }
            // The headers are taken, not copied: the body is read from the response alone.
            let headers = std::mem::take(response.headers_mut());
            let mut body = Vec::with_capacity(response.content_length().unwrap_or(0) as usize);
            while let Some(chunk) = response.chunk().await.map_err(|e| {
                (
                    Failure::Connection(format!("reading the body failed: {}", error_chain(&e))),
                    false,
                )
            })? {
                if (body.len() + chunk.len()) as u64 > cap {
                    return Err((
                        Failure::TooLarge {
                            cap,
                            declared: None,
                        },
                        true,
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Raw {
                status: response.status(),
                version: format!("{:?}", response.version()),
                headers,
                body,
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or(Err((Failure::TimedOut(timeout), true)))
    }
}

/// A response as read off the wire.
struct Raw {
    status: StatusCode,
    /// `HTTP/1.1`, for the recording.
    version: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

fn finish(
    outcome: Result<Raw, Failure>,
    url: Url,
    retries: Vec<Retry>,
    start: Instant,
) -> Result<Exchange, Box<TransportError>> {
    match outcome {
        Ok(raw) => Ok(Exchange {
            url,
            status: raw.status,
            content_type: raw
                .headers
                .get(CONTENT_TYPE)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            header_names: raw.headers.keys().map(|k| k.as_str().to_owned()).collect(),
            body: raw.body,
            retries,
            elapsed: start.elapsed(),
        }),
        Err(failure) => Err(Box::new(TransportError {
            url,
            failure,
            retries,
        })),
    }
}

fn unix_secs(t: SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The caps on concurrency and rate, shared by every request of a run: a semaphore for the
/// requests in flight, and a GCRA rate limiter (governor) with a burst of one, so starts are
/// spaced evenly.
#[derive(Debug)]
struct Gate {
    concurrency: Option<usize>,
    slots: Option<tokio::sync::Semaphore>,
    pace: Option<governor::DefaultDirectRateLimiter>,
}

impl Gate {
    fn new(rate: Option<f64>, concurrency: Option<usize>) -> Self {
        Gate {
            concurrency: concurrency.map(|n| n.max(1)),
            slots: concurrency.map(|n| tokio::sync::Semaphore::new(n.max(1))),
            pace: rate
                .filter(|r| *r > 0.0)
                .and_then(|r| governor::Quota::with_period(Duration::from_secs_f64(1.0 / r)))
                .map(governor::RateLimiter::direct),
        }
    }

    /// Waits for a free slot and for the next start time.
    async fn enter(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        let permit = match &self.slots {
            Some(s) => Some(s.acquire().await.expect("the semaphore is never closed")),
            None => None,
        };
        if let Some(pace) = &self.pace {
            pace.until_ready().await;
        }
        permit
    }
}

/// The wait a server asks for: `retry-after-ms`, or `Retry-After` in (decimal) seconds or
/// as an HTTP date.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return Duration::try_from_secs_f64(ms / 1000.0).ok();
    }
    let value = text(RETRY_AFTER.as_str())?;
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Whether a request failed on TLS itself (a certificate the client does not trust, a
/// protocol mismatch): trying again would only fail again. rustls's error sits inside an
/// `io::Error`, whose `source()` skips it, so those are looked into.
fn is_tls_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(e) = next {
        if e.is::<rustls::Error>() {
            return true;
        }
        next = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    false
}

/// An error and its sources, on one line: `a: b: c`.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(base: &str) -> Target {
        Target::new(
            parse_base_url(base).unwrap(),
            Secret::new("k"),
            AuthStyle::XApiKey,
        )
    }

    #[test]
    fn endpoint_keeps_the_path_prefix() {
        for base in ["http://h:1/gw", "http://h:1/gw/"] {
            let url = target(base).endpoint("/v1/batches", &[("limit", "7")]);
            assert_eq!(url.as_str(), "http://h:1/gw/v1/batches?limit=7");
        }
        let url = target("http://h:1").endpoint("/v1/batches", &[]);
        assert_eq!(url.as_str(), "http://h:1/v1/batches");
    }

    #[test]
    fn endpoint_encodes_query_values() {
        let url = target("http://h").endpoint("/v1/batches", &[("after", "a b&c")]);
        assert_eq!(url.query(), Some("after=a+b%26c"));
    }

    #[test]
    fn base_url_with_query_is_refused() {
        assert!(parse_base_url("http://h/?x=1").is_err());
        assert!(parse_base_url("ftp://h/").is_err());
        assert!(parse_base_url("not a url").is_err());
    }

    #[test]
    fn retry_after_reads_seconds_decimals_ms_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(2)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("0.5"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_millis(500)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(3));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(3)));
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_millis(250)));
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }
}
