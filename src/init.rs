//! The built-in suites, listed (`list-contract suites`) and copied out as an editable folder
//! (`list-contract init`), with a GitHub Actions workflow that runs them.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use crate::case::load_cases;
use crate::files::{BUILT_IN_CASES, built_in};

/// Where `init` writes the workflow, from the folder it runs in.
pub const DEFAULT_WORKFLOW: &str = ".github/workflows/list-contract.yml";
/// Where `init` writes the suites unless told otherwise.
pub const DEFAULT_DIR: &str = "contract-tests";

/// The workflow `init` writes; `{cases}`, `{schemas}` and `{suites}` are filled in.
const WORKFLOW: &str = include_str!("init/workflow.yml");

/// A built-in suite, as `list-contract suites` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltInSuite {
    pub name: String,
    /// The contract's one-line description.
    pub description: String,
    /// The endpoint's path (`/v1/batches`).
    pub path: String,
    pub cases: usize,
    /// The schema files the suite uses: its contract's and those they `$ref`.
    pub schemas: Vec<String>,
}

/// The suites built into the binary, by name.
pub fn built_in_suites() -> Vec<BuiltInSuite> {
    let cases = load_cases(Path::new(BUILT_IN_CASES))
        .unwrap_or_else(|e| panic!("the built-in suites load (tests prove it): {e:?}"));
    let mut suites: Vec<BuiltInSuite> = Vec::new();
    for case in &cases {
        match suites.last_mut() {
            Some(suite) if suite.name == case.suite() => suite.cases += 1,
            _ => suites.push(BuiltInSuite {
                name: case.suite().to_owned(),
                description: case.contract.description.clone(),
                path: case.contract.path.clone(),
                cases: 1,
                schemas: schema_closure([
                    &case.contract.schemas.list,
                    &case.contract.schemas.error,
                ]),
            }),
        }
    }
    suites
}

/// The named schema files and every file their `$ref`s reach, sorted.
fn schema_closure<'a>(roots: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut pending: Vec<String> = roots.into_iter().cloned().collect();
    while let Some(file) = pending.pop() {
        if !seen.insert(file.clone()) {
            continue;
        }
        let Some((_, text)) = built_in()
            .iter()
            .find(|(path, _)| path.strip_prefix("schemas/") == Some(file.as_str()))
        else {
            continue;
        };
        let doc: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        pending.extend(
            refs.into_iter()
                .filter_map(|r| r.split('#').next().map(str::to_owned))
                .filter(|r| !r.is_empty() && !r.contains(':')),
        );
    }
    seen.into_iter().collect()
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// What `init` is asked to do.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The folder to write the suites into (`cases/`, `schemas/`).
    pub dir: PathBuf,
    /// The suites to copy; empty: all of them.
    pub suites: Vec<String>,
    /// Overwrite files that exist.
    pub force: bool,
    /// Where to write the GitHub Actions workflow; `None`: write none.
    pub workflow: Option<PathBuf>,
}

/// What `init` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub suites: Vec<String>,
    /// Every file written, in order.
    pub files: Vec<PathBuf>,
    pub workflow: Option<PathBuf>,
}

/// Why `init` wrote nothing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InitError {
    #[error("--suite {name}: no such built-in suite (the built-in suites: {})", known.join(", "))]
    UnknownSuite { name: String, known: Vec<String> },
    #[error("{} file(s) exist and were left alone (pass --force to overwrite them):\n{}", existing.len(), existing.iter().map(|p| format!("  {}{}", p.display(), link_note(p))).collect::<Vec<_>>().join("\n"))]
    Exists { existing: Vec<PathBuf> },
    #[error("{}: {reason}", dir.display())]
    Folder { dir: PathBuf, reason: String },
    #[error("cannot write {}: {message}", path.display())]
    Write { path: PathBuf, message: String },
}

