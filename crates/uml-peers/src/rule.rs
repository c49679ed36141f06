//! The model container rule (`rules/model_container.uml`) in plain Rust:
//! the parts the two serde_json peers share, written the way a careful
//! engineer would port the rule by hand (the regexes copied from the rule,
//! in its order). Each peer decodes the JSON object and writes the record
//! its own way; everything else is here.

use regex::Regex;
use std::borrow::Cow;

/// What routing the file gives every record of it: the labels and the
/// replica, from the kubelet file name, or `None` when the rule does not
/// take the file (the `when` condition of the rule).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub model_version_id: String,
    pub namespace: String,
    /// `{"model_version_id":…,"namespace":…,"unified_model_logs":"1","job":"fluent-bit"}`.
    pub labels_json: String,
    pub replica: String,
    /// The payload's `source`: the rule's name.
    pub source: &'static str,
}

impl Route {
    /// The route of a file named `<pod>_<namespace>_<container>-<id>.log`
    /// by the model container rule.
    pub fn from_file_name(name: &str) -> Option<Route> {
        Route::by_rule(
            name,
            "model_container",
            |container| container == "model",
            r"^model-(?P<mvid>[a-z0-9]+)-[a-z0-9]{8,10}-(?P<replica>[bcdfghjklmnpqrstvwxz2456789]{5})$",
        )
    }

    /// The route of the file `name` by the rule `source`, whose `when`
    /// takes a container named as `container` says, a namespace
    /// `org-<32 hex digits>` and a pod that `pod` matches, capturing `mvid`
    /// and `replica`.
    pub fn by_rule(name: &str, source: &'static str, container: impl Fn(&str) -> bool, pod: &str) -> Option<Route> {
        let meta = FileMeta::from_file_name(name)?;
        let namespace = Regex::new(r"^org-[0-9a-f]{32}$").expect("a valid regex");
        let pod = Regex::new(pod).expect("a valid regex");
        if !container(meta.container) || !namespace.is_match(meta.namespace) {
            return None;
        }
        let captures = pod.captures(meta.pod)?;
        let mut labels = Vec::new();
        labels.extend_from_slice(b"{\"model_version_id\":");
        write_json_string(&mut labels, &captures["mvid"]);
        labels.extend_from_slice(b",\"namespace\":");
        write_json_string(&mut labels, meta.namespace);
        labels.extend_from_slice(b",\"unified_model_logs\":\"1\",\"job\":\"fluent-bit\"}");
        let labels_json = String::from_utf8(labels).expect("JSON written from strings is UTF-8");
        Some(Route {
            model_version_id: captures["mvid"].to_owned(),
            namespace: meta.namespace.to_owned(),
            labels_json,
            replica: captures["replica"].to_owned(),
            source,
        })
    }
}

/// The metadata a kubelet log file name carries (docs/contract.md, "Log
/// files").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileMeta<'a> {
    pub pod: &'a str,
    pub namespace: &'a str,
    pub container: &'a str,
}

impl<'a> FileMeta<'a> {
    /// Reads `[dir/]<pod>_<namespace>_<container>-<container id>.log`.
    pub fn from_file_name(path: &'a str) -> Option<FileMeta<'a>> {
        let name = path.rsplit('/').next()?.strip_suffix(".log")?;
        let mut parts = name.splitn(3, '_');
        let (pod, namespace, rest) = (parts.next()?, parts.next()?, parts.next()?);
        let (container, _id) = rest.rsplit_once('-')?;
        Some(FileMeta { pod, namespace, container })
    }
}

/// The four levels of the record.
pub const DEBUG: &str = "DEBUG";
pub const INFO: &str = "INFO";
pub const WARNING: &str = "WARNING";
pub const ERROR: &str = "ERROR";

/// A level spelling of docs/contract.md, "Levels", case-insensitive, or
/// `None`.
pub fn level_from_name(name: &str) -> Option<&'static str> {
    let name = name.trim();
    if name.len() > 8 {
        return None;
    }
    let mut lower = [0u8; 8];
    lower[..name.len()].copy_from_slice(name.as_bytes());
    lower.make_ascii_lowercase();
    Some(match &lower[..name.len()] {
        b"debug" | b"debu" | b"debg" | b"dbug" | b"trace" | b"trac" | b"v" | b"d" | b"[d]" | b"[v]" => DEBUG,
        b"info" | b"i" | b"[i]" | b"notice" | b"normal" => INFO,
        b"warning" | b"warn" | b"w" | b"[w]" => WARNING,
        b"error" | b"erro" | b"eror" | b"e" | b"[e]" | b"[f]" | b"critical" | b"crit" | b"fatal" | b"fata" | b"f"
        | b"pani" | b"panic" => ERROR,
        _ => return None,
    })
}

