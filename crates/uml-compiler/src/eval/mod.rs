//! The reference evaluator: runs a checked [`Program`] straight from the HIR.
//!
//! It is the language's executable specification, written for obviousness:
//! owned values, a tree walk, a fresh allocation wherever one is convenient.
//! The optimized executor must produce exactly what this produces, and the
//! differential property tests hold it to that; `uml test` may also use it.
//! What it specifies on its own is the language: routing, statements,
//! paths, comparisons, templates, fallibility, JSON values. A call to the
//! standard library runs the function's one definition
//! ([`Func::native`]) on the evaluator's values, containers passed as JSON
//! text; so the differential tests hold the executor's own fast paths
//! for functions to that definition.
//!
//! Recursion follows the HIR, whose depth the parser bounds.

pub mod value;

use crate::hir::{self, Expr};
use crate::hir::{Expectation, ExprKind, Meta, Output, Part, Program, Rule, Segment, Stmt, VarId};
use crate::stdlib::Func;
use std::collections::HashMap;
use uml_runtime::exec::{CUT_MARKER, cut_point};
use uml_runtime::stdlib::number;
use uml_syntax::Span;
use uml_syntax::ast::CompareOp;
pub use value::OwnedValue;

/// One line to evaluate, with its metadata.
#[derive(Clone, Copy, Debug, Default)]
pub struct LineInput<'a> {
    pub pod: &'a str,
    pub namespace: &'a str,
    pub container: &'a str,
    pub container_id: &'a str,
    pub file: &'a str,
    pub stream: &'a str,
    pub timestamp: i64,
    pub line: &'a str,
    pub traceback: Option<&'a str>,
}

/// The drop reason of a line no rule takes.
pub const UNROUTED: &str = "unrouted";

/// What became of a line.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Record(OwnedRecord),
    /// `drop "reason"` in rule `rule`.
    Drop {
        rule: usize,
        reason: String,
    },
    /// An aborting call `f!(…)` failed.
    Abort {
        rule: usize,
        span: Span,
        message: String,
    },
    /// No rule's `when` took the line.
    Unrouted,
    /// The executor's values outgrew its working memory (the evaluator has
    /// no such limit, and never answers this).
    TooLarge,
}

/// The drop reason of a line whose values outgrew the executor's memory.
pub const TOO_LARGE: &str = "value too large";

/// A unified record: labels in schema order, payload fields in schema order
/// and then extras in the order the rule set names them.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnedRecord {
    pub rule: usize,
    pub timestamp: i64,
    pub labels: Vec<(String, String)>,
    pub payload: Vec<(String, OwnedValue)>,
}

impl OwnedRecord {
    /// The payload as compact JSON: the Loki line.
    pub fn payload_json(&self) -> String {
        OwnedValue::Object(self.payload.clone()).to_json()
    }
}

impl OwnedValue {
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }
}

/// Why an expression did not produce a value.
#[derive(Debug)]
enum Fail {
    /// A failure `??` or an error binding may handle.
    Error(String),
    /// An aborting call failed: the line is dropped.
    Abort(String, Span),
}

type Eval<T> = Result<T, Fail>;

fn error<T>(message: impl Into<String>) -> Eval<T> {
    Err(Fail::Error(message.into()))
}

/// How a block ended.
enum Flow {
    Next,
    Emit,
    Drop(String),
}

/// A routing decision: the rule and the variables its `when` bound.
#[derive(Clone, Debug)]
pub struct Routing {
    pub rule: usize,
    captured: Vec<OwnedValue>,
}

/// Runs a program on lines. Holds compiled regexes between lines.
pub struct Evaluator<'p> {
    program: &'p Program,
    regexes: HashMap<String, regex::Regex>,
}

/// The state of one rule on one line.
struct Frame<'a> {
    vars: Vec<OwnedValue>,
    outputs: HashMap<Output, OwnedValue>,
    input: LineInput<'a>,
}

