//! Hostile servers and a real key: redirects to another port, to 127.0.0.2 and from https to
//! http; echoes of the key in every encoding in bodies, headers, cursors and redirect URLs;
//! a password in the base URL, a key with a line break, bad numbers, `init` through symlinks,
//! a replay of DELETE and other-origin entries, report paths that cannot be written. Each
//! test asserts the exact exit code and message, and that the canary key appears in no
//! output and no file, whole or as any 8-character piece.

use crate::common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Output;
use std::sync::{Arc, Mutex};

use common::{batches_only_dir, check, list_contract, root, text};
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The key: visible ASCII with the characters encoders change (`+`, `/`, `=`, `"`, `\`, a
/// space), so that each encoding looks different.
const CANARY: &str = "sk-c+an/ary=\"9\\z Q7kw";

/// A `--header` value (masked like the key).
const HEADER_CANARY: &str = "hdr-v4l/ue+x=Y\"q\\8";
/// The value of a variable `CONTRACT_SECRET_VARS` names.
const VAR_CANARY: &str = "org-\"t0k/en+ 42=Zq";

/// Every 8-character piece of each canary, and each canary itself.
fn pieces() -> Vec<String> {
    let mut out = Vec::new();
    for canary in [CANARY, HEADER_CANARY, VAR_CANARY] {
        let chars: Vec<char> = canary.chars().collect();
        out.extend(chars.windows(8).map(|w| w.iter().collect::<String>()));
        out.push(canary.to_owned());
    }
    out
}

/// Panics naming the place where the canary, or a piece of it, shows.
fn assert_no_canary(place: &str, content: &str) {
    for piece in pieces() {
        assert!(
            !content.contains(&piece),
            "{place} shows `{piece}` of the key:\n{content}"
        );
    }
}

/// A run's outputs: the process and every file it was asked to write.
struct Run {
    out: Output,
    files: Vec<(String, String)>,
}

impl Run {
    fn text(&self) -> String {
        text(&self.out)
    }

    fn code(&self) -> Option<i32> {
        self.out.status.code()
    }

    /// The canary is in no output and no file.
    fn assert_clean(&self) {
        assert_no_canary("stdout", &String::from_utf8_lossy(&self.out.stdout));
        assert_no_canary("stderr", &String::from_utf8_lossy(&self.out.stderr));
        for (name, content) in &self.files {
            assert_no_canary(name, content);
        }
    }

    fn file(&self, name: &str) -> &str {
        self.files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.as_str())
            .unwrap_or_else(|| panic!("no {name} was written: {}", self.text()))
    }
}

/// `check` with the key and every report (`--json`, `--junit`, `--markdown`, `--record`)
/// written into a fresh folder, then read back.
fn check_all(env: &[(&str, &str)], args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<(&str, PathBuf)> = [
        ("--json", "report.json"),
        ("--junit", "junit.xml"),
        ("--markdown", "summary.md"),
        ("--record", "run.har"),
    ]
    .into_iter()
    .map(|(flag, name)| (flag, dir.path().join(name)))
    .collect();
    let mut all: Vec<String> = Vec::new();
    for (flag, path) in &paths {
        all.push(format!("{flag}={}", path.display()));
    }
    all.extend(args.iter().map(|a| a.to_string()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let mut env: Vec<(&str, &str)> = env.to_vec();
    env.push(("CONTRACT_API_KEY", CANARY));
    let out = check(&env, &all);
    let files = paths
        .iter()
        .filter_map(|(_, path)| {
            let content = std::fs::read_to_string(path).ok()?;
            Some((path.file_name()?.to_string_lossy().into_owned(), content))
        })
        .collect();
    Run { out, files }
}

/// What a raw server was sent: each request's head.
type Seen = Arc<Mutex<Vec<String>>>;

/// A plain HTTP server on `addr` that answers each request with `answer(head)` and keeps
/// every request head it was sent. Runs on `rt` until the runtime is dropped.
fn raw_server(
    rt: &tokio::runtime::Runtime,
    addr: &str,
    answer: impl Fn(&str) -> String + Send + Sync + 'static,
) -> std::io::Result<(SocketAddr, Seen)> {
    let listener = rt.block_on(tokio::net::TcpListener::bind(addr))?;
    let local = listener.local_addr()?;
    let seen: Seen = Arc::default();
    let kept = Arc::clone(&seen);
    let answer = Arc::new(answer);
    rt.spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let (kept, answer) = (Arc::clone(&kept), Arc::clone(&answer));
            tokio::spawn(async move {
                let Some(head) = read_head(&mut tcp).await else {
                    return;
                };
                kept.lock().unwrap().push(head.clone());
                let _ = tcp.write_all(answer(&head).as_bytes()).await;
                let _ = tcp.shutdown().await;
            });
        }
    });
    Ok((local, seen))
}

async fn read_head<S: AsyncReadExt + Unpin>(stream: &mut S) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// The request target of a request head: `/v1/batches?limit=1`.
fn target_of(head: &str) -> &str {
    head.split_whitespace().nth(1).unwrap_or("/")
}

/// An HTTP/1.1 response.
fn response(status: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut text = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text
}

fn redirect_to(location: &str) -> String {
    response("307 Temporary Redirect", &[("location", location)], "")
}

const EMPTY_PAGE: &str =
    r#"{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}"#;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The other origin of a redirect received nothing at all, and the first server never a
/// second request of the same target (a refused redirect is not retried).
fn assert_not_followed(first: &Seen, other: &Seen) {
    assert!(
        other.lock().unwrap().is_empty(),
        "the other origin was reached: {:?}",
        other.lock().unwrap()
    );
    let first = first.lock().unwrap();
    assert_eq!(first.len(), 1, "one request, not retried: {first:?}");
}

/// What a run that met a refused redirect says: the case's request got no answer.
fn assert_refused(run: &Run, from: &str, to: &str) {
    let all = run.text();
    assert_eq!(run.code(), Some(1), "{all}");
    assert!(
        all.contains(&format!(
            "redirected from {from} to {to}, another origin: not followed, so that the key and the --header values go nowhere but the base URL's origin"
        )),
        "{all}"
    );
    assert!(all.contains("point --base-url at it"), "{all}");
    // Said once as what the run's failures share, not as a server that is down.
    assert!(
        all.contains("diagnosis: every request was redirected and the redirect not followed"),
        "{all}"
    );
    assert!(!all.contains("failed to connect or timed out"), "{all}");
    run.assert_clean();
}

#[test]
fn a_redirect_to_another_port_is_not_followed_and_names_both_urls() {
    let rt = runtime();
    let (other, other_seen) = raw_server(&rt, "127.0.0.1:0", |_| {
        response(
            "200 OK",
            &[("content-type", "application/json")],
            EMPTY_PAGE,
        )
    })
    .unwrap();
    let to = format!("http://{other}/v1/batches?stolen=1");
    let location = to.clone();
    let (first, first_seen) =
        raw_server(&rt, "127.0.0.1:0", move |_| redirect_to(&location)).unwrap();
    let base = format!("http://{first}");
    let run = check_all(
        &[("CONTRACT_BASE_URL", &base)],
        &["--exact", "list_batches::default_page"],
    );
    assert_refused(&run, &format!("{base}/v1/batches"), &to);
    assert_not_followed(&first_seen, &other_seen);
    // The key went to the base URL's origin only, as its header.
    let head = first_seen.lock().unwrap()[0].to_ascii_lowercase();
    assert!(
        head.contains(&format!("x-api-key: {}", CANARY.to_ascii_lowercase())),
        "{head}"
    );
}

#[test]
fn a_redirect_to_another_host_is_not_followed() {
    let rt = runtime();
    let Ok((other, other_seen)) =
        raw_server(&rt, "127.0.0.2:0", |_| response("200 OK", &[], EMPTY_PAGE))
    else {
        eprintln!("skipped: 127.0.0.2 cannot be bound on this machine (no loopback /8)");
        return;
    };
    let to = format!("http://{other}/v1/batches?key={}", urlencode(CANARY));
    let location = to.clone();
    let (first, first_seen) =
        raw_server(&rt, "127.0.0.1:0", move |_| redirect_to(&location)).unwrap();
    let base = format!("http://{first}");
    let run = check_all(
        &[("CONTRACT_BASE_URL", &base)],
        &["--exact", "list_batches::default_page"],
    );
    // The redirect URL carried the key: it is masked where the message names it.
    let masked_to = format!("http://{other}/v1/batches?key=***");
    assert_refused(&run, &format!("{base}/v1/batches"), &masked_to);
    assert_not_followed(&first_seen, &other_seen);
}

/// An HTTPS server with the fixture certificate answering `answer(head)`.
fn tls_server(
    rt: &tokio::runtime::Runtime,
    answer: impl Fn(&str) -> String + Send + Sync + 'static,
) -> (SocketAddr, Seen) {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls;

    let dir = root().join("tests/fixtures/tls");
    let certs = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let local = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let kept = Arc::clone(&seen);
    let answer = Arc::new(answer);
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, kept, answer) =
                (acceptor.clone(), Arc::clone(&kept), Arc::clone(&answer));
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Some(head) = read_head(&mut tls).await else {
                    return;
                };
                kept.lock().unwrap().push(head.clone());
                let _ = tls.write_all(answer(&head).as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (local, seen)
}

#[test]
fn https_to_http_is_never_followed() {
    let rt = runtime();
    let (plain, plain_seen) =
        raw_server(&rt, "127.0.0.1:0", |_| response("200 OK", &[], EMPTY_PAGE)).unwrap();
    // Same host, and the same port as the TLS server would be pointless: a plain listener.
    let to = format!("http://{plain}/v1/batches");
    let location = to.clone();
    let (tls, tls_seen) = tls_server(&rt, move |_| redirect_to(&location));
    let base = format!("https://localhost:{}", tls.port());
    let ca = root().join("tests/fixtures/tls/ca.pem");
    let run = check_all(
        &[
            ("CONTRACT_BASE_URL", &base),
            ("CONTRACT_CA_CERT", ca.to_str().unwrap()),
        ],
        &["--exact", "list_batches::default_page"],
    );
    assert_refused(&run, &format!("{base}/v1/batches"), &to);
    assert_not_followed(&tls_seen, &plain_seen);
}

#[test]
fn a_same_origin_redirect_is_followed_and_the_answering_url_shown() {
    let rt = runtime();
    let (server, seen) = raw_server(&rt, "127.0.0.1:0", |head| {
        let target = target_of(head);
        match target.strip_prefix("/old") {
            Some(rest) => response("308 Permanent Redirect", &[("location", rest)], ""),
            None => response(
                "200 OK",
                &[("content-type", "application/json")],
                EMPTY_PAGE,
            ),
        }
    })
    .unwrap();
    let base = format!("http://{server}/old");
    let run = check_all(
        &[("CONTRACT_BASE_URL", &base)],
        &["--exact", "list_batches::default_page"],
    );
    let all = run.text();
    assert_eq!(run.code(), Some(0), "{all}");
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "the request, then its redirect"
    );
    // The recording says which URL answered.
    let har: serde_json::Value = serde_json::from_str(run.file("run.har")).unwrap();
    let entry = &har["log"]["entries"][0];
    assert_eq!(entry["request"]["url"], format!("{base}/v1/batches"));
    assert_eq!(
        entry["response"]["redirectURL"],
        format!("http://{server}/v1/batches")
    );
    assert_eq!(
        entry["response"]["comment"],
        format!("redirected; answered by http://{server}/v1/batches")
    );
    run.assert_clean();

    // A failure names the URL that answered, beside the one asked.
    let (failing, _) = raw_server(&rt, "127.0.0.1:0", |head| {
        match target_of(head).strip_prefix("/old") {
            Some(rest) => response("302 Found", &[("location", &format!("/moved{rest}"))], ""),
            None => response("500 Internal Server Error", &[], "down"),
        }
    })
    .unwrap();
    let base = format!("http://{failing}/old");
    let run = check_all(
        &[("CONTRACT_BASE_URL", &base)],
        &["--exact", "list_batches::default_page"],
    );
    let all = run.text();
    assert_eq!(run.code(), Some(101), "{all}");
    assert!(
        all.contains(&format!("list_batches::default_page: GET {base}/v1/batches (redirected; answered by http://{failing}/moved/v1/batches)")),
        "{all}"
    );
    run.assert_clean();
}

#[test]
fn redirects_are_bounded() {
    let rt = runtime();
    let (server, seen) = raw_server(&rt, "127.0.0.1:0", |head| {
        let n: u32 = target_of(head)
            .trim_start_matches("/r")
            .split('/')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        redirect_to(&format!("/r{}/v1/batches", n + 1))
    })
    .unwrap();
    let base = format!("http://{server}/r0");
    let run = check_all(
        &[("CONTRACT_BASE_URL", &base)],
        &["--exact", "list_batches::default_page"],
    );
    let all = run.text();
    assert_eq!(run.code(), Some(1), "{all}");
    assert!(all.contains(&format!("redirected more than 5 times (last from http://{server}/r5/v1/batches to http://{server}/r6/v1/batches): not followed")), "{all}");
    assert_eq!(
        seen.lock().unwrap().len(),
        6,
        "the request and 5 redirects, not retried"
    );
    run.assert_clean();
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[test]
fn a_password_in_the_base_url_is_refused_and_never_shown() {
    let out = check(
        &[(
            "CONTRACT_BASE_URL",
            "http://admin:pw-Canary-5150@127.0.0.1:9/",
        )],
        &[],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("error: CONTRACT_BASE_URL: `http://***@127.0.0.1:9/` carries a user or password (`user:password@`): remove it, and put the credential in CONTRACT_API_KEY"), "{all}");
    assert!(
        !all.contains("pw-Canary-5150") && !all.contains("admin"),
        "{all}"
    );
    let out = check(&[], &["--base-url", "http://pw-Canary-5150@127.0.0.1:9/"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out)
            .contains("error: --base-url: `http://***@127.0.0.1:9/` carries a user or password"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("pw-Canary-5150"));
}

#[test]
fn a_key_or_header_that_cannot_be_sent_is_an_error_naming_the_setting() {
    let rt = runtime();
    let (server, seen) =
        raw_server(&rt, "127.0.0.1:0", |_| response("200 OK", &[], EMPTY_PAGE)).unwrap();
    let base = format!("http://{server}");
    for key in [
        format!("{CANARY}\n"),
        format!("sk-line\r\n{CANARY}"),
        format!("{CANARY}\u{e9}"),
    ] {
        let out = check(
            &[("CONTRACT_BASE_URL", &base), ("CONTRACT_API_KEY", &key)],
            &[],
        );
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(all.contains("error: CONTRACT_API_KEY: the key holds a character a header cannot carry (a line break, a control or non-ASCII character) at character"), "{all}");
        assert_no_canary("output", &all);
    }
    let header = format!("X-Org: {CANARY}\u{7}");
    let out = check(
        &[("CONTRACT_BASE_URL", &base), ("CONTRACT_API_KEY", "sk-ok")],
        &["--header", &header],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("error: --header: the value of `x-org` holds a character a header cannot carry (a line break, a control or non-ASCII character) at character 22"), "{all}");
    assert_no_canary("output", &all);
    let out = check(
        &[("CONTRACT_BASE_URL", &base), ("CONTRACT_API_KEY", "sk-ok")],
        &["--header", CANARY],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("error: --header: a header without a `:`"),
        "{}",
        text(&out)
    );
    assert_no_canary("output", &text(&out));
    assert!(seen.lock().unwrap().is_empty(), "nothing was sent");
}

#[test]
fn bad_numbers_are_refused_at_start_with_their_range() {
    for (var, value, range) in [
        (
            "CONTRACT_RATE_LIMIT",
            "1e-300",
            "0 (no cap), or 0.01 to 10000",
        ),
        ("CONTRACT_RATE_LIMIT", "NaN", "0 (no cap), or 0.01 to 10000"),
        (
            "CONTRACT_CONCURRENCY",
            "-3",
            "0 (no cap), or 1 to 1024, whole",
        ),
        ("CONTRACT_REQUEST_TIMEOUT", "1e30", "0.01 to 3600"),
        ("CONTRACT_CASE_TIMEOUT", "inf", "0.01 to 86400"),
        ("CONTRACT_RETRY_BUDGET", "0", "0.01 to 86400"),
        ("CONTRACT_MAX_PAGES", "1e12", "1 to 10000000, whole"),
    ] {
        let out = check(&[(var, value)], &[]);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{var}={value}: {all}");
        assert!(
            all.contains(&format!(
                "error: {var}: `{value}` is out of range: give {range}"
            )),
            "{var}={value}: {all}"
        );
        assert!(!all.contains("panicked"), "{all}");
    }
    let out = check(&[], &["--rate-limit", "1e-300"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("error: --rate-limit: `1e-300` is out of range"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_panicking_case_exits_1_saying_it_is_a_bug() {
    let out = check(
        &[
            ("LIST_CONTRACT_TEST_PANIC", "list_batches::limit_1"),
            ("CONTRACT_API_KEY", CANARY),
        ],
        &["--exact", "list_batches::limit_1"],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("error: 1 case(s) panicked: this is a bug in list-contract: please report it"),
        "{all}"
    );
    assert_no_canary("output", &all);
}

#[test]
fn init_never_writes_through_a_symlink_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside.txt");
    std::fs::write(&outside, "keep me").unwrap();
    let repo = dir.path().join("repo");
    let workflow = repo.join(".github/workflows/list-contract.yml");
    std::fs::create_dir_all(workflow.parent().unwrap()).unwrap();
    let dangling = dir.path().join("not-yet.txt");
    for (target, label) in [
        (&outside, "a link to a file"),
        (&dangling, "a dangling link"),
    ] {
        let _ = std::fs::remove_file(&workflow);
        std::os::unix::fs::symlink(target, &workflow).unwrap();
        let out = list_contract(
            &[],
            &[
                "init",
                repo.join("contract-tests").to_str().unwrap(),
                "--suite",
                "list_batches",
                "--workflow",
                workflow.to_str().unwrap(),
            ],
        );
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{label}: {all}");
        assert!(
            all.contains(&format!(
                "{} (a symlink: nothing is written through one)",
                workflow.display()
            )),
            "{label}: {all}"
        );
        assert!(all.contains("pass --force to overwrite them"), "{all}");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep me");
        assert!(!dangling.exists(), "{label}: written through");
    }
    // --force replaces the link with the file, and still writes nothing through it.
    let out = list_contract(
        &[],
        &[
            "init",
            repo.join("contract-tests").to_str().unwrap(),
            "--suite",
            "list_batches",
            "--workflow",
            workflow.to_str().unwrap(),
            "--force",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !workflow
            .symlink_metadata()
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(!dangling.exists());
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep me");
}

#[test]
fn a_folder_name_cannot_inject_yaml_into_the_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let name = "tests\"\n      evil: \"x";
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_list-contract"))
        .current_dir(dir.path())
        .args(["init", name, "--suite", "list_batches"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let workflow = dir.path().join(".github/workflows/list-contract.yml");
    let yaml = common::yaml::read_yaml(&workflow);
    let with = &yaml["jobs"]["contract"]["steps"][1]["with"];
    assert_eq!(
        with["cases"].as_str(),
        Some(format!("{name}/cases").as_str())
    );
    assert_eq!(
        with["schemas"].as_str(),
        Some(format!("{name}/schemas").as_str())
    );
    assert!(with["evil"].is_badvalue(), "no key was injected: {with:?}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_list-contract"))
        .current_dir(dir.path())
        .args([
            "init",
            "${{ secrets.CONTRACT_API_KEY }}",
            "--suite",
            "list_batches",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("holds `${{`, which GitHub Actions would evaluate in the workflow"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_contract_path_with_a_control_character_or_dot_dot_is_refused() {
    for (path, says) in [
        (
            "/v1/batches\\r\\n",
            "`path` holds a control character ('\\r') at character 12",
        ),
        (
            "/../admin/v1/batches",
            "`path` is `/../admin/v1/batches`, with a `.` or `..` segment, which would leave the base URL's prefix",
        ),
        ("/v1/batches?admin=1", "`path` holds `?` (a query)"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let suite = dir.path().join("list_batches");
        std::fs::create_dir(&suite).unwrap();
        std::fs::copy(
            batches_only_dir().join("list_batches/default_page.toml"),
            suite.join("default_page.toml"),
        )
        .unwrap();
        let contract =
            std::fs::read_to_string(batches_only_dir().join("list_batches/contract.toml")).unwrap();
        let changed = contract.replace("path = \"/v1/batches\"", &format!("path = \"{path}\""));
        assert_ne!(changed, contract, "the contract names its path");
        let file = suite.join("contract.toml");
        std::fs::write(&file, changed).unwrap();
        let out = check(&[("CONTRACT_CASES_DIR", dir.path().to_str().unwrap())], &[]);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(
            all.contains(&format!("error: {}: {says}", file.display())),
            "{all}"
        );
    }
}

/// A HAR of one GET of `base`'s list, plus a DELETE of it and a GET of another origin, each
/// answered with a page holding an item the real answer has not.
fn recording_with_strangers(base: &str) -> String {
    let entry = |method: &str, url: &str, body: &str| {
        serde_json::json!({
            "startedDateTime": "2026-01-01T00:00:00.000Z",
            "time": 1.0,
            "request": {"method": method, "url": url, "httpVersion": "HTTP/1.1", "cookies": [], "headers": [{"name": "x-api-key", "value": "***"}, {"name": "user-agent", "value": "x"}], "queryString": [], "headersSize": -1, "bodySize": -1},
            "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "cookies": [], "headers": [{"name": "content-type", "value": "application/json"}], "content": {"size": body.len(), "mimeType": "application/json", "text": body}, "redirectURL": "", "headersSize": -1, "bodySize": body.len()},
            "cache": {},
            "timings": {"send": 0.0, "wait": 1.0, "receive": 0.0},
            "_list_contract": {"attempt": 1, "sent_at": 1767225600, "cases": [], "pages": []}
        })
    };
    let stranger =
        r#"{"object":"list","data":"not a list","first_id":null,"last_id":null,"has_more":false}"#;
    let url = format!("{base}/v1/batches");
    serde_json::json!({"log": {
        "version": "1.2",
        "creator": {"name": "list-contract", "version": "0"},
        "entries": [
            entry("DELETE", &url, stranger),
            entry("GET", "http://198.51.100.7:8080/v1/batches", stranger),
            entry("GET", &url, EMPTY_PAGE),
        ],
        "_list_contract": {"targets": [{"suite": "list_batches", "base": base}], "reference_mock": false, "auth": null, "no_auth": false}
    }})
    .to_string()
}

#[test]
fn a_replay_uses_only_get_entries_of_the_recorded_origin() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("run.har");
    std::fs::write(&har, recording_with_strangers("http://127.0.0.1:4567")).unwrap();
    let out = check(
        &[
            ("CONTRACT_CASES_DIR", batches_only_dir().to_str().unwrap()),
            ("CONTRACT_API_KEY", CANARY),
        ],
        &[
            "--replay",
            har.to_str().unwrap(),
            "--exact",
            "list_batches::default_page",
        ],
    );
    let all = text(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the GET of the recorded origin answers: {all}"
    );
    assert!(
        all.contains("2 recorded entries ignored: not a GET to the recorded origin"),
        "{all}"
    );
    assert_no_canary("output", &all);
}

#[test]
fn unwritable_report_paths_are_found_before_the_first_request() {
    let rt = runtime();
    let (server, seen) = raw_server(&rt, "127.0.0.1:0", |_| {
        response(
            "200 OK",
            &[("content-type", "application/json")],
            EMPTY_PAGE,
        )
    })
    .unwrap();
    let base = format!("http://{server}");
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/folder/report.json");
    let folder = dir.path().to_path_buf();
    let out = check(
        &[("CONTRACT_BASE_URL", &base), ("CONTRACT_API_KEY", CANARY)],
        &[
            "--json",
            missing.to_str().unwrap(),
            "--junit",
            folder.to_str().unwrap(),
            "--exact",
            "list_batches::default_page",
        ],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains(&format!("error: --junit: cannot write {}: it is a folder (check that its folder exists and is writable, or point the setting elsewhere)", folder.display())), "{all}");
    assert!(
        all.contains(&format!(
            "error: --json: cannot write {}: No such file or directory",
            missing.display()
        )),
        "{all}"
    );
    assert!(seen.lock().unwrap().is_empty(), "no request was sent");
    assert_no_canary("output", &all);
}

#[test]
fn a_report_that_fails_to_write_does_not_stop_the_others() {
    let rt = runtime();
    let (server, _) = raw_server(&rt, "127.0.0.1:0", |_| {
        response(
            "200 OK",
            &[("content-type", "application/json")],
            EMPTY_PAGE,
        )
    })
    .unwrap();
    let base = format!("http://{server}");
    let dir = tempfile::tempdir().unwrap();
    // Writable when checked; its folder is gone by the time the run ends: the server's
    // first answer removes it.
    let doomed_dir = dir.path().join("doomed");
    std::fs::create_dir(&doomed_dir).unwrap();
    let doomed = doomed_dir.join("junit.xml");
    let remove = doomed_dir.clone();
    let (slow, _) = raw_server(&rt, "127.0.0.1:0", move |_| {
        let _ = std::fs::remove_dir_all(&remove);
        response(
            "200 OK",
            &[("content-type", "application/json")],
            EMPTY_PAGE,
        )
    })
    .unwrap();
    drop(base);
    let json = dir.path().join("report.json");
    let md = dir.path().join("summary.md");
    let out = check(
        &[
            ("CONTRACT_BASE_URL", &format!("http://{slow}")),
            ("CONTRACT_API_KEY", CANARY),
        ],
        &[
            "--junit",
            doomed.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--markdown",
            md.to_str().unwrap(),
            "--exact",
            "list_batches::default_page",
        ],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains(&format!(
            "error: --junit: cannot write the JUnit report to {}",
            doomed.display()
        )),
        "{all}"
    );
    assert!(
        json.exists() && md.exists(),
        "the other reports were written: {all}"
    );
    assert!(
        all.contains("note: JSON report written to")
            && all.contains("note: Markdown report written to"),
        "{all}"
    );
}

/// The canary as a server may echo it.
#[derive(Debug, Clone, Copy)]
enum Encoding {
    AsIs,
    /// `+` for a space, uppercase hex.
    Form,
    /// `%20` for a space, lowercase hex, everything but letters and digits encoded.
    PercentLower,
    JsonEscaped,
    Base64,
    Base64UrlUnpadded,
    /// Inside a longer base64 text, after `k` bytes of it.
    Base64Inside(usize),
}

/// `secret` as a server may echo it.
fn encoded_of(secret: &str, e: Encoding) -> String {
    use std::fmt::Write;
    match e {
        Encoding::AsIs => secret.to_owned(),
        Encoding::Form => urlencode(secret),
        Encoding::PercentLower => secret.bytes().fold(String::new(), |mut s, b| {
            if b.is_ascii_alphanumeric() {
                s.push(b as char);
            } else {
                let _ = write!(s, "%{b:02x}");
            }
            s
        }),
        Encoding::JsonEscaped => {
            let quoted = serde_json::to_string(secret).unwrap().replace('/', "\\/");
            quoted[1..quoted.len() - 1].to_owned()
        }
        Encoding::Base64 => base64(secret.as_bytes(), false, true),
        Encoding::Base64UrlUnpadded => base64(secret.as_bytes(), true, false),
        Encoding::Base64Inside(k) => {
            let mut bytes = b"session:".repeat(2)[..k + 3].to_vec();
            bytes.extend_from_slice(secret.as_bytes());
            bytes.extend_from_slice(b";expires=never");
            base64(&bytes, false, true)
        }
    }
}

fn base64(bytes: &[u8], url_safe: bool, pad: bool) -> String {
    let alphabet: &[u8] = if url_safe {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
        if pad {
            out.push_str(&"=".repeat(3 - chunk.len()));
        }
    }
    out
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        Just(Encoding::AsIs),
        Just(Encoding::Form),
        Just(Encoding::PercentLower),
        Just(Encoding::JsonEscaped),
        Just(Encoding::Base64),
        Just(Encoding::Base64UrlUnpadded),
        (0usize..3).prop_map(Encoding::Base64Inside),
    ]
}

/// Where the server puts the echo.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// A 500's body, `filler` bytes in: the status violation's ~200-byte excerpt.
    ErrorBody,
    /// A 200 whose JSON breaks `filler` bytes in, right after the echo: the parse window.
    BrokenJson,
    /// A batch's `status` (a string the schema limits to a few values): the schema
    /// violation's 120-character `actual`.
    SchemaValue,
    /// A response header, and the page's `last_id`: the next page's cursor.
    HeaderAndCursor,
    /// A redirect to another origin whose URL carries it.
    RedirectUrl,
}

fn place() -> impl Strategy<Value = Place> {
    prop_oneof![
        Just(Place::ErrorBody),
        Just(Place::BrokenJson),
        Just(Place::SchemaValue),
        Just(Place::HeaderAndCursor),
        Just(Place::RedirectUrl),
    ]
}

/// The server's answer to every request: the echo at `place`, `filler` bytes in.
fn hostile_answer(place: Place, echo: &str, filler: usize, other: SocketAddr) -> String {
    let pad = "x".repeat(filler);
    let json = ("content-type", "application/json");
    match place {
        Place::ErrorBody => response(
            "500 Internal Server Error",
            &[json],
            &format!("{pad}{echo} and more text after it"),
        ),
        Place::BrokenJson => response(
            "200 OK",
            &[json],
            &format!("{{\"object\":\"list\",\"pad\":\"{pad}\",\"x\":\"{echo}\" broken here}}"),
        ),
        Place::SchemaValue => {
            let item = serde_json::json!({
                "id": "batch_1", "object": "batch", "endpoint": "/v1/chat/completions",
                "status": format!("{pad}{echo}"), "created_at": 1_763_990_200,
            });
            let page = serde_json::json!({"object": "list", "data": [item], "first_id": "batch_1", "last_id": "batch_1", "has_more": false});
            response("200 OK", &[json], &page.to_string())
        }
        Place::HeaderAndCursor => {
            let page = format!(
                "{{\"object\":\"list\",\"data\":[],\"first_id\":null,\"last_id\":\"{pad}{echo}\",\"has_more\":true}}"
            );
            response(
                "200 OK",
                &[json, ("x-echo", &format!("{pad}{echo}"))],
                &page,
            )
        }
        Place::RedirectUrl => redirect_to(&format!("http://{other}/v1/batches?{pad}={echo}")),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// The key, a header value and a secret variable's value, echoed in any encoding at any
    /// offset of bodies of any size, in headers, cursors and redirect URLs, show in no output
    /// and no file.
    #[test]
    fn an_echoed_key_shows_nowhere_in_any_encoding(
        e in encoding(),
        at in place(),
        filler in 0usize..400,
    ) {
        // Every secret is echoed: the key, a --header value, a CONTRACT_SECRET_VARS value.
        let fitted = |secret: &str| {
            let echo = encoded_of(secret, e);
            // A header or URL carries no `"` or `\` as is: those places get an encoding that fits.
            match at {
                Place::HeaderAndCursor | Place::RedirectUrl if echo.contains(['"', '\\', ' ']) => encoded_of(secret, Encoding::Form),
                // Written into JSON text as it is: escaped (SchemaValue's JSON escapes it itself,
                // so an escaped echo there is escaped twice, as a JSON text in a JSON string).
                Place::BrokenJson if echo.contains(['"', '\\']) => encoded_of(secret, Encoding::JsonEscaped),
                _ => echo,
            }
        };
        let echo = [CANARY, HEADER_CANARY, VAR_CANARY].map(fitted).join(".");
        let rt = runtime();
        let (other, other_seen) = raw_server(&rt, "127.0.0.1:0", |_| response("200 OK", &[], EMPTY_PAGE)).unwrap();
        let answer = hostile_answer(at, &echo, filler, other);
        let (server, _) = raw_server(&rt, "127.0.0.1:0", move |_| answer.clone()).unwrap();
        let case = match at {
            Place::HeaderAndCursor => "list_batches::walk_limit_1",
            _ => "list_batches::default_page",
        };
        let run = check_all(
            &[
                ("CONTRACT_BASE_URL", &format!("http://{server}")),
                ("CONTRACT_RETRY_ATTEMPTS", "1"),
                ("CONTRACT_MAX_PAGES", "3"),
                ("CONTRACT_HEADERS", &format!("x-org-key: {HEADER_CANARY}")),
                ("ORG_TOKEN", VAR_CANARY),
                ("CONTRACT_SECRET_VARS", "ORG_TOKEN"),
            ],
            &["--exact", case],
        );
        let all = run.text();
        prop_assert!(matches!(run.code(), Some(1) | Some(101)), "{:?}: {}", run.code(), all);
        // The HAR keeps whole bodies and headers, masked: the echo reached the run (a cut
        // excerpt may show only `**…` of it).
        let har = run.file("run.har");
        let masked = har.matches("***").count();
        prop_assert!(masked >= 2 + 3, "the key and header sent, and the 3 echoes, are masked in the HAR: {}", har);
        prop_assert_eq!(run.files.len(), 4, "every report was written: {}", all);
        run.assert_clean();
        prop_assert!(other_seen.lock().unwrap().is_empty());
    }
}
