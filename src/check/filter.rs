//! The filter comparison: a filtered walk lists exactly the matching items of the walk at the
//! same limit without the filter, in order.

use super::cross_walk::{compare_pair, fresh_since};
use super::walk::WalkRecord;
use crate::contract::Contract;
use crate::violation::{Invariant, Violation};

/// Holds a walk with a filter (`purpose=batch`) against the walk at the same limit without it:
/// the filtered walk must list exactly the items of the other whose field (the contract's
/// filter number `filter`) has `value`, in the same order. A leaked item is one the filtered
/// walk has and the other does not list as matching; a dropped one the reverse. Live traffic
/// is left out as in [`compare_walks`](super::cross_walk::compare_walks).
pub fn compare_filtered(
    filtered: &WalkRecord,
    all: &WalkRecord,
    filter: usize,
    value: &str,
    contract: &Contract,
) -> Vec<Violation> {
    let Some(tags) = all.tags.get(filter) else {
        return Vec::new();
    };
    let mut matching = WalkRecord {
        label: format!("{} (its items with {value})", all.label),
        items: all
            .items
            .iter()
            .zip(tags)
            .filter(|(_, tag)| tag.as_deref() == Some(value))
            .map(|(s, _)| s.clone())
            .collect(),
        first_page_len: 0,
        tags: Vec::new(),
        ..all.clone()
    };
    matching.first_page_len = matching.items.iter().take_while(|s| s.page == 1).count();
    let fresh = fresh_since(&[filtered, all], contract);
    compare_pair(filtered, &matching, fresh)
        .into_iter()
        .map(|mut v| {
            v.invariant = Invariant::FilterSequence;
            v.expected = format!(
                "the walk at {} lists exactly the items of the walk at {} that match, in order",
                filtered.label, all.label
            );
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::check::cross_walk::tests::record;
    use crate::contract::list_batches;

    fn tagged(label: &str, items: &[(&str, &str)]) -> WalkRecord {
        let ids: Vec<&str> = items.iter().map(|(id, _)| *id).collect();
        let mut r = record(label, 2, &ids, true);
        r.tags = vec![items.iter().map(|(_, t)| Some(Arc::from(*t))).collect()];
        r
    }

    #[test]
    fn a_filtered_walk_lists_exactly_the_matching_items() {
        let all = tagged(
            "limit=2",
            &[
                ("e", "batch"),
                ("d", "fine-tune"),
                ("c", "batch"),
                ("b", "batch"),
                ("a", "vision"),
            ],
        );
        let c = list_batches();
        let exact = record("limit=2, purpose=batch", 2, &["e", "c", "b"], true);
        assert_eq!(compare_filtered(&exact, &all, 0, "batch", &c), []);

        let leaked = record("limit=2, purpose=batch", 2, &["e", "d", "c", "b"], true);
        let found = compare_filtered(&leaked, &all, 0, "batch", &c);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].invariant, Invariant::FilterSequence);
        assert!(
            found[0]
                .actual
                .contains("; limit=2 (its items with batch) has c at position 2"),
            "{}",
            found[0].actual
        );
        assert!(
            found[0]
                .actual
                .contains("has d at position 2 (page 1, data[1]) (missing from the other walk)"),
            "{}",
            found[0].actual
        );

        let dropped = record("limit=2, purpose=batch", 2, &["e", "b"], true);
        let found = compare_filtered(&dropped, &all, 0, "batch", &c);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].actual.contains("has c at position 2")
                && found[0].actual.contains("(missing from the other walk)"),
            "{}",
            found[0].actual
        );
    }
}
