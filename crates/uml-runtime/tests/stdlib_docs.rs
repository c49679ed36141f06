//! Every example of `docs/language.md` that these functions compute, with
//! the section it comes from. The regex forms of `replace` and `split` and
//! the value-level functions (`parse_json`, `to_string` of objects, `get`,
//! `exists`, `is_*`) belong to the executor and are not here.

use uml_runtime::stdlib::ansi::{needs_strip, strip_ansi_escape_codes};
use uml_runtime::stdlib::klog::{KlogLevel, parse_klog};
use uml_runtime::stdlib::level::{Level, LevelError, Scale, level_from_number, normalize_level, parse_level};
use uml_runtime::stdlib::logfmt::{LogfmtValue, parse_logfmt};
use uml_runtime::stdlib::number::{format_int, parse_int};
use uml_runtime::stdlib::text::{
    contains, downcase, ends_with, length, slice, split, starts_with, trim, truncate, upcase,
};
use uml_runtime::stdlib::timestamp::{TimestampFormat, parse_rfc3339, parse_timestamp};

fn stripped(line: &str) -> String {
    let mut out = String::new();
    strip_ansi_escape_codes(line, &mut out);
    out
}

/// §1.3, §10.1 parse_regex, §10.4 and the rules of §12: `level` of a
/// string, with and without a scale.
#[test]
fn level() {
    let with = |s, scale| parse_level(s, scale);
    // §1.3 and §12.5: python-json-logger's levelname, read on the python scale.
    assert_eq!(with("INFO", Some(Scale::Python)), Ok(Level::Info));
    // §10.1 parse_regex: `2026-11-20 07:07:55,838 - INFO - flashinfer.jit: …`.
    assert_eq!(with("INFO", None), Ok(Level::Info));
    // §10.4.
    assert_eq!(with("WARN", None).map(Level::as_str), Ok("WARNING"));
    assert_eq!(with("[E]", None).map(Level::as_str), Ok("ERROR"));
    assert_eq!(with("3", Some(Scale::Syslog)).map(Level::as_str), Ok("ERROR"));
    for (spelling, want) in [
        ("Error", Level::Error),
        ("warning", Level::Warning),
        ("Info", Level::Info),
        ("PANIC", Level::Error),
        ("[i]", Level::Info),
        ("fatal", Level::Error),
    ] {
        assert_eq!(normalize_level(spelling), Some(want), "{spelling}");
    }
    assert_eq!(level_from_number(25, Scale::Python), Some(Level::Info));
    assert_eq!(level_from_number(5, Scale::Python), Some(Level::Debug));
    assert_eq!(level_from_number(10, Scale::Python), Some(Level::Debug));
    assert_eq!(level_from_number(50, Scale::Python), Some(Level::Error));
    // §10.4 Failures: a number without scale, a negative number, a syslog
    // number above 7, any string not in the table.
    assert_eq!(with("20", None), Err(LevelError::NumberWithoutScale));
    assert_eq!(level_from_number(-1, Scale::Python), None);
    assert_eq!(with("-1", Some(Scale::Python)), Err(LevelError::UnknownSpelling));
    assert_eq!(level_from_number(8, Scale::Syslog), None);
    assert_eq!(with("8", Some(Scale::Syslog)), Err(LevelError::OutOfScale));
    assert_eq!(with("loud", None), Err(LevelError::UnknownSpelling));
    // §12.2 kaniko (logrus), Tekton and pip; §12.3 TensorRT; §12.1 uvicorn and klog.
    for (spelling, want) in [
        ("DEBU", "DEBUG"),
        ("INFO", "INFO"),
        ("WARN", "WARNING"),
        ("ERRO", "ERROR"),
        ("FATA", "ERROR"),
        ("PANI", "ERROR"),
        ("info", "INFO"),
        ("ERROR", "ERROR"),
        ("WARNING", "WARNING"),
        ("I", "INFO"),
        ("E", "ERROR"),
        ("TRACE", "DEBUG"),
        ("CRITICAL", "ERROR"),
    ] {
        assert_eq!(normalize_level(spelling).map(Level::as_str), Some(want), "{spelling}");
    }
}

