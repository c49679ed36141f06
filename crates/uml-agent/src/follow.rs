//! Following one container log through kubelet's rotations.
//!
//! A [`Follower`] reads the files (segments) of one [`LogStream`] in the
//! order the container wrote them: the rotated files oldest first, then the
//! live file, as it grows. It hands every complete raw line to the stream
//! layer with its position, so that one `FileState` sees the container's
//! whole output: a traceback or a line cut into pieces that straddles a
//! rotation comes out whole.
//!
//! **Positions.** A raw line's position is `(segment ordinal << 40) |
//! byte offset`: ordinals count the segments in reading order, so
//! positions grow from one segment to the next, and a checkpoint names a
//! segment and an offset in it ([`Follower::checkpoint`]). A segment's
//! ordinal is given when reading reaches it; segments not yet started have
//! none, so a file a scan finds late takes its place in order.
//!
//! **Rotation.** Kubelet renames the live file (same inode) and the runtime
//! opens a new one; the renamed file is finished once a newer segment
//! exists and the renamed one is read to its end. A rotated file compressed
//! meanwhile is read from its `.gz`, decompressed (the same bytes, so the
//! same offsets). A segment is known by device and inode, its rotation stamp,
//! and a fingerprint of its first bytes; a live file shorter than the
//! position read is truncated, and is read again from its start (counted).
//!
//! **Descriptors.** A follower holds at most one file open, the segment it
//! reads, and the agent closes the descriptors of caught-up live files
//! ([`Follower::close_if_idle`]): a node with thousands of containers costs
//! a `stat` per file per scan, not a descriptor.

use crate::discover::{LogStream, SegmentFile};
use crate::metrics::Metrics;
use crate::state::{FINGERPRINT_BYTES, Fingerprint, Position};
use flate2::read::MultiGzDecoder;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};
use uml::runtime::exec::{FileInfo, Record};
use uml::runtime::pipeline::{FileState, Processor, Provenance};

/// Bits of a position that hold the byte offset: 1 TiB per file.
pub const OFFSET_BITS: u32 = 40;

/// The longest raw line kept whole; the rest of a longer one is skipped
/// (CRI and docker cut lines at 16 KiB, so only broken input comes near).
pub const MAX_RAW_LINE: usize = 1 << 20;

fn position(ordinal: u32, offset: u64) -> u64 {
    (u64::from(ordinal) << OFFSET_BITS) | offset
}

fn split(position: u64) -> (u32, u64) {
    ((position >> OFFSET_BITS) as u32, position & ((1 << OFFSET_BITS) - 1))
}

/// Where the records of a follower go: the batch being built. Returns the
/// number of the batch the record went into.
pub trait Outbox {
    fn add(&mut self, record: &Record, provenance: Provenance) -> u64;
}

/// One file of the stream.
#[derive(Debug)]
struct Segment {
    /// Given when reading reaches the segment.
    ordinal: Option<u32>,
    path: PathBuf,
    rotated: Option<String>,
    compressed: bool,
    dev: u64,
    ino: u64,
    len: u64,
    modified: Option<SystemTime>,
    fingerprint: Option<Fingerprint>,
    /// When a scan last missed it (deleted, or replaced by its `.gz`).
    gone_since: Option<Instant>,
}

impl Segment {
    fn of(file: &SegmentFile) -> Segment {
        // The first bytes, so that a later file with the same inode number
        // is not taken for this one.
        let fingerprint = fingerprint(&file.path, file.compressed, (file.dev, file.ino), FINGERPRINT_BYTES).ok();
        Segment {
            ordinal: None,
            path: file.path.clone(),
            rotated: file.rotated.clone(),
            compressed: file.compressed,
            dev: file.dev,
            ino: file.ino,
            len: file.len,
            modified: file.modified,
            fingerprint,
            gone_since: None,
        }
    }

    fn is_live(&self) -> bool {
        self.rotated.is_none()
    }

    /// What a scan says of the file now.
    fn take_file(&mut self, file: &SegmentFile) {
        self.path.clone_from(&file.path);
        self.rotated.clone_from(&file.rotated);
        self.compressed = file.compressed;
        self.dev = file.dev;
        self.ino = file.ino;
        self.len = file.len;
        self.modified = file.modified;
        self.gone_since = None;
    }

    fn name(&self) -> String {
        self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }
}

/// An open segment.
enum Reader {
    Plain(File),
    Gz(Box<MultiGzDecoder<File>>),
}

impl Read for Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Reader::Plain(f) => f.read(buf),
            Reader::Gz(g) => g.read(buf),
        }
    }
}

/// Opens a segment at `offset` (decompressing and skipping for a `.gz`).
fn open_at(path: &Path, compressed: bool, offset: u64) -> io::Result<(Reader, std::fs::Metadata)> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if compressed {
        let mut gz = Box::new(MultiGzDecoder::new(file));
        let skipped = io::copy(&mut (&mut gz).take(offset), &mut io::sink())?;
        if skipped < offset {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the compressed file is shorter than the position",
            ));
        }
        Ok((Reader::Gz(gz), meta))
    } else {
        use std::io::Seek;
        let mut file = file;
        file.seek(io::SeekFrom::Start(offset))?;
        Ok((Reader::Plain(file), meta))
    }
}

