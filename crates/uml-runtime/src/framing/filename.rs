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

/// Up to 64 lowercase hex digits.
fn is_id_prefix(s: &str) -> bool {
    s.len() <= CONTAINER_ID_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
