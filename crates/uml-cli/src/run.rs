//! `uml run`: log files in, unified records out.
//!
//! ```text
//! PATH… ─▶ files (*.log, sorted) ─▶ worker threads ─▶ chunks ─▶ writer ─▶ stdout / -o FILE
//!                                    (one file at a time each:              (main thread)
//!                                     read, frame, route, group,
//!                                     apply, format)
//! ```
//!
//! Each file is processed by one worker from start to end, so a file's
//! records (and therefore each Loki stream's) keep their order; workers hand
//! formatted chunks to the main thread through a bounded channel, which
//! writes them, so memory stays bounded whatever the input. The summary on
//! standard error (and `--stats FILE` as JSON) accounts for every line.

use crate::args::{OutputFormat, RunArgs};
use crate::error::Error;
use crate::sources::RuleSet;
use crate::{Io, Status, report};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};
use uml_compiler::compile::{Compiled, Unit, compile};
use uml_runtime::exec::{FileInfo, Record};
use uml_runtime::framing::parse_pod_log_path;
use uml_runtime::output::Encoder;
use uml_runtime::pipeline::{FileState, Processor, Stats};
use uml_runtime::plan::Plan;
use uml_runtime::stdlib::json_string::write_json_string;

/// Bytes read from a file at a time.
const READ_CHUNK: usize = 1 << 20;
/// The longest raw line read; the rest of a longer one is skipped (the
/// framer cuts the message at 256 KiB anyway, and a docker line cut here is
/// dropped as malformed, and counted).
const MAX_RAW_LINE: usize = 4 << 20;
/// Output is handed to the writer in chunks of about this size.
const OUTPUT_CHUNK: usize = 256 << 10;
/// The room of a new output chunk: a chunk and one more file's records.
const CHUNK_CAPACITY: usize = OUTPUT_CHUNK + (64 << 10);
/// Chunks in flight between the workers and the writer.
const CHUNKS_IN_FLIGHT: usize = 16;
/// Inputs above this size get a progress line on a terminal.
const PROGRESS_ABOVE: u64 = 64 << 20;

/// The flags that make no sense together, as a usage error (before any work).
fn check_flags(args: &RunArgs) -> Result<(), Error> {
    let stdin = args.paths.iter().filter(|p| crate::args::is_stdin(p)).count();
    if stdin > 0 && args.paths.len() > 1 {
        return Err(Error::Usage(
            "`-` (standard input) cannot be read together with files: run uml once for each".into(),
        ));
    }
    let metadata = [("--pod", &args.pod), ("--namespace", &args.namespace), ("--container", &args.container)];
    if stdin == 0 {
        if let Some((flag, _)) = metadata.iter().find(|(_, v)| v.is_some()) {
            return Err(Error::Usage(format!(
                "{flag} applies to standard input (`-`) only: a file's metadata comes from its kubelet name"
            )));
        }
    } else if args.threads.is_some() {
        return Err(Error::Usage("--threads does not apply to standard input, which one thread reads".into()));
    }
    if stdin == 0 && args.framing.is_some() {
        return Err(Error::Usage(
            "--framing applies to standard input (`-`) only: files are framed as kubelet wrote them".into(),
        ));
    }
    Ok(())
}

