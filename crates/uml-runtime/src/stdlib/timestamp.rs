//! Times as nanoseconds since the Unix epoch (the unit of `%timestamp`):
//! RFC 3339 for the CRI framing's hot path, and the strftime-style formats
//! of `parse_timestamp` (`docs/language.md` §10.1).
//!
//! Both are hand-written rather than taken from chrono or jiff: the CRI
//! timestamp is parsed for every raw line, and a fixed-layout parser that
//! reads nineteen bytes at known offsets is several times faster than a
//! general one; `parse_timestamp` needs a handful of chrono's specifiers,
//! compiled once with the rule set into a flat list of `Item`s, with no
//! `Parsed` struct to fill and resolve per line. Neither allocates. Chrono
//! is the oracle of the tests, and the bench measures it alongside.
//!
//! Calendar arithmetic is Howard Hinnant's `days_from_civil` and
//! `civil_from_days` (<https://howardhinnant.github.io/date_algorithms.html>),
//! exact over the whole proleptic Gregorian calendar, with every date
//! validated (month range, month lengths, leap years) before it is used.
//!
//! **Leap seconds.** A second of `60` is accepted, as chrono and RFC 3339
//! accept it, and is read as the first second of the next minute (Unix time
//! has no leap seconds): `23:59:60.5Z` is `00:00:00.5Z` of the next day.

use super::error_enum;

/// Nanoseconds in a second.
pub const NANOS_PER_SECOND: i64 = 1_000_000_000;
/// Nanoseconds in a day.
pub const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SECOND;

/// Whether `year` of the proleptic Gregorian calendar has a February 29.
pub const fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// The number of days of `month` (1 to 12) in `year`; 0 for any other month.
pub const fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a date of the proleptic Gregorian calendar, or
/// `None` when there is no such date (month outside 1 to 12, day outside
/// the month). Hinnant's `days_from_civil`; exact for every `i32` year.
pub const fn days_from_civil(year: i32, month: u32, day: u32) -> Option<i64> {
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    // Years start in March, so the leap day is the last day of a year.
    let y = year as i64 - (month <= 2) as i64;
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let march_month = (month + 9) % 12;
    let day_of_year = ((153 * march_month + 2) / 5 + day - 1) as i64;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era - 719_468)
}

/// The date `(year, month, day)` that is `days` days after 1970-01-01;
/// the inverse of [`days_from_civil`]. Hinnant's `civil_from_days`.
pub const fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * march_month + 2) / 5 + 1) as u32;
    let month = if march_month < 10 { march_month + 3 } else { march_month - 9 } as u32;
    // |days| < 2^31 keeps the year within ±5.9 million: it fits an i32.
    ((year_of_era + era * 400 + (month <= 2) as i64) as i32, month, day)
}

/// The day of the week of a day counted from 1970-01-01: 0 is Sunday.
pub const fn weekday_from_days(days: i64) -> u32 {
    // 1970-01-01 was a Thursday.
    (days + 4).rem_euclid(7) as u32
}

/// A date and a time of day, as written in a log line, before its offset is
/// applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CivilDateTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    /// 0 to 60; see the module documentation for 60.
    pub second: u32,
    pub nanosecond: u32,
}

impl CivilDateTime {
    /// Nanoseconds since the Unix epoch of this time at `offset_seconds`
    /// east of UTC (`+05:00` is 18000), or `None` when a field is out of
    /// range (a date that does not exist, hour above 23, minute above 59,
    /// second above 60, an offset of a day or more) or the instant lies
    /// outside what an `i64` of nanoseconds holds (1677-09-21 to 2262-04-11).
    pub fn to_unix_nanos(self, offset_seconds: i32) -> Option<i64> {
        let days = days_from_civil(self.year, self.month, self.day)?;
        let in_range = (self.hour < 24)
            & (self.minute < 60)
            & (self.second <= 60)
            & (self.nanosecond < 1_000_000_000)
            & (offset_seconds.unsigned_abs() < 86_400);
        if !in_range {
            return None;
        }
        let seconds =
            days * 86_400 + i64::from(self.hour * 3600 + self.minute * 60 + self.second) - i64::from(offset_seconds);
        unix_nanos(seconds, self.nanosecond)
    }
}

/// `seconds` since the epoch and `nanosecond` into it, as nanoseconds since
/// the epoch if an `i64` holds them. In i128 so the very first representable
/// nanosecond (whose second is below `i64::MIN / 10^9`) is still exact.
fn unix_nanos(seconds: i64, nanosecond: u32) -> Option<i64> {
    i64::try_from(i128::from(seconds) * i128::from(NANOS_PER_SECOND) + i128::from(nanosecond)).ok()
}

const POW10: [u32; 10] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

/// An RFC 3339 timestamp as nanoseconds since the Unix epoch, or `None`.
///
/// `YYYY-MM-DD`, then `T`, `t` or a space, then `hh:mm:ss`, an optional
/// fraction of 1 to 9 digits after a `.`, and `Z`, `z` or an offset
/// `+hh:mm`/`-hh:mm` (hours up to 23), and nothing else: no surrounding
/// whitespace. This is the container runtimes' timestamp
/// (`2026-11-20T10:00:01.5Z`, CRI-O's `2026-11-20T05:00:02.1-05:00`) and
/// docker's `time` field.
///
/// Decisions: more than nine fraction digits are refused rather than
/// rounded or cut (no runtime writes them, and the result would not be
/// exact); a second of 60 is a leap second (module documentation).
///
/// Branch-light: the sixteen bytes of date, hour and minute are checked
/// with one combined test, then the seconds, the fraction and the offset.
/// Never allocates.
///
/// ```
/// # use uml_runtime::stdlib::timestamp::parse_rfc3339;
/// assert_eq!(parse_rfc3339("2026-11-20T10:00:01.5Z"), Some(1_795_168_801_500_000_000));
/// assert_eq!(parse_rfc3339("2026-11-20T05:00:02.1-05:00"), Some(1_795_168_802_100_000_000));
/// assert_eq!(parse_rfc3339("2026-11-20T10:00:02"), None);
/// ```
pub fn parse_rfc3339(value: &str) -> Option<i64> {
    parse_rfc3339_bytes(value.as_bytes())
}

