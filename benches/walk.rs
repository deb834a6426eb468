//! `cargo bench --bench walk`: what a walk costs beyond its requests.
//!
//! A fast local server (this binary, re-run as a child process, so its memory is not
//! counted) serves a listing of 10,000 batches from pre-rendered JSON. For each limit the
//! harness walks it exactly as a `[walk]` case does (`run_case` on the shipped walk case,
//! every check on, schemas included), and a baseline walks the same pages through the same
//! client, parsing each body with serde_json and checking nothing. Runs alternate, best of
//! `--reps`; the table shows wall and CPU time per page, their ratio, and peak memory.
//!
//! Options (after `--`): `--reps N` (default 5), `--items N` (default 10000), `--limits
//! 1,20,100` (each must be the page size of a shipped walk case), `--only harness|baseline`
//! (one side only, for a profiler).
//!
//! Then the latency case: a second server adds `--latency-ms` (default 20; 0 skips the
//! case) to every response, and the whole List Batches suite runs against
//! `--latency-items` batches (default 1000) through a client capped at `--concurrency`
//! requests in flight (default 16; no rate cap), `--threads` cases at a time (default 2, as
//! the test harness on two cores), once in each walk plan. It prints each plan's wall time
//! beside the floor `requests × latency / concurrency` and the chained floor (the longest
//! walk's pages × latency). `--only latency` runs this case alone.
//!
//! Exits non-zero when a harness walk finds a violation or does not walk every item, or when
//! the two plans disagree on a violation or on the requests sent.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use list_contract::case::{AuthMode, Case, CaseKind, load_cases};
use list_contract::contract::{AuthStyle, Contract};
use list_contract::http::{ClientSettings, HttpClient, RequestOptions, Target};
use list_contract::mock::dataset;
use list_contract::redact::Secret;
use list_contract::runner::{RunCache, RunContext, WalkPlan, run_case};
use list_contract::schema::SchemaSet;
use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

/// The first argument that makes this binary the server.
const SERVE: &str = "--serve-listing";
const KEY: &str = "lc-bench-key";
const MIB: f64 = 1024.0 * 1024.0;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(SERVE) {
        let items = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10_000);
        let delay = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(0);
        return match serve(items, Duration::from_millis(delay)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bench server: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match Options::parse(&args).and_then(|o| {
        let table = if o.harness || o.baseline {
            bench(&o)?
        } else {
            true
        };
        let latency = if o.latency_ms > 0 {
            latency_bench(&o)?
        } else {
            true
        };
        Ok(table && latency)
    }) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Options {
    reps: usize,
    items: usize,
    limits: Vec<u64>,
    harness: bool,
    baseline: bool,
    latency_ms: u64,
    latency_items: usize,
    concurrency: usize,
    threads: usize,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options {
            reps: 5,
            items: 10_000,
            limits: vec![1, 20, 100],
            harness: true,
            baseline: true,
            latency_ms: 20,
            latency_items: 1000,
            concurrency: 16,
            threads: 2,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .ok_or_else(|| format!("{arg} needs a value"))
                    .cloned()
            };
            let number = |v: String| v.parse::<usize>().map_err(|e| format!("{arg} {v}: {e}"));
            match arg.as_str() {
                "--reps" => o.reps = number(value()?)?.max(1),
                "--items" => o.items = number(value()?)?,
                "--limits" => {
                    o.limits = value()?
                        .split(',')
                        .map(|n| n.trim().parse().map_err(|e| format!("--limits {n}: {e}")))
                        .collect::<Result<_, _>>()?;
                }
                "--only" => match value()?.as_str() {
                    "harness" => (o.baseline, o.latency_ms) = (false, 0),
                    "baseline" => (o.harness, o.latency_ms) = (false, 0),
                    "latency" => (o.harness, o.baseline) = (false, false),
                    v => {
                        return Err(format!("--only {v}: expected harness, baseline or latency"));
                    }
                },
                "--latency-ms" => o.latency_ms = number(value()?)? as u64,
                "--latency-items" => o.latency_items = number(value()?)?,
                "--concurrency" => o.concurrency = number(value()?)?.max(1),
                "--threads" => o.threads = number(value()?)?.max(1),
                // What `cargo bench` passes to every bench target.
                "--bench" => {}
                _ => return Err(format!("unknown argument {arg}")),
            }
        }
        Ok(o)
    }
}

