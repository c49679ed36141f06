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
