//! Walk invariants: what must hold across the pages of one walk.
//!
//! A [`WalkState`] takes a walk's pages one at a time and says where to go next; it keeps
//! only what the invariants need (each id, its order key and where it was seen), never whole
//! pages. Each id is held once, shared (`Arc<str>`) by the items, the index of sightings
//! and the cursors. The finished [`WalkRecord`]s are then held against each other (see
//! [`super::cross_walk`] and [`super::filter`]).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::contract::{Contract, CursorSource, Direction, pointer};
use crate::violation::{Invariant, Violation};

/// The page budget of a walk when neither the case nor `CONTRACT_MAX_PAGES` sets one: a walk
/// at limit 1 of a 1,000-item account fits, and a listing that never ends (`has_more: true`
/// forever, fresh ids on every page) holds a default live run (four walks at 10 requests a
/// second) about 7 minutes, not an hour. A larger account sets `CONTRACT_STOP_AFTER_ITEMS`
/// (the newest items are checked, the end is not) or raises the budget.
pub const DEFAULT_MAX_PAGES: u32 = 1_000;

/// What a walk past its page budget says to do (it could not be judged: a listing longer
/// than the budget is not proven endless).
pub const PAGE_BUDGET_HINT: &str = "the walk could not be judged (a listing this long is not proven endless): raise `max_pages` in the case or CONTRACT_MAX_PAGES if the listing really is this long, or set CONTRACT_STOP_AFTER_ITEMS to check its newest items only";

/// How far a walk may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WalkBounds {
    /// Pages after which a walk that has not ended fails (`page_budget`).
    pub max_pages: u32,
    /// Items after which the walk stops without failing, short of the end: the newest items
    /// of a large account are enough to check the boundaries. The end is then not checked,
    /// and cross-walks compare only as far as each walk got.
    pub stop_after_items: Option<u64>,
}

impl Default for WalkBounds {
    fn default() -> Self {
        WalkBounds {
            max_pages: DEFAULT_MAX_PAGES,
            stop_after_items: None,
        }
    }
}

/// How many ids a message lists before it says "…".
const LISTED_IDS: usize = 5;

/// One item as a walk keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub id: Arc<str>,
    /// The order key, when it is an integer.
    pub key: Option<i64>,
    /// 1-based page number and 0-based index inside the page.
    pub page: u32,
    pub slot: u32,
}

/// What a finished walk saw, for the cross-walk comparison.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalkRecord {
    /// `limit=7`, or `no limit (default 20)`.
    pub label: String,
    /// The most items a page may hold.
    pub page_size: u64,
    /// Every item in the order the walk met them, repeats included.
    pub items: Vec<Seen>,
    /// Items (with an id) on the first page.
    pub first_page_len: usize,
    /// Each page's cursor, by page number - 1 (`None` for the first page).
    pub cursors: Vec<Option<Arc<str>>>,
    /// Pages fetched, the end probe not counted.
    pub pages: u32,
    /// Whether the walk reached the end of the listing: `has_more: false` and an empty page
    /// after it. An incomplete walk is compared with others only as far as it got.
    pub complete: bool,
    /// When the walk's first page was asked for, in Unix seconds (set by the runner).
    pub started_at: i64,
    /// Whether the walk stopped at its item cap, short of the end.
    pub capped: bool,
    /// The direction the walk's pages were asked for.
    pub direction: Option<Direction>,
    /// For each of the contract's `[[filters]]`, each item's value of its field (as text),
    /// in the order of `items`: what a filtered walk is compared with. Empty when the
    /// contract has no filters.
    pub tags: Vec<Vec<Option<Arc<str>>>>,
    /// A sampled walk's windows, in order (empty: the walk read the listing from its head,
    /// page after page). Items between two windows were not read.
    pub windows: Vec<SampledWindow>,
    /// For a sampled walk: the items of the order its windows were placed along.
    pub listing: u64,
}

