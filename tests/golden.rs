//! Golden output: the whole report of a drifting endpoint, as a user sees it, compared with
//! `tests/fixtures/*.txt`. Re-record after an intended change with
//! `LIST_CONTRACT_BLESS=1 cargo test --test golden`, and review the diff.

mod common;

use std::path::Path;
use std::process::Command;

use common::{batches_only_dir, mock_config, root, schemas_dir};
use list_contract::mock::{Fault, ReferenceMock};

const KEY: &str = "sk-golden-5b1e";

fn assert_golden(name: &str, actual: &str) {
    let path = root().join("tests/fixtures").join(name);
    if std::env::var_os("LIST_CONTRACT_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (record it with LIST_CONTRACT_BLESS=1)",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "output differs from {} (LIST_CONTRACT_BLESS=1 re-records it)\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        );
    }
}

/// Replaces what changes from run to run: the mock's port and the timing.
fn normalize(text: &str, port: u16) -> String {
    let text = text.replace(&format!("127.0.0.1:{port}"), "127.0.0.1:PORT");
    text.lines()
        .map(|l| match l.find("; finished in ") {
            Some(i) => format!("{}; finished in (time)", &l[..i]),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `list-contract check` one case at a time against `mock` and returns what it printed,
/// normalized.
fn check_report(mock: &ReferenceMock) -> String {
    let base = mock.base_url().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_list-contract"))
        .args(["check", "--test-threads", "1", "--cases"])
        .arg(batches_only_dir())
        .arg("--schemas")
        .arg(schemas_dir())
        .env("CONTRACT_BASE_URL", &base)
        .env("CONTRACT_API_KEY", KEY)
        .env("CONTRACT_RATE_LIMIT", "0")
        .env_remove("CONTRACT_AUTH")
        .current_dir(Path::new("/"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(101));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!all.contains(KEY));
    normalize(&all, mock.base_url().port().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_report() {
    let config = mock_config()
        .key(KEY)
        .prefix("/gw")
        .fault(Fault::CreatedAtAsString)
        .fault(Fault::WrongLastId)
        .fault(Fault::AuthNotChecked)
        .fault(Fault::InvalidLimitCrashes);
    let mock = ReferenceMock::start(config).await;
    assert_golden("drift_report.txt", &check_report(&mock));
}

#[tokio::test(flavor = "multi_thread")]
async fn walk_report() {
    // A gap at one boundary past the middle, and a has_more that never turns false.
    let config = mock_config()
        .key(KEY)
        .items(60)
        .fault(Fault::GapOnce)
        .fault(Fault::HasMoreAlwaysTrue);
    let mock = ReferenceMock::start(config).await;
    assert_golden("walk_report.txt", &check_report(&mock));
}
