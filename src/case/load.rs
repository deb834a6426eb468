//! The loader: finds the case and contract files below a folder, parses them (naming the file,
//! line and key of a problem), has them validated, and expands `${VAR}`s in requests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::error::LoadError;
use super::model::{CONTRACT_FILE, Case, CaseFile};
use super::validate::{validate_case, validate_contract, validate_with_contract};
use crate::contract::Contract;

impl Case {
    /// Replaces `${NAME}` in the request's header and query values with the value of the
    /// variable `NAME`, so secrets stay out of case files. A variable that is not set is an
    /// error naming the case file and the key.
    pub fn expand_vars(&mut self, var: &dyn Fn(&str) -> Option<String>) -> Result<(), LoadError> {
        let request = &mut self.file.request;
        let values = request
            .headers
            .iter_mut()
            .map(|(k, v)| (format!("request.headers.{k}"), v))
            .chain(
                request
                    .query
                    .iter_mut()
                    .map(|(k, v)| (format!("request.query.{k}"), &mut v.0)),
            );
        for (key, value) in values {
            let expanded = expand(value, var).map_err(|name| LoadError::Invalid {
                path: self.path.clone(),
                message: format!("`{key}` uses ${{{name}}}, which is not set (export {name})"),
            })?;
            // A header value a variable made unsendable would be dropped silently: an error
            // naming the key (the value may be a secret, and is not shown).
            if key.starts_with("request.headers.")
                && let Some(at) = crate::redact::unsendable_at(&expanded)
            {
                return Err(LoadError::Invalid {
                    path: self.path.clone(),
                    message: format!(
                        "`{key}`, its variables expanded, holds a character a header cannot \
                         carry (a line break, a control or non-ASCII character) at character {at}"
                    ),
                });
            }
            *value = expanded;
        }
        Ok(())
    }
}

/// `${NAME}` → the variable's value; `Err(NAME)` for the first variable that is not set.
fn expand(text: &str, var: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start + 2..].find('}') else {
            break;
        };
        let name = &rest[start + 2..start + 2 + len];
        out.push_str(&rest[..start]);
        out.push_str(&var(name).ok_or_else(|| name.to_owned())?);
        rest = &rest[start + 3 + len..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Loads every case below `root`, sorted by name. All problems are returned, not just the first.
pub fn load_cases(root: &Path) -> Result<Vec<Case>, Vec<LoadError>> {
    let mut errors = Vec::new();
    let mut files = Vec::new();
    if let Err(e) = collect_toml_files(root, &mut files) {
        return Err(vec![e]);
    }
    files.sort();

    let mut contracts: BTreeMap<PathBuf, Arc<Contract>> = BTreeMap::new();
    for path in files.iter().filter(|p| is_contract_file(p)) {
        match parse_file::<Contract>(path).and_then(|c| validate_contract(path, c)) {
            Ok(c) => {
                contracts.insert(path.clone(), Arc::new(c));
            }
            Err(e) => errors.push(e),
        }
    }

    let mut cases = Vec::new();
    for path in files.iter().filter(|p| !is_contract_file(p)) {
        let Some(contract_path) = find_contract(root, path, &files) else {
            errors.push(LoadError::NoContract {
                path: path.clone(),
                root: root.to_owned(),
            });
            continue;
        };
        let file = match parse_file::<CaseFile>(path).and_then(|f| validate_case(path, f)) {
            Ok(f) => f,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        // A broken contract file is reported once above; its cases cannot run.
        let Some(contract) = contracts.get(&contract_path) else {
            continue;
        };
        if let Err(e) = validate_with_contract(path, &file, contract) {
            errors.push(e);
            continue;
        }
        cases.push(Case {
            name: case_name(root, path),
            path: path.clone(),
            file,
            contract: Arc::clone(contract),
            contract_path,
        });
    }

    if cases.is_empty() && errors.is_empty() {
        errors.push(LoadError::NoCases {
            dir: root.to_owned(),
        });
    }
    if errors.is_empty() {
        cases.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(cases)
    } else {
        Err(errors)
    }
}

fn is_contract_file(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == CONTRACT_FILE)
}

fn collect_toml_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let files = crate::files::files_below(dir, true).map_err(|source| LoadError::Io {
        path: dir.to_owned(),
        source,
    })?;
    out.extend(
        files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "toml")),
    );
    Ok(())
}

