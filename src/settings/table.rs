//! The table of settings: one row per setting, with how its value is read into [`Settings`].

use std::path::PathBuf;
use std::time::Duration;

use super::{SettingError, Settings, env, parse_auth, setting_header};

/// How a setting takes several values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Many {
    /// One value (a repeated flag: the last one).
    One,
    /// A list: the flag repeated, each value (and the variable) split on commas.
    Commas,
    /// A list: the flag repeated, the variable one value per line.
    Lines,
    /// A switch: the flag alone means `true` (`--flag=false` turns it off); the variable is
    /// `true`/`1`/`yes` or `false`/`0`/`no`.
    Switch,
}

/// One setting: its variable, its `check` flag, and how its value is read.
pub struct Setting {
    /// The environment variable.
    pub var: &'static str,
    /// `check`'s flag, with its dashes; `None` for the API key alone, which is read from the
    /// environment only so that it never lands in shell history or a process list.
    pub flag: Option<&'static str>,
    /// What the value is, as `--help` shows it (`URL`, `SECS`).
    pub value_name: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// The default, as the docs and `--help` say it.
    pub default: &'static str,
    pub many: Many,
    /// The values a number setting takes; checked before it is read, shown in the message
    /// and the docs. `None`: not a number.
    pub range: Option<Range>,
    read: fn(&mut Settings, &Given) -> Result<(), String>,
}

/// The sane values of a number setting: `min` to `max`, whole or not, and 0 when it means
/// something of its own (no cap).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
    pub whole: bool,
    /// What 0 means, when 0 is allowed below `min`.
    pub zero: Option<&'static str>,
}

impl Range {
    const fn new(min: f64, max: f64, whole: bool) -> Range {
        Range {
            min,
            max,
            whole,
            zero: None,
        }
    }

    const fn or_zero(self, meaning: &'static str) -> Range {
        Range {
            zero: Some(meaning),
            ..self
        }
    }

    /// `1 to 100, whole`; `0 (no cap), or 0.01 to 10000`.
    pub fn describe(&self) -> String {
        let span = format!(
            "{} to {}{}",
            self.min,
            self.max,
            if self.whole { ", whole" } else { "" }
        );
        match self.zero {
            Some(meaning) => format!("0 ({meaning}), or {span}"),
            None => span,
        }
    }

    /// Whether `text` is a number in range; the message says the range.
    fn check(&self, text: &str) -> Result<(), String> {
        let n = text.trim().parse::<f64>().ok().filter(|n| n.is_finite());
        let fits = n.is_some_and(|n| {
            (self.zero.is_some() && n == 0.0)
                || ((self.min..=self.max).contains(&n) && (!self.whole || n.fract() == 0.0))
        });
        if fits {
            Ok(())
        } else {
            Err(format!(
                "`{}` is out of range: give {}",
                text.trim(),
                self.describe()
            ))
        }
    }
}

/// The values given for a setting, and where they came from.
pub(super) struct Given<'a> {
    /// The flag's values (one per occurrence), or the variable's one value.
    pub values: Vec<String>,
    /// The flag or the variable, for messages.
    pub from: &'static str,
    /// Reads another variable (empty: unset), for `CONTRACT_SECRET_VARS`.
    pub var: &'a dyn Fn(&str) -> Option<String>,
}

