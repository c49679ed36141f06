//! JSON strings on the output side, for the record writer.
//!
//! A payload is one JSON object per record, and nearly all of it is string
//! values: `message`, `exc_info`, the level. Two cases:
//!
//! - a string the rule computed (a `&str`): [`write_json_string`] escapes it;
//! - a string taken from a JSON line as it is (`payload.message =
//!   to_string(j.message)` when `message` is a string): the scanner
//!   ([`crate::json`]) left its body undecoded, with flags that say what is
//!   in it, and [`copy_json_string_body`] copies it through without decoding
//!   and re-encoding, rewriting only the escapes [`write_json_string`] would
//!   not have written, so that the output is the same either way.
//!
//! Both find the bytes that need attention several at a time (the writer
//! sixteen, with the scanner's vector compare; the copier eight, between
//! the escapes it passes over: [`crate::json`]'s `find_special`) and copy
//! the runs between them in one go.
//!
//! The output follows RFC 8259 and docs/contract.md, "The unified record":
//! valid UTF-8 (the input is), `"` and `\` escaped, control characters below
//! U+0020 escaped as `\b \f \n \r \t` or `\u00XX`, everything else verbatim
//! (as serde_json writes strings).

use crate::json::{RawValue, decode_unicode_escape, find_special, special_chunk};

/// The letter of a byte's two-character escape (`\n` for a newline), or
/// `None` for a control character written `\u00XX`.
#[inline(always)]
fn short_escape(c: u8) -> Option<u8> {
    match c {
        b'"' => Some(b'"'),
        b'\\' => Some(b'\\'),
        b'\n' => Some(b'n'),
        b'\r' => Some(b'r'),
        b'\t' => Some(b't'),
        0x08 => Some(b'b'),
        0x0c => Some(b'f'),
        _ => None,
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the JSON escape of a byte that needs one: `"`, `\\` or a control
/// character.
#[inline(always)]
fn write_escape(out: &mut Vec<u8>, c: u8) {
    match short_escape(c) {
        Some(letter) => out.extend_from_slice(&[b'\\', letter]),
        None => out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]),
    }
}

/// Appends `value` as a JSON string, quotes included.
///
/// Allocates only by growing `out`: by `value.len() + 2` bytes when nothing
/// needs escaping, at most `6 * value.len() + 2`.
///
/// ```
/// # use uml_runtime::stdlib::json_string::write_json_string;
/// let mut out = Vec::new();
/// write_json_string(&mut out, "172.17.0.6:0 - \"POST /v1\" 200\n");
/// assert_eq!(out, br#""172.17.0.6:0 - \"POST /v1\" 200\n""#);
/// ```
pub fn write_json_string(out: &mut Vec<u8>, value: &str) {
    out.reserve(value.len() + 2);
    out.push(b'"');
    write_json_string_body(out, value.as_bytes());
    out.push(b'"');
}

/// Appends `value` escaped for the inside of a JSON string, without the
/// quotes: for a string written in pieces (a message and a cut marker), or
/// JSON embedded in JSON (a payload in an NDJSON line). The output is valid
/// UTF-8 when `value` is. Allocates only by growing `out`.
///
/// ```
/// # use uml_runtime::stdlib::json_string::write_json_string_body;
/// let mut out = Vec::new();
/// write_json_string_body(&mut out, br#"{"message":"a\tb"}"#);
/// assert_eq!(out, br#"{\"message\":\"a\\tb\"}"#);
/// ```
pub fn write_json_string_body(out: &mut Vec<u8>, value: &[u8]) {
    escape_with(out, value, write_escape);
}

/// Appends `value` escaped twice for the inside of a JSON string: what
/// [`write_json_string_body`] would make of its own output, in one pass.
/// For a string inside a payload that is itself embedded as a string (the
/// NDJSON `line`): `"` becomes `\\\"`, `\` becomes `\\\\`, a newline
/// `\\n`.
///
/// ```
/// # use uml_runtime::stdlib::json_string::{write_json_string_body, write_json_string_body_twice};
/// let value = "say \"hi\"\n\\ \x01 é";
/// let mut once = Vec::new();
/// write_json_string_body(&mut once, value.as_bytes());
/// let mut twice_by_two = Vec::new();
/// write_json_string_body(&mut twice_by_two, &once);
/// let mut twice = Vec::new();
/// write_json_string_body_twice(&mut twice, value.as_bytes());
/// assert_eq!(twice, twice_by_two);
/// ```
pub fn write_json_string_body_twice(out: &mut Vec<u8>, value: &[u8]) {
    escape_with(out, value, write_escape_twice);
}