/// One timed walk.
#[derive(Clone, Copy)]
struct Sample {
    wall: Duration,
    /// CPU time of the whole process (every thread), server excluded.
    cpu: Duration,
    /// Peak resident memory during the walk.
    peak_bytes: u64,
    pages: u64,
    items: u64,
}

fn bench(o: &Options) -> Result<bool, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases = load_cases(&root.join("cases"))
        .map_err(|e| format!("the shipped cases do not load: {} error(s)", e.len()))?;
    let schemas = SchemaSet::load(&root.join("schemas"))
        .map_err(|e| format!("the shipped schemas do not load: {} error(s)", e.len()))?;
    let walks: Vec<(u64, &Case)> = o
        .limits
        .iter()
        .map(|&limit| {
            cases
                .iter()
                // The List Batches suite: the bench server serves batches.
                .filter(|c| c.name.starts_with("list_batches::"))
                .find(|c| matches!(c.file.kind(), CaseKind::Walk(w) if w.limit.page_size(&c.contract) == limit))
                .map(|c| (limit, c))
                .ok_or_else(|| format!("no shipped walk case pages at limit {limit}"))
        })
        .collect::<Result<_, _>>()?;

    let server = Server::start(o.items, 0)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let http = HttpClient::new(&ClientSettings::default()).map_err(|e| e.to_string())?;
    let target = Target::new(server.base.clone(), Secret::new(KEY), AuthStyle::XApiKey);
    let options = RequestOptions::default();
    let can_reset = reset_peak();
    let idle = status_bytes("VmRSS:").unwrap_or(0);

    println!(
        "walk bench: {} items served by a child process on {}; best of {} alternating runs",
        o.items, server.base, o.reps
    );
    println!(
        "peak memory: VmHWM of the bench process (client, runtime and harness; not the server), {}; {:.1} MiB resident before the walks",
        if can_reset {
            "reset before each walk through /proc/self/clear_refs"
        } else {
            "NOT reset between walks (/proc/self/clear_refs is not writable): the peak of the run so far"
        },
        idle as f64 / MIB
    );
    println!();
    println!(
        "{:>5} {:>6} {:>6} | {:>9} {:>9} | {:>9} {:>9} {:>6} | {:>9} {:>9} {:>6} | {:>9} {:>9}",
        "limit",
        "pages",
        "items",
        "harness",
        "baseline",
        "h/page",
        "b/page",
        "ratio",
        "h cpu/pg",
        "b cpu/pg",
        "ratio",
        "h peak",
        "b peak"
    );

    let mut ok = true;
    let mut verdicts = Vec::new();
    for (limit, case) in walks {
        let (mut best_h, mut best_b): (Option<Sample>, Option<Sample>) = (None, None);
        for rep in 0..o.reps {
            // Alternate which side goes first, so neither always finds a warm server.
            for harness_side in [rep % 2 == 0, rep % 2 != 0] {
                if harness_side {
                    if !o.harness {
                        continue;
                    }
                    let cache = RunCache::default();
                    // The listing is walked to its end however long it is.
                    let ctx = RunContext {
                        walk_bounds: list_contract::check::walk::WalkBounds {
                            max_pages: u32::MAX,
                            stop_after_items: None,
                        },
                        ..RunContext::new(&target, &http, &schemas, &options, &cache)
                    };
                    let (sample, run) = measure(&runtime, async { run_case(case, &ctx).await });
                    let sample = Sample {
                        pages: u64::from(run.pages),
                        items: run.items,
                        ..sample
                    };
                    if !run.violations.is_empty() || run.items != o.items as u64 {
                        ok = false;
                        eprintln!(
                            "FAILED: {} walked {} of {} items with {} violation(s)",
                            case.name,
                            run.items,
                            o.items,
                            run.violations.len()
                        );
                        for v in run.violations.iter().take(5) {
                            eprintln!("  {}: {} {}", v.invariant.name(), v.pointer, v.actual);
                        }
                    }
                    best_h = Some(best(best_h, sample));
                } else {
                    if !o.baseline {
                        continue;
                    }
                    let (sample, walked) = measure(
                        &runtime,
                        baseline(&http, &target, &case.contract, case, &options),
                    );
                    let (pages, items) = walked?;
                    let sample = Sample {
                        pages,
                        items,
                        ..sample
                    };
                    best_b = Some(best(best_b, sample));
                }
            }
        }
        let per_page = |s: Option<Sample>, f: fn(&Sample) -> Duration| {
            s.map(|s| f(&s).as_secs_f64() / s.pages.max(1) as f64)
        };
        let (h, b) = (best_h, best_b);
        let any = h.or(b).expect("at least one side runs");
        let ratio = |x: Option<f64>, y: Option<f64>| x.zip(y).map(|(x, y)| x / y);
        let wall_ratio = ratio(per_page(h, |s| s.wall), per_page(b, |s| s.wall));
        let cpu_ratio = ratio(per_page(h, |s| s.cpu), per_page(b, |s| s.cpu));
        println!(
            "{:>5} {:>6} {:>6} | {:>9} {:>9} | {:>9} {:>9} {:>6} | {:>9} {:>9} {:>6} | {:>9} {:>9}",
            limit,
            any.pages,
            any.items,
            show(h.map(|s| s.wall.as_secs_f64()), secs),
            show(b.map(|s| s.wall.as_secs_f64()), secs),
            show(per_page(h, |s| s.wall), micros),
            show(per_page(b, |s| s.wall), micros),
            show(wall_ratio, |r| format!("{r:.2}")),
            show(per_page(h, |s| s.cpu), micros),
            show(per_page(b, |s| s.cpu), micros),
            show(cpu_ratio, |r| format!("{r:.2}")),
            show(h.map(|s| s.peak_bytes as f64 / MIB), |m| format!(
                "{m:.1} MiB"
            )),
            show(b.map(|s| s.peak_bytes as f64 / MIB), |m| format!(
                "{m:.1} MiB"
            )),
        );
        let target_ratio = match limit {
            1 => Some(1.2),
            100 => Some(1.3),
            _ => None,
        };
        if let (Some(t), Some(r)) = (target_ratio, wall_ratio) {
            verdicts.push(format!(
                "limit={limit}: wall ratio {r:.2} (target <= {t}): {}",
                if r <= t { "met" } else { "MISSED" }
            ));
        }
        if let Some(h) = h {
            let peak = h.peak_bytes as f64 / MIB;
            verdicts.push(format!(
                "limit={limit}: harness peak {peak:.1} MiB (target <= 40 MiB): {}",
                if peak <= 40.0 { "met" } else { "MISSED" }
            ));
        }
    }
    println!();
    for v in verdicts {
        println!("{v}");
    }
    if o.harness {
        println!(
            "harness walks: {}",
            if ok {
                "every item walked, no violation"
            } else {
                "FAILED (see above)"
            }
        );
    }
    Ok(ok)
}

