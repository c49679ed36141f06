//! The output contract of `docs/contract.md`, "The unified record", as a
//! checker, and the input format of the `execute` fuzz target.
//!
//! Shared, as source, by `tests/execute_schema.rs` and
//! `fuzz/fuzz_targets/execute.rs` (`#[path = …] mod record_schema;`), so
//! that the fuzzer and the stable test check the same laws and read the
//! seeds in `fuzz/seeds/execute/` the same way.
//!
//! [`run_case`] routes a [`Case`]'s file with one executor of the embedded
//! rules and applies every line. Each record must satisfy the schema:
//!
//! - the labels are a JSON object with exactly `model_version_id`,
//!   `namespace`, `unified_model_logs` and `job`, in that order, all strings;
//!   `unified_model_logs` is `"1"`, `job` is `"fluent-bit"`, the other two
//!   are not empty; [`Record::label`] agrees with the JSON;
//! - the payload is a JSON object in valid UTF-8 (`serde_json` refuses raw
//!   control characters and lone surrogate escapes) with no key twice;
//!   `levelname` is one of `DEBUG INFO WARNING ERROR`, `source` one of the
//!   five sources, `message` and `replica` are strings, `exc_info` is absent
//!   or a string, and every other value is a string, number or bool;
//! - the payload is at most 256 KiB and at most the rule's
//!   `max_record_size`; a record flagged as cut carries the cut marker.
//!
//! The same line applied to a record held escaped for an encoder
//! (`PayloadForm::Escaped`) must give the JSON record's payload escaped as a
//! JSON string body, cut alike, with the same labels.
//!
//! A line without a record must be explained: [`Rules::describe`] is not
//! empty. An abort must come from an aborting call `f!(…)`: one without a
//! function is a failure the checker should have made the rule handle, a
//! bug in uml.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::OnceLock;
use uml::runtime::exec::CUT_MARKER;
use uml::runtime::framing::DEFAULT_MAX_LINE_BYTES;
use uml::runtime::stdlib::json_string::write_json_string_body;
use uml::{Executor, FileInfo, Line, Outcome, PayloadForm, Record, Rules, Stream};

/// The labels of every record, in the schema's order.
pub const LABELS: [&str; 4] = ["model_version_id", "namespace", "unified_model_logs", "job"];
/// `levelname`'s values.
pub const LEVELS: [&str; 4] = ["DEBUG", "INFO", "WARNING", "ERROR"];
/// `source`'s values.
pub const SOURCES: [&str; 5] = ["build", "deploy", "model_container", "kube-pod-lifecycle-watcher", "gpu_build"];
/// Loki's default `max_line_size`.
pub const MAX_PAYLOAD: usize = 256 * 1024;

/// The embedded rules, compiled once per process.
pub fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(Rules::embedded)
}

/// Checks one record against the schema; `max_record_size` is its rule's.
pub fn check_record(record: &Record, max_record_size: usize) -> Result<(), String> {
    check_labels(record).map_err(|e| format!("labels: {e}"))?;
    check_payload(record, max_record_size).map_err(|e| format!("payload: {e}"))
}

fn check_labels(record: &Record) -> Result<(), String> {
    let text = std::str::from_utf8(record.labels_json()).map_err(|e| format!("not UTF-8: {e}"))?;
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON ({e}): {text}"))?;
    let object = value.as_object().ok_or_else(|| format!("not an object: {text}"))?;
    if let Some((key, v)) = object.iter().find(|(_, v)| !v.is_string()) {
        return Err(format!("`{key}` is not a string but {v}: {text}"));
    }
    let keys = top_level_keys(text)?;
    if keys != LABELS {
        return Err(format!("the keys are {keys:?}, not exactly {LABELS:?} in this order: {text}"));
    }
    let label = |k: &str| object[k].as_str().unwrap_or_default();
    if label("unified_model_logs") != "1" {
        return Err(format!("unified_model_logs is not \"1\": {text}"));
    }
    if label("job") != "fluent-bit" {
        return Err(format!("job is not \"fluent-bit\": {text}"));
    }
    for k in ["model_version_id", "namespace"] {
        if label(k).is_empty() {
            return Err(format!("`{k}` is empty: {text}"));
        }
    }
    if record.label_count() != LABELS.len() {
        return Err(format!("label_count() is {}, not {}", record.label_count(), LABELS.len()));
    }
    for (i, k) in LABELS.iter().enumerate() {
        if record.label(i) != label(k) {
            return Err(format!("label({i}) is {:?} but the JSON has {k}: {:?}", record.label(i), label(k)));
        }
    }
    Ok(())
}

