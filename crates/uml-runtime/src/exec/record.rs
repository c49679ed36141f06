//! The unified record, written straight to bytes from the output slots.
//!
//! Labels come in the schema's order, constant ones from the plan. The
//! payload is one compact JSON object: schema fields, then extras, each
//! written once:
//!
//! - a string from JSON input is copied through with its escapes
//!   ([`copy_json_string_body`] rewrites only those [`write_json_string`]
//!   would not have written, so the bytes are the same either way);
//! - any other string is escaped once ([`write_json_string`]);
//! - a payload longer than the rule's `max_record_size` has `exc_info`, then
//!   `message`, cut at a character boundary and marked with [`CUT_MARKER`],
//!   so that it stays valid JSON within the limit ([`cut_point`]).
//!
//! A record made with [`PayloadForm::Escaped`] holds its payload already
//! escaped as the inside of a JSON string, as the wire formats embed it
//! ([`crate::output`]): the same pass writes keys escaped once more
//! (encoded once per executor), strings through a doubled escape table, and
//! a JSON string copied from the input escaped once (its escapes are already
//! the first). The payload is then never read again to be embedded. Such a
//! record is cut by the same rule, on the length of its payload as JSON:
//! when that is over the limit (rare), the payload is written as JSON, cut,
//! and escaped.

use super::{Bufs, Executor, Route, text_in};
use crate::plan::{Plan, StrFlags, Value};
use crate::stdlib::json_string::{
    copies_as_is, copy_json_string_body, write_json_string, write_json_string_body, write_json_string_body_twice,
};
use crate::stdlib::number;

/// What replaces the end of a cut `message` or `exc_info`.
pub const CUT_MARKER: &str = "…[truncated]";

/// The payload fields `max_record_size` may cut, in the order they are cut:
/// the traceback before the message. Lowering, the executor and the
/// reference evaluator all read this one list.
pub const CUT_ORDER: [&str; 2] = ["exc_info", "message"];

/// How a [`Record`] holds its payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PayloadForm {
    /// As JSON: `{"levelname":"INFO",…}`.
    #[default]
    Json,
    /// Escaped as the inside of a JSON string, `{\"levelname\":\"INFO\",…}`:
    /// what [`crate::output::Encoder`] embeds in a line as it is. Written in
    /// one pass; see the module documentation.
    Escaped,
}

/// One output record; reuse it across lines.
#[derive(Clone, Debug, Default)]
pub struct Record {
    /// The record's time, ns since the epoch.
    pub timestamp: i64,
    /// The rule that made it.
    pub rule: u16,
    labels: Vec<u8>,
    values: String,
    value_ends: Vec<u32>,
    payload: Vec<u8>,
    form: PayloadForm,
    /// An escaped record's payload as JSON, when it has to be cut.
    spare: Vec<u8>,
    truncated: bool,
    /// The address of the plan whose label names `labels` holds, so that a
    /// record reused with another plan does not keep the old names.
    labels_of: usize,
    /// The route whose labels `labels` holds, when its rule's labels are
    /// the same on every line of a route ([`Route::serial`]); 0 for none.
    labels_route: u64,
}

impl Record {
    /// A record that holds its payload in `form`; [`Record::default`] holds
    /// it as JSON.
    pub fn with_form(form: PayloadForm) -> Record {
        Record { form, ..Record::default() }
    }

    /// How the record holds its payload.
    pub fn form(&self) -> PayloadForm {
        self.form
    }

    /// The labels as a JSON object, `{"model_version_id":"…",…}`, in the
    /// schema's order.
    pub fn labels_json(&self) -> &[u8] {
        &self.labels
    }

    /// The value of the `i`th label of the schema.
    pub fn label(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.value_ends.get(i - 1).copied().unwrap_or(0) as usize };
        let end = self.value_ends.get(i).copied().unwrap_or(0) as usize;
        self.values.get(start..end).unwrap_or("")
    }

    /// The number of labels.
    pub fn label_count(&self) -> usize {
        self.value_ends.len()
    }

    /// The payload in the record's [`form`](Record::form), valid UTF-8: a
    /// compact JSON object, Loki's line, or that object escaped as the
    /// inside of a JSON string.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// Whether `max_record_size` cut the payload.
    pub fn truncated(&self) -> bool {
        self.truncated
    }
}

