//! LuaJIT, as a Fluent Bit Lua filter runs the transform: `model_container.lua`
//! on LuaJIT 2.1 (mlua, built from source), called once per line.
//!
//! The host does what Fluent Bit does in C around its Lua filter: it frames
//! the CRI line, hands the container's line to the script as a Lua string,
//! and writes the record the script's values make. The script decodes JSON
//! with `json_decode`, which stands in for lua-cjson (a C library, not on
//! crates.io): serde_json reads the object and mlua builds the Lua table,
//! JSON `null` becoming a light userdata as with cjson. Everything else,
//! levels, colours, trimming and the plain-text formats, is Lua.

use crate::rule::{self, Payload, Route};
use mlua::{Function, Lua, LuaSerdeExt, Value};
use std::borrow::Cow;

/// The script, as a Fluent Bit user would deploy it.
pub const PROGRAM: &str = include_str!("model_container.lua");

pub struct LuaJit {
    _lua: Lua,
    transform: Function,
    /// The payload of the current record, before it is embedded as a string.
    payload: Vec<u8>,
}

impl Default for LuaJit {
    fn default() -> LuaJit {
        let lua = Lua::new();
        let globals = lua.globals();
        let decode = lua
            .create_function(|lua, text: mlua::String| {
                match serde_json::from_slice::<serde_json::Value>(&text.as_bytes()) {
                    Ok(object @ serde_json::Value::Object(_)) => lua.to_value(&object),
                    _ => Ok(Value::Nil),
                }
            })
            .expect("a host function");
        let encode = lua
            .create_function(|lua, value: Value| {
                let json: serde_json::Value = lua.from_value(value)?;
                Ok(json.to_string())
            })
            .expect("a host function");
        globals.set("json_decode", decode).expect("a global");
        globals.set("json_encode", encode).expect("a global");
        lua.load(PROGRAM).set_name("model_container.lua").exec().expect("the Lua program loads");
        let transform = globals.get("transform").expect("the program defines `transform`");
        LuaJit { _lua: lua, transform, payload: Vec::new() }
    }
}

/// The four levels the script returns, as the writer's constants.
fn level(text: &[u8]) -> &'static str {
    match text {
        b"DEBUG" => rule::DEBUG,
        b"WARNING" => rule::WARNING,
        b"ERROR" => rule::ERROR,
        _ => rule::INFO,
    }
}

fn text(value: &Option<mlua::String>) -> Option<Cow<'static, str>> {
    value.as_ref().map(|s| Cow::Owned(s.to_string_lossy()))
}

type Returned = (Option<mlua::String>, Option<mlua::String>, Option<mlua::String>, Option<mlua::String>);