pub fn run(args: &RunArgs, io: &mut Io<'_>) -> Result<Status, Error> {
    check_flags(args)?;
    let started = Instant::now();
    let mut bad_names: Vec<String> = Vec::new();
    let Some((compiled, rules)) = load_rules(args.rules.as_deref(), io)? else { return Ok(Status::Failure) };
    let plan = &compiled.plan;
    let stdin_only = args.paths.len() == 1 && crate::args::is_stdin(&args.paths[0]);
    if stdin_only && (args.pod.is_none() || args.namespace.is_none() || args.container.is_none()) {
        let _ = writeln!(
            io.stderr,
            "uml: warning: standard input read without --pod, --namespace and --container: rules route by them, \
             so lines may go unrouted"
        );
    }
    let mut stats = Stats::default();
    let to_stdout = args.output.as_ref().is_none_or(|p| crate::args::is_stdin(p));
    let mut output: Box<dyn Write> = match &args.output {
        Some(path) if !to_stdout => Box::new(io::BufWriter::with_capacity(
            OUTPUT_CHUNK,
            File::create(path).map_err(|e| Error::Write { path: path.clone(), error: e })?,
        )),
        _ => Box::new(StdoutSink(&mut *io.stdout)),
    };
    let mut failures = Vec::new();
    if stdin_only {
        let info = FileInfo {
            pod: args.pod.as_deref().unwrap_or(""),
            namespace: args.namespace.as_deref().unwrap_or(""),
            container: args.container.as_deref().unwrap_or(""),
            container_id: "",
            file: "-",
        };
        let mut file = FileState::new(&info);
        if let Some(format) = args.framing.as_deref().and_then(uml_runtime::framing::Format::from_name) {
            file = file.with_format(format);
        }
        let mut formatter = Encoder::new(args.format.into());
        let mut processor = Processor::for_encoder(plan);
        let buffers = Buffers::default();
        let mut read_buf = Vec::new();
        let result =
            process(&mut processor, &mut file, &mut *io.stdin, &mut formatter, &buffers, &mut read_buf, &mut |chunk| {
                let written = output.write_all(&chunk).map_err(write_error(&args.output));
                buffers.put(chunk);
                written
            });
        stats.add(&file.stats);
        result?;
        let chunk = formatter.take(CHUNK_CAPACITY);
        output.write_all(&chunk).map_err(write_error(&args.output))?;
    } else {
        // Sizes are only for the progress line, shown on a terminal: a
        // stat per file costs a tenth of a run over many small files.
        let sizes = std::io::stderr().is_terminal();
        let files = discover(&args.paths, sizes)?;
        bad_names = files
            .iter()
            .filter_map(|(paths, _)| paths.last())
            .filter(|p| uml_runtime::framing::parse_log_path(&p.to_string_lossy()).is_err())
            .map(|p| p.display().to_string())
            .collect();
        let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let total: u64 = files.iter().map(|(_, len)| len).sum();
        let progress = (std::io::stderr().is_terminal() && total > PROGRESS_ABOVE).then_some(total);
        let outcome = run_files(plan, &files, threads.max(1), args.format, progress, &mut *io.stderr, &mut |chunk| {
            output.write_all(chunk).map_err(write_error(&args.output))
        })?;
        stats.add(&outcome.stats);
        failures = outcome.failures;
    }
    output.flush().map_err(write_error(&args.output))?;
    drop(output);

    // Every line is accounted for; a broken law is a bug in uml, said loudly.
    if let Err(e) = stats.check() {
        let _ = writeln!(io.stderr, "uml: accounting error (a bug in uml): {e}");
    }
    let summary = summary(plan, &stats, started.elapsed(), &rules);
    let _ = report::summary(io.stderr, report::Verdict::Ok, &summary);
    if stats.lines_read > 0 && stats.records == 0 {
        let _ = writeln!(
            io.stderr,
            "uml: warning: no record was written: every line was dropped or unrouted (are these the rules for these files?)"
        );
    }
    if !bad_names.is_empty() {
        let shown: Vec<&str> = bad_names.iter().take(10).map(String::as_str).collect();
        let more = if bad_names.len() > 10 { format!(" and {} more", bad_names.len() - 10) } else { String::new() };
        let _ = writeln!(
            io.stderr,
            "uml: warning: {} not named as kubelet names log files (<pod>_<namespace>_<container>-<id>.log, or \
             <namespace>_<pod>_<uid>/<container>/<n>.log), so no rule takes their lines: {}{more}",
            if bad_names.len() == 1 { "1 file is".to_string() } else { format!("{} files are", bad_names.len()) },
            shown.join(", ")
        );
    }
    if let Some(path) = &args.stats {
        std::fs::write(path, stats_json(plan, &stats)).map_err(|e| Error::Write { path: path.clone(), error: e })?;
    }
    for f in &failures {
        let _ = writeln!(io.stderr, "uml: {f}");
    }
    Ok(if failures.is_empty() { Status::Success } else { Status::Error })
}

