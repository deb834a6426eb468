//! Backward paging: from the end of a forward walk back to the head with the contract's
//! `before` parameter, and round trips (`after=X`, then `before=<first id>` of that page).
//!
//! A backward page must hold exactly the items just before its cursor in the forward listing,
//! in list order (or nearest-first, when the contract says `page_order = "reversed"`), and its
//! `has_more` must say whether items remain further back. Walking back page by page then
//! yields the forward listing exactly: no item skipped, repeated or reordered.
//!
//! Staging is alive: items created during the run join the listing at its head, so a page
//! that reaches the head may hold items the forward walk never saw. Those are allowed when
//! they are new (their order key is past the run's start, less the clock skew) and stand
//! before every known item.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::walk::{Next, WalkRecord};
use crate::contract::{Contract, CursorSource, PageOrder, pointer};
use crate::violation::{Invariant, Violation};

/// A backward walk in progress, or one round trip: feed it each page's body.
#[derive(Debug)]
pub struct BackwardState<'a> {
    contract: &'a Contract,
    forward: &'a WalkRecord,
    /// Each forward id and its position.
    index: HashMap<&'a str, usize>,
    /// The forward position of the current cursor: the page must end just before it.
    end: usize,
    /// Order values from which on an item counts as created during the run.
    fresh_since: i64,
    /// The invariant a page that holds the wrong items breaks: `backward_page` on a walk,
    /// `round_trip` on a round trip.
    invariant: Invariant,
    max_pages: u32,
    pages: u32,
    /// `has_more` of the page before.
    more_before: bool,
    cursors: HashSet<Arc<str>>,
}

impl<'a> BackwardState<'a> {
    /// A walk back from the last item of `forward` (a complete, non-empty forward walk).
    pub fn from_end(
        contract: &'a Contract,
        forward: &'a WalkRecord,
        fresh_since: i64,
        max_pages: u32,
    ) -> Self {
        let index = forward
            .items
            .iter()
            .enumerate()
            .map(|(i, s)| (&*s.id, i))
            .rev()
            .collect();
        BackwardState {
            contract,
            forward,
            index,
            end: forward.items.len().saturating_sub(1),
            fresh_since,
            invariant: Invariant::BackwardPage,
            max_pages: max_pages.max(1),
            pages: 0,
            more_before: false,
            cursors: HashSet::new(),
        }
    }

    /// A round trip to the page before forward position `end` (the first item of a forward
    /// page): it must end with the item at `end - 1`, the cursor that fetched that page.
    pub fn round_trip(
        contract: &'a Contract,
        forward: &'a WalkRecord,
        fresh_since: i64,
        end: usize,
    ) -> Self {
        BackwardState {
            end,
            invariant: Invariant::RoundTrip,
            ..BackwardState::from_end(contract, forward, fresh_since, 1)
        }
    }

    /// The id the walk starts from: the last item of the forward listing.
    pub fn start(&self) -> Option<Arc<str>> {
        self.forward.items.get(self.end).map(|s| Arc::clone(&s.id))
    }

    /// Pages taken so far.
    pub fn pages(&self) -> u32 {
        self.pages
    }