impl crate::Transform for LuaJit {
    fn run(&mut self, file_name: &str, bytes: &[u8], out: &mut Vec<u8>) {
        let Some(route) = Route::from_file_name(file_name) else { return };
        for raw in crate::lines(bytes) {
            let Some(cri) = crate::cri::parse(raw) else { continue };
            let line = String::from_utf8_lossy(cri.message);
            let returned: Returned = self.transform.call(line.as_ref()).expect("the Lua program runs");
            let (Some(levelname), message, exc_info, request_id) = returned else { continue };
            let payload = Payload {
                levelname: level(&levelname.as_bytes()),
                message: text(&message).unwrap_or_default(),
                exc_info: text(&exc_info),
                request_id: text(&request_id),
            };
            rule::write_payload_record(out, &mut self.payload, cri.timestamp_ns, &route, &payload);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transform(line: &str) -> Option<(String, String, Option<String>, Option<String>)> {
        let lua = LuaJit::default();
        let (level, message, exc_info, request_id): Returned = lua.transform.call(line).unwrap();
        let text = |s: Option<mlua::String>| s.map(|s| s.to_string_lossy());
        Some((text(level)?, text(message)?, text(exc_info), text(request_id)))
    }

    #[test]
    fn plain_text_formats_as_the_rule() {
        let cases = [
            ("INFO:     Started server process [12625]", "INFO", "Started server process [12625]"),
            ("ERROR:root:predict failed", "ERROR", "predict failed"),
            ("I1012 01:17:48.317907 1 grpc_server.cc:2451] Started", "INFO", "Started"),
            ("E20261012 01:17:48.317907 1 server.cc:1] lost", "ERROR", "lost"),
            ("2026-11-20 07:07:55,838 - model - WARNING - Slow", "WARNING", "Slow"),
            ("2026-11-20 07:07:55,838 - ERROR - Failed", "ERROR", "Failed"),
            (
                "(APIServer pid=1) INFO 11-20 04:54:33 [api_server.py:598] Ok",
                "INFO",
                "(APIServer pid=1) [api_server.py:598] Ok",
            ),
            ("XINFO 11-20 04:54:33 x DEBUG 11-20 04:54:33.5 y", "INFO", "Xx DEBUG 11-20 04:54:33.5 y"),
            ("INFO 11-20 04:54:33.x ERROR 11-20 04:54:34 z", "ERROR", "INFO 11-20 04:54:33.x z"),
            (
                "2026-11-20T04:54:33.123456Z  WARN text_generation_launcher: slow",
                "WARNING",
                "text_generation_launcher: slow",
            ),
            ("2026-11-20 10:05:07.761 | SUCCESS  | model:run:58 - done", "INFO", "model:run:58 - done"),
            ("/app/model.py:12: UserWarning: old", "WARNING", "/app/model.py:12: UserWarning: old"),
            ("\x1b[31mplain\x1b[0m print output  ", "INFO", "plain print output"),
            ("50%|█   | 1/2\r100%|██| 2/2   ", "INFO", "100%|██| 2/2"),
            // Unicode whitespace is the regexes' `\s` and `trim`'s.
            ("INFO:\u{2003}ok\u{a0}", "INFO", "ok"),
            ("2026-11-20T04:54:33Z\u{a0}ERROR\u{3000}boom", "ERROR", "boom"),
            (
                "2026-11-20 07:07:55 - a\u{a0}b - ERROR - Failed",
                "INFO",
                "2026-11-20 07:07:55 - a\u{a0}b - ERROR - Failed",
            ),
            // FastChat before loguru; TensorFlow's absl, absl's epoch form,
            // a Rust main's error and a bracketed level (tests/real).
            (
                "2023-08-31 16:37:08 | ERROR | stderr | INFO:     Started server process [23092]",
                "INFO",
                "Started server process [23092]",
            ),
            ("2023-08-31 16:37:08 | INFO | stdout | WARNING:\tslow", "WARNING", "slow"),
            ("2023-08-31 16:37:08 | ERROR | stdin | INFO:  x", "ERROR", "stdin | INFO:  x"),
            ("2023-08-31 16:37:08 | ERROR | model:run:1 - failed", "ERROR", "model:run:1 - failed"),
            (
                "2019-07-21 23:23:06.224853: E tensorflow/stream_executor/cuda/cuda_blas.cc:238] failed to create cublas handle",
                "ERROR",
                "failed to create cublas handle",
            ),
            ("2019-07-21 23:23:06.2: W a.cc:1]x] y", "INFO", "2019-07-21 23:23:06.2: W a.cc:1]x] y"),
            (
                "E0000 00:00:1746473191.043694    2883 cuda_dnn.cc:8310] Unable to register cuDNN factory",
                "ERROR",
                "Unable to register cuDNN factory",
            ),
            ("W0000 00:00:1746473191.5 1 gpu.cc:7] slow", "WARNING", "slow"),
            ("W0000 00:00:1746473191.5 1 gpu.cc:7] ", "INFO", "W0000 00:00:1746473191.5 1 gpu.cc:7]"),
            ("Error: ShardCannotStart", "ERROR", "Error: ShardCannotStart"),
            ("Error:ShardCannotStart", "INFO", "Error:ShardCannotStart"),
            (
                "torch.distributed.elastic.multiprocessing.api: [ERROR] failed (exitcode: -9) local_rank: 1 (pid: 14447) of binary: /usr/bin/python",
                "ERROR",
                "torch.distributed.elastic.multiprocessing.api: failed (exitcode: -9) local_rank: 1 (pid: 14447) of binary: /usr/bin/python",
            ),
            ("[WARN] disk low", "WARNING", "disk low"),
            ("[rank0]: [ERROR] lost", "INFO", "[rank0]: [ERROR] lost"),
            ("/app/x.py:3: [ERROR] no", "ERROR", "/app/x.py:3: no"),
        ];
        let regexes = rule::TextBranch::default();
        for (line, level, message) in cases {
            let (l, m, _, _) = transform(line).unwrap_or_else(|| panic!("{line:?} was dropped"));
            assert_eq!((l.as_str(), m.as_str()), (level, message), "{line:?}");
            // The Rust peers' regexes, copied from the rule, agree.
            let (l, m) = regexes.apply(line).unwrap();
            assert_eq!((l, m.as_ref()), (level, message), "the regexes on {line:?}");
        }
        assert_eq!(transform(" \r  "), None);
    }

    #[test]
    fn json_objects_as_the_rule() {
        let (level, message, exc_info, request_id) = transform(
            r#"{"levelname": "ERROR", "message": "", "exc_info": "Traceback\nValueError: bad", "request_id": 7}"#,
        )
        .unwrap();
        assert_eq!((level.as_str(), message.as_str()), ("ERROR", "ValueError: bad"));
        assert_eq!((exc_info.as_deref(), request_id.as_deref()), (Some("Traceback\nValueError: bad"), Some("7")));
        let (level, message, _, request_id) =
            transform(r#"{"levelno": 30, "msg": "\u001b[1mhi\u001b[0m ", "request_id": null}"#).unwrap();
        assert_eq!((level.as_str(), message.as_str(), request_id), ("WARNING", "hi", None));
    }

    #[test]
    fn every_key_and_scale_of_the_rule() {
        let cases: &[(&str, &str, &str, Option<&str>)] = &[
            (r#"{"level":30,"time":1,"msg":"up"}"#, "INFO", "up", None),
            (r#"{"level":"35","msg":"up"}"#, "INFO", "up", None),
            (
                r#"{"level":3,"short_message":"disk","full_message":"Traceback\nOSError: full"}"#,
                "ERROR",
                "disk",
                Some("Traceback\nOSError: full"),
            ),
            (r#"{"level":6,"short_message":"ok"}"#, "INFO", "ok", None),
            (r#"{"level":9,"short_message":"ok"}"#, "INFO", "ok", None),
            (
                r#"{"level":"warn","msg":"slow","err":{"stack":"Error: x\n    at f"}}"#,
                "WARNING",
                "slow",
                Some("Error: x\n    at f"),
            ),
            (r#"{"lvl":"eror","msg":"db down"}"#, "ERROR", "db down", None),
            (r#"{"lvl":"dbug","msg":"m"}"#, "DEBUG", "m", None),
            (r#"{"log.level":"warn","message":"m"}"#, "WARNING", "m", None),
            (r#"{"log":{"level":"error"},"message":"m"}"#, "ERROR", "m", None),
            (r#"{"@l":"Warning","@mt":"Hello, {User}"}"#, "WARNING", "Hello, {User}", None),
            (r#"{"@m":"m","@x":"System.Exception: x"}"#, "ERROR", "m", Some("System.Exception: x")),
            (r#"{"record":{"level":{"name":"ERROR"},"message":"m","exception":null}}"#, "ERROR", "m", None),
            (r#"{"record":"text","message":"m","levelname":"WARNING"}"#, "WARNING", "m", None),
            (r#"{"severity":40,"message":"m"}"#, "INFO", "m", None),
            (r#"{"levelno":"25","message":"m"}"#, "INFO", "m", None),
            (r#"{"levelno":-5,"levelname":null,"level":50,"message":"m"}"#, "ERROR", "m", None),
            (r#"{"event":"e","exception":"None"}"#, "INFO", "e", None),
            (r#"{"event":"e","exc_info":true,"stack":"not read"}"#, "INFO", "e", None),
            (r#"{"message":"m","exc_info":"NoneType: None"}"#, "INFO", "m", None),
            (r#"{"message":"m","exception":{"stacktrace":"at A\nat B"}}"#, "ERROR", "m", Some("at A\nat B")),
            (r#"{"message":"m","exception":{"type":"E"}}"#, "ERROR", "m", Some(r#"{"type":"E"}"#)),
            (r#"{"message":"m","exc_info":0}"#, "ERROR", "m", Some("0")),
            (r#"{"message":"m","exc_info":[]}"#, "ERROR", "m", Some("[]")),
            (r#"{"message":"m","_exception":{"stackTrace":" x "}}"#, "ERROR", "m", Some("x")),
            (
                r#"{"message":"","stack":"Error: boom\n    at main"}"#,
                "ERROR",
                "    at main",
                Some("Error: boom\n    at main"),
            ),
            (r#"{"msg":"","x":1} "#, "INFO", r#"{"msg":"","x":1} "#, None),
            (r#"{"msg":null,"event":7.5}"#, "INFO", "7.5", None),
            (r#"{"message":[],"levelname":"I"}"#, "INFO", "[]", None),
            (r#"{"message":{},"levelname":"[W]"}"#, "WARNING", "{}", None),
            (r#"{"message":"\u00a0hi\u2003"}"#, "INFO", "hi", None),
        ];
        for &(line, level, message, exc_info) in cases {
            let (l, m, e, _) = transform(line).unwrap();
            assert_eq!((l.as_str(), m.as_str(), e.as_deref()), (level, message, exc_info), "{line}");
        }
    }
}
