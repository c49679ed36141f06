//! The `uml` runtime: the hot path that applies a compiled plan to log lines.
//!
//! | module | what |
//! | --- | --- |
//! | [`plan`] | the `Plan` the compiler builds: flat ops over numbered slots, side tables |
//! | [`exec`] | the executor: routing once per file and stream, a rule per line, the record written to bytes |
//! | [`pipeline`] | the stream layer: raw lines of a file in, records out, every line accounted for |
//! | [`framing`] | kubelet file names, CRI and docker json-file lines, partial-line reassembly |
//! | [`group`] | multiline grouping: Python tracebacks, Go panics, start/continue patterns |
//! | [`json`] | one-pass JSON scanning on borrowed bytes, for field pushdown |
//! | [`output`] | records to bytes: NDJSON lines and Loki push bodies |
//! | [`stdlib`] | the standard library's pure functions |
//!
//! Nothing here knows the rule language's syntax: the compiler
//! (`uml-compiler`) builds plans, this crate runs them. Nothing panics on
//! any input, and once its buffers have grown to the longest line seen,
//! nothing allocates per line.
#![forbid(unsafe_code)]
pub mod exec;
pub mod framing;
pub mod group;
pub mod json;
pub mod output;
pub mod pipeline;
pub mod plan;
mod plan_print;
pub mod stdlib;
