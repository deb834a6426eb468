//! The caps on how hard a run presses a live server: requests in flight, and requests a
//! second, paced by the budget the server advertises (`ratelimit.rs`) within the user's cap.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};

use super::ratelimit::{self, Budget, Dialect};

/// The caps on concurrency and rate, shared by every request of a run: a semaphore for the
/// requests in flight, and a pacer that spaces starts evenly.
#[derive(Debug)]
pub(super) struct Gate {
    pub(super) concurrency: Option<usize>,
    slots: Option<tokio::sync::Semaphore>,
    pacer: Pacer,
}

/// The number of a request's start, to match its response's headers to what the server had
/// seen when it answered.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ticket(u64);

impl Gate {
    /// `cap`: the user's cap, never passed; `default`: the pace while the server advertises
    /// no budget (a server's budget replaces it).
    pub(super) fn new(cap: Option<f64>, default: Option<f64>, concurrency: Option<usize>) -> Self {
        let positive = |r: Option<f64>| r.filter(|r| r.is_finite() && *r > 0.0);
        Gate {
            concurrency: concurrency.map(|n| n.max(1)),
            slots: concurrency.map(|n| tokio::sync::Semaphore::new(n.max(1))),
            pacer: Pacer {
                cap: positive(cap),
                default: positive(default),
                state: Mutex::new(State::default()),
                stop: tokio::sync::watch::Sender::new(false),
            },
        }
    }

    /// Waits for a free slot and for the next start time. `Err`: the run stopped, because the
    /// server's budget would hold a request past its `deadline` (this one's, or one before);
    /// the message says why, and nothing more is sent.
    pub(super) async fn enter(
        &self,
        deadline: &Deadline<'_>,
    ) -> Result<(Option<tokio::sync::SemaphorePermit<'_>>, Ticket), String> {
        let permit = match &self.slots {
            Some(s) => Some(s.acquire().await.expect("the semaphore is never closed")),
            None => None,
        };
        Ok((permit, self.pacer.start(deadline).await?))
    }

    /// Why the run stopped, if the server's budget stopped it.
    pub(super) fn stopped(&self) -> Option<String> {
        self.pacer.state().stopped.clone()
    }

    /// Takes in the budget a response's headers advertise.
    pub(super) fn heard(&self, ticket: Ticket, headers: &HeaderMap) {
        self.pacer.heard(ticket, headers);
    }

    /// The pace of the run so far.
    pub(super) fn pace(&self) -> Pace {
        self.pacer.pace()
    }
}

/// A request waiting for its turn, and how long it may wait: what its retry budget has left.
#[derive(Debug, Clone)]
pub(super) struct Deadline<'a> {
    /// No start after this.
    pub(super) at: Instant,
    /// The retry budget it is part of (`CONTRACT_RETRY_BUDGET`).
    pub(super) budget: Duration,
    /// The server asked: `https://staging.example.com/v1/batches`.
    pub(super) url: &'a url::Url,
}

/// Spaces starts evenly at the pace of the moment: the user's cap, the server's budget, or
/// the default. The pace may change between two starts (a response brought a budget), so each
/// start is timed from the one before at the pace then in force, not booked ahead.
#[derive(Debug)]
struct Pacer {
    cap: Option<f64>,
    default: Option<f64>,
    state: Mutex<State>,
    /// Turns true when the run stops: starts waiting for their turn stop waiting.
    stop: tokio::sync::watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct State {
    /// When the last start was due (not when it happened: a late wake does not slow the
    /// pace).
    last: Option<Instant>,
    /// No start before this: the server's budget is spent until its reset.
    hold_until: Option<Instant>,
    /// Starts so far.
    started: u64,
    /// The start whose response set the server's pace (older responses are older news).
    heard_from: Option<u64>,
    /// The pace the server's budget allows, and the budget that set it.
    server: Option<(f64, Budget)>,
    /// The budget that set `hold_until`.
    held_by: Option<Budget>,
    holds: u32,
    /// Why the run stopped, once the server's budget stopped it.
    stopped: Option<String>,
    /// Starts that waited for their turn so far, and the places of those still waiting (in the
    /// order they came).
    arrivals: u64,
    waiting: std::collections::BTreeSet<u64>,
}

/// A start's place among those waiting for their turn, given up when it starts, stops, or is
/// dropped.
struct Queued<'a> {
    pacer: &'a Pacer,
    place: Option<u64>,
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        if let Some(place) = self.place {
            self.pacer.state().waiting.remove(&place);
        }
    }
}

