//! The parser: tokens to [`ast::File`], collecting every error it can recover from.
//!
//! The grammar lives in `grammar/uml.lalrpop` and is compiled by LALRPOP into
//! an LR(1) table parser whose stack is a heap `Vec`, so the parser itself
//! cannot overflow the call stack. What could is a later recursive walk over
//! a very deep tree; the `TokenStream` adapter therefore counts bracket and
//! `!` nesting as tokens go by and ends the stream with [`Code::NestingTooDeep`]
//! once it passes [`MAX_NESTING`] (the regex-syntax `NestLimiter` idea, done
//! on tokens because an LR parser has no recursion to hook).
//!
//! [`Ctx`] is the grammar's state: it decodes literals (escapes, template
//! holes, numbers) and turns LALRPOP's error recoveries into diagnostics,
//! keeping at most one syntax error per source line so that one mistake
//! does not produce a cascade.
//!
//! A syntax error is worded for the rule author, not the grammar: the
//! terminals LALRPOP expected are folded into "an expression", "a
//! statement", "an operator"; common slips (`=` for `==`, `elif`, a keyword
//! as a name, reassigning a variable, a missing `}`) get a help line; and
//! when the previous line ends with an operator, the diagnostic points at it,
//! since the expression silently went on onto the line where the error is.

use crate::ast::{self, Clause, Expr, ExprKind, Ident, Literal, Rule, Stmt, StrLit, StrStyle, TemplatePart};
use crate::diagnostic::{Code, Diagnostic, Label};
use crate::lexer::{self, Token};
use crate::span::{FileId, Span};
use crate::template;
use lalrpop_util::{ErrorRecovery, ParseError};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
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

    let log = Rc::new(ErrorLog::new(src));
    let mut ctx = Ctx { file, src, diagnostics: Vec::new(), log: log.clone(), first_error: None };
    let mut stream = TokenStream::new(file, src, log);
    let result = grammar::FileParser::new().parse(&mut ctx, &mut stream);

    let mut diagnostics = std::mem::take(&mut stream.diagnostics);
    let items = match result {
        Ok(items) => items,
        Err(e) => {
            // A nesting or error-limit stop ends the token stream early; the
            // "unexpected end of file" that follows is an artefact of that.
            if stream.stopped.is_none() {
                ctx.report(e);
            }
            Vec::new()
        }
    };
    diagnostics.append(&mut ctx.diagnostics);
    stream.finish(&mut diagnostics);
    if let Some(span) = ctx.first_error.filter(|_| !diagnostics.iter().any(Diagnostic::is_error)) {
        diagnostics.push(Diagnostic::new(Code::UnexpectedToken, "this cannot be parsed").primary(
            file,
            span,
            "the parser stopped here",
        ));
    }
    diagnostics.sort_by_key(|d| d.primary_span().map(|s| (s.start, s.end)));
    Parsed { file: ast::File { items, comments: stream.comments }, diagnostics }
}

/// Parses a single expression (used by tests and tools).
pub fn parse_expr(file: FileId, src: &str) -> Result<Expr<'_>, Vec<Diagnostic>> {
    let log = Rc::new(ErrorLog::new(src));
    let mut ctx = Ctx { file, src, diagnostics: Vec::new(), log: log.clone(), first_error: None };
    let mut stream = TokenStream::new(file, src, log);
    let result = grammar::ExprParser::new().parse(&mut ctx, &mut stream);
    let mut diagnostics = std::mem::take(&mut stream.diagnostics);
    let expr = match result {
        Ok(e) => Some(e),
        Err(e) => {
            if stream.stopped.is_none() {
                ctx.report(e);
            }
            None
        }
    };
    diagnostics.append(&mut ctx.diagnostics);
    stream.finish(&mut diagnostics);
    match expr {
        Some(e) if !diagnostics.iter().any(Diagnostic::is_error) => Ok(e),
        _ => Err(diagnostics),
    }
}

// ---------------------------------------------------------------------------
// Error bookkeeping shared by the token stream and the grammar context