/// How a level number is read: the `scale` argument of the rule's `level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Python's `logging`: 10 DEBUG … 50 CRITICAL, rounded down.
    Python,
    /// syslog's severity: 0 emergency … 7 debug.
    Syslog,
    /// pino's and bunyan's: 10 trace … 60 fatal, rounded down.
    Pino,
}

/// The level a number names on `scale`, or `None`.
pub fn level_from_number(number: i64, scale: Scale) -> Option<&'static str> {
    match (scale, number) {
        (_, ..0) => None,
        (Scale::Python, 0..=19) | (Scale::Pino, 0..=29) | (Scale::Syslog, 7) => Some(DEBUG),
        (Scale::Python, 20..=29) | (Scale::Pino, 30..=39) | (Scale::Syslog, 5 | 6) => Some(INFO),
        (Scale::Python, 30..=39) | (Scale::Pino, 40..=49) | (Scale::Syslog, 4) => Some(WARNING),
        (Scale::Python, 40..) | (Scale::Pino, 50..) | (Scale::Syslog, 0..=3) => Some(ERROR),
        (Scale::Syslog, _) => None,
    }
}

/// A level written as a string and read on `scale`: a spelling, or decimal
/// digits (a number beyond 64 bits is as large as can be).
pub fn level_from_text_on(text: &str, scale: Scale) -> Option<&'static str> {
    level_from_name(text).or_else(|| {
        let digits = text.trim();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        level_from_number(digits.parse().unwrap_or(i64::MAX), scale)
    })
}

