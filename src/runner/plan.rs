//! The plan: how many requests a run's cases may send, said before the first one. A page case
//! sends one request; a walk's cost follows its limit, its depth and its listing's size, which
//! nothing knows before the walk at the maximum limit has read it (except against the embedded
//! mock, whose dataset is known). So the plan is a bound: requests that do not depend on the
//! size, plus so many per 1,000 items of each listing, and a ceiling the page budgets give
//! whatever the size.
//!
//! The bound follows the runner: a walk several cases need is made once (the same key as the
//! walk cache's, less what cannot differ within a run); at the sampled depth (see `depth.rs`) a
//! walk below the maximum limit reads at most [`SAMPLED_WALK_REQUESTS`] requests once its
//! listing has [`SAMPLE_FROM_ITEMS`] items, order, filter and backward walks stop after that
//! many items, and each listing is walked whole once at the maximum. Not counted: retries,
//! and pages sent ahead that a drifting server makes useless (a conforming server answers as
//! predicted), nor a walk remade by a case that took it over from one cut off by its time limit.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::depth::{self, Depth, SAMPLE_FROM_ITEMS, SAMPLED_WALK_REQUESTS};
use super::walk::query_of;
use crate::case::{Case, CaseKind, WalkLimit};
use crate::check::walk::WalkBounds;
use crate::contract::CursorSource;

/// A listing size past every page budget: what the ceiling assumes.
const ENDLESS: u64 = u64::MAX / 4;
/// Requests a backward walk adds to its forward walk, at most: the pages back (as many as
/// forward, and one more where the last page is short), the probe before the head, and the
/// round trips (see `backward.rs`).
const BACKWARD_EXTRA: u64 = 4;

/// How a planned walk reads its listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reads {
    /// From the first page to the end (or its bounds).
    Whole,
    /// Windows, once the listing is long enough (see `depth.rs`); else whole.
    Sampled,
    /// The first [`SAMPLE_FROM_ITEMS`] items, once the listing has that many; else whole.
    Capped,
}

/// One walk the run may make, as the plan counts it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PlannedWalk {
    listing: usize,
    page_size: u64,
    /// The contract's maximum page size: the walk at it decides whether the others sample.
    max_size: u64,
    reads: Reads,
    max_pages: u32,
    stop_after_items: Option<u64>,
    /// Walks back after its forward walk (a backward case's own, never shared).
    back: bool,
}

impl PlannedWalk {
    /// A whole walk of `items` at this page size within these bounds: its pages, and the end
    /// probe when it reaches the end; a walk stopped by its item cap sends no probe.
    fn whole(&self, items: u64, stop: Option<u64>) -> u64 {
        let size = self.page_size.max(1);
        let pages = match stop {
            Some(cap) if items > cap => cap.div_ceil(size).max(1),
            _ => items.div_ceil(size).max(1) + 1,
        };
        pages.min(u64::from(self.max_pages) + 1)
    }

    /// Whether the walk at the maximum limit ends within its page budget on `items`.
    fn max_walk_ends(&self, items: u64) -> bool {
        items.div_ceil(self.max_size.max(1)) < u64::from(self.max_pages)
    }

    /// The requests of the walk on a listing of `items` items.
    fn cost(&self, items: u64) -> u64 {
        let forward = match self.reads {
            Reads::Whole => self.whole(items, self.stop_after_items),
            Reads::Sampled => {
                let windows = usize::try_from(items)
                    .ok()
                    .and_then(|n| depth::plan(n, self.page_size));
                match windows {
                    Some(_) if self.max_walk_ends(items) => {
                        u64::from(SAMPLED_WALK_REQUESTS).min(self.whole(items, None))
                    }
                    _ => self.whole(items, None),
                }
            }
            Reads::Capped => {
                let cap = SAMPLE_FROM_ITEMS as u64;
                if items >= cap || !self.max_walk_ends(items) {
                    self.whole(items, Some(cap))
                } else {
                    self.whole(items, None)
                }
            }
        };
        // A forward walk that stopped short of the end gives nothing to walk back over.
        let ended = match self.reads {
            Reads::Capped => items < SAMPLE_FROM_ITEMS as u64 && self.max_walk_ends(items),
            _ => self.stop_after_items.is_none_or(|cap| items <= cap),
        } && items.div_ceil(self.page_size.max(1)) < u64::from(self.max_pages);
        if self.back && ended {
            2 * forward + BACKWARD_EXTRA
        } else {
            forward
        }
    }