/// The fingerprint of the first `len` bytes (at most [`FINGERPRINT_BYTES`])
/// of the file at `path`, if it is still the file with device and inode
/// `id`: between a scan's `stat` and this `open`, a rotation may have given
/// the name to the next file, and a fingerprint of that one would make a
/// restart resume in the wrong file.
fn fingerprint(path: &Path, compressed: bool, id: (u64, u64), len: usize) -> io::Result<Fingerprint> {
    let (reader, meta) = open_at(path, compressed, 0)?;
    if (meta.dev(), meta.ino()) != id {
        return Err(io::Error::new(io::ErrorKind::NotFound, "the name is another file's now"));
    }
    match reader {
        Reader::Plain(file) => Ok(first_bytes(&file, len)),
        gz => Fingerprint::of(&mut gz.take(len.min(FINGERPRINT_BYTES) as u64)),
    }
}

/// The fingerprint of an open file's first `len` bytes (at most
/// [`FINGERPRINT_BYTES`]), whatever its name is now.
fn first_bytes(file: &File, len: usize) -> Fingerprint {
    use std::os::unix::fs::FileExt;
    let mut buf = [0u8; FINGERPRINT_BYTES];
    let want = len.min(FINGERPRINT_BYTES);
    let mut n = 0;
    while n < want {
        match file.read_at(&mut buf[n..want], n as u64) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    Fingerprint::of_bytes(&buf[..n])
}

/// Whether a scanned file with a known segment's inode is still that
/// segment: an inode number is given again once a file is deleted. A file
/// renamed (rotated), compressed or shorter than before has its first bytes
/// compared; one that only grew under the same name is taken as it is.
fn still_same(segment: &Segment, file: &SegmentFile) -> bool {
    let changed = segment.rotated != file.rotated || segment.compressed != file.compressed || file.len < segment.len;
    match segment.fingerprint {
        Some(fp) if changed && fp.len > 0 => {
            fingerprint(&file.path, file.compressed, (file.dev, file.ino), fp.len as usize).is_ok_and(|f| f == fp)
        }
        _ => true,
    }
}

/// Whether an open file starts with the bytes `fingerprint` covers (true
/// when there is no fingerprint, or an empty one, to compare).
fn starts_with(reader: &Reader, fingerprint: Option<Fingerprint>) -> bool {
    let (Reader::Plain(file), Some(fp)) = (reader, fingerprint) else { return true };
    fp.len == 0 || first_bytes(file, fp.len as usize) == fp
}

/// Where a position saved on an empty file resumes: at that file if it was
/// a rotated one and is still there, else at the first file rotated after
/// the one before it, else at the live file. Segments come in writing
/// order, the live file last.
fn resume_by_order(segments: &VecDeque<Segment>, saved: &Position) -> Option<usize> {
    segments.iter().position(|s| match (&s.rotated, &saved.rotated, &saved.after) {
        (None, _, _) | (Some(_), None, None) => true,
        (Some(stamp), Some(own), _) => stamp >= own,
        (Some(stamp), None, Some(after)) => stamp > after,
    })
}

/// The newest rotation stamp among `segments`.
fn newest_stamp<'s>(segments: impl IntoIterator<Item = &'s Segment>) -> Option<String> {
    segments.into_iter().filter_map(|s| s.rotated.as_ref()).max().cloned()
}

/// Whether the segment's first bytes are those a position was saved with.
fn same_file(segment: &Segment, saved: &Fingerprint) -> bool {
    fingerprint(&segment.path, segment.compressed, (segment.dev, segment.ino), saved.len as usize)
        .is_ok_and(|fp| fp == *saved)
}

/// The context of a read: the thread's processor and buffers.
pub struct ReadCx<'a, 'p> {
    pub processor: &'a mut Processor<'p>,
    pub chunk: &'a mut [u8],
    pub outbox: &'a mut dyn Outbox,
    pub metrics: &'a Metrics,
    /// Read at most this many bytes in this call.
    pub max_bytes: usize,
}

/// What a read did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadOutcome {
    pub bytes: usize,
    /// The follower is at the end of what is written.
    pub caught_up: bool,
}

/// The reader of one container log.
pub struct Follower {
    pub key: String,
    namespace: String,
    pod: String,
    container: String,
    container_id: String,
    live_path: String,
    /// From the segment the checkpoint may lie in, to the newest known.
    segments: VecDeque<Segment>,
    /// Index in `segments` of the one being read.
    current: usize,
    next_ordinal: u32,
    reader: Option<Reader>,
    /// Bytes of the current segment consumed (pushed, or in `remainder`).
    offset: u64,
    /// An incomplete raw line: the bytes before `offset`.
    remainder: Vec<u8>,
    /// Bytes of an over-long raw line not kept.
    skipped: u64,
    /// Made when the first line is pushed, from `start`.
    file: Option<FileState>,
    start: u64,
    /// `(batch, resume)`: the earliest resume of this stream's records in
    /// each batch not yet acknowledged.
    inflight: VecDeque<(u64, u64)>,
    /// When lines were last pushed, and the lines' clock then.
    last_push: Option<(Instant, i64)>,
    /// The lines' clock after the last line pushed.
    last_push_ts: i64,
    /// The scan did not find the stream (the pod was deleted).
    gone: bool,
    /// A newer restart of the container exists: this one writes no more.
    superseded: bool,
    /// The newest rotation stamp any scan showed: a rotated file with a
    /// newer one is new since then.
    newest_stamp: Option<String>,
    /// The newest rotation stamp of the segments forgotten as done (or
    /// skipped): what the first segment kept comes after.
    before: Option<String>,
    /// The stream layer was finished: nothing more comes.
    ended: bool,
    /// A scan found the live file truncated in place (its inode at the
    /// live path, other first bytes, no rotated file where they went).
    truncate_pending: bool,
    /// Counters already added to the metrics.
    reported: uml::runtime::pipeline::Stats,
    last_read: Instant,
}

