//! Real output of model servers, run through the whole pipeline with the
//! embedded rules: the corpus in `tests/real/` (see its README for where each
//! case comes from and the format of a case file).
//!
//! Each case is the raw text a program printed, one line per raw line, and
//! `# expect:` lines that say what a user needs from it: one record per event,
//! at the right level, the traceback or native stack in `exc_info` when there
//! is one, a message that is the error's own line, never an empty message.
//!
//! The test is a ratchet. [`KNOWN_FAILING`] lists the cases the engine does
//! not handle yet; every other case must pass, and every listed case must
//! still fail, so a fix removes its case from the list and a regression is
//! caught. For each failing case the test prints what was expected and what
//! came out, record by record, to start the engine work from.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use uml::runtime::pipeline::{FileState, Processor};
use uml::{Record, Rules};

/// The cases the engine does not handle yet, by path below `tests/real/`.
/// Remove a case when a fix makes it pass; never add one that passes.
const KNOWN_FAILING: &[&str] = &[];

/// One `# expect:` line: `records` consecutive records, each at `level`, with
/// or without `exc_info`; the first one's message contains `message`.
#[derive(Debug)]
struct Expect {
    records: usize,
    level: String,
    exc_info: bool,
    message: String,
}

#[derive(Debug)]
struct Case {
    /// The path below `tests/real/`, with `/` separators.
    name: String,
    stream: String,
    rule: String,
    expects: Vec<Expect>,
    lines: Vec<String>,
}

/// What came out, per record.
#[derive(Debug)]
struct Got {
    level: String,
    message: String,
    exc_info: Option<String>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/real")
}

fn case_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for class in std::fs::read_dir(corpus_dir()).expect("tests/real exists") {
        let class = class.unwrap().path();
        if !class.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&class).unwrap() {
            let file = file.unwrap().path();
            if file.extension().is_some_and(|e| e == "case") {
                files.push(file);
            }
        }
    }
    files.sort();
    files
}

/// The header's keys; the header is the leading run of `# key: value` lines.
const KEYS: &[&str] = &["source", "class", "stream", "rule", "note", "expect"];

fn header_line(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("# ")?;
    let (key, value) = rest.split_once(':')?;
    KEYS.contains(&key).then(|| (key, value.trim()))
}

fn parse_expect(name: &str, value: &str) -> Expect {
    let (fields, message) =
        value.split_once("message=").unwrap_or_else(|| panic!("{name}: `# expect:` needs `message=` last: {value}"));
    let mut records = None;
    let mut level = None;
    let mut exc_info = None;
    for field in fields.split_whitespace() {
        match field.split_once('=') {
            Some(("records", n)) => records = n.parse().ok(),
            Some(("level", l)) if ["DEBUG", "INFO", "WARNING", "ERROR"].contains(&l) => level = Some(l.to_string()),
            Some(("exc_info", "required")) => exc_info = Some(true),
            Some(("exc_info", "absent")) => exc_info = Some(false),
            _ => panic!("{name}: bad `# expect:` field `{field}`"),
        }
    }
    let message = message.to_string();
    assert!(!message.is_empty(), "{name}: `message=` is empty");
    Expect {
        records: records.unwrap_or_else(|| panic!("{name}: `# expect:` needs `records=N`")),
        level: level.unwrap_or_else(|| panic!("{name}: `# expect:` needs `level=`")),
        exc_info: exc_info.unwrap_or_else(|| panic!("{name}: `# expect:` needs `exc_info=`")),
        message,
    }
}