/// How many errors were reported, and on which lines: at most one syntax
/// error is reported per line, because a second one on the same line is
/// almost always a cascade of the first.
struct ErrorLog<'src> {
    src: &'src str,
    count: Cell<usize>,
    /// Lines (0-based) that have a syntax error, sorted.
    lines: RefCell<Vec<usize>>,
    /// The last offset looked up and its line: errors arrive roughly in
    /// source order, so counting newlines from there keeps lookups cheap
    /// even when thousands of errors on one line are suppressed.
    cursor: Cell<(usize, usize)>,
    /// The last offset whose open brackets were looked up, and those brackets.
    brackets: RefCell<(usize, Vec<(Token<'src>, Span)>)>,
    /// Offsets of tokens that directly follow an unterminated literal which
    /// swallowed a closing bracket: an error there is a cascade.
    after_swallowed: RefCell<Vec<usize>>,
    /// The first `{ … }` pair whose `}` starts a line indented differently
    /// from the line of its `{`, as the token stream has seen so far: when a
    /// `}` is missing, this is usually where, since the `}` that follows was
    /// meant for an outer block.
    misindented: Cell<Option<(Span, Span)>>,
}

impl<'src> ErrorLog<'src> {
    fn new(src: &'src str) -> Self {
        ErrorLog {
            src,
            count: Cell::new(0),
            lines: RefCell::new(Vec::new()),
            cursor: Cell::new((0, 0)),
            brackets: RefCell::new((0, Vec::new())),
            after_swallowed: RefCell::new(Vec::new()),
            misindented: Cell::new(None),
        }
    }

    /// How many brackets are open just before the token at `offset`.
    fn depth_before(&self, offset: usize) -> usize {
        self.open_before(offset, |open| open.len())
    }

    /// Calls `f` with the brackets open just before the token at `offset`,
    /// innermost last. Lexes on from the previous lookup, which is cheap
    /// because errors are reported roughly in source order.
    fn open_before<T>(&self, offset: usize, f: impl FnOnce(&[(Token<'src>, Span)]) -> T) -> T {
        let offset = offset.min(self.src.len());
        let mut cursor = self.brackets.borrow_mut();
        let (at, open) = &mut *cursor;
        if offset < *at {
            (*at, *open) = (0, Vec::new());
        }
        for (span, tok) in lexer::lex(&self.src[*at..offset]) {
            let span = Span::new(*at + span.start as usize, *at + span.end as usize);
            match tok {
                Ok(tok @ (Token::LParen | Token::LBracket | Token::LBrace)) => open.push((tok, span)),
                Ok(Token::RParen | Token::RBracket | Token::RBrace) => {
                    open.pop();
                }
                _ => {}
            }
        }
        *at = offset;
        f(open)
    }

    fn counted(&self) {
        self.count.set(self.count.get() + 1);
    }

    fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.src.len());
        let (at, line) = self.cursor.get();
        let newlines =
            |range: std::ops::Range<usize>| self.src.as_bytes()[range].iter().filter(|&&b| b == b'\n').count();
        let line = if offset >= at { line + newlines(at..offset) } else { line - newlines(offset..at) };
        self.cursor.set((offset, line));
        line
    }

    /// Records a syntax error at `offset`; false if its line has one already.
    fn claim_line(&self, offset: usize) -> bool {
        let line = self.line_of(offset);
        let mut lines = self.lines.borrow_mut();
        match lines.binary_search(&line) {
            Ok(_) => false,
            Err(i) => {
                lines.insert(i, line);
                true
            }
        }
    }
}

/// The source line around `offset`: its byte range, without the newline.
fn line_around(src: &str, offset: usize) -> std::ops::Range<usize> {
    let offset = offset.min(src.len());
    let start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = src[offset..].find('\n').map_or(src.len(), |i| offset + i);
    start..end
}

/// The tokens of one line, comments left out. Lexing a line on its own is
/// exact: no token spans a newline except a comment, which ends the line.
fn line_tokens(src: &str, line: std::ops::Range<usize>) -> Vec<(Span, Token<'_>)> {
    let base = line.start;
    lexer::lex(&src[line])
        .filter_map(|(span, tok)| match tok {
            Ok(Token::Comment(_)) | Err(()) => None,
            Ok(tok) => Some((Span::new(base + span.start as usize, base + span.end as usize), tok)),
        })
        .collect()
}

/// Leading spaces and tabs of the line around `offset`.
fn indentation(src: &str, offset: usize) -> usize {
    let line = line_around(src, offset);
    src[line].bytes().take_while(|&b| b == b' ' || b == b'\t').count()
}

/// True if only spaces and tabs come before `offset` on its line.
fn starts_line(src: &str, offset: usize) -> bool {
    let line = line_around(src, offset);
    src[line.start..offset].bytes().all(|b| b == b' ' || b == b'\t')
}

// ---------------------------------------------------------------------------
// The token stream

type Spanned<'src> = Result<(usize, Token<'src>, usize), Diagnostic>;

/// Feeds the parser: drops comments (keeping their spans), turns lexical
/// errors into diagnostics, and stops the stream when nesting or the error
/// count passes its limit. It also tracks open brackets, so that an
/// unexpected end of file, or an item met inside a block, can point at the
/// `{` that was never closed.
struct TokenStream<'src> {
    file: FileId,
    src: &'src str,
    tokens: logos::SpannedIter<'src, Token<'src>>,
    comments: Vec<ast::Comment>,
    diagnostics: Vec<Diagnostic>,
    log: Rc<ErrorLog<'src>>,
    /// Brackets opened and not yet closed, innermost last.
    open: Vec<(Token<'src>, Span)>,
    /// Bounds the depth of the tree.
    nesting: NestLimiter,
    /// The line of the last lexical error: one per line is reported.
    last_lexical_error_line: Option<usize>,
    /// Set after an unterminated literal that swallowed a closing bracket.
    swallowed: bool,
    /// Why the stream ended early, if it did.
    stopped: Option<Diagnostic>,
}

impl<'src> TokenStream<'src> {
    fn new(file: FileId, src: &'src str, log: Rc<ErrorLog<'src>>) -> Self {
        use logos::Logos;
        TokenStream {
            file,
            src,
            tokens: Token::lexer(src).spanned(),
            comments: Vec::new(),
            diagnostics: Vec::new(),
            log,
            open: Vec::new(),
            nesting: NestLimiter::default(),
            last_lexical_error_line: None,
            swallowed: false,
            stopped: None,
        }
    }

    fn stop(&mut self, d: Diagnostic) -> Option<Spanned<'src>> {
        self.stopped = Some(d);
        None
    }

    /// Records a lexical error unless its line has one already. Whether a
    /// syntax error further left on the line wins is settled in [`finish`],
    /// because error recovery may report it only after lexing on.
    ///
    /// [`finish`]: TokenStream::finish
    fn lexical_error(&mut self, d: Diagnostic) {
        let line = self.log.line_of(d.primary_span().map_or(0, |s| s.start as usize));
        if self.last_lexical_error_line != Some(line) {
            self.last_lexical_error_line = Some(line);
            self.log.counted();
            self.diagnostics.push(d);
        }
    }

    fn track_brackets(&mut self, tok: Token<'src>, span: Span) {
        match tok {
            Token::LParen | Token::LBracket | Token::LBrace => self.open.push((tok, span)),
            Token::RParen | Token::RBracket | Token::RBrace => {
                let Some((opener, open_span)) = self.open.pop() else { return };
                let src = self.src;
                if self.log.misindented.get().is_none()
                    && opener == Token::LBrace
                    && tok == Token::RBrace
                    && starts_line(src, span.start as usize)
                    && indentation(src, span.start as usize) != indentation(src, open_span.start as usize)
                {
                    self.log.misindented.set(Some((open_span, span)));
                }
            }
            _ => {}
        }
    }

    /// Adds what the stream knows to the final diagnostics: why it stopped,
    /// and for an unexpected end of file, the brackets left open.
    fn finish(&mut self, diagnostics: &mut Vec<Diagnostic>) {
        self.one_syntax_error_per_line(diagnostics);
        if let Some(d) = self.stopped.take() {
            // The stream ended early on purpose; the parser's complaint
            // about the end of the file is an artefact of that.
            diagnostics.retain(|d| d.code != Code::UnexpectedEof);
            diagnostics.push(d);
            return;
        }
        let Some(eof) = diagnostics.iter_mut().find(|d| d.code == Code::UnexpectedEof) else { return };
        if let Some(&(tok, span)) = self.open.last() {
            let text = tok.text().unwrap_or("?");
            eof.labels.push(secondary(self.file, span, format!("this `{text}` is not closed")));
        }
        if let Some((open, close)) = self.log.misindented.get() {
            eof.labels.push(secondary(self.file, open, "perhaps this `{` is the one missing its `}`"));
            eof.labels.push(secondary(self.file, close, "the `}` that closes it is indented differently"));
        }
    }
}

