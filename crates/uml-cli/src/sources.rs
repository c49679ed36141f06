//! Finding and reading rule files.
//!
//! A command names paths; each is a `.uml` file, a directory searched for
//! `*.uml` files (sorted, so output and rule order never depend on the
//! file system), or `-` for standard input. The texts are kept in a
//! [`SourceSet`] indexed by [`FileId`], which is what diagnostics point into
//! and what the renderer reads snippets from.
//!
//! **Which rule set a command uses** is decided here, by one rule for every
//! command ([`RuleSet::resolve`]): the files named on its command line
//! (PATHs, or `--rules DIR`); else `./rules/` when it holds `.uml` files;
//! else the rules built into uml. A rule set without a `schema` item is
//! checked against the `schema.uml` beside its first file, else against the
//! built-in schema. Every command says which rule set it used.

use crate::args::is_stdin;
use crate::error::Error;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use uml_syntax::FileId;

/// Where a source text came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
    Stdin,
    /// Compiled into the binary (the default rule set).
    Embedded,
}

impl Origin {
    /// The file's path, `None` for standard input.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Origin::File(path) => Some(path),
            Origin::Stdin | Origin::Embedded => None,
        }
    }
}

/// One source text and how diagnostics name it.
#[derive(Debug)]
pub struct SourceFile {
    origin: Origin,
    name: String,
    text: String,
    /// Byte offset of the start of every line, for line and column lookups.
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The name shown in diagnostics: the path as found, or `<stdin>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub(crate) fn line_starts(&self) -> &[usize] {
        &self.line_starts
    }
}

/// The texts one command works on. File ids are indices in insertion order.
#[derive(Debug, Default)]
pub struct SourceSet {
    files: Vec<SourceFile>,
}

impl SourceSet {
    pub fn new() -> SourceSet {
        SourceSet::default()
    }

    /// Adds a text; `name` is how diagnostics will refer to it.
    pub fn add(&mut self, origin: Origin, name: impl Into<String>, text: String) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).expect("fewer than 2^32 source files"));
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        self.files.push(SourceFile { origin, name: name.into(), text, line_starts });
        id
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i as u32), f))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Reads every file the command-line `paths` name, in order; see [`discover`].
    pub fn load(paths: &[PathBuf], stdin: &mut dyn Read) -> Result<SourceSet, Error> {
        let mut set = SourceSet::new();
        for origin in discover(paths)? {
            let text = read(&origin, stdin)?;
            let name = match &origin {
                Origin::File(path) => path.display().to_string(),
                Origin::Stdin => "<stdin>".to_string(),
                Origin::Embedded => unreachable!("discover finds files and stdin only"),
            };
            set.add(origin, name, text);
        }
        Ok(set)
    }
}

/// The rule set a command uses, and where it came from.
#[derive(Debug)]
pub struct RuleSet {
    pub sources: SourceSet,
    pub from: RuleSetFrom,
}

/// Where a command's rule set came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleSetFrom {
    /// The paths given on the command line.
    Named(Vec<PathBuf>),
    /// `./rules/`, found in the current directory.
    LocalDirectory,
    /// The rules compiled into the binary.
    BuiltIn,
}

/// The directory a command uses when it is given no rule files.
pub const LOCAL_RULES: &str = "rules";

impl RuleSet {
    /// The rule set for `named` (PATHs and `--rules`, possibly none); see
    /// the module documentation.
    pub fn resolve(named: &[PathBuf], stdin: &mut dyn Read) -> Result<RuleSet, Error> {
        let (mut sources, from) = if !named.is_empty() {
            (SourceSet::load(named, stdin)?, RuleSetFrom::Named(named.to_vec()))
        } else if let Some(local) = local_rules() {
            (SourceSet::load(&[local], stdin)?, RuleSetFrom::LocalDirectory)
        } else {
            let mut set = SourceSet::new();
            for unit in uml_compiler::defaults::default_units() {
                set.add(Origin::Embedded, format!("<built-in {}>", unit.name), unit.text);
            }
            (set, RuleSetFrom::BuiltIn)
        };
        if !sources.iter().any(|(_, s)| has_schema(s.text())) {
            let beside = sources.iter().find_map(|(_, s)| s.origin().path()?.parent().map(|d| d.join("schema.uml")));
            match beside.filter(|p| p.is_file()) {
                Some(schema) => {
                    let text = read(&Origin::File(schema.clone()), stdin)?;
                    sources.add(Origin::File(schema.clone()), schema.display().to_string(), text);
                }
                None => {
                    let schema = uml_compiler::defaults::default_schema();
                    sources.add(Origin::Embedded, schema.name, schema.text);
                }
            }
        }
        Ok(RuleSet { sources, from })
    }

    /// The rule files, counting the built-in schema only when the whole
    /// set is built in.
    pub fn files(&self) -> usize {
        match self.from {
            RuleSetFrom::BuiltIn => self.sources.len(),
            _ => self.sources.iter().filter(|(_, s)| s.origin() != &Origin::Embedded).count(),
        }
    }

    /// Which rule set ran: `rules/`, `the rules built into uml`, or the
    /// paths named.
    pub fn name(&self) -> String {
        match &self.from {
            RuleSetFrom::BuiltIn => "the rules built into uml".to_string(),
            RuleSetFrom::LocalDirectory => format!("{LOCAL_RULES}/"),
            RuleSetFrom::Named(paths) => paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        }
    }

    /// [`RuleSet::name`] with the number of files, for a summary:
    /// `rules/ (6 files)`.
    pub fn describe(&self) -> String {
        match self.from {
            RuleSetFrom::BuiltIn => self.name(),
            _ => format!("{} ({})", self.name(), crate::report::count(self.files(), "file")),
        }
    }
}

/// `./rules/` if it holds rule files.
pub fn local_rules() -> Option<PathBuf> {
    let dir = PathBuf::from(LOCAL_RULES);
    let has_uml = walkdir::WalkDir::new(&dir)
        .into_iter()
        .flatten()
        .any(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "uml"));
    has_uml.then_some(dir)
}

/// Whether a rule file declares a schema: a `schema` keyword outside any
/// braces. The tokens say it without parsing the file (which the compiler
/// does next); a file with a syntax error is reported by the compiler.
pub fn has_schema(text: &str) -> bool {
    use uml_syntax::lexer::{Token, lex};
    let mut depth = 0usize;
    lex(text).any(|(_, token)| match token {
        Ok(Token::LBrace) => {
            depth += 1;
            false
        }
        Ok(Token::RBrace) => {
            depth = depth.saturating_sub(1);
            false
        }
        Ok(Token::Schema) => depth == 0,
        _ => false,
    })
}

/// The rule files `paths` name: each file as given, each directory's
/// `*.uml` files below it in sorted path order, `-` as standard input.
/// A file reached twice is listed once, where it first appears.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<Origin>, Error> {
    let mut found: Vec<Origin> = Vec::new();
    let mut push = |origin: Origin| {
        if !found.contains(&origin) {
            found.push(origin);
        }
    };
    for path in paths {
        if is_stdin(path) {
            push(Origin::Stdin);
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|e| Error::read(path, e))?;
        if !meta.is_dir() {
            push(Origin::File(path.clone()));
            continue;
        }
        let mut any = false;
        for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
            let entry = entry.map_err(|e| {
                let at = e.path().unwrap_or(path).to_path_buf();
                let error = e.into_io_error().unwrap_or_else(|| io::Error::other("file system loop"));
                Error::Read { path: at, error }
            })?;
            if entry.file_type().is_file() && entry.path().extension().is_some_and(|ext| ext == "uml") {
                any = true;
                push(Origin::File(entry.into_path()));
            }
        }
        if !any {
            return Err(Error::NoRuleFiles { path: path.clone() });
        }
    }
    Ok(found)
}

/// Reads one source as UTF-8 text.
pub fn read(origin: &Origin, stdin: &mut dyn Read) -> Result<String, Error> {
    let (bytes, path) = match origin {
        Origin::File(path) => (std::fs::read(path), path.as_path()),
        Origin::Stdin => {
            let mut bytes = Vec::new();
            (stdin.read_to_end(&mut bytes).map(|_| bytes), Path::new("-"))
        }
        Origin::Embedded => {
            let error = io::Error::new(io::ErrorKind::Unsupported, "an embedded source is not read from disk");
            return Err(Error::read(Path::new("<embedded>"), error));
        }
    };
    let bytes = bytes.map_err(|e| Error::read(path, e))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        Error::read(
            path,
            io::Error::new(io::ErrorKind::InvalidData, format!("not UTF-8 text (invalid byte at offset {at})")),
        )
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_schema_is_a_keyword_outside_braces() {
        assert!(has_schema("schema {\n  labels { a: string }\n}\n"));
        assert!(has_schema("# the schema\nrule r { emit }\nschema { }"));
        assert!(!has_schema("rule r {\n  payload.message = \"schema\"\n}\n"));
        assert!(!has_schema("# schema { }\nrule r { emit }"));
        assert!(!has_schema(""));
    }

    use super::*;
    use std::fs;

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!("uml-cli-sources-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn directories_are_searched_in_sorted_order_for_uml_files_only() {
        let tmp = TempDir::new("sorted");
        fs::create_dir_all(tmp.0.join("b")).unwrap();
        for name in ["z.uml", "a.uml", "b/m.uml", "notes.txt", "b/README"] {
            fs::write(tmp.0.join(name), "").unwrap();
        }
        let found = discover(std::slice::from_ref(&tmp.0)).unwrap();
        let names: Vec<_> =
            found.iter().map(|o| o.path().unwrap().strip_prefix(&tmp.0).unwrap().to_path_buf()).collect();
        assert_eq!(names, [PathBuf::from("a.uml"), PathBuf::from("b/m.uml"), PathBuf::from("z.uml")]);
    }

    #[test]
    fn a_file_named_twice_is_read_once() {
        let tmp = TempDir::new("twice");
        let file = tmp.0.join("a.uml");
        fs::write(&file, "").unwrap();
        let found = discover(&[file.clone(), tmp.0.clone(), "-".into(), "-".into()]).unwrap();
        assert_eq!(found, [Origin::File(file), Origin::Stdin]);
    }

    #[test]
    fn missing_paths_and_empty_directories_are_errors() {
        let tmp = TempDir::new("missing");
        let missing = tmp.0.join("nope.uml");
        let err = discover(std::slice::from_ref(&missing)).unwrap_err();
        assert!(matches!(&err, Error::Read { path, .. } if *path == missing), "{err:?}");
        let err = discover(std::slice::from_ref(&tmp.0)).unwrap_err();
        assert!(matches!(err, Error::NoRuleFiles { .. }), "{err:?}");
    }

    #[test]
    fn invalid_utf8_is_a_read_error() {
        let err = read(&Origin::Stdin, &mut &b"rule a {\xff}"[..]).unwrap_err();
        assert_eq!(err.to_string(), "cannot read <stdin>: not UTF-8 text (invalid byte at offset 8)");
    }

    #[test]
    fn line_starts_cover_every_line() {
        let mut set = SourceSet::new();
        let id = set.add(Origin::Stdin, "<stdin>", "a\n\nbc\n".to_string());
        assert_eq!(set.get(id).unwrap().line_starts(), [0, 2, 3, 6]);
    }
}
