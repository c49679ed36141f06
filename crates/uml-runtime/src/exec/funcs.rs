//! The standard library on slot values: argument checks with the reference
//! evaluator's messages, then the pure functions of [`crate::stdlib`].

use super::{Bufs, Executor, FALSE, Failed, LEVELS, Step, TRUE, text_in};
use crate::json::{self, JsonKind, RawValue};
use crate::plan::{Aux, Buf, Cmp, KLOG_FIELDS, Piece, Slot, Text, Value};
use crate::plan::{Container, Func, KindTest, NO_SLOT, RegexIdiom, Run};
use crate::stdlib::level::{Level, Scale, level_from_number, parse_level};
use crate::stdlib::{ansi, klog, logfmt, number, text, timestamp};
use std::cmp::Ordering;

fn level_text(level: Level) -> Text {
    LEVELS[match level {
        Level::Debug => 0,
        Level::Info => 1,
        Level::Warning => 2,
        Level::Error => 3,
    }]
}

/// The sub-range of `t` that `part`, a slice of `t`'s text, covers.
fn sub_text(t: Text, whole: &str, part: &str) -> Text {
    let off = (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize) as u32;
    Text { buf: t.buf, start: t.start + off, end: t.start + off + part.len() as u32 }
}

/// Where the groups of a capture match are, in the executor's capture
/// buffers.
#[derive(Clone, Copy)]
enum Groups {
    NoMatch,
    /// In the whole regex's buffer.
    Whole,
    /// In the buffer of the regex's head ([`crate::plan::RegexSplit`]),
    /// whose match is `start..end`; the group `lead` is the text before
    /// `start`, the group `rest` the text from `end` on.
    Split {
        head: usize,
        lead: Option<u16>,
        rest: Option<u16>,
        start: usize,
        end: usize,
    },
}

/// Whether trimming the JSON string body `raw` (undecoded, without `\u`
/// escapes or raw control characters) might change it. A body that starts
/// and ends with a printable ASCII character that is not part of an escape
/// keeps its decoded text whole under `trim`; anything else (whitespace, a
/// non-ASCII character, an escape at either end, an empty body) is left to
/// the decoding path.
fn needs_trim_raw(raw: &[u8]) -> bool {
    let plain = |c: u8| c.is_ascii_graphic() && c != b'\\';
    let (Some(&first), Some(&last)) = (raw.first(), raw.last()) else { return true };
    let escaped_last = raw.len() >= 2 && raw[raw.len() - 2] == b'\\';
    !plain(first) || !plain(last) || escaped_last
}

/// Appends `s` as a JSON string to a `String`.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    push_json_body(out, s);
    out.push('"');
}

/// Appends `s` escaped as the body of a JSON string.
pub(crate) fn push_json_body(out: &mut String, s: &str) {
    let mut run = 0;
    for (i, c) in s.bytes().enumerate() {
        let esc: &str = match c {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..0x20 => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(c >> 4)]));
            out.push(char::from(HEX[usize::from(c & 15)]));
        } else {
            out.push_str(esc);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
}

