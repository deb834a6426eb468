//! Diagnoses of the server's bug: from the pattern of what a walk lost or repeated, the
//! likely cause in the server's terms (`created_at < cursor` with no tie-break, `>=` where
//! `>` was meant, a cursor or a parameter ignored), with the evidence that points at it:
//! walk, page, cursor, ids. Pure functions over what the walks recorded; the runner keeps
//! what they find in each case's [`CaseEvidence`](crate::evidence::CaseEvidence), and the
//! reports say it beside the configuration diagnoses of
//! [`crate::report::diagnose`].

use std::collections::HashSet;

use serde::Serialize;

use crate::check::walk::{Seen, WalkRecord};
use crate::violation::{Invariant, Violation};

/// The likely causes the harness names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BugKind {
    /// Items tied with the cursor on the order key are skipped: the cursor compares the
    /// order key alone (`created_at < cursor`), with no tie-break on the id.
    TieSkipped,
    /// The page after a cursor starts with the cursor's own item (`>=` where `>` was meant).
    CursorInclusive,
    /// The cursor is ignored: the page after it is the first page again.
    CursorIgnored,
    /// `limit` is ignored, or clamped without an error: a page holds more than asked for.
    LimitIgnored,
    /// Page ids carry something `first_id`/`last_id` do not (or the reverse): the ids of
    /// the page were rewritten in one place only.
    IdsRewritten,
    /// A filtered walk has short pages that say `has_more: true`: the filter is applied
    /// after paging.
    FilterAfterPaging,
    /// The order parameter is ignored: both orders list the same sequence.
    OrderIgnored,
    /// `before` is ignored or reversed: backward pages do not hold the items just before
    /// their cursor, in order.
    BeforeIgnoredOrReversed,
    /// A comparison failed because one of its own walks broke the contract: that walk's
    /// violation is the cause, not what the comparison compares.
    ComparisonFollowsWalk,
}

/// One diagnosis of the server's bug: its kind, the case it was seen in, and what to say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerBug {
    pub kind: BugKind,
    /// The case (`suite::case`) whose walks show it; filled in by the reports.
    pub case: String,
    pub message: String,
}

impl ServerBug {
    fn new(kind: BugKind, message: String) -> ServerBug {
        ServerBug {
            kind,
            case: String::new(),
            message,
        }
    }
}

/// How many ids a message lists.
const LISTED: usize = 4;

fn list(ids: &[&str]) -> String {
    let mut text = ids
        .iter()
        .take(LISTED)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > LISTED {
        text.push_str(&format!(", … ({} in all)", ids.len()));
    }
    text
}

/// What one walk shows on its own: the cursor's item repeated, the first page again, more
/// items on a page than asked for.
pub fn of_walk(walk: &WalkRecord) -> Vec<ServerBug> {
    let mut out = Vec::new();
    // Each page's first item and item count, in one pass over the items: a search per page
    // would be quadratic in a walk at limit 1 (10,000 pages of 10,000 items).
    let mut firsts: Vec<Option<&Seen>> = Vec::new();
    let mut per_page: Vec<u64> = Vec::new();
    for s in &walk.items {
        let page = s.page as usize;
        if firsts.len() <= page {
            firsts.resize(page + 1, None);
            per_page.resize(page + 1, 0);
        }
        firsts[page].get_or_insert(s);
        per_page[page] += 1;
    }
    let first_of = |page: u32| firsts.get(page as usize).copied().flatten();
    for (i, cursor) in walk.cursors.iter().enumerate().skip(1) {
        let page = i as u32 + 1;
        let (Some(cursor), Some(first)) = (cursor, first_of(page)) else {
            continue;
        };
        if page == 2 && first_of(1).is_some_and(|f| f.id == first.id) && first.id != *cursor {
            out.push(ServerBug::new(
                BugKind::CursorIgnored,
                format!(
                    "the cursor is ignored: walk {}, page 2 (after={cursor}) starts again with \
                     {}, the first page's first item: the server likely drops the `after` \
                     parameter (or a proxy does)",
                    walk.label, first.id
                ),
            ));
            break;
        }
        if first.id == *cursor {
            out.push(ServerBug::new(
                BugKind::CursorInclusive,
                format!(
                    "the cursor is inclusive: walk {}, page {page} (after={cursor}) starts with \
                     the cursor's own item {cursor}: the server likely selects `>=` (or `<=`) \
                     the cursor where `>` (`<`) was meant",
                    walk.label
                ),
            ));
            break;
        }
    }
    if let Some((page, n)) = per_page
        .iter()
        .enumerate()
        .find(|(_, n)| **n > walk.page_size)
    {
        out.push(ServerBug::new(
            BugKind::LimitIgnored,
            format!(
                "`limit` is ignored or clamped without an error: walk {}, page {page} holds {n} \
                 items where at most {} were asked for",
                walk.label, walk.page_size
            ),
        ));
    }
    out
}

