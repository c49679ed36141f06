//! Multiline grouping: the raw lines of one log file become the units a rule
//! body runs on (`docs/language.md` §4.4, the `multiline` clause).
//!
//! A program that crashes prints its traceback one raw line per traceback
//! line, and the container runtime stores each as a line of its own. Users
//! expect one record per traceback, with the line that announced it as its
//! message (`docs/contract.md`, "Tracebacks"). A [`Grouper`] reads the lines
//! of one file in order and hands out [`Group`]s: a traceback with its head
//! line, a run of continued lines, or a single line passing through.
//!
//! ```
//! use uml_runtime::group::{Group, GroupConfig, Grouper, Stream};
//!
//! let mut grouper = Grouper::new(&GroupConfig::python_traceback());
//! let mut records = Vec::new();
//! let mut sink = |g: Group<'_>| records.push((g.line.to_owned(), g.traceback.map(str::to_owned), g.lines));
//! let lines = [
//!     "ERROR:root:predict failed",
//!     "Traceback (most recent call last):",
//!     "  File \"/app/model.py\", line 12, in predict",
//!     "ValueError: bad input",
//!     "INFO: next request",
//! ];
//! for (ts, line) in (1..).zip(lines) {
//!     grouper.push(Stream::Stderr, ts, line, &mut sink);
//! }
//! grouper.finish(&mut sink);
//! assert_eq!(records, [
//!     (
//!         "ERROR:root:predict failed".to_owned(),
//!         Some("Traceback (most recent call last):\n  File \"/app/model.py\", line 12, in predict\nValueError: bad input".to_owned()),
//!         4,
//!     ),
//!     ("INFO: next request".to_owned(), None, 1),
//! ]);
//! ```
//!
//! # Output through a sink
//!
//! [`Grouper::push`], [`Grouper::flush_idle`] and [`Grouper::finish`] call a
//! sink once per finished group. One line can finish several groups at once
//! (the traceback it ends, the other stream's lines that waited for that
//! traceback, the line itself), and each group borrows either the caller's
//! line or the grouper's own buffers, for the length of one call only.
//! Returning them would need a lending iterator; a callback says the same
//! with plain borrows. The common case costs nothing: a line outside any
//! group reaches the sink as the caller's own `&str`, uncopied.
//!
//! # Python tracebacks, crashes and multi-line messages
//!
//! The grammar (`group/traceback.rs`) is a state machine per stream over whole
//! lines: `Traceback (most recent call last):` opens a traceback, indented
//! lines continue it (and loguru's `> File` marker, and `rich`'s boxed
//! frames), the first unindented line is its exception line; connecting
//! sentences chain the next traceback; exception groups are framed by `+`
//! and `|`; a Go crash is `panic: …`, `fatal error: …` or a `log` line about
//! a panic, up to a goroutine dump and its frames; a Rust panic is `thread
//! '…' panicked at …` with its message, notes and backtrace; a native crash
//! is libstdc++'s `terminate called …` or a signal handler's `Signal (N)
//! received.` with `what():`, numbered frames and `Aborted`. A klog line
//! (or an absl line as TensorFlow writes it, `2024-05-10 11:33:14.068255: I
//! …`) whose message is empty or ends with `:` takes the table or indented
//! lines after it; any other klog line on stderr also takes the lines of
//! prose after it that have no header of their own and are not error lines
//! (glog and absl write a message of several lines in one write, with the
//! header on its first line only). Either is one message on several lines
//! (`line`, no `traceback`).
//!
//! - **Process tags.** When every line of a group starts with the same
//!   process tag (vLLM's and Ray's `(APIServer pid=1) `, torch.distributed's
//!   `[rank0]: `), the grammar reads the lines without it and the group's
//!   text leaves it out; a line that is only the tag is a blank line; a
//!   line of another process ends the group. A head line keeps its tag.
//! - **`line`.** If the line directly before the traceback on the same
//!   stream matches `head`, it joins the group and is `line`; `traceback` is
//!   then the rest. Otherwise `line` is the last exception line (the last of
//!   a chain: the exception that propagated; for an exception group, the
//!   group's own `ExceptionGroup: …` line without its `| ` frame), or the
//!   `panic: …` line; a traceback cut before any exception line (input ended,
//!   `max_lines`, idle) uses its first line.
//! - **The default `head`** is [`GroupConfig::DEFAULT_HEAD`]: one of the
//!   error spellings of `docs/contract.md`, "Levels", as a word (`ERROR`,
//!   `ERRO`, `CRITICAL`, `CRIT`, `FATAL`, `FATA`, `PANIC`, `PANI`, any case,
//!   also right after an ANSI colour code: kaniko's `\x1b[31mERRO`), the word
//!   `exception` (`Exception in ASGI application`,
//!   `Exception in thread Thread-1:`, `Exception ignored in: …`), `[E]`
//!   (TensorRT) or a klog `E` or `F` line. A level word only counts whole:
//!   `ValueError` or `errors` do not match. A JSON object or a klog line
//!   says its own level, so an error word in its message does not make it a
//!   head (`performance-critical` in a klog `I` line). The grouper matches it by hand
//!   ([`matches_default_head`], twice as fast as the regex engine on it; a
//!   proptest holds the two to the same answers). A head line is held until
//!   the next line of its stream shows whether a traceback follows.
//! - **The head test runs only when it matters.** Nearly every line is no
//!   head line, and the test reads the whole line. A line outside any group
//!   is held as a head line would be, untested, and the test runs only when
//!   the next line of its stream could join a head line (a traceback, a
//!   crash, native frames, an indented line); otherwise the held line goes
//!   out on its own, as it would have. A line is held untested only when it
//!   would go out at once if it were no head line (nothing earlier is held
//!   or queued) and is at most 8 KiB long, so the groups, their order and
//!   the queue are the same as with the test run on every line (a proptest
//!   compares the two); only *when* a line goes out changes. A line of the
//!   other stream runs the test at once rather than queue behind the held
//!   line, unless that is a JSON object (whose test reads it whole).
//!   [`Grouper::settle`] sends such lines when no next line is at hand.
//! - **Deciding on the next line.** A blank line after an exception line
//!   belongs to the traceback only if a connecting sentence follows, and a
//!   `panic: …` line only if a goroutine dump follows. Such lines join
//!   *tentatively* (a Go header at most 8 lines); if the next line does not
//!   confirm them they come out as single lines, in order, as if they had
//!   never been held (the last one may still be the head of a traceback that
//!   follows).
//! - **Not grouped.** Lines after the exception line other than a chain:
//!   multi-line exception messages and notes (`add_note`) are unindented text
//!   that nothing tells apart from the program's next line, so they pass
//!   through as lines of their own. Blank lines inside a frame list or an
//!   exception group stay in it. `exit status 2` after a Go dump is not part
//!   of it (`go run` prints it, not the program).
//!
//! # Custom groups
//!
//! [`GroupConfig::Pattern`]: a line matching `start` opens a group, the
//! following lines matching `continue_` join it, and the first one that does
//! not closes it and is read again on its own (it may open the next group).
//! `line` is the lines joined with `\n`; `traceback` is `None`.
//!
//! # Order
//!
//! **Groups come out in the order of their first line**, whatever the stream:
//! a file's records come out in the order of their first raw line
//! (`docs/contract.md`, "The unified record"). Grouping is per stream (stdout
//! and stderr lines never join each other's groups), so while a stream holds
//! lines back (an open traceback, a head line waiting for the next line),
//! finished groups of the other stream that started later wait behind it,
//! copied into a queue, and leave with it. A traceback is not over until the
//! next line of its stream arrives (a chain may follow), so the other stream
//! waits until then, or until [`Grouper::flush_idle`].
//!
//! This queue is the stream layer's only reorder buffer, keyed by first raw
//! line ([`Group::origin`]). A file's grouper takes every line of the file
//! ([`Grouper::per_stream`]: a stream whose rule does not group passes its
//! lines through one by one), and the framer's lines still being joined
//! from pieces are one more thing to wait for ([`Grouper::set_barrier`]):
//! a line completed from pieces goes out ahead of the units of the other
//! stream that completed while it was open.
//!
//! # Limits, memory and counting
//!
//! - **`max_lines`**: a group never holds more lines. The line that would
//!   exceed it starts a new group of the same kind: a traceback cut in two is
//!   two traceback records, the first with the head line (or its first line)
//!   as `line`, the second, headless, with the exception line its part ends
//!   with. Lines held tentatively are not cut but come out as single lines.
//!   A group also never holds more than [`MAX_GROUP_BYTES`] of text (unless
//!   its first line alone is longer), cut the same way: four times Loki's
//!   line limit, so `max_record_size` still marks the cut of any record.
//! - **The queue** is bounded the same way: past `max_lines` lines (of the
//!   stream holding the earliest line; 500 for a stream that does not
//!   group) or [`MAX_GROUP_BYTES`], the group it waits for is cut (it goes on
//!   as a new group, as with `max_lines`) and the queue empties. A line still
//!   being joined cannot be cut: the units waiting only for it go out ahead
//!   of it, counted by [`Grouper::reordered`]. Whatever the input, the
//!   grouper holds at most `3 × max_lines` lines (a group per stream and the
//!   queue), each part at most [`MAX_GROUP_BYTES`] plus one line.
//! - **Idle.** A group whose last line is older than `idle_ms` is closed:
//!   by [`Grouper::flush_idle`] when tailing (the embedder owns the clock:
//!   `now_ns` is on the lines' clock), and by the next line of its stream
//!   when that line's timestamp is more than `idle_ms` later, so reading a
//!   file after the fact groups it the way tailing it did. A closed group's
//!   stream starts afresh: what follows is not read as more of the traceback.
//! - **No allocation** once warm: each stream's group lives in a `String`
//!   kept from group to group, the queue too; the regexes keep their caches.
//! - **Counting**: [`Group::lines`] is the number of input lines in the
//!   group. Every line pushed ends up in exactly one group, so the lines in
//!   are the sum of `lines` over the groups out, once [`Grouper::finish`] ran
//!   (`buffered_lines` says how many are still held before that).

