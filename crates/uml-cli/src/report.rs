//! What a command tells the user on standard error: the diagnostics, then
//! one summary line (`error: 3 errors in 2 files`, `ok: 6 files checked`).

use crate::render::Renderer;
use crate::sources::SourceSet;
use codespan_reporting::term::termcolor::{Color, ColorSpec, WriteColor};
use std::collections::BTreeSet;
use std::io;
use uml_syntax::{Diagnostic, Severity};

/// Counts of the diagnostics a command found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub errors: usize,
    pub warnings: usize,
    /// Files with at least one error.
    pub files_with_errors: usize,
}

impl Tally {
    pub fn of(diagnostics: &[Diagnostic]) -> Tally {
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = diagnostics.iter().filter(|d| d.severity == Severity::Warning).count();
        let files: BTreeSet<_> = diagnostics
            .iter()
            .filter(|d| d.is_error())
            .filter_map(|d| d.labels.iter().find(|l| l.primary).map(|l| l.file))
            .collect();
        Tally { errors, warnings, files_with_errors: files.len() }
    }

    /// `3 errors in 2 files`, `1 error in 1 file, 2 warnings`.
    pub fn describe_errors(&self) -> String {
        let mut text = format!("{} in {}", count(self.errors, "error"), count(self.files_with_errors, "file"));
        if self.warnings > 0 {
            text.push_str(&format!(", {}", count(self.warnings, "warning")));
        }
        text
    }
}

/// `1 file`, `2 files`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// Renders every diagnostic in order.
pub fn diagnostics(out: &mut dyn WriteColor, sources: &SourceSet, diagnostics: &[Diagnostic]) -> io::Result<()> {
    let renderer = Renderer::new(sources);
    diagnostics.iter().try_for_each(|d| renderer.render(out, d))
}

/// The last line of a command's report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Error,
}

/// Writes `ok: …` or `error: …`, the word coloured if `out` has colour.
pub fn summary(out: &mut dyn WriteColor, verdict: Verdict, text: &str) -> io::Result<()> {
    let (word, color) = match verdict {
        Verdict::Ok => ("ok", Color::Green),
        Verdict::Error => ("error", Color::Red),
    };
    out.set_color(ColorSpec::new().set_fg(Some(color)).set_bold(true))?;
    write!(out, "{word}")?;
    out.reset()?;
    writeln!(out, ": {text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use uml_syntax::{Code, FileId, Span};

    #[test]
    fn tally_counts_files_by_primary_label() {
        let at = |file, code| Diagnostic::new(code, "m").primary(FileId(file), Span::DUMMY, "");
        let mut warning = at(0, Code::UnexpectedToken);
        warning.severity = Severity::Warning;
        let ds = [at(0, Code::UnexpectedToken), at(0, Code::UnexpectedEof), at(3, Code::UnexpectedChar), warning];
        let tally = Tally::of(&ds);
        assert_eq!(tally, Tally { errors: 3, warnings: 1, files_with_errors: 2 });
        assert_eq!(tally.describe_errors(), "3 errors in 2 files, 1 warning");
        assert_eq!(Tally::of(&ds[..1]).describe_errors(), "1 error in 1 file");
    }

    #[test]
    fn summary_colours_only_the_verdict_word() {
        let mut plain = codespan_reporting::term::termcolor::NoColor::new(Vec::new());
        summary(&mut plain, Verdict::Ok, "6 files checked").unwrap();
        assert_eq!(plain.into_inner(), b"ok: 6 files checked\n");
        let mut ansi = codespan_reporting::term::termcolor::Ansi::new(Vec::new());
        summary(&mut ansi, Verdict::Error, "x").unwrap();
        assert_eq!(String::from_utf8(ansi.into_inner()).unwrap(), "\u{1b}[0m\u{1b}[1m\u{1b}[31merror\u{1b}[0m: x\n");
    }
}
