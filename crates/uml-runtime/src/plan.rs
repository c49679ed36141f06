//! The plan: what the compiler lowers a checked rule set into, and what the
//! executor ([`crate::exec`]) runs.
//!
//! A plan is flat. Every rule is a run of [`Op`]s in one arena; an op reads
//! and writes numbered slots, and control flow is forward jumps only (the
//! language has no loops), so a rule runs in time linear in its size. An
//! op that can fail (the checker says which) names the op that handles the
//! failure: the next operand of a `??`, the [`Op::BindError`] of a
//! `let x, err = …`, or an [`Op::Abort`]; an op that cannot fail names none
//! (if one fails all the same, that is a bug in uml, and the line aborts at
//! its rule's [`RulePlan::unhandled`] site). A line whose values outgrow the
//! executor's working memory is not a failure a rule handles: it is dropped
//! as too large ([`crate::exec::Outcome::TooLarge`]). Literal arguments (regexes, timestamp formats, level
//! scales, JSON keys) are prepared once, here, at build time.
//!
//! A plan holds no references: it is immutable, `Send` and `Sync`, and one
//! plan serves every thread. The ops carry no source spans; what the
//! executor needs to name a runtime error (the rule, the function,
//! `file:line:col`) is in the side tables [`Plan::aborts`] and
//! [`Plan::drops`], and [`Plan::spans`] maps every op back to its source
//! span for `uml explain`. The executor never reads `spans`.

pub use crate::plan_build::{Builder, Mark};

use crate::group::GroupConfig;
use crate::json::JsonKind;
use crate::stdlib::level::Scale;
use crate::stdlib::timestamp::TimestampFormat;
use std::fmt;

/// A slot number. Slots hold [`Value`]s; a rule's slots are laid out as
/// outputs (labels, fields, extras, at the same numbers in every rule), then
/// variables, then temporaries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot(pub u16);

impl Slot {
    /// The slot's index in the executor's slots.
    #[inline]
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl From<Slot> for usize {
    #[inline]
    fn from(s: Slot) -> usize {
        s.index()
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${}", self.0)
    }
}

/// An index into [`Plan::ops`]: a jump target or a failure edge. While a
/// plan is built, an edge to an op not emitted yet is a [`Mark`] kept by
/// the [`Builder`], never a number here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(pub u32);

impl OpId {
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Where a failing op goes: the op that handles the failure. Stored as
/// the op's number plus one, so that `Option<FailEdge>` (an op that cannot
/// fail has none) is as small as an `OpId` and ops stay 24 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FailEdge(std::num::NonZeroU32);

impl FailEdge {
    /// The edge to `op`.
    #[inline]
    pub fn to(op: OpId) -> FailEdge {
        FailEdge(std::num::NonZeroU32::MIN.saturating_add(op.0))
    }

    /// The op it goes to.
    #[inline]
    pub fn op(self) -> OpId {
        OpId(self.0.get() - 1)
    }
}

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Which buffer a [`Text`] points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Buf {
    /// The line (or group) being transformed: `%line`.
    Line,
    /// The traceback grouped with it: `%traceback`.
    Traceback,
    /// The executor's per-line scratch: computed strings and JSON.
    Scratch,
    /// The plan's constants ([`Plan::consts`]).
    Const,
    /// The file's metadata and what routing computed from it ([`crate::exec::Route`]).
    File,
}

/// A range of UTF-8 text in one of the buffers. Offsets, not references, so
/// that values need no lifetime and the scratch can grow while slots point
/// into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Text {
    pub buf: Buf,
    pub start: u32,
    pub end: u32,
}

impl Text {
    pub const EMPTY: Text = Text { buf: Buf::Const, start: 0, end: 0 };

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

/// A value in a slot. `Copy`, and borrowing nothing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Decoded text.
    Str(Text),
    /// A JSON string, not decoded: the body between the quotes, escapes
    /// kept, with what the scanner saw in it. Scalars read out of JSON become
    /// `Null`, `Bool`, `Int`, `Float` (and `NaN`/`Infinity` strings), so
    /// these two are the only JSON a slot holds.
    JsonStr(Text, StrFlags),
    /// A JSON array or object: its whole text.
    JsonContainer(Text, Container),
}

/// What the JSON scanner saw in a string's body ([`crate::json::RawValue`]'s
/// flags: an escape, a `\u` escape, a raw control character).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StrFlags(pub u8);

impl StrFlags {
    /// Whether any flag of `mask` (`RawValue::ESCAPED`, …) is set.
    #[inline]
    pub fn any(self, mask: u8) -> bool {
        self.0 & mask != 0
    }
}

/// The kind of a [`Value::JsonContainer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    Array,
    Object,
}

