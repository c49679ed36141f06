//! The canonical formatter: prints a [`File`] back as `.uml` source.
//!
//! There is exactly one layout for a tree, so formatting is idempotent and a
//! formatted file shows only real changes in a diff. The layout is decided by
//! a small Wadler-style pretty printer (`Doc`): the tree is first turned
//! into text with the places where a line may break, grouped so that a
//! group either fits on one line or breaks at all of its places. That is how
//! an object literal stays on one line when it is short and gets one entry
//! per line (with a trailing comma) when it is not, and how a long `&&` chain
//! puts each operand on a line of its own with the operator leading.
//!
//! Two things are taken from the source text rather than from the tree:
//! blank lines between statements (at most one is kept) and comments. The
//! tree holds comments only as spans ([`File::comments`]); the printer
//! walks the tree in source order and hands out comments from a cursor at
//! *anchor points*:
//!
//! - before a statement, field, clause, item, list element or chain operand:
//!   every comment not yet printed that starts before it, printed on lines
//!   of their own;
//! - right after one of those (or after a block's `{`): a comment on the
//!   same source line, printed as a trailing comment;
//! - before a closing bracket: the comments left inside, on lines of their
//!   own.
//!
//! A comment that none of the anchors inside a node takes (say, between a
//! comparison's operands) is printed on its own line before the node, with
//! its leading comments. The cursor only moves forward and the file ends by
//! printing whatever is left, so a comment can move but is never lost; once
//! moved, it sits where the same anchor takes it again, which keeps the
//! formatter idempotent.
//!
//! ```
//! use uml_syntax::{FileId, format::format, parse};
//!
//! let src = "rule r{let x={a:1,b:[2,3]} # Why.\n emit}";
//! let parsed = parse(FileId(0), src);
//! assert_eq!(format(&parsed.file, src), "rule r {\n  let x = { a: 1, b: [2, 3] } # Why.\n  emit\n}\n");
//! ```

use crate::ast::*;
use crate::span::Span;
use std::borrow::Cow;
use std::fmt::Write;

/// The width the printer fills before it breaks a group.
const MAX_WIDTH: usize = 100;

/// Spaces per nesting level.
const INDENT: usize = 2;

/// Prints `file` in canonical layout. `src` is the text `file` was parsed
/// from; it supplies the comments and the blank lines. For a tree built in
/// code (with [`Span::DUMMY`] spans and no comments), pass `""`.
pub fn format(file: &File<'_>, src: &str) -> String {
    let mut f = Formatter { src, comments: &file.comments, next: 0 };
    let doc = f.file(&file.items);
    render(&doc, MAX_WIDTH)
}

// ---------------------------------------------------------------------------
// From the tree to a document

/// Turns the tree into a [`Doc`], placing comments as it goes.
struct Formatter<'a> {
    src: &'a str,
    comments: &'a [Comment],
    /// The first comment not printed yet.
    next: usize,
}

/// A node printed on lines of its own inside `{ … }`.
#[derive(Clone, Copy)]
enum BlockItem<'a> {
    Section(&'a SchemaSection<'a>),
    Field(&'a FieldDecl<'a>),
    Clause(&'a Clause<'a>),
    Stmt(&'a Stmt<'a>),
    TestClause(&'a TestClause<'a>),
}

impl BlockItem<'_> {
    fn span(self) -> Span {
        match self {
            BlockItem::Section(s) => s.span,
            BlockItem::Field(f) => f.span,
            BlockItem::Clause(c) => c.span(),
            BlockItem::Stmt(s) => s.span,
            BlockItem::TestClause(TestClause::Input(_, span) | TestClause::Expect(_, span))
            | BlockItem::TestClause(TestClause::ExpectDrop(_, span)) => *span,
        }
    }
}

/// An element of a bracketed, comma-separated list.
#[derive(Clone, Copy)]
enum ListItem<'a> {
    Expr(&'a Expr<'a>),
    Entry(&'a Entry<'a>),
    Arg(&'a Arg<'a>),
}

