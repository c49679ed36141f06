//! Lowering: a checked [`Program`] becomes a flat [`Plan`].
//!
//! Expressions become ops that write numbered slots; conditions become
//! forward jumps; every fallible op gets a mark (`plan::Mark`, a compiler's
//! label) for the op that handles its failure (the next `??` operand, a
//! `let x, err` handler, an `f!` abort, or the rule's "unhandled" abort,
//! which the checker makes unreachable). The plan builder resolves marks to
//! op indexes when it finishes the plan.
//!
//! Lowering also does the work that needs the tree:
//!
//! - **constant folding and propagation** (`fold.rs`, by the reference evaluator): a subexpression whose
//!   value is known becomes one `Const`, a variable bound to a constant is
//!   that constant, and a statement `if` whose condition is known keeps only
//!   the branch taken;
//! - **field pushdown**: for `let j = parse_json(…)`, the keys read as
//!   `j.key…` (and tested with `exists(j.key)`) are collected, and the scan
//!   extracts exactly those into slots in its one pass; `parse_klog` writes
//!   the fields read straight to slots and builds its object only when the
//!   variable is used whole;
//! - **regexes the executor can do without** (`regex_split.rs`): a capture
//!   regex that ends in `(?P<g>.*)$` runs without that group, the rest of
//!   the line taken as it, and one that starts with `^(?P<g>.*?)` runs
//!   unanchored, the text before its match taken as the group; `replace`
//!   with `\s+$` or `^.*\r` and `""` is `trim_end` or a cut after the last
//!   `\r`.
//!
//! The flat passes (dead stores, unreachable ops, jumps to the next op) are
//! in [`opt`].

mod fold;
pub mod opt;
mod regex_split;

use crate::hir::{Expr, ExprKind, Output, Part, Program, Rule, Segment, Stmt, VarId};
use crate::stdlib::Func;
use fold::Const;
use std::collections::HashMap;
use uml_runtime::plan::{
    AbortSite, Aux, Builder, Cmp, DropSite, FieldPlan, KLOG_FIELDS, KindTest, LabelPlan, Mark, Members, NO_SLOT, Op,
    OpId, Piece, Plan, RegexSplit, RulePlan, Slot, SpanRef, Text, Value,
};
use uml_runtime::stdlib::level::Scale;
use uml_syntax::ast::CompareOp;
use uml_syntax::{FileId, Span};

/// What lowering may do.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Constant folding, pushdown and the flat passes. Off, the plan is a
    /// literal translation (what the differential tests compare against).
    pub optimize: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { optimize: true }
    }
}

/// What the optimizer did, for `uml explain` and the tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LowerStats {
    /// Ops lowering emitted before the flat passes.
    pub ops_before: usize,
    /// Subexpressions replaced by their constant value.
    pub folded: usize,
    /// Statement branches dropped because their condition is constant.
    pub branches_removed: usize,
    /// Ops that stored a value nothing reads.
    pub dead_stores: usize,
    /// Ops no path reaches, and jumps to the next op.
    pub unreachable: usize,
    /// Jumps moved past ops whose outcome the values known at the jump decide.
    pub threaded: usize,
    /// Writes of constant slots moved to their rule's first op.
    pub hoisted: usize,
    /// Members extracted by pushdown (`parse_json` keys, `parse_klog` fields).
    pub pushed_keys: usize,
}

/// Lowers a checked program. `locate` renders a rule's span as
/// `file:line:col` for abort messages.
pub fn lower(program: &Program, options: Options, locate: &dyn Fn(FileId, Span) -> String) -> (Plan, LowerStats) {
    let mut l = Lowerer::new(program, options, locate);
    l.lower_all();
    let mut stats = l.stats;
    let mut plan = l.finish();
    stats.ops_before = plan.ops.len();
    if options.optimize {
        opt::optimize(&mut plan, &mut stats);
    }
    (plan, stats)
}

/// Pushed-down members of a variable.
#[derive(Clone, Debug)]
enum Pushdown {
    /// `parse_json`: key → slot; the presence mask is at `base - 1`.
    Json { keys: Vec<String>, base: Slot },
    /// `parse_klog`: field → slot, for the fields read.
    Klog { fields: Vec<(u16, Slot)> },
}

struct Lowerer<'a> {
    program: &'a Program,
    /// Folds constants (`fold`).
    evaluator: crate::eval::Evaluator<'a>,
    options: Options,
    locate: &'a dyn Fn(FileId, Span) -> String,
    stats: LowerStats,
    /// The plan being built: ops, and the tables they refer to.
    plan: Builder,
    route_entry: OpId,
    outputs: HashMap<Output, Slot>,
    output_count: Slot,
    max_slot: Slot,
    // Per rule.
    rule: u16,
    file: FileId,
    span: Span,
    vars: Vec<Slot>,
    next_slot: Slot,
    handler: Mark,
    known: HashMap<VarId, Const>,
    pushdown: HashMap<VarId, Pushdown>,
    /// Abort ops placed after the rule's body: `(label, site)`.
    tail: Vec<(Mark, u32)>,
}

