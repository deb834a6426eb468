//! `--openapi`: the run's suites imported from an OpenAPI document in memory, and nested
//! lists' path parameters filled in (given with `--path-param`, or found by walking the parent
//! list) once the target is connected.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::HeaderMap;
use serde_json::Value;

use super::error::HarnessError;
use super::target::Connected;
use crate::case::{AuthMode, Case};
use crate::contract::{Contract, fill_param, pointer};
use crate::openapi::{Overrides, import};
use crate::settings::{Settings, env};

/// The settings with the document's lists as the suites, served from memory: the cases and
/// schemas folders become [`crate::files::IMPORTED_CASES`] and its schemas.
pub fn with_openapi(mut settings: Settings) -> Result<Settings, HarnessError> {
    let Some(spec_path) = settings.openapi.clone() else {
        return Ok(settings);
    };
    let from = settings.source(env::OPENAPI);
    let shown = spec_path.display().to_string();
    let text = std::fs::read_to_string(&spec_path).map_err(|e| {
        HarnessError::Import(format!(
            "{from}: cannot read the OpenAPI document {shown}: {e} (give the path of an OpenAPI 3.0 or 3.1 file, JSON or YAML)"
        ))
    })?;
    let overrides = match &settings.openapi_overrides {
        None => Overrides::default(),
        Some(path) => {
            let origin = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| {
                HarnessError::Import(format!(
                    "{}: cannot read the overrides file {origin}: {e}",
                    settings.source(env::OPENAPI_OVERRIDES)
                ))
            })?;
            Overrides::parse(&text, &origin).map_err(HarnessError::Import)?
        }
    };
    let imported = import(&text, &shown, &overrides, &settings.operations)
        .map_err(|e| HarnessError::Import(format!("{from}: {e}")))?;
    if imported.suites.is_empty() {
        return Err(HarnessError::Import(format!(
            "{from}: {shown} has no cursor-paginated list the importer can check ({} GET operation(s), all skipped; `list-contract import {shown}` writes the report saying why)",
            imported.operations
        )));
    }
    eprintln!(
        "note: imported {} list(s) from {shown} in memory ({} GET operation(s) skipped; `list-contract import` writes them and the report)",
        imported.suites.len(),
        imported.skipped.len()
    );
    crate::files::set_imported(imported.files().cloned().collect());
    settings.cases_dir = crate::files::IMPORTED_CASES.into();
    settings.schemas_dir = crate::files::IMPORTED_SCHEMAS.into();
    Ok(settings)
}