impl<'p> Evaluator<'p> {
    pub fn new(program: &'p Program) -> Self {
        Evaluator { program, regexes: HashMap::new() }
    }

    /// Evaluates one line: routing, the rule body, the record.
    pub fn eval(&mut self, input: &LineInput<'_>) -> Verdict {
        match self.route(input) {
            Some(route) => self.eval_routed(&route, input),
            None => Verdict::Unrouted,
        }
    }

    /// The rule that takes lines with `input`'s metadata, and the values its
    /// `when` captured. Reads only per-file metadata.
    pub fn route(&mut self, input: &LineInput<'_>) -> Option<Routing> {
        let program = self.program;
        for (index, rule) in program.rules.iter().enumerate() {
            let mut frame =
                Frame { vars: vec![OwnedValue::Null; rule.vars.len()], outputs: HashMap::new(), input: *input };
            let taken = match &rule.when {
                None => true,
                Some(when) => matches!(self.expr(&mut frame, when), Ok(OwnedValue::Bool(true))),
            };
            if taken {
                return Some(Routing { rule: index, captured: frame.vars });
            }
        }
        None
    }

    /// Runs a routed rule's body on one line (or group).
    pub fn eval_routed(&mut self, route: &Routing, input: &LineInput<'_>) -> Verdict {
        let rule = &self.program.rules[route.rule];
        let mut frame = Frame { vars: route.captured.clone(), outputs: HashMap::new(), input: *input };
        self.run(route.rule, rule, &mut frame)
    }

    fn run(&mut self, index: usize, rule: &Rule, frame: &mut Frame<'_>) -> Verdict {
        match self.block(frame, &rule.body) {
            Ok(Flow::Drop(reason)) => Verdict::Drop { rule: index, reason },
            Ok(Flow::Next | Flow::Emit) => Verdict::Record(self.record(index, frame)),
            Err(Fail::Abort(message, span)) => Verdict::Abort { rule: index, span, message },
            // The checker proves every failure is handled; reaching this is a
            // checker bug, reported rather than hidden.
            Err(Fail::Error(message)) => Verdict::Abort {
                rule: index,
                span: rule.span,
                message: format!("unhandled failure (a bug in uml): {message}"),
            },
        }
    }

    fn record(&self, index: usize, frame: &Frame<'_>) -> OwnedRecord {
        let schema = &self.program.schema;
        let mut labels = Vec::with_capacity(schema.labels.len());
        for (i, label) in schema.labels.iter().enumerate() {
            let value = match (&label.constant, frame.outputs.get(&Output::Label(i as u16))) {
                (Some(c), _) => c.clone(),
                (None, Some(OwnedValue::Str(s))) => s.clone(),
                (None, _) => String::new(),
            };
            labels.push((label.name.clone(), value));
        }
        let mut payload = Vec::new();
        for (i, field) in schema.fields.iter().enumerate() {
            match frame.outputs.get(&Output::Field(i as u16)) {
                Some(OwnedValue::Null) | None => {}
                Some(v) => payload.push((field.name.clone(), v.clone())),
            }
        }
        for (i, name) in self.program.extras.iter().enumerate() {
            match frame.outputs.get(&Output::Extra(i as u16)) {
                Some(OwnedValue::Null) | None => {}
                Some(v) => payload.push((name.clone(), v.clone())),
            }
        }
        let mut record = OwnedRecord { rule: index, timestamp: frame.input.timestamp, labels, payload };
        cut(&mut record, self.program.rules[index].max_record_size as usize);
        record
    }

