//! `parse_klog`: Kubernetes klog and glog lines (`docs/language.md` §10.1).
//!
//! ```text
//! I1012 01:17:48.317907 1 grpc_server.cc:2451] Started GRPCInferenceService at 0.0.0.0:8001
//! I1120 10:00:00.000000       1 watcher.go:88] resync
//! ^^^^^ ^^^^^^^^^^^^^^^ ^^^^^^^ ^^^^^^^^^^^^ ^ ^^^^^^
//! Lmmdd hh:mm:ss.uuuuuu  thread file         line message
//! ```
//!
//! The header has fixed widths except the thread id, which klog pads with
//! spaces (`%7d`), and the file. Everything after `] ` is the message,
//! borrowed from the line.

use super::error_enum;
use super::level::Level;
use super::timestamp::{CivilDateTime, NANOS_PER_DAY, civil_from_days};

/// A klog severity: the letter that starts the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KlogLevel {
    Info,
    Warning,
    Error,
    Fatal,
}

impl KlogLevel {
    /// The object's `level` string: `"info"`, `"warning"`, `"error"` or `"fatal"`.
    pub fn as_str(self) -> &'static str {
        match self {
            KlogLevel::Info => "info",
            KlogLevel::Warning => "warning",
            KlogLevel::Error => "error",
            KlogLevel::Fatal => "fatal",
        }
    }

    /// The record level, as `level(k.level)` gives it: fatal is ERROR.
    pub fn level(self) -> Level {
        match self {
            KlogLevel::Info => Level::Info,
            KlogLevel::Warning => Level::Warning,
            KlogLevel::Error | KlogLevel::Fatal => Level::Error,
        }
    }
}

/// A parsed klog line. The fields of the language's object are `level`
/// ([`KlogLevel::as_str`]), `timestamp` ([`Klog::timestamp`]), `id`,
/// `file`, `line` and `message`; the parts of the time are kept separately
/// for the timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Klog<'a> {
    pub level: KlogLevel,
    /// The year, when the header has one (glog since 0.7 writes
    /// `I20261120 …`); klog writes none.
    pub year: Option<i32>,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub microsecond: u32,
    /// The thread id (klog writes the process id).
    pub id: u64,
    pub file: &'a str,
    pub line: u32,
    pub message: &'a str,
}

error_enum! {
    /// Why `parse_klog` failed.
    pub enum KlogError {
        /// The line does not have the shape of a klog header.
        NotKlog => "not a klog line",
        /// The header's date or time does not exist.
        InvalidTime => "invalid date or time in klog header",
    }
}

