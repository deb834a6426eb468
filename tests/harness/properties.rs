//! Property tests: for random listings (0-500 batches, any seed, with random benign
//! variations) and random limits, the reference mock always conforms; and a random fault from
//! the drift catalogue, on a random listing large enough to show it, is always caught.
//!
//! Each property is a test per suite (`cargo test openai_files` runs one suite's share), and the
//! longest one a test per walk plan; each draws the cases the whole property drew and runs its
//! share of them, so a case has the same inputs whichever test runs it.
//!
//! Deterministic: the seed is fixed unless `PROPTEST_RNG_SEED` names another, and a failure
//! prints the seed with the smallest failing input. `PROPTEST_CASES` changes the number of
//! cases.

use crate::common;

use common::catalogue::{entry_of, faults_for, options_for};
use common::{Local, Suite, case, mock_config};
use list_contract::case::{Case, CrossWalkSpec, QueryValue, WalkLimit};
use list_contract::http::{ClientSettings, HttpClient, RequestOptions};
use list_contract::mock::{Fault, MockConfig, ReferenceMock};
use list_contract::runner::{WalkPlan, depth};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

/// The seed when `PROPTEST_RNG_SEED` is not set.
const SEED: u64 = 20_261_129;

/// A runner with a fixed seed and `cases` cases (unless `PROPTEST_CASES` says otherwise);
/// failures are reported, not written to a regressions file.
fn runner(cases: u32) -> (TestRunner, u64) {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    let seed = match std::env::var("PROPTEST_RNG_SEED") {
        Ok(s) => s
            .parse()
            .unwrap_or_else(|_| panic!("PROPTEST_RNG_SEED is `{s}` (expected an integer)")),
        Err(_) => SEED,
    };
    config.rng_seed = RngSeed::Fixed(seed);
    config.failure_persistence = None;
    config.max_shrink_iters = 100;
    (TestRunner::new(config), seed)
}

/// Runs `property` over `strategy`; a failure panics with the seed that reproduces it.
fn check<S: Strategy>(
    cases: u32,
    strategy: S,
    property: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let (mut runner, seed) = runner(cases);
    if let Err(e) = runner.run(&strategy, property) {
        panic!("{e}\nseed: {seed} (rerun with PROPTEST_RNG_SEED={seed})");
    }
}

/// Runs `property` over the cases of `strategy` that `mine` keeps (one test's share of a
/// property split by suite or plan). The draws are the whole property's (the same seed, the same
/// number of cases), so each case runs in exactly one of the tests, with the inputs it has
/// always had; the others pass untried.
fn check_share<S: Strategy>(
    cases: u32,
    strategy: S,
    mine: impl Fn(&S::Value) -> bool,
    property: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    check(cases, strategy, |value| {
        if mine(&value) {
            property(value)
        } else {
            Ok(())
        }
    });
}

/// The walk plan of a case, from its seed: every property holds under both, and drawing it
/// from the seed leaves the properties' other draws as they were.
fn plan_of(seed: u64) -> WalkPlan {
    if seed.is_multiple_of(2) {
        WalkPlan::Chained
    } else {
        WalkPlan::Parallel
    }
}

/// One runtime and one client for all the cases of a property: each case starts its own mock.
struct Env {
    runtime: tokio::runtime::Runtime,
    http: HttpClient,
}

impl Env {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let http = runtime.block_on(async { HttpClient::new(&ClientSettings::default()).unwrap() });
        Env { runtime, http }
    }

    /// Runs `cases` against a mock built from `config`.
    fn suite(&self, config: MockConfig, options: RequestOptions, cases: &[Case]) -> Suite {
        self.suite_with(config, Vec::new(), options, cases)
    }

    /// Runs `cases` against a mock built from `config`, walks sent under `plan`.
    fn suite_in(
        &self,
        plan: WalkPlan,
        config: MockConfig,
        options: RequestOptions,
        cases: &[Case],
    ) -> Suite {
        self.runtime.block_on(async {
            let mock = ReferenceMock::start(config).await;
            let mut local = Local::with_client(&mock, self.http.clone());
            local.plan = plan;
            Suite::run_local(local, options, cases).await
        })
    }

    /// Runs `cases` against a mock built from `config`, `preludes` answering first.
    fn suite_with(
        &self,
        config: MockConfig,
        preludes: Vec<wiremock::Mock>,
        options: RequestOptions,
        cases: &[Case],
    ) -> Suite {
        self.runtime.block_on(async {
            let mock = ReferenceMock::start_with(config, preludes).await;
            let local = Local::with_client(&mock, self.http.clone());
            Suite::run_local(local, options, cases).await
        })
    }
}

