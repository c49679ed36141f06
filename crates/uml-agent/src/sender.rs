//! The sender: one thread that pushes batches to Loki, one at a time, in
//! order, until each is acknowledged or refused for good.
//!
//! Batches go out in the order they were made, and the next starts only
//! when the one before is settled, so acknowledgements come back in order
//! and a file's position can advance over a prefix of its records. One
//! request at a time keeps Loki's per-stream order too. Only two answers
//! settle a batch: 2xx (stored) and 400 (Loki stored the request's valid
//! streams and refused the rest: sending it again would duplicate the
//! stored ones, so its records are counted as dropped with Loki's reason).
//! Everything else is retried, with no limit: 429 and 5xx and connection
//! errors after a jittered exponential backoff that honours `Retry-After`,
//! 401 and 403 slowly (and `/ready` says so), 413 by splitting the batch in
//! halves. The agent stops reading when its memory budget is full, so the
//! files on disk are the buffer however long Loki is away.

use crate::log;
use crate::loki::{Answer, Backoff, CONTENT_TYPE_PROTOBUF, Client, unauthorized_delay};
use crate::metrics::{Metrics, Readiness};
use crate::push::Batch;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender};
use std::time::{Duration, Instant};

/// A batch handed to the sender.
pub struct Outgoing {
    pub seq: u64,
    pub batch: Batch,
    pub lines: u64,
}

/// What became of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settled {
    pub seq: u64,
    /// Records (and their lines) Loki acknowledged.
    pub acknowledged: (u64, u64),
    /// Records (and their lines) in requests Loki refused with a 400.
    pub rejected: (u64, u64),
    /// Bytes of the batch, now free.
    pub bytes: usize,
}