impl ListItem<'_> {
    fn span(self) -> Span {
        match self {
            ListItem::Expr(e) => e.span,
            ListItem::Entry(e) => e.key.span.to(e.value.span),
            ListItem::Arg(a) => a.name.map_or(a.value.span, |n| n.span.to(a.value.span)),
        }
    }
}

/// Lines laid out one under the other, and where in the source the last
/// thing printed ended (to see blank lines in the source).
struct Lines<'a> {
    docs: Vec<Doc<'a>>,
    prev_end: u32,
}

impl<'a> Lines<'a> {
    fn new(prev_end: u32) -> Self {
        Lines { docs: Vec::new(), prev_end }
    }

    /// Appends a line, after a blank line if `blank`.
    fn push(&mut self, blank: bool, doc: Doc<'a>) {
        if !self.docs.is_empty() {
            self.docs.push(Doc::HardLine);
            if blank {
                self.docs.push(Doc::HardLine);
            }
        }
        self.docs.push(doc);
    }
}

impl<'a> Formatter<'a> {
    // -- Comments and blank lines --------------------------------------------

    /// Takes every comment not printed yet that starts before `pos`.
    fn take_before(&mut self, pos: u32) -> &'a [Comment] {
        let first = self.next;
        while self.comments.get(self.next).is_some_and(|c| c.span.start < pos) {
            self.next += 1;
        }
        &self.comments[first..self.next]
    }

    /// Takes the next comment if it starts on the source line that `after`
    /// is on, at or after `after` and before `limit`: a trailing comment.
    fn take_trailing(&mut self, after: u32, limit: u32) -> Option<Comment> {
        let c = *self.comments.get(self.next)?;
        let between = self.src.get(after as usize..c.span.start as usize)?;
        if c.span.start >= limit || between.contains('\n') {
            return None;
        }
        self.next += 1;
        Some(c)
    }

    fn comment(&self, c: Comment) -> Doc<'a> {
        // A comment runs to the end of its line, so its text may end with
        // the `\r` of a CRLF line ending.
        Doc::text(self.src.get(c.span.range()).unwrap_or("#").trim_end())
    }

    fn trailing(&self, c: Comment) -> Doc<'a> {
        Doc::concat([Doc::text(" "), self.comment(c), Doc::BreakParent])
    }

    /// Whether the source has an empty line between `from` and `to`.
    fn blank_line(&self, from: u32, to: u32) -> bool {
        self.src.get(from as usize..to as usize).is_some_and(|s| s.bytes().filter(|&b| b == b'\n').count() >= 2)
    }

    /// Appends one node on lines of its own: the comments before it and the
    /// ones inside it that no anchor took, then the node with its trailing
    /// comment. `limit` is where the next node starts. A blank line in the
    /// source before the node or one of its comments is kept; `blank`
    /// forces one before the first of them.
    fn line(
        &mut self,
        lines: &mut Lines<'a>,
        span: Span,
        limit: u32,
        blank: bool,
        node: impl FnOnce(&mut Self) -> Doc<'a>,
    ) {
        let mut blank = blank;
        for &c in self.take_before(span.start) {
            lines.push(blank || self.blank_line(lines.prev_end, c.span.start), self.comment(c));
            lines.prev_end = c.span.end;
            blank = false;
        }
        let blank = blank || self.blank_line(lines.prev_end, span.start);
        let doc = node(self);
        let mut docs = Vec::new();
        for &c in self.take_before(span.end) {
            docs.push(self.comment(c));
            docs.push(Doc::HardLine);
        }
        docs.push(doc);
        lines.prev_end = span.end;
        if let Some(c) = self.take_trailing(span.end, limit) {
            docs.push(self.trailing(c));
            lines.prev_end = c.span.end;
        }
        lines.push(blank, Doc::Concat(docs));
    }

    /// Appends the comments left before `end` on lines of their own.
    fn end_comments(&mut self, lines: &mut Lines<'a>, end: u32) {
        for &c in self.take_before(end) {
            lines.push(self.blank_line(lines.prev_end, c.span.start), self.comment(c));
            lines.prev_end = c.span.end;
        }
    }

    // -- Items and blocks -----------------------------------------------------

    /// Items are separated by one blank line; comments at the top and the
    /// bottom of the file keep a blank line they have in the source.
    fn file(&mut self, items: &'a [Item<'a>]) -> Doc<'a> {
        let mut lines = Lines::new(0);
        for (i, item) in items.iter().enumerate() {
            let limit = items.get(i + 1).map_or(u32::MAX, |next| next.span().start);
            self.line(&mut lines, item.span(), limit, i > 0, |f| f.item(item));
        }
        self.end_comments(&mut lines, u32::MAX);
        if lines.docs.is_empty() {
            return Doc::Nil;
        }
        lines.docs.push(Doc::HardLine);
        Doc::Concat(lines.docs)
    }

    fn item(&mut self, item: &'a Item<'a>) -> Doc<'a> {
        match item {
            Item::Schema(schema) => {
                let sections: Vec<_> = schema.sections.iter().map(BlockItem::Section).collect();
                let header_end = schema.span.start + "schema".len() as u32;
                Doc::concat([Doc::text("schema "), self.block(header_end, &sections, schema.span.end)])
            }
            Item::Rule(rule) => {
                let clauses = rule.clauses.iter().map(BlockItem::Clause);
                let members: Vec<_> = clauses.chain(rule.body.iter().map(BlockItem::Stmt)).collect();
                Doc::concat([
                    Doc::text("rule "),
                    Doc::text(rule.name.name),
                    Doc::text(" "),
                    self.block(rule.name.span.end, &members, rule.span.end),
                ])
            }
            Item::Test(test) => {
                let clauses: Vec<_> = test.clauses.iter().map(BlockItem::TestClause).collect();
                Doc::concat([
                    Doc::text("test "),
                    Doc::text(plain_string(&test.name)),
                    Doc::text(" "),
                    self.block(test.name.span.end, &clauses, test.span.end),
                ])
            }
        }
    }

    /// `{ … }` with one member per line. `header_end` is where the code on
    /// the line that opens the block ends in the source (a comment after it
    /// stays on that line) and `end` is the end of the closing `}`.
    fn block(&mut self, header_end: u32, members: &[BlockItem<'a>], end: u32) -> Doc<'a> {
        let first_start = members.first().map_or(end, |m| m.span().start);
        let opener = self.take_trailing(header_end, first_start);
        let mut lines = Lines::new(opener.map_or(header_end, |c| c.span.end));
        for (i, &member) in members.iter().enumerate() {
            let limit = members.get(i + 1).map_or(end, |next| next.span().start);
            self.line(&mut lines, member.span(), limit, false, |f| f.block_item(member));
        }
        self.end_comments(&mut lines, end);
        if lines.docs.is_empty() && opener.is_none() {
            return Doc::text("{}");
        }
        Doc::concat([
            Doc::text("{"),
            opener.map_or(Doc::Nil, |c| self.trailing(c)),
            Doc::indent(Doc::concat([Doc::HardLine, Doc::Concat(lines.docs)])),
            Doc::HardLine,
            Doc::text("}"),
        ])
    }

    fn block_item(&mut self, item: BlockItem<'a>) -> Doc<'a> {
        match item {
            BlockItem::Section(section) => {
                let name = match section.kind {
                    SectionKind::Labels => "labels",
                    SectionKind::Payload => "payload",
                };
                let fields: Vec<_> = section.fields.iter().map(BlockItem::Field).collect();
                let header_end = section.span.start + name.len() as u32;
                Doc::concat([Doc::text(name), Doc::text(" "), self.block(header_end, &fields, section.span.end)])
            }
            BlockItem::Field(field) => {
                let name = match &field.name {
                    FieldName::Named(key) => key_text(key),
                    FieldName::Wildcard(_) => Cow::Borrowed("*"),
                };
                let optional = if field.optional { "?: " } else { ": " };
                Doc::concat([Doc::text(name), Doc::text(optional), type_expr(&field.ty)])
            }
            BlockItem::Clause(clause) => self.clause(clause),
            BlockItem::Stmt(stmt) => self.stmt(stmt),
            BlockItem::TestClause(TestClause::Input(entries, span)) => {
                Doc::concat([Doc::text("input "), self.object(entries, span.end)])
            }
            BlockItem::TestClause(TestClause::Expect(entries, span)) => {
                Doc::concat([Doc::text("expect "), self.object(entries, span.end)])
            }
            BlockItem::TestClause(TestClause::ExpectDrop(reason, _)) => {
                Doc::concat([Doc::text("expect drop "), Doc::text(plain_string(reason))])
            }
        }
    }

    fn clause(&mut self, clause: &'a Clause<'a>) -> Doc<'a> {
        match clause {
            Clause::When(e, _) => Doc::concat([Doc::text("when "), self.expr(e)]),
            Clause::Framing(name, _) => Doc::concat([Doc::text("framing "), Doc::text(name.name)]),
            Clause::Multiline { preset, options, span } => {
                let mut docs = vec![Doc::text("multiline")];
                if let Some(preset) = preset {
                    docs.extend([Doc::text(" "), Doc::text(preset.name)]);
                }
                if let Some(options) = options {
                    docs.extend([Doc::text(" "), self.object(options, span.end)]);
                }
                Doc::Concat(docs)
            }
            Clause::MaxRecordSize(e, _) => Doc::concat([Doc::text("max_record_size "), self.expr(e)]),
        }
    }

    fn stmt(&mut self, stmt: &'a Stmt<'a>) -> Doc<'a> {
        match &stmt.kind {
            StmtKind::Let { name, err, value } => {
                let mut docs = vec![Doc::text("let "), Doc::text(name.name)];
                if let Some(err) = err {
                    docs.extend([Doc::text(", "), Doc::text(err.name)]);
                }
                docs.extend([Doc::text(" = "), self.expr(value)]);
                Doc::Concat(docs)
            }
            StmtKind::Assign { target, value } => {
                Doc::concat([Doc::text(output(target)), Doc::text(" = "), self.expr(value)])
            }
            StmtKind::If { branches, otherwise } => {
                let mut docs = Vec::new();
                for (i, (cond, block)) in branches.iter().enumerate() {
                    docs.extend([
                        Doc::text(if i == 0 { "if " } else { " else if " }),
                        self.condition(cond),
                        self.stmt_block(block),
                    ]);
                }
                if let Some(block) = otherwise {
                    docs.extend([Doc::text(" else "), self.stmt_block(block)]);
                }
                Doc::Concat(docs)
            }
            StmtKind::Drop { reason } => Doc::concat([Doc::text("drop "), Doc::text(plain_string(reason))]),
            StmtKind::Emit => Doc::text("emit"),
        }
    }

    fn stmt_block(&mut self, block: &'a Block<'a>) -> Doc<'a> {
        let stmts: Vec<_> = block.stmts.iter().map(BlockItem::Stmt).collect();
        self.block(block.span.start + 1, &stmts, block.span.end)
    }

    // -- Expressions ----------------------------------------------------------

    fn expr(&mut self, e: &'a Expr<'a>) -> Doc<'a> {
        match &e.kind {
            ExprKind::Literal(lit) => Doc::text(literal(lit, Braces::Escaped)),
            ExprKind::Template(parts) => self.template(parts),
            ExprKind::Array(items) => {
                let items: Vec<_> = items.iter().map(ListItem::Expr).collect();
                self.list("[", &items, "]", Doc::SoftLine, e.span.end)
            }
            ExprKind::Object(entries) => self.object(entries, e.span.end),
            ExprKind::Var(name) => Doc::text(name.name),
            ExprKind::Meta(name) => Doc::text(format!("%{}", name.name)),
            ExprKind::Output(target) => Doc::text(output(target)),
            ExprKind::Path { base, segments } => {
                let mut path = String::new();
                for segment in segments {
                    match segment {
                        Segment::Field(key) => {
                            path.push('.');
                            path.push_str(&key_text(key));
                        }
                        Segment::Index(i, _) => write!(path, "[{i}]").expect("writing to a String cannot fail"),
                    }
                }
                Doc::concat([self.expr(base), Doc::text(path)])
            }
            ExprKind::Call { func, abort, args } => {
                let args: Vec<_> = args.iter().map(ListItem::Arg).collect();
                Doc::concat([
                    Doc::text(func.name),
                    Doc::text(if *abort { "!" } else { "" }),
                    self.list("(", &args, ")", Doc::SoftLine, e.span.end),
                ])
            }
            ExprKind::Not(operand) => Doc::concat([Doc::text("!"), self.expr(operand)]),
            ExprKind::Compare { op, lhs, rhs, .. } => {
                Doc::concat([self.expr(lhs), Doc::text(format!(" {} ", op.as_str())), self.expr(rhs)])
            }
            ExprKind::Chain { op, operands } => self.chain(*op, operands, Doc::Nil),
            ExprKind::If { branches, otherwise } => self.if_expr(branches, otherwise),
            ExprKind::Group(inner) => Doc::concat([Doc::text("("), self.expr(inner), Doc::text(")")]),
        }
    }

    /// A template: text with `{…}` holes, which the grammar limits to paths.
    fn template(&mut self, parts: &'a [TemplatePart<'a>]) -> Doc<'a> {
        let mut docs = vec![Doc::text("\"")];
        for part in parts {
            match part {
                TemplatePart::Text(text) => docs.push(Doc::text(escape(text, Braces::Escaped))),
                TemplatePart::Hole(path) => docs.extend([Doc::text("{"), self.expr(path), Doc::text("}")]),
            }
        }
        docs.push(Doc::text("\""));
        Doc::Concat(docs)
    }

    fn object(&mut self, entries: &'a [Entry<'a>], end: u32) -> Doc<'a> {
        let entries: Vec<_> = entries.iter().map(ListItem::Entry).collect();
        self.list("{", &entries, "}", Doc::Line, end)
    }

    /// A bracketed list: on one line if it fits, otherwise one element per
    /// line with a trailing comma. `pad` goes inside the brackets (a space
    /// in `{ a: 1 }`, nothing in `[1]`); `end` is the end of the closing
    /// bracket in the source.
    fn list(
        &mut self,
        open: &'static str,
        items: &[ListItem<'a>],
        close: &'static str,
        pad: Doc<'a>,
        end: u32,
    ) -> Doc<'a> {
        let mut body = Vec::new();
        for (i, &item) in items.iter().enumerate() {
            let span = item.span();
            let limit = items.get(i + 1).map_or(end, |next| next.span().start);
            body.push(if i == 0 { pad.clone() } else { Doc::Line });
            let leading = self.take_before(span.start);
            let doc = self.list_item(item);
            let inside = self.take_before(span.end);
            for &c in leading.iter().chain(inside) {
                body.extend([self.comment(c), Doc::HardLine]);
            }
            body.push(doc);
            body.push(if i + 1 == items.len() { Doc::IfBreak(",") } else { Doc::text(",") });
            if let Some(c) = self.take_trailing(span.end, limit) {
                body.push(self.trailing(c));
            }
        }
        for &c in self.take_before(end) {
            body.extend([Doc::SoftLine, self.comment(c), Doc::BreakParent]);
        }
        if body.is_empty() {
            return Doc::text(format!("{open}{close}"));
        }
        Doc::group(Doc::concat([Doc::text(open), Doc::indent(Doc::Concat(body)), pad, Doc::text(close)]))
    }

    fn list_item(&mut self, item: ListItem<'a>) -> Doc<'a> {
        match item {
            ListItem::Expr(e) => self.expr(e),
            ListItem::Entry(entry) => {
                Doc::concat([Doc::text(key_text(&entry.key)), Doc::text(": "), self.expr(&entry.value)])
            }
            ListItem::Arg(Arg { name: Some(name), value }) => {
                Doc::concat([Doc::text(name.name), Doc::text(": "), self.expr(value)])
            }
            ListItem::Arg(Arg { name: None, value }) => self.expr(value),
        }
    }

    /// `a && b && c`: on one line if it fits, otherwise one operand per line
    /// with the operator leading:
    ///
    /// ```text
    /// when %container == "model"
    ///   && %namespace =~ r'^org-'
    /// ```
    ///
    /// The first operand takes no comments before it, since a comment there
    /// would end up after the code that precedes the chain on its line.
    /// `end` is printed after the last operand, in the chain's group.
    fn chain(&mut self, op: ChainOp, operands: &'a [Expr<'a>], end: Doc<'a>) -> Doc<'a> {
        let Some((first, rest)) = operands.split_first() else { return Doc::Nil };
        let head = self.expr(first);
        let mut tail = Vec::new();
        let mut prev_end = first.span.end;
        for operand in rest {
            if let Some(c) = self.take_trailing(prev_end, operand.span.start) {
                tail.push(self.trailing(c));
            }
            tail.push(Doc::Line);
            let leading = self.take_before(operand.span.start);
            let doc = self.expr(operand);
            let inside = self.take_before(operand.span.end);
            for &c in leading.iter().chain(inside) {
                tail.extend([self.comment(c), Doc::HardLine]);
            }
            tail.extend([Doc::text(op.as_str()), Doc::text(" "), doc]);
            prev_end = operand.span.end;
        }
        Doc::group(Doc::concat([head, Doc::indent(Doc::Concat(tail)), end]))
    }

    /// The condition of an `if` and the space before its `{`. When a chain
    /// breaks, the `{` goes on a line of its own, so that the operands do
    /// not line up with the block's statements:
    ///
    /// ```text
    /// if exists(j.request_id)
    ///   && starts_with(j.request_id, "req-")
    /// {
    /// ```
    fn condition(&mut self, cond: &'a Expr<'a>) -> Doc<'a> {
        match &cond.kind {
            ExprKind::Chain { op, operands } => self.chain(*op, operands, Doc::Line),
            _ => Doc::concat([self.expr(cond), Doc::text(" ")]),
        }
    }

    /// `if c { a } else { b }`: on one line if it fits, otherwise with each
    /// value on a line of its own.
    fn if_expr(&mut self, branches: &'a [(Expr<'a>, Expr<'a>)], otherwise: &'a Expr<'a>) -> Doc<'a> {
        let mut docs = Vec::new();
        for (i, (cond, value)) in branches.iter().enumerate() {
            docs.extend([
                Doc::text(if i == 0 { "if " } else { " else if " }),
                self.condition(cond),
                Doc::text("{"),
                Doc::indent(Doc::concat([Doc::Line, self.expr(value)])),
                Doc::Line,
                Doc::text("}"),
            ]);
        }
        docs.extend([
            Doc::text(" else {"),
            Doc::indent(Doc::concat([Doc::Line, self.expr(otherwise)])),
            Doc::Line,
            Doc::text("}"),
        ]);
        Doc::group(Doc::Concat(docs))
    }
}

