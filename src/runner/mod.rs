//! Runs one case: builds its requests, sends them, and judges the responses. A page case
//! is one request; walk and cross-walk cases follow the cursor (see [`walk`]).

mod ahead;
pub mod backward;
pub mod depth;
pub mod pages;
pub mod plan;
pub mod walk;
pub mod walk_cache;

use crate::outcome::plural;
pub use crate::outcome::{Answer, Answers, CaseRun};

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::case::{AuthMode, Case, CaseKind, Outcome, WalkLimit};
use crate::check::cross_walk::{compare_walks, fresh_since};
use crate::check::filter::compare_filtered;
use crate::check::orders::compare_orders;
use crate::check::page::PageRules;
use crate::check::walk::{WalkBounds, WalkRecord};
use crate::check::{Expect, judge};
use crate::evidence::server_bug;
use crate::exchange::{Failure, TransportError, seconds};
use crate::http::{HttpClient, RequestOptions, Target};
use crate::schema::SchemaSet;
use crate::violation::{Invariant, Violation};
pub use depth::Depth;
use pages::{Fetched, PageCache};
pub use walk::WalkPlan;
use walk_cache::WalkCache;

/// What a run shares between its cases: walks, and first pages.
#[derive(Debug, Default)]
pub struct RunCache {
    walks: WalkCache,
    pages: PageCache,
}

impl CaseRun {
    /// Takes in a walk's findings and cost; `sent` says whether this case sent its requests.
    fn absorb(&mut self, walk: &walk::Walk, sent: bool) {
        self.violations.merge(&walk.run.violations);
        self.entries.extend_from_slice(&walk.run.entries);
        for notice in &walk.run.notices {
            self.notice(notice.clone());
        }
        if sent {
            self.answers.merge(&walk.run.answers);
            self.walked += walk.record.pages + u32::from(walk.probed);
            self.requests += walk.run.requests;
            self.shared += walk.run.shared;
            self.retries.extend(walk.run.retries.iter().cloned());
        } else {
            self.shared += walk.run.requests + walk.run.shared;
        }
        self.evidence.walk(&walk.record);
        self.pages += walk.record.pages + u32::from(walk.probed);
        self.items += walk.record.items.len() as u64;
        self.walks += 1;
        self.capped += u32::from(walk.record.capped);
    }
}

/// What a case runs with: where, through which client, and what the run shares.
#[derive(Clone, Copy)]
pub struct RunContext<'a> {
    pub target: &'a Target,
    pub http: &'a HttpClient,
    pub schemas: &'a SchemaSet,
    pub options: &'a RequestOptions,
    /// Walks and first pages already fetched in this run, for cases that need the same.
    pub cache: &'a RunCache,
    /// How far a walk may go, unless its case says otherwise.
    pub walk_bounds: WalkBounds,
    /// Where the case's requests are counted as they are answered.
    pub progress: Option<&'a Progress>,
    /// How walks send their pages: chained, or ahead along a larger walk's order.
    pub walk_plan: WalkPlan,
    /// How much of a large listing walks at smaller limits read (see `depth.rs`).
    pub depth: Depth,
}

impl<'a> RunContext<'a> {
    /// A context with the default walk bounds, whole walks (`Depth::Full`) and no progress
    /// kept.
    pub fn new(
        target: &'a Target,
        http: &'a HttpClient,
        schemas: &'a SchemaSet,
        options: &'a RequestOptions,
        cache: &'a RunCache,
    ) -> Self {
        RunContext {
            target,
            http,
            schemas,
            options,
            cache,
            walk_bounds: WalkBounds::default(),
            progress: None,
            walk_plan: WalkPlan::default(),
            depth: Depth::Full,
        }
    }

    /// Adds `note` to the case's progress, or with `done`, takes it away again.
    pub(crate) fn note(&self, note: &str, done: bool) {
        if let Some(progress) = self.progress {
            let mut notes = progress.notes.lock().unwrap_or_else(|e| e.into_inner());
            match notes.iter().position(|n| n == note) {
                Some(i) if done => {
                    notes.remove(i);
                }
                None if !done => notes.push(note.to_owned()),
                _ => {}
            }
        }
    }

