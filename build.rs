//! Compiles the shipped suites into the binary: every `.toml` and `.json` file under `cases/`
//! and `schemas/` becomes an entry of a table that `src/files.rs` includes, so an installed
//! `list-contract` runs its suites in an empty folder (see `files::BUILT_IN_CASES`).

use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut files = Vec::new();
    for dir in ["cases", "schemas"] {
        // A folder here: cargo re-runs this script when anything below it changes.
        println!("cargo:rerun-if-changed={dir}");
        collect(&root, &root.join(dir), &mut files);
    }
    files.sort();
    let mut table = String::from("&[\n");
    for (relative, absolute) in &files {
        table.push_str(&format!(
            "    ({relative:?}, include_str!({absolute:?})),\n"
        ));
    }
    table.push(']');
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    std::fs::write(out.join("built_in.rs"), table).expect("OUT_DIR is writable");
}

/// The suite files below `dir`: their paths relative to `root` (with `/`), and in full.
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a readable folder entry").path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "toml" || e == "json") {
            let relative = path.strip_prefix(root).expect("below the root");
            let relative: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push((relative.join("/"), path.display().to_string()));
        }
    }
}
