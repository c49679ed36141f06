//! `uml fmt`: rewrite rule files in canonical form.
//!
//! A file is only rewritten when it parsed without errors and its formatted
//! text differs; a file with syntax errors keeps its text and its
//! diagnostics are shown. The formatted text is parsed again before it is
//! written: if the formatter ever produced something that does not parse,
//! the file is left alone rather than damaged.
//!
//! `--check` writes nothing and prints a unified diff per file that would
//! change. `uml fmt -` formats standard input to standard output.

use crate::args::{FmtArgs, is_stdin};
use crate::diff;
use crate::error::Error;
use crate::report::{self, Tally, Verdict};
use crate::sources::{Origin, SourceSet};
use crate::{Io, Status};
use std::path::Path;
use uml_syntax::ast::File;
use uml_syntax::{Diagnostic, FileId};

/// The canonical printer: `uml_syntax::format::format` outside of tests.
pub type Formatter = fn(&File<'_>, &str) -> String;

/// What formatting one file came to.
enum Outcome {
    /// Syntax errors: the file is not formatted.
    Invalid(Vec<Diagnostic>),
    Unchanged,
    Changed(String),
}

fn format_one(formatter: Formatter, id: FileId, path: &Path, src: &str) -> Result<Outcome, Error> {
    let parsed = uml_syntax::parse(id, src);
    if parsed.has_errors() {
        return Ok(Outcome::Invalid(parsed.diagnostics));
    }
    let formatted = formatter(&parsed.file, src);
    if formatted == src {
        return Ok(Outcome::Unchanged);
    }
    if uml_syntax::parse(id, &formatted).has_errors() {
        return Err(Error::FormatterBug { path: path.to_path_buf() });
    }
    Ok(Outcome::Changed(formatted))
}

/// Runs `uml fmt` with the given formatter.
pub fn run(args: &FmtArgs, io: &mut Io<'_>, formatter: Formatter) -> Result<Status, Error> {
    if args.paths.iter().any(|p| is_stdin(p)) {
        if args.paths.len() > 1 {
            return Err(Error::Usage("`-` (standard input) cannot be formatted together with other paths".into()));
        }
        return run_stdin(args.check, io, formatter);
    }
    let paths = match (args.paths.is_empty(), crate::sources::local_rules()) {
        (false, _) => args.paths.clone(),
        (true, Some(local)) => vec![local],
        (true, None) => {
            return Err(Error::Usage(
                "no rule files to format: name them, or run in a directory with rules/ (the built-in rules are \
                 not files; `uml rules export DIR` writes them out)"
                    .into(),
            ));
        }
    };
    let sources = SourceSet::load(&paths, io.stdin)?;
    let mut diagnostics = Vec::new();
    let mut changed = 0;
    for (id, source) in sources.iter() {
        let Origin::File(path) = source.origin() else { unreachable!("standard input is handled above") };
        match format_one(formatter, id, path, source.text())? {
            Outcome::Invalid(mut ds) => diagnostics.append(&mut ds),
            Outcome::Unchanged => {}
            Outcome::Changed(formatted) => {
                changed += 1;
                if args.check {
                    let name = source.name();
                    let diff = diff::unified(name, &format!("{name} (formatted)"), source.text(), &formatted);
                    io.stdout.write_all(diff.as_bytes()).map_err(Error::Stdout)?;
                } else {
                    std::fs::write(path, formatted).map_err(|error| Error::Write { path: path.clone(), error })?;
                }
            }
        }
    }

    let tally = Tally::of(&diagnostics);
    let files = report::count(sources.len(), "file");
    let (verdict, text) = match (tally.errors > 0, args.check, changed) {
        (true, _, _) => (Verdict::Error, format!("{}; those files were not formatted", tally.describe_errors())),
        (false, true, 0) => (Verdict::Ok, format!("{files} already formatted")),
        (false, true, n) => (Verdict::Error, format!("{n} of {files} would be reformatted")),
        (false, false, n) => (Verdict::Ok, format!("{files} formatted, {n} changed")),
    };
    // Standard error may be gone; the exit status still tells.
    let _ = report::diagnostics(io.stderr, &sources, &diagnostics)
        .and_then(|()| report::summary(io.stderr, verdict, &text));
    Ok(if verdict == Verdict::Error { Status::Failure } else { Status::Success })
}

/// `uml fmt -`: standard input to standard output. Nothing is written to
/// standard output if the input has syntax errors, so an editor that pipes
/// a buffer through `uml fmt -` never replaces it with an error.
fn run_stdin(check: bool, io: &mut Io<'_>, formatter: Formatter) -> Result<Status, Error> {
    let sources = SourceSet::load(&["-".into()], io.stdin)?;
    let (id, source) = sources.iter().next().expect("one source was loaded");
    let src = source.text();
    match format_one(formatter, id, Path::new("-"), src)? {
        Outcome::Invalid(diagnostics) => {
            let tally = Tally::of(&diagnostics);
            let _ = report::diagnostics(io.stderr, &sources, &diagnostics)
                .and_then(|()| report::summary(io.stderr, Verdict::Error, &tally.describe_errors()));
            Ok(Status::Failure)
        }
        Outcome::Unchanged if !check => {
            io.stdout.write_all(src.as_bytes()).map_err(Error::Stdout)?;
            Ok(Status::Success)
        }
        Outcome::Unchanged => Ok(Status::Success),
        Outcome::Changed(formatted) if !check => {
            io.stdout.write_all(formatted.as_bytes()).map_err(Error::Stdout)?;
            Ok(Status::Success)
        }
        Outcome::Changed(formatted) => {
            let diff = diff::unified("<stdin>", "<stdin> (formatted)", src, &formatted);
            io.stdout.write_all(diff.as_bytes()).map_err(Error::Stdout)?;
            let _ = report::summary(io.stderr, Verdict::Error, "<stdin> would be reformatted");
            Ok(Status::Failure)
        }
    }
}