/// One run of the whole List Batches suite under a walk plan.
struct SuiteRun {
    wall: Duration,
    requests: u32,
    /// Pages of the longest walk, end probe included: the chained plan's floor in round trips.
    longest_walk: u32,
    /// Pages of the walk at the largest limit: the parallel plan's learning walk.
    learning_walk: u32,
    /// Every violation, placed: what the two plans must agree on.
    verdicts: Vec<String>,
    failed: Vec<String>,
}

/// The latency case: the whole List Batches suite against a server `o.latency_ms` away, in
/// both walk plans.
fn latency_bench(o: &Options) -> Result<bool, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases: Vec<Case> = load_cases(&root.join("cases"))
        .map_err(|e| format!("the shipped cases do not load: {} error(s)", e.len()))?
        .into_iter()
        .filter(|c| c.name.starts_with("list_batches::") && c.file.skip.is_none())
        .collect();
    let schemas = SchemaSet::load(&root.join("schemas"))
        .map_err(|e| format!("the shipped schemas do not load: {} error(s)", e.len()))?;
    let server = Server::start(o.latency_items, o.latency_ms)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let http = HttpClient::new(&ClientSettings {
        concurrency: Some(o.concurrency),
        ..ClientSettings::default()
    })
    .map_err(|e| e.to_string())?;
    let target = Target::new(server.base.clone(), Secret::new(KEY), AuthStyle::XApiKey);
    let options = RequestOptions::default();
    let latency = Duration::from_millis(o.latency_ms);
    println!();
    println!(
        "latency bench: the List Batches suite ({} cases, {} at a time) against {} batches, {} ms added to every response, at most {} requests in flight, no rate cap",
        cases.len(),
        o.threads,
        o.latency_items,
        o.latency_ms,
        o.concurrency
    );
    let run = |plan: WalkPlan| -> SuiteRun {
        let cache = RunCache::default();
        let ctx = RunContext {
            walk_plan: plan,
            ..RunContext::new(&target, &http, &schemas, &options, &cache)
        };
        let start = Instant::now();
        let runs: Vec<(&Case, list_contract::runner::CaseRun)> = runtime.block_on(
            futures_util::stream::iter(&cases)
                .map(|case| {
                    let ctx = &ctx;
                    async move { (case, run_case(case, ctx).await) }
                })
                .buffer_unordered(o.threads)
                .collect(),
        );
        let wall = start.elapsed();
        let walk_pages = |largest: bool| {
            let pages = runs
                .iter()
                .filter_map(|(case, run)| match case.file.kind() {
                    CaseKind::Walk(w) => Some((w.limit.page_size(&case.contract), run.pages)),
                    _ => None,
                });
            if largest {
                pages.max_by_key(|(size, _)| *size).map_or(0, |(_, p)| p)
            } else {
                pages.map(|(_, p)| p).max().unwrap_or(0)
            }
        };
        let mut verdicts: Vec<String> = runs
            .iter()
            .flat_map(|(case, run)| {
                run.violations.iter().map(move |v| {
                    format!(
                        "{}: {} at {:?} {}",
                        case.name,
                        v.invariant,
                        v.pointer,
                        v.page.as_ref().map(ToString::to_string).unwrap_or_default()
                    )
                })
            })
            .collect();
        verdicts.sort();
        let mut failed: Vec<String> = runs
            .iter()
            .filter(|(_, r)| !r.passed())
            .map(|(c, _)| c.name.clone())
            .collect();
        failed.sort();
        SuiteRun {
            wall,
            requests: runs.iter().map(|(_, r)| r.requests).sum(),
            longest_walk: walk_pages(false),
            learning_walk: walk_pages(true),
            verdicts,
            failed,
        }
    };
    let chained = run(WalkPlan::Chained);
    let parallel = run(WalkPlan::Parallel);
    let floor = latency.as_secs_f64() * f64::from(parallel.requests) / o.concurrency as f64;
    let chained_floor = latency.as_secs_f64() * f64::from(chained.longest_walk);
    let learning = latency.as_secs_f64() * f64::from(parallel.learning_walk);
    println!(
        "{:>9} {:>8} {:>9} | {:>24} {:>28}",
        "plan", "requests", "wall", "floor req×lat/conc", "chained floor longest×lat"
    );
    for (name, r) in [("chained", &chained), ("parallel", &parallel)] {
        println!(
            "{:>9} {:>8} {:>9} | {:>24} {:>28}",
            name,
            r.requests,
            secs(r.wall.as_secs_f64()),
            secs(latency.as_secs_f64() * f64::from(r.requests) / o.concurrency as f64),
            format!(
                "{} ({} pages)",
                secs(latency.as_secs_f64() * f64::from(r.longest_walk)),
                r.longest_walk
            ),
        );
    }
    let speedup = chained.wall.as_secs_f64() / parallel.wall.as_secs_f64();
    let bound = 2.0 * floor + learning;
    println!();
    println!(
        "parallel: {} against 2 × floor + learning walk ({} pages) = {}: {}",
        secs(parallel.wall.as_secs_f64()),
        parallel.learning_walk,
        secs(bound),
        if parallel.wall.as_secs_f64() <= bound {
            "met"
        } else {
            "MISSED"
        }
    );
    println!(
        "speed-up over chained: {speedup:.1}× (target >= 8×): {}; chained floor {}",
        if speedup >= 8.0 { "met" } else { "MISSED" },
        secs(chained_floor)
    );
    let same_requests = chained.requests == parallel.requests;
    let same_verdicts = chained.verdicts == parallel.verdicts;
    println!(
        "requests: {} chained, {} parallel ({}); violations: {} in each plan ({}){}",
        chained.requests,
        parallel.requests,
        if same_requests {
            "the same"
        } else {
            "DIFFERENT"
        },
        parallel.verdicts.len(),
        if same_verdicts {
            "the same"
        } else {
            "DIFFERENT"
        },
        if parallel.failed.is_empty() {
            String::new()
        } else {
            format!(
                "; failed against this bare server: {}",
                parallel.failed.join(", ")
            )
        }
    );
    if !same_verdicts {
        for v in chained
            .verdicts
            .iter()
            .filter(|v| !parallel.verdicts.contains(v))
        {
            eprintln!("  chained only: {v}");
        }
        for v in parallel
            .verdicts
            .iter()
            .filter(|v| !chained.verdicts.contains(v))
        {
            eprintln!("  parallel only: {v}");
        }
    }
    Ok(same_requests && same_verdicts)
}