fn secondary(file: FileId, span: Span, message: impl Into<String>) -> Label {
    Label { file, span, message: message.into(), primary: false }
}

impl TokenStream<'_> {
    /// Keeps the leftmost lexical or syntax error of each line: the others
    /// are cascades of it (a stray character skipped, a literal cut short).
    /// An unexpected end of file is always kept: it says which bracket is open.
    fn one_syntax_error_per_line(&self, diagnostics: &mut Vec<Diagnostic>) {
        let is_syntax = |d: &Diagnostic| {
            matches!(
                d.code,
                Code::UnexpectedChar | Code::UnterminatedString | Code::UnterminatedRaw | Code::UnexpectedToken
            )
        };
        // Lines are looked up in source order, which keeps `line_of` cheap.
        let mut starts: Vec<u32> =
            diagnostics.iter().filter(|d| is_syntax(d)).map(|d| d.primary_span().map_or(0, |s| s.start)).collect();
        starts.sort_unstable();
        starts.dedup();
        let lines: Vec<usize> = starts.iter().map(|&s| self.log.line_of(s as usize)).collect();
        // `starts` is sorted, so the leftmost start of a line is the first
        // one with that line.
        let leftmost = |start: u32| {
            let i = starts.binary_search(&start).unwrap_or_default();
            i == 0 || lines[i - 1] != lines[i]
        };
        // Lexical errors come first in `diagnostics`: at equal starts, the
        // lexical one is kept as the more precise.
        let mut kept = Vec::new();
        diagnostics.retain(|d| {
            let start = d.primary_span().map_or(0, |s| s.start);
            if !is_syntax(d) || !leftmost(start) || kept.contains(&start) {
                return !is_syntax(d);
            }
            kept.push(start);
            true
        });
    }
}