/// Where a window of a sampled walk begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampledWindow {
    /// Index in [`WalkRecord::items`] of the window's first item.
    pub at: usize,
    /// The walk's page the window begins with (1-based).
    pub page: u32,
    /// The page of a whole walk at this limit that the window reads first (1-based).
    pub whole_page: u64,
}

/// Where a walk goes after a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Fetch the next page, after this id.
    Page(String),
    /// `has_more` was false: fetch the page after this id, which must be empty.
    Probe(String),
    /// Stop: the walk ended, or cannot go on.
    Stop,
}

/// Where a walk first met an id, and the page it asked for when the id was a cursor.
#[derive(Debug, Clone, Copy)]
struct Sighting {
    /// Index in `WalkRecord::items`.
    position: usize,
    cursor_of: Option<u32>,
}

/// A walk in progress: feed it each page's body with [`WalkState::page`], and the end probe's
/// with [`WalkState::probe`].
#[derive(Debug)]
pub struct WalkState<'a> {
    contract: &'a Contract,
    bounds: WalkBounds,
    record: WalkRecord,
    /// Each id seen so far: where first, and the page it fetched as a cursor.
    positions: HashMap<Arc<str>, Sighting>,
    /// The cursor handed out in the last [`Next`], so the next page records it without a
    /// new copy.
    next_cursor: Option<Arc<str>>,
    /// `has_more` of the page before.
    more_before: bool,
    direction: Direction,
    /// Cursors that are not item ids (tokens, or a `last_id` that names no item), each with
    /// the page it fetched.
    other_cursors: HashMap<Arc<str>, u32>,
}

impl<'a> WalkState<'a> {
    pub fn new(contract: &'a Contract, label: String, page_size: u64, bounds: WalkBounds) -> Self {
        WalkState {
            contract,
            bounds: WalkBounds {
                max_pages: bounds.max_pages.max(1),
                ..bounds
            },
            record: WalkRecord {
                label,
                page_size,
                tags: vec![Vec::new(); contract.filters.len()],
                ..WalkRecord::default()
            },
            positions: HashMap::new(),
            next_cursor: None,
            more_before: false,
            direction: contract.order,
            other_cursors: HashMap::new(),
        }
    }

    /// Says when the walk's first page was asked for (Unix seconds): items newer than that,
    /// less the contract's clock skew, were created during the run.
    pub fn started(&mut self, unix_seconds: i64) {
        self.record.started_at = unix_seconds;
    }

    /// Walks in `direction` (the request's `order`), not the contract's default.
    pub fn direction(mut self, direction: Direction) -> Self {
        self.direction = direction;
        self
    }

    /// Marks the next page as the first of a sampled walk's window, page `whole_page` of a
    /// whole walk at this limit; the walk read `listing` items' order to place it.
    pub fn window(&mut self, whole_page: u64, listing: u64) {
        self.record.listing = listing;
        self.record.windows.push(SampledWindow {
            at: self.record.items.len(),
            page: self.record.pages + 1,
            whole_page,
        });
    }

    /// The number the next page will have.
    pub fn next_page(&self) -> u32 {
        self.record.pages + 1
    }

    pub fn label(&self) -> &str {
        &self.record.label
    }