    fn block(&mut self, frame: &mut Frame<'_>, stmts: &[Stmt]) -> Eval<Flow> {
        for stmt in stmts {
            match stmt {
                Stmt::Let { var, err, value, .. } => match (self.expr(frame, value), err) {
                    (Ok(v), None) => set(frame, *var, v),
                    (Ok(v), Some(e)) => {
                        set(frame, *var, v);
                        set(frame, *e, OwnedValue::Null);
                    }
                    (Err(Fail::Error(message)), Some(e)) => {
                        set(frame, *var, OwnedValue::Null);
                        set(frame, *e, OwnedValue::Str(message));
                    }
                    (Err(fail), _) => return Err(fail),
                },
                Stmt::Assign { output, value, .. } => {
                    let v = self.expr(frame, value)?;
                    frame.outputs.insert(*output, v);
                }
                Stmt::If { branches, otherwise, .. } => {
                    let mut taken = None;
                    for (cond, body) in branches {
                        if self.truth(frame, cond)? {
                            taken = Some(body);
                            break;
                        }
                    }
                    if let Some(body) = taken.or(otherwise.as_ref()) {
                        match self.block(frame, body)? {
                            Flow::Next => {}
                            stop => return Ok(stop),
                        }
                    }
                }
                Stmt::Drop { reason, .. } => return Ok(Flow::Drop(reason.clone())),
                Stmt::Emit { .. } => return Ok(Flow::Emit),
            }
        }
        Ok(Flow::Next)
    }

    fn truth(&mut self, frame: &mut Frame<'_>, cond: &Expr) -> Eval<bool> {
        match self.expr(frame, cond)? {
            OwnedValue::Bool(b) => Ok(b),
            other => error(format!("a condition must be a bool, not {}", other.kind())),
        }
    }

