//! The parser: tokens to [`ast::File`], collecting every error it can recover from.
//!
//! The grammar lives in `grammar/uml.lalrpop` and is compiled by LALRPOP into
//! an LR(1) table parser whose stack is a heap `Vec`, so the parser itself
//! cannot overflow the call stack. What could is a later recursive walk over
//! a very deep tree; the [`TokenStream`] adapter therefore counts bracket and
//! `!` nesting as tokens go by and ends the stream with [`Code::NestingTooDeep`]
//! once it passes [`MAX_NESTING`] (the regex-syntax `NestLimiter` idea, done
//! on tokens because an LR parser has no recursion to hook).
//!
//! [`Ctx`] is the grammar's state: it decodes literals (escapes, template
//! holes, numbers) and turns LALRPOP's error recoveries into diagnostics,
//! keeping at most one syntax error per source line so that one mistake
//! does not produce a cascade.

use crate::ast::{self, Clause, Expr, ExprKind, Ident, Literal, Rule, Stmt, StrLit, StrStyle, TemplatePart};
use crate::diagnostic::{Code, Diagnostic};
use crate::lexer::Token;
use crate::span::{FileId, Span};
use crate::template;
use lalrpop_util::{ErrorRecovery, ParseError};
use std::borrow::Cow;
use std::cell::Cell;
use std::rc::Rc;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused_parens, unused_imports, dead_code)]
    grammar,
    "/uml.rs"
);

/// The deepest bracket (`(`, `[`, `{`) plus `!` nesting the parser accepts.
pub const MAX_NESTING: usize = 64;

/// Syntax errors reported before parsing gives up on a file.
pub const MAX_ERRORS: usize = 50;

/// The result of parsing one file: the tree (with erroneous items or
/// statements left out) and every diagnostic found on the way.
#[derive(Debug)]
pub struct Parsed<'src> {
    pub file: ast::File<'src>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed<'_> {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses one `.uml` source file.
///
/// Never panics and never fails: a file with errors yields the items that
/// parsed plus diagnostics. Parsing is linear in the input; a file larger
/// than [`crate::MAX_SOURCE_LEN`] is refused with one diagnostic.
pub fn parse(file: FileId, src: &str) -> Parsed<'_> {
    if src.len() > crate::MAX_SOURCE_LEN {
        let d = Diagnostic::new(
            Code::SourceTooLarge,
            format!("this file is {} bytes; rule files are limited to {} bytes", src.len(), crate::MAX_SOURCE_LEN),
        )
        .primary(file, Span::new(0, 0), "file starts here")
        .help("is this a rule file? `uml check` reads `.uml` rule sources, not logs");
        return Parsed { file: ast::File { items: Vec::new(), comments: Vec::new() }, diagnostics: vec![d] };
    }

    let error_count = Rc::new(Cell::new(0));
    let mut ctx = Ctx { file, src, diagnostics: Vec::new(), last_error_line: None, error_count: error_count.clone() };
    let mut stream = TokenStream::new(file, src, error_count);
    let result = grammar::FileParser::new().parse(&mut ctx, &mut stream);
    let TokenStream { comments, diagnostics: lex_diagnostics, stopped, .. } = stream;

    let mut diagnostics = lex_diagnostics;
    let items = match result {
        Ok(items) => items,
        Err(e) => {
            // A nesting or error-limit stop ends the token stream early; the
            // "unexpected end of file" that follows is an artefact of that.
            if stopped.is_none() {
                ctx.report(e);
            }
            Vec::new()
        }
    };
    diagnostics.append(&mut ctx.diagnostics);
    if let Some(d) = stopped {
        diagnostics.push(d);
    }
    diagnostics.sort_by_key(|d| d.primary_span().map(|s| (s.start, s.end)));
    Parsed { file: ast::File { items, comments }, diagnostics }
}

/// Parses a single expression (used by tests and tools).
pub fn parse_expr(file: FileId, src: &str) -> Result<Expr<'_>, Vec<Diagnostic>> {
    let error_count = Rc::new(Cell::new(0));
    let mut ctx = Ctx { file, src, diagnostics: Vec::new(), last_error_line: None, error_count: error_count.clone() };
    let mut stream = TokenStream::new(file, src, error_count);
    let result = grammar::ExprParser::new().parse(&mut ctx, &mut stream);
    let mut diagnostics = std::mem::take(&mut stream.diagnostics);
    match result {
        Ok(e) => {
            diagnostics.append(&mut ctx.diagnostics);
            diagnostics.extend(stream.stopped.take());
            if diagnostics.iter().any(Diagnostic::is_error) { Err(diagnostics) } else { Ok(e) }
        }
        Err(e) => {
            if let Some(d) = stream.stopped.take() {
                diagnostics.push(d);
            } else {
                ctx.report(e);
            }
            diagnostics.append(&mut ctx.diagnostics);
            Err(diagnostics)
        }
    }
}

