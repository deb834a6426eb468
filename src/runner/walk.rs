//! Walks: follow `after = data[-1].id` from the first page until `has_more` is false, judge
//! every page, then ask for the page after the last id, which must be empty.
//!
//! A walk is a pure function of the case's request, the limit and the page budget, so a run
//! makes each distinct walk once: the [`WalkCache`] hands the same walk to every case that
//! needs it (a walk case and the cross-walk that compares it), and its requests are counted
//! against the case that sent them.
//!
//! Under [`WalkPlan::Parallel`] (the default) a walk whose cursors are item ids
//! (`cursor_source = last_item | last_id`) may be given a reference: a walk of the same
//! listing at a larger limit. Its order says which cursor each later page will be asked with
//! (`after = <the id at position k·L - 1>`), so those requests are sent before the pages that
//! name their cursors arrive, within the client's caps. The walk itself is not changed: its
//! pages are still taken one at a time, in order, by the same [`WalkState`], and a page
//! fetched ahead is used only when its cursor is the one the walk asks for next. Where the
//! prediction fails (drift, an item created or deleted since the reference walk), what was
//! fetched ahead is dropped and the walk takes a chained step from the cursor it really has,
//! then predicts again from there. The verdicts are therefore the chained walk's, at the
//! same pages and cursors; only the waiting is shorter.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesOrdered;
use tokio::sync::OnceCell;

use super::pages::Fetched;
use super::{CaseRun, RunContext, request_headers, transport_violation};
use crate::case::{BodyKind, Case, Outcome, WalkLimit};
use crate::check::page::PageRules;
use crate::check::walk::{Next, WalkBounds, WalkRecord, WalkState};
use crate::check::{Expect, judge};
use crate::contract::{Contract, CursorSource, Direction};
use crate::http::RequestOptions;
use crate::violation::PageRef;

/// A finished walk: what it saw, what it broke, what it cost.
#[derive(Debug, Clone, Default)]
pub struct Walk {
    pub record: WalkRecord,
    /// Page, walk and transport violations, each located on its page, and the requests and
    /// retries sent.
    pub run: CaseRun,
    /// Whether the end probe was sent.
    pub probed: bool,
}

/// How a walk's pages are sent: each after the one before (`chained`), or, where the cursors
/// are item ids and a walk at a larger limit has given the listing's order, ahead of the
/// pages that name their cursors (`parallel`). The verdicts are the same; see the module docs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum WalkPlan {
    /// Every page waits for the one before: one round trip per page, one walk after another
    /// within a case.
    Chained,
    /// One chained walk at the largest limit learns the order; the other walks of the same
    /// listing send their pages ahead, within the caps. Opaque-token cursors stay chained.
    #[default]
    Parallel,
}

impl WalkPlan {
    pub fn name(self) -> &'static str {
        match self {
            WalkPlan::Chained => "chained",
            WalkPlan::Parallel => "parallel",
        }
    }

    /// Whether a walk under `contract` may send its pages ahead.
    pub fn sends_ahead(self, contract: &Contract) -> bool {
        self == WalkPlan::Parallel && contract.cursor_source != CursorSource::Token
    }
}

impl std::str::FromStr for WalkPlan {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "chained" => Ok(WalkPlan::Chained),
            "parallel" => Ok(WalkPlan::Parallel),
            other => Err(format!(
                "unknown walk plan `{other}` (expected `chained` or `parallel`)"
            )),
        }
    }
}

/// The walks made so far in a run, each made once however many cases need it.
#[derive(Default)]
pub struct WalkCache {
    walks: Mutex<HashMap<WalkKey, Arc<Shared>>>,
}

// The keys hold case headers, which may carry `${VAR}` secrets: never print them.
impl std::fmt::Debug for WalkCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let walks = self.walks.lock().map_or(0, |w| w.len());
        f.debug_struct("WalkCache").field("walks", &walks).finish()
    }
}

/// One walk as the cache holds it.
#[derive(Debug)]
struct Shared {
    walk: OnceCell<Arc<Walk>>,
    /// Whether a case has begun the walk: a case that then finds it still unmade took it over
    /// from one cut off by its time limit.
    begun: AtomicBool,
    /// The walk's limit and page size, for a walk of the same listing looking for a reference.
    limit: WalkLimit,
    page_size: u64,
}

