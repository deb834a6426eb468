//! Evidence: what a run's data let it prove, and what it could not. A walk over an empty
//! listing passes every walk check without proving anything; so does a filter no item
//! matches. Each case keeps a [`CaseEvidence`] (filled from the walks it made or shared), the
//! run folds them per suite ([`SuiteEvidence`]), and every report says what was proven and
//! what was not, and why. Plain data and pure functions: no I/O.

pub mod server_bug;

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::check::walk::WalkRecord;

/// What one walk exercised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WalkEvidence {
    /// `limit=7`, or `no limit (default 20)`, with any fixed parameters (`order=asc`).
    pub walk: String,
    /// Distinct items the walk met.
    pub items: u64,
    /// Pages with items that followed a page with items: cursors followed to a next page.
    pub boundaries: u32,
    /// Boundaries where the last item of a page and the first of the next share the order
    /// key: where a cursor that compares the key alone loses or repeats items.
    pub ties: u32,
    /// Whether the walk reached the end of the listing.
    pub complete: bool,
    /// Whether the walk read an order key (a time or a number) from its items: ties can be
    /// told only then.
    #[serde(skip)]
    pub keyed: bool,
    /// For a sampled walk (`--depth sampled`), which windows it read; `None`: it read the
    /// listing from the head, page after page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampled: Option<SampledEvidence>,
    /// Whether the walk stopped at its item cap, short of the end.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub capped: bool,
}

/// What a sampled walk read: windows along the order of a walk at a larger limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SampledEvidence {
    /// The page of a whole walk at this limit each window began with (1-based).
    pub windows: Vec<u64>,
    /// Pages the walk read, the end probe not counted.
    pub pages: u32,
    /// Pages a whole walk at this limit would read: the listing's items over the page size.
    pub whole_pages: u64,
}

impl SampledEvidence {
    /// `pages 1, 2500, 5000, 7500 (3 each) and 9998 to the end: 15 of 10000 pages`.
    pub fn describe(&self) -> String {
        let starts: Vec<String> = self.windows.iter().map(u64::to_string).collect();
        let (last, rest) = starts
            .split_last()
            .map_or(("", &[][..]), |(l, r)| (l.as_str(), r));
        format!(
            "sampled: pages {} (3 each) and {last} to the end, {} of {} pages",
            rest.join(", "),
            self.pages,
            self.whole_pages
        )
    }
}

impl WalkEvidence {
    /// What `record` exercised.
    pub fn of(record: &WalkRecord) -> WalkEvidence {
        let ids: HashSet<&str> = record.items.iter().map(|s| &*s.id).collect();
        let mut boundaries = 0;
        let mut ties = 0;
        // A jump between two windows of a sampled walk is no page boundary.
        let jumps: HashSet<usize> = record.windows.iter().map(|w| w.at).collect();
        for (i, pair) in record.items.windows(2).enumerate() {
            if pair[0].page != pair[1].page && !jumps.contains(&(i + 1)) {
                boundaries += 1;
                if pair[0].key.is_some() && pair[0].key == pair[1].key {
                    ties += 1;
                }
            }
        }
        WalkEvidence {
            walk: record.label.clone(),
            items: ids.len() as u64,
            boundaries,
            ties,
            complete: record.complete,
            keyed: record.items.iter().any(|s| s.key.is_some()),
            sampled: (!record.windows.is_empty()).then(|| SampledEvidence {
                windows: record.windows.iter().map(|w| w.whole_page).collect(),
                pages: record.pages,
                whole_pages: record.listing.div_ceil(record.page_size.max(1)),
            }),
            capped: record.capped,
        }
    }
}

/// A filter value a filtered walk was compared over, and how many items matched it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterEvidence {
    /// `purpose=batch`.
    pub filter: String,
    /// Items of the filtered walk.
    pub matches: u64,
}

/// What one case exercised: plain data the runner fills and the reports fold per suite.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseEvidence {
    /// The walks the case made or shared, each once.
    pub walks: Vec<WalkEvidence>,
    /// Backward pages fetched (`before=…`).
    pub backward_pages: u32,
    /// Whether the case walks back (a backward case that fetched no page proved nothing).
    pub backward_case: bool,
    /// For an order walk: the items the two orders were compared over.
    pub orders_compared: Option<u64>,
    pub filters: Vec<FilterEvidence>,
    /// Items left out of a comparison as created during the run: their order key is at or
    /// past the run's start less the contract's clock skew, and a walk lacked them.
    pub live_left_out: u64,
    /// What the walks' pattern says of the server's bug (see [`crate::evidence::server_bug`]).
    pub bugs: Vec<crate::evidence::server_bug::ServerBug>,
    /// The run's depth (`sampled` or `full`), for a case run by the harness.
    pub depth: Option<&'static str>,
}

