//! What the agent tells Prometheus, and the listener that serves it.
//!
//! `/metrics` is Prometheus' text format (prometheus-client encodes it),
//! `/healthz` answers while the process runs, and `/ready` answers 200 only
//! while the rules are compiled and Loki answered recently (503 otherwise,
//! with the reason). Label values come from closed sets (drop reasons of
//! the rule set, HTTP statuses, container names up to a cap), so the
//! number of series stays bounded however many pods come and go.
//!
//! **The accounting law, visible.** Every raw line read is, in the end,
//! in a record Loki acknowledged, joined into another line as a piece, or
//! dropped with a reason; until then it is pending in the agent:
//!
//! ```text
//! uml_agent_lines_read_total == sum(uml_agent_lines_total{outcome})
//!                               + sum(uml_agent_lines_pending{stage})
//! ```
//!
//! (`outcome` is `acknowledged`, `joined`, `dropped` or `reread`: lines
//! held when the rules were reloaded, read again with the new ones.)

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

type Labels = Vec<(&'static str, String)>;

/// The most distinct container names `uml_agent_bytes_behind` reports;
/// the rest are summed under `container="other"`.
pub const MAX_CONTAINER_SERIES: usize = 64;

/// Every metric the agent keeps. Cheap to clone handles; shared by threads.
#[derive(Clone, Default)]
pub struct Metrics {
    pub lines_read: Counter,
    pub bytes_read: Counter,
    /// Lines by outcome: `acknowledged`, `joined`, `dropped`, `reread`.
    pub lines: Family<Labels, Counter>,
    /// Lines dropped, by reason.
    pub lines_dropped: Family<Labels, Counter>,
    /// Lines read whose outcome is not known yet, by stage: `pipeline`
    /// (joining, ordering, grouping) or `in_flight` (in records not yet
    /// acknowledged).
    pub lines_pending: Family<Labels, Gauge>,
    pub records_sent: Counter,
    pub records_acknowledged: Counter,
    /// Records Loki refused with a 400 (counted as dropped lines too).
    pub records_rejected: Counter,
    pub push_requests: Family<Labels, Counter>,
    pub push_retries: Family<Labels, Counter>,
    pub push_duration: PushDuration,
    pub push_bytes: Counter,
    pub batch_splits: Counter,
    pub open_files: Gauge,
    pub streams: Gauge,
    pub bytes_behind: Family<Labels, Gauge>,
    pub checkpoint_age: Gauge<f64, AtomicU64>,
    pub checkpoint_failures: Counter,
    pub memory_in_flight: Gauge,
    pub memory_budget: Gauge,
    pub backpressure: Gauge,
    pub truncated_files: Counter,
    /// Bytes never read, by reason: `deleted` (held past the limit),
    /// `missing` (a file gone before it was read).
    pub bytes_abandoned: Family<Labels, Counter>,
    pub reloads: Family<Labels, Counter>,
    pub records_truncated: Counter,
    pub lines_truncated: Counter,
    pub ready: Gauge,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    fn registry(&self) -> Registry {
        let mut r = Registry::with_prefix("uml_agent");
        r.register("lines_read", "Raw lines read from container log files", self.lines_read.clone());
        r.register("bytes_read", "Bytes read from container log files", self.bytes_read.clone());
        r.register(
            "lines",
            "Raw lines by outcome: acknowledged (in a record Loki stored), joined (a piece of a longer line), \
             dropped (with a reason), reread (held at a rules reload, read again)",
            self.lines.clone(),
        );
        r.register("lines_dropped", "Raw lines dropped, by reason", self.lines_dropped.clone());
        r.register(
            "lines_pending",
            "Raw lines read whose outcome is not known yet, by stage",
            self.lines_pending.clone(),
        );
        r.register("records_sent", "Records sent to Loki (retries not counted)", self.records_sent.clone());
        r.register("records_acknowledged", "Records Loki acknowledged", self.records_acknowledged.clone());
        r.register("records_rejected", "Records in requests Loki refused with 400", self.records_rejected.clone());
        r.register("push_requests", "Push requests by answer (status code or error)", self.push_requests.clone());
        r.register("push_retries", "Push requests retried, by the answer that caused it", self.push_retries.clone());
        r.register("push_duration_seconds", "Time of one push request", self.push_duration.0.clone());
        r.register("push_bytes", "Compressed bytes of the push requests sent", self.push_bytes.clone());
        r.register("batch_splits", "Batches split in two after a 413", self.batch_splits.clone());
        r.register("open_files", "Log files held open", self.open_files.clone());
        r.register("streams", "Container logs followed", self.streams.clone());
        r.register(
            "bytes_behind",
            "Bytes written to container logs and not yet read, by container name",
            self.bytes_behind.clone(),
        );
        r.register(
            "checkpoint_age_seconds",
            "Seconds since the positions were last saved",
            self.checkpoint_age.clone(),
        );
        r.register("checkpoint_failures", "Failed saves of the positions file", self.checkpoint_failures.clone());
        r.register(
            "memory_in_flight_bytes",
            "Bytes read and not yet acknowledged (batches, pending lines)",
            self.memory_in_flight.clone(),
        );
        r.register("memory_budget_bytes", "The budget of memory_in_flight_bytes", self.memory_budget.clone());
        r.register(
            "backpressure",
            "1 while reading is paused because the memory budget is full",
            self.backpressure.clone(),
        );
        r.register(
            "truncated_files",
            "Files found truncated and read again from their start",
            self.truncated_files.clone(),
        );
        r.register("bytes_abandoned", "Bytes never read, by reason", self.bytes_abandoned.clone());
        r.register("rules_reloads", "Rule reloads by result", self.reloads.clone());
        r.register(
            "records_truncated",
            "Records whose message or exc_info was cut to the size limit",
            self.records_truncated.clone(),
        );
        r.register("lines_truncated", "Lines longer than the framing maximum, cut", self.lines_truncated.clone());
        r.register("ready", "1 when the rules are compiled and Loki answered recently", self.ready.clone());
        r
    }

    /// The metrics in Prometheus' text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry());
        out
    }

    pub fn lines_outcome(&self, outcome: &'static str) -> Counter {
        self.lines.get_or_create(&vec![("outcome", outcome.to_string())]).clone()
    }

    pub fn dropped(&self, reason: &str, lines: u64) {
        if lines == 0 {
            return;
        }
        self.lines_dropped.get_or_create(&vec![("reason", reason.to_string())]).inc_by(lines);
        self.lines_outcome("dropped").inc_by(lines);
    }

    pub fn abandoned(&self, reason: &'static str, bytes: u64) {
        self.bytes_abandoned.get_or_create(&vec![("reason", reason.to_string())]).inc_by(bytes);
    }

    pub fn push_answer(&self, status: &str) {
        self.push_requests.get_or_create(&vec![("status", status.to_string())]).inc();
    }

    pub fn retry(&self, status: &str) {
        self.push_retries.get_or_create(&vec![("status", status.to_string())]).inc();
    }

    pub fn reload(&self, result: &'static str) {
        self.reloads.get_or_create(&vec![("result", result.to_string())]).inc();
    }

    pub fn pending(&self, stage: &'static str, lines: u64) {
        self.lines_pending.get_or_create(&vec![("stage", stage.to_string())]).set(lines as i64);
    }

    /// Sets the bytes behind per container name, at most
    /// [`MAX_CONTAINER_SERIES`] names (the rest under `other`).
    pub fn set_bytes_behind(&self, by_container: &std::collections::BTreeMap<String, u64>) {
        self.bytes_behind.clear();
        let mut other = 0;
        for (i, (name, bytes)) in by_container.iter().enumerate() {
            if i < MAX_CONTAINER_SERIES {
                self.bytes_behind.get_or_create(&vec![("container", name.clone())]).set(*bytes as i64);
            } else {
                other += bytes;
            }
        }
        if other > 0 {
            self.bytes_behind.get_or_create(&vec![("container", "other".to_string())]).set(other as i64);
        }
    }
}

