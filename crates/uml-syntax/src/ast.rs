//! The abstract syntax tree: faithful to the source, with a span on every node.
//!
//! "Faithful" means the tree keeps what the formatter needs to print the file
//! back as the author wrote it, minus layout: parentheses ([`ExprKind::Group`]),
//! raw versus cooked strings ([`StrStyle`]), quoted versus bare keys, number
//! literals as written. Names are not resolved and nothing is type-checked
//! here; that is the compiler's job.
//!
//! Strings borrow from the source where they can (`Cow::Borrowed`) and own
//! their text only where an escape had to be decoded.
//!
//! Depth is bounded by construction: `&&`, `||` and `??` chains are n-ary
//! ([`ExprKind::Chain`]), `else if` chains and paths are flat lists, so the
//! tree is only as deep as the source's bracket and `!` nesting, which the
//! parser limits to [`crate::MAX_NESTING`]. Every recursive walk over an AST
//! is therefore safe on any input the parser accepts.

use crate::span::Span;
use std::borrow::Cow;

/// A parsed `.uml` file.
#[derive(Clone, Debug, PartialEq)]
pub struct File<'src> {
    pub items: Vec<Item<'src>>,
    /// Every `#` comment in the file, in order, for the formatter.
    pub comments: Vec<Comment>,
}

/// A `# …` comment; `span` covers the `#` to the end of the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item<'src> {
    Schema(Schema<'src>),
    Rule(Rule<'src>),
    Test(Test<'src>),
}

impl Item<'_> {
    pub fn span(&self) -> Span {
        match self {
            Item::Schema(s) => s.span,
            Item::Rule(r) => r.span,
            Item::Test(t) => t.span,
        }
    }
}

/// An identifier: a variable, function, rule or schema-type name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ident<'src> {
    pub name: &'src str,
    pub span: Span,
}

/// An object key or field name: `message`, `"odd key"`, or a keyword used as
/// a key (`labels`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key<'src> {
    pub name: Cow<'src, str>,
    /// Written as a `"…"` string in the source.
    pub quoted: bool,
    pub span: Span,
}

// ---------------------------------------------------------------------------
// Schema

/// `schema { labels { … } payload { … } }`: the output record's shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema<'src> {
    pub sections: Vec<SchemaSection<'src>>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SectionKind {
    /// `labels { … }`: the Loki stream labels.
    Labels,
    /// `payload { … }`: the fields of the JSON line.
    Payload,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SchemaSection<'src> {
    pub kind: SectionKind,
    pub fields: Vec<FieldDecl<'src>>,
    pub span: Span,
}

/// `name: type`, `name?: type` (optional) or `*: type` (any other key).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl<'src> {
    pub name: FieldName<'src>,
    pub optional: bool,
    pub ty: TypeExpr<'src>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FieldName<'src> {
    Named(Key<'src>),
    /// `*`: every key not declared by name.
    Wildcard(Span),
}

/// A type in a schema: `string`, `"INFO" | "WARNING"`, `string | null`.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExpr<'src> {
    /// A named type: `string`, `int`, `float`, `bool`, `null`, `object`,
    /// `array`, `any`. Checked by the compiler.
    Named(Ident<'src>),
    /// A literal type: exactly this value (`"1"`, `"fluent-bit"`).
    Literal(Literal<'src>, Span),
    /// `a | b | …`, at least two alternatives.
    Union(Vec<TypeExpr<'src>>, Span),
}

impl TypeExpr<'_> {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named(i) => i.span,
            TypeExpr::Literal(_, s) | TypeExpr::Union(_, s) => *s,
        }
    }
}

// ---------------------------------------------------------------------------
// Rules