/// A `limit` above the contract's maximum answered with a page instead of an error: the
/// server clamps it silently. `held`: the items the page held, if it could be read.
pub fn limit_clamped(request: &str, asked: u64, max: u64, held: Option<usize>) -> ServerBug {
    ServerBug::new(
        BugKind::LimitIgnored,
        format!(
            "`limit` is clamped without an error: {request} asked for {asked}, above the \
             maximum {max}, and got a page{} instead of a 400: a client that asks for more \
             than the maximum is not told it got less",
            held.map(|n| format!(" of {n} items")).unwrap_or_default()
        ),
    )
}

/// What a walk at a small limit lost against one at a larger limit, when the pattern is
/// that of a cursor that compares the order key alone (`key < cursor`): at some page boundary
/// items tied with the cursor are lost, every item lost at any boundary is such a tie, and no
/// page starts with an item tied with its cursor (such a server never shows one). Items
/// created during the run (`fresh_since` on) are not counted.
pub fn of_pair(small: &WalkRecord, large: &WalkRecord, fresh_since: i64) -> Option<ServerBug> {
    let in_small: HashSet<&str> = small.items.iter().map(|s| &*s.id).collect();
    let at: std::collections::HashMap<&str, usize> = large
        .items
        .iter()
        .enumerate()
        .map(|(i, s)| (&*s.id, i))
        .collect();
    let mut first: Option<(&Seen, &Seen, Vec<&str>)> = None;
    let mut ties_lost = 0;
    for pair in small.items.windows(2) {
        let (cursor, next) = (&pair[0], &pair[1]);
        if cursor.page == next.page {
            continue;
        }
        if cursor.key.is_some() && next.key == cursor.key {
            // A tie met at a boundary: this cursor breaks ties.
            return None;
        }
        let (Some(&a), Some(&b)) = (at.get(&*cursor.id), at.get(&*next.id)) else {
            continue;
        };
        if b <= a + 1 {
            continue;
        }
        let lost: Vec<&Seen> = large.items[a + 1..b]
            .iter()
            .filter(|s| !in_small.contains(&*s.id) && s.key.is_none_or(|k| k < fresh_since))
            .collect();
        if lost.is_empty() {
            continue;
        }
        if cursor.key.is_none() || lost.iter().any(|s| s.key != cursor.key) {
            // Something other than ties went missing: another bug.
            return None;
        }
        ties_lost += lost.len();
        if first.is_none() {
            first = Some((cursor, next, lost.iter().map(|s| &*s.id).collect()));
        }
    }
    let (cursor, next, ids) = first?;
    Some(ServerBug::new(
        BugKind::TieSkipped,
        format!(
            "items tied with the cursor are skipped: walk {}, page {} (after={}) left out {} \
             that share the order key {} with the cursor {} (walk {} lists them; {ties_lost} \
             tied item(s) lost in all, and no page starts with a tie of its cursor): the cursor \
             likely compares the order key alone (`created_at < cursor`) with no tie-break on \
             the id; order by (key, id) and compare both",
            small.label,
            next.page,
            cursor.id,
            list(&ids),
            cursor.key.unwrap_or_default(),
            cursor.id,
            large.label
        ),
    ))
}

