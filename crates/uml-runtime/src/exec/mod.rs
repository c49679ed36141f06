//! The executor: applies a [`Plan`] to lines, on borrowed bytes, without
//! allocating per line.
//!
//! One [`Executor`] per thread borrows the shared plan and owns what a line
//! needs: the slots, a scratch buffer for computed text, and a regex capture
//! buffer per regex. All of it is reused, so after the first lines have sized
//! the buffers a line allocates nothing.
//!
//! Use it in two steps:
//!
//! 1. [`Executor::route`], once per file and stream: runs the routing
//!    program on the file's metadata, and keeps the rule and what its
//!    `when` captured in a [`Route`], with the values of the rule's leading
//!    ops that are the same on every line (`labels.namespace = %namespace`),
//!    run once here;
//! 2. [`Executor::apply`], per line (or multiline group): runs the rest of
//!    the rule's body and writes the record into a reusable [`Record`].
//!
//! Nothing panics on any input: a failure nothing in the rule handles drops
//! the line with an [`Outcome::Abort`] naming the call site, text is bounded
//! by [`MAX_SCRATCH`], and JSON nesting by [`crate::json::MAX_DEPTH`].

mod funcs;
mod jsonv;
mod record;

use crate::framing::Stream;
use crate::json::{self, JsonKind, RawValue};
use crate::plan::{Buf, Container, Members, Meta, Op, OpId, Plan, Slot, StrFlags, Text, Value};
use crate::stdlib::native::Failure;
use crate::stdlib::number;
use record::Layout;
pub use record::{CUT_MARKER, CUT_ORDER, PayloadForm, Record, cut_point};

/// The most computed text one line may produce: past it, the op that would
/// grow the scratch further fails ("value too large").
pub const MAX_SCRATCH: usize = 64 << 20;

/// Scratch capacity kept between lines; a line that needed more gives the
/// memory back afterwards, so a single huge line does not pin it.
const KEEP_SCRATCH: usize = 4 << 20;

/// The scratch's first size: enough for the lines of every source, so that
/// only an unusually long line grows it.
const INITIAL_CAPACITY: usize = 64 << 10;

/// Texts the executor produces without computing them, in this order at the
/// start of every plan's constants: [`crate::plan::Consts`] puts them there,
/// and the offsets below are computed from this table, not written by hand.
pub const PRELUDE: [&str; 8] = ["stdout", "stderr", "true", "false", "DEBUG", "INFO", "WARNING", "ERROR"];

/// The `i`th text of [`PRELUDE`] in the constants.
const fn prelude(i: usize) -> Text {
    let mut start = 0;
    let mut k = 0;
    while k < i {
        start += PRELUDE[k].len();
        k += 1;
    }
    Text { buf: Buf::Const, start: start as u32, end: (start + PRELUDE[i].len()) as u32 }
}
/// The bytes [`PRELUDE`] takes at the start of the constants.
pub(crate) const PRELUDE_LEN: usize = prelude(PRELUDE.len() - 1).end as usize;
pub(crate) const STDOUT: Text = prelude(0);
pub(crate) const STDERR: Text = prelude(1);
pub(crate) const TRUE: Text = prelude(2);
pub(crate) const FALSE: Text = prelude(3);
pub(crate) const LEVELS: [Text; 4] = [prelude(4), prelude(5), prelude(6), prelude(7)];

/// The metadata of a file, as the kubelet's file name gives it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileInfo<'a> {
    pub pod: &'a str,
    pub namespace: &'a str,
    pub container: &'a str,
    pub container_id: &'a str,
    /// The path, as `%file`.
    pub file: &'a str,
}

/// What routing decided for one file and stream: the rule, and the values
/// its `when` captured (texts in the route's own buffer).
#[derive(Clone, Debug)]
pub struct Route {
    rule: Option<u16>,
    stream: Stream,
    /// The file's metadata, then text routing computed: [`Buf::File`].
    buf: String,
    meta: [Text; 5],
    /// The slots every line starts from.
    slots: Box<[Value]>,
    /// The first op each line runs: the rule's leading ops whose values
    /// are the same on every line ran once, when the route was made, into
    /// `slots` ([`Executor::hoist`]).
    entry: OpId,
    /// Unique in the process (from 1): which route a record's labels were
    /// written for.
    pub(crate) serial: u64,
}