impl Follower {
    /// A follower of `stream`, from the saved position if there is one;
    /// else from the start of every file (or, with `ignore_older`, only of
    /// files modified since then, the live file from its end otherwise).
    pub fn new(
        stream: &LogStream,
        saved: Option<&Position>,
        ignore_older: Option<SystemTime>,
        metrics: &Metrics,
    ) -> Follower {
        // A rotated file and its compressed copy, both there while kubelet
        // compresses: one segment, the original (the scan puts it first).
        let mut files = stream.segments.iter().peekable();
        let mut segments = VecDeque::with_capacity(stream.segments.len());
        while let Some(file) = files.next() {
            if file.rotated.is_some() && files.peek().is_some_and(|next| next.rotated == file.rotated) {
                files.next();
            }
            segments.push_back(Segment::of(file));
        }
        let mut offset = 0;
        let mut before = None;
        match saved {
            Some(saved) => {
                // A file too short for the position, or whose fingerprint
                // covers less than the position's bytes, cannot be told apart.
                let covers = saved.fingerprint.len as u64 >= saved.offset.min(FINGERPRINT_BYTES as u64);
                let same_file = |s: &Segment, fp: &Fingerprint| covers && same_file(s, fp);
                let found = if saved.fingerprint.len == 0 && saved.offset == 0 {
                    // Saved before anything was written to the file: no
                    // first bytes to know it by, and its inode number may be
                    // a newer file's by now. It is found by order.
                    resume_by_order(&segments, saved)
                } else {
                    segments
                        .iter()
                        .position(|s| s.dev == saved.dev && s.ino == saved.ino && same_file(s, &saved.fingerprint))
                        .or_else(|| {
                            let stamp = saved.rotated.as_ref()?;
                            segments
                                .iter()
                                .position(|s| s.rotated.as_ref() == Some(stamp) && same_file(s, &saved.fingerprint))
                        })
                        .or_else(|| segments.iter().position(|s| same_file(s, &saved.fingerprint)))
                };
                match found {
                    Some(i) => {
                        before = newest_stamp(segments.range(..i)).or_else(|| saved.after.clone());
                        segments.drain(..i);
                        offset = saved.offset;
                        if crate::log::tracing() {
                            crate::log::info(
                                "resuming",
                                &[
                                    ("stream", &stream.key),
                                    ("file", &segments[0].path.display()),
                                    ("ino", &segments[0].ino),
                                    ("offset", &offset),
                                    ("segments", &segments.len()),
                                    ("saved", &format!("{saved:?}")),
                                    ("before", &format!("{before:?}")),
                                ],
                            );
                        }
                    }
                    None => {
                        // Gone while the agent was away: kubelet deletes the
                        // oldest files first, so every file left is newer.
                        metrics.abandoned("missing", saved.len.saturating_sub(saved.offset));
                        crate::log::warn(
                            "a saved position's file is gone; reading the container's files that remain",
                            &[
                                ("stream", &stream.key),
                                ("file", &saved.file),
                                ("unread_bytes", &saved.len.saturating_sub(saved.offset)),
                            ],
                        );
                    }
                }
            }
            None => {
                if let Some(cutoff) = ignore_older {
                    let old = |s: &Segment| s.modified.is_some_and(|m| m < cutoff);
                    while segments.len() > 1 && old(&segments[0]) {
                        before = segments.pop_front().and_then(|s| s.rotated);
                    }
                    if segments.len() == 1 && old(&segments[0]) && segments[0].is_live() {
                        offset = segments[0].len;
                    }
                }
            }
        }
        let mut follower = Follower {
            key: stream.key.clone(),
            namespace: stream.namespace.clone(),
            pod: stream.pod.clone(),
            container: stream.container.clone(),
            container_id: stream.container_id.clone(),
            live_path: stream.live_path.to_string_lossy().into_owned(),
            segments,
            current: 0,
            next_ordinal: 0,
            reader: None,
            offset,
            remainder: Vec::new(),
            skipped: 0,
            file: None,
            start: 0,
            inflight: VecDeque::new(),
            last_push: None,
            last_push_ts: i64::MIN,
            gone: false,
            superseded: false,
            newest_stamp: stream.segments.iter().filter_map(|s| s.rotated.clone()).max(),
            before,
            ended: false,
            truncate_pending: false,
            reported: Default::default(),
            last_read: Instant::now(),
        };
        if let Some(first) = follower.segments.front_mut() {
            first.ordinal = Some(0);
            follower.next_ordinal = 1;
        }
        follower.start = position(0, offset);
        follower
    }

