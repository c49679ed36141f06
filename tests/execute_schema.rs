//! The `execute` fuzz target's laws on stable Rust: every record the embedded
//! rules make satisfies the output schema (docs/contract.md, "The unified
//! record"), every line without a record is explained, and nothing panics.
//! The laws and the fuzz input format are in `support/record_schema.rs`,
//! shared with `fuzz/fuzz_targets/execute.rs`.
//!
//! The laws run over the seeds of the fuzz target (`fuzz/seeds/execute/`),
//! over every line of every `test` block of `rules/*.uml` (one at a time, and
//! grouped as the stream layer groups them), over arbitrary text with
//! realistic metadata, and over the inputs the fuzzer found, each a test
//! named after what it caught.
//!
//! `cargo test --test execute_schema -- --ignored regenerate_seeds` rewrites
//! the seeds taken from the `test` blocks.

#[path = "support/record_schema.rs"]
mod record_schema;

use proptest::prelude::*;
use record_schema::{Case, EXPAND, EXPANDS, METADATA, SEPARATOR, STDERR, TRACEBACK, Tally, rules, run_case};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use uml::runtime::group::{Group, Grouper};
use uml::{FileInfo, Stream};

/// Runs the case, failing the test with the broken law.
fn check(case: &Case) -> Tally {
    run_case(case).unwrap_or_else(|e| panic!("{e}"))
}

/// The names of the rules.
fn rule_names() -> BTreeSet<String> {
    rules().plan().rules.iter().map(|r| r.name.clone()).collect()
}

/// Fails unless every rule made a record.
fn assert_every_rule_made_records(tally: &Tally, of: &str) {
    let made: BTreeSet<String> = tally.records.keys().cloned().collect();
    assert_eq!(made, rule_names(), "{of}: the rules that made records ({tally:?})");
}

fn seeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/execute")
}

/// One case per stream of every `test` block, the lines one by one; the
/// test's name and stream name the case.
fn test_block_cases() -> Vec<(String, Case)> {
    let mut cases = Vec::new();
    for test in &rules().program().tests {
        for stream in ["stdout", "stderr"] {
            let lines: Vec<String> =
                test.input.lines.iter().filter(|(s, _)| s == stream).map(|(_, l)| l.clone()).collect();
            if lines.is_empty() {
                continue;
            }
            let case = Case {
                pod: test.input.pod.clone(),
                namespace: test.input.namespace.clone(),
                container: test.input.container.clone(),
                stderr: stream == "stderr",
                timestamp: test.input.timestamp,
                traceback: None,
                lines,
                replaced: 0,
            };
            cases.push((format!("{} ({stream})", test.name), case));
        }
    }
    cases
}

/// The case grouped as the stream layer groups it under its rule's
/// `multiline` clause: one case per group, with its traceback. Empty when
/// no rule takes the file or the rule does not group.
fn grouped(case: &Case) -> Vec<Case> {
    let rules = rules();
    let mut executor = rules.executor();
    let info =
        FileInfo { pod: &case.pod, namespace: &case.namespace, container: &case.container, ..FileInfo::default() };
    let stream = if case.stderr { Stream::Stderr } else { Stream::Stdout };
    let route = executor.route(&info, stream);
    let Some(config) = route.rule().and_then(|r| rules.plan().rules[usize::from(r)].multiline.as_ref()) else {
        return Vec::new();
    };
    let mut grouper = Grouper::new(config);
    let mut groups = Vec::new();
    let mut sink = |g: Group<'_>| {
        groups.push(Case {
            traceback: g.traceback.map(str::to_string),
            lines: vec![g.line.to_string()],
            timestamp: g.timestamp_ns,
            ..case.clone()
        })
    };
    for line in &case.lines {
        grouper.push(stream, case.timestamp, line, &mut sink);
    }
    grouper.finish(&mut sink);
    groups
}

#[test]
fn the_metadata_table_routes_as_labelled() {
    let rules = rules();
    let mut executor = rules.executor();
    for &(pod, namespace, container, rule) in METADATA {
        let info = FileInfo { pod, namespace, container, ..FileInfo::default() };
        for stream in [Stream::Stdout, Stream::Stderr] {
            let route = executor.route(&info, stream);
            let got = route.rule().map(|r| rules.plan().rules[usize::from(r)].name.as_str());
            assert_eq!(got, rule, "{pod} {namespace} {container} {stream}");
        }
    }
    let routed: BTreeSet<String> = METADATA.iter().filter_map(|m| m.3).map(str::to_string).collect();
    assert_eq!(routed, rule_names(), "every rule has metadata in the table");
}

