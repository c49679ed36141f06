//! `parse_logfmt`: `key=value` pairs (`docs/language.md` §10.1).
//!
//! ```text
//! time="2026-11-20T10:00:00Z" level=info msg="resync done" objects=42 dry_run
//! ```
//!
//! The pairs come from an iterator, so the caller builds its object the way
//! it likes and nothing is collected here. A value is borrowed from the line
//! unless it is quoted and contains a backslash escape; then the iterator
//! hands out the raw body, checked, and [`unescape_logfmt`] decodes it into
//! the caller's buffer. The common case, no escapes, copies nothing.
//!
//! The grammar, decided where logfmt has no standard (go-logfmt and logrus
//! are the writers that matter):
//!
//! - pairs are separated by ASCII whitespace (space, tab, `\r`, `\n`, form
//!   feed); an empty line, or one of whitespace only, has no pairs;
//! - a key is a run of characters other than whitespace, `=` and `"`;
//! - `key=value`: a bare value runs to the next whitespace and may contain
//!   `=` and `"` (`url=/x?a=b` is one pair); `key=` is the empty string;
//! - `key="…"`: a quoted value, with the escapes of Go's `strconv.Quote`
//!   (which logrus writes): `\"`, `\\`, `\/`, `\'`, `\a`, `\b`, `\f`, `\n`,
//!   `\r`, `\t`, `\v`, `\xHH`, `\uHHHH`, `\UHHHHHHHH`; a code that is not a
//!   character (a surrogate, `\x80` and above, which Go writes for bytes of
//!   invalid UTF-8) decodes to U+FFFD;
//! - a bare `key` is `true`.
//!
//! Malformed, so `parse_logfmt` fails: a pair starting with `=` (no key) or
//! with `"` (a quoted key), a `"` inside a key, an unterminated quoted value,
//! an unknown escape, and anything but whitespace right after a closing
//! quote. A key given twice is the caller's business (an object keeps the
//! last, as `parse_json` does).

use super::error_enum;

/// The value of a pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogfmtValue<'a> {
    /// A key without `=`: the object holds `true`.
    True,
    /// A value that needs no decoding: bare, or quoted without escapes
    /// (the quotes removed).
    Str(&'a str),
    /// A quoted value with escapes: the body between the quotes, escapes
    /// undecoded and already checked. [`LogfmtValue::write`] decodes it.
    Escaped(&'a str),
}

impl LogfmtValue<'_> {
    /// Appends the string value, decoded; `true` for [`LogfmtValue::True`].
    /// Allocates only by growing `out`.
    pub fn write(self, out: &mut String) {
        match self {
            LogfmtValue::True => out.push_str("true"),
            LogfmtValue::Str(s) => out.push_str(s),
            LogfmtValue::Escaped(body) => unescape_logfmt(body, out),
        }
    }
}

/// One `key=value` pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogfmtPair<'a> {
    pub key: &'a str,
    pub value: LogfmtValue<'a>,
}

error_enum! {
    /// Why `parse_logfmt` failed.
    pub enum LogfmtError {
        /// `=value` with nothing before the `=`.
        MissingKey => "missing key before '='",
        /// A `"` in a key, or a key that starts with one.
        QuoteInKey => "unexpected '\"' in key",
        /// A quoted value without its closing `"`.
        UnterminatedQuote => "unterminated quoted value",
        /// A backslash escape that is not one of Go's.
        InvalidEscape => "invalid escape in quoted value",
        /// Something right after a closing quote.
        TrailingAfterQuote => "unexpected character after quoted value",
    }
}

/// The pairs of a logfmt line, left to right. After an error the iterator
/// ends; the language's `parse_logfmt` fails if any item is an error.
///
/// Borrows; never allocates.
///
/// ```
/// # use uml_runtime::stdlib::logfmt::{parse_logfmt, LogfmtPair, LogfmtValue::*};
/// let line = r#"time="2026-11-20T10:00:00Z" level=info msg="resync done" objects=42"#;
/// let pairs: Vec<_> = parse_logfmt(line).collect::<Result<_, _>>().unwrap();
/// assert_eq!(pairs[1], LogfmtPair { key: "level", value: Str("info") });
/// assert_eq!(pairs[2], LogfmtPair { key: "msg", value: Str("resync done") });
/// ```
pub fn parse_logfmt(line: &str) -> LogfmtPairs<'_> {
    LogfmtPairs { line, pos: 0 }
}

/// The iterator of [`parse_logfmt`].
#[derive(Clone, Debug)]
pub struct LogfmtPairs<'a> {
    line: &'a str,
    pos: usize,
}

fn is_space(b: u8) -> bool {
    b.is_ascii_whitespace()
}

