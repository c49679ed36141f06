//! The embedded rules on arbitrary lines and metadata: every record they make
//! satisfies the output schema of docs/contract.md, "The unified record",
//! every line without a record is explained, and nothing panics.
//!
//! The input format (metadata picked among realistic files or read from the
//! input, flags, an optional traceback, lines) and the laws are in
//! `tests/support/record_schema.rs`, shared with `tests/execute_schema.rs`,
//! which replays the seeds in `fuzz/seeds/execute/` on stable Rust.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/record_schema.rs"]
mod record_schema;

use record_schema::{Case, run_case};

fuzz_target!(|data: &[u8]| {
    let case = Case::decode(data);
    if let Err(e) = run_case(&case) {
        panic!("the schema is broken: {e}");
    }
});
