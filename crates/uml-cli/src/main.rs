//! The `uml` binary: parse arguments, hand the real streams to [`uml_cli::run`].
#![forbid(unsafe_code)]

use clap::Parser;
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use std::io::IsTerminal;
use std::process::ExitCode;
use uml_cli::args::Cli;

/// mimalloc: the runtime allocates little once warm, but routing, rule
/// compilation and output chunks handed between threads do, and mimalloc's
/// thread-local free lists keep the workers from contending.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let colour = cli.color.enabled(std::io::stderr().is_terminal(), std::env::var_os("NO_COLOR").as_deref());
    let mut stderr = StandardStream::stderr(if colour { ColorChoice::Always } else { ColorChoice::Never });
    let mut stdout = std::io::stdout().lock();
    let mut stdin = std::io::stdin().lock();
    let status = uml_cli::run(&cli, &mut uml_cli::Io { stdin: &mut stdin, stdout: &mut stdout, stderr: &mut stderr });
    ExitCode::from(status.code())
}
