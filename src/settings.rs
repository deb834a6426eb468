//! What a run is pointed at: every setting once, in [`SETTINGS`] (its variable, its `check`
//! flag, its default, one line of help, and how its value is read), and the [`Settings`] they
//! make. The environment, `check`'s flags and `--help` ([`cli`]), and the table in
//! docs/settings.md ([`docs_table`]) all come from that table.
//!
//! A flag wins over its variable (the variable is then not read at all, so a flag rescues a
//! bad variable), and an empty variable is unset: CI systems pass inputs nobody gave as empty
//! variables. Messages name the flag or the variable the value came from.

pub mod cli;
mod table;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use table::{Many, Range, SETTINGS, Setting, docs_table, flag_of};

use crate::case::{AuthMode, Case};
use crate::check::walk::WalkBounds;
use crate::contract::AuthStyle;
use crate::http::{ClientSettings, RequestOptions};
use crate::redact::{Redactor, Secret};
use crate::runner::{Depth, WalkPlan};
use crate::violation::Severity;
use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

/// The names of the environment variables the harness reads (see [`SETTINGS`] for each one's
/// flag, default and help).
pub mod env {
    /// The live endpoint's base URL (may carry a path prefix); unset → the reference mock.
    pub const BASE_URL: &str = "CONTRACT_BASE_URL";
    /// Per-suite base URLs, `SUITE=URL` comma-separated, over the base URL for those suites.
    pub const BASE_URL_FOR: &str = "CONTRACT_BASE_URL_FOR";
    /// `true`: an invariant the data could not exercise fails the run with exit 1.
    pub const REQUIRE_EVIDENCE: &str = "CONTRACT_REQUIRE_EVIDENCE";
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
    pub const DEPTH: &str = "CONTRACT_DEPTH";
    /// `auto` (default), `always` or `never`: the progress display on stderr.
    pub const PROGRESS: &str = "CONTRACT_PROGRESS";
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
    /// An OpenAPI document whose paginated lists are the suites (imported in memory).
    pub const OPENAPI: &str = "CONTRACT_OPENAPI";
    /// The operationIds of the document's lists to check.
    pub const OPERATIONS: &str = "CONTRACT_OPERATIONS";
    /// The overrides file of an OpenAPI import.
    pub const OPENAPI_OVERRIDES: &str = "CONTRACT_OPENAPI_OVERRIDES";
    /// Values of nested lists' path parameters, `NAME=VALUE`.
    pub const PATH_PARAMS: &str = "CONTRACT_PATH_PARAMS";
}

/// A setting that cannot be used; each names the flag or variable it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    /// A value that cannot be read.
    #[error("{from}: {reason}")]
    Invalid { from: &'static str, reason: String },
    /// `--record` and `--replay` (or their variables) are both set.
    #[error("{0} and {1} are both set")]
    RecordAndReplay(&'static str, &'static str),
}

impl SettingError {
    /// What to do about it, if the error alone does not say.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            SettingError::RecordAndReplay(..) => {
                Some("a replay sends no request, so there is nothing to record: set one")
            }
            SettingError::Invalid { .. } => None,
        }
    }

    /// The error with its hint, as printed.
    pub fn render(&self) -> String {
        match self.hint() {
            Some(hint) => format!("{self} ({hint})"),
            None => self.to_string(),
        }
    }
}

/// Requests per second a live run sends at most, unless `CONTRACT_RATE_LIMIT` says otherwise
/// or the server advertises a request budget (then its pace, within the user's cap).
pub const DEFAULT_LIVE_RATE: f64 = 10.0;
/// Requests a live run keeps in flight at most, unless `CONTRACT_CONCURRENCY` says otherwise.
pub const DEFAULT_LIVE_CONCURRENCY: usize = 4;
/// How long a page case may take, unless `CONTRACT_CASE_TIMEOUT` or the case says otherwise.
pub const DEFAULT_CASE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a walk or cross-walk case may take, unless `CONTRACT_CASE_TIMEOUT` or the case
/// says otherwise. Only a guard against hangs: the page budget is what bounds a walk.
pub const DEFAULT_WALK_CASE_TIMEOUT: Duration = Duration::from_secs(3600);

