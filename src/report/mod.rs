//! Reporters: the only place violations become text. `human` renders failures and the run's
//! summary for a terminal; `junit`, `json` and `markdown` write the same results to files for
//! CI. Every reporter masks secrets with the run's [`Redactor`](crate::redact::Redactor).

pub mod diagnose;
pub mod evidence;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::outcome::CaseRun;
use crate::violation::{Invariant, Notice, Severity};

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseOutcome {
    Passed,
    Failed,
    /// Not run: the case file says `skip = "reason"`.
    Ignored,
}

/// A rate for a person: `10`, `9.7`, `0.5`.
fn rate(r: f64) -> String {
    if (r >= 1.0 || r == 0.0) && (r - r.round()).abs() < 0.05 {
        format!("{:.0}", r)
    } else if r >= 1.0 {
        format!("{:.1}", r)
    } else {
        format!("{:.2}", r)
    }
}

/// `a minute`, `a second`, `per 10 s`.
fn per_window(secs: f64) -> String {
    match secs {
        1.0 => "a second".to_owned(),
        60.0 => "a minute".to_owned(),
        3600.0 => "an hour".to_owned(),
        86_400.0 => "a day".to_owned(),
        s => format!("per {} s", rate(s)),
    }
}

/// One case of a run, as reporters see it.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub name: String,
    pub description: String,
    pub outcome: CaseOutcome,
    pub duration: Duration,
    pub run: CaseRun,
    /// The failure text shown under the failed trial (already masked), or an ignored case's
    /// reason.
    pub message: Option<String>,
}

/// Everything a run found, in case name order.
#[derive(Debug, Clone)]
pub struct RunResults {
    /// Where the cases were sent: the live base URL, or the embedded mock's.
    pub target: String,
    pub reference_mock: bool,
    /// How the run was told to send no credential (`--auth none`), when it was: auth was not
    /// checked.
    pub auth_unchecked: Option<&'static str>,
    /// The auth style the key was sent in (`None`: no credential).
    pub auth: Option<crate::contract::AuthStyle>,
    /// Where that style came from: `--auth`, `CONTRACT_AUTH`, or the contract's `auth`.
    pub auth_from: String,
    /// Where the base URL came from: `--base-url` or `CONTRACT_BASE_URL` (the embedded mock:
    /// the variable that is not set).
    pub base_from: &'static str,
    /// The least severity that fails a case.
    pub fail_on: Severity,
    /// Whether the suites were asked for by name (`--suite`, `CONTRACT_SUITES`): one the
    /// server does not serve then fails the run; a default run leaves it out.
    pub suites_named: bool,
    /// `--require-evidence`: an invariant the data could not exercise fails the run (exit 1).
    pub require_evidence: bool,
    /// The pace of a live run and why (`None`: the embedded mock, or a replay).
    pub pace: Option<crate::http::Pace>,
    /// Where the user's cap came from, as the pace line names it: `--rate-limit` or
    /// `CONTRACT_RATE_LIMIT`.
    pub rate_from: &'static str,
    /// Why the run stopped before its end, if it did: the server stopped answering, or its
    /// rate limit would hold requests past their retry budget.
    pub stopped: Option<String>,
    pub cases: Vec<CaseResult>,
}

impl RunResults {
    /// Cases with `outcome`.
    pub fn count(&self, outcome: CaseOutcome) -> usize {
        self.cases.iter().filter(|c| c.outcome == outcome).count()
    }

    /// Pages walked in all, each shared walk counted once.
    pub fn pages(&self) -> u32 {
        self.cases.iter().map(|c| c.run.walked).sum()
    }

    /// Requests sent in all, retries included.
    pub fn requests(&self) -> u32 {
        self.cases.iter().map(|c| c.run.requests).sum()
    }

    /// Retries in all.
    pub fn retries(&self) -> usize {
        self.cases.iter().map(|c| c.run.retries.len()).sum()
    }