/// A schema type: `string`, `"INFO"`, or a union, broken before each `|`
/// when it does not fit.
fn type_expr<'a>(ty: &'a TypeExpr<'a>) -> Doc<'a> {
    match ty {
        TypeExpr::Named(name) => Doc::text(name.name),
        TypeExpr::Literal(lit, _) => Doc::text(literal(lit, Braces::Literal)),
        TypeExpr::Union(alternatives, _) => {
            let Some((first, rest)) = alternatives.split_first() else { return Doc::Nil };
            let mut tail = Vec::new();
            for alternative in rest {
                tail.extend([Doc::Line, Doc::text("| "), type_expr(alternative)]);
            }
            Doc::group(Doc::concat([type_expr(first), Doc::indent(Doc::Concat(tail))]))
        }
    }
}

// ---------------------------------------------------------------------------
// Tokens

/// Whether `{` and `}` must be escaped in a cooked string: they open and
/// close holes in expression position, and are plain characters in test
/// names, drop reasons, keys and literal types.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Braces {
    Escaped,
    Literal,
}

fn literal<'a>(lit: &'a Literal<'a>, braces: Braces) -> Cow<'a, str> {
    match lit {
        Literal::Null => Cow::Borrowed("null"),
        Literal::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Literal::Int(i) => Cow::Owned(i.to_string()),
        Literal::Float(f) => Cow::Owned(float(*f)),
        Literal::Str(s, StrStyle::Raw) if can_be_raw(s) => Cow::Owned(format!("'{s}'")),
        Literal::Str(s, _) => Cow::Owned(quoted(s, braces)),
        Literal::Regex(pattern) => Cow::Owned(format!("r'{pattern}'")),
        Literal::Quantity { value, unit } => Cow::Owned(format!("{value}{unit}")),
    }
}