mod head;
mod traceback;

use std::sync::OnceLock;

use regex::Regex;
use traceback::{Join, State, Transition};

pub use crate::framing::{Origin, Stream};
pub use head::matches_default_head;
#[doc(hidden)]
pub use head::matches_default_head_by_walking;

/// The grouping of a rule's `multiline` clause, built by the compiler.
#[derive(Clone, Debug)]
pub enum GroupConfig {
    /// `multiline python_traceback { head: r'…', max_lines: N, idle: D }`:
    /// Python tracebacks (chained, exception groups) and Go panics.
    PythonTraceback {
        /// The line before a traceback that becomes its `line`; `None` is
        /// [`GroupConfig::DEFAULT_HEAD`].
        head: Option<Regex>,
        /// At least 1 (0 counts as 1).
        max_lines: u32,
        idle_ms: u64,
    },
    /// `multiline { start: r'…', continue: r'…', max_lines: N, idle: D }`.
    Pattern {
        start: Regex,
        continue_: Regex,
        /// At least 1 (0 counts as 1).
        max_lines: u32,
        idle_ms: u64,
    },
}

impl GroupConfig {
    /// `max_lines` when the clause does not say.
    pub const DEFAULT_MAX_LINES: u32 = 500;
    /// `idle` when the clause does not say: 2 s.
    pub const DEFAULT_IDLE_MS: u64 = 2000;
    /// `head` when the clause does not say: an error-looking line (see the
    /// module documentation).
    pub const DEFAULT_HEAD: &str = r"(?i-u:(?:\b|\x1b\[[0-9;]*m)(?:error|erro|critical|crit|fatal|fata|panic|pani|exception)\b)|\[E\]|^[EF][0-9]{4} ";

    /// `multiline python_traceback` with every option at its default.
    pub fn python_traceback() -> GroupConfig {
        GroupConfig::PythonTraceback { head: None, max_lines: Self::DEFAULT_MAX_LINES, idle_ms: Self::DEFAULT_IDLE_MS }
    }