    /// The run in one line, as the summary and the Markdown report give it: `79 case(s): 79
    /// passed, 0 failed, 0 ignored; 1482 page(s) walked, 1518 request(s), 0 retries`.
    pub fn counts_line(&self) -> String {
        format!(
            "{} case(s): {} passed, {} failed, {} ignored; {} page(s) walked, {} request(s), {} retries",
            self.cases.len(),
            self.count(CaseOutcome::Passed),
            self.count(CaseOutcome::Failed),
            self.count(CaseOutcome::Ignored),
            self.pages(),
            self.requests(),
            self.retries(),
        )
    }

    /// The pace in one line, as the summary and the Markdown report give it: `pace: 9.7
    /// request(s)/s, the server's budget (x-ratelimit-*: 600 a minute)`; `None` when the run
    /// sent nothing to a live server.
    pub fn pace_line(&self) -> Option<String> {
        use crate::http::PaceSource;
        let pace = self.pace.as_ref()?;
        // Under one a second, a minute's worth: `1 request(s) a minute`, not `0.02`.
        let per_sec = |r: f64| match r {
            r if r < 1.0 => format!("{} request(s) a minute", rate(r * 60.0)),
            r => format!("{} request(s)/s", rate(r)),
        };
        let budget = pace
            .server
            .as_ref()
            .map(|s| match (s.limit, s.window_secs) {
                (Some(limit), Some(window)) => {
                    format!("{}: {limit} {}", s.headers.headers(), per_window(window))
                }
                (Some(limit), None) => format!("{}: {limit}", s.headers.headers()),
                (None, _) => format!("{}: remaining and reset", s.headers.headers()),
            });
        let cap = |cap: f64| match self.rate_from {
            from if from.starts_with("--") => format!("{from} {}", rate(cap)),
            from => format!("{from}={}", rate(cap)),
        };
        let holds = match pace.holds {
            0 => String::new(),
            n => format!("; every request waited for its reset {n} time(s)"),
        };
        const SILENT: &str = "the server advertised no rate limit";
        Some(match (pace.chosen_by, pace.rate, &budget) {
            (PaceSource::ServerBudget, Some(r), Some(budget)) => {
                format!(
                    "pace: {}, the server's budget ({budget}){holds}",
                    per_sec(r)
                )
            }
            (PaceSource::YourCap, Some(r), budget) => format!(
                "pace: {}, your cap ({}; {})",
                per_sec(r),
                cap(r),
                match (budget, &pace.server) {
                    (Some(budget), Some(s)) => {
                        format!(
                            "the server's budget allowed {}, {budget}{holds}",
                            rate(s.pace)
                        )
                    }
                    _ => SILENT.to_owned(),
                }
            ),
            (PaceSource::DefaultCap, Some(r), _) => format!(
                "pace: {}, the default cap ({SILENT}; {} sets another)",
                per_sec(r),
                self.rate_from
            ),
            _ => format!("pace: uncapped ({}; {SILENT})", cap(0.0)),
        })
    }

    /// Violations per invariant, as the cases report them: the counts add up to the cases'
    /// own, so a violation on a walk or request that two cases share counts for each (a
    /// cross-walk reports its walks' violations too). Invariants with none are left out.
    pub fn violations_by_invariant(&self) -> BTreeMap<Invariant, u32> {
        let mut counts = BTreeMap::new();
        for case in &self.cases {
            for (key, tallied) in case.run.violations.findings() {
                if let Some(invariant) = key.invariant {
                    *counts.entry(invariant).or_insert(0) += tallied.occurrences() as u32;
                }
            }
        }
        counts
    }

    /// Leaves out of a default run the suites the server does not serve (see
    /// [`diagnose::left_out`]): their cases become ignored, saying why.
    pub fn leave_out_unserved(&mut self) {
        let left_out = diagnose::left_out(self);
        for case in &mut self.cases {
            let suite = case.name.split("::").next().unwrap_or_default();
            if left_out.iter().any(|s| s == suite) {
                case.outcome = CaseOutcome::Ignored;
                case.message = Some(format!(
                    "suite {suite} is not served: every request of it was answered 404 Not Found"
                ));
            }
        }
    }