fn check_payload(record: &Record, max_record_size: usize) -> Result<(), String> {
    let bytes = record.payload();
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let limit = MAX_PAYLOAD.min(max_record_size);
    if bytes.len() > limit {
        return Err(format!("{} bytes, over the limit of {limit}: {}", bytes.len(), preview(text)));
    }
    if record.truncated() && !text.contains(CUT_MARKER) {
        return Err(format!("flagged as cut but without the marker {CUT_MARKER:?}: {}", preview(text)));
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON ({e}): {}", preview(text)))?;
    let object = value.as_object().ok_or_else(|| format!("not an object: {}", preview(text)))?;
    let string = |k: &str| match object.get(k) {
        Some(serde_json::Value::String(s)) => Ok(s.as_str()),
        Some(v) => Err(format!("`{k}` is not a string but {}: {}", preview(&v.to_string()), preview(text))),
        None => Err(format!("`{k}` is missing: {}", preview(text))),
    };
    let level = string("levelname")?;
    if !LEVELS.contains(&level) {
        return Err(format!("levelname {level:?} is not one of {LEVELS:?}: {}", preview(text)));
    }
    let source = string("source")?;
    if !SOURCES.contains(&source) {
        return Err(format!("source {source:?} is not one of {SOURCES:?}: {}", preview(text)));
    }
    string("message")?;
    string("replica")?;
    if object.contains_key("exc_info") {
        string("exc_info")?;
    }
    for (k, v) in object {
        if !(v.is_string() || v.is_number() || v.is_boolean()) {
            return Err(format!(
                "`{k}` is not a string, number or bool but {}: {}",
                preview(&v.to_string()),
                preview(text)
            ));
        }
    }
    let keys = top_level_keys(text)?;
    if keys.len() != object.len() {
        return Err(format!("a key appears twice among {keys:?}: {}", preview(text)));
    }
    Ok(())
}

/// The keys of a JSON object that `serde_json` parsed and whose values are
/// all scalars, in order, duplicates kept (`serde_json::Map` drops them).
pub fn top_level_keys(json: &str) -> Result<Vec<String>, String> {
    let b = json.as_bytes();
    let mut keys = Vec::new();
    let mut expect_key = true;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                if expect_key {
                    let raw = json.get(start..i).ok_or("a string runs past the end")?;
                    keys.push(serde_json::from_str(raw).map_err(|e| format!("key {raw}: {e}"))?);
                    expect_key = false;
                }
            }
            b',' => {
                expect_key = true;
                i += 1;
            }
            _ => i += 1,
        }
    }
    Ok(keys)
}

/// Checks what became of one line; for a record, `record` holds it.
pub fn check_outcome(rules: &Rules, executor: &Executor<'_>, outcome: Outcome, record: &Record) -> Result<(), String> {
    let plan = rules.plan();
    match outcome {
        Outcome::Record => {
            let rule = plan.rules.get(usize::from(record.rule)).ok_or("the record names no rule")?;
            check_record(record, rule.max_record_size as usize).map_err(|e| format!("rule {}: {e}", rule.name))
        }
        Outcome::Drop(_) | Outcome::Abort(_) | Outcome::Unrouted | Outcome::TooLarge => {
            let why = rules.describe(executor, outcome);
            if why.is_empty() {
                return Err(format!("{outcome:?} has an empty description"));
            }
            if let Outcome::Abort(site) = outcome
                && plan.aborts[site as usize].func.is_none()
            {
                return Err(format!("a failure nothing handles (a bug in uml): {why}"));
            }
            Ok(())
        }
    }
}

/// One file's stream and the lines read from it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Case {
    pub pod: String,
    pub namespace: String,
    pub container: String,
    pub stderr: bool,
    /// `%timestamp` of every line.
    pub timestamp: i64,
    /// The traceback grouped with the first line, if any.
    pub traceback: Option<String>,
    pub lines: Vec<String>,
    /// Lines (and tracebacks) whose invalid UTF-8 became U+FFFD, as the
    /// stream layer counts them (`Counters::replaced_invalid_utf8`).
    pub replaced: usize,
}

