//! Where suites are read from: a folder on disk, or the shipped suites compiled into the
//! binary (by `build.rs`), so that an installed `list-contract` runs in an empty folder.
//!
//! A built-in file has a path of its own, `built-in:` before its place in the repository
//! (`built-in:cases/list_batches/contract.toml`): loaders read every path through
//! [`read_to_string`] and [`files_below`], and messages name built-in files as plainly as files
//! on disk.

use std::io;
use std::path::{Path, PathBuf};

/// The built-in suites' case files: the repository's `cases/` folder.
pub const BUILT_IN_CASES: &str = "built-in:cases";
/// The built-in suites' schemas: the repository's `schemas/` folder.
pub const BUILT_IN_SCHEMAS: &str = "built-in:schemas";

const PREFIX: &str = "built-in:";

/// Suites imported in memory (`check --openapi`): their case files and schemas, below
/// `openapi:` (`openapi:cases/list_things/contract.toml`). Nothing is written to disk.
pub const IMPORTED_PREFIX: &str = "openapi:";
/// The imported suites' case files.
pub const IMPORTED_CASES: &str = "openapi:cases";
/// The imported suites' schemas.
pub const IMPORTED_SCHEMAS: &str = "openapi:schemas";

static IMPORTED: std::sync::RwLock<Vec<(String, String)>> = std::sync::RwLock::new(Vec::new());

/// Serves `files` (by their place under the output folder, `cases/…`, `schemas/…`) below
/// [`IMPORTED_PREFIX`], replacing what an earlier import put there.
pub fn set_imported(mut files: Vec<(String, String)>) {
    files.sort();
    *IMPORTED.write().unwrap_or_else(|e| e.into_inner()) = files;
}

/// The place of an imported path (`cases/x`), if it is one.
fn imported_path(path: &Path) -> Option<&str> {
    path.to_str()?.strip_prefix(IMPORTED_PREFIX)
}

/// `(path, text)` of the files of `table` below `dir` (a place in it), as `dir`'s children.
fn listed(table: &[(String, String)], wanted: &str, dir: &Path, recursive: bool) -> Vec<PathBuf> {
    let wanted = format!("{}/", wanted.trim_end_matches('/'));
    table
        .iter()
        .filter_map(|(p, _)| p.strip_prefix(&wanted))
        .filter(|rest| recursive || !rest.contains('/'))
        .map(|rest| dir.join(rest))
        .collect()
}

/// Every suite file of the repository, by its path there (`cases/list_batches/limit_7.toml`).
static BUILT_IN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/built_in.rs"));

/// The built-in files, by their path in the repository, sorted.
pub fn built_in() -> &'static [(&'static str, &'static str)] {
    BUILT_IN
}

/// Whether `path` names a built-in file or folder.
pub fn is_built_in(path: &Path) -> bool {
    path.to_str().is_some_and(|p| p.starts_with(PREFIX))
}

/// The place in the repository of a built-in path (`cases/list_batches`), if it is one.
fn repository_path(path: &Path) -> Option<&str> {
    path.to_str()?.strip_prefix(PREFIX)
}

/// A file's text, built in or on disk.
pub fn read_to_string(path: &Path) -> io::Result<String> {
    if let Some(wanted) = imported_path(path) {
        let table = IMPORTED.read().unwrap_or_else(|e| e.into_inner());
        return table
            .iter()
            .find(|(p, _)| p == wanted)
            .map(|(_, text)| text.clone())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such imported file"));
    }
    match repository_path(path) {
        Some(wanted) => BUILT_IN
            .iter()
            .find(|(p, _)| *p == wanted)
            .map(|(_, text)| (*text).to_owned())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such built-in file")),
        None => std::fs::read_to_string(path),
    }
}

/// Whether `path` is a folder, built in or on disk.
pub fn is_dir(path: &Path) -> bool {
    if let Some(dir) = imported_path(path) {
        let dir = format!("{}/", dir.trim_end_matches('/'));
        let table = IMPORTED.read().unwrap_or_else(|e| e.into_inner());
        return table.iter().any(|(p, _)| p.starts_with(&dir));
    }
    match repository_path(path) {
        Some(dir) => {
            let dir = format!("{}/", dir.trim_end_matches('/'));
            BUILT_IN.iter().any(|(p, _)| p.starts_with(&dir))
        }
        None => path.is_dir(),
    }
}