// ---------------------------------------------------------------------------
// The token stream

type Spanned<'src> = Result<(usize, Token<'src>, usize), Diagnostic>;

/// Feeds the parser: drops comments (keeping their spans), turns lexical
/// errors into diagnostics, and stops the stream when nesting or the error
/// count passes its limit.
struct TokenStream<'src> {
    file: FileId,
    tokens: logos::SpannedIter<'src, Token<'src>>,
    comments: Vec<ast::Comment>,
    diagnostics: Vec<Diagnostic>,
    error_count: Rc<Cell<usize>>,
    depth: usize,
    /// Length of the current run of `!` tokens.
    bangs: usize,
    /// Why the stream ended early, if it did.
    stopped: Option<Diagnostic>,
}

impl<'src> TokenStream<'src> {
    fn new(file: FileId, src: &'src str, error_count: Rc<Cell<usize>>) -> Self {
        use logos::Logos;
        TokenStream {
            file,
            tokens: Token::lexer(src).spanned(),
            comments: Vec::new(),
            diagnostics: Vec::new(),
            error_count,
            depth: 0,
            bangs: 0,
            stopped: None,
        }
    }

    fn stop(&mut self, d: Diagnostic) -> Option<Spanned<'src>> {
        self.stopped = Some(d);
        None
    }
}

impl<'src> Iterator for TokenStream<'src> {
    type Item = Spanned<'src>;

    fn next(&mut self) -> Option<Spanned<'src>> {
        if self.stopped.is_some() {
            return None;
        }
        loop {
            if self.error_count.get() >= MAX_ERRORS {
                let d = Diagnostic::new(Code::TooManyErrors, format!("stopped after {MAX_ERRORS} errors"))
                    .note("fix the errors above and run again");
                return self.stop(d);
            }
            let (tok, range) = self.tokens.next()?;
            let span = Span::from(range.clone());
            let tok = match tok {
                Ok(Token::Comment(_)) => {
                    self.comments.push(ast::Comment { span });
                    continue;
                }
                Ok(tok) => tok,
                Err(()) => {
                    let text = self.tokens.slice();
                    let shown = text.chars().next().map_or(String::new(), |c| format!("{c:?}"));
                    self.diagnostics.push(
                        Diagnostic::new(Code::UnexpectedChar, format!("unexpected character {shown}")).primary(
                            self.file,
                            span,
                            "no token starts with this",
                        ),
                    );
                    self.error_count.set(self.error_count.get() + 1);
                    continue;
                }
            };
            match tok {
                Token::LParen | Token::LBracket | Token::LBrace => self.depth += 1,
                Token::RParen | Token::RBracket | Token::RBrace => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
            self.bangs = if tok == Token::Bang { self.bangs + 1 } else { 0 };
            if self.depth + self.bangs > MAX_NESTING {
                let d = Diagnostic::new(Code::NestingTooDeep, format!("nesting deeper than {MAX_NESTING} levels"))
                    .primary(self.file, span, "this opens one level too many")
                    .help("bind inner parts to variables with `let`");
                return self.stop(d);
            }
            return Some(Ok((range.start, tok, range.end)));
        }
    }
}

// ---------------------------------------------------------------------------
// Grammar context

/// A rule member before clauses and statements are separated.
pub enum Member<'src> {
    Clause(Clause<'src>),
    Stmt(Stmt<'src>),
    Error,
}

/// State shared with the grammar actions.
pub struct Ctx<'src> {
    file: FileId,
    src: &'src str,
    diagnostics: Vec<Diagnostic>,
    last_error_line: Option<usize>,
    error_count: Rc<Cell<usize>>,
}

impl<'src> Ctx<'src> {
    fn push(&mut self, d: Diagnostic) {
        self.error_count.set(self.error_count.get() + 1);
        self.diagnostics.push(d);
    }

    /// Records a literal error (bad escape, overflow): the parse goes on.
    pub(crate) fn literal_error(&mut self, code: Code, span: Span, message: String, label: &str) {
        self.push(Diagnostic::new(code, message).primary(self.file, span, label));
    }