/// `text` without ANSI escape sequences: CSI (`ESC [ … final`), control
/// strings (`ESC ]` … up to BEL or `ESC \`) and two-byte escapes.
pub fn strip_ansi(text: &str) -> Cow<'_, str> {
    const ESC: u8 = 0x1b;
    let bytes = text.as_bytes();
    let Some(first) = memchr::memchr(ESC, bytes) else { return Cow::Borrowed(text) };
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = first;
    loop {
        out.push_str(&text[copied..at]);
        let mut end = at + 1;
        match bytes.get(end) {
            Some(b'[') => {
                end += 1;
                end += bytes[end..].iter().take_while(|b| (0x20..=0x3f).contains(*b)).count();
                if matches!(bytes.get(end), Some(0x40..=0x7e)) {
                    end += 1;
                }
            }
            Some(b']' | b'P' | b'X' | b'^' | b'_') => {
                end = match memchr::memchr2(0x07, ESC, &bytes[end + 1..]) {
                    None => bytes.len(),
                    Some(offset) => {
                        let stop = end + 1 + offset;
                        match (bytes[stop], bytes.get(stop + 1)) {
                            (0x07, _) => stop + 1,
                            (_, Some(b'\\')) => stop + 2,
                            _ => stop,
                        }
                    }
                };
            }
            Some(0x20..=0x2f) => {
                end += bytes[end..].iter().take_while(|b| (0x20..=0x2f).contains(*b)).count();
                if matches!(bytes.get(end), Some(0x30..=0x7e)) {
                    end += 1;
                }
            }
            Some(0x30..=0x7e) => end += 1,
            _ => {}
        }
        copied = end;
        match memchr::memchr(ESC, &bytes[copied..]) {
            Some(offset) => at = copied + offset,
            None => break,
        }
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The last line of a traceback: what happened.
pub fn last_line(text: &str) -> &str {
    text.rsplit('\n').next().unwrap_or(text)
}

/// What a plain-text format makes of a line it matches.
#[derive(Clone, Copy)]
enum Yields {
    /// The level of the `lvl` capture, the message of `msg` (after `head`,
    /// when the format has one).
    Captured,
    /// This level, and the whole line as the message.
    Whole(&'static str),
}

/// The plain-text branch of the rule: the regexes of the rule, compiled
/// once, tried in the rule's order.
pub struct TextBranch {
    klog: Regex,
    /// The rule's formats after klog, in its order.
    formats: Vec<(Regex, Yields)>,
}

impl Default for TextBranch {
    fn default() -> TextBranch {
        let regex = |pattern: &str| Regex::new(pattern).expect("a valid regex");
        let captured = |pattern: &str| (regex(pattern), Yields::Captured);
        TextBranch {
            // klog/glog: `Lmmdd hh:mm:ss.uuuuuu threadid file:line] message`.
            klog: regex(
                r"^(?P<lvl>[IWEF])(?:[0-9]{4})?[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} +[0-9]+ [^ \]]+:[0-9]+\] ?(?P<msg>.*)$",
            ),
            formats: vec![
                // uvicorn, and Python's default logging format.
                captured(r"^(?P<lvl>TRACE|DEBUG|INFO|WARNING|ERROR|CRITICAL):(?:\s+|[^\s:]*:)(?P<msg>.*)$"),
                // Python logging with a date.
                captured(
                    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?(?: - \S+)? - (?P<lvl>DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL) - (?P<msg>.*)$",
                ),
                // vLLM, keeping what comes before the level.
                captured(
                    r"^(?P<head>.*?)(?P<lvl>DEBUG|INFO|WARNING|ERROR|CRITICAL) [0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)? (?P<msg>.*)$",
                ),
                // Rust `tracing`.
                captured(
                    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?Z\s+(?P<lvl>TRACE|DEBUG|INFO|WARN|ERROR)\s+(?P<msg>(?s:.*))$",
                ),
                // FastChat re-logging a printed line, at that line's level.
                captured(
                    r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} \| (?:ERROR|INFO) +\| std(?:err|out) \| (?P<lvl>DEBUG|INFO|WARNING|ERROR|CRITICAL):\s+(?P<msg>.*)$",
                ),
                // loguru.
                captured(
                    r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)? \| (?P<lvl>TRACE|DEBUG|INFO|SUCCESS|WARNING|ERROR|CRITICAL) +\| (?P<msg>.*)$",
                ),
                // Python warnings.
                (regex(r"^\S+:[0-9]+: [A-Za-z]*Warning: "), Yields::Whole(WARNING)),
                // TensorFlow (absl).
                captured(
                    r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]+: (?P<lvl>[IWEF]) \S+:[0-9]+\] (?P<msg>.*)$",
                ),
                // absl's glog-style line with the seconds since the epoch.
                captured(
                    r"^(?P<lvl>[IWEF])[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]+\.[0-9]+ +[0-9]+ \S+:[0-9]+\] (?P<msg>.*)$",
                ),
                // A Rust program's main returning an error.
                (regex(r"^Error: "), Yields::Whole(ERROR)),
                // A bracketed level after a prefix (torch.distributed.elastic).
                captured(r"^(?P<head>[^\[]*?)\[(?P<lvl>DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\] (?P<msg>.*)$"),
            ],
        }
    }
}