/// [`parse_rfc3339`] of bytes that need not be UTF-8: the framer's raw
/// timestamp field, which the parser checks byte by byte anyway (anything
/// that is not ASCII fails it), so it is never validated as UTF-8 first.
pub fn parse_rfc3339_bytes(b: &[u8]) -> Option<i64> {
    let minute = minute_seconds(b.get(..16)?.try_into().ok()?)?;
    from_minute(minute, b)
}

/// [`parse_rfc3339_bytes`] that remembers the last timestamp's date, hour
/// and minute: the lines of a log file share them, so most timestamps only
/// have their seconds, fraction and offset read. The same results as
/// [`parse_rfc3339_bytes`] on every input, in any order.
///
/// ```
/// # use uml_runtime::stdlib::timestamp::{Rfc3339Parser, parse_rfc3339_bytes};
/// let mut parser = Rfc3339Parser::default();
/// for ts in ["2026-11-20T10:00:01.5Z", "2026-11-20T10:00:59Z", "2026-11-20T10:00:60+01:00", "2026-11-20T10:00:61Z"] {
///     assert_eq!(parser.parse(ts.as_bytes()), parse_rfc3339_bytes(ts.as_bytes()));
/// }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Rfc3339Parser {
    /// `YYYY-MM-DDThh:mm` of the last timestamp whose first sixteen bytes
    /// were valid, and its seconds since the epoch.
    last: Option<([u8; 16], i64)>,
}

impl Rfc3339Parser {
    pub fn parse(&mut self, b: &[u8]) -> Option<i64> {
        let head: &[u8; 16] = b.get(..16)?.try_into().ok()?;
        let minute = match self.last {
            Some((prefix, minute)) if prefix == *head => minute,
            _ => {
                let minute = minute_seconds(head)?;
                self.last = Some((*head, minute));
                minute
            }
        };
        from_minute(minute, b)
    }
}

/// `YYYY-MM-DDThh:mm` (`T`, `t` or a space) as seconds since the epoch, or
/// `None` if a byte is out of place or a field out of range. Branch-light:
/// the bytes are checked with one combined test.
fn minute_seconds(head: &[u8; 16]) -> Option<i64> {
    let digit = |i: usize| head[i].wrapping_sub(b'0');
    let d = [
        digit(0),
        digit(1),
        digit(2),
        digit(3),
        digit(5),
        digit(6),
        digit(8),
        digit(9),
        digit(11),
        digit(12),
        digit(14),
        digit(15),
    ];
    let all_digits = d.iter().fold(true, |ok, &x| ok & (x <= 9));
    let separators =
        (head[4] == b'-') & (head[7] == b'-') & ((head[10] | 0x20 == b't') | (head[10] == b' ')) & (head[13] == b':');
    if !(all_digits & separators) {
        return None;
    }
    let pair = |i: usize| u32::from(d[i]) * 10 + u32::from(d[i + 1]);
    let (hour, minute) = (pair(8), pair(10));
    if hour >= 24 || minute >= 60 {
        return None;
    }
    let days = days_from_civil((pair(0) * 100 + pair(2)) as i32, pair(4), pair(6))?;
    Some(days * 86_400 + i64::from(hour * 3600 + minute * 60))
}

/// The timestamp `b`, whose first sixteen bytes are the minute `minute`
/// (seconds since the epoch): `:ss`, an optional fraction of 1 to 9 digits,
/// and `Z`, `z` or an offset.
fn from_minute(minute: i64, b: &[u8]) -> Option<i64> {
    let [b':', s1, s2] = *b.get(16..19)? else { return None };
    let (s1, s2) = (s1.wrapping_sub(b'0'), s2.wrapping_sub(b'0'));
    let second = u32::from(s1) * 10 + u32::from(s2);
    // A second of 60 is a leap second (module documentation).
    if s1 > 9 || s2 > 9 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanosecond = 0;
    if b.get(i) == Some(&b'.') {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        for &c in &b[i + 1..i + 1 + digits] {
            nanosecond = nanosecond * 10 + u32::from(c - b'0');
        }
        nanosecond *= POW10[9 - digits];
        i += 1 + digits;
    }
    let offset = match *b.get(i..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let o = [h1, h2, m1, m2].map(|c| c.wrapping_sub(b'0'));
            let (hours, minutes) = (u32::from(o[0]) * 10 + u32::from(o[1]), u32::from(o[2]) * 10 + u32::from(o[3]));
            if o.iter().any(|&x| x > 9) || hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = i64::from(hours * 3600 + minutes * 60);
            if sign == b'-' { -seconds } else { seconds }
        }
        _ => return None,
    };
    unix_nanos(minute + i64::from(second) - offset, nanosecond)
}

error_enum! {
    /// Why `parse_timestamp` failed. The messages are chrono's, which VRL's
    /// `parse_timestamp` reports too.
    pub enum TimestampError {
        /// The input does not match the format here.
        Invalid => "input contains invalid characters",
        /// The input ends before the format does.
        TooShort => "premature end of input",
        /// The format ends before the input does.
        TooLong => "trailing input",
        /// A field, the date or the instant is out of range.
        OutOfRange => "input is out of range",
        /// The fields contradict each other (a weekday that is not the date's).
        Impossible => "no possible date and time matching input",
        /// The format lacks the year, month, day, hour or minute.
        NotEnough => "input is not enough for unique date and time",
        /// An unknown or unsupported specifier, or one field given twice.
        BadFormat => "bad or unsupported format string",
    }
}

/// The longest literal one [`Item`] holds; longer literals take several.
const LITERAL_CAPACITY: usize = 14;

