//! The `list-contract` command.
//!
//! `list-contract check` runs the same cases as `cargo test --test contract`, with the same
//! `CONTRACT_*` variables; flags given here override them. Without a base URL it checks the
//! embedded reference mock, and without a `./cases` folder the suites built into the binary.
//!
//! `list-contract serve` runs the reference mock as a standalone server, for client
//! developers to work against; `suites` lists the built-in suites, `init` writes an editable
//! copy of them, `import` writes a suite for every paginated list of an OpenAPI document, and
//! `completions` prints a shell's completion script.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use list_contract::contract::AuthStyle;
use list_contract::harness::run;
use list_contract::init::{DEFAULT_DIR, DEFAULT_WORKFLOW, InitOptions, built_in_suites, init};
use list_contract::libtest_mimic::Arguments;
use list_contract::mock::{
    DEFAULT_ITEMS, DEFAULT_KEY, DEFAULT_SEED, Fault, MockConfig, ReferenceMock,
};
use list_contract::settings::cli::{env_only_help, from_matches, with_setting_flags};
use list_contract::settings::{env, parse_auth};

/// Checks cursor-paginated list APIs (OpenAI- and Anthropic-compatible) against their contracts.
#[derive(Debug, Parser)]
#[command(
    name = "list-contract",
    version,
    arg_required_else_help = true,
    after_help = "Exit codes: 0 the endpoint conforms, 101 it broke the contract, 1 the harness \
                  cannot run.\nReference: https://github.com/list-contract/list-contract/tree/main/docs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a list endpoint, or the embedded reference mock, against its contract.
    Check(Box<CheckArgs>),
    /// Run the reference mock of a suite as a local server (Ctrl-C stops it).
    Serve(ServeArgs),
    /// List the suites built into this binary.
    Suites,
    /// Write an editable copy of built-in suites, and a GitHub Actions workflow that runs them.
    Init(InitArgs),
    /// Write a suite for every paginated list of an OpenAPI document (3.0 or 3.1, JSON or YAML).
    Import(ImportArgs),
    /// Print the completion script for a shell.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

/// `check`'s own options: a flag for every setting (made from the settings table by
/// `list_contract::settings::cli`), then libtest's.
#[derive(Debug)]
struct CheckArgs {
    harness: Arguments,
}

impl FromArgMatches for CheckArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(CheckArgs {
            harness: Arguments::from_arg_matches(matches)?,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.harness.update_from_arg_matches(matches)
    }
}

