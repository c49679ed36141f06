//! What the optimizer removes, one case per file.
//!
//! Every `tests/plan/*.uml` file is compiled with `rules/schema.uml`, with
//! and without the optimizer. The optimized plan and the optimizer's
//! counts are compared with the reviewed snapshot
//! `tests/snapshots/plan__<case>.snap`, and the case's first line states
//! what the passes must at least have done, as `# expect: folded>=4
//! dead_stores>=2` (`==` for an exact count), so that a pass that stops
//! working fails the test even if someone accepts the snapshot.
//!
//! Both plans are also run on the case's lines to show that removing ops
//! changed nothing: each case is checked against the reference evaluator.

use std::path::{Path, PathBuf};
use uml::compiler::compile::{Unit, compile};
use uml::compiler::eval::{Evaluator, LineInput};
use uml::compiler::lower::{LowerStats, Options};
use uml::compiler::testing::engine_verdict;
use uml::{FileInfo, Line, Record, Stream};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn stat(stats: &LowerStats, name: &str) -> usize {
    match name {
        "folded" => stats.folded,
        "branches_removed" => stats.branches_removed,
        "dead_stores" => stats.dead_stores,
        "unreachable" => stats.unreachable,
        "threaded" => stats.threaded,
        "hoisted" => stats.hoisted,
        "pushed_keys" => stats.pushed_keys,
        other => panic!("unknown stat `{other}` in an expect line"),
    }
}

/// The lines every case runs on.
const LINES: &[&str] = &[
    r#"{"message": "hello", "level": "warn", "request_id": "r1"}"#,
    r#"{"message": 42}"#,
    r#"{"msg": "from msg", "record": {"message": "nested"}}"#,
    r#"{"record": {"message": "nested only"}, "level": 30}"#,
    "I1012 01:17:48.317907 1 grpc_server.cc:2451] Started GRPCInferenceService",
    "ERROR something broke",
    "plain text",
    "",
];

#[test]
fn optimizer_cases() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("tests/plan"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "uml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 5);
    let schema = Unit {
        name: "rules/schema.uml".into(),
        text: std::fs::read_to_string(root().join("rules/schema.uml")).unwrap(),
    };
    for path in paths {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let units = [schema.clone(), Unit { name: format!("tests/plan/{name}.uml"), text: text.clone() }];
        let optimized = compile(&units, Options { optimize: true }).unwrap_or_else(|d| panic!("{name}: {d:#?}"));
        let plain = compile(&units, Options { optimize: false }).unwrap();

        // The case's own promise about the passes.
        let expect = text.lines().next().and_then(|l| l.strip_prefix("# expect:")).expect("an `# expect:` line");
        for item in expect.split_whitespace() {
            let (key, op, n) = if let Some((k, n)) = item.split_once(">=") {
                (k, ">=", n)
            } else {
                let (k, n) = item.split_once("==").expect("`name>=N` or `name==N`");
                (k, "==", n)
            };
            let (got, want) = (stat(&optimized.stats, key), n.parse::<usize>().unwrap());
            let ok = if op == ">=" { got >= want } else { got == want };
            assert!(ok, "{name}: expected {item}, got {key}={got}\n{}", optimized.plan);
        }
        assert!(optimized.plan.ops.len() <= plain.plan.ops.len(), "{name}: the optimizer added ops");

        // Same outcomes from both plans and the evaluator.
        let info = FileInfo { pod: "p", namespace: "ns", container: "app", ..FileInfo::default() };
        let mut evaluator = Evaluator::new(&optimized.program);
        for compiled in [&optimized, &plain] {
            let mut executor = uml::Executor::new(&compiled.plan);
            let route = executor.route(&info, Stream::Stdout);
            let mut record = Record::default();
            for text in LINES {
                let input = LineInput {
                    pod: "p",
                    namespace: "ns",
                    container: "app",
                    stream: "stdout",
                    line: text,
                    timestamp: 7,
                    ..LineInput::default()
                };
                let want = evaluator.eval(&input);
                let got = executor.apply(&route, Line { text, traceback: None, timestamp: 7 }, &mut record);
                let got = engine_verdict(&compiled.plan, got, &record, executor.error());
                assert_eq!(got, want, "{name}: {text:?}");
            }
        }

        let snapshot = format!(
            "{}\nunoptimized: {} ops; optimized: {} ops\n{:#?}\n",
            optimized.plan,
            plain.plan.ops.len(),
            optimized.plan.ops.len(),
            optimized.stats
        );
        insta::assert_snapshot!(name, snapshot);
    }
}
