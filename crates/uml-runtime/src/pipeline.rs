//! The stream layer: the raw lines of a log file in, unified records out.
//!
//! ```text
//! raw line ─▶ Framer ─▶ Grouper ─────────────────────────▶ Executor ─▶ Record
//!               │        (each stream as its rule says;     │ (the stream's rule)
//!               │         one queue puts units back in      │
//!               │         the order of their first line)    │
//!               └─ empty, malformed                         └─ unrouted, drop, abort
//! ```
//!
//! One [`Processor`] per thread (it owns the executor and the record), one
//! [`FileState`] per file (framer, routes, grouper, counters). The embedder
//! feeds raw lines with [`Processor::push`] and receives each record in a
//! callback, borrowed: nothing is allocated per line once the buffers have
//! grown. A line that may head a traceback waits for the next line of its
//! stream; [`Processor::settle`], called once what could be read was
//! pushed, sends what waits only for that. For a tailing agent,
//! [`Processor::flush_idle`] closes multiline
//! groups that have been quiet for the rule's `idle` time; at the end of a
//! file, [`Processor::finish`] emits what is still open (a dangling partial
//! line, a traceback cut short).
//!
//! **Order.** A file's records come out in the order of their first raw line
//! (docs/contract.md, "The unified record"). Two things finish units out of
//! that order: a line completed from `P` pieces is framed when its last piece
//! arrives, and a traceback is grouped when the next line of its stream
//! shows it is over; in the meantime the other stream's lines are complete.
//! One stage restores the order: the file's [`Grouper`] queues every unit
//! that starts after a unit still open, whether a group it holds itself or,
//! through [`Grouper::set_barrier`], a line the framer is still joining.
//! The queue is bounded: past it, an open group is cut, and the units
//! waiting only for a line still being joined go out ahead of it (counted
//! as `reordered`).
//!
//! **Accounting.** Nothing is lost silently. Every raw line read is, in the
//! end, in a record, joined into another line as a partial piece, or
//! dropped with a reason ([`Stats::check`] states the law):
//! `lines_read = lines_in_records + joined_pieces + Σ drops`.
//!
//! **Positions, for an agent that must not lose a line.** A tailing agent
//! saves how far it has read, and must never save a point past a line whose
//! record is not yet delivered, nor one inside a line still being joined or
//! a traceback still open. [`Processor::push_at`] takes each raw line with
//! its byte offset in the file; every record comes with its [`Provenance`]:
//! the raw lines behind it ([`Origin`]) and where reading must start again
//! to make it again ([`Provenance::resume`]); and
//! [`FileState::settled_position`] says up to where nothing is pending.
//! Reading again from
//! `min(settled_position, resume of every record not yet delivered)`
//! after a crash repeats only undelivered records, and cuts no line or
//! group in two. The facade crate `uml` shows it end to end ("Following
//! files without losing a line").
//!
//! Units whose raw lines interleave (a line cut into pieces while the other
//! stream writes, a traceback on stderr between stdout lines) form a
//! cluster; a record's `resume` is the first raw line of its cluster, so
//! that reading again never starts between the pieces of a unit already
//! delivered. The guarantee holds while lines come out in order; lines let
//! through out of order past the queue's bound (counted as `reordered`)
//! may, on a restart, be repeated or have a piece read alone.

use crate::exec::{Executor, FileInfo, Line, Outcome, PayloadForm, Record, Route};
use crate::framing::{DropReason, FramedLine, Framer, Origin, Stream, parse_log_path};
use crate::group::{Group, Grouper};
use crate::plan::Plan;

/// Why lines were dropped, as the summary counts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropKind {
    /// The file's name is not a kubelet log file name: no metadata.
    BadFileName,
    /// Framing dropped the raw line (empty, malformed).
    Framing(DropReason),
    /// No rule takes the file's stream.
    Unrouted,
    /// `drop` in a rule: [`Plan::drops`]`[site]`.
    Rule(u32),
    /// A failure nothing handled: [`Plan::aborts`]`[site]`.
    Abort(u32),
    /// The line's values outgrew the executor's working memory.
    TooLarge,
}

