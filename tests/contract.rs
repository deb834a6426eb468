//! The contract suite: one trial per case file in `cases/`, against `CONTRACT_BASE_URL` or,
//! when it is unset, the embedded reference mock.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    list_contract::harness::main_with_root(Path::new(env!("CARGO_MANIFEST_DIR")))
}
