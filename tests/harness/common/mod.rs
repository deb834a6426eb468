//! Shared helpers of the harness's own tests: the shipped cases and schemas, run against a
//! reference mock that may carry faults.
#![allow(dead_code)] // each test target uses its own subset

pub mod catalogue;
pub mod yaml;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use std::sync::OnceLock;

use list_contract::case::{Case, load_cases};
use list_contract::http::{ClientSettings, HttpClient, RequestOptions, Target};
use list_contract::mock::{MockConfig, ReferenceMock};
use list_contract::redact::Secret;
use list_contract::runner::{CaseRun, Depth, RunCache, RunContext, WalkPlan, run_case};
use list_contract::schema::SchemaSet;
use list_contract::violation::{Invariant, Violation};

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn cases_dir() -> PathBuf {
    root().join("cases")
}

pub fn schemas_dir() -> PathBuf {
    root().join("schemas")
}

pub fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| load_cases(&cases_dir()).expect("the shipped cases load"))
}

pub fn schemas() -> &'static SchemaSet {
    static SCHEMAS: OnceLock<SchemaSet> = OnceLock::new();
    SCHEMAS.get_or_init(|| SchemaSet::load(&schemas_dir()).expect("the shipped schemas compile"))
}

pub fn case(name: &str) -> &'static Case {
    cases()
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no shipped case named {name}"))
}

/// A cases folder holding the List Batches suite alone (a link to `cases/list_batches`, so the
/// trials keep their names): what runs against a List Batches server read, since the other
/// suites' endpoints are not there.
pub fn batches_only_dir() -> PathBuf {
    root().join("tests/fixtures/batches_only")
}

/// `list-contract ARGS` run with only the variables given: no `CONTRACT_*` or proxy variable
/// of the machine leaks in. It reads the shipped cases and schemas, with no rate cap (the
/// live-run cap has its own test; here it would only slow the suite down). A run pointed at a
/// server (`CONTRACT_BASE_URL`, `--base-url`) reads the List Batches suite alone, unless `env`
/// names another cases folder: the servers of these tests serve List Batches only.
pub fn list_contract(env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_list-contract"));
    for (var, _) in std::env::vars() {
        if var.starts_with("CONTRACT_") || var.to_ascii_lowercase().ends_with("_proxy") {
            cmd.env_remove(var);
        }
    }
    let live = env.iter().any(|(k, _)| *k == "CONTRACT_BASE_URL")
        || args.iter().any(|a| a.starts_with("--base-url"));
    cmd.env(
        "CONTRACT_CASES_DIR",
        if live {
            batches_only_dir()
        } else {
            cases_dir()
        },
    )
    .env("CONTRACT_SCHEMAS_DIR", schemas_dir())
    .env("CONTRACT_RATE_LIMIT", "0")
    .envs(env.iter().copied())
    .args(args);
    cmd.output().expect("the list-contract binary runs")
}

/// A `list-contract serve` process, stopped when the test ends however it ends.
pub struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `list-contract serve ARGS`: the server, the base URL it prints first, and its
/// stderr, to be kept as long as the server runs (a closed pipe would fail its writes).
pub fn serve(args: &[&str]) -> (Server, String, ChildStderr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_list-contract"))
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("list-contract serve starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("serve prints its URL first, got {line:?}"))
        .to_owned();
    (server, base, stderr)
}

/// `list-contract check ARGS`, as [`list_contract`] runs it.
pub fn check(env: &[(&str, &str)], args: &[&str]) -> Output {
    let args: Vec<&str> = std::iter::once("check")
        .chain(args.iter().copied())
        .collect();
    list_contract(env, &args)
}

/// What a run printed, stdout then stderr.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The conforming mock's configuration for the List Batches contract (named: the first case
/// by name belongs to another suite).
pub fn mock_config() -> MockConfig {
    MockConfig::for_contract(&case("list_batches::default_page").contract)
}

pub fn target_for(mock: &ReferenceMock) -> Target {
    Target::new(
        mock.base_url(),
        Secret::new(mock.config().key.clone()),
        mock.config().auth,
    )
}

/// One run against a mock: a client, the target and a cache that every case run through
/// [`Local::ctx`] shares, as the cases of one `cargo test` run do.
pub struct Local {
    pub http: HttpClient,
    pub target: Target,
    pub options: RequestOptions,
    pub cache: RunCache,
    /// How walks send their pages (the harness's default unless a test says otherwise).
    pub plan: WalkPlan,
    /// How much of a large listing walks read: whole (`Depth::Full`) for a test that runs
    /// cases one by one and counts their requests; a suite's run takes the run's default.
    pub depth: Depth,
}

impl Local {
    pub fn new(mock: &ReferenceMock) -> Self {
        Local::with_client(mock, HttpClient::new(&ClientSettings::default()).unwrap())
    }

    /// A run through an existing client (building one costs tens of milliseconds; loops over
    /// many mocks on one runtime share one).
    pub fn with_client(mock: &ReferenceMock, http: HttpClient) -> Self {
        Local {
            http,
            target: target_for(mock),
            options: RequestOptions::default(),
            cache: RunCache::default(),
            plan: WalkPlan::default(),
            depth: Depth::Full,
        }
    }

    pub fn ctx(&self) -> RunContext<'_> {
        RunContext {
            walk_plan: self.plan,
            depth: self.depth,
            ..RunContext::new(
                &self.target,
                &self.http,
                schemas(),
                &self.options,
                &self.cache,
            )
        }
    }
}