fn write_error(path: &Option<PathBuf>) -> impl Fn(io::Error) -> Error + '_ {
    move |e| match path {
        Some(p) if !crate::args::is_stdin(p) => Error::Write { path: p.clone(), error: e },
        _ => Error::Stdout(e),
    }
}

/// `Io::stdout` as an owned-looking writer.
struct StdoutSink<'a, 'b>(&'a mut (dyn Write + 'b));

impl Write for StdoutSink<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// The rule set, by the one rule every command follows
/// ([`RuleSet::resolve`]): `--rules DIR`, else `./rules/`, else the rules
/// built into uml; with what to call it in a summary. `None` when the rules
/// have errors (they have been reported, with carets).
pub(crate) fn load_rules(dir: Option<&Path>, io: &mut Io<'_>) -> Result<Option<(Compiled, String)>, Error> {
    let named: Vec<PathBuf> = dir.map(Path::to_path_buf).into_iter().collect();
    let rule_set = RuleSet::resolve(&named, io.stdin)?;
    let units: Vec<Unit> =
        rule_set.sources.iter().map(|(_, s)| Unit { name: s.name().to_string(), text: s.text().to_string() }).collect();
    match compile(&units, Default::default()) {
        Ok(c) => Ok(Some((c, rule_set.describe()))),
        Err(diagnostics) => {
            let tally = report::Tally::of(&diagnostics);
            let _ = report::diagnostics(io.stderr, &rule_set.sources, &diagnostics)
                .and_then(|()| report::summary(io.stderr, report::Verdict::Error, &tally.describe_errors()));
            Ok(None)
        }
    }
}

/// The `.log` files the paths name, with their sizes (0 unless `sizes`): a file as given, a
/// directory's `*.log` files below it in path order. In kubelet's pods tree
/// a container log is its rotated files (`0.log.<stamp>`, `….gz`) and its
/// live file: one input, read in writing order as one stream, so that a
/// traceback cut by a rotation comes out whole.
fn discover(paths: &[PathBuf], sizes: bool) -> Result<Vec<(Vec<PathBuf>, u64)>, Error> {
    let mut files: Vec<(Vec<PathBuf>, u64)> = Vec::new();
    // Rotated files (stamp, path, size), by their container log: (directory, restart).
    let mut rotated: std::collections::BTreeMap<(PathBuf, u32), Vec<RotatedFile>> = Default::default();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| Error::read(path, e))?;
        if meta.is_dir() {
            // Siblings by name. walkdir's `sort_by_file_name` parses each
            // path's components at every comparison, which was a tenth of
            // the run on a directory of ten thousand small files; the name
            // is the bytes after the last `/`.
            let by_name = |a: &walkdir::DirEntry, b: &walkdir::DirEntry| file_name_bytes(a).cmp(file_name_bytes(b));
            for entry in walkdir::WalkDir::new(path).sort_by(by_name).follow_links(true) {
                let entry = entry.map_err(|e| Error::read(path, e.into()))?;
                if !entry.file_type().is_file() {
                    continue;
                }
                let len = if sizes { entry.metadata().map_or(0, |m| m.len()) } else { 0 };
                let pod_file = entry.path().to_str().and_then(parse_pod_log_path);
                match pod_file {
                    Some(p) if p.rotated.is_some() => {
                        let key = (entry.path().parent().unwrap_or(path).to_path_buf(), p.restart);
                        let stamp = format!("{}{}", p.rotated.unwrap_or(""), if p.compressed { "z" } else { "" });
                        rotated.entry(key).or_default().push((stamp, entry.into_path(), len));
                    }
                    _ if entry.path().extension().is_some_and(|e| e == "log") => {
                        files.push((vec![entry.into_path()], len));
                    }
                    _ => {}
                }
            }
        } else {
            files.push((vec![path.clone()], meta.len()));
        }
    }
    for ((dir, restart), mut older) in rotated {
        // By stamp; of a stamp's two copies (during a compression), the original.
        older.sort();
        older.dedup_by(|b, a| b.0.trim_end_matches('z') == a.0.trim_end_matches('z'));
        let live = dir.join(format!("{restart}.log"));
        let at = files.iter().position(|(p, _)| p.first() == Some(&live));
        let len: u64 = older.iter().map(|(_, _, len)| len).sum();
        let mut chain: Vec<PathBuf> = older.into_iter().map(|(_, path, _)| path).collect();
        match at {
            Some(i) => {
                chain.push(live);
                files[i] = (chain, files[i].1 + len);
            }
            None => files.push((chain, len)),
        }
    }
    Ok(files)
}

