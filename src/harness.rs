//! The run: settings from the environment, discovery of cases and schemas, the target
//! (live endpoint or embedded reference mock), and one libtest-mimic trial per case.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};
use url::Url;

use crate::case::AuthMode;
use crate::case::{Case, load_cases};
use crate::check::walk::{DEFAULT_MAX_PAGES, WalkBounds};
use crate::contract::AuthStyle;
use crate::http::{
    ClientSettings, HeaderName, HeaderValue, HttpClient, Recorder, Redactor, Replayer,
    RequestOptions, Secret, Target, parse_base_url,
};
use crate::mock::{DEFAULT_KEY, Fault, MockConfig, ReferenceMock, load_examples};
use crate::record::{RunInfo, SuiteTarget};
use crate::report::human::{render_failure, render_notices, render_summary};
use crate::report::{CaseOutcome, CaseResult, RunResults, json, junit, markdown};
use crate::runner::{
    CaseRun, Progress, RunCache, RunContext, WalkPlan, case_options, case_timeout_violation,
    run_case,
};
use crate::schema::SchemaSet;
use crate::violation::Severity;

/// Environment variables the harness reads.
pub mod env {
    /// The live endpoint's base URL (may carry a path prefix); unset → the reference mock.
    pub const BASE_URL: &str = "CONTRACT_BASE_URL";
    /// The API key.
    pub const API_KEY: &str = "CONTRACT_API_KEY";
    /// `x-api-key` (default) or `bearer`.
    pub const AUTH: &str = "CONTRACT_AUTH";
    /// The cases folder (default `cases/`, else the built-in suites).
    pub const CASES_DIR: &str = "CONTRACT_CASES_DIR";
    /// The schemas folder (default `schemas/`, else the built-in schemas).
    pub const SCHEMAS_DIR: &str = "CONTRACT_SCHEMAS_DIR";
    /// The suites to run (comma-separated names; unset: every suite of the cases folder).
    pub const SUITES: &str = "CONTRACT_SUITES";
    /// Names of further variables whose values are masked in all output (comma-separated).
    pub const SECRET_VARS: &str = "CONTRACT_SECRET_VARS";
    /// Attempts per request, the first included.
    pub const RETRY_ATTEMPTS: &str = "CONTRACT_RETRY_ATTEMPTS";
    /// Seconds one request may spend on retries.
    pub const RETRY_BUDGET: &str = "CONTRACT_RETRY_BUDGET";
    /// Seconds to establish a connection.
    pub const CONNECT_TIMEOUT: &str = "CONTRACT_CONNECT_TIMEOUT";
    /// Seconds one request may take, body included.
    pub const REQUEST_TIMEOUT: &str = "CONTRACT_REQUEST_TIMEOUT";
    /// Seconds one case may take.
    pub const CASE_TIMEOUT: &str = "CONTRACT_CASE_TIMEOUT";
    /// The largest body read, in bytes.
    pub const MAX_BODY_BYTES: &str = "CONTRACT_MAX_BODY_BYTES";
    /// Requests per second at most (live runs; 0 = no cap).
    pub const RATE_LIMIT: &str = "CONTRACT_RATE_LIMIT";
    /// Requests in flight at most (live runs; 0 = no cap).
    pub const CONCURRENCY: &str = "CONTRACT_CONCURRENCY";
    /// A PEM file of extra CA certificates to trust.
    pub const CA_CERT: &str = "CONTRACT_CA_CERT";
    /// Pages a walk may take before it fails, unless its case says otherwise.
    pub const MAX_PAGES: &str = "CONTRACT_MAX_PAGES";
    /// Items after which a walk stops without reaching the end (unset: walk to the end).
    pub const STOP_AFTER_ITEMS: &str = "CONTRACT_STOP_AFTER_ITEMS";
    /// `parallel` (default) or `chained`: whether walks of id cursors send their pages ahead
    /// along the order a walk at a larger limit learned.
    pub const WALK_PLAN: &str = "CONTRACT_WALK_PLAN";
    /// A file to write the JUnit XML report to.
    pub const JUNIT: &str = "CONTRACT_JUNIT";
    /// A file to write the JSON report to.
    pub const JSON: &str = "CONTRACT_JSON";
    /// A file to write the Markdown report to (a GitHub job summary: `$GITHUB_STEP_SUMMARY`).
    pub const MARKDOWN: &str = "CONTRACT_MARKDOWN";
    /// `breaking` (default) or `additive`: the least severity that fails a case.
    pub const FAIL_ON: &str = "CONTRACT_FAIL_ON";
    /// Headers sent with every request, one `Name: value` per line; values are masked.
    pub const HEADERS: &str = "CONTRACT_HEADERS";
    /// Names of headers (comma-separated) whose values need no masking.
    pub const PUBLIC_HEADERS: &str = "CONTRACT_PUBLIC_HEADERS";
    /// Response headers the server is known to send (comma-separated; `x-litellm-*` names a
    /// prefix): never reported as new headers.
    pub const KNOWN_HEADERS: &str = "CONTRACT_KNOWN_HEADERS";
    /// A file to record the run to, as HAR 1.2 (masked).
    pub const RECORD: &str = "CONTRACT_RECORD";
    /// A HAR file recorded with `CONTRACT_RECORD` to answer the run from, with no network.
    pub const REPLAY: &str = "CONTRACT_REPLAY";

    /// The `check` flag that overrides a variable, if one does.
    pub fn flag(var: &str) -> Option<&'static str> {
        Some(match var {
            BASE_URL => "--base-url",
            AUTH => "--auth",
            CASES_DIR => "--cases",
            SCHEMAS_DIR => "--schemas",
            SUITES => "--suite",
            WALK_PLAN => "--walk-plan",
            JUNIT => "--junit",
            JSON => "--json",
            MARKDOWN => "--markdown",
            FAIL_ON => "--fail-on",
            HEADERS => "--header",
            PUBLIC_HEADERS => "--public-header",
            RECORD => "--record",
            REPLAY => "--replay",
            _ => return None,
        })
    }
}

