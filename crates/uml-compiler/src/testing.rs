//! Running a rule set's `test` blocks with the reference evaluator.
//!
//! Each stream of a test's input is routed once (routing reads per-file
//! metadata only); its lines pass through the rule's `multiline` grouping
//! (the runtime's [`Grouper`], as in the stream layer), and each group is
//! evaluated. The outcomes (records and drops) are compared, in order, with
//! the test's expectations.

use crate::eval::{Evaluator, LineInput, OwnedRecord, OwnedValue, Verdict, matches_expectation, test_value};
use crate::hir::{Expectation, Program, Test};
use uml_runtime::exec::{Executor, FileInfo, Line as ExecLine, Outcome, Record};
use uml_runtime::group::{Group, Grouper, Stream};
use uml_runtime::plan::Plan;
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
    /// The `expect` it was compared with, if there is one.
    pub expect_span: Option<Span>,
    /// When a record was expected and a record came: only the fields that
    /// differ, `(labels.x or payload.y, expected, actual)`, `-` for absent.
    pub fields: Vec<(String, String, String)>,
}

#[derive(Clone, Debug)]
pub struct TestRun {
    pub name: String,
    pub file: FileId,
    pub span: Span,
    pub outcome: TestOutcome,
}

/// Runs every test of the program. With a plan, each unit runs on the
/// executor (what `uml run` does), and the reference evaluator's outcome is
/// compared with it: a difference is a failure, since it is a bug in uml.
pub fn run(program: &Program, plan: Option<&Plan>) -> Vec<TestRun> {
    let mut evaluator = Evaluator::new(program);
    let mut engine = plan.map(|p| (Executor::new(p), Record::default()));
    program
        .tests
        .iter()
        .map(|test| TestRun {
            name: test.name.clone(),
            file: test.file,
            span: test.span,
            outcome: run_one(program, &mut evaluator, engine.as_mut(), test),
        })
        .collect()
}

fn run_one(
    program: &Program,
    evaluator: &mut Evaluator<'_>,
    mut engine: Option<&mut (Executor<'_>, Record)>,
    test: &Test,
) -> TestOutcome {
    let input = &test.input;
    let meta = |stream: &'static str| LineInput {
        pod: &input.pod,
        namespace: &input.namespace,
        container: &input.container,
        container_id: &input.container_id,
        file: input.file.as_deref().unwrap_or(""),
        stream,
        timestamp: input.timestamp,
        line: "",
        traceback: None,
    };
    let stream_of = |s: &str| if s == "stderr" { Stream::Stderr } else { Stream::Stdout };
    // Routing reads per-file metadata only: one decision per stream.
    let routes = [Stream::Stdout, Stream::Stderr].map(|s| evaluator.route(&meta(s.as_str())));
    let info = FileInfo {
        pod: &input.pod,
        namespace: &input.namespace,
        container: &input.container,
        container_id: &input.container_id,
        file: input.file.as_deref().unwrap_or(""),
    };
    let engine_routes = engine.as_mut().map(|(e, _)| [Stream::Stdout, Stream::Stderr].map(|s| e.route(&info, s)));

    // Lines pass through the rule's multiline grouping, as in the stream
    // layer; each group (or line) is then one evaluation.
    let mut units: Vec<(Stream, String, Option<String>)> = Vec::new();
    // One grouper per rule, shared by both streams as in the stream layer,
    // so that lines keep their order across stdout and stderr.
    let mut groupers: Vec<(usize, Grouper)> = Vec::new();
    for (stream_name, line) in &input.lines {
        let stream = stream_of(stream_name);
        let route = routes[stream as usize].as_ref();
        let grouping = route.and_then(|r| program.rules[r.rule].multiline.as_ref().map(|m| (r.rule, m)));
        match grouping {
            None => units.push((stream, line.clone(), None)),
            Some((rule, m)) => {
                let Some(config) = crate::lower::group_config(m) else {
                    return TestOutcome::Skipped("the rule's multiline patterns do not compile");
                };
                let at = match groupers.iter().position(|(r, _)| *r == rule) {
                    Some(at) => at,
                    None => {
                        groupers.push((rule, Grouper::new(&config)));
                        groupers.len() - 1
                    }
                };
                groupers[at].1.push(stream, input.timestamp, line, &mut |g: Group<'_>| {
                    units.push((g.stream, g.line.to_string(), g.traceback.map(str::to_string)))
                });
            }
        }
    }
    for (_, grouper) in &mut groupers {
        grouper.finish(&mut |g: Group<'_>| units.push((g.stream, g.line.to_string(), g.traceback.map(str::to_string))));
    }

    let mut outcomes = Vec::new();
    let mut mismatches = Vec::new();
    for (stream, line, traceback) in &units {
        let mut line_input = meta(stream.as_str());
        line_input.line = line;
        line_input.traceback = traceback.as_deref();
        let reference = match &routes[*stream as usize] {
            Some(route) => evaluator.eval_routed(route, &line_input),
            None => Verdict::Unrouted,
        };
        let outcome = match (engine.as_mut(), &engine_routes) {
            (Some((executor, record)), Some(routes)) => {
                let line = ExecLine { text: line, traceback: traceback.as_deref(), timestamp: input.timestamp };
                let o = executor.apply(&routes[*stream as usize], line, record);
                let o = engine_verdict(executor.plan(), o, record, executor.error());
                if o != reference {
                    mismatches.push(Mismatch {
                        index: outcomes.len(),
                        expected: format!(
                            "{} (the reference evaluator; this is a bug in uml)",
                            describe_verdict(&reference)
                        ),
                        actual: describe_verdict(&o),
                        expect_span: None,
                        fields: Vec::new(),
                    });
                }
                o
            }
            _ => reference,
        };
        outcomes.push(outcome);
    }
    for i in 0..outcomes.len().max(test.expect.len()) {
        let (o, e) = (outcomes.get(i), test.expect.get(i));
        let ok = matches!((o, e), (Some(o), Some(e)) if matches_expectation(o, e));
        if !ok {
            mismatches.push(Mismatch {
                index: i,
                expected: e.map_or_else(|| "nothing".to_string(), describe_expectation),
                actual: o.map_or_else(|| "nothing".to_string(), describe_verdict),
                expect_span: e.map(|e| match e {
                    Expectation::Record { span, .. } | Expectation::Drop { span, .. } => *span,
                }),
                fields: match (o, e) {
                    (Some(o), Some(e)) => field_diffs(o, e),
                    _ => Vec::new(),
                },
            });
        }
    }
    if mismatches.is_empty() { TestOutcome::Passed } else { TestOutcome::Failed(mismatches) }
}

