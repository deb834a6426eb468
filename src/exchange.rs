//! What checks judge: one request and the response it got (or why it got none), as plain
//! data. The HTTP client ([`crate::http`]) fills these in; checks and reports read them and
//! never import the client.

use std::fmt;
use std::time::Duration;

use ::http::StatusCode;
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
    pub status: StatusCode,
    pub content_type: Option<String>,
    /// The response's header names, lowercase, in the order received (values are not kept:
    /// they may echo credentials).
    pub header_names: Vec<String>,
    pub body: Vec<u8>,
    /// The retries before this response, if any.
    pub retries: Vec<Retry>,
    pub elapsed: Duration,
}

impl Exchange {
    /// `GET <url>`, as shown in reports.
    pub fn request_line(&self) -> String {
        format!("GET {}", self.url)
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
            Failure::Connection(message) | Failure::NotRecorded(message) => f.write_str(message),
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
