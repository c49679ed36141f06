//! Framing: from the raw lines of a container log file back to the lines the
//! container wrote (`docs/contract.md`, "Log files"; `docs/language.md`
//! §4.3).
//!
//! A container runtime does not store what a container prints as it is. It
//! prefixes each line with a timestamp, the stream and a tag (CRI), or wraps
//! it in a JSON object (docker json-file), and it cuts a line longer than
//! 16 KiB into pieces, with stdout and stderr pieces interleaved in one file.
//! Everything after this module (routing, multiline grouping, the rule
//! body) wants the lines as the container wrote them: one message, its
//! stream and the runtime timestamp of its first piece. Framing is also where
//! the guarantees about `%line` are made: it is valid UTF-8 and at most
//! `max_line_bytes` long, whatever the bytes on disk.
//!
//! | module | what |
//! | --- | --- |
//! | [`filename`] | the metadata in a kubelet log file name (pod, namespace, container, container id) |
//! | [`cri`] | one CRI line: `<timestamp> <stdout\|stderr> <F\|P> <message>` |
//! | [`docker`] | one docker json-file line: `{"log":"…\n","stream":"stdout","time":"…"}` |
//! | [`timestamped`] | one `kubectl logs --timestamps` line: `<timestamp> <message>` |
//! | [`reassembly`] | the [`Framer`]: format detection, joining pieces, UTF-8, the length cap, counters |
//!
//! # The shape of the API
//!
//! One [`Framer`] per file. The caller reads raw lines (without or with their
//! `\n`) into a buffer of its own and hands each to [`Framer::push`], which
//! returns at once:
//!
//! - `None`: the raw line was a partial piece, kept until its line is complete;
//! - `Some(Ok(FramedLine))`: a whole line, which borrows from the raw line
//!   (the common case: one piece, valid UTF-8, no copy at all) or from the
//!   framer's own buffers (joined pieces, decoded docker escapes, invalid
//!   UTF-8 replaced);
//! - `Some(Err(DropReason))`: the raw line was dropped, and counted.
//!
//! The returned line borrows both the framer and the raw line, so it must be
//! used before the next `push`, which is how the executor works anyway (one
//! line at a time through the plan). This pull style was chosen over a
//! callback because it composes with `?`, loops and early exits, and it
//! costs nothing: the borrow checker proves that the buffers a line points
//! into are not reused while the line is alive. [`Framer::finish`] takes out
//! the lines still open at the end of the input, one per call.
//!
//! ```
//! use uml_runtime::framing::{Framer, Stream};
//!
//! let raw: [&[u8]; 4] = [
//!     b"2026-11-20T10:00:01.5Z stdout P Hello, ",
//!     b"2026-11-20T10:00:01.6Z stderr F oops",
//!     b"2026-11-20T10:00:01.7Z stdout F world",
//!     b"2026-11-20T10:00:02Z stdout F ",
//! ];
//! let mut framer = Framer::new(None);
//! let mut lines = Vec::new();
//! for line in raw {
//!     match framer.push(line) {
//!         Some(Ok(framed)) => lines.push((framed.stream, framed.text.to_owned(), framed.timestamp_ns)),
//!         Some(Err(dropped)) => assert_eq!(dropped.message(), "empty line"),
//!         None => {} // a piece of a longer line
//!     }
//! }
//! assert_eq!(lines, [
//!     (Stream::Stderr, "oops".to_owned(), 1_795_168_801_600_000_000),
//!     (Stream::Stdout, "Hello, world".to_owned(), 1_795_168_801_500_000_000),
//! ]);
//! let counters = framer.counters();
//! assert_eq!(counters.raw_lines, counters.framed_pieces + counters.dropped() + framer.pending_pieces());
//! ```
//!
//! # Invariants
//!
//! - **Nothing panics, whatever the bytes.** Malformed lines are values
//!   ([`FramingError`]), never panics (a proptest feeds arbitrary bytes).
//! - **Every raw line is accounted for**: `raw_lines == framed_pieces +
//!   dropped_empty + dropped_malformed + pending_pieces()` at all times
//!   ([`Counters`]).
//! - **A framed line is valid UTF-8 of at most `max_line_bytes` bytes**,
//!   cut on a character boundary and flagged when it was longer.
//! - **Memory is bounded by the maximum, not by the input**: a line's pieces
//!   are kept up to the maximum (plus three bytes, to decode the character
//!   at the cut exactly), and the excess is discarded as it arrives.
//! - **No allocation per line** once the framer's buffers have grown to the
//!   longest joined, decoded or repaired line seen (`tests/framing_alloc.rs`).
//!
//! This module depends on nothing but the JSON scanner and the RFC 3339
//! parser of the standard library; it knows nothing of rules or plans.