impl<'src> Iterator for TokenStream<'src> {
    type Item = Spanned<'src>;

    fn next(&mut self) -> Option<Spanned<'src>> {
        if self.stopped.is_some() {
            return None;
        }
        loop {
            let (tok, range) = self.tokens.next()?;
            let span = Span::from(range.clone());
            if self.log.count.get() >= MAX_ERRORS {
                let d = Diagnostic::new(Code::TooManyErrors, format!("stopped after {MAX_ERRORS} errors"))
                    .primary(self.file, span, "parsing stopped here")
                    .note("the rest of the file was not checked; fix the errors above and run again");
                return self.stop(d);
            }
            let tok =
                match tok {
                    Ok(Token::Comment(_)) => {
                        self.comments.push(ast::Comment { span });
                        continue;
                    }
                    Ok(tok) => tok,
                    Err(()) => {
                        let c = self.tokens.slice().chars().next();
                        let shown = c.map_or(String::new(), |c| format!("{c:?}"));
                        let mut d = Diagnostic::new(Code::UnexpectedChar, format!("unexpected character {shown}"))
                            .primary(self.file, span, "no token starts with this");
                        if let Some(help) = c.and_then(lexer::unexpected_char_help) {
                            d = d.help(help);
                        }
                        self.lexical_error(d);
                        continue;
                    }
                };
            if std::mem::take(&mut self.swallowed) {
                self.log.after_swallowed.borrow_mut().push(span.start as usize);
            }
            match tok {
                Token::UnterminatedStr(text) | Token::UnterminatedRaw(text) => {
                    self.swallowed = text.contains([')', ']', '}']);
                }
                _ => {}
            }
            match tok {
                Token::UnterminatedStr(_) => self.lexical_error(
                    Diagnostic::new(Code::UnterminatedString, "unterminated string literal")
                        .primary(self.file, span, "this string has no closing `\"` on its line")
                        .help("a string cannot span lines; write `\\n` for a line break"),
                ),
                Token::UnterminatedRaw(raw) => {
                    let what = if raw.starts_with("r'") { "regex literal" } else { "raw string" };
                    self.lexical_error(
                        Diagnostic::new(Code::UnterminatedRaw, format!("unterminated {what}"))
                            .primary(self.file, span, "this has no closing `'` on its line")
                            .help(format!("a {what} ends at the next `'` on the same line and cannot contain one")),
                    );
                }
                _ => {}
            }
            self.track_brackets(tok, span);
            if self.nesting.step(tok) > MAX_NESTING {
                let d = Diagnostic::new(Code::NestingTooDeep, format!("nesting deeper than {MAX_NESTING} levels"))
                    .primary(self.file, span, "this opens one level too many")
                    .help("bind inner parts to variables with `let`");
                return self.stop(d);
            }
            return Some(Ok((range.start, tok, range.end)));
        }
    }
}

/// Bounds the depth of the tree the parser builds, counting on tokens as
/// they go by.
///
/// An opening bracket adds a level until its closing bracket, and so does
/// each `!` in front of it (`!!(a)` is three levels: two `Not`s and a
/// `Group`); a `!` in front of anything else adds a level until that token.
/// The `!` of an aborting call (`f!(…)`) negates nothing and is not counted.
///
/// On input with errors the count may exceed the tree's depth, never fall
/// below it. LALRPOP's error recovery drops tokens it cannot use, and a
/// dropped closing bracket closes nothing in the tree; if it were counted,
/// `if a { let x = ) ) ) if a { …` would nest blocks without limit. So a
/// closing bracket closes the innermost open bracket of its kind, with the
/// `(` and `[` an error left open inside it, but a `)` or `]` never closes
/// past a `{`. A dropped one can then only close brackets that recovery
/// already took out of the tree: recovery resumes at a statement or an
/// item, where the only brackets open in the tree are the braces of rules
/// and blocks, and a `}` there closes a block rather than being dropped.
#[derive(Default)]
struct NestLimiter {
    /// The closing bracket each open bracket expects, innermost last, and
    /// the levels it added.
    open: Vec<(Token<'static>, usize)>,
    /// The sum of the levels in `open`.
    depth: usize,
    /// The `!` operators since the last other token.
    bangs: usize,
    /// The last token was an identifier, so a `!` now marks an aborting call.
    after_ident: bool,
}

impl NestLimiter {
    /// Accounts for the next token and returns the nesting depth there.
    fn step(&mut self, tok: Token<'_>) -> usize {
        let closer = match tok {
            Token::LParen => Some(Token::RParen),
            Token::LBracket => Some(Token::RBracket),
            Token::LBrace => Some(Token::RBrace),
            _ => None,
        };
        if let Some(closer) = closer {
            let levels = 1 + std::mem::take(&mut self.bangs);
            self.open.push((closer, levels));
            self.depth += levels;
        } else if tok == Token::Bang && !self.after_ident {
            self.bangs += 1;
        } else {
            self.bangs = 0;
            if matches!(tok, Token::RParen | Token::RBracket | Token::RBrace) {
                let inner = self.open.iter().rposition(|&(closer, _)| closer == tok || closer == Token::RBrace);
                if let Some(i) = inner.filter(|&i| self.open[i].0 == tok) {
                    self.depth -= self.open.drain(i..).map(|(_, levels)| levels).sum::<usize>();
                }
            }
        }
        self.after_ident = matches!(tok, Token::Ident(_));
        self.depth + self.bangs
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
    log: Rc<ErrorLog<'src>>,
    /// Where the parser first met an error, reported or not: the cascade
    /// filters may hold every report back, but a file with an error must
    /// never look clean.
    first_error: Option<Span>,
}

impl<'src> Ctx<'src> {
    fn push(&mut self, d: Diagnostic) {
        self.log.counted();
        self.diagnostics.push(d);
    }