fn parse_case(path: &Path) -> Case {
    let name = path.strip_prefix(corpus_dir()).unwrap().to_string_lossy().replace('\\', "/");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut raw: Vec<&str> = text.split('\n').collect();
    // The file's final line feed ends the last raw line; it does not start one.
    if raw.last() == Some(&"") {
        raw.pop();
    }
    let mut stream = None;
    let mut rule = "model_container".to_string();
    let mut source = false;
    let mut class = false;
    let mut expects = Vec::new();
    let mut body = 0;
    for line in &raw {
        let Some((key, value)) = header_line(line) else { break };
        body += 1;
        match key {
            "source" => source = !value.is_empty(),
            "class" => class = !value.is_empty(),
            "stream" => stream = Some(value.to_string()),
            "rule" => rule = value.to_string(),
            "expect" => expects.push(parse_expect(&name, value)),
            _ => {}
        }
    }
    assert!(source, "{name}: no `# source:`");
    assert!(class, "{name}: no `# class:`");
    assert!(!expects.is_empty(), "{name}: no `# expect:`");
    let stream = stream.unwrap_or_else(|| panic!("{name}: no `# stream:`"));
    assert!(stream == "stdout" || stream == "stderr", "{name}: stream `{stream}`");
    let lines: Vec<String> = raw[body..].iter().map(|l| l.to_string()).collect();
    assert!(!lines.is_empty(), "{name}: no raw lines");
    Case { name, stream, rule, expects, lines }
}

/// A kubelet file name that routes to the case's rule.
fn file_path(rule: &str) -> String {
    let (pod, container) = match rule {
        "model_container" => ("model-x5qe2qo-7d9f8b6c5d-q7rg5", "model"),
        "gpu_build" => ("gpu-build-x5qe2qo-b7x4k", "builder"),
        "build" => ("build-x5qe2qo-q7rg5-pod", "step-build"),
        other => panic!("unknown rule `{other}`"),
    };
    format!(
        "/var/log/containers/{pod}_org-50a9bc6b456e47aa88e0d81e622ea315_{container}-c9a0b2147d484f20a668e07d39d41838d5e2c3ae0abdda216614f0076a60df8d.log"
    )
}

/// The case's lines as CRI lines, 1 ms apart.
fn cri(case: &Case) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, line) in case.lines.iter().enumerate() {
        let ms = i + 1;
        assert!(ms < 59_000, "{}: too many lines", case.name);
        let head = format!("2026-11-20T10:00:{:02}.{:03}Z {} F ", ms / 1000, ms % 1000, case.stream);
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out
}

fn run(rules: &Rules, case: &Case) -> Vec<Got> {
    let mut file = FileState::from_path(&file_path(&case.rule));
    let mut processor = Processor::new(rules.plan());
    let mut got = Vec::new();
    let mut sink = |r: &Record, _| {
        let payload: serde_json::Value = serde_json::from_slice(r.payload()).expect("the payload is JSON");
        let text = |key: &str| payload.get(key).and_then(|v| v.as_str()).map(str::to_string);
        got.push(Got {
            level: text("levelname").unwrap_or_default(),
            message: text("message").unwrap_or_default(),
            exc_info: text("exc_info"),
        });
    };
    for line in cri(case).split_inclusive(|b| *b == b'\n') {
        processor.push(&mut file, line, &mut sink);
    }
    let stats = processor.finish(&mut file, &mut sink);
    stats.check().unwrap_or_else(|e| panic!("{}: {e}", case.name));
    got
}

/// The ways the records differ from the expectations; empty when they match.
fn compare(case: &Case, got: &[Got]) -> Vec<String> {
    let mut problems = Vec::new();
    let wanted: usize = case.expects.iter().map(|e| e.records).sum();
    if got.len() != wanted {
        problems.push(format!("{} records, expected {wanted}", got.len()));
    }
    for (i, g) in got.iter().enumerate() {
        if g.message.trim().is_empty() {
            problems.push(format!("record {i}: empty message"));
        }
    }
    let mut at = 0;
    for (e, expect) in case.expects.iter().enumerate() {
        for k in 0..expect.records {
            let Some(g) = got.get(at + k) else {
                problems.push(format!("expect {e}: record {} missing", at + k));
                continue;
            };
            if g.level != expect.level {
                problems.push(format!("expect {e}: record {} is {}, expected {}", at + k, g.level, expect.level));
            }
            let has_exc = g.exc_info.as_deref().is_some_and(|x| !x.trim().is_empty());
            if has_exc != expect.exc_info {
                let want = if expect.exc_info { "required" } else { "absent" };
                problems.push(format!("expect {e}: record {} exc_info {}, expected {want}", at + k, presence(has_exc)));
            }
            if k == 0 && !g.message.contains(&expect.message) {
                problems.push(format!("expect {e}: record {} message lacks {:?}", at + k, expect.message));
            }
        }
        at += expect.records;
    }
    problems
}

