//! The installed command, away from this repository: a copy of the binary run in an empty
//! folder reads its suites from itself (`check`, `suites`), writes an editable copy (`init`)
//! that runs on its own, and prints completion scripts. Beside it, the other ways the tool
//! reaches its users: the GitHub Action (`standalone/action.rs`) and the published package
//! (`standalone/package.rs`); one test binary for all three, to keep the build short.

mod action;
mod package;

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{cases_dir, mock_config, text};
use list_contract::mock::{Fault, ReferenceMock};

/// The binary copied into a folder of its own, as `cargo install` leaves it: nothing of this
/// repository is beside it.
struct Installed {
    _dir: tempfile::TempDir,
    bin: PathBuf,
}

fn install() -> Installed {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin").join("list-contract");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_list-contract"), &bin).unwrap();
    Installed { _dir: dir, bin }
}

impl Installed {
    /// `list-contract ARGS` in `cwd`, with no `CONTRACT_*` or proxy variable but `env`.
    fn run(&self, cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
        let mut cmd = Command::new(&self.bin);
        for (var, _) in std::env::vars() {
            if var.starts_with("CONTRACT_") || var.to_ascii_lowercase().ends_with("_proxy") {
                cmd.env_remove(var);
            }
        }
        cmd.current_dir(cwd)
            .env("CONTRACT_RATE_LIMIT", "0")
            .envs(env.iter().copied())
            .args(args)
            .output()
            .expect("the installed list-contract runs")
    }
}