    /// The bounds of a walk: the case's own, or else the run's.
    fn bounds(&self, max_pages: Option<u32>, stop_after_items: Option<u64>) -> WalkBounds {
        WalkBounds {
            max_pages: max_pages.unwrap_or(self.walk_bounds.max_pages),
            stop_after_items: stop_after_items.or(self.walk_bounds.stop_after_items),
        }
    }

    /// The bounds of a walk another walk is compared with whole (order, filter and backward
    /// walks): as [`RunContext::bounds`], and at the sampled depth, with no item cap of its
    /// own, on a listing of [`depth::SAMPLE_FROM_ITEMS`] items or more (as the walk at the
    /// maximum limit, made here or shared, met it; or one that did not end), it stops after
    /// that many items. A shorter listing is walked whole, and shares its walks with the walk
    /// cases. Also returns the requests and pages sent here for the walk at the maximum.
    async fn whole_walk_bounds(
        &self,
        case: &Case,
        max_pages: Option<u32>,
        stop_after_items: Option<u64>,
    ) -> (WalkBounds, (u32, u32)) {
        let bounds = self.bounds(max_pages, stop_after_items);
        if self.depth != Depth::Sampled || bounds.stop_after_items.is_some() {
            return (bounds, (0, 0));
        }
        let (max, sent) = self
            .cache
            .walks
            .walk(case, WalkLimit::Max, &[], bounds, self, None, None)
            .await;
        let took = if sent {
            (max.run.requests, max.record.pages + u32::from(max.probed))
        } else {
            (0, 0)
        };
        let cap = depth::SAMPLE_FROM_ITEMS;
        if max.record.complete && max.record.items.len() < cap {
            return (bounds, took);
        }
        let capped = WalkBounds {
            stop_after_items: Some(cap as u64),
            ..bounds
        };
        (capped, took)
    }

    /// Sends `GET url`; a request without a cursor may instead be answered with what another
    /// case got for the same request. Counts it in `run` as sent or shared, and in the
    /// case's progress as `what`.
    async fn fetch(
        &self,
        url: Url,
        headers: HeaderMap,
        first_page: bool,
        run: &mut CaseRun,
        what: impl FnOnce(&Fetched) -> String,
    ) -> Arc<Fetched> {
        let (fetched, sent) = self
            .cache
            .pages
            .get(self.http, url, headers, self.options, first_page)
            .await;
        let answer = match &fetched.result {
            Ok(exchange) => Answer::Status(exchange.status.as_u16()),
            Err(e) => match e.failure {
                Failure::Connection(_) => Answer::Unreachable,
                Failure::Redirect(_) => Answer::Redirected,
                Failure::TimedOut(_) => Answer::TimedOut,
                Failure::TooLarge { .. } => Answer::TooLarge,
                Failure::NotRecorded(_) => Answer::NotRecorded,
            },
        };
        run.entries.extend_from_slice(&fetched.entries);
        if sent {
            run.answers.add(answer, 1, || match &fetched.result {
                Ok(exchange) => exchange.request_line(),
                Err(e) => e.request_line(),
            });
            self.answered(fetched.attempts(), || what(&fetched));
            match &fetched.result {
                Ok(exchange) => run.record(|| exchange.request_line(), &exchange.retries),
                Err(e) => run.record(|| e.request_line(), &e.retries),
            }
        } else {
            run.shared += fetched.attempts();
            self.answered(0, || what(&fetched));
        }
        fetched
    }

    /// Counts an answered request in the case's progress, if it is kept (`attempts` 0: one
    /// answered for another case, noted as the last but not counted).
    pub(crate) fn answered(&self, attempts: u32, what: impl FnOnce() -> String) {
        if let Some(progress) = self.progress {
            progress.answered(attempts, what());
        }
    }
}

/// The run's request settings with the case's `[limits]` applied.
pub fn case_options(case: &Case, run: &RequestOptions) -> RequestOptions {
    let limits = &case.file.limits;
    let mut options = run.clone();
    if let Some(n) = limits.retry_attempts {
        options.retry.max_attempts = n;
    }
    if let Some(s) = limits.retry_budget_secs {
        options.retry.budget = Duration::from_secs_f64(s);
    }
    if let Some(s) = limits.request_timeout_secs {
        options.timeout = Duration::from_secs_f64(s);
    }
    options
}