impl DropKind {
    /// The reason in words: `empty line`, `unrouted`, `rule build: empty
    /// line`, `rule model_container: abort at rules/…:3:5 (parse_json)`.
    pub fn describe(self, plan: &Plan) -> String {
        match self {
            DropKind::BadFileName => "not a kubelet log file name".into(),
            DropKind::Framing(r) => match r {
                DropReason::EmptyLine => "empty line".into(),
                DropReason::MalformedFraming(e) => format!("malformed framing: {}", e.message()),
            },
            DropKind::Unrouted => Outcome::Unrouted.describe(plan, None),
            DropKind::TooLarge => Outcome::TooLarge.describe(plan, None),
            DropKind::Rule(site) => Outcome::Drop(site).describe(plan, None),
            DropKind::Abort(site) => Outcome::Abort(site).describe(plan, None),
        }
    }
}

/// What happened to the lines of one or more files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub files: u64,
    /// Raw lines read (in the file, each ended by `\n`).
    pub lines_read: u64,
    /// Raw lines that were partial pieces joined to an earlier piece's line.
    pub joined_pieces: u64,
    pub records: u64,
    /// Lines (after framing) that went into records; more than `records`
    /// when multiline groups joined lines.
    pub lines_in_records: u64,
    /// Lines dropped, by reason; in order of first occurrence.
    pub drops: Vec<(DropKind, u64)>,
    /// Lines longer than the framer's maximum, cut.
    pub truncated_lines: u64,
    /// Records whose `message` or `exc_info` was cut to `max_record_size`.
    pub truncated_records: u64,
    /// Lines in which invalid UTF-8 (or a lone surrogate escape) became U+FFFD.
    pub invalid_utf8: u64,
    /// Lines let through ahead of a line still being joined from pieces,
    /// because too much waited for it.
    pub reordered: u64,
}

impl Stats {
    fn drop(&mut self, kind: DropKind, lines: u64) {
        match self.drops.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += lines,
            None => self.drops.push((kind, lines)),
        }
    }

    pub fn dropped(&self) -> u64 {
        self.drops.iter().map(|(_, n)| n).sum()
    }

    /// Adds another file's (or thread's) counts.
    pub fn add(&mut self, other: &Stats) {
        self.files += other.files;
        self.lines_read += other.lines_read;
        self.joined_pieces += other.joined_pieces;
        self.records += other.records;
        self.lines_in_records += other.lines_in_records;
        for &(kind, n) in &other.drops {
            self.drop(kind, n);
        }
        self.truncated_lines += other.truncated_lines;
        self.truncated_records += other.truncated_records;
        self.invalid_utf8 += other.invalid_utf8;
        self.reordered += other.reordered;
    }

    /// The accounting law, once every file is finished: every raw line is
    /// in a record, joined into another line, or dropped with a reason.
    pub fn check(&self) -> Result<(), String> {
        let accounted = self.lines_in_records + self.joined_pieces + self.dropped();
        if accounted == self.lines_read {
            Ok(())
        } else {
            Err(format!(
                "{} lines read, but {} in records + {} joined pieces + {} dropped = {accounted}",
                self.lines_read,
                self.lines_in_records,
                self.joined_pieces,
                self.dropped()
            ))
        }
    }
}

/// What the stream layer knows of a record it hands out, beyond the record
/// itself: for an agent that saves positions and counts lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Provenance {
    /// The raw lines behind the record.
    pub origin: Origin,
    /// Where reading must start again to make this record again: its first
    /// raw line, or an earlier one when lines of an earlier unit lie among
    /// its own (see the module documentation).
    pub resume: u64,
    /// Lines (after framing) in the record: more than one for a group.
    pub lines: u32,
}

/// The span of the units handed out last whose raw lines interleave.
#[derive(Clone, Copy, Debug, Default)]
struct Cluster {
    start: u64,
    /// The last raw line of any unit handed out; `None` before the first.
    end: Option<u64>,
}

impl Cluster {
    /// Adds a finished unit; returns where its cluster starts.
    fn add(&mut self, origin: Origin) -> u64 {
        match self.end {
            Some(end) if origin.first <= end => {
                self.start = self.start.min(origin.first);
                self.end = Some(end.max(origin.last));
            }
            _ => *self = Cluster { start: origin.first, end: Some(origin.last) },
        }
        self.start
    }
}

/// The state of one file.
#[derive(Debug)]
pub struct FileState {
    /// Metadata: pod, namespace, container, container id, path.
    meta: [String; 5],
    bad_name: bool,
    framer: Framer,
    routes: [Option<Route>; 2],
    /// The file's lines after framing: grouped as each stream's rule says,
    /// and put back in the order of their first raw line.
    units: Grouper,
    /// The position after the last raw line pushed.
    next_position: u64,
    cluster: Cluster,
    /// The runtime timestamp of the latest line framed.
    last_timestamp_ns: i64,
    /// A format the caller fixed, over the rule's `framing`.
    forced_format: Option<crate::framing::Format>,
    finished: bool,
    /// Finished: counters of the file.
    pub stats: Stats,
}

