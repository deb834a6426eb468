//! The run's breaker: a server that answers nothing stops the whole run, not one request at
//! a time. Each request that ends with no answer at all (a timeout, a connection that cannot
//! be made or breaks) counts; any answer, whatever its status, resets the count. When
//! [`UNANSWERED_IN_A_ROW`] requests in a row across the run got none and nothing has answered
//! for the breaker's window (the request timeout), the breaker trips: every request after
//! that fails at once, without being sent, and every case not yet finished could not be
//! judged (exit 1). Pure bookkeeping: the times are handed in.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use url::Url;

use crate::exchange::{Failure, seconds};

/// What the failure of a request the run did not send, or gave up when it stopped, says.
pub const RUN_STOPPED: &str = "the run stopped, ";

/// Requests in a row, across the run, that got no answer before the breaker may trip: one
/// hung request in a healthy run is that case's trouble alone, two in a row with nothing
/// answered for a whole request timeout is a server that stopped answering.
pub const UNANSWERED_IN_A_ROW: u32 = 2;

/// The breaker of a run (shared by every request through the client).
#[derive(Debug)]
pub struct Breaker {
    /// How long nothing may answer before the breaker trips.
    window: Duration,
    state: Mutex<State>,
    /// Turns true when the breaker trips: requests in flight then stop waiting.
    stop: tokio::sync::watch::Sender<bool>,
}

#[derive(Debug)]
struct State {
    /// When something last answered (or the run began).
    last_answer: Instant,
    /// Requests in a row that got no answer.
    unanswered: u32,
    /// Why the run stopped, once it has.
    tripped: Option<String>,
}

impl Breaker {
    /// A breaker that trips after `window` without an answer; the run begins `now`.
    pub fn new(window: Duration, now: Instant) -> Self {
        Breaker {
            window,
            state: Mutex::new(State {
                last_answer: now,
                unanswered: 0,
                tripped: None,
            }),
            stop: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Resolves when the breaker trips (at once if it has): a request in flight stops waiting
    /// for an answer that is not coming.
    pub async fn tripping(&self) {
        let mut stop = self.stop.subscribe();
        let _ = stop.wait_for(|stopped| *stopped).await;
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Why the run stopped, if it has: the message every request after that fails with.
    pub fn tripped(&self) -> Option<String> {
        self.state().tripped.clone()
    }

    /// The failure of a request to `url` not sent because the run stopped.
    pub fn not_sent(&self, url: &Url) -> Failure {
        Failure::Connection(format!(
            "not sent: {RUN_STOPPED}{} had stopped answering (see the error after the summary)",
            url.origin().ascii_serialization()
        ))
    }

    /// The failure of a request to `url` in flight when the run stopped, given up.
    pub fn given_up(&self, url: &Url) -> Failure {
        Failure::Connection(format!(
            "no answer, given up when {RUN_STOPPED}{} had stopped answering (see the error after the summary)",
            url.origin().ascii_serialization()
        ))
    }

    /// A request got an answer (any status) at `now`.
    pub fn answered(&self, now: Instant) {
        let mut state = self.state();
        state.last_answer = state.last_answer.max(now);
        state.unanswered = 0;
    }

    /// A request to `url` got no answer (`what`: `timed out after 30 s`); returns whether the
    /// breaker trips with it.
    pub fn unanswered(&self, now: Instant, url: &Url, what: &str) -> bool {
        let mut state = self.state();
        if state.tripped.is_some() {
            return false;
        }
        state.unanswered += 1;
        let silent = now.saturating_duration_since(state.last_answer);
        if state.unanswered < UNANSWERED_IN_A_ROW || silent < self.window {
            return false;
        }
        let mut where_ = url.clone();
        where_.set_query(None);
        where_.set_fragment(None);
        state.tripped = Some(format!(
            "{where_} stopped answering: {} requests in a row got no answer (the last: {what}) \
             and nothing answered for {} s, so the run stopped; every case not finished could \
             not be judged (is the server up, and the base URL right?)",
            state.unanswered,
            seconds(Duration::from_secs(silent.as_secs())),
        ));
        self.stop.send_replace(true);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("http://127.0.0.1:9/v1/batches?limit=1&after=x").unwrap()
    }

    #[test]
    fn two_unanswered_in_a_row_after_a_silent_window_trip_it() {
        let t0 = Instant::now();
        let b = Breaker::new(Duration::from_secs(30), t0);
        // A hung request: one in a row, 30 s of silence: not yet.
        assert!(!b.unanswered(t0 + Duration::from_secs(30), &url(), "timed out after 30 s"));
        assert_eq!(b.tripped(), None);
        // The second in a row, 60 s of silence: the run stops.
        assert!(b.unanswered(t0 + Duration::from_secs(60), &url(), "timed out after 30 s"));
        let message = b.tripped().unwrap();
        assert!(
            message.starts_with("http://127.0.0.1:9/v1/batches stopped answering: 2 requests in a row got no answer (the last: timed out after 30 s) and nothing answered for 60 s"),
            "{message}"
        );
        assert!(!message.contains("after=x"), "{message}");
        // Tripped once: later failures change nothing.
        assert!(!b.unanswered(t0 + Duration::from_secs(61), &url(), "x"));
        assert_eq!(b.tripped(), Some(message));
    }

    #[test]
    fn an_answer_resets_the_count_and_the_window() {
        let t0 = Instant::now();
        let b = Breaker::new(Duration::from_secs(30), t0);
        assert!(!b.unanswered(t0 + Duration::from_secs(30), &url(), "timed out"));
        b.answered(t0 + Duration::from_secs(31));
        assert!(!b.unanswered(t0 + Duration::from_secs(50), &url(), "timed out"));
        // Two in a row again, but the last answer was 29 s ago: not yet.
        assert!(!b.unanswered(t0 + Duration::from_secs(60), &url(), "timed out"));
        assert!(b.unanswered(t0 + Duration::from_secs(62), &url(), "timed out"));
    }

    #[test]
    fn quick_failures_trip_it_only_once_the_window_has_passed() {
        // Connection refused fails in a millisecond: the retries go on until nothing has
        // answered for the whole window.
        let t0 = Instant::now();
        let b = Breaker::new(Duration::from_secs(30), t0);
        for s in 1..30 {
            assert!(!b.unanswered(t0 + Duration::from_secs(s), &url(), "refused"));
        }
        assert!(b.unanswered(t0 + Duration::from_secs(30), &url(), "refused"));
    }

    /// The default run against a server that accepts and never answers: requests time out
    /// after 30 s (not retried); with one case at a time, the second timeout, at 60 s, stops
    /// the run; with two or more cases side by side, the first round, at 30 s. Within the
    /// minute either way; the preflight connect (10 s at most) comes before.
    #[test]
    fn the_default_run_against_a_black_hole_stops_within_a_minute() {
        let timeout = crate::http::RequestOptions::default().timeout;
        assert_eq!(timeout, Duration::from_secs(30));
        for side_by_side in [1u32, 2, 4] {
            let t0 = Instant::now();
            let b = Breaker::new(timeout, t0);
            let mut now = t0;
            let mut rounds = 0;
            'run: loop {
                rounds += 1;
                now += timeout;
                for _ in 0..side_by_side {
                    if b.unanswered(now, &url(), "timed out after 30 s") {
                        break 'run;
                    }
                }
            }
            assert!(
                now - t0 <= Duration::from_secs(60),
                "{side_by_side}: {rounds}"
            );
        }
    }
}