/// Both orders listing the same sequence: the order parameter is ignored.
pub fn of_orders(asc: &WalkRecord, desc: &WalkRecord) -> Option<ServerBug> {
    let ids = |w: &WalkRecord| w.items.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
    let distinct = asc
        .items
        .iter()
        .filter_map(|s| s.key)
        .collect::<HashSet<_>>();
    (asc.items.len() > 1 && distinct.len() > 1 && ids(asc) == ids(desc)).then(|| {
        ServerBug::new(
            BugKind::OrderIgnored,
            format!(
                "the order parameter is ignored: walks {} and {} list the same {} items in the \
                 same order (first {}, last {})",
                asc.label,
                desc.label,
                asc.items.len(),
                asc.items[0].id,
                asc.items[asc.items.len() - 1].id
            ),
        )
    })
}

/// A filtered walk whose pages run short or empty while `has_more` says more follow: the
/// filter is applied after paging. Short pages alone are allowed ("may return fewer"), so it
/// takes an empty page with `has_more: true` in the filtered walk (`walk_violations`, its
/// own), or short pages in a filtered walk that listed the wrong items (`compared_failed`).
pub fn of_filtered(
    filtered: &WalkRecord,
    walk_violations: &[Violation],
    compared_failed: bool,
) -> Option<ServerBug> {
    let mut per_page = std::collections::BTreeMap::<u32, u64>::new();
    for s in &filtered.items {
        *per_page.entry(s.page).or_default() += 1;
    }
    let short = per_page
        .iter()
        .filter(|(page, n)| **page < filtered.pages && **n < filtered.page_size)
        .count();
    let empty = walk_violations
        .iter()
        .find(|v| matches!(v.invariant, Invariant::HasMoreTrue | Invariant::EmptyPage));
    let evidence = match (empty, short) {
        (Some(v), _) => format!(
            "{}: {} ({}), after {short} short page(s)",
            v.page.as_ref().map(|p| p.to_string()).unwrap_or_default(),
            v.actual,
            v.invariant
        ),
        (None, n) if n > 0 && compared_failed => format!(
            "walk {}: {n} page(s) before the last hold fewer than {} items and say `has_more: \
             true`, and the filtered walk lists the wrong items",
            filtered.label, filtered.page_size
        ),
        _ => return None,
    };
    Some(ServerBug::new(
        BugKind::FilterAfterPaging,
        format!(
            "the filter is likely applied after paging ({evidence}): the server pages the \
             unfiltered listing, then drops what does not match; filter in the query, before \
             the limit"
        ),
    ))
}

