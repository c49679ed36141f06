//! What a Python traceback and a Go panic look like, one raw line at a time.
//!
//! The grammar is a small state machine over whole lines. It never looks at
//! more than the current line: where a line's meaning depends on the next one
//! (a blank line after an exception line, which is part of the traceback only
//! if a chain follows; a `panic: …` line, which is a panic only if a goroutine
//! dump follows), the line joins the group *tentatively* and the grouper
//! undoes that if the next line says otherwise.
//!
//! Python prints a traceback as
//!
//! ```text
//! Traceback (most recent call last):            header
//!   File "/app/model.py", line 12, in predict   indented: frames, source,
//!     raise ValueError("bad input")             `^^^^` markers,
//!     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^             `[Previous line repeated …]`
//! ValueError: bad input                         the first unindented line
//!                                               blank (dropped by framing)
//! During handling of the above exception, another exception occurred:
//!
//! Traceback (most recent call last):            the next traceback of the chain
//! …
//! ```
//!
//! Loguru marks the frame that caught the exception with `> File "…"` (not
//! indented), and `rich` draws the frames in a box (`╭──╮`, `│ … │`,
//! `╰──╯`, its header in the top border or on the line before): both are
//! frames.
//!
//! Python prints an exception group (3.11+) entirely indented, framed by
//! `+` and `|` (it ends at the first line that is not: its last closing
//! line may be that of a nested group, or missing):
//!
//! ```text
//!   + Exception Group Traceback (most recent call last):
//!   |   File "/app/main.py", line 3, in <module>
//!   | ExceptionGroup: two failures (2 sub-exceptions)   the group's own exception line
//!   +-+---------------- 1 ----------------
//!     | ValueError: 1
//!     +---------------- 2 ----------------
//!     | TypeError: 2
//!     +------------------------------------             the end of the top-level group
//! ```
//!
//! Go prints `panic: …` (or `fatal error: …`), maybe `[signal …]`, a blank
//! line, then `goroutine 1 [running]:` and frames: an unindented function
//! line (`main.main()`), a tab-indented file line, `created by …`, a blank
//! line between goroutines. A panic a server recovers is announced by a
//! `log` line instead (`2024/01/02 15:04:05 http: panic serving …: …`),
//! then the same dump.
//!
//! Rust prints `thread 'main' panicked at src/main.rs:2:5:`, the panic's
//! message on the next line (on the same line before Rust 1.73), `note:`
//! lines, and with `RUST_BACKTRACE` set, `stack backtrace:` and numbered
//! frames (`  12: std::rt::lang_start`, `             at /rustc/…`).
//!
//! A C++ program that dies prints `terminate called after throwing an
//! instance of 'std::bad_alloc'` and `  what():  std::bad_alloc` (libstdc++),
//! or a server's signal handler prints `Signal (11) received.` and numbered
//! native frames (`3# 0x00007F… in libtritonserver.so`, `#3 0x… in f()`,
//! `frame #3: …`); the shell adds `Aborted (core dumped)`. These open a group
//! whose first line is the message.

use super::Stream;
use crate::stdlib::level::normalize_level;

/// Where a stream's grouping stands after its last line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    /// Outside any group: a line passes through, is held as a possible head,
    /// or opens a group.
    Plain,
    /// A line matching `head` is held; the next line decides whether a
    /// traceback follows it.
    Head,
    /// Inside `Traceback (most recent call last):`, before the exception line.
    Frames,
    /// Inside `+ Exception Group Traceback (most recent call last):`, whose
    /// `+` is at column `indent`; `message_seen` once the group's own
    /// exception line (`| ExceptionGroup: …` at that indent) was read: the
    /// lines after it at that indent are notes; `members` once its first
    /// member began (`+-+---- 1 ----`): a frame at that indent after it
    /// starts the next group.
    ExceptionGroup { indent: u16, message_seen: bool, members: bool },
    /// After the exception line, or the last line of a top-level exception
    /// group: the traceback is complete unless a chain follows.
    Exception,
    /// A blank line after the exception line, held tentatively: Python
    /// prints one before a connecting sentence, but it may as well be the
    /// program's next, empty, line.
    ExceptionBlank,
    /// After a connecting sentence (`During handling of the above
    /// exception, another exception occurred:`): the next traceback of the
    /// chain follows, maybe after a blank line.
    Chained,
    /// After `panic: …` or `fatal error: …`, tentatively until a goroutine
    /// dump (`goroutine 1 [running]:`) confirms it.
    PanicHeader,
    /// Inside a Go goroutine dump.
    Goroutines,
    /// A blank line in a goroutine dump, tentatively until the next
    /// `goroutine N […]:` confirms it.
    GoroutinesBlank,
    /// After `thread '…' panicked at …`: its message (on the next line
    /// when the header ends with `:`) and `note:` lines follow.
    RustPanic { message_next: bool },
    /// Inside a Rust `stack backtrace:`.
    RustBacktrace,
    /// Inside a native crash: `terminate called …`, `Signal (N) received.`
    /// and what follows them.
    NativeCrash,
    /// After a klog line whose message is empty or ends with `:`, and the
    /// lines that continue it (a table, indented lines); `colon` until the
    /// first continuation line, which may then be any text.
    KlogContinued { colon: bool },
    /// A blank line after a klog continuation, tentatively.
    KlogBlank,
    /// After any other klog or absl line on stderr, and the lines that
    /// continue its message: a table, indented lines, or lines of prose
    /// with no header of their own (TensorFlow's `cpu_feature_guard`
    /// message, whose second line starts at the margin).
    KlogProse,
    /// After pip's `error: subprocess-exited-with-error`: its box (`×`,
    /// `│`, `╰─>`) and `note:` lines are the same message.
    PipError,
    /// A blank line in pip's error, tentatively.
    PipBlank,
    /// The custom form (`multiline { start, continue }`): a group is open.
    Continued,
}