/// Everything that decides which requests a walk sends.
#[derive(PartialEq, Eq, Hash)]
struct WalkKey {
    contract: PathBuf,
    base: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    limit: Option<u64>,
    bounds: WalkBounds,
    /// Retries and timeouts: a case with its own `[limits]` makes its own walk.
    options: RequestOptions,
}

impl WalkKey {
    fn new(
        case: &Case,
        limit: WalkLimit,
        extra: &[(&str, &str)],
        bounds: WalkBounds,
        ctx: &RunContext<'_>,
    ) -> Self {
        WalkKey {
            contract: case.contract_path.clone(),
            base: ctx.target.base.to_string(),
            query: query_of(case, extra)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            headers: case
                .file
                .request
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            limit: limit.param(&case.contract),
            bounds,
            options: ctx.options.clone(),
        }
    }

    /// Whether both walks list the same listing (they may differ in their limit only).
    fn same_listing(&self, other: &WalkKey) -> bool {
        (
            &self.contract,
            &self.base,
            &self.query,
            &self.headers,
            &self.bounds,
            &self.options,
        ) == (
            &other.contract,
            &other.base,
            &other.query,
            &other.headers,
            &other.bounds,
            &other.options,
        )
    }
}

impl WalkCache {
    /// The walk of `case`'s request at `limit`, made now or shared from a case that made it
    /// already (or is making it: this waits). The flag says whether this call sent the
    /// requests. A walk made now sends its pages ahead along `reference`'s order, when the
    /// run's plan and the contract's cursors allow it.
    pub async fn walk(
        &self,
        case: &Case,
        limit: WalkLimit,
        extra: &[(&str, &str)],
        bounds: WalkBounds,
        ctx: &RunContext<'_>,
        reference: Option<&Walk>,
    ) -> (Arc<Walk>, bool) {
        let key = WalkKey::new(case, limit, extra, bounds, ctx);
        let shared = {
            let mut walks = self.walks.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(walks.entry(key).or_insert_with(|| {
                Arc::new(Shared {
                    walk: OnceCell::new(),
                    begun: AtomicBool::new(false),
                    limit,
                    page_size: limit.page_size(&case.contract),
                })
            }))
        };
        let sent = AtomicBool::new(false);
        let label = label(case, limit, extra);
        let waiting = format!("waiting for the walk at {label}, which another case is making");
        ctx.note(&waiting, false);
        // If the case making the walk is cut off by its time limit, a waiting case takes
        // over and makes it from the first page.
        let walk = shared
            .walk
            .get_or_init(|| async {
                sent.store(true, Ordering::Relaxed);
                ctx.note(&waiting, true);
                if shared.begun.swap(true, Ordering::Relaxed) {
                    ctx.note(
                        &format!(
                            "took over the walk at {label} from a case cut off by its time limit"
                        ),
                        false,
                    );
                }
                Arc::new(walk(case, limit, extra, bounds, ctx, reference).await)
            })
            .await;
        ctx.note(&waiting, true);
        (Arc::clone(walk), sent.load(Ordering::Relaxed))
    }

    /// The walk of `case`'s request at `limit`, as [`WalkCache::walk`] makes it, with the
    /// largest walk of the same listing at a larger limit that a case has begun (none under
    /// the chained plan) as its reference: this waits for that walk, then sends ahead along
    /// its order. No walk is begun for the sake of a reference, so a run sends no page it
    /// would not send chained. Also returns the requests this call sent for the reference
    /// (only when it took over a walk whose case was cut off by its time limit).
    pub async fn walk_planned(
        &self,
        case: &Case,
        limit: WalkLimit,
        extra: &[(&str, &str)],
        bounds: WalkBounds,
        ctx: &RunContext<'_>,
    ) -> (Arc<Walk>, bool, u32) {
        let reference = if ctx.walk_plan.sends_ahead(&case.contract) {
            self.reference_limit(case, limit, extra, bounds, ctx)
        } else {
            None
        };
        let Some(reference) = reference else {
            let (walk, sent) = self.walk(case, limit, extra, bounds, ctx, None).await;
            return (walk, sent, 0);
        };
        let (reference, sent) = self.walk(case, reference, extra, bounds, ctx, None).await;
        let (walk, mine) = self
            .walk(case, limit, extra, bounds, ctx, Some(&reference))
            .await;
        let took_over = if sent { reference.run.requests } else { 0 };
        (walk, mine, took_over)
    }