    /// What the run's data exercised, suite by suite, and what it could not (see
    /// [`crate::evidence`]); ignored cases aside.
    pub fn evidence(&self) -> crate::evidence::Evidence {
        crate::evidence::Evidence::fold(
            self.cases
                .iter()
                .filter(|c| c.outcome != CaseOutcome::Ignored)
                .map(|c| (c.name.as_str(), &c.run.evidence)),
        )
    }

    /// The diagnoses of the server's bug the failed cases' walks show (see [`crate::evidence::server_bug`]),
    /// each once, with the first case (by name) that showed it.
    pub fn server_bugs(&self) -> Vec<crate::evidence::server_bug::ServerBug> {
        let mut out: Vec<crate::evidence::server_bug::ServerBug> = Vec::new();
        for case in self
            .cases
            .iter()
            .filter(|c| c.outcome == CaseOutcome::Failed)
        {
            for bug in &case.run.evidence.bugs {
                if !out.iter().any(|b| b.message == bug.message) {
                    out.push(crate::evidence::server_bug::ServerBug {
                        case: case.name.clone(),
                        ..bug.clone()
                    });
                }
            }
        }
        let failed: Vec<(&str, &[crate::violation::Violation])> = self
            .cases
            .iter()
            .filter(|c| c.outcome == CaseOutcome::Failed)
            .map(|c| (c.name.as_str(), &c.run.violations[..]))
            .collect();
        let more = crate::evidence::server_bug::follow_ups(&out, &failed);
        out.extend(more);
        out.sort_by_key(|b| b.kind);
        out
    }

    /// The run's findings, ranked (see [`crate::finding::rank`]): each cause once, with its
    /// counts and first occurrences; additive drift after breaking.
    pub fn findings(&self) -> Vec<Finding> {
        crate::finding::rank(
            self.cases
                .iter()
                .map(|c| (c.name.as_str(), &c.run.violations, &c.run.notices[..])),
        )
    }

    /// The findings of `case` among `findings`: `(id, occurrences in this case)`, by id.
    pub fn case_findings(case: &CaseResult, findings: &[Finding]) -> Vec<(usize, u64)> {
        let suite = case.name.split("::").next().unwrap_or(&case.name);
        let mut out: Vec<(usize, u64)> = Vec::new();
        for (key, tallied) in case.run.violations.findings() {
            let mut key = key.clone();
            key.suite = suite.to_owned();
            if let Some(f) = findings.iter().find(|f| f.key == key) {
                out.push((f.id, tallied.occurrences()));
            }
        }
        for n in &case.run.notices {
            let mut key = crate::finding::FindingKey::of_notice(n);
            key.suite = suite.to_owned();
            if let Some(f) = findings.iter().find(|f| f.key == key) {
                out.push((f.id, 1));
            }
        }
        out.sort_unstable();
        out
    }

    /// When some cases failed and every failure says the case could not be judged (see
    /// [`crate::violation::Invariant::unjudged`]: no usable answer, a budget hit), what to say
    /// about it: the run exits 1, not 101. `None` when a case broke the contract, or none
    /// failed.
    pub fn could_not_be_judged(&self) -> Option<String> {
        let failed: Vec<&CaseResult> = self
            .cases
            .iter()
            .filter(|c| c.outcome == CaseOutcome::Failed)
            .collect();
        let unjudged = |c: &CaseResult| {
            !c.run.violations.is_empty() && c.run.violations.iter().all(|v| v.invariant.unjudged())
        };
        if failed.is_empty() || !failed.iter().all(|c| unjudged(c)) {
            return None;
        }
        // The first few by name: a run of thousands of cases says the rest as a count.
        const NAMED: usize = 10;
        let mut names: Vec<&str> = failed.iter().take(NAMED).map(|c| c.name.as_str()).collect();
        let more = format!("and {} more", failed.len().saturating_sub(NAMED));
        if failed.len() > NAMED {
            names.push(&more);
        }
        Some(format!(
            "{} could not be judged (no usable answer, or a budget hit: see each case above); \
             none broke the contract, so this is not drift: {}",
            crate::outcome::plural(failed.len() as u32, "case"),
            names.join(", ")
        ))
    }

