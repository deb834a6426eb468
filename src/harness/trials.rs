//! The trials: one libtest-mimic trial per case, run within its time limit against the
//! connected target, each recording what it found for the summary and the reports.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};

use super::progress::Display;
use super::target::Connected;
use crate::case::Case;
use crate::check::walk::WalkBounds;
use crate::http::RequestOptions;
use crate::redact::Redactor;
use crate::report::human::{render_failure, render_notices};
use crate::report::{CaseOutcome, CaseResult, RunResults};
use crate::runner::{
    CaseRun, Depth, Progress, RunCache, RunContext, WalkPlan, case_options, case_timeout_violation,
    run_case,
};
use crate::schema::SchemaSet;
use crate::settings::{DEFAULT_CASE_TIMEOUT, DEFAULT_WALK_CASE_TIMEOUT, Settings, env};
use crate::violation::Severity;

/// Everything a trial needs, shared by all of them.
pub struct Shared {
    pub connected: Connected,
    schemas: SchemaSet,
    pub redactor: Redactor,
    request: RequestOptions,
    case_timeout: Option<Duration>,
    walk_bounds: WalkBounds,
    walk_plan: WalkPlan,
    depth: Depth,
    /// Walks and first pages fetched so far: what several cases need is fetched once.
    cache: RunCache,
    /// `(case, note)` of passing cases: what they cost and the retries they needed. Printed
    /// after the run, so they do not tear libtest's lines apart.
    notes: Mutex<Vec<(String, String)>>,
    /// What each case that ran found, for the summary and the reports.
    results: Mutex<Vec<CaseResult>>,
    /// Cases whose file says `skip`: name, description, reason.
    skipped: Vec<(String, String, String)>,
    /// `--auth none` or `CONTRACT_AUTH=none` when the run sent no credential.
    auth_unchecked: Option<&'static str>,
    fail_on: Severity,
    /// Cases whose run panicked: a bug in the harness, which exits 1, never 101.
    pub panicked: std::sync::atomic::AtomicUsize,
    /// The progress display, when the run shows one.
    pub display: Option<Arc<Display>>,
}

impl Shared {
    /// What the trials of `cases` share, from the settings and the connected target.
    pub fn new(
        settings: &Settings,
        connected: Connected,
        schemas: SchemaSet,
        cases: &[Case],
        display: Option<Arc<Display>>,
    ) -> Shared {
        Shared {
            connected,
            schemas,
            redactor: settings.redactor(),
            request: settings.request.clone(),
            case_timeout: settings.case_timeout,
            walk_bounds: settings.walk_bounds,
            walk_plan: settings.run_walk_plan(),
            depth: settings.run_depth(),
            cache: RunCache::default(),
            notes: Mutex::default(),
            results: Mutex::default(),
            skipped: cases
                .iter()
                .filter_map(|c| {
                    let reason = settings.skip_reason(c)?;
                    Some((c.name.clone(), c.file.description.clone(), reason))
                })
                .collect(),
            auth_unchecked: settings.no_auth.then(|| settings.no_auth_source()),
            fail_on: settings.fail_on,
            panicked: std::sync::atomic::AtomicUsize::new(0),
            display,
        }
    }

    fn note(&self, case: &str, note: String) {
        let mut notes = self.notes.lock().unwrap_or_else(|e| e.into_inner());
        notes.push((case.to_owned(), note));
    }

    /// Prints the notes, masked, grouped by case in name order (the summary then says what
    /// the run cost).
    pub fn print_notes(&self) {
        let mut notes = std::mem::take(&mut *self.notes.lock().unwrap_or_else(|e| e.into_inner()));
        notes.sort_by(|a, b| a.0.cmp(&b.0));
        for (case, note) in notes {
            eprintln!("{}", self.redactor.redact(&format!("note: {case}: {note}")));
        }
    }

