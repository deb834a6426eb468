//! The drift catalogue's facts that more than one test needs: for each fault of the reference
//! mock, the smallest listing that shows it, the invariants that catch it, and the request
//! settings its runs need.

use std::time::Duration;

use list_contract::evidence::server_bug::BugKind;
use list_contract::http::{RequestOptions, RetryPolicy};
use list_contract::mock::Fault;
use list_contract::violation::Invariant;

/// One fault of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub fault: Fault,
    /// The fewest items a listing needs for the fault to show at all (an oldest-first order
    /// needs two different timestamps; a gap at a page boundary needs two pages). Listings of
    /// random seeds have ties, so faults about order ask for enough items that a listing of
    /// nothing but ties is out of the question.
    pub min_items: usize,
    /// A full run must report at least one of these.
    pub caught_by: &'static [Invariant],
}

const fn entry(fault: Fault, min_items: usize, caught_by: &'static [Invariant]) -> Entry {
    Entry {
        fault,
        min_items,
        caught_by,
    }
}

use Invariant::*;

/// Every fault, in `Fault::ALL` order (tests/catalogue.rs checks it against the registry: a
/// fault added there fails that test, named, until its entry is here).
pub const CATALOGUE: &[Entry] = &[
    // Schema drift.
    entry(Fault::CreatedAtAsString, 1, &[Schema]),
    entry(Fault::MissingHasMore, 0, &[Schema]),
    entry(Fault::HasMoreNull, 0, &[Schema]),
    entry(Fault::MissingFirstLastId, 0, &[Schema]),
    entry(Fault::DataRenamed, 0, &[Schema]),
    entry(Fault::DataNullWhenEmpty, 0, &[Schema]),
    entry(Fault::EnvelopeObjectRenamed, 0, &[Schema]),
    entry(Fault::BareArray, 0, &[Schema]),
    entry(Fault::CursorEnvelope, 0, &[Schema]),
    entry(Fault::IdRenamed, 1, &[Schema]),
    entry(Fault::ItemObjectRenamed, 1, &[Schema]),
    // The second batch is the first `in_progress` one, the fourth the first `failed` one,
    // the third the first with metadata.
    entry(Fault::StatusRenamed, 2, &[Schema]),
    entry(Fault::ErrorsAsString, 4, &[Schema]),
    entry(Fault::InputFileIdNull, 1, &[Schema]),
    entry(Fault::RequestCountsAsStrings, 1, &[Schema]),
    entry(Fault::MetadataValueNumber, 3, &[Schema]),
    entry(Fault::DeepItemUnknownStatus, 201, &[Schema]),
    // RFC 3339 suites only: `format: date-time` and `type: string` refuse an integer.
    entry(Fault::TimesAsIntegers, 1, &[Schema]),
    // Page invariants.
    entry(Fault::LimitPlusOne, 2, &[PageSize]),
    entry(Fault::DefaultLimitWrong, 21, &[PageSize]),
    entry(Fault::LimitIgnored, 0, &[PageSize, Status]),
    entry(Fault::WrongFirstId, 2, &[FirstId]),
    entry(Fault::WrongLastId, 2, &[LastId]),
    entry(Fault::FirstIdNull, 1, &[FirstId]),
    entry(Fault::EmptyPageLies, 0, &[EmptyPage]),
    entry(Fault::EmptyPageStaleIds, 1, &[EmptyPage]),
    entry(Fault::OldestFirst, 10, &[Order, WalkOrder]),
    // Swapping tied items changes no order key but does change the sequence.
    entry(Fault::UnsortedPage, 3, &[Order, SameSequence]),
    // `first_id` is not `data[0].id`; a walk that follows `data[-1].id` gets a 404.
    entry(Fault::LastIdRaw, 1, &[FirstId, LastId, Status]),
    // Walk invariants.
    entry(Fault::CursorIgnored, 2, &[DuplicateId, CursorCycle]),
    entry(Fault::CursorInclusive, 2, &[DuplicateId, CursorCycle]),
    entry(Fault::CursorSkipsOne, 2, &[SameSequence, HasMoreTrue]),
    entry(Fault::MaxLimitSkipsOne, 101, &[SameSequence, HasMoreTrue]),
    // Ties at a page boundary: enough items that a listing has them.
    entry(Fault::TieSkip, 20, &[SameSequence, HasMoreTrue]),
    entry(Fault::DuplicateOnce, 2, &[DuplicateId, CursorCycle]),
    entry(Fault::GapOnce, 2, &[SameSequence, HasMoreTrue]),
    entry(Fault::HasMoreAlwaysTrue, 0, &[EmptyPage, HasMoreTrue]),
    entry(Fault::HasMoreFalseEarly, 2, &[HasMoreFalse]),
    entry(Fault::HasMoreFalseMidway, 3, &[HasMoreFalse]),
    entry(Fault::EmptyPageMidway, 2, &[EmptyPage, HasMoreTrue]),
    entry(Fault::WrapAround, 1, &[DuplicateId, CursorCycle, WalkOrder]),
    entry(Fault::PagesOldestFirst, 10, &[WalkOrder]),
    entry(
        Fault::TieOrderDependsOnLimit,
        60,
        &[SameSequence, FirstPagePrefix],
    ),
    entry(
        Fault::TiesUnstable,
        100,
        &[
            DuplicateId,
            CursorCycle,
            SameSequence,
            FirstPagePrefix,
            HasMoreTrue,
        ],
    ),
    // Token suites only: page 3 is page 2 again.
    entry(Fault::CursorTokenReused, 3, &[DuplicateId, CursorCycle]),
    // Negative and auth: the error cases need no listing.
    entry(Fault::AuthNotChecked, 0, &[Status]),
    entry(Fault::KeyPresenceOnly, 0, &[Status]),
    entry(Fault::BearerOnly, 0, &[Status]),
    entry(Fault::Forbidden403, 0, &[Status]),
    entry(Fault::LimitAboveMaxClamped, 0, &[Status]),
    entry(Fault::NonPositiveLimitAccepted, 0, &[Status, PageSize]),
    entry(Fault::NonIntegerLimitAccepted, 0, &[Status]),
    entry(Fault::InvalidLimitCrashes, 0, &[Status]),
    entry(Fault::UnknownAfterCrashes, 0, &[Status]),
    entry(Fault::ErrorAsString, 0, &[Schema]),
    entry(Fault::ErrorFlat, 0, &[Schema]),
    // Suites with required headers: the case that leaves one out expects a 400.
    entry(Fault::RequiredHeaderNotChecked, 0, &[Status]),
    // Transport.
    entry(Fault::TextContentType, 0, &[ContentType]),
    entry(Fault::NoContentType, 0, &[ContentType]),
    entry(Fault::TruncatedBody, 0, &[Json]),
    entry(Fault::EmptyBody, 0, &[Json]),
    entry(Fault::HtmlPage, 0, &[ContentType, Json]),
    entry(Fault::TrailingGarbage, 0, &[Json]),
    // A 503 the retries cannot get past is no answer to judge: the case could not be judged.
    entry(Fault::Persistent503, 0, &[Transport]),
    entry(Fault::Hang, 0, &[Transport]),
    // Plausibility. The first batch is `completed`.
    entry(Fault::TimesInMilliseconds, 1, &[Plausible]),
    entry(Fault::CountsExceedTotal, 1, &[Plausible]),
    entry(Fault::CompletedBeforeCreated, 1, &[Plausible]),
    entry(Fault::ExpiresAtZero, 1, &[Plausible]),
    // Backward pages, the order parameter and filters: none applies to List Batches; each is
    // run through the suites that have them (tests/suites.rs).
    entry(Fault::BackwardPageReversed, 3, &[BackwardPage]),
    entry(Fault::BackwardInclusive, 2, &[BackwardPage]),
    entry(Fault::BackwardHasMoreFalseEarly, 2, &[BackwardHasMore]),
    entry(Fault::OrderIgnored, 10, &[Order, OrderReversed]),
    entry(Fault::FilterIgnored, 2, &[Filter, FilterSequence]),
    entry(Fault::FilterLeaksOne, 10, &[Filter, FilterSequence]),
    entry(Fault::FilterDropsOne, 9, &[FilterSequence]),
    // The first unfiltered page with no match is an empty page that says `has_more: true`.
    entry(
        Fault::FilterAfterPaging,
        20,
        &[HasMoreTrue, EmptyPage, FilterSequence],
    ),
];

