//! The flat passes over a lowered [`Plan`]: dead stores, unreachable ops,
//! jumps to the next op, and jumps threaded past ops whose outcome is known.
//!
//! Control flow only goes forward (the language has no loops), so one
//! backward sweep computes exact liveness: every successor of an op comes
//! after it. An op is a dead store when it has no effect but writing slots
//! and nothing reads those slots afterwards on any path; an `Emit` reads
//! every output slot, a `Route` the captures its rule keeps. Ops that can
//! fail are kept even when their result is dead, because their failure
//! changes where control goes.
//!
//! **Jump threading.** Lowering writes a value and jumps to where it is
//! tested: `let exc = if text == null { "" } else { … }` followed by
//! `if exc != "" { … }` becomes, on the path where `text` is null, a
//! constant, a jump, a constant to compare with, the comparison and a
//! conditional jump, all decided before they run. A jump whose target
//! starts such a run (constants, comparisons of known values, jumps on
//! them) goes straight to where the run leads, as long as nothing reads
//! what the skipped ops wrote. The values known at the jump are those of
//! the constant written just before it, when control reaches the jump only
//! from there. A failure edge is threaded the same way from its handler:
//! `let j, err = parse_json(%line)` then `if err == null && …` binds the
//! error (a message, never null) and tests it at once, so a line that is not
//! JSON goes straight to the `else` branch, and, when nothing reads `err`
//! there, its message is never written.
//!
//! **Constant slots.** A slot that every op of a rule writing it sets to
//! the same constant (`""` to compare a value with, a default) and that no
//! path reads before writing it holds that constant whenever it is read.
//! Its writes become one `Const` at the rule's first op, where routing runs
//! it once per file and stream (the executor's `hoist`), not once per line.
//!
//! The passes run until nothing changes, since removing one op can make
//! another dead.

use super::LowerStats;
use std::collections::BTreeMap;
use uml_runtime::plan::{Cmp, FailEdge, NO_SLOT, Op, OpId, Plan, Slot, SpanRef, Value};

pub fn optimize(plan: &mut Plan, stats: &mut LowerStats) {
    // Ten rounds is far more than real rules need; the bound keeps the
    // compile time linear whatever the input.
    for _ in 0..10 {
        let dead = dead_stores(plan);
        let unreachable = unreachable(plan);
        let threaded = thread_jumps(plan);
        stats.dead_stores += dead;
        stats.unreachable += unreachable;
        stats.threaded += threaded;
        if dead + unreachable + threaded == 0 {
            break;
        }
    }
    // Last: the other passes leave leading constants where they are.
    stats.hoisted += hoist_constants(plan);
    mark_labels_per_route(plan);
    mark_line_inputs(plan);
}

/// Sets [`RulePlan::line_inputs`](uml_runtime::plan::RulePlan): the slots
/// live where a line starts, past the rule's once-per-route ops, that a
/// line may write.
fn mark_line_inputs(plan: &mut Plan) {
    let Some((live_in, _)) = liveness(plan) else { return };
    for r in 0..plan.rules.len() {
        let (start, per_line) = line_writes(plan, r);
        let live = &live_in[start];
        let inputs = (0..plan.slot_count).map(Slot).filter(|&s| live.contains(s) && per_line.contains(s)).collect();
        plan.rules[r].line_inputs = Some(inputs);
    }
}

/// Sets [`RulePlan::labels_per_route`](uml_runtime::plan::RulePlan) for the
/// rules whose labels only their leading, once-per-route ops write.
fn mark_labels_per_route(plan: &mut Plan) {
    for r in 0..plan.rules.len() {
        let (_, per_line) = line_writes(plan, r);
        let per_route = plan.labels.iter().filter(|l| l.constant.is_none()).all(|l| !per_line.contains(l.slot));
        plan.rules[r].labels_per_route = per_route;
    }
}

