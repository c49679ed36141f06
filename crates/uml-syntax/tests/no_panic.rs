//! Robustness of the front end on hostile input.
//!
//! The laws: no input makes [`lexer::lex`], [`parse`] or [`parse_expr`]
//! panic; every span they report lies within the source and on character
//! boundaries; and the nesting limit bounds the tree, so that parsing,
//! formatting and dropping it need little stack, however deep the source
//! tries to nest. The property tests below check the first two laws on
//! random bytes, random token sequences and random edits of the real rule
//! files; the deterministic tests check the third on the classic stack
//! killers, each on a thread with a 256 KiB stack.
//!
//! The fuzz targets in `fuzz/` check the same laws with coverage guidance;
//! every input they find lands in `regression_fuzz.rs`.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use std::time::{Duration, Instant};
use uml_syntax::lexer::{self, KEYWORDS};
use uml_syntax::{Code, FileId, MAX_NESTING, MAX_SOURCE_LEN, Parsed, Span, format, parse, parse_expr};

const FILE: FileId = FileId(0);

/// The stack the deterministic tests run on: far less than the 2 MiB a
/// spawned thread gets by default, so a recursion that the nesting limit
/// fails to bound overflows here first.
const SMALL_STACK: usize = 256 * 1024;

/// The stack the formatter gets: what a spawned thread has by default. An
/// unoptimized formatter needs a few KiB per nesting level, more than
/// [`SMALL_STACK`] holds at the deepest nesting the parser accepts.
const FORMAT_STACK: usize = 2 * 1024 * 1024;

/// Wall-clock budget for one deterministic test (an unoptimized build on a
/// busy machine). Linear work takes a small fraction of it; anything
/// quadratic on these megabyte inputs takes far longer.
const BUDGET: Duration = Duration::from_secs(60);

/// The real rule sources: the seeds of the mutation tests and of the large
/// generated files.
const RULE_FILES: &[&str] = &[
    include_str!("../../../rules/schema.uml"),
    include_str!("../../../rules/model_container.uml"),
    include_str!("../../../rules/build.uml"),
    include_str!("../../../rules/gpu_build.uml"),
    include_str!("../../../rules/deploy.uml"),
    include_str!("../../../rules/pod_lifecycle_watcher.uml"),
];

// ---------------------------------------------------------------------------
// Checks

fn assert_span(src: &str, span: Span, what: &str) {
    let (start, end) = (span.start as usize, span.end as usize);
    assert!(start <= end, "{what} span {span:?} is reversed");
    assert!(end <= src.len(), "{what} span {span:?} ends past the source ({} bytes)", src.len());
    assert!(src.is_char_boundary(start) && src.is_char_boundary(end), "{what} span {span:?} splits a character");
}

/// Lexes and parses `src`, checking every span the front end reports.
fn check(src: &str) -> Parsed<'_> {
    for (span, _) in lexer::lex(src) {
        assert_span(src, span, "token");
    }
    let parsed = parse(FILE, src);
    check_parsed(src, &parsed);
    if let Err(diagnostics) = parse_expr(FILE, src) {
        for label in diagnostics.iter().flat_map(|d| &d.labels) {
            assert_span(src, label.span, "expression diagnostic");
        }
    }
    parsed
}

fn check_parsed(src: &str, parsed: &Parsed<'_>) {
    for d in &parsed.diagnostics {
        assert!(!d.labels.is_empty() || d.code == Code::TooManyErrors, "{} has no label: {}", d.code, d.message);
        for label in &d.labels {
            assert_span(src, label.span, d.code.as_str());
        }
    }
    for comment in &parsed.file.comments {
        assert_span(src, comment.span, "comment");
        assert!(src[comment.span.range()].starts_with('#'), "comment span {:?} does not start at `#`", comment.span);
    }
    for item in &parsed.file.items {
        assert_span(src, item.span(), "item");
    }
}

/// Runs `f` on a thread with a `stack`-byte stack and fails if it
/// overflows (which aborts the test binary), panics or runs over [`BUDGET`].
fn on_stack(name: &str, stack: usize, f: impl FnOnce() + Send + 'static) {
    let start = Instant::now();
    let thread = std::thread::Builder::new().name(name.into()).stack_size(stack).spawn(f).expect("spawn");
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
    let elapsed = start.elapsed();
    assert!(elapsed < BUDGET, "{name} took {elapsed:?}");
}