    /// The run's results in case name order, with the skipped cases `args` selected.
    pub fn results(&self, args: &Arguments, settings: &Settings) -> RunResults {
        let mut cases =
            std::mem::take(&mut *self.results.lock().unwrap_or_else(|e| e.into_inner()));
        if !args.ignored && !args.include_ignored {
            for (name, description, reason) in &self.skipped {
                if selected(name, args) {
                    cases.push(CaseResult {
                        name: name.clone(),
                        description: description.clone(),
                        outcome: CaseOutcome::Ignored,
                        duration: Duration::ZERO,
                        run: CaseRun::default(),
                        message: Some(reason.clone()),
                    });
                }
            }
        }
        cases.sort_by(|a, b| a.name.cmp(&b.name));
        let targets = &self.connected.targets;
        let replayer = &self.connected.replayer;
        let urls = self.connected.base_urls();
        let mut results = RunResults {
            target: match replayer {
                Some(replayer) => replayer.describe(),
                None => urls.join(", "),
            },
            reference_mock: match replayer {
                Some(replayer) => replayer.info().reference_mock,
                None => settings.base_url.is_none(),
            },
            auth_unchecked: self.auth_unchecked,
            auth: targets
                .values()
                .next()
                .filter(|t| !t.no_auth)
                .map(|t| t.auth),
            auth_from: match (settings.auth, settings.from_flags.contains(&env::AUTH)) {
                (Some(_), true) => "from --auth".to_owned(),
                (Some(_), false) => format!("from {}", env::AUTH),
                (None, _) => "the contract's `auth`".to_owned(),
            },
            base_from: settings.source(env::BASE_URL),
            fail_on: self.fail_on,
            suites_named: !settings.suites.is_empty(),
            require_evidence: settings.require_evidence,
            pace: match settings.base_url {
                Some(_) => self.connected.http.pace(),
                None => None,
            },
            rate_from: settings.source(env::RATE_LIMIT),
            stopped: self.connected.http.stopped(),
            cases,
        };
        results.leave_out_unserved();
        results
    }
}

/// The trials of `cases`, as listed (`--list`) when `shared` is `None`.
pub fn trials(cases: Vec<Case>, settings: &Settings, shared: Option<&Arc<Shared>>) -> Vec<Trial> {
    cases
        .into_iter()
        .map(|c| {
            let ignored = settings.skip_reason(&c).is_some();
            trial(c, ignored, shared.map(Arc::clone))
        })
        .collect()
}

/// Whether libtest-mimic runs a trial of that name under `args`' filter and skips (its
/// rule: a substring, or the whole name with `--exact`).
pub(super) fn selected(name: &str, args: &Arguments) -> bool {
    let matches = |pattern: &str| {
        if args.exact {
            name == pattern
        } else {
            name.contains(pattern)
        }
    };
    args.filter.as_deref().is_none_or(matches) && !args.skip.iter().any(|s| matches(s))
}
fn trial(case: Case, ignored: bool, shared: Option<Arc<Shared>>) -> Trial {
    Trial::test(case.name.clone(), move || {
        let Some(shared) = shared else {
            return Ok(());
        };
        let started = std::time::Instant::now();
        if let Some(display) = &shared.display {
            display.case_started();
        }
        // Cleared for libtest's line of the case, which follows its end.
        let _ended = Ended(shared.display.as_deref(), case.suite());
        let record = |outcome, duration, run, message| {
            shared
                .results
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(CaseResult {
                    name: case.name.clone(),
                    description: case.file.description.clone(),
                    outcome,
                    duration,
                    run,
                    message,
                });
        };
        let run = match guarded(&shared.redactor, || execute(&case, &shared)) {
            Ok(run) => run,
            Err(panicked) => {
                shared
                    .panicked
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                // A harness bug still fails the case in every report, not only in libtest's.
                let message = panicked.message().unwrap_or("the harness panicked");
                record(
                    CaseOutcome::Failed,
                    started.elapsed(),
                    CaseRun::default(),
                    Some(message.to_owned()),
                );
                return Err(panicked);
            }
        };
        let duration = started.elapsed();
        let fail_on_notices = shared.fail_on == Severity::Additive && !run.notices.is_empty();
        let message = if run.passed() && !fail_on_notices {
            if case.file.kind().walks() {
                shared.note(&case.name, run.cost());
            }
            for (request, retry) in &run.retries {
                shared.note(&case.name, format!("{request}: {retry}"));
            }
            None
        } else {
            let mut text = if run.passed() {
                case.file.description.trim().to_owned()
            } else {
                render_failure(&case.name, &case.file.description, &run, &shared.redactor)
            };
            if fail_on_notices {
                text.push_str("\n\n");
                text.push_str(&render_notices(
                    &case.name,
                    &run.notices,
                    shared.fail_on,
                    &shared.redactor,
                ));
            }
            Some(text)
        };
        let outcome = if message.is_some() {
            CaseOutcome::Failed
        } else {
            CaseOutcome::Passed
        };
        record(outcome, duration, run, message.clone());
        match message {
            None => Ok(()),
            Some(text) => Err(Failed::from(text)),
        }
    })
    .with_ignored_flag(ignored)
}

/// Tells the display a case ended when dropped: however the trial returns.
struct Ended<'a>(Option<&'a Display>, &'a str);

