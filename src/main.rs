//! The `list-contract` command.
//!
//! `list-contract check` runs the same cases as `cargo test --test contract`, with the same
//! `CONTRACT_*` variables; flags given here override them. Without a base URL it checks the
//! embedded reference mock.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use list_contract::harness::{Settings, run};
use list_contract::http::parse_base_url;
use list_contract::libtest_mimic::Arguments;

const USAGE: &str = "\
usage: list-contract check [OPTIONS] [FILTER] [TEST-HARNESS FLAGS]

Checks a paginated list endpoint against its contract; exits 0 when it conforms,
101 when it drifts, 1 when the harness cannot run.

options:
  --base-url URL   the live endpoint (default: $CONTRACT_BASE_URL; unset: the embedded reference mock)
  --auth STYLE     x-api-key or bearer (default: $CONTRACT_AUTH, else the contract's)
  --cases DIR      case files (default: $CONTRACT_CASES_DIR, else ./cases)
  --schemas DIR    JSON Schemas (default: $CONTRACT_SCHEMAS_DIR, else ./schemas)

The API key is read from $CONTRACT_API_KEY only, so it never lands in shell history.
Test-harness flags work as with `cargo test`: a name filter, --exact, --list, --ignored, -q.
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("check") => check(args.collect()),
        Some("help" | "--help" | "-h") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("--version" | "-V") => {
            println!("list-contract {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        other => {
            if let Some(cmd) = other {
                eprintln!("error: unknown command `{cmd}`\n");
            }
            eprint!("{USAGE}");
            ExitCode::FAILURE
        }
    }
}

fn check(args: Vec<String>) -> ExitCode {
    match parse_check(args) {
        Ok((settings, rest)) => {
            let harness_args =
                Arguments::from_iter(std::iter::once("list-contract check".to_owned()).chain(rest));
            run(&harness_args, settings)
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}

fn parse_check(args: Vec<String>) -> Result<(Settings, Vec<String>), String> {
    let mut settings = Settings::from_env(Path::new("."))?;
    let mut rest = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--base-url" => {
                settings.base_url = Some(
                    parse_base_url(&value("--base-url")?)
                        .map_err(|e| format!("--base-url: {e}"))?,
                )
            }
            "--auth" => {
                settings.auth = Some(
                    value("--auth")?
                        .parse()
                        .map_err(|e| format!("--auth: {e}"))?,
                )
            }
            "--cases" => settings.cases_dir = PathBuf::from(value("--cases")?),
            "--schemas" => settings.schemas_dir = PathBuf::from(value("--schemas")?),
            _ => rest.push(arg),
        }
    }
    Ok((settings, rest))
}
