//! Cross-walk invariants: walks of one listing at different limits list the same ids in the
//! same order. Live traffic (items created during the run) is told apart from drift.

use std::collections::HashSet;

use super::walk::{Seen, WalkRecord};
use crate::contract::Contract;
use crate::violation::{Invariant, Violation};

/// Holds walks at different limits against each other: each against a reference walk, the
/// one with the largest pages (the fewest boundaries) among those that reached the end. They
/// must list the same ids in the same order, so the first page at a smaller limit is a prefix
/// of the first page at a larger one.
///
/// Live traffic is not drift: an item one walk saw and the other did not is left out when it
/// was created during the run (its order key is at least the earliest walk's start minus the
/// contract's `clock_skew_secs`) and is no older than anything the walk that lacks it saw.
/// An incomplete walk is compared as far as it got.
pub fn compare_walks(walks: &[&WalkRecord], contract: &Contract) -> Vec<Violation> {
    let Some(reference) = walks
        .iter()
        .enumerate()
        .max_by_key(|(i, w)| (w.complete, w.page_size, std::cmp::Reverse(*i)))
        .map(|(_, w)| *w)
    else {
        return Vec::new();
    };
    let fresh_since = fresh_since(walks, contract);
    walks
        .iter()
        .filter(|w| !std::ptr::eq(**w, reference))
        .filter_map(|w| {
            if w.page_size <= reference.page_size {
                compare_pair(w, reference, fresh_since)
            } else {
                compare_pair(reference, w, fresh_since)
            }
        })
        .collect()
}

/// The order value from which on an item counts as created during the run: the earliest
/// walk's start less the contract's clock skew. No item does when the key is no time.
pub fn fresh_since(walks: &[&WalkRecord], contract: &Contract) -> i64 {
    let start = walks.iter().map(|w| w.started_at).min().unwrap_or(0)
        - i64::try_from(contract.clock_skew_secs).unwrap_or(i64::MAX);
    contract.order_value_at(start).unwrap_or(i64::MAX)
}

fn ids(walk: &WalkRecord) -> HashSet<&str> {
    walk.items.iter().map(|s| &*s.id).collect()
}

/// The items of `walk` that count in a comparison with `other`, with their positions: all
/// but the live traffic only `walk` saw. An item is live when it was created during the run
/// and is no older than anything `other` saw: new items join a listing at its newest end.
fn comparable<'w>(
    walk: &'w WalkRecord,
    other: &WalkRecord,
    in_other: &HashSet<&str>,
    fresh_since: i64,
) -> Vec<(usize, &'w Seen)> {
    let newest_in_other = other.items.iter().filter_map(|s| s.key).max();
    let live = |s: &Seen| {
        s.key
            .is_some_and(|k| k >= fresh_since && newest_in_other.is_none_or(|n| k >= n))
    };
    walk.items
        .iter()
        .enumerate()
        .filter(|(_, s)| in_other.contains(&*s.id) || !live(s))
        .collect()
}

/// The first place two walks disagree, if any; `small` has the smaller (or equal) pages. A
/// sampled `small` is compared window by window with the same stretch of `large`: from the
/// item after the window's cursor, as far as the window read (the last window to the end).
pub(super) fn compare_pair(
    small: &WalkRecord,
    large: &WalkRecord,
    fresh_since: i64,
) -> Option<Violation> {
    if small.windows.is_empty() {
        return compare_at(small, large, fresh_since, (0, 0));
    }
    let positions: std::collections::HashMap<&str, usize> = large
        .items
        .iter()
        .enumerate()
        .rev()
        .map(|(i, s)| (&*s.id, i))
        .collect();
    small.windows.iter().enumerate().find_map(|(i, w)| {
        let last = i + 1 == small.windows.len();
        let end = small.windows.get(i + 1).map_or(small.items.len(), |n| n.at);
        let cursor = small.cursors.get(w.page as usize - 1).cloned().flatten();
        // Where the window begins in `large`: after its cursor; a cursor `large` never met
        // leaves nothing to compare the window with.
        let from = match &cursor {
            None => 0,
            Some(c) => positions.get(&**c)? + 1,
        };
        let part = |w: &WalkRecord, range: std::ops::Range<usize>, complete: bool| WalkRecord {
            items: w.items[range.clone()].to_vec(),
            first_page_len: if range.start == 0 {
                w.first_page_len
            } else {
                0
            },
            complete,
            label: w.label.clone(),
            page_size: w.page_size,
            cursors: w.cursors.clone(),
            pages: w.pages,
            started_at: w.started_at,
            ..WalkRecord::default()
        };
        let mine = part(small, w.at.min(end)..end, last && small.complete);
        // All of `large` from there: the window's items must be its first ones.
        let theirs = part(
            large,
            from.min(large.items.len())..large.items.len(),
            large.complete,
        );
        compare_at(&mine, &theirs, fresh_since, (from, from))
    })
}

