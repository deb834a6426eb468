//! `--depth`: a large listing is sampled by default (windows along the order the walk at the
//! maximum limit learned), walked whole with `--depth full`; a drift at every boundary is
//! caught either way, and the requests of a sampled run are bounded by its cases.

use list_contract::mock::{Fault, ReferenceMock};

use crate::common::{check, mock_config, text};

/// `list-contract check ARGS` on the List Batches suite against a mock of `items` items (with
/// `fault`) as a live server, uncapped: its exit code and output.
async fn check_listing(items: usize, fault: Option<Fault>, args: &[&str]) -> (Option<i32>, String) {
    let mut config = mock_config().items(items);
    if let Some(fault) = fault {
        config = config.fault(fault);
    }
    let mock = ReferenceMock::start(config).await;
    let (base, key) = (mock.base_url().to_string(), mock.config().key.clone());
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let out = tokio::task::spawn_blocking(move || {
        let mut all = vec!["--rate-limit", "0", "--suite", "list_batches"];
        all.extend(args.iter().map(String::as_str));
        check(
            &[("CONTRACT_BASE_URL", &base), ("CONTRACT_API_KEY", &key)],
            &all,
        )
    })
    .await
    .unwrap();
    (out.status.code(), text(&out))
}

/// The requests the summary line counts.
fn requests(out: &str) -> u32 {
    let summary = out
        .lines()
        .find(|l| l.starts_with("summary: "))
        .unwrap_or_else(|| panic!("a summary line: {out}"));
    let before = summary
        .split(" request(s)")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .unwrap_or_else(|| panic!("a request count: {summary}"));
    before.parse().unwrap_or_else(|_| panic!("{summary}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_listing_is_sampled_by_default_and_walked_whole_at_full_depth() {
    // 900 items: long enough to sample, and walked whole at limit 1 within the page budget.
    let (code, out) = check_listing(900, None, &[]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("900 item(s) seen at depth sampled"), "{out}");
    // limit=1: 900 pages whole; sampled, windows at the head, spread through, and the end.
    // 15 pages, 10 boundaries between pages of one window (ties vary with the seed).
    assert!(out.contains("limit=1 10 boundaries"), "{out}");
    assert!(
        out.contains(
            "(sampled: pages 1, 225, 450, 675 (3 each) and 898 to the end, 15 of 900 pages)"
        ),
        "{out}"
    );
    // The bound: the walk at the maximum (10 requests at 100 a page) whole, each of the three
    // other walks at most 16, and one request per page case.
    let sampled = requests(&out);
    assert!(sampled <= 10 + 3 * 16 + 12, "{sampled} requests: {out}");

    let (code, out) = check_listing(900, None, &["--depth", "full"]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("900 item(s) seen at depth full"), "{out}");
    assert!(out.contains("limit=1 899 boundaries"), "{out}");
    assert!(!out.contains("sampled:"), "{out}");
    // The walks at limits 1, 7 and 20, whole, with their end probes.
    let full = requests(&out);
    assert!(full > 901 + 130 + 46, "{full} requests: {out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_drift_at_every_boundary_is_caught_in_a_sampled_walk_as_in_a_full_one() {
    let mut verdicts = Vec::new();
    for depth in ["sampled", "full"] {
        let (code, out) =
            check_listing(900, Some(Fault::CursorSkipsOne), &["--depth", depth]).await;
        assert_eq!(code, Some(101), "{depth}: {out}");
        // The cross-walk compares each window with the same stretch of the walk at 100.
        assert!(out.contains("invariant: same_sequence"), "{depth}: {out}");
        let failed: Vec<String> = out
            .lines()
            .filter(|l| l.starts_with("test list_batches::") && l.ends_with("FAILED"))
            .filter_map(|l| l.split_whitespace().nth(1).map(str::to_owned))
            .collect();
        assert!(
            failed.contains(&"list_batches::cross_walk".to_owned()),
            "{depth}: {out}"
        );
        verdicts.push(failed);
    }
    // Every case that fails walking whole fails sampled too (a window lands on other
    // boundaries than the whole walk's pages, so it may catch more: at 7, the page after
    // the last window's cursor runs off the end).
    for case in &verdicts[1] {
        assert!(verdicts[0].contains(case), "{case}: {verdicts:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listing_shorter_than_the_sampling_threshold_is_walked_whole() {
    let (code, out) = check_listing(299, None, &[]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("299 item(s) seen at depth sampled"), "{out}");
    assert!(out.contains("limit=1 298 boundaries"), "{out}");
    assert!(!out.contains("sampled:"), "{out}");
}

#[test]
fn a_bad_depth_names_the_flag_the_variable_and_the_choices() {
    let out = check(&[("CONTRACT_DEPTH", "deep")], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("CONTRACT_DEPTH: unknown depth `deep` (expected `sampled` or `full`)"),
        "{}",
        text(&out)
    );
}

/// `F` and `R` of the plan line's `at most F request(s) + R per 1,000 items`.
fn planned(out: &str) -> (u64, u64) {
    let plan = out
        .lines()
        .find(|l| l.starts_with("plan: "))
        .unwrap_or_else(|| panic!("a plan line: {out}"));
    let number = |after: &str| -> u64 {
        plan.split(after)
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("`{after}` and a number: {plan}"))
    };
    (number("at most "), number("request(s) + "))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_plan_bounds_what_a_run_sends_sampled_or_full() {
    for (items, args) in [
        (1000, &[][..]),
        (2000, &[][..]),
        (1000, &["--depth", "full"][..]),
    ] {
        let (code, out) = check_listing(items, None, args).await;
        assert_eq!(code, Some(0), "{out}");
        let (fixed, per_1000) = planned(&out);
        let bound = fixed + per_1000 * (items as u64).div_ceil(1000);
        let sent = u64::from(requests(&out));
        assert!(
            sent <= bound,
            "{items} {args:?}: {sent} sent, {bound} planned: {out}"
        );
        // Sampled, the bound is close: the walk at the maximum grows, the rest is fixed.
        if args.is_empty() {
            assert!(bound < 2 * sent, "{items}: {sent} sent, {bound} planned");
        }
    }
}
