//! The front end of the `.uml` rule language: text to tokens to a faithful,
//! spanned AST, with every problem reported as a [`Diagnostic`], and back to
//! canonical text with the formatter.
//!
//! This crate is the first stage of the pipeline described in
//! `ARCHITECTURE.md`. It knows nothing of types, plans or logs.
//!
//! # Main types
//!
//! - [`lexer::Token`]: logos tokens that borrow the source.
//! - [`parse`] → [`Parsed`]: an [`ast::File`] plus every diagnostic, never a
//!   failure and never a panic.
//! - [`Diagnostic`]: `{code, severity, message, labels, notes, help}` with a
//!   stable [`Code`]; rendering is left to the caller (the `uml` binary).
//! - [`format::format`]: the canonical printer behind `uml fmt`.
//!
//! # Example
//!
//! ```
//! use uml_syntax::{Code, FileId, ast::Item, format::format, parse};
//!
//! let src = "rule model {\n  when %container == \"model\"\n  payload.message = %line\n}\n";
//! let parsed = parse(FileId(0), src);
//! assert!(parsed.diagnostics.is_empty());
//! assert!(matches!(parsed.file.items[0], Item::Rule(_)));
//! assert_eq!(format(&parsed.file, src), src);
//!
//! // Errors come back as data, with spans: one per independent mistake.
//! let bad = parse(FileId(0), "rule a {\n  let x = = 1\n  let y = (2\n}\n");
//! let codes: Vec<Code> = bad.diagnostics.iter().map(|d| d.code).collect();
//! assert_eq!(codes, [Code::UnexpectedToken, Code::UnexpectedToken]);
//! ```
//!
//! # Invariants
//!
//! - **Parsing never panics and always returns**: whatever parsed, plus
//!   diagnostics; linear time; files over [`MAX_SOURCE_LEN`] are refused.
//! - **Depth is bounded**: brackets and `!` nest at most [`MAX_NESTING`]
//!   deep, and `&&`/`||`/`??`/`else if` chains and paths are flat, so every
//!   recursive walk over an [`ast::File`] is safe on any input.
//! - **Spans are exact**: every node and every diagnostic label points into
//!   the source on character boundaries.
//! - **Formatting is lossless**: `parse(format(f))` equals `f` up to layout
//!   ([`spanless::eq`]), keeps every comment, and is a fixed point.
#![forbid(unsafe_code)]

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