    pub(crate) fn file(&self) -> FileId {
        self.file
    }

    /// Records a literal error (bad escape, overflow): the parse goes on.
    pub(crate) fn literal(&mut self, d: Diagnostic) {
        self.push(d);
    }

    /// Records a literal error with just a message and a label.
    pub(crate) fn literal_error(&mut self, code: Code, span: Span, message: String, label: &str) {
        self.push(Diagnostic::new(code, message).primary(self.file, span, label));
    }

    /// Called by the grammar's `!` alternatives after LALRPOP recovered.
    pub fn recover(&mut self, e: ErrorRecovery<usize, Token<'src>, Diagnostic>) {
        self.report(e.error);
    }

    fn report(&mut self, e: ParseError<usize, Token<'src>, Diagnostic>) {
        let (span, found, expected) = match e {
            ParseError::User { error } => {
                self.push(error);
                return;
            }
            ParseError::InvalidToken { location } => (Span::new(location, location), None, Vec::new()),
            ParseError::UnrecognizedEof { location, expected } => (Span::new(location, location), None, expected),
            ParseError::UnrecognizedToken { token: (l, tok, r), expected } => (Span::new(l, r), Some(tok), expected),
            ParseError::ExtraToken { token: (l, tok, r) } => (Span::new(l, r), Some(tok), Vec::new()),
        };
        self.first_error.get_or_insert(span);
        if !self.log.claim_line(span.start as usize) {
            return;
        }
        let expected = Expected::new(&expected);
        // Cascades: after an error, recovery skips ahead to a statement or
        // an item and may take a block's `}` for the end of the rule, so the
        // parser believes it is at the top level while brackets are still
        // open. And a literal that runs to the end of the line may have
        // swallowed a closing bracket, so the next token seems out of place.
        if found.is_some() && expected.is_item_start() && self.log.depth_before(span.start as usize) > 0 {
            return;
        }
        if found.is_some() && self.log.after_swallowed.borrow().contains(&(span.start as usize)) {
            return;
        }
        let d = match found {
            None => Diagnostic::new(
                Code::UnexpectedEof,
                format!("unexpected end of file, expected {}", expected.describe()),
            )
            .primary(self.file, span, "the file ends here"),
            Some(tok) => self.unexpected_token(tok, span, &expected),
        };
        self.push(d);
    }