impl FileState {
    /// A file known by its kubelet path (`…/<pod>_<namespace>_<container>-<id>.log`,
    /// or `…/<namespace>_<pod>_<uid>/<container>/<restart>.log` in the pods tree).
    /// A name that is not a kubelet name gives a file whose lines are all
    /// dropped as [`DropKind::BadFileName`].
    pub fn from_path(path: &str) -> FileState {
        match parse_log_path(path) {
            Ok(m) => FileState::new(&FileInfo {
                pod: m.pod,
                namespace: m.namespace,
                container: m.container,
                container_id: m.container_id,
                file: path,
            }),
            Err(_) => {
                let mut f = FileState::new(&FileInfo { file: path, ..FileInfo::default() });
                f.bad_name = true;
                f
            }
        }
    }

    /// A file with metadata given directly (standard input, tests).
    pub fn new(info: &FileInfo<'_>) -> FileState {
        FileState {
            meta: [info.pod, info.namespace, info.container, info.container_id, info.file].map(str::to_string),
            bad_name: false,
            framer: Framer::new(None),
            routes: [None, None],
            units: Grouper::per_stream([None, None]),
            next_position: 1,
            cluster: Cluster::default(),
            last_timestamp_ns: i64::MIN,
            forced_format: None,
            finished: false,
            stats: Stats { files: 1, ..Stats::default() },
        }
    }

    /// The same file, framed as `format` whatever its rule says (standard
    /// input given as unframed text: `uml run --framing raw`).
    pub fn with_format(mut self, format: crate::framing::Format) -> FileState {
        self.forced_format = Some(format);
        self
    }

    /// The same file, read from `position` on with [`Processor::push_at`]:
    /// [`FileState::settled_position`] is `position` until a line is pushed.
    pub fn starting_at(mut self, position: u64) -> FileState {
        self.next_position = position;
        self
    }

    /// The position up to which nothing is pending: every raw line before
    /// it is in a record already handed out or was dropped, and no line,
    /// piece or group still held began before it (nor one that interleaves
    /// with such a unit). After the last raw line pushed when nothing is held.
    pub fn settled_position(&self) -> u64 {
        let open = [self.framer.first_open_line(), self.units.oldest_held()].into_iter().flatten().min();
        match open {
            None => self.next_position,
            Some(first) if self.cluster.end.is_some_and(|end| first <= end) => first.min(self.cluster.start),
            Some(first) => first,
        }
    }

    /// The runtime timestamp of the latest line framed, `i64::MIN` before
    /// the first: where the lines' clock stood when the file was last read,
    /// for [`Processor::flush_idle`].
    pub fn last_timestamp(&self) -> i64 {
        self.last_timestamp_ns
    }

    /// The counters so far, while the file is still read: the pieces
    /// joined and the empty lines dropped, which [`Processor::finish`]
    /// counts at the end, counted up to now.
    pub fn current_stats(&self) -> Stats {
        let mut stats = self.stats.clone();
        if !self.finished {
            stats.reordered = self.units.reordered();
            let c = self.framer.counters();
            stats.joined_pieces = c.framed_pieces - c.framed_lines;
            if c.dropped_empty > 0 {
                stats.drop(DropKind::Framing(DropReason::EmptyLine), c.dropped_empty);
            }
        }
        stats
    }

    /// Raw lines pushed whose outcome is not known yet: pieces of open
    /// lines, lines in open groups, lines waiting for an earlier unit.
    pub fn pending_lines(&self) -> u64 {
        self.framer.pending_pieces() + self.units.buffered_lines() as u64
    }

    fn info(&self) -> FileInfo<'_> {
        FileInfo {
            pod: &self.meta[0],
            namespace: &self.meta[1],
            container: &self.meta[2],
            container_id: &self.meta[3],
            file: &self.meta[4],
        }
    }

    /// The pod, namespace and container, as routing sees them.
    pub fn file_info(&self) -> FileInfo<'_> {
        self.info()
    }
}

/// Runs files through a plan; one per thread.
pub struct Processor<'p> {
    executor: Executor<'p>,
    record: Record,
}

