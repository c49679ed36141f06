//! The JSON field scanner and the output escaping, on the model container's
//! python-json-logger lines from the seeded corpus (the objects that scan,
//! about two thirds of 20,000 lines).
//!
//! - `json/scan_object`: each object validated whole and the members the
//!   model container rule reads found (the key set pushdown gives
//!   `parse_json`: `message`, `msg`, `levelname`, `levelno`, `level`,
//!   `exc_info`, `request_id`);
//! - `json/scan_value`: the same objects validated, no member kept;
//! - `escape/once`: each line escaped as the inside of a JSON string, as an
//!   encoder embeds a payload held as JSON;
//! - `escape/twice`: each line escaped twice in one pass, as the record
//!   writer writes a string of a payload held escaped
//!   (`PayloadForm::Escaped`).
//!
//! `cargo bench --bench json`. Throughput in bytes and in lines.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use uml::runtime::json::{scan_object, scan_value};
use uml::runtime::stdlib::json_string::{write_json_string_body, write_json_string_body_twice};
use uml_corpus::{Source, messages};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The members `rules/model_container.uml` reads from a JSON line.
const KEYS: [&[u8]; 7] = [b"message", b"msg", b"levelname", b"levelno", b"level", b"exc_info", b"request_id"];

/// The corpus's JSON objects (NaN and lone surrogates included), without
/// the lines it breaks on purpose.
fn json_lines() -> Vec<String> {
    let lines: Vec<String> = messages(Source::ModelContainer, 20_000, 3)
        .into_iter()
        .filter(|l| l.starts_with('{') && scan_value(l.as_bytes()).is_ok())
        .collect();
    assert!(lines.len() > 10_000, "{} JSON lines", lines.len());
    lines
}

fn scan(c: &mut Criterion) {
    let lines = json_lines();
    let bytes: u64 = lines.iter().map(|l| l.len() as u64).sum();
    let mut group = c.benchmark_group("json");
    let mut found = [None; KEYS.len()];
    for (unit, throughput) in [("bytes", Throughput::Bytes(bytes)), ("lines", Throughput::Elements(lines.len() as u64))]
    {
        group.throughput(throughput);
        group.bench_function(format!("scan_object/{unit}"), |b| {
            b.iter(|| {
                let mut members = 0;
                for line in &lines {
                    if scan_object(black_box(line.as_bytes()), &KEYS, &mut found).is_ok() {
                        members += found.iter().flatten().count();
                    }
                }
                members
            })
        });
        group.bench_function(format!("scan_value/{unit}"), |b| {
            b.iter(|| lines.iter().filter(|l| scan_value(black_box(l.as_bytes())).is_ok()).count())
        });
    }
    group.finish();
}

fn escape(c: &mut Criterion) {
    let lines = json_lines();
    let bytes: u64 = lines.iter().map(|l| l.len() as u64).sum();
    let mut group = c.benchmark_group("escape");
    let mut out = Vec::with_capacity(1 << 20);
    group.throughput(Throughput::Bytes(bytes));
    for (name, write) in [
        ("once", write_json_string_body as fn(&mut Vec<u8>, &[u8])),
        ("twice", write_json_string_body_twice as fn(&mut Vec<u8>, &[u8])),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                for line in &lines {
                    write(&mut out, black_box(line.as_bytes()));
                }
                out.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, scan, escape);
criterion_main!(benches);
