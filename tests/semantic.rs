//! Snapshots of the compiler's semantic diagnostics, one case per file.
//!
//! Every `tests/semantic/*.uml` file is checked as a rule set together with
//! `rules/schema.uml`: the schema is the first file (`FileId(0)`), the case
//! the second, exactly as `uml check rules/ case.uml` would see them. A case
//! whose first line is `# no-schema` is checked alone (for the schema's own
//! codes, such as a missing schema). [`check`] renders the diagnostics as
//! `uml check` shows them (without colour); the text is compared with the
//! reviewed snapshot `tests/snapshots/semantic__<case>.snap`.
//!
//! Case names say what they expect:
//!
//! - `E0401_…`, `W0002_…`: the case must produce that code;
//! - `ok_…`: tricky but valid rules; the case must produce no diagnostic at
//!   all (its snapshot is empty).
//!
//! Cases must parse: syntax errors belong in `tests/diagnostics`.
//!
//! To add a case, add a file, run `INSTA_UPDATE=always cargo test --test
//! semantic` (or `cargo insta review`), and read the new snapshot: the caret
//! must sit under the mistake, the message must make sense to someone
//! writing rules, and one mistake must give one diagnostic.

use std::path::{Path, PathBuf};
use uml_cli::render::Renderer;
use uml_cli::sources::{Origin, SourceSet};
use uml_syntax::{Code, Diagnostic};

const SCHEMA: &str = "rules/schema.uml";
const NO_SCHEMA: &str = "# no-schema";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A case: its name (the snapshot's), its file and its source.
struct Case {
    name: String,
    path: PathBuf,
    src: String,
}

impl Case {
    fn with_schema(&self) -> bool {
        self.src.lines().next().is_none_or(|first| first.trim() != NO_SCHEMA)
    }
}

fn cases() -> Vec<Case> {
    let dir = root().join("tests/semantic");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "uml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| Case {
            name: path.file_stem().expect("a file name").to_string_lossy().into_owned(),
            src: std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display())),
            path,
        })
        .collect()
}

/// Checks the case as a rule set (after the shared schema unless it opts
/// out) and returns the rendered diagnostics and the diagnostics themselves.
fn check(case: &Case) -> (String, Vec<Diagnostic>) {
    let mut sources = SourceSet::new();
    if case.with_schema() {
        let text = std::fs::read_to_string(root().join(SCHEMA)).unwrap_or_else(|e| panic!("cannot read {SCHEMA}: {e}"));
        sources.add(Origin::File(PathBuf::from(SCHEMA)), SCHEMA, text);
    }
    let name = format!("{}.uml", case.name);
    sources.add(Origin::File(PathBuf::from(&name)), name, case.src.clone());
    let diagnostics = uml_cli::check::check(&sources, &[]);
    let syntax: Vec<&Diagnostic> = diagnostics.iter().filter(|d| is_syntax(d.code)).collect();
    assert!(syntax.is_empty(), "{}: syntax errors; a semantic case must parse: {syntax:#?}", case.name);
    (Renderer::new(&sources).render_to_string(&diagnostics), diagnostics)
}

fn is_syntax(code: Code) -> bool {
    code.as_str().starts_with("E01") || code.as_str().starts_with("E02")
}

/// What a case's name promises: `Some(code)` for `E…_`/`W…_`, `None` for `ok_`.
fn expected(name: &str) -> Result<Option<Code>, String> {
    if name.starts_with("ok_") {
        return Ok(None);
    }
    let prefix = name.split('_').next().unwrap_or_default();
    match Code::ALL.iter().find(|c| c.as_str() == prefix) {
        Some(code) if !is_syntax(*code) => Ok(Some(*code)),
        _ => Err(format!("{name}: a case is named `ok_…` or after a semantic code (`E0401_…`, `W0002_…`)")),
    }
}

#[test]
fn rendered_diagnostics_match_their_snapshots() {
    let cases = cases();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let mut failed = Vec::new();
    for case in &cases {
        let outcome = std::panic::catch_unwind(|| {
            let (rendered, diagnostics) = check(case);
            let codes: Vec<Code> = diagnostics.iter().map(|d| d.code).collect();
            match expected(&case.name) {
                Ok(Some(code)) => {
                    assert!(codes.contains(&code), "{}: named after {code} but produces {codes:?}", case.name)
                }
                Ok(None) => assert!(codes.is_empty(), "{}: a clean case produces {codes:?}", case.name),
                Err(e) => panic!("{e}"),
            }
            let mut settings = insta::Settings::clone_current();
            settings.set_omit_expression(true);
            settings.set_input_file(&case.path);
            settings.bind(|| insta::assert_snapshot!(case.name.as_str(), rendered));
        });
        if outcome.is_err() {
            failed.push(case.name.as_str());
        }
    }
    assert!(failed.is_empty(), "{} of {} cases failed: {}", failed.len(), cases.len(), failed.join(", "));
}

#[test]
fn every_semantic_code_has_a_case() {
    let mut produced = Vec::new();
    for case in cases() {
        produced.extend(check(&case).1.into_iter().map(|d| d.code));
    }
    let missing: Vec<&str> =
        Code::ALL.iter().filter(|code| !is_syntax(**code) && !produced.contains(code)).map(|c| c.as_str()).collect();
    assert!(missing.is_empty(), "no case in tests/semantic produces {missing:?}");
}

#[test]
fn every_code_is_the_first_word_of_some_case() {
    // A code produced only as a side effect of another case is not a case
    // of its own: each code has a file named after it.
    let names: Vec<String> = cases().into_iter().map(|c| c.name).collect();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|code| !is_syntax(**code))
        .map(|c| c.as_str())
        .filter(|code| !names.iter().any(|n| n.starts_with(&format!("{code}_"))))
        .collect();
    assert!(missing.is_empty(), "no case in tests/semantic is named after {missing:?}");
}

#[test]
fn one_mistake_one_diagnostic() {
    // The same code twice at the same place is a duplicate, never two mistakes.
    let mut duplicates = Vec::new();
    for case in cases() {
        let (_, diagnostics) = check(&case);
        let mut seen = Vec::new();
        for d in &diagnostics {
            let at = d.labels.iter().find(|l| l.primary).map(|l| (l.file, l.span));
            if seen.contains(&(d.code, at)) {
                duplicates.push(format!("{}: {} `{}`", case.name, d.code, d.message));
            }
            seen.push((d.code, at));
        }
    }
    assert!(duplicates.is_empty(), "diagnostics reported twice at one place:\n{}", duplicates.join("\n"));
}

#[test]
fn the_shared_schema_is_clean() {
    // Every case is checked against rules/schema.uml; if the schema itself
    // drew a diagnostic, every snapshot would carry it.
    let schema = Case {
        name: "schema".into(),
        path: root().join(SCHEMA),
        src: std::fs::read_to_string(root().join(SCHEMA)).expect("the schema"),
    };
    let (rendered, _) = check(&Case { src: format!("{NO_SCHEMA}\n{}", schema.src), ..schema });
    assert_eq!(rendered, "");
}

#[test]
fn every_snapshot_belongs_to_a_case() {
    let names: Vec<String> = cases().into_iter().map(|c| format!("semantic__{}.snap", c.name)).collect();
    let dir = root().join("tests/snapshots");
    let orphans: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("semantic__") && name.ends_with(".snap"))
        .filter(|name| !names.contains(name))
        .collect();
    assert!(orphans.is_empty(), "snapshots without a case in tests/semantic (delete them): {orphans:?}");
}