impl CaseEvidence {
    /// Keeps what `record` exercised, once per walk, and what its pattern says of the
    /// server's bug.
    pub fn walk(&mut self, record: &WalkRecord) {
        let walk = WalkEvidence::of(record);
        if !self
            .walks
            .iter()
            .any(|w| (&w.walk, &w.sampled, w.capped) == (&walk.walk, &walk.sampled, walk.capped))
        {
            self.walks.push(walk);
            self.bug(crate::evidence::server_bug::of_walk(record));
        }
    }

    /// Keeps each diagnosis of the server's bug once.
    pub fn bug(&mut self, bugs: impl IntoIterator<Item = crate::evidence::server_bug::ServerBug>) {
        for bug in bugs {
            if !self.bugs.iter().any(|b| b.message == bug.message) {
                self.bugs.push(bug);
            }
        }
    }

    /// Counts the items of `walks` left out of their comparison as live traffic: created at
    /// or after `fresh_since` and missing from at least one of the complete walks (a walk
    /// that stopped early misses what lies past where it stopped, live or not).
    pub fn left_out(&mut self, walks: &[&WalkRecord], fresh_since: i64) {
        let sets: Vec<HashSet<&str>> = walks
            .iter()
            .filter(|w| w.complete)
            .map(|w| w.items.iter().map(|s| &*s.id).collect())
            .collect();
        let mut counted = HashSet::new();
        for s in walks.iter().flat_map(|w| &w.items) {
            let fresh = s.key.is_some_and(|k| k >= fresh_since);
            if fresh && sets.iter().any(|set| !set.contains(&*s.id)) {
                counted.insert(&*s.id);
            }
        }
        self.live_left_out = self.live_left_out.max(counted.len() as u64);
    }
}

/// Something the run's data could not exercise, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unproven {
    pub suite: String,
    /// What was not proven: `paging`, `cursor across a page`, `tie-break at a page boundary`,
    /// `filter purpose=batch`, `backward pages`, `order parameter`.
    pub what: String,
    pub why: String,
}

/// What a suite's cases exercised, together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SuiteEvidence {
    pub suite: String,
    /// The most distinct items one walk met: the listing as the run saw it.
    pub items: u64,
    /// Each walk once.
    pub walks: Vec<WalkEvidence>,
    pub backward_pages: u32,
    /// Order walks: items the two orders were compared over (the most of any case); `None`
    /// when the suite ran no order walk.
    pub orders_compared: Option<u64>,
    pub filters: Vec<FilterEvidence>,
    /// Items left out of comparisons as created during the run (the most of any case).
    pub live_left_out: u64,
    /// Whether a backward case ran.
    #[serde(skip)]
    pub backward_cases: bool,
    /// The run's depth (`sampled`: walks at smaller limits of a listing of 300 items or more
    /// read windows, see each walk's `sampled`; `full`), when a case walked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<String>,
}

impl SuiteEvidence {
    /// Boundaries crossed at a shared order key, over every walk.
    pub fn ties(&self) -> u32 {
        self.walks.iter().map(|w| w.ties).sum()
    }

