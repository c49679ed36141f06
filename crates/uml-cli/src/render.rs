//! Rendering diagnostics rustc style, with the source snippet:
//!
//! ```text
//! error[E0201]: unexpected `}`, expected an expression
//!   --> rules/app.uml:3:12
//!   |
//! 3 |   let x = }
//!   |           ^ unexpected here
//!   |
//!   = help: …
//! ```
//!
//! The front end's diagnostics are plain data; this module is the only place
//! that knows about codespan-reporting. It never trusts a span: one past the
//! end of the file, or inside a multi-byte character, is moved to the nearest
//! place that can be shown, so a bug in a checker cannot crash the renderer.

use crate::sources::SourceSet;
use codespan_reporting::diagnostic::{self as cs, LabelStyle};
use codespan_reporting::files::{self, Files};
use codespan_reporting::term::termcolor::{NoColor, WriteColor};
use codespan_reporting::term::{self, Chars, Config};
use std::io;
use std::ops::Range;
use uml_syntax::{Diagnostic, FileId, Severity, Span};

/// Renders diagnostics against the files of one [`SourceSet`].
pub struct Renderer<'a> {
    sources: &'a SourceSet,
    config: Config,
}

impl<'a> Renderer<'a> {
    pub fn new(sources: &'a SourceSet) -> Renderer<'a> {
        // ASCII chars give rustc's ` --> file:line:col` and `|` gutter.
        let config = Config { chars: Chars::ascii(), ..Config::default() };
        Renderer { sources, config }
    }

    /// Writes one diagnostic, coloured if `out` supports colour.
    pub fn render(&self, out: &mut dyn WriteColor, diagnostic: &Diagnostic) -> io::Result<()> {
        let shown = self.convert(diagnostic);
        term::emit_to_write_style(out, &self.config, self, &shown).map_err(|e| match e {
            files::Error::Io(e) => e,
            // Spans are clamped and labels on unknown files dropped in
            // `convert`, so codespan has nothing else to complain about.
            other => io::Error::other(other.to_string()),
        })
    }

    /// Renders diagnostics without colour, one after another, for tests and
    /// snapshots. Unlike a terminal rendering, lines carry no trailing spaces.
    pub fn render_to_string(&self, diagnostics: &[Diagnostic]) -> String {
        let mut out = NoColor::new(Vec::new());
        for d in diagnostics {
            self.render(&mut out, d).expect("writing to a Vec cannot fail");
        }
        let text = String::from_utf8(out.into_inner()).expect("rendered from UTF-8 sources and messages");
        text.split_inclusive('\n')
            .map(|line| format!("{}{}", line.trim_end(), if line.ends_with('\n') { "\n" } else { "" }))
            .collect()
    }

    fn convert(&self, d: &Diagnostic) -> cs::Diagnostic<FileId> {
        let severity = match d.severity {
            Severity::Error => cs::Severity::Error,
            Severity::Warning => cs::Severity::Warning,
        };
        let labels = d
            .labels
            .iter()
            .filter_map(|label| {
                let text = self.sources.get(label.file)?.text();
                let style = if label.primary { LabelStyle::Primary } else { LabelStyle::Secondary };
                Some(cs::Label::new(style, label.file, showable(text, label.span)).with_message(&label.message))
            })
            .collect();
        let notes =
            d.notes.iter().map(|n| format!("note: {n}")).chain(d.help.iter().map(|h| format!("help: {h}"))).collect();
        cs::Diagnostic::new(severity)
            .with_code(d.code.as_str())
            .with_message(&d.message)
            .with_labels(labels)
            .with_notes(notes)
    }
}

/// `span` as a byte range that lies within `text` on character boundaries:
/// clamped to the end of the text, then widened to whole characters.
fn showable(text: &str, span: Span) -> Range<usize> {
    let mut start = (span.start as usize).min(text.len());
    let mut end = (span.end as usize).clamp(start, text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

impl<'a> Files<'a> for Renderer<'_> {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, files::Error> {
        Ok(self.sources.get(id).ok_or(files::Error::FileMissing)?.name())
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, files::Error> {
        Ok(self.sources.get(id).ok_or(files::Error::FileMissing)?.text())
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, files::Error> {
        let starts = self.sources.get(id).ok_or(files::Error::FileMissing)?.line_starts();
        Ok(starts.binary_search(&byte_index).unwrap_or_else(|next| next - 1))
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<Range<usize>, files::Error> {
        let file = self.sources.get(id).ok_or(files::Error::FileMissing)?;
        let starts = file.line_starts();
        let start =
            *starts.get(line_index).ok_or(files::Error::LineTooLarge { given: line_index, max: starts.len() - 1 })?;
        let end = starts.get(line_index + 1).copied().unwrap_or(file.text().len());
        Ok(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::Origin;
    use uml_syntax::{Code, Diagnostic};

    fn render(src: &str, d: Diagnostic) -> String {
        let mut sources = SourceSet::new();
        sources.add(Origin::Stdin, "t.uml", src.to_string());
        Renderer::new(&sources).render_to_string(&[d])
    }

    fn error(span: Span) -> Diagnostic {
        Diagnostic::new(Code::UnexpectedToken, "bad").primary(FileId(0), span, "here")
    }

    #[test]
    fn layout_is_rustc_style() {
        let d =
            error(Span::new(8, 9)).secondary(FileId(0), Span::new(0, 4), "in this rule").note("a note").help("a help");
        let out = render("rule a { @ }\n", d);
        assert_eq!(
            out,
            "error[E0201]: bad\n  \
             --> t.uml:1:9\n  \
             |\n\
             1 | rule a { @ }\n  \
             | ----    ^ here\n  \
             | |\n  \
             | in this rule\n  \
             |\n  \
             = note: a note\n  \
             = help: a help\n\n"
        );
    }

    #[test]
    fn a_zero_width_span_at_the_end_of_the_file_gets_a_caret() {
        let out = render("rule a {", error(Span::new(8, 8)));
        assert!(out.contains("--> t.uml:1:9"), "{out}");
        assert!(out.contains("1 | rule a {\n  |         ^ here"), "{out}");
        let out = render("rule a {\n", error(Span::new(9, 9)));
        assert!(out.contains("--> t.uml:2:1"), "{out}");
    }

    #[test]
    fn spans_past_the_end_or_inside_a_character_do_not_panic() {
        let src = "let s = \"é€\"";
        let out = render(src, error(Span::new(10, 12)));
        assert!(out.contains("--> t.uml:1:10"), "{out}");
        assert!(out.contains("^^ here"), "{out}");
        let out = render(src, error(Span::new(100, 200)));
        assert!(out.contains("--> t.uml:1:13"), "{out}");
        let out = render("", error(Span { start: 3, end: 1 }));
        assert!(out.contains("--> t.uml:1:1"), "{out}");
    }

    #[test]
    fn labels_on_unknown_files_are_left_out() {
        let d = error(Span::new(0, 1)).secondary(FileId(7), Span::new(0, 1), "elsewhere");
        let out = render("x", d);
        assert!(!out.contains("elsewhere"), "{out}");
        let out =
            render("x", Diagnostic::new(Code::TooManyErrors, "only a message").primary(FileId(9), Span::DUMMY, ""));
        assert_eq!(out, "error[E0205]: only a message\n\n");
    }

    #[test]
    fn colour_goes_only_to_colour_writers() {
        let mut sources = SourceSet::new();
        sources.add(Origin::Stdin, "t.uml", "x".to_string());
        let renderer = Renderer::new(&sources);
        let mut coloured = codespan_reporting::term::termcolor::Ansi::new(Vec::new());
        renderer.render(&mut coloured, &error(Span::new(0, 1))).unwrap();
        let coloured = String::from_utf8(coloured.into_inner()).unwrap();
        assert!(coloured.contains("\u{1b}["), "{coloured:?}");
        assert!(!renderer.render_to_string(&[error(Span::new(0, 1))]).contains('\u{1b}'));
    }
}