    /// Takes a new scan of the stream into account (`None`: not found).
    pub fn sync(&mut self, stream: Option<&LogStream>, superseded: bool, now: Instant) {
        self.superseded = superseded;
        let Some(stream) = stream else {
            self.gone = true;
            for s in &mut self.segments {
                s.gone_since.get_or_insert(now);
            }
            return;
        };
        self.gone = false;
        if self.container_id.is_empty() {
            self.container_id.clone_from(&stream.container_id);
        }
        let mut seen = vec![false; self.segments.len()];
        let mut used = vec![false; stream.segments.len()];
        self.follow_live_file(stream, &mut seen, &mut used);
        for (j, file) in stream.segments.iter().enumerate() {
            if used[j] {
                continue;
            }
            // Only the segment being read and the ones after it are looked
            // up: the files before it are done, and their inode numbers may
            // already be a new file's.
            let from = self.current.min(self.segments.len());
            let later = || self.segments.iter().enumerate().skip(from);
            let known = later()
                .find(|(_, s)| s.dev == file.dev && s.ino == file.ino && still_same(s, file))
                .or_else(|| {
                    // A rotated file's compressed copy, when the original is
                    // gone or not yet opened.
                    later().find(|(_, s)| {
                        s.rotated.is_some() && s.rotated == file.rotated && file.compressed && !s.compressed
                    })
                })
                .map(|(i, _)| i);
            match known {
                Some(i) => {
                    let s = &mut self.segments[i];
                    if s.ino != file.ino && i == self.current && self.reader.is_some() {
                        // The original is open: read it to its end.
                        seen[i] = true;
                        continue;
                    }
                    s.take_file(file);
                    seen[i] = true;
                }
                None => {
                    // A compressed copy of a file already known, kept beside
                    // it for a moment: not a new segment.
                    if file.compressed && self.segments.iter().any(|s| s.rotated.is_some() && s.rotated == file.rotated)
                    {
                        continue;
                    }
                    // Rotated files seen before are done, being read, or
                    // were skipped.
                    if let Some(stamp) = &file.rotated
                        && self.newest_stamp.as_ref().is_some_and(|newest| stamp <= newest)
                    {
                        if crate::log::tracing() {
                            crate::log::info(
                                "passing over a rotated file seen before",
                                &[("stream", &self.key), ("file", &file.path.display())],
                            );
                        }
                        continue;
                    }
                    if crate::log::tracing() {
                        crate::log::info(
                            "a new log file",
                            &[("stream", &self.key), ("file", &file.path.display()), ("ino", &file.ino)],
                        );
                    }
                    self.segments.push_back(Segment::of(file));
                    seen.push(true);
                }
            }
        }
        if let Some(newest) = stream.segments.iter().filter_map(|s| s.rotated.as_ref()).max()
            && self.newest_stamp.as_ref().is_none_or(|n| newest > n)
        {
            self.newest_stamp = Some(newest.clone());
        }
        for (i, s) in self.segments.iter_mut().enumerate() {
            if !seen[i] {
                s.gone_since.get_or_insert(now);
            }
        }
        // Not yet started segments in writing order: rotated by stamp, the live file last.
        let from = (self.current + 1).min(self.segments.len());
        self.segments.make_contiguous()[from..]
            .sort_by(|a, b| (a.is_live(), &a.rotated).cmp(&(b.is_live(), &b.rotated)));
    }

    /// The live file known (the last segment, if it is live) in a new scan.
    /// Still at the live path: the same file. Renamed: kubelet rotated it,
    /// and, whatever inode numbers say (a deleted file's number is given to
    /// the next new file), it is the oldest of the rotated files that are
    /// newer than any seen before, for only one file is live at a time.
    fn follow_live_file(&mut self, stream: &LogStream, seen: &mut [bool], used: &mut [bool]) {
        let Some(last) = self.segments.len().checked_sub(1) else { return };
        if last < self.current || !self.segments[last].is_live() {
            return;
        }
        let s = &self.segments[last];
        if let Some(j) = stream.segments.iter().position(|f| f.rotated.is_none()) {
            let f = &stream.segments[j];
            if f.dev == s.dev && f.ino == s.ino && still_same(s, f) {
                self.segments[last].take_file(f);
                seen[last] = true;
                used[j] = true;
                return;
            }
        }
        let newer = |f: &&SegmentFile| {
            f.rotated.as_ref().is_some_and(|stamp| self.newest_stamp.as_ref().is_none_or(|n| stamp > n))
        };
        let Some(stamp) = stream.segments.iter().find(newer).and_then(|f| f.rotated.clone()) else {
            // No rotation: if the live path still has our inode with other
            // first bytes, the file was truncated in place and written again.
            let same_inode = stream.segments.iter().any(|f| f.rotated.is_none() && f.dev == s.dev && f.ino == s.ino);
            if same_inode && last == self.current {
                self.truncate_pending = true;
                seen[last] = true;
            }
            return;
        };
        let copies: Vec<usize> =
            (0..stream.segments.len()).filter(|&j| stream.segments[j].rotated.as_ref() == Some(&stamp)).collect();
        // The original (same inode) if it is there, else the uncompressed copy, else the compressed one.
        let pick = copies
            .iter()
            .copied()
            .find(|&j| stream.segments[j].ino == s.ino)
            .or_else(|| copies.iter().copied().find(|&j| !stream.segments[j].compressed))
            .or_else(|| copies.first().copied());
        for &j in &copies {
            used[j] = true;
        }
        seen[last] = true;
        let open = last == self.current && self.reader.is_some();
        let s = &mut self.segments[last];
        match pick {
            Some(j) if !open || stream.segments[j].ino == s.ino => s.take_file(&stream.segments[j]),
            // Read on from the open original; only its name changed.
            _ => s.rotated = Some(stamp),
        }
    }

    /// Completes the fingerprint of segment `i` while it covers fewer bytes
    /// than a full one: from the open file when it is the one being read
    /// (its name may be another file's by now), else from its path if the
    /// file there is still the segment's.
    fn refresh_fingerprint(&mut self, i: usize) {
        if self.segments[i].fingerprint.is_some_and(|f| f.is_full()) {
            return;
        }
        let fp = match &self.reader {
            Some(Reader::Plain(f)) if i == self.current => Some(first_bytes(f, FINGERPRINT_BYTES)),
            _ => {
                let s = &self.segments[i];
                fingerprint(&s.path, s.compressed, (s.dev, s.ino), FINGERPRINT_BYTES).ok()
            }
        };
        if let Some(fp) = fp {
            self.segments[i].fingerprint = Some(fp);
        }
    }

