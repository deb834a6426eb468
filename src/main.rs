//! The `list-contract` command.
//!
//! `list-contract check` runs the same cases as `cargo test --test contract`, with the same
//! `CONTRACT_*` variables; flags given here override them. Without a base URL it checks the
//! embedded reference mock.
//!
//! `list-contract serve` runs the reference mock as a standalone server, for client
//! developers to work against.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use list_contract::contract::AuthStyle;
use list_contract::harness::{Settings, env, parse_auth, run, setting_header};
use list_contract::http::parse_base_url;
use list_contract::libtest_mimic::Arguments;
use list_contract::mock::{
    DEFAULT_ITEMS, DEFAULT_KEY, DEFAULT_SEED, Fault, MockConfig, ReferenceMock,
};

const USAGE: &str = "\
usage: list-contract check [OPTIONS] [FILTER] [TEST-HARNESS FLAGS]
       list-contract serve [SERVE OPTIONS]

Checks a paginated list endpoint against its contract; exits 0 when it conforms,
101 when it drifts, 1 when the harness cannot run (or no request got through: every one
failed to connect, timed out, or was only told to try again).

options:
  --base-url URL   the live endpoint (default: $CONTRACT_BASE_URL; unset: the embedded reference mock)
  --auth STYLE     x-api-key, bearer, or none for a server without auth: no credential is
                   sent, no key is needed, and the auth cases are ignored (default:
                   $CONTRACT_AUTH, else the contract's)
  --header 'NAME: VALUE'
                   send this header with every request (repeatable; a case's own headers
                   win); values are masked in all output like the key (default:
                   $CONTRACT_HEADERS, one `Name: value` per line)
  --public-header NAME[,NAME]
                   show these headers' values instead of masking them
                   (default: $CONTRACT_PUBLIC_HEADERS)
  --cases DIR      case files (default: $CONTRACT_CASES_DIR, else ./cases)
  --schemas DIR    JSON Schemas (default: $CONTRACT_SCHEMAS_DIR, else ./schemas)
  --junit FILE     write a JUnit XML report (default: $CONTRACT_JUNIT)
  --json FILE      write a JSON report of every violation and notice (default: $CONTRACT_JSON)
  --fail-on LEVEL  breaking (default) or additive: also fail on new fields and headers
                   (default: $CONTRACT_FAIL_ON)

The API key is read from $CONTRACT_API_KEY only, so it never lands in shell history.
Headers the server is known to send (a gateway's own) are named in $CONTRACT_KNOWN_HEADERS
(comma-separated; `x-litellm-*` names a prefix) or in the contract's `known_headers`.

test-harness flags (as with `cargo test`):
  FILTER           run only the cases whose name contains FILTER
  --exact          FILTER must match the whole name
  --skip PATTERN   leave out cases whose name contains PATTERN (repeatable)
  --list           list the cases and exit
  --ignored        run only the ignored cases; --include-ignored runs them too
  -q, --quiet      one character per case
  --format F       pretty (default), terse or json
  --color WHEN     auto, always or never
  --test-threads N cases run at once (default: one per CPU)
  --nocapture      accepted, no effect

serve options (the reference mock as a local server; Ctrl-C stops it):
  --port N         port on 127.0.0.1 (default: 0, a free one; the URL is printed on stdout)
  --items N        batches in the listing (default: 257)
  --seed N         dataset seed (default: 20251124)
  --key KEY        the key it accepts (default: lc-reference-mock-key)
  --auth STYLE     x-api-key, bearer, or none: a server without auth (default: the
                   contract's, x-api-key; OpenAI SDKs send bearer)
  --suite NAME     serve the suite in the cases folder's NAME/contract.toml, with its examples
                   (default, and `list_batches`: the shipped List Batches contract)
  --cases DIR      where --suite looks (default: $CONTRACT_CASES_DIR, else ./cases)
  --contract FILE  a contract.toml (its examples are read beside it)
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("check") => check(args.collect()),
        Some("serve") => serve(args.collect()),
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
    let mut headers_by_flag = false;
    let mut args = Flags(args.into_iter());
    while let Some((arg, flag, inline)) = args.next_flag() {
        let mut value = |name: &str| args.value(name, &inline);
        match flag.as_str() {
            "--base-url" => {
                settings.base_url = Some(
                    parse_base_url(&value("--base-url")?)
                        .map_err(|e| format!("--base-url: {e}"))?,
                );
                settings.set_by_flag(env::BASE_URL);
            }
            "--auth" => {
                (settings.auth, settings.no_auth) =
                    parse_auth(&value("--auth")?).map_err(|e| format!("--auth: {e}"))?;
                settings.set_by_flag(env::AUTH);
            }
            "--header" => {
                if !headers_by_flag {
                    // Flags replace the variable's headers rather than add to them.
                    settings.headers.clear();
                    headers_by_flag = true;
                }
                let header = setting_header(&value("--header")?, "--header")?;
                settings.headers.retain(|(name, _)| *name != header.0);
                settings.headers.push(header);
                settings.set_by_flag(env::HEADERS);
            }
            "--public-header" => {
                let names = value("--public-header")?;
                settings.public_headers.extend(
                    names
                        .split(',')
                        .map(|n| n.trim().to_ascii_lowercase())
                        .filter(|n| !n.is_empty()),
                );
                settings.set_by_flag(env::PUBLIC_HEADERS);
            }
            "--cases" => {
                settings.cases_dir = PathBuf::from(value("--cases")?);
                settings.set_by_flag(env::CASES_DIR);
            }
            "--schemas" => {
                settings.schemas_dir = PathBuf::from(value("--schemas")?);
                settings.set_by_flag(env::SCHEMAS_DIR);
            }
            "--junit" => {
                settings.junit = Some(PathBuf::from(value("--junit")?));
                settings.set_by_flag(env::JUNIT);
            }
            "--json" => {
                settings.json = Some(PathBuf::from(value("--json")?));
                settings.set_by_flag(env::JSON);
            }
            "--fail-on" => {
                settings.fail_on = value("--fail-on")?
                    .parse()
                    .map_err(|e| format!("--fail-on: {e}"))?;
                settings.set_by_flag(env::FAIL_ON);
            }
            _ => rest.push(arg),
        }
    }
    Ok((settings, rest))
}

/// A command's arguments, one flag at a time: `--name value` and `--name=value` alike.
struct Flags(std::vec::IntoIter<String>);

impl Flags {
    /// The next argument as given, its flag (the part before `=`, or all of it) and the value
    /// written after `=`, if any.
    fn next_flag(&mut self) -> Option<(String, String, Option<String>)> {
        let arg = self.0.next()?;
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        Some((arg, flag, inline))
    }

    /// The value of flag `name`: the one after `=`, else the next argument.
    fn value(&mut self, name: &str, inline: &Option<String>) -> Result<String, String> {
        inline
            .clone()
            .or_else(|| self.0.next())
            .ok_or_else(|| format!("{name} needs a value"))
    }
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

fn serve(args: Vec<String>) -> ExitCode {
    let serve = match parse_serve(args) {
        Ok(serve) => serve,
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
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

fn parse_serve(args: Vec<String>) -> Result<Serve, String> {
    let mut port = 0u16;
    let mut items = DEFAULT_ITEMS;
    let mut seed = DEFAULT_SEED;
    let mut key: Option<String> = None;
    let mut auth: Option<AuthStyle> = None;
    let mut no_auth = false;
    let mut contract_file: Option<PathBuf> = None;
    let mut suite: Option<String> = None;
    let mut cases: Option<PathBuf> = None;
    let mut args = Flags(args.into_iter());
    while let Some((_, flag, inline)) = args.next_flag() {
        let mut value = |name: &str| args.value(name, &inline);
        let number = |name: &str, v: String| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("{name}: `{v}` is not a whole number"))
        };
        match flag.as_str() {
            "--port" => {
                port = u16::try_from(number("--port", value("--port")?)?)
                    .map_err(|_| "--port: give a port up to 65535".to_owned())?
            }
            "--items" => items = number("--items", value("--items")?)? as usize,
            "--seed" => seed = number("--seed", value("--seed")?)?,
            "--key" => {
                let k = value("--key")?;
                if k.is_empty() {
                    return Err("--key: give a non-empty key".to_owned());
                }
                key = Some(k);
            }
            "--auth" => {
                (auth, no_auth) =
                    parse_auth(&value("--auth")?).map_err(|e| format!("--auth: {e}"))?
            }
            "--contract" => contract_file = Some(PathBuf::from(value("--contract")?)),
            "--suite" => suite = Some(value("--suite")?),
            "--cases" => cases = Some(PathBuf::from(value("--cases")?)),
            other => return Err(format!("serve: unknown option `{other}`")),
        }
    }
    let served = list_contract::mock::served_suite(
        suite.as_deref(),
        contract_file.as_deref(),
        cases.as_deref(),
    )?;
    let mut config = MockConfig::for_contract(&served.contract)
        .items(items)
        .seed(seed);
    if let Some(examples) = served.examples {
        config = config.examples(examples);
    }
    if let Some(auth) = auth {
        config = config.auth(auth);
    }
    if no_auth {
        // A server without auth, to try `check --auth none` against.
        config = config.fault(Fault::AuthNotChecked);
    }
    let own_key = key.is_some();
    config = config.key(key.unwrap_or_else(|| DEFAULT_KEY.to_owned()));
    Ok(Serve {
        port,
        suite: served.name,
        config,
        own_key,
    })
}