    /// Takes the page asked for with `before=cursor`. Returns what it breaks, and where to go.
    pub fn page(&mut self, cursor: &str, body: Option<&Value>) -> (Vec<Violation>, Next) {
        self.pages += 1;
        self.cursors.insert(Arc::from(cursor));
        let mut out = Vec::new();
        let contract = self.contract;
        let envelope = &contract.envelope;
        let Some(items) = body.and_then(|b| envelope.items(b)) else {
            return (out, Next::Stop);
        };
        let has_more = body.and_then(|b| envelope.has_more(b));
        if items.is_empty() {
            if self.end > 0 {
                out.push(Violation::new(
                    self.invariant,
                    envelope.data.as_str(),
                    format!(
                        "the {} item(s) before {cursor}, ending with {}",
                        self.end.min(self.page_size()),
                        self.forward.items[self.end - 1].id
                    ),
                    "an empty page (a client paging back stops here)".to_owned(),
                ));
            } else if self.more_before {
                out.push(Violation::new(
                    Invariant::BackwardHasMore,
                    envelope.data.as_str(),
                    "items (the page before said has_more: true)",
                    format!("an empty page before {cursor}, the head of the listing"),
                ));
            }
            return (out, Next::Stop);
        }

        // In list order, with each item's wire position.
        let mut listed: Vec<(usize, &Value)> = items.iter().enumerate().collect();
        if self.page_order() == PageOrder::Reversed {
            listed.reverse();
        }
        let id_field = &contract.id_field;
        let with_ids: Vec<(usize, &str, &Value)> = listed
            .iter()
            .filter_map(|(slot, item)| Some((*slot, item.get(id_field)?.as_str()?, *item)))
            .collect();
        let known_from = with_ids
            .iter()
            .position(|(_, id, _)| self.index.contains_key(id))
            .unwrap_or(with_ids.len());
        let known = &with_ids[known_from..];
        let start = self.end.saturating_sub(known.len());
        // New items may stand only before every known one, on a page that reaches the head.
        for (slot, id, item) in &with_ids[..known_from] {
            let new = item
                .get(&contract.order_key)
                .and_then(|k| contract.order_value(k))
                .is_some_and(|k| k >= self.fresh_since);
            if !new || start > 0 {
                out.push(Violation::new(
                    self.invariant,
                    format!("/data/{slot}/{id_field}"),
                    self.expected_at(start.saturating_sub(known_from), cursor),
                    format!(
                        "{id}, which the forward walk did not list{}",
                        if new {
                            " (new since the run began, but not at the head)"
                        } else {
                            ""
                        }
                    ),
                ));
                return (out, Next::Stop);
            }
        }
        // Anchored at the cursor: the nearest item first.
        for (k, (slot, id, _)) in known.iter().enumerate().rev() {
            let want = start + k;
            if self.forward.items.get(want).map(|s| &*s.id) != Some(*id) || want >= self.end {
                let actual = match self.index.get(id) {
                    Some(&at) => format!(
                        "{id}, which the forward walk has at position {} (page {}, data[{}])",
                        at + 1,
                        self.forward.items[at].page,
                        self.forward.items[at].slot
                    ),
                    None => format!("{id}, which the forward walk did not list"),
                };
                out.push(Violation::new(
                    self.invariant,
                    format!("/data/{slot}/{id_field}"),
                    self.expected_at(want, cursor),
                    actual,
                ));
                if self.invariant == Invariant::RoundTrip {
                    return (out, Next::Stop);
                }
                // Resynchronize on the page's farthest known item, if the walk can go on.
                self.end = self.index.get(known[0].1).copied().unwrap_or(0);
                return (out, self.next(body, &with_ids, has_more));
            }
        }
        self.end = start;
        self.more_before = has_more == Some(true);
        if let Some(more) = has_more
            && !more
            && start > 0
        {
            out.push(Violation::new(
                Invariant::BackwardHasMore,
                envelope.has_more.as_str(),
                format!(
                    "true ({start} item(s) lie further back, up to {})",
                    self.forward.items[start - 1].id
                ),
                "false (a client paging back stops here)".to_owned(),
            ));
            return (out, Next::Stop);
        }
        if self.invariant == Invariant::RoundTrip {
            return (out, Next::Stop);
        }
        if has_more == Some(true) && self.pages >= self.max_pages {
            out.push(Violation::new(
                Invariant::PageBudget,
                envelope.has_more.as_str(),
                format!("has_more: false within {} pages", self.max_pages),
                format!(
                    "has_more is still true after {} backward pages; {}",
                    self.pages,
                    super::walk::PAGE_BUDGET_HINT
                ),
            ));
            return (out, Next::Stop);
        }
        (out, self.next(body, &with_ids, has_more))
    }

    /// Takes the answer to the request after a backward page with `has_more: false`: the page
    /// before the head, which must be empty (items created during the run aside).
    pub fn probe(&mut self, body: Option<&Value>) -> Vec<Violation> {
        let contract = self.contract;
        let Some(items) = body.and_then(|b| contract.envelope.items(b)) else {
            return Vec::new();
        };
        let old: Vec<&str> = items
            .iter()
            .filter(|item| {
                item.get(&contract.order_key)
                    .and_then(|k| contract.order_value(k))
                    .is_none_or(|k| k < self.fresh_since)
            })
            .filter_map(|item| item.get(&contract.id_field)?.as_str())
            .collect();
        if old.is_empty() {
            return Vec::new();
        }
        vec![Violation::new(
            Invariant::BackwardHasMore,
            contract.envelope.data.as_str(),
            format!(
                "no items (backward page {} said has_more: false)",
                self.pages - 1
            ),
            format!(
                "{} item(s) before the head: {}",
                old.len(),
                old.iter().take(5).copied().collect::<Vec<_>>().join(", ")
            ),
        )]
    }