/// What a line does, given the state of its stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Transition {
    /// Outside a group: the line is a group of its own.
    Single,
    /// Outside a group: the line matches `head`; hold it (state `Head`).
    Hold,
    /// Outside a group: [`Transition::Hold`] if the line matches `head`,
    /// else [`Transition::Single`]. The grouper may hold the line before it
    /// knows, and ask only when the next line could join a head line.
    HeadOrSingle,
    /// The line joins the open group, or opens one.
    Join(Join),
    /// The open group ends before this line, which is then read again from
    /// `Plain`.
    End,
}

/// How a line joins its group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Join {
    /// The stream's state after the line.
    pub next: State,
    /// The line belongs to the group only if a later line confirms it. A
    /// line that is not tentative confirms every tentative line before it.
    pub tentative: bool,
    /// `Some(offset)`: the line, from this byte offset, is the group's
    /// exception line, its `line` when no head line came before it.
    pub message: Option<usize>,
}

impl Join {
    pub(super) const fn commit(next: State) -> Transition {
        Transition::Join(Join { next, tentative: false, message: None })
    }

    const fn tentative(next: State) -> Transition {
        Transition::Join(Join { next, tentative: true, message: None })
    }

    const fn message(next: State, offset: usize) -> Transition {
        Transition::Join(Join { next, tentative: false, message: Some(offset) })
    }
}

pub(super) const TRACEBACK: &str = "Traceback (most recent call last):";
const GROUP_TRACEBACK: &str = "+ Exception Group Traceback (most recent call last):";
const DURING_HANDLING: &str = "During handling of the above exception, another exception occurred:";
const DIRECT_CAUSE: &str = "The above exception was the direct cause of the following exception:";

/// What a line that opens a group does, in `Plain` or after a head line
/// alike: a traceback, a Go or Rust panic, a native crash.
fn opening(t: &str) -> Option<Transition> {
    // Each of them starts with one of these bytes (`Traceback`, an indented
    // or boxed traceback, `panic: `, `fatal error: `, a Go log date,
    // `thread '…' panicked`, `terminate called`, `Signal (`): any other
    // line, a JSON object or most text, is not read further.
    if !matches!(t.as_bytes().first()?, b'T' | b' ' | b'\t' | 0xe2 | b'p' | b'f' | b't' | b'S' | b'0'..=b'9') {
        return None;
    }
    if let Some(opening) = opens_traceback(t, false) {
        return Some(opening);
    }
    if is_panic(t) {
        return Some(Transition::Join(Join { next: State::PanicHeader, tentative: true, message: Some(0) }));
    }
    if let Some(message_next) = rust_panic(t) {
        return Some(Join::message(State::RustPanic { message_next }, 0));
    }
    is_native_crash(t).then(|| Join::message(State::NativeCrash, 0))
}

/// What a line that opens nothing does after a head line, when it
/// continues it; `None` ends the head's group.
fn head_continuation(t: &str) -> Option<Transition> {
    // An error line followed by native frames (TensorRT-LLM's
    // `[TensorRT-LLM][ERROR] …` and the stack of its exception).
    if is_native_frame(t) {
        return Some(Join::commit(State::NativeCrash));
    }
    // Indented lines after an error line continue its message (a logger
    // call that printed several lines); a traceback may still follow them.
    is_indented(t).then(|| Join::commit(State::Head))
}