    /// The diagnostic for a token the grammar cannot take here.
    fn unexpected_token(&self, tok: Token<'src>, span: Span, expected: &Expected) -> Diagnostic {
        let file = self.file;
        if expected.is_empty() {
            return Diagnostic::new(Code::UnexpectedToken, format!("unexpected {}", tok.describe())).primary(
                file,
                span,
                "expected nothing more here",
            );
        }
        if tok.is_comparison() && !expected.has("==") && expected.has("&&") {
            return Diagnostic::new(Code::UnexpectedToken, "comparison operators cannot be chained")
                .primary(file, span, "a second comparison")
                .help("join two comparisons with `&&`, e.g. `200 <= status && status < 300`");
        }
        let mut d = Diagnostic::new(
            Code::UnexpectedToken,
            format!("unexpected {}, expected {}", tok.describe(), expected.describe()),
        )
        .primary(file, span, "unexpected here");

        let continued = self.operator_ending_previous_line(span);
        if let Some((op_span, op)) = continued {
            let text = op.text().unwrap_or("?");
            d = d.secondary(file, op_span, format!("the expression continues after this `{text}` onto the next line"));
        }
        // A `(` or `[` left open on an earlier line, where its closer is
        // expected. (Blocks span lines by design; a `{` is only pointed at
        // when the file ends inside it.)
        let unclosed = self.log.open_before(span.start as usize, |open| open.last().copied());
        if let Some((opener @ (Token::LParen | Token::LBracket), open_span)) = unclosed {
            let closer = if opener == Token::LParen { ")" } else { "]" };
            if expected.has(closer)
                && self.log.line_of(open_span.start as usize) < self.log.line_of(span.start as usize)
            {
                let text = opener.text().unwrap_or("?");
                d = d.secondary(file, open_span, format!("this `{text}` is not closed"));
            }
        }
        // An item's keyword inside a block: the `{` before it was never
        // closed, and the parser only notices at the next item.
        let mut unclosed_help = None;
        if matches!(tok, Token::Rule | Token::Test | Token::Schema) && expected.has("}") {
            let brace = self.log.open_before(span.start as usize, |open| {
                open.iter().rev().find(|(t, _)| *t == Token::LBrace).map(|&(_, s)| s)
            });
            if let Some(open_span) = brace {
                d = d.secondary(file, open_span, "this `{` is not closed");
                if let Some((open, close)) = self.log.misindented.get().filter(|(_, close)| close.end <= span.start) {
                    d = d.secondary(file, open, "perhaps this `{` is the one missing its `}`").secondary(
                        file,
                        close,
                        "the `}` that closes it is indented differently",
                    );
                }
                let word = tok.text().unwrap_or_default();
                unclosed_help = Some(format!("a `{word}` cannot start inside a block: add the missing `}}` before it"));
            }
        }
        let next = self.token_after(span);
        let help: Option<String> = match tok {
            _ if unclosed_help.is_some() => unclosed_help,
            _ if tok.is_keyword() && expected.has("ident") && !expected.is_expression_start() => Some(format!(
                "`{}` is a keyword and cannot be used as a name; choose another name",
                tok.text().unwrap_or_default()
            )),
            Token::Assign if continued.is_none() && (expected.has("==") || expected.is_statement_start()) => Some(
                "to compare two values, write `==`; a single `=` only assigns, in `let` and `payload.KEY = …`".into(),
            ),
            Token::Ident("elif" | "elsif" | "elseif") => Some("write `else if`".into()),
            Token::Ident("and") => Some("write `&&` for a logical and".into()),
            Token::Ident("or") => Some("write `||` for a logical or".into()),
            Token::Ident("not") => Some("write `!` for a logical not".into()),
            Token::Ident(name) if expected.is_statement_start() && next == Some(Token::Assign) => Some(format!(
                "variables cannot be reassigned; bind a new value with `let {name} = …` \
                 or set an output field with `payload.{name} = …`"
            )),
            Token::Meta(_) if expected.is_statement_start() && next == Some(Token::Assign) => {
                Some("metadata is read-only; set output fields with `payload.KEY = …` or `labels.KEY = …`".into())
            }
            Token::Else if expected.is_statement_start() => {
                Some("`else` can only follow the `}` that closes an `if` block".into())
            }
            Token::Ident(_)
            | Token::Meta(_)
            | Token::Let
            | Token::If
            | Token::Drop
            | Token::Emit
            | Token::Payload
            | Token::Labels
            | Token::When
                if expected.is_item_start() =>
            {
                Some("statements and clauses belong inside a rule: `rule NAME { … }`".into())
            }
            Token::Ident(_) | Token::Int(_) | Token::Float(_) if self.follows_raw_string(span) => Some(
                "a '…' string ends at the next `'`; to include a `'`, write a \"…\" string and escape its `\"`".into(),
            ),
            _ if expected.has(",") && next == Some(Token::Colon) => Some("separate entries with `,`".into()),
            _ if expected.only("int") => {
                Some("an index is an integer literal, such as `[0]`, or `[-1]` for the last element".into())
            }
            _ if self.token_before(span) == Some(Token::Let) => Some("`let` binds a name: `let NAME = VALUE`".into()),
            _ if self.token_before(span) == Some(Token::Rule) => Some("a rule needs a name: `rule NAME { … }`".into()),
            _ if self.token_before(span) == Some(Token::Test) => {
                Some("a test needs a name: `test \"what it checks\" { … }`".into())
            }
            _ if expected.only("{") && self.in_if_condition(span) => {
                Some("the body of an `if` goes in braces: `if CONDITION { … }`".into())
            }
            _ => None,
        };
        if let Some(help) = help {
            d = d.help(help);
        }
        d
    }

    /// The first token after `span`, comments skipped.
    fn token_after(&self, span: Span) -> Option<Token<'src>> {
        lexer::lex(&self.src[span.end as usize..])
            .find_map(|(_, tok)| tok.ok().filter(|t| !matches!(t, Token::Comment(_))))
    }