    /// Whether the walk's cost grows with its listing without a bound other than the page
    /// budget.
    fn grows(&self) -> bool {
        self.reads == Reads::Whole && self.stop_after_items.is_none()
    }

    /// The largest listing its walk at the maximum limit can end within its page budget.
    fn most(&self) -> u64 {
        (u64::from(self.max_pages) - 1).max(1) * self.max_size.max(1)
    }

    /// Sizes just before the walk's cost drops (from whole to windows or to its item cap),
    /// and where sampling starts: between them its cost only grows or stays.
    fn turns(&self) -> [u64; 3] {
        let unsampled = u64::from((2 + depth::MIDDLE_WINDOWS) * depth::WINDOW_PAGES)
            .saturating_mul(self.page_size.max(1));
        [
            SAMPLE_FROM_ITEMS as u64 - 1,
            unsampled,
            self.stop_after_items.unwrap_or(0),
        ]
    }
}

/// What a run's selected cases may cost, computed before the first request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub cases: usize,
    pub suites: usize,
    /// Page cases: one request each.
    pages: u64,
    walks: Vec<PlannedWalk>,
    /// Each listing: its contract file (the key of known sizes).
    listings: Vec<PathBuf>,
}

/// The plan as a bound: `fixed` requests, plus `per_1000` per 1,000 items of each listing,
/// plus at most `short` more where listings are shorter than [`SAMPLE_FROM_ITEMS`] items (walked
/// whole at every limit), and never more than `ceiling`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    pub fixed: u64,
    pub per_1000: u64,
    pub short: u64,
    pub ceiling: u64,
}