impl Container {
    pub fn kind(self) -> JsonKind {
        match self {
            Container::Array => JsonKind::Array,
            Container::Object => JsonKind::Object,
        }
    }
}

impl Value {
    /// The name of the value's kind, as error messages say it.
    pub fn kind(self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) | Value::JsonStr(..) => "string",
            Value::JsonContainer(_, Container::Array) => "array",
            Value::JsonContainer(_, Container::Object) => "object",
        }
    }

    pub fn is_string(self) -> bool {
        matches!(self, Value::Str(_) | Value::JsonStr(..))
    }
}

/// Line metadata (`%name`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Meta {
    Line,
    Traceback,
    Stream,
    Timestamp,
    Pod,
    Namespace,
    Container,
    ContainerId,
    File,
}

impl Meta {
    pub const ALL: [(&'static str, Meta); 9] = [
        ("line", Meta::Line),
        ("traceback", Meta::Traceback),
        ("stream", Meta::Stream),
        ("timestamp", Meta::Timestamp),
        ("pod", Meta::Pod),
        ("namespace", Meta::Namespace),
        ("container", Meta::Container),
        ("container_id", Meta::ContainerId),
        ("file", Meta::File),
    ];

    pub fn name(self) -> &'static str {
        Meta::ALL.iter().find(|(_, m)| *m == self).map_or("?", |(n, _)| n)
    }

    /// Whether the value is the same for every line of a file (and stream),
    /// so that routing may read it.
    pub fn per_file(self) -> bool {
        !matches!(self, Meta::Line | Meta::Traceback | Meta::Timestamp)
    }
}

pub use crate::stdlib::Func;

impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The kind tests a branch does without a call: `is_object` and
/// `is_string` (`is_null` is [`Op::JumpIfNull`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindTest {
    Object,
    String,
}

impl KindTest {
    /// Whether `v` is of the kind: what `is_object(v)` and `is_string(v)`
    /// return.
    #[inline]
    pub fn holds(self, v: Value) -> bool {
        match self {
            KindTest::Object => matches!(v, Value::JsonContainer(_, Container::Object)),
            KindTest::String => v.is_string(),
        }
    }

    /// The function's name.
    pub fn name(self) -> &'static str {
        match self {
            KindTest::Object => "is_object",
            KindTest::String => "is_string",
        }
    }
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    pub fn as_str(self) -> &'static str {
        match self {
            Cmp::Eq => "==",
            Cmp::Ne => "!=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }
}

/// The members of the object `parse_klog` returns, in its order.
pub const KLOG_FIELDS: [&str; 6] = ["level", "timestamp", "id", "file", "line", "message"];

/// No slot: an omitted optional argument.
pub const NO_SLOT: Slot = Slot(u16::MAX);

/// Where the parsed members of a composite go (field pushdown): the value of
/// key `keys[i]` goes to slot `base + i`, and slot `base - 1` gets a bitmask
/// (an `Int`) of the keys that were present, for `exists`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Members {
    /// Index into [`Plan::key_sets`].
    pub keys: u32,
    /// The first member's slot; the mask of present members is in the slot
    /// before it.
    pub base: Slot,
}

impl Members {
    /// The slot of the `i`th key's value.
    pub fn member(self, i: usize) -> Slot {
        Slot(self.base.0 + i as u16)
    }

    /// The slot of the mask of present keys (bit `i` for the `i`th).
    pub fn mask(self) -> Slot {
        Slot(self.base.0 - 1)
    }
}

/// A set of bytes: those a regex's match must start with
/// ([`Plan::regex_starts`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FirstBytes(pub [u64; 4]);

impl FirstBytes {
    pub fn insert(&mut self, b: u8) {
        self.0[usize::from(b >> 6)] |= 1 << (b & 63);
    }

