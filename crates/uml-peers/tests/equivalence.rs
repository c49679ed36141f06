//! Every peer yields uml's records on the first 10,000 lines of the model
//! container corpus, and on the lines of the real structured loggers'
//! cases, record by record, but for lines of the classes that `lib.rs`
//! documents (partial pieces, plain-text tracebacks, JSON that serde_json
//! refuses, the key order of VRL's and Lua's objects), each counted and
//! each checked to be what it says.

use serde_json::Value;
use std::collections::HashMap;
use uml_peers::{Implementation, Input, Source, cri};

const LINES: usize = 10_000;
const SEED: u64 = 1;

/// A raw line of the input, as the comparison needs it.
struct RawLine {
    text: String,
    stream: Vec<u8>,
    tag: u8,
    message: String,
}

/// A record: its NDJSON line, and its canonical form (the payload decoded,
/// so that `\u00e9` and `é` compare equal, while the order of keys counts).
#[derive(Clone)]
struct Record {
    ndjson: String,
    canonical: String,
    payload: Value,
}

impl Record {
    fn field(&self, key: &str) -> Option<&str> {
        self.payload.get(key).and_then(Value::as_str)
    }
}

/// The records of `ndjson`, keyed by the raw line their timestamp is the timestamp of.
fn records_by_line(ndjson: &[u8], line_of: &HashMap<i64, usize>, who: &str) -> HashMap<usize, Record> {
    let mut records = HashMap::new();
    for text in ndjson.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let text = std::str::from_utf8(text).unwrap_or_else(|e| panic!("{who}: a record is not UTF-8: {e}"));
        let mut record: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{who}: {e}: {text}"));
        let keys: Vec<&String> = record.as_object().expect("a record is an object").keys().collect();
        assert_eq!(keys, ["ts", "labels", "line"], "{who}: {text}");
        let payload: Value = serde_json::from_str(record["line"].as_str().expect("the line is a string"))
            .unwrap_or_else(|e| panic!("{who}: the payload is not JSON ({e}): {text}"));
        record["line"] = payload.clone();
        let ts: i64 = record["ts"].as_str().and_then(|ts| ts.parse().ok()).expect("ts is a number in a string");
        let line = *line_of.get(&ts).unwrap_or_else(|| panic!("{who}: no raw line has the timestamp of {text}"));
        let canonical = record.to_string();
        let previous = records.insert(line, Record { ndjson: text.to_owned(), canonical, payload });
        assert!(previous.is_none(), "{who}: two records start at raw line {line}");
    }
    records
}

/// Why a peer's record may differ from uml's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Allowed {
    PartialPiece,
    TracebackHead,
    TracebackLine,
    NonStandardJson,
    ObjectKeyOrder,
}

struct Comparison<'a> {
    raw: &'a [RawLine],
    uml: &'a HashMap<usize, Record>,
}

impl Comparison<'_> {
    /// Why the records of raw line `i` may differ, or `None` if they may not.
    fn allowed(&self, peer: Implementation, i: usize, uml: Option<&Record>, other: Option<&Record>) -> Option<Allowed> {
        let raw = &self.raw[i];
        let previous_on_stream = self.raw[..i].iter().rev().find(|r| r.stream == raw.stream);
        if raw.tag == b'P' || previous_on_stream.is_some_and(|r| r.tag == b'P') {
            return Some(Allowed::PartialPiece);
        }
        if raw.message.starts_with('{')
            && serde_json::from_str::<Value>(&raw.message).is_err()
            && ["NaN", "Infinity", "\\ud"].iter().any(|s| raw.message.contains(s))
        {
            return Some(Allowed::NonStandardJson);
        }
        // VRL's objects are sorted maps and Lua's tables hash their keys: an
        // object `message` or `exc_info` comes out with its keys in another
        // order. Compared with the keys of both sorted, the records are equal,
        // or differ only as the classes below allow.
        let sorted = |record: Option<&Record>| record.map(with_sorted_objects);
        let (uml_sorted, other_sorted);
        let (uml, other) = if matches!(peer, Implementation::Vrl | Implementation::LuaJit) {
            (uml_sorted, other_sorted) = (sorted(uml), sorted(other));
            if let (Some(u), Some(o)) = (&uml_sorted, &other_sorted)
                && u.payload == o.payload
                && uml.is_some_and(|uml| uml.payload != u.payload)
            {
                return Some(Allowed::ObjectKeyOrder);
            }
            (uml_sorted.as_ref(), other_sorted.as_ref())
        } else {
            (uml, other)
        };
        match (uml, other) {
            // A line inside a group: its text is in the exc_info of the
            // group's record, the last uml record on its stream before it.
            (None, Some(other)) => {
                let group =
                    (0..i).rev().filter(|&j| self.raw[j].stream == raw.stream).find_map(|j| self.uml.get(&j))?;
                let exc_info = group.field("exc_info")?;
                let text = other.field("message")?.trim();
                exc_info.contains(text).then_some(Allowed::TracebackLine)
            }
            // The group's first line: uml's record is the peer's at ERROR
            // with the traceback as exc_info (after the object's own, if
            // any); a traceback without an error line before it takes its
            // final line as the message.
            (Some(uml), Some(other)) => {
                let exc_info = uml.field("exc_info")?;
                if other.field("exc_info").is_some_and(|own| !exc_info.starts_with(own)) {
                    return None;
                }
                let mut grouped = other.payload.clone();
                grouped["levelname"] = "ERROR".into();
                grouped["exc_info"] = exc_info.into();
                if exc_info.starts_with(other.field("message")?) {
                    grouped["message"] = uml.payload["message"].clone();
                }
                (grouped == uml.payload).then_some(Allowed::TracebackHead)
            }
            _ => None,
        }
    }
}

