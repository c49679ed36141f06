//! The formatter: expected outputs for hand-written cases, and its laws.
//!
//! - Every `tests/format/NAME.uml` formats to `NAME.expected.uml`, which is a
//!   fixed point. Run with `UPDATE_EXPECT=1` to rewrite the expected files
//!   from the formatter's output, then review the diff.
//! - Every text that is formatted, here or in a property, must obey the
//!   laws checked by [`check_laws`]: the output parses cleanly to the same
//!   tree (up to layout, see `spanless`), keeps every comment, and formats
//!   to itself. The repository's own rule files are checked too.
//! - Properties over generated trees: printing then parsing gives the tree
//!   back, and comments and blank lines inserted anywhere between tokens
//!   survive.

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use std::path::Path;
use uml_syntax::ast::File;
use uml_syntax::format::format;
use uml_syntax::lexer::{self, Token};
use uml_syntax::{FileId, parse, spanless};

/// Checks the formatter's laws on `src` and returns its formatted text.
fn check_laws(src: &str) -> Result<String, String> {
    let input = parse(FileId(0), src);
    if !input.diagnostics.is_empty() {
        return Err(format!("the input does not parse: {:#?}", input.diagnostics));
    }
    let formatted = format(&input.file, src);
    let output = parse(FileId(0), &formatted);
    if !output.diagnostics.is_empty() {
        return Err(format!("the output does not parse: {:#?}\n{formatted}", output.diagnostics));
    }
    if !spanless::eq(&input.file, &output.file) {
        return Err(format!(
            "the output's tree differs:\n{formatted}\ninput: {:#?}\noutput: {:#?}",
            stripped(&input.file),
            stripped(&output.file)
        ));
    }
    let (before, after) = (comment_texts(&input.file, src), comment_texts(&output.file, &formatted));
    if before != after {
        return Err(format!("comments changed:\n{formatted}\nbefore: {before:#?}\nafter: {after:#?}"));
    }
    let again = format(&output.file, &formatted);
    if again != formatted {
        return Err(format!("formatting is not idempotent:\n--- once\n{formatted}--- twice\n{again}---"));
    }
    Ok(formatted)
}

/// `file` without its layout, for comparisons that print a useful diff.
fn stripped<'src>(file: &File<'src>) -> File<'src> {
    let mut file = file.clone();
    spanless::strip_layout(&mut file);
    file
}

/// The texts of the comments of `file`, sorted: the formatter may move a
/// comment past another one, but never drops or changes one.
fn comment_texts<'a>(file: &File<'_>, src: &'a str) -> Vec<&'a str> {
    let mut texts: Vec<&str> = file.comments.iter().map(|c| src[c.span.range()].trim_end()).collect();
    texts.sort_unstable();
    texts
}

// ---------------------------------------------------------------------------
// Cases

fn cases_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/format"))
}

#[test]
fn cases() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut inputs: Vec<_> = std::fs::read_dir(cases_dir())
        .expect("tests/format exists")
        .map(|entry| entry.expect("readable directory").path())
        .filter(|p| p.extension().is_some_and(|e| e == "uml") && !p.to_string_lossy().ends_with(".expected.uml"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 12, "expected at least 12 cases, found {}", inputs.len());

    let mut failures = Vec::new();
    for input in &inputs {
        let name = input.file_stem().expect("a file name").to_string_lossy().into_owned();
        let expected_path = input.with_extension("expected.uml");
        let src = std::fs::read_to_string(input).expect("readable case");
        let formatted = match check_laws(&src) {
            Ok(formatted) => formatted,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        if update {
            std::fs::write(&expected_path, &formatted).expect("writable expected file");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if formatted != expected {
            failures.push(format!("{name}: expected\n{expected}--- got\n{formatted}---"));
            continue;
        }
        match check_laws(&expected) {
            Ok(again) if again == expected => {}
            Ok(again) => failures.push(format!("{name}: the expected output is not a fixed point:\n{again}")),
            Err(e) => failures.push(format!("{name}.expected: {e}")),
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), inputs.len(), failures.join("\n\n"));
}

#[test]
fn schema_rules_are_formatted() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules/schema.uml");
    let src = std::fs::read_to_string(path).expect("rules/schema.uml exists");
    assert_eq!(check_laws(&src).unwrap_or_else(|e| panic!("{e}")), src);
}

/// The rule files of the repository are real code, comments and all.
#[test]
fn repository_rules_obey_the_laws() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let mut checked = 0;
    let entries = std::fs::read_dir(root.join("rules")).expect("the rules directory");
    for path in entries.map(|entry| entry.expect("readable directory").path()) {
        if path.extension().is_some_and(|e| e == "uml") {
            let src = std::fs::read_to_string(&path).expect("readable rule file");
            check_laws(&src).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            checked += 1;
        }
    }
    assert!(checked > 0, "no rule files found under {}", root.display());
}

