//! The differential property test: for random rules from a generator and
//! random inputs, the optimized plan, the unoptimized plan and the reference
//! evaluator (straight from the HIR) produce identical outcomes: the same
//! records (labels, payload, rule, timestamp), the same drops and the same
//! aborts (site and message).
//!
//! - `generated_rules_agree_on_generated_lines`: the property, over programs
//!   from `differential/gen.rs` (type directed, so that most of them check)
//!   and lines from JSON, klog, logfmt, coloured text and arbitrary strings.
//!   1024 cases by default (a few seconds); `PROPTEST_CASES=30000 cargo test
//!   -p uml-compiler --test differential -- --nocapture` for a longer run.
//! - `most_generated_programs_check`: the generator is useful only if its
//!   programs pass the checker; it measures and prints the rate.
//! - `rule_files_agree_on_generated_lines`: the rule set of `rules/`, with
//!   each source's metadata and lines from its tests, mutated and generated.
//!
//! A disagreement found here is minimized into a named test in
//! `regression_differential.rs`.

#[path = "differential/gen.rs"]
mod generate;
#[path = "differential/harness.rs"]
mod harness;

use generate::{Choices, FileMeta, Input, Rng};
use harness::Tally;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestError, TestRunner};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use uml_compiler::compile::Unit;
use uml_compiler::eval::LineInput;

/// The number of generated cases: 1024, or `PROPTEST_CASES`.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(1024)
}

/// One case: the choices behind the program, the files and the lines.
type Case = (Vec<u32>, Vec<Vec<u32>>, Vec<Vec<u32>>);

fn expand(case: &Case) -> (String, Vec<FileMeta>, Vec<Input>) {
    let (program, files, inputs) = case;
    let text = generate::program(&mut Choices::new(program));
    let files: Vec<FileMeta> = files.iter().map(|c| generate::file_meta(&mut Choices::new(c))).collect();
    let inputs: Vec<Input> = inputs.iter().map(|c| generate::input(&mut Choices::new(c), files.len())).collect();
    (text, files, inputs)
}

/// The property. Proptest shrinks a failing case (fewer and smaller
/// choices), then `harness::minimize` deletes statements from its rules and
/// keeps the one line that disagrees, and the test fails with that case:
/// the rules, the file, the line and the three outcomes.
#[test]
fn generated_rules_agree_on_generated_lines() {
    let config = ProptestConfig {
        cases: cases(),
        // Failures become named regression tests, not files outside this directory.
        failure_persistence: None,
        max_shrink_iters: 2048,
        max_global_rejects: cases().saturating_mul(2),
        ..ProptestConfig::default()
    };
    let strategy = (vec(any::<u32>(), 64..1024), vec(vec(any::<u32>(), 8), 1..4), vec(vec(any::<u32>(), 0..64), 1..32));
    let seen = Cell::new((0usize, 0usize, Tally::default()));
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |case: Case| {
        let (text, files, inputs) = expand(&case);
        let engines = harness::build(&harness::units(&text));
        let (mut programs, mut checked, mut tally) = seen.get();
        programs += 1;
        checked += usize::from(engines.is_ok());
        seen.set((programs, checked, tally));
        let Ok(engines) = engines else { return Err(TestCaseError::reject("the program does not check")) };
        match harness::run(&engines, &files, &inputs) {
            Ok(t) => {
                tally.add(&t);
                tally.threaded += engines.optimized.stats.threaded;
                seen.set((programs, checked, tally));
                Ok(())
            }
            Err(report) => Err(TestCaseError::fail(report)),
        }
    });
    let (programs, checked, tally) = seen.get();
    println!(
        "property: {} cases; {checked} of {programs} programs checked (with shrinking); \
         {} lines: {} records, {} drops, {} aborts, {} unrouted; {} jumps threaded",
        cases(),
        tally.total(),
        tally.records,
        tally.drops,
        tally.aborts,
        tally.unrouted,
        tally.threaded
    );
    match result {
        Ok(()) => {}
        Err(TestError::Fail(report, case)) => {
            let (text, files, inputs) = expand(&case);
            let minimized = harness::minimize(&text, &files, &inputs);
            panic!(
                "{}\n(shrunk by proptest, then minimized; as proptest left it:)\n{report}",
                minimized.unwrap_or_else(|| "(the shrunk case no longer fails)".into())
            );
        }
        Err(e) => panic!("{e}"),
    }
    // The generator's programs exercise jump threading, so the property covers it.
    assert!(cases() < 100 || tally.threaded > 0, "no generated program had a jump to thread");
}

