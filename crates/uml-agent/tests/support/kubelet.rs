//! A kubelet simulator: writes container logs exactly as kubelet and containerd lay them out on a node, with
//! rotations, compressions, restarts and pod deletions happening when a test says so.
//!
//! The agent follows files it does not control. Whether it loses or duplicates lines depends on details of the
//! writers: containerd's CRI line format (`<RFC3339Nano> <stream> <F|P> <text>`, partial lines split into `P`
//! pieces), kubelet's rotation (rename `0.log` to `0.log.<timestamp>`, then containerd reopens `0.log`), its
//! compression of older rotated files through a `.tmp` file into `.gz`, its removal of the oldest files beyond
//! `containerLogMaxFiles`, and a restarted container writing `1.log` next to `0.log`. This module reproduces those
//! steps one by one, following `pkg/kubelet/logs/container_log_manager.go`, so that tests can put the agent
//! between any two of them. The clock is fake so that file contents and rotated names are deterministic.

#![allow(dead_code)]

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// 2026-11-20T10:00:00Z in nanoseconds since the Unix epoch: where every fake clock starts.
pub const START_NS: i64 = 1_795_168_800_000_000_000;

/// How far the clock moves for every line written.
pub const LINE_TICK_NS: i64 = 1_000_000;

const NS_PER_SEC: i64 = 1_000_000_000;

/// kubelet's default `containerLogMaxFiles`.
pub const DEFAULT_MAX_FILES: usize = 5;

/// The namespace the platform gives the organisation owning the sample model `x5qe2qo`.
pub const DEFAULT_ORG: &str = "org-50a9bc6b456e47aa88e0d81e622ea315";

/// The alphabet of the random suffixes Kubernetes gives pods (`k8s.io/apimachinery/pkg/util/rand`): no vowels
/// and none of `0 1 3`, so that no word and no ambiguous character appears.
pub const POD_SUFFIX_ALPHABET: &str = "bcdfghjklmnpqrstvwxz2456789";

/// A fake clock shared by a [`Kubelet`] and every container it created.
#[derive(Clone, Debug)]
pub struct Clock(Arc<AtomicI64>);

impl Clock {
    fn new() -> Clock {
        Clock(Arc::new(AtomicI64::new(START_NS)))
    }

    /// Nanoseconds since the Unix epoch.
    pub fn now_ns(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(i64::try_from(by.as_nanos()).expect("duration in range"), Ordering::SeqCst);
    }

    /// The time of the next line: the current time, after which the clock moves by one millisecond.
    fn tick(&self) -> i64 {
        self.0.fetch_add(LINE_TICK_NS, Ordering::SeqCst)
    }

    /// Moves the clock to `ns` if it is behind it.
    fn advance_to(&self, ns: i64) {
        self.0.fetch_max(ns, Ordering::SeqCst);
    }
}

/// The node's kubelet, writing under a root that stands for `/var/log/pods`.
pub struct Kubelet {
    root: PathBuf,
    clock: Clock,
    max_files: usize,
}

impl Kubelet {
    /// A kubelet writing under `root` (created if missing), with the clock at [`START_NS`] and kubelet's default
    /// of 5 files per container.
    pub fn new(root: &Path) -> Kubelet {
        fs::create_dir_all(root).expect("create the pods root");
        Kubelet { root: root.to_owned(), clock: Clock::new(), max_files: DEFAULT_MAX_FILES }
    }

    /// Sets `containerLogMaxFiles` (at least 2, as kubelet requires) for containers created from now on.
    pub fn set_max_files(&mut self, max_files: usize) {
        assert!(max_files >= 2, "kubelet requires containerLogMaxFiles >= 2");
        self.max_files = max_files;
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    pub fn now_ns(&self) -> i64 {
        self.clock.now_ns()
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Starts a container: creates `ROOT/<namespace>_<pod>_<uid>/<container>/0.log`. The pod's UID is derived
    /// from its namespace and name, so that it is the same in every run.
    pub fn container(&mut self, namespace: &str, pod: &str, container: &str) -> ContainerLog {
        let pod_uid = pod_uid(namespace, pod);
        let pod_dir = self.root.join(format!("{namespace}_{pod}_{pod_uid}"));
        let dir = pod_dir.join(container);
        fs::create_dir_all(&dir).expect("create the container's log directory");
        let file = open_append(&dir.join("0.log"));
        ContainerLog {
            namespace: namespace.to_owned(),
            pod: pod.to_owned(),
            pod_uid,
            container: container.to_owned(),
            pod_dir,
            dir,
            restart: 0,
            file,
            clock: self.clock.clone(),
            max_files: self.max_files,
            last_rotation_sec: None,
            ops: Vec::new(),
        }
    }
}

/// A file system operation kubelet performed during a rotation, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FsOp {
    /// A file was created and written (the `.tmp` of a compression).
    Create(PathBuf),
    Rename {
        from: PathBuf,
        to: PathBuf,
    },
    Remove(PathBuf),
}

/// One container's logs: the live file `<restart>.log` and its rotated predecessors.
pub struct ContainerLog {
    namespace: String,
    pod: String,
    pod_uid: String,
    container: String,
    pod_dir: PathBuf,
    dir: PathBuf,
    restart: u32,
    /// The file containerd writes to: the live file, except between [`ContainerLog::rotate_begin`] and
    /// [`ContainerLog::reopen`], when it is the file just renamed.
    file: File,
    clock: Clock,
    max_files: usize,
    /// The second of the last rotation, so that rotated names stay unique.
    last_rotation_sec: Option<i64>,
    ops: Vec<FsOp>,
}

impl ContainerLog {
    /// The live file, `<dir>/<restart>.log`.
    pub fn path(&self) -> PathBuf {
        self.dir.join(format!("{}.log", self.restart))
    }