/// Where a line of rule `r` starts (past its leading, once-per-route ops),
/// and the slots the ops from there to the rule's end may write.
fn line_writes(plan: &Plan, r: usize) -> (usize, Slots) {
    let (entry, end) = (plan.rules[r].entry.index(), plan.rules[r].end.index().min(plan.ops.len()));
    let start = entry.min(end) + leading_invariant(plan, entry, end);
    let mut per_line = Slots::new(usize::from(plan.slot_count));
    let mut written = Vec::new();
    for op in &plan.ops[start..end] {
        writes(plan, op, &mut written);
        written.iter().for_each(|&s| per_line.insert(s));
    }
    (start, per_line)
}

/// Moves the writes of each rule's constant slots to the rule's first op
/// (see the module documentation); returns how many writes moved.
fn hoist_constants(plan: &mut Plan) -> usize {
    let Some((live_in, _)) = liveness(plan) else { return 0 };
    let n = plan.ops.len();
    let mut gone = vec![false; n];
    let mut inserts: Vec<(usize, Vec<(Op, SpanRef)>)> = Vec::new();
    let mut moved = 0;
    let mut written = Vec::new();
    for rule in &plan.rules {
        let (entry, end) = (rule.entry.index(), rule.end.index().min(n));
        if entry >= end {
            continue;
        }
        // Slot → its one constant and where it is first written; `None`
        // once any other write is seen.
        let mut constant: BTreeMap<Slot, Option<(Value, usize)>> = BTreeMap::new();
        for i in entry..end {
            writes(plan, &plan.ops[i], &mut written);
            for &slot in &written {
                let this = match plan.ops[i] {
                    Op::Const { dst, value } if dst == slot => Some(value),
                    _ => None,
                };
                match constant.get_mut(&slot) {
                    None => {
                        constant.insert(slot, this.map(|v| (v, i)));
                    }
                    Some(seen) => {
                        let same =
                            matches!((*seen, this), (Some((v, _)), Some(w)) if const_equal(plan, v, w) == Some(true));
                        if !same {
                            *seen = None;
                        }
                    }
                }
            }
        }
        // The leading ops the executor hoists already run once per route.
        let leading = leading_invariant(plan, entry, end);
        let mut hoisted = Vec::new();
        for (&slot, seen) in &constant {
            let Some((value, first)) = *seen else { continue };
            if live_in[entry].contains(slot) {
                continue;
            }
            let mut writes_moved = 0;
            let body = entry + leading..end;
            for (op, gone) in plan.ops[body.clone()].iter().zip(&mut gone[body]) {
                if let Op::Const { dst, .. } = *op
                    && dst == slot
                {
                    *gone = true;
                    writes_moved += 1;
                }
            }
            if writes_moved > 0 {
                moved += writes_moved;
                // A leading write stays where it is, and stands for the others.
                if first >= entry + leading {
                    hoisted.push((Op::Const { dst: slot, value }, plan.spans[first]));
                }
            }
        }
        if !hoisted.is_empty() {
            inserts.push((entry, hoisted));
        }
    }
    if moved > 0 {
        rewrite(plan, &gone, inserts);
    }
    moved
}

/// How many of the ops from `entry` (before `end`) the executor runs once
/// per route ([`Op::is_route_invariant`]).
fn leading_invariant(plan: &Plan, entry: usize, end: usize) -> usize {
    plan.ops[entry.min(end)..end].iter().take_while(|op| op.is_route_invariant()).count()
}

/// The slots an op may write: those it always writes, and a match's captures.
fn writes(plan: &Plan, op: &Op, out: &mut Vec<Slot>) {
    kills(plan, op, out);
    if let Op::Match { captures, .. } = op {
        out.extend(captures.of(&plan.captures).iter().map(|&(_, s)| s));
    }
}

/// A set of slots.
#[derive(Clone, PartialEq)]
struct Slots(Vec<u64>);

