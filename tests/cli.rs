//! The `uml` command end to end, through `uml_cli::run` with in-memory
//! streams: the same code path as the binary, minus process start-up. (The
//! binary itself, with a real closed pipe, is tested in
//! `crates/uml-cli/tests/binary.rs`, where Cargo can locate it.)

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use uml_cli::args::Cli;
use uml_cli::termcolor::{Ansi, NoColor};
use uml_cli::{Io, Status};

/// What a run printed and how it ended.
struct Run {
    status: Status,
    stdout: String,
    stderr: String,
}

/// Runs `uml ARGS…` with `stdin` as standard input.
fn uml(args: &[&str], stdin: &str) -> Run {
    let cli = Cli::try_from_args(std::iter::once("uml").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("uml {args:?}: {e}"));
    let mut stdout = Vec::new();
    let mut stderr = NoColor::new(Vec::new());
    let status = uml_cli::run(&cli, &mut Io { stdin: &mut stdin.as_bytes(), stdout: &mut stdout, stderr: &mut stderr });
    Run {
        status,
        stdout: String::from_utf8(stdout).expect("UTF-8 output"),
        stderr: String::from_utf8(stderr.into_inner()).expect("UTF-8 output"),
    }
}

/// A directory of its own under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("uml-cli-test-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create dirs");
        std::fs::write(&path, text).expect("write a test file");
        path.to_str().expect("a UTF-8 temp path").to_string()
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A whole rule set in one file: a schema and a rule that satisfies it.
const VALID: &str = "schema {\n  labels {\n    job: \"app\"\n  }\n  payload {\n    message: string\n  }\n}\n\n\
                     rule app {\n  when %container == \"app\"\n  payload.message = %line\n}\n";
/// A second rule for the same schema, in a file of its own.
const VALID_RULE: &str = "rule web {\n  when %container == \"web\"\n  payload.message = %line\n}\n";
const UNFORMATTED: &str = "rule app{when %container==\"app\"\n      payload.message=%line}";
const BROKEN: &str = "rule app {\n  let = 1\n}\n";

fn formatted(src: &str) -> String {
    let parsed = uml_syntax::parse(uml_syntax::FileId(0), src);
    assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
    uml_syntax::format::format(&parsed.file, src)
}

#[test]
fn check_passes_clean_files_and_counts_them() {
    let dir = TempDir::new("check-ok");
    dir.write("a.uml", VALID);
    dir.write("nested/b.uml", VALID_RULE);
    dir.write("notes.txt", "not a rule file {");
    let run = uml(&["check", dir.path()], "");
    assert_eq!(run.status, Status::Success, "{}", run.stderr);
    assert_eq!(run.stderr, "ok: 2 files checked\n");
    assert_eq!(run.stdout, "");
}

#[test]
fn check_fails_on_a_syntax_error_and_shows_where() {
    let dir = TempDir::new("check-error");
    dir.write("a.uml", VALID);
    let broken = dir.write("b.uml", BROKEN);
    let run = uml(&["check", dir.path()], "");
    assert_eq!(run.status, Status::Failure);
    assert_eq!(run.status.code(), 1);
    assert!(run.stderr.starts_with("error[E0201]: unexpected `=`, expected an identifier\n"), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("--> {broken}:2:7\n")), "{}", run.stderr);
    assert!(run.stderr.contains("2 |   let = 1\n  |       ^ unexpected here\n"), "{}", run.stderr);
    assert!(run.stderr.ends_with("\nerror: 1 error in 1 file\n"), "{}", run.stderr);
}

#[test]
fn check_reports_every_file_with_errors() {
    let dir = TempDir::new("check-two");
    dir.write("a.uml", BROKEN);
    dir.write("b.uml", "rule b {\n  when %pod = \"x\"\n  emit @\n}\n");
    let run = uml(&["check", dir.path()], "");
    assert_eq!(run.status, Status::Failure);
    assert!(run.stderr.ends_with("\nerror: 3 errors in 2 files\n"), "{}", run.stderr);
    let a = run.stderr.find("a.uml:2:7").expect("a.uml is reported");
    let b = run.stderr.find("b.uml:2:13").expect("b.uml is reported");
    assert!(a < b, "files are reported in path order:\n{}", run.stderr);
}