/// Runs `case` in `ctx`: sends its requests and judges the answers.
pub async fn run_case(case: &Case, ctx: &RunContext<'_>) -> CaseRun {
    let mut run = run_kind(case, ctx).await;
    let bugs = server_bug::of_violations(&run.violations);
    run.evidence.bug(bugs);
    run.sends_key = case.file.request.auth == AuthMode::Valid;
    run.evidence.depth = Some(ctx.depth.name());
    if let Some(recorder) = ctx.http.recorder() {
        recorder.used_by(&run.entries, &case.name);
    }
    run
}

async fn run_kind(case: &Case, ctx: &RunContext<'_>) -> CaseRun {
    let mut run = CaseRun::default();
    match case.file.kind() {
        CaseKind::Page(accept) => return run_page(case, accept, ctx).await,
        CaseKind::Walk(spec) => {
            let bounds = ctx.bounds(spec.max_pages, spec.stop_after_items);
            let (walk, sent, took_over, took_pages) = ctx
                .cache
                .walks
                .walk_deep(case, spec.limit, &[], bounds, ctx)
                .await;
            run.absorb(&walk, sent);
            run.requests += took_over;
            run.walked += took_pages;
        }
        CaseKind::CrossWalk(spec) => {
            let bounds = ctx.bounds(spec.max_pages, spec.stop_after_items);
            let (walks, took_over) = cross_walks(case, &spec.limits, bounds, ctx).await;
            for (walk, sent) in &walks {
                run.absorb(walk, *sent);
            }
            run.requests += took_over.0;
            run.walked += took_over.1;
            let records: Vec<&WalkRecord> = walks.iter().map(|(w, _)| &w.record).collect();
            let fresh = fresh_since(&records, &case.contract);
            run.evidence.left_out(&records, fresh);
            if let Some(largest) = records.iter().max_by_key(|w| w.page_size) {
                // One diagnosis a case: the first walk that shows the pattern.
                let tie_skip = records
                    .iter()
                    .filter(|w| w.page_size < largest.page_size && w.windows.is_empty())
                    .find_map(|small| server_bug::of_pair(small, largest, fresh));
                run.evidence.bug(tie_skip);
            }
            run.violations
                .extend(compare_walks(&records, &case.contract));
        }
        CaseKind::BackwardWalk(spec) => {
            let (bounds, took) = ctx.whole_walk_bounds(case, spec.max_pages, None).await;
            run.requests += took.0;
            run.walked += took.1;
            let (walk, sent, took_over) = ctx
                .cache
                .walks
                .walk_planned(case, spec.limit, &[], bounds, ctx)
                .await;
            run.absorb(&walk, sent);
            run.requests += took_over;
            let pages = run.pages;
            backward::walk_back(case, spec.limit, &walk.record, bounds, ctx, &mut run).await;
            run.evidence.backward_pages += run.pages - pages;
            run.evidence.backward_case = true;
        }
        CaseKind::OrderWalk(spec) => {
            let (bounds, took) = ctx
                .whole_walk_bounds(case, spec.max_pages, spec.stop_after_items)
                .await;
            run.requests += took.0;
            run.walked += took.1;
            let param = case
                .contract
                .order_param
                .as_ref()
                .expect("loading checks that an order walk's contract has an order parameter");
            let (asc, desc) = futures_util::future::join(
                ctx.cache.walks.walk_planned(
                    case,
                    spec.limit,
                    &[(&param.name, &param.asc)],
                    bounds,
                    ctx,
                ),
                ctx.cache.walks.walk_planned(
                    case,
                    spec.limit,
                    &[(&param.name, &param.desc)],
                    bounds,
                    ctx,
                ),
            )
            .await;
            run.absorb(&asc.0, asc.1);
            run.absorb(&desc.0, desc.1);
            run.requests += asc.2 + desc.2;
            let records = [&asc.0.record, &desc.0.record];
            let fresh = fresh_since(&records, &case.contract);
            run.evidence.left_out(&records, fresh);
            let kept = |w: &WalkRecord| {
                w.items
                    .iter()
                    .filter(|s| s.key.is_none_or(|k| k < fresh))
                    .count() as u64
            };
            run.evidence.orders_compared = Some(kept(&asc.0.record).min(kept(&desc.0.record)));
            run.evidence
                .bug(server_bug::of_orders(&asc.0.record, &desc.0.record));
            run.violations.extend(compare_orders(
                &asc.0.record,
                &desc.0.record,
                &case.contract,
            ));
        }
        CaseKind::FilterWalk(spec) => {
            let (bounds, took) = ctx
                .whole_walk_bounds(case, spec.max_pages, spec.stop_after_items)
                .await;
            run.requests += took.0;
            run.walked += took.1;
            let filter = case
                .contract
                .filters
                .iter()
                .position(|f| f.param == spec.param)
                .expect("loading checks that a filter walk's parameter is a contract filter");
            let (filtered, all) = futures_util::future::join(
                ctx.cache.walks.walk_planned(
                    case,
                    spec.limit,
                    &[(&spec.param, &spec.value)],
                    bounds,
                    ctx,
                ),
                ctx.cache
                    .walks
                    .walk_planned(case, spec.limit, &[], bounds, ctx),
            )
            .await;
            run.absorb(&filtered.0, filtered.1);
            run.absorb(&all.0, all.1);
            run.requests += filtered.2 + all.2;
            run.evidence.filters.push(crate::evidence::FilterEvidence {
                filter: format!("{}={}", spec.param, spec.value),
                matches: filtered.0.record.items.len() as u64,
            });
            let compared = compare_filtered(
                &filtered.0.record,
                &all.0.record,
                filter,
                &spec.value,
                &case.contract,
            );
            run.evidence.bug(server_bug::of_filtered(
                &filtered.0.record,
                &filtered.0.run.violations,
                !compared.is_empty(),
            ));
            run.violations.extend(compared);
        }
    }
    run
}

