//! `uml` — unified model logs: a compiled, zero-copy transform engine that
//! turns the raw container logs of a model-serving platform into one clean
//! Loki stream per model version.
//!
//! This is the facade crate an embedding agent depends on. Compile a rule
//! set once ([`Rules`]), share it between threads, and give each thread an
//! [`Executor`]. Per file and stream, [`Executor::route`] decides which rule
//! takes the lines (once: routing reads only the file's metadata); per line,
//! [`Executor::apply`] writes the unified record into a reusable [`Record`]
//! without allocating.
//!
//! # Example
//!
//! ```
//! use uml::{FileInfo, Line, Outcome, Record, Rules, Stream};
//!
//! // The rule set compiled into uml (rules/ of the repository).
//! let rules = Rules::embedded();
//! let mut executor = rules.executor();
//! let mut record = Record::default();
//!
//! let file = FileInfo {
//!     pod: "model-x5qe2qo-7d9f8b6c5d-q7rg5",
//!     namespace: "org-50a9bc6b456e47aa88e0d81e622ea315",
//!     container: "model",
//!     ..FileInfo::default()
//! };
//! let route = executor.route(&file, Stream::Stderr);
//! let line = Line {
//!     text: r#"{"levelname": "INFO", "message": "Executing model.load()..."}"#,
//!     traceback: None,
//!     timestamp: 1_795_135_392_801_000_000,
//! };
//! assert_eq!(executor.apply(&route, line, &mut record), Outcome::Record);
//! assert_eq!(record.label(0), "x5qe2qo");
//! assert_eq!(
//!     std::str::from_utf8(record.payload()).unwrap(),
//!     r#"{"levelname":"INFO","message":"Executing model.load()...","replica":"q7rg5","source":"model_container"}"#
//! );
//!
//! // A sidecar's lines are not user facing: no rule takes them.
//! let sidecar = FileInfo { container: "queue-proxy", ..file };
//! let route = executor.route(&sidecar, Stream::Stdout);
//! assert_eq!(executor.apply(&route, line, &mut record), Outcome::Unrouted);
//! assert_eq!(rules.describe(&executor, Outcome::Unrouted), "unrouted");
//! ```
//!
//! `examples/embed.rs` runs the same on several threads.
//!
//! # Following files without losing a line
//!
//! An agent that tails log files feeds raw lines to the stream layer
//! ([`runtime::pipeline`]) with their byte offsets, and saves how far it
//! may read again from after a crash. Each record comes with its
//! [`Provenance`]: the raw lines behind it and where reading must start
//! again to make it again. A file's checkpoint is the smallest `resume` of
//! its records not yet delivered, or [`FileState::settled_position`] when
//! all are: never past an undelivered record, a partial line or an open
//! traceback, never inside a line. (`uml agent` is built this way.)
//!
//! ```
//! use uml::{FileState, Processor, Provenance, Rules};
//!
//! let rules = Rules::embedded();
//! let mut processor = Processor::new(rules.plan());
//! let path = "/var/log/pods/org-50a9bc6b456e47aa88e0d81e622ea315_model-x5qe2qo-7d9f8b6c5d-q7rg5_0d4a/model/0.log";
//! let mut file = FileState::from_path(path).starting_at(0);
//! let raw: [&[u8]; 3] = [
//!     b"2026-11-20T10:00:01Z stderr F {\"levelname\": \"INFO\", \"message\": \"loaded\"}\n",
//!     b"2026-11-20T10:00:02Z stdout P a line cut in two \n",
//!     b"2026-11-20T10:00:03Z stdout F by the runtime\n",
//! ];
//! let mut undelivered: Vec<(Vec<u8>, Provenance)> = Vec::new();
//! let mut offset = 0;
//! for line in raw {
//!     processor.push_at(&mut file, line, offset, &mut |record, provenance| {
//!         undelivered.push((record.payload().to_vec(), provenance));
//!     });
//!     offset += line.len() as u64;
//! }
//! // All there is was read: what waited for a next line goes out.
//! processor.settle(&mut file, &mut |record, provenance| {
//!     undelivered.push((record.payload().to_vec(), provenance));
//! });
//! // Both records are out (the second once its `F` piece came); nothing is held.
//! assert_eq!(undelivered.len(), 2);
//! assert_eq!(file.settled_position(), offset);
//! // Until they are delivered, the checkpoint stays before them.
//! let checkpoint = undelivered.iter().map(|(_, p)| p.resume).fold(file.settled_position(), u64::min);
//! assert_eq!(checkpoint, 0);
//! // The joined line's raw lines: its two pieces.
//! let (_, joined) = &undelivered[1];
//! assert_eq!((joined.origin.first, joined.origin.last), (raw[0].len() as u64, (raw[0].len() + raw[1].len()) as u64));
//! // Once the first is delivered, the checkpoint moves to the second's first piece.
//! let checkpoint = undelivered[1..].iter().map(|(_, p)| p.resume).fold(file.settled_position(), u64::min);
//! assert_eq!(checkpoint, raw[0].len() as u64);
//! ```
//!
//! A line outside any traceback waits for the next line of its stream,
//! which tells whether it is the traceback's head: call
//! [`Processor::settle`] once what could be read was pushed, so that the
//! last line read does not wait for the next write. For a file being
//! followed, [`Processor::flush_idle`] closes the
//! multiline groups quiet for their rule's `idle` time, by the lines'
//! clock ([`Processor::next_deadline`] says when), and
//! [`Processor::finish`] ends a file whose writer is gone.
//!
//! An agent that ships records as NDJSON or Loki push bodies encodes them
//! with [`runtime::output::Encoder`]; a record made with
//! `Record::with_form(PayloadForm::Escaped)` holds its payload already
//! escaped for it, written in one pass instead of written and escaped
//! again ([`PayloadForm`]).
#![forbid(unsafe_code)]