impl<'a> Lowerer<'a> {
    fn new(program: &'a Program, options: Options, locate: &'a dyn Fn(FileId, Span) -> String) -> Self {
        let mut outputs = HashMap::new();
        let mut n = Slot(0);
        for i in 0..program.schema.labels.len() {
            outputs.insert(Output::Label(i as u16), n);
            n.0 += 1;
        }
        for i in 0..program.schema.fields.len() {
            outputs.insert(Output::Field(i as u16), n);
            n.0 += 1;
        }
        for i in 0..program.extras.len() {
            outputs.insert(Output::Extra(i as u16), n);
            n.0 += 1;
        }
        let mut plan = Builder::new();
        // Every rule sets its own handler before it emits an op that can fail.
        let unplaced = plan.mark();
        Lowerer {
            program,
            evaluator: crate::eval::Evaluator::new(program),
            options,
            locate,
            stats: LowerStats::default(),
            plan,
            route_entry: OpId(0),
            outputs,
            output_count: n,
            max_slot: n,
            rule: 0,
            file: FileId(0),
            span: Span::DUMMY,
            vars: Vec::new(),
            next_slot: n,
            handler: unplaced,
            known: HashMap::new(),
            pushdown: HashMap::new(),
            tail: Vec::new(),
        }
    }

    // ---- building blocks ----

    fn mark(&mut self) -> Mark {
        self.plan.mark()
    }

    fn place(&mut self, l: Mark) {
        self.plan.place(l);
    }

    fn span_ref(&self) -> SpanRef {
        SpanRef { file: self.file.0, start: self.span.start, end: self.span.end }
    }

    /// Emits an op whose edges, if it has any, go to known ops.
    fn emit(&mut self, op: Op) {
        let span = self.span_ref();
        self.plan.emit(op, span);
    }

    /// Emits a jump to `target`.
    fn jump(&mut self, op: Op, target: Mark) {
        let span = self.span_ref();
        self.plan.emit_to(op, Some(target), None, span);
    }

    /// Emits an op that fails to `fail` (the handler, when it can fail).
    fn emit_failing(&mut self, op: Op, fail: Option<Mark>) {
        let span = self.span_ref();
        self.plan.emit_to(op, None, fail, span);
    }

    fn temp(&mut self) -> Slot {
        let s = self.next_slot;
        self.next_slot.0 += 1;
        self.max_slot = self.max_slot.max(self.next_slot);
        s
    }

    fn text(&mut self, s: &str) -> Text {
        self.plan.text(s)
    }

    fn regex(&mut self, pattern: &str) -> u32 {
        // The checker compiled every regex literal (E0309): one that fails
        // here is a compiler bug, answered by a regex that never matches.
        self.plan.regex(pattern, || regex_split::idiom(pattern), || regex_split::first_bytes(pattern)).unwrap_or_else(
            |e| {
                debug_assert!(false, "a checked regex does not compile: {e}");
                self.plan.regex("[^\\s\\S]", || None, || None).unwrap_or(0)
            },
        )
    }

    /// A regex for `=~` with captures: split off a leading `^(?P<g>.*?)` and
    /// a trailing capture of the rest of the line when it has them
    /// ([`RegexSplit`]).
    fn capture_regex(&mut self, pattern: &str) -> u32 {
        let whole = self.regex(pattern);
        if !self.plan.is_split(whole)
            && let Some(split) = regex_split::split(pattern)
        {
            let head = self.regex(&split.head);
            let groups = |i| self.plan.regex_at(i).map_or(0, regex::Regex::captures_len);
            let groups_agree = groups(head) + usize::from(split.rest.is_some()) == groups(whole)
                && split.rest.is_none_or(|g| usize::from(g) + 1 == groups(whole));
            if groups_agree {
                self.plan.split_regex(whole, RegexSplit { head, lead: split.lead, rest: split.rest });
            }
        }
        whole
    }

    fn const_value(&mut self, c: &Const) -> Value {
        match c {
            Const::Null => Value::Null,
            Const::Bool(b) => Value::Bool(*b),
            Const::Int(i) => Value::Int(*i),
            Const::Float(f) => Value::Float(*f),
            Const::Str(s) => Value::Str(self.text(s)),
        }
    }

    fn abort_site(&mut self, func: Option<&'static str>, span: Span) -> u32 {
        let location = (self.locate)(self.file, span);
        let span = SpanRef { file: self.file.0, start: span.start, end: span.end };
        self.plan.abort_site(AbortSite { rule: self.rule, func, location, span })
    }

    // ---- the program ----

    fn lower_all(&mut self) {
        let program = self.program;
        // Routing first: one program for all rules.
        let route_entry = self.plan.next_op();
        for (i, rule) in program.rules.iter().enumerate() {
            self.begin_rule(i, rule);
            let next = self.mark();
            self.handler = next;
            if let Some(when) = &rule.when {
                self.branch(when, next);
            }
            self.emit(Op::Route { rule: i as u16 });
            self.place(next);
        }
        self.emit(Op::Unrouted);

        for (i, rule) in program.rules.iter().enumerate() {
            self.begin_rule(i, rule);
            let unhandled = self.mark();
            self.handler = unhandled;
            if self.options.optimize {
                self.find_pushdowns(&rule.body);
            }
            let entry = self.plan.next_op();
            if self.block(&rule.body) {
                self.emit(Op::Emit);
            }
            self.place(unhandled);
            let unhandled_site = self.abort_site(None, rule.span);
            self.emit(Op::Abort { site: unhandled_site });
            for (label, site) in std::mem::take(&mut self.tail) {
                self.place(label);
                self.emit(Op::Abort { site });
            }
            let end = self.plan.next_op();
            let captures = match &rule.when {
                Some(when) => when_captures(when).into_iter().map(|v| self.vars[v.0 as usize]).collect(),
                None => Vec::new(),
            };
            self.plan.rule(RulePlan {
                name: rule.name.clone(),
                entry,
                end,
                framing: rule.framing,
                multiline: rule.multiline.as_ref().and_then(|m| {
                    let config = group_config(m);
                    // The checker accepted the clause: a configuration the
                    // grouper refuses is a compiler bug, not "no grouping".
                    debug_assert!(config.is_some(), "a checked multiline clause has no configuration");
                    config
                }),
                max_record_size: rule.max_record_size,
                captures,
                unhandled: unhandled_site,
                labels_per_route: false,
                line_inputs: None,
            });
        }
        self.route_entry = route_entry;
    }

