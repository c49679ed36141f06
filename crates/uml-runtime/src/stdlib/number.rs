//! Numbers as text and text as numbers: the number cases of `to_string`
//! and the string case of `to_int` (`docs/language.md` §10.3).
//!
//! Floats print the way serde_json prints them into JSON, which is also how
//! Python's `repr` and JavaScript print ordinary magnitudes, so a float read
//! from a JSON line and written back with `to_string` reads the same:
//! `1.5`, `3.0`, `1e-7`, `1.2345e+22`.

use std::fmt::Write as _;

use super::error_enum;

/// Appends `value` in decimal (`-` for negatives, no `+`, no separators).
/// Allocates only by growing `out`, by at most 20 bytes.
///
/// ```
/// # use uml_runtime::stdlib::number::format_int;
/// let mut out = String::new();
/// format_int(42, &mut out);
/// assert_eq!(out, "42");
/// ```
pub fn format_int(value: i64, out: &mut String) {
    let mut buf = [0u8; 20];
    let at = int_digits(value, &mut buf);
    if value < 0 {
        out.push('-');
    }
    out.push_str(std::str::from_utf8(&buf[at..]).expect("ASCII digits"));
}

/// [`format_int`] into bytes, for writers of JSON output.
///
/// ```
/// # use uml_runtime::stdlib::number::format_int_bytes;
/// let mut out = Vec::new();
/// format_int_bytes(-1795168800120431000, &mut out);
/// assert_eq!(out, b"-1795168800120431000");
/// ```
pub fn format_int_bytes(value: i64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let at = int_digits(value, &mut buf);
    if value < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[at..]);
}

/// Writes the digits of `|value|` at the end of `buf`, two at a time;
/// returns where they start.
fn int_digits(value: i64, buf: &mut [u8; 20]) -> usize {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut i = buf.len();
    let mut n = value.unsigned_abs();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + n as u8;
    }
    i
}

/// Appends `value` in its shortest form that reads back as the same float.
///
/// Decisions (the doc says "its shortest exact form"): the layout is
/// serde_json's, so `to_string` agrees with a float written into a record:
///
/// - an integral value keeps `.0` (`3.0`), so it still reads as a float, as
///   Python and JSON writers print it;
/// - plain decimals for magnitudes from `1e-5` up to below `1e16`
///   (`0.00001`, `123.456`, `1000000000000000.0`);
/// - otherwise an exponent, signed, without leading zeros (`1e+16`,
///   `1.5e-7`, `-2.5e+300`), as Python and JavaScript write it;
/// - `-0.0` keeps its sign;
/// - when two shortest forms are equally near the value (a tie in the last
///   digit), the even one, as serde_json, Python and JavaScript choose
///   (`1512858384928776.25` prints as `1512858384928776.2`).
///
/// The language's floats are finite (parse_json turns `NaN` and the
/// infinities into strings); should a non-finite float get here it prints as
/// those strings do: `NaN`, `Infinity`, `-Infinity`.
///
/// Allocates only by growing `out`, by at most 24 bytes.
///
/// ```
/// # use uml_runtime::stdlib::number::format_float;
/// let mut out = String::new();
/// for f in [1.5, 3.0, 1e-7, 1e21] {
///     format_float(f, &mut out);
///     out.push(' ');
/// }
/// assert_eq!(out, "1.5 3.0 1e-7 1e+21 ");
/// ```
pub fn format_float(value: f64, out: &mut String) {
    if !value.is_finite() {
        out.push_str(if value.is_nan() {
            "NaN"
        } else if value > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        });
        return;
    }
    // Integral values below 1e16, the common case (counts, codes, sizes),
    // are plain integers with `.0`.
    if value.fract() == 0.0 && value.abs() < 1e16 {
        if value == 0.0 && value.is_sign_negative() {
            out.push('-');
        }
        format_int(value as i64, out);
        out.push_str(".0");
        return;
    }
    // The standard library's `{:e}` gives the shortest round-trip digits
    // (`-1.2345e-7`); the tie rule and the layout are ours.
    let mut sci = StackText::default();
    write!(sci, "{value:e}").expect("a float fits in 32 bytes");
    let text = sci.as_bytes();
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let e_at = text.iter().position(|&b| b == b'e').expect("{:e} writes an exponent");
    let mut exponent: i32 = std::str::from_utf8(&text[e_at + 1..]).ok().and_then(|e| e.parse().ok()).expect("exponent");
    // At most 17 digits: they fit a u64.
    let mut n = 0;
    let shortest = text[..e_at].iter().filter(|b| b.is_ascii_digit()).fold(0u64, |d, &b| {
        n += 1;
        d * 10 + u64::from(b - b'0')
    });
    let (digits, carried) = round_half_even(value, shortest, exponent - n);
    exponent += i32::from(carried);
    let mut buf = [0u8; 20];
    let mut start = buf.len();
    let mut rest = digits;
    loop {
        start -= 1;
        buf[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let end = buf[start..].iter().rposition(|&b| b != b'0').map_or(start + 1, |i| start + i + 1);
    let digits = std::str::from_utf8(&buf[start..end]).expect("ASCII digits");
    let n = digits.len() as i32;
    // The value is 0.DIGITS × 10^point.
    let point = exponent + 1;
    if negative {
        out.push('-');
    }
    if n <= point && point <= 16 {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', (point - n) as usize));
        out.push_str(".0");
    } else if 0 < point && point <= 16 {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    } else if -5 < point && point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(digits);
    } else {
        out.push_str(&digits[..1]);
        if n > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(if point > 0 { "e+" } else { "e" });
        format_int(i64::from(point - 1), out);
    }
}