/// One step of a timestamp format: a literal, whitespace, or a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item {
    /// These bytes exactly.
    Literal {
        bytes: [u8; LITERAL_CAPACITY],
        len: u8,
    },
    /// Zero or more whitespace characters (a space in the format, `%n`, `%t`).
    Space,
    Field(Field),
}

/// A field of a timestamp format, by the chrono specifier that writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    /// `%Y`: exactly four digits.
    Year,
    /// `%y`: one or two digits; 70 to 99 are 1970 to 1999, 0 to 69 are 2000 to 2069.
    YearOfCentury,
    /// `%m`: one or two digits.
    Month,
    /// `%b`, `%h`: a three-letter English month name, any case.
    MonthAbbreviation,
    /// `%B`: an English month name, full or three letters, any case.
    MonthName,
    /// `%d`: one or two digits.
    Day,
    /// `%e`: spaces, then one or two digits.
    DaySpacePadded,
    /// `%a`: a three-letter English weekday name, checked against the date.
    WeekdayAbbreviation,
    /// `%A`: an English weekday name, full or three letters.
    WeekdayName,
    /// `%H`: one or two digits.
    Hour,
    /// `%M`: one or two digits.
    Minute,
    /// `%S`: one or two digits.
    Second,
    /// `%f`: one to nine digits, a number of nanoseconds (chrono's `%f`: `26490000` is 0.02649 s).
    Nanoseconds,
    /// `%.f`, `%.3f`, `%.6f`, `%.9f`: nothing, or a `.` and a fraction of a
    /// second: exactly that many digits, or for `%.f` (0 here) one or more,
    /// of which the first nine count.
    DotFraction(u8),
    /// `%3f`, `%6f`, `%9f`: exactly that many digits of a fraction of a second.
    Fraction(u8),
    /// `%z`, `%:z`: `+hhmm` or `+hh:mm` (or `-`); hours up to 23.
    Offset,
    /// `%#z`: `Z`, `z`, or an offset whose minutes may be missing at the end of the input.
    OffsetOrZulu,
}

/// One bit per thing a format can set, to refuse a field given twice and a
/// format without a whole date and time.
mod slot {
    pub const YEAR: u16 = 1;
    pub const MONTH: u16 = 2;
    pub const DAY: u16 = 4;
    pub const WEEKDAY: u16 = 8;
    pub const HOUR: u16 = 16;
    pub const MINUTE: u16 = 32;
    pub const SECOND: u16 = 64;
    pub const FRACTION: u16 = 128;
    pub const OFFSET: u16 = 256;
    pub const REQUIRED: u16 = YEAR | MONTH | DAY | HOUR | MINUTE;
}

impl Field {
    fn slot(self) -> u16 {
        match self {
            Field::Year | Field::YearOfCentury => slot::YEAR,
            Field::Month | Field::MonthAbbreviation | Field::MonthName => slot::MONTH,
            Field::Day | Field::DaySpacePadded => slot::DAY,
            Field::WeekdayAbbreviation | Field::WeekdayName => slot::WEEKDAY,
            Field::Hour => slot::HOUR,
            Field::Minute => slot::MINUTE,
            Field::Second => slot::SECOND,
            Field::Nanoseconds | Field::DotFraction(_) | Field::Fraction(_) => slot::FRACTION,
            Field::Offset | Field::OffsetOrZulu => slot::OFFSET,
        }
    }

    /// Whether chrono's padding modifiers (`%-d`, `%_d`, `%0d`) apply;
    /// parsing reads the same with or without them.
    fn is_numeric(self) -> bool {
        matches!(
            self,
            Field::Year
                | Field::YearOfCentury
                | Field::Month
                | Field::Day
                | Field::DaySpacePadded
                | Field::Hour
                | Field::Minute
                | Field::Second
                | Field::Nanoseconds
        )
    }
}

const fn literal(text: &str) -> Item {
    let mut bytes = [0u8; LITERAL_CAPACITY];
    let mut i = 0;
    while i < text.len() {
        bytes[i] = text.as_bytes()[i];
        i += 1;
    }
    Item::Literal { bytes, len: text.len() as u8 }
}

/// What the composite specifiers stand for.
const TIME: [Item; 5] =
    [Item::Field(Field::Hour), literal(":"), Item::Field(Field::Minute), literal(":"), Item::Field(Field::Second)];
const HOUR_MINUTE: [Item; 3] = [Item::Field(Field::Hour), literal(":"), Item::Field(Field::Minute)];
const DATE: [Item; 5] =
    [Item::Field(Field::Year), literal("-"), Item::Field(Field::Month), literal("-"), Item::Field(Field::Day)];
const US_DATE: [Item; 5] =
    [Item::Field(Field::Month), literal("/"), Item::Field(Field::Day), literal("/"), Item::Field(Field::YearOfCentury)];

/// The items of a format string, read lazily so that
/// [`parse_timestamp`] needs no storage for them.
struct FormatItems<'f> {
    rest: &'f str,
    /// The rest of a composite specifier's items.
    pending: &'static [Item],
}

impl Iterator for FormatItems<'_> {
    type Item = Result<Item, TimestampError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some((first, rest)) = self.pending.split_first() {
            self.pending = rest;
            return Some(Ok(*first));
        }
        let bytes = self.rest.as_bytes();
        let &first = bytes.first()?;
        if first == b'%' {
            return Some(self.specifier());
        }
        if first.is_ascii_whitespace() {
            self.rest = self.rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
            return Some(Ok(Item::Space));
        }
        // A literal up to the next specifier or whitespace, cut to fit an
        // item at a character boundary.
        let mut len = bytes.iter().position(|&b| b == b'%' || b.is_ascii_whitespace()).unwrap_or(bytes.len());
        len = len.min(LITERAL_CAPACITY);
        while !self.rest.is_char_boundary(len) {
            len -= 1;
        }
        let mut item = [0u8; LITERAL_CAPACITY];
        item[..len].copy_from_slice(&bytes[..len]);
        self.rest = &self.rest[len..];
        Some(Ok(Item::Literal { bytes: item, len: len as u8 }))
    }
}