    /// Takes the next page, asked for with `cursor` (none on the first page). `body` is the
    /// parsed response when it was a JSON 200; `None` stops the walk (the page's own
    /// violations say why). Returns the walk invariants this page breaks, and where to go next.
    pub fn page(&mut self, cursor: Option<&str>, body: Option<&Value>) -> (Vec<Violation>, Next) {
        self.record.pages += 1;
        let page = self.record.pages;
        let handed_out = self.next_cursor.take();
        let cursor_id = match (cursor, handed_out) {
            (Some(c), Some(id)) if *id == *c => Some(id),
            (c, _) => c.map(Arc::from),
        };
        self.record.cursors.push(cursor_id);
        let mut out = Vec::new();
        let envelope = &self.contract.envelope;
        let Some(items) = body.and_then(|b| envelope.items(b)) else {
            return (out, Next::Stop);
        };
        if items.is_empty() {
            if page == 1 {
                // An empty listing; `empty_page` has judged its `has_more`.
                self.record.complete = true;
            } else if self.more_before {
                out.push(Violation::new(
                    Invariant::HasMoreTrue,
                    envelope.data.as_str(),
                    format!("at least one item (page {} said has_more: true)", page - 1),
                    format!(
                        "an empty page after {} (a client stops here, {} ids in)",
                        cursor.unwrap_or("?"),
                        self.record.items.len()
                    ),
                ));
            }
            return (out, Next::Stop);
        }

        let seen_before = self.record.items.len();
        self.take_items(page, items, &mut out);
        if page == 1 {
            self.record.first_page_len = self.record.items.len();
        }

        let has_more = body.and_then(|b| envelope.has_more(b));
        let source = self.contract.cursor_source;
        // Where the cursor is read, for messages only (built when one is needed).
        let cursor_at = || match source {
            CursorSource::LastItem => format!(
                "{}/{}/{}",
                envelope.data,
                items.len() - 1,
                self.contract.id_field
            ),
            CursorSource::LastId => envelope.last_id.clone(),
            CursorSource::Token => self.contract.next_token.clone().unwrap_or_default(),
        };
        let last_id = match source {
            CursorSource::LastItem => items
                .last()
                .and_then(|i| i.get(&self.contract.id_field))
                .and_then(Value::as_str),
            CursorSource::LastId => body
                .and_then(|b| pointer(b, &envelope.last_id))
                .and_then(Value::as_str),
            CursorSource::Token => body
                .zip(self.contract.next_token.as_deref())
                .and_then(|(b, p)| pointer(b, p))
                .and_then(Value::as_str),
        };
        // Without `has_more`, the schema has already failed the page and no client could go
        // on either.
        let Some(has_more) = has_more else {
            return (out, Next::Stop);
        };
        self.more_before = has_more;
        let Some(last_id) = last_id else {
            match (source, has_more) {
                // A last item without a string id: the schema has failed the page already,
                // and no client could go on either.
                (CursorSource::LastItem, _) => {}
                // A client that takes its cursor from there stops here, items unseen.
                (_, true) => out.push(Violation::new(
                    if source == CursorSource::LastId {
                        Invariant::LastId
                    } else {
                        Invariant::HasMoreTrue
                    },
                    cursor_at(),
                    format!(
                        "a cursor for the next page (the walk follows {})",
                        source.describe()
                    ),
                    format!(
                        "{} on a page with has_more: true (a client stops here, {} ids in)",
                        body.and_then(|b| pointer(b, &cursor_at()))
                            .map_or_else(|| "absent".to_owned(), crate::schema::excerpt),
                        self.record.items.len()
                    ),
                )),
                // No token after the last page: nothing to probe, the walk is done.
                (CursorSource::Token, false) => self.record.complete = true,
                // The last page's `last_id` is missing: the page check names it, and there
                // is nothing to probe after.
                (CursorSource::LastId, false) => {}
            }
            return (out, Next::Stop);
        };
        // The cursor records the page it fetches, and says whether an earlier page already
        // had it: an item id has a sighting (just taken in when it is the last item's id);
        // anything else is kept on its own.
        let used = match self.positions.get_mut(last_id) {
            Some(s) if source != CursorSource::Token => s.cursor_of.replace(page + 1),
            _ => self.other_cursors.insert(Arc::from(last_id), page + 1),
        };
        if let Some(used) = used {
            let repeated = items
                .iter()
                .filter_map(|i| i.get(&self.contract.id_field).and_then(Value::as_str))
                .filter(|id| {
                    self.positions
                        .get(*id)
                        .is_some_and(|s| s.position < seen_before)
                })
                .count();
            out.push(Violation::new(
                Invariant::CursorCycle,
                cursor_at(),
                "a cursor not used before",
                format!(
                    "{last_id}, already the cursor of page {used}: the next request would repeat page {used}'s request ({repeated} of this page's {} ids were seen before); the walk stops here",
                    items.len()
                ),
            ));
            return (out, Next::Stop);
        }
        // The last item taken in is the page's last: its id is the walk's own copy.
        self.next_cursor = match self.record.items.last() {
            Some(s) if *s.id == *last_id => Some(Arc::clone(&s.id)),
            _ => None,
        };
        if !has_more {
            return (out, Next::Probe(last_id.to_owned()));
        }
        if self
            .bounds
            .stop_after_items
            .is_some_and(|cap| self.positions.len() as u64 >= cap)
        {
            self.record.capped = true;
            return (out, Next::Stop);
        }
        if page >= self.bounds.max_pages {
            let distinct = self.positions.len();
            out.push(Violation::new(
                Invariant::PageBudget,
                envelope.has_more.as_str(),
                format!("has_more: false within {} pages", self.bounds.max_pages),
                format!(
                    "has_more is still true after {page} pages ({} ids, {distinct} distinct, last after={last_id}); {PAGE_BUDGET_HINT}",
                    self.record.items.len()
                ),
            ));
            return (out, Next::Stop);
        }
        (out, Next::Page(last_id.to_owned()))
    }

