//! Every walk and cross-walk invariant, both ways: benign listings (empty, one item, exact
//! multiples of the limit, short pages, ties, live traffic) pass, and a server that breaks an
//! invariant fails with that invariant named, on the walk, page and cursor where it broke.

use crate::common;

use common::{Local, SUITES, Suite, case, mock_config, of, run, run_on, suite_cases, suite_config};
use list_contract::check::walk::WalkBounds;
use list_contract::http::RequestOptions;
use list_contract::mock::{Fault, ReferenceMock};
use list_contract::runner::{CaseRun, RunContext, WalkPlan, run_case};
use list_contract::violation::{Invariant, PageRef};
use wiremock::matchers::{query_param, query_param_is_missing};
use wiremock::{Mock, ResponseTemplate};

const WALKS: [&str; 5] = [
    "list_batches::walk_default",
    "list_batches::walk_limit_1",
    "list_batches::walk_limit_7",
    "list_batches::walk_max",
    "list_batches::cross_walk",
];

/// The distinct invariants a run reports, in order of first appearance.
fn invariants(run: &CaseRun) -> Vec<Invariant> {
    let mut out = Vec::new();
    for v in &run.violations {
        if !out.contains(&v.invariant) {
            out.push(v.invariant);
        }
    }
    out
}

fn page(walk: &str, page: u32, cursor: Option<&str>, probe: bool) -> Option<PageRef> {
    Some(PageRef {
        walk: walk.to_owned(),
        page,
        cursor: cursor.map(str::to_owned),
        probe,
        param: None,
    })
}

/// The id at `index` of the mock's listing.
fn id(mock: &ReferenceMock, index: usize) -> String {
    mock.items()[index]["id"].as_str().unwrap().to_owned()
}

async fn assert_walks_pass(mock: &ReferenceMock, what: &str) {
    for name in WALKS {
        let run = run_on(mock, name).await;
        assert!(run.passed(), "{name} on {what}: {:#?}", run.violations);
        assert!(run.walks >= 1 && run.pages >= 1, "{name}: {run:?}");
    }
}

#[tokio::test]
async fn benign_listings_walk_clean() {
    // Empty, one item, exact multiples of 7, of 20 and of 100, and one past a multiple.
    for items in [0, 1, 2, 7, 20, 140, 200, 101] {
        let mock = ReferenceMock::start(mock_config().items(items)).await;
        assert_walks_pass(&mock, &format!("{items} items")).await;
        // Every page read once: ceil(items / limit) pages and the end probe, or one empty page.
        let pages = |limit: u32| match items as u32 {
            0 => 1,
            n => n.div_ceil(limit) + 1,
        };
        for (name, expected) in [
            ("walk_limit_1", pages(1)),
            ("walk_limit_7", pages(7)),
            ("walk_default", pages(20)),
            ("walk_max", pages(100)),
            ("cross_walk", pages(1) + pages(7) + pages(20) + pages(100)),
        ] {
            let run = run_on(&mock, &format!("list_batches::{name}")).await;
            assert_eq!(
                (run.pages, run.requests),
                (expected, expected),
                "{name}, {items} items"
            );
        }
    }
}

#[tokio::test]
async fn a_walk_reads_every_item_once_and_probes_the_end() {
    let mock = ReferenceMock::start(mock_config().items(21)).await;
    let run = run_on(&mock, "list_batches::walk_limit_7").await;
    assert!(run.passed(), "{:#?}", run.violations);
    // Three pages of 7, then the probe after the last id.
    assert_eq!((run.pages, run.requests, run.shared), (4, 4, 0));
    let seen = mock.received().await;
    let last = seen.last().unwrap().url.query().unwrap().to_owned();
    assert_eq!(last, format!("limit=7&after={}", id(&mock, 20)));
}

#[tokio::test]
async fn short_pages_with_has_more_true_conform() {
    let mock = ReferenceMock::start(mock_config().short_pages()).await;
    assert_walks_pass(&mock, "short pages").await;
    let run = run_on(&mock, "list_batches::walk_limit_7").await;
    // 257 items, 4 per page, plus the probe.
    assert_eq!(run.pages, 257_u32.div_ceil(4) + 1);
}

#[tokio::test]
async fn equal_timestamps_in_a_stable_order_conform() {
    let mock = ReferenceMock::start(mock_config().all_tied()).await;
    assert_walks_pass(&mock, "one created_at for all").await;
}

