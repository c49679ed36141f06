//! Multiline grouping throughput: lines (elements) and bytes of input per
//! second, with the grouper reused as the executor reuses it (warm buffers,
//! `finish` at the end of each file).
//!
//! - `plain`: a model container's stdout and stderr without tracebacks; every
//!   line passes through, after the default `head` pattern ran on it (one
//!   line in fifty is an error line, held until the next line of its stream).
//! - `tracebacks`: the same with a logged error and its 12-line traceback on
//!   stderr every 20 lines, stdout lines waiting behind them.
//! - `pattern`: pip output grouped with `start: ^\S`, `continue: ^\s`.
//!
//! `cargo bench -p uml-runtime --bench group -- --warm-up-time 1 --measurement-time 2`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use regex::Regex;
use uml_runtime::group::{Group, GroupConfig, Grouper, Stream};

const PLAIN: &[(Stream, &str)] = &[
    (
        Stream::Stderr,
        r#"{"asctime": "2026-11-20 00:43:12,801", "levelname": "INFO", "message": "Executing model.load()..."}"#,
    ),
    (
        Stream::Stderr,
        r#"{"asctime": "2026-11-20 00:43:15,002", "levelname": "INFO", "message": "172.17.0.1:53630 - \"POST /v1/models/model%3Apredict HTTP/1.1\" 200", "request_id": "7c1e9f02"}"#,
    ),
    (Stream::Stdout, "INFO:     172.17.0.1:53630 - \"POST /v1/models/model%3Apredict HTTP/1.1\" 200 OK"),
    (Stream::Stdout, "I1012 01:17:48.317907 1 grpc_server.cc:2451] Started GRPCInferenceService at 0.0.0.0:8001"),
    (Stream::Stdout, "(APIServer pid=1) INFO 11-20 04:54:33 [api_server.py:598] Supported tasks: ['generate']"),
    (Stream::Stdout, "Loading checkpoint shards: 100%|██████████| 4/4 [00:06<00:00,  1.49s/it]"),
    (Stream::Stderr, "[TensorRT-LLM][WARNING] Fail to get the number of GPUs from the environment"),
    (Stream::Stdout, "predict: batch of 8 done in 41 ms"),
    (Stream::Stderr, "2026-11-20 07:07:55,838 - INFO - flashinfer.jit: Prebuilt kernels not found, using JIT backend"),
    (Stream::Stdout, "\u{1b}[36mINFO\u{1b}[0m[0042] RUN pip install --no-cache-dir -r requirements.txt            "),
];

const ERROR_LINE: (Stream, &str) = (
    Stream::Stderr,
    r#"{"asctime": "2026-11-20 00:45:01,118", "levelname": "ERROR", "message": "predict failed", "request_id": "7c1e9f03"}"#,
);

const TRACEBACK: &[&str] = &[
    "ERROR:    Exception in ASGI application",
    "Traceback (most recent call last):",
    "  File \"/usr/local/lib/python3.11/site-packages/uvicorn/protocols/http/h11_impl.py\", line 408, in run_asgi",
    "    result = await app(  # type: ignore[func-returns-value]",
    "             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
    "  File \"/usr/local/lib/python3.11/site-packages/starlette/routing.py\", line 677, in __call__",
    "    await route.handle(scope, receive, send)",
    "  File \"/app/model/model.py\", line 31, in predict",
    "    self._weights = shards[\"weight\"]",
    "                    ~~~~~~^^^^^^^^^^",
    "KeyError: 'weight'",
    "The above exception was the direct cause of the following exception:",
    "RuntimeError: predict failed",
];

const PIP: &[&str] = &[
    "Collecting torch==2.3.1 (from -r requirements.txt (line 1))",
    "  Downloading torch-2.3.1-cp311-cp311-manylinux1_x86_64.whl.metadata (26 kB)",
    "  Using cached nvidia_cudnn_cu12-8.9.2.26-py3-none-manylinux1_x86_64.whl",
    "Requirement already satisfied: filelock in /usr/local/lib/python3.11/site-packages (from torch==2.3.1) (3.13.1)",
    "Installing collected packages: nvidia-cudnn-cu12, torch",
];

/// A file of `n` lines: `PLAIN` over and over, with an error line every 50
/// lines, or a traceback every 20.
fn file(n: usize, tracebacks: bool) -> Vec<(Stream, &'static str)> {
    let mut lines = Vec::with_capacity(n);
    let mut plain = PLAIN.iter().copied().cycle();
    while lines.len() < n {
        if tracebacks && lines.len() % 20 == 0 {
            lines.extend(TRACEBACK.iter().map(|&l| (Stream::Stderr, l)));
        } else if !tracebacks && lines.len() % 50 == 49 {
            lines.push(ERROR_LINE);
        } else {
            lines.push(plain.next().unwrap());
        }
    }
    lines
}

fn run(c: &mut Criterion, name: &str, config: &GroupConfig, lines: &[(Stream, &str)]) {
    let bytes: usize = lines.iter().map(|(_, l)| l.len()).sum();
    let mut group = c.benchmark_group("group");
    group.throughput(Throughput::ElementsAndBytes { elements: lines.len() as u64, bytes: bytes as u64 });
    let mut grouper = Grouper::new(config);
    group.bench_function(name, |b| {
        b.iter(|| {
            let mut out = 0_u64;
            let mut sink = |g: Group<'_>| out += u64::from(g.lines) + g.line.len() as u64;
            for (ts, &(stream, line)) in (1..).zip(lines) {
                grouper.push(stream, ts, black_box(line), &mut sink);
            }
            grouper.finish(&mut sink);
            black_box(out)
        })
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let python = GroupConfig::python_traceback();
    run(c, "plain", &python, &file(1000, false));
    run(c, "tracebacks", &python, &file(1000, true));
    let pattern = GroupConfig::Pattern {
        start: Regex::new(r"^\S").unwrap(),
        continue_: Regex::new(r"^\s").unwrap(),
        max_lines: GroupConfig::DEFAULT_MAX_LINES,
        idle_ms: GroupConfig::DEFAULT_IDLE_MS,
    };
    let pip: Vec<_> = PIP.iter().cycle().take(1000).map(|&l| (Stream::Stdout, l)).collect();
    run(c, "pattern", &pattern, &pip);
}

criterion_group!(benches, bench);
criterion_main!(benches);