/// Parses `src` on a [`SMALL_STACK`] thread, checks it and drops the tree
/// there too; if it parsed cleanly, formats it on a [`FORMAT_STACK`] thread
/// and parses the result. Returns the codes the first parse reported.
fn parse_on_small_stack(name: &str, src: String) -> Vec<Code> {
    let src = std::sync::Arc::new(src);
    let (send, receive) = std::sync::mpsc::channel();
    let text = src.clone();
    on_stack(name, SMALL_STACK, move || {
        let parsed = check(&text);
        send.send(parsed.diagnostics.iter().map(|d| d.code).collect::<Vec<_>>()).expect("receiver lives");
        drop(parsed);
    });
    let codes = receive.recv().expect("the thread sent its codes");
    if codes.is_empty() {
        on_stack(name, FORMAT_STACK, move || {
            let formatted = format::format(&parse(FILE, &src).file, &src);
            let reparsed = parse(FILE, &formatted);
            assert!(reparsed.diagnostics.is_empty(), "{:?}\n{formatted}", reparsed.diagnostics);
        });
    }
    codes
}

// ---------------------------------------------------------------------------
// Strategies

/// Every punctuation token, as written.
const PUNCTUATION: &[&str] = &[
    "{", "}", "(", ")", "[", "]", ",", ":", ".", "=", "==", "!=", "<", "<=", ">", ">=", "=~", "!~", "&&", "||", "!",
    "??", "?", "|", "*",
];

/// Tokens with a payload, malformed literals and characters no token takes.
const OTHER_TOKENS: &[&str] = &[
    "x",
    "j",
    "_a1",
    "parse_json",
    "level",
    "%line",
    "%pod",
    "%",
    "0",
    "-1",
    "42",
    "9223372036854775808",
    "-9223372036854775809",
    "1.5",
    "-2e10",
    "1e999",
    "256KiB",
    "99999999999999999999KiB",
    "2s",
    "\"\"",
    "\"text\"",
    "\"a {x} b\"",
    "\"{j.a[0]}\"",
    "\"{payload.message}\"",
    "\"{%pod}\"",
    "\"{}\"",
    "\"{f(x)}\"",
    "\"{\"",
    "\"}\"",
    "\"\\{\\}\"",
    "\"\\n\\t\\u{1F600}\"",
    "\"\\u{D800}\"",
    "\"\\u{110000}\"",
    "\"\\u12\"",
    "\"\\q\"",
    "\"é\\é\"",
    "\"unterminated",
    "\"ends in a backslash\\",
    "\"escaped quote\\\"",
    "'raw'",
    "'{\"json\": 1}'",
    "'unterminated",
    "r'^(?P<a>x)$'",
    "r'open",
    "# a comment\n",
    "#",
    "@",
    ";",
    "é",
    "\u{0}",
    "\\",
    "`",
];

fn token_text() -> impl Strategy<Value = &'static str> {
    let vocabulary: Vec<&'static str> = KEYWORDS.iter().chain(PUNCTUATION).chain(OTHER_TOKENS).copied().collect();
    select(vocabulary)
}

fn separator() -> impl Strategy<Value = &'static str> {
    select(vec![" ", " ", " ", "\n", "\n  ", "", "\t", "\r\n"])
}

/// Token texts joined by random whitespace: mostly well-formed tokens in
/// an arbitrary order, which drives the parser through its error paths.
fn token_soup() -> impl Strategy<Value = String> {
    vec((token_text(), separator()), 0..300).prop_map(|tokens| {
        let mut src = String::new();
        for (token, sep) in tokens {
            src.push_str(token);
            src.push_str(sep);
        }
        src
    })
}