    fn begin_rule(&mut self, i: usize, rule: &Rule) {
        self.rule = i as u16;
        self.file = rule.file;
        self.span = rule.span;
        self.next_slot = self.output_count;
        self.vars = (0..rule.vars.len()).map(|_| self.temp()).collect();
        self.known.clear();
        self.pushdown.clear();
    }

    fn finish(self) -> Plan {
        let schema = &self.program.schema;
        let outputs = &self.outputs;
        let labels = schema
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| LabelPlan {
                name: l.name.clone(),
                constant: l.constant.clone(),
                slot: outputs[&Output::Label(i as u16)],
            })
            .collect();
        let mut fields: Vec<FieldPlan> = schema
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| FieldPlan { name: f.name.clone(), slot: outputs[&Output::Field(i as u16)] })
            .collect();
        fields.extend(
            self.program
                .extras
                .iter()
                .enumerate()
                .map(|(i, name)| FieldPlan { name: name.clone(), slot: outputs[&Output::Extra(i as u16)] }),
        );
        self.plan.finish(self.route_entry, labels, fields, self.max_slot.0)
    }

    // ---- statements ----

    /// Lowers a block; returns whether control can reach its end.
    fn block(&mut self, stmts: &[Stmt]) -> bool {
        for stmt in stmts {
            if !self.stmt(stmt) {
                return false;
            }
        }
        true
    }

    fn stmt(&mut self, stmt: &Stmt) -> bool {
        match stmt {
            Stmt::Let { var, err, value, span } => {
                self.span = *span;
                let slot = self.vars[var.0 as usize];
                match err {
                    None => {
                        if self.options.optimize
                            && let Some(c) = self.fold(value)
                        {
                            self.known.insert(*var, c);
                        }
                        self.bind(*var, value, slot);
                    }
                    Some(e) => {
                        let err_slot = self.vars[e.0 as usize];
                        let handler = self.mark();
                        let end = self.mark();
                        let outer = std::mem::replace(&mut self.handler, handler);
                        self.bind(*var, value, slot);
                        self.handler = outer;
                        self.emit(Op::Const { dst: err_slot, value: Value::Null });
                        self.jump(Op::Jump { target: OpId::default() }, end);
                        self.place(handler);
                        self.emit(Op::BindError { value: slot, err: err_slot });
                        self.place(end);
                    }
                }
                true
            }
            Stmt::Assign { output, value, span } => {
                self.span = *span;
                let dst = self.outputs[output];
                if reads_output(value, *output) {
                    let t = self.temp();
                    self.expr(value, t);
                    self.emit(Op::Move { dst, src: t });
                } else {
                    self.expr(value, dst);
                }
                true
            }
            Stmt::If { branches, otherwise, span } => {
                self.span = *span;
                let end = self.mark();
                let mut falls_through = false;
                let mut decided = false;
                for (cond, body) in branches {
                    if self.options.optimize {
                        match self.fold(cond) {
                            Some(Const::Bool(false)) => {
                                self.stats.branches_removed += 1;
                                continue;
                            }
                            Some(Const::Bool(true)) => {
                                self.stats.branches_removed += 1;
                                falls_through |= self.block(body);
                                decided = true;
                                break;
                            }
                            _ => {}
                        }
                    }
                    let next = self.mark();
                    self.branch(cond, next);
                    if self.block(body) {
                        falls_through = true;
                        self.jump(Op::Jump { target: OpId::default() }, end);
                    }
                    self.place(next);
                }
                if !decided {
                    match otherwise {
                        Some(body) => falls_through |= self.block(body),
                        None => falls_through = true,
                    }
                }
                self.place(end);
                falls_through
            }
            Stmt::Drop { reason, span } => {
                self.span = *span;
                let site = self.plan.drop_site(DropSite { rule: self.rule, reason: reason.clone() });
                self.emit(Op::Drop { site });
                false
            }
            Stmt::Emit { span } => {
                self.span = *span;
                self.emit(Op::Emit);
                false
            }
        }
    }

    /// `let var = value`, with pushdown when the variable's uses allow it.
    fn bind(&mut self, var: VarId, value: &Expr, slot: Slot) {
        let (func, args, abort) = match &value.kind {
            ExprKind::Call { func: f @ (Func::ParseJson | Func::ParseKlog), args, abort } => (*f, args, *abort),
            _ => return self.expr(value, slot),
        };
        let Some(pushdown) = self.pushdown.get(&var).cloned() else { return self.expr(value, slot) };
        let outer = self.handler;
        if abort {
            self.handler = self.abort_mark("parse", value.span, func);
        }
        let src = match &args[0] {
            Some(a) => self.operand(a),
            None => NO_SLOT,
        };
        let fail = self.edge(value.fallible || abort);
        match pushdown {
            Pushdown::Json { keys, base } => {
                self.stats.pushed_keys += keys.len();
                let members = Members { keys: self.plan.key_set(keys), base };
                self.emit_failing(Op::ParseJson { dst: slot, src, members: Some(members), fail: None }, fail);
            }
            Pushdown::Klog { fields } => {
                self.stats.pushed_keys += fields.len();
                let whole = uses_whole(self.program.rules[usize::from(self.rule)].body.as_slice(), var);
                let fields = self.plan.captures(fields.iter().copied());
                self.emit_failing(Op::ParseKlog { dst: slot, src, fields, whole, fail: None }, fail);
            }
        }
        self.handler = outer;
    }

    /// Finds the `let x = parse_json(…)`/`parse_klog(…)` whose variable is
    /// read through paths, and assigns slots to the members read.
    fn find_pushdowns(&mut self, body: &[Stmt]) {
        let mut lets = Vec::new();
        collect_parse_lets(body, &mut lets);
        for (var, func) in lets {
            let mut keys: Vec<String> = Vec::new();
            visit_var_uses(body, var, &mut |use_| {
                if let VarUse::Key(k) = use_
                    && !keys.iter().any(|x| x == k)
                {
                    keys.push(k.to_string());
                }
            });
            if keys.is_empty() || keys.len() > 63 {
                continue;
            }
            match func {
                Func::ParseJson => {
                    let mask = self.temp();
                    let base = self.next_slot;
                    for _ in &keys {
                        self.temp();
                    }
                    debug_assert_eq!(mask.0 + 1, base.0);
                    self.pushdown.insert(var, Pushdown::Json { keys, base });
                }
                _ => {
                    let fields = keys
                        .iter()
                        .filter_map(|k| KLOG_FIELDS.iter().position(|f| f == k))
                        .map(|i| (i as u16, self.temp()))
                        .collect();
                    self.pushdown.insert(var, Pushdown::Klog { fields });
                }
            }
        }
    }

    /// The failure edge of an op that computes an expression: the current
    /// handler when the checker says the expression can fail, else none.
    fn edge(&self, fallible: bool) -> Option<Mark> {
        fallible.then_some(self.handler)
    }

    fn abort_mark(&mut self, _what: &str, span: Span, func: Func) -> Mark {
        let name = Some(func.name());
        let site = self.abort_site(name, span);
        let mark = self.mark();
        self.tail.push((mark, site));
        mark
    }

    /// Jumps to `on_false` unless `cond` is true; failures go to the handler.
    fn branch(&mut self, cond: &Expr, on_false: Mark) {
        if self.options.optimize
            && let Some(Const::Bool(true)) = self.fold(cond)
        {
            return;
        }
        match &cond.kind {
            ExprKind::And(xs) => {
                for x in xs {
                    self.branch(x, on_false);
                }
            }
            ExprKind::Or(xs) => {
                let (last, init) = xs.split_last().expect("a chain has operands");
                let taken = self.mark();
                for x in init {
                    let next = self.mark();
                    self.branch(x, next);
                    self.jump(Op::Jump { target: OpId::default() }, taken);
                    self.place(next);
                }
                self.branch(last, on_false);
                self.place(taken);
            }
            // `x == null` and `x != null` test the slot; they cannot fail.
            ExprKind::Compare { op: op @ (CompareOp::Eq | CompareOp::NotEq), lhs, rhs }
                if matches!(rhs.kind, ExprKind::Null) || matches!(lhs.kind, ExprKind::Null) =>
            {
                let other = if matches!(rhs.kind, ExprKind::Null) { lhs } else { rhs };
                let src = self.operand(other);
                match op {
                    CompareOp::Eq => self.jump(Op::JumpIfNotNull { src, target: OpId::default() }, on_false),
                    _ => self.jump(Op::JumpIfNull { src, target: OpId::default() }, on_false),
                }
            }
            _ => self.jump_unless(cond, on_false),
        }
    }

    /// Jumps to `on_false` unless `cond`, one value, is true.
    fn jump_unless(&mut self, cond: &Expr, on_false: Mark) {
        let target = OpId::default();
        match kind_test(cond) {
            // `is_null(x)`, `is_object(x)`, `is_string(x)` and their
            // negations test the slot's kind in the jump; they cannot fail.
            Some((test, x, when)) if self.options.optimize => {
                let src = self.operand(x);
                let op = match test {
                    None if when => Op::JumpIfNotNull { src, target },
                    None => Op::JumpIfNull { src, target },
                    Some(kind) => Op::JumpIfKind { src, kind, when: !when, target },
                };
                self.jump(op, on_false);
            }
            _ => {
                let t = self.operand(cond);
                let fail = self.edge(cond.fallible);
                let span = self.span_ref();
                self.plan.emit_to(Op::JumpIfFalse { cond: t, target, fail: None }, Some(on_false), fail, span);
            }
        }
    }

    // ---- expressions ----

    /// The slot holding `e`'s value: a variable's own slot, or a new temp.
    fn operand(&mut self, e: &Expr) -> Slot {
        match &e.kind {
            ExprKind::Var(v) if !(self.options.optimize && self.known.contains_key(v)) => self.vars[v.0 as usize],
            ExprKind::Output(o) => self.outputs[o],
            ExprKind::Path { base, segments } if segments.len() == 1 => match self.member_slot(base, &segments[0]) {
                Some(Some(slot)) => slot,
                _ => {
                    let t = self.temp();
                    self.expr(e, t);
                    t
                }
            },
            _ => {
                let t = self.temp();
                self.expr(e, t);
                t
            }
        }
    }

    fn fold(&mut self, e: &Expr) -> Option<Const> {
        fold::fold(e, &self.known, &mut self.evaluator)
    }

    /// Lowers `e` so that its value ends up in `dst`.
    fn expr(&mut self, e: &Expr, dst: Slot) {
        if self.options.optimize
            && !matches!(
                e.kind,
                ExprKind::Null | ExprKind::Bool(_) | ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Str(_)
            )
            && let Some(c) = self.fold(e)
        {
            self.stats.folded += 1;
            let value = self.const_value(&c);
            self.emit(Op::Const { dst, value });
            return;
        }
        let fail = self.edge(e.fallible);
        match &e.kind {
            ExprKind::Null => self.emit(Op::Const { dst, value: Value::Null }),
            ExprKind::Bool(b) => self.emit(Op::Const { dst, value: Value::Bool(*b) }),
            ExprKind::Int(i) => self.emit(Op::Const { dst, value: Value::Int(*i) }),
            ExprKind::Float(f) => self.emit(Op::Const { dst, value: Value::Float(*f) }),
            ExprKind::Str(s) => {
                let t = self.text(s);
                self.emit(Op::Const { dst, value: Value::Str(t) });
            }
            // Not a value; the checker allows regexes only where they are read.
            ExprKind::Regex(_) => self.emit(Op::Const { dst, value: Value::Null }),
            ExprKind::Template(parts) => {
                let mut pieces = Vec::with_capacity(parts.len());
                for part in parts {
                    match part {
                        Part::Text(t) => pieces.push(Piece::Text(self.text(t))),
                        Part::Hole(h) => pieces.push(Piece::Hole(self.operand(h))),
                    }
                }
                let pieces = self.plan.pieces(pieces);
                self.emit_failing(Op::Template { dst, pieces, fail: None }, fail);
            }
            ExprKind::Array(items) => {
                let slots: Vec<Slot> = items.iter().map(|i| self.operand(i)).collect();
                let items = self.plan.args(slots);
                self.emit(Op::Array { dst, items });
            }
            ExprKind::Object(entries) => {
                let mut members: Vec<(Text, Slot)> = Vec::new();
                for (k, v) in entries {
                    let slot = self.operand(v);
                    let key = self.text(k);
                    match members.iter_mut().find(|(x, _)| *x == key) {
                        Some(m) => m.1 = slot,
                        None => members.push((key, slot)),
                    }
                }
                let entries = self.plan.entries(members);
                self.emit(Op::Object { dst, entries });
            }
            ExprKind::Var(v) => match self.known.get(v).cloned().filter(|_| self.options.optimize) {
                Some(c) => {
                    let value = self.const_value(&c);
                    self.emit(Op::Const { dst, value });
                }
                None => {
                    let src = self.vars[v.0 as usize];
                    if src != dst {
                        self.emit(Op::Move { dst, src });
                    }
                }
            },
            ExprKind::Meta(m) => self.emit(Op::Meta { dst, meta: *m }),
            ExprKind::Output(o) => {
                let src = self.outputs[o];
                if src != dst {
                    self.emit(Op::Move { dst, src });
                }
            }
            ExprKind::Path { base, segments } => self.path(base, segments, dst),
            ExprKind::Call { func, args, abort } => self.call(e, *func, args, *abort, dst),
            ExprKind::Not(x) => {
                let src = self.operand(x);
                self.emit_failing(Op::Not { dst, src, fail: None }, fail);
            }
            ExprKind::Compare { op, lhs, rhs } => {
                let l = self.operand(lhs);
                let r = self.operand(rhs);
                let cmp = match op {
                    CompareOp::Eq => Cmp::Eq,
                    CompareOp::NotEq => Cmp::Ne,
                    CompareOp::Lt => Cmp::Lt,
                    CompareOp::Le => Cmp::Le,
                    CompareOp::Gt => Cmp::Gt,
                    CompareOp::Ge => Cmp::Ge,
                    // `=~` is ExprKind::Match.
                    CompareOp::Match | CompareOp::NotMatch => Cmp::Eq,
                };
                self.emit_failing(Op::Compare { dst, cmp, lhs: l, rhs: r, fail: None }, fail);
            }
            ExprKind::Match { subject, regex, negate, captures } => {
                let src = self.operand(subject);
                let regex =
                    if captures.is_empty() { self.regex(&regex.pattern) } else { self.capture_regex(&regex.pattern) };
                let vars = &self.vars;
                let captures =
                    self.plan.captures(captures.iter().map(|(group, var)| (*group as u16, vars[var.0 as usize])));
                self.emit_failing(Op::Match { dst, src, regex, negate: *negate, captures, fail: None }, fail);
            }
            ExprKind::And(xs) => {
                let no = self.mark();
                let end = self.mark();
                for x in xs {
                    self.jump_unless(x, no);
                }
                self.emit(Op::Const { dst, value: Value::Bool(true) });
                self.jump(Op::Jump { target: OpId::default() }, end);
                self.place(no);
                self.emit(Op::Const { dst, value: Value::Bool(false) });
                self.place(end);
            }
            ExprKind::Or(xs) => {
                let yes = self.mark();
                let end = self.mark();
                for x in xs {
                    let next = self.mark();
                    self.jump_unless(x, next);
                    self.jump(Op::Jump { target: OpId::default() }, yes);
                    self.place(next);
                }
                self.emit(Op::Const { dst, value: Value::Bool(false) });
                self.jump(Op::Jump { target: OpId::default() }, end);
                self.place(yes);
                self.emit(Op::Const { dst, value: Value::Bool(true) });
                self.place(end);
            }
            ExprKind::Coalesce(xs) => {
                let end = self.mark();
                // A run of reads at the head of the chain (variables,
                // pushed-down members, paths from them) is one op.
                let reads = if self.options.optimize { self.first_present(xs, dst) } else { 0 };
                let xs = &xs[reads..];
                if xs.is_empty() {
                    return;
                }
                if reads > 0 {
                    self.jump(Op::JumpIfNotNull { src: dst, target: OpId::default() }, end);
                }
                let (last, init) = xs.split_last().expect("a chain has operands");
                for x in init {
                    let next = self.mark();
                    let outer = std::mem::replace(&mut self.handler, next);
                    self.expr(x, dst);
                    self.handler = outer;
                    self.jump(Op::JumpIfNotNull { src: dst, target: OpId::default() }, end);
                    self.place(next);
                }
                self.expr(last, dst);
                self.place(end);
            }
            ExprKind::If { branches, otherwise } => {
                let end = self.mark();
                for (cond, value) in branches {
                    let next = self.mark();
                    self.branch(cond, next);
                    self.expr(value, dst);
                    self.jump(Op::Jump { target: OpId::default() }, end);
                    self.place(next);
                }
                self.expr(otherwise, dst);
                self.place(end);
            }
        }
    }

    /// Lowers the reads that start a `??` chain into one
    /// [`Op::FirstPresent`] writing `dst`, when there are at least two;
    /// returns how many operands it took (0 when it emitted nothing). A
    /// read cannot fail, so the chain's handlers have nothing to catch in
    /// them.
    fn first_present(&mut self, xs: &[Expr], dst: Slot) -> usize {
        // Each read: a slot, and the segments of a path from it.
        let mut reads: Vec<(Slot, &[Segment])> = Vec::new();
        let mut taken = 0;
        for x in xs {
            if x.fallible {
                break;
            }
            match &x.kind {
                // A null contributes nothing: the op's answer is null when
                // every read is.
                ExprKind::Null => {}
                ExprKind::Var(v) if !self.known.contains_key(v) => reads.push((self.vars[v.0 as usize], &[])),
                ExprKind::Output(o) => reads.push((self.outputs[o], &[])),
                ExprKind::Path { base, segments } if !segments.is_empty() => {
                    match self.member_slot(base, &segments[0]) {
                        Some(Some(src)) => reads.push((src, &segments[1..])),
                        Some(None) => {}
                        None => match &base.kind {
                            ExprKind::Var(v) if !self.known.contains_key(v) => {
                                reads.push((self.vars[v.0 as usize], segments))
                            }
                            _ => break,
                        },
                    }
                }
                _ => break,
            }
            taken += 1;
        }
        if taken < 2 || reads.is_empty() {
            return 0;
        }
        let items: Vec<(Slot, Option<u32>)> =
            reads.into_iter().map(|(src, path)| (src, (!path.is_empty()).then(|| self.path_index(path)))).collect();
        let items = self.plan.firsts(items);
        self.emit(Op::FirstPresent { dst, items });
        taken
    }

    /// The slot of a pushed-down member `base.key`: `Some(None)` for a key
    /// the parser never produces, `None` when `base.key` is not pushed down.
    fn member_slot(&self, base: &Expr, seg: &Segment) -> Option<Option<Slot>> {
        let (ExprKind::Var(v), Segment::Key(k)) = (&base.kind, seg) else { return None };
        match self.pushdown.get(v)? {
            Pushdown::Json { keys, base } => keys.iter().position(|x| x == k).map(|i| Some(Slot(base.0 + i as u16))),
            Pushdown::Klog { fields } => Some(
                KLOG_FIELDS
                    .iter()
                    .position(|f| f == k)
                    .and_then(|i| fields.iter().find(|(f, _)| usize::from(*f) == i).map(|(_, s)| *s)),
            ),
        }
    }

    fn path(&mut self, base: &Expr, segments: &[Segment], dst: Slot) {
        // A pushed-down member: read its slot, then walk the rest.
        if let Some(first) = segments.first()
            && let Some(member) = self.member_slot(base, first)
        {
            match member {
                // A key parse_klog never has.
                None => self.emit(Op::Const { dst, value: Value::Null }),
                Some(src) if segments.len() == 1 => self.emit(Op::Move { dst, src }),
                Some(src) => {
                    let path = self.path_index(&segments[1..]);
                    self.emit(Op::Path { dst, src, path });
                }
            }
            return;
        }
        let src = self.operand(base);
        let path = self.path_index(segments);
        self.emit(Op::Path { dst, src, path });
    }

    fn path_index(&mut self, segments: &[Segment]) -> u32 {
        let path: Vec<uml_runtime::plan::Segment> = segments
            .iter()
            .map(|s| match s {
                Segment::Key(k) => uml_runtime::plan::Segment::Key(k.clone()),
                Segment::Index(i) => uml_runtime::plan::Segment::Index(*i),
            })
            .collect();
        self.plan.path(path)
    }

    fn call(&mut self, e: &Expr, func: Func, args: &[Option<Expr>], abort: bool, dst: Slot) {
        let outer = self.handler;
        if abort {
            self.handler = self.abort_mark("call", e.span, func);
        }
        let fail = self.edge(e.fallible || abort);
        match func {
            Func::Exists => {
                let arg = args[0].as_ref().expect("exists has its argument");
                self.exists(arg, dst);
            }
            Func::ParseJson => {
                let src = args[0].as_ref().map_or(NO_SLOT, |a| self.operand(a));
                self.emit_failing(Op::ParseJson { dst, src, members: None, fail: None }, fail);
            }
            Func::ParseKlog => {
                let src = args[0].as_ref().map_or(NO_SLOT, |a| self.operand(a));
                let fields = self.plan.captures([]);
                self.emit_failing(Op::ParseKlog { dst, src, fields, whole: true, fail: None }, fail);
            }
            _ => {
                let mut aux = Aux::None;
                let mut slots = Vec::with_capacity(args.len());
                for (i, arg) in args.iter().enumerate() {
                    match arg {
                        None => slots.push(NO_SLOT),
                        Some(Expr { kind: ExprKind::Regex(r), .. }) => {
                            aux = Aux::Regex(self.regex(&r.pattern));
                            slots.push(NO_SLOT);
                        }
                        // Literal arguments are prepared here; the executor reads
                        // them from `aux`, not from a slot.
                        Some(Expr { kind: ExprKind::Str(s), .. }) if i == 1 && func == Func::ParseTimestamp => {
                            aux = Aux::Format(self.plan.format(s));
                            slots.push(NO_SLOT);
                        }
                        Some(Expr { kind: ExprKind::Str(s), .. }) if i == 1 && func == Func::Level => {
                            aux = Aux::Scale(Scale::from_name(s));
                            slots.push(NO_SLOT);
                        }
                        Some(a) => slots.push(self.operand(a)),
                    }
                }
                let args = self.plan.args(slots);
                self.emit_failing(Op::Call { dst, func, args, aux, fail: None }, fail);
            }
        }
        self.handler = outer;
    }

    fn exists(&mut self, arg: &Expr, dst: Slot) {
        let ExprKind::Path { base, segments } = &arg.kind else {
            // `exists(x)` on a non-path: whether it is not null.
            let t = self.operand(arg);
            let path = self.path_index(&[]);
            self.emit(Op::Exists { dst, src: t, path });
            return;
        };
        if let (ExprKind::Var(v), [Segment::Key(k)]) = (&base.kind, segments.as_slice())
            && let Some(Pushdown::Json { keys, base }) = self.pushdown.get(v)
            && let Some(i) = keys.iter().position(|x| x == k)
        {
            let mask = Slot(base.0 - 1);
            self.emit(Op::Present { dst, mask, bit: i as u8 });
            return;
        }
        let src = self.operand(base);
        let path = self.path_index(segments);
        self.emit(Op::Exists { dst, src, path });
    }
}