/// The suites shipped in this repository's `cases/`, by name.
fn shipped_suites() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The number of cases a run reported in its summary line.
fn cases_run(out: &Output) -> String {
    let all = text(out);
    all.lines()
        .find_map(|l| l.strip_prefix("summary: "))
        .unwrap_or_else(|| panic!("no summary line: {all}"))
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn check_in_an_empty_folder_runs_the_built_in_suites_against_the_mock() {
    let installed = install();
    let empty = tempfile::tempdir().unwrap();
    let out = installed.run(empty.path(), &[], &["check", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("note: running the built-in suites (no ./cases folder"),
        "{}",
        text(&out)
    );
    let shipped = common::cases().len();
    assert_eq!(
        cases_run(&out),
        format!("{shipped} case(s): {shipped} passed, 0 failed, 0 ignored")
    );
    // Every suite ran: a trial of each is listed.
    let listed = installed.run(empty.path(), &[], &["check", "--list"]);
    for suite in shipped_suites() {
        assert!(
            String::from_utf8_lossy(&listed.stdout).contains(&format!("{suite}::")),
            "{suite}: {}",
            text(&listed)
        );
    }
    // Nothing was written into the folder.
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn check_a_suite_against_a_local_server() {
    let installed = install();
    let empty = tempfile::tempdir().unwrap();
    let conforming = ReferenceMock::start(mock_config().items(40)).await;
    let faulty = ReferenceMock::start(mock_config().items(40).fault(Fault::WrongLastId)).await;
    let key = conforming.config().key.clone();
    let env = [("CONTRACT_API_KEY", key.as_str())];

    let base = conforming.base_url().to_string();
    let args = [
        "check",
        "-q",
        "--suite",
        "list_batches",
        "--base-url",
        &base,
    ];
    let out = installed.run(empty.path(), &env, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        cases_run(&out),
        "17 case(s): 17 passed, 0 failed, 0 ignored"
    );
    assert!(conforming.request_count().await > 17);

    // The same run against a server that drifts: it is that server that was checked.
    let base = faulty.base_url().to_string();
    let args = [
        "check",
        "-q",
        "--suite",
        "list_batches",
        "--base-url",
        &base,
    ];
    let out = installed.run(empty.path(), &env, &args);
    assert_eq!(out.status.code(), Some(101), "{}", text(&out));
    assert!(text(&out).contains("invariant: last_id"), "{}", text(&out));
    assert!(!text(&out).contains(&key), "the key leaked: {}", text(&out));

    // A suite that is not built in is named, with the ones that are.
    let out = installed.run(empty.path(), &env, &["check", "--suite", "list_batch"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(
            "error: --suite: no suite `list_batch` in built-in:cases (its suites: anthropic_message_batches, list_batches, openai_files, openai_vector_stores)"
        ),
        "{}",
        text(&out)
    );
}

#[test]
fn suites_lists_every_built_in_suite() {
    let installed = install();
    let empty = tempfile::tempdir().unwrap();
    let out = installed.run(empty.path(), &[], &["suites"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let listing = String::from_utf8_lossy(&out.stdout);
    for suite in shipped_suites() {
        let count = common::cases()
            .iter()
            .filter(|c| c.suite() == suite)
            .count();
        let path = &common::cases()
            .iter()
            .find(|c| c.suite() == suite)
            .unwrap()
            .contract
            .path;
        let line = listing
            .lines()
            .find(|l| l.starts_with(&format!("{suite} ")))
            .unwrap_or_else(|| panic!("{suite} is not listed: {listing}"));
        assert!(
            line.contains(&format!("{count} cases  GET {path}")),
            "{line}"
        );
    }
}

#[test]
fn init_writes_a_folder_that_passes_on_its_own_and_refuses_to_overwrite_it() {
    let installed = install();
    let repo = tempfile::tempdir().unwrap();
    let out = installed.run(repo.path(), &[], &["init"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let dir = repo.path().join("contract-tests");
    for suite in shipped_suites() {
        assert!(
            dir.join("cases")
                .join(&suite)
                .join("contract.toml")
                .is_file()
        );
    }
    assert!(dir.join("schemas/batch-list.json").is_file());
    let workflow = repo.path().join(".github/workflows/list-contract.yml");
    let yaml = std::fs::read_to_string(&workflow).unwrap();
    assert!(yaml.contains("cases: \"contract-tests/cases\""), "{yaml}");

    // The copy runs on its own: from inside it, and from the repository's top as the
    // workflow runs it.
    let out = installed.run(&dir, &[], &["check", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("built-in"), "{}", text(&out));
    let shipped = common::cases().len();
    assert_eq!(
        cases_run(&out),
        format!("{shipped} case(s): {shipped} passed, 0 failed, 0 ignored")
    );
    let args = [
        "check",
        "-q",
        "--cases",
        "contract-tests/cases",
        "--schemas",
        "contract-tests/schemas",
        "--suite",
        "openai_files",
    ];
    let out = installed.run(repo.path(), &[], &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // An edit to the copy is what runs next.
    std::fs::remove_file(dir.join("cases/list_batches/limit_7.toml")).unwrap();
    let out = installed.run(&dir, &[], &["check", "--list", "list_batches::"]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains("list_batches::limit_1: test"), "{listed}");
    assert!(!listed.contains("list_batches::limit_7"), "{listed}");

    // A second init names every file it would overwrite, and writes nothing.
    std::fs::write(dir.join("cases/list_batches/limit_1.toml"), "# edited\n").unwrap();
    let out = installed.run(repo.path(), &[], &["init"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("exist and were left alone (pass --force to overwrite them)"),
        "{stderr}"
    );
    for name in [
        "contract-tests/cases/list_batches/limit_1.toml",
        "contract-tests/cases/openai_files/contract.toml",
        "contract-tests/schemas/batch.json",
        ".github/workflows/list-contract.yml",
    ] {
        assert!(stderr.contains(&format!("  {name}\n")), "{name}: {stderr}");
    }
    // limit_7.toml was removed, so it is not among the files in the way.
    assert!(!stderr.contains("list_batches/limit_7.toml"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.join("cases/list_batches/limit_1.toml")).unwrap(),
        "# edited\n"
    );
    assert!(!dir.join("cases/list_batches/limit_7.toml").exists());
}

#[test]
fn init_copies_only_the_suites_asked_for() {
    let installed = install();
    let repo = tempfile::tempdir().unwrap();
    let args = [
        "init",
        "api",
        "--suite",
        "anthropic_message_batches",
        "--no-workflow",
    ];
    let out = installed.run(repo.path(), &[], &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let dir = repo.path().join("api");
    let suites: Vec<String> = std::fs::read_dir(dir.join("cases"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(suites, ["anthropic_message_batches"]);
    let mut schemas: Vec<String> = std::fs::read_dir(dir.join("schemas"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    schemas.sort();
    assert_eq!(
        schemas,
        [
            "anthropic-error.json",
            "message-batch-list.json",
            "message-batch.json"
        ]
    );
    assert!(!repo.path().join(".github").exists());
    let out = installed.run(&dir, &[], &["check", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let out = installed.run(repo.path(), &[], &["init", "--suite", "batches"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("error: init: --suite batches: no such built-in suite"),
        "{}",
        text(&out)
    );
}

#[test]
fn completions_are_generated_for_each_shell() {
    let installed = install();
    let empty = tempfile::tempdir().unwrap();
    let out = installed.run(empty.path(), &[], &["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let script = String::from_utf8_lossy(&out.stdout);
    assert!(script.contains("complete -F _list__contract"), "{script}");
    for word in [
        "check",
        "serve",
        "suites",
        "init",
        "--base-url",
        "--suite",
        "--test-threads",
    ] {
        assert!(script.contains(word), "{word} is not completed");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = installed.run(empty.path(), &[], &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("base-url"),
            "{shell}"
        );
    }
    let out = installed.run(empty.path(), &[], &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("invalid value 'tcsh'"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_workflow_init_writes_runs_the_check_with_the_key_from_a_secret_and_keeps_the_reports() {
    let installed = install();
    let repo = tempfile::tempdir().unwrap();
    let args = ["init", "api/contract", "--suite", "list_batches"];
    let out = installed.run(repo.path(), &[], &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let workflow =
        common::yaml::read_yaml(&repo.path().join(".github/workflows/list-contract.yml"));
    let steps = workflow["jobs"]["contract"]["steps"]
        .as_vec()
        .expect("jobs.contract.steps is a list");
    let uses = |step: &common::yaml::Yaml| step["uses"].as_str().unwrap_or_default().to_owned();
    assert!(
        uses(&steps[0]).starts_with("actions/checkout@"),
        "{steps:?}"
    );

    // The check: this repository's action, with the key from a secret and the copy's folders.
    let check = steps
        .iter()
        .find(|s| uses(s).starts_with("list-contract/list-contract@"))
        .expect("a step uses the list-contract action");
    let with = &check["with"];
    assert_eq!(
        with["api-key"].as_str(),
        Some("${{ secrets.CONTRACT_API_KEY }}")
    );
    assert_eq!(
        with["base-url"].as_str(),
        Some("${{ vars.CONTRACT_BASE_URL }}")
    );
    assert_eq!(with["cases"].as_str(), Some("api/contract/cases"));
    assert_eq!(with["schemas"].as_str(), Some("api/contract/schemas"));
    assert_eq!(with["suites"].as_str(), Some("list_batches"));
    let (junit, json) = (
        with["junit"].as_str().unwrap().to_owned(),
        with["json"].as_str().unwrap().to_owned(),
    );
    // Every input the workflow gives is one the action declares.
    let action = common::yaml::read_yaml(&common::root().join("action.yml"));
    for (input, _) in with.as_hash().unwrap() {
        let input = input.as_str().unwrap();
        assert!(
            !action["inputs"][input].is_badvalue(),
            "the action has no input `{input}`"
        );
    }

    // The reports are uploaded, even when the check fails.
    let upload = steps
        .iter()
        .find(|s| uses(s).starts_with("actions/upload-artifact@"))
        .expect("a step uploads the reports");
    assert_eq!(upload["if"].as_str(), Some("always()"));
    let paths = upload["with"]["path"].as_str().unwrap();
    assert!(paths.lines().any(|l| l.trim() == junit), "{paths}");
    assert!(paths.lines().any(|l| l.trim() == json), "{paths}");
}