#[test]
fn check_reads_standard_input() {
    let run = uml(&["check", "-"], BROKEN);
    assert_eq!(run.status, Status::Failure);
    assert!(run.stderr.contains("--> <stdin>:2:7"), "{}", run.stderr);
    assert_eq!(uml(&["check", "-"], VALID).stderr, "ok: 1 file checked\n");
}

#[test]
fn an_unreadable_path_is_one_line_and_status_2() {
    let dir = TempDir::new("missing");
    let missing = Path::new(dir.path()).join("x.uml");
    let missing = missing.to_str().expect("UTF-8");
    let run = uml(&["check", missing], "");
    assert_eq!(run.status, Status::Error);
    assert_eq!(run.status.code(), 2);
    assert_eq!(run.stderr, format!("uml: cannot read {missing}: No such file or directory\n"));

    let run = uml(&["check", dir.path()], "");
    assert_eq!(run.status, Status::Error);
    assert_eq!(run.stderr, format!("uml: no .uml files in {}\n", dir.path()));

    let not_utf8 = dir.write("bin.uml", "");
    std::fs::write(&not_utf8, b"rule \xff {}").expect("write");
    let run = uml(&["check", &not_utf8], "");
    assert_eq!(run.status, Status::Error);
    assert!(run.stderr.starts_with(&format!("uml: cannot read {not_utf8}: not UTF-8")), "{}", run.stderr);
}

#[test]
fn check_defaults_to_the_rules_directory() {
    // Integration tests run in the package root, where `rules/` holds the
    // project's own rules; whatever they contain, they must be readable.
    let run = uml(&["check"], "");
    assert_ne!(run.status, Status::Error, "{}", run.stderr);
    assert!(run.stderr.contains("rules/") || run.stderr.starts_with("ok: "), "{}", run.stderr);
}

#[test]
fn usage_errors_exit_with_2() {
    for args in [&["uml", "chek"][..], &["uml", "check", "--colour", "never"], &["uml", "fmt", "--color", "pink"]] {
        let err = Cli::try_from_args(args).expect_err("not a valid command line");
        assert_eq!(err.exit_code(), 2, "{args:?}");
    }
    let dir = TempDir::new("usage");
    let file = dir.write("a.uml", VALID);
    let run = uml(&["fmt", "-", &file], VALID);
    assert_eq!(run.status, Status::Error);
    assert_eq!(run.stderr, "uml: `-` (standard input) cannot be formatted together with other paths\n");
}

#[test]
fn fmt_check_passes_a_formatted_file_and_writes_nothing() {
    let dir = TempDir::new("fmt-check-ok");
    let file = dir.write("a.uml", &formatted(VALID));
    let run = uml(&["fmt", "--check", &file], "");
    assert_eq!(run.status, Status::Success, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "ok: 1 file already formatted\n");
}

#[test]
fn fmt_check_lists_an_unformatted_file_with_a_diff_and_leaves_it_alone() {
    let dir = TempDir::new("fmt-check-diff");
    let good = dir.write("a.uml", &formatted(VALID));
    let bad = dir.write("b.uml", UNFORMATTED);
    let run = uml(&["fmt", "--check", dir.path()], "");
    assert_eq!(run.status, Status::Failure);
    assert!(run.stdout.starts_with(&format!("--- {bad}\n+++ {bad} (formatted)\n@@ -1,2 +1,4 @@\n")), "{}", run.stdout);
    assert!(run.stdout.contains("\n-rule app{when %container==\"app\"\n"), "{}", run.stdout);
    assert!(run.stdout.contains("\n+rule app {\n"), "{}", run.stdout);
    assert!(!run.stdout.contains(&good), "{}", run.stdout);
    assert_eq!(run.stderr, "error: 1 of 2 files would be reformatted\n");
    assert_eq!(std::fs::read_to_string(&bad).expect("read"), UNFORMATTED);
}

#[test]
fn fmt_rewrites_unformatted_files_only() {
    let dir = TempDir::new("fmt-write");
    let good = dir.write("a.uml", &formatted(VALID));
    let bad = dir.write("b.uml", UNFORMATTED);
    let before = std::fs::metadata(&good).and_then(|m| m.modified()).expect("mtime");
    let run = uml(&["fmt", dir.path()], "");
    assert_eq!(run.status, Status::Success, "{}", run.stderr);
    assert_eq!(run.stderr, "ok: 2 files formatted, 1 changed\n");
    assert_eq!(std::fs::read_to_string(&bad).expect("read"), formatted(UNFORMATTED));
    assert_eq!(std::fs::metadata(&good).and_then(|m| m.modified()).expect("mtime"), before);
    // Formatting is idempotent: a second run changes nothing.
    let again = uml(&["fmt", "--check", dir.path()], "");
    assert_eq!(again.status, Status::Success, "{}", again.stdout);
}

