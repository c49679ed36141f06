//! Keeps the documentation honest: every `.uml` example in
//! `docs/language.md` and every source's rule file in `rules/` must parse
//! and pass the compiler's checks.
//!
//! Blocks are checked as `uml check` would check a rule set made of
//! `rules/schema.uml` and the block; a block that declares its own `schema`
//! is checked alone. Fenced blocks in `docs/language.md` are checked by
//! their info string:
//!
//! - ` ```uml `: the block parses and checks without errors. Short examples
//!   are fragments that leave out outputs a complete rule assigns, so they
//!   may draw `E0507` (a required output not set), but no other error. A
//!   block with a `test`, or whose first line is `# From PATH`, is complete
//!   and may not. With `# From PATH`, the rest of the block must also appear
//!   verbatim in the file `PATH` (relative to the repository root), so
//!   excerpts cannot drift from the files they quote.
//! - ` ```uml,error `: the block is an example of a mistake. If its first
//!   line is a comment naming a semantic code (`# E0401: …`, `# W0002: …`),
//!   the block must parse and the compiler must report that code (the
//!   schema is left out for `E0501`, a missing schema). Otherwise the block
//!   must fail to parse, with the syntax code its first line names, if any.
//!
//! A ` ```uml ` block with rules and `test` blocks is also run, as `uml
//! test` runs it: every test must pass.
//!
//! Other fences (` ```text `, …) are ignored. Failures are collected and
//! reported together, each with its line in the document.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use uml::syntax::ast::Item;
use uml::syntax::{Code, Diagnostic, FileId, Parsed, parse};
use uml_cli::sources::{Origin, SourceSet};

const LANGUAGE_MD: &str = "docs/language.md";
const RULES: &str = "rules";
const SCHEMA: &str = "rules/schema.uml";

/// The rule files the reference promises, one per source of the platform.
const SOURCES: &[&str] = &["model_container", "build", "gpu_build", "pod_lifecycle_watcher", "deploy"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// ` ```uml `: must parse cleanly.
    Valid,
    /// ` ```uml,error `: must fail.
    Error,
}

/// A fenced `uml` block of a Markdown file.
#[derive(Debug)]
struct Block {
    kind: Kind,
    /// 1-based line of the opening fence.
    fence_line: usize,
    text: String,
}

impl Block {
    /// The 1-based document line of byte `offset` within the block.
    fn line_of(&self, offset: u32) -> usize {
        let offset = (offset as usize).min(self.text.len());
        self.fence_line + 1 + self.text.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count()
    }

    fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or("").trim()
    }
}