impl Given<'_> {
    /// The value of a one-value setting (the last flag given wins).
    fn one(&self) -> &str {
        self.values.last().map_or("", String::as_str)
    }

    /// The values of a list setting, split on `sep`, trimmed, without empty ones.
    fn list(&self, sep: char) -> impl Iterator<Item = &str> {
        self.values
            .iter()
            .flat_map(move |v| v.split(sep))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// A non-negative number.
    fn number(&self) -> Result<f64, String> {
        let v = self.one();
        match v.trim().parse::<f64>() {
            Ok(n) if n.is_finite() && n >= 0.0 => Ok(n),
            _ => Err(format!("`{v}` is not a non-negative number")),
        }
    }

    /// A positive number of seconds.
    fn seconds(&self) -> Result<Duration, String> {
        match self.number()? {
            n if n > 0.0 => Ok(Duration::from_secs_f64(n)),
            _ => Err("give a positive number of seconds".to_owned()),
        }
    }

    /// A whole number, at least 1, of `what`.
    fn count(&self, what: &str) -> Result<u32, String> {
        match self.number()? {
            n if n >= 1.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => Ok(n as u32),
            _ => Err(format!("give a whole number of {what}, at least 1")),
        }
    }

    fn path(&self) -> PathBuf {
        PathBuf::from(self.one())
    }

    /// A switch's value.
    fn switch(&self) -> Result<bool, String> {
        match self.one().trim().to_ascii_lowercase().as_str() {
            "" | "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            other => Err(format!("`{other}` is not true or false")),
        }
    }
}

impl Setting {
    /// The flag, or else the variable: how a message names the setting when a flag gave it.
    pub(super) fn flag_text(&self) -> &'static str {
        self.flag.unwrap_or(self.var)
    }

    pub(super) fn read(&self, settings: &mut Settings, given: &Given) -> Result<(), SettingError> {
        let checked = match self.range {
            Some(range) => range.check(given.one()),
            None => Ok(()),
        };
        checked
            .and_then(|()| (self.read)(settings, given))
            .map_err(|reason| {
                // Header parsing names the setting itself.
                let prefix = format!("{}: ", given.from);
                let reason = reason
                    .strip_prefix(&prefix)
                    .map(str::to_owned)
                    .unwrap_or(reason);
                SettingError::Invalid {
                    from: given.from,
                    reason,
                }
            })
    }
}

/// The `check` flag that overrides a variable, if one does.
pub fn flag_of(var: &str) -> Option<&'static str> {
    SETTINGS.iter().find(|s| s.var == var).and_then(|s| s.flag)
}

