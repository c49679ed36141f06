//! The command line as data: what `uml` was asked to do.
//!
//! clap's derive API parses `argv` into [`Cli`]; nothing here touches files
//! or streams, so the rest of the crate can be driven from tests by building
//! a [`Cli`] with [`clap::Parser::try_parse_from`].

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsStr;
use std::path::PathBuf;

const EXAMPLES: &str = "\
Every command uses the rule files it is given (PATHs, or --rules DIR); without any, ./rules/ if it
holds .uml files, else the rules built into uml. It says which in its summary.

Examples:
  uml run /var/log/containers     Transform a node's container logs
  uml run --format loki -o out.json examples/var/log/containers
  uml check                       Check every .uml file under rules/
  uml check rules/app.uml         Check one file
  uml test rules/                 Run the test blocks of a rule set
  uml explain rules/model_container.uml  Show the plan a rule compiles to
  uml fmt --check                 List the files under rules/ that are not formatted
  uml fmt - < app.uml             Format standard input to standard output
  uml rules export my-rules/      Write the built-in rules out, to edit them";

/// Run, check, test, explain and format `.uml` log-transform rules.
#[derive(Debug, Parser)]
#[command(name = "uml", version, after_help = EXAMPLES, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// When to colour diagnostics: `auto` colours a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, global = true, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,
}

impl Cli {
    /// Parses a command line, program name first; on `--help`, `--version`
    /// or a usage error, the error carries the text to print and the exit
    /// status (2 for usage errors).
    pub fn try_from_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Cli::try_parse_from(args)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Transform container log files into unified records (NDJSON or Loki push bodies).
    #[command(after_help = "Exit status: 0 when the input was processed (dropped lines are not failures), \
                            1 if the rules have errors, 2 if a path cannot be read or the output written.")]
    Run(RunArgs),
    /// Report syntax, type and schema errors in a rule set.
    #[command(after_help = "Exit status: 0 if no errors, 1 if errors were found, 2 if a path cannot be read.")]
    Check(CheckArgs),
    /// Run the rule set's `test` blocks and show a diff for each failing one.
    #[command(after_help = "Exit status: 0 if every test passed, 1 if the rules have errors or a test failed, \
                            2 if a path cannot be read.")]
    Test(TestArgs),
    /// Print what the compiler makes of a rule set, stage by stage.
    #[command(after_help = "Exit status: 0 on success, 1 if the rules have errors, 2 if a path cannot be read.")]
    Explain(ExplainArgs),
    /// Rewrite rule files in canonical form.
    #[command(after_help = "Exit status: 0 on success, 1 if a file has syntax errors or (with --check) \
                            would change, 2 if a path cannot be read or written.")]
    Fmt(FmtArgs),
    /// The rules built into uml: write them out to edit them.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Follow a node's container logs and deliver their records to Loki (or, without --loki, print them
    /// as NDJSON), saving read positions only over what was delivered.
    #[command(after_help = AGENT_HELP, args_override_self = true)]
    Agent(AgentArgs),
}

