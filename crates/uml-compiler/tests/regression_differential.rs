//! Discrepancies the differential test (`differential.rs`) found between the
//! reference evaluator, the unoptimized plan and the optimized plan, each
//! minimized to a rule and a line. A test is `#[ignore]`d while the
//! discrepancy stands; its comment says what differs. Once it is fixed,
//! remove the `#[ignore]` (and the mask in `differential/harness.rs`, if the
//! property masks it).

#[path = "differential/gen.rs"]
mod generate;
#[path = "differential/harness.rs"]
mod harness;

use generate::{FileMeta, Input};

/// A rule that assigns every required output, then runs `body`.
fn rule(body: &str) -> String {
    format!(
        "rule r {{
  labels.model_version_id = \"m\"
  labels.namespace = \"n\"
  payload.levelname = \"INFO\"
  payload.replica = \"\"
  payload.source = \"s\"
  payload.message = \"\"
{body}
}}
"
    )
}

fn file() -> FileMeta {
    FileMeta {
        pod: "app-1".into(),
        namespace: "default".into(),
        container: "app".into(),
        container_id: "0123abcd".into(),
        file: "/var/log/containers/app-1_default_app-0123abcd.log".into(),
        stderr: false,
    }
}

/// Runs `lines` through the three engines and fails with the report if any
/// two disagree (nothing masked).
fn check(rules: &str, lines: &[&str]) {
    let units = harness::units(rules);
    let engines = harness::build(&units).unwrap_or_else(|e| panic!("the rules check:\n{e}\n{rules}"));
    let inputs: Vec<Input> = lines
        .iter()
        .map(|l| Input { file: 0, line: l.to_string(), traceback: None, timestamp: 1_795_135_392_801_000_000 })
        .collect();
    if let Err(report) = harness::run(&engines, &[file()], &inputs, false) {
        panic!("{report}");
    }
}

/// The error message of a failed `parse_json` is observable: through the
/// `err` of `let j, err = …` (here the record's message) and in the abort
/// message of `parse_json!`. The evaluator's parser says
/// `unexpected character in JSON`, the runtime's scanner (both plans)
/// `unexpected character at byte 6`; likewise `unexpected end of JSON` and
/// `unexpected end of input at byte N`, `expected `,` or `}`` and
/// `unexpected character at byte N`, and so on: the two parsers share no
/// message.
#[test]
#[ignore = "discrepancy: JSON error messages differ between the evaluator and the executor"]
fn json_error_messages_differ() {
    check(&rule("  let j, err = parse_json(%line)\n  payload.message = err ?? \"ok\""), &[r#"{"a": tru}"#]);
}

#[test]
#[ignore = "discrepancy: JSON error messages differ between the evaluator and the executor"]
fn json_abort_messages_differ() {
    check(&rule("  let j = parse_json!(%line)"), &["{", r#"{"a" 1}"#]);
}

/// `encode_json` writes U+0008 and U+000C differently: the evaluator as
/// `\u0008` and `\u000c`, the executor (both plans) as `\b` and `\f`. Both
/// are valid JSON, but the text is the record's message, so the records
/// differ. Found as `encode_json([parse_json(%line) ?? {}])` on the line
/// `{"message": "… \b\f …"}`; a control character straight from `%line`
/// differs the same way.
#[test]
#[ignore = "discrepancy: encode_json escapes U+0008 and U+000C differently"]
fn encode_json_backspace_and_form_feed() {
    check(&rule("  payload.message = encode_json(parse_json(%line) ?? null)"), &[r#""\b\f""#]);
}

#[test]
#[ignore = "discrepancy: encode_json escapes U+0008 and U+000C differently"]
fn encode_json_backspace_and_form_feed_of_the_line() {
    check(&rule("  payload.message = encode_json(%line)"), &["a\u{8}b\u{c}c"]);
}

/// The nesting limit of `parse_json` is 128 in both parsers, but counted
/// differently: a scalar inside 128 nested arrays or objects is too deep for
/// the evaluator (`JSON nested too deeply`: it counts the scalar as a level)
/// and fine for the executor's scanner (which counts containers), so
/// `let j, err = parse_json(%line)` fails in one and succeeds in the other.
/// 128 empty nested arrays, and anything deeper than 128, agree.
#[test]
#[ignore = "discrepancy: a scalar at JSON nesting depth 128 fails in the evaluator only"]
fn json_depth_limit_counts_scalars_in_the_evaluator_only() {
    let body = "  let j, err = parse_json(%line)\n  payload.parsed = err == null";
    check(&rule(body), &[&format!("{}1{}", "[".repeat(128), "]".repeat(128))]);
    check(&rule(body), &[&format!("{}null{}", "{\"a\":".repeat(128), "}".repeat(128))]);
}

/// `max_record_size` is not applied by the evaluator: a message longer than
/// the limit is cut with `…[truncated]` by the executor (both plans) and
/// left whole by the evaluator. The generator therefore only writes
/// `max_record_size 256KiB`, with lines far shorter.
#[test]
#[ignore = "discrepancy: the evaluator does not cut records at max_record_size"]
fn max_record_size_is_not_applied_by_the_evaluator() {
    let rules = rule("  payload.message = %line").replacen("rule r {", "rule r {\n  max_record_size 1KiB", 1);
    check(&rules, &[&"x".repeat(2000)]);
}