    fn expr(&mut self, frame: &mut Frame<'_>, e: &Expr) -> Eval<OwnedValue> {
        Ok(match &e.kind {
            ExprKind::Null => OwnedValue::Null,
            ExprKind::Bool(b) => OwnedValue::Bool(*b),
            ExprKind::Int(i) => OwnedValue::Int(*i),
            ExprKind::Float(f) => OwnedValue::Float(*f),
            ExprKind::Str(s) => OwnedValue::Str(s.clone()),
            ExprKind::Regex(_) => return error("a regex is not a value"),
            ExprKind::Template(parts) => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        Part::Text(t) => out.push_str(t),
                        Part::Hole(h) => match self.expr(frame, h)? {
                            OwnedValue::Str(s) => out.push_str(&s),
                            OwnedValue::Int(i) => number::format_int(i, &mut out),
                            OwnedValue::Float(f) => number::format_float(f, &mut out),
                            OwnedValue::Bool(b) => out.push_str(if b { "true" } else { "false" }),
                            other => return error(format!("a template hole cannot print {}", other.kind())),
                        },
                    }
                }
                OwnedValue::Str(out)
            }
            ExprKind::Array(items) => {
                OwnedValue::Array(items.iter().map(|i| self.expr(frame, i)).collect::<Eval<Vec<_>>>()?)
            }
            ExprKind::Object(entries) => {
                let mut members: Vec<(String, OwnedValue)> = Vec::new();
                for (k, v) in entries {
                    let v = self.expr(frame, v)?;
                    match members.iter_mut().find(|(key, _)| key == k) {
                        Some(slot) => slot.1 = v,
                        None => members.push((k.clone(), v)),
                    }
                }
                OwnedValue::Object(members)
            }
            ExprKind::Var(id) => frame.vars[id.0 as usize].clone(),
            ExprKind::Meta(m) => meta(&frame.input, *m),
            ExprKind::Output(o) => frame.outputs.get(o).cloned().unwrap_or(OwnedValue::Null),
            ExprKind::Path { base, segments } => {
                let base = self.expr(frame, base)?;
                walk(&base, segments).cloned().unwrap_or(OwnedValue::Null)
            }
            ExprKind::Call { func, args, abort } => {
                let result = self.call(frame, *func, args);
                match (result, abort) {
                    (Err(Fail::Error(message)), true) => {
                        let name = func.name();
                        return Err(Fail::Abort(format!("{name}: {message}"), e.span));
                    }
                    (result, _) => result?,
                }
            }
            ExprKind::Not(inner) => OwnedValue::Bool(!self.truth(frame, inner)?),
            ExprKind::Compare { op, lhs, rhs } => {
                let l = self.expr(frame, lhs)?;
                let r = self.expr(frame, rhs)?;
                OwnedValue::Bool(compare(*op, &l, &r)?)
            }
            ExprKind::Match { subject, regex, negate, captures } => {
                let OwnedValue::Str(s) = self.expr(frame, subject)? else {
                    return error("`=~` matches strings");
                };
                let re = self.regex(&regex.pattern);
                let matched = match re.captures(&s) {
                    Some(caps) => {
                        for (group, var) in captures {
                            let v =
                                caps.get(*group).map_or(OwnedValue::Null, |m| OwnedValue::Str(m.as_str().to_string()));
                            set(frame, *var, v);
                        }
                        true
                    }
                    None => false,
                };
                OwnedValue::Bool(matched != *negate)
            }
            ExprKind::And(xs) => {
                for x in xs {
                    if !self.truth(frame, x)? {
                        return Ok(OwnedValue::Bool(false));
                    }
                }
                OwnedValue::Bool(true)
            }
            ExprKind::Or(xs) => {
                for x in xs {
                    if self.truth(frame, x)? {
                        return Ok(OwnedValue::Bool(true));
                    }
                }
                OwnedValue::Bool(false)
            }
            ExprKind::Coalesce(xs) => {
                let (last, init) = xs.split_last().expect("a chain has operands");
                for x in init {
                    match self.expr(frame, x) {
                        Ok(OwnedValue::Null) | Err(Fail::Error(_)) => continue,
                        Ok(v) => return Ok(v),
                        Err(abort) => return Err(abort),
                    }
                }
                self.expr(frame, last)?
            }
            ExprKind::If { branches, otherwise } => {
                for (cond, value) in branches {
                    if self.truth(frame, cond)? {
                        return self.expr(frame, value);
                    }
                }
                self.expr(frame, otherwise)?
            }
        })
    }

    fn regex(&mut self, pattern: &str) -> &regex::Regex {
        self.regexes
            .entry(pattern.to_string())
            .or_insert_with(|| regex::Regex::new(pattern).expect("the checker validated the regex"))
    }

    /// A call: the function's definition ([`Func::native`]) on the
    /// argument values, containers passed as their JSON text.
    fn call(&mut self, frame: &mut Frame<'_>, func: Func, args: &[Option<Expr>]) -> Eval<OwnedValue> {
        use uml_runtime::json::{JsonKind, RawValue};
        use uml_runtime::stdlib::native::{Arg, Args, Context, Ret};
        if func == Func::Exists {
            return Ok(OwnedValue::Bool(self.exists(frame, args[0].as_ref().expect("exists has its argument"))?));
        }
        let Some(body) = func.native().call else { return error("a special form reached a call") };
        // Regex arguments are patterns, not values; containers are encoded.
        let mut values = Vec::with_capacity(args.len());
        let mut regexes = Vec::new();
        for arg in args {
            values.push(match arg {
                Some(Expr { kind: ExprKind::Regex(r), .. }) => {
                    regexes.push(self.regex(&r.pattern).clone());
                    None
                }
                Some(e) => Some(self.expr(frame, e)?),
                None => None,
            });
        }
        let encoded: Vec<Option<String>> = values
            .iter()
            .map(|v| match v {
                Some(v @ (OwnedValue::Array(_) | OwnedValue::Object(_))) => Some(v.to_json()),
                _ => None,
            })
            .collect();
        let mut regexes = regexes.iter();
        let call_args: Vec<Option<Arg<'_>>> = args
            .iter()
            .zip(&values)
            .zip(&encoded)
            .map(|((arg, value), json)| match (value, json) {
                (_, Some(json)) => {
                    let kind = if json.starts_with('[') { JsonKind::Array } else { JsonKind::Object };
                    Some(Arg::Json(json.as_bytes(), RawValue { kind, start: 0, end: json.len() as u32, flags: 0 }))
                }
                (Some(OwnedValue::Null), _) => Some(Arg::Null),
                (Some(OwnedValue::Bool(b)), _) => Some(Arg::Bool(*b)),
                (Some(OwnedValue::Int(i)), _) => Some(Arg::Int(*i)),
                (Some(OwnedValue::Float(f)), _) => Some(Arg::Float(*f)),
                (Some(OwnedValue::Str(s)), _) => Some(Arg::Str(s)),
                (Some(OwnedValue::Array(_) | OwnedValue::Object(_)), None) => unreachable!("containers are encoded"),
                (None, _) if matches!(arg, Some(Expr { kind: ExprKind::Regex(_), .. })) => {
                    regexes.next().map(Arg::Regex)
                }
                (None, _) => None,
            })
            .collect();
        let native = func.native();
        native
            .check_args(|i| call_args.get(i).copied().flatten().map(|a| a.kind()))
            .map_err(|e| Fail::Error(e.to_string()))?;
        let mut out = String::new();
        let parse = |text: &str| value::parse_json(text).map_err(|e| Fail::Error(e.to_string()));
        match body(Args::new(&call_args), &mut out, &Context { now_ns: frame.input.timestamp }) {
            Err(e) => Err(Fail::Error(e.to_string())),
            Ok(Ret::Null) => Ok(OwnedValue::Null),
            Ok(Ret::Bool(b)) => Ok(OwnedValue::Bool(b)),
            Ok(Ret::Int(i)) => Ok(OwnedValue::Int(i)),
            Ok(Ret::Float(f)) => Ok(OwnedValue::Float(f)),
            Ok(Ret::Str(s)) => Ok(OwnedValue::Str(s.to_string())),
            Ok(Ret::Written) => Ok(OwnedValue::Str(out)),
            Ok(Ret::WrittenJson(_)) => parse(&out),
            Ok(Ret::Json(bytes, raw)) => parse(std::str::from_utf8(raw.text(bytes)).unwrap_or("null")),
        }
    }

    /// `exists(path)`: whether the last segment is present, even as null.
    fn exists(&mut self, frame: &mut Frame<'_>, arg: &Expr) -> Eval<bool> {
        let ExprKind::Path { base, segments } = &arg.kind else {
            return Ok(!matches!(self.expr(frame, arg)?, OwnedValue::Null));
        };
        let base = self.expr(frame, base)?;
        let (last, init) = segments.split_last().expect("a path has segments");
        let Some(parent) = walk(&base, init) else { return Ok(false) };
        Ok(match (parent, last) {
            (OwnedValue::Object(_), Segment::Key(k)) => parent.member(k).is_some(),
            (OwnedValue::Array(items), Segment::Index(i)) => index(items.len(), *i).is_some(),
            _ => false,
        })
    }
}