    /// [`GroupConfig::DEFAULT_HEAD`], compiled once per process. The grouper
    /// does not use it: [`matches_default_head`] is the same test, faster.
    pub fn default_head() -> &'static Regex {
        static HEAD: OnceLock<Regex> = OnceLock::new();
        HEAD.get_or_init(|| Regex::new(GroupConfig::DEFAULT_HEAD).expect("the default head pattern compiles"))
    }
}

/// The most text a group holds: 1 MiB, four times Loki's line limit.
pub const MAX_GROUP_BYTES: usize = 1 << 20;

/// One unit for the rule body: `%line`, `%traceback`, `%stream` and
/// `%timestamp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group<'a> {
    pub stream: Stream,
    /// The runtime timestamp of the group's first line, ns since the epoch.
    pub timestamp_ns: i64,
    /// `%line`: the line itself, a traceback's head or exception line, or
    /// the continued lines joined with `\n`.
    pub line: &'a str,
    /// `%traceback`: the traceback's lines joined with `\n`, without the
    /// head line.
    pub traceback: Option<&'a str>,
    /// How many input lines the group holds (at least 1).
    pub lines: u32,
    /// The raw lines behind the group: the positions given to
    /// [`Grouper::push_at`] (sequence numbers from 0 with [`Grouper::push`]).
    pub origin: Origin,
}

/// Groups the lines of one file; see the module documentation.
///
/// [`Grouper::finish`] leaves it ready for the next file, buffers kept.
#[derive(Debug)]
pub struct Grouper {
    /// How each stream's lines group; indexed by `Stream as usize`.
    shapes: [Shape; 2],
    /// Indexed by `Stream as usize`.
    lanes: [Lane; 2],
    waiting: Waiting,
    /// The first raw line of a unit still being assembled before the
    /// grouper (a partial line in the framer): no group that starts after it
    /// leaves before it. See [`Grouper::set_barrier`].
    barrier: Option<u64>,
    /// Lines let through ahead of the barrier because the queue was full.
    reordered: u64,
    /// The position [`Grouper::push`] gives the next line.
    next_seq: u64,
    /// Whether a line that may be a head is held before its `head` test
    /// runs (see [`Grouper::settle`]); only tests turn it off.
    lazy_head: bool,
}

/// How one stream's lines group.
#[derive(Debug)]
struct Shape {
    grammar: Grammar,
    max_lines: u32,
    idle_ns: i64,
}

impl Shape {
    fn of(config: Option<&GroupConfig>) -> Shape {
        let Some(config) = config else {
            return Shape { grammar: Grammar::Lines, max_lines: GroupConfig::DEFAULT_MAX_LINES, idle_ns: i64::MAX };
        };
        let (grammar, max_lines, idle_ms) = match config {
            GroupConfig::PythonTraceback { head, max_lines, idle_ms } => {
                (Grammar::Traceback { head: head.clone() }, *max_lines, *idle_ms)
            }
            GroupConfig::Pattern { start, continue_, max_lines, idle_ms } => {
                (Grammar::Pattern { start: start.clone(), continue_: continue_.clone() }, *max_lines, *idle_ms)
            }
        };
        Shape {
            grammar,
            max_lines: max_lines.max(1),
            idle_ns: i64::try_from(idle_ms.saturating_mul(1_000_000)).unwrap_or(i64::MAX),
        }
    }
}

#[derive(Debug)]
enum Grammar {
    /// `head: None` is the default, matched by [`matches_default_head`].
    Traceback {
        head: Option<Regex>,
    },
    Pattern {
        start: Regex,
        continue_: Regex,
    },
    /// No grouping: every line is a unit of its own (a stream whose rule has
    /// no `multiline` clause, or no rule).
    Lines,
}

impl Grammar {
    fn step(&self, state: State, line: &str, stream: Stream) -> Transition {
        match self {
            Grammar::Lines => Transition::Single,
            Grammar::Traceback { .. } => traceback::step(state, line, stream, |line| self.is_head(line)),
            Grammar::Pattern { start, continue_ } => {
                let matches = if state == State::Plain { start } else { continue_ };
                match (matches.is_match(line), state) {
                    (true, _) => Join::commit(State::Continued),
                    (false, State::Plain) => Transition::Single,
                    (false, _) => Transition::End,
                }
            }
        }
    }

    /// What `line` does after a line held as a possible head whose `head`
    /// test was left for later ([`Transition::HeadOrSingle`], which only
    /// the traceback grammar gives).
    fn after_candidate(&self, line: &str, stream: Stream) -> traceback::AfterCandidate {
        match self {
            Grammar::Traceback { .. } => traceback::after_candidate(line, stream, |line| self.is_head(line)),
            Grammar::Pattern { .. } | Grammar::Lines => {
                traceback::AfterCandidate::Alone(self.step(State::Plain, line, stream))
            }
        }
    }

    /// Whether a line that turned out not to be part of a group may be the
    /// head of a traceback that follows it.
    fn is_head(&self, line: &str) -> bool {
        match self {
            Grammar::Traceback { head: Some(head) } => head.is_match(line),
            // A JSON object says its level itself: an error word in its
            // message does not make it an error line.
            // So does a klog or absl line, by its letter: `performance-critical`
            // in an `I` line's message does not make it an error line.
            Grammar::Traceback { head: None } => match traceback::klog_severity(line) {
                Some(letter) => matches!(letter, b'E' | b'F'),
                None => matches_default_head(line) && (!line.trim_start().starts_with('{') || json_error_level(line)),
            },
            Grammar::Pattern { .. } | Grammar::Lines => false,
        }
    }
}