/// Faults that apply to a suite's parameters but break no rule of its sheet, with why.
pub const NOT_DRIFT: &[(&str, Fault, &str)] = &[(
    "openai_vector_stores",
    Fault::EnvelopeObjectRenamed,
    "openai-vector-stores.md gives the envelope's `object` as the example \"list\", with no enum",
)];

/// The faults that show on suite `name` with `contract`: those that apply to its parameters,
/// less those its sheet allows.
pub fn faults_for(name: &str, contract: &list_contract::contract::Contract) -> Vec<Fault> {
    Fault::ALL
        .into_iter()
        .filter(|f| f.applies_to(contract))
        .filter(|f| !NOT_DRIFT.iter().any(|(s, nd, _)| *s == name && nd == f))
        .collect()
}

/// The catalogue's entry for `fault`.
pub fn entry_of(fault: Fault) -> &'static Entry {
    CATALOGUE
        .iter()
        .find(|e| e.fault == fault)
        .unwrap_or_else(|| panic!("{fault:?} is missing from the catalogue"))
}

/// The request settings a run against `fault` needs: a hang is cut off quickly and not
/// retried; a persistent 503 is retried once, after a short wait. Every other fault runs
/// with the defaults a real run has.
pub fn options_for(fault: Fault) -> RequestOptions {
    match fault {
        Fault::Hang => RequestOptions {
            retry: RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            },
            timeout: Duration::from_millis(200),
        },
        Fault::Persistent503 => RequestOptions {
            retry: RetryPolicy {
                max_attempts: 2,
                base_delay: Duration::from_millis(5),
                ..RetryPolicy::default()
            },
            ..RequestOptions::default()
        },
        _ => RequestOptions::default(),
    }
}