use std::fmt;
use std::path::Path;
use uml_compiler::compile::{Compiled, Unit, compile, location_in};
use uml_compiler::lower::{LowerStats, Options};

pub use uml_compiler as compiler;
pub use uml_runtime as runtime;
pub use uml_runtime::exec::{Executor, FileInfo, Line, Outcome, PayloadForm, Record, Route};
pub use uml_runtime::framing::{Origin, Stream};
pub use uml_runtime::pipeline::{FileState, Processor, Provenance};
pub use uml_runtime::plan::Plan;
pub use uml_syntax as syntax;

/// A compiled rule set: immutable, `Send` and `Sync`; one serves every thread.
#[derive(Debug)]
pub struct Rules {
    compiled: Compiled,
    units: Vec<Unit>,
}

impl Rules {
    /// The default rule set compiled into uml (`rules/` of the repository).
    pub fn embedded() -> Rules {
        // tests/defaults.rs in uml-compiler proves these compile cleanly.
        Rules::from_units(uml_compiler::defaults::default_units()).expect("the embedded rules compile")
    }

    /// Every `*.uml` file under `dir`, in path order. Links are followed and
    /// hidden entries skipped, so that a Kubernetes ConfigMap volume (files
    /// linked through `..data` to a hidden, timestamped directory) reads as
    /// its files, once each.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Rules, Error> {
        let dir = dir.as_ref();
        let mut paths = Vec::new();
        let walk = walkdir::WalkDir::new(dir).follow_links(true).sort_by_file_name().into_iter();
        for entry in walk.filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')) {
            let entry = entry.map_err(|e| Error::Io(format!("{}: {e}", dir.display())))?;
            if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "uml") {
                paths.push(entry.into_path());
            }
        }
        if paths.is_empty() {
            return Err(Error::Io(format!("{}: no .uml files", dir.display())));
        }
        let mut units = Vec::with_capacity(paths.len());
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(|e| Error::Io(format!("{}: {e}", p.display())))?;
            units.push(Unit { name: p.display().to_string(), text });
        }
        Rules::from_units(units)
    }

    /// A rule set from `(name, text)` pairs, in order.
    pub fn from_sources<N: Into<String>, T: Into<String>>(
        sources: impl IntoIterator<Item = (N, T)>,
    ) -> Result<Rules, Error> {
        Rules::from_units(sources.into_iter().map(|(n, t)| Unit { name: n.into(), text: t.into() }).collect())
    }

    fn from_units(units: Vec<Unit>) -> Result<Rules, Error> {
        match compile(&units, Options::default()) {
            Ok(compiled) => Ok(Rules { compiled, units }),
            Err(diagnostics) => Err(Error::Rules(RuleErrors {
                diagnostics,
                sources: units.into_iter().map(|u| (u.name, u.text)).collect(),
            })),
        }
    }

    /// The plan the executor runs.
    pub fn plan(&self) -> &Plan {
        &self.compiled.plan
    }

    /// What the optimizer did.
    pub fn stats(&self) -> LowerStats {
        self.compiled.stats
    }

    /// The checked program (for the reference evaluator and tests).
    pub fn program(&self) -> &uml_compiler::hir::Program {
        &self.compiled.program
    }

    /// Warnings the compiler reported.
    pub fn warnings(&self) -> &[uml_syntax::Diagnostic] {
        &self.compiled.warnings
    }

    /// The rule files, as compiled.
    pub fn sources(&self) -> impl Iterator<Item = (&str, &str)> {
        self.units.iter().map(|u| (u.name.as_str(), u.text.as_str()))
    }

    /// The value of the label `name` in `record` (`None` for a label the
    /// schema does not declare).
    pub fn label<'r>(&self, record: &'r Record, name: &str) -> Option<&'r str> {
        let i = self.plan().labels.iter().position(|l| l.name == name)?;
        Some(record.label(i))
    }

    /// A payload field of `record` as the JSON value written, parsed
    /// (`None` when the record leaves it out, or its payload is not in the
    /// compact [`PayloadForm::Json`] form). For reading records in tests and
    /// tools, not on the hot path.
    pub fn field(&self, record: &Record, name: &str) -> Option<serde_json::Value> {
        if record.form() != PayloadForm::Json {
            return None;
        }
        let mut payload: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(record.payload()).ok()?;
        payload.remove(name)
    }

    /// The record's `levelname`, as a level.
    ///
    /// ```
    /// use uml::{Line, Record, Rules, Stream};
    /// use uml::runtime::stdlib::level::Level;
    /// let rules = Rules::embedded();
    /// let mut executor = rules.executor();
    /// let file = uml::FileInfo {
    ///     pod: "model-x5qe2qo-7d9f8b6c5d-q7rg5",
    ///     namespace: "org-50a9bc6b456e47aa88e0d81e622ea315",
    ///     container: "model",
    ///     container_id: "",
    ///     file: "",
    /// };
    /// let route = executor.route(&file, Stream::Stderr);
    /// let line = Line { text: r#"{"levelname": "WARNING", "message": "low disk"}"#, timestamp: 0, traceback: None };
    /// let mut record = Record::default();
    /// assert_eq!(executor.apply(&route, line, &mut record), uml::Outcome::Record);
    /// assert_eq!(rules.level(&record), Some(Level::Warning));
    /// assert_eq!(rules.source(&record), Some(uml::Source::ModelContainer));
    /// assert_eq!(rules.label(&record, "model_version_id"), Some("x5qe2qo"));
    /// assert_eq!(rules.field(&record, "message"), Some("low disk".into()));
    /// ```
    pub fn level(&self, record: &Record) -> Option<uml_runtime::stdlib::level::Level> {
        let name = self.field(record, "levelname")?;
        uml_runtime::stdlib::level::parse_level(name.as_str()?, None).ok()
    }

    /// The record's `source`, as one of the platform's five (`None` for a
    /// value a schema of one's own allows beyond them).
    pub fn source(&self, record: &Record) -> Option<Source> {
        Source::from_name(self.field(record, "source")?.as_str()?)
    }

    /// A new executor for one thread.
    pub fn executor(&self) -> Executor<'_> {
        Executor::new(&self.compiled.plan)
    }

    /// Why a line produced no record, in the words the summary counts it
    /// under: `unrouted`, `rule NAME: reason`, or `rule NAME: abort at
    /// FILE:LINE:COL (f: message)` (the message from the executor's last
    /// failure). An empty string for [`Outcome::Record`].
    pub fn describe(&self, executor: &Executor<'_>, outcome: Outcome) -> String {
        outcome.describe(self.plan(), Some(executor.error()))
    }
}

