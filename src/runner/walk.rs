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

use super::{CaseRun, RunContext, request_headers, transport_violation};
use crate::case::{BodyKind, Case, Outcome, WalkLimit};
use crate::check::walk::{Next, WalkBounds, WalkRecord, WalkState};
use crate::check::{Expect, judge};
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
        bounds: WalkBounds,
        ctx: &RunContext<'_>,
    ) -> (Arc<Walk>, bool) {
        let request = &case.file.request;
        let key = WalkKey {
            contract: case.contract_path.clone(),
            base: ctx.target.base.to_string(),
            query: request
                .query
                .iter()
                .map(|(k, v)| (k.clone(), v.0.clone()))
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
        let label = limit.label(&case.contract);
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
                Arc::new(walk(case, limit, bounds, ctx).await)
            })
            .await;
        ctx.note(&waiting, true);
        (Arc::clone(walk), sent.load(Ordering::Relaxed))
    }
}

/// Walks `case`'s listing at `limit`, within `bounds`.
async fn walk(case: &Case, limit: WalkLimit, bounds: WalkBounds, ctx: &RunContext<'_>) -> Walk {
    let contract = &*case.contract;
    let page_size = limit.page_size(contract);
    let mut state = WalkState::new(contract, limit.label(contract), page_size, bounds);
    let accept = [Outcome {
        status: 200,
        schema: BodyKind::List,
        invariants: None,
    }];
    let expect = Expect {
        accept: &accept,
        limit: page_size,
        contract,
    };
    let headers = request_headers(case, ctx.target);
    let limit_value = limit.param(contract).map(|n| n.to_string());
    let mut fixed = case.query_pairs();
    if let Some(l) = &limit_value {
        fixed.push((&contract.limit_param, l));
    }
    // In name order, as a page case sends them, so the first page is the same request as a
    // page case's and is shared with it; the cursor goes last.
    fixed.sort_by_key(|(name, _)| *name);

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
        let page = |label: &str| PageRef {
            walk: label.to_owned(),
            page: page_no,
            cursor: cursor.clone(),
            probe: probing,
        };
        out.probed |= probing;
        // The first page may be one a page case (or another walk) already fetched.
        let fetched = ctx
            .fetch(url, headers.clone(), cursor.is_none(), &mut out.run, |_| {
                page(state.label()).to_string()
            })
            .await;
        started_at.get_or_insert(fetched.sent_at);
        let exchange = match &fetched.result {
            Ok(exchange) => exchange,
            Err(e) => {
                let at = page(state.label());
                out.run
                    .violations
                    .push(transport_violation(e, page_no).on_page(&at));
                break;
            }
        };
        let judged = judge(exchange, &expect, ctx.schemas);
        // A server that adds a field adds it to every page: only the first sighting is kept,
        // so only a new one pays for its request line and page.
        for mut notice in judged.notices {
            if !out.run.notices.iter().any(|n| n.same_addition(&notice)) {
                notice.request = Some(exchange.request_line());
                notice.page = Some(page(state.label()));
                out.run.notice(notice);
            }
        }
        let mut found = judged.violations;
        let next = if probing {
            found.extend(state.probe(judged.body.as_ref()));
            Next::Stop
        } else {
            let (walk_found, next) = state.page(cursor.as_deref(), judged.body.as_ref());
            found.extend(walk_found);
            next
        };
        if !found.is_empty() {
            let (request, at) = (exchange.request_line(), page(state.label()));
            out.run.violations.extend(found.into_iter().map(|mut v| {
                v.request = Some(request.clone());
                v.on_page(&at)
            }));
        }
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