/// A page case, a walk and a cross-walk at `limit`; the cross-walk also walks at `other`, the
/// default and the maximum.
fn cases_at(limit: u64, other: u64) -> Vec<Case> {
    let mut page = case("list_batches::limit_7").clone();
    page.name = format!("prop::limit_{limit}");
    page.file
        .request
        .query
        .insert("limit".into(), QueryValue(limit.to_string()));
    let mut walk = case("list_batches::walk_limit_7").clone();
    walk.name = format!("prop::walk_limit_{limit}");
    walk.file.walk.as_mut().expect("a walk").limit = WalkLimit::N(limit);
    let mut cross = case("list_batches::cross_walk").clone();
    cross.name = format!("prop::cross_walk_{limit}_{other}");
    // Each limit once by the value sent: `Max` sends 100, `Default` sends none.
    let mut limits = vec![WalkLimit::N(limit), WalkLimit::Default];
    if other != limit {
        limits.push(WalkLimit::N(other));
    }
    if limit != 100 && other != 100 {
        limits.push(WalkLimit::Max);
    }
    cross.file.cross_walk = Some(CrossWalkSpec {
        limits,
        ..cross.file.cross_walk.clone().expect("a cross-walk")
    });
    vec![page, walk, cross]
}

/// The first violations of a run that should have had none, one line each.
fn false_alarms(suite: &Suite) -> Vec<String> {
    suite
        .violations()
        .take(5)
        .map(|(c, v)| format!("{c}: {} at {:?}: {}", v.invariant, v.pointer, v.actual))
        .collect()
}

#[derive(Debug, Clone)]
struct Listing {
    items: usize,
    seed: u64,
    short_pages: bool,
    all_tied: bool,
    all_nullable_null: bool,
    additive_fields: bool,
}

fn listings() -> impl Strategy<Value = Listing> {
    (
        0usize..=500,
        any::<u64>(),
        any::<bool>(),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(items, seed, short_pages, all_tied, all_nullable_null, additive_fields)| Listing {
                items,
                seed,
                short_pages,
                all_tied,
                all_nullable_null,
                additive_fields,
            },
        )
}

/// The tests of list_batches, the suite the properties build their cases from.
mod list_batches {
    use super::*;

    /// The reference mock conforms for any listing and limit: one test per walk plan (drawn
    /// from each case's seed).
    mod the_reference_mock_conforms_for_any_listing_and_limit {
        use super::*;

        #[test]
        fn chained() {
            reference_mock_conforms_for_any_listing_and_limit(WalkPlan::Chained);
        }

        #[test]
        fn parallel() {
            reference_mock_conforms_for_any_listing_and_limit(WalkPlan::Parallel);
        }
    }

    #[test]
    fn random_transient_faults_at_20_percent_never_fail_a_conforming_listing() {
        super::random_transient_faults_at_20_percent_never_fail_a_conforming_listing();
    }

    #[test]
    fn a_random_fault_of_the_catalogue_is_always_caught() {
        super::a_random_fault_of_the_catalogue_is_always_caught("list_batches");
    }
}

/// The module of each other suite's tests: a random fault is caught, and any listing conforms.
macro_rules! every_other_suite {
    ($($suite:ident),* $(,)?) => {
        /// The suites that have a module here, list_batches first.
        const SUITES_HERE: &[&str] = &["list_batches", $(stringify!($suite)),*];
        $(
            mod $suite {
                #[test]
                fn a_random_fault_of_the_catalogue_is_always_caught() {
                    super::a_random_fault_of_the_catalogue_is_always_caught(stringify!($suite));
                }

                #[test]
                fn conforms_for_any_listing() {
                    super::every_suite_conforms_for_any_listing(stringify!($suite));
                }
            }
        )*
    };
}

every_other_suite!(
    anthropic_message_batches,
    openai_files,
    openai_vector_stores
);

#[test]
fn every_suite_has_its_properties() {
    let mut here = SUITES_HERE.to_vec();
    here.sort_unstable();
    assert_eq!(here, common::SUITES);
}