/// What [`run_case`] saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Records per rule name.
    pub records: BTreeMap<String, usize>,
    pub truncated: usize,
    pub drops: usize,
    pub aborts: usize,
    pub unrouted: usize,
}

impl Tally {
    pub fn add(&mut self, other: &Tally) {
        for (rule, n) in &other.records {
            *self.records.entry(rule.clone()).or_default() += n;
        }
        self.truncated += other.truncated;
        self.drops += other.drops;
        self.aborts += other.aborts;
        self.unrouted += other.unrouted;
    }
}

/// Routes the case's file and stream once, applies every line with one
/// executor and one reused record, and checks every outcome.
pub fn run_case(case: &Case) -> Result<Tally, String> {
    let rules = rules();
    let mut executor = rules.executor();
    let mut record = Record::default();
    let mut escaped = Record::with_form(PayloadForm::Escaped);
    let mut expected = Vec::new();
    let file = format!("/var/log/containers/{}_{}_{}-{CONTAINER_ID}.log", case.pod, case.namespace, case.container);
    let info = FileInfo {
        pod: &case.pod,
        namespace: &case.namespace,
        container: &case.container,
        container_id: CONTAINER_ID,
        file: &file,
    };
    let route = executor.route(&info, if case.stderr { Stream::Stderr } else { Stream::Stdout });
    let mut tally = Tally::default();
    for (i, text) in case.lines.iter().enumerate() {
        let line =
            Line { text, traceback: if i == 0 { case.traceback.as_deref() } else { None }, timestamp: case.timestamp };
        let outcome = executor.apply(&route, line, &mut record);
        if let Err(e) = check_outcome(rules, &executor, outcome, &record) {
            return Err(format!("line {i}: {e}\n--- case\n{}", case.summary()));
        }
        if outcome == Outcome::Record {
            let again = executor.apply(&route, line, &mut escaped);
            expected.clear();
            write_json_string_body(&mut expected, record.payload());
            if again != outcome
                || escaped.payload() != expected
                || escaped.truncated() != record.truncated()
                || escaped.labels_json() != record.labels_json()
            {
                return Err(format!(
                    "line {i}: the record held escaped is not the JSON record escaped\n  JSON escaped: {}\n  escaped:      {}\n--- case\n{}",
                    preview(&String::from_utf8_lossy(&expected)),
                    preview(&String::from_utf8_lossy(escaped.payload())),
                    case.summary()
                ));
            }
        }
        match outcome {
            Outcome::Record => {
                let name = &rules.plan().rules[usize::from(record.rule)].name;
                *tally.records.entry(name.clone()).or_default() += 1;
                tally.truncated += usize::from(record.truncated());
            }
            Outcome::Drop(_) => tally.drops += 1,
            Outcome::Abort(_) => tally.aborts += 1,
            Outcome::Unrouted => tally.unrouted += 1,
            Outcome::TooLarge => tally.drops += 1,
        }
    }
    Ok(tally)
}

const CONTAINER_ID: &str = "0f3c9a7e5b2d4c6e8a1b3d5f7e9c2a4b6d8f0e1c3a5b7d9f2e4c6a8b0d1f3e5a";

const ORG: &str = "org-50a9bc6b456e47aa88e0d81e622ea315";
const ORG2: &str = "org-0123456789abcdef0123456789abcdef";