#[tokio::test]
async fn live_traffic_is_not_drift() {
    // A new batch at the head and a status change every 5 requests, all through the walks.
    let mock = ReferenceMock::start(mock_config().live_every(5)).await;
    assert_walks_pass(&mock, "a live listing").await;
    let grown = mock.items().len() - 257;
    assert!(grown > 50, "the listing grew during the walks: {grown}");
}

#[tokio::test]
async fn shared_walks_are_counted_once() {
    let mock = ReferenceMock::start(mock_config().items(30)).await;
    let local = Local::new(&mock);
    let ctx = local.ctx();
    let page = run_case(case("list_batches::limit_7"), &ctx).await;
    let first = run_case(case("list_batches::walk_limit_7"), &ctx).await;
    let cross = run_case(case("list_batches::cross_walk"), &ctx).await;
    assert!(page.passed() && first.passed() && cross.passed());
    assert_eq!((page.requests, page.shared), (1, 0));
    // The walk's first page is the page case's request.
    assert_eq!((first.requests, first.shared, first.pages), (5, 1, 6));
    // Limits 1, default and max are new; the walk at 7 is the one above.
    assert_eq!((cross.requests, cross.shared), (31 + 3 + 2, 6));
    assert_eq!(mock.request_count().await, 6 + 31 + 3 + 2);
}

#[tokio::test]
async fn a_failed_first_page_is_not_shared() {
    // The first `GET ?limit=7` fails once; the page case gets the failure, the walk that
    // starts with the same request sends it again and passes.
    let once = Mock::given(query_param("limit", "7"))
        .and(query_param_is_missing("after"))
        .respond_with(ResponseTemplate::new(500).set_body_string("flaky"))
        .up_to_n_times(1);
    let mock = ReferenceMock::start_with(mock_config().items(30), vec![once]).await;
    let local = Local::new(&mock);
    let ctx = local.ctx();
    let page = run_case(case("list_batches::limit_7"), &ctx).await;
    assert_eq!(found_names(&page), [("status", "")]);
    let walk = run_case(case("list_batches::walk_limit_7"), &ctx).await;
    assert!(walk.passed(), "{:#?}", walk.violations);
    assert_eq!((walk.requests, walk.shared), (6, 0));
    // Now the answer is a good one, and the next case with that request shares it.
    let again = run_case(case("list_batches::limit_7"), &ctx).await;
    assert!(again.passed());
    assert_eq!((again.requests, again.shared), (0, 1));
}

#[tokio::test]
async fn an_ignored_cursor_is_a_cycle_caught_on_page_two() {
    let mock = ReferenceMock::start(mock_config().fault(Fault::CursorIgnored)).await;
    let run = run_on(&mock, "list_batches::walk_limit_7").await;
    assert_eq!(
        invariants(&run),
        [
            Invariant::WalkOrder,
            Invariant::DuplicateId,
            Invariant::CursorCycle
        ]
    );
    assert_eq!(run.requests, 2, "stopped at once, not at the page budget");
    let cursor = id(&mock, 6);
    let cycle = of(&run, Invariant::CursorCycle)[0];
    assert_eq!(cycle.page, page("limit=7", 2, Some(&cursor), false));
    assert_eq!(cycle.pointer, "/data/6/id");
    assert!(
        cycle.actual.starts_with(&format!("{cursor}, already the cursor of page 2: the next request would repeat page 2's request (7 of this page's 7 ids were seen before)")),
        "{}",
        cycle.actual
    );
    let dup = of(&run, Invariant::DuplicateId);
    assert_eq!(dup.len(), 7);
    assert_eq!(
        dup[0].actual,
        format!(
            "{}, already seen on page 1 at data[0] (walk position 1)",
            id(&mock, 0)
        )
    );
    assert!(
        dup[0]
            .request
            .as_deref()
            .unwrap()
            .ends_with(&format!("?limit=7&after={cursor}"))
    );
}