/// The time of push requests: 1 ms to about 33 s, doubling.
#[derive(Clone, Debug)]
pub struct PushDuration(pub Histogram);

impl Default for PushDuration {
    fn default() -> PushDuration {
        PushDuration(Histogram::new(exponential_buckets(0.001, 2.0, 16)))
    }
}

/// What `/ready` looks at: the agent sets it, the listener reads it.
#[derive(Debug, Default)]
pub struct Readiness {
    rules: AtomicBool,
    /// Seconds since the epoch of Loki's last answer that was not an error
    /// of ours (any 2xx, 400, 413, 429); 0 before the first.
    loki_answered: AtomicU64,
    /// Loki refused our credentials last time.
    unauthorized: AtomicBool,
    /// Pushes are needed: Loki is in use.
    uses_loki: AtomicBool,
    /// The agent has sent nothing yet and Loki has not failed yet.
    nothing_sent: AtomicBool,
    reason: Mutex<String>,
}

/// How long after Loki's last answer the agent stays ready.
pub const READY_WINDOW: Duration = Duration::from_secs(60);

impl Readiness {
    pub fn new(uses_loki: bool) -> Arc<Readiness> {
        let r = Readiness::default();
        r.uses_loki.store(uses_loki, Ordering::Relaxed);
        r.nothing_sent.store(true, Ordering::Relaxed);
        Arc::new(r)
    }