/// `rule NAME { when …  directives…  statements… }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule<'src> {
    pub name: Ident<'src>,
    /// Clauses before the first statement: the routing predicate and the
    /// stream directives, in source order.
    pub clauses: Vec<Clause<'src>>,
    pub body: Vec<Stmt<'src>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Clause<'src> {
    /// `when EXPR`: which files (and streams) the rule applies to.
    When(Expr<'src>, Span),
    /// `framing NAME`: `cri`, `docker` or `auto`.
    Framing(Ident<'src>, Span),
    /// `multiline [PRESET] [{ key: value, … }]`.
    Multiline { preset: Option<Ident<'src>>, options: Option<Vec<Entry<'src>>>, span: Span },
    /// `max_record_size LITERAL`, e.g. `256KiB`.
    MaxRecordSize(Expr<'src>, Span),
}

impl Clause<'_> {
    pub fn span(&self) -> Span {
        match self {
            Clause::When(_, s) | Clause::Framing(_, s) | Clause::MaxRecordSize(_, s) => *s,
            Clause::Multiline { span, .. } => *span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt<'src> {
    pub kind: StmtKind<'src>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind<'src> {
    /// `let name = value` or `let name, err = value` (the error binding
    /// handles a fallible value).
    Let { name: Ident<'src>, err: Option<Ident<'src>>, value: Expr<'src> },
    /// `payload.KEY = value` or `labels.KEY = value`.
    Assign { target: Output<'src>, value: Expr<'src> },
    /// `if c { … } else if c { … } else { … }`: one or more branches.
    If { branches: Vec<(Expr<'src>, Block<'src>)>, otherwise: Option<Block<'src>> },
    /// `drop "reason"`: discard the line; the reason is counted.
    Drop { reason: StrLit<'src> },
    /// `emit`: emit the record now and stop.
    Emit,
}

/// A `{ statements }` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Block<'src> {
    pub stmts: Vec<Stmt<'src>>,
    pub span: Span,
}

/// A place in the output record.
#[derive(Clone, Debug, PartialEq)]
pub struct Output<'src> {
    pub root: OutputRoot,
    pub key: Key<'src>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputRoot {
    Labels,
    Payload,
}

// ---------------------------------------------------------------------------
// Tests

/// `test "name" { input {…}  expect {…}  expect drop "reason" }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Test<'src> {
    pub name: StrLit<'src>,
    pub clauses: Vec<TestClause<'src>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TestClause<'src> {
    /// `input { pod: …, lines: [ … ], … }`.
    Input(Vec<Entry<'src>>, Span),
    /// `expect { labels: {…}, payload: {…} }`: the next record.
    Expect(Vec<Entry<'src>>, Span),
    /// `expect drop "reason"`: the next line is dropped for this reason.
    ExpectDrop(StrLit<'src>, Span),
}

// ---------------------------------------------------------------------------
// Expressions

#[derive(Clone, Debug, PartialEq)]
pub struct Expr<'src> {
    pub kind: ExprKind<'src>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind<'src> {
    Literal(Literal<'src>),
    /// `"text {path} text"`: a string with at least one hole.
    Template(Vec<TemplatePart<'src>>),
    /// `[a, b]`.
    Array(Vec<Expr<'src>>),
    /// `{ key: value, … }`.
    Object(Vec<Entry<'src>>),
    /// A `let`-bound variable or a regex capture.
    Var(Ident<'src>),
    /// `%pod`: metadata of the line being processed.
    Meta(Ident<'src>),
    /// `payload.KEY` or `labels.KEY` read back.
    Output(Output<'src>),
    /// `base.a."b"[0]`: one or more segments after a base expression.
    Path {
        base: Box<Expr<'src>>,
        segments: Vec<Segment<'src>>,
    },
    /// `name(args)` or, aborting the line on failure, `name!(args)`.
    Call {
        func: Ident<'src>,
        abort: bool,
        args: Vec<Arg<'src>>,
    },
    /// `!e`.
    Not(Box<Expr<'src>>),
    /// `a == b`, `a =~ r'…'` and the other comparisons (non-associative).
    Compare {
        op: CompareOp,
        op_span: Span,
        lhs: Box<Expr<'src>>,
        rhs: Box<Expr<'src>>,
    },
    /// `a && b && …`, `a || b || …`, `a ?? b ?? …`: two or more operands.
    Chain {
        op: ChainOp,
        operands: Vec<Expr<'src>>,
    },
    /// `if c { e } else if c { e } else { e }` in expression position.
    If {
        branches: Vec<(Expr<'src>, Expr<'src>)>,
        otherwise: Box<Expr<'src>>,
    },
    /// `( e )`.
    Group(Box<Expr<'src>>),
}

/// `key: value` in an object literal, a directive's options or a test.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry<'src> {
    pub key: Key<'src>,
    pub value: Expr<'src>,
}

/// `.key`, `."quoted key"` or `[index]`.
#[derive(Clone, Debug, PartialEq)]
pub enum Segment<'src> {
    Field(Key<'src>),
    Index(i64, Span),
}

/// A call argument, positional or `name: value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg<'src> {
    pub name: Option<Ident<'src>>,
    pub value: Expr<'src>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    /// `=~`: matches a regex; in a condition it binds the regex's named captures.
    Match,
    /// `!~`: does not match a regex.
    NotMatch,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::NotEq => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Match => "=~",
            CompareOp::NotMatch => "!~",
        }
    }
}

/// N-ary operators, loosest binding first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChainOp {
    /// `??`: the first operand that neither fails nor is null.
    Coalesce,
    /// `||`.
    Or,
    /// `&&`.
    And,
}

impl ChainOp {
    pub fn as_str(self) -> &'static str {
        match self {
            ChainOp::Coalesce => "??",
            ChainOp::Or => "||",
            ChainOp::And => "&&",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum TemplatePart<'src> {
    Text(Cow<'src, str>),
    /// `{path}`: a variable, `%meta` or output read, with optional segments.
    Hole(Expr<'src>),
}

/// A string literal with its decoded value.
#[derive(Clone, Debug, PartialEq)]
pub struct StrLit<'src> {
    pub value: Cow<'src, str>,
    pub style: StrStyle,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrStyle {
    /// `"…"`: backslash escapes.
    Cooked,
    /// `'…'`: taken verbatim.
    Raw,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal<'src> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'src, str>, StrStyle),
    /// `r'…'`: the pattern text between the quotes.
    Regex(&'src str),
    /// `256KiB`: a non-negative number and its unit, checked by the compiler.
    Quantity {
        value: u64,
        unit: &'src str,
    },
}
