//! Walks: follow `after = data[-1].id` from the first page until `has_more` is false, judge
//! every page, then ask for the page after the last id, which must be empty.
//!
//! A walk is a pure function of the case's request, the limit and the page budget, so a run
//! makes each distinct walk once: the [`WalkCache`] hands the same walk to every case that
//! needs it (a walk case and the cross-walk that compares it), and its requests are counted
//! against the case that sent them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::pages::Fetched;
use super::{CaseRun, RunContext, request_headers, transport_violation};
use crate::case::{BodyKind, Case, Outcome, WalkLimit};
use crate::check::page::PageRules;
use crate::check::walk::{Next, WalkBounds, WalkRecord, WalkState};
use crate::check::{Expect, judge};
use crate::contract::{Contract, Direction};
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
#[derive(Debug, Default)]
struct Shared {
    walk: OnceCell<Arc<Walk>>,
    /// Whether a case has begun the walk: a case that then finds it still unmade took it over
    /// from one cut off by its time limit.
    begun: AtomicBool,
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

impl WalkCache {
    /// The walk of `case`'s request at `limit`, made now or shared from a case that made it
    /// already (or is making it: this waits). The flag says whether this call sent the
    /// requests.
    pub async fn walk(
        &self,
        case: &Case,
        limit: WalkLimit,
        extra: &[(&str, &str)],
        bounds: WalkBounds,
        ctx: &RunContext<'_>,
    ) -> (Arc<Walk>, bool) {
        let request = &case.file.request;
        let key = WalkKey {
            contract: case.contract_path.clone(),
            base: ctx.target.base.to_string(),
            query: query_of(case, extra)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            headers: request
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            limit: limit.param(&case.contract),
            bounds,
            options: ctx.options.clone(),
        };
        let shared = {
            let mut walks = self.walks.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(walks.entry(key).or_default())
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
                Arc::new(walk(case, limit, extra, bounds, ctx).await)
            })
            .await;
        ctx.note(&waiting, true);
        (Arc::clone(walk), sent.load(Ordering::Relaxed))
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

/// Walks `case`'s listing at `limit` with `extra` query parameters, within `bounds`.
async fn walk(
    case: &Case,
    limit: WalkLimit,
    extra: &[(&str, &str)],
    bounds: WalkBounds,
    ctx: &RunContext<'_>,
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
    let mut out = Walk::default();
    let mut started_at = None;
    let mut cursor: Option<String> = None;
    let mut probing = false;
    loop {
        let mut query = Vec::with_capacity(fixed.len() + 1);
        query.extend_from_slice(&fixed);
        if let Some(c) = &cursor {
            query.push((&contract.cursor_param, c));
        }
        let url = ctx.target.endpoint(&contract.path, &query);
        // Where a violation sits, built only for a page that has one (or for progress).
        let page_no = state.next_page();
        let page = || PageRef {
            walk: walk_label.clone(),
            page: page_no,
            cursor: cursor.clone(),
            probe: probing,
            param: param.clone(),
        };
        out.probed |= probing;
        // The first page may be one a page case (or another walk) already fetched.
        let Some(mut answer) = walk_page(
            ctx,
            url,
            &headers,
            cursor.is_none(),
            &expect,
            &mut out.run,
            &page,
        )
        .await
        else {
            started_at.get_or_insert(0);
            break;
        };
        if started_at.is_none() {
            started_at = Some(answer.sent_at());
            state.started(answer.sent_at());
        }
        let mut found = std::mem::take(&mut answer.found);
        let next = if probing {
            found.extend(state.probe(answer.body.as_ref()));
            Next::Stop
        } else {
            let (walk_found, next) = state.page(cursor.as_deref(), answer.body.as_ref());
            found.extend(walk_found);
            next
        };
        answer.locate(&mut out.run, found, &page);
        match next {
            Next::Page(c) => cursor = Some(c),
            Next::Probe(c) => {
                cursor = Some(c);
                probing = true;
            }
            Next::Stop => break,
        }
    }
    out.record = state.finish();
    out.record.started_at = started_at.unwrap_or_default();
    out
}
