//! `uml agent`: the configuration (a TOML file, flags over it) to a
//! [`uml_agent::Config`], `--check`, the signal handlers, and the exit
//! status. The agent itself lives in the `uml-agent` crate.
//!
//! The configuration file holds what the flags hold, under the same names
//! (`docs/agent.md`); every key is optional and a flag given on the
//! command line wins. Secrets are never values in it: a password or token
//! comes from a file (`password_file`, `bearer_token_file`) or an
//! environment variable (`password_env`, `bearer_token_env`), and an
//! inline `password` or `bearer_token` is an error, so that a ConfigMap
//! never holds one. Every error names the file, the line and the key.

use crate::args::{AgentArgs, parse_bytes, parse_duration};
use crate::{Io, Status};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;
use uml_agent::agent::{AgentError, Config};
use uml_agent::loki::{Auth, ClientConfig};

/// The configuration file, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    roots: Option<Vec<PathBuf>>,
    state: Option<PathBuf>,
    metrics: Option<Spanned<String>>,
    rules: Option<PathBuf>,
    memory_budget: Option<Spanned<String>>,
    grace: Option<Spanned<String>>,
    ignore_older: Option<Spanned<String>>,
    max_hold: Option<Spanned<String>>,
    loki: Option<LokiFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LokiFile {
    url: Option<String>,
    tenant: Option<String>,
    username: Option<String>,
    password_file: Option<PathBuf>,
    password_env: Option<String>,
    bearer_token_file: Option<PathBuf>,
    bearer_token_env: Option<String>,
    ca_file: Option<PathBuf>,
    timeout: Option<Spanned<String>>,
    batch_size: Option<Spanned<String>>,
    batch_wait: Option<Spanned<String>>,
    /// Refused: a secret does not belong in the file.
    password: Option<Spanned<toml::Value>>,
    /// Refused, as `password`.
    bearer_token: Option<Spanned<toml::Value>>,
}

/// A problem in the configuration: where, and what.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// `FILE:LINE: key`, or the flag.
    pub at: String,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// Runs the agent until SIGTERM or SIGINT, or checks its configuration.
pub fn run(args: &AgentArgs, io: &mut Io<'_>) -> Status {
    let config = match config(args) {
        Ok(config) => config,
        Err(errors) => {
            for e in &errors {
                let _ = writeln!(io.stderr, "uml agent: error: {e}");
            }
            return if args.check { Status::Failure } else { Status::Error };
        }
    };
    // The rules are compiled here first, so that their errors are shown
    // with the source line and a caret, before anything starts.
    let rules = match crate::run::load_rules(config.rules_dir.as_deref(), io) {
        Ok(Some((_, rules))) => rules,
        Ok(None) => return Status::Failure,
        Err(e) => {
            let _ = writeln!(io.stderr, "uml agent: {e}");
            return Status::Failure;
        }
    };
    if args.check {
        if let Some(loki) = &config.loki
            && let Err(e) = uml_agent::loki::Client::new(loki)
        {
            let _ = writeln!(io.stderr, "uml agent: error: loki: {e}");
            return Status::Failure;
        }
        let what = args.config.as_ref().map_or("the flags".to_string(), |c| c.display().to_string());
        let _ = writeln!(io.stderr, "ok: {what} is a valid configuration; the rules compile: {rules}");
        return Status::Success;
    }
    let signals = uml_agent::Signals::default();
    for (signal, flag) in [
        (signal_hook::consts::SIGTERM, &signals.terminate),
        (signal_hook::consts::SIGINT, &signals.terminate),
        (signal_hook::consts::SIGHUP, &signals.reload),
    ] {
        if let Err(e) = signal_hook::flag::register(signal, std::sync::Arc::clone(flag)) {
            let _ = writeln!(io.stderr, "uml agent: cannot handle signal {signal}: {e}");
            return Status::Error;
        }
    }
    match uml_agent::run(&config, &signals) {
        Ok(()) => Status::Success,
        Err(e) => {
            let _ = writeln!(io.stderr, "uml agent: {e}");
            match e {
                AgentError::Rules(_) => Status::Failure,
                _ => Status::Error,
            }
        }
    }
}

