//! Settings from variables and flags: defaults, parsing, which one wins, and the docs table.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::http::{RequestOptions, parse_base_url};
use crate::mock::DEFAULT_KEY;

#[test]
fn headers_auth_none_and_known_headers_come_from_their_variables() {
    let vars = |name: &str| match name {
        "CONTRACT_HEADERS" => Some("x-litellm-model: m1\n\nX-Token:  t0ken-secret \n".to_owned()),
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
        bad.unwrap_err().to_string(),
        "CONTRACT_HEADERS: a header without a `:` (write it as `Name: value`; what was given is not shown, as it may be a secret)"
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
            .render()
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
            .render()
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
    // No cap of the user's: the default paces the run until the server advertises a budget.
    assert_eq!(
        (client.rate_limit, client.default_rate, client.concurrency),
        (
            None,
            Some(DEFAULT_LIVE_RATE),
            Some(DEFAULT_LIVE_CONCURRENCY)
        )
    );
    assert!(client.use_env_proxy);
    let mock = s.client_for_run();
    assert_eq!(
        (
            mock.rate_limit,
            mock.default_rate,
            mock.concurrency,
            mock.use_env_proxy
        ),
        (None, None, None, false)
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
    let client = live.client_for_run();
    assert_eq!(
        (client.rate_limit, client.default_rate),
        (None, None),
        "0 lifts the cap, the default's too"
    );
    let capped = Settings {
        client: ClientSettings {
            rate_limit: Some(5.0),
            ..live.client.clone()
        },
        ..live
    };
    let client = capped.client_for_run();
    assert_eq!(
        (client.rate_limit, client.default_rate),
        (Some(5.0), None),
        "the user's cap is never passed"
    );
}

#[test]
fn a_bad_walk_plan_names_the_variable_and_the_choices() {
    let e = Settings::from_vars(Path::new("/r"), |name| {
        (name == env::WALK_PLAN).then(|| "fast".to_owned())
    })
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "CONTRACT_WALK_PLAN: unknown walk plan `fast` (expected `chained` or `parallel`)"
    );
}

/// Settings from `vars`, and from `flags` typed on the command line (`--flag value`).
fn resolved(vars: &[(&str, &str)], flags: &[(&str, &str)]) -> Result<Settings, SettingError> {
    let var = |name: &str| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    };
    let flag = |flag: &'static str| -> Option<Vec<String>> {
        let values: Vec<String> = flags
            .iter()
            .filter(|(f, _)| *f == flag)
            .map(|(_, v)| (*v).to_owned())
            .collect();
        (!values.is_empty()).then_some(values)
    };
    Settings::resolve(Path::new("/r"), &var, &flag)
}

#[test]
fn every_number_is_checked_against_its_range_naming_the_setting_and_range() {
    let numbers: Vec<&Setting> = SETTINGS.iter().filter(|s| s.range.is_some()).collect();
    assert_eq!(numbers.len(), 10, "every number setting has a range");
    for setting in numbers {
        let range = setting.range.unwrap();
        for bad in [
            "-1", "NaN", "inf", "-inf", "1e300", "1e-300", "lots", "0.5e400",
        ] {
            let e = resolved(&[(setting.var, bad)], &[]).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "{}: `{bad}` is out of range: give {}",
                    setting.var,
                    range.describe()
                ),
            );
        }
        // The ends of the range are taken.
        for good in [range.min, range.max] {
            resolved(&[(setting.var, &good.to_string())], &[])
                .unwrap_or_else(|e| panic!("{}={good}: {e}", setting.var));
        }
        if range.zero.is_some() {
            resolved(&[(setting.var, "0")], &[]).unwrap();
        } else {
            assert!(
                resolved(&[(setting.var, "0")], &[]).is_err(),
                "{}",
                setting.var
            );
        }
    }
    let e = resolved(&[(env::RATE_LIMIT, "1e-300")], &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "CONTRACT_RATE_LIMIT: `1e-300` is out of range: give 0 (no cap), or 0.01 to 10000"
    );
}

#[test]
fn a_key_that_cannot_be_sent_is_an_error_naming_the_variable_not_the_value() {
    for key in [
        "sk-canary-nl\n",
        "sk-canary\r\nx",
        "sk-canary\u{7f}",
        "sk-canäry",
    ] {
        let e = Settings::from_vars(Path::new("/r"), |n| {
            (n == env::API_KEY).then(|| key.to_owned())
        })
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("CONTRACT_API_KEY: the key holds a character a header cannot carry"),
            "{e}"
        );
        assert!(!e.contains("canary") && !e.contains("sk-"), "{e}");
    }
}