/// Appends the escape of an escape: [`write_escape`]'s output, escaped.
#[inline(always)]
fn write_escape_twice(out: &mut Vec<u8>, c: u8) {
    match short_escape(c) {
        Some(letter @ (b'"' | b'\\')) => out.extend_from_slice(&[b'\\', b'\\', b'\\', letter]),
        Some(letter) => out.extend_from_slice(&[b'\\', b'\\', letter]),
        None => {
            out.extend_from_slice(&[b'\\', b'\\', b'u', b'0', b'0', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]])
        }
    }
}

/// The escaping loop of [`write_json_string_body`], with the escape of a
/// byte that needs one (`"`, `\\`, a control character) given.
///
/// Plain runs are found sixteen bytes at a time (a vector compare, the
/// scanner's [`special_chunk`]). Each chunk is appended whole before it is
/// looked at (one store, no copy call per run), and cut back to its plain
/// bytes when one needs an escape; the last bytes go through one padded
/// chunk, whose bits say which to escape.
#[inline(always)]
fn escape_with<F: Fn(&mut Vec<u8>, u8)>(out: &mut Vec<u8>, value: &[u8], escape: F) {
    out.reserve(value.len() + 16);
    let mut i = 0;
    while let Some(chunk) = value.get(i..i + 16) {
        let chunk: [u8; 16] = chunk.try_into().expect("sixteen bytes");
        let mask = special_chunk(chunk);
        out.extend_from_slice(&chunk);
        if mask == 0 {
            i += 16;
            continue;
        }
        let plain = mask.trailing_zeros() as usize;
        out.truncate(out.len() - 16 + plain);
        i += plain;
        escape(out, value[i]);
        i += 1;
    }
    // The last bytes, fewer than sixteen: one chunk padded with spaces,
    // which are not special, tells which need an escape (short values, a
    // level or a name, are nothing but this, and go in one copy).
    let rest = &value[i..];
    let mut chunk = [b' '; 16];
    chunk[..rest.len()].copy_from_slice(rest);
    let mut mask = special_chunk(chunk);
    let mut copied = 0;
    while mask != 0 {
        let at = mask.trailing_zeros() as usize;
        out.extend_from_slice(&rest[copied..at]);
        escape(out, rest[at]);
        copied = at + 1;
        mask &= mask - 1;
    }
    out.extend_from_slice(&rest[copied..]);
}

/// Whether [`copy_json_string_body`] copies a body with these flags as it
/// is: its escapes, if any, are all the writer's own.
pub fn copies_as_is(flags: u8) -> bool {
    flags & (RawValue::UNICODE | RawValue::SLASH | RawValue::CONTROL) == 0
}

/// Appends a JSON string body that [`crate::json`]'s scanner validated,
/// without its quotes, as the inside of a JSON string written exactly as
/// [`write_json_string_body`] writes the decoded string: so a record's
/// bytes, and so where `max_record_size` cuts it, do not depend on how the
/// input happened to escape its strings.
///
/// That is one copy when `flags` (its [`RawValue::flags`]) has none of
/// [`RawValue::UNICODE`], [`RawValue::SLASH`] and [`RawValue::CONTROL`]: the
/// other escapes (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`) are the
/// writer's own. Otherwise
///
/// - each `\u` escape is written as the writer writes its character (a
///   surrogate pair as one character, a lone surrogate as U+FFFD, the
///   character `parse_json` decodes it to);
/// - `\/` becomes `/`;
/// - each raw control character (which strict JSON forbids but the scanner
///   accepts) is escaped;
/// - the other escapes are kept.
///
/// `body` must be the body of a string the scanner accepted in valid UTF-8
/// text (a `%line` always is), and `flags` its flags. Allocates only by
/// growing `out`, by at most `6 * body.len()` bytes (`body.len()` without
/// control characters).
///
/// ```
/// # use uml_runtime::{json::scan_value, stdlib::json_string::copy_json_string_body};
/// let line = "\"lone \\ud800, pair \\ud83d\\ude00, caf\\u00e9 \\/, tab\t\"";
/// let raw = scan_value(line.as_bytes()).unwrap();
/// let mut out = Vec::new();
/// copy_json_string_body(&mut out, raw.string_body(line.as_bytes()), raw.flags);
/// assert_eq!(String::from_utf8(out).unwrap(), "lone \u{FFFD}, pair 😀, café /, tab\\t");
/// ```
pub fn copy_json_string_body(out: &mut Vec<u8>, body: &[u8], flags: u8) {
    if copies_as_is(flags) {
        out.extend_from_slice(body);
        return;
    }
    let mut run = 0;
    let mut next = 0;
    while let Some(mut i) = find_special(body, next) {
        match body[i] {
            b'\\' if body.get(i + 1) == Some(&b'u') => {
                let (c, used) = decode_unicode_escape(&body[i..]);
                out.extend_from_slice(&body[run..i]);
                match u8::try_from(c) {
                    Ok(b) if b == b'"' || b == b'\\' || b < 0x20 => write_escape(out, b),
                    _ => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                }
                i += used;
                run = i;
            }
            b'\\' if body.get(i + 1) == Some(&b'/') => {
                out.extend_from_slice(&body[run..i]);
                out.push(b'/');
                i += 2;
                run = i;
            }
            // Any other escape is two bytes, kept.
            b'\\' => i += 2,
            c @ 0x00..=0x1f => {
                out.extend_from_slice(&body[run..i]);
                write_escape(out, c);
                i += 1;
                run = i;
            }
            // A `"` cannot be in a scanned body; kept total all the same.
            _ => i += 1,
        }
        next = i;
    }
    out.extend_from_slice(&body[run.min(body.len())..]);
}