/// The cases with their contracts' path parameters filled in: each from `--path-param`, else
/// from the first item of its parent list's first page.
pub fn fill_path_params(
    cases: Vec<Case>,
    settings: &Settings,
    connected: &Connected,
) -> Result<Vec<Case>, Vec<HarnessError>> {
    let mut filled: BTreeMap<std::path::PathBuf, Arc<Contract>> = BTreeMap::new();
    let mut errors = Vec::new();
    let given: BTreeMap<&str, &str> = settings
        .path_params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for case in &cases {
        if filled.contains_key(&case.contract_path) || case.contract.path_params().is_empty() {
            continue;
        }
        match fill_contract(
            &case.contract,
            &case.contract_path,
            &given,
            settings,
            connected,
        ) {
            Ok(contract) => {
                filled.insert(case.contract_path.clone(), Arc::new(contract));
            }
            Err(e) => {
                errors.push(e);
                filled.insert(case.contract_path.clone(), Arc::clone(&case.contract));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(cases
        .into_iter()
        .map(|mut case| {
            if let Some(contract) = filled.get(&case.contract_path) {
                case.contract = Arc::clone(contract);
            }
            case
        })
        .collect())
}

fn fill_contract(
    contract: &Contract,
    contract_path: &std::path::Path,
    given: &BTreeMap<&str, &str>,
    settings: &Settings,
    connected: &Connected,
) -> Result<Contract, HarnessError> {
    let mut contract = contract.clone();
    let suite = contract_path
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let target = connected.targets.get(contract_path).ok_or_else(|| {
        HarnessError::Import(format!(
            "{suite}: no target for {}",
            contract_path.display()
        ))
    })?;
    let mut values: Vec<(String, String)> = Vec::new();
    for name in contract.path_params() {
        let fill = |path: &str| {
            values
                .iter()
                .fold(path.to_owned(), |p, (k, v)| fill_param(&p, k, v))
        };
        let flag = format!("--path-param (or {})", env::PATH_PARAMS);
        if let Some(v) = given.get(name.as_str()) {
            values.push((name, (*v).to_owned()));
            continue;
        }
        let parent = contract.parents.iter().find(|p| p.param == name);
        let Some((parent, list)) = parent.and_then(|p| Some((p, p.list.clone()?))) else {
            // The embedded mock serves its own parents.
            if settings.base_url.is_none() && connected.replayer.is_none() && parent.is_some() {
                let id = crate::mock::parent_ids(&name).swap_remove(0);
                values.push((name, id));
                continue;
            }
            return Err(HarnessError::Import(format!(
                "{suite}: the path {} needs `{name}`, and no list of the document gives one: give it with {flag} {name}=VALUE",
                contract.path
            )));
        };
        let url = target.endpoint(&fill(&list), &[]);
        let mut headers = HeaderMap::new();
        if let Some((k, v)) = target.auth_header(AuthMode::Valid) {
            headers.insert(k, v);
        }
        for (k, v) in &target.headers {
            headers.insert(k.clone(), v.clone());
        }
        for (k, v) in &contract.headers {
            if let (Ok(k), Ok(v)) = (
                http::HeaderName::from_bytes(k.as_bytes()),
                http::HeaderValue::from_str(v),
            ) {
                headers.insert(k, v);
            }
        }
        let shown = url.to_string();
        let exchange =
            connected
                .runtime
                .block_on(connected.http.get(url, headers, &settings.request));
        let why = match exchange {
            Err(e) => format!("the request failed: {e}"),
            Ok(x) if !x.status.is_success() => format!("it answered {}", x.status),
            Ok(x) => match serde_json::from_slice::<Value>(&x.body) {
                Err(_) => "its body is not JSON".to_owned(),
                Ok(body) => {
                    let first = pointer(&body, &parent.data)
                        .and_then(Value::as_array)
                        .and_then(|items| items.first())
                        .and_then(|item| item.get(&parent.id_field));
                    match first {
                        Some(Value::String(id)) => {
                            values.push((name, id.clone()));
                            continue;
                        }
                        Some(Value::Number(n)) => {
                            values.push((name, n.to_string()));
                            continue;
                        }
                        _ => format!(
                            "its first page has no item with `{}` at {}",
                            parent.id_field, parent.data
                        ),
                    }
                }
            },
        };
        return Err(HarnessError::Import(format!(
            "{suite}: cannot find `{name}` for {}: GET {shown} (its parent list): {why}; give it with {flag} {name}=VALUE",
            contract.path
        )));
    }
    for (k, v) in &values {
        if let Some(problem) = crate::contract::param_value_problem(v) {
            let from = match given.get(k.as_str()) {
                Some(_) => format!("--path-param (or {})", env::PATH_PARAMS),
                None => "the parent list's first item".to_owned(),
            };
            return Err(HarnessError::Import(format!(
                "{suite}: `{k}` from {from} cannot fill {}: {problem}; give another with \
                 --path-param {k}=VALUE",
                contract.path
            )));
        }
        contract.path = fill_param(&contract.path, k, v);
    }
    let from: Vec<String> = values
        .iter()
        .map(|(k, v)| match given.get(k.as_str()) {
            Some(_) => format!("{k} = {v} (given)"),
            None => format!("{k} = {v} (the parent list's first item)"),
        })
        .collect();
    eprintln!(
        "{}",
        settings.redactor().redact(&format!(
            "note: {suite} checks GET {} ({})",
            contract.path,
            from.join(", ")
        ))
    );
    Ok(contract)
}
