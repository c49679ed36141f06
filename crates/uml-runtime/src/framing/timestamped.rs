//! `kubectl logs --timestamps`: each line starts with the runtime's RFC 3339
//! timestamp and a space (the Kubernetes API's `PodLogOptions.timestamps`:
//! "add an RFC3339 or RFC3339Nano timestamp at the beginning of every line
//! of log output"):
//!
//! ```text
//! 2026-11-20T10:00:01.123456789Z INFO:     Started server process [12625]
//! ```
//!
//! Reading it keeps the time each line was written, where `raw` can only
//! stamp a line when it is read: multiline grouping's `idle` and the
//! records' timestamps are then the container's. The API server has
//! already joined CRI's partial lines and merged stdout and stderr, so a
//! line is whole and its stream is stdout.

use super::FramingError;
use crate::stdlib::timestamp::Rfc3339Parser;

/// The timestamp (ns since the epoch) and the message of one line, without
/// its `\n`.
pub fn parse_timestamped<'a>(line: &'a [u8], timestamps: &mut Rfc3339Parser) -> Result<(i64, &'a [u8]), FramingError> {
    let at = memchr::memchr(b' ', line).ok_or(FramingError::TimestampedTime)?;
    let timestamp_ns = timestamps.parse(&line[..at]).ok_or(FramingError::TimestampedTime)?;
    let message = &line[at + 1..];
    Ok((timestamp_ns, message.strip_suffix(b"\r").unwrap_or(message)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::{Format, Framer, Stream};

    // Lines written to the format the API documents; the messages are
    // uvicorn's and Python's, as elsewhere in the tests.
    #[test]
    fn lines_keep_their_time() {
        let mut framer = Framer::new(Some(Format::Timestamped));
        let line = framer.push(b"2026-11-20T10:00:01.123456789Z INFO:     Started server process [12625]\n");
        let line = line.expect("a whole line").expect("not dropped");
        assert_eq!(
            (line.text, line.stream, line.timestamp_ns),
            ("INFO:     Started server process [12625]", Stream::Stdout, 1_795_168_801_123_456_789)
        );
        let line =
            framer.push(b"2026-11-20T10:00:02+01:00   File \"/app/model.py\", line 12, in predict").unwrap().unwrap();
        assert_eq!(
            (line.text, line.timestamp_ns),
            ("  File \"/app/model.py\", line 12, in predict", 1_795_165_202_000_000_000)
        );
    }

    #[test]
    fn a_line_without_a_timestamp_is_malformed() {
        let mut parser = Rfc3339Parser::default();
        for bad in [&b"INFO: no time"[..], b"2026-11-20T10:00:01Z", b"20/Nov/2026 message"] {
            assert_eq!(parse_timestamped(bad, &mut parser), Err(FramingError::TimestampedTime), "{bad:?}");
        }
        assert_eq!(parse_timestamped(b"2026-11-20T10:00:01Z ", &mut parser), Ok((1_795_168_801_000_000_000, &b""[..])));
    }
}
