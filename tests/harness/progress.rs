//! What a run says of its cost: the plan line before the first request, in every output; the
//! progress display on a terminal only (or with `--progress always`), never in piped output.

use crate::common::{check, text};

#[test]
fn piped_output_has_the_plan_line_and_no_progress_display() {
    let out = check(&[], &["--suite", "list_batches"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let plan = stderr
        .lines()
        .find(|l| l.starts_with("plan: "))
        .unwrap_or_else(|| panic!("a plan line: {stderr}"));
    // Against the embedded mock the listing's size is known: a plain count, no timing.
    assert!(
        plan.starts_with("plan: 17 case(s) in 1 suite(s), at most ")
            && plan.ends_with(" request(s); no rate cap"),
        "{plan}"
    );
    // Before the first case runs.
    let at = |needle: &str| stderr.find(needle).unwrap_or(usize::MAX);
    assert!(at("plan: ") < at("summary: "), "{stderr}");
    let all = text(&out);
    assert!(
        !all.contains('\x1b'),
        "an escape code in piped output: {all}"
    );
    assert!(!all.contains(" case(s), 0 request(s)"), "{all}");
}

#[test]
fn progress_always_draws_on_stderr_and_never_on_stdout() {
    let out = check(&[], &["--suite", "list_batches", "--progress", "always"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("list_batches ["), "{stderr}");
    assert!(stderr.contains("/17 case(s), "), "{stderr}");
    assert!(stderr.contains("\x1b["), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains('\x1b'), "{stdout}");
    // `never` and CONTRACT_PROGRESS.
    let out = check(
        &[("CONTRACT_PROGRESS", "never")],
        &["--suite", "list_batches"],
    );
    assert!(!text(&out).contains('\x1b'), "{}", text(&out));
    let out = check(&[("CONTRACT_PROGRESS", "sometimes")], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("unknown progress `sometimes`"),
        "{}",
        text(&out)
    );
}