    /// The container's log directory, `ROOT/<namespace>_<pod>_<uid>/<container>`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The pod's log directory, `ROOT/<namespace>_<pod>_<uid>`.
    pub fn pod_dir(&self) -> &Path {
        &self.pod_dir
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    pub fn pod(&self) -> &str {
        &self.pod
    }

    pub fn pod_uid(&self) -> &str {
        &self.pod_uid
    }

    pub fn container(&self) -> &str {
        &self.container
    }

    /// How often the container restarted: the number in the live file's name.
    pub fn restart_count(&self) -> u32 {
        self.restart
    }

    /// The 64 hex digit ID of the current container instance (it changes with every restart).
    pub fn container_id(&self) -> String {
        let seed = format!("{}/{}/{}/{}", self.namespace, self.pod, self.container, self.restart);
        hex_id(&seed, 4)
    }

    /// Sets `containerLogMaxFiles` for this container's next rotations.
    pub fn set_max_files(&mut self, max_files: usize) {
        assert!(max_files >= 2, "kubelet requires containerLogMaxFiles >= 2");
        self.max_files = max_files;
    }

    /// Every file system operation of the rotations so far.
    pub fn ops(&self) -> &[FsOp] {
        &self.ops
    }

    /// The rotated files of the current container instance (`<restart>.log.*`), oldest first.
    pub fn rotated_files(&self) -> Vec<PathBuf> {
        let prefix = format!("{}.log.", self.restart);
        let mut files: Vec<PathBuf> = fs::read_dir(&self.dir)
            .expect("list the container's log directory")
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix)))
            .collect();
        files.sort();
        files
    }

    /// Writes one complete line (`F`) of `message` on `stream` ("stdout" or "stderr").
    pub fn write_line(&mut self, stream: &str, message: &str) {
        self.write_cri(stream, 'F', message);
    }

    /// Writes a long line as containerd splits it: every piece but the last tagged `P`, the last `F`.
    pub fn write_pieces(&mut self, stream: &str, pieces: &[&str]) {
        let (last, partial) = pieces.split_last().expect("at least one piece");
        for piece in partial {
            self.write_cri(stream, 'P', piece);
        }
        self.write_cri(stream, 'F', last);
    }

    /// Writes one partial (`P`) piece alone, for tests that stop in the middle of a long line.
    pub fn write_partial(&mut self, stream: &str, piece: &str) {
        self.write_cri(stream, 'P', piece);
    }

    /// Appends arbitrary bytes, for broken input (torn lines, bad timestamps, invalid UTF-8).
    pub fn write_raw(&mut self, bytes: &[u8]) {
        self.file.write_all(bytes).expect("write the container log");
    }

    /// One CRI line, written with a single `write` so that a reader never sees half of it.
    fn write_cri(&mut self, stream: &str, tag: char, text: &str) {
        assert!(stream == "stdout" || stream == "stderr", "CRI streams are stdout and stderr, not {stream:?}");
        assert!(!text.contains('\n'), "a CRI line's text has no newline; use write_raw for broken input");
        let line = format!("{} {stream} {tag} {text}\n", rfc3339_nano(self.clock.tick()));
        self.write_raw(line.as_bytes());
    }

    /// Rotates the live file as kubelet does: [`ContainerLog::rotate_begin`], then [`ContainerLog::reopen`].
    pub fn rotate(&mut self) {
        self.rotate_begin();
        self.reopen();
    }

    /// kubelet's `rotateLog` up to the rename, returning the rotated file's new name:
    ///
    /// 1. it removes leftovers of interrupted compressions (`.tmp` files, and uncompressed files whose `.gz`
    ///    exists);
    /// 2. it removes the oldest rotated files, so that at most `max_files - 2` remain: with the file about to
    ///    be rotated and the new live file, that makes `max_files`;
    /// 3. it compresses every remaining uncompressed rotated file into `.gz`, writing `<name>.tmp`, renaming it to
    ///    `<name>.gz` and removing `<name>`, so only the newest rotated file stays uncompressed;
    /// 4. it renames `<restart>.log` to `<restart>.log.<YYYYMMDD-hhmmss>`.
    ///
    /// Until [`ContainerLog::reopen`], containerd goes on writing to the renamed file, as it does between
    /// kubelet's rename and its `ReopenContainerLog` call.
    pub fn rotate_begin(&mut self) -> PathBuf {
        let live = self.path();
        let mut logs = self.rotated_files();

        let is_in_use = |log: &Path, logs: &[PathBuf]| {
            let name = log.to_string_lossy();
            if name.ends_with(".tmp") {
                return false;
            }
            name.ends_with(".gz") || !logs.iter().any(|other| other.to_string_lossy() == format!("{name}.gz"))
        };
        let (in_use, unused): (Vec<PathBuf>, Vec<PathBuf>) =
            logs.iter().cloned().partition(|log| is_in_use(log, &logs));
        for log in unused {
            self.remove(&log);
        }
        logs = in_use;

        let max_rotated = self.max_files.saturating_sub(2);
        let excess = logs.len().saturating_sub(max_rotated);
        for log in logs.drain(..excess) {
            self.remove(&log);
        }

        for log in logs.iter().filter(|log| !log.to_string_lossy().ends_with(".gz")) {
            self.compress(log);
        }

        let stamp = self.rotation_stamp();
        let rotated = self.dir.join(format!("{}.log.{stamp}", self.restart));
        fs::rename(&live, &rotated).expect("rename the live log");
        self.ops.push(FsOp::Rename { from: live, to: rotated.clone() });
        rotated
    }

    /// containerd's `ReopenContainerLog`: creates a new, empty live file and writes there from now on.
    pub fn reopen(&mut self) {
        self.file = open_append(&self.path());
    }

    /// A container restart: the next instance writes to `<restart + 1>.log`; the old files stay.
    pub fn restart(&mut self) {
        self.restart += 1;
        self.last_rotation_sec = None;
        self.file = open_append(&self.path());
    }

    /// Deletes the pod: its whole log directory goes, as when kubelet removes a deleted pod's logs.
    pub fn delete_pod(self) {
        let ContainerLog { pod_dir, file, .. } = self;
        drop(file);
        match fs::remove_dir_all(&pod_dir) {
            Ok(()) => {}
            // Another container of the same pod may have deleted it already.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => panic!("remove {}: {e}", pod_dir.display()),
        }
    }

    fn remove(&mut self, path: &Path) {
        fs::remove_file(path).expect("remove a rotated log");
        self.ops.push(FsOp::Remove(path.to_owned()));
    }

    /// kubelet's `compressLog`.
    fn compress(&mut self, log: &Path) {
        let name = log.to_string_lossy();
        let tmp = PathBuf::from(format!("{name}.tmp"));
        let gz = PathBuf::from(format!("{name}.gz"));
        let contents = fs::read(log).expect("read a rotated log");
        let mut encoder = flate2::write::GzEncoder::new(File::create(&tmp).expect("create .tmp"), Default::default());
        encoder.write_all(&contents).expect("compress a rotated log");
        encoder.finish().expect("finish the .tmp");
        self.ops.push(FsOp::Create(tmp.clone()));
        fs::rename(&tmp, &gz).expect("rename .tmp to .gz");
        self.ops.push(FsOp::Rename { from: tmp, to: gz });
        self.remove(log);
    }

    /// The rotated file's suffix, from the fake clock. Two rotations in the same second would give the same
    /// name, and kubelet's rename would overwrite the older file; the real kubelet checks sizes only every 10 s,
    /// so here the clock moves to the next second instead.
    fn rotation_stamp(&mut self) -> String {
        let mut sec = self.clock.now_ns().div_euclid(NS_PER_SEC);
        if let Some(last) = self.last_rotation_sec.filter(|last| sec <= *last) {
            sec = last + 1;
            self.clock.advance_to(sec * NS_PER_SEC);
        }
        self.last_rotation_sec = Some(sec);
        let (date, (h, m, s)) = civil(sec);
        format!("{}{:02}{:02}-{h:02}{m:02}{s:02}", date.0, date.1, date.2)
    }
}

