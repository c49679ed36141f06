//! The definitions of the functions of `docs/language.md` §10: signature and
//! implementation of each, on the kernels of the sibling modules. A function
//! with a module of its own (`parse_common_log`) defines itself there.

use super::json_string::push_json_str;
use super::level::{Scale, level_from_number, parse_level};
use super::native::{Arg, Args, Context, Fails, Failure, Kinds, Native, Param, Ret, Returns};
use super::{ansi, klog, logfmt, number, text, timestamp};
use crate::json::{self, JsonKind, RawValue};

const S: Kinds = Kinds::STRING;
const ANY: Kinds = Kinds::JSON.union(Kinds::REGEX);
const STR_OR_RE: Kinds = Kinds::STRING.union(Kinds::REGEX);
const STRING: Returns = Returns::Kinds(Kinds::STRING);
const BOOL: Returns = Returns::Kinds(Kinds::BOOL);
const INT: Returns = Returns::Kinds(Kinds::INT);
const OBJECT: Returns = Returns::Kinds(Kinds::OBJECT);
const VALUE: Param = Param::new("value", S);

type Result<'a> = std::result::Result<Ret<'a>, Failure>;

// ---- Parsing (§10.1) ----

pub const PARSE_JSON: Native = Native {
    name: "parse_json",
    params: &[VALUE],
    fails: Fails::Always,
    returns: Returns::Kinds(Kinds::JSON),
    call: Some(parse_json),
};

fn parse_json<'a>(args: Args<'a, '_>, out: &mut String, _: &Context) -> Result<'a> {
    let s = args.string(0)?;
    let raw = json::scan_value(s.as_bytes()).map_err(|e| Failure::at(e.what(), e.offset))?;
    out.push_str(std::str::from_utf8(raw.text(s.as_bytes())).unwrap_or("null"));
    Ok(Ret::WrittenJson(raw.kind))
}

pub const PARSE_REGEX: Native = Native {
    name: "parse_regex",
    params: &[
        VALUE,
        Param::literal("pattern", Kinds::REGEX, true),
        Param::literal("numeric_groups", Kinds::BOOL, false),
    ],
    fails: Fails::Always,
    returns: OBJECT,
    call: Some(parse_regex),
};

fn parse_regex<'a>(args: Args<'a, '_>, out: &mut String, _: &Context) -> Result<'a> {
    let s = args.string(0)?;
    let numeric = args.bool_or(2, false)?;
    let re = args.regex(1).ok_or(Failure::new("parse_regex needs a pattern"))?;
    let Some(caps) = re.captures(s) else { return Err(Failure::new("the pattern does not match")) };
    Ok(write_captures(re, numeric, |i| caps.get(i).map(|m| m.as_str()), out))
}

/// Writes the object `parse_regex` returns: each named group, and with
/// `numeric` each unnamed one under its number, with its text or null.
/// `group(i)` is the text group `i` matched.
pub fn write_captures<'t>(
    re: &regex::Regex,
    numeric: bool,
    group: impl Fn(usize) -> Option<&'t str>,
    out: &mut String,
) -> Ret<'static> {
    let mut members = ObjectWriter::new(out);
    for (i, name) in re.capture_names().enumerate() {
        let out = match name {
            Some(n) => members.key(n),
            None if numeric => members.numbered_key(i),
            None => continue,
        };
        match group(i) {
            Some(text) => push_json_str(out, text),
            None => out.push_str("null"),
        }
    }
    members.end()
}

pub const PARSE_KLOG: Native =
    Native { name: "parse_klog", params: &[VALUE], fails: Fails::Always, returns: OBJECT, call: Some(parse_klog) };

fn parse_klog<'a>(args: Args<'a, '_>, out: &mut String, cx: &Context) -> Result<'a> {
    let k = klog::parse_klog(args.string(0)?).map_err(|e| Failure::new(e.message()))?;
    let ts = k.timestamp(cx.now_ns).map_err(|e| Failure::new(e.message()))?;
    let mut members = ObjectWriter::new(out);
    push_json_str(members.key("level"), k.level.as_str());
    number::format_int(ts, members.key("timestamp"));
    number::format_int(k.id as i64, members.key("id"));
    push_json_str(members.key("file"), k.file);
    number::format_int(i64::from(k.line), members.key("line"));
    push_json_str(members.key("message"), k.message);
    Ok(members.end())
}