impl Slots {
    fn new(n: usize) -> Slots {
        Slots(vec![0; n.div_ceil(64)])
    }
    fn insert(&mut self, s: Slot) {
        if s != NO_SLOT
            && let Some(w) = self.0.get_mut(usize::from(s) / 64)
        {
            *w |= 1 << (s.0 % 64);
        }
    }
    fn remove(&mut self, s: Slot) {
        if let Some(w) = self.0.get_mut(usize::from(s) / 64) {
            *w &= !(1 << (s.0 % 64));
        }
    }
    fn contains(&self, s: Slot) -> bool {
        self.0.get(usize::from(s) / 64).is_some_and(|w| w & (1 << (s.0 % 64)) != 0)
    }
    fn is_disjoint(&self, other: &Slots) -> bool {
        self.0.iter().zip(&other.0).all(|(a, b)| a & b == 0)
    }
    fn union(&mut self, other: &Slots) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }
}

/// The slots an op reads.
fn uses(plan: &Plan, op: &Op, out: &mut Slots) {
    match op {
        Op::Move { src, .. }
        | Op::Path { src, .. }
        | Op::Exists { src, .. }
        | Op::ParseJson { src, .. }
        | Op::ParseKlog { src, .. }
        | Op::Match { src, .. }
        | Op::Not { src, .. }
        | Op::JumpIfNotNull { src, .. }
        | Op::JumpIfNull { src, .. }
        | Op::JumpIfKind { src, .. } => out.insert(*src),
        Op::Present { mask, .. } => out.insert(*mask),
        Op::FirstPresent { items, .. } => items.of(&plan.firsts).iter().for_each(|&(s, _)| out.insert(s)),
        Op::Call { args, .. } => {
            for &s in args.of(&plan.args) {
                out.insert(s);
            }
        }
        Op::Compare { lhs, rhs, .. } => {
            out.insert(*lhs);
            out.insert(*rhs);
        }
        Op::Template { pieces, .. } => {
            for p in pieces.of(&plan.pieces) {
                if let uml_runtime::plan::Piece::Hole(s) = p {
                    out.insert(*s);
                }
            }
        }
        Op::Array { items, .. } => items.of(&plan.args).iter().for_each(|&s| out.insert(s)),
        Op::Object { entries, .. } => entries.of(&plan.entries).iter().for_each(|&(_, s)| out.insert(s)),
        Op::JumpIfFalse { cond, .. } => out.insert(*cond),
        Op::Emit => {
            plan.labels.iter().for_each(|l| out.insert(l.slot));
            plan.fields.iter().for_each(|f| out.insert(f.slot));
        }
        Op::Route { rule } => plan.rules[usize::from(*rule)].captures.iter().for_each(|&s| out.insert(s)),
        Op::Const { .. }
        | Op::Meta { .. }
        | Op::Jump { .. }
        | Op::BindError { .. }
        | Op::Drop { .. }
        | Op::Abort { .. }
        | Op::Unrouted => {}
    }
}

/// The slots an op always writes when it succeeds.
fn kills(plan: &Plan, op: &Op, out: &mut Vec<Slot>) {
    out.clear();
    match op {
        Op::Const { dst, .. }
        | Op::Meta { dst, .. }
        | Op::Move { dst, .. }
        | Op::FirstPresent { dst, .. }
        | Op::Path { dst, .. }
        | Op::Present { dst, .. }
        | Op::Exists { dst, .. }
        | Op::Call { dst, .. }
        | Op::Compare { dst, .. }
        | Op::Not { dst, .. }
        | Op::Template { dst, .. }
        | Op::Array { dst, .. }
        | Op::Object { dst, .. }
        | Op::Match { dst, .. } => out.push(*dst),
        Op::ParseJson { dst, members, .. } => {
            out.push(*dst);
            if let Some(m) = members {
                let n = plan.key_sets[m.keys as usize].len();
                out.extend((m.mask().0..m.member(n).0).map(Slot));
            }
        }
        Op::ParseKlog { dst, fields, whole, .. } => {
            if *whole {
                out.push(*dst);
            }
            let fields = fields.of(&plan.captures);
            out.extend(fields.iter().map(|&(_, s)| s));
        }
        Op::BindError { value, err } => {
            out.push(*value);
            out.push(*err);
        }
        _ => {}
    }
}

