//! The main loop: scan, read, batch, acknowledge, checkpoint, reload, and
//! shut down.
//!
//! One thread reads and transforms (the followers and the stream layer are
//! single-threaded state, which keeps the checkpoint logic simple and
//! exact); the sender thread talks to Loki; the metrics listener answers
//! Prometheus. The loop never blocks on Loki: batches wait in a bounded
//! queue, and when the memory budget is full the loop stops reading and
//! only scans, acknowledges and saves positions.
//!
//! **Shutdown** (`SIGTERM`, `SIGINT`): stop reading, seal the batch being
//! built, let the sender deliver what is queued within the grace period,
//! save positions, exit. Lines still held by the stream layer (an open
//! traceback, a partial line) are not flushed: the saved position lies
//! before them, so the next agent reads them again, once. A graceful
//! restart sends no duplicates.
//!
//! **Reload** (`SIGHUP`, or a change of the rule directory's content): the
//! new rules are compiled; if they do not compile, the old ones go on, the
//! diagnostics are logged and a failure is counted. If they do, every
//! stream is read again from its settled position with the new rules
//! (records already made are not made again).

use crate::discover::{self, LogStream};
use crate::follow::{Follower, Outbox, ReadCx};
use crate::log;
use crate::loki::{self, Client};
use crate::metrics::{self, Metrics, Readiness};
use crate::push::{Batch, promql_labels};
use crate::sender::{self, Outgoing, SenderHandle, Settled};
use crate::state::{Positions, StateDir, VERSION};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};
use uml::Rules;
use uml::runtime::exec::Record;
use uml::runtime::output::{Encoder, Wire};
use uml::runtime::pipeline::{Processor, Provenance};

/// Everything the agent is told; [`Config::default`] holds the defaults.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the logs are: kubelet's pods tree (`/var/log/pods`) or
    /// `/var/log/containers`.
    pub roots: Vec<PathBuf>,
    /// Where positions are kept; one agent per directory.
    pub state_dir: PathBuf,
    /// Loki, or `None` to write NDJSON records to standard output.
    pub loki: Option<loki::ClientConfig>,
    /// The `/metrics`, `/healthz` and `/ready` listener, if any.
    pub metrics_addr: Option<SocketAddr>,
    /// A rule directory, or `None` for the rules built into uml.
    pub rules_dir: Option<PathBuf>,
    /// A batch is sent when it holds this many bytes …
    pub batch_bytes: usize,
    /// … or when its first record is this old.
    pub batch_wait: Duration,
    /// Bytes read and not yet acknowledged, at most.
    pub memory_budget: usize,
    /// At shutdown, how long to go on sending.
    pub grace: Duration,
    /// On a first start, files not modified for this long are skipped
    /// (a live file is then read from its end).
    pub ignore_older: Option<Duration>,
    /// How often the roots are scanned for new, rotated and deleted files.
    pub rescan: Duration,
    /// How often followed files are read for new lines.
    pub poll: Duration,
    /// How long a deleted file with unread bytes is held open.
    pub max_hold: Duration,
    /// A caught-up live file not written for this long is closed.
    pub idle_close: Duration,
    /// How often positions are saved (when they changed).
    pub checkpoint_every: Duration,
}

/// The port of the metrics listener by default: used by no common node
/// agent or exporter (node_exporter has 9100, Fluent Bit 2020, Vector 9598,
/// Promtail 9080, Alloy 12345).
pub const DEFAULT_METRICS_PORT: u16 = 9731;

impl Default for Config {
    fn default() -> Config {
        Config {
            roots: vec![PathBuf::from("/var/log/pods")],
            state_dir: PathBuf::from("/var/lib/uml"),
            loki: None,
            metrics_addr: Some(SocketAddr::from(([0, 0, 0, 0], DEFAULT_METRICS_PORT))),
            rules_dir: None,
            batch_bytes: 1 << 20,
            batch_wait: Duration::from_secs(1),
            memory_budget: 64 << 20,
            grace: Duration::from_secs(10),
            ignore_older: None,
            rescan: Duration::from_secs(1),
            poll: Duration::from_millis(100),
            max_hold: Duration::from_secs(30 * 60),
            idle_close: Duration::from_secs(5),
            checkpoint_every: Duration::from_millis(100),
        }
    }
}