/// `{:?}` prints the shortest text that reads back as the same `f64`, and
/// always with a fraction or an exponent (`1.0`, `0.1`, `1e300`, `1.5e-7`),
/// which is what the lexer takes for a float. The check keeps that true
/// should the standard library's choice change.
fn float(f: f64) -> String {
    let text = format!("{f:?}");
    if text.contains(['.', 'e', 'E']) { text } else { text + ".0" }
}

/// A test name or drop reason, in the style it was written in.
fn plain_string(s: &StrLit<'_>) -> String {
    match s.style {
        StrStyle::Raw if can_be_raw(&s.value) => format!("'{}'", s.value),
        _ => quoted(&s.value, Braces::Literal),
    }
}

/// Whether `s` can be written as a `'raw'` string. The parser only makes
/// raw strings that can; a tree built in code may not.
fn can_be_raw(s: &str) -> bool {
    !s.contains(['\'', '\n'])
}

/// `s` as a `"…"` string.
fn quoted(s: &str, braces: Braces) -> String {
    format!("\"{}\"", escape(s, braces))
}

/// `s` with the escapes a `"…"` string needs, without the quotes.
fn escape(s: &str, braces: Braces) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '{' | '}' if braces == Braces::Escaped => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => write!(out, "\\u{{{:x}}}", u32::from(c)).expect("writing to a String cannot fail"),
            c => out.push(c),
        }
    }
    out
}