impl<'a> Iterator for LogfmtPairs<'a> {
    type Item = Result<LogfmtPair<'a>, LogfmtError>;

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.line.as_bytes();
        let start = self.pos + b[self.pos..].iter().take_while(|&&c| is_space(c)).count();
        if start == b.len() {
            self.pos = start;
            return None;
        }
        let result = self.pair(start);
        if result.is_err() {
            // Fused: an error ends the pairs.
            self.pos = b.len();
        }
        Some(result)
    }
}

impl<'a> LogfmtPairs<'a> {
    fn pair(&mut self, start: usize) -> Result<LogfmtPair<'a>, LogfmtError> {
        let line = self.line;
        let b = line.as_bytes();
        let key_end = start + b[start..].iter().take_while(|&&c| !is_space(c) && c != b'=' && c != b'"').count();
        match b.get(key_end) {
            Some(b'"') => return Err(LogfmtError::QuoteInKey),
            _ if key_end == start => return Err(LogfmtError::MissingKey),
            Some(b'=') => {}
            // A bare key: at whitespace or the end.
            _ => {
                self.pos = key_end;
                return Ok(LogfmtPair { key: &line[start..key_end], value: LogfmtValue::True });
            }
        }
        let key = &line[start..key_end];
        let value_start = key_end + 1;
        if b.get(value_start) != Some(&b'"') {
            let end = value_start + b[value_start..].iter().take_while(|&&c| !is_space(c)).count();
            self.pos = end;
            return Ok(LogfmtPair { key, value: LogfmtValue::Str(&line[value_start..end]) });
        }
        // A quoted value: find the closing quote, checking escapes on the way.
        let body_start = value_start + 1;
        let mut i = body_start;
        let mut escaped = false;
        loop {
            let off = memchr::memchr2(b'"', b'\\', &b[i..]).ok_or(LogfmtError::UnterminatedQuote)?;
            i += off;
            if b[i] == b'"' {
                break;
            }
            escaped = true;
            if i + 1 == b.len() {
                return Err(LogfmtError::UnterminatedQuote);
            }
            i += 1 + escape_len(&b[i + 1..]).ok_or(LogfmtError::InvalidEscape)?;
        }
        let body = &line[body_start..i];
        let after = i + 1;
        if b.get(after).is_some_and(|&c| !is_space(c)) {
            return Err(LogfmtError::TrailingAfterQuote);
        }
        self.pos = after;
        let value = if escaped { LogfmtValue::Escaped(body) } else { LogfmtValue::Str(body) };
        Ok(LogfmtPair { key, value })
    }
}

/// The length of a valid escape after its backslash, or `None`.
fn escape_len(s: &[u8]) -> Option<usize> {
    let hex = |n: usize| s.get(1..1 + n).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)).then_some(1 + n);
    match s.first()? {
        b'"' | b'\\' | b'/' | b'\'' | b'a' | b'b' | b'f' | b'n' | b'r' | b't' | b'v' => Some(1),
        b'x' => hex(2),
        b'u' => hex(4),
        b'U' => hex(8),
        _ => None,
    }
}

fn hex_value(h: &[u8]) -> u32 {
    h.iter().fold(0, |v, &c| v * 16 + (c as char).to_digit(16).unwrap_or(0))
}

/// Appends a quoted logfmt value's body (between the quotes) with its
/// escapes decoded. The body should come from [`LogfmtValue::Escaped`],
/// whose escapes are checked; an invalid escape in any other body is copied
/// as it is. Allocates only by growing `out`, by at most `body.len()` bytes.
///
/// ```
/// # use uml_runtime::stdlib::logfmt::unescape_logfmt;
/// let mut out = String::new();
/// unescape_logfmt(r#"say \"hi\"\n\u00e9\x1b"#, &mut out);
/// assert_eq!(out, "say \"hi\"\né\u{1b}");
/// ```
pub fn unescape_logfmt(body: &str, out: &mut String) {
    let b = body.as_bytes();
    let mut run = 0;
    while let Some(off) = memchr::memchr(b'\\', &b[run..]) {
        let at = run + off;
        out.push_str(&body[run..at]);
        let Some(len) = escape_len(&b[at + 1..]) else {
            // Not an escape: keep the backslash, go on after it.
            out.push('\\');
            run = at + 1;
            continue;
        };
        let code = &b[at + 2..at + 1 + len];
        let decoded = match b[at + 1] {
            b'a' => '\x07',
            b'b' => '\x08',
            b'f' => '\x0c',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'v' => '\x0b',
            b'x' => char::from_u32(hex_value(code)).filter(char::is_ascii).unwrap_or('\u{FFFD}'),
            b'u' | b'U' => char::from_u32(hex_value(code)).unwrap_or('\u{FFFD}'),
            quoted => char::from(quoted),
        };
        out.push(decoded);
        run = at + 1 + len;
    }
    out.push_str(&body[run..]);
}

