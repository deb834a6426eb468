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
