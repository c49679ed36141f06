//! A fake Loki: a real HTTP/1.1 server on a loopback port that speaks Loki's push protocol, misbehaves on cue and
//! checks every record it receives against the output contract.
//!
//! The agent's delivery guarantees are only as good as its handling of a Loki that fails, so this server exists to
//! fail: tests queue [`Step`]s (a status code, a 429 with `Retry-After`, a hang, a reset connection, Loki's partial
//! 400 that rejects some streams and keeps the others, a 413 for large bodies) and then look at what was stored.
//! It is written on `std::net` rather than on an HTTP framework so that it can do what a well-behaved server never
//! does: read a request and then never answer it, or close the socket in the middle of an exchange.
//!
//! Requests are decoded as the real Loki does (snappy block compressed protobuf `logproto.PushRequest`, or JSON),
//! and every request, whatever the step answers, is checked against the contract of `rules/schema.uml`: the four
//! labels and the typed JSON payload. Violations are collected in [`FakeLoki::errors`] rather than panicking in
//! a server thread, so a test ends with `assert_eq!(loki.errors(), Vec::<String>::new())` and sees them all.
//!
//! One thread accepts connections and one thread serves each connection. Connection threads poll with short read
//! timeouts so that they notice when the server is taken [`down`](FakeLoki::down) or dropped; a test that ends
//! while a request hangs therefore leaves nothing behind that could keep the test process alive.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The only path the agent may call.
pub const PUSH_PATH: &str = "/loki/api/v1/push";

/// The longest line the contract allows: Loki's default `max_line_size` is 256 KiB.
pub const MAX_LINE_BYTES: usize = 256 * 1024;

/// How long a connection thread blocks in a read before it looks whether the server is going down.
const READ_POLL: Duration = Duration::from_millis(50);

/// A bound on request bodies, so that a broken client cannot make a test allocate without limit.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// A bound on the violations kept: a systematically wrong client would otherwise produce one per line.
const MAX_ERRORS: usize = 1000;

/// The labels every stream must carry, no more and no fewer.
const CONTRACT_LABELS: [&str; 4] = ["job", "model_version_id", "namespace", "unified_model_logs"];
const LEVELNAMES: [&str; 4] = ["DEBUG", "INFO", "WARNING", "ERROR"];
const SOURCES: [&str; 5] = ["build", "deploy", "model_container", "kube-pod-lifecycle-watcher", "gpu_build"];

/// Loki's push messages (`pkg/push/push.proto`), derived by hand (no
/// `protoc`) in the agent's crate, whose own encoder is written byte by byte
/// and tested against them: the fake decodes with the definitions, not with
/// the encoder.
pub use uml_agent::push::proto;

/// What the server does with one push request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Stores every entry and answers 204.
    Accept,
    /// Answers this status with this body and stores nothing (500, 401, 403, 413 and the like).
    Status(u16, String),
    /// Answers 429 with `Retry-After: N` and stores nothing.
    TooManyRequests { retry_after_secs: u64 },
    /// Reads the request and never answers: the connection stays open until [`FakeLoki::release_hung`], until
    /// the server goes down, or until the client gives up. A released request is closed without an answer and
    /// nothing of it is stored.
    Hang,
    /// Reads the request, then closes the connection without answering and stores nothing.
    Reset,
    /// Loki's partial rejection: stores every stream whose label `label` is not `value`, rejects the others and,
    /// if it rejected any, answers 400 with `reason` as the body (as Loki does when some streams fail
    /// validation). If no stream matched, this is a plain 204.
    RejectStreams { label: String, value: String, reason: String },
    /// Answers 413 if the body as sent (compressed) is longer than this many bytes; otherwise [`Step::Accept`].
    TooLargeOver(usize),
    /// Stores every entry, then closes the connection without answering: the acknowledgement is lost, so a
    /// correct client sends the entries again and Loki ends up with duplicates.
    AcceptThenReset,
    /// Waits this long, then behaves as [`Step::Accept`]: a slow Loki, for the client's timeouts.
    Slow(Duration),
}

/// One entry as stored, in arrival order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The stream's labels, parsed.
    pub labels: BTreeMap<String, String>,
    /// The stream's labels as the client sent them (for JSON requests, rendered from the map).
    pub labels_raw: String,
    /// Nanoseconds since the Unix epoch.
    pub timestamp_ns: i64,
    pub line: String,
    /// Structured metadata pairs, in the order sent.
    pub structured_metadata: Vec<(String, String)>,
    /// The request's `X-Scope-OrgID`.
    pub tenant: Option<String>,
    /// The index of the request that carried this entry in [`FakeLoki::requests`].
    pub request: usize,
}

impl Entry {
    /// The line parsed as JSON (`Null` if it is not JSON).
    pub fn payload(&self) -> serde_json::Value {
        serde_json::from_str(&self.line).unwrap_or(serde_json::Value::Null)
    }

    /// The payload's `message` field, if the line is a JSON object with a string `message`.
    pub fn message(&self) -> Option<String> {
        self.payload().get("message")?.as_str().map(str::to_owned)
    }