#[cfg(test)]
mod tests {
    use super::LogfmtValue::{Escaped, Str, True};
    use super::*;

    fn pairs(line: &str) -> Result<Vec<(&str, LogfmtValue<'_>)>, LogfmtError> {
        parse_logfmt(line).map(|p| p.map(|p| (p.key, p.value))).collect()
    }

    #[test]
    fn doc_example() {
        // docs/language.md §10.1.
        let line = r#"time="2026-11-20T10:00:00Z" level=info msg="resync done" objects=42"#;
        assert_eq!(
            pairs(line),
            Ok(vec![
                ("time", Str("2026-11-20T10:00:00Z")),
                ("level", Str("info")),
                ("msg", Str("resync done")),
                ("objects", Str("42")),
            ])
        );
    }

    #[test]
    fn shapes() {
        let cases: &[(&str, &[(&str, LogfmtValue<'_>)])] = &[
            ("", &[]),
            ("   \t ", &[]),
            ("a=1", &[("a", Str("1"))]),
            ("  a=1  b=2 ", &[("a", Str("1")), ("b", Str("2"))]),
            ("a=1\tb=2\r\n", &[("a", Str("1")), ("b", Str("2"))]),
            ("flag", &[("flag", True)]),
            ("a=1 dry_run b=2", &[("a", Str("1")), ("dry_run", True), ("b", Str("2"))]),
            ("empty=", &[("empty", Str(""))]),
            ("empty= next=1", &[("empty", Str("")), ("next", Str("1"))]),
            (r#"q="""#, &[("q", Str(""))]),
            ("url=/x?a=b&c=d", &[("url", Str("/x?a=b&c=d"))]),
            (r#"odd=a"b"#, &[("odd", Str(r#"a"b"#))]),
            ("a==b", &[("a", Str("=b"))]),
            (r#"msg="with \"quotes\"""#, &[("msg", Escaped(r#"with \"quotes\""#))]),
            (r#"msg="a\\b" x=1"#, &[("msg", Escaped(r"a\\b")), ("x", Str("1"))]),
            ("ключ=значение ü=\"ö\"", &[("ключ", Str("значение")), ("ü", Str("ö"))]),
            ("dup=1 dup=2", &[("dup", Str("1")), ("dup", Str("2"))]),
        ];
        for (line, want) in cases {
            assert_eq!(pairs(line).as_deref(), Ok(*want), "{line:?}");
        }
    }

    #[test]
    fn malformed() {
        use LogfmtError::*;
        for (line, err) in [
            ("=value", MissingKey),
            ("a=1 =2", MissingKey),
            (r#""key"=1"#, QuoteInKey),
            (r#"ke"y=1"#, QuoteInKey),
            (r#"msg="never closed"#, UnterminatedQuote),
            (r#"msg="ends with backslash\"#, UnterminatedQuote),
            (r#"msg="escaped quote at end\""#, UnterminatedQuote),
            (r#"msg="bad \q escape""#, InvalidEscape),
            (r#"msg="short \u12""#, InvalidEscape),
            (r#"msg="short \x1""#, InvalidEscape),
            (r#"msg="quoted"tail"#, TrailingAfterQuote),
            (r#"a="x""y""#, TrailingAfterQuote),
        ] {
            assert_eq!(pairs(line), Err(err), "{line:?}");
        }
        // The iterator ends after an error.
        let mut it = parse_logfmt("a=1 =2 b=3");
        assert!(it.next().unwrap().is_ok());
        assert_eq!(it.next(), Some(Err(MissingKey)));
        assert_eq!(it.next(), None);
    }

    #[test]
    fn unescapes_go_quoting() {
        let cases: &[(&str, &str)] = &[
            (r#"\"\\\/\'"#, "\"\\/'"),
            (r"\a\b\f\n\r\t\v", "\x07\x08\x0c\n\r\t\x0b"),
            (r"\x1b[0m", "\u{1b}[0m"),
            (r"\xff", "\u{FFFD}"),
            (r"\u00e9\u2713", "é✓"),
            (r"\ud800", "\u{FFFD}"),
            (r"\U0001F600", "😀"),
            (r"\U00110000", "\u{FFFD}"),
            ("no escapes", "no escapes"),
            (r"tail\", r"tail\"),
            (r"\q", r"\q"),
        ];
        for (body, want) in cases {
            let mut out = String::from(">");
            unescape_logfmt(body, &mut out);
            assert_eq!(out, format!(">{want}"), "{body:?}");
        }
        let mut out = String::new();
        for value in [True, Str("plain"), Escaped(r"a\tb")] {
            value.write(&mut out);
            out.push('|');
        }
        assert_eq!(out, "true|plain|a\tb|");
    }
}
