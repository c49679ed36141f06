//! The hand-checked sample tree `examples/var/log/containers/` (see
//! `examples/README.md`), read with the runtime's framing: each file's
//! name, format, and what the framer makes of its raw lines are pinned
//! here, so an edit of a sample file is a reviewed change.

use std::path::PathBuf;
use uml_runtime::framing::{Format, Framer, parse_file_name};

fn tree() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/var/log/containers")
}

/// What one file should frame to.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    container: &'static str,
    format: Format,
    raw: u64,
    /// Lines out of the framer, and of those, the lines made of several pieces.
    framed: u64,
    joined: u64,
    empty: u64,
    malformed: u64,
    /// Lines with invalid UTF-8 (or a lone surrogate in a docker `log`).
    replaced: u64,
}

/// By pod prefix and container.
const EXPECTED: &[(&str, Shape)] = &[
    // CRI: startup, access logs, NaN, odd messages, a lone \ud800, invalid
    // UTF-8, a chained traceback, two P pieces (one cut inside a character,
    // one never closed: the container was OOM killed), three junk lines.
    (
        "model-x5qe2qo-7d9f8b6c5d-q7rg5",
        Shape {
            container: "model",
            format: Format::Cri,
            raw: 57,
            framed: 50,
            joined: 1,
            empty: 3,
            malformed: 3,
            replaced: 1,
        },
    ),
    // docker json-file: two lines in pieces (one cut inside "ü"), a torn write.
    (
        "model-x5qe2qo-7d9f8b6c5d-h4k2p",
        Shape {
            container: "model",
            format: Format::Docker,
            raw: 29,
            framed: 25,
            joined: 2,
            empty: 1,
            malformed: 1,
            replaced: 0,
        },
    ),
    (
        "build-x5qe2qo-q7rg5-pod",
        Shape {
            container: "step-build",
            format: Format::Cri,
            raw: 58,
            framed: 56,
            joined: 0,
            empty: 2,
            malformed: 0,
            replaced: 0,
        },
    ),
    // CRI-O timestamps with a local offset.
    (
        "gpu-build-x5qe2qo-b7x4k",
        Shape {
            container: "builder",
            format: Format::Cri,
            raw: 41,
            framed: 41,
            joined: 0,
            empty: 0,
            malformed: 0,
            replaced: 0,
        },
    ),
    (
        "kube-pod-lifecycle-watcher-6f7c9d8b4-x2mzq",
        Shape {
            container: "watcher",
            format: Format::Cri,
            raw: 27,
            framed: 27,
            joined: 0,
            empty: 0,
            malformed: 0,
            replaced: 0,
        },
    ),
    (
        "django-5c8d7f9b6d-m2xvt",
        Shape {
            container: "django",
            format: Format::Cri,
            raw: 30,
            framed: 30,
            joined: 0,
            empty: 0,
            malformed: 0,
            replaced: 0,
        },
    ),
    // Files no rule may route.
    (
        "model-x5qe2qo-7d9f8b6c5d-q7rg5",
        Shape {
            container: "queue-proxy",
            format: Format::Cri,
            raw: 8,
            framed: 8,
            joined: 0,
            empty: 0,
            malformed: 0,
            replaced: 0,
        },
    ),
    (
        "model-x5qe2qo-7d9f8b6c5d-q7rg5",
        Shape {
            container: "istio-proxy",
            format: Format::Cri,
            raw: 7,
            framed: 7,
            joined: 0,
            empty: 0,
            malformed: 0,
            replaced: 0,
        },
    ),
    (
        "model-x5qe2qo-7d9f8b6c5d-q7rg5",
        Shape {
            container: "storage-initializer",
            format: Format::Cri,
            raw: 8,
            framed: 8,
            joined: 0,
            empty: 0,
            malformed: 0,
            replaced: 0,
        },
    ),
    (
        "build-x5qe2qo-q7rg5-pod",
        Shape {
            container: "place-scripts",
            format: Format::Cri,
            raw: 2,
            framed: 2,
            joined: 0,
            empty: 0,
            malformed: 0,
            replaced: 0,
        },
    ),
    (
        "coredns-5d78c9869d-tw6qk",
        Shape {
            container: "coredns",
            format: Format::Cri,
            raw: 4,
            framed: 4,
            joined: 0,
            empty: 0,
            malformed: 0,
            replaced: 0,
        },
    ),
    (
        "celery-worker-7b9c5d8f6-k8s2v",
        Shape {
            container: "celery",
            format: Format::Cri,
            raw: 3,
            framed: 3,
            joined: 0,
            empty: 0,
            malformed: 0,
            replaced: 0,
        },
    ),
];