/// Applies `max_record_size`: while the payload, as JSON, is longer than
/// `max` bytes, cuts `exc_info` and then `message` (the schema's fields of
/// those names, when they are strings) and ends each with [`CUT_MARKER`],
/// cutting the JSON string body exactly where the executor does
/// ([`cut_point`]).
fn cut(record: &mut OwnedRecord, max: usize) {
    for name in uml_runtime::exec::CUT_ORDER {
        let excess = record.payload_json().len().saturating_sub(max);
        if excess == 0 {
            return;
        }
        let Some((_, OwnedValue::Str(s))) = record.payload.iter_mut().find(|(k, _)| k == name) else { continue };
        let mut json = String::new();
        value::write_json_string(s, &mut json);
        let body = &json[1..json.len() - 1];
        if let Some(kept) = cut_point(body.as_bytes(), excess) {
            *s = format!("{}{CUT_MARKER}", value::escaped_prefix(s, kept));
        }
    }
}

fn set(frame: &mut Frame<'_>, var: VarId, v: OwnedValue) {
    frame.vars[var.0 as usize] = v;
}

fn meta(input: &LineInput<'_>, m: Meta) -> OwnedValue {
    let s = match m {
        Meta::Line => input.line,
        Meta::Traceback => return input.traceback.map_or(OwnedValue::Null, |t| OwnedValue::Str(t.to_string())),
        Meta::Stream => input.stream,
        Meta::Timestamp => return OwnedValue::Int(input.timestamp),
        Meta::Pod => input.pod,
        Meta::Namespace => input.namespace,
        Meta::Container => input.container,
        Meta::ContainerId => input.container_id,
        Meta::File => input.file,
    };
    OwnedValue::Str(s.to_string())
}