impl TextBranch {
    /// The level and message of a line that is not a JSON object, or
    /// `None` when the rule drops it (nothing left but whitespace).
    pub fn apply<'a>(&self, line: &'a str) -> Option<(&'static str, Cow<'a, str>)> {
        // Colours off, trailing padding off, and of a line redrawn with `\r`
        // only its last state.
        let text = strip_ansi(line);
        let text = match text {
            Cow::Borrowed(text) => Cow::Borrowed(last_state(text.trim_end())),
            Cow::Owned(text) => Cow::Owned(last_state(text.trim_end()).to_owned()),
        };
        if text.trim().is_empty() {
            return None;
        }
        let (level, message) = match self.level_and_message(&text) {
            Some((level, Message::Slice(start, end))) => (level, slice(text, start, end)),
            Some((level, Message::Joined(message))) => (level, Cow::Owned(message)),
            None => (INFO, text),
        };
        Some((level, message))
    }

    fn level_and_message(&self, text: &str) -> Option<(&'static str, Message)> {
        if let Some(captures) = self.klog.captures(text) {
            let level = level_from_name(&captures["lvl"]).unwrap_or(INFO);
            let message = captures.name("msg").expect("the group always takes part");
            return Some((level, Message::Slice(message.start(), message.end())));
        }
        for (format, yields) in &self.formats {
            let level = match *yields {
                Yields::Whole(level) if format.is_match(text) => level,
                Yields::Whole(_) => continue,
                Yields::Captured => {
                    let Some(captures) = format.captures(text) else { continue };
                    let level = level_from_name(&captures["lvl"]).unwrap_or(INFO);
                    let message = captures.name("msg").expect("the group always takes part");
                    return Some(match captures.name("head").filter(|head| !head.is_empty()) {
                        Some(head) => (level, Message::Joined(format!("{}{}", head.as_str(), message.as_str()))),
                        None => (level, Message::Slice(message.start(), message.end())),
                    });
                }
            };
            return Some((level, Message::Slice(0, text.len())));
        }
        None
    }
}

/// Where the message of a plain-text line comes from.
enum Message {
    Slice(usize, usize),
    Joined(String),
}

/// Of a line redrawn with `\r` (a progress bar), only its last state.
fn last_state(text: &str) -> &str {
    text.rsplit('\r').next().unwrap_or(text)
}

fn slice(text: Cow<'_, str>, start: usize, end: usize) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(text) => Cow::Borrowed(&text[start..end]),
        Cow::Owned(text) => Cow::Owned(text[start..end].to_owned()),
    }
}

/// What the JSON branch of the rule reads from a decoded object; each
/// serde_json peer fills it from its own representation, reading the keys
/// in the rule's order.
#[derive(Debug, Default)]
pub struct Fields<'a> {
    /// The message as text (`to_string(said) ?? encode_json(said)`): the
    /// first of `message`, `msg`, `event`, `@m`, `@mt`, `record.message`,
    /// `short_message` that is not null; `None` when all are.
    pub said: Option<Cow<'a, str>>,
    /// The line's own level: the first of the rule's level keys that names
    /// one (see [`OWN_LEVEL_KEYS`]).
    pub level: Option<&'static str>,
    /// The traceback as text, untrimmed: the first of the rule's traceback
    /// keys (see [`THROWN_KEYS`]) that is not null, a string as it is, an
    /// object, a number or an array as compact JSON; `None` when all are
    /// null or the first is a bool.
    pub thrown: Option<Cow<'a, str>>,
    /// `j.request_id` as text, when it is not null.
    pub request_id: Option<Cow<'a, str>>,
}

/// The keys of the message, in the rule's order, each a path.
pub const SAID_KEYS: [&[&str]; 7] =
    [&["message"], &["msg"], &["event"], &["@m"], &["@mt"], &["record", "message"], &["short_message"]];

/// The keys of the line's own level, in the rule's order, each a path and
/// the scale it is read on (`None`: spellings only). `level` is read on
/// the syslog scale when the line has a `short_message` (GELF), else on
/// pino's: [`level_scale`].
pub const OWN_LEVEL_KEYS: [(&[&str], Option<Scale>); 9] = [
    (&["levelname"], Some(Scale::Python)),
    (&["levelno"], Some(Scale::Python)),
    (&["level"], Some(Scale::Pino)),
    (&["severity"], None),
    (&["lvl"], None),
    (&["log.level"], None),
    (&["log", "level"], None),
    (&["@l"], None),
    (&["record", "level", "name"], None),
];