/// Whether a JSON object line's own level is an error: `"levelname":
/// "ERROR"` (and `level`, `severity`, `lvl`, `log.level`; `CRITICAL`,
/// `FATAL`, `PANIC` alike, any case), a Python `"levelno"` of 40 or more, or
/// a pino or bunyan `"level"` of 50 or more. A scan of the raw text, for the
/// lines the default head already matched.
fn json_error_level(line: &str) -> bool {
    const KEYS: [&str; 6] = ["\"levelname\"", "\"level\"", "\"severity\"", "\"lvl\"", "\"log.level\"", "\"levelno\""];
    KEYS.iter().any(|key| {
        line.match_indices(key).any(|(at, _)| {
            let rest = line[at + key.len()..].trim_start();
            let Some(value) = rest.strip_prefix(':').map(str::trim_start) else { return false };
            if let Some(word) = value.strip_prefix('"') {
                let word = &word[..word.find('"').unwrap_or(word.len())];
                ["error", "critical", "crit", "fatal", "panic", "alert", "emergency"]
                    .iter()
                    .any(|w| word.eq_ignore_ascii_case(w))
            } else {
                let digits = value.bytes().take_while(u8::is_ascii_digit).count();
                let n: u32 = value[..digits].parse().unwrap_or(0);
                if *key == "\"levelno\"" { n >= 40 } else { n >= 50 }
            }
        })
    })
}

/// The length of the process tags a line starts with: vLLM's and Ray's
/// `(APIServer pid=1) `, `(VllmWorker rank=0 pid=7) `, `(RayTrainWorker
/// pid=43515, ip=10.0.0.1) `, torch.distributed's `[rank0]: `, or several of
/// them (`(RayTrainWorker pid=43515) [rank1]: `); 0 for none.
#[inline]
fn line_prefix(line: &str) -> usize {
    match line.as_bytes().first() {
        Some(b'(' | b'[') => tags_length(line),
        _ => 0,
    }
}

/// [`line_prefix`] of a line that starts with `(` or `[`.
#[cold]
fn tags_length(line: &str) -> usize {
    let mut at = 0;
    loop {
        let rest = &line[at..];
        if rest.starts_with('(') {
            // A tag names a process id, and is short.
            let Some(close) = rest.get(..rest.len().min(128)).and_then(|r| r.find(") ")) else { break };
            if !rest[..close].contains("pid=") {
                break;
            }
            at += close + 2;
        } else if let Some(tail) = rest.strip_prefix("[rank") {
            let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 || !tail[digits..].starts_with("]:") {
                break;
            }
            at += 5 + digits + 2;
            if line[at..].starts_with(' ') {
                at += 1;
            }
        } else {
            break;
        }
    }
    at
}

/// Where the text after `prefix` starts in `line`: after it, or at the end
/// of a line that is only (the start of) the tag, which stands for a blank
/// line; `None` if the line is another process's.
fn strip_prefix(line: &str, prefix: &str) -> Option<usize> {
    if line.starts_with(prefix) {
        return Some(prefix.len());
    }
    let t = line.trim_end();
    (!t.is_empty() && prefix.starts_with(t)).then_some(line.len())
}

/// The longest line held with its `head` test left for later: a longer
/// one is tested at once, so that holding lines untested grows a stream's
/// buffer no further than this (such lines are few, and a file's grouper
/// stays small). Long enough for a JSON line with its traceback.
const UNTESTED_MAX: usize = 8192;

/// The most lines held tentatively at once (a Go panic's header, blank lines
/// between goroutines); one more ends the group.
const TENTATIVE_LINES: usize = 8;

/// One stream's open group.
#[derive(Debug)]
struct Lane {
    state: State,
    /// The held lines, joined with `\n`.
    text: String,
    /// Held lines, tentative ones included; 0 when nothing is held.
    lines: u32,
    /// The raw lines of the held lines, tentative ones included.
    origin: Origin,
    /// The last raw line of the committed lines.
    committed_last: u64,
    first_ts: i64,
    /// The timestamp of the stream's last line, held or not.
    last_ts: i64,
    /// `text[..head]` is a head line.
    head: Option<usize>,
    /// `text[message.0..message.1]` is the exception line.
    message: Option<(usize, usize)>,
    /// `text[..committed]` is certain to be the group.
    committed: usize,
    committed_lines: u32,
    /// The lines after `committed`, each with where it starts in `text`; at
    /// most `TENTATIVE_LINES`, so the vector never grows past its capacity.
    tentative: Vec<Tentative>,
    /// The process tag the group's lines start with (`(APIServer pid=1) `,
    /// `[rank0]: `), left out of the group's text; empty for none.
    prefix: String,
    /// The group is one message on several lines (a klog line and its
    /// table): its text is `%line`, and it has no traceback.
    continued: bool,
    /// The held line is held as a possible head whose `head` test was not
    /// run yet ([`Grouper::after_undecided`]).
    undecided: bool,
}

#[derive(Clone, Copy, Debug)]
struct Tentative {
    start: usize,
    ts: i64,
    origin: Origin,
}

/// How a lane's group ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Close {
    /// The grammar ended it: the stream starts afresh, and the last
    /// tentative line, if it matches `head`, is held again.
    End,
    /// It reached a limit: the stream stays where the grammar was, so the
    /// next line continues a traceback in a new group.
    Cut,
    /// Idle, or the input ended: the stream starts afresh.
    Flush,
}

impl Lane {
    fn new() -> Lane {
        Lane {
            state: State::Plain,
            text: String::new(),
            lines: 0,
            origin: Origin::default(),
            committed_last: 0,
            first_ts: 0,
            last_ts: i64::MIN,
            head: None,
            message: None,
            committed: 0,
            committed_lines: 0,
            // Sized at its first use: most files never hold a line tentatively.
            tentative: Vec::new(),
            prefix: String::new(),
            continued: false,
            undecided: false,
        }
    }

    fn set_prefix(&mut self, prefix: &str) {
        if self.prefix != prefix {
            prefix.clone_into(&mut self.prefix);
        }
    }

    /// The first raw line of the lines held, if any.
    fn held_first(&self) -> Option<u64> {
        (self.lines > 0).then_some(self.origin.first)
    }

    /// Whether `line` can join without passing a limit.
    fn has_room(&self, line: &str, join: &Join, max_lines: u32) -> bool {
        self.lines == 0
            || (self.lines < max_lines
                && self.text.len() + 1 + line.len() <= MAX_GROUP_BYTES
                && !(join.tentative && self.tentative.len() == TENTATIVE_LINES))
    }

