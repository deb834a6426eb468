//! The run: discover the cases and schemas, connect to the target, run one libtest-mimic
//! trial per case, and report. Each step has its module: [`discover`], [`target`],
//! [`trials`]; what stops a run is an [`error::HarnessError`]; the settings are
//! [`crate::settings`].

pub mod discover;
pub mod error;
pub mod target;
pub mod trials;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use libtest_mimic::{Arguments, Trial};

use crate::redact::Redactor;
use crate::replay::Replayer;
use crate::report::human::render_summary;
use crate::report::{RunResults, json, junit, markdown};
use crate::settings::{Settings, env};
use error::{Cause, HarnessError};
use trials::Shared;

/// Runs the contract as a libtest-style suite and returns the process exit code:
/// 0 when every case passes, 101 when the endpoint breaks the contract, 1 when the harness
/// cannot run (bad case file, schema or setting).
pub fn run(args: &Arguments, settings: Settings) -> ExitCode {
    let redactor = settings.redactor();
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
        .and_then(|()| target::load_replay(settings));
    let (settings, replayer) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return fail(vec![e]),
    };
    let (trials, shared) = match prepare(args, &settings, replayer) {
        Ok(prepared) => prepared,
        Err(errors) => return fail(errors),
    };
    let code = libtest_mimic::run(args, trials).exit_code();
    let Some(shared) = shared else {
        return code;
    };
    shared.print_notes();
    let results = shared.results(args, &settings);
    eprintln!("{}", render_summary(&results, &redactor));
    // An endpoint that could not be reached, or only said "try again", was not checked:
    // that is the harness unable to run, not drift.
    let blocked = results.diagnoses().iter().any(|d| d.cause.blocks_the_run());
    let code = if blocked { ExitCode::FAILURE } else { code };
    // 101 is for answers that broke the contract: when the only failures say a case could not
    // be judged (no usable answer, a budget hit), the run exits 1 and says so.
    if let Some(why) = shared.connected.http.stopped() {
        eprintln!("error: {}", redactor.redact(&why));
    }
    let code = match results.could_not_be_judged() {
        Some(message) => {
            eprintln!("error: {}", redactor.redact(&message));
            ExitCode::FAILURE
        }
        None => code,
    };
    match write_recording(&shared, &settings)
        .and_then(|()| write_reports(&results, &settings, &redactor))
    {
        Ok(()) => code,
        Err(e) => fail(vec![e]),
    }
}

/// Reads settings from the environment and runs: the body of `tests/contract.rs`.
pub fn main_with_root(root: &Path) -> ExitCode {
    let args = Arguments::from_args();
    match Settings::from_env(root) {
        Ok(settings) => run(&args, settings),
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
    let shared = Arc::new(Shared::new(settings, connected, schemas, &cases));
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
    let trials = trials::trials(cases, settings, Some(&shared));
    Ok((trials, Some(shared)))
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

/// Writes the reports the settings ask for; every text in them is masked.
fn write_reports(
    results: &RunResults,
    settings: &Settings,
    redactor: &Redactor,
) -> Result<(), HarnessError> {
    let report = |e: String| HarnessError::Report(Cause(e));
    if let Some(path) = &settings.junit {
        junit::write(results, redactor, path).map_err(report)?;
        eprintln!("note: JUnit report written to {}", path.display());
    }
    if let Some(path) = &settings.json {
        json::Report::build(results, redactor)
            .write(path)
            .map_err(report)?;
        eprintln!("note: JSON report written to {}", path.display());
    }
    if let Some(path) = &settings.markdown {
        markdown::write(results, redactor, path).map_err(report)?;
        eprintln!("note: Markdown report written to {}", path.display());
    }
    Ok(())
}

/// Prints panics, from any thread, with secrets masked.
fn install_redacting_panic_hook(redactor: Redactor) {
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("{}", redactor.redact(&info.to_string()));
    }));
}