#[test]
fn empty_file() {
    assert_eq!(check_laws("").as_deref(), Ok(""));
    assert_eq!(check_laws("\n\n  \n").as_deref(), Ok(""));
    assert_eq!(check_laws("# only a comment").as_deref(), Ok("# only a comment\n"));
}

#[test]
fn crlf_line_endings() {
    let src = "rule r {\r\n  # Why.\r\n  emit # Now.\r\n}\r\n";
    assert_eq!(check_laws(src).as_deref(), Ok("rule r {\n  # Why.\n  emit # Now.\n}\n"));
}

// ---------------------------------------------------------------------------
// Properties

// 256 cases each by default; set PROPTEST_CASES to search longer.
proptest! {
    /// Printing a tree and parsing the text gives the tree back, and the
    /// text is already formatted.
    #[test]
    fn print_parse_round_trip(file in arb::file()) {
        let text = format(&file, "");
        let parsed = parse(FileId(0), &text);
        prop_assert!(parsed.diagnostics.is_empty(), "{text}\n{:#?}", parsed.diagnostics);
        prop_assert_eq!(stripped(&parsed.file), file, "{}", text);
        prop_assert_eq!(format(&parsed.file, &text), text);
    }

    /// Comments and blank lines inserted between any two tokens are kept
    /// (at most one blank line in a row), and the laws hold.
    #[test]
    fn comments_survive_anywhere(
        file in arb::file(),
        spots in prop::collection::vec((any::<Index>(), 0..4u8), 1..10),
    ) {
        let text = format(&file, "");
        let commented = insert_comments(&text, &spots);
        let parsed = parse(FileId(0), &commented);
        prop_assert!(parsed.diagnostics.is_empty(), "{commented}\n{:#?}", parsed.diagnostics);
        prop_assert_eq!(stripped(&parsed.file), file);
        if let Err(e) = check_laws(&commented) {
            return Err(TestCaseError::fail(format!("{e}\n--- input\n{commented}")));
        }
    }
}

/// Inserts, for each spot, one of: a comment on a line of its own before a
/// token (0), the same between blank lines (1), a comment at the end of a
/// line (2), a blank line before a token (3).
fn insert_comments(text: &str, spots: &[(Index, u8)]) -> String {
    let mut token_starts: Vec<usize> = lexer::lex(text)
        .filter(|(_, token)| !matches!(token, Ok(Token::Comment(_))))
        .map(|(span, _)| span.start as usize)
        .collect();
    token_starts.push(text.len());
    let line_ends: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
    let mut inserts: Vec<(usize, String)> = Vec::new();
    for (n, &(index, kind)) in spots.iter().enumerate() {
        let comment = format!("# c{n} \"'{{}}\\ é");
        let before_token = token_starts[index.index(token_starts.len())];
        inserts.push(match kind {
            2 if !line_ends.is_empty() => (line_ends[index.index(line_ends.len())], format!(" {comment}")),
            1 => (before_token, format!("\n\n{comment}\n\n")),
            3 => (before_token, "\n\n".to_owned()),
            _ => (before_token, format!("{comment}\n")),
        });
    }
    // Inserting from the back keeps the earlier positions valid.
    inserts.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let mut out = text.to_owned();
    for (at, insert) in inserts {
        out.insert_str(at, &insert);
    }
    out
}

