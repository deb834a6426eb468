//! Talking to the endpoint: one shared client, auth headers, retries of transient trouble,
//! and masking of secrets in anything that may be printed.

use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{
    AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER,
};
use url::Url;

use crate::case::AuthMode;
use crate::contract::AuthStyle;

/// A value that must never be printed. `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Replaces every secret with `***` in text about to be printed.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<Secret>,
}

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = Secret>) -> Self {
        let mut secrets: Vec<Secret> = secrets.into_iter().filter(|s| !s.0.is_empty()).collect();
        // Longest first, so a secret that contains another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
        Redactor { secrets }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            if out.contains(s.expose()) {
                out = out.replace(s.expose(), "***");
            }
        }
        out
    }
}

/// Where the cases are sent.
#[derive(Debug, Clone)]
pub struct Target {
    /// The base URL; may carry a path prefix (`https://host/gateway`).
    pub base: Url,
    pub key: Secret,
    pub auth: AuthStyle,
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

    /// The auth header for a case's auth mode, if any.
    pub fn auth_header(&self, mode: AuthMode) -> Option<(HeaderName, HeaderValue)> {
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

/// How transient trouble is retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Delay before the first retry when the server gives none; doubles each time.
    pub base_delay: Duration,
    /// The longest single wait; a longer `Retry-After` is not waited out.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// One request and the response it got: all that checks look at.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub url: Url,
    pub status: StatusCode,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// Attempts made, the first included (more than one means retries).
    pub attempts: u32,
    pub elapsed: Duration,
}

impl Exchange {
    /// `GET <url>`, as shown in reports.
    pub fn request_line(&self) -> String {
        format!("GET {}", self.url)
    }
}

/// The request got no HTTP response.
#[derive(Debug, thiserror::Error)]
#[error("GET {url}: {message} after {attempts} attempt(s)")]
pub struct TransportError {
    pub url: Url,
    pub message: String,
    pub attempts: u32,
}

/// The shared HTTP client of a run.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    retry: RetryPolicy,
}

impl HttpClient {
    pub fn new(retry: RetryPolicy) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("list-contract/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(HttpClient { client, retry })
    }

    /// GETs `url`, retrying 429, 502, 503, 504 and connection failures.
    pub async fn get(&self, url: Url, headers: HeaderMap) -> Result<Exchange, TransportError> {
        let start = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let last = attempts >= self.retry.max_attempts;
            let sent = self
                .client
                .get(url.clone())
                .headers(headers.clone())
                .send()
                .await;
            let response = match sent {
                Ok(r) => r,
                Err(e) if !last && (e.is_connect() || e.is_request()) => {
                    tokio::time::sleep(self.backoff(attempts)).await;
                    continue;
                }
                Err(e) => {
                    return Err(TransportError {
                        url,
                        message: error_chain(&e),
                        attempts,
                    });
                }
            };
            let status = response.status();
            if !last && is_transient(status) {
                let wait = retry_after(response.headers(), SystemTime::now())
                    .unwrap_or_else(|| self.backoff(attempts));
                if wait <= self.retry.max_delay {
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            let body = response.bytes().await.map_err(|e| TransportError {
                url: url.clone(),
                message: format!("reading the body failed: {}", error_chain(&e)),
                attempts,
            })?;
            return Ok(Exchange {
                url,
                status,
                content_type,
                body: body.to_vec(),
                attempts,
                elapsed: start.elapsed(),
            });
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        (self.retry.base_delay * 2u32.saturating_pow(attempt.saturating_sub(1)))
            .min(self.retry.max_delay)
    }
}

fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
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
        Target {
            base: parse_base_url(base).unwrap(),
            key: Secret::new("k"),
            auth: AuthStyle::XApiKey,
        }
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

    #[test]
    fn redactor_masks_every_occurrence_and_debug_hides_secrets() {
        let r = Redactor::new([Secret::new("sk-canary"), Secret::new("")]);
        assert_eq!(r.redact("a sk-canary b sk-canary"), "a *** b ***");
        assert_eq!(format!("{:?}", Secret::new("sk-canary")), "***");
    }
}