/// A key: bare when it is an identifier or a keyword, quoted otherwise.
fn key_text<'a>(key: &'a Key<'a>) -> Cow<'a, str> {
    if is_bare_key(&key.name) { Cow::Borrowed(&key.name) } else { Cow::Owned(quoted(&key.name, Braces::Literal)) }
}

/// Whether `name` can be written as a key without quotes.
pub(crate) fn is_bare_key(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

fn output(target: &Output<'_>) -> String {
    let root = match target.root {
        OutputRoot::Labels => "labels",
        OutputRoot::Payload => "payload",
    };
    format!("{root}.{}", key_text(&target.key))
}

// ---------------------------------------------------------------------------
// The document and its printer

/// Text with the places where it may break into lines (Wadler, "A prettier
/// printer"; this is the subset prettier's printer is built on).
#[derive(Clone, Debug)]
enum Doc<'a> {
    Nil,
    /// Text without newlines.
    Text(Cow<'a, str>),
    /// A space if the enclosing group is flat, otherwise a newline.
    Line,
    /// Nothing if the enclosing group is flat, otherwise a newline.
    SoftLine,
    /// Always a newline; every enclosing group breaks.
    HardLine,
    /// Makes every enclosing group break (after a trailing comment).
    BreakParent,
    /// Text printed only if the enclosing group breaks: a trailing comma.
    IfBreak(&'static str),
    /// The content, with newlines indented one level deeper.
    Indent(Box<Doc<'a>>),
    /// Printed flat if it fits in the line, broken otherwise. `breaks`
    /// records that the content holds a hard line and cannot be flat.
    Group {
        breaks: bool,
        doc: Box<Doc<'a>>,
    },
    Concat(Vec<Doc<'a>>),
}

impl<'a> Doc<'a> {
    fn text(s: impl Into<Cow<'a, str>>) -> Self {
        Doc::Text(s.into())
    }

    fn concat<const N: usize>(docs: [Doc<'a>; N]) -> Self {
        Doc::Concat(docs.into())
    }

    fn indent(doc: Doc<'a>) -> Self {
        Doc::Indent(Box::new(doc))
    }

    fn group(doc: Doc<'a>) -> Self {
        Doc::Group { breaks: doc.forces_break(), doc: Box::new(doc) }
    }

    fn forces_break(&self) -> bool {
        match self {
            Doc::HardLine | Doc::BreakParent => true,
            Doc::Group { breaks, .. } => *breaks,
            Doc::Indent(doc) => doc.forces_break(),
            Doc::Concat(docs) => docs.iter().any(Doc::forces_break),
            Doc::Nil | Doc::Text(_) | Doc::Line | Doc::SoftLine | Doc::IfBreak(_) => false,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Flat,
    Break,
}

/// A document still to print, at an indentation and in a mode.
type Command<'d, 'a> = (usize, Mode, &'d Doc<'a>);

/// Prints `doc`, breaking a group only when it does not fit in `width`
/// columns. Lines carry no trailing spaces.
fn render(doc: &Doc<'_>, width: usize) -> String {
    let mut out = String::new();
    let mut column = 0;
    let mut stack: Vec<Command<'_, '_>> = vec![(0, Mode::Break, doc)];
    while let Some((indent, mode, doc)) = stack.pop() {
        match doc {
            Doc::Nil | Doc::BreakParent => {}
            Doc::Text(s) => {
                out.push_str(s);
                column += s.chars().count();
            }
            Doc::IfBreak(s) => {
                if mode == Mode::Break {
                    out.push_str(s);
                    column += s.chars().count();
                }
            }
            Doc::Line if mode == Mode::Flat => {
                out.push(' ');
                column += 1;
            }
            Doc::SoftLine if mode == Mode::Flat => {}
            Doc::Line | Doc::SoftLine | Doc::HardLine => {
                let trimmed = out.trim_end_matches(' ').len();
                out.truncate(trimmed);
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', indent));
                column = indent;
            }
            Doc::Indent(doc) => stack.push((indent + INDENT, mode, doc)),
            Doc::Concat(docs) => stack.extend(docs.iter().rev().map(|doc| (indent, mode, doc))),
            Doc::Group { breaks, doc } => {
                let flat = mode == Mode::Flat
                    || (!breaks && fits(width as isize - column as isize, (indent, Mode::Flat, doc), &stack));
                stack.push((indent, if flat { Mode::Flat } else { Mode::Break }, doc));
            }
        }
    }
    out
}

/// Whether `next`, followed by `rest` up to its first line break, fits in
/// `remaining` columns.
fn fits(mut remaining: isize, next: Command<'_, '_>, rest: &[Command<'_, '_>]) -> bool {
    let mut stack = vec![next];
    let mut rest = rest.iter().rev();
    loop {
        let Some((indent, mode, doc)) = stack.pop().or_else(|| rest.next().copied()) else { return true };
        match doc {
            Doc::Nil | Doc::BreakParent => {}
            Doc::Text(s) => remaining -= s.chars().count() as isize,
            Doc::IfBreak(s) => {
                if mode == Mode::Break {
                    remaining -= s.chars().count() as isize;
                }
            }
            Doc::Line if mode == Mode::Flat => remaining -= 1,
            Doc::SoftLine if mode == Mode::Flat => {}
            Doc::Line | Doc::SoftLine | Doc::HardLine => return true,
            Doc::Indent(doc) => stack.push((indent + INDENT, mode, doc)),
            Doc::Concat(docs) => stack.extend(docs.iter().rev().map(|doc| (indent, mode, doc))),
            Doc::Group { breaks, doc } => stack.push((indent, if *breaks { Mode::Break } else { mode }, doc)),
        }
        if remaining < 0 {
            return false;
        }
    }
}
