//! One line of the CRI log format, written by containerd and CRI-O:
//! `<timestamp> <stdout|stderr> <tag> <message>`.
//!
//! - The timestamp is RFC 3339 with 0 to 9 fraction digits (trailing zeros
//!   trimmed) and `Z` or, from CRI-O, a local offset; it is read by the
//!   standard library's [`parse_rfc3339_bytes`](crate::stdlib::timestamp::parse_rfc3339_bytes),
//!   the one timestamp parser.
//! - The tag holds `:`-separated values of which only the first counts:
//!   `F`, a full line or the last piece of one, or `P`, a partial piece.
//! - The message is every byte after the third space, `\r` and invalid
//!   UTF-8 included; it may be empty (`<ts> stdout F `).
//!
//! Decisions on what the format leaves open:
//!
//! - **A trailing `\n` is not part of the message.** A CRI message never
//!   holds a `\n` (the runtime splits lines there), so one at the end of the
//!   raw line can only be the line terminator a reader kept; it is removed.
//!   A `\r` is content and stays: `\r\n` leaves the `\r`, as the platform
//!   wants for progress bars.
//! - **A missing third space means an empty message.** `<ts> stdout F`
//!   (trailing space trimmed by some tool) reads as `<ts> stdout F `.
//! - Fields are separated by exactly one space; an empty field (two spaces)
//!   is malformed, as no runtime writes one.

use super::{FramingError, Stream};
use crate::stdlib::timestamp::Rfc3339Parser;

/// A CRI line, borrowed from the raw line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CriLine<'a> {
    /// The runtime's timestamp, nanoseconds since the Unix epoch.
    pub timestamp_ns: i64,
    pub stream: Stream,
    /// The tag is `P`: more pieces of this line follow on this stream.
    pub partial: bool,
    /// The bytes the container wrote, not necessarily UTF-8.
    pub message: &'a [u8],
}

/// Parses one raw CRI line (see the module documentation for a trailing
/// `\n` and a missing third space).
///
/// ```
/// # use uml_runtime::framing::{parse_cri, Stream};
/// let line = parse_cri(b"2026-11-20T05:00:02.1-05:00 stderr P:extra part of a line").unwrap();
/// assert_eq!(line.timestamp_ns, 1_795_168_802_100_000_000);
/// assert_eq!((line.stream, line.partial, line.message), (Stream::Stderr, true, &b"part of a line"[..]));
/// ```
pub fn parse_cri(line: &[u8]) -> Result<CriLine<'_>, FramingError> {
    parse_unterminated(line.strip_suffix(b"\n").unwrap_or(line), &mut Rfc3339Parser::default())
}

/// [`parse_cri`] of a line whose terminator is already removed, with the
/// file's timestamp parser (which remembers the last minute).
pub(super) fn parse_unterminated<'a>(
    line: &'a [u8],
    timestamps: &mut Rfc3339Parser,
) -> Result<CriLine<'a>, FramingError> {
    let (timestamp, rest) = split_space(line).ok_or(FramingError::CriFields)?;
    // What kubelet writes, read without searching for the spaces:
    // `stdout F `, `stderr P `. The same checks in the same order.
    if let Some(&[.., b' ', tag @ (b'F' | b'P'), b' ']) = rest.get(..9)
        && let Some(stream) = Stream::from_bytes(&rest[..6])
    {
        let timestamp_ns = timestamps.parse(timestamp).ok_or(FramingError::CriTimestamp)?;
        return Ok(CriLine { timestamp_ns, stream, partial: tag == b'P', message: &rest[9..] });
    }
    let (stream, rest) = split_space(rest).ok_or(FramingError::CriFields)?;
    let (tag, message) = split_space(rest).unwrap_or((rest, &[]));
    let timestamp_ns = timestamps.parse(timestamp).ok_or(FramingError::CriTimestamp)?;
    let stream = Stream::from_bytes(stream).ok_or(FramingError::CriStream)?;
    let first_tag = tag.split(|&b| b == b':').next().unwrap_or(tag);
    let partial = match first_tag {
        b"F" => false,
        b"P" => true,
        _ => return Err(FramingError::CriTag),
    };
    Ok(CriLine { timestamp_ns, stream, partial, message })
}

/// The bytes before the first space and those after it.
fn split_space(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = memchr::memchr(b' ', s)?;
    Some((&s[..at], &s[at + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The fields found by searching for each space in turn: what the
    /// parser does for any line its fast path does not take.
    fn by_search(line: &[u8]) -> Result<CriLine<'_>, FramingError> {
        let (timestamp, rest) = split_space(line).ok_or(FramingError::CriFields)?;
        let (stream, rest) = split_space(rest).ok_or(FramingError::CriFields)?;
        let (tag, message) = split_space(rest).unwrap_or((rest, &[]));
        let timestamp_ns = Rfc3339Parser::default().parse(timestamp).ok_or(FramingError::CriTimestamp)?;
        let stream = Stream::from_bytes(stream).ok_or(FramingError::CriStream)?;
        let partial = match tag.split(|&b| b == b':').next().unwrap_or(tag) {
            b"F" => false,
            b"P" => true,
            _ => return Err(FramingError::CriTag),
        };
        Ok(CriLine { timestamp_ns, stream, partial, message })
    }

    const PIECES: &[&str] = &[
        "2026-11-20T10:00:01.5Z",
        "2026-11-20T10:00:01Z",
        "2026-13-20T10:00:01Z",
        " ",
        "  ",
        "stdout",
        "stderr",
        "stdou",
        "F",
        "P",
        "X",
        "F:x",
        "P:",
        "msg",
        "",
        "é",
        "\r",
    ];

    proptest! {
        /// The fast path for `stdout F ` and the like reads every line as
        /// the search for each space does, errors included.
        #[test]
        fn fast_path_reads_as_the_search(pieces in prop::collection::vec(prop::sample::select(PIECES), 0..8)) {
            let line = pieces.concat();
            let fast = parse_unterminated(line.as_bytes(), &mut Rfc3339Parser::default());
            prop_assert_eq!(fast, by_search(line.as_bytes()), "{:?}", line);
        }

        /// The same on lines shaped like CRI lines, field by field.
        #[test]
        fn fast_path_reads_fields_as_the_search(fields in prop::collection::vec(prop::sample::select(PIECES), 7)) {
            let line = [fields[0], " ", fields[2], fields[3], fields[4], fields[5], fields[6]].concat();
            let fast = parse_unterminated(line.as_bytes(), &mut Rfc3339Parser::default());
            prop_assert_eq!(fast, by_search(line.as_bytes()), "{:?}", line);
        }
    }
}