/// [`compare_pair`] of two stretches of walks, which begin at positions `offsets` of the
/// walks they were cut from (for the positions messages name).
fn compare_at(
    small: &WalkRecord,
    large: &WalkRecord,
    fresh_since: i64,
    offsets: (usize, usize),
) -> Option<Violation> {
    let (in_small, in_large) = (ids(small), ids(large));
    let a = comparable(small, large, &in_large, fresh_since);
    let b = comparable(large, small, &in_small, fresh_since);

    let at = a
        .iter()
        .zip(&b)
        .position(|((_, x), (_, y))| x.id != y.id)
        .or_else(|| {
            let n = a.len().min(b.len());
            // Past the shorter walk, only a complete one proves the other has too much.
            let ended = if a.len() < b.len() { small } else { large };
            (a.len() != b.len() && ended.complete).then_some(n)
        })?;

    let (s, l) = (&small.label, &large.label);
    let side = |w: &WalkRecord,
                other: &HashSet<&str>,
                item: Option<&(usize, &Seen)>,
                offset: usize| match item {
        Some((pos, seen)) => {
            let note = if other.contains(&*seen.id) {
                String::new()
            } else {
                " (missing from the other walk)".to_owned()
            };
            let cursor = w
                .cursors
                .get(seen.page as usize - 1)
                .and_then(Option::as_deref)
                .map(|c| format!(", after={c}"))
                .unwrap_or_default();
            format!(
                "{} has {} at position {} (page {}{cursor}, data[{}]){note}",
                w.label,
                seen.id,
                pos + offset + 1,
                seen.page,
                seen.slot
            )
        }
        None => format!(
            "{} ended after {} ids ({} pages)",
            w.label,
            w.items.len() + offset,
            w.pages
        ),
    };
    let actual = format!(
        "they first differ here: {}; {}",
        side(small, &in_large, a.get(at), offsets.0),
        side(large, &in_small, b.get(at), offsets.1)
    );
    let in_first_page = a
        .get(at)
        .is_some_and(|(pos, _)| *pos < small.first_page_len);
    let (invariant, expected) = if in_first_page {
        (
            Invariant::FirstPagePrefix,
            format!(
                "the first page at {s} ({} ids) is a prefix of the first page at {l} ({} ids)",
                small.first_page_len, large.first_page_len
            ),
        )
    } else {
        (
            Invariant::SameSequence,
            format!("the walks at {s} and {l} list the same ids in the same order"),
        )
    };
    Some(Violation::new(invariant, "", expected, actual))
}