/// §10.1 parse_klog, §9 and §12.4, §12.1.
#[test]
fn klog() {
    let k = parse_klog("I1012 01:17:48.317907 1 grpc_server.cc:2451] Started GRPCInferenceService at 0.0.0.0:8001")
        .unwrap();
    assert_eq!(k.level, KlogLevel::Info);
    assert_eq!(k.level.as_str(), "info");
    assert_eq!((k.id, k.file, k.line), (1, "grpc_server.cc", 2451));
    assert_eq!(k.message, "Started GRPCInferenceService at 0.0.0.0:8001");
    // §12.1: `level(k.level)` is INFO.
    assert_eq!(normalize_level(k.level.as_str()), Some(Level::Info));
    // Before 2026-10-12 in 2026 the line is from 2025; after, from 2026.
    let now = parse_rfc3339("2026-11-20T10:00:00Z").unwrap();
    assert_eq!(k.timestamp(now), Ok(parse_rfc3339("2026-10-12T01:17:48.317907Z").unwrap()));
    let early = parse_rfc3339("2026-03-01T00:00:00Z").unwrap();
    assert_eq!(k.timestamp(early), Ok(parse_rfc3339("2025-10-12T01:17:48.317907Z").unwrap()));
    // §9 and §12.4: the watcher's own klog line.
    let k = parse_klog("I1120 10:00:00.000000       1 watcher.go:88] resync").unwrap();
    assert_eq!((k.level.as_str(), k.id, k.file, k.line, k.message), ("info", 1, "watcher.go", 88, "resync"));
    // §12.1: the other plain-text formats are not klog.
    for line in [
        "INFO:     Started server process [12625]",
        "(APIServer pid=1) INFO 11-20 04:54:33 [api_server.py:598] Supported tasks: ['generate']",
        "Traceback (most recent call last):",
    ] {
        assert!(parse_klog(line).is_err(), "{line}");
    }
}

/// §10.1 parse_logfmt.
#[test]
fn logfmt() {
    let line = r#"time="2026-11-20T10:00:00Z" level=info msg="resync done" objects=42"#;
    let pairs: Vec<_> = parse_logfmt(line).map(|p| p.map(|p| (p.key, p.value))).collect::<Result<_, _>>().unwrap();
    assert_eq!(
        pairs,
        [
            ("time", LogfmtValue::Str("2026-11-20T10:00:00Z")),
            ("level", LogfmtValue::Str("info")),
            ("msg", LogfmtValue::Str("resync done")),
            ("objects", LogfmtValue::Str("42")),
        ]
    );
    assert_eq!(normalize_level("info"), Some(Level::Info));
}

/// §10.1 parse_timestamp and §8.
#[test]
fn timestamps() {
    let format = "%Y-%m-%d %H:%M:%S,%3f";
    assert_eq!(parse_timestamp("2026-11-20 00:43:12,801", format), Ok(1_795_135_392_801_000_000));
    assert_eq!(
        TimestampFormat::compile(format).unwrap().parse("2026-11-20 00:43:12,801"),
        Ok(1_795_135_392_801_000_000)
    );
    // §8: the abort counted as `(parse_timestamp: input contains invalid characters)`.
    let err = parse_timestamp("not a time", format).unwrap_err();
    assert_eq!(format!("parse_timestamp: {err}"), "parse_timestamp: input contains invalid characters");
    // docs/contract.md, "Log files": the runtime's timestamps.
    assert_eq!(parse_rfc3339("2026-11-20T10:00:01.5Z"), Some(1_795_168_801_500_000_000));
    assert_eq!(parse_rfc3339("2026-11-20T10:00:02Z"), Some(1_795_168_802_000_000_000));
    assert_eq!(parse_rfc3339("2026-11-20T05:00:02.1-05:00"), Some(1_795_168_802_100_000_000));
}

