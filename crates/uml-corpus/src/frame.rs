//! From messages to a log file: what the container runtime does to what a
//! container writes (docs/contract.md, "Log files").
//!
//! A source generator ([`Generator`]) produces events: a [`Burst`] of one
//! message or several (a traceback is one raw line per traceback line). The
//! driver here gives each message its runtime timestamp and stream, cuts
//! messages longer than 16 KiB into partial pieces, lets lines of the other
//! stream slip in between those pieces, and writes CRI or docker json-file
//! lines. Exactly the requested number of raw lines comes out: an event that
//! would not fit in what is left is replaced by a one-line one.

use crate::Framing;
use crate::clock::{Clock, DAY_START_S};
use crate::text::push_go_json_body;
use fastrand::Rng;

/// The longest message piece a runtime writes in one raw line; longer lines
/// are cut into `P` pieces (CRI) or pieces without `\n` (docker).
pub(crate) const MAX_PIECE: usize = 16 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn as_bytes(self) -> &'static [u8] {
        match self {
            Stream::Stdout => b"stdout",
            Stream::Stderr => b"stderr",
        }
    }

    fn other(self) -> Stream {
        match self {
            Stream::Stdout => Stream::Stderr,
            Stream::Stderr => Stream::Stdout,
        }
    }
}

/// The messages of one event, back to back in one buffer. A message is
/// what the container wrote between two `\n`: it never holds one.
#[derive(Default)]
pub(crate) struct Burst {
    buf: Vec<u8>,
    /// Each message's stream, start in `buf`, and the time before it.
    starts: Vec<(Stream, usize, u64)>,
    pause_ns: u64,
}

impl Burst {
    /// Starts a new message on `stream` and returns the buffer to write it
    /// to (append only).
    pub(crate) fn line(&mut self, stream: Stream) -> &mut Vec<u8> {
        self.starts.push((stream, self.buf.len(), std::mem::take(&mut self.pause_ns)));
        &mut self.buf
    }

    /// Lets `ns` pass before the next message (a download, an install),
    /// or, at the end of the burst, before the next burst. A generator
    /// writes a whole burst at the time it starts, so a message after a
    /// pause in the same burst must print no time of its own.
    pub(crate) fn pause(&mut self, ns: u64) {
        self.pause_ns += ns;
    }

    /// The time to let pass before message `i`, or after the last one
    /// (`i == len()`).
    fn pause_before(&self, i: usize) -> u64 {
        self.starts.get(i).map_or(self.pause_ns, |start| start.2)
    }

    pub(crate) fn len(&self) -> usize {
        self.starts.len()
    }

    pub(crate) fn get(&self, i: usize) -> (Stream, &[u8]) {
        let (stream, start, _) = self.starts[i];
        let end = self.starts.get(i + 1).map_or(self.buf.len(), |&(_, next, _)| next);
        (stream, &self.buf[start..end])
    }

    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.starts.clear();
        self.pause_ns = 0;
    }

    /// The raw lines the burst takes: one per message, more for messages
    /// longer than [`MAX_PIECE`].
    fn raw_lines(&self) -> usize {
        (0..self.len()).map(|i| pieces(self.get(i).1.len())).sum()
    }
}

fn pieces(len: usize) -> usize {
    len.div_ceil(MAX_PIECE).max(1)
}

/// What a generator may use: its random numbers and the file's clock (for
/// the timestamps sources print inside their messages).
pub(crate) struct Cx {
    pub rng: Rng,
    pub clock: Clock,
}

impl Cx {
    /// The generator's randomness for `seed`, made different per container
    /// by `salt` so that the files of one seed do not share random strings.
    pub(crate) fn new(seed: u64, salt: u64) -> Cx {
        let mut rng = Rng::with_seed(seed ^ salt ^ 0x6a09_e667_f3bc_c908);
        // Some time of the day, well before midnight.
        let start = (DAY_START_S + rng.i64(0..20 * 3600)) * 1_000_000_000 + rng.i64(0..1_000_000_000);
        Cx { rng, clock: Clock::new(start) }
    }
}

/// One source's messages.
pub(crate) trait Generator {
    /// Writes the next event: one message, or several that belong together.
    fn burst(&mut self, cx: &mut Cx, out: &mut Burst);

    /// Writes one short message: it fills the end of a file and slips in
    /// between the pieces of a long line.
    fn single(&mut self, cx: &mut Cx, out: &mut Burst);

    /// The mean time between two events, in nanoseconds.
    fn mean_gap_ns(&self) -> u64;

    /// A little more than the mean CRI line length, to size the output
    /// buffer once (memory that is never written costs nothing).
    fn mean_line_len(&self) -> usize;
}

