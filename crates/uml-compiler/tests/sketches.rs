//! The five source sketches of docs/sketches/ checked against
//! rules/schema.uml, and their `test` blocks run with the runtime's multiline
//! grouping and the reference evaluator.

use std::path::{Path, PathBuf};
use uml_compiler::check::{Source, check};
use uml_compiler::testing::{TestOutcome, run};
use uml_syntax::FileId;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn sketch_tests_pass() {
    let mut paths = vec![root().join("rules/schema.uml")];
    let mut sketches: Vec<PathBuf> =
        std::fs::read_dir(root().join("docs/sketches")).unwrap().map(|e| e.unwrap().path()).collect();
    sketches.sort();
    paths.extend(sketches);
    let texts: Vec<String> = paths.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    let parsed: Vec<_> = texts.iter().enumerate().map(|(i, t)| uml_syntax::parse(FileId(i as u32), t)).collect();
    for (p, path) in parsed.iter().zip(&paths) {
        assert!(!p.has_errors(), "{}: {:?}", path.display(), p.diagnostics);
    }
    let sources: Vec<Source<'_, '_>> =
        parsed.iter().enumerate().map(|(i, p)| Source { file: FileId(i as u32), ast: &p.file }).collect();
    let checked = check(&sources);
    let program = checked.program.unwrap_or_else(|| panic!("the sketches check clean: {:#?}", checked.diagnostics));

    let runs = run(&program);
    assert!(runs.len() >= 15, "the sketches have tests: {}", runs.len());
    let mut failures = String::new();
    let mut passed = 0;
    for r in &runs {
        match &r.outcome {
            TestOutcome::Passed => passed += 1,
            TestOutcome::Skipped(_) => {}
            TestOutcome::Failed(ms) => {
                failures.push_str(&format!("\n{} ({}):\n", r.name, paths[r.file.0 as usize].display()));
                for m in ms {
                    failures
                        .push_str(&format!("  #{}\n    expected {}\n    actual   {}\n", m.index, m.expected, m.actual));
                }
            }
        }
    }
    assert!(failures.is_empty(), "failing sketch tests:{failures}");
    // Every test runs, multi-line ones through the runtime's grouping.
    assert_eq!(passed, runs.len(), "{passed} of {} sketch tests passed", runs.len());
}

#[test]
fn a_wrong_expectation_fails() {
    // The runner must be able to fail: a rule set whose test expects the wrong level.
    let src = r#"
schema {
  labels { job: "x" }
  payload { levelname: "INFO" | "ERROR"  message: string }
}
rule app {
  when %container == "app"
  payload.levelname = if %line =~ r'(?i)error' { "ERROR" } else { "INFO" }
  payload.message = %line
}
test "an error line" {
  input { pod: "p", namespace: "n", container: "app", line: "ERROR: boom" }
  expect { payload: { levelname: "INFO", message: "ERROR: boom" } }
}
test "a dropped sidecar" {
  input { pod: "p", namespace: "n", container: "sidecar", line: "x" }
  expect drop "unrouted"
}
"#;
    let parsed = uml_syntax::parse(FileId(0), src);
    assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
    let checked = check(&[Source { file: FileId(0), ast: &parsed.file }]);
    let program = checked.program.unwrap_or_else(|| panic!("{:#?}", checked.diagnostics));
    let runs = run(&program);
    assert!(matches!(&runs[0].outcome, TestOutcome::Failed(m) if m[0].actual.contains(r#""levelname":"ERROR""#)));
    assert_eq!(runs[1].outcome, TestOutcome::Passed);
}