/// §2.6 and §10.2 strip_ansi_escape_codes; §12.2's kaniko lines.
#[test]
fn ansi() {
    let line = "\u{1b}[36mINFO\u{1b}[0m[0000] Retrieving image manifest python:3.11";
    assert!(needs_strip(line));
    assert_eq!(stripped(line), "INFO[0000] Retrieving image manifest python:3.11");
    assert_eq!(
        stripped("\u{1b}[36mINFO\u{1b}[0m[0000] Retrieving image manifest python:3.11       "),
        "INFO[0000] Retrieving image manifest python:3.11       "
    );
    assert_eq!(
        stripped(
            "\u{1b}[33mWARN\u{1b}[0m[2026-11-20T03:28:31Z] Failed to retrieve image library/python:3.11 from remote mirror      "
        ),
        "WARN[2026-11-20T03:28:31Z] Failed to retrieve image library/python:3.11 from remote mirror      "
    );
    let plain = "error building image: error building stage: failed to get filesystem from image: unexpected EOF";
    assert!(!needs_strip(plain));
}

/// §10.2: case, trim, the substring tests, split, slice, length, truncate.
#[test]
fn strings() {
    let mut out = String::new();
    downcase("Container_Terminated", &mut out);
    assert_eq!(out, "container_terminated");
    out.clear();
    upcase("warn", &mut out);
    assert_eq!(out, "WARN");

    assert_eq!(trim("Exception in ASGI application\n"), "Exception in ASGI application");

    assert!(starts_with(
        "error building image: error building stage: failed to get filesystem from image: unexpected EOF",
        "error building image:",
        true
    ));
    assert!(contains(
        "[11/20/2026-13:22:03] [TRT] [E] 1: [defaultAllocator.cpp::allocate::20] Error Code 1: Cuda Runtime (out of memory)",
        "out of memory",
        false
    ));
    assert!(contains("CUDA error: OUT OF MEMORY", "out of memory", false));
    assert!(!contains("CUDA error: OUT OF MEMORY", "out of memory", true));
    assert!(ends_with(
        "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 757.3/757.3 MB 11.6 MB/s eta 0:00:00",
        "eta 0:00:00",
        true
    ));

    assert_eq!(split("kube-pod-lifecycle-watcher-6f7c9d8b4-x2mzq", "-", -1).last(), Some("x2mzq"));

    assert_eq!(slice("I1012 01:17:48.317907 1 grpc_server.cc:2451] Started", 0, Some(1)), Ok("I"));

    assert!(length("Executing model.load()...") > 0);
    assert_eq!(length(""), 0);

    let long = "x".repeat(1200);
    let mut out = String::new();
    truncate(&long, 1000).write(" [truncated]", &mut out);
    assert_eq!(out.len(), 1000 + " [truncated]".len());
    assert!(out.ends_with("x [truncated]"));
}

/// §10.3 and §12.4: to_string of an int, to_int of a string.
#[test]
fn numbers() {
    let mut out = String::new();
    format_int(42, &mut out);
    assert_eq!(out, "42");
    out.clear();
    format_int(137, &mut out);
    assert_eq!(
        format!("Replica q7rg5 was terminated: out of memory (OOMKilled, exit code {out})"),
        "Replica q7rg5 was terminated: out of memory (OOMKilled, exit code 137)"
    );
    assert_eq!(parse_int("137"), Ok(137));
    assert_eq!(parse_int("-1"), Ok(-1));
    assert!(parse_int("OOMKilled").is_err());
}

#[test]
fn the_pino_scale_is_nodes() {
    use uml_runtime::stdlib::level::{Level, Scale, level_from_number};
    for (n, level) in [
        (10, Level::Debug),
        (20, Level::Debug),
        (30, Level::Info),
        (40, Level::Warning),
        (50, Level::Error),
        (60, Level::Error),
        (35, Level::Info),
    ] {
        assert_eq!(level_from_number(n, Scale::Pino), Some(level), "{n}");
    }
    assert_eq!(Scale::from_name("bunyan"), Some(Scale::Pino));
    assert_eq!(level_from_number(-1, Scale::Pino), None);
}