#[cfg(test)]
pub(super) mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::check::walk::tests::{page, walk};
    use crate::contract::list_batches;

    pub(crate) fn record(label: &str, page_size: u64, ids: &[&str], complete: bool) -> WalkRecord {
        let items = ids
            .iter()
            .enumerate()
            .map(|(i, id)| Seen {
                id: Arc::from(*id),
                key: Some(1000 - i as i64),
                page: (i as u64 / page_size) as u32 + 1,
                slot: (i as u64 % page_size) as u32,
            })
            .collect();
        WalkRecord {
            label: label.into(),
            page_size,
            items,
            first_page_len: ids.len().min(page_size as usize),
            cursors: (0..ids.len().div_ceil(page_size as usize))
                .map(|p| (p > 0).then(|| Arc::from(ids[p * page_size as usize - 1])))
                .collect(),
            pages: ids.len().div_ceil(page_size as usize) as u32,
            complete,
            started_at: 1_000_000,
            ..WalkRecord::default()
        }
    }

    fn compare(walks: &[WalkRecord]) -> Vec<(&'static str, String)> {
        let refs: Vec<&WalkRecord> = walks.iter().collect();
        compare_walks(&refs, &list_batches())
            .into_iter()
            .map(|v| (v.invariant.name(), v.actual))
            .collect()
    }

    #[test]
    fn equal_walks_agree() {
        let ids = ["e", "d", "c", "b", "a"];
        assert_eq!(
            compare(&[
                record("limit=1", 1, &ids, true),
                record("limit=2", 2, &ids, true)
            ]),
            []
        );
    }

    #[test]
    fn a_gap_is_named_with_position_pages_and_ids() {
        let found = compare(&[
            record("limit=1", 1, &["e", "d", "b", "a"], true),
            record("limit=2", 2, &["e", "d", "c", "b", "a"], true),
        ]);
        assert_eq!(
            found,
            [(
                "same_sequence",
                "they first differ here: limit=1 has b at position 3 (page 3, after=d, data[0]); limit=2 has c at position 3 (page 2, after=d, data[0]) (missing from the other walk)".to_owned()
            )]
        );
    }

    #[test]
    fn a_difference_on_the_first_page_breaks_the_prefix_rule() {
        let found = compare(&[
            record("limit=2", 2, &["d", "e", "c"], true),
            record("limit=3", 3, &["e", "d", "c"], true),
        ]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "first_page_prefix");
    }

    #[test]
    fn a_longer_complete_walk_and_an_incomplete_one() {
        let found = compare(&[
            record("limit=1", 1, &["c", "b", "a", "z"], true),
            record("limit=2", 2, &["c", "b", "a"], true),
        ]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].1.ends_with("limit=2 ended after 3 ids (2 pages)"),
            "{}",
            found[0].1
        );
        // A walk that stopped early is compared only as far as it got.
        let found = compare(&[
            record("limit=1", 1, &["c", "b"], false),
            record("limit=2", 2, &["c", "b", "a"], true),
        ]);
        assert_eq!(found, []);
    }

    #[test]
    fn a_new_item_missing_from_the_middle_is_a_gap() {
        // Created a minute before the run, so "new", but one walk skipped it mid-listing:
        // new items only ever join at the head.
        let mut full = record("limit=1", 1, &["e", "d", "c", "b", "a"], true);
        let mut gap = record("limit=2", 2, &["e", "d", "b", "a"], true);
        for w in [&mut full, &mut gap] {
            for s in &mut w.items {
                s.key = Some(1_000_000 - 60 - s.slot as i64 - 10 * i64::from(s.page));
            }
        }
        let found = compare(&[full, gap]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].1.contains("has c at position 3"), "{}", found[0].1);
    }

    #[test]
    fn items_without_an_id_do_not_derail_a_walk_or_a_comparison() {
        let no_id = json!({"created_at": 50});
        let mut first = page(&[("c", 40), ("b", 30)], true);
        first["data"]
            .as_array_mut()
            .unwrap()
            .insert(0, no_id.clone());
        let mut second = page(&[("a", 10)], false);
        second["data"].as_array_mut().unwrap().insert(0, no_id);
        let (found, record) = walk(&[first, second, page(&[], false)], 10);
        assert_eq!(found, []);
        assert_eq!(record.first_page_len, 2);
        assert_eq!(record.cursors, [None, Some(Arc::from("b"))]);
        let mut other = record.clone();
        other.label = "limit=3".into();
        other.page_size = 3;
        other.items.swap(0, 1);
        let found = compare(&[record, other]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "first_page_prefix");
        assert!(
            found[0].1.contains("has c at position 1 (page 1, data[1])"),
            "{}",
            found[0].1
        );
    }

    #[test]
    fn the_reference_is_a_complete_walk() {
        // The walk at the largest limit broke off; the others are held to each other.
        let mut broken = record("limit=100", 100, &["c", "b"], false);
        broken.pages = 1;
        let found = compare(&[
            record("limit=1", 1, &["c", "b", "a", "z"], true),
            record("limit=2", 2, &["c", "b", "a"], true),
            broken,
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].1.ends_with("limit=2 ended after 3 ids (2 pages)"),
            "{}",
            found[0].1
        );
    }

    #[test]
    fn items_created_during_the_run_are_not_gaps() {
        let mut early = record("limit=1", 1, &["c", "b", "a"], true);
        let mut late = record("limit=2", 2, &["n", "c", "b", "a"], true);
        late.items[0].key = Some(early.started_at + 5);
        late.started_at += 30;
        assert_eq!(compare(&[early.clone(), late.clone()]), []);
        // An old item one walk lacks is a gap, wherever it sits.
        late.items[0].key = Some(early.started_at - 10_000);
        assert_eq!(compare(&[early.clone(), late.clone()]).len(), 1);
        // A new item tied with the head may sit behind it.
        early.items[0].key = Some(early.started_at);
        late = record("limit=2", 2, &["c", "n", "b", "a"], true);
        late.items[1].key = Some(early.started_at);
        assert_eq!(compare(&[early, late]), []);
    }

    /// A walk at limit 1 of `ids` sampled at `windows` (0-based start positions, 3 items
    /// each, the last to the end), with `drop` left out as a server that skips it would.
    fn sampled(ids: &[String], windows: &[usize], drop: Option<&str>) -> WalkRecord {
        let mut w = WalkRecord {
            label: "limit=1".into(),
            page_size: 1,
            complete: true,
            started_at: 1_000_000,
            listing: ids.len() as u64,
            ..WalkRecord::default()
        };
        for (i, &start) in windows.iter().enumerate() {
            let end = windows.get(i + 1).map_or(ids.len(), |_| start + 3);
            w.windows.push(crate::check::walk::SampledWindow {
                at: w.items.len(),
                page: w.pages + 1,
                whole_page: start as u64 + 1,
            });
            let mut cursor = start.checked_sub(1).map(|c| Arc::from(ids[c].as_str()));
            for (p, id) in ids[start..end].iter().enumerate() {
                if Some(id.as_str()) == drop {
                    continue;
                }
                w.pages += 1;
                w.cursors.push(
                    cursor
                        .take()
                        .or_else(|| (p > 0).then(|| Arc::from(ids[start + p - 1].as_str()))),
                );
                w.items.push(Seen {
                    id: Arc::from(id.as_str()),
                    key: Some(100_000 - (start + p) as i64),
                    page: w.pages,
                    slot: 0,
                });
            }
        }
        w.first_page_len = 1;
        w
    }

    #[test]
    fn a_sampled_walk_is_compared_window_by_window() {
        let ids: Vec<String> = (0..400).map(|i| format!("b{i:03}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let mut whole = record("limit=100", 100, &refs, true);
        for (i, s) in whole.items.iter_mut().enumerate() {
            s.key = Some(100_000 - i as i64);
        }
        let windows = [0, 100, 200, 397];
        let fine = sampled(&ids, &windows, None);
        assert_eq!(
            compare_pair(&fine, &whole, i64::MAX),
            None,
            "a conforming sampled walk agrees with the stretches it read"
        );
        // An item skipped inside a middle window: named at its position in the listing.
        let gap = compare_pair(&sampled(&ids, &windows, Some("b101")), &whole, i64::MAX)
            .expect("the skip is caught");
        assert_eq!(gap.invariant, Invariant::SameSequence);
        assert!(
            gap.actual.contains("limit=1 has b102 at position 102")
                && gap.actual.contains("limit=100 has b101 at position 102"),
            "{}",
            gap.actual
        );
        // In the last window: the end is checked at every limit.
        let end = compare_pair(&sampled(&ids, &windows, Some("b398")), &whole, i64::MAX);
        assert!(end.is_some_and(|v| v.actual.contains("b399")));
        // An item outside every window is not read: a sampled walk cannot see its loss.
        assert_eq!(
            compare_pair(&sampled(&ids, &windows, Some("b050")), &whole, i64::MAX),
            None
        );
        // A full walk with the same skip is caught (what `--depth full` is for).
        let mut skipped = refs.clone();
        skipped.retain(|id| *id != "b050");
        assert!(compare_pair(&record("limit=1", 1, &skipped, true), &whole, i64::MAX).is_some());
    }
}