    /// Records the page's items, reporting ids seen before and an order broken at the boundary
    /// with the page before.
    fn take_items(&mut self, page: u32, items: &[Value], out: &mut Vec<Violation>) {
        let contract = self.contract;
        let (id_field, key_field) = (&contract.id_field, &contract.order_key);
        let order = self.direction;
        let mut before = self.record.items.last().cloned();
        for (slot, item) in items.iter().enumerate() {
            // An item without a string id is the schema's to report.
            let Some(id) = item.get(id_field).and_then(Value::as_str) else {
                continue;
            };
            let key = item.get(key_field).and_then(|k| contract.order_value(k));
            for (filter, tags) in contract.filters.iter().zip(&mut self.record.tags) {
                let tag = pointer(item, &filter.field).and_then(Value::as_str);
                tags.push(tag.map(Arc::from));
            }
            // The boundary: this page's first item with an id against the last page's last.
            if let Some(prev) = before.take() {
                let keys = prev.key.zip(key);
                if let Some((k0, k1)) = keys.filter(|(k0, k1)| !order.allows(*k0, *k1)) {
                    out.push(Violation::new(
                        Invariant::WalkOrder,
                        format!("/data/{slot}/{key_field}"),
                        format!(
                            "{} {} ({key_field} of {}, the last item of page {}; {} order)",
                            order.bound_symbol(),
                            contract.show_key(k0),
                            prev.id,
                            prev.page,
                            order.name()
                        ),
                        format!("{} ({id})", contract.show_key(k1)),
                    ));
                }
            }
            let id: Arc<str> = match self.positions.get_key_value(id) {
                Some((
                    shared,
                    &Sighting {
                        position: first, ..
                    },
                )) => {
                    let at = &self.record.items[first];
                    out.push(Violation::new(
                        Invariant::DuplicateId,
                        format!("/data/{slot}/{id_field}"),
                        "an id not seen before in this walk",
                        format!(
                            "{id}, already seen on page {} at data[{}] (walk position {})",
                            at.page,
                            at.slot,
                            first + 1
                        ),
                    ));
                    Arc::clone(shared)
                }
                None => {
                    let id: Arc<str> = Arc::from(id);
                    let sighting = Sighting {
                        position: self.record.items.len(),
                        cursor_of: None,
                    };
                    self.positions.insert(Arc::clone(&id), sighting);
                    id
                }
            };
            self.record.items.push(Seen {
                id,
                key,
                page,
                slot: slot as u32,
            });
        }
    }

