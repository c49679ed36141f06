//! `uml explain`: prints a compiler stage, so a rule author (or a uml
//! developer) sees what a rule turns into: the parsed tree, the checked
//! program with every expression's type and fallibility, or the plan the
//! executor runs, with what the optimizer removed. Rule files given without
//! a schema are checked against the embedded default schema.

use crate::args::{ExplainArgs, Stage};
use crate::error::Error;
use crate::report::{self, Tally, Verdict};
use crate::sources::RuleSet;
use crate::{Io, Status};
use uml_syntax::{Diagnostic, FileId, Span};

pub fn run(args: &ExplainArgs, io: &mut Io<'_>) -> Result<Status, Error> {
    let sources = RuleSet::resolve(&args.paths, io.stdin)?.sources;
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
        Stage::Hir | Stage::Plan => {
            let files: Vec<_> =
                parsed.iter().map(|(id, _, p)| uml_compiler::check::Source { file: *id, ast: &p.file }).collect();
            let checked = uml_compiler::check::check(&files);
            diagnostics.extend(checked.diagnostics);
            let Some(program) = checked.program.filter(|_| !diagnostics.iter().any(Diagnostic::is_error)) else {
                return failed(io, &diagnostics);
            };
            if args.stage == Stage::Hir {
                uml_compiler::hir_print::print(&program)
            } else {
                let locate = |file: FileId, span: Span| match sources.get(file) {
                    Some(s) => uml_compiler::compile::location_in(s.name(), s.text(), span),
                    None => format!("?:{}", span.start),
                };
                let options = uml_compiler::lower::Options { optimize: !args.unoptimized };
                let (plan, stats) = uml_compiler::lower::lower(&program, options, &locate);
                let mut text = plan.to_string();
                if options.optimize {
                    text.push_str(&format!(
                        "
optimizer: {} ops lowered, {} left; {} constants folded, {} branches decided, \
                         {} dead stores and {} unreachable ops removed, {} JSON keys pushed down\n",
                        stats.ops_before,
                        plan.ops.len(),
                        stats.folded,
                        stats.branches_removed,
                        stats.dead_stores,
                        stats.unreachable,
                        stats.pushed_keys,
                    ));
                }
                text
            }
        }
    };
    io.stdout.write_all(text.as_bytes()).map_err(Error::Stdout)?;
    Ok(Status::Success)
}