impl Drop for Ended<'_> {
    fn drop(&mut self) {
        if let Some(display) = self.0 {
            display.case_done(self.1);
        }
    }
}

/// Runs `f`, turning a panic (a harness bug) into a failure whose message is masked like
/// everything else the harness prints.
fn guarded<T>(redactor: &Redactor, f: impl FnOnce() -> T) -> Result<T, Failed> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        Failed::from(redactor.redact(&format!(
            "the harness panicked: {message} ({})",
            crate::harness::BUG
        )))
    })
}

/// Runs one case within its time limit. The limit covers judging as well as requests: the
/// case runs on a thread of its own, and when the limit passes while it is still busy (judging
/// a page takes CPU, which no timer interrupts), the case ends there, could not be judged,
/// and the thread's late result is dropped.
fn execute(case: &Case, shared: &Arc<Shared>) -> CaseRun {
    // Debug builds only: the harness's own tests make a case panic, to see a bug exit 1.
    #[cfg(debug_assertions)]
    if std::env::var("LIST_CONTRACT_TEST_PANIC").is_ok_and(|name| name == case.name) {
        panic!("LIST_CONTRACT_TEST_PANIC asked {} to panic", case.name);
    }
    let limit = case
        .file
        .limits
        .case_timeout_secs
        .map(Duration::from_secs_f64)
        .or(shared.case_timeout)
        .unwrap_or(if case.file.kind().walks() {
            DEFAULT_WALK_CASE_TIMEOUT
        } else {
            DEFAULT_CASE_TIMEOUT
        });
    let progress = Arc::new(
        match shared.display.as_ref().and_then(|d| d.tally(case.suite())) {
            Some(tally) => Progress::tallied(tally),
            None => Progress::default(),
        },
    );
    let timed_out = move |progress: &Progress| CaseRun {
        violations: vec![case_timeout_violation(limit, progress)].into(),
        requests: progress.requests(),
        ..CaseRun::default()
    };
    let (done, result) = std::sync::mpsc::channel();
    let worker = {
        let (case, shared, progress) = (case.clone(), Arc::clone(shared), Arc::clone(&progress));
        std::thread::spawn(move || {
            let run = run_within(&case, &shared, &progress, limit);
            let _ = done.send(run.unwrap_or_else(|| timed_out(&progress)));
        })
    };
    match result.recv_timeout(limit) {
        Ok(run) => run,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => timed_out(&progress),
        // The case panicked (a harness bug): its panic goes on here, where it is caught.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => timed_out(&progress),
        },
    }
}

/// Runs one case against the target, its requests within `limit`; `None` when the limit
/// passed while it waited.
fn run_within(
    case: &Case,
    shared: &Shared,
    progress: &Progress,
    limit: Duration,
) -> Option<CaseRun> {
    let target = &shared.connected.targets[&case.contract_path];
    let options = case_options(case, &shared.request);
    let ctx = RunContext {
        walk_bounds: shared.walk_bounds,
        walk_plan: shared.walk_plan,
        depth: shared.depth,
        progress: Some(progress),
        ..RunContext::new(
            target,
            &shared.connected.http,
            &shared.schemas,
            &options,
            &shared.cache,
        )
    };
    let run = run_case(case, &ctx);
    shared
        .connected
        .runtime
        .block_on(async { tokio::time::timeout(limit, run).await })
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Secret;

    #[test]
    fn a_panic_becomes_a_masked_failure() {
        let redactor = Redactor::new([Secret::new("sk-canary-panic")]);
        let failed = guarded(&redactor, || -> () {
            panic!("leaked sk-canary-panic here")
        })
        .unwrap_err();
        assert_eq!(
            failed.message(),
            Some(
                "the harness panicked: leaked *** here (this is a bug in list-contract: please report it)"
            )
        );
        assert_eq!(guarded(&redactor, || 7).unwrap(), 7);
    }

    #[test]
    fn the_filter_selects_as_libtest_mimic_does() {
        let args = |v: &[&str]| Arguments::from_iter(std::iter::once("t").chain(v.iter().copied()));
        assert!(selected("list_batches::walk_max", &args(&[])));
        assert!(selected("list_batches::walk_max", &args(&["walk"])));
        assert!(!selected("list_batches::limit_1", &args(&["walk"])));
        assert!(!selected(
            "list_batches::walk_max",
            &args(&["--exact", "walk"])
        ));
        assert!(!selected(
            "list_batches::walk_max",
            &args(&["--skip", "max"])
        ));
    }
}