/// The handle the agent keeps.
pub struct SenderHandle {
    pub to_sender: SyncSender<Outgoing>,
    pub settled: Receiver<Settled>,
    /// Delivered batches, emptied with their buffers kept, for the agent to fill again instead of growing new ones.
    pub spares: Receiver<Batch>,
    /// Set to make the sender give up its current batch (the grace period
    /// at shutdown is over): the batch is left unacknowledged, so its lines
    /// are read again after a restart.
    pub give_up: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SenderHandle {
    /// Stops the thread: it gives up the batch it sends, if any (left
    /// unacknowledged), and ends.
    pub fn stop(self) {
        self.give_up.store(true, Ordering::Relaxed);
        let SenderHandle { to_sender, thread, .. } = self;
        drop(to_sender);
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

/// Starts the sender thread. It takes at most `queue` batches ahead of the
/// one it sends.
pub fn start(client: Client, metrics: Metrics, readiness: Arc<Readiness>, queue: usize) -> SenderHandle {
    let (to_sender, from_agent) = std::sync::mpsc::sync_channel::<Outgoing>(queue);
    let (to_agent, settled) = std::sync::mpsc::channel();
    let (spare_to_agent, spares) = std::sync::mpsc::channel();
    let give_up = Arc::new(AtomicBool::new(false));
    let stop = Arc::clone(&give_up);
    let thread = std::thread::Builder::new()
        .name("uml-sender".into())
        .spawn(move || {
            let mut sender = Pusher {
                client,
                metrics,
                readiness,
                give_up: stop,
                body: Vec::new(),
                scratch: Vec::new(),
                spares: spare_to_agent,
            };
            for outgoing in from_agent {
                let settled = sender.deliver(outgoing);
                let Some(settled) = settled else { break };
                if to_agent.send(settled).is_err() {
                    break;
                }
            }
        })
        .expect("the sender thread starts");
    SenderHandle { to_sender, settled, spares, give_up, thread: Some(thread) }
}

struct Pusher {
    client: Client,
    metrics: Metrics,
    readiness: Arc<Readiness>,
    give_up: Arc<AtomicBool>,
    body: Vec<u8>,
    scratch: Vec<u8>,
    spares: Sender<Batch>,
}

impl Pusher {
    /// Sends a batch until it is settled; `None` if told to give up.
    fn deliver(&mut self, outgoing: Outgoing) -> Option<Settled> {
        let Outgoing { seq, batch, lines } = outgoing;
        let (records, bytes) = (batch.entries() as u64, batch.bytes());
        self.metrics.records_sent.inc_by(records);
        let mut parts = vec![batch];
        let mut settled = Settled { seq, acknowledged: (0, 0), rejected: (0, 0), bytes };
        let mut rejected_records = 0;
        let mut spare = None;
        while let Some(part) = parts.pop() {
            match self.send(&part)? {
                Outcome::Stored => spare = Some(part),
                Outcome::Rejected => {
                    rejected_records += part.entries() as u64;
                    spare = Some(part);
                }
                Outcome::Split => {
                    self.metrics.batch_splits.inc();
                    let (first, second) = part.split();
                    if first.is_empty() {
                        // One entry Loki finds too large: it can never be stored.
                        log::error(
                            "Loki refuses a single entry as too large (413); it is dropped",
                            &[("labels", &part.streams().next().map(|(l, _)| l.to_string()).unwrap_or_default())],
                        );
                        rejected_records += part.entries() as u64;
                        continue;
                    }
                    // The first half goes first: it holds each stream's older entries.
                    parts.push(second);
                    parts.push(first);
                }
            }
        }
        // Lines are per batch; a refused part takes its share of them.
        let rejected_lines = (lines * rejected_records).checked_div(records).unwrap_or(0);
        settled.rejected = (rejected_records, rejected_lines);
        settled.acknowledged = (records - rejected_records, lines - rejected_lines);
        self.metrics.records_acknowledged.inc_by(records - rejected_records);
        self.metrics.records_rejected.inc_by(rejected_records);
        if let Some(mut batch) = spare {
            batch.clear();
            // The agent may have stopped listening; the batch is then only memory to free.
            let _ = self.spares.send(batch);
        }
        Some(settled)
    }

    /// Sends one body until Loki settles it; `None` if told to give up.
    fn send(&mut self, batch: &Batch) -> Option<Outcome> {
        batch.encode(&mut self.body, &mut self.scratch);
        let mut backoff = Backoff::default();
        loop {
            if self.give_up.load(Ordering::Relaxed) {
                return None;
            }
            let started = Instant::now();
            let answer = self.client.push(&self.body, CONTENT_TYPE_PROTOBUF);
            self.metrics.push_duration.0.observe(started.elapsed().as_secs_f64());
            self.metrics.push_bytes.inc_by(self.body.len() as u64);
            let (status, wait) = match &answer {
                Answer::Accepted { status } => {
                    self.metrics.push_answer(&status.to_string());
                    self.readiness.loki_answered(true);
                    return Some(Outcome::Stored);
                }
                Answer::Rejected { reason } => {
                    self.metrics.push_answer("400");
                    self.readiness.loki_answered(true);
                    log::error(
                        "Loki refused entries of a push request (400); they are dropped, not sent again",
                        &[("reason", reason), ("entries", &batch.entries())],
                    );
                    return Some(Outcome::Rejected);
                }
                Answer::TooLarge => {
                    self.metrics.push_answer("413");
                    self.readiness.loki_answered(true);
                    return Some(Outcome::Split);
                }
                Answer::Unauthorized { status, reason } => {
                    self.readiness.loki_answered(false);
                    log::error(
                        "Loki refuses the agent's credentials; retrying slowly",
                        &[("status", status), ("reason", reason)],
                    );
                    (status.to_string(), unauthorized_delay())
                }
                Answer::Retry { status, retry_after, reason } => {
                    match status {
                        Some(_) => self.readiness.loki_answered(true),
                        None => self.readiness.loki_failed(reason),
                    }
                    let status = status.map_or_else(|| "error".to_string(), |s| s.to_string());
                    let wait = backoff.next_delay(*retry_after);
                    log::warn(
                        "push failed; retrying",
                        &[
                            ("status", &status),
                            ("reason", reason),
                            ("retry_in_ms", &wait.as_millis()),
                            ("attempt", &backoff.attempt()),
                        ],
                    );
                    (status, wait)
                }
            };
            self.metrics.push_answer(&status);
            self.metrics.retry(&status);
            if !self.sleep(wait) {
                return None;
            }
        }
    }

    /// Sleeps `wait`, waking early to give up; false if told to.
    fn sleep(&self, wait: Duration) -> bool {
        let until = Instant::now() + wait;
        loop {
            if self.give_up.load(Ordering::Relaxed) {
                return false;
            }
            let now = Instant::now();
            if now >= until {
                return true;
            }
            std::thread::sleep((until - now).min(Duration::from_millis(50)));
        }
    }
}

enum Outcome {
    Stored,
    Rejected,
    Split,
}
