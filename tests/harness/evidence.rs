//! What a run proved and what it could not (evidence), the server's bug named (diagnoses of
//! drift), and exit codes that mean what they say: 101 only for answers that broke the
//! contract, 1 when the contract could not be judged.

use crate::common;

use common::{check, mock_config, text};
use list_contract::evidence::server_bug::BugKind;
use list_contract::mock::{Fault, ReferenceMock};

const KEY: &str = "sk-canary-evidence-5d1e";

/// `check` of `--suite list_batches` against a live mock built from `config`, with every
/// report written; returns the exit code, the output, and the JSON, JUnit and Markdown
/// reports.
async fn check_reports(
    config: list_contract::mock::MockConfig,
    args: &[&str],
) -> (Option<i32>, String, serde_json::Value, String, String) {
    let mock = ReferenceMock::start(config.key(KEY)).await;
    let base = mock.base_url().to_string();
    let dir = tempfile::tempdir().unwrap();
    let (json, xml, md) = (
        dir.path().join("r.json"),
        dir.path().join("r.xml"),
        dir.path().join("r.md"),
    );
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let env: Vec<(String, String)> = vec![
        ("CONTRACT_BASE_URL".into(), base),
        ("CONTRACT_API_KEY".into(), KEY.into()),
        ("CONTRACT_JSON".into(), json.to_str().unwrap().into()),
        ("CONTRACT_JUNIT".into(), xml.to_str().unwrap().into()),
        ("CONTRACT_MARKDOWN".into(), md.to_str().unwrap().into()),
        // Every shipped suite (a live run's default is the List Batches suite alone).
        (
            "CONTRACT_CASES_DIR".into(),
            common::cases_dir().to_str().unwrap().into(),
        ),
    ];
    let out = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        check(&env, &args)
    })
    .await
    .unwrap();
    let report = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let junit = std::fs::read_to_string(&xml).unwrap();
    let markdown = std::fs::read_to_string(&md).unwrap();
    let all = text(&out);
    assert!(!all.contains(KEY) && !junit.contains(KEY) && !markdown.contains(KEY));
    (out.status.code(), all, report, junit, markdown)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_listing_is_not_proven_in_every_report_and_fails_with_require_evidence() {
    let args = ["--suite", "list_batches"];
    let (code, all, json, junit, md) = check_reports(mock_config().items(0), &args).await;
    assert_eq!(code, Some(0), "{all}");
    let line = "not proven: list_batches: paging (the listing is empty: no cursor, page \
                boundary, order or has_more: true was exercised";
    assert!(all.contains(line), "{all}");
    assert!(
        all.contains("evidence: list_batches: 0 item(s) seen at depth sampled;"),
        "{all}"
    );
    let unproven = json["evidence"]["not_proven"].as_array().unwrap();
    assert_eq!(unproven.len(), 1, "{json:#}");
    assert_eq!(unproven[0]["what"], "paging");
    assert!(
        junit.contains(
            "<property name=\"not_proven\" value=\"list_batches: paging (the listing is empty"
        ),
        "{junit}"
    );
    assert!(md.contains("**Not proven**"), "{md}");
    assert!(
        md.contains("- `list_batches`: paging: the listing is empty"),
        "{md}"
    );
    assert!(
        md.starts_with("## list-contract: conforms (exit 0)"),
        "{md}"
    );

    let args = ["--suite", "list_batches", "--require-evidence"];
    let (code, all, json, _, md) = check_reports(mock_config().items(0), &args).await;
    assert_eq!(code, Some(1), "{all}");
    assert!(
        all.contains("; --require-evidence: the run fails (exit 1)"),
        "{all}"
    );
    assert_eq!(json["evidence"]["require_evidence"], true);
    assert!(
        md.starts_with("## list-contract: cannot run (exit 1)"),
        "{md}"
    );

    // `=false` on the flag turns it off again (CONTRACT_REQUIRE_EVIDENCE is read like every
    // setting: src/settings/tests.rs).
    let (code, all, ..) = check_reports(
        mock_config().items(0),
        &["--suite", "list_batches", "--require-evidence=false"],
    )
    .await;
    assert_eq!(code, Some(0), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_full_listing_is_proven_and_says_over_what() {
    let (code, all, json, ..) = check_reports(
        mock_config(),
        &["--suite", "list_batches", "--require-evidence"],
    )
    .await;
    assert_eq!(code, Some(0), "{all}");
    assert!(!all.contains("not proven"), "{all}");
    assert!(
        all.contains(
            "evidence: list_batches: 257 item(s) seen at depth sampled; page boundaries crossed: "
        ),
        "{all}"
    );
    assert!(all.contains("limit=1 256 boundaries ("), "{all}");
    let suite = &json["evidence"]["suites"][0];
    assert_eq!(suite["items"], 257);
    assert!(
        suite["walks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["ties"].as_u64() > Some(0))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn too_few_items_to_cross_a_page_is_not_proven() {
    // One item: no walk crosses a page (the smallest limit is 1: it needs 2).
    let (code, all, ..) = check_reports(mock_config().items(1), &["--suite", "list_batches"]).await;
    assert_eq!(code, Some(0), "{all}");
    assert!(
        all.contains("not proven: list_batches: cursor across a page (the listing has 1 item(s), fewer than the smallest walk's limit + 1"),
        "{all}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tie_skipping_cursor_is_named_with_the_tie_and_the_cursor() {
    let (code, all, json, junit, md) = check_reports(
        mock_config().fault(Fault::TieSkip),
        &["--suite", "list_batches"],
    )
    .await;
    assert_eq!(code, Some(101), "{all}");
    let line = all
        .lines()
        .find(|l| l.starts_with("likely server bug: items tied with the cursor are skipped: walk "))
        .unwrap_or_else(|| panic!("{all}"));
    assert!(
        line.contains(") left out ")
            && line.contains(" that share the order key ")
            && line.contains(" with the cursor ")
            && line.contains("`created_at < cursor`"),
        "{line}"
    );
    let bugs = json["evidence"]["server_bugs"].as_array().unwrap();
    assert!(bugs.iter().any(|b| b["kind"] == "tie_skipped"), "{json:#}");
    assert!(
        junit.contains("<property name=\"server_bug\" value=\"items tied with the cursor"),
        "{junit}"
    );
    assert!(md.contains("### Likely server bugs"), "{md}");
}

#[tokio::test]
async fn each_walk_diagnosis_fires_on_its_fault() {
    for (fault, case, kind) in [
        (
            Fault::TieSkip,
            "list_batches::cross_walk",
            BugKind::TieSkipped,
        ),
        (
            Fault::CursorInclusive,
            "list_batches::walk_limit_7",
            BugKind::CursorInclusive,
        ),
        (
            Fault::CursorIgnored,
            "list_batches::walk_limit_7",
            BugKind::CursorIgnored,
        ),
        (
            Fault::LimitIgnored,
            "list_batches::walk_limit_7",
            BugKind::LimitIgnored,
        ),
        (
            Fault::LastIdRaw,
            "list_batches::limit_7",
            BugKind::IdsRewritten,
        ),
    ] {
        let run = common::run(mock_config().fault(fault), case).await;
        assert!(
            run.evidence.bugs.iter().any(|b| b.kind == kind),
            "{fault:?}: {case}: {:#?}",
            run.evidence.bugs
        );
    }
    // The conforming mock: no diagnosis anywhere.
    for case in [
        "list_batches::cross_walk",
        "list_batches::walk_limit_7",
        "list_batches::limit_7",
    ] {
        let run = common::run(mock_config(), case).await;
        assert!(
            run.evidence.bugs.is_empty(),
            "{case}: {:#?}",
            run.evidence.bugs
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_named_suite_the_server_does_not_serve_fails_with_exit_1() {
    // A List Batches server, asked for the Files suite by name and with it.
    let (code, all, json, ..) = check_reports(
        mock_config(),
        &["--suite", "list_batches", "--suite", "openai_files"],
    )
    .await;
    assert_eq!(code, Some(1), "{all}");
    assert!(
        all.contains("every request of suite openai_files was answered 404 Not Found")
            && all.contains("The suite was asked for by name, so the run fails."),
        "{all}"
    );
    assert_eq!(json["diagnoses"][0]["cause"], "suite_not_served");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_filter_compared_with_a_walk_that_skips_ties_is_not_blamed() {
    // llama-stack's `/v1/files`: the unfiltered walk skips ties, and so does the filtered one.
    let config = common::suite_config("openai_files").fault(Fault::TieSkip);
    let mock = ReferenceMock::start(config).await;
    let (base, key) = (mock.base_url().to_string(), mock.config().key.clone());
    let out = tokio::task::spawn_blocking(move || {
        check(
            &[
                ("CONTRACT_BASE_URL", base.as_str()),
                ("CONTRACT_API_KEY", key.as_str()),
                ("CONTRACT_CASES_DIR", common::cases_dir().to_str().unwrap()),
            ],
            &["--suite", "openai_files"],
        )
    })
    .await
    .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(101), "{all}");
    assert!(
        all.contains("likely server bug: items tied with the cursor are skipped: walk "),
        "{all}"
    );
    assert!(
        all.contains(
            "likely server bug: the filter_sequence failure of openai_files::filter_walk likely \
             follows from the skipped ties (openai_files::cross_walk shows them): the walks it \
             compares skip ties too, so the filter is not to blame"
        ),
        "{all}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_suite_gets_its_own_base_url_with_base_url_for() {
    // List Batches under `/anthropic`-style prefix of its own; nothing at the base URL.
    let mock = ReferenceMock::start(mock_config().key(KEY).prefix("/gw")).await;
    let own_base = mock.base_url().to_string();
    assert!(own_base.ends_with("/gw"), "{own_base}");
    let base = own_base.trim_end_matches("gw").to_owned();
    let run = |args: Vec<String>, env: Vec<(&'static str, String)>| {
        tokio::task::spawn_blocking(move || {
            let mut all: Vec<(&str, &str)> = vec![("CONTRACT_API_KEY", KEY)];
            all.extend(env.iter().map(|(k, v)| (*k, v.as_str())));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            check(&all, &args)
        })
    };
    let args = |extra: &[&str]| -> Vec<String> {
        ["--base-url", base.as_str(), "--suite", "list_batches"]
            .iter()
            .chain(extra)
            .map(|s| (*s).to_owned())
            .collect()
    };
    // Without it: every request 404, exit 1 with the diagnosis.
    let out = run(args(&[]), vec![]).await.unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("diagnosis: every request was answered 404 Not Found"));
    // With the flag, or the variable: the suite's own prefix, and it conforms.
    let own = format!("list_batches={own_base}");
    let out = run(args(&["--base-url-for", &own]), vec![]).await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains(&format!("list-contract: checking {own_base}")));
    let out = run(args(&[]), vec![("CONTRACT_BASE_URL_FOR", own.clone())])
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // A value that is no SUITE=URL, or a suite that does not exist, is named.
    let out = run(args(&["--base-url-for", "list_batches"]), vec![])
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains(
            "error: --base-url-for: `list_batches` is not SUITE=URL (e.g. list_batches=https://h)"
        ),
        "{}",
        text(&out)
    );
    let out = run(args(&["--base-url-for", "list_batchez=http://h"]), vec![])
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("error: --base-url-for: `list_batchez` is not a suite of "),
        "{}",
        text(&out)
    );
}

#[test]
fn a_default_run_against_a_batches_only_server_passes_with_three_suites_not_served() {
    // `serve` serves List Batches alone: /v1/batches, nothing else.
    let (_server, base, _stderr) = common::serve(&["--key", KEY]);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let md = dir.path().join("r.md");
    let xml = dir.path().join("r.xml");
    let out = check(
        &[
            ("CONTRACT_API_KEY", KEY),
            ("CONTRACT_CASES_DIR", common::cases_dir().to_str().unwrap()),
            ("CONTRACT_JSON", json.to_str().unwrap()),
            ("CONTRACT_MARKDOWN", md.to_str().unwrap()),
            ("CONTRACT_JUNIT", xml.to_str().unwrap()),
        ],
        &["--base-url", &base],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("17 passed, 0 failed, 62 ignored;"), "{all}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let markdown = std::fs::read_to_string(&md).unwrap();
    let junit = std::fs::read_to_string(&xml).unwrap();
    for suite in [
        "anthropic_message_batches",
        "openai_files",
        "openai_vector_stores",
    ] {
        let said = format!("every request of suite {suite} was answered 404 Not Found");
        assert!(all.contains(&said), "{suite}: {all}");
        assert!(markdown.contains(&said), "{suite}: {markdown}");
        assert!(junit.contains(&said), "{suite}: {junit}");
        assert!(
            report["diagnoses"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["cause"] == "suite_not_served"
                    && d["message"].as_str().unwrap().contains(&said)),
            "{suite}"
        );
        let ignored = report["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| {
                c["name"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{suite}::"))
            })
            .all(|c| c["outcome"] == "ignored");
        assert!(ignored, "{suite}: its cases are ignored");
    }
    assert!(
        markdown.starts_with("## list-contract: conforms (exit 0)"),
        "{markdown}"
    );
}