/// The walks of a cross-walk, one per limit in `limits`' order, with whether this case sent
/// each, and the requests it sent for a walk it needed that is not among them. Chained, they
/// run side by side (the client's caps still bound the requests in flight). Under the
/// parallel plan the walk at the largest limit goes first, chained, and the others then send
/// their pages ahead along its order. At the sampled depth each is made as
/// [`WalkCache::walk_deep`] makes it.
async fn cross_walks(
    case: &Case,
    limits: &[WalkLimit],
    bounds: WalkBounds,
    ctx: &RunContext<'_>,
) -> (Vec<(Arc<walk::Walk>, bool)>, (u32, u32)) {
    let walks = &ctx.cache.walks;
    let contract = &case.contract;
    if ctx.depth == Depth::Sampled {
        // The walks at the maximum page size first: one of them may be the walk the others
        // are placed along, made (and counted) here as one of the case's own.
        let max = WalkLimit::Max.page_size(contract);
        let deep = |limit: &WalkLimit| walks.walk_deep(case, *limit, &[], bounds, ctx);
        let mut made: Vec<_> = join_all(
            limits
                .iter()
                .filter(|l| l.page_size(contract) >= max)
                .map(deep),
        )
        .await;
        made.extend(
            join_all(
                limits
                    .iter()
                    .filter(|l| l.page_size(contract) < max)
                    .map(deep),
            )
            .await,
        );
        let mut order: Vec<usize> = (0..limits.len())
            .filter(|&i| limits[i].page_size(contract) >= max)
            .collect();
        order.extend((0..limits.len()).filter(|&i| limits[i].page_size(contract) < max));
        let mut ordered: Vec<Option<(Arc<walk::Walk>, bool)>> = vec![None; limits.len()];
        let mut took = (0, 0);
        for (i, (w, sent, requests, pages)) in order.into_iter().zip(made) {
            took.0 += requests;
            took.1 += pages;
            ordered[i] = Some((w, sent));
        }
        return (ordered.into_iter().flatten().collect(), took);
    }
    let largest = limits
        .iter()
        .enumerate()
        .max_by_key(|(i, l)| (l.page_size(contract), std::cmp::Reverse(*i)))
        .map(|(i, _)| i);
    let Some(largest) = largest.filter(|_| ctx.walk_plan.sends_ahead(contract)) else {
        let made = join_all(
            limits
                .iter()
                .map(|limit| walks.walk(case, *limit, &[], bounds, ctx, None, None)),
        )
        .await;
        return (made, (0, 0));
    };
    let reference = walks
        .walk(case, limits[largest], &[], bounds, ctx, None, None)
        .await;
    let learned = &*reference.0;
    let mut others = join_all(limits.iter().enumerate().map(|(i, limit)| async move {
        if i == largest {
            None
        } else {
            Some(
                walks
                    .walk(case, *limit, &[], bounds, ctx, Some(learned), None)
                    .await,
            )
        }
    }))
    .await;
    others[largest] = Some(reference.clone());
    (others.into_iter().flatten().collect(), (0, 0))
}