    /// The sequence number the message carries (see [`super::kubelet::seq_of`]).
    pub fn seq(&self) -> Option<u64> {
        super::kubelet::seq_of(&self.message()?)
    }
}

/// One request as seen by the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestLog {
    /// Which accepted connection carried it, counting from 0: requests on one kept-alive connection share it.
    pub connection: usize,
    pub method: String,
    pub path: String,
    /// The step taken from the script; `None` for requests that are not pushes (wrong path or method).
    pub step: Option<Step>,
    /// The status answered (or about to be answered); `None` when the server did not answer (hang, reset) or
    /// has not decided yet (a [`Step::Slow`] still waiting).
    pub status: Option<u16>,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    /// `X-Scope-OrgID`.
    pub tenant: Option<String>,
    pub authorization: Option<String>,
    pub user_agent: Option<String>,
    /// The body's length as sent.
    pub body_len: usize,
    /// Streams and entries the body held, if it decoded.
    pub streams: usize,
    pub entries: usize,
    /// Entries stored from this request.
    pub stored: usize,
}

/// The fake Loki server. Dropping it takes it down.
pub struct FakeLoki {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled whenever the state changes, the server goes down or hung requests are released.
    changed: Condvar,
    /// Bumped every time the server goes down: threads of an older epoch finish.
    epoch: AtomicU64,
    /// Connection threads still running.
    live_connections: AtomicUsize,
    /// Connections accepted so far.
    accepted: AtomicUsize,
}

struct State {
    script: VecDeque<Step>,
    default: Step,
    entries: Vec<Entry>,
    requests: Vec<RequestLog>,
    errors: Vec<String>,
    suppressed_errors: usize,
    aborted: Vec<String>,
    /// Bumped by `release_hung`: a hung request waits until it changes.
    release: u64,
    hung: usize,
}

impl State {
    fn error(&mut self, message: String) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(message);
        } else {
            self.suppressed_errors += 1;
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panics while holding the lock must not hide its own failure behind poisoned-lock panics.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stopped(&self, epoch: u64) -> bool {
        self.epoch.load(Ordering::SeqCst) != epoch
    }
}

impl FakeLoki {
    /// Starts a server on a free loopback port.
    pub fn start() -> FakeLoki {
        FakeLoki::start_on("127.0.0.1:0".parse().unwrap())
    }