/// The scale of `level`: syslog's for a GELF line (one with a
/// `short_message` that is not null), else pino's.
pub fn level_scale(gelf: bool) -> Scale {
    if gelf { Scale::Syslog } else { Scale::Pino }
}

/// The keys of the traceback, in the rule's order, each a path.
pub const THROWN_KEYS: [&[&str]; 14] = [
    &["exc_info"],
    &["exception", "stacktrace"],
    &["exception"],
    &["_exception", "stackTrace"],
    &["@x"],
    &["full_message"],
    &["traceback"],
    &["stack_trace"],
    &["stacktrace"],
    &["stack"],
    &["error.stack_trace"],
    &["error", "stack_trace"],
    &["err", "stack"],
    &["record", "exception"],
];

/// A value the rule reads, as a peer decoded it.
#[derive(Debug)]
pub enum Leaf<'a> {
    /// Null, or no value at the path.
    Null,
    Bool(bool),
    Int(i64),
    Text(Cow<'a, str>),
    /// A float, an integer beyond 64 bits, an object or an array, written
    /// as compact JSON.
    Json(Cow<'a, str>),
}

impl<'a> Leaf<'a> {
    /// `to_string(value) ?? encode_json(value)`; `None` for null.
    pub fn into_text(self) -> Option<Cow<'a, str>> {
        match self {
            Leaf::Null => None,
            Leaf::Bool(b) => Some(Cow::Borrowed(if b { "true" } else { "false" })),
            Leaf::Int(n) => Some(Cow::Owned(n.to_string())),
            Leaf::Text(text) | Leaf::Json(text) => Some(text),
        }
    }

    /// `level(value)` (`scale` `None`: spellings only) or `level(value, scale: …)`.
    pub fn level(&self, scale: Option<Scale>) -> Option<&'static str> {
        match (self, scale) {
            (Leaf::Text(text), None) => level_from_name(text),
            (Leaf::Text(text), Some(scale)) => level_from_text_on(text, scale),
            (Leaf::Int(n), Some(scale)) => level_from_number(*n, scale),
            _ => None,
        }
    }
}

impl<'a> Fields<'a> {
    /// The rule's reading of a JSON object, given the value at each path
    /// (`Leaf::Null` where there is none; a path through a value that is
    /// not an object has none).
    pub fn read(mut at: impl FnMut(&[&str]) -> Leaf<'a>) -> Fields<'a> {
        let said = SAID_KEYS.iter().find_map(|path| at(path).into_text());
        let gelf = !matches!(at(&["short_message"]), Leaf::Null);
        let level = OWN_LEVEL_KEYS.iter().find_map(|&(path, scale)| {
            let scale = if path == ["level"] { Some(level_scale(gelf)) } else { scale };
            at(path).level(scale)
        });
        // The first traceback key that is not null counts; a bool (structlog's
        // unrendered `exc_info: true`) names no text.
        let thrown = THROWN_KEYS.iter().map(|path| at(path)).find(|leaf| !matches!(leaf, Leaf::Null));
        let thrown = thrown.filter(|leaf| !matches!(leaf, Leaf::Bool(_))).and_then(Leaf::into_text);
        Fields { said, level, thrown, request_id: at(&["request_id"]).into_text() }
    }
}

/// The record's payload, in the field order uml writes it.
#[derive(Debug, PartialEq, Eq)]
pub struct Payload<'a> {
    pub levelname: &'static str,
    pub message: Cow<'a, str>,
    pub exc_info: Option<Cow<'a, str>>,
    pub request_id: Option<Cow<'a, str>>,
}