    /// Called by the grammar's `!` alternatives after LALRPOP recovered.
    pub fn recover(&mut self, e: ErrorRecovery<usize, Token<'src>, Diagnostic>) {
        self.report(e.error);
    }

    fn line_of(&self, offset: usize) -> usize {
        self.src.as_bytes()[..offset.min(self.src.len())].iter().filter(|&&b| b == b'\n').count()
    }

    fn report(&mut self, e: ParseError<usize, Token<'src>, Diagnostic>) {
        let d =
            match e {
                ParseError::User { error } => {
                    self.push(error);
                    return;
                }
                ParseError::InvalidToken { location } => Diagnostic::new(Code::UnexpectedChar, "invalid token")
                    .primary(self.file, Span::new(location, location), "here"),
                ParseError::UnrecognizedEof { location, expected } => Diagnostic::new(
                    Code::UnexpectedEof,
                    format!("unexpected end of file, expected {}", describe_expected(&expected)),
                )
                .primary(self.file, Span::new(location, location), "the file ends here"),
                ParseError::UnrecognizedToken { token: (l, tok, r), expected } => Diagnostic::new(
                    Code::UnexpectedToken,
                    format!("unexpected {}, expected {}", tok.describe(), describe_expected(&expected)),
                )
                .primary(self.file, Span::new(l, r), "unexpected here"),
                ParseError::ExtraToken { token: (l, tok, r) } => Diagnostic::new(
                    Code::UnexpectedToken,
                    format!("unexpected {}", tok.describe()),
                )
                .primary(self.file, Span::new(l, r), "expected nothing more here"),
            };
        // One syntax error per line: the second is almost always a cascade.
        let line = self.line_of(d.primary_span().map_or(0, |s| s.start as usize));
        if self.last_error_line == Some(line) {
            return;
        }
        self.last_error_line = Some(line);
        self.push(d);
    }