impl Plan {
    /// The plan of `cases` (those the run will send: selected, not skipped) at `depth`, each
    /// walk within its case's bounds or else `run_bounds`.
    pub fn of(cases: &[&Case], depth: Depth, run_bounds: WalkBounds) -> Plan {
        let mut listings: Vec<(PathBuf, String)> = Vec::new();
        let mut seen = BTreeSet::new();
        let mut walks = Vec::new();
        let mut pages = 0;
        let sampled = depth == Depth::Sampled;
        for case in cases {
            let contract = &case.contract;
            if !case.file.kind().walks() {
                pages += 1;
                continue;
            }
            let listing_key = (case.contract_path.clone(), listing_of(case));
            let listing = match listings.iter().position(|l| *l == listing_key) {
                Some(i) => i,
                None => {
                    listings.push(listing_key);
                    listings.len() - 1
                }
            };
            let limits = format!("{:?}", case.file.limits);
            let max_size = WalkLimit::Max.page_size(contract);
            let mut add = |limit: WalkLimit,
                           extra: String,
                           reads: Reads,
                           max_pages: Option<u32>,
                           stop: Option<u64>,
                           back: bool| {
                let walk = PlannedWalk {
                    listing,
                    page_size: limit.page_size(contract),
                    max_size,
                    reads,
                    max_pages: max_pages.unwrap_or(run_bounds.max_pages).max(1),
                    stop_after_items: stop.or(run_bounds.stop_after_items),
                    back,
                };
                // Walks the cache shares are counted once; a backward case's walk back is its own.
                let key = (
                    walk.clone(),
                    extra,
                    limit.param(contract),
                    limits.clone(),
                    back.then(|| case.name.clone()),
                );
                if seen.insert(key) {
                    walks.push(walk);
                }
            };
            // At the sampled depth, a walk that samples or is capped first has the walk at the
            // maximum limit of the listing made.
            let kind = case.file.kind();
            let mut walk_at = |limit: WalkLimit, max_pages: Option<u32>, stop: Option<u64>| {
                let samples = sampled
                    && stop.or(run_bounds.stop_after_items).is_none()
                    && contract.cursor_source != CursorSource::Token
                    && limit.page_size(contract) < max_size;
                if samples {
                    add(
                        WalkLimit::Max,
                        String::new(),
                        Reads::Whole,
                        max_pages,
                        stop,
                        false,
                    );
                    add(limit, String::new(), Reads::Sampled, max_pages, stop, false);
                } else {
                    add(limit, String::new(), Reads::Whole, max_pages, stop, false);
                }
            };
            match kind {
                CaseKind::Page(_) => {}
                CaseKind::Walk(spec) => walk_at(spec.limit, spec.max_pages, spec.stop_after_items),
                CaseKind::CrossWalk(spec) => {
                    for limit in &spec.limits {
                        walk_at(*limit, spec.max_pages, spec.stop_after_items);
                    }
                }
                CaseKind::BackwardWalk(spec) => {
                    whole_walks(
                        &mut add,
                        sampled,
                        &run_bounds,
                        spec.limit,
                        spec.max_pages,
                        None,
                        &[""],
                        true,
                    );
                }
                CaseKind::OrderWalk(spec) => {
                    let extra: Vec<String> = contract
                        .order_param
                        .as_ref()
                        .map(|p| {
                            vec![
                                format!("{}={}", p.name, p.asc),
                                format!("{}={}", p.name, p.desc),
                            ]
                        })
                        .unwrap_or_default();
                    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
                    whole_walks(
                        &mut add,
                        sampled,
                        &run_bounds,
                        spec.limit,
                        spec.max_pages,
                        spec.stop_after_items,
                        &extra,
                        false,
                    );
                }
                CaseKind::FilterWalk(spec) => {
                    let filtered = format!("{}={}", spec.param, spec.value);
                    whole_walks(
                        &mut add,
                        sampled,
                        &run_bounds,
                        spec.limit,
                        spec.max_pages,
                        spec.stop_after_items,
                        &[&filtered, ""],
                        false,
                    );
                }
            }
        }
        let suites = cases
            .iter()
            .map(|c| c.suite())
            .collect::<BTreeSet<_>>()
            .len();
        Plan {
            cases: cases.len(),
            suites,
            pages,
            walks,
            listings: listings.into_iter().map(|(path, _)| path).collect(),
        }
    }

    /// The listings the walks read.
    pub fn listings(&self) -> usize {
        self.listings.len()
    }

    /// The most requests the run sends when each listing's size is known: `size` of a
    /// listing's contract file (`None`: unknown, and then so is the count).
    pub fn with_sizes(&self, size: impl Fn(&Path) -> Option<u64>) -> Option<u64> {
        let sizes: Vec<u64> = self
            .listings
            .iter()
            .map(|path| size(path))
            .collect::<Option<_>>()?;
        Some(
            self.pages
                + self
                    .walks
                    .iter()
                    .map(|w| w.cost(sizes[w.listing]))
                    .sum::<u64>(),
        )
    }