impl<'a> Payload<'a> {
    /// The JSON branch: the payload of a line that is a JSON object.
    pub fn from_fields(fields: Fields<'a>, line: &'a str) -> Payload<'a> {
        let said = fields.said.unwrap_or(Cow::Borrowed(line));
        let mut payload = Payload {
            levelname: fields.level.unwrap_or(INFO),
            message: trimmed(strip_ansi_cow(said)),
            exc_info: None,
            request_id: fields.request_id,
        };
        let exc = fields.thrown.map(|thrown| trimmed(strip_ansi_cow(thrown)));
        // "", "None" and "NoneType: None" (`logging.exception` outside an
        // `except`) name no traceback.
        if let Some(exc) = exc.filter(|exc| !matches!(exc.as_ref(), "" | "None" | "NoneType: None")) {
            // The line's own level decides; a line without one is an error.
            payload.levelname = fields.level.unwrap_or(ERROR);
            if payload.message.is_empty() {
                // `logger.exception("")`: the final exception line tells what happened.
                payload.message = Cow::Owned(last_line(&exc).to_owned());
            }
            payload.exc_info = Some(exc);
        }
        if payload.message.is_empty() {
            // An empty message: the line itself says what there is.
            payload.message = Cow::Borrowed(line);
        }
        payload
    }

    /// The plain-text branch, or `None` when the rule drops the line.
    pub fn from_text(text: &TextBranch, line: &'a str) -> Option<Payload<'a>> {
        let (levelname, message) = text.apply(line)?;
        Some(Payload { levelname, message, exc_info: None, request_id: None })
    }
}

fn strip_ansi_cow(text: Cow<'_, str>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(text) => strip_ansi(text),
        Cow::Owned(text) => Cow::Owned(strip_ansi(&text).into_owned()),
    }
}

fn trimmed(text: Cow<'_, str>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(text) => Cow::Borrowed(text.trim()),
        Cow::Owned(text) if text.trim().len() == text.len() => Cow::Owned(text),
        Cow::Owned(text) => Cow::Owned(text.trim().to_owned()),
    }
}

/// A peer built on serde_json: how it decodes a line and writes a record;
/// [`run`] does the rest.
pub trait SerdePeer {
    /// The fields of `line` when it is a JSON object, `None` otherwise.
    fn fields<'a>(&mut self, line: &'a str) -> Option<Fields<'a>>;
    /// Appends the NDJSON record.
    fn write(&mut self, out: &mut Vec<u8>, timestamp_ns: i64, route: &Route, payload: &Payload<'_>);
}

/// Transforms a whole CRI file with a serde_json peer: each line framed,
/// decoded, run through the rule and written. Partial pieces are records
/// of their own (no reassembly, as in a shipper's transform stage).
pub fn run(peer: &mut impl SerdePeer, text: &TextBranch, file_name: &str, bytes: &[u8], out: &mut Vec<u8>) {
    let Some(route) = Route::from_file_name(file_name) else { return };
    for raw in crate::lines(bytes) {
        let Some(cri) = crate::cri::parse(raw) else { continue };
        let line = String::from_utf8_lossy(cri.message);
        let payload = match peer.fields(&line) {
            Some(fields) => Payload::from_fields(fields, &line),
            None => match Payload::from_text(text, &line) {
                Some(payload) => payload,
                None => continue,
            },
        };
        peer.write(out, cri.timestamp_ns, &route, &payload);
    }
}

/// Appends `value` as a JSON string, quotes included.
pub fn write_json_string(out: &mut Vec<u8>, value: &str) {
    out.push(b'"');
    write_json_string_body(out, value.as_bytes());
    out.push(b'"');
}

/// Appends `value` escaped for the inside of a JSON string: `"`, `\` and
/// control characters, as serde_json escapes them.
pub fn write_json_string_body(out: &mut Vec<u8>, value: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut copied = 0;
    for (i, &byte) in value.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..0x20 => &[b'\\', b'u', b'0', b'0', HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 15)]],
            _ => continue,
        };
        out.extend_from_slice(&value[copied..i]);
        out.extend_from_slice(escape);
        copied = i + 1;
    }
    out.extend_from_slice(&value[copied..]);
}

