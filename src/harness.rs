//! The run: discover the cases and schemas, connect to the target, run one libtest-mimic
//! trial per case, and report. Each step has its module: [`discover`], [`target`],
//! [`trials`]; what stops a run is an [`error::HarnessError`]; the settings are
//! [`crate::settings`].

pub mod discover;
pub mod error;
pub mod openapi;
pub mod progress;
pub mod target;
pub mod trials;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use libtest_mimic::{Arguments, Trial};

use crate::case::Case;
use crate::redact::Redactor;
use crate::replay::Replayer;
use crate::report::human::render_summary;
use crate::report::{RunResults, json, junit, markdown};
use crate::runner::plan::{Plan, Rate};
use crate::settings::{Settings, env};
use error::{Cause, HarnessError};
use target::Connected;
use trials::Shared;

/// What a panic says: the harness, not the endpoint, is at fault.
pub const BUG: &str = "this is a bug in list-contract: please report it";

/// Runs the contract as a libtest-style suite and returns the process exit code:
/// 0 when every case passes, 101 when the endpoint breaks the contract, 1 when the harness
/// cannot run (bad case file, schema or setting).
pub fn run(args: &Arguments, settings: Settings) -> ExitCode {
    let redactor = settings.redactor();
    // Excerpts are masked before they are cut: with these secrets.
    crate::redact::register(&redactor);
    install_redacting_panic_hook(redactor.clone());
    let fail = |errors: Vec<HarnessError>| {
        for e in errors {
            eprintln!("error: {}", redactor.redact(&e.render()));
        }
        ExitCode::FAILURE
    };
    let loaded = settings
        .check_record_replay()
        .map_err(HarnessError::from)
        .and_then(|()| openapi::with_openapi(settings))
        .and_then(target::load_replay);
    let (settings, replayer) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return fail(vec![e]),
    };
    // Every file the run will write is checked before the first request: a path that cannot
    // be written is found now, not after the whole run.
    if !args.list {
        let unwritable = check_outputs(&settings);
        if !unwritable.is_empty() {
            return fail(unwritable);
        }
    }
    let (trials, shared) = match prepare(args, &settings, replayer) {
        Ok(prepared) => prepared,
        Err(errors) => return fail(errors),
    };
    let code = libtest_mimic::run(args, trials).exit_code();
    let Some(shared) = shared else {
        return code;
    };
    if let Some(display) = &shared.display {
        display.finish();
    }
    shared.print_notes();
    let results = shared.results(args, &settings);
    eprintln!("{}", render_summary(&results, &redactor));
    // 101 only for answers that broke the contract: an endpoint that could not be reached,
    // only said "try again", refused every key or answered 404 to everything was not judged
    // (exit 1), nor were cases whose only failures say no usable answer came or a budget was
    // hit; a suite a default run left out is no failure (see `markdown::Verdict`).
    let verdict = ExitCode::from(markdown::Verdict::of(&results).exit_code());
    if let Some(why) = &results.stopped {
        eprintln!("error: {}", redactor.redact(why));
    }
    if let Some(message) = results.could_not_be_judged() {
        eprintln!("error: {}", redactor.redact(&message));
    }
    // A case that panicked is a harness bug: exit 1, never 101 (drift).
    let panicked = shared.panicked.load(std::sync::atomic::Ordering::SeqCst);
    if panicked > 0 {
        eprintln!("error: {panicked} case(s) panicked: {BUG}");
    }
    let code = if panicked > 0 {
        ExitCode::FAILURE
    } else {
        verdict
    };
    // Every file is attempted: one that fails does not keep the others from being written.
    let mut errors: Vec<HarnessError> = write_recording(&shared, &settings)
        .err()
        .into_iter()
        .collect();
    errors.extend(write_reports(&results, &settings, &redactor));
    if errors.is_empty() {
        code
    } else {
        fail(errors)
    }
}

/// The files the run writes (reports, recording), each with the flag or variable that names
/// it.
fn outputs(settings: &Settings) -> Vec<(&'static str, &Path)> {
    [
        (env::JUNIT, &settings.junit),
        (env::JSON, &settings.json),
        (env::MARKDOWN, &settings.markdown),
        (env::RECORD, &settings.record),
    ]
    .into_iter()
    .filter_map(|(var, path)| Some((settings.source(var), path.as_deref()?)))
    .collect()
}

/// The output paths that cannot be written, each named by its setting. A file that exists is
/// opened for writing and left as it is; one that does not is created and removed.
fn check_outputs(settings: &Settings) -> Vec<HarnessError> {
    outputs(settings)
        .into_iter()
        .filter_map(|(from, path)| {
            writable(path).err().map(|reason| HarnessError::Output {
                from,
                path: path.to_owned(),
                reason,
            })
        })
        .collect()
}

fn writable(path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err("it is a folder".to_owned());
    }
    let existed = path.symlink_metadata().is_ok();
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| e.to_string())?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// Reads settings from the environment and runs: the body of `tests/contract.rs`.
pub fn main_with_root(root: &Path) -> ExitCode {
    // A panic anywhere is a bug in the harness: exit 1 (cannot judge), never 101 (drift).
    install_panic_hook();
    std::panic::catch_unwind(|| main_with_root_unguarded(root)).unwrap_or(ExitCode::FAILURE)
}