    /// The bound when the listings' sizes are unknown, from the cost of each listing's walks
    /// at the sizes where it turns (see [`PlannedWalk::turns`]), for listings the walk at the
    /// maximum limit can end within its budget; the ceiling for any size.
    pub fn bound(&self) -> Bound {
        let threshold = SAMPLE_FROM_ITEMS as u64;
        let (mut fixed, mut per_1000, mut short) = (self.pages, 0, 0);
        for listing in 0..self.listings.len() {
            let walks: Vec<&PlannedWalk> =
                self.walks.iter().filter(|w| w.listing == listing).collect();
            let most = walks.iter().map(|w| w.most()).min().unwrap_or(0);
            let (growing, bounded): (Vec<&PlannedWalk>, Vec<&PlannedWalk>) =
                walks.iter().partition(|w| w.grows());
            // ceil(n / size) + 1 ≤ n / size + 2; walked back: twice that, and the extra.
            let mut rate = 0;
            let mut base = 0;
            for w in &growing {
                let times = if w.back { 2 } else { 1 };
                base += times * 2 + if w.back { BACKWARD_EXTRA } else { 0 };
                rate += times * 1000_u64.div_ceil(w.page_size.max(1));
            }
            let at = |n: u64| bounded.iter().map(|w| w.cost(n)).sum::<u64>();
            let candidates: Vec<u64> = bounded
                .iter()
                .flat_map(|w| w.turns())
                .chain([threshold, most])
                .collect();
            let large = candidates
                .iter()
                .filter(|&&n| n >= threshold && n <= most)
                .map(|&n| at(n))
                .max()
                .unwrap_or(0);
            let small = candidates
                .iter()
                .chain(&[threshold - 1])
                .filter(|&&n| n < threshold && n <= most)
                .map(|&n| at(n) + growing.iter().map(|w| w.cost(n)).sum::<u64>())
                .max()
                .unwrap_or(0);
            fixed += large + base;
            per_1000 = u64::max(per_1000, rate);
            short += small.saturating_sub(large + base);
        }
        Bound {
            fixed,
            per_1000,
            short,
            ceiling: self.pages + self.walks.iter().map(|w| w.cost(ENDLESS)).sum::<u64>(),
        }
    }

    /// The line that says the plan before the first request: the cases, the requests (exact
    /// bound when `known` gives every listing's size), and at `rate` requests a second (`None`:
    /// no cap), about how long. A `Rate::Default` is said to last only until the server
    /// advertises a budget of its own, which then sets the pace.
    pub fn line(&self, known: Option<u64>, rate: Option<Rate>) -> String {
        let mut text = format!("plan: {} case(s) in {} suite(s), ", self.cases, self.suites);
        let (requests, per_1000) = match known {
            Some(total) => {
                text.push_str(&format!("at most {total} request(s)"));
                (total, 0)
            }
            None => {
                let b = self.bound();
                text.push_str(&format!("at most {} request(s)", b.fixed));
                if b.per_1000 > 0 {
                    text.push_str(&format!(
                        " + {} per 1,000 items of each of {} listing(s) (",
                        b.per_1000,
                        self.listings(),
                    ));
                    if b.short > 0 {
                        text.push_str(&format!(
                            "up to {} more if shorter than {SAMPLE_FROM_ITEMS} items; ",
                            b.short
                        ));
                    }
                    text.push_str(&format!("at most {} whatever their size)", b.ceiling));
                }
                (b.fixed, b.per_1000)
            }
        };
        match rate {
            Some(kind @ (Rate::Cap(rate) | Rate::Default(rate))) if rate > 0.0 => {
                let until = if matches!(kind, Rate::Default(_)) {
                    " (the default, until the server advertises a budget)"
                } else {
                    ""
                };
                text.push_str(&format!(
                    "; at {rate} request(s)/s{until} about {}",
                    duration(requests as f64 / rate)
                ));
                if per_1000 > 0 {
                    text.push_str(&format!(
                        " + {} per 1,000 items",
                        duration(per_1000 as f64 / rate)
                    ));
                }
            }
            _ => text.push_str("; no rate cap"),
        }
        text
    }
}

/// The pace a plan's time is reckoned at: the user's own cap, or the live default, which
/// holds only until the server advertises a budget (see `http::ratelimit`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    Cap(f64),
    Default(f64),
}

/// Order, filter and backward walks: each of `extras` at `limit`, capped at the sampled depth
/// (where the walk at the maximum limit is made first), whole otherwise.
#[allow(clippy::too_many_arguments)]
fn whole_walks(
    add: &mut impl FnMut(WalkLimit, String, Reads, Option<u32>, Option<u64>, bool),
    sampled: bool,
    run_bounds: &WalkBounds,
    limit: WalkLimit,
    max_pages: Option<u32>,
    stop: Option<u64>,
    extras: &[&str],
    back: bool,
) {
    let capped = sampled && stop.or(run_bounds.stop_after_items).is_none();
    if capped {
        add(
            WalkLimit::Max,
            String::new(),
            Reads::Whole,
            max_pages,
            stop,
            false,
        );
    }
    let reads = if capped { Reads::Capped } else { Reads::Whole };
    for extra in extras {
        add(limit, (*extra).to_owned(), reads, max_pages, stop, back);
    }
}

