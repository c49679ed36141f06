//! The [`Framer`]: one per file, from raw lines to framed lines.
//!
//! It decides the file's format (from its first non-blank line, unless the
//! rule fixed it), parses each raw line, joins the partial pieces of a line
//! per stream (stdout and stderr pieces interleave independently), and
//! turns the bytes into text. The order of the work is what makes the
//! result exact:
//!
//! 1. **Pieces are joined as bytes**, and decoded only once the line is
//!    complete, because the runtime cuts on byte boundaries and a UTF-8
//!    character may straddle two pieces.
//! 2. **Invalid UTF-8 becomes U+FFFD** (one per maximal invalid sequence,
//!    as `String::from_utf8_lossy`), and the line is flagged and counted.
//! 3. **A line longer than the maximum is cut** on a character boundary,
//!    flagged and counted. Its pieces are kept only up to the maximum plus
//!    three bytes (enough to decode the character at the cut exactly); the
//!    rest of the pieces is read, up to the closing `F`, and discarded, so
//!    memory stays bounded whatever the input.
//!
//! The line's timestamp is its first piece's; [`FramedLine::first_line`] says
//! which raw line that was, because a joined line completes after the lines
//! of the other stream that arrived meanwhile, and records are ordered by
//! their first raw line (docs/contract.md, "The unified record").
//!
//! **Positions.** A raw line is known by its number, counting from 1, when
//! pushed with [`Framer::push`], or by a position the caller chose with
//! [`Framer::push_at`] (a tailing agent gives the byte offset of the raw
//! line in its file). Positions only need to grow from one raw line to the
//! next; the framer compares them and hands them back, nothing more.
//!
//! A line still open at the end of the input (the container died mid-line,
//! or the file was read to its end) is taken out by [`Framer::finish`] as
//! it is.

use super::{DropReason, Format, FramingError, ParseState, Piece, Stream};

/// Loki's default `max_line_size`, 256 KiB: the default maximum of a line.
pub const DEFAULT_MAX_LINE_BYTES: usize = 256 * 1024;

/// The smallest maximum a framer accepts: one character of any size fits.
const MIN_MAX_LINE_BYTES: usize = 4;

/// Bytes kept beyond the maximum: the rest of a character that starts
/// before it, so that what is cut is decided on the real bytes.
const LOOKAHEAD: usize = 3;

/// A line as the container wrote it, borrowed from the raw line or from the
/// [`Framer`]'s buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FramedLine<'a> {
    pub stream: Stream,
    /// The runtime timestamp of the first piece, nanoseconds since the Unix epoch.
    pub timestamp_ns: i64,
    /// The message: valid UTF-8, at most the framer's `max_line_bytes`.
    pub text: &'a str,
    /// The line was longer than the maximum and has been cut.
    pub truncated: bool,
    /// Some of the line could not be decoded (invalid UTF-8, a lone
    /// surrogate escape in a docker log) and became U+FFFD.
    pub replaced_invalid_utf8: bool,
    /// The position of the raw line that held the first piece: its number,
    /// counting from 1, or the position given to [`Framer::push_at`].
    pub first_line: u64,
    /// The position of the raw line that held the last piece (the first
    /// one's, for a line of one piece).
    pub last_line: u64,
    /// How many raw lines the line was made of: 1 unless it was cut into pieces.
    pub pieces: u64,
}

/// What a [`Framer`] has seen, so that a caller can prove that no line was
/// lost: at all times
/// `raw_lines == framed_pieces + dropped_empty + dropped_malformed + pending_pieces()`,
/// and `pending_pieces()` is 0 once [`Framer::finish`] returns `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Counters {
    /// Raw lines pushed.
    pub raw_lines: u64,
    /// Framed lines produced (by `push` and `finish`).
    pub framed_lines: u64,
    /// Raw lines that went into the framed lines.
    pub framed_pieces: u64,
    /// Raw lines dropped because their line was empty ([`DropReason::EmptyLine`]).
    pub dropped_empty: u64,
    /// Raw lines dropped as malformed ([`DropReason::MalformedFraming`]).
    pub dropped_malformed: u64,
    /// Framed lines cut to the maximum.
    pub truncated: u64,
    /// Framed lines in which something became U+FFFD.
    pub replaced_invalid_utf8: u64,
}