/// A directory entry's name, as bytes.
fn file_name_bytes(entry: &walkdir::DirEntry) -> &[u8] {
    use std::os::unix::ffi::OsStrExt;
    let path = entry.path().as_os_str().as_bytes();
    memchr::memrchr(b'/', path).map_or(path, |at| &path[at + 1..])
}

/// A rotated file of the pods tree: its stamp (`z` after it when
/// compressed), path and size.
type RotatedFile = (String, PathBuf, u64);

/// The files of one input, one after the other; `.gz` files decompressed.
fn open_chain(paths: &[PathBuf]) -> Result<Box<dyn Read>, Error> {
    let mut reader: Box<dyn Read> = Box::new(std::io::empty());
    for path in paths {
        let file = File::open(path).map_err(|e| Error::read(path, e))?;
        let next: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
            Box::new(flate2::read::MultiGzDecoder::new(file))
        } else {
            Box::new(file)
        };
        reader = Box::new(reader.chain(next));
    }
    Ok(reader)
}

struct FilesOutcome {
    stats: Stats,
    failures: Vec<String>,
}

/// Output of consecutive inputs `input..=through`: every one of them
/// before `through` is whole; `last` says whether `through` ends here too.
/// Small inputs that one worker reads one after the other share a chunk, so
/// that ten thousand small files are not ten thousand hand-offs.
struct Chunk {
    input: usize,
    through: usize,
    bytes: Vec<u8>,
    last: bool,
}

/// A worker hands over the output of the small inputs it read one after
/// the other once it holds this much.
const BATCH_BYTES: usize = 256 << 10;

/// The order of the output: inputs are written whole, in input order,
/// whatever the number of workers. Chunks of later inputs wait in the
/// writer, up to [`MAX_REORDER_BYTES`]; past that, workers on later inputs
/// wait too (the worker on the input being written never does, so the run
/// always moves on).
#[derive(Default)]
struct Order {
    state: Mutex<(usize, usize)>,
    moved: Condvar,
}

/// Output of later inputs held back, at most (then their workers wait).
const MAX_REORDER_BYTES: usize = 64 << 20;

impl Order {
    /// Waits until a chunk of `input` may be handed over.
    fn wait_turn(&self, input: usize, stop: &AtomicBool) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while input != state.0 && state.1 > MAX_REORDER_BYTES && !stop.load(Ordering::Relaxed) {
            state = self.moved.wait_timeout(state, Duration::from_millis(50)).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    fn held(&self, delta: isize, next: usize) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 = next;
        state.1 = state.1.saturating_add_signed(delta);
        self.moved.notify_all();
    }
}