/// The configuration the file and the flags describe; every problem found.
pub fn config(args: &AgentArgs) -> Result<Config, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let (file, text, path) = match &args.config {
        None => (FileConfig::default(), String::new(), PathBuf::new()),
        Some(path) => match std::fs::read_to_string(path) {
            Err(e) => {
                return Err(vec![ConfigError { at: path.display().to_string(), message: e.to_string() }]);
            }
            Ok(text) => match toml::from_str::<FileConfig>(&text) {
                Ok(file) => (file, text, path.clone()),
                Err(e) => {
                    let at = match e.span() {
                        Some(span) => format!("{}:{}", path.display(), line_of(&text, span.start)),
                        None => path.display().to_string(),
                    };
                    return Err(vec![ConfigError { at, message: e.message().trim().to_string() }]);
                }
            },
        },
    };
    let at = |key: &str, span: Option<std::ops::Range<usize>>| match span {
        Some(span) => format!("{}:{}: {key}", path.display(), line_of(&text, span.start)),
        None => format!("--{}", key.rsplit('.').next().unwrap_or(key).replace('_', "-")),
    };
    // A value: the flag's, else the file's parsed, else the default.
    macro_rules! value {
        ($flag:expr, $file:expr, $key:literal, $parse:expr, $default:expr) => {
            match ($flag, $file) {
                (Some(v), _) => v,
                (None, Some(s)) => {
                    let s: &Spanned<String> = s;
                    match $parse(s.get_ref().as_str()) {
                        Ok(v) => v,
                        Err(message) => {
                            errors.push(ConfigError { at: at($key, Some(s.span())), message });
                            $default
                        }
                    }
                }
                (None, None) => $default,
            }
        };
    }
    let defaults = Config::default();
    let loki_file = file.loki.unwrap_or_default();
    for (key, secret) in [("loki.password", &loki_file.password), ("loki.bearer_token", &loki_file.bearer_token)] {
        if let Some(s) = secret {
            errors.push(ConfigError {
                at: at(key, Some(s.span())),
                message: "a secret is never written in the configuration: use password_file or password_env \
                          (bearer_token_file, bearer_token_env), filled from a Kubernetes Secret"
                    .into(),
            });
        }
    }
    let memory_budget =
        value!(args.memory_budget, &file.memory_budget, "memory_budget", parse_bytes, defaults.memory_budget);
    let grace = value!(args.grace, &file.grace, "grace", parse_duration, defaults.grace);
    let max_hold = value!(args.max_hold, &file.max_hold, "max_hold", parse_duration, defaults.max_hold);
    let ignore_older = match (args.ignore_older, &file.ignore_older) {
        (Some(v), _) => Some(v),
        (None, Some(_)) => Some(value!(None, &file.ignore_older, "ignore_older", parse_duration, Duration::ZERO)),
        (None, None) => None,
    };
    let timeout = value!(args.timeout, &loki_file.timeout, "loki.timeout", parse_duration, Duration::from_secs(10));
    let batch_size =
        value!(args.batch_size, &loki_file.batch_size, "loki.batch_size", parse_bytes, defaults.batch_bytes);
    let batch_wait =
        value!(args.batch_wait, &loki_file.batch_wait, "loki.batch_wait", parse_duration, defaults.batch_wait);
    let metrics_addr = match (&args.metrics, &file.metrics) {
        (Some(m), _) => metrics_addr(m).unwrap_or_else(|message| {
            errors.push(ConfigError { at: "--metrics".into(), message });
            None
        }),
        (None, Some(m)) => metrics_addr(m.get_ref()).unwrap_or_else(|message| {
            errors.push(ConfigError { at: at("metrics", Some(m.span())), message });
            None
        }),
        (None, None) => defaults.metrics_addr,
    };
    let url = args.loki.clone().or(loki_file.url.clone());
    let loki = match url {
        None => None,
        Some(url) => match auth(args, &loki_file) {
            Ok(auth) => Some(ClientConfig {
                url,
                tenant: args.tenant.clone().or(loki_file.tenant.clone()),
                auth,
                ca_file: args.ca_file.clone().or(loki_file.ca_file.clone()),
                timeout,
                ..ClientConfig::default()
            }),
            Err(e) => {
                errors.push(e);
                None
            }
        },
    };
    let roots = if !args.roots.is_empty() { args.roots.clone() } else { file.roots.unwrap_or(defaults.roots.clone()) };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Config {
        roots,
        state_dir: args.state.clone().or(file.state).unwrap_or(defaults.state_dir.clone()),
        loki,
        metrics_addr,
        rules_dir: args.rules.clone().or(file.rules).or_else(crate::sources::local_rules),
        batch_bytes: batch_size.max(1),
        batch_wait,
        memory_budget: memory_budget.max(1),
        grace,
        ignore_older,
        max_hold,
        ..defaults
    })
}

/// The line number (from 1) of byte `offset` of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}

/// `HOST:PORT`, `:PORT` (all addresses) or `off`.
fn metrics_addr(text: &str) -> Result<Option<SocketAddr>, String> {
    if text == "off" {
        return Ok(None);
    }
    let full = if let Some(port) = text.strip_prefix(':') { format!("0.0.0.0:{port}") } else { text.to_string() };
    full.parse().map(Some).map_err(|_| format!("`{text}` is not an address such as :9731 or 127.0.0.1:9731, or off"))
}