/// Appends the NDJSON record of `payload`, its JSON written by hand into
/// `buffer` (reused) in uml's field order, then embedded as a string.
pub fn write_payload_record(
    out: &mut Vec<u8>,
    buffer: &mut Vec<u8>,
    timestamp_ns: i64,
    route: &Route,
    payload: &Payload<'_>,
) {
    buffer.clear();
    buffer.extend_from_slice(b"{\"levelname\":\"");
    buffer.extend_from_slice(payload.levelname.as_bytes());
    buffer.extend_from_slice(b"\",\"message\":");
    write_json_string(buffer, &payload.message);
    buffer.extend_from_slice(b",\"replica\":");
    write_json_string(buffer, &route.replica);
    // A rule's name needs no escaping.
    buffer.extend_from_slice(b",\"source\":\"");
    buffer.extend_from_slice(route.source.as_bytes());
    buffer.push(b'"');
    if let Some(exc_info) = &payload.exc_info {
        buffer.extend_from_slice(b",\"exc_info\":");
        write_json_string(buffer, exc_info);
    }
    if let Some(request_id) = &payload.request_id {
        buffer.extend_from_slice(b",\"request_id\":");
        write_json_string(buffer, request_id);
    }
    buffer.push(b'}');
    write_record(out, timestamp_ns, &route.labels_json, buffer);
}

/// Appends one NDJSON record as `uml run` writes it:
/// `{"ts":"<ns>","labels":{…},"line":"<payload as a JSON string>"}`.
pub fn write_record(out: &mut Vec<u8>, timestamp_ns: i64, labels_json: &str, payload: &[u8]) {
    out.extend_from_slice(b"{\"ts\":\"");
    out.extend_from_slice(itoa(timestamp_ns, &mut [0; 20]));
    out.extend_from_slice(b"\",\"labels\":");
    out.extend_from_slice(labels_json.as_bytes());
    out.extend_from_slice(b",\"line\":\"");
    write_json_string_body(out, payload);
    out.extend_from_slice(b"\"}\n");
}