/// The diagnosis of the server's bug each fault must get, where the harness names one.
pub fn diagnosis_of(fault: Fault) -> Option<BugKind> {
    Some(match fault {
        Fault::TieSkip => BugKind::TieSkipped,
        Fault::CursorInclusive => BugKind::CursorInclusive,
        Fault::CursorIgnored => BugKind::CursorIgnored,
        Fault::LimitIgnored | Fault::LimitAboveMaxClamped => BugKind::LimitIgnored,
        Fault::LastIdRaw => BugKind::IdsRewritten,
        Fault::OrderIgnored => BugKind::OrderIgnored,
        Fault::BackwardPageReversed => BugKind::BeforeIgnoredOrReversed,
        Fault::FilterAfterPaging => BugKind::FilterAfterPaging,
        _ => return None,
    })
}

/// Asserts that `runs` name the diagnosis `fault` must get, and only bugs of the kinds a
/// fault of its kind shows.
pub fn assert_diagnosed(fault: Fault, runs: &[(String, list_contract::outcome::CaseRun)]) {
    let Some(kind) = diagnosis_of(fault) else {
        return;
    };
    let bugs: Vec<_> = runs.iter().flat_map(|(_, r)| &r.evidence.bugs).collect();
    assert!(
        bugs.iter().any(|b| b.kind == kind),
        "{fault:?}: no diagnosis {kind:?}; got {bugs:#?}"
    );
}
