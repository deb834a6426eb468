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
            },
        }
    }

    /// Waits for a free slot and for the next start time.
    pub(super) async fn enter(&self) -> (Option<tokio::sync::SemaphorePermit<'_>>, Ticket) {
        let permit = match &self.slots {
            Some(s) => Some(s.acquire().await.expect("the semaphore is never closed")),
            None => None,
        };
        (permit, self.pacer.start().await)
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

/// Spaces starts evenly at the pace of the moment: the user's cap, the server's budget, or
/// the default. The pace may change between two starts (a response brought a budget), so each
/// start is timed from the one before at the pace then in force, not booked ahead.
#[derive(Debug)]
struct Pacer {
    cap: Option<f64>,
    default: Option<f64>,
    state: Mutex<State>,
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
    holds: u32,
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

    async fn start(&self) -> Ticket {
        loop {
            let due = {
                let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                let interval = self.rate(&state).map(|r| Duration::from_secs_f64(1.0 / r));
                let spaced = match (state.last, interval) {
                    (Some(last), Some(interval)) => Some(last + interval),
                    _ => None,
                };
                let due = spaced.max(state.hold_until).filter(|due| *due > now);
                if due.is_none() {
                    // On time or a little late: the next start is timed from when this one was
                    // due; after a pause, from now (no burst to catch up).
                    state.last = Some(match (spaced.max(state.hold_until), interval) {
                        (Some(due), Some(interval)) if now - due < interval => due,
                        _ => now,
                    });
                    state.started += 1;
                    return Ticket(state.started - 1);
                }
                due
            };
            if let Some(due) = due {
                tokio::time::sleep_until(due).await;
            }
        }
    }

    fn heard(&self, ticket: Ticket, headers: &HeaderMap) {
        let budgets = ratelimit::read(headers, SystemTime::now());
        if budgets.is_empty() {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.heard_from.is_some_and(|from| from > ticket.0) {
            return;
        }
        state.heard_from = Some(ticket.0);
        // Requests started after this one: the server had not counted them.
        let unseen = state.started.saturating_sub(ticket.0 + 1) as f64;
        let mut slowest: Option<(f64, Budget)> = None;
        let mut hold = None;
        for budget in budgets {
            let advice = budget.advise(unseen);
            if let Some(rate) = advice.rate
                && slowest.is_none_or(|(r, _)| rate < r)
            {
                slowest = Some((rate, budget));
            }
            hold = hold.max(advice.hold);
        }
        if slowest.is_some() {
            state.server = slowest;
        }
        if let Some(hold) = hold {
            let now = Instant::now();
            if state.hold_until.is_none_or(|until| until <= now) {
                state.holds += 1;
            }
            state.hold_until = state.hold_until.max(Some(now + hold));
        }
    }

    fn pace(&self) -> Pace {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
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
            gate.enter().await;
        }
        // Six starts 20 ms apart (wall time: generous above, exact below).
        let took = t0.elapsed();
        assert!(took >= Duration::from_millis(100), "{took:?}");
        assert!(took < Duration::from_millis(600), "{took:?}");
        let (_, ticket) = gate.enter().await;
        gate.heard(ticket, &openai("6000", "5000", "10s"));
        let t1 = Instant::now();
        for _ in 0..10 {
            gate.enter().await;
        }
        let took = t1.elapsed();
        // 100 a second less the share kept back: ten starts take about 100 ms.
        assert!(took >= Duration::from_millis(90), "{took:?}");
        assert!(took < Duration::from_millis(600), "{took:?}");
        // Spent: every start waits for the reset.
        let (_, ticket) = gate.enter().await;
        gate.heard(ticket, &openai("6000", "0", "300ms"));
        let t2 = Instant::now();
        gate.enter().await;
        assert!(
            t2.elapsed() >= Duration::from_millis(290),
            "{:?}",
            t2.elapsed()
        );
    }
}