/// The files in `dir` (and, if `recursive`, in the folders below it), sorted. A folder on disk
/// that cannot be read is an error naming nothing but the cause: the caller names the folder.
pub fn files_below(dir: &Path, recursive: bool) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if let Some(wanted) = imported_path(dir) {
        let table = IMPORTED.read().unwrap_or_else(|e| e.into_inner());
        let mut files = listed(&table, wanted, dir, recursive);
        if files.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "no such imported folder",
            ));
        }
        files.sort();
        return Ok(files);
    }
    match repository_path(dir) {
        Some(wanted) => {
            let wanted = format!("{}/", wanted.trim_end_matches('/'));
            files.extend(
                BUILT_IN
                    .iter()
                    .filter_map(|(p, _)| p.strip_prefix(&wanted))
                    .filter(|rest| recursive || !rest.contains('/'))
                    .map(|rest| dir.join(rest)),
            );
            if files.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    "no such built-in folder",
                ));
            }
        }
        None => {
            let mut ancestors = vec![dir.canonicalize()?];
            collect(dir, recursive, &mut files, &mut ancestors)?;
        }
    }
    files.sort();
    Ok(files)
}

/// The files below `dir`; `ancestors` are the folders walked into to get there, resolved. A
/// folder that resolves to one of them (a symlink `self -> .` or `up -> ..`) is a loop: an
/// error naming it, not a walk without end.
fn collect(
    dir: &Path,
    recursive: bool,
    out: &mut Vec<PathBuf>,
    ancestors: &mut Vec<PathBuf>,
) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if recursive {
                let real = path.canonicalize()?;
                if let Some(above) = ancestors.iter().find(|a| **a == real) {
                    return Err(io::Error::other(format!(
                        "{} is a symlink loop: it leads back to {}, a folder it is in (remove the \
                         link, or point the setting at a folder without it)",
                        path.display(),
                        above.display()
                    )));
                }
                ancestors.push(real);
                collect(&path, recursive, out, ancestors)?;
                ancestors.pop();
            }
        } else {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_files_are_the_repository_suites() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for (path, text) in built_in() {
            assert_eq!(
                std::fs::read_to_string(root.join(path)).unwrap(),
                *text,
                "{path}"
            );
        }
        let built_in_contract = Path::new("built-in:cases/list_batches/contract.toml");
        assert!(is_built_in(built_in_contract));
        assert!(!is_built_in(&root.join("cases")));
        assert_eq!(
            read_to_string(built_in_contract).unwrap(),
            std::fs::read_to_string(root.join("cases/list_batches/contract.toml")).unwrap()
        );
        let missing = read_to_string(Path::new("built-in:cases/nope.toml")).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_loop_is_an_error_naming_it() {
        for target in [".", ".."] {
            let dir = tempfile::tempdir().unwrap();
            let inner = dir.path().join("suite");
            std::fs::create_dir(&inner).unwrap();
            std::fs::write(inner.join("a.toml"), "").unwrap();
            std::os::unix::fs::symlink(target, inner.join("loop")).unwrap();
            let e = files_below(dir.path(), true).unwrap_err();
            let message = e.to_string();
            assert!(
                message.starts_with(&format!(
                    "{} is a symlink loop: it leads back to ",
                    inner.join("loop").display()
                )),
                "{message}"
            );
            // Not walked into, a loop is only a folder among files.
            assert_eq!(files_below(&inner, false).unwrap(), [inner.join("a.toml")]);
        }
    }

    #[test]
    fn built_in_folders_list_like_folders_on_disk() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for (dir, recursive) in [
            ("cases", true),
            ("schemas", false),
            ("cases/openai_files", false),
        ] {
            let on_disk: Vec<PathBuf> = files_below(&root.join(dir), recursive)
                .unwrap()
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "toml" || e == "json"))
                .map(|p| p.strip_prefix(root).unwrap().to_owned())
                .collect();
            let built_in: Vec<PathBuf> =
                files_below(Path::new(&format!("{PREFIX}{dir}")), recursive)
                    .unwrap()
                    .into_iter()
                    .map(|p| PathBuf::from(repository_path(&p).unwrap()))
                    .collect();
            assert_eq!(built_in, on_disk, "{dir}");
        }
        assert!(is_dir(Path::new(BUILT_IN_CASES)));
        assert!(is_dir(Path::new("built-in:cases/list_batches")));
        assert!(!is_dir(Path::new(
            "built-in:cases/list_batches/contract.toml"
        )));
        assert!(files_below(Path::new("built-in:nothing"), true).is_err());
    }
}
