//! Multiline grouping, one case per file under `tests/group/`.
//!
//! A case file has three parts:
//!
//! ```text
//! # Comments start with `#`.
//! mode: python_traceback          or `pattern`; then optional options:
//! head: (?i)error                 `head`, `start`, `continue` (regexes),
//! max_lines: 3                    `max_lines`, `idle_ms`
//! == input
//! out | INFO: starting            a line: its stream, `|`, the text after one space
//! err @5000 | Traceback (most…    `@ms` sets the timestamp (default: the previous + 1 ms)
//! flush_idle @9000                a call to `flush_idle` at that time (ms)
//! == groups
//! out @1 lines=1                  a group: stream, timestamp (ms), input lines
//! line | INFO: starting           its `line`, one entry per `\n`-separated line
//! tb | Traceback (most…           its `traceback`, if any, likewise
//! -- flush_idle @9000             the groups after it came out of that call
//! -- finish                       …and those after this one out of `finish`
//! ```
//!
//! In texts, `\t`, `\r`, `\e` (ESC) and `\\` stand for a tab, a carriage
//! return, an escape and a backslash.
//!
//! The expected groups are compared with what the grouper sends, in order.
//! Before each `flush_idle` and at the end of the input the harness calls
//! `settle`, as a tailing agent does when it has read all there is.
//! `UML_BLESS=1 cargo test -p uml-runtime --test group` rewrites the
//! `== groups` part of failing cases with the actual output, for review.

use std::fmt::Write as _;
use std::path::Path;

use regex::Regex;
use uml_runtime::group::{Group, GroupConfig, Grouper, Stream};

enum Input {
    Line { stream: Stream, ms: i64, text: String },
    FlushIdle { ms: i64 },
}

struct Case {
    config: GroupConfig,
    inputs: Vec<Input>,
    /// The file up to and including `== groups`.
    head: String,
    expected: String,
}

fn parse(text: &str) -> Result<Case, String> {
    let (before, expected) = text.split_once("\n== groups\n").ok_or("no `== groups` section")?;
    let (options, input) = before.split_once("== input\n").ok_or("no `== input` section")?;
    let mut mode = None;
    let (mut head, mut start, mut continue_) = (None, None, None);
    let mut max_lines = GroupConfig::DEFAULT_MAX_LINES;
    let mut idle_ms = GroupConfig::DEFAULT_IDLE_MS;
    for line in options.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (key, value) = line.split_once(": ").ok_or_else(|| format!("not an option: {line:?}"))?;
        let regex = || Regex::new(value).map_err(|e| e.to_string());
        match key {
            "mode" => mode = Some(value.to_owned()),
            "head" => head = Some(regex()?),
            "start" => start = Some(regex()?),
            "continue" => continue_ = Some(regex()?),
            "max_lines" => max_lines = value.parse().map_err(|_| format!("bad max_lines {value:?}"))?,
            "idle_ms" => idle_ms = value.parse().map_err(|_| format!("bad idle_ms {value:?}"))?,
            _ => return Err(format!("unknown option {key:?}")),
        }
    }
    let config = match mode.as_deref() {
        Some("python_traceback") => GroupConfig::PythonTraceback { head, max_lines, idle_ms },
        Some("pattern") => GroupConfig::Pattern {
            start: start.ok_or("pattern mode needs `start`")?,
            continue_: continue_.ok_or("pattern mode needs `continue`")?,
            max_lines,
            idle_ms,
        },
        other => return Err(format!("unknown mode {other:?}")),
    };
    let mut inputs = Vec::new();
    let mut ms = 0;
    for line in input.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        if let Some(at) = line.strip_prefix("flush_idle @") {
            inputs.push(Input::FlushIdle { ms: at.parse().map_err(|_| format!("bad time in {line:?}"))? });
            continue;
        }
        let (meta, text) = split_entry(line).ok_or_else(|| format!("not an input line: {line:?}"))?;
        let mut words = meta.split_whitespace();
        let stream = match words.next() {
            Some("out") => Stream::Stdout,
            Some("err") => Stream::Stderr,
            _ => return Err(format!("no stream in {line:?}")),
        };
        ms = match words.next() {
            Some(at) => {
                at.strip_prefix('@').and_then(|n| n.parse().ok()).ok_or_else(|| format!("bad time in {line:?}"))?
            }
            None => ms + 1,
        };
        inputs.push(Input::Line { stream, ms, text: unescape(text)? });
    }
    let head_len = text.len() - expected.len();
    Ok(Case { config, inputs, head: text[..head_len].to_owned(), expected: expected.to_owned() })
}