/// The variables a `when` binds: captures of `=~` in its top-level `&&`.
fn when_captures(when: &Expr) -> Vec<VarId> {
    let mut out = Vec::new();
    let conjuncts: Vec<&Expr> = match &when.kind {
        ExprKind::And(xs) => xs.iter().collect(),
        _ => vec![when],
    };
    for c in conjuncts {
        if let ExprKind::Match { captures, .. } = &c.kind {
            out.extend(captures.iter().map(|(_, v)| *v));
        }
    }
    out
}

/// Whether `e` reads the output `o` (then an assignment to `o` must not
/// write `o` before the expression is done).
fn reads_output(e: &Expr, o: Output) -> bool {
    let mut found = false;
    visit_expr(e, &mut |x| found |= matches!(x.kind, ExprKind::Output(p) if p == o));
    found
}

/// `cond` as a kind test: `is_null(x)` (`None`), `is_object(x)` or
/// `is_string(x)`, the argument, and whether the test being true makes
/// `cond` true (`false` under a `!`).
fn kind_test(cond: &Expr) -> Option<(Option<KindTest>, &Expr, bool)> {
    let (call, when) = match &cond.kind {
        ExprKind::Not(inner) => (&**inner, false),
        _ => (cond, true),
    };
    let ExprKind::Call { func, args, .. } = &call.kind else { return None };
    let test = match func {
        Func::IsNull => None,
        Func::IsObject => Some(KindTest::Object),
        Func::IsString => Some(KindTest::String),
        _ => return None,
    };
    match args.as_slice() {
        [Some(x)] => Some((test, x, when)),
        _ => None,
    }
}