pub const PARSE_LOGFMT: Native =
    Native { name: "parse_logfmt", params: &[VALUE], fails: Fails::Always, returns: OBJECT, call: Some(parse_logfmt) };

fn parse_logfmt<'a>(args: Args<'a, '_>, out: &mut String, _: &Context) -> Result<'a> {
    let s = args.string(0)?;
    if let Some(Err(e)) = logfmt::parse_logfmt(s).find(|p| p.is_err()) {
        return Err(Failure::new(e.message()));
    }
    // Members in first-seen order, a repeated key keeping its last value.
    let pairs = || logfmt::parse_logfmt(s).filter_map(std::result::Result::ok);
    let mut members = ObjectWriter::new(out);
    let mut decoded = String::new();
    for (i, pair) in pairs().enumerate() {
        if pairs().take(i).any(|p| p.key == pair.key) {
            continue;
        }
        let last = pairs().filter(|p| p.key == pair.key).last().unwrap_or(pair);
        let out = members.key(pair.key);
        match last.value {
            logfmt::LogfmtValue::True => out.push_str("true"),
            logfmt::LogfmtValue::Str(v) => push_json_str(out, v),
            logfmt::LogfmtValue::Escaped(body) => {
                decoded.clear();
                logfmt::unescape_logfmt(body, &mut decoded);
                push_json_str(out, &decoded);
            }
        }
    }
    Ok(members.end())
}

pub const PARSE_TIMESTAMP: Native = Native {
    name: "parse_timestamp",
    params: &[VALUE, Param::literal("format", S, true)],
    fails: Fails::Always,
    returns: INT,
    call: Some(parse_timestamp),
};

fn parse_timestamp<'a>(args: Args<'a, '_>, _: &mut String, _: &Context) -> Result<'a> {
    let ns = timestamp::parse_timestamp(args.string(0)?, args.string(1)?).map_err(|e| Failure::new(e.message()))?;
    Ok(Ret::Int(ns))
}

// ---- Strings (§10.2) ----

pub const STRIP_ANSI_ESCAPE_CODES: Native = Native {
    name: "strip_ansi_escape_codes",
    params: &[VALUE],
    fails: Fails::Never,
    returns: STRING,
    call: Some(strip_ansi_escape_codes),
};

fn strip_ansi_escape_codes<'a>(args: Args<'a, '_>, out: &mut String, _: &Context) -> Result<'a> {
    let s = args.string(0)?;
    if !ansi::needs_strip(s) {
        return Ok(Ret::Str(s));
    }
    ansi::strip_ansi_escape_codes(s, out);
    Ok(Ret::Written)
}

pub const UPCASE: Native =
    Native { name: "upcase", params: &[VALUE], fails: Fails::Never, returns: STRING, call: Some(upcase) };

fn upcase<'a>(args: Args<'a, '_>, out: &mut String, _: &Context) -> Result<'a> {
    text::upcase(args.string(0)?, out);
    Ok(Ret::Written)
}

pub const DOWNCASE: Native =
    Native { name: "downcase", params: &[VALUE], fails: Fails::Never, returns: STRING, call: Some(downcase) };

fn downcase<'a>(args: Args<'a, '_>, out: &mut String, _: &Context) -> Result<'a> {
    text::downcase(args.string(0)?, out);
    Ok(Ret::Written)
}

pub const TRIM: Native =
    Native { name: "trim", params: &[VALUE], fails: Fails::Never, returns: STRING, call: Some(trim) };

fn trim<'a>(args: Args<'a, '_>, _: &mut String, _: &Context) -> Result<'a> {
    Ok(Ret::Str(text::trim(args.string(0)?)))
}

const SUBSTRING: &[Param] = &[VALUE, Param::new("substring", S), Param::optional("case_sensitive", Kinds::BOOL)];

pub const CONTAINS: Native =
    Native { name: "contains", params: SUBSTRING, fails: Fails::Never, returns: BOOL, call: Some(contains) };

fn contains<'a>(args: Args<'a, '_>, _: &mut String, _: &Context) -> Result<'a> {
    Ok(Ret::Bool(text::contains(args.string(0)?, args.string(1)?, args.bool_or(2, true)?)))
}