/// The nearest `contract.toml` in the case's folder or above it, inside `root`.
fn find_contract(root: &Path, case: &Path, files: &[PathBuf]) -> Option<PathBuf> {
    let mut dir = case.parent();
    while let Some(d) = dir {
        let candidate = d.join(CONTRACT_FILE);
        if files.contains(&candidate) {
            return Some(candidate);
        }
        if d == root {
            break;
        }
        dir = d.parent();
    }
    None
}

/// `cases/list_batches/limit_1.toml` → `list_batches::limit_1`.
fn case_name(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path).with_extension("");
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("::")
}

/// Parses a TOML file into `T`, reporting the key path and line of the first problem.
pub fn parse_file<T: DeserializeOwned>(path: &Path) -> Result<T, LoadError> {
    let text = crate::files::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_str(path, &text)
}

fn parse_str<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, LoadError> {
    let parse_error = |key: Option<String>, err: &toml::de::Error| {
        let (line, column) = err
            .span()
            .map(|s| line_column(text, s.start))
            .unwrap_or((1, 1));
        LoadError::Parse {
            path: path.to_owned(),
            key,
            line,
            column,
            message: err.message().trim().to_owned(),
        }
    };
    let de = toml::Deserializer::parse(text).map_err(|e| parse_error(None, &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let key = (key != ".").then_some(key);
        parse_error(key, e.inner())
    })
}

/// 1-based line and column of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(crate) fn parse(text: &str) -> Result<CaseFile, LoadError> {
        parse_str(Path::new("cases/s/c.toml"), text)
    }

    #[test]
    fn unknown_key_names_file_key_and_line() {
        let err = parse(
            "description = \"d\"\n[request]\nquery = { limit = 1 }\nauht = \"none\"\n[[accept]]\nstatus = 200\nschema = \"list\"\n",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("cases/s/c.toml:4:1: unknown field `auht`"),
            "{msg}"
        );
        assert!(
            msg.contains("at key `request.auht`") || msg.contains("at key `request`"),
            "{msg}"
        );
    }

    #[test]
    fn wrong_value_type_names_the_key() {
        let err = parse("description = \"d\"\n[[accept]]\nstatus = \"200\"\nschema = \"list\"\n")
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("cases/s/c.toml:3:"), "{msg}");
        assert!(msg.contains("accept[0].status"), "{msg}");
    }

    #[test]
    fn variables_expand_and_missing_ones_are_named() {
        let var = |name: &str| (name == "ORG").then(|| "org-1".to_owned());
        assert_eq!(
            expand("a ${ORG} b ${ORG}", &var),
            Ok("a org-1 b org-1".into())
        );
        assert_eq!(
            expand("no vars, $ and ${ unclosed", &var),
            Ok("no vars, $ and ${ unclosed".into())
        );
        assert_eq!(expand("${NOPE}", &var), Err("NOPE".into()));
    }

    pub(crate) const DESC: &str = "description = \"d\"\n";

    #[test]
    fn a_variable_that_makes_a_header_unsendable_is_an_error_naming_the_key() {
        let file = parse(
            "description = \"d\"\n[request]\nheaders = { \"X-Org\" = \"${ORG}\" }\n[[accept]]\nstatus = 200\nschema = \"list\"\n",
        )
        .unwrap();
        let mut case = Case {
            name: "s::c".into(),
            path: "cases/s/c.toml".into(),
            file,
            contract: std::sync::Arc::new(crate::contract::list_batches()),
            contract_path: "cases/s/contract.toml".into(),
        };
        let e = case
            .clone()
            .expand_vars(&|_| Some("org-canary\n".into()))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "cases/s/c.toml: `request.headers.X-Org`, its variables expanded, holds a character a header cannot carry (a line break, a control or non-ASCII character) at character 11"
        );
        case.expand_vars(&|_| Some("org-ok".into())).unwrap();
        assert_eq!(case.file.request.headers["X-Org"], "org-ok");
    }

    #[test]
    fn line_column_counts_from_one() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
    }
}
