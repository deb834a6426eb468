//! How transient trouble is retried: the policy, the per-request options that carry it, and
//! the wait a server asks for.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How transient trouble is retried.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The time one request may spend on retries, waits included; none starts past it.
    pub budget: Duration,
    /// Delay before the first retry when the server names none; doubles each time, with jitter.
    pub base_delay: Duration,
    /// The longest wait the backoff picks itself. A wait the server asks for (`Retry-After`)
    /// is waited, however long, when it fits in what is left of `budget`; a longer one is not.
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

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

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