impl FormatItems<'_> {
    /// The specifier at the start of `rest`, which is a `%`.
    fn specifier(&mut self) -> Result<Item, TimestampError> {
        let spec = &self.rest.as_bytes()[1..];
        let (padding, spec) = match spec {
            [b'-' | b'_' | b'0', rest @ ..] => (true, rest),
            _ => (false, spec),
        };
        let (item, used) = match spec {
            [b'Y', ..] => (Item::Field(Field::Year), 1),
            [b'y', ..] => (Item::Field(Field::YearOfCentury), 1),
            [b'm', ..] => (Item::Field(Field::Month), 1),
            [b'b' | b'h', ..] => (Item::Field(Field::MonthAbbreviation), 1),
            [b'B', ..] => (Item::Field(Field::MonthName), 1),
            [b'd', ..] => (Item::Field(Field::Day), 1),
            [b'e', ..] => (Item::Field(Field::DaySpacePadded), 1),
            [b'a', ..] => (Item::Field(Field::WeekdayAbbreviation), 1),
            [b'A', ..] => (Item::Field(Field::WeekdayName), 1),
            [b'H', ..] => (Item::Field(Field::Hour), 1),
            [b'M', ..] => (Item::Field(Field::Minute), 1),
            [b'S', ..] => (Item::Field(Field::Second), 1),
            [b'f', ..] => (Item::Field(Field::Nanoseconds), 1),
            [b'.', b'f', ..] => (Item::Field(Field::DotFraction(0)), 2),
            [b'.', n @ (b'3' | b'6' | b'9'), b'f', ..] => (Item::Field(Field::DotFraction(n - b'0')), 3),
            [n @ (b'3' | b'6' | b'9'), b'f', ..] => (Item::Field(Field::Fraction(n - b'0')), 2),
            [b'z', ..] => (Item::Field(Field::Offset), 1),
            [b':', b'z', ..] => (Item::Field(Field::Offset), 2),
            [b'#', b'z', ..] => (Item::Field(Field::OffsetOrZulu), 2),
            [b'T', ..] => self.composite(&TIME),
            [b'R', ..] => self.composite(&HOUR_MINUTE),
            [b'F', ..] => self.composite(&DATE),
            [b'D', ..] => self.composite(&US_DATE),
            [b'n' | b't', ..] => (Item::Space, 1),
            [b'%', ..] => (literal("%"), 1),
            _ => return Err(TimestampError::BadFormat),
        };
        if padding && !matches!(item, Item::Field(f) if f.is_numeric()) {
            return Err(TimestampError::BadFormat);
        }
        self.rest = &self.rest[1 + usize::from(padding) + used..];
        Ok(item)
    }

    fn composite(&mut self, items: &'static [Item]) -> (Item, usize) {
        self.pending = &items[1..];
        (items[0], 1)
    }
}

/// A `parse_timestamp` format compiled once, with the rule set: the
/// specifiers are decoded and checked, so parsing a line only walks a short
/// list of items.
///
/// The specifiers are a subset of chrono's (which the doc names), read as
/// chrono reads them; a value they accept is accepted by chrono with the
/// same result, and the tests check it.
///
/// | specifier | reads |
/// | --- | --- |
/// | `%Y` | a year, exactly four digits |
/// | `%y` | a year of the century, 1 or 2 digits: 70–99 are 19xx, 00–69 20xx |
/// | `%m` `%d` `%H` `%M` `%S` | month, day, hour, minute, second: 1 or 2 digits |
/// | `%e` | a day, optionally preceded by spaces |
/// | `%b` `%h` / `%B` | an English month name: 3 letters / full or 3 letters; any case |
/// | `%a` / `%A` | an English weekday name, likewise; checked against the date |
/// | `%f` | 1 to 9 digits of nanoseconds (chrono's `%f`: `026490000`) |
/// | `%.f` | optional: a `.` and 1 or more fraction digits, the first 9 used |
/// | `%.3f` `%.6f` `%.9f` | optional: a `.` and exactly 3, 6, 9 fraction digits |
/// | `%3f` `%6f` `%9f` | exactly 3, 6, 9 fraction digits, no `.` |
/// | `%z` `%:z` | an offset `+hhmm` or `+hh:mm` (or `-`) |
/// | `%#z` | `Z`, or an offset `+hhmm`, `+hh:mm`, or `+hh` at the end of the input |
/// | `%T` `%R` `%F` `%D` | `%H:%M:%S`, `%H:%M`, `%Y-%m-%d`, `%m/%d/%y` |
/// | `%n` `%t`, whitespace | zero or more whitespace characters |
/// | `%%` | `%` |
///
/// Padding modifiers (`%-d`, `%_H`, `%0e`) are accepted on numeric fields
/// and change nothing when parsing. A format must give the year, month,
/// day, hour and minute; seconds and the fraction default to 0, the offset
/// to UTC. Any other specifier (`%s`, `%j`, `%I`, `%p`, `%Z`, `%+`, …), and a
/// field given twice, is [`TimestampError::BadFormat`].
///
/// Decisions where chrono is looser: numbers are not preceded by whitespace
/// (chrono skips it; only `%e` allows spaces); `%Y` is exactly four digits
/// (chrono reads fewer, or a sign and more); an offset has at most one `:`
/// and hours up to 23, and no whitespace before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimestampFormat {
    items: Box<[Item]>,
}