impl Counters {
    /// Raw lines dropped, for any reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_empty + self.dropped_malformed
    }
}

/// The pieces of one stream's open line.
#[derive(Debug, Default)]
struct Pending {
    /// The first `max_line_bytes + LOOKAHEAD` bytes of the line so far.
    bytes: Vec<u8>,
    /// A line is open: a partial piece came and its last piece has not.
    open: bool,
    timestamp_ns: i64,
    first_line: u64,
    last_line: u64,
    pieces: u64,
    /// Bytes beyond the kept ones were discarded.
    cut: bool,
    /// A piece had a lone surrogate escape.
    lone_surrogate: bool,
}

impl Pending {
    fn start(&mut self, timestamp_ns: i64, first_line: u64) {
        // The buffer is kept, with its capacity, from line to line.
        let mut bytes = std::mem::take(&mut self.bytes);
        bytes.clear();
        *self = Pending { bytes, open: true, timestamp_ns, first_line, last_line: first_line, ..Pending::default() };
    }

    /// Adds a piece, from the raw line at `position`, keeping at most `cap`
    /// bytes in all.
    fn append(&mut self, piece: &Piece<'_>, position: u64, cap: usize) {
        self.last_line = position;
        let room = cap.saturating_sub(self.bytes.len());
        let take = piece.bytes.len().min(room);
        let needed = self.bytes.len() + take;
        if needed > self.bytes.capacity() {
            // Grow by doubling, as `Vec` does, but never beyond the cap.
            let target = needed.max(self.bytes.capacity().saturating_mul(2)).min(cap);
            self.bytes.reserve_exact(target - self.bytes.len());
        }
        self.bytes.extend_from_slice(&piece.bytes[..take]);
        self.cut |= piece.cut || take < piece.bytes.len();
        self.lone_surrogate |= piece.lone_surrogate;
        self.pieces += 1;
    }
}

/// Turns the raw lines of one file into framed lines. See the
/// [module documentation](super) for how to drive it.
#[derive(Debug)]
pub struct Framer {
    /// The format, once fixed or detected.
    format: Option<Format>,
    max_line_bytes: usize,
    /// Indexed by [`Stream`].
    pending: [Pending; 2],
    /// Lines repaired by lossy decoding.
    text: String,
    /// The parsers' buffers and caches.
    state: ParseState,
    counters: Counters,
}

impl Framer {
    /// A framer for a file in `format`, or of a format detected from its
    /// first non-blank line when `None` (the rule's `framing auto`), with
    /// the default maximum line length.
    pub fn new(format: Option<Format>) -> Framer {
        Framer {
            format,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            pending: Default::default(),
            text: String::new(),
            state: ParseState::default(),
            counters: Counters::default(),
        }
    }

    /// Sets the longest line, in bytes of UTF-8, that framing lets through;
    /// longer ones are cut. At least 4, so that any character fits (and at
    /// most `usize::MAX - 3`, which is no limit).
    pub fn with_max_line_bytes(mut self, max: usize) -> Framer {
        self.max_line_bytes = max.clamp(MIN_MAX_LINE_BYTES, usize::MAX - LOOKAHEAD);
        self
    }

    pub fn max_line_bytes(&self) -> usize {
        self.max_line_bytes
    }

    /// The file's format: the one given, or the one detected, or `None`
    /// while only blank lines have come.
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Raw lines held in lines that are still open.
    pub fn pending_pieces(&self) -> u64 {
        self.pending.iter().filter(|p| p.open).map(|p| p.pieces).sum()
    }

    /// The position of the raw line of the first piece of `stream`'s open
    /// line, if a partial line is open on it.
    pub fn open_line(&self, stream: Stream) -> Option<u64> {
        let p = &self.pending[stream as usize];
        p.open.then_some(p.first_line)
    }

