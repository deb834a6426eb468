//! The send-ahead planner: under [`WalkPlan::Parallel`](super::walk::WalkPlan) (the default)
//! a walk whose cursors are item ids (`cursor_source = last_item | last_id`) may be given a
//! reference: a walk of the same listing at a larger limit. Its order says which cursor each
//! later page will be asked with (`after = <the id at position k·L - 1>`), so those requests
//! are sent before the pages that name their cursors arrive, within the client's caps. Where
//! the prediction fails (drift, an item created or deleted since the reference walk), what
//! was fetched ahead is dropped and the walk takes a chained step from the cursor it really
//! has, then predicts again from there.

use std::collections::HashMap;
use std::sync::Arc;

use crate::check::walk::{WalkBounds, WalkRecord};

/// Pages fetched ahead of a walk when no cap on concurrency says how many: enough to hide a
/// round trip of tens of milliseconds behind the others, few enough to waste little when a
/// prediction fails.
pub(super) const AHEAD_UNCAPPED: usize = 16;

/// A reference walk's order, indexed: the listing as a walk at a larger limit met it.
pub(super) struct Order {
    ids: Vec<Arc<str>>,
    /// Each id's first position.
    index: HashMap<Arc<str>, usize>,
    /// Whether the reference reached the end: only then is its last id the end probe's cursor.
    complete: bool,
}

impl Order {
    /// The order a reference walk learned (its record).
    pub(super) fn of(reference: &WalkRecord) -> Order {
        let ids: Vec<Arc<str>> = reference.items.iter().map(|s| Arc::clone(&s.id)).collect();
        let mut index = HashMap::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            index.entry(Arc::clone(id)).or_insert(i);
        }
        Order {
            ids,
            index,
            complete: reference.complete,
        }
    }

    /// Items in the order.
    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    /// The first position of `id`, if the order holds it.
    pub(super) fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The id at `position`.
    pub(super) fn id(&self, position: usize) -> Option<&str> {
        self.ids.get(position).map(|id| &**id)
    }
}

/// One request of a walk: the cursor it is sent with (none on the first page), the page number
/// it gets, and whether it is the end probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Step {
    pub cursor: Option<String>,
    pub page: u32,
    pub probe: bool,
}

/// The requests a walk will send after a given one, if the listing is the reference's and
/// every page holds as many items as the last one did (`stride`, at most the page size):
/// from the cursor at position `c`, the next page's last item is at `c + stride`, and its id
/// is the cursor after that.
pub(super) struct Predictor<'o> {
    order: &'o Order,
    page_size: usize,
    stride: usize,
    bounds: WalkBounds,
    /// The last request predicted (or seeded): its cursor's position (`None` before the first
    /// item), its page number, and whether it was the probe. `None`: nothing more to predict.
    last: Option<(Option<usize>, u32, bool)>,
}

impl<'o> Predictor<'o> {
    pub(super) fn new(order: &'o Order, page_size: u64, bounds: WalkBounds) -> Self {
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
    pub(super) fn seed(&mut self, step: &Step, held: usize) {
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
}
