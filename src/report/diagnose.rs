//! Diagnoses: when the failures of a run share one cause, it is said once, before the
//! details. Each reads the answers of the requests sent with the key (see
//! [`crate::outcome::Answers`]); the per-case violations stay as they are.

use serde::{Deserialize, Serialize};

use super::RunResults;
use crate::contract::AuthStyle;
use crate::outcome::{Answer, Answers};

/// A cause that every failing request shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Every request sent with the key was answered 401 or 403.
    KeyRefused,
    /// Every request was answered 404.
    NotFound,
    /// Every request failed to connect or timed out.
    Unreachable,
    /// Every request was redirected elsewhere, and the redirect not followed.
    Redirected,
    /// Every request got a transient status (503, 429, ...) even after its retries.
    Unavailable,
    /// Every request of one suite was answered 404 while other suites got answers: the server
    /// does not serve that suite's endpoint.
    SuiteNotServed,
    /// Every request of a replay was missing from its recording: the recording cannot answer
    /// this run (other cases, suites or settings than the recorded run's).
    ReplayUnusable,
}

/// One diagnosis: its cause, and what to say about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub cause: Cause,
    pub message: String,
}

impl Cause {
    /// Whether the cause keeps the harness from judging the contract at all: the run then
    /// exits 1 (the contract could not be judged), not 101 (drift). Every request refused,
    /// or answered 404, says nothing about the contract: the key, the auth style or the base
    /// URL is wrong. A suite the server does not serve blocks the run only when it was asked
    /// for by name (`suites_named`); a default run leaves it out.
    pub fn blocks_the_run(self, suites_named: bool) -> bool {
        match self {
            Cause::KeyRefused
            | Cause::NotFound
            | Cause::Unreachable
            | Cause::Redirected
            | Cause::Unavailable
            | Cause::ReplayUnusable => true,
            Cause::SuiteNotServed => suites_named,
        }
    }
}

/// The suites a default run leaves out: those the server does not serve (see
/// [`Cause::SuiteNotServed`]). Empty when the suites were named (`--suite`): a suite asked
/// for by name that is not served fails the run instead.
pub fn left_out(results: &RunResults) -> Vec<String> {
    if results.suites_named {
        return Vec::new();
    }
    unserved(results).0
}

/// How the requests a diagnosis counts relate to the summary's count: nothing when they are
/// the same; else `; the summary's 19 also counts 1 sent without the key …`.
fn tally(results: &RunResults, counted: u32) -> String {
    let all: u32 = results.cases.iter().map(|c| c.run.answers.total()).sum();
    let others = all.saturating_sub(counted);
    let retries = results.retries() as u32;
    let mut also = Vec::new();
    if others > 0 {
        also.push(format!("{others} sent without the key or with a wrong one"));
    }
    if retries > 0 {
        also.push(format!("{retries} retries"));
    }
    if also.is_empty() {
        String::new()
    } else {
        format!(
            "; the summary's {} also counts {}",
            results.requests(),
            also.join(" and ")
        )
    }
}

/// The diagnoses of a run with failed cases: at most one for the whole run, as those causes
/// exclude each other; else one for each suite whose endpoint the server does not serve.
pub fn diagnose(results: &RunResults) -> Vec<Diagnosis> {
    let run = diagnose_run(results);
    if run.is_empty() {
        unserved_suites(results)
    } else {
        run
    }
}

/// The suites (the part of a case's name before `::`) whose every request sent with the key
/// was answered 404, when some other suite got other answers: the server does not serve that
/// endpoint, and the run should leave the suite out. Also the suites that were served.
fn unserved(results: &RunResults) -> (Vec<String>, Vec<String>) {
    let (unserved, served, _) = suites_answers(results);
    (unserved, served)
}

/// [`unserved`], with each suite's answers.
#[allow(clippy::type_complexity)]
fn suites_answers(
    results: &RunResults,
) -> (
    Vec<String>,
    Vec<String>,
    std::collections::BTreeMap<String, Answers>,
) {
    let mut suites: std::collections::BTreeMap<String, Answers> = Default::default();
    for case in results.cases.iter().filter(|c| c.run.sends_key) {
        let suite = case.name.split("::").next().unwrap_or(&case.name);
        suites
            .entry(suite.to_owned())
            .or_default()
            .merge(&case.run.answers);
    }
    let not_found = |answers: &Answers| {
        answers.total() > 0 && answers.0.keys().all(|a| *a == Answer::Status(404))
    };
    let served: Vec<String> = suites
        .iter()
        .filter(|(_, a)| a.total() > 0 && !not_found(a))
        .map(|(s, _)| s.clone())
        .collect();
    if served.is_empty() {
        return (Vec::new(), served, suites);
    }
    let unserved = suites
        .iter()
        .filter(|(_, a)| not_found(a))
        .map(|(s, _)| s.clone())
        .collect();
    (unserved, served, suites)
}

