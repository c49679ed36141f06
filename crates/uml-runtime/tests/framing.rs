//! Framing, case by case.
//!
//! Each `tests/framing/*.txt` file is one case: options, raw input lines and
//! the expected events, in this shape:
//!
//! ```text
//! # What the case shows.
//! format: auto            (or cri, docker; default auto)
//! max: 16                 (the maximum line length; default 256 KiB)
//! === input
//! 2026-11-20T10:00:01.5Z stdout P Hello,\x{20}
//! === output
//! @2 stdout 2026-11-20T10:00:01.500000000Z #1 x2 "Hello, world"
//! @3 drop empty line
//! @end stderr …
//! counters raw=… framed=… pieces=… empty=… malformed=… truncated=… replaced=…
//! ```
//!
//! In the input, `\x{HH}` is the byte `HH` (invalid UTF-8, `\r`, and a
//! trailing space, which editors would strip); nothing else is an escape, so
//! docker lines are written as they are on disk. In the output, `@N` is the
//! raw line whose push produced the event (`@end`: `finish`), then the
//! stream, the timestamp (rendered by chrono, not by the code under test),
//! `#` the first raw line, `x` the number of pieces, the flags `truncated`
//! and `replaced` when set, and the text in Rust's debug syntax.
//!
//! `UPDATE_EXPECT=1 cargo test -p uml-runtime --test framing` rewrites the
//! output sections; review the diff before committing it.
//!
//! The file-name parser, lines too long for a case file and the handling of
//! a trailing `\n` are tested at the end.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, SecondsFormat};
use uml_runtime::framing::{
    DropReason, FileMeta, FileNameError, Format, FramedLine, Framer, FramingError, Stream, parse_cri, parse_docker,
    parse_file_name,
};

const INPUT: &str = "=== input\n";
const OUTPUT: &str = "=== output\n";

fn unescape(line: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find("\\x{") {
        out.extend_from_slice(&rest.as_bytes()[..at]);
        let close = rest[at..].find('}').expect("unclosed \\x{") + at;
        let byte = u8::from_str_radix(&rest[at + 3..close], 16).expect("\\x{HH} takes two hex digits");
        out.push(byte);
        rest = &rest[close + 1..];
    }
    out.extend_from_slice(rest.as_bytes());
    out
}

