//! Python tracebacks and Go panics as they reach a log file: one raw line per
//! line of the traceback (docs/contract.md, "Tracebacks"), blank lines
//! included.
//!
//! The shapes are the interpreter's own: frames with their source line and,
//! sometimes, `^^^^` markers (Python 3.11+), chained tracebacks with their
//! two connecting sentences, exception groups drawn with `+-` and `|`, and
//! the final `Type: message` line.

use crate::frame::{Burst, Stream};
use crate::text::{HEX, pick, push_random, push_u64};
use fastrand::Rng;

/// A stack frame: file, function and the source line shown under it.
pub(crate) type Frame = (&'static str, &'static str, &'static str);

/// The frames and exceptions of one kind of program.
pub(crate) struct Pool {
    /// The outer frames (the framework calling user code), outermost
    /// first: a traceback starts at one of them and keeps those after it.
    pub outer: &'static [Frame],
    /// What went wrong: the inner frames, outermost first, and the final
    /// `Type: message` (a `\n` in it starts another line, as Python prints it).
    pub failures: &'static [(&'static [Frame], &'static str)],
}

/// Writes one traceback to `out`, on `stream`: plain (most), chained, or an
/// exception group.
pub(crate) fn python(rng: &mut Rng, pool: &Pool, out: &mut Burst, stream: Stream) {
    match rng.u32(..100) {
        0..70 => stack(rng, pool, out, stream, ""),
        70..94 => {
            stack(rng, pool, out, stream, "");
            out.line(stream);
            out.line(stream).extend_from_slice(pick(
                rng,
                &[
                    b"During handling of the above exception, another exception occurred:".as_slice(),
                    b"The above exception was the direct cause of the following exception:",
                ],
            ));
            out.line(stream);
            stack(rng, pool, out, stream, "");
        }
        _ => group(rng, pool, out, stream),
    }
}

/// `Traceback (most recent call last):`, frames, the exception; every line
/// after `indent`.
fn stack(rng: &mut Rng, pool: &Pool, out: &mut Burst, stream: Stream, indent: &str) {
    let line = out.line(stream);
    line.extend_from_slice(indent.as_bytes());
    line.extend_from_slice(b"Traceback (most recent call last):");
    let start = rng.usize(..=pool.outer.len());
    for &f in &pool.outer[start..] {
        frame(rng, out, stream, indent, f);
    }
    let (frames, exception) = pick(rng, pool.failures);
    for &f in frames {
        frame(rng, out, stream, indent, f);
    }
    for part in exception.split('\n') {
        let line = out.line(stream);
        line.extend_from_slice(indent.as_bytes());
        line.extend_from_slice(part.as_bytes());
    }
}

fn frame(rng: &mut Rng, out: &mut Burst, stream: Stream, indent: &str, (file, function, source): Frame) {
    let line = out.line(stream);
    line.extend_from_slice(indent.as_bytes());
    line.extend_from_slice(b"  File \"");
    line.extend_from_slice(file.as_bytes());
    line.extend_from_slice(b"\", line ");
    push_u64(line, rng.u64(12..1900));
    line.extend_from_slice(b", in ");
    line.extend_from_slice(function.as_bytes());
    let line = out.line(stream);
    line.extend_from_slice(indent.as_bytes());
    line.extend_from_slice(b"    ");
    line.extend_from_slice(source.as_bytes());
    if rng.u8(..3) == 0 {
        // Python 3.11 marks the failing expression.
        let line = out.line(stream);
        line.extend_from_slice(indent.as_bytes());
        line.extend_from_slice(b"    ");
        let skip = source.find(" = ").map_or(0, |at| at + 3);
        line.extend(std::iter::repeat_n(b' ', skip));
        line.extend(std::iter::repeat_n(b'^', source.chars().count() - skip));
    }
}

/// An exception group with two or three sub-exceptions (Python 3.11).
fn group(rng: &mut Rng, pool: &Pool, out: &mut Burst, stream: Stream) {
    out.line(stream).extend_from_slice(b"  + Exception Group Traceback (most recent call last):");
    for &f in &pool.outer[pool.outer.len().saturating_sub(2)..] {
        frame(rng, out, stream, "  | ", f);
    }
    let count = rng.u64(2..=3);
    let line = out.line(stream);
    line.extend_from_slice(b"  | ExceptionGroup: unhandled errors in a TaskGroup (");
    push_u64(line, count);
    line.extend_from_slice(b" sub-exceptions)");
    for k in 1..=count {
        let line = out.line(stream);
        line.extend_from_slice(if k == 1 { b"  +-+---------------- " } else { b"    +---------------- " });
        push_u64(line, k);
        line.extend_from_slice(b" ----------------");
        stack(rng, pool, out, stream, "    | ");
    }
    out.line(stream).extend_from_slice(b"    +------------------------------------");
}

/// A Go panic: the message, the signal, and the goroutine's stack of
/// `frames` (the call as printed, and the file).
pub(crate) fn go_panic(rng: &mut Rng, out: &mut Burst, stream: Stream, frames: &[(&str, &str)]) {
    out.line(stream).extend_from_slice(b"panic: runtime error: invalid memory address or nil pointer dereference");
    let line = out.line(stream);
    line.extend_from_slice(b"[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x");
    push_random(line, rng, HEX, 7);
    line.push(b']');
    out.line(stream);
    let line = out.line(stream);
    line.extend_from_slice(b"goroutine ");
    push_u64(line, rng.u64(1..400));
    line.extend_from_slice(b" [running]:");
    for &(call, file) in frames {
        out.line(stream).extend_from_slice(call.as_bytes());
        let line = out.line(stream);
        line.push(b'\t');
        line.extend_from_slice(file.as_bytes());
        line.push(b':');
        push_u64(line, rng.u64(20..900));
        line.extend_from_slice(b" +0x");
        let digits = rng.usize(2..=3);
        push_random(line, rng, HEX, digits);
    }
}