    /// Starts a server on the given address (a port a previous server used, to bring "the same Loki" back).
    pub fn start_on(addr: SocketAddr) -> FakeLoki {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                script: VecDeque::new(),
                default: Step::Accept,
                entries: Vec::new(),
                requests: Vec::new(),
                errors: Vec::new(),
                suppressed_errors: 0,
                aborted: Vec::new(),
                release: 0,
                hung: 0,
            }),
            changed: Condvar::new(),
            epoch: AtomicU64::new(0),
            live_connections: AtomicUsize::new(0),
            accepted: AtomicUsize::new(0),
        });
        let mut loki = FakeLoki { shared, addr, accept: None };
        loki.up();
        loki
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the base URL to give the agent.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The full push URL.
    pub fn push_url(&self) -> String {
        format!("{}{PUSH_PATH}", self.url())
    }

    /// Queues behaviours for the next push requests, after any still queued. Once the queue is empty, the
    /// default step (see [`FakeLoki::set_default`]) answers.
    pub fn script(&self, steps: Vec<Step>) {
        self.shared.lock().script.extend(steps);
    }

    /// Sets what the server does when the script is empty (initially [`Step::Accept`]).
    pub fn set_default(&self, step: Step) {
        self.shared.lock().default = step;
    }

    /// How many scripted steps have not been used yet.
    pub fn script_left(&self) -> usize {
        self.shared.lock().script.len()
    }

    /// Every entry stored so far, in arrival order, duplicates included.
    pub fn entries(&self) -> Vec<Entry> {
        self.shared.lock().entries.clone()
    }

    /// The entries as Loki would return them to a query: entries with the same labels, timestamp and line are
    /// stored once (Loki deduplicates them), the first copy kept.
    pub fn unique_entries(&self) -> Vec<Entry> {
        let mut seen = BTreeSet::new();
        let entries = self.shared.lock().entries.clone();
        entries
            .into_iter()
            .filter(|e| seen.insert((e.tenant.clone(), e.labels.clone(), e.timestamp_ns, e.line.clone())))
            .collect()
    }

    /// Every request seen so far, in arrival order.
    pub fn requests(&self) -> Vec<RequestLog> {
        self.shared.lock().requests.clone()
    }

    /// The protocol and contract violations seen so far. A correct client leaves this empty.
    pub fn errors(&self) -> Vec<String> {
        let state = self.shared.lock();
        let mut errors = state.errors.clone();
        if state.suppressed_errors > 0 {
            errors.push(format!("... and {} more violations", state.suppressed_errors));
        }
        errors
    }

    /// Requests the client abandoned before sending them completely (the connection closed inside the head or
    /// the body). They are not violations, and nothing of them was stored or logged in [`FakeLoki::requests`].
    pub fn aborted(&self) -> Vec<String> {
        self.shared.lock().aborted.clone()
    }

    /// How many requests are hanging right now.
    pub fn hung(&self) -> usize {
        self.shared.lock().hung
    }

    /// Lets every request hanging right now go: each connection is closed without an answer. Requests that
    /// arrive later and meet a [`Step::Hang`] hang again.
    pub fn release_hung(&self) {
        let mut state = self.shared.lock();
        state.release += 1;
        self.shared.changed.notify_all();
    }

    /// Waits until at least `n` entries are stored; false if `timeout` passed first.
    pub fn wait_for_entries(&self, n: usize, timeout: Duration) -> bool {
        self.wait(timeout, |state| state.entries.len() >= n)
    }

    /// Waits until at least `n` requests have been seen; false if `timeout` passed first.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        self.wait(timeout, |state| state.requests.len() >= n)
    }

    /// Waits until `n` requests hang at once; false if `timeout` passed first.
    pub fn wait_for_hung(&self, n: usize, timeout: Duration) -> bool {
        self.wait(timeout, |state| state.hung >= n)
    }

    fn wait(&self, timeout: Duration, mut done: impl FnMut(&State) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if done(&state) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self.shared.changed.wait_timeout(state, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// Whether the server is listening.
    pub fn is_up(&self) -> bool {
        self.accept.is_some()
    }

    /// Takes the server down as a crashed Loki goes: the port is closed, so connections are refused, and every
    /// open connection (idle, hanging or mid-request) is closed. What was stored and scripted is kept for
    /// [`FakeLoki::up`].
    pub fn down(&mut self) {
        let Some(accept) = self.accept.take() else { return };
        self.shared.epoch.fetch_add(1, Ordering::SeqCst);
        {
            let _state = self.shared.lock();
            self.shared.changed.notify_all();
        }
        // The accept thread blocks in accept(): a connection of our own wakes it to see the new epoch. If even
        // that fails, the thread is left behind rather than joined forever.
        if TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok() {
            let _ = accept.join();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.shared.live_connections.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Brings the server back on the same port after [`FakeLoki::down`].
    pub fn up(&mut self) {
        if self.accept.is_some() {
            return;
        }
        // The port was just ours; the standard library sets SO_REUSEADDR, so sockets of the previous life in
        // TIME_WAIT do not stand in the way. Another process may grab a freed port in between, hence the retries.
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match TcpListener::bind(self.addr) {
                Ok(listener) => break listener,
                Err(e) if Instant::now() >= deadline => panic!("fake Loki cannot listen on {}: {e}", self.addr),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        self.addr = listener.local_addr().expect("listener address");
        let shared = Arc::clone(&self.shared);
        let epoch = shared.epoch.load(Ordering::SeqCst);
        let handle = std::thread::Builder::new()
            .name("fake-loki-accept".into())
            .spawn(move || accept_loop(listener, shared, epoch))
            .expect("spawn the accept thread");
        self.accept = Some(handle);
    }
}

impl Drop for FakeLoki {
    fn drop(&mut self) {
        self.down();
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>, epoch: u64) {
    for stream in listener.incoming() {
        if shared.stopped(epoch) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let id = shared.accepted.fetch_add(1, Ordering::SeqCst);
        shared.live_connections.fetch_add(1, Ordering::SeqCst);
        let conn_shared = Arc::clone(&shared);
        let spawned = std::thread::Builder::new().name(format!("fake-loki-conn-{id}")).spawn(move || {
            let mut conn = Connection { stream, buf: Vec::new(), shared: conn_shared, epoch, id };
            conn.serve();
            conn.shared.live_connections.fetch_sub(1, Ordering::SeqCst);
        });
        if spawned.is_err() {
            shared.live_connections.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// A request as read off the wire.
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn wants_close(&self) -> bool {
        self.header("connection").is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
    }
}

/// Why a request could not be read.
enum ReadError {
    /// The client went away before sending all of it (or the server is going down): not a violation, since a
    /// client that is killed or times out mid-request does exactly this.
    Aborted(String),
    /// The bytes are not HTTP/1.1 as a client must send it: a violation.
    Malformed(String),
}

/// What the server does on the connection after deciding a request's fate.
enum Reply {
    Answer { status: u16, headers: Vec<(&'static str, String)>, body: String },
    Hang,
    Close,
}

struct Connection {
    stream: TcpStream,
    /// Bytes read but not consumed yet: with keep-alive, the start of the next request may follow a body.
    buf: Vec<u8>,
    shared: Arc<Shared>,
    epoch: u64,
    id: usize,
}

impl Connection {
    fn serve(&mut self) {
        if self.stream.set_read_timeout(Some(READ_POLL)).is_err() {
            return;
        }
        let _ = self.stream.set_nodelay(true);
        loop {
            let request = match self.read_request() {
                Ok(Some(request)) => request,
                Ok(None) => return,
                Err(_) if self.shared.stopped(self.epoch) => return,
                Err(ReadError::Aborted(e)) => {
                    let mut state = self.shared.lock();
                    state.aborted.push(format!("connection {}: {e}", self.id));
                    self.shared.changed.notify_all();
                    return;
                }
                Err(ReadError::Malformed(e)) => {
                    self.shared.lock().error(format!("connection {}: {e}", self.id));
                    let _ = self.respond(400, &[], &format!("{e}\n"), true);
                    return;
                }
            };
            let close = request.wants_close();
            match self.handle(&request) {
                Reply::Answer { status, headers, body } => {
                    if self.respond(status, &headers, &body, close).is_err() || close {
                        return;
                    }
                }
                Reply::Hang => {
                    self.hang();
                    return;
                }
                Reply::Close => return,
            }
        }
    }

    /// Reads more bytes into the buffer; false at the end of the stream.
    fn fill(&mut self) -> Result<bool, ReadError> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if self.shared.stopped(self.epoch) {
                return Err(ReadError::Aborted("the server is going down".into()));
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(true);
                }
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(false),
                Err(e) => return Err(ReadError::Aborted(format!("read failed: {e}"))),
            }
        }
    }

    /// Reads one request; `None` if the client closed the connection between requests.
    fn read_request(&mut self) -> Result<Option<Request>, ReadError> {
        let (method, path, headers, head_len) = loop {
            if !self.buf.is_empty() {
                let mut slots = [httparse::EMPTY_HEADER; 64];
                let mut parsed = httparse::Request::new(&mut slots);
                match parsed.parse(&self.buf) {
                    Ok(httparse::Status::Complete(len)) => {
                        let method = parsed.method.unwrap_or_default().to_owned();
                        let path = parsed.path.unwrap_or_default().to_owned();
                        let headers = parsed
                            .headers
                            .iter()
                            .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).into_owned()))
                            .collect::<Vec<_>>();
                        break (method, path, headers, len);
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(e) => return Err(ReadError::Malformed(format!("malformed request head: {e}"))),
                }
            }
            if !self.fill()? {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(ReadError::Aborted("connection closed inside a request head".into()))
                };
            }
        };
        let mut request = Request { method, path, headers, body: Vec::new() };
        self.buf.drain(..head_len);
        if request.header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
            self.stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .map_err(|e| ReadError::Aborted(format!("write failed: {e}")))?;
        }
        let chunked = request.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if chunked {
            request.body = self.read_chunked_body()?;
        } else if let Some(length) = request.header("content-length") {
            let length: usize =
                length.trim().parse().map_err(|_| ReadError::Malformed(format!("bad Content-Length {length:?}")))?;
            if length > MAX_BODY_BYTES {
                return Err(ReadError::Malformed(format!("body of {length} bytes is over the fake's limit")));
            }
            while self.buf.len() < length {
                if !self.fill()? {
                    let got = self.buf.len();
                    return Err(ReadError::Aborted(format!("connection closed after {got} of {length} body bytes")));
                }
            }
            request.body = self.buf.drain(..length).collect();
        }
        Ok(Some(request))
    }

    fn read_chunked_body(&mut self) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let (size_len, size) = loop {
                match httparse::parse_chunk_size(&self.buf) {
                    Ok(httparse::Status::Complete((len, size))) => break (len, size as usize),
                    Ok(httparse::Status::Partial) => {}
                    Err(_) => return Err(ReadError::Malformed("malformed chunk size".into())),
                }
                if !self.fill()? {
                    return Err(ReadError::Aborted("connection closed inside a chunked body".into()));
                }
            };
            if body.len() + size > MAX_BODY_BYTES {
                return Err(ReadError::Malformed("chunked body is over the fake's limit".into()));
            }
            // The chunk's data and its CRLF; the last, empty chunk is followed by the (here unused) trailer
            // section, which ends with an empty line.
            let need = size_len + size + 2;
            while self.buf.len() < need {
                if !self.fill()? {
                    return Err(ReadError::Aborted("connection closed inside a chunk".into()));
                }
            }
            if &self.buf[size_len + size..need] != b"\r\n" {
                let what = if size == 0 { "chunk trailers are not supported" } else { "chunk without CRLF" };
                return Err(ReadError::Malformed(what.into()));
            }
            body.extend_from_slice(&self.buf[size_len..size_len + size]);
            self.buf.drain(..need);
            if size == 0 {
                return Ok(body);
            }
        }
    }

    /// Decides the fate of one request, stores what it stores and logs it.
    fn handle(&mut self, request: &Request) -> Reply {
        let mut log = RequestLog {
            connection: self.id,
            method: request.method.clone(),
            path: request.path.clone(),
            step: None,
            status: None,
            content_type: request.header("content-type").map(str::to_owned),
            content_encoding: request.header("content-encoding").map(str::to_owned),
            tenant: request.header("x-scope-orgid").map(str::to_owned),
            authorization: request.header("authorization").map(str::to_owned),
            user_agent: request.header("user-agent").map(str::to_owned),
            body_len: request.body.len(),
            streams: 0,
            entries: 0,
            stored: 0,
        };
        let mut state = self.shared.lock();
        let index = state.requests.len();
        let path_only = request.path.split('?').next().unwrap_or_default();
        if path_only != PUSH_PATH || request.method != "POST" {
            let status = if path_only != PUSH_PATH { 404 } else { 405 };
            state.error(format!("request {index}: {} {} is not POST {PUSH_PATH}", request.method, request.path));
            log.status = Some(status);
            state.requests.push(log);
            self.shared.changed.notify_all();
            return Reply::Answer { status, headers: Vec::new(), body: "not the push endpoint\n".into() };
        }
        let step = state.script.pop_front().unwrap_or_else(|| state.default.clone());
        log.step = Some(step.clone());

        let decoded = decode(&log, &request.body);
        match &decoded {
            Ok(streams) => {
                log.streams = streams.len();
                log.entries = streams.iter().map(|s| s.entries.len()).sum();
                for violation in streams.iter().flat_map(check_stream) {
                    state.error(format!("request {index}: {violation}"));
                }
            }
            Err(e) => state.error(format!("request {index}: undecodable body: {e}")),
        }
        if let Some(violation) = check_content_type(&log) {
            state.error(format!("request {index}: {violation}"));
        }
        // The request takes its place in the log now, so that its index stays its own while a slow answer waits
        // with the lock released; the entry is completed below.
        state.requests.push(log.clone());
        self.shared.changed.notify_all();

        let tenant = log.tenant.clone();
        let store = |state: &mut State, streams: &[DecodedStream], log: &mut RequestLog| {
            for stream in streams {
                for entry in &stream.entries {
                    state.entries.push(Entry {
                        labels: stream.labels.clone(),
                        labels_raw: stream.labels_raw.clone(),
                        timestamp_ns: entry.timestamp_ns,
                        line: entry.line.clone(),
                        structured_metadata: entry.structured_metadata.clone(),
                        tenant: tenant.clone(),
                        request: index,
                    });
                    log.stored += 1;
                }
            }
        };
        let bad_request = |e: &String| Reply::Answer { status: 400, headers: Vec::new(), body: format!("{e}\n") };

        let reply = match (&step, &decoded) {
            (Step::Status(status, body), _) => {
                Reply::Answer { status: *status, headers: Vec::new(), body: body.clone() }
            }
            (Step::TooManyRequests { retry_after_secs }, _) => Reply::Answer {
                status: 429,
                headers: vec![("Retry-After", retry_after_secs.to_string())],
                body: "Too Many Requests\n".into(),
            },
            (Step::Hang, _) => Reply::Hang,
            (Step::Reset, _) => Reply::Close,
            (Step::TooLargeOver(limit), _) if request.body.len() > *limit => Reply::Answer {
                status: 413,
                headers: Vec::new(),
                body: format!("request body of {} bytes is over the limit of {limit}\n", request.body.len()),
            },
            (_, Err(e)) => bad_request(e),
            (Step::Accept | Step::TooLargeOver(_), Ok(streams)) => {
                store(&mut state, streams, &mut log);
                Reply::Answer { status: 204, headers: Vec::new(), body: String::new() }
            }
            (Step::AcceptThenReset, Ok(streams)) => {
                store(&mut state, streams, &mut log);
                Reply::Close
            }
            (Step::RejectStreams { label, value, reason }, Ok(streams)) => {
                let (rejected, kept): (Vec<_>, Vec<_>) =
                    streams.iter().cloned().partition(|s| s.labels.get(label) == Some(value));
                store(&mut state, &kept, &mut log);
                if rejected.is_empty() {
                    Reply::Answer { status: 204, headers: Vec::new(), body: String::new() }
                } else {
                    Reply::Answer { status: 400, headers: Vec::new(), body: reason.clone() }
                }
            }
            (Step::Slow(delay), Ok(streams)) => {
                // The wait releases the lock, so the server goes on serving other connections meanwhile.
                // A server going down meanwhile closes the connection and stores nothing.
                let deadline = Instant::now() + *delay;
                let mut now = Instant::now();
                while now < deadline && !self.shared.stopped(self.epoch) {
                    state = self
                        .shared
                        .changed
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                    now = Instant::now();
                }
                if self.shared.stopped(self.epoch) {
                    Reply::Close
                } else {
                    store(&mut state, streams, &mut log);
                    Reply::Answer { status: 204, headers: Vec::new(), body: String::new() }
                }
            }
        };
        if let Reply::Answer { status, .. } = &reply {
            log.status = Some(*status);
        }
        state.requests[index] = log;
        self.shared.changed.notify_all();
        reply
    }

    fn respond(&mut self, status: u16, headers: &[(&str, String)], body: &str, close: bool) -> io::Result<()> {
        let mut head = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status));
        // A 204 has no body and, by RFC 9110, no Content-Length either.
        if status != 204 {
            head.push_str(&format!("Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n", body.len()));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        if status != 204 {
            head.push_str(body);
        }
        self.stream.write_all(head.as_bytes())?;
        self.stream.flush()
    }

    /// Holds a hung request until it is released, the server goes down or the client closes the connection.
    fn hang(&mut self) {
        let mut state = self.shared.lock();
        let release = state.release;
        state.hung += 1;
        self.shared.changed.notify_all();
        while state.release == release && !self.shared.stopped(self.epoch) && !self.peer_closed() {
            state = self.shared.changed.wait_timeout(state, READ_POLL).unwrap_or_else(PoisonError::into_inner).0;
        }
        state.hung -= 1;
        self.shared.changed.notify_all();
        drop(state);
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// Whether the client has closed its end, looked at without blocking.
    fn peer_closed(&self) -> bool {
        if self.stream.set_nonblocking(true).is_err() {
            return true;
        }
        let mut byte = [0u8; 1];
        let closed = match self.stream.peek(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => e.kind() != io::ErrorKind::WouldBlock,
        };
        let _ = self.stream.set_nonblocking(false);
        closed
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// One decoded stream.
#[derive(Clone, Debug)]
struct DecodedStream {
    labels_raw: String,
    labels: BTreeMap<String, String>,
    entries: Vec<DecodedEntry>,
}

#[derive(Clone, Debug)]
struct DecodedEntry {
    timestamp_ns: i64,
    line: String,
    structured_metadata: Vec<(String, String)>,
}

/// The media type without parameters, lowercased.
fn media_type(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

fn check_content_type(log: &RequestLog) -> Option<String> {
    match log.content_type.as_deref().map(media_type).as_deref() {
        Some("application/x-protobuf" | "application/json") => None,
        Some(other) => Some(format!("Content-Type {other:?} is neither application/x-protobuf nor application/json")),
        None => Some("no Content-Type".into()),
    }
}

/// Decodes a push body as Loki does: JSON if the content type says so, protobuf otherwise.
fn decode(log: &RequestLog, body: &[u8]) -> Result<Vec<DecodedStream>, String> {
    let json = log.content_type.as_deref().map(media_type).as_deref() == Some("application/json");
    let encoding = log.content_encoding.as_deref().map(|e| e.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        // Loki reads "snappy" as the protobuf body's own compression, so it changes nothing here.
        None | Some("identity") => {}
        Some("snappy") if !json => {}
        Some("gzip") if json => {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(body).read_to_end(&mut plain).map_err(|e| format!("gzip: {e}"))?;
            return decode_json(&plain);
        }
        Some(other) => return Err(format!("unsupported Content-Encoding {other:?}")),
    }
    if json { decode_json(body) } else { decode_protobuf(body) }
}

fn decode_protobuf(body: &[u8]) -> Result<Vec<DecodedStream>, String> {
    use prost::Message as _;
    let plain = snap::raw::Decoder::new().decompress_vec(body).map_err(|e| format!("snappy (block format): {e}"))?;
    let request = proto::PushRequest::decode(&plain[..]).map_err(|e| format!("protobuf PushRequest: {e}"))?;
    request
        .streams
        .into_iter()
        .map(|stream| {
            let labels = parse_labels(&stream.labels).map_err(|e| format!("labels {:?}: {e}", stream.labels))?;
            let entries = stream
                .entries
                .into_iter()
                .map(|entry| {
                    let ts = entry.timestamp.unwrap_or_default();
                    if !(0..1_000_000_000).contains(&ts.nanos) {
                        return Err(format!("timestamp nanos {} out of range", ts.nanos));
                    }
                    let timestamp_ns = ts
                        .seconds
                        .checked_mul(1_000_000_000)
                        .and_then(|s| s.checked_add(i64::from(ts.nanos)))
                        .ok_or_else(|| format!("timestamp of {} seconds out of range", ts.seconds))?;
                    Ok(DecodedEntry {
                        timestamp_ns,
                        line: entry.line,
                        structured_metadata: entry.structured_metadata.into_iter().map(|p| (p.name, p.value)).collect(),
                    })
                })
                .collect::<Result<_, String>>()?;
            Ok(DecodedStream { labels_raw: stream.labels, labels, entries })
        })
        .collect()
}

fn decode_json(body: &[u8]) -> Result<Vec<DecodedStream>, String> {
    use serde_json::Value;
    let root: Value = serde_json::from_slice(body).map_err(|e| format!("JSON: {e}"))?;
    let streams = root.get("streams").and_then(Value::as_array).ok_or("JSON body without a \"streams\" array")?;
    streams
        .iter()
        .map(|stream| {
            let labels = stream
                .get("stream")
                .and_then(Value::as_object)
                .ok_or("JSON stream without a \"stream\" object")?
                .iter()
                .map(|(k, v)| {
                    Ok((k.clone(), v.as_str().ok_or(format!("JSON label {k:?} is not a string"))?.to_owned()))
                })
                .collect::<Result<BTreeMap<_, _>, String>>()?;
            let values = stream.get("values").and_then(Value::as_array).ok_or("JSON stream without \"values\"")?;
            let entries = values
                .iter()
                .map(|value| {
                    let parts =
                        value.as_array().filter(|a| (2..=3).contains(&a.len())).ok_or("JSON value not [ts, line]")?;
                    let timestamp_ns = parts[0]
                        .as_str()
                        .and_then(|s| s.parse::<i64>().ok())
                        .ok_or("JSON timestamp not a string of nanoseconds")?;
                    let line = parts[1].as_str().ok_or("JSON line not a string")?.to_owned();
                    let structured_metadata = match parts.get(2) {
                        None => Vec::new(),
                        Some(meta) => meta
                            .as_object()
                            .ok_or("JSON structured metadata not an object")?
                            .iter()
                            .map(|(k, v)| Ok((k.clone(), v.as_str().ok_or("JSON metadata not a string")?.to_owned())))
                            .collect::<Result<_, String>>()?,
                    };
                    Ok(DecodedEntry { timestamp_ns, line, structured_metadata })
                })
                .collect::<Result<_, String>>()?;
            Ok(DecodedStream { labels_raw: format_labels(&labels), labels, entries })
        })
        .collect()
}

/// The contract's violations in one stream: its labels, then each entry's timestamp and line.
fn check_stream(stream: &DecodedStream) -> Vec<String> {
    let mut violations = Vec::new();
    let names: Vec<&str> = stream.labels.keys().map(String::as_str).collect();
    if names != CONTRACT_LABELS {
        violations.push(format!("labels {} are not exactly {CONTRACT_LABELS:?}", stream.labels_raw));
    }
    for (name, expected) in [("unified_model_logs", "1"), ("job", "fluent-bit")] {
        if let Some(value) = stream.labels.get(name).filter(|v| *v != expected) {
            violations.push(format!("label {name}={value:?} in {}, expected {expected:?}", stream.labels_raw));
        }
    }
    for name in ["model_version_id", "namespace"] {
        if stream.labels.get(name).is_some_and(String::is_empty) {
            violations.push(format!("empty label {name} in {}", stream.labels_raw));
        }
    }
    for entry in &stream.entries {
        if entry.timestamp_ns <= 0 {
            violations
                .push(format!("timestamp {} is not after the epoch in {}", entry.timestamp_ns, stream.labels_raw));
        }
        if let Err(e) = check_line(&entry.line) {
            violations.push(format!("{e} in {}: {}", stream.labels_raw, abbreviate(&entry.line)));
        }
    }
    violations
}

/// Checks one line against the payload of `rules/schema.uml`.
pub fn check_line(line: &str) -> Result<(), String> {
    use serde_json::Value;
    if line.len() > MAX_LINE_BYTES {
        return Err(format!("line of {} bytes is over {MAX_LINE_BYTES}", line.len()));
    }
    let value: Value = serde_json::from_str(line).map_err(|e| format!("line is not JSON ({e})"))?;
    let object = value.as_object().ok_or("line is not a JSON object")?;
    let one_of = |field: &str, allowed: &[&str]| match object.get(field) {
        Some(Value::String(s)) if allowed.is_empty() || allowed.contains(&s.as_str()) => Ok(()),
        Some(other) => Err(format!("payload field {field} = {other} is not one of {allowed:?}")),
        None => Err(format!("payload without {field}")),
    };
    one_of("levelname", &LEVELNAMES)?;
    one_of("source", &SOURCES)?;
    one_of("replica", &[])?;
    one_of("message", &[])?;
    if let Some(exc_info) = object.get("exc_info").filter(|v| !v.is_string()) {
        return Err(format!("payload field exc_info = {exc_info} is not a string"));
    }
    for (field, value) in object {
        if !matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
            return Err(format!("payload field {field} = {value} is not a string, number or boolean"));
        }
    }
    Ok(())
}

fn abbreviate(line: &str) -> String {
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_owned(),
    }
}

/// Parses a stream's labels the way Loki does, as a PromQL selector of equality matchers:
/// `{job="fluent-bit", namespace="org-…"}`, values in double quotes with Go's escapes.
///
/// It is strict: other quotes, other matchers (`!=`, `=~`), repeated names and trailing commas are errors.
pub fn parse_labels(input: &str) -> Result<BTreeMap<String, String>, String> {
    let mut parser = LabelParser { input, pos: 0 };
    parser.skip_ws();
    parser.expect('{')?;
    let mut labels = BTreeMap::new();
    parser.skip_ws();
    if !parser.eat('}') {
        loop {
            parser.skip_ws();
            let name = parser.name()?;
            parser.skip_ws();
            parser.expect('=')?;
            if parser.peek().is_some_and(|c| c == '~' || c == '=') {
                return Err(format!("only `=` matchers can be labels, at byte {}", parser.pos));
            }
            parser.skip_ws();
            let value = parser.quoted()?;
            if labels.insert(name.clone(), value).is_some() {
                return Err(format!("label {name} repeated"));
            }
            parser.skip_ws();
            if parser.eat('}') {
                break;
            }
            parser.expect(',')?;
        }
    }
    parser.skip_ws();
    if parser.pos != input.len() {
        return Err(format!("unexpected {:?} after the selector", &input[parser.pos..]));
    }
    Ok(labels)
}

/// Renders labels as Loki's clients do (Prometheus' `labels.String()`): sorted, `name="value"` joined by `, `,
/// values quoted as Go's `strconv.Quote` would for ordinary text.
pub fn format_labels(labels: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = labels.iter().map(|(name, value)| format!("{name}={}", quote(value))).collect();
    format!("{{{}}}", pairs.join(", "))
}

fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if c.is_control() && (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct LabelParser<'a> {
    input: &'a str,
    pos: usize,
}

impl LabelParser<'_> {
    fn peek(&self) -> Option<char> {
        self.input[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) { Ok(()) } else { Err(format!("expected `{c}` at byte {}, found {:?}", self.pos, self.peek())) }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| matches!(c, ' ' | '\t' | '\n' | '\r')) {
            self.pos += 1;
        }
    }

    fn name(&mut self) -> Result<String, String> {
        let start = self.pos;
        match self.peek() {
            Some(c) if c.is_ascii_alphabetic() || c == '_' => self.pos += 1,
            other => return Err(format!("expected a label name at byte {start}, found {other:?}")),
        }
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        Ok(self.input[start..self.pos].to_owned())
    }

    fn hex(&mut self, digits: usize) -> Result<u32, String> {
        let mut value = 0u32;
        for _ in 0..digits {
            let digit = self.bump().and_then(|c| c.to_digit(16)).ok_or("bad hexadecimal escape")?;
            value = value * 16 + digit;
        }
        Ok(value)
    }

    /// A double-quoted string with Go's escapes. `\x` and octal escapes give bytes, so the value is built as
    /// bytes and must be UTF-8 at the end.
    fn quoted(&mut self) -> Result<String, String> {
        let start = self.pos;
        self.expect('"').map_err(|_| format!("expected a double-quoted value at byte {start}"))?;
        let mut bytes = Vec::new();
        loop {
            let c = self.bump().ok_or_else(|| format!("unterminated string starting at byte {start}"))?;
            match c {
                '"' => break,
                '\n' => return Err(format!("raw newline in the string starting at byte {start}")),
                '\\' => {
                    let escape = self.bump().ok_or("unterminated escape")?;
                    let simple = match escape {
                        'a' => Some(0x07),
                        'b' => Some(0x08),
                        'f' => Some(0x0c),
                        'n' => Some(b'\n'),
                        'r' => Some(b'\r'),
                        't' => Some(b'\t'),
                        'v' => Some(0x0b),
                        '\\' => Some(b'\\'),
                        '"' => Some(b'"'),
                        _ => None,
                    };
                    if let Some(byte) = simple {
                        bytes.push(byte);
                        continue;
                    }
                    match escape {
                        'x' => bytes.push(self.hex(2)? as u8),
                        'u' | 'U' => {
                            let code = self.hex(if escape == 'u' { 4 } else { 8 })?;
                            let c =
                                char::from_u32(code).ok_or_else(|| format!("escape of invalid code point {code:x}"))?;
                            bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                        }
                        '0'..='7' => {
                            let mut value = escape.to_digit(8).unwrap_or_default();
                            for _ in 0..2 {
                                let digit = self.bump().and_then(|c| c.to_digit(8)).ok_or("bad octal escape")?;
                                value = value * 8 + digit;
                            }
                            bytes.push(u8::try_from(value).map_err(|_| "octal escape over 255")?);
                        }
                        other => {
                            return Err(format!("unknown escape \\{other} in the string starting at byte {start}"));
                        }
                    }
                }
                c => bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        }
        String::from_utf8(bytes).map_err(|_| format!("the string starting at byte {start} is not UTF-8"))
    }
}

