//! Suites imported from OpenAPI documents this project wrote (`tests/fixtures/openapi/`): each
//! paging extension and the fallback on parameters and envelope detected, values read from
//! prose marked so, 3.0's dialect converted; every imported suite passes against its own mock,
//! and the generic faults injected into those mocks are caught through the imported cases with
//! the invariant named; `import` writes the layout `init` writes, and `check --openapi` runs
//! the import in memory, nested lists included, against the embedded mock and a local server.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use list_contract::case::{Case, load_cases};
use list_contract::contract::{CursorSource, fill_param};
use list_contract::http::{ClientSettings, HttpClient, RequestOptions, Target};
use list_contract::mock::{
    DEFAULT_KEY, Fault, MockConfig, ReferenceMock, load_examples, parent_ids,
};
use list_contract::openapi::{Imported, Overrides, import};
use list_contract::outcome::CaseRun;
use list_contract::redact::Secret;
use list_contract::runner::{RunCache, RunContext, run_case};
use list_contract::schema::SchemaSet;
use list_contract::violation::Invariant;

use crate::common::catalogue::entry_of;
use crate::common::{check, list_contract, root, text};

const FIXTURES: &[&str] = &[
    "speakeasy.yaml",
    "fern.json",
    "stainless.yaml",
    "prose-limits.yaml",
    "openapi30.yaml",
    "nested.yaml",
];

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/openapi").join(name)
}

fn imported(name: &str) -> Imported {
    let path = fixture(name);
    let text = std::fs::read_to_string(&path).unwrap();
    import(&text, name, &Overrides::default(), &[]).unwrap()
}

/// The file at `place` (`cases/x/contract.toml`) of an import.
fn file<'a>(imported: &'a Imported, place: &str) -> &'a str {
    imported
        .files()
        .find(|(p, _)| p == place)
        .map(|(_, t)| t.as_str())
        .unwrap_or_else(|| {
            panic!(
                "no {place} among {:?}",
                imported.files().map(|f| &f.0).collect::<Vec<_>>()
            )
        })
}

/// An import written out and loaded as a run loads it.
struct Written {
    _dir: tempfile::TempDir,
    cases: Vec<Case>,
    schemas: SchemaSet,
}

