//! [`Builder`]: how a plan is made (`plan::Builder`).

use regex::Regex;

use crate::json::KeySet;
use crate::plan::{
    AbortSite, Consts, DropSite, FailEdge, FieldPlan, FirstBytes, LabelPlan, Op, OpId, Piece, Plan, RegexIdiom,
    RegexSplit, RulePlan, Run, Segment, Slot, SpanRef, Text,
};
use crate::stdlib::timestamp::TimestampFormat;

/// How a [`Plan`] is made.
///
/// The compiler's lowering adds ops one after the other and asks the builder
/// for the places of what they refer to: constant texts, regexes, timestamp
/// formats, JSON key sets, paths, runs of side-table entries (call
/// arguments, template pieces, object entries, captures), drop and abort
/// sites. Only the builder knows how those tables are laid out; lowering
/// holds the numbers and [`Run`]s it hands out. A jump or a failure edge to
/// an op not emitted yet goes to a [`Mark`] ([`Builder::mark`], placed
/// with [`Builder::place`], used with [`Builder::emit_to`]); the op's own
/// field holds no number until [`Builder::finish`] resolves every mark and
/// puts the plan together, with what the executor derives from the schema
/// (the order in which `max_record_size` cuts fields).
#[derive(Debug, Default)]
pub struct Builder {
    ops: Vec<Op>,
    spans: Vec<SpanRef>,
    consts: Consts,
    regexes: Vec<Regex>,
    regex_splits: Vec<Option<RegexSplit>>,
    regex_idioms: Vec<Option<RegexIdiom>>,
    regex_starts: Vec<Option<FirstBytes>>,
    formats: Vec<(String, Option<TimestampFormat>)>,
    key_sets: Vec<KeySet>,
    paths: Vec<Vec<Segment>>,
    args: Vec<Slot>,
    pieces: Vec<Piece>,
    entries: Vec<(Text, Slot)>,
    captures: Vec<(u16, Slot)>,
    firsts: Vec<(Slot, Option<u32>)>,
    drops: Vec<DropSite>,
    aborts: Vec<AbortSite>,
    rules: Vec<RulePlan>,
    /// Mark → the op it was placed at.
    marks: Vec<Option<OpId>>,
    /// Edges to marks: the op, which of its edges, the mark.
    edges: Vec<(OpId, Edge, Mark)>,
}

/// A place among the ops, named before the op there is emitted: the target
/// of a jump or of a failure edge while a plan is built (a compiler's label;
/// "label" in this crate is a Loki label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark(u32);

/// Which edge of an op goes to a mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Edge {
    Target,
    Fail,
}

/// What an edge holds until [`Builder::finish`] resolves its mark.
const UNRESOLVED: OpId = OpId(u32::MAX);

/// Appends `items` to `table`: the run they take.
fn append<T>(table: &mut Vec<T>, items: impl IntoIterator<Item = T>) -> Run {
    let start = table.len();
    table.extend(items);
    Run::new(start, table.len() - start)
}

impl Builder {
    pub fn new() -> Builder {
        Builder::default()
    }

    /// The number the next op will have.
    pub fn next_op(&self) -> OpId {
        OpId(self.ops.len() as u32)
    }

    /// Adds an op, from source text at `span` (for `uml explain`).
    pub fn emit(&mut self, op: Op, span: SpanRef) {
        self.ops.push(op);
        self.spans.push(span);
    }

    /// A new mark, to be placed once.
    pub fn mark(&mut self) -> Mark {
        self.marks.push(None);
        Mark(self.marks.len() as u32 - 1)
    }

    /// Places `mark` at the next op.
    pub fn place(&mut self, mark: Mark) {
        let at = self.next_op();
        let slot = &mut self.marks[mark.0 as usize];
        debug_assert!(slot.is_none(), "a mark placed twice");
        *slot = Some(at);
    }

    /// Emits `op` with its jump target at `target` and its failure edge to
    /// `fail` (`None`: the op's own field, a known op or no edge). Only an op
    /// with a jump target may have a `target`, and only an op that can fail
    /// a `fail`.
    pub fn emit_to(&mut self, mut op: Op, target: Option<Mark>, fail: Option<Mark>, span: SpanRef) {
        let at = self.next_op();
        if let Some(mark) = target {
            match op.target_mut() {
                Some(t) => *t = UNRESOLVED,
                None => debug_assert!(false, "a jump target for an op that does not jump: {op:?}"),
            }
            self.edges.push((at, Edge::Target, mark));
        }
        if let Some(mark) = fail {
            match op.fail_mut() {
                Some(edge) => *edge = Some(FailEdge::to(UNRESOLVED)),
                None => debug_assert!(false, "a failure edge for an op that cannot fail: {op:?}"),
            }
            self.edges.push((at, Edge::Fail, mark));
        }
        self.emit(op, span);
    }

    /// A constant text.
    pub fn text(&mut self, s: &str) -> Text {
        self.consts.text(s)
    }

