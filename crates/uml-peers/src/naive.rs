//! serde_json, naively: every line decoded into a `serde_json::Value`, the
//! payload and the record built as `Value`s and serialized.

use crate::rule::{self, Fields, Leaf, Payload, Route, SerdePeer, TextBranch};
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

/// The value at `path` in `object`, as the rule reads it.
fn at<'a>(object: &Map<String, Value>, path: &[&str]) -> Leaf<'a> {
    let (first, rest) = path.split_first().expect("a path has a key");
    let mut value = object.get(*first);
    for key in rest {
        value = value.and_then(|v| v.as_object()).and_then(|o| o.get(*key));
    }
    match value {
        None | Some(Value::Null) => Leaf::Null,
        Some(Value::Bool(b)) => Leaf::Bool(*b),
        Some(Value::String(text)) => Leaf::Text(Cow::Owned(text.clone())),
        Some(Value::Number(n)) => n.as_i64().map_or_else(|| Leaf::Json(Cow::Owned(n.to_string())), Leaf::Int),
        Some(other) => Leaf::Json(Cow::Owned(other.to_string())),
    }
}

impl SerdePeer for Naive {
    fn fields<'a>(&mut self, line: &'a str) -> Option<Fields<'a>> {
        let Ok(Value::Object(object)) = serde_json::from_str::<Value>(line) else { return None };
        Some(Fields::read(|path| at(&object, path)))
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
