//! Inputs that once broke the front end, each with the law it broke.
//!
//! Every crash, hang or stack overflow found by the fuzz targets in `fuzz/`
//! (or by the property tests in `no_panic.rs`) is minimised and kept here,
//! inline, under a name that says what it exercises. Trees are parsed,
//! formatted and dropped on a small stack, like the stack killers in
//! `no_panic.rs`.

use uml_syntax::ast::{ExprKind, Item, Literal, StmtKind};
use uml_syntax::{Code, FileId, MAX_NESTING, Parsed, format, parse, spanless};

const FILE: FileId = FileId(0);

/// Far less than the 2 MiB a spawned thread gets by default.
const SMALL_STACK: usize = 256 * 1024;

/// Runs `f` on a thread with a [`SMALL_STACK`]; an overflow aborts the test.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let thread = std::thread::Builder::new().stack_size(SMALL_STACK).spawn(f).expect("spawn");
    thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The codes `parse` reports for `src`, parsing and dropping the tree on a
/// small stack.
fn codes(src: String) -> Vec<Code> {
    on_small_stack(move || parse(FILE, &src).diagnostics.iter().map(|d| d.code).collect())
}

/// The formatter's laws on `src`, which must parse without errors.
fn assert_round_trip(src: &str) {
    let parsed: Parsed<'_> = parse(FILE, src);
    assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
    let formatted = format::format(&parsed.file, src);
    let reparsed = parse(FILE, &formatted);
    assert!(!reparsed.has_errors(), "{:?}\n{formatted}", reparsed.diagnostics);
    assert!(spanless::eq(&parsed.file, &reparsed.file), "{formatted}");
    assert_eq!(format::format(&reparsed.file, &formatted), formatted);
}

/// Error recovery drops the `)`s it cannot use after `let y =`; the nesting
/// count took each as closing an `if` block, so blocks nested without limit
/// (6 000 deep for 100 repetitions, which overflowed the stack when the tree
/// was dropped, after parsing in quadratic time). A closing bracket now only
/// counts when it matches the innermost open one.
#[test]
fn parse_dropped_closers_do_not_reopen_nesting() {
    let unit = format!("{}let y = {}", "if a { ".repeat(60), ") ".repeat(60));
    let src = format!("rule r {{ {}\n", unit.repeat(100));
    assert!(codes(src).contains(&Code::NestingTooDeep));
}

/// Each `!` before a `(` nests one level more in the tree, but only the
/// brackets counted, so a run of bangs at every level gave a tree some
/// 2 000 levels deep, which the formatter could not print on a 2 MiB stack.
#[test]
fn parse_bangs_before_brackets_count_toward_nesting() {
    let mut src = String::from("rule r { let x = ");
    for depth in 0..MAX_NESTING - 1 {
        src.push_str(&"!".repeat(MAX_NESTING - 1 - depth));
        src.push('(');
    }
    src.push('a');
    src.push_str(&")".repeat(MAX_NESTING - 1));
    src.push_str(" }");
    assert_eq!(codes(src), [Code::NestingTooDeep]);

    // `!(` is two levels, so half the limit of them is too many…
    let half = MAX_NESTING / 2;
    let src = format!("rule r {{ let x = {}a{} }}", "!(".repeat(half), ")".repeat(half));
    assert_eq!(codes(src), [Code::NestingTooDeep]);
    // …and one fewer (with the rule's own brace) fits.
    let src = format!("rule r {{ let x = {}a{} }}", "!(".repeat(half - 1), ")".repeat(half - 1));
    assert_eq!(codes(src.clone()), []);
    assert_round_trip(&src);
}

/// The `!` of an aborting call negates nothing: `f!(` is one level.
#[test]
fn parse_abort_calls_nest_like_calls() {
    let levels = MAX_NESTING - 1;
    let src = format!("rule r {{ let x = {}a{} }}", "f!(".repeat(levels), ")".repeat(levels));
    assert_eq!(codes(src.clone()), []);
    assert_round_trip(&src);
}

/// An unmatched `}` in a string is reported and kept as a literal brace;
/// the text before it was copied twice (`"a}b"` decoded to `a}a}b`).
#[test]
fn parse_unmatched_brace_in_string_keeps_the_text() {
    let src = "rule r { payload.x = \"a}b\" }";
    let parsed = parse(FILE, src);
    let codes: Vec<Code> = parsed.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::InvalidTemplateHole]);
    let [Item::Rule(rule)] = parsed.file.items.as_slice() else { panic!("{:?}", parsed.file.items) };
    let StmtKind::Assign { value, .. } = &rule.body[0].kind else { panic!("{:?}", rule.body) };
    let ExprKind::Literal(Literal::Str(text, _)) = &value.kind else { panic!("{value:?}") };
    assert_eq!(text, "a}b");
}

/// The `(` and `[` an error leaves open are closed with the `}` around
/// them. A closing bracket used to close the innermost open one whatever
/// its kind, so each of these lines left two brackets open and the 32nd
/// reported a false "nesting too deep"; counting only exact matches (the
/// first fix of `parse_dropped_closers_do_not_reopen_nesting`) did the same.
#[test]
fn parse_brackets_left_open_by_errors_close_with_their_block() {
    let line = "if a { let x = f(a, [b }\n";
    let found = codes(format!("rule r {{\n{}}}\n", line.repeat(40)));
    assert!(!found.contains(&Code::NestingTooDeep), "{found:?}");
    assert!(found.iter().all(|&c| c == Code::UnexpectedToken), "{found:?}");
    // On one line, where only the first error is reported.
    let found = codes(format!("rule r {{ {} }}\n", line.trim_end().repeat(1000)));
    assert_eq!(found, [Code::UnexpectedToken]);
}
