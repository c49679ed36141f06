//! The rule set of rules/ (the schema and one rule file per source) checked
//! as a whole, and its `test` blocks run with the runtime's multiline
//! grouping and the reference evaluator.

use std::path::{Path, PathBuf};
use uml_compiler::check::{Source, check};
use uml_compiler::testing::{TestOutcome, run};
use uml_syntax::FileId;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn rule_set_tests_pass() {
    // Every .uml file of rules/, in path order, as `uml test rules/` reads them.
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "uml"))
        .collect();
    paths.sort();
    assert!(paths.contains(&root().join("rules/schema.uml")), "the rule set has its schema: {paths:?}");
    let texts: Vec<String> = paths.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    let parsed: Vec<_> = texts.iter().enumerate().map(|(i, t)| uml_syntax::parse(FileId(i as u32), t)).collect();
    for (p, path) in parsed.iter().zip(&paths) {
        assert!(!p.has_errors(), "{}: {:?}", path.display(), p.diagnostics);
    }
    let sources: Vec<Source<'_, '_>> =
        parsed.iter().enumerate().map(|(i, p)| Source { file: FileId(i as u32), ast: &p.file }).collect();
    let checked = check(&sources);
    let program = checked.program.unwrap_or_else(|| panic!("the rule set checks clean: {:#?}", checked.diagnostics));

    // On the executor, each outcome checked against the reference evaluator.
    let locate = |_, span: uml_syntax::Span| format!("{}", span.start);
    let (plan, _) = uml_compiler::lower::lower(&program, Default::default(), &locate);
    let runs = run(&program, Some(&plan));
    assert!(runs.len() >= 15, "the rule set has tests: {}", runs.len());
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
    assert!(failures.is_empty(), "failing rule set tests:{failures}");
    // Every test runs, multi-line ones through the runtime's grouping.
    assert_eq!(passed, runs.len(), "{passed} of {} rule set tests passed", runs.len());
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
    let runs = run(&program, None);
    assert!(matches!(&runs[0].outcome, TestOutcome::Failed(m) if m[0].actual.contains(r#""levelname":"ERROR""#)));
    assert_eq!(runs[1].outcome, TestOutcome::Passed);
}