/// Processes `files` on `threads` workers; `write` gets the output, input
/// by input in order.
fn run_files(
    plan: &Plan,
    files: &[(Vec<PathBuf>, u64)],
    threads: usize,
    format: OutputFormat,
    progress: Option<u64>,
    stderr: &mut dyn Write,
    write: &mut dyn FnMut(&[u8]) -> Result<(), Error>,
) -> Result<FilesOutcome, Error> {
    let buffers = Buffers::default();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let done_bytes = AtomicU64::new(0);
    let order = Order::default();
    let (sender, receiver) = mpsc::sync_channel::<Chunk>(CHUNKS_IN_FLIGHT);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.min(files.len()).max(1))
            .map(|_| {
                let sender = sender.clone();
                let (next, stop, done_bytes, buffers, order) = (&next, &stop, &done_bytes, &buffers, &order);
                scope.spawn(move || {
                    let mut processor = Processor::for_encoder(plan);
                    let mut formatter = Encoder::new(format.into());
                    let mut stats = Stats::default();
                    let mut failures = Vec::new();
                    // One read buffer per worker, not per file: zeroing a
                    // fresh megabyte for every file cost more than reading
                    // a small file.
                    let mut read_buf = Vec::new();
                    let send = |input: usize, through: usize, bytes: Vec<u8>, last: bool| {
                        order.wait_turn(input, stop);
                        sender
                            .send(Chunk { input, through, bytes, last })
                            .map_err(|_| Error::Stdout(io::ErrorKind::BrokenPipe.into()))
                    };
                    // The first and the last input whose output the
                    // formatter holds, not yet handed over.
                    let mut batch: Option<(usize, usize)> = None;
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        // Another worker took the inputs in between: hand
                        // over what is held first, the writer needs it.
                        if let Some((first, prev)) = batch
                            && i != prev + 1
                        {
                            batch = None;
                            if send(first, prev, formatter.take_with(buffers.get()), true).is_err() {
                                stop.store(true, Ordering::Relaxed);
                                break;
                            }
                        }
                        let Some((paths, len)) = files.get(i) else { break };
                        let first = batch.map_or(i, |(first, _)| first);
                        // A chain's metadata is its live (last) file's.
                        let Some(path) = paths.last() else {
                            // Nothing to read: the input ends empty.
                            batch = Some((first, i));
                            continue;
                        };
                        let mut file = FileState::from_path(&path.to_string_lossy());
                        let mut from = first;
                        let result = open_chain(paths).and_then(|mut reader| {
                            process(
                                &mut processor,
                                &mut file,
                                &mut reader,
                                &mut formatter,
                                buffers,
                                &mut read_buf,
                                &mut |chunk| {
                                    let sent = send(from, i, chunk, false);
                                    from = i;
                                    sent
                                },
                            )
                        });
                        stats.add(&file.stats);
                        done_bytes.fetch_add(*len, Ordering::Relaxed);
                        formatter.end_input();
                        batch = Some((from, i));
                        let sent = if formatter.len() >= BATCH_BYTES || i + 1 >= files.len() {
                            batch = None;
                            send(from, i, formatter.take_with(buffers.get()), true)
                        } else {
                            Ok(())
                        };
                        match result.and(sent) {
                            Ok(()) => {}
                            Err(e) if e.is_broken_pipe() => {
                                stop.store(true, Ordering::Relaxed);
                                break;
                            }
                            Err(e) => failures.push(e.to_string()),
                        }
                    }
                    if let Some((first, prev)) = batch
                        && !stop.load(Ordering::Relaxed)
                        && let Err(e) = send(first, prev, formatter.take_with(buffers.get()), true)
                        && !e.is_broken_pipe()
                    {
                        failures.push(e.to_string());
                    }
                    (stats, failures)
                })
            })
            .collect();
        drop(sender);
        let mut result = Ok(());
        let mut last = Instant::now();
        // The input being written, and the chunks of later ones.
        let mut current = 0;
        let mut waiting: std::collections::BTreeMap<usize, Vec<Chunk>> = Default::default();
        let mut write_chunk = |chunk: Chunk, result: &mut Result<(), Error>| {
            if result.is_ok()
                && let Err(e) = write(&chunk.bytes)
            {
                stop.store(true, Ordering::Relaxed);
                *result = Err(e);
            }
            buffers.put(chunk.bytes);
        };
        loop {
            match receiver.recv_timeout(Duration::from_millis(200)) {
                Ok(chunk) if chunk.input == current => {
                    // A chunk moves the output on to the input it ends in,
                    // or past it when it ends that input too.
                    let advance = |c: &Chunk| if c.last { c.through + 1 } else { c.through };
                    current = advance(&chunk);
                    write_chunk(chunk, &mut result);
                    let mut freed = 0;
                    while let Some(held) = waiting.remove(&current) {
                        for c in held {
                            freed += c.bytes.len();
                            current = advance(&c);
                            write_chunk(c, &mut result);
                        }
                    }
                    order.held(-(freed as isize), current);
                }
                Ok(chunk) => {
                    order.held(chunk.bytes.len() as isize, current);
                    waiting.entry(chunk.input).or_default().push(chunk);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if let Some(total) = progress
                && last.elapsed() > Duration::from_millis(200)
            {
                last = Instant::now();
                let done = done_bytes.load(Ordering::Relaxed);
                let _ =
                    write!(stderr, "\ruml: {:>5.1}% of {} MB", done as f64 * 100.0 / total.max(1) as f64, total >> 20);
            }
        }
        // What is left (inputs after a failed one): in order.
        for (_, chunks) in std::mem::take(&mut waiting) {
            for c in chunks {
                write_chunk(c, &mut result);
            }
        }
        if progress.is_some() {
            let _ = write!(stderr, "\r\x1b[K");
        }
        // Stop the workers before waiting for them if the output is gone.
        drop(receiver);
        let mut outcome = FilesOutcome { stats: Stats::default(), failures: Vec::new() };
        for w in workers {
            if let Ok((stats, failures)) = w.join() {
                outcome.stats.add(&stats);
                outcome.failures.extend(failures);
            }
        }
        result.map(|()| outcome)
    })
}