/// What a line that opens nothing does outside any group.
fn outside(line: &str, t: &str, stream: Stream, is_head: impl FnOnce(&str) -> bool) -> Transition {
    if pip_error(t) {
        return Join::commit(State::PipError);
    }
    let otherwise = match klog_message(t).map(str::trim_end) {
        // A klog line that announces more lines (Triton's model table):
        // they are its message's.
        Some(m) if m.is_empty() || m.ends_with(':') => Join::commit(State::KlogContinued { colon: m.ends_with(':') }),
        // glog, klog and absl write a message of several lines in one write
        // to stderr, with the header on its first line only; a program's own
        // prints go to stdout.
        Some(_) if stream == Stream::Stderr => Join::commit(State::KlogProse),
        _ => return Transition::HeadOrSingle,
    };
    if is_head(line) { Transition::Hold } else { otherwise }
}

/// What a line does after one held as a possible head whose `head` test
/// was left for later ([`Transition::HeadOrSingle`]): the same as after a
/// head line or a plain one ([`AfterCandidate::Alone`]: either way the held
/// line is a group of its own), or one thing or the other.
/// `is_head` is the line's own test, as for [`step`].
pub(super) fn after_candidate(line: &str, stream: Stream, is_head: impl FnOnce(&str) -> bool) -> AfterCandidate {
    let t = line.trim_end();
    if let Some(opening) = opening(t) {
        return AfterCandidate::Depends { if_head: opening, otherwise: opening };
    }
    match head_continuation(t) {
        Some(continues) => AfterCandidate::Depends { if_head: continues, otherwise: outside(line, t, stream, is_head) },
        None => AfterCandidate::Alone(outside(line, t, stream, is_head)),
    }
}

/// The step of a line after a candidate; see [`after_candidate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AfterCandidate {
    /// The candidate is a group of its own; then the line does this, from
    /// `Plain`.
    Alone(Transition),
    /// The line does `if_head` when the candidate is a head line; else the
    /// candidate is a group of its own and the line does `otherwise`, from
    /// `Plain`.
    Depends { if_head: Transition, otherwise: Transition },
}

/// The step of a line in the Python traceback grammar (Go panics included).
/// `is_head` is asked of a line outside any group that opens none only when
/// the answer decides at once (a klog line that would take the lines after
/// it, a klog message's prose); otherwise the step is
/// [`Transition::HeadOrSingle`], for the grouper to decide when the next line
/// shows that it matters ([`after_candidate`]).
pub(super) fn step(state: State, line: &str, stream: Stream, is_head: impl FnOnce(&str) -> bool) -> Transition {
    let t = line.trim_end();
    match state {
        State::Plain | State::Head => {
            if let Some(opening) = opening(t) {
                return opening;
            }
            if state == State::Head {
                return head_continuation(t).unwrap_or(Transition::End);
            }
            outside(line, t, stream, is_head)
        }
        State::Frames => {
            if t.is_empty() || is_indented(t) || is_marked_frame(t) {
                Join::commit(State::Frames)
            } else if t == TRACEBACK {
                // A new traceback: the previous one never printed its
                // exception line.
                Transition::End
            } else {
                Join::message(State::Exception, 0)
            }
        }
        State::ExceptionGroup { indent, message_seen, members } => {
            let Some(column) = group_frame_column(t) else {
                // The group is over (its last closing line may be that of a
                // nested group, or missing): a chain may follow.
                return step(State::Exception, line, stream, is_head);
            };
            let indent_column = usize::from(indent);
            if members && column <= indent_column {
                // Back at the top level after the members: the next group.
                return Transition::End;
            }
            if column == indent_column && t[column..].starts_with("+-+") {
                return Join::commit(State::ExceptionGroup { indent, message_seen, members: true });
            }
            if !message_seen && let Some(offset) = top_group_message(t, indent_column) {
                return Join::message(State::ExceptionGroup { indent, message_seen: true, members }, offset);
            }
            Join::commit(state)
        }
        State::Exception | State::ExceptionBlank => {
            if t == DURING_HANDLING || t == DIRECT_CAUSE {
                Join::commit(State::Chained)
            } else if t.is_empty() && state == State::Exception {
                Join::tentative(State::ExceptionBlank)
            } else {
                Transition::End
            }
        }
        State::Chained => {
            if t.is_empty() {
                return Join::commit(State::Chained);
            }
            opens_traceback(t, true).unwrap_or(Transition::End)
        }
        State::PanicHeader => {
            if is_goroutine(t) || t == "runtime stack:" {
                Join::commit(State::Goroutines)
            } else if t.is_empty() || is_indented(t) || t.starts_with("[signal ") || is_panic(t) {
                Join::tentative(State::PanicHeader)
            } else {
                Transition::End
            }
        }
        State::Goroutines | State::GoroutinesBlank => {
            if is_goroutine(t) || t == "runtime stack:" {
                Join::commit(State::Goroutines)
            } else if t.is_empty() {
                Join::tentative(State::GoroutinesBlank)
            } else if state == State::Goroutines && (is_indented(t) || is_go_frame(t)) {
                Join::commit(State::Goroutines)
            } else {
                Transition::End
            }
        }
        State::RustPanic { message_next } => {
            if (message_next && !t.is_empty()) || t.starts_with("note: ") {
                Join::commit(State::RustPanic { message_next: false })
            } else if t == "stack backtrace:" {
                Join::commit(State::RustBacktrace)
            } else {
                Transition::End
            }
        }
        State::RustBacktrace => {
            if is_rust_frame(t) || t.starts_with("note: ") {
                Join::commit(State::RustBacktrace)
            } else {
                Transition::End
            }
        }
        State::NativeCrash => {
            if is_native_crash_line(t) {
                Join::commit(State::NativeCrash)
            } else {
                Transition::End
            }
        }
        State::KlogContinued { colon } => {
            if is_continuation(t) || (colon && !t.is_empty() && klog_message(t).is_none()) {
                Join::commit(State::KlogContinued { colon: false })
            } else if t.is_empty() {
                Join::tentative(State::KlogBlank)
            } else {
                Transition::End
            }
        }
        State::KlogBlank => {
            if is_continuation(t) {
                Join::commit(State::KlogContinued { colon: false })
            } else {
                Transition::End
            }
        }
        State::KlogProse => {
            if is_continuation(t) || (is_prose(t) && !is_head(line)) {
                Join::commit(State::KlogProse)
            } else {
                Transition::End
            }
        }
        State::PipError | State::PipBlank => {
            if is_pip_continuation(t) {
                Join::commit(State::PipError)
            } else if t.is_empty() && state == State::PipError {
                Join::tentative(State::PipBlank)
            } else {
                Transition::End
            }
        }
        State::Continued => unreachable!("the custom form has its own grammar"),
    }
}

