//! One line of docker's json-file log format:
//! `{"log":"…\n","stream":"stdout","time":"2026-11-20T10:00:01.123456789Z"}`.
//!
//! The object is read by the crate's JSON scanner ([`scan_object`]), which
//! validates it in one pass and locates the three members; any others
//! (`attrs`) are skipped. The `log` string is decoded by [`decode_string`]
//! only when it holds an escape; without one it is borrowed as it is. Lone
//! surrogate escapes (`\ud800`) become U+FFFD there, and are reported
//! ([`DockerLine::lone_surrogate`]) so the framer can flag the line as
//! repaired.
//!
//! Docker cuts a long line into pieces of 16 KiB; each piece but the last
//! lacks the trailing `\n`, which is how a partial piece is told from a full
//! line. Docker encodes each piece separately, so a character cut between
//! two pieces reaches the file as U+FFFD already (Go's encoder replaces the
//! invalid bytes); nothing can restore it. A bare `\r` stays in the message.

use super::{FramingError, Stream};
use crate::json::{JsonKind, RawValue, decode_string, decode_unicode_escape, scan_object};
use crate::stdlib::timestamp::parse_rfc3339_bytes;

/// A docker json-file line, with its `log` borrowed from the raw line or
/// from the caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DockerLine<'a> {
    /// `time`, nanoseconds since the Unix epoch.
    pub timestamp_ns: i64,
    pub stream: Stream,
    /// `log` does not end in `\n`: more pieces of this line follow on this stream.
    pub partial: bool,
    /// `log`, decoded, without its trailing `\n`, and at most `limit` bytes.
    pub log: &'a [u8],
    /// `log` was longer than `limit` and has been cut (on a byte, not a character).
    pub log_cut: bool,
    /// `log` held a lone surrogate escape, now U+FFFD.
    pub lone_surrogate: bool,
}

const KEYS: [&[u8]; 3] = [b"log", b"stream", b"time"];

/// Parses one raw docker json-file line (a trailing `\n` is whitespace
/// around the object). `buf` receives the decoded `log` when it has escapes;
/// it is cleared first and never grows beyond `limit + 1` bytes, so a
/// caller that caps lines can bound its memory (`usize::MAX` for no cap).
///
/// ```
/// # use uml_runtime::framing::{parse_docker, Stream};
/// let mut buf = Vec::new();
/// let raw = br#"{"log":"\u001b[31mERROR\u001b[0m \"boom\"\n","stream":"stderr","time":"2026-11-20T10:00:01.5Z"}"#;
/// let line = parse_docker(raw, &mut buf, usize::MAX).unwrap();
/// assert_eq!((line.stream, line.partial), (Stream::Stderr, false));
/// assert_eq!(line.log, b"\x1b[31mERROR\x1b[0m \"boom\"");
/// assert_eq!(line.timestamp_ns, 1_795_168_801_500_000_000);
/// ```
pub fn parse_docker<'a>(line: &'a [u8], buf: &'a mut Vec<u8>, limit: usize) -> Result<DockerLine<'a>, FramingError> {
    let mut found = [None; 3];
    scan_object(line, &KEYS, &mut found).map_err(|_| FramingError::DockerJson)?;
    let [log, stream, time] = found;
    let log = log.filter(|v| v.kind == JsonKind::String).ok_or(FramingError::DockerLog)?;
    let stream = stream
        .filter(|v| v.kind == JsonKind::String)
        .and_then(|v| Stream::from_bytes(v.string_body(line)))
        .ok_or(FramingError::DockerStream)?;
    let timestamp_ns = time
        .filter(|v| v.kind == JsonKind::String && !v.has(RawValue::ESCAPED))
        .and_then(|v| parse_rfc3339_bytes(v.string_body(line)))
        .ok_or(FramingError::DockerTime)?;

    let body = log.string_body(line);
    let (log_bytes, partial, log_cut) = if log.has(RawValue::ESCAPED) {
        // Decode, keeping at most `limit + 1` bytes (room for the `\n`) but
        // noting the true length and the last byte.
        buf.clear();
        let room = limit.saturating_add(1);
        let (mut total, mut last) = (0usize, 0u8);
        decode_string(body, |chunk| {
            if let Some(&b) = chunk.last() {
                last = b;
            }
            total += chunk.len();
            let take = chunk.len().min(room.saturating_sub(buf.len()));
            buf.extend_from_slice(&chunk[..take]);
        });
        let partial = last != b'\n';
        let len = total - usize::from(!partial);
        buf.truncate(len.min(limit));
        (&buf[..], partial, len > limit)
    } else {
        let (text, partial) = match body.strip_suffix(b"\n") {
            Some(text) => (text, false),
            None => (body, true),
        };
        (&text[..text.len().min(limit)], partial, text.len() > limit)
    };
    let lone_surrogate = log.has(RawValue::UNICODE) && has_lone_surrogate(body);
    Ok(DockerLine { timestamp_ns, stream, partial, log: log_bytes, log_cut, lone_surrogate })
}

/// Whether a validated JSON string body holds a `\u` escape that decodes to
/// U+FFFD without spelling it: a lone or malformed surrogate.
fn has_lone_surrogate(body: &[u8]) -> bool {
    let mut i = 0;
    while let Some(off) = body.get(i..).and_then(|rest| memchr::memchr(b'\\', rest)) {
        let at = i + off;
        if body.get(at + 1) != Some(&b'u') {
            i = at + 2;
            continue;
        }
        let (ch, used) = decode_unicode_escape(&body[at..]);
        if ch == '\u{FFFD}' && !body.get(at + 2..at + 6).is_some_and(|hex| hex.eq_ignore_ascii_case(b"fffd")) {
            return true;
        }
        i = at + used;
    }
    false
}