impl Args for CheckArgs {
    fn augment_args(command: clap::Command) -> clap::Command {
        let command = Arguments::augment_args(
            with_setting_flags(command)
                .next_help_heading("Test-harness options (as with `cargo test`)"),
        );
        // After libtest's arguments, whose own `after_help` this replaces.
        command.after_help(format!(
            "Read from the environment only:\n{}\n\
             Each flag wins over the variable shown beside it (an empty variable is unset); the \
             variables' values are never shown (they may hold secrets).\n\
             Exits 0 when every case passes, 101 when the endpoint breaks the contract, 1 when \
             the harness cannot run (or no request got through).\n\
             Every setting: https://github.com/list-contract/list-contract/blob/main/docs/settings.md",
            env_only_help()
        ))
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Port on 127.0.0.1; 0: a free one (the URL is printed first on stdout).
    #[arg(long, value_name = "N", default_value_t = 0)]
    port: u16,
    /// Items in the listing.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_ITEMS)]
    items: usize,
    /// The dataset's seed.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// The key it accepts [default: lc-reference-mock-key].
    #[arg(long, value_name = "KEY")]
    key: Option<String>,
    /// x-api-key, bearer (that header only), or none: a server without auth; default: the
    /// contract's, and an x-api-key contract's key is also taken as a bearer token (the
    /// anthropic SDK 2.x sends it so; OpenAI SDKs send bearer).
    #[arg(long, value_name = "STYLE")]
    auth: Option<String>,
    /// Serve this suite, with its examples: a folder of --cases, else a built-in suite;
    /// default: the built-in List Batches suite.
    #[arg(long, value_name = "NAME")]
    suite: Option<String>,
    /// Where --suite looks first [env: CONTRACT_CASES_DIR]; default: ./cases.
    #[arg(long, value_name = "DIR")]
    cases: Option<PathBuf>,
    /// Serve this contract.toml (its examples are read beside it).
    #[arg(long, value_name = "FILE", conflicts_with = "suite")]
    contract: Option<PathBuf>,
    /// Print each request on stderr: method, path, query, status and headers (credential
    /// headers masked, saying whether they hold the key).
    #[arg(long)]
    log_requests: bool,
    /// Enforce a request budget, 429 past it (600/min; N/s, N/h), advertised in OpenAI's
    /// x-ratelimit-* headers; 600/min:anthropic, :ietf (RateLimit) or :none for others.
    #[arg(long, value_name = "N/min")]
    budget: Option<String>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Then: `list-contract check --cases DIR/cases --schemas DIR/schemas` \
                        (or `check` inside DIR) runs the copy; edit its case files and \
                        contract.toml to fit your API."
)]
struct InitArgs {
    /// The folder to write `cases/` and `schemas/` into.
    #[arg(value_name = "DIR", default_value = DEFAULT_DIR)]
    dir: PathBuf,
    /// Copy only this suite (repeatable); default: every built-in suite.
    #[arg(long = "suite", value_name = "NAME")]
    suites: Vec<String>,
    /// Overwrite files that exist.
    #[arg(long)]
    force: bool,
    /// Where to write the GitHub Actions workflow, from the repository's top.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_WORKFLOW)]
    workflow: PathBuf,
    /// Write no workflow.
    #[arg(long, conflicts_with = "workflow")]
    no_workflow: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Writes DIR/cases/<suite>/ and DIR/schemas/ (the layout `init` writes), \
                  DIR/import-report.md (every list found, where each value came from, every GET \
                  operation skipped and why) and a starter DIR/overrides.toml listing every \
                  guessed value.\nThen: `list-contract check --cases DIR/cases --schemas \
                  DIR/schemas`; or skip the files: `list-contract check --openapi SPEC`."
)]
struct ImportArgs {
    /// The OpenAPI document, or `-` for standard input.
    #[arg(value_name = "SPEC")]
    spec: PathBuf,
    /// The folder to write `cases/` and `schemas/` into.
    #[arg(long, value_name = "DIR", default_value = "contract-tests")]
    out: PathBuf,
    /// Values the document does not say (TOML, one table per operation).
    #[arg(long, value_name = "FILE")]
    overrides: Option<PathBuf>,
    /// Import only the list with this operationId (repeatable).
    #[arg(long = "operation", value_name = "ID")]
    operations: Vec<String>,
    /// Overwrite files that exist.
    #[arg(long)]
    force: bool,
}

/// The command line, as parsed and as shown: `check`'s help laid out like the others (the
/// flattened libtest arguments bring a template of their own).
fn command() -> clap::Command {
    Cli::command()
        .term_width(100)
        .mut_subcommand("check", |check| {
            check.help_template(
                "{about-with-newline}\n{usage-heading} {usage}\n\n{all-args}{after-help}",
            )
        })
}

fn main() -> ExitCode {
    // A panic anywhere is a bug in the harness: exit 1 (cannot judge), never 101 (drift).
    list_contract::harness::install_panic_hook();
    std::panic::catch_unwind(main_unguarded).unwrap_or(ExitCode::FAILURE)
}

fn main_unguarded() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let matches = match command().try_get_matches_from(&args) {
        Ok(matches) => matches,
        Err(e) => return clap_exit(&e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return clap_exit(&e),
    };
    match cli.command {
        Command::Check(args) => {
            let given = matches
                .subcommand_matches("check")
                .expect("the check subcommand's matches");
            check(*args, given)
        }
        Command::Serve(args) => serve(args),
        Command::Suites => suites(),
        Command::Init(args) => init_command(args),
        Command::Import(args) => import_command(args),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command(), "list-contract", &mut script);
            // A closed pipe (`| head`) is the reader's choice, not an error.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), &script);
            ExitCode::SUCCESS
        }
    }
}