/// Flags the signal handlers set (`signal_hook::flag::register`).
#[derive(Clone, Debug, Default)]
pub struct Signals {
    /// `SIGTERM` or `SIGINT`: shut down gracefully.
    pub terminate: Arc<AtomicBool>,
    /// `SIGHUP`: reload the rules.
    pub reload: Arc<AtomicBool>,
}

/// Why the agent could not run.
#[derive(Debug)]
pub enum AgentError {
    State(crate::state::StateError),
    /// The rules do not compile (at start; a reload keeps the old ones).
    Rules(String),
    Loki(String),
    Metrics(String),
}

impl std::fmt::Display for AgentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgentError::State(e) => write!(f, "{e}"),
            AgentError::Rules(e) => write!(f, "the rules do not compile:\n{e}"),
            AgentError::Loki(e) => write!(f, "Loki: {e}"),
            AgentError::Metrics(e) => write!(f, "metrics: {e}"),
        }
    }
}

impl std::error::Error for AgentError {}

/// Bytes a follower reads in one turn, so that one busy file does not
/// starve the others.
const TURN_BYTES: usize = 256 << 10;
/// Sealed batches waiting for the sender's queue before reading pauses.
const MAX_UNSENT: usize = 2;
/// Sealed batches the sender takes ahead of the one it sends.
const SENDER_QUEUE: usize = 2;
/// How often the metrics that need a walk over every stream are updated.
const METRICS_EVERY: Duration = Duration::from_millis(250);
/// How often the rule directory's content is compared.
const RULES_CHECK: Duration = Duration::from_secs(2);

/// Runs the agent until `signals.terminate`.
pub fn run(config: &Config, signals: &Signals) -> Result<(), AgentError> {
    let state = StateDir::open(&config.state_dir).map_err(AgentError::State)?;
    let first_start = !state.path().join("positions.json").exists();
    let positions = state.load().map_err(AgentError::State)?;
    let metrics = Metrics::new();
    metrics.memory_budget.set(config.memory_budget as i64);
    let readiness = Readiness::new(config.loki.is_some());
    let rules = Arc::new(load_rules(config.rules_dir.as_deref())?);
    readiness.set_rules(true);
    let _listener = match config.metrics_addr {
        Some(addr) => {
            let l = metrics::serve(addr, metrics.clone(), Arc::clone(&readiness)).map_err(AgentError::Metrics)?;
            log::info("serving metrics", &[("address", &l.addr)]);
            Some(l)
        }
        None => None,
    };
    let sender = match &config.loki {
        Some(loki) => {
            let client = Client::new(loki).map_err(AgentError::Loki)?;
            log::info("pushing to Loki", &[("url", &client.push_url())]);
            Some(sender::start(client, metrics.clone(), Arc::clone(&readiness), SENDER_QUEUE))
        }
        None => None,
    };
    log::info(
        "uml agent started",
        &[
            ("roots", &format!("{:?}", config.roots)),
            ("state", &config.state_dir.display()),
            ("rules", &config.rules_dir.as_ref().map_or("embedded".to_string(), |d| d.display().to_string())),
            ("positions", &positions.streams.len()),
        ],
    );
    let mut agent = Agent {
        config,
        state,
        saved: positions,
        first_start,
        first_scan_done: false,
        metrics,
        followers: BTreeMap::new(),
        outbox: Box::new(OutboxState::new(sender.is_some())),
        sender,
        unsent: VecDeque::new(),
        at_sender: VecDeque::new(),
        rules_hash: rules_hash(config.rules_dir.as_deref()),
        last_scan: None,
        last_checkpoint: Instant::now(),
        last_saved: Instant::now(),
        last_metrics: Instant::now(),
        last_rules_check: Instant::now(),
        next_turn: 0,
        chunk: vec![0; 64 << 10],
    };
    let mut rules = rules;
    loop {
        let current = Arc::clone(&rules);
        match agent.run_generation(&current, signals) {
            Exit::Reload(new_rules) => {
                let reread: u64 = agent.followers.values_mut().map(Follower::rewind).sum();
                agent.metrics.lines_outcome("reread").inc_by(reread);
                rules = new_rules;
            }
            Exit::Stop => break,
        }
    }
    agent.shutdown(signals);
    Ok(())
}