/// Sends a page case's one request and judges the answer against its `[[accept]]`.
async fn run_page(case: &Case, accept: &[Outcome], ctx: &RunContext<'_>) -> CaseRun {
    let url = ctx
        .target
        .endpoint(&case.contract.path, &case.query_pairs());
    let headers = request_headers(case, ctx.target);
    let query = case.query_pairs();
    let filters = case.contract.filters_of(&query);
    let expect = Expect {
        accept,
        page: PageRules {
            limit: case.effective_limit(),
            contract: &case.contract,
            direction: case.contract.direction_of(query.iter().copied()),
            filters: &filters,
        },
    };

    let mut run = CaseRun::default();
    let first_page = !case
        .file
        .request
        .query
        .contains_key(&case.contract.cursor_param);
    let fetched = ctx
        .fetch(url, headers, first_page, &mut run, |f| match &f.result {
            Ok(exchange) => exchange.request_line(),
            Err(e) => e.request_line(),
        })
        .await;
    match &fetched.result {
        Ok(exchange) => {
            let request = exchange.request_line();
            let judged = judge(exchange, &expect, ctx.schemas);
            for mut notice in judged.notices {
                notice.request = Some(request.clone());
                run.notice(notice);
            }
            run.violations = judged
                .violations
                .into_iter()
                .map(|mut v| {
                    v.request = Some(request.clone());
                    v.answer = Some(fetched.id);
                    v
                })
                .collect();
            let asked = case.effective_limit();
            if asked > case.contract.max_limit
                && exchange.status.is_success()
                && run
                    .violations
                    .iter()
                    .any(|v| v.invariant == Invariant::Status)
            {
                let held = serde_json::from_slice::<serde_json::Value>(&exchange.body)
                    .ok()
                    .and_then(|b| case.contract.envelope.items(&b).map(|i| i.len()));
                run.evidence.bug([server_bug::limit_clamped(
                    &request,
                    asked,
                    case.contract.max_limit,
                    held,
                )]);
            }
        }
        Err(e) => {
            let mut v = transport_violation(e, 1);
            v.answer = Some(fetched.id);
            run.violations.push(v);
        }
    }
    run
}

/// The violation for a request that got no usable response on page `page` of a case.
pub fn transport_violation(e: &TransportError, page: u32) -> Violation {
    let request = e.request_line();
    let attempts = e.retries.len() + 1;
    let tries = if attempts > 1 {
        format!(", after {attempts} attempts")
    } else {
        String::new()
    };
    let (invariant, expected, actual) = match &e.failure {
        Failure::TimedOut(after) => (
            Invariant::Transport,
            format!("a complete response within {} s", seconds(*after)),
            format!(
                "timed out after {} s on page {page} ({request}){tries}",
                seconds(*after)
            ),
        ),
        Failure::Connection(message) if message.contains(crate::http::RUN_STOPPED) => (
            Invariant::Transport,
            "an HTTP response".to_owned(),
            format!("{message}, on page {page}{tries}"),
        ),
        Failure::Connection(message) => (
            Invariant::Transport,
            "an HTTP response".to_owned(),
            format!("{message} on page {page}{tries} (is the server up and the base URL right?)"),
        ),
        Failure::Redirect(message) => (
            Invariant::Transport,
            "an answer from the base URL's origin".to_owned(),
            format!("{message}, on page {page}{tries}"),
        ),
        Failure::TooLarge { cap, .. } => (
            Invariant::BodySize,
            format!("a body of at most {cap} bytes"),
            format!("{} on page {page}", e.failure),
        ),
        Failure::NotRecorded(message) => (
            Invariant::Transport,
            "a response held by the recording (CONTRACT_REPLAY)".to_owned(),
            format!("{message}, on page {page}"),
        ),
    };
    let mut v = Violation::new(invariant, "", expected, actual);
    v.request = Some(request);
    v
}