    /// The position of the earliest line still open on either stream.
    pub fn first_open_line(&self) -> Option<u64> {
        match (self.open_line(Stream::Stdout), self.open_line(Stream::Stderr)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Frames one raw line (its trailing `\n`, if any, is ignored): `None`
    /// when it is a partial piece of a line still open, else the line it
    /// completes or why it was dropped.
    pub fn push<'a>(&'a mut self, raw: &'a [u8]) -> Option<Result<FramedLine<'a>, DropReason>> {
        let position = self.counters.raw_lines + 1;
        self.push_at(raw, position)
    }

    /// [`Framer::push`] for the raw line at `position`, a number of the
    /// caller's that grows from one raw line to the next (a byte offset).
    pub fn push_at<'a>(&'a mut self, raw: &'a [u8], position: u64) -> Option<Result<FramedLine<'a>, DropReason>> {
        let Framer { format, max_line_bytes, pending, text, state, counters } = self;
        let max = *max_line_bytes;
        let cap = max.saturating_add(LOOKAHEAD);
        counters.raw_lines += 1;
        let line_number = position;
        let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
        if raw.trim_ascii().is_empty() {
            counters.dropped_malformed += 1;
            return Some(Err(DropReason::MalformedFraming(FramingError::Blank)));
        }
        let detected = *format.get_or_insert_with(|| Format::detect(raw).unwrap_or(Format::Cri));
        let parsed = detected.parse(raw, state, cap);
        let piece = match parsed {
            Ok(piece) => piece,
            Err(e) => {
                counters.dropped_malformed += 1;
                return Some(Err(DropReason::MalformedFraming(e)));
            }
        };
        let open = &mut pending[piece.stream as usize];
        if piece.partial {
            if !open.open {
                open.start(piece.timestamp_ns, line_number);
            }
            open.append(&piece, line_number, cap);
            return None;
        }
        if open.open {
            open.append(&piece, line_number, cap);
            open.open = false;
            return Some(close(open, piece.stream, max, text, counters));
        }
        // The common case: a whole line in one piece, framed without a copy
        // when it is valid UTF-8.
        if piece.bytes.is_empty() && !piece.cut {
            counters.dropped_empty += 1;
            return Some(Err(DropReason::EmptyLine));
        }
        let (text, truncated, replaced) = text_of(piece.bytes, piece.cut, max, text);
        let line = FramedLine {
            stream: piece.stream,
            timestamp_ns: piece.timestamp_ns,
            text,
            truncated,
            replaced_invalid_utf8: replaced || piece.lone_surrogate,
            first_line: line_number,
            last_line: line_number,
            pieces: 1,
        };
        Some(Ok(count(line, counters)))
    }

    /// Takes out a line still open at the end of the input, as it is: the
    /// one whose first piece came first. Call it until it returns `None`.
    pub fn finish(&mut self) -> Option<Result<FramedLine<'_>, DropReason>> {
        let Framer { max_line_bytes, pending, text, counters, .. } = self;
        let [stdout, stderr] = pending;
        let (open, stream) = match (stdout.open, stderr.open) {
            (true, true) if stderr.first_line < stdout.first_line => (stderr, Stream::Stderr),
            (true, _) => (stdout, Stream::Stdout),
            (false, true) => (stderr, Stream::Stderr),
            (false, false) => return None,
        };
        open.open = false;
        Some(close(open, stream, *max_line_bytes, text, counters))
    }
}

/// Frames the joined pieces of a line that just closed.
fn close<'a>(
    pending: &'a Pending,
    stream: Stream,
    max: usize,
    text: &'a mut String,
    counters: &mut Counters,
) -> Result<FramedLine<'a>, DropReason> {
    if pending.bytes.is_empty() && !pending.cut {
        counters.dropped_empty += pending.pieces;
        return Err(DropReason::EmptyLine);
    }
    let (text, truncated, replaced) = text_of(&pending.bytes, pending.cut, max, text);
    let line = FramedLine {
        stream,
        timestamp_ns: pending.timestamp_ns,
        text,
        truncated,
        replaced_invalid_utf8: replaced || pending.lone_surrogate,
        first_line: pending.first_line,
        last_line: pending.last_line,
        pieces: pending.pieces,
    };
    Ok(count(line, counters))
}

fn count<'a>(line: FramedLine<'a>, counters: &mut Counters) -> FramedLine<'a> {
    counters.framed_lines += 1;
    counters.framed_pieces += line.pieces;
    counters.truncated += u64::from(line.truncated);
    counters.replaced_invalid_utf8 += u64::from(line.replaced_invalid_utf8);
    line
}