impl TimestampFormat {
    /// Compiles `format`. This is the only function of the module that
    /// allocates: the list of items, once.
    ///
    /// ```
    /// # use uml_runtime::stdlib::timestamp::TimestampFormat;
    /// let asctime = TimestampFormat::compile("%Y-%m-%d %H:%M:%S,%3f").unwrap();
    /// assert_eq!(asctime.parse("2026-11-20 00:43:12,801"), Ok(1_795_135_392_801_000_000));
    /// ```
    pub fn compile(format: &str) -> Result<TimestampFormat, TimestampError> {
        let mut items = Vec::new();
        let mut seen = 0;
        for item in (FormatItems { rest: format, pending: &[] }) {
            let item = item?;
            if let Item::Field(field) = item {
                if seen & field.slot() != 0 {
                    return Err(TimestampError::BadFormat);
                }
                seen |= field.slot();
            }
            items.push(item);
        }
        if seen & slot::REQUIRED != slot::REQUIRED {
            return Err(TimestampError::NotEnough);
        }
        Ok(TimestampFormat { items: items.into_boxed_slice() })
    }

    /// The instant `value` names in this format, in nanoseconds since the
    /// Unix epoch; a format without an offset reads the time as UTC.
    /// Never allocates.
    pub fn parse(&self, value: &str) -> Result<i64, TimestampError> {
        run(self.items.iter().map(|&item| Ok(item)), value)
    }
}

impl std::str::FromStr for TimestampFormat {
    type Err = TimestampError;

    fn from_str(format: &str) -> Result<Self, Self::Err> {
        TimestampFormat::compile(format)
    }
}

/// `parse_timestamp(value, format)` with a format known only at run time:
/// the format is read as it is applied, without compiling or allocating.
/// The same as `TimestampFormat::compile(format)?.parse(value)` except
/// that, as in chrono, an error in `value` before the point where the
/// format goes wrong is reported first.
///
/// ```
/// # use uml_runtime::stdlib::timestamp::{parse_timestamp, TimestampError};
/// // docs/language.md §10.1
/// assert_eq!(parse_timestamp("2026-11-20 00:43:12,801", "%Y-%m-%d %H:%M:%S,%3f"), Ok(1_795_135_392_801_000_000));
/// assert_eq!(parse_timestamp("2026/11/20 10:00:00", "%Y-%m-%d %H:%M:%S"), Err(TimestampError::Invalid));
/// ```
pub fn parse_timestamp(value: &str, format: &str) -> Result<i64, TimestampError> {
    run(FormatItems { rest: format, pending: &[] }, value)
}

/// The fields read so far.
#[derive(Default)]
struct Fields {
    year: i32,
    month: u32,
    day: u32,
    weekday: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanosecond: u32,
    offset: i32,
    seen: u16,
}

fn run(items: impl Iterator<Item = Result<Item, TimestampError>>, value: &str) -> Result<i64, TimestampError> {
    let mut input = Input { text: value, pos: 0 };
    let mut f = Fields::default();
    for item in items {
        match item? {
            Item::Literal { bytes, len } => input.literal(&bytes[..usize::from(len)])?,
            Item::Space => input.whitespace(),
            Item::Field(field) => {
                if f.seen & field.slot() != 0 {
                    return Err(TimestampError::BadFormat);
                }
                f.seen |= field.slot();
                input.field(field, &mut f)?;
            }
        }
    }
    if input.pos != value.len() {
        return Err(TimestampError::TooLong);
    }
    if f.seen & slot::REQUIRED != slot::REQUIRED {
        return Err(TimestampError::NotEnough);
    }
    let days = days_from_civil(f.year, f.month, f.day).ok_or(TimestampError::OutOfRange)?;
    if f.seen & slot::WEEKDAY != 0 && weekday_from_days(days) != f.weekday {
        return Err(TimestampError::Impossible);
    }
    let time = CivilDateTime {
        year: f.year,
        month: f.month,
        day: f.day,
        hour: f.hour,
        minute: f.minute,
        second: f.second,
        nanosecond: f.nanosecond,
    };
    time.to_unix_nanos(f.offset).ok_or(TimestampError::OutOfRange)
}

/// The value being parsed, and how far.
struct Input<'a> {
    text: &'a str,
    pos: usize,
}

const MONTHS: [&[u8]; 12] = [
    b"january",
    b"february",
    b"march",
    b"april",
    b"may",
    b"june",
    b"july",
    b"august",
    b"september",
    b"october",
    b"november",
    b"december",
];
const WEEKDAYS: [&[u8]; 7] = [b"sunday", b"monday", b"tuesday", b"wednesday", b"thursday", b"friday", b"saturday"];

