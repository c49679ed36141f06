//! `parse_common_log`: an access-log line in the Common Log Format of
//! Apache httpd and nginx, or its Combined form (`docs/language.md` §10.1).
//!
//! ```text
//! 127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326
//! host      ident user  time                     request                        status size
//! … 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"
//!            referer                             agent        (the Combined form)
//! ```
//!
//! A field that is `-` has no value (`null`). The quoted fields may hold
//! escapes: Apache writes `\"` and `\\`, nginx `\xHH` (`\x22` for a quote);
//! they are decoded. After the agent a line may go on (nginx's `main`
//! format adds `"$http_x_forwarded_for"`); the rest is ignored. The request
//! is also split into `method`, `path` and `protocol` when it has those
//! three parts.

use super::error_enum;
use super::json_string::push_json_str;
use super::native::{Args, Context, Fails, Failure, Kinds, Native, Param, Ret, Returns};
use super::number::format_int;
use super::timestamp::{TimestampFormat, parse_timestamp};
use crate::stdlib::builtins::ObjectWriter;
use std::sync::OnceLock;

error_enum! {
    /// Why a line is not a common log line: the first field that is wrong.
    pub enum CommonLogError {
        Host => "not a common log line: no host",
        Ident => "not a common log line: no ident",
        User => "not a common log line: no user",
        Time => "not a common log line: no [time] as 10/Oct/2000:13:55:36 -0700",
        Request => "not a common log line: no quoted request",
        Status => "not a common log line: no three-digit status",
        Size => "not a common log line: no size",
        Referer => "not a combined log line: no quoted referer",
        Agent => "not a combined log line: no quoted user agent",
    }
}

/// A parsed line. Quoted fields are still escaped ([`unescape`] decodes
/// them); `None` is a `-`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommonLog<'a> {
    pub host: &'a str,
    pub ident: Option<&'a str>,
    pub user: Option<&'a str>,
    /// The time, ns since the epoch.
    pub timestamp: i64,
    pub request: &'a str,
    pub status: i64,
    pub size: Option<i64>,
    /// The Combined form's two fields, if the line has them.
    pub referer: Option<Option<&'a str>>,
    pub agent: Option<Option<&'a str>>,
}

/// The time's format, `10/Oct/2000:13:55:36 -0700`, compiled once.
fn time_format() -> Option<&'static TimestampFormat> {
    static FORMAT: OnceLock<Option<TimestampFormat>> = OnceLock::new();
    FORMAT.get_or_init(|| TimestampFormat::compile(TIME_FORMAT).ok()).as_ref()
}

const TIME_FORMAT: &str = "%d/%b/%Y:%H:%M:%S %z";

/// Parses a common or combined log line.
pub fn parse_common_log(line: &str) -> Result<CommonLog<'_>, CommonLogError> {
    let mut rest = line;
    let host = word(&mut rest).ok_or(CommonLogError::Host)?;
    let ident = word(&mut rest).ok_or(CommonLogError::Ident)?;
    let user = word(&mut rest).ok_or(CommonLogError::User)?;
    let time = rest.strip_prefix('[').and_then(|r| r.split_once("] ")).ok_or(CommonLogError::Time)?;
    rest = time.1;
    let timestamp = match time_format() {
        Some(format) => format.parse(time.0),
        None => parse_timestamp(time.0, TIME_FORMAT),
    }
    .map_err(|_| CommonLogError::Time)?;
    let request = quoted(&mut rest).ok_or(CommonLogError::Request)?;
    let status = word(&mut rest)
        .filter(|s| s.len() == 3 && s.bytes().all(|c| c.is_ascii_digit()))
        .and_then(|s| s.parse().ok())
        .ok_or(CommonLogError::Status)?;
    let size = match word(&mut rest).ok_or(CommonLogError::Size)? {
        "-" => None,
        s => Some(s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or(CommonLogError::Size)?),
    };
    let (referer, agent) = if rest.is_empty() {
        (None, None)
    } else {
        let referer = quoted(&mut rest).ok_or(CommonLogError::Referer)?;
        let agent = quoted(&mut rest).ok_or(CommonLogError::Agent)?;
        (Some(dash(referer)), Some(dash(agent)))
    };
    Ok(CommonLog { host, ident: dash(ident), user: dash(user), timestamp, request, status, size, referer, agent })
}

