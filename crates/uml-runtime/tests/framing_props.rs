//! Laws of framing, checked with generated inputs.
//!
//! - **Split and join**: a line cut into pieces at arbitrary bytes (inside
//!   characters too), in either format, with the other stream's pieces
//!   interleaved, comes out as the original bytes decoded lossily, with the
//!   first piece's timestamp, and flagged exactly when something was
//!   replaced.
//! - **The cut**: with any maximum, a line is the longest prefix of that
//!   text within the maximum, on a character boundary, flagged exactly when
//!   it was longer.
//! - **No panic, no loss**: arbitrary bytes, in any format, never panic,
//!   every framed line fits the maximum, and the counters always balance.

use proptest::prelude::*;
use uml_runtime::framing::{DropReason, Format, FramedLine, Framer, Stream, parse_file_name};

/// Bytes a container can write on one line: anything but `\n`, weighted
/// towards multi-byte characters and bytes that are invalid UTF-8.
fn line_bytes(max_len: usize) -> impl Strategy<Value = Vec<u8>> {
    let unit = prop_oneof![
        4 => any::<char>().prop_filter("no newline", |c| *c != '\n').prop_map(|c| c.to_string().into_bytes()),
        3 => prop::sample::select(vec!["é", "€", "😀", "━", "\r", "\t", "\"", "\\", "\u{1b}", "\u{0}", " "])
            .prop_map(|s| s.as_bytes().to_vec()),
        2 => prop::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 1..4),
    ];
    prop::collection::vec(unit, 0..max_len).prop_map(|units| units.concat())
}

/// Cuts `bytes` at the given fractions of its length (sorted, duplicates
/// allowed: empty pieces happen too).
fn split_at_fractions<'a>(bytes: &'a [u8], cuts: &[f64]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|f| (f * bytes.len() as f64) as usize).collect();
    at.sort_unstable();
    let mut pieces = Vec::new();
    let mut start = 0;
    for a in at {
        pieces.push(&bytes[start..a]);
        start = a;
    }
    pieces.push(&bytes[start..]);
    pieces
}

/// The raw CRI line of one piece.
fn cri_piece(second: usize, stream: Stream, last: bool, piece: &[u8]) -> Vec<u8> {
    let tag = if last { "F" } else { "P:extra" };
    let mut raw = format!("2026-11-20T10:{:02}:{:02}.5Z {stream} {tag} ", second / 60 % 60, second % 60).into_bytes();
    raw.extend_from_slice(piece);
    raw
}

/// The raw docker line of one piece, its `log` written as docker writes it
/// (quotes, backslashes and control characters escaped, other bytes raw),
/// or with every valid non-ASCII character as a `\u` escape (surrogate
/// pairs beyond the BMP) when `escape_unicode`.
fn docker_piece(second: usize, stream: Stream, last: bool, piece: &[u8], escape_unicode: bool) -> Vec<u8> {
    let mut log = Vec::new();
    for chunk in piece.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => log.extend_from_slice(b"\\\""),
                '\\' => log.extend_from_slice(b"\\\\"),
                c if (c as u32) < 0x20 => log.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
                c if escape_unicode && !c.is_ascii() => {
                    for unit in c.encode_utf16(&mut [0; 2]) {
                        log.extend_from_slice(format!("\\u{unit:04X}").as_bytes());
                    }
                }
                c => log.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        }
        log.extend_from_slice(chunk.invalid());
    }
    if last {
        log.extend_from_slice(b"\\n");
    }
    let mut raw = b"{\"log\":\"".to_vec();
    raw.extend_from_slice(&log);
    raw.extend_from_slice(
        format!("\",\"stream\":\"{stream}\",\"time\":\"2026-11-20T10:{:02}:{:02}Z\"}}", second / 60 % 60, second % 60)
            .as_bytes(),
    );
    raw
}

/// The longest prefix of `s` of at most `max` bytes on a character boundary.
fn floor(s: &str, max: usize) -> &str {
    (0..=max.min(s.len())).rev().find(|&i| s.is_char_boundary(i)).map(|i| &s[..i]).unwrap()
}

/// A framed line, owned, to compare after the framer moved on.
#[derive(Debug, PartialEq)]
struct Owned {
    stream: Stream,
    timestamp_ns: i64,
    text: String,
    truncated: bool,
    replaced: bool,
    first_line: u64,
    pieces: u64,
}

fn own(event: Result<FramedLine<'_>, DropReason>) -> Result<Owned, DropReason> {
    event.map(|l| Owned {
        stream: l.stream,
        timestamp_ns: l.timestamp_ns,
        text: l.text.to_owned(),
        truncated: l.truncated,
        replaced: l.replaced_invalid_utf8,
        first_line: l.first_line,
        pieces: l.pieces,
    })
}

