//! The drift catalogue: every fault of the reference mock, each in its own test, run through
//! the whole shipped suite as `cargo test --test contract` would run it. Each test names the
//! invariant that must catch the fault and where: the case, and the JSON pointer on the page
//! case's response or on the given page of the walk.
//!
//! The faults come from how real servers break (the contract's "drift seen in the wild", and
//! the usual bugs of cursor pagination), grouped in the families of [`Family`]; the shared
//! facts (smallest listing that shows a fault, the invariants that may catch it) are in
//! `common/catalogue.rs`, which the property tests use too.

mod common;

use common::catalogue::{CATALOGUE, entry_of, options_for};
use common::{Suite, mock_config};
use list_contract::mock::{Family, Fault, ReferenceMock};
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
}

use Where::{At, Page, Probe};

impl Where {
    fn matches(self, v: &Violation) -> bool {
        let page = v.page.as_ref().map(|p| (p.page, p.probe));
        match self {
            At(pointer) => v.pointer == pointer && page.is_none(),
            Page(n, pointer) => v.pointer == pointer && page == Some((n, false)),
            Probe(n, pointer) => v.pointer == pointer && page == Some((n, true)),
        }
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
                .any(|v| v.invariant == invariant && place.matches(v)),
            "{fault:?}: {name} must report {invariant} at {place:?}; it reported:\n{}",
            summary(&run.violations)
        );
    }
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
        "walk_limit_1": Schema Page(257, "/data/0/created_at"),
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
        "limit_7": Status At(""),
        "walk_limit_1": Status Page(1, ""),
    ];
    hung_responses: Hang => [
        "limit_7": Transport At(""),
        "walk_max": Transport Page(1, ""),
    ];

    // Plausibility.
    timestamps_in_milliseconds: TimesInMilliseconds => [
        "limit_1": Plausible At("/data/0/created_at"),
        "walk_limit_7": Plausible Page(2, "/data/0/expires_at"),
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

#[test]
fn every_fault_has_its_test_and_its_catalogue_entry() {
    let mut missing: Vec<Fault> = Fault::ALL
        .into_iter()
        .filter(|f| !COVERED.contains(f))
        .collect();
    missing.extend(
        Fault::ALL
            .into_iter()
            .filter(|f| !CATALOGUE.iter().any(|e| e.fault == *f)),
    );
    assert!(missing.is_empty(), "faults without a test: {missing:?}");
    assert_eq!(COVERED.len(), Fault::ALL.len(), "a fault tested twice");
    assert_eq!(
        CATALOGUE.map(|e| e.fault),
        Fault::ALL,
        "the catalogue follows Fault::ALL"
    );
}

#[test]
fn every_family_has_several_members() {
    for family in Family::ALL {
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