/// The step of a traceback's first line, if `t` is one:
///
/// - `Traceback (most recent call last):` (leading spaces allowed);
/// - an exception group's `+ Exception Group Traceback (most recent call
///   last):`, or its exception line `| ExceptionGroup: … (2 sub-exceptions)`
///   when the group has no traceback of its own (re-raised by `except*`);
/// - unless `in_chain`, `  File "…", line N`: Python prints a `SyntaxError`
///   in the main script without a header.
fn opens_traceback(t: &str, in_chain: bool) -> Option<Transition> {
    let first = *t.as_bytes().first()?;
    if first == b'T' {
        return (t == TRACEBACK).then_some(Join::commit(State::Frames));
    }
    // `rich`'s box with the header in its top border.
    if t.starts_with('╭') && t.contains("Traceback (most recent call last)") {
        return Some(Join::commit(State::Frames));
    }
    if first != b' ' && first != b'\t' {
        return None;
    }
    let body = t.trim_start();
    if body == TRACEBACK {
        return Some(Join::commit(State::Frames));
    }
    let column = t.len() - body.len();
    let indent = u16::try_from(column).ok()?;
    if body == GROUP_TRACEBACK {
        return Some(Join::commit(State::ExceptionGroup { indent, message_seen: false, members: false }));
    }
    if is_group_message(body) {
        return Some(Join::message(State::ExceptionGroup { indent, message_seen: true, members: false }, column + 2));
    }
    if !in_chain
        && let Some(rest) = t.strip_prefix("  File \"")
        && let Some(at) = rest.find("\", line ")
        && rest.as_bytes().get(at + 8).is_some_and(u8::is_ascii_digit)
    {
        return Some(Join::commit(State::Frames));
    }
    None
}

/// `| ExceptionGroup: message (2 sub-exceptions)`, any group class.
fn is_group_message(body: &str) -> bool {
    let Some(text) = body.strip_prefix("| ") else { return false };
    let Some(open) = text.rfind(" (") else { return false };
    let count = &text[open + 2..];
    let digits = count.bytes().take_while(u8::is_ascii_digit).count();
    text.starts_with(|c: char| !c.is_whitespace())
        && digits > 0
        && matches!(&count[digits..], " sub-exception)" | " sub-exceptions)")
}

/// A line of an exception group's frame (spaces, then `|` or `+`): the
/// column of the `|` or `+`.
fn group_frame_column(t: &str) -> Option<usize> {
    let column = t.len() - t.trim_start_matches(' ').len();
    (column > 0 && matches!(t.as_bytes().get(column), Some(b'|' | b'+'))).then_some(column)
}

/// A frame line that is not indented: loguru's `> File "…"` at the frame
/// that caught the exception, and `rich`'s box (`╭──╮`, `│ … │`, `╰──╯`).
fn is_marked_frame(t: &str) -> bool {
    t.starts_with("> File \"") || t.starts_with(['╭', '│', '╰'])
}

fn is_indented(t: &str) -> bool {
    matches!(t.as_bytes().first(), Some(b' ' | b'\t'))
}