    fn join(&mut self, line: &str, ts: i64, origin: Origin, join: Join) {
        // A held head line's indented continuation: part of the head.
        let extends_head = self.lines > 0 && self.state == State::Head && join.next == State::Head;
        if self.lines == 0 {
            self.first_ts = ts;
            self.origin = origin;
        } else {
            self.text.push('\n');
            self.origin = self.origin.join(origin);
        }
        let start = self.text.len();
        self.text.push_str(line);
        self.lines += 1;
        if let Some(offset) = join.message {
            self.message = Some((start + offset, self.text.len()));
        }
        if join.tentative {
            if self.tentative.capacity() == 0 {
                self.tentative.reserve_exact(TENTATIVE_LINES);
            }
            self.tentative.push(Tentative { start, ts, origin });
        } else {
            self.committed = self.text.len();
            self.committed_lines = self.lines;
            self.committed_last = self.origin.last;
            self.tentative.clear();
        }
        if extends_head {
            self.head = Some(self.text.len());
        }
        self.state = join.next;
    }

    /// Holds `line` as a possible head; nothing is held before.
    fn hold(&mut self, line: &str, ts: i64, origin: Origin) {
        debug_assert_eq!(self.lines, 0);
        self.join(line, ts, origin, Join { next: State::Head, tentative: false, message: None });
        self.head = Some(self.text.len());
    }

    /// The held group, without its tentative lines.
    fn committed_group(&self, stream: Stream, grammar: &Grammar) -> Group<'_> {
        let text = &self.text[..self.committed];
        let (line, traceback) = match (grammar, self.head) {
            (Grammar::Pattern { .. } | Grammar::Lines, _) => (text, None),
            (Grammar::Traceback { .. }, _) if self.continued => (text, None),
            (Grammar::Traceback { .. }, Some(head)) if head == text.len() => (text, None),
            (Grammar::Traceback { .. }, Some(head)) => (&text[..head], Some(&text[head + 1..])),
            (Grammar::Traceback { .. }, None) => {
                let line = match self.message {
                    Some((start, end)) if end <= text.len() => &text[start..end],
                    _ => text.split('\n').next().unwrap_or(text),
                };
                (line, Some(text))
            }
        };
        let origin = Origin { first: self.origin.first, last: self.committed_last };
        Group { stream, timestamp_ns: self.first_ts, line, traceback, lines: self.committed_lines, origin }
    }

    fn tentative_text(&self, k: usize) -> &str {
        let end = self.tentative.get(k + 1).map_or(self.text.len(), |next| next.start - 1);
        &self.text[self.tentative[k].start..end]
    }

    /// Keeps the last tentative line alone, as a held head line.
    fn rehold_last(&mut self) {
        let last = self.tentative[self.tentative.len() - 1];
        self.text.replace_range(..last.start, "");
        self.clear_marks();
        self.lines = 1;
        self.origin = last.origin;
        self.committed_last = last.origin.last;
        self.first_ts = last.ts;
        self.head = Some(self.text.len());
        self.committed = self.text.len();
        self.committed_lines = 1;
        self.state = State::Head;
        self.undecided = false;
    }

    fn clear(&mut self) {
        self.text.clear();
        self.lines = 0;
        self.undecided = false;
        self.clear_marks();
    }

    fn clear_marks(&mut self) {
        self.head = None;
        self.message = None;
        self.committed = 0;
        self.committed_lines = 0;
        self.tentative.clear();
    }
}

/// Finished groups waiting for an earlier unit: a group the other stream
/// still holds, or a line still being assembled before the grouper (the
/// barrier). Ordered by first raw line.
#[derive(Debug, Default)]
struct Waiting {
    text: String,
    groups: Vec<Waiter>,
    lines: usize,
}

#[derive(Clone, Copy, Debug)]
struct Waiter {
    stream: Stream,
    ts: i64,
    lines: u32,
    origin: Origin,
    line: (usize, usize),
    traceback: Option<(usize, usize)>,
}

impl Waiting {
    fn push(&mut self, group: Group<'_>) {
        let base = self.text.len();
        let (line, traceback) = match group.traceback {
            Some(tb) => {
                self.text.push_str(tb);
                let traceback = (base, self.text.len());
                // A headless traceback's line is one of its own lines.
                let offset = (group.line.as_ptr() as usize).wrapping_sub(tb.as_ptr() as usize);
                let line = if offset <= tb.len() && group.line.len() <= tb.len() - offset {
                    (base + offset, base + offset + group.line.len())
                } else {
                    let start = self.text.len();
                    self.text.push_str(group.line);
                    (start, self.text.len())
                };
                (line, Some(traceback))
            }
            None => {
                self.text.push_str(group.line);
                ((base, self.text.len()), None)
            }
        };
        self.lines += group.lines as usize;
        let waiter = Waiter {
            stream: group.stream,
            ts: group.timestamp_ns,
            lines: group.lines,
            origin: group.origin,
            line,
            traceback,
        };
        // Groups mostly finish in order; a line completed from pieces may
        // start before groups already queued.
        let at = self.groups.iter().rposition(|w| w.origin.first < group.origin.first).map_or(0, |i| i + 1);
        self.groups.insert(at, waiter);
    }

    /// The first raw line of the earliest group queued.
    fn first(&self) -> Option<u64> {
        self.groups.first().map(|w| w.origin.first)
    }

    /// Sends the groups that start before `bound`, in order; returns how
    /// many lines they held.
    fn release<F: FnMut(Group<'_>)>(&mut self, bound: u64, sink: &mut F) -> usize {
        let n = self.groups.iter().take_while(|w| w.origin.first < bound).count();
        if n == 0 {
            return 0;
        }
        let mut lines = 0;
        for w in &self.groups[..n] {
            sink(Group {
                stream: w.stream,
                timestamp_ns: w.ts,
                line: &self.text[w.line.0..w.line.1],
                traceback: w.traceback.map(|(start, end)| &self.text[start..end]),
                lines: w.lines,
                origin: w.origin,
            });
            lines += w.lines as usize;
        }
        self.lines -= lines;
        self.groups.drain(..n);
        if self.groups.is_empty() {
            self.text.clear();
        }
        lines
    }

