//! Executor benchmarks: what one rule costs per line.
//!
//! - `apply/<source>`: the embedded rules applied to 50,000 corpus messages
//!   of each source (the container's text, after framing), grouped as the
//!   rule declares, each record written; bytes are the messages' bytes.
//!   `model_container` is the corpus of the performance targets.
//! - `op/<name>`: one-rule programs that isolate one kind of op, on the
//!   model container's JSON lines, against `op/baseline` (a rule that
//!   copies `%line` into the record), so that the difference is the op.
//! - `compile/rules`: compiling the embedded rule set.
//!
//! Run with `cargo bench --bench apply` (add `-- op/` for the op group).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use uml::runtime::group::{Group, Grouper};
use uml::{Executor, FileInfo, Line, Outcome, Record, Route, Rules, Stream};
use uml_corpus::{Framing, Source, generate, messages};

/// The allocator of the `uml` binary, so that the numbers are its numbers.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LINES: usize = 50_000;

/// Applies `lines` once, grouping if the route's rule says so.
fn run(
    executor: &mut Executor<'_>,
    grouper: &mut Option<Grouper>,
    route: &Route,
    lines: &[String],
    record: &mut Record,
) -> usize {
    let mut records = 0;
    let mut apply = |executor: &mut Executor<'_>, line: Line<'_>| {
        if executor.apply(route, line, record) == Outcome::Record {
            records += black_box(record.payload().len()).min(1);
        }
    };
    for (i, text) in lines.iter().enumerate() {
        match grouper.as_mut() {
            Some(g) => g.push(Stream::Stderr, i as i64, text, &mut |group: Group<'_>| {
                apply(executor, Line { text: group.line, traceback: group.traceback, timestamp: group.timestamp_ns })
            }),
            None => apply(executor, Line { text, traceback: None, timestamp: i as i64 }),
        }
    }
    if let Some(g) = grouper.as_mut() {
        g.finish(&mut |group: Group<'_>| {
            apply(executor, Line { text: group.line, traceback: group.traceback, timestamp: group.timestamp_ns })
        });
    }
    records
}

fn sources(c: &mut Criterion) {
    let rules = Rules::embedded();
    let mut group = c.benchmark_group("apply");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    for source in Source::ALL {
        let file = generate(source, Framing::Cri, 1, 3);
        let info = FileInfo {
            pod: &file.pod,
            namespace: &file.namespace,
            container: &file.container,
            container_id: &file.container_id,
            file: &file.name,
        };
        let lines = messages(source, LINES, 42);
        let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
        let mut executor = rules.executor();
        let route = executor.route(&info, Stream::Stderr);
        let rule = route.rule().expect("the corpus routes");
        let config = rules.plan().rules[usize::from(rule)].multiline.clone();
        let mut grouper = config.as_ref().map(Grouper::new);
        let mut record = Record::default();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(format!("{}/bytes", source.name()), |b| {
            b.iter(|| run(&mut executor, &mut grouper, &route, &lines, &mut record))
        });
        group.throughput(Throughput::Elements(lines.len() as u64));
        group.bench_function(format!("{}/lines", source.name()), |b| {
            b.iter(|| run(&mut executor, &mut grouper, &route, &lines, &mut record))
        });
    }
    group.finish();
}

/// One-rule programs, each isolating an op, all producing a valid record.
const OPS: &[(&str, &str)] = &[
    ("baseline", "payload.message = %line"),
    (
        "parse_json+3_keys",
        "let j = parse_json(%line) ?? null\n  payload.message = to_string(j.message) ?? %line\n  payload.levelname = level(j.levelname, scale: \"python\") ?? \"INFO\"\n  payload.request_id = to_string(j.request_id) ?? \"\"",
    ),
    ("parse_json_whole", "let j = parse_json(%line) ?? null\n  payload.message = encode_json(j)"),
    (
        "regex_captures",
        "payload.message = if %line =~ r'\"levelname\": \"(?P<lvl>[A-Z]+)\", \"message\": \"(?P<msg>[^\"]*)\"' { msg } else { %line }",
    ),
    ("regex_replace", "payload.message = replace(%line, r'\\s+$', \"\")"),
    ("strip_ansi", "payload.message = strip_ansi_escape_codes(%line)"),
    ("template", "payload.message = \"{%stream}: {%line}\""),
    ("level", "payload.message = %line\n  payload.levelname = level(slice(%line, 0, 4) ?? \"INFO\") ?? \"INFO\""),
    ("upcase", "payload.message = upcase(%line)"),
];

fn ops(c: &mut Criterion) {
    let schema = include_str!("../rules/schema.uml");
    let lines: Vec<String> =
        messages(Source::ModelContainer, 20_000, 9).into_iter().filter(|l| l.starts_with('{')).collect();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let mut group = c.benchmark_group("op");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Bytes(bytes as u64));
    for (name, body) in OPS {
        let rule = format!(
            "rule bench {{\n  when %container == \"model\"\n  labels.model_version_id = \"v\"\n  labels.namespace = %namespace\n  \
             payload.replica = \"r\"\n  payload.source = \"model_container\"\n  payload.levelname = \"INFO\"\n  {body}\n}}\n"
        );
        let rules = Rules::from_sources([("schema.uml", schema), ("bench.uml", rule.as_str())])
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut executor = rules.executor();
        let info = FileInfo { pod: "p", namespace: "ns", container: "model", ..FileInfo::default() };
        let route = executor.route(&info, Stream::Stderr);
        let mut record = Record::default();
        let mut grouper = None;
        assert_eq!(run(&mut executor, &mut grouper, &route, &lines, &mut record), lines.len(), "{name}");
        group.bench_function(*name, |b| b.iter(|| run(&mut executor, &mut grouper, &route, &lines, &mut record)));
    }
    group.finish();
}

fn compile(c: &mut Criterion) {
    c.bench_function("compile/rules", |b| b.iter(Rules::embedded));
}

criterion_group!(benches, sources, ops, compile);
criterion_main!(benches);
