//! Front-end benchmarks: the lexer alone and lexing plus parsing, in bytes
//! per second, on a large generated rule set; and the latency of parsing
//! one real rule file, which `uml check` pays per file.
//!
//! The large input is generated here from a fixed seed, so every run and
//! every machine measures the same 2 MB of text: a few hundred rules in the
//! shape of the real ones (routing by metadata, directives, `let`s, nested
//! `if`s, templates, objects, comments) each followed by a test.
//!
//! Run with `cargo bench --bench syntax`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;
use uml::syntax::{FileId, lexer, parse};

/// The size of the generated rule set, in bytes (it ends at a whole item).
const GENERATED_LEN: usize = 2_000_000;

/// Real rule files, as `uml check` reads them.
const FILES: &[(&str, &str)] = &[
    ("schema.uml", include_str!("../rules/schema.uml")),
    ("model_container.uml", include_str!("../rules/model_container.uml")),
];

fn lex_and_parse(c: &mut Criterion) {
    let src = generate(GENERATED_LEN, 0x5EED_2026);
    let parsed = parse(FileId(0), &src);
    assert!(parsed.diagnostics.is_empty(), "the generated rules do not parse: {:?}", &parsed.diagnostics[..1]);
    drop(parsed);

    let mut group = c.benchmark_group("generated");
    group.throughput(Throughput::Bytes(src.len() as u64));
    group.sample_size(30).warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(8));
    group.bench_function("lex", |b| b.iter(|| lexer::lex(black_box(&src)).count()));
    // Parsing includes dropping the tree, as a caller's would.
    group.bench_function("lex+parse", |b| b.iter(|| parse(FileId(0), black_box(&src))));
    group.finish();
}

fn one_file(c: &mut Criterion) {
    let mut group = c.benchmark_group("file");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    for (name, src) in FILES {
        assert!(parse(FileId(0), src).diagnostics.is_empty(), "{name} does not parse");
        group.throughput(Throughput::Bytes(src.len() as u64));
        group.bench_function(format!("lex+parse/{name}"), |b| b.iter(|| parse(FileId(0), black_box(src))));
    }
    group.finish();
}

criterion_group!(benches, lex_and_parse, one_file);
criterion_main!(benches);

// ---------------------------------------------------------------------------
// The generator

/// SplitMix64: a tiny, well-mixed generator, so the text depends only on
/// the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[self.below(options.len())]
    }
}

const SOURCES: &[&str] = &["model", "build", "deploy", "gpu-build", "lifecycle", "queue-proxy", "sidecar", "trainer"];
const FIELDS: &[&str] =
    &["message", "levelname", "exc_info", "request_id", "replica", "source", "status", "duration", "trace_id", "step"];
const JSON_KEYS: &[&str] = &["msg", "message", "level", "levelname", "ts", "error", "stack", "request", "user", "code"];
const FUNCTIONS: &[&str] = &["trim", "upcase", "downcase", "to_string", "strip_ansi_escape_codes", "length", "to_int"];
const WORDS: &[&str] = &[
    "the",
    "line",
    "is",
    "json",
    "from",
    "a",
    "python",
    "logger",
    "keep",
    "drop",
    "noise",
    "health",
    "check",
    "probe",
    "server",
    "started",
    "request",
    "traceback",
    "level",
    "unknown",
    "falls",
    "back",
    "to",
    "info",
];
const LEVELS: &[&str] = &["DEBUG", "INFO", "WARNING", "ERROR"];

/// Writes rules (most with a test after them) until the text is at least
/// `len` bytes long.
fn generate(len: usize, seed: u64) -> String {
    let mut rng = Rng(seed);
    let mut out = String::with_capacity(len + 16 * 1024);
    out.push_str(include_str!("../rules/schema.uml"));
    let mut n = 0;
    while out.len() < len {
        out.push('\n');
        Generator { rng: &mut rng, out: &mut out, vars: Vec::new() }.rule(n);
        n += 1;
    }
    out
}

