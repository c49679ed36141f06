//! The standard library on slot values: argument checks with the reference
//! evaluator's messages, then the pure functions of [`crate::stdlib`].

use super::{Bufs, Executor, FALSE, Failed, LEVELS, Step, TRUE, text_in};
use crate::json::{self, JsonKind, RawValue};
use crate::plan::{Aux, Buf, Cmp, KLOG_FIELDS, Piece, Slot, Text, Value};
use crate::plan::{Container, Func, NO_SLOT, RegexIdiom, Run};
use crate::stdlib::json_string::push_json_str;
use crate::stdlib::level::parse_level;
use crate::stdlib::native::{Arg, Args, Context, Failure, Kinds, MAX_PARAMS, Ret};
use crate::stdlib::{ansi, builtins, klog, number, text, timestamp};
use std::cmp::Ordering;

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
            Some(other) => self.failure(Failure::kind("expected an int, found ", other.kind(), "")),
        }
    }

    fn bool_or(&mut self, args: &[Slot], i: usize, default: bool) -> Result<bool, Failed> {
        match self.arg(args, i) {
            None => Ok(default),
            Some(Value::Bool(v)) => Ok(v),
            Some(other) => self.failure(Failure::kind("expected a bool, found ", other.kind(), "")),
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

    /// A call: the executor's own operation where it has one (see
    /// [`Executor::fast_call`]), else the function's definition
    /// ([`Func::native`]).
    pub(super) fn call(&mut self, b: &Bufs<'_>, dst: Slot, func: Func, args: &[Slot], aux: Aux, now_ns: i64) -> Step {
        let v = match self.fast_call(b, func, args, aux)? {
            Some(v) => v,
            None => self.call_native(b, func, args, aux, now_ns)?,
        };
        self.set(dst, v);
        Ok(())
    }

    /// What the executor knows better than a call: a JSON string still
    /// undecoded that a function would leave as it is, a timestamp format
    /// compiled with the rule set, a regex's capture buffers allocated
    /// once, a regex idiom answered without running it. Each gives the
    /// definition's answer (the differential tests hold them to it);
    /// `None` when the call is left to the definition.
    fn fast_call(&mut self, b: &Bufs<'_>, func: Func, args: &[Slot], aux: Aux) -> Result<Option<Value>, Failed> {
        Ok(Some(match func {
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
            // A string passed through whole stays as it is, a JSON string
            // undecoded: the record writer copies it through.
            Func::ToString if self.arg(args, 0).is_some_and(Value::is_string) => {
                self.arg(args, 0).unwrap_or(Value::Null)
            }
            Func::StripAnsiEscapeCodes if self.arg(args, 0).is_some_and(Value::is_string) => {
                let s = self.string(b, args, 0)?;
                if ansi::needs_strip(self.text(b, s)) {
                    return Ok(None);
                }
                Value::Str(s)
            }
            Func::Trim if matches!(self.arg(args, 0), Some(Value::Str(_))) => {
                let s = self.string(b, args, 0)?;
                let whole = self.text(b, s);
                Value::Str(sub_text(s, whole, text::trim(whole)))
            }
            // The scale prepared with the rule set, the level's name a constant.
            Func::Level if self.arg(args, 0).is_some_and(Value::is_string) => {
                let scale = match aux {
                    Aux::Scale(s) => s,
                    _ => None,
                };
                let s = self.string(b, args, 0)?;
                match parse_level(self.text(b, s), scale) {
                    Ok(level) => Value::Str(LEVELS[level as usize]),
                    Err(e) => return self.fail(e.message()),
                }
            }
            Func::Replace => match self.regex_idiom(b, args, aux)? {
                Some(v) => v,
                None => return Ok(None),
            },
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
            Func::ParseJson | Func::ParseKlog | Func::Exists => {
                return self.fail("internal: this function is lowered to its own op");
            }
            _ => return Ok(None),
        }))
    }

    /// Calls the function's definition on the slot values: strings
    /// decoded, containers as their JSON text, literals from `aux`.
    #[inline(never)]
    fn call_native(&mut self, b: &Bufs<'_>, func: Func, args: &[Slot], aux: Aux, now_ns: i64) -> Result<Value, Failed> {
        let native = func.native();
        let Some(body) = native.call else { return self.fail("internal: a special form reached a call") };
        if let Err(e) = native.check_args(|i| self.arg(args, i).map(Value::kind)) {
            return self.failure(e);
        }
        let n = native.params.len().min(MAX_PARAMS);
        // Strings decoded first: decoding may write the scratch.
        let mut values: [Option<Value>; MAX_PARAMS] = [None; MAX_PARAMS];
        let mut texts = [Text::EMPTY; MAX_PARAMS];
        for i in 0..n {
            values[i] = self.arg(args, i);
            if let Some(v) = values[i]
                && let Some(t) = self.str_text(b, v)
            {
                texts[i] = t;
            }
        }
        let plan = self.plan;
        let scratch = &self.scratch;
        let mut call_args: [Option<Arg<'_>>; MAX_PARAMS] = [None; MAX_PARAMS];
        for i in 0..n {
            call_args[i] = match values[i] {
                None => match aux {
                    Aux::Regex(r) if native.params[i].kinds.contains(Kinds::REGEX) => {
                        Some(Arg::Regex(&plan.regexes[r as usize]))
                    }
                    Aux::Format(f) if native.params[i].literal => Some(Arg::Str(&plan.formats[f as usize].0)),
                    Aux::Scale(Some(scale)) if native.params[i].literal => Some(Arg::Str(scale.name())),
                    _ => None,
                },
                Some(Value::Null) => Some(Arg::Null),
                Some(Value::Bool(v)) => Some(Arg::Bool(v)),
                Some(Value::Int(v)) => Some(Arg::Int(v)),
                Some(Value::Float(v)) => Some(Arg::Float(v)),
                Some(Value::Str(_) | Value::JsonStr(..)) => Some(Arg::Str(text_in(scratch, b, texts[i]))),
                Some(Value::JsonContainer(t, c)) => Some(Arg::Json(
                    super::buffer_in(scratch, b, t.buf),
                    RawValue { kind: c.kind(), start: t.start, end: t.end, flags: 0 },
                )),
            };
        }
        self.tmp.clear();
        let ret = body(Args::new(&call_args[..n]), &mut self.tmp, &Context { now_ns });
        // Where a returned part of an argument lies, before the arguments'
        // borrow of the scratch ends.
        let located = match ret {
            Ok(Ret::Str(s)) => Located::Str(locate(s, &call_args[..n], &texts, &values).ok_or(s)),
            Ok(Ret::Json(bytes, raw)) => Located::Json(
                (0..n)
                    .find_map(|i| match (call_args[i], values[i]) {
                        (Some(Arg::Json(arg, _)), Some(Value::JsonContainer(t, _)))
                            if arg.as_ptr() == bytes.as_ptr() =>
                        {
                            Some(t.buf)
                        }
                        _ => None,
                    })
                    .map(|buf| (buf, raw)),
            ),
            Ok(other) => Located::Other(other.owned().ok_or(Failure::new("internal: a borrowed result"))),
            Err(e) => Located::Other(Err(e)),
        };
        match located {
            Located::Str(Ok(t)) => Ok(Value::Str(t)),
            Located::Str(Err(s)) => match static_text(s) {
                Some(t) => Ok(Value::Str(t)),
                None => {
                    debug_assert!(false, "{}: a returned string is neither an argument's nor a constant", func);
                    self.fail("internal: a returned string is neither an argument's nor a constant")
                }
            },
            Located::Json(Some((buf, raw))) => Ok(self.value_of_raw(b, buf, raw)),
            Located::Json(None) => self.fail("internal: a returned JSON value is not an argument's"),
            Located::Other(Ok(ret)) => self.own_value(b, ret),
            Located::Other(Err(e)) => self.failure(e),
        }
    }

    /// A scalar, or what a call wrote to `tmp`, as a value.
    fn own_value(&mut self, b: &Bufs<'_>, ret: Ret<'static>) -> Result<Value, Failed> {
        Ok(match ret {
            Ret::Null => Value::Null,
            Ret::Bool(v) => Value::Bool(v),
            Ret::Int(v) => Value::Int(v),
            Ret::Float(v) => Value::Float(v),
            Ret::Written => Value::Str(self.commit_tmp()?),
            Ret::WrittenJson(JsonKind::Array) => Value::JsonContainer(self.commit_tmp()?, Container::Array),
            Ret::WrittenJson(JsonKind::Object) => Value::JsonContainer(self.commit_tmp()?, Container::Object),
            Ret::WrittenJson(_) => {
                let t = self.commit_tmp()?;
                match json::scan_value(self.text(b, t).as_bytes()) {
                    Ok(raw) => {
                        let raw = RawValue { start: raw.start + t.start, end: raw.end + t.start, ..raw };
                        self.value_of_raw(b, Buf::Scratch, raw)
                    }
                    Err(_) => return self.fail("internal: a call wrote JSON that does not scan"),
                }
            }
            Ret::Str(_) | Ret::Json(..) => return self.fail("internal: a borrowed result reached own_value"),
        })
    }

    /// `replace` with a regex idiom and an empty replacement: what the
    /// idiom's regex would leave, without running it, as a part of the
    /// input, not a copy.
    fn regex_idiom(&mut self, b: &Bufs<'_>, args: &[Slot], aux: Aux) -> Result<Option<Value>, Failed> {
        let Aux::Regex(r) = aux else { return Ok(None) };
        let Some(idiom) = self.plan.regex_idioms.get(r as usize).copied().flatten() else { return Ok(None) };
        let with = self.string(b, args, 2)?;
        if !with.is_empty() {
            return Ok(None);
        }
        let s = self.string(b, args, 0)?;
        self.int_or(args, 3, -1)?;
        let st = text_in(&self.scratch, b, s);
        let kept = match idiom {
            RegexIdiom::TrailingWhitespace => st.trim_end(),
            _ => {
                let first_line = memchr::memchr(b'\n', st.as_bytes()).unwrap_or(st.len());
                match memchr::memrchr(b'\r', &st.as_bytes()[..first_line]) {
                    Some(cr) => &st[cr + 1..],
                    None => st,
                }
            }
        };
        Ok(Some(Value::Str(sub_text(s, st, kept))))
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
        let locs = &*locs;
        builtins::write_captures(re, numeric, |i| locs.get(i).map(|(a, z)| &st[a..z]), &mut self.tmp);
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
            return self.failure(Failure::kind("expected a string, found ", src.kind(), ""));
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
        // An anchored regex cannot match a text that starts with a byte no
        // match starts with: most lines try several formats in turn.
        let possible = plan.regex_starts.get(regex as usize).copied().flatten().is_none_or(|f| f.admits(st.as_bytes()));
        let matched = if !possible {
            false
        } else if caps.is_empty() {
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
                    other => return self.failure(Failure::kind("a template hole cannot print ", other.kind(), "")),
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

/// A call's result, placed while the arguments still borrow the scratch.
enum Located<'a> {
    /// A string: a part of an argument, or (`Err`) one that is not.
    Str(Result<Text, &'a str>),
    /// A JSON value inside a container argument's buffer.
    Json(Option<(Buf, RawValue)>),
    Other(Result<Ret<'static>, Failure>),
}

/// The text of `s`, if it is a part of one of the string arguments that
/// came from a slot (`texts[i]` is argument `i`'s).
fn locate(s: &str, args: &[Option<Arg<'_>>], texts: &[Text], values: &[Option<Value>]) -> Option<Text> {
    let (from, to) = (s.as_ptr() as usize, s.as_ptr() as usize + s.len());
    (0..args.len()).find_map(|i| match (args[i], values[i]) {
        (Some(Arg::Str(whole)), Some(_))
            if whole.as_ptr() as usize <= from && to <= whole.as_ptr() as usize + whole.len() =>
        {
            Some(sub_text(texts[i], whole, s))
        }
        _ => None,
    })
}

/// The constant text of a `'static` string a function returns: a level
/// name, `true`, `false`, or the empty string.
fn static_text(s: &str) -> Option<Text> {
    Some(match s {
        "" => Text::EMPTY,
        "true" => TRUE,
        "false" => FALSE,
        _ => LEVELS[["DEBUG", "INFO", "WARNING", "ERROR"].iter().position(|l| *l == s)?],
    })
}

fn number_of(v: Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(i as f64),
        Value::Float(f) => Some(f),
        _ => None,
    }
}
