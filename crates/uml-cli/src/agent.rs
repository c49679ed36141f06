//! `uml agent`: flags to a [`uml_agent::Config`], the signal handlers, and
//! the exit status. The agent itself lives in the `uml-agent` crate.

use crate::args::AgentArgs;
use crate::{Io, Status};
use std::net::SocketAddr;
use std::path::Path;
use uml_agent::agent::{AgentError, Config};
use uml_agent::loki::{Auth, ClientConfig};

/// Runs the agent until SIGTERM or SIGINT.
pub fn run(args: &AgentArgs, io: &mut Io<'_>) -> Status {
    let config = match config(args) {
        Ok(config) => config,
        Err(e) => {
            let _ = writeln!(io.stderr, "uml agent: {e}");
            return Status::Error;
        }
    };
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

/// The configuration the flags describe.
pub fn config(args: &AgentArgs) -> Result<Config, String> {
    let loki = match &args.loki {
        None => None,
        Some(url) => Some(ClientConfig {
            url: url.clone(),
            tenant: args.tenant.clone(),
            auth: auth(args)?,
            ca_file: args.ca_file.clone(),
            timeout: args.timeout,
            ..ClientConfig::default()
        }),
    };
    Ok(Config {
        roots: args.roots.clone(),
        state_dir: args.state.clone(),
        loki,
        metrics_addr: metrics_addr(&args.metrics)?,
        rules_dir: args.rules.clone(),
        batch_bytes: args.batch_size.max(1),
        batch_wait: args.batch_wait,
        memory_budget: args.memory_budget.max(1),
        grace: args.grace,
        ignore_older: args.ignore_older,
        max_hold: args.max_hold,
        ..Config::default()
    })
}

/// `HOST:PORT`, `:PORT` (all addresses) or `off`.
fn metrics_addr(text: &str) -> Result<Option<SocketAddr>, String> {
    if text == "off" {
        return Ok(None);
    }
    let full = if let Some(port) = text.strip_prefix(':') { format!("0.0.0.0:{port}") } else { text.to_string() };
    full.parse().map(Some).map_err(|_| format!("--metrics {text}: not an address such as :9731 or 127.0.0.1:9731"))
}

/// The credentials: never on the command line, from files or the environment.
fn auth(args: &AgentArgs) -> Result<Auth, String> {
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    let token = match &args.bearer_token_file {
        Some(path) => Some(read(path)?),
        None => std::env::var("UML_LOKI_BEARER_TOKEN").ok().filter(|t| !t.is_empty()),
    };
    match (&args.username, token) {
        (Some(_), Some(_)) => Err("give either --username (basic authentication) or a bearer token, not both".into()),
        (Some(user), None) => {
            let password = match &args.password_file {
                Some(path) => read(path)?,
                None => std::env::var("UML_LOKI_PASSWORD")
                    .map_err(|_| "--username needs --password-file or UML_LOKI_PASSWORD".to_string())?,
            };
            Ok(Auth::Basic { user: user.clone(), password })
        }
        (None, Some(token)) => Ok(Auth::Bearer(token)),
        (None, None) if args.password_file.is_some() => Err("--password-file needs --username".into()),
        (None, None) => Ok(Auth::None),
    }
}