/// Calls `f` on `e` and every subexpression.
fn visit_expr(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match &e.kind {
        ExprKind::Template(parts) => {
            for p in parts {
                if let Part::Hole(h) = p {
                    visit_expr(h, f);
                }
            }
        }
        ExprKind::Array(xs) | ExprKind::And(xs) | ExprKind::Or(xs) | ExprKind::Coalesce(xs) => {
            xs.iter().for_each(|x| visit_expr(x, f))
        }
        ExprKind::Object(entries) => entries.iter().for_each(|(_, x)| visit_expr(x, f)),
        ExprKind::Path { base, .. } => visit_expr(base, f),
        ExprKind::Call { args, .. } => args.iter().flatten().for_each(|x| visit_expr(x, f)),
        ExprKind::Not(x) => visit_expr(x, f),
        ExprKind::Compare { lhs, rhs, .. } => {
            visit_expr(lhs, f);
            visit_expr(rhs, f);
        }
        ExprKind::Match { subject, .. } => visit_expr(subject, f),
        ExprKind::If { branches, otherwise } => {
            for (c, v) in branches {
                visit_expr(c, f);
                visit_expr(v, f);
            }
            visit_expr(otherwise, f);
        }
        _ => {}
    }
}

fn visit_stmts(stmts: &[Stmt], f: &mut dyn FnMut(&Expr)) {
    for s in stmts {
        match s {
            Stmt::Let { value, .. } | Stmt::Assign { value, .. } => visit_expr(value, f),
            Stmt::If { branches, otherwise, .. } => {
                for (c, body) in branches {
                    visit_expr(c, f);
                    visit_stmts(body, f);
                }
                if let Some(body) = otherwise {
                    visit_stmts(body, f);
                }
            }
            Stmt::Drop { .. } | Stmt::Emit { .. } => {}
        }
    }
}

