//! What stops a run before or after its cases ([`HarnessError`]): a setting, a case or schema
//! file, the target, a recording or a report. Each names its setting, file or URL; what caused
//! it is its `source`, and a hint is said apart ([`HarnessError::hint`]). Printed with
//! [`HarnessError::render`], at the one edge that prints errors.

use std::path::PathBuf;

use crate::settings::SettingError;

/// Why a run cannot be judged (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// A setting.
    #[error(transparent)]
    Setting(#[from] SettingError),
    /// A case file or contract.
    #[error(transparent)]
    Load(#[from] crate::case::LoadError),
    /// A schema file, or a schema a contract names.
    #[error(transparent)]
    Schema(#[from] crate::schema::SchemaError),
    /// `--suite` names no suite of the cases folder.
    #[error("{from}: no suite `{name}` in {} (its suites: {suites})", dir.display())]
    UnknownSuite {
        from: &'static str,
        name: String,
        dir: PathBuf,
        suites: String,
    },
    /// A suite's example items (what its reference mock serves).
    #[error("{0}")]
    Examples(String),

    /// `--openapi`: the document, its import, or a nested list's path parameter.
    #[error("{0}")]
    Import(String),
    /// A base URL without a key to send to it.
    #[error("{from} is set but {key} is not")]
    NoKey {
        from: &'static str,
        key: &'static str,
        base: String,
        no_auth_hint: &'static str,
    },
    /// The live endpoint cannot even be connected to.
    #[error("cannot reach {from} = {url}")]
    Unreachable {
        from: &'static str,
        url: String,
        #[source]
        source: std::io::Error,
    },
    /// The base URL names no host to connect to.
    #[error("{from}: `{url}` has no host")]
    NoHost { from: &'static str, url: String },
    /// The async runtime.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// The HTTP client (its TLS settings).
    #[error(transparent)]
    Client(#[from] crate::http::ClientError),
    /// The recording a replay answers from.
    #[error("{from}")]
    Replay {
        from: &'static str,
        #[source]
        source: Cause,
    },
    /// A recording that names no target for a suite.
    #[error("{from}: {} names no target", path.display())]
    ReplayNoTarget {
        from: &'static str,
        path: PathBuf,
        record: &'static str,
    },
    /// The recording of the run cannot be written.
    #[error("{from}")]
    Record {
        from: &'static str,
        #[source]
        source: Cause,
    },
    /// A report cannot be written (its message names the file).
    #[error(transparent)]
    Report(Cause),
    /// A report or recording path that cannot be written: found before the first request,
    /// or when the run's end writes it.
    #[error("{from}: cannot write {}: {reason}", path.display())]
    Output {
        from: &'static str,
        path: PathBuf,
        reason: String,
    },
}

impl HarnessError {
    /// What to do about it, if the error alone does not say.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            HarnessError::Setting(e) => return e.hint().map(str::to_owned),
            HarnessError::NoKey {
                base, no_auth_hint, ..
            } => format!(
                "export the API key for {base}, or {no_auth_hint} for a server without auth"
            ),
            HarnessError::Unreachable { .. } => "is the server up and the URL right?".to_owned(),
            HarnessError::ReplayNoTarget { record, .. } => {
                format!("record the run again with {record}")
            }
            HarnessError::Output { .. } => {
                "check that its folder exists and is writable, or point the setting elsewhere"
                    .to_owned()
            }
            _ => return None,
        })
    }

    /// The error, its causes, and its hint in parentheses, on one line.
    pub fn render(&self) -> String {
        let text = crate::error::error_chain(self);
        match self.hint() {
            Some(hint) => format!("{text} ({hint})"),
            None => text,
        }
    }
}

/// A cause reported as text by a module that words its own errors (a report writer, the
/// recording's reader).
#[derive(Debug)]
pub struct Cause(pub String);

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Cause {}

impl From<String> for Cause {
    fn from(text: String) -> Self {
        Cause(text)
    }
}
