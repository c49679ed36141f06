//! `uml explain`: prints a compiler stage, so a rule author (or a uml
//! developer) sees what a rule turns into: the parsed tree, or the checked
//! program with every expression's type and fallibility.

use crate::args::{ExplainArgs, Stage};
use crate::error::Error;
use crate::report::{self, Tally, Verdict};
use crate::sources::SourceSet;
use crate::{Io, Status};
use uml_syntax::Diagnostic;

pub fn run(args: &ExplainArgs, io: &mut Io<'_>) -> Result<Status, Error> {
    let sources = SourceSet::load(&args.paths, io.stdin)?;
    let parsed: Vec<_> = sources.iter().map(|(id, s)| (id, s.name(), uml_syntax::parse(id, s.text()))).collect();
    let mut diagnostics: Vec<Diagnostic> = parsed.iter().flat_map(|(_, _, p)| p.diagnostics.iter().cloned()).collect();
    let failed = |io: &mut Io<'_>, diagnostics: &[Diagnostic]| {
        let tally = Tally::of(diagnostics);
        let _ = report::diagnostics(io.stderr, &sources, diagnostics)
            .and_then(|()| report::summary(io.stderr, Verdict::Error, &tally.describe_errors()));
        Ok(Status::Failure)
    };
    if diagnostics.iter().any(Diagnostic::is_error) {
        return failed(io, &diagnostics);
    }
    let text = match args.stage {
        Stage::Ast => parsed.iter().map(|(_, name, p)| format!("# {name}\n{:#?}\n", p.file.items)).collect::<String>(),
        Stage::Hir => {
            let files: Vec<_> =
                parsed.iter().map(|(id, _, p)| uml_compiler::check::Source { file: *id, ast: &p.file }).collect();
            let checked = uml_compiler::check::check(&files);
            diagnostics.extend(checked.diagnostics);
            let Some(program) = checked.program else {
                return failed(io, &diagnostics);
            };
            uml_compiler::hir_print::print(&program)
        }
    };
    io.stdout.write_all(text.as_bytes()).map_err(Error::Stdout)?;
    Ok(Status::Success)
}