#[tokio::test]
async fn an_inclusive_cursor_repeats_each_boundary_item() {
    let mock = ReferenceMock::start(mock_config().fault(Fault::CursorInclusive)).await;
    let run = run_on(&mock, "list_batches::walk_limit_7").await;
    // The probe after the last id gets that item back, too.
    assert_eq!(
        invariants(&run),
        [Invariant::DuplicateId, Invariant::HasMoreFalse]
    );
    let dup = of(&run, Invariant::DuplicateId);
    // Each page after the first repeats the previous page's last item at data[0]: one
    // finding, counted on every page, its first occurrence kept in full.
    let (_, finding) = run
        .violations
        .findings()
        .find(|(k, _)| k.invariant == Some(Invariant::DuplicateId))
        .unwrap();
    assert_eq!(
        finding.occurrences(),
        42,
        "257 items, 6 new per page after the first"
    );
    assert_eq!(finding.pages(), 42);
    assert_eq!(dup[0].pointer, "/data/0/id");
    assert_eq!(dup[0].page, page("limit=7", 2, Some(&id(&mock, 6)), false));
    assert_eq!(
        dup[0].actual,
        format!(
            "{}, already seen on page 1 at data[6] (walk position 7)",
            id(&mock, 6)
        )
    );
    // At limit 1 the repeated item is the whole page: the cursor repeats at once.
    let run = run_on(&mock, "list_batches::walk_limit_1").await;
    assert_eq!(
        invariants(&run),
        [Invariant::DuplicateId, Invariant::CursorCycle]
    );
    assert_eq!(run.requests, 2);
}

#[tokio::test]
async fn a_duplicate_at_one_boundary_is_caught_there() {
    let mock = ReferenceMock::start(mock_config().fault(Fault::DuplicateOnce)).await;
    let run = run_on(&mock, "list_batches::walk_limit_7").await;
    assert_eq!(found_names(&run), [("duplicate_id", "/data/0/id")]);
    // 257 / 2 = 128 → the first boundary at or past it is after item 133 (page 19).
    let v = &run.violations[0];
    assert_eq!(v.page, page("limit=7", 20, Some(&id(&mock, 132)), false));
    assert!(v.actual.starts_with(&format!(
        "{}, already seen on page 19 at data[6]",
        id(&mock, 132)
    )));
}

fn found_names(run: &CaseRun) -> Vec<(&'static str, &str)> {
    run.violations
        .iter()
        .map(|v| (v.invariant.name(), v.pointer.as_str()))
        .collect()
}

#[tokio::test]
async fn has_more_true_on_the_last_page_is_caught_by_the_empty_page_after_it() {
    let mock = ReferenceMock::start(mock_config().items(14).fault(Fault::HasMoreAlwaysTrue)).await;
    let run = run_on(&mock, "list_batches::walk_limit_7").await;
    assert_eq!(
        found_names(&run),
        [("empty_page", "/has_more"), ("has_more_true", "/data")]
    );
    let v = of(&run, Invariant::HasMoreTrue)[0];
    assert_eq!(v.page, page("limit=7", 3, Some(&id(&mock, 13)), false));
    assert_eq!(v.expected, "at least one item (page 2 said has_more: true)");
    assert_eq!(
        v.actual,
        format!(
            "an empty page after {} (a client stops here, 14 ids in)",
            id(&mock, 13)
        )
    );
}

#[tokio::test]
async fn has_more_false_too_early_is_caught_by_the_end_probe() {
    let mock = ReferenceMock::start(mock_config().items(30).fault(Fault::HasMoreFalseEarly)).await;
    let run = run_on(&mock, "list_batches::walk_limit_7").await;
    assert_eq!(found_names(&run), [("has_more_false", "/data")]);
    let v = &run.violations[0];
    assert_eq!(v.page, page("limit=7", 2, Some(&id(&mock, 6)), true));
    assert_eq!(v.expected, "no items (page 1 said has_more: false)");
    assert!(
        v.actual
            .starts_with(&format!("7 item(s): {}, {}", id(&mock, 7), id(&mock, 8))),
        "{}",
        v.actual
    );
    assert!(
        v.actual.ends_with(", … (a client stops before them)"),
        "{}",
        v.actual
    );
    assert_eq!(run.requests, 2);
}

#[tokio::test]
async fn a_cursor_that_wraps_around_is_caught() {
    let mock = ReferenceMock::start(mock_config().items(10).fault(Fault::WrapAround)).await;
    let run = run_on(&mock, "list_batches::walk_limit_7").await;
    assert_eq!(
        invariants(&run),
        [
            Invariant::WalkOrder,
            Invariant::DuplicateId,
            Invariant::CursorCycle
        ]
    );
    let order = of(&run, Invariant::WalkOrder)[0];
    assert_eq!(order.page, page("limit=7", 3, Some(&id(&mock, 9)), false));
}

