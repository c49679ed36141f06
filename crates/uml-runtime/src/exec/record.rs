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

use super::{Bufs, Executor, text_in};
use crate::json::JsonKind;
use crate::plan::{Plan, Value};
use crate::stdlib::json_string::{copy_json_string_body, write_json_string};
use crate::stdlib::number;

/// What replaces the end of a cut `message` or `exc_info`.
pub const CUT_MARKER: &str = "…[truncated]";

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
    truncated: bool,
    /// The address of the plan whose label names `labels` holds, so that a
    /// record reused with another plan does not keep the old names.
    labels_of: usize,
}

impl Record {
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

    /// The payload: a compact JSON object in valid UTF-8, Loki's line.
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
        Layout {
            label_keys: plan.labels.iter().map(|l| key(&l.name)).collect(),
            label_constants: plan.labels.iter().map(|l| l.constant.as_ref().map(constant)).collect(),
            field_keys: plan.fields.iter().map(|f| key(&f.name)).collect(),
        }
    }
}

pub(super) fn write(exec: &mut Executor<'_>, b: &Bufs<'_>, rule: u16, timestamp: i64, record: &mut Record) {
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
    record.truncated = false;
    write_labels(exec, b, record);
    let out = &mut record.payload;
    out.clear();
    out.push(b'{');
    let mut cuts = [Body::default(); 2];
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
        out.extend_from_slice(&exec.layout.field_keys[i]);
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
            Value::Str(t) => write_json_string(out, text_in(&exec.scratch, b, t)),
            Value::Json(t, JsonKind::String, flags) => {
                out.push(b'"');
                copy_json_string_body(out, text_in(&exec.scratch, b, t).as_bytes(), flags);
                out.push(b'"');
            }
            Value::Json(..) => {
                let mut s = std::mem::take(&mut exec.tmp);
                s.clear();
                exec.write_json(b, v, &mut s);
                out.extend_from_slice(s.as_bytes());
                exec.tmp = s;
            }
        }
        if v.is_string() {
            if let Some(k) = plan.cuttable.iter().position(|&c| usize::from(c) == i) {
                cuts[k.min(1)] = Body { start: body_start, end: out.len() - 1 };
            }
        }
    }
    out.push(b'}');

    let max = plan.rules.get(usize::from(rule)).map_or(usize::MAX, |r| r.max_record_size as usize);
    if out.len() > max {
        record.truncated = true;
        // Cut in the plan's order (`exc_info` before `message`).
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
    }
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
    use super::boundary;

    #[test]
    fn cuts_between_characters_and_escapes() {
        assert_eq!(boundary(b"abc", 2), 2);
        assert_eq!(boundary(br"a\nb", 2), 1);
        assert_eq!(boundary(br"a\u00e9b", 5), 1);
        assert_eq!(boundary("aé".as_bytes(), 2), 1);
        assert_eq!(boundary(b"abc", 10), 3);
    }
}
