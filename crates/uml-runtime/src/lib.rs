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
//!
//! The pieces below the plan work on their own; a raw kubelet line of a
//! model container, taken apart:
//!
//! ```
//! use uml_runtime::framing::{Stream, parse_cri, parse_file_name};
//! use uml_runtime::stdlib::level::{Level, parse_level};
//!
//! let name = "model-x5qe2qo-7d9f8b6c5d-q7rg5_org-50a9bc6b456e47aa88e0d81e622ea315_model-\
//!             0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log";
//! let file = parse_file_name(name).unwrap();
//! assert_eq!((file.pod, file.container), ("model-x5qe2qo-7d9f8b6c5d-q7rg5", "model"));
//!
//! let raw = b"2026-11-20T10:00:00.123456789Z stderr F WARNING:root:low disk\n";
//! let line = parse_cri(raw).unwrap();
//! assert_eq!((line.stream, line.partial, line.message), (Stream::Stderr, false, &b"WARNING:root:low disk"[..]));
//! assert_eq!(parse_level("warning", None), Ok(Level::Warning));
//! ```
#![forbid(unsafe_code)]
pub mod exec;
pub mod framing;
pub mod group;
pub mod json;
pub mod output;
pub mod pipeline;
pub mod plan;
mod plan_build;
mod plan_print;
pub mod stdlib;