/// The text of a line's bytes, at most `max` bytes long: borrowed when they
/// are valid UTF-8, else decoded lossily into `out`. `cut` says the bytes
/// are a prefix of a longer line. Returns the text, whether it was
/// truncated and whether something was replaced.
fn text_of<'a>(bytes: &'a [u8], cut: bool, max: usize, out: &'a mut String) -> (&'a str, bool, bool) {
    let cap = max.saturating_add(LOOKAHEAD);
    let cut = cut || bytes.len() > cap;
    let kept = &bytes[..bytes.len().min(cap)];
    // SIMD validation for the common case; the standard library's, which
    // says where and how it failed, for the rest.
    let valid = match simdutf8::basic::from_utf8(kept) {
        Ok(s) => Some(s),
        Err(_) => match std::str::from_utf8(kept) {
            Ok(s) => Some(s),
            // A character cut off at the end of a prefix is not an error; it
            // lies beyond the maximum anyway.
            Err(e) if cut && e.error_len().is_none() => std::str::from_utf8(&kept[..e.valid_up_to()]).ok(),
            Err(_) => None,
        },
    };
    if let Some(s) = valid {
        let t = floor_char_boundary(s, max);
        return (t, cut || t.len() < s.len(), false);
    }
    let (truncated, replaced) = decode_lossy(kept, max, out);
    (out.as_str(), cut || truncated, replaced)
}

/// Decodes `bytes` into `out` as `String::from_utf8_lossy` does, stopping
/// before `out` would exceed `max` bytes. Returns whether it stopped early
/// and whether a U+FFFD was written.
fn decode_lossy(bytes: &[u8], max: usize, out: &mut String) -> (bool, bool) {
    out.clear();
    let mut replaced = false;
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        if out.len() + valid.len() > max {
            out.push_str(floor_char_boundary(valid, max - out.len()));
            return (true, replaced);
        }
        out.push_str(valid);
        if !chunk.invalid().is_empty() {
            if out.len() + '\u{FFFD}'.len_utf8() > max {
                return (true, replaced);
            }
            out.push('\u{FFFD}');
            replaced = true;
        }
    }
    (false, replaced)
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn floor_char_boundary(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_decoding_stops_at_the_maximum() {
        let mut out = String::new();
        assert_eq!(decode_lossy(b"ab\xffcd", 10, &mut out), (false, true));
        assert_eq!(out, "ab\u{FFFD}cd");
        assert_eq!(decode_lossy(b"ab\xffcd", 4, &mut out), (true, false));
        assert_eq!(out, "ab");
        assert_eq!(decode_lossy(b"ab\xffcd", 5, &mut out), (true, true));
        assert_eq!(out, "ab\u{FFFD}");
        assert_eq!(decode_lossy(b"\xc3\xa9\xff", 1, &mut out), (true, false));
        assert_eq!(out, "");
    }

    #[test]
    fn text_is_borrowed_when_valid_and_cut_on_a_character() {
        let mut out = String::new();
        let line = "aé€😀".as_bytes();
        for (max, expected) in [(1, "a"), (2, "a"), (3, "aé"), (5, "aé"), (6, "aé€"), (9, "aé€"), (10, "aé€😀")]
        {
            let (text, truncated, replaced) = text_of(line, false, max, &mut out);
            assert_eq!((text, truncated, replaced), (expected, max < 10, false), "max {max}");
            assert_eq!(text.as_ptr(), line.as_ptr(), "borrowed at max {max}");
        }
    }

    #[test]
    fn a_character_cut_by_the_cap_is_not_invalid() {
        let mut out = String::new();
        // Kept bytes end inside `😀`, which the cap (max 4 + 3) cut.
        let kept = &"abcde😀".as_bytes()[..7];
        assert_eq!(text_of(kept, true, 4, &mut out), ("abcd", true, false));
        // The same bytes, not cut, end in an invalid sequence.
        assert_eq!(text_of(kept, false, 8, &mut out), ("abcde\u{FFFD}", false, true));
    }
}
