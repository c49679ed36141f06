//! VRL: `model_container.vrl`, compiled once with VRL's standard library,
//! run per line on an event as Vector's `kubernetes_logs` source makes it
//! (the raw line and the pod's metadata), then the result written as an
//! NDJSON record, as a sink would encode it.

use crate::rule::{FileMeta, write_json_string, write_record};
use std::borrow::Cow;
use vrl::compiler::runtime::Runtime;
use vrl::compiler::{Program, TargetValue, TimeZone};
use vrl::value::{ObjectMap, Secrets, Value};

/// The program, in this crate's source tree.
pub const SOURCE: &str = include_str!("model_container.vrl");

/// The labels and payload fields in the order uml writes them.
const LABELS: [&str; 4] = ["model_version_id", "namespace", "unified_model_logs", "job"];
const PAYLOAD: [&str; 6] = ["levelname", "message", "replica", "source", "exc_info", "request_id"];

pub struct Vrl {
    program: Program,
    runtime: Runtime,
    payload: Vec<u8>,
    labels: Vec<u8>,
}

impl Default for Vrl {
    fn default() -> Vrl {
        let compiled = vrl::compiler::compile(SOURCE, &vrl::stdlib::all())
            .unwrap_or_else(|diagnostics| panic!("model_container.vrl does not compile: {diagnostics:?}"));
        Vrl { program: compiled.program, runtime: Runtime::default(), payload: Vec::new(), labels: Vec::new() }
    }
}

impl crate::Transform for Vrl {
    fn run(&mut self, file_name: &str, bytes: &[u8], out: &mut Vec<u8>) {
        let Some(meta) = FileMeta::from_file_name(file_name) else { return };
        let kubernetes = Value::Object(ObjectMap::from([
            ("pod_name".into(), Value::from(meta.pod)),
            ("pod_namespace".into(), Value::from(meta.namespace)),
            ("container_name".into(), Value::from(meta.container)),
        ]));
        let timezone = TimeZone::default();
        for line in crate::lines(bytes) {
            let event = ObjectMap::from([
                ("message".into(), Value::Bytes(bytes::Bytes::copy_from_slice(line))),
                ("file".into(), Value::from(file_name)),
                ("kubernetes".into(), kubernetes.clone()),
            ]);
            let mut target = TargetValue {
                value: Value::Object(event),
                metadata: Value::Object(ObjectMap::new()),
                secrets: Secrets::new(),
            };
            let result = self.runtime.resolve(&mut target, &self.program, &timezone);
            self.runtime.clear();
            if result.is_ok() {
                self.write(out, &target.value);
            }
        }
    }
}

impl Vrl {
    /// Writes the event the program made, `{ts, labels, payload}`.
    fn write(&mut self, out: &mut Vec<u8>, event: &Value) {
        let Some(event) = event.as_object() else { return };
        let Some(Value::Integer(ts)) = event.get("ts") else { return };
        write_object(&mut self.labels, event.get("labels"), &LABELS);
        write_object(&mut self.payload, event.get("payload"), &PAYLOAD);
        let labels = std::str::from_utf8(&self.labels).expect("written from strings");
        write_record(out, *ts, labels, &self.payload);
    }
}

/// `object`'s string fields named in `keys`, in that order, as a JSON object.
fn write_object(buffer: &mut Vec<u8>, object: Option<&Value>, keys: &[&str]) {
    buffer.clear();
    buffer.push(b'{');
    let fields = keys.iter().filter_map(|&key| {
        let text = match object?.as_object()?.get(key)? {
            Value::String(text) => Cow::Borrowed(&**text),
            Value::Bytes(bytes) => String::from_utf8_lossy(bytes),
            _ => return None,
        };
        Some((key, text))
    });
    for (i, (key, text)) in fields.enumerate() {
        if i > 0 {
            buffer.push(b',');
        }
        write_json_string(buffer, key);
        buffer.push(b':');
        write_json_string(buffer, &text);
    }
    buffer.push(b'}');
}
