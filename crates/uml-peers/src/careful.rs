//! serde_json, carefully: the object decoded into a borrowed struct (only
//! the keys the rule reads; strings without escapes borrow the line), and
//! the record written by hand into a reused buffer. The struct and its
//! reading are shared with the simd-json peer ([`crate::simd`]).

use crate::rule::{self, Fields, Leaf, Payload, Route, SerdePeer, TextBranch};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

#[derive(Default)]
pub struct Careful {
    text: TextBranch,
    /// The payload of the current record, before it is embedded as a string.
    payload: Vec<u8>,
}

impl crate::Transform for Careful {
    fn run(&mut self, file_name: &str, bytes: &[u8], out: &mut Vec<u8>) {
        let text = std::mem::take(&mut self.text);
        rule::run(self, &text, file_name, bytes, out);
        self.text = text;
    }
}

/// The keys of a JSON log line that the rule reads, at the top level;
/// the rule's nested keys (`record.message`, `log.level`, `err.stack`, …)
/// are read from the decoded object under their first key.
#[derive(Deserialize)]
pub(crate) struct Object<'a> {
    #[serde(borrow)]
    pub(crate) message: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) msg: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) event: Option<Field<'a>>,
    #[serde(borrow, rename = "@m")]
    pub(crate) at_m: Option<Field<'a>>,
    #[serde(borrow, rename = "@mt")]
    pub(crate) at_mt: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) record: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) short_message: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) levelname: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) levelno: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) level: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) severity: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) lvl: Option<Field<'a>>,
    #[serde(borrow, rename = "log.level")]
    pub(crate) log_level: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) log: Option<Field<'a>>,
    #[serde(borrow, rename = "@l")]
    pub(crate) at_l: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) exc_info: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) exception: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) _exception: Option<Field<'a>>,
    #[serde(borrow, rename = "@x")]
    pub(crate) at_x: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) full_message: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) traceback: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) stack_trace: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) stacktrace: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) stack: Option<Field<'a>>,
    #[serde(borrow, rename = "error.stack_trace")]
    pub(crate) error_stack_trace: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) error: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) err: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) request_id: Option<Field<'a>>,
}

impl<'a> Object<'a> {
    fn top(&self, key: &str) -> Option<&Field<'a>> {
        match key {
            "message" => self.message.as_ref(),
            "msg" => self.msg.as_ref(),
            "event" => self.event.as_ref(),
            "@m" => self.at_m.as_ref(),
            "@mt" => self.at_mt.as_ref(),
            "record" => self.record.as_ref(),
            "short_message" => self.short_message.as_ref(),
            "levelname" => self.levelname.as_ref(),
            "levelno" => self.levelno.as_ref(),
            "level" => self.level.as_ref(),
            "severity" => self.severity.as_ref(),
            "lvl" => self.lvl.as_ref(),
            "log.level" => self.log_level.as_ref(),
            "log" => self.log.as_ref(),
            "@l" => self.at_l.as_ref(),
            "exc_info" => self.exc_info.as_ref(),
            "exception" => self.exception.as_ref(),
            "_exception" => self._exception.as_ref(),
            "@x" => self.at_x.as_ref(),
            "full_message" => self.full_message.as_ref(),
            "traceback" => self.traceback.as_ref(),
            "stack_trace" => self.stack_trace.as_ref(),
            "stacktrace" => self.stacktrace.as_ref(),
            "stack" => self.stack.as_ref(),
            "error.stack_trace" => self.error_stack_trace.as_ref(),
            "error" => self.error.as_ref(),
            "err" => self.err.as_ref(),
            "request_id" => self.request_id.as_ref(),
            _ => None,
        }
    }

    /// The value at `path`, as the rule reads it.
    fn at(&self, path: &[&str]) -> Leaf<'a> {
        let (first, rest) = path.split_first().expect("a path has a key");
        match (self.top(first), rest) {
            (None, _) => Leaf::Null,
            (Some(field), []) => field.leaf(),
            (Some(Field::Composite(value)), rest) => {
                let mut value = Some(value);
                for key in rest {
                    value = value.and_then(serde_json::Value::as_object).and_then(|o| o.get(*key));
                }
                value.map_or(Leaf::Null, leaf_of_value)
            }
            (Some(_), _) => Leaf::Null,
        }
    }

    /// What the rule reads of the object.
    pub(crate) fn into_fields(self) -> Fields<'a> {
        Fields::read(|path| self.at(path))
    }
}

/// A nested value, as the rule reads it.
fn leaf_of_value<'a>(value: &serde_json::Value) -> Leaf<'a> {
    use serde_json::Value;
    match value {
        Value::Null => Leaf::Null,
        Value::Bool(b) => Leaf::Bool(*b),
        Value::String(text) => Leaf::Text(Cow::Owned(text.clone())),
        Value::Number(n) => n.as_i64().map_or_else(|| Leaf::Json(Cow::Owned(n.to_string())), Leaf::Int),
        other => Leaf::Json(Cow::Owned(other.to_string())),
    }
}

/// A value of any JSON type, strings borrowed where they can be.
pub(crate) enum Field<'a> {
    Null,
    Bool(bool),
    Text(Cow<'a, str>),
    Int(i64),
    /// A float, an integer beyond 64 bits: written as text as it is.
    Scalar(String),
    /// An object or an array, kept decoded for the rule's nested keys.
    Composite(serde_json::Value),
}

impl<'a> Field<'a> {
    pub(crate) fn leaf(&self) -> Leaf<'a> {
        match self {
            Field::Null => Leaf::Null,
            Field::Bool(b) => Leaf::Bool(*b),
            Field::Text(text) => Leaf::Text(text.clone()),
            Field::Int(n) => Leaf::Int(*n),
            Field::Scalar(text) => Leaf::Json(Cow::Owned(text.clone())),
            Field::Composite(value) => Leaf::Json(Cow::Owned(value.to_string())),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Field<'a>, D::Error> {
        deserializer.deserialize_any(FieldVisitor)
    }
}

struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = Field<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Field<'de>, E> {
        Ok(Field::Null)
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Field<'de>, E> {
        Ok(Field::Text(Cow::Borrowed(text)))
    }

    fn visit_str<E>(self, text: &str) -> Result<Field<'de>, E> {
        Ok(Field::Text(Cow::Owned(text.to_owned())))
    }

    fn visit_string<E>(self, text: String) -> Result<Field<'de>, E> {
        Ok(Field::Text(Cow::Owned(text)))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Field<'de>, E> {
        Ok(Field::Int(n))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Field<'de>, E> {
        Ok(i64::try_from(n).map_or_else(|_| Field::Scalar(n.to_string()), Field::Int))
    }

    fn visit_f64<E>(self, x: f64) -> Result<Field<'de>, E> {
        Ok(Field::Scalar(serde_json::Number::from_f64(x).map_or_else(|| x.to_string(), |n| n.to_string())))
    }

    fn visit_bool<E>(self, b: bool) -> Result<Field<'de>, E> {
        Ok(Field::Bool(b))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field<'de>, A::Error> {
        let value = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Field::Composite(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Field<'de>, A::Error> {
        let value = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Field::Composite(value))
    }
}

impl SerdePeer for Careful {
    fn fields<'a>(&mut self, line: &'a str) -> Option<Fields<'a>> {
        serde_json::from_str::<Object<'a>>(line).ok().map(Object::into_fields)
    }

    fn write(&mut self, out: &mut Vec<u8>, timestamp_ns: i64, route: &Route, payload: &Payload<'_>) {
        rule::write_payload_record(out, &mut self.payload, timestamp_ns, route, payload);
    }
}