#[tokio::test]
async fn pages_in_the_wrong_order_break_the_order_across_boundaries() {
    let mock = ReferenceMock::start(mock_config().items(21).fault(Fault::PagesOldestFirst)).await;
    let run = run_on(&mock, "list_batches::walk_limit_7").await;
    assert_eq!(
        found_names(&run),
        [
            ("walk_order", "/data/0/created_at"),
            ("walk_order", "/data/0/created_at")
        ]
    );
    let v = &run.violations[0];
    // Page 1 held the 7 oldest items; page 2 starts with newer ones.
    assert_eq!(v.page, page("limit=7", 2, Some(&id(&mock, 20)), false));
    let last = &mock.items()[20];
    assert_eq!(
        v.expected,
        format!(
            "<= {} (created_at of {}, the last item of page 1; desc order)",
            last["created_at"],
            id(&mock, 20)
        )
    );
}

#[tokio::test]
async fn the_page_budget_stops_a_walk_that_does_not_end() {
    let mock = ReferenceMock::start(mock_config()).await;
    let local = Local::new(&mock);
    let ctx = RunContext {
        walk_bounds: WalkBounds {
            max_pages: 5,
            stop_after_items: None,
        },
        ..local.ctx()
    };
    let run = run_case(case("list_batches::walk_limit_1"), &ctx).await;
    assert_eq!(found_names(&run), [("page_budget", "/has_more")]);
    assert_eq!(run.requests, 5);
    let v = &run.violations[0];
    assert_eq!(v.expected, "has_more: false within 5 pages");
    assert!(
        v.actual.starts_with(&format!(
            "has_more is still true after 5 pages (5 ids, 5 distinct, last after={})",
            id(&mock, 4)
        )),
        "{}",
        v.actual
    );
    assert_eq!(v.page, page("limit=1", 5, Some(&id(&mock, 3)), false));
}

#[tokio::test]
async fn a_page_that_fails_mid_walk_stops_the_walk_and_is_named() {
    let mock = ReferenceMock::start(mock_config()).await;
    let cursor = id(&mock, 13);
    let broken = Mock::given(query_param("after", cursor.as_str()))
        .respond_with(ResponseTemplate::new(500).set_body_string("upstream timeout"))
        .up_to_n_times(10);
    let mock = ReferenceMock::start_with(mock_config(), vec![broken]).await;
    let run = run_on(&mock, "list_batches::walk_limit_7").await;
    assert_eq!(found_names(&run), [("status", "")]);
    let v = &run.violations[0];
    assert_eq!(v.page, page("limit=7", 3, Some(&cursor), false));
    assert!(
        v.actual
            .starts_with("500 Internal Server Error with body upstream timeout"),
        "{}",
        v.actual
    );
    assert_eq!(run.requests, 3);
}

#[tokio::test]
async fn a_skipping_cursor_is_a_gap_only_the_cross_walk_sees() {
    let mock = ReferenceMock::start(mock_config().items(30).fault(Fault::CursorSkipsOne)).await;
    let walk = run_on(&mock, "list_batches::walk_limit_7").await;
    assert!(
        walk.passed(),
        "one walk alone cannot see a gap: {:#?}",
        walk.violations
    );
    let run = run_on(&mock, "list_batches::cross_walk").await;
    // At limit 1 the skips run off the end: a page with has_more: true, then an empty one.
    assert_eq!(
        invariants(&run),
        [Invariant::HasMoreTrue, Invariant::SameSequence]
    );
    let lying = of(&run, Invariant::HasMoreTrue);
    assert_eq!(lying.len(), 1);
    assert_eq!(lying[0].page.as_ref().unwrap().walk, "limit=1");
    let diffs = of(&run, Invariant::SameSequence);
    // Each smaller walk against the walk at the maximum limit (one page of 30).
    assert_eq!(
        diffs.len(),
        3,
        "limits 1, 7 and 20 each have a boundary to skip at"
    );
    assert_eq!(
        diffs[0].expected,
        "the walks at limit=1 and limit=100 list the same ids in the same order"
    );
    assert_eq!(
        diffs[0].actual,
        format!(
            "they first differ here: limit=1 has {} at position 2 (page 2, after={}, data[0]); limit=100 has {} at position 2 (page 1, data[1]) (missing from the other walk)",
            id(&mock, 2),
            id(&mock, 0),
            id(&mock, 1)
        )
    );
    assert!(diffs[0].page.is_none() && diffs[0].request.is_none());
}