/// The shortest digits `shortest` (a value of about `shortest × 10^(q + 1)`)
/// with a tie resolved to the even neighbour, as serde_json, Python and
/// JavaScript do: when `value` lies exactly halfway between two shortest
/// candidates the standard library takes the larger one. Returns the digits
/// and whether a carry made them one digit longer (`99` to `100`).
fn round_half_even(value: f64, shortest: u64, q: i32) -> (u64, bool) {
    if shortest.is_multiple_of(2) {
        return (shortest, false);
    }
    for neighbour in [shortest - 1, shortest + 1] {
        // The midpoint of the two candidates, `(shortest + neighbour) × 5 × 10^q`.
        if is_exactly(value, (shortest + neighbour) * 5, q) {
            let carried = neighbour.checked_ilog10() > shortest.checked_ilog10();
            return (neighbour, carried);
        }
    }
    (shortest, false)
}

/// Whether `|value|` is exactly `odd × 10^q`, for an odd `odd`: in integers,
/// `m × 2^e = odd × 5^q × 2^q` where `m × 2^e` is the float's exact value,
/// so the powers of two must agree and the odd parts must be equal.
fn is_exactly(value: f64, odd: u64, q: i32) -> bool {
    debug_assert!(odd % 2 == 1);
    let bits = value.abs().to_bits();
    let biased = (bits >> 52) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (m, e) = if biased == 0 { (fraction, -1074) } else { (fraction | 1 << 52, biased - 1075) };
    if m == 0 {
        return false;
    }
    let twos = m.trailing_zeros() as i32;
    let m_odd = u128::from(m >> twos);
    if twos + e != q {
        return false;
    }
    let Some(fives) = 5u128.checked_pow(q.unsigned_abs()) else { return false };
    if q >= 0 {
        fives.checked_mul(u128::from(odd)) == Some(m_odd)
    } else {
        fives.checked_mul(m_odd) == Some(u128::from(odd))
    }
}

/// A small fixed buffer to format into without allocating.
#[derive(Default)]
struct StackText {
    buf: [u8; 32],
    len: usize,
}