    /// Splits a rule's members into clauses and statements; a clause after
    /// the first statement is reported (and kept, so checking can go on).
    pub fn rule(&mut self, name: Ident<'src>, members: Vec<Member<'src>>, span: Span) -> Rule<'src> {
        let mut clauses = Vec::new();
        let mut body: Vec<Stmt<'src>> = Vec::new();
        for m in members {
            match m {
                Member::Clause(c) => {
                    if let Some(first) = body.first() {
                        let d = Diagnostic::new(
                            Code::MisplacedClause,
                            "rule clauses must come before the rule's statements",
                        )
                        .primary(self.file, c.span(), "this clause follows a statement")
                        .secondary(self.file, first.span, "the first statement is here")
                        .help("move `when`, `framing`, `multiline` and `max_record_size` to the top of the rule");
                        self.push(d);
                    }
                    clauses.push(c);
                }
                Member::Stmt(s) => body.push(s),
                Member::Error => {}
            }
        }
        Rule { name, clauses, body, span }
    }

    pub fn chain(&mut self, op: ast::ChainOp, first: Expr<'src>, rest: Vec<Expr<'src>>, span: Span) -> Expr<'src> {
        let mut operands = Vec::with_capacity(rest.len() + 1);
        operands.push(first);
        operands.extend(rest);
        Expr { kind: ExprKind::Chain { op, operands }, span }
    }

    pub fn int(&mut self, text: &str, span: Span) -> i64 {
        text.parse().unwrap_or_else(|_| {
            self.literal_error(
                Code::IntegerOverflow,
                span,
                format!("`{text}` does not fit in a 64-bit signed integer"),
                "out of range",
            );
            0
        })
    }

    pub fn float(&mut self, text: &str, span: Span) -> f64 {
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => f,
            _ => {
                self.literal_error(
                    Code::FloatOverflow,
                    span,
                    format!("`{text}` is not a finite number"),
                    "out of range",
                );
                0.0
            }
        }
    }

    pub fn quantity(&mut self, text: &'src str, span: Span) -> Literal<'src> {
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (digits, unit) = text.split_at(split);
        let value = digits.parse().unwrap_or_else(|_| {
            self.literal_error(
                Code::IntegerOverflow,
                span,
                format!("`{digits}` does not fit in a 64-bit unsigned integer"),
                "out of range",
            );
            0
        });
        Literal::Quantity { value, unit }
    }

    /// The body of a `"…"` token (closing quote optional), reporting an
    /// unterminated string.
    fn cooked_body(&mut self, raw: &'src str, span: Span) -> (&'src str, usize) {
        let inner = &raw[1..];
        if let Some(body) = inner.strip_suffix('"').filter(|_| raw.len() >= 2) {
            (body, span.start as usize + 1)
        } else {
            self.literal_error(
                Code::UnterminatedString,
                span,
                "unterminated string literal".into(),
                "this string has no closing `\"` on its line",
            );
            (inner.strip_suffix('\\').unwrap_or(inner), span.start as usize + 1)
        }
    }

    /// A `"…"` string in expression position: a literal, or a template if it
    /// has `{…}` holes.
    pub fn string_expr(&mut self, raw: &'src str, span: Span) -> Expr<'src> {
        let (body, offset) = self.cooked_body(raw, span);
        let parts = template::decode(self, body, offset);
        let kind = match parts.as_slice() {
            [] => ExprKind::Literal(Literal::Str(Cow::Borrowed(""), StrStyle::Cooked)),
            [TemplatePart::Text(_)] => match parts.into_iter().next() {
                Some(TemplatePart::Text(t)) => ExprKind::Literal(Literal::Str(t, StrStyle::Cooked)),
                _ => unreachable!("matched a single text part"),
            },
            _ => ExprKind::Template(parts),
        };
        Expr { kind, span }
    }

    /// A `"…"` string where holes are not allowed (test names, drop reasons, keys).
    pub fn plain_string(&mut self, raw: &'src str, span: Span) -> StrLit<'src> {
        let (body, offset) = self.cooked_body(raw, span);
        let value = template::decode_plain(self, body, offset);
        StrLit { value, style: StrStyle::Cooked, span }
    }

    pub fn unterminated_raw(&mut self, raw: &'src str, span: Span) -> Literal<'src> {
        self.literal_error(
            Code::UnterminatedRaw,
            span,
            "unterminated raw string or regex literal".into(),
            "no closing `'` on this line",
        );
        match raw.strip_prefix("r'") {
            Some(pattern) => Literal::Regex(pattern),
            None => Literal::Str(Cow::Borrowed(&raw[1..]), StrStyle::Raw),
        }
    }
}

/// Renders LALRPOP's list of expected terminals for a message, folding the
/// many terminals that can start an expression into "an expression" and the
/// operators that can continue one into "an operator".
fn describe_expected(expected: &[String]) -> String {
    const EXPR_STARTS: &[&str] = &[
        "ident",
        "meta",
        "int",
        "float",
        "quantity",
        "string",
        "unterminated string",
        "raw string",
        "unterminated raw",
        "regex",
        "null",
        "true",
        "false",
        "(",
        "[",
        "{",
        "!",
        "if",
        "labels",
        "payload",
    ];
    const OPERATORS: &[&str] = &["==", "!=", "<", "<=", ">", ">=", "=~", "!~", "&&", "||", "??", ".", "["];
    let expected: Vec<&str> = expected.iter().map(|e| e.trim_matches('"')).collect();
    let has = |t: &str| expected.contains(&t);
    let is_expr = ["ident", "int", "string", "(", "meta"].iter().all(|t| has(t));
    let is_operator = OPERATORS.iter().filter(|t| has(t)).count() >= 3;
    let mut names: Vec<String> = Vec::new();
    let mut add = |name: String| {
        if !names.contains(&name) {
            names.push(name);
        }
    };
    for e in &expected {
        if (is_expr && EXPR_STARTS.contains(e)) || (is_operator && OPERATORS.contains(e)) {
            continue;
        }
        add(match *e {
            "ident" => "an identifier".into(),
            "string" | "unterminated string" => "a string".into(),
            "raw string" | "unterminated raw" => "a raw string".into(),
            "int" => "an integer".into(),
            "float" => "a number".into(),
            "quantity" => "a quantity like `256KiB`".into(),
            "regex" => "a regex literal".into(),
            "meta" => "metadata like `%pod`".into(),
            other => format!("`{other}`"),
        });
    }
    if is_expr {
        names.insert(0, "an expression".into());
    }
    if is_operator {
        names.push("an operator".into());
    }
    match names.len() {
        0 => "something else".into(),
        1 => names.remove(0),
        n if n <= 8 => {
            let last = names.pop().unwrap_or_default();
            format!("{} or {}", names.join(", "), last)
        }
        n => format!("one of {} or {} others", names[..6].join(", "), n - 6),
    }
}