enum Exit {
    Reload(Arc<Rules>),
    Stop,
}

fn load_rules(dir: Option<&std::path::Path>) -> Result<Rules, AgentError> {
    match dir {
        None => Ok(Rules::embedded()),
        Some(dir) => Rules::from_dir(dir).map_err(|e| AgentError::Rules(e.to_string())),
    }
}

/// A digest of the rule directory's `.uml` files: names and contents, not
/// modification times (a ConfigMap update swaps a symlink and keeps them).
fn rules_hash(dir: Option<&std::path::Path>) -> u32 {
    let Some(dir) = dir else { return 0 };
    let mut hasher = crc32fast::Hasher::new();
    let mut paths: Vec<PathBuf> = walk_uml(dir);
    paths.sort();
    for p in paths {
        hasher.update(p.to_string_lossy().as_bytes());
        if let Ok(text) = std::fs::read(&p) {
            hasher.update(&(text.len() as u64).to_le_bytes());
            hasher.update(&text);
        }
    }
    hasher.finalize()
}

/// The `.uml` files under `dir`, following symlinks (a ConfigMap volume's
/// files are links through `..data`), skipping hidden entries (`..data`
/// itself and the timestamped directories behind it).
fn walk_uml(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let name = e.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = e.path();
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => out.extend(walk_uml(&path)),
            Ok(m) if m.is_file() && path.extension().is_some_and(|x| x == "uml") => out.push(path),
            _ => {}
        }
    }
    out
}

struct Agent<'c> {
    config: &'c Config,
    state: StateDir,
    saved: Positions,
    first_start: bool,
    first_scan_done: bool,
    metrics: Metrics,
    followers: BTreeMap<String, Follower>,
    outbox: Box<OutboxState>,
    sender: Option<SenderHandle>,
    /// Sealed batches the sender has not taken yet.
    unsent: VecDeque<Outgoing>,
    /// Batches the sender has: `(seq, bytes, lines, streams touched)`.
    at_sender: VecDeque<(u64, usize, u64, Vec<String>)>,
    rules_hash: u32,
    last_scan: Option<Instant>,
    last_checkpoint: Instant,
    /// When the positions on disk last matched the agent's.
    last_saved: Instant,
    last_metrics: Instant,
    last_rules_check: Instant,
    next_turn: usize,
    chunk: Vec<u8>,
}

