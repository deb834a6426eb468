//! Both orders of a listing: the walk with `order=asc` must list the items of the walk with
//! `order=desc`, reversed. Items with equal order keys may come either way round, but
//! consistently: every run of ties is either reversed with the rest or kept as it was.
//!
//! Items created during the run (at the newest end of each listing) that only one walk saw
//! are left out, as in the cross-walk.

use std::collections::HashSet;

use super::cross_walk::fresh_since;
use super::walk::{Seen, WalkRecord};
use crate::contract::Contract;
use crate::violation::{Invariant, Violation};

/// How runs of ties came out in the ascending walk, once the first run shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ties {
    /// Reversed along with the listing: a tie-break that follows the direction.
    Reversed,
    /// In the same order as in the descending walk: a fixed tie-break.
    Kept,
}

/// Holds the ascending walk against the descending one. Only complete walks are compared (a
/// walk cut short has said why already).
pub fn compare_orders(asc: &WalkRecord, desc: &WalkRecord, contract: &Contract) -> Vec<Violation> {
    if !asc.complete || !desc.complete {
        return Vec::new();
    }
    let fresh = fresh_since(&[asc, desc], contract);
    let (in_asc, in_desc) = (ids(asc), ids(desc));
    let reversed: Vec<&Seen> = kept(asc, &in_desc, fresh).into_iter().rev().collect();
    let desc_items = kept(desc, &in_asc, fresh);

    let place = |w: &WalkRecord, s: &Seen| {
        format!(
            "{} at page {}, data[{}] of the walk at {}",
            s.id, s.page, s.slot, w.label
        )
    };
    let expected = format!(
        "the walk at {} lists the items of the walk at {}, in reverse (ties either way round, but consistently)",
        asc.label, desc.label
    );
    let mut ties: Option<Ties> = None;
    let mut i = 0;
    while i < desc_items.len().max(reversed.len()) {
        let (Some(d), Some(r)) = (desc_items.get(i), reversed.get(i)) else {
            let (longer, w, missing_from) = if desc_items.len() > reversed.len() {
                (desc_items[i], desc, asc)
            } else {
                (reversed[i], asc, desc)
            };
            return vec![Violation::new(
                Invariant::OrderReversed,
                "",
                expected,
                format!(
                    "{} has no counterpart: the walk at {} ended {} item(s) earlier",
                    place(w, longer),
                    missing_from.label,
                    desc_items.len().abs_diff(reversed.len())
                ),
            )];
        };
        // The run of ties that starts here, in the descending walk.
        let run = desc_items[i..]
            .iter()
            .take_while(|s| s.key.is_some() && s.key == d.key)
            .count()
            .max(1);
        let theirs = &desc_items[i..i + run];
        let ours = reversed.get(i..i + run).unwrap_or(&reversed[i..]);
        let same = |a: &[&Seen], b: &mut dyn Iterator<Item = &&Seen>| {
            a.iter().all(|x| b.next().is_some_and(|y| x.id == y.id))
        };
        let as_reversed = ours.len() == run && same(theirs, &mut ours.iter());
        let as_kept = ours.len() == run && same(theirs, &mut ours.iter().rev());
        let fits = match ties {
            _ if run == 1 => as_reversed,
            None if as_reversed => {
                ties = Some(Ties::Reversed);
                true
            }
            None if as_kept => {
                ties = Some(Ties::Kept);
                true
            }
            Some(Ties::Reversed) => as_reversed,
            Some(Ties::Kept) => as_kept,
            None => false,
        };
        if !fits {
            let how = match (run, ties) {
                (1, _) => String::new(),
                (_, Some(Ties::Reversed)) if as_kept => {
                    " (this run of ties keeps its order, where earlier runs were reversed)"
                        .to_owned()
                }
                (_, Some(Ties::Kept)) if as_reversed => {
                    " (this run of ties is reversed, where earlier runs kept their order)"
                        .to_owned()
                }
                _ => format!(" (a run of {run} items with equal {})", contract.order_key),
            };
            let first_diff = (0..run)
                .find(|k| ours.get(*k).map(|s| &s.id) != Some(&theirs[*k].id))
                .unwrap_or(0);
            let mirror = reversed.get(i + first_diff).copied().unwrap_or(r);
            return vec![Violation::new(
                Invariant::OrderReversed,
                "",
                expected,
                format!(
                    "position {} from the newest end: {} but {}{how}",
                    i + first_diff + 1,
                    place(desc, theirs.get(first_diff).copied().unwrap_or(d)),
                    place(asc, mirror)
                ),
            )];
        }
        i += run;
    }
    Vec::new()
}

/// The items of `walk` that count: all but the new ones the other walk did not see.
fn kept<'w>(walk: &'w WalkRecord, other: &HashSet<&str>, fresh: i64) -> Vec<&'w Seen> {
    walk.items
        .iter()
        .filter(|s| other.contains(&*s.id) || s.key.is_none_or(|k| k < fresh))
        .collect()
}