/// Writes an editable copy of the chosen built-in suites (case files, contract, schemas, mock
/// data) into `options.dir`, and the workflow. Nothing is written when a file exists and
/// `force` is not set: the error names every such file.
pub fn init(options: &InitOptions) -> Result<Written, InitError> {
    let all = built_in_suites();
    let known: Vec<String> = all.iter().map(|s| s.name.clone()).collect();
    if let Some(name) = options.suites.iter().find(|n| !known.contains(n)) {
        return Err(InitError::UnknownSuite {
            name: name.clone(),
            known,
        });
    }
    let chosen: Vec<&BuiltInSuite> = all
        .iter()
        .filter(|s| options.suites.is_empty() || options.suites.contains(&s.name))
        .collect();

    let mut plan: Vec<(PathBuf, String)> = Vec::new();
    for suite in &chosen {
        let folder = format!("cases/{}/", suite.name);
        for (path, text) in built_in().iter().filter(|(p, _)| p.starts_with(&folder)) {
            plan.push((options.dir.join(path), (*text).to_owned()));
        }
    }
    let schemas: BTreeSet<&String> = chosen.iter().flat_map(|s| &s.schemas).collect();
    for schema in schemas {
        let path = format!("schemas/{schema}");
        if let Some((_, text)) = built_in().iter().find(|(p, _)| *p == path) {
            plan.push((options.dir.join(path), (*text).to_owned()));
        }
    }
    let workflow = match &options.workflow {
        Some(path) => {
            let names: Vec<&str> = chosen.iter().map(|s| s.name.as_str()).collect();
            Some((path.clone(), workflow_text(&options.dir, &names)?))
        }
        None => None,
    };
    plan.extend(workflow.clone());

    if !options.force {
        // A symlink counts as a file that exists, dangling or not: nothing is written
        // through one.
        let existing: Vec<PathBuf> = plan
            .iter()
            .map(|(path, _)| path.clone())
            .filter(|path| path.symlink_metadata().is_ok())
            .collect();
        if !existing.is_empty() {
            return Err(InitError::Exists { existing });
        }
    }
    for (path, text) in &plan {
        let write = || -> std::io::Result<()> {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            // --force replaces a symlink with the file, never writes through it.
            if path
                .symlink_metadata()
                .is_ok_and(|m| m.file_type().is_symlink())
            {
                std::fs::remove_file(path)?;
            }
            std::fs::write(path, text)
        };
        write().map_err(|e| InitError::Write {
            path: path.clone(),
            message: e.to_string(),
        })?;
    }
    Ok(Written {
        suites: chosen.iter().map(|s| s.name.clone()).collect(),
        files: plan.into_iter().map(|(path, _)| path).collect(),
        workflow: workflow.map(|(path, _)| path),
    })
}

/// The workflow, pointed at the suites in `dir` (as a path from the repository's top, where
/// the workflow runs). Each value is a YAML double-quoted scalar (JSON's escapes are YAML's),
/// so no folder name can end a value or add a key; a `${{` in it, which Actions would
/// evaluate, is refused.
fn workflow_text(dir: &Path, suites: &[&str]) -> Result<String, InitError> {
    let shown = portable(dir);
    if shown.contains("${{") {
        return Err(InitError::Folder {
            dir: dir.to_owned(),
            reason: "holds `${{`, which GitHub Actions would evaluate in the workflow: choose \
                     another folder name"
                .to_owned(),
        });
    }
    let quoted = |text: String| serde_json::Value::String(text).to_string();
    Ok(WORKFLOW
        .replace("{cases}", &quoted(format!("{shown}/cases")))
        .replace("{schemas}", &quoted(format!("{shown}/schemas")))
        .replace("{suites}", &quoted(suites.join(","))))
}

/// ` (a symlink)` after a path that is one.
fn link_note(path: &Path) -> &'static str {
    if path
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        " (a symlink: nothing is written through one)"
    } else {
        ""
    }
}