/// The violation for a case that ran past its time limit, saying how far it got.
pub fn case_timeout_violation(after: Duration, progress: &Progress) -> Violation {
    let mut answered = match (progress.requests(), progress.last()) {
        (_, None) => "no request answered".to_owned(),
        (0, Some(last)) => {
            format!("no request of its own answered (the last answer, shared: {last})")
        }
        (n, Some(last)) => format!("{} answered, the last: {last}", plural(n, "request")),
    };
    for note in progress.notes() {
        answered.push_str("; ");
        answered.push_str(&note);
    }
    Violation::new(
        Invariant::Transport,
        "",
        format!("the case finishes within {} s", seconds(after)),
        format!(
            "timed out after {} s, {answered} (raise CONTRACT_CASE_TIMEOUT or the case's `limits.case_timeout_secs` if the server is just slow)",
            seconds(after)
        ),
    )
}

/// What a case has done so far, kept as it goes, so a case cut off by its time limit can
/// say how far it got.
#[derive(Debug, Default)]
pub struct Progress {
    requests: AtomicU32,
    last: Mutex<Option<String>>,
    /// What the case is doing besides its own requests: waiting for a walk another case is
    /// making, or having taken one over.
    notes: Mutex<Vec<String>>,
    /// Where its requests are also counted as they are answered: its suite's, for the
    /// progress display.
    tally: Option<Arc<AtomicU64>>,
}

impl Progress {
    /// Progress that also counts its requests in `tally`.
    pub fn tallied(tally: Arc<AtomicU64>) -> Progress {
        Progress {
            tally: Some(tally),
            ..Progress::default()
        }
    }

    /// Counts a request that got an answer (or gave up), with its retries; `what` names it.
    fn answered(&self, attempts: u32, what: String) {
        self.requests.fetch_add(attempts, Ordering::Relaxed);
        if let Some(tally) = &self.tally {
            tally.fetch_add(u64::from(attempts), Ordering::Relaxed);
        }
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(what);
    }

    /// Requests answered so far, retries included.
    pub fn requests(&self) -> u32 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The last request answered: `GET <url>`, or a walk's page.
    pub fn last(&self) -> Option<String> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// What the case is doing besides its own requests.
    pub fn notes(&self) -> Vec<String> {
        self.notes.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A case's request headers: the contract's required ones (less those the case omits), the
/// case's own (which win), and the credential its auth mode sends.
pub(crate) fn request_headers(case: &Case, target: &Target) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let request = &case.file.request;
    let kept = |name: &str| {
        !request
            .omit_headers
            .iter()
            .any(|o| o.eq_ignore_ascii_case(name))
    };
    // The run's own headers (--header) over the contract's required ones; a case's headers,
    // then its credential, win over both. A header the case omits is sent by neither.
    for (name, value) in &target.headers {
        if kept(name.as_str()) {
            headers.insert(name.clone(), value.clone());
        }
    }
    let required: Vec<(&String, &String)> = case
        .contract
        .headers
        .iter()
        .filter(|(name, _)| kept(name) && !headers.contains_key(name.as_str()))
        .collect();
    for (name, value) in required.into_iter().chain(&request.headers) {
        // Names and values were checked when the case was loaded.
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    if let Some((name, value)) = target.auth_header(case.file.request.auth) {
        headers.insert(name, value);
    }
    headers
}
