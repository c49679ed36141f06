//! Snapshots of rendered diagnostics, one case per file.
//!
//! Every `tests/diagnostics/*.uml` file is a rule file with mistakes in it.
//! [`check`] parses it and renders its diagnostics exactly as `uml check`
//! shows them (without colour); the text is compared with the reviewed
//! snapshot `tests/snapshots/diagnostics__<case>.snap`. A case named after a
//! code (`E0201_…`) must produce that code. Two cases are generated here
//! instead of checked in, because their input is megabytes or dozens of
//! lines of the same mistake.
//!
//! To add a case, add a file, run `INSTA_UPDATE=always cargo test --test
//! diagnostics` (or `cargo insta review`), and read the new snapshot: the
//! caret must sit under the mistake and the message must make sense to
//! someone writing rules.

use std::path::{Path, PathBuf};
use uml_cli::render::Renderer;
use uml_cli::sources::{Origin, SourceSet};
use uml_syntax::{Code, FileId};

/// Parses `src` as the file `name`, renders every diagnostic without colour,
/// and returns the text with the codes found.
fn check(name: &str, src: String) -> (String, Vec<Code>) {
    let mut sources = SourceSet::new();
    let id = sources.add(Origin::File(PathBuf::from(name)), name, src);
    let text = sources.get(id).expect("just added").text();
    let parsed = uml_syntax::parse(id, text);
    assert!(parsed.has_errors(), "{name}: parses without errors, but a diagnostics case must fail");
    let rendered = Renderer::new(&sources).render_to_string(&parsed.diagnostics);
    (rendered, parsed.diagnostics.iter().map(|d| d.code).collect())
}

/// A case: its name (the snapshot's) and its source.
struct Case {
    name: String,
    input_file: Option<PathBuf>,
    src: String,
}

fn cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "uml"))
        .collect();
    paths.sort();
    let mut cases: Vec<Case> = paths
        .into_iter()
        .map(|path| Case {
            name: path.file_stem().expect("a file name").to_string_lossy().into_owned(),
            src: std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display())),
            input_file: Some(path),
        })
        .collect();

    // Rule files are limited to 4 MiB; a larger one is refused whole.
    let padding = "# This file is far too large to be a rule file.\n";
    let too_large = padding.repeat(uml_syntax::MAX_SOURCE_LEN / padding.len() + 1);
    cases.push(Case { name: "E0204_source_too_large".into(), input_file: None, src: too_large });

    // The same mistake on every line: parsing stops after MAX_ERRORS of them.
    let mut many = String::from("rule app {\n");
    for i in 0..60 {
        many.push_str(&format!("  let = {i}\n"));
    }
    many.push_str("}\n");
    cases.push(Case { name: "E0205_too_many_errors".into(), input_file: None, src: many });
    cases
}

#[test]
fn rendered_diagnostics_match_their_snapshots() {
    let cases = cases();
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let mut failed = Vec::new();
    for case in &cases {
        let outcome = std::panic::catch_unwind(|| {
            let (rendered, codes) = check(&format!("{}.uml", case.name), case.src.clone());
            if let Some(code) = case.name.split('_').next().filter(|c| c.starts_with('E')) {
                assert!(
                    codes.iter().any(|c| c.as_str() == code),
                    "{}: named after {code} but produces {codes:?}",
                    case.name
                );
            }
            let mut settings = insta::Settings::clone_current();
            settings.set_omit_expression(true);
            if let Some(path) = &case.input_file {
                settings.set_input_file(path);
            }
            settings.bind(|| insta::assert_snapshot!(case.name.as_str(), rendered));
        });
        if outcome.is_err() {
            failed.push(case.name.as_str());
        }
    }
    assert!(failed.is_empty(), "{} of {} cases failed: {}", failed.len(), cases.len(), failed.join(", "));
}

#[test]
fn every_syntax_code_has_a_case() {
    let mut produced = Vec::new();
    for case in cases() {
        produced.extend(check(&case.name, case.src).1);
    }
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|code| code.as_str().starts_with("E01") || code.as_str().starts_with("E02"))
        .filter(|code| !produced.contains(code))
        .map(|code| code.as_str())
        .collect();
    assert!(missing.is_empty(), "no case in tests/diagnostics produces {missing:?}");
}

#[test]
fn every_independent_mistake_is_reported() {
    let case = cases().into_iter().find(|c| c.name == "several_independent_errors").expect("the case exists");
    let parsed = uml_syntax::parse(FileId(0), &case.src);
    let lines: Vec<usize> = parsed
        .diagnostics
        .iter()
        .filter_map(|d| d.primary_span())
        .map(|span| case.src[..span.start as usize].matches('\n').count() + 1)
        .collect();
    assert_eq!(lines, [5, 7, 11], "{:#?}", parsed.diagnostics);
}

#[test]
fn every_snapshot_belongs_to_a_case() {
    let names: Vec<String> = cases().into_iter().map(|c| format!("diagnostics__{}.snap", c.name)).collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let orphans: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("diagnostics__") && name.ends_with(".snap"))
        .filter(|name| !names.contains(name))
        .collect();
    assert!(orphans.is_empty(), "snapshots without a case in tests/diagnostics (delete them): {orphans:?}");
}
