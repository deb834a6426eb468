//! Runs one case: builds its request, sends it, and judges the response.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::case::Case;
use crate::check::judge;
use crate::http::{HttpClient, Target, error_chain};
use crate::schema::SchemaSet;
use crate::violation::{Invariant, Violation};

/// What running a case found, and what it cost.
#[derive(Debug, Clone, Default)]
pub struct CaseRun {
    pub violations: Vec<Violation>,
    /// HTTP requests sent, retries included.
    pub requests: u32,
    /// Of those, retries of transient trouble.
    pub retries: u32,
}

impl CaseRun {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Sends the case's request to `target` and judges the answer.
pub async fn run_case(
    case: &Case,
    target: &Target,
    http: &HttpClient,
    schemas: &SchemaSet,
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
    match http.get(url.clone(), headers).await {
        Ok(exchange) => {
            run.requests += exchange.attempts;
            run.retries += exchange.attempts - 1;
            let request = exchange.request_line();
            run.violations = judge(&exchange, case, schemas)
                .into_iter()
                .map(|mut v| {
                    v.request = Some(request.clone());
                    v
                })
                .collect();
        }
        Err(e) => {
            run.requests += e.attempts;
            run.retries += e.attempts.saturating_sub(1);
            let mut v = Violation::new(
                Invariant::Transport,
                "",
                "an HTTP response",
                format!(
                    "{} (is the server up and the base URL right?)",
                    error_chain(&e)
                ),
            );
            v.request = Some(format!("GET {url}"));
            run.violations.push(v);
        }
    }
    run
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