/// Requests per second a live run sends at most, unless `CONTRACT_RATE_LIMIT` says otherwise.
pub const DEFAULT_LIVE_RATE: f64 = 10.0;
/// Requests a live run keeps in flight at most, unless `CONTRACT_CONCURRENCY` says otherwise.
pub const DEFAULT_LIVE_CONCURRENCY: usize = 4;
/// How long a page case may take, unless `CONTRACT_CASE_TIMEOUT` or the case says otherwise.
pub const DEFAULT_CASE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a walk or cross-walk case may take, unless `CONTRACT_CASE_TIMEOUT` or the case
/// says otherwise. Only a guard against hangs: the page budget is what bounds a walk.
pub const DEFAULT_WALK_CASE_TIMEOUT: Duration = Duration::from_secs(3600);

/// What a run is pointed at, from the environment or the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The case files: a folder, or [`files::BUILT_IN_CASES`](crate::files::BUILT_IN_CASES).
    pub cases_dir: PathBuf,
    /// The schemas: a folder, or [`files::BUILT_IN_SCHEMAS`](crate::files::BUILT_IN_SCHEMAS).
    pub schemas_dir: PathBuf,
    /// The suites to run, by name (`--suite`, `CONTRACT_SUITES`); empty: every suite.
    pub suites: Vec<String>,
    /// The live endpoint; `None` runs against the embedded reference mock.
    pub base_url: Option<Url>,
    pub api_key: Option<Secret>,
    /// Overrides each contract's auth style.
    pub auth: Option<AuthStyle>,
    /// `--auth none`: the server has no auth; no credential is sent, no key is needed, and the
    /// auth cases are reported as ignored.
    pub no_auth: bool,
    /// Sent with every request (`--header`, `CONTRACT_HEADERS`), before a case's own headers.
    pub headers: Vec<(HeaderName, Secret)>,
    /// Lowercase names of headers whose values are shown (`--public-header`).
    pub public_headers: Vec<String>,
    /// Response headers (lowercase) and prefixes (ending in `*`) known not to be drift, beside
    /// the contract's own (`CONTRACT_KNOWN_HEADERS`).
    pub known_headers: Vec<String>,
    /// The variables a flag overrode, so that messages name the flag instead.
    pub from_flags: Vec<&'static str>,
    /// Further values to mask (from `CONTRACT_SECRET_VARS`).
    pub secrets: Vec<Secret>,
    /// Retries and request timeout, unless a case's `[limits]` overrides them.
    pub request: RequestOptions,
    /// `None`: [`DEFAULT_CASE_TIMEOUT`] for page cases, [`DEFAULT_WALK_CASE_TIMEOUT`] for walks.
    pub case_timeout: Option<Duration>,
    /// How far a walk may go, unless its case says otherwise.
    pub walk_bounds: WalkBounds,
    /// How walks send their pages (`CONTRACT_WALK_PLAN`, `--walk-plan`); `None`: see
    /// [`Settings::run_walk_plan`] (parallel, which keeps opaque-token cursors chained, unless
    /// the run is recorded or replayed).
    pub walk_plan: Option<WalkPlan>,
    /// Client settings. `rate_limit`/`concurrency` of `None` take the live defaults on a
    /// live run and no cap against the embedded mock.
    pub client: ClientSettings,
    /// Where to write the JUnit XML report, if anywhere.
    pub junit: Option<PathBuf>,
    /// Where to write the JSON report, if anywhere.
    pub json: Option<PathBuf>,
    /// Where to write the Markdown report, if anywhere.
    pub markdown: Option<PathBuf>,
    /// The least severity that fails a case: breaking drift always does; additive drift
    /// (new fields and headers) only with [`Severity::Additive`].
    pub fail_on: Severity,
    /// Where to record the run as HAR 1.2, every attempt masked (`CONTRACT_RECORD`).
    pub record: Option<PathBuf>,
    /// A recording to answer the run from (`CONTRACT_REPLAY`): no request is sent, no mock is
    /// started, and `base_url` is not needed (the recording says what was targeted).
    pub replay: Option<PathBuf>,
}

impl Settings {
    /// Reads the `CONTRACT_*` variables; folders default to `cases/` and `schemas/` in `root`,
    /// and, where `root` has no such folder, to the suites built into the binary.
    pub fn from_env(root: &Path) -> Result<Settings, String> {
        Settings::from_vars(root, |name| std::env::var(name).ok())
    }

