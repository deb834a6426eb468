//! The drift catalogue: every fault of the reference mock, each in its own test, run through
//! the whole shipped suite as `cargo test --test contract` would run it. Each test names the
//! invariant that must catch the fault and where: the case, and the JSON pointer on the page
//! case's response or on the given page of the walk.
//!
//! The faults come from how real servers break (the contract's "drift seen in the wild", and
//! the usual bugs of cursor pagination), grouped in the families of [`Family`]; the shared
//! facts (smallest listing that shows a fault, the invariants that may catch it) are in
//! `common/catalogue.rs`, which the property tests use too.

use crate::common;

use common::catalogue::{CATALOGUE, assert_diagnosed, entry_of, faults_for, options_for};
use common::{SUITES, Suite, fixture, mock_config, suite_cases, suite_config};
use list_contract::contract::CursorSource;
use list_contract::mock::probe::Probe as Client;
use list_contract::mock::{Family, Fault, MockConfig, ReferenceMock};
use list_contract::runner::WalkPlan;
use list_contract::violation::{Invariant, Violation};

/// Where a violation must be reported.
#[derive(Debug, Clone, Copy)]
enum Where {
    /// On the response of a page case (or a cross-walk comparison, pointer `""`), at this
    /// pointer.
    At(&'static str),
    /// On this page of a walk, at this pointer.
    Page(u32, &'static str),
    /// On the end probe of a walk (the request after `has_more: false`), numbered as a page.
    Probe(u32, &'static str),
    /// On at least this many pages of the case's walks, at this pointer with array positions
    /// as `*`: a finding deep in a walk, which the case counts but does not keep in full.
    Pages(u64, &'static str),
}

use Where::{At, Page, Pages, Probe};

impl Where {
    fn matches(self, v: &Violation) -> bool {
        let page = v.page.as_ref().map(|p| (p.page, p.probe));
        match self {
            At(pointer) => v.pointer == pointer && page.is_none(),
            Page(n, pointer) => v.pointer == pointer && page == Some((n, false)),
            Probe(n, pointer) => v.pointer == pointer && page == Some((n, true)),
            Pages(..) => false,
        }
    }

    /// Whether `run` counted a finding of `invariant` here.
    fn counted(self, run: &list_contract::runner::CaseRun, invariant: Invariant) -> bool {
        let Pages(n, pointer) = self else {
            return false;
        };
        run.violations.findings().any(|(key, tallied)| {
            key.invariant == Some(invariant) && key.pointer == pointer && tallied.pages() >= n
        })
    }
}

/// Runs the shipped suite against a mock with `fault` and asserts each expectation
/// `(case, invariant, where)`.
async fn assert_caught(fault: Fault, expected: &[(&str, Invariant, Where)]) {
    let entry = entry_of(fault);
    let mock = ReferenceMock::start(mock_config().fault(fault)).await;
    let suite = Suite::run(&mock, options_for(fault)).await;
    for &(case, invariant, place) in expected {
        assert!(
            entry.caught_by.contains(&invariant),
            "{fault:?}: {invariant} is not among the catalogue's {:?}",
            entry.caught_by
        );
        let name = format!("list_batches::{case}");
        let (_, run) = suite
            .runs
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("no case {name}"));
        assert!(
            run.violations
                .iter()
                .any(|v| v.invariant == invariant && place.matches(v))
                || place.counted(run, invariant),
            "{fault:?}: {name} must report {invariant} at {place:?}; it reported:\n{}",
            summary(&run.violations)
        );
    }
    assert_diagnosed(fault, &suite.runs);
}

/// One line per violation (the first 20), for failure messages.
fn summary(violations: &[Violation]) -> String {
    let mut lines: Vec<String> = violations
        .iter()
        .take(20)
        .map(|v| {
            format!(
                "  {} at {:?} {}",
                v.invariant,
                v.pointer,
                v.page.as_ref().map(ToString::to_string).unwrap_or_default()
            )
        })
        .collect();
    if violations.is_empty() {
        lines.push("  nothing".to_owned());
    }
    lines.join("\n")
}

/// One test per fault; `COVERED` lists them, so a fault left out of the catalogue fails
/// `every_fault_has_its_test`.
macro_rules! catalogue {
    ($($(#[$doc:meta])* $name:ident: $fault:ident => [$($case:literal: $inv:ident $place:expr),+ $(,)?];)+) => {
        $(
            $(#[$doc])*
            #[tokio::test]
            async fn $name() {
                assert_caught(Fault::$fault, &[$(($case, Invariant::$inv, $place)),+]).await;
            }
        )+
        const COVERED: &[Fault] = &[$(Fault::$fault),+];
    };
}

catalogue! {
    // Schema drift: the schema names the field, on a page case and deep in a walk.
    created_at_as_string: CreatedAtAsString => [
        "limit_7": Schema At("/data/0/created_at"),
        "walk_limit_1": Schema Pages(257, "/data/*/created_at"),
    ];
    missing_has_more: MissingHasMore => [
        "default_page": Schema At(""),
        "walk_limit_7": Schema Page(1, ""),
    ];
    has_more_null: HasMoreNull => [
        "limit_1": Schema At("/has_more"),
    ];
    missing_first_and_last_id: MissingFirstLastId => [
        "limit_100": Schema At(""),
        "walk_max": Schema Probe(4, ""),
    ];
    data_renamed_items: DataRenamed => [
        "default_page": Schema At(""),
    ];
    /// Only the empty page after the last one shows it: the walks' end probes.
    data_null_on_empty_pages: DataNullWhenEmpty => [
        "walk_limit_7": Schema Probe(38, "/data"),
        "walk_max": Schema Probe(4, "/data"),
    ];
    envelope_object_renamed: EnvelopeObjectRenamed => [
        "limit_7": Schema At("/object"),
    ];
    bare_array_instead_of_envelope: BareArray => [
        "default_page": Schema At(""),
        "walk_default": Schema Page(1, ""),
    ];
    envelope_of_another_shape: CursorEnvelope => [
        "limit_7": Schema At(""),
    ];
    item_id_renamed: IdRenamed => [
        "limit_7": Schema At("/data/0"),
        "walk_limit_1": Schema Page(1, "/data/0"),
    ];
    item_object_renamed: ItemObjectRenamed => [
        "limit_1": Schema At("/data/0/object"),
    ];
    status_re_enumerated: StatusRenamed => [
        "limit_7": Schema At("/data/1/status"),
        "walk_limit_1": Schema Page(2, "/data/0/status"),
    ];
    errors_as_string: ErrorsAsString => [
        "default_page": Schema At("/data/3/errors"),
    ];
    required_field_nulled: InputFileIdNull => [
        "limit_1": Schema At("/data/0/input_file_id"),
    ];
    nested_counts_retyped: RequestCountsAsStrings => [
        "limit_1": Schema At("/data/0/request_counts/total"),
    ];
    metadata_values_retyped: MetadataValueNumber => [
        "limit_7": Schema At("/data/2/metadata/project"),
    ];
    /// The 201st batch is past the first page at any limit: only the walks reach it.
    item_deep_in_the_listing_re_enumerated: DeepItemUnknownStatus => [
        "walk_limit_1": Schema Page(201, "/data/0/status"),
        "walk_limit_7": Schema Page(29, "/data/4/status"),
        "walk_max": Schema Page(3, "/data/0/status"),
    ];

    // Page invariants.
    limit_plus_one: LimitPlusOne => [
        "limit_7": PageSize At("/data"),
        "walk_limit_1": PageSize Page(1, "/data"),
    ];
    default_limit_changed: DefaultLimitWrong => [
        "default_page": PageSize At("/data"),
        "walk_default": PageSize Page(1, "/data"),
    ];
    limit_ignored: LimitIgnored => [
        "limit_1": PageSize At("/data"),
        "limit_not_integer": Status At(""),
    ];
    first_id_names_the_second_item: WrongFirstId => [
        "limit_7": FirstId At("/first_id"),
        "walk_max": FirstId Page(3, "/first_id"),
    ];
    last_id_names_the_second_to_last_item: WrongLastId => [
        "limit_100": LastId At("/last_id"),
    ];
    first_id_null_on_a_full_page: FirstIdNull => [
        "limit_1": FirstId At("/first_id"),
    ];
    empty_page_with_has_more_and_ids: EmptyPageLies => [
        "walk_limit_7": EmptyPage Probe(38, "/has_more"),
        "walk_limit_7": EmptyPage Probe(38, "/first_id"),
    ];
    empty_page_with_stale_ids: EmptyPageStaleIds => [
        "walk_default": EmptyPage Probe(14, "/last_id"),
    ];
    oldest_first: OldestFirst => [
        "limit_7": Order At("/data/1/created_at"),
        "walk_limit_1": WalkOrder Page(2, "/data/0/created_at"),
    ];
    page_partly_unsorted: UnsortedPage => [
        "limit_7": Order At("/data/2/created_at"),
        "cross_walk": SameSequence At(""),
    ];
    /// LiteLLM under model routing: `first_id` is no longer `data[0].id`, and the walk that
    /// follows `data[-1].id` gets a 404 on page 2.
    ids_prefixed_but_first_and_last_id_raw: LastIdRaw => [
        "limit_7": FirstId At("/first_id"),
        "walk_limit_7": Status Page(2, ""),
    ];

    // Walk invariants.
    cursor_ignored: CursorIgnored => [
        "walk_limit_1": CursorCycle Page(2, "/data/0/id"),
        "walk_limit_7": DuplicateId Page(2, "/data/0/id"),
    ];
    cursor_inclusive: CursorInclusive => [
        "walk_limit_1": CursorCycle Page(2, "/data/0/id"),
        "walk_limit_7": DuplicateId Page(2, "/data/0/id"),
    ];
    /// Every walk is consistent on its own: only comparing walks shows the skipped items.
    cursor_skips_one: CursorSkipsOne => [
        "cross_walk": SameSequence At(""),
    ];
    /// llama-stack's `/v1/files`: `created_at < cursor`, no tie-break. Each walk is consistent
    /// on its own; comparing walks shows the ties lost.
    ties_with_the_cursor_skipped: TieSkip => [
        "cross_walk": SameSequence At(""),
    ];
    cursor_skips_one_at_the_maximum_limit_only: MaxLimitSkipsOne => [
        "cross_walk": SameSequence At(""),
    ];
    duplicate_once_at_one_boundary: DuplicateOnce => [
        "walk_limit_7": DuplicateId Page(20, "/data/0/id"),
        "walk_max": DuplicateId Page(3, "/data/0/id"),
    ];
    gap_once_at_one_boundary: GapOnce => [
        "cross_walk": SameSequence At(""),
    ];
    has_more_always_true: HasMoreAlwaysTrue => [
        "walk_limit_7": HasMoreTrue Page(38, "/data"),
    ];
    has_more_false_on_the_first_page: HasMoreFalseEarly => [
        "walk_default": HasMoreFalse Probe(2, "/data"),
    ];
    has_more_false_in_the_middle: HasMoreFalseMidway => [
        "walk_limit_1": HasMoreFalse Probe(130, "/data"),
        "walk_max": HasMoreFalse Probe(3, "/data"),
    ];
    empty_page_in_the_middle: EmptyPageMidway => [
        "walk_limit_7": EmptyPage Page(20, "/has_more"),
        "walk_limit_7": HasMoreTrue Page(20, "/data"),
    ];
    cursor_wraps_around: WrapAround => [
        "walk_limit_1": CursorCycle Page(258, "/data/0/id"),
        "walk_max": WalkOrder Page(4, "/data/0/created_at"),
    ];
    pages_oldest_first: PagesOldestFirst => [
        "walk_max": WalkOrder Page(2, "/data/0/created_at"),
    ];
    tie_order_depends_on_the_limit: TieOrderDependsOnLimit => [
        "cross_walk": FirstPagePrefix At(""),
        "cross_walk": SameSequence At(""),
    ];
    ties_without_a_tie_break: TiesUnstable => [
        "walk_limit_1": CursorCycle Page(57, "/data/0/id"),
        "walk_default": DuplicateId Page(8, "/data/0/id"),
    ];

    // Negative and auth.
    auth_not_checked: AuthNotChecked => [
        "missing_key": Status At(""),
        "wrong_key": Status At(""),
    ];
    only_the_key_s_presence_checked: KeyPresenceOnly => [
        "wrong_key": Status At(""),
    ];
    auth_scheme_changed_to_bearer: BearerOnly => [
        "limit_7": Status At(""),
        "walk_limit_1": Status Page(1, ""),
    ];
    forbidden_instead_of_unauthorized: Forbidden403 => [
        "missing_key": Status At(""),
    ];
    limit_above_maximum_clamped: LimitAboveMaxClamped => [
        "limit_above_max": Status At(""),
        "limit_far_above_max": Status At(""),
    ];
    non_positive_limit_accepted: NonPositiveLimitAccepted => [
        "limit_negative": Status At(""),
        "limit_zero": PageSize At("/data"),
    ];
    non_integer_limit_accepted: NonIntegerLimitAccepted => [
        "limit_not_integer": Status At(""),
    ];
    invalid_limit_crashes: InvalidLimitCrashes => [
        "limit_zero": Status At(""),
        "limit_not_integer": Status At(""),
    ];
    unknown_cursor_crashes: UnknownAfterCrashes => [
        "unknown_after": Status At(""),
    ];
    error_body_a_string: ErrorAsString => [
        "wrong_key": Schema At("/error"),
        "limit_above_max": Schema At("/error"),
    ];
    error_body_flat: ErrorFlat => [
        "missing_key": Schema At(""),
    ];

    // Transport.
    text_plain_content_type: TextContentType => [
        "limit_7": ContentType At(""),
        "walk_limit_7": ContentType Page(2, ""),
    ];
    no_content_type: NoContentType => [
        "default_page": ContentType At(""),
    ];
    truncated_body: TruncatedBody => [
        "limit_100": Json At(""),
    ];
    empty_body: EmptyBody => [
        "limit_7": Json At(""),
    ];
    html_gateway_page: HtmlPage => [
        "default_page": ContentType At(""),
        "default_page": Json At(""),
    ];
    trailing_bytes_after_the_json: TrailingGarbage => [
        "limit_1": Json At(""),
    ];
    persistent_503: Persistent503 => [
        "limit_7": Transport At(""),
        "walk_limit_1": Transport Page(1, ""),
    ];
    hung_responses: Hang => [
        "limit_7": Transport At(""),
        "walk_max": Transport Page(1, ""),
    ];

    // Plausibility.
    timestamps_in_milliseconds: TimesInMilliseconds => [
        "limit_1": Plausible At("/data/0/created_at"),
        "walk_limit_7": Plausible Pages(2, "/data/*/expires_at"),
    ];
    counts_that_do_not_add_up: CountsExceedTotal => [
        "limit_7": Plausible At("/data/0/request_counts/total"),
    ];
    completed_before_created: CompletedBeforeCreated => [
        "default_page": Plausible At("/data/8/completed_at"),
    ];
    expires_at_zero: ExpiresAtZero => [
        "limit_1": Plausible At("/data/0/expires_at"),
    ];
}

// The faults no List Batches case can show: backward pages, the order parameter, filters,
// token cursors, required headers and RFC 3339 times. The suites whose cases catch them land
// on main separately, so until then each test below proves the fault against the mock
// directly (reqwest), on the fixture suite of `tests/fixtures/mock` that has the feature,
// next to the same request on the conforming mock.

/// The faults proven directly against the mock, each by the test named after it.
const DIRECT: &[Fault] = &[
    Fault::TimesAsIntegers,
    Fault::CursorTokenReused,
    Fault::RequiredHeaderNotChecked,
    Fault::BackwardPageReversed,
    Fault::BackwardInclusive,
    Fault::BackwardHasMoreFalseEarly,
    Fault::OrderIgnored,
    Fault::FilterIgnored,
    Fault::FilterLeaksOne,
    Fault::FilterDropsOne,
    Fault::FilterAfterPaging,
];

/// A conforming mock and one with `fault`, both of fixture suite `name` (adjusted by `tweak`),
/// each with its probe; asserts the fault applies to the fixture and not to List Batches.
/// Bind both mocks for as long as their probes are used (`_good_mock`, never `_`: a `_`
/// pattern binds nothing and the server stops at once).
async fn pair(
    name: &str,
    fault: Fault,
    tweak: impl Fn(MockConfig) -> MockConfig,
) -> [(ReferenceMock, Client); 2] {
    let (mut contract, config) = fixture(name);
    let config = tweak(config);
    contract.cursor_source = config.cursor_source;
    assert!(fault.applies_to(&contract), "{fault:?} applies to {name}");
    assert!(!fault.applies_to(common::list_batches_contract()));
    let good = ReferenceMock::start(config.clone()).await;
    let bad = ReferenceMock::start(config.fault(fault)).await;
    let (pg, pb) = (Client::new(&good), Client::new(&bad));
    [(good, pg), (bad, pb)]
}

/// The ids of the listing, newest first.
fn listing(mock: &ReferenceMock) -> Vec<String> {
    mock.items()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn times_as_integers() {
    let [(_good_mock, good), (_bad_mock, bad)] =
        pair("anthropic", Fault::TimesAsIntegers, |c| c).await;
    let (_, page) = good.get("limit=1").await;
    assert!(page["data"][0]["created_at"].is_string());
    let (_, page) = bad.get("limit=1").await;
    let item = &page["data"][0];
    assert!(
        item["created_at"].is_i64() && item["expires_at"].is_i64(),
        "{item}"
    );
    assert!(item["ended_at"].is_null(), "null stays null");
}

#[tokio::test]
async fn cursor_token_reused() {
    let token = |c: MockConfig| MockConfig {
        cursor_source: CursorSource::Token,
        next_token: Some("/next".into()),
        ..c
    };
    let [(_good_mock, good), (_bad_mock, bad)] =
        pair("files", Fault::CursorTokenReused, token).await;
    for (probe, reused) in [(good, false), (bad, true)] {
        let (_, one) = probe.get("limit=7").await;
        let first = one["next"].as_str().unwrap().to_owned();
        let (_, two) = probe.get(&format!("limit=7&after={first}")).await;
        assert_eq!(two["next"] == first.as_str(), reused, "{two}");
    }
}

#[tokio::test]
async fn required_header_not_checked() {
    let [(_good_mock, good), (_bad_mock, bad)] =
        pair("anthropic", Fault::RequiredHeaderNotChecked, |c| c).await;
    let (status, body) = good.get_omitting("limit=1", &["anthropic-version"]).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "invalid_request_error");
    let (status, _) = bad.get_omitting("limit=1", &["anthropic-version"]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn backward_page_reversed() {
    let [(mock, good), (_bad_mock, bad)] =
        pair("anthropic", Fault::BackwardPageReversed, |c| c).await;
    let ids = listing(&mock);
    let query = format!("limit=7&before_id={}", ids[14]);
    assert_eq!(good.ids(&good.get(&query).await.1), ids[7..14]);
    let reversed: Vec<String> = ids[7..14].iter().rev().cloned().collect();
    let page = bad.get(&query).await.1;
    assert_eq!(bad.ids(&page), reversed);
    assert_eq!(
        page["first_id"],
        ids[13].as_str(),
        "the ids follow the page"
    );
}

#[tokio::test]
async fn backward_inclusive() {
    let [(mock, good), (_bad_mock, bad)] = pair("anthropic", Fault::BackwardInclusive, |c| c).await;
    let ids = listing(&mock);
    let query = format!("limit=7&before_id={}", ids[14]);
    assert_eq!(good.ids(&good.get(&query).await.1), ids[7..14]);
    assert_eq!(bad.ids(&bad.get(&query).await.1), ids[8..15]);
}

#[tokio::test]
async fn backward_has_more_false_early() {
    let [(mock, good), (_bad_mock, bad)] =
        pair("anthropic", Fault::BackwardHasMoreFalseEarly, |c| c).await;
    let ids = listing(&mock);
    // The first step back from the last page, and one from the middle.
    let from_end = format!("limit=7&before_id={}", ids[ids.len() - 7]);
    let midway = format!("limit=7&before_id={}", ids[100]);
    assert_eq!(good.get(&from_end).await.1["has_more"], true);
    assert_eq!(bad.get(&from_end).await.1["has_more"], false);
    assert_eq!(bad.get(&midway).await.1["has_more"], true);
}

#[tokio::test]
async fn order_ignored() {
    let [(mock, good), (_bad_mock, bad)] = pair("files", Fault::OrderIgnored, |c| c).await;
    let ids = listing(&mock);
    let reversed: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(good.ids(&good.get("order=asc").await.1), reversed);
    assert_eq!(bad.ids(&bad.get("order=asc").await.1), ids);
}

/// The ids of items whose `purpose` is `batch`, newest first.
fn batch_ids(mock: &ReferenceMock) -> Vec<String> {
    mock.items()
        .iter()
        .filter(|i| i["purpose"] == "batch")
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn filter_ignored() {
    let [(mock, good), (_bad_mock, bad)] = pair("files", Fault::FilterIgnored, |c| c).await;
    assert_eq!(
        good.ids(&good.get("purpose=batch").await.1),
        batch_ids(&mock)
    );
    assert_eq!(bad.ids(&bad.get("purpose=batch").await.1), listing(&mock));
}

#[tokio::test]
async fn filter_leaks_one() {
    let [(mock, good), (_bad_mock, bad)] = pair("files", Fault::FilterLeaksOne, |c| c).await;
    let matching = batch_ids(&mock);
    assert_eq!(good.ids(&good.get("purpose=batch").await.1), matching);
    let page = bad.get("purpose=batch").await.1;
    let leaked = &page["data"][8];
    assert_ne!(
        leaked["purpose"], "batch",
        "the ninth item leaks: page 2 at limit 7"
    );
    let mut rest = bad.ids(&page);
    rest.remove(8);
    assert_eq!(rest, matching);
    let first = bad.get("purpose=batch&limit=7").await.1;
    assert!(
        first["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["purpose"] == "batch")
    );
}

#[tokio::test]
async fn filter_drops_one() {
    let [(mock, good), (_bad_mock, bad)] = pair("files", Fault::FilterDropsOne, |c| c).await;
    let mut matching = batch_ids(&mock);
    assert_eq!(good.ids(&good.get("purpose=batch").await.1), matching);
    matching.remove(8);
    assert_eq!(bad.ids(&bad.get("purpose=batch").await.1), matching);
}

#[tokio::test]
async fn filter_after_paging() {
    let [(mock, good), (_bad_mock, bad)] = pair("files", Fault::FilterAfterPaging, |c| c).await;
    let matching = batch_ids(&mock);
    assert_eq!(
        good.ids(&good.get("purpose=batch&limit=7").await.1),
        matching[..7]
    );
    // The first seven files, less those that are no batch: short, and more to come.
    let page = bad.get("purpose=batch&limit=7").await.1;
    let ids = listing(&mock);
    let expected: Vec<String> = ids[..7]
        .iter()
        .filter(|id| matching.contains(id))
        .cloned()
        .collect();
    assert_eq!(bad.ids(&page), expected);
    assert!(expected.len() < 7);
    assert_eq!(page["has_more"], true);
}

/// Checked against the registry (`Fault::ALL`, derived from `list_contract::for_each_fault!`):
/// a fault added there alone fails here, named, until it has its catalogue entry
/// (tests/common/catalogue.rs) and its test (`catalogue!` above, or `DIRECT`).
#[test]
fn every_fault_has_its_test_and_its_catalogue_entry() {
    let untested: Vec<Fault> = Fault::ALL
        .into_iter()
        .filter(|f| !COVERED.contains(f) && !DIRECT.contains(f))
        .collect();
    assert!(untested.is_empty(), "faults without a test: {untested:?}");
    let twice: Vec<Fault> = Fault::ALL
        .into_iter()
        .filter(|f| COVERED.contains(f) && DIRECT.contains(f))
        .collect();
    assert!(twice.is_empty(), "faults tested twice: {twice:?}");
    assert_eq!(
        COVERED.len() + DIRECT.len(),
        Fault::ALL.len(),
        "a fault tested twice"
    );
    let unlisted: Vec<Fault> = Fault::ALL
        .into_iter()
        .filter(|f| !CATALOGUE.iter().any(|e| e.fault == *f))
        .collect();
    assert!(
        unlisted.is_empty(),
        "faults without a catalogue entry: {unlisted:?}"
    );
    let order: Vec<Fault> = CATALOGUE.iter().map(|e| e.fault).collect();
    assert_eq!(order, Fault::ALL, "the catalogue follows Fault::ALL");
}

#[test]
fn every_family_has_several_members() {
    for &family in Family::ALL {
        let n = Fault::ALL.iter().filter(|f| f.family() == family).count();
        assert!(n >= 4, "{}: only {n} faults", family.name());
    }
    assert!(Fault::ALL.len() >= 40);
}

#[tokio::test]
async fn faults_combine_and_each_is_still_named() {
    let mock = ReferenceMock::start(
        mock_config()
            .fault(Fault::GapOnce)
            .fault(Fault::StatusRenamed)
            .fault(Fault::KeyPresenceOnly),
    )
    .await;
    let suite = Suite::run(&mock, options_for(Fault::GapOnce)).await;
    let found: Vec<(&str, Invariant)> = suite.violations().map(|(c, v)| (c, v.invariant)).collect();
    for (case, invariant) in [
        ("list_batches::cross_walk", Invariant::SameSequence),
        ("list_batches::limit_7", Invariant::Schema),
        ("list_batches::wrong_key", Invariant::Status),
    ] {
        assert!(
            found.contains(&(case, invariant)),
            "{case}: {invariant} missing from {found:?}"
        );
    }
}

/// The parallel plan judges the pages the chained plan would, in the same order: `fault`, on
/// the first suite it shows on (List Batches where it can), is reported by both plans with
/// the same invariants, cases, pages, cursors, pointers and messages. A fault of List Batches
/// runs on a short listing (its catalogue minimum, at least 24 items: 25 pages at limit 1,
/// enough for the window of pages sent ahead to open up), not the catalogue's full one, to
/// keep the test short; the faults of the other suites run on their own listings.
async fn both_walk_plans_report_alike(fault: Fault) {
    let Some(name) = SUITES
        .into_iter()
        .filter(|s| faults_for(s, &suite_cases(s)[0].contract).contains(&fault))
        .min_by_key(|s| *s != "list_batches")
    else {
        // Token cursors (no shipped suite has them) are walked chained in both plans.
        assert_eq!(
            fault,
            Fault::CursorTokenReused,
            "{fault:?} shows on no shipped suite"
        );
        println!(
            "skipped: {fault:?} shows on no shipped suite (token cursors are walked chained in both plans)"
        );
        return;
    };
    let items = entry_of(fault).min_items.max(24);
    let mut verdicts = Vec::new();
    for plan in [WalkPlan::Chained, WalkPlan::Parallel] {
        let mut config = suite_config(name).fault(fault);
        // The other suites' faults (backward pages, order, filters) need the suite's own
        // listing to show.
        if name == "list_batches" {
            config = config.items(items);
        }
        let mock = ReferenceMock::start(config).await;
        let cases = suite_cases(name);
        let suite = Suite::run_in(&mock, options_for(fault), &cases, plan).await;
        verdicts.push(suite.verdicts(mock.base_url().as_str()));
    }
    let [chained, parallel] = &verdicts[..] else {
        unreachable!("two plans")
    };
    assert!(!chained.is_empty(), "{name}: {fault:?} went unnoticed");
    assert!(
        chained == parallel,
        "{name}: {fault:?}: the plans disagree\nchained:\n{}\nparallel:\n{}",
        chained.join("\n"),
        parallel.join("\n")
    );
}

/// One test per fault of the registry (generated from `list_contract::for_each_fault!`, so a
/// fault added there is reached without a line here): `cargo test both_walk_plans`.
macro_rules! both_walk_plans_tests {
    ($( $(#[$doc:meta])* $variant:ident($snake:ident): $family:ident, )*) => {
        $(
            $(#[$doc])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $snake() {
                super::both_walk_plans_report_alike(super::Fault::$variant).await;
            }
        )*
    };
}

mod both_walk_plans {
    list_contract::for_each_fault!(both_walk_plans_tests);
}