impl<'p> Processor<'p> {
    /// A processor whose records hold their payload as JSON.
    pub fn new(plan: &'p Plan) -> Processor<'p> {
        Processor { executor: Executor::new(plan), record: Record::default() }
    }

    /// A processor whose records hold their payload escaped, for an
    /// [`Encoder`](crate::output::Encoder) to embed as it is: the payload
    /// is written once instead of written and then escaped.
    pub fn for_encoder(plan: &'p Plan) -> Processor<'p> {
        Processor { executor: Executor::new(plan), record: Record::with_form(PayloadForm::Escaped) }
    }

    pub fn executor(&self) -> &Executor<'p> {
        &self.executor
    }

    /// Reads one raw line of `file`; `sink` gets every record it completes.
    /// Positions are line numbers: the first raw line pushed is 1.
    pub fn push(&mut self, file: &mut FileState, raw: &[u8], sink: &mut dyn FnMut(&Record, Provenance)) {
        let at = file.next_position;
        self.push_raw(file, raw, at, at + 1, sink);
    }

    /// Reads the raw line that starts at byte `offset` of `file` (`raw`
    /// with its `\n`, if it has one); `sink` gets every record it
    /// completes. Offsets grow from one call to the next.
    pub fn push_at(
        &mut self,
        file: &mut FileState,
        raw: &[u8],
        offset: u64,
        sink: &mut dyn FnMut(&Record, Provenance),
    ) {
        self.push_raw(file, raw, offset, offset + raw.len() as u64, sink);
    }

    /// [`Processor::push_at`] for a raw line of which `raw` is only the
    /// start (a reader keeps a bounded prefix of an over-long line): the
    /// line itself lies at `start..end` of the file.
    pub fn push_raw(
        &mut self,
        file: &mut FileState,
        raw: &[u8],
        at: u64,
        end: u64,
        sink: &mut dyn FnMut(&Record, Provenance),
    ) {
        file.next_position = end;
        if file.bad_name {
            file.stats.lines_read += 1;
            file.stats.drop(DropKind::BadFileName, 1);
            return;
        }
        if file.routes[0].is_none() {
            self.open(file);
        }
        let FileState { framer, routes, units, stats, cluster, last_timestamp_ns, .. } = file;
        stats.lines_read += 1;
        let mut out = Out { executor: &mut self.executor, record: &mut self.record, stats, cluster, sink };
        match framer.push_at(raw, at) {
            Some(Ok(framed)) => {
                *last_timestamp_ns = (*last_timestamp_ns).max(framed.timestamp_ns);
                count_framed(out.stats, &framed);
                let origin = Origin { first: framed.first_line, last: framed.last_line };
                // While the line's own pieces were the barrier, it passes it.
                units.push_at(framed.stream, framed.timestamp_ns, framed.text, origin, &mut |g: Group<'_>| {
                    out.apply(routes, g)
                });
            }
            None => {}
            // Empty lines are counted from the framer's counters at the end
            // (a line of several empty pieces counts each piece).
            Some(Err(DropReason::EmptyLine)) => {
                out.cluster.add(Origin::at(at));
            }
            Some(Err(reason)) => {
                out.cluster.add(Origin::at(at));
                out.stats.drop(DropKind::Framing(reason), 1);
            }
        }
        // A piece opened a line, or a line was completed: units that start
        // after a line still being joined wait for it.
        units.set_barrier(framer.first_open_line(), &mut |g: Group<'_>| out.apply(routes, g));
    }

    /// Sends the records of `file`'s lines that wait only for the next line
    /// to show whether they could be a traceback's head ([`Grouper::settle`]).
    /// A tailing agent calls it at the end of what it read, so that such a
    /// line does not wait for the next write, or for `idle`; the records
    /// are the same whether and whenever it is called.
    pub fn settle(&mut self, file: &mut FileState, sink: &mut dyn FnMut(&Record, Provenance)) {
        if file.finished {
            return;
        }
        let FileState { routes, units, stats, cluster, .. } = file;
        let mut out = Out { executor: &mut self.executor, record: &mut self.record, stats, cluster, sink };
        units.settle(&mut |g: Group<'_>| out.apply(routes, g));
    }

    /// Closes the multiline groups of `file` quiet since before `now_ns`
    /// (on the lines' clock), for an agent tailing a file.
    pub fn flush_idle(&mut self, file: &mut FileState, now_ns: i64, sink: &mut dyn FnMut(&Record, Provenance)) {
        let FileState { routes, units, stats, cluster, .. } = file;
        let mut out = Out { executor: &mut self.executor, record: &mut self.record, stats, cluster, sink };
        units.flush_idle(now_ns, &mut |g: Group<'_>| out.apply(routes, g));
    }

    /// The first time, on the lines' clock, at which [`Processor::flush_idle`]
    /// has a group of `file` to close; `None` while no group is open.
    pub fn next_deadline(file: &FileState) -> Option<i64> {
        file.units.next_deadline()
    }

    /// The end of `file`: emits the lines and groups still open, and checks
    /// the accounting. Returns the file's counters.
    pub fn finish(&mut self, file: &mut FileState, sink: &mut dyn FnMut(&Record, Provenance)) -> Stats {
        if !file.bad_name && file.routes[0].is_some() {
            // Dangling partial lines, oldest first, each ahead of the units
            // that waited for it.
            loop {
                let FileState { framer, routes, units, stats, cluster, .. } = file;
                let mut out = Out { executor: &mut self.executor, record: &mut self.record, stats, cluster, sink };
                units.set_barrier(framer.first_open_line(), &mut |g: Group<'_>| out.apply(routes, g));
                let framed = match framer.finish() {
                    None => break,
                    Some(Err(DropReason::EmptyLine)) => continue,
                    Some(Err(reason)) => {
                        out.stats.drop(DropKind::Framing(reason), 1);
                        continue;
                    }
                    Some(Ok(line)) => line,
                };
                count_framed(out.stats, &framed);
                let origin = Origin { first: framed.first_line, last: framed.last_line };
                units.push_at(framed.stream, framed.timestamp_ns, framed.text, origin, &mut |g: Group<'_>| {
                    out.apply(routes, g)
                });
            }
            let FileState { routes, units, stats, cluster, .. } = file;
            let mut out = Out { executor: &mut self.executor, record: &mut self.record, stats, cluster, sink };
            units.finish(&mut |g: Group<'_>| out.apply(routes, g));
            file.stats.reordered = file.units.reordered();
            file.finished = true;
            let c = *file.framer.counters();
            file.stats.joined_pieces = c.framed_pieces - c.framed_lines;
            if c.dropped_empty > 0 {
                file.stats.drop(DropKind::Framing(DropReason::EmptyLine), c.dropped_empty);
            }
        }
        file.stats.clone()
    }

    /// Routes both streams of a new file, and picks its framing.
    fn open(&mut self, file: &mut FileState) {
        let info = file.info();
        let routes = [Stream::Stdout, Stream::Stderr].map(|s| self.executor.route(&info, s));
        let plan = self.executor.plan();
        let framing = routes.iter().find_map(|r| r.rule()).and_then(|r| plan.rules[usize::from(r)].framing);
        file.framer = Framer::new(file.forced_format.or(framing));
        let grouping =
            routes.each_ref().map(|r| r.rule().and_then(|rule| plan.rules[usize::from(rule)].multiline.as_ref()));
        file.units = Grouper::per_stream(grouping);
        file.routes = routes.map(Some);
    }
}

/// Where the units of a file go: the executor, the counters, the cluster
/// of interleaved units, and the caller's sink.
struct Out<'a, 'p, 's> {
    executor: &'a mut Executor<'p>,
    record: &'a mut Record,
    stats: &'a mut Stats,
    cluster: &'a mut Cluster,
    sink: &'a mut (dyn FnMut(&Record, Provenance) + 's),
}

impl Out<'_, '_, '_> {
    /// Runs the rule on a group; a record goes to the sink, anything else
    /// is counted.
    fn apply(&mut self, routes: &[Option<Route>; 2], g: Group<'_>) {
        let Some(route) = &routes[g.stream as usize] else {
            debug_assert!(false, "a unit of a file that was not opened");
            return;
        };
        let line = Line { text: g.line, traceback: g.traceback, timestamp: g.timestamp_ns };
        let resume = self.cluster.add(g.origin);
        let lines = u64::from(g.lines);
        let stats = &mut *self.stats;
        match self.executor.apply(route, line, self.record) {
            Outcome::Record => {
                stats.records += 1;
                stats.lines_in_records += lines;
                stats.truncated_records += u64::from(self.record.truncated());
                (self.sink)(self.record, Provenance { origin: g.origin, resume, lines: g.lines });
            }
            Outcome::Drop(site) => stats.drop(DropKind::Rule(site), lines),
            Outcome::Abort(site) => stats.drop(DropKind::Abort(site), lines),
            Outcome::Unrouted => stats.drop(DropKind::Unrouted, lines),
            Outcome::TooLarge => stats.drop(DropKind::TooLarge, lines),
        }
    }
}

fn count_framed(stats: &mut Stats, framed: &FramedLine<'_>) {
    stats.truncated_lines += u64::from(framed.truncated);
    stats.invalid_utf8 += u64::from(framed.replaced_invalid_utf8);
}