fn ids(walk: &WalkRecord) -> HashSet<&str> {
    walk.items.iter().map(|s| &*s.id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::walk::walked;
    use crate::contract::list_batches;

    fn record(label: &str, items: &[(&str, i64)]) -> WalkRecord {
        walked(label, 2, items)
    }

    fn compare(asc: &[(&str, i64)], desc: &[(&str, i64)]) -> Vec<String> {
        compare_orders(
            &record("limit=2, order=asc", asc),
            &record("limit=2, order=desc", desc),
            &list_batches(),
        )
        .into_iter()
        .map(|v| format!("{}: {}", v.invariant.name(), v.actual))
        .collect()
    }

    #[test]
    fn mirrored_listings_agree_with_ties_either_way_round() {
        let desc = [("d", 4), ("c", 3), ("b", 3), ("a", 1)];
        assert_eq!(
            compare(&[("a", 1), ("b", 3), ("c", 3), ("d", 4)], &desc),
            Vec::<String>::new()
        );
        assert_eq!(
            compare(&[("a", 1), ("c", 3), ("b", 3), ("d", 4)], &desc),
            Vec::<String>::new()
        );
    }

    #[test]
    fn an_ignored_order_is_named_with_both_places() {
        let desc = [("d", 4), ("c", 3), ("a", 1)];
        let found = compare(&desc, &desc);
        assert_eq!(
            found,
            [
                "order_reversed: position 1 from the newest end: d at page 1, data[0] of the walk at limit=2, order=desc but a at page 2, data[0] of the walk at limit=2, order=asc"
            ]
        );
    }

    #[test]
    fn ties_must_come_out_consistently() {
        let desc = [("f", 5), ("e", 5), ("d", 4), ("c", 3), ("b", 3)];
        let asc = [("b", 3), ("c", 3), ("d", 4), ("f", 5), ("e", 5)];
        let found = compare(&asc, &desc);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("is reversed, where earlier runs kept their order"),
            "{found:?}"
        );
    }

    #[test]
    fn a_missing_item_is_named() {
        let found = compare(&[("a", 1), ("d", 4)], &[("d", 4), ("c", 3), ("a", 1)]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("order_reversed: position 2"),
            "{found:?}"
        );
    }

    #[test]
    fn a_run_of_ties_in_neither_order_is_named_at_its_first_difference() {
        // c, b, a tied: the ascending walk has them as b, c, a (neither way round).
        let desc = [("d", 4), ("c", 3), ("b", 3), ("a", 3)];
        let asc = [("a", 3), ("c", 3), ("b", 3), ("d", 4)];
        assert_eq!(
            compare(&asc, &desc),
            [
                "order_reversed: position 2 from the newest end: c at page 1, data[1] of the walk at limit=2, order=desc but b at page 2, data[0] of the walk at limit=2, order=asc (a run of 3 items with equal created_at)"
            ]
        );
        // The second run keeps its order where the first was reversed.
        let desc = [("f", 5), ("e", 5), ("d", 4), ("c", 3), ("b", 3)];
        let asc = [("c", 3), ("b", 3), ("d", 4), ("e", 5), ("f", 5)];
        let found = compare(&asc, &desc);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .ends_with("(this run of ties keeps its order, where earlier runs were reversed)"),
            "{found:?}"
        );
        assert!(
            found[0].starts_with("order_reversed: position 4 from"),
            "{found:?}"
        );
    }

    #[test]
    fn the_longer_walk_is_named_and_unfinished_walks_are_not_compared() {
        let found = compare(&[("a", 1), ("c", 3), ("d", 4)], &[("d", 4), ("c", 3)]);
        assert_eq!(
            found,
            [
                "order_reversed: a at page 1, data[0] of the walk at limit=2, order=asc has no counterpart: the walk at limit=2, order=desc ended 1 item(s) earlier"
            ]
        );
        let mut asc = record("limit=2, order=asc", &[("a", 1)]);
        let desc = record("limit=2, order=desc", &[("d", 4), ("c", 3)]);
        asc.complete = false;
        assert_eq!(compare_orders(&asc, &desc, &list_batches()), []);
        assert_eq!(compare_orders(&desc, &asc, &list_batches()), []);
    }

    #[test]
    fn items_created_during_the_run_count_only_where_both_walks_saw_them() {
        // The run began at 1_000_000; with 120 s of clock skew, keys from 999_880 on are new.
        let new = 999_880;
        // Seen by the ascending walk only (at its newest end): live traffic.
        assert_eq!(
            compare(&[("a", 1), ("b", 2), ("n", new)], &[("b", 2), ("a", 1)]),
            Vec::<String>::new()
        );
        // Seen by both, it must stand in mirrored places like any other item.
        let found = compare(
            &[("n", new), ("a", 1), ("b", 2)],
            &[("n", new), ("b", 2), ("a", 1)],
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("order_reversed: position 1"),
            "{found:?}"
        );
    }

    #[test]
    fn messages_name_the_run_and_the_place_of_the_first_difference() {
        // A longer descending walk: its extra item is named.
        let found = compare(&[("c", 3), ("d", 4)], &[("d", 4), ("c", 3), ("a", 1)]);
        assert_eq!(
            found,
            [
                "order_reversed: a at page 2, data[0] of the walk at limit=2, order=desc has no counterpart: the walk at limit=2, order=asc ended 1 item(s) earlier"
            ]
        );
        // Ties reversed first, then a run in neither order: named as a run, at its second item.
        let desc = [("f", 5), ("e", 5), ("c", 3), ("b", 3), ("a", 3)];
        let asc = [("b", 3), ("a", 3), ("c", 3), ("e", 5), ("f", 5)];
        assert_eq!(
            compare(&asc, &desc),
            [
                "order_reversed: position 4 from the newest end: b at page 2, data[1] of the walk at limit=2, order=desc but a at page 1, data[1] of the walk at limit=2, order=asc (a run of 3 items with equal created_at)"
            ]
        );
        // Ties kept first, then a run in neither order: named as a run too.
        let asc = [("b", 3), ("a", 3), ("c", 3), ("f", 5), ("e", 5)];
        let found = compare(&asc, &desc);
        assert!(
            found[0].ends_with("(a run of 3 items with equal created_at)"),
            "{found:?}"
        );
    }
}
