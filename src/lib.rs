//! `uml` — unified model logs: a compiled, zero-copy transform engine that
//! turns the raw container logs of a model-serving platform into one clean
//! Loki stream per model version.
//!
//! This is the facade crate an embedding agent depends on. Today it exposes
//! the rule-language front end; the compiler, the executor and the stream
//! layer join it as they land (see `ARCHITECTURE.md`).
//!
//! # Example
//!
//! Check a rule file and report its problems:
//!
//! ```
//! use uml::syntax::{FileId, parse};
//!
//! let src = "rule r {\n  payload.message = %line\n}\n";
//! let parsed = parse(FileId(0), src);
//! for d in &parsed.diagnostics {
//!     eprintln!("{}: {}", d.code, d.message);
//! }
//! assert!(!parsed.has_errors());
//! ```

pub use uml_syntax as syntax;