/// What `uml rules` does.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Write the rules built into uml to DIR (created if needed; existing files are not replaced).
    Export {
        /// Where to write them.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

const AGENT_HELP: &str = "\
Signals: SIGTERM/SIGINT stop reading, send what was read (within --grace), save positions and exit 0;
SIGHUP reloads the rules (a rule set that does not compile leaves the old one running).

Exit status: 0 after a graceful stop, 1 if the rules do not compile, 2 if the agent cannot start
(another agent holds the state directory, a bad flag, an address in use).

Examples:
  uml agent --loki http://loki.logging:3100 --state /var/lib/uml /var/log/pods
  uml agent --state /tmp/uml-state examples/var/log/pods     Print NDJSON records, following the files";

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Where the container logs are: kubelet's pods tree, or /var/log/containers (links into it).
    /// [default: /var/log/pods]
    #[arg(value_name = "ROOT")]
    pub roots: Vec<PathBuf>,

    /// A configuration file (TOML) holding what the flags hold; flags override it. See docs/agent.md.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Validate the configuration and compile the rules, print what is wrong, and exit: 0 if all is
    /// well, 1 otherwise. Starts nothing.
    #[arg(long)]
    pub check: bool,

    /// Loki's base URL; pushes go to URL/loki/api/v1/push. Without it, records are written to standard
    /// output as NDJSON.
    #[arg(long, value_name = "URL")]
    pub loki: Option<String>,

    /// The directory of read positions; one agent per directory. [default: /var/lib/uml]
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,

    /// The address of the /metrics, /healthz and /ready listener (`HOST:PORT`, or `:PORT` for all
    /// addresses); `off` for none. [default: :9731]
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,

    /// A rule set directory, instead of the rules built into uml.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,

    /// The tenant, sent as X-Scope-OrgID to a multi-tenant Loki.
    #[arg(long, value_name = "ID")]
    pub tenant: Option<String>,

    /// Basic authentication: the user (the password comes from --password-file or UML_LOKI_PASSWORD).
    #[arg(long, value_name = "USER")]
    pub username: Option<String>,

    /// Basic authentication: a file holding the password.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// A file holding a bearer token (or UML_LOKI_BEARER_TOKEN).
    #[arg(long, value_name = "FILE")]
    pub bearer_token_file: Option<PathBuf>,

    /// A PEM file of CA certificates trusted for an https Loki, besides the usual roots.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Send a batch when it holds this many bytes. [default: 1MiB]
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub batch_size: Option<usize>,

    /// Send a batch when its first record is this old. [default: 1s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub batch_wait: Option<std::time::Duration>,

    /// The most bytes read and not yet acknowledged; past it, reading pauses (the files are the buffer).
    /// [default: 64MiB]
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub memory_budget: Option<usize>,

    /// At shutdown, how long to go on sending what was read. [default: 10s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub grace: Option<std::time::Duration>,

    /// The deadline of one push request. [default: 10s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,

    /// On a first start (no saved positions), skip files not modified for this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub ignore_older: Option<std::time::Duration>,

    /// How long a deleted file with unread bytes is held open before its bytes are abandoned (counted).
    /// [default: 30m]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub max_hold: Option<std::time::Duration>,
}

/// `10s`, `500ms`, `5m`, `1h`, `2d`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| format!("`{text}` is not a duration such as 10s, 500ms or 5m"))?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "s" | "" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        "d" => number * 86400.0,
        _ => return Err(format!("`{text}`: the unit must be ms, s, m, h or d")),
    };
    std::time::Duration::try_from_secs_f64(seconds).map_err(|e| format!("`{text}`: {e}"))
}

/// `1048576`, `512KiB`, `1MiB`, `1GiB` (also `KB`, `MB`, `GB` as powers of 1000).
pub fn parse_bytes(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: usize = number.parse().map_err(|_| format!("`{text}` is not a size such as 1MiB or 65536"))?;
    let factor = match unit {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "KB" | "kB" => 1000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        _ => return Err(format!("`{text}`: the unit must be B, KiB, MiB or GiB")),
    };
    number.checked_mul(factor).ok_or_else(|| format!("`{text}` is too large"))
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Log files, or directories to search for `*.log` files; `-` reads standard input
    /// (with `--pod`, `--namespace` and `--container`).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// A rule set directory, instead of the rules built into uml.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,

    /// `ndjson`: one `{"ts","labels","line"}` object per record; `loki`: bodies for
    /// Loki's `POST /loki/api/v1/push`, one per line, grouped by stream.
    #[arg(long, value_enum, default_value_t = OutputFormat::Ndjson)]
    pub format: OutputFormat,

    /// Write the records to FILE instead of standard output (`-`: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// How standard input is framed: `auto` (CRI or docker json-file, as in a kubelet file, detected from
    /// the first line), or a format by name (see `--help` for each).
    #[arg(long, value_name = "FRAMING", value_parser = framing_names())]
    pub framing: Option<String>,

    /// Also write the summary (lines read, records, drops by reason) to FILE as JSON.
    #[arg(long, value_name = "FILE")]
    pub stats: Option<PathBuf>,

    /// Worker threads (default: all cores); each file is processed by one of them, in order.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// The pod of the lines read from standard input.
    #[arg(long)]
    pub pod: Option<String>,

    /// The namespace of the lines read from standard input.
    #[arg(long)]
    pub namespace: Option<String>,

    /// The container of the lines read from standard input.
    #[arg(long)]
    pub container: Option<String>,
}

/// The values of `uml run --framing`: `auto` and every framing format.
fn framing_names() -> clap::builder::PossibleValuesParser {
    use clap::builder::PossibleValue;
    let auto = PossibleValue::new("auto").help("CRI or docker json-file, detected from the first line");
    let formats = uml_runtime::framing::Format::ALL.iter().map(|f| PossibleValue::new(f.name()).help(f.summary()));
    clap::builder::PossibleValuesParser::new(std::iter::once(auto).chain(formats))
}

