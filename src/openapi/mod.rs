//! Suites generated from an OpenAPI document (3.0 or 3.1, JSON or YAML): every GET operation
//! that is a cursor-paginated list becomes a suite in the layout `init` writes, ready to
//! `check`. Pure: the document's text (and an overrides file's) in, files and a report out;
//! `list-contract import` writes them, `check --openapi` serves them from memory.
//!
//! [`spec`] reads the document; [`detect`] finds the lists (an SDK generator's extension, else
//! the parameters and the envelope) with where each value came from; [`schema`] converts
//! schemas to standalone JSON Schema 2020-12; [`suite`] writes the contract, cases and
//! schemas; [`mock_items`] makes the items the suite's mock serves; [`overrides`] reads the
//! overrides file.

pub mod detect;
pub mod mock_items;
pub mod overrides;
pub mod schema;
pub mod spec;
pub mod suite;

use std::collections::BTreeSet;
use std::fmt::Write as _;

pub use overrides::Overrides;
pub use spec::{Spec, SpecError};
pub use suite::SuiteFiles;

use detect::{Detected, Skipped, detect, operations};

/// What an import made.
#[derive(Debug, Clone)]
pub struct Imported {
    pub suites: Vec<SuiteFiles>,
    pub skipped: Vec<Skipped>,
    /// GET operations in the document.
    pub operations: usize,
    pub version: String,
    /// The document's first server URL, when it has one: the paths are relative to it, so a
    /// base URL must carry its path (`https://api.openai.com/v1` → `--base-url …/v1`).
    pub server: Option<String>,
}

impl Imported {
    /// Every file, by its place under the output folder.
    pub fn files(&self) -> impl Iterator<Item = &(String, String)> {
        self.suites.iter().flat_map(|s| s.files.iter())
    }

    /// The import report, as Markdown.
    pub fn report(&self, origin: &str) -> String {
        let mut r = String::new();
        let _ = writeln!(r, "# Import of {origin}\n");
        let _ = writeln!(
            r,
            "OpenAPI {}: {} GET operation(s); {} paginated list(s) imported, {} skipped.\n",
            self.version,
            self.operations,
            self.suites.len(),
            self.skipped.len()
        );
        if let Some(server) = &self.server {
            let _ = writeln!(
                r,
                "Paths are relative to the document's server `{server}`: a base URL carries its path (`--base-url https://staging.example.com{}`).\n",
                url::Url::parse(server)
                    .map(|u| u.path().trim_end_matches('/').to_owned())
                    .unwrap_or_default()
            );
        }
        let _ = writeln!(r, "## Lists\n");
        for s in &self.suites {
            let _ = writeln!(
                r,
                "### `{}`: GET {} (operationId `{}`), {} cases\n",
                s.name, s.path, s.operation_id, s.cases
            );
            for line in &s.provenance {
                let _ = writeln!(r, "- {line}");
            }
            r.push('\n');
        }
        let _ = writeln!(r, "## Skipped GET operations\n");
        let mut reasons: Vec<(&str, usize)> = Vec::new();
        for s in &self.skipped {
            let kind = reason_kind(&s.reason);
            match reasons.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, n)) => *n += 1,
                None => reasons.push((kind, 1)),
            }
        }
        for (kind, n) in &reasons {
            let _ = writeln!(r, "- {n} × {kind}");
        }
        r.push('\n');
        for s in &self.skipped {
            let _ = writeln!(r, "- `{}` GET {}: {}", s.operation_id, s.path, s.reason);
        }
        r
    }

    /// The starter overrides file: a table per imported list with every value the importer
    /// had to guess, commented out, and a table per skipped operation that an override could
    /// bring in.
    pub fn starter_overrides(&self) -> String {
        let mut o = String::from(
            "# Overrides for `list-contract import` / `check --openapi` (--overrides FILE): one table\n\
             # per operation. Every value below was guessed (the spec does not say it): uncomment\n\
             # and correct it. Keys: skip, suite, min_limit, max_limit, default_limit, limit_param,\n\
             # cursor_param, cursor_source (last_item|last_id|token), next_token, backward_param,\n\
             # data, has_more, first_id, last_id, id_field, order_key, order_key_kind, order,\n\
             # auth (bearer|x-api-key|none), headers = { NAME = \"value\" }, no_filters,\n\
             # [[operations.ID.filters]] param/field/values. See docs/suites.md.\n",
        );
        for s in &self.suites {
            let _ = writeln!(o, "\n[operations.{}]", toml_key(&s.operation_id));
            if s.guesses.is_empty() {
                let _ = writeln!(o, "# nothing guessed");
            }
            for (line, why) in &s.guesses {
                let _ = writeln!(o, "# {line}  # guessed: {why}");
            }
        }
        o
    }
}