/// Ops whose only effect is writing their slots.
fn is_pure(op: &Op) -> bool {
    matches!(
        op,
        Op::Const { .. }
            | Op::Meta { .. }
            | Op::Move { .. }
            | Op::FirstPresent { .. }
            | Op::Path { .. }
            | Op::Present { .. }
            | Op::Exists { .. }
            | Op::Array { .. }
            | Op::Object { .. }
    )
}

/// Where control goes after op `i` on success.
fn successors(op: &Op, i: usize, out: &mut Vec<usize>) {
    out.clear();
    if !op.is_terminal() {
        out.push(i + 1);
    }
    if let Op::Jump { target }
    | Op::JumpIfFalse { target, .. }
    | Op::JumpIfNotNull { target, .. }
    | Op::JumpIfNull { target, .. }
    | Op::JumpIfKind { target, .. } = op
    {
        out.push(target.index());
    }
}

fn dead_stores(plan: &mut Plan) -> usize {
    match liveness(plan) {
        Some((_, dead)) => remove(plan, &dead),
        None => 0,
    }
}

/// The slots live on entry to each op (one more entry: past the last op),
/// and the pure ops whose writes nothing reads; `None` for a plan with an
/// edge that does not go forward.
fn liveness(plan: &Plan) -> Option<(Vec<Slots>, Vec<bool>)> {
    let n = plan.ops.len();
    let width = usize::from(plan.slot_count);
    // Every edge goes forward; a plan where one does not is left alone.
    let forward = plan.ops.iter().enumerate().all(|(i, op)| {
        let mut succ = Vec::new();
        successors(op, i, &mut succ);
        succ.iter().all(|&s| s > i) && op.fail().is_none_or(|f| f.index() > i)
    });
    if !forward {
        return None;
    }
    let empty = Slots::new(width);
    let mut live_in: Vec<Slots> = vec![empty.clone(); n + 1];
    let mut dead = vec![false; n];
    let mut succ = Vec::new();
    let mut kill = Vec::new();
    for i in (0..n).rev() {
        let op = &plan.ops[i];
        successors(op, i, &mut succ);
        let mut out = empty.clone();
        for &s in &succ {
            out.union(&live_in[s.min(n)]);
        }
        kills(plan, op, &mut kill);
        if is_pure(op) && !kill.is_empty() && kill.iter().all(|&s| !out.contains(s)) {
            dead[i] = true;
            live_in[i] = out;
            continue;
        }
        let mut live = out;
        for &s in &kill {
            live.remove(s);
        }
        uses(plan, op, &mut live);
        if let Some(f) = op.fail() {
            live.union(&live_in[f.index().min(n)]);
        }
        live_in[i] = live;
    }
    Some((live_in, dead))
}

/// The most ops one jump is threaded past.
const THREAD_STEPS: usize = 32;

/// Retargets jumps past the ops their known values decide (see the module
/// documentation); returns how many jumps moved.
fn thread_jumps(plan: &mut Plan) -> usize {
    let Some((live_in, _)) = liveness(plan) else { return 0 };
    let n = plan.ops.len();
    // Ops that control reaches other than from the op before them.
    let mut entered = vec![false; n + 1];
    entered[plan.route_entry.index().min(n)] = true;
    for rule in &plan.rules {
        entered[rule.entry.index().min(n)] = true;
    }
    let mut succ = Vec::new();
    for (i, op) in plan.ops.iter().enumerate() {
        successors(op, i, &mut succ);
        for &s in &succ {
            if s != i + 1 {
                entered[s.min(n)] = true;
            }
        }
        if let Some(f) = op.fail() {
            entered[f.index().min(n)] = true;
        }
    }
    let mut moved = 0;
    let mut known: Vec<(Slot, Fact)> = Vec::new();
    for (i, &entered) in entered[..n].iter().enumerate() {
        // A failure edge: the handler's ops (a `let …, err` binding tested
        // for null right away) decide where the failure leads.
        if let Some(fail) = plan.ops[i].fail() {
            known.clear();
            let to = thread(plan, &live_in, fail.index(), &mut known);
            if to != fail.index()
                && let Some(edge) = plan.ops[i].fail_mut()
            {
                *edge = Some(FailEdge::to(OpId(to as u32)));
                moved += 1;
            }
        }
        let Op::Jump { target } = plan.ops[i] else { continue };
        known.clear();
        if i > 0
            && !entered
            && let Op::Const { dst, value } = plan.ops[i - 1]
        {
            known.push((dst, Fact::Is(value)));
        }
        let to = thread(plan, &live_in, target.index(), &mut known);
        if to != target.index() {
            plan.ops[i] = Op::Jump { target: OpId(to as u32) };
            moved += 1;
        }
    }
    moved
}