/// The cases of the property whose walk plan is `plan`.
fn reference_mock_conforms_for_any_listing_and_limit(plan: WalkPlan) {
    let env = Env::new();
    // 192 cases (about half under each plan) take about 35 s in a debug build: each visits
    // every item about four times.
    check_share(
        192,
        (listings(), 1u64..=100, 1u64..=100),
        |(listing, _, _)| plan_of(listing.seed) == plan,
        |(listing, limit, other)| {
            let mut config = mock_config().items(listing.items).seed(listing.seed);
            config.short_pages = listing.short_pages;
            config.all_tied = listing.all_tied;
            config.all_nullable_null = listing.all_nullable_null;
            config.additive_fields = listing.additive_fields;
            let cases = cases_at(limit, other);
            let suite = env.suite_in(plan, config, RequestOptions::default(), &cases);
            let found = false_alarms(&suite);
            prop_assert!(found.is_empty(), "false alarms: {found:#?}");
            // The walk read every item once: full pages, and the probe after the last.
            let per_page = if listing.short_pages {
                limit.div_ceil(2)
            } else {
                limit
            } as usize;
            let walk = &suite.runs[1].1;
            let expected = match listing.items {
                0 => 1,
                n => n.div_ceil(per_page) + 1,
            };
            // At the default depth a listing of 300 items or more may be sampled: then the
            // walk reads its windows only, within the bound, and says so in its evidence.
            if walk.evidence.walks.iter().any(|w| w.sampled.is_some()) {
                prop_assert!(listing.items >= depth::SAMPLE_FROM_ITEMS);
                prop_assert!(walk.pages <= depth::SAMPLED_WALK_REQUESTS, "{}", walk.pages);
            } else {
                prop_assert_eq!(walk.pages as usize, expected);
            }
            Ok(())
        },
    );
}

fn random_transient_faults_at_20_percent_never_fail_a_conforming_listing() {
    let env = Env::new();
    // The default attempts; waits shortened (the backoff's shape is the same) to keep the
    // property's runtime modest: 24 cases take a few seconds.
    let mut options = RequestOptions::default();
    options.retry.base_delay = std::time::Duration::from_millis(2);
    check(
        24,
        (0usize..=200, any::<u64>(), 1u64..=100, 1u64..=100),
        |(items, seed, limit, other)| {
            let config = mock_config().items(items).seed(seed);
            let faults = common::random_transient_faults(seed, 20);
            let suite = env.suite_with(config, faults, options.clone(), &cases_at(limit, other));
            let found = false_alarms(&suite);
            prop_assert!(found.is_empty(), "false alarms: {found:#?}");
            Ok(())
        },
    );
}

/// The cases of the property that draw a fault of `suite_name`.
fn a_random_fault_of_the_catalogue_is_always_caught(suite_name: &str) {
    let env = Env::new();
    // Every fault each suite can show, run through that suite's own cases.
    let applicable: Vec<(&str, Fault)> = common::SUITES
        .into_iter()
        .flat_map(|name| {
            let contract = &common::suite_cases(name)[0].contract;
            faults_for(name, contract)
                .into_iter()
                .map(move |f| (name, f))
        })
        .collect();
    check_share(
        128,
        (0..applicable.len(), 0usize..=150, any::<u64>()),
        |(index, _, _)| applicable[*index].0 == suite_name,
        |(index, extra, seed)| {
            let plan = plan_of(seed);
            let (name, fault) = applicable[index];
            let entry = entry_of(fault);
            let items = entry.min_items + extra;
            let config = common::suite_config(name)
                .items(items)
                .seed(seed)
                .fault(fault);
            let cases = common::suite_cases(name);
            let suite = env.suite_in(plan, config, options_for(fault), &cases);
            let caught = suite
                .violations()
                .any(|(_, v)| entry.caught_by.contains(&v.invariant));
            prop_assert!(
                caught,
                "{name}: {fault:?} on {items} items went unnoticed under the {} plan (expected one of {:?}); failed cases: {:?}",
                plan.name(),
                entry.caught_by,
                suite.failed()
            );
            Ok(())
        },
    );
}

/// The cases of the property that draw `suite_name`.
fn every_suite_conforms_for_any_listing(suite_name: &str) {
    let env = Env::new();
    let others: Vec<&str> = common::SUITES
        .into_iter()
        .filter(|s| *s != "list_batches")
        .collect();
    // A full suite run per case (walks at 1, 7, the default and the maximum, backward, order
    // and filter walks): about 0.1 s each in a debug build.
    check_share(
        48,
        (0..others.len(), listings()),
        |(index, _)| others[*index] == suite_name,
        |(index, listing)| {
            let name = others[index];
            let mut config = common::suite_config(name)
                .items(listing.items.min(300))
                .seed(listing.seed);
            config.short_pages = listing.short_pages;
            config.all_tied = listing.all_tied;
            config.all_nullable_null = listing.all_nullable_null;
            config.additive_fields = listing.additive_fields;
            let cases = common::suite_cases(name);
            let suite = env.suite(config, RequestOptions::default(), &cases);
            let found = false_alarms(&suite);
            prop_assert!(found.is_empty(), "{name}: false alarms: {found:#?}");
            Ok(())
        },
    );
}
