//! Owned values for the reference evaluator, and the simple JSON reader and
//! writer it uses. Deliberately plain: a tree of owned values, so that the
//! optimized executor, which works on borrowed byte ranges, has an
//! independent oracle to be compared with.

use std::fmt::Write as _;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<Value>),
    /// Members in first-seen order; a repeated key keeps its last value.
    Object(Vec<(String, Value)>),
}

impl Value {
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    pub fn member(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Writes the value as compact JSON.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => uml_runtime::stdlib::number::format_float(*f, out),
            Value::Str(s) => write_json_string(s, out),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Value::Object(members) => {
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

/// RFC 8259 string escaping, one character at a time.
pub fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The deepest nesting `parse_json` accepts, as in the executor.
pub const MAX_JSON_DEPTH: usize = 128;

/// Parses JSON (plus Python's `NaN`, `Infinity`, `-Infinity`, read as the
/// strings of the same spelling) into a [`Value`]. Recursive descent with a
/// depth limit, so recursion is bounded.
pub fn parse_json(text: &str) -> Result<Value, &'static str> {
    let mut p = JsonParser { s: text.as_bytes(), pos: 0 };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.pos != p.s.len() {
        return Err("trailing characters after the JSON value");
    }
    Ok(v)
}

struct JsonParser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
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

    fn value(&mut self, depth: usize) -> Result<Value, &'static str> {
        if depth >= MAX_JSON_DEPTH {
            return Err("JSON nested too deeply");
        }
        match self.s.get(self.pos) {
            None => Err("unexpected end of JSON"),
            Some(b'{') => {
                self.pos += 1;
                let mut members: Vec<(String, Value)> = Vec::new();
                self.ws();
                if self.eat("}") {
                    return Ok(Value::Object(members));
                }
                loop {
                    self.ws();
                    if self.s.get(self.pos) != Some(&b'"') {
                        return Err("expected a key");
                    }
                    let key = self.string()?;
                    self.ws();
                    if !self.eat(":") {
                        return Err("expected `:`");
                    }
                    self.ws();
                    let v = self.value(depth + 1)?;
                    match members.iter_mut().find(|(k, _)| *k == key) {
                        Some(slot) => slot.1 = v,
                        None => members.push((key, v)),
                    }
                    self.ws();
                    if self.eat(",") {
                        continue;
                    }
                    if self.eat("}") {
                        return Ok(Value::Object(members));
                    }
                    return Err("expected `,` or `}`");
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat("]") {
                    return Ok(Value::Array(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    if self.eat(",") {
                        continue;
                    }
                    if self.eat("]") {
                        return Ok(Value::Array(items));
                    }
                    return Err("expected `,` or `]`");
                }
            }
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b't') if self.eat("true") => Ok(Value::Bool(true)),
            Some(b'f') if self.eat("false") => Ok(Value::Bool(false)),
            Some(b'n') if self.eat("null") => Ok(Value::Null),
            Some(b'N') if self.eat("NaN") => Ok(Value::Str("NaN".into())),
            Some(b'I') if self.eat("Infinity") => Ok(Value::Str("Infinity".into())),
            Some(b'-') if self.eat("-Infinity") => Ok(Value::Str("-Infinity".into())),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err("unexpected character in JSON"),
        }
    }

    fn number(&mut self) -> Result<Value, &'static str> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while matches!(p.s.get(p.pos), Some(b'0'..=b'9')) {
                p.pos += 1;
            }
            p.pos - s
        };
        self.eat("-");
        let int_start = self.pos;
        if digits(self) == 0 || (self.s[int_start] == b'0' && self.pos - int_start > 1) {
            return Err("invalid number");
        }
        let mut float = false;
        if self.eat(".") {
            float = true;
            if digits(self) == 0 {
                return Err("invalid number");
            }
        }
        if matches!(self.s.get(self.pos), Some(b'e' | b'E')) {
            float = true;
            self.pos += 1;
            if matches!(self.s.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err("invalid number");
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.pos]).map_err(|_| "invalid number")?;
        if !float {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Value::Int(i));
            }
        }
        // A number too large for a float (`1e400`) is kept as its text, as
        // NaN and Infinity are: values are never non-finite floats.
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            Ok(_) => Ok(Value::Str(text.to_string())),
            Err(_) => Err("invalid number"),
        }
    }

    fn string(&mut self) -> Result<String, &'static str> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(&b) = self.s.get(self.pos) else { return Err("unterminated string") };
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    let esc = *self.s.get(self.pos + 1).ok_or("unterminated string")?;
                    self.pos += 2;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi) && self.s[self.pos..].starts_with(b"\\u") {
                                let save = self.pos;
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                } else {
                                    self.pos = save;
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(c.unwrap_or('\u{FFFD}'));
                        }
                        _ => return Err("invalid escape in string"),
                    }
                }
                _ => {
                    // Copy one UTF-8 character (the input is valid UTF-8).
                    let len = match b {
                        0x00..=0x7f => 1,
                        0xc0..=0xdf => 2,
                        0xe0..=0xef => 3,
                        _ => 4,
                    };
                    let end = (self.pos + len).min(self.s.len());
                    let ch = std::str::from_utf8(&self.s[self.pos..end]).map_err(|_| "invalid UTF-8")?;
                    out.push_str(ch);
                    self.pos = end;
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, &'static str> {
        let digits = self.s.get(self.pos..self.pos + 4).ok_or("invalid \\u escape")?;
        let text = std::str::from_utf8(digits).map_err(|_| "invalid \\u escape")?;
        let v = u32::from_str_radix(text, 16).map_err(|_| "invalid \\u escape")?;
        self.pos += 4;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_json() {
        let v = parse_json(r#"{"a": NaN, "b": [1, 2.5, -Infinity], "c": "\ud800x\ud83d\ude00", "a": 3}"#).unwrap();
        assert_eq!(v.member("a"), Some(&Value::Int(3)));
        assert_eq!(
            v.member("b"),
            Some(&Value::Array(vec![Value::Int(1), Value::Float(2.5), Value::Str("-Infinity".into())]))
        );
        assert_eq!(v.member("c"), Some(&Value::Str("\u{FFFD}x\u{1F600}".into())));
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
}