/// Reads `reader` line by line through the pipeline, formatting records.
fn process(
    processor: &mut Processor<'_>,
    file: &mut FileState,
    reader: &mut dyn Read,
    formatter: &mut Encoder,
    buffers: &Buffers,
    read_buf: &mut Vec<u8>,
    emit: &mut dyn FnMut(Vec<u8>) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut lines = LineReader::new(reader, read_buf);
    let path = PathBuf::from(file.file_info().file);
    loop {
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                processor.finish(file, &mut |record: &Record, _| formatter.record(record));
                return Err(Error::read(&path, e));
            }
        };
        processor.push(file, line, &mut |record: &Record, _| formatter.record(record));
        if formatter.len() >= OUTPUT_CHUNK {
            emit(formatter.take_with(buffers.get()))?;
        }
    }
    processor.finish(file, &mut |record: &Record, _| formatter.record(record));
    Ok(())
}

/// Output chunks handed back by the writer once written, for the workers to
/// fill again: a chunk taken fresh from the allocator for every 256 KiB of
/// output costs page faults and the kernel's zeroing, on every core.
#[derive(Default)]
struct Buffers(Mutex<Vec<Vec<u8>>>);

impl Buffers {
    fn get(&self) -> Vec<u8> {
        let recycled = self.0.lock().ok().and_then(|mut free| free.pop());
        recycled.unwrap_or_else(|| Vec::with_capacity(CHUNK_CAPACITY))
    }

    fn put(&self, mut chunk: Vec<u8>) {
        chunk.clear();
        if let Ok(mut free) = self.0.lock() {
            // As many as can be in flight, and no more: memory stays bounded.
            if free.len() <= CHUNKS_IN_FLIGHT {
                free.push(chunk);
            }
        }
    }
}

/// Splits a reader into raw lines with a bounded buffer: a line longer than
/// [`MAX_RAW_LINE`] is cut there and the rest of it skipped.
struct LineReader<'r> {
    reader: &'r mut dyn Read,
    /// Borrowed from the caller, to be reused from one file to the next.
    buf: &'r mut Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// Skipping the rest of a line that was too long.
    skipping: bool,
}

impl<'r> LineReader<'r> {
    fn new(reader: &'r mut dyn Read, buf: &'r mut Vec<u8>) -> Self {
        if buf.len() < READ_CHUNK {
            buf.resize(READ_CHUNK, 0);
        }
        LineReader { reader, buf, start: 0, end: 0, eof: false, skipping: false }
    }