/// The credentials: never written in a file or a flag; read from files or
/// the environment.
fn auth(args: &AgentArgs, file: &LokiFile) -> Result<Auth, ConfigError> {
    let error = |at: &str, message: String| ConfigError { at: at.to_string(), message };
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
            .map_err(|e| error(&path.display().to_string(), e.to_string()))
    };
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let token_file = args.bearer_token_file.as_ref().or(file.bearer_token_file.as_ref());
    let token = match token_file {
        Some(path) => Some(read(path)?),
        None => env(file.bearer_token_env.as_deref().unwrap_or("UML_LOKI_BEARER_TOKEN")),
    };
    let username = args.username.as_ref().or(file.username.as_ref());
    match (username, token) {
        (Some(_), Some(_)) => {
            Err(error("loki", "give either a username (basic authentication) or a bearer token, not both".into()))
        }
        (Some(user), None) => {
            let password = match args.password_file.as_ref().or(file.password_file.as_ref()) {
                Some(path) => read(path)?,
                None => {
                    let var = file.password_env.as_deref().unwrap_or("UML_LOKI_PASSWORD");
                    env(var).ok_or_else(|| {
                        error(
                            "loki.username",
                            format!("needs password_file (--password-file) or the variable {var} set"),
                        )
                    })?
                }
            };
            Ok(Auth::Basic { user: user.clone(), password })
        }
        (None, Some(token)) => Ok(Auth::Bearer(token)),
        (None, None) if args.password_file.is_some() || file.password_file.is_some() => {
            Err(error("loki.password_file", "needs a username".into()))
        }
        (None, None) => Ok(Auth::None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Cli, Command};

    fn args(argv: &[&str]) -> AgentArgs {
        let cli =
            Cli::try_from_args(std::iter::once("uml").chain(std::iter::once("agent")).chain(argv.iter().copied()))
                .unwrap();
        match cli.command {
            Command::Agent(a) => a,
            other => panic!("parsed {other:?}"),
        }
    }

    fn with_file(text: &str, argv: &[&str]) -> Result<Config, Vec<ConfigError>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.toml");
        std::fs::write(&path, text).unwrap();
        let mut all = vec!["--config", path.to_str().unwrap()];
        all.extend_from_slice(argv);
        config(&args(&all)).map_err(|errors| {
            errors
                .into_iter()
                .map(|e| ConfigError { at: e.at.replace(path.to_str().unwrap(), "agent.toml"), message: e.message })
                .collect()
        })
    }

    #[test]
    fn the_file_fills_what_the_flags_do_not_say() {
        let text = "roots = [\"/logs\"]\nstate = \"/s\"\nmetrics = \"off\"\ngrace = \"3s\"\n[loki]\nurl = \"http://l:3100\"\n\
                    tenant = \"t\"\nbatch_size = \"512KiB\"\n";
        let c = with_file(text, &["--grace", "5s"]).unwrap();
        assert_eq!(c.roots, [PathBuf::from("/logs")]);
        assert_eq!(c.state_dir, PathBuf::from("/s"));
        assert_eq!(c.metrics_addr, None);
        assert_eq!(c.grace, Duration::from_secs(5), "the flag wins");
        assert_eq!(c.batch_bytes, 512 << 10);
        let loki = c.loki.unwrap();
        assert_eq!((loki.url.as_str(), loki.tenant.as_deref()), ("http://l:3100", Some("t")));
    }

    #[test]
    fn errors_name_the_line_and_the_key() {
        let e = with_file("state = \"/s\"\ngrace = \"10 parsecs\"\n", &[]).unwrap_err();
        assert_eq!(e[0].at, "agent.toml:2: grace");
        let e = with_file("[loki]\nurl = \"http://l\"\npassword = \"hunter2\"\n", &[]).unwrap_err();
        assert_eq!(e[0].at, "agent.toml:3: loki.password");
        assert!(e[0].message.contains("never written"), "{}", e[0].message);
        let e = with_file("stat = \"/s\"\n", &[]).unwrap_err();
        assert_eq!(e[0].at, "agent.toml:1");
        assert!(e[0].message.contains("unknown field `stat`"), "{}", e[0].message);
    }

    #[test]
    fn defaults_without_a_file() {
        let c = config(&args(&[])).unwrap();
        assert_eq!(c.roots, [PathBuf::from("/var/log/pods")]);
        assert_eq!(c.state_dir, PathBuf::from("/var/lib/uml"));
        assert_eq!(c.metrics_addr, Some(SocketAddr::from(([0, 0, 0, 0], 9731))));
        assert!(c.loki.is_none());
    }
}
