//! Runs one rule set three ways and compares the outcomes line by line:
//!
//! 1. the reference evaluator (`eval::Evaluator`), straight from the HIR;
//! 2. the plan lowered without optimization, on the executor;
//! 3. the optimized plan (folding, pushdown, dead stores), on the executor.
//!
//! Routing is done once per file and stream, as the stream layer does, and
//! each engine keeps its state (the executor's scratch, the evaluator's
//! regex cache) from line to line, so state leaking between lines shows up
//! too.

#![allow(dead_code)]

use super::generate::{FileMeta, Input, SCHEMA};
use std::fmt::Write as _;
use uml_compiler::compile::{Compiled, Unit, compile};
use uml_compiler::eval::{Evaluator, LineInput, Verdict};
use uml_compiler::lower::Options;
use uml_compiler::testing::{describe_verdict, engine_verdict};
use uml_runtime::exec::{Executor, FileInfo, Line, Outcome, PayloadForm, Record};
use uml_runtime::framing::Stream;
use uml_runtime::stdlib::json_string::write_json_string_body;

/// The generated rule file with the fixed schema.
pub fn units(rules: &str) -> Vec<Unit> {
    vec![Unit { name: "schema.uml".into(), text: SCHEMA.into() }, Unit { name: "rules.uml".into(), text: rules.into() }]
}

/// One rule set compiled both ways.
pub struct Engines {
    pub units: Vec<Unit>,
    pub optimized: Compiled,
    pub plain: Compiled,
}

/// Compiles with and without optimization; the errors, rendered, if it does not check.
pub fn build(units: &[Unit]) -> Result<Engines, String> {
    let optimized = compile(units, Options { optimize: true }).map_err(|d| render(units, &d))?;
    let plain = compile(units, Options { optimize: false }).map_err(|d| render(units, &d))?;
    Ok(Engines { units: units.to_vec(), optimized, plain })
}

/// The errors of a failed compilation, one per line, with the code and the
/// text the primary label points at.
pub fn render(units: &[Unit], diags: &[uml_syntax::Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags.iter().filter(|d| d.is_error()) {
        let at = d.labels.iter().find(|l| l.primary).map(|l| {
            let text = &units[l.file.0 as usize].text;
            let s = text.get(l.span.start as usize..l.span.end as usize).unwrap_or("?");
            format!("{} `{}`", uml_compiler::compile::location(units, l.file, l.span), s)
        });
        let _ = writeln!(out, "{} {} at {}", d.code, d.message, at.unwrap_or_default());
    }
    out
}

/// How many lines ended how (on the reference evaluator).
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    pub records: usize,
    pub drops: usize,
    pub aborts: usize,
    pub unrouted: usize,
    /// Jumps the optimizer threaded in the programs run.
    pub threaded: usize,
}

impl Tally {
    pub fn add(&mut self, o: &Tally) {
        self.records += o.records;
        self.drops += o.drops;
        self.aborts += o.aborts;
        self.unrouted += o.unrouted;
        self.threaded += o.threaded;
    }

    pub fn total(&self) -> usize {
        self.records + self.drops + self.aborts + self.unrouted
    }
}

fn stream(f: &FileMeta) -> Stream {
    if f.stderr { Stream::Stderr } else { Stream::Stdout }
}

fn info(f: &FileMeta) -> FileInfo<'_> {
    FileInfo {
        pod: &f.pod,
        namespace: &f.namespace,
        container: &f.container,
        container_id: &f.container_id,
        file: &f.file,
    }
}

fn line_input<'a>(f: &'a FileMeta, input: &'a Input) -> LineInput<'a> {
    LineInput {
        pod: &f.pod,
        namespace: &f.namespace,
        container: &f.container,
        container_id: &f.container_id,
        file: &f.file,
        stream: stream(f).as_str(),
        timestamp: input.timestamp,
        line: &input.line,
        traceback: input.traceback.as_deref(),
    }
}