#[tokio::test]
async fn a_gap_at_one_boundary_is_named_by_position_and_ids() {
    let mock = ReferenceMock::start(mock_config().fault(Fault::GapOnce)).await;
    let run = run_on(&mock, "list_batches::cross_walk").await;
    let diffs = of(&run, Invariant::SameSequence);
    assert_eq!(invariants(&run), [Invariant::SameSequence]);
    // 257 / 2 = 128: at limit 1 the boundary after item 128 drops item 129.
    let first = diffs
        .iter()
        .find(|v| v.expected.contains("limit=1 "))
        .expect("the walk at limit 1 differs");
    assert_eq!(
        first.actual,
        format!(
            "they first differ here: limit=1 has {} at position 129 (page 129, after={}, data[0]); limit=100 has {} at position 129 (page 2, after={}, data[28]) (missing from the other walk)",
            id(&mock, 129),
            id(&mock, 127),
            id(&mock, 128),
            id(&mock, 99)
        )
    );
}

#[tokio::test]
async fn tie_order_that_changes_with_the_limit_breaks_the_first_page_prefix() {
    let config = mock_config()
        .all_tied()
        .fault(Fault::TieOrderDependsOnLimit);
    let mock = ReferenceMock::start(config.clone()).await;
    for name in ["list_batches::walk_limit_1", "list_batches::walk_limit_7"] {
        let run = run_on(&mock, name).await;
        assert!(
            run.passed(),
            "each walk is consistent: {:#?}",
            run.violations
        );
    }
    let cross = run_on(&mock, "list_batches::cross_walk").await;
    assert_eq!(invariants(&cross), [Invariant::FirstPagePrefix]);
    let v = of(&cross, Invariant::FirstPagePrefix);
    assert_eq!(v.len(), 2, "the odd limits 1 and 7 against the maximum");
    assert_eq!(
        v[0].expected,
        "the first page at limit=1 (1 ids) is a prefix of the first page at limit=100 (100 ids)"
    );
    assert!(
        v[0].actual.starts_with(&format!("they first differ here: limit=1 has {} at position 1 (page 1, data[0]); limit=100 has {} at position 1 (page 1, data[0])", id(&mock, 256), id(&mock, 0))),
        "{}",
        v[0].actual
    );
    // With the shipped dataset's natural ties, the walks disagree too.
    let natural = run(
        mock_config().fault(Fault::TieOrderDependsOnLimit),
        "list_batches::cross_walk",
    )
    .await;
    assert!(
        !of(&natural, Invariant::SameSequence).is_empty()
            || !of(&natural, Invariant::FirstPagePrefix).is_empty(),
        "{:#?}",
        natural.violations
    );
}

#[tokio::test]
async fn walk_violations_are_reported_by_the_cross_walk_too() {
    let run = run(
        mock_config().items(30).fault(Fault::CursorInclusive),
        "list_batches::cross_walk",
    )
    .await;
    let dup = of(&run, Invariant::DuplicateId);
    let walks: Vec<&str> = dup
        .iter()
        .filter_map(|v| v.page.as_ref().map(|p| p.walk.as_str()))
        .collect();
    assert!(walks.contains(&"limit=7"), "{walks:?}");
    assert!(walks.contains(&"no limit (default 20)"), "{walks:?}");
}

/// Runs the walk cases in `names` in one run (sharing walks) under `plan`, with `bounds`.
async fn walks_in(
    mock: &ReferenceMock,
    plan: WalkPlan,
    bounds: WalkBounds,
    names: &[&str],
) -> Vec<CaseRun> {
    let mut local = Local::new(mock);
    local.plan = plan;
    let ctx = RunContext {
        walk_bounds: bounds,
        ..local.ctx()
    };
    let mut runs = Vec::new();
    for name in names {
        runs.push(run_case(case(name), &ctx).await);
    }
    runs
}

#[tokio::test(flavor = "multi_thread")]
async fn both_plans_send_the_same_requests_on_a_conforming_server() {
    // Every suite, every case, on 60 items (9 pages at 7, 61 at 1): the parallel plan sends
    // the pages the chained plan sends, no more (nothing it predicts is wrong on a conforming
    // listing), and the walks read the same pages.
    let mut runs = tokio::task::JoinSet::new();
    for name in SUITES {
        runs.spawn(async move {
            let mut costs = Vec::new();
            for plan in [WalkPlan::Chained, WalkPlan::Parallel] {
                let mock = ReferenceMock::start(suite_config(name).items(60)).await;
                let cases = suite_cases(name);
                let suite = Suite::run_in(&mock, RequestOptions::default(), &cases, plan).await;
                assert_eq!(suite.failed(), Vec::<&str>::new(), "{name}, {plan:?}");
                let pages: u32 = suite.runs.iter().map(|(_, r)| r.walked).sum();
                costs.push((suite.requests(), mock.request_count().await, pages));
            }
            (name, costs)
        });
    }
    for (name, costs) in runs.join_all().await {
        assert_eq!(
            costs[0], costs[1],
            "{name}: (requests, received, walked pages), chained then parallel"
        );
        assert!(costs[0].2 > 60, "{name}: {costs:?}");
    }
}

