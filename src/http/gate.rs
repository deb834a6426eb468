//! The caps on how hard a run presses a live server: requests in flight, and requests a
//! second.

use std::time::Duration;

/// The caps on concurrency and rate, shared by every request of a run: a semaphore for the
/// requests in flight, and a GCRA rate limiter (governor) with a burst of one, so starts are
/// spaced evenly.
#[derive(Debug)]
pub(super) struct Gate {
    pub(super) concurrency: Option<usize>,
    slots: Option<tokio::sync::Semaphore>,
    pace: Option<governor::DefaultDirectRateLimiter>,
}

impl Gate {
    pub(super) fn new(rate: Option<f64>, concurrency: Option<usize>) -> Self {
        Gate {
            concurrency: concurrency.map(|n| n.max(1)),
            slots: concurrency.map(|n| tokio::sync::Semaphore::new(n.max(1))),
            pace: rate
                .filter(|r| *r > 0.0)
                .and_then(|r| Duration::try_from_secs_f64(1.0 / r).ok())
                .and_then(governor::Quota::with_period)
                .map(governor::RateLimiter::direct),
        }
    }

    /// Waits for a free slot and for the next start time.
    pub(super) async fn enter(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        let permit = match &self.slots {
            Some(s) => Some(s.acquire().await.expect("the semaphore is never closed")),
            None => None,
        };
        if let Some(pace) = &self.pace {
            pace.until_ready().await;
        }
        permit
    }
}
