//! CRI lines and their timestamps, as the peers read them: what a log
//! shipper's source stage does before the transform.

/// One CRI line, `<timestamp> <stdout|stderr> <tag> <message>`, borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CriLine<'a> {
    /// The runtime's timestamp in nanoseconds since the Unix epoch.
    pub timestamp_ns: i64,
    pub stream: &'a [u8],
    /// `P` for a partial piece, `F` for a full line or the last piece.
    pub tag: u8,
    pub message: &'a [u8],
}

/// Splits a CRI line (without its `\n`). `None` for a line that is not CRI.
pub fn parse(line: &[u8]) -> Option<CriLine<'_>> {
    let mut fields = line.splitn(4, |&b| b == b' ');
    let timestamp_ns = rfc3339_ns(fields.next()?)?;
    let stream = fields.next()?;
    // The tag field may carry more `:`-separated values; the first counts.
    let tag = *fields.next()?.first()?;
    let message = fields.next()?;
    Some(CriLine { timestamp_ns, stream, tag, message })
}

/// An RFC 3339 timestamp (`2026-11-20T10:00:01.5Z`, `2026-11-20T05:00:02.1-05:00`,
/// up to nine fraction digits) in nanoseconds since the Unix epoch.
pub fn rfc3339_ns(text: &[u8]) -> Option<i64> {
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = text.get(range)?;
        digits.iter().try_fold(0i64, |n, &d| d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0')))
    };
    if text.get(4) != Some(&b'-')
        || text.get(7) != Some(&b'-')
        || text.get(10).map(u8::to_ascii_uppercase) != Some(b'T')
    {
        return None;
    }
    if text.get(13) != Some(&b':') || text.get(16) != Some(&b':') {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let mut at = 19;
    let mut nanos = 0;
    if text.get(at) == Some(&b'.') {
        let digits = text[at + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos = number(at + 1..at + 1 + digits)? * 10i64.pow(9 - digits as u32);
        at += 1 + digits;
    }
    let offset_seconds = match text.get(at..)? {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), ..] if text.len() == at + 6 && text[at + 3] == b':' => {
            let offset = number(at + 1..at + 3)? * 3600 + number(at + 4..at + 6)? * 60;
            if *sign == b'-' { -offset } else { offset }
        }
        _ => return None,
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(seconds * 1_000_000_000 + nanos)
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
/// (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339_ns(b"1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_ns(b"2026-11-20T10:00:01.5Z"), Some(1_795_168_801_500_000_000));
        assert_eq!(rfc3339_ns(b"2026-11-20T05:00:01.5-05:00"), Some(1_795_168_801_500_000_000));
        assert_eq!(rfc3339_ns(b"2026-11-20T10:00:01.123456789Z"), Some(1_795_168_801_123_456_789));
        assert_eq!(rfc3339_ns(b"2026-11-20T10:00:01.Z"), None);
        assert_eq!(rfc3339_ns(b"2026-11-20 10:00:01Z"), None);
    }

    #[test]
    fn lines() {
        let line = parse(b"2026-11-20T10:00:02Z stderr P:more {\"a\": 1}").unwrap();
        assert_eq!((line.stream, line.tag, line.message), (&b"stderr"[..], b'P', &b"{\"a\": 1}"[..]));
        assert_eq!(parse(b"2026-11-20T10:00:02Z stdout F ").unwrap().message, b"");
        assert_eq!(parse(b"not a CRI line"), None);
    }
}