/// Every setting, in the order `--help` and the docs list them.
pub static SETTINGS: &[Setting] = &[
    Setting {
        var: env::BASE_URL,
        flag: Some("--base-url"),
        value_name: "URL",
        help: "The live endpoint (may carry a path prefix; the contract's `path` is appended)",
        default: "unset: the embedded reference mock",
        many: Many::One,
        range: None,
        read: |s, g| {
            s.base_url = Some(crate::http::parse_base_url(g.one())?);
            Ok(())
        },
    },
    Setting {
        var: env::BASE_URL_FOR,
        flag: Some("--base-url-for"),
        value_name: "SUITE=URL",
        help: "This suite's own base URL, for a server that mounts families under different \
               prefixes (repeatable; the variable is comma-separated: \
               `list_batches=https://h,anthropic_message_batches=https://h/anthropic`)",
        default: "the base URL",
        many: Many::Commas,
        range: None,
        read: |s, g| {
            s.base_url_for = g
                .list(',')
                .map(|pair| {
                    let (suite, url) = pair.split_once('=').ok_or_else(|| {
                        match pair.contains('@') {
                            // A URL with userinfo may carry a password: never shown.
                            true => "a value is not SUITE=URL (e.g. list_batches=https://h); \
                                     it is not shown: it holds `@`, maybe a password"
                                .to_owned(),
                            false => {
                                format!("`{pair}` is not SUITE=URL (e.g. list_batches=https://h)")
                            }
                        }
                    })?;
                    let suite = suite.trim();
                    if suite.is_empty() {
                        return Err("a value names no suite before `=` (SUITE=URL)".to_owned());
                    }
                    Ok((suite.to_owned(), crate::http::parse_base_url(url.trim())?))
                })
                .collect::<Result<_, String>>()?;
            Ok(())
        },
    },
    Setting {
        var: env::API_KEY,
        flag: None,
        value_name: "KEY",
        help: "The API key, from the environment only (a flag would land in shell history); \
               needed with a base URL unless the auth is none; masked in all output",
        default: "the mock's own key",
        many: Many::One,
        range: None,
        read: |s, g| {
            // A key that cannot be sent would go out as no credential at all.
            if let Some(at) = crate::redact::unsendable_at(g.one()) {
                return Err(format!(
                    "the key holds a character a header cannot carry (a line break, a control \
                     or non-ASCII character) at character {at}: fix the secret (a trailing \
                     newline, from `echo` into a secrets file, is the usual one)"
                ));
            }
            s.api_key = Some(crate::redact::Secret::new(g.one()));
            Ok(())
        },
    },
    Setting {
        var: env::AUTH,
        flag: Some("--auth"),
        value_name: "STYLE",
        help: "x-api-key, bearer, or none for a server without auth (no credential is sent and \
               the auth cases are ignored)",
        default: "the contract's `auth`",
        many: Many::One,
        range: None,
        read: |s, g| {
            (s.auth, s.no_auth) = parse_auth(g.one())?;
            Ok(())
        },
    },
    Setting {
        var: env::HEADERS,
        flag: Some("--header"),
        value_name: "NAME: VALUE",
        help: "Send this header with every request (repeatable; the variable: one per line; a \
               case's own headers win); values are masked like the key",
        default: "none",
        many: Many::Lines,
        range: None,
        read: |s, g| {
            s.headers.clear();
            for line in g.list('\n') {
                let header = setting_header(line, g.from)?;
                s.headers.retain(|(name, _)| *name != header.0);
                s.headers.push(header);
            }
            Ok(())
        },
    },
    Setting {
        var: env::PUBLIC_HEADERS,
        flag: Some("--public-header"),
        value_name: "NAME[,NAME]",
        help: "Show these headers' values instead of masking them",
        default: "none",
        many: Many::Commas,
        range: None,
        read: |s, g| {
            s.public_headers = g.list(',').map(str::to_ascii_lowercase).collect();
            Ok(())
        },
    },
    Setting {
        var: env::KNOWN_HEADERS,
        flag: Some("--known-header"),
        value_name: "NAME[,NAME]",
        help: "Response headers the server is known to send, never reported as new headers \
               (`x-litellm-*` names a prefix)",
        default: "none",
        many: Many::Commas,
        range: None,
        read: |s, g| {
            s.known_headers = g.list(',').map(str::to_ascii_lowercase).collect();
            Ok(())
        },
    },
    Setting {
        var: env::SECRET_VARS,
        flag: Some("--secret-var"),
        value_name: "VAR[,VAR]",
        help: "Mask the values of these variables too in all output (e.g. a token a case header \
               uses as `${ORG_TOKEN}`)",
        default: "none",
        many: Many::Commas,
        range: None,
        read: |s, g| {
            s.secrets = g
                .list(',')
                .filter_map(|name| (g.var)(name))
                .map(crate::redact::Secret::new)
                .collect();
            Ok(())
        },
    },
    Setting {
        var: env::SUITES,
        flag: Some("--suite"),
        value_name: "NAME",
        help: "Run only this suite (repeatable; the variable is comma-separated)",
        default: "every suite",
        many: Many::Commas,
        range: None,
        read: |s, g| {
            s.suites = g.list(',').map(str::to_owned).collect();
            Ok(())
        },
    },
    Setting {
        var: env::CASES_DIR,
        flag: Some("--cases"),
        value_name: "DIR",
        help: "The case files folder; it replaces the built-in suites",
        default: "./cases if there is one, else the built-in suites",
        many: Many::One,
        range: None,
        read: |s, g| {
            s.cases_dir = g.path();
            Ok(())
        },
    },
    Setting {
        var: env::SCHEMAS_DIR,
        flag: Some("--schemas"),
        value_name: "DIR",
        help: "The JSON Schemas folder; it replaces the built-in schemas",
        default: "./schemas if there is one, else the built-in schemas",
        many: Many::One,
        range: None,
        read: |s, g| {
            s.schemas_dir = g.path();
            Ok(())
        },
    },
    Setting {
        var: env::RETRY_ATTEMPTS,
        flag: Some("--retry-attempts"),
        value_name: "N",
        help: "Attempts per request, the first included (1: no retries)",
        default: "10",
        many: Many::One,
        range: Some(Range::new(1.0, 100.0, true)),
        read: |s, g| {
            match g.number()? {
                n if n >= 1.0 && n.fract() == 0.0 => s.request.retry.max_attempts = n as u32,
                _ => {
                    return Err(
                        "give a whole number of attempts, at least 1 (1 means no retries)".into(),
                    );
                }
            }
            Ok(())
        },
    },
    Setting {
        var: env::RETRY_BUDGET,
        flag: Some("--retry-budget"),
        value_name: "SECS",
        help: "Seconds one request may spend retrying, waits included (its turn under the server's rate limit too)",
        default: "60",
        many: Many::One,
        range: Some(Range::new(0.01, 86400.0, false)),
        read: |s, g| {
            s.request.retry.budget = g.seconds()?;
            Ok(())
        },
    },
    Setting {
        var: env::CONNECT_TIMEOUT,
        flag: Some("--connect-timeout"),
        value_name: "SECS",
        help: "Seconds to open a connection",
        default: "10",
        many: Many::One,
        range: Some(Range::new(0.01, 3600.0, false)),
        read: |s, g| {
            s.client.connect_timeout = g.seconds()?;
            Ok(())
        },
    },
    Setting {
        var: env::REQUEST_TIMEOUT,
        flag: Some("--request-timeout"),
        value_name: "SECS",
        help: "Seconds one request may take, body included",
        default: "30",
        many: Many::One,
        range: Some(Range::new(0.01, 3600.0, false)),
        read: |s, g| {
            s.request.timeout = g.seconds()?;
            Ok(())
        },
    },
    Setting {
        var: env::CASE_TIMEOUT,
        flag: Some("--case-timeout"),
        value_name: "SECS",
        help: "Seconds one case may take",
        default: "page cases 120; walks 3600 (a hang guard: the page budget bounds a walk)",
        many: Many::One,
        range: Some(Range::new(0.01, 86400.0, false)),
        read: |s, g| {
            s.case_timeout = Some(g.seconds()?);
            Ok(())
        },
    },
    Setting {
        var: env::MAX_PAGES,
        flag: Some("--max-pages"),
        value_name: "N",
        help: "Pages a walk may take; past them it stops, not judged (`page_budget`, exit 1)",
        default: "1000",
        many: Many::One,
        range: Some(Range::new(1.0, 10_000_000.0, true)),
        read: |s, g| {
            s.walk_bounds.max_pages = g.count("pages")?;
            Ok(())
        },
    },
    Setting {
        var: env::STOP_AFTER_ITEMS,
        flag: Some("--stop-after-items"),
        value_name: "N",
        help: "Items after which every walk stops short of the end, without failing (for large \
               accounts: the newest items' boundaries are checked, the end is not)",
        default: "unset: walk to the end",
        many: Many::One,
        range: Some(Range::new(1.0, 1_000_000_000.0, true)),
        read: |s, g| {
            s.walk_bounds.stop_after_items = Some(u64::from(g.count("items")?));
            Ok(())
        },
    },
    Setting {
        var: env::WALK_PLAN,
        flag: Some("--walk-plan"),
        value_name: "PLAN",
        help: "parallel: walks of id cursors send their pages ahead along a larger walk's order, \
               within the caps; chained: each page waits for the one before",
        default: "parallel; chained when the run is recorded or replayed",
        many: Many::One,
        range: None,
        read: |s, g| {
            s.walk_plan = Some(g.one().parse()?);
            Ok(())
        },
    },
    Setting {
        var: env::DEPTH,
        flag: Some("--depth"),
        value_name: "DEPTH",
        help: "sampled: on a listing of 300 items or more, walks of id cursors at limits below the \
               maximum read windows of 3 pages (head, 3 spread through, the end) along the order \
               the walk at the maximum learned, at most 16 requests each; order, filter and \
               backward walks stop after 300 items; full: every walk reads the whole listing",
        default: "sampled",
        many: Many::One,
        range: None,
        read: |s, g| {
            s.depth = Some(g.one().parse()?);
            Ok(())
        },
    },
    Setting {
        var: env::PROGRESS,
        flag: Some("--progress"),
        value_name: "WHEN",
        help: "auto: a progress display on stderr (per suite: cases done, requests sent, pace) \
               when it is a terminal, CI is unset and TERM is not dumb; always; never",
        default: "auto",
        many: Many::One,
        range: None,
        read: |s, g| {
            s.progress = g.one().parse()?;
            Ok(())
        },
    },
    Setting {
        var: env::MAX_BODY_BYTES,
        flag: Some("--max-body-bytes"),
        value_name: "BYTES",
        help: "The largest body read; a larger one is not read (`body_size`: not judged, exit 1)",
        default: "8388608 (8 MiB)",
        many: Many::One,
        range: Some(Range::new(1.0, 1_073_741_824.0, true)),
        read: |s, g| {
            match g.number()? {
                n if n >= 1.0 => s.client.max_body_bytes = n as u64,
                _ => return Err("give a size in bytes".into()),
            }
            Ok(())
        },
    },
    Setting {
        var: env::RATE_LIMIT,
        flag: Some("--rate-limit"),
        value_name: "PER_SEC",
        help: "Requests per second at most, whatever the server's advertised budget allows (0: no cap of yours; the server's budget still paces the run)",
        default: "live: the server's advertised budget, else 10; mock: no cap",
        many: Many::One,
        range: Some(Range::new(0.01, 10_000.0, false).or_zero("no cap")),
        read: |s, g| {
            s.client.rate_limit = Some(g.number()?);
            Ok(())
        },
    },
    Setting {
        var: env::CONCURRENCY,
        flag: Some("--concurrency"),
        value_name: "N",
        help: "Requests in flight at most (0: no cap)",
        default: "live: 4; mock: no cap",
        many: Many::One,
        range: Some(Range::new(1.0, 1024.0, true).or_zero("no cap")),
        read: |s, g| {
            s.client.concurrency = Some(g.number()? as usize);
            Ok(())
        },
    },
    Setting {
        var: env::CA_CERT,
        flag: Some("--ca-cert"),
        value_name: "FILE",
        help: "A PEM file of CA certificates to trust besides the system roots",
        default: "none",
        many: Many::One,
        range: None,
        read: |s, g| {
            s.client.ca_cert = Some(g.path());
            Ok(())
        },
    },
    Setting {
        var: env::JUNIT,
        flag: Some("--junit"),
        value_name: "FILE",
        help: "Write a JUnit XML report to this file",
        default: "none",
        many: Many::One,
        range: None,
        read: |s, g| {
            s.junit = Some(g.path());
            Ok(())
        },
    },
    Setting {
        var: env::JSON,
        flag: Some("--json"),
        value_name: "FILE",
        help: "Write a JSON report of every violation and notice to this file",
        default: "none",
        many: Many::One,
        range: None,
        read: |s, g| {
            s.json = Some(g.path());
            Ok(())
        },
    },
    Setting {
        var: env::MARKDOWN,
        flag: Some("--markdown"),
        value_name: "FILE",
        help: "Write a Markdown summary (verdict, counts, failed invariants) to this file, e.g. \
               $GITHUB_STEP_SUMMARY",
        default: "none",
        many: Many::One,
        range: None,
        read: |s, g| {
            s.markdown = Some(g.path());
            Ok(())
        },
    },
    Setting {
        var: env::RECORD,
        flag: Some("--record"),
        value_name: "FILE.har",
        help: "Record every exchange of the run, masked, to this HAR 1.2 file",
        default: "none",
        many: Many::One,
        range: None,
        read: |s, g| {
            s.record = Some(g.path());
            Ok(())
        },
    },
    Setting {
        var: env::REPLAY,
        flag: Some("--replay"),
        value_name: "FILE.har",
        help: "Answer every request from this recording, with no network and no mock: the same \
               responses, judged by today's cases, contracts and schemas",
        default: "none",
        many: Many::One,
        range: None,
        read: |s, g| {
            s.replay = Some(g.path());
            Ok(())
        },
    },
    Setting {
        var: env::OPENAPI,
        flag: Some("--openapi"),
        value_name: "SPEC",
        help: "Check the paginated lists of this OpenAPI document (3.0 or 3.1, JSON or YAML), \
               imported in memory; it replaces the cases and schemas folders",
        default: "none",
        many: Many::One,
        range: None,
        read: |s, g| {
            s.openapi = Some(g.path());
            Ok(())
        },
    },
    Setting {
        var: env::OPERATIONS,
        flag: Some("--operation"),
        value_name: "ID",
        help: "With --openapi: check only the list with this operationId (repeatable; the \
               variable is comma-separated)",
        default: "every list",
        many: Many::Commas,
        range: None,
        read: |s, g| {
            s.operations = g.list(',').map(str::to_owned).collect();
            Ok(())
        },
    },
    Setting {
        var: env::OPENAPI_OVERRIDES,
        flag: Some("--overrides"),
        value_name: "FILE",
        help: "With --openapi: the overrides file (TOML, one table per operation) for what the \
               document does not say",
        default: "none",
        many: Many::One,
        range: None,
        read: |s, g| {
            s.openapi_overrides = Some(g.path());
            Ok(())
        },
    },
    Setting {
        var: env::PATH_PARAMS,
        flag: Some("--path-param"),
        value_name: "NAME=VALUE",
        help: "A nested list's path parameter (repeatable; the variable is comma-separated); \
               unset ones are found by walking the parent list",
        default: "found from the parent list",
        many: Many::Commas,
        range: None,
        read: |s, g| {
            s.path_params = g
                .list(',')
                .map(|pair| match pair.split_once('=') {
                    Some((name, value)) if !name.trim().is_empty() => {
                        Ok((name.trim().to_owned(), value.trim().to_owned()))
                    }
                    _ => Err(format!(
                        "`{pair}` is not NAME=VALUE (e.g. vector_store_id=vs_abc123)"
                    )),
                })
                .collect::<Result<_, _>>()?;
            Ok(())
        },
    },
    Setting {
        var: env::REQUIRE_EVIDENCE,
        flag: Some("--require-evidence"),
        value_name: "BOOL",
        help: "Fail the run (exit 1) when the data could not exercise an invariant (an empty \
               listing, too few items to cross a page, no ties, a filter with no match): \
               \"not proven\" becomes \"could not be judged\"",
        default: "false",
        many: Many::Switch,
        range: None,
        read: |s, g| {
            s.require_evidence = g.switch()?;
            Ok(())
        },
    },
    Setting {
        var: env::FAIL_ON,
        flag: Some("--fail-on"),
        value_name: "LEVEL",
        help: "breaking, or additive: also fail on new fields and headers",
        default: "breaking",
        many: Many::One,
        range: None,
        read: |s, g| {
            s.fail_on = g.one().parse()?;
            Ok(())
        },
    },
];

/// The table of settings in docs/settings.md, as Markdown.
pub fn docs_table() -> String {
    let mut text = String::from("| variable | flag | meaning | default |\n|---|---|---|---|\n");
    for s in SETTINGS {
        let flag = match (s.flag, s.many) {
            (Some(flag), Many::One) => format!("`{flag} {}`", s.value_name),
            (Some(flag), Many::Switch) => format!("`{flag}`"),
            (Some(flag), _) => format!("`{flag} {}`, repeatable", s.value_name),
            (None, _) => "none (environment only)".to_owned(),
        };
        let range = s
            .range
            .map(|r| format!(" (range: {})", r.describe()))
            .unwrap_or_default();
        text.push_str(&format!(
            "| `{}` | {flag} | {} | {}{range} |\n",
            s.var,
            s.help.replace('|', "\\|"),
            s.default
        ));
    }
    text
}
