//! Walks: follow `after = data[-1].id` from the first page until `has_more` is false, judge
//! every page, then ask for the page after the last id, which must be empty.
//!
//! A run makes each distinct walk once (see [`super::walk_cache`]). Under
//! [`WalkPlan::Parallel`] (the default) a walk may send its pages ahead along a reference
//! walk's order (see `ahead.rs`); the walk itself is not changed: its pages are still
//! taken one at a time, in order, by the same [`WalkState`], and a page fetched ahead is used
//! only when its cursor is the one the walk asks for next. The verdicts are therefore the
//! chained walk's, at the same pages and cursors; only the waiting is shorter.
//!
//! A page's status and JSON are read first, and the walk goes on from its body at once; the
//! rest of its judging (content type, schema, page invariants, additive drift) is done while
//! the next page is on its way. The requests are the same, and so are the violations, in the
//! same order: each page's are recorded before the next page is read.

use std::collections::VecDeque;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::stream::FuturesOrdered;
use futures_util::{FutureExt, StreamExt};

use super::ahead::{AHEAD_UNCAPPED, Order, Predictor, Step};
use super::depth::{WINDOW_PAGES, Window};
use super::pages::Fetched;
use super::{CaseRun, RunContext, request_headers, transport_violation};
use crate::case::{BodyKind, Case, Outcome, WalkLimit};
use crate::check::page::PageRules;
use crate::check::walk::{Next, WalkBounds, WalkRecord, WalkState};
use crate::check::{Expect, Read, judge_body, read};
use crate::contract::{Contract, CursorSource, Direction};
use crate::violation::{PageRef, Violation};

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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, clap::ValueEnum)]
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
        crate::choice::parse(s, "walk plan")
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
    /// Whether the body is still to be judged ([`finish_page`]).
    unjudged: bool,
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
            v.answer = Some(self.fetched.id);
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
    let mut page = read_page(ctx, fetched, expect, run, at)?;
    finish_page(ctx, &mut page, expect, run, at);
    Some(page)
}

/// The first step of judging a fetched page of a walk (sent in turn, or ahead): marks its
/// exchanges in the recording with the page they were, and reads its status and body, all a
/// walk needs to go on; [`finish_page`] judges the rest. `None` when no response came: the
/// transport violation is then recorded, located at `at`.
fn read_page(
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
            let mut v = transport_violation(e, page.page).on_page(&page);
            v.answer = Some(fetched.id);
            run.violations.push(v);
            return None;
        }
    };
    let (body, found, unjudged) = match read(exchange, expect) {
        Read::Body(body) => (Some(body), Vec::new(), true),
        Read::Judged(judged) => (judged.body, judged.violations, false),
    };
    Some(WalkPage {
        body,
        found,
        unjudged,
        fetched,
    })
}

/// The second step of judging a page of a walk: its content type, schema and page
/// invariants (into `found`, before any found since), and its additive drift (into `run`).
fn finish_page(
    ctx: &RunContext<'_>,
    page: &mut WalkPage,
    expect: &Expect<'_>,
    run: &mut CaseRun,
    at: &dyn Fn() -> PageRef,
) {
    let (Some(body), true, Ok(exchange)) = (&page.body, page.unjudged, &page.fetched.result) else {
        return;
    };
    page.unjudged = false;
    let judged = judge_body(exchange, expect, ctx.schemas, body);
    // A server that adds a field adds it to every page: only the first sighting is kept,
    // so only a new one pays for its request line and page.
    for mut notice in judged.notices {
        if !run.has_noticed(&notice) {
            notice.request = Some(exchange.request_line());
            notice.page = Some(at());
            run.notice(notice);
        }
    }
    let mut found = judged.violations;
    found.append(&mut page.found);
    page.found = found;
}

/// A page fetched (ahead or not), with what fetching it cost.
type Ahead<'a> = BoxFuture<'a, (Arc<Fetched>, CaseRun)>;

