//! The `uml` command line: argument parsing, file discovery, rendering of
//! diagnostics and exit codes. The library crates return data; this crate
//! decides how it is shown and what the exit status is.
//!
//! `main.rs` only parses arguments into [`args::Cli`], builds the real
//! standard streams and calls [`run`]; everything else is here, driven
//! through [`Io`] so that tests can supply their own streams:
//!
//! ```
//! use uml_cli::termcolor::NoColor;
//!
//! let cli = uml_cli::args::Cli::try_from_args(["uml", "check", "-"]).unwrap();
//! let (mut stdout, mut stderr) = (Vec::new(), NoColor::new(Vec::new()));
//! let mut io = uml_cli::Io { stdin: &mut &b"rule r { let = 1 }"[..], stdout: &mut stdout, stderr: &mut stderr };
//! assert_eq!(uml_cli::run(&cli, &mut io), uml_cli::Status::Failure);
//! let shown = String::from_utf8(stderr.into_inner()).unwrap();
//! assert!(shown.starts_with("error[E0201]: unexpected `=`, expected an identifier\n  --> <stdin>:1:14\n"));
//! ```
//!
//! Invariants: nothing here panics on user input; a problem in a rule file
//! never stops a command early (every file is read and every problem shown);
//! writing to a closed standard output ends the command quietly with status 0.
#![forbid(unsafe_code)]

pub mod agent;
pub mod args;
pub mod check;
mod diff;
pub mod error;
mod explain;
mod export;
pub mod fmt;
pub mod render;
pub mod report;
mod run;
pub mod sources;
mod test;

/// The colour-aware writers [`Io::stderr`] takes (`NoColor`, `Ansi`,
/// `StandardStream`), re-exported so callers need no dependency of their own.
pub use codespan_reporting::term::termcolor;

use args::{Cli, Command};
use std::io::{Read, Write};
use termcolor::WriteColor;

/// The streams a command reads and writes. `stderr` takes colour codes if
/// colour is wanted; pass a `NoColor` writer otherwise.
pub struct Io<'a> {
    pub stdin: &'a mut dyn Read,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn WriteColor,
}

/// How a command ended; [`Status::code`] is the process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Nothing wrong: no errors, nothing to reformat.
    Success,
    /// The command ran and found problems: errors in rule files, or files
    /// that `fmt --check` would change.
    Failure,
    /// The command could not do its work: bad usage, an unreadable path.
    Error,
}

impl Status {
    pub fn code(self) -> u8 {
        match self {
            Status::Success => 0,
            Status::Failure => 1,
            Status::Error => 2,
        }
    }
}

/// Runs the command `cli` describes.
pub fn run(cli: &Cli, io: &mut Io<'_>) -> Status {
    let result = match &cli.command {
        Command::Run(args) => run::run(args, io),
        Command::Agent(args) => Ok(agent::run(args, io)),
        Command::Rules(args::RulesCommand::Export { dir }) => export::run(dir, io),
        Command::Check(args) => check::run(args, io, &[]),
        Command::Test(args) => test::run(args, io),
        Command::Explain(args) => explain::run(args, io),
        Command::Fmt(args) => fmt::run(args, io, uml_syntax::format::format),
    };
    let result = result.and_then(|status| io.stdout.flush().map_err(error::Error::Stdout).map(|()| status));
    match result {
        Ok(status) => status,
        Err(e) if e.is_broken_pipe() => Status::Success,
        Err(e) => {
            let _ = writeln!(io.stderr, "uml: {e}");
            Status::Error
        }
    }
}