/// The record format of `uml run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Ndjson,
    Loki,
}

impl From<OutputFormat> for uml_runtime::output::Wire {
    fn from(f: OutputFormat) -> Self {
        match f {
            OutputFormat::Ndjson => uml_runtime::output::Wire::Ndjson,
            OutputFormat::Loki => uml_runtime::output::Wire::Loki,
        }
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// `.uml` files, or directories to search for them; `-` reads standard input. Without any (and
    /// without `--rules`): `./rules/` if it has rule files, else the rules built into uml.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// A rule set directory: the same as naming it as a PATH, as `uml run --rules` takes it.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}

impl CheckArgs {
    /// The paths named: `--rules DIR` first, then the PATHs; none means
    /// the default rule set (see `sources::RuleSet::resolve`).
    pub fn rule_paths(&self) -> Vec<PathBuf> {
        self.rules.iter().cloned().chain(self.paths.iter().cloned()).collect()
    }
}

#[derive(Debug, Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub rule_set: CheckArgs,

    /// Run only the tests whose name contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The stage to print: the parsed tree (`ast`), the checked program with its types (`hir`),
    /// or the optimized plan the executor runs (`plan`).
    #[arg(long, value_enum, default_value_t = Stage::Plan)]
    pub stage: Stage,

    /// With `--stage plan`: the plan as lowered, before the optimizer.
    #[arg(long)]
    pub unoptimized: bool,

    /// `.uml` files, or directories to search for them; `-` reads standard input. Without any:
    /// `./rules/` if it has rule files, else the rules built into uml.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// A compiler stage `uml explain` can print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Stage {
    Ast,
    Hir,
    Plan,
}

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Write nothing; list the files that would change, with a diff, and fail if any would.
    #[arg(long)]
    pub check: bool,

    /// `.uml` files, or directories to search for them; `-` formats standard input to standard output.
    /// Without any: `./rules/`.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// The `--color` choice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    // Colour when standard error is a terminal and `NO_COLOR` is unset or
    // empty. (Not a doc comment: clap would show it, and a documented
    // variant turns `--help`'s one-line list of values into a long one.)
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// Whether diagnostics are coloured, given what the environment says.
    /// `no_color` is the value of `NO_COLOR`; <https://no-color.org> asks
    /// that only a non-empty value disables colour.
    pub fn enabled(self, stderr_is_terminal: bool, no_color: Option<&OsStr>) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => stderr_is_terminal && no_color.is_none_or(OsStr::is_empty),
        }
    }
}

/// The path that stands for standard input (and, for `fmt`, standard output).
pub fn is_stdin(path: &std::path::Path) -> bool {
    path.as_os_str() == "-"
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_paths_means_the_default_rule_set() {
        let cli = Cli::try_parse_from(["uml", "check"]).unwrap();
        let Command::Check(args) = cli.command else { panic!("parsed {cli:?}") };
        assert!(args.rule_paths().is_empty());
        let cli = Cli::try_parse_from(["uml", "check", "--rules", "r", "a.uml"]).unwrap();
        let Command::Check(args) = cli.command else { panic!("parsed {cli:?}") };
        assert_eq!(args.rule_paths(), [PathBuf::from("r"), PathBuf::from("a.uml")]);
    }

    #[test]
    fn color_is_global() {
        let cli = Cli::try_parse_from(["uml", "fmt", "--check", "--color", "never", "a.uml"]).unwrap();
        assert_eq!(cli.color, ColorWhen::Never);
        let Command::Fmt(args) = cli.command else { panic!("parsed {cli:?}") };
        assert!(args.check);
        assert_eq!(args.paths, [PathBuf::from("a.uml")]);
    }

    #[test]
    fn auto_colour_needs_a_terminal_and_no_no_color() {
        let set = Some(OsStr::new("1"));
        let empty = Some(OsStr::new(""));
        assert!(ColorWhen::Auto.enabled(true, None));
        assert!(ColorWhen::Auto.enabled(true, empty));
        assert!(!ColorWhen::Auto.enabled(true, set));
        assert!(!ColorWhen::Auto.enabled(false, None));
        assert!(ColorWhen::Always.enabled(false, set));
        assert!(!ColorWhen::Never.enabled(true, None));
    }
}
