//! What `cargo package` would publish: what the binary needs (its suites and schemas are
//! compiled in from `cases/` and `schemas/`) and the reader's pages, but none of the harness's
//! own test fixtures. `cargo package --list` reads the manifest and the files; it builds
//! nothing.

use std::process::Command;

#[test]
fn the_package_holds_the_sources_suites_schemas_and_readme_and_no_test_fixtures() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(&cargo)
        .args(["package", "--list", "--allow-dirty", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cargo}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cargo package --list failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<&str> = stdout.lines().collect();
    for needed in [
        "cases/list_batches/contract.toml",
        "schemas/batch.json",
        "src/main.rs",
        "README.md",
        "action.yml",
        "docs/settings.md",
        "Cargo.lock",
    ] {
        assert!(
            files.contains(&needed),
            "{needed} is not packaged:\n{stdout}"
        );
    }
    // No test fixture, bench or CI file: the harness's own tests are not the tool.
    for file in &files {
        assert!(
            !file.starts_with("tests/")
                && !file.starts_with("benches/")
                && !file.starts_with(".ci/"),
            "{file} is packaged:\n{stdout}"
        );
    }
}