    /// Takes the answer to the request after a page with `has_more: false`. It must hold no
    /// item; if it does, `has_more` lied and the walk stopped short.
    pub fn probe(&mut self, body: Option<&Value>) -> Vec<Violation> {
        let envelope = &self.contract.envelope;
        let Some(items) = body.and_then(|b| envelope.items(b)) else {
            return Vec::new();
        };
        // Items created during the run join a listing at its newest end, which is the end an
        // ascending walk probes: those are live traffic, not items the walk skipped.
        let contract = self.contract;
        let fresh = contract
            .order_value_at(self.record.started_at - contract.clock_skew_secs as i64)
            .filter(|_| self.record.started_at > 0);
        let old: Vec<&Value> = items
            .iter()
            .filter(|i| {
                let key = i
                    .get(&contract.order_key)
                    .and_then(|k| contract.order_value(k));
                !matches!((key, fresh), (Some(k), Some(f)) if k >= f)
            })
            .collect();
        if old.is_empty() {
            self.record.complete = true;
            return Vec::new();
        }
        let ids: Vec<&str> = old
            .iter()
            .filter_map(|i| i.get(&contract.id_field).and_then(Value::as_str))
            .collect();
        let items = old;
        vec![Violation::new(
            Invariant::HasMoreFalse,
            envelope.data.as_str(),
            format!("no items (page {} said has_more: false)", self.record.pages),
            format!(
                "{} item(s): {} (a client stops before them)",
                items.len(),
                list_ids(&ids)
            ),
        )]
    }

    pub fn finish(mut self) -> WalkRecord {
        self.record.direction = Some(self.direction);
        self.record
    }
}

fn list_ids(ids: &[&str]) -> String {
    let mut text = ids
        .iter()
        .take(LISTED_IDS)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > LISTED_IDS {
        text.push_str(", …");
    }
    text
}

