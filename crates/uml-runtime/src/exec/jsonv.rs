//! Values as JSON: the compact form `encode_json` and composite payload
//! fields are written in, and structural equality.
//!
//! The compact form is the reference evaluator's: no whitespace, members in
//! first-seen order with a repeated key keeping its last value, strings
//! decoded and escaped again, numbers in the language's formatting. Both
//! walks recurse over JSON that a scan validated, so depth is bounded by
//! [`crate::json::MAX_DEPTH`].

use super::{Bufs, Executor, buffer_in, decode_into};
use crate::json::{self, JsonKind, RawValue};
use crate::json::{first_occurrence, last_value, push_json_decoded};
use crate::plan::{Buf, Text, Value};
use crate::stdlib::json_string::push_json_str;
use crate::stdlib::number;

impl Executor<'_> {
    /// Appends `v` as compact JSON.
    pub(crate) fn write_json(&self, b: &Bufs<'_>, v: Value, out: &mut String) {
        match v {
            Value::Null => out.push_str("null"),
            Value::Bool(x) => out.push_str(if x { "true" } else { "false" }),
            Value::Int(i) => number::format_int(i, out),
            Value::Float(f) => number::format_float(f, out),
            Value::Str(t) => push_json_str(out, self.text(b, t)),
            Value::JsonStr(t, _) => push_json_decoded(out, self.text(b, t).as_bytes()),
            Value::JsonContainer(t, c) => {
                let raw = RawValue { kind: c.kind(), start: t.start, end: t.end, flags: 0 };
                json::write_compact(buffer_in(&self.scratch, b, t.buf), raw, out);
            }
        }
    }

    /// Structural equality, as the evaluator's `==`: an int equals a float
    /// of the same value, strings compare decoded, objects by their members
    /// whatever the order.
    #[inline]
    pub(crate) fn equal(&mut self, b: &Bufs<'_>, l: Value, r: Value) -> bool {
        match (l, r) {
            // Texts of different lengths differ: most comparisons with a
            // constant end here, without a call.
            (Value::Str(x), Value::Str(y)) if x.len() != y.len() => false,
            _ => self.equal_values(b, l, r),
        }
    }

    #[inline(never)]
    fn equal_values(&mut self, b: &Bufs<'_>, l: Value, r: Value) -> bool {
        match (l, r) {
            (Value::Int(a), Value::Float(f)) | (Value::Float(f), Value::Int(a)) => a as f64 == f,
            // A JSON string body decodes to as many bytes when it has no
            // escape, to no more and to at least one when it has one (each
            // escape stands for a character): `message == ""` and the like
            // end here without decoding the body.
            (Value::JsonStr(x, flags), Value::Str(y)) | (Value::Str(y), Value::JsonStr(x, flags))
                if (!flags.any(RawValue::ESCAPED) && x.len() != y.len())
                    || y.len() > x.len()
                    || y.is_empty() != x.is_empty() =>
            {
                false
            }
            (x, y) if x.is_string() && y.is_string() => {
                let (x, y) = (self.str_text(b, x), self.str_text(b, y));
                let (x, y) = (x.unwrap_or(Text::EMPTY), y.unwrap_or(Text::EMPTY));
                self.text(b, x) == self.text(b, y)
            }
            (Value::JsonContainer(x, cx), Value::JsonContainer(y, cy)) if cx == cy => {
                let rx = RawValue { kind: cx.kind(), start: x.start, end: x.end, flags: 0 };
                let ry = RawValue { kind: cy.kind(), start: y.start, end: y.end, flags: 0 };
                self.equal_raw(b, (x.buf, rx), (y.buf, ry))
            }
            (Value::JsonStr(..) | Value::JsonContainer(..), _) | (_, Value::JsonStr(..) | Value::JsonContainer(..)) => {
                false
            }
            (x, y) => x == y,
        }
    }

    fn equal_raw(&mut self, b: &Bufs<'_>, (xb, x): (Buf, RawValue), (yb, y): (Buf, RawValue)) -> bool {
        match (x.kind, y.kind) {
            (JsonKind::Array, JsonKind::Array) => {
                let mut i = 0;
                loop {
                    let ex = json::get_element(buffer_in(&self.scratch, b, xb), x, i);
                    let ey = json::get_element(buffer_in(&self.scratch, b, yb), y, i);
                    match (ex, ey) {
                        (None, None) => return true,
                        (Some(ex), Some(ey)) => {
                            if !self.equal_raw(b, (xb, ex), (yb, ey)) {
                                return false;
                            }
                        }
                        _ => return false,
                    }
                    i += 1;
                }
            }
            (JsonKind::Object, JsonKind::Object) => {
                // Same distinct keys, and equal values under each.
                let count = |bytes: &[u8], o: RawValue| {
                    let mut n = 0;
                    json::for_each_member(bytes, o, |k, _| {
                        n += usize::from(first_occurrence(bytes, o, k));
                        true
                    });
                    n
                };
                let xs = buffer_in(&self.scratch, b, xb);
                let ys = buffer_in(&self.scratch, b, yb);
                if count(xs, x) != count(ys, y) {
                    return false;
                }
                let mut keys = Vec::new();
                json::for_each_member(xs, x, |k, _| {
                    keys.push(k);
                    true
                });
                for k in keys {
                    let mut name = String::new();
                    decode_into(&mut name, k.string_body(buffer_in(&self.scratch, b, xb)));
                    let vx = last_value(buffer_in(&self.scratch, b, xb), x, k);
                    let Some(vy) = json::get_member(buffer_in(&self.scratch, b, yb), y, name.as_bytes()) else {
                        return false;
                    };
                    if !self.equal_raw(b, (xb, vx), (yb, vy)) {
                        return false;
                    }
                }
                true
            }
            _ => {
                let vx = self.value_of_raw(b, xb, x);
                let vy = self.value_of_raw(b, yb, y);
                if matches!(vx, Value::JsonContainer(..)) || matches!(vy, Value::JsonContainer(..)) {
                    return false;
                }
                self.equal(b, vx, vy)
            }
        }
    }
}