/// Splits Markdown into its fenced `uml` blocks. An unclosed fence is an error.
fn uml_blocks(markdown: &str) -> Result<Vec<Block>, String> {
    let mut blocks = Vec::new();
    // The open fence: its backtick count, kind (None for non-uml blocks), line and text.
    let mut open: Option<(usize, Option<Kind>, usize, String)> = None;
    for (index, line) in markdown.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim_start();
        let ticks = trimmed.bytes().take_while(|&b| b == b'`').count();
        match &mut open {
            None if ticks >= 3 => {
                let info = trimmed[ticks..].trim();
                let kind = match info {
                    "uml" => Some(Kind::Valid),
                    "uml,error" => Some(Kind::Error),
                    _ => None,
                };
                open = Some((ticks, kind, number, String::new()));
            }
            None => {}
            Some((fence, kind, start, text)) => {
                if ticks >= *fence && trimmed[ticks..].trim().is_empty() {
                    if let Some(kind) = *kind {
                        blocks.push(Block { kind, fence_line: *start, text: std::mem::take(text) });
                    }
                    open = None;
                } else {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    match open {
        Some((_, _, start, _)) => Err(format!("the code fence opened on line {start} is never closed")),
        None => Ok(blocks),
    }
}

fn errors<'p>(parsed: &'p Parsed<'_>) -> Vec<&'p Diagnostic> {
    parsed.diagnostics.iter().filter(|d| d.is_error()).collect()
}

/// The first code named in a line, e.g. `E0201` in `# E0201: …` or `W0002`.
fn named_code(line: &str) -> Option<&str> {
    let bytes = line.as_bytes();
    let is_word = |b: &u8| b.is_ascii_alphanumeric();
    (0..bytes.len().saturating_sub(4)).find_map(|i| {
        let is_code = matches!(bytes[i], b'E' | b'W') && bytes[i + 1..i + 5].iter().all(u8::is_ascii_digit);
        let starts_word = i == 0 || !is_word(&bytes[i - 1]);
        let ends_word = !bytes.get(i + 5).is_some_and(is_word);
        // Only ASCII bytes were matched, so the slice is on character boundaries.
        (is_code && starts_word && ends_word).then(|| &line[i..i + 5])
    })
}

/// Whether a code is one of the compiler's (`E03xx` and up, `W…`), as
/// opposed to the lexer's and parser's (`E01xx`, `E02xx`).
fn is_semantic(code: &str) -> bool {
    !(code.starts_with("E01") || code.starts_with("E02"))
}

/// Every diagnostic `uml check` gives for `text` as a rule set, after
/// `rules/schema.uml` unless `with_schema` is false. Spans of the block's
/// own diagnostics are offsets in `text`; others are reported at `None`.
fn compile(text: &str, with_schema: bool) -> Vec<(Diagnostic, Option<u32>)> {
    let mut sources = SourceSet::new();
    if with_schema {
        sources.add(Origin::File(PathBuf::from(SCHEMA)), SCHEMA, read(SCHEMA));
    }
    let id = sources.add(Origin::Stdin, "block.uml", text.to_string());
    uml_cli::check::check(&sources, &[])
        .into_iter()
        .map(|d| {
            let at = d.labels.iter().find(|l| l.primary && l.file == id).map(|l| l.span.start);
            (d, at)
        })
        .collect()
}

/// Runs the `test` blocks of an example on the executor and the reference
/// evaluator, as `uml test` does: an example's tests show what its functions
/// return, so they must pass.
fn run_tests(block: &Block, with_schema: bool, failures: &mut String) {
    use uml::compiler::compile::{Unit, compile};
    use uml::compiler::testing::{TestOutcome, run};
    let mut units = Vec::new();
    if with_schema {
        units.push(Unit { name: SCHEMA.into(), text: read(SCHEMA) });
    }
    units.push(Unit { name: "block.uml".into(), text: block.text.clone() });
    let Ok(compiled) = compile(&units, Default::default()) else { return };
    for test in run(&compiled.program, Some(&compiled.plan)) {
        if let TestOutcome::Failed(mismatches) = &test.outcome {
            let line = block.line_of(test.span.start);
            let _ = writeln!(
                failures,
                "{LANGUAGE_MD}:{line}: test {:?} fails: {mismatches:?} (in the ```uml block opened on line {})",
                test.name, block.fence_line
            );
        }
    }
}

/// Whether a block is checked with the shared schema: not when it declares
/// its own, nor when it shows what happens without one.
fn uses_shared_schema(block: &Block, parsed: &Parsed<'_>) -> bool {
    let own = parsed.file.items.iter().any(|i| matches!(i, Item::Schema(_)));
    let about_missing = block.first_line().strip_prefix('#').and_then(named_code) == Some("E0501");
    !own && !about_missing
}

fn check_valid(block: &Block, failures: &mut String) {
    let parsed = parse(FileId(0), &block.text);
    for d in errors(&parsed) {
        let line = d.primary_span().map_or(block.fence_line, |s| block.line_of(s.start));
        let _ = writeln!(
            failures,
            "{LANGUAGE_MD}:{line}: {} {} (in the ```uml block opened on line {})",
            d.code, d.message, block.fence_line
        );
    }
    if !parsed.has_errors() {
        let complete =
            block.first_line().starts_with("# From ") || parsed.file.items.iter().any(|i| matches!(i, Item::Test(_)));
        for (d, at) in compile(&block.text, uses_shared_schema(block, &parsed)) {
            if d.is_error() && (complete || d.code != Code::MissingOutput) {
                let line = at.map_or(block.fence_line, |s| block.line_of(s));
                let _ = writeln!(
                    failures,
                    "{LANGUAGE_MD}:{line}: {} {} (in the ```uml block opened on line {})",
                    d.code, d.message, block.fence_line
                );
            }
        }
    }
    // Tests of a block with its own rules; tests shown alone are about the
    // rules in `rules/`, and `uml test rules/` runs those.
    let has = |f: fn(&Item<'_>) -> bool| parsed.file.items.iter().any(f);
    if !parsed.has_errors() && has(|i| matches!(i, Item::Test(_))) && has(|i| matches!(i, Item::Rule(_))) {
        run_tests(block, uses_shared_schema(block, &parsed), failures);
    }
    if let Some(path) = block.first_line().strip_prefix("# From ") {
        let path = path.trim();
        let excerpt = block.text.split_once('\n').map_or("", |(_, rest)| rest);
        match fs::read_to_string(root().join(path)) {
            Ok(file) if file.contains(excerpt) => {}
            Ok(_) => {
                let _ = writeln!(
                    failures,
                    "{LANGUAGE_MD}:{}: the block says it is from {path}, but {path} does not contain it verbatim",
                    block.fence_line
                );
            }
            Err(e) => {
                let _ = writeln!(failures, "{LANGUAGE_MD}:{}: cannot read {path}: {e}", block.fence_line);
            }
        }
    }
}

fn check_error(block: &Block, failures: &mut String) {
    let parsed = parse(FileId(0), &block.text);
    let named = block.first_line().strip_prefix('#').and_then(named_code);
    if let Some(code) = named.filter(|c| is_semantic(c)) {
        if let Some(d) = errors(&parsed).first() {
            let _ = writeln!(
                failures,
                "{LANGUAGE_MD}:{}: this ```uml,error block names {code}, a compiler check, but does not parse: {} {}",
                block.fence_line, d.code, d.message
            );
            return;
        }
        let found: Vec<String> =
            compile(&block.text, uses_shared_schema(block, &parsed)).iter().map(|(d, _)| d.code.to_string()).collect();
        if !found.iter().any(|c| c == code) {
            let _ = writeln!(
                failures,
                "{LANGUAGE_MD}:{}: this ```uml,error block names {code} but the compiler reports [{}]",
                block.fence_line,
                found.join(", ")
            );
        }
        return;
    }
    let errors = errors(&parsed);
    if errors.is_empty() {
        let _ = writeln!(failures, "{LANGUAGE_MD}:{}: this ```uml,error block parses without errors", block.fence_line);
        return;
    }
    if let Some(code) = named
        && !errors.iter().any(|d| d.code.as_str() == code)
    {
        let found: Vec<String> = errors.iter().map(|d| d.code.to_string()).collect();
        let _ = writeln!(
            failures,
            "{LANGUAGE_MD}:{}: this ```uml,error block names {code} but produces {}",
            block.fence_line,
            found.join(", ")
        );
    }
}

fn language_blocks() -> Vec<Block> {
    uml_blocks(&read(LANGUAGE_MD)).unwrap_or_else(|e| panic!("{LANGUAGE_MD}: {e}"))
}

#[test]
fn language_md_uml_blocks_parse_and_check() {
    let blocks = language_blocks();
    let valid: Vec<&Block> = blocks.iter().filter(|b| b.kind == Kind::Valid).collect();
    assert!(valid.len() >= 10, "expected the reference's ```uml examples, found {}", valid.len());
    let mut failures = String::new();
    for block in valid {
        check_valid(block, &mut failures);
    }
    assert!(failures.is_empty(), "```uml blocks with problems:\n{failures}");
}

#[test]
fn language_md_error_blocks_fail_with_their_code() {
    let blocks = language_blocks();
    let error_blocks: Vec<&Block> = blocks.iter().filter(|b| b.kind == Kind::Error).collect();
    assert!(!error_blocks.is_empty(), "expected ```uml,error examples in {LANGUAGE_MD}");
    let mut failures = String::new();
    for block in error_blocks {
        check_error(block, &mut failures);
    }
    assert!(failures.is_empty(), "```uml,error blocks with problems:\n{failures}");
}

#[test]
fn language_md_documents_every_code() {
    // Each code has a row `| `E0101` | summary |` in the table of codes.
    let doc = read(LANGUAGE_MD);
    let missing: Vec<String> = Code::ALL
        .iter()
        .map(|code| format!("| `{}` | {} |", code.as_str(), code.summary()))
        .filter(|row| !doc.lines().any(|line| line.trim() == row))
        .collect();
    assert!(missing.is_empty(), "{LANGUAGE_MD} lacks these rows in its table of codes:\n{}", missing.join("\n"));
}

#[test]
fn language_md_has_an_example_of_every_semantic_code() {
    // Each compiler code has its `#### CODE` section with an example block.
    let examples: Vec<String> = language_blocks()
        .iter()
        .filter(|b| b.kind == Kind::Error)
        .filter_map(|b| b.first_line().strip_prefix('#').and_then(named_code).map(str::to_string))
        .collect();
    let missing: Vec<&str> =
        Code::ALL.iter().map(|c| c.as_str()).filter(|c| is_semantic(c) && !examples.iter().any(|e| e == c)).collect();
    assert!(missing.is_empty(), "{LANGUAGE_MD} has no ```uml,error example naming {missing:?}");
}

#[test]
fn source_rules_parse_and_check() {
    let dir = root().join(RULES);
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "uml"))
        // The schema is the rules' shared context, not a source of its own.
        .filter(|p| *p != root().join(SCHEMA))
        .collect();
    paths.sort();
    for source in SOURCES {
        let expected = dir.join(format!("{source}.uml"));
        assert!(paths.contains(&expected), "missing rule file {}", expected.display());
    }

    let mut failures = String::new();
    for path in &paths {
        let shown = Path::new(RULES).join(path.file_name().expect("file name"));
        let src = fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let parsed = parse(FileId(0), &src);
        let line_of = |offset: u32| 1 + src.as_bytes()[..offset as usize].iter().filter(|&&b| b == b'\n').count();
        for d in errors(&parsed) {
            let line = d.primary_span().map_or(1, |s| line_of(s.start));
            let _ = writeln!(failures, "{}:{line}: {} {}", shown.display(), d.code, d.message);
        }
        // With the platform's schema, a source's file is a complete rule set: no
        // errors, and no warnings either.
        if !parsed.has_errors() {
            for (d, at) in compile(&src, true) {
                let line = at.map_or(1, line_of);
                let _ = writeln!(failures, "{}:{line}: {} {}", shown.display(), d.code, d.message);
            }
        }
        let rules = parsed.file.items.iter().filter(|i| matches!(i, Item::Rule(_))).count();
        let tests = parsed.file.items.iter().filter(|i| matches!(i, Item::Test(_))).count();
        if rules == 0 || tests == 0 {
            let _ = writeln!(
                failures,
                "{}: a source's file has a rule and its tests ({rules} rules, {tests} tests)",
                shown.display()
            );
        }
    }
    assert!(failures.is_empty(), "rule files with problems:\n{failures}");
}

#[test]
fn block_extraction_finds_fences_and_lines() {
    let markdown = "text\n```uml\nrule a {}\n```\n\n```text\nnot uml\n```\n````uml,error\n# E0201\nrule {\n````\n";
    let blocks = uml_blocks(markdown).expect("well-formed fences");
    assert_eq!(blocks.len(), 2);
    assert_eq!((blocks[0].kind, blocks[0].fence_line, blocks[0].text.as_str()), (Kind::Valid, 2, "rule a {}\n"));
    assert_eq!((blocks[1].kind, blocks[1].fence_line), (Kind::Error, 9));
    assert_eq!(blocks[1].line_of(8), 11);
    assert_eq!(named_code(blocks[1].first_line().trim_start_matches('#')), Some("E0201"));
    assert_eq!(named_code(" see XE0201 and E02011"), None);
    assert_eq!(named_code(" W0002: unused"), Some("W0002"));
    assert!(is_semantic("E0401") && is_semantic("W0002") && !is_semantic("E0201"));
    assert!(uml_blocks("```uml\nrule a {}\n").is_err());
}

/// Every function of the standard library has its row in the table of
/// `docs/language.md` §10 and a section of its own, and the table names no
/// function the library lacks: a function is documented where it is added.
#[test]
fn language_md_documents_every_function() {
    let doc = read("docs/language.md");
    let names: Vec<&str> = uml::runtime::stdlib::Func::ALL.iter().map(|f| f.name()).collect();
    let mut missing = Vec::new();
    for name in &names {
        if !doc.contains(&format!("| [`{name}(")) {
            missing.push(format!("{name}: no row in the table of §10"));
        }
        let section =
            doc.lines().any(|l| l.strip_prefix("#### ").is_some_and(|h| h.split(", ").any(|n| n.trim() == *name)));
        if !section {
            missing.push(format!("{name}: no `#### {name}` section"));
        }
    }
    for row in doc.lines().filter_map(|l| l.strip_prefix("| [`")) {
        let name = row.split('(').next().unwrap_or("");
        if !names.contains(&name) {
            missing.push(format!("{name}: in the table of §10, not in the library"));
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}
