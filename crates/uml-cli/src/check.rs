//! `uml check`: parse every rule file, then check the rule set as a whole.
//!
//! The pipeline is `load → the compiler's front end → any extra rule-set
//! checks → report`. The front end (`uml_compiler::compile::front_end`, the
//! same stages `uml run`, `uml test` and `uml explain` drive) parses each
//! file, then checks what needs every file at once (one `schema` per rule
//! set, names and types across files) only when every file parsed cleanly:
//! recovery leaves erroneous items out of the tree, and checking a tree
//! with holes would report errors that are only echoes of the syntax
//! errors. A [`RuleSetCheck`] is an extra check under the same condition.

use crate::args::CheckArgs;
use crate::error::Error;
use crate::report::{self, Tally, Verdict};
use crate::sources::{RuleSet, RuleSetFrom, SourceFile, SourceSet};
use crate::{Io, Status};
use uml_syntax::{Diagnostic, FileId, Parsed};

/// One file of a rule set, parsed.
pub struct ParsedFile<'a> {
    pub id: FileId,
    pub source: &'a SourceFile,
    pub parsed: Parsed<'a>,
}

/// A check over a whole rule set (the files of one `uml check` run, in path
/// order), run after every file parsed without errors.
pub trait RuleSetCheck {
    fn check(&self, rule_set: &[ParsedFile<'_>]) -> Vec<Diagnostic>;
}

/// Every diagnostic for the files in `sources`: the compiler's front end,
/// then those of `extra` if there was no syntax error. Sorted by file and
/// position.
pub fn check(sources: &SourceSet, extra: &[&dyn RuleSetCheck]) -> Vec<Diagnostic> {
    let front = uml_compiler::compile::front_end(sources.iter().map(|(id, source)| (id, source.text())));
    let mut diagnostics = front.diagnostics;
    let parsed_cleanly = front.parsed.iter().all(|p| !p.diagnostics.iter().any(Diagnostic::is_error));
    if parsed_cleanly && !extra.is_empty() {
        let files: Vec<ParsedFile<'_>> =
            sources.iter().zip(front.parsed).map(|((id, source), parsed)| ParsedFile { id, source, parsed }).collect();
        for c in extra {
            diagnostics.extend(c.check(&files));
        }
    }
    // Stable: the parser's order within a file is kept for equal positions.
    diagnostics.sort_by_key(|d| {
        d.labels.iter().find(|l| l.primary).map_or((u32::MAX, u32::MAX), |l| (l.file.0, l.span.start))
    });
    diagnostics
}

/// Runs `uml check`, with extra rule-set checks beyond the compiler's.
pub fn run(args: &CheckArgs, io: &mut Io<'_>, extra: &[&dyn RuleSetCheck]) -> Result<Status, Error> {
    let rule_set = RuleSet::resolve(&args.rule_paths(), io.stdin)?;
    let sources = &rule_set.sources;
    let diagnostics = check(sources, extra);
    let tally = Tally::of(&diagnostics);
    // If standard error is gone there is no one to tell; the exit status
    // still says whether there were errors.
    let _ = report::diagnostics(io.stderr, sources, &diagnostics).and_then(|()| {
        if tally.errors > 0 {
            report::summary(io.stderr, Verdict::Error, &tally.describe_errors())
        } else {
            let mut text = format!("{} checked", report::count(rule_set.files(), "file"));
            if tally.warnings > 0 {
                text.push_str(&format!(", {}", report::count(tally.warnings, "warning")));
            }
            if !matches!(rule_set.from, RuleSetFrom::Named(_)) {
                text.push_str(&format!(" ({})", rule_set.name()));
            }
            report::summary(io.stderr, Verdict::Ok, &text)
        }
    });
    Ok(if tally.errors > 0 { Status::Failure } else { Status::Success })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::Origin;
    use std::cell::Cell;
    use uml_syntax::{Code, Severity, Span};

    /// Counts its calls and reports one warning on the first file.
    struct Probe {
        calls: Cell<usize>,
    }

    impl RuleSetCheck for Probe {
        fn check(&self, rule_set: &[ParsedFile<'_>]) -> Vec<Diagnostic> {
            self.calls.set(self.calls.get() + 1);
            let mut d = Diagnostic::new(Code::UnexpectedToken, format!("saw {} files", rule_set.len())).primary(
                rule_set[0].id,
                Span::new(0, 4),
                "here",
            );
            d.severity = Severity::Warning;
            vec![d]
        }
    }

    fn sources(texts: &[&str]) -> SourceSet {
        let mut set = SourceSet::new();
        for (i, t) in texts.iter().enumerate() {
            set.add(Origin::Stdin, format!("f{i}.uml"), t.to_string());
        }
        set
    }

    #[test]
    fn rule_set_checks_run_after_a_clean_parse() {
        let probe = Probe { calls: Cell::new(0) };
        let set = sources(&["rule a { emit }", "rule b { emit }"]);
        let ds = check(&set, &[&probe]);
        assert_eq!(probe.calls.get(), 1);
        // The compiler's own checks come too (these rules set no output).
        assert_eq!(ds.iter().filter(|d| d.message == "saw 2 files").count(), 1, "{ds:?}");
    }

    #[test]
    fn rule_set_checks_do_not_run_after_syntax_errors() {
        let probe = Probe { calls: Cell::new(0) };
        let set = sources(&["rule a { emit }", "rule b { let = }"]);
        let ds = check(&set, &[&probe]);
        assert_eq!(probe.calls.get(), 0);
        assert!(ds.iter().all(|d| d.is_error() && d.labels[0].file == FileId(1)), "{ds:?}");
    }

    #[test]
    fn diagnostics_are_ordered_by_file_then_position() {
        let set = sources(&["rule a {\n let = 1\n}\nrule @ {}", "@"]);
        let ds = check(&set, &[]);
        let places: Vec<_> = ds.iter().map(|d| (d.labels[0].file.0, d.labels[0].span.start)).collect();
        let mut sorted = places.clone();
        sorted.sort();
        assert_eq!(places, sorted);
        assert!(places.len() >= 3, "{ds:?}");
    }
}