/// The serial number of the next route.
static ROUTES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Route {
    /// The rule that takes the lines, if any.
    pub fn rule(&self) -> Option<u16> {
        self.rule
    }

    pub fn stream(&self) -> Stream {
        self.stream
    }
}

/// One unit of input: a line, or a multiline group.
#[derive(Clone, Copy, Debug, Default)]
pub struct Line<'a> {
    /// `%line`.
    pub text: &'a str,
    /// `%traceback`.
    pub traceback: Option<&'a str>,
    /// `%timestamp`, ns since the epoch.
    pub timestamp: i64,
}

/// What became of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The record is in the [`Record`] passed to [`Executor::apply`].
    Record,
    /// `drop`: [`Plan::drops`]`[site]`.
    Drop(u32),
    /// A call failed with nothing to handle it: [`Plan::aborts`]`[site]`;
    /// [`Executor::error`] has the message.
    Abort(u32),
    /// No rule takes the line's file.
    Unrouted,
    /// The line's values outgrew [`MAX_SCRATCH`]: dropped, whatever the
    /// rule would handle.
    TooLarge,
}

impl Outcome {
    /// Why the line made no record, in the words the summary counts it
    /// under: `unrouted`, `value too large`, `rule NAME: reason` (a `drop`),
    /// or `rule NAME: abort at FILE:LINE:COL (f)`, with `: message` after
    /// `f` when `error` (the executor's [`Executor::error`]) is given. Empty
    /// for a record. The one description of a drop: the stream layer's
    /// counters, the library and `uml test` all use it.
    pub fn describe(self, plan: &Plan, error: Option<&str>) -> String {
        match self {
            Outcome::Record => String::new(),
            Outcome::Unrouted => "unrouted".into(),
            Outcome::TooLarge => "value too large".into(),
            Outcome::Drop(site) => match plan.drops.get(site as usize) {
                Some(d) => format!("rule {}: {}", plan.rules[usize::from(d.rule)].name, d.reason),
                None => "rule drop".into(),
            },
            Outcome::Abort(site) => match plan.aborts.get(site as usize) {
                Some(a) => {
                    let rule = &plan.rules[usize::from(a.rule)].name;
                    let what = a.func.unwrap_or("unhandled failure");
                    match error {
                        Some(message) => format!("rule {rule}: abort at {} ({what}: {message})", a.location),
                        None => format!("rule {rule}: abort at {} ({what})", a.location),
                    }
                }
                None => "rule abort".into(),
            },
        }
    }
}

/// A failure; the message is in [`Executor::error`].
#[derive(Debug)]
pub(crate) struct Failed;

pub(crate) type Step = Result<(), Failed>;

/// The buffers a line's texts point into, besides the scratch.
#[derive(Clone, Copy)]
pub(crate) struct Bufs<'a> {
    line: &'a str,
    traceback: &'a str,
    consts: &'a str,
    file: &'a str,
}

impl<'a> Bufs<'a> {
    /// A text outside the scratch.
    fn outside(&self, t: Text) -> &'a str {
        let s = match t.buf {
            Buf::Line => self.line,
            Buf::Traceback => self.traceback,
            Buf::Const => self.consts,
            Buf::File => self.file,
            Buf::Scratch => {
                // The executor resolves scratch texts before they come here.
                debug_assert!(false, "a scratch text resolved outside the executor");
                ""
            }
        };
        s.get(t.start as usize..t.end as usize).unwrap_or("")
    }
}

/// How a run of ops ended.
enum Stop {
    Emit,
    Drop(u32),
    Abort(u32),
    Route(u16),
    Unrouted,
    TooLarge,
}