    fn page_size(&self) -> usize {
        usize::try_from(self.forward.page_size).unwrap_or(usize::MAX)
    }

    fn page_order(&self) -> PageOrder {
        self.contract
            .backward
            .as_ref()
            .map_or(PageOrder::List, |b| b.page_order)
    }

    /// What should stand at forward position `want`, for messages.
    fn expected_at(&self, want: usize, cursor: &str) -> String {
        match self.forward.items.get(want).filter(|_| want < self.end) {
            Some(s) => format!(
                "{} (forward position {}, page {}, data[{}]): the items just before {cursor}, in list order",
                s.id,
                want + 1,
                s.page,
                s.slot
            ),
            None => format!("no item there: the page must end just before {cursor}"),
        }
    }

    /// Where to go after a page: before its farthest item (the envelope's `first_id` for the
    /// schemes whose SDKs take it from there), probing once `has_more` is false.
    fn next(
        &self,
        body: Option<&Value>,
        listed: &[(usize, &str, &Value)],
        has_more: Option<bool>,
    ) -> Next {
        let from_envelope = (self.contract.cursor_source == CursorSource::LastId)
            .then(|| self.contract.envelope.first_id())
            .flatten()
            .and_then(|p| body.and_then(|b| pointer(b, p)))
            .and_then(Value::as_str);
        let Some(cursor) = from_envelope.or(listed.first().map(|(_, id, _)| *id)) else {
            return Next::Stop;
        };
        if self.cursors.contains(cursor) {
            return Next::Stop;
        }
        match has_more {
            Some(true) => Next::Page(cursor.to_owned()),
            Some(false) => Next::Probe(cursor.to_owned()),
            None => Next::Stop,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::check::walk::walked;
    use crate::contract::{Backward, list_batches};

    fn contract(page_order: PageOrder) -> Contract {
        Contract {
            backward: Some(Backward {
                param: "before".into(),
                page_order,
            }),
            ..list_batches()
        }
    }

    /// A forward listing of `ids`, newest first, in pages of 2.
    fn forward(ids: &[&str]) -> WalkRecord {
        let items: Vec<(&str, i64)> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, 1000 - i as i64))
            .collect();
        walked("limit=2", 2, &items)
    }

    fn page(ids: &[&str], has_more: bool) -> Value {
        let data: Vec<Value> = ids
            .iter()
            .map(|id| json!({"id": id, "created_at": 1000 - (id.as_bytes()[0] - b'a') as i64}))
            .collect();
        json!({"data": data, "has_more": has_more, "first_id": ids.first(), "last_id": ids.last()})
    }