#[test]
fn most_generated_programs_check() {
    const PROGRAMS: u64 = 400;
    let mut ok = 0;
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    let mut example: BTreeMap<String, String> = BTreeMap::new();
    let mut sizes = 0;
    for seed in 0..PROGRAMS {
        let choices = Rng::new(seed).choices(1024);
        let text = generate::program(&mut Choices::new(&choices));
        sizes += text.len();
        match harness::build(&harness::units(&text)) {
            Ok(_) => ok += 1,
            Err(rendered) => {
                for line in rendered.lines() {
                    let code = line.split(' ').next().unwrap_or("?").to_string();
                    *codes.entry(code.clone()).or_default() += 1;
                    example.entry(code).or_insert_with(|| {
                        // The source line the error points at.
                        let at = line.rsplit(" at rules.uml:").next().unwrap_or("");
                        let n: usize = at.split(':').next().and_then(|n| n.parse().ok()).unwrap_or(0);
                        format!("{line}\n      in: {}", text.lines().nth(n.saturating_sub(1)).unwrap_or("").trim())
                    });
                }
            }
        }
    }
    let rate = ok as f64 / PROGRAMS as f64;
    println!(
        "{ok} of {PROGRAMS} generated programs check ({:.1}%), {} bytes on average",
        rate * 100.0,
        sizes / PROGRAMS as usize
    );
    for (code, n) in &codes {
        println!("  {code}: {n}, e.g. {}", example[code]);
    }
    assert!(rate >= 0.7, "only {:.1}% of the generated programs check: {codes:?}", rate * 100.0);
}

/// Every rule file of `rules/`, with the metadata and lines of its tests,
/// those lines mutated, and generated lines.
#[test]
fn rule_files_agree_on_generated_lines() {
    const LINES_PER_RULE: usize = 1000;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "uml"))
        .collect();
    paths.sort();
    let units: Vec<Unit> = paths
        .iter()
        .map(|p| Unit {
            name: format!("rules/{}", p.file_name().unwrap().to_string_lossy()),
            text: std::fs::read_to_string(p).unwrap(),
        })
        .collect();
    let engines = harness::build(&units).unwrap_or_else(|e| panic!("rules/ checks clean:\n{e}"));
    let program = &engines.optimized.program;
    assert!(!program.rules.is_empty() && !program.tests.is_empty());

    // Files: each test's metadata on both streams, and generated metadata.
    let mut files: Vec<FileMeta> = Vec::new();
    for t in &program.tests {
        for stderr in [false, true] {
            let i = &t.input;
            let f = FileMeta {
                pod: i.pod.clone(),
                namespace: i.namespace.clone(),
                container: i.container.clone(),
                container_id: i.container_id.clone(),
                file: i.file.clone().unwrap_or_default(),
                stderr,
            };
            if !files.iter().any(|g| format!("{g:?}") == format!("{f:?}")) {
                files.push(f);
            }
        }
    }
    let mut rng = Rng::new(0x5eed);
    for _ in 0..8 {
        files.push(generate::file_meta(&mut Choices::new(&rng.choices(8))));
    }
    // Which rule takes each file.
    let mut evaluator = uml_compiler::eval::Evaluator::new(program);
    let rule_of: Vec<Option<usize>> = files
        .iter()
        .map(|f| {
            let meta = LineInput {
                pod: &f.pod,
                namespace: &f.namespace,
                container: &f.container,
                container_id: &f.container_id,
                file: &f.file,
                stream: if f.stderr { "stderr" } else { "stdout" },
                ..LineInput::default()
            };
            evaluator.route(&meta).map(|r| r.rule)
        })
        .collect();
    let test_lines: Vec<&str> =
        program.tests.iter().flat_map(|t| t.input.lines.iter().map(|(_, l)| l.as_str())).collect();

    let mut tally = Tally::default();
    let groups: Vec<Option<usize>> = (0..program.rules.len()).map(Some).chain([None]).collect();
    for rule in groups {
        let targets: Vec<usize> = (0..files.len()).filter(|&i| rule_of[i] == rule).collect();
        let name = rule.map_or("no rule".to_string(), |r| program.rules[r].name.clone());
        assert!(!targets.is_empty(), "a test's metadata routes to {name}");
        let count = if rule.is_some() { LINES_PER_RULE } else { 50 };
        // This source's own test lines first.
        let own: Vec<&str> = program
            .tests
            .iter()
            .filter(|t| {
                files.iter().position(|f| f.pod == t.input.pod && f.container == t.input.container).map(|i| rule_of[i])
                    == Some(rule)
            })
            .flat_map(|t| t.input.lines.iter().map(|(_, l)| l.as_str()))
            .collect();
        let mut inputs = Vec::with_capacity(count);
        for n in 0..count {
            let choices = rng.choices(64);
            let mut c = Choices::new(&choices);
            let mut input = generate::input(&mut c, files.len());
            input.file = targets[n % targets.len()];
            input.line = match n % 5 {
                0 if !own.is_empty() => own[c.below(own.len())].to_string(),
                1 | 2 if !own.is_empty() => mutate(own[c.below(own.len())], &mut rng),
                3 => mutate(test_lines[c.below(test_lines.len())], &mut rng),
                _ => input.line,
            };
            inputs.push(input);
        }
        match harness::run(&engines, &files, &inputs) {
            Ok(t) => tally.add(&t),
            Err(report) => panic!("rules/, {name}:\n{report}"),
        }
    }
    println!(
        "rules/: {} lines; {} records, {} drops, {} aborts, {} unrouted",
        tally.total(),
        tally.records,
        tally.drops,
        tally.aborts,
        tally.unrouted
    );
    assert!(tally.records > 500, "most lines of the rule files make records: {tally:?}");
}

