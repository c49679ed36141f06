//! Framing throughput: raw lines in, framed lines out, with one framer per
//! file as the reader will use it. Each benchmark frames a batch of raw
//! lines; throughput is counted in raw bytes and raw lines.
//!
//! - `cri/full`: CRI lines of about 290 bytes, each a whole python-json-logger
//!   line (the model container's usual line), stdout and stderr mixed.
//! - `cri/pieces_16KiB`: 40 KB lines, cut by the runtime into 16 KiB `P`
//!   pieces and an `F`: the joining path.
//! - `cri/pieces_interleaved`: the lines of `cri/full`, each in three pieces,
//!   stdout and stderr pieces interleaved.
//! - `docker/full`, `docker/pieces_16KiB`: the same lines as docker json-file
//!   objects (escaped quotes: the `log` is decoded).
//! - `parse_cri`, `parse_docker`: the line parsers alone, on the full lines.
//!
//! `cargo bench -p uml-runtime --bench framing -- --warm-up-time 1 --measurement-time 2`

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use uml_runtime::framing::{Format, Framer, parse_cri, parse_docker};

/// Messages of the model container, about 250 bytes each, so that the CRI
/// line around them is about 290.
fn messages() -> Vec<String> {
    let paths = ["predict", "predict_binary", "health", "metadata"];
    (0..64)
        .map(|i| {
            let path = paths[i % paths.len()];
            format!(
                r#"{{"asctime": "2026-11-20 00:43:{:02},{:03}", "levelname": "INFO", "name": "uvicorn.access", "lineno": 473, "process": 12625, "message": "172.17.0.{}:{} - \"POST /v1/models/model%3A{path} HTTP/1.1\" 200", "request_id": "0f9c2a7e-5b1d-4c3e-9a8f-{:012x}"}}"#,
                i % 60,
                (i * 37) % 1000,
                i % 250,
                50_000 + i * 13,
                i * 7919,
            )
        })
        .collect()
}

fn stream(i: usize) -> &'static str {
    if i.is_multiple_of(3) { "stdout" } else { "stderr" }
}

fn timestamp(i: usize) -> String {
    format!("2026-11-20T10:{:02}:{:02}.{:09}Z", i / 60 % 60, i % 60, (i * 104_729) % 1_000_000_000)
}

fn cri_full() -> Vec<Vec<u8>> {
    messages().iter().enumerate().map(|(i, m)| format!("{} {} F {m}", timestamp(i), stream(i)).into_bytes()).collect()
}

/// A 40 000-byte message cut into 16 KiB pieces, eight times.
fn long_messages() -> Vec<String> {
    let base = messages().concat();
    (0..8).map(|i| base.chars().cycle().skip(i * 97).take(40_000).collect()).collect()
}

fn cri_pieces_16k() -> Vec<Vec<u8>> {
    let mut raw = Vec::new();
    for (i, m) in long_messages().iter().enumerate() {
        let pieces: Vec<&[u8]> = m.as_bytes().chunks(16 * 1024).collect();
        for (j, piece) in pieces.iter().enumerate() {
            let tag = if j + 1 == pieces.len() { "F" } else { "P" };
            let mut line = format!("{} {} {tag} ", timestamp(i), stream(i)).into_bytes();
            line.extend_from_slice(piece);
            raw.push(line);
        }
    }
    raw
}

fn cri_interleaved() -> Vec<Vec<u8>> {
    let messages = messages();
    let mut raw = Vec::new();
    // Pairs of lines, one per stream, their thirds alternating.
    for (pair, two) in messages.chunks(2).enumerate() {
        let thirds: Vec<Vec<&[u8]>> = two.iter().map(|m| m.as_bytes().chunks(m.len().div_ceil(3)).collect()).collect();
        for j in 0..3 {
            for (k, pieces) in thirds.iter().enumerate() {
                let tag = if j == 2 { "F" } else { "P" };
                let stream = if k == 0 { "stdout" } else { "stderr" };
                let mut line = format!("{} {stream} {tag} ", timestamp(pair * 3 + j)).into_bytes();
                line.extend_from_slice(pieces[j]);
                raw.push(line);
            }
        }
    }
    raw
}

/// `s` as the body of a JSON string, as docker writes it.
fn json_body(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn docker_full() -> Vec<Vec<u8>> {
    messages()
        .iter()
        .enumerate()
        .map(|(i, m)| {
            format!(r#"{{"log":"{}\n","stream":"{}","time":"{}"}}"#, json_body(m), stream(i), timestamp(i)).into_bytes()
        })
        .collect()
}

fn docker_pieces_16k() -> Vec<Vec<u8>> {
    let mut raw = Vec::new();
    for (i, m) in long_messages().iter().enumerate() {
        // Docker cuts the message, then encodes each piece; the messages are ASCII.
        let pieces: Vec<&str> = m.as_bytes().chunks(16 * 1024).map(|p| std::str::from_utf8(p).unwrap()).collect();
        for (j, piece) in pieces.iter().enumerate() {
            let nl = if j + 1 == pieces.len() { "\\n" } else { "" };
            let line =
                format!(r#"{{"log":"{}{nl}","stream":"{}","time":"{}"}}"#, json_body(piece), stream(i), timestamp(i));
            raw.push(line.into_bytes());
        }
    }
    raw
}

fn throughput(raw: &[Vec<u8>]) -> Throughput {
    Throughput::ElementsAndBytes { elements: raw.len() as u64, bytes: raw.iter().map(|l| l.len() as u64).sum() }
}

/// Frames the batch with one warm framer, as a reader frames a file.
fn bench_framer(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, format: Format, raw: &[Vec<u8>]) {
    // The batch is what it claims to be: every raw line frames.
    let mut check = Framer::new(Some(format));
    let framed = raw.iter().filter(|line| matches!(check.push(line), Some(Ok(_)))).count();
    assert!(framed > 0 && check.counters().dropped() == 0, "{name}: every bench line frames");

    group.throughput(throughput(raw));
    let mut framer = Framer::new(Some(format));
    group.bench_function(name, |b| {
        b.iter(|| {
            for line in raw {
                if let Some(Ok(line)) = framer.push(black_box(line)) {
                    black_box(line.text);
                }
            }
        })
    });
}

fn framing(c: &mut Criterion) {
    let mut g = c.benchmark_group("framing");
    let cri = cri_full();
    let docker = docker_full();
    bench_framer(&mut g, "cri/full", Format::Cri, &cri);
    bench_framer(&mut g, "cri/pieces_16KiB", Format::Cri, &cri_pieces_16k());
    bench_framer(&mut g, "cri/pieces_interleaved", Format::Cri, &cri_interleaved());
    bench_framer(&mut g, "docker/full", Format::Docker, &docker);
    bench_framer(&mut g, "docker/pieces_16KiB", Format::Docker, &docker_pieces_16k());

    g.throughput(throughput(&cri));
    g.bench_function("parse_cri", |b| {
        b.iter(|| {
            for line in &cri {
                black_box(parse_cri(black_box(line)).unwrap());
            }
        })
    });
    g.throughput(throughput(&docker));
    let mut buf = Vec::new();
    g.bench_function("parse_docker", |b| {
        b.iter(|| {
            for line in &docker {
                black_box(parse_docker(black_box(line), &mut buf, usize::MAX).unwrap().log);
            }
        })
    });
    g.finish();
}

criterion_group!(benches, framing);
criterion_main!(benches);