/// What threading knows of a slot.
#[derive(Clone, Copy)]
enum Fact {
    /// It holds this constant.
    Is(Value),
    /// It holds something other than null (a bound error's message).
    NotNull,
}

/// Follows the ops from `from` while `known` decides them; returns the
/// furthest op reached where nothing the followed ops wrote is live.
fn thread(plan: &Plan, live_in: &[Slots], from: usize, known: &mut Vec<(Slot, Fact)>) -> usize {
    let n = plan.ops.len();
    let get = |known: &[(Slot, Fact)], s: Slot| known.iter().rev().find(|(k, _)| *k == s).map(|&(_, v)| v);
    let constant = |known: &[(Slot, Fact)], s: Slot| match get(known, s) {
        Some(Fact::Is(v)) => Some(v),
        _ => None,
    };
    let mut written = Slots::new(usize::from(plan.slot_count));
    let mut best = from;
    let mut p = from;
    for _ in 0..THREAD_STEPS {
        if p >= n {
            break;
        }
        if p != from && written.is_disjoint(&live_in[p]) {
            best = p;
        }
        p = match plan.ops[p] {
            Op::Const { dst, value } => {
                known.push((dst, Fact::Is(value)));
                written.insert(dst);
                p + 1
            }
            Op::BindError { value, err } => {
                known.push((value, Fact::Is(Value::Null)));
                known.push((err, Fact::NotNull));
                written.insert(value);
                written.insert(err);
                p + 1
            }
            Op::Jump { target } => target.index(),
            Op::JumpIfNull { src, target } => match get(known, src) {
                Some(Fact::Is(Value::Null)) => target.index(),
                Some(_) => p + 1,
                None => break,
            },
            Op::JumpIfNotNull { src, target } => match get(known, src) {
                Some(Fact::Is(Value::Null)) => p + 1,
                Some(_) => target.index(),
                None => break,
            },
            Op::Compare { dst, cmp: cmp @ (Cmp::Eq | Cmp::Ne), lhs, rhs, .. } => {
                let equal = match (get(known, lhs), get(known, rhs)) {
                    (Some(Fact::Is(l)), Some(Fact::Is(r))) => const_equal(plan, l, r),
                    (Some(Fact::NotNull), Some(Fact::Is(Value::Null)))
                    | (Some(Fact::Is(Value::Null)), Some(Fact::NotNull)) => Some(false),
                    _ => None,
                };
                let Some(equal) = equal else { break };
                known.push((dst, Fact::Is(Value::Bool(equal == (cmp == Cmp::Eq)))));
                written.insert(dst);
                p + 1
            }
            Op::JumpIfFalse { cond, target, .. } => match constant(known, cond) {
                Some(Value::Bool(true)) => p + 1,
                Some(Value::Bool(false)) => target.index(),
                _ => break,
            },
            _ => break,
        };
    }
    if p < n && p != from && written.is_disjoint(&live_in[p]) {
        best = p;
    }
    best
}

