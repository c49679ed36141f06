//! Discovery: which container logs exist on the node, and their files.
//!
//! Kubelet keeps every container's log in the pods tree,
//! `<root>/<namespace>_<pod>_<pod uid>/<container>/<restart>.log`, with its
//! rotated files (`<restart>.log.<YYYYMMDD-hhmmss>`, later `….gz`) beside
//! it. `/var/log/containers` holds only symlinks to the live files, named
//! `<pod>_<namespace>_<container>-<container id>.log`: they add the
//! container id, and lead to the directory where the rotated files are.
//! Either root gives the same [`LogStream`]s: one per container restart,
//! its files (segments) in the order the container wrote them.
//!
//! A scan is a snapshot, taken with `stat` and `readdir` only, and the
//! agent compares it with what it follows. It is the source of truth:
//! whatever a file-system event says, a file counts when a scan sees it.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use uml::runtime::framing::{parse_file_name, parse_pod_log_path};

/// The container log of one container restart: `<pod dir>/<container>/<restart>.log`
/// and its rotated files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogStream {
    /// `<namespace>_<pod>_<pod uid>/<container>/<restart>`: the key in the
    /// positions file, the same whichever root found the stream.
    pub key: String,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    /// From a `/var/log/containers` link, where one leads here; else empty.
    pub container_id: String,
    pub restart: u32,
    /// The live file's path (it may not exist any more).
    pub live_path: PathBuf,
    /// Rotated files oldest first, then the live file if it exists.
    pub segments: Vec<SegmentFile>,
}

/// One file of a [`LogStream`], as the scan saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentFile {
    pub path: PathBuf,
    /// The rotation stamp, `YYYYMMDD-hhmmss`; `None` for the live file.
    pub rotated: Option<String>,
    pub compressed: bool,
    pub dev: u64,
    pub ino: u64,
    /// Bytes on disk (compressed bytes for a `.gz`).
    pub len: u64,
    pub modified: Option<SystemTime>,
}

/// Scans `roots` (pods trees or `/var/log/containers`-style directories).
/// Unreadable entries are skipped: a pod may vanish during the scan.
pub fn scan(roots: &[PathBuf]) -> BTreeMap<String, LogStream> {
    let mut streams = BTreeMap::new();
    let mut ids = BTreeMap::new();
    for root in roots {
        let Ok(entries) = fs::read_dir(root) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                scan_pod_dir(&path, &mut streams);
            } else if kind.is_symlink() {
                if let Some((container_dir, key, id)) = container_link(&path) {
                    // A link into the pods tree: that container's directory.
                    scan_container_dir(&container_dir, &mut streams);
                    ids.insert(key, id);
                }
            } else if kind.is_file() {
                plain_container_file(&path, &mut streams);
            }
        }
    }
    // The pods tree's paths carry no container id; kubelet's links beside
    // it (`/var/log/containers` next to `/var/log/pods`) do.
    for root in roots {
        let Some(containers) = root.parent().map(|p| p.join("containers")) else { continue };
        if root.file_name().is_none_or(|n| n != "pods") || roots.contains(&containers) {
            continue;
        }
        let Ok(entries) = fs::read_dir(&containers) else { continue };
        for entry in entries.flatten() {
            if let Some((_, key, id)) = container_link(&entry.path()) {
                ids.entry(key).or_insert(id);
            }
        }
    }
    for (key, id) in ids {
        if let Some(stream) = streams.get_mut(&key) {
            stream.container_id = id;
        }
    }
    streams
}

/// `<pod dir name>/<container>` of a container directory.
fn container_dir_key(container_dir: &Path) -> String {
    let name = |p: Option<&Path>| p.and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned());
    format!("{}/{}", name(container_dir.parent()).unwrap_or_default(), name(Some(container_dir)).unwrap_or_default())
}

/// A `/var/log/containers` link: the container directory its target lies
/// in, the key of the stream it points at, and the container id its name
/// gives. The live file it points at may be gone; its directory is what
/// matters.
fn container_link(path: &Path) -> Option<(PathBuf, String, String)> {
    let name = path.file_name()?.to_str()?;
    let meta = parse_file_name(name).ok()?;
    let target = fs::read_link(path).ok()?;
    let target = if target.is_relative() { path.parent()?.join(target) } else { target };
    let restart = parse_pod_log_path(target.to_str()?)?.restart;
    let container_dir = target.parent()?.to_path_buf();
    let key = format!("{}/{restart}", container_dir_key(&container_dir));
    Some((container_dir, key, meta.container_id.to_string()))
}

/// A regular file named as a `/var/log/containers` link is (a copy of a
/// node's logs, the bundled samples): a stream of its own, without
/// rotated files, keyed by its name.
fn plain_container_file(path: &Path, streams: &mut BTreeMap<String, LogStream>) {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return };
    let Ok(meta) = parse_file_name(name) else { return };
    let Ok(stat) = fs::metadata(path) else { return };
    let key = format!("containers/{name}");
    streams.insert(
        key.clone(),
        LogStream {
            key,
            namespace: meta.namespace.to_string(),
            pod: meta.pod.to_string(),
            container: meta.container.to_string(),
            container_id: meta.container_id.to_string(),
            restart: 0,
            live_path: path.to_path_buf(),
            segments: vec![SegmentFile {
                path: path.to_path_buf(),
                rotated: None,
                compressed: false,
                dev: stat.dev(),
                ino: stat.ino(),
                len: stat.len(),
                modified: stat.modified().ok(),
            }],
        },
    );
}

