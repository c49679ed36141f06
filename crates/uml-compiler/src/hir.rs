//! The checked program: names resolved, types inferred, fallibility and the
//! output schema verified.
//!
//! The HIR keeps spans (for the side table that maps runtime errors back to
//! rule lines) and the structure of the source: it is a tree, not yet the
//! flat plan. Two consumers read it: lowering, which builds the optimized
//! plan, and the reference evaluator, which runs it directly and is what the
//! plan is tested against.

use crate::schema::Schema;
use crate::stdlib::Func;
use crate::types::Type;
use uml_syntax::ast::CompareOp;
use uml_syntax::{FileId, Span};

/// A checked rule set.
#[derive(Clone, Debug)]
pub struct Program {
    pub schema: Schema,
    pub rules: Vec<Rule>,
    /// Payload fields set under the schema's wildcard `*`, across all rules.
    pub extras: Vec<String>,
    pub tests: Vec<Test>,
}

/// Where a value goes in the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Output {
    /// Index into `Schema::labels`.
    Label(u16),
    /// Index into `Schema::fields`.
    Field(u16),
    /// Index into `Program::extras`.
    Extra(u16),
}

/// A file format a rule may fix (`framing cri`): the runtime's.
pub use uml_runtime::framing::Format;

/// How consecutive lines of a stream are grouped into one record.
#[derive(Clone, Debug, PartialEq)]
pub enum Multiline {
    /// Python tracebacks and Go panics; `head` decides which preceding line
    /// a traceback belongs to.
    PythonTraceback { head: Option<String>, max_lines: u32, idle_ms: u64 },
    /// A `start` line opens a group that `continue` lines join.
    Pattern { start: String, continue_: String, max_lines: u32, idle_ms: u64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VarId(pub u32);

/// How a variable came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarKind {
    Let,
    /// The `err` of `let x, err = …`.
    Error,
    /// A named capture of a `=~` in a condition.
    Capture,
}

#[derive(Clone, Debug)]
pub struct Var {
    pub name: String,
    pub ty: Type,
    pub kind: VarKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub name: String,
    pub file: FileId,
    pub span: Span,
    /// The routing predicate: reads only per-file metadata. `None` takes every line.
    pub when: Option<Expr>,
    /// `None`: detected per file (`framing auto`).
    pub framing: Option<Format>,
    pub multiline: Option<Multiline>,
    pub max_record_size: u32,
    pub vars: Vec<Var>,
    pub body: Vec<Stmt>,
}

/// Line metadata (`%name`): the runtime's, whose values the plan reads.
pub use uml_runtime::plan::Meta;

/// The type a rule sees for `%name`.
pub fn meta_type(m: Meta) -> Type {
    match m {
        Meta::Traceback => Type::STRING.union(&Type::NULL),
        Meta::Stream => Type::one_of(["stdout", "stderr"]),
        Meta::Timestamp => Type::INT,
        _ => Type::STRING,
    }
}

#[derive(Clone, Debug)]
pub enum Stmt {
    Let { var: VarId, err: Option<VarId>, value: Expr, span: Span },
    Assign { output: Output, value: Expr, span: Span },
    If { branches: Vec<(Expr, Vec<Stmt>)>, otherwise: Option<Vec<Stmt>>, span: Span },
    Drop { reason: String, span: Span },
    Emit { span: Span },
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
    /// The expression can fail at run time and nothing inside it handles that.
    pub fallible: bool,
    pub span: Span,
}

/// A regex literal, with its named capture groups in group-index order.
#[derive(Clone, Debug, PartialEq)]
pub struct Regex {
    pub pattern: String,
    /// `(group index, name, always participates in a match)`.
    pub names: Vec<(usize, String, bool)>,
}

#[derive(Clone, Debug)]
pub enum Segment {
    Key(String),
    Index(i64),
}

#[derive(Clone, Debug)]
pub enum Part {
    Text(String),
    Hole(Expr),
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Regex(Regex),
    Template(Vec<Part>),
    Array(Vec<Expr>),
    Object(Vec<(String, Expr)>),
    Var(VarId),
    Meta(Meta),
    Output(Output),
    Path {
        base: Box<Expr>,
        segments: Vec<Segment>,
    },
    /// Arguments by parameter position; `None` for an omitted optional one.
    Call {
        func: Func,
        args: Vec<Option<Expr>>,
        abort: bool,
    },
    Not(Box<Expr>),
    Compare {
        op: CompareOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `subject =~ regex` (or `!~` with `negate`); binds `captures` when the
    /// match succeeds in a condition.
    Match {
        subject: Box<Expr>,
        regex: Regex,
        negate: bool,
        captures: Vec<(usize, VarId)>,
    },
    And(Vec<Expr>),
    Or(Vec<Expr>),
    /// The first operand that neither fails nor is null; the last one otherwise.
    Coalesce(Vec<Expr>),
    If {
        branches: Vec<(Expr, Expr)>,
        otherwise: Box<Expr>,
    },
}

/// A `test` block, with its literal values resolved.
#[derive(Clone, Debug)]
pub struct Test {
    pub name: String,
    pub file: FileId,
    pub span: Span,
    pub input: TestInput,
    pub expect: Vec<Expectation>,
}

#[derive(Clone, Debug, Default)]
pub struct TestInput {
    pub pod: String,
    pub namespace: String,
    pub container: String,
    pub container_id: String,
    pub file: Option<String>,
    pub timestamp: i64,
    /// `(stream, line)` in order.
    pub lines: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub enum Expectation {
    /// Labels (constant ones may be left out) and the exact payload, as
    /// `(key, JSON value)` pairs in the order written.
    Record {
        labels: Vec<(String, String)>,
        payload: Vec<(String, TestValue)>,
        span: Span,
    },
    Drop {
        reason: String,
        span: Span,
    },
}

/// A literal value in a test expectation.
#[derive(Clone, Debug, PartialEq)]
pub enum TestValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<TestValue>),
    Object(Vec<(String, TestValue)>),
}