fn main_with_root_unguarded(root: &Path) -> ExitCode {
    let args = Arguments::from_args();
    match Settings::from_env(root) {
        Ok(mut settings) => {
            // libtest's runner of `cargo test` shows no display of its own unless asked.
            if settings.progress == crate::settings::ProgressMode::Auto {
                settings.progress = crate::settings::ProgressMode::Never;
            }
            run(&args, settings)
        }
        Err(e) => {
            eprintln!("error: {}", e.render());
            ExitCode::FAILURE
        }
    }
}

type Prepared = (Vec<Trial>, Option<Arc<Shared>>);

/// The trials of the run: listed only (`--list`), or ready to run against the connected
/// target, whose opening line is printed.
fn prepare(
    args: &Arguments,
    settings: &Settings,
    replayer: Option<Arc<Replayer>>,
) -> Result<Prepared, Vec<HarnessError>> {
    let (cases, schemas) = discover::discover(settings)?;
    if args.list {
        return Ok((trials::trials(cases, settings, None), None));
    }
    let cases = discover::ready_to_send(cases, settings)?;
    let connected = target::connect(settings, &cases, replayer)?;
    let cases = openapi::fill_path_params(cases, settings, &connected)?;
    let display = settings.shows_progress().then(|| {
        let mut suites = std::collections::BTreeMap::new();
        for case in to_run(args, settings, &cases) {
            *suites.entry(case.suite().to_owned()).or_insert(0) += 1;
        }
        progress::Display::new(&suites)
    });
    let shared = Arc::new(Shared::new(settings, connected, schemas, &cases, display));
    eprintln!(
        "{}",
        shared
            .redactor
            .redact(&target::describe(settings, &shared.connected))
    );
    if crate::files::is_built_in(&settings.cases_dir) {
        eprintln!(
            "note: running the built-in suites (no ./cases folder; `list-contract init` writes an editable copy)"
        );
    } else if crate::files::is_built_in(&settings.schemas_dir) {
        eprintln!("note: using the built-in schemas (no ./schemas folder)");
    }
    for case in &cases {
        if let Some(reason) = settings.skip_reason(case) {
            eprintln!("note: {} is skipped: {reason}", case.name);
        }
    }
    eprintln!("{}", plan_line(args, settings, &shared.connected, &cases));
    let trials = trials::trials(cases, settings, Some(&shared));
    Ok((trials, Some(shared)))
}

/// The cases libtest-mimic will run under `args`: selected by its filter, and ignored or
/// not as `--ignored` and `--include-ignored` say.
fn to_run<'c>(args: &Arguments, settings: &Settings, cases: &'c [Case]) -> Vec<&'c Case> {
    cases
        .iter()
        .filter(|c| {
            let ignored = settings.skip_reason(c).is_some();
            trials::selected(&c.name, args) && (args.include_ignored || ignored == args.ignored)
        })
        .collect()
}

/// The plan line, said before the first request: what the cases may send (exactly bounded
/// against the embedded mock, whose listings' sizes are known) and, at the run's rate cap,
/// about how long.
fn plan_line(
    args: &Arguments,
    settings: &Settings,
    connected: &Connected,
    cases: &[Case],
) -> String {
    let plan = Plan::of(
        &to_run(args, settings, cases),
        settings.run_depth(),
        settings.walk_bounds,
    );
    let sizes = connected.known_sizes();
    let known = plan.with_sizes(|path| sizes.get(path).copied());
    let client = settings.client_for_run();
    let rate = match (&connected.replayer, &settings.base_url) {
        (None, Some(_)) => {
            (client.rate_limit.map(Rate::Cap)).or(client.default_rate.map(Rate::Default))
        }
        _ => None,
    };
    plan.line(known, rate)
}

/// Writes the run's recording, if it was recorded.
fn write_recording(shared: &Shared, settings: &Settings) -> Result<(), HarnessError> {
    let (Some((recorder, info)), Some(path)) = (&shared.connected.recorder, &settings.record)
    else {
        return Ok(());
    };
    recorder
        .write(path, info)
        .map_err(|e| HarnessError::Record {
            from: settings.source(env::RECORD),
            source: Cause(e),
        })?;
    eprintln!("note: the run is recorded in {}", path.display());
    Ok(())
}

/// Writes the reports the settings ask for, every one of them even when another fails; every
/// text in them is masked. The errors name each report's flag or variable.
fn write_reports(
    results: &RunResults,
    settings: &Settings,
    redactor: &Redactor,
) -> Vec<HarnessError> {
    let mut errors = Vec::new();
    let mut written =
        |var: &'static str, what: &str, path: &Path, result: Result<(), String>| match result {
            Ok(()) => eprintln!("note: {what} report written to {}", path.display()),
            Err(e) => errors.push(HarnessError::Report(Cause(format!(
                "{}: {e}",
                settings.source(var)
            )))),
        };
    if let Some(path) = &settings.junit {
        written(
            env::JUNIT,
            "JUnit",
            path,
            junit::write(results, redactor, path),
        );
    }
    if let Some(path) = &settings.json {
        let result = json::Report::build(results, redactor).write(path);
        written(env::JSON, "JSON", path, result);
    }
    if let Some(path) = &settings.markdown {
        written(
            env::MARKDOWN,
            "Markdown",
            path,
            markdown::write(results, redactor, path),
        );
    }
    errors
}

/// Prints panics, from any thread, with secrets masked, saying it is a bug.
fn install_redacting_panic_hook(redactor: Redactor) {
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("error: {} ({BUG})", redactor.redact(&info.to_string()));
    }));
}

/// The panic hook of the command, before a run knows its secrets: masks those registered
/// (none yet, or a finished run's), says it is a bug.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "error: {} ({BUG})",
            crate::redact::mask_known(&info.to_string())
        );
    }));
}