    #[inline]
    pub fn contains(self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] & (1 << (b & 63)) != 0
    }

    /// Whether `text` may be matched: it starts with one of the bytes.
    #[inline]
    pub fn admits(self, text: &[u8]) -> bool {
        text.first().is_some_and(|&b| self.contains(b))
    }
}

/// A path segment.
#[derive(Clone, Debug, PartialEq)]
pub enum Segment {
    Key(String),
    Index(i64),
}

/// A piece of a template.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Piece {
    Text(Text),
    Hole(Slot),
}

/// A literal argument prepared at build time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aux {
    None,
    /// Index into [`Plan::regexes`].
    Regex(u32),
    /// Index into [`Plan::formats`].
    Format(u32),
    Scale(Option<Scale>),
}

/// One instruction.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `dst = value` (texts of constants are in [`Buf::Const`]).
    Const {
        dst: Slot,
        value: Value,
    },
    /// `dst = %meta`.
    Meta {
        dst: Slot,
        meta: Meta,
    },
    Move {
        dst: Slot,
        src: Slot,
    },
    /// `dst` = the first of [`Plan::firsts`]`[items]` that is not null (a
    /// slot, or a path from it), else null: a `??` chain of reads, which
    /// cannot fail, in one op. Never fails.
    FirstPresent {
        dst: Slot,
        items: Run,
    },
    /// `dst = src.seg…` over [`Plan::paths`]`[path]`; never fails.
    Path {
        dst: Slot,
        src: Slot,
        path: u32,
    },
    /// `dst = bit` of the presence mask in `mask` (an `exists` on a member).
    Present {
        dst: Slot,
        mask: Slot,
        bit: u8,
    },
    /// `dst = exists(src.seg…)`: whether the last segment is there, even as null.
    Exists {
        dst: Slot,
        src: Slot,
        path: u32,
    },
    /// `dst = func(args…)`; `args` indexes [`Plan::args`], `NO_SLOT` for an
    /// omitted optional argument.
    Call {
        dst: Slot,
        func: Func,
        args: Run,
        aux: Aux,
        fail: Option<FailEdge>,
    },
    /// `dst = parse_json(src)`, with the wanted members extracted in the same
    /// pass over the bytes.
    ParseJson {
        dst: Slot,
        src: Slot,
        members: Option<Members>,
        fail: Option<FailEdge>,
    },
    /// `dst = parse_klog(src)`; the fields of [`Plan::captures`]`[fields]`
    /// (`(field, slot)`, fields numbered as [`KLOG_FIELDS`]) go straight to
    /// slots, and the object itself is built only when `whole` (when `dst`
    /// is read as a whole).
    ParseKlog {
        dst: Slot,
        src: Slot,
        fields: Run,
        whole: bool,
        fail: Option<FailEdge>,
    },
    /// `dst = src =~ regex` (negated for `!~`); on a match, the groups of
    /// [`Plan::captures`]`[captures]` are written to their slots.
    Match {
        dst: Slot,
        src: Slot,
        regex: u32,
        negate: bool,
        captures: Run,
        fail: Option<FailEdge>,
    },
    Compare {
        dst: Slot,
        cmp: Cmp,
        lhs: Slot,
        rhs: Slot,
        fail: Option<FailEdge>,
    },
    /// `dst = !src`; fails when `src` is not a bool.
    Not {
        dst: Slot,
        src: Slot,
        fail: Option<FailEdge>,
    },
    /// `dst = "…{hole}…"` over [`Plan::pieces`].
    Template {
        dst: Slot,
        pieces: Run,
        fail: Option<FailEdge>,
    },
    /// `dst = [slots…]` over [`Plan::args`].
    Array {
        dst: Slot,
        items: Run,
    },
    /// `dst = {key: slot…}` over [`Plan::entries`].
    Object {
        dst: Slot,
        entries: Run,
    },
    Jump {
        target: OpId,
    },
    /// Jumps when `cond` is false; fails when it is not a bool.
    JumpIfFalse {
        cond: Slot,
        target: OpId,
        fail: Option<FailEdge>,
    },
    /// Jumps when `src` is not null (the end of a `??` operand, `x == null`).
    JumpIfNotNull {
        src: Slot,
        target: OpId,
    },
    /// Jumps when `src` is null (`x != null`).
    JumpIfNull {
        src: Slot,
        target: OpId,
    },
    /// Jumps when `kind.holds(src)` is `when`: `if is_object(j)` and
    /// `if !is_string(x)` as one op, which cannot fail.
    JumpIfKind {
        src: Slot,
        kind: KindTest,
        when: bool,
        target: OpId,
    },
    /// The handler of `let value, err = …`: `value = null`, `err = ` the
    /// pending error message.
    BindError {
        value: Slot,
        err: Slot,
    },
    /// Stops: the record is written from the output slots.
    Emit,
    /// Stops: the line is dropped, [`Plan::drops`]`[site]` says why.
    Drop {
        site: u32,
    },
    /// Stops: a failure nothing handles; [`Plan::aborts`]`[site]`.
    Abort {
        site: u32,
    },
    /// Routing: the line belongs to rule `rule`.
    Route {
        rule: u16,
    },
    /// Routing: no rule takes the line.
    Unrouted,
}