impl Agent<'_> {
    fn run_generation(&mut self, rules: &Arc<Rules>, signals: &Signals) -> Exit {
        let mut processor = Processor::new(rules.plan());
        self.outbox.set_labels(rules.plan().labels.iter().map(|l| l.name.clone()).collect());
        loop {
            if signals.terminate.load(Ordering::Relaxed) {
                return Exit::Stop;
            }
            let now = Instant::now();
            if signals.reload.swap(false, Ordering::Relaxed)
                && let Some(new) = self.reload("SIGHUP")
            {
                return Exit::Reload(new);
            }
            if self.config.rules_dir.is_some() && now.duration_since(self.last_rules_check) >= RULES_CHECK {
                self.last_rules_check = now;
                let hash = rules_hash(self.config.rules_dir.as_deref());
                if hash != self.rules_hash {
                    self.rules_hash = hash;
                    if let Some(new) = self.reload("the rule directory changed") {
                        return Exit::Reload(new);
                    }
                }
            }
            if self.last_scan.is_none_or(|t| now.duration_since(t) >= self.config.rescan) {
                self.scan(now);
                self.last_scan = Some(now);
            }
            self.take_settled();
            let read = self.read_round(&mut processor, now);
            self.seal_if_due(now);
            self.hand_to_sender();
            if now.duration_since(self.last_checkpoint) >= self.config.checkpoint_every {
                self.checkpoint();
            }
            if now.duration_since(self.last_metrics) >= METRICS_EVERY {
                self.update_metrics(rules);
            }
            if !read {
                self.wait(self.config.poll);
            }
        }
    }

    /// Compiles the rules again; the new ones if they compile.
    fn reload(&mut self, why: &str) -> Option<Arc<Rules>> {
        match load_rules(self.config.rules_dir.as_deref()) {
            Ok(rules) => {
                self.metrics.reload("success");
                log::info("rules reloaded", &[("why", &why)]);
                Some(Arc::new(rules))
            }
            Err(e) => {
                self.metrics.reload("failure");
                log::error("the new rules do not compile; the old ones go on", &[("why", &why), ("errors", &e)]);
                None
            }
        }
    }

    fn scan(&mut self, now: Instant) {
        let streams = discover::scan(&self.config.roots);
        let newest_restart: HashMap<String, u32> = streams.values().fold(HashMap::new(), |mut m, s| {
            let dir = s.key.rsplit_once('/').map_or("", |(d, _)| d).to_string();
            let e = m.entry(dir).or_insert(s.restart);
            *e = (*e).max(s.restart);
            m
        });
        let superseded = |s: &LogStream| {
            let dir = s.key.rsplit_once('/').map_or("", |(d, _)| d);
            newest_restart.get(dir).is_some_and(|n| *n > s.restart)
        };
        let ignore_older = match (self.first_start && !self.first_scan_done, self.config.ignore_older) {
            (true, Some(d)) => SystemTime::now().checked_sub(d),
            _ => None,
        };
        for (key, stream) in &streams {
            match self.followers.get_mut(key) {
                Some(f) => f.sync(Some(stream), superseded(stream), now),
                None => {
                    let saved = self.saved.streams.get(key);
                    let mut f = Follower::new(stream, saved, ignore_older, &self.metrics);
                    f.sync(Some(stream), superseded(stream), now);
                    self.followers.insert(key.clone(), f);
                }
            }
        }
        // Streams gone from the node: finish them; forget them once done.
        let gone: Vec<String> = self.followers.keys().filter(|k| !streams.contains_key(*k)).cloned().collect();
        for key in gone {
            let f = self.followers.get_mut(&key).expect("listed above");
            if f.is_done() {
                self.followers.remove(&key);
            } else {
                f.sync(None, false, now);
            }
        }
        if !self.first_scan_done {
            // Saved positions of streams that are gone: what they had not read is lost.
            for (key, p) in &self.saved.streams {
                if !streams.contains_key(key) && p.len > p.offset {
                    self.metrics.abandoned("missing", p.len - p.offset);
                    log::warn(
                        "a saved stream is gone from the node",
                        &[("stream", key), ("unread_bytes", &(p.len - p.offset))],
                    );
                }
            }
            self.first_scan_done = true;
        }
    }

    /// Bytes read and not yet acknowledged.
    fn in_flight_bytes(&self) -> usize {
        self.outbox.bytes()
            + self.unsent.iter().map(|o| o.batch.bytes()).sum::<usize>()
            + self.at_sender.iter().map(|b| b.1).sum::<usize>()
    }

    /// One turn for every follower that may have something; true if
    /// anything was read.
    fn read_round(&mut self, processor: &mut Processor<'_>, now: Instant) -> bool {
        let mut any = false;
        let keys: Vec<String> = self.followers.keys().cloned().collect();
        if keys.is_empty() {
            return false;
        }
        let start = self.next_turn % keys.len();
        self.next_turn = self.next_turn.wrapping_add(1);
        let mut open = 0;
        for key in keys[start..].iter().chain(&keys[..start]) {
            // Reading more than the sender can take only moves bytes from the
            // disk into memory: pause when batches queue up, or at the budget.
            let over_budget = self.unsent.len() >= MAX_UNSENT || self.in_flight_bytes() >= self.config.memory_budget;
            self.metrics.backpressure.set(i64::from(over_budget));
            let f = self.followers.get_mut(key).expect("a key of the map");
            let mut cx = ReadCx {
                processor,
                chunk: &mut self.chunk,
                outbox: &mut *self.outbox,
                metrics: &self.metrics,
                max_bytes: TURN_BYTES,
            };
            if !over_budget && f.wants_read() {
                match f.read(&mut cx) {
                    Ok(o) => any |= o.bytes > 0,
                    Err(e) => log::warn("cannot read a log file", &[("stream", key), ("error", &e)]),
                }
            }
            f.flush_idle(&mut cx, now);
            f.close_if_idle(self.config.idle_close, now);
            f.abandon_if_held_too_long(self.config.max_hold, now, &self.metrics);
            open += usize::from(f.holds_open_file());
            if f.last_batch() == Some(self.outbox.seq) {
                self.outbox.touch(key);
            }
            self.seal_if_full();
        }
        self.metrics.open_files.set(open as i64);
        any
    }

    fn seal_if_full(&mut self) {
        if self.outbox.bytes() >= self.config.batch_bytes {
            self.seal();
        }
    }

    fn seal_if_due(&mut self, now: Instant) {
        if self.outbox.started.is_some_and(|t| now.duration_since(t) >= self.config.batch_wait) {
            self.seal();
        }
    }

    /// Closes the batch being built: to the sender's queue, or to standard
    /// output (acknowledged once written).
    fn seal(&mut self) {
        let Some(sealed) = self.outbox.seal() else { return };
        match sealed {
            Sealed::Loki(outgoing, touched) => {
                self.at_sender.push_back((outgoing.seq, 0, outgoing.lines, touched));
                self.unsent.push_back(outgoing);
            }
            Sealed::Ndjson { seq, bytes, records, lines, touched } => {
                let mut out = std::io::stdout().lock();
                if let Err(e) = out.write_all(&bytes).and_then(|()| out.flush()) {
                    log::error("cannot write records to standard output", &[("error", &e)]);
                    // Not acknowledged: read again after a restart.
                    return;
                }
                self.settle(Settled { seq, acknowledged: (records, lines), rejected: (0, 0), bytes: 0 }, &touched);
            }
        }
    }

    fn hand_to_sender(&mut self) {
        let Some(sender) = &self.sender else { return };
        while let Some(outgoing) = self.unsent.pop_front() {
            let (seq, bytes) = (outgoing.seq, outgoing.batch.bytes());
            match sender.to_sender.try_send(outgoing) {
                Ok(()) => {
                    if let Some(b) = self.at_sender.iter_mut().find(|b| b.0 == seq) {
                        b.1 = bytes;
                    }
                }
                Err(std::sync::mpsc::TrySendError::Full(o)) | Err(std::sync::mpsc::TrySendError::Disconnected(o)) => {
                    self.unsent.push_front(o);
                    break;
                }
            }
        }
    }

    fn take_settled(&mut self) {
        let Some(sender) = &self.sender else { return };
        for spare in sender.spares.try_iter() {
            if self.outbox.spares.len() < SPARE_BATCHES {
                self.outbox.spares.push(spare);
            }
        }
        let settled: Vec<Settled> = sender.settled.try_iter().collect();
        for s in settled {
            let touched = match self.at_sender.iter().position(|b| b.0 == s.seq) {
                Some(i) => self.at_sender.remove(i).map(|b| b.3).unwrap_or_default(),
                None => Vec::new(),
            };
            self.settle(s, &touched);
        }
    }

    fn settle(&mut self, s: Settled, touched: &[String]) {
        self.metrics.lines_outcome("acknowledged").inc_by(s.acknowledged.1);
        self.metrics.dropped("rejected by Loki (400)", s.rejected.1);
        for key in touched {
            if let Some(f) = self.followers.get_mut(key) {
                f.acknowledged(s.seq);
            }
        }
    }

    /// Waits for an acknowledgement or `timeout`.
    fn wait(&mut self, timeout: Duration) {
        match &self.sender {
            Some(sender) => {
                if let Ok(s) = sender.settled.recv_timeout(timeout) {
                    let touched = match self.at_sender.iter().position(|b| b.0 == s.seq) {
                        Some(i) => self.at_sender.remove(i).map(|b| b.3).unwrap_or_default(),
                        None => Vec::new(),
                    };
                    self.settle(s, &touched);
                }
            }
            None => std::thread::sleep(timeout),
        }
    }

    /// Saves every stream's position.
    fn checkpoint(&mut self) {
        self.last_checkpoint = Instant::now();
        let mut positions = Positions { version: VERSION, streams: BTreeMap::new() };
        for (key, f) in &mut self.followers {
            if let Some(p) = f.checkpoint() {
                positions.streams.insert(key.clone(), p);
            }
        }
        if positions == self.saved {
            self.last_saved = Instant::now();
            self.metrics.checkpoint_age.set(0.0);
            return;
        }
        match self.state.save(&positions) {
            Ok(()) => {
                self.saved = positions;
                self.last_saved = Instant::now();
                self.metrics.checkpoint_age.set(0.0);
            }
            Err(e) => {
                self.metrics.checkpoint_failures.inc();
                log::error("cannot save positions", &[("error", &e)]);
            }
        }
    }

    fn update_metrics(&mut self, rules: &Arc<Rules>) {
        self.last_metrics = Instant::now();
        let plan = rules.plan();
        let mut pending = 0;
        let mut behind: BTreeMap<String, u64> = BTreeMap::new();
        for f in self.followers.values_mut() {
            pending += f.pending_lines();
            *behind.entry(f.container().to_string()).or_default() += f.bytes_behind();
            if let Some(d) = f.take_stats() {
                self.metrics.lines_outcome("joined").inc_by(d.joined_pieces);
                for (kind, n) in &d.drops {
                    self.metrics.dropped(&kind.describe(plan), *n);
                }
                self.metrics.lines_truncated.inc_by(d.truncated_lines);
                self.metrics.records_truncated.inc_by(d.truncated_records);
            }
        }
        let in_flight = self.outbox.lines
            + self.unsent.iter().map(|o| o.lines).sum::<u64>()
            + self.at_sender.iter().filter(|b| b.1 > 0).map(|b| b.2).sum::<u64>();
        self.metrics.pending("pipeline", pending);
        self.metrics.pending("in_flight", in_flight);
        self.metrics.set_bytes_behind(&behind);
        self.metrics.streams.set(self.followers.len() as i64);
        self.metrics.memory_in_flight.set(self.in_flight_bytes() as i64);
        // Since the positions on disk were last known right: a save that
        // keeps failing makes this grow.
        let age = self.last_saved.elapsed().as_secs_f64();
        self.metrics.checkpoint_age.set(age);
    }

    /// Stop reading; deliver what is sealed within the grace period; save.
    fn shutdown(mut self, _signals: &Signals) {
        log::info("shutting down: sending what was read", &[("grace_s", &self.config.grace.as_secs_f64())]);
        self.seal();
        let deadline = Instant::now() + self.config.grace;
        while self.sender.is_some() && (!self.unsent.is_empty() || !self.at_sender.is_empty()) {
            if Instant::now() >= deadline {
                log::warn(
                    "the grace period is over; what was not acknowledged is read again after a restart",
                    &[("batches", &(self.unsent.len() + self.at_sender.len()))],
                );
                break;
            }
            self.hand_to_sender();
            self.wait(Duration::from_millis(50));
        }
        self.checkpoint();
        if let Some(sender) = self.sender.take() {
            sender.stop();
        }
        log::info("uml agent stopped", &[]);
    }
}