/// A diagnosis for each suite the server does not serve: left out of a default run, a
/// failure when asked for by name.
fn unserved_suites(results: &RunResults) -> Vec<Diagnosis> {
    let (unserved, served, suites) = suites_answers(results);
    unserved
        .iter()
        .map(|suite| {
            let answers = &suites[suite];
            let example = answers
                .0
                .values()
                .next()
                .map(|(_, r)| r.as_str())
                .unwrap_or_default();
            Diagnosis {
                cause: Cause::SuiteNotServed,
                message: format!(
                    "every request of suite {suite} was answered 404 Not Found ({} requests; \
                     one: {example}): the server may not serve that endpoint, while it answers \
                     {}. {}Run only the suites it serves: `list-contract check {}` \
                     (or CONTRACT_SUITES={}, which `cargo test --test contract` reads too), or \
                     give the suite its own base URL with `--base-url-for {suite}=URL`",
                    answers.total(),
                    served.join(", "),
                    if results.suites_named {
                        "The suite was asked for by name, so the run fails. "
                    } else {
                        "The suite is left out of this run (its cases are reported as ignored). "
                    },
                    served
                        .iter()
                        .map(|s| format!("--suite {s}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    served.join(","),
                ),
            }
        })
        .collect()
}

/// The diagnosis of a run whose every request shares one cause, if any.
fn diagnose_run(results: &RunResults) -> Vec<Diagnosis> {
    let failed = results
        .cases
        .iter()
        .any(|c| c.outcome == super::CaseOutcome::Failed);
    let mut answers = Answers::default();
    for case in results.cases.iter().filter(|c| c.run.sends_key) {
        answers.merge(&case.run.answers);
    }
    let total = answers.total();
    if !failed || total == 0 {
        return Vec::new();
    }
    let note = tally(results, total);
    let all = |pred: fn(Answer) -> bool| answers.0.keys().all(|a| pred(*a));
    let example = answers
        .0
        .values()
        .next()
        .map(|(_, r)| r.as_str())
        .unwrap_or_default();
    let statuses = || {
        answers
            .0
            .iter()
            .map(|(a, (n, _))| match a {
                Answer::Status(s) => format!("{n} × {}", status_text(*s)),
                _ => String::new(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (cause, message) = if all(|a| matches!(a, Answer::Status(401 | 403))) {
        let message = match (results.auth, results.auth_unchecked) {
            (None, how) => format!(
                "every request was refused ({total} requests: {}; one: {example}{note}): the server \
                 wants a credential, and none was sent ({}). Give it a key with \
                 CONTRACT_API_KEY and --auth x-api-key or --auth bearer.",
                statuses(),
                how.unwrap_or("--auth none")
            ),
            (Some(style), _) => format!(
                "every request sent with the key was refused ({total} requests: {}; one: \
                 {example}{note}): the server does not take the key as it was sent. {}",
                statuses(),
                key_hint(style, &results.auth_from)
            ),
        };
        (Cause::KeyRefused, message)
    } else if all(|a| a == Answer::Status(404)) {
        // Without the key too, when those were 404 as well: the count is the summary's.
        let mut every = Answers::default();
        for case in &results.cases {
            every.merge(&case.run.answers);
        }
        let (total, note) = if every.0.keys().all(|a| *a == Answer::Status(404)) {
            (every.total(), tally(results, every.total()))
        } else {
            (total, note)
        };
        (
            Cause::NotFound,
            format!(
                "every request was answered 404 Not Found ({total} requests; one: {example}{note}): \
                 the base URL or its path prefix is likely wrong ({} = {}; the contract's path \
                 is joined onto it: check it against a URL that works with curl)",
                results.base_from, results.target
            ),
        )
    } else if all(|a| a == Answer::NotRecorded) {
        (
            Cause::ReplayUnusable,
            format!(
                "no request of the run is in the recording ({total} requests; one: \
                 {example}{note}): the replay cannot judge anything. Replay with the cases, \
                 suites and settings of the recorded run (its opening line says what it \
                 checked), or record again"
            ),
        )
    } else if all(|a| matches!(a, Answer::Unreachable | Answer::TimedOut)) {
        (
            Cause::Unreachable,
            format!(
                "every request failed to connect or timed out ({total} requests; one: {example}{note}): \
                 the server is down or did not answer; nothing about the contract was learned \
                 (is the server up, and {} = {} right?)",
                results.base_from, results.target
            ),
        )
    } else if all(|a| a == Answer::Redirected) {
        (
            Cause::Redirected,
            format!(
                "every request was redirected and the redirect not followed ({total} requests; \
                 one: {example}{note}): the key and --header values go only to the base URL's \
                 origin, so nothing about the contract was learned. If the redirect's target \
                 (named in the failures) is the API, point {} at it instead of {}",
                results.base_from, results.target
            ),
        )
    } else if all(
        |a| matches!(a, Answer::Status(s) if crate::exchange::is_transient(http::StatusCode::from_u16(s).unwrap_or(http::StatusCode::OK))),
    ) {
        (
            Cause::Unavailable,
            format!(
                "every request got a \"try again\" answer even after its retries ({total} requests: {}; one: \
                 {example}{note}): the endpoint looked unavailable, which says nothing about the \
                 contract (try again later, or give it more patience with \
                 CONTRACT_RETRY_ATTEMPTS and CONTRACT_RETRY_BUDGET)",
                statuses()
            ),
        )
    } else {
        return Vec::new();
    };
    vec![Diagnosis { cause, message }]
}

/// `401 Unauthorized`.
fn status_text(status: u16) -> String {
    match http::StatusCode::from_u16(status) {
        Ok(s) => s.to_string(),
        Err(_) => status.to_string(),
    }
}

/// What to try when the key was refused: the style sent, and the other one.
fn key_hint(sent: AuthStyle, from: &str) -> String {
    match sent {
        AuthStyle::XApiKey => format!(
            "It was sent as `x-api-key: ***` ({from}); a server that reads \
             `Authorization: Bearer` (OpenAI and most compatible servers) wants --auth bearer \
             (CONTRACT_AUTH=bearer). Otherwise CONTRACT_API_KEY is not a key this server issued."
        ),
        AuthStyle::Bearer => format!(
            "It was sent as `Authorization: Bearer ***` ({from}); a server that reads \
             `x-api-key` wants --auth x-api-key (CONTRACT_AUTH=x-api-key). Otherwise \
             CONTRACT_API_KEY is not a key this server issued."
        ),
    }
}
