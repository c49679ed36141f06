//! The `uml` compiler: checks a rule set and lowers it into a plan.
//!
//! The pipeline is `parse` (in `uml-syntax`) → [`check`] (names, types,
//! fallibility, the output schema; builds the [`hir`]) → [`lower`] (the flat
//! [`uml_runtime::plan::Plan`], with constant folding, field pushdown, regex
//! specialisation and the flat optimizer passes). [`compile`] runs all of it on rule texts;
//! [`defaults`] is the rule set embedded in the binary. [`stdlib`] reads the
//! signatures of the runtime's functions (`uml_runtime::stdlib::NATIVES`,
//! one definition each) as types; [`prelude`] holds the few written in the
//! rule language itself, which the checker inlines.
//!
//! [`eval`] is the reference evaluator, the language's executable
//! specification: it runs the HIR directly and the executor is tested
//! against it. [`testing`] runs a rule set's `test` blocks on the executor
//! and the evaluator both.
//!
//! A rule checked against the embedded schema, lowered, and its test run on
//! the plan and on the evaluator:
//!
//! ```
//! use uml_compiler::compile::{Unit, compile};
//! use uml_compiler::defaults::default_schema;
//! use uml_compiler::testing::{TestOutcome, run};
//!
//! let rule = r#"
//! rule app {
//!   when %container == "app"
//!   labels.model_version_id = "m1"
//!   labels.namespace = %namespace
//!   payload.source = "model_container"
//!   payload.replica = "r1"
//!   payload.levelname = "INFO"
//!   if %line =~ r'^(?P<lvl>[A-Z]+):' {
//!     payload.levelname = level(lvl) ?? "INFO"
//!   }
//!   payload.message = %line
//! }
//! test "a level word" {
//!   input { pod: "p", namespace: "ns", container: "app", line: "ERROR:boom" }
//!   expect {
//!     labels: { model_version_id: "m1", namespace: "ns" },
//!     payload: { levelname: "ERROR", message: "ERROR:boom", replica: "r1", source: "model_container" },
//!   }
//! }
//! "#;
//! let units = [default_schema(), Unit { name: "app.uml".into(), text: rule.into() }];
//! let compiled = compile(&units, Default::default()).expect("the rule compiles");
//! let runs = run(&compiled.program, Some(&compiled.plan));
//! assert!(matches!(runs[0].outcome, TestOutcome::Passed), "{:?}", runs[0].outcome);
//! ```
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