    /// Walks back over `listing` answering with `pages` in turn; the violations by name and
    /// message, and the cursors sent.
    fn walk_back(
        contract: &Contract,
        listing: &[&str],
        pages: &[Value],
    ) -> (Vec<(&'static str, String)>, Vec<String>) {
        let forward = forward(listing);
        let mut state = BackwardState::from_end(contract, &forward, i64::MAX, 100);
        let mut cursor = state.start().map(|c| c.to_string());
        let (mut found, mut sent) = (Vec::new(), Vec::new());
        let mut pages = pages.iter();
        let mut probing = false;
        while let (Some(c), Some(body)) = (cursor.take(), pages.next()) {
            sent.push(c.clone());
            if probing {
                found.extend(state.probe(Some(body)));
                break;
            }
            let (v, next) = state.page(&c, Some(body));
            found.extend(v);
            match next {
                Next::Page(n) => cursor = Some(n),
                Next::Probe(n) => {
                    cursor = Some(n);
                    probing = true;
                }
                Next::Stop => {}
            }
        }
        let found = found
            .into_iter()
            .map(|v| (v.invariant.name(), v.actual))
            .collect();
        (found, sent)
    }

    const LISTING: [&str; 5] = ["a", "b", "c", "d", "e"];

    #[test]
    fn a_conforming_backward_walk_reaches_the_head_and_probes_it() {
        let (found, sent) = walk_back(
            &contract(PageOrder::List),
            &LISTING,
            &[
                page(&["c", "d"], true),
                page(&["a", "b"], false),
                page(&[], false),
            ],
        );
        assert_eq!(found, []);
        assert_eq!(sent, ["e", "c", "a"]);
    }

    #[test]
    fn a_reversed_page_breaks_backward_page() {
        let (found, _) = walk_back(
            &contract(PageOrder::List),
            &LISTING,
            &[page(&["d", "c"], true)],
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "backward_page");
        assert_eq!(
            found[0].1,
            "c, which the forward walk has at position 3 (page 2, data[0])"
        );
        // The same page is right where the contract says backward pages come nearest-first.
        let (found, _) = walk_back(
            &contract(PageOrder::Reversed),
            &LISTING,
            &[
                page(&["d", "c"], true),
                page(&["b", "a"], false),
                page(&[], false),
            ],
        );
        assert_eq!(found, []);
    }

    #[test]
    fn an_inclusive_cursor_and_a_skipped_item_are_named() {
        let (found, _) = walk_back(
            &contract(PageOrder::List),
            &LISTING,
            &[page(&["d", "e"], true)],
        );
        assert_eq!(found[0].0, "backward_page");
        assert_eq!(
            found[0].1,
            "e, which the forward walk has at position 5 (page 3, data[0])"
        );
        let (found, _) = walk_back(
            &contract(PageOrder::List),
            &LISTING,
            &[page(&["b", "c"], true)],
        );
        assert_eq!(found[0].0, "backward_page");
        assert_eq!(
            found[0].1,
            "c, which the forward walk has at position 3 (page 2, data[0])"
        );
    }

    #[test]
    fn has_more_false_too_early_and_items_before_the_head_are_named() {
        let (found, _) = walk_back(
            &contract(PageOrder::List),
            &LISTING,
            &[page(&["c", "d"], false)],
        );
        assert_eq!(
            found,
            [(
                "backward_has_more",
                "false (a client paging back stops here)".to_owned()
            )]
        );
        let (found, _) = walk_back(
            &contract(PageOrder::List),
            &LISTING,
            &[
                page(&["c", "d"], true),
                page(&["a", "b"], false),
                page(&["a"], false),
            ],
        );
        assert_eq!(
            found,
            [(
                "backward_has_more",
                "1 item(s) before the head: a".to_owned()
            )]
        );
    }

    #[test]
    fn new_items_at_the_head_are_live_traffic_not_drift() {
        let forward = forward(&LISTING);
        // Created during the run: an order value past the run's start.
        let mut head = page(&["n", "a", "b"], false);
        head["data"][0]["created_at"] = json!(2_000_000);
        let c = contract(PageOrder::List);
        let mut state = BackwardState::from_end(&c, &forward, 1_000_000, 10);
        assert_eq!(state.page("e", Some(&page(&["c", "d"], true))).0, []);
        assert_eq!(state.page("c", Some(&head)).0, []);
        // An old item the forward walk did not list is drift wherever it stands.
        let mut state = BackwardState::from_end(&c, &forward, 1_000_000, 10);
        let (found, _) = state.page("e", Some(&page(&["x", "d"], true)));
        assert_eq!(found[0].invariant, Invariant::BackwardPage);
        assert_eq!(found[0].actual, "x, which the forward walk did not list");
    }

    #[test]
    fn a_round_trip_must_end_with_the_cursor() {
        let c = contract(PageOrder::List);
        let forward = forward(&LISTING);
        // after=b gave page 2 (c, d); before=c must give a, b.
        let mut trip = BackwardState::round_trip(&c, &forward, i64::MAX, 2);
        assert_eq!(trip.page("c", Some(&page(&["a", "b"], false))).0, []);
        let mut trip = BackwardState::round_trip(&c, &forward, i64::MAX, 2);
        let (found, next) = trip.page("c", Some(&page(&["b", "c"], true)));
        assert_eq!(next, Next::Stop);
        assert_eq!(found[0].invariant, Invariant::RoundTrip);
        assert_eq!(found[0].pointer, "/data/1/id");
        assert_eq!(
            found[0].expected,
            "b (forward position 2, page 1, data[1]): the items just before c, in list order"
        );
    }

    #[test]
    fn an_empty_page_before_items_or_after_has_more_true_is_named() {
        let c = contract(PageOrder::List);
        let forward = forward(&LISTING);
        // Items remain before the cursor, but the page is empty.
        let mut state = BackwardState::from_end(&c, &forward, i64::MAX, 10);
        let (found, next) = state.page("e", Some(&page(&[], false)));
        assert_eq!(next, Next::Stop);
        assert_eq!(found[0].invariant, Invariant::BackwardPage);
        assert_eq!(found[0].expected, "the 2 item(s) before e, ending with d");
        // The head reached with has_more: true, then an empty page.
        let mut state = BackwardState::from_end(&c, &forward, i64::MAX, 10);
        assert_eq!(state.page("e", Some(&page(&["c", "d"], true))).0, []);
        assert_eq!(state.page("c", Some(&page(&["a", "b"], true))).0, []);
        let (found, _) = state.page("a", Some(&page(&[], false)));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].invariant, Invariant::BackwardHasMore);
        assert_eq!(
            found[0].actual,
            "an empty page before a, the head of the listing"
        );
        assert_eq!(state.pages(), 3);
        // The head reached with has_more: false, then the empty page before it: conforming.
        let mut state = BackwardState::from_end(&c, &forward, i64::MAX, 10);
        state.page("e", Some(&page(&["c", "d"], true)));
        state.page("c", Some(&page(&["a", "b"], false)));
        assert_eq!(state.page("a", Some(&page(&[], false))).0, []);
    }

    #[test]
    fn a_new_item_away_from_the_head_is_drift() {
        let forward = forward(&LISTING);
        let c = contract(PageOrder::List);
        let mut state = BackwardState::from_end(&c, &forward, 1_000_000, 10);
        let mut body = page(&["n", "d"], true);
        body["data"][0]["created_at"] = json!(2_000_000);
        let (found, _) = state.page("e", Some(&body));
        assert_eq!(found[0].invariant, Invariant::BackwardPage);
        assert_eq!(
            found[0].actual,
            "n, which the forward walk did not list (new since the run began, but not at the head)"
        );
    }

    #[test]
    fn the_page_budget_ends_a_backward_walk_that_does_not() {
        let c = contract(PageOrder::List);
        let forward = forward(&LISTING);
        let mut state = BackwardState::from_end(&c, &forward, i64::MAX, 1);
        let (found, next) = state.page("e", Some(&page(&["c", "d"], true)));
        assert_eq!(next, Next::Stop);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].invariant, Invariant::PageBudget);
        let mut state = BackwardState::from_end(&c, &forward, i64::MAX, 2);
        assert_eq!(
            state.page("e", Some(&page(&["c", "d"], true))),
            (vec![], Next::Page("c".into()))
        );
    }

    #[test]
    fn a_page_longer_than_what_lies_back_and_the_live_boundary() {
        let c = contract(PageOrder::List);
        let forward = forward(&LISTING);
        // Before b only a is left: a page of a, b includes the cursor.
        let mut trip = BackwardState::round_trip(&c, &forward, i64::MAX, 1);
        let (found, _) = trip.page("b", Some(&page(&["a", "b"], false)));
        assert_eq!(
            found[0].expected,
            "no item there: the page must end just before b"
        );
        // An item created exactly at the run's start less the skew is new.
        let mut state = BackwardState::from_end(&c, &forward, 1_000_000, 10);
        state.page("e", Some(&page(&["c", "d"], true)));
        state.page("c", Some(&page(&["a", "b"], false)));
        let mut before = page(&["n"], false);
        before["data"][0]["created_at"] = json!(1_000_000);
        assert_eq!(state.probe(Some(&before)), []);
    }

    #[test]
    fn the_next_cursor_comes_from_first_id_where_the_sdks_take_it_from_there() {
        let forward = forward(&LISTING);
        let mut body = page(&["c", "d"], true);
        body["first_id"] = json!("x");
        // Anthropic's SDKs (cursor_source = "last_id") page back from first_id.
        let c = Contract {
            cursor_source: CursorSource::LastId,
            ..contract(PageOrder::List)
        };
        let mut state = BackwardState::from_end(&c, &forward, i64::MAX, 10);
        assert_eq!(state.page("e", Some(&body)).1, Next::Page("x".into()));
        // Item-id schemes take the first item's id.
        let c = contract(PageOrder::List);
        let mut state = BackwardState::from_end(&c, &forward, i64::MAX, 10);
        assert_eq!(state.page("e", Some(&body)).1, Next::Page("c".into()));
    }
}