/// `record` with the keys of every JSON object written in its `message`
/// or `exc_info` (the whole field, or its first line when a traceback
/// follows) sorted.
fn with_sorted_objects(record: &Record) -> Record {
    fn sort(value: Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.into_iter().map(|(k, v)| (k, sort(v))).collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Object(entries.into_iter().collect())
            }
            Value::Array(items) => Value::Array(items.into_iter().map(sort).collect()),
            other => other,
        }
    }
    let sorted_text = |text: &str| -> Option<String> {
        let (json, rest) = match serde_json::from_str::<Value>(text) {
            Ok(value) => (value, ""),
            Err(_) => {
                let (head, rest) = text.split_at(text.find('\n')?);
                (serde_json::from_str::<Value>(head).ok()?, rest)
            }
        };
        (json.is_object() || json.is_array()).then(|| format!("{}{rest}", sort(json)))
    };
    let mut sorted = record.clone();
    for key in ["message", "exc_info"] {
        if let Some(text) = record.field(key).and_then(sorted_text) {
            sorted.payload[key] = text.into();
        }
    }
    sorted
}

fn pretty(record: Option<&Record>) -> String {
    match record {
        None => "(no record)".to_owned(),
        Some(r) => format!("{}\n    payload: {}", r.ndjson, serde_json::to_string_pretty(&r.payload).unwrap()),
    }
}

/// `input` with the timestamp of each line that repeats an earlier line's
/// moved on by a few nanoseconds (written with nine fraction digits), so
/// that a record's timestamp names its first raw line. Lines of a burst
/// share their timestamp in the corpus; other lines keep theirs as written.
fn unique_timestamps(input: &mut Input) {
    let mut seen = std::collections::HashSet::new();
    let mut bytes = Vec::with_capacity(input.bytes.len() + 1024);
    for line in uml_peers::lines(&input.bytes) {
        let mut ts = cri::parse(line).expect("the corpus is CRI").timestamp_ns;
        let text = std::str::from_utf8(&line[..line.iter().position(|&b| b == b' ').unwrap()]).unwrap();
        if seen.insert(ts) {
            bytes.extend_from_slice(line);
        } else {
            let fraction_end = 19 + text[19..].find(|c: char| c != '.' && !c.is_ascii_digit()).unwrap();
            let mut nanos = ts.rem_euclid(1_000_000_000);
            while !seen.insert(ts) {
                ts += 1;
                nanos += 1;
            }
            assert!(nanos < 1_000_000_000, "a burst crosses a second");
            bytes.extend_from_slice(format!("{}.{nanos:09}{}", &text[..19], &text[fraction_end..]).as_bytes());
            bytes.extend_from_slice(&line[text.len()..]);
        }
        bytes.push(b'\n');
    }
    input.bytes = bytes;
}

#[test]
fn every_peer_yields_umls_records() {
    let mut input = Input::model_container(LINES, SEED);
    unique_timestamps(&mut input);
    let (raw, uml) = compare_peers(&input, Source::ModelContainer, 9);
    assert_eq!(raw, LINES);
    assert!(uml > LINES * 9 / 10, "uml wrote only {uml} records");
}

/// The careful peer's ports of the two build rules (`builds.rs`), which the
/// per-kind table compares uml with, on each build's corpus.
#[test]
fn the_build_peers_yield_umls_records() {
    for source in [Source::Build, Source::GpuBuild] {
        let mut input = Input::of(source, LINES, SEED);
        unique_timestamps(&mut input);
        let (raw, uml) = compare_peers(&input, source, 9);
        assert_eq!(raw, LINES);
        assert!(uml > LINES * 8 / 10, "{}: uml wrote only {uml} records", source.name());
    }
}