/// The next field up to a space (or the end), and `rest` after the space.
fn word<'a>(rest: &mut &'a str) -> Option<&'a str> {
    let (field, after) = rest.split_once(' ').unwrap_or((rest, ""));
    if field.is_empty() {
        return None;
    }
    *rest = after;
    Some(field)
}

/// The next field in double quotes (still escaped), and `rest` after it and
/// the space that follows it.
fn quoted<'a>(rest: &mut &'a str) -> Option<&'a str> {
    let body = rest.strip_prefix('"')?;
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => {
                let after = &body[i + 1..];
                if !after.is_empty() && !after.starts_with(' ') {
                    return None;
                }
                *rest = after.strip_prefix(' ').unwrap_or(after);
                return Some(&body[..i]);
            }
            _ => i += 1,
        }
    }
    None
}

fn dash(field: &str) -> Option<&str> {
    (field != "-").then_some(field)
}

/// Appends a quoted field decoded: `\"`, `\\` and nginx's `\xHH` (of an
/// ASCII byte) become the character; any other backslash stays.
pub fn unescape(field: &str, out: &mut String) {
    let mut rest = field;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let hex = after.strip_prefix('x').and_then(|h| h.get(..2)).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (after.as_bytes().first(), hex) {
            (Some(b'x'), Some(byte)) if byte.is_ascii() => {
                out.push(char::from(byte));
                rest = &after[3..];
            }
            (Some(&c @ (b'"' | b'\\')), _) => {
                out.push(char::from(c));
                rest = &after[1..];
            }
            _ => {
                out.push('\\');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

pub const PARSE_COMMON_LOG: Native = Native {
    name: "parse_common_log",
    params: &[Param::new("value", Kinds::STRING)],
    fails: Fails::Always,
    returns: Returns::Kinds(Kinds::OBJECT),
    call: Some(call),
};

fn call<'a>(args: Args<'a, '_>, out: &mut String, _: &Context) -> Result<Ret<'a>, Failure> {
    let log = parse_common_log(args.string(0)?).map_err(|e| Failure::new(e.message()))?;
    let mut decoded = String::new();
    let mut text = |out: &mut String, field: Option<&str>| match field {
        Some(f) if f.contains('\\') => {
            decoded.clear();
            unescape(f, &mut decoded);
            push_json_str(out, &decoded);
        }
        Some(f) => push_json_str(out, f),
        None => out.push_str("null"),
    };
    let mut members = ObjectWriter::new(out);
    text(members.key("host"), Some(log.host));
    text(members.key("ident"), log.ident);
    text(members.key("user"), log.user);
    format_int(log.timestamp, members.key("timestamp"));
    text(members.key("request"), Some(log.request));
    let mut parts = log.request.split(' ');
    let (method, path, protocol) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(p), Some(v), None) if !m.is_empty() && !p.is_empty() && v.starts_with("HTTP/") => {
            (Some(m), Some(p), Some(v))
        }
        _ => (None, None, None),
    };
    text(members.key("method"), method);
    text(members.key("path"), path);
    text(members.key("protocol"), protocol);
    format_int(log.status, members.key("status"));
    match log.size {
        Some(n) => format_int(n, members.key("size")),
        None => members.key("size").push_str("null"),
    }
    if let (Some(referer), Some(agent)) = (log.referer, log.agent) {
        text(members.key("referer"), referer);
        text(members.key("agent"), agent);
    }
    Ok(members.end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stdlib::native::Arg;

    fn object(line: &str) -> Result<String, Failure> {
        let mut out = String::new();
        call(Args::new(&[Some(Arg::Str(line))]), &mut out, &Context::default()).map(|_| out)
    }

    /// The example of Apache httpd's documentation, "Log Files", Common Log
    /// Format (httpd.apache.org/docs/2.4/logs.html).
    #[test]
    fn apache_common() {
        let line = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#;
        assert_eq!(
            object(line).unwrap(),
            r#"{"host":"127.0.0.1","ident":null,"user":"frank","timestamp":971211336000000000,"request":"GET /apache_pb.gif HTTP/1.0","method":"GET","path":"/apache_pb.gif","protocol":"HTTP/1.0","status":200,"size":2326}"#
        );
    }

    /// Combined, from a post on Apache's log formats
    /// (blog.csdn.net/weixin_30904593/article/details/99224187).
    #[test]
    fn apache_combined() {
        let line = r#"192.168.1.2 - - [02/Feb/2016:17:44:13 +0800] "GET /favicon.ico HTTP/1.1" 404 209 "http://localhost/x1.html" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/48.0.2564.97 Safari/537.36""#;
        let log = parse_common_log(line).unwrap();
        assert_eq!((log.host, log.ident, log.user, log.status, log.size), ("192.168.1.2", None, None, 404, Some(209)));
        assert_eq!(log.timestamp, 1_454_406_253_000_000_000);
        assert_eq!(log.referer, Some(Some("http://localhost/x1.html")));
        assert!(object(line).unwrap().ends_with(r#""referer":"http://localhost/x1.html","agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/48.0.2564.97 Safari/537.36"}"#));
    }

    /// nginx escapes a quote in a field as `\x22` (ossobv/pypi-nginx-cache
    /// pull request 1, shortened after the fourth key of the agent).
    #[test]
    fn nginx_hex_escapes() {
        let line = r#"172.30.0.3 - - [05/Dec/2021:05:00:04 +0000] "GET /simple/charset-normalizer/ HTTP/1.1" 200 5721 "-" "pip/21.2.4 {\x22ci\x22:null,\x22cpu\x22:\x22x86_64\x22}""#;
        let json = object(line).unwrap();
        assert!(json.contains(r#""referer":null,"agent":"pip/21.2.4 {\"ci\":null,\"cpu\":\"x86_64\"}"}"#), "{json}");
    }

    #[test]
    fn what_is_not_a_common_log_line() {
        let fail = |line| parse_common_log(line).unwrap_err();
        assert_eq!(fail(""), CommonLogError::Host);
        assert_eq!(fail("127.0.0.1 - - 10/Oct/2000:13:55:36 -0700"), CommonLogError::Time);
        assert_eq!(fail(r#"127.0.0.1 - - [10/Oct/2000:13:55:36] "GET /" 200 1"#), CommonLogError::Time);
        assert_eq!(fail(r#"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] GET 200 1"#), CommonLogError::Request);
        assert_eq!(fail(r#"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /" 2000 1"#), CommonLogError::Status);
        assert_eq!(fail(r#"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /" 200 many"#), CommonLogError::Size);
        assert_eq!(fail(r#"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /" 200 1 "-""#), CommonLogError::Agent);
        assert_eq!(fail(r#"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /" 200 1 extra"#), CommonLogError::Referer);
    }

    #[test]
    fn a_request_that_is_not_three_parts_has_no_method() {
        let json = object(r#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "\x16\x03\x01" 400 0"#).unwrap();
        assert!(json.contains(r#""request":"\u0016\u0003\u0001","method":null,"path":null,"protocol":null"#), "{json}");
    }

    #[test]
    fn unescaping() {
        let decode = |s| {
            let mut out = String::new();
            unescape(s, &mut out);
            out
        };
        assert_eq!(decode(r#"a \"b\" \\ \x22 \xe9 \q"#), r#"a "b" \ " \xe9 \q"#);
        assert_eq!(decode(r"trailing \"), r"trailing \");
    }
}