/// Walks `case`'s listing at `limit` with `extra` query parameters, within `bounds`; pages
/// are fetched ahead along `reference`'s order where the plan allows (see the module docs).
/// With `sample`, the walk reads only those windows, placed along `reference`'s order (see
/// `depth.rs`), each chained.
pub(super) async fn walk(
    case: &Case,
    limit: WalkLimit,
    extra: &[(&str, &str)],
    bounds: WalkBounds,
    ctx: &RunContext<'_>,
    reference: Option<&Walk>,
    sample: Option<&[Window]>,
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
        .map(|reference| Order::of(&reference.record));
    let mut predictor = order
        .as_ref()
        .filter(|_| sample.is_none())
        .map(|order| Predictor::new(order, page_size, bounds));
    // A sampled walk: the windows and the order they are placed along.
    let sampled = sample.zip(reference.map(|r| Order::of(&r.record)));
    let listing = sampled.as_ref().map_or(0, |(_, o)| o.len() as u64);
    // The window being read, and the pages it has read.
    let (mut window_at, mut window_read) = (0usize, 0u32);
    if sampled.is_some() {
        state.window(1, listing);
    }
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
    // The page before: read and walked on from, the rest of its judging still to do.
    let mut pending: Option<(WalkPage, Vec<Violation>, Step)> = None;
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
        // The page before is judged while this one is on its way: one poll sends the request
        // (FuturesOrdered keeps what the poll registered, so the answer is not missed).
        let ready = match pending.take() {
            Some(before) => {
                let ready = ahead.next().now_or_never();
                settle(ctx, before, &expect, &mut out.run, &page_ref);
                ready
            }
            None => None,
        };
        let (fetched, cost) = match ready {
            Some(answer) => answer,
            None => ahead.next().await,
        }
        .expect("the request the walk waits for is queued");
        spend(&mut out.run, cost);

        out.probed |= step.probe;
        let page = || page_ref(&step);
        let Some(answer) = read_page(ctx, fetched, &expect, &mut out.run, &page) else {
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
        let (walk_found, next) = if step.probe {
            (state.probe(answer.body.as_ref()), Next::Stop)
        } else {
            state.page(step.cursor.as_deref(), answer.body.as_ref())
        };
        // A sampled walk at the end of a window jumps to the next window's first cursor (one
        // past where it is: a walk that drifted beyond a window skips it).
        let next = match (next, &sampled) {
            (Next::Page(c), Some((windows, order))) => {
                window_read += 1;
                let full = windows
                    .get(window_at)
                    .and_then(|w| w.pages)
                    .is_some_and(|n| window_read >= n);
                let at = order.position(&c);
                let jump = full
                    .then(|| {
                        windows
                            .iter()
                            .enumerate()
                            .skip(window_at + 1)
                            .find_map(|(i, w)| {
                                // The last window reads the last pages as the walk meets
                                // them: as many items as its pages held so far each, so
                                // short pages do not lengthen it.
                                let cursor_at = match (w.pages, held) {
                                    (None, Some(h)) if (h as u64) < page_size => order
                                        .len()
                                        .checked_sub(WINDOW_PAGES as usize * h.max(1) + 1)?,
                                    _ => usize::try_from((w.start * page_size).checked_sub(1)?)
                                        .ok()?,
                                };
                                (at.is_none_or(|a| cursor_at > a))
                                    .then(|| order.id(cursor_at).map(|id| (i, w.start, id)))
                                    .flatten()
                            })
                    })
                    .flatten();
                match jump {
                    Some((i, start, id)) => {
                        window_at = i;
                        window_read = 0;
                        state.window(start + 1, listing);
                        Next::Page(id.to_owned())
                    }
                    None => Next::Page(c),
                }
            }
            (next, _) => next,
        };
        let (cursor, probe) = match next {
            Next::Page(c) => (c, false),
            Next::Probe(c) => (c, true),
            Next::Stop => {
                settle(
                    ctx,
                    (answer, walk_found, step),
                    &expect,
                    &mut out.run,
                    &page_ref,
                );
                break;
            }
        };
        let next = Step {
            cursor: Some(cursor),
            page: state.next_page(),
            probe,
        };
        pending = Some((answer, walk_found, std::mem::replace(&mut step, next)));
    }
    drain(&mut ahead, &mut out.run).await;
    out.record = state.finish();
    out.record.started_at = started_at.unwrap_or_default();
    out
}

/// Finishes judging a page the walk has gone on from, and records its violations (the page's
/// own, then the walk's found on it), located at its request and step.
fn settle(
    ctx: &RunContext<'_>,
    (mut answer, walk_found, step): (WalkPage, Vec<Violation>, Step),
    expect: &Expect<'_>,
    run: &mut CaseRun,
    page_ref: &dyn Fn(&Step) -> PageRef,
) {
    let page = || page_ref(&step);
    finish_page(ctx, &mut answer, expect, run, &page);
    let mut found = std::mem::take(&mut answer.found);
    found.extend(walk_found);
    answer.locate(run, found, &page);
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