#[test]
fn fmt_does_not_touch_a_file_with_syntax_errors() {
    let dir = TempDir::new("fmt-broken");
    let broken = dir.write("a.uml", "rule app{let = 1\n      emit}\n");
    let other = dir.write("b.uml", UNFORMATTED);
    let run = uml(&["fmt", dir.path()], "");
    assert_eq!(run.status, Status::Failure);
    assert!(run.stderr.starts_with("error[E0201]"), "{}", run.stderr);
    assert!(run.stderr.ends_with("error: 1 error in 1 file; those files were not formatted\n"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&broken).expect("read"), "rule app{let = 1\n      emit}\n");
    // The other files are still formatted.
    assert_eq!(std::fs::read_to_string(&other).expect("read"), formatted(UNFORMATTED));
}

#[test]
fn fmt_stdin_goes_to_stdout() {
    let run = uml(&["fmt", "-"], UNFORMATTED);
    assert_eq!(run.status, Status::Success, "{}", run.stderr);
    assert_eq!(run.stdout, formatted(UNFORMATTED));
    assert_eq!(run.stderr, "");

    let run = uml(&["fmt", "--check", "-"], UNFORMATTED);
    assert_eq!(run.status, Status::Failure);
    assert!(run.stdout.starts_with("--- <stdin>\n+++ <stdin> (formatted)\n"), "{}", run.stdout);

    // Nothing reaches standard output when the input does not parse, so an
    // editor piping its buffer through `uml fmt -` keeps the buffer.
    let run = uml(&["fmt", "-"], BROKEN);
    assert_eq!(run.status, Status::Failure);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("--> <stdin>:2:7"), "{}", run.stderr);
}

/// Standard output whose reader has gone away, as with `uml fmt - | head -0`.
struct ClosedPipe;

impl Write for ClosedPipe {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::ErrorKind::BrokenPipe.into())
    }

    fn flush(&mut self) -> io::Result<()> {
        Err(io::ErrorKind::BrokenPipe.into())
    }
}

#[test]
fn a_closed_stdout_ends_quietly_with_status_0() {
    let dir = TempDir::new("pipe");
    let bad = dir.write("a.uml", UNFORMATTED);
    for args in [&["uml", "fmt", "-"][..], &["uml", "fmt", "--check", &bad]] {
        let cli = Cli::try_from_args(args).expect("valid");
        let mut stderr = NoColor::new(Vec::new());
        let status = uml_cli::run(
            &cli,
            &mut Io { stdin: &mut UNFORMATTED.as_bytes(), stdout: &mut ClosedPipe, stderr: &mut stderr },
        );
        assert_eq!(status, Status::Success, "{args:?}");
        assert_eq!(stderr.into_inner(), b"", "{args:?}");
    }
}

#[test]
fn colour_is_written_only_to_a_colour_stream() {
    let cli = Cli::try_from_args(["uml", "check", "-"]).expect("valid");
    let mut stderr = Ansi::new(Vec::new());
    let status =
        uml_cli::run(&cli, &mut Io { stdin: &mut BROKEN.as_bytes(), stdout: &mut Vec::new(), stderr: &mut stderr });
    assert_eq!(status, Status::Failure);
    let text = String::from_utf8(stderr.into_inner()).expect("UTF-8");
    assert!(text.contains("\u{1b}[31m"), "{text:?}");
    assert!(!uml(&["check", "-"], BROKEN).stderr.contains('\u{1b}'));
}

#[test]
fn check_reports_semantic_errors_across_files() {
    let dir = TempDir::new("check-semantic");
    dir.write("a.uml", VALID);
    let rule = dir.write("b.uml", "rule web {\n  when %container == \"web\"\n  let j = parse_json(%line)\n}\n");
    let run = uml(&["check", dir.path()], "");
    assert_eq!(run.status, Status::Failure, "{}", run.stderr);
    assert!(run.stderr.contains("error[E0401]: this can fail, and nothing handles the failure"), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("--> {rule}:3:11")), "{}", run.stderr);
    // The same rule emits without `message` at its closing brace.
    assert!(run.stderr.contains("error[E0507]: required output `payload.message`"), "{}", run.stderr);
}