/// Frames `raw` lines, checking the counters after each, and returns every
/// event (those of `finish` last).
fn frame_all(framer: &mut Framer, raw: &[Vec<u8>]) -> Vec<Result<Owned, DropReason>> {
    let mut events = Vec::new();
    for line in raw {
        if let Some(event) = framer.push(line) {
            events.push(own(event));
        }
        let c = framer.counters();
        assert_eq!(c.raw_lines, c.framed_pieces + c.dropped() + framer.pending_pieces());
    }
    while let Some(event) = framer.finish() {
        events.push(own(event));
    }
    assert_eq!(framer.pending_pieces(), 0);
    let c = framer.counters();
    assert_eq!(c.raw_lines, c.framed_pieces + c.dropped());
    events
}

/// The framed line expected for `bytes` with maximum `max`.
fn expected_text(bytes: &[u8], max: usize) -> (String, bool, bool) {
    let whole = String::from_utf8_lossy(bytes);
    let text = floor(&whole, max);
    // Replaced: more U+FFFD in the text than the input spells there.
    let replaced = text.matches('\u{FFFD}').count() > count_written_fffd(bytes, text.len());
    (text.to_owned(), text.len() < whole.len(), replaced)
}

/// How many U+FFFD characters the input itself spells (validly) in the
/// part that decodes to the first `len` bytes of text.
fn count_written_fffd(bytes: &[u8], len: usize) -> usize {
    let mut text_len = 0;
    let mut n = 0;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            text_len += c.len_utf8();
            if text_len > len {
                return n;
            }
            n += usize::from(c == '\u{FFFD}');
        }
        if !chunk.invalid().is_empty() {
            text_len += 3;
            if text_len > len {
                return n;
            }
        }
    }
    n
}

/// Interleaves the pieces of a stdout and a stderr line, in the order `order`
/// gives (true: the next stdout piece), keeping each stream's own order.
fn interleave(out: Vec<Vec<u8>>, err: Vec<Vec<u8>>, order: &[bool]) -> Vec<(Stream, Vec<u8>)> {
    let (mut out, mut err) = (out.into_iter().peekable(), err.into_iter().peekable());
    let mut merged = Vec::new();
    let mut order = order.iter().copied().cycle();
    while out.peek().is_some() || err.peek().is_some() {
        let take_out = err.peek().is_none() || (out.peek().is_some() && order.next().unwrap_or(true));
        if take_out {
            merged.push((Stream::Stdout, out.next().unwrap()));
        } else {
            merged.push((Stream::Stderr, err.next().unwrap()));
        }
    }
    merged
}

/// The raw lines of `bytes` cut at `cuts`, the last piece closing the line
/// unless `dangling` (the container died before writing it).
fn pieces_for(
    format: Format,
    stream: Stream,
    bytes: &[u8],
    cuts: &[f64],
    escape_unicode: bool,
    second0: usize,
    dangling: bool,
) -> Vec<Vec<u8>> {
    let pieces = split_at_fractions(bytes, cuts);
    let n = pieces.len();
    pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| {
            let last = i + 1 == n && !dangling;
            match format {
                Format::Cri => cri_piece(second0 + i, stream, last, piece),
                Format::Docker => docker_piece(second0 + i, stream, last, piece, escape_unicode),
                other => unreachable!("{other:?} has no pieces; the strategy picks cri and docker only"),
            }
        })
        .collect()
}