impl Op {
    /// The op's failure handler, if it can fail.
    pub fn fail(&self) -> Option<OpId> {
        match *self {
            Op::Call { fail, .. }
            | Op::ParseJson { fail, .. }
            | Op::ParseKlog { fail, .. }
            | Op::Match { fail, .. }
            | Op::Compare { fail, .. }
            | Op::Not { fail, .. }
            | Op::Template { fail, .. }
            | Op::JumpIfFalse { fail, .. } => fail.map(FailEdge::op),
            _ => None,
        }
    }

    /// Moves the op's failure edge, if it has one, to `f(target)`.
    pub fn map_fail(&mut self, f: impl FnOnce(OpId) -> OpId) {
        if let Some(Some(edge)) = self.fail_mut() {
            *edge = FailEdge::to(f(edge.op()));
        }
    }

    /// The failure edge, for ops that can fail.
    pub fn fail_mut(&mut self) -> Option<&mut Option<FailEdge>> {
        match self {
            Op::Call { fail, .. }
            | Op::ParseJson { fail, .. }
            | Op::ParseKlog { fail, .. }
            | Op::Match { fail, .. }
            | Op::Compare { fail, .. }
            | Op::Not { fail, .. }
            | Op::Template { fail, .. }
            | Op::JumpIfFalse { fail, .. } => Some(fail),
            _ => None,
        }
    }

    /// The jump target, for ops that may jump on success.
    pub fn target_mut(&mut self) -> Option<&mut OpId> {
        match self {
            Op::Jump { target }
            | Op::JumpIfFalse { target, .. }
            | Op::JumpIfNotNull { target, .. }
            | Op::JumpIfNull { target, .. }
            | Op::JumpIfKind { target, .. } => Some(target),
            _ => None,
        }
    }

    /// Whether the op, among a rule's leading ops, runs once per route
    /// instead of once per line (the executor's `hoist`): a constant, the
    /// file's metadata, or a copy of what such ops and the route's captures
    /// wrote.
    pub fn is_route_invariant(&self) -> bool {
        match self {
            Op::Const { .. } | Op::Move { .. } => true,
            Op::Meta { meta, .. } => {
                matches!(
                    meta,
                    Meta::Stream | Meta::Pod | Meta::Namespace | Meta::Container | Meta::ContainerId | Meta::File
                )
            }
            _ => false,
        }
    }

    /// Whether control never falls through to the next op.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Op::Emit | Op::Drop { .. } | Op::Abort { .. } | Op::Route { .. } | Op::Unrouted | Op::Jump { .. }
        )
    }
}

/// Where a `drop` is, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct DropSite {
    pub rule: u16,
    pub reason: String,
}

/// Where a line can be aborted: an `f!(…)` call, or (a bug the checker
/// should have caught) a failure nothing handles.
#[derive(Clone, Debug, PartialEq)]
pub struct AbortSite {
    pub rule: u16,
    /// The function whose failure aborts, if any.
    pub func: Option<&'static str>,
    /// `file:line:col` of the call.
    pub location: String,
    pub span: SpanRef,
}