/// A complete walk of `items` (id, order key) in pages of `page_size`, for the checks' tests.
#[cfg(test)]
pub(crate) fn walked(label: &str, page_size: u64, items: &[(&str, i64)]) -> WalkRecord {
    WalkRecord {
        label: label.into(),
        page_size,
        items: items
            .iter()
            .enumerate()
            .map(|(i, (id, key))| Seen {
                id: Arc::from(*id),
                key: Some(*key),
                page: (i as u64 / page_size) as u32 + 1,
                slot: (i as u64 % page_size) as u32,
            })
            .collect(),
        complete: true,
        started_at: 1_000_000,
        ..WalkRecord::default()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use serde_json::json;

    use super::*;
    use crate::contract::list_batches;

    pub(crate) fn page(items: &[(&str, i64)], has_more: bool) -> Value {
        let data: Vec<Value> = items
            .iter()
            .map(|(id, t)| json!({"id": id, "created_at": t}))
            .collect();
        json!({"object": "list", "data": data, "has_more": has_more})
    }

    /// Walks `pages` in order (the last one is the probe when a page says `has_more: false`),
    /// returning the violations by name and the record.
    pub(crate) fn walk(
        pages: &[Value],
        max_pages: u32,
    ) -> (Vec<(&'static str, String)>, WalkRecord) {
        walk_within(
            pages,
            WalkBounds {
                max_pages,
                stop_after_items: None,
            },
        )
    }

    fn walk_within(
        pages: &[Value],
        bounds: WalkBounds,
    ) -> (Vec<(&'static str, String)>, WalkRecord) {
        let c = list_batches();
        let mut state = WalkState::new(&c, "limit=2".into(), 2, bounds);
        let mut found = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = pages.iter();
        while let Some(body) = pages.next() {
            let (v, next) = state.page(cursor.as_deref(), Some(body));
            found.extend(v);
            match next {
                Next::Page(c) => cursor = Some(c),
                Next::Probe(_) => {
                    found.extend(state.probe(pages.next()));
                    break;
                }
                Next::Stop => break,
            }
        }
        let names = found
            .iter()
            .map(|v| (v.invariant.name(), v.actual.clone()))
            .collect();
        (names, state.finish())
    }

    #[test]
    fn a_conforming_walk_is_complete_and_clean() {
        let (found, record) = walk(
            &[
                page(&[("e", 50), ("d", 40)], true),
                page(&[("c", 40), ("b", 30)], true),
                page(&[("a", 10)], false),
                page(&[], false),
            ],
            10,
        );
        assert_eq!(found, []);
        assert!(record.complete);
        assert_eq!(record.pages, 3);
        assert_eq!(record.first_page_len, 2);
        let ids: Vec<&str> = record.items.iter().map(|s| &*s.id).collect();
        assert_eq!(ids, ["e", "d", "c", "b", "a"]);
    }

    #[test]
    fn short_pages_and_an_empty_listing_conform() {
        let (found, record) = walk(
            &[
                page(&[("c", 3)], true),
                page(&[("b", 2)], true),
                page(&[("a", 1)], false),
                page(&[], false),
            ],
            10,
        );
        assert_eq!((found, record.complete), (vec![], true));
        let (found, record) = walk(&[page(&[], false)], 10);
        assert_eq!((found, record.complete), (vec![], true));
    }

    #[test]
    fn each_walk_invariant_is_named() {
        let (found, _) = walk(
            &[
                page(&[("c", 30), ("b", 20)], true),
                page(&[("b", 20), ("a", 25)], true),
                page(&[], false),
            ],
            10,
        );
        let names: Vec<&str> = found.iter().map(|f| f.0).collect();
        assert_eq!(names, ["duplicate_id", "has_more_true"]);
        assert_eq!(
            found[0].1,
            "b, already seen on page 1 at data[1] (walk position 2)"
        );

        let (found, record) = walk(
            &[
                page(&[("c", 30)], true),
                page(&[("b", 40)], false),
                page(&[("a", 1)], false),
            ],
            10,
        );
        let names: Vec<&str> = found.iter().map(|f| f.0).collect();
        assert_eq!(names, ["walk_order", "has_more_false"]);
        assert_eq!(found[0].1, "40 (b)");
        assert_eq!(found[1].1, "1 item(s): a (a client stops before them)");
        assert!(
            !record.complete,
            "a walk cut short by has_more is not complete"
        );
    }

    #[test]
    fn a_repeated_cursor_stops_the_walk_at_once() {
        let first = page(&[("b", 2), ("a", 1)], true);
        let (found, record) = walk(&[first.clone(), first.clone(), first], 10);
        let names: Vec<&str> = found.iter().map(|f| f.0).collect();
        assert_eq!(
            names,
            ["walk_order", "duplicate_id", "duplicate_id", "cursor_cycle"]
        );
        assert!(found[3].1.starts_with("a, already the cursor of page 2: the next request would repeat page 2's request (2 of this page's 2 ids were seen before)"), "{}", found[3].1);
        assert_eq!(record.pages, 2);
    }

    /// The default budget against a listing that never ends, in a default live run: the four
    /// walks of a suite (limits 1, 7, the default and the maximum) each take the whole
    /// budget, at the live rate cap: minutes, not the hour 10,000 pages took.
    #[test]
    fn the_default_page_budget_ends_an_endless_default_run_within_minutes() {
        let walks = 4.0;
        let requests = walks * f64::from(DEFAULT_MAX_PAGES);
        let seconds = requests / crate::settings::DEFAULT_LIVE_RATE;
        assert_eq!(seconds, 400.0);
        assert!(seconds <= 600.0, "{seconds} s");
        // And a limit-1 walk of a 1,000-item account (1,000 pages, the end in the last)
        // still fits.
        const { assert!(DEFAULT_MAX_PAGES >= 1_000) };
        assert_eq!(WalkBounds::default().max_pages, DEFAULT_MAX_PAGES);
        assert_eq!(WalkBounds::default().stop_after_items, None);
    }

    #[test]
    fn the_page_budget_ends_an_endless_walk() {
        let pages: Vec<Value> = (0..10)
            .map(|i| page(&[(&format!("id{i}"), 100 - i)], true))
            .collect();
        let (found, record) = walk(&pages, 3);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "page_budget");
        assert!(
            found[0].1.starts_with(
                "has_more is still true after 3 pages (3 ids, 3 distinct, last after=id2)"
            ),
            "{}",
            found[0].1
        );
        assert_eq!((record.pages, record.complete), (3, false));
    }

    #[test]
    fn the_item_cap_stops_a_walk_short_without_failing() {
        let pages: Vec<Value> = (0..10)
            .map(|i| {
                page(
                    &[
                        (&format!("a{i}"), 100 - 2 * i),
                        (&format!("b{i}"), 99 - 2 * i),
                    ],
                    true,
                )
            })
            .collect();
        let bounds = WalkBounds {
            max_pages: 4,
            stop_after_items: Some(3),
        };
        let (found, record) = walk_within(&pages, bounds);
        assert_eq!(found, []);
        assert_eq!((record.pages, record.items.len()), (2, 4));
        assert!(record.capped && !record.complete);
    }

    fn contract_with(source: CursorSource) -> Contract {
        Contract {
            cursor_source: source,
            next_token: Some("/next".into()),
            ..list_batches()
        }
    }

    /// Walks `pages` under `contract`: the violations by name, and the cursors it sent.
    fn walk_cursors(contract: &Contract, pages: &[Value]) -> (Vec<&'static str>, Vec<String>) {
        let mut state = WalkState::new(contract, "limit=2".into(), 2, WalkBounds::default());
        let (mut found, mut sent) = (Vec::new(), Vec::new());
        let mut cursor: Option<String> = None;
        for body in pages {
            let (v, next) = state.page(cursor.as_deref(), Some(body));
            found.extend(v.into_iter().map(|v| v.invariant.name()));
            match next {
                Next::Page(c) | Next::Probe(c) => {
                    sent.push(c.clone());
                    cursor = Some(c);
                }
                Next::Stop => break,
            }
        }
        (found, sent)
    }

    #[test]
    fn the_cursor_comes_from_the_contracts_source() {
        // A proxy that rewrites item ids but leaves last_id raw (LiteLLM under routing).
        let mut first = page(&[("p:b", 20), ("p:a", 10)], true);
        first["last_id"] = json!("a");
        first["next"] = json!("tok-1");
        let pages = [first, page(&[], false)];
        let (_, sent) = walk_cursors(&contract_with(CursorSource::LastItem), &pages);
        assert_eq!(sent, ["p:a"]);
        let (_, sent) = walk_cursors(&contract_with(CursorSource::LastId), &pages);
        assert_eq!(sent, ["a"]);
        let (_, sent) = walk_cursors(&contract_with(CursorSource::Token), &pages);
        assert_eq!(sent, ["tok-1"]);
    }

    #[test]
    fn a_missing_cursor_or_a_reused_token_is_named() {
        let mut first = page(&[("b", 20)], true);
        first["last_id"] = Value::Null;
        let (found, sent) = walk_cursors(&contract_with(CursorSource::LastId), &[first]);
        assert_eq!((found, sent), (vec!["last_id"], vec![]));

        let mut one = page(&[("b", 20)], true);
        one["next"] = json!("tok-1");
        let mut two = page(&[("a", 10)], true);
        two["next"] = json!("tok-1");
        let (found, sent) = walk_cursors(
            &contract_with(CursorSource::Token),
            &[one.clone(), two.clone()],
        );
        assert_eq!(found, ["cursor_cycle"]);
        assert_eq!(sent, ["tok-1"]);
        let c = contract_with(CursorSource::Token);
        let mut state = WalkState::new(&c, "limit=2".into(), 2, WalkBounds::default());
        state.page(None, Some(&one));
        let (found, _) = state.page(Some("tok-1"), Some(&two));
        assert_eq!(found[0].pointer, "/next");
        assert!(
            found[0]
                .actual
                .starts_with("tok-1, already the cursor of page 2"),
            "{}",
            found[0].actual
        );
        // A last item without an id: the schema's to report; the walk just cannot go on.
        let no_id = json!({"data": [{"created_at": 5}], "has_more": true});
        let c = list_batches();
        let mut state = WalkState::new(&c, "limit=2".into(), 2, WalkBounds::default());
        assert_eq!(state.page(None, Some(&no_id)), (vec![], Next::Stop));
        // No token after the last page: the walk is complete, with nothing to probe.
        let mut last = page(&[("a", 10)], false);
        last["next"] = Value::Null;
        let c = contract_with(CursorSource::Token);
        let mut state = WalkState::new(&c, "limit=2".into(), 2, WalkBounds::default());
        assert_eq!(state.page(None, Some(&last)), (vec![], Next::Stop));
        assert!(state.finish().complete);
    }

    #[test]
    fn an_ascending_walk_holds_the_order_the_other_way() {
        let pages = [
            page(&[("a", 10), ("b", 20)], true),
            page(&[("c", 15)], false),
        ];
        let c = list_batches();
        let mut state = WalkState::new(&c, "limit=2".into(), 2, WalkBounds::default())
            .direction(Direction::Asc);
        assert_eq!(state.page(None, Some(&pages[0])).0, []);
        let (found, _) = state.page(Some("b"), Some(&pages[1]));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].invariant, Invariant::WalkOrder);
        assert!(
            found[0].expected.starts_with(">= 20"),
            "{}",
            found[0].expected
        );
    }

    #[test]
    fn items_created_during_an_ascending_walk_may_follow_its_end() {
        let c = list_batches();
        let mut state = WalkState::new(&c, "limit=2".into(), 2, WalkBounds::default())
            .direction(Direction::Asc);
        state.started(1_000_000);
        let (found, next) = state.page(None, Some(&page(&[("a", 10), ("b", 20)], false)));
        assert_eq!((found, next), (vec![], Next::Probe("b".into())));
        // Created after the walk began (within the clock skew): live traffic at the newest end.
        assert_eq!(
            state.probe(Some(&page(&[("n", 1_000_000 - 60)], false))),
            []
        );
        assert!(state.finish().complete);
        // An old item there is one the walk's has_more hid.
        let mut state = WalkState::new(&c, "limit=2".into(), 2, WalkBounds::default())
            .direction(Direction::Asc);
        state.started(1_000_000);
        state.page(None, Some(&page(&[("a", 10), ("b", 20)], false)));
        // (c is older than the run by far, though newer than anything the walk saw.)
        let found = state.probe(Some(&page(&[("c", 500_000), ("n", 1_000_000)], false)));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].actual, "1 item(s): c (a client stops before them)");
    }

    #[test]
    fn a_cycle_counts_only_the_ids_earlier_pages_had() {
        // Page 2 repeats page 1's last id as its own last, after one new id.
        let c = list_batches();
        let mut state = WalkState::new(&c, "limit=2".into(), 2, WalkBounds::default());
        state.page(None, Some(&page(&[("c", 30), ("b", 20)], true)));
        let (found, next) = state.page(Some("b"), Some(&page(&[("x", 20), ("b", 20)], true)));
        assert_eq!(next, Next::Stop);
        let cycle = found
            .iter()
            .find(|v| v.invariant == Invariant::CursorCycle)
            .expect("a cycle");
        assert!(
            cycle
                .actual
                .contains("(1 of this page's 2 ids were seen before)"),
            "{}",
            cycle.actual
        );
    }
}