    /// The largest limit above `limit` at which a case has begun a walk of the same listing.
    fn reference_limit(
        &self,
        case: &Case,
        limit: WalkLimit,
        extra: &[(&str, &str)],
        bounds: WalkBounds,
        ctx: &RunContext<'_>,
    ) -> Option<WalkLimit> {
        let key = WalkKey::new(case, limit, extra, bounds, ctx);
        let page_size = limit.page_size(&case.contract);
        let walks = self.walks.lock().unwrap_or_else(|e| e.into_inner());
        walks
            .iter()
            .filter(|(k, s)| {
                k.same_listing(&key)
                    && s.page_size > page_size
                    && (s.begun.load(Ordering::Relaxed) || s.walk.initialized())
            })
            .max_by_key(|(_, s)| (s.page_size, s.limit))
            .map(|(_, s)| s.limit)
    }
}

/// The case's query with `extra` (an order, a filter), in name order, as a page case sends
/// it: the first page of a walk is then the same request as a page case's, and shared.
pub(super) fn query_of<'c>(
    case: &'c Case,
    extra: &[(&'c str, &'c str)],
) -> Vec<(&'c str, &'c str)> {
    let mut query = case.query_pairs();
    query.extend_from_slice(extra);
    query.sort_by_key(|(name, _)| *name);
    query
}

/// How a walk is named in messages: its limit, then what else it sends (`limit=7,
/// order=asc`).
pub(super) fn label(case: &Case, limit: WalkLimit, extra: &[(&str, &str)]) -> String {
    let mut label = limit.label(&case.contract);
    for (name, value) in query_of(case, extra) {
        label.push_str(&format!(", {name}={value}"));
    }
    label
}

/// What a walk's pages are judged against: the list outcome, with the direction and filters
/// the query asks for.
pub(super) struct PageJudge<'a> {
    pub accept: [Outcome; 1],
    pub direction: Direction,
    pub filters: Vec<(String, String)>,
    pub page_size: u64,
    pub contract: &'a Contract,
}

impl<'a> PageJudge<'a> {
    pub fn new(contract: &'a Contract, query: &[(&str, &str)], page_size: u64) -> Self {
        PageJudge {
            accept: [Outcome {
                status: 200,
                schema: BodyKind::List,
                invariants: None,
            }],
            direction: contract.direction_of(query.iter().copied()),
            filters: contract.filters_of(query),
            page_size,
            contract,
        }
    }

    pub fn expect(&self) -> Expect<'_> {
        Expect {
            accept: &self.accept,
            page: PageRules {
                limit: self.page_size,
                contract: self.contract,
                direction: self.direction,
                filters: &self.filters,
            },
        }
    }
}

/// One page of a walk, fetched and judged.
pub(super) struct WalkPage {
    /// The body, when it parsed as JSON.
    pub body: Option<serde_json::Value>,
    /// The page's own violations, not yet located.
    pub found: Vec<crate::violation::Violation>,
    /// The answer, for its request line (built only where a violation needs it).
    fetched: Arc<Fetched>,
}

impl WalkPage {
    /// When the request was sent, in Unix seconds.
    pub fn sent_at(&self) -> i64 {
        self.fetched.sent_at
    }

    /// Records `found` in `run`, each located at this page's request and `at` (both built only
    /// when there is something to locate).
    pub fn locate(
        &self,
        run: &mut CaseRun,
        found: Vec<crate::violation::Violation>,
        at: &dyn Fn() -> PageRef,
    ) {
        if found.is_empty() {
            return;
        }
        let at = &at();
        let request = match &self.fetched.result {
            Ok(exchange) => exchange.request_line(),
            Err(e) => e.request_line(),
        };
        run.violations.extend(found.into_iter().map(|mut v| {
            v.request = Some(request.clone());
            v.on_page(at)
        }));
    }
}

/// One page of a walk, fetched and judged. `None` when no response came: the transport
/// violation is then recorded, located at `at`.
pub(super) async fn walk_page(
    ctx: &RunContext<'_>,
    url: url::Url,
    headers: &reqwest::header::HeaderMap,
    first_page: bool,
    expect: &Expect<'_>,
    run: &mut CaseRun,
    at: &(dyn Fn() -> PageRef + Sync),
) -> Option<WalkPage> {
    let fetched = ctx
        .fetch(url, headers.clone(), first_page, run, |_| at().to_string())
        .await;
    judge_page(ctx, fetched, expect, run, at)
}