/// When a run shows its progress display (cases done, requests sent and pace per suite).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    /// On a terminal (stderr), unless `CI` is set or `TERM` is `dumb`.
    #[default]
    Auto,
    /// Always, on stderr, terminal or not.
    Always,
    /// Never.
    Never,
}

impl std::str::FromStr for ProgressMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        crate::choice::parse(s, "progress")
    }
}

/// A key sent in place of the real one in a replay without `CONTRACT_API_KEY`: it is masked
/// like the recorded key, so the requests still match.
pub const REPLAY_KEY: &str = "lc-replay-placeholder-key";

/// What a run is pointed at, from the environment and the command line.
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
    /// Per-suite base URLs (`--base-url-for SUITE=URL`), over `base_url` for those suites.
    pub base_url_for: Vec<(String, Url)>,
    /// `--require-evidence`: "not proven" fails the run with exit 1.
    pub require_evidence: bool,
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
    /// How much of a large listing walks read (`CONTRACT_DEPTH`, `--depth`); `None`:
    /// sampled.
    pub depth: Option<Depth>,
    /// Whether the run shows its progress display (`CONTRACT_PROGRESS`, `--progress`).
    pub progress: ProgressMode,
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
    /// An OpenAPI document whose paginated lists are the run's suites, imported in memory
    /// (`--openapi`); it replaces the cases and schemas folders.
    pub openapi: Option<PathBuf>,
    /// The operationIds of the document's lists to check (`--operation`); empty: all.
    pub operations: Vec<String>,
    /// The import's overrides file (`--overrides`).
    pub openapi_overrides: Option<PathBuf>,
    /// Nested lists' path parameters given by hand (`--path-param NAME=VALUE`); the others
    /// are found by walking the parent list.
    pub path_params: Vec<(String, String)>,
}

impl Settings {
    /// Every setting at its default: folders are `cases/` and `schemas/` in `root` where it
    /// has them, else the suites built into the binary.
    pub fn defaults(root: &Path) -> Settings {
        Settings {
            cases_dir: default_folder(root, "cases", crate::files::BUILT_IN_CASES),
            schemas_dir: default_folder(root, "schemas", crate::files::BUILT_IN_SCHEMAS),
            suites: Vec::new(),
            base_url: None,
            base_url_for: Vec::new(),
            require_evidence: false,
            api_key: None,
            auth: None,
            no_auth: false,
            headers: Vec::new(),
            public_headers: Vec::new(),
            known_headers: Vec::new(),
            from_flags: Vec::new(),
            secrets: Vec::new(),
            request: RequestOptions::default(),
            case_timeout: None,
            walk_bounds: WalkBounds::default(),
            walk_plan: None,
            depth: None,
            progress: ProgressMode::Auto,
            // A live run goes through the proxy the environment names (see `client_for_run`).
            client: ClientSettings {
                use_env_proxy: true,
                ..ClientSettings::default()
            },
            junit: None,
            json: None,
            markdown: None,
            fail_on: Severity::default(),
            record: None,
            replay: None,
            openapi: None,
            operations: Vec::new(),
            openapi_overrides: None,
            path_params: Vec::new(),
        }
    }

    /// Reads the `CONTRACT_*` variables (see [`Settings::defaults`] for the folders).
    pub fn from_env(root: &Path) -> Result<Settings, SettingError> {
        Settings::from_vars(root, |name| std::env::var(name).ok())
    }

