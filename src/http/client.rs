//! The shared HTTP client of a run: sends a request over one connection pool, retries
//! transient trouble within the policy and records each attempt when the run is recorded; in
//! a replay, the recording answers instead (`Replayer::send`).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use url::Url;

use super::breaker::Breaker;
use super::breaker::RUN_STOPPED;
use super::gate::{Deadline, Gate, Pace};
use super::retry::{BACKOFF_CAP, RequestOptions, retry_after};
use crate::error::error_chain;
use crate::exchange::{Exchange, Failure, Retry, Sent, TransportError, retry_reason, unix_secs};
use crate::record::{Attempt, Recorder, USER_AGENT};
use crate::replay::Replayer;

/// The run-wide client settings.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub connect_timeout: Duration,
    /// Bodies larger than this are not read.
    pub max_body_bytes: u64,
    /// The user's cap: at most this many requests a second, whatever the server allows;
    /// `None`: no cap of the user's.
    pub rate_limit: Option<f64>,
    /// The pace while the server advertises no request budget (live runs: 10 a second, unless
    /// the user set a cap); a budget the server advertises replaces it. `None`: uncapped
    /// until the server advertises one.
    pub default_rate: Option<f64>,
    /// At most this many requests in flight at once; `None`: no cap.
    pub concurrency: Option<usize>,
    /// A PEM file of extra CA certificates to trust, beside the system roots.
    pub ca_cert: Option<std::path::PathBuf>,
    /// Honour `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY` (off for the local mock).
    pub use_env_proxy: bool,
    /// The run stops when nothing has answered for this long and the last requests in a row
    /// got no answer (see [`Breaker`]); `None`: never (each request fails on its own).
    pub stop_unanswered_after: Option<Duration>,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 8 * 1024 * 1024,
            rate_limit: None,
            default_rate: None,
            concurrency: None,
            ca_cert: None,
            use_env_proxy: false,
            stop_unanswered_after: None,
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
    /// Stops the whole run when the server answers nothing (live runs).
    breaker: Option<Arc<Breaker>>,
}