#[test]
fn test_runs_test_blocks_and_fails_with_a_diff() {
    let dir = TempDir::new("test-blocks");
    dir.write("a.uml", VALID);
    dir.write(
        "t.uml",
        "test \"passes\" {\n  input { pod: \"p\", namespace: \"n\", container: \"app\", line: \"hi\" }\n  \
         expect { payload: { message: \"hi\" } }\n}\n\
         test \"fails\" {\n  input { pod: \"p\", namespace: \"n\", container: \"app\", line: \"hi\" }\n  \
         expect { payload: { message: \"bye\" } }\n}\n",
    );
    let run = uml(&["test", dir.path()], "");
    assert_eq!(run.status, Status::Failure, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("test passes ("), "{}", run.stdout);
    assert!(run.stdout.contains(") ... ok\n"), "{}", run.stdout);
    // Only the field that differs, under the line of its `expect`.
    assert!(run.stdout.contains("  outcome #1 (the `expect` at "), "{}", run.stdout);
    assert!(
        run.stdout.contains("t.uml:7)\n    payload.message\n    - expected \"bye\"\n    + actual   \"hi\"\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.ends_with("\ntest result: 1 passed, 1 failed, 0 skipped\n"), "{}", run.stdout);
}

#[test]
fn explain_prints_the_checked_program_with_types() {
    let run = uml(&["explain", "--stage", "hir", "-"], VALID);
    assert_eq!(run.status, Status::Success, "{}", run.stderr);
    assert!(run.stdout.contains("  label job: \"app\"  (constant)\n"), "{}", run.stdout);
    assert!(run.stdout.contains("rule app\n  when (%container == \"app\")\n"), "{}", run.stdout);
    assert!(run.stdout.contains("  payload.message = %line  : string\n"), "{}", run.stdout);
    let ast = uml(&["explain", "--stage", "ast", "-"], VALID);
    assert!(ast.stdout.contains("Rule(") && ast.stdout.contains("name: \"app\""), "{}", ast.stdout);
    let broken = uml(&["explain", "-"], "rule app {\n  let = 1\n}\n");
    assert_eq!(broken.status, Status::Failure);
}

#[test]
fn explain_prints_the_plan_by_default() {
    let run = uml(&["explain", "-"], VALID);
    assert_eq!(run.status, Status::Success, "{}", run.stderr);
    assert!(run.stdout.contains("routing (once per file and stream):\n"), "{}", run.stdout);
    assert!(run.stdout.contains("route → app\n"), "{}", run.stdout);
    assert!(run.stdout.contains("payload.message = %line\n"), "{}", run.stdout);
    assert!(run.stdout.contains("\noptimizer: "), "{}", run.stdout);
    let raw = uml(&["explain", "--unoptimized", "-"], VALID);
    assert!(!raw.stdout.contains("\noptimizer: "), "{}", raw.stdout);
}

#[test]
fn explain_checks_a_lone_rule_file_against_the_default_schema() {
    let rule = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/model_container.uml")).unwrap();
    let run = uml(&["explain", "-"], &rule);
    assert_eq!(run.status, Status::Success, "{}", run.stderr);
    assert!(run.stdout.contains("rule model_container ("), "{}", run.stdout);
    assert!(run.stdout.contains("parse_json("), "{}", run.stdout);
}

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/var/log/containers");

/// The records of an NDJSON output, parsed.
fn records(ndjson: &str) -> Vec<serde_json::Value> {
    ndjson.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

#[test]
fn run_transforms_the_sample_node() {
    let run = uml(&["run", "--threads", "1", SAMPLES], "");
    assert_eq!(run.status, Status::Success, "{}", run.stderr);
    let records = records(&run.stdout);
    assert!(records.len() > 100, "{}", records.len());
    for r in &records {
        assert!(r["ts"].as_str().unwrap().bytes().all(|b| b.is_ascii_digit()), "{r}");
        let labels = r["labels"].as_object().unwrap();
        let keys: Vec<&str> = labels.keys().map(String::as_str).collect();
        assert_eq!(keys, ["model_version_id", "namespace", "unified_model_logs", "job"], "{r}");
        let payload: serde_json::Value = serde_json::from_str(r["line"].as_str().unwrap()).unwrap();
        assert!(payload["message"].is_string(), "{r}");
    }
    // A summary readable at a glance, every line accounted for.
    assert!(run.stderr.starts_with("ok: 274 lines read from 12 files in "), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("\n  {} records written", records.len())), "{}", run.stderr);
    assert!(run.stderr.lines().all(|l| l.len() < 120), "no line too long to read: {}", run.stderr);
    assert!(!run.stderr.contains("accounting error"), "{}", run.stderr);
}

/// The output README.md quotes for `uml run examples/var/log/containers`: the
/// NDJSON records, and the summary's lines from `ok: ` on, of its ```text
/// block. A `…` stands for the rest of its line; a line that is only `…`,
/// for lines left out.
fn readme_quoted_run() -> (Vec<String>, Vec<String>) {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let command = readme.find("run examples/var/log/containers").expect("README.md shows `uml run` on the samples");
    let after = &readme[command..];
    let start = after.find("```text\n").expect("README.md quotes the output in a ```text block") + "```text\n".len();
    let block = &after[start..start + after[start..].find("```").expect("the ```text block is closed")];
    let records = block.lines().filter(|l| l.starts_with('{')).map(str::to_string).collect();
    let summary: Vec<String> = block.lines().skip_while(|l| !l.starts_with("ok: ")).map(str::to_string).collect();
    assert!(!summary.is_empty(), "README.md quotes the summary");
    (records, summary)
}

#[test]
fn run_on_the_samples_prints_what_the_readme_quotes() {
    let (quoted_records, quoted_summary) = readme_quoted_run();
    let run = uml(&["run", SAMPLES], "");
    assert_eq!(run.status, Status::Success, "{}", run.stderr);
    // Each quoted line is the start of the line printed (up to its `…`);
    // a line of only `…` skips printed lines up to the next quoted one.
    let mut printed = run.stderr.lines().peekable();
    let mismatch = |quoted: &str, printed: &str| {
        format!(
            "README.md quotes the summary of `uml run examples/var/log/containers` with the line\n  {quoted}\n\
             where it prints\n  {printed}\n(the whole summary:\n{})\nUpdate README.md.",
            run.stderr
        )
    };
    let mut skipping = false;
    for quoted in &quoted_summary {
        if quoted.trim() == "…" {
            skipping = true;
            continue;
        }
        let want = quoted.split('…').next().unwrap_or(quoted);
        if skipping {
            while printed.peek().is_some_and(|p| !p.starts_with(want)) {
                printed.next();
            }
            skipping = false;
        }
        let got = printed.next().unwrap_or("");
        assert!(got.starts_with(want), "{}", mismatch(quoted, got));
    }
    for record in &quoted_records {
        assert!(
            run.stdout.lines().any(|l| l == record),
            "README.md quotes a record that `uml run examples/var/log/containers` does not print:\n  {record}"
        );
    }
}

#[test]
fn run_keeps_each_stream_in_order_on_any_number_of_threads() {
    let one = records(&uml(&["run", "--threads", "1", SAMPLES], "").stdout);
    let four = records(&uml(&["run", "--threads", "4", SAMPLES], "").stdout);
    // Files are spread over threads, so records of different files may
    // interleave; each file's records (told apart by stream, source and
    // replica) must stay in order.
    let by_file = |records: &[serde_json::Value]| {
        let mut files: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for r in records {
            let payload: serde_json::Value = serde_json::from_str(r["line"].as_str().unwrap()).unwrap();
            let key = format!("{} {} {}", r["labels"], payload["source"], payload["replica"]);
            files.entry(key).or_default().push(r.to_string());
        }
        files
    };
    let (one, four) = (by_file(&one), by_file(&four));
    assert_eq!(one.keys().collect::<Vec<_>>(), four.keys().collect::<Vec<_>>());
    for (key, records) in &one {
        assert!(records == &four[key], "the records of {key} differ between 1 and 4 threads");
    }
}

#[test]
fn run_writes_loki_push_bodies_and_stats() {
    let dir = TempDir::new("run-loki");
    let stats = format!("{}/stats.json", dir.path());
    let out = format!("{}/out.json", dir.path());
    let run = uml(&["run", "--format", "loki", "-o", &out, "--stats", &stats, SAMPLES], "");
    assert_eq!(run.status, Status::Success, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let mut values = 0;
    for body in std::fs::read_to_string(&out).unwrap().lines() {
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        for stream in body["streams"].as_array().unwrap() {
            assert_eq!(stream["stream"].as_object().unwrap().len(), 4);
            for v in stream["values"].as_array().unwrap() {
                let [ts, line] = v.as_array().unwrap().as_slice() else { panic!("{v}") };
                assert!(ts.as_str().unwrap().parse::<u64>().is_ok());
                serde_json::from_str::<serde_json::Value>(line.as_str().unwrap()).unwrap();
                values += 1;
            }
        }
    }
    let stats: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(stats["records"], values);
    assert_eq!(stats["lines_read"], 274);
    let dropped: u64 = stats["drops"].as_object().unwrap().values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(stats["dropped"], dropped);
    let law = stats["lines_in_records"].as_u64().unwrap() + stats["joined_pieces"].as_u64().unwrap() + dropped;
    assert_eq!(stats["lines_read"], law);
}

#[test]
fn run_reads_standard_input_with_metadata_from_flags() {
    let input = "2026-11-20T10:00:00Z stderr F {\"levelname\": \"WARNING\", \"message\": \"hi\"}\n";
    let args =
        ["run", "--pod", "model-x5qe2qo-7d9f8b6c5d-q7rg5", "--namespace", "org-50a9bc6b456e47aa88e0d81e622ea315"];
    let run = uml(&[&args[..], &["--container", "model", "-"]].concat(), input);
    assert_eq!(run.status, Status::Success, "{}", run.stderr);
    let records = records(&run.stdout);
    assert_eq!(records.len(), 1, "{}", run.stdout);
    assert_eq!(records[0]["ts"], "1795168800000000000");
    assert!(records[0]["line"].as_str().unwrap().contains("\"levelname\":\"WARNING\""));
    // Without metadata nothing routes, and that is not a failure.
    let unrouted = uml(&["run", "-"], input);
    assert_eq!(unrouted.status, Status::Success);
    assert!(unrouted.stderr.contains("\n  1 line dropped:\n    1  unrouted\n"), "{}", unrouted.stderr);
    assert!(unrouted.stderr.contains("warning: no record was written"), "{}", unrouted.stderr);
}

#[test]
fn run_fails_on_an_unreadable_path_or_bad_rules() {
    let missing = uml(&["run", "no/such/dir"], "");
    assert_eq!(missing.status, Status::Error);
    assert_eq!(missing.stderr, "uml: cannot read no/such/dir: No such file or directory\n");

    let dir = TempDir::new("run-bad-rules");
    dir.write("rules/schema.uml", "rule r { payload.x = nope }\n");
    let bad = uml(&["run", "--rules", &format!("{}/rules", dir.path()), SAMPLES], "");
    assert_eq!(bad.status, Status::Failure, "{}", bad.stderr);
    assert!(bad.stderr.contains("error["), "{}", bad.stderr);
    assert!(bad.stdout.is_empty());
}

#[test]
fn run_ends_quietly_when_the_reader_goes_away() {
    let cli = Cli::try_from_args(["uml", "run", SAMPLES]).unwrap();
    let mut stderr = NoColor::new(Vec::new());
    let status = uml_cli::run(&cli, &mut Io { stdin: &mut &b""[..], stdout: &mut ClosedPipe, stderr: &mut stderr });
    assert_eq!(status, Status::Success, "{}", String::from_utf8_lossy(stderr.get_ref()));
}

#[test]
fn test_and_check_take_the_rule_set_as_rules_dir() {
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    let run = uml(&["test", "--rules", rules], "");
    assert_eq!(run.status, Status::Success, "{}", run.stdout);
    assert!(run.stdout.contains(" 0 failed"), "{}", run.stdout);
    let check = uml(&["check", "--rules", rules], "");
    assert_eq!(check.status, Status::Success, "{}", check.stderr);
    assert!(check.stderr.contains("6 files checked"), "{}", check.stderr);
}

/// `docs/plan.md` shows real output: every line of its example (but the
/// elisions) is a line `uml explain` prints for the file it names.
#[test]
fn the_plan_reference_example_is_what_explain_prints() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/plan.md")).expect("docs/plan.md");
    let example = doc.split("```text\n").nth(1).and_then(|rest| rest.split("```").next()).expect("an example");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/plan/dead_stores.uml");
    let run = uml(&["explain", path], "");
    let printed = format!("{}{}", run.stdout, run.stderr);
    for line in example.lines().filter(|l| !l.trim().is_empty() && l.trim() != "…") {
        assert!(printed.lines().any(|p| p == line), "not printed by uml explain: {line:?}\n{printed}");
    }
}
