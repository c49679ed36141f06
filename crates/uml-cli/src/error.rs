//! Failures that stop a command before it can give an answer: an unreadable
//! path, an unwritable file, a usage mistake clap cannot see. Each is one
//! line on standard error and exit status 2. Problems *in* rule files are
//! not errors of this kind; they are [`uml_syntax::Diagnostic`]s.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub enum Error {
    /// A path given on the command line, a directory entry or standard input
    /// could not be read.
    Read { path: PathBuf, error: io::Error },
    /// A directory named on the command line holds no `.uml` file.
    NoRuleFiles { path: PathBuf },
    /// A formatted file could not be written back.
    Write { path: PathBuf, error: io::Error },
    /// Standard output could not be written (a closed pipe is not reported).
    Stdout(io::Error),
    /// Arguments clap accepts but the command cannot act on.
    Usage(String),
    /// The formatter produced text that does not parse; the file is left alone.
    FormatterBug { path: PathBuf },
}

impl Error {
    pub fn read(path: &Path, error: io::Error) -> Error {
        Error::Read { path: path.to_path_buf(), error }
    }

    /// True for a write to a pipe whose reader has gone (`uml fmt - | head`):
    /// the reader has all it wants, so the command ends quietly.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Stdout(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Read { path, error } => write!(f, "cannot read {}: {}", shown(path), describe(error)),
            Error::NoRuleFiles { path } => write!(f, "no .uml files in {}", shown(path)),
            Error::Write { path, error } => write!(f, "cannot write {}: {}", shown(path), describe(error)),
            Error::Stdout(error) => write!(f, "cannot write to standard output: {}", describe(error)),
            Error::Usage(message) => f.write_str(message),
            Error::FormatterBug { path } => write!(
                f,
                "the formatter produced invalid output for {}; the file was left unchanged (this is a bug in uml)",
                shown(path)
            ),
        }
    }
}

impl std::error::Error for Error {}

/// How a path is named in messages: as the user wrote it, `-` as `<stdin>`.
pub fn shown(path: &Path) -> String {
    if crate::args::is_stdin(path) { "<stdin>".to_string() } else { path.display().to_string() }
}

/// An I/O error as a short phrase: the operating system's text without the
/// ` (os error 2)` suffix that std appends.
pub fn describe(error: &io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_error_numbers_are_left_out() {
        let e = Error::read(Path::new("rules/x.uml"), io::Error::from_raw_os_error(2));
        let text = e.to_string();
        assert!(text.starts_with("cannot read rules/x.uml: "), "{text}");
        assert!(!text.contains("os error"), "{text}");
    }

    #[test]
    fn other_errors_are_shown_whole() {
        let e = io::Error::new(io::ErrorKind::InvalidData, "not valid UTF-8");
        assert_eq!(describe(&e), "not valid UTF-8");
    }

    #[test]
    fn only_a_stdout_broken_pipe_is_quiet() {
        assert!(Error::Stdout(io::ErrorKind::BrokenPipe.into()).is_broken_pipe());
        assert!(!Error::Stdout(io::ErrorKind::Other.into()).is_broken_pipe());
        let write = Error::Write { path: "a.uml".into(), error: io::ErrorKind::BrokenPipe.into() };
        assert!(!write.is_broken_pipe());
    }
}