/// Applies a plan; one per thread. See the module documentation.
pub struct Executor<'p> {
    plan: &'p Plan,
    slots: Vec<Value>,
    scratch: String,
    /// For functions whose input is in the scratch.
    tmp: String,
    /// For text the record writer escapes a second time.
    bytes: Vec<u8>,
    locs: Vec<regex::CaptureLocations>,
    found: Vec<Option<RawValue>>,
    /// The pending failure's message.
    error: Text,
    /// A failure whose message is not written yet: most failures are
    /// handled by `??`, which never reads it ([`Executor::error_text`]).
    pending: Option<Failure>,
    /// The scratch outgrew [`MAX_SCRATCH`] on this line.
    exhausted: bool,
    /// The record's fixed parts, encoded once.
    layout: Layout,
    /// The texts of the labels being written.
    label_texts: Vec<Option<Text>>,
    /// The route whose values the slots hold but for what its lines wrote
    /// ([`RulePlan::line_inputs`](crate::plan::RulePlan::line_inputs)).
    slots_route: Option<u64>,
}

impl<'p> Executor<'p> {
    pub fn new(plan: &'p Plan) -> Executor<'p> {
        let widest = plan.key_sets.iter().map(json::KeySet::len).max().unwrap_or(0);
        Executor {
            plan,
            slots: vec![Value::Null; usize::from(plan.slot_count)],
            scratch: String::with_capacity(INITIAL_CAPACITY),
            tmp: String::with_capacity(INITIAL_CAPACITY),
            bytes: Vec::new(),
            locs: plan.regexes.iter().map(regex::Regex::capture_locations).collect(),
            found: vec![None; widest],
            error: Text::EMPTY,
            pending: None,
            exhausted: false,
            layout: Layout::new(plan),
            label_texts: Vec::with_capacity(plan.labels.len()),
            slots_route: None,
        }
    }

    pub fn plan(&self) -> &'p Plan {
        self.plan
    }

    /// Decides which rule takes the lines of a file's stream. Run it once
    /// per file and stream; it may allocate.
    pub fn route(&mut self, info: &FileInfo<'_>, stream: Stream) -> Route {
        let mut buf = String::new();
        let mut meta = [Text::EMPTY; 5];
        for (i, s) in [info.pod, info.namespace, info.container, info.container_id, info.file].iter().enumerate() {
            let start = buf.len() as u32;
            buf.push_str(s);
            meta[i] = Text { buf: Buf::File, start, end: buf.len() as u32 };
        }
        let serial = ROUTES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut route = Route { rule: None, stream, buf, meta, slots: Box::default(), entry: OpId(0), serial };
        self.scratch.clear();
        self.exhausted = false;
        self.slots.fill(Value::Null);
        self.slots_route = None;
        let bufs = Bufs { line: "", traceback: "", consts: &self.plan.consts, file: &route.buf };
        let stop = self.run(&bufs, &route, Line::default(), self.plan.route_entry);
        let mut slots = vec![Value::Null; self.slots.len()].into_boxed_slice();
        if let Stop::Route(rule) = stop {
            route.rule = Some(rule);
            // Keep the captures, moving texts out of the scratch.
            for &slot in &self.plan.rules[usize::from(rule)].captures {
                let mut v = self.slots[usize::from(slot)];
                if let Value::Str(t) | Value::JsonStr(t, _) | Value::JsonContainer(t, _) = &mut v
                    && t.buf == Buf::Scratch
                {
                    let start = route.buf.len() as u32;
                    route.buf.push_str(&self.scratch[t.start as usize..t.end as usize]);
                    *t = Text { buf: Buf::File, start, end: route.buf.len() as u32 };
                }
                slots[usize::from(slot)] = v;
            }
            route.entry = self.hoist(&route, &mut slots, self.plan.rules[usize::from(rule)].entry);
        }
        route.slots = slots;
        route
    }