/// Builds a push body as the agent must send it: a protobuf `PushRequest`, snappy block compressed. Each stream is
/// its labels (as a selector) and its entries (nanosecond timestamp, line).
pub fn push_body(streams: &[(&str, &[(i64, &str)])]) -> Vec<u8> {
    use prost::Message as _;
    let request = proto::PushRequest {
        streams: streams
            .iter()
            .map(|(labels, entries)| proto::StreamAdapter {
                labels: (*labels).to_owned(),
                entries: entries
                    .iter()
                    .map(|(ns, line)| proto::EntryAdapter {
                        timestamp: Some(proto::Timestamp {
                            seconds: ns.div_euclid(1_000_000_000),
                            nanos: ns.rem_euclid(1_000_000_000) as i32,
                        }),
                        line: (*line).to_owned(),
                        structured_metadata: Vec::new(),
                    })
                    .collect(),
                hash: 0,
            })
            .collect(),
    };
    snap::raw::Encoder::new().compress_vec(&request.encode_to_vec()).expect("snappy compression")
}

/// The labels of a contract-abiding stream.
pub fn contract_labels(model_version_id: &str, namespace: &str) -> String {
    let labels = BTreeMap::from([
        ("job".to_owned(), "fluent-bit".to_owned()),
        ("model_version_id".to_owned(), model_version_id.to_owned()),
        ("namespace".to_owned(), namespace.to_owned()),
        ("unified_model_logs".to_owned(), "1".to_owned()),
    ]);
    format_labels(&labels)
}

/// A contract-abiding line from the model container.
pub fn contract_line(replica: &str, message: &str) -> String {
    serde_json::json!({"levelname": "INFO", "message": message, "replica": replica, "source": "model_container"})
        .to_string()
}
