//! The `uml` command line: argument parsing, file discovery, and rendering of
//! diagnostics. The library crates return data; this crate decides how it is
//! shown and what the exit code is.