    /// The token before `span` on its line, if any.
    fn token_before(&self, span: Span) -> Option<Token<'src>> {
        let line = line_around(self.src, span.start as usize);
        line_tokens(self.src, line).into_iter().take_while(|(s, _)| s.end <= span.start).last().map(|(_, t)| t)
    }

    /// True if `span` directly follows a `'…'` string, with no space between.
    fn follows_raw_string(&self, span: Span) -> bool {
        let line = line_around(self.src, span.start as usize);
        let tokens = line_tokens(self.src, line);
        let before = tokens.iter().take_while(|(s, _)| s.end <= span.start).last();
        matches!(before, Some((s, Token::RawStr(_))) if s.end == span.start)
    }

    /// The operator that ends the closest line of code above `span`'s line,
    /// if that operator wants an operand after it (`??`, `==`, `=`, …).
    fn operator_ending_previous_line(&self, span: Span) -> Option<(Span, Token<'src>)> {
        let mut line = line_around(self.src, span.start as usize);
        // A few blank or comment lines may sit in between; no further.
        for _ in 0..4 {
            if line.start == 0 {
                return None;
            }
            line = line_around(self.src, line.start - 1);
            if let Some(&(op_span, op)) = line_tokens(self.src, line.clone()).last() {
                return op.wants_operand().then_some((op_span, op));
            }
        }
        None
    }

