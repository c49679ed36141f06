//! The `uml` runtime: the hot path that applies a compiled plan to log lines.
pub mod exec;
pub mod framing;
pub mod group;
pub mod json;
pub mod pipeline;
pub mod plan;
mod plan_print;
pub mod stdlib;