fn format() -> impl Strategy<Value = Format> {
    prop_oneof![Just(Format::Cri), Just(Format::Docker)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn pieces_join_to_the_original_bytes(
        format in format(),
        out_line in line_bytes(40),
        err_line in line_bytes(40),
        out_cuts in prop::collection::vec(0.0..=1.0f64, 0..6),
        err_cuts in prop::collection::vec(0.0..=1.0f64, 0..6),
        order in prop::collection::vec(any::<bool>(), 1..12),
        escape_unicode in any::<bool>(),
        auto in any::<bool>(),
    ) {
        let out_pieces = pieces_for(format, Stream::Stdout, &out_line, &out_cuts, escape_unicode, 0, false);
        let err_pieces = pieces_for(format, Stream::Stderr, &err_line, &err_cuts, escape_unicode, 30, false);
        let merged = interleave(out_pieces, err_pieces, &order);
        let first_line = |s: Stream| merged.iter().position(|(m, _)| *m == s).unwrap() as u64 + 1;
        let raw: Vec<Vec<u8>> = merged.iter().map(|(_, r)| r.clone()).collect();
        let mut framer = Framer::new(if auto { None } else { Some(format) });
        let events = frame_all(&mut framer, &raw);
        prop_assert_eq!(framer.format(), Some(format));
        prop_assert_eq!(events.len(), 2);
        for (stream, line, second) in [(Stream::Stdout, &out_line, 0), (Stream::Stderr, &err_line, 30)] {
            let event = events.iter().find(|e| match e {
                Ok(l) => l.stream == stream,
                // Which stream an empty line was on is not reported; both empty is fine.
                Err(_) => line.is_empty(),
            });
            let event = event.expect("an event per stream");
            if line.is_empty() {
                prop_assert_eq!(event, &Err(DropReason::EmptyLine));
                continue;
            }
            let got = event.as_ref().unwrap();
            let (text, truncated, replaced) = expected_text(line, usize::MAX - 3);
            let fraction = if format == Format::Cri { 500_000_000 } else { 0 };
            prop_assert_eq!(&got.text, &text);
            prop_assert_eq!((got.truncated, got.replaced), (truncated, replaced));
            prop_assert_eq!(got.timestamp_ns, 1_795_168_800_000_000_000 + second * 1_000_000_000 + fraction);
            prop_assert_eq!(got.first_line, first_line(stream));
        }
    }

    #[test]
    fn a_line_is_cut_to_the_maximum(
        format in format(),
        line in line_bytes(60),
        cuts in prop::collection::vec(0.0..=1.0f64, 0..5),
        max in 4usize..80,
        escape_unicode in any::<bool>(),
    ) {
        prop_assume!(!line.is_empty());
        let raw = pieces_for(format, Stream::Stdout, &line, &cuts, escape_unicode, 0, false);
        let mut framer = Framer::new(Some(format)).with_max_line_bytes(max);
        let events = frame_all(&mut framer, &raw);
        prop_assert_eq!(events.len(), 1);
        let got = events[0].as_ref().unwrap();
        let (text, truncated, replaced) = expected_text(&line, max);
        prop_assert!(got.text.len() <= max);
        prop_assert_eq!(&got.text, &text);
        prop_assert_eq!((got.truncated, got.replaced), (truncated, replaced));
        prop_assert_eq!(framer.counters().truncated, u64::from(truncated));
    }

    #[test]
    fn dangling_pieces_come_out_at_the_end(format in format(), line in line_bytes(30), cuts in prop::collection::vec(0.0..=1.0f64, 0..4)) {
        prop_assume!(!line.is_empty());
        // Every piece partial: the container died before the last one.
        let raw = pieces_for(format, Stream::Stderr, &line, &cuts, false, 0, true);
        let mut framer = Framer::new(None);
        let events = frame_all(&mut framer, &raw);
        prop_assert_eq!(events.len(), 1);
        let got = events[0].as_ref().unwrap();
        prop_assert_eq!(&got.text, &String::from_utf8_lossy(&line).into_owned());
        prop_assert_eq!(got.pieces, raw.len() as u64);
    }
}

/// Raw lines that are partly well-formed, so that generated inputs reach
/// past the first check.
fn raw_line() -> impl Strategy<Value = Vec<u8>> {
    let prefix = prop::sample::select(vec![
        "",
        "2026-11-20T10:00:01Z stdout P ",
        "2026-11-20T10:00:01Z stderr F ",
        "2026-11-20T10:00:01.5-05:00 stdout F:x ",
        "2026-11-20T10:00:01Z stdout ",
        "{\"log\":\"",
        "{\"stream\":\"stdout\",\"time\":\"2026-11-20T10:00:01Z\",\"log\":\"",
        "{",
        " ",
    ]);
    let suffix = prop::sample::select(vec![
        "",
        "\"}",
        "\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-20T10:00:01Z\"}",
        "\\ud800\",\"stream\":\"stdout\",\"time\":\"2026-11-20T10:00:01Z\"}",
        "\n",
        "\r",
    ]);
    (prefix, prop::collection::vec(any::<u8>(), 0..40), suffix)
        .prop_map(|(p, middle, s)| [p.as_bytes(), &middle, s.as_bytes()].concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(
        lines in prop::collection::vec(raw_line(), 0..12),
        choice in prop_oneof![Just(None), Just(Some(Format::Cri)), Just(Some(Format::Docker))],
        max in prop_oneof![Just(usize::MAX), 0usize..40],
    ) {
        let mut framer = Framer::new(choice).with_max_line_bytes(max);
        let max = framer.max_line_bytes();
        for event in frame_all(&mut framer, &lines).into_iter().flatten() {
            prop_assert!(event.text.len() <= max);
            prop_assert!(event.pieces >= 1);
        }
    }

    #[test]
    fn file_names_never_panic(name in "[a-z0-9._/-]{0,20}(_[a-z0-9.-]{0,12}){0,3}(-[0-9a-f]{0,66})?(\\.log|\\.lo|\\.l|\\.)?", pad in 0usize..260) {
        for name in [name.clone(), format!("{}{name}", "p".repeat(pad))] {
            if let Ok(meta) = parse_file_name(&name) {
                let base = name.rsplit('/').next().unwrap();
                let fields = format!("{}_{}_{}", meta.pod, meta.namespace, meta.container);
                prop_assert!(base.starts_with(&fields), "{base} {meta:?}");
                prop_assert!(!meta.pod.is_empty() && !meta.namespace.is_empty() && !meta.container.is_empty());
                let joined = [meta.pod, meta.namespace, meta.container].concat();
                prop_assert!(!joined.contains('_'));
                prop_assert!(meta.container_id.len() <= 64);
                prop_assert_eq!(meta.cut, base.len() >= 255);
                if !meta.cut {
                    prop_assert_eq!(base, format!("{fields}-{}.log", meta.container_id));
                }
            }
        }
    }
}