/// Resolves a possibly negative index against a length.
fn index(len: usize, i: i64) -> Option<usize> {
    let i = if i < 0 { len as i64 + i } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

/// Follows path segments; `None` where a key is missing or a shape is wrong.
fn walk<'v>(mut v: &'v OwnedValue, segments: &[Segment]) -> Option<&'v OwnedValue> {
    for s in segments {
        v = match (v, s) {
            (OwnedValue::Object(_), Segment::Key(k)) => v.member(k)?,
            (OwnedValue::Array(items), Segment::Index(i)) => &items[index(items.len(), *i)?],
            _ => return None,
        };
    }
    Some(v)
}

fn compare(op: CompareOp, l: &OwnedValue, r: &OwnedValue) -> Eval<bool> {
    use std::cmp::Ordering;
    let ordering = |l: &OwnedValue, r: &OwnedValue| -> Eval<Ordering> {
        match (l, r) {
            (OwnedValue::Int(a), OwnedValue::Int(b)) => Ok(a.cmp(b)),
            (OwnedValue::Str(a), OwnedValue::Str(b)) => Ok(a.cmp(b)),
            (a, b) => match (number_of(a), number_of(b)) {
                (Some(x), Some(y)) => x.partial_cmp(&y).ok_or_else(|| Fail::Error("cannot order NaN".into())),
                _ => error(format!("cannot order {} and {}", a.kind(), b.kind())),
            },
        }
    };
    Ok(match op {
        CompareOp::Eq => equal(l, r),
        CompareOp::NotEq => !equal(l, r),
        CompareOp::Lt => ordering(l, r)? == Ordering::Less,
        CompareOp::Le => ordering(l, r)? != Ordering::Greater,
        CompareOp::Gt => ordering(l, r)? == Ordering::Greater,
        CompareOp::Ge => ordering(l, r)? != Ordering::Less,
        CompareOp::Match | CompareOp::NotMatch => unreachable!("=~ is ExprKind::Match"),
    })
}

fn number_of(v: &OwnedValue) -> Option<f64> {
    match v {
        OwnedValue::Int(i) => Some(*i as f64),
        OwnedValue::Float(f) => Some(*f),
        _ => None,
    }
}

/// Structural equality; an int equals a float of the same value.
pub fn equal(l: &OwnedValue, r: &OwnedValue) -> bool {
    match (l, r) {
        (OwnedValue::Int(a), OwnedValue::Float(b)) | (OwnedValue::Float(b), OwnedValue::Int(a)) => (*a as f64) == *b,
        (OwnedValue::Object(a), OwnedValue::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.iter().any(|(k2, v2)| k == k2 && equal(v, v2)))
        }
        (OwnedValue::Array(a), OwnedValue::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| equal(x, y)),
        _ => l == r,
    }
}

/// Whether a record or drop matches a test expectation (used by `uml test`).
pub fn matches_expectation(outcome: &Verdict, expect: &Expectation) -> bool {
    match (outcome, expect) {
        (Verdict::Drop { reason, .. }, Expectation::Drop { reason: want, .. }) => reason == want,
        (Verdict::Unrouted, Expectation::Drop { reason, .. }) => reason == UNROUTED,
        (Verdict::TooLarge, Expectation::Drop { reason, .. }) => reason == TOO_LARGE,
        (Verdict::Record(r), Expectation::Record { labels, payload, .. }) => {
            labels.iter().all(|(k, v)| r.labels.iter().any(|(k2, v2)| k == k2 && v == v2))
                && payload.len() == r.payload.len()
                && payload.iter().all(|(k, v)| r.payload.iter().any(|(k2, v2)| k == k2 && equal(&test_value(v), v2)))
        }
        _ => false,
    }
}

