//! The GitHub Action (`action.yml` at the top of the repository): a composite action that
//! installs `list-contract` with cargo and runs the check with every report, the key reaching
//! it only through the environment. Its check step also runs here as a runner runs it, against
//! the embedded mock and a local server that drifts.

use list_contract::mock::{Fault, ReferenceMock};

use crate::common::yaml::{Yaml, read_yaml};
use crate::common::{mock_config, root};

fn action() -> Yaml {
    read_yaml(&root().join("action.yml"))
}

fn steps(action: &Yaml) -> &[Yaml] {
    action["runs"]["steps"]
        .as_vec()
        .expect("runs.steps is a list")
}

/// The step whose `run` script contains `text`.
fn step_running<'a>(action: &'a Yaml, text: &str) -> &'a Yaml {
    steps(action)
        .iter()
        .find(|s| s["run"].as_str().is_some_and(|r| r.contains(text)))
        .unwrap_or_else(|| panic!("no step runs `{text}`"))
}

#[test]
fn the_action_is_composite_with_the_documented_inputs_and_outputs() {
    let action = action();
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let inputs = action["inputs"].as_hash().expect("inputs is a mapping");
    let names: Vec<&str> = inputs.keys().filter_map(Yaml::as_str).collect();
    for input in [
        "base-url", "api-key", "auth", "suites", "fail-on", "cases", "schemas", "junit", "json",
        "args",
    ] {
        assert!(names.contains(&input), "no input `{input}`: {names:?}");
        let spec = &action["inputs"][input];
        assert!(
            spec["description"].as_str().is_some_and(|d| !d.is_empty()),
            "input `{input}` has no description"
        );
        assert_eq!(
            spec["required"].as_bool(),
            Some(false),
            "input `{input}` is optional"
        );
    }
    assert_eq!(
        action["inputs"]["junit"]["default"].as_str(),
        Some("list-contract-junit.xml")
    );
    assert_eq!(
        action["inputs"]["json"]["default"].as_str(),
        Some("list-contract-report.json")
    );
    for output in ["exit-code", "verdict", "junit", "json"] {
        let value = action["outputs"][output]["value"].as_str();
        assert_eq!(
            value,
            Some(format!("${{{{ steps.check.outputs.{output} }}}}").as_str()),
            "output `{output}`"
        );
    }
    for step in steps(&action) {
        assert_eq!(
            step["shell"].as_str(),
            Some("bash"),
            "a composite step names its shell: {step:?}"
        );
    }
}

#[test]
fn the_action_installs_with_cargo_and_runs_the_check_with_every_report() {
    let action = action();
    let install = step_running(&action, "cargo install");
    let script = install["run"].as_str().unwrap();
    assert!(
        script.contains("cargo install --locked --path \"$GITHUB_ACTION_PATH\" --root \"$root\""),
        "{script}"
    );
    assert!(
        script.contains("root=\"$RUNNER_TEMP/list-contract\""),
        "{script}"
    );
    assert!(
        script.contains("if [ -x \"$root/bin/list-contract\" ]"),
        "an installed binary is reused: {script}"
    );

    let check = step_running(&action, "list-contract check");
    assert_eq!(check["id"].as_str(), Some("check"));
    let script = check["run"].as_str().unwrap();
    for flag in [
        "--junit \"$LIST_CONTRACT_JUNIT\"",
        "--json \"$LIST_CONTRACT_JSON\"",
        "--markdown \"$GITHUB_STEP_SUMMARY\"",
    ] {
        assert!(script.contains(flag), "no `{flag}` in:\n{script}");
    }
    // The summary is written before the step fails with the check's own exit code.
    let summary = script.find(">> \"$GITHUB_STEP_SUMMARY\"").unwrap();
    let exit = script.rfind("exit \"$code\"").unwrap();
    assert!(summary < exit, "{script}");
    let env = &check["env"];
    for (var, input) in [
        ("CONTRACT_BASE_URL", "base-url"),
        ("CONTRACT_AUTH", "auth"),
        ("CONTRACT_SUITES", "suites"),
        ("CONTRACT_FAIL_ON", "fail-on"),
        ("CONTRACT_CASES_DIR", "cases"),
        ("CONTRACT_SCHEMAS_DIR", "schemas"),
    ] {
        assert_eq!(
            env[var].as_str(),
            Some(format!("${{{{ inputs.{input} }}}}").as_str()),
            "{var}"
        );
    }
}

