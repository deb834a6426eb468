//! The walk cache: a walk is a pure function of the case's request, the limit and the page
//! budget, so a run makes each distinct walk once. The [`WalkCache`] hands the same walk to
//! every case that needs it (a walk case and the cross-walk that compares it), and its
//! requests are counted against the case that sent them. It also finds a walk's reference for
//! sending ahead: a walk of the same listing at a larger limit (see `ahead.rs`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::RunContext;
use super::depth::{self, Depth, Window};
use super::walk::{Walk, label, query_of, walk};
use crate::case::{Case, WalkLimit};
use crate::check::walk::WalkBounds;
use crate::contract::CursorSource;
use crate::http::RequestOptions;

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
    /// Whether the walk reads windows only (see `depth.rs`).
    sampled: bool,
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
            sampled: false,
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
    /// run's plan and the contract's cursors allow it; with `sample`, it reads those windows
    /// along `reference`'s order instead (a sampled walk is kept apart from the whole one).
    #[allow(clippy::too_many_arguments)]
    pub async fn walk(
        &self,
        case: &Case,
        limit: WalkLimit,
        extra: &[(&str, &str)],
        bounds: WalkBounds,
        ctx: &RunContext<'_>,
        reference: Option<&Walk>,
        sample: Option<&[Window]>,
    ) -> (Arc<Walk>, bool) {
        let key = WalkKey {
            sampled: sample.is_some(),
            ..WalkKey::new(case, limit, extra, bounds, ctx)
        };
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
                Arc::new(walk(case, limit, extra, bounds, ctx, reference, sample).await)
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
            let (walk, sent) = self.walk(case, limit, extra, bounds, ctx, None, None).await;
            return (walk, sent, 0);
        };
        let (reference, sent) = self
            .walk(case, reference, extra, bounds, ctx, None, None)
            .await;
        let (walk, mine) = self
            .walk(case, limit, extra, bounds, ctx, Some(&reference), None)
            .await;
        let took_over = if sent { reference.run.requests } else { 0 };
        (walk, mine, took_over)
    }

    /// The walk of `case`'s request at `limit` at the run's depth. Sampled (see `depth.rs`),
    /// a walk of id cursors at a limit below the contract's maximum first has the walk at the
    /// maximum made (or shares it), then reads windows along its order, or, on a listing too
    /// short to sample, walks whole sending ahead along it. Otherwise as
    /// [`WalkCache::walk_planned`]. Also returns the requests and pages this call sent for
    /// another walk (the walk at the maximum, or a reference it took over).
    pub async fn walk_deep(
        &self,
        case: &Case,
        limit: WalkLimit,
        extra: &[(&str, &str)],
        bounds: WalkBounds,
        ctx: &RunContext<'_>,
    ) -> (Arc<Walk>, bool, u32, u32) {
        let contract = &case.contract;
        let page_size = limit.page_size(contract);
        let samples = ctx.depth == Depth::Sampled
            && bounds.stop_after_items.is_none()
            && contract.cursor_source != CursorSource::Token
            && page_size < WalkLimit::Max.page_size(contract);
        if !samples {
            let (walk, sent, took) = self.walk_planned(case, limit, extra, bounds, ctx).await;
            return (walk, sent, took, 0);
        }
        let (reference, sent) = self
            .walk(case, WalkLimit::Max, extra, bounds, ctx, None, None)
            .await;
        let took = if sent {
            (
                reference.run.requests,
                reference.record.pages + u32::from(reference.probed),
            )
        } else {
            (0, 0)
        };
        let windows = reference
            .record
            .complete
            .then(|| depth::plan(reference.record.items.len(), page_size))
            .flatten();
        let (walk, mine) = self
            .walk(
                case,
                limit,
                extra,
                bounds,
                ctx,
                Some(&reference),
                windows.as_deref(),
            )
            .await;
        (walk, mine, took.0, took.1)
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