#[tokio::test]
async fn walks_sent_ahead_stop_where_chained_ones_do() {
    // The page budget and the item cap end the walk at the same page in both plans, with the
    // same violation and the same requests; the reference (the walk at the maximum) is made
    // first, so the walks at 1 and 7 are sent ahead under the parallel plan.
    let mock = ReferenceMock::start(mock_config().items(60)).await;
    let names = [
        "list_batches::walk_max",
        "list_batches::walk_limit_1",
        "list_batches::walk_limit_7",
        "list_batches::cross_walk",
    ];
    for bounds in [
        WalkBounds {
            max_pages: 5,
            stop_after_items: None,
        },
        WalkBounds {
            max_pages: 100,
            stop_after_items: Some(15),
        },
    ] {
        let chained = walks_in(&mock, WalkPlan::Chained, bounds, &names).await;
        let parallel = walks_in(&mock, WalkPlan::Parallel, bounds, &names).await;
        for ((name, c), p) in names.iter().zip(&chained).zip(&parallel) {
            assert_eq!(c.violations, p.violations, "{name}, {bounds:?}");
            assert_eq!(
                (c.requests, c.shared, c.pages, c.items, c.capped),
                (p.requests, p.shared, p.pages, p.items, p.capped),
                "{name}, {bounds:?}"
            );
        }
        assert!(
            chained[1].items < 60,
            "{bounds:?}: the walk at 1 stopped early"
        );
    }
}

#[tokio::test]
async fn live_traffic_is_not_drift_when_pages_are_sent_ahead() {
    // The walk at the maximum gives the order; new batches then arrive at the head and
    // statuses change every 5 requests while the other walks send their pages ahead: their
    // first pages no longer end where the order says, and the walks go on from the cursors
    // they really have.
    let mock = ReferenceMock::start(mock_config().live_every(5)).await;
    let names = [
        "list_batches::walk_max",
        "list_batches::walk_limit_1",
        "list_batches::walk_limit_7",
        "list_batches::walk_default",
        "list_batches::cross_walk",
    ];
    let runs = walks_in(&mock, WalkPlan::Parallel, WalkBounds::default(), &names).await;
    for (name, run) in names.iter().zip(&runs) {
        assert!(run.passed(), "{name}: {:#?}", run.violations);
    }
    let grown = mock.items().len() - 257;
    assert!(grown > 50, "the listing grew during the walks: {grown}");
}

#[tokio::test]
async fn an_item_deleted_under_a_predicted_cursor_is_walked_past_as_a_chained_walk_would() {
    // The reference saw 60 items; then the 14th (the last of page 2 at limit 7, so the cursor
    // of page 3 in the reference's order) is deleted. The walk at 7 sends `after=<it>` ahead,
    // but page 2 really ends one item later: that answer is dropped, the walk steps on from
    // the cursor it has, and reports nothing, like the chained walk on the same listing.
    let mut compared = Vec::new();
    for plan in [WalkPlan::Chained, WalkPlan::Parallel] {
        let mock = ReferenceMock::start(mock_config().items(60)).await;
        let mut local = Local::new(&mock);
        local.plan = plan;
        let ctx = local.ctx();
        let reference = run_case(case("list_batches::walk_max"), &ctx).await;
        assert!(reference.passed() && reference.items == 60);
        let gone = id(&mock, 13);
        assert!(mock.remove(&gone));
        let run = run_case(case("list_batches::walk_limit_7"), &ctx).await;
        assert!(run.passed(), "{plan:?}: {:#?}", run.violations);
        assert_eq!((run.items, run.pages), (59, 9 + 1), "{plan:?}");
        // The cross-walk compares the walk at 7 (59 items) with the reference (60): the
        // deleted item is a gap between them, reported alike in both plans.
        let cross = run_case(case("list_batches::cross_walk"), &ctx).await;
        assert!(!cross.passed(), "{plan:?}");
        compared.push(cross.violations);
    }
    assert_eq!(compared[0], compared[1]);
}