    /// What the failures of the run share, if anything (see [`diagnose`]).
    pub fn diagnoses(&self) -> Vec<diagnose::Diagnosis> {
        diagnose::diagnose(self)
    }

    /// Each new field and header once per run, with the first case (by name) that saw it.
    pub fn notices(&self) -> Vec<(&str, &Notice)> {
        let mut out: Vec<(&str, &Notice)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for case in &self.cases {
            for notice in &case.run.notices {
                if seen.insert((notice.kind, notice.name.as_str())) {
                    out.push((&case.name, notice));
                }
            }
        }
        out
    }

    /// The new fields and the new headers among [`RunResults::notices`], counted.
    pub fn notice_counts(&self) -> (usize, usize) {
        let notices = self.notices();
        let fields = notices
            .iter()
            .filter(|(_, n)| n.kind == crate::violation::AdditionKind::Field)
            .count();
        (fields, notices.len() - fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Dialect, Pace, PaceSource, ServerBudget};

    fn results(pace: Option<Pace>, rate_from: &'static str) -> RunResults {
        RunResults {
            target: "https://staging.example.com".into(),
            reference_mock: false,
            auth_unchecked: None,
            auth: None,
            auth_from: String::new(),
            base_from: "CONTRACT_BASE_URL",
            fail_on: Severity::Breaking,
            suites_named: false,
            require_evidence: false,
            pace,
            rate_from,
            stopped: None,
            cases: Vec::new(),
        }
    }

    fn pace(rate: Option<f64>, chosen_by: PaceSource, cap: Option<f64>, server: bool) -> Pace {
        Pace {
            rate,
            chosen_by,
            cap,
            server: server.then_some(ServerBudget {
                headers: Dialect::Openai,
                limit: Some(600.0),
                window_secs: Some(60.0),
                pace: 9.7,
            }),
            holds: 0,
        }
    }

    #[test]
    fn the_pace_line_says_the_pace_and_why() {
        let line = |p, from| results(Some(p), from).pace_line().unwrap();
        assert_eq!(
            line(
                pace(Some(9.7), PaceSource::ServerBudget, None, true),
                "CONTRACT_RATE_LIMIT"
            ),
            "pace: 9.7 request(s)/s, the server's budget (x-ratelimit-*: 600 a minute)"
        );
        assert_eq!(
            line(
                pace(Some(5.0), PaceSource::YourCap, Some(5.0), true),
                "--rate-limit"
            ),
            "pace: 5 request(s)/s, your cap (--rate-limit 5; the server's budget allowed 9.7, \
             x-ratelimit-*: 600 a minute)"
        );
        assert_eq!(
            line(
                pace(Some(2.5), PaceSource::YourCap, Some(2.5), false),
                "CONTRACT_RATE_LIMIT"
            ),
            "pace: 2.5 request(s)/s, your cap (CONTRACT_RATE_LIMIT=2.5; the server advertised no \
             rate limit)"
        );
        assert_eq!(
            line(
                pace(Some(10.0), PaceSource::DefaultCap, None, false),
                "--rate-limit"
            ),
            "pace: 10 request(s)/s, the default cap (the server advertised no rate limit; \
             --rate-limit sets another)"
        );
        assert_eq!(
            line(
                pace(None, PaceSource::Uncapped, None, false),
                "--rate-limit"
            ),
            "pace: uncapped (--rate-limit 0; the server advertised no rate limit)"
        );
        let mut held = pace(Some(0.25), PaceSource::ServerBudget, None, true);
        held.holds = 2;
        assert_eq!(
            line(held, "CONTRACT_RATE_LIMIT"),
            "pace: 15 request(s) a minute, the server's budget (x-ratelimit-*: 600 a minute); \
             every request waited for its reset 2 time(s)"
        );
        // One a minute is said so, not rounded to `0 request(s)/s`.
        let slow = pace(Some(1.0 / 60.0), PaceSource::ServerBudget, None, true);
        assert!(line(slow, "CONTRACT_RATE_LIMIT").starts_with("pace: 1 request(s) a minute, "),);
        assert_eq!(results(None, "CONTRACT_RATE_LIMIT").pace_line(), None);
    }
}
