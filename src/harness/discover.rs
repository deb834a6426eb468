//! Discovery: the cases and schemas a run checks, read from their folders (or the built-in
//! copies), narrowed to the suites asked for, and checked against each other before anything
//! is sent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use super::error::HarnessError;
use crate::case::{Case, load_cases};
use crate::contract::Contract;
use crate::schema::{SchemaError, SchemaSet};
use crate::settings::{Settings, env};

/// The cases of the chosen suites and the schemas, or every error found in both.
pub fn discover(settings: &Settings) -> Result<(Vec<Case>, SchemaSet), Vec<HarnessError>> {
    let schemas = SchemaSet::load(&settings.schemas_dir).map_err(errors);
    let cases = load_cases(&settings.cases_dir)
        .map_err(errors)
        .and_then(|cases| chosen_suites(cases, settings));
    let (schemas, cases) = match (schemas, cases) {
        (Ok(s), Ok(c)) => (s, c),
        (s, c) => {
            let mut all = s.err().unwrap_or_default();
            all.extend(c.err().unwrap_or_default());
            return Err(all);
        }
    };
    check_schema_roles(&cases, &schemas)?;
    Ok((cases, schemas))
}

/// The cases as a run sends them: the known headers of the settings added to their contracts,
/// and `${VAR}` in their files replaced from the environment.
pub fn ready_to_send(
    cases: Vec<Case>,
    settings: &Settings,
) -> Result<Vec<Case>, Vec<HarnessError>> {
    let env_var = |name: &str| std::env::var(name).ok();
    let mut cases = with_known_headers(cases, &settings.known_headers);
    let expanded: Vec<HarnessError> = cases
        .iter_mut()
        .filter_map(|c| c.expand_vars(&env_var).err())
        .map(HarnessError::from)
        .collect();
    if expanded.is_empty() {
        Ok(cases)
    } else {
        Err(expanded)
    }
}

fn errors<E: Into<HarnessError>>(errors: Vec<E>) -> Vec<HarnessError> {
    errors.into_iter().map(Into::into).collect()
}

/// The cases of the suites `--suite` (or `CONTRACT_SUITES`) names, or all of them; a name that
/// is not a suite of the cases folder is an error naming the suites there.
fn chosen_suites(cases: Vec<Case>, settings: &Settings) -> Result<Vec<Case>, Vec<HarnessError>> {
    if settings.suites.is_empty() {
        return Ok(cases);
    }
    let names: BTreeSet<&str> = cases.iter().map(|c| c.suite()).collect();
    let unknown: Vec<HarnessError> = settings
        .suites
        .iter()
        .filter(|s| !names.contains(s.as_str()))
        .map(|s| HarnessError::UnknownSuite {
            from: settings.source(env::SUITES),
            name: s.clone(),
            dir: settings.cases_dir.clone(),
            suites: names.iter().copied().collect::<Vec<_>>().join(", "),
        })
        .collect();
    if !unknown.is_empty() {
        return Err(unknown);
    }
    Ok(cases
        .into_iter()
        .filter(|c| settings.suites.iter().any(|s| s == c.suite()))
        .collect())
}

/// The cases with `known` (`CONTRACT_KNOWN_HEADERS`: names, and prefixes written `x-litellm-*`)
/// added to their contracts' known headers; each contract is copied once.
fn with_known_headers(mut cases: Vec<Case>, known: &[String]) -> Vec<Case> {
    if known.is_empty() {
        return cases;
    }
    let mut extended: BTreeMap<PathBuf, Arc<Contract>> = BTreeMap::new();
    for case in &mut cases {
        let contract = extended
            .entry(case.contract_path.clone())
            .or_insert_with(|| {
                let mut contract = (*case.contract).clone();
                for name in known {
                    match name.strip_suffix('*') {
                        Some(prefix) => contract.known_header_prefixes.push(prefix.to_owned()),
                        None => contract.known_headers.push(name.clone()),
                    }
                }
                Arc::new(contract)
            });
        case.contract = Arc::clone(contract);
    }
    cases
}

/// Every schema a contract names as its list or error schema is in the schemas folder.
fn check_schema_roles(cases: &[Case], schemas: &SchemaSet) -> Result<(), Vec<HarnessError>> {
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    for case in cases {
        if !seen.insert(&case.contract_path) {
            continue;
        }
        let files = &case.contract.schemas;
        for (role, file) in [("list", &files.list), ("error", &files.error)] {
            if !schemas.contains(file) {
                errors.push(HarnessError::Schema(SchemaError::Missing {
                    contract: case.contract_path.clone(),
                    role,
                    file: file.clone(),
                    dir: schemas.dir().to_owned(),
                }));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
