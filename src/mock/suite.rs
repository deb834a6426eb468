//! What `list-contract serve` serves: the suite asked for (by name, by contract file, or the
//! built-in one) and the example items its `[mock]` names.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::contract::Contract;

/// What `list-contract serve` serves.
#[derive(Debug, Clone)]
pub struct ServedSuite {
    /// The suite's name (or the contract file), for the startup line.
    pub name: String,
    pub contract: Contract,
    /// The examples its `[mock]` names, read beside its `contract.toml`.
    pub examples: Option<Vec<Value>>,
}

/// The suite `serve` is asked for: `suite` by name (`<cases>/NAME/contract.toml`, where
/// `cases` defaults to `./cases`, else the built-in suites; `serve` passes `--cases` or
/// `$CONTRACT_CASES_DIR`), or
/// `contract_file`, or, with neither, the built-in List Batches suite.
pub fn served_suite(
    suite: Option<&str>,
    contract_file: Option<&Path>,
    cases: Option<&Path>,
) -> Result<ServedSuite, String> {
    let file = match (contract_file, suite) {
        (Some(_), Some(_)) => return Err("serve: give --suite or --contract, not both".into()),
        (Some(file), None) => file.to_owned(),
        (None, suite) => {
            let name = suite.unwrap_or("list_batches");
            let given = cases.map(Path::to_owned);
            // No folder given: `./cases`, then the built-in suites; no suite: the built-in one.
            let folders = match (&given, suite) {
                (Some(dir), _) => vec![dir.clone()],
                (None, Some(_)) => vec!["cases".into(), crate::files::BUILT_IN_CASES.into()],
                (None, None) => vec![crate::files::BUILT_IN_CASES.into()],
            };
            let candidates: Vec<PathBuf> = folders
                .iter()
                .map(|dir| dir.join(name).join(crate::case::CONTRACT_FILE))
                .collect();
            match candidates
                .iter()
                .find(|file| crate::files::read_to_string(file).is_ok())
            {
                Some(file) => file.clone(),
                None => {
                    return Err(format!(
                        "--suite {name}: no {} (a suite is a folder of --cases DIR, $CONTRACT_CASES_DIR or ./cases; `list-contract suites` lists the built-in ones)",
                        candidates[0].display()
                    ));
                }
            }
        }
    };
    let contract: Contract = crate::case::parse_file(&file).map_err(|e| e.to_string())?;
    let examples = load_examples(&file, &contract)?;
    Ok(ServedSuite {
        name: suite.map_or_else(
            || {
                if contract_file.is_some() {
                    file.display().to_string()
                } else {
                    "list_batches".to_owned()
                }
            },
            str::to_owned,
        ),
        contract,
        examples,
    })
}

/// The example items of `contract`'s suite, read from the file `[mock] examples` names beside
/// `contract_path`; `None` when it names none (the List Batches generator serves). The error
/// names the file and says what is wrong with it.
pub fn load_examples(
    contract_path: &Path,
    contract: &Contract,
) -> Result<Option<Vec<Value>>, String> {
    let Some(name) = &contract.mock.examples else {
        return Ok(None);
    };
    let path = contract_path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(name);
    let shown = path.display();
    let text = crate::files::read_to_string(&path).map_err(|e| {
        format!(
            "cannot read the mock's examples {shown}: {e} (named by `[mock] examples` in {})",
            contract_path.display()
        )
    })?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| format!("the mock's examples {shown} are not JSON: {e}"))?;
    let Value::Array(items) = value else {
        return Err(format!(
            "the mock's examples {shown} must hold a non-empty array of objects (found {})",
            kind_of(&value)
        ));
    };
    if items.is_empty() {
        return Err(format!(
            "the mock's examples {shown} must hold a non-empty array of objects (the array is empty)"
        ));
    }
    if let Some((i, item)) = items.iter().enumerate().find(|(_, v)| !v.is_object()) {
        return Err(format!(
            "the mock's examples {shown} must hold a non-empty array of objects (item {i} is {})",
            kind_of(item)
        ));
    }
    Ok(Some(items))
}

/// A JSON value's kind, for messages.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::testing::fixture;

    #[test]
    fn examples_that_cannot_be_used_are_named_with_what_is_wrong() {
        let (contract, _) = fixture("files");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("contract.toml");
        let err = load_examples(&path, &contract).unwrap_err();
        assert!(
            err.contains("cannot read") && err.contains("examples.json"),
            "{err}"
        );
        for (text, says) in [
            ("{", "not JSON"),
            ("{}", "found an object"),
            ("[]", "the array is empty"),
            ("[{}, 3]", "item 1 is a number"),
        ] {
            std::fs::write(dir.path().join("examples.json"), text).unwrap();
            let err = load_examples(&path, &contract).unwrap_err();
            assert!(
                err.contains(says) && err.contains("examples.json"),
                "{text}: {err}"
            );
        }
        let mut none = contract.clone();
        none.mock.examples = None;
        assert_eq!(load_examples(&path, &none), Ok(None));
    }
}
