//! The flat passes over a lowered [`Plan`]: dead stores, unreachable ops,
//! and jumps to the next op.
//!
//! Control flow only goes forward (the language has no loops), so one
//! backward sweep computes exact liveness: every successor of an op comes
//! after it. An op is a dead store when it has no effect but writing slots
//! and nothing reads those slots afterwards on any path; an `Emit` reads
//! every output slot, a `Route` the captures its rule keeps. Ops that can
//! fail are kept even when their result is dead, because their failure
//! changes where control goes.
//!
//! The passes run until nothing changes, since removing one op can make
//! another dead.

use super::LowerStats;
use uml_runtime::plan::{NO_SLOT, Op, OpId, Plan, Slot};

pub fn optimize(plan: &mut Plan, stats: &mut LowerStats) {
    // Ten rounds is far more than real rules need; the bound keeps the
    // compile time linear whatever the input.
    for _ in 0..10 {
        let dead = dead_stores(plan);
        let unreachable = unreachable(plan);
        stats.dead_stores += dead;
        stats.unreachable += unreachable;
        if dead + unreachable == 0 {
            break;
        }
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
    let n = plan.ops.len();
    let width = usize::from(plan.slot_count);
    // Every edge goes forward; a plan where one does not is left alone.
    let forward = plan.ops.iter().enumerate().all(|(i, op)| {
        let mut succ = Vec::new();
        successors(op, i, &mut succ);
        succ.iter().all(|&s| s > i) && op.fail().is_none_or(|f| f.index() > i)
    });
    if !forward {
        return 0;
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
    remove(plan, &dead)
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
    // new_index[i]: the index op i (or the first kept op after it) gets.
    let mut new_index = Vec::with_capacity(gone.len() + 1);
    let mut kept = 0u32;
    for &g in gone {
        new_index.push(kept);
        if !g {
            kept += 1;
        }
    }
    new_index.push(kept);
    let map = |i: OpId| OpId(new_index[i.index().min(gone.len())]);
    let ops = std::mem::take(&mut plan.ops);
    let spans = std::mem::take(&mut plan.spans);
    for (i, (mut op, span)) in ops.into_iter().zip(spans).enumerate() {
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
    plan.route_entry = map(plan.route_entry);
    for r in &mut plan.rules {
        r.entry = map(r.entry);
        r.end = map(r.end);
    }
    count
}