    /// What the suite's data could not exercise, and why. Nothing for a suite that walked
    /// nothing (page cases only).
    pub fn unproven(&self) -> Vec<Unproven> {
        let mut out = Vec::new();
        if self.walks.is_empty() {
            return out;
        }
        let mut not = |what: &str, why: String| {
            out.push(Unproven {
                suite: self.suite.clone(),
                what: what.to_owned(),
                why,
            })
        };
        if self.walks.iter().all(|w| !w.complete && w.items == 0) {
            not(
                "paging",
                "no walk got a page with items to the end (see the failures): the listing was \
                 not exercised"
                    .to_owned(),
            );
        } else if self.items == 0 {
            not(
                "paging",
                "the listing is empty: no cursor, page boundary, order or has_more: true was \
                 exercised (create a few items, more than the smallest walk's limit)"
                    .to_owned(),
            );
        } else if self.walks.iter().all(|w| w.boundaries == 0 && !w.complete) {
            not(
                "cursor across a page",
                "no walk got past its first page (see the failures): no page boundary was \
                 crossed"
                    .to_owned(),
            );
        } else if self.walks.iter().all(|w| w.boundaries == 0) {
            not(
                "cursor across a page",
                format!(
                    "the listing has {} item(s), fewer than the smallest walk's limit + 1: no \
                     walk crossed a page boundary",
                    self.items
                ),
            );
        } else if !self.walks.iter().any(|w| w.keyed) {
            not(
                "tie-break at a page boundary",
                "the order key of the items could not be read as a time or a number (see the \
                 failures): ties could not be told"
                    .to_owned(),
            );
        } else if self.ties() == 0 {
            not(
                "tie-break at a page boundary",
                "no two items sharing the order key met at a page boundary (create several \
                 items within the same second to prove the cursor breaks ties)"
                    .to_owned(),
            );
        }
        if self.items > 0 {
            for f in self.filters.iter().filter(|f| f.matches == 0) {
                not(
                    &format!("filter {}", f.filter),
                    "no item matches it: the filtered walk was compared over nothing".to_owned(),
                );
            }
            if self.backward_cases && self.backward_pages == 0 {
                not(
                    "backward pages",
                    "no backward page was fetched (the forward walk found nothing to walk \
                     back over)"
                        .to_owned(),
                );
            }
            if self.orders_compared == Some(0) {
                not(
                    "order parameter",
                    "the two orders were compared over no item".to_owned(),
                );
            }
        }
        out
    }

    /// The evidence in one line: `257 items; walks limit=1 256 boundaries (40 ties), …;
    /// 12 backward pages; orders compared over 257 items; filters purpose=batch 30 matches;
    /// 0 items left out as created during the run`.
    pub fn line(&self) -> String {
        let walks: Vec<String> = self
            .walks
            .iter()
            .map(|w| {
                let mut text = format!("{} {} boundaries", w.walk, w.boundaries);
                if w.ties > 0 {
                    text.push_str(&format!(" ({} at a tie)", w.ties));
                }
                if let Some(sampled) = &w.sampled {
                    text.push_str(&format!(" ({})", sampled.describe()));
                } else if w.capped {
                    text.push_str(&format!(
                        " (stopped at the item cap after {} items)",
                        w.items
                    ));
                }
                text
            })
            .collect();
        let depth = self
            .depth
            .as_ref()
            .map(|d| format!(" at depth {d}"))
            .unwrap_or_default();
        let mut parts = vec![
            format!("{} item(s) seen{depth}", self.items),
            format!("page boundaries crossed: {}", walks.join(", ")),
            format!("{} tie(s) met at a boundary", self.ties()),
        ];
        if self.backward_cases {
            parts.push(format!("{} backward page(s)", self.backward_pages));
        }
        if let Some(n) = self.orders_compared {
            parts.push(format!("orders compared over {n} item(s)"));
        }
        if !self.filters.is_empty() {
            let filters: Vec<String> = self
                .filters
                .iter()
                .map(|f| format!("{} {} match(es)", f.filter, f.matches))
                .collect();
            parts.push(format!("filters: {}", filters.join(", ")));
        }
        parts.push(format!(
            "{} item(s) left out of comparisons as created during the run (order key at or \
             after the run's start less the contract's clock_skew_secs)",
            self.live_left_out
        ));
        parts.join("; ")
    }
}

/// What a run exercised, suite by suite.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub suites: Vec<SuiteEvidence>,
}