#[test]
fn every_seed_keeps_the_schema() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(seeds_dir())
        .expect("fuzz/seeds/execute exists")
        .map(|e| e.expect("a readable directory").path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 20, "only {} seeds", paths.len());
    let mut tally = Tally::default();
    for path in &paths {
        let data = std::fs::read(path).expect("a readable seed");
        let case = Case::decode(&data);
        let t = run_case(&case).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        tally.add(&t);
    }
    assert_every_rule_made_records(&tally, "the seeds");
    assert!(tally.truncated > 0, "no seed reaches max_record_size: {tally:?}");
}

#[test]
fn every_line_of_the_test_blocks_keeps_the_schema() {
    let mut tally = Tally::default();
    let cases = test_block_cases();
    assert!(cases.len() >= 40, "only {} test streams", cases.len());
    for (name, case) in &cases {
        let t = run_case(case).unwrap_or_else(|e| panic!("test {name:?}: {e}"));
        tally.add(&t);
        for group in grouped(case) {
            let t = run_case(&group).unwrap_or_else(|e| panic!("test {name:?}, grouped: {e}"));
            tally.add(&t);
        }
    }
    assert_every_rule_made_records(&tally, "the test blocks");
    assert!(tally.drops > 0 && tally.unrouted > 0, "{tally:?}");
}

#[test]
fn the_fuzz_input_format_reads_back_what_encode_wrote() {
    for (name, case) in test_block_cases() {
        let case = Case { lines: case.lines.iter().filter(|l| !l.contains('\n')).cloned().collect(), ..case };
        if case.lines.is_empty() {
            continue;
        }
        assert_eq!(Case::decode(&case.encode()), case, "{name}");
    }
}

