//! Golden output: the whole report of a drifting endpoint, as a user sees it, compared with
//! `tests/fixtures/*.txt`. Re-record after an intended change with
//! `LIST_CONTRACT_BLESS=1 cargo test --test harness golden::`, and review the diff.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::{batches_only_dir, mock_config, root, schemas_dir};
use list_contract::mock::{Fault, ReferenceMock};

const KEY: &str = "sk-golden-5b1e";

fn assert_golden(name: &str, actual: &str) {
    let path = root().join("tests/fixtures").join(name);
    if std::env::var_os("LIST_CONTRACT_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (record it with LIST_CONTRACT_BLESS=1)",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "output differs from {} (LIST_CONTRACT_BLESS=1 re-records it; review the diff)\n{}\n(re-record after an intended change with LIST_CONTRACT_BLESS=1)",
            path.display(),
            diff_head(&expected, actual, &format!("tests/fixtures/{name}"))
        );
    }
}

/// The lines of a diff a failing golden test prints; the rest is counted.
const DIFF_LINES: usize = 80;

/// The first `DIFF_LINES` lines of the unified diff from `expected` (the file at `path`) to
/// `actual`, three lines of context around each change.
fn diff_head(expected: &str, actual: &str, path: &str) -> String {
    let diff = similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header(path, "actual output")
        .to_string();
    let lines: Vec<&str> = diff.lines().collect();
    let mut head = lines[..lines.len().min(DIFF_LINES)].join("\n");
    if lines.len() > DIFF_LINES {
        head.push_str(&format!(
            "\n... {} more lines of diff",
            lines.len() - DIFF_LINES
        ));
    }
    head
}

/// Replaces what changes from run to run: the mock's port and the timing.
fn normalize(text: &str, port: u16) -> String {
    let text = text.replace(&format!("127.0.0.1:{port}"), "127.0.0.1:PORT");
    text.lines()
        .map(|l| match l.find("; finished in ") {
            Some(i) => format!("{}; finished in (time)", &l[..i]),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `list-contract check` one case at a time against `mock` and returns what it printed,
/// normalized.
fn check_report(mock: &ReferenceMock) -> String {
    let base = mock.base_url().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_list-contract"))
        .args(["check", "--test-threads", "1", "--cases"])
        .arg(batches_only_dir())
        .arg("--schemas")
        .arg(schemas_dir())
        .env("CONTRACT_BASE_URL", &base)
        .env("CONTRACT_API_KEY", KEY)
        .env("CONTRACT_RATE_LIMIT", "0")
        .env_remove("CONTRACT_AUTH")
        .current_dir(Path::new("/"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(101));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!all.contains(KEY));
    normalize(&all, mock.base_url().port().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_report() {
    let config = mock_config()
        .key(KEY)
        .prefix("/gw")
        .fault(Fault::CreatedAtAsString)
        .fault(Fault::WrongLastId)
        .fault(Fault::AuthNotChecked)
        .fault(Fault::InvalidLimitCrashes);
    let mock = ReferenceMock::start(config).await;
    assert_golden("drift_report.txt", &check_report(&mock));
}

#[tokio::test(flavor = "multi_thread")]
async fn walk_report() {
    // A gap at one boundary past the middle, and a has_more that never turns false.
    let config = mock_config()
        .key(KEY)
        .items(60)
        .fault(Fault::GapOnce)
        .fault(Fault::HasMoreAlwaysTrue);
    let mock = ReferenceMock::start(config).await;
    assert_golden("walk_report.txt", &check_report(&mock));
}

/// `list-contract ARGS` with no `CONTRACT_*` variable: what it printed (stdout, then stderr)
/// and its exit code.
fn command_output(args: &[&str]) -> (String, Option<i32>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_list-contract"));
    for (var, _) in std::env::vars() {
        if var.starts_with("CONTRACT_") {
            cmd.env_remove(var);
        }
    }
    let out = cmd.args(args).output().unwrap();
    (
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        out.status.code(),
    )
}

#[test]
fn help_of_each_command() {
    for (args, file) in [
        (&["--help"][..], "help/list-contract.txt"),
        (&["check", "--help"][..], "help/check.txt"),
        (&["serve", "--help"][..], "help/serve.txt"),
        (&["init", "--help"][..], "help/init.txt"),
        (&["import", "--help"][..], "help/import.txt"),
    ] {
        let (text, code) = command_output(args);
        assert_eq!(code, Some(0), "{args:?}: {text}");
        assert_golden(file, &text);
    }
}

#[test]
fn a_mistyped_flag_or_command_is_named_with_the_likely_one() {
    let mut all = String::new();
    for args in [
        &["check", "--base-ulr", "http://127.0.0.1:1"][..],
        &["serve", "--prot", "8080"][..],
        &["chek"][..],
        &["init", "--forse"][..],
    ] {
        let (text, code) = command_output(args);
        assert_eq!(code, Some(1), "{args:?}: {text}");
        all.push_str(&format!("$ list-contract {}\n{text}\n", args.join(" ")));
    }
    assert_golden("help/mistyped.txt", &all);
}

#[test]
fn a_mismatch_prints_the_head_of_a_unified_diff() {
    let expected: String = (1..=300).map(|i| format!("line {i}\n")).collect();
    let actual = expected
        .replace("line 20\n", "line twenty\n")
        .replace("line 250\n", "line 250, changed\n");
    let diff = diff_head(&expected, &actual, "tests/fixtures/x.txt");
    let lines: Vec<&str> = diff.lines().collect();
    assert_eq!(
        lines[..2],
        ["--- tests/fixtures/x.txt", "+++ actual output"]
    );
    assert_eq!(lines[2], "@@ -17,7 +17,7 @@");
    assert!(lines.contains(&"-line 20") && lines.contains(&"+line twenty"));
    assert!(lines.contains(&" line 17") && !lines.contains(&" line 16"));
    assert!(lines.contains(&"+line 250, changed"), "{diff}");
    assert!(
        !diff.contains("line 100\n"),
        "only the changes and their context"
    );

    let many: String = expected.lines().map(|l| format!("{l}!\n")).collect();
    let diff = diff_head(&expected, &many, "x");
    assert_eq!(diff.lines().count(), DIFF_LINES + 1);
    assert!(diff.ends_with("... 523 more lines of diff"), "{diff}");
}
