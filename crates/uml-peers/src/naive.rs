//! serde_json, naively: every line decoded into a `serde_json::Value`, the
//! payload and the record built as `Value`s and serialized.

use crate::rule::{self, Fields, Payload, Route, SerdePeer, TextBranch};
use serde_json::{Map, Value, json};
use std::borrow::Cow;

#[derive(Default)]
pub struct Naive {
    text: TextBranch,
}

impl crate::Transform for Naive {
    fn run(&mut self, file_name: &str, bytes: &[u8], out: &mut Vec<u8>) {
        let text = std::mem::take(&mut self.text);
        rule::run(self, &text, file_name, bytes, out);
        self.text = text;
    }
}

/// `to_string(value) ?? encode_json(value)`; `None` for null.
fn text(value: &Value) -> Option<Cow<'static, str>> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(Cow::Owned(text.clone())),
        other => Some(Cow::Owned(other.to_string())),
    }
}

/// `level(value, scale: "python")`.
fn python_level(value: &Value) -> Option<&'static str> {
    match value {
        Value::String(text) => rule::level_from_python_text(text),
        Value::Number(n) => n.as_i64().and_then(rule::level_from_python),
        _ => None,
    }
}

impl SerdePeer for Naive {
    fn fields<'a>(&mut self, line: &'a str) -> Option<Fields<'a>> {
        let Ok(Value::Object(object)) = serde_json::from_str::<Value>(line) else { return None };
        let field = |key: &str| object.get(key).unwrap_or(&Value::Null);
        Some(Fields {
            said: text(field("message")).or_else(|| text(field("msg"))),
            levelname: python_level(field("levelname")),
            levelno: python_level(field("levelno")),
            level: field("level").as_str().and_then(rule::level_from_name),
            exc_info: field("exc_info").as_str().map(|text| Cow::Owned(text.to_owned())),
            request_id: text(field("request_id")),
        })
    }

    fn write(&mut self, out: &mut Vec<u8>, timestamp_ns: i64, route: &Route, payload: &Payload<'_>) {
        let mut line = Map::new();
        line.insert("levelname".into(), payload.levelname.into());
        line.insert("message".into(), payload.message.as_ref().into());
        line.insert("replica".into(), route.replica.as_str().into());
        line.insert("source".into(), "model_container".into());
        if let Some(exc_info) = &payload.exc_info {
            line.insert("exc_info".into(), exc_info.as_ref().into());
        }
        if let Some(request_id) = &payload.request_id {
            line.insert("request_id".into(), request_id.as_ref().into());
        }
        let record = json!({
            "ts": timestamp_ns.to_string(),
            "labels": {
                "model_version_id": route.model_version_id,
                "namespace": route.namespace,
                "unified_model_logs": "1",
                "job": "fluent-bit",
            },
            "line": Value::Object(line).to_string(),
        });
        serde_json::to_writer(&mut *out, &record).expect("writing to a Vec cannot fail");
        out.push(b'\n');
    }
}