/// Where answers come from: the network, or a recording (which opens no socket at all).
/// Chosen once, when the client is built.
#[derive(Debug, Clone)]
enum Transport {
    Live(reqwest::Client),
    Replay(Arc<Replayer>),
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
            .connect_timeout(settings.connect_timeout)
            .redirect(redirect_policy());
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
            gate: Arc::new(Gate::new(
                settings.rate_limit,
                settings.default_rate,
                settings.concurrency,
            )),
            recorder: None,
            breaker: settings
                .stop_unanswered_after
                .map(|window| Arc::new(Breaker::new(window, Instant::now()))),
        })
    }

    /// A client that answers every request from `recording` and never opens a socket: no
    /// HTTP client is even built. Bodies over `max_body_bytes` fail as they would live.
    pub fn replaying(recording: Arc<Replayer>, max_body_bytes: u64) -> Self {
        HttpClient {
            transport: Transport::Replay(recording),
            max_body_bytes,
            gate: Arc::new(Gate::new(None, None, None)),
            recorder: None,
            breaker: None,
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

    /// Why the run stopped, if it did: the server stopped answering (see [`Breaker`]), or its
    /// budget would hold requests past their retry budget (see [`Gate`]).
    pub fn stopped(&self) -> Option<String> {
        self.breaker
            .as_ref()
            .and_then(|b| b.tripped())
            .or_else(|| self.gate.stopped())
    }

    /// The pace the run went at and why; `None` in a replay, which sends nothing.
    pub fn pace(&self) -> Option<Pace> {
        match self.transport {
            Transport::Live(_) => Some(self.gate.pace()),
            Transport::Replay(_) => None,
        }
    }

    /// The cap on requests in flight, if there is one.
    pub fn concurrency(&self) -> Option<usize> {
        self.gate.concurrency
    }

    /// GETs `url`. 408, 429, 502, 503, 504 and broken connections are retried within the
    /// policy; timeouts are not (a hung server would only hang again), nor failures that would
    /// only happen again (a redirect refused or looping, a malformed response head, a body
    /// over the cap, an untrusted certificate). A wait the server asks for is waited when it
    /// fits in what is left of the retry budget.
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
        match &self.transport {
            Transport::Live(client) => self.send_live(client, url, headers, options).await,
            Transport::Replay(recording) => {
                recording.send(url, &headers, self.max_body_bytes).await
            }
        }
    }

    /// [`HttpClient::send`] over the network, retrying within `options`.
    async fn send_live(
        &self,
        client: &reqwest::Client,
        url: Url,
        headers: HeaderMap,
        options: &RequestOptions,
    ) -> Sent {
        let start = Instant::now();
        let sent_at = unix_secs(SystemTime::now());
        let mut entries = Vec::new();
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
            let deadline = Deadline {
                at: tokio::time::Instant::from_std(start + policy.budget),
                budget: policy.budget,
                url: &url,
            };
            let (outcome, id) = self
                .attempt(
                    client,
                    &deadline,
                    &headers,
                    options.timeout,
                    sent_at,
                    attempt,
                )
                .await;
            entries.extend(id);
            if let Some(breaker) = &self.breaker {
                match &outcome {
                    // A redirect not followed is an answer too.
                    Ok(_) | Err((Failure::Redirect(_), _)) => breaker.answered(Instant::now()),
                    // No answer at all: a timeout, or a connection that failed for a reason
                    // that may pass (not a refused redirect, nor an untrusted certificate).
                    Err((failure @ Failure::TimedOut(_), _))
                    | Err((failure @ Failure::Connection(_), false)) => {
                        breaker.unanswered(Instant::now(), &url, &failure.to_string());
                    }
                    Err(_) => {}
                }
            }
            // A failure that would only happen again (`lasting`) is not retried.
            let (outcome, reason) = match outcome {
                Ok(raw) => {
                    let reason = retry_reason(Ok(raw.status));
                    (Ok(raw), reason)
                }
                Err((failure, lasting)) => {
                    let reason = if lasting {
                        None
                    } else {
                        retry_reason(Err(&failure))
                    };
                    (Err(failure), reason)
                }
            };
            let Some(reason) = reason else {
                return done(outcome, retries, entries);
            };
            let asked = match &outcome {
                Ok(raw) => retry_after(&raw.headers, SystemTime::now()),
                Err(_) => None,
            };
            let computed = backoff.next().unwrap_or(BACKOFF_CAP);
            let wait = asked.unwrap_or(computed);
            // A wait the server asks for is waited when it fits in the budget, however long
            // (`Retry-After: 31` in a 60 s budget); the backoff's own never passes `max_delay`.
            let out_of_budget = start.elapsed() + wait > policy.budget;
            let too_long = asked.is_none() && wait > policy.max_delay;
            if attempt >= policy.max_attempts || too_long || out_of_budget {
                let mut sent = done(outcome, retries, entries);
                if let (Ok(exchange), Some(asked)) = (&mut sent.result, asked)
                    && out_of_budget
                {
                    exchange.wait_refused = Some(asked);
                }
                return sent;
            }
            if let (Some(recorder), Some(id)) = (&self.recorder, entries.last()) {
                recorder.retried(*id, wait);
            }
            tokio::time::sleep(wait).await;
            retries.push(Retry {
                attempt,
                reason,
                waited: wait,
            });
        }
    }

    /// One attempt: send, then read the body within the cap, all within `timeout`. A failure
    /// comes with whether it would only happen again (a certificate the client does not trust).
    /// The attempt's id in the recorder comes with it, when the run is recorded.
    async fn attempt(
        &self,
        client: &reqwest::Client,
        deadline: &Deadline<'_>,
        headers: &HeaderMap,
        timeout: Duration,
        sent_at: i64,
        attempt: u32,
    ) -> (Result<Raw, (Failure, bool)>, Option<usize>) {
        let url = deadline.url;
        let begun = Instant::now();
        let started = SystemTime::now();
        // A request the server's budget would hold past its retry budget stops the run.
        let (_permit, ticket) = match self.gate.enter(deadline).await {
            Ok(entered) => entered,
            Err(_) => return (Err((rate_limited(url), true)), None),
        };
        // Once the run has stopped (the server answers nothing), nothing more is sent, not
        // even a request that was waiting for its turn.
        if let Some(breaker) = self.breaker.as_ref().filter(|b| b.tripped().is_some()) {
            return (Err((breaker.not_sent(url), true)), None);
        }
        let blocked = begun.elapsed();
        let mut head = None;
        let exchange = self.exchange(client, url, headers, timeout, &mut head);
        let outcome = match &self.breaker {
            // A request in flight when the run stops is given up at once: the server that
            // answered nothing else will not answer it.
            Some(breaker) => {
                let (exchange, tripping) =
                    (std::pin::pin!(exchange), std::pin::pin!(breaker.tripping()));
                match futures_util::future::select(exchange, tripping).await {
                    futures_util::future::Either::Left((outcome, _)) => outcome,
                    futures_util::future::Either::Right(((), _)) => {
                        Err((breaker.given_up(url), true))
                    }
                }
            }
            None => exchange.await,
        };
        // The budget a response advertises paces the requests after it (a 429's too).
        if let Ok(raw) = &outcome {
            self.gate.heard(ticket, &raw.headers);
        }
        let Some(recorder) = &self.recorder else {
            return (outcome, None);
        };
        let total = begun.elapsed() - blocked;
        let wait = head.map_or(total, |h: Instant| h - begun - blocked);
        let id = recorder.attempt(Attempt {
            url,
            answered_by: outcome
                .as_ref()
                .ok()
                .and_then(|raw| raw.answered_by.as_ref()),
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
        client: &reqwest::Client,
        url: &Url,
        headers: &HeaderMap,
        timeout: Duration,
        head: &mut Option<Instant>,
    ) -> Result<Raw, (Failure, bool)> {
        let exchange = async {
            let mut response = client
                .get(url.clone())
                .headers(headers.clone())
                .send()
                .await
                .map_err(|e| {
                    if e.is_redirect() {
                        // A refused redirect or a loop would only be refused again.
                        return (Failure::Redirect(error_chain(&e)), true);
                    }
                    // A malformed head or an untrusted certificate would only fail again.
                    let lasting = is_tls_failure(&e) || is_deterministic(&e);
                    (Failure::Connection(error_chain(&e)), lasting)
                })?;
            *head = Some(Instant::now());
            let answered_by = (response.url() != url).then(|| response.url().clone());
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
                answered_by,
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

/// Redirects followed at most, all within the request's origin.
pub const MAX_REDIRECTS: usize = 5;

/// Why a redirect was not followed: reqwest reports it as a redirect error.
#[derive(Debug, thiserror::Error)]
pub enum RedirectRefused {
    #[error(
        "redirected from {from} to {to}, another origin: not followed, so that the key and \
         the --header values go nowhere but the base URL's origin (if {origin} is the API, \
         point --base-url at it)"
    )]
    CrossOrigin { from: Url, to: Url, origin: String },
    #[error("redirected more than {MAX_REDIRECTS} times (last from {from} to {to}): not followed")]
    TooMany { from: Url, to: Url },
}

/// Follows a redirect only within the first request's origin (scheme, host and port all the
/// same: so never https to http), at most [`MAX_REDIRECTS`] times. reqwest's default follows
/// any origin and keeps `x-api-key` and custom headers; this one stops that request with a
/// redirect error instead.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let previous = attempt.previous();
        let (Some(first), Some(from)) = (previous.first(), previous.last()) else {
            return attempt.follow();
        };
        let to = attempt.url();
        if to.origin() != first.origin() {
            let error = RedirectRefused::CrossOrigin {
                from: from.clone(),
                to: to.clone(),
                origin: to.origin().ascii_serialization(),
            };
            return attempt.error(error);
        }
        if previous.len() > MAX_REDIRECTS {
            let error = RedirectRefused::TooMany {
                from: from.clone(),
                to: to.clone(),
            };
            return attempt.error(error);
        }
        attempt.follow()
    })
}