/// Where a cuttable string's body lies in the payload.
#[derive(Clone, Copy, Default)]
struct Body {
    start: usize,
    end: usize,
}

/// The parts of every record that the plan fixes, encoded once per
/// executor: `"name":` for each label and field, and constant labels'
/// values as JSON strings.
#[derive(Debug, Default)]
pub(super) struct Layout {
    label_keys: Vec<Vec<u8>>,
    label_constants: Vec<Option<Vec<u8>>>,
    field_keys: Vec<Vec<u8>>,
    /// `field_keys` escaped once more, for [`PayloadForm::Escaped`].
    field_keys_escaped: Vec<Vec<u8>>,
}

impl Layout {
    pub(super) fn new(plan: &Plan) -> Layout {
        let key = |name: &str| {
            let mut k = Vec::with_capacity(name.len() + 3);
            write_json_string(&mut k, name);
            k.push(b':');
            k
        };
        let constant = |c: &String| {
            let mut v = Vec::with_capacity(c.len() + 2);
            write_json_string(&mut v, c);
            v
        };
        let field_keys: Vec<Vec<u8>> = plan.fields.iter().map(|f| key(&f.name)).collect();
        let escaped = |k: &Vec<u8>| {
            let mut e = Vec::with_capacity(k.len() + 4);
            write_json_string_body(&mut e, k);
            e
        };
        Layout {
            label_keys: plan.labels.iter().map(|l| key(&l.name)).collect(),
            label_constants: plan.labels.iter().map(|l| l.constant.as_ref().map(constant)).collect(),
            field_keys_escaped: field_keys.iter().map(escaped).collect(),
            field_keys,
        }
    }
}

pub(super) fn write(exec: &mut Executor<'_>, b: &Bufs<'_>, route: &Route, timestamp: i64, record: &mut Record) {
    let Some(rule) = route.rule else { return };
    let plan = exec.plan;
    if record.payload.capacity() == 0 {
        // Sized once for the lines of every source; a longer one grows it.
        record.payload.reserve(64 << 10);
        record.labels.reserve(1 << 10);
        record.values.reserve(1 << 10);
        record.value_ends.reserve(plan.labels.len());
    }
    record.timestamp = timestamp;
    record.rule = rule;
    let rule_plan = plan.rules.get(usize::from(rule));
    let per_route = rule_plan.is_some_and(|r| r.labels_per_route);
    // A route's labels are written once when only its leading ops set them
    // (a serial is unique in the process, so it names the plan too).
    if !(per_route && record.labels_route == route.serial) {
        write_labels(exec, b, record);
        record.labels_route = if per_route { route.serial } else { 0 };
    }
    let max = rule_plan.map_or(usize::MAX, |r| r.max_record_size as usize);
    let out = &mut record.payload;
    out.clear();
    record.truncated = match record.form {
        PayloadForm::Json => {
            let cuts = write_payload::<false>(exec, b, out);
            out.len() > max && cut(out, cuts, max)
        }
        PayloadForm::Escaped => {
            write_payload::<true>(exec, b, out);
            // The JSON is never longer than its escape.
            out.len() > max && unescaped_len(out) > max && {
                let json = &mut record.spare;
                json.clear();
                let cuts = write_payload::<false>(exec, b, json);
                cut(json, cuts, max);
                out.clear();
                write_json_string_body(out, json);
                true
            }
        }
    };
}