/// Runs the shipped case `name` against a mock built from `config`.
pub async fn run(config: MockConfig, name: &str) -> CaseRun {
    let mock = ReferenceMock::start(config).await;
    run_on(&mock, name).await
}

pub async fn run_on(mock: &ReferenceMock, name: &str) -> CaseRun {
    run_with(&target_for(mock), name, &RequestOptions::default()).await
}

/// Runs the shipped case `name` against `target` with `options`.
pub async fn run_with(target: &Target, name: &str, options: &RequestOptions) -> CaseRun {
    run_with_client(target, name, &ClientSettings::default(), options).await
}

/// Runs the shipped case `name` against `target` through a client built from `client`.
pub async fn run_with_client(
    target: &Target,
    name: &str,
    client: &ClientSettings,
    options: &RequestOptions,
) -> CaseRun {
    let http = HttpClient::new(client).unwrap();
    let walks = RunCache::default();
    run_case(
        case(name),
        &RunContext::new(target, &http, schemas(), options, &walks),
    )
    .await
}

/// `(invariant, pointer)` of each violation, for exact assertions.
pub fn found(run: &CaseRun) -> Vec<(Invariant, &str)> {
    run.violations
        .iter()
        .map(|v| (v.invariant, v.pointer.as_str()))
        .collect()
}

/// The violations of one invariant.
pub fn of(run: &CaseRun, invariant: Invariant) -> Vec<&Violation> {
    run.violations
        .iter()
        .filter(|v| v.invariant == invariant)
        .collect()
}

/// Every shipped case's run against one mock, in name order, sharing walks and first pages
/// as one `cargo test --test contract` run does.
pub struct Suite {
    pub runs: Vec<(String, CaseRun)>,
}

impl Suite {
    /// Runs every shipped case of the suite `mock` serves (the suite whose contract has the
    /// mock's path) against it with `options`.
    pub async fn run(mock: &ReferenceMock, options: RequestOptions) -> Suite {
        let cases = cases_of(&mock.config().path);
        Suite::run_cases(mock, options, &cases).await
    }

    /// Runs `cases` against `mock` with `options`, in the order given.
    pub async fn run_cases(mock: &ReferenceMock, options: RequestOptions, cases: &[Case]) -> Suite {
        Suite::run_local(Local::new(mock), options, cases).await
    }

    /// Runs `cases` against `mock` with `options` under walk plan `plan`, in the order given.
    pub async fn run_in(
        mock: &ReferenceMock,
        options: RequestOptions,
        cases: &[Case],
        plan: WalkPlan,
    ) -> Suite {
        let mut local = Local::new(mock);
        local.plan = plan;
        Suite::run_local(local, options, cases).await
    }

    /// Every violation as a report places it (case, invariant, pointer, page and cursor,
    /// request, expected, actual), `base` (the server's URL) and its host and port (an echo
    /// of the request's `host` header) left out: what two runs against two servers must
    /// agree on.
    pub fn verdicts(&self, base: &str) -> Vec<String> {
        let base = base.trim_end_matches('/');
        let authority = base.split_once("://").map_or(base, |(_, a)| a);
        self.violations()
            .map(|(case, v)| {
                format!(
                    "{case}: {} at {:?} on {} ({}): expected {}; actual {}",
                    v.invariant,
                    v.pointer,
                    v.page.as_ref().map(ToString::to_string).unwrap_or_default(),
                    v.request.as_deref().unwrap_or_default(),
                    v.expected,
                    v.actual
                )
                .replace(base, "<server>")
                .replace(authority, "<server>")
            })
            .collect()
    }

    /// Runs `cases` in `local` with `options`, in the order given, at the run's default depth
    /// (sampled): the drift catalogue and every suite's faults are caught at it exactly as
    /// whole walks catch them, their listings being shorter than the sampling threshold.
    pub async fn run_local(mut local: Local, options: RequestOptions, cases: &[Case]) -> Suite {
        local.options = options;
        local.depth = Depth::default();
        let mut runs = Vec::new();
        for case in cases {
            runs.push((case.name.clone(), run_case(case, &local.ctx()).await));
        }
        Suite { runs }
    }