    /// Whether everything is read, finished and acknowledged: the follower
    /// can go, and its position with it.
    pub fn is_done(&self) -> bool {
        self.ended && self.inflight.is_empty()
    }

    /// The batch this stream's newest record not yet acknowledged went into.
    pub fn last_batch(&self) -> Option<u64> {
        self.inflight.back().map(|(b, _)| *b)
    }

    pub fn holds_open_file(&self) -> bool {
        self.reader.is_some()
    }

    /// Bytes written and not yet read.
    pub fn bytes_behind(&self) -> u64 {
        let mut behind = 0;
        for (i, s) in self.segments.iter().enumerate().skip(self.current) {
            behind += if i == self.current { s.len.saturating_sub(self.offset) } else { s.len };
        }
        behind
    }

    pub fn container(&self) -> &str {
        &self.container
    }

    /// Whether a read may find something: bytes behind, a stream that
    /// ended, or an open file (its growth shows only on reading).
    pub fn wants_read(&self) -> bool {
        !self.ended && (self.reader.is_some() || self.bytes_behind() > 0 || self.gone || self.superseded)
    }

    /// Closes a caught-up live file not read for `idle`: its growth shows
    /// in the next scan.
    pub fn close_if_idle(&mut self, idle: Duration, now: Instant) -> bool {
        let live = self.segments.get(self.current).is_some_and(|s| s.is_live() && s.gone_since.is_none());
        if self.reader.is_some() && live && now.duration_since(self.last_read) >= idle {
            self.reader = None;
            return true;
        }
        false
    }

    /// Reads what is there, up to `cx.max_bytes`, and pushes its lines.
    pub fn read(&mut self, cx: &mut ReadCx<'_, '_>) -> io::Result<ReadOutcome> {
        let mut outcome = ReadOutcome::default();
        if self.ended {
            outcome.caught_up = true;
            return Ok(outcome);
        }
        if self.truncate_pending {
            // Read the file again from its start, through a new descriptor.
            self.reader = None;
        }
        while outcome.bytes < cx.max_bytes {
            let Some(segment) = self.segments.get(self.current) else {
                outcome.caught_up = true;
                self.end_if_over(cx);
                return Ok(outcome);
            };
            if self.reader.is_none() {
                match open_at(&segment.path, segment.compressed, self.offset) {
                    Ok((reader, meta)) => {
                        // The file at the path may be another one by now: a
                        // rotation renamed ours, and an inode number is given
                        // again once a file is gone. Its first bytes tell;
                        // the next scan finds where ours went.
                        let replaced = !segment.compressed
                            && (meta.dev() != segment.dev
                                || meta.ino() != segment.ino
                                || !starts_with(&reader, segment.fingerprint));
                        if replaced && !self.truncate_pending {
                            outcome.caught_up = true;
                            return Ok(outcome);
                        }
                        if !segment.compressed && (self.truncate_pending || meta.len() < self.offset) {
                            self.truncate_pending = false;
                            self.truncated(cx.metrics);
                            continue;
                        }
                        self.reader = Some(reader);
                        if crate::log::tracing() {
                            crate::log::info(
                                "reading a log file",
                                &[
                                    ("stream", &self.key),
                                    ("file", &segment.path.display()),
                                    ("offset", &self.offset),
                                    (
                                        "segments",
                                        &format!(
                                            "{:?}",
                                            self.segments.iter().map(|s| (s.ordinal, s.name())).collect::<Vec<_>>()
                                        ),
                                    ),
                                ],
                            );
                        }
                        self.refresh_fingerprint(self.current);
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        // Deleted (or compressed) before it was opened.
                        if self.current + 1 < self.segments.len() || self.gone {
                            let lost = segment.len.saturating_sub(self.offset);
                            cx.metrics.abandoned("missing", lost);
                            crate::log::warn(
                                "a log file was deleted before it was read to its end",
                                &[("stream", &self.key), ("file", &segment.path.display()), ("unread_bytes", &lost)],
                            );
                            self.next_segment(cx);
                            continue;
                        }
                        outcome.caught_up = true;
                        return Ok(outcome);
                    }
                    Err(e) => return Err(e),
                }
            }
            let want = cx.chunk.len().min(cx.max_bytes - outcome.bytes).max(1);
            let reader = self.reader.as_mut().expect("opened above");
            let n = match reader.read(&mut cx.chunk[..want]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                // The end of what is written. The open file itself (no
                // other file can have its inode while it is open) may have
                // been truncated: shorter than what was read.
                if let Some(Reader::Plain(f)) = &self.reader
                    && f.metadata().is_ok_and(|m| m.len() < self.offset)
                {
                    self.truncated(cx.metrics);
                    continue;
                }
                if self.current + 1 < self.segments.len() {
                    // A newer file exists, so this one is complete.
                    self.flush_remainder(cx);
                    self.next_segment(cx);
                    continue;
                }
                outcome.caught_up = true;
                self.end_if_over(cx);
                return Ok(outcome);
            }
            outcome.bytes += n;
            self.last_read = Instant::now();
            cx.metrics.bytes_read.inc_by(n as u64);
            self.consume(n, cx);
            if self.last_push_ts != i64::MIN {
                self.last_push = Some((self.last_read, self.last_push_ts));
            }
        }
        Ok(outcome)
    }