/// One edit of a source text at a random place.
#[derive(Clone, Debug)]
enum Edit {
    Delete(Index, usize),
    Duplicate(Index, usize),
    Insert(Index, &'static str),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), 1..40usize).prop_map(|(at, len)| Edit::Delete(at, len)),
        (any::<Index>(), 1..200usize).prop_map(|(at, len)| Edit::Duplicate(at, len)),
        (any::<Index>(), token_text()).prop_map(|(at, text)| Edit::Insert(at, text)),
        (any::<Index>(), token_text()).prop_map(|(at, text)| Edit::Insert(at, text)),
    ]
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(src: &mut String, edit: &Edit) {
    let at = |index: &Index, src: &String| floor_boundary(src, index.index(src.len() + 1));
    match edit {
        Edit::Delete(index, len) => {
            let start = at(index, src);
            let end = floor_boundary(src, start + len);
            src.replace_range(start..end, "");
        }
        Edit::Duplicate(index, len) => {
            let start = at(index, src);
            let end = floor_boundary(src, start + len);
            let copy = src[start..end].to_string();
            src.insert_str(end, &copy);
        }
        Edit::Insert(index, text) => {
            let start = at(index, src);
            src.insert_str(start, &format!(" {text} "));
        }
    }
}

/// A real rule file with a few random edits: mostly valid, broken in one
/// or two places, which exercises recovery inside real constructs.
fn mutated_rules() -> impl Strategy<Value = String> {
    (any::<Index>(), vec(edit(), 1..6)).prop_map(|(file, edits)| {
        let mut src = RULE_FILES[file.index(RULE_FILES.len())].to_string();
        for e in &edits {
            apply(&mut src, e);
        }
        src
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..4096)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_text_never_panics(src in "(?s).{0,2000}") {
        check(&src);
    }

    #[test]
    fn random_ascii_never_panics(src in "[ -~\n\t]{0,3000}") {
        check(&src);
    }

    #[test]
    fn token_sequences_never_panic(src in token_soup()) {
        check(&src);
    }

    #[test]
    fn edited_rule_files_never_panic(src in mutated_rules()) {
        check(&src);
    }
}

#[test]
fn vocabulary_spells_fixed_tokens() {
    for text in KEYWORDS.iter().chain(PUNCTUATION) {
        let tokens: Vec<_> = lexer::lex(text).collect();
        let [(_, Ok(token))] = tokens.as_slice() else { panic!("`{text}` is not one token: {tokens:?}") };
        assert_eq!(token.text(), Some(*text));
    }
}

// ---------------------------------------------------------------------------
// Stack killers and huge files

#[test]
fn hundred_thousand_open_parens() {
    let codes = parse_on_small_stack("parens", "(".repeat(100_000));
    assert!(codes.contains(&Code::NestingTooDeep), "{codes:?}");
    let codes = parse_on_small_stack("parens in a rule", format!("rule r {{ let x = {}", "(".repeat(100_000)));
    assert!(codes.contains(&Code::NestingTooDeep), "{codes:?}");
}

#[test]
fn hundred_thousand_bangs() {
    let codes = parse_on_small_stack("bangs", "!".repeat(100_000));
    assert!(!codes.is_empty());
    let codes = parse_on_small_stack("bangs in a rule", format!("rule r {{ let x = {}a }}", "!".repeat(100_000)));
    assert_eq!(codes, [Code::NestingTooDeep]);
}

#[test]
fn hundred_thousand_open_brackets() {
    let codes = parse_on_small_stack("brackets", format!("rule r {{ let x = {}", "[".repeat(100_000)));
    assert_eq!(codes, [Code::NestingTooDeep]);
    let codes = parse_on_small_stack("brackets alone", "[".repeat(100_000));
    assert!(!codes.is_empty());
}

#[test]
fn hundred_thousand_open_braces() {
    let codes = parse_on_small_stack("braces", "{".repeat(100_000));
    assert!(!codes.is_empty());
    let codes = parse_on_small_stack("objects", format!("rule r {{ let x = {}", "{ a: ".repeat(100_000)));
    assert_eq!(codes, [Code::NestingTooDeep]);
}

#[test]
fn long_coalesce_chain() {
    // 1.5 MB of `a ?? `: a flat n-ary chain, so no depth at all.
    let chain = "a ?? ".repeat(300_000);
    let codes = parse_on_small_stack("chain", format!("rule r {{\n  let x = {chain}b\n}}\n"));
    assert_eq!(codes, []);
    let codes = parse_on_small_stack("chain alone", chain.clone());
    assert!(!codes.is_empty());
    on_stack("chain expression", SMALL_STACK, move || {
        let src = format!("{chain}b");
        assert!(parse_expr(FILE, &src).is_ok());
    });
}

#[test]
fn deeply_nested_if_statements() {
    let deep = format!("rule r {{\n{}\n", "if a {\n".repeat(100_000));
    let codes = parse_on_small_stack("ifs", deep);
    assert_eq!(codes, [Code::NestingTooDeep]);
    let deep_else = format!("rule r {{\n{}\n", "if a { emit } else {\n".repeat(100_000));
    let codes = parse_on_small_stack("else blocks", deep_else);
    assert_eq!(codes, [Code::NestingTooDeep]);
}

#[test]
fn deeply_nested_if_expressions() {
    let src = format!("rule r {{ let x = {}", "if a { 1 } else { ".repeat(100_000));
    let codes = parse_on_small_stack("if expressions", src);
    assert_eq!(codes, [Code::NestingTooDeep]);
}

/// The deepest tree of each kind the parser accepts is parsed, formatted
/// and dropped on the small stack.
#[test]
fn deepest_accepted_nesting() {
    // The rule's own `{` is one level.
    let levels = MAX_NESTING - 1;
    let cases = [
        ("parens", format!("rule r {{ let x = {}a{} }}", "(".repeat(levels), ")".repeat(levels))),
        ("arrays", format!("rule r {{ let x = {}1{} }}", "[".repeat(levels), "]".repeat(levels))),
        ("objects", format!("rule r {{ let x = {}1{} }}", "{ a: ".repeat(levels), " }".repeat(levels))),
        ("calls", format!("rule r {{ let x = {}a{} }}", "f(".repeat(levels), ")".repeat(levels))),
        ("blocks", format!("rule r {{\n{}emit\n{}}}", "if a {\n".repeat(levels), "}\n".repeat(levels))),
        ("bangs", format!("rule r {{ let x = {}a }}", "!".repeat(levels))),
        ("bangs and parens", format!("rule r {{ let x = {}a{} }}", "!(".repeat(levels / 2), ")".repeat(levels / 2))),
        (
            "if expressions",
            format!("rule r {{ let x = {}1{} }}", "if a { 1 } else { ".repeat(levels), " }".repeat(levels)),
        ),
    ];
    for (name, src) in cases {
        let codes = parse_on_small_stack(name, src);
        assert_eq!(codes, [], "{name}");
    }
}

/// A rule set written out to at least `len` bytes: the real rule files
/// again and again, each copy's rules and tests renamed apart.
fn repeated_rules(len: usize) -> String {
    let mut src = String::with_capacity(len + 8192);
    let mut copy = 0;
    while src.len() < len {
        for file in RULE_FILES {
            let renamed = file
                .replace("\nrule ", &format!("\nrule r{copy}_"))
                .replace("\ntest \"", &format!("\ntest \"{copy}: "));
            src.push_str(&renamed);
            src.push('\n');
        }
        copy += 1;
    }
    src
}

#[test]
fn large_valid_file_parses() {
    let mut src = repeated_rules(3_900_000);
    while src.len() > 3_950_000 {
        // Trim to whole items: cut at the last top-level item start.
        let cut = src[..src.len() - 1].rfind("\nrule ").expect("a rule to cut at");
        src.truncate(cut + 1);
    }
    assert!(src.len() >= 3_800_000 && src.len() <= MAX_SOURCE_LEN, "{} bytes", src.len());
    let started = Instant::now();
    on_stack("large valid file", SMALL_STACK, move || {
        let parsed = check(&src);
        assert!(parsed.diagnostics.is_empty(), "{:?}", &parsed.diagnostics[..parsed.diagnostics.len().min(3)]);
        assert!(parsed.file.items.len() > 1000, "{} items", parsed.file.items.len());
    });
    eprintln!("3.9 MB file: lexed, parsed twice and dropped in {:?}", started.elapsed());
}

#[test]
fn ten_megabyte_file_is_refused() {
    let src = repeated_rules(10_000_000);
    on_stack("ten megabytes", SMALL_STACK, move || {
        let parsed = parse(FILE, &src);
        assert!(parsed.file.items.is_empty());
        let codes: Vec<Code> = parsed.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::SourceTooLarge]);
        check_parsed(&src, &parsed);
        // The lexer has no limit of its own and must cope too.
        assert!(lexer::lex(&src).all(|(span, token)| token.is_ok() && span.end as usize <= src.len()));
    });
}