#[test]
fn inputs_reach_scripts_only_through_the_environment_and_the_key_only_the_checks() {
    let action = action();
    for step in steps(&action) {
        let script = step["run"].as_str().unwrap_or_default();
        assert!(
            !script.contains("${{"),
            "an expression pasted into script text is a script injection: {script}"
        );
        let name = step["name"].as_str().unwrap_or_default();
        let env = step["env"].as_hash();
        let with_key: Vec<&str> = env
            .into_iter()
            .flatten()
            .filter(|(_, v)| v.as_str().is_some_and(|v| v.contains("inputs.api-key")))
            .filter_map(|(k, _)| k.as_str())
            .collect();
        if name == "Check the contract" {
            assert_eq!(with_key, ["CONTRACT_API_KEY"], "{step:?}");
        } else {
            assert!(with_key.is_empty(), "step `{name}` sees the key: {step:?}");
        }
    }
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    assert_eq!(
        text.matches("inputs.api-key").count(),
        1,
        "the key is used once, as CONTRACT_API_KEY"
    );
}

/// What the check step left behind, run as a runner runs it.
struct StepRun {
    code: Option<i32>,
    /// The step's log: what the script printed.
    log: String,
    /// `$GITHUB_OUTPUT`: the step's outputs, `name=value` a line.
    outputs: String,
    /// `$GITHUB_STEP_SUMMARY`: the job summary.
    summary: String,
    /// The workspace the step ran in (where the reports are written).
    workspace: tempfile::TempDir,
}

impl StepRun {
    /// The output `name`, as the runner would read it from `$GITHUB_OUTPUT`.
    fn output(&self, name: &str) -> Option<&str> {
        self.outputs
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
    }
}

