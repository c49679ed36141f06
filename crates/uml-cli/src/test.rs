//! `uml test`: checks the rule set, then runs its `test` blocks and prints
//! a diff for each failing one, like `cargo test` and `vector test`.

use crate::args::TestArgs;
use crate::error::Error;
use crate::report::{self, Tally, Verdict};
use crate::sources::RuleSet;
use crate::{Io, Status};
use uml_compiler::testing::{self, TestOutcome};

pub fn run(args: &TestArgs, io: &mut Io<'_>) -> Result<Status, Error> {
    let rule_set = RuleSet::resolve(&args.rule_set.rule_paths(), io.stdin)?;
    let sources = &rule_set.sources;
    let front = uml_compiler::compile::front_end(sources.iter().map(|(id, s)| (id, s.text())));
    let (diagnostics, program) = (front.diagnostics, front.program);
    let Some(program) = program else {
        let tally = Tally::of(&diagnostics);
        let _ = report::diagnostics(io.stderr, sources, &diagnostics)
            .and_then(|()| report::summary(io.stderr, Verdict::Error, &tally.describe_errors()));
        return Ok(Status::Failure);
    };

    // Tests run on the executor, as `uml run` does, checked against the
    // reference evaluator.
    let locate = |file: uml_syntax::FileId, span: uml_syntax::Span| match sources.get(file) {
        Some(s) => uml_compiler::compile::location_in(s.name(), s.text(), span),
        None => format!("?:{}", span.start),
    };
    let (plan, _) = uml_compiler::lower::lower(&program, uml_compiler::lower::Options::default(), &locate);
    let runs = testing::run(&program, Some(&plan));
    let location = |file: uml_syntax::FileId, span: uml_syntax::Span| {
        let source = sources.get(file).expect("tests come from the loaded files");
        let line = source.text()[..span.start as usize].matches('\n').count() + 1;
        format!("{}:{line}", source.name())
    };
    writeln!(io.stdout, "running the tests of {}", rule_set.describe()).map_err(Error::Stdout)?;
    let (mut passed, mut failed, mut skipped, mut filtered) = (0, 0, 0, 0);
    let mut failures = String::new();
    for r in &runs {
        if args.filter.as_ref().is_some_and(|f| !r.name.contains(f.as_str())) {
            filtered += 1;
            continue;
        }
        let status = match &r.outcome {
            TestOutcome::Passed => {
                passed += 1;
                "ok".to_string()
            }
            TestOutcome::Skipped(why) => {
                skipped += 1;
                format!("skipped: {why}")
            }
            TestOutcome::Failed(mismatches) => {
                failed += 1;
                failures.push_str(&format!("\n---- {} ({}) ----\n", r.name, location(r.file, r.span)));
                for m in mismatches {
                    let at = m.expect_span.map(|span| format!(" (the `expect` at {})", location(r.file, span)));
                    failures.push_str(&format!("  outcome #{}{}\n", m.index + 1, at.unwrap_or_default()));
                    if m.fields.is_empty() {
                        failures.push_str(&format!("  - expected {}\n  + actual   {}\n", m.expected, m.actual));
                    } else {
                        // Only what differs; `-` is a field that is not there.
                        for (field, expected, actual) in &m.fields {
                            failures.push_str(&format!(
                                "    {field}\n    - expected {expected}\n    + actual   {actual}\n"
                            ));
                        }
                    }
                }
                "FAILED".to_string()
            }
        };
        writeln!(io.stdout, "test {} ({}) ... {status}", r.name, location(r.file, r.span)).map_err(Error::Stdout)?;
    }
    if !failures.is_empty() {
        write!(io.stdout, "\nfailures:\n{failures}").map_err(Error::Stdout)?;
    }
    let filtered = if filtered > 0 { format!(", {filtered} filtered out") } else { String::new() };
    writeln!(io.stdout, "\ntest result: {passed} passed, {failed} failed, {skipped} skipped{filtered}")
        .map_err(Error::Stdout)?;
    Ok(if failed > 0 { Status::Failure } else { Status::Success })
}