/// Appends `s` as a JSON string to a `String`.
pub fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    push_json_body(out, s);
    out.push('"');
}

/// Appends `s` escaped as the body of a JSON string (`"`, `\`, and control
/// characters; `\n`, `\r`, `\t`, `\b`, `\f` by name, the rest as `\u00XX`).
pub fn push_json_body(out: &mut String, s: &str) {
    let mut run = 0;
    for (i, c) in s.bytes().enumerate() {
        let esc: &str = match c {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..0x20 => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(c >> 4)]));
            out.push(char::from(HEX[usize::from(c & 15)]));
        } else {
            out.push_str(esc);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::scan_value;

    fn written(s: &str) -> String {
        let mut out = b"x".to_vec();
        write_json_string(&mut out, s);
        String::from_utf8(out).unwrap().strip_prefix('x').unwrap().to_owned()
    }

    #[test]
    fn escapes() {
        let cases: &[(&str, &str)] = &[
            ("", r#""""#),
            ("INFO", r#""INFO""#),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("line\nnext\r\ttab", r#""line\nnext\r\ttab""#),
            ("\x08\x0c\x00\x1f\x1b\x7f", "\"\\b\\f\\u0000\\u001f\\u001b\x7f\""),
            ("ünïcödé ✓ 😀 \u{2028}", "\"ünïcödé ✓ 😀 \u{2028}\""),
            ("/slashes/ stay", r#""/slashes/ stay""#),
            // Long enough for the eight-byte path, with specials at every offset.
            ("0123456789abcdef\"0123456\n89abcdef", r#""0123456789abcdef\"0123456\n89abcdef""#),
            (
                "platform payload: {\"levelname\":\"INFO\"} and a much longer tail without specials",
                r#""platform payload: {\"levelname\":\"INFO\"} and a much longer tail without specials""#,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(written(input), *want, "{input:?}");
            assert_eq!(serde_json::from_str::<String>(want).unwrap(), *input);
        }
    }

    fn copied(json: &str) -> String {
        let raw = scan_value(json.as_bytes()).unwrap();
        let mut out = Vec::new();
        copy_json_string_body(&mut out, raw.string_body(json.as_bytes()), raw.flags);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn copies_bodies() {
        let cases: &[(&str, &str)] = &[
            (r#""plain""#, "plain"),
            (r#""escapes \" \\ \n \b \f kept""#, r#"escapes \" \\ \n \b \f kept"#),
            (r#""\/ is a slash""#, "/ is a slash"),
            (r#""\u00e9 decoded""#, "é decoded"),
            (r#""pair \ud83d\ude00 decoded""#, "pair 😀 decoded"),
            (r#""lone high \ud800 x""#, "lone high \u{FFFD} x"),
            (r#""lone low \udc00""#, "lone low \u{FFFD}"),
            (r#""\ud800\ud800\ude00""#, "\u{FFFD}\u{10200}"),
            (r#""\ud800\u0041""#, "\u{FFFD}A"),
            (r#""high at end \uDBFF""#, "high at end \u{FFFD}"),
            (r#""\\ud800 is not an escape""#, r#"\\ud800 is not an escape"#),
            (r#""\u0022 \u005C \u000A \u0008 \u001B \u001b""#, r#"\" \\ \n \b \u001b \u001b"#),
            ("\"raw\ttab and\x01ctl\"", r#"raw\ttab and\u0001ctl"#),
            ("\"mixed \\ud800\tand 0123456789\"", "mixed \u{FFFD}\\tand 0123456789"),
            (r#""\uFFFD stays the same""#, "\u{FFFD} stays the same"),
        ];
        for (json, want) in cases {
            let got = copied(json);
            assert_eq!(got, *want, "{json:?}");
            serde_json::from_str::<String>(&format!("\"{got}\"")).unwrap();
        }
    }
}