fn render_time(ns: i64) -> String {
    DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn render(out: &mut String, at: &str, event: Result<FramedLine<'_>, DropReason>) {
    match event {
        Ok(line) => {
            write!(
                out,
                "@{at} {} {} #{} x{}",
                line.stream,
                render_time(line.timestamp_ns),
                line.first_line,
                line.pieces
            )
            .unwrap();
            if line.truncated {
                out.push_str(" truncated");
            }
            if line.replaced_invalid_utf8 {
                out.push_str(" replaced");
            }
            writeln!(out, " {:?}", line.text).unwrap();
        }
        Err(reason) => writeln!(out, "@{at} drop {reason}").unwrap(),
    }
}

/// Runs a case's input through a framer and renders what came out.
fn run(header: &str, input: &str) -> String {
    let mut format = None;
    let mut max = None;
    for line in header.lines() {
        if let Some(v) = line.strip_prefix("format: ") {
            format = match v.trim() {
                "auto" => None,
                "cri" => Some(Format::Cri),
                "docker" => Some(Format::Docker),
                other => panic!("unknown format {other}"),
            };
        } else if let Some(v) = line.strip_prefix("max: ") {
            max = Some(v.trim().parse().expect("max: a number"));
        } else {
            assert!(line.is_empty() || line.starts_with('#'), "unknown option line {line:?}");
        }
    }
    let mut framer = Framer::new(format);
    if let Some(max) = max {
        framer = framer.with_max_line_bytes(max);
    }
    let mut out = String::new();
    for (i, line) in input.lines().enumerate() {
        let raw = unescape(line);
        if let Some(event) = framer.push(&raw) {
            render(&mut out, &(i + 1).to_string(), event);
        }
        check_balance(&framer);
    }
    while let Some(event) = framer.finish() {
        render(&mut out, "end", event);
    }
    assert_eq!(framer.pending_pieces(), 0);
    check_balance(&framer);
    let c = framer.counters();
    writeln!(
        out,
        "counters raw={} framed={} pieces={} empty={} malformed={} truncated={} replaced={}",
        c.raw_lines,
        c.framed_lines,
        c.framed_pieces,
        c.dropped_empty,
        c.dropped_malformed,
        c.truncated,
        c.replaced_invalid_utf8
    )
    .unwrap();
    out
}

fn check_balance(framer: &Framer) {
    let c = framer.counters();
    assert_eq!(c.raw_lines, c.framed_pieces + c.dropped() + framer.pending_pieces(), "{c:?}");
}

#[test]
fn cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/framing");
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension() == Some("txt".as_ref()))
        .collect();
    paths.sort();
    assert!(paths.len() >= 10, "the cases are missing from {}", dir.display());
    let mut failures = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap();
        let (header, rest) = text.split_once(INPUT).expect("an input section");
        let (input, expected) = rest.split_once(OUTPUT).unwrap_or((rest, ""));
        let actual = run(header, input);
        if actual != expected {
            if update {
                std::fs::write(path, format!("{header}{INPUT}{input}{OUTPUT}{actual}")).unwrap();
            } else {
                failures.push(format!("{}:\n--- expected\n{expected}--- actual\n{actual}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// File names.

const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn meta<'a>(pod: &'a str, namespace: &'a str, container: &'a str, id: &'a str, cut: bool) -> FileMeta<'a> {
    FileMeta { pod, namespace, container, container_id: id, cut }
}

#[test]
fn file_names() {
    let ns = "org-50a9bc6b456e47aa88e0d81e622ea315";
    let pod = "model-x5qe2qo-7d9f8b6c5d-q7rg5";
    let cases: Vec<(String, Result<FileMeta<'_>, FileNameError>)> = vec![
        (format!("/var/log/containers/{pod}_{ns}_model-{ID}.log"), Ok(meta(pod, ns, "model", ID, false))),
        (format!("{pod}_{ns}_model-{ID}.log"), Ok(meta(pod, ns, "model", ID, false))),
        (format!("logs/{pod}_{ns}_queue-proxy-{ID}.log"), Ok(meta(pod, ns, "queue-proxy", ID, false))),
        (
            format!("build-x5qe2qo-abcde-pod_{ns}_step-build-{ID}.log"),
            Ok(meta("build-x5qe2qo-abcde-pod", ns, "step-build", ID, false)),
        ),
        // The fixture of tests/semantic: a short id.
        (format!("{pod}_{ns}_model-0123456789abcdef.log"), Ok(meta(pod, ns, "model", "0123456789abcdef", false))),
        // Pods may hold dots; a container ending in hex-like words still splits at the last `-`.
        (format!("web.v2_default_cafe-babe-{ID}.log"), Ok(meta("web.v2", "default", "cafe-babe", ID, false))),
        (format!("{pod}_{ns}_model-{ID}.log.1"), Err(FileNameError::NotLog)),
        (format!("{pod}_{ns}_model-{ID}"), Err(FileNameError::NotLog)),
        (format!("/var/log/containers/{pod}_{ns}_model-{ID}.log/"), Err(FileNameError::NotLog)),
        (String::new(), Err(FileNameError::NotLog)),
        (format!("{pod}-{ns}-model-{ID}.log"), Err(FileNameError::Shape)),
        (format!("{pod}_{ns}-model-{ID}.log"), Err(FileNameError::Shape)),
        (format!("{pod}_{ns}_model_x-{ID}.log"), Err(FileNameError::Shape)),
        (format!("_{ns}_model-{ID}.log"), Err(FileNameError::EmptyField)),
        (format!("{pod}__model-{ID}.log"), Err(FileNameError::EmptyField)),
        (format!("{pod}_{ns}_-{ID}.log"), Err(FileNameError::EmptyField)),
        (format!("{pod}_{ns}_model.log"), Err(FileNameError::NoContainerId)),
        (format!("{pod}_{ns}_model-.log"), Err(FileNameError::NoContainerId)),
        (format!("{pod}_{ns}_model-XYZ.log"), Err(FileNameError::NoContainerId)),
        (format!("{pod}_{ns}_model-{ID}0.log"), Err(FileNameError::NoContainerId)),
        (format!("{pod}_{ns}_model-{}.log", ID.to_uppercase()), Err(FileNameError::NoContainerId)),
        (".log".to_owned(), Err(FileNameError::Shape)),
    ];
    for (name, want) in &cases {
        assert_eq!(parse_file_name(name), *want, "{name}");
    }
}

const NS: &str = "org-50a9bc6b456e47aa88e0d81e622ea315";

/// The whole name of a container `container` with its 64-hex id in a pod
/// named `p` repeated `pod_len` times, before any cut.
fn long_name(pod_len: usize, container: &str) -> String {
    format!("{}_{NS}_{container}-{ID}.log", "p".repeat(pod_len))
}

/// Parses `name` cut to 255 bytes, as the kubelet would not but other writers do.
fn parse_cut(name: &str) -> Result<FileMeta<'_>, FileNameError> {
    parse_file_name(&name[..name.len().min(255)])
}

/// The container and the id of [`long_name`] cut to 255 bytes.
fn cut_container_and_id(pod_len: usize, container: &str) -> (String, String) {
    let name = long_name(pod_len, container);
    let meta = parse_cut(&name).unwrap();
    assert!(meta.cut);
    (meta.container.to_owned(), meta.container_id.to_owned())
}

#[test]
fn cut_file_names() {
    // With a pod of 150 bytes, `<pod>_<ns>_model-` is 194 bytes: 61 of the
    // 64 hex digits fit in 255 bytes.
    let name = long_name(150, "model");
    let pod = "p".repeat(150);
    let got = parse_cut(&name).unwrap();
    assert_eq!(got, FileMeta { pod: &pod, namespace: NS, container: "model", container_id: &ID[..61], cut: true });

    // The kubelet's own cut keeps `.log` after 251 bytes.
    let kubelet = format!("{}.log", &name[..251]);
    assert_eq!(parse_file_name(&kubelet).unwrap().container_id, &ID[..57]);
    assert!(parse_file_name(&kubelet).unwrap().cut);

    // Cut inside `.log`: whole id, possibly cut flagged though nothing is lost.
    for pod_len in 143..=146 {
        let name = long_name(pod_len, "model");
        let got = parse_cut(&name).unwrap();
        assert_eq!((got.container, got.container_id, got.cut), ("model", ID, true), "{}", &name[250.min(name.len())..]);
    }

    // Cut inside the id, down to nothing, then the `-` and into the container.
    for k in 1..=64 {
        let got = cut_container_and_id(147 + k, "model");
        assert_eq!((got.0.as_str(), got.1.as_str()), ("model", &ID[..64 - k]), "{k}");
    }
    let got = cut_container_and_id(147 + 65, "model");
    assert_eq!((got.0.as_str(), got.1.as_str()), ("model", ""));
    let got = cut_container_and_id(147 + 66, "model");
    assert_eq!((got.0.as_str(), got.1.as_str()), ("mode", ""), "a cut container cannot be told from a whole one");

    // A container with `-`: when the id and its `-` are gone, a word that is
    // not hex stays in the container; one that is hex is read as the id (the
    // ambiguity the module documents).
    let got = cut_container_and_id(147 + 65 - 6, "queue-proxy");
    assert_eq!((got.0.as_str(), got.1.as_str()), ("queue-proxy", ""));
    let got = cut_container_and_id(147 + 65 - 2, "my-cafe");
    assert_eq!((got.0.as_str(), got.1.as_str()), ("my", "cafe"));

    // Still an error when the shape is wrong, cut or not.
    assert_eq!(parse_cut(&"x".repeat(300)), Err(FileNameError::Shape));
    assert_eq!(parse_cut(&format!("{}_{NS}_-{ID}", "p".repeat(200))), Err(FileNameError::EmptyField));
}

// Lines too long for a case file.

const MIB: usize = 1024 * 1024;
const MAX: usize = uml_runtime::framing::DEFAULT_MAX_LINE_BYTES;

/// A message of `len` bytes: ASCII with a three-byte character every 100
/// bytes, so that a cut can fall inside one.
fn long_message(len: usize) -> Vec<u8> {
    let mut m = Vec::with_capacity(len + 3);
    while m.len() < len {
        if m.len() % 100 == 97 {
            m.extend_from_slice("━".as_bytes());
        } else {
            m.push(b'a' + (m.len() % 26) as u8);
        }
    }
    m.truncate(len);
    m
}

/// The longest prefix of `s` of at most `max` bytes on a character boundary.
fn floor(s: &str, max: usize) -> &str {
    (0..=max.min(s.len())).rev().find(|&i| s.is_char_boundary(i)).map(|i| &s[..i]).unwrap()
}

fn assert_cut(line: &FramedLine<'_>, whole: &[u8]) {
    let whole = String::from_utf8_lossy(whole);
    assert!(line.truncated);
    assert!(line.text.len() <= MAX && line.text.len() > MAX - 4, "{}", line.text.len());
    assert_eq!(line.text, floor(&whole, MAX));
}

#[test]
fn a_one_mib_cri_line_is_cut_to_the_maximum() {
    let message = long_message(MIB);
    let mut raw = b"2026-11-20T10:00:01.5Z stdout F ".to_vec();
    raw.extend_from_slice(&message);
    let mut framer = Framer::new(None);
    let line = framer.push(&raw).unwrap().unwrap();
    assert_cut(&line, &message);
    assert_eq!(line.text.as_ptr(), raw[32..].as_ptr(), "valid UTF-8 is borrowed, not copied");
    assert_eq!(framer.counters().truncated, 1);
}

#[test]
fn a_one_mib_line_in_16_kib_pieces_is_cut_to_the_maximum() {
    for format in [Format::Cri, Format::Docker] {
        let message = long_message(MIB + 123);
        let pieces: Vec<&[u8]> = message.chunks(16 * 1024).collect();
        let mut framer = Framer::new(Some(format));
        // What the pieces hold in all: docker, unlike CRI, writes a
        // character cut between pieces as U+FFFD.
        let mut sent = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            let last = i + 1 == pieces.len();
            let raw = match format {
                Format::Cri => {
                    sent.extend_from_slice(piece);
                    let tag = if last { 'F' } else { 'P' };
                    let mut raw = format!("2026-11-20T10:00:{:02}Z stderr {tag} ", i % 60).into_bytes();
                    raw.extend_from_slice(piece);
                    raw
                }
                Format::Docker => {
                    let log = String::from_utf8_lossy(piece);
                    sent.extend_from_slice(log.as_bytes());
                    let nl = if last { "\\n" } else { "" };
                    format!(r#"{{"log":"{log}{nl}","stream":"stderr","time":"2026-11-20T10:00:01Z"}}"#).into_bytes()
                }
                other => unreachable!("{other:?} has no pieces"),
            };
            let event = framer.push(&raw);
            if last {
                let line = event.unwrap().unwrap();
                assert_eq!((line.pieces, line.first_line), (pieces.len() as u64, 1));
                assert_cut(&line, &sent);
            } else {
                assert!(event.is_none(), "piece {i}");
            }
        }
        assert_eq!(framer.counters().framed_pieces, pieces.len() as u64);
        assert!(framer.finish().is_none());
    }
}

#[test]
fn a_one_mib_docker_line_is_cut_to_the_maximum() {
    let message = long_message(MIB);
    let text = std::str::from_utf8(&message).unwrap();
    for escaped in [false, true] {
        // An escaped line has a `\"` at the start, so it is decoded.
        let (log, whole) =
            if escaped { (format!("\\\"{text}"), format!("\"{text}")) } else { (text.to_owned(), text.to_owned()) };
        let raw = format!(r#"{{"log":"{log}\n","stream":"stdout","time":"2026-11-20T10:00:01Z"}}"#);
        let mut framer = Framer::new(None);
        let line = framer.push(raw.as_bytes()).unwrap().unwrap();
        assert_cut(&line, whole.as_bytes());
    }
}

#[test]
fn a_one_mib_invalid_line_is_cut_after_repair() {
    let mut message = long_message(MIB);
    for i in (0..message.len()).step_by(1000) {
        message[i] = 0xff;
    }
    let mut raw = b"2026-11-20T10:00:01Z stdout F ".to_vec();
    raw.extend_from_slice(&message);
    let mut framer = Framer::new(None);
    let line = framer.push(&raw).unwrap().unwrap();
    assert!(line.replaced_invalid_utf8);
    assert_cut(&line, &message);
}

#[test]
fn a_trailing_newline_is_the_terminator_and_a_carriage_return_stays() {
    let mut framer = Framer::new(None);
    let line = framer.push(b"2026-11-20T10:00:01Z stdout F progress\r\n").unwrap().unwrap();
    assert_eq!(line.text, "progress\r");
    let line = framer.push(b"2026-11-20T10:00:01Z stdout F two\n\n").unwrap().unwrap();
    assert_eq!(line.text, "two\n", "only one `\\n` is a terminator");
    assert_eq!(framer.push(b"2026-11-20T10:00:01Z stdout F \n"), Some(Err(DropReason::EmptyLine)));
    assert_eq!(framer.push(b"\n"), Some(Err(DropReason::MalformedFraming(FramingError::Blank))));

    let mut framer = Framer::new(None);
    let raw = b"{\"log\":\"x\\r\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-20T10:00:01Z\"}\n";
    assert_eq!(framer.push(raw).unwrap().unwrap().text, "x\r");
    assert_eq!(framer.format(), Some(Format::Docker));
}

#[test]
fn the_parsers_alone() {
    let line = parse_cri(b"2026-11-20T10:00:02Z stdout F:x:y a b  c \r").unwrap();
    assert_eq!((line.stream, line.partial, line.message), (Stream::Stdout, false, &b"a b  c \r"[..]));
    assert_eq!(line.timestamp_ns, 1_795_168_802_000_000_000);
    assert_eq!(parse_cri(b"2026-11-20T10:00:02Z stdout P").unwrap().message, b"");
    assert_eq!(parse_cri(b"2026-11-20T10:00:02Z stdout"), Err(FramingError::CriFields));

    let mut buf = Vec::new();
    let raw = br#"{"log":"abc\u00e9def","stream":"stdout","time":"2026-11-20T10:00:01Z"}"#;
    let line = parse_docker(raw, &mut buf, 4).unwrap();
    assert_eq!((line.log, line.log_cut, line.partial), (&b"abc\xc3"[..], true, true));
    let line = parse_docker(raw, &mut buf, 9).unwrap();
    assert_eq!((line.log, line.log_cut), ("abcédef".as_bytes(), false));
    assert!(buf.capacity() < 64);
    let raw = br#"{"log":"abcdef\n","stream":"stderr","time":"2026-11-20T10:00:01Z"}"#;
    let line = parse_docker(raw, &mut buf, 6).unwrap();
    assert_eq!((line.log, line.log_cut, line.partial, line.stream), (&b"abcdef"[..], false, false, Stream::Stderr));
    let line = parse_docker(raw, &mut buf, 5).unwrap();
    assert_eq!((line.log, line.log_cut), (&b"abcde"[..], true));
    let raw = br#"{"log":"abcdef\\\n","stream":"stderr","time":"2026-11-20T10:00:01Z"}"#;
    let line = parse_docker(raw, &mut buf, 7).unwrap();
    assert_eq!((line.log, line.log_cut, line.partial), (&b"abcdef\\"[..], false, false));

    assert_eq!(Format::detect(b" \t{"), Some(Format::Docker));
    assert_eq!(Format::detect(b"2026"), Some(Format::Cri));
    assert_eq!(Format::detect(b" \r"), None);
    assert_eq!((Stream::Stdout.as_str(), Stream::Stderr.to_string()), ("stdout", "stderr".to_owned()));
    assert_eq!(Stream::from_bytes(b"stdin"), None);
}

#[test]
fn a_small_maximum_is_raised_to_one_character() {
    let mut framer = Framer::new(None).with_max_line_bytes(0);
    assert_eq!(framer.max_line_bytes(), 4);
    let line = framer.push("2026-11-20T10:00:01Z stdout F 😀😀".as_bytes()).unwrap().unwrap();
    assert_eq!((line.text, line.truncated), ("😀", true));
}

/// Found by `framing_props`: the cap of kept bytes (the maximum plus three)
/// overflowed for a maximum of `usize::MAX`, which must mean no limit.
#[test]
fn regression_a_maximum_of_usize_max_is_no_limit() {
    let mut framer = Framer::new(None).with_max_line_bytes(usize::MAX);
    assert_eq!(framer.push(b""), Some(Err(DropReason::MalformedFraming(FramingError::Blank))));
    assert!(framer.push(b"2026-11-20T10:00:01Z stdout P a").is_none());
    let line = framer.push(b"2026-11-20T10:00:01Z stdout F b\xff").unwrap().unwrap();
    assert_eq!((line.text, line.truncated), ("ab\u{FFFD}", false));
}

#[test]
fn raw_text_is_one_stdout_line_per_raw_line_stamped_when_read() {
    let mut framer = Framer::new(Some(Format::Raw));
    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64;
    let line = framer.push(b"INFO:     Started server process [12625]\r\n").unwrap().unwrap();
    assert_eq!((line.stream, line.text, line.pieces), (Stream::Stdout, "INFO:     Started server process [12625]", 1));
    assert!(line.timestamp_ns >= before);
    // What would be a CRI or docker line is text like any other.
    let line = framer.push(b"2026-11-20T10:00:00Z stderr P not a piece").unwrap().unwrap();
    assert_eq!(line.text, "2026-11-20T10:00:00Z stderr P not a piece");
}