    /// Runs the leading ops of a rule body that read nothing a line
    /// changes (constants, the file's metadata, copies of them and of the
    /// route's captures: `labels.namespace = %namespace`,
    /// `payload.source = "build"`) into `slots`, the slots every line of
    /// the route starts from. Returns the first op left for each line.
    ///
    /// Exact because nothing runs before them: on a line, these ops would
    /// read the same slots (captures, or what an op before them wrote) and
    /// write the same values; none can fail, and control flow only goes
    /// forward, so nothing jumps into them.
    fn hoist(&self, route: &Route, slots: &mut [Value], entry: OpId) -> OpId {
        let mut pc = entry;
        while let Some(op) = self.plan.ops.get(pc.index()).filter(|op| op.is_route_invariant()) {
            let (dst, v) = match *op {
                Op::Const { dst, value } => (dst, value),
                Op::Meta { dst, meta } => (dst, self.meta(route, Line::default(), meta)),
                Op::Move { dst, src } => (dst, slots.get(usize::from(src)).copied().unwrap_or(Value::Null)),
                _ => break,
            };
            if let Some(s) = slots.get_mut(usize::from(dst)) {
                *s = v;
            }
            pc.0 += 1;
        }
        pc
    }

    /// Runs the route's rule on one line and writes the record into `record`.
    pub fn apply(&mut self, route: &Route, line: Line<'_>, record: &mut Record) -> Outcome {
        if route.rule.is_none() {
            return Outcome::Unrouted;
        }
        if self.scratch.capacity() > KEEP_SCRATCH {
            self.scratch = String::new();
        }
        self.scratch.clear();
        self.exhausted = false;
        if route.slots.len() != self.slots.len() {
            // A route made by another plan's executor: a caller's mistake,
            // answered without panicking (the line is not taken).
            debug_assert!(false, "a route from another plan");
            return Outcome::Unrouted;
        }
        let plan = self.plan;
        // A line starts from the route's slots. After a line of the same
        // route, only those a line may read before writing and may also
        // have changed differ from them.
        let inputs = route.rule.and_then(|r| plan.rules.get(usize::from(r))).and_then(|r| r.line_inputs.as_deref());
        match inputs {
            Some(inputs) if self.slots_route == Some(route.serial) => {
                for &slot in inputs {
                    let i = usize::from(slot);
                    if let (Some(s), Some(&v)) = (self.slots.get_mut(i), route.slots.get(i)) {
                        *s = v;
                    }
                }
            }
            _ => {
                self.slots.copy_from_slice(&route.slots);
                self.slots_route = Some(route.serial);
            }
        }
        let bufs =
            Bufs { line: line.text, traceback: line.traceback.unwrap_or(""), consts: &plan.consts, file: &route.buf };
        match self.run(&bufs, route, line, route.entry) {
            Stop::Emit => {
                record::write(self, &bufs, route, line.timestamp, record);
                Outcome::Record
            }
            Stop::Drop(site) => Outcome::Drop(site),
            Stop::Abort(site) => {
                self.error_text();
                Outcome::Abort(site)
            }
            // Not reachable from a rule body; kept total rather than panicking.
            Stop::Route(_) | Stop::Unrouted => Outcome::Unrouted,
            Stop::TooLarge => Outcome::TooLarge,
        }
    }

    /// The message of the last failure (of an [`Outcome::Abort`]), valid
    /// until the next call.
    pub fn error(&self) -> &str {
        match self.error.buf {
            Buf::Scratch => self.scratch.get(self.error.start as usize..self.error.end as usize).unwrap_or(""),
            Buf::Const => self.plan.consts.get(self.error.start as usize..self.error.end as usize).unwrap_or(""),
            _ => "",
        }
    }

