//! What makes a case folder or file unusable ([`LoadError`]), for the loader and the
//! validation alike: each names the file and says what to do.

use std::path::PathBuf;

use super::model::CONTRACT_FILE;

/// A case folder or file that cannot be used. Each names the file and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {}: {source} (check the path and its permissions)", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}{}", path.display(), key.as_deref().map(|k| format!(" (at key `{k}`)")).unwrap_or_default())]
    Parse {
        path: PathBuf,
        /// The dotted key path, when the error is about a value.
        key: Option<String>,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("{}: no {CONTRACT_FILE} in its folder or any folder above it inside {} (each suite folder needs one)", path.display(), root.display())]
    NoContract { path: PathBuf, root: PathBuf },
    #[error("no case files found in {} (add `<suite>/<case>.toml` files beside a {CONTRACT_FILE}, or point CONTRACT_CASES_DIR / --cases at the right folder)", dir.display())]
    NoCases { dir: PathBuf },
}