/// The batch being built.
struct OutboxState {
    seq: u64,
    loki: bool,
    batch: Batch,
    ndjson: Encoder,
    ndjson_bytes: Vec<u8>,
    records: u64,
    lines: u64,
    started: Option<Instant>,
    touched: Vec<String>,
    label_names: Vec<String>,
    labels: HashMap<Vec<u8>, String>,
    /// The last record's labels (JSON) and their PromQL string: most
    /// records have the labels of the one before.
    last_labels: (Vec<u8>, String),
    scratch: String,
    /// Emptied batches back from the sender, their buffers grown: the next batches are filled into them.
    spares: Vec<Batch>,
}

/// The most emptied batches kept for reuse.
const SPARE_BATCHES: usize = 2;

enum Sealed {
    Loki(Outgoing, Vec<String>),
    Ndjson { seq: u64, bytes: Vec<u8>, records: u64, lines: u64, touched: Vec<String> },
}

impl OutboxState {
    fn new(loki: bool) -> OutboxState {
        OutboxState {
            seq: 1,
            loki,
            batch: Batch::new(),
            ndjson: Encoder::new(Wire::Ndjson),
            ndjson_bytes: Vec::new(),
            records: 0,
            lines: 0,
            started: None,
            touched: Vec::new(),
            label_names: Vec::new(),
            labels: HashMap::new(),
            last_labels: (Vec::new(), String::new()),
            scratch: String::new(),
            spares: Vec::new(),
        }
    }

