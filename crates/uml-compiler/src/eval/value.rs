//! Owned values for the reference evaluator, and the simple JSON reader and
//! writer it uses. Deliberately plain: a tree of owned values, so that the
//! optimized executor, which works on borrowed byte ranges, has an
//! independent oracle to be compared with.

use std::fmt::Write as _;
use uml_runtime::json::{JsonError, JsonErrorKind, MAX_DEPTH};

#[derive(Clone, Debug, PartialEq)]
pub enum OwnedValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<OwnedValue>),
    /// Members in first-seen order; a repeated key keeps its last value.
    Object(Vec<(String, OwnedValue)>),
}

impl OwnedValue {
    pub fn kind(&self) -> &'static str {
        match self {
            OwnedValue::Null => "null",
            OwnedValue::Bool(_) => "bool",
            OwnedValue::Int(_) => "int",
            OwnedValue::Float(_) => "float",
            OwnedValue::Str(_) => "string",
            OwnedValue::Array(_) => "array",
            OwnedValue::Object(_) => "object",
        }
    }

    pub fn member(&self, key: &str) -> Option<&OwnedValue> {
        match self {
            OwnedValue::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Writes the value as compact JSON.
    pub fn write_json(&self, out: &mut String) {
        match self {
            OwnedValue::Null => out.push_str("null"),
            OwnedValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            OwnedValue::Int(i) => {
                let _ = write!(out, "{i}");
            }
            OwnedValue::Float(f) => uml_runtime::stdlib::number::format_float(*f, out),
            OwnedValue::Str(s) => write_json_string(s, out),
            OwnedValue::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            OwnedValue::Object(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(k, out);
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

/// RFC 8259 string escaping, one character at a time, as serde_json writes
/// it.
pub fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        push_escaped(c, out);
    }
    out.push('"');
}

/// Appends one character of a JSON string body.
fn push_escaped(c: char, out: &mut String) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        c if (c as u32) < 0x20 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => out.push(c),
    }
}

/// The first `len` bytes of `s` as a JSON string body, as characters: `len`
/// must fall between two characters' escapes.
pub fn escaped_prefix(s: &str, len: usize) -> &str {
    let mut written = 0;
    let mut one = String::new();
    for (i, c) in s.char_indices() {
        if written == len {
            return &s[..i];
        }
        one.clear();
        push_escaped(c, &mut one);
        written += one.len();
    }
    s
}

/// Parses JSON (plus Python's `NaN`, `Infinity`, `-Infinity`, read as the
/// strings of the same spelling) into a [`OwnedValue`]. Recursive descent; only
/// arrays and objects count towards the nesting limit
/// ([`uml_runtime::json::MAX_DEPTH`]), which bounds the recursion.
///
/// The errors are the runtime scanner's: the first thing wrong, reading
/// from the left, reported with the same [`JsonErrorKind`] at the same
/// offset (each kind documents where it points).
pub fn parse_json(text: &str) -> Result<OwnedValue, JsonError> {
    let mut p = JsonParser { s: text.as_bytes(), pos: 0 };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.pos != p.s.len() {
        return Err(p.error(JsonErrorKind::UnexpectedByte));
    }
    Ok(v)
}

struct JsonParser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl JsonParser<'_> {
    fn error(&self, kind: JsonErrorKind) -> JsonError {
        error_at(self.pos, kind)
    }

    /// At the current byte: unexpected, or the end of the text.
    fn unexpected(&self) -> JsonError {
        match self.peek() {
            Some(_) => self.error(JsonErrorKind::UnexpectedByte),
            None => self.error(JsonErrorKind::UnexpectedEnd),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, word: &str) -> bool {
        if self.s[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// `word`, or an unexpected character at its first byte.
    fn literal(&mut self, word: &str, value: OwnedValue) -> Result<OwnedValue, JsonError> {
        if self.eat(word) { Ok(value) } else { Err(self.error(JsonErrorKind::UnexpectedByte)) }
    }

    /// The value at the current position, inside `depth` arrays and objects.
    fn value(&mut self, depth: usize) -> Result<OwnedValue, JsonError> {
        match self.peek() {
            None => Err(self.error(JsonErrorKind::UnexpectedEnd)),
            Some(b'{' | b'[') if depth >= MAX_DEPTH => Err(self.error(JsonErrorKind::TooDeep)),
            Some(b'{') => {
                self.pos += 1;
                let mut members: Vec<(String, OwnedValue)> = Vec::new();
                self.ws();
                if self.eat("}") {
                    return Ok(OwnedValue::Object(members));
                }
                loop {
                    if self.peek() != Some(b'"') {
                        return Err(self.unexpected());
                    }
                    let key = self.string()?;
                    self.ws();
                    if !self.eat(":") {
                        return Err(self.unexpected());
                    }
                    self.ws();
                    let v = self.value(depth + 1)?;
                    match members.iter_mut().find(|(k, _)| *k == key) {
                        Some(slot) => slot.1 = v,
                        None => members.push((key, v)),
                    }
                    self.ws();
                    if self.eat(",") {
                        self.ws();
                    } else if self.eat("}") {
                        return Ok(OwnedValue::Object(members));
                    } else {
                        return Err(self.unexpected());
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat("]") {
                    return Ok(OwnedValue::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    if self.eat(",") {
                        self.ws();
                    } else if self.eat("]") {
                        return Ok(OwnedValue::Array(items));
                    } else {
                        return Err(self.unexpected());
                    }
                }
            }
            Some(b'"') => Ok(OwnedValue::Str(self.string()?)),
            Some(b't') => self.literal("true", OwnedValue::Bool(true)),
            Some(b'f') => self.literal("false", OwnedValue::Bool(false)),
            Some(b'n') => self.literal("null", OwnedValue::Null),
            Some(b'N') => self.literal("NaN", OwnedValue::Str("NaN".into())),
            Some(b'I') => self.literal("Infinity", OwnedValue::Str("Infinity".into())),
            Some(b'-') if self.s.get(self.pos + 1) == Some(&b'I') => {
                self.literal("-Infinity", OwnedValue::Str("-Infinity".into()))
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error(JsonErrorKind::UnexpectedByte)),
        }
    }

    /// A number: `-`, then `0` or digits not starting with `0` (so `01` is
    /// the number `0` followed by an unexpected `1`), then an optional
    /// fraction and exponent.
    fn number(&mut self) -> Result<OwnedValue, JsonError> {
        let start = self.pos;
        let invalid = error_at(start, JsonErrorKind::InvalidNumber);
        let digits = |p: &mut Self| {
            let s = p.pos;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.pos += 1;
            }
            p.pos - s
        };
        self.eat("-");
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(invalid),
        }
        let mut float = false;
        if self.eat(".") {
            float = true;
            if digits(self) == 0 {
                return Err(invalid);
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            float = true;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(invalid);
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.pos]).expect("a number is ASCII");
        if !float && let Ok(i) = text.parse::<i64>() {
            return Ok(OwnedValue::Int(i));
        }
        // A number too large for a float (`1e400`) is kept as its text, as
        // NaN and Infinity are: values are never non-finite floats.
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(OwnedValue::Float(f)),
            _ => Ok(OwnedValue::Str(text.to_string())),
        }
    }

    /// The string at the current `"`, decoded. Raw control characters are
    /// accepted, as the runtime's scanner accepts them.
    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(b) = self.peek() else { return Err(self.error(JsonErrorKind::UnexpectedEnd)) };
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    let backslash = self.pos;
                    let Some(&escape) = self.s.get(self.pos + 1) else {
                        self.pos += 1;
                        return Err(self.error(JsonErrorKind::UnexpectedEnd));
                    };
                    self.pos += 2;
                    let invalid = error_at(backslash, JsonErrorKind::InvalidEscape);
                    match escape {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4().ok_or(invalid)?;
                            let low = self.s[self.pos..].starts_with(b"\\u")
                                && (0xD800..0xDC00).contains(&hi)
                                && self
                                    .s
                                    .get(self.pos + 2..self.pos + 6)
                                    .and_then(hex4)
                                    .is_some_and(|lo| (0xDC00..0xE000).contains(&lo));
                            let c = if low {
                                self.pos += 2;
                                let lo = self.hex4().expect("checked");
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(c.unwrap_or('\u{FFFD}'));
                        }
                        _ => return Err(invalid),
                    }
                }
                _ => {
                    // One whole UTF-8 character: the text is a `&str`.
                    let len = match b {
                        0x00..=0x7f => 1,
                        0xc0..=0xdf => 2,
                        0xe0..=0xef => 3,
                        _ => 4,
                    };
                    let ch = std::str::from_utf8(&self.s[self.pos..self.pos + len]).expect("the text is UTF-8");
                    out.push_str(ch);
                    self.pos += len;
                }
            }
        }
    }

    /// The four hex digits at the current position, consumed.
    fn hex4(&mut self) -> Option<u32> {
        let v = self.s.get(self.pos..self.pos + 4).and_then(hex4)?;
        self.pos += 4;
        Some(v)
    }
}