    fn next_line(&mut self) -> io::Result<Option<&[u8]>> {
        loop {
            if let Some(at) = memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                let (start, stop) = (self.start, self.start + at);
                self.start = stop + 1;
                if self.skipping {
                    self.skipping = false;
                    continue;
                }
                return Ok(Some(&self.buf[start..stop]));
            }
            if self.eof {
                if self.start < self.end && !self.skipping {
                    let start = self.start;
                    self.start = self.end;
                    return Ok(Some(&self.buf[start..self.end]));
                }
                return Ok(None);
            }
            if self.skipping {
                self.start = self.end;
            } else if self.end - self.start >= MAX_RAW_LINE {
                let start = self.start;
                self.start = self.end;
                self.skipping = true;
                return Ok(Some(&self.buf[start..start + MAX_RAW_LINE]));
            }
            // Make room: keep the unfinished line, read more after it.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.buf.len() - self.end < READ_CHUNK / 2 {
                let grown = (self.buf.len() * 2).min(MAX_RAW_LINE + READ_CHUNK);
                self.buf.resize(grown.max(self.end + READ_CHUNK / 2), 0);
            }
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// The one-line summary: what was read, written and dropped.
fn summary(plan: &Plan, stats: &Stats, elapsed: Duration, rules: &str) -> String {
    let seconds = elapsed.as_secs_f64();
    let mut s = format!(
        "{} read from {} in {}",
        report::count(stats.lines_read as usize, "line"),
        report::count(stats.files as usize, "file"),
        if seconds < 1.0 { format!("{} ms", elapsed.as_millis()) } else { format!("{seconds:.1} s") },
    );
    if seconds > 0.0 && stats.lines_read > 0 {
        let _ = write!(s, " ({} lines/s)", thousands((stats.lines_read as f64 / seconds) as u64));
    }
    let _ = write!(s, "\n  {} written", report::count(stats.records as usize, "record"));
    if stats.lines_in_records != stats.records {
        let _ = write!(s, " (from {})", report::count(stats.lines_in_records as usize, "line"));
    }
    if stats.joined_pieces > 0 {
        let _ = write!(s, ", {} joined", report::count(stats.joined_pieces as usize, "partial piece"));
    }
    if !stats.drops.is_empty() {
        let mut drops: Vec<(String, u64)> = stats.drops.iter().map(|(k, n)| (k.describe(plan), *n)).collect();
        drops.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let width = drops.first().map_or(1, |(_, n)| n.to_string().len());
        let _ = write!(s, "\n  {} dropped:", report::count(stats.dropped() as usize, "line"));
        for (k, n) in drops {
            let _ = write!(s, "\n    {n:>width$}  {k}");
        }
    }
    for (n, noun, what) in [
        (stats.truncated_lines, "line", "cut to 256 KiB"),
        (stats.truncated_records, "record", "cut to max_record_size"),
        (stats.invalid_utf8, "line", "with invalid UTF-8 replaced"),
        (stats.reordered, "line", "let through out of order"),
    ] {
        if n > 0 {
            let _ = write!(s, "\n  {} {what}", report::count(n as usize, noun));
        }
    }
    let _ = write!(s, "\n  rules: {rules}");
    s
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The summary as JSON, for `--stats FILE`.
fn stats_json(plan: &Plan, stats: &Stats) -> String {
    let mut s = String::from("{");
    for (key, n) in [
        ("files", stats.files),
        ("lines_read", stats.lines_read),
        ("records", stats.records),
        ("lines_in_records", stats.lines_in_records),
        ("joined_pieces", stats.joined_pieces),
        ("dropped", stats.dropped()),
        ("truncated_lines", stats.truncated_lines),
        ("truncated_records", stats.truncated_records),
        ("invalid_utf8", stats.invalid_utf8),
        ("reordered", stats.reordered),
    ] {
        let _ = write!(s, "\"{key}\":{n},");
    }
    s.push_str("\"drops\":{");
    let mut drops: Vec<(String, u64)> = stats.drops.iter().map(|(k, n)| (k.describe(plan), *n)).collect();
    drops.sort();
    for (i, (reason, n)) in drops.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let mut key = Vec::new();
        write_json_string(&mut key, reason);
        s.push_str(&String::from_utf8_lossy(&key));
        let _ = write!(s, ":{n}");
    }
    s.push_str("}}\n");
    s
}