fn best(so_far: Option<Sample>, new: Sample) -> Sample {
    match so_far {
        Some(s) => Sample {
            wall: s.wall.min(new.wall),
            cpu: s.cpu.min(new.cpu),
            peak_bytes: s.peak_bytes.max(new.peak_bytes),
            ..new
        },
        None => new,
    }
}

fn show(value: Option<f64>, f: fn(f64) -> String) -> String {
    value.map_or_else(|| "-".to_owned(), f)
}

fn secs(s: f64) -> String {
    format!("{s:.3} s")
}

fn micros(s: f64) -> String {
    format!("{:.1} µs", s * 1e6)
}

/// Runs `work` to the end, timing it and taking the process's peak memory meanwhile.
fn measure<T>(runtime: &tokio::runtime::Runtime, work: impl Future<Output = T>) -> (Sample, T) {
    reset_peak();
    let cpu = cpu_time();
    let start = Instant::now();
    let out = runtime.block_on(work);
    let wall = start.elapsed();
    let sample = Sample {
        wall,
        cpu: cpu_time().saturating_sub(cpu),
        peak_bytes: status_bytes("VmHWM:").unwrap_or(0),
        pages: 0,
        items: 0,
    };
    (sample, out)
}

/// The bare loop: the same requests through the same client, each body parsed with
/// serde_json, nothing checked. Returns the requests sent and the items seen.
async fn baseline(
    http: &HttpClient,
    target: &Target,
    contract: &Contract,
    case: &Case,
    options: &RequestOptions,
) -> Result<(u64, u64), String> {
    let CaseKind::Walk(spec) = case.file.kind() else {
        return Err(format!("{} is not a walk", case.name));
    };
    let limit = spec.limit.param(contract).map(|n| n.to_string());
    let mut headers = HeaderMap::new();
    if let Some((name, value)) = target.auth_header(AuthMode::Valid) {
        headers.insert(name, value);
    }
    let (mut pages, mut items) = (0, 0);
    let mut cursor: Option<String> = None;
    let mut probing = false;
    loop {
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(l) = &limit {
            query.push((&contract.limit_param, l));
        }
        if let Some(c) = &cursor {
            query.push((&contract.cursor_param, c));
        }
        let url = target.endpoint(&contract.path, &query);
        let exchange = http
            .get(url, headers.clone(), options)
            .await
            .map_err(|e| e.to_string())?;
        let body: Value = serde_json::from_slice(&exchange.body).map_err(|e| e.to_string())?;
        pages += 1;
        let data = body["data"].as_array().map_or(&[][..], Vec::as_slice);
        if probing {
            break;
        }
        items += data.len() as u64;
        match data.last().and_then(|i| i[&contract.id_field].as_str()) {
            Some(id) => cursor = Some(id.to_owned()),
            None => break,
        }
        // The same end probe as the harness sends.
        probing = body["has_more"] != Value::Bool(true);
    }
    Ok((pages, items))
}