/// Prints a parse error (or the help or version asked for); a usage error means the harness
/// cannot run: exit 1, as for every other bad input.
fn clap_exit(e: &clap::Error) -> ExitCode {
    let _ = e.print();
    if e.use_stderr() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn check(args: CheckArgs, matches: &ArgMatches) -> ExitCode {
    let var = |name: &str| std::env::var(name).ok();
    match from_matches(Path::new("."), &var, matches) {
        Ok(settings) => run(&args.harness, settings),
        Err(e) => {
            eprintln!(
                "error: {}\n\nFor more information, try 'list-contract check --help'.",
                e.render()
            );
            ExitCode::FAILURE
        }
    }
}

fn suites() -> ExitCode {
    let suites = built_in_suites();
    let width = suites.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for suite in &suites {
        println!(
            "{:width$}  {:>2} cases  GET {}",
            suite.name, suite.cases, suite.path
        );
        println!("{:width$}  {}", "", suite.description);
    }
    println!(
        "\n`list-contract check --suite NAME` runs one; `list-contract init` writes an editable copy."
    );
    ExitCode::SUCCESS
}

fn init_command(args: InitArgs) -> ExitCode {
    let options = InitOptions {
        dir: args.dir,
        suites: args.suites,
        force: args.force,
        workflow: (!args.no_workflow).then_some(args.workflow),
    };
    match init(&options) {
        Ok(written) => {
            let dir = options.dir.display();
            println!(
                "wrote {} file(s) of the suite(s) {} into {dir} (cases/, schemas/)",
                written.files.len() - usize::from(written.workflow.is_some()),
                written.suites.join(", ")
            );
            if let Some(workflow) = &written.workflow {
                println!(
                    "wrote the GitHub Actions workflow {} (set the variable CONTRACT_BASE_URL and the secret CONTRACT_API_KEY)",
                    workflow.display()
                );
            }
            println!(
                "next: `list-contract check --cases {dir}/cases --schemas {dir}/schemas` checks the reference mock; with CONTRACT_BASE_URL and CONTRACT_API_KEY set, your API"
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: init: {e}");
            ExitCode::FAILURE
        }
    }
}

fn import_command(args: ImportArgs) -> ExitCode {
    match import_files(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: import: {e}");
            ExitCode::FAILURE
        }
    }
}

fn import_files(args: &ImportArgs) -> Result<ExitCode, String> {
    use list_contract::openapi::{Overrides, import};
    let stdin = args.spec.as_os_str() == "-";
    let origin = if stdin {
        "standard input".to_owned()
    } else {
        args.spec.display().to_string()
    };
    let text = if stdin {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| format!("cannot read the OpenAPI document from standard input: {e}"))?
    } else {
        std::fs::read_to_string(&args.spec).map_err(|e| {
            format!("cannot read the OpenAPI document {origin}: {e} (give an OpenAPI 3.0 or 3.1 file, JSON or YAML, or - for standard input)")
        })?
    };
    let overrides = match &args.overrides {
        None => Overrides::default(),
        Some(path) => {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the overrides file {shown}: {e}"))?;
            Overrides::parse(&text, &shown)?
        }
    };
    let imported =
        import(&text, &origin, &overrides, &args.operations).map_err(|e| e.to_string())?;
    let mut files: Vec<(PathBuf, String)> = imported
        .files()
        .map(|(p, text)| (args.out.join(p), text.clone()))
        .collect();
    files.push((args.out.join("import-report.md"), imported.report(&origin)));
    let starter = args.out.join("overrides.toml");
    // The user's own overrides file is never overwritten by the starter.
    let starter_is_input = args
        .overrides
        .as_ref()
        .is_some_and(|o| std::path::absolute(o).ok() == std::path::absolute(&starter).ok());
    if !starter_is_input {
        files.push((starter, imported.starter_overrides()));
    }
    if !args.force {
        let existing: Vec<String> = files
            .iter()
            .filter(|(p, _)| p.exists())
            .map(|(p, _)| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(format!(
                "{} file(s) exist already ({}{}); nothing written (--force overwrites them, or give another --out)",
                existing.len(),
                existing
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                if existing.len() > 3 { ", …" } else { "" }
            ));
        }
    }
    for (path, text) in &files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let dir = args.out.display();
    say(format!(
        "imported {} list(s) of {} GET operation(s) from {origin} into {dir} ({} skipped): {}",
        imported.suites.len(),
        imported.operations,
        imported.skipped.len(),
        imported
            .suites
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    say(format!(
        "report: {dir}/import-report.md; guessed values: {dir}/overrides.toml"
    ));
    if imported.suites.is_empty() {
        eprintln!(
            "error: import: no cursor-paginated list found (the report says why each GET operation was skipped)"
        );
        return Ok(ExitCode::FAILURE);
    }
    say(format!(
        "next: `list-contract check --cases {dir}/cases --schemas {dir}/schemas` checks the reference mock; with CONTRACT_BASE_URL and CONTRACT_API_KEY set, your API"
    ));
    Ok(ExitCode::SUCCESS)
}

/// A line on stdout; a closed pipe (`| head`) is the reader's choice, not an error.
fn say(line: String) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// What `serve` was asked for.
struct Serve {
    port: u16,
    /// The suite's name, for the startup line.
    suite: String,
    config: MockConfig,
    /// Whether `--key` was given: a chosen key is not printed.
    own_key: bool,
}

fn serve(args: ServeArgs) -> ExitCode {
    let serve = match serve_config(args) {
        Ok(serve) => serve,
        Err(e) => {
            eprintln!("error: {e}\n\nFor more information, try 'list-contract serve --help'.");
            return ExitCode::FAILURE;
        }
    };
    let listener = match std::net::TcpListener::bind(("127.0.0.1", serve.port)) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!(
                "error: cannot listen on 127.0.0.1:{}: {e} (pick another --port, or 0 for a free one)",
                serve.port
            );
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = serve.config;
    let mock = runtime.block_on(ReferenceMock::start_on(config.clone(), listener));
    let base = mock.base_url();
    let base = base.as_str().trim_end_matches('/');
    // The first line on stdout is the base URL, for scripts (and tests) to read.
    println!("listening on {base}");
    let header = match config.auth {
        AuthStyle::XApiKey if config.bearer_too => "x-api-key: KEY` or `Authorization: Bearer KEY",
        AuthStyle::XApiKey => "x-api-key: KEY",
        AuthStyle::Bearer => "Authorization: Bearer KEY",
    };
    let key = if serve.own_key {
        "the one given with --key".to_owned()
    } else {
        config.key.clone()
    };
    let headers: String = config
        .headers
        .iter()
        .map(|(name, value)| format!(" and `{name}: {value}`"))
        .collect();
    let auth = if config.faults.contains(&Fault::AuthNotChecked) {
        "no auth: any key, or none, is accepted".to_owned()
    } else {
        format!("send `{header}` (KEY: {key})")
    };
    eprintln!(
        "list-contract serve: suite {}, {} items (seed {}) at {base}{}, {} first; {auth}{headers}; Ctrl-C stops it",
        serve.suite,
        config.items,
        config.seed,
        config.path,
        match config.order {
            list_contract::contract::Direction::Desc => "newest",
            list_contract::contract::Direction::Asc => "oldest",
        }
    );
    // The server runs on the runtime's threads; this one only keeps the process alive.
    loop {
        std::thread::park();
    }
}

fn serve_config(args: ServeArgs) -> Result<Serve, String> {
    if args.key.as_deref() == Some("") {
        return Err("--key: give a non-empty key".to_owned());
    }
    let (auth, no_auth) = match &args.auth {
        Some(text) => parse_auth(text).map_err(|e| format!("--auth: {e}"))?,
        None => (None, false),
    };
    // The variable behind `--cases`, read here so that an empty one is unset, as for `check`.
    let cases = args.cases.or_else(|| {
        std::env::var_os(env::CASES_DIR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let served = list_contract::mock::served_suite(
        args.suite.as_deref(),
        args.contract.as_deref(),
        cases.as_deref(),
    )?;
    let mut config = MockConfig::for_contract(&served.contract)
        .items(args.items)
        .seed(args.seed);
    if let Some(examples) = served.examples {
        config = config.examples(examples);
    }
    match auth {
        Some(auth) => config = config.auth(auth),
        // As Anthropic's API does: the anthropic Python SDK (2.x) sends its key as a bearer
        // token, older ones and curl as `x-api-key`.
        None if config.auth == AuthStyle::XApiKey => config = config.bearer_too(),
        None => {}
    }
    if args.log_requests {
        config = config.log_requests();
    }
    if let Some(budget) = &args.budget {
        let (per_minute, headers) =
            list_contract::mock::parse_budget(budget).map_err(|e| format!("--budget: {e}"))?;
        config = config.rate_budget(per_minute, headers);
    }
    if no_auth {
        // A server without auth, to try `check --auth none` against.
        config = config.fault(Fault::AuthNotChecked);
    }
    let own_key = args.key.is_some();
    config = config.key(args.key.unwrap_or_else(|| DEFAULT_KEY.to_owned()));
    Ok(Serve {
        port: args.port,
        suite: served.name,
        config,
        own_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        command().debug_assert();
    }

    #[test]
    fn check_s_help_lists_every_setting_with_its_variable() {
        let mut command = command();
        let check = command.find_subcommand_mut("check").expect("check");
        let help = check.render_long_help().to_string();
        for setting in list_contract::settings::SETTINGS {
            assert!(help.contains(setting.var), "{}: {help}", setting.var);
            if let Some(flag) = setting.flag {
                // A switch's value is optional: `--require-evidence[=<BOOL>]`.
                assert!(
                    help.contains(&format!("{flag} <")) || help.contains(&format!("{flag}[=<")),
                    "{flag}: {help}"
                );
            }
        }
    }

    #[test]
    fn the_help_points_at_the_reference() {
        let help = command().render_long_help().to_string();
        assert!(
            help.contains("https://github.com/list-contract/list-contract/tree/main/docs"),
            "{help}"
        );
    }
}