/// Judges a fetched page of a walk (sent in turn, or ahead), and marks its exchanges in the
/// recording with the page they were. `None` when no response came: the transport violation
/// is then recorded, located at `at`.
fn judge_page(
    ctx: &RunContext<'_>,
    fetched: Arc<Fetched>,
    expect: &Expect<'_>,
    run: &mut CaseRun,
    at: &dyn Fn() -> PageRef,
) -> Option<WalkPage> {
    if let Some(recorder) = ctx.http.recorder() {
        recorder.page(&fetched.entries, &at().to_string());
    }
    let exchange = match &fetched.result {
        Ok(exchange) => exchange,
        Err(e) => {
            let page = at();
            run.violations
                .push(transport_violation(e, page.page).on_page(&page));
            return None;
        }
    };
    let judged = judge(exchange, expect, ctx.schemas);
    // A server that adds a field adds it to every page: only the first sighting is kept,
    // so only a new one pays for its request line and page.
    for mut notice in judged.notices {
        if !run.notices.iter().any(|n| n.same_addition(&notice)) {
            notice.request = Some(exchange.request_line());
            notice.page = Some(at());
            run.notice(notice);
        }
    }
    Some(WalkPage {
        body: judged.body,
        found: judged.violations,
        fetched,
    })
}

/// Pages fetched ahead of a walk when no cap on concurrency says how many: enough to hide a
/// round trip of tens of milliseconds behind the others, few enough to waste little when a
/// prediction fails.
const AHEAD_UNCAPPED: usize = 16;

/// A reference walk's order, indexed: the listing as a walk at a larger limit met it.
struct Order {
    ids: Vec<Arc<str>>,
    /// Each id's first position.
    index: HashMap<Arc<str>, usize>,
    /// Whether the reference reached the end: only then is its last id the end probe's cursor.
    complete: bool,
}

impl Order {
    fn of(reference: &Walk) -> Order {
        let ids: Vec<Arc<str>> = reference
            .record
            .items
            .iter()
            .map(|s| Arc::clone(&s.id))
            .collect();
        let mut index = HashMap::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            index.entry(Arc::clone(id)).or_insert(i);
        }
        Order {
            ids,
            index,
            complete: reference.record.complete,
        }
    }
}

/// One request of a walk: the cursor it is sent with (none on the first page), the page number
/// it gets, and whether it is the end probe.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    cursor: Option<String>,
    page: u32,
    probe: bool,
}

/// The requests a walk will send after a given one, if the listing is the reference's and
/// every page holds as many items as the last one did (`stride`, at most the page size):
/// from the cursor at position `c`, the next page's last item is at `c + stride`, and its id
/// is the cursor after that.
struct Predictor<'o> {
    order: &'o Order,
    page_size: usize,
    stride: usize,
    bounds: WalkBounds,
    /// The last request predicted (or seeded): its cursor's position (`None` before the first
    /// item), its page number, and whether it was the probe. `None`: nothing more to predict.
    last: Option<(Option<usize>, u32, bool)>,
}

impl<'o> Predictor<'o> {
    fn new(order: &'o Order, page_size: u64, bounds: WalkBounds) -> Self {
        Predictor {
            order,
            page_size: usize::try_from(page_size).unwrap_or(usize::MAX).max(1),
            stride: 1,
            bounds,
            last: None,
        }
    }

    /// Predicts from `step`, a request the walk really sends: from its cursor's position in
    /// the reference, or nothing when the reference does not hold that id; each page to hold
    /// `held` items, as the page before `step` did. Counting items, not positions, keeps new
    /// items at the head (which only the first page shows) out of the stride; short pages
    /// with `has_more: true` set it.
    fn seed(&mut self, step: &Step, held: usize) {
        self.stride = held.clamp(1, self.page_size);
        self.last = match &step.cursor {
            None => Some((None, step.page, step.probe)),
            Some(c) => self
                .order
                .index
                .get(c.as_str())
                .map(|&p| (Some(p), step.page, step.probe)),
        };
    }
}

