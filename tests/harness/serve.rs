//! `list-contract serve`: the reference mock as a standalone server conforms to the contract
//! it serves (the whole suite passes against it), and its flags are checked.

use crate::common;

use common::{check, list_contract, serve, text};

#[test]
fn the_served_mock_passes_the_whole_contract_with_either_auth_style() {
    let (_server, base, _stderr) = serve(&["--items", "40", "--seed", "5", "--key", "sk-serve-1"]);
    let out = check(
        &[("CONTRACT_API_KEY", "sk-serve-1")],
        &["--base-url", &base],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("17 passed; 0 failed"), "{}", text(&out));

    let (_server, base, _stderr) = serve(&["--auth", "bearer", "--key", "sk-serve-2"]);
    let env = [("CONTRACT_API_KEY", "sk-serve-2")];
    let out = check(&env, &["--base-url", &base, "--auth", "bearer"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // The default auth style is the contract's: x-api-key gets a 401 from a bearer server,
    // which judges nothing (exit 1, with the diagnosis).
    let out = check(&env, &["--base-url", &base, "limit_1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("401"), "{}", text(&out));
}

#[test]
fn serve_names_a_bad_flag_and_a_port_in_use() {
    let out = list_contract(&[], &["serve", "--items", "many"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("error: invalid value 'many' for '--items <N>'"),
        "{}",
        text(&out)
    );
    let out = list_contract(&[], &["serve", "--colour"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("error: unexpected argument '--colour' found"),
        "{}",
        text(&out)
    );

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = list_contract(&[], &["serve", "--port", &port]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains(&format!("error: cannot listen on 127.0.0.1:{port}")),
        "{}",
        text(&out)
    );
}

/// The Anthropic suite served as the anthropic Python SDK 2.x talks to it (`Authorization:
/// Bearer KEY`; older SDKs and curl send `x-api-key`): both pass the whole suite, a wrong key
/// in either gets a 401, and `--log-requests` prints each request with its credentials masked.
/// `--auth x-api-key` keeps to the one header.
#[test]
fn the_anthropic_suite_is_served_as_its_sdks_send_and_requests_are_logged_masked() {
    use std::io::Read;
    const KEY: &str = "sk-ant-serve-canary";
    let suite = "anthropic_message_batches";
    let (server, base, mut stderr) = serve(&["--suite", suite, "--key", KEY, "--log-requests"]);
    // Read as it comes: a full pipe would stall the server's writes.
    let reader = std::thread::spawn(move || {
        let mut log = String::new();
        stderr.read_to_string(&mut log).unwrap();
        log
    });
    let cases = common::cases_dir();
    let env = [
        ("CONTRACT_API_KEY", KEY),
        ("CONTRACT_CASES_DIR", cases.to_str().unwrap()),
    ];
    for auth in ["bearer", "x-api-key"] {
        let out = check(
            &env,
            &["--base-url", &base, "--suite", suite, "--auth", auth],
        );
        assert_eq!(out.status.code(), Some(0), "{auth}: {}", text(&out));
    }
    drop(server);
    let log = reader.join().unwrap();
    assert!(!log.contains(KEY), "{log}");
    assert!(
        log.contains(
            "send `x-api-key: KEY` or `Authorization: Bearer KEY` (KEY: the one given with --key)"
        ),
        "{log}"
    );
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("serve: GET /v1/messages/batches"))
        .collect();
    assert!(lines.len() > 20, "{log}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("-> 200;")
                && l.contains("authorization: Bearer *** (the served key)")),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("-> 200;") && l.contains("x-api-key: *** (the served key)")),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("-> 401;") && l.contains("*** (not the served key)")),
        "the wrong_key case: {log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("?limit=") && l.contains("anthropic-version: 2023-06-01")),
        "{log}"
    );

    // Strict: the bearer token is refused; no log without the flag.
    let (server, base, mut stderr) =
        serve(&["--suite", suite, "--key", KEY, "--auth", "x-api-key"]);
    let out = check(
        &env,
        &[
            "--base-url",
            &base,
            "--suite",
            suite,
            "--auth",
            "bearer",
            "default_page",
        ],
    );
    // Every request refused: the contract could not be judged (exit 1), with its diagnosis.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("401"), "{}", text(&out));
    drop(server);
    let mut log = String::new();
    stderr.read_to_string(&mut log).unwrap();
    assert!(!log.contains("serve: GET"), "{log}");
}