impl Executor<'_> {
    fn arg(&self, args: &[Slot], i: usize) -> Option<Value> {
        match args.get(i) {
            Some(&s) if s != NO_SLOT => Some(self.get(s)),
            _ => None,
        }
    }

    fn int_or(&mut self, args: &[Slot], i: usize, default: i64) -> Result<i64, Failed> {
        match self.arg(args, i) {
            None => Ok(default),
            Some(Value::Int(n)) => Ok(n),
            Some(other) => self.fail_parts(&["expected an int, found ", other.kind()]),
        }
    }

    fn bool_or(&mut self, args: &[Slot], i: usize, default: bool) -> Result<bool, Failed> {
        match self.arg(args, i) {
            None => Ok(default),
            Some(Value::Bool(v)) => Ok(v),
            Some(other) => self.fail_parts(&["expected a bool, found ", other.kind()]),
        }
    }

    /// The first argument's text when it is a JSON string body, still
    /// undecoded, with none of the `flags` (of [`RawValue`]).
    fn raw_json_string(&self, args: &[Slot], flags: u8) -> Option<Text> {
        match self.arg(args, 0)? {
            Value::JsonStr(t, f) if !f.any(flags) => Some(t),
            _ => None,
        }
    }

    fn string(&mut self, b: &Bufs<'_>, args: &[Slot], i: usize) -> Result<Text, Failed> {
        let v = self.arg(args, i);
        self.want_str(b, v)
    }

    fn scratch_text(&self, start: usize) -> Text {
        Text { buf: Buf::Scratch, start: start as u32, end: self.scratch.len() as u32 }
    }

    /// Moves what was built in `tmp` to the end of the scratch.
    fn commit_tmp(&mut self) -> Result<Text, Failed> {
        let start = self.scratch.len();
        self.scratch.push_str(&self.tmp);
        self.check_scratch()?;
        Ok(self.scratch_text(start))
    }

    pub(super) fn call(&mut self, b: &Bufs<'_>, dst: Slot, func: Func, args: &[Slot], aux: Aux) -> Step {
        let v = match func {
            // A JSON string whose body holds no `\u` escape and no raw
            // control character cannot hold an ESC: it stays undecoded, and
            // the record writer copies it through.
            Func::StripAnsiEscapeCodes
                if self.raw_json_string(args, RawValue::UNICODE | RawValue::CONTROL).is_some() =>
            {
                self.arg(args, 0).unwrap_or(Value::Null)
            }
            Func::Trim
                if self.raw_json_string(args, RawValue::UNICODE | RawValue::CONTROL).is_some_and(|t| {
                    let body = text_in(&self.scratch, b, t).as_bytes();
                    !needs_trim_raw(body)
                }) =>
            {
                self.arg(args, 0).unwrap_or(Value::Null)
            }
            Func::StripAnsiEscapeCodes => {
                let s = self.string(b, args, 0)?;
                if ansi::needs_strip(self.text(b, s)) {
                    Value::Str(self.produce(b, s, ansi::strip_ansi_escape_codes)?)
                } else {
                    Value::Str(s)
                }
            }
            Func::Upcase => {
                let s = self.string(b, args, 0)?;
                Value::Str(self.produce(b, s, text::upcase)?)
            }
            Func::Downcase => {
                let s = self.string(b, args, 0)?;
                Value::Str(self.produce(b, s, text::downcase)?)
            }
            Func::Trim => {
                let s = self.string(b, args, 0)?;
                let whole = self.text(b, s);
                Value::Str(sub_text(s, whole, text::trim(whole)))
            }
            Func::Contains | Func::StartsWith | Func::EndsWith => {
                let s = self.string(b, args, 0)?;
                let sub = self.string(b, args, 1)?;
                let case = self.bool_or(args, 2, true)?;
                let (s, sub) = (self.text(b, s), self.text(b, sub));
                Value::Bool(match func {
                    Func::Contains => text::contains(s, sub, case),
                    Func::StartsWith => text::starts_with(s, sub, case),
                    _ => text::ends_with(s, sub, case),
                })
            }
            Func::Replace => self.replace(b, args, aux)?,
            Func::Split => self.split(b, args, aux)?,
            Func::Slice => self.slice(b, args)?,
            Func::Length => match self.arg(args, 0) {
                None => return self.fail("missing argument"),
                Some(v) if v.is_string() => {
                    let t = self.str_text(b, v).unwrap_or(Text::EMPTY);
                    Value::Int(text::length(self.text(b, t)) as i64)
                }
                Some(Value::JsonContainer(t, c)) => Value::Int(self.container_len(b, t, c.kind()) as i64),
                Some(other) => return self.fail_parts(&[other.kind(), " has no length"]),
            },
            Func::ToString => match self.arg(args, 0) {
                Some(v) if v.is_string() => v,
                Some(Value::Int(i)) => {
                    let start = self.scratch.len();
                    number::format_int(i, &mut self.scratch);
                    Value::Str(self.scratch_text(start))
                }
                Some(Value::Float(f)) => {
                    let start = self.scratch.len();
                    number::format_float(f, &mut self.scratch);
                    Value::Str(self.scratch_text(start))
                }
                Some(Value::Bool(v)) => Value::Str(if v { TRUE } else { FALSE }),
                Some(Value::Null) | None => Value::Str(Text::EMPTY),
                Some(other) => return self.fail_parts(&["cannot convert ", other.kind(), " to a string"]),
            },
            Func::ToInt => match self.arg(args, 0) {
                Some(Value::Int(i)) => Value::Int(i),
                Some(Value::Float(f)) => Value::Int(f.trunc() as i64),
                Some(Value::Bool(v)) => Value::Int(i64::from(v)),
                Some(Value::Null) | None => Value::Int(0),
                Some(v) if v.is_string() => {
                    let t = self.str_text(b, v).unwrap_or(Text::EMPTY);
                    match number::parse_int(self.text(b, t)) {
                        Ok(i) => Value::Int(i),
                        Err(e) => return self.fail(e.message()),
                    }
                }
                Some(other) => return self.fail_parts(&["cannot convert ", other.kind(), " to an int"]),
            },
            Func::Truncate => {
                let s = self.string(b, args, 0)?;
                let limit = self.int_or(args, 1, 0)?;
                let suffix = match self.arg(args, 2) {
                    Some(v) if v.is_string() => self.str_text(b, v).unwrap_or(Text::EMPTY),
                    _ => Text::EMPTY,
                };
                self.tmp.clear();
                let (s, suffix) = (text_in(&self.scratch, b, s), text_in(&self.scratch, b, suffix));
                text::truncate(s, limit).write(suffix, &mut self.tmp);
                Value::Str(self.commit_tmp()?)
            }
            Func::IsNull => Value::Bool(matches!(self.arg(args, 0), Some(Value::Null) | None)),
            Func::IsObject => Value::Bool(self.arg(args, 0).is_some_and(|v| KindTest::Object.holds(v))),
            Func::IsString => Value::Bool(self.arg(args, 0).is_some_and(|v| KindTest::String.holds(v))),
            Func::Get => self.get_path(b, args)?,
            Func::Level => self.level(b, args, aux)?,
            Func::EncodeJson => {
                let v = self.arg(args, 0).unwrap_or(Value::Null);
                let start = self.scratch.len();
                self.tmp.clear();
                let mut out = std::mem::take(&mut self.tmp);
                self.write_json(b, v, &mut out);
                self.scratch.push_str(&out);
                self.tmp = out;
                self.check_scratch()?;
                Value::Str(self.scratch_text(start))
            }
            Func::ParseTimestamp => {
                let s = self.string(b, args, 0)?;
                let Aux::Format(f) = aux else { return self.fail("parse_timestamp needs a format") };
                let plan = self.plan;
                let (format, compiled) = &plan.formats[f as usize];
                let value = self.text(b, s);
                let parsed = match compiled {
                    Some(c) => c.parse(value),
                    None => timestamp::parse_timestamp(value, format),
                };
                match parsed {
                    Ok(ns) => Value::Int(ns),
                    Err(e) => return self.fail(e.message()),
                }
            }
            Func::ParseRegex => self.parse_regex(b, args, aux)?,
            Func::ParseLogfmt => self.parse_logfmt(b, args)?,
            Func::ParseJson | Func::ParseKlog | Func::Exists => {
                return self.fail("internal: this function is lowered to its own op");
            }
        };
        self.set(dst, v);
        Ok(())
    }

    fn container_len(&self, b: &Bufs<'_>, t: Text, kind: JsonKind) -> usize {
        let bytes = self.buffer(b, t.buf);
        let raw = json::RawValue { kind, start: t.start, end: t.end, flags: 0 };
        let mut n = 0;
        match kind {
            JsonKind::Array => json::for_each_element(bytes, raw, |_| {
                n += 1;
                true
            }),
            _ => {
                // Members with distinct keys: a repeated key counts once.
                json::for_each_member(bytes, raw, |key, _| {
                    let mut earlier = false;
                    json::for_each_member(bytes, raw, |k, _| {
                        if k.start >= key.start {
                            return false;
                        }
                        earlier |= same_key(bytes, k, key);
                        !earlier
                    });
                    n += usize::from(!earlier);
                    true
                });
            }
        }
        n
    }

    fn replace(&mut self, b: &Bufs<'_>, args: &[Slot], aux: Aux) -> Result<Value, Failed> {
        let s = self.string(b, args, 0)?;
        let pattern = match aux {
            Aux::Regex(_) => None,
            _ => Some(self.string(b, args, 1)?),
        };
        let with = self.string(b, args, 2)?;
        let count = self.int_or(args, 3, -1)?;
        self.tmp.clear();
        let plan = self.plan;
        let (st, wt) = (text_in(&self.scratch, b, s), text_in(&self.scratch, b, with));
        match (aux, pattern) {
            // What the idiom's regex would leave, without running it: a
            // part of the input, not a copy.
            (Aux::Regex(r), _) if wt.is_empty() && plan.regex_idioms.get(r as usize).copied().flatten().is_some() => {
                let kept = match plan.regex_idioms[r as usize] {
                    Some(RegexIdiom::TrailingWhitespace) => st.trim_end(),
                    _ => {
                        let first_line = memchr::memchr(b'\n', st.as_bytes()).unwrap_or(st.len());
                        match memchr::memrchr(b'\r', &st.as_bytes()[..first_line]) {
                            Some(cr) => &st[cr + 1..],
                            None => st,
                        }
                    }
                };
                return Ok(Value::Str(sub_text(s, st, kept)));
            }
            (Aux::Regex(r), _) => {
                let re = &plan.regexes[r as usize];
                let limit = usize::try_from(count).unwrap_or(0);
                if !wt.contains('$') {
                    // A literal replacement: no captures, no allocation.
                    let mut last = 0;
                    let mut changed = false;
                    for (n, m) in re.find_iter(st).enumerate() {
                        if limit != 0 && n == limit {
                            break;
                        }
                        self.tmp.push_str(&st[last..m.start()]);
                        self.tmp.push_str(wt);
                        last = m.end();
                        changed = true;
                    }
                    if !changed {
                        return Ok(Value::Str(s));
                    }
                    self.tmp.push_str(&st[last..]);
                } else {
                    // `$name` expansion: the regex crate's own, which allocates.
                    self.tmp.push_str(&re.replacen(st, limit, wt));
                }
            }
            (_, Some(p)) => {
                let pt = text_in(&self.scratch, b, p);
                text::replace(st, pt, wt, count, &mut self.tmp);
            }
            _ => return self.fail("missing argument"),
        }
        Ok(Value::Str(self.commit_tmp()?))
    }

    fn split(&mut self, b: &Bufs<'_>, args: &[Slot], aux: Aux) -> Result<Value, Failed> {
        let s = self.string(b, args, 0)?;
        let pattern = match aux {
            Aux::Regex(_) => None,
            _ => Some(self.string(b, args, 1)?),
        };
        let limit = self.int_or(args, 2, -1)?;
        self.tmp.clear();
        self.tmp.push('[');
        let plan = self.plan;
        let st = text_in(&self.scratch, b, s);
        let mut first = true;
        let mut piece = |out: &mut String, p: &str| {
            if !first {
                out.push(',');
            }
            first = false;
            push_json_str(out, p);
        };
        match (aux, pattern) {
            (Aux::Regex(r), _) => {
                let re = &plan.regexes[r as usize];
                if limit < 0 {
                    re.split(st).for_each(|p| piece(&mut self.tmp, p));
                } else {
                    re.splitn(st, limit as usize).for_each(|p| piece(&mut self.tmp, p));
                }
            }
            (_, Some(p)) => {
                let pt = text_in(&self.scratch, b, p);
                text::split(st, pt, limit).for_each(|p| piece(&mut self.tmp, p));
            }
            _ => return self.fail("missing argument"),
        }
        self.tmp.push(']');
        let t = self.commit_tmp()?;
        Ok(Value::JsonContainer(t, Container::Array))
    }

    fn slice(&mut self, b: &Bufs<'_>, args: &[Slot]) -> Result<Value, Failed> {
        let start = self.int_or(args, 1, 0)?;
        let end = match self.arg(args, 2) {
            None => None,
            Some(_) => Some(self.int_or(args, 2, 0)?),
        };
        match self.arg(args, 0) {
            Some(v) if v.is_string() => {
                let t = self.str_text(b, v).unwrap_or(Text::EMPTY);
                let whole = self.text(b, t);
                match text::slice(whole, start, end) {
                    Ok(part) => Ok(Value::Str(sub_text(t, whole, part))),
                    Err(e) => self.fail(e.message()),
                }
            }
            Some(Value::JsonContainer(t, Container::Array)) => {
                let len = self.container_len(b, t, JsonKind::Array) as i64;
                let norm = |p: i64| if p < 0 { len + p } else { p };
                let s = norm(start);
                let e = end.map_or(len, |e| norm(e).min(len));
                if s < 0 || s > len || e < s {
                    return self.fail("slice bounds out of range");
                }
                self.tmp.clear();
                self.tmp.push('[');
                let bytes = super::buffer_in(&self.scratch, b, t.buf);
                let raw = json::RawValue { kind: JsonKind::Array, start: t.start, end: t.end, flags: 0 };
                let mut i = 0;
                let tmp = &mut self.tmp;
                json::for_each_element(bytes, raw, |el| {
                    if i >= s && i < e {
                        if i > s {
                            tmp.push(',');
                        }
                        tmp.push_str(std::str::from_utf8(el.text(bytes)).unwrap_or("null"));
                    }
                    i += 1;
                    i < e
                });
                self.tmp.push(']');
                let t = self.commit_tmp()?;
                Ok(Value::JsonContainer(t, Container::Array))
            }
            Some(other) => self.fail_parts(&["cannot slice ", other.kind()]),
            None => self.fail("missing argument"),
        }
    }

    fn get_path(&mut self, b: &Bufs<'_>, args: &[Slot]) -> Result<Value, Failed> {
        let Some(Value::JsonContainer(pt, Container::Array)) = self.arg(args, 1) else {
            return self.fail("the path must be an array");
        };
        let path = json::RawValue { kind: JsonKind::Array, start: pt.start, end: pt.end, flags: 0 };
        // Check every element first, as the evaluator builds the whole path first.
        let mut i = 0;
        while let Some(el) = json::get_element(self.buffer(b, pt.buf), path, i) {
            let v = self.value_of_raw(b, pt.buf, el);
            if !(v.is_string() || matches!(v, Value::Int(_))) {
                return self.fail_parts(&["a path element is a string or an int, not ", v.kind()]);
            }
            i += 1;
        }
        let mut v = self.arg(args, 0).unwrap_or(Value::Null);
        for n in 0..i {
            let Some(el) = json::get_element(self.buffer(b, pt.buf), path, n) else { break };
            let Some((buf, raw)) = Self::raw_of(v) else { return Ok(Value::Null) };
            let found = match self.value_of_raw(b, pt.buf, el) {
                Value::Int(index) => json::get_element(self.buffer(b, buf), raw, index),
                _ => {
                    self.tmp.clear();
                    let body = &super::buffer_in(&self.scratch, b, pt.buf)[el.start as usize + 1..el.end as usize - 1];
                    super::decode_into(&mut self.tmp, body);
                    json::get_member(self.buffer(b, buf), raw, self.tmp.as_bytes())
                }
            };
            match found {
                Some(raw) => v = self.value_of_raw(b, buf, raw),
                None => return Ok(Value::Null),
            }
        }
        Ok(v)
    }

    fn level(&mut self, b: &Bufs<'_>, args: &[Slot], aux: Aux) -> Result<Value, Failed> {
        let scale: Option<Scale> = match aux {
            Aux::Scale(s) => s,
            _ => None,
        };
        let level = match self.arg(args, 0) {
            Some(v) if v.is_string() => {
                let t = self.str_text(b, v).unwrap_or(Text::EMPTY);
                match parse_level(self.text(b, t), scale) {
                    Ok(l) => l,
                    Err(e) => return self.fail(e.message()),
                }
            }
            Some(Value::Int(n)) => match scale {
                Some(scale) => match level_from_number(n, scale) {
                    Some(l) => l,
                    None => return self.fail("no level for this number"),
                },
                None => return self.fail("a numeric level needs a `scale`"),
            },
            Some(other) => return self.fail_parts(&[other.kind(), " is not a level"]),
            None => return self.fail("missing argument"),
        };
        Ok(Value::Str(level_text(level)))
    }

    fn parse_regex(&mut self, b: &Bufs<'_>, args: &[Slot], aux: Aux) -> Result<Value, Failed> {
        let s = self.string(b, args, 0)?;
        let numeric = self.bool_or(args, 2, false)?;
        let Aux::Regex(r) = aux else { return self.fail("parse_regex needs a pattern") };
        let plan = self.plan;
        let re = &plan.regexes[r as usize];
        let st = text_in(&self.scratch, b, s);
        let locs = &mut self.locs[r as usize];
        if re.captures_read(locs, st).is_none() {
            return self.fail("the pattern does not match");
        }
        self.tmp.clear();
        self.tmp.push('{');
        let mut first = true;
        for (i, name) in re.capture_names().enumerate() {
            let key_buf;
            let key = match name {
                Some(n) => n,
                None if numeric => {
                    key_buf = i.to_string();
                    key_buf.as_str()
                }
                None => continue,
            };
            if !first {
                self.tmp.push(',');
            }
            first = false;
            push_json_str(&mut self.tmp, key);
            self.tmp.push(':');
            match locs.get(i) {
                Some((a, z)) => push_json_str(&mut self.tmp, &st[a..z]),
                None => self.tmp.push_str("null"),
            }
        }
        self.tmp.push('}');
        let t = self.commit_tmp()?;
        Ok(Value::JsonContainer(t, Container::Object))
    }

    fn parse_logfmt(&mut self, b: &Bufs<'_>, args: &[Slot]) -> Result<Value, Failed> {
        let s = self.string(b, args, 0)?;
        let st = text_in(&self.scratch, b, s);
        // First pass: validate, so that a failure leaves nothing behind.
        for pair in logfmt::parse_logfmt(st) {
            if let Err(e) = pair {
                return self.fail(e.message());
            }
        }
        // Members in first-seen order, a repeated key keeping its last value.
        self.tmp.clear();
        self.tmp.push('{');
        let mut first = true;
        let pairs = || logfmt::parse_logfmt(st).filter_map(Result::ok);
        for (i, pair) in pairs().enumerate() {
            if pairs().take(i).any(|p| p.key == pair.key) {
                continue;
            }
            let last = pairs().filter(|p| p.key == pair.key).last().unwrap_or(pair);
            if !first {
                self.tmp.push(',');
            }
            first = false;
            push_json_str(&mut self.tmp, pair.key);
            self.tmp.push(':');
            match last.value {
                logfmt::LogfmtValue::True => self.tmp.push_str("true"),
                logfmt::LogfmtValue::Str(v) => push_json_str(&mut self.tmp, v),
                logfmt::LogfmtValue::Escaped(body) => {
                    let mut decoded = String::new();
                    logfmt::unescape_logfmt(body, &mut decoded);
                    push_json_str(&mut self.tmp, &decoded);
                }
            }
        }
        self.tmp.push('}');
        let t = self.commit_tmp()?;
        Ok(Value::JsonContainer(t, Container::Object))
    }

    /// `parse_klog`: the wanted fields straight to their slots; the object
    /// itself only when `whole`.
    pub(super) fn parse_klog(
        &mut self,
        b: &Bufs<'_>,
        dst: Slot,
        src: Value,
        fields: Run,
        whole: bool,
        now_ns: i64,
    ) -> Step {
        let Some(t) = self.str_text(b, src) else {
            return self.fail_parts(&["expected a string, found ", src.kind()]);
        };
        let st = text_in(&self.scratch, b, t);
        let k = match klog::parse_klog(st) {
            Ok(k) => k,
            Err(e) => return self.fail(e.message()),
        };
        let ts = match k.timestamp(now_ns) {
            Ok(ts) => ts,
            Err(e) => return self.fail(e.message()),
        };
        let values = [
            Value::Null, // level: below, it is not in the prelude for every klog level
            Value::Int(ts),
            Value::Int(k.id as i64),
            Value::Str(sub_text(t, st, k.file)),
            Value::Int(i64::from(k.line)),
            Value::Str(sub_text(t, st, k.message)),
        ];
        let level_name = k.level.as_str();
        let plan = self.plan;
        for &(field, slot) in fields.of(&plan.captures) {
            let v = if field == 0 { self.klog_level(level_name) } else { values[usize::from(field)] };
            self.set(slot, v);
        }
        if whole {
            self.tmp.clear();
            self.tmp.push('{');
            for (i, name) in KLOG_FIELDS.iter().enumerate() {
                if i > 0 {
                    self.tmp.push(',');
                }
                push_json_str(&mut self.tmp, name);
                self.tmp.push(':');
                let v = if i == 0 { self.klog_level(level_name) } else { values[i] };
                let mut out = std::mem::take(&mut self.tmp);
                self.write_json(b, v, &mut out);
                self.tmp = out;
            }
            self.tmp.push('}');
            let t = self.commit_tmp()?;
            self.set(dst, Value::JsonContainer(t, Container::Object));
        }
        Ok(())
    }

    fn klog_level(&mut self, name: &str) -> Value {
        match name {
            "DEBUG" => Value::Str(LEVELS[0]),
            "INFO" => Value::Str(LEVELS[1]),
            "WARNING" => Value::Str(LEVELS[2]),
            "ERROR" => Value::Str(LEVELS[3]),
            other => {
                let start = self.scratch.len();
                self.scratch.push_str(other);
                Value::Str(self.scratch_text(start))
            }
        }
    }

    pub(super) fn match_regex(
        &mut self,
        b: &Bufs<'_>,
        dst: Slot,
        src: Slot,
        regex: u32,
        negate: bool,
        captures: Run,
    ) -> Step {
        let v = self.get(src);
        let Some(t) = self.str_text(b, v) else { return self.fail("`=~` matches strings") };
        let plan = self.plan;
        let re = &plan.regexes[regex as usize];
        let st = text_in(&self.scratch, b, t);
        let caps = captures.of(&plan.captures);
        let matched = if caps.is_empty() {
            re.is_match(st)
        } else {
            // The split form first: the head's groups, the text before its
            // match and the rest of the line as the split-off groups. The
            // whole regex decides only where a `\n` lies in what those take;
            // where the head does not match, neither does the whole.
            let whole = |locs: &mut [regex::CaptureLocations]| match re.captures_read(&mut locs[regex as usize], st) {
                Some(_) => Groups::Whole,
                None => Groups::NoMatch,
            };
            let groups = match plan.regex_splits.get(regex as usize).copied().flatten() {
                Some(split) => {
                    let head = split.head as usize;
                    match plan.regexes[head].captures_read(&mut self.locs[head], st) {
                        None => Groups::NoMatch,
                        Some(m) => {
                            let bytes = st.as_bytes();
                            let lead_fits =
                                split.lead.is_none() || memchr::memchr(b'\n', &bytes[..m.start()]).is_none();
                            let rest_fits = split.rest.is_none() || memchr::memchr(b'\n', &bytes[m.end()..]).is_none();
                            if lead_fits && rest_fits {
                                let (lead, rest) = (split.lead, split.rest);
                                Groups::Split { head, lead, rest, start: m.start(), end: m.end() }
                            } else {
                                whole(&mut self.locs)
                            }
                        }
                    }
                }
                None => whole(&mut self.locs),
            };
            for &(group, slot) in caps {
                let span = match groups {
                    Groups::NoMatch => break,
                    Groups::Whole => self.locs[regex as usize].get(usize::from(group)),
                    Groups::Split { lead, rest, start, end, .. } if group == 0 => {
                        Some((if lead.is_some() { 0 } else { start }, if rest.is_some() { st.len() } else { end }))
                    }
                    Groups::Split { lead, start, .. } if Some(group) == lead => Some((0, start)),
                    Groups::Split { rest, end, .. } if Some(group) == rest => Some((end, st.len())),
                    Groups::Split { head, .. } => self.locs[head].get(usize::from(group)),
                };
                let v = match span {
                    Some((a, z)) => Value::Str(Text { buf: t.buf, start: t.start + a as u32, end: t.start + z as u32 }),
                    None => Value::Null,
                };
                if let Some(s) = self.slots.get_mut(usize::from(slot)) {
                    *s = v;
                }
            }
            !matches!(groups, Groups::NoMatch)
        };
        self.set(dst, Value::Bool(matched != negate));
        Ok(())
    }

    pub(super) fn compare(&mut self, b: &Bufs<'_>, cmp: Cmp, l: Value, r: Value) -> Result<bool, Failed> {
        let ordering = match cmp {
            Cmp::Eq => return Ok(self.equal(b, l, r)),
            Cmp::Ne => return Ok(!self.equal(b, l, r)),
            _ => match (l, r) {
                (Value::Int(x), Value::Int(y)) => x.cmp(&y),
                (x, y) if x.is_string() && y.is_string() => {
                    let (x, y) = (self.str_text(b, x), self.str_text(b, y));
                    let (x, y) = (x.unwrap_or(Text::EMPTY), y.unwrap_or(Text::EMPTY));
                    self.text(b, x).cmp(self.text(b, y))
                }
                (x, y) => match (number_of(x), number_of(y)) {
                    (Some(x), Some(y)) => match x.partial_cmp(&y) {
                        Some(o) => o,
                        None => return self.fail("cannot order NaN"),
                    },
                    _ => {
                        return self.fail_parts(&["cannot order ", x.kind(), " and ", y.kind()]);
                    }
                },
            },
        };
        Ok(match cmp {
            Cmp::Lt => ordering == Ordering::Less,
            Cmp::Le => ordering != Ordering::Greater,
            Cmp::Gt => ordering == Ordering::Greater,
            _ => ordering != Ordering::Less,
        })
    }

    pub(super) fn template(&mut self, b: &Bufs<'_>, dst: Slot, pieces: Run) -> Step {
        let plan = self.plan;
        let pieces = pieces.of(&plan.pieces);
        // Decode escaped JSON strings first, so that the pieces are all texts.
        self.tmp.clear();
        for piece in pieces {
            match *piece {
                Piece::Text(t) => {
                    let s = text_in(&self.scratch, b, t);
                    self.tmp.push_str(s);
                }
                Piece::Hole(slot) => match self.get(slot) {
                    Value::Str(t) => {
                        let s = text_in(&self.scratch, b, t);
                        self.tmp.push_str(s);
                    }
                    Value::JsonStr(t, _) => {
                        let body = text_in(&self.scratch, b, t);
                        super::decode_into(&mut self.tmp, body.as_bytes());
                    }
                    Value::Int(i) => number::format_int(i, &mut self.tmp),
                    Value::Float(f) => number::format_float(f, &mut self.tmp),
                    Value::Bool(v) => self.tmp.push_str(if v { "true" } else { "false" }),
                    other => return self.fail_parts(&["a template hole cannot print ", other.kind()]),
                },
            }
        }
        let t = self.commit_tmp()?;
        self.set(dst, Value::Str(t));
        Ok(())
    }

    pub(super) fn array(&mut self, b: &Bufs<'_>, dst: Slot, items: Run) -> Step {
        let plan = self.plan;
        let items = items.of(&plan.args);
        let mut out = std::mem::take(&mut self.tmp);
        out.clear();
        out.push('[');
        for (i, &slot) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            self.write_json(b, self.get(slot), &mut out);
        }
        out.push(']');
        self.tmp = out;
        let t = self.commit_tmp()?;
        self.set(dst, Value::JsonContainer(t, Container::Array));
        Ok(())
    }

    pub(super) fn object(&mut self, b: &Bufs<'_>, dst: Slot, entries: Run) -> Step {
        let plan = self.plan;
        let entries = entries.of(&plan.entries);
        let mut out = std::mem::take(&mut self.tmp);
        out.clear();
        out.push('{');
        for (i, &(key, slot)) in entries.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_str(&mut out, plan.const_str(key));
            out.push(':');
            self.write_json(b, self.get(slot), &mut out);
        }
        out.push('}');
        self.tmp = out;
        let t = self.commit_tmp()?;
        self.set(dst, Value::JsonContainer(t, Container::Object));
        Ok(())
    }
}

fn number_of(v: Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(i as f64),
        Value::Float(f) => Some(f),
        _ => None,
    }
}

/// Whether two raw keys decode to the same text.
pub(crate) fn same_key(bytes: &[u8], a: json::RawValue, b: json::RawValue) -> bool {
    if !a.has(json::RawValue::ESCAPED) && !b.has(json::RawValue::ESCAPED) {
        return a.string_body(bytes) == b.string_body(bytes);
    }
    let (mut x, mut y) = (String::new(), String::new());
    super::decode_into(&mut x, a.string_body(bytes));
    super::decode_into(&mut y, b.string_body(bytes));
    x == y
}