/// Parses a klog line: `Lmmdd hh:mm:ss.uuuuuu threadid file:line] message`.
///
/// `L` is one of `I W E F`; the thread id is preceded by one or more
/// spaces; the message is everything after `]` and one space (empty when
/// the line ends at `]`). Month, day, hour, minute and second are checked
/// against their ranges (a day up to the month's length in a leap year:
/// the year is not known yet, see [`Klog::timestamp`]).
///
/// Decisions: glog's header with a year (`I20261012 …`, since glog 0.7) is
/// accepted too and sets [`Klog::year`]; a second of 60 is a leap second
/// (as in `parse_timestamp`); the file may not contain spaces, and the
/// `line` is its last `:` up to the first `]`.
///
/// Borrows; never allocates.
///
/// ```
/// # use uml_runtime::stdlib::klog::{parse_klog, KlogLevel};
/// let k = parse_klog("I1012 01:17:48.317907 1 grpc_server.cc:2451] Started GRPCInferenceService at 0.0.0.0:8001").unwrap();
/// assert_eq!((k.level, k.id, k.file, k.line), (KlogLevel::Info, 1, "grpc_server.cc", 2451));
/// assert_eq!(k.message, "Started GRPCInferenceService at 0.0.0.0:8001");
/// ```
pub fn parse_klog(line: &str) -> Result<Klog<'_>, KlogError> {
    use KlogError::NotKlog;
    let b = line.as_bytes();
    let level = match b.first() {
        Some(b'I') => KlogLevel::Info,
        Some(b'W') => KlogLevel::Warning,
        Some(b'E') => KlogLevel::Error,
        Some(b'F') => KlogLevel::Fatal,
        _ => return Err(NotKlog),
    };
    // `mmdd ` or `yyyymmdd `.
    let (year, date_end) = match (b.get(5), b.get(9)) {
        (Some(b' '), _) => (None, 5),
        (_, Some(b' ')) => (Some(digits(&b[1..5]).ok_or(NotKlog)? as i32), 9),
        _ => return Err(NotKlog),
    };
    let month = digits(&b[date_end - 4..date_end - 2]).ok_or(NotKlog)?;
    let day = digits(&b[date_end - 2..date_end]).ok_or(NotKlog)?;
    // `hh:mm:ss.uuuuuu` and at least one space.
    let t = date_end + 1;
    let time = b.get(t..t + 16).ok_or(NotKlog)?;
    if time[2] != b':' || time[5] != b':' || time[8] != b'.' || time[15] != b' ' {
        return Err(NotKlog);
    }
    let hour = digits(&time[0..2]).ok_or(NotKlog)?;
    let minute = digits(&time[3..5]).ok_or(NotKlog)?;
    let second = digits(&time[6..8]).ok_or(NotKlog)?;
    let microsecond = digits(&time[9..15]).ok_or(NotKlog)?;
    // The thread id, padded on the left, and one space.
    let id_start = t + 16 + b[t + 16..].iter().take_while(|&&c| c == b' ').count();
    let id_len = b[id_start..].iter().take_while(|c| c.is_ascii_digit()).count();
    let id_end = id_start + id_len;
    if id_len == 0 || b.get(id_end) != Some(&b' ') {
        return Err(NotKlog);
    }
    let id = line[id_start..id_end].parse::<u64>().map_err(|_| NotKlog)?;
    // `file:line]`.
    let source_start = id_end + 1;
    let close = source_start + memchr::memchr(b']', &b[source_start..]).ok_or(NotKlog)?;
    let (file, line_number) = line[source_start..close].rsplit_once(':').ok_or(NotKlog)?;
    if file.is_empty() || file.contains(' ') {
        return Err(NotKlog);
    }
    let line_number = line_number.parse::<u32>().ok().filter(|_| line_number.bytes().all(|c| c.is_ascii_digit()));
    let line_number = line_number.ok_or(NotKlog)?;
    let rest = &line[close + 1..];
    let message = rest.strip_prefix(' ').unwrap_or(rest);

    let date_ok = (1..=12).contains(&month) && day >= 1 && day <= super::timestamp::days_in_month(2000, month);
    if !date_ok || hour > 23 || minute > 59 || second > 60 {
        return Err(KlogError::InvalidTime);
    }
    if let Some(year) = year
        && super::timestamp::days_from_civil(year, month, day).is_none()
    {
        return Err(KlogError::InvalidTime);
    }
    Ok(Klog { level, year, month, day, hour, minute, second, microsecond, id, file, line: line_number, message })
}

/// The value of a run of ASCII digits, or `None` if any byte is not one.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |v, &c| if c.is_ascii_digit() { Some(v * 10 + u32::from(c - b'0')) } else { None })
}

