//! What checks judge: one request and the response it got (or why it got none), as plain
//! data. The HTTP client ([`crate::http`]) fills these in; checks and reports read them and
//! never import the client.

use std::fmt;
use std::time::{Duration, SystemTime};

use ::http::header::CONTENT_TYPE;
use ::http::{HeaderMap, StatusCode};
use url::Url;

/// One retry: why, and how long the harness waited before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    /// The attempt that failed (1 is the first).
    pub attempt: u32,
    /// `503 Service Unavailable`, `connection failed: …`.
    pub reason: String,
    pub waited: Duration,
}

impl fmt::Display for Retry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "attempt {} got {}; retried after {:.1} s",
            self.attempt,
            self.reason,
            self.waited.as_secs_f64()
        )
    }
}

/// One request and the response it got: all that checks look at.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub url: Url,
    /// The URL that answered, when a same-origin redirect was followed to it.
    pub answered_by: Option<Url>,
    pub status: StatusCode,
    pub content_type: Option<String>,
    /// The response's header names, lowercase, in the order received (values are not kept:
    /// they may echo credentials).
    pub header_names: Vec<String>,
    pub body: Vec<u8>,
    /// The retries before this response, if any.
    pub retries: Vec<Retry>,
    pub elapsed: Duration,
    /// The wait the last answer asked for (`Retry-After`), when it was a "try again" that was
    /// not waited: longer than the retry budget left.
    pub wait_refused: Option<Duration>,
}

impl Exchange {
    /// The exchange of a response read off the wire (or from a recording), after `retries`.
    pub fn new(
        url: Url,
        status: StatusCode,
        headers: &HeaderMap,
        body: Vec<u8>,
        retries: Vec<Retry>,
        elapsed: Duration,
    ) -> Exchange {
        Exchange {
            url,
            answered_by: None,
            status,
            content_type: headers
                .get(CONTENT_TYPE)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            header_names: headers.keys().map(|k| k.as_str().to_owned()).collect(),
            body,
            retries,
            elapsed,
            wait_refused: None,
        }
    }

    /// `GET <url>`, as shown in reports (and the URL that answered, after a redirect).
    pub fn request_line(&self) -> String {
        match &self.answered_by {
            Some(by) => format!("GET {} (redirected; answered by {by})", self.url),
            None => format!("GET {}", self.url),
        }
    }

    /// Attempts made, the first included.
    pub fn attempts(&self) -> u32 {
        self.retries.len() as u32 + 1
    }
}

/// Why a request got no usable response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No response within the request timeout.
    TimedOut(Duration),
    /// The connection could not be made or broke.
    Connection(String),
    /// The server answered with a redirect that was not followed (to another origin, or one
    /// too many): it would only happen again, so it is not retried.
    Redirect(String),
    /// The body is larger than the cap.
    TooLarge { cap: u64, declared: Option<u64> },
    /// A replay (`CONTRACT_REPLAY`) was asked a request its recording does not hold; the
    /// message names it and the closest recorded one.
    NotRecorded(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::TimedOut(after) => write!(f, "timed out after {} s", seconds(*after)),
            Failure::Connection(message)
            | Failure::Redirect(message)
            | Failure::NotRecorded(message) => f.write_str(message),
            Failure::TooLarge {
                cap,
                declared: Some(n),
            } => write!(
                f,
                "the body is {n} bytes (Content-Length), over the {cap}-byte cap (raise CONTRACT_MAX_BODY_BYTES if that is right)"
            ),
            Failure::TooLarge {
                cap,
                declared: None,
            } => write!(
                f,
                "the body passed the {cap}-byte cap before it ended (raise CONTRACT_MAX_BODY_BYTES if that is right)"
            ),
        }
    }
}

/// The request got no usable response.
#[derive(Debug, Clone, thiserror::Error)]
#[error("GET {url}: {failure} (after {} attempt(s))", retries.len() + 1)]
pub struct TransportError {
    pub url: Url,
    pub failure: Failure,
    pub retries: Vec<Retry>,
}

impl TransportError {
    /// `GET <url>`, as shown in reports.
    pub fn request_line(&self) -> String {
        format!("GET {}", self.url)
    }
}

/// A request's answer, when it was sent, and its entries in the run's recording.
#[derive(Debug)]
pub struct Sent {
    pub result: Result<Exchange, Box<TransportError>>,
    /// When the request was sent, in Unix seconds (a replay: when the recorded one was).
    pub sent_at: i64,
    /// Its attempts' ids in the run's recorder (`record::Recorder`); empty unless the run
    /// is recorded.
    pub entries: Vec<usize>,
}

/// A time in Unix seconds, as [`Sent::sent_at`] holds it.
pub fn unix_secs(t: SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Seconds for messages: `2`, `0.5`.
pub fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

/// Statuses that say "try again": timeout, rate limit, and a gateway or server in a deploy.
pub fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 502 | 503 | 504)
}

/// Why an attempt is tried again, as its [`Retry`] says (`503 Service Unavailable`,
/// `connection failed: …`): a transient status or a failed connection. `None`: the answer
/// stands.
pub fn retry_reason(outcome: Result<StatusCode, &Failure>) -> Option<String> {
    match outcome {
        Ok(status) if is_transient(status) => Some(status.to_string()),
        Err(Failure::Connection(message)) => Some(format!("connection failed: {message}")),
        _ => None,
    }
}