/// Debug-output fragments that only appear when the generator made the
/// corresponding variant.
const VARIANTS: &[&str] = &[
    "Schema(Schema {",
    "Rule(Rule {",
    "Test(Test {",
    "kind: Labels",
    "kind: Payload",
    "name: Named(Key {",
    "Wildcard(",
    "optional: true",
    "ty: Named(",
    "ty: Literal(",
    "ty: Union(",
    "When(",
    "Framing(",
    "Multiline {",
    "preset: Some(",
    "options: Some(",
    "MaxRecordSize(",
    "Let {",
    "err: Some(",
    "Assign {",
    "root: Labels",
    "root: Payload",
    "Block {",
    "otherwise: Some(Block",
    "Drop {",
    "Emit",
    "Input(",
    "Expect(",
    "ExpectDrop(",
    "Template([",
    "Text(",
    "Hole(",
    "Array(",
    "Object(",
    "Var(",
    "Meta(",
    "Output(Output",
    "Path {",
    "Field(Key",
    "Index(",
    "Call {",
    "abort: true",
    "name: Some(Ident",
    "Not(",
    "Compare {",
    "op: Eq",
    "op: NotEq",
    "op: Lt",
    "op: Le",
    "op: Gt",
    "op: Ge",
    "op: Match",
    "op: NotMatch",
    "Chain {",
    "op: Coalesce",
    "op: Or",
    "op: And",
    "otherwise: Expr {",
    "Group(",
    "Null",
    "Bool(",
    "Int(",
    "Float(",
    "Str(",
    "Raw)",
    "Cooked)",
    "Regex(",
    "Quantity {",
    "quoted: true",
    "quoted: false",
];

/// The properties only say something about the trees the generator makes.
#[test]
fn generator_covers_every_variant() {
    let mut runner = TestRunner::deterministic();
    let strategy = arb::file();
    let mut missing: Vec<&str> = VARIANTS.to_vec();
    for _ in 0..500 {
        let file = strategy.new_tree(&mut runner).expect("a tree").current();
        let debug = format!("{file:?}");
        missing.retain(|fragment| !debug.contains(fragment));
    }
    assert!(missing.is_empty(), "no generated tree has {missing:?}");
}

/// Generators of trees the parser can produce: every grammar constraint
/// holds (keys are quoted exactly when they must be, chains nest only by
/// precedence, template holes are paths, …), spans are [`Span::DUMMY`] and
/// there are no comments.
mod arb {
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::select;
    use std::borrow::Cow;
    use uml_syntax::Span;
    use uml_syntax::ast::*;
    use uml_syntax::lexer::KEYWORDS;

    /// Identifiers, including ones that look like keywords or regex prefixes.
    const IDENTS: &[&str] =
        &["a", "x", "r", "_", "_tmp", "j", "err", "model_version_id", "string", "parse_json", "iff", "nulls", "Labels"];
    /// Metadata names; `%if` is one token, so keywords are fine.
    const METAS: &[&str] = &["pod", "line", "traceback", "if", "x1"];
    const REGEXES: &[&str] = &[
        "",
        "^org-[0-9a-f]{32}$",
        r"(?P<id>[a-z0-9]+)-\d",
        "a|b",
        "{",
        "\"",
        "# not a comment",
        r"\",
        r"(?i)\b(error)\b",
    ];
    const UNITS: &[&str] = &["B", "KiB", "MiB", "ms", "s", "m"];
    const COMPARE_OPS: &[CompareOp] = &[
        CompareOp::Eq,
        CompareOp::NotEq,
        CompareOp::Lt,
        CompareOp::Le,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Match,
        CompareOp::NotMatch,
    ];
    const EXPR_DEPTH: u32 = 3;
    const STMT_DEPTH: u32 = 2;

