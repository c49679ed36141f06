//! The `uml` compiler: checks a rule set and lowers it into a plan.
//!
//! The pipeline is `parse` (in `uml-syntax`) → [`check`] (names, types,
//! fallibility, the output schema; builds the [`hir`]) → [`lower`] (the flat
//! [`uml_runtime::plan::Plan`], with constant folding, field pushdown, regex
//! specialisation and the flat optimizer passes). [`compile`] runs all of it on rule texts;
//! [`defaults`] is the rule set embedded in the binary. [`stdlib`] holds the
//! signatures of the functions the runtime implements; [`prelude`] the few
//! written in the rule language itself, which the checker inlines.
//!
//! [`eval`] is the reference evaluator, the language's executable
//! specification: it runs the HIR directly and the executor is tested
//! against it. [`testing`] runs a rule set's `test` blocks on the executor
//! and the evaluator both.
#![forbid(unsafe_code)]

pub mod check;
pub mod compile;
pub mod defaults;
pub mod eval;
pub mod hir;
pub mod hir_print;
pub mod lower;
pub mod prelude;
pub mod schema;
pub mod stdlib;
pub mod testing;
pub mod types;