/// The value of a step's `env:` entry with every `${{ inputs.NAME }}` replaced as the runner
/// does: by the input `given`, else by its default, else by nothing (an input not given and
/// without a default is an empty string). Any other expression is not something this test
/// knows how to evaluate.
fn evaluate(value: &str, action: &Yaml, given: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .unwrap_or_else(|| panic!("an unclosed expression in `{value}`"))
            + start;
        let expr = rest[start + 3..end].trim();
        let input = expr
            .strip_prefix("inputs.")
            .unwrap_or_else(|| panic!("`{expr}` in `{value}`: only inputs are evaluated here"));
        let spec = &action["inputs"][input];
        assert!(
            !spec.is_badvalue(),
            "`{value}` names no input of the action"
        );
        let default = match &spec["default"] {
            Yaml::String(s) => s.clone(),
            Yaml::Integer(i) => i.to_string(),
            Yaml::Boolean(b) => b.to_string(),
            Yaml::BadValue | Yaml::Null => String::new(),
            other => panic!("input `{input}`: a default of {other:?}"),
        };
        let value = given
            .iter()
            .find(|(name, _)| *name == input)
            .map_or(default, |(_, v)| (*v).to_owned());
        out.push_str(&value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Runs the check step of `action.yml` as a GitHub runner runs a composite action's `bash`
/// step: its `run:` script in a file, under `bash --noprofile --norc -eo pipefail`, in an empty
/// workspace, with the step's `env:` evaluated for the inputs `given` (every other input its
/// default, an empty string when it has none), `$GITHUB_STEP_SUMMARY` and `$GITHUB_OUTPUT` empty
/// files, the built `list-contract` on `PATH` (where the install step puts it), and `job_env`
/// as a workflow's `env:` would set it. No `CONTRACT_*` variable of this process reaches it.
fn run_check_step(given: &[(&str, &str)], job_env: &[(&str, &str)]) -> StepRun {
    let action = action();
    let step = step_running(&action, "list-contract check");
    let script = step["run"].as_str().expect("the check step runs a script");
    let runner = tempfile::tempdir().unwrap();
    let workspace = tempfile::tempdir().unwrap();
    let (script_file, summary, outputs) = (
        runner.path().join("check.sh"),
        runner.path().join("step_summary"),
        runner.path().join("output"),
    );
    std::fs::write(&script_file, script).unwrap();
    std::fs::write(&summary, "").unwrap();
    std::fs::write(&outputs, "").unwrap();

    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_list-contract"));
    let mut path = std::ffi::OsString::from(bin.parent().unwrap());
    if let Some(inherited) = std::env::var_os("PATH") {
        path.push(":");
        path.push(inherited);
    }
    let mut cmd = std::process::Command::new("bash");
    for (var, _) in std::env::vars() {
        if var.starts_with("CONTRACT_")
            || var.starts_with("LIST_CONTRACT_")
            || var.starts_with("GITHUB_")
            || var.to_ascii_lowercase().ends_with("_proxy")
        {
            cmd.env_remove(var);
        }
    }
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
        .arg(&script_file)
        .current_dir(workspace.path())
        .env("PATH", path)
        .env("CI", "true")
        .env("GITHUB_ACTIONS", "true")
        .env("RUNNER_TEMP", runner.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .envs(job_env.iter().copied());
    let env = step["env"].as_hash().expect("the check step has an env");
    for (var, value) in env {
        let var = var.as_str().expect("an env name");
        let value = value
            .as_str()
            .unwrap_or_else(|| panic!("env `{var}`: {value:?}"));
        cmd.env(var, evaluate(value, &action, given));
    }
    let out = cmd.output().expect("bash runs");
    StepRun {
        code: out.status.code(),
        log: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        outputs: std::fs::read_to_string(&outputs).unwrap(),
        summary: std::fs::read_to_string(&summary).unwrap(),
        workspace,
    }
}

#[test]
fn evaluating_the_env_of_a_step_gives_the_input_its_default_or_nothing() {
    let action = action();
    let given = [("base-url", "http://127.0.0.1:9/v1")];
    assert_eq!(
        evaluate("${{ inputs.base-url }}", &action, &given),
        "http://127.0.0.1:9/v1"
    );
    assert_eq!(
        evaluate("${{ inputs.fail-on }}", &action, &given),
        "breaking"
    );
    assert_eq!(evaluate("${{ inputs.cases }}", &action, &given), "");
    assert_eq!(
        evaluate("a ${{inputs.junit}} b", &action, &[]),
        "a list-contract-junit.xml b"
    );
}

/// The step with every input at its default checks the embedded mock: it conforms, and the
/// summary, the outputs and the reports are written.
#[test]
fn the_check_step_with_its_defaults_conforms_against_the_embedded_mock() {
    let run = run_check_step(&[], &[]);
    assert_eq!(run.code, Some(0), "{}\nsummary:\n{}", run.log, run.summary);
    assert_eq!(run.output("exit-code"), Some("0"), "{}", run.outputs);
    assert_eq!(run.output("verdict"), Some("conforms"), "{}", run.outputs);
    assert!(
        run.summary
            .starts_with("## list-contract: conforms (exit 0)"),
        "{}",
        run.summary
    );
    for (output, file) in [
        ("junit", "list-contract-junit.xml"),
        ("json", "list-contract-report.json"),
    ] {
        assert_eq!(run.output(output), Some(file), "{}", run.outputs);
        assert!(run.workspace.path().join(file).is_file(), "no {file}");
    }
}

/// The step pointed at a local server that drifts: the drift exit, `verdict=drift`, and the
/// summary written before the step fails.
#[tokio::test(flavor = "multi_thread")]
async fn the_check_step_reports_drift_against_a_server_that_drifts() {
    let faulty = ReferenceMock::start(mock_config().items(40).fault(Fault::WrongLastId)).await;
    let base = faulty.base_url().to_string();
    let key = faulty.config().key.clone();
    let given = [
        ("base-url", base.as_str()),
        ("api-key", key.as_str()),
        ("suites", "list_batches"),
    ];
    // A workflow's `env:` lifts the live run's pacing, as the other tests of a local server do.
    let job_env = [("CONTRACT_RATE_LIMIT", "0")];
    let run = tokio::task::block_in_place(|| run_check_step(&given, &job_env));
    assert_eq!(
        run.code,
        Some(101),
        "{}\nsummary:\n{}",
        run.log,
        run.summary
    );
    assert_eq!(run.output("exit-code"), Some("101"), "{}", run.outputs);
    assert_eq!(run.output("verdict"), Some("drift"), "{}", run.outputs);
    assert!(
        run.summary
            .starts_with("## list-contract: drift (exit 101)"),
        "{}",
        run.summary
    );
    assert!(!run.summary.contains(&key) && !run.log.contains(&key));
    assert!(
        faulty.request_count().await > 17,
        "the local server was checked"
    );
}
