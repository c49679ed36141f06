//! The standard library's pure functions on the platform's own lines, one
//! group per family. Throughput is the bytes of input handled per second.
//! Each benchmark runs over a small batch of realistic inputs, with the
//! output buffer reused as the executor reuses it.
//!
//! `cargo bench -p uml-runtime --bench stdlib -- --warm-up-time 1 --measurement-time 2`

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use uml_runtime::json::scan_value;
use uml_runtime::stdlib::ansi::{needs_strip, strip_ansi_escape_codes};
use uml_runtime::stdlib::json_string::{copy_json_string_body, write_json_string};
use uml_runtime::stdlib::klog::parse_klog;
use uml_runtime::stdlib::level::{Scale, normalize_level, parse_level};
use uml_runtime::stdlib::logfmt::parse_logfmt;
use uml_runtime::stdlib::number::{format_float, format_int, parse_int};
use uml_runtime::stdlib::text::{contains, downcase, length, replace, slice, starts_with, trim, truncate, upcase};
use uml_runtime::stdlib::timestamp::{TimestampFormat, parse_rfc3339, parse_timestamp};

const KANIKO: &[&str] = &[
    "\x1b[36mINFO\x1b[0m[0000] Retrieving image manifest python:3.11       ",
    "\x1b[36mINFO\x1b[0m[0001] Retrieving image python:3.11 from registry index.docker.io ",
    "\x1b[33mWARN\x1b[0m[2026-11-20T03:28:31Z] Failed to retrieve image library/python:3.11 from remote mirror      ",
    "\x1b[36mINFO\x1b[0m[0042] RUN pip install --no-cache-dir -r requirements.txt            ",
    "\x1b[31mERRO\x1b[0m[0107] Error while retrieving image from cache: getting file info: stat /cache/sha256: no such file",
    "\x1b[36mINFO\x1b[0m[0108] Taking snapshot of full filesystem...                         ",
];

const PLAIN: &[&str] = &[
    "Collecting torch==2.3.1 (from -r requirements.txt (line 1))",
    "   ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 757.3/757.3 MB 11.6 MB/s eta 0:00:00",
    "2026/11/20 10:00:00 Skipping step because a previous step failed",
    "error building image: error building stage: failed to get filesystem from image: unexpected EOF",
    "INFO:     Started server process [12625]",
    "[TensorRT-LLM][WARNING] Fail to get the number of GPUs from the environment",
];

const LEVELS: &[&str] = &[
    "INFO",
    "info",
    "WARNING",
    "ERROR",
    "DEBUG",
    "WARN",
    "ERRO",
    "DEBU",
    "FATA",
    "PANI",
    "I",
    "W",
    "E",
    "[I]",
    "[W]",
    "[E]",
    "CRITICAL",
    "Normal",
    "Warning",
    "NOTICE",
    "TRACE",
    "fatal",
    "panic",
    "not a level",
];

const KLOG: &[&str] = &[
    "I1012 01:17:48.317907 1 grpc_server.cc:2451] Started GRPCInferenceService at 0.0.0.0:8001",
    "I1120 10:00:00.000000       1 watcher.go:88] resync",
    "W1120 10:00:05.123456       1 reflector.go:539] failed to list *v1.Pod: the server could not find the resource",
    "E1120 10:00:07.654321      12 controller.go:114] error syncing 'org-50a9bc6b456e47aa88e0d81e622ea315/model-x5qe2qo': timeout",
];

const LOGFMT: &[&str] = &[
    r#"time="2026-11-20T10:00:00Z" level=info msg="resync done" objects=42"#,
    r#"time="2026-11-20T10:00:01Z" level=warning msg="slow list \"pods\"" duration=1.52s retry"#,
    r#"ts=2026-11-20T10:00:02.5Z caller=main.go:88 level=error err="context deadline exceeded" component=watcher"#,
];

const CRI_TIMESTAMPS: &[&str] = &[
    "2026-11-20T10:00:01.5Z",
    "2026-11-20T10:00:02Z",
    "2026-11-20T10:00:01.123456789Z",
    "2026-11-20T10:00:03.104213Z",
    "2026-11-20T05:00:02.1-05:00",
    "2026-11-20T15:30:00.999+05:30",
];

const ASCTIMES: &[&str] = &["2026-11-20 00:43:12,801", "2026-11-20 07:07:55,838", "2026-11-20 23:59:59,999"];

