//! A real client against `list-contract serve`: the official OpenAI Python SDK's
//! auto-pagination (`client.batches.list()`) must get every batch once, newest first.
//!
//! Needs `python3` with the `openai` package, which a fresh machine does not have, so the
//! test is marked ignored (with that reason, shown by `cargo test`) and `.ci/run` runs it
//! after installing the SDK in `target/sdk-venv`: `cargo test --test harness sdk:: -- --ignored`.
//! By hand: `python3 -m pip install 'openai>=1.109,<4'`, or point `LIST_CONTRACT_PYTHON` at an
//! interpreter that has it. Run without the SDK, the test fails, saying how to install it.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::Command;

use list_contract::mock::dataset;

const KEY: &str = "sk-sdk-test-2f9c";
const ITEMS: usize = 57;
const SEED: u64 = 11;
const LIMIT: usize = 7;

fn python() -> String {
    std::env::var("LIST_CONTRACT_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

#[test]
#[ignore = "needs python3 with the OpenAI SDK; .ci/run installs it and runs `cargo test --test harness sdk:: -- --ignored`"]
fn the_openai_python_sdk_pages_through_serve_getting_every_batch_once_newest_first() {
    let python = python();
    let probe = Command::new(&python)
        .args(["-c", "import openai; print(openai.__version__)"])
        .output();
    match &probe {
        Ok(out) if out.status.success() => {
            eprintln!("openai {}", String::from_utf8_lossy(&out.stdout).trim());
        }
        _ => panic!(
            "this test needs {python} with the OpenAI SDK: install it with \
             `{python} -m pip install 'openai>=1.109,<4'` (or set LIST_CONTRACT_PYTHON to an \
             interpreter that has it): {}",
            match &probe {
                Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
                Err(e) => e.to_string(),
            }
        ),
    }

    let (items, seed) = (ITEMS.to_string(), SEED.to_string());
    let (server, base, stderr) = common::serve(&[
        "--port", "0", "--auth", "bearer", "--key", KEY, "--items", &items, "--seed", &seed,
    ]);
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let mut banner = String::new();
    BufReader::new(stderr).read_line(&mut banner).unwrap();
    assert!(
        !banner.contains(KEY),
        "serve does not print a key given to it: {banner}"
    );
    assert!(banner.contains("Authorization: Bearer KEY"), "{banner}");

    let script = common::root().join("tests/sdk/list_all.py");
    let mut cmd = Command::new(&python);
    cmd.arg(&script).args([&base, KEY, &LIMIT.to_string()]);
    // Only 127.0.0.1: no proxy of the machine gets in between.
    for (var, _) in std::env::vars() {
        if var.to_ascii_lowercase().ends_with("_proxy") {
            cmd.env_remove(var);
        }
    }
    let out = cmd.output().expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the SDK script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(server);

    let mut listed: Vec<(String, i64)> = Vec::new();
    let (mut auto, mut pages) = (None, None);
    for line in stdout.lines() {
        let mut words = line.split(' ');
        match words.next() {
            Some("auto") => auto = Some(words.skip(1).map(str::to_owned).collect::<Vec<_>>()),
            Some("pages") => pages = words.next().map(|n| n.parse::<usize>().unwrap()),
            Some(id) => listed.push((id.to_owned(), words.next().unwrap().parse().unwrap())),
            None => {}
        }
    }
    let ids: Vec<String> = listed.iter().map(|(id, _)| id.clone()).collect();

    // Every batch of the listing, once, in the server's order: newest first.
    let expected: Vec<String> = dataset::generate(ITEMS, SEED)
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), ITEMS, "{stdout}");
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ITEMS, "a batch came twice: {stdout}");
    assert!(
        listed.windows(2).all(|w| w[0].1 >= w[1].1),
        "not newest first: {stdout}"
    );
    assert_eq!(ids, expected);
    assert_eq!(
        auto.as_ref(),
        Some(&expected),
        "auto-pagination yields the same"
    );
    assert_eq!(pages, Some(ITEMS.div_ceil(LIMIT)), "{stdout}");
}

/// The official Anthropic Python SDK (2.x, which sends its key as `Authorization: Bearer`)
/// pages through `serve --suite anthropic_message_batches` with no `--auth`: every batch once,
/// newest first. `.ci/run` installs the SDK beside OpenAI's.
#[test]
#[ignore = "needs python3 with the Anthropic SDK; .ci/run installs it and runs `cargo test --test harness sdk:: -- --ignored`"]
fn the_anthropic_python_sdk_pages_through_serve_with_no_auth_flag() {
    const ITEMS: usize = 45;
    let python = python();
    let probe = Command::new(&python)
        .args(["-c", "import anthropic; print(anthropic.__version__)"])
        .output();
    match &probe {
        Ok(out) if out.status.success() => {
            eprintln!("anthropic {}", String::from_utf8_lossy(&out.stdout).trim());
        }
        _ => panic!(
            "this test needs {python} with the Anthropic SDK: install it with \
             `{python} -m pip install 'anthropic>=2.17,<3'` (or set LIST_CONTRACT_PYTHON to an \
             interpreter that has it)"
        ),
    }
    let items = ITEMS.to_string();
    let (server, base, _stderr) = common::serve(&[
        "--suite",
        "anthropic_message_batches",
        "--key",
        KEY,
        "--items",
        &items,
    ]);
    let script = common::root().join("tests/sdk/anthropic_list_all.py");
    let mut cmd = Command::new(&python);
    cmd.arg(&script).args([&base, KEY, &LIMIT.to_string()]);
    for (var, _) in std::env::vars() {
        if var.to_ascii_lowercase().ends_with("_proxy") || var.starts_with("ANTHROPIC_") {
            cmd.env_remove(var);
        }
    }
    let out = cmd.output().expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the SDK script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(server);
    let listed: Vec<(&str, i64)> = stdout
        .lines()
        .map(|l| {
            let (id, at) = l.split_once(' ').unwrap();
            (id, at.parse().unwrap())
        })
        .collect();
    assert_eq!(listed.len(), ITEMS, "{stdout}");
    let mut unique: Vec<&str> = listed.iter().map(|(id, _)| *id).collect();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ITEMS, "a batch came twice: {stdout}");
    assert!(
        listed.windows(2).all(|w| w[0].1 >= w[1].1),
        "not newest first: {stdout}"
    );
}
