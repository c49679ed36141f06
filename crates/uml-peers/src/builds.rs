//! The two build rules (`rules/build.uml`, `rules/gpu_build.uml`) ported by
//! hand the way the careful model container peer is ([`crate::careful`]):
//! the CRI line framed, the rule's regexes copied in the rule's order, a
//! JSON line (the Tekton entrypoint's zap objects, kaniko's JSON format)
//! decoded by serde_json into a borrowed struct, the record written by hand
//! into a reused buffer. Like every peer, they neither join partial pieces
//! nor group tracebacks (a shipper's source stage does that before the
//! transform); `tests/equivalence.rs` counts the lines where that shows.

use crate::careful::Field;
use crate::rule::{self, ERROR, INFO, Leaf, Route, level_from_name, strip_ansi};
use regex::{Captures, Regex};
use serde::Deserialize;
use std::borrow::Cow;

/// The part of both rules before their formats: a line's text without
/// colours, trailing whitespace and all but the last state of a line
/// redrawn with `\r`; `None` when nothing is left (the rules' `drop "empty
/// line"`).
fn cleaned(line: &str) -> Option<Cow<'_, str>> {
    // `replace(strip_ansi_escape_codes(%line), r'\s+$', "")`, then
    // `replace(text, r'^.*\r', "")`.
    let last_state = |text: &str| -> (usize, usize) {
        let text = text.trim_end();
        let start = text.rfind('\r').map_or(0, |r| r + 1);
        (start, text.len())
    };
    let text = match strip_ansi(line) {
        Cow::Borrowed(text) => {
            let (start, end) = last_state(text);
            Cow::Borrowed(&text[start..end])
        }
        Cow::Owned(mut text) => {
            let (start, end) = last_state(&text);
            text.truncate(end);
            text.drain(..start);
            Cow::Owned(text)
        }
    };
    (!text.trim().is_empty()).then_some(text)
}

/// Runs `payload` on each line of the CRI file `bytes` that is not empty
/// once cleaned, and writes its record as `uml run` writes it: `payload`
/// writes the level and the message into the buffer, this the rest.
fn run(
    route: Option<Route>,
    bytes: &[u8],
    out: &mut Vec<u8>,
    buffer: &mut Vec<u8>,
    mut payload: impl FnMut(&str, &mut Vec<u8>),
) {
    let Some(route) = route else { return };
    for raw in crate::lines(bytes) {
        let Some(cri) = crate::cri::parse(raw) else { continue };
        let line = String::from_utf8_lossy(cri.message);
        let Some(text) = cleaned(&line) else { continue };
        buffer.clear();
        buffer.extend_from_slice(b"{\"levelname\":\"");
        payload(&text, buffer);
        buffer.extend_from_slice(b",\"replica\":");
        rule::write_json_string(buffer, &route.replica);
        buffer.extend_from_slice(b",\"source\":\"");
        buffer.extend_from_slice(route.source.as_bytes());
        buffer.extend_from_slice(b"\"}");
        rule::write_record(out, cri.timestamp_ns, &route.labels_json, buffer);
    }
}

/// Writes `level","message":<message>` after `{"levelname":"`.
fn write_level_and_message(buffer: &mut Vec<u8>, level: &str, message: &[&str]) {
    buffer.extend_from_slice(level.as_bytes());
    buffer.extend_from_slice(b"\",\"message\":\"");
    for part in message {
        rule::write_json_string_body(buffer, part.as_bytes());
    }
    buffer.push(b'"');
}

/// `level(lvl) ?? "INFO"` of a capture.
fn level_of(captures: &Captures<'_>, name: &str) -> &'static str {
    captures.name(name).and_then(|m| level_from_name(m.as_str())).unwrap_or(INFO)
}

/// The keys of a build's JSON line that the rule reads.
#[derive(Deserialize)]
struct BuildObject<'a> {
    #[serde(borrow)]
    msg: Option<Field<'a>>,
    #[serde(borrow)]
    message: Option<Field<'a>>,
    #[serde(borrow)]
    level: Option<Field<'a>>,
    #[serde(borrow)]
    error: Option<Field<'a>>,
}

/// A field as the rule reads it: missing is null.
fn leaf<'a>(field: &Option<Field<'a>>) -> Leaf<'a> {
    field.as_ref().map_or(Leaf::Null, Field::leaf)
}

/// `rules/build.uml`: kaniko and the Tekton steps of the image build.
pub struct CarefulBuild {
    kaniko: Regex,
    logrus_text: Regex,
    go_error: Regex,
    level_prefix: Regex,
    go_log: Regex,
    buffer: Vec<u8>,
}