const MESSAGES: &[&str] = &[
    "Executing model.load()...",
    "172.17.0.6:0 - \"POST /v1/models/model%3Apredict_binary HTTP/1.1\" 200",
    "Completed model.load() execution in 5231 ms",
    "Exception in ASGI application\n",
    "Traceback (most recent call last):\n  File \"/app/model/model.py\", line 12, in predict\n    raise ValueError(\"bad input\")\nValueError: bad input",
    "Retrieving image manifest python:3.11",
];

fn total_bytes(inputs: &[&str]) -> u64 {
    inputs.iter().map(|s| s.len() as u64).sum()
}

/// Benchmarks `f` over every input of the batch, with `out` cleared before each.
fn batch(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, inputs: &[&str], mut f: impl FnMut(&str, &mut String)) {
    group.throughput(Throughput::Bytes(total_bytes(inputs)));
    let mut out = String::with_capacity(1024);
    group.bench_function(name, |b| {
        b.iter(|| {
            for input in inputs {
                out.clear();
                f(black_box(input), &mut out);
                black_box(&out);
            }
        })
    });
}

fn ansi(c: &mut Criterion) {
    let mut g = c.benchmark_group("ansi");
    batch(&mut g, "strip/kaniko", KANIKO, strip_ansi_escape_codes);
    batch(&mut g, "needs_strip/plain", PLAIN, |s, _| {
        black_box(needs_strip(s));
    });
    batch(&mut g, "strip_if_needed/plain", PLAIN, |s, out| {
        if needs_strip(s) {
            strip_ansi_escape_codes(s, out);
        }
    });
    g.finish();
}

fn text(c: &mut Criterion) {
    let mut g = c.benchmark_group("text");
    batch(&mut g, "upcase/ascii", PLAIN, upcase);
    batch(&mut g, "downcase/ascii", PLAIN, downcase);
    batch(&mut g, "downcase/unicode", &["Ünïcödé Tëxt ÄÖÜ", "ΟΔΟΣ ΣΑΣ", "Straße İstanbul"], downcase);
    batch(&mut g, "trim", MESSAGES, |s, _| {
        black_box(trim(s));
    });
    batch(&mut g, "contains/case_insensitive", PLAIN, |s, _| {
        black_box(contains(s, "out of memory", false));
    });
    batch(&mut g, "contains/case_sensitive", PLAIN, |s, _| {
        black_box(contains(s, "out of memory", true));
    });
    batch(&mut g, "starts_with/case_insensitive", PLAIN, |s, _| {
        black_box(starts_with(s, "error building image:", false));
    });
    batch(&mut g, "replace/literal", MESSAGES, |s, out| {
        black_box(replace(s, "model", "MODEL", -1, out));
    });
    batch(&mut g, "slice/unicode", PLAIN, |s, _| {
        black_box(slice(s, 3, Some(-3)).ok());
    });
    batch(&mut g, "length", PLAIN, |s, _| {
        black_box(length(s));
    });
    batch(&mut g, "truncate/unicode", PLAIN, |s, out| truncate(s, 40).write("…", out));
    g.finish();
}

fn level(c: &mut Criterion) {
    let mut g = c.benchmark_group("level");
    batch(&mut g, "normalize/platform", LEVELS, |s, _| {
        black_box(normalize_level(s));
    });
    batch(&mut g, "parse/python_numbers", &["10", "20", "25", "30", "40", "50"], |s, _| {
        black_box(parse_level(s, Some(Scale::Python)).ok());
    });
    g.finish();
}

fn klog(c: &mut Criterion) {
    let mut g = c.benchmark_group("klog");
    let now = parse_rfc3339("2026-11-20T10:00:00Z").unwrap();
    batch(&mut g, "parse", KLOG, |s, _| {
        black_box(parse_klog(s).ok());
    });
    batch(&mut g, "parse_and_timestamp", KLOG, |s, _| {
        black_box(parse_klog(s).ok().map(|k| k.timestamp(now)));
    });
    g.finish();
}

fn logfmt(c: &mut Criterion) {
    let mut g = c.benchmark_group("logfmt");
    batch(&mut g, "pairs_decoded", LOGFMT, |s, out| {
        for pair in parse_logfmt(s).map_while(Result::ok) {
            out.push_str(pair.key);
            pair.value.write(out);
        }
    });
    g.finish();
}