fn presence(has: bool) -> &'static str {
    if has { "present" } else { "absent" }
}

fn clip(s: &str, n: usize) -> String {
    let one_line = s.replace('\n', "⏎");
    if one_line.chars().count() <= n {
        one_line
    } else {
        format!("{}…", one_line.chars().take(n).collect::<String>())
    }
}

/// Expected against got, record by record.
fn diff(case: &Case, got: &[Got], problems: &[String]) -> String {
    let mut out = format!("--- {} ({} raw lines)\n", case.name, case.lines.len());
    for p in problems {
        let _ = writeln!(out, "  ! {p}");
    }
    out.push_str("  expected:\n");
    for e in &case.expects {
        let exc = if e.exc_info { "required" } else { "absent" };
        let _ =
            writeln!(out, "    {} × {:<7} exc_info={exc:<8} message ⊇ {:?}", e.records, e.level, clip(&e.message, 70));
    }
    out.push_str("  got:\n");
    for (i, g) in got.iter().enumerate() {
        let exc = match &g.exc_info {
            Some(x) => format!("{} lines", x.lines().count()),
            None => "absent".to_string(),
        };
        let _ = writeln!(out, "    #{i:<2} {:<7} exc_info={exc:<8} message {:?}", g.level, clip(&g.message, 70));
    }
    out
}

#[test]
fn real_output_of_model_servers() {
    let rules = Rules::embedded();
    let files = case_files();
    assert!(files.len() >= 14, "the corpus has {} cases", files.len());
    let mut failing = Vec::new();
    let mut report = String::new();
    for path in &files {
        let case = parse_case(path);
        let got = run(&rules, &case);
        let problems = compare(&case, &got);
        if !problems.is_empty() {
            report.push_str(&diff(&case, &got, &problems));
            failing.push(case.name);
        }
    }
    println!("{report}");
    println!("{} cases, {} failing", files.len(), failing.len());

    let names: Vec<String> = files.iter().map(|p| parse_case(p).name).collect();
    for known in KNOWN_FAILING {
        assert!(names.iter().any(|n| n == known), "KNOWN_FAILING names a case that does not exist: {known}");
    }
    let regressions: Vec<&String> = failing.iter().filter(|n| !KNOWN_FAILING.contains(&n.as_str())).collect();
    let fixed: Vec<&&str> = KNOWN_FAILING.iter().filter(|k| !failing.iter().any(|n| n == *k)).collect();
    assert!(
        regressions.is_empty(),
        "cases that fail and are not in KNOWN_FAILING (see the diffs above): {regressions:#?}"
    );
    assert!(fixed.is_empty(), "cases in KNOWN_FAILING that pass now; remove them from the list: {fixed:#?}");
}

#[test]
fn the_case_format_is_parsed_as_documented() {
    let value = "records=2 level=WARNING exc_info=absent message=a = b message=c";
    let e = parse_expect("t", value);
    assert_eq!((e.records, e.level.as_str(), e.exc_info, e.message.as_str()), (2, "WARNING", false, "a = b message=c"));
    assert_eq!(header_line("# expect: records=1"), Some(("expect", "records=1")));
    assert_eq!(header_line("# not a key: x"), None);
    assert_eq!(header_line("#expect: x"), None);
}