/// The three outcomes of one line: reference, unoptimized plan, optimized plan.
pub type Three = [Verdict; 3];

/// Runs every input through the three engines; the first disagreement, as a
/// report naming the rules, the file, the line and the three outcomes.
pub fn run(engines: &Engines, files: &[FileMeta], inputs: &[Input]) -> Result<Tally, String> {
    let program = &engines.optimized.program;
    let mut evaluator = Evaluator::new(program);
    let mut plain = Executor::new(&engines.plain.plan);
    let mut optimized = Executor::new(&engines.optimized.plan);
    let mut plain_record = Record::default();
    let mut optimized_record = Record::default();
    let mut escaped_record = Record::with_form(PayloadForm::Escaped);
    let mut escaped_json = Vec::new();
    let empty = Input { file: 0, line: String::new(), traceback: None, timestamp: 0 };
    let routes: Vec<_> = files
        .iter()
        .map(|f| {
            let meta = line_input(f, &empty);
            (evaluator.route(&meta), plain.route(&info(f), stream(f)), optimized.route(&info(f), stream(f)))
        })
        .collect();
    let mut tally = Tally::default();
    for input in inputs {
        let f = &files[input.file];
        let (reference_route, plain_route, optimized_route) = &routes[input.file];
        let li = line_input(f, input);
        let reference = match reference_route {
            Some(r) => evaluator.eval_routed(r, &li),
            None => Verdict::Unrouted,
        };
        let line = Line { text: &input.line, traceback: input.traceback.as_deref(), timestamp: input.timestamp };
        let o = plain.apply(plain_route, line, &mut plain_record);
        let from_plain = engine_verdict(plain.plan(), o, &plain_record, plain.error());
        let o = optimized.apply(optimized_route, line, &mut optimized_record);
        let from_optimized = engine_verdict(optimized.plan(), o, &optimized_record, optimized.error());
        match &reference {
            Verdict::Record(_) => tally.records += 1,
            Verdict::Drop { .. } | Verdict::TooLarge => tally.drops += 1,
            Verdict::Abort { .. } => tally.aborts += 1,
            Verdict::Unrouted => tally.unrouted += 1,
        }
        if reference != from_plain || reference != from_optimized {
            return Err(report(&engines.units, f, input, &[reference, from_plain, from_optimized]));
        }
        // Both plans run on the same executor: their records must be the
        // same bytes, not only the same values.
        if matches!(from_plain, Verdict::Record(_))
            && (plain_record.payload() != optimized_record.payload()
                || plain_record.labels_json() != optimized_record.labels_json())
        {
            let mut r = report(&engines.units, f, input, &[reference, from_plain, from_optimized]);
            let _ = writeln!(
                r,
                "---- the plans' records differ in bytes ----\nunoptimized: {} {}\noptimized:   {} {}",
                String::from_utf8_lossy(plain_record.labels_json()),
                String::from_utf8_lossy(plain_record.payload()),
                String::from_utf8_lossy(optimized_record.labels_json()),
                String::from_utf8_lossy(optimized_record.payload()),
            );
            return Err(r);
        }
        // A record written escaped in one pass is the JSON record escaped.
        if matches!(from_optimized, Verdict::Record(_)) {
            let o = optimized.apply(optimized_route, line, &mut escaped_record);
            escaped_json.clear();
            write_json_string_body(&mut escaped_json, optimized_record.payload());
            if !matches!(o, Outcome::Record)
                || escaped_record.payload() != escaped_json
                || escaped_record.truncated() != optimized_record.truncated()
                || escaped_record.labels_json() != optimized_record.labels_json()
            {
                let mut r = report(&engines.units, f, input, &[reference, from_plain, from_optimized]);
                let _ = writeln!(
                    r,
                    "---- the escaped record is not the record escaped ----\nJSON, escaped: {} (cut: {})\nescaped:       {} (cut: {})",
                    String::from_utf8_lossy(&escaped_json),
                    optimized_record.truncated(),
                    String::from_utf8_lossy(escaped_record.payload()),
                    escaped_record.truncated(),
                );
                return Err(r);
            }
        }
    }
    Ok(tally)
}

