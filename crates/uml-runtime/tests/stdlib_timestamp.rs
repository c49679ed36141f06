//! The timestamp parsers and the calendar against chrono as the oracle.
//!
//! Laws: on well-formed input both parsers give chrono's instant exactly;
//! on any input, what they accept chrono accepts with the same instant
//! (they are stricter than chrono in a few documented places, never looser).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use proptest::prelude::*;
use uml_runtime::stdlib::timestamp::{
    Rfc3339Parser, TimestampFormat, civil_from_days, days_from_civil, parse_rfc3339, parse_rfc3339_bytes,
    parse_timestamp, weekday_from_days,
};

fn chrono_rfc3339(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s).ok()?.timestamp_nanos_opt()
}

/// A date and time chrono can represent, including leap seconds.
fn naive_datetime(years: std::ops::RangeInclusive<i32>) -> impl Strategy<Value = NaiveDateTime> {
    (years, 1u32..=12, 1u32..=31, 0u32..24, 0u32..60, 0u32..60, 0u32..1_000_000_000, prop::bool::weighted(0.05))
        .prop_filter_map("a day the month has", |(y, m, d, h, mi, s, nanos, leap)| {
            let date = NaiveDate::from_ymd_opt(y, m, d)?;
            let time = if leap {
                NaiveTime::from_hms_nano_opt(h, mi, 59, 1_000_000_000 + nanos)?
            } else {
                NaiveTime::from_hms_nano_opt(h, mi, s, nanos)?
            };
            Some(date.and_time(time))
        })
}

/// A fraction of `digits` digits (0: none) of `nanos`, as RFC 3339 writes it.
fn fraction(nanos: u32, digits: usize) -> String {
    if digits == 0 { String::new() } else { format!(".{:09}", nanos)[..=digits].to_owned() }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn rfc3339_agrees_with_chrono(
        dt in naive_datetime(1600..=2300),
        digits in 0usize..=9,
        separator in prop::sample::select(vec!['T', 't', ' ']),
        zone in prop::option::of((prop::bool::ANY, 0u32..24, 0u32..60)),
        lower_z in prop::bool::ANY,
    ) {
        let second = dt.format("%S").to_string();
        let zone = match zone {
            None => (if lower_z { "z" } else { "Z" }).to_owned(),
            Some((east, h, m)) => format!("{}{h:02}:{m:02}", if east { '+' } else { '-' }),
        };
        let nanos = dt.nanosecond() % 1_000_000_000;
        let text = format!("{}{separator}{}:{second}{}{zone}", dt.format("%Y-%m-%d"), dt.format("%H:%M"), fraction(nanos, digits));
        let want = chrono_rfc3339(&text);
        prop_assert_eq!(parse_rfc3339(&text), want, "{}", text);
        // Inside the i64 range the oracle has an answer, so the law is not vacuous.
        if (1700..2200).contains(&dt.year()) {
            prop_assert!(want.is_some(), "{}", text);
        }
    }

    #[test]
    fn rfc3339_accepts_nothing_chrono_refuses(
        dt in naive_datetime(1970..=2100),
        digits in 0usize..=9,
        at in 0usize..40,
        replacement in prop::sample::select(vec!["", "0", "9", "5", " ", ":", "-", "+", "Z", "z", ".", "T", "a", "\t", "é", "00"]),
    ) {
        let nanos = dt.nanosecond() % 1_000_000_000;
        let mut text = format!("{}{}-05:00", dt.format("%Y-%m-%dT%H:%M:%S"), fraction(nanos, digits));
        let at = at.min(text.len());
        if text.is_char_boundary(at) {
            let end = (at + 1).min(text.len());
            let end = (end..=text.len()).find(|&e| text.is_char_boundary(e)).unwrap_or(text.len());
            text.replace_range(at..end, replacement);
        }
        if let Some(ours) = parse_rfc3339(&text) {
            prop_assert_eq!(Some(ours), chrono_rfc3339(&text), "{}", text);
        }
    }

    /// The parser that remembers the last minute answers as the stateless
    /// one, whatever came before: timestamps of one minute, of the next,
    /// and broken ones, in any order.
    #[test]
    fn remembered_minute_changes_nothing(
        steps in prop::collection::vec(
            (0i64..150, 0usize..=9, prop::option::of((0usize..32, prop::sample::select(vec!["", "0", "9", "6", ":", "T", "Z", "é", "+01:00"])))),
            1..40,
        ),
    ) {
        let start = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap().and_hms_opt(23, 58, 30).unwrap();
        let mut parser = Rfc3339Parser::default();
        for (seconds, digits, edit) in steps {
            let dt = start + chrono::Duration::seconds(seconds);
            let mut text = format!("{}{}Z", dt.format("%Y-%m-%dT%H:%M:%S"), fraction(123_456_789, digits));
            if let Some((at, replacement)) = edit {
                let at = at.min(text.len());
                text.replace_range(at..(at + 1).min(text.len()), replacement);
            }
            prop_assert_eq!(parser.parse(text.as_bytes()), parse_rfc3339_bytes(text.as_bytes()), "{}", text);
        }
    }

    #[test]
    fn days_from_civil_agrees_with_chrono(y in -9999i32..=9999, m in 0u32..=13, d in 0u32..=32) {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let want = NaiveDate::from_ymd_opt(y, m, d).map(|date| date.signed_duration_since(epoch).num_days());
        prop_assert_eq!(days_from_civil(y, m, d), want);
    }

    #[test]
    fn civil_from_days_inverts_days_from_civil(days in any::<i32>()) {
        let (y, m, d) = civil_from_days(days);
        prop_assert_eq!(days_from_civil(y, m, d), Some(i64::from(days)));
        if let Some(date) = NaiveDate::from_num_days_from_ce_opt(days.saturating_add(719_163)).filter(|_| days < i32::MAX - 719_163) {
            prop_assert_eq!((y, m, d), (date.year(), date.month(), date.day()));
            prop_assert_eq!(weekday_from_days(i64::from(days)), date.weekday().num_days_from_sunday());
        }
    }
}