impl Evidence {
    /// Folds the evidence of each case (`suite::case`, its evidence, whether it is a
    /// backward case) per suite.
    pub fn fold<'a>(cases: impl IntoIterator<Item = (&'a str, &'a CaseEvidence)>) -> Evidence {
        let mut suites: BTreeMap<String, SuiteEvidence> = BTreeMap::new();
        for (name, case) in cases {
            let suite = name.split("::").next().unwrap_or(name);
            let s = suites
                .entry(suite.to_owned())
                .or_insert_with(|| SuiteEvidence {
                    suite: suite.to_owned(),
                    ..SuiteEvidence::default()
                });
            for walk in &case.walks {
                s.items = s.items.max(walk.items);
                if !s.walks.iter().any(|w| {
                    (&w.walk, &w.sampled, w.capped) == (&walk.walk, &walk.sampled, walk.capped)
                }) {
                    s.walks.push(walk.clone());
                }
            }
            if let Some(depth) = case.depth.filter(|_| !case.walks.is_empty()) {
                s.depth = Some(depth.to_owned());
            }
            s.backward_pages += case.backward_pages;
            s.backward_cases |= case.backward_case;
            if let Some(n) = case.orders_compared {
                s.orders_compared = Some(s.orders_compared.unwrap_or(0).max(n));
            }
            for f in &case.filters {
                if !s.filters.iter().any(|g| g.filter == f.filter) {
                    s.filters.push(f.clone());
                }
            }
            s.live_left_out = s.live_left_out.max(case.live_left_out);
        }
        Evidence {
            suites: suites.into_values().collect(),
        }
    }

    /// Everything not proven, suite by suite.
    pub fn unproven(&self) -> Vec<Unproven> {
        self.suites
            .iter()
            .flat_map(SuiteEvidence::unproven)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::walk::walked;

    #[test]
    fn a_walk_counts_its_boundaries_and_the_ties_at_them() {
        let record = walked(
            "limit=2",
            2,
            &[("a", 5), ("b", 4), ("c", 4), ("d", 3), ("e", 3)],
        );
        let w = WalkEvidence::of(&record);
        assert_eq!((w.items, w.boundaries, w.ties), (5, 2, 2));
    }

    #[test]
    fn an_empty_listing_proves_nothing_and_says_so() {
        let mut case = CaseEvidence::default();
        case.walk(&walked("limit=7", 7, &[]));
        let evidence = Evidence::fold([("list_batches::walk_limit_7", &case)]);
        let unproven = evidence.unproven();
        assert_eq!(unproven.len(), 1, "{unproven:?}");
        assert_eq!(unproven[0].what, "paging");
        assert!(unproven[0].why.starts_with("the listing is empty"));
    }

    #[test]
    fn too_few_items_no_ties_and_an_unmatched_filter_are_not_proven() {
        let mut case = CaseEvidence::default();
        case.walk(&walked("limit=7", 7, &[("a", 3), ("b", 2)]));
        let few = Evidence::fold([("s::w", &case)]).unproven();
        assert_eq!(few[0].what, "cursor across a page");
        assert!(few[0].why.contains("2 item(s)"), "{}", few[0].why);

        let mut case = CaseEvidence::default();
        case.walk(&walked("limit=1", 1, &[("a", 3), ("b", 2)]));
        case.filters.push(FilterEvidence {
            filter: "purpose=batch".into(),
            matches: 0,
        });
        let found = Evidence::fold([("s::w", &case)]).unproven();
        let what: Vec<&str> = found.iter().map(|u| u.what.as_str()).collect();
        assert_eq!(
            what,
            ["tie-break at a page boundary", "filter purpose=batch"]
        );

        let mut case = CaseEvidence::default();
        case.walk(&walked("limit=1", 1, &[("a", 3), ("b", 3), ("c", 2)]));
        assert!(Evidence::fold([("s::w", &case)]).unproven().is_empty());
    }

    #[test]
    fn live_items_one_walk_lacks_are_counted_as_left_out() {
        let mut small = walked("limit=1", 1, &[("new", 2_000_000), ("a", 3), ("b", 2)]);
        small.started_at = 1_999_990;
        let large = walked("limit=7", 7, &[("a", 3), ("b", 2)]);
        let mut case = CaseEvidence::default();
        case.left_out(&[&small, &large], 1_999_000);
        assert_eq!(case.live_left_out, 1);
        case.live_left_out = 0;
        case.left_out(&[&small, &large], 2_000_001);
        assert_eq!(case.live_left_out, 0);
        // A walk that stopped early lacks what lies past where it stopped: not live traffic.
        let mut stopped = walked("limit=7", 7, &[]);
        stopped.complete = false;
        case.left_out(&[&small, &stopped], 1_999_000);
        assert_eq!(case.live_left_out, 0);
    }

    #[test]
    fn walks_that_stopped_on_their_first_page_say_so_not_that_the_listing_is_small() {
        let mut case = CaseEvidence::default();
        let mut first_page = walked("limit=100", 100, &[("a", 3), ("b", 2)]);
        first_page.complete = false;
        case.walk(&first_page);
        let stopped = Evidence::fold([("s::w", &case)]).unproven();
        assert_eq!(stopped[0].what, "cursor across a page");
        assert!(
            stopped[0]
                .why
                .starts_with("no walk got past its first page"),
            "{}",
            stopped[0].why
        );
    }
}