/// Realistic metadata, `(pod, namespace, container, the rule that takes it)`:
/// every source (the model's several times: its rule is the largest), then
/// files no rule takes (init containers, sidecars, near misses).
pub const METADATA: &[(&str, &str, &str, Option<&str>)] = &[
    ("build-x5qe2qo-q7rg5-pod", ORG, "step-build", Some("build")),
    ("build-x5qe2qo-q7rg5-pod", ORG, "step-push", Some("build")),
    ("build-w3pl9qd0-b7x4k-pod", ORG2, "step-build", Some("build")),
    ("django-5c8d7f9b6d-m2xvt", "baseten", "django", Some("deploy")),
    ("django-7d9f8b6c5-q7rg5", "baseten", "django", Some("deploy")),
    ("gpu-build-x5qe2qo-b7x4k", ORG, "builder", Some("gpu_build")),
    ("gpu-build-w3pl9qd0-q7rg5", ORG2, "builder", Some("gpu_build")),
    ("model-x5qe2qo-7d9f8b6c5d-q7rg5", ORG, "model", Some("model_container")),
    ("model-x5qe2qo-7d9f8b6c5d-q7rg5", ORG, "model", Some("model_container")),
    ("model-w3pl9qd0-6f7c9d8b4-x2mzq", ORG2, "model", Some("model_container")),
    ("model-x5qe2qo-58b9d7c6f4-b7x4k", ORG, "model", Some("model_container")),
    ("model-a1b2c3d-5c8d7f9b6d-zz999", ORG2, "model", Some("model_container")),
    ("kube-pod-lifecycle-watcher-6f7c9d8b4-x2mzq", "baseten-system", "watcher", Some("kube_pod_lifecycle_watcher")),
    ("kube-pod-lifecycle-watcher-7d9f8b6c5d-q7rg5", "baseten-system", "watcher", Some("kube_pod_lifecycle_watcher")),
    ("kube-pod-lifecycle-watcher-6f7c9d8b4-x2mzq", "baseten-system", "watcher", Some("kube_pod_lifecycle_watcher")),
    ("build-x5qe2qo-q7rg5-pod", ORG, "step-push", Some("build")),
    // No rule takes these.
    ("build-x5qe2qo-q7rg5-pod", ORG, "prepare", None),
    ("build-x5qe2qo-q7rg5-pod", ORG, "place-scripts", None),
    ("model-x5qe2qo-7d9f8b6c5d-q7rg5", ORG, "queue-proxy", None),
    ("model-x5qe2qo-7d9f8b6c5d-q7rg5", ORG, "istio-proxy", None),
    ("model-cache-warmer-q7rg5", ORG, "model", None),
    ("kube-state-metrics-6f7c9d8b4-x2mzq", "baseten-system", "watcher", None),
    ("django-5c8d7f9b6d-m2xvt", "baseten-system", "django", None),
    ("model-x5qe2qo-7d9f8b6c5d-q7rg5", "baseten", "model", None),
];

/// The metadata selector is read modulo this; from [`METADATA`]'s length
/// up, it says the metadata follows in the input.
const SELECTORS: u8 = 32;
pub const STDERR: u8 = 1;
pub const TRACEBACK: u8 = 2;
/// With both these flag bits, the first [`EXPAND`] byte of each of the
/// first two parts (traceback, then lines) that have one repeats the
/// character before it until the part is as long as the longest line the
/// stream layer passes on (`DEFAULT_MAX_LINE_BYTES`), to reach
/// `max_record_size`'s cuts. Two bits: such inputs run 100 times slower.
pub const EXPANDS: u8 = 4 | 32;
/// Bits 3 and 4: the timestamp.
const TIMESTAMPS: [i64; 4] = [1_795_135_392_801_000_000, 0, i64::MIN, i64::MAX];
/// Between sections; never part of UTF-8, so no line loses anything.
pub const SEPARATOR: u8 = 0xFF;
/// See [`EXPANDS`]; never part of UTF-8 either.
pub const EXPAND: u8 = 0xFE;