/// `(written with, read with, has an offset)`: formats chrono writes a time
/// in and the format `parse_timestamp` reads it back with.
const FORMATS: &[(&str, &str, bool)] = &[
    ("%Y-%m-%d %H:%M:%S,%3f", "%Y-%m-%d %H:%M:%S,%3f", false),
    ("%m/%d/%Y-%H:%M:%S", "%m/%d/%Y-%H:%M:%S", false),
    ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", false),
    ("%Y-%m-%dT%H:%M:%S%.fZ", "%Y-%m-%dT%H:%M:%S%.fZ", false),
    ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%.fZ", false),
    ("%Y-%m-%dT%H:%M:%S%.3f%:z", "%Y-%m-%dT%H:%M:%S%.3f%:z", true),
    ("%Y-%m-%dT%H:%M:%S%.9f%z", "%Y-%m-%dT%H:%M:%S%.f%z", true),
    ("%Y-%m-%dT%H:%M:%S%:z", "%Y-%m-%dT%H:%M:%S%#z", true),
    ("%a %b %e %H:%M:%S %Y", "%a %b %e %H:%M:%S %Y", false),
    ("%A, %d-%B-%y %T", "%A, %d-%B-%y %T", false),
    ("%d/%b/%Y:%H:%M:%S %z", "%d/%b/%Y:%H:%M:%S %z", true),
    ("%Y%m%d%H%M%S%6f", "%Y%m%d%H%M%S%6f", false),
    ("%F %T%.6f", "%F %T%.6f", false),
    ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f", false),
    ("%D %R", "%D %R", false),
    ("%-m/%-d/%Y %-H:%M:%S%.f", "%m/%d/%Y %H:%M:%S%.f", false),
];

fn chrono_parse(text: &str, format: &str, offset: bool) -> Option<i64> {
    if offset {
        DateTime::parse_from_str(text, format).ok()?.timestamp_nanos_opt()
    } else {
        NaiveDateTime::parse_from_str(text, format).ok()?.and_utc().timestamp_nanos_opt()
    }
}

fn write(dt: NaiveDateTime, offset_minutes: i32, format: &str) -> String {
    let offset = FixedOffset::east_opt(offset_minutes * 60).unwrap();
    dt.and_local_timezone(offset).unwrap().format(format).to_string()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn formats_agree_with_chrono(
        dt in naive_datetime(1600..=2300),
        offset_minutes in -1439i32..=1439,
        which in 0..FORMATS.len(),
    ) {
        let (write_with, read_with, has_offset) = FORMATS[which];
        let text = write(dt, if has_offset { offset_minutes } else { 0 }, write_with);
        let want = chrono_parse(&text, read_with, has_offset);
        prop_assert_eq!(parse_timestamp(&text, read_with).ok(), want, "{} as {}", text, read_with);
        prop_assert_eq!(TimestampFormat::compile(read_with).unwrap().parse(&text).ok(), want);
        if (1700..2200).contains(&dt.year()) && !read_with.contains("%y") {
            prop_assert!(want.is_some(), "{} as {}", text, read_with);
        }
    }

    #[test]
    fn formats_accept_nothing_chrono_refuses(
        dt in naive_datetime(1970..=2100),
        offset_minutes in -1439i32..=1439,
        which in 0..FORMATS.len(),
        at in 0usize..40,
        replacement in prop::sample::select(vec!["", "0", "1", "9", "6", " ", "  ", ":", "-", "+", "Z", ".", "T", "a", "N", "\t", "é", "00", "123"]),
    ) {
        let (write_with, read_with, has_offset) = FORMATS[which];
        let mut text = write(dt, if has_offset { offset_minutes } else { 0 }, write_with);
        let at = at.min(text.len());
        if text.is_char_boundary(at) {
            let end = ((at + 1).min(text.len())..=text.len()).find(|&e| text.is_char_boundary(e)).unwrap_or(text.len());
            text.replace_range(at..end, replacement);
        }
        if let Ok(ours) = parse_timestamp(&text, read_with) {
            prop_assert_eq!(Some(ours), chrono_parse(&text, read_with, has_offset), "{:?} as {}", text, read_with);
        }
    }
}