    fn run(&mut self, b: &Bufs<'_>, route: &Route, line: Line<'_>, entry: OpId) -> Stop {
        let plan = self.plan;
        let mut pc = entry.index();
        loop {
            let Some(op) = plan.ops.get(pc) else { return Stop::Unrouted };
            pc += 1;
            let step = match *op {
                Op::Const { dst, value } => {
                    self.set(dst, value);
                    Ok(())
                }
                Op::Meta { dst, meta } => {
                    let v = self.meta(route, line, meta);
                    self.set(dst, v);
                    Ok(())
                }
                Op::Move { dst, src } => {
                    let v = self.get(src);
                    self.set(dst, v);
                    Ok(())
                }
                Op::FirstPresent { dst, items } => {
                    let mut v = Value::Null;
                    for &(src, path) in items.of(&plan.firsts) {
                        v = self.get(src);
                        // A path into nothing is nothing: most keys a chain
                        // names are absent from a given line.
                        if let Some(path) = path.filter(|_| v != Value::Null) {
                            v = self.walk(b, v, &plan.paths[path as usize]).unwrap_or(Value::Null);
                        }
                        if !matches!(v, Value::Null) {
                            break;
                        }
                    }
                    self.set(dst, v);
                    Ok(())
                }
                Op::Path { dst, src, path } => {
                    let v = self.walk(b, self.get(src), &plan.paths[path as usize]);
                    self.set(dst, v.unwrap_or(Value::Null));
                    Ok(())
                }
                Op::Present { dst, mask, bit } => {
                    let present = matches!(self.get(mask), Value::Int(m) if m & (1 << bit) != 0);
                    self.set(dst, Value::Bool(present));
                    Ok(())
                }
                Op::Exists { dst, src, path } => {
                    let v = self.exists(b, self.get(src), &plan.paths[path as usize]);
                    self.set(dst, Value::Bool(v));
                    Ok(())
                }
                Op::Call { dst, func, args, aux, .. } => {
                    let args = args.of(&plan.args);
                    self.call(b, dst, func, args, aux, line.timestamp)
                }
                Op::ParseJson { dst, src, members, .. } => self.parse_json(b, dst, src, members),
                Op::ParseKlog { dst, src, fields, whole, .. } => {
                    let v = self.get(src);
                    self.parse_klog(b, dst, v, fields, whole, line.timestamp)
                }
                Op::Match { dst, src, regex, negate, captures, .. } => {
                    self.match_regex(b, dst, src, regex, negate, captures)
                }
                Op::Compare { dst, cmp, lhs, rhs, .. } => {
                    let (l, r) = (self.get(lhs), self.get(rhs));
                    self.compare(b, cmp, l, r).map(|v| self.set(dst, Value::Bool(v)))
                }
                Op::Not { dst, src, .. } => self.truth(src).map(|v| self.set(dst, Value::Bool(!v))),
                Op::Template { dst, pieces, .. } => self.template(b, dst, pieces),
                Op::Array { dst, items } => self.array(b, dst, items),
                Op::Object { dst, entries } => self.object(b, dst, entries),
                Op::Jump { target } => {
                    pc = target.index();
                    Ok(())
                }
                Op::JumpIfFalse { cond, target, .. } => self.truth(cond).map(|v| {
                    if !v {
                        pc = target.index();
                    }
                }),
                Op::JumpIfNotNull { src, target } => {
                    if self.get(src) != Value::Null {
                        pc = target.index();
                    }
                    Ok(())
                }
                Op::JumpIfNull { src, target } => {
                    if self.get(src) == Value::Null {
                        pc = target.index();
                    }
                    Ok(())
                }
                Op::JumpIfKind { src, kind, when, target } => {
                    if kind.holds(self.get(src)) == when {
                        pc = target.index();
                    }
                    Ok(())
                }
                Op::BindError { value, err } => {
                    self.set(value, Value::Null);
                    let error = self.error_text();
                    self.set(err, Value::Str(error));
                    Ok(())
                }
                Op::Emit => return Stop::Emit,
                Op::Drop { site } => return Stop::Drop(site),
                Op::Abort { site } => return Stop::Abort(site),
                Op::Route { rule } => return Stop::Route(rule),
                Op::Unrouted => return Stop::Unrouted,
            };
            if step.is_err() {
                if self.exhausted {
                    return Stop::TooLarge;
                }
                match op.fail() {
                    Some(fail) => pc = fail.index(),
                    // The checker ruled this failure out: a bug in uml.
                    None => {
                        debug_assert!(false, "op {pc} ({op:?}) failed without a failure edge: {}", self.error());
                        return match route.rule.and_then(|r| plan.rules.get(usize::from(r))) {
                            Some(rule) if entry != plan.route_entry => Stop::Abort(rule.unhandled),
                            _ => Stop::Unrouted,
                        };
                    }
                }
            }
        }
    }

    #[inline]
    pub(crate) fn get(&self, slot: Slot) -> Value {
        self.slots.get(usize::from(slot)).copied().unwrap_or(Value::Null)
    }

    #[inline]
    pub(crate) fn set(&mut self, slot: Slot, v: Value) {
        if let Some(s) = self.slots.get_mut(usize::from(slot)) {
            *s = v;
        }
    }