    /// True if the statement `span` is in starts with `if` or `} else if`,
    /// on this line or the line of code above.
    fn in_if_condition(&self, span: Span) -> bool {
        let here = line_around(self.src, span.start as usize);
        let above = (here.start > 0).then(|| line_around(self.src, here.start - 1));
        [Some(here), above].into_iter().flatten().any(|line| {
            let tokens = line_tokens(self.src, line);
            let mut kinds = tokens.iter().map(|(_, t)| *t).skip_while(|t| matches!(t, Token::RBrace | Token::Else));
            kinds.next() == Some(Token::If)
        })
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
            self.literal(
                Diagnostic::new(Code::IntegerOverflow, format!("`{text}` does not fit in a 64-bit signed integer"))
                    .primary(self.file, span, "out of range")
                    .note(format!("integers range from {} to {}", i64::MIN, i64::MAX)),
            );
            0
        })
    }

    pub fn float(&mut self, text: &str, span: Span) -> f64 {
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => f,
            _ => {
                self.literal(
                    Diagnostic::new(Code::FloatOverflow, format!("`{text}` is not a finite number"))
                        .primary(self.file, span, "out of range")
                        .note("floats are 64-bit; the largest is about 1.8e308"),
                );
                0.0
            }
        }
    }

    pub fn quantity(&mut self, text: &'src str, span: Span) -> Literal<'src> {
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (digits, unit) = text.split_at(split);
        let value = digits.parse().unwrap_or_else(|_| {
            self.literal(
                Diagnostic::new(Code::IntegerOverflow, format!("`{digits}` does not fit in a 64-bit unsigned integer"))
                    .primary(
                        self.file,
                        Span::new(span.start as usize, span.start as usize + digits.len()),
                        "out of range",
                    )
                    .note(format!("quantities range from 0 to {}", u64::MAX)),
            );
            0
        });
        Literal::Quantity { value, unit }
    }

    /// The body of a `"…"` token, closing quote optional: the token stream
    /// reported an unterminated string already.
    fn cooked_body(&mut self, raw: &'src str, span: Span) -> (&'src str, usize) {
        let inner = &raw[1..];
        let body = match inner.strip_suffix('"').filter(|_| raw.len() >= 2) {
            Some(body) => body,
            None => inner.strip_suffix('\\').unwrap_or(inner),
        };
        (body, span.start as usize + 1)
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

    /// An `'…` or `r'…` literal without its closing quote, taken as if it
    /// were closed; the token stream reported it already.
    pub fn unterminated_raw(&mut self, raw: &'src str, _span: Span) -> Literal<'src> {
        match raw.strip_prefix("r'") {
            Some(pattern) => Literal::Regex(pattern),
            None => Literal::Str(Cow::Borrowed(&raw[1..]), StrStyle::Raw),
        }
    }
}

/// The terminals LALRPOP expected where an error occurred, without quotes.
struct Expected(Vec<String>);

/// Terminals that can start an expression.
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

/// Terminals that can continue an expression.
const OPERATORS: &[&str] = &["==", "!=", "<", "<=", ">", ">=", "=~", "!~", "&&", "||", "??", ".", "["];

/// Terminals that can start a rule member: a statement or a clause.
const STATEMENT_STARTS: &[&str] =
    &["let", "if", "drop", "emit", "labels", "payload", "when", "framing", "multiline", "max_record_size"];

impl Expected {
    fn new(raw: &[String]) -> Expected {
        Expected(raw.iter().map(|e| e.trim_matches('"').to_string()).collect())
    }

    fn has(&self, terminal: &str) -> bool {
        self.0.iter().any(|e| e == terminal)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn only(&self, terminal: &str) -> bool {
        self.0.len() == 1 && self.has(terminal)
    }

    fn is_expression_start(&self) -> bool {
        ["ident", "int", "string", "(", "meta"].iter().all(|t| self.has(t))
    }

    /// In a rule body or a block, where a statement can start.
    fn is_statement_start(&self) -> bool {
        ["let", "if", "drop", "emit", "payload"].iter().all(|t| self.has(t))
    }

    /// At the top level of a file, where `schema`, `rule` and `test` start.
    fn is_item_start(&self) -> bool {
        ["schema", "rule", "test"].iter().all(|t| self.has(t)) && !self.has("let")
    }

    /// The expected terminals for a message, folding the many that can start
    /// an expression into "an expression", those that can start a statement
    /// into "a statement", and the operators that can continue an expression
    /// into "an operator".
    fn describe(&self) -> String {
        let is_expr = self.is_expression_start();
        let is_stmt = self.is_statement_start();
        let is_operator = OPERATORS.iter().filter(|t| self.has(t)).count() >= 3;
        let mut names: Vec<String> = Vec::new();
        let mut add = |name: String| {
            if !names.contains(&name) {
                names.push(name);
            }
        };
        for e in self.0.iter().map(String::as_str) {
            if (is_expr && EXPR_STARTS.contains(&e))
                || (is_stmt && STATEMENT_STARTS.contains(&e))
                || (is_operator && OPERATORS.contains(&e))
            {
                continue;
            }
            add(match e {
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
        if is_stmt {
            names.insert(0, "a statement".into());
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(src: &str) -> Vec<(&'static str, usize)> {
        let parsed = parse(FileId(0), src);
        parsed.diagnostics.iter().map(|d| (d.code.as_str(), d.primary_span().map_or(0, |s| s.start as usize))).collect()
    }

    #[test]
    fn line_lookups_go_forwards_and_backwards() {
        let log = ErrorLog::new("a\nb\n\nc");
        assert_eq!(log.line_of(6), 3);
        assert_eq!(log.line_of(2), 1);
        assert_eq!(log.line_of(0), 0);
        assert_eq!(log.line_of(100), 3);
        assert!(log.claim_line(2));
        assert!(!log.claim_line(3));
    }

    #[test]
    fn bracket_depth_ignores_brackets_in_strings_and_comments() {
        let src = "rule a { let x = \"{(\" # {\n if b { ";
        let log = ErrorLog::new(src);
        assert_eq!(log.depth_before(src.len()), 2);
        assert_eq!(log.depth_before(8), 1);
        assert_eq!(log.depth_before(0), 0);
    }

    #[test]
    fn the_leftmost_error_of_a_line_wins_whatever_the_order_of_reporting() {
        // The parser reports `s` only after recovery lexed the unterminated string.
        let src = "test \"t\" { input { line: 'it's \"x' } }\n";
        assert_eq!(codes(src), [("E0201", 29)]);
        // A stray character hides the cascade after it.
        assert_eq!(codes("rule a {\n payload.x = \"a\" + \"b\"\n}\n"), [("E0101", 26)]);
    }

    #[test]
    fn top_level_errors_inside_open_brackets_are_cascades() {
        let src = "rule a {\n  if x = 1 {\n    drop \"d\"\n  }\n  emit\n}\n";
        assert_eq!(codes(src), [("E0201", 16)]);
        // A `}` too many at the top level is reported.
        assert_eq!(codes("rule a {\n  emit\n}\n}\n"), [("E0201", 18)]);
    }

    #[test]
    fn an_unexpected_end_of_file_points_at_the_open_brace() {
        let src = "rule a {\n  if x {\n    emit\n}\n";
        let parsed = parse(FileId(0), src);
        let [d] = parsed.diagnostics.as_slice() else { panic!("{:?}", parsed.diagnostics) };
        assert_eq!(d.code, Code::UnexpectedEof);
        let secondary: Vec<_> = d.labels.iter().filter(|l| !l.primary).map(|l| l.span.start).collect();
        assert_eq!(secondary, [7, 16, 27]);
    }

    #[test]
    fn a_stopped_stream_reports_no_end_of_file() {
        let src = format!("rule a {{ let x = {} }}", "(".repeat(MAX_NESTING + 1));
        assert_eq!(codes(&src).iter().map(|c| c.0).collect::<Vec<_>>(), ["E0203"]);
        let src = "rule a {\n".to_string() + &"  let = 1\n".repeat(MAX_ERRORS + 5) + "}\n";
        let found = codes(&src);
        assert_eq!(found.len(), MAX_ERRORS + 1);
        assert_eq!(found.last().map(|c| c.0), Some("E0205"));
    }
}