/// `panic: …` or `fatal error: …` at the start of the line, or a `log`
/// line (`2024/01/02 15:04:05 …`) that speaks of a panic: the first line of
/// a Go crash, if a goroutine dump follows.
fn is_panic(t: &str) -> bool {
    t.starts_with("panic: ") || t.starts_with("fatal error: ") || go_log_panic(t)
}

/// `2024/01/02 15:04:05 http: panic serving 10.0.0.1:1234: …` (also with
/// microseconds): a Go `log` line about a panic.
fn go_log_panic(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let stamp = b.len() > 20
        && digits(0..4)
        && b[4] == b'/'
        && digits(5..7)
        && b[7] == b'/'
        && digits(8..10)
        && b[10] == b' '
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    stamp && t[19..].contains("panic")
}

/// `thread 'main' panicked at src/main.rs:2:5:` (Rust 1.73 and later: the
/// message on the next line) or `thread 'main' panicked at 'boom',
/// src/main.rs:2:5` (before): whether the message comes on the next line.
fn rust_panic(t: &str) -> Option<bool> {
    let rest = t.strip_prefix("thread '")?;
    let at = rest.find("' panicked at ")?;
    Some(rest[at..].ends_with(':'))
}

/// A frame of a Rust backtrace: `  12: std::rt::lang_start` or its
/// `             at /rustc/…/src/rt.rs:159:18`.
fn is_rust_frame(t: &str) -> bool {
    let body = t.trim_start();
    if body.len() == t.len() {
        return false;
    }
    if body.starts_with("at ") {
        return true;
    }
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && body[digits..].starts_with(": ")
}

/// The message of a klog line (`I0415 02:43:44.019434 1 server.cc:570] …`).
fn klog_message(t: &str) -> Option<&str> {
    klog_severity(t)?;
    let close = t.find("] ").or_else(|| t.ends_with(']').then(|| t.len() - 1))?;
    Some(t.get(close + 2..).unwrap_or(""))
}

/// The severity letter (`I`, `W`, `E`, `F`) of a glog or klog line
/// (`I0510 11:33:14.068255 …`), or of an absl line as TensorFlow writes it
/// (`2024-05-10 11:33:14.068255: I …`).
pub(super) fn klog_severity(t: &str) -> Option<u8> {
    let b = t.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let severity = |i: usize| b.get(i).copied().filter(|c| matches!(c, b'I' | b'W' | b'E' | b'F'));
    if (1..5).all(digit) && b.get(5) == Some(&b' ') && digit(6) && digit(7) && b.get(8) == Some(&b':') {
        return severity(0);
    }
    let date = (0..4).chain([5, 6, 8, 9, 11, 12, 14, 15, 17, 18]).all(digit)
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && b.get(10) == Some(&b' ')
        && b.get(13) == Some(&b':')
        && b.get(16) == Some(&b':')
        && b.get(19) == Some(&b'.');
    if !date {
        return None;
    }
    let end = 20 + b[20.min(b.len())..].iter().take_while(|c| c.is_ascii_digit()).count();
    let shape = end > 20 && b.get(end) == Some(&b':') && b.get(end + 1) == Some(&b' ') && b.get(end + 3) == Some(&b' ');
    if shape { severity(end + 2) } else { None }
}

/// A line that continues a klog message: a table row or border (`+---`,
/// `| … |`), or an indented line.
fn is_continuation(t: &str) -> bool {
    t.starts_with(['+', '|']) || is_indented(t)
}

/// A line of prose with no header of its own, which continues a klog
/// message: it starts with a letter, and neither with a level word
/// (`INFO:`, `Warning …`) nor as a record of its own starts (a traceback, a
/// panic, a crash, pip's error).
fn is_prose(t: &str) -> bool {
    if !t.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
        return false;
    }
    let word = t.split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
    normalize_level(word).is_none()
        && opens_traceback(t, false).is_none()
        && !is_panic(t)
        && rust_panic(t).is_none()
        && !is_native_crash(t)
        && !pip_error(t)
        && klog_message(t).is_none()
}

/// pip's `error: subprocess-exited-with-error` (a kebab-case error code).
fn pip_error(t: &str) -> bool {
    let Some(code) = t.strip_prefix("error: ") else { return false };
    code.contains('-') && code.split('-').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
}

/// A line of pip's error after its first: the box (`×`, `│`, `╰─>`), its
/// `note:` and `hint:` lines, indented output.
fn is_pip_continuation(t: &str) -> bool {
    t.starts_with(['×', '│', '╰', '╭']) || t.starts_with("note: ") || t.starts_with("hint: ") || is_indented(t)
}

/// The first line of a native crash: libstdc++'s terminate handler, or a
/// server's signal handler.
fn is_native_crash(t: &str) -> bool {
    t.starts_with("terminate called after throwing an instance of ")
        || t.starts_with("terminate called without an active exception")
        || t.starts_with("terminate called recursively")
        || (t.starts_with("Signal (") && t.ends_with(") received."))
}