    fn over_budget(&self, max_lines: u32) -> bool {
        self.lines > max_lines as usize || self.text.len() > MAX_GROUP_BYTES
    }
}

/// Sends `group`, or queues it while an earlier unit is pending (`blocker`:
/// the first line held by the other stream, or the barrier); then sends
/// what waited for it. `next_held` is the first line still held by the
/// group's own stream after it.
#[inline]
fn deliver<F: FnMut(Group<'_>)>(
    waiting: &mut Waiting,
    sink: &mut F,
    group: Group<'_>,
    blocker: Option<u64>,
    next_held: Option<u64>,
) {
    let first = group.origin.first;
    if blocker.is_some_and(|b| b < first) || waiting.first().is_some_and(|w| w < first) {
        waiting.push(group);
        return;
    }
    sink(group);
    if !waiting.groups.is_empty() {
        let bound = blocker.unwrap_or(u64::MAX).min(next_held.unwrap_or(u64::MAX));
        waiting.release(bound, sink);
    }
}

/// The earlier of two optional positions.
#[inline]
fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Grouper {
    /// A grouper whose streams both group as `config` says.
    pub fn new(config: &GroupConfig) -> Grouper {
        Grouper::per_stream([Some(config), Some(config)])
    }

    /// A grouper for one file whose streams may group differently
    /// (`[stdout, stderr]`): a stream without a configuration passes its
    /// lines through one by one, in order with the other stream's groups.
    pub fn per_stream(configs: [Option<&GroupConfig>; 2]) -> Grouper {
        Grouper {
            shapes: configs.map(Shape::of),
            lanes: [Lane::new(), Lane::new()],
            waiting: Waiting::default(),
            barrier: None,
            reordered: 0,
            next_seq: 0,
            lazy_head: true,
        }
    }

    /// The same grouper, running the `head` test on every line outside a
    /// group as it comes instead of when the next line could join a head
    /// line. The groups are the same either way; tests compare the two.
    #[doc(hidden)]
    pub fn with_head_decided_at_once(mut self) -> Grouper {
        self.lazy_head = false;
        self
    }

    /// Reads the next line of the file; `sink` gets every group this line
    /// finishes (often the line itself, at once). The line's origin is its
    /// sequence number.
    pub fn push<F: FnMut(Group<'_>)>(&mut self, stream: Stream, timestamp_ns: i64, line: &str, sink: &mut F) {
        let origin = Origin::at(self.next_seq);
        self.next_seq += 1;
        self.push_at(stream, timestamp_ns, line, origin, sink);
    }

    /// [`Grouper::push`] for a line that came from the raw lines `origin`,
    /// which the groups it joins report in [`Group::origin`]. Groups come out
    /// in the order of their `origin.first`.
    #[inline]
    pub fn push_at<F: FnMut(Group<'_>)>(
        &mut self,
        stream: Stream,
        timestamp_ns: i64,
        line: &str,
        origin: Origin,
        sink: &mut F,
    ) {
        let i = stream as usize;
        if self.lanes[1 - i].undecided && !self.lanes[1 - i].text.starts_with('{') {
            // The other stream's line would make this one wait, queued: its
            // test now costs less than the queue. Not a JSON object's: its
            // test reads the whole object for its level (the two cost
            // about the same, and the line may still need no test).
            self.decide(1 - i, sink);
        }
        if let Grammar::Lines = self.shapes[i].grammar {
            // A stream that does not group: its lane never holds a line.
            let group = Group { stream, timestamp_ns, line, traceback: None, lines: 1, origin };
            let blocker = earliest(self.lanes[1 - i].held_first(), self.barrier);
            deliver(&mut self.waiting, sink, group, blocker, None);
            if !self.waiting.groups.is_empty() {
                self.relieve(sink);
            }
        } else {
            self.push_grouped(i, stream, timestamp_ns, line, origin, sink);
        }
    }

    /// [`Grouper::push_at`] on a stream that groups.
    fn push_grouped<F: FnMut(Group<'_>)>(
        &mut self,
        i: usize,
        stream: Stream,
        timestamp_ns: i64,
        line: &str,
        origin: Origin,
        sink: &mut F,
    ) {
        let shape = &self.shapes[i];
        if timestamp_ns.saturating_sub(self.lanes[i].last_ts) > shape.idle_ns {
            self.quiet(i, sink);
        }
        self.lanes[i].last_ts = timestamp_ns;
        loop {
            let (body_start, transition) = if self.lanes[i].undecided {
                match self.after_undecided(i, line, stream, sink) {
                    Some(transition) => (0, transition),
                    None => continue,
                }
            } else {
                let (shape, lane) = (&self.shapes[i], &self.lanes[i]);
                // The grammar reads the line without a process tag that repeats
                // on every line of the group (`(APIServer pid=1) `, `[rank0]: `).
                let body_start = match lane.state {
                    State::Plain => line_prefix(line),
                    _ if lane.prefix.is_empty() => 0,
                    _ => match strip_prefix(line, &lane.prefix) {
                        Some(start) => start,
                        None => {
                            // Another process's line: the group is over.
                            self.close(i, Close::End, sink);
                            continue;
                        }
                    },
                };
                (body_start, shape.grammar.step(lane.state, &line[body_start..], stream))
            };
            let body = &line[body_start..];
            let transition = match transition {
                // The test can wait while the line, if it is no head line,
                // would go out at once: nothing it waits for, so holding it
                // a while changes no order and no queue.
                Transition::HeadOrSingle
                    if self.lazy_head && line.len() <= UNTESTED_MAX && !self.would_wait(i, origin) =>
                {
                    Transition::HeadOrSingle
                }
                Transition::HeadOrSingle if self.shapes[i].grammar.is_head(body) => Transition::Hold,
                Transition::HeadOrSingle => Transition::Single,
                other => other,
            };
            match transition {
                Transition::Single => {
                    let group = Group { stream, timestamp_ns, line, traceback: None, lines: 1, origin };
                    let blocker = earliest(self.lanes[1 - i].held_first(), self.barrier);
                    deliver(&mut self.waiting, sink, group, blocker, None);
                    break;
                }
                Transition::Hold | Transition::HeadOrSingle => {
                    // A head line is kept whole: its rule reads the tag. A
                    // line that may be one is held the same way, its test
                    // left until the next line could join it.
                    let lane = &mut self.lanes[i];
                    lane.hold(line, timestamp_ns, origin);
                    lane.set_prefix(&line[..body_start]);
                    lane.continued = false;
                    lane.undecided = transition == Transition::HeadOrSingle;
                    break;
                }
                Transition::End => self.close(i, Close::End, sink),
                Transition::Join(join) => {
                    let (shape, lane) = (&self.shapes[i], &self.lanes[i]);
                    if !lane.has_room(body, &join, shape.max_lines) {
                        if lane.tentative.is_empty() && lane.state != State::Head {
                            self.close(i, Close::Cut, sink);
                        } else {
                            self.close(i, Close::End, sink);
                            continue;
                        }
                    }
                    let lane = &mut self.lanes[i];
                    if lane.lines == 0 {
                        lane.set_prefix(&line[..body_start]);
                        lane.continued =
                            matches!(join.next, State::KlogContinued { .. } | State::KlogProse | State::PipError);
                    }
                    lane.join(body, timestamp_ns, origin, join);
                    break;
                }
            }
        }
        if !self.waiting.groups.is_empty() {
            self.relieve(sink);
        }
    }

    /// Lane `i` holds a line whose `head` test was left for later, and
    /// `line` comes next on its stream. Runs the test only if the answer
    /// matters (the line could join a head line), closes the held line as a
    /// group of its own if it is not a head, and returns what `line` does
    /// then; `None` when the line is to be stepped as usual, the held line
    /// decided first (a process tag on either line: the grammar would read
    /// the line differently after a head line).
    fn after_undecided<F: FnMut(Group<'_>)>(
        &mut self,
        i: usize,
        line: &str,
        stream: Stream,
        sink: &mut F,
    ) -> Option<Transition> {
        if !self.lanes[i].prefix.is_empty() || line_prefix(line) != 0 {
            self.decide(i, sink);
            return None;
        }
        Some(match self.shapes[i].grammar.after_candidate(line, stream) {
            traceback::AfterCandidate::Alone(transition) => {
                self.send_candidate(i, sink);
                transition
            }
            traceback::AfterCandidate::Depends { if_head, otherwise } => {
                if self.candidate_is_head(i) {
                    self.lanes[i].undecided = false;
                    if_head
                } else {
                    self.send_candidate(i, sink);
                    otherwise
                }
            }
        })
    }

    /// Sends lane `i`'s undecided line as a group of its own, as closing
    /// the lane would, without the steps a group of several lines needs: it
    /// is the lane's only line, and nothing it waits for (it was held only
    /// when it would go out at once).
    fn send_candidate<F: FnMut(Group<'_>)>(&mut self, i: usize, sink: &mut F) {
        let stream = if i == 0 { Stream::Stdout } else { Stream::Stderr };
        debug_assert!(!self.would_wait(i, self.lanes[i].origin), "an undecided line never waits");
        let lane = &mut self.lanes[i];
        debug_assert!(lane.undecided && lane.lines == 1 && lane.tentative.is_empty());
        let group = Group {
            stream,
            timestamp_ns: lane.first_ts,
            line: &lane.text,
            traceback: None,
            lines: 1,
            origin: lane.origin,
        };
        sink(group);
        if !self.waiting.groups.is_empty() {
            let blocker = earliest(self.lanes[1 - i].held_first(), self.barrier);
            self.waiting.release(blocker.unwrap_or(u64::MAX), sink);
        }
        let lane = &mut self.lanes[i];
        lane.clear();
        lane.state = State::Plain;
    }

    /// Whether a unit of lane `i` starting at `origin` would wait in the
    /// queue if it were finished now (as [`deliver`] decides).
    fn would_wait(&self, i: usize, origin: Origin) -> bool {
        let blocker = earliest(self.lanes[1 - i].held_first(), self.barrier);
        blocker.is_some_and(|b| b < origin.first) || self.waiting.first().is_some_and(|w| w < origin.first)
    }

    /// Runs the `head` test of lane `i`'s held line if it was left for
    /// later: a head line stays held, any other line goes out on its own.
    fn decide<F: FnMut(Group<'_>)>(&mut self, i: usize, sink: &mut F) {
        if !self.lanes[i].undecided {
            return;
        }
        if self.candidate_is_head(i) {
            self.lanes[i].undecided = false;
        } else {
            self.send_candidate(i, sink);
        }
    }

    /// The `head` test of lane `i`'s held line, read without its process tag
    /// as the grammar read it.
    fn candidate_is_head(&self, i: usize) -> bool {
        let lane = &self.lanes[i];
        self.shapes[i].grammar.is_head(&lane.text[lane.prefix.len()..lane.committed])
    }

    /// Sends the lines held only because their `head` test was left for the
    /// next line (a line outside any group is held until the next line of
    /// its stream shows whether the test matters). Call it when no more
    /// lines are at hand for now (at the end of what was read), so that such
    /// a line does not wait for the next read, or for `idle`. The groups are
    /// the same whether and whenever it is called.
    pub fn settle<F: FnMut(Group<'_>)>(&mut self, sink: &mut F) {
        for i in self.oldest_first() {
            self.decide(i, sink);
        }
    }

    /// Says where the first unit still being assembled before the grouper
    /// starts (a line whose pieces the framer is still joining), or `None`:
    /// groups that start after it wait for it, so that a file's units come
    /// out in the order of their first raw line however they were
    /// assembled. Moving the barrier later sends what waited for it.
    ///
    /// A unit pushed while the barrier is at its own first line passes.
    #[inline]
    pub fn set_barrier<F: FnMut(Group<'_>)>(&mut self, barrier: Option<u64>, sink: &mut F) {
        if self.barrier == barrier {
            return;
        }
        let moved_later = match (self.barrier, barrier) {
            (Some(old), Some(new)) => new > old,
            (Some(_), None) => true,
            (None, _) => false,
        };
        self.barrier = barrier;
        if moved_later && !self.waiting.groups.is_empty() {
            let held = earliest(self.lanes[0].held_first(), self.lanes[1].held_first());
            self.waiting.release(earliest(held, barrier).unwrap_or(u64::MAX), sink);
        }
    }

    /// Lines that were let through ahead of the barrier because the queue
    /// behind it was full (see the module documentation).
    pub fn reordered(&self) -> u64 {
        self.reordered
    }

    /// Closes the groups whose last line is more than `idle_ms` older than
    /// `now_ns` (on the lines' clock). For tailing: call it when no line came
    /// for a while, at [`Grouper::next_deadline`] at the latest.
    pub fn flush_idle<F: FnMut(Group<'_>)>(&mut self, now_ns: i64, sink: &mut F) {
        for i in self.oldest_first() {
            if now_ns.saturating_sub(self.lanes[i].last_ts) > self.shapes[i].idle_ns {
                self.quiet(i, sink);
            }
        }
    }

    /// The end of the file: sends every group still held, and gets ready for
    /// the next file. Nothing is assembled before the grouper any more: the
    /// barrier is lifted.
    pub fn finish<F: FnMut(Group<'_>)>(&mut self, sink: &mut F) {
        self.barrier = None;
        for i in self.oldest_first() {
            self.quiet(i, sink);
            self.lanes[i].last_ts = i64::MIN;
        }
        self.waiting.release(u64::MAX, sink);
        self.next_seq = 0;
    }

    /// The first time, on the lines' clock, at which [`Grouper::flush_idle`]
    /// will have something to do; `None` while nothing is held.
    pub fn next_deadline(&self) -> Option<i64> {
        self.lanes
            .iter()
            .zip(&self.shapes)
            .filter(|(lane, _)| lane.lines > 0 || lane.state != State::Plain)
            .map(|(lane, shape)| lane.last_ts.saturating_add(shape.idle_ns).saturating_add(1))
            .min()
    }

    /// The earliest first raw line of the lines held (in a group still
    /// open, or finished and waiting for an earlier one), if any.
    pub fn oldest_held(&self) -> Option<u64> {
        let lanes = earliest(self.lanes[0].held_first(), self.lanes[1].held_first());
        earliest(lanes, self.waiting.first())
    }

    /// Lines pushed but not yet sent in a group.
    pub fn buffered_lines(&self) -> usize {
        self.lanes.iter().map(|lane| lane.lines as usize).sum::<usize>() + self.waiting.lines
    }

    /// The stream's quiet time passed: close its group, forget its state.
    fn quiet<F: FnMut(Group<'_>)>(&mut self, i: usize, sink: &mut F) {
        if self.lanes[i].lines > 0 {
            self.close(i, Close::Flush, sink);
        }
        self.lanes[i].state = State::Plain;
    }

    /// Stream indices, the one holding the earliest line first.
    fn oldest_first(&self) -> [usize; 2] {
        let held = |i: usize| self.lanes[i].held_first().unwrap_or(u64::MAX);
        if held(1) < held(0) { [1, 0] } else { [0, 1] }
    }

    /// Sends lane `i`'s held lines: the group, then the tentative lines one
    /// by one.
    fn close<F: FnMut(Group<'_>)>(&mut self, i: usize, how: Close, sink: &mut F) {
        let Grouper { shapes, lanes, waiting, barrier, .. } = self;
        let grammar = &shapes[i].grammar;
        let [stdout, stderr] = lanes;
        let (lane, other) = if i == 0 { (stdout, &*stderr) } else { (stderr, &*stdout) };
        let stream = if i == 0 { Stream::Stdout } else { Stream::Stderr };
        let blocker = earliest(other.held_first(), *barrier);
        let n = lane.tentative.len();
        let rehold = how == Close::End && n > 0 && grammar.is_head(lane.tentative_text(n - 1));
        let singles = if rehold { n - 1 } else { n };
        if lane.committed_lines > 0 {
            let next_held = lane.tentative.first().map(|t| t.origin.first);
            deliver(waiting, sink, lane.committed_group(stream, grammar), blocker, next_held);
        }
        for k in 0..singles {
            let tentative = lane.tentative[k];
            let group = Group {
                stream,
                timestamp_ns: tentative.ts,
                line: lane.tentative_text(k),
                traceback: None,
                lines: 1,
                origin: tentative.origin,
            };
            let next_held = lane.tentative.get(k + 1).map(|t| t.origin.first);
            deliver(waiting, sink, group, blocker, next_held);
        }
        if rehold {
            lane.rehold_last();
        } else {
            let keep_state = how == Close::Cut && n == 0 && lane.state != State::Head;
            lane.clear();
            if !keep_state {
                lane.state = State::Plain;
            }
        }
    }

    /// Bounds the queue: past `max_lines` lines or `MAX_GROUP_BYTES`, the
    /// group it waits for is cut; a line still being assembled cannot be, so
    /// what waits for it alone is let through (counted in
    /// [`Grouper::reordered`]).
    fn relieve<F: FnMut(Group<'_>)>(&mut self, sink: &mut F) {
        loop {
            let [first, _] = self.oldest_first();
            if !self.waiting.over_budget(self.shapes[first].max_lines) {
                break;
            }
            if self.lanes.iter().any(|lane| lane.undecided) {
                // What a full queue does depends on what is held: a line
                // that is no head line is not.
                self.settle(sink);
                continue;
            }
            let lane = self.lanes[first].held_first();
            match (lane, self.barrier) {
                (Some(_), None) => self.close(first, Close::Cut, sink),
                (Some(held), Some(barrier)) if held < barrier => self.close(first, Close::Cut, sink),
                (held, Some(_)) => {
                    let released = self.waiting.release(held.unwrap_or(u64::MAX), sink);
                    self.reordered += released as u64;
                    if released == 0 {
                        // What is left waits for a group too: cut it, so the
                        // queue stays bounded whatever comes.
                        if held.is_none() {
                            break;
                        }
                        self.close(first, Close::Cut, sink);
                    }
                }
                (None, None) => break,
            }
        }
    }
}