/// From a case's violations: backward pages that break the contract, and comparisons that
/// fail because one of their own walks did.
pub fn of_violations(violations: &[Violation]) -> Vec<ServerBug> {
    let mut out = Vec::new();
    if let Some(v) = violations
        .iter()
        .find(|v| v.invariant == Invariant::BackwardPage)
    {
        let place = v.page.as_ref().map(|p| p.to_string()).unwrap_or_default();
        out.push(ServerBug::new(
            BugKind::BeforeIgnoredOrReversed,
            format!(
                "`before` is likely ignored or reversed: {place}: expected {}, got {}: the \
                 server runs the backward query as the forward one (or forgets to reverse its \
                 rows)",
                v.expected, v.actual
            ),
        ));
    }
    let quoted = |s: &str| s.split('"').nth(1).map(str::to_owned);
    let rewritten = violations.iter().find_map(|v| {
        if !matches!(v.invariant, Invariant::FirstId | Invariant::LastId) {
            return None;
        }
        let (item, given) = (quoted(&v.expected)?, quoted(&v.actual)?);
        let (long, short, which) = if item.len() > given.len() {
            (
                item,
                given,
                "the page's ids carry it, `first_id`/`last_id` do not",
            )
        } else {
            (
                given,
                item,
                "`first_id`/`last_id` carry it, the page's ids do not",
            )
        };
        (!short.is_empty() && long != short && (long.ends_with(&short) || long.starts_with(&short)))
            .then(|| (v, long.replace(&short, ""), which))
    });
    if let Some((v, extra, which)) = rewritten {
        out.push(ServerBug::new(
            BugKind::IdsRewritten,
            format!(
                "ids are rewritten in one place only: `{extra}` is added to ids ({which}; {} at                  {}: expected {}, got {}): a gateway or routing layer likely rewrites `data[].id`                  without `first_id`/`last_id` (or the reverse), so a cursor taken from one is                  unknown to the server",
                v.invariant,
                v.request.as_deref().unwrap_or(v.pointer.as_str()),
                v.expected,
                v.actual
            ),
        ));
    }
    // A filtered or ordered walk is compared with a reference walk that must itself be
    // right; walks at several limits (`same_sequence`) are compared with each other, and a
    // walk's own violation there may be a second bug, not the cause.
    const COMPARISONS: [Invariant; 2] = [Invariant::FilterSequence, Invariant::OrderReversed];
    let walk_level = [
        Invariant::DuplicateId,
        Invariant::WalkOrder,
        Invariant::CursorCycle,
        Invariant::HasMoreTrue,
        Invariant::HasMoreFalse,
        Invariant::PageSize,
        Invariant::Order,
    ];
    let comparison = violations
        .iter()
        .find(|v| COMPARISONS.contains(&v.invariant));
    let cause = violations
        .iter()
        .find(|v| walk_level.contains(&v.invariant) && v.page.is_some());
    if let (Some(c), Some(w)) = (comparison, cause) {
        out.push(ServerBug::new(
            BugKind::ComparisonFollowsWalk,
            format!(
                "the {} failure likely follows from a walk it compares, which broke the \
                 contract itself ({} at {}: {}): fix that walk's bug first; the comparison is not to \
                 blame",
                c.invariant,
                w.invariant,
                w.page.as_ref().map(|p| p.to_string()).unwrap_or_default(),
                w.actual
            ),
        ));
    }
    out
}