/// A numbered native frame as backtrace(3) and boost print it:
/// `1       0x7fd1a11c612f /opt/…/libfoo.so(+0x4512f) [0x7fd1a11c612f]`,
/// `3# 0x00007F… in libtritonserver.so`, `#3 0x… in f()`.
fn is_native_frame(t: &str) -> bool {
    let body = t.strip_prefix('#').unwrap_or(t);
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &body[digits..];
    digits > 0 && rest.trim_start_matches(['#', ' ']).starts_with("0x") && rest.starts_with(['#', ' '])
}

/// A line of a native crash after its first: indented (`  what():  …`),
/// a numbered frame (`3# …`, `#3 …`, `frame #3: …`, `3  0x7f… …`), PyTorch's
/// `Exception raised from …`, or the shell's `Aborted (core dumped)` and
/// `Segmentation fault`.
fn is_native_crash_line(t: &str) -> bool {
    if t.is_empty() {
        return false;
    }
    if is_indented(t) || t.starts_with("Exception raised from ") || t.starts_with("frame #") {
        return true;
    }
    let killed = ["Aborted", "Aborted (core dumped)", "Segmentation fault", "Segmentation fault (core dumped)"];
    if killed.iter().any(|k| t.ends_with(k)) {
        return true;
    }
    let body = t.strip_prefix('#').unwrap_or(t);
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0
        && (body[digits..].starts_with("# ") || body[digits..].starts_with(' '))
        && (body[digits..].trim_start().starts_with("0x") || t.starts_with('#') || body[digits..].starts_with("# "))
}

/// `goroutine 1 [running]:`, also with Go 1.23's `gp=… m=…` fields.
fn is_goroutine(t: &str) -> bool {
    t.strip_prefix("goroutine ")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()) && rest.ends_with("]:"))
}

/// A Go frame's function line (`main.main()`, `main.(*T).f(...)`,
/// `panic({0x4a8f40?, 0xc000012345?})`), or `created by …`. The file line
/// that follows each is tab-indented.
fn is_go_frame(t: &str) -> bool {
    if t.starts_with("created by ") || t == "...additional frames elided..." {
        return true;
    }
    match t.find('(') {
        Some(open) => open > 0 && !t[..open].contains([' ', '\t']) && t.ends_with(')'),
        None => false,
    }
}

