//! Runs one case: builds its request, sends it, and judges the response.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::case::Case;
use crate::check::judge;
use crate::http::{Failure, HttpClient, RequestOptions, Retry, Target, TransportError, seconds};
use crate::schema::SchemaSet;
use crate::violation::{Invariant, Violation};

/// What running a case found, and what it cost.
#[derive(Debug, Clone, Default)]
pub struct CaseRun {
    pub violations: Vec<Violation>,
    /// HTTP requests sent, retries included.
    pub requests: u32,
    /// Every retry of transient trouble, with the request it repeated (`GET <url>`).
    pub retries: Vec<(String, Retry)>,
}

impl CaseRun {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// Counts a request and its retries.
    fn record(&mut self, request: &str, retries: &[Retry]) {
        self.requests += retries.len() as u32 + 1;
        self.retries
            .extend(retries.iter().map(|r| (request.to_owned(), r.clone())));
    }
}

/// The run's request settings with the case's `[limits]` applied.
pub fn case_options(case: &Case, run: &RequestOptions) -> RequestOptions {
    let limits = &case.file.limits;
    let mut options = run.clone();
    if let Some(n) = limits.retry_attempts {
        options.retry.max_attempts = n;
    }
    if let Some(s) = limits.retry_budget_secs {
        options.retry.budget = Duration::from_secs_f64(s);
    }
    if let Some(s) = limits.request_timeout_secs {
        options.timeout = Duration::from_secs_f64(s);
    }
    options
}

/// Sends the case's request to `target` and judges the answer.
pub async fn run_case(
    case: &Case,
    target: &Target,
    http: &HttpClient,
    schemas: &SchemaSet,
    options: &RequestOptions,
) -> CaseRun {
    let query: Vec<(&str, &str)> = case
        .file
        .request
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.0.as_str()))
        .collect();
    let url = target.endpoint(&case.contract.path, &query);
    let headers = request_headers(case, target);

    let mut run = CaseRun::default();
    let page = 1;
    match http.get(url, headers, options).await {
        Ok(exchange) => {
            let request = exchange.request_line();
            run.record(&request, &exchange.retries);
            run.violations = judge(&exchange, case, schemas)
                .into_iter()
                .map(|mut v| {
                    v.request = Some(request.clone());
                    v
                })
                .collect();
        }
        Err(e) => {
            run.record(&e.request_line(), &e.retries);
            run.violations.push(transport_violation(&e, page));
        }
    }
    run
}

/// The violation for a request that got no usable response on page `page` of a case.
pub fn transport_violation(e: &TransportError, page: usize) -> Violation {
    let request = e.request_line();
    let attempts = e.retries.len() + 1;
    let tries = if attempts > 1 {
        format!(", after {attempts} attempts")
    } else {
        String::new()
    };
    let (invariant, expected, actual) = match &e.failure {
        Failure::TimedOut(after) => (
            Invariant::Transport,
            format!("a complete response within {} s", seconds(*after)),
            format!(
                "timed out after {} s on page {page} ({request}){tries}",
                seconds(*after)
            ),
        ),
        Failure::Connection(message) => (
            Invariant::Transport,
            "an HTTP response".to_owned(),
            format!("{message} on page {page}{tries} (is the server up and the base URL right?)"),
        ),
        Failure::TooLarge { cap, .. } => (
            Invariant::BodySize,
            format!("a body of at most {cap} bytes"),
            format!("{} on page {page}", e.failure),
        ),
    };
    let mut v = Violation::new(invariant, "", expected, actual);
    v.request = Some(request);
    v
}

/// The violation for a case that ran past its time limit.
pub fn case_timeout_violation(after: Duration) -> Violation {
    Violation::new(
        Invariant::Transport,
        "",
        format!("the case finishes within {} s", seconds(after)),
        format!(
            "timed out after {} s (raise CONTRACT_CASE_TIMEOUT or the case's `limits.case_timeout_secs` if the server is just slow)",
            seconds(after)
        ),
    )
}

fn request_headers(case: &Case, target: &Target) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in &case.file.request.headers {
        // Names and values were checked when the case was loaded.
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    if let Some((name, value)) = target.auth_header(case.file.request.auth) {
        headers.insert(name, value);
    }
    headers
}