    fn meta(&self, route: &Route, line: Line<'_>, meta: Meta) -> Value {
        match meta {
            Meta::Line => Value::Str(Text { buf: Buf::Line, start: 0, end: line.text.len() as u32 }),
            Meta::Traceback => match line.traceback {
                Some(t) => Value::Str(Text { buf: Buf::Traceback, start: 0, end: t.len() as u32 }),
                None => Value::Null,
            },
            Meta::Stream => Value::Str(match route.stream {
                Stream::Stdout => STDOUT,
                Stream::Stderr => STDERR,
            }),
            Meta::Timestamp => Value::Int(line.timestamp),
            Meta::Pod => Value::Str(route.meta[0]),
            Meta::Namespace => Value::Str(route.meta[1]),
            Meta::Container => Value::Str(route.meta[2]),
            Meta::ContainerId => Value::Str(route.meta[3]),
            Meta::File => Value::Str(route.meta[4]),
        }
    }

    /// The text of `t`.
    #[inline]
    pub(crate) fn text<'s>(&'s self, b: &Bufs<'s>, t: Text) -> &'s str {
        text_in(&self.scratch, b, t)
    }

    /// The bytes of the buffer `t` points into, for JSON positions.
    pub(crate) fn buffer<'s>(&'s self, b: &Bufs<'s>, buf: Buf) -> &'s [u8] {
        buffer_in(&self.scratch, b, buf)
    }

    /// Records a failure with a fixed message.
    pub(crate) fn fail<T>(&mut self, message: &'static str) -> Result<T, Failed> {
        self.failure(Failure::new(message))
    }

    /// Records a call's failure; its message is written only if it is read.
    pub(crate) fn failure<T>(&mut self, e: Failure) -> Result<T, Failed> {
        self.pending = Some(e);
        Err(Failed)
    }

    /// The text of the last failure's message, written to the scratch now
    /// if it was left for later.
    fn error_text(&mut self) -> Text {
        if let Some(e) = self.pending.take() {
            let start = self.scratch.len() as u32;
            e.parts().iter().for_each(|p| self.scratch.push_str(p));
            if let Some(at) = e.offset() {
                self.scratch.push_str(" at byte ");
                number::format_int(i64::from(at), &mut self.scratch);
            }
            self.error = Text { buf: Buf::Scratch, start, end: self.scratch.len() as u32 };
        }
        self.error
    }

    /// Records a failure whose message is `parts` one after the other
    /// (`["expected a string, found ", v.kind()]`). Failures are ordinary:
    /// `strip_ansi_escape_codes(%traceback) ?? null` fails on every line
    /// without a traceback, so messages are put together without the
    /// formatting machinery.
    pub(crate) fn fail_parts<T>(&mut self, parts: &[&str]) -> Result<T, Failed> {
        let start = self.scratch.len() as u32;
        for part in parts {
            self.scratch.push_str(part);
        }
        self.error = Text { buf: Buf::Scratch, start, end: self.scratch.len() as u32 };
        self.pending = None;
        Err(Failed)
    }

    /// A string value's decoded text: escaped JSON strings are decoded into
    /// the scratch. `None` for a value that is not a string.
    #[inline]
    pub(crate) fn str_text(&mut self, b: &Bufs<'_>, v: Value) -> Option<Text> {
        match v {
            Value::Str(t) => Some(t),
            Value::JsonStr(t, flags) if !flags.any(RawValue::ESCAPED) => Some(t),
            Value::JsonStr(..) => self.decoded(b, v),
            _ => None,
        }
    }

    /// [`Executor::str_text`] of an escaped JSON string: decoded into the
    /// scratch.
    #[inline(never)]
    fn decoded(&mut self, b: &Bufs<'_>, v: Value) -> Option<Text> {
        match v {
            Value::JsonStr(t, _) => {
                let start = self.scratch.len();
                if t.buf == Buf::Scratch {
                    self.tmp.clear();
                    decode_into(&mut self.tmp, &self.scratch.as_bytes()[t.start as usize..t.end as usize]);
                    self.scratch.push_str(&self.tmp);
                } else {
                    decode_into(&mut self.scratch, b.outside(t).as_bytes());
                }
                Some(Text { buf: Buf::Scratch, start: start as u32, end: self.scratch.len() as u32 })
            }
            _ => None,
        }
    }

