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
    let front = uml_compiler::compile::front_end(sources.iter().map(|(id, s)| (id, s.text())));
    let failed = |io: &mut Io<'_>, diagnostics: &[Diagnostic]| {
        let tally = Tally::of(diagnostics);
        let _ = report::diagnostics(io.stderr, &sources, diagnostics)
            .and_then(|()| report::summary(io.stderr, Verdict::Error, &tally.describe_errors()));
        Ok(Status::Failure)
    };
    // The tree is shown whatever the checker thinks of it; later stages need
    // a program that checked clean.
    let syntax_error = front.parsed.iter().any(|p| p.has_errors());
    if syntax_error || (args.stage != Stage::Ast && front.program.is_none()) {
        return failed(io, &front.diagnostics);
    }
    let text = match args.stage {
        Stage::Ast => sources
            .iter()
            .zip(&front.parsed)
            .map(|((_, s), p)| format!("# {}\n{:#?}\n", s.name(), p.file.items))
            .collect::<String>(),
        Stage::Hir | Stage::Plan => {
            let program = front.program.as_ref().expect("tested above");
            if args.stage == Stage::Hir {
                uml_compiler::hir_print::print(program)
            } else {
                let locate = |file: FileId, span: Span| match sources.get(file) {
                    Some(s) => uml_compiler::compile::location_in(s.name(), s.text(), span),
                    None => format!("?:{}", span.start),
                };
                let options = uml_compiler::lower::Options { optimize: !args.unoptimized };
                let (plan, stats) = uml_compiler::lower::lower(program, options, &locate);
                let mut text = plan.to_string();
                if options.optimize {
                    text.push_str(&format!(
                        "
optimizer: {} ops lowered, {} left; {} constants folded, {} branches decided, \
                         {} dead stores and {} unreachable ops removed, {} jumps threaded, {} constants \
                         hoisted, {} JSON keys pushed down\n",
                        stats.ops_before,
                        plan.ops.len(),
                        stats.folded,
                        stats.branches_removed,
                        stats.dead_stores,
                        stats.unreachable,
                        stats.threaded,
                        stats.hoisted,
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