fn shape_of(bytes: &[u8], container: &'static str) -> Shape {
    let raw_lines: Vec<&[u8]> = bytes.strip_suffix(b"\n").unwrap_or(bytes).split(|&b| b == b'\n').collect();
    let format = raw_lines.iter().find_map(|l| Format::detect(l)).expect("a non-blank line");
    let mut framer = Framer::new(Some(format));
    let mut joined = 0;
    let mut replaced = 0;
    for line in &raw_lines {
        if let Some(Ok(l)) = framer.push(line) {
            joined += u64::from(l.pieces > 1);
            replaced += u64::from(l.replaced_invalid_utf8);
        }
    }
    while let Some(l) = framer.finish() {
        if let Ok(l) = l {
            joined += u64::from(l.pieces > 1);
            replaced += u64::from(l.replaced_invalid_utf8);
        }
    }
    let c = framer.counters();
    assert_eq!(c.raw_lines, c.framed_pieces + c.dropped());
    Shape {
        container,
        format,
        raw: c.raw_lines,
        framed: c.framed_lines,
        joined,
        empty: c.dropped_empty,
        malformed: c.dropped_malformed,
        replaced,
    }
}

#[test]
fn every_file_frames_as_described() {
    let mut names: Vec<String> =
        std::fs::read_dir(tree()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names.len(), EXPECTED.len(), "{names:#?}");
    for name in &names {
        assert!(name.ends_with(".log"), "only .log files in the tree: {name}");
        let meta = parse_file_name(name).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(meta.container_id.len(), 64, "{name}");
        let (_, expected) = EXPECTED
            .iter()
            .find(|(pod, shape)| *pod == meta.pod && shape.container == meta.container)
            .unwrap_or_else(|| panic!("{name} is not described"));
        let bytes = std::fs::read(tree().join(name)).unwrap();
        assert_eq!(&shape_of(&bytes, expected.container), expected, "{name}");
    }
}

#[test]
fn the_tree_covers_the_platform_edge_cases() {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(tree()).unwrap() {
        all.extend(std::fs::read(entry.unwrap().path()).unwrap());
        all.push(b'\n');
    }
    let has = |needle: &[u8]| all.windows(needle.len()).any(|w| w == needle);
    for needle in [
        &b"\x1b[36mINFO\x1b[0m[0000]"[..], // kaniko, coloured and padded
        b"\\u001b[",                       // ANSI in JSON
        b"\r",                             // progress bars
        b"\\r",                            // a progress bar in a docker log
        b" P ",                            // CRI partial pieces
        b": NaN",
        b"\"message\": 42",
        b"\\ud800",
        b"Traceback (most recent call last):",
        b"During handling of the above exception, another exception occurred:",
        b"error building image:",
        b"-05:00 stdout F ", // a CRI-O local offset
        b"\"event\":\"container_terminated\"",
        b"\"reason\":\"OOMKilled\"",
        b"\"event\":\"crash_loop_backoff\"",
        b"\"event\":\"pod_evicted\"",
        b"\"model_version_id\": \"x5qe2qo\"",
        b"[TensorRT-LLM][WARNING]",
        b"[TRT] [E]",
    ] {
        assert!(has(needle), "missing {:?}", String::from_utf8_lossy(needle));
    }
}