impl Case {
    /// Reads a fuzz input:
    ///
    /// ```text
    /// selector flags [pod FF namespace FF container FF] [traceback FF] lines
    /// ```
    ///
    /// `selector % 32` picks an entry of [`METADATA`], or past its end
    /// says the metadata follows; `flags` has [`STDERR`], [`TRACEBACK`],
    /// [`EXPANDS`] and the timestamp's index in bits 3 and 4. The lines are
    /// separated by `\n`; every part is decoded to UTF-8 lossily.
    pub fn decode(data: &[u8]) -> Case {
        let (selector, flags, rest) = match data {
            [s, f, rest @ ..] => (*s, *f, rest),
            [s] => (*s, 0, &[][..]),
            [] => (0, 0, &[][..]),
        };
        let mut case =
            Case { stderr: flags & STDERR != 0, timestamp: TIMESTAMPS[usize::from(flags >> 3) & 3], ..Case::default() };
        let mut expansions = if flags & EXPANDS == EXPANDS { 2 } else { 0 };
        let mut rest = rest;
        let mut section = || {
            let (head, tail) = match rest.iter().position(|&b| b == SEPARATOR) {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (rest, &[][..]),
            };
            rest = tail;
            head
        };
        let selector = selector % SELECTORS;
        if let Some(&(pod, namespace, container, _)) = METADATA.get(usize::from(selector)) {
            (case.pod, case.namespace, case.container) = (pod.into(), namespace.into(), container.into());
        } else {
            case.pod = String::from_utf8_lossy(section()).into_owned();
            case.namespace = String::from_utf8_lossy(section()).into_owned();
            case.container = String::from_utf8_lossy(section()).into_owned();
        }
        let mut replaced = 0;
        if flags & TRACEBACK != 0 {
            let raw = section();
            case.traceback = Some(decode_part(raw, &mut expansions, DEFAULT_MAX_LINE_BYTES, &mut replaced));
        }
        case.lines = rest
            .split(|&b| b == b'\n')
            .map(|l| decode_part(l, &mut expansions, DEFAULT_MAX_LINE_BYTES, &mut replaced))
            .collect();
        case.replaced = replaced;
        case
    }

    /// The input [`Case::decode`] reads as this case, for lines without
    /// `\n` and without a count of replacements.
    pub fn encode(&self) -> Vec<u8> {
        let known =
            METADATA.iter().position(|&(p, n, c, _)| (p, n, c) == (&*self.pod, &*self.namespace, &*self.container));
        let selector = known.map_or(SELECTORS - 1, |i| i as u8);
        let timestamp = TIMESTAMPS.iter().position(|&t| t == self.timestamp).unwrap_or(0) as u8;
        let flags = u8::from(self.stderr) * STDERR + u8::from(self.traceback.is_some()) * TRACEBACK + (timestamp << 3);
        let mut out = vec![selector, flags];
        if known.is_none() {
            for part in [&self.pod, &self.namespace, &self.container] {
                out.extend_from_slice(part.as_bytes());
                out.push(SEPARATOR);
            }
        }
        if let Some(t) = &self.traceback {
            out.extend_from_slice(t.as_bytes());
            out.push(SEPARATOR);
        }
        out.extend_from_slice(self.lines.join("\n").as_bytes());
        out
    }

    /// The case with long texts shortened, for failure messages.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "pod {:?} namespace {:?} container {:?} {} timestamp {}\n",
            self.pod,
            self.namespace,
            self.container,
            if self.stderr { "stderr" } else { "stdout" },
            self.timestamp
        );
        if let Some(t) = &self.traceback {
            let _ = writeln!(s, "traceback {}", preview(&format!("{t:?}")));
        }
        for (i, l) in self.lines.iter().enumerate() {
            let _ = writeln!(s, "line {i}: {}", preview(&format!("{l:?}")));
        }
        s
    }
}

/// Decodes one part lossily, expanding its first [`EXPAND`] while
/// `expansions` lasts; counts a replacement in `replaced`.
fn decode_part(raw: &[u8], expansions: &mut u32, size: usize, replaced: &mut usize) -> String {
    let at = raw.iter().position(|&b| b == EXPAND).filter(|_| *expansions > 0);
    let Some(at) = at else {
        let text = String::from_utf8_lossy(raw);
        *replaced += usize::from(matches!(text, std::borrow::Cow::Owned(_)));
        return text.into_owned();
    };
    *expansions -= 1;
    let before = String::from_utf8_lossy(&raw[..at]);
    let after = String::from_utf8_lossy(&raw[at + 1..]);
    *replaced +=
        usize::from(matches!(before, std::borrow::Cow::Owned(_)) || matches!(after, std::borrow::Cow::Owned(_)));
    let unit = before.chars().next_back().unwrap_or('a');
    let mut text = String::with_capacity(size);
    text.push_str(&before);
    while text.len() + unit.len_utf8() + after.len() <= size {
        text.push(unit);
    }
    text.push_str(&after);
    text
}

/// At most 300 bytes of `s`, and its length when longer.
pub fn preview(s: &str) -> String {
    if s.len() <= 300 {
        return s.to_string();
    }
    let mut end = 300;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}