/// The lines of the real structured loggers' cases (`tests/real/structured`,
/// each naming its public source), which the generated corpus does not
/// have: every key, scale and traceback convention of the rule's JSON
/// branch, framed as the model container's CRI file.
#[test]
fn every_peer_reads_the_structured_loggers_as_uml_does() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/real/structured");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/real/structured")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "case"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "only {} cases in {}", cases.len(), dir.display());
    let mut bytes = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let text = std::fs::read_to_string(case).expect("a case is UTF-8");
        // The header is the leading `# key: value` lines; the body follows.
        let body = text.lines().skip_while(|line| line.starts_with("# ") || line.is_empty());
        for (i, line) in body.enumerate() {
            // One second per case, one nanosecond per line: unique timestamps.
            let ts = format!("2026-11-20T{:02}:{:02}:{:02}.{i:09}Z", n / 3600, n / 60 % 60, n % 60);
            bytes.extend_from_slice(format!("{ts} stdout F {line}\n").as_bytes());
        }
    }
    let corpus = Input::model_container(1, SEED);
    let lines = uml_peers::lines(&bytes).count();
    let input = Input { name: corpus.name, bytes, lines };
    let (_, uml) = compare_peers(&input, Source::ModelContainer, 5);
    assert!(uml > 20, "uml wrote only {uml} records");
}

/// Compares the records of every peer written for `source` with uml's on
/// `input`, raw line by raw line, failing when a record differs outside the allowed classes or when
/// fewer than `tenths` tenths of uml's records are equal; returns the
/// number of raw lines and of uml's records.
fn compare_peers(input: &Input, source: Source, tenths: usize) -> (usize, usize) {
    let raw: Vec<RawLine> = uml_peers::lines(&input.bytes)
        .map(|line| {
            let cri = cri::parse(line).expect("the input is CRI");
            RawLine {
                text: String::from_utf8_lossy(line).into_owned(),
                stream: cri.stream.to_vec(),
                tag: cri.tag,
                message: String::from_utf8_lossy(cri.message).into_owned(),
            }
        })
        .collect();
    // Records are matched to raw lines by timestamp, which needs them unique.
    let mut line_of = HashMap::new();
    for (i, line) in uml_peers::lines(&input.bytes).enumerate() {
        let ts = cri::parse(line).unwrap().timestamp_ns;
        let before = line_of.insert(ts, i);
        assert!(before.is_none(), "raw lines {} and {i} have the same timestamp", before.unwrap());
    }

    let uml = records_by_line(&input.run(&mut *Implementation::Uml.transform()), &line_of, "uml");
    let comparison = Comparison { raw: &raw, uml: &uml };

    let mut report = String::new();
    // Every peer is compared before the test fails, so that one run shows
    // what each peer misses (the first few records each).
    let mut failures = Vec::new();
    let peers: Vec<_> = Implementation::PEERS.into_iter().filter_map(|p| Some((p, p.transform_of(source)?))).collect();
    assert!(!peers.is_empty(), "no peer is written for {}", source.name());
    for (peer, mut transform) in peers {
        let records = records_by_line(&input.run(&mut *transform), &line_of, peer.name());
        let mut equal = 0;
        let mut differing = 0;
        let mut allowed: HashMap<Allowed, usize> = HashMap::new();
        for (i, line) in raw.iter().enumerate() {
            let (expected, got) = (uml.get(&i), records.get(&i));
            if expected.map(|r| &r.canonical) == got.map(|r| &r.canonical) {
                equal += usize::from(expected.is_some());
                continue;
            }
            match comparison.allowed(peer, i, expected, got) {
                Some(class) => *allowed.entry(class).or_default() += 1,
                None => {
                    differing += 1;
                    if differing <= 3 {
                        failures.push(format!(
                            "{}: the record of raw line {i} differs from uml's\n  raw line: {:?}\n  uml:  {}\n  {}: {}",
                            peer.name(),
                            line.text,
                            pretty(expected),
                            peer.name(),
                            pretty(got),
                        ));
                    }
                }
            }
        }
        if differing > 0 {
            failures.push(format!("{}: {differing} records differ from uml's", peer.name()));
        }
        let mut classes: Vec<_> = allowed.into_iter().collect();
        classes.sort();
        report.push_str(&format!("{}: {equal} records equal; allowed differences {classes:?}\n", peer.name()));
        if equal * 10 <= uml.len() * tenths {
            failures.push(format!("{}: only {equal} of {} records equal", peer.name(), uml.len()));
        }
    }
    println!("{report}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    (raw.len(), uml.len())
}
