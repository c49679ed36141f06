//! The embedded default rule set is exactly `rules/`, and it compiles.

use std::path::Path;
use uml_compiler::compile::compile;
use uml_compiler::defaults::{DEFAULT_RULES, default_units};

#[test]
fn the_embedded_rules_are_the_rules_directory() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let mut on_disk: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "uml"))
        .map(|p| {
            let name = format!("rules/{}", p.file_name().unwrap().to_string_lossy());
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    on_disk.sort();
    let embedded: Vec<(String, String)> = DEFAULT_RULES.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
    let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&embedded), names(&on_disk), "crates/uml-compiler/src/defaults.rs lists every file of rules/");
    assert!(embedded == on_disk, "the embedded texts are the files' texts");
}

#[test]
fn the_default_rules_compile_without_warnings() {
    let compiled = compile(&default_units(), Default::default()).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(compiled.warnings.is_empty(), "{:#?}", compiled.warnings);
    assert_eq!(compiled.plan.rules.len(), 5);
}