/// A test's literal as a value.
pub fn test_value(v: &hir::TestValue) -> OwnedValue {
    match v {
        hir::TestValue::Null => OwnedValue::Null,
        hir::TestValue::Bool(b) => OwnedValue::Bool(*b),
        hir::TestValue::Int(i) => OwnedValue::Int(*i),
        hir::TestValue::Float(f) => OwnedValue::Float(*f),
        hir::TestValue::Str(s) => OwnedValue::Str(s.clone()),
        hir::TestValue::Array(items) => OwnedValue::Array(items.iter().map(test_value).collect()),
        hir::TestValue::Object(m) => OwnedValue::Object(m.iter().map(|(k, v)| (k.clone(), test_value(v))).collect()),
    }
}

impl Evaluator<'_> {
    /// The value of `e` when it is closed and evaluating it succeeds: what
    /// constant folding computes, so that the compiler folds with the
    /// language's own semantics instead of a second implementation of them.
    /// Closed means it reads no metadata, no output, no line and no variable
    /// but those `known` gives, and binds nothing (`=~` captures). A failure
    /// is left for run time, where a handler sees it.
    pub fn eval_closed(&mut self, e: &Expr, known: &dyn Fn(VarId) -> Option<OwnedValue>) -> Option<OwnedValue> {
        let mut vars = Vec::new();
        if !closed(e, known, &mut vars) {
            return None;
        }
        let mut frame = Frame { vars, outputs: HashMap::new(), input: LineInput::default() };
        self.expr(&mut frame, e).ok()
    }
}

/// Whether `e` is closed (see [`Evaluator::eval_closed`]); fills `vars`
/// with the known variables it reads.
fn closed(e: &Expr, known: &dyn Fn(VarId) -> Option<OwnedValue>, vars: &mut Vec<OwnedValue>) -> bool {
    let all = |xs: &[Expr], vars: &mut Vec<OwnedValue>| xs.iter().all(|x| closed(x, known, vars));
    match &e.kind {
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Str(_) => true,
        ExprKind::Regex(_) | ExprKind::Meta(_) | ExprKind::Output(_) | ExprKind::Match { .. } => false,
        ExprKind::Var(v) => match known(*v) {
            Some(value) => {
                let i = v.0 as usize;
                if vars.len() <= i {
                    vars.resize(i + 1, OwnedValue::Null);
                }
                vars[i] = value;
                true
            }
            None => false,
        },
        ExprKind::Template(parts) => parts.iter().all(|p| match p {
            Part::Text(_) => true,
            Part::Hole(h) => closed(h, known, vars),
        }),
        ExprKind::Array(items) | ExprKind::And(items) | ExprKind::Or(items) | ExprKind::Coalesce(items) => {
            all(items, vars)
        }
        ExprKind::Object(entries) => entries.iter().all(|(_, v)| closed(v, known, vars)),
        ExprKind::Path { base, .. } => closed(base, known, vars),
        ExprKind::Not(x) => closed(x, known, vars),
        ExprKind::Compare { lhs, rhs, .. } => closed(lhs, known, vars) && closed(rhs, known, vars),
        ExprKind::If { branches, otherwise } => {
            branches.iter().all(|(c, v)| closed(c, known, vars) && closed(v, known, vars))
                && closed(otherwise, known, vars)
        }
        // `parse_klog` and `parse_timestamp` read the line's time (a year
        // left out is the line's); a regex argument is a pattern, and fine.
        ExprKind::Call { func, args, .. } => {
            !matches!(func, Func::ParseKlog | Func::ParseTimestamp)
                && args.iter().flatten().all(|a| matches!(a.kind, ExprKind::Regex(_)) || closed(a, known, vars))
        }
    }
}