pub mod cri;
pub mod docker;
pub mod filename;
pub mod reassembly;
pub mod timestamped;

pub use cri::{CriLine, parse_cri};
pub use docker::{DockerLine, parse_docker};
pub use filename::{FileMeta, FileNameError, PodLogPath, parse_file_name, parse_log_path, parse_pod_log_path};
pub use reassembly::{Counters, DEFAULT_MAX_LINE_BYTES, FramedLine, Framer};

use crate::stdlib::error_enum;
use std::fmt;

/// The stream a line was written to. It says nothing about the line's level:
/// Python logs `INFO` to stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stream {
    Stdout = 0,
    Stderr = 1,
}

impl Stream {
    /// `"stdout"` or `"stderr"`, the value of `%stream`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    /// The stream named exactly `name`.
    pub fn from_bytes(name: &[u8]) -> Option<Stream> {
        match name {
            b"stdout" => Some(Stream::Stdout),
            b"stderr" => Some(Stream::Stderr),
            _ => None,
        }
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The raw lines behind a line, a group or a record: the positions of the
/// first and of the last ([`Framer::push_at`] says what a position is).
/// A line joined from pieces, or a traceback, spans several raw lines, and
/// the other stream's lines may lie between them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Origin {
    pub first: u64,
    pub last: u64,
}

impl Origin {
    /// The raw line at `position` alone.
    pub fn at(position: u64) -> Origin {
        Origin { first: position, last: position }
    }

    /// Both origins' raw lines.
    pub fn join(self, other: Origin) -> Origin {
        Origin { first: self.first.min(other.first), last: self.last.max(other.last) }
    }
}

/// The on-disk format of a log file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// containerd and CRI-O: `<timestamp> <stream> <tag> <message>`.
    Cri,
    /// docker's json-file driver: one JSON object per line.
    Docker,
    /// Unframed text, one message per line, as `kubectl logs` prints it:
    /// never detected, only asked for (`uml run --framing raw`). Every line
    /// is a whole line of stdout, stamped with the time it is read.
    Raw,
    /// `kubectl logs --timestamps`: `<RFC 3339 timestamp> <message>`, a
    /// whole line of stdout; only asked for (`--framing timestamped`).
    Timestamped,
}

impl Format {
    /// Every format, in the order names are listed.
    pub const ALL: &'static [Format] = &[Format::Cri, Format::Docker, Format::Raw, Format::Timestamped];

    /// The name rules and flags use: `cri`, `docker`, `raw`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Cri => "cri",
            Format::Docker => "docker",
            Format::Raw => "raw",
            Format::Timestamped => "timestamped",
        }
    }

    /// What it is, in one line (`uml run --help`).
    pub fn summary(self) -> &'static str {
        match self {
            Format::Cri => "containerd and CRI-O: `<timestamp> <stream> <F|P> <message>`",
            Format::Docker => "docker's json-file driver: one JSON object per line",
            Format::Raw => "plain text, one message per line, as `kubectl logs` prints it (stdout, stamped when read)",
            Format::Timestamped => "`kubectl logs --timestamps`: `<RFC 3339 timestamp> <message>` (stdout)",
        }
    }

    /// The format called `name`.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// Whether a rule may name it (`framing cri`): the formats a container
    /// runtime writes a kubelet log file in. The others are for text read
    /// from standard input (`uml run --framing`).
    pub fn in_files(self) -> bool {
        matches!(self, Format::Cri | Format::Docker)
    }

    /// The format of a file whose first non-blank raw line is `line`: docker
    /// if it starts with `{` (after any whitespace), else CRI, whose lines
    /// start with a digit. `None` for a blank line, which decides nothing.
    pub fn detect(line: &[u8]) -> Option<Format> {
        let first = line.iter().find(|b| !b.is_ascii_whitespace())?;
        Some(if *first == b'{' { Format::Docker } else { Format::Cri })
    }

    /// Parses one raw line of this format (without its `\n`, not blank)
    /// into a piece of a line. `cap` is how many bytes of a message are
    /// kept (the rest is cut).
    pub(crate) fn parse<'a>(
        self,
        raw: &'a [u8],
        state: &'a mut ParseState,
        cap: usize,
    ) -> Result<Piece<'a>, FramingError> {
        match self {
            Format::Cri => cri::parse_unterminated(raw, &mut state.timestamps).map(|l| Piece {
                timestamp_ns: l.timestamp_ns,
                stream: l.stream,
                partial: l.partial,
                bytes: l.message,
                cut: false,
                lone_surrogate: false,
            }),
            Format::Docker => parse_docker(raw, &mut state.docker_log, cap).map(|l| Piece {
                timestamp_ns: l.timestamp_ns,
                stream: l.stream,
                partial: l.partial,
                bytes: l.log,
                cut: l.log_cut,
                lone_surrogate: l.lone_surrogate,
            }),
            Format::Raw => Ok(Piece::whole(now_ns(), raw.strip_suffix(b"\r").unwrap_or(raw))),
            Format::Timestamped => timestamped::parse_timestamped(raw, &mut state.timestamps)
                .map(|(timestamp_ns, message)| Piece::whole(timestamp_ns, message)),
        }
    }
}