    /// Splits the `n` bytes read into `cx.chunk` into raw lines and pushes
    /// the complete ones.
    fn consume(&mut self, n: usize, cx: &mut ReadCx<'_, '_>) {
        let ordinal = self.segments[self.current].ordinal.unwrap_or(0);
        let ReadCx { processor, chunk, outbox, metrics, .. } = cx;
        let chunk = &chunk[..n];
        let mut rest = 0;
        while let Some(nl) = memchr::memchr(b'\n', &chunk[rest..]) {
            let end = rest + nl + 1;
            let line_end = self.offset + end as u64;
            if self.remainder.is_empty() && self.skipped == 0 {
                let start = self.offset + rest as u64;
                self.push(
                    processor,
                    *outbox,
                    metrics,
                    &chunk[rest..end],
                    position(ordinal, start),
                    position(ordinal, line_end),
                );
            } else {
                let piece = &chunk[rest..end];
                let room = MAX_RAW_LINE.saturating_sub(self.remainder.len());
                let kept_now = piece.len().min(room);
                self.remainder.extend_from_slice(&piece[..kept_now]);
                self.skipped += (piece.len() - kept_now) as u64;
                let kept = std::mem::take(&mut self.remainder);
                let start = line_end - kept.len() as u64 - self.skipped;
                self.skipped = 0;
                self.push(processor, *outbox, metrics, &kept, position(ordinal, start), position(ordinal, line_end));
                self.remainder = kept;
                self.remainder.clear();
            }
            rest = end;
        }
        // The last line read waits for no next line that may not come soon.
        self.settle(processor, *outbox);
        let tail = &chunk[rest..];
        let room = MAX_RAW_LINE.saturating_sub(self.remainder.len());
        self.remainder.extend_from_slice(&tail[..tail.len().min(room)]);
        self.skipped += tail.len().saturating_sub(room) as u64;
        self.offset += n as u64;
    }

    /// A file that ended without a `\n` (a rotated file cut mid-line): its
    /// last bytes are a line.
    fn flush_remainder(&mut self, cx: &mut ReadCx<'_, '_>) {
        if self.remainder.is_empty() && self.skipped == 0 {
            return;
        }
        let ordinal = self.segments[self.current].ordinal.unwrap_or(0);
        let kept = std::mem::take(&mut self.remainder);
        let start = self.offset - kept.len() as u64 - self.skipped;
        self.skipped = 0;
        let end = self.offset;
        self.push(cx.processor, cx.outbox, cx.metrics, &kept, position(ordinal, start), position(ordinal, end));
        self.remainder = kept;
        self.remainder.clear();
    }

    fn push(
        &mut self,
        processor: &mut Processor<'_>,
        outbox: &mut dyn Outbox,
        metrics: &Metrics,
        raw: &[u8],
        start: u64,
        end: u64,
    ) {
        let Follower { file, inflight, .. } = self;
        let file = file.get_or_insert_with(|| {
            let info = FileInfo {
                pod: &self.pod,
                namespace: &self.namespace,
                container: &self.container,
                container_id: &self.container_id,
                file: &self.live_path,
            };
            FileState::new(&info).starting_at(self.start)
        });
        processor.push_raw(file, raw, start, end, &mut |record, provenance| {
            let batch = outbox.add(record, provenance);
            note_inflight(inflight, batch, provenance.resume);
        });
        metrics.lines_read.inc();
        self.last_push_ts = file.last_timestamp();
    }

    /// Sends what the file's pipeline held only for a next line
    /// ([`Processor::settle`]).
    fn settle(&mut self, processor: &mut Processor<'_>, outbox: &mut dyn Outbox) {
        let Follower { file, inflight, .. } = self;
        if let Some(file) = file {
            processor.settle(file, &mut |record, provenance| {
                let batch = outbox.add(record, provenance);
                note_inflight(inflight, batch, provenance.resume);
            });
        }
    }

    fn next_segment(&mut self, _cx: &mut ReadCx<'_, '_>) {
        self.reader = None;
        self.current += 1;
        self.offset = 0;
        self.remainder.clear();
        self.skipped = 0;
        if let Some(s) = self.segments.get_mut(self.current) {
            s.ordinal = Some(self.next_ordinal);
            self.next_ordinal += 1;
        }
    }

    /// The live file is shorter than what was read: it was truncated, and
    /// is read again from its start, as a new segment.
    fn truncated(&mut self, metrics: &Metrics) {
        metrics.truncated_files.inc();
        crate::log::warn(
            "a log file was truncated; reading it again from its start",
            &[("stream", &self.key), ("file", &self.segments[self.current].path.display()), ("position", &self.offset)],
        );
        self.reader = None;
        self.remainder.clear();
        self.skipped = 0;
        self.offset = 0;
        let s = &self.segments[self.current];
        let again = Segment {
            ordinal: Some(self.next_ordinal),
            fingerprint: None,
            gone_since: None,
            path: s.path.clone(),
            rotated: None,
            compressed: false,
            ..*s
        };
        self.next_ordinal += 1;
        self.segments.insert(self.current + 1, again);
        self.current += 1;
    }

    /// At the end of what is written: if the container writes no more
    /// (its pod is gone, or it restarted), finish the stream layer.
    fn end_if_over(&mut self, cx: &mut ReadCx<'_, '_>) {
        if !(self.gone || self.superseded) || self.ended {
            return;
        }
        if self.current < self.segments.len() {
            self.flush_remainder(cx);
        }
        self.reader = None;
        self.ended = true;
        let Follower { file, inflight, .. } = self;
        if let Some(file) = file {
            let outbox = &mut *cx.outbox;
            cx.processor.finish(file, &mut |record, provenance| {
                let batch = outbox.add(record, provenance);
                note_inflight(inflight, batch, provenance.resume);
            });
        }
    }