impl Iterator for Predictor<'_> {
    type Item = Step;

    fn next(&mut self) -> Option<Step> {
        let (at, page, probe) = self.last.take()?;
        let n = self.order.ids.len();
        let start = at.map_or(0, |p| p + 1);
        if probe || start >= n {
            return None;
        }
        // The last item of the page asked for with the cursor at `at`.
        let end = start.saturating_add(self.stride - 1);
        let next = if end >= n - 1 {
            // The last page (`has_more: false`): the probe after the listing's last id follows,
            // if the reference saw the end; else the order is known no further.
            if !self.order.complete {
                return None;
            }
            (n - 1, true)
        } else {
            // The walk stops after this page at its item cap or its page budget.
            let items = end as u64 + 1;
            if self.bounds.stop_after_items.is_some_and(|cap| items >= cap)
                || page >= self.bounds.max_pages
            {
                return None;
            }
            (end, false)
        };
        self.last = Some((Some(next.0), page + 1, next.1));
        Some(Step {
            cursor: Some(self.order.ids[next.0].to_string()),
            page: page + 1,
            probe: next.1,
        })
    }
}

/// A page fetched (ahead or not), with what fetching it cost.
type Ahead<'a> = BoxFuture<'a, (Arc<Fetched>, CaseRun)>;

/// Walks `case`'s listing at `limit` with `extra` query parameters, within `bounds`; pages
/// are fetched ahead along `reference`'s order where the plan allows (see the module docs).
async fn walk(
    case: &Case,
    limit: WalkLimit,
    extra: &[(&str, &str)],
    bounds: WalkBounds,
    ctx: &RunContext<'_>,
    reference: Option<&Walk>,
) -> Walk {
    let contract = &*case.contract;
    let page_size = limit.page_size(contract);
    let limit_value = limit.param(contract).map(|n| n.to_string());
    let mut fixed = query_of(case, extra);
    if let Some(l) = &limit_value {
        fixed.push((&contract.limit_param, l));
    }
    // In name order, as a page case sends them, so the first page is the same request as a
    // page case's and is shared with it; the cursor goes last.
    fixed.sort_by_key(|(name, _)| *name);
    let judge = PageJudge::new(contract, &fixed, page_size);
    let expect = judge.expect();
    let mut state = WalkState::new(contract, label(case, limit, extra), page_size, bounds)
        .direction(judge.direction);
    let headers = request_headers(case, ctx.target);
    let param = (contract.cursor_param != "after").then(|| contract.cursor_param.clone());

    let walk_label = state.label().to_owned();
    let page_ref = |step: &Step| PageRef {
        walk: walk_label.clone(),
        page: step.page,
        cursor: step.cursor.clone(),
        probe: step.probe,
        param: param.clone(),
    };
    let send = |step: Step| -> Ahead<'_> {
        let mut query = Vec::with_capacity(fixed.len() + 1);
        query.extend_from_slice(&fixed);
        if let Some(c) = &step.cursor {
            query.push((contract.cursor_param.as_str(), c.as_str()));
        }
        let url = ctx.target.endpoint(&contract.path, &query);
        let (headers, page_ref) = (&headers, &page_ref);
        Box::pin(async move {
            let mut run = CaseRun::default();
            // The first page may be one a page case (or another walk) already fetched.
            let fetched = ctx
                .fetch(
                    url,
                    headers.clone(),
                    step.cursor.is_none(),
                    &mut run,
                    |_| page_ref(&step).to_string(),
                )
                .await;
            (fetched, run)
        })
    };
    let order = reference
        .filter(|_| ctx.walk_plan.sends_ahead(contract))
        .map(Order::of);
    let mut predictor = order
        .as_ref()
        .map(|order| Predictor::new(order, page_size, bounds));
    let most_ahead = ctx.http.concurrency().unwrap_or(AHEAD_UNCAPPED).max(1);
    // Pages in flight beyond the one the walk waits for: none until a prediction has held
    // (each is checked against the cursor the walk then really has, sent or not), then
    // doubled by each that holds, up to the cap; none again after one fails.
    let mut window = 0;
    let mut ahead: FuturesOrdered<Ahead<'_>> = FuturesOrdered::new();
    // The requests predicted, in order; the first `in_flight` of them are sent.
    let mut ahead_steps: VecDeque<Step> = VecDeque::new();
    let mut in_flight = 0;

    let mut out = Walk::default();
    let mut started_at = None;
    // Items on the page before, once there was one: predictions start from a page seen, so
    // the first page's surprises (new items at the head, short pages) cost nothing.
    let mut held: Option<usize> = None;
    let mut step = Step {
        cursor: None,
        page: state.next_page(),
        probe: false,
    };
    loop {
        // A prediction holds when it is the request the walk sends (a probe where a page was
        // predicted asks with the same cursor).
        if ahead_steps.front().map(|s| &s.cursor) == Some(&step.cursor) {
            window = (window * 2).clamp(1, most_ahead);
        } else {
            // Nothing predicted, or not this request: what was sent ahead is not used, and the
            // walk goes on from the cursor it really has.
            window = 0;
            drain(&mut ahead, &mut out.run).await;
            ahead_steps.clear();
            in_flight = 0;
            ahead_steps.push_back(step.clone());
            if let (Some(p), Some(held)) = (&mut predictor, held) {
                p.seed(&step, held);
            }
        }
        // Predicted: the request the walk waits for, `window` more to send, and one to check
        // the next answer against.
        while ahead_steps.len() < window + 2 {
            let Some(next) = predictor.as_mut().and_then(Iterator::next) else {
                break;
            };
            ahead_steps.push_back(next);
        }
        while in_flight < ahead_steps.len().min(window + 1) {
            ahead.push_back(send(ahead_steps[in_flight].clone()));
            in_flight += 1;
        }
        ahead_steps.pop_front();
        in_flight -= 1;
        let (fetched, cost) = ahead
            .next()
            .await
            .expect("the request the walk waits for is queued");
        spend(&mut out.run, cost);

        out.probed |= step.probe;
        let page = || page_ref(&step);
        let Some(mut answer) = judge_page(ctx, fetched, &expect, &mut out.run, &page) else {
            started_at.get_or_insert(0);
            break;
        };
        if started_at.is_none() {
            started_at = Some(answer.sent_at());
            state.started(answer.sent_at());
        }
        held = answer
            .body
            .as_ref()
            .and_then(|b| contract.envelope.items(b))
            .map(Vec::len);
        let mut found = std::mem::take(&mut answer.found);
        let next = if step.probe {
            found.extend(state.probe(answer.body.as_ref()));
            Next::Stop
        } else {
            let (walk_found, next) = state.page(step.cursor.as_deref(), answer.body.as_ref());
            found.extend(walk_found);
            next
        };
        answer.locate(&mut out.run, found, &page);
        let (cursor, probe) = match next {
            Next::Page(c) => (c, false),
            Next::Probe(c) => (c, true),
            Next::Stop => break,
        };
        step = Step {
            cursor: Some(cursor),
            page: state.next_page(),
            probe,
        };
    }
    drain(&mut ahead, &mut out.run).await;
    out.record = state.finish();
    out.record.started_at = started_at.unwrap_or_default();
    out
}