impl Pacer {
    /// The pace in force: the server's budget within the user's cap, else the cap, else the
    /// default; `None`: uncapped.
    fn rate(&self, state: &State) -> Option<f64> {
        match state.server {
            Some((server, _)) => Some(self.cap.map_or(server, |cap| cap.min(server))),
            None => self.cap.or(self.default),
        }
    }

    /// Resolves when the run stops (at once if it has).
    async fn stopping(&self) {
        let mut stop = self.stop.subscribe();
        let _ = stop.wait_for(|stopped| *stopped).await;
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the server's budget, not the user's cap, spaces the starts.
    fn server_paced(&self, state: &State) -> bool {
        state
            .server
            .is_some_and(|(server, _)| self.cap.is_none_or(|cap| cap >= server))
    }

    async fn start(&self, deadline: &Deadline<'_>) -> Result<Ticket, String> {
        let mut queued = Queued {
            pacer: self,
            place: None,
        };
        loop {
            let due = {
                let mut state = self.state();
                if let Some(why) = &state.stopped {
                    return Err(why.clone());
                }
                let now = Instant::now();
                let interval = self.rate(&state).map(|r| Duration::from_secs_f64(1.0 / r));
                let spaced = match (state.last, interval) {
                    (Some(last), Some(interval)) => Some(last + interval),
                    _ => None,
                };
                let due = spaced.max(state.hold_until).filter(|due| *due > now);
                // A turn past the deadline that the server's budget sets (a hold, or its pace,
                // the starts waiting ahead of this one counted; not the user's cap, nor the
                // default) stops the run: the requests after this one would wait longer still,
                // so none is sent.
                if let Some(due) = due {
                    let place = *queued.place.get_or_insert_with(|| {
                        state.arrivals += 1;
                        let place = state.arrivals;
                        state.waiting.insert(place);
                        place
                    });
                    let ahead = state.waiting.range(..place).count() as u32;
                    let turn = due + interval.unwrap_or_default() * ahead;
                    let held = state
                        .hold_until
                        .filter(|h| *h > deadline.at)
                        .zip(state.held_by)
                        .map(|(until, b)| (until, Hold::Spent(b)));
                    let paced = (self.server_paced(&state) && turn > deadline.at)
                        .then_some(state.server)
                        .flatten()
                        .map(|(rate, b)| (turn, Hold::Paced(rate, b, ahead)));
                    if let Some((turn, why)) = held.or(paced) {
                        let message = why.stop_message(
                            turn - now,
                            deadline.at.saturating_duration_since(now),
                            deadline,
                        );
                        state.stopped = Some(message.clone());
                        self.stop.send_replace(true);
                        return Err(message);
                    }
                }
                if due.is_none() {
                    // On time or a little late: the next start is timed from when this one was
                    // due; after a pause, from now (no burst to catch up).
                    state.last = Some(match (spaced.max(state.hold_until), interval) {
                        (Some(due), Some(interval)) if now - due < interval => due,
                        _ => now,
                    });
                    state.started += 1;
                    return Ok(Ticket(state.started - 1));
                }
                due
            };
            if let Some(due) = due {
                tokio::select! {
                    () = tokio::time::sleep_until(due) => {}
                    // (A stop before the subscription is seen: `wait_for` reads the value first.)
                    () = self.stopping() => {}
                }
            }
        }
    }

    fn heard(&self, ticket: Ticket, headers: &HeaderMap) {
        let budgets = ratelimit::read(headers, SystemTime::now());
        if budgets.is_empty() {
            return;
        }
        let mut state = self.state();
        if state.heard_from.is_some_and(|from| from > ticket.0) {
            return;
        }
        state.heard_from = Some(ticket.0);
        // Requests started after this one: the server had not counted them.
        let unseen = state.started.saturating_sub(ticket.0 + 1) as f64;
        let mut slowest: Option<(f64, Budget)> = None;
        let mut longest: Option<(Duration, Budget)> = None;
        for budget in budgets {
            let advice = budget.advise(unseen);
            if let Some(rate) = advice.rate
                && slowest.is_none_or(|(r, _)| rate < r)
            {
                slowest = Some((rate, budget));
            }
            if let Some(hold) = advice.hold
                && longest.is_none_or(|(h, _)| hold > h)
            {
                longest = Some((hold, budget));
            }
        }
        if slowest.is_some() {
            state.server = slowest;
        }
        if let Some((hold, budget)) = longest {
            let now = Instant::now();
            if state.hold_until.is_none_or(|until| until <= now) {
                state.holds += 1;
            }
            if state.hold_until.is_none_or(|until| until < now + hold) {
                state.hold_until = Some(now + hold);
                state.held_by = Some(budget);
            }
        }
    }

    fn pace(&self) -> Pace {
        let state = self.state();
        let rate = self.rate(&state);
        let server = state.server.map(|(pace, budget)| ServerBudget {
            headers: budget.dialect,
            limit: budget.limit,
            window_secs: budget.window,
            pace,
        });
        let chosen_by = match (&server, self.cap) {
            (Some(s), Some(cap)) if cap < s.pace => PaceSource::YourCap,
            (Some(_), _) => PaceSource::ServerBudget,
            (None, Some(_)) => PaceSource::YourCap,
            (None, None) if self.default.is_some() => PaceSource::DefaultCap,
            (None, None) => PaceSource::Uncapped,
        };
        Pace {
            rate,
            chosen_by,
            cap: self.cap,
            server,
            holds: state.holds,
        }
    }
}

/// What of the server's budget kept a request from its turn.
enum Hold {
    /// Spent until it comes back.
    Spent(Budget),
    /// A pace this slow (requests a second), with this many starts waiting ahead.
    Paced(f64, Budget, u32),
}

impl Hold {
    /// Why the run stopped: a request would have waited `wait` for its turn, its retry budget
    /// having `left`.
    fn stop_message(&self, wait: Duration, left: Duration, deadline: &Deadline<'_>) -> String {
        let budget = match self {
            Hold::Spent(b) | Hold::Paced(_, b, _) => b,
        };
        let advertised = match (budget.limit, budget.window) {
            (Some(limit), Some(window)) => {
                format!("{} request(s) a {} s window", number(limit), number(window))
            }
            (Some(limit), None) => format!("{} request(s)", number(limit)),
            (None, _) => "its remaining requests and reset".to_owned(),
        };
        let now = match self {
            Hold::Spent(b) => format!(
                "{} left{}",
                b.remaining.map_or("none".to_owned(), number),
                b.reset
                    .map(|r| format!(", whole again in {} s", number(r)))
                    .unwrap_or_default()
            ),
            Hold::Paced(rate, _, 0) => format!("a pace of {}", per_minute(*rate)),
            Hold::Paced(rate, _, ahead) => format!(
                "a pace of {}, and {ahead} request(s) waiting ahead of it",
                per_minute(*rate)
            ),
        };
        let mut url = deadline.url.clone();
        url.set_query(None);
        url.set_fragment(None);
        format!(
            "{url} is rate-limited past the retry budget: its {} headers advertise {advertised} \
             ({now}), so a request would have waited {} s for its turn, and its retry budget \
             (CONTRACT_RETRY_BUDGET={} s) had {} s left; the run stopped, and every case not \
             finished could not be judged (raise CONTRACT_RETRY_BUDGET to wait that long, \
             check fewer suites or cases, or give the key a larger rate limit)",
            budget.dialect.headers(),
            number(wait.as_secs_f64()),
            number(deadline.budget.as_secs_f64()),
            number(left.as_secs_f64()),
        )
    }
}

/// A number as a person reads it: whole, or to one decimal.
fn number(n: f64) -> String {
    if (n - n.round()).abs() < 0.05 {
        format!("{:.0}", n.round())
    } else {
        format!("{n:.1}")
    }
}

/// A pace as a person reads it: `1 request(s) a minute`, `9.7 request(s)/s`.
fn per_minute(rate: f64) -> String {
    if rate < 1.0 {
        format!("{} request(s) a minute", number(rate * 60.0))
    } else {
        format!("{} request(s)/s", number(rate))
    }
}

/// The pace a run went at, and why: what the summary's `pace:` line and the JSON report's
/// `pace` say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pace {
    /// Requests a second at most, as the run ended; `None`: uncapped.
    pub rate: Option<f64>,
    pub chosen_by: PaceSource,
    /// The user's cap (`CONTRACT_RATE_LIMIT`), if any.
    pub cap: Option<f64>,
    /// The budget the server last advertised, if it did.
    pub server: Option<ServerBudget>,
    /// Times every request waited for the server's budget to be replenished.
    pub holds: u32,
}