    /// Closes the multiline groups quiet for their rule's `idle` time: on
    /// the lines' clock, moved on by the time since the last line came.
    pub fn flush_idle(&mut self, cx: &mut ReadCx<'_, '_>, now: Instant) {
        let (Some(file), Some((at, ts))) = (self.file.as_mut(), self.last_push) else { return };
        let Some(deadline) = Processor::next_deadline(file) else { return };
        let clock = ts.saturating_add(now.duration_since(at).as_nanos() as i64);
        if clock < deadline {
            return;
        }
        let inflight = &mut self.inflight;
        let outbox = &mut *cx.outbox;
        cx.processor.flush_idle(file, clock, &mut |record, provenance| {
            let batch = outbox.add(record, provenance);
            note_inflight(inflight, batch, provenance.resume);
        });
    }

    /// Batches up to `batch` were acknowledged (or dropped with a counted reason).
    pub fn acknowledged(&mut self, batch: u64) {
        while self.inflight.front().is_some_and(|(b, _)| *b <= batch) {
            self.inflight.pop_front();
        }
    }

    /// The position to save: every byte before it is done.
    pub fn checkpoint(&mut self) -> Option<Position> {
        let settled = match &self.file {
            Some(file) => file.settled_position(),
            None => self.start,
        };
        let resume = self.inflight.iter().map(|(_, r)| *r).fold(settled, u64::min);
        let (ordinal, offset) = split(resume);
        // Segments wholly before the checkpoint are done: forget them.
        while self.current > 0 && self.segments.front().is_some_and(|s| s.ordinal.is_some_and(|o| o < ordinal)) {
            if let Some(stamp) = self.segments.pop_front().and_then(|s| s.rotated) {
                self.before = Some(stamp);
            }
            self.current -= 1;
        }
        let i = self.segments.iter().position(|s| s.ordinal == Some(ordinal))?;
        self.refresh_fingerprint(i);
        let after = newest_stamp(self.segments.range(..i)).or_else(|| self.before.clone());
        let s = &self.segments[i];
        Some(Position {
            file: s.name(),
            rotated: s.rotated.clone(),
            dev: s.dev,
            ino: s.ino,
            fingerprint: s.fingerprint.unwrap_or_default(),
            after,
            offset,
            len: s.len.max(offset),
        })
    }

    /// Lines pushed whose outcome is not known in the stream layer yet.
    pub fn pending_lines(&self) -> u64 {
        self.file.as_ref().map_or(0, FileState::pending_lines)
    }

    /// The stream layer's counters since the last call, for the metrics.
    pub fn take_stats(&mut self) -> Option<uml::runtime::pipeline::Stats> {
        let now = self.file.as_ref()?.current_stats();
        let delta = stats_delta(&now, &self.reported);
        self.reported = now;
        Some(delta)
    }

    /// The rules changed: forget what the stream layer holds and read
    /// again from its settled position, with the new rules. Returns the
    /// lines it held, which will be read again.
    pub fn rewind(&mut self) -> u64 {
        let Some(file) = self.file.take() else { return 0 };
        let held = file.pending_lines();
        let settled = file.settled_position();
        let (ordinal, offset) = split(settled);
        if let Some(i) = self.segments.iter().position(|s| s.ordinal == Some(ordinal)) {
            self.current = i;
            self.offset = offset;
            self.reader = None;
            self.remainder.clear();
            self.skipped = 0;
            self.next_ordinal = ordinal + 1;
            for s in self.segments.iter_mut().skip(i + 1) {
                s.ordinal = None;
            }
        }
        self.start = settled;
        self.reported = Default::default();
        self.ended = false;
        held
    }

    /// Abandons a file deleted (or rotated away) and held open longer than
    /// `hold` while unread bytes remain: its bytes are counted, reading
    /// goes on with the next file.
    pub fn abandon_if_held_too_long(&mut self, hold: Duration, now: Instant, metrics: &Metrics) {
        let Some(s) = self.segments.get(self.current) else { return };
        let Some(since) = s.gone_since else { return };
        if now.duration_since(since) < hold || self.reader.is_none() {
            return;
        }
        let lost = s.len.saturating_sub(self.offset);
        metrics.abandoned("deleted", lost);
        crate::log::warn(
            "a deleted log file was held open too long; its unread bytes are abandoned",
            &[("stream", &self.key), ("file", &s.path.display()), ("unread_bytes", &lost)],
        );
        self.reader = None;
        self.remainder.clear();
        self.skipped = 0;
        self.current += 1;
        self.offset = 0;
        if let Some(s) = self.segments.get_mut(self.current) {
            s.ordinal = Some(self.next_ordinal);
            self.next_ordinal += 1;
        }
    }
}

fn note_inflight(inflight: &mut VecDeque<(u64, u64)>, batch: u64, resume: u64) {
    match inflight.back_mut() {
        Some((b, r)) if *b == batch => *r = (*r).min(resume),
        _ => inflight.push_back((batch, resume)),
    }
}