    /// Argument `v` as a string, or the evaluator's "expected a string" failure.
    pub(crate) fn want_str(&mut self, b: &Bufs<'_>, v: Option<Value>) -> Result<Text, Failed> {
        match v {
            None => self.fail("missing argument"),
            Some(v) => match self.str_text(b, v) {
                Some(t) => Ok(t),
                None => self.failure(Failure::kind("expected a string, found ", v.kind(), "")),
            },
        }
    }

    /// Fails, beyond any handler, when the line's values have outgrown
    /// [`MAX_SCRATCH`].
    pub(crate) fn check_scratch(&mut self) -> Step {
        if self.scratch.len() > MAX_SCRATCH {
            self.scratch.truncate(0);
            self.exhausted = true;
            return self.fail("value too large");
        }
        Ok(())
    }

    fn truth(&mut self, slot: Slot) -> Result<bool, Failed> {
        match self.get(slot) {
            Value::Bool(v) => Ok(v),
            other => self.failure(Failure::kind("a condition must be a bool, not ", other.kind(), "")),
        }
    }

    /// A JSON value read out of `buf` as a slot value.
    pub(crate) fn value_of_raw(&self, b: &Bufs<'_>, buf: Buf, raw: RawValue) -> Value {
        let text = Text { buf, start: raw.start, end: raw.end };
        match raw.kind {
            JsonKind::Null => Value::Null,
            JsonKind::Bool => Value::Bool(self.buffer(b, buf).get(raw.start as usize) == Some(&b't')),
            JsonKind::String => {
                Value::JsonStr(Text { start: raw.start + 1, end: raw.end - 1, ..text }, StrFlags(raw.flags))
            }
            JsonKind::Array => Value::JsonContainer(text, Container::Array),
            JsonKind::Object => Value::JsonContainer(text, Container::Object),
            JsonKind::Number if raw.has(RawValue::NONFINITE) => Value::Str(text),
            JsonKind::Number => {
                let s = self.text(b, text);
                if !s.bytes().any(|c| matches!(c, b'.' | b'e' | b'E'))
                    && let Ok(i) = s.parse::<i64>()
                {
                    return Value::Int(i);
                }
                // Too large for a float (`1e400`): kept as its text, as NaN is.
                match s.parse::<f64>() {
                    Ok(f) if f.is_finite() => Value::Float(f),
                    _ => Value::Str(text),
                }
            }
        }
    }

    /// The raw JSON of a container value.
    pub(crate) fn raw_of(v: Value) -> Option<(Buf, RawValue)> {
        match v {
            Value::JsonContainer(t, c) => {
                Some((t.buf, RawValue { kind: c.kind(), start: t.start, end: t.end, flags: 0 }))
            }
            _ => None,
        }
    }

    /// Follows a path; `None` where a key is missing or a shape is wrong.
    fn walk(&self, b: &Bufs<'_>, mut v: Value, path: &[crate::plan::Segment]) -> Option<Value> {
        for seg in path {
            let (buf, raw) = Self::raw_of(v)?;
            let bytes = self.buffer(b, buf);
            let found = match seg {
                crate::plan::Segment::Key(k) => json::get_member(bytes, raw, k.as_bytes())?,
                crate::plan::Segment::Index(i) => json::get_element(bytes, raw, *i)?,
            };
            v = self.value_of_raw(b, buf, found);
        }
        Some(v)
    }

    fn exists(&self, b: &Bufs<'_>, v: Value, path: &[crate::plan::Segment]) -> bool {
        let Some((last, init)) = path.split_last() else { return v != Value::Null };
        let Some(parent) = self.walk(b, v, init) else { return false };
        let Some((buf, raw)) = Self::raw_of(parent) else { return false };
        let bytes = self.buffer(b, buf);
        match last {
            crate::plan::Segment::Key(k) => json::get_member(bytes, raw, k.as_bytes()).is_some(),
            crate::plan::Segment::Index(i) => json::get_element(bytes, raw, *i).is_some(),
        }
    }

