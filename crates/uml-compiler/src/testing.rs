//! Running a rule set's `test` blocks with the reference evaluator.
//!
//! Each input line is routed and evaluated; the outcomes (records and
//! drops) are compared, in order, with the test's expectations. A test whose
//! lines must first be grouped into one record (several lines under a rule
//! with `multiline`) needs the stream layer's grouping and is reported as
//! skipped until that layer exists, never as passed.

use crate::eval::{Evaluator, LineInput, Outcome, matches_expectation, test_value};
use crate::hir::{Expectation, Program, Test};
use uml_syntax::{FileId, Span};

/// The result of one test.
#[derive(Clone, Debug, PartialEq)]
pub enum TestOutcome {
    Passed,
    /// What was expected and what happened, position by position.
    Failed(Vec<Mismatch>),
    Skipped(&'static str),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// Which outcome (0-based) differs.
    pub index: usize,
    pub expected: String,
    pub actual: String,
}

#[derive(Clone, Debug)]
pub struct TestRun {
    pub name: String,
    pub file: FileId,
    pub span: Span,
    pub outcome: TestOutcome,
}

/// Runs every test of the program.
pub fn run(program: &Program) -> Vec<TestRun> {
    let mut evaluator = Evaluator::new(program);
    program
        .tests
        .iter()
        .map(|test| TestRun {
            name: test.name.clone(),
            file: test.file,
            span: test.span,
            outcome: run_one(program, &mut evaluator, test),
        })
        .collect()
}

fn run_one(program: &Program, evaluator: &mut Evaluator<'_>, test: &Test) -> TestOutcome {
    let input = &test.input;
    let mut outcomes = Vec::new();
    for (stream, line) in &input.lines {
        let line_input = LineInput {
            pod: &input.pod,
            namespace: &input.namespace,
            container: &input.container,
            container_id: &input.container_id,
            file: input.file.as_deref().unwrap_or(""),
            stream,
            timestamp: input.timestamp,
            line,
            traceback: None,
        };
        let outcome = evaluator.eval(&line_input);
        let grouped = match &outcome {
            Outcome::Record(r) => program.rules[r.rule].multiline.is_some(),
            Outcome::Drop { rule, .. } | Outcome::Abort { rule, .. } => program.rules[*rule].multiline.is_some(),
            Outcome::Unrouted => false,
        };
        if grouped && input.lines.len() > 1 {
            return TestOutcome::Skipped("its lines are grouped by `multiline`, which the stream layer implements");
        }
        outcomes.push(outcome);
    }
    let mut mismatches = Vec::new();
    for i in 0..outcomes.len().max(test.expect.len()) {
        let (o, e) = (outcomes.get(i), test.expect.get(i));
        let ok = matches!((o, e), (Some(o), Some(e)) if matches_expectation(o, e));
        if !ok {
            mismatches.push(Mismatch {
                index: i,
                expected: e.map_or_else(|| "nothing".to_string(), describe_expectation),
                actual: o.map_or_else(|| "nothing".to_string(), describe_outcome),
            });
        }
    }
    if mismatches.is_empty() { TestOutcome::Passed } else { TestOutcome::Failed(mismatches) }
}

/// An outcome as one line of text: the labels and the payload JSON, or the drop.
pub fn describe_outcome(o: &Outcome) -> String {
    match o {
        Outcome::Record(r) => {
            let labels: Vec<String> = r.labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            format!("record {{{}}} {}", labels.join(", "), r.payload_json())
        }
        Outcome::Drop { reason, .. } => format!("drop {reason:?}"),
        Outcome::Abort { message, .. } => format!("abort ({message})"),
        Outcome::Unrouted => format!("drop {:?} (no rule takes the line)", crate::eval::UNROUTED),
    }
}

fn describe_expectation(e: &Expectation) -> String {
    match e {
        Expectation::Drop { reason, .. } => format!("drop {reason:?}"),
        Expectation::Record { labels, payload, .. } => {
            let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            let payload = crate::eval::Value::Object(payload.iter().map(|(k, v)| (k.clone(), test_value(v))).collect());
            format!("record {{{}, …}} {}", labels.join(", "), payload.to_json())
        }
    }
}