    pub fn file() -> impl Strategy<Value = File<'static>> {
        let expr = expr(EXPR_DEPTH);
        let item = prop_oneof![
            schema().prop_map(Item::Schema),
            rule(expr.clone()).prop_map(Item::Rule),
            test(expr).prop_map(Item::Test),
        ];
        vec(item, 0..4).prop_map(|items| File { items, comments: Vec::new() })
    }

    // -- Names and text -------------------------------------------------------

    fn ident() -> impl Strategy<Value = Ident<'static>> + Clone {
        select(IDENTS).prop_map(|name| Ident { name, span: Span::DUMMY })
    }

    /// An identifier or a keyword: what a key can be without quotes.
    fn bare_name() -> impl Strategy<Value = &'static str> + Clone {
        prop_oneof![select(IDENTS), select(KEYWORDS)]
    }

    fn bare_key() -> impl Strategy<Value = Key<'static>> + Clone {
        bare_name().prop_map(|name| Key { name: Cow::Borrowed(name), quoted: false, span: Span::DUMMY })
    }

    /// Any key; the formatter quotes exactly the names that need it.
    fn key() -> impl Strategy<Value = Key<'static>> + Clone {
        prop_oneof![
            2 => bare_key(),
            1 => text().prop_map(|name| {
                let quoted = !is_bare(&name);
                Key { name: Cow::Owned(name), quoted, span: Span::DUMMY }
            }),
        ]
    }

    fn is_bare(name: &str) -> bool {
        let mut chars = name.chars();
        chars.next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
            && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
    }

    /// Text with the characters that need escapes, or braces, or are not ASCII.
    fn text() -> impl Strategy<Value = String> + Clone {
        let special = ['"', '\'', '{', '}', '\\', '\n', '\t', '\r', '\0', '\u{1b}', '\u{7f}', '\u{85}', '#', 'é', '😀'];
        let c = prop_oneof![
            8 => prop::char::range('a', 'z'),
            1 => Just(' '),
            4 => select(special.to_vec()),
            1 => select(vec!['\u{2028}', '\u{feff}', '\u{202e}']),
            1 => any::<char>(),
        ];
        vec(c, 0..10).prop_map(String::from_iter)
    }

    /// Text a `'raw'` string can hold: no quote, no newline.
    fn raw_text() -> impl Strategy<Value = String> + Clone {
        text().prop_map(|s| s.replace(['\'', '\n'], ""))
    }

    fn str_lit() -> impl Strategy<Value = StrLit<'static>> + Clone {
        prop_oneof![
            text().prop_map(|s| StrLit { value: Cow::Owned(s), style: StrStyle::Cooked, span: Span::DUMMY }),
            raw_text().prop_map(|s| StrLit { value: Cow::Owned(s), style: StrStyle::Raw, span: Span::DUMMY }),
        ]
    }

    fn float() -> impl Strategy<Value = f64> + Clone {
        prop_oneof![
            select(vec![
                0.0,
                -0.0,
                1.0,
                -2.5,
                0.1,
                1e300,
                1.5e-7,
                1e16,
                123456789.0,
                f64::MAX,
                f64::MIN_POSITIVE,
                5e-324
            ]),
            any::<f64>().prop_filter("finite", |f| f.is_finite()),
        ]
    }

    /// A literal that is one token: what a literal type can be, besides strings.
    fn scalar() -> impl Strategy<Value = Literal<'static>> + Clone {
        prop_oneof![
            Just(Literal::Null),
            any::<bool>().prop_map(Literal::Bool),
            any::<i64>().prop_map(Literal::Int),
            float().prop_map(Literal::Float),
        ]
    }

    fn literal() -> impl Strategy<Value = Literal<'static>> + Clone {
        prop_oneof![
            4 => scalar(),
            2 => text().prop_map(|s| Literal::Str(Cow::Owned(s), StrStyle::Cooked)),
            1 => raw_text().prop_map(|s| Literal::Str(Cow::Owned(s), StrStyle::Raw)),
            1 => select(REGEXES).prop_map(Literal::Regex),
            1 => (any::<u64>(), select(UNITS)).prop_map(|(value, unit)| Literal::Quantity { value, unit }),
        ]
    }

    // -- Expressions ----------------------------------------------------------

    fn expr_of(kind: ExprKind<'static>) -> Expr<'static> {
        Expr { kind, span: Span::DUMMY }
    }

    fn output() -> impl Strategy<Value = Output<'static>> + Clone {
        (prop_oneof![Just(OutputRoot::Labels), Just(OutputRoot::Payload)], key()).prop_map(|(root, key)| Output {
            root,
            key,
            span: Span::DUMMY,
        })
    }

    fn path(base: Expr<'static>, segments: Vec<Segment<'static>>) -> Expr<'static> {
        if segments.is_empty() { base } else { expr_of(ExprKind::Path { base: Box::new(base), segments }) }
    }

    /// A template hole: a variable, `%meta` or output with `.key` and
    /// `[index]` segments, keys being bare.
    fn hole() -> impl Strategy<Value = Expr<'static>> + Clone {
        let root = prop_oneof![
            ident().prop_map(ExprKind::Var),
            select(METAS).prop_map(|name| ExprKind::Meta(Ident { name, span: Span::DUMMY })),
            (prop_oneof![Just(OutputRoot::Labels), Just(OutputRoot::Payload)], bare_key())
                .prop_map(|(root, key)| ExprKind::Output(Output { root, key, span: Span::DUMMY })),
        ];
        let segment = prop_oneof![
            bare_key().prop_map(Segment::Field),
            any::<i64>().prop_map(|i| Segment::Index(i, Span::DUMMY)),
        ];
        (root, vec(segment, 0..3)).prop_map(|(root, segments)| path(expr_of(root), segments))
    }

    /// A string with at least one hole, texts between holes not empty.
    fn template() -> impl Strategy<Value = ExprKind<'static>> + Clone {
        let part = prop_oneof![
            text().prop_filter("not empty", |t| !t.is_empty()).prop_map(|t| TemplatePart::Text(Cow::Owned(t))),
            hole().prop_map(TemplatePart::Hole),
        ];
        (vec(part.clone(), 0..3), hole(), vec(part, 0..3)).prop_map(|(before, hole, after)| {
            let mut parts: Vec<TemplatePart<'static>> = Vec::new();
            for part in before.into_iter().chain([TemplatePart::Hole(hole)]).chain(after) {
                match (parts.last_mut(), part) {
                    (Some(TemplatePart::Text(prev)), TemplatePart::Text(t)) => prev.to_mut().push_str(&t),
                    (_, part) => parts.push(part),
                }
            }
            ExprKind::Template(parts)
        })
    }

    fn entry(value: BoxedStrategy<Expr<'static>>) -> impl Strategy<Value = Entry<'static>> + Clone {
        (key(), value).prop_map(|(key, value)| Entry { key, value })
    }

    fn entries(value: BoxedStrategy<Expr<'static>>) -> impl Strategy<Value = Vec<Entry<'static>>> + Clone {
        vec(entry(value), 0..4)
    }

    /// An expression at most `depth` brackets deep. Each precedence level
    /// takes operands from the level below, so the tree is one the parser
    /// builds: a chain or comparison nested in another only via a group.
    pub fn expr(depth: u32) -> BoxedStrategy<Expr<'static>> {
        let primary = primary(depth);
        let segment =
            prop_oneof![key().prop_map(Segment::Field), any::<i64>().prop_map(|i| Segment::Index(i, Span::DUMMY))];
        let postfix = prop_oneof![
            3 => primary.clone(),
            1 => (primary, vec(segment, 1..3)).prop_map(|(base, segments)| path(base, segments)),
        ]
        .boxed();
        let unary = prop_oneof![
            4 => postfix.clone(),
            1 => (1..4usize, postfix).prop_map(|(bangs, e)| (0..bangs).fold(e, |e, _| expr_of(ExprKind::Not(Box::new(e))))),
        ]
        .boxed();
        let compare = prop_oneof![
            3 => unary.clone(),
            1 => (unary.clone(), select(COMPARE_OPS), unary).prop_map(|(lhs, op, rhs)| expr_of(ExprKind::Compare {
                op,
                op_span: Span::DUMMY,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            })),
        ]
        .boxed();
        let and = chain(ChainOp::And, compare);
        let or = chain(ChainOp::Or, and);
        chain(ChainOp::Coalesce, or)
    }

    fn chain(op: ChainOp, operand: BoxedStrategy<Expr<'static>>) -> BoxedStrategy<Expr<'static>> {
        prop_oneof![
            5 => operand.clone(),
            1 => vec(operand, 2..4).prop_map(move |operands| expr_of(ExprKind::Chain { op, operands })),
        ]
        .boxed()
    }

    fn primary(depth: u32) -> BoxedStrategy<Expr<'static>> {
        let leaf = prop_oneof![
            4 => literal().prop_map(|lit| expr_of(ExprKind::Literal(lit))),
            1 => template().prop_map(expr_of),
            2 => ident().prop_map(|name| expr_of(ExprKind::Var(name))),
            1 => select(METAS).prop_map(|name| expr_of(ExprKind::Meta(Ident { name, span: Span::DUMMY }))),
            1 => output().prop_map(|target| expr_of(ExprKind::Output(target))),
        ]
        .boxed();
        if depth == 0 {
            return leaf;
        }
        let inner = expr(depth - 1);
        let arg = (prop::option::of(ident()), inner.clone()).prop_map(|(name, value)| Arg { name, value });
        prop_oneof![
            8 => leaf,
            1 => vec(inner.clone(), 0..4).prop_map(|items| expr_of(ExprKind::Array(items))),
            1 => entries(inner.clone()).prop_map(|entries| expr_of(ExprKind::Object(entries))),
            1 => (ident(), any::<bool>(), vec(arg, 0..4))
                .prop_map(|(func, abort, args)| expr_of(ExprKind::Call { func, abort, args })),
            1 => inner.clone().prop_map(|e| expr_of(ExprKind::Group(Box::new(e)))),
            1 => (vec((inner.clone(), inner.clone()), 1..3), inner)
                .prop_map(|(branches, otherwise)| expr_of(ExprKind::If { branches, otherwise: Box::new(otherwise) })),
        ]
        .boxed()
    }

    // -- Items ----------------------------------------------------------------

    fn schema() -> impl Strategy<Value = Schema<'static>> {
        let atom = prop_oneof![
            ident().prop_map(TypeExpr::Named),
            scalar().prop_map(|lit| TypeExpr::Literal(lit, Span::DUMMY)),
            str_lit().prop_map(|s| TypeExpr::Literal(Literal::Str(s.value, s.style), Span::DUMMY)),
        ];
        let ty = prop_oneof![
            2 => atom.clone(),
            1 => vec(atom, 2..5).prop_map(|alternatives| TypeExpr::Union(alternatives, Span::DUMMY)),
        ];
        let name = prop_oneof![4 => key().prop_map(FieldName::Named), 1 => Just(FieldName::Wildcard(Span::DUMMY))];
        let field = (name, any::<bool>(), ty).prop_map(|(name, optional, ty)| FieldDecl {
            name,
            optional,
            ty,
            span: Span::DUMMY,
        });
        let kind = prop_oneof![Just(SectionKind::Labels), Just(SectionKind::Payload)];
        let section =
            (kind, vec(field, 0..5)).prop_map(|(kind, fields)| SchemaSection { kind, fields, span: Span::DUMMY });
        vec(section, 0..3).prop_map(|sections| Schema { sections, span: Span::DUMMY })
    }

    fn rule(expr: BoxedStrategy<Expr<'static>>) -> impl Strategy<Value = Rule<'static>> {
        let clause = prop_oneof![
            expr.clone().prop_map(|e| Clause::When(e, Span::DUMMY)),
            ident().prop_map(|name| Clause::Framing(name, Span::DUMMY)),
            (prop::option::of(ident()), prop::option::of(entries(expr.clone())))
                .prop_map(|(preset, options)| Clause::Multiline { preset, options, span: Span::DUMMY }),
            expr.clone().prop_map(|e| Clause::MaxRecordSize(e, Span::DUMMY)),
        ];
        (ident(), vec(clause, 0..4), vec(stmt(STMT_DEPTH, expr), 0..5)).prop_map(|(name, clauses, body)| Rule {
            name,
            clauses,
            body,
            span: Span::DUMMY,
        })
    }

    fn stmt(depth: u32, expr: BoxedStrategy<Expr<'static>>) -> BoxedStrategy<Stmt<'static>> {
        let simple = prop_oneof![
            (ident(), prop::option::of(ident()), expr.clone()).prop_map(|(name, err, value)| StmtKind::Let {
                name,
                err,
                value
            }),
            (output(), expr.clone()).prop_map(|(target, value)| StmtKind::Assign { target, value }),
            str_lit().prop_map(|reason| StmtKind::Drop { reason }),
            Just(StmtKind::Emit),
        ]
        .prop_map(|kind| Stmt { kind, span: Span::DUMMY })
        .boxed();
        if depth == 0 {
            return simple;
        }
        let block = vec(stmt(depth - 1, expr.clone()), 0..3).prop_map(|stmts| Block { stmts, span: Span::DUMMY });
        let branches = vec((expr, block.clone()), 1..3);
        prop_oneof![
            3 => simple,
            1 => (branches, prop::option::of(block))
                .prop_map(|(branches, otherwise)| Stmt { kind: StmtKind::If { branches, otherwise }, span: Span::DUMMY }),
        ]
        .boxed()
    }

    fn test(expr: BoxedStrategy<Expr<'static>>) -> impl Strategy<Value = Test<'static>> {
        let clause = prop_oneof![
            entries(expr.clone()).prop_map(|entries| TestClause::Input(entries, Span::DUMMY)),
            entries(expr).prop_map(|entries| TestClause::Expect(entries, Span::DUMMY)),
            str_lit().prop_map(|reason| TestClause::ExpectDrop(reason, Span::DUMMY)),
        ];
        (str_lit(), vec(clause, 0..4)).prop_map(|(name, clauses)| Test { name, clauses, span: Span::DUMMY })
    }
}
