//! The metadata in a kubelet log file name.
//!
//! The kubelet links each container's log as
//! `/var/log/containers/<pod>_<namespace>_<container>-<container id>.log`,
//! and that name is the only metadata every line has. Pod and namespace
//! never contain `_` (they are DNS names), the container name may contain
//! `-` but not `_`, and the container id is 64 lowercase hex digits, so the
//! name splits at the first two `_` and the last `-`.
//!
//! **Cut names.** A file name is at most [`MAX_FILE_NAME_LEN`] bytes (ext4),
//! and a longer one is cut, so the end of the id, and maybe the `.log`, can
//! be missing. The kubelet itself cuts before `.log` and keeps the suffix;
//! other writers cut the whole name. A name of 255 bytes or more is read as
//! possibly cut ([`FileMeta::cut`]):
//!
//! - it may end in `.log`, in a part of it (`.`, `.l`, `.lo`), or in neither;
//! - after the last `-`, 0 to 64 hex digits are the start of the id; if what
//!   follows the last `-` is not hex, or there is no `-`, the cut removed the
//!   whole id and its `-`, and the id is `""`.
//!
//! One case cannot be told apart from the name alone: when the cut removed
//! the id and its `-` and the container name itself ends in `-` and hex
//! digits (`my-cafe`), those digits are taken as the id. That needs pod,
//! namespace and container to fill 250 bytes, which real names do not.
//!
//! A name shorter than 255 bytes was not cut: it must end in `.log` and hold
//! an id of 1 to 64 hex digits (64 from every runtime; fixtures and other
//! runtimes use shorter ones). Anything else is not a kubelet name and is an
//! error, never a guess.
//!
//! **The pods tree.** The symlinks above point into the tree where kubelet
//! keeps the files themselves, and where its rotated files live:
//! `/var/log/pods/<namespace>_<pod>_<pod uid>/<container>/<restart>.log`,
//! rotated as `<restart>.log.<YYYYMMDD-hhmmss>` and later compressed to
//! `….gz`. [`parse_pod_log_path`] reads that layout; its paths carry no
//! container id. [`parse_log_path`] takes either.

use crate::stdlib::error_enum;

/// The longest file name Linux file systems (ext4) allow, in bytes.
pub const MAX_FILE_NAME_LEN: usize = 255;

/// The hex digits of a whole container id.
pub const CONTAINER_ID_LEN: usize = 64;

/// What a kubelet log file name says, borrowed from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileMeta<'a> {
    pub pod: &'a str,
    pub namespace: &'a str,
    pub container: &'a str,
    /// Lowercase hex digits: 64 of them, or fewer, even none, when [`Self::cut`].
    pub container_id: &'a str,
    /// The name is as long as names can be: the end of the container id may
    /// have been cut off.
    pub cut: bool,
}

error_enum! {
    /// Why a file name is not a kubelet log file name.
    pub enum FileNameError {
        /// A name shorter than 255 bytes that does not end in `.log`.
        NotLog => "the file name does not end in `.log`",
        /// Not two `_` before the container, or a `_` after them.
        Shape => "the file name is not `<pod>_<namespace>_<container>-<container id>.log`",
        /// The pod, the namespace or the container is empty.
        EmptyField => "the pod, namespace or container in the file name is empty",
        /// A name that was not cut has no `-` and hex digits before `.log`.
        NoContainerId => "the file name has no container id (`-` and hex digits before `.log`)",
    }
}

/// Parses the file name at the end of `path` (after its last `/`; a bare
/// name is fine too). See the module documentation for cut names.
///
/// ```
/// # use uml_runtime::framing::parse_file_name;
/// let id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/// let path = format!("/var/log/containers/model-x5qe2qo-7d9f8b6c5d-q7rg5_org-50a9_queue-proxy-{id}.log");
/// let meta = parse_file_name(&path).unwrap();
/// assert_eq!((meta.pod, meta.namespace), ("model-x5qe2qo-7d9f8b6c5d-q7rg5", "org-50a9"));
/// assert_eq!((meta.container, meta.container_id, meta.cut), ("queue-proxy", id, false));
/// ```
pub fn parse_file_name(path: &str) -> Result<FileMeta<'_>, FileNameError> {
    let name = path.rsplit_once('/').map_or(path, |(_, name)| name);
    let cut = name.len() >= MAX_FILE_NAME_LEN;
    let stem = match name.strip_suffix(".log") {
        Some(stem) => stem,
        None if cut => [".lo", ".l", "."].iter().find_map(|part| name.strip_suffix(part)).unwrap_or(name),
        None => return Err(FileNameError::NotLog),
    };
    let (pod, rest) = stem.split_once('_').ok_or(FileNameError::Shape)?;
    let (namespace, rest) = rest.split_once('_').ok_or(FileNameError::Shape)?;
    if rest.contains('_') {
        return Err(FileNameError::Shape);
    }
    let (container, container_id) = match rest.rsplit_once('-') {
        Some((container, id)) if is_id_prefix(id) && (cut || !id.is_empty()) => (container, id),
        _ if cut => (rest, ""),
        _ => return Err(FileNameError::NoContainerId),
    };
    if pod.is_empty() || namespace.is_empty() || container.is_empty() {
        return Err(FileNameError::EmptyField);
    }
    Ok(FileMeta { pod, namespace, container, container_id, cut })
}