impl<'a> Input<'a> {
    fn rest(&self) -> &'a [u8] {
        &self.text.as_bytes()[self.pos..]
    }

    fn peek(&self) -> Option<u8> {
        self.rest().first().copied()
    }

    #[inline]
    fn literal(&mut self, want: &[u8]) -> Result<(), TimestampError> {
        let rest = self.rest();
        if rest.len() < want.len() {
            return Err(TimestampError::TooShort);
        }
        // Literals are a byte or two (`-`, `:`, `, `): a loop beats `memcmp`.
        if rest.iter().zip(want).any(|(a, b)| a != b) {
            return Err(TimestampError::Invalid);
        }
        self.pos += want.len();
        Ok(())
    }

    fn whitespace(&mut self) {
        // Every item consumes ASCII bytes or whole literals, so `pos` is a
        // character boundary.
        let rest = &self.text[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// `min` to `max` ASCII digits as a number.
    #[inline]
    fn number(&mut self, min: usize, max: usize) -> Result<u32, TimestampError> {
        let rest = self.rest();
        let mut value = 0;
        let mut n = 0;
        // At most nine digits are asked for, so the value fits.
        while n < max {
            match rest.get(n) {
                Some(&c @ b'0'..=b'9') => value = value * 10 + u32::from(c - b'0'),
                _ => break,
            }
            n += 1;
        }
        if n < min {
            return Err(if rest.len() == n { TimestampError::TooShort } else { TimestampError::Invalid });
        }
        self.pos += n;
        Ok(value)
    }

    /// A fraction of exactly `digits` digits, or for 0, one or more digits
    /// of which the first nine count; as nanoseconds.
    fn fraction(&mut self, digits: u8) -> Result<u32, TimestampError> {
        let start = self.pos;
        let (min, max) = if digits == 0 { (1, 9) } else { (usize::from(digits), usize::from(digits)) };
        let value = self.number(min, max)?;
        let used = self.pos - start;
        if digits == 0 {
            // Digits past the ninth are read and ignored, as chrono does.
            self.pos += self.rest().iter().take_while(|b| b.is_ascii_digit()).count();
        }
        Ok(value * POW10[9 - used])
    }

    /// An English name of which the first three letters are required and the
    /// rest optional (`long`), any case; returns its index in `names`.
    fn name(&mut self, names: &[&[u8]], long: bool) -> Result<u32, TimestampError> {
        let rest = self.rest();
        let Some(head) = rest.get(..3) else { return Err(TimestampError::TooShort) };
        let index = names.iter().position(|n| n[..3].eq_ignore_ascii_case(head)).ok_or(TimestampError::Invalid)?;
        self.pos += 3;
        let suffix = &names[index][3..];
        if long && self.rest().len() >= suffix.len() && self.rest()[..suffix.len()].eq_ignore_ascii_case(suffix) {
            self.pos += suffix.len();
        }
        Ok(index as u32)
    }

    /// `+hh`, an optional `:`, and `mm`; with `minutes_optional`, the
    /// minutes may be missing where the input ends (as chrono reads `%#z`).
    fn offset(&mut self, minutes_optional: bool) -> Result<i32, TimestampError> {
        let sign = match self.peek() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            Some(_) => return Err(TimestampError::Invalid),
            None => return Err(TimestampError::TooShort),
        };
        self.pos += 1;
        let hours = self.number(2, 2)?;
        if self.peek() == Some(b':') {
            self.pos += 1;
        }
        let minutes = if minutes_optional && self.rest().is_empty() { 0 } else { self.number(2, 2)? };
        if hours > 23 || minutes > 59 {
            return Err(TimestampError::OutOfRange);
        }
        Ok(sign * (hours * 3600 + minutes * 60) as i32)
    }

    #[inline]
    fn field(&mut self, field: Field, f: &mut Fields) -> Result<(), TimestampError> {
        match field {
            Field::Year => f.year = self.number(4, 4)? as i32,
            Field::YearOfCentury => {
                let y = self.number(1, 2)? as i32;
                f.year = if y >= 70 { 1900 + y } else { 2000 + y };
            }
            Field::Month => f.month = self.number(1, 2)?,
            Field::MonthAbbreviation => f.month = self.name(&MONTHS, false)? + 1,
            Field::MonthName => f.month = self.name(&MONTHS, true)? + 1,
            Field::Day => f.day = self.number(1, 2)?,
            Field::DaySpacePadded => {
                self.pos += self.rest().iter().take_while(|&&b| b == b' ').count();
                f.day = self.number(1, 2)?;
            }
            Field::WeekdayAbbreviation => f.weekday = self.name(&WEEKDAYS, false)?,
            Field::WeekdayName => f.weekday = self.name(&WEEKDAYS, true)?,
            Field::Hour => f.hour = self.number(1, 2)?,
            Field::Minute => f.minute = self.number(1, 2)?,
            Field::Second => f.second = self.number(1, 2)?,
            Field::Nanoseconds => f.nanosecond = self.number(1, 9)?,
            Field::DotFraction(digits) => {
                if self.peek() == Some(b'.') {
                    self.pos += 1;
                    f.nanosecond = self.fraction(digits)?;
                }
            }
            Field::Fraction(digits) => f.nanosecond = self.fraction(digits)?,
            Field::Offset => f.offset = self.offset(false)?,
            Field::OffsetOrZulu => {
                if let Some(b'Z' | b'z') = self.peek() {
                    self.pos += 1;
                    f.offset = 0;
                } else {
                    f.offset = self.offset(true)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar() {
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(1969, 12, 31), Some(-1));
        assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
        assert_eq!(days_from_civil(2026, 11, 20), Some(20_777));
        assert_eq!(days_from_civil(0, 1, 1), Some(-719_528));
        for (y, leap) in
            [(2024, true), (2026, false), (2000, true), (1900, false), (2100, false), (0, true), (-4, true)]
        {
            assert_eq!(is_leap_year(y), leap, "{y}");
            assert_eq!(days_from_civil(y, 2, 29).is_some(), leap, "{y}-02-29");
        }
        for (y, m, d) in [(2026, 0, 1), (2026, 13, 1), (2026, 1, 0), (2026, 1, 32), (2026, 4, 31), (2026, 2, 29)] {
            assert_eq!(days_from_civil(y, m, d), None, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_777), (2026, 11, 20));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(weekday_from_days(0), 4);
        assert_eq!(weekday_from_days(20_777), 5, "2026-11-20 is a Friday");
        assert_eq!(weekday_from_days(-1), 3);
    }

    #[test]
    fn rfc3339() {
        let base = 1_795_168_800 * NANOS_PER_SECOND; // 2026-11-20T10:00:00Z
        let cases: &[(&str, Option<i64>)] = &[
            // docs/contract.md, "Log files": CRI and CRI-O.
            ("2026-11-20T10:00:01.5Z", Some(base + 1_500_000_000)),
            ("2026-11-20T10:00:02Z", Some(base + 2 * NANOS_PER_SECOND)),
            ("2026-11-20T05:00:02.1-05:00", Some(base + 2_100_000_000)),
            // docker json-file.
            ("2026-11-20T10:00:01.123456789Z", Some(base + 1_123_456_789)),
            ("2026-11-20t10:00:00z", Some(base)),
            ("2026-11-20 10:00:00Z", Some(base)),
            ("2026-11-20T10:00:00+00:00", Some(base)),
            ("2026-11-20T10:00:00-00:00", Some(base)),
            ("2026-11-20T15:30:00+05:30", Some(base)),
            ("2026-11-20T10:00:00.000000000Z", Some(base)),
            ("2026-11-20T10:00:00.1Z", Some(base + 100_000_000)),
            ("2026-11-20T10:00:00.000000001Z", Some(base + 1)),
            ("1970-01-01T00:00:00Z", Some(0)),
            ("1969-12-31T23:59:59.999999999Z", Some(-1)),
            ("2026-11-20T09:59:60Z", Some(base)),
            ("2026-12-31T23:59:60.5Z", Some(1_798_761_600_500_000_000)),
            ("2024-02-29T00:00:00Z", Some(1_709_164_800 * NANOS_PER_SECOND)),
            ("2262-04-11T23:47:16.854775807Z", Some(i64::MAX)),
            ("1677-09-21T00:12:43.145224192Z", Some(i64::MIN)),
            ("2262-04-11T23:47:16.854775808Z", None),
            ("1677-09-21T00:12:43.145224191Z", None),
            ("9999-12-31T23:59:59Z", None),
            // Malformed.
            ("", None),
            ("2026-11-20", None),
            ("2026-11-20T10:00:00", None),
            ("2026-11-20T10:00:00.Z", None),
            ("2026-11-20T10:00:00.1234567891Z", None),
            ("2026-11-20T10:00:00Z ", None),
            (" 2026-11-20T10:00:00Z", None),
            ("2026-11-20T10:00:00ZZ", None),
            ("2026-11-20X10:00:00Z", None),
            ("2026/11/20T10:00:00Z", None),
            ("2026-11-20T10-00:00Z", None),
            ("2026-1a-20T10:00:00Z", None),
            ("2026-11-20T10:00:00+0500", None),
            ("2026-11-20T10:00:00+05", None),
            ("2026-11-20T10:00:00+05:0", None),
            ("2026-11-20T10:00:00+24:00", None),
            ("2026-11-20T10:00:00+05:60", None),
            ("2026-11-20T10:00:00+0a:00", None),
            ("2026-11-20T10:00:00 +05:00", None),
            ("2026-02-29T10:00:00Z", None),
            ("2026-13-01T10:00:00Z", None),
            ("2026-00-01T10:00:00Z", None),
            ("2026-11-00T10:00:00Z", None),
            ("2026-11-31T10:00:00Z", None),
            ("2026-11-20T24:00:00Z", None),
            ("2026-11-20T10:60:00Z", None),
            ("2026-11-20T10:00:61Z", None),
            ("２026-11-20T10:00:00Z", None),
        ];
        for &(input, want) in cases {
            assert_eq!(parse_rfc3339(input), want, "{input:?}");
        }
    }

    #[test]
    fn formats_of_the_sources() {
        let cases: &[(&str, &str, i64)] = &[
            // docs/language.md §10.1 and §8: python's asctime.
            ("%Y-%m-%d %H:%M:%S,%3f", "2026-11-20 00:43:12,801", 1_795_135_392_801_000_000),
            // TensorRT-LLM.
            ("%m/%d/%Y-%H:%M:%S", "11/20/2026-13:22:01", 1_795_180_921_000_000_000),
            // Go's log.
            ("%Y/%m/%d %H:%M:%S", "2026/11/20 10:00:00", 1_795_168_800_000_000_000),
            // kaniko and klog-style JSON times.
            ("%Y-%m-%dT%H:%M:%S%.fZ", "2026-11-20T03:28:31Z", 1_795_145_311_000_000_000),
            ("%Y-%m-%dT%H:%M:%S%.fZ", "2026-11-20T03:28:31.25Z", 1_795_145_311_250_000_000),
            ("%Y-%m-%dT%H:%M:%S%.f%:z", "2026-11-20T05:00:02.1-05:00", 1_795_168_802_100_000_000),
            ("%Y-%m-%dT%H:%M:%S%z", "2026-11-20T15:30:00+0530", 1_795_168_800_000_000_000),
            ("%Y-%m-%dT%H:%M:%S%#z", "2026-11-20T10:00:00Z", 1_795_168_800_000_000_000),
            ("%Y-%m-%dT%H:%M:%S%#z", "2026-11-20T12:00:00+02", 1_795_168_800_000_000_000),
            ("%F %T", "2026-11-20 10:00:00", 1_795_168_800_000_000_000),
            ("%FT%R", "2026-11-20T10:00", 1_795_168_800_000_000_000),
            ("%D %T", "11/20/26 10:00:00", 1_795_168_800_000_000_000),
            ("%a %b %e %H:%M:%S %Y", "Fri Nov 20 10:00:00 2026", 1_795_168_800_000_000_000),
            ("%a %b %e %T %Y", "Sun Nov  1 10:00:00 2026", 1_793_527_200_000_000_000),
            ("%A, %d-%B-%y %T", "Friday, 20-November-26 10:00:00", 1_795_168_800_000_000_000),
            ("%A %d %B %Y %R", "fri 20 NOV 2026 10:00", 1_795_168_800_000_000_000),
            ("%d/%b/%Y:%H:%M:%S %z", "20/Nov/2026:10:00:00 +0000", 1_795_168_800_000_000_000),
            ("%Y%m%d%H%M%S", "20261120100000", 1_795_168_800_000_000_000),
            ("%-m/%-d/%Y %_H:%0M", "1/5/2026  9:07", 1_767_604_020_000_000_000),
            ("%Y-%m-%d %H:%M:%S.%f", "2026-11-20 10:00:00.026490000", 1_795_168_800_026_490_000),
            ("%Y-%m-%d %H:%M:%S.%f", "2026-11-20 10:00:00.5", 1_795_168_800_000_000_005),
            ("%Y-%m-%d %H:%M:%S%.3f", "2026-11-20 10:00:00.123", 1_795_168_800_123_000_000),
            ("%Y-%m-%d %H:%M:%S%.3f", "2026-11-20 10:00:00", 1_795_168_800_000_000_000),
            ("%Y-%m-%d %H:%M:%S%.f", "2026-11-20 10:00:00.1234567891234", 1_795_168_800_123_456_789),
            ("%Y-%m-%d %H:%M:%S %6f", "2026-11-20 10:00:00 000001", 1_795_168_800_000_001_000),
            ("%Y-%m-%d %H:%M", "2026-11-20 10:00", 1_795_168_800_000_000_000),
            ("%Y-%m-%d%n%H:%M%t", "2026-11-20\n\t 10:00", 1_795_168_800_000_000_000),
            ("%Y-%m-%d  %H:%M", "2026-11-2010:00", 1_795_168_800_000_000_000),
            ("100%% %Y-%m-%d %H:%M", "100% 2026-11-20 10:00", 1_795_168_800_000_000_000),
            ("[%Y-%m-%d — %H:%M] done, très bien", "[2026-11-20 — 10:00] done, très bien", 1_795_168_800_000_000_000),
            ("%Y-%m-%d %H:%M:%S", "2026-11-20 09:59:60", 1_795_168_800_000_000_000),
        ];
        for &(format, value, want) in cases {
            assert_eq!(parse_timestamp(value, format), Ok(want), "{format:?} {value:?}");
            let compiled = TimestampFormat::compile(format).unwrap();
            assert_eq!(compiled.parse(value), Ok(want), "{format:?} {value:?}");
            assert_eq!(format.parse::<TimestampFormat>().as_ref(), Ok(&compiled));
        }
    }

    #[test]
    fn parse_errors() {
        use TimestampError::*;
        let asctime = "%Y-%m-%d %H:%M:%S,%3f";
        let cases: &[(&str, &str, TimestampError)] = &[
            (asctime, "2026/11/20 00:43:12,801", Invalid),
            (asctime, "2026-11-20 00:43:12", TooShort),
            (asctime, "2026-11-20 00:43:12,80", TooShort),
            (asctime, "2026-11-20 00:43:12,8012", TooLong),
            (asctime, "2026-11-20 00:43:12,801 ", TooLong),
            (asctime, "", TooShort),
            (asctime, "x", Invalid),
            (asctime, "26-11-20 00:43:12,801", Invalid),
            (asctime, "2026-13-20 00:43:12,801", OutOfRange),
            (asctime, "2026-02-29 00:43:12,801", OutOfRange),
            (asctime, "2026-11-20 24:43:12,801", OutOfRange),
            (asctime, "2026-11-20 23:60:12,801", OutOfRange),
            (asctime, "2026-11-20 23:59:61,801", OutOfRange),
            (asctime, "2026-11-20 0x:43:12,801", Invalid),
            (asctime, "2026-11-20 123:43:12,801", Invalid),
            (asctime, "2300-01-01 00:00:00,000", OutOfRange),
            ("%a %Y-%m-%d %H:%M", "Mon 2026-11-20 10:00", Impossible),
            ("%a %Y-%m-%d %H:%M", "Xyz 2026-11-20 10:00", Invalid),
            ("%a %Y-%m-%d %H:%M", "Fr", TooShort),
            ("%b %d %Y %H:%M", "Noe 20 2026 10:00", Invalid),
            ("%Y-%m-%dT%H:%M:%S%z", "2026-11-20T10:00:00Z", Invalid),
            ("%Y-%m-%dT%H:%M:%S%z", "2026-11-20T10:00:00+05", TooShort),
            ("%Y-%m-%dT%H:%M:%S%z", "2026-11-20T10:00:00+2400", OutOfRange),
            ("%Y-%m-%dT%H:%M:%S%z", "2026-11-20T10:00:00+0060", OutOfRange),
            ("%Y-%m-%dT%H:%M:%S%#z", "2026-11-20T10:00:00+05x", Invalid),
            ("%Y-%m-%dT%H:%M:%S%.3f", "2026-11-20T10:00:00.12", TooShort),
            ("%Y-%m-%dT%H:%M:%S%.f", "2026-11-20T10:00:00.", TooShort),
            ("%Y-%m-%dT%H:%M:%S%.f", "2026-11-20T10:00:00.x", Invalid),
            // Format errors.
            ("%Y-%m-%d %H:%M:%Q", "2026-11-20 10:00:00", BadFormat),
            ("%Y-%m-%d %H:%M:%S%", "2026-11-20 10:00:00", BadFormat),
            ("%Y-%m-%d %H:%M %s", "2026-11-20 10:00 1", BadFormat),
            ("%Y-%m-%d %H:%M %Y", "2026-11-20 10:00 2026", BadFormat),
            ("%Y-%m-%d %H:%M %-b", "2026-11-20 10:00 Nov", BadFormat),
            ("%Y-%m-%d %H:%M:%S %p", "2026-11-20 10:00:00 AM", BadFormat),
            ("%Y-%m-%d", "2026-11-20", NotEnough),
            ("%H:%M:%S", "10:00:00", NotEnough),
            ("%Y-%m %H:%M", "2026-11 10:00", NotEnough),
        ];
        for &(format, value, want) in cases {
            assert_eq!(parse_timestamp(value, format), Err(want), "{format:?} {value:?}");
        }
        // docs/language.md §8: the abort message of a line that does not fit.
        assert_eq!(
            parse_timestamp("INFO: started", asctime).unwrap_err().message(),
            "input contains invalid characters"
        );
        // Compiling reports format errors whatever the input would be.
        for (format, want) in [
            ("%Q", BadFormat),
            ("%Y %Y", BadFormat),
            ("%m %b", BadFormat),
            ("%.f %3f", BadFormat),
            ("%z %#z", BadFormat),
            ("%.4f", BadFormat),
            ("%Y-%m-%d", NotEnough),
            ("", NotEnough),
        ] {
            assert_eq!(TimestampFormat::compile(format), Err(want), "{format:?}");
        }
    }
}
