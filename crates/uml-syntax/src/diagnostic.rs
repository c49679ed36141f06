//! Diagnostics as data.
//!
//! Every stage of the front end reports problems as [`Diagnostic`] values: a
//! stable [`Code`], a severity, a one-line message, labelled byte spans,
//! notes and an optional help line. Nothing here knows how they are shown;
//! the `uml` binary renders them with the source snippet (rustc style).
//!
//! Codes are stable and never reused: a retired code stays in [`Code`] with
//! its number, so a code found in an old CI log or issue still means what it
//! meant. `docs/language.md` lists every code with an example.

use crate::span::{FileId, Span};
use std::fmt;

/// How serious a diagnostic is. Errors make `uml check` fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $name:ident = $num:literal, $sev:ident, $summary:literal; )*) => {
        /// A stable diagnostic code. `E` codes are errors, `W` codes warnings.
        ///
        /// Ranges: `E01xx` lexical, `E02xx` syntax, `E03xx` names and types,
        /// `E04xx` fallibility, `E05xx` the output schema, `E06xx` rule
        /// structure and directives, `E07xx` tests, `W`… warnings.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[$doc])* $name, )*
        }

        impl Code {
            /// Every code, in numeric order (for documentation and tests).
            pub const ALL: &'static [Code] = &[$(Code::$name),*];

            /// The code as printed, e.g. `E0201`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$name => $num, )* }
            }

            /// The severity a diagnostic with this code always has.
            pub fn severity(self) -> Severity {
                match self { $( Code::$name => Severity::$sev, )* }
            }

            /// A short description of what the code means.
            pub fn summary(self) -> &'static str {
                match self { $( Code::$name => $summary, )* }
            }
        }
    };
}