/// What parsing keeps from one raw line to the next: buffers and caches,
/// reused so that no line allocates.
#[derive(Debug, Default)]
pub(crate) struct ParseState {
    /// Docker `log` values with escapes, decoded.
    docker_log: Vec<u8>,
    /// RFC 3339 timestamps, read with the last one's minute remembered.
    timestamps: crate::stdlib::timestamp::Rfc3339Parser,
}

/// A raw line, parsed: a line or a piece of one.
pub(crate) struct Piece<'a> {
    pub(crate) timestamp_ns: i64,
    pub(crate) stream: Stream,
    /// More pieces of the line follow (CRI's `P`, docker's `log` without
    /// `\n`).
    pub(crate) partial: bool,
    pub(crate) bytes: &'a [u8],
    /// `bytes` is a prefix: the rest was longer than the cap.
    pub(crate) cut: bool,
    pub(crate) lone_surrogate: bool,
}

impl<'a> Piece<'a> {
    /// A whole line of stdout.
    pub(crate) fn whole(timestamp_ns: i64, bytes: &'a [u8]) -> Piece<'a> {
        Piece { timestamp_ns, stream: Stream::Stdout, partial: false, bytes, cut: false, lone_surrogate: false }
    }
}

/// The time now, ns since the epoch: the timestamp of a line whose format
/// has none.
fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

error_enum! {
    /// Why a raw line is not a line of its file's format.
    pub enum FramingError {
        /// The raw line is empty or only whitespace, which no runtime writes.
        Blank => "blank raw line",
        /// A CRI line with fewer than three space-separated fields.
        CriFields => "CRI line: fewer than three fields",
        /// The first field of a CRI line is not an RFC 3339 timestamp.
        CriTimestamp => "CRI line: the timestamp is not RFC 3339",
        /// The second field of a CRI line is neither `stdout` nor `stderr`.
        CriStream => "CRI line: the stream is neither stdout nor stderr",
        /// The first `:`-separated value of a CRI tag is neither `F` nor `P`.
        CriTag => "CRI line: the tag is neither F nor P",
        /// A docker line that is not one valid JSON object.
        DockerJson => "docker line: not a JSON object",
        /// A docker object whose `log` is missing or not a string.
        DockerLog => "docker line: no string `log`",
        /// A docker object whose `stream` is missing or neither `stdout` nor `stderr`.
        DockerStream => "docker line: `stream` is neither stdout nor stderr",
        /// A docker object whose `time` is missing or not an RFC 3339 string.
        DockerTime => "docker line: `time` is not an RFC 3339 timestamp",
        /// A `kubectl logs --timestamps` line that does not start with an
        /// RFC 3339 timestamp and a space.
        TimestampedTime => "timestamped line: no RFC 3339 timestamp and space at the start",
    }
}

/// Why a raw line produced no framed line. Each is counted in [`Counters`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// A line with an empty message (`<ts> stdout F `, docker `"log":"\n"`),
    /// or pieces that join to nothing: it carries nothing.
    EmptyLine,
    /// A raw line that is not a line of the file's format.
    MalformedFraming(FramingError),
}

impl DropReason {
    /// What happened, in a few words.
    pub fn message(self) -> &'static str {
        match self {
            DropReason::EmptyLine => "empty line",
            DropReason::MalformedFraming(e) => e.message(),
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}