impl StackText {
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

error_enum! {
    /// Why a string is not an `int`.
    pub enum IntError {
        /// Empty, or not digits with an optional sign (a float, spaces, `_`).
        NotAnInteger => "not a decimal integer",
        /// Digits beyond the 64-bit range.
        OutOfRange => "integer out of range",
    }
}

/// `to_int` of a string: a decimal integer, `"137"` or `"-1"`.
///
/// Decisions (the doc says "a decimal integer"): an optional `+` or `-`,
/// then one or more ASCII digits, and nothing else: no surrounding
/// whitespace (write `to_int(trim(s))`), no `_`, no fraction or exponent
/// (`"1.0"` and `"1e3"` fail; `to_int` of a float truncates, but a string is
/// not a float), no hex. Leading zeros are fine. This is Rust's and VRL's
/// `to_int` of a string.
///
/// Never allocates.
///
/// ```
/// # use uml_runtime::stdlib::number::{parse_int, IntError};
/// assert_eq!(parse_int("137"), Ok(137));
/// assert_eq!(parse_int("-1"), Ok(-1));
/// assert_eq!(parse_int("1.5"), Err(IntError::NotAnInteger));
/// ```
pub fn parse_int(value: &str) -> Result<i64, IntError> {
    use std::num::IntErrorKind;
    value.parse::<i64>().map_err(|e| match e.kind() {
        IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => IntError::OutOfRange,
        _ => IntError::NotAnInteger,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints() {
        for (value, want) in [
            (0, "0"),
            (7, "7"),
            (42, "42"),
            (-1, "-1"),
            (137, "137"),
            (100, "100"),
            (1_000_000, "1000000"),
            (i64::MAX, "9223372036854775807"),
            (i64::MIN, "-9223372036854775808"),
        ] {
            let mut out = String::from(">");
            format_int(value, &mut out);
            assert_eq!(out, format!(">{want}"));
            assert_eq!(parse_int(want), Ok(value));
        }
    }

    #[test]
    fn floats() {
        for (value, want) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (3.0, "3.0"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (0.1, "0.1"),
            (52.2, "52.2"),
            (1763632800.2240348, "1763632800.2240348"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e22, "1.2345e+22"),
            (1e-5, "0.00001"),
            (1.5e-5, "0.000015"),
            (1e-6, "1e-6"),
            (1.5e-7, "1.5e-7"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5e-324"),
            // 1512858384928776.25, exactly halfway between ...776.2 and ...776.3: the even one.
            (6051433539715105.0 / 4.0, "1512858384928776.2"),
            (-6051433539715105.0 / 4.0, "-1512858384928776.2"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            let mut out = String::from(">");
            format_float(value, &mut out);
            assert_eq!(out, format!(">{want}"), "{value:?}");
        }
    }

    #[test]
    fn int_strings() {
        let cases: &[(&str, Result<i64, IntError>)] = &[
            ("137", Ok(137)),
            ("-1", Ok(-1)),
            ("+5", Ok(5)),
            ("007", Ok(7)),
            ("-0", Ok(0)),
            ("9223372036854775807", Ok(i64::MAX)),
            ("-9223372036854775808", Ok(i64::MIN)),
            ("9223372036854775808", Err(IntError::OutOfRange)),
            ("-9223372036854775809", Err(IntError::OutOfRange)),
            ("99999999999999999999999", Err(IntError::OutOfRange)),
            ("", Err(IntError::NotAnInteger)),
            ("-", Err(IntError::NotAnInteger)),
            ("+", Err(IntError::NotAnInteger)),
            (" 1", Err(IntError::NotAnInteger)),
            ("1 ", Err(IntError::NotAnInteger)),
            ("1.0", Err(IntError::NotAnInteger)),
            ("1.5", Err(IntError::NotAnInteger)),
            ("1e3", Err(IntError::NotAnInteger)),
            ("1_000", Err(IntError::NotAnInteger)),
            ("0x10", Err(IntError::NotAnInteger)),
            ("--1", Err(IntError::NotAnInteger)),
            ("١٢", Err(IntError::NotAnInteger)),
        ];
        for (input, want) in cases {
            assert_eq!(parse_int(input), *want, "{input:?}");
        }
        assert_eq!(IntError::NotAnInteger.message(), "not a decimal integer");
    }
}