/// The executor's outcome in the evaluator's terms, to compare them.
pub fn engine_verdict(plan: &Plan, outcome: Outcome, record: &Record, error: &str) -> Verdict {
    match outcome {
        Outcome::Record => {
            let labels =
                plan.labels.iter().enumerate().map(|(i, l)| (l.name.clone(), record.label(i).to_string())).collect();
            let payload = match std::str::from_utf8(record.payload()).map(crate::eval::value::parse_json) {
                Ok(Ok(OwnedValue::Object(members))) => members,
                other => vec![("<invalid payload>".to_string(), OwnedValue::Str(format!("{other:?}")))],
            };
            Verdict::Record(OwnedRecord {
                rule: usize::from(record.rule),
                timestamp: record.timestamp,
                labels,
                payload,
            })
        }
        Outcome::Drop(site) => {
            let d = &plan.drops[site as usize];
            Verdict::Drop { rule: usize::from(d.rule), reason: d.reason.clone() }
        }
        Outcome::Abort(site) => {
            let a = &plan.aborts[site as usize];
            Verdict::Abort {
                rule: usize::from(a.rule),
                span: Span { start: a.span.start, end: a.span.end },
                message: match a.func {
                    Some(f) => format!("{f}: {error}"),
                    None => format!("unhandled failure (a bug in uml): {error}"),
                },
            }
        }
        Outcome::Unrouted => Verdict::Unrouted,
        Outcome::TooLarge => Verdict::TooLarge,
    }
}

/// An outcome as one line of text: the labels and the payload JSON, or the drop.
pub fn describe_verdict(o: &Verdict) -> String {
    match o {
        Verdict::Record(r) => {
            let labels: Vec<String> = r.labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            format!("record {{{}}} {}", labels.join(", "), r.payload_json())
        }
        Verdict::Drop { reason, .. } => format!("drop {reason:?}"),
        Verdict::Abort { message, .. } => format!("abort ({message})"),
        Verdict::Unrouted => format!("drop {:?} (no rule takes the line)", crate::eval::UNROUTED),
        Verdict::TooLarge => format!("drop {:?}", crate::eval::TOO_LARGE),
    }
}

/// The fields in which a record differs from the record expected: the
/// labels the test names, and every payload field (the payload is compared
/// whole). Empty unless both are records.
fn field_diffs(o: &Verdict, e: &Expectation) -> Vec<(String, String, String)> {
    let (Verdict::Record(r), Expectation::Record { labels, payload, .. }) = (o, e) else { return Vec::new() };
    let absent = || "-".to_string();
    let mut diffs = Vec::new();
    for (k, want) in labels {
        let got = r.labels.iter().find(|(k2, _)| k2 == k).map(|(_, v)| v);
        if got != Some(want) {
            diffs.push((format!("labels.{k}"), format!("{want:?}"), got.map_or_else(absent, |g| format!("{g:?}"))));
        }
    }
    for (k, want) in payload {
        let want = test_value(want);
        let got = r.payload.iter().find(|(k2, _)| k2 == k).map(|(_, v)| v);
        if !got.is_some_and(|g| crate::eval::equal(&want, g)) {
            diffs.push((format!("payload.{k}"), want.to_json(), got.map_or_else(absent, |g| g.to_json())));
        }
    }
    for (k, got) in &r.payload {
        if !payload.iter().any(|(k2, _)| k2 == k) {
            diffs.push((format!("payload.{k}"), absent(), got.to_json()));
        }
    }
    diffs
}

fn describe_expectation(e: &Expectation) -> String {
    match e {
        Expectation::Drop { reason, .. } => format!("drop {reason:?}"),
        Expectation::Record { labels, payload, .. } => {
            let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            let payload = OwnedValue::Object(payload.iter().map(|(k, v)| (k.clone(), test_value(v))).collect());
            format!("record {{{}, …}} {}", labels.join(", "), payload.to_json())
        }
    }
}