/// What set the pace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaceSource {
    YourCap,
    ServerBudget,
    DefaultCap,
    Uncapped,
}

/// A budget the server advertised, and the pace it allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerBudget {
    pub headers: Dialect,
    /// Requests a window.
    pub limit: Option<f64>,
    pub window_secs: Option<f64>,
    /// Requests a second it allowed, as the run ended.
    pub pace: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn openai(limit: &str, remaining: &str, reset: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "x-ratelimit-limit-requests",
            HeaderValue::from_str(limit).unwrap(),
        );
        h.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from_str(remaining).unwrap(),
        );
        h.insert(
            "x-ratelimit-reset-requests",
            HeaderValue::from_str(reset).unwrap(),
        );
        h
    }

    /// A deadline `secs` from now (a retry budget of that).
    fn within(secs: u64) -> Deadline<'static> {
        Deadline {
            at: Instant::now() + Duration::from_secs(secs),
            budget: Duration::from_secs(secs),
            url: Box::leak(Box::new(
                "http://127.0.0.1:9/v1/batches?limit=1&after=b_1"
                    .parse()
                    .unwrap(),
            )),
        }
    }

    #[test]
    fn the_pace_is_the_default_until_a_budget_is_heard_then_the_budget_within_the_cap() {
        let gate = Gate::new(None, Some(10.0), Some(4));
        assert_eq!(gate.pace().rate, Some(10.0));
        assert_eq!(gate.pace().chosen_by, PaceSource::DefaultCap);
        gate.heard(Ticket(0), &openai("1200", "1199", "50ms"));
        let pace = gate.pace();
        assert_eq!(pace.chosen_by, PaceSource::ServerBudget);
        assert!((pace.rate.unwrap() - 20.0 * ratelimit::BUDGET_SHARE).abs() < 1e-9);
        assert_eq!(pace.server.as_ref().unwrap().limit, Some(1200.0));

        let capped = Gate::new(Some(5.0), Some(10.0), None);
        assert_eq!(capped.pace().chosen_by, PaceSource::YourCap);
        capped.heard(Ticket(0), &openai("1200", "1199", "50ms"));
        assert_eq!(capped.pace().rate, Some(5.0));
        assert_eq!(capped.pace().chosen_by, PaceSource::YourCap);
        // A budget below the cap sets the pace.
        capped.heard(Ticket(1), &openai("60", "59", "1s"));
        assert_eq!(capped.pace().chosen_by, PaceSource::ServerBudget);
        assert!(capped.pace().rate.unwrap() < 1.0);

        let uncapped = Gate::new(None, None, None);
        assert_eq!(
            (uncapped.pace().rate, uncapped.pace().chosen_by),
            (None, PaceSource::Uncapped)
        );
    }

    #[test]
    fn older_news_is_ignored_and_a_spent_budget_holds_every_start() {
        let gate = Gate::new(None, Some(10.0), None);
        gate.heard(Ticket(5), &openai("600", "500", "10s"));
        let after_five = gate.pace().rate;
        gate.heard(Ticket(3), &openai("60", "1", "59s"));
        assert_eq!(
            gate.pace().rate,
            after_five,
            "an older response changes nothing"
        );
        assert_eq!(gate.pace().holds, 0);
        gate.heard(Ticket(6), &openai("600", "0", "2s"));
        assert_eq!(gate.pace().holds, 1);
        // Held already: the next spent answer extends the same hold.
        gate.heard(Ticket(7), &openai("600", "0", "2s"));
        assert_eq!(gate.pace().holds, 1);
    }

    #[tokio::test]
    async fn starts_are_spaced_evenly_and_follow_the_pace_as_it_changes() {
        let gate = Gate::new(None, Some(50.0), None);
        let t0 = Instant::now();
        for _ in 0..6 {
            gate.enter(&within(600)).await.unwrap();
        }
        // Six starts 20 ms apart (wall time: generous above, exact below).
        let took = t0.elapsed();
        assert!(took >= Duration::from_millis(100), "{took:?}");
        assert!(took < Duration::from_millis(600), "{took:?}");
        let (_, ticket) = gate.enter(&within(600)).await.unwrap();
        gate.heard(ticket, &openai("6000", "5000", "10s"));
        let t1 = Instant::now();
        for _ in 0..10 {
            gate.enter(&within(600)).await.unwrap();
        }
        let took = t1.elapsed();
        // 100 a second less the share kept back: ten starts take about 100 ms.
        assert!(took >= Duration::from_millis(90), "{took:?}");
        assert!(took < Duration::from_millis(600), "{took:?}");
        // Spent: every start waits until a request is back (one a second; the reset is sooner).
        let (_, ticket) = gate.enter(&within(600)).await.unwrap();
        gate.heard(ticket, &openai("60", "0", "300ms"));
        let t2 = Instant::now();
        gate.enter(&within(600)).await.unwrap();
        assert!(
            t2.elapsed() >= Duration::from_millis(290),
            "{:?}",
            t2.elapsed()
        );
    }

    #[tokio::test]
    async fn a_hold_past_the_deadline_stops_the_run_and_nothing_after_it_starts() {
        let gate = Gate::new(None, Some(10.0), Some(4));
        let (_, ticket) = gate.enter(&within(60)).await.unwrap();
        // Spent, and the bucket comes back at one a minute.
        gate.heard(ticket, &openai("1", "0", "60s"));
        let t0 = Instant::now();
        let why = gate.enter(&within(2)).await.unwrap_err();
        assert!(t0.elapsed() < Duration::from_secs(1), "not waited for");
        assert_eq!(gate.stopped().as_deref(), Some(why.as_str()));
        for part in [
            "http://127.0.0.1:9/v1/batches is rate-limited past the retry budget",
            "its x-ratelimit-* headers advertise 1 request(s) a 60 s window (0 left, whole again in 60 s)",
            "would have waited 60 s for its turn",
            "CONTRACT_RETRY_BUDGET=2 s",
            "the run stopped",
        ] {
            assert!(why.contains(part), "{part:?} in {why}");
        }
        assert!(!why.contains("after=b_1"), "no cursor in it: {why}");
        // Stopped: even a request with all the time in the world is not sent.
        assert_eq!(gate.enter(&within(600)).await.unwrap_err(), why);
    }

    #[tokio::test]
    async fn a_pace_too_slow_for_the_deadline_stops_the_run_and_wakes_the_waiting() {
        let gate = std::sync::Arc::new(Gate::new(None, Some(10.0), None));
        let (_, ticket) = gate.enter(&within(60)).await.unwrap();
        // Two a minute, plenty left: a start each 30 s.
        gate.heard(ticket, &openai("2", "2", "1s"));
        let waiting = {
            let gate = std::sync::Arc::clone(&gate);
            tokio::spawn(async move { gate.enter(&within(600)).await.map(|_| ()) })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Its turn is 30 s off, past a 5 s deadline: the run stops, and the request waiting
        // for its turn stops waiting.
        let why = gate.enter(&within(5)).await.unwrap_err();
        assert!(
            why.contains(
                "(a pace of 1.9 request(s) a minute, and 1 request(s) waiting ahead of it)"
            ),
            "{why}"
        );
        let t0 = Instant::now();
        assert_eq!(waiting.await.unwrap().unwrap_err(), why);
        assert!(t0.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_slow_pace_of_the_users_or_the_default_never_stops_the_run() {
        // The user's cap of one a minute: a turn a minute off is the user's choice.
        let gate = Gate::new(Some(1.0 / 60.0), Some(10.0), None);
        gate.enter(&within(1)).await.unwrap();
        let waited = tokio::time::timeout(Duration::from_millis(300), gate.enter(&within(1))).await;
        assert!(waited.is_err(), "still waiting for its turn, not stopped");
        assert_eq!(gate.stopped(), None);
        // Below the server's budget, the cap sets the pace: no stop either.
        let gate = Gate::new(Some(1.0 / 60.0), Some(10.0), None);
        gate.heard(Ticket(0), &openai("600", "599", "1s"));
        gate.enter(&within(1)).await.unwrap();
        let waited = tokio::time::timeout(Duration::from_millis(300), gate.enter(&within(1))).await;
        assert!(waited.is_err());
        assert_eq!(gate.stopped(), None);
    }
}
