//! Generates the LALR(1) parser from `grammar/uml.lalrpop` at the workspace root.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let grammar_dir = manifest.join("../../grammar");
    println!("cargo:rerun-if-changed={}", grammar_dir.join("uml.lalrpop").display());
    lalrpop::Configuration::new()
        .set_in_dir(&grammar_dir)
        .set_out_dir(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .emit_rerun_directives(true)
        .process()
        .expect("grammar/uml.lalrpop is a valid LALRPOP grammar");
}
