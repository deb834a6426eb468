//! Hostile and broken servers, for the verdicts and the bounds: a rate limit longer than the
//! retry budget, a hung request, a server that answers nothing (accepting, or not even
//! that), a redirect loop, a malformed response head, a listing that never ends, a page of
//! 100,000 unknown keys, a recursive schema, symlink loops in the folders. Each asserts the
//! exact exit code and what the run says: 101 only for answers that broke the contract, 1 for
//! a run that could not be judged. The servers are raw TCP on 127.0.0.1, each request on its
//! own connection; waits are shrunk with the settings, so no test takes minutes.

use crate::common;

use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{check, mock_config, text};
use list_contract::mock::ReferenceMock;
use list_contract::mock::dataset;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const KEY: &str = "sk-hostile-bounds-4c1e";

/// What the hostile server does with a request.
enum Act {
    /// Passes it to the reference mock and its answer back.
    Forward,
    /// Sends these bytes, then closes the connection.
    Reply(Vec<u8>),
    /// Never answers.
    Hang,
}

/// Decides what to do with the `n`th request (from 0) for `target` (path and query).
type Handler = Arc<dyn Fn(usize, &str) -> Act + Send + Sync>;

/// A raw HTTP/1.1 server on 127.0.0.1 that answers as its handler says, one request a
/// connection.
struct Hostile {
    base: String,
    hits: Arc<AtomicUsize>,
}

