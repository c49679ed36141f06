pub mod ast;
pub mod diagnostic;
pub mod format;
pub mod lexer;
pub mod parser;
pub mod span;
pub mod spanless;
mod template;

pub use diagnostic::{Code, Diagnostic, Label, Severity};
pub use parser::{MAX_NESTING, Parsed, parse, parse_expr};
pub use span::{FileId, Span};

/// The largest rule file the front end reads, in bytes.
pub const MAX_SOURCE_LEN: usize = 4 << 20;