fn hex4(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0, |v, &d| Some(v * 16 + (d as char).to_digit(16)?))
}

fn error_at(offset: usize, kind: JsonErrorKind) -> JsonError {
    JsonError { offset: offset as u32, kind }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_json() {
        let v = parse_json(r#"{"a": NaN, "b": [1, 2.5, -Infinity], "c": "\ud800x\ud83d\ude00", "a": 3}"#).unwrap();
        assert_eq!(v.member("a"), Some(&OwnedValue::Int(3)));
        assert_eq!(
            v.member("b"),
            Some(&OwnedValue::Array(vec![
                OwnedValue::Int(1),
                OwnedValue::Float(2.5),
                OwnedValue::Str("-Infinity".into())
            ]))
        );
        assert_eq!(v.member("c"), Some(&OwnedValue::Str("\u{FFFD}x\u{1F600}".into())));
        let mut out = String::new();
        v.write_json(&mut out);
        assert_eq!(out, r#"{"a":3,"b":[1,2.5,"-Infinity"],"c":"�x😀"}"#);
    }

    #[test]
    fn rejects() {
        for bad in ["", "{", "[1,]", "01", "{\"a\" 1}", "tru", "\"\\x\"", "1 2"] {
            assert!(parse_json(bad).is_err(), "{bad}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse_json(&deep).is_err());
    }

    /// The evaluator's reader and the runtime's scanner reject the same text
    /// with the same error.
    #[test]
    fn errors_are_the_scanners() {
        let cases = [
            ("", "unexpected end of input at byte 0"),
            ("  ", "unexpected end of input at byte 2"),
            ("{", "unexpected end of input at byte 1"),
            (r#"{"a" 1}"#, "unexpected character at byte 5"),
            (r#"{"a": tru}"#, "unexpected character at byte 6"),
            (r#"{"a":1,}"#, "unexpected character at byte 7"),
            (r#"{"a":1 "b":2}"#, "unexpected character at byte 7"),
            (r#"{1:2}"#, "unexpected character at byte 1"),
            ("[1,]", "unexpected character at byte 3"),
            ("[1 2]", "unexpected character at byte 3"),
            ("[1", "unexpected end of input at byte 2"),
            ("01", "unexpected character at byte 1"),
            ("1 2", "unexpected character at byte 2"),
            ("nul", "unexpected character at byte 0"),
            ("-Inf", "unexpected character at byte 0"),
            ("x", "unexpected character at byte 0"),
            ("[-]", "invalid number at byte 1"),
            ("[1.]", "invalid number at byte 1"),
            ("[1.5e+]", "invalid number at byte 1"),
            (r#"["\x"]"#, "invalid escape in string at byte 2"),
            (r#"{"a": "\u12"}"#, "invalid escape in string at byte 7"),
            (r#""\ud800\u12x""#, "invalid escape in string at byte 7"),
            (r#""abc"#, "unexpected end of input at byte 4"),
            ("\"abc\\", "unexpected end of input at byte 5"),
        ];
        for (text, want) in cases {
            let scanned = uml_runtime::json::scan_value(text.as_bytes()).map(|_| ());
            assert_eq!(parse_json(text).map(|_| ()), scanned, "{text:?}");
            assert_eq!(parse_json(text).unwrap_err().to_string(), want, "{text:?}");
        }
    }

    /// Only arrays and objects count towards the nesting limit.
    #[test]
    fn depth_counts_containers() {
        let nested = |n: usize, inner: &str| format!("{}{inner}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse_json(&nested(MAX_DEPTH, "1")).is_ok());
        assert!(parse_json(&nested(MAX_DEPTH, "")).is_ok());
        let error = parse_json(&nested(MAX_DEPTH, "[]")).unwrap_err();
        assert_eq!(error.to_string(), "arrays and objects nested deeper than 128 at byte 128");
    }
}