impl Default for CarefulBuild {
    fn default() -> CarefulBuild {
        let regex = |pattern: &str| Regex::new(pattern).expect("a valid regex");
        CarefulBuild {
            kaniko: regex(r"^(?P<lvl>TRAC|DEBU|INFO|WARN|ERRO|FATA|PANI)\[[^\]]*\]\s*(?P<msg>.*)$"),
            logrus_text: regex(r#"^time="[^"]*" level=[a-z]+(?: |$)"#),
            go_error: regex(r"^error [a-z][a-z ,-]*: "),
            level_prefix: regex(r"^(?P<lvl>(?i:error|warning)|E|W): "),
            go_log: regex(r"^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)? (?P<msg>.*)$"),
            buffer: Vec::new(),
        }
    }
}

impl CarefulBuild {
    /// The level and message of one cleaned line, written into `buffer`.
    fn payload(&self, line: &str, buffer: &mut Vec<u8>) {
        if line.trim_start().starts_with('{')
            && let Ok(object) = serde_json::from_str::<BuildObject<'_>>(line)
        {
            // `j.msg ?? j.message ?? line`, as text or compact JSON, without
            // colours, trimmed.
            let said = [&object.msg, &object.message].into_iter().find_map(|f| leaf(f).into_text());
            let said = said.unwrap_or(Cow::Borrowed(line));
            let said = strip_ansi(&said);
            let level = leaf(&object.level).level(None).unwrap_or(INFO);
            match &object.error {
                Some(Field::Text(error)) => write_level_and_message(buffer, level, &[said.trim(), ": ", error]),
                _ => write_level_and_message(buffer, level, &[said.trim()]),
            }
            return;
        }
        if let Some(c) = self.kaniko.captures(line) {
            write_level_and_message(buffer, level_of(&c, "lvl"), &[&c["msg"]]);
        } else if self.logrus_text.is_match(line) {
            let (level, msg) = logfmt_level_and_msg(line);
            let level = level.and_then(level_from_name).unwrap_or(INFO);
            write_level_and_message(buffer, level, &[msg.as_deref().unwrap_or(line)]);
        } else if self.go_error.is_match(line) {
            write_level_and_message(buffer, ERROR, &[line]);
        } else if let Some(c) = self.level_prefix.captures(line) {
            write_level_and_message(buffer, level_of(&c, "lvl"), &[line]);
        } else if let Some(c) = self.go_log.captures(line) {
            write_level_and_message(buffer, INFO, &[&c["msg"]]);
        } else {
            write_level_and_message(buffer, INFO, &[line]);
        }
    }
}

impl crate::Transform for CarefulBuild {
    fn run(&mut self, file_name: &str, bytes: &[u8], out: &mut Vec<u8>) {
        let route = Route::by_rule(
            file_name,
            "build",
            |container| container == "step-build" || container == "step-push",
            r"^build-(?P<mvid>[a-z0-9]+)-(?P<replica>[bcdfghjklmnpqrstvwxz2456789]{5})-pod$",
        );
        let mut buffer = std::mem::take(&mut self.buffer);
        run(route, bytes, out, &mut buffer, |line, buffer| self.payload(line, buffer));
        self.buffer = buffer;
    }
}

/// The `level` and `msg` of a logrus text line (`time="…" level=info
/// msg="…"`), as `parse_logfmt(line) ?? {}` reads them: `(None, None)`
/// when the line is not valid logfmt. Quoted values take Go's escapes.
fn logfmt_level_and_msg(line: &str) -> (Option<&str>, Option<Cow<'_, str>>) {
    let (mut level, mut msg) = (None, None);
    let b = line.as_bytes();
    let mut at = 0;
    while at < b.len() {
        if b[at] == b' ' {
            at += 1;
            continue;
        }
        let key_start = at;
        while at < b.len() && b[at] != b'=' && b[at] != b' ' {
            if b[at] == b'"' {
                return (None, None);
            }
            at += 1;
        }
        let key = &line[key_start..at];
        if at == b.len() || b[at] == b' ' {
            // A key alone: `true`, which names no level and is no text.
            if key == "msg" {
                msg = Some(Cow::Borrowed("true"));
            }
            continue;
        }
        if key.is_empty() {
            return (None, None);
        }
        at += 1;
        let value: Cow<'_, str> = if b.get(at) == Some(&b'"') {
            let Some((value, end)) = quoted(line, at + 1) else { return (None, None) };
            if end < b.len() && b[end] != b' ' {
                return (None, None);
            }
            at = end;
            value
        } else {
            let start = at;
            while at < b.len() && b[at] != b' ' {
                at += 1;
            }
            Cow::Borrowed(&line[start..at])
        };
        match key {
            "level" => level = Some(value),
            "msg" => msg = Some(value),
            _ => {}
        }
    }
    let level = level.map(|l| match l {
        Cow::Borrowed(l) => l,
        // An escaped level names no level.
        Cow::Owned(_) => "",
    });
    (level, msg)
}

/// A quoted logfmt value whose body starts at `from`: the decoded text and
/// the offset after its closing quote, or `None` when it does not close or
/// has an escape Go does not write.
fn quoted(line: &str, from: usize) -> Option<(Cow<'_, str>, usize)> {
    let b = line.as_bytes();
    let mut at = from;
    let mut decoded: Option<String> = None;
    let mut copied = from;
    loop {
        match *b.get(at)? {
            b'"' => {
                let value = match decoded {
                    None => Cow::Borrowed(&line[from..at]),
                    Some(mut text) => {
                        text.push_str(&line[copied..at]);
                        Cow::Owned(text)
                    }
                };
                return Some((value, at + 1));
            }
            b'\\' => {
                let text = decoded.get_or_insert_with(String::new);
                text.push_str(&line[copied..at]);
                let (c, used) = match *b.get(at + 1)? {
                    b'"' => ('"', 2),
                    b'\\' => ('\\', 2),
                    b'n' => ('\n', 2),
                    b't' => ('\t', 2),
                    b'r' => ('\r', 2),
                    b'u' => {
                        let hex = line.get(at + 2..at + 6)?;
                        (char::from_u32(u32::from_str_radix(hex, 16).ok()?)?, 6)
                    }
                    _ => return None,
                };
                text.push(c);
                at += used;
                copied = at;
            }
            _ => at += 1,
        }
    }
}