/// A response as read off the wire.
struct Raw {
    /// The URL that answered, when a same-origin redirect was followed to it.
    answered_by: Option<Url>,
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
            answered_by: raw.answered_by,
            ..Exchange::new(
                url,
                raw.status,
                &raw.headers,
                raw.body,
                retries,
                start.elapsed(),
            )
        }),
        Err(failure) => Err(Box::new(TransportError {
            url,
            failure,
            retries,
        })),
    }
}

/// Whether a request failed in a way that would only fail again: a redirect refused or
/// looping (reqwest's redirect policy), a request that could not be built (a bad scheme), or
/// a response head hyper could not parse (malformed, or over its size limit).
fn is_deterministic(e: &reqwest::Error) -> bool {
    if e.is_redirect() || e.is_builder() {
        return true;
    }
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(e) = next {
        if let Some(h) = e.downcast_ref::<hyper::Error>()
            && (h.is_parse() || h.is_parse_status() || h.is_parse_too_large())
        {
            return true;
        }
        next = e.source();
    }
    false
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

/// The failure of a request to `url` not sent because the server's budget stopped the run.
fn rate_limited(url: &Url) -> Failure {
    Failure::Connection(format!(
        "not sent: {RUN_STOPPED}{} is rate-limited past the retry budget (see the error after the summary)",
        url.origin().ascii_serialization()
    ))
}