fn timestamp(c: &mut Criterion) {
    let mut g = c.benchmark_group("timestamp");
    batch(&mut g, "rfc3339/cri", CRI_TIMESTAMPS, |s, _| {
        black_box(parse_rfc3339(s));
    });
    batch(&mut g, "rfc3339/cri_chrono", CRI_TIMESTAMPS, |s, _| {
        black_box(chrono::DateTime::parse_from_rfc3339(s).ok().and_then(|t| t.timestamp_nanos_opt()));
    });
    let format = "%Y-%m-%d %H:%M:%S,%3f";
    let compiled = TimestampFormat::compile(format).unwrap();
    batch(&mut g, "format/asctime_compiled", ASCTIMES, |s, _| {
        black_box(compiled.parse(s).ok());
    });
    batch(&mut g, "format/asctime_uncompiled", ASCTIMES, |s, _| {
        black_box(parse_timestamp(s, format).ok());
    });
    let items: Vec<_> = chrono::format::StrftimeItems::new(format).collect();
    batch(&mut g, "format/asctime_chrono", ASCTIMES, |s, _| {
        let mut parsed = chrono::format::Parsed::new();
        let t = chrono::format::parse(&mut parsed, s, items.iter())
            .ok()
            .and_then(|()| parsed.to_naive_datetime_with_offset(0).ok())
            .and_then(|t| t.and_utc().timestamp_nanos_opt());
        black_box(t);
    });
    g.finish();
}

fn json_string(c: &mut Criterion) {
    let mut g = c.benchmark_group("json_string");
    let plain: Vec<&str> = MESSAGES.iter().copied().filter(|m| !m.contains(['"', '\n'])).collect();
    let escaped: Vec<&str> = MESSAGES.iter().copied().filter(|m| m.contains(['"', '\n'])).collect();
    for (name, inputs) in [("write/plain", &plain), ("write/escapes", &escaped)] {
        g.throughput(Throughput::Bytes(total_bytes(inputs)));
        let mut out = Vec::with_capacity(1024);
        g.bench_function(name, |b| {
            b.iter(|| {
                for s in inputs.iter() {
                    out.clear();
                    write_json_string(&mut out, black_box(s));
                    black_box(&out);
                }
            })
        });
    }
    // Bodies as the scanner finds them in python-json-logger lines.
    let lines: &[&str] = &[
        r#""Executing model.load()...""#,
        r#""172.17.0.1:53630 - \"POST /v1/models/model%3Apredict HTTP/1.1\" 200""#,
        r#""Traceback (most recent call last):\n  File \"/app/model/model.py\", line 12, in predict\nValueError: bad input""#,
        "\"caf\\u00e9 with a lone \\ud800 surrogate and a raw\ttab\"",
    ];
    let scanned: Vec<_> = lines.iter().map(|l| (l.as_bytes(), scan_value(l.as_bytes()).unwrap())).collect();
    for (name, range) in [("copy_body/escaped_only", 0..3), ("copy_body/rewrite", 3..4)] {
        let part = &scanned[range];
        g.throughput(Throughput::Bytes(part.iter().map(|(l, _)| l.len() as u64).sum()));
        let mut out = Vec::with_capacity(1024);
        g.bench_function(name, |b| {
            b.iter(|| {
                for (line, raw) in part {
                    out.clear();
                    copy_json_string_body(&mut out, raw.string_body(black_box(line)), raw.flags);
                    black_box(&out);
                }
            })
        });
    }
    g.finish();
}

fn number(c: &mut Criterion) {
    let mut g = c.benchmark_group("number");
    let ints = [0i64, 7, 137, -1, 1_795_135_392_801_000_000, 12625];
    let floats = [1.5, 3.0, 1763632800.2240348, 0.000123, 1e-7, 6.02e23];
    let mut out = String::with_capacity(64);
    g.bench_function("format_int", |b| {
        b.iter(|| {
            for &i in &ints {
                out.clear();
                format_int(black_box(i), &mut out);
                black_box(&out);
            }
        })
    });
    g.bench_function("format_float", |b| {
        b.iter(|| {
            for &f in &floats {
                out.clear();
                format_float(black_box(f), &mut out);
                black_box(&out);
            }
        })
    });
    batch(&mut g, "parse_int", &["137", "-1", "0", "9223372036854775807", "1.5"], |s, _| {
        black_box(parse_int(s).ok());
    });
    g.finish();
}

criterion_group!(benches, ansi, text, level, klog, logfmt, timestamp, json_string, number);
criterion_main!(benches);