/// `key | text` → (`key`, `text`): one space after the bar is part of the syntax.
fn split_entry(line: &str) -> Option<(&str, &str)> {
    let (key, rest) = line.split_once('|')?;
    Some((key.trim(), rest.strip_prefix(' ').unwrap_or(rest)))
}

fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next() {
            Some('t') => '\t',
            Some('r') => '\r',
            Some('e') => '\x1b',
            Some('\\') => '\\',
            other => return Err(format!("unknown escape \\{} in {text:?}", other.unwrap_or(' '))),
        });
    }
    Ok(out)
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\t', "\\t").replace('\r', "\\r").replace('\x1b', "\\e")
}

/// Renders a group the way the `== groups` section writes it.
fn render(out: &mut String, g: &Group<'_>) {
    let stream = if g.stream == Stream::Stdout { "out" } else { "err" };
    let ms = g.timestamp_ns / 1_000_000;
    writeln!(out, "{stream} @{ms} lines={}", g.lines).unwrap();
    let entries = g.line.split('\n').map(|part| ("line", part));
    let traceback = g.traceback.into_iter().flat_map(|tb| tb.split('\n')).map(|part| ("tb", part));
    for (key, part) in entries.chain(traceback) {
        if part.is_empty() {
            writeln!(out, "{key} |").unwrap();
        } else {
            writeln!(out, "{key} | {}", escape(part)).unwrap();
        }
    }
}

/// Runs a case: the rendered output. Checks on the way that every input
/// line came out in exactly one group.
fn run(case: &Case) -> String {
    let mut grouper = Grouper::new(&case.config);
    let mut out = String::new();
    let (mut lines_in, mut lines_out) = (0_u64, 0_u64);
    let mut record = |out: &mut String, g: Group<'_>| {
        assert!(g.lines >= 1, "an empty group: {g:?}");
        lines_out += u64::from(g.lines);
        render(out, &g);
    };
    for input in &case.inputs {
        match input {
            Input::Line { stream, ms, text } => {
                lines_in += 1;
                grouper.push(*stream, ms * 1_000_000, text, &mut |g| record(&mut out, g));
            }
            Input::FlushIdle { ms } => {
                // The lines so far are all that was read: a tailing agent
                // settles them before it waits.
                grouper.settle(&mut |g| record(&mut out, g));
                writeln!(out, "-- flush_idle @{ms}").unwrap();
                grouper.flush_idle(ms * 1_000_000, &mut |g| record(&mut out, g));
            }
        }
    }
    grouper.settle(&mut |g| record(&mut out, g));
    out.push_str("-- finish\n");
    grouper.finish(&mut |g| record(&mut out, g));
    assert_eq!(grouper.buffered_lines(), 0);
    assert_eq!(lines_in, lines_out, "lines in and out differ");
    out
}

#[test]
fn cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/group");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.retain(|p| p.extension().is_some_and(|e| e == "case"));
    paths.sort();
    assert!(paths.len() >= 10, "the cases are missing from {}", dir.display());
    let bless = std::env::var_os("UML_BLESS").is_some();
    let mut failures = Vec::new();
    for path in &paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let case = match parse(&text) {
            Ok(case) => case,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let actual = run(&case);
        if actual != case.expected {
            if bless {
                std::fs::write(path, format!("{}{actual}", case.head)).unwrap();
            }
            failures.push(format!("{name}:\n--- expected\n{}--- actual\n{actual}", case.expected));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), paths.len(), failures.join("\n"));
}