/// Across a run: a comparison of a filtered or ordered walk that failed in a suite whose
/// cursor skips ties (a [`BugKind::TieSkipped`] among `bugs`) compared walks that both lost
/// ties; the skipped ties, not the filter or the order, are the likely cause. `cases` are
/// the failed cases (`suite::case`) with their violations.
pub fn follow_ups(bugs: &[ServerBug], cases: &[(&str, &[Violation])]) -> Vec<ServerBug> {
    let suite_of = |name: &str| name.split("::").next().unwrap_or(name).to_owned();
    let mut out = Vec::new();
    for (case, violations) in cases {
        let Some(tie) = bugs
            .iter()
            .find(|b| b.kind == BugKind::TieSkipped && suite_of(&b.case) == suite_of(case))
        else {
            continue;
        };
        let Some(v) = violations.iter().find(|v| {
            matches!(
                v.invariant,
                Invariant::FilterSequence | Invariant::OrderReversed
            )
        }) else {
            continue;
        };
        out.push(ServerBug {
            kind: BugKind::ComparisonFollowsWalk,
            case: (*case).to_owned(),
            message: format!(
                "the {} failure of {case} likely follows from the skipped ties ({} shows \
                 them): the walks it compares skip ties too, so the {} is not to blame",
                v.invariant,
                tie.case,
                if v.invariant == Invariant::FilterSequence {
                    "filter"
                } else {
                    "order parameter"
                }
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::walk::walked;
    use std::sync::Arc;

    fn with_cursors(mut w: WalkRecord) -> WalkRecord {
        let pages = w.items.iter().map(|s| s.page).max().unwrap_or(0);
        w.pages = pages;
        w.cursors = (1..=pages)
            .map(|p| {
                (p > 1).then(|| {
                    w.items
                        .iter()
                        .rfind(|s| s.page == p - 1)
                        .map(|s| s.id.clone())
                        .unwrap_or_else(|| Arc::from(""))
                })
            })
            .collect();
        w
    }

    #[test]
    fn a_tie_skipped_at_a_boundary_names_the_tie_and_the_cursor() {
        let large = walked("limit=7", 7, &[("a", 9), ("b", 8), ("c", 8), ("d", 7)]);
        let small = walked("limit=2", 2, &[("a", 9), ("b", 8), ("d", 7)]);
        let bug = of_pair(&small, &large, i64::MAX).unwrap();
        assert_eq!(bug.kind, BugKind::TieSkipped);
        assert!(
            bug.message.contains(
                "page 2 (after=b) left out c that share the order key 8 with the cursor b"
            ),
            "{}",
            bug.message
        );
        // A lost item that is no tie is some other bug.
        let small = walked("limit=2", 2, &[("a", 9), ("c", 8), ("d", 7)]);
        let large = walked("limit=7", 7, &[("a", 9), ("c", 8), ("x", 7), ("d", 7)]);
        assert_eq!(of_pair(&small, &large, i64::MAX), None);
        // Same walks: nothing.
        assert_eq!(of_pair(&large, &large, i64::MAX), None);
    }

    #[test]
    fn an_inclusive_or_ignored_cursor_and_an_ignored_limit_are_named() {
        let mut w = with_cursors(walked(
            "limit=2",
            2,
            &[("a", 9), ("b", 8), ("b", 8), ("c", 7)],
        ));
        w.items[2].page = 2;
        w.items[2].slot = 0;
        w.items[3].page = 2;
        w.items[3].slot = 1;
        w.items[1].page = 1;
        let w = with_cursors(w);
        let bugs = of_walk(&w);
        assert_eq!(bugs.len(), 1, "{bugs:?}");
        assert_eq!(bugs[0].kind, BugKind::CursorInclusive);
        assert!(
            bugs[0].message.contains("page 2 (after=b)"),
            "{}",
            bugs[0].message
        );

        let w = with_cursors(walked(
            "limit=2",
            2,
            &[("a", 9), ("b", 8), ("a", 9), ("b", 8)],
        ));
        let bugs = of_walk(&w);
        assert_eq!(bugs[0].kind, BugKind::CursorIgnored);

        let mut big = walked("limit=1", 1, &[("a", 9), ("b", 8)]);
        big.items[1].page = 1;
        let bugs = of_walk(&with_cursors(big));
        assert_eq!(bugs[0].kind, BugKind::LimitIgnored);

        let fine = with_cursors(walked("limit=2", 2, &[("a", 9), ("b", 8), ("c", 7)]));
        assert!(of_walk(&fine).is_empty());
    }

    #[test]
    fn a_comparison_that_follows_from_its_walk_or_from_skipped_ties_says_so() {
        let mut walk = Violation::new(Invariant::HasMoreTrue, "/data", "items", "an empty page");
        walk.page = Some(crate::violation::PageRef {
            walk: "limit=7".into(),
            page: 3,
            cursor: Some("f_9".into()),
            probe: false,
            param: None,
        });
        let filter = Violation::new(Invariant::FilterSequence, "", "x", "y");
        let bugs = of_violations(&[filter.clone(), walk.clone()]);
        assert_eq!(bugs.len(), 1);
        assert_eq!(bugs[0].kind, BugKind::ComparisonFollowsWalk);
        assert!(
            bugs[0]
                .message
                .starts_with("the filter_sequence failure likely follows")
        );
        // Walks at several limits compared with each other: no claim.
        let same = Violation::new(Invariant::SameSequence, "", "x", "y");
        assert!(of_violations(&[same, walk]).is_empty());
        assert!(of_violations(std::slice::from_ref(&filter)).is_empty());

        let tie = ServerBug {
            case: "openai_files::cross_walk".into(),
            ..ServerBug::new(BugKind::TieSkipped, "ties".into())
        };
        let failed = [filter];
        let cases: [(&str, &[Violation]); 1] = [("openai_files::filter_walk", &failed)];
        let more = follow_ups(std::slice::from_ref(&tie), &cases);
        assert_eq!(more.len(), 1);
        assert!(
            more[0].message.contains("so the filter is not to blame"),
            "{}",
            more[0].message
        );
        let cases: [(&str, &[Violation]); 1] = [("list_batches::filter_walk", &failed)];
        assert!(follow_ups(&[tie], &cases).is_empty(), "another suite");
    }

    #[test]
    fn ids_rewritten_in_one_place_and_backward_pages_out_of_place_are_named() {
        let v = Violation::new(
            Invariant::FirstId,
            "/first_id",
            "\"litellm_proxy:batch_1\" (data[0].id)",
            "\"batch_1\"",
        );
        let bugs = of_violations(&[v]);
        assert_eq!(bugs[0].kind, BugKind::IdsRewritten);
        assert!(
            bugs[0].message.contains("`litellm_proxy:` is added to ids"),
            "{}",
            bugs[0].message
        );
        let v = Violation::new(
            Invariant::FirstId,
            "/first_id",
            "\"b_1\" (data[0].id)",
            "\"b_2\"",
        );
        assert!(of_violations(&[v]).is_empty(), "another id is no rewrite");
        let v = Violation::new(Invariant::BackwardPage, "", "b_7..b_1", "b_1..b_7");
        assert_eq!(
            of_violations(&[v])[0].kind,
            BugKind::BeforeIgnoredOrReversed
        );
    }

    #[test]
    fn a_clamped_limit_names_the_request_and_the_maximum() {
        let bug = limit_clamped("GET /v1/batches?limit=101", 101, 100, Some(100));
        assert_eq!(bug.kind, BugKind::LimitIgnored);
        assert!(
            bug.message.starts_with(
                "`limit` is clamped without an error: GET /v1/batches?limit=101 asked for 101, \
                 above the maximum 100, and got a page of 100 items instead of a 400"
            ),
            "{}",
            bug.message
        );
    }

    #[test]
    fn ignored_orders_and_short_filtered_pages_are_named() {
        let asc = walked("limit=2, order=asc", 2, &[("a", 1), ("b", 2)]);
        let desc = walked("limit=2, order=desc", 2, &[("a", 1), ("b", 2)]);
        assert_eq!(of_orders(&asc, &desc).unwrap().kind, BugKind::OrderIgnored);
        let desc = walked("limit=2, order=desc", 2, &[("b", 2), ("a", 1)]);
        assert_eq!(of_orders(&asc, &desc), None);

        let mut f = with_cursors(walked("limit=2", 2, &[("a", 9), ("c", 7), ("d", 6)]));
        f.items[1].page = 2;
        f.items[2].page = 3;
        f.pages = 3;
        // Short pages alone are allowed; with a wrong listing they point at the filter.
        assert_eq!(of_filtered(&f, &[], false), None);
        assert_eq!(
            of_filtered(&f, &[], true).unwrap().kind,
            BugKind::FilterAfterPaging
        );
        let empty = Violation::new(Invariant::HasMoreTrue, "/data", "items", "an empty page");
        assert_eq!(
            of_filtered(&f, &[empty], false).unwrap().kind,
            BugKind::FilterAfterPaging
        );
        let full = with_cursors(walked("limit=2", 2, &[("a", 9), ("c", 7), ("d", 6)]));
        assert_eq!(of_filtered(&full, &[], true), None);
    }
}
