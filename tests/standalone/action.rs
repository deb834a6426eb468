//! The GitHub Action (`action.yml` at the top of the repository): a composite action that
//! installs `list-contract` with cargo and runs the check with every report, the key reaching
//! it only through the environment.

use crate::common::root;
use crate::common::yaml::{Yaml, read_yaml};

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
