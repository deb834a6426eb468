//! The drift catalogue through every suite: each fault of the reference mock that applies to a
//! suite (`Fault::applies_to`: the generic ones everywhere, the backward, order, filter,
//! header and RFC 3339 ones where the suite has them) is run through that suite's own cases,
//! one test per suite × fault (`cargo test openai_files` runs one suite's share),
//! as `cargo test --test contract <suite>::` would run them, and must be reported with one of
//! the invariants the catalogue gives it, located (request, page and pointer). The faults of
//! the newer suites are also pinned to their case, page, cursor and pointer.
//! `tests/catalogue.rs` pins every fault on List Batches the same way.

use crate::common;

use common::catalogue::{NOT_DRIFT, assert_diagnosed, entry_of, faults_for, options_for};
use common::{SUITES, Suite, suite_cases, suite_config};
use list_contract::mock::{Fault, ReferenceMock};
use list_contract::violation::{Invariant, Violation};

/// Runs suite `name` against its mock with `fault`.
async fn run(name: &str, fault: Fault) -> Suite {
    let mock = ReferenceMock::start(suite_config(name).fault(fault)).await;
    let cases = suite_cases(name);
    common::Suite::run_cases(&mock, options_for(fault), &cases).await
}

/// Whether `v` says where it was found: the request it judged (and, on a walk, the page and
/// the cursor past the first page), or, for a comparison of walks, both sides by page.
fn located(v: &Violation) -> bool {
    let compared = matches!(
        v.invariant,
        Invariant::SameSequence
            | Invariant::FirstPagePrefix
            | Invariant::OrderReversed
            | Invariant::FilterSequence
    );
    if compared {
        return v.actual.contains("page ");
    }
    let on_page = v
        .page
        .as_ref()
        .is_none_or(|p| p.page >= 1 && (p.page == 1 || p.cursor.is_some()));
    (v.request.is_some() || v.invariant == Invariant::Transport) && on_page
}

/// Runs suite `name` with `fault` (one of the faults that apply to it) and asserts it is
/// caught with one of the invariants the catalogue gives it, and located.
async fn caught(name: &str, fault: Fault) {
    let suite = run(name, fault).await;
    let entry = entry_of(fault);
    let caught: Vec<&Violation> = suite
        .violations()
        .map(|(_, v)| v)
        .filter(|v| entry.caught_by.contains(&v.invariant))
        .collect();
    assert!(
        !caught.is_empty(),
        "{name}: {fault:?} not caught (expected one of {:?}); failed: {:?}",
        entry.caught_by,
        suite.failed()
    );
    assert!(
        caught.iter().any(|v| located(v)),
        "{name}: {fault:?} caught but not located: {caught:#?}"
    );
    assert_diagnosed(fault, &suite.runs);
}

/// The test of `fault` on suite `name`: [`caught`] when the fault shows on the suite; when it
/// does not (`Fault::applies_to`, or the suite's sheet allows it), it passes, saying why.
async fn fault_on_suite(name: &str, fault: Fault) {
    let contract = &suite_cases(name)[0].contract;
    if !fault.applies_to(contract) {
        println!(
            "skipped: {fault:?} does not apply to {name} (Fault::applies_to: the suite lacks what it breaks)"
        );
        return;
    }
    if let Some((_, _, why)) = NOT_DRIFT.iter().find(|(s, f, _)| *s == name && *f == fault) {
        println!("skipped: {fault:?} is no drift on {name}: {why}");
        return;
    }
    caught(name, fault).await;
}