    /// Reads the settings through `var`, so tests need not touch the process environment.
    pub fn from_vars(
        root: &Path,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, String> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let parsed = |name: &str| -> Result<Option<f64>, String> {
            var(name)
                .map(|v| match v.trim().parse::<f64>() {
                    Ok(n) if (0.0..1e9).contains(&n) => Ok(n),
                    _ => Err(format!("{name}: `{v}` is not a non-negative number")),
                })
                .transpose()
        };
        let secs = |name: &str, default: Duration| -> Result<Duration, String> {
            match parsed(name)? {
                None => Ok(default),
                Some(n) if n > 0.0 => Ok(Duration::from_secs_f64(n)),
                Some(_) => Err(format!("{name}: give a positive number of seconds")),
            }
        };

        let base_url = var(env::BASE_URL)
            .map(|v| parse_base_url(&v).map_err(|e| format!("{}: {e}", env::BASE_URL)))
            .transpose()?;
        let (auth, no_auth) = match var(env::AUTH) {
            Some(v) => parse_auth(&v).map_err(|e| format!("{}: {e}", env::AUTH))?,
            None => (None, false),
        };
        let mut headers = Vec::new();
        for line in var(env::HEADERS).unwrap_or_default().lines() {
            if !line.trim().is_empty() {
                headers.push(setting_header(line, env::HEADERS)?);
            }
        }
        let list = |name: &str| -> Vec<String> {
            var(name)
                .unwrap_or_default()
                .split(',')
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect()
        };
        let mut secrets = Vec::new();
        for name in var(env::SECRET_VARS)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
        {
            if let Some(value) = (!name.is_empty()).then(|| var(name)).flatten() {
                secrets.push(Secret::new(value));
            }
        }

        let defaults = RequestOptions::default();
        let mut request = defaults.clone();
        if let Some(n) = parsed(env::RETRY_ATTEMPTS)? {
            if n < 1.0 || n.fract() != 0.0 {
                return Err(format!(
                    "{}: give a whole number of attempts, at least 1 (1 means no retries)",
                    env::RETRY_ATTEMPTS
                ));
            }
            request.retry.max_attempts = n as u32;
        }
        let count = |name: &str, what: &str| -> Result<Option<u32>, String> {
            match parsed(name)? {
                None => Ok(None),
                Some(n) if n >= 1.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => {
                    Ok(Some(n as u32))
                }
                Some(_) => Err(format!("{name}: give a whole number of {what}, at least 1")),
            }
        };
        let walk_bounds = WalkBounds {
            max_pages: count(env::MAX_PAGES, "pages")?.unwrap_or(DEFAULT_MAX_PAGES),
            stop_after_items: count(env::STOP_AFTER_ITEMS, "items")?.map(u64::from),
        };
        request.retry.budget = secs(env::RETRY_BUDGET, defaults.retry.budget)?;
        request.timeout = secs(env::REQUEST_TIMEOUT, defaults.timeout)?;

        let client_defaults = ClientSettings::default();
        let client = ClientSettings {
            connect_timeout: secs(env::CONNECT_TIMEOUT, client_defaults.connect_timeout)?,
            max_body_bytes: match parsed(env::MAX_BODY_BYTES)? {
                Some(n) if n >= 1.0 => n as u64,
                Some(_) => return Err(format!("{}: give a size in bytes", env::MAX_BODY_BYTES)),
                None => client_defaults.max_body_bytes,
            },
            rate_limit: parsed(env::RATE_LIMIT)?,
            concurrency: parsed(env::CONCURRENCY)?.map(|n| n as usize),
            ca_cert: var(env::CA_CERT).map(PathBuf::from),
            use_env_proxy: true,
        };

        let record = var(env::RECORD).map(PathBuf::from);
        let replay = var(env::REPLAY).map(PathBuf::from);
        if record.is_some() && replay.is_some() {
            return Err(format!(
                "{} and {} are both set (a replay sends no request, so there is nothing to record: set one)",
                env::RECORD,
                env::REPLAY
            ));
        }

        Ok(Settings {
            cases_dir: var(env::CASES_DIR).map_or_else(
                || default_folder(root, "cases", crate::files::BUILT_IN_CASES),
                PathBuf::from,
            ),
            schemas_dir: var(env::SCHEMAS_DIR).map_or_else(
                || default_folder(root, "schemas", crate::files::BUILT_IN_SCHEMAS),
                PathBuf::from,
            ),
            suites: var(env::SUITES)
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            base_url,
            api_key: var(env::API_KEY).map(Secret::new),
            auth,
            no_auth,
            headers,
            public_headers: list(env::PUBLIC_HEADERS),
            known_headers: list(env::KNOWN_HEADERS),
            from_flags: Vec::new(),
            secrets,
            request,
            case_timeout: var(env::CASE_TIMEOUT)
                .map(|_| secs(env::CASE_TIMEOUT, DEFAULT_CASE_TIMEOUT))
                .transpose()?,
            walk_bounds,
            walk_plan: var(env::WALK_PLAN)
                .map(|v| v.parse().map_err(|e| format!("{}: {e}", env::WALK_PLAN)))
                .transpose()?,
            client,
            junit: var(env::JUNIT).map(PathBuf::from),
            json: var(env::JSON).map(PathBuf::from),
            markdown: var(env::MARKDOWN).map(PathBuf::from),
            fail_on: var(env::FAIL_ON)
                .map(|v| v.parse().map_err(|e| format!("{}: {e}", env::FAIL_ON)))
                .transpose()?
                .unwrap_or_default(),
            record,
            replay,
        })
    }

    /// Masks the configured key, secrets and header values (but those of public headers) in
    /// anything printed.
    pub fn redactor(&self) -> Redactor {
        let headers = self
            .headers
            .iter()
            .filter(|(name, _)| !self.public_headers.iter().any(|p| p == name.as_str()))
            .map(|(_, value)| value);
        Redactor::new(
            self.api_key
                .iter()
                .chain(&self.secrets)
                .chain(headers)
                .cloned(),
        )
    }

    /// How a message names the setting read from `var`: the flag, when one gave it.
    pub fn source(&self, var: &'static str) -> &'static str {
        match env::flag(var) {
            Some(flag) if self.from_flags.contains(&var) => flag,
            _ => var,
        }
    }

    /// Notes that a flag gave the setting of `var`.
    pub fn set_by_flag(&mut self, var: &'static str) {
        if !self.from_flags.contains(&var) {
            self.from_flags.push(var);
        }
    }

    /// The run's own headers, as sent: values marked sensitive.
    fn request_headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        self.headers
            .iter()
            .filter_map(|(name, value)| {
                let mut value = HeaderValue::from_str(value.expose()).ok()?;
                value.set_sensitive(true);
                Some((name.clone(), value))
            })
            .collect()
    }

    /// Why `case` does not run, if it does not: its file says `skip`, or it checks auth on a
    /// run that sends no credential.
    fn skip_reason(&self, case: &Case) -> Option<String> {
        if let Some(reason) = &case.file.skip {
            return Some(reason.clone());
        }
        (self.no_auth && case.file.request.auth != AuthMode::Valid).then(|| {
            format!(
                "auth not checked: the run sends no credential ({})",
                self.no_auth_source()
            )
        })
    }

    /// `--auth none` or `CONTRACT_AUTH=none`, as the user said it.
    pub fn no_auth_source(&self) -> &'static str {
        if self.from_flags.contains(&env::AUTH) {
            "--auth none"
        } else {
            "CONTRACT_AUTH=none"
        }
    }

    /// How the user says "no auth" where the auth style came from.
    fn no_auth_hint(&self) -> &'static str {
        if self.from_flags.contains(&env::BASE_URL) || self.from_flags.contains(&env::AUTH) {
            "pass --auth none"
        } else {
            "set CONTRACT_AUTH=none"
        }
    }

    /// The client settings for this run: live runs are capped and go through the proxy the
    /// environment names; the embedded mock is local and uncapped unless told otherwise.
    fn client_for_run(&self) -> ClientSettings {
        let mut client = self.client.clone();
        if self.base_url.is_none() {
            client.use_env_proxy = false;
        } else {
            client.rate_limit = client.rate_limit.or(Some(DEFAULT_LIVE_RATE));
            client.concurrency = client.concurrency.or(Some(DEFAULT_LIVE_CONCURRENCY));
        }
        // 0 lifts a cap.
        client.rate_limit = client.rate_limit.filter(|r| *r > 0.0);
        client.concurrency = client.concurrency.filter(|n| *n > 0);
        client
    }
}