/// The plan's constant texts as the compiler adds them: each distinct text
/// once, after the executor's own texts ([`crate::exec::PRELUDE`]), whose
/// places only this type knows. [`Consts::finish`] gives [`Plan::consts`].
#[derive(Clone, Debug)]
pub struct Consts {
    text: String,
    index: std::collections::HashMap<String, Text>,
}

impl Default for Consts {
    fn default() -> Self {
        Consts::new()
    }
}

impl Consts {
    pub fn new() -> Consts {
        Consts { text: crate::exec::PRELUDE.concat(), index: std::collections::HashMap::new() }
    }

    /// The constant `s`: where it already is (a text of the prelude, or any
    /// part of one, is not written again), or appended.
    pub fn text(&mut self, s: &str) -> Text {
        if let Some(t) = self.index.get(s) {
            return *t;
        }
        let at = match self.text[..crate::exec::PRELUDE_LEN].find(s).filter(|_| !s.is_empty()) {
            Some(at) => at,
            None => {
                self.text.push_str(s);
                self.text.len() - s.len()
            }
        };
        let t = Text { buf: Buf::Const, start: at as u32, end: (at + s.len()) as u32 };
        self.index.insert(s.to_string(), t);
        t
    }

    /// The texts, for [`Plan::consts`].
    pub fn finish(self) -> String {
        self.text
    }
}

/// A run of entries in one of the plan's side tables (`args`, `captures`,
/// `pieces`, `entries`): `len` entries from `start`. [`Run::of`] is the one
/// way to read them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Run {
    pub start: u32,
    pub len: u16,
}

impl Run {
    /// The run of `len` entries from `start`, as lowering appends them.
    pub fn new(start: usize, len: usize) -> Run {
        debug_assert!(u32::try_from(start).is_ok() && u16::try_from(len).is_ok(), "a side table run too long");
        Run { start: start as u32, len: len as u16 }
    }

    /// The run's entries in `table`: none if the run lies outside it, which
    /// only a plan not built by lowering can make.
    pub fn of<T>(self, table: &[T]) -> &[T] {
        let start = self.start as usize;
        table.get(start..start + usize::from(self.len)).unwrap_or(&[])
    }
}

/// A source span, for `uml explain` and error messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpanRef {
    pub file: u32,
    pub start: u32,
    pub end: u32,
}

/// One rule, compiled.
#[derive(Clone, Debug)]
pub struct RulePlan {
    pub name: String,
    /// The first op of the body.
    pub entry: OpId,
    /// One past the last op of the body.
    pub end: OpId,
    /// The framing of the rule's files: `None` detects it per file
    /// (`framing auto`).
    pub framing: Option<crate::framing::Format>,
    pub multiline: Option<GroupConfig>,
    /// Records longer than this have `message` and `exc_info` cut.
    pub max_record_size: u32,
    /// The variable slots `when` binds, kept from routing to every line.
    pub captures: Vec<Slot>,
    /// The abort site of a failure the checker ruled out (an op without a
    /// failure edge that failed: a bug in uml), in [`Plan::aborts`].
    pub unhandled: u32,
    /// Only the rule's leading ops, which run once per route
    /// ([`Op::is_route_invariant`]), write its labels: every record of a
    /// route has the same labels, and the executor writes them once per
    /// route instead of comparing them on every record. Set by the
    /// optimizer; `false` is always correct.
    pub labels_per_route: bool,
    /// The slots a line may read before it writes them, from where the
    /// once-per-route ops leave off, and may write too. Every other slot a
    /// line reads it either writes first or never writes: after a line of
    /// the same route, a line need only take these from the route's values
    /// (the executor's `apply`). Set by the optimizer from its liveness;
    /// `None` (take every slot) is always correct.
    pub line_inputs: Option<Vec<Slot>>,
}

/// A label of the record.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelPlan {
    pub name: String,
    /// A constant label's value; otherwise the rule sets the slot.
    pub constant: Option<String>,
    pub slot: Slot,
}

/// A payload field.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldPlan {
    pub name: String,
    pub slot: Slot,
}