impl Klog<'_> {
    /// The time of the line in nanoseconds since the Unix epoch, read as UTC.
    ///
    /// klog writes no year. Per the doc it is "the current year, or the
    /// previous one for a date that would lie in the future"; decisions:
    ///
    /// - "now" is `reference_ns`, which the executor passes as the line's
    ///   runtime timestamp (`%timestamp`), not the wall clock, so a replay
    ///   or a test gives the same answer as the live run;
    /// - "in the future" means more than a day after the reference, so
    ///   clocks a little apart, and a container whose local time zone is
    ///   ahead of UTC (klog writes local time, up to UTC+14), do not push a
    ///   line a year back;
    /// - a February 29 that the chosen year lacks is taken from the year
    ///   before, and fails ([`KlogError::InvalidTime`]) when that lacks it too.
    ///
    /// A header with a year (glog) uses it.
    pub fn timestamp(&self, reference_ns: i64) -> Result<i64, KlogError> {
        let at = |year: i32| {
            CivilDateTime {
                year,
                month: self.month,
                day: self.day,
                hour: self.hour,
                minute: self.minute,
                second: self.second,
                nanosecond: self.microsecond * 1000,
            }
            .to_unix_nanos(0)
        };
        if let Some(year) = self.year {
            return at(year).ok_or(KlogError::InvalidTime);
        }
        // |i64::MAX / NANOS_PER_DAY| is about 106 751 days: it fits an i32.
        let (this_year, _, _) = civil_from_days(reference_ns.div_euclid(NANOS_PER_DAY) as i32);
        match at(this_year) {
            Some(t) if t <= reference_ns.saturating_add(NANOS_PER_DAY) => Ok(t),
            _ => at(this_year - 1).ok_or(KlogError::InvalidTime),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stdlib::timestamp::parse_rfc3339;

    fn ts(rfc3339: &str) -> i64 {
        parse_rfc3339(rfc3339).expect("a valid test timestamp")
    }

    #[test]
    fn doc_and_platform_examples() {
        // docs/language.md §10.1.
        let k = parse_klog("I1012 01:17:48.317907 1 grpc_server.cc:2451] Started GRPCInferenceService at 0.0.0.0:8001")
            .unwrap();
        assert_eq!(
            k,
            Klog {
                level: KlogLevel::Info,
                year: None,
                month: 10,
                day: 12,
                hour: 1,
                minute: 17,
                second: 48,
                microsecond: 317_907,
                id: 1,
                file: "grpc_server.cc",
                line: 2451,
                message: "Started GRPCInferenceService at 0.0.0.0:8001",
            }
        );
        assert_eq!(k.level.as_str(), "info");
        assert_eq!(k.timestamp(ts("2026-11-20T10:00:00Z")), Ok(ts("2026-10-12T01:17:48.317907Z")));
        // docs/language.md §9 and docs/contract.md, "The five sources": the
        // watcher's padded thread id.
        let k = parse_klog("I1120 10:00:00.000000       1 watcher.go:88] resync").unwrap();
        assert_eq!((k.id, k.file, k.line, k.message), (1, "watcher.go", 88, "resync"));
        assert_eq!(k.timestamp(ts("2026-11-20T10:00:00.5Z")), Ok(ts("2026-11-20T10:00:00Z")));
    }

    #[test]
    fn levels() {
        for (letter, level, name, record) in [
            ('I', KlogLevel::Info, "info", Level::Info),
            ('W', KlogLevel::Warning, "warning", Level::Warning),
            ('E', KlogLevel::Error, "error", Level::Error),
            ('F', KlogLevel::Fatal, "fatal", Level::Error),
        ] {
            let line = format!("{letter}0102 03:04:05.000006 42 main.go:7] m");
            let k = parse_klog(&line).unwrap();
            assert_eq!((k.level, k.level.as_str(), k.level.level()), (level, name, record));
        }
    }

    #[test]
    fn shapes() {
        fn ok(line: &str) -> Result<(u64, &str, u32, &str), KlogError> {
            parse_klog(line).map(|k| (k.id, k.file, k.line, k.message))
        }
        assert_eq!(
            ok("E0102 03:04:05.000006 123456 pkg/x/y.go:1] boom: a]b"),
            Ok((123456, "pkg/x/y.go", 1, "boom: a]b"))
        );
        assert_eq!(ok("I0102 03:04:05.000006 1 y.go:1]"), Ok((1, "y.go", 1, "")));
        assert_eq!(ok("I0102 03:04:05.000006 1 y.go:1]  two spaces"), Ok((1, "y.go", 1, " two spaces")));
        assert_eq!(ok("I0102 03:04:05.000006 1 C:x.go:9] m"), Ok((1, "C:x.go", 9, "m")));
        assert_eq!(ok("I0102 03:04:05.000006 1 y.go:1] ünïcode ✓"), Ok((1, "y.go", 1, "ünïcode ✓")));
        let glog = parse_klog("W20261120 10:00:00.000001 7 a.cc:3] with year").unwrap();
        assert_eq!(glog.year, Some(2026));
        assert_eq!(glog.timestamp(0), Ok(ts("2026-11-20T10:00:00.000001Z")));

        use KlogError::*;
        for (line, err) in [
            ("", NotKlog),
            ("I", NotKlog),
            ("INFO:     Started server process [12625]", NotKlog),
            ("X1012 01:17:48.317907 1 grpc_server.cc:2451] m", NotKlog),
            ("i1012 01:17:48.317907 1 grpc_server.cc:2451] m", NotKlog),
            ("I101 01:17:48.317907 1 grpc_server.cc:2451] m", NotKlog),
            ("I10a2 01:17:48.317907 1 grpc_server.cc:2451] m", NotKlog),
            ("I1012 01:17:48 1 grpc_server.cc:2451] m", NotKlog),
            ("I1012 01:17:48.31790 1 grpc_server.cc:2451] m", NotKlog),
            ("I1012 01-17:48.317907 1 grpc_server.cc:2451] m", NotKlog),
            ("I1012 01:17:48.317907 grpc_server.cc:2451] m", NotKlog),
            ("I1012 01:17:48.317907 1grpc_server.cc:2451] m", NotKlog),
            ("I1012 01:17:48.317907 1 grpc_server.cc:2451 m", NotKlog),
            ("I1012 01:17:48.317907 1 grpc_server.cc] m", NotKlog),
            ("I1012 01:17:48.317907 1 :2451] m", NotKlog),
            ("I1012 01:17:48.317907 1 grpc_server.cc:] m", NotKlog),
            ("I1012 01:17:48.317907 1 grpc_server.cc:+1] m", NotKlog),
            ("I1012 01:17:48.317907 1 two words.cc:1] m", NotKlog),
            ("I1012 01:17:48.317907 1 f.cc:99999999999] m", NotKlog),
            ("I1012 01:17:48.317907 99999999999999999999 f.cc:1] m", NotKlog),
            ("I1012 01:17:48.317907", NotKlog),
            ("I1312 01:17:48.317907 1 f.cc:1] m", InvalidTime),
            ("I0012 01:17:48.317907 1 f.cc:1] m", InvalidTime),
            ("I1000 01:17:48.317907 1 f.cc:1] m", InvalidTime),
            ("I0230 01:17:48.317907 1 f.cc:1] m", InvalidTime),
            ("I0431 01:17:48.317907 1 f.cc:1] m", InvalidTime),
            ("I1012 24:17:48.317907 1 f.cc:1] m", InvalidTime),
            ("I1012 01:60:48.317907 1 f.cc:1] m", InvalidTime),
            ("I1012 01:17:61.317907 1 f.cc:1] m", InvalidTime),
            ("I20250229 01:17:48.317907 1 f.cc:1] m", InvalidTime),
        ] {
            assert_eq!(parse_klog(line), Err(err), "{line:?}");
        }
        assert_eq!(NotKlog.message(), "not a klog line");
    }

    #[test]
    fn year_inference() {
        let k = |date: &str| {
            let line = format!("I{date} 12:00:00.000000 1 f.go:1] m");
            let k = parse_klog(&line).unwrap();
            Klog { file: "f.go", message: "m", ..k }
        };
        // The reference's year when the date is not ahead of it.
        assert_eq!(k("0301").timestamp(ts("2026-06-01T00:00:00Z")), Ok(ts("2026-03-01T12:00:00Z")));
        // A date ahead of the reference by more than a day is last year's.
        assert_eq!(k("1231").timestamp(ts("2027-01-01T00:00:05Z")), Ok(ts("2026-12-31T12:00:00Z")));
        assert_eq!(k("0603").timestamp(ts("2026-06-01T00:00:00Z")), Ok(ts("2025-06-03T12:00:00Z")));
        // Less than a day ahead (clock skew, a local time zone east of UTC): this year.
        assert_eq!(k("0601").timestamp(ts("2026-06-01T00:00:00Z")), Ok(ts("2026-06-01T12:00:00Z")));
        assert_eq!(k("0602").timestamp(ts("2026-06-01T13:00:00Z")), Ok(ts("2026-06-02T12:00:00Z")));
        // February 29: this year when it has one, else the year before when that has one.
        assert_eq!(k("0229").timestamp(ts("2028-03-01T00:00:00Z")), Ok(ts("2028-02-29T12:00:00Z")));
        assert_eq!(k("0229").timestamp(ts("2029-01-01T00:00:00Z")), Ok(ts("2028-02-29T12:00:00Z")));
        assert_eq!(k("0229").timestamp(ts("2027-03-01T00:00:00Z")), Err(KlogError::InvalidTime));
        // A leap second is the next second.
        let leap = parse_klog("I1231 23:59:60.500000 1 f.go:1] m").unwrap();
        assert_eq!(leap.timestamp(ts("2027-01-01T00:00:01Z")), Ok(ts("2027-01-01T00:00:00.5Z")));
        // At the ends of the i64 range nothing overflows.
        assert!(k("0101").timestamp(i64::MAX).is_ok());
        assert_eq!(k("0101").timestamp(i64::MIN), Err(KlogError::InvalidTime));
    }
}