    /// Reads the settings through `var`, so tests need not touch the process environment.
    pub fn from_vars(
        root: &Path,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, SettingError> {
        Settings::resolve(root, &var, &|_| None)
    }

    /// Reads each setting from its flag, when `flags` gives the values typed for it, else
    /// from its variable through `var` (empty: unset), else leaves its default.
    pub fn resolve(
        root: &Path,
        var: &dyn Fn(&str) -> Option<String>,
        flags: &dyn Fn(&'static str) -> Option<Vec<String>>,
    ) -> Result<Settings, SettingError> {
        let mut settings = Settings::defaults(root);
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        for setting in SETTINGS {
            let given = match setting.flag.and_then(flags) {
                Some(values) => {
                    settings.set_by_flag(setting.var);
                    table::Given {
                        values,
                        from: setting.flag_text(),
                        var: &set,
                    }
                }
                None => match set(setting.var) {
                    Some(value) => table::Given {
                        values: vec![value],
                        from: setting.var,
                        var: &set,
                    },
                    None => continue,
                },
            };
            setting.read(&mut settings, &given)?;
        }
        settings.check_record_replay()?;
        Ok(settings)
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
        match flag_of(var) {
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
    pub fn request_headers(&self) -> Vec<(HeaderName, HeaderValue)> {
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
    pub fn skip_reason(&self, case: &Case) -> Option<String> {
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
    pub fn no_auth_hint(&self) -> &'static str {
        if self.from_flags.contains(&env::BASE_URL) || self.from_flags.contains(&env::AUTH) {
            "pass --auth none"
        } else {
            "set CONTRACT_AUTH=none"
        }
    }

    /// The client settings for this run: live runs are capped and go through the proxy the
    /// environment names; the embedded mock is local and uncapped unless told otherwise.
    pub fn client_for_run(&self) -> ClientSettings {
        let mut client = self.client.clone();
        if self.base_url.is_none() {
            client.use_env_proxy = false;
        } else {
            // With no cap of the user's, the server's advertised budget sets the pace, and
            // the default holds while it advertises none.
            if client.rate_limit.is_none() {
                client.default_rate = Some(DEFAULT_LIVE_RATE);
            }
            client.concurrency = client.concurrency.or(Some(DEFAULT_LIVE_CONCURRENCY));
        }
        // A server that answers nothing stops the run once nothing has answered for a whole
        // request timeout (and the last requests in a row got no answer).
        client.stop_unanswered_after = Some(self.request.timeout.max(self.client.connect_timeout));
        // 0 lifts a cap.
        client.rate_limit = client.rate_limit.filter(|r| *r > 0.0);
        client.concurrency = client.concurrency.filter(|n| *n > 0);
        client
    }

    /// Whether the run draws its progress display: always, never, or on a terminal (stderr)
    /// that is not CI's or dumb.
    pub fn shows_progress(&self) -> bool {
        match self.progress {
            ProgressMode::Always => true,
            ProgressMode::Never => false,
            ProgressMode::Auto => {
                use std::io::IsTerminal;
                std::io::stderr().is_terminal()
                    && std::env::var_os("CI").is_none_or(|v| v.is_empty())
                    && std::env::var("TERM").is_ok_and(|t| t != "dumb")
            }
        }
    }

    /// The depth of the run: the one set, else sampled.
    pub fn run_depth(&self) -> Depth {
        self.depth.unwrap_or_default()
    }

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
    pub fn check_record_replay(&self) -> Result<(), SettingError> {
        if self.record.is_some() && self.replay.is_some() {
            return Err(SettingError::RecordAndReplay(
                self.source(env::RECORD),
                self.source(env::REPLAY),
            ));
        }
        Ok(())
    }

    /// The key requests carry: the configured one, the mock's, or in a replay a placeholder
    /// (never sent anywhere).
    pub fn key_sent(&self) -> Secret {
        match (
            &self.api_key,
            self.replay.is_some(),
            self.base_url.is_some(),
        ) {
            (Some(key), _, _) => key.clone(),
            (None, true, _) => Secret::new(REPLAY_KEY),
            (None, false, true) => Secret::new(""),
            (None, false, false) => Secret::new(crate::mock::DEFAULT_KEY),
        }
    }

    /// The run's mask with the key actually sent added: the mock's key, or a replay's
    /// placeholder, is a key too, and recordings mask it.
    pub fn redactor_with_key(&self) -> Redactor {
        Settings {
            api_key: Some(self.key_sent()),
            ..self.clone()
        }
        .redactor()
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
                "unknown auth style `{}` (expected {})",
                text.trim(),
                crate::choice::listed::<AuthStyle>(&["none"])
            )
        })
}

/// A header given as `Name: value` in a setting (`from`: the flag or variable).
pub fn setting_header(text: &str, from: &str) -> Result<(HeaderName, Secret), String> {
    let (name, _) = crate::http::parse_header(text, from)?;
    let value = text.split_once(':').map_or("", |(_, v)| v.trim());
    Ok((name, Secret::new(value)))
}

#[cfg(test)]
mod tests;