/// What a path in kubelet's pods tree says, borrowed from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PodLogPath<'a> {
    pub namespace: &'a str,
    pub pod: &'a str,
    pub pod_uid: &'a str,
    pub container: &'a str,
    /// The container's restart count: `0.log`, then `1.log`, ….
    pub restart: u32,
    /// `YYYYMMDD-hhmmss` of a rotated file (`0.log.20261120-100000`).
    pub rotated: Option<&'a str>,
    /// A rotated file kubelet compressed (`….gz`).
    pub compressed: bool,
}

impl PodLogPath<'_> {
    /// The file's metadata as routing sees it (no container id).
    pub fn meta(&self) -> FileMeta<'_> {
        FileMeta { pod: self.pod, namespace: self.namespace, container: self.container, container_id: "", cut: false }
    }
}

/// Parses the last three parts of a path in kubelet's pods tree,
/// `<namespace>_<pod>_<pod uid>/<container>/<restart>.log`, or a rotated
/// file of it (`….log.<YYYYMMDD-hhmmss>`, `….log.<YYYYMMDD-hhmmss>.gz`).
/// `None` for anything else (such as the `.tmp` file kubelet compresses
/// through).
///
/// ```
/// # use uml_runtime::framing::parse_pod_log_path;
/// let p = parse_pod_log_path("/var/log/pods/org-50a9_model-x5qe2qo-7d9f8b6c5d-q7rg5_3f2b9c1e-0d4a/model/1.log.20261120-100000.gz").unwrap();
/// assert_eq!((p.namespace, p.pod, p.pod_uid, p.container), ("org-50a9", "model-x5qe2qo-7d9f8b6c5d-q7rg5", "3f2b9c1e-0d4a", "model"));
/// assert_eq!((p.restart, p.rotated, p.compressed), (1, Some("20261120-100000"), true));
/// assert!(parse_pod_log_path("/var/log/pods/a_b_c/model/0.log.20261120-100000.tmp").is_none());
/// ```
pub fn parse_pod_log_path(path: &str) -> Option<PodLogPath<'_>> {
    let mut parts = path.rsplit('/');
    let (name, container, pod_dir) = (parts.next()?, parts.next()?, parts.next()?);
    let (namespace, rest) = pod_dir.split_once('_')?;
    let (pod, pod_uid) = rest.split_once('_')?;
    if [namespace, pod, pod_uid, container].iter().any(|s| s.is_empty()) || pod_uid.contains('_') {
        return None;
    }
    let (restart, suffix) = name.split_once(".log")?;
    if restart.is_empty() || !restart.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let restart = restart.parse().ok()?;
    let (rotated, compressed) = match suffix {
        "" => (None, false),
        _ => {
            let suffix = suffix.strip_prefix('.')?;
            let (stamp, compressed) = match suffix.strip_suffix(".gz") {
                Some(stamp) => (stamp, true),
                None => (suffix, false),
            };
            let b = stamp.as_bytes();
            let is_stamp =
                b.len() == 15 && b[8] == b'-' && b.iter().enumerate().all(|(i, c)| i == 8 || c.is_ascii_digit());
            if !is_stamp {
                return None;
            }
            (Some(stamp), compressed)
        }
    };
    Some(PodLogPath { namespace, pod, pod_uid, container, restart, rotated, compressed })
}

/// The metadata of a log file known by either of kubelet's paths: the
/// `/var/log/containers` name ([`parse_file_name`]) or a file of the pods
/// tree ([`parse_pod_log_path`], without a container id).
pub fn parse_log_path(path: &str) -> Result<FileMeta<'_>, FileNameError> {
    match parse_file_name(path) {
        Ok(meta) => Ok(meta),
        Err(e) => match parse_pod_log_path(path) {
            Some(p) => Ok(FileMeta {
                pod: p.pod,
                namespace: p.namespace,
                container: p.container,
                container_id: "",
                cut: false,
            }),
            None => Err(e),
        },
    }
}

/// Up to 64 lowercase hex digits.
fn is_id_prefix(s: &str) -> bool {
    s.len() <= CONTAINER_ID_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