/// `value` in decimal, written into the end of `buffer`.
fn itoa(value: i64, buffer: &mut [u8; 20]) -> &[u8] {
    let negative = value < 0;
    let mut rest = value.unsigned_abs();
    let mut at = buffer.len();
    loop {
        at -= 1;
        buffer[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if negative {
        at -= 1;
        buffer[at] = b'-';
    }
    &buffer[at..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi() {
        assert_eq!(strip_ansi("\x1b[31mERROR\x1b[0m:    boom"), "ERROR:    boom");
        assert_eq!(strip_ansi("a\x1b]0;title\x07b\x1b(Bc"), "abc");
        assert!(matches!(strip_ansi("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn text_formats() {
        let text = TextBranch::default();
        let cases = [
            ("INFO:     Started server process [12625]", INFO, "Started server process [12625]"),
            ("I1012 01:17:48.317907 1 grpc_server.cc:2451] Started", INFO, "Started"),
            (
                "(APIServer pid=1) INFO 11-20 04:54:33 [api_server.py:598] Ok",
                INFO,
                "(APIServer pid=1) [api_server.py:598] Ok",
            ),
            ("/app/model.py:12: UserWarning: old", WARNING, "/app/model.py:12: UserWarning: old"),
            ("50%|█   | 1/2\r100%|██| 2/2   ", INFO, "100%|██| 2/2"),
            (
                "2023-08-31 16:37:08 | ERROR | stderr | INFO:     Started server process [23092]",
                INFO,
                "Started server process [23092]",
            ),
            (
                "2026-11-20 10:05:07.761 | WARNING  | model.model:preprocess:58 - Too long",
                WARNING,
                "model.model:preprocess:58 - Too long",
            ),
            (
                "2019-07-21 23:23:06.224853: E tensorflow/stream_executor/cuda/cuda_blas.cc:238] failed to create cublas handle",
                ERROR,
                "failed to create cublas handle",
            ),
            (
                "E0000 00:00:1746473191.043694    2883 cuda_dnn.cc:8310] Unable to register cuDNN factory",
                ERROR,
                "Unable to register cuDNN factory",
            ),
            ("Error: ShardCannotStart", ERROR, "Error: ShardCannotStart"),
            (
                "torch.distributed.elastic.multiprocessing.api: [ERROR] failed (exitcode: -9) local_rank: 1",
                ERROR,
                "torch.distributed.elastic.multiprocessing.api: failed (exitcode: -9) local_rank: 1",
            ),
            ("[WARNING] low memory", WARNING, "low memory"),
        ];
        for (line, level, message) in cases {
            assert_eq!(text.apply(line), Some((level, Cow::Borrowed(message))), "{line}");
        }
        assert_eq!(text.apply(" \r  "), None);
    }

    #[test]
    fn levels() {
        assert_eq!(level_from_name(" Warn"), Some(WARNING));
        assert_eq!(level_from_name("EROR"), Some(ERROR));
        assert_eq!(level_from_name("dbug"), Some(DEBUG));
        assert_eq!(level_from_text_on("40", Scale::Python), Some(ERROR));
        assert_eq!(level_from_text_on("Level 25", Scale::Python), None);
        assert_eq!(level_from_number(40, Scale::Pino), Some(WARNING));
        assert_eq!(level_from_number(60, Scale::Pino), Some(ERROR));
        assert_eq!(level_from_number(3, Scale::Syslog), Some(ERROR));
        assert_eq!(level_from_number(6, Scale::Syslog), Some(INFO));
        assert_eq!(level_from_number(8, Scale::Syslog), None);
        assert_eq!(level_from_number(-1, Scale::Python), None);
    }

    /// The JSON branch on lines of the structured loggers, through each
    /// serde peer's reading of the object.
    #[test]
    fn json_keys() {
        let cases: [(&str, &str, &str, Option<&str>); 12] = [
            (r#"{"level":30,"time":1,"pid":7,"msg":"listening"}"#, INFO, "listening", None),
            (
                r#"{"level":50,"msg":"boom","err":{"type":"Error","stack":"Error: boom\n    at x.js:1"}}"#,
                ERROR,
                "boom",
                Some("Error: boom\n    at x.js:1"),
            ),
            (r#"{"event":"startup","level":"warning"}"#, WARNING, "startup", None),
            (r#"{"@t":"2026-11-20T00:00:00Z","@mt":"Hello, {User}","@l":"Warning"}"#, WARNING, "Hello, {User}", None),
            (r#"{"short_message":"disk full","level":3,"full_message":"trace"}"#, ERROR, "disk full", Some("trace")),
            (r#"{"severity":"INFO","message":"ok","exception":{"stacktrace":"at A"}}"#, INFO, "ok", Some("at A")),
            (r#"{"log.level":"debug","message":"x"}"#, DEBUG, "x", None),
            (r#"{"log":{"level":"warn"},"message":"y"}"#, WARNING, "y", None),
            (r#"{"record":{"message":"z","level":{"name":"ERROR"},"exception":null}}"#, ERROR, "z", None),
            (r#"{"message":"m","exc_info":true,"stack":"ignored"}"#, INFO, "m", None),
            (
                r#"{"levelname":"ERROR","message":"","exc_info":"NoneType: None"}"#,
                ERROR,
                r#"{"levelname":"ERROR","message":"","exc_info":"NoneType: None"}"#,
                None,
            ),
            (
                r#"{"message":"","traceback":"Traceback\nValueError: bad"}"#,
                ERROR,
                "ValueError: bad",
                Some("Traceback\nValueError: bad"),
            ),
        ];
        let mut peers: [Box<dyn SerdePeer>; 3] = [
            Box::new(crate::naive::Naive::default()),
            Box::new(crate::careful::Careful::default()),
            Box::new(crate::simd::SimdCareful::default()),
        ];
        for peer in &mut peers {
            for (line, level, message, exc_info) in cases {
                let fields = peer.fields(line).expect("a JSON object");
                let payload = Payload::from_fields(fields, line);
                assert_eq!(
                    (payload.levelname, payload.message.as_ref(), payload.exc_info.as_deref()),
                    (level, message, exc_info),
                    "{line}"
                );
            }
        }
    }
}