pub const STARTS_WITH: Native =
    Native { name: "starts_with", params: SUBSTRING, fails: Fails::Never, returns: BOOL, call: Some(starts_with) };

fn starts_with<'a>(args: Args<'a, '_>, _: &mut String, _: &Context) -> Result<'a> {
    Ok(Ret::Bool(text::starts_with(args.string(0)?, args.string(1)?, args.bool_or(2, true)?)))
}

pub const ENDS_WITH: Native =
    Native { name: "ends_with", params: SUBSTRING, fails: Fails::Never, returns: BOOL, call: Some(ends_with) };

fn ends_with<'a>(args: Args<'a, '_>, _: &mut String, _: &Context) -> Result<'a> {
    Ok(Ret::Bool(text::ends_with(args.string(0)?, args.string(1)?, args.bool_or(2, true)?)))
}

pub const REPLACE: Native = Native {
    name: "replace",
    params: &[VALUE, Param::new("pattern", STR_OR_RE), Param::new("with", S), Param::optional("count", Kinds::INT)],
    fails: Fails::Never,
    returns: STRING,
    call: Some(replace),
};

fn replace<'a>(args: Args<'a, '_>, out: &mut String, _: &Context) -> Result<'a> {
    let s = args.string(0)?;
    let with = args.string(2)?;
    let count = args.int_or(3, -1)?;
    let Some(re) = args.regex(1) else {
        text::replace(s, args.string(1)?, with, count, out);
        return Ok(Ret::Written);
    };
    // `count` below 0 replaces every match, as 0 does for the regex crate.
    let limit = usize::try_from(count).unwrap_or(0);
    if with.contains('$') {
        // `$name` expansion: the regex crate's own.
        out.push_str(&re.replacen(s, limit, with));
        return Ok(Ret::Written);
    }
    // A literal replacement: no captures, no allocation.
    let mut last = 0;
    for (n, m) in re.find_iter(s).enumerate() {
        if limit != 0 && n == limit {
            break;
        }
        out.push_str(&s[last..m.start()]);
        out.push_str(with);
        last = m.end();
    }
    if last == 0 && out.is_empty() {
        return Ok(Ret::Str(s));
    }
    out.push_str(&s[last..]);
    Ok(Ret::Written)
}

pub const SPLIT: Native = Native {
    name: "split",
    params: &[VALUE, Param::new("pattern", STR_OR_RE), Param::optional("limit", Kinds::INT)],
    fails: Fails::Never,
    returns: Returns::Kinds(Kinds::ARRAY),
    call: Some(split),
};

fn split<'a>(args: Args<'a, '_>, out: &mut String, _: &Context) -> Result<'a> {
    let s = args.string(0)?;
    let limit = args.int_or(2, -1)?;
    let mut elements = ArrayWriter::new(out);
    match args.regex(1) {
        Some(re) if limit < 0 => re.split(s).for_each(|p| push_json_str(elements.element(), p)),
        Some(re) => re.splitn(s, limit as usize).for_each(|p| push_json_str(elements.element(), p)),
        None => text::split(s, args.string(1)?, limit).for_each(|p| push_json_str(elements.element(), p)),
    }
    Ok(elements.end())
}

pub const SLICE: Native = Native {
    name: "slice",
    params: &[
        Param::new("value", Kinds::STRING.union(Kinds::ARRAY)),
        Param::new("start", Kinds::INT),
        Param::optional("end", Kinds::INT),
    ],
    fails: Fails::Always,
    returns: Returns::SameContainer,
    call: Some(slice),
};