/// `root/name` when that folder exists, else the built-in copy of the shipped one.
fn default_folder(root: &Path, name: &str, built_in: &str) -> PathBuf {
    let folder = root.join(name);
    if folder.exists() {
        folder
    } else {
        PathBuf::from(built_in)
    }
}

/// Reads an auth setting: `x-api-key`, `bearer`, or `none` (no credential at all).
pub fn parse_auth(text: &str) -> Result<(Option<AuthStyle>, bool), String> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok((None, true));
    }
    text.parse::<AuthStyle>()
        .map(|style| (Some(style), false))
        .map_err(|_| {
            format!(
                "unknown auth style `{}` (expected `x-api-key`, `bearer` or `none`)",
                text.trim()
            )
        })
}

/// A header given as `Name: value` in a setting (`from`: the flag or variable).
pub fn setting_header(text: &str, from: &str) -> Result<(HeaderName, Secret), String> {
    let (name, _) = crate::http::parse_header(text, from)?;
    let value = text.split_once(':').map_or("", |(_, v)| v.trim());
    Ok((name, Secret::new(value)))
}

/// Runs the contract as a libtest-style suite and returns the process exit code:
/// 0 when every case passes, 101 when the endpoint breaks the contract, 1 when the harness
/// cannot run (bad case file, schema or setting).
pub fn run(args: &Arguments, settings: Settings) -> ExitCode {
    let redactor = settings.redactor();
    install_redacting_panic_hook(redactor.clone());
    if let Err(e) = settings.check_record_replay() {
        eprintln!("error: {}", redactor.redact(&e));
        return ExitCode::FAILURE;
    }
    let (settings, replayer) = match load_replay(settings) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {}", redactor.redact(&e));
            return ExitCode::FAILURE;
        }
    };
    match prepare(args, &settings, replayer) {
        Ok((trials, shared)) => {
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
            let recorded = match (&shared.recorder, &settings.record) {
                (Some((recorder, info)), Some(path)) => recorder
                    .write(path, info)
                    .map(|()| {
                        eprintln!("note: the run is recorded in {}", path.display());
                    })
                    .map_err(|e| format!("{}: {e}", settings.source(env::RECORD))),
                _ => Ok(()),
            };
            match recorded.and_then(|()| write_reports(&results, &settings, &redactor)) {
                Ok(()) => code,
                Err(e) => {
                    eprintln!("error: {}", redactor.redact(&e));
                    ExitCode::FAILURE
                }
            }
        }
        Err(errors) => {
            for e in errors {
                eprintln!("error: {}", redactor.redact(&e));
            }
            ExitCode::FAILURE
        }
    }
}

/// A key sent in place of the real one in a replay without `CONTRACT_API_KEY`: it is masked
/// like the recorded key, so the requests still match.
const REPLAY_KEY: &str = "lc-replay-placeholder-key";

impl Settings {
    /// The walk plan of the run: the one set, else chained for a run that is recorded or
    /// replayed, else parallel. Which pages a walk sends ahead depends on which larger walk
    /// another case has begun, a race; on a server that breaks predictions, so do the requests
    /// sent. Chained, a recorded run sends exactly the requests its replay will.
    pub fn run_walk_plan(&self) -> WalkPlan {
        self.walk_plan
            .unwrap_or(if self.record.is_some() || self.replay.is_some() {
                WalkPlan::Chained
            } else {
                WalkPlan::Parallel
            })
    }

    /// `CONTRACT_RECORD` and `CONTRACT_REPLAY` (or their flags) exclude each other.
    fn check_record_replay(&self) -> Result<(), String> {
        if self.record.is_some() && self.replay.is_some() {
            return Err(format!(
                "{} and {} are both set (a replay sends no request, so there is nothing to record: set one)",
                self.source(env::RECORD),
                self.source(env::REPLAY)
            ));
        }
        Ok(())
    }

    /// The key requests carry: the configured one, the mock's, or in a replay a placeholder
    /// (never sent anywhere).
    fn key_sent(&self) -> Secret {
        match (
            &self.api_key,
            self.replay.is_some(),
            self.base_url.is_some(),
        ) {
            (Some(key), _, _) => key.clone(),
            (None, true, _) => Secret::new(REPLAY_KEY),
            (None, false, true) => Secret::new(""),
            (None, false, false) => Secret::new(DEFAULT_KEY),
        }
    }

    /// The run's mask with the key actually sent added: the mock's key, or a replay's
    /// placeholder, is a key too, and recordings mask it.
    fn redactor_with_key(&self) -> Redactor {
        Settings {
            api_key: Some(self.key_sent()),
            ..self.clone()
        }
        .redactor()
    }
}

/// Reads the recording a replay answers from, and takes from it how the recorded run sent
/// its credential (`--auth`), unless this run says otherwise.
fn load_replay(mut settings: Settings) -> Result<(Settings, Option<Arc<Replayer>>), String> {
    let Some(path) = settings.replay.clone() else {
        return Ok((settings, None));
    };
    let replayer = Replayer::load(&path, settings.redactor_with_key())
        .map_err(|e| format!("{}: {e}", settings.source(env::REPLAY)))?;
    let info = replayer.info();
    if settings.auth.is_none() && !settings.no_auth {
        settings.no_auth = info.no_auth;
        settings.auth = info.auth.as_deref().and_then(|a| a.parse().ok());
    }
    Ok((settings, Some(Arc::new(replayer))))
}

/// Writes the reports the settings ask for; every text in them is masked.
fn write_reports(
    results: &RunResults,
    settings: &Settings,
    redactor: &Redactor,
) -> Result<(), String> {
    if let Some(path) = &settings.junit {
        junit::write(results, redactor, path)?;
        eprintln!("note: JUnit report written to {}", path.display());
    }
    if let Some(path) = &settings.json {
        json::Report::build(results, redactor).write(path)?;
        eprintln!("note: JSON report written to {}", path.display());
    }
    if let Some(path) = &settings.markdown {
        markdown::write(results, redactor, path)?;
        eprintln!("note: Markdown report written to {}", path.display());
    }
    Ok(())
}

