//! `uml agent`: the node agent. It follows the container logs of a
//! Kubernetes node through kubelet's rotations, turns them into unified
//! records with a `uml` rule set, and delivers them to Loki, losing
//! nothing: a file's saved position advances only over lines whose records
//! Loki acknowledged, or that were dropped with a counted reason.
//!
//! ```text
//!  ROOT (pods tree or /var/log/containers)
//!    │ discover (a scan a second)
//!    ▼
//!  Follower per container log ──push_at──▶ uml stream layer ──records──▶ Outbox (batches ≤ 1 MiB / 1 s)
//!    ▲  (segments, offsets)                 (framing, grouping, rules)        │
//!    │                                                                        ▼
//!  positions.json ◀── checkpoint = min(settled, unacknowledged) ◀── acks ── Sender (Loki, retries)
//! ```
//!
//! The agent is built on the `uml` crate's public API only: what it needs
//! from the stream layer (positions of the raw lines behind each record,
//! the settled position, idle flushing) is that crate's documented API.
//!
//! | module | what |
//! | --- | --- |
//! | [`discover`] | the kubelet layout: streams (one per container restart) and their files |
//! | [`follow`] | reading one stream's files in order, positions, rotation, truncation |
//! | [`state`] | the positions file (atomic, versioned) and the state directory's lock |
//! | [`push`] | Loki's push body: protobuf, snappy, PromQL label strings |
//! | [`loki`] | the HTTP client and what each answer means |
//! | [`sender`] | the thread that pushes batches until they are settled |
//! | [`metrics`] | Prometheus metrics, `/healthz`, `/ready` |
//! | [`agent`] | the main loop: scan, read, batch, acknowledge, checkpoint, reload, shut down |
//!
//! # Invariants
//!
//! - **A position never passes an unacknowledged line.** A stream's saved
//!   position is `min(settled position, resume of every record not yet
//!   acknowledged)` (`uml::runtime::pipeline`), so `kill -9` at any moment
//!   loses nothing; duplicates come only from the unacknowledged window.
//! - **Memory is bounded**: one budget for everything read and not yet
//!   acknowledged; when it is full, reading stops and the files on disk are
//!   the buffer.
//! - **Nothing is lost silently**: every raw line read ends in an
//!   acknowledged record, joined into another line, or dropped with a
//!   reason, and the metrics show the law; bytes never read (a file deleted
//!   before it was read) are counted.
#![forbid(unsafe_code)]

pub mod agent;
pub mod discover;
pub mod follow;
pub mod log;
pub mod loki;
pub mod metrics;
pub mod push;
pub mod sender;
pub mod state;

pub use agent::{Config, Signals, run};