/// Waits for the pages sent ahead that the walk will not use, and counts what they cost: a
/// run sends the same requests however fast they are answered, and a replay finds each of them
/// in its recording.
async fn drain(ahead: &mut FuturesOrdered<Ahead<'_>>, run: &mut CaseRun) {
    while let Some((_, cost)) = ahead.next().await {
        spend(run, cost);
    }
}

/// Adds what fetching a page cost to the walk's run.
fn spend(run: &mut CaseRun, cost: CaseRun) {
    run.answers.merge(&cost.answers);
    run.requests += cost.requests;
    run.shared += cost.shared;
    run.retries.extend(cost.retries);
    run.entries.extend(cost.entries);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(n: usize, complete: bool) -> Order {
        let ids: Vec<Arc<str>> = (0..n).map(|i| Arc::from(format!("b{i}"))).collect();
        let index = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (Arc::clone(id), i))
            .collect();
        Order {
            ids,
            index,
            complete,
        }
    }

    /// `(cursor, page, probe)` of each request predicted after `from`.
    fn predicted(
        order: &Order,
        page_size: u64,
        bounds: WalkBounds,
        from: Step,
    ) -> Vec<(String, u32, bool)> {
        let mut p = Predictor::new(order, page_size, bounds);
        p.seed(&from, page_size as usize);
        p.map(|s| (s.cursor.unwrap_or_default(), s.page, s.probe))
            .collect()
    }

    fn first() -> Step {
        Step {
            cursor: None,
            page: 1,
            probe: false,
        }
    }

    fn steps(list: &[(&str, u32, bool)]) -> Vec<(String, u32, bool)> {
        list.iter().map(|&(c, n, p)| (c.to_owned(), n, p)).collect()
    }

    #[test]
    fn pages_end_at_every_page_size_th_id_then_the_probe_follows_the_last() {
        let bounds = WalkBounds::default();
        assert_eq!(
            predicted(&order(10, true), 3, bounds, first()),
            steps(&[
                ("b2", 2, false),
                ("b5", 3, false),
                ("b8", 4, false),
                ("b9", 5, true)
            ])
        );
        // An exact multiple: the last full page says has_more: false.
        assert_eq!(
            predicted(&order(9, true), 3, bounds, first()),
            steps(&[("b2", 2, false), ("b5", 3, false), ("b8", 4, true)])
        );
        assert_eq!(predicted(&order(0, true), 3, bounds, first()), []);
        assert_eq!(
            predicted(&order(1, true), 20, bounds, first()),
            steps(&[("b0", 2, true)])
        );
    }

    #[test]
    fn predictions_start_from_the_cursor_the_walk_has() {
        let bounds = WalkBounds::default();
        let from = |cursor: &str, page| Step {
            cursor: Some(cursor.to_owned()),
            page,
            probe: false,
        };
        // Page 2 ended one id late (one deleted, or new ones at the head): on from there.
        assert_eq!(
            predicted(&order(10, true), 3, bounds, from("b3", 3)),
            steps(&[("b6", 4, false), ("b9", 5, true)])
        );
        // Short pages (`has_more: true` on 4 of 7): each page is predicted to hold 4.
        let twenty = order(20, true);
        let mut p = Predictor::new(&twenty, 7, bounds);
        p.seed(&from("b3", 2), 4);
        let cursors: Vec<(Option<String>, bool)> = p.map(|s| (s.cursor, s.probe)).collect();
        let at = |i: usize, probe| (Some(format!("b{i}")), probe);
        assert_eq!(
            cursors,
            [at(7, false), at(11, false), at(15, false), at(19, true)]
        );
        // An id the reference never saw: nothing to predict, the walk steps on chained.
        assert_eq!(predicted(&order(10, true), 3, bounds, from("x", 2)), []);
        // The probe has no successor, nor has the page after the last id.
        let probe = Step {
            probe: true,
            ..from("b9", 5)
        };
        assert_eq!(predicted(&order(10, true), 3, bounds, probe), []);
        assert_eq!(predicted(&order(10, true), 3, bounds, from("b9", 5)), []);
    }

    #[test]
    fn predictions_stop_where_the_walk_would() {
        // An incomplete reference knows no end: no probe is predicted.
        assert_eq!(
            predicted(&order(10, false), 3, WalkBounds::default(), first()),
            steps(&[("b2", 2, false), ("b5", 3, false), ("b8", 4, false)])
        );
        // The page budget: the walk fails at page 2 and sends nothing after it.
        let budget = WalkBounds {
            max_pages: 2,
            stop_after_items: None,
        };
        assert_eq!(
            predicted(&order(10, true), 3, budget, first()),
            steps(&[("b2", 2, false)])
        );
        // The item cap: 6 items are reached on page 2.
        let cap = WalkBounds {
            max_pages: 100,
            stop_after_items: Some(6),
        };
        assert_eq!(
            predicted(&order(10, true), 3, cap, first()),
            steps(&[("b2", 2, false)])
        );
        // The last page comes before the cap: its probe is still sent.
        let cap = WalkBounds {
            max_pages: 100,
            stop_after_items: Some(10),
        };
        assert_eq!(
            predicted(&order(10, true), 3, cap, first()),
            steps(&[
                ("b2", 2, false),
                ("b5", 3, false),
                ("b8", 4, false),
                ("b9", 5, true)
            ])
        );
    }

    #[test]
    fn walk_plans_parse_and_tokens_stay_chained() {
        assert_eq!(" Parallel".parse::<WalkPlan>(), Ok(WalkPlan::Parallel));
        assert_eq!("chained".parse::<WalkPlan>(), Ok(WalkPlan::Chained));
        assert!("fast".parse::<WalkPlan>().is_err());
        let mut contract = crate::contract::list_batches();
        assert!(WalkPlan::Parallel.sends_ahead(&contract));
        assert!(!WalkPlan::Chained.sends_ahead(&contract));
        contract.cursor_source = CursorSource::Token;
        assert!(!WalkPlan::Parallel.sends_ahead(&contract));
    }
}