impl Hostile {
    async fn start(upstream: Option<String>, handler: Handler) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (handler, hits, upstream) =
                    (Arc::clone(&handler), Arc::clone(&counter), upstream.clone());
                tokio::spawn(async move { serve(socket, handler, hits, upstream).await });
            }
        });
        Hostile { base, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn serve(
    mut socket: TcpStream,
    handler: Handler,
    hits: Arc<AtomicUsize>,
    upstream: Option<String>,
) {
    let Some(head) = read_head(&mut socket).await else {
        return;
    };
    let target = head.split(' ').nth(1).unwrap_or("/").to_owned();
    let n = hits.fetch_add(1, Ordering::SeqCst);
    let reply = match handler(n, &target) {
        Act::Forward => forward(upstream.as_deref().expect("an upstream"), &head).await,
        Act::Reply(bytes) => bytes,
        Act::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
    };
    let _ = socket.write_all(&reply).await;
    let _ = socket.shutdown().await;
}

async fn read_head(socket: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut byte).await.ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&byte[..n]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// The request sent on to `upstream` (`host:port`) on a connection of its own, and its
/// answer, marked `connection: close`.
async fn forward(upstream: &str, head: &str) -> Vec<u8> {
    let mut out = TcpStream::connect(upstream).await.unwrap();
    let request: String = head
        .trim_end()
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    out.write_all(format!("{request}connection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = Vec::new();
    out.read_to_end(&mut answer).await.unwrap();
    let at = answer.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    answer.splice(at..at, b"connection: close\r\n".iter().copied());
    answer
}

/// A complete response: `status`, the extra `headers`, a JSON body.
fn reply(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// A page of `items` in the contract's envelope.
fn page(items: Vec<Value>, has_more: bool) -> Vec<u8> {
    let id = |i: Option<&Value>| i.map_or(Value::Null, |i| i["id"].clone());
    serde_json::to_vec(&json!({
        "object": "list",
        "first_id": id(items.first()),
        "last_id": id(items.last()),
        "has_more": has_more,
        "data": items,
    }))
    .unwrap()
}

/// The value of `name` in the query of `target`.
fn query<'t>(target: &'t str, name: &str) -> Option<&'t str> {
    target
        .split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

/// The reference mock, and the `host:port` a hostile server forwards to.
async fn upstream() -> (ReferenceMock, String) {
    let mock = ReferenceMock::start(mock_config().key(KEY)).await;
    let url = mock.base_url();
    let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    (mock, host)
}

/// `list-contract check` against `base` with the key, `args` after; the run's output and how
/// long it took.
async fn run(base: &str, args: &[&str]) -> (Output, Duration, String) {
    let env = [("CONTRACT_BASE_URL", base), ("CONTRACT_API_KEY", KEY)];
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        check(&env, &args)
    })
    .await
    .unwrap();
    let all = text(&out);
    assert!(!all.contains(KEY), "{all}");
    (out, started.elapsed(), all)
}

const UNJUDGED: &str = "could not be judged (no usable answer, or a budget hit: see each case above); none broke the contract, so this is not drift: ";

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_after_longer_than_the_budget_is_not_judged_not_drift() {
    let (_mock, host) = upstream().await;
    let server = Hostile::start(
        Some(host),
        Arc::new(|_, target| match target.contains("limit=abc") {
            true => Act::Reply(reply(
                "429 Too Many Requests",
                &[("retry-after", "31")],
                br#"{"error":{"message":"slow down","type":"rate_limit_error"}}"#,
            )),
            false => Act::Forward,
        }),
    )
    .await;
    let (out, _, all) = run(&server.base, &["--retry-budget", "10"]).await;
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("invariant: transport (the server answers the request)"),
        "{all}"
    );
    assert!(
        all.contains("429 Too Many Requests with body {\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit_error\"}} (attempt 1: the server asked to wait 31 s, more than the retry budget had left (CONTRACT_RETRY_BUDGET); not waited: the case could not be judged, which is not drift)"),
        "{all}"
    );
    assert!(
        all.contains(&format!(
            "error: 1 case {UNJUDGED}list_batches::limit_not_integer\n"
        )),
        "{all}"
    );
    assert!(all.contains("16 passed; 1 failed"), "{all}");
    assert!(!all.contains("invariant: status"), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_after_within_the_budget_is_waited_however_long_the_backoff_cap() {
    // The backoff's own cap (`max_delay`, 1 s here) does not cut a wait the server asks
    // for: 2 s fits the 10 s budget, so it is waited and the case passes.
    use list_contract::http::{RequestOptions, RetryPolicy, Target};
    use list_contract::redact::Secret;
    let (mock, host) = upstream().await;
    let server = Hostile::start(
        Some(host),
        Arc::new(|n, _| match n {
            0 => Act::Reply(reply(
                "429 Too Many Requests",
                &[("retry-after", "2")],
                br#"{"error":{"message":"slow down","type":"rate_limit_error"}}"#,
            )),
            _ => Act::Forward,
        }),
    )
    .await;
    let target = Target::new(
        url::Url::parse(&server.base).unwrap(),
        Secret::new(KEY),
        mock.config().auth,
    );
    let options = RequestOptions {
        retry: RetryPolicy {
            max_attempts: 3,
            budget: Duration::from_secs(10),
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(1),
        },
        timeout: Duration::from_secs(10),
    };
    let run = common::run_with(&target, "list_batches::limit_1", &options).await;
    assert!(run.passed(), "{:?}", run.violations);
    assert_eq!(run.retries.len(), 1);
    assert_eq!(run.retries[0].1.waited, Duration::from_secs(2));
    assert_eq!(server.hits(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_hung_request_is_not_judged_not_drift() {
    let (_mock, host) = upstream().await;
    let server = Hostile::start(
        Some(host),
        Arc::new(|_, target| {
            if target.contains("limit=abc") {
                Act::Hang
            } else {
                Act::Forward
            }
        }),
    )
    .await;
    let (out, _, all) = run(&server.base, &["--request-timeout", "2"]).await;
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains(
            "  expected:  a complete response within 2 s\n  actual:    timed out after 2 s on page"
        ),
        "{all}"
    );
    assert!(
        all.contains(&format!(
            "error: 1 case {UNJUDGED}list_batches::limit_not_integer\n"
        )),
        "{all}"
    );
    // One hung request in a healthy run does not stop the run.
    assert!(!all.contains("stopped answering"), "{all}");
    assert!(all.contains("16 passed; 1 failed"), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_accepts_and_never_answers_stops_the_whole_run() {
    let server = Hostile::start(None, Arc::new(|_, _| Act::Hang)).await;
    let (out, took, all) = run(
        &server.base,
        &["--request-timeout", "1", "--connect-timeout", "1"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{all}");
    let base = &server.base;
    assert!(
        all.contains(&format!("error: {base}/v1/batches stopped answering: 2 requests in a row got no answer (the last: timed out after 1 s) and nothing answered for ")),
        "{all}"
    );
    assert!(
        all.contains(&format!("actual:    not sent: the run stopped, {base} had stopped answering (see the error after the summary), on page 1")),
        "{all}"
    );
    assert!(
        all.contains(&format!("error: 17 cases {UNJUDGED}")),
        "{all}"
    );
    // The first round of requests (the live concurrency cap, 4), not one a case.
    assert!(server.hits() <= 4, "{} requests", server.hits());
    assert!(took < Duration::from_secs(30), "{took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listener_that_never_accepts_is_unreachable_within_the_connect_timeout() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    // The one connection its queue holds; a connection after it is never taken.
    let _queued = std::net::TcpStream::connect(addr).unwrap();
    let base = format!("http://{addr}");
    let (out, took, all) = run(&base, &["--connect-timeout", "1"]).await;
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains(&format!("error: cannot reach CONTRACT_BASE_URL = {base}/: no connection within 1 s (is the server up and the URL right?)")),
        "{all}"
    );
    assert!(took < Duration::from_secs(15), "{took:?}");
    drop(listener);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_loop_is_not_retried() {
    let server = Hostile::start(
        None,
        Arc::new(|_, target| {
            let target = target.to_owned();
            Act::Reply(
                format!(
                    "HTTP/1.1 302 Found\r\nlocation: {target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                )
                .into_bytes(),
            )
        }),
    )
    .await;
    let (out, _, all) = run(&server.base, &["--exact", "list_batches::limit_1"]).await;
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("invariant: transport"), "{all}");
    assert!(all.contains("redirect"), "{all}");
    assert!(!all.contains("attempts"), "{all}");
    assert!(all.contains(&format!("error: 1 case {UNJUDGED}")), "{all}");
    // One request and the redirects it followed; not ten attempts of them.
    assert!(server.hits() <= 11, "{} requests", server.hits());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_response_head_is_not_retried() {
    let server = Hostile::start(
        None,
        Arc::new(|_, _| Act::Reply(b"HTTP/1.1 200 OK\r\nthis is no header\r\n\r\n".to_vec())),
    )
    .await;
    let (out, _, all) = run(&server.base, &["--exact", "list_batches::limit_1"]).await;
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("invariant: transport"), "{all}");
    assert!(all.contains("on page 1 (is the server up"), "{all}");
    assert!(all.contains(&format!("error: 1 case {UNJUDGED}")), "{all}");
    assert_eq!(server.hits(), 1);
}

/// A page of `limit` batches with ids never seen before, after `after`, and `has_more: true`:
/// a listing without end.
fn endless(target: &str) -> Act {
    let limit: usize = query(target, "limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(20);
    let start: usize = query(target, "after")
        .and_then(|a| a.strip_prefix("batch_endless_"))
        .and_then(|n| n.parse::<usize>().ok())
        .map_or(0, |n| n + 1);
    let template = dataset::generate(1, list_contract::mock::DEFAULT_SEED).remove(0);
    let items = (start..start + limit)
        .map(|k| {
            let mut item = template.clone();
            item["id"] = json!(format!("batch_endless_{k}"));
            dataset::shift_times(&mut item, -(k as i64));
            item
        })
        .collect();
    Act::Reply(reply("200 OK", &[], &page(items, true)))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listing_that_never_ends_stops_at_its_page_budget_not_judged() {
    let server = Hostile::start(None, Arc::new(|_, target| endless(target))).await;
    let (out, _, all) = run(
        &server.base,
        // One walk alone: at the sampled depth the walk at the maximum, endless too, would
        // spend its own budget first.
        &[
            "--max-pages",
            "30",
            "--depth",
            "full",
            "--exact",
            "list_batches::walk_limit_7",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("  invariant: page_budget (the walk ends within its page budget)\n  at:        /has_more\n  expected:  has_more: false within 30 pages\n  actual:    has_more is still true after 30 pages (210 ids, 210 distinct, last after=batch_endless_209); the walk could not be judged (a listing this long is not proven endless): raise `max_pages` in the case or CONTRACT_MAX_PAGES if the listing really is this long, or set CONTRACT_STOP_AFTER_ITEMS to check its newest items only"), "{all}");
    assert!(all.contains(&format!("error: 1 case {UNJUDGED}")), "{all}");
    assert_eq!(server.hits(), 30);
}

/// A page of 100 batches, the first with 100,000 keys no schema declares, each other with
/// `others` of its own.
fn unknown_keys_page(others: usize) -> Arc<Vec<u8>> {
    let template = dataset::generate(1, list_contract::mock::DEFAULT_SEED).remove(0);
    let items: Vec<Value> = (0..100)
        .map(|i| {
            let mut item = template.clone();
            dataset::shift_times(&mut item, -(i as i64) * 10);
            let object = item.as_object_mut().unwrap();
            for j in 0..if i == 0 { 100_000 } else { others } {
                object.insert(format!("u{i}_{j:06}"), json!(1));
            }
            object.insert("id".into(), json!(format!("batch_{i:03}")));
            item
        })
        .collect();
    Arc::new(reply("200 OK", &[], &page(items, true)))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_of_100k_unknown_keys_is_judged_in_seconds() {
    // limit=100: about 2.5 MB in all, and 199,000 new fields.
    let body = unknown_keys_page(1_000);
    let server = Hostile::start(None, Arc::new(move |_, _| Act::Reply(body.to_vec()))).await;
    let (out, took, all) = run(&server.base, &["--exact", "list_batches::limit_100"]).await;
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("1 passed; 0 failed"), "{all}");
    // Generous for a debug build on a shared machine; before the fix it took minutes.
    assert!(took < Duration::from_secs(45), "{took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_case_timeout_covers_judging() {
    // About 7 MB of unknown keys: seconds of judging in a debug build, far past a 0.2 s
    // limit that no request comes near. The case ends at its limit, not judged.
    let body = unknown_keys_page(4_000);
    let server = Hostile::start(None, Arc::new(move |_, _| Act::Reply(body.to_vec()))).await;
    let (out, _, all) = run(
        &server.base,
        &[
            "--case-timeout",
            "0.2",
            "--exact",
            "list_batches::limit_100",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains(
            "  expected:  the case finishes within 0.2 s\n  actual:    timed out after 0.2 s"
        ),
        "{all}"
    );
    assert!(
        all.contains(&format!(
            "error: 1 case {UNJUDGED}list_batches::limit_100\n"
        )),
        "{all}"
    );
}

/// A copy of the List Batches suite's cases and the schemas in a temporary folder.
fn copy_suites(dir: &Path) {
    let copy = |from: &Path, to: &Path| {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
            }
        }
    };
    copy(
        &common::batches_only_dir().join("list_batches"),
        &dir.join("cases/list_batches"),
    );
    copy(&common::schemas_dir(), &dir.join("schemas"));
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_symlink_loop_in_the_cases_folder_is_named() {
    for (link, to) in [("self", "."), ("up", "..")] {
        let dir = tempfile::tempdir().unwrap();
        copy_suites(dir.path());
        let suite = dir.path().join("cases/list_batches");
        std::os::unix::fs::symlink(to, suite.join(link)).unwrap();
        let cases = dir.path().join("cases");
        let out = check(
            &[("CONTRACT_CASES_DIR", cases.to_str().unwrap())],
            &["--list"],
        );
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{all}");
        let looped = suite.join(link);
        assert!(
            all.contains(&format!(
                "error: cannot read {}: {} is a symlink loop: it leads back to ",
                cases.display(),
                looped.display()
            )),
            "{all}"
        );
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_symlink_loop_in_the_schemas_folder_is_not_walked() {
    // Schemas are read from the folder itself, not below it: the loop is a folder among
    // files, and the run goes on.
    let dir = tempfile::tempdir().unwrap();
    copy_suites(dir.path());
    std::os::unix::fs::symlink(".", dir.path().join("schemas/self")).unwrap();
    let schemas = dir.path().join("schemas");
    let out = check(
        &[("CONTRACT_SCHEMAS_DIR", schemas.to_str().unwrap())],
        &["--exact", "list_batches::limit_1"],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recursive_schema_loads_in_bounded_time_used_or_not() {
    // Four branches that each refer back to the root, and a property that does too: every
    // expansion of it doubles four ways per level unless each node is taken in once.
    let evil = json!({
        "type": "object",
        "properties": {"next": {"$ref": "#"}, "more": {"anyOf": [{"$ref": "#"}, {"$ref": "#"}]}},
        "anyOf": [{"$ref": "#"}, {"$ref": "#"}, {"$ref": "#"}, {"$ref": "#"}],
    });
    for used in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        copy_suites(dir.path());
        let schemas = dir.path().join("schemas");
        std::fs::write(schemas.join("evil.json"), evil.to_string()).unwrap();
        if used {
            // The batch schema takes it in as an optional property.
            let path = schemas.join("batch.json");
            let mut batch: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            batch["properties"]["evil"] = json!({"$ref": "evil.json"});
            std::fs::write(&path, batch.to_string()).unwrap();
        }
        let started = Instant::now();
        let out = check(
            &[("CONTRACT_SCHEMAS_DIR", schemas.to_str().unwrap())],
            &["--exact", "list_batches::limit_100"],
        );
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "used: {used}: {all}");
        let took = started.elapsed();
        assert!(took < Duration::from_secs(20), "used: {used}: {took:?}");
    }
}
