//! Golden tests of the whole job: log files in, NDJSON records out, with the
//! embedded rules, exactly as `uml run` writes them.
//!
//! - every file of the sample node `examples/var/log/containers/` (see
//!   `examples/README.md` for what each covers), one snapshot per file:
//!   `tests/snapshots/golden__<pod>_<container>.snap`;
//! - edge cases built here, where a file would be unwieldy: a 1 MiB line,
//!   a `P` piece split inside a UTF-8 character, docker lone surrogates.
//!
//! Each snapshot ends with the file's accounting. Review a changed snapshot
//! record by record: the output is the product.

use std::path::{Path, PathBuf};
use uml::runtime::pipeline::{FileState, Processor, Stats};
use uml::{FileInfo, Record, Rules};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One file through the pipeline: the NDJSON `uml run` writes, and the counts.
fn run(rules: &Rules, file: &mut FileState, raw: &[u8]) -> (String, Stats) {
    let mut processor = Processor::new(rules.plan());
    let mut out = String::new();
    let mut sink = |r: &Record, _| {
        let payload = std::str::from_utf8(r.payload()).expect("the payload is UTF-8");
        out.push_str(&format!(
            "{{\"ts\":\"{}\",\"labels\":{},\"line\":{}}}\n",
            r.timestamp,
            std::str::from_utf8(r.labels_json()).unwrap(),
            serde_json::to_string(payload).unwrap()
        ));
    };
    for line in raw.split_inclusive(|b| *b == b'\n') {
        processor.push(file, line, &mut sink);
    }
    let stats = processor.finish(file, &mut sink);
    stats.check().unwrap_or_else(|e| panic!("{}: {e}", file.file_info().file));
    (out, stats)
}

fn describe(rules: &Rules, stats: &Stats) -> String {
    let mut drops: Vec<String> = stats.drops.iter().map(|(k, n)| format!("{} {n}", k.describe(rules.plan()))).collect();
    drops.sort();
    format!(
        "-- {} lines read, {} records (from {} lines), {} pieces joined, dropped: [{}], cut lines {}, cut records {}, invalid UTF-8 {}",
        stats.lines_read,
        stats.records,
        stats.lines_in_records,
        stats.joined_pieces,
        drops.join(", "),
        stats.truncated_lines,
        stats.truncated_records,
        stats.invalid_utf8
    )
}

fn sample_files() -> Vec<PathBuf> {
    let dir = root().join("examples/var/log/containers");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

#[test]
fn the_sample_node() {
    let rules = Rules::embedded();
    let files = sample_files();
    assert!(files.len() >= 12, "{files:?}");
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let raw = std::fs::read(&path).unwrap();
        let mut file = FileState::from_path(&format!("/var/log/containers/{name}"));
        let (out, stats) = run(&rules, &mut file, &raw);
        let info = file.file_info();
        let snapshot = format!("{}_{}", info.pod, info.container);
        insta::assert_snapshot!(snapshot, format!("{out}{}\n", describe(&rules, &stats)));
    }
}

/// A file with the given metadata and CRI lines.
fn edge(rules: &Rules, container: &str, raw: &[u8]) -> String {
    let info = FileInfo {
        pod: "model-x5qe2qo-7d9f8b6c5d-q7rg5",
        namespace: "org-50a9bc6b456e47aa88e0d81e622ea315",
        container,
        container_id: "c9a0b2147d484f20a668e07d39d41838d5e2c3ae0abdda216614f0076a60df8d",
        file: "edge.log",
    };
    let mut file = FileState::new(&info);
    let (out, stats) = run(rules, &mut file, raw);
    format!("{out}{}\n", describe(rules, &stats))
}

#[test]
fn a_one_mebibyte_line_is_cut_to_the_record_limit() {
    let rules = Rules::embedded();
    let mut raw = b"2026-11-20T10:00:00.000000001Z stderr F ".to_vec();
    raw.extend(std::iter::repeat_n(b'x', 1 << 20));
    raw.extend_from_slice(b"\n2026-11-20T10:00:01Z stderr F after the long line\n");
    let out = edge(&rules, "model", &raw);
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let line = first["line"].as_str().unwrap();
    assert!(line.len() <= 256 << 10, "{} bytes", line.len());
    let payload: serde_json::Value = serde_json::from_str(line).unwrap();
    assert!(payload["message"].as_str().unwrap().ends_with(uml::runtime::exec::CUT_MARKER));
    assert!(out.contains("after the long line"), "the next line is not lost");
    assert!(out.contains("cut lines 1, cut records 1"), "{}", out.lines().last().unwrap());
}

#[test]
fn edge_cases_of_framing() {
    let rules = Rules::embedded();
    // "é" is 0xC3 0xA9: the first piece ends between the two bytes.
    let mut split = b"2026-11-20T10:00:00Z stdout P caf\xC3".to_vec();
    split.extend_from_slice(b"\n2026-11-20T10:00:00.5Z stderr F between the pieces\n");
    split.extend_from_slice(b"2026-11-20T10:00:01Z stdout F \xA9 au lait\n");
    // A partial line left open at the end is still emitted.
    split.extend_from_slice(b"2026-11-20T10:00:02Z stdout P dangling");
    insta::assert_snapshot!("edge_split_utf8_and_dangling", edge(&rules, "model", &split));

    let docker = concat!(
        r#"{"log":"{\"levelname\": \"INFO\", \"message\": \"lone \\ud800 surrogate\"}\n","stream":"stderr","time":"2026-11-20T10:00:00.1Z"}"#,
        "\n",
        r#"{"log":"\u001b[31mERROR\u001b[0m red, then a bar\r 50%\r100%\n","stream":"stdout","time":"2026-11-20T10:00:00.2Z"}"#,
        "\n",
        r#"{"log":"{\"levelname\": \"WARNING\", \"message\": NaN}\n","stream":"stderr","time":"2026-11-20T10:00:00.3Z"}"#,
        "\n",
        "not json at all\n",
    );
    let mut docker = docker.as_bytes().to_vec();
    // A byte that is not UTF-8 inside the log: replaced by U+FFFD, and counted.
    docker.extend_from_slice(
        b"{\"log\":\"invalid \xff byte\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-20T10:00:00.4Z\"}\n",
    );
    insta::assert_snapshot!("edge_docker", edge(&rules, "model", &docker));
}
