//! What running a case found, and what it cost: plain data that the runner fills in and the
//! reports read (no I/O here, so `report/` need not import the runner).

use std::collections::{BTreeMap, HashSet};

use crate::exchange::Retry;
use crate::finding::Violations;
use crate::violation::{AdditionKind, Notice};

/// New fields and headers a case names at most; more are not kept.
pub const MAX_NOTICES: usize = 100;

/// What running a case found, and what it cost.
#[derive(Debug, Clone, Default)]
pub struct CaseRun {
    /// What the case broke: the first few in full, every one counted under its finding
    /// (bounded whatever the server sends; see [`crate::finding`]).
    pub violations: Violations,
    /// HTTP requests this case sent, retries included.
    pub requests: u32,
    /// Requests whose responses this case used although another case sent them (a walk two
    /// cases share is sent once).
    pub shared: u32,
    /// Pages walked, end probes included (0 for a page case).
    pub pages: u32,
    /// Items the walks met, repeats included (0 for a page case).
    pub items: u64,
    /// Walks this case made or shared.
    pub walks: u32,
    /// Walks that stopped at their item cap, short of the end.
    pub capped: u32,
    /// Every retry of transient trouble, with the request it repeated (`GET <url>`).
    pub retries: Vec<(String, Retry)>,
    /// Pages of the walks this case made itself (end probes included): the walked pages of a
    /// run add up without counting a shared walk twice.
    pub walked: u32,
    /// Additive drift, each field or header once, where it was first seen.
    pub notices: Vec<Notice>,
    /// The kind and name of each of `notices`, to keep them once.
    pub noted: HashSet<(AdditionKind, String)>,
    /// What the requests this case sent itself got, by kind (one each, retries not counted;
    /// a shared request is counted by the case that sent it, so a run's answers add up to its
    /// requests less its retries): what the run's diagnoses read.
    pub answers: Answers,
    /// Whether the case sends the configured key (not a missing- or wrong-key case).
    pub sends_key: bool,
    /// What the case's walks exercised: items, page boundaries, ties, backward pages, filter
    /// matches (see [`crate::evidence`]).
    pub evidence: crate::evidence::CaseEvidence,
    /// The entries of the run's recording (`CONTRACT_RECORD`) that this case's answers came
    /// from, its own and shared ones; empty unless the run is recorded.
    pub entries: Vec<usize>,
}

/// How a request ended, as the diagnoses of a run group them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Answer {
    /// A response with this status (after any retries).
    Status(u16),
    /// No connection, or it broke.
    Unreachable,
    /// No complete response within the request timeout.
    TimedOut,
    /// A redirect to another origin (or one too many), not followed.
    Redirected,
    /// A body over the size cap.
    TooLarge,
    /// A replayed request its recording does not hold.
    NotRecorded,
}

/// Answers by kind: how many, and the first request that got each (`GET <url>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers(pub BTreeMap<Answer, (u32, String)>);

impl Answers {
    /// Counts `n` answers of `kind`; `request` is kept as the example if it is the first.
    pub fn add(&mut self, kind: Answer, n: u32, request: impl FnOnce() -> String) {
        self.0
            .entry(kind)
            .and_modify(|(count, _)| *count += n)
            .or_insert_with(|| (n, request()));
    }

    /// Adds every answer of `other`.
    pub fn merge(&mut self, other: &Answers) {
        for (kind, (n, request)) in &other.0 {
            self.add(*kind, *n, || request.clone());
        }
    }

    /// Answers in all.
    pub fn total(&self) -> u32 {
        self.0.values().map(|(n, _)| n).sum()
    }
}

impl CaseRun {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// Keeps `notice` unless the same field or header was noted already (a set of those
    /// noted, so 100,000 new fields cost no more than a pass), or the case already names
    /// [`MAX_NOTICES`] (a server that adds a new field name on every item does not grow a run
    /// without bound).
    pub fn notice(&mut self, notice: Notice) {
        self.sync_noted();
        if self.notices.len() < MAX_NOTICES && self.noted.insert((notice.kind, notice.name.clone()))
        {
            self.notices.push(notice);
        }
    }

    /// Whether the same field or header as `notice` was noted already.
    pub fn has_noticed(&mut self, notice: &Notice) -> bool {
        self.sync_noted();
        self.noted.contains(&(notice.kind, notice.name.clone()))
    }

    fn sync_noted(&mut self) {
        if self.noted.len() != self.notices.len() {
            // Notices pushed directly (not through here): take them in first.
            self.noted = self
                .notices
                .iter()
                .map(|n| (n.kind, n.name.clone()))
                .collect();
        }
    }

    /// Counts a request and its retries; `request` names it (`GET <url>`) for the retries.
    pub(crate) fn record(&mut self, request: impl FnOnce() -> String, retries: &[Retry]) {
        self.requests += retries.len() as u32 + 1;
        if !retries.is_empty() {
            let request = request();
            self.retries
                .extend(retries.iter().map(|r| (request.clone(), r.clone())));
        }
    }

    /// One line on what the case cost: `3 walks, 301 pages, 12 requests (+289 shared with
    /// other cases), 1 of them retries`.
    pub fn cost(&self) -> String {
        let mut parts = Vec::new();
        if self.walks > 0 {
            let mut walks = plural(self.walks, "walk");
            if self.capped > 0 {
                walks.push_str(&format!(" ({} stopped at the item cap)", self.capped));
            }
            parts.push(walks);
            parts.push(plural(self.pages, "page"));
        }
        let mut requests = plural(self.requests, "request");
        if self.shared > 0 {
            requests.push_str(&format!(" (+{} shared with other cases)", self.shared));
        }
        parts.push(requests);
        if !self.retries.is_empty() {
            parts.push(format!("{} of them retries", self.retries.len()));
        }
        parts.join(", ")
    }
}

pub(crate) fn plural(n: u32, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_names_each_addition_once_and_at_most_max_notices() {
        let mut run = CaseRun::default();
        for i in 0..(MAX_NOTICES + 20) {
            let name = format!("data[].f{i}");
            run.notice(Notice::field(name.clone(), "/data/0/x"));
            run.notice(Notice::field(name, "/data/1/x"));
        }
        assert_eq!(run.notices.len(), MAX_NOTICES);
        assert_eq!(run.notices[0].pointer.as_deref(), Some("/data/0/x"));
    }
}