fn slice<'a>(args: Args<'a, '_>, out: &mut String, _: &Context) -> Result<'a> {
    let start = args.int_or(1, 0)?;
    let end = match args.get(2) {
        None => None,
        Some(_) => Some(args.int_or(2, 0)?),
    };
    match args.get(0) {
        Some(Arg::Str(s)) => Ok(Ret::Str(text::slice(s, start, end).map_err(|e| Failure::new(e.message()))?)),
        Some(Arg::Json(bytes, raw)) if raw.kind == JsonKind::Array => {
            let len = json::container_len(bytes, raw) as i64;
            let norm = |p: i64| if p < 0 { len + p } else { p };
            let (s, e) = (norm(start), end.map_or(len, |e| norm(e).min(len)));
            if s < 0 || s > len || e < s {
                return Err(Failure::new("slice bounds out of range"));
            }
            let mut elements = ArrayWriter::new(out);
            let mut i = 0;
            json::for_each_element(bytes, raw, |el| {
                if i >= s && i < e {
                    elements.element().push_str(std::str::from_utf8(el.text(bytes)).unwrap_or("null"));
                }
                i += 1;
                i < e
            });
            Ok(elements.end())
        }
        Some(other) => Err(Failure::kind("cannot slice ", other.kind(), "")),
        None => Err(Failure::new("missing argument")),
    }
}

pub const LENGTH: Native = Native {
    name: "length",
    params: &[Param::new("value", Kinds::STRING.union(Kinds::ARRAY).union(Kinds::OBJECT))],
    fails: Fails::Never,
    returns: INT,
    call: Some(length),
};

fn length<'a>(args: Args<'a, '_>, _: &mut String, _: &Context) -> Result<'a> {
    match args.get(0) {
        Some(Arg::Str(s)) => Ok(Ret::Int(text::length(s) as i64)),
        Some(Arg::Json(bytes, raw)) => Ok(Ret::Int(json::container_len(bytes, raw) as i64)),
        Some(other) => Err(Failure::kind("", other.kind(), " has no length")),
        None => Err(Failure::new("missing argument")),
    }
}

pub const TRUNCATE: Native = Native {
    name: "truncate",
    params: &[VALUE, Param::new("limit", Kinds::INT), Param::optional("suffix", S)],
    fails: Fails::Never,
    returns: STRING,
    call: Some(truncate),
};

fn truncate<'a>(args: Args<'a, '_>, out: &mut String, _: &Context) -> Result<'a> {
    let suffix = match args.get(2) {
        Some(Arg::Str(s)) => s,
        _ => "",
    };
    text::truncate(args.string(0)?, args.int_or(1, 0)?).write(suffix, out);
    Ok(Ret::Written)
}

// ---- Values (§10.3) ----

pub const TO_STRING: Native = Native {
    name: "to_string",
    params: &[Param::new("value", ANY)],
    fails: Fails::WhenFirstArgMay(Kinds::ARRAY.union(Kinds::OBJECT).union(Kinds::REGEX)),
    returns: STRING,
    call: Some(to_string),
};

fn to_string<'a>(args: Args<'a, '_>, out: &mut String, _: &Context) -> Result<'a> {
    match args.get(0) {
        Some(Arg::Str(s)) => Ok(Ret::Str(s)),
        Some(Arg::Int(i)) => {
            number::format_int(i, out);
            Ok(Ret::Written)
        }
        Some(Arg::Float(f)) => {
            number::format_float(f, out);
            Ok(Ret::Written)
        }
        Some(Arg::Bool(b)) => Ok(Ret::Str(if b { "true" } else { "false" })),
        Some(Arg::Null) | None => Ok(Ret::Str("")),
        Some(other) => Err(Failure::kind("cannot convert ", other.kind(), " to a string")),
    }
}

pub const TO_INT: Native = Native {
    name: "to_int",
    params: &[Param::new("value", ANY)],
    fails: Fails::WhenFirstArgMay(Kinds::STRING.union(Kinds::ARRAY).union(Kinds::OBJECT).union(Kinds::REGEX)),
    returns: INT,
    call: Some(to_int),
};

fn to_int<'a>(args: Args<'a, '_>, _: &mut String, _: &Context) -> Result<'a> {
    Ok(Ret::Int(match args.get(0) {
        Some(Arg::Int(i)) => i,
        Some(Arg::Float(f)) => f.trunc() as i64,
        Some(Arg::Bool(b)) => i64::from(b),
        Some(Arg::Null) | None => 0,
        Some(Arg::Str(s)) => number::parse_int(s).map_err(|e| Failure::new(e.message()))?,
        Some(other) => return Err(Failure::kind("cannot convert ", other.kind(), " to an int")),
    }))
}