fn toml_key(k: &str) -> String {
    if k.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_owned()
    } else {
        toml::Value::String(k.to_owned()).to_string()
    }
}

/// A skip reason's kind, for the report's tally.
fn reason_kind(reason: &str) -> &'static str {
    if reason.starts_with("not paginated") {
        "not paginated (one page)"
    } else if reason.starts_with("not a list") {
        "not a list"
    } else if reason.contains("page-number") {
        "page-number paging (not supported yet)"
    } else if reason.contains("offset") {
        "offset paging (not supported yet)"
    } else if reason.contains("Link-header") {
        "Link-header paging (not supported yet)"
    } else if reason.contains("next-link") {
        "next-link URL paging (not supported yet)"
    } else if reason.contains("has_more") {
        "no has_more (not supported yet)"
    } else if reason.contains("query string") {
        "a path with a query string (not supported yet)"
    } else if reason.contains("cannot be converted") {
        "a schema that cannot be converted"
    } else if reason.contains("not chosen") {
        "not chosen (--operation)"
    } else if reason.contains("overrides") {
        "skipped by the overrides file"
    } else {
        "other"
    }
}

/// Why an import could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(
        "{origin}: --operation {id}: no GET operation has that operationId (the document's GET operations: {known})"
    )]
    UnknownOperation {
        origin: String,
        id: String,
        known: String,
    },
    #[error("{origin}: {message}")]
    Overrides { origin: String, message: String },
}

/// Imports the lists of `text` (the document; `origin` names it), with `overrides`; only the
/// operations in `only` when it is not empty.
pub fn import(
    text: &str,
    origin: &str,
    overrides: &Overrides,
    only: &[String],
) -> Result<Imported, ImportError> {
    let spec = Spec::parse(text, origin)?;
    let ops = operations(&spec);
    for id in only {
        if !ops.iter().any(|o| &o.id == id) {
            return Err(ImportError::UnknownOperation {
                origin: origin.to_owned(),
                id: id.clone(),
                known: ops
                    .iter()
                    .map(|o| o.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    let get_paths: BTreeSet<String> = ops.iter().map(|o| o.path.to_owned()).collect();
    let has_get = |p: &str| get_paths.contains(p);
    let mut detected: Vec<Detected> = Vec::new();
    let mut skipped = Vec::new();
    for op in &ops {
        let ov = overrides.of(&op.id);
        let skip = |reason: String| Skipped {
            operation_id: op.id.clone(),
            path: op.path.to_owned(),
            reason,
        };
        if ov.skip {
            skipped.push(skip("skipped by the overrides file".into()));
            continue;
        }
        match detect(&spec, op, &ov, &has_get) {
            Ok(d) => detected.push(d),
            Err(reason) => skipped.push(skip(reason)),
        }
    }
    // Nested lists: the parent list's envelope and id field, when it was detected too.
    let mut suites = Vec::new();
    let mut names = BTreeSet::new();
    let wanted = |d: &Detected| only.is_empty() || only.contains(&d.operation_id);
    for d in &detected {
        if !wanted(d) {
            skipped.push(Skipped {
                operation_id: d.operation_id.clone(),
                path: d.path.clone(),
                reason: "a list, not chosen (--operation)".into(),
            });
            continue;
        }
        let parents: Vec<suite::ParentOf> =
            d.parents
                .iter()
                .map(|p| {
                    let parent = p.list.as_ref().map(|list| {
                        match detected.iter().find(|o| &o.path == list) {
                            Some(o) => {
                                (list.clone(), o.data.value.clone(), o.id_field.value.clone())
                            }
                            None => (list.clone(), "/data".to_owned(), "id".to_owned()),
                        }
                    });
                    (p.name.clone(), parent)
                })
                .collect();
        let base = overrides
            .of(&d.operation_id)
            .suite
            .unwrap_or_else(|| suite::suite_name(&d.operation_id));
        let mut name = base.clone();
        let mut n = 2;
        while !names.insert(name.clone()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        match suite::suite_files(d, &name, &parents) {
            Ok(files) => suites.push(files),
            Err(reason) => {
                names.remove(&name);
                skipped.push(Skipped {
                    operation_id: d.operation_id.clone(),
                    path: d.path.clone(),
                    reason,
                });
            }
        }
    }
    Ok(Imported {
        suites,
        skipped,
        operations: ops.len(),
        server: spec
            .doc
            .pointer("/servers/0/url")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
        version: spec.version,
    })
}