fn written(name: &str) -> Written {
    let dir = tempfile::tempdir().unwrap();
    for (place, text) in imported(name).files() {
        let path = dir.path().join(place);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let cases = load_cases(&dir.path().join("cases")).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let schemas =
        SchemaSet::load(&dir.path().join("schemas")).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    Written {
        _dir: dir,
        cases,
        schemas,
    }
}

/// The suites of an import, each with its cases.
fn suites(cases: &[Case]) -> Vec<(String, Vec<Case>)> {
    let mut out: Vec<(String, Vec<Case>)> = Vec::new();
    for case in cases {
        match out.last_mut() {
            Some((name, list)) if name == case.suite() => list.push(case.clone()),
            _ => out.push((case.suite().to_owned(), vec![case.clone()])),
        }
    }
    out
}

/// Runs `cases` (one suite) against its own mock with `fault` (if any); nested lists run
/// under the mock's first parent.
async fn run_suite(
    cases: &[Case],
    schemas: &SchemaSet,
    fault: Option<Fault>,
) -> Vec<(String, CaseRun)> {
    let template = Arc::clone(&cases[0].contract);
    let mut config = MockConfig::for_contract(&template);
    if let Some(examples) = load_examples(&cases[0].contract_path, &template).unwrap() {
        config = config.examples(examples);
    }
    if let Some(f) = fault {
        config = config.fault(f);
    }
    let mut contract = (*template).clone();
    for param in template.path_params() {
        contract.path = fill_param(&contract.path, &param, &parent_ids(&param)[0]);
    }
    let contract = Arc::new(contract);
    let mock = ReferenceMock::start(config).await;
    let target = Target::new(mock.base_url(), Secret::new(DEFAULT_KEY), template.auth);
    let http = HttpClient::new(&ClientSettings::default()).unwrap();
    let options = RequestOptions::default();
    let cache = RunCache::default();
    let ctx = RunContext::new(&target, &http, schemas, &options, &cache);
    let mut runs = Vec::new();
    for case in cases {
        let mut case = case.clone();
        case.contract = Arc::clone(&contract);
        runs.push((case.name.clone(), run_case(&case, &ctx).await));
    }
    runs
}

#[test]
fn each_paging_extension_is_read_with_its_scheme() {
    let speakeasy = imported("speakeasy.yaml");
    let contract = file(&speakeasy, "cases/list_widgets/contract.toml");
    for line in [
        "cursor_param = \"cursor\"",
        "cursor_source = \"token\"",
        "next_token = \"/next_cursor\"",
        "limit_param = \"page_size\"",
        "max_limit = 50",
        "data = \"/items\"",
        "auth = \"x-api-key\"",
        "# cursor_param: declared: x-speakeasy-pagination cursor",
    ] {
        assert!(contract.contains(line), "speakeasy: {line} in\n{contract}");
    }
    let report = speakeasy.report("speakeasy.yaml");
    assert!(report.contains("`searchWidgets` GET /widgets/search: x-speakeasy-pagination type `offsetLimit`: offset/limit paging is not supported yet"), "{report}");
    assert!(
        report.contains("`getWidget` GET /widgets/{widget_id}: not a list"),
        "{report}"
    );

    let fern = imported("fern.json");
    let contract = file(&fern, "cases/list_gadgets/contract.toml");
    for line in [
        "cursor_param = \"starting_after\"",
        "cursor_source = \"last_item\"",
        "# cursor_source: declared: x-fern-pagination next cursor: the last item's id",
        "auth = \"bearer\"",
        "[order_param]",
        "first_id = \"\"",
    ] {
        assert!(contract.contains(line), "fern: {line} in\n{contract}");
    }
    assert!(
        fern.report("f")
            .contains("x-fern-pagination with `offset`: offset paging is not supported yet")
    );
    // The response's example items are what the mock serves.
    assert!(file(&fern, "cases/list_gadgets/mock-items.json").contains("\"lamp\""));

    let stainless = imported("stainless.yaml");
    let contract = file(&stainless, "cases/list_notes/contract.toml");
    for line in [
        "# cursor_param: declared: x-stainless-pagination-property cursor",
        "[backward]\nparam = \"before\"",
        "first_id = \"/first_id\"",
    ] {
        assert!(contract.contains(line), "stainless: {line} in\n{contract}");
    }

    // x-ms-pageable's next links, a one-page list, and Link headers: found, named, skipped.
    let ms = imported("ms-pageable.yaml");
    assert!(ms.suites.is_empty());
    let report = ms.report("ms-pageable.yaml");
    for line in [
        "`Vaults_List` GET /vaults: x-ms-pageable: next-link paging (`nextLink` holds a URL to follow) is not supported yet",
        "`Locations_List` GET /locations: not paginated: x-ms-pageable with nextLinkName null",
        "`Reports_List` GET /reports: Link-header paging (RFC 8288 `Link: rel=next`) is not supported yet",
        "1 × Link-header paging (not supported yet)",
    ] {
        assert!(report.contains(line), "{line} in\n{report}");
    }
}

#[test]
fn limits_and_order_read_from_prose_are_marked_so_and_guesses_listed() {
    let jobs = imported("prose-limits.yaml");
    let contract = file(&jobs, "cases/list_jobs/contract.toml");
    let sentence = "read from prose: \"Limit can range between 1 and 100, and the default is 20\"";
    for line in [
        format!("# max_limit: {sentence}\nmax_limit = 100"),
        format!("# default_limit: {sentence}\ndefault_limit = 20"),
        "# order: read from prose: \"Defaults to `desc` for descending order\"".to_owned(),
        // `status` is a free string naming an item field whose enum gives the values.
        "param = \"status\"\nfield = \"/status\"\nvalues = [\"queued\", \"running\", \"succeeded\", \"failed\"]".to_owned(),
    ] {
        assert!(contract.contains(&line), "{line} in\n{contract}");
    }
    // A limit with nothing to read is guessed, and the starter overrides file lists it.
    let nested = imported("nested.yaml");
    let members = file(&nested, "cases/list_project_members/contract.toml");
    assert!(
        members.contains("# order: guessed: no order parameter: newest first assumed"),
        "{members}"
    );
    let starter = nested.starter_overrides();
    assert!(
        starter.contains("[operations.listProjectMembers]\n"),
        "{starter}"
    );
    assert!(
        starter.contains("# order = \"desc\"  # guessed: no order parameter"),
        "{starter}"
    );
    let parsed = Overrides::parse(&starter, "overrides.toml")
        .expect("the starter file is a valid overrides file");
    assert!(
        parsed.of("listProjectMembers").order.is_none(),
        "guesses are commented out"
    );
}

#[test]
fn an_override_wins_and_says_so_and_a_bad_one_is_named() {
    let text = std::fs::read_to_string(fixture("prose-limits.yaml")).unwrap();
    let overrides = Overrides::parse(
        "[operations.listJobs]\nmax_limit = 40\nsuite = \"jobs\"\n",
        "o.toml",
    )
    .unwrap();
    let jobs = import(&text, "p", &overrides, &[]).unwrap();
    let contract = file(&jobs, "cases/jobs/contract.toml");
    assert!(
        contract.contains("# max_limit: overridden (overrides file)\nmax_limit = 40"),
        "{contract}"
    );
    assert!(file(&jobs, "cases/jobs/limit_above_max.toml").contains("limit = 41"));
    let unknown = import(
        &text,
        "p.yaml",
        &Overrides::default(),
        &["listNothing".to_owned()],
    )
    .unwrap_err();
    assert_eq!(
        unknown.to_string(),
        "p.yaml: --operation listNothing: no GET operation has that operationId (the document's GET operations: listJobs)"
    );
}

#[test]
fn openapi_30_schemas_become_standalone_2020_12() {
    let orders = imported("openapi30.yaml");
    let schema: serde_json::Value =
        serde_json::from_str(file(&orders, "schemas/list_orders.list.json")).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let order = &schema["$defs"]["Order"];
    assert_eq!(
        order["properties"]["note"]["type"],
        serde_json::json!(["string", "null"])
    );
    assert_eq!(
        order["properties"]["state"]["enum"],
        serde_json::json!(["open", "closed", null])
    );
    assert_eq!(
        order["required"],
        serde_json::json!(["id", "created", "state", "note", "pet"]),
        "writeOnly `secret` is not required in a response"
    );
    assert!(!file(&orders, "schemas/list_orders.list.json").contains("nullable"));
    assert!(!file(&orders, "schemas/list_orders.list.json").contains("discriminator"));
    let contract = file(&orders, "cases/list_orders/contract.toml");
    assert!(
        contract.contains("order_key = \"created\"")
            && contract.contains("order_key_kind = \"rfc3339\""),
        "{contract}"
    );
    // `X-API-Key` is the x-api-key style, whatever its case.
    assert!(contract.contains("auth = \"x-api-key\""), "{contract}");
    // The spec's example item conforms, so the mock serves it.
    assert!(file(&orders, "cases/list_orders/mock-items.json").contains("ord_1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_imported_suite_passes_against_its_own_mock() {
    let mut suites_run = Vec::new();
    for name in FIXTURES {
        let w = written(name);
        for (suite, cases) in suites(&w.cases) {
            let runs = run_suite(&cases, &w.schemas, None).await;
            let failed: Vec<String> = runs
                .iter()
                .filter(|(_, r)| !r.passed())
                .map(|(n, r)| {
                    format!(
                        "{n}: {:?}",
                        r.violations
                            .iter()
                            .map(|v| (v.invariant, &v.pointer, &v.actual))
                            .take(3)
                            .collect::<Vec<_>>()
                    )
                })
                .collect();
            assert!(failed.is_empty(), "{name}: {failed:#?}");
            suites_run.push(format!("{suite} ({} cases)", runs.len()));
        }
    }
    assert_eq!(suites_run.len(), 8, "{suites_run:?}");
}

/// The generic faults, by family: each applies to the imported suites whose contract has what
/// it breaks.
const GENERIC: &[Fault] = &[
    Fault::CursorSkipsOne,
    Fault::CursorInclusive,
    Fault::CursorTokenReused,
    Fault::HasMoreFalseEarly,
    Fault::HasMoreAlwaysTrue,
    Fault::LimitPlusOne,
    Fault::LimitAboveMaxClamped,
    Fault::OrderIgnored,
    Fault::BackwardInclusive,
    Fault::FilterLeaksOne,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_faults_are_caught_through_the_imported_suites_with_the_invariant_named() {
    let mut caught = Vec::new();
    for name in FIXTURES {
        let w = written(name);
        for (suite, cases) in suites(&w.cases) {
            for &fault in GENERIC {
                if !fault.applies_to(&cases[0].contract) {
                    continue;
                }
                let runs = run_suite(&cases, &w.schemas, Some(fault)).await;
                let mut expected = entry_of(fault).caught_by.to_vec();
                if fault == Fault::HasMoreFalseEarly
                    && cases[0].contract.cursor_source == CursorSource::Token
                {
                    // A token walk cannot ask for the page after the last item (there is no
                    // token for it): the early end shows as a shorter listing than the other
                    // walks'.
                    expected.push(Invariant::SameSequence);
                }
                let found: Vec<Invariant> = runs
                    .iter()
                    .flat_map(|(_, r)| r.violations.iter().map(|v| v.invariant))
                    .collect();
                assert!(
                    found.iter().any(|i| expected.contains(i)),
                    "{name} {suite}: {fault:?} is not caught by {expected:?}; found {found:?}"
                );
                caught.push(format!("{suite}:{fault:?}"));
            }
        }
    }
    // Every family shows on some imported suite.
    for fault in GENERIC {
        assert!(
            caught.iter().any(|c| c.ends_with(&format!(":{fault:?}"))),
            "{fault:?} applied to no imported suite: {caught:?}"
        );
    }
}

/// `list-contract` with no `CONTRACT_*` variable but `env`, in `dir`.
fn in_dir(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_list-contract"));
    for (var, _) in std::env::vars() {
        if var.starts_with("CONTRACT_") || var.to_ascii_lowercase().ends_with("_proxy") {
            cmd.env_remove(var);
        }
    }
    cmd.current_dir(dir)
        .env("CONTRACT_RATE_LIMIT", "0")
        .envs(env.iter().copied())
        .args(args);
    cmd.output().unwrap()
}

#[test]
fn import_writes_the_init_layout_that_check_runs() {
    let dir = tempfile::tempdir().unwrap();
    let spec = fixture("nested.yaml");
    let out = in_dir(
        dir.path(),
        &[],
        &["import", spec.to_str().unwrap(), "--out", "suites"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("imported 3 list(s) of 3 GET operation(s)"),
        "{said}"
    );
    for place in [
        "suites/cases/list_store_files/contract.toml",
        "suites/cases/list_store_files/backward_walk.toml",
        "suites/cases/list_store_files/mock-items.json",
        "suites/schemas/list_store_files.list.json",
        "suites/schemas/list_store_files.error.json",
        "suites/import-report.md",
        "suites/overrides.toml",
    ] {
        assert!(dir.path().join(place).is_file(), "{place}");
    }
    let run = in_dir(
        dir.path(),
        &[],
        &[
            "check",
            "--cases",
            "suites/cases",
            "--schemas",
            "suites/schemas",
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    assert!(
        text(&run).contains("list_store_files::walk_limit_1"),
        "{}",
        text(&run)
    );
    // Nothing is overwritten without --force; standard input is read with `-`.
    let again = in_dir(
        dir.path(),
        &[],
        &["import", spec.to_str().unwrap(), "--out", "suites"],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again).contains("exist already") && text(&again).contains("--force"),
        "{}",
        text(&again)
    );
    let mut piped = std::process::Command::new(env!("CARGO_BIN_EXE_list-contract"))
        .current_dir(dir.path())
        .args(["import", "-", "--out", "piped"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut piped.stdin.take().unwrap(),
        std::fs::read(fixture("fern.json")).unwrap().as_slice(),
    )
    .unwrap();
    let piped = piped.wait_with_output().unwrap();
    assert_eq!(piped.status.code(), Some(0));
    assert!(
        dir.path()
            .join("piped/cases/list_gadgets/contract.toml")
            .is_file()
    );
    // A document that is not OpenAPI 3 is named, with what to do.
    std::fs::write(dir.path().join("old.yaml"), "swagger: '2.0'\npaths: {}\n").unwrap();
    let old = in_dir(dir.path(), &[], &["import", "old.yaml"]);
    assert_eq!(old.status.code(), Some(1));
    assert!(
        text(&old).contains("old.yaml: not an OpenAPI 3.0 or 3.1 document (swagger: 2.0)"),
        "{}",
        text(&old)
    );
}

#[test]
fn check_openapi_imports_in_memory_and_picks_operations() {
    let dir = tempfile::tempdir().unwrap();
    let spec = fixture("nested.yaml");
    let out = in_dir(
        dir.path(),
        &[],
        &["check", "--openapi", spec.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("imported 3 list(s)")
            && said.contains("list_store_files::backward_walk")
            && said.contains("list_project_members::walk_limit_7"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file is written"
    );
    let one = in_dir(
        dir.path(),
        &[("CONTRACT_OPERATIONS", "listStoreFiles")],
        &["check", "--openapi", spec.to_str().unwrap(), "--list"],
    );
    let listed = text(&one);
    assert!(
        listed.contains("list_store_files::cross_walk") && !listed.contains("list_stores::"),
        "{listed}"
    );
    let unknown = in_dir(
        dir.path(),
        &[],
        &[
            "check",
            "--openapi",
            spec.to_str().unwrap(),
            "--operation",
            "listNope",
        ],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown).contains("--operation listNope: no GET operation has that operationId"),
        "{}",
        text(&unknown)
    );
    let missing = in_dir(dir.path(), &[], &["check", "--openapi", "nope.yaml"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing).contains("--openapi: cannot read the OpenAPI document nope.yaml"),
        "{}",
        text(&missing)
    );
}

/// A local server: the nested list's mock (it serves the parent list too), with `fault`.
async fn nested_server(fault: Option<Fault>) -> ReferenceMock {
    let w = written("nested.yaml");
    let case = w
        .cases
        .iter()
        .find(|c| c.suite() == "list_store_files")
        .unwrap();
    let mut config = MockConfig::for_contract(&case.contract).examples(
        load_examples(&case.contract_path, &case.contract)
            .unwrap()
            .unwrap(),
    );
    if let Some(f) = fault {
        config = config.fault(f);
    }
    ReferenceMock::start_embedded(config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_openapi_against_a_local_server_walks_the_parent_list() {
    let spec = fixture("nested.yaml");
    let spec = spec.to_str().unwrap();
    let server = nested_server(None).await;
    let base = server.base_url().to_string();
    let env = [("CONTRACT_API_KEY", DEFAULT_KEY)];
    let args = [
        "--openapi",
        spec,
        "--operation",
        "listStoreFiles",
        "--base-url",
        base.as_str(),
    ];
    let ok = tokio::task::spawn_blocking({
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        move || check(&env, &args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap();
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(
        text(&ok).contains("/stores/store_id_parent_1/files"),
        "the parent walked: {}",
        text(&ok)
    );
    // A given parameter wins over the walk.
    let given = tokio::task::spawn_blocking({
        let base = base.clone();
        let spec = spec.to_owned();
        move || {
            check(
                &env,
                &[
                    "--openapi",
                    &spec,
                    "--operation",
                    "listStoreFiles",
                    "--base-url",
                    &base,
                    "--path-param",
                    "store_id=store_id_parent_2",
                    "--test-threads",
                    "1",
                    "list_store_files::limit_1",
                ],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(given.status.code(), Some(0), "{}", text(&given));
    // A list whose parent the document cannot list needs the parameter, named.
    let members = tokio::task::spawn_blocking({
        let base = base.clone();
        let spec = spec.to_owned();
        move || {
            check(
                &env,
                &[
                    "--openapi",
                    &spec,
                    "--operation",
                    "listProjectMembers",
                    "--base-url",
                    &base,
                ],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(members.status.code(), Some(1), "{}", text(&members));
    assert!(text(&members).contains("needs `project_id`, and no list of the document gives one: give it with --path-param (or CONTRACT_PATH_PARAMS) project_id=VALUE"), "{}", text(&members));
    drop(server);

    // The same server drifting: caught through the imported suite, invariant named, exit 101.
    let drifting = nested_server(Some(Fault::CursorSkipsOne)).await;
    let base = drifting.base_url().to_string();
    let spec = spec.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        check(
            &env,
            &[
                "--openapi",
                &spec,
                "--operation",
                "listStoreFiles",
                "--base-url",
                &base,
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(101), "{}", text(&out));
    assert!(
        text(&out).contains("invariant: same_sequence"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_bad_path_param_is_named() {
    let out = list_contract(
        &[],
        &[
            "check",
            "--openapi",
            fixture("nested.yaml").to_str().unwrap(),
            "--path-param",
            "store_id",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("`store_id` is not NAME=VALUE"),
        "{}",
        text(&out)
    );
    // A value a URL would resolve (`..`, also percent-encoded) or that holds a control
    // character never reaches a request: the path stays the contract's.
    for bad in ["..", ".", "a\tb"] {
        let out = list_contract(
            &[],
            &[
                "check",
                "--openapi",
                fixture("nested.yaml").to_str().unwrap(),
                "--path-param",
                &format!("store_id={bad}"),
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{bad:?}: {}", text(&out));
        assert!(
            text(&out)
                .contains("`store_id` from --path-param (or CONTRACT_PATH_PARAMS) cannot fill"),
            "{bad:?}: {}",
            text(&out)
        );
    }
}

#[test]
fn the_overrides_example_of_the_docs_is_a_valid_overrides_file() {
    let docs = std::fs::read_to_string(root().join("docs/suites.md")).unwrap();
    let after = docs
        .split("**The overrides file.**")
        .nth(1)
        .expect("the section");
    let block = after
        .split("```toml\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let overrides = Overrides::parse(block, "docs/suites.md").unwrap();
    let jobs = overrides.of("listJobs");
    assert_eq!(
        (jobs.max_limit, jobs.auth.as_deref(), jobs.filters.len()),
        (Some(50), Some("x-api-key"), 1)
    );
    let text = std::fs::read_to_string(fixture("prose-limits.yaml")).unwrap();
    let imported = import(&text, "p", &overrides, &[]).unwrap();
    let contract = file(&imported, "cases/jobs/contract.toml");
    assert!(
        contract.contains("order = \"asc\"") && !contract.contains("[backward]"),
        "{contract}"
    );
}