pub const ENCODE_JSON: Native = Native {
    name: "encode_json",
    params: &[Param::new("value", Kinds::JSON)],
    fails: Fails::Never,
    returns: STRING,
    call: Some(encode_json),
};

fn encode_json<'a>(args: Args<'a, '_>, out: &mut String, _: &Context) -> Result<'a> {
    match args.get(0) {
        Some(Arg::Null) | None | Some(Arg::Regex(_)) => out.push_str("null"),
        Some(Arg::Bool(b)) => out.push_str(if b { "true" } else { "false" }),
        Some(Arg::Int(i)) => number::format_int(i, out),
        Some(Arg::Float(f)) => number::format_float(f, out),
        Some(Arg::Str(s)) => push_json_str(out, s),
        Some(Arg::Json(bytes, raw)) => json::write_compact(bytes, raw, out),
    }
    Ok(Ret::Written)
}

pub const EXISTS: Native =
    Native { name: "exists", params: &[Param::new("path", ANY)], fails: Fails::Never, returns: BOOL, call: None };

pub const IS_NULL: Native = Native {
    name: "is_null",
    params: &[Param::new("value", ANY)],
    fails: Fails::Never,
    returns: BOOL,
    call: Some(is_null),
};

fn is_null<'a>(args: Args<'a, '_>, _: &mut String, _: &Context) -> Result<'a> {
    Ok(Ret::Bool(matches!(args.get(0), Some(Arg::Null) | None)))
}

pub const IS_OBJECT: Native = Native {
    name: "is_object",
    params: &[Param::new("value", ANY)],
    fails: Fails::Never,
    returns: BOOL,
    call: Some(is_object),
};

fn is_object<'a>(args: Args<'a, '_>, _: &mut String, _: &Context) -> Result<'a> {
    Ok(Ret::Bool(matches!(args.get(0), Some(Arg::Json(_, raw)) if raw.kind == JsonKind::Object)))
}

pub const IS_STRING: Native = Native {
    name: "is_string",
    params: &[Param::new("value", ANY)],
    fails: Fails::Never,
    returns: BOOL,
    call: Some(is_string),
};

fn is_string<'a>(args: Args<'a, '_>, _: &mut String, _: &Context) -> Result<'a> {
    Ok(Ret::Bool(matches!(args.get(0), Some(Arg::Str(_)))))
}

pub const GET: Native = Native {
    name: "get",
    params: &[Param::new("value", Kinds::JSON), Param::new("path", Kinds::ARRAY)],
    fails: Fails::Never,
    returns: Returns::Kinds(Kinds::JSON),
    call: Some(get),
};

fn get<'a>(args: Args<'a, '_>, _: &mut String, _: &Context) -> Result<'a> {
    let Some(Arg::Json(path_bytes, path)) = args.get(1).filter(|a| a.kind() == "array") else {
        return Err(Failure::new("the path must be an array"));
    };
    // Every element is checked first, as a path is built whole.
    let mut bad = None;
    json::for_each_element(path_bytes, path, |el| {
        if !matches!(el.kind, JsonKind::String) && !is_int(path_bytes, el) {
            bad = Some(kind_name(path_bytes, el));
        }
        bad.is_none()
    });
    if let Some(kind) = bad {
        return Err(Failure::kind("a path element is a string or an int, not ", kind, ""));
    }
    let (bytes, mut at) = match args.get(0) {
        Some(Arg::Json(bytes, raw)) => (bytes, raw),
        // A path into a scalar finds nothing, and the empty path the value.
        Some(other) if json::get_element(path_bytes, path, 0).is_none() => return Ok(echo(other)),
        _ => return Ok(Ret::Null),
    };
    let mut key = String::new();
    let mut i = 0;
    while let Some(el) = json::get_element(path_bytes, path, i) {
        let found = if el.kind == JsonKind::String {
            key.clear();
            json::decode_str(std::str::from_utf8(el.string_body(path_bytes)).unwrap_or(""), &mut key);
            (at.kind == JsonKind::Object).then(|| json::get_member(bytes, at, key.as_bytes())).flatten()
        } else {
            let text = std::str::from_utf8(el.text(path_bytes)).unwrap_or("");
            let index = text.parse::<i64>().unwrap_or(i64::MAX);
            (at.kind == JsonKind::Array).then(|| json::get_element(bytes, at, index)).flatten()
        };
        match found {
            Some(raw) => at = raw,
            None => return Ok(Ret::Null),
        }
        i += 1;
    }
    Ok(Ret::Json(bytes, at))
}