/// `  | ExceptionGroup: two failures (2 sub-exceptions)` for a group whose
/// `+` is at `indent`: the group's own exception line, or one of its notes.
/// Returns where the exception text starts.
fn top_group_message(t: &str, indent: usize) -> Option<usize> {
    let b = t.as_bytes();
    let spaces = b.get(..indent)?;
    if !spaces.iter().all(|&c| c == b' ') || b.get(indent..indent + 2)? != b"| " {
        return None;
    }
    let text = &t[indent + 2..];
    let starts_word = text.as_bytes().first().is_some_and(|c| !c.is_ascii_whitespace());
    (starts_word && text != TRACEBACK && !text.starts_with("Exception Group Traceback")).then_some(indent + 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The step with its `head` test decided at once.
    fn eager(transition: Transition, line: &str, is_head: impl Fn(&str) -> bool) -> Transition {
        match transition {
            Transition::HeadOrSingle if is_head(line) => Transition::Hold,
            Transition::HeadOrSingle => Transition::Single,
            other => other,
        }
    }

    fn python(state: State, line: &str) -> Transition {
        let head = |l: &str| l.starts_with("ERROR");
        eager(step(state, line, Stream::Stdout, head), line, head)
    }

    fn stderr(state: State, line: &str) -> Transition {
        let head = |l: &str| l.contains("error");
        eager(step(state, line, Stream::Stderr, head), line, head)
    }

    #[test]
    fn a_klog_message_continues_in_prose_on_stderr() {
        // TensorFlow's cpu_feature_guard (absl), LlamaFactory issue 3673.
        let header = "2024-05-10 11:33:14.068255: I tensorflow/core/platform/cpu_feature_guard.cc:210] This TensorFlow \
                      binary is optimized to use available CPU instructions in performance-critical operations.";
        let prose = "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow.";
        assert_eq!(stderr(State::Plain, header), Join::commit(State::KlogProse));
        assert_eq!(python(State::Plain, header), Transition::Single, "on stdout a print may follow");
        assert_eq!(
            stderr(State::Plain, "I0415 02:43:44.019434 1 server.cc:633] started"),
            Join::commit(State::KlogProse)
        );
        assert_eq!(stderr(State::KlogProse, prose), Join::commit(State::KlogProse));
        assert_eq!(stderr(State::KlogProse, "  indented"), Join::commit(State::KlogProse));
        assert_eq!(stderr(State::KlogProse, "| model | 1 | READY |"), Join::commit(State::KlogProse));
        for own in [
            "INFO:44k:====> Epoch: 17, cost 49.26 s",
            "Warning: low memory",
            "an error occurred",
            "Traceback (most recent call last):",
            "panic: boom",
            "thread 'main' panicked at src/main.rs:2:5:",
            "terminate called after throwing an instance of 'std::bad_alloc'",
            "2024-05-10 11:33:15.185131: W tensorflow/compiler/tf2tensorrt/utils/py_utils.cc:38] TF-TRT Warning",
            "[2024-05-10 11:33:19,738] [INFO] [real_accelerator.py:161:get_accelerator] Setting ds_accelerator",
            "{\"levelname\": \"INFO\"}",
            "",
        ] {
            assert_eq!(stderr(State::KlogProse, own), Transition::End, "{own:?}");
        }
    }

    #[test]
    fn traceback_starts() {
        let frames = Some(Join::commit(State::Frames));
        assert_eq!(opens_traceback(TRACEBACK, false), frames);
        assert_eq!(opens_traceback("  Traceback (most recent call last):", true), frames);
        assert_eq!(
            opens_traceback("  + Exception Group Traceback (most recent call last):", true),
            Some(Join::commit(State::ExceptionGroup { indent: 2, message_seen: false, members: false }))
        );
        assert_eq!(opens_traceback("  File \"/app/main.py\", line 2", false), frames);
        assert_eq!(opens_traceback("  File \"/app/main.py\", line 2", true), None);
        assert_eq!(opens_traceback("  File \"/app/main.py\", line two", false), None);
        assert_eq!(opens_traceback("Traceback: none", false), None);
        assert_eq!(opens_traceback("  Downloading torch-2.3.1.whl (757.3 MB)", false), None);
        assert_eq!(opens_traceback("", false), None);
    }

    #[test]
    fn plain_lines() {
        assert_eq!(python(State::Plain, "INFO: fine"), Transition::Single);
        assert_eq!(python(State::Plain, "ERROR: bad"), Transition::Hold);
        assert_eq!(python(State::Head, "ERROR: bad"), Transition::End);
        assert_eq!(python(State::Head, TRACEBACK), Join::commit(State::Frames));
        assert_eq!(
            python(State::Plain, "panic: boom"),
            Transition::Join(Join { next: State::PanicHeader, tentative: true, message: Some(0) })
        );
    }

    #[test]
    fn frames_and_exception_line() {
        assert_eq!(python(State::Frames, "    ^^^^^^"), Join::commit(State::Frames));
        assert_eq!(python(State::Frames, "\traise"), Join::commit(State::Frames));
        assert_eq!(python(State::Frames, "KeyboardInterrupt"), Join::message(State::Exception, 0));
        assert_eq!(python(State::Frames, TRACEBACK), Transition::End);
        assert_eq!(python(State::Exception, ""), Join::tentative(State::ExceptionBlank));
        assert_eq!(python(State::Exception, "\r"), Join::tentative(State::ExceptionBlank));
        assert_eq!(python(State::ExceptionBlank, ""), Transition::End);
        assert_eq!(python(State::ExceptionBlank, DIRECT_CAUSE), Join::commit(State::Chained));
        assert_eq!(python(State::Exception, DURING_HANDLING), Join::commit(State::Chained));
        assert_eq!(python(State::Exception, "  indented"), Transition::End);
        assert_eq!(python(State::Chained, TRACEBACK), Join::commit(State::Frames));
        assert_eq!(python(State::Chained, "  File \"x.py\", line 1"), Transition::End);
        assert_eq!(python(State::Chained, "something else"), Transition::End);
    }

    #[test]
    fn exception_groups() {
        let group = State::ExceptionGroup { indent: 2, message_seen: false, members: false };
        let seen = State::ExceptionGroup { indent: 2, message_seen: true, members: false };
        let members = State::ExceptionGroup { indent: 2, message_seen: true, members: true };
        assert_eq!(python(State::Plain, "  + Exception Group Traceback (most recent call last):"), Join::commit(group));
        assert_eq!(python(State::Plain, "  | ExceptionGroup:  (2 sub-exceptions)"), Join::message(seen, 4));
        assert_eq!(python(State::Head, "  | BaseExceptionGroup: one (1 sub-exception)"), Join::message(seen, 4));
        assert_eq!(python(State::Plain, "  | not a group (2 things)"), Transition::Single);
        assert_eq!(python(State::Plain, "  |  (2 sub-exceptions)"), Transition::Single);
        assert_eq!(python(group, "  |   File \"<stdin>\", line 2, in <module>"), Join::commit(group));
        assert_eq!(python(group, "  | ExceptionGroup: eg (2 sub-exceptions)"), Join::message(seen, 4));
        assert_eq!(python(seen, "  | a note"), Join::commit(seen));
        assert_eq!(python(seen, "  +-+---------------- 1 ----------------"), Join::commit(members));
        assert_eq!(python(members, "    | "), Join::commit(members));
        assert_eq!(python(members, "    | ValueError: 1"), Join::commit(members));
        assert_eq!(python(members, "      +------------------------------------"), Join::commit(members));
        assert_eq!(python(members, "  | ExceptionGroup:  (2 sub-exceptions)"), Transition::End);
        assert_eq!(python(members, "  + Exception Group Traceback (most recent call last):"), Transition::End);
        assert_eq!(python(members, "\t| tabs are not a frame"), Transition::End);
        assert_eq!(python(seen, ""), Join::tentative(State::ExceptionBlank));
        assert_eq!(python(seen, DURING_HANDLING), Join::commit(State::Chained));
        assert_eq!(python(seen, "  Downloading torch-2.3.1.whl"), Transition::End);
        assert_eq!(python(seen, "next line"), Transition::End);
    }

    #[test]
    fn go_panics() {
        assert_eq!(
            python(State::PanicHeader, "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x48f7a3]"),
            Join::tentative(State::PanicHeader)
        );
        assert_eq!(python(State::PanicHeader, ""), Join::tentative(State::PanicHeader));
        assert_eq!(python(State::PanicHeader, "goroutine 1 [running]:"), Join::commit(State::Goroutines));
        assert_eq!(
            python(State::PanicHeader, "goroutine 1 gp=0xc000002380 m=0 mp=0x5a3b80 [running]:"),
            Join::commit(State::Goroutines)
        );
        assert_eq!(python(State::PanicHeader, "INFO starting"), Transition::End);
        assert_eq!(
            python(State::Goroutines, "main.(*Server).handle(0xc000010000, {0x4d8a70, 0x3})"),
            Join::commit(State::Goroutines)
        );
        assert_eq!(python(State::Goroutines, "\t/app/main.go:8 +0x1d"), Join::commit(State::Goroutines));
        assert_eq!(python(State::Goroutines, "created by main.main in goroutine 1"), Join::commit(State::Goroutines));
        assert_eq!(python(State::Goroutines, ""), Join::tentative(State::GoroutinesBlank));
        assert_eq!(python(State::GoroutinesBlank, "goroutine 7 [chan receive]:"), Join::commit(State::Goroutines));
        assert_eq!(python(State::GoroutinesBlank, "main.main()"), Transition::End);
        assert_eq!(python(State::Goroutines, "exit status 2"), Transition::End);
        assert_eq!(python(State::Goroutines, "Starting server (v1.2)"), Transition::End);
    }

    #[test]
    fn rust_panics_native_crashes_and_go_log_panics_are_recognised() {
        assert_eq!(rust_panic("thread 'main' panicked at src/main.rs:2:5:"), Some(true));
        assert_eq!(rust_panic("thread 'tokio-runtime-worker' panicked at 'boom', src/lib.rs:9:1"), Some(false));
        assert_eq!(rust_panic("thread pool started"), None);
        assert!(is_rust_frame("  12: std::rt::lang_start"));
        assert!(is_rust_frame("             at /rustc/abc/library/std/src/rt.rs:159:18"));
        assert!(!is_rust_frame("12: not indented"));
        assert!(is_native_crash("terminate called after throwing an instance of 'std::bad_alloc'"));
        assert!(is_native_crash("Signal (11) received."));
        for frame in [
            "  what():  std::bad_alloc",
            "3# 0x00007F730FE07219 in /opt/tritonserver/lib/libtritonserver.so",
            "#3 0x00007f1 in f()",
            "frame #3: c10::Error::Error(...) + 0x8d",
            "Exception raised from check at /pytorch/c10/cuda/CUDAException.cpp:44",
            "./clean_wav.sh: line 26:  6499 Aborted",
            "Aborted (core dumped)",
        ] {
            assert!(is_native_crash_line(frame), "{frame}");
        }
        for not_frame in ["INFO: next request", "2024 was a good year", ""] {
            assert!(!is_native_crash_line(not_frame), "{not_frame}");
        }
        assert!(is_native_frame("1       0x7fd1a11c612f /opt/lib/libfoo.so(+0x4512f) [0x7fd1a11c612f]"));
        assert!(is_native_frame("3# 0x00007F730FE07219 in libtritonserver.so"));
        assert!(!is_native_frame("1 of 3 shards loaded"));
        assert!(go_log_panic("2020/02/27 01:59:21 http: panic serving 1.2.3.4:5: runtime error"));
        assert!(!go_log_panic("2020/02/27 01:59:21 http: superfluous response.WriteHeader call"));
        assert!(!go_log_panic("panic serving without a date"));
    }
}