/// Whether libtest-mimic runs a trial of that name under `args`' filter and skips (its
/// rule: a substring, or the whole name with `--exact`).
fn selected(name: &str, args: &Arguments) -> bool {
    let matches = |pattern: &str| {
        if args.exact {
            name == pattern
        } else {
            name.contains(pattern)
        }
    };
    args.filter.as_deref().is_none_or(matches) && !args.skip.iter().any(|s| matches(s))
}

/// Prints panics, from any thread, with secrets masked.
fn install_redacting_panic_hook(redactor: Redactor) {
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("{}", redactor.redact(&info.to_string()));
    }));
}

/// Reads settings from the environment and runs: the body of `tests/contract.rs`.
pub fn main_with_root(root: &Path) -> ExitCode {
    let args = Arguments::from_args();
    match Settings::from_env(root) {
        Ok(settings) => run(&args, settings),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Everything a trial needs, shared by all of them.
struct Shared {
    runtime: tokio::runtime::Runtime,
    http: HttpClient,
    schemas: SchemaSet,
    /// One target per contract file.
    targets: BTreeMap<PathBuf, Target>,
    redactor: Redactor,
    request: RequestOptions,
    case_timeout: Option<Duration>,
    walk_bounds: WalkBounds,
    walk_plan: WalkPlan,
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
    /// Kept alive for the run: dropping them stops the servers.
    _mocks: Vec<ReferenceMock>,
    /// The run's recording (`CONTRACT_RECORD`) and what it targeted.
    recorder: Option<(Arc<Recorder>, RunInfo)>,
    /// The recording a replay answers from (`CONTRACT_REPLAY`).
    replayer: Option<Arc<Replayer>>,
}

impl Shared {
    fn note(&self, case: &str, note: String) {
        let mut notes = self.notes.lock().unwrap_or_else(|e| e.into_inner());
        notes.push((case.to_owned(), note));
    }

    /// Prints the notes, masked, grouped by case in name order (the summary then says what
    /// the run cost).
    fn print_notes(&self) {
        let mut notes = std::mem::take(&mut *self.notes.lock().unwrap_or_else(|e| e.into_inner()));
        notes.sort_by(|a, b| a.0.cmp(&b.0));
        for (case, note) in notes {
            eprintln!("{}", self.redactor.redact(&format!("note: {case}: {note}")));
        }
    }

    /// The run's results in case name order, with the skipped cases `args` selected.
    fn results(&self, args: &Arguments, settings: &Settings) -> RunResults {
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
        let targets: Vec<String> = self.targets.values().map(|t| t.base.to_string()).collect();
        RunResults {
            target: match &self.replayer {
                Some(replayer) => replayer.describe(),
                None => targets.join(", "),
            },
            reference_mock: match &self.replayer {
                Some(replayer) => replayer.info().reference_mock,
                None => settings.base_url.is_none(),
            },
            auth_unchecked: self.auth_unchecked,
            auth: self
                .targets
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
            cases,
        }
    }
}

type Prepared = (Vec<Trial>, Option<Arc<Shared>>);

fn prepare(
    args: &Arguments,
    settings: &Settings,
    replayer: Option<Arc<Replayer>>,
) -> Result<Prepared, Vec<String>> {
    let schemas = SchemaSet::load(&settings.schemas_dir).map_err(|e| strings(&e));
    let cases = load_cases(&settings.cases_dir)
        .map_err(|e| strings(&e))
        .and_then(|cases| chosen_suites(cases, settings));
    let (schemas, cases) = match (schemas, cases) {
        (Ok(s), Ok(c)) => (s, c),
        (s, c) => {
            let mut all = s.err().unwrap_or_default();
            all.extend(c.err().unwrap_or_default());
            return Err(all);
        }
    };
    check_schema_roles(&cases, &schemas)?;

    if args.list {
        return Ok((
            cases
                .into_iter()
                .map(|c| {
                    let ignored = settings.skip_reason(&c).is_some();
                    trial(c, ignored, None)
                })
                .collect(),
            None,
        ));
    }
    let env_var = |name: &str| std::env::var(name).ok();
    let mut cases = with_known_headers(cases, &settings.known_headers);
    let expanded: Vec<String> = cases
        .iter_mut()
        .filter_map(|c| c.expand_vars(&env_var).err())
        .map(|e| e.to_string())
        .collect();
    if !expanded.is_empty() {
        return Err(expanded);
    }
    let mut shared = connect(settings, &cases, schemas, replayer)?;
    shared.skipped = cases
        .iter()
        .filter_map(|c| {
            let reason = settings.skip_reason(c)?;
            Some((c.name.clone(), c.file.description.clone(), reason))
        })
        .collect();
    shared.auth_unchecked = settings.no_auth.then(|| settings.no_auth_source());
    let shared = Arc::new(shared);
    eprintln!(
        "{}",
        shared.redactor.redact(&describe_targets(settings, &shared))
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
    let trials = cases
        .into_iter()
        .map(|c| {
            let ignored = settings.skip_reason(&c).is_some();
            trial(c, ignored, Some(Arc::clone(&shared)))
        })
        .collect();
    Ok((trials, Some(shared)))
}

/// The cases of the suites `--suite` (or `CONTRACT_SUITES`) names, or all of them; a name that
/// is not a suite of the cases folder is an error naming the suites there.
fn chosen_suites(cases: Vec<Case>, settings: &Settings) -> Result<Vec<Case>, Vec<String>> {
    if settings.suites.is_empty() {
        return Ok(cases);
    }
    let names: BTreeSet<&str> = cases.iter().map(|c| c.suite()).collect();
    let unknown: Vec<String> = settings
        .suites
        .iter()
        .filter(|s| !names.contains(s.as_str()))
        .map(|s| {
            format!(
                "{}: no suite `{s}` in {} (its suites: {})",
                settings.source(env::SUITES),
                settings.cases_dir.display(),
                names.iter().copied().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(unknown);
    }
    Ok(cases
        .into_iter()
        .filter(|c| settings.suites.iter().any(|s| s == c.suite()))
        .collect())
}

/// The cases with `known` (`CONTRACT_KNOWN_HEADERS`: names, and prefixes written `x-litellm-*`)
/// added to their contracts' known headers; each contract is copied once.
fn with_known_headers(mut cases: Vec<Case>, known: &[String]) -> Vec<Case> {
    if known.is_empty() {
        return cases;
    }
    let mut extended: BTreeMap<PathBuf, Arc<crate::contract::Contract>> = BTreeMap::new();
    for case in &mut cases {
        let contract = extended
            .entry(case.contract_path.clone())
            .or_insert_with(|| {
                let mut contract = (*case.contract).clone();
                for name in known {
                    match name.strip_suffix('*') {
                        Some(prefix) => contract.known_header_prefixes.push(prefix.to_owned()),
                        None => contract.known_headers.push(name.clone()),
                    }
                }
                Arc::new(contract)
            });
        case.contract = Arc::clone(contract);
    }
    cases
}

fn strings<E: ToString>(errors: &[E]) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

fn check_schema_roles(cases: &[Case], schemas: &SchemaSet) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    for case in cases {
        if !seen.insert(&case.contract_path) {
            continue;
        }
        let files = &case.contract.schemas;
        for (role, file) in [("list", &files.list), ("error", &files.error)] {
            if !schemas.contains(file) {
                errors.push(
                    crate::schema::SchemaError::Missing {
                        contract: case.contract_path.clone(),
                        role,
                        file: file.clone(),
                        dir: schemas.dir().to_owned(),
                    }
                    .to_string(),
                );
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Builds the runtime and client, and starts a reference mock per contract when no live
/// endpoint is configured.
fn connect(
    settings: &Settings,
    cases: &[Case],
    schemas: SchemaSet,
    replayer: Option<Arc<Replayer>>,
) -> Result<Shared, Vec<String>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| vec![format!("cannot start the async runtime: {e}")])?;
    // A replay builds no HTTP client at all: nothing can reach the network.
    let mut http = match &replayer {
        Some(replayer) => {
            HttpClient::replaying(Arc::clone(replayer), settings.client.max_body_bytes)
        }
        None => HttpClient::new(&settings.client_for_run()).map_err(|e| vec![e.to_string()])?,
    };
    let recorder = settings
        .record
        .as_ref()
        .map(|_| Arc::new(Recorder::new(settings.redactor_with_key())));
    if let Some(recorder) = &recorder {
        http = http.recording(Arc::clone(recorder));
    }

    let mut contracts = BTreeMap::new();
    for case in cases {
        contracts
            .entry(case.contract_path.clone())
            .or_insert_with(|| Arc::clone(&case.contract));
    }
    let mut targets = BTreeMap::new();
    let mut mocks = Vec::new();
    let headers = settings.request_headers();
    match (&replayer, &settings.base_url) {
        (Some(replayer), _) => {
            // The recorded targets, so request lines read as they did in the recorded run.
            let key = settings.key_sent();
            for (path, contract) in contracts {
                let auth = settings.auth.unwrap_or(contract.auth);
                let base = replayer.base_for(&suite_of(&path)).ok_or_else(|| {
                    vec![format!(
                        "{}: {} names no target (record the run again with {})",
                        settings.source(env::REPLAY),
                        replayer.path().display(),
                        env::RECORD
                    )]
                })?;
                targets.insert(
                    path,
                    Target {
                        no_auth: settings.no_auth,
                        headers: headers.clone(),
                        ..Target::new(base, key.clone(), auth)
                    },
                );
            }
        }
        (None, Some(base)) => {
            let key = match (&settings.api_key, settings.no_auth) {
                (_, true) => Secret::new(""),
                (Some(key), false) => key.clone(),
                (None, false) => {
                    return Err(vec![format!(
                        "{} is set but {} is not (export the API key for {base}, or {} for a server without auth)",
                        settings.source(env::BASE_URL),
                        env::API_KEY,
                        settings.no_auth_hint(),
                    )]);
                }
            };
            runtime.block_on(preflight(base, settings.source(env::BASE_URL)))?;
            for (path, contract) in contracts {
                let auth = settings.auth.unwrap_or(contract.auth);
                targets.insert(
                    path,
                    Target {
                        no_auth: settings.no_auth,
                        headers: headers.clone(),
                        ..Target::new(base.clone(), key.clone(), auth)
                    },
                );
            }
        }
        (None, None) => {
            let key = settings
                .api_key
                .clone()
                .unwrap_or_else(|| Secret::new(DEFAULT_KEY));
            for (path, contract) in contracts {
                let auth = settings.auth.unwrap_or(contract.auth);
                let mut config = MockConfig::for_contract(&contract)
                    .key(key.expose())
                    .auth(auth);
                if let Some(examples) = load_examples(&path, &contract).map_err(|e| vec![e])? {
                    config = config.examples(examples);
                }
                if settings.no_auth {
                    // The mock as a server without auth: it answers whatever credential comes.
                    config = config.fault(Fault::AuthNotChecked);
                }
                let mock = runtime.block_on(ReferenceMock::start_embedded(config));
                targets.insert(
                    path,
                    Target {
                        no_auth: settings.no_auth,
                        headers: headers.clone(),
                        ..Target::new(mock.base_url(), key.clone(), auth)
                    },
                );
                mocks.push(mock);
            }
        }
    }
    let recorder = recorder.map(|recorder| {
        let info = RunInfo {
            targets: targets
                .iter()
                .map(|(path, target)| SuiteTarget {
                    suite: suite_of(path),
                    base: target.base.to_string(),
                })
                .collect(),
            reference_mock: settings.base_url.is_none(),
            auth: settings.auth.map(|a| a.to_string()),
            no_auth: settings.no_auth,
        };
        (recorder, info)
    });
    Ok(Shared {
        recorder,
        replayer,
        runtime,
        http,
        schemas,
        targets,
        redactor: settings.redactor(),
        request: settings.request.clone(),
        case_timeout: settings.case_timeout,
        walk_bounds: settings.walk_bounds,
        walk_plan: settings.run_walk_plan(),
        cache: RunCache::default(),
        notes: Mutex::default(),
        results: Mutex::default(),
        skipped: Vec::new(),
        auth_unchecked: None,
        fail_on: settings.fail_on,
        _mocks: mocks,
    })
}

/// A suite's name: its contract's folder.
fn suite_of(contract_path: &Path) -> String {
    contract_path
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Fails fast, once, when the live endpoint cannot even be connected to, instead of failing
/// every case with the same transport error. Skipped behind a proxy, where the proxy connects.
async fn preflight(base: &Url, source: &str) -> Result<(), Vec<String>> {
    let proxied = [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
    if proxied {
        return Ok(());
    }
    let (Some(host), Some(port)) = (base.host_str(), base.port_or_known_default()) else {
        return Err(vec![format!("{source}: `{base}` has no host")]);
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let connect = tokio::net::TcpStream::connect((host, port));
    match tokio::time::timeout(Duration::from_secs(10), connect).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(vec![format!(
            "cannot reach {source} = {base}: {e} (is the server up and the URL right?)"
        )]),
        Err(_) => Err(vec![format!(
            "cannot reach {source} = {base}: no connection within 10 s (is the server up and the URL right?)"
        )]),
    }
}

fn describe_targets(settings: &Settings, shared: &Shared) -> String {
    let urls: Vec<String> = shared
        .targets
        .values()
        .map(|t| t.base.to_string())
        .collect();
    let mut text = match (&shared.replayer, &settings.base_url) {
        (Some(replayer), base) => format!(
            "list-contract: checking a {}; no request is sent{}",
            replayer.describe(),
            if base.is_some() {
                format!(" ({} is ignored)", settings.source(env::BASE_URL))
            } else {
                String::new()
            }
        ),
        (None, Some(_)) => format!("list-contract: checking {}", urls.join(", ")),
        (None, None) => format!(
            "list-contract: {} is not set; checking the embedded reference mock at {}",
            env::BASE_URL,
            urls.join(", ")
        ),
    };
    if !settings.headers.is_empty() {
        let names: Vec<&str> = settings.headers.iter().map(|(n, _)| n.as_str()).collect();
        text.push_str(&format!(
            "; with header(s) {} on every request",
            names.join(", ")
        ));
    }
    if settings.no_auth {
        text.push_str(&format!(
            "; no credential sent ({}): auth is not checked",
            settings.no_auth_source()
        ));
    }
    text
}

fn trial(case: Case, ignored: bool, shared: Option<Arc<Shared>>) -> Trial {
    Trial::test(case.name.clone(), move || {
        let Some(shared) = shared else {
            return Ok(());
        };
        let started = std::time::Instant::now();
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

/// Runs `f`, turning a panic (a harness bug) into a failure whose message is masked like
/// everything else the harness prints.
fn guarded<T>(redactor: &Redactor, f: impl FnOnce() -> T) -> Result<T, Failed> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        Failed::from(redactor.redact(&format!("the harness panicked: {message}")))
    })
}

/// Runs one case within its time limit.
fn execute(case: &Case, shared: &Shared) -> CaseRun {
    let target = &shared.targets[&case.contract_path];
    let options = case_options(case, &shared.request);
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
    let progress = Progress::default();
    let ctx = RunContext {
        walk_bounds: shared.walk_bounds,
        walk_plan: shared.walk_plan,
        progress: Some(&progress),
        ..RunContext::new(
            target,
            &shared.http,
            &shared.schemas,
            &options,
            &shared.cache,
        )
    };
    let run = run_case(case, &ctx);
    shared
        .runtime
        .block_on(async { tokio::time::timeout(limit, run).await })
        .unwrap_or_else(|_| CaseRun {
            violations: vec![case_timeout_violation(limit, &progress)],
            requests: progress.requests(),
            ..CaseRun::default()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_masked_failure() {
        let redactor = Redactor::new([Secret::new("sk-canary-panic")]);
        let failed = guarded(&redactor, || -> () {
            panic!("leaked sk-canary-panic here")
        })
        .unwrap_err();
        assert_eq!(
            failed.message(),
            Some("the harness panicked: leaked *** here")
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

    #[test]
    fn headers_auth_none_and_known_headers_come_from_their_variables() {
        let vars = |name: &str| match name {
            "CONTRACT_HEADERS" => {
                Some("x-litellm-model: m1\n\nX-Token:  t0ken-secret \n".to_owned())
            }
            "CONTRACT_PUBLIC_HEADERS" => Some("X-LiteLLM-Model".to_owned()),
            "CONTRACT_KNOWN_HEADERS" => Some("x-litellm-version, x-litellm-*".to_owned()),
            "CONTRACT_AUTH" => Some("None".to_owned()),
            _ => None,
        };
        let s = Settings::from_vars(Path::new("/r"), vars).unwrap();
        assert_eq!((s.auth, s.no_auth), (None, true));
        let headers: Vec<(&str, &str)> = s
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.expose()))
            .collect();
        assert_eq!(
            headers,
            [("x-litellm-model", "m1"), ("x-token", "t0ken-secret")]
        );
        assert_eq!(s.known_headers, ["x-litellm-version", "x-litellm-*"]);
        let masked = s.redactor().redact("model m1, token t0ken-secret");
        assert_eq!(masked, "model m1, token ***");
        assert_eq!(s.source(env::BASE_URL), "CONTRACT_BASE_URL");
        let mut by_flag = s.clone();
        by_flag.set_by_flag(env::BASE_URL);
        assert_eq!(by_flag.source(env::BASE_URL), "--base-url");
        assert_eq!(s.no_auth_source(), "CONTRACT_AUTH=none");
        let bad = Settings::from_vars(Path::new("/r"), |n| {
            (n == "CONTRACT_HEADERS").then(|| "x-a: 1\nno colon".to_owned())
        });
        assert_eq!(
            bad.unwrap_err(),
            "CONTRACT_HEADERS: `no colon` is not a header (write it as `Name: value`)"
        );
    }

    #[test]
    fn record_and_replay_come_from_their_variables_and_exclude_each_other() {
        let s = Settings::from_vars(Path::new("/r"), |n| {
            (n == "CONTRACT_RECORD").then(|| "out/run.har".to_owned())
        })
        .unwrap();
        assert_eq!(
            (s.record.as_deref(), s.replay.as_deref()),
            (Some(Path::new("out/run.har")), None)
        );
        let s = Settings::from_vars(Path::new("/r"), |n| {
            (n == "CONTRACT_REPLAY").then(|| "run.har".to_owned())
        })
        .unwrap();
        assert_eq!(s.replay.as_deref(), Some(Path::new("run.har")));
        assert_eq!(s.key_sent(), Secret::new(REPLAY_KEY));
        assert_eq!(s.redactor_with_key().redact(REPLAY_KEY), "***");
        let both = Settings::from_vars(Path::new("/r"), |n| {
            matches!(n, "CONTRACT_RECORD" | "CONTRACT_REPLAY").then(|| "x.har".to_owned())
        });
        assert!(
            both.unwrap_err()
                .starts_with("CONTRACT_RECORD and CONTRACT_REPLAY are both set"),
        );
        // Set by the flags `check` will have, the message names the flags.
        let mut flags = Settings {
            record: Some("a.har".into()),
            replay: Some("b.har".into()),
            ..Settings::from_vars(Path::new("/r"), |_| None).unwrap()
        };
        flags.set_by_flag(env::RECORD);
        flags.set_by_flag(env::REPLAY);
        assert!(
            flags
                .check_record_replay()
                .unwrap_err()
                .starts_with("--record and --replay are both set")
        );
        // The embedded mock's key is masked in a recording too.
        let mock = Settings::from_vars(Path::new("/r"), |_| None).unwrap();
        assert_eq!(mock.redactor_with_key().redact(DEFAULT_KEY), "***");
    }

    #[test]
    fn settings_come_from_the_variables_with_documented_defaults() {
        // A root without `cases/` or `schemas/`: the built-in suites.
        let s = Settings::from_vars(Path::new("/r"), |_| None).unwrap();
        assert_eq!(s.cases_dir, Path::new(crate::files::BUILT_IN_CASES));
        assert_eq!(s.schemas_dir, Path::new(crate::files::BUILT_IN_SCHEMAS));
        assert!(s.suites.is_empty());
        // One with them: those, each on its own.
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("cases")).unwrap();
        let s = Settings::from_vars(root.path(), |_| None).unwrap();
        assert_eq!(s.cases_dir, root.path().join("cases"));
        assert_eq!(s.schemas_dir, Path::new(crate::files::BUILT_IN_SCHEMAS));
        let s = Settings::from_vars(root.path(), |n| {
            (n == "CONTRACT_SUITES").then(|| " list_batches, ,openai_files".to_owned())
        })
        .unwrap();
        assert_eq!(s.suites, ["list_batches", "openai_files"]);
        assert_eq!(s.request, RequestOptions::default());
        assert_eq!(s.case_timeout, None);
        assert_eq!(s.walk_bounds, WalkBounds::default());
        assert_eq!(s.walk_plan, None);
        assert_eq!(s.run_walk_plan(), WalkPlan::Parallel);
        // A recorded (or replayed) run walks chained, unless told otherwise.
        let recorded = Settings {
            record: Some("run.har".into()),
            ..s.clone()
        };
        assert_eq!(recorded.run_walk_plan(), WalkPlan::Chained);
        let told = Settings {
            walk_plan: Some(WalkPlan::Parallel),
            ..recorded
        };
        assert_eq!(told.run_walk_plan(), WalkPlan::Parallel);
        assert_eq!(s.client.max_body_bytes, 8 * 1024 * 1024);
        assert_eq!(
            (&s.junit, &s.json, s.fail_on),
            (&None, &None, Severity::Breaking)
        );
        let live = Settings {
            base_url: Some(parse_base_url("https://staging.example.com").unwrap()),
            ..s.clone()
        };
        let client = live.client_for_run();
        assert_eq!(
            (client.rate_limit, client.concurrency),
            (Some(DEFAULT_LIVE_RATE), Some(DEFAULT_LIVE_CONCURRENCY))
        );
        assert!(client.use_env_proxy);
        let mock = s.client_for_run();
        assert_eq!(
            (mock.rate_limit, mock.concurrency, mock.use_env_proxy),
            (None, None, false)
        );

        let vars = |name: &str| match name {
            "CONTRACT_RETRY_ATTEMPTS" => Some("2".to_owned()),
            "CONTRACT_REQUEST_TIMEOUT" => Some("1.5".to_owned()),
            "CONTRACT_RATE_LIMIT" => Some("0".to_owned()),
            "CONTRACT_CASE_TIMEOUT" => Some("600".to_owned()),
            "CONTRACT_MAX_PAGES" => Some("50000".to_owned()),
            "CONTRACT_STOP_AFTER_ITEMS" => Some("2000".to_owned()),
            "CONTRACT_SECRET_VARS" => Some("A,,B".to_owned()),
            "CONTRACT_JUNIT" => Some("out/junit.xml".to_owned()),
            "CONTRACT_JSON" => Some("out/report.json".to_owned()),
            "CONTRACT_MARKDOWN" => Some("out/summary.md".to_owned()),
            "CONTRACT_FAIL_ON" => Some("Additive".to_owned()),
            "CONTRACT_WALK_PLAN" => Some(" Chained".to_owned()),
            "A" => Some("alpha".to_owned()),
            _ => None,
        };
        let s = Settings::from_vars(Path::new("/r"), vars).unwrap();
        assert_eq!(s.request.retry.max_attempts, 2);
        assert_eq!(s.request.timeout, Duration::from_millis(1500));
        assert_eq!(s.case_timeout, Some(Duration::from_secs(600)));
        assert_eq!(
            s.walk_bounds,
            WalkBounds {
                max_pages: 50_000,
                stop_after_items: Some(2000)
            }
        );
        assert_eq!(s.secrets, [Secret::new("alpha")]);
        assert_eq!(s.junit.as_deref(), Some(Path::new("out/junit.xml")));
        assert_eq!(s.json.as_deref(), Some(Path::new("out/report.json")));
        assert_eq!(s.markdown.as_deref(), Some(Path::new("out/summary.md")));
        assert_eq!(s.fail_on, Severity::Additive);
        assert_eq!(s.walk_plan, Some(WalkPlan::Chained));
        let live = Settings {
            base_url: Some(parse_base_url("https://staging.example.com").unwrap()),
            ..s
        };
        assert_eq!(live.client_for_run().rate_limit, None, "0 lifts the cap");
    }

    #[test]
    fn a_bad_walk_plan_names_the_variable_and_the_choices() {
        let e = Settings::from_vars(Path::new("/r"), |name| {
            (name == env::WALK_PLAN).then(|| "fast".to_owned())
        })
        .unwrap_err();
        assert_eq!(
            e,
            "CONTRACT_WALK_PLAN: unknown walk plan `fast` (expected `chained` or `parallel`)"
        );
    }
}