struct Generator<'a> {
    rng: &'a mut Rng,
    out: &'a mut String,
    /// Variables bound so far in the current rule.
    vars: Vec<String>,
}

impl Generator<'_> {
    fn comment(&mut self, indent: usize) {
        let words = 3 + self.rng.below(10);
        let text: Vec<&str> = (0..words).map(|_| self.rng.pick(WORDS)).collect();
        let _ = writeln!(self.out, "{:indent$}# {}.", "", text.join(" "));
    }

    fn rule(&mut self, n: usize) {
        let source = self.rng.pick(SOURCES);
        if self.rng.chance(70) {
            self.comment(0);
        }
        let _ = writeln!(self.out, "rule {}_{n} {{", source.replace('-', "_"));
        let _ = writeln!(
            self.out,
            "  when %container == \"{source}\"\n    && %namespace =~ r'^org-[0-9a-f]{{32}}$'\n    \
             && %pod =~ r'^{source}-(?P<mvid>[a-z0-9]+)-[a-z0-9]{{8,10}}-(?P<replica>[a-z0-9]{{5}})$'"
        );
        self.vars = vec!["mvid".into(), "replica".into()];
        let _ = writeln!(self.out, "  framing {}", self.rng.pick(&["auto", "cri", "docker"]));
        match self.rng.below(3) {
            0 => self.out.push_str("  multiline python_traceback { head: r'(?i)\\b(error|exception|critical)\\b' }\n"),
            1 => self.out.push_str("  multiline { start: r'^\\S', continue: r'^\\s', max_lines: 500, idle: 2s }\n"),
            _ => {}
        }
        if self.rng.chance(50) {
            self.out.push_str("  max_record_size 256KiB\n");
        }
        self.out.push('\n');
        self.out.push_str("  labels.model_version_id = mvid\n  labels.namespace = %namespace\n");
        let _ = writeln!(self.out, "  payload.source = \"{source}\"\n  payload.replica = replica");
        self.out.push_str("  let j, not_json = parse_json(%line)\n");
        self.vars.push("j".into());
        self.out.push_str("  if not_json == null && is_object(j) {\n");
        self.statements(2, 3, 4);
        self.out.push_str("  } else if %line =~ r'^(?P<lvl>[A-Z]+):\\s+(?P<msg>.*)$' {\n");
        self.vars.extend(["lvl".into(), "msg".into()]);
        self.statements(2, 2, 3);
        self.out.push_str("  } else {\n");
        self.statements(2, 1, 3);
        self.out.push_str("  }\n}\n");
        if self.rng.chance(80) {
            self.out.push('\n');
            self.test(n, source);
        }
    }

    /// Writes `min` to `min + extra - 1` statements at nesting `depth`.
    fn statements(&mut self, depth: usize, min: usize, extra: usize) {
        let indent = depth * 2;
        let count = min + self.rng.below(extra);
        for _ in 0..count {
            if self.rng.chance(20) {
                self.comment(indent);
            }
            match self.rng.below(10) {
                0..=3 => {
                    let name = format!("v{}", self.vars.len());
                    let value = self.expr(3);
                    let _ = writeln!(self.out, "{:indent$}let {name} = {value}", "");
                    self.vars.push(name);
                }
                4..=6 => {
                    let field = self.rng.pick(FIELDS);
                    let value = self.expr(3);
                    let _ = write!(self.out, "{:indent$}payload.{field} = {value}", "");
                    if self.rng.chance(15) {
                        self.out.push_str(" # set from the line");
                    }
                    self.out.push('\n');
                }
                7 if depth < 4 => {
                    let condition = self.condition();
                    let _ = writeln!(self.out, "{:indent$}if {condition} {{", "");
                    self.statements(depth + 1, 1, 3);
                    if self.rng.chance(50) {
                        let _ = writeln!(self.out, "{:indent$}}} else {{", "");
                        self.statements(depth + 1, 1, 2);
                    }
                    let _ = writeln!(self.out, "{:indent$}}}", "");
                }
                8 => {
                    let template = self.template();
                    let _ = writeln!(self.out, "{:indent$}payload.message = {template}", "");
                }
                _ => {
                    let level = self.rng.pick(LEVELS);
                    let _ = writeln!(
                        self.out,
                        "{:indent$}payload.levelname = level(j.levelname, scale: \"python\") ?? \"{level}\"",
                        ""
                    );
                }
            }
        }
    }

    fn var(&mut self) -> String {
        self.vars[self.rng.below(self.vars.len())].clone()
    }

    fn path(&mut self) -> String {
        let mut path = String::from("j");
        for _ in 0..1 + self.rng.below(3) {
            if self.rng.chance(20) {
                let _ = write!(path, "[{}]", self.rng.below(3));
            } else {
                let _ = write!(path, ".{}", self.rng.pick(JSON_KEYS));
            }
        }
        path
    }

    fn template(&mut self) -> String {
        let (a, b) = (self.var(), self.path());
        format!(
            "\"{} {{{a}}}: {} {{{b}}} \\{{{}\\}}\"",
            self.rng.pick(WORDS),
            self.rng.pick(WORDS),
            self.rng.pick(WORDS)
        )
    }

    fn condition(&mut self) -> String {
        match self.rng.below(4) {
            0 => format!("exists({})", self.path()),
            1 => format!("{} == \"{}\"", self.path(), self.rng.pick(LEVELS)),
            2 => format!("{} =~ r'(?i)\\b{}\\b' && !is_null({})", self.var(), self.rng.pick(WORDS), self.path()),
            _ => format!("(to_int({}) ?? 0) >= {}", self.path(), self.rng.below(600)),
        }
    }

    fn expr(&mut self, depth: usize) -> String {
        let choice = if depth == 0 { self.rng.below(4) } else { self.rng.below(11) };
        match choice {
            0 => self.var(),
            1 => self.path(),
            2 => format!("\"{}\"", self.rng.pick(WORDS)),
            3 => format!("{}", self.rng.below(10_000)),
            4 => format!("{}({}) ?? {}", self.rng.pick(FUNCTIONS), self.expr(depth - 1), self.expr(0)),
            5 => format!("to_string!({})", self.path()),
            6 => self.template(),
            7 => format!("{} ?? {} ?? \"\"", self.path(), self.path()),
            8 => format!(
                "{{ level: {}, message: {}, tags: [{}, {}], ok: true }}",
                self.expr(depth - 1),
                self.expr(depth - 1),
                self.expr(0),
                self.expr(0)
            ),
            9 => format!("if {} {{ {} }} else {{ {} }}", self.condition(), self.expr(depth - 1), self.expr(0)),
            _ => format!("'{{\"raw\": \"{}\"}}'", self.rng.pick(WORDS)),
        }
    }

    fn test(&mut self, n: usize, source: &str) {
        let level = self.rng.pick(LEVELS);
        let word = self.rng.pick(WORDS);
        let _ = writeln!(self.out, "test \"{source} {n}: a {level} line\" {{");
        let _ = writeln!(
            self.out,
            "  input {{\n    pod: \"{source}-x5qe2qo-7d9f8b6c5d-q7rg5\",\n    \
             namespace: \"org-50a9bc6b456e47aa88e0d81e622ea315\",\n    container: \"{source}\",\n    \
             stream: \"stderr\",\n    lines: [\n      '{{\"levelname\": \"{level}\", \"message\": \"{word}\"}}',\n      \
             \"{level}: {word} {n}\",\n    ],\n  }}"
        );
        let _ = writeln!(
            self.out,
            "  expect {{\n    labels: {{ model_version_id: \"x5qe2qo\", namespace: \"org-50a9bc6b456e47aa88e0d81e622ea315\" }},\n    \
             payload: {{ levelname: \"{level}\", message: \"{word}\", replica: \"q7rg5\", source: \"{source}\" }},\n  }}"
        );
        if self.rng.chance(30) {
            self.out.push_str("  expect drop \"not user facing\"\n");
        }
        self.out.push_str("}\n");
    }
}