/// Writes the payload object into `out`, as JSON or (`ESCAPED`) as the
/// inside of a JSON string; returns where the cuttable strings' bodies are
/// in JSON.
fn write_payload<const ESCAPED: bool>(
    exec: &mut Executor<'_>,
    b: &Bufs<'_>,
    out: &mut Vec<u8>,
) -> [Body; CUT_ORDER.len()] {
    let plan = exec.plan;
    let quote: &[u8] = if ESCAPED { b"\\\"" } else { b"\"" };
    out.push(b'{');
    let mut cuts = [Body::default(); CUT_ORDER.len()];
    let mut first = true;
    for (i, field) in plan.fields.iter().enumerate() {
        let v = exec.get(field.slot);
        if v == Value::Null {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(if ESCAPED { &exec.layout.field_keys_escaped[i] } else { &exec.layout.field_keys[i] });
        let body_start = out.len() + 1;
        match v {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(x) => out.extend_from_slice(if x { b"true" } else { b"false" }),
            Value::Int(n) => {
                exec.tmp.clear();
                number::format_int(n, &mut exec.tmp);
                out.extend_from_slice(exec.tmp.as_bytes());
            }
            Value::Float(f) => {
                exec.tmp.clear();
                number::format_float(f, &mut exec.tmp);
                out.extend_from_slice(exec.tmp.as_bytes());
            }
            Value::Str(t) if ESCAPED => {
                out.extend_from_slice(quote);
                write_json_string_body_twice(out, text_in(&exec.scratch, b, t).as_bytes());
                out.extend_from_slice(quote);
            }
            Value::Str(t) => write_json_string(out, text_in(&exec.scratch, b, t)),
            Value::JsonStr(t, StrFlags(flags)) => {
                let body = text_in(&exec.scratch, b, t).as_bytes();
                out.extend_from_slice(quote);
                if !ESCAPED {
                    copy_json_string_body(out, body, flags);
                } else if copies_as_is(flags) {
                    // The body's escapes are those of the first escape.
                    write_json_string_body(out, body);
                } else {
                    let canonical = &mut exec.bytes;
                    canonical.clear();
                    copy_json_string_body(canonical, body, flags);
                    write_json_string_body(out, canonical);
                }
                out.extend_from_slice(quote);
            }
            Value::JsonContainer(..) => {
                let mut s = std::mem::take(&mut exec.tmp);
                s.clear();
                exec.write_json(b, v, &mut s);
                if ESCAPED {
                    write_json_string_body(out, s.as_bytes());
                } else {
                    out.extend_from_slice(s.as_bytes());
                }
                exec.tmp = s;
            }
        }
        if !ESCAPED
            && v.is_string()
            && let Some(k) = plan.cuttable.iter().position(|&c| usize::from(c) == i)
            && let Some(cut) = cuts.get_mut(k)
        {
            *cut = Body { start: body_start, end: out.len() - 1 };
        }
    }
    out.push(b'}');
    cuts
}

/// The length of the text that `escaped`, the inside of a JSON string that
/// [`write_json_string_body`] wrote, stands for: each escape is one byte.
fn unescaped_len(escaped: &[u8]) -> usize {
    let mut len = 0;
    let mut i = 0;
    while let Some(at) = memchr::memchr(b'\\', &escaped[i..]) {
        // `\uXXXX` stands for a control character, one byte.
        let step = if escaped.get(i + at + 1) == Some(&b'u') { 6 } else { 2 };
        len += at + 1;
        i = (i + at + step).min(escaped.len());
    }
    len + escaped.len() - i
}

/// Cuts `out`, a payload of JSON longer than `max`, in the plan's order
/// (`exc_info` before `message`) until it fits or nothing is left to cut;
/// whether it was over the limit (it was: the record is marked truncated).
fn cut(out: &mut Vec<u8>, mut cuts: [Body; CUT_ORDER.len()], max: usize) -> bool {
    for k in 0..cuts.len() {
        let excess = out.len().saturating_sub(max);
        let body = cuts[k];
        if excess == 0 || body.end <= body.start {
            continue;
        }
        let Some(kept) = cut_point(&out[body.start..body.end], excess) else { continue };
        let from = body.start + kept;
        // Replace out[from..body.end] by the marker, without allocating.
        let removed = body.end - from - CUT_MARKER.len();
        out.copy_within(body.end.., from + CUT_MARKER.len());
        out[from..from + CUT_MARKER.len()].copy_from_slice(CUT_MARKER.as_bytes());
        out.truncate(out.len() - removed);
        for other in &mut cuts {
            if other.start > body.start {
                other.start -= removed;
                other.end -= removed;
            }
        }
    }
    true
}

/// Writes the labels, unless they are those of the previous record (the
/// lines of a file nearly always share them): then the JSON is kept.
fn write_labels(exec: &mut Executor<'_>, b: &Bufs<'_>, record: &mut Record) {
    let plan = exec.plan;
    exec.label_texts.clear();
    for label in &plan.labels {
        let text = match label.constant {
            Some(_) => None,
            None => exec.str_text(b, exec.get(label.slot)),
        };
        exec.label_texts.push(text);
    }
    let exec = &*exec;
    let value = |i: usize| -> &str {
        match (&plan.labels[i].constant, exec.label_texts[i]) {
            (Some(c), _) => c,
            (None, Some(t)) => text_in(&exec.scratch, b, t),
            (None, None) => "",
        }
    };
    let plan_address = std::ptr::from_ref(plan) as usize;
    let unchanged = record.labels_of == plan_address
        && record.value_ends.len() == plan.labels.len()
        && (0..plan.labels.len()).all(|i| record.label(i) == value(i));
    if unchanged {
        return;
    }
    record.labels.clear();
    record.values.clear();
    record.value_ends.clear();
    record.labels.push(b'{');
    for i in 0..plan.labels.len() {
        if i > 0 {
            record.labels.push(b',');
        }
        record.labels.extend_from_slice(&exec.layout.label_keys[i]);
        match &exec.layout.label_constants[i] {
            Some(c) => record.labels.extend_from_slice(c),
            None => write_json_string(&mut record.labels, value(i)),
        }
        record.values.push_str(value(i));
        record.value_ends.push(record.values.len() as u32);
    }
    record.labels.push(b'}');
    record.labels_of = plan_address;
}

/// Where to cut a string body (a JSON string without its quotes) that
/// [`CUT_MARKER`] then ends, for the payload to lose `excess` bytes: the
/// length of the body to keep, at a point that splits neither an escape nor
/// a UTF-8 character, so as short as the body needs to be and no shorter;
/// `None` if the cut would not make the body shorter. Shared with the
/// reference evaluator, which applies `max_record_size` alike.
pub fn cut_point(body: &[u8], excess: usize) -> Option<usize> {
    let keep = body.len().saturating_sub(excess + CUT_MARKER.len());
    let kept = boundary(body, keep);
    (body.len() - kept > CUT_MARKER.len()).then_some(kept)
}

/// The largest cut point at or below `keep` that splits neither an escape
/// nor a UTF-8 character of a JSON string body.
fn boundary(body: &[u8], keep: usize) -> usize {
    let mut i = 0;
    while i < body.len() {
        let step = match body[i] {
            b'\\' if body.get(i + 1) == Some(&b'u') => 6,
            b'\\' => 2,
            c if c < 0x80 => 1,
            c if c >= 0xF0 => 4,
            c if c >= 0xE0 => 3,
            _ => 2,
        };
        if i + step > keep {
            break;
        }
        i += step;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::{boundary, unescaped_len};
    use crate::stdlib::json_string::write_json_string_body;

    #[test]
    fn unescaped_length_counts_an_escape_as_one_byte() {
        for json in [r#"{"message":"a \"quoted\" \\ path\u001b é"}"#, "", r"\", r#"\\\""#, "plain text"] {
            let mut escaped = Vec::new();
            write_json_string_body(&mut escaped, json.as_bytes());
            assert_eq!(unescaped_len(&escaped), json.len(), "{json}");
        }
        // What the writer does not write is counted all the same, and a
        // dangling backslash is one byte.
        assert_eq!(unescaped_len(br"\u00e9x"), 2);
        assert_eq!(unescaped_len(br"ab\"), 3);
    }

    #[test]
    fn cuts_between_characters_and_escapes() {
        assert_eq!(boundary(b"abc", 2), 2);
        assert_eq!(boundary(br"a\nb", 2), 1);
        assert_eq!(boundary(br"a\u00e9b", 5), 1);
        assert_eq!(boundary("aé".as_bytes(), 2), 1);
        assert_eq!(boundary(b"abc", 10), 3);
    }
}