/// A capture regex split by the compiler where its ends need no regex
/// engine: a trailing `(?P<g>.*)$` (the rest of the line, `.` without `s`)
/// and a leading `^(?P<g>.*?)` (everything before the first place the rest
/// of the regex matches). `head` (an index into [`Plan::regexes`]) is the
/// regex without them, with the same group numbers: without `rest`'s group
/// (the last), with `lead`'s group left empty, and unanchored when there is
/// a `lead`, since an unanchored search finds the leftmost start exactly as
/// the lazy `^.*?` does.
///
/// Where `head` matches and no `\n` lies in what the split-off groups
/// take (`.` does not match it), the whole regex matches with the same
/// groups, `lead` is the text before the head's match and `rest` the text
/// after it; where a `\n` lies there, the whole regex decides; where `head`
/// does not match, neither does the whole. The capture engine (a
/// backtracker, whose work grows with the span it captures in and, for a
/// lazy `.*?`, with every start it tries) runs on the head's match only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegexSplit {
    pub head: u32,
    pub lead: Option<u16>,
    pub rest: Option<u16>,
}

/// A regex that rules write to cut text, recognised by the compiler (by
/// the regex it parses to, not by its spelling). Replaced by `""`, each
/// leaves a part of its input, which the executor takes without running
/// the regex and without copying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegexIdiom {
    /// `\s+$`: the whitespace at the end. Replaced by `""`, the text without
    /// it: `trim_end` (the regex's `\s` and Rust's whitespace are both
    /// Unicode's White_Space).
    TrailingWhitespace,
    /// `^.*\r`: the first line up to its last `\r` (a progress bar's
    /// overwritten states). Replaced by `""`, the text after that `\r`.
    ThroughLastCarriageReturn,
}

/// The compiled rule set.
#[derive(Debug)]
pub struct Plan {
    pub ops: Vec<Op>,
    /// The span of each op.
    pub spans: Vec<SpanRef>,
    /// The routing program: evaluated once per file and stream.
    pub route_entry: OpId,
    pub rules: Vec<RulePlan>,
    pub labels: Vec<LabelPlan>,
    /// Schema fields, then extras, in the order the record writes them.
    pub fields: Vec<FieldPlan>,
    /// The payload fields that `max_record_size` may cut (`message`,
    /// `exc_info`), as indexes into `fields`, cut in this order last first.
    pub cuttable: Vec<u16>,
    pub consts: String,
    pub regexes: Vec<regex::Regex>,
    /// For each regex of [`Plan::regexes`], its split form when it starts
    /// or ends with a capture the executor takes without the regex engine
    /// (see [`RegexSplit`]).
    pub regex_splits: Vec<Option<RegexSplit>>,
    /// For each regex of [`Plan::regexes`], the idiom it spells, when
    /// `replace` can do its work without the regex engine.
    pub regex_idioms: Vec<Option<RegexIdiom>>,
    /// For each regex of [`Plan::regexes`], the bytes a text it matches
    /// starts with, when it is anchored at the start: a text that starts
    /// with another byte, or is empty, is not matched, without running it.
    pub regex_starts: Vec<Option<FirstBytes>>,
    /// `parse_timestamp` formats: the text, and its compiled form when it compiles.
    pub formats: Vec<(String, Option<TimestampFormat>)>,
    pub key_sets: Vec<crate::json::KeySet>,
    pub paths: Vec<Vec<Segment>>,
    pub args: Vec<Slot>,
    pub pieces: Vec<Piece>,
    pub entries: Vec<(Text, Slot)>,
    /// `(group index, slot)` pairs of `=~` captures.
    pub captures: Vec<(u16, Slot)>,
    /// The reads of [`Op::FirstPresent`]: a slot, and a path from it
    /// ([`Plan::paths`]) when there is one.
    pub firsts: Vec<(Slot, Option<u32>)>,
    pub drops: Vec<DropSite>,
    pub aborts: Vec<AbortSite>,
    pub slot_count: u16,
}

impl Plan {
    /// A constant's text.
    pub fn const_str(&self, t: Text) -> &str {
        debug_assert_eq!(t.buf, Buf::Const);
        &self.consts[t.start as usize..t.end as usize]
    }
}

// A plan is shared between threads.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Plan>();
};

impl fmt::Display for Plan {
    /// The plan as `uml explain --stage plan` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::plan_print::print(self, f)
    }
}
