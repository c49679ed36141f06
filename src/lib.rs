//! `uml` — unified model logs.
pub use uml_syntax as syntax;