#[test]
fn a_flag_wins_over_its_variable_and_rescues_a_bad_one() {
    let s = resolved(
        &[(env::WALK_PLAN, "fast"), (env::RATE_LIMIT, "lots")],
        &[("--walk-plan", "chained"), ("--rate-limit", "2")],
    )
    .unwrap();
    assert_eq!(s.walk_plan, Some(WalkPlan::Chained));
    assert_eq!(s.client.rate_limit, Some(2.0));
    assert_eq!(s.source(env::WALK_PLAN), "--walk-plan");
    assert_eq!(s.source(env::JUNIT), env::JUNIT);
    // Without the flag the bad variable is an error naming it; a bad flag names the flag.
    let e = resolved(&[(env::RATE_LIMIT, "lots")], &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "CONTRACT_RATE_LIMIT: `lots` is out of range: give 0 (no cap), or 0.01 to 10000"
    );
    let e = resolved(&[], &[("--case-timeout", "0")]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--case-timeout: `0` is out of range: give 0.01 to 86400"
    );
    // Repeated list flags replace the variable's list.
    let s = resolved(
        &[(env::SUITES, "a,b"), (env::HEADERS, "x-a: 1")],
        &[
            ("--suite", "c"),
            ("--suite", "d,e"),
            ("--header", "x-b: 2"),
            ("--header", "X-B: 3"),
        ],
    )
    .unwrap();
    assert_eq!(s.suites, ["c", "d", "e"]);
    let headers: Vec<(&str, &str)> = s
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.expose()))
        .collect();
    assert_eq!(headers, [("x-b", "3")], "the last of a name wins");
    let e = resolved(&[], &[("--header", "no colon")]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--header: a header without a `:` (write it as `Name: value`; what was given is not shown, as it may be a secret)"
    );
}

#[test]
fn an_empty_variable_is_unset_for_every_setting() {
    let empty: Vec<(&str, &str)> = SETTINGS.iter().map(|s| (s.var, "")).collect();
    let blank: Vec<(&str, &str)> = SETTINGS.iter().map(|s| (s.var, "  ")).collect();
    for vars in [empty, blank] {
        let s = resolved(&vars, &[]).unwrap();
        let d = Settings::defaults(Path::new("/r"));
        assert_eq!(format!("{s:?}"), format!("{d:?}"));
    }
}

#[test]
fn every_setting_has_a_flag_but_the_key_and_each_is_read() {
    let envs: Vec<&str> = SETTINGS.iter().map(|s| s.var).collect();
    let mut sorted = envs.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), envs.len(), "a variable listed twice");
    let without: Vec<&str> = SETTINGS
        .iter()
        .filter(|s| s.flag.is_none())
        .map(|s| s.var)
        .collect();
    assert_eq!(without, [env::API_KEY], "only the key is environment-only");
    // A valid value for each setting changes what its default was.
    let value = |s: &Setting| match s.value_name {
        "URL" => "http://127.0.0.1:9",
        "STYLE" => "bearer",
        "NAME: VALUE" => "x-a: 1",
        "PLAN" => "chained",
        "DEPTH" => "full",
        "WHEN" => "never",
        "LEVEL" => "additive",
        "N" | "SECS" | "BYTES" | "PER_SEC" => "3",
        "VAR[,VAR]" => "HOME_SECRET",
        "NAME=VALUE" => "store_id=st_1",
        "SUITE=URL" => "list_batches=http://127.0.0.1:9",
        "BOOL" => "true",
        _ => "x",
    };
    let defaults = format!("{:?}", Settings::defaults(Path::new("/r")));
    for setting in SETTINGS {
        let var = |name: &str| {
            if name == setting.var {
                Some(value(setting).to_owned())
            } else {
                (name == "HOME_SECRET").then(|| "s3cret".to_owned())
            }
        };
        let s = Settings::resolve(Path::new("/r"), &var, &|_| None)
            .unwrap_or_else(|e| panic!("{}: {e}", setting.var));
        assert_ne!(format!("{s:?}"), defaults, "{} is not read", setting.var);
        if let Some(flag) = setting.flag {
            let flags = |f: &'static str| (f == flag).then(|| vec![value(setting).to_owned()]);
            let by_flag = Settings::resolve(
                Path::new("/r"),
                &|n| var(n).filter(|_| n != setting.var),
                &flags,
            )
            .unwrap_or_else(|e| panic!("{flag}: {e}"));
            assert_eq!(by_flag.source(setting.var), flag);
            let mut like = by_flag.clone();
            like.from_flags.clear();
            assert_eq!(
                format!("{like:?}"),
                format!("{s:?}"),
                "{flag} reads as {}",
                setting.var
            );
        }
    }
}

/// docs/settings.md holds the table [`docs_table`] makes, between its markers
/// (`LIST_CONTRACT_BLESS=1` rewrites it).
#[test]
fn the_docs_table_is_the_code_s() {
    const BEGIN: &str = "<!-- settings table: made by `docs_table`; LIST_CONTRACT_BLESS=1 cargo test rewrites it -->\n";
    const END: &str = "<!-- end of settings table -->";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/settings.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find(BEGIN).expect("the table's opening marker") + BEGIN.len();
    let end = start + text[start..].find(END).expect("the table's closing marker");
    let table = docs_table();
    if text[start..end] != table && std::env::var_os("LIST_CONTRACT_BLESS").is_some() {
        std::fs::write(&path, format!("{}{table}{}", &text[..start], &text[end..])).unwrap();
        return;
    }
    assert_eq!(
        text[start..end],
        table,
        "docs/settings.md's table differs from the settings table (LIST_CONTRACT_BLESS=1 rewrites it)"
    );
}