/// What a failure message shows: the rules, the input and the three outcomes.
pub fn report(units: &[Unit], f: &FileMeta, input: &Input, outcomes: &Three) -> String {
    let mut out = String::from("the reference evaluator and the plans disagree\n");
    for u in units.iter().filter(|u| u.name != "schema.uml") {
        let _ = writeln!(out, "---- {} ----\n{}", u.name, u.text);
    }
    let _ = writeln!(
        out,
        "---- input ----\nfile: pod={:?} namespace={:?} container={:?} container_id={:?} file={:?} stream={}",
        f.pod,
        f.namespace,
        f.container,
        f.container_id,
        f.file,
        stream(f).as_str()
    );
    let _ = writeln!(out, "line: {:?}", input.line);
    let _ = writeln!(out, "traceback: {:?}\ntimestamp: {}", input.traceback, input.timestamp);
    let _ = writeln!(out, "---- outcomes ----");
    let names = ["reference evaluator", "unoptimized plan   ", "optimized plan     "];
    for (name, o) in names.iter().zip(outcomes) {
        let mark = if *o == outcomes[0] { " " } else { "*" };
        let _ = writeln!(out, "{mark}{name}: {}", describe_verdict(o));
    }
    let _ = writeln!(out, "---- in full ----");
    for (name, o) in names.iter().zip(outcomes) {
        let _ = writeln!(out, "{name}: {o:?}");
    }
    out
}

/// Whether the rules disagree on the inputs; `None` if they do not check.
fn disagrees(rules: &str, files: &[FileMeta], inputs: &[Input]) -> Option<String> {
    let engines = build(&units(rules)).ok()?;
    run(&engines, files, inputs).err()
}

/// Shrinks a disagreement found by the property: first to the one line
/// (with the lines before it, if the executor's state matters), then the
/// rule source, deleting statements and blocks (a line, or a line ending in
/// `{` through its closing brace) while the rules still check and still
/// disagree. Returns the report of the smallest case.
pub fn minimize(rules: &str, files: &[FileMeta], inputs: &[Input]) -> Option<String> {
    let mut report = disagrees(rules, files, inputs)?;
    // The first input that disagrees.
    let mut inputs = inputs.to_vec();
    let first = (1..=inputs.len()).find(|&n| disagrees(rules, files, &inputs[..n]).is_some())?;
    inputs.truncate(first);
    let last = inputs[first - 1].clone();
    if disagrees(rules, files, std::slice::from_ref(&last)).is_some() {
        inputs = vec![last];
    }
    let mut lines: Vec<String> = rules.lines().map(str::to_string).collect();
    loop {
        let mut changed = false;
        let mut i = 0;
        while i < lines.len() {
            let end = block_end(&lines, i);
            let mut candidate = lines.clone();
            candidate.drain(i..=end);
            let text = candidate.join("\n") + "\n";
            match disagrees(&text, files, &inputs) {
                Some(r) if !candidate.is_empty() => {
                    lines = candidate;
                    report = r;
                    changed = true;
                }
                _ => i += 1,
            }
        }
        if !changed {
            return Some(report);
        }
    }
}

/// The last line of the statement or block that starts at `i`: the line
/// itself; for a line ending in `{`, the `}` that closes the whole
/// statement; for an `} else … {` line, the end of that branch's body.
fn block_end(lines: &[String], i: usize) -> usize {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let line = lines[i].trim();
    if !line.ends_with('{') {
        return i;
    }
    let at = indent(&lines[i]);
    let branch = line.starts_with('}');
    for (j, l) in lines.iter().enumerate().skip(i + 1) {
        if indent(l) != at || !l.trim_start().starts_with('}') {
            continue;
        }
        if branch {
            return j - 1;
        }
        if l.trim() == "}" {
            return j;
        }
    }
    i
}