/// A line changed a little: cut, with a snippet inserted, or with a word replaced.
fn mutate(line: &str, rng: &mut Rng) -> String {
    const SNIPPETS: &[&str] = &[
        "\"",
        "\\",
        "\\u00e9",
        "\\ud800",
        "\u{1b}[31m",
        "\r",
        " ",
        "é",
        "ERROR",
        "null",
        ",",
        "}",
        "{\"a\":1}",
        "\n",
        "😀",
        "NaN",
        "\\n",
        "0",
    ];
    const WORDS: &[(&str, &str)] = &[
        ("INFO", "ERROR"),
        ("INFO", "warn"),
        ("WARNING", "bogus"),
        ("message", "msg"),
        ("\"message\"", "\"message\": null, \"x\""),
        ("levelname", "levelno"),
        ("\"INFO\"", "25"),
        ("model_version_id", "model_version"),
        ("exc_info", "exc"),
        ("I1", "E1"),
        ("org-", "org_"),
        ("level=info", "level=WARN"),
        ("[I]", "[E]"),
    ];
    let boundaries: Vec<usize> = (0..=line.len()).filter(|&i| line.is_char_boundary(i)).collect();
    let at = boundaries[rng.next_u32() as usize % boundaries.len()];
    match rng.next_u32() % 4 {
        0 => line[..at].to_string(),
        1 => {
            let s = SNIPPETS[rng.next_u32() as usize % SNIPPETS.len()];
            format!("{}{s}{}", &line[..at], &line[at..])
        }
        2 => {
            let (from, to) = WORDS[rng.next_u32() as usize % WORDS.len()];
            line.replacen(from, to, 1)
        }
        _ => {
            let (from, to) = WORDS[rng.next_u32() as usize % WORDS.len()];
            let s = SNIPPETS[rng.next_u32() as usize % SNIPPETS.len()];
            format!("{}{s}", line.replace(from, to))
        }
    }
}

/// Prints a few generated programs and lines (`--ignored --nocapture`), to
/// see what the generators make.
#[test]
#[ignore]
fn print_samples() {
    for seed in 0..5 {
        let choices = Rng::new(seed).choices(1024);
        let text = generate::program(&mut Choices::new(&choices));
        println!("==== program {seed} ====\n{text}");
        match harness::build(&harness::units(&text)) {
            Ok(_) => println!("(checks)"),
            Err(e) => println!("(does not check)\n{e}"),
        }
    }
    let mut rng = Rng::new(7);
    for _ in 0..30 {
        println!("{:?}", generate::line(&mut Choices::new(&rng.choices(64))));
    }
}