    /// The cases that failed, by name.
    pub fn failed(&self) -> Vec<&str> {
        self.runs
            .iter()
            .filter(|(_, r)| !r.passed())
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// Every violation of every case, with the case's name.
    pub fn violations(&self) -> impl Iterator<Item = (&str, &Violation)> {
        self.runs
            .iter()
            .flat_map(|(n, r)| r.violations.iter().map(move |v| (n.as_str(), v)))
    }

    /// Requests sent in all.
    pub fn requests(&self) -> u32 {
        self.runs.iter().map(|(_, r)| r.requests).sum()
    }
}

/// The contract of the mock's fixture suite `name` (`tests/fixtures/mock/<name>`), and the
/// mock configuration that serves its examples.
pub fn fixture(name: &str) -> (list_contract::contract::Contract, MockConfig) {
    let path = root()
        .join("tests/fixtures/mock")
        .join(name)
        .join("contract.toml");
    let contract: list_contract::contract::Contract =
        list_contract::case::parse_file(&path).expect("the fixture contract parses");
    let examples = list_contract::mock::load_examples(&path, &contract)
        .expect("the fixture's examples load")
        .expect("the fixture names examples");
    let config = MockConfig::for_contract(&contract).examples(examples);
    (contract, config)
}

/// The List Batches contract, by name (once other suites are shipped, the first case by name
/// belongs to another suite).
pub fn list_batches_contract() -> &'static list_contract::contract::Contract {
    &case("list_batches::default_page").contract
}

/// The shipped suites, by name.
pub const SUITES: [&str; 4] = [
    "anthropic_message_batches",
    "list_batches",
    "openai_files",
    "openai_vector_stores",
];

/// The shipped cases of the suite whose endpoint is `path`, in name order.
pub fn cases_of(path: &str) -> Vec<Case> {
    let cases: Vec<Case> = cases()
        .iter()
        .filter(|c| c.contract.path == path)
        .cloned()
        .collect();
    assert!(!cases.is_empty(), "no shipped suite serves {path}");
    cases
}

/// The shipped cases of suite `name` (`cases/<name>`), in name order.
pub fn suite_cases(name: &str) -> Vec<Case> {
    let prefix = format!("{name}::");
    let cases: Vec<Case> = cases()
        .iter()
        .filter(|c| c.name.starts_with(&prefix))
        .cloned()
        .collect();
    assert!(!cases.is_empty(), "no shipped suite named {name}");
    cases
}

/// The conforming mock of shipped suite `name`: its contract, and its examples when it has
/// them (the harness builds the same for `cargo test --test contract`).
pub fn suite_config(name: &str) -> MockConfig {
    let case = &suite_cases(name)[0];
    let mut config = MockConfig::for_contract(&case.contract);
    if let Some(examples) = list_contract::mock::load_examples(&case.contract_path, &case.contract)
        .expect("the shipped examples load")
    {
        config = config.examples(examples);
    }
    config
}

/// A pseudo-random number generator for test servers (xorshift), seeded for reproducibility.
#[derive(Debug)]
pub struct Rng(std::sync::atomic::AtomicU64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // Spread the seed over all bits (xorshift needs a non-zero state; nearby seeds must
        // not give the same stream).
        Rng(std::sync::atomic::AtomicU64::new(
            seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        ))
    }

    /// A number in `0..100`.
    pub fn percent(&self) -> u64 {
        use std::sync::atomic::Ordering;
        let mut x = self.0.load(Ordering::Relaxed);
        loop {
            let mut next = x;
            next ^= next << 13;
            next ^= next >> 7;
            next ^= next << 17;
            match self
                .0
                .compare_exchange(x, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next % 100,
                Err(now) => x = now,
            }
        }
    }
}

/// Matches `percent`% of requests, at random.
struct AtRandom(Rng, u64);

impl wiremock::Match for AtRandom {
    fn matches(&self, _: &wiremock::Request) -> bool {
        self.0.percent() < self.1
    }
}

/// Answers 503 without `Retry-After`, or 429 with one, half and half at random.
struct Transient(Rng);

impl wiremock::Respond for Transient {
    fn respond(&self, _: &wiremock::Request) -> wiremock::ResponseTemplate {
        if self.0.percent() < 50 {
            wiremock::ResponseTemplate::new(503).set_body_string("Service Unavailable")
        } else {
            wiremock::ResponseTemplate::new(429)
                .insert_header("retry-after", "0.05")
                .set_body_json(
                    serde_json::json!({"error": {"message": "Rate limit reached.",
                    "type": "requests", "param": null, "code": "rate_limit_exceeded"}}),
                )
        }
    }
}

/// A prelude for [`ReferenceMock::start_with`]: `percent`% of requests, at random (seeded),
/// get a transient 503 or 429 before the mock answers the rest.
pub fn random_transient_faults(seed: u64, percent: u64) -> Vec<wiremock::Mock> {
    vec![
        wiremock::Mock::given(AtRandom(Rng::new(seed), percent))
            .respond_with(Transient(Rng::new(seed.rotate_left(17)))),
    ]
}