/// `dir` as the workflow writes it: `/`-separated, without a leading `./`.
fn portable(dir: &Path) -> String {
    let parts: Vec<String> = dir
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.join("/") {
        joined if joined.is_empty() => ".".to_owned(),
        joined => joined.replace("//", "/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::CONTRACT_FILE;

    #[test]
    fn every_shipped_suite_is_built_in_with_its_schemas() {
        let suites = built_in_suites();
        let names: Vec<&str> = suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "anthropic_message_batches",
                "list_batches",
                "openai_files",
                "openai_vector_stores"
            ]
        );
        let batches = &suites[1];
        assert_eq!(batches.path, "/v1/batches");
        assert_eq!(batches.cases, 17);
        // batch-list.json refers to batch.json.
        assert_eq!(
            batches.schemas,
            ["batch-list.json", "batch.json", "error.json"]
        );
        let anthropic = &suites[0];
        assert!(
            anthropic
                .schemas
                .contains(&"anthropic-error.json".to_owned())
        );
        assert!(anthropic.schemas.contains(&"message-batch.json".to_owned()));
    }

    #[test]
    fn workflow_paths_are_from_the_repository_top() {
        assert_eq!(portable(Path::new("./contract-tests")), "contract-tests");
        assert_eq!(portable(Path::new("api/contract")), "api/contract");
        assert_eq!(portable(Path::new(".")), ".");
        let text = workflow_text(Path::new("contract-tests"), &["list_batches"]).unwrap();
        assert!(text.contains("cases: \"contract-tests/cases\""), "{text}");
        assert!(
            text.contains("schemas: \"contract-tests/schemas\""),
            "{text}"
        );
        assert!(text.contains("suites: \"list_batches\""), "{text}");
        for placeholder in ["{cases}", "{schemas}", "{suites}"] {
            assert!(!text.contains(placeholder), "{text}");
        }
    }

    #[test]
    fn a_folder_name_cannot_inject_into_the_workflow() {
        let text = workflow_text(Path::new("a\"\n    evil: x #"), &["list_batches"]).unwrap();
        assert!(
            text.contains(r#"cases: "a\"\n    evil: x #/cases""#),
            "{text}"
        );
        assert!(!text.contains("\n    evil"), "{text}");
        let e = workflow_text(Path::new("${{ secrets.X }}"), &["list_batches"]).unwrap_err();
        assert!(e.to_string().contains("holds `${{`"), "{e}");
    }

    #[test]
    fn init_refuses_unknown_suites_and_existing_files() {
        let tmp = tempfile::tempdir().unwrap();
        let options = InitOptions {
            dir: tmp.path().join("suites"),
            suites: vec!["list_batches".into()],
            force: false,
            workflow: Some(tmp.path().join(DEFAULT_WORKFLOW)),
        };
        let written = init(&options).unwrap();
        assert_eq!(written.suites, ["list_batches"]);
        assert!(
            options
                .dir
                .join("cases/list_batches")
                .join(CONTRACT_FILE)
                .is_file()
        );
        assert!(options.dir.join("schemas/batch.json").is_file());
        assert!(!options.dir.join("schemas/file.json").exists());
        assert!(!options.dir.join("cases/openai_files").exists());
        assert_eq!(written.files.len(), 17 + 1 + 3 + 1);

        // A second run names every file it would overwrite, and writes nothing.
        std::fs::write(
            options.dir.join("cases/list_batches/limit_7.toml"),
            "edited",
        )
        .unwrap();
        let Err(InitError::Exists { existing }) = init(&options) else {
            panic!("a second init must refuse");
        };
        assert_eq!(existing, written.files);
        assert_eq!(
            std::fs::read_to_string(options.dir.join("cases/list_batches/limit_7.toml")).unwrap(),
            "edited"
        );
        // --force overwrites.
        init(&InitOptions {
            force: true,
            ..options.clone()
        })
        .unwrap();
        assert_ne!(
            std::fs::read_to_string(options.dir.join("cases/list_batches/limit_7.toml")).unwrap(),
            "edited"
        );

        let unknown = init(&InitOptions {
            suites: vec!["list_batch".into()],
            ..options
        })
        .unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "--suite list_batch: no such built-in suite (the built-in suites: anthropic_message_batches, list_batches, openai_files, openai_vector_stores)"
        );
    }
}