#[test]
fn an_expand_byte_fills_a_line_to_the_largest_framed_line() {
    // Selector 7 is a model container; flags: stderr and expansion.
    let mut data = vec![7, STDERR | EXPANDS];
    data.extend_from_slice(br#"{"levelname": "INFO", "message": "a"#);
    data.push(EXPAND);
    data.extend_from_slice(br#""}"#);
    let case = Case::decode(&data);
    assert_eq!(case.lines.len(), 1);
    assert_eq!(case.lines[0].len(), uml::runtime::framing::DEFAULT_MAX_LINE_BYTES);
    let tally = check(&case);
    assert_eq!((tally.records.get("model_container"), tally.truncated), (Some(&1), 1), "{tally:?}");
}

#[test]
fn the_checker_reads_keys_in_order_with_duplicates() {
    assert_eq!(record_schema::top_level_keys(r#"{"a":"x,\"y\":","b\"":1,"a":true}"#).unwrap(), ["a", "b\"", "a"],);
    assert_eq!(record_schema::top_level_keys("{}").unwrap(), Vec::<String>::new());
}

/// Seeds written by hand, for what the `test` blocks do not reach: records
/// cut at `max_record_size`, metadata read from the input, invalid UTF-8 and
/// extreme timestamps. See [`Case::decode`] for the format.
fn handmade_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let join = |parts: &[&[u8]]| parts.concat();
    vec![
        (
            "cut_model_json_message_and_exc_info",
            // A model container (selector 7), stderr and expansion.
            join(&[
                &[7, STDERR | EXPANDS],
                br#"{"levelname": "ERROR", "message": "boom "#,
                &[EXPAND],
                br#"", "exc_info": "Traceback (most recent call last):\n  File \"/app/model/model.py\", line 12\nValueError: "#,
                &[EXPAND],
                br#"", "request_id": "7c1e9f02"}"#,
            ]),
        ),
        (
            "cut_build_traceback",
            // A build step (selector 0), a traceback and expansion.
            join(&[
                &[0, TRACEBACK | EXPANDS],
                b"Traceback (most recent call last):\n  File \"/usr/lib/python3.11/site-packages/pip/_internal/cli/base_command.py\", line 180, in exc_logging_wrapper\n    status = run_func(*args)\n    x",
                &[EXPAND],
                b"\nOSError: [Errno 28] No space left on device",
                &[SEPARATOR],
                b"ERROR: Exception:",
            ]),
        ),
        (
            "cut_gpu_build_plain_line",
            join(&[&[5, EXPANDS], b"[11/20/2026-13:22:03] [TRT] [E] 1: [defaultAllocator.cpp::allocate::20] ", &[EXPAND], b" out of memory"]),
        ),
        (
            "metadata_from_the_input",
            join(&[
                &[31, STDERR],
                b"model-x5qe2qo-7d9f8b6c5d-q7rg5",
                &[SEPARATOR],
                b"org-50a9bc6b456e47aa88e0d81e622ea315",
                &[SEPARATOR],
                b"model",
                &[SEPARATOR],
                b"INFO:     Started server process [12625]\nplain print() output",
            ]),
        ),
        (
            "invalid_utf8_in_json_and_text",
            join(&[&[8, STDERR], b"{\"levelname\": \"INFO\", \"message\": \"caf\xc3\x28 \xff\xfe\"}\nI1012 01:17:48.317907 1 a.cc:1] \xe2\x82"]),
        ),
        (
            "extreme_timestamps",
            join(&[&[12, 2 << 3], br#"{"time":"2026-11-20T10:00:00Z","event":"container_terminated","namespace":"org-50a9bc6b456e47aa88e0d81e622ea315","pod":"model-x5qe2qo-7d9f8b6c5d-q7rg5","container":"model","model_version_id":"x5qe2qo","reason":"OOMKilled","exit_code":137,"message":""}"#]),
        ),
        (
            "deploy_with_extras",
            join(&[&[3, 3 << 3], br#"{"asctime": "2026-11-20 00:43:12,801", "levelname": "WARNING", "message": "Deploying model version x5qe2qo", "model_version_id": "x5qe2qo", "org_namespace": "org-50a9bc6b456e47aa88e0d81e622ea315", "replica": "q7rg5", "n": 1.5e300}"#]),
        ),
    ]
}

/// Rewrites the seeds of `fuzz/seeds/execute/`: every stream of every
/// `test` block, every group with a traceback, and [`handmade_seeds`].
#[test]
#[ignore = "writes fuzz/seeds/execute/; run it after changing the tests of rules/*.uml"]
fn regenerate_seeds() {
    let dir = seeds_dir();
    std::fs::create_dir_all(&dir).unwrap();
    for (name, case) in test_block_cases() {
        let slug: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
            .collect::<String>()
            .split('_')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("_");
        let slug: String = slug.chars().take(90).collect();
        std::fs::write(dir.join(format!("test_{slug}")), case.encode()).unwrap();
        for (i, group) in grouped(&case).iter().enumerate().filter(|(_, g)| g.traceback.is_some()) {
            std::fs::write(dir.join(format!("test_{slug}_group{i}")), group.encode()).unwrap();
        }
    }
    for (name, data) in handmade_seeds() {
        std::fs::write(dir.join(name), data).unwrap();
    }
}

/// Lines of the `test` blocks, to mutate.
fn real_lines() -> Vec<String> {
    let mut lines: Vec<String> = test_block_cases().into_iter().flat_map(|(_, c)| c.lines).collect();
    lines.sort();
    lines.dedup();
    lines
}

/// A real line with arbitrary text put in at some character boundary, or
/// arbitrary text alone.
fn line() -> impl Strategy<Value = String> {
    let mutated = (prop::sample::select(real_lines()), any::<prop::sample::Index>(), any::<String>()).prop_map(
        |(line, at, insert)| {
            let bounds: Vec<usize> = line.char_indices().map(|(i, _)| i).chain([line.len()]).collect();
            let at = bounds[at.index(bounds.len())];
            format!("{}{insert}{}", &line[..at], &line[at..])
        },
    );
    let json = (
        prop::sample::select(vec!["DEBUG", "info", "WARNING", "Error", "CRITICAL", "", "10", "nope"]),
        any::<String>(),
        "[a-z_]{1,12}",
        prop_oneof![
            any::<String>().prop_map(|s| serde_json::Value::String(s).to_string()),
            Just("NaN".to_string()),
            Just("null".to_string()),
            Just(r#"{"a": [1, {"b": "\ud800"}]}"#.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|f| f.to_string()),
        ],
    )
        .prop_map(|(level, message, key, extra)| {
            format!(
                r#"{{"asctime": "2026-11-20 00:43:12,801", "levelname": "{level}", "message": {}, "{key}": {extra}}}"#,
                serde_json::Value::String(message)
            )
        });
    prop_oneof![4 => mutated, 2 => json, 1 => any::<String>(), 1 => "\\PC*"]
}

/// A case on realistic metadata that some rule takes.
fn routed_case() -> impl Strategy<Value = Case> {
    let routed: Vec<_> = METADATA.iter().filter(|m| m.3.is_some()).collect();
    (
        prop::sample::select(routed),
        any::<bool>(),
        prop::option::weighted(0.2, prop_oneof![any::<String>(), Just("Traceback (most recent call last):\n  File \"/app/model/model.py\", line 12, in predict\nValueError: bad input".to_string())]),
        prop::collection::vec(line(), 1..6),
    )
        .prop_map(|(&(pod, namespace, container, _), stderr, traceback, lines)| Case {
            pod: pod.into(),
            namespace: namespace.into(),
            container: container.into(),
            stderr,
            timestamp: 1_795_135_392_801_000_000,
            traceback,
            lines,
            replaced: 0,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_lines_on_realistic_metadata_keep_the_schema(case in routed_case()) {
        if let Err(e) = run_case(&case) {
            prop_assert!(false, "{}", e);
        }
    }

    #[test]
    fn arbitrary_fuzz_inputs_keep_the_schema(data in prop::collection::vec(any::<u8>(), 0..512)) {
        // Keep the expansion rare: it makes lines of 256 KiB.
        let mut data = data;
        if data.len() > 1 && data[0] % 8 != 0 {
            data[1] &= !EXPANDS;
        }
        if let Err(e) = run_case(&Case::decode(&data)) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// The facade's `Source` names exactly the sources the built-in schema
/// allows, so a record of the embedded rules always has one.
#[test]
fn the_typed_sources_are_the_schemas() {
    let schema = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/schema.uml")).unwrap();
    let line = schema.lines().find(|l| l.trim_start().starts_with("source:")).expect("a source field");
    let allowed: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
    let mut named: Vec<&str> = uml::Source::ALL.iter().map(|s| s.name()).collect();
    let mut allowed_sorted = allowed.clone();
    named.sort();
    allowed_sorted.sort();
    assert_eq!(named, allowed_sorted);
    for name in allowed {
        assert_eq!(uml::Source::from_name(name).map(uml::Source::name), Some(name));
    }
}

/// A record reused across routes carries each route's own labels: labels
/// written once per route (the rule's leading ops set them) are written
/// again when the route changes, whatever the order of the lines.
#[test]
fn one_record_alternating_between_routes_has_each_routes_labels() {
    use uml::runtime::exec::{Executor, Line, Outcome, Record};
    let rules = uml::Rules::embedded();
    let plan = rules.plan();
    let rule = plan.rules.iter().find(|r| r.name == "model_container").expect("the model container rule");
    assert!(rule.labels_per_route, "the model container rule's labels come from its leading ops");
    let mut executor = Executor::new(plan);
    let namespace = "org-50a9bc6b456e47aa88e0d81e622ea315";
    let route_of = |executor: &mut Executor<'_>, pod: &str| {
        let info = FileInfo { pod, namespace, container: "model", container_id: "", file: "" };
        executor.route(&info, Stream::Stderr)
    };
    let a = route_of(&mut executor, "model-x5qe2qo-7d9f8b6c5d-q7rg5");
    let b = route_of(&mut executor, "model-w7e9r2q-5f6d7c8b9d-zx7kq");
    let mut record = Record::default();
    let line = Line { text: r#"{"levelname": "INFO", "message": "hello"}"#, traceback: None, timestamp: 1 };
    for (route, version, replica) in
        [(&a, "x5qe2qo", "q7rg5"), (&b, "w7e9r2q", "zx7kq"), (&b, "w7e9r2q", "zx7kq"), (&a, "x5qe2qo", "q7rg5")]
    {
        assert_eq!(executor.apply(route, line, &mut record), Outcome::Record);
        let labels = String::from_utf8_lossy(record.labels_json()).into_owned();
        assert!(labels.contains(&format!(r#""model_version_id":"{version}""#)), "{labels}");
        assert_eq!(record.label(0), version);
        let payload = String::from_utf8_lossy(record.payload()).into_owned();
        assert!(payload.contains(&format!(r#""replica":"{replica}""#)), "{payload}");
    }
}
