//! `uml run` end to end: the release binary, started as a process, reads a
//! directory of kubelet log files and writes NDJSON to a file, with the
//! rules built into it. Everything a user pays for is in the time: process
//! start, compiling the embedded rules, reading, framing, grouping,
//! applying, encoding and writing.
//!
//! - `run/model_container/threads=1` and `threads=2`: four generated model
//!   container files (CRI, 250,000 lines each, about 270 MB in all), so
//!   that two workers have files to share;
//! - `run/mixed/threads=1`: one file of every source and of two unrouted
//!   containers, 100,000 lines each;
//! - `run/files/one` and `run/files/10000x10`: the same 100,000 model
//!   container lines as one file and as 10,000 files of 10 lines, one
//!   thread: what a file costs beyond its lines.
//!
//! `cargo bench -p uml-cli --bench run` (the corpus is generated into a
//! temporary directory first, and removed after).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use uml_corpus::{Framing, Noise, Source, generate, noise};

/// A directory of generated log files, removed on drop.
struct Corpus {
    dir: PathBuf,
    lines: u64,
    bytes: u64,
}

impl Corpus {
    fn new(name: &str, files: Vec<uml_corpus::File>) -> Corpus {
        let dir = std::env::temp_dir().join(format!("uml-bench-run-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let (mut lines, mut bytes) = (0, 0);
        for file in files {
            lines += file.lines as u64;
            bytes += file.bytes.len() as u64;
            std::fs::write(dir.join(&file.name), &file.bytes).expect("the corpus is written");
        }
        Corpus { dir, lines, bytes }
    }
}

impl Drop for Corpus {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `uml run` once; panics unless it succeeds.
fn uml_run(dir: &Path, threads: usize, out: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_uml"))
        .args(["run", "--threads", &threads.to_string(), "-o"])
        .arg(out)
        .arg(dir)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("the uml binary starts");
    assert!(status.success(), "uml run failed: {status}");
}

fn bench(c: &mut Criterion, group_name: &str, corpus: &Corpus, threads: &[usize]) {
    let out = corpus.dir.with_extension("ndjson");
    let mut group = c.benchmark_group(format!("run/{group_name}"));
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(10));
    for &n in threads {
        group.throughput(Throughput::Elements(corpus.lines));
        group.bench_function(format!("threads={n}/lines"), |b| b.iter(|| uml_run(&corpus.dir, n, &out)));
        group.throughput(Throughput::Bytes(corpus.bytes));
        group.bench_function(format!("threads={n}/bytes"), |b| b.iter(|| uml_run(&corpus.dir, n, &out)));
    }
    group.finish();
    let _ = std::fs::remove_file(out);
}

fn model_container(c: &mut Criterion) {
    let files = (0..4).map(|seed| generate(Source::ModelContainer, Framing::Cri, 250_000, seed)).collect();
    let corpus = Corpus::new("model", files);
    bench(c, "model_container", &corpus, &[1, 2]);
}

fn mixed(c: &mut Criterion) {
    let mut files: Vec<_> = Source::ALL.into_iter().map(|s| generate(s, Framing::Cri, 100_000, 11)).collect();
    files.push(noise(Noise::ALL[0], Framing::Cri, 100_000, 11));
    files.push(noise(Noise::ALL[1], Framing::Docker, 100_000, 11));
    let corpus = Corpus::new("mixed", files);
    bench(c, "mixed", &corpus, &[1]);
}

fn files(c: &mut Criterion) {
    let one = Corpus::new("one", vec![generate(Source::ModelContainer, Framing::Cri, 100_000, 5)]);
    let many = Corpus::new(
        "many",
        (0..10_000).map(|seed| generate(Source::ModelContainer, Framing::Cri, 10, 1_000 + seed)).collect(),
    );
    let mut group = c.benchmark_group("run/files");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(10));
    for (name, corpus) in [("one", &one), ("10000x10", &many)] {
        let out = corpus.dir.with_extension("ndjson");
        group.throughput(Throughput::Elements(corpus.lines));
        group.bench_function(name, |b| b.iter(|| uml_run(&corpus.dir, 1, &out)));
        let _ = std::fs::remove_file(out);
    }
    group.finish();
}

criterion_group!(benches, model_container, mixed, files);
criterion_main!(benches);