/// What tells a listing apart within a run: the case's query (less limit and cursor, which
/// the walks set) and headers.
fn listing_of(case: &Case) -> String {
    let mut key = String::new();
    for (name, value) in query_of(case, &[]) {
        key.push_str(&format!("{name}={value}&"));
    }
    for (name, value) in &case.file.request.headers {
        key.push_str(&format!("{name}: {value}\n"));
    }
    key
}

/// `40 s`, `3 min`, `2.5 h`: about how long.
fn duration(secs: f64) -> String {
    if secs < 120.0 {
        format!("{} s", secs.ceil() as u64)
    } else if secs < 7200.0 {
        format!("{} min", (secs / 60.0).ceil() as u64)
    } else {
        format!("{:.1} h", secs / 3600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn cases() -> Vec<Case> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
        crate::case::load_cases(&root).expect("the shipped cases load")
    }

    fn plan(names: &str, depth: Depth, bounds: WalkBounds) -> Plan {
        let all = cases();
        let chosen: Vec<&Case> = all.iter().filter(|c| c.name.contains(names)).collect();
        Plan::of(&chosen, depth, bounds)
    }

    #[test]
    fn page_cases_cost_one_request_each() {
        let all = cases();
        let pages: Vec<&Case> = all.iter().filter(|c| !c.file.kind().walks()).collect();
        let plan = Plan::of(&pages, Depth::Sampled, WalkBounds::default());
        assert_eq!(plan.listings(), plan.listings.len());
        assert_eq!(plan.with_sizes(|_| Some(10_000)), Some(pages.len() as u64));
        assert_eq!(
            plan.bound(),
            Bound {
                fixed: pages.len() as u64,
                per_1000: 0,
                short: 0,
                ceiling: pages.len() as u64
            }
        );
    }

    #[test]
    fn a_whole_walk_costs_its_pages_and_the_end_probe_within_its_budget() {
        let walk = PlannedWalk {
            listing: 0,
            page_size: 7,
            max_size: 100,
            reads: Reads::Whole,
            max_pages: 1000,
            stop_after_items: None,
            back: false,
        };
        assert_eq!(walk.cost(0), 2);
        assert_eq!(walk.cost(257), 37 + 1);
        assert_eq!(walk.cost(259), 37 + 1);
        assert_eq!(walk.cost(ENDLESS), 1001);
        let capped = PlannedWalk {
            stop_after_items: Some(50),
            ..walk.clone()
        };
        // Stopped by the cap: no probe.
        assert_eq!(capped.cost(257), 8);
        assert_eq!(capped.cost(49), 8);
        let back = PlannedWalk { back: true, ..walk };
        assert_eq!(back.cost(257), 2 * 38 + BACKWARD_EXTRA);
    }

    #[test]
    fn sampled_walks_are_bounded_whatever_the_listing_and_whole_when_short() {
        let walk = PlannedWalk {
            listing: 0,
            page_size: 1,
            max_size: 100,
            reads: Reads::Sampled,
            max_pages: 1000,
            stop_after_items: None,
            back: false,
        };
        assert_eq!(walk.cost(257), 258);
        assert_eq!(walk.cost(10_000), u64::from(SAMPLED_WALK_REQUESTS));
        // Past the budget of the walk at the maximum, nothing to sample along: whole.
        assert_eq!(walk.cost(ENDLESS), 1001);
        let capped = PlannedWalk {
            reads: Reads::Capped,
            page_size: 7,
            ..walk
        };
        assert_eq!(capped.cost(10_000), 43);
        assert_eq!(capped.cost(299), 44);
    }

    #[test]
    fn sampled_runs_grow_only_with_the_walk_at_the_maximum() {
        let plan = plan("list_batches::", Depth::Sampled, WalkBounds::default());
        assert_eq!(plan.listings(), 1, "{plan:?}");
        let bound = plan.bound();
        // limit=100: one request per 100 items.
        assert_eq!(bound.per_1000, 10, "{bound:?}");
        // The known size gives the same or less than the bound at that size.
        for items in [0, 257, 299, 300, 1000, 10_000, 99_000] {
            let exact = plan.with_sizes(|_| Some(items)).unwrap();
            let short = if items < 300 { bound.short } else { 0 };
            assert!(
                exact <= bound.fixed + bound.per_1000 * items.div_ceil(1000) + short,
                "{items}: {exact} > {bound:?}"
            );
            assert!(exact <= bound.ceiling);
        }
    }

    #[test]
    fn full_depth_grows_with_every_walk() {
        let sampled = plan("list_batches::", Depth::Sampled, WalkBounds::default());
        let full = plan("list_batches::", Depth::Full, WalkBounds::default());
        let (s, f) = (sampled.bound(), full.bound());
        // Walks at limit 1 among them: at least one request per item.
        assert!(f.per_1000 >= 1000, "{f:?}");
        let at = |p: &Plan, n| p.with_sizes(|_| Some(n)).unwrap();
        // Within the page budget at limit 1.
        assert!(at(&full, 900) > 900);
        assert!(at(&full, 900) <= f.fixed + f.per_1000);
        // Sampled, a large listing costs little more than its walk at the maximum.
        assert!(at(&sampled, 10_000) <= s.fixed + s.per_1000 * 10);
        assert!(s.short > 0, "{s:?}");
        // Short listings are walked whole at either depth.
        assert_eq!(at(&full, 257), at(&sampled, 257));
    }

    #[test]
    fn the_page_budget_is_the_ceiling() {
        let small = WalkBounds {
            max_pages: 10,
            ..WalkBounds::default()
        };
        let plan = plan("list_batches::", Depth::Full, small);
        let bound = plan.bound();
        assert_eq!(plan.with_sizes(|_| Some(1_000_000)), Some(bound.ceiling));
        assert!(bound.ceiling <= plan.pages + plan.walks.len() as u64 * (2 * 11 + BACKWARD_EXTRA));
        // An item cap bounds every walk whatever the listing.
        let capped = WalkBounds {
            stop_after_items: Some(20),
            ..WalkBounds::default()
        };
        let plan = super::tests::plan("list_batches::", Depth::Full, capped);
        assert_eq!(plan.bound().per_1000, 0);
        assert_eq!(
            plan.with_sizes(|_| Some(1_000_000)),
            Some(plan.bound().ceiling)
        );
    }

    #[test]
    fn the_line_says_the_bound_the_size_it_follows_and_the_time() {
        let plan = plan("list_batches::", Depth::Sampled, WalkBounds::default());
        let b = plan.bound();
        let line = plan.line(None, Some(Rate::Cap(10.0)));
        assert!(
            line.starts_with(&format!(
                "plan: {} case(s) in 1 suite(s), at most {} request(s) + 10 per 1,000 items",
                plan.cases, b.fixed
            )),
            "{line}"
        );
        assert!(line.contains("about"), "{line}");
        assert!(line.ends_with(" + 1 s per 1,000 items"), "{line}");
        assert!(!line.contains("the default"), "{line}");
        let default = plan.line(None, Some(Rate::Default(10.0)));
        assert!(
            default.contains(
                "at 10 request(s)/s (the default, until the server advertises a budget) about"
            ),
            "{default}"
        );
        let known = plan.line(Some(300), None);
        assert_eq!(
            known,
            format!(
                "plan: {} case(s) in 1 suite(s), at most 300 request(s); no rate cap",
                plan.cases
            )
        );
        assert_eq!(duration(61.5), "62 s");
        assert_eq!(duration(600.0), "10 min");
        assert_eq!(duration(9000.0), "2.5 h");
    }
}