codes! {
    /// A character that starts no token, e.g. `@` or a stray backtick.
    UnexpectedChar = "E0101", Error, "unexpected character";
    /// A `"` string with no closing quote on the same line.
    UnterminatedString = "E0102", Error, "unterminated string literal";
    /// A backslash escape that the language does not define, e.g. `"\q"`.
    UnknownEscape = "E0103", Error, "unknown escape sequence";
    /// A `'raw'` string or `r'regex'` literal with no closing quote on the same line.
    UnterminatedRaw = "E0104", Error, "unterminated raw string or regex literal";
    /// `\u{…}` that is malformed, a surrogate, or beyond U+10FFFF.
    InvalidUnicodeEscape = "E0105", Error, "invalid unicode escape";
    /// An integer literal outside the signed 64-bit range.
    IntegerOverflow = "E0106", Error, "integer literal out of range";
    /// A `{…}` template hole that is unclosed, empty, or not a path.
    InvalidTemplateHole = "E0107", Error, "invalid template hole";
    /// A float literal that is not finite.
    FloatOverflow = "E0108", Error, "float literal out of range";
    /// A token that cannot appear where it stands.
    UnexpectedToken = "E0201", Error, "unexpected token";
    /// The file ends inside an unfinished construct.
    UnexpectedEof = "E0202", Error, "unexpected end of file";
    /// Brackets or `!` operators nested deeper than the parser allows.
    NestingTooDeep = "E0203", Error, "nesting too deep";
    /// A rule file larger than the front end accepts.
    SourceTooLarge = "E0204", Error, "source file too large";
    /// Parsing stopped after reporting this many errors.
    TooManyErrors = "E0205", Error, "too many syntax errors";
    /// `when` or a stream directive after the first statement of a rule.
    MisplacedClause = "E0206", Error, "rule clause after a statement";
    /// A variable that no `let` or capture binds here.
    UnknownVariable = "E0301", Error, "unknown variable";
    /// A function the standard library does not have.
    UnknownFunction = "E0302", Error, "unknown function";
    /// Too few or too many arguments, or a named argument the function lacks.
    WrongArguments = "E0303", Error, "wrong arguments";
    /// An argument whose type can never be what the parameter takes.
    ArgumentType = "E0304", Error, "argument type mismatch";
    /// An operator applied to operands it can never accept.
    OperatorType = "E0305", Error, "operator type mismatch";
    /// `%name` that is not line metadata.
    UnknownMetadata = "E0306", Error, "unknown metadata";
    /// `.key` or `[i]` on a value that can never be an object or array.
    InvalidPath = "E0307", Error, "path on a value without fields";
    /// A template hole whose value can never print as text.
    HoleType = "E0308", Error, "template hole type";
    /// A regex literal the regex engine rejects.
    InvalidRegex = "E0309", Error, "invalid regex";
    /// A regex where a plain value is needed, or a non-literal right of `=~`.
    RegexMisuse = "E0310", Error, "misplaced regex";
    /// A condition that can never be a bool.
    ConditionType = "E0311", Error, "condition is not a bool";
    /// Metadata that is not known when the rule is routed (`%line` in `when`).
    MetadataInWhen = "E0312", Error, "per-line metadata in `when`";
    /// A type name a schema does not know.
    UnknownType = "E0313", Error, "unknown type";
    /// A quantity with a unit that does not fit where it is used.
    InvalidQuantity = "E0314", Error, "invalid quantity";
    /// A value that must be known when the rules compile is not a literal.
    NotConstant = "E0315", Error, "value must be a literal";
    /// A failure that nothing handles: no `??`, no error binding, no `!`.
    UnhandledFallible = "E0401", Error, "unhandled fallible expression";
    /// `f!(…)` on a call that cannot fail.
    AbortInfallible = "E0402", Error, "abort on an infallible call";
    /// The rule set declares no `schema`.
    MissingSchema = "E0501", Error, "no schema";
    /// A second `schema`, section or field of the same name.
    DuplicateSchemaItem = "E0502", Error, "duplicate schema item";
    /// A label whose type is not a string type.
    LabelNotString = "E0503", Error, "label is not a string";
    /// An assignment to a label or payload field the schema does not declare.
    UndeclaredOutput = "E0504", Error, "undeclared output";
    /// A constant label set to another value.
    ConstantLabel = "E0505", Error, "constant label changed";
    /// A value whose type does not fit the field's declared type.
    OutputType = "E0506", Error, "output type mismatch";
    /// A required label or field not set on every path that emits.
    MissingOutput = "E0507", Error, "required output not set";
    /// `payload.x` or `labels.x` read where it may not have been set.
    OutputReadBeforeSet = "E0508", Error, "output read before it is set";
    /// Two rules with the same name.
    DuplicateRule = "E0601", Error, "duplicate rule";
    /// A clause given twice in one rule.
    DuplicateClause = "E0602", Error, "duplicate clause";
    /// A `framing`, `multiline` preset or option the engine does not know.
    UnknownDirective = "E0603", Error, "unknown directive value";
    /// A test whose `input` or `expect` is malformed.
    InvalidTest = "E0701", Error, "invalid test";
    /// A statement after `drop` or `emit`, or after an `if` whose every branch stops.
    Unreachable = "W0001", Warning, "unreachable statement";
    /// A `let` binding or capture that is never read.
    UnusedBinding = "W0002", Warning, "unused binding";
    /// A rule that takes every file a later rule would take: a rule without
    /// `when` before other rules, or a `when` implied by a later rule's.
    ShadowingRule = "W0003", Warning, "rule shadows later rules";
    /// An error binding on an expression that cannot fail.
    NeedlessErrorBinding = "W0004", Warning, "error binding on an infallible expression";
    /// A constant label set to the value it always has.
    RedundantConstant = "W0005", Warning, "constant label set to its own value";
    /// A `??` whose left side never fails and is never null: its right side is dead.
    DeadFallback = "W0006", Warning, "fallback that never applies";
    /// An extra payload field, taken by the schema's `*`, whose name is a
    /// small edit away from a declared field.
    NearMissField = "W0007", Warning, "extra field close to a declared one";
    /// `%traceback` read in a rule that does not group Python tracebacks.
    TracebackAlwaysNull = "W0008", Warning, "`%traceback` is always null here";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A span in a file with a message. The primary label says where the problem
/// is; secondary labels point at related places.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: String,
    pub primary: bool,
}

/// One problem found in rule source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<Label>,
    pub notes: Vec<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with the code's own severity and no labels yet.
    pub fn new(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            labels: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// Adds the primary label: where the problem is.
    pub fn primary(mut self, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { file, span, message: message.into(), primary: true });
        self
    }

    /// Adds a secondary label: a related place.
    pub fn secondary(mut self, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { file, span, message: message.into(), primary: false });
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The span of the primary label, if any: where a renderer puts the caret.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.iter().find(|l| l.primary).map(|l| l.span)
    }
}
