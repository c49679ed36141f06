//! Over every sample there is (the sample node and generated files of every
//! source and every unrouted container, in both framings): every raw line is
//! accounted for (in a record, joined as a piece, or dropped with a reason),
//! and every record `uml run` would write satisfies the output schema of
//! docs/contract.md, "The unified record" (`tests/support/record_schema.rs`).

#[path = "support/record_schema.rs"]
mod record_schema;

use std::path::Path;
use uml::runtime::pipeline::{FileState, Processor, Stats};
use uml::{Record, Rules};
use uml_corpus::{Framing, Noise, Source, generate, noise};

/// Runs one file; checks every record and the accounting.
fn check_file(rules: &Rules, name: &str, bytes: &[u8]) -> Stats {
    let mut processor = Processor::new(rules.plan());
    let mut file = FileState::from_path(name);
    let mut failures = Vec::new();
    let mut sink = |r: &Record, _| {
        let max = rules.plan().rules[usize::from(r.rule)].max_record_size as usize;
        if let Err(e) = record_schema::check_record(r, max) {
            failures.push(e);
        }
    };
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        processor.push(&mut file, line, &mut sink);
    }
    let stats = processor.finish(&mut file, &mut sink);
    assert!(failures.is_empty(), "{name}: {} records break the schema, first: {}", failures.len(), failures[0]);
    stats.check().unwrap_or_else(|e| panic!("{name}: {e}"));
    let raw_lines = bytes.split_inclusive(|b| *b == b'\n').count() as u64;
    assert_eq!(stats.lines_read, raw_lines, "{name}");
    stats
}

#[test]
fn the_sample_node_is_accounted_for() {
    let rules = Rules::embedded();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/var/log/containers");
    let mut total = Stats::default();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        total.add(&check_file(&rules, &path.to_string_lossy(), &bytes));
    }
    total.check().unwrap();
    assert_eq!(total.files, 12);
    assert!(total.records > 100);
}

#[test]
fn generated_files_of_every_source_are_accounted_for() {
    let rules = Rules::embedded();
    for framing in [Framing::Cri, Framing::Docker] {
        for (i, source) in Source::ALL.into_iter().enumerate() {
            let file = generate(source, framing, 3_000, 100 + i as u64);
            let stats = check_file(&rules, &file.name, &file.bytes);
            assert!(stats.records > 0, "{} {framing:?}: no records", source.name());
        }
        for (i, kind) in Noise::ALL.into_iter().enumerate() {
            let file = noise(kind, framing, 500, 200 + i as u64);
            let stats = check_file(&rules, &file.name, &file.bytes);
            assert_eq!(stats.records, 0, "{} {framing:?} must produce nothing", kind.name());
        }
    }
}