/// Where a record comes from: the `source` of the built-in schema, one per
/// place the platform collects logs from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// The Tekton job that builds a model's image.
    Build,
    /// The running model's container.
    ModelContainer,
    /// The watcher that reports pod terminations.
    PodLifecycleWatcher,
    /// The Django app's deployment logs.
    Deploy,
    /// GPU build jobs.
    GpuBuild,
}

impl Source {
    pub const ALL: [Source; 5] =
        [Source::Build, Source::ModelContainer, Source::PodLifecycleWatcher, Source::Deploy, Source::GpuBuild];

    /// The value of `payload.source`.
    pub fn name(self) -> &'static str {
        match self {
            Source::Build => "build",
            Source::ModelContainer => "model_container",
            Source::PodLifecycleWatcher => "kube-pod-lifecycle-watcher",
            Source::Deploy => "deploy",
            Source::GpuBuild => "gpu_build",
        }
    }

    /// The source whose `payload.source` is `name`.
    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Why a rule set could not be loaded.
#[derive(Clone, Debug)]
pub enum Error {
    /// A file or directory could not be read.
    Io(String),
    /// The rules do not compile.
    Rules(RuleErrors),
}

/// The diagnostics of a rule set that does not compile, with the sources
/// they point into: codes, spans and notes for a caller that shows them its
/// own way; `Display` gives one line per error,
/// `error[CODE]: message (file:line:col)`.
///
/// ```
/// let schema = uml::compiler::defaults::default_schema();
/// let sources = [(schema.name, schema.text), ("bad.uml".into(), "rule r { let x = nope(1) }".into())];
/// let err = uml::Rules::from_sources(sources).unwrap_err();
/// let uml::Error::Rules(errors) = err else { panic!("not a rule error") };
/// let codes: Vec<&str> = errors.errors().map(|d| d.code.as_str()).collect();
/// assert!(codes.contains(&"E0302"), "{codes:?}");
/// assert!(errors.to_string().contains("bad.uml:1:"), "{errors}");
/// ```
#[derive(Clone, Debug)]
pub struct RuleErrors {
    /// Every diagnostic, warnings included, in the compiler's order.
    pub diagnostics: Vec<uml_syntax::Diagnostic>,
    /// `(name, text)` of each rule file; a diagnostic's `FileId(i)` is the
    /// `i`-th.
    pub sources: Vec<(String, String)>,
}

impl RuleErrors {
    /// The errors (the diagnostics that stop compilation).
    pub fn errors(&self) -> impl Iterator<Item = &uml_syntax::Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    /// `file:line:col` of a diagnostic's primary span.
    pub fn location(&self, d: &uml_syntax::Diagnostic) -> Option<String> {
        let label = d.labels.iter().find(|l| l.primary)?;
        let (name, text) = self.sources.get(label.file.0 as usize)?;
        Some(location_in(name, text, label.span))
    }
}

impl fmt::Display for RuleErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.errors().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "error[{}]: {} ({})", d.code, d.message, self.location(d).unwrap_or_else(|| "?".into()))?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => f.write_str(e),
            Error::Rules(errors) => errors.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<Rules>();
};