/// Resets the process's peak resident memory (`VmHWM`) to its current size.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// CPU time of every thread of this process, from the scheduler's own count (nanoseconds,
/// unlike the 10 ms ticks of `/proc/self/stat`).
fn cpu_time() -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let nanos: u64 = tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}

/// The server child process; killed when dropped.
struct Server {
    child: Child,
    base: Url,
}

impl Server {
    fn start(items: usize, delay_ms: u64) -> Result<Server, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .args([SERVE, &items.to_string(), &delay_ms.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the server: {e}"))?;
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let base = Url::parse(&format!("http://{}", line.trim()))
            .map_err(|e| format!("the server said {line:?}: {e}"))?;
        Ok(Server { child, base })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The listing, rendered once: each page is the concatenation of its items' JSON.
struct Listing {
    items: Vec<Vec<u8>>,
    /// Each item's id as a JSON string.
    ids: Vec<String>,
    index: HashMap<String, usize>,
}

impl Listing {
    fn new(count: usize) -> Listing {
        let items = dataset::generate(count, list_contract::mock::DEFAULT_SEED);
        let mut listing = Listing {
            items: Vec::with_capacity(count),
            ids: Vec::with_capacity(count),
            index: HashMap::with_capacity(count),
        };
        for (i, item) in items.iter().enumerate() {
            let id = item["id"].as_str().expect("every batch has an id");
            listing.index.insert(id.to_owned(), i);
            listing.ids.push(Value::from(id).to_string());
            listing
                .items
                .push(serde_json::to_vec(item).expect("a value serializes"));
        }
        listing
    }

    /// The answer to a request line's target (`/v1/batches?limit=1&after=…`) with `key`.
    fn respond(&self, target: &str, key: Option<&str>, out: &mut Vec<u8>) {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        if path != "/v1/batches" {
            return error(out, "404 Not Found", "Unknown request URL");
        }
        if key != Some(KEY) {
            return error(out, "401 Unauthorized", "Incorrect API key provided.");
        }
        let (mut limit, mut after) = (Some(20), None);
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match &*k {
                "limit" => limit = v.parse::<usize>().ok().filter(|n| (1..=100).contains(n)),
                "after" => after = Some(v.into_owned()),
                _ => {}
            }
        }
        let Some(limit) = limit else {
            return error(out, "400 Bad Request", "Invalid 'limit'.");
        };
        let start = match after {
            None => 0,
            Some(id) => match self.index.get(&id) {
                Some(i) => i + 1,
                None => return error(out, "404 Not Found", "No batch found with that id."),
            },
        };
        let end = (start + limit).min(self.items.len());
        let mut body = Vec::with_capacity(128 + (end - start) * 800);
        body.extend_from_slice(br#"{"object":"list","data":["#);
        for (n, item) in self.items[start..end].iter().enumerate() {
            if n > 0 {
                body.push(b',');
            }
            body.extend_from_slice(item);
        }
        let id = |i: usize| self.ids.get(i).map_or("null", String::as_str);
        let (first, last) = if end > start {
            (id(start), id(end - 1))
        } else {
            ("null", "null")
        };
        body.extend_from_slice(
            format!(
                r#"],"first_id":{first},"last_id":{last},"has_more":{}}}"#,
                end < self.items.len()
            )
            .as_bytes(),
        );
        head(out, "200 OK", body.len());
        out.extend_from_slice(&body);
    }
}

fn head(out: &mut Vec<u8>, status: &str, len: usize) {
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n"
        )
        .as_bytes(),
    );
}

fn error(out: &mut Vec<u8>, status: &str, message: &str) {
    let body = serde_json::json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}}).to_string();
    head(out, status, body.len());
    out.extend_from_slice(body.as_bytes());
}

/// The server: HTTP/1.1 with keep-alive on one thread, until stdin closes (the parent
/// ended). Each response waits `delay` first (the latency of a server far away); responses
/// on different connections wait side by side.
fn serve(items: usize, delay: Duration) -> std::io::Result<()> {
    let listing = Arc::new(Listing::new(items));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        let _ = stop.send(());
    });
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        println!("{}", listener.local_addr()?);
        let accept = async {
            loop {
                let (stream, _) = listener.accept().await?;
                stream.set_nodelay(true)?;
                tokio::spawn(connection(stream, Arc::clone(&listing), delay));
            }
        };
        tokio::select! {
            result = accept => result,
            _ = stopped => Ok(()),
        }
    })
}

async fn connection(
    mut stream: TcpStream,
    listing: Arc<Listing>,
    delay: Duration,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(128 * 1024);
    loop {
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if stream.read_buf(&mut buf).await? == 0 {
                return Ok(());
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]);
        let mut lines = head.split("\r\n");
        let target = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .unwrap_or("/");
        let key = lines.find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("x-api-key")
                .then_some(value.trim())
        });
        out.clear();
        listing.respond(target, key, &mut out);
        drop(head);
        buf.drain(..end);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        stream.write_all(&out).await?;
    }
}