/// `lines` messages of `generator`, each one a `String` (invalid UTF-8
/// replaced by U+FFFD).
pub(crate) fn messages(generator: &mut dyn Generator, lines: usize, seed: u64, salt: u64) -> Vec<String> {
    let mut cx = Cx::new(seed, salt);
    let mut burst = Burst::default();
    let mut out = Vec::with_capacity(lines);
    while out.len() < lines {
        cx.clock.advance(cx.rng.u64(0..2 * generator.mean_gap_ns()));
        next_event(generator, &mut cx, &mut burst, lines - out.len(), |b| b.len());
        for i in 0..burst.len() {
            cx.clock.advance(burst.pause_before(i));
            out.push(String::from_utf8_lossy(burst.get(i).1).into_owned());
        }
        cx.clock.advance(burst.pause_before(burst.len()));
    }
    out
}

/// Fills `burst` with the next event, or a single line when the event
/// would take more than `room` (as counted by `size`).
fn next_event(g: &mut dyn Generator, cx: &mut Cx, burst: &mut Burst, room: usize, size: fn(&Burst) -> usize) {
    burst.clear();
    g.burst(cx, burst);
    if size(burst) > room || burst.len() == 0 {
        burst.clear();
        g.single(cx, burst);
        debug_assert_eq!(burst.len(), 1);
    }
}

/// A file of exactly `lines` raw lines of `generator`'s messages.
pub(crate) fn file(generator: &mut dyn Generator, framing: Framing, lines: usize, seed: u64, salt: u64) -> Vec<u8> {
    let mut cx = Cx::new(seed, salt);
    // The runtime's own randomness (gaps, interleaving) does not disturb the
    // generator's sequence.
    let mut runtime = Rng::with_seed(seed ^ 0xbb67_ae85_84ca_a73b);
    let extra = if framing == Framing::Docker { 60 } else { 0 };
    let mut writer = Writer {
        framing,
        out: Vec::with_capacity(lines.saturating_mul(generator.mean_line_len() + extra + 8)),
        lines: 0,
    };
    let mut burst = Burst::default();
    let mut aside = Burst::default();
    let mean_gap = generator.mean_gap_ns();
    while writer.lines < lines {
        // The gap first: a message prints the time it is written at.
        cx.clock.advance(runtime.u64(0..2 * mean_gap));
        next_event(generator, &mut cx, &mut burst, lines - writer.lines, Burst::raw_lines);
        let mut owed = burst.raw_lines();
        for i in 0..burst.len() {
            if i > 0 {
                // The lines of one event follow each other closely.
                cx.clock.advance(runtime.u64(1_000..60_000));
            }
            cx.clock.advance(burst.pause_before(i));
            if runtime.u8(..40) == 0 {
                cx.clock.round_up(runtime.u32(6..10));
            }
            let (stream, message) = burst.get(i);
            let count = pieces(message.len());
            for (k, piece) in message.chunks(MAX_PIECE).enumerate() {
                let partial = k + 1 < count;
                writer.write(&cx.clock, stream, piece, partial);
                owed -= 1;
                if partial {
                    cx.clock.advance(runtime.u64(10_000..2_000_000));
                    // The other stream's lines interleave with the pieces.
                    if runtime.u8(..3) == 0 && lines - writer.lines > owed {
                        aside.clear();
                        generator.single(&mut cx, &mut aside);
                        let (_, line) = aside.get(0);
                        writer.write(&cx.clock, stream.other(), &line[..line.len().min(MAX_PIECE)], false);
                    }
                }
            }
            if message.is_empty() {
                writer.write(&cx.clock, stream, b"", false);
                owed -= 1;
            }
        }
        debug_assert_eq!(owed, 0);
        cx.clock.advance(burst.pause_before(burst.len()));
    }
    writer.out
}

struct Writer {
    framing: Framing,
    out: Vec<u8>,
    lines: usize,
}

impl Writer {
    fn write(&mut self, clock: &Clock, stream: Stream, piece: &[u8], partial: bool) {
        debug_assert!(!piece.contains(&b'\n'), "a message holds no newline");
        let out = &mut self.out;
        match self.framing {
            Framing::Cri => {
                clock.civil().rfc3339_trimmed(out);
                out.push(b' ');
                out.extend_from_slice(stream.as_bytes());
                out.extend_from_slice(if partial { b" P " } else { b" F " });
                out.extend_from_slice(piece);
            }
            Framing::Docker => {
                out.extend_from_slice(b"{\"log\":\"");
                push_go_json_body(out, piece);
                if !partial {
                    out.extend_from_slice(b"\\n");
                }
                out.extend_from_slice(b"\",\"stream\":\"");
                out.extend_from_slice(stream.as_bytes());
                out.extend_from_slice(b"\",\"time\":\"");
                clock.civil().rfc3339_nanos(out);
                out.extend_from_slice(b"\"}");
            }
        }
        out.push(b'\n');
        self.lines += 1;
    }
}
