//! The whole pipeline in one call: rule texts in, a checked program and its
//! plan out, or the diagnostics that stop it.

use crate::check::{self, Source};
use crate::hir::Program;
use crate::lower::{self, LowerStats, Options};
use uml_runtime::plan::Plan;
use uml_syntax::{Diagnostic, FileId, Span};

/// One rule file: its name (as diagnostics and abort messages print it)
/// and its text.
#[derive(Clone, Debug)]
pub struct Unit {
    pub name: String,
    pub text: String,
}

/// A compiled rule set.
#[derive(Debug)]
pub struct Compiled {
    pub program: Program,
    pub plan: Plan,
    pub stats: LowerStats,
    /// Warnings; errors stop compilation.
    pub warnings: Vec<Diagnostic>,
}

/// The front end's stages on a rule set, as every caller drives them:
/// parse each file; only if none has a syntax error, check them together;
/// a program only if that reported no error. (A tree with holes left by
/// recovery would give errors that are only echoes of the syntax errors.)
pub struct FrontEnd<'t> {
    /// Each file's tree, in the order given.
    pub parsed: Vec<uml_syntax::Parsed<'t>>,
    /// The syntax diagnostics, then the checker's.
    pub diagnostics: Vec<Diagnostic>,
    /// The checked program, when there was no error.
    pub program: Option<Program>,
}

/// Runs the front end on `(file, text)` pairs.
pub fn front_end<'t>(files: impl IntoIterator<Item = (FileId, &'t str)>) -> FrontEnd<'t> {
    let (ids, parsed): (Vec<FileId>, Vec<_>) =
        files.into_iter().map(|(id, text)| (id, uml_syntax::parse(id, text))).unzip();
    let mut diagnostics: Vec<Diagnostic> = parsed.iter().flat_map(|p| p.diagnostics.iter().cloned()).collect();
    let mut program = None;
    if !diagnostics.iter().any(Diagnostic::is_error) {
        let sources: Vec<Source<'_, '_>> =
            ids.iter().zip(&parsed).map(|(&file, p)| Source { file, ast: &p.file }).collect();
        let checked = check::check(&sources);
        diagnostics.extend(checked.diagnostics);
        program = checked.program.filter(|_| !diagnostics.iter().any(Diagnostic::is_error));
    }
    FrontEnd { parsed, diagnostics, program }
}

/// Parses, checks and lowers a rule set. `FileId(i)` is `units[i]`.
pub fn compile(units: &[Unit], options: Options) -> Result<Compiled, Vec<Diagnostic>> {
    let front = front_end(units.iter().enumerate().map(|(i, u)| (FileId(i as u32), u.text.as_str())));
    let FrontEnd { diagnostics, program, .. } = front;
    let Some(program) = program else { return Err(diagnostics) };
    let locate = |file: FileId, span: Span| location(units, file, span);
    let (plan, stats) = lower::lower(&program, options, &locate);
    Ok(Compiled { program, plan, stats, warnings: diagnostics })
}

/// `name:line:col` of a span's start (columns count characters, from 1).
pub fn location(units: &[Unit], file: FileId, span: Span) -> String {
    match units.get(file.0 as usize) {
        Some(unit) => location_in(&unit.name, &unit.text, span),
        None => format!("?:{}", span.start),
    }
}

/// `name:line:col` of a span's start in `text`.
pub fn location_in(name: &str, text: &str, span: Span) -> String {
    let at = (span.start as usize).min(text.len());
    let before = text.get(..at).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{name}:{line}:{col}")
}
