//! The state directory: the read positions, and the lock that keeps a
//! second agent out.
//!
//! **Positions** (`positions.json`) say, for each container log, from where
//! to read again: a file of it, known by device, inode and a fingerprint
//! of its first bytes, and a byte offset in it. Every byte before that
//! point is in a record Loki acknowledged, or was dropped with a counted
//! reason; the files older than it are done. The file is versioned, and
//! written so that a crash at any moment leaves the old one or the new one,
//! never a mix: a temporary file, fsync, rename over the old one, fsync of
//! the directory.
//!
//! **The lock** (`lock`) is an advisory `flock` on a file in the directory,
//! held for the agent's life. The kernel drops it when the process dies,
//! however it dies, so a `kill -9` never leaves a stale lock behind.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The version of the positions file this agent writes and reads.
pub const VERSION: u32 = 1;

/// The positions of every container log followed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Positions {
    pub version: u32,
    /// By stream key, `<namespace>_<pod>_<pod uid>/<container>/<restart>`.
    pub streams: BTreeMap<String, Position>,
}

/// Where to read a container log again from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The file's name when the position was saved (for people reading the file).
    pub file: String,
    /// The rotation stamp of the file, if it was a rotated file then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated: Option<String>,
    pub dev: u64,
    pub ino: u64,
    pub fingerprint: Fingerprint,
    /// The rotation stamp of the newest file of the container log before
    /// this one. A file saved with an empty fingerprint (nothing written
    /// yet) cannot be known by its first bytes, nor by its inode, which
    /// kubelet's compressions free and the next new file takes: it is found
    /// by order instead, as the first file rotated after this stamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Bytes of the file (uncompressed) that are done.
    pub offset: u64,
    /// The file's length when the position was saved: what is lost if the
    /// file is gone when the agent comes back.
    pub len: u64,
}

/// A file's first bytes, to tell a file from another that got its inode,
/// or from itself truncated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fingerprint {
    /// How many first bytes the checksum covers: [`FINGERPRINT_BYTES`], or
    /// fewer while the file is shorter.
    pub len: u32,
    pub crc32: u32,
}

/// The bytes a full fingerprint covers: more than a CRI line's timestamp
/// and stream, so two files of one container differ.
pub const FINGERPRINT_BYTES: usize = 256;

impl Fingerprint {
    /// The fingerprint of the first bytes read from `reader` (at most
    /// [`FINGERPRINT_BYTES`]).
    pub fn of(reader: &mut impl Read) -> io::Result<Fingerprint> {
        let mut buf = [0u8; FINGERPRINT_BYTES];
        let mut len = 0;
        while len < buf.len() {
            match reader.read(&mut buf[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Fingerprint::of_bytes(&buf[..len]))
    }

    pub fn of_bytes(bytes: &[u8]) -> Fingerprint {
        Fingerprint { len: bytes.len() as u32, crc32: crc32fast::hash(bytes) }
    }

    /// Whether `self` and `other` can be of the same file: the shorter one's
    /// bytes are a prefix of the longer's, as far as a checksum can tell
    /// (equal when equally long; a shorter fingerprint is checked on the
    /// file itself by the caller).
    pub fn is_full(&self) -> bool {
        self.len as usize == FINGERPRINT_BYTES
    }
}

/// Why the state directory cannot be used.
#[derive(Debug)]
pub enum StateError {
    /// Another agent holds the lock.
    Locked(PathBuf),
    Io(PathBuf, io::Error),
    /// The positions file is not one this agent can read.
    Format(PathBuf, String),
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateError::Locked(path) => write!(
                f,
                "another uml agent is using the state directory {} (it holds the lock on {}); \
                 run one agent per state directory",
                path.parent().unwrap_or(path).display(),
                path.display()
            ),
            StateError::Io(path, e) => write!(f, "{}: {e}", path.display()),
            StateError::Format(path, e) => write!(f, "{}: {e}", path.display()),
        }
    }
}

impl std::error::Error for StateError {}

/// The state directory, locked for this process.
#[derive(Debug)]
pub struct StateDir {
    dir: PathBuf,
    /// Held open for the lock's sake.
    _lock: File,
}

impl StateDir {
    /// Creates the directory if needed and takes its lock.
    pub fn open(dir: &Path) -> Result<StateDir, StateError> {
        fs::create_dir_all(dir).map_err(|e| StateError::Io(dir.to_path_buf(), e))?;
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StateError::Io(lock_path.clone(), e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(StateError::Locked(lock_path)),
            Err(fs::TryLockError::Error(e)) => return Err(StateError::Io(lock_path, e)),
        }
        Ok(StateDir { dir: dir.to_path_buf(), _lock: lock })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn positions_path(&self) -> PathBuf {
        self.dir.join("positions.json")
    }

    /// The saved positions; empty on a first start.
    pub fn load(&self) -> Result<Positions, StateError> {
        let path = self.positions_path();
        let text = match fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Positions { version: VERSION, streams: BTreeMap::new() });
            }
            Err(e) => return Err(StateError::Io(path, e)),
        };
        let positions: Positions =
            serde_json::from_slice(&text).map_err(|e| StateError::Format(path.clone(), e.to_string()))?;
        if positions.version != VERSION {
            return Err(StateError::Format(
                path,
                format!("positions file version {} (this agent reads version {VERSION})", positions.version),
            ));
        }
        Ok(positions)
    }

    /// Saves `positions` atomically and durably.
    pub fn save(&self, positions: &Positions) -> Result<(), StateError> {
        let path = self.positions_path();
        let tmp = self.dir.join("positions.json.tmp");
        let write = || -> io::Result<()> {
            let mut file = File::create(&tmp)?;
            let mut text = serde_json::to_vec_pretty(positions).map_err(io::Error::other)?;
            text.push(b'\n');
            file.write_all(&text)?;
            file.sync_all()?;
            fs::rename(&tmp, &path)?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(|e| StateError::Io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_agent_is_told_who_holds_the_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let first = StateDir::open(tmp.path()).unwrap();
        let second = StateDir::open(tmp.path()).unwrap_err();
        assert!(matches!(second, StateError::Locked(_)));
        assert!(second.to_string().contains("another uml agent is using the state directory"), "{second}");
        drop(first);
        StateDir::open(tmp.path()).expect("the lock goes with its holder");
    }

    #[test]
    fn positions_survive_a_save_and_a_load() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::open(tmp.path()).unwrap();
        assert_eq!(dir.load().unwrap().streams.len(), 0);
        let mut positions = Positions { version: VERSION, streams: BTreeMap::new() };
        positions.streams.insert(
            "ns_pod_uid/model/0".into(),
            Position {
                file: "0.log".into(),
                rotated: None,
                dev: 1,
                ino: 2,
                fingerprint: Fingerprint::of_bytes(b"2026-11-20T10:00:00Z stdout F hello\n"),
                after: Some("20261120-095959".into()),
                offset: 36,
                len: 36,
            },
        );
        dir.save(&positions).unwrap();
        assert_eq!(dir.load().unwrap(), positions);
        assert!(!tmp.path().join("positions.json.tmp").exists());
    }

    #[test]
    fn a_positions_file_of_another_version_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::open(tmp.path()).unwrap();
        fs::write(tmp.path().join("positions.json"), r#"{"version": 99, "streams": {}}"#).unwrap();
        let e = dir.load().unwrap_err().to_string();
        assert!(e.contains("version 99"), "{e}");
    }
}