    /// Writes members found by a scan into their slots, with the presence mask.
    /// `present` says which keys were found (bit `i`: `found[i]`, its range
    /// `at` bytes before its place in `buf`): the members' slots are cleared
    /// in one fill, then the present ones written.
    fn write_members(&mut self, b: &Bufs<'_>, buf: Buf, at: u32, members: Members, count: usize, present: u64) {
        self.fill_members(members, count);
        let mut rest = present;
        while rest != 0 {
            let i = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            if let Some(raw) = self.found[i] {
                let raw = RawValue { start: raw.start + at, end: raw.end + at, ..raw };
                let v = self.value_of_raw(b, buf, raw);
                self.set(members.member(i), v);
            }
        }
        self.set(members.mask(), Value::Int(present as i64));
    }

    fn clear_members(&mut self, members: Option<Members>) {
        if let Some(m) = members {
            let count = self.plan.key_sets[m.keys as usize].len();
            self.fill_members(m, count);
            self.set(m.mask(), Value::Int(0));
        }
    }

    /// Sets the `count` members' slots (consecutive) to null.
    fn fill_members(&mut self, members: Members, count: usize) {
        let first = usize::from(members.member(0));
        if let Some(slots) = self.slots.get_mut(first..first + count) {
            slots.fill(Value::Null);
        }
    }

    fn parse_json(&mut self, b: &Bufs<'_>, dst: Slot, src: Slot, members: Option<Members>) -> Step {
        let v = self.get(src);
        let Some(t) = self.str_text(b, v) else {
            self.clear_members(members);
            return self.failure(Failure::kind("expected a string, found ", v.kind(), ""));
        };
        let plan = self.plan;
        let bytes = text_in(&self.scratch, b, t).as_bytes();
        let first = bytes.iter().find(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r')).copied();
        let result = match (first, members) {
            (Some(b'{'), Some(m)) => {
                let keys = &plan.key_sets[m.keys as usize];
                json::scan_object_present(bytes, keys, &mut self.found)
            }
            _ => json::scan_value(bytes).map(|raw| (raw, 0)),
        };
        match result {
            Ok((raw, present)) => {
                let raw = RawValue { start: raw.start + t.start, end: raw.end + t.start, ..raw };
                if let Some(m) = members {
                    let count = plan.key_sets[m.keys as usize].len();
                    self.write_members(b, t.buf, t.start, m, count, present);
                }
                let v = self.value_of_raw(b, t.buf, raw);
                self.set(dst, v);
                Ok(())
            }
            Err(e) => {
                self.clear_members(members);
                // Written only if read: a rule that parses every line to see
                // whether it is JSON mostly never does.
                self.failure(Failure::at(e.what(), e.offset))
            }
        }
    }
}

/// Appends a JSON string body, decoded.
/// The body is a slice of one of the executor's `str` buffers; bytes that
/// are not UTF-8 (which no caller passes) become one U+FFFD.
pub(crate) fn decode_into(out: &mut String, body: &[u8]) {
    match std::str::from_utf8(body) {
        Ok(body) => json::decode_str(body, out),
        Err(_) => out.push('\u{FFFD}'),
    }
}

/// The text of `t`, given the scratch: for code that borrows other fields of
/// the executor at the same time.
#[inline]
pub(crate) fn text_in<'s>(scratch: &'s str, b: &Bufs<'s>, t: Text) -> &'s str {
    match t.buf {
        Buf::Scratch => scratch.get(t.start as usize..t.end as usize).unwrap_or(""),
        _ => b.outside(t),
    }
}

/// The bytes of a whole buffer, for JSON positions.
pub(crate) fn buffer_in<'s>(scratch: &'s str, b: &Bufs<'s>, buf: Buf) -> &'s [u8] {
    match buf {
        Buf::Scratch => scratch.as_bytes(),
        Buf::Line => b.line.as_bytes(),
        Buf::Traceback => b.traceback.as_bytes(),
        Buf::Const => b.consts.as_bytes(),
        Buf::File => b.file.as_bytes(),
    }
}