/// One `#[tokio::test]` per fault of the registry, in a module per suite (`SUITE`), generated
/// from `list_contract::for_each_fault!`: a fault added to the registry gets its test on every
/// suite without a line here (`cargo test openai_files` runs one suite's share,
/// `cargo test openai_files::gap_once` one run).
macro_rules! fault_tests {
    ($( $(#[$doc:meta])* $variant:ident($snake:ident): $family:ident, )*) => {
        use list_contract::mock::Fault;

        /// The faults the tests of this module were generated for, in the registry's order.
        const GENERATED: &[Fault] = &[$(Fault::$variant),*];

        $(
            $(#[$doc])*
            #[tokio::test]
            async fn $snake() {
                super::fault_on_suite(SUITE, Fault::$variant).await;
            }
        )*

        /// The tests above are the whole registry: every fault of `Fault::ALL`, once, named
        /// after it.
        #[test]
        fn every_fault_of_the_registry_has_its_test_here() {
            assert_eq!(GENERATED, Fault::ALL);
            let names = [$(stringify!($snake)),*];
            let expected: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
            assert_eq!(names.to_vec(), expected);
        }

        #[test]
        fn most_faults_apply() {
            let contract = &super::suite_cases(SUITE)[0].contract;
            let faults = super::faults_for(SUITE, contract);
            assert!(faults.len() > 40, "{SUITE}: only {} faults apply", faults.len());
        }
    };
}

mod openai_files {
    pub(super) const SUITE: &str = "openai_files";
    list_contract::for_each_fault!(fault_tests);
}

mod openai_vector_stores {
    pub(super) const SUITE: &str = "openai_vector_stores";
    list_contract::for_each_fault!(fault_tests);
}

mod anthropic_message_batches {
    pub(super) const SUITE: &str = "anthropic_message_batches";
    list_contract::for_each_fault!(fault_tests);
}

/// Every shipped suite but List Batches (which `tests/catalogue.rs` pins fault by fault) has
/// its module of fault tests above.
#[test]
fn every_suite_but_list_batches_has_its_fault_tests() {
    let with_tests = [
        openai_files::SUITE,
        openai_vector_stores::SUITE,
        anthropic_message_batches::SUITE,
    ];
    let mut expected: Vec<&str> = SUITES
        .into_iter()
        .filter(|s| *s != "list_batches")
        .collect();
    expected.sort_unstable();
    let mut with_tests = with_tests.to_vec();
    with_tests.sort_unstable();
    assert_eq!(with_tests, expected);
}

/// Where a violation must be: case, invariant, page (0: a page case), the cursor it was asked
/// with, and the pointer.
type Place<'a> = (&'a str, Invariant, u32, Option<&'a str>, &'a str);

/// Runs suite `name` with `fault` and asserts each place.
async fn assert_at(name: &str, fault: Fault, places: &[Place<'_>]) {
    let suite = run(name, fault).await;
    for &(case, invariant, page, cursor, pointer) in places {
        let case = format!("{name}::{case}");
        let (_, run) = suite
            .runs
            .iter()
            .find(|(n, _)| *n == case)
            .unwrap_or_else(|| panic!("no case {case}"));
        let hit = run.violations.iter().any(|v| {
            let at_page = match (&v.page, page) {
                (None, 0) => true,
                (Some(p), n) => p.page == n && p.cursor.as_deref() == cursor,
                _ => false,
            };
            v.invariant == invariant && v.pointer == pointer && at_page
        });
        let seen: Vec<String> = run
            .violations
            .iter()
            .take(12)
            .map(|v| {
                format!(
                    "{} at {:?} {}",
                    v.invariant,
                    v.pointer,
                    v.page.as_ref().map(ToString::to_string).unwrap_or_default()
                )
            })
            .collect();
        assert!(
            hit,
            "{fault:?}: {case} must report {invariant} at page {page} ({cursor:?}) {pointer:?}; it reported:\n{}",
            seen.join("\n")
        );
    }
}

/// The id at forward position `i` (0-based) of suite `name`'s conforming listing.
async fn id_at(name: &str, i: usize) -> String {
    let mock = ReferenceMock::start(suite_config(name)).await;
    mock.items()[i]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_backward_page_out_of_place_is_named_at_its_page_cursor_and_item() {
    // Walking back starts before the last item (forward position 257): the first page must end
    // with position 256, nearest the cursor.
    let last = id_at("openai_vector_stores", 256).await;
    assert_at(
        "openai_vector_stores",
        Fault::BackwardPageReversed,
        &[(
            "backward_walk",
            Invariant::BackwardPage,
            1,
            Some(&last),
            "/data/6/id",
        )],
    )
    .await;
    let last = id_at("anthropic_message_batches", 256).await;
    assert_at(
        "anthropic_message_batches",
        Fault::BackwardInclusive,
        &[(
            "backward_walk",
            Invariant::BackwardPage,
            1,
            Some(&last),
            "/data/6/id",
        )],
    )
    .await;
    assert_at(
        "anthropic_message_batches",
        Fault::BackwardHasMoreFalseEarly,
        &[(
            "backward_walk",
            Invariant::BackwardHasMore,
            1,
            Some(&last),
            "/has_more",
        )],
    )
    .await;
}

#[tokio::test]
async fn an_ignored_order_fails_the_page_and_the_order_walk() {
    assert_at(
        "openai_files",
        Fault::OrderIgnored,
        &[
            ("order_asc", Invariant::Order, 0, None, "/data/1/created_at"),
            (
                "order_walk",
                Invariant::Order,
                1,
                None,
                "/data/1/created_at",
            ),
            ("order_walk", Invariant::OrderReversed, 0, None, ""),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_leaking_or_dropping_filter_is_named() {
    // `purpose` takes its nine values in turn: `batch` is every ninth file, and the seventh of
    // them (position 55) is the cursor of the filtered walk's second page.
    let cursor = id_at("openai_files", 54).await;
    assert_at(
        "openai_files",
        Fault::FilterLeaksOne,
        &[
            (
                "filter_walk",
                Invariant::Filter,
                2,
                Some(&cursor),
                "/data/1/purpose",
            ),
            ("filter_walk", Invariant::FilterSequence, 0, None, ""),
        ],
    )
    .await;
    assert_at(
        "openai_files",
        Fault::FilterDropsOne,
        &[("filter_walk", Invariant::FilterSequence, 0, None, "")],
    )
    .await;
    assert_at(
        "openai_files",
        Fault::FilterIgnored,
        &[
            (
                "purpose_batch",
                Invariant::Filter,
                0,
                None,
                "/data/1/purpose",
            ),
            ("filter_walk", Invariant::Filter, 1, None, "/data/1/purpose"),
        ],
    )
    .await;
}

#[tokio::test]
async fn anthropic_headers_times_and_raw_ids() {
    assert_at(
        "anthropic_message_batches",
        Fault::RequiredHeaderNotChecked,
        &[("missing_version_header", Invariant::Status, 0, None, "")],
    )
    .await;
    assert_at(
        "anthropic_message_batches",
        Fault::TimesAsIntegers,
        &[
            ("limit_7", Invariant::Schema, 0, None, "/data/0/created_at"),
            (
                "walk_limit_7",
                Invariant::Schema,
                1,
                None,
                "/data/0/expires_at",
            ),
        ],
    )
    .await;
    assert_at(
        "anthropic_message_batches",
        Fault::LastIdRaw,
        &[("limit_7", Invariant::FirstId, 0, None, "/first_id")],
    )
    .await;
}

/// docs/suites.md's "Add your own endpoint": a suite written as data alone
/// (`tests/fixtures/suites/assistants`, for `GET /v1/assistants`) runs against the mock it
/// gets from its own contract and examples, and catches a fault.
mod data_only_suite {
    use std::path::PathBuf;

    use super::common::{check, root, text};
    use list_contract::case::load_cases;
    use list_contract::http::{ClientSettings, HttpClient, RequestOptions, Target};
    use list_contract::mock::{Fault, MockConfig, ReferenceMock, load_examples};
    use list_contract::redact::Secret;
    use list_contract::runner::{RunCache, RunContext, run_case};
    use list_contract::schema::SchemaSet;
    use list_contract::violation::Invariant;

    fn dirs() -> (PathBuf, PathBuf) {
        let suites = root().join("tests/fixtures/suites");
        let schemas = suites.join("schemas");
        (suites, schemas)
    }

    #[test]
    fn it_passes_against_its_generated_mock() {
        let (cases, schemas) = dirs();
        let out = check(
            &[
                ("CONTRACT_CASES_DIR", cases.to_str().unwrap()),
                ("CONTRACT_SCHEMAS_DIR", schemas.to_str().unwrap()),
            ],
            &[],
        );
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "{all}");
        assert!(
            all.contains("summary: 6 case(s): 6 passed, 0 failed"),
            "{all}"
        );
        assert!(all.contains("assistants::backward_walk"), "{all}");
    }

    #[tokio::test]
    async fn it_catches_a_backward_page_in_reverse() {
        let (cases_dir, schemas_dir) = dirs();
        let cases = load_cases(&cases_dir).expect("the data-only suite loads");
        let schemas = SchemaSet::load(&schemas_dir).expect("its schemas compile");
        let case = cases
            .iter()
            .find(|c| c.name == "assistants::backward_walk")
            .expect("a backward walk");
        let examples = load_examples(&case.contract_path, &case.contract)
            .unwrap()
            .expect("examples");
        for (fault, caught) in [(None, false), (Some(Fault::BackwardPageReversed), true)] {
            let mut config = MockConfig::for_contract(&case.contract).examples(examples.clone());
            if let Some(fault) = fault {
                config = config.fault(fault);
            }
            let mock = ReferenceMock::start(config).await;
            let target = Target::new(
                mock.base_url(),
                Secret::new(mock.config().key.clone()),
                mock.config().auth,
            );
            let http = HttpClient::new(&ClientSettings::default()).unwrap();
            let (options, cache) = (RequestOptions::default(), RunCache::default());
            let ctx = RunContext::new(&target, &http, &schemas, &options, &cache);
            let run = run_case(case, &ctx).await;
            let found = run
                .violations
                .iter()
                .any(|v| v.invariant == Invariant::BackwardPage && v.page.is_some());
            assert_eq!(found, caught, "{fault:?}: {:#?}", run.violations);
            assert_eq!(run.passed(), !caught);
        }
    }
}

/// Each suite run alone against a live server (`CONTRACT_BASE_URL`, a name filter), with the
/// suite's own auth style: a conforming server passes; a drifting one fails with its
/// invariant named.
mod live_runs {
    use super::common::{cases_dir, check, suite_config, text};
    use list_contract::mock::{Fault, ReferenceMock};

    /// `list-contract check ARGS` with every shipped suite's cases, against a mock of suite
    /// `suite` (with `fault`) as a live server.
    async fn check_live(suite: &str, fault: Option<Fault>, args: &[&str]) -> (Option<i32>, String) {
        let mut config = suite_config(suite);
        if let Some(fault) = fault {
            config = config.fault(fault);
        }
        let mock = ReferenceMock::start(config).await;
        let (base, key) = (mock.base_url().to_string(), mock.config().key.clone());
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let out = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            check(
                &[
                    ("CONTRACT_BASE_URL", &base),
                    ("CONTRACT_API_KEY", &key),
                    ("CONTRACT_CASES_DIR", cases_dir().to_str().unwrap()),
                ],
                &args,
            )
        })
        .await
        .unwrap();
        (out.status.code(), text(&out))
    }

    /// Suite `suite` alone (its name as the filter) against its mock with `fault`.
    async fn check_suite(suite: &str, fault: Option<Fault>) -> (Option<i32>, String) {
        check_live(suite, fault, &[&format!("{suite}::")]).await
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn each_suite_runs_alone_with_its_own_auth_style() {
        for suite in [
            "openai_files",
            "openai_vector_stores",
            "anthropic_message_batches",
        ] {
            let (code, all) = check_suite(suite, None).await;
            assert_eq!(code, Some(0), "{suite}: {all}");
            assert!(
                all.contains(" passed, 0 failed, 0 ignored"),
                "{suite}: {all}"
            );
            assert!(
                !all.contains("list_batches::"),
                "{suite}: only its own cases: {all}"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn drift_on_a_live_server_fails_with_its_invariant_named() {
        for (suite, fault, case, invariant) in [
            (
                "anthropic_message_batches",
                Fault::TimesAsIntegers,
                "default_page",
                "schema",
            ),
            (
                "openai_vector_stores",
                Fault::BackwardPageReversed,
                "backward_walk",
                "backward_page",
            ),
            (
                "openai_files",
                Fault::OrderIgnored,
                "order_walk",
                "order_reversed",
            ),
            (
                "openai_files",
                Fault::FilterLeaksOne,
                "filter_walk",
                "filter",
            ),
            (
                "anthropic_message_batches",
                Fault::RequiredHeaderNotChecked,
                "missing_version_header",
                "status",
            ),
        ] {
            let (code, all) = check_suite(suite, Some(fault)).await;
            assert_eq!(code, Some(101), "{fault:?}: {all}");
            let failure = format!("{suite}::{case}: ");
            let at = all
                .find(&failure)
                .unwrap_or_else(|| panic!("{fault:?}: no failure of {suite}::{case}: {all}"));
            assert!(
                all[at..].contains(&format!("invariant: {invariant} ")),
                "{fault:?}: {all}"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_suite_whose_endpoint_the_server_lacks_is_diagnosed_with_how_to_leave_it_out() {
        // A server of vector stores only, checked with every shipped suite: a default run
        // leaves the three other suites out, saying so, and passes.
        let (code, all) = check_live("openai_vector_stores", None, &[]).await;
        assert_eq!(code, Some(0), "{all}");
        assert!(all.contains("21 passed, 0 failed, 58 ignored;"), "{all}");
        assert!(
            all.contains("The suite is left out of this run (its cases are reported as ignored)."),
            "{all}"
        );
        for suite in ["anthropic_message_batches", "list_batches", "openai_files"] {
            assert!(
                all.contains(&format!(
                    "every request of suite {suite} was answered 404 Not Found"
                )),
                "{suite}: {all}"
            );
        }
        assert!(
            all.contains(
                "Run only the suites it serves: `list-contract check --suite openai_vector_stores` (or CONTRACT_SUITES=openai_vector_stores, which `cargo test --test contract` reads too)"
            ),
            "{all}"
        );
        assert!(
            all.contains(
                "the server may not serve that endpoint, while it answers openai_vector_stores."
            ),
            "{all}"
        );
        assert!(
            !all.contains("every request of suite openai_vector_stores"),
            "{all}"
        );
    }
}