/// An argument returned as it is.
fn echo(arg: Arg<'_>) -> Ret<'_> {
    match arg {
        Arg::Null | Arg::Regex(_) => Ret::Null,
        Arg::Bool(b) => Ret::Bool(b),
        Arg::Int(i) => Ret::Int(i),
        Arg::Float(f) => Ret::Float(f),
        Arg::Str(s) => Ret::Str(s),
        Arg::Json(bytes, raw) => Ret::Json(bytes, raw),
    }
}

/// Whether a JSON value is a number the language reads as an int.
fn is_int(bytes: &[u8], raw: RawValue) -> bool {
    raw.kind == JsonKind::Number
        && matches!(json::number_value(std::str::from_utf8(raw.text(bytes)).unwrap_or(""), raw), json::Number::Int(_))
}

/// The language's name of a JSON value's kind.
fn kind_name(bytes: &[u8], raw: RawValue) -> &'static str {
    match raw.kind {
        JsonKind::Null => "null",
        JsonKind::Bool => "bool",
        JsonKind::String => "string",
        JsonKind::Array => "array",
        JsonKind::Object => "object",
        JsonKind::Number => match json::number_value(std::str::from_utf8(raw.text(bytes)).unwrap_or(""), raw) {
            json::Number::Int(_) => "int",
            json::Number::Float(_) => "float",
            json::Number::Text => "string",
        },
    }
}

// ---- Levels (§10.4) ----

pub const LEVEL: Native = Native {
    name: "level",
    params: &[Param::new("value", Kinds::JSON), Param::literal("scale", S, false)],
    fails: Fails::Always,
    returns: Returns::Level,
    call: Some(level),
};

fn level<'a>(args: Args<'a, '_>, _: &mut String, _: &Context) -> Result<'a> {
    let scale = match args.get(1) {
        Some(Arg::Str(s)) => Scale::from_name(s),
        _ => None,
    };
    let level = match args.get(0) {
        Some(Arg::Str(s)) => parse_level(s, scale).map_err(|e| Failure::new(e.message()))?,
        Some(Arg::Int(n)) => match scale {
            Some(scale) => level_from_number(n, scale).ok_or(Failure::new("no level for this number"))?,
            None => return Err(Failure::new("a numeric level needs a `scale`")),
        },
        Some(other) => return Err(Failure::kind("", other.kind(), " is not a level")),
        None => return Err(Failure::new("missing argument")),
    };
    Ok(Ret::Str(level.as_str()))
}

// ---- Building results ----

/// Writes a JSON object member by member.
pub struct ObjectWriter<'o> {
    out: &'o mut String,
    first: bool,
}

impl<'o> ObjectWriter<'o> {
    pub fn new(out: &'o mut String) -> Self {
        out.push('{');
        ObjectWriter { out, first: true }
    }

    /// Writes the next key; the caller writes its value to the buffer
    /// returned.
    pub fn key(&mut self, key: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        push_json_str(self.out, key);
        self.out.push(':');
        self.out
    }

    /// Writes a key that is a number (`"2":`), as [`ObjectWriter::key`].
    pub fn numbered_key(&mut self, n: usize) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push('"');
        number::format_int(n as i64, self.out);
        self.out.push_str("\":");
        self.out
    }

    /// Closes the object.
    pub fn end(self) -> Ret<'static> {
        self.out.push('}');
        Ret::WrittenJson(JsonKind::Object)
    }
}

/// Writes a JSON array element by element.
pub struct ArrayWriter<'o> {
    out: &'o mut String,
    first: bool,
}

impl<'o> ArrayWriter<'o> {
    pub fn new(out: &'o mut String) -> Self {
        out.push('[');
        ArrayWriter { out, first: true }
    }

    /// The buffer to write the next element to.
    pub fn element(&mut self) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out
    }

    /// Closes the array.
    pub fn end(self) -> Ret<'static> {
        self.out.push(']');
        Ret::WrittenJson(JsonKind::Array)
    }
}