/// How a variable is read.
enum VarUse<'e> {
    /// `v.key…` or `exists(v.key)`.
    Key(&'e str),
    /// Anything else.
    Whole,
}

/// Calls `f` for each read of `var` in `stmts`.
fn visit_var_uses(stmts: &[Stmt], var: VarId, f: &mut dyn FnMut(VarUse<'_>)) {
    // A path `v.k…` is a keyed use; the `Var` under it must not count again.
    let mut keyed: Vec<*const Expr> = Vec::new();
    visit_stmts(stmts, &mut |e| {
        if let ExprKind::Path { base, segments } = &e.kind
            && let (ExprKind::Var(v), Some(Segment::Key(k))) = (&base.kind, segments.first())
            && *v == var
        {
            keyed.push(&**base as *const Expr);
            f(VarUse::Key(k));
        }
    });
    visit_stmts(stmts, &mut |e| {
        if matches!(e.kind, ExprKind::Var(v) if v == var) && !keyed.contains(&(e as *const Expr)) {
            f(VarUse::Whole);
        }
    });
}

/// Whether `var` is read other than through `var.key` paths.
fn uses_whole(stmts: &[Stmt], var: VarId) -> bool {
    let mut whole = false;
    visit_var_uses(stmts, var, &mut |u| whole |= matches!(u, VarUse::Whole));
    // `exists(k.key)` on a klog object needs the object itself.
    visit_stmts(stmts, &mut |e| {
        if let ExprKind::Call { func: Func::Exists, args, .. } = &e.kind
            && let Some(Some(Expr { kind: ExprKind::Path { base, .. }, .. })) = args.first()
        {
            whole |= matches!(base.kind, ExprKind::Var(v) if v == var);
        }
    });
    whole
}

/// `let x = parse_json(…)` and `let x = parse_klog(…)` (with or without an
/// error binding, with or without `!`).
fn collect_parse_lets(stmts: &[Stmt], out: &mut Vec<(VarId, Func)>) {
    for s in stmts {
        match s {
            Stmt::Let { var, value, .. } => {
                if let ExprKind::Call { func: f @ (Func::ParseJson | Func::ParseKlog), .. } = &value.kind {
                    out.push((*var, *f));
                }
            }
            Stmt::If { branches, otherwise, .. } => {
                for (_, body) in branches {
                    collect_parse_lets(body, out);
                }
                if let Some(body) = otherwise {
                    collect_parse_lets(body, out);
                }
            }
            _ => {}
        }
    }
}

/// The runtime grouping for a rule's `multiline` clause (the test runner
/// groups a test's lines with it too).
pub(crate) fn group_config(m: &crate::hir::Multiline) -> Option<uml_runtime::group::GroupConfig> {
    use crate::hir::Multiline;
    use uml_runtime::group::GroupConfig;
    Some(match m {
        Multiline::PythonTraceback { head, max_lines, idle_ms } => GroupConfig::PythonTraceback {
            head: match head {
                Some(h) => Some(regex::Regex::new(h).ok()?),
                None => None,
            },
            max_lines: *max_lines,
            idle_ms: *idle_ms,
        },
        Multiline::Pattern { start, continue_, max_lines, idle_ms } => GroupConfig::Pattern {
            start: regex::Regex::new(start).ok()?,
            continue_: regex::Regex::new(continue_).ok()?,
            max_lines: *max_lines,
            idle_ms: *idle_ms,
        },
    })
}