/// Whether two constants are equal, as the executor compares them; `None`
/// for the kinds this pass does not decide.
fn const_equal(plan: &Plan, l: Value, r: Value) -> Option<bool> {
    match (l, r) {
        (Value::Str(x), Value::Str(y)) => Some(plan.const_str(x) == plan.const_str(y)),
        (Value::Null | Value::Bool(_) | Value::Int(_), Value::Null | Value::Bool(_) | Value::Int(_)) => Some(l == r),
        (Value::Null, Value::Str(_)) | (Value::Str(_), Value::Null) => Some(false),
        _ => None,
    }
}

fn unreachable(plan: &mut Plan) -> usize {
    let n = plan.ops.len();
    let mut reached = vec![false; n];
    let mut stack: Vec<usize> = vec![plan.route_entry.index()];
    stack.extend(plan.rules.iter().map(|r| r.entry.index()));
    let mut succ = Vec::new();
    while let Some(i) = stack.pop() {
        if i >= n || reached[i] {
            continue;
        }
        reached[i] = true;
        successors(&plan.ops[i], i, &mut succ);
        stack.extend(&succ);
        if let Some(f) = plan.ops[i].fail() {
            stack.push(f.index());
        }
    }
    let mut gone: Vec<bool> = reached.iter().map(|r| !r).collect();
    // A jump to the op right after it (once the ops between are gone) does nothing.
    for i in 0..n {
        if let Op::Jump { target }
        | Op::JumpIfNotNull { target, .. }
        | Op::JumpIfNull { target, .. }
        | Op::JumpIfKind { target, .. } = plan.ops[i]
            && (i + 1..target.index()).all(|j| gone.get(j).copied().unwrap_or(true))
        {
            gone[i] = true;
        }
    }
    remove(plan, &gone)
}

/// Removes the ops marked `gone`, renumbering every jump, handler and entry.
fn remove(plan: &mut Plan, gone: &[bool]) -> usize {
    let count = gone.iter().filter(|g| **g).count();
    if count == 0 {
        return 0;
    }
    rewrite(plan, gone, Vec::new());
    count
}

/// Removes the ops marked `gone` and puts each of `inserts` (ascending by
/// position) before the op at its position, renumbering every jump, handler
/// and entry: a rule's entry moves to its inserted ops, a jump to an op stays
/// on that op (or goes to the first kept op after a removed one).
fn rewrite(plan: &mut Plan, gone: &[bool], inserts: Vec<(usize, Vec<(Op, SpanRef)>)>) {
    let n = gone.len();
    // before[i]: where op i's inserted ops start; after[i]: op i itself (or
    // the first kept op after it).
    let mut before = Vec::with_capacity(n + 1);
    let mut after = Vec::with_capacity(n + 1);
    let mut at = 0u32;
    let mut next_insert = inserts.iter().peekable();
    for &g in gone {
        before.push(at);
        if let Some((_, ops)) = next_insert.next_if(|(i, _)| *i == before.len() - 1) {
            at += ops.len() as u32;
        }
        after.push(at);
        if !g {
            at += 1;
        }
    }
    before.push(at);
    after.push(at);
    let map = |i: OpId| OpId(after[i.index().min(n)]);
    let ops = std::mem::take(&mut plan.ops);
    let spans = std::mem::take(&mut plan.spans);
    let mut next_insert = inserts.into_iter().peekable();
    for (i, (mut op, span)) in ops.into_iter().zip(spans).enumerate() {
        if let Some((_, inserted)) = next_insert.next_if(|(at, _)| *at == i) {
            for (op, span) in inserted {
                plan.ops.push(op);
                plan.spans.push(span);
            }
        }
        if gone[i] {
            continue;
        }
        if let Some(t) = op.target_mut() {
            *t = map(*t);
        }
        op.map_fail(map);
        plan.ops.push(op);
        plan.spans.push(span);
    }
    plan.route_entry = OpId(before[plan.route_entry.index().min(n)]);
    for r in &mut plan.rules {
        r.entry = OpId(before[r.entry.index().min(n)]);
        r.end = OpId(before[r.end.index().min(n)]);
    }
}