/// `now - before`, counter by counter.
fn stats_delta(
    now: &uml::runtime::pipeline::Stats,
    before: &uml::runtime::pipeline::Stats,
) -> uml::runtime::pipeline::Stats {
    let mut d = now.clone();
    d.lines_read -= before.lines_read.min(d.lines_read);
    d.joined_pieces -= before.joined_pieces.min(d.joined_pieces);
    d.records -= before.records.min(d.records);
    d.lines_in_records -= before.lines_in_records.min(d.lines_in_records);
    d.truncated_lines -= before.truncated_lines.min(d.truncated_lines);
    d.truncated_records -= before.truncated_records.min(d.truncated_records);
    for (kind, n) in &mut d.drops {
        if let Some((_, b)) = before.drops.iter().find(|(k, _)| k == kind) {
            *n -= (*b).min(*n);
        }
    }
    d.drops.retain(|(_, n)| *n > 0);
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A container directory with two rotated files (the older compressed)
    /// and a live file, and its stream as a scan sees it.
    fn three_files(tmp: &Path) -> LogStream {
        let dir = tmp.join("pods/ns_pod_0a1b/model");
        std::fs::create_dir_all(&dir).unwrap();
        let mut gz = flate2::write::GzEncoder::new(
            File::create(dir.join("0.log.20261120-100000.gz")).unwrap(),
            Default::default(),
        );
        gz.write_all(b"2026-11-20T10:00:00.1Z stderr F first\n").unwrap();
        gz.finish().unwrap();
        std::fs::write(dir.join("0.log.20261120-100100"), b"2026-11-20T10:01:00.1Z stderr F second\n").unwrap();
        std::fs::write(dir.join("0.log"), b"2026-11-20T10:02:00.1Z stderr F third\n").unwrap();
        let mut streams = crate::discover::scan(&[tmp.join("pods")]);
        assert_eq!(streams.len(), 1);
        streams.pop_first().unwrap().1
    }

    /// A position saved as `0.log` with the live file's device and inode
    /// now, and the first bytes `first`.
    fn on_the_live_files_inode(stream: &LogStream, first: &[u8], after: Option<&str>, offset: u64) -> Position {
        let live = stream.segments.last().unwrap();
        Position {
            file: "0.log".into(),
            rotated: None,
            dev: live.dev,
            ino: live.ino,
            fingerprint: Fingerprint::of_bytes(first),
            after: after.map(str::to_string),
            offset,
            len: first.len() as u64,
        }
    }

    fn first_file(follower: &Follower) -> String {
        follower.segments.front().map(Segment::name).unwrap_or_default()
    }

    /// The position saved on a live file before anything was written to it,
    /// whose inode number the live file of now has: kubelet rotated the file,
    /// compressed it and freed the number, and the runtime's next live file
    /// took it. The files written since are not skipped.
    #[test]
    fn an_empty_files_position_is_found_by_order_not_by_a_reused_inode() {
        let tmp = tempfile::tempdir().unwrap();
        let stream = three_files(tmp.path());
        let saved = on_the_live_files_inode(&stream, b"", Some("20261120-095900"), 0);
        let follower = Follower::new(&stream, Some(&saved), None, &Metrics::new());
        assert_eq!(first_file(&follower), "0.log.20261120-100000.gz");
        assert_eq!(follower.offset, 0);

        // The file before it is known: reading goes on after that one.
        let saved = Position { after: Some("20261120-100000".into()), ..saved };
        let follower = Follower::new(&stream, Some(&saved), None, &Metrics::new());
        assert_eq!(first_file(&follower), "0.log.20261120-100100");
        assert_eq!(follower.before.as_deref(), Some("20261120-100000"));

        // A positions file written before `after` existed: from the oldest
        // file, which may repeat lines but loses none.
        let saved = Position { after: None, ..saved };
        let follower = Follower::new(&stream, Some(&saved), None, &Metrics::new());
        assert_eq!(first_file(&follower), "0.log.20261120-100000.gz");

        // An empty rotated file: itself if still there, or what came after.
        let saved = Position { rotated: Some("20261120-100100".into()), ..saved };
        let follower = Follower::new(&stream, Some(&saved), None, &Metrics::new());
        assert_eq!(first_file(&follower), "0.log.20261120-100100");
        let saved = Position { rotated: Some("20261120-100030".into()), ..saved };
        let follower = Follower::new(&stream, Some(&saved), None, &Metrics::new());
        assert_eq!(first_file(&follower), "0.log.20261120-100100");
    }

    /// A position with first bytes is found by them, wherever the file went.
    #[test]
    fn a_position_with_first_bytes_is_found_by_them() {
        let tmp = tempfile::tempdir().unwrap();
        let stream = three_files(tmp.path());
        // The live file's inode, but the first bytes of the newest rotated file.
        let first = b"2026-11-20T10:01:00.1Z stderr F second\n";
        let saved = on_the_live_files_inode(&stream, first, Some("20261120-100000"), 10);
        let follower = Follower::new(&stream, Some(&saved), None, &Metrics::new());
        assert_eq!(first_file(&follower), "0.log.20261120-100100");
        assert_eq!(follower.offset, 10);
    }

    /// A rotated file and its compressed copy, both there for a moment while
    /// kubelet compresses: one segment, not the same lines twice.
    #[test]
    fn a_rotated_file_and_its_compressed_copy_are_one_segment() {
        let tmp = tempfile::tempdir().unwrap();
        let stream = three_files(tmp.path());
        let dir = stream.live_path.parent().unwrap();
        std::fs::copy(dir.join("0.log.20261120-100000.gz"), dir.join("0.log.20261120-100100.gz")).unwrap();
        let stream = crate::discover::scan(&[tmp.path().join("pods")]).pop_first().unwrap().1;
        assert_eq!(stream.segments.len(), 4);
        let follower = Follower::new(&stream, None, None, &Metrics::new());
        let names: Vec<String> = follower.segments.iter().map(Segment::name).collect();
        assert_eq!(names, ["0.log.20261120-100000.gz", "0.log.20261120-100100", "0.log"]);
    }
}