    fn set_labels(&mut self, names: Vec<String>) {
        self.label_names = names;
        self.labels.clear();
        self.last_labels.0.clear();
    }

    fn bytes(&self) -> usize {
        if self.loki { self.batch.bytes() } else { self.ndjson.len() }
    }

    fn touch(&mut self, key: &str) {
        if self.touched.last().is_none_or(|k| k != key) && !self.touched.iter().any(|k| k == key) {
            self.touched.push(key.to_string());
        }
    }

    fn seal(&mut self) -> Option<Sealed> {
        if self.records == 0 {
            return None;
        }
        let seq = self.seq;
        self.seq += 1;
        let touched = std::mem::take(&mut self.touched);
        let (records, lines) = (self.records, self.lines);
        self.records = 0;
        self.lines = 0;
        self.started = None;
        Some(if self.loki {
            let next = self.spares.pop().unwrap_or_default();
            let batch = std::mem::replace(&mut self.batch, next);
            Sealed::Loki(Outgoing { seq, batch, lines }, touched)
        } else {
            self.ndjson_bytes.clear();
            self.ndjson.drain_into(&mut self.ndjson_bytes);
            Sealed::Ndjson { seq, bytes: std::mem::take(&mut self.ndjson_bytes), records, lines, touched }
        })
    }
}

impl Outbox for OutboxState {
    fn add(&mut self, record: &Record, provenance: Provenance) -> u64 {
        self.records += 1;
        self.lines += u64::from(provenance.lines);
        self.started.get_or_insert_with(Instant::now);
        if self.loki {
            let json = record.labels_json();
            if self.last_labels.0 != json {
                if !self.labels.contains_key(json) {
                    if self.labels.len() > 10_000 {
                        self.labels.clear();
                    }
                    let pairs: Vec<(&str, &str)> =
                        self.label_names.iter().enumerate().map(|(i, n)| (n.as_str(), record.label(i))).collect();
                    promql_labels(&pairs, &mut self.scratch);
                    self.labels.insert(json.to_vec(), self.scratch.clone());
                }
                self.last_labels.0.clear();
                self.last_labels.0.extend_from_slice(json);
                self.last_labels.1.clone_from(&self.labels[json]);
            }
            self.batch.push(&self.last_labels.1, record.timestamp, record.payload());
        } else {
            self.ndjson.record(record);
        }
        self.seq
    }
}