fn open_append(path: &Path) -> File {
    OpenOptions::new().create(true).append(true).open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

/// Creates the `/var/log/containers` symlink kubelet makes for a container instance:
/// `<containers_dir>/<pod>_<namespace>_<container>-<container id>.log`, pointing at the live file under
/// `pods_root`. Returns the link's path. After a restart, the new instance gets a new link (a new ID).
pub fn make_containers_symlink(pods_root: &Path, containers_dir: &Path, log: &ContainerLog) -> PathBuf {
    let target = log.path();
    assert!(target.starts_with(pods_root), "{} is not under {}", target.display(), pods_root.display());
    fs::create_dir_all(containers_dir).expect("create the containers directory");
    let link =
        containers_dir.join(format!("{}_{}_{}-{}.log", log.pod, log.namespace, log.container, log.container_id()));
    match fs::remove_file(&link) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => panic!("replace {}: {e}", link.display()),
    }
    std::os::unix::fs::symlink(&target, &link).expect("create the containers symlink");
    link
}

/// A deterministic, UUID-looking pod UID (version 4 layout) derived from the pod's namespace and name.
pub fn pod_uid(namespace: &str, pod: &str) -> String {
    let hex = hex_id(&format!("{namespace}/{pod}"), 2);
    format!("{}-{}-4{}-a{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

/// A model container's namespace and pod name as the platform names them: `model-<mvid>-<replicaset hash>-<replica>`
/// in the organisation [`DEFAULT_ORG`], e.g. `model-x5qe2qo-7d9f8b6c5d-q7rg5`.
pub fn model_pod(mvid: &str, replica: &str) -> (String, String) {
    model_pod_in(DEFAULT_ORG, mvid, replica)
}

/// [`model_pod`] in another organisation's namespace.
pub fn model_pod_in(namespace: &str, mvid: &str, replica: &str) -> (String, String) {
    assert!(
        !mvid.is_empty() && mvid.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
        "a model version ID is lowercase alphanumeric, not {mvid:?}"
    );
    assert!(
        replica.len() == 5 && replica.chars().all(|c| POD_SUFFIX_ALPHABET.contains(c)),
        "a replica suffix is 5 characters of {POD_SUFFIX_ALPHABET}, not {replica:?}"
    );
    (namespace.to_owned(), format!("model-{mvid}-7d9f8b6c5d-{replica}"))
}

/// A deterministic organisation namespace, `org-<32 hex>`, for tests that need several.
pub fn org_namespace(seed: &str) -> String {
    format!("org-{}", hex_id(seed, 2))
}

/// A python-json-logger line as the model container writes it, carrying a sequence number in its message:
/// `{"asctime": "2026-11-20 10:00:00,042", "levelname": "INFO", "message": "request seq=42 done"}`.
pub fn model_line(seq: u64) -> String {
    let ns = START_NS + i64::try_from(seq).expect("sequence in range") * LINE_TICK_NS;
    format!(r#"{{"asctime": "{}", "levelname": "INFO", "message": "request seq={seq} done"}}"#, asctime(ns))
}

/// The sequence number in a message: the digits of its first `seq=<digits>`.
pub fn seq_of(message: &str) -> Option<u64> {
    message.match_indices("seq=").find_map(|(at, marker)| {
        let rest = &message[at + marker.len()..];
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        rest[..digits].parse().ok()
    })
}

/// Formats nanoseconds since the epoch as Go's `time.RFC3339Nano` in UTC, as containerd writes CRI timestamps:
/// trailing zeros of the fraction trimmed, and no fraction at all on a whole second.
pub fn rfc3339_nano(ns: i64) -> String {
    let sec = ns.div_euclid(NS_PER_SEC);
    let nanos = ns.rem_euclid(NS_PER_SEC);
    let ((y, mo, d), (h, mi, s)) = civil(sec);
    let mut out = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Python logging's `asctime`: `2026-11-20 10:00:00,123`.
pub fn asctime(ns: i64) -> String {
    let ((y, mo, d), (h, mi, s)) = civil(ns.div_euclid(NS_PER_SEC));
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02},{:03}", ns.rem_euclid(NS_PER_SEC) / 1_000_000)
}

/// The UTC date and time of a second since the epoch (Howard Hinnant's `civil_from_days`).
fn civil(sec: i64) -> ((i64, u32, u32), (u32, u32, u32)) {
    let days = sec.div_euclid(86_400);
    let secs = sec.rem_euclid(86_400) as u32;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    ((year, month, day), (secs / 3600, secs / 60 % 60, secs % 60))
}

/// `words` 64-bit words of hex (16 digits each) derived from `seed`: FNV-1a, stretched with splitmix64.
fn hex_id(seed: &str, words: usize) -> String {
    let mut state =
        seed.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    (0..words)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            format!("{:016x}", z ^ (z >> 31))
        })
        .collect()
}
