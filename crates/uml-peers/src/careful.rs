//! serde_json, carefully: the object decoded into a borrowed struct (only
//! the keys the rule reads; strings without escapes borrow the line), and
//! the record written by hand into a reused buffer. The struct and its
//! reading are shared with the simd-json peer ([`crate::simd`]).

use crate::rule::{self, Fields, Payload, Route, SerdePeer, TextBranch};
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

/// The keys of a python-json-logger object that the rule reads.
#[derive(Deserialize)]
pub(crate) struct Object<'a> {
    #[serde(borrow)]
    pub(crate) message: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) msg: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) levelname: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) levelno: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) level: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) exc_info: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) request_id: Option<Field<'a>>,
}

/// A value of any JSON type, strings borrowed where they can be.
pub(crate) enum Field<'a> {
    Null,
    Text(Cow<'a, str>),
    Int(i64),
    /// A float, a bool, an integer beyond 64 bits: written as text as it is.
    Scalar(String),
    /// An object or an array, re-encoded compactly (`encode_json`).
    Composite(String),
}

impl<'a> Field<'a> {
    /// `to_string(value) ?? encode_json(value)`; `None` for null.
    fn into_text(self) -> Option<Cow<'a, str>> {
        match self {
            Field::Null => None,
            Field::Text(text) => Some(text),
            Field::Int(n) => Some(Cow::Owned(n.to_string())),
            Field::Scalar(text) | Field::Composite(text) => Some(Cow::Owned(text)),
        }
    }

    /// `level(value, scale: "python")`.
    fn python_level(&self) -> Option<&'static str> {
        match self {
            Field::Text(text) => rule::level_from_python_text(text),
            Field::Int(n) => rule::level_from_python(*n),
            _ => None,
        }
    }

    /// `level(value)`: spellings only.
    fn level(&self) -> Option<&'static str> {
        match self {
            Field::Text(text) => rule::level_from_name(text),
            _ => None,
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
        Ok(Field::Scalar(b.to_string()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field<'de>, A::Error> {
        let value = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Field::Composite(value.to_string()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Field<'de>, A::Error> {
        let value = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Field::Composite(value.to_string()))
    }
}

impl<'a> Object<'a> {
    /// What the rule reads of the object.
    pub(crate) fn into_fields(self) -> Fields<'a> {
        let said = [self.message, self.msg].into_iter().flatten().find_map(Field::into_text);
        Fields {
            said,
            levelname: self.levelname.as_ref().and_then(Field::python_level),
            levelno: self.levelno.as_ref().and_then(Field::python_level),
            level: self.level.as_ref().and_then(Field::level),
            exc_info: match self.exc_info {
                Some(Field::Text(text)) => Some(text),
                _ => None,
            },
            request_id: self.request_id.and_then(Field::into_text),
        }
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
