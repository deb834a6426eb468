//! Case files: what one test asks of the endpoint and what must hold, loaded from
//! `cases/<suite>/*.toml` next to the suite's `contract.toml`.
//!
//! [`model`] is what a case file says, [`load`] finds and reads the files (and expands
//! `${VAR}`s), `validate` rejects what a run could not do, naming the file and the key, and
//! [`error`] is what both report.

pub mod error;
pub mod load;
pub mod model;
mod validate;

pub use error::LoadError;
pub use load::{line_column, load_cases, parse_file};
pub use model::{
    AuthMode, BodyKind, CONTRACT_FILE, Case, CaseFile, CaseKind, CrossWalkSpec, FilterWalkSpec,
    Limits, Outcome, QueryValue, RequestSpec, WalkLimit, WalkSpec,
};