    /// The regex `pattern`, compiled once however often it is asked for;
    /// `idiom` says what it is, when the executor can answer it without
    /// running it.
    /// `first` gives the bytes a match starts with, when known
    /// ([`Plan::regex_starts`](crate::plan::Plan::regex_starts)).
    pub fn regex(
        &mut self,
        pattern: &str,
        idiom: impl FnOnce() -> Option<RegexIdiom>,
        first: impl FnOnce() -> Option<FirstBytes>,
    ) -> Result<u32, regex::Error> {
        if let Some(i) = self.regexes.iter().position(|r| r.as_str() == pattern) {
            return Ok(i as u32);
        }
        self.regexes.push(Regex::new(pattern)?);
        self.regex_splits.push(None);
        self.regex_idioms.push(idiom());
        self.regex_starts.push(first());
        Ok(self.regexes.len() as u32 - 1)
    }

    /// The regex numbered `i`.
    pub fn regex_at(&self, i: u32) -> Option<&Regex> {
        self.regexes.get(i as usize)
    }

    /// Whether the regex `whole` is already split ([`RegexSplit`]).
    pub fn is_split(&self, whole: u32) -> bool {
        self.regex_splits.get(whole as usize).is_some_and(Option::is_some)
    }

    /// Splits the regex `whole`: its captures are run on `split.head`.
    pub fn split_regex(&mut self, whole: u32, split: RegexSplit) {
        if let Some(s) = self.regex_splits.get_mut(whole as usize) {
            *s = Some(split);
        }
    }

    /// A `parse_timestamp` format, compiled when it compiles.
    pub fn format(&mut self, format: &str) -> u32 {
        self.formats.push((format.to_string(), TimestampFormat::compile(format).ok()));
        self.formats.len() as u32 - 1
    }

    /// The keys a `parse_json` extracts.
    pub fn key_set(&mut self, keys: impl IntoIterator<Item = impl Into<Box<str>>>) -> u32 {
        self.key_sets.push(KeySet::new(keys));
        self.key_sets.len() as u32 - 1
    }

    /// A path, kept once however often it is asked for.
    pub fn path(&mut self, path: Vec<Segment>) -> u32 {
        if let Some(i) = self.paths.iter().position(|p| *p == path) {
            return i as u32;
        }
        self.paths.push(path);
        self.paths.len() as u32 - 1
    }

    /// The slots of a call's arguments or of an array's items.
    pub fn args(&mut self, slots: impl IntoIterator<Item = Slot>) -> Run {
        append(&mut self.args, slots)
    }

    /// A template's pieces.
    pub fn pieces(&mut self, pieces: impl IntoIterator<Item = Piece>) -> Run {
        append(&mut self.pieces, pieces)
    }

    /// An object literal's entries.
    pub fn entries(&mut self, entries: impl IntoIterator<Item = (Text, Slot)>) -> Run {
        append(&mut self.entries, entries)
    }

    /// Capture groups (or `parse_klog` fields) and the slots they go to.
    pub fn captures(&mut self, captures: impl IntoIterator<Item = (u16, Slot)>) -> Run {
        append(&mut self.captures, captures)
    }

    /// The reads of a `??` chain ([`Op::FirstPresent`]).
    pub fn firsts(&mut self, items: impl IntoIterator<Item = (Slot, Option<u32>)>) -> Run {
        append(&mut self.firsts, items)
    }

    /// A `drop` of a rule.
    pub fn drop_site(&mut self, site: DropSite) -> u32 {
        self.drops.push(site);
        self.drops.len() as u32 - 1
    }

    /// Where a failure aborts a line.
    pub fn abort_site(&mut self, site: AbortSite) -> u32 {
        self.aborts.push(site);
        self.aborts.len() as u32 - 1
    }

    /// A rule, whose ops are `rule.entry..rule.end`.
    pub fn rule(&mut self, rule: RulePlan) {
        self.rules.push(rule);
    }

    /// The plan, every mark resolved, routing starting at `route_entry`.
    pub fn finish(self, route_entry: OpId, labels: Vec<LabelPlan>, fields: Vec<FieldPlan>, slot_count: u16) -> Plan {
        let mut ops = self.ops;
        for (at, edge, mark) in self.edges {
            let placed = self.marks[mark.0 as usize];
            // A mark never placed is a compiler bug; its edges go past the
            // last op, where the executor stops the line (counted as not
            // taken by any rule), not to some op that would run on.
            debug_assert!(placed.is_some(), "mark {} was never placed", mark.0);
            let to = placed.unwrap_or(OpId(ops.len() as u32));
            let op = &mut ops[at.index()];
            match edge {
                Edge::Target => {
                    if let Some(t) = op.target_mut() {
                        *t = to;
                    }
                }
                Edge::Fail => op.map_fail(|_| to),
            }
        }
        let cuttable = crate::exec::CUT_ORDER
            .iter()
            .filter_map(|n| fields.iter().position(|f| f.name == *n))
            .map(|i| i as u16)
            .collect();
        Plan {
            ops,
            spans: self.spans,
            route_entry,
            rules: self.rules,
            labels,
            fields,
            cuttable,
            consts: self.consts.finish(),
            regexes: self.regexes,
            regex_splits: self.regex_splits,
            regex_idioms: self.regex_idioms,
            regex_starts: self.regex_starts,
            formats: self.formats,
            key_sets: self.key_sets,
            paths: self.paths,
            args: self.args,
            pieces: self.pieces,
            entries: self.entries,
            captures: self.captures,
            firsts: self.firsts,
            drops: self.drops,
            aborts: self.aborts,
            slot_count,
        }
    }
}