fn scan_pod_dir(pod_dir: &Path, streams: &mut BTreeMap<String, LogStream>) {
    let Ok(containers) = fs::read_dir(pod_dir) else { return };
    for container in containers.flatten() {
        if container.file_type().is_ok_and(|t| t.is_dir()) {
            scan_container_dir(&container.path(), streams);
        }
    }
}

fn scan_container_dir(container_dir: &Path, streams: &mut BTreeMap<String, LogStream>) {
    let dir_key = container_dir_key(container_dir);
    let prefix = format!("{dir_key}/");
    if streams.range(prefix.clone()..).next().is_some_and(|(k, _)| k.starts_with(&prefix)) {
        return; // found through the other root already
    }
    let Ok(files) = fs::read_dir(container_dir) else { return };
    for file in files.flatten() {
        let path = file.path();
        let Some(text) = path.to_str() else { continue };
        let Some(p) = parse_pod_log_path(text) else { continue };
        // `symlink_metadata`: a link in the pods tree is not a log file.
        let Ok(meta) = fs::symlink_metadata(&path) else { continue };
        if !meta.is_file() {
            continue;
        }
        let key = format!("{dir_key}/{}", p.restart);
        let stream = streams.entry(key.clone()).or_insert_with(|| LogStream {
            key,
            namespace: p.namespace.to_string(),
            pod: p.pod.to_string(),
            container: p.container.to_string(),
            container_id: String::new(),
            restart: p.restart,
            live_path: container_dir.join(format!("{}.log", p.restart)),
            segments: Vec::new(),
        });
        stream.segments.push(SegmentFile {
            path: path.clone(),
            rotated: p.rotated.map(str::to_string),
            compressed: p.compressed,
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            modified: meta.modified().ok(),
        });
    }
    for (_, stream) in streams.range_mut(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)) {
        // Rotated files by stamp (a compressed and an uncompressed copy of
        // the same stamp: the uncompressed one first, it is the original),
        // the live file last.
        stream.segments.sort_by(|a, b| {
            let order = |s: &SegmentFile| (s.rotated.is_none(), s.rotated.clone(), s.compressed);
            order(a).cmp(&order(b))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn the_pods_tree_and_the_containers_links_give_the_same_streams() {
        let tmp = tempfile::tempdir().unwrap();
        let pods = tmp.path().join("pods");
        let dir = pods.join("org-1_model-x5qe2qo-7d9f8b6c5d-q7rg5_uid-1/model");
        touch(&dir.join("0.log.20261120-100000.gz"), "a");
        touch(&dir.join("0.log.20261120-100500"), "b");
        touch(&dir.join("0.log"), "c");
        touch(&dir.join("1.log"), "d");
        touch(&dir.join("0.log.20261120-100500.tmp"), "e");
        let from_pods = scan(std::slice::from_ref(&pods));
        assert_eq!(
            from_pods.keys().collect::<Vec<_>>(),
            [
                "org-1_model-x5qe2qo-7d9f8b6c5d-q7rg5_uid-1/model/0",
                "org-1_model-x5qe2qo-7d9f8b6c5d-q7rg5_uid-1/model/1"
            ]
        );
        let zero = &from_pods["org-1_model-x5qe2qo-7d9f8b6c5d-q7rg5_uid-1/model/0"];
        let names: Vec<_> = zero.segments.iter().map(|s| s.path.file_name().unwrap().to_str().unwrap()).collect();
        assert_eq!(names, ["0.log.20261120-100000.gz", "0.log.20261120-100500", "0.log"]);
        assert_eq!(
            (zero.pod.as_str(), zero.namespace.as_str(), zero.container.as_str()),
            ("model-x5qe2qo-7d9f8b6c5d-q7rg5", "org-1", "model")
        );

        let containers = tmp.path().join("containers");
        fs::create_dir_all(&containers).unwrap();
        let id = "ab".repeat(32);
        std::os::unix::fs::symlink(
            dir.join("1.log"),
            containers.join(format!("model-x5qe2qo-7d9f8b6c5d-q7rg5_org-1_model-{id}.log")),
        )
        .unwrap();
        let with_ids = scan(std::slice::from_ref(&pods));
        assert_eq!(
            with_ids["org-1_model-x5qe2qo-7d9f8b6c5d-q7rg5_uid-1/model/1"].container_id, id,
            "the pods tree learns container ids from the links beside it"
        );
        let from_links = scan(&[containers]);
        assert_eq!(from_links.len(), 2, "the link leads to the container's directory, rotated files and all");
        assert_eq!(from_links["org-1_model-x5qe2qo-7d9f8b6c5d-q7rg5_uid-1/model/0"].segments, zero.segments);
        assert_eq!(from_links["org-1_model-x5qe2qo-7d9f8b6c5d-q7rg5_uid-1/model/1"].container_id, id);
    }
}