/// `rules/gpu_build.uml`: TensorRT and TensorRT-LLM engine builds.
pub struct CarefulGpuBuild {
    trt: Regex,
    trt_llm: Regex,
    python_logging: Regex,
    nccl: Regex,
    buffer: Vec<u8>,
}

impl Default for CarefulGpuBuild {
    fn default() -> CarefulGpuBuild {
        let regex = |pattern: &str| Regex::new(pattern).expect("a valid regex");
        CarefulGpuBuild {
            trt: regex(
                r"^\[[0-9]{2}/[0-9]{2}/[0-9]{4}-[0-9]{2}:[0-9]{2}:[0-9]{2}\] (?P<tags>(?:\[[^\]]+\] )*?)\[(?P<lvl>[A-Z])\] (?P<msg>.*)$",
            ),
            trt_llm: regex(
                r"^\[TensorRT-LLM\](?P<tags>(?:\[[^\]]+\])*?)\[(?P<lvl>TRACE|VERBOSE|DEBUG|INFO|WARNING|ERROR|INTERNAL_ERROR)\] ?(?P<msg>.*)$",
            ),
            python_logging: regex(
                r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3} - (?:\S+ - )?(?P<lvl>DEBUG|INFO|WARNING|ERROR|CRITICAL) - (?P<msg>.*)$",
            ),
            nccl: regex(r"^\S+:[0-9]+:[0-9]+ \[[0-9]+\] NCCL (?P<lvl>INFO|WARN) (?P<msg>.*)$"),
            buffer: Vec::new(),
        }
    }
}

impl CarefulGpuBuild {
    /// The level and message of one cleaned line, written into `buffer`.
    fn payload(&self, line: &str, buffer: &mut Vec<u8>) {
        if let Some(c) = self.trt.captures(line) {
            write_level_and_message(buffer, level_of(&c, "lvl"), &[&c["tags"], &c["msg"]]);
        } else if let Some(c) = self.trt_llm.captures(line) {
            let level = match &c["lvl"] {
                "VERBOSE" => Some(rule::DEBUG),
                "INTERNAL_ERROR" => Some(ERROR),
                word => level_from_name(word),
            };
            write_level_and_message(buffer, level.unwrap_or(INFO), &["[TensorRT-LLM]", &c["tags"], " ", &c["msg"]]);
        } else if let Some(c) = self.python_logging.captures(line) {
            write_level_and_message(buffer, level_of(&c, "lvl"), &[&c["msg"]]);
        } else if let Some(c) = self.nccl.captures(line) {
            write_level_and_message(buffer, level_of(&c, "lvl"), &["NCCL ", &c["msg"]]);
        } else {
            write_level_and_message(buffer, INFO, &[line]);
        }
    }
}

impl crate::Transform for CarefulGpuBuild {
    fn run(&mut self, file_name: &str, bytes: &[u8], out: &mut Vec<u8>) {
        let route = Route::by_rule(
            file_name,
            "gpu_build",
            |container| container == "builder",
            r"^gpu-build-(?P<mvid>[a-z0-9]+)-(?P<replica>[bcdfghjklmnpqrstvwxz2456789]{5})$",
        );
        let mut buffer = std::mem::take(&mut self.buffer);
        run(route, bytes, out, &mut buffer, |line, buffer| self.payload(line, buffer));
        self.buffer = buffer;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logfmt_reads_level_and_msg() {
        let line = r#"time="2026-11-20T03:28:32Z" level=warning msg="Error while retrieving image from cache: \"python:3.11\"" error="not found""#;
        let (level, msg) = logfmt_level_and_msg(line);
        assert_eq!(level, Some("warning"));
        assert_eq!(msg.as_deref(), Some(r#"Error while retrieving image from cache: "python:3.11""#));
        assert_eq!(logfmt_level_and_msg(r#"time="2026-11-20T03:28:33Z" level=debug"#), (Some("debug"), None));
        assert_eq!(logfmt_level_and_msg(r#"time="x" level=info msg="open"#), (None, None));
    }

    #[test]
    fn cleaned_keeps_the_last_state() {
        assert_eq!(cleaned("\x1b[36mINFO\x1b[0m[0000] Retrieving   ").as_deref(), Some("INFO[0000] Retrieving"));
        assert_eq!(cleaned("\r 50%\r100% done \r").as_deref(), Some("100% done"));
        assert_eq!(cleaned("\r"), None);
        assert_eq!(cleaned("  "), None);
    }
}