    pub fn set_rules(&self, ok: bool) {
        self.rules.store(ok, Ordering::Relaxed);
    }

    /// Loki answered; `authorized` is false for 401 and 403.
    pub fn loki_answered(&self, authorized: bool) {
        self.loki_answered.store(now_secs(), Ordering::Relaxed);
        self.unauthorized.store(!authorized, Ordering::Relaxed);
        self.nothing_sent.store(false, Ordering::Relaxed);
    }

    /// Loki could not be reached.
    pub fn loki_failed(&self, reason: &str) {
        self.nothing_sent.store(false, Ordering::Relaxed);
        if let Ok(mut r) = self.reason.lock() {
            reason.clone_into(&mut r);
        }
    }

    /// `Ok` when ready, else why not.
    pub fn check(&self) -> Result<(), String> {
        if !self.rules.load(Ordering::Relaxed) {
            return Err("the rules are not compiled yet".into());
        }
        if !self.uses_loki.load(Ordering::Relaxed) || self.nothing_sent.load(Ordering::Relaxed) {
            return Ok(());
        }
        if self.unauthorized.load(Ordering::Relaxed) {
            return Err("Loki refuses the agent's credentials (401/403)".into());
        }
        let last = self.loki_answered.load(Ordering::Relaxed);
        if last == 0 || now_secs().saturating_sub(last) > READY_WINDOW.as_secs() {
            let reason = self.reason.lock().map(|r| r.clone()).unwrap_or_default();
            return Err(format!("Loki has not answered for {} s: {reason}", READY_WINDOW.as_secs()));
        }
        Ok(())
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The running listener; dropping it stops the thread.
pub struct Listener {
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
    pub addr: SocketAddr,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves `/metrics`, `/healthz` and `/ready` on `addr` from a thread of
/// its own.
pub fn serve(addr: SocketAddr, metrics: Metrics, readiness: Arc<Readiness>) -> Result<Listener, String> {
    let server = tiny_http::Server::http(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bound = server.server_addr().to_ip().unwrap_or(addr);
    let server = Arc::new(server);
    let serving = Arc::clone(&server);
    let thread = std::thread::Builder::new()
        .name("uml-metrics".into())
        .spawn(move || {
            for request in serving.incoming_requests() {
                let (status, body, content_type) = match request.url().split('?').next().unwrap_or("") {
                    "/metrics" => (200, metrics.encode(), "text/plain; version=0.0.4; charset=utf-8"),
                    "/healthz" => (200, "ok\n".to_string(), "text/plain; charset=utf-8"),
                    "/ready" => match readiness.check() {
                        Ok(()) => (200, "ready\n".to_string(), "text/plain; charset=utf-8"),
                        Err(why) => (503, format!("not ready: {why}\n"), "text/plain; charset=utf-8"),
                    },
                    _ => (404, "not found: try /metrics, /healthz or /ready\n".to_string(), "text/plain"),
                };
                let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], content_type.as_bytes())
                    .expect("a valid header");
                let _ = request
                    .respond(tiny_http::Response::from_string(body).with_status_code(status).with_header(header));
            }
        })
        .map_err(|e| format!("cannot start the metrics thread: {e}"))?;
    Ok(Listener { server, thread: Some(thread), addr: bound })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_prometheus_text_with_bounded_labels() {
        let m = Metrics::new();
        m.lines_read.inc_by(3);
        m.dropped("unrouted", 2);
        let mut behind = std::collections::BTreeMap::new();
        for i in 0..(MAX_CONTAINER_SERIES + 5) {
            behind.insert(format!("c{i:03}"), 1);
        }
        m.set_bytes_behind(&behind);
        let text = m.encode();
        assert!(text.contains("uml_agent_lines_read_total 3"), "{text}");
        assert!(text.contains(r#"uml_agent_lines_dropped_total{reason="unrouted"} 2"#), "{text}");
        assert!(text.contains(r#"uml_agent_bytes_behind{container="other"} 5"#), "{text}");
        assert_eq!(text.matches("uml_agent_bytes_behind{").count(), MAX_CONTAINER_SERIES + 1);
    }

    #[test]
    fn ready_needs_rules_and_a_recent_answer_from_loki() {
        let r = Readiness::new(true);
        assert!(r.check().is_err());
        r.set_rules(true);
        assert_eq!(r.check(), Ok(()), "nothing to send yet");
        r.loki_failed("connection refused");
        assert!(r.check().unwrap_err().contains("connection refused"));
        r.loki_answered(true);
        assert_eq!(r.check(), Ok(()));
        r.loki_answered(false);
        assert!(r.check().unwrap_err().contains("401/403"));
    }
}
